/**
 * @file microstructure.h
 * @brief The voxel geometry: which primary particle (label) and which
 *        secondary particle every voxel belongs to.
 *
 * Owns: building labels for each microstructure type, for this rank's part
 * of the grid only, with results that do not depend on the number of ranks.
 * Labels are 0 for electrolyte and 1..nparticles for primary particles.
 */
#ifndef OXVAC_MICROSTRUCTURE_H
#define OXVAC_MICROSTRUCTURE_H

#include <petscdmda.h>
#include "oxvac/config.h"

typedef struct {
  PetscInt nx, ny, nz;   /**< global grid */
  double voxel_m;        /**< cubic voxel edge */
  PetscInt nparticles;   /**< largest primary label */
  PetscInt nsecondaries; /**< largest secondary id */
  Vec labels;            /**< DMDA global vector, label per voxel (exact integers) */
  Vec secondary;         /**< DMDA global vector, secondary id per voxel */
  double *multiplier;    /**< [nparticles+1] diffusivity multiplier m_p (index 0 unused) */
  int *particle_secondary; /**< [nparticles+1] secondary id of each primary (index 0 unused) */
  double (*envelope)[4]; /**< [nsecondaries+1] outer envelope of each secondary: centre (m), radius (m) */
} OxMicrostructure;

/**
 * @brief Grid shape the config asks for (from grid.shape or grid.domain_um).
 * @param[out] shape nx, ny, nz
 */
PetscErrorCode OxMicrostructureGridShape(const OxConfig *cfg, PetscInt shape[3]);

/**
 * @brief Fill labels and secondary ids on the DMDA da (its sizes are the grid).
 *
 * Every rank computes only the voxels it owns, from data every rank holds in
 * full (the sphere, the seeds), so the labels are identical for any rank count.
 */
PetscErrorCode OxMicrostructureCreate(const OxConfig *cfg, DM da, OxMicrostructure *ms);
PetscErrorCode OxMicrostructureDestroy(OxMicrostructure *ms);

/**
 * @brief Secondary particles as agglomerates of whole primaries (type "generated"),
 *        see src/generate.c for the construction.
 */
PetscErrorCode OxGenerateAgglomerates(const OxConfig *cfg, DM da, OxMicrostructure *ms);

/**
 * @brief Electrolyte accessibility a in [0,1] of a surface face at x_m that
 *        belongs to secondary particle sec (surface.accessibility).
 *
 * "uniform": 1. "depth": exp(-d / length) with d the depth of the face below
 * its secondary's envelope sphere (0 where it sticks out).
 */
double OxMicrostructureAccessibility(const OxConfig *cfg, const OxMicrostructure *ms, int sec, const double x_m[3]);

/** @brief Depth of x_m below the envelope of secondary sec (m, >= 0; 0 for sec = 0). */
double OxMicrostructureDepth(const OxMicrostructure *ms, int sec, const double x_m[3]);

/**
 * @brief Log-normal multiplier (median 1, log-standard deviation spread) of
 *        particle id, reproducible from seed alone.
 */
double OxParticleMultiplier(long seed, PetscInt id, double spread);

#endif
