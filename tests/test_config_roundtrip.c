/**
 * @file test_config_roundtrip.c
 * @brief The config module reads every key with its unit, applies --set
 *        overrides, prints a config that reads back to the same struct, and
 *        evaluates tables as the contract says.
 *
 * Usage: test_config_roundtrip [DATA_DIR]   (default tests/data; holds full.cfg
 * and minimal.cfg). Prints nothing and exits 0 on success; prints each failed
 * check and exits 1 otherwise.
 */
#define _XOPEN_SOURCE 700 /* mkstemp, realpath */

#include "oxvac/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/** a and b agree to 1e-12 relative (exact for 0). */
#define CLOSE(a, b)                                                                                \
  CHECK(fabs((a) - (b)) <= 1e-12 * fabs(b), "%s = %.17g, expected %.17g", #a, (double)(a),        \
        (double)(b))

static char data_dir[1024] = "tests/data";
static char full_cfg[1200], minimal_cfg[1200];

/** Load path with the given overrides; a failure is reported and returns 2. */
static int Load(const char *path, int nset, const char *const *sets, OxConfig *c)
{
  char err[OX_ERR_MAX];
  int rc = OxConfigLoad(path, nset, sets, c, err, sizeof err);
  CHECK(rc == 0, "loading %s: %s", path, err);
  return rc;
}

/** Write text to a fresh temporary file; its name goes to path. */
static int WriteTemp(const char *text, char *path, size_t len)
{
  const char *dir = getenv("TMPDIR");
  snprintf(path, len, "%s/oxvac_config_XXXXXX", dir && dir[0] ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  FILE *fp = fdopen(fd, "w");
  if (!fp) {
    close(fd);
    return 1;
  }
  int bad = fputs(text, fp) < 0;
  return fclose(fp) != 0 || bad;
}

/** a and b hold the same values (the config path and step lines may differ). */
static int SameConfig(const OxConfig *a, const OxConfig *b)
{
  OxConfig x, y;
  /* memcpy keeps the zeroed padding of both, so memcmp compares values only. */
  memcpy(&x, a, sizeof x);
  memcpy(&y, b, sizeof y);
  OxConfig *both[2] = {&x, &y};
  for (int k = 0; k < 2; k++) {
    memset(both[k]->source, 0, sizeof both[k]->source);
    both[k]->import_line = 0; /* where the key was written, like OxStep.line */
    both[k]->secondaries = NULL;
    both[k]->formation.steps = both[k]->cycling.steps = NULL;
    both[k]->fields_at_cycles = NULL;
  }
  if (memcmp(&x, &y, sizeof x)) return 0;
  /* The counts are equal (compared above); memcmp must not see NULL. */
  if (a->n_secondaries > 0 &&
      memcmp(a->secondaries, b->secondaries, sizeof *a->secondaries * (size_t)a->n_secondaries))
    return 0;
  if (a->n_fields_at > 0 &&
      memcmp(a->fields_at_cycles, b->fields_at_cycles, sizeof(int) * (size_t)a->n_fields_at))
    return 0;
  const OxBlock *blocks[2][2] = {{&a->formation, &a->cycling}, {&b->formation, &b->cycling}};
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < blocks[0][k]->nsteps; i++) {
      OxStep s = blocks[0][k]->steps[i], t = blocks[1][k]->steps[i];
      s.line = t.line = 0;
      if (memcmp(&s, &t, sizeof s)) return 0;
    }
  }
  return 1;
}

/**
 * Load path with overrides, print it, read the print back: the struct and
 * the print must come back identical.
 */
static void RoundTrip(const char *what, const char *path, int nset, const char *const *sets)
{
  OxConfig a, b;
  char tmp[1200];
  if (Load(path, nset, sets, &a)) {
    OxConfigFree(&a);
    return;
  }
  char *text = OxConfigToString(&a);
  CHECK(text != NULL, "%s: OxConfigToString returned NULL", what);
  if (!text || WriteTemp(text, tmp, sizeof tmp)) {
    CHECK(0, "%s: cannot write a temporary file", what);
    free(text);
    OxConfigFree(&a);
    return;
  }
  if (!Load(tmp, 0, NULL, &b)) {
    char *again = OxConfigToString(&b);
    CHECK(again && !strcmp(text, again), "%s: the print of the print differs:\n%s\n---\n%s", what,
          text, again ? again : "(null)");
    CHECK(SameConfig(&a, &b), "%s: the config read back differs from the one printed:\n%s", what,
          text);
    free(again);
  }
  remove(tmp);
  free(text);
  OxConfigFree(&a);
  OxConfigFree(&b);
}

static void TestFullValuesAndUnits(void)
{
  OxConfig c;
  if (Load(full_cfg, 0, NULL, &c)) {
    OxConfigFree(&c);
    return;
  }
  CLOSE(c.voxel_nm, 25.0);
  CHECK(c.has_shape && !c.has_domain && c.shape[0] == 40 && c.shape[1] == 48 && c.shape[2] == 56,
        "shape %d %d %d", c.shape[0], c.shape[1], c.shape[2]);
  CHECK(c.micro_type == OX_MICRO_GENERATED && c.seed == 7 && c.n_secondaries == 2, "generated");
  if (c.n_secondaries == 2) {
    CLOSE(c.secondaries[1].center_um[2], 0.75);
    CLOSE(c.secondaries[1].radius_um, 0.2);
  }
  CLOSE(c.primary_diameter_nm, 150.0);
  CLOSE(c.primary_cv, 0.3);
  CLOSE(c.porosity, 0.2);
  CHECK(c.diffusivity_cm2_s.n == 4, "diffusivity knots %d", c.diffusivity_cm2_s.n);
  CLOSE(c.diffusivity_cm2_s.value[3], 5e-18);
  CLOSE(c.diffusivity_scale, 2.5);
  CLOSE(c.particle_spread, 0.4);
  CLOSE(c.grain_boundary, 0.3);
  CLOSE(c.formula_li, 1.2);
  CLOSE(c.formula_co, 0.13);
  CHECK(c.exchange_nm_s.n == 3, "exchange knots %d", c.exchange_nm_s.n);
  CLOSE(c.exchange_scale, 0.5);
  CLOSE(c.equilibrium_fraction.soc[0], 0.1);
  CHECK(c.access_model == OX_ACCESS_DEPTH, "accessibility model %d", (int)c.access_model);
  CLOSE(c.access_length_nm, 150.0);
  CLOSE(c.initial_soc, 0.1);
  CHECK(c.formation.repeat == 2 && c.formation.nsteps == 2, "formation %d x %d", c.formation.repeat,
        c.formation.nsteps);
  CHECK(c.cycling.repeat == 300 && c.cycling.nsteps == 5, "cycling %d x %d", c.cycling.repeat,
        c.cycling.nsteps);
  if (c.formation.nsteps == 2 && c.cycling.nsteps == 5) {
    const OxStep *f = c.formation.steps, *s = c.cycling.steps;
    CLOSE(f[0].release_scale, 5.0);
    CLOSE(f[1].diffusivity_scale, 0.5);
    CLOSE(f[1].rate_C, -0.1);
    CHECK(s[1].type == OX_STEP_CV, "step 1 type %d", (int)s[1].type);
    CLOSE(s[1].duration_s, 45.0 * 60.0); /* duration_min */
    CLOSE(s[1].tau_s, 5.0 * 60.0);       /* tau_min */
    CLOSE(s[1].until_soc, 1.0);
    CHECK(s[2].type == OX_STEP_REST, "step 2 type %d", (int)s[2].type);
    CLOSE(s[2].duration_s, 600.0);
    CHECK(s[3].type == OX_STEP_HOLD, "step 3 type %d", (int)s[3].type);
    CLOSE(s[3].duration_s, 2.5 * 3600.0); /* duration_h */
    CLOSE(s[3].soc, 0.9);
    CLOSE(s[3].release_scale, 3.0);
    CLOSE(s[3].diffusivity_scale, 1.5);
    CLOSE(s[4].rate_C, -2.0); /* an integer in the file */
    CHECK(f[0].line > 0, "step line %d", f[0].line);
    for (int i = 1; i < 5; i++)
      CHECK(s[i].line == s[0].line + i, "step %d on line %d after line %d", i, s[i].line,
            s[0].line);
  }
  CLOSE(c.rtol, 1e-7);
  CLOSE(c.atol, 1e-13);
  CHECK(c.time_mode == OX_TIME_AVERAGED, "time_mode %d", (int)c.time_mode);
  CHECK(!strcmp(c.out_file, "results/full.h5"), "out_file %s", c.out_file);
  CHECK(c.n_fields_at == 3 && c.fields_at_cycles[0] == 0 && c.fields_at_cycles[1] == 50 &&
          c.fields_at_cycles[2] == 300,
        "fields_at_cycles not sorted and unique (n = %d)", c.n_fields_at);
  CHECK(c.checkpoint_every_cycles == 25, "checkpoint %d", c.checkpoint_every_cycles);
  CLOSE(c.mn_share, 0.8);
  CLOSE(c.lamella_thickness_nm, 60.0);
  CHECK(c.lamella_axis == 'x', "axis %c", c.lamella_axis);
  CLOSE(c.profile_bin_nm, 5.0);

  /* Every key of the contract appears in the print, in the file's units. */
  static const char *const keys[] = {
    "voxel_nm", "shape", "type", "seed", "secondaries", "center_um", "radius_um",
    "primary_diameter_nm", "primary_cv", "porosity", "diffusivity_cm2_s", "diffusivity_scale",
    "particle_spread", "grain_boundary", "formula", "li", "ni", "mn", "co", "exchange_nm_s",
    "exchange_scale", "equilibrium_fraction", "accessibility", "model", "length_nm",
    "initial_soc", "formation", "cycling", "repeat", "steps", "rate_C", "until_soc",
    "duration_min", "tau_min", "soc", "duration_h", "release_scale", "rtol", "atol", "time_mode",
    "file", "fields_at_cycles", "checkpoint_every_cycles", "mn_share", "lamella", "thickness_nm",
    "axis", "profile_bin_nm", "duration_min = 45.0;", "tau_min = 5.0;", "duration_h = 2.5;",
    NULL};
  char *text = OxConfigToString(&c);
  for (int i = 0; text && keys[i]; i++) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, strchr(keys[i], '=') ? "%s" : "%s = ", keys[i]);
    CHECK(strstr(text, pattern) != NULL, "'%s' missing from the print", pattern);
  }
  free(text);
  OxConfigFree(&c);
}

static void TestDefaults(void)
{
  OxConfig c;
  if (Load(minimal_cfg, 0, NULL, &c)) {
    OxConfigFree(&c);
    return;
  }
  CHECK(c.micro_type == OX_MICRO_SPHERE && !c.has_center, "sphere without centre");
  CLOSE(c.center_nm[0], 96 * 20.0 / 2); /* the grid centre */
  CHECK(c.diffusivity_cm2_s.n == 3, "default diffusivity knots %d", c.diffusivity_cm2_s.n);
  CLOSE(c.diffusivity_cm2_s.soc[1], 0.8);
  CLOSE(c.diffusivity_cm2_s.value[2], 1e-17);
  CLOSE(c.exchange_nm_s.value[1], 1e-3);
  CLOSE(c.equilibrium_fraction.value[1], 0.15);
  CLOSE(c.diffusivity_scale, 1.0);
  CLOSE(c.particle_spread, 0.0);
  CLOSE(c.grain_boundary, 0.0);
  CLOSE(c.formula_li, 1.18);
  CLOSE(c.formula_ni, 0.21);
  CLOSE(c.formula_mn, 0.53);
  CLOSE(c.formula_co, 0.08);
  CLOSE(c.exchange_scale, 1.0);
  CHECK(c.access_model == OX_ACCESS_UNIFORM, "access model %d", (int)c.access_model);
  CLOSE(c.initial_soc, 0.0);
  CHECK(c.formation.repeat == 0 && c.formation.nsteps == 0, "no formation");
  CHECK(c.cycling.steps[0].release_scale == 1.0 && c.cycling.steps[0].diffusivity_scale == 1.0,
        "step scales default to 1");
  CLOSE(c.rtol, 1e-6);
  CLOSE(c.atol, 1e-12);
  CHECK(c.time_mode == OX_TIME_RESOLVED, "time mode");
  CHECK(!strcmp(c.out_file, "results/run.h5"), "out_file %s", c.out_file);
  CHECK(c.n_fields_at == 3 && c.fields_at_cycles[0] == 1 && c.fields_at_cycles[1] == 125 &&
          c.fields_at_cycles[2] == 500,
        "default fields_at_cycles");
  CHECK(c.checkpoint_every_cycles == 10, "checkpoint %d", c.checkpoint_every_cycles);
  CLOSE(c.mn_share, 1.0);
  CLOSE(c.lamella_thickness_nm, 80.0);
  CHECK(c.lamella_axis == 'z', "axis %c", c.lamella_axis);
  CLOSE(c.profile_bin_nm, 10.0);
  OxConfigFree(&c);
}

static void TestOverrides(void)
{
  const char *const sets[] = {
    "material.diffusivity_scale=2.0",
    "material.diffusivity_scale = 3", /* later wins; an integer for a number key */
    "output.file=\"out/x y.h5\"",
    "output.fields_at_cycles=[10, 5, 10, 1]",
    "observables.lamella.thickness_nm=50.5", /* creates observables and lamella */
    "protocol.formation={ repeat = 3; "
    "steps = ( { type = \"hold\"; soc = 1.0; duration_h = 100.0; } ); }",
    "protocol.cycling.steps.[0].rate_C=2.0",
    "material.diffusivity_cm2_s={ soc = [0.5]; value = [2e-20]; }",
  };
  OxConfig c;
  if (Load(minimal_cfg, (int)(sizeof sets / sizeof sets[0]), sets, &c)) {
    OxConfigFree(&c);
    return;
  }
  CLOSE(c.diffusivity_scale, 3.0);
  CHECK(!strcmp(c.out_file, "out/x y.h5"), "out_file '%s'", c.out_file);
  CHECK(c.n_fields_at == 3 && c.fields_at_cycles[0] == 1 && c.fields_at_cycles[1] == 5 &&
          c.fields_at_cycles[2] == 10,
        "fields_at_cycles override (n = %d)", c.n_fields_at);
  CLOSE(c.lamella_thickness_nm, 50.5);
  CHECK(c.lamella_axis == 'z', "axis keeps its default: %c", c.lamella_axis);
  CHECK(c.formation.repeat == 3 && c.formation.nsteps == 1, "formation from --set");
  if (c.formation.nsteps == 1) CLOSE(c.formation.steps[0].duration_s, 100.0 * 3600.0);
  CLOSE(c.cycling.steps[0].rate_C, 2.0);
  CHECK(c.diffusivity_cm2_s.n == 1, "single-knot table");
  CLOSE(OxTableEvalLog(&c.diffusivity_cm2_s, 0.0), 2e-20);
  CLOSE(OxTableEvalLog(&c.diffusivity_cm2_s, 0.9), 2e-20);
  OxConfigFree(&c);

  /* The import file is resolved against the config's folder. */
  const char *const import[] = {"microstructure={ type = \"import\"; file = \"micro.h5\"; }"};
  if (!Load(minimal_cfg, 1, import, &c)) {
    char *dir = realpath(data_dir, NULL), expect[OX_PATH_MAX + 16];
    snprintf(expect, sizeof expect, "%s/micro.h5", dir ? dir : "?");
    CHECK(!strcmp(c.import_file, expect), "import_file %s, expected %s", c.import_file, expect);
    CHECK(!strcmp(c.import_labels, "/labels") && !c.import_secondary[0], "import defaults");
    free(dir);
  }
  OxConfigFree(&c);

  /* A bad override names its position and the key. */
  static const struct {
    const char *set, *expect;
  } bad[] = {
    {"grid.voxel_nm", "--set:2: key 'grid.voxel_nm': no '='"},
    {"grid.voxel_nm=abc", "--set:2: key 'grid.voxel_nm': cannot parse the value abc"},
    {"grid.voxel_nm=-1", "--set:2: key 'grid.voxel_nm': -1 is out of range"},
    {"material.difusivity_scale=2.0", "--set:2: key 'material.difusivity_scale': unknown key; "
                                      "did you mean 'material.diffusivity_scale'?"},
    {"grid.shape.x=1", "--set:2: key 'grid.shape.x': cannot set 'x' inside an array"},
    {"protocol.cycling.steps.[7].rate_C=1.0", "--set:2: key 'protocol.cycling.steps.[7].rate_C': "
                                              "index 7 is past the end"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *sets2[] = {"solver.rtol=1e-5", bad[i].set};
    char err[OX_ERR_MAX];
    int rc = OxConfigLoad(minimal_cfg, 2, sets2, &c, err, sizeof err);
    CHECK(rc == 2 && !strncmp(err, bad[i].expect, strlen(bad[i].expect)),
          "--set %s: rc %d, message '%s', expected it to start with '%s'", bad[i].set, rc, err,
          bad[i].expect);
    OxConfigFree(&c);
  }
}

static void TestRoundTrips(void)
{
  RoundTrip("full.cfg", full_cfg, 0, NULL);
  RoundTrip("minimal.cfg", minimal_cfg, 0, NULL);
  const char *const sphere[] = {
    "microstructure={ type = \"sphere\"; radius_nm = 333.3; center_nm = [100.0, 200.5, 300.25]; }"};
  RoundTrip("sphere with centre", full_cfg, 1, sphere);
  const char *const import[] = {
    "microstructure={ type = \"import\"; file = \"sub/m.h5\"; labels = \"/l\"; "
    "secondary = \"/s\"; }",
    "grid={ voxel_nm = 12.5; }"};
  RoundTrip("import without shape", full_cfg, 2, import);
  const char *const domain[] = {"grid={ voxel_nm = 30.0; domain_um = [0.9, 1.0, 1.1]; }"};
  RoundTrip("domain_um", minimal_cfg, 1, domain);
  /* Values that do not print short, durations that do not divide evenly,
     a 64-bit seed and a string that needs escapes. */
  const char *const awkward[] = {
    "material.diffusivity_scale=0.30000000000000004",
    "protocol.cycling.steps.[1].duration_min=0.1",
    "protocol.cycling.steps.[1].tau_min=1.2345678901234567",
    "protocol.cycling.steps.[3].duration_h=0.0001234567",
    "microstructure.seed=5000000000L",
    "output.file=\"a \\\"b\\\" \\\\ c.h5\"",
    "output.fields_at_cycles=[]",
    "protocol.formation.repeat=0",
  };
  RoundTrip("awkward values", full_cfg, (int)(sizeof awkward / sizeof awkward[0]), awkward);

  OxConfig c;
  if (!Load(minimal_cfg, 1, domain, &c)) {
    /* ceil(900/30) = 30 exactly (no spurious extra voxel); ceil(1000/30) = 34;
       ceil(1100/30) = 37 */
    CHECK(c.has_domain && c.shape[0] == 30 && c.shape[1] == 34 && c.shape[2] == 37,
          "shape from domain_um: %d %d %d", c.shape[0], c.shape[1], c.shape[2]);
  }
  OxConfigFree(&c);
}

static void TestTables(void)
{
  const OxTable d = {3, {0.0, 0.8, 1.0}, {1e-21, 1e-19, 1e-17}};
  CLOSE(OxTableEvalLog(&d, 0.4), 1e-20);                   /* halfway in log */
  CLOSE(OxTableEvalLog(&d, 0.2), 3.1622776601683795e-21);  /* 1e-21 * 100^(1/4) */
  CLOSE(OxTableEvalLog(&d, 0.9), 1e-18);
  CLOSE(OxTableEvalLog(&d, 0.8), 1e-19);                   /* a knot */
  CLOSE(OxTableEvalLog(&d, -0.5), 1e-21);                  /* held below */
  CLOSE(OxTableEvalLog(&d, 1.5), 1e-17);                   /* held above */

  const OxTable k = {2, {0.0, 1.0}, {0.0, 1e-3}};
  CLOSE(OxTableEvalLog(&k, 0.5), 5e-4);                    /* a zero end: linear */
  CLOSE(OxTableEvalLog(&k, 0.25), 2.5e-4);

  const OxTable z = {3, {0.0, 0.5, 1.0}, {1e-3, 0.0, 1e-1}};
  CLOSE(OxTableEvalLog(&z, 0.25), 5e-4);
  CLOSE(OxTableEvalLog(&z, 0.75), 5e-2);

  const OxTable p = {2, {0.2, 0.6}, {1e-4, 1e-2}};
  CLOSE(OxTableEvalLog(&p, 0.4), 1e-3);
  CLOSE(OxTableEvalLog(&p, 0.3), 1e-4 * pow(10.0, 0.5));   /* a quarter of 2 decades */
  CLOSE(OxTableEvalLog(&p, 0.1), 1e-4);

  const OxTable e = {2, {0.0, 1.0}, {0.0, 0.15}};
  CLOSE(OxTableEvalLinear(&e, 0.25), 0.0375);
  CLOSE(OxTableEvalLinear(&e, 1.2), 0.15);
  CLOSE(OxTableEvalLinear(&e, -1.0), 0.0);

  const OxTable l = {3, {0.2, 0.6, 0.8}, {1.0, 3.0, 2.0}};
  CLOSE(OxTableEvalLinear(&l, 0.3), 1.5);
  CLOSE(OxTableEvalLinear(&l, 0.7), 2.5);
  CLOSE(OxTableEvalLinear(&l, 0.6), 3.0);
  CLOSE(OxTableEvalLinear(&l, 0.1), 1.0);
  CLOSE(OxTableEvalLinear(&l, 0.9), 2.0);

  const OxTable one = {1, {0.3}, {7.0}};
  CLOSE(OxTableEvalLinear(&one, 0.0), 7.0);
  CLOSE(OxTableEvalLog(&one, 1.0), 7.0);
}

int main(int argc, char **argv)
{
  if (argc > 1) snprintf(data_dir, sizeof data_dir, "%s", argv[1]);
  snprintf(full_cfg, sizeof full_cfg, "%s/full.cfg", data_dir);
  snprintf(minimal_cfg, sizeof minimal_cfg, "%s/minimal.cfg", data_dir);
  TestFullValuesAndUnits();
  TestDefaults();
  TestOverrides();
  TestRoundTrips();
  TestTables();
  return failures ? 1 : 0;
}
