/* Solid/electrolyte exchange and the sub-voxel surface layer (surface.h). */
#include <math.h>
#include "oxvac/surface.h"
#include "box.h"

/* Number of binomial [1 2 1]/4 smoothing passes of the solid indicator before
 * taking its gradient as the surface normal. Three passes (variance 1.5 voxel^2
 * per axis) make the normals of a voxelised sphere of radius >= 20 voxels
 * accurate enough for its exchange area to be within 1 % of 4 pi R^2. */
#define OX_NORMAL_SMOOTH_PASSES 8

/* Solid indicator smoothed by binomial passes, ghosts filled (mirror at the domain faces). */
static PetscErrorCode smoothed_indicator(DM da, const OxBox *b, Vec lab_loc, Vec *sloc)
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
        for (PetscInt i = xs; i < xs + xm; i++) ga[o++] = PetscRealPart(lab[OxBoxIndex(b, i, j, k)]) > 0.5 ? 1.0 : 0.0;
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
            ga[o++] = 0.25 * la[OxBoxMirrorIndex(b, p, d, -1)] + 0.5 * la[OxBoxIndex(b, i, j, k)] + 0.25 * la[OxBoxMirrorIndex(b, p, d, +1)];
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
static PetscErrorCode indicator_gradient(DM da, const OxBox *b, Vec sloc, Vec gradloc[3])
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
          ga[o++] = 0.5 * (s[OxBoxMirrorIndex(b, p, d, +1)] - s[OxBoxMirrorIndex(b, p, d, -1)]);
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

/* Thickness fractions of the layer cells (finest at the surface, each the
 * previous times growth). */
static PetscErrorCode layer_fractions(OxSurface *s, const OxConfig *cfg)
{
  PetscInt  M = s->ncells;
  PetscReal sum = 0.0, w = 1.0;

  PetscFunctionBeginUser;
  s->lambda = cfg->layer_depth;
  PetscCall(PetscMalloc1(M, &s->frac));
  for (PetscInt j = 0; j < M; j++, w *= cfg->layer_growth) sum += (s->frac[j] = w);
  for (PetscInt j = 0; j < M; j++) s->frac[j] *= s->lambda / sum;
  PetscFunctionReturn(0);
}

/* Longest column: a cube's diagonal. A voxel whose corrected area is tiny
 * keeps the volume the column does not take. */
#define OX_COLUMN_MAX_DEPTH 1.7320508075688772

/* Cross-section of a column at depth z relative to its surface area: the
 * surface's parallel at depth z shrinks (convex, kappa > 0) or grows like
 * (1 - kappa z / 2)^2, kappa the sum of the principal curvatures; clamped
 * where a coarse curvature estimate would pinch or flare the column. */
static inline PetscReal section(PetscReal kappa, PetscReal z)
{
  PetscReal f = PetscMin(1.25, PetscMax(0.5, 1.0 - 0.5 * kappa * z));
  return f * f;
}

/* The column of owned voxel o: cell volumes and conductances per unit D in
 * vol[off..], g[off..] (g[j] couples cell j to j + 1, the last cell to the
 * voxel unknown). The cells cover lambda d of the prism depth d = h^3 / A
 * with cross-sections following the curvature; the voxel unknown keeps the
 * rest of the volume and stands at depth (1 + lambda) d / 2. Returns the
 * inward shift of its point from the voxel centre, lambda d / 2. */
static PetscReal make_column(OxSurface *s, PetscInt o, PetscReal area, PetscReal karea, PetscReal m, PetscReal kappa, OxSurfaceColumn *c)
{
  const PetscReal h = s->h_m, v = h * h * h, lam = s->lambda;
  const PetscReal d = PetscMin(v / area, OX_COLUMN_MAX_DEPTH * h);
  const PetscInt  M = s->ncells, off = s->ncol * M;
  PetscReal       z = 0.0, vsum = 0.0;

  for (int pass = 0; pass < 2; pass++, kappa = 0.0) {
    z = vsum = 0.0;
    for (PetscInt j = 0; j < M; j++) {
      PetscReal dz = s->frac[j] * d; /* Simpson: exact for the quadratic section */
      s->vol[off + j] = area * dz * (section(kappa, z) + 4.0 * section(kappa, z + 0.5 * dz) + section(kappa, z + dz)) / 6.0;
      vsum += s->vol[off + j];
      z += dz;
    }
    if (vsum <= 0.95 * v) break; /* a curvature leaving the voxel unknown almost no volume is not trusted */
  }
  c->cell     = o;
  c->off      = off;
  c->karea_m2 = karea;
  c->depth_m  = d;
  c->point_m  = 0.5 * (1.0 + lam) * d;
  c->vvox_m3  = v - vsum;
  c->gtop_m   = m * area / (0.5 * s->frac[0] * d);
  z           = 0.0;
  for (PetscInt j = 0; j < M; j++) {
    PetscReal below = j + 1 < M ? 0.5 * s->frac[j + 1] * d : c->point_m - lam * d;
    z += s->frac[j] * d; /* the face below cell j */
    s->g[off + j] = m * area * section(kappa, z) / (0.5 * s->frac[j] * d + below);
  }
  return 0.5 * lam * d;
}

/* Sum of the principal curvatures of the surface at owned voxel p: -div m
 * of the inward unit normal m of the smoothed indicator by central
 * differences (mirrored at the domain faces), moved from the voxel centre to
 * the surface d / 2 further out. */
static PetscReal surface_curvature(const OxBox *b, const PetscScalar *gr[3], const PetscInt p[3], PetscReal h, PetscReal d)
{
  PetscReal div = 0.0, kc;
  for (int e = 0; e < 3; e++)
    for (int sg = -1; sg <= 1; sg += 2) {
      PetscInt  q[3] = {p[0], p[1], p[2]}, c;
      PetscReal g[3], nrm = 0.0, me;
      q[e] += sg;
      c = OxBoxInDomain(b, q) ? OxBoxIndex(b, q[0], q[1], q[2]) : OxBoxIndex(b, p[0], p[1], p[2]);
      for (int k = 0; k < 3; k++) {
        g[k] = PetscRealPart(gr[k][c]);
        nrm += g[k] * g[k];
      }
      me = nrm > 1e-24 ? g[e] / PetscSqrtReal(nrm) : 0.0;
      if (!OxBoxInDomain(b, q)) me = -me; /* the mirror image's normal */
      div += sg * me / (2.0 * h);
    }
  kc = -div;
  return kc / (1.0 + 0.25 * kc * d > 0.25 ? 1.0 + 0.25 * kc * d : 0.25);
}

PetscErrorCode OxSurfaceCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, Vec labloc, OxSurface *s, Vec exchange_area,
                               Vec accessibility, double *area_loc)
{
  Vec                sloc, gradloc[3], openloc = NULL, dglob[3];
  const PetscScalar *lab, *gr[3], *openp = NULL;
  PetscScalar       *area, *access, *dsp[3];
  OxBox              b;
  PetscInt           xs, ys, zs, xm, ym, zm, cap = 64, ccap = 64, vcap, gcap;
  const double       h = ms->voxel_m;
  MPI_Comm           comm = PetscObjectComm((PetscObject)da);

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(s, sizeof(*s)));
  s->h_m    = h;
  s->ncells = cfg->layer_cells;
  if (s->ncells > 0) PetscCall(layer_fractions(s, cfg));
  *area_loc = 0.0;
  PetscCall(OxBoxFromDA(da, &b));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
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
  for (int d = 0; d < 3; d++) {
    PetscCall(VecGetArrayRead(gradloc[d], &gr[d]));
    PetscCall(DMCreateGlobalVector(da, &dglob[d]));
    PetscCall(VecZeroEntries(dglob[d]));
    PetscCall(VecGetArray(dglob[d], &dsp[d]));
  }
  PetscCall(PetscMalloc1(cap, &s->face));
  vcap = gcap = ccap * PetscMax(1, s->ncells);
  if (s->ncells > 0) {
    PetscCall(PetscMalloc1(ccap, &s->col));
    PetscCall(PetscMalloc1(vcap, &s->vol));
    PetscCall(PetscMalloc1(gcap, &s->g));
  }
  PetscCall(VecGetArray(exchange_area, &area));
  PetscCall(VecGetArray(accessibility, &access));
  {
    PetscInt o = 0;
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++)
        for (PetscInt i = xs; i < xs + xm; i++, o++) {
          PetscInt  a = OxBoxIndex(&b, i, j, k), la = (PetscInt)PetscRealPart(lab[a]);
          PetscReal karea = 0.0;
          area[o] = access[o] = 0.0;
          if (la <= 0) continue;
          for (int d = 0; d < 3; d++)
            for (int sg = -1; sg <= 1; sg += 2) {
              PetscInt q[3] = {i, j, k}, c;
              q[d] += sg;
              if (!OxBoxInDomain(&b, q)) continue; /* mirror plane: no exchange */
              c = OxBoxIndex(&b, q[0], q[1], q[2]);
              if (PetscRealPart(lab[c]) > 0.5) continue;
              if (s->nface == cap) PetscCall(PetscRealloc(sizeof(*s->face) * (cap *= 2), &s->face));
              {
                PetscReal A = h * h * face_normal_component(gr, a, c, d);
                double    xf[3] = {(i + 0.5) * h, (j + 0.5) * h, (k + 0.5) * h};
                xf[d] += 0.5 * sg * h;
                PetscReal acc = OxMicrostructureAccessibility(cfg, ms, ms->particle_secondary[la], xf);
                if (openp) acc *= PetscRealPart(openp[c]);
                s->face[s->nface++] = (OxSurfaceFace){o, acc * A, 2.0 * ms->multiplier[la] * h};
                area[o] += A;
                access[o] += acc * A;
                karea += acc * A;
                *area_loc += A;
              }
            }
          if (s->ncells > 0 && karea > 0.0 && area[o] > 0.0) {
            PetscReal g[3], nrm = 0.0;
            if (s->ncol == ccap) PetscCall(PetscRealloc(sizeof(*s->col) * (ccap *= 2), &s->col));
            PetscInt  pp[3] = {i, j, k};
            PetscReal dcol  = PetscMin(h * h * h / area[o], OX_COLUMN_MAX_DEPTH * h);
            if ((s->ncol + 1) * s->ncells > vcap) PetscCall(PetscRealloc(sizeof(PetscReal) * (vcap *= 2), &s->vol));
            if ((s->ncol + 1) * s->ncells > gcap) PetscCall(PetscRealloc(sizeof(PetscReal) * (gcap *= 2), &s->g));
            PetscReal shift = make_column(s, o, area[o], karea, ms->multiplier[la], surface_curvature(&b, gr, pp, h, dcol), &s->col[s->ncol]);
            /* The voxel unknown now stands for the deepest part of the
             * column: its point lies lambda d / 2 further in along the
             * inward normal (the smoothed indicator grows into the solid). */
            for (int d = 0; d < 3; d++) {
              g[d] = PetscRealPart(gr[d][a]);
              nrm += g[d] * g[d];
            }
            if (nrm > 1e-24)
              for (int d = 0; d < 3; d++) {
                /* Along axis d the two-point flux to the next voxel is right
                 * for a gradient along the normal when the point moves by
                 * shift / n_d (n_d the normal's component); faces nearly
                 * across the normal (|n_d| < 1/2) get a correction fading to 0. */
                PetscReal nd = g[d] / PetscSqrtReal(nrm);
                dsp[d][o]    = shift * nd / PetscMax(nd * nd, 0.25);
              }
            s->ncol++;
          }
        }
    /* give back what the doubling left unused */
    if (s->nface) PetscCall(PetscRealloc(sizeof(*s->face) * s->nface, &s->face));
    if (s->ncells > 0 && s->ncol) {
      PetscCall(PetscRealloc(sizeof(*s->col) * s->ncol, &s->col));
      PetscCall(PetscRealloc(sizeof(PetscReal) * s->ncol * s->ncells, &s->vol));
      PetscCall(PetscRealloc(sizeof(PetscReal) * s->ncol * s->ncells, &s->g));
    }
    for (o = 0; o < xm * ym * zm; o++) access[o] = area[o] > 0.0 ? access[o] / area[o] : 0.0;
  }
  PetscCall(VecRestoreArray(accessibility, &access));
  PetscCall(VecRestoreArray(exchange_area, &area));
  for (int d = 0; d < 3; d++) {
    PetscCall(VecRestoreArray(dglob[d], &dsp[d]));
    PetscCall(DMCreateLocalVector(da, &s->disp[d]));
    PetscCall(DMGlobalToLocal(da, dglob[d], INSERT_VALUES, s->disp[d]));
    PetscCall(VecDestroy(&dglob[d]));
    PetscCall(VecRestoreArrayRead(gradloc[d], &gr[d]));
    PetscCall(VecDestroy(&gradloc[d]));
  }
  PetscCall(VecRestoreArrayRead(labloc, &lab));
  if (openloc) {
    PetscCall(VecRestoreArrayRead(openloc, &openp));
    PetscCall(VecDestroy(&openloc));
  }
  s->nlayer = s->ncol * s->ncells;
  PetscCallMPI(MPI_Allreduce(&s->nlayer, &s->nlayer_global, 1, MPIU_INT, MPI_SUM, comm));
  if (s->nlayer_global == 0) s->ncells = 0; /* nothing exchanges: no layer */
  PetscFunctionReturn(0);
}

void OxSurfaceRemapCells(OxSurface *s, const PetscInt *to)
{
  for (PetscInt f = 0; f < s->nface; f++) s->face[f].cell = to[s->face[f].cell];
  for (PetscInt c = 0; c < s->ncol; c++) s->col[c].cell = to[s->col[c].cell];
}

PetscErrorCode OxSurfaceDestroy(OxSurface *s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(s->face));
  PetscCall(PetscFree(s->col));
  PetscCall(PetscFree(s->frac));
  PetscCall(PetscFree(s->vol));
  PetscCall(PetscFree(s->g));
  PetscCall(PetscFree2(s->gbar, s->gcbar));
  PetscCall(PetscFree(s->fac));
  PetscCall(PetscFree2(s->feq, s->fD));
  for (int d = 0; d < 3; d++) PetscCall(VecDestroy(&s->disp[d]));
  PetscFunctionReturn(0);
}

PetscErrorCode OxSurfaceCreateLayerVec(const OxSurface *s, MPI_Comm comm, Vec *u)
{
  PetscFunctionBeginUser;
  *u = NULL;
  if (s->ncells > 0) {
    PetscCall(VecCreateMPI(comm, s->nlayer, PETSC_DETERMINE, u));
    PetscCall(PetscObjectSetName((PetscObject)*u, "layer"));
    PetscCall(VecZeroEntries(*u));
  }
  PetscFunctionReturn(0);
}

/* Exchange conductance (m^3/s): exchange k A_acc in series with the
 * diffusion conductance D g between the surface and the first unknown. */
static inline PetscReal series(PetscReal kA, PetscReal Dg) { return kA > 0.0 ? kA * Dg / (kA + Dg) : 0.0; }

/* D at exchange face or column n: times its stress factor under coupling. */
static inline PetscReal D_at(const OxSurface *s, PetscInt n, PetscReal D) { return s->fD ? D * s->fD[n] : D; }

static inline PetscReal face_conductance(const OxSurface *s, PetscInt n, const OxParams *prm)
{
  return series(prm->k_m_s * s->face[n].area_m2, D_at(s, n, prm->D_m2_s) * s->face[n].half_m);
}

static inline PetscReal column_conductance(const OxSurface *s, PetscInt n, const OxParams *prm)
{
  return series(prm->k_m_s * s->col[n].karea_m2, D_at(s, n, prm->D_m2_s) * s->col[n].gtop_m);
}

/* G and G c_eq of face or column n: instantaneous, or their cycle averages. */
static inline void exchange_terms(const OxSurface *s, PetscInt n, const OxParams *prm, PetscReal *G, PetscReal *Gc)
{
  if (prm->averaged) {
    *G  = s->gbar[n];
    *Gc = s->gcbar[n];
  } else {
    *G  = s->ncells ? column_conductance(s, n, prm) : face_conductance(s, n, prm);
    *Gc = s->feq ? *G * PetscMin(1.0, prm->c_eq * s->feq[n]) : *G * prm->c_eq; /* a site fraction: at most 1 */
  }
}

void OxSurfaceApply(const OxSurface *s, const OxParams *prm, const PetscScalar *c, const PetscScalar *u, PetscScalar *f, PetscScalar *fu,
                    PetscBool with_source)
{
  const PetscReal v = s->h_m * s->h_m * s->h_m, D = prm->D_m2_s;
  const PetscInt  M = s->ncells;

  if (!M) {
    for (PetscInt n = 0; n < s->nface; n++) {
      PetscReal G, Gc;
      exchange_terms(s, n, prm, &G, &Gc);
      f[s->face[n].cell] += ((with_source ? Gc : 0.0) - G * c[s->face[n].cell]) / v;
    }
    return;
  }
  for (PetscInt n = 0; n < s->ncol; n++) {
    const OxSurfaceColumn *col = &s->col[n];
    const PetscScalar     *uc  = u + col->off;
    PetscScalar           *fc  = fu + col->off;
    PetscReal              G, Gc, Fin, Fv, Dn = D_at(s, n, D);
    exchange_terms(s, n, prm, &G, &Gc);
    Fin = (with_source ? Gc : 0.0) - G * uc[0]; /* into cell 0 from the electrolyte */
    const PetscReal       *V = s->vol + col->off, *g = s->g + col->off;
    for (PetscInt j = 0; j + 1 < M; j++) {
      PetscReal F = Dn * g[j] * (uc[j + 1] - uc[j]); /* from j+1 into j */
      fc[j] = (Fin + F) / V[j];
      Fin   = -F;
    }
    Fv        = Dn * g[M - 1] * (c[col->cell] - uc[M - 1]);
    fc[M - 1] = (Fin + Fv) / V[M - 1];
    f[col->cell] = (f[col->cell] * v - Fv) / col->vvox_m3;
  }
}

void OxSurfaceExchange(const OxSurface *s, const OxParams *prm, const PetscScalar *c, const PetscScalar *u, PetscReal *rate, PetscReal *cond)
{
  PetscInt n_ex = s->ncells ? s->ncol : s->nface;
  *rate = *cond = 0.0;
  for (PetscInt n = 0; n < n_ex; n++) {
    PetscReal G, Gc;
    exchange_terms(s, n, prm, &G, &Gc);
    if (c) *rate += Gc - G * (s->ncells ? u[s->col[n].off] : c[s->face[n].cell]);
    *cond += G;
  }
}

PetscErrorCode OxSurfaceAverageReset(OxSurface *s)
{
  PetscInt n_ex = s->ncells ? s->ncol : s->nface;

  PetscFunctionBeginUser;
  if (!s->gbar) PetscCall(PetscMalloc2(n_ex ? n_ex : 1, &s->gbar, n_ex ? n_ex : 1, &s->gcbar));
  for (PetscInt n = 0; n < n_ex; n++) s->gbar[n] = s->gcbar[n] = 0.0;
  PetscFunctionReturn(0);
}

void OxSurfaceAverageAdd(OxSurface *s, const OxParams *prm, PetscReal wt)
{
  PetscInt n_ex = s->ncells ? s->ncol : s->nface;

  for (PetscInt n = 0; n < n_ex; n++) {
    PetscReal G = s->ncells ? column_conductance(s, n, prm) : face_conductance(s, n, prm);
    s->gbar[n] += wt * G;
    s->gcbar[n] += wt * G * (s->feq ? PetscMin(1.0, prm->c_eq * s->feq[n]) : prm->c_eq);
  }
}

/* Per column in s->fac: iden[M], the inverse pivots of the Thomas
 * factorisation. The upper factors cp, the lower diagonal, beta (the
 * coupling of the last cell to the voxel) and q = T^-1 e_last are recomputed
 * where they are needed, from the same numbers in the same order, so the
 * results do not change. */
#define FAC_STRIDE(M) (M)

/* Lower diagonal of column col's tridiagonal T at the last setup, row j. */
static inline PetscReal column_lower(const OxSurface *s, const OxSurfaceColumn *col, PetscInt j)
{
  return j ? -s->pgamma * (D_at(s, col - s->col, s->pD) * s->g[col->off + j - 1]) / s->vol[col->off + j] : 0.0;
}

/* Coupling of cell j to the next one below, -gamma D g_j / V_j (for the last cell: to the voxel, beta). */
static inline PetscReal column_below(const OxSurface *s, const OxSurfaceColumn *col, PetscInt j)
{
  return -s->pgamma * (D_at(s, col - s->col, s->pD) * s->g[col->off + j]) / s->vol[col->off + j];
}

/* Upper Thomas factor cp_j of column col (iden its inverse pivots); 0 for the last cell. */
static inline PetscReal column_upper(const OxSurface *s, const OxSurfaceColumn *col, const PetscReal *iden, PetscInt j)
{
  return j + 1 < s->ncells ? column_below(s, col, j) * iden[j] : 0.0;
}

/* q = T^-1 e_last of column n (q has ncells entries). */
static void column_q(const OxSurface *s, PetscInt n, PetscReal *q)
{
  const PetscInt   M = s->ncells;
  const PetscReal *iden = s->fac + FAC_STRIDE(M) * n;
  PetscReal        y    = 0.0;
  for (PetscInt j = 0; j < M; j++) q[j] = y = ((j == M - 1 ? 1.0 : 0.0) - column_lower(s, &s->col[n], j) * y) * iden[j];
  for (PetscInt j = M - 2; j >= 0; j--) q[j] -= column_upper(s, &s->col[n], iden, j) * q[j + 1];
}

PetscErrorCode OxSurfacePrecSetup(OxSurface *s, const OxParams *prm, PetscReal gamma, PetscScalar *shift)
{
  const PetscInt  M = s->ncells;
  const PetscReal v = s->h_m * s->h_m * s->h_m, D = prm->D_m2_s;

  PetscFunctionBeginUser;
  s->pgamma = gamma;
  s->pD     = D;
  if (!M) {
    for (PetscInt n = 0; n < s->nface; n++) {
      PetscReal G, Gc;
      exchange_terms(s, n, prm, &G, &Gc);
      shift[s->face[n].cell] += gamma * G / v;
    }
    PetscFunctionReturn(0);
  }
  if (!s->fac) PetscCall(PetscMalloc1(FAC_STRIDE(M) * (s->ncol ? s->ncol : 1), &s->fac));
  for (PetscInt n = 0; n < s->ncol; n++) {
    const OxSurfaceColumn *col = &s->col[n];
    PetscReal             *iden = s->fac + FAC_STRIDE(M) * n, q[OX_LAYER_MAX_CELLS];
    PetscReal              G, Gc, a, bcond, prev_cp = 0.0;
    exchange_terms(s, n, prm, &G, &Gc);
    a = G; /* conductance above cell j */
    for (PetscInt j = 0; j < M; j++) {
      PetscReal V = s->vol[col->off + j];
      bcond       = D_at(s, n, D) * s->g[col->off + j]; /* below */
      iden[j]     = 1.0 / (1.0 + gamma * (a + bcond) / V - column_lower(s, col, j) * prev_cp);
      prev_cp     = column_upper(s, col, iden, j);
      a           = bcond;
    }
    column_q(s, n, q);
    shift[col->cell] = (col->vvox_m3 + gamma * D_at(s, n, D) * s->g[col->off + M - 1] * (1.0 + column_below(s, col, M - 1) * q[M - 1])) / v;
  }
  PetscFunctionReturn(0);
}

void OxSurfacePrecReduce(const OxSurface *s, const PetscScalar *rc, const PetscScalar *ru, PetscScalar *rt, PetscScalar *zu)
{
  const PetscInt  M = s->ncells;
  const PetscReal v = s->h_m * s->h_m * s->h_m;

  for (PetscInt n = 0; n < s->ncol; n++) {
    const OxSurfaceColumn *col = &s->col[n];
    const PetscReal       *iden = s->fac + FAC_STRIDE(M) * n;
    const PetscScalar     *r    = ru + col->off;
    PetscScalar           *z    = zu + col->off, y = 0.0;
    for (PetscInt j = 0; j < M; j++) z[j] = y = (r[j] - column_lower(s, col, j) * y) * iden[j];
    for (PetscInt j = M - 2; j >= 0; j--) z[j] -= column_upper(s, col, iden, j) * z[j + 1];
    rt[col->cell] = (col->vvox_m3 * rc[col->cell] + s->pgamma * D_at(s, n, s->pD) * s->g[col->off + M - 1] * z[M - 1]) / v;
  }
}

void OxSurfacePrecExpand(const OxSurface *s, const PetscScalar *zc, PetscScalar *zu)
{
  const PetscInt M = s->ncells;

  for (PetscInt n = 0; n < s->ncol; n++) {
    const PetscReal beta = column_below(s, &s->col[n], M - 1);
    PetscReal       q[OX_LAYER_MAX_CELLS];
    PetscScalar    *z = zu + s->col[n].off, cv = zc[s->col[n].cell];
    column_q(s, n, q);
    for (PetscInt j = 0; j < M; j++) z[j] -= beta * q[j] * cv;
  }
}

void OxSurfaceVoxelMean(const OxSurface *s, const PetscScalar *c, const PetscScalar *u, PetscScalar *cbar)
{
  const PetscReal v = s->h_m * s->h_m * s->h_m;

  for (PetscInt n = 0; n < s->ncol; n++) {
    const OxSurfaceColumn *col = &s->col[n];
    PetscScalar            sum = col->vvox_m3 * c[col->cell];
    for (PetscInt j = 0; j < s->ncells; j++) sum += s->vol[col->off + j] * u[col->off + j];
    cbar[col->cell] = sum / v;
  }
}

void OxSurfaceWeights(const OxSurface *s, PetscScalar *wvox)
{
  const PetscReal v = s->h_m * s->h_m * s->h_m;

  for (PetscInt n = 0; n < s->ncol; n++) wvox[s->col[n].cell] = s->col[n].vvox_m3 / v;
}

PetscReal OxSurfaceLayerInventory(const OxSurface *s, const PetscScalar *u)
{
  PetscReal sum = 0.0;

  for (PetscInt i = 0; i < s->nlayer; i++) sum += s->vol[i] * PetscRealPart(u[i]);
  return sum / (s->h_m * s->h_m * s->h_m);
}

PetscInt OxSurfaceDepthSamples(const OxSurface *s, const PetscScalar *c, const PetscScalar *u, PetscInt start, PetscInt max, double *depth_nm,
                               double *weight, double *value)
{
  const PetscReal v = s->h_m * s->h_m * s->h_m;
  const PetscInt  per = s->ncells + 1, n0 = start / per, n1 = PetscMin(s->ncol, n0 + max / per);
  PetscInt        m = 0;

  for (PetscInt n = n0; n < n1; n++) {
    const OxSurfaceColumn *col = &s->col[n];
    double                 z   = 0.0;
    for (PetscInt j = 0; j < s->ncells; j++, m++) {
      depth_nm[m] = (z + 0.5 * s->frac[j]) * col->depth_m * 1e9;
      weight[m]   = s->vol[col->off + j] / v;
      value[m]    = PetscRealPart(u[col->off + j]);
      z += s->frac[j];
    }
    depth_nm[m] = col->point_m * 1e9;
    weight[m]   = col->vvox_m3 / v;
    value[m++]  = PetscRealPart(c[col->cell]);
  }
  return m;
}

void OxSurfaceLayerToVoxels(const OxSurface *s, const PetscScalar *u, PetscInt j, PetscScalar *x)
{
  for (PetscInt n = 0; n < s->ncol; n++) x[s->col[n].cell] = u ? u[s->col[n].off + j] : 1.0;
}

void OxSurfaceVoxelsToLayer(const OxSurface *s, const PetscScalar *x, PetscInt j, PetscScalar *u)
{
  for (PetscInt n = 0; n < s->ncol; n++) u[s->col[n].off + j] = x[s->col[n].cell];
}
