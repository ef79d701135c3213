/* Scalar observables of the vacancy field. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
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

/* Per-particle sums over the owned box (corners of op) of (1, x, y, z, area), reduced over ranks. */
static PetscErrorCode particle_sums(const OxOperator *op, const OxMicrostructure *ms, Vec area, double *sums)
{
  const PetscScalar *ar;
  PetscInt           np = ms->nparticles, o = 0, m = 0;
  double             h = ms->voxel_m, *loc;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(5 * np, &loc));
  PetscCall(VecGetArrayRead(area, &ar));
  for (PetscInt k = op->zs; k < op->zs + op->zm; k++)
    for (PetscInt j = op->ys; j < op->ys + op->ym; j++)
      for (PetscInt i = op->xs; i < op->xs + op->xm; i++, o++) {
        PetscInt p = ms->label[o];
        double  *r;
        if (p <= 0) continue;
        r = loc + 5 * (p - 1);
        r[0] += 1.0, r[1] += (i + 0.5) * h, r[2] += (j + 0.5) * h, r[3] += (k + 0.5) * h;
        r[4] += PetscRealPart(ar[m++]); /* the solid voxels in box order are the voxel vector's entries */
      }
  PetscCall(VecRestoreArrayRead(area, &ar));
  PetscCallMPI(MPI_Allreduce(loc, sums, (int)(5 * np), MPI_DOUBLE, MPI_SUM, PetscObjectComm((PetscObject)area)));
  PetscCall(PetscFree(loc));
  PetscFunctionReturn(0);
}

PetscErrorCode OxParticleTableCreate(const OxOperator *op, const OxMicrostructure *ms, OxParticleTable *pt)
{
  PetscInt np = ms->nparticles;
  double  *sums, v_m3 = ms->voxel_m * ms->voxel_m * ms->voxel_m;

  PetscFunctionBeginUser;
  pt->n = np;
  PetscCall(PetscMalloc2(np, &pt->id, np, &pt->secondary));
  PetscCall(PetscMalloc6(np, &pt->volume_m3, np, &pt->area_m2, 3 * np, &pt->centroid_m, np, &pt->depth_m, np, &pt->radius_m, np, &pt->multiplier));
  PetscCall(PetscMalloc1(5 * np + 1, &sums));
  PetscCall(particle_sums(op, ms, op->exchange_area, sums));
  for (PetscInt p = 0; p < np; p++) {
    const double *r = sums + 5 * p;
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

PetscErrorCode OxParticleMeans(const OxOperator *op, const OxMicrostructure *ms, Vec c, double *mean)
{
  PetscInt           np = ms->nparticles, m = 0;
  double            *loc, *sums;
  const PetscScalar *ca;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc2(2 * np + 2, &loc, 2 * np + 2, &sums));
  PetscCall(VecGetArrayRead(c, &ca));
  for (PetscInt o = 0; o < op->xm * op->ym * op->zm; o++) {
    PetscInt p = ms->label[o];
    if (p <= 0) continue;
    loc[2 * (p - 1)] += 1.0, loc[2 * (p - 1) + 1] += PetscRealPart(ca[m++]); /* solid voxels in box order: the voxel vector */
  }
  PetscCall(VecRestoreArrayRead(c, &ca));
  PetscCallMPI(MPI_Allreduce(loc, sums, (int)(2 * np), MPI_DOUBLE, MPI_SUM, PetscObjectComm((PetscObject)c)));
  for (PetscInt p = 0; p < np; p++) mean[p] = sums[2 * p] > 0 ? sums[2 * p + 1] / sums[2 * p] : 0.0;
  PetscCall(PetscFree2(loc, sums));
  PetscFunctionReturn(0);
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The distinct values of sec[0..np), ascending, into ids (room for np); returns how many. */
static PetscInt distinct_ids(PetscInt np, const int *sec, int *ids)
{
  PetscInt n = 0;

  if (np > 0) memcpy(ids, sec, (size_t)np * sizeof(int));
  qsort(ids, (size_t)np, sizeof(int), cmp_int);
  for (PetscInt p = 0; p < np; p++)
    if (n == 0 || ids[p] != ids[n - 1]) ids[n++] = ids[p];
  return n;
}

/* Exterior: the centroid lies within one own equivalent diameter of the
 * envelope, so the primary sees the electrolyte outside the secondary. A
 * primary in no secondary (id 0) has no envelope to be buried under. */
static PetscBool is_exterior(const OxParticleTable *pt, PetscInt p)
{
  return pt->secondary[p] <= 0 || pt->depth_m[p] < 2.0 * pt->radius_m[p] ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode OxSecondaryTableCreate(const OxParticleTable *pt, OxSecondaryTable *st)
{
  PetscInt np = pt->n, n;
  int     *ids;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(np + 1, &ids));
  n      = distinct_ids(np, pt->secondary, ids);
  st->n  = n;
  st->np = np;
  PetscCall(PetscCalloc7(n + 1, &st->id, n + 1, &st->n_primaries, n + 1, &st->n_exterior, n + 1, &st->n_interior, n + 1, &st->volume_m3, n + 1,
                         &st->volume_exterior_m3, n + 1, &st->volume_interior_m3));
  PetscCall(PetscMalloc2(np + 1, &st->row, np + 1, &st->exterior));
  PetscCall(PetscArraycpy(st->id, ids, n));
  PetscCall(PetscFree(ids));
  for (PetscInt p = 0; p < np; p++) {
    const int *hit = bsearch(&pt->secondary[p], st->id, (size_t)n, sizeof(int), cmp_int); /* always found: id holds every value */
    int        r   = (int)(hit - st->id);
    st->row[p]      = r;
    st->exterior[p] = is_exterior(pt, p);
    st->n_primaries[r]++;
    if (st->exterior[p]) st->n_exterior[r]++;
    else st->n_interior[r]++;
    st->volume_m3[r] += pt->volume_m3[p];
    if (st->exterior[p]) st->volume_exterior_m3[r] += pt->volume_m3[p];
    else st->volume_interior_m3[r] += pt->volume_m3[p];
  }
  PetscFunctionReturn(0);
}

void OxSecondaryTableFree(OxSecondaryTable *st)
{
  PetscFree7(st->id, st->n_primaries, st->n_exterior, st->n_interior, st->volume_m3, st->volume_exterior_m3, st->volume_interior_m3);
  PetscFree2(st->row, st->exterior);
  st->n = st->np = 0;
}

/* One stored cycle: volume-weighted means of the particle means pm over all,
 * exterior and interior primaries of each secondary. w is scratch [3 n]. */
static void secondary_means(const OxSecondaryTable *st, const OxParticleTable *pt, const double *pm, double *w, double *all, double *ext, double *in)
{
  PetscInt n = st->n;

  for (PetscInt r = 0; r < n; r++) all[r] = ext[r] = in[r] = w[r] = w[n + r] = w[2 * n + r] = 0.0;
  for (PetscInt p = 0; p < st->np; p++) {
    PetscInt r = st->row[p];
    double   v = pt->volume_m3[p];
    all[r] += v * pm[p], w[r] += v;
    if (st->exterior[p]) ext[r] += v * pm[p], w[n + r] += v;
    else in[r] += v * pm[p], w[2 * n + r] += v;
  }
  /* NaN, not 0, for an empty group: 0 would read as "no oxygen lost" */
  for (PetscInt r = 0; r < n; r++) {
    all[r] = w[r] > 0.0 ? all[r] / w[r] : NAN;
    ext[r] = w[n + r] > 0.0 ? ext[r] / w[n + r] : NAN;
    in[r]  = w[2 * n + r] > 0.0 ? in[r] / w[2 * n + r] : NAN;
  }
}

PetscErrorCode OxSecondarySeriesCreate(const OxSecondaryTable *st, const OxParticleTable *pt, int nout, const double *pmean, OxSecondarySeries *ss)
{
  PetscInt n = st->n, m = (PetscInt)nout * n;
  double  *w;

  PetscFunctionBeginUser;
  PetscCheck(st->np == pt->n, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "secondary table built from %" PetscInt_FMT " primaries, particle table has %" PetscInt_FMT,
             st->np, pt->n);
  ss->nout = nout;
  ss->n    = n;
  PetscCall(PetscMalloc4(m + 1, &ss->vacancy_mean, m + 1, &ss->oxygen_loss_pct, m + 1, &ss->exterior_vacancy_mean, m + 1, &ss->interior_vacancy_mean));
  PetscCall(PetscMalloc1(3 * n + 1, &w));
  for (int f = 0; f < nout; f++) {
    PetscInt o = (PetscInt)f * n;
    secondary_means(st, pt, pmean + (PetscInt)f * pt->n, w, ss->vacancy_mean + o, ss->exterior_vacancy_mean + o, ss->interior_vacancy_mean + o);
    /* the convention of /timeseries/oxygen_loss_pct */
    for (PetscInt r = 0; r < n; r++) ss->oxygen_loss_pct[o + r] = 100.0 * ss->vacancy_mean[o + r];
  }
  PetscCall(PetscFree(w));
  PetscFunctionReturn(0);
}

void OxSecondarySeriesFree(OxSecondarySeries *ss)
{
  PetscFree4(ss->vacancy_mean, ss->oxygen_loss_pct, ss->exterior_vacancy_mean, ss->interior_vacancy_mean);
  ss->nout = 0;
  ss->n    = 0;
}

PetscErrorCode OxStateRange(Vec c, Vec u, PetscReal *cmin, PetscReal *cmax, PetscBool *finite)
{
  Vec       v[2] = {c, u};
  PetscReal lo, hi, n1, sum = 0.0;

  PetscFunctionBeginUser;
  *cmin = PETSC_MAX_REAL;
  *cmax = PETSC_MIN_REAL;
  for (int k = 0; k < 2; k++) {
    if (!v[k]) continue;
    PetscCall(VecNorm(v[k], NORM_1, &n1)); /* a sum of magnitudes: NaN and Inf reach it, unlike max/min comparisons */
    PetscCall(VecMin(v[k], NULL, &lo));
    PetscCall(VecMax(v[k], NULL, &hi));
    sum += n1;
    *cmin = PetscMin(*cmin, lo);
    *cmax = PetscMax(*cmax, hi);
  }
  *finite = PetscIsInfOrNanReal(sum) ? PETSC_FALSE : PETSC_TRUE;
  PetscFunctionReturn(0);
}
