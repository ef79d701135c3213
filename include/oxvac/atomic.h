/**
 * @file atomic.h
 * @brief A file put into place whole or not at all.
 *
 * Owns: the temporary name beside a file (PATH.partial-PID), the rename that
 * puts it over PATH once complete, and the removal of the temporary file on
 * any failure, so that no .partial file survives a failure path the process
 * controls and an existing PATH is replaced only by a complete file. Every
 * file oxvac writes goes through it: results, checkpoints and their XDMF,
 * compare's output, fit's config, the sweep's point configs and summaries.
 * Plain C, no PETSc.
 */
#ifndef OXVAC_ATOMIC_H
#define OXVAC_ATOMIC_H

#include <stdio.h>

#include "oxvac/config.h"

typedef struct {
  char path[OX_PATH_MAX];
  char tmp[OX_PATH_MAX + 32];
} OxAtomic;

/** @brief Name the temporary file of path: PATH.partial-PID (pid: the writer's, rank 0's under MPI). */
void OxAtomicBegin(OxAtomic *a, const char *path, long pid);

/**
 * @brief Remove the temporary files of path (PATH.partial-PID) that a killed
 *        writer left: those whose PID no longer runs on this host. Returns
 *        how many were removed. (SIGKILL leaves them; the next write of the
 *        same path takes them away.)
 */
int OxAtomicRemoveStale(const char *path);

/** @brief OxAtomicRemoveStale, OxAtomicBegin with this process's pid, and the temporary file opened for writing (NULL, errno set, on failure). */
FILE *OxAtomicOpen(OxAtomic *a, const char *path);

/**
 * @brief With ok, rename the complete temporary file over the path; else, or
 *        when the rename fails, remove it. 0 when the file is in place, -1
 *        otherwise (errno of the failure kept).
 */
int OxAtomicCommit(OxAtomic *a, int ok);

/** @brief Close fp (opened by OxAtomicOpen), then OxAtomicCommit(ok and no write error). */
int OxAtomicClose(OxAtomic *a, FILE *fp, int ok);

#endif
