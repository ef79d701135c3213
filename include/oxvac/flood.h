/**
 * @file flood.h
 * @brief Flood fill and connected components on a whole voxel grid,
 *        6-connected (face neighbours only), x fastest: voxel
 *        v = (k ny + j) nx + i (src/flood.c).
 *
 * Owns: breadth-first flooding of an int mark per voxel through the voxels
 * of one value, from seeds the caller queues, with one queue of a PetscInt
 * per voxel (4 bytes a voxel) allocated once and reused by every flood; and
 * the numbering of connected components on top of it. Users: the open pores
 * of accessibility "connected" (src/microstructure.c, flooded from the
 * electrolyte outside every secondary) and the secondaries derived for an
 * imported image (src/import.c, the components of the closed solid).
 * Serial: a caller floods the whole image it holds, the same on every rank.
 */
#ifndef OXVAC_FLOOD_H
#define OXVAC_FLOOD_H

#include <petscsys.h>

typedef struct {
  PetscInt  n[3];  /**< the grid, x first */
  PetscInt  len;   /**< voxels queued since the last OxFloodSpread */
  PetscInt *queue; /**< room for every voxel of the grid */
} OxFlood;

/** @brief Queue for the grid n[0] x n[1] x n[2] (at most PETSC_MAX_INT voxels). */
PetscErrorCode OxFloodCreate(const PetscInt n[3], OxFlood *fl);
PetscErrorCode OxFloodDestroy(OxFlood *fl);

/** @brief Seed voxel v: mark[v] = to, and queue it unless it was already to. */
void OxFloodSeed(OxFlood *fl, int *mark, PetscInt v, int to);

/**
 * @brief From the queued seeds, set every voxel with mark == from that is
 *        joined face to face to a seed through such voxels to `to` (to !=
 *        from); empties the queue.
 * @return the voxels set to `to`, seeds included
 */
PetscInt OxFloodSpread(OxFlood *fl, int *mark, int from, int to);

/**
 * @brief Number the 6-connected components of the voxels with mark == from
 *        (from <= 0): 1..ncomp in the order of each component's first voxel;
 *        every voxel of a component gets its number, the others keep theirs
 *        (which must not be positive).
 */
PetscErrorCode OxFloodComponents(const PetscInt n[3], int *mark, int from, PetscInt *ncomp);

#endif
