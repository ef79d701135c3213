#!/usr/bin/python3
"""Fronts thinner than a voxel: Crank's sphere with surface exchange at
D t / R^2 = 1e-3, 3e-3, 1e-2 on an octant of R = 8 voxels, L = R k / D = 1
and 100 (the front is 0.25 to 0.8 voxel deep). With the surface layer
(default) the uptake must be within 3 % of the series at every time; the
layer-off operator (surface.layer.cells = 0) is run too and its error
printed (it is -37 % at L = 100, D t / R^2 = 1e-3), and the layer must beat it
in every case where it is off by more than 3 %.

usage: test_thin_front.py --oxvac PATH [--mpiexec CMD] [--keep DIR]
"""
import os
import sys

import h5py
import numpy as np

import oxtest
import test_sphere_robin as robin

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "analytic"))
from crank import sphere_robin_uptake  # noqa: E402

R = 8
TAUS = [1e-3, 3e-3, 1e-2]
LS = [1.0, 100.0]
TOL = 0.03


def run_checks(args, workdir, c):
    robin.TAUS = TAUS
    for L in LS:
        text, ends = robin.config_text(R, L)
        cfg = os.path.join(workdir, f"thin_L{L:g}.cfg")
        with open(cfg, "w") as f:
            f.write(text)
        errs = {}
        for name, extra in (("layer", []), ("no layer", ["--set", "surface.layer.cells=0"])):
            out = os.path.join(workdir, f"thin_L{L:g}_{name.replace(' ', '_')}.h5")
            oxtest.run_oxvac(args, ["run", cfg, "-o", out, "--quiet"] + extra, label=f" L={L:g} {name}")
            with h5py.File(out, "r") as h:
                t = h["/timeseries/time_s"][...]
                cm = h["/timeseries/vacancy_mean"][...]
            exact = sphere_robin_uptake(L, TAUS)
            errs[name] = [cm[np.nonzero(np.abs(t - te) <= 1e-9 * te)[0][-1]] / robin.C_EQ / ex - 1.0
                          for te, ex in zip(ends, exact)]
            print(f"L = {L:5g} {name:8s}: " + "  ".join(f"tau {tau:g} {100 * e:+6.2f} %" for tau, e in zip(TAUS, errs[name])))
        for tau, e, e0 in zip(TAUS, errs["layer"], errs["no layer"]):
            c.check(abs(e) <= TOL, f"L={L:g} tau={tau:g}: layer uptake off by {100 * e:+.2f} % (allowed 3 %)")
            if abs(e0) > TOL:
                c.check(abs(e) < abs(e0), f"L={L:g} tau={tau:g}: the layer ({100 * e:+.2f} %) does not beat no layer ({100 * e0:+.2f} %)")


def main():
    ap = oxtest.parser(__doc__, keep_help="write configs and results here and keep them", timeout=600.0)
    return oxtest.main("test_thin_front", oxtest.parse_args(ap), run_checks)


if __name__ == "__main__":
    sys.exit(main())
