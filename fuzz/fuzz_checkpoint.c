/* libFuzzer: the restart pre-check (OxHistoryCheckCheckpoint, src/history_check.c),
 * plain HDF5 (no PETSc or MPI call on this path), on the input as a file.
 * Compared with a fixed config text; the interesting part is reading the
 * "config" attribute of whatever the file holds. */
#include <hdf5.h>
#include "fuzz_common.h"
#include <stdlib.h>
#include "oxvac/config.h"
#include "oxvac/history.h"
#include "oxvac/protocol.h"

/* What the check compares against: one small config, its protocol and grid. */
static OxConfig           cfg;
static OxProtocol         prot;
static OxCheckpointExpect ex;
static char              *text;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static const char base[] = "grid = { voxel_nm = 25.0; shape = [8, 8, 8]; };\n"
                             "microstructure = { type = \"sphere\"; radius_nm = 80.0; };\n"
                             "protocol = { cycling = { repeat = 2; steps = ( { type = \"cc\"; rate_C = 1.0; until_soc = 1.0; },\n"
                             "  { type = \"cc\"; rate_C = -1.0; until_soc = 0.0; } ); }; };\n";
  char path[128], err[1024];
  (void)argc;
  (void)argv;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fuzz_write("base.cfg", (const uint8_t *)base, sizeof(base) - 1, path, sizeof(path));
  if (OxConfigLoad(path, 0, NULL, &cfg, err, sizeof(err)) || OxProtocolCreate(&cfg, &prot, err, sizeof(err))) abort();
  unlink(path);
  text           = OxConfigToString(&cfg);
  ex.nx          = cfg.shape[0];
  ex.ny          = cfg.shape[1];
  ex.nz          = cfg.shape[2];
  ex.layer_cells = cfg.layer_cells;
  ex.profiles    = 1;
  ex.prot        = &prot;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char path[128], why[512];
  int  has_layer;

  fuzz_write("checkpoint.h5", data, size, path, sizeof(path));
  (void)OxHistoryCheckCheckpoint(path, text, &ex, &has_layer, why, sizeof(why));
  unlink(path);
  return 0;
}
