/**
 * @file stress.h
 * @brief The stress of a run: when the elasticity is solved, what the
 *        stored fields get, and what the transport sees (docs/mechanics.md).
 *
 * Owns: the lattice parts of the hydrostatic stress (one solve each for
 * a = 1 and c = 1, done once, since the stress is linear in the
 * eigenstrain), the vacancy part and the vacancy field it was solved for
 * (solved again when c moved more than mechanics.update_tolerance, and at
 * every cycle end), and the per-voxel factors exp(V sigma_h / kT) given to
 * the operator at the state of charge of each evaluation. Stored fields get
 * the stress of their own c and soc, solved then.
 */
#ifndef OXVAC_STRESS_H
#define OXVAC_STRESS_H
#include "oxvac/history.h"
#include "oxvac/mechanics.h"
#include "oxvac/model.h"

typedef struct OxStress_ *OxStress;

/** @brief NULL when mechanics is off; else the solver (and, with coupling, the lattice parts). */
PetscErrorCode OxStressCreate(const OxConfig *cfg, OxModel *m, OxStress *out);
PetscErrorCode OxStressDestroy(OxStress *s);

/** @brief Whether either activation volume is nonzero. */
PetscBool OxStressCouples(const OxStress s);

/** @brief The stress of the last field stored in h (its own c and soc), stored beside it; and the c axes for /particles. */
PetscErrorCode OxStressStoreField(OxStress s, OxHistory *h, OxModel *m);

/**
 * @brief Solve the vacancy part again from the voxel means of (c, u) when
 *        they moved more than the tolerance since the last solve, or when
 *        force (a cycle end, the run's start). No-op without coupling.
 */
PetscErrorCode OxStressUpdate(OxStress s, OxModel *m, PetscBool force);

/** @brief What a checkpoint keeps (NULL without coupling): the vacancy field of the last vacancy-part solve and its displacement. */
void OxStressCheckpointVecs(const OxStress s, Vec *ref, Vec *disp);

/** @brief A restart: the vacancy part as the checkpoint at path left it (its reference field and displacement, solved again from there). */
PetscErrorCode OxStressRead(OxStress s, OxModel *m, const char *path);

/** @brief Hook for the integrator: set the operator's stress factors at prm->soc (cached). Returns 0 or a PETSc error. */
PetscErrorCode OxStressAtSoc(void *s, OxOperator *op, double soc);

#endif
