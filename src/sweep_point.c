/* One sweep point: its state file and its runner. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <libconfig.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "oxvac/batch.h"
#include "oxvac/common.h"
#include "oxvac/shell.h"
#include "oxvac/sweep.h"

static const char *const kStateNames[] = {"pending", "running", "done", "failed", "interrupted"};

const char *OxPointStateName(OxPointStateKind s) { return kStateNames[s]; }

static void CopyString(const config_t *lc, const char *name, char *out, size_t len)
{
  const char *v = NULL;
  if (config_lookup_string(lc, name, &v) && v) snprintf(out, len, "%s", v);
}

void OxPointStateRead(const char *dir, OxPointState *st)
{
  config_t    lc;
  char        path[OX_PATH_MAX + 16], host[256] = "";
  const char *state = NULL;
  long long   v;
  double      d;

  memset(st, 0, sizeof(*st));
  snprintf(path, sizeof(path), "%s/status", dir);
  if (access(path, F_OK)) return; /* pending */
  config_init(&lc);
  if (!config_read_file(&lc, path)) {
    st->state = OX_POINT_INTERRUPTED; /* a status file that cannot be read: run the point again (from its checkpoint) */
    config_destroy(&lc);
    return;
  }
  if (config_lookup_string(&lc, "state", &state))
    for (int k = 0; k < 5; k++)
      if (!strcmp(state, kStateNames[k])) st->state = (OxPointStateKind)k;
  if (config_lookup_int64(&lc, "attempts", &v)) st->attempts = (int)v;
  if (config_lookup_int64(&lc, "completions", &v)) st->completions = (int)v;
  if (config_lookup_int64(&lc, "exit_code", &v)) st->exit_code = (int)v;
  if (config_lookup_int64(&lc, "pid", &v)) st->pid = (long)v;
  if (config_lookup_float(&lc, "wall_s", &d)) st->wall_s = d;
  CopyString(&lc, "host", st->host, sizeof(st->host));
  CopyString(&lc, "job", st->job, sizeof(st->job));
  CopyString(&lc, "started", st->started, sizeof(st->started));
  CopyString(&lc, "error", st->error, sizeof(st->error));
  config_destroy(&lc);
  /* A runner that died without saying so (SIGKILL, a node lost) holds no lock any more;
   * one on this host that no longer exists has died too. */
  if (st->state == OX_POINT_RUNNING) {
    char lock[OX_PATH_MAX + 16];
    int  fd;
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    if ((fd = open(lock, O_RDONLY)) >= 0) {
      if (flock(fd, LOCK_SH | LOCK_NB) == 0) st->state = OX_POINT_INTERRUPTED;
      close(fd);
    }
    gethostname(host, sizeof(host) - 1);
    if (!st->job[0] && !strcmp(host, st->host) && st->pid > 0 && kill((pid_t)st->pid, 0) && errno == ESRCH) st->state = OX_POINT_INTERRUPTED;
  }
}

/* libconfig string literal */
static void Quote(const char *s, char *out, size_t len)
{
  size_t n = 0;
  out[n++] = '"';
  for (; *s && n + 4 < len; s++) {
    if (*s == '"' || *s == '\\') out[n++] = '\\';
    out[n++] = *s == '\n' || *s == '\r' ? ' ' : *s;
  }
  out[n++] = '"';
  out[n]   = '\0';
}

static int StateWrite(const char *dir, const OxPointState *st)
{
  char path[OX_PATH_MAX + 16], text[4096], host[600], job[300], started[200], error[2100];
  Quote(st->host, host, sizeof(host));
  Quote(st->job, job, sizeof(job));
  Quote(st->started, started, sizeof(started));
  Quote(st->error, error, sizeof(error));
  snprintf(text, sizeof(text),
           "# written by oxvac sweep: the state of this point\nstate = \"%s\";\nattempts = %d;\ncompletions = %d;\nexit_code = %d;\nwall_s = %.17g;\n"
           "pid = %ld;\nhost = %s;\njob = %s;\nstarted = %s;\nerror = %s;\n",
           kStateNames[st->state], st->attempts, st->completions, st->exit_code, st->wall_s, st->pid, host, job, started, error);
  snprintf(path, sizeof(path), "%s/status", dir);
  return OxSweepWriteFile(path, text);
}

char *OxPointCommand(const char *self, const char *dir, int restart)
{
  char        cfg[OX_PATH_MAX + 16], out[OX_PATH_MAX + 16], ck[OX_PATH_MAX + 16];
  const char *argv[8] = {self && self[0] ? self : "oxvac", "run", cfg, "-o", out, "--restart", ck, NULL};
  snprintf(cfg, sizeof(cfg), "%s/config.cfg", dir);
  snprintf(out, sizeof(out), "%s/result.h5", dir);
  snprintf(ck, sizeof(ck), "%s/result.ckpt.h5", dir);
  return OxShellJoin(restart ? 7 : 5, argv);
}

/* The last line of the log that says what went wrong (oxvac's own messages name it). */
static void LastError(const char *log, char *out, size_t len)
{
  FILE *fp = fopen(log, "r");
  char  line[2048];
  out[0] = '\0';
  if (!fp) return;
  while (fgets(line, sizeof(line), fp)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strstr(line, "error") || strstr(line, "failed") || strstr(line, "oxvac: ") == line || strstr(line, ": key '"))
      if (!strstr(line, "oxvac: wrote") && strncmp(line, "=== ", 4)) snprintf(out, len, "%s", line);
  }
  fclose(fp);
}

static volatile sig_atomic_t runner_signal = 0;
static void on_signal(int sig) { runner_signal = sig; }

int OxSweepRunPoint(const char *self, const char *dir, int retry_failed, const char *launcher)
{
  OxPointState st;
  char         cfg[OX_PATH_MAX + 16], out[OX_PATH_MAX + 16], ck[OX_PATH_MAX + 16], log[OX_PATH_MAX + 16];
  char        *argv[64], *lcopy = NULL, *cmd;
  int          argc = 0, restart, status = 0, sent = 0;
  double       t0;
  pid_t        pid;
  FILE        *fp;
  time_t       now = time(NULL);

  snprintf(cfg, sizeof(cfg), "%s/config.cfg", dir);
  snprintf(out, sizeof(out), "%s/result.h5", dir);
  snprintf(ck, sizeof(ck), "%s/result.ckpt.h5", dir);
  snprintf(log, sizeof(log), "%s/log.txt", dir);
  if (access(cfg, R_OK)) {
    fprintf(stderr, "%s:1: key 'point': no config.cfg in this folder; expected a point folder that oxvac sweep prepared\n", dir);
    return OX_EXIT_INPUT;
  }
  /* One runner per point at a time, whoever started it (a second sweep on
   * the same out_dir, a SLURM task, a user): a lock the system releases
   * when its holders die, however they die. flock's lock belongs to the open
   * file, which the run inherits: a run orphaned by a killed runner still
   * holds it. */
  {
    char lock[OX_PATH_MAX + 16];
    int  fd;
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    if ((fd = open(lock, O_RDWR | O_CREAT, 0644)) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
      fprintf(stderr, "oxvac: sweep: %s is being run by another process; not started twice\n", dir);
      if (fd >= 0) close(fd);
      return 1;
    }
    /* held (fd left open, and inherited by the run) until the run and this process exit */
  }
  OxPointStateRead(dir, &st);
  if (st.state == OX_POINT_DONE && !access(out, F_OK)) return 0;
  if (st.state == OX_POINT_FAILED && !retry_failed) return 1;
  if (st.state == OX_POINT_RUNNING) {
    fprintf(stderr, "oxvac: sweep: %s is already running (runner %ld on %s%s%s); not started twice\n", dir, st.pid, st.host, st.job[0] ? ", job " : "",
            st.job);
    return 1;
  }
  restart = access(ck, F_OK) == 0;
  /* the argument list: [launcher words] oxvac run CONFIG -o OUT --quiet [--restart CKPT] */
  if (launcher && launcher[0]) {
    lcopy = strdup(launcher);
    for (char *w = strtok(lcopy, " \t"); w && argc < 48; w = strtok(NULL, " \t")) argv[argc++] = w;
  }
  argv[argc++] = (char *)(self && self[0] ? self : "oxvac");
  argv[argc++] = "run";
  argv[argc++] = cfg;
  argv[argc++] = "-o";
  argv[argc++] = out;
  argv[argc++] = "--quiet";
  if (restart) {
    argv[argc++] = "--restart";
    argv[argc++] = ck;
  }
  argv[argc] = NULL;

  st.state = OX_POINT_RUNNING;
  st.attempts++;
  st.pid = (long)getpid();
  st.error[0] = '\0';
  gethostname(st.host, sizeof(st.host) - 1);
  st.job[0] = '\0';
  if (getenv("SLURM_ARRAY_JOB_ID") && getenv("SLURM_ARRAY_TASK_ID"))
    snprintf(st.job, sizeof(st.job), "%s_%s", getenv("SLURM_ARRAY_JOB_ID"), getenv("SLURM_ARRAY_TASK_ID"));
  else if (getenv("SLURM_JOB_ID")) snprintf(st.job, sizeof(st.job), "%s", getenv("SLURM_JOB_ID"));
  strftime(st.started, sizeof(st.started), "%Y-%m-%dT%H:%M:%S", localtime(&now));
  if (StateWrite(dir, &st)) {
    fprintf(stderr, "%s:1: key 'point': cannot write its status (%s); expected a writable point folder\n", dir, strerror(errno));
    free(lcopy);
    return OX_EXIT_INPUT;
  }
  if ((fp = fopen(log, "a"))) {
    cmd = OxShellJoin(argc, (const char *const *)argv);
    fprintf(fp, "=== attempt %d, %s on %s%s%s: %s\n", st.attempts, st.started, st.host, st.job[0] ? ", job " : "", st.job, cmd ? cmd : "");
    free(cmd);
    fclose(fp);
  }
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
  }
  t0  = OxWallS();
  pid = OxBatchSpawn(argv, log);
  free(lcopy);
  if (pid < 0) {
    st.state     = OX_POINT_FAILED;
    st.exit_code = 127;
    snprintf(st.error, sizeof(st.error), "cannot start the run: %s", strerror(errno));
  } else {
    /* Wait; a signal to the runner is passed on, and the run writes a checkpoint. */
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) break;
      if (runner_signal && !sent) {
        kill(pid, SIGTERM);
        sent = 1;
      }
    }
    st.wall_s += OxWallS() - t0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !access(out, F_OK)) {
      st.state = OX_POINT_DONE;
      st.completions++;
      st.exit_code = 0;
    } else if (runner_signal || WIFSIGNALED(status)) {
      st.state     = OX_POINT_INTERRUPTED; /* resumable: from the checkpoint the run wrote, else from the start */
      st.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      snprintf(st.error, sizeof(st.error), "stopped by signal %d", runner_signal ? (int)runner_signal : WTERMSIG(status));
    } else {
      st.state     = OX_POINT_FAILED;
      st.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      LastError(log, st.error, sizeof(st.error));
      if (!st.error[0]) snprintf(st.error, sizeof(st.error), "exit status %d (see %s)", st.exit_code, log);
    }
  }
  st.pid = 0;
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (StateWrite(dir, &st)) fprintf(stderr, "oxvac: sweep: cannot write %s/status: %s\n", dir, strerror(errno));
  return st.state == OX_POINT_DONE ? 0 : 1;
}
