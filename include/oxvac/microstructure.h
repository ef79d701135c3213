/**
 * @file microstructure.h
 * @brief The voxel geometry: which primary particle (label) and which
 *        secondary particle every voxel belongs to.
 *
 * Owns: building labels for each microstructure type, for this rank's part
 * of the grid only, with results that do not depend on the number of ranks.
 * Labels are 0 for electrolyte and 1..nparticles for primary particles.
 * They are built as DMDA vectors; once the model is set up,
 * OxMicrostructureCompact keeps them as 32-bit integers of the owned box
 * (8 bytes per voxel for both, not 16) and frees the vectors.
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
  Vec labels;            /**< while setting up: DMDA global vector, label per voxel (exact integers); NULL once compact */
  Vec secondary;         /**< while setting up: DMDA global vector, secondary id per voxel; NULL once compact */
  int *label, *sec;      /**< once compact: label and secondary id per owned box voxel (x fastest), else NULL */
  double *multiplier;    /**< [nparticles+1] diffusivity multiplier m_p (index 0 unused) */
  int *particle_secondary; /**< [nparticles+1] secondary id of each primary (index 0 unused) */
  double (*envelope)[4]; /**< [nsecondaries+1] outer envelope of each secondary: centre (m), radius (m) */
} OxMicrostructure;

/**
 * @brief Fill labels and secondary ids on the DMDA da (its sizes are the grid).
 *
 * Every rank computes only the voxels it owns, from data every rank holds in
 * full (the sphere, the seeds), so the labels are identical for any rank count.
 */
PetscErrorCode OxMicrostructureCreate(const OxConfig *cfg, DM da, OxMicrostructure *ms);
PetscErrorCode OxMicrostructureDestroy(OxMicrostructure *ms);

/** @brief Keep labels and secondaries as int32 arrays of the owned box (label, sec) and free the vectors. */
PetscErrorCode OxMicrostructureCompact(OxMicrostructure *ms);

/**
 * @brief Secondary particles as agglomerates of whole primaries (type "generated"),
 *        see src/generate.c for the construction.
 */
PetscErrorCode OxGenerateAgglomerates(const OxConfig *cfg, DM da, OxMicrostructure *ms);

/**
 * @brief Progress of OxGenerateAgglomerates on stderr (rank 0): off until
 *        asked. A generation longer than a second reports, on a terminal, one
 *        line rewritten at most once a second, otherwise one line per 10 %,
 *        then a line with the numbers built.
 */
void OxGenerateSetProgress(int on);

/** @brief Primaries a "generated" config is expected to have inside the grid (an estimate, before building). */
double OxGenerateExpectedPrimaries(const OxConfig *cfg);

/**
 * @brief Inspect an imported labelled image (type "import") before the grid
 *        exists: its shape (nx, ny, nz) and voxel size, with every check an
 *        input must pass (file, datasets, integer type, rank 3, shape agreeing
 *        with grid.shape if given, label range, non-empty solid, secondary
 *        dataset). Plain HDF5, no PETSc; call on every rank.
 * @param[out] shape     nx, ny, nz
 * @param[out] voxel_nm  from the file's attribute, else cfg->voxel_nm
 * @param[out] err       "FILE:LINE: key 'microstructure.file': FILE.h5:/labels: ...; expected ..."
 * @return 0, or 2 on an input error
 */
int OxImportProbe(const OxConfig *cfg, int shape[3], double *voxel_nm, char *err, size_t errlen);

/**
 * @brief Complete cfg's grid where the microstructure gives it (an imported
 *        image's shape and voxel size); nothing to do for other types.
 * @return 0, or 2 on an input error (message in err)
 */
int OxMicrostructureResolveGrid(OxConfig *cfg, char *err, size_t errlen);

/**
 * @brief Fill labels and secondary ids from the imported image (after
 *        OxImportProbe succeeded); derives secondary ids when the file has none
 *        (connected solid clusters after closing pores narrower than
 *        microstructure.closing_nm), and sets nparticles, nsecondaries,
 *        particle_secondary and envelope (equal-volume sphere at the
 *        secondary's centroid).
 */
PetscErrorCode OxImportFill(const OxConfig *cfg, DM da, OxMicrostructure *ms);

/**
 * @brief Electrolyte accessibility a in [0,1] of a surface face at x_m that
 *        belongs to secondary particle sec (surface.accessibility).
 *
 * "uniform": 1. "depth": exp(-d / length) with d the depth of the face below
 * its secondary's envelope sphere (0 where it sticks out). "connected" is
 * decided per face by the operator from OxMicrostructureOpenPores (1 here).
 */
double OxMicrostructureAccessibility(const OxConfig *cfg, const OxMicrostructure *ms, int sec, const double x_m[3]);

/**
 * @brief For accessibility "connected": 1 on electrolyte voxels joined face to
 *        face to the electrolyte outside every secondary, 0 on closed pores and
 *        solid (DMDA global vector, created here). Collective.
 */
PetscErrorCode OxMicrostructureOpenPores(DM da, const OxMicrostructure *ms, Vec *open);

/** @brief Depth of x_m below the envelope of secondary sec (m, >= 0; 0 for sec = 0). */
double OxMicrostructureDepth(const OxMicrostructure *ms, int sec, const double x_m[3]);

/**
 * @brief Log-normal multiplier (median 1, log-standard deviation spread) of
 *        particle id, reproducible from seed alone.
 */
double OxParticleMultiplier(long seed, PetscInt id, double spread);

#endif
