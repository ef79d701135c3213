/* A sweep's summary: one row per point in summary.csv and summary.h5. */
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "oxvac/atomic.h"
#include "oxvac/compare.h"
#include "oxvac/sweep.h"

/* What one point's result says. */
typedef struct {
  OxPointState st;
  int          ok;                    /**< the result was read */
  int          ncyc, *cyc;            /**< cycles 1.. that ended, ascending */
  double      *loss;                  /**< oxygen loss at the end of each */
  int          nsec, *sec;            /**< secondary ids */
  int          nout, *out;            /**< stored cycles (/secondaries_series/cycle) */
  double      *sec_loss;              /**< [nout][nsec] */
  double      *ext, *in;              /**< [nout] over all secondaries, volume-weighted, oxygen loss % */
  double       chi2_red, wrms;
  char         error[1100];
} PointResult;

/* A whole dataset of doubles or ints (NULL when missing); dims[0..1] filled. */
static void *ReadAll(hid_t f, const char *name, hid_t type, size_t size, hsize_t dims[2])
{
  void   *buf = NULL;
  hid_t   d, sp;
  int     nd;
  hsize_t n = 1;
  dims[0] = dims[1] = 0;
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return NULL;
  if ((d = H5Dopen2(f, name, H5P_DEFAULT)) < 0) return NULL;
  sp = H5Dget_space(d);
  nd = H5Sget_simple_extent_ndims(sp);
  if (nd >= 1 && nd <= 2) {
    H5Sget_simple_extent_dims(sp, dims, NULL);
    for (int k = 0; k < nd; k++) n *= dims[k];
    if (nd == 1) dims[1] = 1;
    buf = calloc(n ? n : 1, size);
    if (buf && n && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
      free(buf);
      buf = NULL;
    }
  }
  H5Sclose(sp);
  H5Dclose(d);
  return buf;
}

static int GroupExists(hid_t f, const char *name) { return H5Lexists(f, name, H5P_DEFAULT) > 0; }

static void ReadResult(const char *path, PointResult *r)
{
  hsize_t dt[2], dl[2], ds[2], dsc[2], dsl[2], dx[2], dn[2], dve[2], dvi[2];
  hid_t   f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  int    *tc;
  double *tl, *ext = NULL, *in = NULL, *ve = NULL, *vi = NULL;
  if (f < 0) {
    snprintf(r->error, sizeof(r->error), "cannot open %s", path);
    return;
  }
  tc = ReadAll(f, "/timeseries/cycle", H5T_NATIVE_INT, sizeof(int), dt);
  tl = ReadAll(f, "/timeseries/oxygen_loss_pct", H5T_NATIVE_DOUBLE, sizeof(double), dl);
  if (!tc || !tl || dt[0] != dl[0] || !dt[0]) {
    snprintf(r->error, sizeof(r->error), "%s has no readable /timeseries", path);
    free(tc), free(tl);
    H5Fclose(f);
    return;
  }
  /* the last row of each cycle is its end */
  r->cyc  = calloc(dt[0], sizeof(int));
  r->loss = calloc(dt[0], sizeof(double));
  for (hsize_t k = 0; k < dt[0]; k++) {
    if (tc[k] < 1) continue;
    if (r->ncyc && r->cyc[r->ncyc - 1] == tc[k]) r->loss[r->ncyc - 1] = tl[k];
    else {
      r->cyc[r->ncyc]    = tc[k];
      r->loss[r->ncyc++] = tl[k];
    }
  }
  free(tc), free(tl);
  if (GroupExists(f, "/secondaries_series")) {
    r->sec      = ReadAll(f, "/secondaries/id", H5T_NATIVE_INT, sizeof(int), ds);
    r->out      = ReadAll(f, "/secondaries_series/cycle", H5T_NATIVE_INT, sizeof(int), dsc);
    r->sec_loss = ReadAll(f, "/secondaries_series/oxygen_loss_pct", H5T_NATIVE_DOUBLE, sizeof(double), dsl);
    ext         = ReadAll(f, "/secondaries_series/exterior_vacancy_mean", H5T_NATIVE_DOUBLE, sizeof(double), dx);
    in          = ReadAll(f, "/secondaries_series/interior_vacancy_mean", H5T_NATIVE_DOUBLE, sizeof(double), dn);
    ve          = ReadAll(f, "/secondaries/volume_exterior_m3", H5T_NATIVE_DOUBLE, sizeof(double), dve);
    vi          = ReadAll(f, "/secondaries/volume_interior_m3", H5T_NATIVE_DOUBLE, sizeof(double), dvi);
    if (r->sec && r->out && r->sec_loss && dsl[0] == dsc[0] && dsl[1] == ds[0]) {
      r->nsec = (int)ds[0];
      r->nout = (int)dsc[0];
      r->ext  = calloc((size_t)r->nout + 1, sizeof(double));
      r->in   = calloc((size_t)r->nout + 1, sizeof(double));
      /* exterior and interior primaries of all secondaries together, volume-weighted */
      for (int o = 0; o < r->nout; o++) {
        double se = 0, we = 0, si = 0, wi = 0;
        for (int s = 0; ext && in && ve && vi && s < r->nsec; s++) {
          double e = ext[o * r->nsec + s], i = in[o * r->nsec + s];
          if (isfinite(e) && ve[s] > 0) se += ve[s] * e, we += ve[s];
          if (isfinite(i) && vi[s] > 0) si += vi[s] * i, wi += vi[s];
        }
        r->ext[o] = we > 0 ? 100.0 * se / we : NAN;
        r->in[o]  = wi > 0 ? 100.0 * si / wi : NAN;
      }
    } else r->nsec = r->nout = 0;
  }
  free(ext), free(in), free(ve), free(vi);
  H5Fclose(f);
  r->ok = 1;
}

static void ResultFree(PointResult *r)
{
  free(r->cyc), free(r->loss), free(r->sec), free(r->out), free(r->sec_loss), free(r->ext), free(r->in);
}

/* ------------------------------------------------------------------------ */
/* Columns                                                                  */
/* ------------------------------------------------------------------------ */

/* A sorted set of ints / of (secondary, cycle) pairs. */
typedef struct {
  int n, *a, *b;
} Set;

static void SetAdd(Set *s, int a, int b)
{
  int k = 0;
  while (k < s->n && (s->a[k] < a || (s->a[k] == a && s->b[k] < b))) k++;
  if (k < s->n && s->a[k] == a && s->b[k] == b) return;
  s->a = realloc(s->a, (size_t)(s->n + 1) * sizeof(int));
  s->b = realloc(s->b, (size_t)(s->n + 1) * sizeof(int));
  memmove(s->a + k + 1, s->a + k, (size_t)(s->n - k) * sizeof(int));
  memmove(s->b + k + 1, s->b + k, (size_t)(s->n - k) * sizeof(int));
  s->a[k] = a;
  s->b[k] = b;
  s->n++;
}

static double LossAt(const PointResult *r, int cycle)
{
  for (int k = 0; k < r->ncyc; k++)
    if (r->cyc[k] == cycle) return r->loss[k];
  return NAN;
}

static int OutIndex(const PointResult *r, int cycle)
{
  for (int o = 0; o < r->nout; o++)
    if (r->out[o] == cycle) return o;
  return -1;
}

static double SecondaryLossAt(const PointResult *r, int sec, int cycle)
{
  int o = OutIndex(r, cycle);
  for (int s = 0; o >= 0 && s < r->nsec; s++)
    if (r->sec[s] == sec) return r->sec_loss[o * r->nsec + s];
  return NAN;
}

typedef enum { COL_INT, COL_NUMBER, COL_TEXT } ColKind;

typedef struct {
  char    name[600];
  ColKind kind;
  double *num;  /**< [npoints], NaN = empty */
  char  **text; /**< [npoints] */
} Column;

typedef struct {
  int     n, cap, npoints;
  Column *c;
} Table;

static Column *AddColumn(Table *t, ColKind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static Column *AddColumn(Table *t, ColKind kind, const char *fmt, ...)
{
  va_list ap;
  Column *c;
  if (t->n == t->cap) t->c = realloc(t->c, (size_t)(t->cap = t->cap ? 2 * t->cap : 32) * sizeof(Column));
  c = &t->c[t->n++];
  memset(c, 0, sizeof(*c));
  va_start(ap, fmt);
  vsnprintf(c->name, sizeof(c->name), fmt, ap);
  va_end(ap);
  c->kind = kind;
  if (kind == COL_TEXT) c->text = calloc((size_t)t->npoints, sizeof(char *));
  else {
    c->num = malloc((size_t)t->npoints * sizeof(double));
    for (int i = 0; i < t->npoints; i++) c->num[i] = NAN;
  }
  return c;
}

/* A swept value: a number stays a number, anything else is text (a string without its quotes). */
static void SweptValue(Column *c, int i, const char *v)
{
  char  *end;
  double x = strtod(v, &end);
  if (c->kind != COL_TEXT && end != v && !*end) {
    c->num[i] = x;
    return;
  }
  size_t n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') c->text[i] = strndup(v + 1, n - 2);
  else c->text[i] = strdup(v);
}

static int IsNumberText(const char *v)
{
  char *end;
  strtod(v, &end);
  return end != v && !*end;
}

static void Build(const OxSweep *sw, const PointResult *r, Table *t)
{
  Set     cyc = {0}, sc = {0}, oc = {0};
  int     measured = sw->measured[0] != '\0';
  Column *c;

  t->npoints = sw->npoints;
  c          = AddColumn(t, COL_INT, "index");
  for (int i = 0; i < sw->npoints; i++) c->num[i] = i;
  for (int j = 0; j < sw->nparam; j++) {
    int numeric = 1;
    for (int i = 0; i < sw->npoints; i++) numeric &= IsNumberText(sw->value[i][j]);
    c = AddColumn(t, numeric ? COL_NUMBER : COL_TEXT, "%s", sw->param[j].path);
    for (int i = 0; i < sw->npoints; i++) SweptValue(c, i, sw->value[i][j]);
  }
  c = AddColumn(t, COL_TEXT, "status");
  for (int i = 0; i < sw->npoints; i++) c->text[i] = strdup(OxPointStateName(r[i].st.state));
  c = AddColumn(t, COL_NUMBER, "wall_s");
  for (int i = 0; i < sw->npoints; i++)
    if (r[i].st.attempts) c->num[i] = r[i].st.wall_s;
  c = AddColumn(t, COL_INT, "cycles");
  for (int i = 0; i < sw->npoints; i++)
    if (r[i].ok && r[i].ncyc) c->num[i] = r[i].cyc[r[i].ncyc - 1];
  c = AddColumn(t, COL_NUMBER, "oxygen_loss_pct");
  for (int i = 0; i < sw->npoints; i++)
    if (r[i].ok && r[i].ncyc) c->num[i] = r[i].loss[r[i].ncyc - 1];
  for (int i = 0; i < sw->npoints; i++) {
    for (int k = 0; k < r[i].ncyc; k++) SetAdd(&cyc, 0, r[i].cyc[k]);
    for (int o = 0; o < r[i].nout; o++) {
      SetAdd(&oc, 0, r[i].out[o]);
      for (int s = 0; s < r[i].nsec; s++) SetAdd(&sc, r[i].sec[s], r[i].out[o]);
    }
  }
  for (int k = 0; k < cyc.n; k++) {
    c = AddColumn(t, COL_NUMBER, "loss_pct_cycle_%d", cyc.b[k]);
    for (int i = 0; i < sw->npoints; i++) c->num[i] = r[i].ok ? LossAt(&r[i], cyc.b[k]) : NAN;
  }
  for (int k = 0; k < sc.n; k++) {
    c = AddColumn(t, COL_NUMBER, "secondary_%d_loss_pct_cycle_%d", sc.a[k], sc.b[k]);
    for (int i = 0; i < sw->npoints; i++) c->num[i] = r[i].ok ? SecondaryLossAt(&r[i], sc.a[k], sc.b[k]) : NAN;
  }
  for (int side = 0; side < 2; side++)
    for (int k = 0; k < oc.n; k++) {
      c = AddColumn(t, COL_NUMBER, "%s_loss_pct_cycle_%d", side ? "interior" : "exterior", oc.b[k]);
      for (int i = 0; i < sw->npoints; i++) {
        int o = r[i].ok ? OutIndex(&r[i], oc.b[k]) : -1;
        if (o >= 0) c->num[i] = side ? r[i].in[o] : r[i].ext[o];
      }
    }
  if (measured) {
    c = AddColumn(t, COL_NUMBER, "chi2_red");
    for (int i = 0; i < sw->npoints; i++) c->num[i] = r[i].chi2_red;
    c = AddColumn(t, COL_NUMBER, "wrms");
    for (int i = 0; i < sw->npoints; i++) c->num[i] = r[i].wrms;
  }
  c = AddColumn(t, COL_TEXT, "error");
  for (int i = 0; i < sw->npoints; i++) c->text[i] = strdup(r[i].error);
  free(cyc.a), free(cyc.b), free(sc.a), free(sc.b), free(oc.a), free(oc.b);
}

static void TableFree(Table *t)
{
  for (int k = 0; k < t->n; k++) {
    if (t->c[k].text)
      for (int i = 0; i < t->npoints; i++) free(t->c[k].text[i]);
    free(t->c[k].text);
    free(t->c[k].num);
  }
  free(t->c);
}

/* ------------------------------------------------------------------------ */
/* Writers                                                                  */
/* ------------------------------------------------------------------------ */

static void CsvText(FILE *fp, const char *s)
{
  if (!s || !*s) return;
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"') fputc('"', fp);
    fputc(*s == '\n' || *s == '\r' ? ' ' : *s, fp);
  }
  fputc('"', fp);
}

static int WriteCsv(const Table *t, const char *path)
{
  OxAtomic a;
  FILE    *fp = OxAtomicOpen(&a, path);
  if (!fp) return -1;
  for (int k = 0; k < t->n; k++) fprintf(fp, "%s%s", k ? "," : "", t->c[k].name);
  fputc('\n', fp);
  for (int i = 0; i < t->npoints; i++) {
    for (int k = 0; k < t->n; k++) {
      const Column *c = &t->c[k];
      if (k) fputc(',', fp);
      if (c->kind == COL_TEXT) CsvText(fp, c->text[i]);
      else if (isfinite(c->num[i])) fprintf(fp, c->kind == COL_INT ? "%.0f" : "%.10g", c->num[i]);
    }
    fputc('\n', fp);
  }
  return OxAtomicClose(&a, fp, 1);
}

static int WriteH5(const OxSweep *sw, const Table *t, const char *path)
{
  char    *order;
  size_t   len = 1;
  hsize_t  n   = (hsize_t)t->npoints;
  hid_t    f, sp, str, a, asp;
  herr_t   e = 0;
  OxAtomic file;
  OxAtomicBegin(&file, path, (long)getpid());
  if ((f = H5Fcreate(file.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0) return OxAtomicCommit(&file, 0);
  sp  = H5Screate_simple(1, &n, NULL);
  str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  H5Tset_cset(str, H5T_CSET_UTF8);
  for (int k = 0; k < t->n; k++) {
    const Column *c = &t->c[k];
    hid_t         d;
    if (c->kind == COL_TEXT) {
      const char **v = calloc(n ? n : 1, sizeof(char *));
      for (hsize_t i = 0; i < n; i++) v[i] = c->text[i] ? c->text[i] : "";
      d = H5Dcreate2(f, c->name, str, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      e |= d < 0 || H5Dwrite(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
      free(v);
    } else if (c->kind == COL_INT) {
      int *v = calloc(n ? n : 1, sizeof(int));
      for (hsize_t i = 0; i < n; i++) v[i] = isfinite(c->num[i]) ? (int)c->num[i] : -1;
      d = H5Dcreate2(f, c->name, H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      e |= d < 0 || H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
      free(v);
    } else {
      d = H5Dcreate2(f, c->name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      e |= d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->num) < 0;
    }
    if (d >= 0) H5Dclose(d);
    len += strlen(c->name) + 1;
  }
  /* the column order, and where the table came from */
  order    = calloc(len, 1);
  for (int k = 0; k < t->n; k++) {
    strcat(order, t->c[k].name);
    if (k + 1 < t->n) strcat(order, "\n");
  }
  asp = H5Screate(H5S_SCALAR);
  const char *attrs[2][2] = {{"columns", order}, {"sweep", sw->file}};
  for (int k = 0; k < 2; k++) {
    a = H5Acreate2(f, attrs[k][0], str, asp, H5P_DEFAULT, H5P_DEFAULT);
    e |= a < 0 || H5Awrite(a, str, &attrs[k][1]) < 0;
    if (a >= 0) H5Aclose(a);
  }
  free(order);
  H5Sclose(asp);
  H5Tclose(str);
  H5Sclose(sp);
  e |= H5Fclose(f) < 0;
  return OxAtomicCommit(&file, !e);
}

int OxSweepCollect(const OxSweep *sw, int quiet)
{
  PointResult *r = calloc((size_t)sw->npoints, sizeof(PointResult));
  OxMeasured   meas;
  Table        t;
  char         dir[OX_PATH_MAX], path[OX_PATH_MAX + 32], err[OX_ERR_MAX];
  int          count[5] = {0}, rc = 0, have_meas = 0;

  memset(&meas, 0, sizeof(meas));
  memset(&t, 0, sizeof(t));
  if (sw->measured[0]) {
    if (OxMeasuredLoad(sw->measured, &meas, err, sizeof(err))) fprintf(stderr, "%s\n", err);
    else have_meas = 1;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* a missing dataset is an answer, not an error */
  for (int i = 0; i < sw->npoints; i++) {
    OxSweepPointDir(sw, i, dir, sizeof(dir));
    OxPointStateRead(dir, &r[i].st);
    r[i].chi2_red = r[i].wrms = NAN;
    snprintf(r[i].error, sizeof(r[i].error), "%s", r[i].st.error);
    count[r[i].st.state]++;
    if (r[i].st.state != OX_POINT_DONE) continue;
    snprintf(path, sizeof(path), "%s/result.h5", dir);
    ReadResult(path, &r[i]);
    if (r[i].ok && have_meas) {
      OxComparison cmp;
      memset(&cmp, 0, sizeof(cmp));
      if (OxCompareResult(path, &meas, sw->geometry, &cmp, err, sizeof(err))) snprintf(r[i].error, sizeof(r[i].error), "compare: %s", err);
      else {
        r[i].chi2_red = cmp.chi2_red_all;
        r[i].wrms     = cmp.wrms_all;
      }
      OxComparisonFree(&cmp);
    }
  }
  Build(sw, r, &t);
  snprintf(path, sizeof(path), "%s/summary.csv", sw->out_dir);
  if (WriteCsv(&t, path)) {
    fprintf(stderr, "oxvac: sweep: cannot write %s\n", path);
    rc = 1;
  }
  snprintf(path, sizeof(path), "%s/summary.h5", sw->out_dir);
  if (!rc && WriteH5(sw, &t, path)) {
    fprintf(stderr, "oxvac: sweep: cannot write %s\n", path);
    rc = 1;
  }
  if (!rc && !quiet)
    printf("sweep: wrote %s/summary.csv and summary.h5: %d points (%d done, %d failed, %d interrupted, %d running, %d pending)\n", sw->out_dir, sw->npoints,
           count[OX_POINT_DONE], count[OX_POINT_FAILED], count[OX_POINT_INTERRUPTED], count[OX_POINT_RUNNING], count[OX_POINT_PENDING]);
  for (int i = 0; i < sw->npoints; i++) ResultFree(&r[i]);
  free(r);
  TableFree(&t);
  OxMeasuredFree(&meas);
  return rc;
}
