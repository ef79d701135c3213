/**
 * @file model.h
 * @brief The assembled spatial model of a config: grid, microstructure,
 *        operator and a state vector. Used by `oxvac run` and by the
 *        benchmark drivers in bench/, which integrate the same operator
 *        with other time integrators.
 */
#ifndef OXVAC_MODEL_H
#define OXVAC_MODEL_H

#include "oxvac/microstructure.h"
#include "oxvac/operator.h"

typedef struct {
  DM               da;
  OxMicrostructure ms;
  OxOperator       op;
  Vec              c; /**< state of the voxels, zero on creation */
  Vec              u; /**< state of the surface layer cells (NULL without a layer), zero on creation */
  PetscScalar     *state; /**< with a layer: the one array c and u are views of (c's part, then u's) */
} OxModel;

/** @brief DMDA from the config's grid (PETSc options apply), labels, operator, state (collective). */
PetscErrorCode OxModelCreate(const OxConfig *cfg, OxModel *m);
PetscErrorCode OxModelDestroy(OxModel *m);

#endif
