/* Ownership ranges balanced by solid voxels (balance.h). */
#include "oxvac/balance.h"

/* Split the n planes of hist (solid voxels per plane) into parts ranges of at
 * least one plane each, cutting where the cumulative count crosses
 * total * r / parts. */
static void split_axis(PetscInt n, const PetscInt *hist, PetscInt parts, PetscInt *range)
{
  PetscInt64 total = 0, cum = 0;
  PetscInt   start = 0;
  for (PetscInt i = 0; i < n; i++) total += hist[i];
  for (PetscInt r = 0, i = 0; r < parts; r++) {
    PetscInt end;
    if (r == parts - 1) end = n;
    else {
      PetscInt64 target = (total * (r + 1) + parts / 2) / parts;
      end               = start + 1;
      cum += hist[i++];
      while (i < n - (parts - 1 - r) && cum + hist[i] / 2 < target) cum += hist[i++], end++;
    }
    range[r] = end - start;
    start    = end;
  }
}

/* to (a global vector of nda) = from (a global vector of da), voxel by voxel. */
static PetscErrorCode move_field(DM da, DM nda, Vec from, Vec to)
{
  Vec        n0, n1;
  IS         is;
  VecScatter sc;
  PetscInt   lo, hi;

  PetscFunctionBeginUser;
  PetscCall(DMDACreateNaturalVector(da, &n0));
  PetscCall(DMDACreateNaturalVector(nda, &n1));
  PetscCall(DMDAGlobalToNaturalBegin(da, from, INSERT_VALUES, n0));
  PetscCall(DMDAGlobalToNaturalEnd(da, from, INSERT_VALUES, n0));
  PetscCall(VecGetOwnershipRange(n1, &lo, &hi));
  PetscCall(ISCreateStride(PetscObjectComm((PetscObject)da), hi - lo, lo, 1, &is));
  PetscCall(VecScatterCreate(n0, is, n1, is, &sc));
  PetscCall(VecScatterBegin(sc, n0, n1, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, n0, n1, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(DMDANaturalToGlobalBegin(nda, n1, INSERT_VALUES, to));
  PetscCall(DMDANaturalToGlobalEnd(nda, n1, INSERT_VALUES, to));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(ISDestroy(&is));
  PetscCall(VecDestroy(&n0));
  PetscCall(VecDestroy(&n1));
  PetscFunctionReturn(0);
}

PetscErrorCode OxBalanceBySolid(DM *da, OxMicrostructure *ms)
{
  PetscMPIInt        size;
  MPI_Comm           comm = PetscObjectComm((PetscObject)*da);
  PetscInt           n[3], P[3], xs[3], xm[3], *hist[3], *range[3], o = 0, total = 0;
  const PetscScalar *lab;
  DM                 nda;
  Vec                lab2, sec2;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (size == 1) PetscFunctionReturn(0);
  PetscCall(DMDAGetInfo(*da, NULL, &n[0], &n[1], &n[2], &P[0], &P[1], &P[2], NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetCorners(*da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
  for (int d = 0; d < 3; d++) {
    PetscCall(PetscCalloc1(n[d], &hist[d]));
    PetscCall(PetscMalloc1(P[d], &range[d]));
  }
  PetscCall(VecGetArrayRead(ms->labels, &lab));
  for (PetscInt k = xs[2]; k < xs[2] + xm[2]; k++)
    for (PetscInt j = xs[1]; j < xs[1] + xm[1]; j++)
      for (PetscInt i = xs[0]; i < xs[0] + xm[0]; i++, o++)
        if (PetscRealPart(lab[o]) > 0.5) hist[0][i]++, hist[1][j]++, hist[2][k]++;
  PetscCall(VecRestoreArrayRead(ms->labels, &lab));
  for (int d = 0; d < 3; d++) PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, hist[d], (int)n[d], MPIU_INT, MPI_SUM, comm));
  for (PetscInt i = 0; i < n[0]; i++) total += hist[0][i];
  if (total > 0) {
    for (int d = 0; d < 3; d++) split_axis(n[d], hist[d], P[d], range[d]);
    PetscCall(DMDACreate3d(comm, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED, DMDA_STENCIL_STAR, n[0], n[1], n[2], P[0], P[1], P[2], 1,
                           1, range[0], range[1], range[2], &nda));
    PetscCall(DMSetUp(nda));
    /* move labels and secondaries through the natural (rank-independent) order */
    PetscCall(DMCreateGlobalVector(nda, &lab2));
    PetscCall(DMCreateGlobalVector(nda, &sec2));
    PetscCall(move_field(*da, nda, ms->labels, lab2));
    PetscCall(move_field(*da, nda, ms->secondary, sec2));
    PetscCall(PetscObjectSetName((PetscObject)lab2, "labels"));
    PetscCall(PetscObjectSetName((PetscObject)sec2, "secondary"));
    PetscCall(VecDestroy(&ms->labels));
    PetscCall(VecDestroy(&ms->secondary));
    ms->labels    = lab2;
    ms->secondary = sec2;
    PetscCall(DMDestroy(da));
    *da = nda;
  }
  for (int d = 0; d < 3; d++) {
    PetscCall(PetscFree(hist[d]));
    PetscCall(PetscFree(range[d]));
  }
  PetscFunctionReturn(0);
}
