/* libFuzzer: the measured-profile CSV reader (OxMeasuredLoad, src/compare.c). */
#include "fuzz_common.h"
#include "oxvac/compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char       path[128], err[4096];
  OxMeasured m;

  fuzz_write("measured.csv", data, size, path, sizeof(path));
  memset(&m, 0, sizeof(m));
  if (OxMeasuredLoad(path, &m, err, sizeof(err)) == 0) {
    /* what a success promises: n points, each readable */
    volatile double s = 0;
    for (int i = 0; i < m.n; i++) s += m.cycle[i] + m.line[i] + m.distance_nm[i] + m.mn3_fraction[i] + m.sigma[i];
    (void)s;
  }
  OxMeasuredFree(&m);
  unlink(path);
  return 0;
}
