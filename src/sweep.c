/* The sweep command: options, then prepare and run, or report, or collect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oxvac/batch.h"
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/sweep.h"

static int PositiveInt(const char *s, int *v)
{
  char *end;
  long  x = strtol(s, &end, 10);
  if (end == s || *end || x < 1 || x > 1 << 20) return 0;
  *v = (int)x;
  return 1;
}

int OxCommandSweep(OxCli *cli)
{
  OxSweep           sw;
  OxSweepRunOptions o;
  const char       *file = NULL, *executor = "local", *point = NULL, *launcher = NULL;
  const char      **sets = calloc((size_t)cli->argc + 1, sizeof(char *));
  int               nset = 0, collect = 0, status = 0, check = 0, rc;
  char              err[OX_ERR_MAX], self[OX_PATH_MAX];

  memset(&o, 0, sizeof(o));
  for (int i = 0; i < cli->argc; i++) {
    const char *a = cli->argv[i], *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
    int         takes = !strcmp(a, "--executor") || !strcmp(a, "--jobs") || !strcmp(a, "--ranks") || !strcmp(a, "--set") ||
                !strcmp(a, "--run-point") || !strcmp(a, "--launcher");
    if (takes && !v) {
      free(sets);
      return OxUsageError("sweep", i + 1, a, "the option needs a value; expected %s VALUE", a);
    }
    if (!strcmp(a, "--executor")) {
      executor = v;
      if (strcmp(v, "local") && strcmp(v, "slurm")) {
        free(sets);
        return OxUsageError("sweep", i + 2, v, "not an executor; expected --executor local or --executor slurm");
      }
    } else if (!strcmp(a, "--jobs") || !strcmp(a, "--ranks")) {
      if (!PositiveInt(v, !strcmp(a, "--jobs") ? &o.jobs : &o.ranks)) {
        free(sets);
        return OxUsageError("sweep", i + 2, v, "%s needs a positive integer; expected %s N with N >= 1", a, a);
      }
    } else if (!strcmp(a, "--set")) sets[nset++] = v;
    else if (!strncmp(a, "--set=", 6)) sets[nset++] = a + 6;
    else if (!strcmp(a, "--run-point")) point = v;
    else if (!strcmp(a, "--launcher")) launcher = v;
    else if (!strcmp(a, "--dry-run")) o.dry_run = 1;
    else if (!strcmp(a, "--retry-failed")) o.retry_failed = 1;
    else if (!strcmp(a, "--collect")) collect = 1;
    else if (!strcmp(a, "--status")) status = 1;
    else if (!strcmp(a, "--check")) check = 1;
    else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) o.quiet = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      free(sets);
      OxCliUsage("sweep");
      return -1;
    } else if (a[0] == '-' || file) {
      free(sets);
      return a[0] == '-' ? OxUsageError("sweep", i + 1, a, "unknown option; expected --executor, --jobs, --ranks, --dry-run, --retry-failed, --set, --quiet, --check, --status, --collect, --run-point, --launcher or --help")
                         : OxUsageError("sweep", i + 1, a, "a second sweep file (the first is '%s'); expected one SWEEP.cfg", file);
    } else file = a;
    if (takes) i++;
  }
  if (point) {
    free(sets);
    if (file || collect || status || check) return OxUsageError("sweep", 1, cli->argc ? cli->argv[0] : NULL, "--run-point takes a point folder alone; expected oxvac sweep --run-point POINT_DIR [--retry-failed] [--launcher CMD]");
    OxBatchSelfPath(self, sizeof(self));
    return OxSweepRunPoint(self, point, o.retry_failed, launcher);
  }
  if (!file) {
    free(sets);
    return OxUsageError("sweep", cli->argc + 1, NULL, "missing SWEEP.cfg; expected a sweep file");
  }
  if (collect + status + check > 1 || ((collect || status || check) && (o.dry_run || o.retry_failed))) {
    free(sets);
    return OxUsageError("sweep", cli->argc, cli->argc ? cli->argv[cli->argc - 1] : NULL, "--check, --status and --collect only report; expected one of them alone, or a run (with --dry-run or --retry-failed)");
  }
  rc = OxSweepLoad(file, nset, sets, &sw, err, sizeof(err));
  free(sets);
  if (rc) {
    fprintf(stderr, "%s\n", err);
    OxSweepFree(&sw);
    return OX_EXIT_INPUT;
  }
  if (sw.measured[0]) { /* a measurement that cannot be read fails the sweep before anything runs */
    OxMeasured m;
    if (OxMeasuredLoad(sw.measured, &m, err, sizeof(err))) {
      fprintf(stderr, "%s:%d: key 'measured': %s\n", sw.file, sw.line_measured, err);
      OxSweepFree(&sw);
      return OX_EXIT_INPUT;
    }
    OxMeasuredFree(&m);
  }
  if (check) {
    if ((rc = OxSweepPrepare(&sw, 0, err, sizeof(err)))) fprintf(stderr, "%s\n", err);
    else {
      char label[4096];
      for (int i = 0; i < sw.npoints; i++) {
        OxSweepPointLabel(&sw, i, label, sizeof(label));
        printf("point %d: %s\n", i, label);
      }
      printf("sweep: %d points, every one a valid config; out_dir %s\n", sw.npoints, sw.out_dir);
    }
  } else if (status) rc = OxSweepStatus(&sw);
  else if (collect) rc = OxSweepCollect(&sw, o.quiet);
  else if ((rc = OxSweepPrepare(&sw, 1, err, sizeof(err)))) fprintf(stderr, "%s\n", err);
  else if (!strcmp(executor, "slurm")) rc = OxSweepSubmitSlurm(&sw, &o);
  else rc = OxSweepRunLocal(&sw, &o);
  OxSweepFree(&sw);
  return rc;
}
