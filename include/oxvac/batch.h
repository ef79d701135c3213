/**
 * @file batch.h
 * @brief Many forward runs from one command (`fit`, `sweep`).
 *
 * Owns: the machinery around repeated runs that is not the model: private
 * temporary folders, removing a run's files, catching SIGINT/SIGTERM between
 * runs, one in-process forward run (fit), and one run as a child process
 * with its output in a log (sweep). The runs themselves are ordinary
 * simulations (run.h); batch knows nothing of what they are for.
 */
#ifndef OXVAC_BATCH_H
#define OXVAC_BATCH_H

#include <stddef.h>
#include <sys/types.h>
#include "oxvac/run.h"

/** @brief Seconds on a monotonic clock. */
double OxWallS(void);

/**
 * @brief A fresh private folder PREFIX-XXXXXX beside `near` (a file), else
 *        in $TMPDIR, else in /tmp. @return 0, or -1 when none can be made.
 */
int OxBatchTempDir(const char *near, const char *prefix, char *dir, size_t len);

/** @brief Remove the files of a folder (not recursive) and the folder. */
void OxBatchRemoveDir(const char *dir);

/** @brief Remove a result OUT.h5 and what belongs to it: OUT.xdmf, OUT.ckpt.h5. */
void OxBatchRemoveResult(const char *result);

/** @brief From now on SIGINT/SIGTERM only set a flag (OxBatchSignal). */
void OxBatchCatchSignals(void);
/** @brief The last SIGINT/SIGTERM caught since OxBatchCatchSignals (0 if none). */
int  OxBatchSignal(void);
/** @brief Default handlers again. */
void OxBatchReleaseSignals(void);

/**
 * @brief One forward run in this process: load opt->config with its
 *        overrides, simulate, and catch signals again afterwards.
 *        Collective on PETSC_COMM_WORLD.
 * @param print_rank  the rank that prints input errors (-1: none)
 * @param[out] status OX_EXIT_OK, OX_EXIT_RUN_FAILED or OX_EXIT_INPUT
 * @param[out] stop   a SIGINT/SIGTERM received during the run on any rank (0 if none)
 * @return a PETSc error code
 */
int OxBatchForward(const OxRunOptions *opt, int print_rank, int *status, int *stop);

/**
 * @brief Start argv[0] (a path, or a name looked up in PATH) as a child
 *        process, stdin from /dev/null, stdout and stderr appended to log.
 * @return the child's pid, or -1 (errno set) when it cannot be started.
 */
pid_t OxBatchSpawn(char *const argv[], const char *log);

/** @brief The path of this program (for child runs of the same binary); "" if unknown. */
void OxBatchSelfPath(char *path, size_t len);

#endif
