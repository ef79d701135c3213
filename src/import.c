/*
 * Imported microstructure (docs/interface.md section 3, microstructure.type = "import"):
 * a labelled voxel image in an HDF5 file, int [nz][ny][nx], 0 electrolyte and
 * 1..n primary particle ids, with an optional int dataset of secondary ids of
 * the same shape. An oxvac result file imports directly
 * (labels = "/geometry/labels"; secondary = "/geometry/secondary").
 *
 * OxImportProbe checks the file before the grid exists (plain HDF5, every
 * rank) and gives its shape and voxel size. OxImportFill then reads the whole
 * image on every rank and keeps each rank's own block, so every rank derives
 * the same secondaries, envelopes and particle table whatever the rank count.
 *
 * Without a secondary dataset, secondaries are derived: the solid (label > 0)
 * is closed morphologically (dilation then erosion) with a closed Euclidean
 * ball of radius closing_nm / 2 (distances between voxel centres, exact
 * squared Euclidean distance transforms), so gaps up to about closing_nm wide
 * between primaries are bridged; the 6-connected components of the closed
 * solid are the secondaries, numbered 1..n in order of their first voxel in
 * C order ([z][y][x]); every voxel of a component (solid or closed gap) gets
 * its id. For the erosion, space outside the grid counts as part of the
 * dilated set, so the closing never removes solid at the grid faces.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include "oxvac/distance.h"
#include "oxvac/error.h"
#include "oxvac/flood.h"
#include "oxvac/microstructure.h"
#include "oxvac/units.h"
#include "splitmix.h"

/* ------------------------------------------------------------------------ */
/* Probe                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
  const OxConfig *cfg;
  char           *err;
  size_t          errlen;
} Probe;

/* "CFG:LINE: key 'microstructure.file': FILE:DSET: <fmt>"; returns 2. */
static int probe_fail(const Probe *p, const char *dset, const char *fmt, ...)
{
  const OxConfig *cfg = p->cfg;
  char           *what;
  int             n;
  va_list         ap;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  what = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!what) return OxInputError(p->err, p->errlen, cfg->source, 1, "microstructure.file", "out of memory; expected a smaller image");
  va_start(ap, fmt);
  vsnprintf(what, (size_t)n + 1, fmt, ap);
  va_end(ap);
  if (cfg->import_line < 0) OxInputError(p->err, p->errlen, "--set", -cfg->import_line, "microstructure.file", "%s:%s: %s", cfg->import_file, dset, what);
  else OxInputError(p->err, p->errlen, cfg->source, cfg->import_line > 0 ? cfg->import_line : 1, "microstructure.file", "%s:%s: %s", cfg->import_file, dset, what);
  free(what);
  return 2;
}

static const char *class_name(H5T_class_t c)
{
  switch (c) {
  case H5T_INTEGER: return "integer";
  case H5T_FLOAT: return "floating-point";
  case H5T_STRING: return "string";
  case H5T_BITFIELD: return "bitfield";
  case H5T_OPAQUE: return "opaque";
  case H5T_COMPOUND: return "compound";
  case H5T_REFERENCE: return "reference";
  case H5T_ENUM: return "enum";
  case H5T_VLEN: return "variable-length";
  case H5T_ARRAY: return "array";
  default: return "unknown";
  }
}

/* Whether the link `name` exists, component by component (a missing parent is no error): 1, 0, or -1 unreadable. */
static int probe_link(hid_t fid, const char *name)
{
  char   part[512];
  size_t n = strlen(name);

  if (n >= sizeof part) return -1;
  for (size_t i = 1; i <= n; i++) {
    if (name[i] == '/' || name[i] == '\0') {
      htri_t e;
      memcpy(part, name, i);
      part[i] = '\0';
      if (!strcmp(part, "/")) continue;
      e = H5Lexists(fid, part, H5P_DEFAULT);
      if (e <= 0) return e < 0 ? -1 : 0;
    }
  }
  return 1;
}

/* Open dataset `name`, check it is an integer dataset of rank 3; dims [nz][ny][nx]. */
static int probe_open(const Probe *p, hid_t fid, const char *name, const char *what, hid_t *ds_out, hsize_t dims[3])
{
  hid_t       obj, type, space;
  H5T_class_t cls;
  int         rank;
  hsize_t     d[H5S_MAX_RANK];

  *ds_out = -1;
  obj     = H5Oopen(fid, name, H5P_DEFAULT);
  if (obj < 0 && probe_link(fid, name) != 0)
    return probe_fail(p, name, "cannot be opened (damaged file?); expected a readable integer dataset [nz][ny][nx] of %s", what);
  if (obj < 0) return probe_fail(p, name, "no such dataset; expected an integer dataset [nz][ny][nx] of %s", what);
  if (H5Iget_type(obj) != H5I_DATASET) {
    H5Oclose(obj);
    return probe_fail(p, name, "is a group, not a dataset; expected an integer dataset [nz][ny][nx] of %s", what);
  }
  type = H5Dget_type(obj);
  cls  = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  if (type >= 0) H5Tclose(type);
  if (cls != H5T_INTEGER) {
    H5Oclose(obj);
    return probe_fail(p, name, "holds %s values; expected an integer dataset [nz][ny][nx] of %s", class_name(cls), what);
  }
  space = H5Dget_space(obj);
  rank  = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (rank >= 0 && rank <= H5S_MAX_RANK) H5Sget_simple_extent_dims(space, d, NULL);
  if (space >= 0) H5Sclose(space);
  if (rank != 3) {
    H5Oclose(obj);
    if (rank < 0) return probe_fail(p, name, "has no readable dataspace; expected an integer dataset [nz][ny][nx] of %s", what);
    return probe_fail(p, name, "has rank %d; expected rank 3, [nz][ny][nx], of %s", rank, what);
  }
  for (int k = 0; k < 3; k++) dims[k] = d[k];
  if (!dims[0] || !dims[1] || !dims[2] || (double)dims[0] * (double)dims[1] * (double)dims[2] > (double)INT_MAX || dims[0] > 1048576 ||
      dims[1] > 1048576 || dims[2] > 1048576) {
    H5Oclose(obj);
    return probe_fail(p, name, "has shape [%llu][%llu][%llu]; expected a non-empty grid of at most %d voxels and at most 1048576 along each axis",
                      (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[2], INT_MAX);
  }
  *ds_out = obj;
  return 0;
}

/* Scan the values one z-plane at a time: the first negative value, the largest, and how many are > 0. */
static int probe_values(const Probe *p, hid_t ds, const char *name, const hsize_t dims[3], const char *what, long long *vmax, long long *npos)
{
  size_t     plane = (size_t)dims[1] * dims[2];
  long long *buf   = malloc(plane * sizeof *buf);
  hid_t      fsp = H5Dget_space(ds), msp;
  hsize_t    mdims[1] = {plane}, start[3] = {0, 0, 0}, count[3] = {1, dims[1], dims[2]};
  int        rc = 0;

  *vmax = 0, *npos = 0;
  if (!buf) {
    H5Sclose(fsp);
    return probe_fail(p, name, "out of memory reading a plane; expected a smaller image");
  }
  msp = H5Screate_simple(1, mdims, NULL);
  for (hsize_t k = 0; k < dims[0] && !rc; k++) {
    start[0] = k;
    if (H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(ds, H5T_NATIVE_LLONG, msp, fsp, H5P_DEFAULT, buf) < 0) {
      rc = probe_fail(p, name, "cannot read plane z = %llu; expected a readable integer dataset of %s", (unsigned long long)k, what);
      break;
    }
    for (size_t o = 0; o < plane; o++) {
      long long v = buf[o];
      if (v < 0) {
        rc = probe_fail(p, name, "value %lld at x = %zu, y = %zu, z = %llu is negative; expected %s", v, o % dims[2], o / dims[2],
                        (unsigned long long)k, what);
        break;
      }
      if (v > *vmax) *vmax = v;
      *npos += v > 0;
    }
  }
  if (!rc && *vmax > INT_MAX) rc = probe_fail(p, name, "largest value %lld is too large; expected ids up to %d", *vmax, INT_MAX);
  H5Sclose(msp);
  H5Sclose(fsp);
  free(buf);
  return rc;
}

/* A numeric attribute voxel_nm or voxel_m (one value) on obj; *found = 0 when neither is there. */
static int probe_voxel_attr(const Probe *p, hid_t obj, const char *objname, int *found, double *nm, char *where, size_t wlen)
{
  static const char *const names[2] = {"voxel_nm", "voxel_m"};

  *found = 0;
  for (int a = 0; a < 2; a++) {
    hid_t       at, type, space;
    H5T_class_t cls;
    hssize_t    npts;
    double      v = 0.0;
    if (H5Aexists(obj, names[a]) <= 0) continue;
    at    = H5Aopen(obj, names[a], H5P_DEFAULT);
    type  = at >= 0 ? H5Aget_type(at) : -1;
    cls   = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    space = at >= 0 ? H5Aget_space(at) : -1;
    npts  = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || npts != 1 || H5Aread(at, H5T_NATIVE_DOUBLE, &v) < 0) {
      if (at >= 0) H5Aclose(at);
      return probe_fail(p, p->cfg->import_labels, "attribute %s of %s is not one number; expected the voxel edge as one positive number",
                        names[a], objname);
    }
    H5Aclose(at);
    if (!(isfinite(v) && v > 0.0))
      return probe_fail(p, p->cfg->import_labels, "attribute %s of %s is %g; expected a positive voxel edge", names[a], objname, v);
    if (a == 0) *nm = v;
    else {
      /* The shortest decimal that converts back exactly, so that nm * 1e-9 is the stored value. */
      char   s[40];
      double x = v / OX_NM_TO_M;
      for (int prec = 6; prec <= 17; prec++) {
        double y;
        snprintf(s, sizeof s, "%.*g", prec, x);
        y = strtod(s, NULL);
        if (y * OX_NM_TO_M == v) {
          x = y;
          break;
        }
      }
      *nm = x;
    }
    snprintf(where, wlen, "attribute %s of %s", names[a], objname);
    *found = 1;
    return 0;
  }
  return 0;
}

int OxImportProbe(const OxConfig *cfg, int shape[3], double *voxel_nm, char *err, size_t errlen)
{
  Probe       P = {cfg, err, errlen};
  const char *lab = cfg->import_labels, *sec = cfg->import_secondary;
  const char *lab_what = "primary labels, 0 for electrolyte and >= 1 for solid";
  const char *sec_what = "secondary ids, 0 for none and >= 1 for a secondary particle";
  H5E_auto2_t efunc;
  void       *edata;
  hid_t       fid = -1, ds = -1;
  hsize_t     dims[3], sdims[3];
  long long   vmax, npos;
  int         rc = 0;
  FILE       *fp;
  htri_t      is;

  if (err && errlen) err[0] = '\0';
  fp = fopen(cfg->import_file, "rb");
  if (!fp)
    return probe_fail(&P, lab, "cannot open the file (%s); expected an HDF5 file holding the integer dataset %s", strerror(errno), lab);
  fclose(fp);
  /* Failures are reported here in the form of docs/interface.md: silence HDF5's own stack printing. */
  H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  is = H5Fis_hdf5(cfg->import_file);
  if (is <= 0) {
    rc = probe_fail(&P, lab, "not an HDF5 file; expected an HDF5 file holding the integer dataset %s", lab);
    goto done;
  }
  fid = H5Fopen(cfg->import_file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) {
    rc = probe_fail(&P, lab, "HDF5 cannot open the file; expected a readable HDF5 file holding the integer dataset %s", lab);
    goto done;
  }

  /* Labels. */
  if ((rc = probe_open(&P, fid, lab, lab_what, &ds, dims))) goto done;
  if (cfg->has_shape || cfg->has_domain) {
    if ((int)dims[2] != cfg->shape[0] || (int)dims[1] != cfg->shape[1] || (int)dims[0] != cfg->shape[2]) {
      rc = probe_fail(&P, lab, "shape [nz][ny][nx] = [%llu][%llu][%llu] is nx, ny, nz = %llu, %llu, %llu but grid.%s gives %d, %d, %d; expected the same grid, or leave grid.shape and grid.domain_um out",
                      (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[2], (unsigned long long)dims[2],
                      (unsigned long long)dims[1], (unsigned long long)dims[0], cfg->has_shape ? "shape" : "domain_um", cfg->shape[0], cfg->shape[1],
                      cfg->shape[2]);
      goto done;
    }
  }
  if ((rc = probe_values(&P, ds, lab, dims, lab_what, &vmax, &npos))) goto done;
  if (npos == 0) {
    rc = probe_fail(&P, lab, "no solid voxel (every label is 0); expected primary ids >= 1 on the solid voxels");
    goto done;
  }
  /* Per-primary arrays are sized by the largest id: ids beyond the voxel count cannot all be used. */
  if ((double)vmax > (double)dims[0] * (double)dims[1] * (double)dims[2]) {
    rc = probe_fail(&P, lab, "largest label %lld exceeds the number of voxels (%.0f); expected primary ids numbered compactly, 1 to at most the number of voxels",
                    vmax, (double)dims[0] * (double)dims[1] * (double)dims[2]);
    goto done;
  }

  /* Voxel size: on the dataset, its group, or the file root. */
  {
    char   parent[sizeof cfg->import_labels + 2], where[600] = "";
    double nm = 0.0;
    int    found = 0;
    snprintf(parent, sizeof parent, "%s%s", lab[0] == '/' ? "" : "/", lab);
    {
      char *slash = strrchr(parent, '/');
      if (slash == parent) parent[1] = '\0';
      else *slash = '\0';
    }
    if ((rc = probe_voxel_attr(&P, ds, lab, &found, &nm, where, sizeof where))) goto done;
    if (!found && strcmp(parent, "/")) {
      hid_t g = H5Oopen(fid, parent, H5P_DEFAULT);
      if (g >= 0) {
        rc = probe_voxel_attr(&P, g, parent, &found, &nm, where, sizeof where);
        H5Oclose(g);
        if (rc) goto done;
      }
    }
    if (!found) {
      hid_t g = H5Oopen(fid, "/", H5P_DEFAULT);
      if (g >= 0) {
        rc = probe_voxel_attr(&P, g, "/", &found, &nm, where, sizeof where);
        H5Oclose(g);
        if (rc) goto done;
      }
    }
    if (found && cfg->voxel_nm > 0 && fabs(nm - cfg->voxel_nm) > 1e-9 * fmax(nm, cfg->voxel_nm)) {
      rc = probe_fail(&P, lab, "%s gives a voxel edge of %.10g nm but grid.voxel_nm = %.10g; expected them equal, or leave grid.voxel_nm out", where,
                      nm, cfg->voxel_nm);
      goto done;
    }
    if (!found && cfg->voxel_nm <= 0) {
      rc = probe_fail(&P, lab, "no voxel size: no attribute voxel_nm or voxel_m on %s%s%s or the file root; expected such an attribute, or grid.voxel_nm in the config",
                      lab, strcmp(parent, "/") ? ", " : "", strcmp(parent, "/") ? parent : "");
      goto done;
    }
    /* The config's value when it gives one (it agrees), so a re-import reproduces the run bit for bit. */
    *voxel_nm = cfg->voxel_nm > 0 ? cfg->voxel_nm : nm;
  }
  H5Dclose(ds);
  ds = -1;

  /* Secondary ids. */
  if (sec[0]) {
    if ((rc = probe_open(&P, fid, sec, sec_what, &ds, sdims))) goto done;
    if (sdims[0] != dims[0] || sdims[1] != dims[1] || sdims[2] != dims[2]) {
      rc = probe_fail(&P, sec, "shape [%llu][%llu][%llu] differs from %s [%llu][%llu][%llu]; expected the same shape as the labels", (unsigned long long)sdims[0],
                      (unsigned long long)sdims[1], (unsigned long long)sdims[2], lab, (unsigned long long)dims[0], (unsigned long long)dims[1],
                      (unsigned long long)dims[2]);
      goto done;
    }
    if ((rc = probe_values(&P, ds, sec, sdims, sec_what, &vmax, &npos))) goto done;
    if ((double)vmax > (double)sdims[0] * (double)sdims[1] * (double)sdims[2]) {
      rc = probe_fail(&P, sec, "largest secondary id %lld exceeds the number of voxels (%.0f); expected ids numbered compactly, 1 to at most the number of voxels",
                      vmax, (double)sdims[0] * (double)sdims[1] * (double)sdims[2]);
      goto done;
    }
  }
  shape[0] = (int)dims[2], shape[1] = (int)dims[1], shape[2] = (int)dims[0];

done:
  if (ds >= 0) H5Dclose(ds);
  if (fid >= 0) H5Fclose(fid);
  H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Fill                                                                     */
/* ------------------------------------------------------------------------ */

/* Squared distance (in voxels, float: see the memory note below) from every
 * voxel to the nearest voxel with in[v] == want. */
static PetscErrorCode distance_to(const unsigned char *in, unsigned char want, const PetscInt n[3], float *g)
{
  size_t N = (size_t)n[0] * n[1] * n[2];

  PetscFunctionBeginUser;
  for (size_t o = 0; o < N; o++) g[o] = in[o] == want ? 0.0f : (float)OX_DISTANCE_FAR;
  PetscCall(OxDistanceSquaredFloat(3, n, g));
  PetscFunctionReturn(0);
}

/* Secondary ids from the labels: closing of the solid, then 6-connected
 * components. Memory on every rank, besides the labels and ids (8 bytes a
 * voxel): a mask (1) and float distances (4) for the closing, then the flood
 * queue (4); double distances would make the closing 17 bytes a voxel. */
static PetscErrorCode derive_secondaries(const int *lab, const PetscInt n[3], double r_vox, int *sec, PetscInt *nsec)
{
  size_t         N = (size_t)n[0] * n[1] * n[2];
  unsigned char *m;
  float         *g;
  double         r2 = r_vox * r_vox * (1.0 + 1e-12);

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(N, &m, N, &g));
  /* Dilation: voxels within r of the solid. */
  for (size_t o = 0; o < N; o++) m[o] = lab[o] > 0;
  PetscCall(distance_to(m, 1, n, g));
  for (size_t o = 0; o < N; o++) m[o] = g[o] <= r2;
  /* Erosion: voxels farther than r from every grid voxel outside the dilated set.
   * sec: -1 closed and not yet numbered, 0 outside the closed solid. */
  PetscCall(distance_to(m, 0, n, g));
  for (size_t o = 0; o < N; o++) sec[o] = (lab[o] > 0 || g[o] > r2) ? -1 : 0;
  PetscCall(PetscFree2(m, g));
  PetscCall(OxFloodComponents(n, sec, -1, nsec));
  PetscFunctionReturn(0);
}

/* Read the whole integer dataset name into buf (N ints). */
static PetscErrorCode read_all(MPI_Comm comm, hid_t fid, const char *file, const char *name, const PetscInt n[3], int *buf)
{
  hid_t   ds = H5Dopen2(fid, name, H5P_DEFAULT), sp;
  hsize_t dims[3] = {0, 0, 0};
  int     rank;

  PetscFunctionBeginUser;
  PetscCheck(ds >= 0, comm, PETSC_ERR_FILE_READ, "%s:%s: cannot open the dataset", file, name);
  sp   = H5Dget_space(ds);
  rank = H5Sget_simple_extent_ndims(sp);
  if (rank == 3) H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (rank != 3 || (PetscInt)dims[0] != n[2] || (PetscInt)dims[1] != n[1] || (PetscInt)dims[2] != n[0]) {
    H5Dclose(ds);
    SETERRQ(comm, PETSC_ERR_ARG_SIZ, "%s:%s: shape differs from the grid %" PetscInt_FMT " x %" PetscInt_FMT " x %" PetscInt_FMT " (was OxImportProbe's shape used?)", file,
            name, n[0], n[1], n[2]);
  }
  if (H5Dread(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    H5Dclose(ds);
    SETERRQ(comm, PETSC_ERR_FILE_READ, "%s:%s: cannot read the dataset", file, name);
  }
  H5Dclose(ds);
  PetscFunctionReturn(0);
}

/* Open-addressing count of (particle, secondary) pairs, buckets by splitmix64
 * (the particle table below does not depend on the bucket order: ties go to
 * the smaller secondary id). */
typedef struct {
  size_t    cap, n;
  uint64_t *key; /* (p << 32 | s) + 1; 0 = empty */
  size_t   *cnt;
} PairCount;

static PetscErrorCode pair_add(PairCount *h, uint64_t key)
{
  size_t b;

  PetscFunctionBeginUser;
  if (2 * (h->n + 1) > h->cap) {
    PairCount g = {h->cap ? 2 * h->cap : 1024, 0, NULL, NULL};
    PetscCall(PetscCalloc2(g.cap, &g.key, g.cap, &g.cnt));
    for (size_t q = 0; q < h->cap; q++)
      if (h->key[q]) {
        for (b = OxSplitMix64(h->key[q]) & (g.cap - 1); g.key[b]; b = (b + 1) & (g.cap - 1)) {}
        g.key[b] = h->key[q], g.cnt[b] = h->cnt[q], g.n++;
      }
    PetscCall(PetscFree2(h->key, h->cnt));
    *h = g;
  }
  for (b = OxSplitMix64(key) & (h->cap - 1); h->key[b] && h->key[b] != key; b = (b + 1) & (h->cap - 1)) {}
  if (!h->key[b]) h->key[b] = key, h->n++;
  h->cnt[b]++;
  PetscFunctionReturn(0);
}

PetscErrorCode OxImportFill(const OxConfig *cfg, DM da, OxMicrostructure *ms)
{
  MPI_Comm       comm = PetscObjectComm((PetscObject)da);
  PetscInt       n[3] = {ms->nx, ms->ny, ms->nz}, xs, ys, zs, xm, ym, zm, nsec = 0, np = 0;
  size_t         N = (size_t)n[0] * n[1] * n[2];
  int           *lab, *sec;
  hid_t          fid;
  PetscScalar ***L, ***S;
  double         h = ms->voxel_m;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(N, &lab, N, &sec));
  fid = H5Fopen(cfg->import_file, H5F_ACC_RDONLY, H5P_DEFAULT);
  PetscCheck(fid >= 0, comm, PETSC_ERR_FILE_OPEN, "%s: cannot open the imported file", cfg->import_file);
  PetscCall(read_all(comm, fid, cfg->import_file, cfg->import_labels, n, lab));
  if (cfg->import_secondary[0]) PetscCall(read_all(comm, fid, cfg->import_file, cfg->import_secondary, n, sec));
  H5Fclose(fid);
  for (size_t o = 0; o < N; o++) {
    PetscCheck(lab[o] >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s:%s: negative label", cfg->import_file, cfg->import_labels);
    if (lab[o] > np) np = lab[o];
  }
  if (cfg->import_secondary[0]) {
    for (size_t o = 0; o < N; o++) {
      PetscCheck(sec[o] >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s:%s: negative secondary id", cfg->import_file, cfg->import_secondary);
      if (sec[o] > nsec) nsec = sec[o];
    }
  } else {
    double r_vox = 0.5 * cfg->closing_nm * OX_NM_TO_M / h;
    PetscCall(derive_secondaries(lab, n, r_vox, sec, &nsec));
    PetscCall(PetscInfo(NULL, "import: %" PetscInt_FMT " secondaries derived by closing with a ball of radius %g voxels\n", nsec, r_vox));
  }

  /* This rank's block. */
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(DMDAVecGetArray(da, ms->labels, &L));
  PetscCall(DMDAVecGetArray(da, ms->secondary, &S));
  for (PetscInt k = zs; k < zs + zm; k++)
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++) {
        size_t o = ((size_t)k * n[1] + j) * n[0] + i;
        L[k][j][i] = (PetscScalar)lab[o];
        S[k][j][i] = (PetscScalar)sec[o];
      }
  PetscCall(DMDAVecRestoreArray(da, ms->labels, &L));
  PetscCall(DMDAVecRestoreArray(da, ms->secondary, &S));

  /* The secondary most voxels of each primary carry (ties: the smaller id), from the whole image. */
  ms->nparticles   = np;
  ms->nsecondaries = nsec;
  PetscCall(PetscMalloc1(np + 1, &ms->particle_secondary));
  PetscCall(PetscMalloc1(nsec + 1, &ms->envelope));
  {
    PairCount H = {0, 0, NULL, NULL};
    size_t   *best;
    PetscCall(PetscCalloc1(np + 1, &best));
    for (PetscInt p = 0; p <= np; p++) ms->particle_secondary[p] = 0;
    for (size_t o = 0; o < N; o++)
      if (lab[o] > 0) PetscCall(pair_add(&H, (((uint64_t)lab[o] << 32) | (uint64_t)sec[o]) + 1));
    for (size_t q = 0; q < H.cap; q++) {
      if (!H.key[q]) continue;
      uint64_t key = H.key[q] - 1;
      int      p = (int)(key >> 32), s = (int)(key & 0xffffffffu);
      if (H.cnt[q] > best[p] || (H.cnt[q] == best[p] && s < ms->particle_secondary[p])) best[p] = H.cnt[q], ms->particle_secondary[p] = s;
    }
    PetscCall(PetscFree2(H.key, H.cnt));
    PetscCall(PetscFree(best));
  }

  /* Envelopes: equal-volume sphere at the centroid of each secondary's voxels (solid and gaps). */
  {
    int64_t *sum;
    PetscCall(PetscCalloc1(4 * (nsec + 1), &sum));
    for (PetscInt k = 0; k < n[2]; k++)
      for (PetscInt j = 0; j < n[1]; j++)
        for (PetscInt i = 0; i < n[0]; i++) {
          int s = sec[((size_t)k * n[1] + j) * n[0] + i];
          if (s <= 0) continue;
          sum[4 * s] += 1, sum[4 * s + 1] += i, sum[4 * s + 2] += j, sum[4 * s + 3] += k;
        }
    for (int d = 0; d < 4; d++) ms->envelope[0][d] = 0.0;
    for (PetscInt s = 1; s <= nsec; s++) {
      double cnt = (double)sum[4 * s];
      for (int d = 0; d < 3; d++) ms->envelope[s][d] = cnt > 0 ? ((double)sum[4 * s + 1 + d] / cnt + 0.5) * h : 0.0;
      ms->envelope[s][3] = cbrt(3.0 * cnt * h * h * h / (4.0 * M_PI));
    }
    PetscCall(PetscFree(sum));
  }
  PetscCall(PetscFree2(lab, sec));
  PetscFunctionReturn(0);
}
