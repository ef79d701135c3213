/* Scalar observables of the vacancy field. */
#include <math.h>
#include <stdlib.h>
#include "oxvac/observables.h"

PetscErrorCode OxObservablesSample(OxOperator *op, Vec c, Vec u, double time_s, int cycle, double soc, double released_mol, OxSample *s)
{
  PetscReal sum;
  double    v_m3 = op->h_m * op->h_m * op->h_m;

  PetscFunctionBeginUser;
  PetscCall(OxOperatorInventory(op, c, u, &sum));
  s->time_s          = time_s;
  s->cycle           = cycle;
  s->soc             = soc;
  s->vacancy_mean    = op->nsolid > 0 ? sum / (double)op->nsolid : 0.0;
  s->oxygen_loss_pct = 100.0 * s->vacancy_mean;
  s->released_mol    = released_mol;
  s->inventory_mol   = sum * v_m3 * op->site_mol_m3;
  PetscFunctionReturn(0);
}

PetscErrorCode OxTimeseriesAppend(OxTimeseries *ts, const OxSample *s)
{
  PetscFunctionBeginUser;
  if (ts->n == ts->cap) {
    int       cap = ts->cap ? 2 * ts->cap : 256;
    OxSample *r   = realloc(ts->row, (size_t)cap * sizeof(*r));
    PetscCheck(r, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for the time series");
    ts->row = r;
    ts->cap = cap;
  }
  ts->row[ts->n++] = *s;
  PetscFunctionReturn(0);
}

void OxTimeseriesFree(OxTimeseries *ts)
{
  free(ts->row);
  ts->row = NULL;
  ts->n = ts->cap = 0;
}

/* Per-particle sums over owned voxels of (1, x, y, z, area, value), reduced over ranks. */
static PetscErrorCode particle_sums(const OxMicrostructure *ms, Vec area, Vec value, PetscInt da_xs[3], PetscInt da_xm[3], double *sums)
{
  const PetscScalar *lab, *ar = NULL, *v = NULL;
  PetscInt           np = ms->nparticles, o = 0;
  double             h = ms->voxel_m, *loc;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(6 * np, &loc));
  PetscCall(VecGetArrayRead(ms->labels, &lab));
  if (area) PetscCall(VecGetArrayRead(area, &ar));
  if (value) PetscCall(VecGetArrayRead(value, &v));
  for (PetscInt k = da_xs[2]; k < da_xs[2] + da_xm[2]; k++)
    for (PetscInt j = da_xs[1]; j < da_xs[1] + da_xm[1]; j++)
      for (PetscInt i = da_xs[0]; i < da_xs[0] + da_xm[0]; i++, o++) {
        PetscInt p = (PetscInt)PetscRealPart(lab[o]);
        double  *r;
        if (p <= 0) continue;
        r = loc + 6 * (p - 1);
        r[0] += 1.0, r[1] += (i + 0.5) * h, r[2] += (j + 0.5) * h, r[3] += (k + 0.5) * h;
        if (ar) r[4] += PetscRealPart(ar[o]);
        if (v) r[5] += PetscRealPart(v[o]);
      }
  if (value) PetscCall(VecRestoreArrayRead(value, &v));
  if (area) PetscCall(VecRestoreArrayRead(area, &ar));
  PetscCall(VecRestoreArrayRead(ms->labels, &lab));
  PetscCallMPI(MPI_Allreduce(loc, sums, (int)(6 * np), MPI_DOUBLE, MPI_SUM, PetscObjectComm((PetscObject)ms->labels)));
  PetscCall(PetscFree(loc));
  PetscFunctionReturn(0);
}

static PetscErrorCode owned_box(Vec v, PetscInt xs[3], PetscInt xm[3])
{
  DM da;

  PetscFunctionBeginUser;
  PetscCall(VecGetDM(v, &da));
  PetscCall(DMDAGetCorners(da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
  PetscFunctionReturn(0);
}

PetscErrorCode OxParticleTableCreate(const OxOperator *op, const OxMicrostructure *ms, OxParticleTable *pt)
{
  PetscInt np = ms->nparticles, xs[3], xm[3];
  double  *sums, v_m3 = ms->voxel_m * ms->voxel_m * ms->voxel_m;

  PetscFunctionBeginUser;
  pt->n = np;
  PetscCall(PetscMalloc2(np, &pt->id, np, &pt->secondary));
  PetscCall(PetscMalloc6(np, &pt->volume_m3, np, &pt->area_m2, 3 * np, &pt->centroid_m, np, &pt->depth_m, np, &pt->radius_m, np, &pt->multiplier));
  PetscCall(PetscMalloc1(6 * np, &sums));
  PetscCall(owned_box(ms->labels, xs, xm));
  PetscCall(particle_sums(ms, op->exchange_area, NULL, xs, xm, sums));
  for (PetscInt p = 0; p < np; p++) {
    const double *r = sums + 6 * p;
    pt->id[p]        = (int)(p + 1);
    pt->secondary[p] = ms->particle_secondary[p + 1];
    pt->volume_m3[p] = r[0] * v_m3;
    pt->area_m2[p]   = r[4];
    for (int d = 0; d < 3; d++) pt->centroid_m[3 * p + d] = r[0] > 0 ? r[1 + d] / r[0] : 0.0;
    pt->depth_m[p]  = OxMicrostructureDepth(ms, pt->secondary[p], &pt->centroid_m[3 * p]);
    pt->radius_m[p] = cbrt(3.0 * pt->volume_m3[p] / (4.0 * M_PI));
    pt->multiplier[p] = ms->multiplier[p + 1];
  }
  PetscCall(PetscFree(sums));
  PetscFunctionReturn(0);
}

void OxParticleTableFree(OxParticleTable *pt)
{
  PetscFree2(pt->id, pt->secondary);
  PetscFree6(pt->volume_m3, pt->area_m2, pt->centroid_m, pt->depth_m, pt->radius_m, pt->multiplier);
  pt->n = 0;
}

PetscErrorCode OxParticleMeans(const OxMicrostructure *ms, Vec c, double *mean)
{
  PetscInt xs[3], xm[3];
  double  *sums;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(6 * ms->nparticles, &sums));
  PetscCall(owned_box(ms->labels, xs, xm));
  PetscCall(particle_sums(ms, NULL, c, xs, xm, sums));
  for (PetscInt p = 0; p < ms->nparticles; p++) mean[p] = sums[6 * p] > 0 ? sums[6 * p + 5] / sums[6 * p] : 0.0;
  PetscCall(PetscFree(sums));
  PetscFunctionReturn(0);
}
