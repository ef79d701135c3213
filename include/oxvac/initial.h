/**
 * @file initial.h
 * @brief The vacancy field at t = 0 (config group `initial`): uniform, or
 *        read from an HDF5 dataset over the grid.
 */
#ifndef OXVAC_INITIAL_H
#define OXVAC_INITIAL_H
#include "oxvac/config.h"
#include "oxvac/operator.h"

/**
 * @brief Set the voxel state c and the layer cells u (NULL: none; each cell
 *        takes its voxel's value) from cfg (collective).
 * @param[out] err "" or, on an input error (file, dataset, shape, values),
 *        "FILE:LINE: key 'initial.file': ...; expected ...": nothing is set then
 */
PetscErrorCode OxInitialApply(const OxConfig *cfg, OxOperator *op, Vec c, Vec u, char *err, size_t len);
#endif
