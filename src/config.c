/**
 * @file config.c
 * @brief Reading, overriding, defaulting and validating the run configuration
 *        (docs/interface.md section 3), and printing it back.
 *
 * The file is walked group by group. Each group first has its member names
 * checked against the key table (config_keys.c: the same table drives the
 * "did you mean" suggestion); then every key is read through one of a few
 * typed readers (number, integer, string, choice, array, table) that take the
 * key's default, range and choices from the table, fill the default when the
 * key is absent and write the one error message when it is wrong. Every
 * reader returns 0 or 2, and the first error ends the walk. The printer walks
 * the same table.
 */
#define _XOPEN_SOURCE 700 /* realpath, strdup */

#include "oxvac/config.h"
#include "oxvac/config_keys.h"
#include "oxvac/error.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAX 256         /* longest key path shown in a message */
#define KIDS_MAX 64         /* keys of one group */
#define SECONDS_PER_MIN 60.0
#define SECONDS_PER_H 3600.0

#if defined(__GNUC__)
#define OX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OX_PRINTF(f, a)
#endif

/** Return the status of `call` from the enclosing function when it is not 0. */
#define TRY(call)                                                                                  \
  do {                                                                                             \
    int ox_rc_ = (call);                                                                           \
    if (ox_rc_) return ox_rc_;                                                                     \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
  const char *file; /* the config path as given, for messages */
  char *err;
  size_t errlen;
  unsigned *rank;   /* where the last failure stands in file order (ReadAll); may be NULL */
} Ctx;

/*
 * File order of a failure (ReadAll reports the first): a defect in a key the
 * file holds ranks by its line; one in a --set after every line of the file;
 * a required key that is missing after both, since it has no line of its own.
 */
#define RANK_SET 0x40000000u
#define RANK_MISSING 0x80000000u

static int VFailAt(const Ctx *ctx, const char *file, unsigned line, const char *key,
                   const char *fmt, va_list ap)
{
  if (ctx->rank) *ctx->rank = (strcmp(file, "--set") ? 0 : RANK_SET) + (line & 0x3fffffffu);
  return OxInputErrorV(ctx->err, ctx->errlen, file, (int)line, key, fmt, ap);
}

/** An @include'd file as libconfig names it (relative to the config's folder) as a path from here. */
static void IncludedPath(const char *config, const char *inc, char *out, size_t outlen)
{
  const char *slash = strrchr(config, '/');
  size_t dirlen = (inc[0] != '/' && slash) ? (size_t)(slash - config + 1) : 0, n = 0;
  if (!outlen) return;
  /* cut short when too long: the message names what fits */
  for (size_t i = 0; i < dirlen && n + 1 < outlen; i++) out[n++] = config[i];
  for (const char *p = inc; *p && n + 1 < outlen; p++) out[n++] = *p;
  out[n] = '\0';
}

/**
 * Where a message about setting s points. A setting written by a --set (or
 * inside one) points at that --set, since the file never held it; otherwise
 * the nearest line the parser recorded, or line 1.
 */
static void Locate(const Ctx *ctx, const config_setting_t *s, char *file, size_t filelen,
                   unsigned *line)
{
  for (const config_setting_t *p = s; p; p = config_setting_parent(p)) {
    intptr_t set = (intptr_t)config_setting_get_hook(p);
    if (set > 0) {
      snprintf(file, filelen, "--set");
      *line = (unsigned)set;
      return;
    }
  }
  snprintf(file, filelen, "%s", ctx->file);
  *line = 1;
  for (const config_setting_t *p = s; p; p = config_setting_parent(p)) {
    if (config_setting_source_line(p) == 0) continue;
    *line = config_setting_source_line(p);
    /* libconfig names an @include'd file as written, relative to the config's folder. */
    const char *inc = config_setting_source_file(p);
    if (inc && strcmp(inc, ctx->file)) IncludedPath(ctx->file, inc, file, filelen);
    return;
  }
}

/** Write "FILE:LINE: key 'KEY': <fmt>" for setting `at` and return 2. */
OX_PRINTF(4, 5)
static int Fail(const Ctx *ctx, const config_setting_t *at, const char *key, const char *fmt, ...)
{
  char file[OX_PATH_MAX];
  unsigned line;
  Locate(ctx, at, file, sizeof file, &line);
  va_list ap;
  va_start(ap, fmt);
  VFailAt(ctx, file, line, key, fmt, ap);
  va_end(ap);
  return 2;
}

/** Write "--set:N: key 'KEY': <fmt>" and return 2. */
OX_PRINTF(4, 5)
static int FailSet(const Ctx *ctx, int index, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  VFailAt(ctx, "--set", (unsigned)index, key, fmt, ap);
  va_end(ap);
  return 2;
}

const char *OxConfigSettingKind(const config_setting_t *s)
{
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: return "an integer";
  case CONFIG_TYPE_FLOAT: return "a float";
  case CONFIG_TYPE_STRING: return "a string";
  case CONFIG_TYPE_BOOL: return "a boolean";
  case CONFIG_TYPE_GROUP: return "a group";
  case CONFIG_TYPE_ARRAY: return "an array";
  case CONFIG_TYPE_LIST: return "a list";
  default: return "an empty setting";
  }
}

/* ------------------------------------------------------------------------ */
/* Names: lookup, listing and the nearest-name suggestion                   */
/* ------------------------------------------------------------------------ */

static int IndexOf(const char *const *names, const char *name)
{
  for (int i = 0; names[i]; i++)
    if (!strcmp(names[i], name)) return i;
  return -1;
}

/** names joined by ", ", each wrapped in `quote`. */
static void JoinNames(char *out, size_t outlen, const char *const *names, const char *quote)
{
  size_t len = 0;
  out[0] = '\0';
  for (int i = 0; names[i] && len < outlen; i++) {
    int n = snprintf(out + len, outlen - len, "%s%s%s%s", i ? ", " : "", quote, names[i], quote);
    if (n < 0) break;
    len += (size_t)n;
  }
}

/* Case-insensitive edit distance (config.h); also used by fit for --param suggestions. */
int OxEditDistance(const char *a, const char *b)
{
  enum { N = 128 };
  size_t la = strlen(a), lb = strlen(b);
  if (la >= N || lb >= N) return INT_MAX;
  int row[N], prev[N];
  for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      int best = prev[j - 1] + cost;
      if (prev[j] + 1 < best) best = prev[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
    }
    memcpy(prev, row, sizeof(int) * (lb + 1));
  }
  return prev[lb];
}

/**
 * The valid name a misspelt `name` most likely meant, or NULL when none is
 * close: a few edits (more for longer names) or a prefix ("voxel" of "voxel_nm").
 */
static const char *Nearest(const char *name, const char *const *valid)
{
  size_t len = strlen(name);
  const char *best = NULL;
  int bestd = (int)(1 + len / 4) + 1;
  for (int i = 0; valid[i]; i++) {
    int d = OxEditDistance(name, valid[i]);
    if (len >= 3 && !strncmp(valid[i], name, len)) d = 1;
    if (d < bestd && d < (int)len) { /* "w" is one edit from every one-letter name */
      bestd = d;
      best = valid[i];
    }
  }
  return best;
}

/* ------------------------------------------------------------------------ */
/* Groups: a view of one group of the file with its path                    */
/* ------------------------------------------------------------------------ */

typedef struct {
  const Ctx *ctx;
  const config_setting_t *set;    /* the group; NULL when absent */
  const config_setting_t *anchor; /* nearest present setting: where "missing" points */
  char path[KEY_MAX];             /* "material.formula"; "" for the root */
} Group;

/** out = "path.name" (or "name" at the root), cut at KEY_MAX: a key only appears in messages. */
static void Join(char *out, const char *path, const char *name)
{
  size_t n = 0;
  for (const char *p = path; *p && n < KEY_MAX - 1; p++) out[n++] = *p;
  if (path[0] && n < KEY_MAX - 1) out[n++] = '.';
  for (const char *p = name; *p && n < KEY_MAX - 1; p++) out[n++] = *p;
  out[n] = '\0';
}

static const config_setting_t *Member(const Group *g, const char *name)
{
  return g->set ? config_setting_get_member(g->set, name) : NULL;
}

/** Rank the failure just written (status rc) as a missing key: after every present one. */
static int MarkMissing(const Ctx *ctx, int rc)
{
  if (ctx->rank) *ctx->rank |= RANK_MISSING;
  return rc;
}

static int Missing(const Group *g, const char *name, const char *hint)
{
  char key[KEY_MAX];
  Join(key, g->path, name);
  return MarkMissing(g->ctx, Fail(g->ctx, g->anchor, key, "missing; expected %s", hint));
}

static int NoMemory(const Group *g, const char *key)
{
  return Fail(g->ctx, g->anchor, key, "out of memory; expected a smaller configuration");
}

/** The group `name` of g; sub->set is NULL when absent, an error when not a group. */
static int SubGroup(const Group *g, const char *name, Group *sub)
{
  const config_setting_t *s = Member(g, name);
  sub->ctx = g->ctx;
  Join(sub->path, g->path, name);
  if (s && !config_setting_is_group(s))
    return Fail(g->ctx, s, sub->path, "expected a group, got %s; write %s = { ... };", OxConfigSettingKind(s),
                name);
  sub->set = s;
  sub->anchor = s ? s : g->anchor;
  return 0;
}

/** Element i of the list `name` of g, which must be a group. */
static int ElemGroup(const Group *g, const char *name, const config_setting_t *list, int i,
                     Group *el)
{
  const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
  char base[KEY_MAX], index[24];
  Join(base, g->path, name);
  snprintf(index, sizeof index, "[%d]", i);
  Join(el->path, base, index);
  el->ctx = g->ctx;
  el->set = s;
  el->anchor = s;
  if (!config_setting_is_group(s))
    return Fail(g->ctx, s, el->path, "expected a group, got %s; write each element as { ... }",
                OxConfigSettingKind(s));
  return 0;
}

/**
 * Every member of g must be a key of its group in the key table, for the
 * group's variant `variant` (the value of its type or model; NULL when the
 * group has none). `what` names the kind of group when the valid keys depend
 * on it (a "rest" step), so the message says why.
 */
static int CheckKeys(const Group *g, const char *variant, const char *what)
{
  const OxConfigKey *kids[KIDS_MAX];
  const char *valid[KIDS_MAX + 1];
  if (!g->set) return 0;
  int nkids = OxConfigKeyChildren(g->path, variant, kids, KIDS_MAX);
  for (int i = 0; i < nkids; i++) valid[i] = OxConfigKeyName(kids[i]);
  valid[nkids] = NULL;
  for (int i = 0; i < config_setting_length(g->set); i++) {
    const config_setting_t *s = config_setting_get_elem(g->set, (unsigned)i);
    const char *name = config_setting_name(s);
    if (IndexOf(valid, name) >= 0) continue;
    char key[KEY_MAX], where[64] = "";
    Join(key, g->path, name);
    if (what) snprintf(where, sizeof where, " for %s", what);
    const char *near = Nearest(name, valid);
    if (near) {
      char suggestion[KEY_MAX];
      Join(suggestion, g->path, near);
      return Fail(g->ctx, s, key, "unknown key%s; did you mean '%s'?", where, suggestion);
    }
    char list[512];
    JoinNames(list, sizeof list, valid, "");
    return Fail(g->ctx, s, key, "unknown key%s; expected one of %s", where, list);
  }
  return 0;
}

/** A list of groups that must be present and non-empty (protocol steps, secondaries). */
static int GroupList(const Group *g, const char *name, const char *empty, const char *hint,
                     const config_setting_t **list, int *n)
{
  const config_setting_t *s = Member(g, name);
  char key[KEY_MAX];
  Join(key, g->path, name);
  if (!s) return MarkMissing(g->ctx, Fail(g->ctx, g->anchor, key, "missing: %s; expected %s", empty, hint));
  int aggregate = config_setting_is_list(s) || config_setting_is_array(s);
  if (aggregate && config_setting_length(s) == 0)
    return Fail(g->ctx, s, key, "%s; expected %s", empty, hint);
  if (!config_setting_is_list(s))
    return Fail(g->ctx, s, key, "expected a list ( { ... }, ... ), got %s; expected %s",
                OxConfigSettingKind(s), hint);
  const OxConfigKey *k = OxConfigKeyFind(key);
  if (k && config_setting_length(s) > k->len_max)
    return Fail(g->ctx, s, key, "has %d elements; expected at most %d", config_setting_length(s), k->len_max);
  *list = s;
  *n = config_setting_length(s);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Typed readers                                                            */
/* ------------------------------------------------------------------------ */

/**
 * The table entry of key `name` of g. The reader asks only for keys of the
 * table: one missing is a bug in oxvac, not in the config.
 */
static const OxConfigKey *KeyOf(const Group *g, const char *name)
{
  char key[KEY_MAX];
  Join(key, g->path, name);
  const OxConfigKey *k = OxConfigKeyFind(key);
  if (!k) {
    fprintf(stderr, "oxvac: internal error: key '%s' is not in the key table (src/config_keys.c)\n",
            key);
    abort();
  }
  return k;
}

/** The allowed interval of k in words after "a number" / "integers": " > 0", "" for any. */
typedef struct {
  char text[256];
} Cond;

static Cond CondOf(const OxConfigKey *k)
{
  Cond c;
  OxConfigKeyRangeText(k, c.text, sizeof c.text);
  return c;
}

/** Convert s to a number in k's range; `where` says which element ("" or " at index 2"). */
static int ToNumber(const Ctx *ctx, const config_setting_t *s, const char *key, const char *where,
                    const OxConfigKey *k, double *out)
{
  double v;
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT: v = config_setting_get_int(s); break;
  case CONFIG_TYPE_INT64: v = (double)config_setting_get_int64(s); break;
  case CONFIG_TYPE_FLOAT: v = config_setting_get_float(s); break;
  default:
    return Fail(ctx, s, key, "expected a number%s, got %s; give a number%s", where, OxConfigSettingKind(s),
                CondOf(k).text);
  }
  /* A 0 where 0 is not allowed: the reader says so in its own words. */
  if (!(v == 0 && (k->flags & OX_KEY_NONZERO)) && !OxConfigKeyInRange(k, v))
    return Fail(ctx, s, key, "%g%s is out of range; expected a number%s", v, where, CondOf(k).text);
  *out = v;
  return 0;
}

/** Convert s to an integer in k's range; a float is accepted when it has no fraction. */
static int ToInt(const Ctx *ctx, const config_setting_t *s, const char *key, const char *where,
                 const OxConfigKey *k, long long *out)
{
  long long v;
  double f;
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT: v = config_setting_get_int(s); break;
  case CONFIG_TYPE_INT64: v = config_setting_get_int64(s); break;
  case CONFIG_TYPE_FLOAT:
    f = config_setting_get_float(s);
    if (!(f == floor(f) && fabs(f) < 9.2e18))
      return Fail(ctx, s, key, "expected an integer%s, got %g; give an integer%s", where, f,
                  CondOf(k).text);
    v = (long long)f;
    break;
  default:
    return Fail(ctx, s, key, "expected an integer%s, got %s; give an integer%s", where,
                OxConfigSettingKind(s), CondOf(k).text);
  }
  if (!OxConfigKeyInRange(k, (double)v))
    return Fail(ctx, s, key, "%lld%s is out of range; expected an integer%s", v, where,
                CondOf(k).text);
  *out = v;
  return 0;
}

/**
 * Number `name` of g in its range: absent, an error naming `hint` when hint
 * is given (a required key), else its default (0 for a key without one).
 */
static int ReadNumber(const Group *g, const char *name, const char *hint, double *out)
{
  const OxConfigKey *k = KeyOf(g, name);
  const config_setting_t *s = Member(g, name);
  char key[KEY_MAX];
  Join(key, g->path, name);
  if (!s) {
    if (hint) return Missing(g, name, hint);
    *out = k->def;
    return 0;
  }
  return ToNumber(g->ctx, s, key, "", k, out);
}

/** Integer `name` of g, as ReadNumber. */
static int ReadInt(const Group *g, const char *name, const char *hint, long long *out)
{
  const OxConfigKey *k = KeyOf(g, name);
  const config_setting_t *s = Member(g, name);
  char key[KEY_MAX];
  Join(key, g->path, name);
  if (!s) {
    if (hint) return Missing(g, name, hint);
    *out = (long long)k->def;
    return 0;
  }
  return ToInt(g->ctx, s, key, "", k, out);
}

/** Boolean `name` of g (true/false): its default when absent. */
static int ReadBool(const Group *g, const char *name, int *out)
{
  const OxConfigKey *k = KeyOf(g, name);
  const config_setting_t *s = Member(g, name);
  char key[KEY_MAX];
  Join(key, g->path, name);
  if (!s) {
    *out = k->def != 0;
    return 0;
  }
  if (config_setting_type(s) != CONFIG_TYPE_BOOL)
    return Fail(g->ctx, s, key, "expected true or false, got %s; give true or false (no quotes)",
                OxConfigSettingKind(s));
  *out = config_setting_get_bool(s);
  return 0;
}

/** The string setting s, or an error. */
static int StringOf(const Ctx *ctx, const config_setting_t *s, const char *key, const char **out)
{
  if (config_setting_type(s) != CONFIG_TYPE_STRING)
    return Fail(ctx, s, key, "expected a string, got %s; give a quoted string such as \"text\"",
                OxConfigSettingKind(s));
  *out = config_setting_get_string(s);
  return 0;
}

/** String `name` of g into out (size outlen), as ReadNumber; "" only when the key allows it. */
static int ReadString(const Group *g, const char *name, const char *hint, char *out,
                      size_t outlen)
{
  const OxConfigKey *k = KeyOf(g, name);
  const config_setting_t *s = Member(g, name);
  const char *v = k->def_str ? k->def_str : "";
  char key[KEY_MAX];
  Join(key, g->path, name);
  if (!s && hint) return Missing(g, name, hint);
  if (s) TRY(StringOf(g->ctx, s, key, &v));
  if (!v[0] && !(k->flags & OX_KEY_EMPTY_OK))
    return Fail(g->ctx, s, key, "empty string; expected a non-empty string");
  if (strlen(v) >= outlen)
    return Fail(g->ctx, s, key, "%zu characters long; expected at most %zu characters", strlen(v),
                outlen - 1);
  memcpy(out, v, strlen(v) + 1);
  return 0;
}

/**
 * String `name` of g that must be one of its choices; *out is its index (the
 * default's when absent, -1 for a key without one).
 */
static int ReadChoice(const Group *g, const char *name, const char *hint, int *out)
{
  const OxConfigKey *k = KeyOf(g, name);
  const char *const *choices = k->choices;
  const config_setting_t *s = Member(g, name);
  const char *v = NULL;
  char key[KEY_MAX], list[256];
  Join(key, g->path, name);
  if (!s) {
    if (hint) return Missing(g, name, hint);
    *out = k->def_kind == OX_DEF_VALUE ? (int)k->def : -1;
    return 0;
  }
  TRY(StringOf(g->ctx, s, key, &v));
  *out = IndexOf(choices, v);
  if (*out >= 0) return 0;
  JoinNames(list, sizeof list, choices, "\"");
  const char *near = Nearest(v, choices);
  if (near)
    return Fail(g->ctx, s, key, "unknown value \"%s\"; did you mean \"%s\"? expected one of %s", v,
                near, list);
  return Fail(g->ctx, s, key, "unknown value \"%s\"; expected one of %s", v, list);
}

/**
 * The array (or list) `name` of g with as many elements as key k allows, not
 * yet converted; *arr = NULL and *n = -1 when absent.
 */
static int GetArray(const Group *g, const char *name, const OxConfigKey *k,
                    const config_setting_t **arr, int *n)
{
  const config_setting_t *s = Member(g, name);
  const char *noun = k->type == OX_KEY_INTEGERS ? "integers" : "numbers";
  int nmin = k->len_min, nmax = k->len_max;
  char key[KEY_MAX], count[48];
  *arr = NULL;
  *n = -1;
  if (!s) return 0;
  Join(key, g->path, name);
  if (nmin == nmax) snprintf(count, sizeof count, "%d", nmin);
  else if (nmax == INT_MAX) snprintf(count, sizeof count, "any number of");
  else snprintf(count, sizeof count, "%d to %d", nmin, nmax);
  if (!config_setting_is_array(s) && !config_setting_is_list(s))
    return Fail(g->ctx, s, key, "got %s instead of an array; expected an array of %s %s%s",
                OxConfigSettingKind(s), count, noun, CondOf(k).text);
  int len = config_setting_length(s);
  if (len < nmin || len > nmax)
    return Fail(g->ctx, s, key, "has %d elements; expected an array of %s %s%s", len, count, noun,
                CondOf(k).text);
  *arr = s;
  *n = len;
  return 0;
}

/** Number array `name` of g into vals (room for the key's len_max); *n = -1 when absent. */
static int ReadNumberArray(const Group *g, const char *name, double *vals, int *n)
{
  const OxConfigKey *k = KeyOf(g, name);
  const config_setting_t *arr;
  char key[KEY_MAX], where[32];
  Join(key, g->path, name);
  TRY(GetArray(g, name, k, &arr, n));
  for (int i = 0; i < *n; i++) {
    snprintf(where, sizeof where, " at index %d", i);
    TRY(ToNumber(g->ctx, config_setting_get_elem(arr, (unsigned)i), key, where, k, &vals[i]));
  }
  return 0;
}

/**
 * Integer array `name` of g into a malloc'd *vals; absent: *n = -1 and *vals
 * NULL, or the key's default when `with_default`.
 */
static int ReadIntArray(const Group *g, const char *name, int with_default, int **vals, int *n)
{
  const OxConfigKey *k = KeyOf(g, name);
  const config_setting_t *arr;
  char key[KEY_MAX], where[32];
  Join(key, g->path, name);
  *vals = NULL;
  TRY(GetArray(g, name, k, &arr, n));
  if (!arr && with_default && k->def_kind == OX_DEF_VALUE) {
    int *v = malloc(sizeof *v * (size_t)(k->def_n > 0 ? k->def_n : 1));
    if (!v) return NoMemory(g, key);
    for (int i = 0; i < k->def_n; i++) v[i] = (int)k->def_vals[i];
    *vals = v;
    *n = k->def_n;
    return 0;
  }
  if (!arr) return 0;
  int *v = malloc(sizeof *v * (size_t)(*n > 0 ? *n : 1));
  if (!v) return NoMemory(g, key);
  for (int i = 0; i < *n; i++) {
    long long x = 0;
    snprintf(where, sizeof where, " at index %d", i);
    int rc = ToInt(g->ctx, config_setting_get_elem(arr, (unsigned)i), key, where, k, &x);
    if (rc) {
      free(v);
      return rc;
    }
    v[i] = (int)x;
  }
  *vals = v;
  return 0;
}

static const char kTableHint[] =
  "soc and value arrays of the same length, e.g. { soc = [0.0, 1.0]; value = [1e-21, 1e-17]; }";

/** The default of table `name` of g, from the defaults of its soc and value keys. */
static void DefaultTable(const Group *g, const char *name, OxTable *t)
{
  Group tg = *g;
  Join(tg.path, g->path, name);
  const OxConfigKey *ks = KeyOf(&tg, "soc"), *kv = KeyOf(&tg, "value");
  memset(t, 0, sizeof *t);
  t->n = ks->def_n < kv->def_n ? ks->def_n : kv->def_n;
  for (int i = 0; i < t->n; i++) {
    t->soc[i] = ks->def_vals[i];
    t->value[i] = kv->def_vals[i];
  }
}

/**
 * Values array `vname` of table group tg has nv entries for its ns soc knots;
 * then, unless soc is NULL, the knots strictly increase.
 */
static int CheckKnots(const Group *tg, const double *soc, int ns, const char *vname, int nv)
{
  char key[KEY_MAX];
  if (nv != ns) {
    Join(key, tg->path, vname);
    return Fail(tg->ctx, Member(tg, vname), key, "has %d values for %d soc knots; expected one value per soc knot", nv, ns);
  }
  for (int i = 1; soc && i < ns; i++) {
    if (soc[i] > soc[i - 1]) continue;
    Join(key, tg->path, "soc");
    return Fail(tg->ctx, Member(tg, "soc"), key,
                "not strictly increasing at index %d (%g after %g); expected strictly increasing "
                "values in 0..1",
                i, soc[i], soc[i - 1]);
  }
  return 0;
}

/**
 * Table `name` of g: { soc = [..]; value = [..]; }, each array in its key's
 * range; its default when the table is absent.
 */
static int ReadTable(const Group *g, const char *name, OxTable *t)
{
  Group tg;
  OxTable in;
  int ns, nv;
  DefaultTable(g, name, t);
  TRY(SubGroup(g, name, &tg));
  if (!tg.set) return 0;
  TRY(CheckKeys(&tg, NULL, NULL));
  memset(&in, 0, sizeof in);
  TRY(ReadNumberArray(&tg, "soc", in.soc, &ns));
  if (ns < 0) return Missing(&tg, "soc", kTableHint);
  TRY(ReadNumberArray(&tg, "value", in.value, &nv));
  if (nv < 0) return Missing(&tg, "value", kTableHint);
  TRY(CheckKnots(&tg, in.soc, ns, "value", nv));
  in.n = ns;
  *t = in;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The groups of section 3                                                  */
/* ------------------------------------------------------------------------ */

/* How a message names a group whose valid keys depend on its type or model. */
static const char *const kMicroVariant[] = {"a \"sphere\" microstructure",
                                            "a \"generated\" microstructure",
                                            "an \"import\" microstructure"};
static const char *const kAccessVariant[] = {"the \"uniform\" model", "the \"depth\" model",
                                             "the \"connected\" model"};
static const char *const kStepVariant[] = {"a \"cc\" step", "a \"cv\" step", "a \"rest\" step",
                                           "a \"hold\" step"};

/** The value of choice `name` of g with index i ("sphere"), for CheckKeys. */
static const char *ChoiceName(const Group *g, const char *name, int i)
{
  return KeyOf(g, name)->choices[i];
}

/** Shape from grid.shape or grid.domain_um; either may be absent only for an import. */
static int ReadGrid(const Group *root, OxConfig *c)
{
  Group g;
  int *shape = NULL, nshape, ndomain;
  /* An unknown type (microstructure.type is bad, reported on its own) asks no more than an import. */
  const int may_omit = c->micro_type == OX_MICRO_IMPORT || (int)c->micro_type < 0;
  TRY(SubGroup(root, "grid", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  /* An import may take the voxel size from its file: 0 here means "from the file". */
  TRY(ReadNumber(&g, "voxel_nm",
                 may_omit ? NULL
                                                  : "the voxel edge in nm, e.g. voxel_nm = 20.0;",
                 &c->voxel_nm));
  TRY(ReadIntArray(&g, "shape", 0, &shape, &nshape));
  if (shape) {
    memcpy(c->shape, shape, sizeof c->shape);
    free(shape);
    c->has_shape = 1;
  }
  TRY(ReadNumberArray(&g, "domain_um", c->domain_um, &ndomain));
  if (ndomain < 0) {
    if (!c->has_shape && !may_omit)
      return Missing(&g, "shape",
                     "the grid size in voxels, e.g. shape = [96, 96, 96]; or its extent in um, "
                     "e.g. domain_um = [1.92, 1.92, 1.92];");
    return 0;
  }
  char key[KEY_MAX];
  Join(key, g.path, "domain_um");
  if (c->has_shape)
    return Fail(g.ctx, Member(&g, "domain_um"), key,
                "given together with grid.shape; expected only one of shape and domain_um");
  if (c->voxel_nm <= 0)
    return Fail(g.ctx, Member(&g, "domain_um"), key,
                "given without grid.voxel_nm, so the shape is unknown; expected grid.voxel_nm "
                "with it, or grid.shape, or neither (the imported file gives the shape)");
  c->has_domain = 1;
  const int shape_max = (int)KeyOf(&g, "shape")->hi;
  for (int i = 0; i < 3; i++) {
    /* The tolerance keeps an exact multiple of voxel_nm from gaining a voxel to rounding. */
    double n = ceil(c->domain_um[i] * 1000.0 / c->voxel_nm - 1e-9);
    if (n > shape_max)
      return Fail(g.ctx, Member(&g, "domain_um"), key,
                  "gives %.0f voxels along %c; expected at most %d voxels per axis", n, 'x' + i,
                  shape_max);
    c->shape[i] = n < 1 ? 1 : (int)n;
  }
  return 0;
}

static int ReadSphere(const Group *m, OxConfig *c)
{
  int n;
  TRY(ReadNumber(m, "radius_nm", "the sphere radius in nm, e.g. radius_nm = 400.0;",
                 &c->radius_nm));
  TRY(ReadNumberArray(m, "center_nm", c->center_nm, &n));
  c->has_center = n == 3;
  return 0;
}

static int ReadGenerated(const Group *m, OxConfig *c)
{
  static const char hint[] =
    "at least one secondary, e.g. secondaries = ( { center_um = [0.96, 0.96, 0.96]; radius_um = "
    "0.9; } );";
  const config_setting_t *list;
  long long seed = 0;
  int n;
  TRY(ReadInt(m, "seed", NULL, &seed));
  c->seed = (long)seed;
  TRY(GroupList(m, "secondaries", "no secondary particles", hint, &list, &n));
  c->secondaries = calloc((size_t)n, sizeof *c->secondaries);
  if (!c->secondaries) return NoMemory(m, "microstructure.secondaries");
  c->n_secondaries = n;
  for (int i = 0; i < n; i++) {
    Group sg;
    int ncenter;
    OxSecondarySpec *sec = &c->secondaries[i];
    TRY(ElemGroup(m, "secondaries", list, i, &sg));
    TRY(CheckKeys(&sg, NULL, NULL));
    TRY(ReadNumberArray(&sg, "center_um", sec->center_um, &ncenter));
    if (ncenter < 0)
      return Missing(&sg, "center_um", "the centre in um, e.g. center_um = [0.96, 0.96, 0.96];");
    TRY(ReadNumber(&sg, "radius_um", "the radius in um, e.g. radius_um = 0.9;", &sec->radius_um));
  }
  TRY(ReadNumber(m, "primary_diameter_nm", NULL, &c->primary_diameter_nm));
  TRY(ReadNumber(m, "primary_cv", NULL, &c->primary_cv));
  return ReadNumber(m, "porosity", NULL, &c->porosity);
}

/** The folder of `path` as an absolute path when it can be resolved (malloc'd). */
static char *FolderOf(const char *path)
{
  char *dir = strdup(path);
  if (!dir) return NULL;
  char *slash = strrchr(dir, '/');
  if (!slash) strcpy(dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  char *real = realpath(dir, NULL);
  if (!real) return dir;
  free(dir);
  return real;
}

/**
 * File `file` of key `name` in g relative to the config's folder, made
 * absolute into out[OX_PATH_MAX] (so that the printed config means the same
 * file wherever it is read back); *line where it was written (-N: the N-th
 * --set), for the messages of whoever reads the file.
 */
static int ResolveFile(const Group *g, const char *name, const char *file, char *out, int *line)
{
  char key[KEY_MAX], where[OX_PATH_MAX];
  unsigned at;
  Join(key, g->path, name);
  Locate(g->ctx, Member(g, name), where, sizeof where, &at);
  *line = strcmp(where, "--set") ? (int)at : -(int)at;
  if (file[0] == '/') {
    memcpy(out, file, strlen(file) + 1);
    return 0;
  }
  char *dir = FolderOf(g->ctx->file);
  if (!dir) return NoMemory(g, key);
  int n = snprintf(out, OX_PATH_MAX, "%s/%s", dir, file);
  free(dir);
  if (n < 0 || n >= OX_PATH_MAX)
    return Fail(g->ctx, Member(g, name), key, "path too long once resolved; expected at most %d "
                "characters", OX_PATH_MAX - 1);
  return 0;
}

/**
 * An import file relative to the config's folder, made absolute so that the
 * printed config means the same file wherever it is read back.
 */
static int ReadImport(const Group *m, OxConfig *c)
{
  char file[OX_PATH_MAX];
  TRY(ReadString(m, "file", "the labelled voxel image, e.g. file = \"micro.h5\";", file,
                 sizeof file));
  TRY(ReadString(m, "labels", NULL, c->import_labels, sizeof c->import_labels));
  TRY(ReadString(m, "secondary", NULL, c->import_secondary, sizeof c->import_secondary));
  TRY(ReadNumber(m, "closing_nm", NULL, &c->closing_nm));
  return ResolveFile(m, "file", file, c->import_file, &c->import_line);
}

static int ReadMicrostructure(const Group *root, OxConfig *c)
{
  Group m;
  int type = 0;
  TRY(SubGroup(root, "microstructure", &m));
  TRY(ReadChoice(&m, "type",
                 "one of \"sphere\", \"generated\", \"import\", e.g. type = \"sphere\";", &type));
  c->micro_type = (OxMicroType)type;
  TRY(CheckKeys(&m, ChoiceName(&m, "type", type), kMicroVariant[type]));
  switch (c->micro_type) {
  case OX_MICRO_SPHERE: return ReadSphere(&m, c);
  case OX_MICRO_GENERATED: return ReadGenerated(&m, c);
  case OX_MICRO_IMPORT: return ReadImport(&m, c);
  }
  return 0;
}

static int ReadMaterial(const Group *root, OxConfig *c)
{
  Group g, f;
  TRY(SubGroup(root, "material", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadTable(&g, "diffusivity_cm2_s", &c->diffusivity_cm2_s));
  TRY(ReadNumber(&g, "diffusivity_scale", NULL, &c->diffusivity_scale));
  TRY(ReadNumber(&g, "particle_spread", NULL, &c->particle_spread));
  TRY(ReadNumber(&g, "grain_boundary", NULL, &c->grain_boundary));
  TRY(SubGroup(&g, "formula", &f));
  TRY(CheckKeys(&f, NULL, NULL));
  TRY(ReadNumber(&f, "li", NULL, &c->formula_li));
  TRY(ReadNumber(&f, "ni", NULL, &c->formula_ni));
  TRY(ReadNumber(&f, "mn", NULL, &c->formula_mn)); /* Mn3+ is a fraction of it: > 0 */
  return ReadNumber(&f, "co", NULL, &c->formula_co);
}

static int ReadSurface(const Group *root, OxConfig *c)
{
  Group g, a, l;
  int model = 0;
  long long cells = 0;
  TRY(SubGroup(root, "surface", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadTable(&g, "exchange_nm_s", &c->exchange_nm_s));
  TRY(ReadNumber(&g, "exchange_scale", NULL, &c->exchange_scale));
  TRY(ReadTable(&g, "equilibrium_fraction", &c->equilibrium_fraction));
  TRY(SubGroup(&g, "accessibility", &a));
  TRY(ReadChoice(&a, "model", NULL, &model));
  c->access_model = (OxAccessModel)model;
  TRY(CheckKeys(&a, ChoiceName(&a, "model", model), kAccessVariant[model]));
  TRY(ReadNumber(&a, "length_nm", NULL, &c->access_length_nm));
  /* Sub-voxel surface layer (docs/numerics.md): defaults chosen there. */
  TRY(SubGroup(&g, "layer", &l));
  TRY(CheckKeys(&l, NULL, NULL));
  TRY(ReadInt(&l, "cells", NULL, &cells));
  c->layer_cells = (int)cells;
  TRY(ReadNumber(&l, "depth_fraction", NULL, &c->layer_depth));
  return ReadNumber(&l, "growth", NULL, &c->layer_growth);
}

/** One protocol step; the keys allowed depend on its type. */
static int ReadStep(const Group *sg, OxStep *st)
{
  static const char until_hint[] = "the target soc in [0, 1], e.g. until_soc = 1.0;";
  static const char minutes_hint[] = "the duration in minutes, e.g. duration_min = 10.0;";
  double minutes = 0, hours = 0, tau_min = 0;
  int type = 0;
  char key[KEY_MAX];
  TRY(ReadChoice(sg, "type", "one of \"cc\", \"cv\", \"rest\", \"hold\", e.g. type = \"rest\";",
                 &type));
  TRY(CheckKeys(sg, ChoiceName(sg, "type", type), kStepVariant[type]));
  memset(st, 0, sizeof *st);
  st->type = (OxStepType)type;
  st->line = (int)config_setting_source_line(sg->set);
  switch (st->type) {
  case OX_STEP_CC:
    TRY(ReadNumber(sg, "rate_C", "the C-rate, + charge, - discharge, e.g. rate_C = 1.0;",
                   &st->rate_C));
    if (st->rate_C == 0 && (KeyOf(sg, "rate_C")->flags & OX_KEY_NONZERO)) {
      Join(key, sg->path, "rate_C");
      return Fail(sg->ctx, Member(sg, "rate_C"), key,
                  "is 0; expected a non-zero C-rate, + charge, - discharge");
    }
    TRY(ReadNumber(sg, "until_soc", until_hint, &st->until_soc));
    break;
  case OX_STEP_CV:
    TRY(ReadNumber(sg, "duration_min", minutes_hint, &minutes));
    TRY(ReadNumber(sg, "until_soc", until_hint, &st->until_soc));
    TRY(ReadNumber(sg, "tau_min", NULL, &tau_min));
    st->duration_s = minutes * SECONDS_PER_MIN;
    st->tau_s = tau_min * SECONDS_PER_MIN;
    break;
  case OX_STEP_REST:
    TRY(ReadNumber(sg, "duration_min", minutes_hint, &minutes));
    st->duration_s = minutes * SECONDS_PER_MIN;
    break;
  case OX_STEP_HOLD:
    TRY(ReadNumber(sg, "soc", "the soc held, in [0, 1], e.g. soc = 1.0;", &st->soc));
    TRY(ReadNumber(sg, "duration_h", "the duration in hours, e.g. duration_h = 100.0;", &hours));
    st->duration_s = hours * SECONDS_PER_H;
    break;
  }
  TRY(ReadNumber(sg, "release_scale", NULL, &st->release_scale));
  return ReadNumber(sg, "diffusivity_scale", NULL, &st->diffusivity_scale);
}

/** A formation or cycling block: { repeat = N; steps = ( ... ); }. */
static int ReadBlock(const Group *bg, OxBlock *b)
{
  static const char hint[] =
    "at least one step, e.g. steps = ( { type = \"rest\"; duration_min = 10.0; } );";
  const config_setting_t *list;
  long long repeat = 0;
  int n;
  char key[KEY_MAX];
  TRY(CheckKeys(bg, NULL, NULL));
  TRY(ReadInt(bg, "repeat", NULL, &repeat));
  b->repeat = (int)repeat;
  TRY(GroupList(bg, "steps", "empty protocol", hint, &list, &n));
  Join(key, bg->path, "steps");
  b->steps = calloc((size_t)n, sizeof *b->steps);
  if (!b->steps) return NoMemory(bg, key);
  b->nsteps = n;
  for (int i = 0; i < n; i++) {
    Group sg;
    TRY(ElemGroup(bg, "steps", list, i, &sg));
    TRY(ReadStep(&sg, &b->steps[i]));
  }
  return 0;
}

static int ReadProtocol(const Group *root, OxConfig *c)
{
  Group g, formation, cycling;
  TRY(SubGroup(root, "protocol", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadNumber(&g, "initial_soc", NULL, &c->initial_soc));
  TRY(SubGroup(&g, "formation", &formation));
  /* repeat = 0 switches a given formation off, handy for sweeps. */
  if (formation.set) TRY(ReadBlock(&formation, &c->formation));
  TRY(SubGroup(&g, "cycling", &cycling));
  if (!cycling.set)
    return MarkMissing(g.ctx, Fail(g.ctx, g.anchor, cycling.path,
                "missing: empty protocol; expected at least one step, e.g. cycling = { repeat = "
                "500; steps = ( { type = \"cc\"; rate_C = 1.0; until_soc = 1.0; } ); };"));
  return ReadBlock(&cycling, &c->cycling);
}

static int ReadSolver(const Group *root, OxConfig *c)
{
  Group g;
  int mode = 0;
  TRY(SubGroup(root, "solver", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadNumber(&g, "rtol", NULL, &c->rtol));
  TRY(ReadNumber(&g, "atol", NULL, &c->atol));
  TRY(ReadChoice(&g, "time_mode", NULL, &mode));
  c->time_mode = (OxTimeMode)mode;
  return 0;
}

static int CompareInt(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int ReadOutput(const Group *root, OxConfig *c)
{
  Group g;
  long long every = 0;
  int n;
  TRY(SubGroup(root, "output", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadString(&g, "file", NULL, c->out_file, sizeof c->out_file));
  TRY(ReadIntArray(&g, "fields_at_cycles", 1, &c->fields_at_cycles, &n));
  qsort(c->fields_at_cycles, (size_t)n, sizeof(int), CompareInt);
  c->n_fields_at = 0;
  for (int i = 0; i < n; i++)
    if (i == 0 || c->fields_at_cycles[i] != c->fields_at_cycles[i - 1])
      c->fields_at_cycles[c->n_fields_at++] = c->fields_at_cycles[i];
  TRY(ReadInt(&g, "checkpoint_every_cycles", NULL, &every));
  c->checkpoint_every_cycles = (int)every;
  return 0;
}

static int ReadObservables(const Group *root, OxConfig *c)
{
  Group g, l;
  int axis = 0;
  TRY(SubGroup(root, "observables", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadNumber(&g, "mn_share", NULL, &c->mn_share));
  TRY(SubGroup(&g, "lamella", &l));
  TRY(CheckKeys(&l, NULL, NULL));
  TRY(ReadNumber(&l, "thickness_nm", NULL, &c->lamella_thickness_nm));
  TRY(ReadChoice(&l, "axis", NULL, &axis));
  c->lamella_axis = (char)('x' + axis);
  TRY(ReadBool(&g, "mn3_field", &c->mn3_field));
  return ReadNumber(&g, "profile_bin_nm", NULL, &c->profile_bin_nm);
}

static int ReadInitial(const Group *root, OxConfig *c)
{
  Group g;
  char file[OX_PATH_MAX];
  TRY(SubGroup(root, "initial", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadNumber(&g, "vacancy_fraction", NULL, &c->initial_vacancy));
  TRY(ReadString(&g, "file", NULL, file, sizeof file));
  TRY(ReadString(&g, "dataset", NULL, c->initial_dataset, sizeof c->initial_dataset));
  c->initial_file[0] = '\0';
  if (!file[0]) return 0;
  return ResolveFile(&g, "file", file, c->initial_file, &c->initial_line);
}

static int ReadMechanics(const Group *root, OxConfig *c)
{
  Group g, l, k;
  int na, nc, ns, orient = 0;
  TRY(SubGroup(root, "mechanics", &g));
  TRY(CheckKeys(&g, NULL, NULL));
  TRY(ReadBool(&g, "enabled", &c->mech_enabled));
  TRY(ReadNumber(&g, "young_GPa", NULL, &c->mech_young_GPa));
  TRY(ReadNumber(&g, "poisson", NULL, &c->mech_poisson));
  TRY(ReadNumber(&g, "vacancy_expansion", NULL, &c->mech_vacancy_expansion));
  TRY(SubGroup(&g, "lattice", &l));
  TRY(CheckKeys(&l, NULL, NULL));
  TRY(ReadNumberArray(&l, "soc", c->mech_lattice_a.soc, &ns));
  TRY(ReadNumberArray(&l, "a", c->mech_lattice_a.value, &na));
  TRY(ReadNumberArray(&l, "c", c->mech_lattice_c.value, &nc));
  if (ns < 0) { /* absent: the keys' defaults (two knots, no lattice strain) */
    ns                        = 2;
    c->mech_lattice_a.soc[0] = 0.0;
    c->mech_lattice_a.soc[1] = 1.0;
  }
  for (int i = na < 0 ? (na = ns, 0) : na; i < ns; i++) c->mech_lattice_a.value[i] = 0.0;
  for (int i = nc < 0 ? (nc = ns, 0) : nc; i < ns; i++) c->mech_lattice_c.value[i] = 0.0;
  TRY(CheckKnots(&l, NULL, ns, "a", na));
  TRY(CheckKnots(&l, c->mech_lattice_a.soc, ns, "c", nc));
  c->mech_lattice_a.n = c->mech_lattice_c.n = ns;
  memcpy(c->mech_lattice_c.soc, c->mech_lattice_a.soc, sizeof c->mech_lattice_a.soc);
  TRY(ReadChoice(&g, "orientation", NULL, &orient));
  c->mech_aligned = orient;
  TRY(SubGroup(&g, "coupling", &k));
  TRY(CheckKeys(&k, NULL, NULL));
  TRY(ReadNumber(&k, "eq_volume_A3", NULL, &c->mech_eq_volume_A3));
  TRY(ReadNumber(&k, "diffusion_volume_A3", NULL, &c->mech_diffusion_volume_A3));
  TRY(ReadNumber(&k, "temperature_K", NULL, &c->mech_temperature_K));
  return ReadNumber(&g, "update_tolerance", NULL, &c->mech_update_tolerance);
}

static int ReadTopKeys(const Group *root, OxConfig *c)
{
  (void)c;
  return CheckKeys(root, NULL, NULL);
}

/*
 * Every section is read, each on its own, and the first failure in file
 * order (see RANK_SET) is the one reported: a defect on line 3 is not hidden
 * by a section read earlier, or by a missing key further on.
 */
static int ReadAll(const Ctx *ctx, const config_t *lc, OxConfig *c)
{
  typedef int (*Reader)(const Group *, OxConfig *);
  /* The microstructure before the grid: whether the grid may omit its shape depends on it. */
  static const Reader readers[] = {ReadTopKeys,  ReadMicrostructure, ReadGrid,   ReadMaterial,
                                   ReadSurface,  ReadProtocol,       ReadSolver, ReadOutput,
                                   ReadObservables, ReadInitial,     ReadMechanics};
  char *msg = malloc(OX_ERR_MAX);
  unsigned best = UINT_MAX, rank = 0;
  int rc = 0;
  OxInputErrorWhere where = {0};
  if (!msg)
    return OxInputError(ctx->err, ctx->errlen, ctx->file, 1, "grid", "out of memory; expected a "
                        "smaller configuration");
  Ctx sub = {ctx->file, msg, OX_ERR_MAX, &rank};
  Group root = {&sub, config_root_setting(lc), config_root_setting(lc), ""};
  c->micro_type = (OxMicroType)-1; /* until microstructure.type is read */
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    msg[0] = '\0';
    rank = UINT_MAX;
    int r = readers[i](&root, c);
    if (!r) continue;
    if (!rc || rank < best) {
      rc = r;
      best = rank;
      where = *OxInputErrorLast();
      OxInputErrorFit(ctx->err, ctx->errlen, "%s", msg);
    }
  }
  free(msg);
  if (rc) {
    OxInputErrorRestore(&where); /* the error reported, not the last one read */
    return rc;
  }
  if (c->micro_type == OX_MICRO_SPHERE && !c->has_center)
    for (int i = 0; i < 3; i++) c->center_nm[i] = 0.5 * c->shape[i] * c->voxel_nm;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* --set overrides                                                          */
/* ------------------------------------------------------------------------ */

/** Copy src (recursively) as a new child `name` (NULL inside arrays and lists) of parent. */
static config_setting_t *CopySetting(config_setting_t *parent, const char *name,
                                     const config_setting_t *src)
{
  int type = config_setting_type(src);
  config_setting_t *dst = config_setting_add(parent, name, type);
  if (!dst) return NULL;
  switch (type) {
  case CONFIG_TYPE_INT: config_setting_set_int(dst, config_setting_get_int(src)); break;
  case CONFIG_TYPE_INT64: config_setting_set_int64(dst, config_setting_get_int64(src)); break;
  case CONFIG_TYPE_FLOAT: config_setting_set_float(dst, config_setting_get_float(src)); break;
  case CONFIG_TYPE_BOOL: config_setting_set_bool(dst, config_setting_get_bool(src)); break;
  case CONFIG_TYPE_STRING: config_setting_set_string(dst, config_setting_get_string(src)); break;
  default:
    for (int i = 0; i < config_setting_length(src); i++) {
      const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
      const char *child = config_setting_is_group(src) ? config_setting_name(e) : NULL;
      if (!CopySetting(dst, child, e)) return NULL;
    }
  }
  return dst;
}

static char *Trim(char *s)
{
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

/** A libconfig setting name: [A-Za-z*][-A-Za-z0-9_*]*. */
static int IsName(const char *s)
{
  if (!(isalpha((unsigned char)*s) || *s == '*')) return 0;
  for (s++; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '*')) return 0;
  return 1;
}

/** "[N]" -> N, or -1. */
static int IndexComponent(const char *s)
{
  char *end;
  if (s[0] != '[' || !isdigit((unsigned char)s[1])) return -1;
  long v = strtol(s + 1, &end, 10);
  return (end[0] == ']' && end[1] == '\0' && v <= INT_MAX) ? (int)v : -1;
}

/**
 * A table created by a --set of one of its members (`--set
 * material.diffusivity_cm2_s.value=[...]` where the file has no such table)
 * starts as the table's default, so that the --set changes only that member.
 */
static int FillDefaultTable(config_setting_t *table, const char *path)
{
  const OxConfigKey *k = OxConfigKeyFind(path), *kids[2];
  if (!k || k->type != OX_KEY_TABLE) return 0;
  int n = OxConfigKeyChildren(k->path, NULL, kids, 2);
  for (int i = 0; i < n; i++) {
    config_setting_t *arr = config_setting_add(table, OxConfigKeyName(kids[i]), CONFIG_TYPE_ARRAY);
    if (!arr) return 1;
    for (int j = 0; j < kids[i]->def_n; j++)
      if (!config_setting_set_float_elem(arr, -1, kids[i]->def_vals[j])) return 1;
  }
  return 0;
}

/**
 * Walk path (modified in place) from the root, creating missing groups (a
 * table with its default), and return the group that is to hold the last
 * component *leaf. A component "[N]" steps into element N of an existing
 * list or array.
 */
static int SetParent(const Ctx *ctx, int index, config_t *lc, char *path, const char *key,
                     config_setting_t **parent, const char **leaf)
{
  config_setting_t *cur = config_root_setting(lc);
  char *comp = path, *dot, sofar[KEY_MAX] = "";
  for (; (dot = strchr(comp, '.')) != NULL; comp = dot + 1) {
    *dot = '\0';
    char up[KEY_MAX];
    snprintf(up, sizeof up, "%s", sofar);
    Join(sofar, up, comp);
    int elem = IndexComponent(comp);
    config_setting_t *next;
    if (elem >= 0) {
      if (!config_setting_is_list(cur) && !config_setting_is_array(cur))
        return FailSet(ctx, index, key, "'%s' indexes %s; expected a list or array before it",
                       comp, OxConfigSettingKind(cur));
      next = config_setting_get_elem(cur, (unsigned)elem);
      if (!next)
        return FailSet(ctx, index, key, "index %d is past the end (%d elements); expected an "
                       "existing element", elem, config_setting_length(cur));
    } else {
      if (!IsName(comp) || !config_setting_is_group(cur))
        return FailSet(ctx, index, key, "cannot step into '%s'; expected a path of group names "
                       "and list indices such as protocol.cycling.steps.[0].rate_C", comp);
      next = config_setting_get_member(cur, comp);
      if (!next) {
        next = config_setting_add(cur, comp, CONFIG_TYPE_GROUP);
        if (!next || FillDefaultTable(next, sofar))
          return FailSet(ctx, index, key, "cannot create '%s'; expected a valid name", comp);
        config_setting_set_hook(next, (void *)(intptr_t)index);
      }
    }
    cur = next;
  }
  if (IndexComponent(comp) >= 0)
    return FailSet(ctx, index, key, "cannot replace a whole element %s; expected a path ending in "
                   "a key name, e.g. protocol.cycling.steps.[0].rate_C=2.0", comp);
  if (!IsName(comp))
    return FailSet(ctx, index, key, "'%s' is not a key name; expected a path such as "
                   "material.diffusivity_scale", comp);
  if (!config_setting_is_group(cur))
    return FailSet(ctx, index, key, "cannot set '%s' inside %s; expected a path through groups, "
                   "e.g. material.diffusivity_scale", comp, OxConfigSettingKind(cur));
  *parent = cur;
  *leaf = comp;
  return 0;
}

/** Parse VALUE of "PATH=VALUE" (libconfig syntax) into the scratch config *value. */
static int ParseSetValue(const Ctx *ctx, int index, const char *key, const char *text,
                         config_t *scratch, const config_setting_t **value)
{
  static const char expected[] =
    "expected a libconfig value: a number, a quoted string such as \"run.h5\", an array such as "
    "[1, 5, 10], or a group { ... }";
  size_t len = strlen(text);
  if (len == 0) return FailSet(ctx, index, key, "empty value; %s", expected);
  char *doc = malloc(len + 32);
  if (!doc) return FailSet(ctx, index, key, "out of memory; expected a shorter value");
  /* A trailing ';' is what one writes in a file: accept it. */
  snprintf(doc, len + 32, "oxvac_set_value = %s%s", text, text[len - 1] == ';' ? "" : ";");
  int ok = config_read_string(scratch, doc);
  free(doc);
  if (!ok)
    return FailSet(ctx, index, key, "cannot parse the value %s (%s); %s", text,
                   config_error_text(scratch), expected);
  if (config_setting_length(config_root_setting(scratch)) != 1)
    return FailSet(ctx, index, key, "the value %s holds more than one setting; %s", text, expected);
  *value = config_setting_get_elem(config_root_setting(scratch), 0);
  return 0;
}

/** Apply the index-th (1-based) "--set PATH=VALUE" to lc, replacing what PATH held. */
static int ApplySet(const Ctx *ctx, int index, const char *spec, config_t *lc)
{
  char *copy = strdup(spec ? spec : "");
  char key[KEY_MAX];
  config_t scratch;
  config_setting_t *parent = NULL;
  const config_setting_t *value = NULL;
  const char *leaf = NULL;
  if (!copy) return FailSet(ctx, index, "--set", "out of memory; expected a shorter override");
  char *eq = strchr(copy, '=');
  if (eq) *eq = '\0';
  char *path = Trim(copy);
  /* The key is quoted in the message: keep it non-empty and free of quotes. */
  snprintf(key, sizeof key, "%s", path[0] ? path : "(empty)");
  for (char *q = key; *q; q++)
    if (*q == '\'') *q = '?';
  if (!eq) {
    free(copy);
    return FailSet(ctx, index, key, "no '=' in the override; expected PATH=VALUE, e.g. "
                   "material.diffusivity_scale=3.0");
  }
  config_init(&scratch);
  int rc = ParseSetValue(ctx, index, key, Trim(eq + 1), &scratch, &value);
  if (!rc) rc = SetParent(ctx, index, lc, path, key, &parent, &leaf);
  if (!rc) {
    config_setting_remove(parent, leaf);
    config_setting_t *dst = CopySetting(parent, leaf, value);
    if (dst) config_setting_set_hook(dst, (void *)(intptr_t)index);
    else rc = FailSet(ctx, index, key, "cannot store the value; expected a valid name and value");
  }
  config_destroy(&scratch);
  free(copy);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Load and free                                                            */
/* ------------------------------------------------------------------------ */

/** libconfig's text for an array that mixes integers and floats (its parser has no error code for it). */
static int IsMixedArrayText(const char *text)
{
  return !strcmp(text, "mismatched element type in array");
}

/**
 * The file named by an @include on line `line` of `file`, into name; 0 when
 * that line holds none. Control characters become '?', since the name is
 * quoted in a one-line message.
 */
static int IncludeOnLine(const char *file, int line, char *name, size_t namelen)
{
  char buf[OX_PATH_MAX + 64];
  FILE *fp = fopen(file, "r");
  int n = 0, found = 0;
  if (!fp || line < 1) {
    if (fp) fclose(fp);
    return 0;
  }
  while (fgets(buf, sizeof buf, fp))
    if (++n == line) break;
  fclose(fp);
  if (n != line) return 0;
  char *at = strstr(buf, "@include");
  char *q = at ? strchr(at, '"') : NULL;
  char *e = q ? strchr(q + 1, '"') : NULL;
  if (e && namelen) {
    size_t len = (size_t)(e - q - 1) < namelen - 1 ? (size_t)(e - q - 1) : namelen - 1;
    for (size_t i = 0; i < len; i++) name[i] = iscntrl((unsigned char)q[1 + i]) ? '?' : q[1 + i];
    name[len] = '\0';
    found = 1;
  }
  return found;
}

/*
 * Every @include of file (and of what it includes, to libconfig's depth of
 * 10) names a readable regular file, relative to the config's folder: else
 * an input error at its line. libconfig itself ends the process on a folder
 * ("input in flex scanner failed") and joins an absolute name to the folder.
 */
static int CheckIncludes(const Ctx *ctx, const char *config, const char *file, int depth)
{
  char   *buf = NULL, name[OX_PATH_MAX], target[OX_PATH_MAX];
  size_t  cap = 0;
  ssize_t n;
  FILE   *fp = fopen(file, "r");
  int     line = 0, rc = 0;
  if (!fp) return 0; /* libconfig says why, with its line */
  while (!rc && (n = getline(&buf, &cap, fp)) >= 0) {
    const char *p = buf + strspn(buf, " \t"), *q, *e;
    struct stat st;
    int         bad = 0;
    line++;
    if (strncmp(p, "@include", 8)) continue;
    q = strchr(p + 8, '"');
    e = q ? strchr(q + 1, '"') : NULL;
    /* libconfig takes the name up to a NUL: a NUL or control character in it, or no closing quote, is no file name */
    if (memchr(buf, '\0', (size_t)n) || !e || (size_t)(e - q - 1) >= sizeof name) bad = 1;
    for (const char *c = q ? q + 1 : p; !bad && c < e; c++) bad = iscntrl((unsigned char)*c);
    if (bad) {
      rc = OxInputError(ctx->err, ctx->errlen, file, line, NULL, "syntax error: @include without a plain quoted file name; expected @include \"FILE\", "
                        "FILE named relative to the config's folder");
      break;
    }
    snprintf(name, sizeof name, "%.*s", (int)(e - q - 1), q + 1);
    IncludedPath(config, name, target, sizeof target);
    if (name[0] == '/')
      rc = OxInputError(ctx->err, ctx->errlen, file, line, NULL, "syntax error: @include \"%s\" is an absolute path; expected a file named relative to the config's folder", name);
    else if (!name[0] || stat(target, &st) != 0 || !S_ISREG(st.st_mode) || access(target, R_OK) != 0)
      rc = OxInputError(ctx->err, ctx->errlen, file, line, NULL, "syntax error: @include \"%s\": %s; expected a readable file, named relative to the config's folder", name,
                        !name[0] ? "no file named" : stat(target, &st) != 0 ? strerror(errno) : S_ISDIR(st.st_mode) ? "is a directory" : !S_ISREG(st.st_mode) ? "is not a regular file" : "cannot be read");
    else if (depth < 10) rc = CheckIncludes(ctx, config, target, depth + 1);
  }
  free(buf);
  fclose(fp);
  return rc;
}

static int ReadFile(const Ctx *ctx, config_t *lc, const char *path)
{
  FILE *fp = fopen(path, "r");
  if (!fp) {
    return OxInputError(ctx->err, ctx->errlen, path, 1, NULL, "cannot open the config file (%s); "
                        "expected a readable libconfig file", strerror(errno));
  }
  fclose(fp);
  if (CheckIncludes(ctx, path, path, 1)) return 2;
  /* @include paths are relative to the config's folder, like an import file. */
  char *dir = FolderOf(path);
  if (dir) config_set_include_dir(lc, dir);
  int ok = config_read_file(lc, path);
  free(dir);
  if (ok) return 0;
  if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
    return OxInputError(ctx->err, ctx->errlen, path, 1, NULL, "cannot read the config file; "
                        "expected a readable libconfig file");
  }
  if (ctx->err && ctx->errlen) {
    const char *text = config_error_text(lc) ? config_error_text(lc) : "unreadable";
    const char *efile = config_error_file(lc);
    char where[OX_PATH_MAX], inc[OX_PATH_MAX], what[OX_PATH_MAX + 128];
    int line = config_error_line(lc);
    /* libconfig names a file it included as written: from here it is beside the config. */
    if (efile && strcmp(efile, path)) IncludedPath(path, efile, where, sizeof where);
    else snprintf(where, sizeof where, "%s", path);
    if (IncludeOnLine(where, line, inc, sizeof inc)) {
      /* The @include on this line is the defect: libconfig's text does not name its file. */
      char target[OX_PATH_MAX];
      IncludedPath(path, inc, target, sizeof target);
      FILE *ip = fopen(target, "r");
      const char *why = ip ? "cannot be read" : strerror(errno);
      if (ip) fclose(ip);
      snprintf(what, sizeof what, "@include \"%s\": %s (%s); expected a readable file, named "
               "relative to the config's folder", inc, text, why);
    } else if (!strcmp(where, path)) {
      /* libconfig arrays may not mix integers and floats: say how to fix the common case. */
      int mixed = config_error_type(lc) == CONFIG_ERR_PARSE && IsMixedArrayText(text);
      snprintf(what, sizeof what, "%s%s; expected valid libconfig syntax", text,
               mixed ? " (write every element of a number array as a float, e.g. "
                       "[0.0, 0.8, 1.0])"
                     : "");
    } else {
      snprintf(what, sizeof what, "%s (in a file @include'd by %s); expected valid libconfig "
               "syntax", text, path);
    }
    OxInputError(ctx->err, ctx->errlen, where, line, NULL, "syntax error: %s", what);
  }
  return 2;
}

int OxConfigLoad(const char *path, int nset, const char *const *sets, OxConfig *cfg, char *err,
                 size_t errlen)
{
  Ctx ctx = {path, err, errlen, NULL};
  config_t lc;
  memset(cfg, 0, sizeof *cfg);
  if (err && errlen) err[0] = '\0';
  snprintf(cfg->source, sizeof cfg->source, "%s", path);
  config_init(&lc);
  int rc = ReadFile(&ctx, &lc, path);
  for (int i = 0; !rc && i < nset; i++) rc = ApplySet(&ctx, i + 1, sets[i], &lc);
  if (!rc) rc = ReadAll(&ctx, &lc, cfg);
  config_destroy(&lc);
  return rc;
}

void OxConfigFree(OxConfig *cfg)
{
  if (!cfg) return;
  free(cfg->secondaries);
  free(cfg->formation.steps);
  free(cfg->cycling.steps);
  free(cfg->fields_at_cycles);
  cfg->secondaries = NULL;
  cfg->n_secondaries = 0;
  cfg->formation.steps = cfg->cycling.steps = NULL;
  cfg->formation.nsteps = cfg->cycling.nsteps = 0;
  cfg->fields_at_cycles = NULL;
  cfg->n_fields_at = 0;
}

int OxConfigLocateKey(const char *path, int nset, const char *const *sets, const char *key,
                      char *file, size_t filelen, int *line)
{
  Ctx ctx = {path, NULL, 0, NULL};
  config_t lc;
  char buf[KEY_MAX], *comp, *dot;
  const config_setting_t *cur, *at;
  unsigned ln = 1;
  int rc, found = 0;
  snprintf(file, filelen, "%s", path);
  *line = 1;
  config_init(&lc);
  rc = ReadFile(&ctx, &lc, path);
  for (int i = 0; !rc && i < nset; i++) rc = ApplySet(&ctx, i + 1, sets[i], &lc);
  if (!rc && strlen(key) < sizeof buf) {
    strcpy(buf, key);
    at = cur = config_root_setting(&lc);
    for (comp = buf; cur && comp; comp = dot ? dot + 1 : NULL) {
      dot = strchr(comp, '.');
      if (dot) *dot = '\0';
      if (comp[0] == '[') {
        long k = strtol(comp + 1, NULL, 10);
        cur = (config_setting_is_list(cur) || config_setting_is_array(cur)) && k >= 0
                ? config_setting_get_elem(cur, (unsigned)k)
                : NULL;
      } else cur = config_setting_is_group(cur) ? config_setting_get_member(cur, comp) : NULL;
      if (cur) at = cur;
    }
    found = cur != NULL;
    if (at != config_root_setting(&lc)) {
      Locate(&ctx, at, file, filelen, &ln);
      *line = (int)ln;
    }
  }
  config_destroy(&lc);
  return found;
}

/* ------------------------------------------------------------------------ */
/* Printing the resolved config: a walk of the key table                    */
/* ------------------------------------------------------------------------ */

typedef struct {
  char *s;
  size_t len, cap;
  int nomem;
} Buf;

OX_PRINTF(2, 3)
static void Put(Buf *b, const char *fmt, ...)
{
  va_list ap;
  if (b->nomem) return;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->nomem = 1;
    return;
  }
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = 2 * b->cap + (size_t)n + 1024;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->nomem = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/** v as the key table writes numbers (OxFormatNumber): it reads back to exactly v. */
static void PutDouble(Buf *b, double v)
{
  char s[48];
  OxFormatNumber(v, s, sizeof s);
  Put(b, "%s", s);
}

/**
 * The value in the file's unit (factor seconds each) that converts back to
 * exactly `seconds`, so that printing and re-reading is an identity: plain
 * division is not guaranteed to land on such a value, so search a few ulps.
 */
static double FromSeconds(double seconds, double factor)
{
  double x = seconds / factor, up = x, down = x;
  for (int i = 0; i < 4 && x * factor != seconds; i++) {
    up = nextafter(up, DBL_MAX);
    down = nextafter(down, -DBL_MAX);
    if (up * factor == seconds) return up;
    if (down * factor == seconds) return down;
  }
  return x;
}

/* ind >= 0: "<ind spaces>name = v;\n"; ind < 0: " name = v;" inside a one-line group. */
static void Key(Buf *b, int ind, const char *name)
{
  if (ind < 0) Put(b, " %s = ", name);
  else Put(b, "%*s%s = ", ind, "", name);
}

static void End(Buf *b, int ind) { Put(b, ind < 0 ? ";" : ";\n"); }

static void PutNum(Buf *b, int ind, const char *name, double v)
{
  Key(b, ind, name);
  PutDouble(b, v);
  End(b, ind);
}

static void PutInt(Buf *b, int ind, const char *name, long long v)
{
  Key(b, ind, name);
  Put(b, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : ""); /* libconfig needs L for 64 bit */
  End(b, ind);
}

static void PutStr(Buf *b, int ind, const char *name, const char *v)
{
  Key(b, ind, name);
  Put(b, "\"");
  for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
    if (*p == '"' || *p == '\\') Put(b, "\\%c", *p);
    else if (*p < 0x20) Put(b, "\\x%02x", *p);
    else Put(b, "%c", *p);
  }
  Put(b, "\"");
  End(b, ind);
}

static void PutNums(Buf *b, int ind, const char *name, const double *v, int n)
{
  Key(b, ind, name);
  Put(b, "[");
  for (int i = 0; i < n; i++) {
    Put(b, i ? ", " : "");
    PutDouble(b, v[i]);
  }
  Put(b, "]");
  End(b, ind);
}

static void PutInts(Buf *b, int ind, const char *name, const int *v, int n)
{
  Key(b, ind, name);
  Put(b, "[");
  for (int i = 0; i < n; i++) Put(b, "%s%d", i ? ", " : "", v[i]);
  Put(b, "]");
  End(b, ind);
}

static void Open(Buf *b, int ind, const char *name) { Put(b, "%*s%s = {\n", ind, "", name); }
static void Close(Buf *b, int ind) { Put(b, "%*s};\n", ind, ""); }

/** The value of the key of group `group` that selects its variant, or NULL (config_keys.h). */
static const char *VariantOf(const char *group, const char *base)
{
  const OxConfigKey *kids[KIDS_MAX];
  int n = OxConfigKeyChildren(group, NULL, kids, KIDS_MAX);
  for (int i = 0; i < n; i++)
    if (kids[i]->flags & OX_KEY_VARIANT)
      return kids[i]->choices[*(const int *)(base + kids[i]->store.off)];
  return NULL;
}

/** Whether the printer writes key k of the group stored at base (else its comment, if any). */
static int Present(const OxConfigKey *k, const char *base)
{
  switch (k->store.present) {
  case OX_PRESENT_ALWAYS: return 1;
  case OX_PRESENT_FLAG: return *(const int *)(base + k->store.present_off) != 0;
  case OX_PRESENT_POSITIVE: return *(const double *)(base + k->store.off) > 0;
  }
  return 1;
}

static void PutKey(Buf *b, const OxConfigKey *k, const OxConfigKey *const *sibs, int nsibs,
                   const char *base, int ind);

/**
 * The members of group `group` (a key path; "" the top level, "x.list.[]" an
 * element), stored in the struct at base, in table order: one per line at
 * indent ind, or on the current line when ind < 0.
 */
static void PutMembers(Buf *b, const char *group, const char *base, int ind)
{
  const OxConfigKey *kids[KIDS_MAX];
  int n = OxConfigKeyChildren(group, VariantOf(group, base), kids, KIDS_MAX);
  for (int i = 0; i < n; i++) PutKey(b, kids[i], kids, n, base, ind);
}

/** Key k, a member of the group stored at base whose other members are sibs, and its value. */
static void PutKey(Buf *b, const OxConfigKey *k, const OxConfigKey *const *sibs, int nsibs,
                   const char *base, int ind)
{
  const char *name = OxConfigKeyName(k), *at = base + k->store.off;
  if (!Present(k, base)) {
    /* A key given instead of this one says what became of it (grid.shape of domain_um). */
    for (int i = 0; k->alt && i < nsibs; i++)
      if (!strcmp(OxConfigKeyName(sibs[i]), k->alt) && Present(sibs[i], base)) return;
    if (k->store.absent && ind >= 0) Put(b, "%*s# %s: %s\n", ind, "", name, k->store.absent);
    return;
  }
  switch (k->store.kind) {
  case OX_STORE_NONE:
  case OX_STORE_STRUCT: {
    const char *sub = k->store.kind == OX_STORE_STRUCT ? at : base;
    if (k->flags & OX_KEY_INLINE) {
      Put(b, "%*s%s = {", ind, "", name);
      PutMembers(b, k->path, sub, -1);
      Put(b, " };\n");
    } else {
      Open(b, ind, name);
      PutMembers(b, k->path, sub, ind + 2);
      Close(b, ind);
    }
    break;
  }
  case OX_STORE_DOUBLE: PutNum(b, ind, name, *(const double *)at); break;
  case OX_STORE_SECONDS:
    PutNum(b, ind, name, FromSeconds(*(const double *)at, k->store.factor));
    break;
  case OX_STORE_DOUBLES: PutNums(b, ind, name, (const double *)at, k->len_max); break;
  case OX_STORE_DOUBLES_N:
    PutNums(b, ind, name, (const double *)at, *(const int *)(base + k->store.aux));
    break;
  case OX_STORE_INT: PutInt(b, ind, name, *(const int *)at); break;
  case OX_STORE_INTS: PutInts(b, ind, name, (const int *)at, k->len_max); break;
  case OX_STORE_INTS_PTR:
    PutInts(b, ind, name, *(int *const *)at, *(const int *)(base + k->store.aux));
    break;
  case OX_STORE_LONG: PutInt(b, ind, name, *(const long *)at); break;
  case OX_STORE_ENUM: PutStr(b, ind, name, k->choices[*(const int *)at]); break;
  case OX_STORE_LETTER: {
    const char letter[2] = {*at, '\0'};
    PutStr(b, ind, name, letter);
    break;
  }
  case OX_STORE_BOOL:
    Key(b, ind, name);
    Put(b, *(const int *)at ? "true" : "false");
    End(b, ind);
    break;
  case OX_STORE_CHARS: PutStr(b, ind, name, at); break;
  case OX_STORE_LIST: {
    const char *elems = *(const char *const *)at;
    int n = *(const int *)(base + k->store.aux);
    char elem[KEY_MAX];
    Join(elem, k->path, "[]");
    Put(b, "%*s%s = (\n", ind, "", name);
    for (int i = 0; i < n; i++) {
      Put(b, "%*s{", ind + 2, "");
      PutMembers(b, elem, elems + (size_t)i * k->store.elem, -1);
      Put(b, i + 1 < n ? " },\n" : " }\n");
    }
    Put(b, "%*s);\n", ind, "");
    break;
  }
  }
  /* Keys not given because this one was say what they became. */
  for (int i = 0; ind >= 0 && i < nsibs; i++) {
    const OxConfigKey *s = sibs[i];
    if (!s->alt || strcmp(s->alt, name) || Present(s, base) || s->store.kind != OX_STORE_INTS)
      continue;
    const int *v = (const int *)(base + s->store.off);
    Put(b, "%*s# %s follows from %s: [", ind, "", OxConfigKeyName(s), name);
    for (int j = 0; j < s->len_max; j++) Put(b, "%s%d", j ? ", " : "", v[j]);
    Put(b, "]\n");
  }
}

char *OxConfigToString(const OxConfig *cfg)
{
  Buf b = {NULL, 0, 0, 0};
  Put(&b, "# oxvac resolved configuration: every key, defaults filled\n");
  PutMembers(&b, "", (const char *)cfg, 0);
  if (b.nomem) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * The segment [soc[i], soc[i+1]) holding s and the fraction *f along it; -1
 * when s is outside the knots and the end value *held applies.
 */
static int Segment(const OxTable *t, double s, double *f, double *held)
{
  if (t->n <= 0) {
    *held = 0.0;
    return -1;
  }
  if (!(s > t->soc[0])) {
    *held = t->value[0];
    return -1;
  }
  if (s >= t->soc[t->n - 1]) {
    *held = t->value[t->n - 1];
    return -1;
  }
  int lo = 0, hi = t->n - 1; /* soc[lo] < s < soc[hi] */
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (t->soc[mid] <= s) lo = mid;
    else hi = mid;
  }
  *f = (s - t->soc[lo]) / (t->soc[lo + 1] - t->soc[lo]);
  return lo;
}

double OxTableEvalLinear(const OxTable *t, double soc)
{
  double f, held;
  int i = Segment(t, soc, &f, &held);
  if (i < 0) return held;
  return t->value[i] + f * (t->value[i + 1] - t->value[i]);
}

double OxTableEvalLog(const OxTable *t, double soc)
{
  double f, held;
  int i = Segment(t, soc, &f, &held);
  if (i < 0) return held;
  double a = t->value[i], b = t->value[i + 1];
  /* A zero (or negative) end has no logarithm: that segment is linear. */
  if (!(a > 0 && b > 0)) return a + f * (b - a);
  return a * pow(b / a, f);
}
