/**
 * @file operator.h
 * @brief The finite-volume operator: dc/dt = f(t, c) on the voxel grid.
 *
 * Owns: the face coefficients built once from the labels (bulk, grain
 * boundary, surface exchange area with its staircase correction), the
 * matrix-free right-hand side and Jacobian product, the exchange flux
 * (released oxygen rate), and assembly of the preconditioner matrix
 * I - gamma J. The bulk apply touches only three face coefficients per cell.
 * Vectors and matrices hold solid voxels only; the box (op->da) carries the
 * geometry, and OxOperatorToBox/FromBox map voxel vectors to box fields.
 *
 * Discretisation (cell-centred FV on cubic voxels of edge h):
 *  - bulk face between voxels of one particle p: D(t) m_p h (c_j - c_i) / h^3
 *  - face between particles p, q: grain_boundary * harmonic(m_p, m_q) times that
 *  - solid/electrolyte exchange and the sub-voxel surface layer: surface.h
 *    (the state is the voxel vector c and, with a layer, the layer vector u;
 *    a layer column's voxel unknown stands for the column's deepest part,
 *    and the two-point fluxes of its faces use that point)
 *  - domain faces are mirror planes (no flux)
 */
#ifndef OXVAC_OPERATOR_H
#define OXVAC_OPERATOR_H

#include <petscdmda.h>
#include "oxvac/microstructure.h"
#include <petscksp.h>
#include "oxvac/protocol.h"
#include "oxvac/surface.h"

typedef struct {
  DM da;             /**< the box: geometry, decomposition and output fields */
  double h_m;
  PetscInt xs, ys, zs, xm, ym, zm;       /**< owned box */
  PetscInt gxs, gys, gzs, gxm, gym, gzm; /**< ghosted box */
  /* Solid-only unknowns: a voxel vector holds the owned solid voxels in box
   * order (x fastest), so rank r owns exactly the solid voxels of its owned
   * box; electrolyte has no entries. The local array of a voxel vector with
   * its ghosts (cloc) is [owned | ghosts | one zero slot]. */
  PetscInt nloc;     /**< owned solid voxels: local length of a voxel vector */
  PetscInt nghost;   /**< solid voxels of other ranks face-adjacent to owned ones */
  PetscInt rstart;   /**< global index of the first owned solid voxel */
  PetscInt *map;     /**< per ghosted box voxel: its slot in cloc; the zero slot nloc + nghost for electrolyte and beyond the domain */
  PetscInt *gghost;  /**< [nghost] global indices of the ghost slots */
  VecScatter gscatter; /**< voxel vector -> ghost slots of cloc (NULL without ghosts) */
  PetscReal *w[3];   /**< per cloc slot: coefficient of its +x,+y,+z face (1/s per unit D, m_p included); 0 in the zero slot */
  OxSurface surf;    /**< exchange faces and the layer columns (cells are voxel-vector indices) */
  PetscInt nlayer;   /**< layer unknowns in the whole domain (0: no layer) */
  Vec exchange_area; /**< corrected exchange area per solid voxel, m^2 (voxel vector, for output) */
  Vec accessibility; /**< area-weighted accessibility of each voxel's surface faces (0 off the surface) */
  Vec wvox;          /**< volume of each voxel unknown in voxels (layer cells: OxSurfaceLayerInventory) */
  Vec cloc;          /**< scratch: owned + ghost values of a voxel vector (sequential, nloc + nghost + 1) */
  Vec rt;            /**< scratch: right-hand side of the voxel preconditioner solve */
  PetscInt nsolid;   /**< solid voxels in the whole domain: the global length of a voxel vector */
  double area_m2;    /**< total corrected exchange area (accessibility 1) */
  double site_mol_m3;/**< oxygen-site density */
  Mat P;             /**< preconditioner matrix I - gamma J over the solid voxels (assembled afresh at every setup) */
  PetscBool P_filled;/**< P's pattern is built: later setups write its value arrays directly */
  PetscScalar *shift;/**< scratch [nloc]: diagonal added to -gamma D L */
  PetscReal *wbase[3]; /**< stress coupling: w without the stress factors (NULL until the first OxOperatorSetStressFactors) */
  PetscInt *across[3]; /**< stress coupling: per slot, the slot across its + face (the zero slot where none) */
} OxOperator;

/** @brief Build coefficients from the microstructure. */
PetscErrorCode OxOperatorCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, OxOperator *op);
PetscErrorCode OxOperatorDestroy(OxOperator *op);

/**
 * @brief (y, yu) = f(t, x, u) when with_source, else J (x, u) (the operator is affine).
 * @param[in] prm effective parameters at t (from the protocol)
 * @param[in] u, yu layer state and its rate; NULL without a layer
 */
PetscErrorCode OxOperatorApply(OxOperator *op, const OxParams *prm, Vec x, Vec u, Vec y, Vec yu, PetscBool with_source);

/** @brief Total exchange rate into the solid, in vacancy sites * m^3/s (multiply by site density for mol/s). */
PetscErrorCode OxOperatorExchangeRate(OxOperator *op, const OxParams *prm, Vec x, Vec u, PetscReal *rate_m3_s);

/** @brief Total exchange conductance sum_f G_f (m^3/s) at prm: minus the derivative of the exchange rate. */
PetscErrorCode OxOperatorExchangeConductance(OxOperator *op, const OxParams *prm, PetscReal *cond_m3_s);

/**
 * @brief Cycle averages over segments g0..g1 (one cycle): per face <G> and
 *        <G c_eq>, and in avg the mean diffusivity with averaged = 1, so that
 *        passing avg to the other functions applies the averaged operator.
 */
PetscErrorCode OxOperatorSetCycleAverage(OxOperator *op, const OxProtocol *prot, int g0, int g1, OxParams *avg);

/** @brief Assemble op->P (the voxel system left after eliminating the layer from I - gamma J) at prm. */
PetscErrorCode OxOperatorAssemblePrec(OxOperator *op, const OxParams *prm, PetscReal gamma);

/** @brief (zc, zu) = (I - gamma J)^-1 (rc, ru), the voxel part through ksp (whose operator is op->P); ru, zu NULL without a layer. */
PetscErrorCode OxOperatorPrecApply(OxOperator *op, KSP ksp, Vec rc, Vec ru, Vec zc, Vec zu);

/** @brief cbar = volume mean of each voxel's own unknown and its layer cells (a copy of c without a layer). */
PetscErrorCode OxOperatorVoxelMean(OxOperator *op, Vec c, Vec u, Vec cbar);

/** @brief A voxel vector (solid voxels only), zeroed. */
PetscErrorCode OxOperatorCreateVoxelVec(const OxOperator *op, Vec *c);

/** @brief box = c on solid voxels, 0 on electrolyte (box: a global vector of op->da). */
PetscErrorCode OxOperatorToBox(const OxOperator *op, Vec c, Vec box);
/** @brief A new global vector of op->da holding c (OxOperatorToBox), named as c. */
PetscErrorCode OxOperatorBoxVec(const OxOperator *op, Vec c, Vec *box);
/** @brief nat[m] = natural index (x fastest over the whole grid) of owned solid voxel m, for m < nloc. */
PetscErrorCode OxOperatorNaturalIndices(const OxOperator *op, PetscInt *nat);
/** @brief c = box on the solid voxels (electrolyte values dropped). */
PetscErrorCode OxOperatorFromBox(const OxOperator *op, Vec box, Vec c);

/**
 * @brief Stress coupling: D of each face times gD_a gD_b of its two voxels
 *        (gD = exp(V_D sigma_h / 2kT), the square root of a voxel's factor;
 *        an exchange face or column gets gD^2 of its voxel), c_eq of each
 *        exchange face or column times feq of its voxel (voxel vectors; collective).
 */
PetscErrorCode OxOperatorSetStressFactors(OxOperator *op, Vec gD, Vec feq);
/** @brief Vacancies held by the solid, in voxel volumes (times h^3 for m^3 of sites). */
PetscErrorCode OxOperatorInventory(OxOperator *op, Vec c, Vec u, PetscReal *voxels);

#endif
