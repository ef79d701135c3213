/* The sweep file, its points, and one resolved config per point. */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oxvac/atomic.h"
#include "oxvac/error.h"
#include "oxvac/batch.h"
#include "oxvac/common.h"
#include "oxvac/protocol.h"
#include "oxvac/run.h"
#include "oxvac/sweep.h"
#include "splitmix.h"

#define MAX_POINTS 100000

typedef struct {
  const char *file;
  char       *err;
  size_t      errlen;
} Ctx;

static int Fail(const Ctx *c, const config_setting_t *s, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  OxInputErrorV(c->err, c->errlen, c->file, s ? config_setting_source_line(s) : 1, key, fmt, ap);
  va_end(ap);
  return OX_EXIT_INPUT;
}

/* Unknown members of a group, with the nearest valid name. */
static int CheckKeys(const Ctx *c, const config_setting_t *g, const char *prefix, const char *const *valid)
{
  for (int i = 0; g && i < config_setting_length(g); i++) {
    const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
    const char             *name = config_setting_name(m), *best = NULL;
    int                     found = 0, bestd = INT_MAX;
    char                    key[600];
    if (!name) continue;
    for (int k = 0; valid[k]; k++) {
      int d = OxEditDistance(name, valid[k]);
      if (!d) found = 1;
      if (d < bestd) bestd = d, best = valid[k];
    }
    if (found) continue;
    snprintf(key, sizeof(key), "%s%s", prefix, name);
    if (bestd <= 3) return Fail(c, m, key, "unknown key; expected '%s%s'", prefix, best);
    return Fail(c, m, key, "unknown key; expected one of the keys of interface section 7");
  }
  return 0;
}

/* A float literal that libconfig reads back as a float (so arrays never mix types). */
static void FloatText(double v, char *buf, size_t len)
{
  snprintf(buf, len, "%.12g", v);
  if (!strpbrk(buf, ".eEn")) strncat(buf, ".0", len - strlen(buf) - 1);
}

/* Append s's value in libconfig syntax. */
static void ValueText(const config_setting_t *s, char *buf, size_t len)
{
  size_t n = strlen(buf);
  char   tmp[64];
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: snprintf(buf + n, len - n, "%lld", config_setting_get_int64(s)); break;
  case CONFIG_TYPE_FLOAT:
    FloatText(config_setting_get_float(s), tmp, sizeof(tmp));
    snprintf(buf + n, len - n, "%s", tmp);
    break;
  case CONFIG_TYPE_BOOL: snprintf(buf + n, len - n, "%s", config_setting_get_bool(s) ? "true" : "false"); break;
  case CONFIG_TYPE_STRING: {
    const char *v = config_setting_get_string(s);
    if (n + 1 < len) buf[n++] = '"';
    for (; *v && n + 3 < len; v++) {
      if (*v == '"' || *v == '\\') buf[n++] = '\\';
      buf[n++] = *v;
    }
    if (n + 1 < len) buf[n++] = '"';
    buf[n] = '\0';
  } break;
  default: { /* array, list, group */
    int         t = config_setting_type(s), k = config_setting_length(s);
    const char *open = t == CONFIG_TYPE_ARRAY ? "[" : t == CONFIG_TYPE_LIST ? "(" : "{ ";
    const char *close = t == CONFIG_TYPE_ARRAY ? "]" : t == CONFIG_TYPE_LIST ? ")" : "}";
    strncat(buf, open, len - strlen(buf) - 1);
    for (int i = 0; i < k; i++) {
      const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
      if (t == CONFIG_TYPE_GROUP) {
        strncat(buf, config_setting_name(e), len - strlen(buf) - 1);
        strncat(buf, " = ", len - strlen(buf) - 1);
      } else if (i) strncat(buf, ", ", len - strlen(buf) - 1);
      ValueText(e, buf, len);
      if (t == CONFIG_TYPE_GROUP) strncat(buf, "; ", len - strlen(buf) - 1);
    }
    strncat(buf, close, len - strlen(buf) - 1);
  }
  }
}

static int IsNumber(const config_setting_t *s)
{
  return s && (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64 || config_setting_type(s) == CONFIG_TYPE_FLOAT);
}

static int GetString(const Ctx *c, const config_setting_t *g, const char *prefix, const char *name, const char *def, char *out, size_t len)
{
  const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
  char                    key[300];
  snprintf(key, sizeof(key), "%s%s", prefix, name);
  if (!s) {
    snprintf(out, len, "%s", def);
    return 0;
  }
  if (config_setting_type(s) != CONFIG_TYPE_STRING) return Fail(c, s, key, "a %s; expected a quoted string", OxConfigSettingKind(s));
  if (strlen(config_setting_get_string(s)) >= len) return Fail(c, s, key, "too long; expected at most %zu characters", len - 1);
  snprintf(out, len, "%s", config_setting_get_string(s));
  return 0;
}

static int GetInt(const Ctx *c, const config_setting_t *g, const char *prefix, const char *name, long long def, long long lo, long long hi,
                  long long *out)
{
  const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
  char                    key[300];
  snprintf(key, sizeof(key), "%s%s", prefix, name);
  *out = def;
  if (!s) return 0;
  if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
    return Fail(c, s, key, "a %s; expected an integer in [%lld, %lld]", OxConfigSettingKind(s), lo, hi);
  *out = config_setting_get_int64(s);
  if (*out < lo || *out > hi) return Fail(c, s, key, "%lld is out of range; expected an integer in [%lld, %lld]", *out, lo, hi);
  return 0;
}

static int GetBool(const Ctx *c, const config_setting_t *g, const char *prefix, const char *name, int *out)
{
  const config_setting_t *s = config_setting_get_member(g, name);
  char                    key[600];
  snprintf(key, sizeof(key), "%s%s", prefix, name);
  *out = 0;
  if (!s) return 0;
  if (config_setting_type(s) != CONFIG_TYPE_BOOL) return Fail(c, s, key, "a %s; expected true or false", OxConfigSettingKind(s));
  *out = config_setting_get_bool(s);
  return 0;
}

/* A list of strings (set, slurm.extra, slurm.setup). */
static int GetStrings(const Ctx *c, const config_setting_t *g, const char *prefix, const char *name, int *n, char ***out, int *line)
{
  const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
  char                    key[300];
  snprintf(key, sizeof(key), "%s%s", prefix, name);
  *n   = 0;
  *out = NULL;
  if (!s) return 0;
  if (line) *line = config_setting_source_line(s);
  if (config_setting_type(s) == CONFIG_TYPE_STRING) s = NULL; /* reported below */
  if (!s || (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST))
    return Fail(c, config_setting_get_member(g, name), key, "not a list; expected an array of quoted strings, e.g. [\"a\", \"b\"]");
  *out = calloc((size_t)config_setting_length(s) + 1, sizeof(char *));
  for (int i = 0; i < config_setting_length(s); i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    if (config_setting_type(e) != CONFIG_TYPE_STRING) return Fail(c, e, key, "element %d is a %s; expected a quoted string", i, OxConfigSettingKind(e));
    (*out)[(*n)++] = strdup(config_setting_get_string(e));
  }
  return 0;
}

static const char *const kTop[]   = {"base", "out_dir", "mode", "samples", "seed", "parameters", "set", "measured", "geometry", "local", "slurm", NULL};
static const char *const kParam[] = {"path", "values", "range", "log", "count", "integer", NULL};
static const char *const kLocal[] = {"jobs", "ranks", "mpiexec", NULL};
static const char *const kSlurm[] = {"partition", "time", "ntasks", "cpus_per_task", "mem", "extra", "setup", "job_name", "array_max", "launcher", NULL};

static int ReadParam(const Ctx *c, const config_setting_t *e, int j, OxSweepMode mode, OxSweepParam *p)
{
  char                    prefix[64], key[128];
  const config_setting_t *v, *r;
  int                     rc;
  long long               count;

  snprintf(prefix, sizeof(prefix), "parameters.[%d].", j);
  p->line = config_setting_source_line(e);
  if (config_setting_type(e) != CONFIG_TYPE_GROUP)
    return Fail(c, e, "parameters", "element %d is a %s; expected a group { path = \"...\"; values = [...]; }", j, OxConfigSettingKind(e));
  if ((rc = CheckKeys(c, e, prefix, kParam))) return rc;
  if ((rc = GetString(c, e, prefix, "path", "", p->path, sizeof(p->path)))) return rc;
  snprintf(key, sizeof(key), "%spath", prefix);
  if (!p->path[0]) return Fail(c, e, key, "missing; expected the config path to sweep, e.g. \"material.diffusivity_scale\"");
  v = config_setting_get_member(e, "values");
  r = config_setting_get_member(e, "range");
  if (!!v == !!r) return Fail(c, e, key, "%s for %s; expected either values = [...] or range = [lo, hi]", v ? "both values and range" : "neither values nor range", p->path);
  if ((rc = GetBool(c, e, prefix, "log", &p->log)) || (rc = GetBool(c, e, prefix, "integer", &p->integer))) return rc;
  if ((rc = GetInt(c, e, prefix, "count", 0, 1, MAX_POINTS, &count))) return rc;
  p->count = (int)count;
  if (v) {
    snprintf(key, sizeof(key), "%svalues", prefix);
    if ((config_setting_type(v) != CONFIG_TYPE_ARRAY && config_setting_type(v) != CONFIG_TYPE_LIST) || config_setting_length(v) < 1)
      return Fail(c, v, key, "%s; expected a non-empty array or list of values", config_setting_length(v) < 1 ? "empty" : "not a list");
    p->nvalues = config_setting_length(v);
    p->values  = calloc((size_t)p->nvalues, sizeof(char *));
    for (int i = 0; i < p->nvalues; i++) {
      char buf[8192] = "";
      ValueText(config_setting_get_elem(v, (unsigned)i), buf, sizeof(buf));
      if (strlen(buf) >= sizeof(buf) - 1) return Fail(c, v, key, "value %d is too long; expected at most 8 KiB of text", i);
      p->values[i] = strdup(buf);
    }
    if (config_setting_get_member(e, "count") || p->log || p->integer)
      return Fail(c, v, key, "count, log and integer belong to a range; expected values alone");
    return 0;
  }
  snprintf(key, sizeof(key), "%srange", prefix);
  if (config_setting_type(r) != CONFIG_TYPE_ARRAY || config_setting_length(r) != 2 || !IsNumber(config_setting_get_elem(r, 0)))
    return Fail(c, r, key, "not two numbers; expected range = [lo, hi]");
  p->is_range = 1;
  p->lo       = config_setting_get_float_elem(r, 0);
  p->hi       = config_setting_get_float_elem(r, 1);
  if (config_setting_type(config_setting_get_elem(r, 0)) != CONFIG_TYPE_FLOAT) {
    p->lo = (double)config_setting_get_int64_elem(r, 0);
    p->hi = (double)config_setting_get_int64_elem(r, 1);
  }
  if (!isfinite(p->lo) || !isfinite(p->hi) || !(p->lo < p->hi)) return Fail(c, r, key, "[%g, %g]; expected finite lo < hi", p->lo, p->hi);
  if (p->log && !(p->lo > 0)) return Fail(c, r, key, "[%g, %g] with log = true; expected lo > 0", p->lo, p->hi);
  if (mode != OX_SWEEP_LHS && p->count < 1)
    return Fail(c, r, key, "a range needs its number of points in grid and zip mode; expected count = N beside it (or mode = \"lhs\")");
  if (mode == OX_SWEEP_LHS && p->count)
    return Fail(c, config_setting_get_member(e, "count"), key, "count with mode = \"lhs\"; expected the number of samples in `samples` alone");
  return 0;
}

/* Reproducible on every platform: splitmix64, in [0, 1). */
static double Uniform(uint64_t *state) { return (double)(OxSplitMix64Next(state) >> 11) * (1.0 / 9007199254740992.0); }

/* The value of parameter p at u in [0, 1] (ranges) or index k (lists). */
static char *RangeValue(const OxSweepParam *p, double u)
{
  double v = p->log ? exp(log(p->lo) + u * (log(p->hi) - log(p->lo))) : p->lo + u * (p->hi - p->lo);
  char   buf[64];
  if (p->integer) snprintf(buf, sizeof(buf), "%lld", llround(v));
  else FloatText(v, buf, sizeof(buf));
  return strdup(buf);
}

static int CountOf(const OxSweepParam *p) { return p->is_range ? p->count : p->nvalues; }

static char *ValueAt(const OxSweepParam *p, int k)
{
  if (!p->is_range) return strdup(p->values[k]);
  return RangeValue(p, p->count > 1 ? (double)k / (p->count - 1) : 0.0);
}

static int MakePoints(const Ctx *c, const config_setting_t *where, OxSweep *sw)
{
  int n = 1;
  if (sw->mode == OX_SWEEP_GRID) {
    for (int j = 0; j < sw->nparam; j++) {
      if ((long long)n * CountOf(&sw->param[j]) > MAX_POINTS) return Fail(c, where, "parameters", "more than %d points; expected a smaller sweep", MAX_POINTS);
      n *= CountOf(&sw->param[j]);
    }
  } else if (sw->mode == OX_SWEEP_ZIP) {
    n = CountOf(&sw->param[0]);
    for (int j = 1; j < sw->nparam; j++)
      if (CountOf(&sw->param[j]) != n) {
        char key[64];
        snprintf(key, sizeof(key), "parameters.[%d]", j);
        return Fail(c, where, key, "%d values for %s, %d for %s; expected the same number for every parameter in zip mode", CountOf(&sw->param[j]),
                    sw->param[j].path, n, sw->param[0].path);
      }
  } else n = sw->samples;
  sw->npoints = n;
  sw->value   = calloc((size_t)n, sizeof(char **));
  for (int i = 0; i < n; i++) sw->value[i] = calloc((size_t)sw->nparam + 1, sizeof(char *));
  if (sw->mode == OX_SWEEP_GRID) {
    for (int i = 0; i < n; i++) /* the first parameter varies slowest */
      for (int j = sw->nparam - 1, rest = i; j >= 0; j--) {
        int m = CountOf(&sw->param[j]);
        sw->value[i][j] = ValueAt(&sw->param[j], rest % m);
        rest /= m;
      }
  } else if (sw->mode == OX_SWEEP_ZIP) {
    for (int i = 0; i < n; i++)
      for (int j = 0; j < sw->nparam; j++) sw->value[i][j] = ValueAt(&sw->param[j], i);
  } else { /* Latin hypercube: one sample in each of n strata per parameter, strata shuffled */
    uint64_t           st = sw->seed;
    int               *perm = malloc((size_t)n * sizeof(int));
    for (int j = 0; j < sw->nparam; j++) {
      const OxSweepParam *p = &sw->param[j];
      for (int i = 0; i < n; i++) perm[i] = i;
      for (int i = n - 1; i > 0; i--) {
        int k = (int)(Uniform(&st) * (i + 1)), t = perm[i];
        perm[i] = perm[k < i ? k : i];
        perm[k < i ? k : i] = t;
      }
      for (int i = 0; i < n; i++) {
        double u = (perm[i] + Uniform(&st)) / n;
        if (p->is_range) sw->value[i][j] = RangeValue(p, u);
        else sw->value[i][j] = strdup(p->values[(int)fmin(floor(u * p->nvalues), p->nvalues - 1)]);
      }
    }
    free(perm);
  }
  return 0;
}

/* path relative to the folder of `file` (unless absolute). */
static void Beside(const char *file, const char *path, char *out, size_t len)
{
  const char *slash = strrchr(file, '/');
  if (path[0] == '/' || !slash) snprintf(out, len, "%s", path);
  else snprintf(out, len, "%.*s/%s", (int)(slash - file), file, path);
}

int OxSweepLoad(const char *path, int nset, const char *const *sets, OxSweep *sw, char *err, size_t errlen)
{
  Ctx                     c = {path, err, errlen};
  config_t                lc;
  const config_setting_t *root, *params, *g;
  char                    text[OX_PATH_MAX], mode[32], geometry[32];
  long long               v;
  int                     rc = 0, nfile_set = 0;
  char                  **file_set = NULL;
  FILE                   *fp;

  memset(sw, 0, sizeof(*sw));
  snprintf(sw->file, sizeof(sw->file), "%s", path);
  OxBatchSelfPath(sw->self, sizeof(sw->self));
  if (!(fp = fopen(path, "r"))) {
    snprintf(err, errlen, "%s:1: cannot open the sweep file (%s); expected a readable libconfig file", path, strerror(errno));
    return OX_EXIT_INPUT;
  }
  fclose(fp);
  config_init(&lc);
  {
    char folder[OX_PATH_MAX];
    Beside(path, ".", folder, sizeof(folder));
    config_set_include_dir(&lc, folder);
  }
  if (!config_read_file(&lc, path)) {
    snprintf(err, errlen, "%s:%d: syntax error: %s; expected valid libconfig syntax", config_error_file(&lc) ? config_error_file(&lc) : path,
             config_error_line(&lc), config_error_text(&lc) ? config_error_text(&lc) : "unreadable");
    config_destroy(&lc);
    return OX_EXIT_INPUT;
  }
  root = config_root_setting(&lc);
  if ((rc = CheckKeys(&c, root, "", kTop))) goto done;
  if ((rc = GetString(&c, root, "", "base", "", text, sizeof(text)))) goto done;
  if (!text[0]) {
    rc = Fail(&c, NULL, "base", "missing; expected base = \"CONFIG.cfg\" (relative to the sweep file's folder)");
    goto done;
  }
  sw->line_base = config_setting_get_member(root, "base") ? config_setting_source_line(config_setting_get_member(root, "base")) : 1;
  Beside(path, text, sw->base, sizeof(sw->base));
  {
    /* default out_dir: the sweep file without .cfg, beside it */
    char        def[OX_PATH_MAX];
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    size_t      n     = strlen(name);
    snprintf(def, sizeof(def), "%.*s.sweep", (int)(n > 4 && !strcmp(name + n - 4, ".cfg") ? n - 4 : n), name);
    if ((rc = GetString(&c, root, "", "out_dir", def, text, sizeof(text)))) goto done;
    if (!text[0]) {
      rc = Fail(&c, config_setting_get_member(root, "out_dir"), "out_dir", "empty; expected a folder for the points");
      goto done;
    }
    Beside(path, text, sw->out_dir, sizeof(sw->out_dir));
    sw->line_out = config_setting_get_member(root, "out_dir") ? config_setting_source_line(config_setting_get_member(root, "out_dir")) : 1;
  }
  if ((rc = GetString(&c, root, "", "mode", "grid", mode, sizeof(mode)))) goto done;
  if (!strcmp(mode, "grid")) sw->mode = OX_SWEEP_GRID;
  else if (!strcmp(mode, "zip")) sw->mode = OX_SWEEP_ZIP;
  else if (!strcmp(mode, "lhs")) sw->mode = OX_SWEEP_LHS;
  else {
    rc = Fail(&c, config_setting_get_member(root, "mode"), "mode", "\"%s\"; expected \"grid\", \"zip\" or \"lhs\"", mode);
    goto done;
  }
  if ((rc = GetInt(&c, root, "", "samples", 0, 1, MAX_POINTS, &v))) goto done;
  sw->samples = (int)v;
  if (sw->mode == OX_SWEEP_LHS && !sw->samples) {
    rc = Fail(&c, NULL, "samples", "missing with mode = \"lhs\"; expected samples = N");
    goto done;
  }
  if ((rc = GetInt(&c, root, "", "seed", 1, 0, LLONG_MAX, &v))) goto done;
  sw->seed = (unsigned long long)v;
  params   = config_setting_get_member(root, "parameters");
  if (!params || (config_setting_type(params) != CONFIG_TYPE_LIST && config_setting_type(params) != CONFIG_TYPE_ARRAY) || config_setting_length(params) < 1) {
    rc = Fail(&c, params, "parameters", "%s; expected a list of { path = \"...\"; values = [...]; } groups", params ? "not a non-empty list" : "missing");
    goto done;
  }
  sw->nparam = config_setting_length(params);
  sw->param  = calloc((size_t)sw->nparam, sizeof(OxSweepParam));
  for (int j = 0; j < sw->nparam; j++) {
    if ((rc = ReadParam(&c, config_setting_get_elem(params, (unsigned)j), j, sw->mode, &sw->param[j]))) goto done;
    for (int k = 0; k < j; k++)
      if (!strcmp(sw->param[k].path, sw->param[j].path)) {
        char key[64];
        snprintf(key, sizeof(key), "parameters.[%d].path", j);
        rc = Fail(&c, config_setting_get_elem(params, (unsigned)j), key, "\"%s\" is swept twice (also parameters.[%d]); expected each path once",
                  sw->param[j].path, k);
        goto done;
      }
  }
  if ((rc = GetStrings(&c, root, "", "set", &nfile_set, &file_set, &sw->line_set))) goto done;
  sw->set = calloc((size_t)(nfile_set + nset) + 1, sizeof(char *));
  for (int i = 0; i < nfile_set; i++) sw->set[sw->nset++] = file_set[i];
  for (int i = 0; i < nset; i++) sw->set[sw->nset++] = strdup(sets[i]);
  free(file_set);
  file_set = NULL;
  if ((rc = GetString(&c, root, "", "measured", "", text, sizeof(text)))) goto done;
  if (text[0]) {
    Beside(path, text, sw->measured, sizeof(sw->measured));
    sw->line_measured = config_setting_source_line(config_setting_get_member(root, "measured"));
  }
  if ((rc = GetString(&c, root, "", "geometry", "lamella", geometry, sizeof(geometry)))) goto done;
  if (!strcmp(geometry, "lamella")) sw->geometry = OX_GEOMETRY_LAMELLA;
  else if (!strcmp(geometry, "3d")) sw->geometry = OX_GEOMETRY_3D;
  else {
    rc = Fail(&c, config_setting_get_member(root, "geometry"), "geometry", "\"%s\"; expected \"lamella\" or \"3d\"", geometry);
    goto done;
  }
  g = config_setting_get_member(root, "local");
  if ((rc = CheckKeys(&c, g, "local.", kLocal))) goto done;
  if ((rc = GetInt(&c, g, "local.", "jobs", 1, 1, 4096, &v))) goto done;
  sw->local.jobs = (int)v;
  if ((rc = GetInt(&c, g, "local.", "ranks", 1, 1, 1 << 20, &v))) goto done;
  sw->local.ranks = (int)v;
  if ((rc = GetString(&c, g, "local.", "mpiexec", "mpiexec", sw->local.mpiexec, sizeof(sw->local.mpiexec)))) goto done;
  g = config_setting_get_member(root, "slurm");
  if ((rc = CheckKeys(&c, g, "slurm.", kSlurm))) goto done;
  if ((rc = GetString(&c, g, "slurm.", "partition", "", sw->slurm.partition, sizeof(sw->slurm.partition)))) goto done;
  if ((rc = GetString(&c, g, "slurm.", "time", "04:00:00", sw->slurm.time, sizeof(sw->slurm.time)))) goto done;
  if ((rc = GetString(&c, g, "slurm.", "mem", "4G", sw->slurm.mem, sizeof(sw->slurm.mem)))) goto done;
  if ((rc = GetString(&c, g, "slurm.", "job_name", "oxvac-sweep", sw->slurm.job_name, sizeof(sw->slurm.job_name)))) goto done;
  if ((rc = GetString(&c, g, "slurm.", "launcher", "srun", sw->slurm.launcher, sizeof(sw->slurm.launcher)))) goto done;
  if ((rc = GetInt(&c, g, "slurm.", "ntasks", 1, 1, 1 << 20, &v))) goto done;
  sw->slurm.ntasks = (int)v;
  if ((rc = GetInt(&c, g, "slurm.", "cpus_per_task", 1, 1, 4096, &v))) goto done;
  sw->slurm.cpus_per_task = (int)v;
  if ((rc = GetInt(&c, g, "slurm.", "array_max", 0, 0, MAX_POINTS, &v))) goto done;
  sw->slurm.array_max = (int)v;
  if ((rc = GetStrings(&c, g, "slurm.", "extra", &sw->slurm.nextra, &sw->slurm.extra, NULL))) goto done;
  if ((rc = GetStrings(&c, g, "slurm.", "setup", &sw->slurm.nsetup, &sw->slurm.setup, NULL))) goto done;
  for (int i = 0; i < sw->slurm.nextra + sw->slurm.nsetup; i++) {
    const char *s = i < sw->slurm.nextra ? sw->slurm.extra[i] : sw->slurm.setup[i - sw->slurm.nextra];
    if (strchr(s, '\n'))
      rc = Fail(&c, g, i < sw->slurm.nextra ? "slurm.extra" : "slurm.setup", "a line break inside \"%s\"; expected one line per element", s);
  }
  if (rc) goto done;
  rc = MakePoints(&c, params, sw);
done:
  if (file_set)
    for (int i = 0; file_set[i]; i++) free(file_set[i]);
  free(file_set);
  config_destroy(&lc);
  return rc;
}

void OxSweepFree(OxSweep *sw)
{
  for (int j = 0; j < sw->nparam; j++) {
    for (int k = 0; k < sw->param[j].nvalues; k++) free(sw->param[j].values[k]);
    free(sw->param[j].values);
  }
  for (int i = 0; i < sw->npoints; i++) {
    for (int j = 0; j < sw->nparam; j++) free(sw->value[i][j]);
    free(sw->value[i]);
  }
  for (int i = 0; i < sw->nset; i++) free(sw->set[i]);
  for (int i = 0; i < sw->slurm.nextra; i++) free(sw->slurm.extra[i]);
  for (int i = 0; i < sw->slurm.nsetup; i++) free(sw->slurm.setup[i]);
  free(sw->slurm.extra);
  free(sw->slurm.setup);
  free(sw->set);
  free(sw->value);
  free(sw->param);
  memset(sw, 0, sizeof(*sw));
}

void OxSweepPointDir(const OxSweep *sw, int i, char *dir, size_t len) { snprintf(dir, len, "%s/point_%04d", sw->out_dir, i); }

void OxSweepPointLabel(const OxSweep *sw, int i, char *buf, size_t len)
{
  buf[0] = '\0';
  for (int j = 0; j < sw->nparam; j++) {
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s%s=%s", j ? ", " : "", sw->param[j].path, sw->value[i][j]);
  }
}

int OxSweepWriteFile(const char *path, const char *text)
{
  OxAtomic a;
  FILE    *fp = OxAtomicOpen(&a, path);
  if (!fp) return -1;
  return OxAtomicClose(&a, fp, fputs(text, fp) >= 0);
}

static int MakeDirs(const char *path)
{
  char buf[OX_PATH_MAX];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0755) && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

/* Past the leading comment lines. */
static const char *SkipComments(const char *text)
{
  while (*text == '#') {
    const char *nl = strchr(text, '\n');
    text           = nl ? nl + 1 : text + strlen(text);
  }
  return text;
}

/* The resolved config of a file, without its leading comment lines. */
static char *ReadBody(const char *path)
{
  FILE  *fp = fopen(path, "r");
  char  *text, *body;
  long   n;
  if (!fp) return NULL;
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  rewind(fp);
  text = calloc((size_t)n + 1, 1);
  if (text && fread(text, 1, (size_t)n, fp) != (size_t)n) text[0] = '\0';
  fclose(fp);
  body = text ? (char *)SkipComments(text) : NULL;
  if (body && body != text) memmove(text, body, strlen(body) + 1);
  return text;
}

/* The line of the sweep file a point's message is about: the parameter whose path its key names, else `set`, else `base`. */
static int LineOf(const OxSweep *sw, const OxInputErrorWhere *w)
{
  if (w->set && w->key[0]) {
    for (int j = 0; j < sw->nparam; j++) {
      size_t n = strlen(sw->param[j].path);
      if (!strncmp(w->key, sw->param[j].path, n) && (w->key[n] == '\0' || w->key[n] == '.')) return sw->param[j].line;
    }
    if (!strcmp(w->file, "--set") && sw->line_set) return sw->line_set;
  }
  return sw->line_base;
}

/* Resolve and check every point (its config text in text[i]); 0, or 2 with the first invalid point in err. */
static int ResolvePoints(const OxSweep *sw, char **text, char *err, size_t errlen)
{
  const char **sets = calloc((size_t)(sw->nset + sw->nparam + 2), sizeof(char *));
  char       **vs   = calloc((size_t)sw->nparam + 1, sizeof(char *));
  char         dir[OX_PATH_MAX], outset[OX_PATH_MAX + 64], msg[OX_ERR_MAX], label[4096];
  int          rc = 0;

  for (int i = 0; i < sw->npoints && !rc; i++) {
    OxConfig   cfg;
    OxProtocol prot;
    int        n = 0;
    memset(&cfg, 0, sizeof(cfg));
    memset(&prot, 0, sizeof(prot));
    for (int k = 0; k < sw->nset; k++) sets[n++] = sw->set[k];
    for (int j = 0; j < sw->nparam; j++) {
      vs[j] = malloc(strlen(sw->param[j].path) + strlen(sw->value[i][j]) + 2);
      sprintf(vs[j], "%s=%s", sw->param[j].path, sw->value[i][j]);
      sets[n++] = vs[j];
    }
    OxSweepPointDir(sw, i, dir, sizeof(dir));
    snprintf(outset, sizeof(outset), "output.file=\"%s/result.h5\"", dir);
    sets[n++] = outset;
    free(text[i]);
    text[i] = NULL;
    OxInputErrorForget();
    if (OxLoadInputsMessage(sw->base, n, sets, &cfg, &prot, msg, sizeof(msg))) {
      /* an override's own location ("--set:N: ") means nothing to the user: the sweep file's line says where */
      OxInputErrorWhere w   = *OxInputErrorLast();
      const char       *why = msg;
      if (w.set && !strcmp(w.file, "--set") && w.location <= strlen(msg)) why = msg + w.location;
      OxSweepPointLabel(sw, i, label, sizeof(label));
      OxInputError(err, errlen, sw->file, LineOf(sw, &w), NULL, "point %d of %d (%s) is invalid, so nothing was run: %s", i, sw->npoints, label, why);
      rc = OX_EXIT_INPUT;
    } else text[i] = OxConfigToString(&cfg);
    OxProtocolDestroy(&prot);
    OxConfigFree(&cfg);
    for (int j = 0; j < sw->nparam; j++) free(vs[j]);
  }
  free(vs);
  free(sets);
  return rc;
}

int OxSweepPrepare(OxSweep *sw, int write, char *err, size_t errlen)
{
  char **text = calloc((size_t)sw->npoints, sizeof(char *));
  char   dir[OX_PATH_MAX], path[OX_PATH_MAX + 32], label[4096];
  int    rc;

  /* Every point is checked before anything is written, out_dir included;
   * then the points are resolved again with out_dir's absolute path. */
  rc = ResolvePoints(sw, text, err, errlen);
  if (!rc && write && MakeDirs(sw->out_dir)) {
    snprintf(err, errlen, "%s:%d: key 'out_dir': cannot create %s (%s); expected a writable folder", sw->file, sw->line_out, sw->out_dir,
             strerror(errno));
    rc = OX_EXIT_INPUT;
  }
  if (!rc) {
    char *abs = realpath(sw->out_dir, NULL);
    if (abs && strcmp(abs, sw->out_dir)) {
      snprintf(sw->out_dir, sizeof(sw->out_dir), "%s", abs);
      rc = ResolvePoints(sw, text, err, errlen);
    }
    free(abs);
  }
  /* A folder of another sweep is never overwritten. */
  for (int i = 0; i < sw->npoints && !rc && write; i++) {
    char *old;
    OxSweepPointDir(sw, i, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/config.cfg", dir);
    old = ReadBody(path);
    if (old && strcmp(old, SkipComments(text[i]))) {
      OxPointState st;
      OxPointStateRead(dir, &st);
      snprintf(path, sizeof(path), "%s/result.h5", dir);
      if (st.state != OX_POINT_PENDING || access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s:%d: key 'out_dir': %s holds a different sweep (point %d's config.cfg differs from this sweep's, and the point has run); expected this sweep's own out_dir (a new one for a changed sweep)",
                 sw->file, sw->line_out, sw->out_dir, i);
        rc = OX_EXIT_INPUT;
      }
    }
    free(old);
  }
  for (int i = 0; i < sw->npoints && !rc && write; i++) {
    char  *old, *file;
    size_t len;
    OxSweepPointDir(sw, i, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/config.cfg", dir);
    old = ReadBody(path);
    if (old && !strcmp(old, SkipComments(text[i]))) { /* unchanged: leave it as it is */
      free(old);
      continue;
    }
    free(old);
    OxSweepPointLabel(sw, i, label, sizeof(label));
    len  = strlen(text[i]) + strlen(label) + 3 * strlen(dir) + strlen(sw->file) + 256;
    file = malloc(len);
    snprintf(file, len,
             "# oxvac sweep %s, point %d of %d: %s\n# run by hand: oxvac run %s/config.cfg -o %s/result.h5 (or oxvac sweep --run-point %s)\n%s",
             sw->file, i, sw->npoints, label, dir, dir, dir, text[i]);
    if (MakeDirs(dir) || OxSweepWriteFile(path, file)) {
      snprintf(err, errlen, "%s:%d: key 'out_dir': cannot write %s (%s); expected a writable folder", sw->file, sw->line_out, path, strerror(errno));
      rc = OX_EXIT_INPUT;
    }
    free(file);
  }
  if (!rc && write) { /* the index of points, for people */
    size_t cap = 4096, n = 0;
    char  *csv = malloc(cap);
    n += (size_t)snprintf(csv, cap, "index");
    for (int j = 0; j < sw->nparam; j++) {
      while (n + strlen(sw->param[j].path) + 8 > cap) csv = realloc(csv, cap *= 2);
      n += (size_t)sprintf(csv + n, ",%s", sw->param[j].path);
    }
    csv[n++] = '\n';
    for (int i = 0; i < sw->npoints; i++) {
      OxSweepPointLabel(sw, i, label, sizeof(label));
      while (n + strlen(label) + 32 > cap) csv = realloc(csv, cap *= 2);
      n += (size_t)sprintf(csv + n, "%d", i);
      for (int j = 0; j < sw->nparam; j++) { /* a value with a comma or a quote is a quoted CSV cell */
        const char *v = sw->value[i][j];
        while (n + 2 * strlen(v) + 8 > cap) csv = realloc(csv, cap *= 2);
        csv[n++] = ',';
        if (strpbrk(v, ",\"")) {
          csv[n++] = '"';
          for (; *v; v++) {
            if (*v == '"') csv[n++] = '"';
            csv[n++] = *v;
          }
          csv[n++] = '"';
        } else n += (size_t)sprintf(csv + n, "%s", v);
      }
      csv[n++] = '\n';
    }
    csv[n] = '\0';
    snprintf(path, sizeof(path), "%s/points.csv", sw->out_dir);
    if (OxSweepWriteFile(path, csv)) {
      snprintf(err, errlen, "%s:%d: key 'out_dir': cannot write %s (%s); expected a writable folder", sw->file, sw->line_out, path, strerror(errno));
      rc = OX_EXIT_INPUT;
    }
    free(csv);
  }
  for (int i = 0; i < sw->npoints; i++) free(text[i]);
  free(text);
  return rc;
}
