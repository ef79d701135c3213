/* Finite-volume operator on the voxel grid (see operator.h for the scheme). */
#include <math.h>
#include "oxvac/operator.h"
#include "oxvac/units.h"
#include "box.h"

/* -log_view events: the matrix-free apply (RHS and J v) and the preconditioner assembly. */
static PetscLogEvent OX_EVENT_APPLY, OX_EVENT_ASSEMBLE;

/* Every owned solid voxel m in voxel-vector order (the owned box in the
 * order that numbered them), with its owned-box offset o and ghosted-box index g. */
#define OX_FOR_OWNED_SOLID(op, o, g, m) \
  for (PetscInt k_ = 0, o = 0; k_ < (op)->zm; k_++) \
    for (PetscInt j_ = 0, g = 0; j_ < (op)->ym; j_++) \
      for (PetscInt i_ = (g = ((k_ + (op)->zs - (op)->gzs) * (op)->gym + (j_ + (op)->ys - (op)->gys)) * (op)->gxm + ((op)->xs - (op)->gxs), 0); \
           i_ < (op)->xm; i_++, o++, g++) \
        for (PetscInt m = (op)->map[g], once_ = 1; once_ && m < (op)->nloc; once_ = 0)

static inline PetscReal harmonic(PetscReal a, PetscReal b) { return (a + b > 0.0) ? 2.0 * a * b / (a + b) : 0.0; }

/* Number the owned solid voxels (box order) and find the ghosts: the solid
 * voxels of other ranks in the ghosted box (face neighbours of owned ones). */
static PetscErrorCode number_voxels(OxOperator *op, const OxBox *b, const PetscScalar *lab)
{
  MPI_Comm     comm = PetscObjectComm((PetscObject)op->da);
  PetscInt     nbox = b->gm[0] * b->gm[1] * b->gm[2], ng = 0, slot;
  Vec          gid, gidloc;
  PetscScalar *ga;
  const PetscScalar *gl;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(nbox, &op->map));
  for (PetscInt a = 0; a < nbox; a++) op->map[a] = -1;
  op->nloc = 0;
  for (PetscInt k = op->zs; k < op->zs + op->zm; k++)
    for (PetscInt j = op->ys; j < op->ys + op->ym; j++)
      for (PetscInt i = op->xs; i < op->xs + op->xm; i++) {
        PetscInt a = OxBoxIndex(b, i, j, k);
        if (PetscRealPart(lab[a]) > 0.5) op->map[a] = op->nloc++;
      }
  PetscCallMPI(MPI_Scan(&op->nloc, &op->rstart, 1, MPIU_INT, MPI_SUM, comm));
  op->rstart -= op->nloc;
  /* Global indices over the box, exchanged once to find the ghosts. */
  PetscCall(DMCreateGlobalVector(op->da, &gid));
  PetscCall(DMCreateLocalVector(op->da, &gidloc));
  PetscCall(VecGetArray(gid, &ga));
  {
    PetscInt o = 0;
    for (PetscInt k = op->zs; k < op->zs + op->zm; k++)
      for (PetscInt j = op->ys; j < op->ys + op->ym; j++)
        for (PetscInt i = op->xs; i < op->xs + op->xm; i++, o++) {
          PetscInt m = op->map[OxBoxIndex(b, i, j, k)];
          ga[o]      = m >= 0 ? (PetscScalar)(op->rstart + m) : -1.0;
        }
  }
  PetscCall(VecRestoreArray(gid, &ga));
  PetscCall(VecSet(gidloc, -1.0)); /* ghost corners (star stencil) and beyond the domain stay -1 */
  PetscCall(DMGlobalToLocal(op->da, gid, INSERT_VALUES, gidloc));
  PetscCall(VecDestroy(&gid));
  PetscCall(VecGetArrayRead(gidloc, &gl));
  for (int pass = 0; pass < 2; pass++) {
    slot = op->nloc;
    for (PetscInt k = b->gs[2]; k < b->gs[2] + b->gm[2]; k++)
      for (PetscInt j = b->gs[1]; j < b->gs[1] + b->gm[1]; j++)
        for (PetscInt i = b->gs[0]; i < b->gs[0] + b->gm[0]; i++) {
          PetscInt a = OxBoxIndex(b, i, j, k);
          if (i >= op->xs && i < op->xs + op->xm && j >= op->ys && j < op->ys + op->ym && k >= op->zs && k < op->zs + op->zm) continue;
          if (PetscRealPart(gl[a]) < 0.0) continue;
          if (pass) {
            op->gghost[slot - op->nloc] = (PetscInt)PetscRealPart(gl[a]);
            op->map[a]                  = slot;
          }
          slot++;
        }
    if (!pass) {
      ng = slot - op->nloc;
      PetscCall(PetscMalloc1(ng + 1, &op->gghost));
    }
  }
  PetscCall(VecRestoreArrayRead(gidloc, &gl));
  PetscCall(VecDestroy(&gidloc));
  op->nghost = ng;
  for (PetscInt a = 0; a < nbox; a++)
    if (op->map[a] < 0) op->map[a] = op->nloc + ng; /* the zero slot */
  PetscFunctionReturn(0);
}

/* The scratch cloc and the scatter that fills its ghost slots. */
static PetscErrorCode create_ghost_scatter(OxOperator *op)
{
  IS       from, to;
  PetscInt ng_global;

  PetscFunctionBeginUser;
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, op->nloc + op->nghost + 1, &op->cloc));
  PetscCall(VecZeroEntries(op->cloc));
  PetscCallMPI(MPI_Allreduce(&op->nghost, &ng_global, 1, MPIU_INT, MPI_SUM, PetscObjectComm((PetscObject)op->da)));
  if (!ng_global) PetscFunctionReturn(0);
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, op->nghost, op->gghost, PETSC_USE_POINTER, &from));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, op->nghost, op->nloc, 1, &to));
  PetscCall(VecScatterCreate(op->wvox, from, op->cloc, to, &op->gscatter));
  PetscCall(ISDestroy(&from));
  PetscCall(ISDestroy(&to));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorCreateVoxelVec(const OxOperator *op, Vec *c)
{
  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(PetscObjectComm((PetscObject)op->da), op->nloc, op->nsolid, c));
  PetscCall(VecZeroEntries(*c));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorToBox(const OxOperator *op, Vec c, Vec box)
{
  const PetscScalar *ca;
  PetscScalar       *ba;

  PetscFunctionBeginUser;
  PetscCall(VecZeroEntries(box));
  PetscCall(VecGetArrayRead(c, &ca));
  PetscCall(VecGetArray(box, &ba));
  OX_FOR_OWNED_SOLID(op, o, g, m) ba[o] = ca[m];
  PetscCall(VecRestoreArray(box, &ba));
  PetscCall(VecRestoreArrayRead(c, &ca));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorBoxVec(const OxOperator *op, Vec c, Vec *box)
{
  const char *name;

  PetscFunctionBeginUser;
  PetscCall(DMCreateGlobalVector(op->da, box));
  PetscCall(PetscObjectGetName((PetscObject)c, &name));
  PetscCall(PetscObjectSetName((PetscObject)*box, name));
  PetscCall(OxOperatorToBox(op, c, *box));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorNaturalIndices(const OxOperator *op, PetscInt *nat)
{
  PetscInt nx, ny;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(op->da, NULL, &nx, &ny, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  OX_FOR_OWNED_SOLID(op, o, g, m)
  {
    PetscInt i = op->xs + o % op->xm, j = op->ys + (o / op->xm) % op->ym, k = op->zs + o / (op->xm * op->ym);
    nat[m] = i + nx * (j + ny * k);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorFromBox(const OxOperator *op, Vec box, Vec c)
{
  const PetscScalar *ba;
  PetscScalar       *ca;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(box, &ba));
  PetscCall(VecGetArray(c, &ca));
  OX_FOR_OWNED_SOLID(op, o, g, m) ca[m] = ba[o];
  PetscCall(VecRestoreArray(c, &ca));
  PetscCall(VecRestoreArrayRead(box, &ba));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, OxOperator *op)
{
  Vec                labloc, area_box, access_box;
  const PetscScalar *lab, *dsp[3];
  OxBox              b;
  PetscInt           nslot;
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
  b = (OxBox){{ms->nx, ms->ny, ms->nz}, {op->gxs, op->gys, op->gzs}, {op->gxm, op->gym, op->gzm}};

  PetscCall(DMCreateLocalVector(da, &labloc));
  PetscCall(DMGlobalToLocal(da, ms->labels, INSERT_VALUES, labloc));
  PetscCall(VecGetArrayRead(labloc, &lab));
  PetscCall(number_voxels(op, &b, lab));
  PetscCallMPI(MPI_Allreduce(&op->nloc, &op->nsolid, 1, MPIU_INT, MPI_SUM, comm));
  PetscCall(VecRestoreArrayRead(labloc, &lab));

  /* Exchange faces and layer columns are found on the box, then renumbered. */
  PetscCall(DMCreateGlobalVector(da, &area_box));
  PetscCall(VecDuplicate(area_box, &access_box));
  PetscCall(OxSurfaceCreate(cfg, da, ms, labloc, &op->surf, area_box, access_box, &area_loc));
  {
    PetscInt *to;
    PetscCall(PetscMalloc1(op->xm * op->ym * op->zm + 1, &to));
    OX_FOR_OWNED_SOLID(op, o, g, m) to[o] = m;
    OxSurfaceRemapCells(&op->surf, to);
    PetscCall(PetscFree(to));
  }
  PetscCall(OxOperatorCreateVoxelVec(op, &op->exchange_area));
  PetscCall(PetscObjectSetName((PetscObject)op->exchange_area, "exchange_area_m2"));
  PetscCall(VecDuplicate(op->exchange_area, &op->accessibility));
  PetscCall(PetscObjectSetName((PetscObject)op->accessibility, "accessibility"));
  PetscCall(OxOperatorFromBox(op, area_box, op->exchange_area));
  PetscCall(OxOperatorFromBox(op, access_box, op->accessibility));
  PetscCall(VecDestroy(&area_box));
  PetscCall(VecDestroy(&access_box));

  /* Bulk and grain-boundary coefficients of the + face of every owned and
   * ghost solid voxel. Two-point fluxes between the points the unknowns
   * stand for: a layer column's voxel unknown lies deeper than the voxel centre. */
  nslot = op->nloc + op->nghost + 1;
  for (int d = 0; d < 3; d++) PetscCall(PetscCalloc1(nslot, &op->w[d]));
  PetscCall(VecGetArrayRead(labloc, &lab));
  for (int d = 0; d < 3; d++) PetscCall(VecGetArrayRead(op->surf.disp[d], &dsp[d]));
  for (PetscInt k = b.gs[2]; k < b.gs[2] + b.gm[2]; k++)
    for (PetscInt j = b.gs[1]; j < b.gs[1] + b.gm[1]; j++)
      for (PetscInt i = b.gs[0]; i < b.gs[0] + b.gm[0]; i++) {
        PetscInt a = OxBoxIndex(&b, i, j, k), sa = op->map[a];
        PetscInt la;
        if (sa == nslot - 1) continue; /* electrolyte, beyond the domain or not a ghost */
        la = (PetscInt)PetscRealPart(lab[a]);
        for (int d = 0; d < 3; d++) {
          PetscInt  q[3] = {i, j, k}, c, lc;
          PetscReal dist;
          q[d]++;
          if (!OxBoxInDomain(&b, q) || !OxBoxInGhost(&b, q)) continue;
          c = OxBoxIndex(&b, q[0], q[1], q[2]);
          if (op->map[c] == nslot - 1) continue;
          lc               = (PetscInt)PetscRealPart(lab[c]);
          dist             = PetscMax(0.5 * h, h + PetscRealPart(dsp[d][c] - dsp[d][a]));
          op->w[d][sa]     = inv_h2 * (h / dist) * (lc == la ? ms->multiplier[la] : cfg->grain_boundary * harmonic(ms->multiplier[la], ms->multiplier[lc]));
        }
      }
  for (int d = 0; d < 3; d++) {
    PetscCall(VecRestoreArrayRead(op->surf.disp[d], &dsp[d]));
    PetscCall(VecDestroy(&op->surf.disp[d]));
  }
  PetscCall(VecRestoreArrayRead(labloc, &lab));
  PetscCall(VecDestroy(&labloc));

  /* The volume weights of the unknowns (in voxels). */
  PetscCall(OxOperatorCreateVoxelVec(op, &op->wvox));
  PetscCall(VecSet(op->wvox, 1.0));
  {
    PetscScalar *wv;
    PetscCall(VecGetArray(op->wvox, &wv));
    OxSurfaceWeights(&op->surf, wv);
    PetscCall(VecRestoreArray(op->wvox, &wv));
  }
  PetscCallMPI(MPI_Allreduce(&area_loc, &op->area_m2, 1, MPI_DOUBLE, MPI_SUM, comm));
  op->nlayer = op->surf.nlayer_global;
  PetscCall(create_ghost_scatter(op));
  PetscFunctionReturn(0);
}

static PetscErrorCode fill_ghosted(OxOperator *op, Vec x);

PetscErrorCode OxOperatorSetStressFactors(OxOperator *op, Vec gD, Vec feq)
{
  const PetscInt     nslot = op->nloc + op->nghost + 1;
  const PetscScalar *e, *q;
  OxSurface         *s    = &op->surf;
  PetscInt           n_ex = s->ncells ? s->ncol : s->nface;

  PetscFunctionBeginUser;
  if (!op->wbase[0]) {
    /* first call: the faces' base coefficients and, per slot and axis, the
     * slot across its + face (the zero slot where none) */
    const PetscInt st[3] = {1, op->gxm, op->gxm * op->gym}, ext[3] = {op->gxm, op->gym, op->gzm};
    for (int d = 0; d < 3; d++) {
      PetscCall(PetscMalloc1(nslot, &op->wbase[d]));
      PetscCall(PetscArraycpy(op->wbase[d], op->w[d], nslot));
      PetscCall(PetscMalloc1(nslot, &op->across[d]));
      for (PetscInt a = 0; a < nslot; a++) op->across[d][a] = nslot - 1;
    }
    for (PetscInt k = 0; k < op->gzm; k++)
      for (PetscInt j = 0; j < op->gym; j++)
        for (PetscInt i = 0; i < op->gxm; i++) {
          PetscInt g = (k * op->gym + j) * op->gxm + i, a = op->map[g], idx[3] = {i, j, k};
          if (a >= nslot - 1) continue;
          for (int d = 0; d < 3; d++)
            if (idx[d] + 1 < ext[d]) op->across[d][a] = op->map[g + st[d]];
        }
    PetscCall(PetscMalloc2(n_ex ? n_ex : 1, &s->feq, n_ex ? n_ex : 1, &s->fD));
  }
  PetscCall(fill_ghosted(op, gD)); /* gD of the owned and ghost slots in cloc */
  PetscCall(VecGetArrayRead(op->cloc, &e));
  for (int d = 0; d < 3; d++)
    for (PetscInt a = 0; a < nslot - 1; a++) {
      PetscInt b = op->across[d][a];
      op->w[d][a] = b < nslot - 1 ? op->wbase[d][a] * PetscRealPart(e[a] * e[b]) : op->wbase[d][a];
    }
  for (PetscInt n = 0; n < n_ex; n++) {
    PetscReal g = PetscRealPart(e[s->ncells ? s->col[n].cell : s->face[n].cell]);
    s->fD[n]    = g * g;
  }
  PetscCall(VecRestoreArrayRead(op->cloc, &e));
  PetscCall(VecGetArrayRead(feq, &q));
  for (PetscInt n = 0; n < n_ex; n++) s->feq[n] = PetscRealPart(q[s->ncells ? s->col[n].cell : s->face[n].cell]);
  PetscCall(VecRestoreArrayRead(feq, &q));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorDestroy(OxOperator *op)
{
  PetscFunctionBeginUser;
  for (int d = 0; d < 3; d++) PetscCall(PetscFree(op->w[d]));
  for (int d = 0; d < 3; d++) PetscCall(PetscFree(op->wbase[d]));
  for (int d = 0; d < 3; d++) PetscCall(PetscFree(op->across[d]));
  PetscCall(PetscFree(op->map));
  PetscCall(PetscFree(op->gghost));
  PetscCall(PetscFree(op->shift));
  PetscCall(VecScatterDestroy(&op->gscatter));
  PetscCall(OxSurfaceDestroy(&op->surf));
  PetscCall(VecDestroy(&op->wvox));
  PetscCall(VecDestroy(&op->rt));
  PetscCall(VecDestroy(&op->exchange_area));
  PetscCall(VecDestroy(&op->accessibility));
  PetscCall(VecDestroy(&op->cloc));
  PetscCall(MatDestroy(&op->P));
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

/* Fill cloc with the owned values of the voxel vector x and its ghosts. */
static PetscErrorCode fill_ghosted(OxOperator *op, Vec x)
{
  const PetscScalar *xa;
  PetscScalar       *cl;

  PetscFunctionBeginUser;
  if (op->gscatter) PetscCall(VecScatterBegin(op->gscatter, x, op->cloc, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(op->cloc, &cl));
  PetscCall(PetscArraycpy(cl, xa, op->nloc));
  PetscCall(VecRestoreArray(op->cloc, &cl));
  PetscCall(VecRestoreArrayRead(x, &xa));
  if (op->gscatter) PetscCall(VecScatterEnd(op->gscatter, x, op->cloc, INSERT_VALUES, SCATTER_FORWARD));
  PetscFunctionReturn(0);
}

/* One x-row of the bulk apply over the ghosted box row mp (slots of cloc):
 * solid voxels only; a missing neighbour is the zero slot (value and
 * coefficient 0). */
static inline void apply_row(PetscInt n, PetscInt nloc, PetscReal D, const PetscInt *restrict mp, PetscInt sy, PetscInt sz, const PetscScalar *restrict c,
                             const PetscReal *restrict wx, const PetscReal *restrict wy, const PetscReal *restrict wz, PetscScalar *restrict f)
{
  for (PetscInt i = 0; i < n; i++) {
    PetscInt m = mp[i];
    if (m >= nloc) continue;
    PetscInt    xm = mp[i - 1], ym = mp[i - sy], zm = mp[i - sz], xp = mp[i + 1], yp = mp[i + sy], zp = mp[i + sz];
    PetscScalar c0 = c[m];
    f[m] = D * (wx[m] * (c[xp] - c0) + wx[xm] * (c[xm] - c0) + wy[m] * (c[yp] - c0) + wy[ym] * (c[ym] - c0) + wz[m] * (c[zp] - c0) + wz[zm] * (c[zm] - c0));
  }
}

PetscErrorCode OxOperatorApply(OxOperator *op, const OxParams *prm, Vec x, Vec u, Vec y, Vec yu, PetscBool with_source)
{
  const PetscScalar *c, *xo, *ua = NULL;
  PetscScalar       *f, *fu = NULL;
  const PetscInt     sy = op->gxm, sz = op->gxm * op->gym;
  const PetscReal    D = prm->D_m2_s;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(OX_EVENT_APPLY, 0, 0, 0, 0));
  PetscCall(fill_ghosted(op, x));
  PetscCall(VecGetArrayRead(op->cloc, &c));
  PetscCall(VecGetArrayWrite(y, &f));
  for (PetscInt k = 0; k < op->zm; k++)
    for (PetscInt j = 0; j < op->ym; j++) {
      PetscInt g0 = ((k + op->zs - op->gzs) * op->gym + (j + op->ys - op->gys)) * op->gxm + (op->xs - op->gxs);
      apply_row(op->xm, op->nloc, D, op->map + g0, sy, sz, c, op->w[0], op->w[1], op->w[2], f);
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
  PetscCall(PetscLogFlops(19.0 * op->nloc + 6.0 * op->surf.nface + 12.0 * op->surf.nlayer));
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

/* Row of owned voxel m at ghosted box index g: global columns (sorted) and
 * coefficients per unit D of its solid neighbours; returns their number. */
static PetscInt bulk_row(const OxOperator *op, PetscInt g, PetscInt m, PetscInt col[6], PetscReal wn[6])
{
  const PetscInt st[3] = {1, op->gxm, op->gxm * op->gym}, zero = op->nloc + op->nghost;
  PetscInt       n = 0;
  for (int d = 0; d < 3; d++)
    for (int s = -1; s <= 1; s += 2) {
      PetscInt q = op->map[g + s * st[d]];
      if (q == zero) continue;
      col[n]  = q < op->nloc ? op->rstart + q : op->gghost[q - op->nloc];
      wn[n++] = s > 0 ? op->w[d][m] : op->w[d][q];
    }
  for (PetscInt a = 1; a < n; a++) /* insertion sort by column */
    for (PetscInt b = a; b > 0 && col[b - 1] > col[b]; b--) {
      PetscInt  tc = col[b];
      PetscReal tw = wn[b];
      col[b] = col[b - 1], wn[b] = wn[b - 1];
      col[b - 1] = tc, wn[b - 1] = tw;
    }
  return n;
}

/* The preconditioner matrix over the solid voxels, preallocated exactly
 * from the neighbour structure (no values yet). */
static PetscErrorCode create_prec_matrix(OxOperator *op)
{
  PetscInt *dnz, *onz;
  MPI_Comm  comm = PetscObjectComm((PetscObject)op->da);

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc2(op->nloc + 1, &dnz, op->nloc + 1, &onz));
  OX_FOR_OWNED_SOLID(op, o, g, m)
  {
    PetscInt  col[6];
    PetscReal wn[6];
    PetscInt  n = bulk_row(op, g, m, col, wn);
    dnz[m]      = 1;
    for (PetscInt e = 0; e < n; e++) {
      if (col[e] >= op->rstart && col[e] < op->rstart + op->nloc) dnz[m]++;
      else onz[m]++;
    }
  }
  PetscCall(MatCreateAIJ(comm, op->nloc, op->nloc, op->nsolid, op->nsolid, 0, dnz, 0, onz, &op->P));
  PetscCall(MatSetOption(op->P, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  PetscCall(MatSetOption(op->P, MAT_NO_OFF_PROC_ENTRIES, PETSC_TRUE));
  PetscCall(PetscFree2(dnz, onz));
  PetscCall(PetscMalloc1(op->nloc + 1, &op->shift));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorAssemblePrec(OxOperator *op, const OxParams *prm, PetscReal gamma)
{
  const PetscReal a = -gamma * prm->D_m2_s;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(OX_EVENT_ASSEMBLE, 0, 0, 0, 0));
  if (!op->P) PetscCall(create_prec_matrix(op));
  /* P = I - gamma J = -gamma D L + diag(shift): shift 1 plus the exchange
   * conductances, or on a layer column's voxel the exact Schur complement
   * of its column (rows of those voxels scaled by their volume / h^3).
   * Assembled afresh from the face coefficients at every setup, so a
   * restarted run builds the same matrix as an uninterrupted one. */
  for (PetscInt m = 0; m < op->nloc; m++) op->shift[m] = 1.0;
  PetscCall(OxSurfacePrecSetup(&op->surf, prm, gamma, op->shift));
  {
    /* The first time through MatSetValues (which builds the pattern); then
     * straight into the value arrays of the diagonal and off-diagonal
     * blocks, whose rows hold exactly these columns in the same (sorted)
     * order: an MPIAIJ's off-diagonal columns are sorted by global index. */
    PetscScalar *vd = NULL, *vo = NULL;
    PetscInt     pd = 0, po = 0;
    Mat          Ad = NULL, Ao = NULL;
    if (op->P_filled) {
      PetscBool mpi;
      PetscCall(PetscObjectTypeCompare((PetscObject)op->P, MATMPIAIJ, &mpi));
      if (mpi) PetscCall(MatMPIAIJGetSeqAIJ(op->P, &Ad, &Ao, NULL));
      else Ad = op->P;
      PetscCall(MatSeqAIJGetArray(Ad, &vd));
      if (Ao) PetscCall(MatSeqAIJGetArray(Ao, &vo));
    }
    OX_FOR_OWNED_SOLID(op, o, g, m)
    {
      PetscInt    col[7], row = op->rstart + m, n, e, at;
      PetscReal   wn[7];
      PetscScalar v[7], diag = 0.0;
      n = bulk_row(op, g, m, col, wn);
      for (e = 0; e < n; e++) diag -= wn[e];
      for (at = n; at > 0 && col[at - 1] > row; at--) col[at] = col[at - 1], wn[at] = wn[at - 1];
      col[at] = row;
      for (e = 0; e <= n; e++) v[e] = e == at ? a * diag + op->shift[m] : a * wn[e];
      if (!op->P_filled) PetscCall(MatSetValues(op->P, 1, &row, n + 1, col, v, INSERT_VALUES));
      else
        for (e = 0; e <= n; e++) {
          if (col[e] >= op->rstart && col[e] < op->rstart + op->nloc) vd[pd++] = v[e];
          else vo[po++] = v[e];
        }
    }
    if (op->P_filled) {
      PetscCall(MatSeqAIJRestoreArray(Ad, &vd));
      if (Ao) PetscCall(MatSeqAIJRestoreArray(Ao, &vo));
    }
    /* (again after a direct fill: marks P as changed for the PC) */
    PetscCall(MatAssemblyBegin(op->P, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(op->P, MAT_FINAL_ASSEMBLY));
    if (!op->P_filled) {
      /* Eternal: a later assembly keeps the flag, so the PC's first setup
       * sees a symmetric P however many setups come before it (bjacobi
       * picks IC(0) for its blocks then, ILU otherwise: a run restarted
       * where two setups precede the first solve would change PC). */
      PetscCall(MatSetOption(op->P, MAT_SYMMETRIC, PETSC_TRUE));
      PetscCall(MatSetOption(op->P, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
    }
    op->P_filled = PETSC_TRUE;
  }
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
  const PetscScalar *ca, *wa, *ua;
  PetscReal          loc = 0.0;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(c, &ca));
  PetscCall(VecGetArrayRead(op->wvox, &wa));
  for (PetscInt m = 0; m < op->nloc; m++) loc += PetscRealPart(ca[m] * wa[m]);
  PetscCall(VecRestoreArrayRead(op->wvox, &wa));
  PetscCall(VecRestoreArrayRead(c, &ca));
  if (u) {
    PetscCall(VecGetArrayRead(u, &ua));
    loc += OxSurfaceLayerInventory(&op->surf, ua);
    PetscCall(VecRestoreArrayRead(u, &ua));
  }
  PetscCallMPI(MPI_Allreduce(&loc, voxels, 1, MPIU_REAL, MPIU_SUM, PetscObjectComm((PetscObject)op->da)));
  PetscFunctionReturn(0);
}
