/**
 * @file observables.h
 * @brief What a run reports: means over the solid, oxygen loss, and the
 *        time series of them (one row per protocol step end, at least).
 */
#ifndef OXVAC_OBSERVABLES_H
#define OXVAC_OBSERVABLES_H

#include "oxvac/operator.h"

/** One row of /timeseries. */
typedef struct {
  double time_s;
  int cycle;
  double soc;
  double vacancy_mean;    /**< c averaged over the solid volume (voxels and layer cells) */
  double oxygen_loss_pct; /**< 100 * vacancy_mean */
  double released_mol;    /**< time integral of the exchange flux */
  double inventory_mol;   /**< vacancies held by the solid */
} OxSample;

typedef struct {
  int n, cap;
  OxSample *row;
} OxTimeseries;

/** Per primary particle (docs/interface.md, /particles); index p-1 holds label p. */
typedef struct {
  PetscInt n;
  int *id, *secondary;
  double *volume_m3, *area_m2, *centroid_m, *depth_m, *radius_m; /**< centroid_m is [n][3] */
  double *multiplier; /**< diffusivity multiplier m_p (log-normal, material.particle_spread) */
} OxParticleTable;

/** @brief Volumes, corrected exchange areas, centroids, depths below the envelope, equivalent radii (collective). */
PetscErrorCode OxParticleTableCreate(const OxOperator *op, const OxMicrostructure *ms, OxParticleTable *pt);
void OxParticleTableFree(OxParticleTable *pt);

/**
 * Per secondary particle (docs/interface.md, /secondaries): one row per distinct
 * /particles/secondary value present, ascending (0 = primaries in no
 * secondary, listed only if there are any).
 */
typedef struct {
  PetscInt n;                                   /**< secondaries listed */
  int     *id, *n_primaries, *n_exterior, *n_interior;
  double  *volume_m3;                           /**< sum of its primaries' volume_m3 */
  double  *volume_exterior_m3, *volume_interior_m3; /**< the same over its exterior / interior primaries */
  PetscInt np;                                  /**< primaries of the particle table it was built from */
  int     *row;                                 /**< [np] row of primary p+1's secondary */
  PetscBool *exterior;                          /**< [np] depth_m < 2 radius_m (always for secondary 0) */
} OxSecondaryTable;

/** Per-secondary means at the stored cycles (docs/interface.md, /secondaries_series), each [nout][n] row-major. */
typedef struct {
  int      nout;
  PetscInt n;
  double  *vacancy_mean, *oxygen_loss_pct, *exterior_vacancy_mean, *interior_vacancy_mean;
} OxSecondarySeries;

/** @brief Group the primaries of pt by secondary, split into exterior and interior (not collective: pt is the same on every rank). */
PetscErrorCode OxSecondaryTableCreate(const OxParticleTable *pt, OxSecondaryTable *st);
void OxSecondaryTableFree(OxSecondaryTable *st);

/** @brief Volume-weighted per-secondary means of the particle means pmean[nout][pt->n]; NaN for a group without volume. */
PetscErrorCode OxSecondarySeriesCreate(const OxSecondaryTable *st, const OxParticleTable *pt, int nout, const double *pmean, OxSecondarySeries *ss);
void OxSecondarySeriesFree(OxSecondarySeries *ss);

/** @brief Mean vacancy fraction of every primary particle (collective) from the voxel vector c; mean[p-1] for label p. */
PetscErrorCode OxParticleMeans(const OxOperator *op, const OxMicrostructure *ms, Vec c, double *mean);

/** @brief Sample the state (voxels c, layer u or NULL): volume means and inventory (collective). */
PetscErrorCode OxObservablesSample(OxOperator *op, Vec c, Vec u, double time_s, int cycle, double soc, double released_mol, OxSample *s);

/**
 * @brief The range of the state (collective): smallest and largest vacancy
 *        fraction over the voxels and the layer cells (u may be NULL), and
 *        whether every value is finite (a NaN or Inf anywhere: PETSC_FALSE,
 *        and the range is then meaningless).
 */
PetscErrorCode OxStateRange(Vec c, Vec u, PetscReal *cmin, PetscReal *cmax, PetscBool *finite);

PetscErrorCode OxTimeseriesAppend(OxTimeseries *ts, const OxSample *s);
void OxTimeseriesFree(OxTimeseries *ts);

#endif
