/**
 * @file mechanics.h
 * @brief Small-strain linear elasticity of the solid on the voxel grid
 *        (docs/mechanics.md).
 *
 * Owns: the node grid (a DMDA of 3 displacement components on the voxel
 * corners), one trilinear hexahedral element per voxel, the multigrid
 * hierarchy and the CG solve, the per-primary crystal orientations, and the
 * stress per solid voxel for an eigenstrain
 *   eps* = beta c I + a (I - n n^T) + c_l n n^T
 * (vacancy chemical expansion, and lattice strains a, c_l in each primary's
 * crystal frame, n its c axis). Solid voxels carry E and nu; electrolyte
 * voxels a stiffness 1e-12 of that (an ersatz material, so the system is
 * definite: free surfaces to 1e-12); the domain faces are symmetry planes
 * (zero normal displacement). The fine operator is matrix-free; the coarser
 * levels are Galerkin products, assembled.
 */
#ifndef OXVAC_MECHANICS_H
#define OXVAC_MECHANICS_H
#include "oxvac/config.h"
#include "oxvac/microstructure.h"
#include "oxvac/operator.h"

typedef struct OxMechanics_ *OxMechanics;

/** @brief Node grid, element weights, orientations and the solver (collective). */
PetscErrorCode OxMechanicsCreate(const OxConfig *cfg, const OxOperator *op, const OxMicrostructure *ms, OxMechanics *out);
PetscErrorCode OxMechanicsDestroy(OxMechanics *mc);

/**
 * @brief Stress of the eigenstrain beta c + lattice (a, cl): per owned solid
 *        voxel (voxel-vector order) the hydrostatic stress tr(sigma)/3 and the
 *        von Mises stress, in Pa (either output may be NULL).
 * @param[in] c voxel vector of vacancy fractions, or NULL for none
 */
PetscErrorCode OxMechanicsSolve(OxMechanics mc, Vec c, double beta, double a, double cl, PetscReal *sigma_h, PetscReal *von_mises);

/**
 * @brief OxMechanicsSolve from the displacement u (a node vector,
 *        OxMechanicsCreateDisplacement; the initial guess, and the solution
 *        on return) to relative residual rtol (0: the solver's own, 1e-9 or
 *        -ox_mech_ksp_rtol).
 */
PetscErrorCode OxMechanicsSolveFrom(OxMechanics mc, Vec c, double beta, double a, double cl, Vec u, PetscReal rtol, PetscReal *sigma_h,
                                    PetscReal *von_mises);

/** @brief The stress of displacement u (no solve): as OxMechanicsSolve reports it. */
PetscErrorCode OxMechanicsStressOf(OxMechanics mc, Vec c, double beta, double a, double cl, Vec u, PetscReal *sigma_h, PetscReal *von_mises);

/** @brief A zero displacement vector on the node grid (u / h, 3 components per node). */
PetscErrorCode OxMechanicsCreateDisplacement(OxMechanics mc, Vec *u);

/** @brief The c axis of primary id (1..nparticles) as a unit vector. */
void OxMechanicsAxis(const OxMechanics mc, PetscInt id, double n[3]);


#endif
