/**
 * @file protocol.c
 * @brief Protocol expansion into segments, s(t) and the parameter law.
 *
 * The protocol is expanded once into a flat list of segments so that the
 * integrator can stop exactly at every step end and the output gets one row
 * per step end. Each segment's start soc is the previous segment's end soc
 * (or the hold's set value) bit for bit, so s(t) has no drift across
 * thousands of cycles beyond what the step law itself implies.
 */
#include "oxvac/protocol.h"
#include "oxvac/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OX_SECONDS_PER_HOUR 3600.0

/**
 * An input error about a protocol key at line of the config: member of step i
 * of block (".rate_C", "" for the step itself), or, with i < 0, member of the
 * block itself ("repeat"). Returns 2.
 */
static int fail_step(char *err, size_t errlen, const OxConfig *cfg, int line, const char *block,
                     int i, const char *member, const char *fmt, ...) {
  char    key[128];
  va_list ap;
  if (i >= 0) snprintf(key, sizeof key, "protocol.%s.steps.[%d]%s", block, i, member);
  else snprintf(key, sizeof key, "protocol.%s.%s", block, member);
  va_start(ap, fmt);
  OxInputErrorV(err, errlen, cfg->source, line, key, fmt, ap);
  va_end(ap);
  return 2;
}

/** Line of a block in the config, for messages about the block as a whole. */
static int block_line(const OxBlock *b) {
  return (b->nsteps > 0 && b->steps) ? b->steps[0].line : 0;
}

/**
 * Check that a cc step can reach its target from s0. A rate whose sign points
 * away from until_soc would never get there, so it is an input error, not
 * something to silently fix by taking |rate|.
 */
static int check_cc(const OxConfig *cfg, const char *block, int i, const OxStep *st, double s0,
                    char *err, size_t errlen) {
  double r = st->rate_C, u = st->until_soc;
  if (u == s0) return 0; /* already there: zero duration, any rate is fine */
  if ((r > 0.0 && u < s0) || (r < 0.0 && u > s0)) {
    return fail_step(err, errlen, cfg, st->line, block, i, ".rate_C",
                     "sign points away from until_soc (soc %g -> %g); expected a positive rate "
                     "to charge and a negative rate to discharge", s0, u);
  }
  if (r == 0.0 || !isfinite(r)) {
    return fail_step(err, errlen, cfg, st->line, block, i, ".rate_C",
                     "rate %g never reaches until_soc (soc %g -> %g); expected a finite non-zero "
                     "rate, positive to charge and negative to discharge", r, s0, u);
  }
  return 0;
}

/** cv law: exponential approach to until_soc; tau <= 0 means an instant jump. */
static double cv_soc(const OxStep *st, double s0, double dt) {
  if (!(st->tau_s > 0.0)) return st->until_soc;
  return st->until_soc + (s0 - st->until_soc) * exp(-dt / st->tau_s);
}

/**
 * Fill one segment for step st starting at time t0 with soc s_prev.
 * @return 0, or 2 on an input error (message in err)
 */
static int make_segment(const OxConfig *cfg, const char *block, int i, const OxStep *st,
                        double t0, double s_prev, OxSegment *sg, char *err, size_t errlen) {
  double dur = 0.0, s0 = s_prev, s1 = s_prev;
  switch (st->type) {
  case OX_STEP_CC:
    if (check_cc(cfg, block, i, st, s0, err, errlen)) return 2;
    if (st->until_soc != s0)
      dur = fabs(st->until_soc - s0) / fabs(st->rate_C) * OX_SECONDS_PER_HOUR;
    s1 = st->until_soc; /* exact, so the next step starts on the target, not near it */
    break;
  case OX_STEP_CV:
    dur = st->duration_s;
    s1 = cv_soc(st, s0, dur);
    break;
  case OX_STEP_REST:
    dur = st->duration_s;
    break;
  case OX_STEP_HOLD:
    s0 = s1 = st->soc; /* the jump happens at the step start */
    dur = st->duration_s;
    break;
  default:
    return fail_step(err, errlen, cfg, st->line, block, i, ".type", "unknown step type %d; "
                     "expected \"cc\", \"cv\", \"rest\" or \"hold\"", (int)st->type);
  }
  if (!(dur >= 0.0) || !isfinite(dur)) {
    return fail_step(err, errlen, cfg, st->line, block, i, "", "duration %g s; expected a "
                     "finite non-negative duration", dur);
  }
  sg->t0_s = t0;
  sg->t1_s = t0 + dur;
  sg->s0 = s0;
  sg->s1 = s1;
  sg->step_index = i;
  sg->step = st;
  return 0;
}

/**
 * Append every pass of block b to p. Formation passes number formation_cycle,
 * cycling passes number cycle, as the output groups rows by them.
 */
static int expand_block(const OxConfig *cfg, const OxBlock *b, const char *block, int formation,
                        OxProtocol *p, double *t, double *s, char *err, size_t errlen) {
  for (int pass = 1; pass <= b->repeat; pass++) {
    for (int i = 0; i < b->nsteps; i++) {
      OxSegment *sg = &p->seg[p->nseg];
      memset(sg, 0, sizeof(*sg));
      if (make_segment(cfg, block, i, &b->steps[i], *t, *s, sg, err, errlen)) return 2;
      sg->cycle = formation ? 0 : pass;
      sg->formation_cycle = formation ? pass : 0;
      sg->last_of_cycle = (i == b->nsteps - 1);
      *t = sg->t1_s;
      *s = sg->s1;
      p->nseg++;
    }
  }
  return 0;
}

/** Validate a block's shape before sizing the segment array from it. */
static int check_block(const OxConfig *cfg, const OxBlock *b, const char *block, char *err,
                       size_t errlen) {
  if (b->repeat < 0) {
    return fail_step(err, errlen, cfg, block_line(b), block, -1, "repeat", "%d is negative; "
                     "expected an integer >= 0", b->repeat);
  }
  if (b->nsteps < 0 || (b->nsteps > 0 && !b->steps)) {
    return fail_step(err, errlen, cfg, block_line(b), block, -1, "steps", "%d steps given; "
                     "expected a list of steps", b->nsteps);
  }
  return 0;
}

/**
 * @brief Expand formation then cycling into segments, from t = 0 and
 *        s = cfg->initial_soc.
 *
 * Zero-duration segments are kept so that every step end yields an output row.
 * @return 0; 2 on an input error (err "FILE:LINE: key '...': ...; ..."); 1 when
 *         memory runs out
 */
int OxProtocolCreate(const OxConfig *cfg, OxProtocol *p, char *err, size_t errlen) {
  memset(p, 0, sizeof(*p));
  p->cfg = cfg;
  p->initial_soc = cfg->initial_soc;
  if (check_block(cfg, &cfg->formation, "formation", err, errlen) ||
      check_block(cfg, &cfg->cycling, "cycling", err, errlen))
    return 2;

  /* Size in 64 bits: repeat * nsteps can exceed int for absurd inputs. */
  long long n = (long long)cfg->formation.repeat * cfg->formation.nsteps +
                (long long)cfg->cycling.repeat * cfg->cycling.nsteps;
  if (n > 100000000LL) {
    return fail_step(err, errlen, cfg, block_line(&cfg->cycling), "cycling", -1, "repeat",
                     "%lld protocol steps in total; expected at most 100000000", n);
  }
  if (n > 0) {
    p->seg = malloc((size_t)n * sizeof(*p->seg));
    if (!p->seg) {
      if (err && errlen) snprintf(err, errlen, "%s: out of memory for %lld protocol segments", cfg->source, n);
      return 1;
    }
  }

  double t = 0.0, s = cfg->initial_soc;
  if (expand_block(cfg, &cfg->formation, "formation", 1, p, &t, &s, err, errlen) ||
      expand_block(cfg, &cfg->cycling, "cycling", 0, p, &t, &s, err, errlen)) {
    OxProtocolDestroy(p);
    return 2;
  }
  return 0;
}

/** @brief Release the segments; safe on a zeroed or already destroyed protocol. */
void OxProtocolDestroy(OxProtocol *p) {
  if (!p) return;
  free(p->seg);
  p->seg = NULL;
  p->nseg = 0;
}

/** @brief soc inside segment g at time t_s, t_s clamped to [t0, t1]. */
double OxProtocolSoc(const OxProtocol *p, int g, double t_s) {
  if (!p || p->nseg <= 0) return p ? p->initial_soc : 0.0;
  if (g < 0) return p->initial_soc;
  if (g >= p->nseg) return p->seg[p->nseg - 1].s1;
  const OxSegment *sg = &p->seg[g];
  /* The ends are returned exactly so that s is continuous between segments. */
  if (t_s <= sg->t0_s) return sg->s0;
  if (t_s >= sg->t1_s) return sg->s1;
  double dt = t_s - sg->t0_s;
  switch (sg->step->type) {
  case OX_STEP_CC:
    /* Interpolate rather than integrate the rate: hits s1 exactly at t1. */
    return sg->s0 + (sg->s1 - sg->s0) * (dt / (sg->t1_s - sg->t0_s));
  case OX_STEP_CV:
    return cv_soc(sg->step, sg->s0, dt);
  default:
    return sg->s0;
  }
}

/**
 * @brief Effective parameters inside segment g at time t_s, SI units:
 *        D = D_scale * step D_scale * D(s), k = k_scale * step release_scale * k(s),
 *        c_eq = c_eq(s).
 *
 * Outside the segment list (g < 0, or no segments) the step scales are 1.
 */
void OxProtocolParams(const OxProtocol *p, int g, double t_s, OxParams *out) {
  const OxConfig *cfg = p->cfg;
  double s = OxProtocolSoc(p, g, t_s);
  double dstep = 1.0, kstep = 1.0;
  if (p->nseg > 0 && g >= 0) {
    const OxStep *st = p->seg[g < p->nseg ? g : p->nseg - 1].step;
    dstep = st->diffusivity_scale;
    kstep = st->release_scale;
  }
  OxMaterialParams(cfg, s, dstep, kstep, out);
}

/** @brief Total simulated time in seconds (end of the last segment, 0 if none). */
double OxProtocolEndTime(const OxProtocol *p) {
  return (p && p->nseg > 0) ? p->seg[p->nseg - 1].t1_s : 0.0;
}

/** @brief Number of cycling passes; formation passes are not cycles. */
int OxProtocolNumCycles(const OxProtocol *p) {
  if (!p || p->nseg <= 0) return 0;
  return p->seg[p->nseg - 1].cycle;
}

/**
 * @brief Index of the segment in which time t_s lies: the first segment whose
 *        end is after t_s (so a step end belongs to the next step), or the
 *        last segment when t_s is at or past the end. -1 when there are none.
 *
 * Binary search, since restarts land anywhere in a long protocol.
 */
int OxProtocolSegmentAt(const OxProtocol *p, double t_s) {
  if (!p || p->nseg <= 0) return -1;
  int lo = 0, hi = p->nseg - 1;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (p->seg[mid].t1_s > t_s)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}
