/*
 * Benchmark driver: the same discretised problem as `oxvac run CONFIG`
 * (same config, microstructure and operator), integrated or applied in other
 * ways, so that bench/run_bench.sh can put numbers side by side.
 *
 *   bench_solvers ts CONFIG [PETSc options]      PETSc TS (-ts_type bdf, -ts_bdf_order q)
 *       integrates the config's first protocol step (constant parameters);
 *       prints wall time and steps, writes the final field to -out FILE (PETSc binary)
 *   bench_solvers apply CONFIG [-n N]            N matrix-free applies vs a STREAM
 *       triad and vs the assembled AIJ MatMult, on vectors of the same size
 *   bench_solvers export CONFIG -out PREFIX      J (AIJ), source b, for scipy:
 *       dc/dt = J c + b on the first protocol step (PETSc binary files)
 */
#include <string.h>
#include <petscts.h>
#include <petscviewer.h>
#include "oxvac/config.h"
#include "oxvac/model.h"
#include "oxvac/protocol.h"

typedef struct {
  OxModel  *m;
  OxParams  prm;
} Ctx;

static PetscErrorCode rhs(TS ts, PetscReal t, Vec x, Vec f, void *ctx)
{
  Ctx *c = (Ctx *)ctx;
  (void)ts, (void)t;
  return OxOperatorApply(&c->m->op, &c->prm, x, NULL, f, NULL, PETSC_TRUE);
}

/* J = P(gamma = -1) - I, the operator's Jacobian as an assembled matrix. */
static PetscErrorCode assemble_jacobian(Ctx *c, Mat J)
{
  PetscFunctionBeginUser;
  PetscCall(OxOperatorAssemblePrec(&c->m->op, &c->prm, -1.0));
  PetscCall(MatCopy(c->m->op.P, J, SAME_NONZERO_PATTERN));
  PetscCall(MatShift(J, -1.0));
  PetscFunctionReturn(0);
}

/* TS shifts and scales the RHS Jacobian in place, so it is rebuilt on every call (an assembly, a copy, a shift). */
static PetscErrorCode rhsjac(TS ts, PetscReal t, Vec x, Mat A, Mat B, void *ctx)
{
  (void)ts, (void)t, (void)x, (void)A;
  return assemble_jacobian((Ctx *)ctx, B);
}

static PetscErrorCode run_ts(Ctx *c, double t1)
{
  TS             ts;
  Mat            J;
  PetscLogDouble w0, w1;
  PetscInt       steps;
  char           out[PETSC_MAX_PATH_LEN] = "";
  PetscBool      has;
  PetscScalar    sum;

  PetscFunctionBeginUser;
  PetscCall(MatDuplicate(c->m->op.P, MAT_DO_NOT_COPY_VALUES, &J));
  PetscCall(TSCreate(PETSC_COMM_WORLD, &ts));
  PetscCall(TSSetProblemType(ts, TS_LINEAR));
  PetscCall(TSSetType(ts, TSBDF));
  PetscCall(TSSetRHSFunction(ts, NULL, rhs, c));
  PetscCall(TSSetRHSJacobian(ts, J, J, rhsjac, c));
  PetscCall(TSSetMaxTime(ts, t1));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTimeStep(ts, t1 * 1e-8));
  PetscCall(TSSetMaxSteps(ts, 10000000));
  PetscCall(TSSetFromOptions(ts));
  PetscCall(PetscTime(&w0));
  PetscCall(TSSolve(ts, c->m->c));
  PetscCall(PetscTime(&w1));
  PetscCall(TSGetStepNumber(ts, &steps));
  PetscCall(VecSum(c->m->c, &sum));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "ts: wall %.3f s, %" PetscInt_FMT " steps, vacancy_mean %.12e\n", (double)(w1 - w0), steps,
                        (double)PetscRealPart(sum) / (double)c->m->op.nsolid));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-out", out, sizeof(out), &has));
  if (has) {
    PetscViewer v;
    Vec         box;
    PetscCall(OxOperatorBoxVec(&c->m->op, c->m->c, &box)); /* the box field, as oxvac writes it */
    PetscCall(PetscViewerBinaryOpen(PETSC_COMM_WORLD, out, FILE_MODE_WRITE, &v));
    PetscCall(VecView(box, v));
    PetscCall(PetscViewerDestroy(&v));
    PetscCall(VecDestroy(&box));
  }
  PetscCall(TSDestroy(&ts));
  PetscCall(MatDestroy(&J));
  PetscFunctionReturn(0);
}

/* Matrix-free apply against a STREAM triad (a = b + s c) and AIJ MatMult, same vector size. */
static PetscErrorCode run_apply(Ctx *c)
{
  PetscInt       n = 50, nloc;
  Vec            y;
  Mat            J;
  PetscLogDouble w0, w1, t_apply, t_triad, t_mat;
  double         ncell;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &n, NULL));
  PetscCall(VecDuplicate(c->m->c, &y));
  PetscCall(VecSetRandom(c->m->c, NULL));
  PetscCall(VecGetLocalSize(y, &nloc));
  ncell = (double)c->m->ms.nx * c->m->ms.ny * c->m->ms.nz;
  PetscCall(OxOperatorApply(&c->m->op, &c->prm, c->m->c, NULL, y, NULL, PETSC_TRUE)); /* warm up */
  {
    /* Batches of applies and of a STREAM triad (a = b + s c, arrays of at
     * least 2^25 doubles, beyond any cache) taken in turn, the fastest batch
     * of each kept: on a shared machine both then see the same quiet spells. */
    const int    batches = 5;
    PetscInt     per = PetscMax(1, n / batches), nt = PetscMax(4 * nloc, 1 << 25), reps = PetscMax(1, per * nloc / nt);
    PetscScalar *pa, *pb, *pc;
    PetscCall(PetscMalloc3(nt, &pa, nt, &pb, nt, &pc));
    for (PetscInt i = 0; i < nt; i++) pa[i] = 0.0, pb[i] = 1.0, pc[i] = 2.0;
    t_apply = t_triad = 1e300;
    for (int bt = 0; bt < batches; bt++) {
      PetscCall(PetscTime(&w0));
      for (PetscInt i = 0; i < per; i++) PetscCall(OxOperatorApply(&c->m->op, &c->prm, c->m->c, NULL, y, NULL, PETSC_TRUE));
      PetscCall(PetscTime(&w1));
      t_apply = PetscMin(t_apply, (w1 - w0) / per);
      PetscCall(PetscTime(&w0));
      for (PetscInt r = 0; r < reps; r++)
        for (PetscInt i = 0; i < nt; i++) pa[i] = pb[i] + 3.0 * pc[i];
      PetscCall(PetscTime(&w1));
      t_triad = PetscMin(t_triad, (w1 - w0) / reps * ((double)nloc / nt) + 0.0 * pa[nt / 2]); /* per nloc elements */
    }
    PetscCall(PetscFree3(pa, pb, pc));
  }
  PetscCall(MatDuplicate(c->m->op.P, MAT_DO_NOT_COPY_VALUES, &J));
  PetscCall(assemble_jacobian(c, J));
  PetscCall(MatMult(J, c->m->c, y));
  PetscCall(PetscTime(&w0));
  for (PetscInt i = 0; i < n; i++) PetscCall(MatMult(J, c->m->c, y));
  PetscCall(PetscTime(&w1));
  t_mat = (w1 - w0) / n;
  /* bytes moved per apply (one rank): the copy into the ghosted array (read
   * x, write cloc: 16 B per solid voxel), the stencil (c, wx, wy, wz read, f
   * written: 40 B per solid voxel), the int map of the owned box (4 B per
   * voxel), and the surface layer: per cell u, volume and conductance read
   * and its rate written (32 B), per column its record (cell, offset,
   * conductance, volume: 32 B) and its voxel's x read and f read and written
   * (24 B); the triad moves 24 B per element */
  {
    const OxSurface *sf = &c->m->op.surf;
    double nsol = (double)c->m->op.nsolid, bytes = 56.0 * nsol + 4.0 * ncell + 32.0 * sf->nlayer + 56.0 * sf->ncol;
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "apply: %.0f solid of %.0f voxels, %.0f layer cells, matrix-free %.3f ms (%.2f GB/s at %.1f B/solid voxel), triad %.3f ms (%.2f GB/s), AIJ MatMult %.3f ms; "
                          "apply/triad bandwidth %.2f, AIJ/apply time %.2f\n",
                          nsol, ncell, (double)sf->nlayer, 1e3 * t_apply, bytes / t_apply * 1e-9, bytes / nsol, 1e3 * t_triad, 24.0 * nsol / t_triad * 1e-9, 1e3 * t_mat,
                          (bytes / t_apply) / (24.0 * nsol / t_triad), t_mat / t_apply));
  }
  PetscCall(MatDestroy(&J));
  PetscCall(VecDestroy(&y));
  PetscFunctionReturn(0);
}

static PetscErrorCode run_export(Ctx *c)
{
  char        prefix[PETSC_MAX_PATH_LEN] = "bench_export", path[PETSC_MAX_PATH_LEN + 16];
  PetscViewer v;
  Mat         J;
  Vec         b, zero;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-out", prefix, sizeof(prefix), NULL));
  PetscCall(MatDuplicate(c->m->op.P, MAT_DO_NOT_COPY_VALUES, &J));
  PetscCall(assemble_jacobian(c, J));
  PetscCall(VecDuplicate(c->m->c, &b));
  PetscCall(VecDuplicate(c->m->c, &zero));
  PetscCall(VecZeroEntries(zero));
  PetscCall(OxOperatorApply(&c->m->op, &c->prm, zero, NULL, b, NULL, PETSC_TRUE)); /* f(0) = b */
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s.J", prefix));
  PetscCall(PetscViewerBinaryOpen(PETSC_COMM_WORLD, path, FILE_MODE_WRITE, &v));
  PetscCall(MatView(J, v));
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s.b", prefix));
  PetscCall(PetscViewerBinaryOpen(PETSC_COMM_WORLD, path, FILE_MODE_WRITE, &v));
  PetscCall(VecView(b, v));
  {
    /* where each unknown lies in the box: its natural index i + nx (j + ny k) */
    Vec          pos, box;
    PetscScalar *ba;
    PetscInt     o = 0, xs, ys, zs, xm, ym, zm;
    PetscCall(DMCreateGlobalVector(c->m->da, &box));
    PetscCall(DMDAGetCorners(c->m->da, &xs, &ys, &zs, &xm, &ym, &zm));
    PetscCall(VecGetArray(box, &ba));
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++)
        for (PetscInt i = xs; i < xs + xm; i++) ba[o++] = (PetscScalar)(i + c->m->ms.nx * (j + c->m->ms.ny * k));
    PetscCall(VecRestoreArray(box, &ba));
    PetscCall(VecDuplicate(b, &pos));
    PetscCall(OxOperatorFromBox(&c->m->op, box, pos));
    PetscCall(VecView(pos, v));
    PetscCall(VecDestroy(&pos));
    PetscCall(VecDestroy(&box));
  }
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(MatDestroy(&J));
  PetscCall(VecDestroy(&b));
  PetscCall(VecDestroy(&zero));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  OxConfig   cfg;
  OxProtocol prot;
  OxModel    m;
  Ctx        c;
  char       err[OX_ERR_MAX];

  if (argc < 3) {
    fprintf(stderr, "usage: bench_solvers ts|apply|export CONFIG [options]\n");
    return 2;
  }
  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  if (OxConfigLoad(argv[2], 0, NULL, &cfg, err, sizeof(err)) || OxMicrostructureResolveGrid(&cfg, err, sizeof(err)) ||
      OxProtocolCreate(&cfg, &prot, err, sizeof(err))) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  cfg.layer_cells = 0; /* the solver comparisons use the voxel operator alone (one assembled Jacobian) */
  PetscCall(OxModelCreate(&cfg, &m));
  c.m = &m;
  OxProtocolParams(&prot, 0, prot.seg[0].t0_s, &c.prm);
  PetscCall(OxOperatorAssemblePrec(&m.op, &c.prm, -1.0)); /* builds op.P, the pattern every matrix here copies */
  if (!strcmp(argv[1], "ts")) PetscCall(run_ts(&c, prot.seg[0].t1_s));
  else if (!strcmp(argv[1], "apply")) PetscCall(run_apply(&c));
  else PetscCall(run_export(&c));
  PetscCall(OxModelDestroy(&m));
  PetscCall(PetscFinalize());
  OxProtocolDestroy(&prot);
  OxConfigFree(&cfg);
  return 0;
}
