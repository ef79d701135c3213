/* The executors of a sweep: local child processes, a SLURM job array, and the status report. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "oxvac/batch.h"
#include "oxvac/common.h"
#include "oxvac/shell.h"
#include "oxvac/sweep.h"

/* ------------------------------------------------------------------------ */
/* What the scheduler says                                                  */
/* ------------------------------------------------------------------------ */

/* SLURM task states by "JOBID_TASK", from squeue (and sacct, where accounting runs). */
typedef struct {
  int   n;
  char (*id)[64], (*state)[32];
  int   have_squeue;
} Queue;

static int OnPath(const char *prog)
{
  const char *path = getenv("PATH");
  char        buf[OX_PATH_MAX];
  for (const char *p = path; p && *p;) {
    const char *e = strchr(p, ':');
    size_t      n = e ? (size_t)(e - p) : strlen(p);
    snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
    if (!access(buf, X_OK)) return 1;
    p = e ? e + 1 : p + n;
  }
  return 0;
}

/* The job ids this sweep submitted (OUT_DIR/slurm_jobs, one "JOBID ARRAY DATE" per line), comma-joined. */
static void SubmittedJobs(const OxSweep *sw, char *ids, size_t len)
{
  char  path[OX_PATH_MAX + 16], line[512];
  FILE *fp;
  ids[0] = '\0';
  snprintf(path, sizeof(path), "%s/slurm_jobs", sw->out_dir);
  if (!(fp = fopen(path, "r"))) return;
  while (fgets(line, sizeof(line), fp)) {
    long id = strtol(line, NULL, 10);
    if (id > 0 && strlen(ids) + 24 < len) snprintf(ids + strlen(ids), len - strlen(ids), "%s%ld", ids[0] ? "," : "", id);
  }
  fclose(fp);
}

static void QueueAdd(Queue *q, const char *id, const char *state)
{
  for (int i = 0; i < q->n; i++)
    if (!strcmp(q->id[i], id)) return; /* squeue's answer first */
  q->id    = realloc(q->id, (size_t)(q->n + 1) * sizeof(*q->id));
  q->state = realloc(q->state, (size_t)(q->n + 1) * sizeof(*q->state));
  snprintf(q->id[q->n], sizeof(q->id[0]), "%s", id);
  snprintf(q->state[q->n], sizeof(q->state[0]), "%s", state);
  q->n++;
}

static void QueueRead(Queue *q, const char *cmd, char sep)
{
  FILE *fp = popen(cmd, "r");
  char  line[512];
  if (!fp) return;
  while (fgets(line, sizeof(line), fp)) {
    char *s = strchr(line, sep);
    if (!s) continue;
    *s++ = '\0';
    s[strcspn(s, " \r\n")] = '\0';
    if (strchr(line, '.')) continue; /* sacct's job steps */
    QueueAdd(q, line, s);
  }
  pclose(fp);
}

static void QueueLoad(const OxSweep *sw, Queue *q)
{
  char ids[4096], cmd[4200];
  memset(q, 0, sizeof(*q));
  SubmittedJobs(sw, ids, sizeof(ids));
  if (!ids[0]) return;
  q->have_squeue = OnPath("squeue");
  if (q->have_squeue) {
    snprintf(cmd, sizeof(cmd), "squeue -h -r -j %s -o '%%i %%T' 2>/dev/null", ids);
    QueueRead(q, cmd, ' ');
  }
  if (OnPath("sacct")) {
    snprintf(cmd, sizeof(cmd), "sacct -n -X -P -j %s -o JobID,State 2>/dev/null", ids);
    QueueRead(q, cmd, '|');
  }
}

static const char *QueueState(const Queue *q, const char *job)
{
  for (int i = 0; job[0] && i < q->n; i++)
    if (!strcmp(q->id[i], job)) return q->state[i];
  return NULL;
}

static void QueueFree(Queue *q)
{
  free(q->id);
  free(q->state);
}

/* A point's state, with a SLURM task that has left the queue without saying so taken as interrupted. */
static void PointState(const OxSweep *sw, const Queue *q, int i, OxPointState *st, const char **qstate)
{
  char dir[OX_PATH_MAX];
  char job[64];
  OxSweepPointDir(sw, i, dir, sizeof(dir));
  OxPointStateRead(dir, st);
  *qstate = NULL;
  if (st->state == OX_POINT_RUNNING && st->job[0]) {
    *qstate = QueueState(q, st->job);
    if (q->have_squeue && (!*qstate || strcmp(*qstate, "RUNNING"))) st->state = OX_POINT_INTERRUPTED;
  } else if (st->state != OX_POINT_DONE) {
    /* pending on the queue, or never started: look up "JOBID_i" for each submitted job */
    for (int k = 0; k < q->n && !*qstate; k++) {
      const char *u = strchr(q->id[k], '_');
      snprintf(job, sizeof(job), "%.*s_%d", u ? (int)(u - q->id[k]) : 0, q->id[k], i);
      if (u && !strcmp(q->id[k], job)) *qstate = q->state[k];
    }
  }
}

/* Points to run: pending, interrupted, and failed ones when asked. */
static int ToRun(const OxPointState *st, const char *qstate, int retry_failed)
{
  if (qstate && (!strcmp(qstate, "PENDING") || !strcmp(qstate, "RUNNING") || !strcmp(qstate, "CONFIGURING"))) return 0; /* already queued */
  return st->state == OX_POINT_PENDING || st->state == OX_POINT_INTERRUPTED || (retry_failed && st->state == OX_POINT_FAILED);
}

/* The points to run (into todo, returned: their number), and how many are done and failed;
 * with say_running, a line for each point another runner or the queue has. */
static int PointsToRun(const OxSweep *sw, int retry_failed, int say_running, int *todo, int *ndone, int *nfail)
{
  Queue q;
  int   ntodo = 0;
  QueueLoad(sw, &q);
  for (int i = 0; i < sw->npoints; i++) {
    OxPointState st;
    const char  *qs;
    PointState(sw, &q, i, &st, &qs);
    if (st.state == OX_POINT_DONE) (*ndone)++;
    else if (st.state == OX_POINT_FAILED && !retry_failed) (*nfail)++;
    else if (ToRun(&st, qs, retry_failed)) todo[ntodo++] = i;
    else if (say_running)
      fprintf(stderr, "sweep: point %d is running elsewhere (%s%s%s); left to it\n", i, st.host[0] ? st.host : "queued", st.job[0] ? ", job " : "", st.job);
  }
  QueueFree(&q);
  return ntodo;
}

/* ------------------------------------------------------------------------ */
/* Local                                                                    */
/* ------------------------------------------------------------------------ */

static void Progress(int ndone, int nrun, int nfail, int nint, int total, double left)
{
  fprintf(stderr, "sweep: %d/%d done, %d running, %d failed", ndone, total, nrun, nfail);
  if (nint) fprintf(stderr, ", %d interrupted", nint);
  if (left >= 0) fprintf(stderr, "; ~%.0f s left", left);
  fprintf(stderr, "\n");
  fflush(stderr);
}

int OxSweepRunLocal(const OxSweep *sw, const OxSweepRunOptions *o)
{
  int      n = sw->npoints, *todo = malloc((size_t)n * sizeof(int)), ntodo = 0, next = 0, nrun = 0;
  int      ndone = 0, nfail = 0, nint = 0, jobs = o->jobs > 0 ? o->jobs : sw->local.jobs, ranks = o->ranks > 0 ? o->ranks : sw->local.ranks;
  int      forwarded = 0, rc;
  pid_t   *pid = calloc((size_t)jobs, sizeof(pid_t));
  int     *slot_point = calloc((size_t)jobs, sizeof(int));
  double   t_sum = 0.0, wall0 = OxWallS();
  int      t_n = 0;
  char     launcher[700] = "", dir[OX_PATH_MAX], label[4096];

  ntodo = PointsToRun(sw, o->retry_failed, 1, todo, &ndone, &nfail);
  if (ranks > 1) snprintf(launcher, sizeof(launcher), "%s -n %d", sw->local.mpiexec, ranks);
  if (o->dry_run) {
    printf("# %d of %d points to run (%d done, %d failed%s); each is:\n", ntodo, n, ndone, nfail, nfail ? ", rerun with --retry-failed" : "");
    for (int k = 0; k < ntodo; k++) {
      char  ck[OX_PATH_MAX + 16];
      char *cmd;
      OxSweepPointDir(sw, todo[k], dir, sizeof(dir));
      snprintf(ck, sizeof(ck), "%s/result.ckpt.h5", dir);
      cmd = OxPointCommand(sw->self, dir, !access(ck, F_OK));
      printf("%s%s%s\n", launcher, launcher[0] ? " " : "", cmd ? cmd : "");
      free(cmd);
    }
    free(todo), free(pid), free(slot_point);
    return 0;
  }
  if (!o->quiet)
    fprintf(stderr, "sweep: %d points in %s: %d done, %d failed%s, %d to run, %d at a time%s%s\n", n, sw->out_dir, ndone, nfail,
            nfail ? " (rerun them with --retry-failed)" : "", ntodo, jobs, ranks > 1 ? " with " : "", launcher);
  OxBatchCatchSignals();
  while (next < ntodo || nrun > 0) {
    /* start points while there is a free slot and no signal */
    while (!OxBatchSignal() && next < ntodo && nrun < jobs) {
      char *argv[10];
      int   a = 0, slot = 0;
      char  log[OX_PATH_MAX + 16];
      while (pid[slot]) slot++;
      OxSweepPointDir(sw, todo[next], dir, sizeof(dir));
      snprintf(log, sizeof(log), "%s/log.txt", dir);
      argv[a++] = (char *)sw->self;
      argv[a++] = "sweep";
      argv[a++] = "--run-point";
      argv[a++] = dir;
      if (o->retry_failed) argv[a++] = "--retry-failed";
      if (launcher[0]) {
        argv[a++] = "--launcher";
        argv[a++] = launcher;
      }
      argv[a] = NULL;
      pid[slot] = OxBatchSpawn(argv, log);
      if (pid[slot] < 0) {
        fprintf(stderr, "oxvac: sweep: cannot start point %d: %s\n", todo[next], strerror(errno));
        pid[slot] = 0;
        nfail++;
      } else {
        slot_point[slot] = todo[next];
        nrun++;
      }
      next++;
    }
    if (!nrun) break;
    int   status;
    pid_t w = wait(&status);
    if (w < 0) {
      if (errno != EINTR) break;
      if (OxBatchSignal() && !forwarded) { /* every runner passes it on: each run writes a checkpoint */
        fprintf(stderr, "sweep: signal %d: stopping %d running point%s (each writes a checkpoint); rerun the same command to resume\n",
                OxBatchSignal(), nrun, nrun == 1 ? "" : "s");
        for (int s = 0; s < jobs; s++)
          if (pid[s] > 0) kill(pid[s], SIGTERM);
        forwarded = 1;
      }
      continue;
    }
    for (int s = 0; s < jobs; s++) {
      OxPointState st;
      if (pid[s] != w) continue;
      pid[s] = 0;
      nrun--;
      OxSweepPointDir(sw, slot_point[s], dir, sizeof(dir));
      OxPointStateRead(dir, &st);
      OxSweepPointLabel(sw, slot_point[s], label, sizeof(label));
      if (st.state == OX_POINT_DONE) {
        ndone++;
        t_sum += st.wall_s;
        t_n++;
        if (!o->quiet) fprintf(stderr, "sweep: point %d done in %.1f s (%s)\n", slot_point[s], st.wall_s, label);
      } else if (st.state == OX_POINT_INTERRUPTED) {
        nint++;
        if (!o->quiet) fprintf(stderr, "sweep: point %d interrupted (%s); it resumes from its checkpoint when the sweep is rerun\n", slot_point[s], label);
      } else {
        char *cmd = OxPointCommand(sw->self, dir, 0);
        nfail++;
        fprintf(stderr, "sweep: point %d failed (%s): %s\n  rerun it by hand: %s\n", slot_point[s], label, st.error[0] ? st.error : "see its log.txt",
                cmd ? cmd : "");
        free(cmd);
      }
      if (!o->quiet) {
        double left = t_n ? t_sum / t_n * ((ntodo - next) + 0.5 * nrun) / jobs : -1.0;
        Progress(ndone, nrun, nfail, nint, n, OxBatchSignal() ? -1.0 : left);
      }
    }
  }
  OxBatchReleaseSignals();
  free(todo), free(pid), free(slot_point);
  if (!o->quiet) fprintf(stderr, "sweep: %d of %d points done, %d failed, %d interrupted, %.1f s\n", ndone, n, nfail, nint, OxWallS() - wall0);
  rc = OxSweepCollect(sw, o->quiet);
  return ndone == n && !rc ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* SLURM                                                                    */
/* ------------------------------------------------------------------------ */

/* "0-3,5,7-9" */
static void ArraySpec(const int *idx, int n, char *out, size_t len)
{
  out[0] = '\0';
  for (int k = 0; k < n;) {
    int j = k;
    while (j + 1 < n && idx[j + 1] == idx[j] + 1) j++;
    size_t m = strlen(out);
    if (j > k) snprintf(out + m, len - m, "%s%d-%d", m ? "," : "", idx[k], idx[j]);
    else snprintf(out + m, len - m, "%s%d", m ? "," : "", idx[k]);
    k = j + 1;
  }
}

static void Append(char **buf, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void Append(char **buf, size_t *cap, const char *fmt, ...)
{
  va_list ap;
  size_t  n = strlen(*buf);
  int     k;
  va_start(ap, fmt);
  k = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  while (n + (size_t)k + 1 > *cap) *buf = realloc(*buf, *cap *= 2);
  va_start(ap, fmt);
  vsnprintf(*buf + n, *cap - n, fmt, ap);
  va_end(ap);
}

int OxSweepSubmitSlurm(const OxSweep *sw, const OxSweepRunOptions *o)
{
  int    n = sw->npoints, *todo = malloc((size_t)n * sizeof(int)), ntodo = 0, ndone = 0, nfail = 0, rc = 0;
  size_t cap = 8192;
  char  *script = calloc(cap, 1), *spec = malloc((size_t)n * 16 + 32), path[OX_PATH_MAX + 32], dir[OX_PATH_MAX];
  char   q1[OX_PATH_MAX * 2], q2[OX_PATH_MAX * 2];

  ntodo = PointsToRun(sw, o->retry_failed, 0, todo, &ndone, &nfail);
  if (!ntodo) {
    printf("sweep: nothing to submit: %d of %d points done, %d failed%s, the rest queued or running\n", ndone, n, nfail,
           nfail ? " (resubmit them with --retry-failed)" : "");
    free(todo), free(script), free(spec);
    return 0;
  }
  ArraySpec(todo, ntodo, spec, (size_t)n * 16 + 32);
  if (sw->slurm.array_max > 0) sprintf(spec + strlen(spec), "%%%d", sw->slurm.array_max);
  Append(&script, &cap, "#!/bin/bash\n# oxvac sweep %s: one array task per point (task i runs %s/point_NNNN with NNNN = i)\n", sw->file, sw->out_dir);
  Append(&script, &cap, "#SBATCH --job-name=%s\n#SBATCH --array=%s\n#SBATCH --ntasks=%d\n#SBATCH --cpus-per-task=%d\n", sw->slurm.job_name, spec,
         sw->slurm.ntasks, sw->slurm.cpus_per_task);
  if (sw->slurm.mem[0]) Append(&script, &cap, "#SBATCH --mem=%s\n", sw->slurm.mem);
  if (sw->slurm.time[0]) Append(&script, &cap, "#SBATCH --time=%s\n", sw->slurm.time);
  if (sw->slurm.partition[0]) Append(&script, &cap, "#SBATCH --partition=%s\n", sw->slurm.partition);
  Append(&script, &cap, "#SBATCH --chdir=%s\n#SBATCH --output=%s/slurm-%%A_%%a.out\n", sw->out_dir, sw->out_dir);
  /* a SIGTERM before the time limit, so the run writes its checkpoint in time */
  Append(&script, &cap, "#SBATCH --signal=B:TERM@120\n");
  for (int i = 0; i < sw->slurm.nextra; i++)
    Append(&script, &cap, "%s%s\n", strncmp(sw->slurm.extra[i], "#SBATCH", 7) ? "#SBATCH " : "", sw->slurm.extra[i]);
  Append(&script, &cap, "set -u\n");
  for (int i = 0; i < sw->slurm.nsetup; i++) Append(&script, &cap, "%s\n", sw->slurm.setup[i]);
  q1[0] = q2[0] = '\0';
  OxShellAppend(q1, sizeof(q1), sw->self);
  OxShellAppend(q2, sizeof(q2), sw->out_dir);
  Append(&script, &cap, "point=%s/$(printf 'point_%%04d' \"$SLURM_ARRAY_TASK_ID\")\n", q2);
  /* exec: the runner is the batch step's process, so it gets SLURM's signals and passes them on */
  {
    char tail[1400] = "";
    if (o->retry_failed) OxShellAppend(tail, sizeof(tail), "--retry-failed");
    if (sw->slurm.ntasks > 1) {
      OxShellAppend(tail, sizeof(tail), "--launcher");
      OxShellAppend(tail, sizeof(tail), sw->slurm.launcher);
    }
    Append(&script, &cap, "exec %s sweep --run-point \"$point\"%s%s\n", q1, tail[0] ? " " : "", tail);
  }
  snprintf(path, sizeof(path), "%s/sweep.sbatch", sw->out_dir);
  if (OxSweepWriteFile(path, script) || chmod(path, 0755)) {
    fprintf(stderr, "%s:%d: key 'out_dir': cannot write %s (%s); expected a writable folder\n", sw->file, sw->line_out, path, strerror(errno));
    free(todo), free(script), free(spec);
    return OX_EXIT_INPUT;
  }
  OxSweepPointDir(sw, todo[0], dir, sizeof(dir));
  if (o->dry_run) {
    printf("sweep: wrote %s (array %s: %d of %d points; %d done, %d failed); submit it with: sbatch %s\n", path, spec, ntodo, n, ndone, nfail, path);
  } else {
    char  cmd[OX_PATH_MAX * 2 + 64] = "", out[512] = "";
    FILE *fp;
    long  job = 0;
    snprintf(cmd, sizeof(cmd), "sbatch --parsable ");
    OxShellAppend(cmd, sizeof(cmd), path);
    fp = popen(cmd, "r");
    if (fp && fgets(out, sizeof(out), fp)) job = strtol(out, NULL, 10);
    if (!fp || pclose(fp) != 0 || job <= 0) {
      fprintf(stderr, "oxvac: sweep: `%s` failed%s%s; the script is %s (submit it by hand, or check that SLURM is reachable)\n", cmd, out[0] ? ": " : "",
              out, path);
      rc = OX_EXIT_RUN_FAILED;
    } else {
      char   line[1024];
      time_t now = time(NULL);
      char   when[64];
      strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&now));
      snprintf(path, sizeof(path), "%s/slurm_jobs", sw->out_dir);
      snprintf(line, sizeof(line), "%ld %s %s\n", job, spec, when);
      if ((fp = fopen(path, "a"))) {
        fputs(line, fp);
        fclose(fp);
      }
      printf("sweep: submitted job %ld, array %s (%d of %d points); follow it with: oxvac sweep %s --status; then: oxvac sweep %s --collect\n", job, spec,
             ntodo, n, sw->file, sw->file);
    }
  }
  free(todo), free(script), free(spec);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Status                                                                   */
/* ------------------------------------------------------------------------ */

int OxSweepStatus(const OxSweep *sw)
{
  int   count[5] = {0};
  char  label[4096];
  Queue q;

  QueueLoad(sw, &q);
  printf("%-6s %-12s %-8s %-10s %-12s %s\n", "point", "state", "attempts", "wall_s", "slurm", "values");
  for (int i = 0; i < sw->npoints; i++) {
    OxPointState st;
    const char  *qs;
    PointState(sw, &q, i, &st, &qs);
    count[st.state]++;
    OxSweepPointLabel(sw, i, label, sizeof(label));
    printf("%-6d %-12s %-8d %-10.1f %-12s %s", i, OxPointStateName(st.state), st.attempts, st.wall_s, qs ? qs : "-", label);
    if (st.state == OX_POINT_FAILED && st.error[0]) printf("   [%s]", st.error);
    printf("\n");
  }
  printf("sweep: %d points: %d done, %d running, %d failed, %d interrupted, %d pending%s\n", sw->npoints, count[OX_POINT_DONE], count[OX_POINT_RUNNING],
         count[OX_POINT_FAILED], count[OX_POINT_INTERRUPTED], count[OX_POINT_PENDING],
         q.n || q.have_squeue ? "" : " (no SLURM job of this sweep known to squeue/sacct)");
  QueueFree(&q);
  return 0;
}
