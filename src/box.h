/* Internal: index arithmetic on a DMDA's ghosted box, shared by the operator
 * and the surface module. Not part of the public headers. */
#ifndef OXVAC_BOX_H
#define OXVAC_BOX_H

#include <petscdmda.h>

typedef struct {
  PetscInt n[3];         /* global sizes */
  PetscInt gs[3], gm[3]; /* ghosted start and size */
} OxBox;

static inline PetscInt OxBoxIndex(const OxBox *b, PetscInt i, PetscInt j, PetscInt k)
{
  return ((k - b->gs[2]) * b->gm[1] + (j - b->gs[1])) * b->gm[0] + (i - b->gs[0]);
}

static inline PetscBool OxBoxInDomain(const OxBox *b, const PetscInt p[3])
{
  for (int d = 0; d < 3; d++)
    if (p[d] < 0 || p[d] >= b->n[d]) return PETSC_FALSE;
  return PETSC_TRUE;
}

static inline PetscBool OxBoxInGhost(const OxBox *b, const PetscInt p[3])
{
  for (int d = 0; d < 3; d++)
    if (p[d] < b->gs[d] || p[d] >= b->gs[d] + b->gm[d]) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* Index of neighbour q of p along axis d at offset s (+-1), reflected at the
 * domain faces: the faces are mirror planes, so the value beyond equals p's. */
static inline PetscInt OxBoxMirrorIndex(const OxBox *b, const PetscInt p[3], int d, int s)
{
  PetscInt q[3] = {p[0], p[1], p[2]};
  q[d] += s;
  if (q[d] < 0 || q[d] >= b->n[d]) q[d] = p[d];
  return OxBoxIndex(b, q[0], q[1], q[2]);
}

/* The ghosted box of da for a grid of n[0] x n[1] x n[2] voxels. */
static inline PetscErrorCode OxBoxFromDA(DM da, OxBox *b)
{
  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(da, NULL, &b->n[0], &b->n[1], &b->n[2], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetGhostCorners(da, &b->gs[0], &b->gs[1], &b->gs[2], &b->gm[0], &b->gm[1], &b->gm[2]));
  PetscFunctionReturn(0);
}

#endif
