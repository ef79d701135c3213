/**
 * @file integrator.h
 * @brief Time integration of the operator along the protocol with CVODE.
 *
 * Owns: CVODE (BDF, SPGMR) on an NVECTOR_PETSC wrapper of the DMDA vector
 * (of one vector holding it and the layer vector when there is a layer),
 * the preconditioner (a PETSc KSP with KSPPREONLY applied to I - gamma J; its
 * PC chosen from the problem's stiffness unless -pc_type says otherwise), the released-oxygen quadrature, and stopping
 * exactly at every protocol segment end, where the BDF history restarts
 * (so a restart from any segment end is bitwise the uninterrupted run). The caller drives it segment by
 * segment and records observables in between.
 */
#ifndef OXVAC_INTEGRATOR_H
#define OXVAC_INTEGRATOR_H

#include "oxvac/operator.h"
#include "oxvac/protocol.h"

typedef struct OxIntegrator_private *OxIntegrator;

/** Work counters summed over all segments. */
typedef struct {
  long nsteps, nrhs, nlinit, npsetup, npsolve, nerrfail, nnlfail;
} OxIntegratorStats;

/**
 * @brief Create the integrator with state c and layer state u (NULL without
 *        a layer; both taken, not copied: the integrator advances them in
 *        place) at time t0.
 * @param[in] released_mol oxygen released before t0 (0 for a fresh run)
 */
PetscErrorCode OxIntegratorCreate(const OxConfig *cfg, OxOperator *op, const OxProtocol *prot, Vec c, Vec u, double t0_s,
                                  double released_mol, OxIntegrator *integ);
PetscErrorCode OxIntegratorDestroy(OxIntegrator *integ);

/**
 * @brief Integrate through segment g (from its start to its end time),
 *        with the BDF history restarted at its start.
 * @param[out] ok PETSC_FALSE when CVODE failed; msg then says why
 */
PetscErrorCode OxIntegratorAdvanceSegment(OxIntegrator integ, int g, PetscBool *ok, char *msg, size_t msglen);

/**
 * @brief Integrate with the cycle-averaged operator (avg from
 *        OxOperatorSetCycleAverage) from the current time to t1_s. The
 *        averaged operator is time-independent, so steps may span many
 *        cycles: the state at t1_s is interpolated, and steps stop only at
 *        tstop_s (the end of the averaged span).
 */
PetscErrorCode OxIntegratorAdvanceAveraged(OxIntegrator integ, const OxParams *avg, double t1_s, double tstop_s, PetscBool *ok, char *msg,
                                           size_t msglen);

/** @brief Oxygen released so far (mol), from the quadrature of the exchange flux. */
double OxIntegratorReleasedMol(OxIntegrator integ);

PetscErrorCode OxIntegratorGetStats(OxIntegrator integ, OxIntegratorStats *st);

/**
 * @brief The preconditioner in use and the stiffness that chose it by
 *        default: the largest D * (segment duration) / h^2 of the protocol
 *        (block Jacobi/IC(0) up to 1e4, hypre BoomerAMG above; -pc_type overrides).
 */
PetscErrorCode OxIntegratorGetPC(OxIntegrator integ, const char **type, double *stiffness);
/** Called before every evaluation with the operator and the state of charge there (stress coupling); nonzero: failure. */
typedef PetscErrorCode (*OxIntegratorHook)(void *ctx, OxOperator *op, double soc);
/** @brief Set (or with NULL clear) the hook. */
void OxIntegratorSetHook(OxIntegrator integ, OxIntegratorHook hook, void *ctx);

#endif
