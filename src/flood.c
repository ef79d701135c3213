/* Breadth-first flood fill and connected components on a voxel grid,
 * 6-connected, one queue allocated once (flood.h). */
#include "oxvac/flood.h"

PetscErrorCode OxFloodCreate(const PetscInt n[3], OxFlood *fl)
{
  double N = (double)n[0] * (double)n[1] * (double)n[2];

  PetscFunctionBeginUser;
  PetscCheck(N >= 1 && N <= (double)PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "flood fill of %" PetscInt_FMT " x %" PetscInt_FMT " x %" PetscInt_FMT " voxels; expected 1 to %" PetscInt_FMT, n[0], n[1], n[2], PETSC_MAX_INT);
  for (int d = 0; d < 3; d++) fl->n[d] = n[d];
  fl->len = 0;
  PetscCall(PetscMalloc1((PetscInt)N, &fl->queue));
  PetscFunctionReturn(0);
}

PetscErrorCode OxFloodDestroy(OxFlood *fl)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(fl->queue));
  fl->len = 0;
  PetscFunctionReturn(0);
}

void OxFloodSeed(OxFlood *fl, int *mark, PetscInt v, int to)
{
  if (mark[v] == to) return;
  mark[v]               = to;
  fl->queue[fl->len++] = v;
}

PetscInt OxFloodSpread(OxFlood *fl, int *mark, int from, int to)
{
  const PetscInt nx = fl->n[0], ny = fl->n[1], nz = fl->n[2], nxy = nx * ny;
  PetscInt       head = 0, tail = fl->len, *queue = fl->queue;

  while (head < tail) {
    PetscInt v = queue[head++], i = v % nx, j = (v / nx) % ny, k = v / nxy;
    PetscInt nb[6], nn = 0;
    if (i > 0) nb[nn++] = v - 1;
    if (i < nx - 1) nb[nn++] = v + 1;
    if (j > 0) nb[nn++] = v - nx;
    if (j < ny - 1) nb[nn++] = v + nx;
    if (k > 0) nb[nn++] = v - nxy;
    if (k < nz - 1) nb[nn++] = v + nxy;
    for (PetscInt q = 0; q < nn; q++)
      if (mark[nb[q]] == from) mark[nb[q]] = to, queue[tail++] = nb[q];
  }
  fl->len = 0;
  return tail;
}

PetscErrorCode OxFloodComponents(const PetscInt n[3], int *mark, int from, PetscInt *ncomp)
{
  OxFlood  fl;
  PetscInt N;
  int      id = 0;

  PetscFunctionBeginUser;
  PetscCheck(from <= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "components of the voxels marked %d; expected a mark <= 0 (ids are 1, 2, ...)", from);
  PetscCall(OxFloodCreate(n, &fl));
  N = n[0] * n[1] * n[2];
  for (PetscInt s = 0; s < N; s++) {
    if (mark[s] != from) continue;
    OxFloodSeed(&fl, mark, s, ++id);
    OxFloodSpread(&fl, mark, from, id);
  }
  PetscCall(OxFloodDestroy(&fl));
  *ncomp = id;
  PetscFunctionReturn(0);
}
