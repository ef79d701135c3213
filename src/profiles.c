/* Mn3+ by charge balance, 3D profiles against the distance from each
 * particle's own surface, and the virtual lamella (profiles.h). */
#include <math.h>
#include <petscdmda.h>
#include "oxvac/distance.h"
#include "oxvac/profiles.h"
#include "oxvac/units.h"

struct OxProfiler_private {
  MPI_Comm    comm;
  PetscMPIInt rank;
  DM          da;
  Vec         labels;         /* reference to the microstructure's labels */
  Vec         nat, seq;       /* natural-ordered copy, and all of it on rank 0 */
  VecScatter  to_zero;
  PetscInt    n[3];
  double      h_nm, mn_share, formula_mn, bin_nm, thickness_nm, centre_m[3];
  int         axis;
  /* rank 0 only */
  int        *bin3;           /* [N] 3D bin of each voxel, -1 for electrolyte */
  PetscInt    nbin3;
  PetscInt    nslab;          /* solid voxels in the slab */
  PetscInt   *slab_vox, *slab_pix;
  double     *slab_w;         /* overlap of the voxel with the slab, in voxels */
  PetscInt    npix, nbinl;
  int        *pix_bin;        /* lamella bin of each pixel, -1 for an empty one */
  double     *pix_t;          /* solid thickness of each pixel's column, voxels */
};

double OxMn3Fraction(double c, double mn_share, double formula_mn)
{
  double f = mn_share * 4.0 * c / formula_mn;
  return f <= 0.0 ? 0.0 : (f >= 1.0 ? 1.0 : f);
}

void OxProfileFree(OxProfile *p)
{
  PetscFree4(p->distance_nm, p->mn3_fraction, p->vacancy_fraction, p->count);
  p->n = 0;
}

/* 0 where a point of the ndim array lab has a face neighbour (inside the
 * array) with another value: the features whose distance is measured;
 * OX_DISTANCE_FAR elsewhere. */
static void mark_interfaces(const int *lab, const PetscInt *n, int ndim, double *f)
{
  PetscInt total = 1;

  for (int a = 0; a < ndim; a++) total *= n[a];
  for (PetscInt i = 0; i < total; i++) f[i] = OX_DISTANCE_FAR;
  for (int a = 0, stride = 1; a < ndim; stride *= (int)n[a], a++)
    for (PetscInt i = 0; i < total; i++) {
      PetscInt ia = (i / stride) % n[a];
      if (ia + 1 < n[a] && lab[i] != lab[i + stride]) f[i] = f[i + stride] = 0.0;
    }
}

static PetscErrorCode gather(OxProfiler pr, Vec g, const PetscScalar **a)
{
  PetscFunctionBeginUser;
  PetscCall(DMDAGlobalToNaturalBegin(pr->da, g, INSERT_VALUES, pr->nat));
  PetscCall(DMDAGlobalToNaturalEnd(pr->da, g, INSERT_VALUES, pr->nat));
  PetscCall(VecScatterBegin(pr->to_zero, pr->nat, pr->seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(pr->to_zero, pr->nat, pr->seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(pr->seq, a));
  PetscFunctionReturn(0);
}

/* Rank 0: the bin of every solid voxel by its distance from its particle's surface. */
static PetscErrorCode build_3d(OxProfiler pr, const int *lab)
{
  PetscInt N = pr->n[0] * pr->n[1] * pr->n[2];
  double  *f;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(N, &f));
  PetscCall(PetscMalloc1(N, &pr->bin3));
  mark_interfaces(lab, pr->n, 3, f);
  PetscCall(OxDistanceSquared(3, pr->n, f));
  pr->nbin3 = 0;
  for (PetscInt i = 0; i < N; i++) {
    pr->bin3[i] = -1;
    if (lab[i] > 0 && f[i] < OX_DISTANCE_FAR) {
      double dist_nm = (sqrt(f[i]) + 0.5) * pr->h_nm;
      pr->bin3[i]    = (int)(dist_nm / pr->bin_nm);
      pr->nbin3      = PetscMax(pr->nbin3, pr->bin3[i] + 1);
    }
  }
  PetscCall(PetscFree(f));
  PetscFunctionReturn(0);
}

/* Rank 0: the slab, its pixels, each pixel's particle, thickness and edge-distance bin. */
static PetscErrorCode build_lamella(OxProfiler pr, const int *lab)
{
  int       a = pr->axis, u = (a + 1) % 3, v = (a + 2) % 3;
  PetscInt  nu = pr->n[u], nv = pr->n[v], k0, k1, nl, pn[2] = {nu, nv}, ijk[3];
  double    ca = pr->centre_m[a] / OX_NM_TO_M / pr->h_nm, t = pr->thickness_nm / pr->h_nm, lo = ca - 0.5 * t, hi = ca + 0.5 * t, *w, *f;
  int      *plab, *clab;
  double   *cw;

  PetscFunctionBeginUser;
  k0 = PetscMax(0, (PetscInt)floor(lo));
  k1 = PetscMin(pr->n[a] - 1, (PetscInt)ceil(hi) - 1);
  nl = PetscMax(0, k1 - k0 + 1);
  pr->npix = nu * nv;
  PetscCall(PetscMalloc1(nl + 1, &w));
  for (PetscInt k = 0; k < nl; k++) w[k] = PetscMin((double)(k0 + k + 1), hi) - PetscMax((double)(k0 + k), lo);
  PetscCall(PetscMalloc2(pr->npix, &plab, pr->npix, &f));
  PetscCall(PetscMalloc1(pr->npix, &pr->pix_t));
  PetscCall(PetscMalloc1(pr->npix, &pr->pix_bin));
  PetscCall(PetscMalloc2(nl + 1, &clab, nl + 1, &cw));
  PetscCall(PetscMalloc3(pr->npix * (nl ? nl : 1), &pr->slab_vox, pr->npix * (nl ? nl : 1), &pr->slab_pix, pr->npix * (nl ? nl : 1), &pr->slab_w));
  pr->nslab = 0;
  for (PetscInt jv = 0; jv < nv; jv++)
    for (PetscInt ju = 0; ju < nu; ju++) {
      PetscInt p = ju + nu * jv, nc = 0, best = 0;
      pr->pix_t[p] = 0.0;
      for (PetscInt k = 0; k < nl; k++) {
        PetscInt idx;
        ijk[a] = k0 + k, ijk[u] = ju, ijk[v] = jv;
        idx    = ijk[0] + pr->n[0] * (ijk[1] + pr->n[1] * ijk[2]);
        if (lab[idx] <= 0 || w[k] <= 0.0) continue;
        pr->slab_vox[pr->nslab] = idx, pr->slab_pix[pr->nslab] = p, pr->slab_w[pr->nslab++] = w[k];
        pr->pix_t[p] += w[k];
        for (PetscInt m = 0; m <= nc; m++) { /* weight of each label in the column */
          if (m == nc) clab[nc] = lab[idx], cw[nc++] = 0.0;
          if (clab[m] == lab[idx]) {
            cw[m] += w[k];
            break;
          }
        }
      }
      for (PetscInt m = 1; m < nc; m++)
        if (cw[m] > cw[best]) best = m;
      plab[p] = nc ? clab[best] : 0;
    }
  mark_interfaces(plab, pn, 2, f);
  PetscCall(OxDistanceSquared(2, pn, f));
  pr->nbinl = 0;
  for (PetscInt p = 0; p < pr->npix; p++) {
    pr->pix_bin[p] = -1;
    if (plab[p] > 0 && f[p] < OX_DISTANCE_FAR) {
      pr->pix_bin[p] = (int)((sqrt(f[p]) + 0.5) * pr->h_nm / pr->bin_nm);
      pr->nbinl      = PetscMax(pr->nbinl, pr->pix_bin[p] + 1);
    }
  }
  PetscCall(PetscFree2(clab, cw));
  PetscCall(PetscFree2(plab, f));
  PetscCall(PetscFree(w));
  PetscFunctionReturn(0);
}

/* Centre of the slab: the largest secondary's envelope, else the sphere's centre. */
static void slab_centre(const OxConfig *cfg, const OxMicrostructure *ms, double c[3])
{
  int best = 0;

  for (int s = 1; s <= (int)ms->nsecondaries; s++)
    if (!best || ms->envelope[s][3] > ms->envelope[best][3]) best = s;
  for (int d = 0; d < 3; d++)
    c[d] = best ? ms->envelope[best][d] : (cfg->micro_type == OX_MICRO_SPHERE ? cfg->center_nm[d] * OX_NM_TO_M : 0.5 * cfg->shape[d] * ms->voxel_m);
}

PetscErrorCode OxProfilerCreate(const OxConfig *cfg, DM da, const OxMicrostructure *ms, OxProfiler *ppr)
{
  OxProfiler         pr;
  const PetscScalar *a;
  int               *lab = NULL;
  PetscInt           N;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&pr));
  pr->comm = PetscObjectComm((PetscObject)da);
  PetscCallMPI(MPI_Comm_rank(pr->comm, &pr->rank));
  pr->da = da;
  PetscCall(PetscObjectReference((PetscObject)da));
  pr->labels = ms->labels;
  PetscCall(PetscObjectReference((PetscObject)ms->labels));
  pr->n[0] = ms->nx, pr->n[1] = ms->ny, pr->n[2] = ms->nz;
  pr->h_nm         = ms->voxel_m / OX_NM_TO_M;
  pr->mn_share     = cfg->mn_share;
  pr->formula_mn   = cfg->formula_mn;
  pr->bin_nm       = cfg->profile_bin_nm;
  pr->thickness_nm = cfg->lamella_thickness_nm;
  pr->axis         = cfg->lamella_axis - 'x';
  slab_centre(cfg, ms, pr->centre_m);
  N = pr->n[0] * pr->n[1] * pr->n[2];
  PetscCall(DMDACreateNaturalVector(da, &pr->nat));
  PetscCall(VecScatterCreateToZero(pr->nat, &pr->to_zero, &pr->seq));
  PetscCall(gather(pr, ms->labels, &a));
  if (!pr->rank) {
    PetscCall(PetscMalloc1(N, &lab));
    for (PetscInt i = 0; i < N; i++) lab[i] = (int)PetscRealPart(a[i]);
  }
  PetscCall(VecRestoreArrayRead(pr->seq, &a));
  if (!pr->rank) {
    PetscCall(build_3d(pr, lab));
    PetscCall(build_lamella(pr, lab));
    PetscCall(PetscFree(lab));
  }
  PetscCallMPI(MPI_Bcast(&pr->nbin3, 1, MPIU_INT, 0, pr->comm)); /* depth samples are binned on every rank */
  *ppr = pr;
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerDestroy(OxProfiler *ppr)
{
  OxProfiler pr = *ppr;

  PetscFunctionBeginUser;
  if (!pr) PetscFunctionReturn(0);
  PetscCall(PetscFree(pr->bin3));
  PetscCall(PetscFree3(pr->slab_vox, pr->slab_pix, pr->slab_w));
  PetscCall(PetscFree(pr->pix_bin));
  PetscCall(PetscFree(pr->pix_t));
  PetscCall(VecScatterDestroy(&pr->to_zero));
  PetscCall(VecDestroy(&pr->seq));
  PetscCall(VecDestroy(&pr->nat));
  PetscCall(VecDestroy(&pr->labels));
  PetscCall(DMDestroy(&pr->da));
  PetscCall(PetscFree(pr));
  *ppr = NULL;
  PetscFunctionReturn(0);
}

/* Bin sums (weight, weight * mn3, weight * c, count) to a profile on every rank. */
static PetscErrorCode finish_profile(OxProfiler pr, PetscInt nbin, const double *sums, OxProfile *p)
{
  PetscInt n = nbin;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(&n, 1, MPIU_INT, 0, pr->comm));
  p->n      = n;
  p->bin_nm = pr->bin_nm;
  PetscCall(PetscMalloc4(n + 1, &p->distance_nm, n + 1, &p->mn3_fraction, n + 1, &p->vacancy_fraction, n + 1, &p->count));
  if (!pr->rank)
    for (PetscInt b = 0; b < n; b++) {
      const double *s      = sums + 4 * b;
      p->distance_nm[b]      = (b + 0.5) * pr->bin_nm;
      p->mn3_fraction[b]     = s[0] > 0 ? s[1] / s[0] : NAN;
      p->vacancy_fraction[b] = s[0] > 0 ? s[2] / s[0] : NAN;
      p->count[b]            = s[3];
    }
  PetscCallMPI(MPI_Bcast(p->distance_nm, (int)n, MPI_DOUBLE, 0, pr->comm));
  PetscCallMPI(MPI_Bcast(p->mn3_fraction, (int)n, MPI_DOUBLE, 0, pr->comm));
  PetscCallMPI(MPI_Bcast(p->vacancy_fraction, (int)n, MPI_DOUBLE, 0, pr->comm));
  PetscCallMPI(MPI_Bcast(p->count, (int)n, MPI_DOUBLE, 0, pr->comm));
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerExclude(OxProfiler pr, Vec mask)
{
  const PetscScalar *m;

  PetscFunctionBeginUser;
  PetscCall(gather(pr, mask, &m));
  if (!pr->rank)
    for (PetscInt i = 0; i < pr->n[0] * pr->n[1] * pr->n[2]; i++)
      if (PetscRealPart(m[i]) > 0.5) pr->bin3[i] = -1;
  PetscCall(VecRestoreArrayRead(pr->seq, &m));
  PetscFunctionReturn(0);
}

/* Depth samples binned on each rank and summed on rank 0 (into s3 there). */
static PetscErrorCode bin_samples(OxProfiler pr, const OxProfileSamples *x, double *s3)
{
  double *loc, *sum = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(4 * pr->nbin3 + 4, &loc));
  for (PetscInt m = 0; m < x->n; m++) {
    PetscInt b  = PetscMin((PetscInt)(x->depth_nm[m] / pr->bin_nm), pr->nbin3 - 1);
    double  *sb = loc + 4 * PetscMax(b, 0), w = x->weight[m];
    sb[0] += w, sb[1] += w * OxMn3Fraction(x->value[m], pr->mn_share, pr->formula_mn), sb[2] += w * x->value[m], sb[3] += w;
  }
  if (!pr->rank) PetscCall(PetscMalloc1(4 * pr->nbin3 + 4, &sum));
  PetscCallMPI(MPI_Reduce(loc, sum, (int)(4 * pr->nbin3), MPI_DOUBLE, MPI_SUM, 0, pr->comm));
  if (!pr->rank)
    for (PetscInt i = 0; i < 4 * pr->nbin3; i++) s3[i] += sum[i];
  PetscCall(PetscFree(sum));
  PetscCall(PetscFree(loc));
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerCompute(OxProfiler pr, Vec c, const OxProfileSamples *extra, OxProfile *prof3d, OxProfile *lamella)
{
  const PetscScalar *cc;
  double            *s3 = NULL, *sl = NULL, *pm = NULL, *pc = NULL;

  PetscFunctionBeginUser;
  PetscCall(gather(pr, c, &cc));
  if (!pr->rank) {
    PetscInt N = pr->n[0] * pr->n[1] * pr->n[2];
    PetscCall(PetscCalloc2(4 * pr->nbin3 + 4, &s3, 4 * pr->nbinl + 4, &sl));
    for (PetscInt i = 0; i < N; i++) {
      int     b = pr->bin3[i];
      double  ci;
      double *s;
      if (b < 0) continue;
      ci = PetscRealPart(cc[i]);
      s  = s3 + 4 * b;
      s[0] += 1.0, s[1] += OxMn3Fraction(ci, pr->mn_share, pr->formula_mn), s[2] += ci, s[3] += 1.0;
    }
    PetscCall(PetscCalloc2(pr->npix, &pm, pr->npix, &pc));
    for (PetscInt m = 0; m < pr->nslab; m++) {
      double ci = PetscRealPart(cc[pr->slab_vox[m]]);
      pm[pr->slab_pix[m]] += pr->slab_w[m] * OxMn3Fraction(ci, pr->mn_share, pr->formula_mn);
      pc[pr->slab_pix[m]] += pr->slab_w[m] * ci;
    }
    for (PetscInt p = 0; p < pr->npix; p++) {
      double *s;
      if (pr->pix_bin[p] < 0) continue;
      s = sl + 4 * pr->pix_bin[p];
      s[0] += pr->pix_t[p], s[1] += pm[p], s[2] += pc[p], s[3] += 1.0;
    }
    PetscCall(PetscFree2(pm, pc));
  }
  PetscCall(VecRestoreArrayRead(pr->seq, &cc));
  if (extra) PetscCall(bin_samples(pr, extra, s3));
  PetscCall(finish_profile(pr, pr->nbin3, s3, prof3d));
  PetscCall(finish_profile(pr, pr->nbinl, sl, lamella));
  PetscCall(PetscFree2(s3, sl));
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerMn3Field(OxProfiler pr, Vec c, Vec mn3)
{
  const PetscScalar *ca, *la;
  PetscScalar       *ma;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(c, &n));
  PetscCall(VecGetArrayRead(c, &ca));
  PetscCall(VecGetArrayRead(pr->labels, &la));
  PetscCall(VecGetArray(mn3, &ma));
  for (PetscInt i = 0; i < n; i++) ma[i] = PetscRealPart(la[i]) > 0.5 ? OxMn3Fraction(PetscRealPart(ca[i]), pr->mn_share, pr->formula_mn) : 0.0;
  PetscCall(VecRestoreArray(mn3, &ma));
  PetscCall(VecRestoreArrayRead(pr->labels, &la));
  PetscCall(VecRestoreArrayRead(c, &ca));
  PetscFunctionReturn(0);
}

void OxProfilerLamellaGeometry(OxProfiler pr, double centre_m[3], int *axis, double *thickness_nm)
{
  for (int d = 0; d < 3; d++) centre_m[d] = pr->centre_m[d];
  *axis         = pr->axis;
  *thickness_nm = pr->thickness_nm;
}
