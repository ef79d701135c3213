/**
 * @file operator.h
 * @brief The finite-volume operator: dc/dt = f(t, c) on the voxel grid.
 *
 * Owns: the face coefficients built once from the labels (bulk, grain
 * boundary, surface exchange area with its staircase correction), the
 * matrix-free right-hand side and Jacobian product, the exchange flux
 * (released oxygen rate), and assembly of the preconditioner matrix
 * I - gamma J. The bulk apply touches only three face coefficients per cell.
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
  DM da;
  double h_m;
  PetscInt xs, ys, zs, xm, ym, zm;       /**< owned box */
  PetscInt gxs, gys, gzs, gxm, gym, gzm; /**< ghosted box */
  PetscReal *w[3];   /**< per ghosted voxel: coefficient of its +x,+y,+z face (1/s per unit D, m_p included) */
  OxSurface surf;    /**< exchange faces and the layer columns */
  PetscInt nlayer;   /**< layer unknowns in the whole domain (0: no layer) */
  Vec solid;         /**< 1 on solid voxels, 0 on electrolyte (global) */
  Vec exchange_area; /**< corrected exchange area per voxel, m^2 (global, for output) */
  Vec accessibility; /**< area-weighted accessibility of each voxel's surface faces (0 off the surface) */
  Vec wvox, wlay;    /**< volume of each unknown in voxels: voxel vector (0 in electrolyte), layer vector */
  Vec cloc;          /**< scratch local vector */
  Vec rt;            /**< scratch: right-hand side of the voxel preconditioner solve */
  PetscInt nsolid;   /**< solid voxels in the whole domain */
  double area_m2;    /**< total corrected exchange area (accessibility 1) */
  double site_mol_m3;/**< oxygen-site density */
  Mat L;             /**< bulk operator per unit D (assembled once, on first use) */
  Mat P;             /**< preconditioner matrix I - gamma J */
  Vec shift;         /**< scratch: diagonal added to -gamma D L */
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

/** @brief Vacancies held by the solid, in voxel volumes (times h^3 for m^3 of sites). */
PetscErrorCode OxOperatorInventory(OxOperator *op, Vec c, Vec u, PetscReal *voxels);

#endif
