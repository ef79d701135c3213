/**
 * @file balance.h
 * @brief Decomposition balanced by solid voxels.
 *
 * Owns: the DMDA's ownership ranges. The unknowns are the solid voxels only
 * (operator.h), so a split of the box into equal volumes leaves a rank with
 * mostly electrolyte nearly idle. Along every axis the process grid divides,
 * the planes are split where the cumulative solid count crosses equal
 * shares, and the microstructure moves onto the new DMDA. Deterministic: the
 * same geometry on the same number of ranks gives the same decomposition
 * (restarts stay bitwise).
 */
#ifndef OXVAC_BALANCE_H
#define OXVAC_BALANCE_H

#include <petscdmda.h>
#include "oxvac/microstructure.h"

/**
 * @brief Replace *da by a DMDA of the same grid whose ownership ranges balance
 *        the solid voxels of ms, and move ms->labels and ms->secondary onto it
 *        (collective; nothing changes on one rank or without solid).
 */
PetscErrorCode OxBalanceBySolid(DM *da, OxMicrostructure *ms);

#endif
