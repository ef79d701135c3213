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
 *  - solid/electrolyte face facing axis a: exchange conductance a(x) k(t) h^2 |n_a|
 *    (|n_a| from the smoothed-indicator normal corrects the staircase area)
 *    in series with the half-voxel diffusion conductance 2 D(t) m_p h
 *  - domain faces are mirror planes (no flux)
 */
#ifndef OXVAC_OPERATOR_H
#define OXVAC_OPERATOR_H

#include <petscdmda.h>
#include "oxvac/microstructure.h"
#include "oxvac/protocol.h"

/** One solid/electrolyte face of an owned voxel. */
typedef struct {
  PetscInt cell;     /**< index of the voxel in the owned (global) array */
  PetscReal area_m2; /**< accessibility * corrected exchange area */
  PetscReal half_m;  /**< 2 m_p h: half-voxel conductance per unit D (m) */
} OxSurfaceFace;

typedef struct {
  DM da;
  double h_m;
  PetscInt xs, ys, zs, xm, ym, zm;       /**< owned box */
  PetscInt gxs, gys, gzs, gxm, gym, gzm; /**< ghosted box */
  PetscReal *w[3];   /**< per ghosted voxel: coefficient of its +x,+y,+z face (1/s per unit D, m_p included) */
  PetscInt nface;    /**< surface faces of owned voxels */
  OxSurfaceFace *face;
  Vec solid;         /**< 1 on solid voxels, 0 on electrolyte (global) */
  Vec exchange_area; /**< corrected exchange area per voxel, m^2 (global, for output) */
  Vec accessibility; /**< area-weighted accessibility of each voxel's surface faces (0 off the surface) */
  Vec cloc;          /**< scratch local vector */
  PetscInt nsolid;   /**< solid voxels in the whole domain */
  double area_m2;    /**< total corrected exchange area (accessibility 1) */
  double site_mol_m3;/**< oxygen-site density */
  Mat L;             /**< bulk operator per unit D (assembled once, on first use) */
  Mat P;             /**< preconditioner matrix I - gamma J */
  Vec shift;         /**< scratch: diagonal added to -gamma D L */
  PetscReal *gbar, *gcbar; /**< averaged mode: per face <G> and <G c_eq> over one cycle */
} OxOperator;

/** @brief Build coefficients from the microstructure. */
PetscErrorCode OxOperatorCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, OxOperator *op);
PetscErrorCode OxOperatorDestroy(OxOperator *op);

/**
 * @brief y = f(t, x) when with_source, else y = J x (the operator is affine in x).
 * @param[in] prm effective parameters at t (from the protocol)
 */
PetscErrorCode OxOperatorApply(OxOperator *op, const OxParams *prm, Vec x, Vec y, PetscBool with_source);

/** @brief Total exchange rate into the solid, in vacancy sites * m^3/s (multiply by site density for mol/s). */
PetscErrorCode OxOperatorExchangeRate(OxOperator *op, const OxParams *prm, Vec x, PetscReal *rate_m3_s);

/** @brief Total exchange conductance sum_f G_f (m^3/s) at prm: minus the derivative of the exchange rate. */
PetscErrorCode OxOperatorExchangeConductance(OxOperator *op, const OxParams *prm, PetscReal *cond_m3_s);

/**
 * @brief Cycle averages over segments g0..g1 (one cycle): per face <G> and
 *        <G c_eq>, and in avg the mean diffusivity with averaged = 1, so that
 *        passing avg to the other functions applies the averaged operator.
 */
PetscErrorCode OxOperatorSetCycleAverage(OxOperator *op, const OxProtocol *prot, int g0, int g1, OxParams *avg);

/** @brief Assemble op->P = I - gamma J at prm. */
PetscErrorCode OxOperatorAssemblePrec(OxOperator *op, const OxParams *prm, PetscReal gamma);

#endif
