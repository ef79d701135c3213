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
  PetscInt    n[3];
  double      h_nm, mn_share, formula_mn, bin_nm, thickness_nm, centre_m[3];
  int         axis;
  /* every rank, over its own solid voxels (voxel-vector order) */
  PetscInt    nloc;
  int        *bin3;           /* [nloc] 3D bin of each owned solid voxel, -1 when left out */
  PetscInt    nbin3;
  PetscInt    nslab;          /* owned solid voxels in the slab */
  PetscInt   *slab_vox, *slab_pix; /* their voxel-vector index and pixel */
  double     *slab_w;         /* overlap of the voxel with the slab, in voxels */
  PetscInt    npix, nbinl;
  /* rank 0 only */
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

/* Rank 0 (the whole grid, natural order): the 3D bin of every voxel by its
 * distance from its particle's surface, -1 for electrolyte, into bin[N]. */
static PetscErrorCode build_3d(OxProfiler pr, const int *lab, double *bin)
{
  PetscInt N = pr->n[0] * pr->n[1] * pr->n[2];
  double  *f;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(N, &f));
  mark_interfaces(lab, pr->n, 3, f);
  PetscCall(OxDistanceSquared(3, pr->n, f));
  pr->nbin3 = 0;
  for (PetscInt i = 0; i < N; i++) {
    bin[i] = -1.0;
    if (lab[i] > 0 && f[i] < OX_DISTANCE_FAR) {
      double dist_nm = (sqrt(f[i]) + 0.5) * pr->h_nm;
      int    b       = (int)(dist_nm / pr->bin_nm);
      bin[i]         = b;
      pr->nbin3      = PetscMax(pr->nbin3, b + 1);
    }
  }
  PetscCall(PetscFree(f));
  PetscFunctionReturn(0);
}

/* Rank 0 (the whole grid): the slab's voxels, their pixel (pix[N], -1 off
 * the slab) and overlap (w[N]); each pixel's particle, thickness and
 * edge-distance bin. */
static PetscErrorCode build_lamella(OxProfiler pr, const int *lab, double *pix, double *wvox)
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
  for (PetscInt i = 0; i < pr->n[0] * pr->n[1] * pr->n[2]; i++) pix[i] = -1.0, wvox[i] = 0.0;
  for (PetscInt jv = 0; jv < nv; jv++)
    for (PetscInt ju = 0; ju < nu; ju++) {
      PetscInt p = ju + nu * jv, nc = 0, best = 0;
      pr->pix_t[p] = 0.0;
      for (PetscInt k = 0; k < nl; k++) {
        PetscInt idx;
        ijk[a] = k0 + k, ijk[u] = ju, ijk[v] = jv;
        idx    = ijk[0] + pr->n[0] * (ijk[1] + pr->n[1] * ijk[2]);
        if (lab[idx] <= 0 || w[k] <= 0.0) continue;
        pix[idx] = (double)p, wvox[idx] = w[k];
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

/* A scatter from z (the whole grid in natural order, x fastest, all on
 * rank 0) to v, whose n local entries are the voxels of natural index nat[]. */
static PetscErrorCode natural_scatter(Vec z, Vec v, PetscInt n, const PetscInt *nat, VecScatter *sc)
{
  IS       from, to;
  PetscInt lo;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(v, &lo, NULL));
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, n, nat, PETSC_COPY_VALUES, &from));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, n, lo, 1, &to));
  PetscCall(VecScatterCreate(z, from, v, to, sc));
  PetscCall(ISDestroy(&from));
  PetscCall(ISDestroy(&to));
  PetscFunctionReturn(0);
}

/* Rank 0's array a (the whole grid, natural order) into the voxel vector v through sc. */
static PetscErrorCode to_voxels(Vec z, VecScatter sc, const double *a, Vec v)
{
  PetscInt     n;
  PetscScalar *za;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(z, &n));
  PetscCall(VecGetArrayWrite(z, &za));
  for (PetscInt i = 0; i < n; i++) za[i] = a[i];
  PetscCall(VecRestoreArrayWrite(z, &za));
  PetscCall(VecScatterBegin(sc, z, v, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, z, v, INSERT_VALUES, SCATTER_FORWARD));
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerCreate(const OxConfig *cfg, const OxOperator *op, const OxMicrostructure *ms, OxProfiler *ppr)
{
  OxProfiler         pr;
  const PetscScalar *a;
  int               *lab = NULL;
  double            *bin = NULL, *pix = NULL, *wvox = NULL;
  PetscInt           N, *nat;
  Vec                z, vb, vp, vw;
  VecScatter         sc;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&pr));
  pr->comm = PetscObjectComm((PetscObject)op->da);
  PetscCallMPI(MPI_Comm_rank(pr->comm, &pr->rank));
  pr->n[0] = ms->nx, pr->n[1] = ms->ny, pr->n[2] = ms->nz;
  pr->h_nm         = ms->voxel_m / OX_NM_TO_M;
  pr->mn_share     = cfg->mn_share;
  pr->formula_mn   = cfg->formula_mn;
  pr->bin_nm       = cfg->profile_bin_nm;
  pr->thickness_nm = cfg->lamella_thickness_nm;
  pr->axis         = cfg->lamella_axis - 'x';
  pr->nloc         = op->nloc;
  slab_centre(cfg, ms, pr->centre_m);
  N = pr->n[0] * pr->n[1] * pr->n[2];
  /* The geometry is built on rank 0 from the whole grid; each rank then
   * keeps its solid voxels' part. The scatters are made here and freed (the
   * DMDA's cached natural ordering would stay for the whole run). */
  PetscCall(VecCreateMPI(pr->comm, pr->rank ? 0 : N, N, &z));
  PetscCall(OxOperatorCreateVoxelVec(op, &vb));
  PetscCall(VecDuplicate(vb, &vp));
  PetscCall(VecDuplicate(vb, &vw));
  PetscCall(PetscMalloc1(op->nloc + 1, &nat));
  PetscCall(OxOperatorNaturalIndices(op, nat));
  PetscCall(natural_scatter(z, vb, op->nloc, nat, &sc));
  PetscCall(PetscFree(nat));
  {
    /* the labels of the solid voxels (in box order: the voxel vector's
     * order) to rank 0; electrolyte stays 0 there, its label */
    PetscScalar *la;
    PetscInt     m = 0;
    PetscCall(VecGetArrayWrite(vb, &la));
    for (PetscInt o = 0; o < op->xm * op->ym * op->zm; o++)
      if (ms->label[o] > 0) la[m++] = ms->label[o];
    PetscCall(VecRestoreArrayWrite(vb, &la));
    PetscCall(VecZeroEntries(z));
    PetscCall(VecScatterBegin(sc, vb, z, INSERT_VALUES, SCATTER_REVERSE));
    PetscCall(VecScatterEnd(sc, vb, z, INSERT_VALUES, SCATTER_REVERSE));
  }
  if (!pr->rank) {
    PetscCall(PetscMalloc4(N, &lab, N, &bin, N, &pix, N, &wvox));
    PetscCall(VecGetArrayRead(z, &a));
    for (PetscInt i = 0; i < N; i++) lab[i] = (int)PetscRealPart(a[i]);
    PetscCall(VecRestoreArrayRead(z, &a));
    PetscCall(build_3d(pr, lab, bin));
    PetscCall(build_lamella(pr, lab, pix, wvox));
  }
  PetscCallMPI(MPI_Bcast(&pr->nbin3, 1, MPIU_INT, 0, pr->comm));
  PetscCallMPI(MPI_Bcast(&pr->npix, 1, MPIU_INT, 0, pr->comm));
  PetscCall(to_voxels(z, sc, bin, vb));
  PetscCall(to_voxels(z, sc, pix, vp));
  PetscCall(to_voxels(z, sc, wvox, vw));
  PetscCall(PetscFree4(lab, bin, pix, wvox));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&z));
  {
    const PetscScalar *b, *p, *w;
    PetscCall(VecGetArrayRead(vb, &b));
    PetscCall(VecGetArrayRead(vp, &p));
    PetscCall(VecGetArrayRead(vw, &w));
    pr->nslab = 0;
    for (PetscInt m = 0; m < op->nloc; m++)
      if (PetscRealPart(p[m]) >= 0.0) pr->nslab++;
    PetscCall(PetscMalloc1(op->nloc + 1, &pr->bin3));
    PetscCall(PetscMalloc3(pr->nslab + 1, &pr->slab_vox, pr->nslab + 1, &pr->slab_pix, pr->nslab + 1, &pr->slab_w));
    pr->nslab = 0;
    for (PetscInt m = 0; m < op->nloc; m++) {
      pr->bin3[m] = (int)PetscRealPart(b[m]);
      if (PetscRealPart(p[m]) < 0.0) continue;
      pr->slab_vox[pr->nslab] = m, pr->slab_pix[pr->nslab] = (PetscInt)PetscRealPart(p[m]), pr->slab_w[pr->nslab++] = PetscRealPart(w[m]);
    }
    PetscCall(VecRestoreArrayRead(vw, &w));
    PetscCall(VecRestoreArrayRead(vp, &p));
    PetscCall(VecRestoreArrayRead(vb, &b));
  }
  PetscCall(VecDestroy(&vb));
  PetscCall(VecDestroy(&vp));
  PetscCall(VecDestroy(&vw));
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
  PetscCall(VecGetArrayRead(mask, &m));
  for (PetscInt i = 0; i < pr->nloc; i++)
    if (PetscRealPart(m[i]) > 0.5) pr->bin3[i] = -1;
  PetscCall(VecRestoreArrayRead(mask, &m));
  PetscFunctionReturn(0);
}

/* Samples per chunk of the depth samples (OxProfileSamples.fill). */
#define OX_SAMPLE_CHUNK 4096

/* Depth samples binned on each rank, chunk by chunk, into loc. */
static void bin_samples(OxProfiler pr, const OxProfileSamples *x, double *loc)
{
  double   buf[3 * OX_SAMPLE_CHUNK];
  PetscInt start = 0, n;

  while ((n = x->fill(x->ctx, start, OX_SAMPLE_CHUNK, buf, buf + OX_SAMPLE_CHUNK, buf + 2 * OX_SAMPLE_CHUNK)) > 0) {
    for (PetscInt m = 0; m < n; m++) {
      double   d = buf[m], w = buf[OX_SAMPLE_CHUNK + m], v = buf[2 * OX_SAMPLE_CHUNK + m];
      PetscInt b  = PetscMin((PetscInt)(d / pr->bin_nm), pr->nbin3 - 1);
      double  *sb = loc + 4 * PetscMax(b, 0);
      sb[0] += w, sb[1] += w * OxMn3Fraction(v, pr->mn_share, pr->formula_mn), sb[2] += w * v, sb[3] += w;
    }
    start += n;
  }
}

/* Sum the local arrays loc[n] over the ranks into sum[n] on rank 0. */
static PetscErrorCode reduce_to_zero(OxProfiler pr, PetscInt n, const double *loc, double *sum)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Reduce(loc, sum, (int)n, MPI_DOUBLE, MPI_SUM, 0, pr->comm));
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerCompute(OxProfiler pr, Vec c, const OxProfileSamples *extra, OxProfile *prof3d, OxProfile *lamella)
{
  const PetscScalar *cc;
  const PetscInt     n3 = 4 * pr->nbin3 + 4, np = pr->npix + 1;
  double            *l3, *s3, *ss, *sl = NULL, *lpm, *lpc, *pm = NULL, *pc = NULL;

  PetscFunctionBeginUser;
  /* the voxels' sums and the slab's pixel sums on each rank, added on rank 0 */
  PetscCall(PetscCalloc5(n3, &l3, n3, &s3, n3, &ss, np, &lpm, np, &lpc));
  PetscCall(VecGetArrayRead(c, &cc));
  for (PetscInt i = 0; i < pr->nloc; i++) {
    int     b = pr->bin3[i];
    double  ci;
    double *s;
    if (b < 0) continue;
    ci = PetscRealPart(cc[i]);
    s  = l3 + 4 * b;
    s[0] += 1.0, s[1] += OxMn3Fraction(ci, pr->mn_share, pr->formula_mn), s[2] += ci, s[3] += 1.0;
  }
  for (PetscInt m = 0; m < pr->nslab; m++) {
    double ci = PetscRealPart(cc[pr->slab_vox[m]]);
    lpm[pr->slab_pix[m]] += pr->slab_w[m] * OxMn3Fraction(ci, pr->mn_share, pr->formula_mn);
    lpc[pr->slab_pix[m]] += pr->slab_w[m] * ci;
  }
  PetscCall(VecRestoreArrayRead(c, &cc));
  if (!pr->rank) PetscCall(PetscCalloc3(4 * pr->nbinl + 4, &sl, np, &pm, np, &pc));
  PetscCall(reduce_to_zero(pr, 4 * pr->nbin3, l3, s3));
  PetscCall(reduce_to_zero(pr, pr->npix, lpm, pm));
  PetscCall(reduce_to_zero(pr, pr->npix, lpc, pc));
  if (extra) { /* then the depth samples, added to the voxels' sums */
    PetscCall(PetscArrayzero(l3, n3));
    bin_samples(pr, extra, l3);
    PetscCall(reduce_to_zero(pr, 4 * pr->nbin3, l3, ss));
  }
  if (!pr->rank) {
    if (extra)
      for (PetscInt i = 0; i < 4 * pr->nbin3; i++) s3[i] += ss[i];
    for (PetscInt p = 0; p < pr->npix; p++) {
      double *s;
      if (pr->pix_bin[p] < 0) continue;
      s = sl + 4 * pr->pix_bin[p];
      s[0] += pr->pix_t[p], s[1] += pm[p], s[2] += pc[p], s[3] += 1.0;
    }
  }
  PetscCall(finish_profile(pr, pr->nbin3, s3, prof3d));
  PetscCall(finish_profile(pr, pr->nbinl, sl, lamella));
  PetscCall(PetscFree3(sl, pm, pc));
  PetscCall(PetscFree5(l3, s3, ss, lpm, lpc));
  PetscFunctionReturn(0);
}

PetscErrorCode OxProfilerMn3Field(OxProfiler pr, Vec c, Vec mn3)
{
  const PetscScalar *ca;
  PetscScalar       *ma;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(c, &n));
  PetscCall(VecGetArrayRead(c, &ca));
  PetscCall(VecGetArray(mn3, &ma));
  for (PetscInt i = 0; i < n; i++) ma[i] = OxMn3Fraction(PetscRealPart(ca[i]), pr->mn_share, pr->formula_mn);
  PetscCall(VecRestoreArray(mn3, &ma));
  PetscCall(VecRestoreArrayRead(c, &ca));
  PetscFunctionReturn(0);
}

void OxProfilerLamellaGeometry(OxProfiler pr, double centre_m[3], int *axis, double *thickness_nm)
{
  for (int d = 0; d < 3; d++) centre_m[d] = pr->centre_m[d];
  *axis         = pr->axis;
  *thickness_nm = pr->thickness_nm;
}
