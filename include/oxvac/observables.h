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

/** Per primary particle (contract /particles); index p-1 holds label p. */
typedef struct {
  PetscInt n;
  int *id, *secondary;
  double *volume_m3, *area_m2, *centroid_m, *depth_m, *radius_m; /**< centroid_m is [n][3] */
  double *multiplier; /**< diffusivity multiplier m_p (log-normal, material.particle_spread) */
} OxParticleTable;

/** @brief Volumes, corrected exchange areas, centroids, depths below the envelope, equivalent radii (collective). */
PetscErrorCode OxParticleTableCreate(const OxOperator *op, const OxMicrostructure *ms, OxParticleTable *pt);
void OxParticleTableFree(OxParticleTable *pt);

/** @brief Mean vacancy fraction of every primary particle (collective); mean[p-1] for label p. */
PetscErrorCode OxParticleMeans(const OxMicrostructure *ms, Vec c, double *mean);

/** @brief Sample the state (voxels c, layer u or NULL): volume means and inventory (collective). */
PetscErrorCode OxObservablesSample(OxOperator *op, Vec c, Vec u, double time_s, int cycle, double soc, double released_mol, OxSample *s);

PetscErrorCode OxTimeseriesAppend(OxTimeseries *ts, const OxSample *s);
void OxTimeseriesFree(OxTimeseries *ts);

#endif
