/* Exact squared Euclidean distance transform (distance.h): one lower
 * envelope of parabolas per line (Felzenszwalb and Huttenlocher), axis by
 * axis, on double or float storage with double line buffers. */
#include <math.h>
#include "oxvac/distance.h"

/* The array being transformed: exactly one of f64, f32 is set. */
typedef struct {
  double *f64;
  float  *f32;
} Store;

static void load(Store s, size_t base, size_t stride, PetscInt len, double *f)
{
  if (s.f64)
    for (PetscInt q = 0; q < len; q++) f[q] = s.f64[base + (size_t)q * stride];
  else
    for (PetscInt q = 0; q < len; q++) f[q] = s.f32[base + (size_t)q * stride];
}

static void save(Store s, size_t base, size_t stride, PetscInt len, const double *d)
{
  if (s.f64)
    for (PetscInt q = 0; q < len; q++) s.f64[base + (size_t)q * stride] = d[q];
  else
    for (PetscInt q = 0; q < len; q++) s.f32[base + (size_t)q * stride] = (float)d[q];
}

/* One line of n samples f: d[q] = min over finite f[p] of (q - p)^2 + f[p].
 * Only the finite samples (< OX_DISTANCE_FAR) enter the envelope; z[0] = -inf
 * stops the pops. Returns 0, leaving d unset, when the line has none. */
static int line(const double *f, PetscInt n, double *d, PetscInt *v, double *z)
{
  PetscInt k = -1;

  for (PetscInt q = 0; q < n; q++) {
    double s;
    if (f[q] >= OX_DISTANCE_FAR) continue;
    if (k < 0) {
      k = 0, v[0] = q, z[0] = -HUGE_VAL, z[1] = HUGE_VAL;
      continue;
    }
    for (;;) {
      PetscInt p = v[k];
      s          = ((f[q] + (double)q * q) - (f[p] + (double)p * p)) / (2.0 * (double)(q - p));
      if (s <= z[k]) k--;
      else break;
    }
    k++;
    v[k] = q, z[k] = s, z[k + 1] = HUGE_VAL;
  }
  if (k < 0) return 0;
  for (PetscInt q = 0, j = 0; q < n; q++) {
    while (z[j + 1] < (double)q) j++;
    d[q] = (double)(q - v[j]) * (q - v[j]) + f[v[j]];
  }
  return 1;
}

static PetscErrorCode transform(int ndim, const PetscInt n[], Store s)
{
  size_t    total = 1, stride = 1;
  PetscInt  nmax  = 1, *v;
  double   *f, *d, *z;

  PetscFunctionBeginUser;
  PetscCheck(ndim >= 1 && ndim <= 3, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "distance transform of %d dimensions; expected 1, 2 or 3", ndim);
  for (int a = 0; a < ndim; a++) total *= (size_t)n[a], nmax = PetscMax(nmax, n[a]);
  PetscCall(PetscMalloc4(nmax, &f, nmax, &d, nmax + 1, &z, nmax, &v));
  for (int a = 0; a < ndim; stride *= (size_t)n[a], a++) {
    PetscInt len   = n[a];
    size_t   outer = total / (stride * (size_t)len);
    for (size_t o = 0; o < outer; o++)
      for (size_t in = 0; in < stride; in++) {
        size_t base = o * stride * (size_t)len + in;
        load(s, base, stride, len, f);
        if (line(f, len, d, v, z)) save(s, base, stride, len, d);
      }
  }
  PetscCall(PetscFree4(f, d, z, v));
  PetscFunctionReturn(0);
}

PetscErrorCode OxDistanceSquared(int ndim, const PetscInt n[], double *f)
{
  Store s = {f, NULL};

  PetscFunctionBeginUser;
  PetscCall(transform(ndim, n, s));
  PetscFunctionReturn(0);
}

PetscErrorCode OxDistanceSquaredFloat(int ndim, const PetscInt n[], float *f)
{
  Store s = {NULL, f};

  PetscFunctionBeginUser;
  PetscCall(transform(ndim, n, s));
  PetscFunctionReturn(0);
}
