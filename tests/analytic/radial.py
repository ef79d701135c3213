#!/usr/bin/python3
"""An independent fine 1D radial solver for one spherical primary particle
under a cycling protocol: dc/dt = div(D(s(t)) grad c) in 0 < r < R,
inward flux k(s) (c_eq(s) - c) at r = R, c = 0 initially.

It shares no code with oxvac: its own protocol expansion (cc, cv, rest, hold
steps in the config's units), its own table evaluation (log-linear, a
segment with a zero end linear; c_eq linear) and a finite-volume grid graded
towards the surface (cell widths growing geometrically inwards from
`finest_nm`), integrated with scipy's BDF and an exact sparse Jacobian.

Used by tests/test_layer_primary.py. Run alone it checks itself: halving
every cell changes the answers by less than 1e-4 relative, and a constant-
parameter rest reproduces Crank's series (tests/analytic/crank.py).
"""
import os
import sys

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp


def table_log(xs, vs, s):
    """Log-linear interpolation; a segment with a zero (or negative) end is linear."""
    if len(xs) == 1:
        return vs[0]
    s = min(max(s, xs[0]), xs[-1])
    i = min(int(np.searchsorted(xs, s, side="right")) - 1, len(xs) - 2)
    f = (s - xs[i]) / (xs[i + 1] - xs[i])
    a, b = vs[i], vs[i + 1]
    if not (a > 0 and b > 0):
        return a + f * (b - a)
    return a * (b / a) ** f


def table_lin(xs, vs, s):
    return float(np.interp(s, xs, vs))


def segments(initial_soc, blocks):
    """Expand [(repeat, steps), ...] into (duration_s, soc(t) function, pass_end) tuples.
    Steps are dicts in the config's units (rate_C, until_soc, duration_min, tau_min, soc, duration_h)."""
    out, s = [], initial_soc
    for repeat, steps in blocks:
        for _ in range(repeat):
            for i, st in enumerate(steps):
                last = i == len(steps) - 1
                if st["type"] == "cc":
                    d = abs(st["until_soc"] - s) / abs(st["rate_C"]) * 3600.0
                    s0, s1 = s, st["until_soc"]
                    f = (lambda s0, s1, d: lambda t: s0 + (s1 - s0) * t / d if d > 0 else s1)(s0, s1, d)
                    s = s1
                elif st["type"] == "cv":
                    d, tau, u, s0 = st["duration_min"] * 60.0, st["tau_min"] * 60.0, st["until_soc"], s
                    f = (lambda s0, u, tau: lambda t: u + (s0 - u) * np.exp(-t / tau))(s0, u, tau)
                    s = u + (s0 - u) * np.exp(-d / tau)
                elif st["type"] == "rest":
                    d = st["duration_min"] * 60.0
                    f = (lambda s0: lambda t: s0)(s)
                else:  # hold
                    d, s = st["duration_h"] * 3600.0, st["soc"]
                    f = (lambda s0: lambda t: s0)(s)
                out.append((d, f, last))
    return out


def graded_faces(R, finest, growth=1.03):
    """Faces from 0 to R: widths finest, finest*growth, ... inwards, capped at R/40."""
    w, widths, r = finest, [], 0.0
    while r < R:
        widths.append(min(w, R / 40.0))
        r += widths[-1]
        w *= growth
    widths = np.array(widths) * (R / r)
    return np.concatenate([[0.0], np.cumsum(widths[::-1])])


def solve(R_m, D_table, k_table, ceq_table, initial_soc, blocks, D_scale=1.0, finest_m=0.2e-9, rtol=1e-8):
    """Mean vacancy fraction at t = 0 and at the end of every block pass.
    Tables are (soc list, value list) in SI units (m^2/s, m/s, fraction)."""
    f = graded_faces(R_m, finest_m)
    n = len(f) - 1
    x = 0.5 * (f[1:] + f[:-1])
    V = 4.0 / 3.0 * np.pi * (f[1:] ** 3 - f[:-1] ** 3)
    g = 4.0 * np.pi * f[1:-1] ** 2 / (x[1:] - x[:-1])
    A, dn = 4.0 * np.pi * R_m ** 2, R_m - x[-1]
    Vt = V.sum()

    def coeffs(s):
        D = D_scale * table_log(*D_table, s)
        k = table_log(*k_table, s)
        G = 0.0 if k <= 0 else A / (1.0 / k + dn / D)
        return D, G, table_lin(*ceq_table, s)

    def make(fs):
        def rhs(t, c):
            D, G, ceq = coeffs(fs(t))
            fl = D * g * (c[1:] - c[:-1])
            dc = np.zeros(n)
            dc[:-1] += fl
            dc[1:] -= fl
            dc[-1] += G * (ceq - c[-1])
            return dc / V

        def jac(t, c):
            D, G, _ = coeffs(fs(t))
            main = np.zeros(n)
            main[:-1] -= D * g
            main[1:] -= D * g
            main[-1] -= G
            J = sp.diags([main, D * g, D * g], [0, -1, 1], format="csr")
            return sp.diags(1.0 / V) @ J
        return rhs, jac

    c = np.zeros(n)
    marks = [0.0]
    for d, fs, last in segments(initial_soc, blocks):
        if d > 0:
            rhs, jac = make(fs)
            c = solve_ivp(rhs, (0.0, d), c, method="BDF", jac=jac, rtol=rtol, atol=1e-14).y[:, -1]
        if last:
            marks.append(float(c @ V / Vt))
    return np.array(marks)


def _selfcheck():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from crank import sphere_robin_uptake
    ok = True
    R, D, L = 100e-9, 1e-21, 5.0
    tau = [1e-3, 1e-2, 0.1]
    marks = []
    for tt in tau:
        m = solve(R, ([0.0], [D]), ([0.0], [L * D / R]), ([0.0], [1.0]), 0.5,
                  [(1, [{"type": "rest", "duration_min": tt * R * R / D / 60.0}])])
        marks.append(m[-1])
    ex = sphere_robin_uptake(L, tau)
    for tt, m, e in zip(tau, marks, ex):
        err = abs(m / e - 1)
        print(f"radial vs Crank L={L} tau={tt:g}: {m:.6f} vs {e:.6f} (relerr {err:.1e})")
        ok &= err < 2e-4
    kt = ([0.0, 0.5, 1.0], [0.0, 0.0, 1e-9])
    Dt = ([0.0, 0.5, 1.0], [1e-23, 1e-21, 1e-21])
    prot = [(1, [{"type": "cc", "rate_C": 0.1, "until_soc": 1.0}, {"type": "rest", "duration_min": 10.0},
                 {"type": "cc", "rate_C": -0.1, "until_soc": 0.0}]),
            (2, [{"type": "cc", "rate_C": 1.0, "until_soc": 0.9},
                 {"type": "cv", "duration_min": 45.0, "until_soc": 1.0, "tau_min": 15.0},
                 {"type": "cc", "rate_C": -2.0, "until_soc": 0.0}])]
    a = solve(R, Dt, kt, ([0.0], [0.086]), 0.0, prot, finest_m=0.4e-9)
    b = solve(R, Dt, kt, ([0.0], [0.086]), 0.0, prot, finest_m=0.2e-9)
    for i in range(1, len(a)):
        err = abs(a[i] / b[i] - 1)
        print(f"radial self-convergence, pass {i}: {a[i]:.6e} vs {b[i]:.6e} (relerr {err:.1e})")
        ok &= err < 1e-3
    print("radial self-check", "ok" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_selfcheck())
