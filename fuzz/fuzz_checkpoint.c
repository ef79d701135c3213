/* libFuzzer: the restart pre-check (OxHistoryCheckCheckpoint, src/history.c),
 * plain HDF5 (no PETSc or MPI call on this path), on the input as a file.
 * Compared with a fixed config text; the interesting part is reading the
 * "config" attribute of whatever the file holds. */
#include <hdf5.h>
#include "fuzz_common.h"
#include "oxvac/history.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char path[128], why[512];

  fuzz_write("checkpoint.h5", data, size, path, sizeof(path));
  (void)OxHistoryCheckCheckpoint(path, "grid = { voxel_nm = 20.0; };\n", why, sizeof(why));
  unlink(path);
  return 0;
}
