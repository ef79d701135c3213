/**
 * @file test_protocol.c
 * @brief Protocol expansion, s(t) and the parameter law against hand values.
 *
 * Configs are built in code so the test does not depend on the config parser.
 * Silent on success (exit 0); prints each failure and exits 1.
 */
#include "oxvac/protocol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                                         \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                      \
      fprintf(stderr, __VA_ARGS__);                                                              \
      fputc('\n', stderr);                                                                       \
      failures++;                                                                                \
    }                                                                                            \
  } while (0)

/** Relative closeness, with an absolute floor for values near zero. */
static int near(double a, double b, double rtol) {
  return fabs(a - b) <= rtol * fmax(fabs(a), fabs(b)) + 1e-300;
}

#define CHECK_NEAR(a, b, rtol, what)                                                             \
  CHECK(near((a), (b), (rtol)), "%s: got %.17g, expected %.17g", (what), (double)(a), (double)(b))

/** A zeroed config with simple tables and unit scales. */
static void base_config(OxConfig *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  snprintf(cfg->source, sizeof(cfg->source), "test.cfg");
  cfg->diffusivity_scale = 1.0;
  cfg->exchange_scale = 1.0;
  cfg->diffusivity_cm2_s.n = 2;
  cfg->diffusivity_cm2_s.soc[0] = 0.0;
  cfg->diffusivity_cm2_s.soc[1] = 1.0;
  cfg->diffusivity_cm2_s.value[0] = 1e-19;
  cfg->diffusivity_cm2_s.value[1] = 1e-17;
  cfg->exchange_nm_s.n = 2;
  cfg->exchange_nm_s.soc[0] = 0.0;
  cfg->exchange_nm_s.soc[1] = 1.0;
  cfg->exchange_nm_s.value[0] = 1e-4;
  cfg->exchange_nm_s.value[1] = 1e-2;
  cfg->equilibrium_fraction.n = 2;
  cfg->equilibrium_fraction.soc[0] = 0.0;
  cfg->equilibrium_fraction.soc[1] = 1.0;
  cfg->equilibrium_fraction.value[0] = 0.0;
  cfg->equilibrium_fraction.value[1] = 0.15;
}

static OxStep step_base(OxStepType type, int line) {
  OxStep s;
  memset(&s, 0, sizeof(s));
  s.type = type;
  s.release_scale = 1.0;
  s.diffusivity_scale = 1.0;
  s.line = line;
  return s;
}

static OxStep cc(double rate, double until, int line) {
  OxStep s = step_base(OX_STEP_CC, line);
  s.rate_C = rate;
  s.until_soc = until;
  return s;
}

static OxStep cv(double dur_s, double tau_s, double until, int line) {
  OxStep s = step_base(OX_STEP_CV, line);
  s.duration_s = dur_s;
  s.tau_s = tau_s;
  s.until_soc = until;
  return s;
}

static OxStep rest(double dur_s, int line) {
  OxStep s = step_base(OX_STEP_REST, line);
  s.duration_s = dur_s;
  return s;
}

static OxStep hold(double soc, double dur_s, int line) {
  OxStep s = step_base(OX_STEP_HOLD, line);
  s.soc = soc;
  s.duration_s = dur_s;
  return s;
}

/** Create, reporting an unexpected failure. */
static int create_ok(const OxConfig *cfg, OxProtocol *p, const char *what) {
  char err[OX_ERR_MAX] = "";
  int rc = OxProtocolCreate(cfg, p, err, sizeof(err));
  CHECK(rc == 0, "%s: OxProtocolCreate returned %d: %s", what, rc, err);
  return rc == 0;
}

static void test_cc(void) {
  OxConfig cfg;
  OxProtocol p;
  base_config(&cfg);
  OxStep steps[] = {cc(1.0, 1.0, 10), cc(-2.0, 0.0, 11)};
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 2, .steps = steps};
  if (!create_ok(&cfg, &p, "cc")) return;
  CHECK(p.nseg == 2, "cc: nseg %d, expected 2", p.nseg);
  CHECK(p.seg[0].t0_s == 0.0, "cc: first segment starts at %g", p.seg[0].t0_s);
  CHECK_NEAR(p.seg[0].t1_s, 3600.0, 1e-14, "1C charge 0->1 duration");
  CHECK(p.seg[0].s0 == 0.0 && p.seg[0].s1 == 1.0, "cc: s0/s1 %g/%g", p.seg[0].s0, p.seg[0].s1);
  CHECK_NEAR(OxProtocolSoc(&p, 0, 1800.0), 0.5, 1e-14, "1C charge s(1800)");
  CHECK(OxProtocolSoc(&p, 0, -5.0) == 0.0, "cc: t before the segment not clamped");
  CHECK(OxProtocolSoc(&p, 0, 1e9) == 1.0, "cc: t after the segment not clamped");
  CHECK_NEAR(p.seg[1].t1_s - p.seg[1].t0_s, 1800.0, 1e-14, "2C discharge 1->0 duration");
  CHECK(p.seg[1].s0 == 1.0 && p.seg[1].s1 == 0.0, "2C discharge s0/s1 %g/%g", p.seg[1].s0,
        p.seg[1].s1);
  CHECK_NEAR(OxProtocolSoc(&p, 1, 3600.0 + 900.0), 0.5, 1e-14, "2C discharge s at half time");
  CHECK_NEAR(OxProtocolEndTime(&p), 5400.0, 1e-14, "cc end time");
  CHECK(OxProtocolNumCycles(&p) == 1, "cc: %d cycles", OxProtocolNumCycles(&p));
  OxProtocolDestroy(&p);
}

static void test_cv(void) {
  OxConfig cfg;
  OxProtocol p;
  base_config(&cfg);
  cfg.initial_soc = 0.2;
  const double tau = 600.0;
  OxStep steps[] = {cc(1.0, 0.8, 10), cv(3.0 * tau, tau, 1.0, 11)};
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 2, .steps = steps};
  if (!create_ok(&cfg, &p, "cv")) return;
  const OxSegment *g = &p.seg[1];
  CHECK(g->s0 == 0.8, "cv: s0 %.17g, expected the cc end 0.8", g->s0);
  CHECK_NEAR(g->t1_s - g->t0_s, 3.0 * tau, 1e-14, "cv duration");
  CHECK_NEAR(OxProtocolSoc(&p, 1, g->t0_s + tau), 1.0 + (0.8 - 1.0) / exp(1.0), 1e-13,
             "cv s at t=tau");
  CHECK_NEAR(g->s1, 1.0 + (0.8 - 1.0) * exp(-3.0), 1e-13, "cv s1");
  CHECK(OxProtocolSoc(&p, 1, g->t1_s) == g->s1, "cv: s(t1) differs from s1");
  OxProtocolDestroy(&p);
}

static void test_hold(void) {
  OxConfig cfg;
  OxProtocol p;
  base_config(&cfg);
  cfg.initial_soc = 0.3;
  OxStep steps[] = {rest(100.0, 10), hold(0.8, 500.0, 11), cc(-1.0, 0.5, 12)};
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 3, .steps = steps};
  if (!create_ok(&cfg, &p, "hold")) return;
  CHECK(p.seg[0].s0 == 0.3 && p.seg[0].s1 == 0.3, "rest: s changed %g -> %g", p.seg[0].s0,
        p.seg[0].s1);
  CHECK_NEAR(OxProtocolSoc(&p, 0, 50.0), 0.3, 0.0, "rest s(50)");
  CHECK(p.seg[1].s0 == 0.8 && p.seg[1].s1 == 0.8, "hold: s0/s1 %g/%g, expected 0.8",
        p.seg[1].s0, p.seg[1].s1);
  CHECK(OxProtocolSoc(&p, 1, 100.0) == 0.8, "hold: no jump at the step start");
  CHECK_NEAR(p.seg[1].t1_s, 600.0, 1e-14, "hold end");
  CHECK(p.seg[2].s0 == 0.8, "after hold: cc starts at %g, expected 0.8", p.seg[2].s0);
  CHECK_NEAR(p.seg[2].t1_s - p.seg[2].t0_s, 0.3 * 3600.0, 1e-13, "cc after hold duration");
  CHECK(OxProtocolSegmentAt(&p, 100.0) == 1, "SegmentAt(100) = %d, expected 1",
        OxProtocolSegmentAt(&p, 100.0));
  CHECK(OxProtocolSegmentAt(&p, 1e9) == 2, "SegmentAt(past end) = %d, expected 2",
        OxProtocolSegmentAt(&p, 1e9));
  OxProtocolDestroy(&p);
}

/** The paper-like protocol: 2 formation passes, 3 cycles of cc/cv/rest/cc/rest. */
static void test_expansion(void) {
  OxConfig cfg;
  OxProtocol p;
  base_config(&cfg);
  OxStep form[] = {cc(0.1, 1.0, 20), cc(-0.1, 0.0, 21)};
  OxStep cyc[] = {cc(1.0, 1.0, 30), cv(45 * 60.0, 10 * 60.0, 1.0, 31), rest(10 * 60.0, 32),
                  cc(-2.0, 0.0, 33), rest(10 * 60.0, 34)};
  cfg.formation = (OxBlock){.repeat = 2, .nsteps = 2, .steps = form};
  cfg.cycling = (OxBlock){.repeat = 3, .nsteps = 5, .steps = cyc};
  if (!create_ok(&cfg, &p, "expansion")) return;
  CHECK(p.nseg == 2 * 2 + 3 * 5, "expansion: nseg %d, expected 19", p.nseg);
  if (p.nseg != 19) {
    OxProtocolDestroy(&p);
    return;
  }
  for (int g = 0; g < p.nseg; g++) {
    const OxSegment *s = &p.seg[g];
    int formation = g < 4;
    int k = formation ? g : g - 4;
    int nsteps = formation ? 2 : 5;
    int pass = k / nsteps + 1, idx = k % nsteps;
    CHECK(s->cycle == (formation ? 0 : pass), "seg %d: cycle %d", g, s->cycle);
    CHECK(s->formation_cycle == (formation ? pass : 0), "seg %d: formation_cycle %d", g,
          s->formation_cycle);
    CHECK(s->step_index == idx, "seg %d: step_index %d, expected %d", g, s->step_index, idx);
    CHECK(s->last_of_cycle == (idx == nsteps - 1), "seg %d: last_of_cycle %d", g,
          s->last_of_cycle);
    CHECK(s->step == (formation ? &form[idx] : &cyc[idx]), "seg %d: wrong step pointer", g);
    if (g > 0) {
      CHECK(s->t0_s == p.seg[g - 1].t1_s, "seg %d: starts at %g, previous ends at %g", g,
            s->t0_s, p.seg[g - 1].t1_s);
      CHECK(s->s0 == p.seg[g - 1].s1, "seg %d: s0 %g, previous s1 %g", g, s->s0,
            p.seg[g - 1].s1);
    }
  }
  /* formation: 2 * (10 h + 10 h); cycle: 1 h + 45 min + 10 min + 30 min + 10 min */
  CHECK_NEAR(p.seg[3].t1_s, 2 * 72000.0, 1e-13, "formation end");
  CHECK_NEAR(p.seg[4 + 4].t1_s - p.seg[4].t0_s, 9300.0, 1e-13, "one cycle's duration");
  CHECK_NEAR(OxProtocolEndTime(&p), 144000.0 + 3 * 9300.0, 1e-13, "paper-like end time");
  CHECK(OxProtocolNumCycles(&p) == 3, "paper-like: %d cycles", OxProtocolNumCycles(&p));
  /* cv at s0 = until stays put; its start is the 1C charge end */
  CHECK(p.seg[5].s0 == 1.0 && p.seg[5].s1 == 1.0, "cv at target moved: %g -> %g", p.seg[5].s0,
        p.seg[5].s1);
  OxProtocolDestroy(&p);
}

/** A step with nothing to do keeps its zero-length segment (one output row per step end). */
static void test_zero_duration(void) {
  OxConfig cfg;
  OxProtocol p;
  base_config(&cfg);
  cfg.initial_soc = 1.0;
  OxStep steps[] = {cc(1.0, 1.0, 10), rest(0.0, 11)};
  cfg.cycling = (OxBlock){.repeat = 2, .nsteps = 2, .steps = steps};
  if (!create_ok(&cfg, &p, "zero duration")) return;
  CHECK(p.nseg == 4, "zero duration: nseg %d, expected 4", p.nseg);
  CHECK(OxProtocolEndTime(&p) == 0.0, "zero duration: end time %g", OxProtocolEndTime(&p));
  OxProtocolDestroy(&p);
}

/** Check err has the form "FILE:LINE: key 'KEY': ...; ..." with the given parts. */
static void check_message(const char *err, const char *file_line, const char *key) {
  char want[256];
  snprintf(want, sizeof(want), "%s: key '%s': ", file_line, key);
  CHECK(strncmp(err, want, strlen(want)) == 0, "message \"%s\" does not start with \"%s\"", err,
        want);
  CHECK(strstr(err + strlen(want), "; ") != NULL, "message \"%s\" lacks \"; what is expected\"",
        err);
}

static void test_wrong_sign(void) {
  OxConfig cfg;
  OxProtocol p;
  char err[OX_ERR_MAX] = "";
  base_config(&cfg);
  cfg.initial_soc = 0.5;
  OxStep steps[] = {rest(60.0, 41), cc(1.0, 0.2, 42)};
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 2, .steps = steps};
  int rc = OxProtocolCreate(&cfg, &p, err, sizeof(err));
  CHECK(rc == 2, "charge towards a lower soc: rc %d, expected 2", rc);
  check_message(err, "test.cfg:42", "protocol.cycling.steps.[1].rate_C");
  CHECK(strstr(err, "0.5 -> 0.2") != NULL, "message \"%s\" lacks the soc change", err);
  OxProtocolDestroy(&p);

  /* a discharge towards a higher soc, in formation */
  base_config(&cfg);
  OxStep form[] = {cc(-0.1, 1.0, 7)};
  OxStep cyc[] = {rest(60.0, 9)};
  cfg.formation = (OxBlock){.repeat = 1, .nsteps = 1, .steps = form};
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 1, .steps = cyc};
  err[0] = '\0';
  rc = OxProtocolCreate(&cfg, &p, err, sizeof(err));
  CHECK(rc == 2, "discharge towards a higher soc: rc %d, expected 2", rc);
  check_message(err, "test.cfg:7", "protocol.formation.steps.[0].rate_C");
  OxProtocolDestroy(&p);

  /* the sign is judged against the soc the step starts from: 0 -> 1, then +1C to 0.5 */
  base_config(&cfg);
  OxStep two[] = {cc(1.0, 1.0, 50), cc(1.0, 0.5, 51)};
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 2, .steps = two};
  rc = OxProtocolCreate(&cfg, &p, err, sizeof(err));
  CHECK(rc == 2, "charge after charge to a lower soc: rc %d, expected 2", rc);
  OxProtocolDestroy(&p);
}

static void test_params(void) {
  OxConfig cfg;
  OxProtocol p;
  OxParams q;
  base_config(&cfg);
  OxStep steps[] = {cc(1.0, 1.0, 10), cc(-1.0, 0.0, 11)};
  steps[1].release_scale = 5.0;
  steps[1].diffusivity_scale = 3.0;
  cfg.cycling = (OxBlock){.repeat = 1, .nsteps = 2, .steps = steps};
  if (!create_ok(&cfg, &p, "params")) return;

  /* log-linear halfway between 1e-19 and 1e-17 cm2/s is 1e-18 cm2/s = 1e-22 m2/s */
  OxProtocolParams(&p, 0, 1800.0, &q);
  CHECK_NEAR(q.soc, 0.5, 1e-14, "params soc");
  CHECK_NEAR(q.D_m2_s, 1e-22, 1e-12, "D halfway");
  CHECK_NEAR(q.k_m_s, 1e-3 * 1e-9, 1e-12, "k halfway");
  CHECK_NEAR(q.c_eq, 0.075, 1e-14, "c_eq halfway");

  /* same soc in the discharge step: its scales multiply D and k, not c_eq */
  OxProtocolParams(&p, 1, 5400.0, &q);
  CHECK_NEAR(q.soc, 0.5, 1e-14, "params soc in step 2");
  CHECK_NEAR(q.D_m2_s, 3.0 * 1e-22, 1e-12, "D with step diffusivity_scale");
  CHECK_NEAR(q.k_m_s, 5.0 * 1e-12, 1e-12, "k with step release_scale");
  CHECK_NEAR(q.c_eq, 0.075, 1e-14, "c_eq unscaled");

  /* and the material/surface scales multiply on top */
  cfg.diffusivity_scale = 2.0;
  cfg.exchange_scale = 0.5;
  OxProtocolParams(&p, 1, 5400.0, &q);
  CHECK_NEAR(q.D_m2_s, 2.0 * 3.0 * 1e-22, 1e-12, "D with both scales");
  CHECK_NEAR(q.k_m_s, 0.5 * 5.0 * 1e-12, 1e-12, "k with both scales");

  /* at a knot the table value itself */
  OxProtocolParams(&p, 0, 3600.0, &q);
  CHECK_NEAR(q.D_m2_s, 2.0 * 1e-17 * 1e-4, 1e-12, "D at the last knot");
  OxProtocolDestroy(&p);
}

int main(void) {
  test_cc();
  test_cv();
  test_hold();
  test_expansion();
  test_zero_duration();
  test_wrong_sign();
  test_params();
  if (failures) {
    fprintf(stderr, "test_protocol: %d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}
