/* Finite-volume operator on the voxel grid (see operator.h for the scheme). */
#include <math.h>
#include "oxvac/operator.h"
#include "oxvac/units.h"
#include "box.h"

/* -log_view events: the matrix-free apply (RHS and J v) and the preconditioner assembly. */
static PetscLogEvent OX_EVENT_APPLY, OX_EVENT_ASSEMBLE;

static inline PetscReal harmonic(PetscReal a, PetscReal b) { return (a + b > 0.0) ? 2.0 * a * b / (a + b) : 0.0; }

PetscErrorCode OxOperatorCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, OxOperator *op)
{
  Vec                labloc;
  const PetscScalar *lab, *dsp[3];
  PetscScalar       *solid;
  OxBox              b;
  PetscInt           nloc, nsolid_loc = 0;
  double             h, inv_h2, area_loc = 0.0;
  MPI_Comm           comm = PetscObjectComm((PetscObject)da);

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(op, sizeof(*op)));
  if (!OX_EVENT_APPLY) {
    PetscClassId cls;
    PetscCall(PetscClassIdRegister("oxvac operator", &cls));
    PetscCall(PetscLogEventRegister("OxOperatorApply", cls, &OX_EVENT_APPLY));
    PetscCall(PetscLogEventRegister("OxPrecAssemble", cls, &OX_EVENT_ASSEMBLE));
  }
  op->da          = da;
  op->h_m         = h = ms->voxel_m;
  op->site_mol_m3 = OxOxygenSitesMolPerM3();
  inv_h2          = 1.0 / (h * h);
  PetscCall(DMDAGetCorners(da, &op->xs, &op->ys, &op->zs, &op->xm, &op->ym, &op->zm));
  PetscCall(DMDAGetGhostCorners(da, &op->gxs, &op->gys, &op->gzs, &op->gxm, &op->gym, &op->gzm));
  b    = (OxBox){{ms->nx, ms->ny, ms->nz}, {op->gxs, op->gys, op->gzs}, {op->gxm, op->gym, op->gzm}};
  nloc = op->gxm * op->gym * op->gzm;

  PetscCall(DMCreateLocalVector(da, &labloc));
  PetscCall(DMGlobalToLocal(da, ms->labels, INSERT_VALUES, labloc));
  PetscCall(DMCreateGlobalVector(da, &op->solid));
  PetscCall(VecDuplicate(op->solid, &op->exchange_area));
  PetscCall(PetscObjectSetName((PetscObject)op->exchange_area, "exchange_area_m2"));
  PetscCall(VecDuplicate(op->solid, &op->accessibility));
  PetscCall(PetscObjectSetName((PetscObject)op->accessibility, "accessibility"));
  PetscCall(OxSurfaceCreate(cfg, da, ms, labloc, &op->surf, op->exchange_area, op->accessibility, &area_loc));
  PetscCall(VecGetArrayRead(labloc, &lab));
  for (int d = 0; d < 3; d++) PetscCall(VecGetArrayRead(op->surf.disp[d], &dsp[d]));

  /* Bulk and grain-boundary coefficients of the + face of every ghosted
   * voxel. Two-point fluxes between the points the unknowns stand for: a
   * layer column's voxel unknown lies deeper than the voxel centre. */
  for (int d = 0; d < 3; d++) PetscCall(PetscCalloc1(nloc, &op->w[d]));
  for (PetscInt k = b.gs[2]; k < b.gs[2] + b.gm[2]; k++)
    for (PetscInt j = b.gs[1]; j < b.gs[1] + b.gm[1]; j++)
      for (PetscInt i = b.gs[0]; i < b.gs[0] + b.gm[0]; i++) {
        PetscInt p[3] = {i, j, k}, a = OxBoxIndex(&b, i, j, k);
        PetscInt la;
        if (!OxBoxInDomain(&b, p)) continue;
        la = (PetscInt)PetscRealPart(lab[a]);
        if (la <= 0) continue;
        for (int d = 0; d < 3; d++) {
          PetscInt  q[3] = {i, j, k}, c, lc;
          PetscReal dist;
          q[d]++;
          if (!OxBoxInDomain(&b, q) || !OxBoxInGhost(&b, q)) continue;
          c  = OxBoxIndex(&b, q[0], q[1], q[2]);
          lc = (PetscInt)PetscRealPart(lab[c]);
          if (lc <= 0) continue;
          dist        = PetscMax(0.5 * h, h + PetscRealPart(dsp[d][c] - dsp[d][a]));
          op->w[d][a] = inv_h2 * (h / dist) * (lc == la ? ms->multiplier[la] : cfg->grain_boundary * harmonic(ms->multiplier[la], ms->multiplier[lc]));
        }
      }
  for (int d = 0; d < 3; d++) {
    PetscCall(VecRestoreArrayRead(op->surf.disp[d], &dsp[d]));
    PetscCall(VecDestroy(&op->surf.disp[d]));
  }

  /* The solid mask and the volume weights of the unknowns (in voxels). */
  PetscCall(VecGetArray(op->solid, &solid));
  {
    PetscInt o = 0;
    for (PetscInt k = op->zs; k < op->zs + op->zm; k++)
      for (PetscInt j = op->ys; j < op->ys + op->ym; j++)
        for (PetscInt i = op->xs; i < op->xs + op->xm; i++, o++) {
          solid[o] = PetscRealPart(lab[OxBoxIndex(&b, i, j, k)]) > 0.5 ? 1.0 : 0.0;
          nsolid_loc += solid[o] > 0.5;
        }
  }
  PetscCall(VecRestoreArray(op->solid, &solid));
  PetscCall(VecRestoreArrayRead(labloc, &lab));
  PetscCall(VecDestroy(&labloc));
  PetscCall(VecDuplicate(op->solid, &op->wvox));
  PetscCall(VecCopy(op->solid, op->wvox));
  PetscCall(OxSurfaceCreateLayerVec(&op->surf, comm, &op->wlay));
  {
    PetscScalar *wv, *wu = NULL;
    PetscCall(VecGetArray(op->wvox, &wv));
    if (op->wlay) PetscCall(VecGetArray(op->wlay, &wu));
    OxSurfaceWeights(&op->surf, wv, wu);
    if (op->wlay) PetscCall(VecRestoreArray(op->wlay, &wu));
    PetscCall(VecRestoreArray(op->wvox, &wv));
  }
  PetscCallMPI(MPI_Allreduce(&nsolid_loc, &op->nsolid, 1, MPIU_INT, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(&area_loc, &op->area_m2, 1, MPI_DOUBLE, MPI_SUM, comm));
  op->nlayer = op->surf.nlayer_global;
  PetscCall(DMCreateLocalVector(da, &op->cloc));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorDestroy(OxOperator *op)
{
  PetscFunctionBeginUser;
  for (int d = 0; d < 3; d++) PetscCall(PetscFree(op->w[d]));
  PetscCall(OxSurfaceDestroy(&op->surf));
  PetscCall(VecDestroy(&op->solid));
  PetscCall(VecDestroy(&op->wvox));
  PetscCall(VecDestroy(&op->wlay));
  PetscCall(VecDestroy(&op->rt));
  PetscCall(VecDestroy(&op->exchange_area));
  PetscCall(VecDestroy(&op->accessibility));
  PetscCall(VecDestroy(&op->cloc));
  PetscCall(MatDestroy(&op->P));
  PetscCall(MatDestroy(&op->L));
  PetscCall(VecDestroy(&op->shift));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorSetCycleAverage(OxOperator *op, const OxProtocol *prot, int g0, int g1, OxParams *avg)
{
  /* 8-point Gauss-Legendre on [-1, 1]: s(t) is smooth inside every segment. */
  static const double x8[8] = {-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
                               0.1834346424956498,  0.5255324099163290,  0.7966664774136267,  0.9602898564975363};
  static const double w8[8] = {0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
                               0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};
  double T = prot->seg[g1].t1_s - prot->seg[g0].t0_s, Dbar = 0.0, sbar = 0.0;

  PetscFunctionBeginUser;
  PetscCheck(T > 0.0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "a cycle of zero duration cannot be averaged");
  PetscCall(OxSurfaceAverageReset(&op->surf));
  for (int g = g0; g <= g1; g++) {
    const OxSegment *s  = &prot->seg[g];
    double           hw = 0.5 * (s->t1_s - s->t0_s);
    if (!(hw > 0.0)) continue;
    for (int q = 0; q < 8; q++) {
      OxParams prm;
      double   wt = w8[q] * hw / T;
      OxProtocolParams(prot, g, s->t0_s + hw * (1.0 + x8[q]), &prm);
      Dbar += wt * prm.D_m2_s;
      sbar += wt * prm.soc;
      OxSurfaceAverageAdd(&op->surf, &prm, wt);
    }
  }
  *avg = (OxParams){.soc = sbar, .D_m2_s = Dbar, .k_m_s = 0.0, .c_eq = 0.0, .averaged = 1};
  PetscFunctionReturn(0);
}

/* One x-row of the bulk apply. Separate pointers for the -face coefficients
 * and restrict let the compiler vectorise the loop. */
static inline void apply_row(PetscInt n, PetscReal D, const PetscScalar *restrict c, const PetscReal *restrict wxp, const PetscReal *restrict wyp,
                             const PetscReal *restrict wzp, const PetscReal *restrict wxm, const PetscReal *restrict wym,
                             const PetscReal *restrict wzm, PetscInt sy, PetscInt sz, PetscScalar *restrict f)
{
  for (PetscInt i = 0; i < n; i++) {
    PetscScalar c0 = c[i];
    f[i] = D * (wxp[i] * (c[i + 1] - c0) + wxm[i] * (c[i - 1] - c0) + wyp[i] * (c[i + sy] - c0) + wym[i] * (c[i - sy] - c0) +
                wzp[i] * (c[i + sz] - c0) + wzm[i] * (c[i - sz] - c0));
  }
}

PetscErrorCode OxOperatorApply(OxOperator *op, const OxParams *prm, Vec x, Vec u, Vec y, Vec yu, PetscBool with_source)
{
  const PetscScalar *c, *xo, *ua = NULL;
  PetscScalar       *f, *fu = NULL;
  const PetscReal   *wx = op->w[0], *wy = op->w[1], *wz = op->w[2];
  const PetscInt     sx = 1, sy = op->gxm, sz = op->gxm * op->gym;
  const PetscReal    D = prm->D_m2_s;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(OX_EVENT_APPLY, 0, 0, 0, 0));
  PetscCall(DMGlobalToLocalBegin(op->da, x, INSERT_VALUES, op->cloc));
  PetscCall(DMGlobalToLocalEnd(op->da, x, INSERT_VALUES, op->cloc));
  PetscCall(VecGetArrayRead(op->cloc, &c));
  PetscCall(VecGetArrayWrite(y, &f));
  for (PetscInt k = 0; k < op->zm; k++)
    for (PetscInt j = 0; j < op->ym; j++) {
      PetscInt       g0 = ((k + op->zs - op->gzs) * op->gym + (j + op->ys - op->gys)) * op->gxm + (op->xs - op->gxs);
      apply_row(op->xm, D, c + g0, wx + g0, wy + g0, wz + g0, wx + g0 - sx, wy + g0 - sy, wz + g0 - sz, sy, sz, f + (k * op->ym + j) * op->xm);
    }
  PetscCall(VecRestoreArrayRead(op->cloc, &c));
  PetscCall(VecGetArrayRead(x, &xo));
  if (u) {
    PetscCall(VecGetArrayRead(u, &ua));
    PetscCall(VecGetArrayWrite(yu, &fu));
  }
  OxSurfaceApply(&op->surf, prm, xo, ua, f, fu, with_source);
  if (u) {
    PetscCall(VecRestoreArrayWrite(yu, &fu));
    PetscCall(VecRestoreArrayRead(u, &ua));
  }
  PetscCall(VecRestoreArrayRead(x, &xo));
  PetscCall(VecRestoreArrayWrite(y, &f));
  PetscCall(PetscLogFlops(19.0 * op->xm * op->ym * op->zm + 6.0 * op->surf.nface + 12.0 * op->surf.nlayer));
  PetscCall(PetscLogEventEnd(OX_EVENT_APPLY, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorExchangeRate(OxOperator *op, const OxParams *prm, Vec x, Vec u, PetscReal *rate_m3_s)
{
  const PetscScalar *xo, *ua = NULL;
  PetscReal          loc, cond;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(x, &xo));
  if (u) PetscCall(VecGetArrayRead(u, &ua));
  OxSurfaceExchange(&op->surf, prm, xo, ua, &loc, &cond);
  if (u) PetscCall(VecRestoreArrayRead(u, &ua));
  PetscCall(VecRestoreArrayRead(x, &xo));
  PetscCallMPI(MPI_Allreduce(&loc, rate_m3_s, 1, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject)op->da)));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorExchangeConductance(OxOperator *op, const OxParams *prm, PetscReal *cond_m3_s)
{
  PetscReal loc, rate;

  PetscFunctionBeginUser;
  OxSurfaceExchange(&op->surf, prm, NULL, NULL, &rate, &loc);
  PetscCallMPI(MPI_Allreduce(&loc, cond_m3_s, 1, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject)op->da)));
  PetscFunctionReturn(0);
}

/* The bulk operator per unit diffusivity, L (off-diagonal w, diagonal -sum w),
 * assembled once: each preconditioner update is then a copy, a scale and a
 * diagonal shift instead of a fresh assembly. */
static PetscErrorCode assemble_bulk(OxOperator *op)
{
  PetscInt       n[3];
  const PetscInt sy = op->gxm, sz = op->gxm * op->gym;

  PetscFunctionBeginUser;
  PetscCall(DMCreateMatrix(op->da, &op->L));
  PetscCall(MatSetOption(op->L, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  PetscCall(DMDAGetInfo(op->da, NULL, &n[0], &n[1], &n[2], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  for (PetscInt k = op->zs; k < op->zs + op->zm; k++)
    for (PetscInt j = op->ys; j < op->ys + op->ym; j++)
      for (PetscInt i = op->xs; i < op->xs + op->xm; i++) {
        PetscInt    g     = ((k - op->gzs) * op->gym + (j - op->gys)) * op->gxm + (i - op->gxs);
        PetscReal   wn[6] = {op->w[0][g - 1], op->w[0][g], op->w[1][g - sy], op->w[1][g], op->w[2][g - sz], op->w[2][g]};
        MatStencil  row = {.k = k, .j = j, .i = i}, col[7];
        PetscScalar v[7], diag = 0.0;
        PetscInt    nc = 0;
        for (int d = 0; d < 3; d++)
          for (int s = 0; s < 2; s++) {
            PetscInt q[3] = {i, j, k};
            q[d] += s ? 1 : -1;
            if (q[d] < 0 || q[d] >= n[d]) continue; /* mirror plane */
            col[nc] = (MatStencil){.k = q[2], .j = q[1], .i = q[0]};
            v[nc++] = wn[2 * d + s];
            diag -= wn[2 * d + s];
          }
        col[nc] = row;
        v[nc++] = diag;
        PetscCall(MatSetValuesStencil(op->L, 1, &row, nc, col, v, INSERT_VALUES));
      }
  PetscCall(MatAssemblyBegin(op->L, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(op->L, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(op->L, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(MatDuplicate(op->L, MAT_COPY_VALUES, &op->P));
  PetscCall(MatCreateVecs(op->L, &op->shift, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorAssemblePrec(OxOperator *op, const OxParams *prm, PetscReal gamma)
{
  PetscScalar *sh;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(OX_EVENT_ASSEMBLE, 0, 0, 0, 0));
  if (!op->L) PetscCall(assemble_bulk(op));
  /* P = I - gamma J = -gamma D L + diag(shift): shift 1 plus the exchange
   * conductances, or on a layer column's voxel the exact Schur complement
   * of its column (rows of those voxels scaled by their volume / h^3). */
  PetscCall(MatCopy(op->L, op->P, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(op->P, -gamma * prm->D_m2_s));
  PetscCall(VecSet(op->shift, 1.0));
  PetscCall(VecGetArray(op->shift, &sh));
  PetscCall(OxSurfacePrecSetup(&op->surf, prm, gamma, sh));
  PetscCall(VecRestoreArray(op->shift, &sh));
  PetscCall(MatDiagonalSet(op->P, op->shift, ADD_VALUES));
  PetscCall(PetscLogEventEnd(OX_EVENT_ASSEMBLE, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorPrecApply(OxOperator *op, KSP ksp, Vec rc, Vec ru, Vec zc, Vec zu)
{
  const PetscScalar *r, *rl, *z;
  PetscScalar       *rt, *zl;

  PetscFunctionBeginUser;
  if (!ru) {
    PetscCall(KSPSolve(ksp, rc, zc));
    PetscFunctionReturn(0);
  }
  if (!op->rt) PetscCall(VecDuplicate(rc, &op->rt));
  PetscCall(VecCopy(rc, op->rt));
  PetscCall(VecGetArrayRead(rc, &r));
  PetscCall(VecGetArrayRead(ru, &rl));
  PetscCall(VecGetArray(op->rt, &rt));
  PetscCall(VecGetArrayWrite(zu, &zl));
  OxSurfacePrecReduce(&op->surf, r, rl, rt, zl);
  PetscCall(VecRestoreArray(op->rt, &rt));
  PetscCall(VecRestoreArrayRead(ru, &rl));
  PetscCall(VecRestoreArrayRead(rc, &r));
  PetscCall(KSPSolve(ksp, op->rt, zc));
  PetscCall(VecGetArrayRead(zc, &z));
  OxSurfacePrecExpand(&op->surf, z, zl);
  PetscCall(VecRestoreArrayRead(zc, &z));
  PetscCall(VecRestoreArrayWrite(zu, &zl));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorVoxelMean(OxOperator *op, Vec c, Vec u, Vec cbar)
{
  const PetscScalar *ca, *ua;
  PetscScalar       *b;

  PetscFunctionBeginUser;
  PetscCall(VecCopy(c, cbar));
  if (!u) PetscFunctionReturn(0);
  PetscCall(VecGetArrayRead(c, &ca));
  PetscCall(VecGetArrayRead(u, &ua));
  PetscCall(VecGetArray(cbar, &b));
  OxSurfaceVoxelMean(&op->surf, ca, ua, b);
  PetscCall(VecRestoreArray(cbar, &b));
  PetscCall(VecRestoreArrayRead(u, &ua));
  PetscCall(VecRestoreArrayRead(c, &ca));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorInventory(OxOperator *op, Vec c, Vec u, PetscReal *voxels)
{
  PetscScalar a, b = 0.0;

  PetscFunctionBeginUser;
  PetscCall(VecDot(c, op->wvox, &a));
  if (u) PetscCall(VecDot(u, op->wlay, &b));
  *voxels = PetscRealPart(a + b);
  PetscFunctionReturn(0);
}
