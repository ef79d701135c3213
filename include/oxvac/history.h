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
#include "oxvac/protocol.h"

typedef struct {
  OxTimeseries ts;
  int          nfields, capfields;
  Vec         *field;       /**< stored vacancy fields */
  int         *field_cycle;
  double      *field_time_s, *field_soc;
  double      *pmean;       /**< [nfields][nparticles] particle means at the stored cycles */
  PetscBool    stress;      /**< stored fields come with their stress (mechanics) */
  Vec         *sigma_h, *von_mises; /**< [nfields] voxel vectors, Pa (when stress) */
  double      *pstress;     /**< [nfields][nparticles] particle means of sigma_h (when stress) */
  double      *c_axis;      /**< [nparticles][3] crystal c axes for /particles (NULL: not written) */
  Vec          stress_ref;  /**< stress coupling (not owned): the field the vacancy stress was solved for (/state/mechanics_reference), or NULL */
  Vec          stress_disp; /**< and its displacement, a node vector (/state/mechanics_displacement), or NULL */
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
/** @brief The stress of the last stored field (voxel vectors, copied), with its particle means. */
PetscErrorCode OxHistoryStoreStress(OxHistory *h, const OxMicrostructure *ms, const OxOperator *op, Vec sigma_h, Vec von_mises);

/**
 * @brief Write a result (state == NULL) or a checkpoint (state = the vacancy
 *        field, layer = the layer state or NULL) to path, through a
 *        temporary file renamed when complete. A result also gets its XDMF sidecar.
 */
PetscErrorCode OxHistoryWrite(const OxHistory *h, const char *path, const char *config_text, const char *command, DM da,
                              const OxMicrostructure *ms, const OxOperator *op, Vec state, Vec layer);

/**
 * @brief OxHistoryWrite that reports a file that cannot be written (a full or
 *        read-only file system: why = "no space left on device", the same on
 *        every rank) instead of raising an error; why is "" on success. No
 *        temporary file survives, and a file already at path stays as it was.
 *        Collective. (Several ranks: a failure on one rank alone, mid-write,
 *        can still hang the others in HDF5's collective calls.)
 */
PetscErrorCode OxHistoryTryWrite(const OxHistory *h, const char *path, const char *config_text, const char *command, DM da,
                                 const OxMicrostructure *ms, const OxOperator *op, Vec state, Vec layer, char *why, size_t len);

/**
 * @brief Read a checkpoint: history and state (into c, a DMDA vector of da,
 *        and the layer u, NULL without one); the profiles of the stored
 *        fields are read back as written (with a profiler).
 * @param[out] config_text the resolved config the checkpoint was made with (PetscFree it)
 */
PetscErrorCode OxHistoryRead(const char *path, DM da, const OxMicrostructure *ms, const OxOperator *op, OxProfiler profiler, OxHistory *h, Vec c,
                             Vec u, char **config_text);

/** What a checkpoint for this run must hold (from the resolved config, before any work). */
typedef struct {
  int               nx, ny, nz;  /**< grid shape */
  int               layer_cells; /**< surface layer cells (0: none) */
  int               profiles;    /**< stored fields come with /profiles and /lamella */
  const OxProtocol *prot;        /**< this run's protocol: next_segment and the time series must fit it */
} OxCheckpointExpect;

/**
 * @brief Before a restart: is path an intact checkpoint made with exactly this
 *        resolved config, fitting ex? Plain HDF5, quiet, no MPI: every rank
 *        runs it before any work, and OxHistoryRead then trusts the file.
 * @param[out] has_layer whether it holds /state/layer (checked against the
 *        model's layer once that exists: a layer without exchange has no cells)
 * @param[out] why on 0: "dataset '/path': what is wrong; expected ..." or
 *        "file: ...", for the caller to prefix with "PATH: "
 * @return 1 if fine; 0 if damaged (why set); -1 if intact but made with a
 *         different resolved config
 */
int OxHistoryCheckCheckpoint(const char *path, const char *config_text, const OxCheckpointExpect *ex, int *has_layer, char *why, size_t len);

PetscErrorCode OxHistoryDestroy(OxHistory *h);

#endif
