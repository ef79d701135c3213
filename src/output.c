/* HDF5 result file and XDMF sidecar. */
#include <errno.h>
#include <stddef.h>
#include <hdf5.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <petscviewerhdf5.h>
#include "oxvac/common.h"
#include "oxvac/output.h"
#include "oxvac/atomic.h"

struct OxOutput_private {
  MPI_Comm    comm;
  PetscMPIInt rank;
  PetscViewer viewer;
  PetscBool   xdmf;
  hid_t       fid;
  char        path[PETSC_MAX_PATH_LEN];
  OxAtomic    h5;          /* the HDF5 file's temporary name (rank 0's pid), renamed over path when complete */
  PetscInt    shape[3];
  double      voxel_m;
  int         nfields, capfields;
  int        *field_cycle;
  double     *field_time_s, *field_soc;
  PetscBool  *field_mn3;   /* the stored cycle has mn3_fraction too */
  PetscBool  *field_stress; /* and the hydrostatic and von Mises stress */
  int         failed;      /* a write failed on some rank, and every rank knows (OxOutputAgree) */
};

#define OX_H5(call) \
  do { \
    if ((call) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

PetscErrorCode OxOutputAgree(OxOutput out, PetscErrorCode ierr)
{
  int failed = ierr != 0;
  /* Once agreed, a failure is known everywhere: later agreements (on the way
   * out, from whichever depth each rank failed at) communicate no more, so
   * every rank makes the same collective calls. */
  if (out->failed) return ierr ? ierr : PETSC_ERR_FILE_WRITE;
  if (MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, out->comm) != MPI_SUCCESS) return PETSC_ERR_MPI;
  out->failed = failed;
  return failed ? (ierr ? ierr : PETSC_ERR_FILE_WRITE) : 0;
}

/* mkdir -p for the folder of path (rank 0 only; the caller synchronises).
 * made (when not NULL) gets the first folder it created ("" when none), so
 * that remove_made_dirs can take them away again. */
static int make_parent_dirs_noting(const char *path, char *made, size_t madelen)
{
  char buf[PETSC_MAX_PATH_LEN];
  if (made && madelen) made[0] = '\0';
  if (strlen(path) >= sizeof(buf)) return -1;
  strcpy(buf, path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) == 0) {
      if (made && madelen && !made[0]) snprintf(made, madelen, "%s", buf);
    } else if (errno != EEXIST) return -1;
    *p = '/';
  }
  return 0;
}

static int make_parent_dirs(const char *path) { return make_parent_dirs_noting(path, NULL, 0); }

/* Remove the folders of path from its own up to made (the first one made_parent_dirs_noting created). */
static void remove_made_dirs(const char *path, const char *made)
{
  char buf[PETSC_MAX_PATH_LEN];
  if (!made[0] || strlen(path) >= sizeof(buf)) return;
  strcpy(buf, path);
  for (char *slash = strrchr(buf, '/'); slash && strlen(buf) > strlen(made); slash = strrchr(buf, '/')) {
    *slash = '\0';
    if (strlen(buf) >= strlen(made)) rmdir(buf);
  }
}

PetscViewer OxOutputViewer(OxOutput out) { return out->viewer; }

/* The XDMF sidecar of an HDF5 path: OUT.h5 -> OUT.xdmf (any other name gets .xdmf appended). */
static void xdmf_path(const char *path, char *xdmf, size_t len)
{
  size_t n = strlen(path);
  snprintf(xdmf, len, "%.*s.xdmf", (int)(n > 3 && !strcmp(path + n - 3, ".h5") ? n - 3 : n), path);
}

/* The folder of path ("." for a bare name). */
static void folder_of(const char *path, char *dir, size_t len)
{
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, len, ".");
  else if (slash == path) snprintf(dir, len, "/");
  else snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

static herr_t collect_hdf5_error(unsigned n, const H5E_error2_t *e, void *data)
{
  char  *buf = data;
  size_t used = strlen(buf);
  (void)n;
  if (e->desc && used + 2 < 1024) snprintf(buf + used, 1024 - used, "%s; ", e->desc);
  return 0;
}

/* Why could path not be written (rank 0)? The file system's state first
 * (read-only, no space left: what a user can act on), then what the HDF5
 * error stack says (an errno, an MPI-IO message), then errno, then what
 * PETSc said. Call before any other HDF5 call: each one clears the stack. */
static void failure_reason(const char *path, PetscErrorCode ierr, int err, char *why, size_t len)
{
  char           dir[PETSC_MAX_PATH_LEN], stack[1024] = "";
  struct statvfs fs;
  const char    *text = NULL, *m;
  int            e;

  folder_of(path, dir, sizeof(dir));
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_hdf5_error, stack);
  if (statvfs(dir, &fs) == 0 && (fs.f_flag & ST_RDONLY)) e = EROFS;
  else if (statvfs(dir, &fs) == 0 && (fs.f_bavail == 0 || (double)fs.f_bavail * fs.f_frsize < 65536.0)) e = ENOSPC;
  else if ((m = strstr(stack, "errno = ")) && atoi(m + 8) > 0) e = atoi(m + 8);
  else if (strstr(stack, "No space") || strstr(stack, "no space")) e = ENOSPC;
  else if (strstr(stack, "Read-only") || strstr(stack, "read-only")) e = EROFS;
  else e = err;
  if (e) {
    snprintf(why, len, "%s", strerror(e));
    if (why[0]) why[0] = (char)(why[0] >= 'A' && why[0] <= 'Z' ? why[0] - 'A' + 'a' : why[0]); /* "no space left on device" */
    return;
  }
  if (ierr) PetscErrorMessage(ierr, NULL, (char **)&text);
  snprintf(why, len, "%s", stack[0] ? stack : text && text[0] ? text : "an HDF5 write failed");
}

/* Every rank learns whether any rank failed, and rank 0's reason. */
static PetscErrorCode agree_failure(MPI_Comm comm, int *failed, char *why, size_t len)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, failed, 1, MPI_INT, MPI_MAX, comm));
  if (*failed) {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (rank == 0 && !why[0]) snprintf(why, len, "a write failed on another rank");
    PetscCallMPI(MPI_Bcast(why, (int)len, MPI_CHAR, 0, comm));
  } else why[0] = '\0';
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputTryOpen(MPI_Comm comm, const char *path, PetscBool xdmf, double bytes, OxOutput *pout, char *why, size_t len)
{
  OxOutput       out;
  int            failed = 0;
  long           pid    = (long)getpid();
  PetscErrorCode ierr   = 0;
  H5E_auto2_t    efunc;
  void          *edata;

  PetscFunctionBeginUser;
  *pout  = NULL;
  why[0] = '\0';
  PetscCall(PetscNew(&out));
  out->comm = comm;
  out->xdmf = xdmf;
  PetscCallMPI(MPI_Comm_rank(comm, &out->rank));
  PetscCallMPI(MPI_Bcast(&pid, 1, MPI_LONG, 0, comm));
  PetscCall(PetscStrncpy(out->path, path, sizeof(out->path)));
  OxAtomicBegin(&out->h5, path, pid);
  if (!out->rank) { /* what a killed run of this path left: its temporary HDF5 and XDMF */
    char xdmf[PETSC_MAX_PATH_LEN + 8];
    xdmf_path(path, xdmf, sizeof(xdmf));
    OxAtomicRemoveStale(path);
    OxAtomicRemoveStale(xdmf);
  }
  if (!out->rank && make_parent_dirs(path) != 0) {
    failed = 1;
    snprintf(why, len, "cannot create its folder (%s)", strerror(errno));
  } else if (!out->rank && bytes > 0) {
    /* Space first: a parallel HDF5 write that runs out of space on one rank
     * can stop inside a collective HDF5 call (dataset allocation) with the
     * other ranks waiting there forever; this check turns the common case,
     * a disk already too full for the file, into a plain failure. */
    char           dir[PETSC_MAX_PATH_LEN];
    struct statvfs fs;
    folder_of(path, dir, sizeof(dir));
    if (statvfs(dir, &fs) == 0 && (double)fs.f_bavail * (double)fs.f_frsize < bytes) {
      failed = 1;
      snprintf(why, len, "no space left on device (the file needs about %.3g MB, %.3g MB are free)", bytes / 1e6,
               (double)fs.f_bavail * (double)fs.f_frsize / 1e6);
    }
  }
  PetscCall(agree_failure(comm, &failed, why, len));
  if (!failed) {
    /* PetscViewerHDF5Open, by hand: a file that cannot be created leaves no viewer behind */
    PetscCall(PetscViewerCreate(comm, &out->viewer));
    PetscCall(PetscViewerSetType(out->viewer, PETSCVIEWERHDF5));
    PetscCall(PetscViewerFileSetMode(out->viewer, FILE_MODE_WRITE));
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    errno = 0;
    ierr  = PetscViewerFileSetName(out->viewer, out->h5.tmp);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      failed = 1;
      if (!out->rank) failure_reason(path, ierr, errno, why, len);
    }
    PetscCall(agree_failure(comm, &failed, why, len));
    if (failed) {
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      (void)PetscViewerDestroy(&out->viewer); /* no file: its close fails quietly */
      PetscCall(PetscPopErrorHandler());
    }
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  }
  if (failed) {
    PetscCallMPI(MPI_Barrier(comm));
    if (!out->rank) remove(out->h5.tmp);
    PetscCall(PetscFree(out));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscViewerHDF5GetFileId(out->viewer, &out->fid));
  *pout = out;
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputOpen(MPI_Comm comm, const char *path, PetscBool xdmf, OxOutput *pout)
{
  char why[512];

  PetscFunctionBeginUser;
  PetscCall(OxOutputTryOpen(comm, path, xdmf, 0.0, pout, why, sizeof(why)));
  PetscCheck(*pout, comm, PETSC_ERR_FILE_OPEN, "cannot write %s: %s", path, why);
  PetscFunctionReturn(0);
}

void OxOutputFailureReason(OxOutput out, PetscErrorCode ierr, char *why, size_t len)
{
  int err = errno;
  why[0] = '\0';
  if (!out->rank) failure_reason(out->path, ierr, err, why, len);
}

/* Does the link path exist? Each parent is checked first (H5Lexists fails on a missing parent). */
static int link_exists(hid_t fid, const char *path)
{
  char part[PETSC_MAX_PATH_LEN];

  for (const char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
    size_t n = p ? (size_t)(p - path) : strlen(path);
    if (n >= sizeof(part)) return 0;
    memcpy(part, path, n);
    part[n] = '\0';
    if (H5Lexists(fid, part, H5P_DEFAULT) <= 0) return 0;
    if (!p) return 1;
  }
}

static PetscErrorCode ensure_group(OxOutput out, const char *path)
{
  hid_t lcpl, g;

  PetscFunctionBeginUser;
  if (link_exists(out->fid, path)) PetscFunctionReturn(0);
  lcpl = H5Pcreate(H5P_LINK_CREATE);
  OX_H5(H5Pset_create_intermediate_group(lcpl, 1));
  g = H5Gcreate2(out->fid, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  OX_H5(g);
  OX_H5(H5Gclose(g));
  OX_H5(H5Pclose(lcpl));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_attr(hid_t obj, const char *name, hid_t type, int n, const void *v)
{
  hsize_t dims = (hsize_t)n;
  hid_t   sp   = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, NULL), a;

  PetscFunctionBeginUser;
  a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  OX_H5(a);
  OX_H5(H5Awrite(a, type, v));
  OX_H5(H5Aclose(a));
  OX_H5(H5Sclose(sp));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_attr_string(hid_t obj, const char *name, const char *s)
{
  hid_t t = H5Tcopy(H5T_C_S1);

  PetscFunctionBeginUser;
  OX_H5(H5Tset_size(t, strlen(s) + 1));
  PetscCall(write_attr(obj, name, t, 1, s));
  OX_H5(H5Tclose(t));
  PetscFunctionReturn(0);
}

/* Every dataset carries attributes units ("1" for a pure number) and a one-line description. */
static PetscErrorCode describe_obj(hid_t obj, const char *units, const char *description)
{
  PetscFunctionBeginUser;
  PetscCall(write_attr_string(obj, "units", units));
  PetscCall(write_attr_string(obj, "description", description));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputDescribe(OxOutput out, const char *path, const char *units, const char *description)
{
  hid_t ds;

  PetscFunctionBeginUser;
  ds = H5Dopen2(out->fid, path, H5P_DEFAULT);
  OX_H5(ds);
  PetscCall(describe_obj(ds, units, description));
  OX_H5(H5Dclose(ds));
  PetscFunctionReturn(0);
}

#ifndef OXVAC_GIT_REVISION
#define OXVAC_GIT_REVISION "unknown"
#endif

PetscErrorCode OxOutputWriteRoot(OxOutput out, const char *config_text, const char *command, long long unknowns, double wall_time_s)
{
  hid_t       root, sp, at;
  PetscMPIInt size;
  int         ranks;
  char        date[32] = "", host[256] = "";

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(out->comm, &size));
  ranks = (int)size;
  if (!out->rank) { /* provenance as rank 0 sees it, the same on every rank (attributes are collective) */
    time_t    now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
  }
  PetscCallMPI(MPI_Bcast(date, (int)sizeof(date), MPI_CHAR, 0, out->comm));
  PetscCallMPI(MPI_Bcast(host, (int)sizeof(host), MPI_CHAR, 0, out->comm));
  PetscCallMPI(MPI_Bcast(&wall_time_s, 1, MPI_DOUBLE, 0, out->comm));
  root = H5Gopen2(out->fid, "/", H5P_DEFAULT);
  OX_H5(root);
  PetscCall(write_attr_string(root, "oxvac_version", OXVAC_VERSION));
  PetscCall(write_attr_string(root, "git_revision", OXVAC_GIT_REVISION));
  PetscCall(write_attr_string(root, "date_utc", date[0] ? date : "unknown"));
  PetscCall(write_attr_string(root, "host", host[0] ? host : "unknown"));
  PetscCall(write_attr(root, "mpi_ranks", H5T_NATIVE_INT, 1, &ranks));
  PetscCall(write_attr(root, "wall_time_s", H5T_NATIVE_DOUBLE, 1, &wall_time_s));
  if (strlen(config_text) < OX_CONFIG_ATTR_MAX) PetscCall(write_attr_string(root, "config", config_text));
  else { /* an object header message holds at most 64 KiB: a long protocol goes into a dataset */
    hid_t t = H5Tcopy(H5T_C_S1), csp = H5Screate(H5S_SCALAR), ds;
    OX_H5(H5Tset_size(t, strlen(config_text) + 1));
    ds = H5Dcreate2(out->fid, "/config", t, csp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    OX_H5(ds);
    if (!out->rank) OX_H5(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, config_text));
    PetscCall(describe_obj(ds, "1", "the resolved config of the run (here rather than the root attribute config: too large for an attribute)"));
    OX_H5(H5Dclose(ds));
    OX_H5(H5Sclose(csp));
    OX_H5(H5Tclose(t));
  }
  PetscCall(write_attr_string(root, "command", command));
  sp = H5Screate(H5S_SCALAR);
  OX_H5(sp);
  at = H5Acreate2(root, "unknowns", H5T_NATIVE_LLONG, sp, H5P_DEFAULT, H5P_DEFAULT);
  OX_H5(at);
  OX_H5(H5Awrite(at, H5T_NATIVE_LLONG, &unknowns));
  OX_H5(H5Aclose(at));
  OX_H5(H5Sclose(sp));
  OX_H5(H5Gclose(root));
  PetscFunctionReturn(0);
}

char *OxOutputReadConfig(hid_t fid)
{
  int   attr = H5Aexists_by_name(fid, "/", "config", H5P_DEFAULT) > 0;
  hid_t obj  = attr ? H5Aopen_by_name(fid, "/", "config", H5P_DEFAULT, H5P_DEFAULT)
                    : H5Lexists(fid, "/config", H5P_DEFAULT) > 0 ? H5Dopen2(fid, "/config", H5P_DEFAULT) : -1;
  hid_t tp, sp, mt;
  char *text = NULL, *v = NULL;
  int   ok;

  if (obj < 0) return NULL;
  tp = attr ? H5Aget_type(obj) : H5Dget_type(obj);
  sp = attr ? H5Aget_space(obj) : H5Dget_space(obj);
  ok = tp >= 0 && sp >= 0 && H5Tget_class(tp) == H5T_STRING && H5Sget_simple_extent_type(sp) == H5S_SCALAR;
  if (ok && H5Tis_variable_str(tp) > 0) {
    mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    if ((attr ? H5Aread(obj, mt, &v) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v)) >= 0 && v) text = strdup(v);
    if (v) H5free_memory(v);
    H5Tclose(mt);
  } else if (ok) {
    size_t n = H5Tget_size(tp);
    mt       = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, n + 1);
    text = calloc(n + 1, 1);
    if (text && (attr ? H5Aread(obj, mt, text) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, text)) < 0) free(text), text = NULL;
    H5Tclose(mt);
  }
  if (sp >= 0) H5Sclose(sp);
  if (tp >= 0) H5Tclose(tp);
  if (attr) H5Aclose(obj);
  else H5Dclose(obj);
  return text;
}

/* A collective 1-D or 2-D dataset written by rank 0 alone (all ranks hold the same data). */
static PetscErrorCode write_2d(OxOutput out, const char *path, hid_t type, PetscInt n, PetscInt m, const void *v, const char *units,
                               const char *description)
{
  hsize_t dims[2] = {(hsize_t)n, (hsize_t)m};
  hid_t   sp      = H5Screate_simple(m >= 0 ? 2 : 1, dims, NULL), ds; /* m = 0 stays 2-D: [n][0] */

  PetscFunctionBeginUser;
  ds = H5Dcreate2(out->fid, path, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  OX_H5(ds);
  /* rank 0 writes alone: the others learn of its failure before the next collective call */
  PetscCall(OxOutputAgree(out, !out->rank && n > 0 && m != 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0 ? PETSC_ERR_FILE_WRITE : 0));
  PetscCall(describe_obj(ds, units, description));
  OX_H5(H5Dclose(ds));
  OX_H5(H5Sclose(sp));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_1d(OxOutput out, const char *path, hid_t type, PetscInt n, const void *v, const char *units, const char *description)
{
  PetscFunctionBeginUser;
  PetscCall(write_2d(out, path, type, n, -1, v, units, description));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteParticles(OxOutput out, const OxParticleTable *pt)
{
  PetscFunctionBeginUser;
  PetscCall(ensure_group(out, "/particles"));
  PetscCall(write_1d(out, "/particles/id", H5T_NATIVE_INT, pt->n, pt->id, "1", "primary particle label p (row p-1), as in /geometry/labels"));
  PetscCall(write_1d(out, "/particles/secondary", H5T_NATIVE_INT, pt->n, pt->secondary, "1", "secondary particle of the primary (0: none)"));
  PetscCall(write_1d(out, "/particles/volume_m3", H5T_NATIVE_DOUBLE, pt->n, pt->volume_m3, "m^3", "volume of the primary (its voxels)"));
  PetscCall(write_1d(out, "/particles/area_m2", H5T_NATIVE_DOUBLE, pt->n, pt->area_m2, "m^2", "corrected exchange area of the primary"));
  PetscCall(write_2d(out, "/particles/centroid_m", H5T_NATIVE_DOUBLE, pt->n, 3, pt->centroid_m, "m", "centroid of the primary [n][x y z]"));
  PetscCall(write_1d(out, "/particles/depth_m", H5T_NATIVE_DOUBLE, pt->n, pt->depth_m, "m", "depth of the centroid below its secondary's envelope"));
  PetscCall(write_1d(out, "/particles/radius_m", H5T_NATIVE_DOUBLE, pt->n, pt->radius_m, "m", "equivalent-sphere radius of the primary"));
  PetscCall(write_1d(out, "/particles/diffusivity_multiplier", H5T_NATIVE_DOUBLE, pt->n, pt->multiplier, "1",
                     "diffusivity multiplier of the primary (material.particle_spread)"));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteParticleSeries(OxOutput out, int nout, const int *cycle, PetscInt np, const double *mean, const double *stress)
{
  PetscFunctionBeginUser;
  PetscCall(ensure_group(out, "/particles_series"));
  PetscCall(write_1d(out, "/particles_series/cycle", H5T_NATIVE_INT, nout, cycle, "1", "stored cycle of each row (as /fields)"));
  PetscCall(write_2d(out, "/particles_series/vacancy_mean", H5T_NATIVE_DOUBLE, nout, np, mean, "1",
                     "vacancy site fraction averaged over each primary [n_out][n_particles]"));
  if (stress)
    PetscCall(write_2d(out, "/particles_series/hydrostatic_stress_mean_Pa", H5T_NATIVE_DOUBLE, nout, np, stress, "Pa",
                       "hydrostatic stress averaged over each primary [n_out][n_particles]"));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteSecondaries(OxOutput out, const OxSecondaryTable *st, const int *cycle, const OxSecondarySeries *ss)
{
  PetscFunctionBeginUser;
  PetscCheck(ss->n == st->n, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "secondary series has %" PetscInt_FMT " columns, table %" PetscInt_FMT " rows", ss->n,
             st->n);
  PetscCall(ensure_group(out, "/secondaries"));
  PetscCall(write_1d(out, "/secondaries/id", H5T_NATIVE_INT, st->n, st->id, "1", "secondary particle id (0: the primaries in no secondary)"));
  PetscCall(write_1d(out, "/secondaries/n_primaries", H5T_NATIVE_INT, st->n, st->n_primaries, "1", "number of primaries in the secondary"));
  PetscCall(write_1d(out, "/secondaries/volume_m3", H5T_NATIVE_DOUBLE, st->n, st->volume_m3, "m^3", "volume of the secondary's primaries"));
  PetscCall(write_1d(out, "/secondaries/n_exterior", H5T_NATIVE_INT, st->n, st->n_exterior, "1",
                     "primaries with centroid depth below 2 radius_m (exterior)"));
  PetscCall(write_1d(out, "/secondaries/n_interior", H5T_NATIVE_INT, st->n, st->n_interior, "1", "primaries deeper than that (interior)"));
  PetscCall(write_1d(out, "/secondaries/volume_exterior_m3", H5T_NATIVE_DOUBLE, st->n, st->volume_exterior_m3, "m^3", "volume of the exterior primaries"));
  PetscCall(write_1d(out, "/secondaries/volume_interior_m3", H5T_NATIVE_DOUBLE, st->n, st->volume_interior_m3, "m^3", "volume of the interior primaries"));
  PetscCall(ensure_group(out, "/secondaries_series"));
  PetscCall(write_1d(out, "/secondaries_series/cycle", H5T_NATIVE_INT, ss->nout, cycle, "1", "stored cycle of each row (as /fields)"));
  PetscCall(write_2d(out, "/secondaries_series/vacancy_mean", H5T_NATIVE_DOUBLE, ss->nout, ss->n, ss->vacancy_mean, "1",
                     "volume-weighted vacancy site fraction of the secondary's primaries [n_out][n_sec]"));
  PetscCall(write_2d(out, "/secondaries_series/oxygen_loss_pct", H5T_NATIVE_DOUBLE, ss->nout, ss->n, ss->oxygen_loss_pct, "at.%",
                     "oxygen lost by the secondary, 100 x vacancy_mean [n_out][n_sec]"));
  PetscCall(write_2d(out, "/secondaries_series/exterior_vacancy_mean", H5T_NATIVE_DOUBLE, ss->nout, ss->n, ss->exterior_vacancy_mean, "1",
                     "vacancy_mean over the exterior primaries (NaN: none) [n_out][n_sec]"));
  PetscCall(write_2d(out, "/secondaries_series/interior_vacancy_mean", H5T_NATIVE_DOUBLE, ss->nout, ss->n, ss->interior_vacancy_mean, "1",
                     "vacancy_mean over the interior primaries (NaN: none) [n_out][n_sec]"));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteParticleAxes(OxOutput out, PetscInt np, const double *axis)
{
  PetscFunctionBeginUser;
  PetscCall(write_2d(out, "/particles/c_axis", H5T_NATIVE_DOUBLE, np, 3, axis, "1", "unit vector of the primary's crystal c axis (mechanics) [n][x y z]"));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteArray(OxOutput out, const char *path, PetscInt n, const double *v, const char *units, const char *description)
{
  char parent[PETSC_MAX_PATH_LEN], *slash;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(parent, path, sizeof(parent)));
  slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    PetscCall(ensure_group(out, parent));
  }
  PetscCall(write_1d(out, path, H5T_NATIVE_DOUBLE, n, v, units, description));
  PetscFunctionReturn(0);
}

/* The owned block buf (x fastest) of integers on the DMDA da as an integer [nz][ny][nx] dataset of file type ftype. */
static PetscErrorCode write_int_field(OxOutput out, DM da, const int *buf, const char *path, hid_t ftype, const char *units, const char *description)
{
  PetscInt           xs, ys, zs, xm, ym, zm, n;
  hsize_t            dims[3] = {(hsize_t)out->shape[2], (hsize_t)out->shape[1], (hsize_t)out->shape[0]}, start[3], count[3];
  hid_t              fsp, msp, ds;
  int                failed;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  n = xm * ym * zm;
  start[0] = (hsize_t)zs, start[1] = (hsize_t)ys, start[2] = (hsize_t)xs;
  count[0] = (hsize_t)zm, count[1] = (hsize_t)ym, count[2] = (hsize_t)xm;
  fsp = H5Screate_simple(3, dims, NULL);
  ds  = H5Dcreate2(out->fid, path, ftype, fsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  OX_H5(ds);
  msp = H5Screate_simple(3, count, NULL);
  OX_H5(H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL));
  /* each rank writes its block on its own: all learn of any failure before going on */
  failed = n > 0 && H5Dwrite(ds, H5T_NATIVE_INT32, msp, fsp, H5P_DEFAULT, buf) < 0;
  PetscCall(OxOutputAgree(out, failed ? PETSC_ERR_FILE_WRITE : 0));
  PetscCall(describe_obj(ds, units, description));
  OX_H5(H5Sclose(msp));
  OX_H5(H5Sclose(fsp));
  OX_H5(H5Dclose(ds));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteGeometry(OxOutput out, DM da, const OxMicrostructure *ms, const OxOperator *op)
{
  hid_t g;
  int   shape[3];

  PetscFunctionBeginUser;
  out->shape[0] = ms->nx, out->shape[1] = ms->ny, out->shape[2] = ms->nz;
  out->voxel_m  = ms->voxel_m;
  PetscCall(ensure_group(out, "/geometry"));
  PetscCall(write_int_field(out, da, ms->label, "/geometry/labels", H5T_NATIVE_INT32, "1", "primary particle label of each voxel (0: electrolyte)"));
  PetscCall(write_int_field(out, da, ms->sec, "/geometry/secondary", H5T_NATIVE_INT32, "1", "secondary particle of each voxel (0: none or electrolyte)"));
  {
    Vec      box;
    int     *solid;
    PetscInt n = op->xm * op->ym * op->zm;
    PetscCall(PetscMalloc1(n + 1, &solid));
    for (PetscInt o = 0; o < n; o++) solid[o] = ms->label[o] > 0;
    PetscCall(write_int_field(out, da, solid, "/geometry/solid", H5T_STD_U8LE, "1", "1 on solid voxels (labels > 0), 0 on electrolyte"));
    PetscCall(PetscFree(solid));
    PetscCall(DMCreateGlobalVector(op->da, &box));
    PetscCall(OxOperatorToBox(op, op->exchange_area, box));
    PetscCall(OxOutputWriteVec(out, box, "/geometry", "exchange_area_m2", "m^2", "corrected exchange area of each voxel's faces to the electrolyte"));
    PetscCall(OxOperatorToBox(op, op->accessibility, box));
    PetscCall(OxOutputWriteVec(out, box, "/geometry", "accessibility", "1",
                               "area-weighted electrolyte accessibility of each voxel's exchange faces (0 off the surface)"));
    PetscCall(VecDestroy(&box));
  }
  g = H5Gopen2(out->fid, "/geometry", H5P_DEFAULT);
  OX_H5(g);
  for (int d = 0; d < 3; d++) shape[d] = (int)out->shape[d];
  PetscCall(write_attr(g, "voxel_m", H5T_NATIVE_DOUBLE, 1, &ms->voxel_m));
  PetscCall(write_attr(g, "shape", H5T_NATIVE_INT, 3, shape));
  PetscCall(write_attr(g, "exchange_area_total_m2", H5T_NATIVE_DOUBLE, 1, &op->area_m2));
  OX_H5(H5Gclose(g));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteVec(OxOutput out, Vec v, const char *group, const char *name, const char *units, const char *description)
{
  char        dset[128], saved[64];
  const char *old;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetName((PetscObject)v, &old));
  PetscCall(PetscStrncpy(saved, old ? old : "", sizeof(saved)));
  PetscCall(PetscObjectSetName((PetscObject)v, name));
  PetscCall(PetscViewerHDF5PushGroup(out->viewer, group));
  /* a collective write that failed on some ranks fails on all before the next HDF5 call */
  PetscCall(OxOutputAgree(out, VecView(v, out->viewer)));
  PetscCall(PetscViewerHDF5PopGroup(out->viewer));
  PetscCall(PetscObjectSetName((PetscObject)v, saved));
  PetscCall(PetscSNPrintf(dset, sizeof(dset), "%s/%s", group, name));
  PetscCall(OxOutputDescribe(out, dset, units, description));
  PetscFunctionReturn(0);
}

/* v as GROUP/DNAME with the field attributes time_s, cycle and soc. */
static PetscErrorCode write_named_field(OxOutput out, Vec v, const char *group, const char *dname, PetscInt cycle, double time_s, double soc,
                                        const char *units, const char *description)
{
  char dset[128];

  PetscFunctionBeginUser;
  PetscCall(OxOutputWriteVec(out, v, group, dname, units, description));
  PetscCall(PetscSNPrintf(dset, sizeof(dset), "%s/%s", group, dname));
  PetscCall(PetscViewerHDF5WriteAttribute(out->viewer, dset, "time_s", PETSC_DOUBLE, &time_s));
  PetscCall(PetscViewerHDF5WriteAttribute(out->viewer, dset, "cycle", PETSC_INT, &cycle));
  PetscCall(PetscViewerHDF5WriteAttribute(out->viewer, dset, "soc", PETSC_DOUBLE, &soc));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteField(OxOutput out, Vec c, Vec mn3, Vec sh, Vec svm, int cycle, double time_s, double soc)
{
  char group[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(group, sizeof(group), "/fields/cycle_%06d", cycle));
  PetscCall(write_named_field(out, c, group, "vacancy_fraction", cycle, time_s, soc, "1",
                              "oxygen vacancy site fraction of each voxel (volume mean with its layer cells; 0 in electrolyte)"));
  if (mn3) PetscCall(write_named_field(out, mn3, group, "mn3_fraction", cycle, time_s, soc, "1", "Mn3+ fraction of Mn of each voxel (0 in electrolyte)"));
  if (sh)
    PetscCall(write_named_field(out, sh, group, "hydrostatic_stress_Pa", cycle, time_s, soc, "Pa",
                                "hydrostatic stress tr(sigma)/3 of each solid voxel, tension positive (0 in electrolyte)"));
  if (svm) PetscCall(write_named_field(out, svm, group, "von_mises_stress_Pa", cycle, time_s, soc, "Pa", "von Mises stress of each solid voxel (0 in electrolyte)"));
  if (out->nfields == out->capfields) {
    out->capfields = out->capfields ? 2 * out->capfields : 16;
    PetscCall(PetscRealloc(sizeof(int) * out->capfields, &out->field_cycle));
    PetscCall(PetscRealloc(sizeof(double) * out->capfields, &out->field_time_s));
    PetscCall(PetscRealloc(sizeof(double) * out->capfields, &out->field_soc));
    PetscCall(PetscRealloc(sizeof(PetscBool) * out->capfields, &out->field_mn3));
    PetscCall(PetscRealloc(sizeof(PetscBool) * out->capfields, &out->field_stress));
  }
  out->field_mn3[out->nfields]     = mn3 ? PETSC_TRUE : PETSC_FALSE;
  out->field_stress[out->nfields]  = sh && svm ? PETSC_TRUE : PETSC_FALSE;
  out->field_time_s[out->nfields]  = time_s;
  out->field_soc[out->nfields]     = soc;
  out->field_cycle[out->nfields++] = cycle;
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteProfile(OxOutput out, const char *kind, const OxProfile *p, const OxProfileInfo *info)
{
  char   group[64], path[128];
  hid_t  g;
  int    cyc = info->cycle;
  static const char *names[] = {"distance_nm", "mn3_fraction", "vacancy_fraction", "count"};
  static const char *units[] = {"nm", "1", "1", "1"};
  const double      *cols[]  = {p->distance_nm, p->mn3_fraction, p->vacancy_fraction, p->count};
  const int          lam     = !strcmp(kind, "lamella");
  const char        *desc[]  = {lam ? "bin centre: distance of a lamella pixel from its particle's edge"
                                    : "bin centre: distance of a voxel from its own particle's surface",
                                lam ? "Mn3+ fraction of Mn in the bin, pixels weighted by solid thickness (NaN: empty)"
                                    : "mean Mn3+ fraction of Mn in the bin (NaN: empty)",
                                lam ? "vacancy site fraction in the bin, pixels weighted by solid thickness (NaN: empty)"
                                    : "mean vacancy site fraction in the bin (NaN: empty)",
                                lam ? "pixels in the bin" : "voxels in the bin (layer cells by their volume)"};

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(group, sizeof(group), "/%s/cycle_%06d", kind, info->cycle));
  PetscCall(ensure_group(out, group));
  for (int k = 0; k < 4; k++) {
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/%s", group, names[k]));
    PetscCall(write_1d(out, path, H5T_NATIVE_DOUBLE, p->n, cols[k], units[k], desc[k]));
  }
  g = H5Gopen2(out->fid, group, H5P_DEFAULT);
  OX_H5(g);
  PetscCall(write_attr(g, "cycle", H5T_NATIVE_INT, 1, &cyc));
  PetscCall(write_attr(g, "time_s", H5T_NATIVE_DOUBLE, 1, &info->time_s));
  PetscCall(write_attr(g, "soc", H5T_NATIVE_DOUBLE, 1, &info->soc));
  PetscCall(write_attr(g, "bin_nm", H5T_NATIVE_DOUBLE, 1, &p->bin_nm));
  if (info->axis) {
    PetscCall(write_attr_string(g, "axis", info->axis));
    PetscCall(write_attr(g, "thickness_nm", H5T_NATIVE_DOUBLE, 1, &info->thickness_nm));
    PetscCall(write_attr(g, "centre_m", H5T_NATIVE_DOUBLE, 3, info->centre_m));
  }
  OX_H5(H5Gclose(g));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputWriteTimeseries(OxOutput out, const OxTimeseries *ts)
{
  double *col;
  int    *icol;
  struct {
    const char *name;
    size_t      off;
    const char *units, *description;
  } cols[] = {
    {"time_s", offsetof(OxSample, time_s), "s", "simulated time of the row (t = 0 and each protocol step end)"},
    {"soc", offsetof(OxSample, soc), "1", "state of charge"},
    {"vacancy_mean", offsetof(OxSample, vacancy_mean), "1", "vacancy site fraction averaged over the solid (voxels and layer cells)"},
    {"oxygen_loss_pct", offsetof(OxSample, oxygen_loss_pct), "at.%", "oxygen lost from the solid, 100 x vacancy_mean"},
    {"released_mol", offsetof(OxSample, released_mol), "mol", "oxygen released through the exchange surface since t = 0"},
    {"inventory_mol", offsetof(OxSample, inventory_mol), "mol", "vacancies held by the solid (equals released_mol)"},
  };

  PetscFunctionBeginUser;
  PetscCall(ensure_group(out, "/timeseries"));
  PetscCall(PetscMalloc1(ts->n + 1, &col));
  PetscCall(PetscMalloc1(ts->n + 1, &icol));
  for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
    char path[128];
    for (int i = 0; i < ts->n; i++) col[i] = *(const double *)((const char *)&ts->row[i] + cols[c].off);
    PetscCall(PetscSNPrintf(path, sizeof(path), "/timeseries/%s", cols[c].name));
    PetscCall(write_1d(out, path, H5T_NATIVE_DOUBLE, ts->n, col, cols[c].units, cols[c].description));
  }
  for (int i = 0; i < ts->n; i++) icol[i] = ts->row[i].cycle;
  PetscCall(write_1d(out, "/timeseries/cycle", H5T_NATIVE_INT, ts->n, icol, "1", "cycle of the row (0: formation and t = 0)"));
  PetscCall(PetscFree(col));
  PetscCall(PetscFree(icol));
  PetscFunctionReturn(0);
}

/* One cell-centred attribute read from the HDF5 file. */
static void xdmf_attribute(FILE *f, const char *name, const char *ntype, int prec, const OxOutput out, const char *h5, const char *path)
{
  fprintf(f,
          "    <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Cell\">\n     <DataItem Dimensions=\"%d %d %d\" NumberType=\"%s\" "
          "Precision=\"%d\" Format=\"HDF\">%s:%s</DataItem>\n    </Attribute>\n",
          name, (int)out->shape[2], (int)out->shape[1], (int)out->shape[0], ntype, prec, h5, path);
}

/* The XDMF sidecar: a temporal collection, one uniform grid per stored cycle
 * (named cycle_NNNNNN, Time = its time_s in seconds, the cycle, soc and
 * time_s as grid attributes, i.e. field data), cell-centred attributes on a
 * 3DCoRectMesh in metres (ParaView reads it directly). solid (0/1) lets a
 * Threshold drop the electrolyte. */
static PetscErrorCode write_xdmf(OxOutput out, const char *xpath)
{
  FILE       *f;
  char        h5name[PETSC_MAX_PATH_LEN], *base, path[96];
  PetscInt    nx = out->shape[0], ny = out->shape[1], nz = out->shape[2];
  int         nsteps = out->nfields ? out->nfields : 1;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(h5name, out->path, sizeof(h5name)));
  base = basename(h5name);
  f    = fopen(xpath, "w");
  PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", xpath);
  fprintf(f, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"3.0\">\n <Domain>\n");
  fprintf(f, "  <Grid Name=\"oxvac\" GridType=\"Collection\" CollectionType=\"Temporal\">\n");
  for (int s = 0; s < nsteps; s++) {
    if (out->nfields) {
      fprintf(f, "   <Grid Name=\"cycle_%06d\" GridType=\"Uniform\">\n", out->field_cycle[s]);
      fprintf(f, "    <Time Value=\"%.17g\"/>\n", out->field_time_s[s]);
    } else fprintf(f, "   <Grid Name=\"geometry\" GridType=\"Uniform\">\n");
    fprintf(f, "    <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"%d %d %d\"/>\n", (int)nz + 1, (int)ny + 1, (int)nx + 1);
    fprintf(f, "    <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n");
    fprintf(f, "     <DataItem Dimensions=\"3\" Format=\"XML\">0 0 0</DataItem>\n");
    fprintf(f, "     <DataItem Dimensions=\"3\" Format=\"XML\">%.17g %.17g %.17g</DataItem>\n", out->voxel_m, out->voxel_m, out->voxel_m);
    fprintf(f, "    </Geometry>\n");
    if (out->nfields) {
      fprintf(f,
              "    <Attribute Name=\"cycle\" AttributeType=\"Scalar\" Center=\"Grid\">\n     <DataItem Dimensions=\"1\" NumberType=\"Int\" "
              "Precision=\"4\" Format=\"XML\">%d</DataItem>\n    </Attribute>\n",
              out->field_cycle[s]);
      fprintf(f,
              "    <Attribute Name=\"time_s\" AttributeType=\"Scalar\" Center=\"Grid\">\n     <DataItem Dimensions=\"1\" NumberType=\"Float\" "
              "Precision=\"8\" Format=\"XML\">%.17g</DataItem>\n    </Attribute>\n",
              out->field_time_s[s]);
      fprintf(f,
              "    <Attribute Name=\"soc\" AttributeType=\"Scalar\" Center=\"Grid\">\n     <DataItem Dimensions=\"1\" NumberType=\"Float\" "
              "Precision=\"8\" Format=\"XML\">%.17g</DataItem>\n    </Attribute>\n",
              out->field_soc[s]);
    }
    xdmf_attribute(f, "solid", "UChar", 1, out, base, "/geometry/solid");
    xdmf_attribute(f, "labels", "Int", 4, out, base, "/geometry/labels");
    xdmf_attribute(f, "secondary", "Int", 4, out, base, "/geometry/secondary");
    xdmf_attribute(f, "exchange_area_m2", "Float", 8, out, base, "/geometry/exchange_area_m2");
    xdmf_attribute(f, "accessibility", "Float", 8, out, base, "/geometry/accessibility");
    if (out->nfields) {
      snprintf(path, sizeof(path), "/fields/cycle_%06d/vacancy_fraction", out->field_cycle[s]);
      xdmf_attribute(f, "vacancy_fraction", "Float", 8, out, base, path);
    }
    if (out->nfields && out->field_mn3[s]) {
      snprintf(path, sizeof(path), "/fields/cycle_%06d/mn3_fraction", out->field_cycle[s]);
      xdmf_attribute(f, "mn3_fraction", "Float", 8, out, base, path);
    }
    if (out->nfields && out->field_stress[s]) {
      snprintf(path, sizeof(path), "/fields/cycle_%06d/hydrostatic_stress_Pa", out->field_cycle[s]);
      xdmf_attribute(f, "hydrostatic_stress_Pa", "Float", 8, out, base, path);
      snprintf(path, sizeof(path), "/fields/cycle_%06d/von_mises_stress_Pa", out->field_cycle[s]);
      xdmf_attribute(f, "von_mises_stress_Pa", "Float", 8, out, base, path);
    }
    fprintf(f, "   </Grid>\n");
  }
  fprintf(f, "  </Grid>\n </Domain>\n</Xdmf>\n");
  PetscCheck(fclose(f) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", xpath);
  PetscFunctionReturn(0);
}

/* Close whatever a failed write left open in the file (PETSc's VecView
 * leaks its dataset ids on an error), so that the file itself can close. */
static void close_open_objects(hid_t fid)
{
  unsigned types = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL;
  ssize_t  n     = H5Fget_obj_count(fid, types);
  hid_t   *ids;

  if (n <= 0 || !(ids = malloc(sizeof(hid_t) * (size_t)n))) return;
  n = H5Fget_obj_ids(fid, types, (size_t)n, ids);
  for (ssize_t i = 0; i < n; i++) {
    switch (H5Iget_type(ids[i])) {
    case H5I_DATASET: H5Dclose(ids[i]); break;
    case H5I_GROUP: H5Gclose(ids[i]); break;
    case H5I_DATATYPE: H5Tclose(ids[i]); break;
    case H5I_ATTR: H5Aclose(ids[i]); break;
    default: break;
    }
  }
  free(ids);
}

/* Rank 0: rename the temporary files into place, or remove them; never
 * returns early, so the caller's broadcast is always reached. The HDF5 file
 * goes into place first, then its XDMF: a kill between the two leaves the
 * new result with the old sidecar's cycles, never a new sidecar naming
 * datasets an old result lacks. */
static int finish_files(OxOutput out, PetscBool success, char *why, size_t len)
{
  char     xdmf[PETSC_MAX_PATH_LEN + 8];
  int      ok = 1;
  OxAtomic x;

  xdmf_path(out->path, xdmf, sizeof(xdmf));
  OxAtomicBegin(&x, xdmf, (long)getpid());
  if (success && out->xdmf) {
    PetscErrorCode ierr;
    errno = 0;
    PetscPushErrorHandler(PetscReturnErrorHandler, NULL);
    ierr = write_xdmf(out, x.tmp);
    PetscPopErrorHandler();
    if (ierr) ok = 0, snprintf(why, len, "cannot write %s: %s", x.tmp, errno ? strerror(errno) : "write failed");
  }
  if (success && ok && OxAtomicCommit(&out->h5, 1) != 0) ok = 0, snprintf(why, len, "cannot rename %s to %s: %s", out->h5.tmp, out->path, strerror(errno));
  if (success && ok && out->xdmf && OxAtomicCommit(&x, 1) != 0) ok = 0, snprintf(why, len, "cannot rename %s to %s: %s", x.tmp, xdmf, strerror(errno));
  if (!success || !ok) { /* nothing of a failed write stays behind */
    OxAtomicCommit(&out->h5, 0);
    OxAtomicCommit(&x, 0);
  }
  return ok;
}

PetscErrorCode OxOutputTryClose(OxOutput *pout, PetscBool success, char *why, size_t len)
{
  OxOutput       out = *pout;
  int            failed = 0;
  PetscErrorCode ierr;
  H5E_auto2_t    efunc;
  void          *edata;

  PetscFunctionBeginUser;
  why[0] = '\0';
  if (!out) PetscFunctionReturn(0);
  H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (!success) {
    /* the file goes anyway: free its space first (a full disk), and close what
     * the failed write left open, so that the close below can succeed */
    PetscCallMPI(MPI_Barrier(out->comm));
    if (!out->rank && truncate(out->h5.tmp, 0) != 0) { /* nothing to free */ }
    PetscCallMPI(MPI_Barrier(out->comm));
    close_open_objects(out->fid);
  }
  errno = 0;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = PetscViewerDestroy(&out->viewer);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    /* the close failed (a full disk at the last flush): the file id must not
     * outlive this call (PetscFinalize would trip on it), nor the viewer */
    failed = 1;
    if (!out->rank && success) failure_reason(out->path, ierr, errno, why, len);
    close_open_objects(out->fid);
    if (H5Iis_valid(out->fid) > 0 && H5Fclose(out->fid) < 0)
      while (H5Iis_valid(out->fid) > 0 && H5Idec_ref(out->fid) >= 0) {}
    out->viewer = NULL; /* leaked rather than destroyed twice */
  }
  H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  PetscCallMPI(MPI_Barrier(out->comm));
  if (!out->rank && !finish_files(out, success && !failed ? PETSC_TRUE : PETSC_FALSE, why, len)) failed = 1;
  if (success) PetscCall(agree_failure(out->comm, &failed, why, len));
  else why[0] = '\0';
  PetscCall(PetscFree(out->field_cycle));
  PetscCall(PetscFree(out->field_time_s));
  PetscCall(PetscFree(out->field_soc));
  PetscCall(PetscFree(out->field_mn3));
  PetscCall(PetscFree(out->field_stress));
  PetscCall(PetscFree(*pout));
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputClose(OxOutput *pout, PetscBool success)
{
  char why[512], path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  if (!*pout) PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(path, (*pout)->path, sizeof(path)));
  PetscCall(OxOutputTryClose(pout, success, why, sizeof(why)));
  PetscCheck(!why[0], PETSC_COMM_WORLD, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path, why);
  PetscFunctionReturn(0);
}

PetscErrorCode OxOutputCheckPath(MPI_Comm comm, const char *path, char *err, size_t errlen)
{
  int ok = 1;

  PetscFunctionBeginUser;
  err[0] = '\0';
  if (!PetscGlobalRank) {
    /* Leaves nothing (a refused run leaves no folder): the folders it made
     * to try are removed again, and made for good when the file is written. */
    struct stat st;
    char        probe[PETSC_MAX_PATH_LEN + 32], made[PETSC_MAX_PATH_LEN];
    size_t      n = strlen(path);
    FILE       *f;
    snprintf(probe, sizeof(probe), "%s.probe-%ld", path, (long)getpid());
    made[0] = '\0';
    if (!n || path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) ok = 0, snprintf(err, errlen, "it is a directory");
    else if (make_parent_dirs_noting(path, made, sizeof(made)) != 0) ok = 0, snprintf(err, errlen, "cannot create its folder (%s)", strerror(errno));
    else if (!(f = fopen(probe, "w"))) ok = 0, snprintf(err, errlen, "cannot create files there (%s)", strerror(errno));
    else fclose(f), remove(probe);
    remove_made_dirs(path, made);
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(err, (int)errlen, MPI_CHAR, 0, comm));
  PetscFunctionReturn(0);
}
