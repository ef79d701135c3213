/* The initial vacancy field (initial.h). */
#include "oxvac/initial.h"
#include "oxvac/common.h"
#include "oxvac/error.h"
#include <hdf5.h>
#include <petscviewerhdf5.h>
#include <string.h>

/* "FILE:LINE: key 'initial.file': FILE.h5:DSET: what; expected ..." into err. */
static void fail(const OxConfig *cfg, char *err, size_t len, const char *what)
{
  if (cfg->initial_line < 0) OxInputError(err, len, "--set", -cfg->initial_line, "initial.file", "%s:%s: %s", cfg->initial_file, cfg->initial_dataset, what);
  else
    OxInputError(err, len, cfg->source, cfg->initial_line > 0 ? cfg->initial_line : 1, "initial.file", "%s:%s: %s", cfg->initial_file, cfg->initial_dataset,
                 what);
}

/* Plain HDF5 on every rank: the file opens, the dataset is float [nz][ny][nx]. */
static int probe(const OxConfig *cfg, char *err, size_t len)
{
  H5E_auto2_t efunc;
  void       *edata;
  hid_t       f, d = -1, sp = -1, ty = -1;
  hsize_t     dims[3];
  char        what[256] = "";

  H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  f = H5Fopen(cfg->initial_file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) snprintf(what, sizeof what, "cannot be opened as HDF5; expected a readable HDF5 file");
  else if (H5Lexists(f, cfg->initial_dataset, H5P_DEFAULT) <= 0 || (d = H5Dopen2(f, cfg->initial_dataset, H5P_DEFAULT)) < 0)
    snprintf(what, sizeof what, "no such dataset; expected a float64 dataset [nz][ny][nx] (initial.dataset)");
  else {
    sp = H5Dget_space(d);
    ty = H5Dget_type(d);
    if (H5Tget_class(ty) != H5T_FLOAT) snprintf(what, sizeof what, "not a floating-point dataset; expected float64 vacancy fractions");
    else if (H5Sget_simple_extent_ndims(sp) != 3) snprintf(what, sizeof what, "has %d dimensions; expected 3, [nz][ny][nx]", H5Sget_simple_extent_ndims(sp));
    else {
      H5Sget_simple_extent_dims(sp, dims, NULL);
      if ((int)dims[0] != cfg->shape[2] || (int)dims[1] != cfg->shape[1] || (int)dims[2] != cfg->shape[0])
        snprintf(what, sizeof what, "is [%d][%d][%d]; expected the grid, [%d][%d][%d] ([nz][ny][nx])", (int)dims[0], (int)dims[1], (int)dims[2], cfg->shape[2],
                 cfg->shape[1], cfg->shape[0]);
    }
  }
  if (ty >= 0) H5Tclose(ty);
  if (sp >= 0) H5Sclose(sp);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  if (what[0]) {
    fail(cfg, err, len, what);
    return OX_EXIT_INPUT;
  }
  return 0;
}

PetscErrorCode OxInitialApply(const OxConfig *cfg, OxOperator *op, Vec c, Vec u, char *err, size_t len)
{
  PetscFunctionBeginUser;
  err[0] = '\0';
  if (!cfg->initial_file[0]) {
    PetscCall(VecSet(c, cfg->initial_vacancy));
    if (u) PetscCall(VecSet(u, cfg->initial_vacancy));
    PetscFunctionReturn(0);
  }
  if (probe(cfg, err, len)) PetscFunctionReturn(0);
  {
    PetscViewer v;
    Vec         box;
    char        group[256], *slash;
    PetscReal   lo, hi;
    PetscCall(PetscStrncpy(group, cfg->initial_dataset, sizeof(group)));
    slash = strrchr(group, '/');
    PetscCall(DMCreateGlobalVector(op->da, &box));
    PetscCall(PetscObjectSetName((PetscObject)box, slash ? slash + 1 : group));
    if (slash) slash == group ? (void)(group[1] = '\0') : (void)(*slash = '\0');
    PetscCall(PetscViewerHDF5Open(PetscObjectComm((PetscObject)op->da), cfg->initial_file, FILE_MODE_READ, &v));
    if (slash) PetscCall(PetscViewerHDF5PushGroup(v, group));
    PetscCall(VecLoad(box, v));
    if (slash) PetscCall(PetscViewerHDF5PopGroup(v));
    PetscCall(PetscViewerDestroy(&v));
    PetscCall(OxOperatorFromBox(op, box, c));
    PetscCall(VecDestroy(&box));
    PetscCall(VecMin(c, NULL, &lo));
    PetscCall(VecMax(c, NULL, &hi));
    if (op->nsolid && (!(lo >= 0.0) || !(hi < 1.0))) {
      char what[160];
      snprintf(what, sizeof what, "values on solid voxels from %g to %g; expected vacancy fractions in 0..1 (1 excluded)", (double)lo, (double)hi);
      fail(cfg, err, len, what);
      PetscFunctionReturn(0);
    }
  }
  if (u) { /* every layer cell of a column starts at its voxel's value */
    const PetscScalar *ca;
    PetscScalar       *ua;
    PetscCall(VecGetArrayRead(c, &ca));
    PetscCall(VecGetArray(u, &ua));
    for (PetscInt j = 0; j < op->surf.ncells; j++) OxSurfaceVoxelsToLayer(&op->surf, ca, j, ua);
    PetscCall(VecRestoreArray(u, &ua));
    PetscCall(VecRestoreArrayRead(c, &ca));
  }
  PetscFunctionReturn(0);
}
