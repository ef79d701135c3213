/**
 * @file sweep.h
 * @brief `oxvac sweep`: many ordinary runs of one base config over a set of
 *        parameter values (interface section 7).
 *
 * Owns, in data-flow order:
 *  - the sweep file and its points (src/sweep_file.c): parameters by config
 *    path, grid / zip / Latin-hypercube points, and one complete resolved
 *    config per point in its own folder, every point checked before any runs;
 *  - a point's state and its runner (src/sweep_point.c): OUT_DIR/point_NNNN/
 *    {config.cfg, result.h5, result.ckpt.h5, log.txt, status}; the runner is
 *    an ordinary `oxvac run` of config.cfg, resumed from its checkpoint;
 *  - the executors (src/sweep_exec.c): local (N points at a time) and SLURM
 *    (one job array), and the per-point status report;
 *  - the summary (src/sweep_collect.c): summary.csv and summary.h5.
 * The sweep process itself never starts MPI or PETSc: every point runs in a
 * child process (or a SLURM task), so a point can be rerun by hand.
 */
#ifndef OXVAC_SWEEP_H
#define OXVAC_SWEEP_H

#include <stddef.h>
#include "oxvac/compare.h"
#include "oxvac/config.h"

typedef enum { OX_SWEEP_GRID, OX_SWEEP_ZIP, OX_SWEEP_LHS } OxSweepMode;

/** One swept config path: a list of values, or a range. */
typedef struct {
  char   path[512];
  int    line;       /**< its entry in the sweep file */
  int    nvalues;    /**< listed values (0 for a range) */
  char **values;     /**< libconfig text of each listed value, as --set takes it */
  int    is_range, log, integer, count; /**< range [lo, hi]: count points (grid, zip) or lhs samples */
  double lo, hi;
} OxSweepParam;

typedef struct {
  char         file[OX_PATH_MAX];    /**< the sweep file as given */
  char         base[OX_PATH_MAX];    /**< the base config (relative to the sweep file's folder, resolved) */
  char         out_dir[OX_PATH_MAX]; /**< absolute once prepared */
  char         measured[OX_PATH_MAX]; /**< optional measured CSV ("" if none) */
  OxGeometry   geometry;
  OxSweepMode  mode;
  int          samples;
  unsigned long long seed;
  int          nparam;
  OxSweepParam *param;
  int          nset;
  char       **set;                  /**< fixed overrides: the file's `set`, then the command line's --set */
  int          line_base, line_set, line_out, line_measured;
  struct {
    int  jobs, ranks;
    char mpiexec[512];
  } local;
  struct {
    char   partition[256], time[64], mem[64], job_name[256], launcher[512];
    int    ntasks, cpus_per_task, array_max;
    int    nextra, nsetup;
    char **extra, **setup;
  } slurm;
  int     npoints;
  char ***value; /**< [npoints][nparam] the value text of each point */
  char    self[OX_PATH_MAX]; /**< this oxvac binary (children run it) */
} OxSweep;

/** What a point is doing, from its own files. */
typedef enum { OX_POINT_PENDING, OX_POINT_RUNNING, OX_POINT_DONE, OX_POINT_FAILED, OX_POINT_INTERRUPTED } OxPointStateKind;

typedef struct {
  OxPointStateKind state;
  int    attempts;    /**< runs started */
  int    completions; /**< runs that completed the protocol */
  int    exit_code;
  double wall_s;      /**< summed over attempts */
  long   pid;         /**< the runner, while running */
  char   host[256], job[128], started[64];
  char   error[1024]; /**< why it failed */
} OxPointState;

/**
 * @brief Read a sweep file with extra fixed overrides, and expand its points.
 * @return 0, or 2 with "FILE:LINE: key 'a.b': what is wrong; what is expected" in err.
 */
int  OxSweepLoad(const char *path, int nset, const char *const *sets, OxSweep *sw, char *err, size_t errlen);
void OxSweepFree(OxSweep *sw);

/**
 * @brief Create out_dir and one folder per point with its resolved
 *        config.cfg; check every point first, write nothing if one is
 *        invalid, and refuse an out_dir holding a different sweep.
 *        With write = 0 only check the points (nothing is written).
 * @return 0, or 2 with the point, the key and why in err.
 */
int OxSweepPrepare(OxSweep *sw, int write, char *err, size_t errlen);

/** @brief OUT_DIR/point_NNNN of point i. */
void OxSweepPointDir(const OxSweep *sw, int i, char *dir, size_t len);

/** @brief "path=value, path=value" of point i. */
void OxSweepPointLabel(const OxSweep *sw, int i, char *buf, size_t len);

/** @brief The state of the point in dir (pending when it has no status file; a runner that died is interrupted). */
void OxPointStateRead(const char *dir, OxPointState *st);

const char *OxPointStateName(OxPointStateKind s);

/** @brief The plain `oxvac run` of the point in dir (restarting from its checkpoint when it has one); malloc'd. */
char *OxPointCommand(const char *self, const char *dir, int restart);

/**
 * @brief Run the point in dir unless it is done (or failed, without retry):
 *        `[launcher] oxvac run dir/config.cfg -o dir/result.h5 --quiet
 *        [--restart dir/result.ckpt.h5]`, output appended to dir/log.txt,
 *        its state kept in dir/status. SIGINT/SIGTERM are passed on to the
 *        run, which writes a checkpoint: the point is then interrupted.
 * @return 0 done or skipped, 1 failed or interrupted, 2 not a point folder.
 */
int OxSweepRunPoint(const char *self, const char *dir, int retry_failed, const char *launcher);

/** How the command was asked to run the sweep. */
typedef struct {
  int jobs, ranks, dry_run, retry_failed, quiet;
} OxSweepRunOptions;

/** @brief Run the points not done, `jobs` at a time; then collect. @return 0 all done, 1 some failed or interrupted. */
int OxSweepRunLocal(const OxSweep *sw, const OxSweepRunOptions *o);

/** @brief Write OUT_DIR/sweep.sbatch (one array task per point to run) and submit it unless dry_run. */
int OxSweepSubmitSlurm(const OxSweep *sw, const OxSweepRunOptions *o);

/** @brief Print each point's state (with squeue's where it knows the job). @return 0. */
int OxSweepStatus(const OxSweep *sw);

/** @brief Write OUT_DIR/summary.csv and summary.h5 (every point, failed ones with their error). @return 0, or 1 when they cannot be written. */
int OxSweepCollect(const OxSweep *sw, int quiet);

/** @brief Write text to path through a temporary file renamed into place. @return 0, or -1 (errno set). */
int OxSweepWriteFile(const char *path, const char *text);

#endif
