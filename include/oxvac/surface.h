/**
 * @file surface.h
 * @brief Solid/electrolyte exchange and the sub-voxel surface layer.
 *
 * Owns: the exposed faces and their staircase-corrected areas (normals from
 * the smoothed solid indicator), the exchange conductances (exchange in
 * series with diffusion), and the sub-voxel layer (docs/numerics.md): every
 * voxel that exchanges becomes a column along its surface normal of
 * `surface.layer.cells` graded cells (finest at the surface) over
 * `depth_fraction` of its depth d = h^3 / A (A its corrected exchange area),
 * above the voxel's own unknown, which keeps the rest of the volume. Volumes
 * add up to h^3 exactly. The module applies the layer terms, eliminates the
 * layer exactly in the preconditioner (a tridiagonal solve per column and a
 * diagonal Schur term on the voxel), and maps layer + voxel to voxel means,
 * weights and depth samples for the observables.
 *
 * With cells = 0 there is no layer: each exposed face exchanges with its
 * voxel through k A in series with the half-voxel conductance 2 D m h.
 */
#ifndef OXVAC_SURFACE_H
#define OXVAC_SURFACE_H

#include <petscdmda.h>
#include "oxvac/microstructure.h"
#include "oxvac/protocol.h"

/** Most layer cells per column (the upper end of surface.layer.cells). */
#define OX_LAYER_MAX_CELLS 32

/** One solid/electrolyte face of an owned voxel. */
typedef struct {
  PetscInt  cell;    /**< the voxel: its owned-box index while built, its voxel-vector index after OxSurfaceRemapCells */
  PetscReal area_m2; /**< accessibility * corrected exchange area */
  PetscReal half_m;  /**< 2 m_p h: half-voxel conductance per unit D (m) */
} OxSurfaceFace;

/**
 * The layer column of one exchanging owned voxel. Its cells' volumes and
 * conductances (per unit D, in m) are vol[off + j] and g[off + j] of the
 * surface: g couples cell j to j + 1, the last cell to the voxel unknown.
 */
typedef struct {
  PetscInt  cell;     /**< owned voxel (indexed as OxSurfaceFace.cell) */
  PetscInt  off;      /**< its first layer cell in the local layer array */
  PetscReal karea_m2; /**< sum over its faces of accessibility * corrected area */
  PetscReal gtop_m;   /**< surface -> first cell: m A / (delta_1 / 2) */
  PetscReal vvox_m3;  /**< volume left to the voxel's own unknown */
  PetscReal depth_m;  /**< d = h^3 / A, the column depth */
  PetscReal point_m;  /**< depth of the voxel unknown's point */
} OxSurfaceColumn;

typedef struct {
  double     h_m;
  PetscInt   nface;      /**< exposed faces of owned voxels */
  OxSurfaceFace *face;
  PetscInt   ncells;     /**< layer cells per column (0: no layer) */
  PetscReal  lambda;     /**< fraction of d the layer cells cover */
  PetscReal *frac;       /**< [ncells] thickness fractions of d */
  PetscReal *vol, *g;    /**< [nlayer] layer cell volumes (m^3) and conductances per unit D (m) */
  PetscInt   ncol;       /**< columns of owned voxels */
  OxSurfaceColumn *col;
  PetscInt   nlayer;     /**< local layer unknowns = ncol * ncells */
  PetscInt   nlayer_global;
  Vec        disp[3];    /**< while building: inward shift of each voxel unknown's point (m), local (ghosted) */
  PetscReal *gbar, *gcbar; /**< averaged mode: <G>, <G c_eq> per face (no layer) or per column */
  PetscReal *fac;        /**< preconditioner: per column ncells numbers (the inverse pivots of its tridiagonal) */
  PetscReal  pgamma, pD; /**< gamma and D of the last preconditioner setup */
  PetscReal *feq, *fD;   /**< stress coupling: per face (no layer) or column, factors of c_eq and D (NULL: 1) */
} OxSurface;

/**
 * @brief Faces, corrected areas, columns (collective).
 * @param[in] labloc labels, local (ghosted) vector of da
 * @param[out] exchange_area corrected exchange area per owned voxel (m^2), global vector of da
 * @param[out] accessibility area-weighted accessibility per owned voxel, global vector of da
 * @param[out] area_loc total corrected area of this rank's faces
 */
PetscErrorCode OxSurfaceCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, Vec labloc, OxSurface *s, Vec exchange_area,
                               Vec accessibility, double *area_loc);
PetscErrorCode OxSurfaceDestroy(OxSurface *s);

/** @brief Renumber the voxels of faces and columns: cell becomes to[cell] (owned-box index -> voxel-vector index). */
void OxSurfaceRemapCells(OxSurface *s, const PetscInt *to);

/** @brief A layer vector (local length nlayer), or NULL when there is no layer. */
PetscErrorCode OxSurfaceCreateLayerVec(const OxSurface *s, MPI_Comm comm, Vec *u);

/**
 * @brief Add the surface terms to f = dc/dt (owned arrays): exchange, the
 *        layer cells' own rates (fu), and for column voxels the rescaling
 *        of their bulk rate to the voxel cell's volume. Without source the
 *        result is J (c, u).
 */
void OxSurfaceApply(const OxSurface *s, const OxParams *prm, const PetscScalar *c, const PetscScalar *u, PetscScalar *f, PetscScalar *fu,
                    PetscBool with_source);

/** @brief Local exchange rate into the solid (m^3/s of vacancy sites; not computed when c is NULL) and local total conductance sum G. */
void OxSurfaceExchange(const OxSurface *s, const OxParams *prm, const PetscScalar *c, const PetscScalar *u, PetscReal *rate, PetscReal *cond);

/** @brief Cycle averages <G>, <G c_eq> per face or column: zero them, then add each quadrature point's weight. */
PetscErrorCode OxSurfaceAverageReset(OxSurface *s);
void           OxSurfaceAverageAdd(OxSurface *s, const OxParams *prm, PetscReal weight);

/**
 * @brief Preconditioner of I - gamma J: factor the layer columns and set the
 *        surface part of the voxel diagonal shift (the matrix is
 *        -gamma D L + diag(shift), rows of column voxels scaled by V/h^3).
 */
PetscErrorCode OxSurfacePrecSetup(OxSurface *s, const OxParams *prm, PetscReal gamma, PetscScalar *shift);

/** @brief Before the voxel solve: zu = T^-1 ru per column, rt = the voxel right-hand side. */
void OxSurfacePrecReduce(const OxSurface *s, const PetscScalar *rc, const PetscScalar *ru, PetscScalar *rt, PetscScalar *zu);
/** @brief After the voxel solve zc: back-substitute the layer cells. */
void OxSurfacePrecExpand(const OxSurface *s, const PetscScalar *zc, PetscScalar *zu);

/** @brief Volume mean of voxel + layer per voxel: cbar = c off the columns (owned arrays). */
void OxSurfaceVoxelMean(const OxSurface *s, const PetscScalar *c, const PetscScalar *u, PetscScalar *cbar);

/** @brief Volume weights in voxels: wvox of column voxels (others keep theirs). */
void OxSurfaceWeights(const OxSurface *s, PetscScalar *wvox);
/** @brief Vacancies of this rank's layer cells u, in voxel volumes (their weights come from the cell volumes, not a stored vector). */
PetscReal OxSurfaceLayerInventory(const OxSurface *s, const PetscScalar *u);

/**
 * @brief Depth samples of the columns (ncells layer cells and the voxel
 *        unknown, ncells + 1 samples per column): depth below the surface
 *        (nm), volume (voxels), value. Writes whole columns from sample
 *        start on (a multiple of ncells + 1), at most max samples; returns
 *        how many it wrote (0 past the last column).
 */
PetscInt OxSurfaceDepthSamples(const OxSurface *s, const PetscScalar *c, const PetscScalar *u, PetscInt start, PetscInt max, double *depth_nm,
                               double *weight, double *value);

/**
 * @brief Layer cell j of every column into its voxel of x (owned arrays;
 *        other voxels untouched); u NULL writes 1 there (the column mask).
 */
void OxSurfaceLayerToVoxels(const OxSurface *s, const PetscScalar *u, PetscInt j, PetscScalar *x);
/** @brief The reverse: layer cell j of every column from its voxel of x. */
void OxSurfaceVoxelsToLayer(const OxSurface *s, const PetscScalar *x, PetscInt j, PetscScalar *u);

#endif
