/* Voxel geometry: labels and secondary ids per voxel. */
#include <math.h>
#include <stdint.h>
#include "oxvac/flood.h"
#include "oxvac/microstructure.h"
#include "oxvac/units.h"
#include "splitmix.h"

double OxParticleMultiplier(long seed, PetscInt id, double spread)
{
  if (spread <= 0.0) return 1.0;
  /* splitmix64 keyed by (seed, id): every particle its own stream whatever the rank count */
  uint64_t h  = OxSplitMix64(((uint64_t)seed << 32) ^ (uint64_t)id ^ 0xA5A5A5A5ULL);
  double   u1 = OxUnitOpen(h), u2 = OxUnitOpen(OxSplitMix64(h));
  double   z  = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2); /* Box-Muller */
  return exp(spread * z);
}

/* One spherical primary particle; voxel centres inside the sphere are solid. */
static PetscErrorCode fill_sphere(const OxConfig *cfg, DM da, OxMicrostructure *ms)
{
  PetscInt        xs, ys, zs, xm, ym, zm;
  PetscScalar ***lab, ***sec;
  double          c_m[3], r_m = cfg->radius_nm * OX_NM_TO_M, h = ms->voxel_m;
  PetscInt        n[3] = {ms->nx, ms->ny, ms->nz};

  PetscFunctionBeginUser;
  for (int d = 0; d < 3; d++) c_m[d] = cfg->has_center ? cfg->center_nm[d] * OX_NM_TO_M : 0.5 * n[d] * h;
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(DMDAVecGetArray(da, ms->labels, &lab));
  PetscCall(DMDAVecGetArray(da, ms->secondary, &sec));
  for (PetscInt k = zs; k < zs + zm; k++)
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++) {
        double dx = (i + 0.5) * h - c_m[0], dy = (j + 0.5) * h - c_m[1], dz = (k + 0.5) * h - c_m[2];
        int    in = dx * dx + dy * dy + dz * dz <= r_m * r_m;
        lab[k][j][i] = in ? 1.0 : 0.0;
        sec[k][j][i] = in ? 1.0 : 0.0;
      }
  PetscCall(DMDAVecRestoreArray(da, ms->labels, &lab));
  PetscCall(DMDAVecRestoreArray(da, ms->secondary, &sec));
  ms->nparticles   = 1;
  ms->nsecondaries = 1;
  PetscCall(PetscMalloc1(2, &ms->envelope));
  PetscCall(PetscMalloc1(2, &ms->particle_secondary));
  for (int d = 0; d < 3; d++) ms->envelope[1][d] = c_m[d];
  ms->envelope[1][3]       = r_m;
  ms->particle_secondary[1] = 1;
  PetscFunctionReturn(0);
}

PetscErrorCode OxMicrostructureCreate(const OxConfig *cfg, DM da, OxMicrostructure *ms)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(ms, sizeof(*ms)));
  PetscCall(DMDAGetInfo(da, NULL, &ms->nx, &ms->ny, &ms->nz, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  ms->voxel_m = cfg->voxel_nm * OX_NM_TO_M;
  PetscCall(DMCreateGlobalVector(da, &ms->labels));
  PetscCall(VecDuplicate(ms->labels, &ms->secondary));
  PetscCall(PetscObjectSetName((PetscObject)ms->labels, "labels"));
  PetscCall(PetscObjectSetName((PetscObject)ms->secondary, "secondary"));
  switch (cfg->micro_type) {
  case OX_MICRO_SPHERE: PetscCall(fill_sphere(cfg, da, ms)); break;
  case OX_MICRO_IMPORT: PetscCall(OxImportFill(cfg, da, ms)); break;
  case OX_MICRO_GENERATED: {
    static PetscLogEvent ev;
    if (!ev) PetscCall(PetscLogEventRegister("OxGenerate", DM_CLASSID, &ev));
    PetscCall(PetscLogEventBegin(ev, 0, 0, 0, 0));
    PetscCall(OxGenerateAgglomerates(cfg, da, ms));
    PetscCall(PetscLogEventEnd(ev, 0, 0, 0, 0));
  } break;
  default: SETERRQ(PetscObjectComm((PetscObject)da), PETSC_ERR_SUP, "microstructure type not available in this version");
  }
  if (!ms->multiplier) { /* the generator sets its own (by seed number) */
    PetscCall(PetscMalloc1(ms->nparticles + 1, &ms->multiplier));
    ms->multiplier[0] = 0.0;
    for (PetscInt p = 1; p <= ms->nparticles; p++) ms->multiplier[p] = OxParticleMultiplier(cfg->seed, p, cfg->particle_spread);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode OxMicrostructureOpenPores(DM da, const OxMicrostructure *ms, Vec *open)
{
  Vec                nat_l, nat_s, all_l, all_s, nat_o;
  VecScatter         sc;
  const PetscScalar *lab, *sec;
  PetscScalar       *op;
  PetscInt           n = ms->nx * ms->ny * ms->nz, grid[3] = {ms->nx, ms->ny, ms->nz};
  int               *mark;
  OxFlood            fl;

  PetscFunctionBeginUser;
  /* Every rank gathers the whole image in natural order and floods it the same way. */
  PetscCall(DMDACreateNaturalVector(da, &nat_l));
  PetscCall(VecDuplicate(nat_l, &nat_s));
  PetscCall(DMDAGlobalToNaturalBegin(da, ms->labels, INSERT_VALUES, nat_l));
  PetscCall(DMDAGlobalToNaturalEnd(da, ms->labels, INSERT_VALUES, nat_l));
  PetscCall(DMDAGlobalToNaturalBegin(da, ms->secondary, INSERT_VALUES, nat_s));
  PetscCall(DMDAGlobalToNaturalEnd(da, ms->secondary, INSERT_VALUES, nat_s));
  PetscCall(VecScatterCreateToAll(nat_l, &sc, &all_l));
  PetscCall(VecDuplicate(all_l, &all_s));
  PetscCall(VecScatterBegin(sc, nat_l, all_l, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, nat_l, all_l, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterBegin(sc, nat_s, all_s, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, nat_s, all_s, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(all_l, &lab));
  PetscCall(VecGetArrayRead(all_s, &sec));
  /* Electrolyte outside every secondary is open; so is electrolyte joined to
   * it face to face. mark: 1 open, -1 electrolyte not (yet) reached, 0 solid. */
  PetscCall(PetscMalloc1(n, &mark));
  PetscCall(OxFloodCreate(grid, &fl));
  for (PetscInt v = 0; v < n; v++) mark[v] = PetscRealPart(lab[v]) < 0.5 ? -1 : 0;
  for (PetscInt v = 0; v < n; v++)
    if (mark[v] && PetscRealPart(sec[v]) < 0.5) OxFloodSeed(&fl, mark, v, 1);
  OxFloodSpread(&fl, mark, -1, 1);
  PetscCall(OxFloodDestroy(&fl));
  PetscCall(VecRestoreArrayRead(all_l, &lab));
  PetscCall(VecRestoreArrayRead(all_s, &sec));
  /* Back to this rank's block through the natural vector. */
  PetscCall(VecDuplicate(nat_l, &nat_o));
  {
    PetscInt lo, hi;
    PetscCall(VecGetOwnershipRange(nat_o, &lo, &hi));
    PetscCall(VecGetArray(nat_o, &op));
    for (PetscInt v = lo; v < hi; v++) op[v - lo] = mark[v] == 1;
    PetscCall(VecRestoreArray(nat_o, &op));
  }
  PetscCall(DMCreateGlobalVector(da, open));
  PetscCall(DMDANaturalToGlobalBegin(da, nat_o, INSERT_VALUES, *open));
  PetscCall(DMDANaturalToGlobalEnd(da, nat_o, INSERT_VALUES, *open));
  PetscCall(PetscFree(mark));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all_l));
  PetscCall(VecDestroy(&all_s));
  PetscCall(VecDestroy(&nat_l));
  PetscCall(VecDestroy(&nat_s));
  PetscCall(VecDestroy(&nat_o));
  PetscFunctionReturn(0);
}

int OxMicrostructureResolveGrid(OxConfig *cfg, char *err, size_t errlen)
{
  int    shape[3], status;
  double voxel_nm;
  if (cfg->micro_type != OX_MICRO_IMPORT) return 0;
  status = OxImportProbe(cfg, shape, &voxel_nm, err, errlen); /* the image gives the grid */
  if (status == 0) {
    for (int d = 0; d < 3; d++) cfg->shape[d] = shape[d];
    cfg->voxel_nm = voxel_nm;
  }
  return status;
}

double OxMicrostructureDepth(const OxMicrostructure *ms, int sec, const double x_m[3])
{
  double r2 = 0.0, d;
  if (sec <= 0 || sec > ms->nsecondaries) return 0.0;
  for (int k = 0; k < 3; k++) r2 += (x_m[k] - ms->envelope[sec][k]) * (x_m[k] - ms->envelope[sec][k]);
  d = ms->envelope[sec][3] - sqrt(r2);
  return d > 0.0 ? d : 0.0;
}

double OxMicrostructureAccessibility(const OxConfig *cfg, const OxMicrostructure *ms, int sec, const double x_m[3])
{
  switch (cfg->access_model) {
  case OX_ACCESS_DEPTH: return exp(-OxMicrostructureDepth(ms, sec, x_m) / (cfg->access_length_nm * OX_NM_TO_M));
  default: return 1.0;
  }
}

/* Vector v as an int array a (its local length). */
static PetscErrorCode vec_to_int(Vec v, int **a)
{
  PetscInt           n;
  const PetscScalar *x;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCall(PetscMalloc1(n + 1, a));
  PetscCall(VecGetArrayRead(v, &x));
  for (PetscInt i = 0; i < n; i++) (*a)[i] = (int)PetscRealPart(x[i]);
  PetscCall(VecRestoreArrayRead(v, &x));
  PetscFunctionReturn(0);
}

PetscErrorCode OxMicrostructureCompact(OxMicrostructure *ms)
{
  PetscFunctionBeginUser;
  PetscCall(vec_to_int(ms->labels, &ms->label));
  PetscCall(vec_to_int(ms->secondary, &ms->sec));
  PetscCall(VecDestroy(&ms->labels));
  PetscCall(VecDestroy(&ms->secondary));
  PetscFunctionReturn(0);
}

PetscErrorCode OxMicrostructureDestroy(OxMicrostructure *ms)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&ms->labels));
  PetscCall(VecDestroy(&ms->secondary));
  PetscCall(PetscFree(ms->label));
  PetscCall(PetscFree(ms->sec));
  PetscCall(PetscFree(ms->multiplier));
  PetscCall(PetscFree(ms->particle_secondary));
  PetscCall(PetscFree(ms->envelope));
  PetscFunctionReturn(0);
}
