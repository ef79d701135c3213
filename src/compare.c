/* oxvac compare: measured Mn3+ profiles against a result (docs/interface.md section 5).
 *
 * Plain C stdio and the HDF5 C API; no PETSc, no MPI. Every defect of the
 * measurement or of the result is an input error (exit 2) with a message that
 * names the file, and for the measurement the line and column. */
#include <ctype.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oxvac/atomic.h"
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/compare.h"
#include "oxvac/error.h"

#define HEADER_TEXT "cycle,distance_nm,mn3_fraction,sigma"
#define OX_SIGMA_MIN 1e-12         /* smallest sigma: 1/sigma^2 stays far from overflow */
#define OX_SIGMA_MAX 1e6           /* largest sigma: 1/sigma^2 stays far from underflow (0/0 statistics) */
#define OX_FRACTION_MIN -1.0       /* mn3_fraction a whole range outside [0, 1] is no measurement, */
#define OX_FRACTION_MAX 2.0        /* and 1e308 would make chi2 infinite */
#define OX_IMPLAUSIBLE_SIGMAS 3.0 /* mn3_fraction this many sigmas outside [0, 1]: warned about */
#define USAGE_TEXT  "oxvac compare RESULT.h5 MEASURED.csv [--geometry lamella|3d] [--format text|csv|json] [-o FILE]"

static const char *const column_name[4] = {"cycle", "distance_nm", "mn3_fraction", "sigma"};
static const char *const column_expect[4] = {
  "a cycle number, a non-negative integer (0 = the initial state)",
  "a depth from the particle surface >= 0 nm",
  "a Mn3+ fraction of Mn, nominally in [0, 1] (noisy values a little outside are kept, none outside [-1, 2])",
  "a standard deviation >= 1e-12 and <= 1e6",
};

/* Formats into err; returns OX_EXIT_INPUT so that callers can `return fail(...)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  OxInputErrorFitV(err, errlen, fmt, ap); /* one printable line, cut keeping its "; expected" */
  va_end(ap);
  return OX_EXIT_INPUT;
}

/*
 * getline that ends a line at LF, CR or CRLF (Unix, old Mac and Windows files):
 * the line into *buf without its end, its length, or -1 at the end of the file.
 */
static ssize_t read_line(char **buf, size_t *cap, FILE *f)
{
  size_t n = 0;
  int    c, any = 0;
  while ((c = getc(f)) != EOF) {
    any = 1;
    if (c == '\n') break;
    if (c == '\r') {
      int next = getc(f);
      if (next != '\n' && next != EOF) ungetc(next, f);
      break;
    }
    if (n + 2 > *cap) {
      size_t grown = *cap ? 2 * *cap : 256;
      char  *b     = realloc(*buf, grown);
      if (!b) return -1;
      *buf = b;
      *cap = grown;
    }
    (*buf)[n++] = (char)c;
  }
  if (!any) return -1;
  if (!*buf) {
    if (!(*buf = malloc(1))) return -1;
    *cap = 1;
  }
  (*buf)[n] = '\0';
  return (ssize_t)n;
}

const char *OxGeometryGroup(OxGeometry geometry)
{
  return geometry == OX_GEOMETRY_3D ? "/profiles" : "/lamella";
}

/* ---------------------------------------------------------------- measured CSV */

static char *trim(char *s)
{
  char *e;
  while (*s && isspace((unsigned char)*s)) s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

static int contains_nocase(const char *hay, const char *needle)
{
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (!strncasecmp(hay, needle, n)) return 1;
  return 0;
}

/* Split line at commas in place; fields are trimmed. Returns the field count
 * (counting past max, storing only the first max). */
static int split_fields(char *line, char **field, int max)
{
  int   n = 0;
  char *p = line;
  for (;;) {
    char *c = strchr(p, ',');
    if (c) *c = '\0';
    if (n < max) field[n] = trim(p);
    n++;
    if (!c) break;
    p = c + 1;
  }
  return n;
}

/* Whether s is a plain decimal number: [+-] digits [. digits] [e [+-] digits]
 * (no hex, no inf or nan, nothing after it). */
static int is_plain_decimal(const char *s)
{
  int digits = 0;
  if (*s == '+' || *s == '-') s++;
  while (isdigit((unsigned char)*s)) s++, digits++;
  if (*s == '.') {
    s++;
    while (isdigit((unsigned char)*s)) s++, digits++;
  }
  if (!digits) return 0;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-') s++;
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) s++;
  }
  return *s == '\0';
}

/* Parses a whole field as a double: 0 ok, 1 not a number, 2 not finite,
 * 3 a number but not plain decimal ("0x1"). */
static int parse_double(const char *s, double *v)
{
  char *end;
  if (!*s) return 1;
  errno = 0;
  *v    = strtod(s, &end);
  if (end == s || *end) return 1;
  if (!isfinite(*v)) return 2;
  if (!is_plain_decimal(s)) return 3;
  return 0;
}

static int grow(OxMeasured *m, int *cap)
{
  int     nc = *cap ? 2 * *cap : 64;
  int    *c = realloc(m->cycle, sizeof(int) * nc), *l;
  double *d, *f, *s;
  if (c) m->cycle = c;
  l = realloc(m->line, sizeof(int) * nc);
  if (l) m->line = l;
  d = realloc(m->distance_nm, sizeof(double) * nc);
  if (d) m->distance_nm = d;
  f = realloc(m->mn3_fraction, sizeof(double) * nc);
  if (f) m->mn3_fraction = f;
  s = realloc(m->sigma, sizeof(double) * nc);
  if (s) m->sigma = s;
  if (!c || !l || !d || !f || !s) return -1;
  *cap = nc;
  return 0;
}

/* Checks one data row's fields (already split, trimmed) and stores them. */
static int parse_row(const char *path, int lineno, char **field, int nfields, OxMeasured *m, char *err, size_t errlen)
{
  double v[4];

  if (nfields > 4)
    return fail(err, errlen, "%s:%d: key 'header': the row has %d fields; expected 4 fields " HEADER_TEXT, path, lineno, nfields);
  if (nfields < 4)
    return fail(err, errlen, "%s:%d: key '%s': missing (the row has %d field%s); expected 4 fields " HEADER_TEXT, path, lineno,
                column_name[nfields], nfields, nfields == 1 ? "" : "s");
  for (int k = 0; k < 4; k++) {
    int rc = parse_double(field[k], &v[k]);
    if (!*field[k]) return fail(err, errlen, "%s:%d: key '%s': empty; expected %s", path, lineno, column_name[k], column_expect[k]);
    if (rc == 1) return fail(err, errlen, "%s:%d: key '%s': '%s' is not a number; expected %s", path, lineno, column_name[k], field[k], column_expect[k]);
    if (rc == 2) return fail(err, errlen, "%s:%d: key '%s': '%s' is not finite; expected %s", path, lineno, column_name[k], field[k], column_expect[k]);
    if (rc == 3)
      return fail(err, errlen, "%s:%d: key '%s': '%s' is not a plain decimal number; expected %s, written in decimal digits (e.g. 12, 0.5, 1e-3)", path,
                  lineno, column_name[k], field[k], column_expect[k]);
  }
  if (v[0] < 0 || v[0] != floor(v[0]) || v[0] > 2147483647.0)
    return fail(err, errlen, "%s:%d: key 'cycle': %s is not a non-negative integer; expected %s", path, lineno, field[0], column_expect[0]);
  if (v[1] < 0) return fail(err, errlen, "%s:%d: key 'distance_nm': %s is negative; expected %s", path, lineno, field[1], column_expect[1]);
  if (v[2] < OX_FRACTION_MIN || v[2] > OX_FRACTION_MAX)
    return fail(err, errlen, "%s:%d: key 'mn3_fraction': %s is far outside [0, 1]; expected %s", path, lineno, field[2], column_expect[2]);
  if (v[3] <= 0) return fail(err, errlen, "%s:%d: key 'sigma': %s is not positive; expected %s", path, lineno, field[3], column_expect[3]);
  if (v[3] < OX_SIGMA_MIN)
    return fail(err, errlen, "%s:%d: key 'sigma': %s is too small (a weight 1/sigma^2 that overflows); expected %s", path, lineno, field[3],
                column_expect[3]);
  if (v[3] > OX_SIGMA_MAX)
    return fail(err, errlen, "%s:%d: key 'sigma': %s is too large (a weight 1/sigma^2 that vanishes); expected %s", path, lineno, field[3],
                column_expect[3]);
  /* A fit of reference spectra gives slightly negative fractions where the truth is ~0: kept as measured;
   * only values implausible given their sigma are worth a warning (once per file, OxMeasuredLoad). */
  if ((v[2] < -OX_IMPLAUSIBLE_SIGMAS * v[3] || v[2] > 1.0 + OX_IMPLAUSIBLE_SIGMAS * v[3]) && !m->implausible_line) m->implausible_line = lineno;
  m->n_implausible += v[2] < -OX_IMPLAUSIBLE_SIGMAS * v[3] || v[2] > 1.0 + OX_IMPLAUSIBLE_SIGMAS * v[3];
  m->cycle[m->n]        = (int)v[0];
  m->line[m->n]         = lineno;
  m->distance_nm[m->n]  = v[1];
  m->mn3_fraction[m->n] = v[2];
  m->sigma[m->n]        = v[3];
  m->n++;
  return 0;
}

/* Checks the header row; 0 or an input error. */
static int parse_header(const char *path, int lineno, char *line, char *err, size_t errlen)
{
  char  copy[256];
  char *field[8];
  int   n;
  double dummy;

  snprintf(copy, sizeof(copy), "%s", line);
  n = split_fields(line, field, 8);
  if (n >= 1 && parse_double(field[0], &dummy) != 1)
    return fail(err, errlen, "%s:%d: key 'header': no header row before the data '%s'; expected the header " HEADER_TEXT " first", path, lineno, copy);
  if (n != 4)
    return fail(err, errlen, "%s:%d: key 'header': '%s' has %d column%s; expected the header " HEADER_TEXT, path, lineno, copy, n, n == 1 ? "" : "s");
  for (int k = 0; k < 4; k++)
    if (strcasecmp(field[k], column_name[k]))
      return fail(err, errlen, "%s:%d: key 'header': column %d is '%s', not '%s'; expected the header " HEADER_TEXT " (in this order)", path, lineno,
                  k + 1, field[k], column_name[k]);
  return 0;
}

int OxMeasuredLoad(const char *path, OxMeasured *m, char *err, size_t errlen)
{
  FILE   *f;
  char   *buf = NULL, *line, *field[4];
  size_t  bufcap = 0;
  ssize_t len;
  int     lineno = 0, header_line = 0, ncomments = 0, cap = 0, status = 0, nfields;

  memset(m, 0, sizeof(*m));
  snprintf(m->source, sizeof(m->source), "%s", path);
  if (err && errlen) err[0] = '\0';
  if (!(f = fopen(path, "r")))
    return fail(err, errlen, "%s:1: key 'header': cannot open the file (%s); expected a readable CSV file with the header " HEADER_TEXT, path, strerror(errno));
  errno = 0;
  while (!status && (len = read_line(&buf, &bufcap, f)) >= 0) {
    lineno++;
    line = buf;
    if (lineno == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* UTF-8 byte-order mark */
    if ((size_t)len != strlen(buf)) {
      status = fail(err, errlen, "%s:%d: key '%s': the line holds a NUL byte; expected a text file", path, lineno, header_line ? "cycle" : "header");
      break;
    }
    line = trim(line);
    if (!*line) continue;
    if (*line == '#') {
      char *text = trim(line + 1);
      if (ncomments++ == 0 && contains_nocase(text, "synthetic")) m->synthetic = 1;
      if (!m->citation[0] && !strncasecmp(text, "source:", 7)) snprintf(m->citation, sizeof(m->citation), "%s", trim(text + 7));
      continue;
    }
    if (!header_line) {
      status = parse_header(path, lineno, line, err, errlen);
      header_line = lineno;
      continue;
    }
    if (m->n == cap && grow(m, &cap)) {
      status = fail(err, errlen, "%s:%d: out of memory", path, lineno);
      break;
    }
    nfields = split_fields(line, field, 4);
    status  = parse_row(path, lineno, field, nfields, m, err, errlen);
  }
  if (!status && ferror(f))
    status = fail(err, errlen, "%s:%d: key '%s': cannot read the file (%s); expected a readable CSV file", path, lineno + 1, header_line ? "cycle" : "header",
                  strerror(errno));
  else if (!status && !header_line)
    status = fail(err, errlen, "%s:%d: key 'header': %s; expected the header " HEADER_TEXT " and data rows", path, lineno ? lineno : 1,
                  lineno ? "no header row" : "the file is empty");
  else if (!status && m->n == 0)
    status = fail(err, errlen, "%s:%d: key 'header': no data rows after the header; expected at least one row " HEADER_TEXT, path, header_line);
  free(buf);
  fclose(f);
  if (!status && m->n_implausible) {
    char more[64] = "";
    int  i = 0;
    if (m->n_implausible > 1) snprintf(more, sizeof more, ", and so are %d more row%s", m->n_implausible - 1, m->n_implausible > 2 ? "s" : "");
    while (i < m->n && m->line[i] != m->implausible_line) i++;
    fprintf(stderr,
            "oxvac: warning: %s:%d: key 'mn3_fraction': %.6g is more than %g sigma (sigma = %.3g) outside [0, 1]%s; kept as "
            "measured, but check the data\n",
            path, m->implausible_line, i < m->n ? m->mn3_fraction[i] : 0.0, OX_IMPLAUSIBLE_SIGMAS, i < m->n ? m->sigma[i] : 0.0, more);
  }
  if (status) {
    OxMeasuredFree(m);
    snprintf(m->source, sizeof(m->source), "%s", path);
  }
  return status;
}

void OxMeasuredFree(OxMeasured *m)
{
  free(m->cycle);
  free(m->line);
  free(m->distance_nm);
  free(m->mn3_fraction);
  free(m->sigma);
  memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- result file */

/* One stored cycle's profile, reduced to its non-empty bins. */
typedef struct {
  int     stored; /* the result holds this cycle */
  int     n;      /* non-empty bins */
  double *x, *y;  /* their centres (ascending) and Mn3+ fractions */
  double  half_bin_nm;
} Profile;

typedef struct {
  int *cycle;
  int  n, cap;
} CycleList;

static herr_t collect_cycle(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
  CycleList *cl = data;
  char      *end;
  long       c;
  (void)g;
  (void)info;
  if (strncmp(name, "cycle_", 6) || !isdigit((unsigned char)name[6])) return 0;
  c = strtol(name + 6, &end, 10);
  if (*end || c < 0 || c > 2147483647L) return 0;
  if (cl->n == cl->cap) {
    int *p = realloc(cl->cycle, sizeof(int) * (cl->cap ? 2 * cl->cap : 16));
    if (!p) return -1;
    cl->cycle = p;
    cl->cap   = cl->cap ? 2 * cl->cap : 16;
  }
  cl->cycle[cl->n++] = (int)c;
  return 0;
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Reads a 1-D numeric dataset as double. */
static int read_column(const char *file, hid_t g, const char *gpath, const char *name, double **out, hsize_t *n, char *err, size_t errlen)
{
  hid_t       d, s;
  int         rank;
  hsize_t     dims[2] = {0, 0};
  H5T_class_t cls;
  hid_t       t;
  int         status = 0;

  *out = NULL;
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0 || (d = H5Dopen2(g, name, H5P_DEFAULT)) < 0)
    return fail(err, errlen, "%s: %s/%s is missing; expected a result written by oxvac run", file, gpath, name);
  t   = H5Dget_type(d);
  cls = H5Tget_class(t);
  H5Tclose(t);
  s    = H5Dget_space(d);
  rank = H5Sget_simple_extent_ndims(s);
  if (rank == 1) H5Sget_simple_extent_dims(s, dims, NULL);
  H5Sclose(s);
  if (rank != 1 || (cls != H5T_FLOAT && cls != H5T_INTEGER))
    status = fail(err, errlen, "%s: %s/%s is not a 1-D numeric dataset; expected a result written by oxvac run", file, gpath, name);
  else if (!(*out = malloc(sizeof(double) * (dims[0] ? dims[0] : 1))))
    status = fail(err, errlen, "%s: %s/%s: out of memory", file, gpath, name);
  else if (dims[0] && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
    status = fail(err, errlen, "%s: %s/%s cannot be read; expected a readable result file", file, gpath, name);
  H5Dclose(d);
  if (status) {
    free(*out);
    *out = NULL;
  }
  *n = dims[0];
  return status;
}

/* Reads GROUP/cycle_NNNNNN and keeps its non-empty bins. */
static int load_profile(const char *file, hid_t fid, const char *group, int cycle, Profile *p, char *err, size_t errlen)
{
  char    gpath[64];
  hid_t   g;
  double *dist = NULL, *mn3 = NULL, *count = NULL;
  hsize_t nd = 0, nm = 0, nc = 0;
  int     status;
  double  bin = 0;

  snprintf(gpath, sizeof(gpath), "%s/cycle_%06d", group, cycle);
  if ((g = H5Gopen2(fid, gpath, H5P_DEFAULT)) < 0) return fail(err, errlen, "%s: %s cannot be opened as a group; expected a result written by oxvac run", file, gpath);
  status = read_column(file, g, gpath, "distance_nm", &dist, &nd, err, errlen);
  if (!status) status = read_column(file, g, gpath, "mn3_fraction", &mn3, &nm, err, errlen);
  if (!status) status = read_column(file, g, gpath, "count", &count, &nc, err, errlen);
  H5Gclose(g);
  if (!status && (nm != nd || nc != nd))
    status = fail(err, errlen, "%s: %s: distance_nm, mn3_fraction and count have lengths %llu, %llu, %llu; expected equal lengths", file, gpath,
                  (unsigned long long)nd, (unsigned long long)nm, (unsigned long long)nc);
  for (hsize_t i = 0; !status && i < nd; i++) {
    if (!isfinite(dist[i]) || (i && dist[i] <= dist[i - 1]))
      status = fail(err, errlen, "%s: %s/distance_nm is not finite and strictly ascending at index %llu; expected ascending bin centres", file, gpath,
                    (unsigned long long)i);
    else if (i && (bin == 0 || dist[i] - dist[i - 1] < bin)) bin = dist[i] - dist[i - 1];
  }
  if (!status) {
    /* Bin width from the centres' spacing; a single bin starts at the surface. */
    p->half_bin_nm = nd > 1 ? 0.5 * bin : (nd == 1 ? fmax(dist[0], 0.0) : 0.0);
    p->x           = malloc(sizeof(double) * (nd ? nd : 1));
    p->y           = malloc(sizeof(double) * (nd ? nd : 1));
    if (!p->x || !p->y) status = fail(err, errlen, "%s: %s: out of memory", file, gpath);
    for (hsize_t i = 0; !status && i < nd; i++)
      if (count[i] > 0 && isfinite(mn3[i])) {
        p->x[p->n]   = dist[i];
        p->y[p->n++] = mn3[i];
      }
  }
  free(dist);
  free(mn3);
  free(count);
  return status;
}

/* Linear interpolation between the non-empty bin centres; the first value
 * below the first centre, the last up to half a bin past the last centre. */
static double interpolate(const Profile *p, double x)
{
  int lo = 0, hi = p->n - 1;
  if (x <= p->x[0]) return p->y[0];
  if (x >= p->x[hi]) return p->y[hi];
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (p->x[mid] <= x) lo = mid;
    else hi = mid;
  }
  return p->y[lo] + (p->y[hi] - p->y[lo]) * (x - p->x[lo]) / (p->x[hi] - p->x[lo]);
}

/* "0, 1, 3" (the first few) into buf. */
static void list_cycles(const CycleList *cl, char *buf, size_t len)
{
  size_t used = 0;
  buf[0]      = '\0';
  for (int i = 0; i < cl->n && used + 32 < len; i++) {
    if (i == 24 && cl->n > 25) {
      used += snprintf(buf + used, len - used, ", ... %d", cl->cycle[cl->n - 1]);
      break;
    }
    used += snprintf(buf + used, len - used, "%s%d", i ? ", " : "", cl->cycle[i]);
  }
}

void OxComparisonFree(OxComparison *cmp)
{
  free(cmp->model);
  free(cmp->residual);
  free(cmp->cycle);
  free(cmp->npoints);
  free(cmp->wrms);
  free(cmp->chi2_red);
  free(cmp->chi2_cycle);
  memset(cmp, 0, sizeof(*cmp));
}

/* Opens the result read-only, or explains why not. */
static int open_result(const char *file, hid_t *fid, char *err, size_t errlen)
{
  struct stat st;
  htri_t      is;

  *fid = -1;
  if (stat(file, &st) != 0)
    return fail(err, errlen, "%s: cannot open the result file (%s); expected an HDF5 result written by oxvac run", file, strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail(err, errlen, "%s: is a directory; expected an HDF5 result written by oxvac run", file);
  is = H5Fis_hdf5(file);
  if (is <= 0) return fail(err, errlen, "%s: not an HDF5 file; expected an HDF5 result written by oxvac run", file);
  if ((*fid = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
    return fail(err, errlen, "%s: HDF5 cannot open the file; expected a readable HDF5 result written by oxvac run", file);
  return 0;
}

int OxCompareResult(const char *result_h5, const OxMeasured *m, OxGeometry geometry, OxComparison *cmp, char *err, size_t errlen)
{
  const char *group = OxGeometryGroup(geometry);
  herr_t      (*old_func)(hid_t, void *);
  void       *old_data;
  hid_t       fid = -1, g = -1;
  CycleList   stored = {NULL, 0, 0};
  Profile    *prof   = NULL;
  int        *pidx   = NULL; /* point -> index of its cycle in cmp->cycle */
  int         status = 0;

  memset(cmp, 0, sizeof(*cmp));
  if (err && errlen) err[0] = '\0';
  if (m->n <= 0) return cmp->measured_error = 1, fail(err, errlen, "%s:1: key 'header': no data rows; expected at least one row " HEADER_TEXT, m->source);
  H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* report our way, not HDF5's */

  status = open_result(result_h5, &fid, err, errlen);
  if (!status && (H5Lexists(fid, group, H5P_DEFAULT) <= 0 || (g = H5Gopen2(fid, group, H5P_DEFAULT)) < 0))
    status = fail(err, errlen, "%s: no %s group; expected a result of oxvac run with %s (stored at output.fields_at_cycles)%s", result_h5, group,
                  geometry == OX_GEOMETRY_3D ? "3D profiles" : "a virtual lamella",
                  geometry == OX_GEOMETRY_3D ? "" : ", or --geometry 3d for /profiles");
  if (!status) {
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, collect_cycle, &stored) < 0)
      status = fail(err, errlen, "%s: %s cannot be listed; expected a readable result file", result_h5, group);
    else qsort(stored.cycle, (size_t)stored.n, sizeof(int), cmp_int);
  }

  /* The distinct measured cycles, ascending. */
  if (!status) {
    int *sorted = malloc(sizeof(int) * (size_t)m->n);
    cmp->n        = m->n;
    cmp->model    = calloc((size_t)m->n, sizeof(double));
    cmp->residual = calloc((size_t)m->n, sizeof(double));
    cmp->cycle    = malloc(sizeof(int) * (size_t)m->n);
    pidx          = malloc(sizeof(int) * (size_t)m->n);
    if (!sorted || !cmp->model || !cmp->residual || !cmp->cycle || !pidx) status = fail(err, errlen, "%s: out of memory", result_h5);
    else {
      memcpy(sorted, m->cycle, sizeof(int) * (size_t)m->n);
      qsort(sorted, (size_t)m->n, sizeof(int), cmp_int);
      for (int i = 0; i < m->n; i++)
        if (!i || sorted[i] != sorted[i - 1]) cmp->cycle[cmp->ncycles++] = sorted[i];
      for (int i = 0; i < m->n; i++) {
        int *hit = bsearch(&m->cycle[i], cmp->cycle, (size_t)cmp->ncycles, sizeof(int), cmp_int);
        pidx[i]  = (int)(hit - cmp->cycle);
      }
    }
    free(sorted);
  }
  if (!status) {
    size_t nc        = (size_t)cmp->ncycles;
    cmp->npoints     = calloc(nc, sizeof(int));
    cmp->wrms        = calloc(nc, sizeof(double));
    cmp->chi2_red    = calloc(nc, sizeof(double));
    cmp->chi2_cycle  = calloc(nc, sizeof(double));
    prof             = calloc(nc, sizeof(Profile));
    if (!cmp->npoints || !cmp->wrms || !cmp->chi2_red || !cmp->chi2_cycle || !prof) status = fail(err, errlen, "%s: out of memory", result_h5);
  }
  for (int c = 0; !status && c < cmp->ncycles; c++) {
    if (!bsearch(&cmp->cycle[c], stored.cycle, (size_t)stored.n, sizeof(int), cmp_int)) continue;
    prof[c].stored = 1;
    status         = load_profile(result_h5, fid, group, cmp->cycle[c], &prof[c], err, errlen);
  }

  /* The model at each point, checked in file order so the first bad line is named. */
  for (int i = 0; !status && i < m->n; i++) {
    const Profile *p = &prof[pidx[i]];
    if (!p->stored) {
      char have[512];
      list_cycles(&stored, have, sizeof(have));
      if (stored.n)
        status = (cmp->measured_error = 1, fail(err, errlen, "%s:%d: key 'cycle': cycle %d is not stored in %s (%s has cycle%s %s); expected one of them (add it to output.fields_at_cycles)",
                      m->source, m->line[i], m->cycle[i], result_h5, group, stored.n == 1 ? "" : "s", have));
      else
        status = (cmp->measured_error = 1, fail(err, errlen, "%s:%d: key 'cycle': cycle %d is not stored in %s (%s holds no cycles); expected a stored cycle (add it to output.fields_at_cycles)",
                      m->source, m->line[i], m->cycle[i], result_h5, group));
    } else if (p->n == 0)
      status = (cmp->measured_error = 1, fail(err, errlen, "%s:%d: key 'cycle': %s/cycle_%06d in %s has no non-empty bin (the model has no particle there); expected a cycle with a profile",
                    m->source, m->line[i], group, m->cycle[i], result_h5));
    else if (m->distance_nm[i] > p->x[p->n - 1] + p->half_bin_nm)
      status = (cmp->measured_error = 1, fail(err, errlen, "%s:%d: key 'distance_nm': %g nm is deeper than the model's profile at cycle %d in %s (last non-empty bin centre %g nm, so at most %g nm): the model has no particle that deep; expected a distance <= %g nm",
                    m->source, m->line[i], m->distance_nm[i], m->cycle[i], result_h5, p->x[p->n - 1], p->x[p->n - 1] + p->half_bin_nm,
                    p->x[p->n - 1] + p->half_bin_nm));
    else cmp->model[i] = interpolate(p, m->distance_nm[i]);
  }

  /* Statistics: r = (model - measured)/sigma, w = 1/sigma^2, sum w d^2 = sum r^2. */
  if (!status) {
    double *sumw = calloc((size_t)cmp->ncycles, sizeof(double)), sumw_all = 0;
    if (!sumw) status = fail(err, errlen, "%s: out of memory", result_h5);
    for (int i = 0; !status && i < m->n; i++) {
      double r = (cmp->model[i] - m->mn3_fraction[i]) / m->sigma[i], w = 1.0 / (m->sigma[i] * m->sigma[i]);
      int    c = pidx[i];
      cmp->residual[i] = r;
      cmp->npoints[c]++;
      cmp->chi2_cycle[c] += r * r;
      sumw[c] += w;
      cmp->chi2 += r * r;
      sumw_all += w;
    }
    for (int c = 0; !status && c < cmp->ncycles; c++) {
      cmp->wrms[c]     = sqrt(cmp->chi2_cycle[c] / sumw[c]);
      cmp->chi2_red[c] = cmp->chi2_cycle[c] / cmp->npoints[c];
    }
    if (!status) {
      cmp->wrms_all     = sqrt(cmp->chi2 / sumw_all);
      cmp->chi2_red_all = cmp->chi2 / m->n;
    }
    free(sumw);
  }

  for (int c = 0; prof && c < cmp->ncycles; c++) free(prof[c].x), free(prof[c].y);
  free(prof);
  free(pidx);
  free(stored.cycle);
  if (g >= 0) H5Gclose(g);
  if (fid >= 0) H5Fclose(fid);
  H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
  if (status) OxComparisonFree(cmp);
  return status;
}

/* ---------------------------------------------------------------- command */

typedef enum { FORMAT_TEXT, FORMAT_CSV, FORMAT_JSON } Format;

static void json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c == '\r') fputs("\\r", f);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void json_number(FILE *f, double v)
{
  if (isfinite(v)) fprintf(f, "%.17g", v);
  else fputs("null", f);
}

static void json_doubles(FILE *f, const char *key, int n, const double *v, const char *tail)
{
  fprintf(f, "\"%s\": [", key);
  for (int i = 0; i < n; i++) {
    if (i) fputs(", ", f);
    json_number(f, v[i]);
  }
  fprintf(f, "]%s", tail);
}

static void json_ints(FILE *f, const char *key, int n, const int *v, const char *tail)
{
  fprintf(f, "\"%s\": [", key);
  for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", v[i]);
  fprintf(f, "]%s", tail);
}

static void write_json(FILE *f, const char *result, OxGeometry geometry, const OxMeasured *m, const OxComparison *c)
{
  fputs("{\n  \"result\": ", f);
  json_string(f, result);
  fputs(",\n  \"group\": ", f);
  json_string(f, OxGeometryGroup(geometry));
  fprintf(f, ",\n  \"geometry\": \"%s\",\n  \"measurement\": ", geometry == OX_GEOMETRY_3D ? "3d" : "lamella");
  json_string(f, m->source);
  fputs(",\n  \"source\": ", f);
  json_string(f, m->citation);
  fprintf(f, ",\n  \"synthetic\": %s,\n", m->synthetic ? "true" : "false");
  fputs("  \"cycles\": {\n    ", f);
  json_ints(f, "cycle", c->ncycles, c->cycle, ",\n    ");
  json_ints(f, "n", c->ncycles, c->npoints, ",\n    ");
  json_doubles(f, "wrms", c->ncycles, c->wrms, ",\n    ");
  json_doubles(f, "chi2", c->ncycles, c->chi2_cycle, ",\n    ");
  json_doubles(f, "chi2_red", c->ncycles, c->chi2_red, "\n  },\n");
  fprintf(f, "  \"all\": {\"n\": %d, \"wrms\": ", c->n);
  json_number(f, c->wrms_all);
  fputs(", \"chi2\": ", f);
  json_number(f, c->chi2);
  fputs(", \"chi2_red\": ", f);
  json_number(f, c->chi2_red_all);
  fputs("},\n  \"points\": {\n    ", f);
  json_ints(f, "line", m->n, m->line, ",\n    ");
  json_ints(f, "cycle", m->n, m->cycle, ",\n    ");
  json_doubles(f, "distance_nm", m->n, m->distance_nm, ",\n    ");
  json_doubles(f, "measured", m->n, m->mn3_fraction, ",\n    ");
  json_doubles(f, "sigma", m->n, m->sigma, ",\n    ");
  json_doubles(f, "model", c->n, c->model, ",\n    ");
  json_doubles(f, "residual", c->n, c->residual, "\n  }\n}\n");
}

static void write_csv(FILE *f, const OxComparison *c)
{
  fputs("cycle,n,wrms,chi2,chi2_red\n", f);
  for (int k = 0; k < c->ncycles; k++)
    fprintf(f, "%d,%d,%.17g,%.17g,%.17g\n", c->cycle[k], c->npoints[k], c->wrms[k], c->chi2_cycle[k], c->chi2_red[k]);
  fprintf(f, "all,%d,%.17g,%.17g,%.17g\n", c->n, c->wrms_all, c->chi2, c->chi2_red_all);
}

static void write_text(FILE *f, const char *result, OxGeometry geometry, const OxMeasured *m, const OxComparison *c)
{
  fprintf(f, "result:      %s (%s)\n", result, OxGeometryGroup(geometry));
  fprintf(f, "measurement: %s", m->source);
  if (m->citation[0]) fprintf(f, "; source: %s", m->citation);
  if (m->synthetic && !contains_nocase(m->citation, "synthetic")) fputs("; synthetic", f);
  if (!m->citation[0] && !m->synthetic) fputs("; no source line", f);
  fprintf(f, "\ngeometry:    %s\n", geometry == OX_GEOMETRY_3D ? "3d (particle profiles from each surface)" : "lamella (virtual projection)");
  fputs("wrms: weighted RMS of model - measured (Mn3+ fraction, weights 1/sigma^2); chi2_red = chi2 / n\n\n", f);
  fprintf(f, "%8s %6s %14s %14s\n", "cycle", "n", "wrms", "chi2_red");
  for (int k = 0; k < c->ncycles; k++) fprintf(f, "%8d %6d %14.6g %14.6g\n", c->cycle[k], c->npoints[k], c->wrms[k], c->chi2_red[k]);
  fprintf(f, "%8s %6d %14.6g %14.6g\n", "all", c->n, c->wrms_all, c->chi2_red_all);
}

/* Writes the chosen form to path through a temporary name renamed into place. */
static int write_file(const char *path, Format format, const char *result, OxGeometry geometry, const OxMeasured *m, const OxComparison *c)
{
  OxAtomic a;
  FILE    *f = OxAtomicOpen(&a, path);

  if (!f) {
    fprintf(stderr, "%s: cannot write the output (%s); expected a writable path for -o\n", path, strerror(errno));
    return OX_EXIT_INPUT;
  }
  if (format == FORMAT_JSON) write_json(f, result, geometry, m, c);
  else if (format == FORMAT_CSV) write_csv(f, c);
  else write_text(f, result, geometry, m, c);
  if (OxAtomicClose(&a, f, 1) != 0) {
    fprintf(stderr, "%s: cannot write the output (%s); expected a writable path for -o\n", path, strerror(errno));
    return OX_EXIT_INPUT;
  }
  return 0;
}

int OxCommandCompare(OxCli *cli)
{
  const char  *result = NULL, *measured = NULL, *out = NULL, *geometry_s = NULL, *format_s = NULL;
  int          geometry_i = 0, format_i = 0; /* their argument numbers, for messages */
  OxGeometry   geometry = OX_GEOMETRY_LAMELLA;
  Format       format   = FORMAT_TEXT;
  OxMeasured   m;
  OxComparison c;
  char         err[8192];
  int          status;

  for (int i = 0; i < cli->argc; i++) {
    const char  *a = cli->argv[i];
    const char **opt = NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      printf("usage: " USAGE_TEXT "\n\n"
             "Residuals of the result's Mn3+ profiles (/lamella, or /profiles with --geometry 3d)\n"
             "against measured points: per cycle the number of points, the weighted RMS of\n"
             "model - measured and the reduced chi-square. -o writes the csv (or json, by\n"
             "--format or a .json name) to FILE and prints the table. See docs/compare.md.\n");
      return -1;
    }
    if (!strcmp(a, "--geometry") || !strcmp(a, "--format") || !strcmp(a, "-o")) {
      if (i + 1 >= cli->argc)
        return OxUsageError("compare", i + 1, a, "the option needs a value; expected %s", !strcmp(a, "-o") ? "-o FILE" : !strcmp(a, "--format") ? "--format text|csv|json" : "--geometry lamella|3d");
      opt  = !strcmp(a, "--geometry") ? &geometry_s : !strcmp(a, "--format") ? &format_s : &out;
      *opt = cli->argv[++i];
      if (opt == &geometry_s) geometry_i = i + 1;
      if (opt == &format_s) format_i = i + 1;
    } else if (!strncmp(a, "--geometry=", 11)) geometry_s = a + 11, geometry_i = i + 1;
    else if (!strncmp(a, "--format=", 9)) format_s = a + 9, format_i = i + 1;
    else if (a[0] == '-' && a[1]) return OxUsageError("compare", i + 1, a, "unknown option; expected --geometry, --format, -o or --help");
    else if (!result) result = a;
    else if (!measured) measured = a;
    else return OxUsageError("compare", i + 1, a, "a third file; expected RESULT.h5 MEASURED.csv");
  }
  if (!result) return OxUsageError("compare", cli->argc + 1, NULL, "missing RESULT.h5; expected a result file of oxvac run");
  if (!measured) return OxUsageError("compare", cli->argc + 1, NULL, "missing MEASURED.csv; expected a measured-profile CSV");
  if (geometry_s) {
    if (!strcmp(geometry_s, "lamella")) geometry = OX_GEOMETRY_LAMELLA;
    else if (!strcmp(geometry_s, "3d") || !strcmp(geometry_s, "3D")) geometry = OX_GEOMETRY_3D;
    else return OxUsageError("compare", geometry_i, geometry_s, "not a geometry; expected lamella or 3d");
  }
  if (format_s) {
    if (!strcmp(format_s, "text")) format = FORMAT_TEXT;
    else if (!strcmp(format_s, "csv")) format = FORMAT_CSV;
    else if (!strcmp(format_s, "json")) format = FORMAT_JSON;
    else return OxUsageError("compare", format_i, format_s, "not a format; expected text, csv or json");
  } else if (out) {
    size_t len = strlen(out);
    format     = len >= 5 && !strcasecmp(out + len - 5, ".json") ? FORMAT_JSON : FORMAT_CSV;
  }

  if (out && (OxSameFile(out, measured) || OxSameFile(out, result))) {
    fprintf(stderr, "oxvac compare: option '-o': %s is the %s file itself; expected an output path other than RESULT.h5 and MEASURED.csv\n", out,
            OxSameFile(out, measured) ? "measured" : "result");
    return OX_EXIT_INPUT;
  }
  if ((status = OxMeasuredLoad(measured, &m, err, sizeof(err)))) {
    fprintf(stderr, "%s\n", err);
    return status;
  }
  if ((status = OxCompareResult(result, &m, geometry, &c, err, sizeof(err)))) {
    fprintf(stderr, "%s\n", err);
    OxMeasuredFree(&m);
    return status;
  }
  if (out) {
    status = write_file(out, format, result, geometry, &m, &c);
    if (!status) write_text(stdout, result, geometry, &m, &c);
  } else if (format == FORMAT_JSON) write_json(stdout, result, geometry, &m, &c);
  else if (format == FORMAT_CSV) write_csv(stdout, &c);
  else write_text(stdout, result, geometry, &m, &c);
  if (!status && fflush(stdout) != 0) status = OX_EXIT_RUN_FAILED;
  OxComparisonFree(&c);
  OxMeasuredFree(&m);
  return status;
}
