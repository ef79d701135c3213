/**
 * @file test_config_keys.c
 * @brief The key table (config_keys.h) is consistent with itself: each key
 *        once, each after the group that holds it, each default of its type
 *        and within its own range and length, each choice default one of the
 *        choices, each `only` a value of its group's variant key, each stored
 *        value of a size that matches its type; lookups by path as messages
 *        write them ("steps.[2].rate_C") find the `[]` row.
 *
 * Usage: test_config_keys. Prints nothing and exits 0 on success; prints each
 * failure and exits 1.
 */
#include "oxvac/config_keys.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/** The path of the group holding key path p ("" at the top level; "a.list" for "a.list.[].x"). */
static void Parent(const char *p, char *out, size_t len)
{
  snprintf(out, len, "%s", p);
  char *dot = strrchr(out, '.');
  if (!dot) {
    out[0] = '\0';
    return;
  }
  *dot = '\0';
  size_t n = strlen(out);
  if (n >= 3 && !strcmp(out + n - 3, ".[]")) out[n - 3] = '\0';
}

static int IndexOfKey(const OxConfigKey *k)
{
  for (int i = 0; i < OxConfigKeyCount(); i++)
    if (OxConfigKeyAt(i) == k) return i;
  return -1;
}

static void CheckDefault(const OxConfigKey *k)
{
  if (k->def_kind != OX_DEF_VALUE) return;
  switch (k->type) {
  case OX_KEY_NUMBER:
  case OX_KEY_INTEGER:
    CHECK(OxConfigKeyInRange(k, k->def), "%s: default %g out of its own range", k->path, k->def);
    if (k->type == OX_KEY_INTEGER)
      CHECK(k->def == floor(k->def), "%s: default %g not an integer", k->path, k->def);
    break;
  case OX_KEY_BOOL: CHECK(k->def == 0 || k->def == 1, "%s: default %g", k->path, k->def); break;
  case OX_KEY_STRING:
    CHECK(k->def_str && (k->def_str[0] || (k->flags & OX_KEY_EMPTY_OK)),
          "%s: default string empty or missing", k->path);
    break;
  case OX_KEY_CHOICE: {
    int n = 0;
    while (k->choices && k->choices[n]) n++;
    CHECK(k->def >= 0 && k->def < n && k->def == floor(k->def), "%s: default choice %g of %d",
          k->path, k->def, n);
    break;
  }
  case OX_KEY_NUMBERS:
  case OX_KEY_INTEGERS:
    CHECK(k->def_vals && k->def_n >= k->len_min && k->def_n <= k->len_max,
          "%s: default of %d elements for %d..%d", k->path, k->def_n, k->len_min, k->len_max);
    for (int i = 0; k->def_vals && i < k->def_n; i++) {
      CHECK(OxConfigKeyInRange(k, k->def_vals[i]), "%s: default[%d] = %g out of range", k->path,
            i, k->def_vals[i]);
      if (i > 0 && (k->flags & OX_KEY_INCREASING))
        CHECK(k->def_vals[i] > k->def_vals[i - 1], "%s: default not increasing", k->path);
    }
    break;
  case OX_KEY_TABLE: {
    const OxConfigKey *kids[4];
    int n = OxConfigKeyChildren(k->path, NULL, kids, 4);
    CHECK(n == 2 && !strcmp(OxConfigKeyName(kids[0]), "soc") &&
            !strcmp(OxConfigKeyName(kids[1]), "value"),
          "%s: a table's members are soc and value", k->path);
    if (n == 2)
      CHECK(kids[0]->def_n == kids[1]->def_n, "%s: default soc and value of different lengths",
            k->path);
    break;
  }
  case OX_KEY_GROUP:
  case OX_KEY_LIST: break;
  }
}

/** The stored value's kind must suit the key's type (the printer reads it as that). */
static void CheckStore(const OxConfigKey *k)
{
  OxKeyStore s = k->store.kind;
  int ok = 0;
  switch (k->type) {
  case OX_KEY_GROUP: ok = s == OX_STORE_NONE || s == OX_STORE_STRUCT; break;
  case OX_KEY_TABLE: ok = s == OX_STORE_STRUCT; break;
  case OX_KEY_NUMBER: ok = s == OX_STORE_DOUBLE || s == OX_STORE_SECONDS; break;
  case OX_KEY_INTEGER: ok = s == OX_STORE_INT || s == OX_STORE_LONG; break;
  case OX_KEY_BOOL: ok = s == OX_STORE_BOOL; break;
  case OX_KEY_STRING: ok = s == OX_STORE_CHARS; break;
  case OX_KEY_CHOICE: ok = s == OX_STORE_ENUM || s == OX_STORE_LETTER; break;
  case OX_KEY_NUMBERS:
    ok = (s == OX_STORE_DOUBLES && k->len_min == k->len_max) || s == OX_STORE_DOUBLES_N;
    break;
  case OX_KEY_INTEGERS:
    ok = (s == OX_STORE_INTS && k->len_min == k->len_max) || s == OX_STORE_INTS_PTR;
    break;
  case OX_KEY_LIST: ok = s == OX_STORE_LIST && k->store.elem > 0; break;
  }
  CHECK(ok, "%s: stored as kind %d, which does not suit type %d", k->path, (int)s, (int)k->type);
  if (s == OX_STORE_SECONDS) CHECK(k->store.factor > 0, "%s: no factor to seconds", k->path);
  if (k->type == OX_KEY_CHOICE) CHECK(k->choices && k->choices[0], "%s: no choices", k->path);
  if (k->flags & OX_KEY_VARIANT)
    CHECK(k->type == OX_KEY_CHOICE, "%s: a variant must be a choice", k->path);
}

/** `only` names values of the variant key of the group; `alt` names a sibling. */
static void CheckVariant(const OxConfigKey *k, const char *parent)
{
  const OxConfigKey *kids[64];
  char group[256];
  snprintf(group, sizeof group, "%s", k->path);
  char *dot = strrchr(group, '.');
  if (dot) *dot = '\0';
  else group[0] = '\0';
  int n = OxConfigKeyChildren(group, NULL, kids, 64);
  const OxConfigKey *variant = NULL;
  for (int i = 0; i < n; i++)
    if (kids[i]->flags & OX_KEY_VARIANT) variant = kids[i];
  if (k->only) {
    CHECK(variant != NULL, "%s: only '%s' in a group without a variant key (%s)", k->path, k->only,
          parent);
    if (!variant) return;
    char only[128];
    snprintf(only, sizeof only, "%s", k->only);
    for (char *tok = strtok(only, "|"); tok; tok = strtok(NULL, "|")) {
      int found = 0;
      for (int i = 0; variant->choices[i]; i++) found |= !strcmp(variant->choices[i], tok);
      CHECK(found, "%s: only '%s' is not a value of %s", k->path, tok, variant->path);
      CHECK(OxConfigKeyAccepts(k, tok), "%s: not accepted for '%s'", k->path, tok);
    }
    CHECK(!OxConfigKeyAccepts(k, "zzzzqq"), "%s: accepted for any variant", k->path);
  }
  if (k->alt) {
    int found = 0;
    for (int i = 0; i < n; i++) found |= !strcmp(OxConfigKeyName(kids[i]), k->alt);
    CHECK(found, "%s: alt '%s' is not a key of its group", k->path, k->alt);
  }
}

static void CheckLookups(void)
{
  static const struct {
    const char *path, *want;
  } cases[] = {
    {"protocol.cycling.steps.[2].rate_C", "protocol.cycling.steps.[].rate_C"},
    {"protocol.cycling.steps.[].rate_C", "protocol.cycling.steps.[].rate_C"},
    {"microstructure.secondaries.[10].radius_um", "microstructure.secondaries.[].radius_um"},
    {"material.diffusivity_cm2_s.value", "material.diffusivity_cm2_s.value"},
    {"grid", "grid"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const OxConfigKey *k = OxConfigKeyFind(cases[i].path);
    CHECK(k && !strcmp(k->path, cases[i].want), "find %s: %s", cases[i].path, k ? k->path : "NULL");
  }
  static const char *const none[] = {"grid.voxel", "protocol.cycling.steps.rate_C",
                                     "protocol.cycling.steps.[x].rate_C", "", "zzzzqq"};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
    CHECK(OxConfigKeyFind(none[i]) == NULL, "find '%s' found a key", none[i]);

  const OxConfigKey *kids[64];
  int n = OxConfigKeyChildren("protocol.cycling.steps.[3]", "hold", kids, 64);
  const char *want[] = {"type", "soc", "duration_h", "release_scale", "diffusivity_scale"};
  CHECK(n == 5, "a hold step has %d keys, expected 5", n);
  for (int i = 0; i < n && i < 5; i++)
    CHECK(!strcmp(OxConfigKeyName(kids[i]), want[i]), "hold step key %d: %s, expected %s", i,
          OxConfigKeyName(kids[i]), want[i]);

  char text[256];
  OxConfigKeyRangeText(OxConfigKeyFind("microstructure.porosity"), text, sizeof text);
  CHECK(!strcmp(text, " in [0, 0.9)"), "porosity range '%s'", text);
  OxConfigKeyRangeText(OxConfigKeyFind("protocol.cycling.repeat"), text, sizeof text);
  CHECK(!strcmp(text, " >= 1"), "repeat range '%s'", text);
  OxConfigKeyDefaultText(OxConfigKeyFind("material.diffusivity_cm2_s"), text, sizeof text);
  CHECK(!strcmp(text, "{ soc = [0.0, 0.8, 1.0]; value = [1e-21, 1e-19, 1e-17]; }"),
        "table default '%s'", text);
  OxConfigKeyDefaultText(OxConfigKeyFind("output.fields_at_cycles"), text, sizeof text);
  CHECK(!strcmp(text, "[1, 125, 500]"), "fields_at_cycles default '%s'", text);
  OxFormatNumber(1.0, text, sizeof text);
  CHECK(!strcmp(text, "1.0"), "1.0 written '%s'", text);
  OxFormatNumber(0.30000000000000004, text, sizeof text);
  CHECK(strtod(text, NULL) == 0.30000000000000004, "0.30000000000000004 written '%s'", text);
}

int main(void)
{
  int n = OxConfigKeyCount();
  CHECK(n > 50, "only %d keys", n);
  for (int i = 0; i < n; i++) {
    const OxConfigKey *k = OxConfigKeyAt(i);
    char parent[256];
    CHECK(k->path && k->path[0] && k->meaning && k->meaning[0] && k->unit, "key %d incomplete", i);
    CHECK(OxConfigKeyFind(k->path) == k, "%s: found as another row (twice in the table?)", k->path);
    Parent(k->path, parent, sizeof parent);
    if (parent[0]) {
      const OxConfigKey *p = OxConfigKeyFind(parent);
      CHECK(p && (p->type == OX_KEY_GROUP || p->type == OX_KEY_TABLE || p->type == OX_KEY_LIST),
            "%s: its group %s is not a group, table or list of the table", k->path, parent);
      CHECK(p && IndexOfKey(p) < i, "%s: comes before its group %s", k->path, parent);
      if (p && strstr(k->path, ".[]."))
        CHECK(p->type == OX_KEY_LIST, "%s: [] under a non-list", k->path);
    } else {
      CHECK(k->type == OX_KEY_GROUP, "%s: a top-level key must be a group", k->path);
    }
    CHECK(k->lo <= k->hi, "%s: bounds [%g, %g]", k->path, k->lo, k->hi);
    CHECK(k->len_min <= k->len_max, "%s: lengths %d..%d", k->path, k->len_min, k->len_max);
    CheckDefault(k);
    CheckStore(k);
    CheckVariant(k, parent);
  }
  CHECK(OxConfigKeyAt(-1) == NULL && OxConfigKeyAt(n) == NULL, "rows outside the table");
  CheckLookups();
  return failures ? 1 : 0;
}
