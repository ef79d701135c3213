/* Repeated forward runs: temporary folders, cleanup, signals, child processes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <petscsys.h>
#include "oxvac/batch.h"
#include "oxvac/common.h"

double OxWallS(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int OxBatchTempDir(const char *near, const char *prefix, char *dir, size_t len)
{
  const char *slash = near ? strrchr(near, '/') : NULL, *tmp = getenv("TMPDIR");
  char        cands[3][4096];
  int         ncand = 0;
  if (near) snprintf(cands[ncand++], sizeof(cands[0]), "%.*s.%s-XXXXXX", slash ? (int)(slash - near + 1) : 0, near, prefix);
  snprintf(cands[ncand++], sizeof(cands[0]), "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", prefix);
  snprintf(cands[ncand++], sizeof(cands[0]), "/tmp/%s-XXXXXX", prefix);
  for (int i = 0; i < ncand; i++)
    if (mkdtemp(cands[i])) {
      if (strlen(cands[i]) >= len) {
        rmdir(cands[i]);
        continue;
      }
      memcpy(dir, cands[i], strlen(cands[i]) + 1);
      return 0;
    }
  return -1;
}

void OxBatchRemoveDir(const char *dir)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  char           path[8192];
  if (d) {
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

void OxBatchRemoveResult(const char *result)
{
  char   x[8192];
  size_t n = strlen(result), stem = n > 3 && !strcmp(result + n - 3, ".h5") ? n - 3 : n;
  unlink(result);
  snprintf(x, sizeof(x), "%.*s.xdmf", (int)stem, result);
  unlink(x);
  snprintf(x, sizeof(x), "%.*s.ckpt.h5", (int)stem, result);
  unlink(x);
}

static volatile sig_atomic_t batch_signal = 0;
static void on_signal(int sig) { batch_signal = sig; }

void OxBatchCatchSignals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int OxBatchSignal(void) { return (int)batch_signal; }

void OxBatchReleaseSignals(void)
{
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

int OxBatchForward(const OxRunOptions *opt, int print_rank, int *status, int *stop)
{
  OxConfig       cfg;
  OxProtocol     prot;
  PetscErrorCode ierr = 0;
  PetscMPIInt    rank;

  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  *stop = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  *status = OxLoadInputs(opt, rank == print_rank ? 0 : 1, &cfg, &prot);
  if (*status == 0) {
    ierr = OxSimulate(opt, &cfg, &prot, status);
    /* OxSimulate caught any signal itself: a run stopped in averaged mode
     * writes no checkpoint and one in its last step just finishes, so ask it. */
    *stop = OxSimulateStopSignal();
    MPI_Allreduce(MPI_IN_PLACE, stop, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  }
  OxBatchCatchSignals(); /* OxSimulate left the default handlers */
  OxProtocolDestroy(&prot);
  OxConfigFree(&cfg);
  return (int)ierr;
}

pid_t OxBatchSpawn(char *const argv[], const char *log)
{
  pid_t pid = fork();
  if (pid != 0) return pid; /* the parent, or -1 */
  /* the child: default signal handling, output to the log */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (in >= 0) dup2(in, 0);
  if (out >= 0) {
    dup2(out, 1);
    dup2(out, 2);
  }
  execvp(argv[0], argv);
  fprintf(stderr, "oxvac: cannot start %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

void OxBatchSelfPath(char *path, size_t len)
{
  ssize_t n = readlink("/proc/self/exe", path, len - 1);
  path[n > 0 ? n : 0] = '\0';
}
