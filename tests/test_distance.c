/**
 * @file test_distance.c
 * @brief The distance transform (distance.h) and the flood fill (flood.h)
 *        against brute force on small random masks.
 *
 * Distances: 1D, 2D and 3D masks of random size and feature density (none,
 * one, sparse, dense features), double and float storage, checked for exact
 * equality with the minimum over all feature points of the squared distance;
 * without a feature every point stays OX_DISTANCE_FAR. Flood: the components
 * of random masks against a label propagation to a fixed point renumbered by
 * first voxel, and a multi-seed OxFloodSpread against the voxels that
 * repeated relaxation reaches. Silent on success (exit 0); prints each
 * failure and exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <petscsys.h>
#include "oxvac/distance.h"
#include "oxvac/flood.h"
#include "check.h"

static uint64_t rng = 0x0dd5eed5ULL;

static unsigned urand(unsigned n)
{
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
  return (unsigned)(rng % n);
}

/* Coordinates of point o of an array of sizes n[0..ndim-1], x fastest. */
static void coords(PetscInt o, int ndim, const PetscInt n[], PetscInt x[3])
{
  for (int a = 0; a < 3; a++) x[a] = 0;
  for (int a = 0; a < ndim; a++) x[a] = o % n[a], o /= n[a];
}

/* One random mask: the transform in double and in float against brute force. */
static PetscErrorCode check_distance(int ndim, const PetscInt n[], unsigned permille, int trial)
{
  PetscInt N = 1, nfeat = 0;
  double  *f;
  float   *g;
  char    *feat;

  PetscFunctionBeginUser;
  for (int a = 0; a < ndim; a++) N *= n[a];
  PetscCall(PetscMalloc3(N, &f, N, &g, N, &feat));
  for (PetscInt o = 0; o < N; o++) {
    feat[o] = urand(1000) < permille;
    nfeat += feat[o];
    f[o] = feat[o] ? 0.0 : OX_DISTANCE_FAR;
    g[o] = feat[o] ? 0.0f : (float)OX_DISTANCE_FAR;
  }
  PetscCall(OxDistanceSquared(ndim, n, f));
  PetscCall(OxDistanceSquaredFloat(ndim, n, g));
  for (PetscInt o = 0; o < N; o++) {
    PetscInt x[3], y[3];
    double   best = OX_DISTANCE_FAR;
    coords(o, ndim, n, x);
    for (PetscInt p = 0; p < N; p++) {
      double s = 0.0;
      if (!feat[p]) continue;
      coords(p, ndim, n, y);
      for (int a = 0; a < 3; a++) s += (double)(x[a] - y[a]) * (x[a] - y[a]);
      if (s < best) best = s;
    }
    CHECK(f[o] == best, "%dD trial %d (%" PetscInt_FMT " features): double distance^2 %.17g at %" PetscInt_FMT ", brute force %.17g", ndim, trial, nfeat, f[o], o, best);
    if (nfeat) CHECK((double)g[o] == best, "%dD trial %d: float distance^2 %.9g at %" PetscInt_FMT ", brute force %.17g", ndim, trial, (double)g[o], o, best);
    else CHECK(g[o] == (float)OX_DISTANCE_FAR, "%dD trial %d: no feature but float distance^2 %.9g at %" PetscInt_FMT, ndim, trial, (double)g[o], o);
  }
  PetscCall(PetscFree3(f, g, feat));
  PetscFunctionReturn(0);
}

/* Face neighbours of v inside the grid n; returns how many. */
static int neighbours(const PetscInt n[3], PetscInt v, PetscInt nb[6])
{
  PetscInt x[3], m = 0, step[3] = {1, n[0], n[0] * n[1]};
  coords(v, 3, n, x);
  for (int a = 0; a < 3; a++) {
    if (x[a] > 0) nb[m++] = v - step[a];
    if (x[a] < n[a] - 1) nb[m++] = v + step[a];
  }
  return (int)m;
}

/* One random mask: components, and a flood from random seeds, against brute force. */
static PetscErrorCode check_flood(const PetscInt n[3], unsigned permille, int trial)
{
  PetscInt N = n[0] * n[1] * n[2], ncomp, nref = 0, nreached, nref_reached = 0;
  int     *mark, *ref, *renum, *open;
  OxFlood  fl;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(N, &mark, N, &ref, N + 1, &renum, N, &open));
  /* Components: mark -1 on the mask, 0 off it. Reference: every mask voxel
   * starts with its own index + 1 and takes the smallest of its neighbours'
   * until nothing changes; then numbered by first appearance. */
  for (PetscInt v = 0; v < N; v++) {
    mark[v] = urand(1000) < permille ? -1 : 0;
    ref[v]  = mark[v] ? (int)v + 1 : 0;
  }
  for (int changed = 1; changed;) {
    changed = 0;
    for (PetscInt v = 0; v < N; v++) {
      PetscInt nb[6];
      int      m = neighbours(n, v, nb);
      if (!ref[v]) continue;
      for (int q = 0; q < m; q++)
        if (ref[nb[q]] && ref[nb[q]] < ref[v]) ref[v] = ref[nb[q]], changed = 1;
    }
  }
  for (PetscInt v = 0; v <= N; v++) renum[v] = 0;
  for (PetscInt v = 0; v < N; v++)
    if (ref[v] && !renum[ref[v]]) renum[ref[v]] = (int)++nref;
  PetscCall(OxFloodComponents(n, mark, -1, &ncomp));
  CHECK(ncomp == nref, "flood trial %d: %" PetscInt_FMT " components, brute force %" PetscInt_FMT, trial, ncomp, nref);
  for (PetscInt v = 0; v < N; v++) {
    int want = ref[v] ? renum[ref[v]] : 0;
    CHECK(mark[v] == want, "flood trial %d: voxel %" PetscInt_FMT " in component %d, brute force %d", trial, v, mark[v], want);
  }
  /* Spread from a few random seeds through the mask (-1), marking 1. */
  PetscCall(OxFloodCreate(n, &fl));
  for (PetscInt v = 0; v < N; v++) open[v] = mark[v] = ref[v] ? -1 : 0;
  for (int s = 0; s < 3; s++) {
    PetscInt v = (PetscInt)urand((unsigned)N);
    if (mark[v] == -1 || mark[v] == 1) OxFloodSeed(&fl, mark, v, 1), open[v] = 1;
  }
  nreached = OxFloodSpread(&fl, mark, -1, 1);
  for (int changed = 1; changed;) {
    changed = 0;
    for (PetscInt v = 0; v < N; v++) {
      PetscInt nb[6];
      int      m = neighbours(n, v, nb);
      if (open[v] != -1) continue;
      for (int q = 0; q < m; q++)
        if (open[nb[q]] == 1) open[v] = 1, changed = 1;
    }
  }
  for (PetscInt v = 0; v < N; v++) {
    nref_reached += open[v] == 1;
    CHECK(mark[v] == open[v], "spread trial %d: voxel %" PetscInt_FMT " marked %d, brute force %d", trial, v, mark[v], open[v]);
  }
  CHECK(nreached == nref_reached, "spread trial %d: %" PetscInt_FMT " voxels reached, brute force %" PetscInt_FMT, trial, nreached, nref_reached);
  CHECK(fl.len == 0, "spread trial %d: %" PetscInt_FMT " voxels left queued", trial, fl.len);
  PetscCall(OxFloodDestroy(&fl));
  PetscCall(PetscFree4(mark, ref, renum, open));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  static const unsigned density[] = {0, 1, 20, 150, 600, 1000}; /* features (voxels in the mask) per 1000 */

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  for (int t = 0; t < 120; t++) {
    int      ndim = 1 + t % 3;
    PetscInt n[3] = {1, 1, 1};
    for (int a = 0; a < ndim; a++) n[a] = 1 + (PetscInt)urand(ndim == 3 ? 9 : 17);
    PetscCall(check_distance(ndim, n, density[(t / 3) % 6], t));
  }
  {
    PetscInt one[3] = {5, 4, 3}; /* a single feature: distances to one point */
    double   f[60];
    for (int o = 0; o < 60; o++) f[o] = o == 37 ? 0.0 : OX_DISTANCE_FAR;
    PetscCall(OxDistanceSquared(3, one, f));
    CHECK(f[0] == 2 * 2 + 3 * 3 + 1 * 1, "distance^2 from (0,0,0) to (2,3,1) is %g, expected 14", f[0]);
  }
  for (int t = 0; t < 60; t++) {
    PetscInt n[3] = {1 + (PetscInt)urand(9), 1 + (PetscInt)urand(9), 1 + (PetscInt)urand(9)};
    PetscCall(check_flood(n, 300 + 100 * (t % 6), t));
  }
  PetscCall(PetscFinalize());
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
