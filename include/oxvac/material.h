/**
 * @file material.h
 * @brief The parameter law: material tables, scales and units turned into
 *        the effective SI parameters at a state of charge.
 *
 * Owns: D = material.diffusivity_scale * step diffusivity_scale * D(s),
 * k = surface.exchange_scale * step release_scale * k(s), c_eq = c_eq(s),
 * and their units (cm^2/s and nm/s in the config, SI here). The protocol
 * (which knows s(t) and the step) and the operator (which turns parameters
 * into conductances) both go through it, so a new physics term has one place
 * to get its parameters from. Plain C, no PETSc.
 */
#ifndef OXVAC_MATERIAL_H
#define OXVAC_MATERIAL_H

#include "oxvac/config.h"

/** Effective parameters at one instant, SI units. */
typedef struct {
  double soc;
  double D_m2_s;  /**< bulk diffusivity, all scales applied (per-particle multiplier excluded) */
  double k_m_s;   /**< surface exchange velocity, all scales applied */
  double c_eq;    /**< surface equilibrium vacancy fraction */
  int averaged;   /**< 1: cycle-averaged exchange (per-face averages held by the operator) */
} OxParams;

/**
 * @brief Parameters at state of charge soc inside a step with the given
 *        diffusivity and release scales (1 outside any step).
 */
void OxMaterialParams(const OxConfig *cfg, double soc, double step_diffusivity_scale, double step_release_scale, OxParams *out);

#endif
