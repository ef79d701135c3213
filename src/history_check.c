/*
 * Checkpoint validation before a restart (issue 12): plain HDF5, quiet, run by
 * every rank before any work, so that OxHistoryRead can trust what it reads.
 * Every problem is reported as "dataset '/path': what is wrong; expected ..."
 * (or "file: ..."), for the caller to prefix with the checkpoint's name.
 */
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oxvac/history.h"
#include "oxvac/output.h"

#define MAX_PROFILE_BINS 100000000ULL
/* site fractions may overshoot [0, 1] by the solver's tolerance, not more */
#define FRACTION_SLACK 1e-6

typedef struct {
  hid_t  fid;
  char  *why;
  size_t len;
} Ck;

static int bad(Ck *k, const char *what, const char *fmt, ...)
{
  va_list ap;
  int     n = snprintf(k->why, k->len, "%s: ", what);
  if (n < 0) n = 0;
  if ((size_t)n < k->len) {
    va_start(ap, fmt);
    vsnprintf(k->why + n, k->len - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return 0;
}

static void dname(char *buf, size_t len, const char *path) { snprintf(buf, len, "dataset '%s'", path); }

/* Is path a link to an object of the given type (H5O_TYPE_GROUP / H5O_TYPE_DATASET)?
 * 1 yes, 0 no (missing, or another kind of object), -1 the file cannot be read on the
 * way there (a damaged header: not to be reported as "missing"). */
static int find_object(hid_t fid, const char *path, H5O_type_t type)
{
  H5O_info_t info;
  /* check every component so that a missing parent is no error stack */
  char       part[512];
  size_t     n = strlen(path);
  if (n >= sizeof(part)) return 0;
  for (size_t i = 1; i <= n; i++) {
    if (path[i] == '/' || path[i] == '\0') {
      htri_t e;
      memcpy(part, path, i);
      part[i] = '\0';
      e = H5Lexists(fid, part, H5P_DEFAULT);
      if (e <= 0) return e < 0 ? -1 : 0;
    }
  }
#if H5_VERSION_GE(1, 12, 0)
  if (H5Oget_info_by_name3(fid, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
  if (H5Oget_info_by_name(fid, path, &info, H5P_DEFAULT) < 0) return -1;
#endif
  return info.type == type;
}

static int has_object(hid_t fid, const char *path, H5O_type_t type) { return find_object(fid, path, type) > 0; }

/*
 * Open dataset path, check its class (H5T_FLOAT: 8-byte; H5T_INTEGER), rank
 * and the dimensions given (want[i] > 0); dims gets the actual ones.
 * Returns the open dataset, or -1 with why set.
 */
static hid_t open_checked(Ck *k, const char *path, H5T_class_t cls, int rank, const hsize_t *want, hsize_t *dims)
{
  char        w[600];
  hid_t       ds, tp, sp;
  H5T_class_t c;
  size_t      size;
  int         r;

  dname(w, sizeof(w), path);
  switch (find_object(k->fid, path, H5O_TYPE_DATASET)) {
  case 0: bad(k, w, "missing; expected %s dataset of rank %d", cls == H5T_FLOAT ? "a float64" : "an integer", rank); return -1;
  case -1: bad(k, w, "cannot be read (damaged file?); expected %s dataset of rank %d", cls == H5T_FLOAT ? "a float64" : "an integer", rank); return -1;
  default: break;
  }
  ds = H5Dopen2(k->fid, path, H5P_DEFAULT);
  if (ds < 0) {
    bad(k, w, "cannot be opened; expected a readable %s dataset", cls == H5T_FLOAT ? "float64" : "integer");
    return -1;
  }
  tp   = H5Dget_type(ds);
  c    = H5Tget_class(tp);
  size = H5Tget_size(tp);
  H5Tclose(tp);
  if (c != cls || (cls == H5T_FLOAT && size != 8) || (cls == H5T_INTEGER && size > 8)) {
    bad(k, w, "has the wrong type (class %d, %zu bytes); expected %s", (int)c, size, cls == H5T_FLOAT ? "float64" : "an integer type");
    H5Dclose(ds);
    return -1;
  }
  sp = H5Dget_space(ds);
  r  = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  if (r != rank) {
    bad(k, w, "has rank %d; expected rank %d", r, rank);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    return -1;
  }
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (want) {
    for (int i = 0; i < rank; i++) {
      if (want[i] > 0 && dims[i] != want[i]) {
        char got[96] = "", exp[96] = "";
        for (int j = 0; j < rank; j++) {
          snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%llu", j ? " x " : "", (unsigned long long)dims[j]);
          if (want[j] > 0) snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%s%llu", j ? " x " : "", (unsigned long long)want[j]);
          else snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%sany", j ? " x " : "");
        }
        bad(k, w, "has shape %s; expected %s", got, exp);
        H5Dclose(ds);
        return -1;
      }
    }
  }
  return ds;
}

/* A whole 1-D dataset of n values (n small: bounded by the caller) into buf. */
static int read_all(Ck *k, const char *path, hid_t ds, hid_t memtype, void *buf, hsize_t n)
{
  char w[600];
  dname(w, sizeof(w), path);
  if (n && H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return bad(k, w, "cannot be read (damaged file?); expected readable values");
  return 1;
}

/* Values of a 3-D field, read plane by plane: finite, in [lo, hi]. */
static int check_field(Ck *k, const char *path, const hsize_t *want, double lo, double hi)
{
  char    w[600];
  hsize_t dims[3];
  hid_t   ds = open_checked(k, path, H5T_FLOAT, 3, want, dims), fsp, msp;
  double *plane;
  hsize_t np = dims[1] * dims[2], start[3] = {0, 0, 0}, count[3] = {1, dims[1], dims[2]};
  int     ok = 1;

  if (ds < 0) return 0;
  dname(w, sizeof(w), path);
  plane = malloc(sizeof(double) * (np ? np : 1));
  if (!plane) {
    H5Dclose(ds);
    return bad(k, w, "out of memory checking it; expected to be able to read one plane");
  }
  fsp = H5Dget_space(ds);
  msp = H5Screate_simple(1, &np, NULL);
  for (hsize_t z = 0; ok && z < dims[0]; z++) {
    start[0] = z;
    if (H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(ds, H5T_NATIVE_DOUBLE, msp, fsp, H5P_DEFAULT, plane) < 0) {
      ok = bad(k, w, "cannot be read at plane %llu (damaged file?); expected readable values", (unsigned long long)z);
      break;
    }
    for (hsize_t i = 0; i < np; i++) {
      if (!isfinite(plane[i]) || plane[i] < lo || plane[i] > hi) {
        ok = bad(k, w, "value %g at [%llu, %llu, %llu]; expected finite site fractions in [%g, %g] (to %g)", plane[i], (unsigned long long)z,
                 (unsigned long long)(i / dims[2]), (unsigned long long)(i % dims[2]), lo + FRACTION_SLACK, hi - FRACTION_SLACK, FRACTION_SLACK);
        break;
      }
    }
  }
  H5Sclose(msp);
  H5Sclose(fsp);
  H5Dclose(ds);
  free(plane);
  return ok;
}

/* A scalar (one-element) numeric attribute of object obj, read as memtype. */
static int read_attr(Ck *k, const char *obj, const char *name, H5T_class_t cls, hid_t memtype, void *val)
{
  char     w[700];
  hid_t    a, tp, sp;
  hssize_t npts;
  int      ok = 1;

  snprintf(w, sizeof(w), "dataset '%s' attribute '%s'", obj, name);
  if (H5Aexists_by_name(k->fid, obj, name, H5P_DEFAULT) <= 0) return bad(k, w, "missing; expected %s attribute", cls == H5T_FLOAT ? "a float64" : "an integer");
  a = H5Aopen_by_name(k->fid, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return bad(k, w, "cannot be opened; expected a readable attribute");
  tp   = H5Aget_type(a);
  sp   = H5Aget_space(a);
  npts = H5Sget_simple_extent_npoints(sp);
  if (H5Tget_class(tp) != cls) ok = bad(k, w, "has the wrong type; expected %s", cls == H5T_FLOAT ? "a float" : "an integer");
  else if (npts != 1) ok = bad(k, w, "has %lld values; expected one", (long long)npts);
  else if (H5Aread(a, memtype, val) < 0) ok = bad(k, w, "cannot be read; expected a readable value");
  H5Sclose(sp);
  H5Tclose(tp);
  H5Aclose(a);
  return ok;
}

static hsize_t count_links(hid_t fid, const char *group)
{
  H5G_info_t info;
  hid_t      g = H5Gopen2(fid, group, H5P_DEFAULT);
  if (g < 0) return 0;
  if (H5Gget_info(g, &info) < 0) info.nlinks = 0;
  H5Gclose(g);
  return info.nlinks;
}

/* The config attribute: 1 equal, -1 different, 0 damaged. */
static int check_config(Ck *k, const char *config_text)
{
  const char *w = "dataset '/' attribute 'config'";
  hid_t       a, tp;
  char       *saved = NULL;
  int         r     = 0;

  if (H5Aexists_by_name(k->fid, "/", "config", H5P_DEFAULT) <= 0) {
    /* a config too large for an attribute is the scalar string dataset /config */
    if (has_object(k->fid, "/config", H5O_TYPE_DATASET)) {
      char *text = OxOutputReadConfig(k->fid);
      if (!text) return bad(k, "dataset '/config'", "is not one readable string; expected the resolved config of the run");
      r = strcmp(text, config_text) ? -1 : 1;
      free(text);
      return r;
    }
    return bad(k, w, "missing (nor a dataset /config); expected the resolved config of the run");
  }
  a = H5Aopen_by_name(k->fid, "/", "config", H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return bad(k, w, "cannot be opened; expected the resolved config of the run");
  tp = H5Aget_type(a);
  /* oxvac writes one string: anything else (an array of strings, say) would be
   * read as what it is not, and H5Aread writes every element into a buffer of one */
  hid_t sp = H5Aget_space(a);
  int   scalar = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SCALAR;
  if (sp >= 0) H5Sclose(sp);
  if (H5Tget_class(tp) != H5T_STRING || !scalar) r = bad(k, w, "is not a string; expected the resolved config of the run");
  else if (H5Tis_variable_str(tp) > 0) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    if (H5Aread(a, mt, &saved) < 0 || !saved) r = bad(k, w, "cannot be read; expected the resolved config of the run");
    else r = strcmp(saved, config_text) ? -1 : 1;
    if (saved) H5free_memory(saved);
    H5Tclose(mt);
  } else {
    size_t n = H5Tget_size(tp);
    saved    = calloc(n + 1, 1);
    if (!saved || H5Aread(a, tp, saved) < 0) r = bad(k, w, "cannot be read; expected the resolved config of the run");
    else r = strcmp(saved, config_text) ? -1 : 1;
    free(saved);
  }
  H5Tclose(tp);
  H5Aclose(a);
  return r;
}

static int same_time(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b))); }

/* Everything after the config: 1 fine, 0 damaged. */
static int check_contents(Ck *k, const OxCheckpointExpect *ex, int *has_layer)
{
  static const char *cols[] = {"time_s", "soc", "vacancy_mean", "oxygen_loss_pct", "released_mol", "inventory_mol"};
  const OxProtocol  *prot   = ex->prot;
  hsize_t            grid[3] = {(hsize_t)ex->nz, (hsize_t)ex->ny, (hsize_t)ex->nx}, n = 0, nf = 0, np = 0;
  long long          next;
  double             released, *col[6] = {0};
  long long         *cyc = NULL, *fc = NULL;
  int                ok = 0;
  hid_t              ds;
  char               path[128], w[700];

  if (!read_attr(k, "/state", "next_segment", H5T_INTEGER, H5T_NATIVE_LLONG, &next)) return 0;
  if (next < 1 || next >= prot->nseg)
    return bad(k, "dataset '/state' attribute 'next_segment'", "is %lld; expected a protocol segment in [1, %d) (this config's protocol has %d segments)",
               next, prot->nseg, prot->nseg);
  if (!read_attr(k, "/state", "released_mol", H5T_FLOAT, H5T_NATIVE_DOUBLE, &released)) return 0;
  if (!isfinite(released) || released < 0)
    return bad(k, "dataset '/state' attribute 'released_mol'", "is %g; expected a finite amount >= 0 mol", released);

  /* the state to continue from */
  if (!check_field(k, "/state/vacancy_fraction", grid, -FRACTION_SLACK, 1.0 + FRACTION_SLACK)) return 0;
  *has_layer = has_object(k->fid, "/state/layer", H5O_TYPE_GROUP);
  if (*has_layer) {
    hsize_t nl = count_links(k->fid, "/state/layer");
    for (int j = 0; j < ex->layer_cells; j++) {
      snprintf(path, sizeof(path), "/state/layer/cell_%02d", j);
      if (!check_field(k, path, grid, -FRACTION_SLACK, 1.0 + FRACTION_SLACK)) return 0;
    }
    if (nl != (hsize_t)ex->layer_cells)
      return bad(k, "dataset '/state/layer'", "holds %llu entries; expected the %d cells cell_00.. of this config's surface layer", (unsigned long long)nl,
                 ex->layer_cells);
  } else if (has_object(k->fid, "/state/layer", H5O_TYPE_DATASET))
    return bad(k, "dataset '/state/layer'", "is a dataset; expected a group of the surface layer cells");

  /* the time series: one row at t = 0 and one per segment run */
  ds = open_checked(k, "/timeseries/cycle", H5T_INTEGER, 1, NULL, &n);
  if (ds < 0) return 0;
  if (n != (hsize_t)next + 1) {
    H5Dclose(ds);
    return bad(k, "dataset '/timeseries/cycle'", "has %llu rows; expected %lld (the initial row and one per segment before next_segment = %lld)",
               (unsigned long long)n, next + 1, next);
  }
  cyc = malloc(sizeof(*cyc) * n);
  ok  = cyc && read_all(k, "/timeseries/cycle", ds, H5T_NATIVE_LLONG, cyc, n);
  H5Dclose(ds);
  for (size_t c = 0; ok && c < 6; c++) {
    hsize_t m;
    snprintf(path, sizeof(path), "/timeseries/%s", cols[c]);
    ds = open_checked(k, path, H5T_FLOAT, 1, NULL, &m);
    if (ds < 0) {
      ok = 0;
      break;
    }
    if (m != n) {
      dname(w, sizeof(w), path);
      ok = bad(k, w, "has %llu rows; expected %llu, as /timeseries/cycle", (unsigned long long)m, (unsigned long long)n);
    } else {
      col[c] = malloc(sizeof(double) * n);
      ok     = col[c] && read_all(k, path, ds, H5T_NATIVE_DOUBLE, col[c], n);
      for (hsize_t i = 0; ok && i < n; i++)
        if (!isfinite(col[c][i])) {
          dname(w, sizeof(w), path);
          ok = bad(k, w, "row %llu is %g; expected finite values", (unsigned long long)i, col[c][i]);
        }
    }
    H5Dclose(ds);
  }
  for (hsize_t i = 0; ok && i < n; i++) {
    double t_want = i ? prot->seg[i - 1].t1_s : 0.0;
    int    c_want = i ? prot->seg[i - 1].cycle : 0;
    if (!same_time(col[0][i], t_want))
      ok = bad(k, "dataset '/timeseries/time_s'", "row %llu is %.17g s; expected %.17g s, the end of protocol segment %llu", (unsigned long long)i, col[0][i],
               t_want, (unsigned long long)i);
    else if (cyc[i] != c_want)
      ok = bad(k, "dataset '/timeseries/cycle'", "row %llu is %lld; expected %d, the cycle of protocol segment %llu", (unsigned long long)i, cyc[i], c_want,
               (unsigned long long)i);
    else if (col[2][i] < -FRACTION_SLACK || col[4][i] < 0)
      ok = bad(k, col[2][i] < 0 ? "dataset '/timeseries/vacancy_mean'" : "dataset '/timeseries/released_mol'", "row %llu is negative; expected values >= 0",
               (unsigned long long)i);
  }
  if (ok && !(fabs(col[4][n - 1] - released) <= 1e-9 * fmax(fabs(released), 1e-300)))
    ok = bad(k, "dataset '/state' attribute 'released_mol'", "is %.17g mol; expected %.17g mol, the last row of /timeseries/released_mol", released,
             col[4][n - 1]);
  if (!ok) goto done;

  /* the stored fields */
  ds = open_checked(k, "/particles_series/cycle", H5T_INTEGER, 1, NULL, &nf);
  if (ds < 0) {
    ok = 0;
    goto done;
  }
  if (nf > n) {
    H5Dclose(ds);
    ok = bad(k, "dataset '/particles_series/cycle'", "has %llu rows; expected at most one per cycle run (%lld)", (unsigned long long)nf, cyc[n - 1] + 1);
    goto done;
  }
  fc = malloc(sizeof(*fc) * (nf ? nf : 1));
  ok = fc && read_all(k, "/particles_series/cycle", ds, H5T_NATIVE_LLONG, fc, nf);
  H5Dclose(ds);
  for (hsize_t f = 0; ok && f < nf; f++)
    if (fc[f] < 0 || fc[f] > cyc[n - 1] || (f && fc[f] <= fc[f - 1]))
      ok = bad(k, "dataset '/particles_series/cycle'", "row %llu is cycle %lld; expected increasing cycles in [0, %lld], those run so far", (unsigned long long)f,
               fc[f], cyc[n - 1]);
  if (!ok) goto done;
  ds = open_checked(k, "/particles/id", H5T_INTEGER, 1, NULL, &np);
  if (ds < 0) {
    ok = 0;
    goto done;
  }
  H5Dclose(ds);
  {
    hsize_t want[2] = {nf ? nf : 0, np}, d2[2];
    if (nf) {
      ds = open_checked(k, "/particles_series/vacancy_mean", H5T_FLOAT, 2, want, d2);
      if (ds < 0) {
        ok = 0;
        goto done;
      }
      H5Dclose(ds);
    }
  }
  if (nf && count_links(k->fid, "/fields") != nf) {
    ok = bad(k, "dataset '/fields'", "holds %llu stored fields; expected %llu, one per row of /particles_series/cycle", (unsigned long long)count_links(k->fid, "/fields"),
             (unsigned long long)nf);
    goto done;
  }
  for (hsize_t f = 0; ok && f < nf; f++) {
    double t, s;
    snprintf(path, sizeof(path), "/fields/cycle_%06lld/vacancy_fraction", fc[f]);
    ok = check_field(k, path, grid, -FRACTION_SLACK, 1.0 + FRACTION_SLACK) && read_attr(k, path, "time_s", H5T_FLOAT, H5T_NATIVE_DOUBLE, &t) &&
         read_attr(k, path, "soc", H5T_FLOAT, H5T_NATIVE_DOUBLE, &s);
    if (ok && (!isfinite(t) || !isfinite(s) || t < 0 || t > col[0][n - 1])) {
      snprintf(w, sizeof(w), "dataset '%s' attribute '%s'", path, isfinite(t) && t >= 0 && t <= col[0][n - 1] ? "soc" : "time_s");
      ok = bad(k, w, "is out of range (time %g s, soc %g); expected a finite time in [0, %g] s and a finite soc", t, s, col[0][n - 1]);
    }
    for (int p = 0; ok && ex->profiles && p < 2; p++) {
      static const char *pc[] = {"distance_nm", "mn3_fraction", "vacancy_fraction", "count"};
      const char        *kind = p ? "lamella" : "profiles";
      hsize_t            len0 = 0;
      double             bin;
      for (int q = 0; ok && q < 4; q++) {
        hsize_t m, want = q ? len0 : 0;
        snprintf(path, sizeof(path), "/%s/cycle_%06lld/%s", kind, fc[f], pc[q]);
        ds = open_checked(k, path, H5T_FLOAT, 1, &want, &m);
        if (ds < 0) ok = 0;
        else {
          H5Dclose(ds);
          if (!q) len0 = m;
          if (m > MAX_PROFILE_BINS) {
            dname(w, sizeof(w), path);
            ok = bad(k, w, "has %llu bins; expected at most %llu", (unsigned long long)m, MAX_PROFILE_BINS);
          }
        }
      }
      snprintf(path, sizeof(path), "/%s/cycle_%06lld", kind, fc[f]);
      if (ok) ok = read_attr(k, path, "bin_nm", H5T_FLOAT, H5T_NATIVE_DOUBLE, &bin);
    }
  }
done:
  for (int c = 0; c < 6; c++) free(col[c]);
  free(cyc);
  free(fc);
  return ok;
}

/*
 * A version 0 or 1 superblock (what HDF5 1.10 writes for oxvac) that claims a
 * driver information block, or an end-of-file address of 0 or past the
 * file's end, is refused before HDF5 reads it: on such a file HDF5's own
 * open allocated 4 GB and spun for seconds (found by fuzz_checkpoint).
 */
static int superblock_plausible(const char *path)
{
  unsigned char b[56];
  FILE         *f = fopen(path, "rb");
  long          size;
  size_t        n;
  if (!f) return 1; /* HDF5 reports it */
  n = fread(b, 1, sizeof b, f);
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fclose(f);
  if (n < sizeof b || memcmp(b, "\211HDF\r\n\032\n", 8) || b[8] > 1 || b[13] != 8) return 1; /* not the layout checked here */
  {
    const int      off = b[8] == 0 ? 24 : 28; /* base address, then free space, end of file, driver info */
    unsigned long long eof = 0;
    int            undef   = 1;
    for (int i = 7; i >= 0; i--) eof = (eof << 8) | b[off + 16 + i];
    for (int i = 0; i < 8 && off + 24 + i < (int)sizeof b; i++) undef = undef && b[off + 24 + i] == 0xff;
    return undef && eof > 0 && eof <= (unsigned long long)size;
  }
}

static htri_t is_hdf5(const char *path)
{
  if (!superblock_plausible(path)) return 0;
#if H5_VERSION_GE(1, 12, 0)
  return H5Fis_accessible(path, H5P_DEFAULT);
#else
  return H5Fis_hdf5(path);
#endif
}

int OxHistoryCheckCheckpoint(const char *path, const char *config_text, const OxCheckpointExpect *ex, int *has_layer, char *why, size_t len)
{
  Ck     k = {-1, why, len};
  int    ok;
  herr_t (*old_func)(hid_t, void *);
  void  *old_data;

  why[0]     = '\0';
  *has_layer = 0;
  H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* report our way, not HDF5's */
  if (is_hdf5(path) <= 0 || (k.fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
    ok = bad(&k, "file", "cannot be opened as an HDF5 file (missing, empty, truncated or not HDF5); expected a checkpoint written by oxvac run");
  else if ((ok = find_object(k.fid, "/state", H5O_TYPE_GROUP)) <= 0)
    ok = ok < 0 ? bad(&k, "dataset '/state'", "cannot be read (damaged file?); expected the group of the state to continue from")
                : bad(&k, "dataset '/state'", "missing (a result file, not a checkpoint?); expected the group of the state to continue from");
  else if ((ok = check_config(&k, config_text)) == 1) ok = check_contents(&k, ex, has_layer);
  if (k.fid >= 0) H5Fclose(k.fid);
  H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
  return ok;
}
