/* A file put into place whole or not at all (atomic.h). */
#include "oxvac/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void OxAtomicBegin(OxAtomic *a, const char *path, long pid)
{
  snprintf(a->path, sizeof(a->path), "%s", path);
  snprintf(a->tmp, sizeof(a->tmp), "%s.partial-%ld", path, pid);
}

int OxAtomicRemoveStale(const char *path)
{
  char        dir[OX_PATH_MAX], full[OX_PATH_MAX + 300];
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  size_t      nb    = strlen(base);
  int         removed = 0;
  DIR        *d;
  struct dirent *e;

  if (slash) snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
  else snprintf(dir, sizeof(dir), ".");
  if (!nb || !(d = opendir(dir))) return 0;
  while ((e = readdir(d))) {
    const char *p = e->d_name;
    char       *end;
    long        pid;
    if (strncmp(p, base, nb) || strncmp(p + nb, ".partial-", 9)) continue;
    pid = strtol(p + nb + 9, &end, 10);
    if (end == p + nb + 9 || *end || pid <= 0 || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer lives (or is not ours to judge) */
    snprintf(full, sizeof(full), "%s/%s", dir, p);
    if (unlink(full) == 0) removed++;
  }
  closedir(d);
  return removed;
}

FILE *OxAtomicOpen(OxAtomic *a, const char *path)
{
  OxAtomicRemoveStale(path);
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
