/* libFuzzer: the config loader. The input is (1) a config file for OxConfigLoad
 * (then, when it loads, OxConfigToString and a reload of that text: it must
 * load again), and (2) split at newlines, up to 8 `--set` overrides applied to
 * a valid base config (tests/data/minimal.cfg's content). */
#include "fuzz_common.h"
#include "oxvac/config.h"

static const char base_cfg[] =
  "grid = { voxel_nm = 20.0; shape = [8, 8, 8]; };\n"
  "microstructure = { type = \"sphere\"; radius_nm = 60.0; };\n"
  "protocol = { cycling = { repeat = 2; steps = ( { type = \"cc\"; rate_C = 1.0; until_soc = 1.0; } ); }; };\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char     path[128], base[128], err[4096];
  OxConfig cfg;

  /* (1) the input as a file */
  fuzz_write("input.cfg", data, size, path, sizeof(path));
  memset(&cfg, 0, sizeof(cfg));
  if (OxConfigLoad(path, 0, NULL, &cfg, err, sizeof(err)) == 0) {
    char *text = OxConfigToString(&cfg);
    if (text) {
      char     again[128];
      OxConfig cfg2;
      fuzz_write("again.cfg", (const uint8_t *)text, strlen(text), again, sizeof(again));
      memset(&cfg2, 0, sizeof(cfg2));
      /* the resolved text of a valid config parses back */
      if (OxConfigLoad(again, 0, NULL, &cfg2, err, sizeof(err)) != 0) {
        fprintf(stderr, "resolved config does not load again: %s\n", err);
        abort();
      }
      OxConfigFree(&cfg2);
      unlink(again);
      free(text);
    }
  }
  OxConfigFree(&cfg);
  unlink(path);

  /* (2) the input as --set overrides, one per line, on a valid base */
  fuzz_write("base.cfg", (const uint8_t *)base_cfg, sizeof(base_cfg) - 1, base, sizeof(base));
  char *copy = malloc(size + 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  copy[size] = 0;
  const char *sets[8];
  int         nset = 0;
  for (char *s = copy, *nl; s && nset < 8; s = nl) {
    nl = strchr(s, '\n');
    if (nl) *nl++ = 0;
    sets[nset++] = s;
  }
  memset(&cfg, 0, sizeof(cfg));
  (void)OxConfigLoad(base, nset, sets, &cfg, err, sizeof(err));
  OxConfigFree(&cfg);
  {
    char file[4096];
    int  line;
    (void)OxConfigLocateKey(base, nset, sets, "grid.shape", file, sizeof(file), &line);
  }
  free(copy);
  unlink(base);
  return 0;
}
