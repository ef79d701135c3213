/* Finite-volume operator on the voxel grid (see operator.h for the scheme). */
#include <math.h>
#include "oxvac/operator.h"
#include "oxvac/units.h"

/* Number of binomial [1 2 1]/4 smoothing passes of the solid indicator before
 * taking its gradient as the surface normal. Three passes (variance 1.5 voxel^2
 * per axis) make the normals of a voxelised sphere of radius >= 20 voxels
 * accurate enough for its exchange area to be within 1 % of 4 pi R^2. */
#define OX_NORMAL_SMOOTH_PASSES 8

typedef struct {
  PetscInt n[3];      /* global sizes */
  PetscInt gs[3], gm[3]; /* ghosted start and size */
} Box;

static inline PetscInt box_index(const Box *b, PetscInt i, PetscInt j, PetscInt k)
{
  return ((k - b->gs[2]) * b->gm[1] + (j - b->gs[1])) * b->gm[0] + (i - b->gs[0]);
}

static inline PetscBool in_domain(const Box *b, const PetscInt p[3])
{
  for (int d = 0; d < 3; d++)
    if (p[d] < 0 || p[d] >= b->n[d]) return PETSC_FALSE;
  return PETSC_TRUE;
}

static inline PetscBool in_ghost_box(const Box *b, const PetscInt p[3])
{
  for (int d = 0; d < 3; d++)
    if (p[d] < b->gs[d] || p[d] >= b->gs[d] + b->gm[d]) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* Index of neighbour q of p along axis d at offset s (+-1), reflected at the
 * domain faces: the faces are mirror planes, so the value beyond equals p's. */
static inline PetscInt mirror_index(const Box *b, const PetscInt p[3], int d, int s)
{
  PetscInt q[3] = {p[0], p[1], p[2]};
  q[d] += s;
  if (q[d] < 0 || q[d] >= b->n[d]) q[d] = p[d];
  return box_index(b, q[0], q[1], q[2]);
}

/* Solid indicator smoothed by binomial passes, ghosts filled (mirror at the domain faces). */
static PetscErrorCode smoothed_indicator(DM da, const Box *b, Vec lab_loc, Vec *sloc)
{
  Vec                g, l;
  PetscInt           xs, ys, zs, xm, ym, zm;
  const PetscScalar *lab;

  PetscFunctionBeginUser;
  PetscCall(DMCreateGlobalVector(da, &g));
  PetscCall(DMCreateLocalVector(da, &l));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(VecGetArrayRead(lab_loc, &lab));
  {
    PetscScalar *ga;
    PetscInt     o = 0;
    PetscCall(VecGetArray(g, &ga));
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++)
        for (PetscInt i = xs; i < xs + xm; i++) ga[o++] = PetscRealPart(lab[box_index(b, i, j, k)]) > 0.5 ? 1.0 : 0.0;
    PetscCall(VecRestoreArray(g, &ga));
  }
  PetscCall(VecRestoreArrayRead(lab_loc, &lab));
  PetscInt npass = OX_NORMAL_SMOOTH_PASSES;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-ox_normal_smooth_passes", &npass, NULL));
  for (int pass = 0; pass < npass; pass++)
    for (int d = 0; d < 3; d++) {
      const PetscScalar *la;
      PetscScalar       *ga;
      PetscInt           o = 0;
      PetscCall(DMGlobalToLocal(da, g, INSERT_VALUES, l));
      PetscCall(VecGetArrayRead(l, &la));
      PetscCall(VecGetArray(g, &ga));
      for (PetscInt k = zs; k < zs + zm; k++)
        for (PetscInt j = ys; j < ys + ym; j++)
          for (PetscInt i = xs; i < xs + xm; i++) {
            PetscInt p[3] = {i, j, k};
            ga[o++] = 0.25 * la[mirror_index(b, p, d, -1)] + 0.5 * la[box_index(b, i, j, k)] + 0.25 * la[mirror_index(b, p, d, +1)];
          }
      PetscCall(VecRestoreArray(g, &ga));
      PetscCall(VecRestoreArrayRead(l, &la));
    }
  PetscCall(DMGlobalToLocal(da, g, INSERT_VALUES, l));
  PetscCall(VecDestroy(&g));
  *sloc = l;
  PetscFunctionReturn(0);
}

/* Gradient of the smoothed indicator on owned voxels, one local (ghosted)
 * vector per component so that a face can average the gradients of its two voxels. */
static PetscErrorCode indicator_gradient(DM da, const Box *b, Vec sloc, Vec gradloc[3])
{
  PetscInt           xs, ys, zs, xm, ym, zm;
  const PetscScalar *s;
  Vec                g;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(DMCreateGlobalVector(da, &g));
  PetscCall(VecGetArrayRead(sloc, &s));
  for (int d = 0; d < 3; d++) {
    PetscScalar *ga;
    PetscInt     o = 0;
    PetscCall(VecGetArray(g, &ga));
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++)
        for (PetscInt i = xs; i < xs + xm; i++) {
          PetscInt p[3] = {i, j, k};
          ga[o++] = 0.5 * (s[mirror_index(b, p, d, +1)] - s[mirror_index(b, p, d, -1)]);
        }
    PetscCall(VecRestoreArray(g, &ga));
    PetscCall(DMCreateLocalVector(da, &gradloc[d]));
    PetscCall(DMGlobalToLocal(da, g, INSERT_VALUES, gradloc[d]));
  }
  PetscCall(VecRestoreArrayRead(sloc, &s));
  PetscCall(VecDestroy(&g));
  PetscFunctionReturn(0);
}

/* |n_d| of the unit normal at the face between voxels a and c (box indices),
 * which faces axis d. Falls back to 1 (a flat face) where the smoothed
 * indicator has no gradient, as inside a one-voxel-thin plate. */
static PetscReal face_normal_component(const PetscScalar *gr[3], PetscInt a, PetscInt c, int d)
{
  PetscReal v[3], nrm = 0.0;
  for (int e = 0; e < 3; e++) {
    v[e] = 0.5 * PetscRealPart(gr[e][a] + gr[e][c]);
    nrm += v[e] * v[e];
  }
  if (nrm < 1e-24) return 1.0;
  return PetscAbsReal(v[d]) / PetscSqrtReal(nrm);
}

/* -log_view events: the matrix-free apply (RHS and J v) and the preconditioner assembly. */
static PetscLogEvent OX_EVENT_APPLY, OX_EVENT_ASSEMBLE;

static inline PetscReal harmonic(PetscReal a, PetscReal b) { return (a + b > 0.0) ? 2.0 * a * b / (a + b) : 0.0; }

PetscErrorCode OxOperatorCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, OxOperator *op)
{
  Vec                labloc, sloc, gradloc[3], openloc = NULL;
  const PetscScalar *lab, *gr[3], *openp = NULL;
  PetscScalar       *solid, *area, *access;
  Box                b;
  PetscInt           nloc, cap, nsolid_loc = 0;
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
  b = (Box){{ms->nx, ms->ny, ms->nz}, {op->gxs, op->gys, op->gzs}, {op->gxm, op->gym, op->gzm}};
  nloc = op->gxm * op->gym * op->gzm;

  PetscCall(DMCreateLocalVector(da, &labloc));
  PetscCall(DMGlobalToLocal(da, ms->labels, INSERT_VALUES, labloc));
  PetscCall(smoothed_indicator(da, &b, labloc, &sloc));
  PetscCall(indicator_gradient(da, &b, sloc, gradloc));
  PetscCall(VecDestroy(&sloc));
  if (cfg->access_model == OX_ACCESS_CONNECTED) {
    Vec open;
    PetscCall(OxMicrostructureOpenPores(da, ms, &open));
    PetscCall(DMCreateLocalVector(da, &openloc));
    PetscCall(DMGlobalToLocal(da, open, INSERT_VALUES, openloc));
    PetscCall(VecDestroy(&open));
    PetscCall(VecGetArrayRead(openloc, &openp));
  }
  PetscCall(VecGetArrayRead(labloc, &lab));
  for (int d = 0; d < 3; d++) PetscCall(VecGetArrayRead(gradloc[d], &gr[d]));

  /* Bulk and grain-boundary coefficients of the + face of every ghosted voxel. */
  for (int d = 0; d < 3; d++) PetscCall(PetscCalloc1(nloc, &op->w[d]));
  for (PetscInt k = b.gs[2]; k < b.gs[2] + b.gm[2]; k++)
    for (PetscInt j = b.gs[1]; j < b.gs[1] + b.gm[1]; j++)
      for (PetscInt i = b.gs[0]; i < b.gs[0] + b.gm[0]; i++) {
        PetscInt p[3] = {i, j, k}, a = box_index(&b, i, j, k);
        PetscInt la;
        if (!in_domain(&b, p)) continue;
        la = (PetscInt)PetscRealPart(lab[a]);
        if (la <= 0) continue;
        for (int d = 0; d < 3; d++) {
          PetscInt q[3] = {i, j, k}, c, lc;
          q[d]++;
          if (!in_domain(&b, q) || !in_ghost_box(&b, q)) continue;
          c  = box_index(&b, q[0], q[1], q[2]);
          lc = (PetscInt)PetscRealPart(lab[c]);
          if (lc <= 0) continue;
          op->w[d][a] = inv_h2 * (lc == la ? ms->multiplier[la] : cfg->grain_boundary * harmonic(ms->multiplier[la], ms->multiplier[lc]));
        }
      }

  /* Surface faces of owned voxels, the solid mask and the exchange area per voxel. */
  cap = 64;
  PetscCall(PetscMalloc1(cap, &op->face));
  PetscCall(DMCreateGlobalVector(da, &op->solid));
  PetscCall(VecDuplicate(op->solid, &op->exchange_area));
  PetscCall(PetscObjectSetName((PetscObject)op->exchange_area, "exchange_area_m2"));
  PetscCall(VecGetArray(op->solid, &solid));
  PetscCall(VecGetArray(op->exchange_area, &area));
  PetscCall(VecDuplicate(op->solid, &op->accessibility));
  PetscCall(PetscObjectSetName((PetscObject)op->accessibility, "accessibility"));
  PetscCall(VecGetArray(op->accessibility, &access));
  {
    PetscInt o = 0;
    for (PetscInt k = op->zs; k < op->zs + op->zm; k++)
      for (PetscInt j = op->ys; j < op->ys + op->ym; j++)
        for (PetscInt i = op->xs; i < op->xs + op->xm; i++, o++) {
          PetscInt a = box_index(&b, i, j, k), la = (PetscInt)PetscRealPart(lab[a]);
          solid[o]   = la > 0 ? 1.0 : 0.0;
          area[o]    = 0.0;
          access[o]  = 0.0;
          if (la <= 0) continue;
          nsolid_loc++;
          for (int d = 0; d < 3; d++)
            for (int s = -1; s <= 1; s += 2) {
              PetscInt q[3] = {i, j, k}, c;
              q[d] += s;
              if (!in_domain(&b, q)) continue; /* mirror plane: no exchange */
              c = box_index(&b, q[0], q[1], q[2]);
              if (PetscRealPart(lab[c]) > 0.5) continue;
              if (op->nface == cap) {
                OxSurfaceFace *nf;
                PetscCall(PetscMalloc1(2 * cap, &nf));
                PetscCall(PetscArraycpy(nf, op->face, cap));
                PetscCall(PetscFree(op->face));
                op->face = nf;
                cap *= 2;
              }
              {
                PetscReal A = h * h * face_normal_component(gr, a, c, d);
                double    xf[3] = {(i + 0.5) * h, (j + 0.5) * h, (k + 0.5) * h};
                xf[d] += 0.5 * s * h;
                PetscReal acc = OxMicrostructureAccessibility(cfg, ms, ms->particle_secondary[la], xf);
                if (openp) acc *= PetscRealPart(openp[c]);
                op->face[op->nface++] = (OxSurfaceFace){o, acc * A, 2.0 * ms->multiplier[la] * h};
                area[o] += A;
                access[o] += acc * A;
                area_loc += A;
              }
            }
        }
  }
  for (PetscInt o = 0; o < op->xm * op->ym * op->zm; o++) access[o] = area[o] > 0.0 ? access[o] / area[o] : 0.0;
  PetscCall(VecRestoreArray(op->accessibility, &access));
  PetscCall(VecRestoreArray(op->exchange_area, &area));
  PetscCall(VecRestoreArray(op->solid, &solid));
  for (int d = 0; d < 3; d++) {
    PetscCall(VecRestoreArrayRead(gradloc[d], &gr[d]));
    PetscCall(VecDestroy(&gradloc[d]));
  }
  PetscCall(VecRestoreArrayRead(labloc, &lab));
  PetscCall(VecDestroy(&labloc));
  if (openloc) {
    PetscCall(VecRestoreArrayRead(openloc, &openp));
    PetscCall(VecDestroy(&openloc));
  }
  PetscCallMPI(MPI_Allreduce(&nsolid_loc, &op->nsolid, 1, MPIU_INT, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(&area_loc, &op->area_m2, 1, MPI_DOUBLE, MPI_SUM, comm));
  PetscCall(DMCreateLocalVector(da, &op->cloc));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorDestroy(OxOperator *op)
{
  PetscFunctionBeginUser;
  for (int d = 0; d < 3; d++) PetscCall(PetscFree(op->w[d]));
  PetscCall(PetscFree(op->face));
  PetscCall(VecDestroy(&op->solid));
  PetscCall(VecDestroy(&op->exchange_area));
  PetscCall(VecDestroy(&op->accessibility));
  PetscCall(VecDestroy(&op->cloc));
  PetscCall(MatDestroy(&op->P));
  PetscCall(MatDestroy(&op->L));
  PetscCall(PetscFree2(op->gbar, op->gcbar));
  PetscCall(VecDestroy(&op->shift));
  PetscFunctionReturn(0);
}

/* Exchange conductance of one face (m^3/s): surface exchange k*A in series
 * with the half-voxel diffusion conductance D*half. */
static inline PetscReal face_conductance(const OxSurfaceFace *f, const OxParams *prm)
{
  PetscReal kA = prm->k_m_s * f->area_m2, dh = prm->D_m2_s * f->half_m;
  return kA > 0.0 ? kA * dh / (kA + dh) : 0.0;
}

/* Conductance G of face n and its source G c_eq: instantaneous, or their
 * cycle averages <G> and <G c_eq> in averaged mode. */
static inline void face_terms(const OxOperator *op, PetscInt n, const OxParams *prm, PetscReal *G, PetscReal *Gc)
{
  if (prm->averaged) {
    *G  = op->gbar[n];
    *Gc = op->gcbar[n];
  } else {
    *G  = face_conductance(&op->face[n], prm);
    *Gc = *G * prm->c_eq;
  }
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
  if (!op->gbar) PetscCall(PetscMalloc2(op->nface ? op->nface : 1, &op->gbar, op->nface ? op->nface : 1, &op->gcbar));
  for (PetscInt n = 0; n < op->nface; n++) op->gbar[n] = op->gcbar[n] = 0.0;
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
      for (PetscInt n = 0; n < op->nface; n++) {
        PetscReal G = face_conductance(&op->face[n], &prm);
        op->gbar[n] += wt * G;
        op->gcbar[n] += wt * G * prm.c_eq;
      }
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

PetscErrorCode OxOperatorApply(OxOperator *op, const OxParams *prm, Vec x, Vec y, PetscBool with_source)
{
  const PetscScalar *c;
  PetscScalar       *f;
  const PetscReal   *wx = op->w[0], *wy = op->w[1], *wz = op->w[2];
  const PetscInt     sx = 1, sy = op->gxm, sz = op->gxm * op->gym;
  const PetscReal    D = prm->D_m2_s, inv_v = 1.0 / (op->h_m * op->h_m * op->h_m);

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
  {
    const PetscScalar *xo;
    PetscCall(VecGetArrayRead(x, &xo));
    for (PetscInt n = 0; n < op->nface; n++) {
      PetscReal G, Gc;
      face_terms(op, n, prm, &G, &Gc);
      f[op->face[n].cell] += inv_v * ((with_source ? Gc : 0.0) - G * xo[op->face[n].cell]);
    }
    PetscCall(VecRestoreArrayRead(x, &xo));
  }
  PetscCall(VecRestoreArrayWrite(y, &f));
  PetscCall(PetscLogFlops(19.0 * op->xm * op->ym * op->zm + 6.0 * op->nface));
  PetscCall(PetscLogEventEnd(OX_EVENT_APPLY, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorExchangeRate(OxOperator *op, const OxParams *prm, Vec x, PetscReal *rate_m3_s)
{
  const PetscScalar *xo;
  PetscReal          loc = 0.0;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(x, &xo));
  for (PetscInt n = 0; n < op->nface; n++) {
    PetscReal G, Gc;
    face_terms(op, n, prm, &G, &Gc);
    loc += Gc - G * xo[op->face[n].cell];
  }
  PetscCall(VecRestoreArrayRead(x, &xo));
  PetscCallMPI(MPI_Allreduce(&loc, rate_m3_s, 1, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject)op->da)));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOperatorExchangeConductance(OxOperator *op, const OxParams *prm, PetscReal *cond_m3_s)
{
  PetscReal loc = 0.0;

  PetscFunctionBeginUser;
  for (PetscInt n = 0; n < op->nface; n++) {
    PetscReal G, Gc;
    face_terms(op, n, prm, &G, &Gc);
    loc += G;
  }
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
  PetscScalar    *sh;
  const PetscReal inv_v = 1.0 / (op->h_m * op->h_m * op->h_m);

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(OX_EVENT_ASSEMBLE, 0, 0, 0, 0));
  if (!op->L) PetscCall(assemble_bulk(op));
  /* P = I - gamma J = I - gamma D L + gamma diag(sum_f G_f / V) */
  PetscCall(MatCopy(op->L, op->P, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(op->P, -gamma * prm->D_m2_s));
  PetscCall(VecSet(op->shift, 1.0));
  PetscCall(VecGetArray(op->shift, &sh));
  for (PetscInt m = 0; m < op->nface; m++) {
    PetscReal G, Gc;
    face_terms(op, m, prm, &G, &Gc);
    sh[op->face[m].cell] += gamma * G * inv_v;
  }
  PetscCall(VecRestoreArray(op->shift, &sh));
  PetscCall(MatDiagonalSet(op->P, op->shift, ADD_VALUES));
  PetscCall(PetscLogEventEnd(OX_EVENT_ASSEMBLE, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
