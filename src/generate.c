/*
 * Generated microstructure: secondary particles as agglomerates of whole
 * primary particles (docs/interface.md section 3, microstructure.type = "generated").
 *
 * 1. Seeds: diameters D_i drawn log-normal (mean, cv as asked, enlarged by
 *    (1 - porosity)^(-1/3) because the gaps are carved out of the cells),
 *    placed by random sequential addition of spheres of radius f D_i / 2
 *    (packing fraction 0.3) in each secondary's sphere plus a margin shell.
 *    Seeds inside a secondary's sphere are its primaries; seeds in the shell
 *    make electrolyte cells that close the agglomerate, so its surface is the
 *    bumpy outline of whole cells, never cut by the sphere.
 * 2. Cells: the Laguerre (power) tessellation with weights (f D_i/2)^2, so cell
 *    sizes follow the drawn diameters. Each rank labels only its own voxels
 *    from the seed list every rank builds identically: the labels do not
 *    depend on the number of ranks.
 * 3. Gaps: a voxel of a primary closer than t to a face shared with another
 *    primary becomes electrolyte (still marked with its secondary); t is
 *    found by bisection so that gaps make up `porosity` of the secondaries.
 *
 * The work grows with the secondaries' volume, not the grid's. A secondary
 * whose sphere reaches farther than the grid's largest extent plus
 * OX_CLIP_MARGIN mean diameters beyond a grid face (one that covers a small
 * grid, or one far larger than it) is therefore built only within the grid
 * grown by OX_CLIP_MARGIN mean diameters on every side: what lies farther
 * cannot reach a voxel, and the cell statistics of its calibration count only
 * the seeds within OX_MARGIN mean diameters of the grid, whose cells the
 * clipped region holds whole. Every other secondary is built in full.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "oxvac/microstructure.h"
#include "oxvac/units.h"
#include "splitmix.h"

#define OX_PACKING 0.40
#define OX_MARGIN 2.0     /* shell of electrolyte seeds, in mean diameters */
#define OX_CLIP_MARGIN 4.0 /* a clipped secondary is built this far around the grid, in mean diameters */

typedef struct {
  double x[3], r; /* position (m) and Laguerre radius (m) */
  int    sec;     /* secondary id (1..), 0 for an electrolyte seed */
  int    label;   /* primary label (1..), 0 for an electrolyte seed */
} Seed;

typedef struct {
  int     n, cap;
  Seed   *s;
  double  lo[3], bin;
  int     nb[3];
  int    *head, *next; /* linked lists of seeds per bin */
} SeedSet;

/* ------------------------------------------------------------------------ */
/* Where a secondary is built                                               */
/* ------------------------------------------------------------------------ */

/* The mean cell diameter (m) the config asks for. */
static double cell_diameter(const OxConfig *cfg) { return cfg->primary_diameter_nm * OX_NM_TO_M / cbrt(1.0 - cfg->porosity); }

/* Is secondary t clipped (see the top)? If so, lo and hi are the grid grown by
 * OX_CLIP_MARGIN mean diameters, where it is built. Decided from the config
 * alone, so every calibration pass and every rank builds the same part. */
static int clipped(const OxConfig *cfg, int t, double lo[3], double hi[3])
{
  double dm = cell_diameter(cfg), h = cfg->voxel_nm * OX_NM_TO_M, lmax = 0.0, R = cfg->secondaries[t].radius_um * OX_UM_TO_M;
  int    clip = 0;

  for (int d = 0; d < 3; d++) lmax = PetscMax(lmax, cfg->shape[d] * h);
  for (int d = 0; d < 3; d++) {
    double c = cfg->secondaries[t].center_um[d] * OX_UM_TO_M, L = cfg->shape[d] * h, reach = lmax + OX_CLIP_MARGIN * dm;
    if (c - R < -reach || c + R > L + reach) clip = 1;
    lo[d] = -OX_CLIP_MARGIN * dm, hi[d] = L + OX_CLIP_MARGIN * dm;
  }
  return clip;
}

/* Volume of the ball (c, R) within the box [lo, hi]: exact when the box lies
 * in the ball, else from a 48^3 lattice of the box. */
static double ball_in_box(const double c[3], double R, const double lo[3], const double hi[3])
{
  enum { M = 48 };
  double vbox = 1.0, far = 0.0;
  long   in   = 0;

  for (int d = 0; d < 3; d++) {
    if (!(hi[d] > lo[d])) return 0.0;
    vbox *= hi[d] - lo[d];
    far += PetscMax(PetscSqr(lo[d] - c[d]), PetscSqr(hi[d] - c[d]));
  }
  if (far <= R * R) return vbox;
  for (int k = 0; k < M; k++)
    for (int j = 0; j < M; j++)
      for (int i = 0; i < M; i++) {
        double x[3] = {lo[0] + (i + 0.5) / M * (hi[0] - lo[0]), lo[1] + (j + 0.5) / M * (hi[1] - lo[1]), lo[2] + (k + 0.5) / M * (hi[2] - lo[2])};
        in += PetscSqr(x[0] - c[0]) + PetscSqr(x[1] - c[1]) + PetscSqr(x[2] - c[2]) <= R * R;
      }
  return vbox * (double)in / ((double)M * M * M);
}

/* Where points within Rx of secondary t's centre (its sphere plus a shell)
 * are drawn: *box = 0, the ball (the cube c +- Rx in lo, hi); or, clipped,
 * *box = 1 and lo, hi the part of that cube in the grid grown by
 * OX_CLIP_MARGIN mean diameters. Returns the volume of the ball there. */
static double build_region(const OxConfig *cfg, int t, double Rx, double lo[3], double hi[3], int *box)
{
  double c[3], glo[3], ghi[3];

  *box = clipped(cfg, t, glo, ghi);
  for (int d = 0; d < 3; d++) {
    c[d]  = cfg->secondaries[t].center_um[d] * OX_UM_TO_M;
    lo[d] = c[d] - Rx, hi[d] = c[d] + Rx;
    if (*box) lo[d] = PetscMax(lo[d], glo[d]), hi[d] = PetscMin(hi[d], ghi[d]);
  }
  return *box ? ball_in_box(c, Rx, lo, hi) : 4.0 / 3.0 * M_PI * Rx * Rx * Rx;
}

/* Coordinate of a point drawn from u in (0, 1) in a region of build_region:
 * uniform in [lo, hi] when clipped, else in the cube c +- Rx (the ball is
 * drawn by rejection in both). */
static double draw(int box, double lo, double hi, double c, double Rx, double u) { return box ? lo + u * (hi - lo) : c + (2.0 * u - 1.0) * Rx; }

/* Does seed s count in the cell statistics (not a seed of a clipped
 * secondary farther than OX_MARGIN mean diameters from the grid)? */
static int counted(const OxConfig *cfg, const Seed *s)
{
  double lo[3], hi[3], w = (OX_CLIP_MARGIN - OX_MARGIN) * cell_diameter(cfg);

  if (s->sec <= 0 || !clipped(cfg, s->sec - 1, lo, hi)) return 1;
  for (int d = 0; d < 3; d++)
    if (s->x[d] < lo[d] + w || s->x[d] > hi[d] - w) return 0;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Progress on stderr (rank 0, when OxGenerateSetProgress(1) asked for it)   */
/* ------------------------------------------------------------------------ */

/* A generation that takes less than this prints nothing but the startup line
 * (PETSc option -oxvac_progress_after_s changes it; the tests set 0). */
#define OX_PROGRESS_AFTER_S 1.0

static int gen_progress = 0;
void       OxGenerateSetProgress(int on) { gen_progress = on; }

/* The work is counted in point locations: the sampling of three calibration
 * passes, then the labelling of this rank's voxels. A terminal gets one line
 * rewritten in place at most once a second, anything else one line per 10 %;
 * both only once the generation has taken OX_PROGRESS_AFTER_S. */
typedef struct {
  int    on, tty, shown, last_decile;
  double t0, last, total, done, after;
} GenProgress;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void progress_start(GenProgress *p, MPI_Comm comm, double total)
{
  PetscMPIInt rank = 0;
  PetscReal   after = OX_PROGRESS_AFTER_S;
  MPI_Comm_rank(comm, &rank);
  if (PetscOptionsGetReal(NULL, NULL, "-oxvac_progress_after_s", &after, NULL)) after = OX_PROGRESS_AFTER_S;
  p->after       = after;
  p->on          = gen_progress && rank == 0;
  p->tty         = isatty(fileno(stderr));
  p->shown       = 0;
  p->last_decile = 0;
  p->t0 = p->last = now_s();
  p->total        = total > 0.0 ? total : 1.0;
  p->done         = 0.0;
}

static void progress_add(GenProgress *p, double units, const char *stage)
{
  double t, frac;
  int    decile;
  p->done += units;
  if (!p->on) return;
  t      = now_s();
  frac   = fmin(1.0, p->done / p->total);
  decile = (int)(10.0 * frac);
  if (t - p->t0 < p->after) return;
  if (p->tty ? t - p->last < 1.0 : decile <= p->last_decile) return;
  p->last        = t;
  p->last_decile = decile;
  p->shown       = 1;
  fprintf(stderr, "%sgenerating microstructure: %3.0f%%  %s  %.1f s%s", p->tty ? "\r" : "", 100.0 * frac, stage, t - p->t0, p->tty ? "   " : "\n");
  fflush(stderr);
}

static void progress_end(GenProgress *p, PetscInt nprimaries, int nsecondaries)
{
  if (!p->on || !p->shown) return;
  fprintf(stderr, "%sgenerated microstructure: %" PetscInt_FMT " primaries in %d secondar%s, %.1f s%s\n", p->tty ? "\r" : "", nprimaries, nsecondaries,
          nsecondaries == 1 ? "y" : "ies", now_s() - p->t0, p->tty ? "              " : "");
  fflush(stderr);
}

/* Points sampled per calibration pass over all secondaries (sample_cell_stats). */
static double sample_points(const OxConfig *cfg, double dmean_m)
{
  double total = 0.0;
  for (int t = 0; t < cfg->n_secondaries; t++) {
    double lo[3], hi[3], V;
    int    box;
    V = build_region(cfg, t, cfg->secondaries[t].radius_um * OX_UM_TO_M + 1.5 * dmean_m, lo, hi, &box);
    total += floor(100.0 * V / (M_PI / 6.0 * dmean_m * dmean_m * dmean_m));
  }
  return total;
}

double OxGenerateExpectedPrimaries(const OxConfig *cfg)
{
  /* The cells (primary + its share of the gaps) have the mean equal-volume
   * diameter d / (1 - porosity)^(1/3) and E[D^3] = mean^3 (1 + cv^2)^3; count
   * the part of each secondary's sphere inside the grid on a 24^3 lattice,
   * the grid grown by half a cell: a cell cut by a domain face is numbered. */
  double dm = cfg->primary_diameter_nm / cbrt(1.0 - cfg->porosity), cv2 = cfg->primary_cv * cfg->primary_cv;
  double vcell = M_PI / 6.0 * dm * dm * dm * pow(1.0 + cv2, 3.0), n = 0.0, L[3];
  for (int d = 0; d < 3; d++) L[d] = cfg->shape[d] * cfg->voxel_nm;
  for (int t = 0; t < cfg->n_secondaries; t++) {
    const OxSecondarySpec *sp = &cfg->secondaries[t];
    double                 R = sp->radius_um * 1000.0, c[3], lo[3], hi[3];
    long                   in = 0, all = 0;
    enum { M = 24 };
    for (int d = 0; d < 3; d++) c[d] = sp->center_um[d] * 1000.0;
    if (clipped(cfg, t, lo, hi)) { /* far larger than the grid: its part in the grown grid */
      for (int d = 0; d < 3; d++) lo[d] = -0.5 * dm, hi[d] = L[d] + 0.5 * dm;
      n += ball_in_box(c, R, lo, hi) / vcell;
      continue;
    }
    for (int k = 0; k < M; k++)
      for (int j = 0; j < M; j++)
        for (int i = 0; i < M; i++) {
          double x[3] = {c[0] + R * (2.0 * (i + 0.5) / M - 1.0), c[1] + R * (2.0 * (j + 0.5) / M - 1.0), c[2] + R * (2.0 * (k + 0.5) / M - 1.0)};
          if (PetscSqr(x[0] - c[0]) + PetscSqr(x[1] - c[1]) + PetscSqr(x[2] - c[2]) > R * R) continue;
          all++;
          in += x[0] >= -0.5 * dm && x[0] <= L[0] + 0.5 * dm && x[1] >= -0.5 * dm && x[1] <= L[1] + 0.5 * dm && x[2] >= -0.5 * dm &&
                x[2] <= L[2] + 0.5 * dm;
        }
    if (all) n += 4.0 / 3.0 * M_PI * R * R * R / vcell * (double)in / (double)all;
  }
  return n;
}

/* xoshiro256** seeded by splitmix64: small, fast, and the same everywhere. */
typedef struct {
  uint64_t s[4];
} Rng;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rng_next(Rng *g)
{
  uint64_t r = rotl(g->s[1] * 5, 7) * 9, t = g->s[1] << 17;
  g->s[2] ^= g->s[0], g->s[3] ^= g->s[1], g->s[1] ^= g->s[2], g->s[0] ^= g->s[3], g->s[2] ^= t, g->s[3] = rotl(g->s[3], 45);
  return r;
}
static double rng_unit(Rng *g) { return OxUnitOpen(rng_next(g)); }
static double rng_normal(Rng *g) { return sqrt(-2.0 * log(rng_unit(g))) * cos(2.0 * M_PI * rng_unit(g)); }
static void rng_seed(Rng *g, uint64_t seed)
{
  for (int i = 0; i < 4; i++) g->s[i] = OxSplitMix64Next(&seed);
}

static int bin_of(const SeedSet *S, const double x[3], int d)
{
  int b = (int)floor((x[d] - S->lo[d]) / S->bin);
  return b < 0 ? 0 : (b >= S->nb[d] ? S->nb[d] - 1 : b);
}

/* Does a sphere at x of radius r overlap any placed seed sphere? */
static int overlaps(const SeedSet *S, const double x[3], double r, double rmax)
{
  int lo[3], hi[3], reach = (int)ceil((r + rmax) / S->bin);
  for (int d = 0; d < 3; d++) {
    int b = bin_of(S, x, d);
    lo[d] = b - reach < 0 ? 0 : b - reach;
    hi[d] = b + reach >= S->nb[d] ? S->nb[d] - 1 : b + reach;
  }
  for (int k = lo[2]; k <= hi[2]; k++)
    for (int j = lo[1]; j <= hi[1]; j++)
      for (int i = lo[0]; i <= hi[0]; i++)
        for (int q = S->head[(k * S->nb[1] + j) * S->nb[0] + i]; q >= 0; q = S->next[q]) {
          const Seed *s  = &S->s[q];
          double      dx = s->x[0] - x[0], dy = s->x[1] - x[1], dz = s->x[2] - x[2], rr = s->r + r;
          if (dx * dx + dy * dy + dz * dz < rr * rr) return 1;
        }
  return 0;
}

static PetscErrorCode add_seed(SeedSet *S, const Seed *s)
{
  int b;

  PetscFunctionBeginUser;
  if (S->n == S->cap) {
    S->cap = S->cap ? 2 * S->cap : 1024;
    PetscCall(PetscRealloc(sizeof(Seed) * S->cap, &S->s));
    PetscCall(PetscRealloc(sizeof(int) * S->cap, &S->next));
  }
  S->s[S->n] = *s;
  b          = (bin_of(S, s->x, 2) * S->nb[1] + bin_of(S, s->x, 1)) * S->nb[0] + bin_of(S, s->x, 0);
  S->next[S->n] = S->head[b];
  S->head[b]    = S->n++;
  PetscFunctionReturn(0);
}

static int cmp_desc(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Place seeds in every secondary's sphere plus margin by random sequential
 * addition, largest first (the order is fixed, so is the result). */
static PetscErrorCode place_seeds(const OxConfig *cfg, double dmean_m, double cv, SeedSet *S)
{
  Rng    g;
  double sig2 = log(1.0 + cv * cv), f = cbrt(OX_PACKING);
  double mean_d3 = dmean_m * dmean_m * dmean_m * exp(3.0 * sig2); /* E[D^3] for log-normal with mean dmean */
  double margin  = OX_MARGIN * dmean_m, lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  int    nlabel  = 0;

  PetscFunctionBeginUser;
  rng_seed(&g, (uint64_t)cfg->seed);
  for (int s = 0; s < cfg->n_secondaries; s++) {
    double blo[3], bhi[3];
    int    box;
    build_region(cfg, s, cfg->secondaries[s].radius_um * OX_UM_TO_M + margin, blo, bhi, &box);
    for (int d = 0; d < 3; d++)
      if (!(bhi[d] > blo[d])) box = -1; /* clipped away */
    for (int d = 0; d < 3 && box >= 0; d++) lo[d] = PetscMin(lo[d], blo[d]), hi[d] = PetscMax(hi[d], bhi[d]);
  }
  for (int d = 0; d < 3; d++)
    if (lo[d] > hi[d]) lo[d] = hi[d] = 0.0; /* every secondary clipped away: no seed */
  S->bin = f * dmean_m * exp(2.0 * sqrt(sig2)); /* about the largest seed diameter */
  for (int d = 0; d < 3; d++) {
    S->lo[d] = lo[d];
    S->nb[d] = (int)ceil((hi[d] - lo[d]) / S->bin) + 1;
  }
  PetscCall(PetscMalloc1(S->nb[0] * S->nb[1] * S->nb[2], &S->head));
  for (int i = 0; i < S->nb[0] * S->nb[1] * S->nb[2]; i++) S->head[i] = -1;
  for (int s = 0; s < cfg->n_secondaries; s++) {
    const OxSecondarySpec *sp = &cfg->secondaries[s];
    double c[3], R = sp->radius_um * OX_UM_TO_M, Rm = R + margin, blo[3], bhi[3], vol, *D, rmax;
    int    n, box;
    vol = build_region(cfg, s, Rm, blo, bhi, &box);
    n   = (int)ceil(vol / (M_PI / 6.0 * mean_d3));
    if (n <= 0) continue; /* clipped away: nothing of it near the grid */
    for (int d = 0; d < 3; d++) c[d] = sp->center_um[d] * OX_UM_TO_M;
    PetscCall(PetscMalloc1(n, &D));
    for (int i = 0; i < n; i++) D[i] = dmean_m * exp(sqrt(sig2) * rng_normal(&g) - 0.5 * sig2);
    qsort(D, (size_t)n, sizeof(double), cmp_desc);
    rmax = 0.5 * f * D[0];
    for (int i = 0; i < n; i++) {
      Seed s = {.r = 0.5 * f * D[i]};
      for (int attempt = 0; attempt < 2000; attempt++) {
        double r2 = 0.0;
        for (int d = 0; d < 3; d++) {
          s.x[d] = draw(box, blo[d], bhi[d], c[d], Rm, rng_unit(&g));
          r2 += (s.x[d] - c[d]) * (s.x[d] - c[d]);
        }
        if (r2 > Rm * Rm || overlaps(S, s.x, s.r, rmax)) continue;
        s.sec = 0;
        for (int t = 0; t < cfg->n_secondaries && !s.sec; t++) {
          double q2 = 0.0, Rt = cfg->secondaries[t].radius_um * OX_UM_TO_M;
          for (int d = 0; d < 3; d++) q2 += PetscSqr(s.x[d] - cfg->secondaries[t].center_um[d] * OX_UM_TO_M);
          if (q2 <= Rt * Rt) s.sec = t + 1;
        }
        s.label = s.sec ? ++nlabel : 0;
        PetscCall(add_seed(S, &s));
        break;
      }
    }
    PetscCall(PetscFree(D));
  }
  PetscFunctionReturn(0);
}

/* Owner seed of voxel centre x in the power tessellation, and the distance
 * from x to the nearest face of its cell shared with another primary's cell. */
static void locate(const SeedSet *S, const double x[3], int *owner, double *face_dist)
{
  int    lo[3], hi[3], best = -1, cand[512], nc = 0;
  double pbest = 1e300;

  for (int d = 0; d < 3; d++) {
    int b = (int)floor((x[d] - S->lo[d]) / S->bin);
    lo[d] = b - 1 < 0 ? 0 : b - 1;
    hi[d] = b + 1 >= S->nb[d] ? S->nb[d] - 1 : b + 1;
    if (b + 1 < 0 || b - 1 >= S->nb[d]) {
      *owner = -1, *face_dist = 1e300;
      return;
    }
  }
  for (int k = lo[2]; k <= hi[2]; k++)
    for (int j = lo[1]; j <= hi[1]; j++)
      for (int i = lo[0]; i <= hi[0]; i++)
        for (int q = S->head[(k * S->nb[1] + j) * S->nb[0] + i]; q >= 0; q = S->next[q]) {
          const Seed *s = &S->s[q];
          double      p = PetscSqr(s->x[0] - x[0]) + PetscSqr(s->x[1] - x[1]) + PetscSqr(s->x[2] - x[2]) - s->r * s->r;
          if (nc < 512) cand[nc++] = q;
          if (p < pbest) pbest = p, best = q;
        }
  *owner     = best;
  *face_dist = 1e300;
  if (best < 0 || !S->s[best].label) return;
  for (int m = 0; m < nc; m++) {
    const Seed *a = &S->s[best], *b = &S->s[cand[m]];
    double      p, dab;
    if (cand[m] == best || !b->label) continue;
    p   = PetscSqr(b->x[0] - x[0]) + PetscSqr(b->x[1] - x[1]) + PetscSqr(b->x[2] - x[2]) - b->r * b->r;
    dab = sqrt(PetscSqr(a->x[0] - b->x[0]) + PetscSqr(a->x[1] - b->x[1]) + PetscSqr(a->x[2] - b->x[2]));
    *face_dist = PetscMin(*face_dist, (p - pbest) / (2.0 * dab));
  }
}

static void free_seeds(SeedSet *S)
{
  PetscFree(S->s);
  PetscFree(S->next);
  PetscFree(S->head);
  S->n = S->cap = 0;
}

/* Mean and coefficient of variation of the equivalent diameters of the
 * primary cells, from points sampled uniformly in each secondary's sphere
 * enlarged to hold its whole cells (100 points per cell on average). Every
 * rank draws all points but locates only its share; the hit counts are
 * integers, so the sums, and hence the labels, do not depend on the ranks. */
static PetscErrorCode sample_cell_stats(MPI_Comm comm, const OxConfig *cfg, const SeedSet *S, double dmean_m, double *mean, double *cv, GenProgress *prog,
                                        const char *stage)
{
  int          nlab = 0;
  PetscMPIInt  rank, size;
  double       s1 = 0.0, s2 = 0.0, n = 0.0, *cellv;
  long long   *hits;
  Rng          g;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  for (int q = 0; q < S->n; q++) nlab = PetscMax(nlab, S->s[q].label);
  PetscCall(PetscCalloc1(nlab + 1, &hits));
  PetscCall(PetscCalloc1(cfg->n_secondaries + 1, &cellv));
  rng_seed(&g, 0x5eed5eedULL ^ (uint64_t)cfg->seed);
  for (int t = 0; t < cfg->n_secondaries; t++) {
    double c[3], R = cfg->secondaries[t].radius_um * OX_UM_TO_M + 1.5 * dmean_m, lo[3], hi[3], V;
    long   m = 0, npts;
    int    box;
    V    = build_region(cfg, t, R, lo, hi, &box);
    npts = (long)(100.0 * V / (M_PI / 6.0 * dmean_m * dmean_m * dmean_m));
    for (int d = 0; d < 3; d++) c[d] = cfg->secondaries[t].center_um[d] * OX_UM_TO_M;
    cellv[t + 1] = npts > 0 ? V / (double)npts : 0.0; /* volume one hit stands for */
    while (m < npts) {
      double x[3], r2 = 0.0, fd;
      int    own;
      for (int d = 0; d < 3; d++) {
        x[d] = draw(box, lo[d], hi[d], c[d], R, rng_unit(&g));
        r2 += PetscSqr(x[d] - c[d]);
      }
      if (r2 > R * R) continue;
      if (++m % 4096 == 0) progress_add(prog, 4096.0 / size, stage);
      if ((m - 1) % size != rank) continue;
      locate(S, x, &own, &fd);
      if (own >= 0 && S->s[own].sec == t + 1) hits[S->s[own].label]++;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, hits, nlab + 1, MPI_LONG_LONG, MPI_SUM, comm));
  for (int q = 0; q < S->n; q++)
    if (S->s[q].label && hits[S->s[q].label] > 0 && counted(cfg, &S->s[q])) {
      double d = cbrt(6.0 * hits[S->s[q].label] * cellv[S->s[q].sec] / M_PI);
      s1 += d, s2 += d * d, n += 1.0;
    }
  *mean = n > 0 ? s1 / n : 0.0;
  *cv   = n > 1 ? sqrt(PetscMax(s2 / n - *mean * *mean, 0.0)) / *mean : 0.0;
  PetscCall(PetscFree(hits));
  PetscCall(PetscFree(cellv));
  PetscFunctionReturn(0);
}

PetscErrorCode OxGenerateAgglomerates(const OxConfig *cfg, DM da, OxMicrostructure *ms)
{
  SeedSet          S = {0};
  PetscInt         xs, ys, zs, xm, ym, zm, n, nlab = 0;
  int             *own;
  double          *fd, h = ms->voxel_m, phi = cfg->porosity;
  double           dmean = cell_diameter(cfg), t_lo = 0.0, t_hi;
  PetscScalar   ***lab, ***sec;
  MPI_Comm         comm = PetscObjectComm((PetscObject)da);
  GenProgress      prog;

  PetscFunctionBeginUser;
  /* Cells do not follow the drawn sizes exactly (the free space between the
   * seed spheres is shared out more evenly), so calibrate: draw, measure the
   * cells by sampling, correct the drawn mean and spread, a few times. */
  {
    double         d_draw = dmean, cv_draw = cfg->primary_cv, m, cv;
    PetscLogDouble tstart, tnow;
    PetscMPIInt    size;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(DMDAGetCorners(da, NULL, NULL, NULL, &xm, &ym, &zm));
    progress_start(&prog, comm, 3.0 * sample_points(cfg, dmean) / size + (double)xm * ym * zm);
    PetscCall(PetscTime(&tstart));
    for (int it = 0; it < 4; it++) {
      char stage[64];
      PetscCall(place_seeds(cfg, d_draw, cv_draw, &S));
      if (it == 3) break;
      snprintf(stage, sizeof(stage), "calibration %d/3", it + 1);
      PetscCall(sample_cell_stats(comm, cfg, &S, d_draw, &m, &cv, &prog, stage));
      PetscCall(PetscTime(&tnow));
      PetscCall(PetscInfo(NULL, "generator calibration %d (%.2f s): drew mean %g cv %g, %d seeds; cells mean %g cv %g\n", it, (double)(tnow - tstart), d_draw, cv_draw, S.n, m, cv));
      free_seeds(&S);
      if (m > 0) d_draw *= dmean / m;
      if (cv > 0 && cfg->primary_cv > 0) cv_draw = PetscMin(cv_draw * cfg->primary_cv / cv, 1.5);
    }
  }
  for (int q = 0; q < S.n; q++) nlab = PetscMax(nlab, S.s[q].label);
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  n = xm * ym * zm;
  PetscCall(PetscMalloc2(n, &own, n, &fd));
  {
    PetscInt o = 0;
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++) {
        for (PetscInt i = xs; i < xs + xm; i++, o++) {
          double x[3] = {(i + 0.5) * h, (j + 0.5) * h, (k + 0.5) * h};
          locate(&S, x, &own[o], &fd[o]);
        }
        progress_add(&prog, (double)xm, "labelling voxels");
      }
  }
  /* Gap width by bisection on the global gap fraction of the secondaries. */
  t_hi = dmean;
  for (int it = 0; it < 50 && phi > 0.0; it++) {
    double t = 0.5 * (t_lo + t_hi), cnt[2] = {0, 0}, tot[2];
    for (PetscInt o = 0; o < n; o++)
      if (own[o] >= 0 && S.s[own[o]].label) {
        cnt[0] += 1.0;
        cnt[1] += fd[o] < t;
      }
    PetscCallMPI(MPI_Allreduce(cnt, tot, 2, MPI_DOUBLE, MPI_SUM, comm));
    if (tot[0] == 0.0) break;
    if (tot[1] / tot[0] < phi) t_lo = t;
    else t_hi = t;
  }
  /* Number only the primaries that have a voxel in the grid (a secondary
   * cut by a domain face, e.g. an octant, has many seeds outside): labels
   * 1..n in seed order, the same on every rank. Each keeps the diffusivity
   * multiplier of its seed number, so renumbering changes no physics. */
  {
    double   t = phi > 0.0 ? 0.5 * (t_lo + t_hi) : -1.0;
    int     *present, *newlab;
    PetscInt o = 0, nnew = 0;
    PetscCall(PetscCalloc2(nlab + 1, &present, nlab + 1, &newlab));
    for (o = 0; o < n; o++)
      if (own[o] >= 0 && S.s[own[o]].label && fd[o] >= t) present[S.s[own[o]].label] = 1;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, present, nlab + 1, MPI_INT, MPI_MAX, comm));
    for (int l = 1; l <= nlab; l++) newlab[l] = present[l] ? (int)++nnew : 0;
    PetscCall(DMDAVecGetArray(da, ms->labels, &lab));
    PetscCall(DMDAVecGetArray(da, ms->secondary, &sec));
    o = 0;
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++)
        for (PetscInt i = xs; i < xs + xm; i++, o++) {
          const Seed *s = own[o] >= 0 ? &S.s[own[o]] : NULL;
          lab[k][j][i]  = (s && s->label && fd[o] >= t) ? newlab[s->label] : 0;
          sec[k][j][i]  = s ? s->sec : 0;
        }
    PetscCall(DMDAVecRestoreArray(da, ms->labels, &lab));
    PetscCall(DMDAVecRestoreArray(da, ms->secondary, &sec));
    ms->nparticles   = nnew;
    ms->nsecondaries = cfg->n_secondaries;
    PetscCall(PetscMalloc1(nnew + 1, &ms->particle_secondary));
    PetscCall(PetscMalloc1(nnew + 1, &ms->multiplier));
    PetscCall(PetscMalloc1(cfg->n_secondaries + 1, &ms->envelope));
    ms->particle_secondary[0] = 0;
    ms->multiplier[0]         = 0.0;
    for (int q = 0; q < S.n; q++)
      if (S.s[q].label && newlab[S.s[q].label]) {
        ms->particle_secondary[newlab[S.s[q].label]] = S.s[q].sec;
        ms->multiplier[newlab[S.s[q].label]]         = OxParticleMultiplier(cfg->seed, S.s[q].label, cfg->particle_spread);
      }
    PetscCall(PetscFree2(present, newlab));
  }
  for (int t = 0; t < cfg->n_secondaries; t++) {
    for (int d = 0; d < 3; d++) ms->envelope[t + 1][d] = cfg->secondaries[t].center_um[d] * OX_UM_TO_M;
    ms->envelope[t + 1][3] = cfg->secondaries[t].radius_um * OX_UM_TO_M;
  }
  PetscCall(PetscFree2(own, fd));
  free_seeds(&S);
  progress_end(&prog, ms->nparticles, cfg->n_secondaries);
  PetscFunctionReturn(0);
}
