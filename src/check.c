/**
 * @file check.c
 * @brief Warnings of `oxvac check` (check.h): valid configs that are plausibly
 *        unit mistakes, each pointed at the key where it was written.
 *
 * The geometry is judged on the voxel centres without building anything: the
 * nearest and the farthest voxel centre from a point are found axis by axis
 * (the squared distance is a sum over the axes), so a sphere holds no voxel
 * centre when the nearest lies outside it and covers the grid when the
 * farthest lies inside it. That is exact for microstructure.type = "sphere"
 * (a voxel is solid when its centre is inside) and an estimate for generated
 * secondaries, whose outline is that of whole primaries around their sphere.
 */
#include "oxvac/check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const OxConfig *cfg;
  int nset;
  const char *const *sets;
  FILE *out;
  int count;
} Warn;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void Say(Warn *w, const char *key, const char *fmt, ...)
{
  char file[OX_PATH_MAX];
  int line;
  va_list ap;
  OxConfigLocateKey(w->cfg->source, w->nset, w->sets, key, file, sizeof file, &line);
  fprintf(w->out, "warning: %s:%d: key '%s': ", file, line, key);
  va_start(ap, fmt);
  vfprintf(w->out, fmt, ap);
  va_end(ap);
  fputc('\n', w->out);
  w->count++;
}

/* Squared distance from c to the nearest and to the farthest of the voxel
 * centres (i + 0.5) h, i = 0..n-1, along one axis. */
static double NearestSq(double c, int n, double h)
{
  double i = floor(c / h);
  if (i < 0) i = 0;
  if (i > n - 1) i = n - 1;
  double d = (i + 0.5) * h - c;
  return d * d;
}

static double FarthestSq(double c, int n, double h)
{
  double a = 0.5 * h - c, b = (n - 0.5) * h - c;
  return fmax(a * a, b * b);
}

/* Squared distance from c to the box [0, n h]^3. */
static double BoxSq(const double c[3], const int n[3], double h)
{
  double s = 0.0;
  for (int d = 0; d < 3; d++) {
    double L = n[d] * h, e = c[d] < 0 ? -c[d] : (c[d] > L ? c[d] - L : 0.0);
    s += e * e;
  }
  return s;
}

typedef enum { FITS, OUTSIDE, NO_VOXEL, COVERS } Fit;

/* How a sphere (nm) sits on the grid's voxel centres. */
static Fit SphereOnGrid(const OxConfig *cfg, const double c[3], double r)
{
  double h = cfg->voxel_nm, near = 0.0, far = 0.0;
  for (int d = 0; d < 3; d++) {
    near += NearestSq(c[d], cfg->shape[d], h);
    far += FarthestSq(c[d], cfg->shape[d], h);
  }
  if (BoxSq(c, cfg->shape, h) > r * r) return OUTSIDE;
  if (near > r * r) return NO_VOXEL;
  if (far <= r * r) return COVERS;
  return FITS;
}

static void Domain(const OxConfig *cfg, double scale, char *buf, size_t len)
{
  snprintf(buf, len, "%.4g x %.4g x %.4g", cfg->shape[0] * cfg->voxel_nm * scale,
           cfg->shape[1] * cfg->voxel_nm * scale, cfg->shape[2] * cfg->voxel_nm * scale);
}

static void CheckSphere(Warn *w)
{
  const OxConfig *c = w->cfg;
  char dom[128];
  Domain(c, 1.0, dom, sizeof dom);
  switch (SphereOnGrid(c, c->center_nm, c->radius_nm)) {
  case OUTSIDE:
    Say(w, "microstructure.center_nm",
        "the sphere (centre [%g, %g, %g] nm, radius %g nm) lies outside the domain of %s nm: no "
        "voxel is solid; expected a centre in nm inside the domain",
        c->center_nm[0], c->center_nm[1], c->center_nm[2], c->radius_nm, dom);
    break;
  case NO_VOXEL:
    Say(w, "microstructure.radius_nm",
        "a sphere of radius %g nm holds no voxel centre of the grid (voxel %g nm): no voxel is "
        "solid; expected the radius in nm, larger than half a voxel",
        c->radius_nm, c->voxel_nm);
    break;
  case COVERS:
    Say(w, "microstructure.radius_nm",
        "a sphere of radius %g nm covers every voxel of the domain of %s nm: no surface, nothing "
        "is exchanged; expected the radius in nm, smaller than the domain",
        c->radius_nm, dom);
    break;
  default: break;
  }
}

static void CheckGenerated(Warn *w)
{
  const OxConfig *c = w->cfg;
  char dom[128], key[128];
  int nvoid = 0;
  Domain(c, 1e-3, dom, sizeof dom);
  for (int i = 0; i < c->n_secondaries; i++) {
    const OxSecondarySpec *s = &c->secondaries[i];
    double ctr[3] = {1e3 * s->center_um[0], 1e3 * s->center_um[1], 1e3 * s->center_um[2]};
    switch (SphereOnGrid(c, ctr, 1e3 * s->radius_um)) {
    case OUTSIDE:
      snprintf(key, sizeof key, "microstructure.secondaries.[%d].center_um", i);
      Say(w, key,
          "secondary %d (centre [%g, %g, %g] um, radius %g um) lies outside the domain of %s um: "
          "it has no voxel; expected a centre in um inside the domain",
          i + 1, s->center_um[0], s->center_um[1], s->center_um[2], s->radius_um, dom);
      nvoid++;
      break;
    case NO_VOXEL:
      snprintf(key, sizeof key, "microstructure.secondaries.[%d].radius_um", i);
      Say(w, key,
          "secondary %d of radius %g um holds no voxel centre of the grid (voxel %g nm): it has "
          "no voxel; expected the radius in um, larger than half a voxel",
          i + 1, s->radius_um, c->voxel_nm);
      nvoid++;
      break;
    case COVERS:
      if (c->porosity > 0.0) break; /* the gaps between primaries are surface */
      snprintf(key, sizeof key, "microstructure.secondaries.[%d].radius_um", i);
      Say(w, key,
          "secondary %d of radius %g um covers every voxel of the domain of %s um and porosity "
          "is 0: no surface, nothing is exchanged; expected the radius in um, smaller than the "
          "domain",
          i + 1, s->radius_um, dom);
      break;
    default: break;
    }
  }
  if (nvoid == c->n_secondaries && c->n_secondaries > 1)
    Say(w, "microstructure.secondaries",
        "none of the %d secondaries has a voxel in the domain of %s um: no voxel is solid; "
        "expected centres and radii in um",
        c->n_secondaries, dom);
  if (c->primary_diameter_nm < c->voxel_nm)
    Say(w, "microstructure.primary_diameter_nm",
        "primaries of %g nm are smaller than a voxel (%g nm): they are not resolved; expected the "
        "diameter in nm, larger than the voxel",
        c->primary_diameter_nm, c->voxel_nm);
}

/* One warning for the table entry farthest outside the range, after the scale. */
static void CheckDiffusivity(Warn *w)
{
  const OxConfig *c = w->cfg;
  const OxTable *t = &c->diffusivity_cm2_s;
  double scale = c->diffusivity_scale, worst = 0.0;
  int iw = -1;
  for (int i = 0; i < t->n; i++) {
    double v = t->value[i] * scale;
    double off = v < OX_CHECK_D_MIN ? log10(OX_CHECK_D_MIN / v) : (v > OX_CHECK_D_MAX ? log10(v / OX_CHECK_D_MAX) : 0.0);
    if (off > worst) worst = off, iw = i;
  }
  if (iw < 0) return;
  double raw = t->value[iw];
  int table_alone = raw < OX_CHECK_D_MIN || raw > OX_CHECK_D_MAX;
  Say(w, table_alone ? "material.diffusivity_cm2_s.value" : "material.diffusivity_scale",
      "D = %g cm^2/s at soc %g (value[%d] = %g times diffusivity_scale %g) is outside %g..%g "
      "cm^2/s; expected a diffusivity in cm^2/s (the default table is 1e-21..1e-17)",
      raw * scale, t->soc[iw], iw, raw, scale, OX_CHECK_D_MIN, OX_CHECK_D_MAX);
}

static void CheckFields(Warn *w, const OxProtocol *prot)
{
  const OxConfig *c = w->cfg;
  char file[OX_PATH_MAX], list[256] = "";
  int line, n = 0, ncyc = OxProtocolNumCycles(prot), len = 0;
  /* The default (cycles 1, 125, 500) is never a mistake of the user's. */
  if (!OxConfigLocateKey(c->source, w->nset, w->sets, "output.fields_at_cycles", file, sizeof file, &line)) return;
  for (int i = 0; i < c->n_fields_at; i++)
    if (c->fields_at_cycles[i] > ncyc) {
      if (len < (int)sizeof list - 32) len += snprintf(list + len, sizeof list - len, "%s%d", n ? ", " : "", c->fields_at_cycles[i]);
      else if (len < (int)sizeof list - 4) len += snprintf(list + len, sizeof list - len, ", ...");
      n++;
    }
  if (n)
    Say(w, "output.fields_at_cycles",
        "cycle%s %s %s past the end of the protocol (%d cycle%s): no field is stored there; "
        "expected cycles 0..%d",
        n == 1 ? "" : "s", list, n == 1 ? "is" : "are", ncyc, ncyc == 1 ? "" : "s", ncyc);
}

int OxCheckWarnings(const OxConfig *cfg, const OxProtocol *prot, int nset, const char *const *sets, FILE *out)
{
  Warn w = {cfg, nset, sets, out, 0};
  if (cfg->voxel_nm > 0 && cfg->voxel_nm < OX_CHECK_VOXEL_MIN_NM) {
    char dom[128];
    Domain(cfg, 1.0, dom, sizeof dom);
    Say(&w, "grid.voxel_nm",
        "a voxel of %g nm is below %g nm (the domain is %s nm); expected the voxel edge in nm, "
        "e.g. 20.0",
        cfg->voxel_nm, OX_CHECK_VOXEL_MIN_NM, dom);
  }
  if (cfg->voxel_nm > 0 && cfg->shape[0] > 0) {
    if (cfg->micro_type == OX_MICRO_SPHERE) CheckSphere(&w);
    else if (cfg->micro_type == OX_MICRO_GENERATED) CheckGenerated(&w);
  }
  CheckDiffusivity(&w);
  CheckFields(&w, prot);
  return w.count;
}
