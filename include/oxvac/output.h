/**
 * @file output.h
 * @brief The HDF5 result file (docs/interface.md section 4) and its XDMF sidecar.
 *
 * Owns: writing to a temporary name and renaming when complete (a crash
 * never leaves a truncated result), root attributes, /geometry, /timeseries,
 * /fields (through PETSc's HDF5 viewer), and OUT.xdmf for ParaView.
 */
#ifndef OXVAC_OUTPUT_H
#define OXVAC_OUTPUT_H

#include <hdf5.h>
#include "oxvac/microstructure.h"
#include "oxvac/observables.h"
#include "oxvac/operator.h"
#include "oxvac/profiles.h"

typedef struct OxOutput_private *OxOutput;

/**
 * @brief Open a temporary file beside path (collective); creates the folder if needed.
 * @param[in] xdmf write the XDMF sidecar when closed successfully
 */
PetscErrorCode OxOutputOpen(MPI_Comm comm, const char *path, PetscBool xdmf, OxOutput *out);

/**
 * @brief OxOutputOpen that reports a file that cannot be created (a read-only
 *        or full file system, or one with less than bytes free; 0: no check)
 *        instead of raising an error: *out is NULL and why says why
 *        ("read-only file system", the same on every rank); nothing is left
 *        behind. Collective.
 */
PetscErrorCode OxOutputTryOpen(MPI_Comm comm, const char *path, PetscBool xdmf, double bytes, OxOutput *out, char *why, size_t len);

/**
 * @brief After a writer failed with ierr: why (rank 0; "" elsewhere), e.g.
 *        "no space left on device". Call it before any other HDF5 call.
 */
void OxOutputFailureReason(OxOutput out, PetscErrorCode ierr, char *why, size_t len);

/**
 * @brief Before a run: can a result be written at path? (Creates its folder.)
 *        err is "" when it can, else why not (on every rank). Collective.
 */
PetscErrorCode OxOutputCheckPath(MPI_Comm comm, const char *path, char *err, size_t errlen);

/**
 * @brief Collective: the error ierr of this rank, or PETSC_ERR_FILE_WRITE when
 *        another rank failed, on every rank (0 when none failed). A write that
 *        fails on some ranks only (a full disk) must fail on all before any
 *        goes on into the next collective HDF5 call, which would wait forever.
 */
PetscErrorCode OxOutputAgree(OxOutput out, PetscErrorCode ierr);
/** @brief The DMDA vector v as dataset GROUP/NAME with units and description (v keeps its name); collective. */
PetscErrorCode OxOutputWriteVec(OxOutput out, Vec v, const char *group, const char *name, const char *units, const char *description);
/** @brief The PETSc HDF5 viewer of the open file (for VecView into groups). */
PetscViewer OxOutputViewer(OxOutput out);

/**
 * @brief Root attributes: oxvac_version, git_revision (at configure time; "unknown" outside git),
 *        date_utc (ISO 8601, now), host, mpi_ranks, wall_time_s (given), config, command,
 *        unknowns (voxels + layer cells). Collective; rank 0's date, host and wall time are written.
 */
PetscErrorCode OxOutputWriteRoot(OxOutput out, const char *config_text, const char *command, long long unknowns, double wall_time_s);

/** Longest config (bytes) kept in the root attribute config; a longer one
 *  (1000 listed protocol steps) is the scalar string dataset /config instead
 *  (an HDF5 object header message holds at most 64 KiB). */
#define OX_CONFIG_ATTR_MAX 32768

/**
 * @brief The resolved config of a result or checkpoint: the root attribute
 *        config or the dataset /config; malloc'd (free it), NULL if neither reads.
 */
char *OxOutputReadConfig(hid_t fid);

/**
 * @brief Attributes units and description (strings) on the existing dataset path (collective).
 *        Every dataset of a result or checkpoint has them; the writers here add them themselves.
 */
PetscErrorCode OxOutputDescribe(OxOutput out, const char *path, const char *units, const char *description);

/** @brief /geometry: labels, secondary (int32 [nz][ny][nx]), solid (uint8), exchange area, accessibility, attrs voxel_m and shape. */
PetscErrorCode OxOutputWriteGeometry(OxOutput out, DM da, const OxMicrostructure *ms, const OxOperator *op);

/**
 * @brief /fields/cycle_NNNNNN/vacancy_fraction with attrs time_s, cycle, soc
 *        (c keeps its name), and /fields/cycle_NNNNNN/mn3_fraction when mn3 is not NULL.
 */
PetscErrorCode OxOutputWriteField(OxOutput out, Vec c, Vec mn3, Vec sh, Vec svm, int cycle, double time_s, double soc);
/** @brief /particles/c_axis [np][3] (mechanics). */
PetscErrorCode OxOutputWriteParticleAxes(OxOutput out, PetscInt np, const double *axis);

/** Where and when a profile was taken (attributes of its group). */
typedef struct {
  int         cycle;
  double      time_s, soc;
  const char *axis;          /**< lamella: "x", "y" or "z"; NULL for a 3D profile */
  double      thickness_nm;  /**< lamella */
  double      centre_m[3];   /**< lamella: centre of the slab */
} OxProfileInfo;

/**
 * @brief /KIND/cycle_NNNNNN/{distance_nm, mn3_fraction, vacancy_fraction, count}
 *        with KIND "profiles" or "lamella"; attributes cycle, time_s, soc,
 *        bin_nm (and axis, thickness_nm, centre_m for the lamella).
 */
PetscErrorCode OxOutputWriteProfile(OxOutput out, const char *kind, const OxProfile *p, const OxProfileInfo *info);

/** @brief /timeseries, one dataset per column. */
PetscErrorCode OxOutputWriteTimeseries(OxOutput out, const OxTimeseries *ts);

/** @brief Write a 1-D double dataset at path with its units and description (collective call, rank 0 writes). */
PetscErrorCode OxOutputWriteArray(OxOutput out, const char *path, PetscInt n, const double *v, const char *units, const char *description);

/** @brief /particles/{id, secondary, volume_m3, area_m2, centroid_m[n][3], depth_m, radius_m}. */
PetscErrorCode OxOutputWriteParticles(OxOutput out, const OxParticleTable *pt);

/** @brief /particles_series/{cycle[n_out], vacancy_mean[n_out][n_particles]}. */
PetscErrorCode OxOutputWriteParticleSeries(OxOutput out, int nout, const int *cycle, PetscInt np, const double *mean, const double *stress);

/**
 * @brief /secondaries/{id, n_primaries, volume_m3, n_exterior, n_interior, volume_exterior_m3, volume_interior_m3}[n_sec] and
 *        /secondaries_series/{cycle[n_out], vacancy_mean, oxygen_loss_pct,
 *        exterior_vacancy_mean, interior_vacancy_mean [n_out][n_sec]} (collective call, rank 0 writes).
 */
PetscErrorCode OxOutputWriteSecondaries(OxOutput out, const OxSecondaryTable *st, const int *cycle, const OxSecondarySeries *ss);

/**
 * @brief Close. With success, write the XDMF sidecar and rename both files
 *        into place; otherwise remove the temporary file.
 */
PetscErrorCode OxOutputClose(OxOutput *out, PetscBool success);

/**
 * @brief OxOutputClose that never leaves the file open or a temporary file
 *        behind, and reports a failure to put the result into place (a full
 *        disk at the last flush, a failed rename) in why instead of raising
 *        an error; why is "" when all went well or success was false. The
 *        HDF5 file is renamed into place before its XDMF. Collective.
 */
PetscErrorCode OxOutputTryClose(OxOutput *out, PetscBool success, char *why, size_t len);

#endif
