/* Shared by the libFuzzer harnesses: the input as a file in a private temp dir. */
#ifndef OXVAC_FUZZ_COMMON_H
#define OXVAC_FUZZ_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

/* A private directory, made once and removed at exit (files inside are unlinked per input). */
static const char *fuzz_tmpdir(void)
{
  if (!fuzz_dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%.40s/oxfuzzXXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(fuzz_dir)) abort();
  }
  return fuzz_dir;
}

/* Write data to DIR/name; the path into path. */
static void fuzz_write(const char *name, const uint8_t *data, size_t size, char *path, size_t len)
{
  snprintf(path, len, "%s/%s", fuzz_tmpdir(), name);
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  if (fclose(f)) abort();
}
#endif
