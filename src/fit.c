/**
 * @file fit.c
 * @brief `oxvac fit CONFIG MEASURED.csv --param PATH ...`: positive config
 *        values (scale factors) fitted to measured Mn3+ profiles.
 *
 * The parameters are theta_j = ln(value_j), started at the config's values
 * (after --set), kept in a box around the start (--bounds), and moved by a
 * Levenberg-Marquardt minimiser of chi2 = sum r_i^2, r_i = (model_i -
 * measured_i) / sigma_i (compare.h). Each residual evaluation is one forward
 * run (run.h) into a private temporary folder; the Jacobian is a forward
 * difference in theta. At the optimum the covariance s2 * (J^T J)^-1 gives
 * the 1-sigma intervals, and a parameter is reported as not identifiable
 * when the data do not depend on it, it ends at a bound, its interval spans
 * more than a factor e, or it is correlated above 0.99 with another one.
 *
 * Under mpiexec every rank does every forward run (collectively); rank 0
 * compares, broadcasts the residuals, prints and writes. Every rank runs the
 * same minimiser on the same numbers, so every rank takes the same decisions.
 */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <hdf5.h>
#include <petscsys.h>
#include "oxvac/atomic.h"
#include "oxvac/batch.h"
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/compare.h"
#include "oxvac/config.h"
#include "oxvac/fit.h"
#include "oxvac/protocol.h"
#include "oxvac/run.h"
#include "oxvac/shell.h"

/* ------------------------------------------------------------------------ */
/* Small dense linear algebra (p is a handful)                              */
/* ------------------------------------------------------------------------ */

void OxSymEigen(int p, double *A, double *w, double *V)
{
  for (int i = 0; i < p; i++)
    for (int j = 0; j < p; j++) V[i * p + j] = (i == j);
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0.0, diag = 0.0;
    for (int i = 0; i < p; i++) {
      diag += A[i * p + i] * A[i * p + i];
      for (int j = i + 1; j < p; j++) off += A[i * p + j] * A[i * p + j];
    }
    if (off <= 1e-30 * diag || off == 0.0) break;
    for (int k = 0; k < p; k++)
      for (int l = k + 1; l < p; l++) {
        double akl = A[k * p + l];
        if (akl == 0.0) continue;
        double tau = (A[l * p + l] - A[k * p + k]) / (2.0 * akl);
        double t   = (tau >= 0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1.0 + tau * tau));
        double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
        for (int i = 0; i < p; i++) { /* A <- A G (columns k, l) */
          double aik = A[i * p + k], ail = A[i * p + l];
          A[i * p + k] = c * aik - s * ail;
          A[i * p + l] = s * aik + c * ail;
        }
        for (int i = 0; i < p; i++) { /* A <- G^T A (rows k, l) */
          double aki = A[k * p + i], ali = A[l * p + i];
          A[k * p + i] = c * aki - s * ali;
          A[l * p + i] = s * aki + c * ali;
        }
        for (int i = 0; i < p; i++) {
          double vik = V[i * p + k], vil = V[i * p + l];
          V[i * p + k] = c * vik - s * vil;
          V[i * p + l] = s * vik + c * vil;
        }
      }
  }
  for (int i = 0; i < p; i++) w[i] = A[i * p + i];
  for (int i = 0; i < p; i++) /* ascending, columns of V along */
    for (int j = i + 1; j < p; j++)
      if (w[j] < w[i]) {
        double t = w[i];
        w[i] = w[j];
        w[j] = t;
        for (int k = 0; k < p; k++) {
          t            = V[k * p + i];
          V[k * p + i] = V[k * p + j];
          V[k * p + j] = t;
        }
      }
}

/* Solve M x = b for symmetric positive definite M (m x m, row-major, destroyed). -1 if not SPD. */
static int CholeskySolve(int m, double *M, const double *b, double *x)
{
  for (int j = 0; j < m; j++) {
    double d = M[j * m + j];
    for (int k = 0; k < j; k++) d -= M[j * m + k] * M[j * m + k];
    if (!(d > 0.0)) return -1;
    M[j * m + j] = sqrt(d);
    for (int i = j + 1; i < m; i++) {
      double s = M[i * m + j];
      for (int k = 0; k < j; k++) s -= M[i * m + k] * M[j * m + k];
      M[i * m + j] = s / M[j * m + j];
    }
  }
  for (int i = 0; i < m; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= M[i * m + k] * x[k];
    x[i] = s / M[i * m + i];
  }
  for (int i = m - 1; i >= 0; i--) {
    double s = x[i];
    for (int k = i + 1; k < m; k++) s -= M[k * m + i] * x[k];
    x[i] = s / M[i * m + i];
  }
  return 0;
}

/* snprintf for messages: a long path shortens the message, it never overflows. */
static void Say(char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

static double SumSquares(int n, const double *r)
{
  double s = 0.0;
  for (int i = 0; i < n; i++) s += r[i] * r[i];
  return s;
}

/* ------------------------------------------------------------------------ */
/* The minimiser                                                            */
/* ------------------------------------------------------------------------ */

void OxFitResultFree(OxFitResult *res)
{
  free(res->theta);
  free(res->r);
  free(res->J);
  memset(res, 0, sizeof(*res));
}

/* Forward-difference Jacobian at theta (residuals r there); a step that leaves
 * the box or cannot be evaluated is taken backwards instead. */
static int Jacobian(const OxFitProblem *pb, OxFitResidualFn fn, void *ctx, const double *theta, const double *r, double *J, double *work_t,
                    double *work_r, int *nevals)
{
  int n = pb->n, p = pb->p;
  for (int j = 0; j < p; j++) {
    double h = pb->fd_step;
    int    rc;
    if (theta[j] + h > pb->hi[j]) h = -h;
    memcpy(work_t, theta, (size_t)p * sizeof(double));
    work_t[j] = theta[j] + h;
    rc        = fn(ctx, work_t, work_r);
    (*nevals)++;
    if (rc == 1 && theta[j] - h >= pb->lo[j] && theta[j] - h <= pb->hi[j]) {
      h         = -h;
      work_t[j] = theta[j] + h;
      rc        = fn(ctx, work_t, work_r);
      (*nevals)++;
    }
    if (rc == 2) return 2;
    for (int i = 0; i < n; i++) J[j * n + i] = rc == 0 ? (work_r[i] - r[i]) / h : 0.0;
  }
  return 0;
}

int OxFitMinimize(const OxFitProblem *pb, OxFitResidualFn fn, void *ctx, const double *theta0, OxFitResult *res)
{
  int     n = pb->n, p = pb->p, rc, status = 0;
  double *g = calloc((size_t)p, sizeof(double)), *A = calloc((size_t)p * p, sizeof(double));
  double *M = calloc((size_t)p * p, sizeof(double)), *d = calloc((size_t)p, sizeof(double)), *b = calloc((size_t)p, sizeof(double));
  double *t_try = calloc((size_t)p, sizeof(double)), *r_try = calloc((size_t)n, sizeof(double));
  int    *freeidx = calloc((size_t)p, sizeof(int));
  double  lambda = 1e-3, last_drop = HUGE_VAL, last_step = HUGE_VAL;

  memset(res, 0, sizeof(*res));
  res->theta = calloc((size_t)p, sizeof(double));
  res->r     = calloc((size_t)n, sizeof(double));
  res->J     = calloc((size_t)p * n, sizeof(double));
  memcpy(res->theta, theta0, (size_t)p * sizeof(double));
  if (pb->r0) {
    memcpy(res->r, pb->r0, (size_t)n * sizeof(double));
    res->nevals = 1;
  } else {
    rc          = fn(ctx, res->theta, res->r);
    res->nevals = 1;
    if (rc) {
      status = rc;
      goto done;
    }
  }
  res->chi2 = res->chi2_start = SumSquares(n, res->r);
  for (res->niter = 0;; res->niter++) {
    if (Jacobian(pb, fn, ctx, res->theta, res->r, res->J, t_try, r_try, &res->nevals)) {
      status = 2;
      goto done;
    }
    if (pb->progress) pb->progress(ctx, res->niter, res->nevals, res->chi2, res->theta);
    if (res->niter > 0 && (last_drop < pb->ftol || last_step < pb->xtol)) {
      res->stop = OX_FIT_CONVERGED;
      break;
    }
    double maxdiag = 0.0;
    for (int j = 0; j < p; j++) {
      g[j] = 0.0;
      for (int i = 0; i < n; i++) g[j] += res->J[j * n + i] * res->r[i];
      for (int k = 0; k < p; k++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) s += res->J[j * n + i] * res->J[k * n + i];
        A[j * p + k] = s;
      }
      if (A[j * p + j] > maxdiag) maxdiag = A[j * p + j];
    }
    /* Held this step: (almost) no effect on the residuals, or at a bound and pushed out of the box. */
    int m = 0;
    for (int j = 0; j < p; j++) {
      int at_lo = res->theta[j] <= pb->lo[j] + 1e-12, at_hi = res->theta[j] >= pb->hi[j] - 1e-12;
      if (!(A[j * p + j] > 1e-20 * maxdiag) || maxdiag == 0.0 || sqrt(A[j * p + j]) < pb->hold_below) continue;
      if ((at_lo && g[j] > 0) || (at_hi && g[j] < 0)) continue;
      freeidx[m++] = j;
    }
    if (m == 0) {
      res->stop = OX_FIT_BOUNDED;
      break;
    }
    int accepted = 0;
    while (!accepted) {
      if (res->nevals + 1 + p > pb->max_evals) {
        res->stop = OX_FIT_MAX_EVALS;
        goto stopped;
      }
      for (int a = 0; a < m; a++) {
        int ja = freeidx[a];
        for (int c = 0; c < m; c++) M[a * m + c] = A[ja * p + freeidx[c]];
        M[a * m + a] += lambda * fmax(A[ja * p + ja], 1e-6 * maxdiag) + 1e-14 * maxdiag;
        b[a] = -g[ja];
      }
      if (CholeskySolve(m, M, b, d)) {
        lambda *= 10.0;
        if (lambda > 1e12) {
          res->stop = OX_FIT_STALLED;
          goto stopped;
        }
        continue;
      }
      /* Each change limited to max_step and to the box; then the decrease of chi2 the linear model predicts. */
      double step = 0.0, pred = 0.0;
      memcpy(t_try, res->theta, (size_t)p * sizeof(double));
      for (int a = 0; a < m; a++) {
        int    j  = freeidx[a];
        double dj = fmin(pb->max_step, fmax(-pb->max_step, d[a]));
        t_try[j]  = fmin(pb->hi[j], fmax(pb->lo[j], res->theta[j] + dj));
        step      = fmax(step, fabs(t_try[j] - res->theta[j]));
      }
      for (int j = 0; j < p; j++) {
        double dj = t_try[j] - res->theta[j];
        pred -= 2.0 * g[j] * dj;
        for (int k = 0; k < p; k++) pred -= dj * A[j * p + k] * (t_try[k] - res->theta[k]);
      }
      if (step < 1e-12) {
        res->stop = OX_FIT_BOUNDED;
        goto stopped;
      }
      if (pred < pb->ftol * res->chi2) { /* not worth a run: even this step would count as converged */
        res->stop = OX_FIT_CONVERGED;
        goto stopped;
      }
      rc = fn(ctx, t_try, r_try);
      res->nevals++;
      if (rc == 2) {
        status = 2;
        goto done;
      }
      double chi2_try = rc == 0 ? SumSquares(n, r_try) : HUGE_VAL;
      if (chi2_try < res->chi2) {
        last_drop = (res->chi2 - chi2_try) / fmax(res->chi2, DBL_MIN);
        last_step = step;
        res->chi2 = chi2_try;
        memcpy(res->theta, t_try, (size_t)p * sizeof(double));
        memcpy(res->r, r_try, (size_t)n * sizeof(double));
        lambda   = fmax(lambda * 0.2, 1e-9);
        accepted = 1;
      } else {
        lambda *= 10.0;
        if (lambda > 1e8) {
          res->stop = OX_FIT_STALLED;
          goto stopped;
        }
      }
    }
  }
stopped:
  /* J, r and chi2 all belong to res->theta here: each accepted step is followed by a Jacobian. */
done:
  free(g);
  free(A);
  free(M);
  free(d);
  free(b);
  free(t_try);
  free(r_try);
  free(freeidx);
  return status;
}

void OxFitCovariance(int n, int p, const double *J, double chi2, double *cov, double *s2)
{
  double *A = calloc((size_t)p * p, sizeof(double)), *V = calloc((size_t)p * p, sizeof(double)), *w = calloc((size_t)p, sizeof(double));
  int    *undetermined = calloc((size_t)p, sizeof(int));
  double  wmax;

  *s2 = n > p ? fmax(1.0, chi2 / (n - p)) : 1.0;
  for (int j = 0; j < p; j++)
    for (int k = 0; k < p; k++) {
      double s = 0.0;
      for (int i = 0; i < n; i++) s += J[j * n + i] * J[k * n + i];
      A[j * p + k] = s;
    }
  OxSymEigen(p, A, w, V);
  wmax = p > 0 ? w[p - 1] : 0.0;
  for (int k = 0; k < p; k++)
    if (!(w[k] > 1e-12 * wmax) || wmax <= 0.0)
      for (int j = 0; j < p; j++)
        if (fabs(V[j * p + k]) > 1e-3) undetermined[j] = 1;
  for (int j = 0; j < p; j++)
    for (int l = 0; l < p; l++) {
      double s = 0.0;
      if (undetermined[j] || undetermined[l]) {
        cov[j * p + l] = j == l ? HUGE_VAL : 0.0;
        continue;
      }
      for (int k = 0; k < p; k++)
        if (w[k] > 1e-12 * wmax && wmax > 0.0) s += V[j * p + k] * V[l * p + k] / w[k];
      cov[j * p + l] = *s2 * s;
    }
  free(A);
  free(V);
  free(w);
  free(undetermined);
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

typedef enum { MODE_AUTO, MODE_AVERAGED, MODE_RESOLVED } FitMode;

/* Protocols with more cycles than this are fitted in averaged mode under --mode auto. */
#define AUTO_AVERAGED_MIN_CYCLES 7
/* Under --mode auto, averaged iterations need the run's own error estimate below this. */
#define AUTO_AVERAGED_MAX_ERROR 0.01

#define FD_STEP 0.03      /* forward-difference step in ln(value): 3 % */
#define MAX_STEP 2.0      /* one step changes a value by at most a factor e^2 */
#define FTOL 1e-3         /* relative chi2 decrease below which the fit has converged */
#define XTOL 1e-3         /* change of ln(value) below which the fit has converged */
#define NO_EFFECT 0.1     /* |dr/dln(value)| (in sigmas, s2-scaled) below this: the data do not see it */
#define MAX_SIGMA_LN 1.0  /* sigma of ln(value) above this: uncertain by more than a factor e */
#define MAX_CORR 0.99

typedef struct {
  const char  *config, *measured, *out;
  int          nparam;
  const char **param;
  int          nset;
  const char **sets;
  OxGeometry   geometry;
  FitMode      mode;
  double       bound_lo, bound_hi; /* factors on the start value */
  int          max_evals;
  int          quiet;
} FitOptions;

/* A usage error about argument argn (from 1; arg NULL past the end), printed by the rank that prints. */
static int UsageError(int print, int argn, const char *arg, const char *fmt, ...)
{
  va_list ap;
  if (!print) return OX_EXIT_INPUT;
  va_start(ap, fmt);
  OxUsageErrorV("fit", argn, arg, fmt, ap);
  va_end(ap);
  return OX_EXIT_INPUT;
}

static int ParseDouble(const char *s, double *v)
{
  char *end;
  errno = 0;
  *v    = strtod(s, &end);
  return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

/* Split cli->argv into fit's options and PETSc's (appended to cli->petsc_argv): 0, 2 on a
 * usage error, -1 when --help was served. */
static int ParseOptions(OxCli *cli, int print, FitOptions *o)
{
  int    argc = cli->argc;
  char **argv = cli->argv;

  memset(o, 0, sizeof(*o));
  o->param     = calloc((size_t)argc + 1, sizeof(char *));
  o->sets      = calloc((size_t)argc + 1, sizeof(char *));
  o->geometry  = OX_GEOMETRY_LAMELLA;
  o->mode      = MODE_AUTO;
  o->bound_lo  = 1e-3;
  o->bound_hi  = 1e3;
  o->max_evals = 100;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    static const char *const takes[] = {"--param", "--set", "--geometry", "--mode", "--bounds", "--max-evals", "-o"};
    int                      opt     = -1;
    for (int k = 0; k < (int)(sizeof(takes) / sizeof(takes[0])); k++) {
      size_t len = strlen(takes[k]);
      if (!strcmp(a, takes[k])) {
        opt = k;
        if (i + 1 >= argc) return UsageError(print, i + 1, a, "the option needs a value; expected %s VALUE", a);
        val = argv[++i];
      } else if (k < 6 && !strncmp(a, takes[k], len) && a[len] == '=') {
        opt = k;
        val = a + len + 1;
      }
      if (opt >= 0) break;
    }
    switch (opt) {
    case 0: o->param[o->nparam++] = val; break;
    case 1: o->sets[o->nset++] = val; break;
    case 2:
      if (!strcmp(val, "lamella")) o->geometry = OX_GEOMETRY_LAMELLA;
      else if (!strcmp(val, "3d")) o->geometry = OX_GEOMETRY_3D;
      else return UsageError(print, i + 1, val, "not a geometry; expected lamella or 3d");
      break;
    case 3:
      if (!strcmp(val, "auto")) o->mode = MODE_AUTO;
      else if (!strcmp(val, "averaged")) o->mode = MODE_AVERAGED;
      else if (!strcmp(val, "resolved")) o->mode = MODE_RESOLVED;
      else return UsageError(print, i + 1, val, "not a mode; expected auto, averaged or resolved");
      break;
    case 4: {
      char        buf[128];
      const char *comma = strchr(val, ',');
      if (!comma || (size_t)(comma - val) >= sizeof(buf) || !ParseDouble(comma + 1, &o->bound_hi))
        return UsageError(print, i + 1, val, "not bounds; expected --bounds LO,HI, factors on the start value with 0 < LO < 1 < HI, e.g. 1e-3,1e3");
      memcpy(buf, val, (size_t)(comma - val));
      buf[comma - val] = '\0';
      if (!ParseDouble(buf, &o->bound_lo) || !(o->bound_lo > 0.0 && o->bound_lo < 1.0 && o->bound_hi > 1.0))
        return UsageError(print, i + 1, val, "not bounds; expected --bounds LO,HI, factors on the start value with 0 < LO < 1 < HI, e.g. 1e-3,1e3");
      break;
    }
    case 5: {
      double v;
      if (!ParseDouble(val, &v) || v != floor(v) || v < 1 || v > 1e6)
        return UsageError(print, i + 1, val, "not a count; expected --max-evals N, a whole number of forward runs, at least 1");
      o->max_evals = (int)v;
      break;
    }
    case 6: o->out = val; break;
    default:
      if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        if (print) OxCliUsage("fit");
        return -1; /* served: exit 0 */
      }
      if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) o->quiet = 1;
      else if (a[0] != '-' && !o->config) o->config = a;
      else if (a[0] != '-' && !o->measured) o->measured = a;
      else if (!strncmp(a, "--", 2)) return UsageError(print, i + 1, a, "unknown option; expected --param, --set, --geometry, --mode, --bounds, --max-evals, -o, --quiet, --help, or a PETSc option (one dash)");
      else cli->petsc_argv[cli->petsc_argc++] = argv[i]; /* a PETSc option or its value */
    }
  }
  if (!o->config) return UsageError(print, argc + 1, NULL, "missing CONFIG; expected oxvac fit CONFIG MEASURED.csv --param PATH");
  if (!o->measured) return UsageError(print, argc + 1, NULL, "missing MEASURED.csv; expected oxvac fit CONFIG MEASURED.csv --param PATH");
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Parameters: numeric, positive keys of the resolved config                 */
/* ------------------------------------------------------------------------ */

/* Follow a --set style path (names and [N] components) from the root. */
static config_setting_t *LookupPath(const config_t *lc, const char *path)
{
  char              buf[1024], *comp, *dot;
  config_setting_t *cur = config_root_setting(lc);
  if (strlen(path) >= sizeof(buf)) return NULL;
  strcpy(buf, path);
  for (comp = buf; cur && comp; comp = dot ? dot + 1 : NULL) {
    dot = strchr(comp, '.');
    if (dot) *dot = '\0';
    if (comp[0] == '[') {
      char *end;
      long  k = strtol(comp + 1, &end, 10);
      if (end == comp + 1 || strcmp(end, "]") || k < 0 || (!config_setting_is_list(cur) && !config_setting_is_array(cur))) return NULL;
      cur = config_setting_get_elem(cur, (unsigned)k);
    } else {
      if (!config_setting_is_group(cur) || !comp[0]) return NULL;
      cur = config_setting_get_member(cur, comp);
    }
  }
  return cur;
}

/* The floating-point key of the resolved config nearest to want (by edit distance). */
static void NearestFloatKey(const config_setting_t *s, const char *prefix, const char *want, char *best, int *bestd)
{
  int n = config_setting_length(s);
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    char                    path[1024];
    if (config_setting_is_group(s)) snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", config_setting_name(e));
    else if (config_setting_is_list(s)) snprintf(path, sizeof(path), "%s.[%d]", prefix, i);
    else continue; /* array elements cannot be set on their own */
    if (config_setting_type(e) == CONFIG_TYPE_FLOAT) {
      int d = OxEditDistance(want, path);
      if (d < *bestd) {
        *bestd = d;
        snprintf(best, 1024, "%s", path);
      }
    } else if (config_setting_is_group(e) || config_setting_is_list(e)) NearestFloatKey(e, path, want, best, bestd);
  }
}

/*
 * Each --param must be a floating-point key of the resolved config with a
 * positive value; start[j] is that value. Messages point at the key's line
 * in CONFIG where the file holds it, else at line 1.
 */
static int CheckParams(const FitOptions *o, const OxConfig *cfg, double *start, char *err, size_t errlen)
{
  char    *text = OxConfigToString(cfg);
  config_t res, orig;
  int      status = 0;

  config_init(&res);
  config_init(&orig);
  if (!text || !config_read_string(&res, text)) {
    snprintf(err, errlen, "%s:1: key 'config': the resolved config does not parse back; expected a config oxvac check accepts", o->config);
    status = OX_EXIT_INPUT;
  }
  {
    char *dir = strdup(o->config), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
      *slash = '\0';
      config_set_include_dir(&orig, dir[0] ? dir : "/");
    }
    if (!config_read_file(&orig, o->config)) { /* only for line numbers: an empty config when unreadable */
      config_destroy(&orig);
      config_init(&orig);
    }
    free(dir);
  }
  if (!status && o->nparam == 0) {
    snprintf(err, errlen,
             "%s:1: key '--param': no parameter to fit; expected at least one --param PATH with PATH a positive number of the config, e.g. --param "
             "material.diffusivity_scale",
             o->config);
    status = OX_EXIT_INPUT;
  }
  for (int j = 0; !status && j < o->nparam; j++) {
    const char             *path = o->param[j];
    const config_setting_t *s = LookupPath(&res, path), *so = LookupPath(&orig, path);
    int                     line = so && config_setting_source_line(so) ? (int)config_setting_source_line(so) : 1;
    for (int k = 0; k < j; k++)
      if (!strcmp(o->param[k], path)) {
        snprintf(err, errlen, "%s:%d: key '%s': given twice as --param; expected each parameter once", o->config, line, path);
        status = OX_EXIT_INPUT;
      }
    if (status) break;
    if (!s) {
      char best[1024] = "";
      int  bestd      = INT_MAX;
      NearestFloatKey(config_root_setting(&res), "", path, best, &bestd);
      snprintf(err, errlen, "%s:%d: key '%s': not a key of the config; expected a numeric key of the resolved config (oxvac check %s lists them)%s%s%s",
               o->config, line, path, o->config, best[0] ? ", did you mean '" : "", best, best[0] ? "'?" : "");
      status = OX_EXIT_INPUT;
    } else if (config_setting_type(s) != CONFIG_TYPE_FLOAT) {
      snprintf(err, errlen, "%s:%d: key '%s': is %s; expected a floating-point key (fit varies a positive number continuously), e.g. "
               "material.diffusivity_scale",
               o->config, line, path, OxConfigSettingKind(s));
      status = OX_EXIT_INPUT;
    } else if (!(config_setting_get_float(s) > 0.0)) {
      snprintf(err, errlen, "%s:%d: key '%s': has the value %g; expected a positive value (fit works with its logarithm)", o->config, line, path,
               config_setting_get_float(s));
      status = OX_EXIT_INPUT;
    } else start[j] = config_setting_get_float(s);
  }
  config_destroy(&res);
  config_destroy(&orig);
  free(text);
  return status;
}

/* ------------------------------------------------------------------------ */
/* Forward runs                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
  const FitOptions *o;
  const OxRunOptions *run;
  const OxMeasured *meas;
  int               rank, averaged, nruns, failed_runs, failed_in_a_row;
  char              tmpdir[PETSC_MAX_PATH_LEN], result[PETSC_MAX_PATH_LEN + 16];
  char              fields_set[4096];  /* forward runs: fields at the measured cycles */
  char              kept_fields[4096]; /* the kept run: those and the config's own (that the protocol reaches) */
  const char       *kept;              /* FITTED.h5 */
  int               keep;              /* this run is the kept one: written to kept, not removed */
  int               kept_written;      /* the kept run wrote kept */
  char            (*valset)[1100]; /* "PATH=VALUE" per parameter */
  const char      **sets;
  double            err_loss_rel;   /* the last averaged run's own error estimate */
  double            wall0;
  char              fatal[OX_ERR_MAX];
  int               fatal_input;    /* fatal is an input error (exit 2), not a failed run */
} FitCtx;

/* /averaging/error_loss_rel of a result, or NaN. */
static double ReadAveragingError(const char *path)
{
  double v = NAN;
  H5E_auto2_t fn;
  void       *data;
  H5Eget_auto2(H5E_DEFAULT, &fn, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f >= 0) {
    hid_t d = H5Dopen2(f, "/averaging/error_loss_rel", H5P_DEFAULT);
    if (d >= 0) {
      if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) v = NAN;
      H5Dclose(d);
    }
    H5Fclose(f);
  }
  H5Eset_auto2(H5E_DEFAULT, fn, data);
  return v;
}

/* Forward runs failing one after the other (for whatever reason) end the fit. */
#define MAX_FAILED_IN_A_ROW 5

/* The overrides of one run: the user's, then fit's own, then the parameters.
 * for_fit: a forward run of the minimiser; else the kept run at the fitted
 * values, whose overrides are also those of the fitted config. */
static int BuildSets(FitCtx *c, const double *value, int for_fit)
{
  const FitOptions *o = c->o;
  int               k = 0;
  for (int i = 0; i < o->nset; i++) c->sets[k++] = o->sets[i];
  c->sets[k++] = "output.checkpoint_every_cycles=0";
  c->sets[k++] = for_fit ? c->fields_set : c->kept_fields;
  c->sets[k++] = for_fit && c->averaged ? "solver.time_mode=\"averaged\"" : "solver.time_mode=\"resolved\"";
  for (int j = 0; j < o->nparam; j++) {
    snprintf(c->valset[j], sizeof(c->valset[j]), "%s=%.17g", o->param[j], value[j]);
    c->sets[k++] = c->valset[j];
  }
  return k;
}

/*
 * One forward run at theta and its residuals (OxFitResidualFn). Collective:
 * every rank runs the model; rank 0 compares and broadcasts.
 */
static int Residuals(void *ctx, const double *theta, double *r)
{
  FitCtx      *c = ctx;
  OxRunOptions run;
  OxComparison cmp;
  double     value[64];
  int        status, st[2] = {0, 0};
  char       err[OX_ERR_MAX] = "";

  for (int j = 0; j < c->o->nparam; j++) value[j] = exp(theta[j]);
  run         = *c->run;
  run.nset    = BuildSets(c, value, !c->keep);
  run.sets    = c->sets;
  run.out     = c->keep ? c->kept : c->result;
  run.quiet   = 1;
  run.silent  = 1;
  run.restart = NULL;
  memset(&cmp, 0, sizeof(cmp));
  {
    int sig = OxBatchSignal();
    MPI_Allreduce(MPI_IN_PLACE, &sig, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
    if (sig) {
      snprintf(c->fatal, sizeof(c->fatal), "oxvac: fit: stopped by signal %d after %d forward runs; nothing written", sig, c->nruns);
      return 2;
    }
  }
  c->nruns++;
  /* A value the config rejects (out of its range) is a rejected step; at the start it is reported. */
  if (OxBatchForward(&run, c->nruns == 1 ? c->rank : -1, &status, &st[1])) {
    st[0] = 2;
    snprintf(c->fatal, sizeof(c->fatal), "oxvac: fit: forward run %d stopped on a PETSc error", c->nruns);
  } else if (status == OX_EXIT_RUN_FAILED) {
    st[0] = 1;
    c->failed_runs++;
  } else if (status != OX_EXIT_OK) st[0] = 1;
  if (c->keep) c->kept_written = st[0] == 0;
  if (st[0] == 0 && c->rank == 0) {
    if (OxCompareResult(run.out, c->meas, c->o->geometry, &cmp, err, sizeof(err))) {
      /* At the start the measurement does not fit the model (an input error);
       * later it is a trial value that made the model unable to answer
       * (e.g. a profile shallower than the deepest point): a rejected step. */
      if (c->nruns == 1) {
        st[0] = 2;
        snprintf(c->fatal, sizeof(c->fatal), "%s", err);
        c->fatal_input = cmp.measured_error; /* else the run's own result is at fault */
      } else {
        st[0] = 1;
        if (!c->o->quiet) fprintf(stderr, "fit: run %d rejected: %s\n", c->nruns, err);
      }
    } else if (cmp.n != c->meas->n) {
      st[0] = 2;
      snprintf(c->fatal, sizeof(c->fatal), "oxvac: fit: the comparison has %d points, the measurement %d", cmp.n, c->meas->n);
    } else {
      memcpy(r, cmp.residual, (size_t)cmp.n * sizeof(double));
      for (int i = 0; i < cmp.n; i++)
        if (!isfinite(r[i])) st[0] = 1;
    }
    if (c->averaged) c->err_loss_rel = ReadAveragingError(c->result);
    OxComparisonFree(&cmp);
  }
  if (c->rank == 0 && !c->keep) OxBatchRemoveResult(c->result);
  MPI_Bcast(st, 2, MPI_INT, 0, PETSC_COMM_WORLD);
  MPI_Bcast(r, c->meas->n, MPI_DOUBLE, 0, PETSC_COMM_WORLD);
  MPI_Bcast(&c->err_loss_rel, 1, MPI_DOUBLE, 0, PETSC_COMM_WORLD);
  MPI_Barrier(PETSC_COMM_WORLD); /* nobody starts the next run before the file is gone */
  c->failed_in_a_row = status == OX_EXIT_RUN_FAILED ? c->failed_in_a_row + 1 : 0;
  if (st[1]) {
    snprintf(c->fatal, sizeof(c->fatal), "oxvac: fit: stopped by signal %d during forward run %d; nothing written", st[1], c->nruns);
    return 2;
  }
  if (c->failed_in_a_row >= MAX_FAILED_IN_A_ROW) {
    snprintf(c->fatal, sizeof(c->fatal), "oxvac: fit: %d forward runs in a row failed (see above), the last at run %d; nothing written",
             c->failed_in_a_row, c->nruns);
    return 2;
  }
  return st[0];
}

/* Rank 0, the fit failed after the kept run: remove what that run wrote (a
 * result it completed, the checkpoint a signal made it write). */
static void RemoveKept(FitCtx *c)
{
  char   x[PETSC_MAX_PATH_LEN + 48];
  size_t n = strlen(c->kept), stem = n > 3 && !strcmp(c->kept + n - 3, ".h5") ? n - 3 : n;
  if (c->kept_written) OxBatchRemoveResult(c->kept);
  snprintf(x, sizeof(x), "%.*s.ckpt.h5", (int)stem, c->kept);
  unlink(x);
}

static void Progress(void *ctx, int iteration, int nevals, double chi2, const double *theta)
{
  FitCtx *c = ctx;
  if (c->o->quiet || c->rank != 0) return;
  fprintf(stderr, "fit: iteration %d  runs %d  chi2 = %.6g  ", iteration, nevals, chi2);
  for (int j = 0; j < c->o->nparam; j++) fprintf(stderr, " %s = %.5g", c->o->param[j], exp(theta[j]));
  fprintf(stderr, "  (%s, %.1f s)\n", c->averaged ? "averaged" : "resolved", OxWallS() - c->wall0);
  fflush(stderr);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

/* "2.41 +/- 0.12": the value to the second significant digit of sigma. */
static void FormatValue(double v, double sigma, char *out, size_t len)
{
  if (!isfinite(sigma) || sigma <= 0.0) {
    snprintf(out, len, "%.6g +/- %s", v, isfinite(sigma) ? "0" : "inf");
    return;
  }
  if (sigma > fabs(v)) { /* an interval wider than the value: digits would pretend a precision it lacks */
    snprintf(out, len, "%.3g +/- %.2g", v, sigma);
    return;
  }
  int es = (int)floor(log10(sigma));
  if (fabs(v) >= 1e-3 && fabs(v) < 1e6 && sigma >= 1e-12) {
    int dec = 1 - es;
    if (dec < 0) dec = 0;
    if (dec > 15) dec = 15;
    snprintf(out, len, "%.*f +/- %.*f", dec, v, dec, sigma);
  } else {
    int ev = v != 0.0 ? (int)floor(log10(fabs(v))) : es, digits = ev - es + 1;
    if (digits < 1) digits = 1;
    if (digits > 16) digits = 16;
    snprintf(out, len, "%.*e +/- %.2g", digits, v, sigma);
  }
}

/* FITTED: -o, else MEASURED without .csv plus .fit.cfg. */
static void FittedPath(const FitOptions *o, char *out, size_t len)
{
  size_t n = strlen(o->measured);
  if (o->out) snprintf(out, len, "%s", o->out);
  else if (n > 4 && !strcmp(o->measured + n - 4, ".csv")) snprintf(out, len, "%.*s.fit.cfg", (int)(n - 4), o->measured);
  else snprintf(out, len, "%s.fit.cfg", o->measured);
}

/* The kept result beside FITTED: FITTED without .cfg plus ext (".h5", ".png"). */
static void KeptPath(const char *fitted, const char *ext, char *out, size_t len)
{
  size_t n = strlen(fitted);
  if (n > 4 && !strcmp(fitted + n - 4, ".cfg")) snprintf(out, len, "%.*s%s", (int)(n - 4), fitted, ext);
  else snprintf(out, len, "%s%s", fitted, ext);
}

/* Can a file be created at path? "" when yes, else why not. */
static void CheckWritable(const char *path, char *why, size_t len)
{
  char        dir[PETSC_MAX_PATH_LEN];
  const char *slash = strrchr(path, '/');
  struct stat st;
  why[0] = '\0';
  if (slash) snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
  else snprintf(dir, sizeof(dir), ".");
  if (stat(dir, &st) || !S_ISDIR(st.st_mode)) Say(why, len, "folder %s does not exist", dir);
  else if (access(dir, W_OK | X_OK)) Say(why, len, "folder %s is not writable", dir);
  else if (!stat(path, &st) && S_ISDIR(st.st_mode)) snprintf(why, len, "it is a folder");
}

typedef struct {
  double *value, *sigma;
  char  (*why)[256]; /* "" when identifiable */
  int     n_not;
} Verdict;

/* --------------------------------------------------------------------- */

typedef struct {
  double chi2_fit, chi2_final, s2;
  int    n, p, final_resolved, nruns;
  double err_loss_rel;
  const char *stop;
  const char *kept_xdmf, *plot; /* FITTED.xdmf; the command that plots FITTED.h5 against MEASURED */
} Summary;

static int WriteFitted(const FitOptions *o, const OxRunOptions *cli, FitCtx *c, const Verdict *v, const Summary *sm, const char *path, char *err,
                       size_t errlen)
{
  OxConfig cfg;
  char     buf[256];
  OxAtomic file;
  char    *text;
  FILE    *fp;
  int      status, nset = BuildSets(c, v->value, 0);
  time_t   now = time(NULL);

  memset(&cfg, 0, sizeof(cfg));
  status = OxConfigLoad(o->config, nset, c->sets, &cfg, err, errlen);
  if (status) return OX_EXIT_RUN_FAILED;
  text = OxConfigToString(&cfg);
  OxConfigFree(&cfg);
  if (!text) {
    Say(err, errlen, "oxvac: fit: out of memory writing %s", path);
    return OX_EXIT_RUN_FAILED;
  }
  fp = OxAtomicOpen(&file, path);
  if (!fp) {
    Say(err, errlen, "oxvac: fit: cannot write %s: %s", file.tmp, strerror(errno));
    free(text);
    return OX_EXIT_RUN_FAILED;
  }
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", localtime(&now));
  fprintf(fp, "# fitted by oxvac %s fit on %s\n", OXVAC_VERSION, buf);
  fprintf(fp, "# command: %s\n", cli->command_line ? cli->command_line : "oxvac fit");
  fprintf(fp, "# config: %s\n# measured: %s (%d points%s)\n", o->config, o->measured, sm->n, c->meas->synthetic ? ", synthetic" : "");
  if (c->meas->citation[0]) fprintf(fp, "#   source: %s\n", c->meas->citation);
  fprintf(fp, "# geometry: %s\n", o->geometry == OX_GEOMETRY_3D ? "3d (/profiles)" : "lamella (/lamella)");
  fprintf(fp, "# reduced chi-square = %.6g (chi2 = %.6g, n = %d points, p = %d parameters) of the resolved run at the fitted values\n",
          sm->chi2_final / (sm->n - sm->p), sm->chi2_final, sm->n, sm->p);
  fprintf(fp, "# that run is kept: %s (and %s for ParaView);\n", c->kept, sm->kept_xdmf);
  fprintf(fp, "#   it is `oxvac run` of this config, whose output.fields_at_cycles holds the measured cycles,\n");
  fprintf(fp, "#   output.checkpoint_every_cycles = 0 and solver.time_mode = \"resolved\" (as in that run)\n");
  fprintf(fp, "# plot it against the measurement: %s\n", sm->plot);
  if (sm->final_resolved) fprintf(fp, "# averaged-mode iterations ended at chi2 = %.6g\n", sm->chi2_fit);
  fprintf(fp, "# %d forward runs; minimiser: %s\n", sm->nruns, sm->stop);
  fprintf(fp, "# 1-sigma intervals (sigma = value * sigma of ln(value), covariance scaled by %.4g):\n", sm->s2);
  for (int j = 0; j < o->nparam; j++) {
    FormatValue(v->value[j], v->sigma[j], buf, sizeof(buf));
    fprintf(fp, "#   %s = %s%s%s%s\n", o->param[j], buf, v->why[j][0] ? "  (not identifiable: " : "", v->why[j], v->why[j][0] ? ")" : "");
  }
  fputs(text, fp);
  free(text);
  if (fclose(fp)) {
    Say(err, errlen, "oxvac: fit: cannot write %s: %s", file.tmp, strerror(errno));
    OxAtomicCommit(&file, 0);
    return OX_EXIT_RUN_FAILED;
  }
  /* It must read back to the fitted values. */
  status = OxConfigLoad(file.tmp, 0, NULL, &cfg, err, errlen);
  OxConfigFree(&cfg);
  if (!status) {
    config_t lc;
    config_init(&lc);
    if (!config_read_file(&lc, file.tmp)) status = 1;
    for (int j = 0; !status && j < o->nparam; j++) {
      const config_setting_t *s = LookupPath(&lc, o->param[j]);
      if (!s || config_setting_type(s) != CONFIG_TYPE_FLOAT || config_setting_get_float(s) != v->value[j]) {
        Say(err, errlen, "oxvac: fit: %s does not hold the fitted %s", file.tmp, o->param[j]);
        status = 1;
      }
    }
    config_destroy(&lc);
  }
  if (OxAtomicCommit(&file, !status) != 0) {
    if (!status) Say(err, errlen, "oxvac: fit: cannot rename %s to %s: %s", file.tmp, path, strerror(errno));
    return OX_EXIT_RUN_FAILED;
  }
  return 0;
}

/* Identifiability (see the file comment) and the 1-sigma intervals of the values. */
static void Judge(const FitOptions *o, const OxFitProblem *pb, const OxFitResult *res, double chi2, Verdict *v, double *s2)
{
  int     n = pb->n, p = pb->p;
  double *cov = calloc((size_t)p * p, sizeof(double));
  OxFitCovariance(n, p, res->J, chi2, cov, s2);
  v->n_not = 0;
  for (int j = 0; j < p; j++) {
    double colsq = 0.0, sig = sqrt(cov[j * p + j]);
    for (int i = 0; i < n; i++) colsq += res->J[j * n + i] * res->J[j * n + i];
    v->value[j] = exp(res->theta[j]);
    v->sigma[j] = isfinite(sig) ? v->value[j] * sig : HUGE_VAL;
    v->why[j][0] = '\0';
    if (sqrt(colsq / *s2) < NO_EFFECT)
      snprintf(v->why[j], sizeof(v->why[j]), "the data do not depend on it: a factor e changes chi2 by %.2g", colsq);
    else if (res->theta[j] <= pb->lo[j] + 1e-9 || res->theta[j] >= pb->hi[j] - 1e-9)
      snprintf(v->why[j], sizeof(v->why[j]), "at the %s bound %.3g of --bounds, the data push it further",
               res->theta[j] <= pb->lo[j] + 1e-9 ? "lower" : "upper", exp(res->theta[j]));
    else if (!(sig <= MAX_SIGMA_LN))
      snprintf(v->why[j], sizeof(v->why[j]), "uncertain by more than a factor e (sigma of ln = %.3g)", sig);
    else
      for (int k = 0; k < p; k++) {
        double r = cov[j * p + k] / sqrt(cov[j * p + j] * cov[k * p + k]);
        if (k != j && isfinite(r) && fabs(r) > MAX_CORR) {
          snprintf(v->why[j], sizeof(v->why[j]), "correlation %.3f with %s: only a combination of the two is determined", r, o->param[k]);
          break;
        }
      }
    if (v->why[j][0]) v->n_not++;
  }
  free(cov);
}

static const char *StopWord(OxFitStop s)
{
  switch (s) {
  case OX_FIT_CONVERGED: return "converged";
  case OX_FIT_STALLED: return "stopped: no step lowers chi2 further";
  case OX_FIT_BOUNDED: return "stopped: every free parameter is at a bound or without effect";
  default: return "stopped at --max-evals before converging";
  }
}

/* ------------------------------------------------------------------------ */
/* The command                                                              */
/* ------------------------------------------------------------------------ */

static const char help[] = "oxvac fit: scale factors fitted to measured profiles\n";

/* Everything after PetscInitialize. */
static PetscErrorCode FitMain(const FitOptions *o, const OxRunOptions *cli, const OxConfig *cfg, const OxMeasured *meas, int ncycles, const double *start,
                              const char *fitted, int *status)
{
  FitCtx       c;
  OxFitProblem pb;
  OxFitResult  res;
  Verdict      v;
  Summary      sm;
  PetscMPIInt  rank;
  int          p = o->nparam, n = meas->n, rc = 0, ndistinct = 0;
  double      *theta0, *lo, *hi, *r0 = NULL;
  char         err[OX_ERR_MAX] = "", kept[PETSC_MAX_PATH_LEN + 32], kept_xdmf[PETSC_MAX_PATH_LEN + 32], png[PETSC_MAX_PATH_LEN + 32];
  char        *plot = NULL;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  memset(&c, 0, sizeof(c));
  memset(&res, 0, sizeof(res));
  memset(&sm, 0, sizeof(sm));
  c.o     = o;
  c.run   = cli;
  c.meas  = meas;
  c.rank  = rank;
  c.wall0 = OxWallS();
  c.err_loss_rel = NAN;
  c.averaged = o->mode == MODE_AVERAGED || (o->mode == MODE_AUTO && ncycles >= AUTO_AVERAGED_MIN_CYCLES);
  KeptPath(fitted, ".h5", kept, sizeof(kept));
  KeptPath(fitted, ".xdmf", kept_xdmf, sizeof(kept_xdmf));
  KeptPath(fitted, ".png", png, sizeof(png));
  c.kept       = kept;
  sm.kept_xdmf = kept_xdmf;
  {
    const char *argv[] = {"python3", "-m", "oxvac.plot", "measured", kept, o->measured, "-o", png};
    plot    = OxShellJoin(8, argv);
    sm.plot = plot ? plot : "python3 -m oxvac.plot measured FITTED.h5 MEASURED.csv -o FITTED.png";
  }
  PetscCall(PetscCalloc1(p, &c.valset));
  PetscCall(PetscCalloc1(o->nset + p + 4, &c.sets));
  PetscCall(PetscMalloc3(p, &theta0, p, &lo, p, &hi));
  PetscCall(PetscCalloc3(p, &v.value, p, &v.sigma, p, &v.why));
  {
    /* fields (hence profiles) at exactly the measured cycles */
    int len = snprintf(c.fields_set, sizeof(c.fields_set), "output.fields_at_cycles=[");
    ndistinct = 0;
    for (int i = 0, last = -1, first = 1; i < n; i++) {
      int cyc = INT_MAX;
      for (int k = 0; k < n; k++)
        if (meas->cycle[k] > last && meas->cycle[k] < cyc) cyc = meas->cycle[k];
      if (cyc == INT_MAX) break;
      if (len < (int)sizeof(c.fields_set) - 16) len += snprintf(c.fields_set + len, sizeof(c.fields_set) - len, "%s%d", first ? "" : ",", cyc);
      last  = cyc;
      first = 0;
      ndistinct++;
    }
    snprintf(c.fields_set + len, sizeof(c.fields_set) - len, "]");
    /* the kept run: the measured cycles and the config's own that the protocol reaches, ascending */
    len = snprintf(c.kept_fields, sizeof(c.kept_fields), "output.fields_at_cycles=[");
    for (int cyc = -1, first = 1;;) {
      int next = INT_MAX;
      for (int k = 0; k < n; k++)
        if (meas->cycle[k] > cyc && meas->cycle[k] < next) next = meas->cycle[k];
      for (int k = 0; k < cfg->n_fields_at; k++)
        if (cfg->fields_at_cycles[k] > cyc && cfg->fields_at_cycles[k] <= ncycles && cfg->fields_at_cycles[k] < next) next = cfg->fields_at_cycles[k];
      if (next == INT_MAX) break;
      if (len < (int)sizeof(c.kept_fields) - 16) len += snprintf(c.kept_fields + len, sizeof(c.kept_fields) - len, "%s%d", first ? "" : ",", next);
      cyc   = next;
      first = 0;
    }
    snprintf(c.kept_fields + len, sizeof(c.kept_fields) - len, "]");
  }
  for (int j = 0; j < p; j++) {
    theta0[j] = log(start[j]);
    lo[j]     = theta0[j] + log(o->bound_lo);
    hi[j]     = theta0[j] + log(o->bound_hi);
  }
  if (rank == 0 && OxBatchTempDir(o->measured, "oxvac-fit", c.tmpdir, sizeof(c.tmpdir))) c.tmpdir[0] = '\0';
  PetscCallMPI(MPI_Bcast(c.tmpdir, sizeof(c.tmpdir), MPI_CHAR, 0, PETSC_COMM_WORLD));
  if (!c.tmpdir[0]) {
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR, "%s:1: key 'MEASURED': cannot create a temporary folder for the forward runs beside it, in $TMPDIR or /tmp; expected a writable folder\n",
                           o->measured));
    *status = OX_EXIT_INPUT;
    goto cleanup;
  }
  snprintf(c.result, sizeof(c.result), "%s/run.h5", c.tmpdir);
  OxBatchCatchSignals();

  pb.n = n;
  pb.p = p;
  pb.lo = lo;
  pb.hi = hi;
  pb.fd_step = FD_STEP;
  pb.max_step = MAX_STEP;
  pb.ftol = FTOL;
  pb.xtol = XTOL;
  pb.max_evals = o->max_evals;
  pb.hold_below = NO_EFFECT;
  pb.r0 = NULL;
  pb.progress = Progress;

  if (!o->quiet && rank == 0)
    fprintf(stderr, "fit: %d parameters, %d points at %d cycle%s (of %d), %s mode, forward runs in %s\n", p, n, ndistinct, ndistinct == 1 ? "" : "s", ncycles,
            c.averaged ? "averaged" : "resolved", c.tmpdir);
  if (c.averaged && o->mode == MODE_AUTO) {
    /* Averaged iterations only where the run's own error estimate says they are accurate. */
    PetscCall(PetscMalloc1(n, &r0));
    rc = Residuals(&c, theta0, r0);
    if (rc == 0 && !(fabs(c.err_loss_rel) <= AUTO_AVERAGED_MAX_ERROR)) {
      if (rank == 0 && !o->quiet)
        fprintf(stderr, "fit: averaged mode's own error estimate at the start values is %.3g (above %g): fitting in resolved mode\n",
                c.err_loss_rel, AUTO_AVERAGED_MAX_ERROR);
      c.averaged = 0;
    } else if (rc == 0) pb.r0 = r0; /* the minimiser starts from this run */
  }
  if (rc != 2) rc = OxFitMinimize(&pb, Residuals, &c, theta0, &res); /* 2: a signal or a fatal error in the first run */
  if (rc) {
    if (rank == 0) {
      if (c.fatal[0]) fprintf(stderr, "%s\n", c.fatal);
      else fprintf(stderr, "oxvac: fit: the forward run at the start values failed (see above); expected a config that `oxvac run` completes\n");
    }
    *status = c.fatal[0] && c.fatal_input ? OX_EXIT_INPUT : OX_EXIT_RUN_FAILED;
    goto cleanup;
  }
  sm.n = n;
  sm.p = p;
  sm.chi2_fit = sm.chi2_final = res.chi2;
  sm.err_loss_rel = c.err_loss_rel;
  sm.stop = StopWord(res.stop);
  {
    /* The kept run: resolved, at the fitted values, with the fitted config's
     * settings, written to FITTED.h5. It confirms averaged iterations, and its
     * chi2 is the one printed (for resolved iterations the same run again). */
    double *rf;
    int     was_averaged = c.averaged;
    PetscCall(PetscMalloc1(n, &rf));
    c.averaged = 0;
    c.keep     = 1;
    rc         = Residuals(&c, res.theta, rf);
    c.keep     = 0;
    c.averaged = was_averaged;
    if (rc == 0) {
      sm.chi2_final     = SumSquares(n, rf);
      sm.final_resolved = was_averaged;
    }
    PetscCall(PetscFree(rf));
    if (rc) {
      if (rank == 0) {
        fprintf(stderr, "%s\n", c.fatal[0] ? c.fatal : "oxvac: fit: the resolved run at the fitted values failed (see above); nothing written");
        RemoveKept(&c);
      }
      *status = OX_EXIT_RUN_FAILED;
      goto cleanup;
    }
  }
  sm.nruns = c.nruns;
  Judge(o, &pb, &res, sm.chi2_final, &v, &sm.s2);
  if (rank == 0) {
    char buf[256];
    if (!o->quiet)
      fprintf(stderr, "fit: %s after %d iterations, %d forward runs (%d failed), %.1f s\n", sm.stop, res.niter, c.nruns, c.failed_runs,
              OxWallS() - c.wall0);
    for (int j = 0; j < p; j++) {
      FormatValue(v.value[j], v.sigma[j], buf, sizeof(buf));
      printf("%s = %s%s%s%s\n", o->param[j], buf, v.why[j][0] ? "  (not identifiable: " : "", v.why[j], v.why[j][0] ? ")" : "");
    }
    if (sm.final_resolved) {
      char est[64] = "none (no cycles past the resolved window)";
      if (isfinite(sm.err_loss_rel)) snprintf(est, sizeof(est), "%.2g", sm.err_loss_rel);
      printf("averaged-mode iterations: chi2 = %.6g (reduced %.6g), averaging error estimate %s; confirmed by a resolved run:\n", sm.chi2_fit,
             sm.chi2_fit / (n - p), est);
    }
    printf("reduced chi-square = %.6g (chi2 = %.6g, n = %d points, p = %d parameters)\n", sm.chi2_final / (n - p), sm.chi2_final, n, p);
    if (res.stop == OX_FIT_MAX_EVALS) printf("warning: %s\n", sm.stop);
    rc = WriteFitted(o, cli, &c, &v, &sm, fitted, err, sizeof(err));
    if (rc) {
      fprintf(stderr, "%s\n", err);
      RemoveKept(&c);
    } else {
      printf("wrote %s\n", fitted);
      printf("wrote %s (the run at the fitted values; %s for ParaView)\n", kept, kept_xdmf);
      printf("plot model vs measured: %s\n", sm.plot);
    }
    fflush(stdout);
    *status = rc;
  }
  PetscCallMPI(MPI_Bcast(status, 1, MPI_INT, 0, PETSC_COMM_WORLD));

cleanup:
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  if (rank == 0 && c.tmpdir[0]) OxBatchRemoveDir(c.tmpdir);
  OxBatchReleaseSignals();
  OxFitResultFree(&res);
  PetscCall(PetscFree(r0));
  PetscCall(PetscFree(c.valset));
  PetscCall(PetscFree(c.sets));
  PetscCall(PetscFree3(theta0, lo, hi));
  PetscCall(PetscFree3(v.value, v.sigma, v.why));
  free(plot);
  PetscFunctionReturn(0);
}

int OxCommandFit(OxCli *cli)
{
  FitOptions     o;
  OxConfig       cfg;
  OxProtocol     prot;
  OxMeasured     meas;
  OxRunOptions   load;
  PetscErrorCode ierr;
  int            rank = OxLauncherRank(), status, ncycles = 0;
  double        *start = NULL;
  char           err[OX_ERR_MAX] = "", fitted[PETSC_MAX_PATH_LEN + 16];

  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  memset(&meas, 0, sizeof(meas));
  status = ParseOptions(cli, rank == 0, &o);
  if (status) goto done;
  /* Inputs are plain files: every input error is found before MPI starts. */
  memset(&load, 0, sizeof(load));
  load.config       = o.config;
  load.nset         = o.nset;
  load.sets         = o.sets;
  load.command_line = cli->command_line;
  status      = OxLoadInputs(&load, rank, &cfg, &prot);
  if (status) goto done;
  ncycles = OxProtocolNumCycles(&prot);
  start   = calloc((size_t)o.nparam + 1, sizeof(double));
  status  = CheckParams(&o, &cfg, start, err, sizeof(err));
  if (!status && o.nparam > 64) {
    snprintf(err, sizeof(err), "%s:1: key '--param': %d parameters; expected at most 64", o.config, o.nparam);
    status = OX_EXIT_INPUT;
  }
  if (!status) status = OxMeasuredLoad(o.measured, &meas, err, sizeof(err)) ? OX_EXIT_INPUT : 0;
  for (int i = 0; !status && i < meas.n; i++)
    if (meas.cycle[i] > ncycles) {
      snprintf(err, sizeof(err), "%s:%d: key 'cycle': cycle %d is past the end of the protocol (%d cycles in %s); expected a cycle the run reaches",
               o.measured, meas.line[i], meas.cycle[i], ncycles, o.config);
      status = OX_EXIT_INPUT;
    }
  if (!status && meas.n <= o.nparam) {
    snprintf(err, sizeof(err), "%s:1: key 'rows': %d points for %d parameters; expected more measured points than parameters", o.measured, meas.n,
             o.nparam);
    status = OX_EXIT_INPUT;
  }
  if (!status) {
    char  why[512];
    char *rf, *rc;
    char kept[PETSC_MAX_PATH_LEN + 32];
    FittedPath(&o, fitted, sizeof(fitted));
    CheckWritable(fitted, why, sizeof(why));
    rf = realpath(fitted, NULL);
    rc = realpath(o.config, NULL);
    if (!why[0] && rf && rc && !strcmp(rf, rc)) snprintf(why, sizeof(why), "it is CONFIG itself");
    free(rf);
    free(rc);
    if (why[0]) {
      Say(err, sizeof(err), "%s:1: key 'output': cannot write the fitted config %s: %s; expected a writable path (-o FITTED.cfg)", o.measured,
               fitted, why);
      status = OX_EXIT_INPUT;
    } else { /* and the kept run beside it */
      KeptPath(fitted, ".h5", kept, sizeof(kept));
      CheckWritable(kept, why, sizeof(why));
      rf = realpath(kept, NULL);
      rc = realpath(o.measured, NULL);
      if (!why[0] && rf && rc && !strcmp(rf, rc)) snprintf(why, sizeof(why), "it is MEASURED itself");
      free(rf);
      free(rc);
      if (why[0]) {
        Say(err, sizeof(err), "%s:1: key 'output': cannot write the kept result %s beside the fitted config: %s; expected a writable path (-o FITTED.cfg)",
            o.measured, kept, why);
        status = OX_EXIT_INPUT;
      }
    }
  }
  if (status) {
    if (rank == 0 && err[0]) fprintf(stderr, "%s\n", err);
    goto done;
  }
  ierr = PetscInitialize(&cli->petsc_argc, &cli->petsc_argv, NULL, help);
  if (ierr) {
    status = OX_EXIT_RUN_FAILED;
    goto done;
  }
  ierr = FitMain(&o, &load, &cfg, &meas, ncycles, start, fitted, &status);
  if (ierr) status = OX_EXIT_RUN_FAILED;
  ierr = PetscFinalize();
  if (ierr) status = OX_EXIT_RUN_FAILED;
done:
  free(start);
  free(o.param);
  free(o.sets);
  OxMeasuredFree(&meas);
  OxProtocolDestroy(&prot);
  OxConfigFree(&cfg);
  return status;
}
