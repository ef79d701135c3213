/**
 * @file history.h
 * @brief Everything a run has produced so far, and checkpoints of it.
 *
 * Owns: the time series, the stored fields and per-particle means, and the
 * state needed to continue (time, next protocol segment, released oxygen,
 * the vacancy field). The result file and a checkpoint are written by the
 * same code: a checkpoint is a result file plus /state. A restart reads the
 * history back, so the final result holds the whole run.
 */
#ifndef OXVAC_HISTORY_H
#define OXVAC_HISTORY_H

#include "oxvac/microstructure.h"
#include "oxvac/observables.h"
#include "oxvac/operator.h"
#include "oxvac/profiles.h"

typedef struct {
  OxTimeseries ts;
  int          nfields, capfields;
  Vec         *field;       /**< stored vacancy fields */
  int         *field_cycle;
  double      *field_time_s, *field_soc;
  double      *pmean;       /**< [nfields][nparticles] particle means at the stored cycles */
  OxProfile   *prof3d, *lamella; /**< [nfields] profiles of the stored fields (when profiler is set) */
  OxProfiler   profiler;    /**< not owned; set before storing fields to get profiles */
  PetscBool    mn3_field;   /**< write mn3_fraction beside each stored field */
  PetscInt     nparticles;
  int          next_seg;    /**< first protocol segment still to run */
  double       released_mol;
  int          avg_window;        /**< averaged mode: resolved cycles used for the error estimate (0: none) */
  double       avg_err_increment; /**< relative error of the averaged loss increment over that window */
  double       avg_err_loss;      /**< relative error of the total oxygen loss at the window's end */
  double       wall_time_s;       /**< wall time of this invocation so far (root attribute wall_time_s); set before writing */
} OxHistory;

/**
 * @brief Keep the voxel means of (c, u) as the stored field of cycle, with
 *        its particle means and (with a profiler) profiles, the 3D one with
 *        the layer cells at their own depths.
 */
PetscErrorCode OxHistoryStoreField(OxHistory *h, const OxMicrostructure *ms, OxOperator *op, Vec c, Vec u, int cycle, double time_s, double soc);

/**
 * @brief Write a result (state == NULL) or a checkpoint (state = the vacancy
 *        field, layer = the layer state or NULL) to path, through a
 *        temporary file renamed when complete. A result also gets its XDMF sidecar.
 */
PetscErrorCode OxHistoryWrite(const OxHistory *h, const char *path, const char *config_text, const char *command, DM da,
                              const OxMicrostructure *ms, const OxOperator *op, Vec state, Vec layer);

/**
 * @brief Read a checkpoint: history and state (into c, a DMDA vector of da,
 *        and the layer u, NULL without one); the profiles of the stored
 *        fields are read back as written (with a profiler).
 * @param[out] config_text the resolved config the checkpoint was made with (PetscFree it)
 */
PetscErrorCode OxHistoryRead(const char *path, DM da, const OxMicrostructure *ms, const OxOperator *op, OxProfiler profiler, OxHistory *h, Vec c,
                             Vec u, char **config_text);

/**
 * @brief Before a restart: is path a checkpoint made with exactly this
 *        resolved config? Plain HDF5, quiet. @return 1 if so, else 0 with why.
 */
int OxHistoryCheckCheckpoint(const char *path, const char *config_text, char *why, size_t len);

PetscErrorCode OxHistoryDestroy(OxHistory *h);

#endif
