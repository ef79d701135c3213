#!/usr/bin/python3
"""Analytic diffusion into a sphere (Crank, The Mathematics of Diffusion,
2nd ed., 1975, sec. 6.3).

Sphere of radius a, diffusivity D, initially c = 0, surface condition

    -D dc/dr = k (c - c_eq)   at r = a          (Robin; L = a k / D)
    c = c_eq                  at r = a          (Dirichlet; the L -> inf limit)

Dimensionless time tau = D t / a^2. Uptake is M_t / M_inf = <c> / c_eq.

Run as a script for a self-check; it exits nonzero on failure.
"""
import functools
import math
import sys

import numpy as np
from scipy.optimize import brentq


def _root_fn(b, L):
    # b cot b + L - 1 = 0 multiplied by sin(b)/b: cos b + (L-1) sin(b)/b.
    # No poles, equals L > 0 at b -> 0 (so the trivial root b = 0 is gone),
    # and takes the sign (-1)^m at b = m pi: exactly one root in each
    # ((n-1) pi, n pi).
    return math.cos(b) + (L - 1.0) * (math.sin(b) / b if b != 0.0 else 1.0)


def sphere_robin_roots(L, n):
    """First n positive roots beta of beta*cot(beta) + L - 1 = 0 (Crank eq. 6.24)."""
    return np.array(_roots(float(L), int(n)))


@functools.lru_cache(maxsize=64)
def _roots(L, n):
    if not L > 0.0:
        raise ValueError("L must be positive")
    roots = np.empty(n)
    for i in range(1, n + 1):
        lo, hi = (i - 1) * math.pi, i * math.pi
        if i == 1:
            lo = 0.0  # _root_fn(0) = L > 0, regular there
        roots[i - 1] = brentq(_root_fn, lo, hi, args=(L,),
                              xtol=1e-15, rtol=4 * np.finfo(float).eps,
                              maxiter=500)
    return tuple(roots)


def sphere_robin_uptake(L, tau, nterms=200):
    """M_t/M_inf = 1 - sum 6 L^2 exp(-b^2 tau) / (b^2 (b^2 + L(L-1))) (Crank eq. 6.41)."""
    L = float(L)
    b = sphere_robin_roots(L, nterms)
    b2 = b * b
    coef = 6.0 * L * L / (b2 * (b2 + L * (L - 1.0)))
    tau = np.asarray(tau, dtype=float)
    s = np.exp(-np.multiply.outer(tau, b2)) @ coef
    return 1.0 - s


def sphere_dirichlet_uptake(tau, nterms=2000):
    """M_t/M_inf = 1 - 6/pi^2 sum 1/n^2 exp(-n^2 pi^2 tau) (Crank eq. 6.20)."""
    n = np.arange(1, nterms + 1, dtype=float)
    tau = np.asarray(tau, dtype=float)
    s = np.exp(-np.multiply.outer(tau, (n * math.pi) ** 2)) @ (1.0 / n ** 2)
    return 1.0 - 6.0 / math.pi ** 2 * s


def sphere_robin_profile(L, tau, r_over_a, nterms=200):
    """c/c_eq at r/a (Crank eq. 6.40):
    1 - (2 L a / r) sum exp(-b^2 tau) sin(b r/a) / ((b^2 + L(L-1)) sin b).
    r_over_a may be an array; r = 0 uses the limit sin(b x)/x -> b."""
    L = float(L)
    b = sphere_robin_roots(L, nterms)
    x = np.asarray(r_over_a, dtype=float)
    xb = np.multiply.outer(x, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        sx = np.where(xb == 0.0, b, np.sin(xb) / np.where(x == 0.0, 1.0, x)[..., None])
    coef = 2.0 * L * np.exp(-b * b * float(tau)) / ((b * b + L * (L - 1.0)) * np.sin(b))
    return 1.0 - sx @ coef


def _fv_uptake(L, taus, n=800):
    """Uptake from a cell-centred finite-volume solution of the radial problem
    (unit radius, unit D), integrated with BDF: a check independent of the
    series."""
    from scipy.integrate import solve_ivp
    from scipy.sparse import diags

    re = np.linspace(0.0, 1.0, n + 1)            # shell edges
    vol = (re[1:] ** 3 - re[:-1] ** 3) / 3.0
    rc = 0.5 * (re[1:] + re[:-1])
    area = re[1:-1] ** 2                           # interior faces
    t = area / (rc[1:] - rc[:-1])                  # transmissibility
    # surface face: series of half-cell diffusion and exchange resistance
    ts = 1.0 / ((1.0 - rc[-1]) + 1.0 / L)
    main = np.zeros(n)
    main[:-1] -= t
    main[1:] -= t
    main[-1] -= ts
    A = diags([main / vol, t / vol[:-1], t / vol[1:]], [0, 1, -1], format="csc")
    src = np.zeros(n)
    src[-1] = ts / vol[-1]
    sol = solve_ivp(lambda _, c: A @ c + src, (0.0, taus[-1]), np.zeros(n),
                    method="BDF", t_eval=taus, jac=A, rtol=1e-10, atol=1e-13)
    return 3.0 * (vol @ sol.y)


def _self_check():
    from scipy.integrate import quad

    ok = True

    def report(name, err, tol):
        nonlocal ok
        good = err <= tol
        ok &= good
        print(f"  {'ok  ' if good else 'FAIL'} {name:58s} err {err:.3e} (tol {tol:.0e})")

    print("roots: one per ((n-1)pi, n pi), residual of b cos b + (L-1) sin b")
    for L in (1e-3, 0.1, 1.0, 10.0, 1e3, 1e6):
        b = sphere_robin_roots(L, 200)
        k = np.arange(1, 201)
        inside = np.all((b > (k - 1) * np.pi) & (b < k * np.pi))
        res = np.max(np.abs(b * np.cos(b) + (L - 1) * np.sin(b)) / (b + abs(L - 1)))
        report(f"L={L:g}: b1={b[0]:.10g}, in brackets={inside}",
               res if inside else np.inf, 1e-12)
    # known values: L=1 -> (n-1/2) pi ; small L -> b1^2 ~ 3L
    b = sphere_robin_roots(1.0, 5)
    report("L=1 roots are (n-1/2) pi", np.max(np.abs(b - (np.arange(1, 6) - 0.5) * np.pi)), 1e-12)
    b1 = sphere_robin_roots(1e-3, 1)[0]
    report("L=1e-3: b1^2/(3L) -> 1", abs(b1 ** 2 / 3e-3 - 1), 1e-3)

    taus = np.array([0.02, 0.05, 0.1, 0.2, 0.4])
    print("large L Robin (L=1e6) vs Dirichlet, tau in", list(taus))
    rob = sphere_robin_uptake(1e6, taus)
    dir_ = sphere_dirichlet_uptake(taus)
    for t, r, d in zip(taus, rob, dir_):
        report(f"tau={t:<5g} Robin {r:.8f} Dirichlet {d:.8f}", abs(r - d), 1e-3)
    # Dirichlet short-time: 6 sqrt(tau/pi) - 3 tau (Crank eq. 6.21, leading terms)
    t = 1e-4
    report("Dirichlet tau=1e-4 vs 6 sqrt(tau/pi) - 3 tau",
           abs(sphere_dirichlet_uptake(t) / (6 * math.sqrt(t / math.pi) - 3 * t) - 1), 1e-6)

    print("small L, short time: uptake ~ 3 L tau (surface-limited)")
    for L in (1e-3, 1e-2):
        for t in (1e-3, 1e-2, 0.1):
            u = sphere_robin_uptake(L, t)
            report(f"L={L:g} tau={t:g}: uptake {u:.6e} vs 3 L tau {3 * L * t:.6e}",
                   abs(u / (3 * L * t) - 1), 5e-3)

    print("profile: 3 int_0^1 x^2 c/c_eq dx equals the uptake")
    for L in (0.1, 1.0, 10.0, 1e3):
        for t in (0.02, 0.1, 0.4):
            f = lambda x: x * x * sphere_robin_profile(L, t, x, nterms=400)
            integ = 3 * quad(f, 0.0, 1.0, limit=400, epsabs=1e-13, epsrel=1e-11)[0]
            u = sphere_robin_uptake(L, t, nterms=400)
            report(f"L={L:g} tau={t:g}: integral {integ:.8f} uptake {float(u):.8f}",
                   abs(integ - u), 1e-7)
    # centre value at long time for Dirichlet-like case, surface value for Robin
    c0 = sphere_robin_profile(1e6, 0.4, 0.0, nterms=400)
    cd = 1 + 2 * sum((-1) ** n * math.exp(-(n * math.pi) ** 2 * 0.4) for n in range(1, 200))
    report("L=1e6 centre c/c_eq at tau=0.4 vs Crank eq. 6.19 at r=0", abs(c0 - cd), 1e-5)

    print("profile satisfies the surface condition -dc/dx = L (c - 1) at x = 1")
    for L in (0.1, 1.0, 10.0):
        h = 1e-5
        c = sphere_robin_profile(L, 0.1, np.array([1 - h, 1.0, 1 + h]), nterms=400)
        dcdx = (c[2] - c[0]) / (2 * h)
        report(f"L={L:g} tau=0.1: -dc/dx {-dcdx:.8f} vs L(c-1) {L * (c[1] - 1):.8f}",
               abs(-dcdx - L * (c[1] - 1)), 1e-6)

    print("uptake vs an independent finite-volume radial solution (800 shells)")
    for L in (0.1, 1.0, 10.0):
        fv = _fv_uptake(L, taus)
        for t, f, u in zip(taus, fv, sphere_robin_uptake(L, taus)):
            report(f"L={L:g} tau={t:<5g} FV {f:.6f} series {u:.6f}", abs(f / u - 1), 1e-3)

    print("self-check", "PASSED" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    sys.exit(0 if _self_check() else 1)
