/* Run history: the result file and checkpoints (a result plus /state). */
#include <errno.h>
#include <hdf5.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <petscviewerhdf5.h>
#include "oxvac/history.h"
#include "oxvac/output.h"

/* Append a copy of the voxel vector cbar with its particle means; profiles zeroed. */
static PetscErrorCode append_field(OxHistory *h, const OxMicrostructure *ms, const OxOperator *op, Vec cbar, int cycle, double time_s, double soc)
{
  PetscFunctionBeginUser;
  if (h->nfields == h->capfields) {
    h->capfields = h->capfields ? 2 * h->capfields : 8;
    PetscCall(PetscRealloc(sizeof(Vec) * h->capfields, &h->field));
    PetscCall(PetscRealloc(sizeof(int) * h->capfields, &h->field_cycle));
    PetscCall(PetscRealloc(sizeof(double) * h->capfields, &h->field_time_s));
    PetscCall(PetscRealloc(sizeof(double) * h->capfields, &h->field_soc));
    PetscCall(PetscRealloc(sizeof(double) * h->capfields * (ms->nparticles ? ms->nparticles : 1), &h->pmean));
    PetscCall(PetscRealloc(sizeof(OxProfile) * h->capfields, &h->prof3d));
    PetscCall(PetscRealloc(sizeof(OxProfile) * h->capfields, &h->lamella));
    PetscCall(PetscRealloc(sizeof(Vec) * h->capfields, &h->sigma_h));
    PetscCall(PetscRealloc(sizeof(Vec) * h->capfields, &h->von_mises));
    PetscCall(PetscRealloc(sizeof(double) * h->capfields * (ms->nparticles ? ms->nparticles : 1), &h->pstress));
  }
  h->sigma_h[h->nfields] = h->von_mises[h->nfields] = NULL;
  PetscCall(PetscMemzero(&h->prof3d[h->nfields], sizeof(OxProfile)));
  PetscCall(PetscMemzero(&h->lamella[h->nfields], sizeof(OxProfile)));
  h->nparticles = ms->nparticles;
  PetscCall(VecDuplicate(cbar, &h->field[h->nfields]));
  PetscCall(VecCopy(cbar, h->field[h->nfields]));
  PetscCall(OxParticleMeans(op, ms, cbar, h->pmean + h->nfields * ms->nparticles));
  h->field_cycle[h->nfields]  = cycle;
  h->field_time_s[h->nfields] = time_s;
  h->field_soc[h->nfields++]  = soc;
  PetscFunctionReturn(0);
}

PetscErrorCode OxHistoryStoreStress(OxHistory *h, const OxMicrostructure *ms, const OxOperator *op, Vec sigma_h, Vec von_mises)
{
  int f = h->nfields - 1;

  PetscFunctionBeginUser;
  PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_ORDER, "no stored field for the stress");
  PetscCall(VecDuplicate(sigma_h, &h->sigma_h[f]));
  PetscCall(VecCopy(sigma_h, h->sigma_h[f]));
  PetscCall(VecDuplicate(von_mises, &h->von_mises[f]));
  PetscCall(VecCopy(von_mises, h->von_mises[f]));
  PetscCall(OxParticleMeans(op, ms, sigma_h, h->pstress + f * ms->nparticles));
  h->stress = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* OxProfileSamples.fill over the layer columns of (c, u). */
typedef struct {
  const OxSurface   *surf;
  const PetscScalar *c, *u;
} ColumnSamples;

static PetscInt fill_column_samples(void *ctx, PetscInt start, PetscInt max, double *depth_nm, double *weight, double *value)
{
  const ColumnSamples *cs = (const ColumnSamples *)ctx;
  return OxSurfaceDepthSamples(cs->surf, cs->c, cs->u, start, max, depth_nm, weight, value);
}

PetscErrorCode OxHistoryStoreField(OxHistory *h, const OxMicrostructure *ms, OxOperator *op, Vec c, Vec u, int cycle, double time_s, double soc)
{
  Vec mean;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(c, &mean));
  PetscCall(OxOperatorVoxelMean(op, c, u, mean));
  PetscCall(append_field(h, ms, op, mean, cycle, time_s, soc));
  PetscCall(VecDestroy(&mean));
  if (h->profiler) {
    ColumnSamples      cs = {&op->surf, NULL, NULL};
    OxProfileSamples   x  = {fill_column_samples, &cs};
    if (u) {
      PetscCall(VecGetArrayRead(c, &cs.c));
      PetscCall(VecGetArrayRead(u, &cs.u));
    }
    PetscCall(OxProfilerCompute(h->profiler, h->field[h->nfields - 1], u ? &x : NULL, &h->prof3d[h->nfields - 1], &h->lamella[h->nfields - 1]));
    if (u) {
      PetscCall(VecRestoreArrayRead(u, &cs.u));
      PetscCall(VecRestoreArrayRead(c, &cs.c));
    }
  }
  PetscFunctionReturn(0);
}

/* Layer cell j of every column as a box field xb (0 elsewhere; x a voxel
 * vector for scratch): checkpoints store the layer in the natural voxel
 * order, independent of the ranks. */
static PetscErrorCode layer_to_voxels(const OxOperator *op, Vec u, PetscInt j, Vec x, Vec xb)
{
  const PetscScalar *ua;
  PetscScalar       *xa;

  PetscFunctionBeginUser;
  PetscCall(VecZeroEntries(x));
  PetscCall(VecGetArrayRead(u, &ua));
  PetscCall(VecGetArray(x, &xa));
  OxSurfaceLayerToVoxels(&op->surf, ua, j, xa);
  PetscCall(VecRestoreArray(x, &xa));
  PetscCall(VecRestoreArrayRead(u, &ua));
  PetscCall(OxOperatorToBox(op, x, xb));
  PetscFunctionReturn(0);
}

/* The reverse, from the box field xb. */
static PetscErrorCode voxels_to_layer(const OxOperator *op, Vec xb, PetscInt j, Vec x, Vec u)
{
  const PetscScalar *xa;
  PetscScalar       *ua;

  PetscFunctionBeginUser;
  PetscCall(OxOperatorFromBox(op, xb, x));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(u, &ua));
  OxSurfaceVoxelsToLayer(&op->surf, xa, j, ua);
  PetscCall(VecRestoreArray(u, &ua));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(0);
}

/*
 * A write that fails on one rank only (a full disk hits the rank writing at
 * that moment) must fail on all of them before any goes on into the next
 * collective HDF5 call, which would wait for the failed rank forever: every
 * stage of write_contents ends in this agreement. A stage frees what it
 * allocated before it, so a failure leaks nothing.
 */
#define STAGE(ierr) \
  do { \
    PetscErrorCode ox_e_ = OxOutputAgree(out, (ierr)); \
    if (ox_e_) return ox_e_; \
  } while (0)

/* /state: the vacancy field, the layer cells as voxel fields, next_segment and released_mol. */
static PetscErrorCode write_state(OxOutput out, const OxHistory *h, const OxOperator *op, Vec state, Vec layer)
{
  PetscViewer    v    = OxOutputViewer(out);
  PetscInt       next = h->next_seg;
  PetscErrorCode ierr = 0;
  Vec            x, xb;

  PetscFunctionBeginUser;
  if (h->stress_ref) {
    PetscCall(OxOperatorBoxVec(op, h->stress_ref, &xb));
    ierr = OxOutputWriteVec(out, xb, "/state", "mechanics_reference", "1",
                            "voxel-mean vacancy fraction the vacancy part of the stress was last solved for (stress coupling; 0 in electrolyte)");
    PetscCall(VecDestroy(&xb));
    STAGE(ierr);
  }
  if (h->stress_disp)
    STAGE(OxOutputWriteVec(out, h->stress_disp, "/state", "mechanics_displacement", "1",
                           "displacement / voxel edge of the vacancy part of the stress, per node [nz+1][ny+1][nx+1][3] (the next solve starts from it)"));
  PetscCall(OxOperatorBoxVec(op, state, &xb));
  ierr = OxOutputWriteVec(out, xb, "/state", "vacancy_fraction", "1", "vacancy site fraction of each voxel unknown, to continue from (0 in electrolyte)");
  if (ierr || !layer) PetscCall(VecDestroy(&xb));
  STAGE(ierr);
  if (layer) {
    PetscCall(VecDuplicate(state, &x));
    for (PetscInt j = 0; j < op->surf.ncells && !ierr; j++) {
      char name[32], desc[128];
      PetscCall(PetscSNPrintf(name, sizeof(name), "cell_%02" PetscInt_FMT, j));
      PetscCall(PetscSNPrintf(desc, sizeof(desc), "vacancy site fraction of surface layer cell %" PetscInt_FMT " (0: outermost) on its column's voxel, 0 elsewhere", j));
      PetscCall(layer_to_voxels(op, layer, j, x, xb));
      ierr = OxOutputAgree(out, OxOutputWriteVec(out, xb, "/state/layer", name, "1", desc));
    }
    PetscCall(VecDestroy(&x));
    PetscCall(VecDestroy(&xb));
    STAGE(ierr);
  }
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/state", "next_segment", PETSC_INT, &next));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/state", "released_mol", PETSC_DOUBLE, &h->released_mol));
  PetscFunctionReturn(0);
}

/* Fields, their Mn3+ fraction and profiles of stored field f (box fields in the file). */
static PetscErrorCode write_stored_field(OxOutput out, const OxHistory *h, const OxOperator *op, int f)
{
  Vec            box, mn3 = NULL, mn3box = NULL, shbox = NULL, vmbox = NULL;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(OxOperatorBoxVec(op, h->field[f], &box));
  if (h->stress && h->sigma_h[f]) {
    PetscCall(OxOperatorBoxVec(op, h->sigma_h[f], &shbox));
    PetscCall(OxOperatorBoxVec(op, h->von_mises[f], &vmbox));
  }
  if (h->mn3_field && h->profiler) {
    PetscCall(VecDuplicate(h->field[f], &mn3));
    ierr = OxProfilerMn3Field(h->profiler, h->field[f], mn3);
    if (!ierr) ierr = OxOperatorBoxVec(op, mn3, &mn3box);
  }
  if (!ierr) ierr = OxOutputWriteField(out, box, mn3box, shbox, vmbox, h->field_cycle[f], h->field_time_s[f], h->field_soc[f]);
  PetscCall(VecDestroy(&shbox));
  PetscCall(VecDestroy(&vmbox));
  PetscCall(VecDestroy(&mn3box));
  PetscCall(VecDestroy(&mn3));
  PetscCall(VecDestroy(&box));
  PetscCall(ierr);
  if (h->profiler) {
    OxProfileInfo info = {.cycle = h->field_cycle[f], .time_s = h->field_time_s[f], .soc = h->field_soc[f]};
    int           axis;
    PetscCall(OxOutputWriteProfile(out, "profiles", &h->prof3d[f], &info));
    OxProfilerLamellaGeometry(h->profiler, info.centre_m, &axis, &info.thickness_nm);
    info.axis = axis == 0 ? "x" : axis == 1 ? "y" : "z";
    PetscCall(OxOutputWriteProfile(out, "lamella", &h->lamella[f], &info));
  }
  PetscFunctionReturn(0);
}

/* /particles, /particles_series, /secondaries and /secondaries_series from one particle table. */
static PetscErrorCode write_particles(OxOutput out, const OxHistory *h, const OxMicrostructure *ms, const OxOperator *op)
{
  OxParticleTable   pt;
  OxSecondaryTable  st;
  OxSecondarySeries ss;
  PetscErrorCode    ierr;

  PetscFunctionBeginUser;
  PetscCall(OxParticleTableCreate(op, ms, &pt));
  ierr = OxOutputWriteParticles(out, &pt);
  if (!ierr && h->c_axis) ierr = OxOutputWriteParticleAxes(out, ms->nparticles, h->c_axis);
  if (!ierr) ierr = OxOutputWriteParticleSeries(out, h->nfields, h->field_cycle, ms->nparticles, h->pmean, h->stress ? h->pstress : NULL);
  if (!ierr) {
    PetscCall(OxSecondaryTableCreate(&pt, &st));
    ierr = OxSecondarySeriesCreate(&st, &pt, h->nfields, h->pmean, &ss);
    if (!ierr) ierr = OxOutputWriteSecondaries(out, &st, h->field_cycle, &ss);
    OxSecondarySeriesFree(&ss);
    OxSecondaryTableFree(&st);
  }
  OxParticleTableFree(&pt);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode write_contents(OxOutput out, const OxHistory *h, const char *config_text, const char *command, DM da,
                                     const OxMicrostructure *ms, const OxOperator *op, Vec state, Vec layer)
{
  PetscFunctionBeginUser;
  STAGE(OxOutputWriteRoot(out, config_text, command, (long long)op->nsolid + (long long)op->nlayer, h->wall_time_s));
  STAGE(OxOutputWriteGeometry(out, da, ms, op));
  for (int f = 0; f < h->nfields; f++) STAGE(write_stored_field(out, h, op, f));
  STAGE(OxOutputWriteTimeseries(out, &h->ts));
  STAGE(write_particles(out, h, ms, op));
  if (h->avg_window > 0) {
    double w = h->avg_window;
    STAGE(OxOutputWriteArray(out, "/averaging/window_cycles", 1, &w, "1", "resolved cycles used for the averaging error estimate"));
    STAGE(OxOutputWriteArray(out, "/averaging/error_increment_rel", 1, &h->avg_err_increment, "1",
                             "estimated relative error of the averaged per-cycle oxygen loss increment"));
    STAGE(OxOutputWriteArray(out, "/averaging/error_loss_rel", 1, &h->avg_err_loss, "1",
                             "estimated relative error of the total oxygen loss at the window's end"));
  }
  if (state) STAGE(write_state(out, h, op, state, layer));
  PetscFunctionReturn(0);
}


/*
 * The file's size, from above: per voxel the geometry (labels, secondary,
 * solid, exchange area, accessibility: 25 B), 8 B per stored field (16 with
 * its Mn3+ fraction) and, in a checkpoint, 8 B for the state and 8 B per
 * layer cell; 10 % and 0.5 MB more for HDF5's metadata and the tables
 * (measured: 5 % and 80 kB on a 14400-voxel checkpoint). A file system
 * with less free is refused before writing: a parallel write that runs out
 * mid-way can stop one rank inside a collective HDF5 call.
 */
static double file_bytes(const OxHistory *h, const OxMicrostructure *ms, const OxOperator *op, int checkpoint)
{
  double nvox = (double)ms->nx * ms->ny * ms->nz, per = 25.0 + h->nfields * ((h->mn3_field ? 16.0 : 8.0) + (h->stress ? 16.0 : 0.0));
  if (checkpoint) per += 8.0 * (1.0 + (op->nlayer ? op->surf.ncells : 0));
  return 1.1 * nvox * per + 0.5e6;
}

PetscErrorCode OxHistoryTryWrite(const OxHistory *h, const char *path, const char *config_text, const char *command, DM da,
                                 const OxMicrostructure *ms, const OxOperator *op, Vec state, Vec layer, char *why, size_t len)
{
  MPI_Comm       comm = PetscObjectComm((PetscObject)da);
  OxOutput       out;
  PetscErrorCode ierr;
  int            failed;
  H5E_auto2_t    efunc;
  void          *edata;

  PetscFunctionBeginUser;
  PetscCall(OxOutputTryOpen(comm, path, state ? PETSC_FALSE : PETSC_TRUE, file_bytes(h, ms, op, state != NULL), &out, why, len));
  if (!out) PetscFunctionReturn(0);
  /* a write that fails (a full disk) is reported by the caller in one plain
   * line: no PETSc traceback, no HDF5 error stack on the terminal */
  H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  errno = 0;
  ierr  = write_contents(out, h, config_text, command, da, ms, op, state, layer);
  PetscCall(PetscPopErrorHandler());
  if (ierr) OxOutputFailureReason(out, ierr, why, len);
  H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  failed = OxOutputAgree(out, ierr) != 0;
  if (failed) {
    char reason[512];
    PetscCall(PetscStrncpy(reason, why[0] ? why : "a write failed on another rank", sizeof(reason)));
    PetscCall(OxOutputTryClose(&out, PETSC_FALSE, why, len)); /* a failed write leaves no file behind */
    PetscCall(PetscStrncpy(why, reason, len));
    PetscCallMPI(MPI_Bcast(why, (int)len, MPI_CHAR, 0, comm));
  } else PetscCall(OxOutputTryClose(&out, PETSC_TRUE, why, len));
  PetscFunctionReturn(0);
}

PetscErrorCode OxHistoryWrite(const OxHistory *h, const char *path, const char *config_text, const char *command, DM da,
                              const OxMicrostructure *ms, const OxOperator *op, Vec state, Vec layer)
{
  char why[512];

  PetscFunctionBeginUser;
  PetscCall(OxHistoryTryWrite(h, path, config_text, command, da, ms, op, state, layer, why, sizeof(why)));
  PetscCheck(!why[0], PetscObjectComm((PetscObject)da), PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path, why);
  PetscFunctionReturn(0);
}

/* A whole 1-D dataset, read by every rank; *n its length, *buf malloc'd. */
static PetscErrorCode read_1d(hid_t fid, const char *path, hid_t type, size_t size, hsize_t *n, void **buf)
{
  hid_t ds = H5Dopen2(fid, path, H5P_DEFAULT), sp;

  PetscFunctionBeginUser;
  PetscCheck(ds >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "checkpoint has no dataset %s", path);
  sp = H5Dget_space(ds);
  H5Sget_simple_extent_dims(sp, n, NULL);
  *buf = malloc(size * (*n ? *n : 1));
  PetscCheck(*buf, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory reading %s", path);
  if (*n) PetscCheck(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read %s", path);
  H5Sclose(sp);
  H5Dclose(ds);
  PetscFunctionReturn(0);
}

static PetscErrorCode read_timeseries(hid_t fid, OxTimeseries *ts)
{
  static const char *cols[] = {"time_s", "soc", "vacancy_mean", "oxygen_loss_pct", "released_mol", "inventory_mol"};
  const size_t       off[]  = {offsetof(OxSample, time_s),          offsetof(OxSample, soc),          offsetof(OxSample, vacancy_mean),
                               offsetof(OxSample, oxygen_loss_pct), offsetof(OxSample, released_mol), offsetof(OxSample, inventory_mol)};
  hsize_t            n, m;
  int               *cyc;

  PetscFunctionBeginUser;
  PetscCall(read_1d(fid, "/timeseries/cycle", H5T_NATIVE_INT, sizeof(int), &n, (void **)&cyc));
  for (hsize_t i = 0; i < n; i++) {
    OxSample s = {.cycle = cyc[i]};
    PetscCall(OxTimeseriesAppend(ts, &s));
  }
  free(cyc);
  for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
    char    path[64];
    double *v;
    PetscCall(PetscSNPrintf(path, sizeof(path), "/timeseries/%s", cols[c]));
    PetscCall(read_1d(fid, path, H5T_NATIVE_DOUBLE, sizeof(double), &m, (void **)&v));
    PetscCheck(m == n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "checkpoint time series columns differ in length");
    for (hsize_t i = 0; i < n; i++) *(double *)((char *)&ts->row[i] + off[c]) = v[i];
    free(v);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode load_vec(PetscViewer v, const char *group, const char *dataset, Vec x)
{
  const char *name;
  char        saved[64];

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetName((PetscObject)x, &name));
  PetscCall(PetscStrncpy(saved, name ? name : "", sizeof(saved)));
  PetscCall(PetscObjectSetName((PetscObject)x, dataset));
  PetscCall(PetscViewerHDF5PushGroup(v, group));
  PetscCall(VecLoad(x, v));
  PetscCall(PetscViewerHDF5PopGroup(v));
  PetscCall(PetscObjectSetName((PetscObject)x, saved));
  PetscFunctionReturn(0);
}

/* A profile group written by OxOutputWriteProfile, read back exactly. */
static PetscErrorCode read_profile(hid_t fid, const char *kind, int cycle, OxProfile *p)
{
  static const char *cols[] = {"distance_nm", "mn3_fraction", "vacancy_fraction", "count"};
  double           **dst[]  = {&p->distance_nm, &p->mn3_fraction, &p->vacancy_fraction, &p->count};
  double            *v[4];
  hsize_t            n[4];

  PetscFunctionBeginUser;
  for (int k = 0; k < 4; k++) {
    char path[96];
    PetscCall(PetscSNPrintf(path, sizeof(path), "/%s/cycle_%06d/%s", kind, cycle, cols[k]));
    PetscCall(read_1d(fid, path, H5T_NATIVE_DOUBLE, sizeof(double), &n[k], (void **)&v[k]));
    PetscCheck(n[k] == n[0], PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "checkpoint profile /%s/cycle_%06d columns differ in length", kind, cycle);
  }
  PetscCall(PetscMalloc4(n[0] + 1, &p->distance_nm, n[0] + 1, &p->mn3_fraction, n[0] + 1, &p->vacancy_fraction, n[0] + 1, &p->count));
  for (int k = 0; k < 4; k++) {
    PetscCall(PetscArraycpy(*dst[k], v[k], n[0]));
    free(v[k]);
  }
  p->n = (PetscInt)n[0];
  {
    char   path[64];
    hid_t  g, at;
    PetscCall(PetscSNPrintf(path, sizeof(path), "/%s/cycle_%06d", kind, cycle));
    g  = H5Gopen2(fid, path, H5P_DEFAULT);
    at = g >= 0 ? H5Aopen(g, "bin_nm", H5P_DEFAULT) : -1;
    PetscCheck(at >= 0 && H5Aread(at, H5T_NATIVE_DOUBLE, &p->bin_nm) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read %s bin_nm", path);
    H5Aclose(at);
    H5Gclose(g);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode OxHistoryRead(const char *path, DM da, const OxMicrostructure *ms, const OxOperator *op, OxProfiler profiler, OxHistory *h, Vec c, Vec u,
                             char **config_text)
{
  PetscViewer v;
  hid_t       fid;
  hsize_t     nf;
  int        *fc;
  PetscInt    next;
  char       *text = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(h, sizeof(*h)));
  h->profiler = profiler;
  PetscCall(PetscViewerHDF5Open(PetscObjectComm((PetscObject)c), path, FILE_MODE_READ, &v));
  PetscCall(PetscViewerHDF5GetFileId(v, &fid));
  {
    char *t = OxOutputReadConfig(fid);
    PetscCheck(t, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: no readable config (root attribute or dataset /config)", path);
    PetscCall(PetscStrallocpy(t, &text));
    free(t);
  }
  *config_text = text;
  PetscCall(PetscViewerHDF5ReadAttribute(v, "/state", "next_segment", PETSC_INT, NULL, &next));
  PetscCall(PetscViewerHDF5ReadAttribute(v, "/state", "released_mol", PETSC_DOUBLE, NULL, &h->released_mol));
  h->next_seg = (int)next;
  {
    Vec xb;
    PetscCall(DMCreateGlobalVector(da, &xb));
    PetscCall(load_vec(v, "/state", "vacancy_fraction", xb));
    PetscCall(OxOperatorFromBox(op, xb, c));

    if (u) {
      Vec x;
      PetscCall(VecDuplicate(c, &x));
      for (PetscInt j = 0; j < op->surf.ncells; j++) {
        char name[32];
        PetscCall(PetscSNPrintf(name, sizeof(name), "cell_%02" PetscInt_FMT, j));
        PetscCall(load_vec(v, "/state/layer", name, xb));
        PetscCall(voxels_to_layer(op, xb, j, x, u));
      }
      PetscCall(VecDestroy(&x));
    }
    PetscCall(VecDestroy(&xb));
  }
  PetscCall(read_timeseries(fid, &h->ts));
  PetscCall(read_1d(fid, "/particles_series/cycle", H5T_NATIVE_INT, sizeof(int), &nf, (void **)&fc));
  for (hsize_t f = 0; f < nf; f++) {
    char   group[64], dset[96];
    double t, s;
    Vec    x;
    PetscCall(PetscSNPrintf(group, sizeof(group), "/fields/cycle_%06d", fc[f]));
    PetscCall(PetscSNPrintf(dset, sizeof(dset), "%s/vacancy_fraction", group));
    PetscCall(PetscViewerHDF5ReadAttribute(v, dset, "time_s", PETSC_DOUBLE, NULL, &t));
    PetscCall(PetscViewerHDF5ReadAttribute(v, dset, "soc", PETSC_DOUBLE, NULL, &s));
    PetscCall(DMCreateGlobalVector(da, &x));
    PetscCall(load_vec(v, group, "vacancy_fraction", x));
    {
      Vec xv;
      PetscCall(VecDuplicate(c, &xv));
      PetscCall(OxOperatorFromBox(op, x, xv));
      PetscCall(append_field(h, ms, op, xv, fc[f], t, s));
      PetscCall(VecDestroy(&xv));
    }
    /* the stress as the run computed it (mechanics) */
    {
      char sp[128];
      PetscCall(PetscSNPrintf(sp, sizeof(sp), "%s/hydrostatic_stress_Pa", group));
      if (H5Lexists(fid, sp, H5P_DEFAULT) > 0) {
        Vec sh, vm;
        PetscCall(VecDuplicate(c, &sh));
        PetscCall(VecDuplicate(c, &vm));
        PetscCall(load_vec(v, group, "hydrostatic_stress_Pa", x));
        PetscCall(OxOperatorFromBox(op, x, sh));
        PetscCall(load_vec(v, group, "von_mises_stress_Pa", x));
        PetscCall(OxOperatorFromBox(op, x, vm));
        PetscCall(OxHistoryStoreStress(h, ms, op, sh, vm));
        PetscCall(VecDestroy(&sh));
        PetscCall(VecDestroy(&vm));
      }
    }
    PetscCall(VecDestroy(&x));
    /* the profiles as the run computed them (layer cells included) */
    if (profiler) {
      PetscCall(read_profile(fid, "profiles", fc[f], &h->prof3d[h->nfields - 1]));
      PetscCall(read_profile(fid, "lamella", fc[f], &h->lamella[h->nfields - 1]));
    }
  }
  free(fc);
  PetscCall(PetscViewerDestroy(&v));
  PetscFunctionReturn(0);
}

PetscErrorCode OxHistoryDestroy(OxHistory *h)
{
  PetscFunctionBeginUser;
  for (int f = 0; f < h->nfields; f++) {
    PetscCall(VecDestroy(&h->field[f]));
    PetscCall(VecDestroy(&h->sigma_h[f]));
    PetscCall(VecDestroy(&h->von_mises[f]));
    OxProfileFree(&h->prof3d[f]);
    OxProfileFree(&h->lamella[f]);
  }
  PetscCall(PetscFree(h->prof3d));
  PetscCall(PetscFree(h->lamella));
  PetscCall(PetscFree(h->field));
  PetscCall(PetscFree(h->field_cycle));
  PetscCall(PetscFree(h->field_time_s));
  PetscCall(PetscFree(h->field_soc));
  PetscCall(PetscFree(h->pmean));
  PetscCall(PetscFree(h->sigma_h));
  PetscCall(PetscFree(h->von_mises));
  PetscCall(PetscFree(h->pstress));
  PetscCall(PetscFree(h->c_axis));
  OxTimeseriesFree(&h->ts);
  PetscFunctionReturn(0);
}
