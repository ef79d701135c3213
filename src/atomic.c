/* A file put into place whole or not at all (atomic.h). */
#include "oxvac/atomic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void OxAtomicBegin(OxAtomic *a, const char *path, long pid)
{
  snprintf(a->path, sizeof(a->path), "%s", path);
  snprintf(a->tmp, sizeof(a->tmp), "%s.partial-%ld", path, pid);
}

FILE *OxAtomicOpen(OxAtomic *a, const char *path)
{
  OxAtomicBegin(a, path, (long)getpid());
  return fopen(a->tmp, "w");
}

int OxAtomicCommit(OxAtomic *a, int ok)
{
  int e = errno;
  if (ok && rename(a->tmp, a->path) == 0) return 0;
  if (ok) e = errno;
  unlink(a->tmp);
  errno = e;
  return -1;
}

int OxAtomicClose(OxAtomic *a, FILE *fp, int ok)
{
  int e;
  ok = !ferror(fp) && ok;
  e  = errno;
  if (fclose(fp) != 0) ok = 0;
  else errno = e;
  return OxAtomicCommit(a, ok);
}
