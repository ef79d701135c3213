/**
 * @file check.h
 * @brief Warnings of `oxvac check`: a valid config that is plausibly a unit
 *        mistake (src/check.c).
 *
 * Plain C (no PETSc): the geometry is judged from the config alone, exactly
 * for a sphere and estimated for generated secondaries (by their spheres).
 */
#ifndef OXVAC_CHECK_H
#define OXVAC_CHECK_H

#include <stdio.h>
#include "oxvac/config.h"
#include "oxvac/protocol.h"

/** Diffusivities (cm^2/s, after material.diffusivity_scale) outside this range are warned about. */
#define OX_CHECK_D_MIN 1e-25
#define OX_CHECK_D_MAX 1e-5
/** Voxels below this edge (nm) are warned about. */
#define OX_CHECK_VOXEL_MIN_NM 1.0

/**
 * @brief Write one line `warning: FILE:LINE: key 'a.b': what; expected ...`
 *        to out per plausible unit mistake of a loaded config: no solid voxel
 *        or no surface in the grid, a sphere or secondary outside the domain
 *        or smaller than a voxel, primaries smaller than a voxel, a voxel below
 *        1 nm, a diffusivity outside 1e-25..1e-5 cm^2/s, output.fields_at_cycles
 *        entries (where given) past the end of the protocol. FILE:LINE is where
 *        the key was written (the config, an @include, or "--set:N").
 * @param nset, sets  the --set overrides the config was loaded with
 * @return the number of warnings
 */
int OxCheckWarnings(const OxConfig *cfg, const OxProtocol *prot, int nset, const char *const *sets, FILE *out);

#endif
