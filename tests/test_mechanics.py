#!/usr/bin/python3
"""Elasticity (docs/mechanics.md) against analytic solutions, through the
result file's stress fields, as a user would check them:

  sphere    a free sphere with a spherically symmetric vacancy field c(r):
            sigma_h(r) = 2 E beta / (3 (1 - nu)) (mean(c) - c(r)); RMS error over
            the solid voxels within 5 % of the peak at R = 20 voxels, smaller at
            R = 20 than at R = 10 (and at R = 40 with --fine)
  eshelby   a sphere with isotropic eigenstrain e* bonded in a matrix of the same
            moduli: interior sigma_h = -2 E e* / (3 (1 - nu)), 0 outside (up to the
            finite box); RMS over the solid within 5 % of the peak
  free      a generated secondary (any shape) with a uniform isotropic
            eigenstrain: stress below 1e-6 of E e*
  ranks     the sphere on 2 ranks (--mpiexec) equals 1 rank to solver tolerance

Spheres are octants centred on the grid corner: the domain faces are mirror
planes, so the sphere is whole. The vacancy fields come in through
initial.file, the stress is that of the stored cycle 0.

usage: test_mechanics.py --oxvac PATH [--mpiexec "mpiexec -n 2"] [--only NAME] [--fine] [--keep DIR]
"""
import os
import sys

import h5py
import numpy as np

import oxtest

E, NU, BETA = 150e9, 0.3, 0.05
K = 2 * E * BETA / (3 * (1 - NU))
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def radius(n):
    z, y, x = np.meshgrid(*(np.arange(n) + 0.5,) * 3, indexing="ij")
    return np.sqrt(x * x + y * y + z * z)


CYCLE = 'protocol = { cycling = { repeat = 1; steps = ( { type = "rest"; duration_min = 1.0; } ); }; };\n' \
        'output = { file = "out.h5"; fields_at_cycles = [0]; checkpoint_every_cycles = 0; };\n' \
        'surface = { layer = { cells = 0; }; };\n'


def run_case(args, tmp, name, micro, grid, extra="", mpiexec=""):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "run.cfg"), "w") as f:
        f.write(grid + micro + CYCLE + extra)
    oxtest.run_oxvac(args, ["run", "run.cfg", "--quiet"], mpiexec=mpiexec, cwd=d, label=" " + name)
    return h5py.File(os.path.join(d, "out.h5"), "r")


def stored(f):
    g = f["fields/cycle_000000"]
    return g["vacancy_fraction"][:], g["hydrostatic_stress_Pa"][:], g["von_mises_stress_Pa"][:], f["geometry/solid"][:] > 0


def sphere_case(args, tmp, R, mpiexec="", tag=""):
    n = R + 6
    d = os.path.join(tmp, f"sphere{R}{tag}")
    os.makedirs(d, exist_ok=True)
    with h5py.File(os.path.join(d, "c0.h5"), "w") as f:
        f["c"] = 0.1 * (radius(n) / R) ** 2
    f = run_case(args, tmp, f"sphere{R}{tag}", f'microstructure = {{ type = "sphere"; radius_nm = {10.0 * R}; center_nm = [0.0, 0.0, 0.0]; }};\n',
                 f"grid = {{ voxel_nm = 10.0; shape = [{n}, {n}, {n}]; }};\n",
                 f'initial = {{ file = "c0.h5"; dataset = "/c"; }};\nmechanics = {{ enabled = true; vacancy_expansion = {BETA}; }};\n', mpiexec)
    c, sh, vm, solid = stored(f)
    exact = K * (c[solid].mean() - c)
    peak = np.abs(exact[solid]).max()
    return np.sqrt(np.mean((sh[solid] - exact[solid]) ** 2)) / peak, sh, solid, peak


def test_sphere(args, tmp):
    errs = {}
    for R in (10, 20) + ((40,) if args.fine else ()):
        errs[R] = sphere_case(args, tmp, R)[0]
        print(f"      free sphere R = {R} voxels: RMS error {100 * errs[R]:.2f} % of the peak")
    check(errs[20] < 0.05, f"free sphere, R = 20: RMS error {100 * errs[20]:.2f} % of the peak (< 5 %)")
    Rs = sorted(errs)
    check(all(errs[a] > errs[b] for a, b in zip(Rs, Rs[1:])), "free sphere: the error falls with refinement " +
          ", ".join(f"R={R}: {100 * errs[R]:.2f} %" for R in Rs))


def test_eshelby(args, tmp):
    R, e = 20, 0.01
    n = 3 * R
    d = os.path.join(tmp, "eshelby")
    os.makedirs(d, exist_ok=True)
    r = radius(n)
    with h5py.File(os.path.join(d, "geo.h5"), "w") as f:
        ds = f.create_dataset("labels", data=np.where(r < R, 2, 1).astype(np.int32))
        ds.attrs["voxel_nm"] = 10.0
        f["c"] = np.where(r < R, e / BETA, 0.0)
    f = run_case(args, tmp, "eshelby", 'microstructure = { type = "import"; file = "geo.h5"; labels = "/labels"; };\n', "grid = { voxel_nm = 10.0; };\n",
                 f'initial = {{ file = "geo.h5"; dataset = "/c"; }};\nmechanics = {{ enabled = true; vacancy_expansion = {BETA}; }};\n')
    c, sh, vm, solid = stored(f)
    peak = 2 * E * e / (3 * (1 - NU))
    exact = np.where(r < R, -peak, 0.0)
    rms = np.sqrt(np.mean((sh[solid] - exact[solid]) ** 2)) / peak
    core = r < R - 4
    spread = np.std(sh[core]) / peak
    check(solid.all(), "eshelby: the grid is solid throughout (no exchange surface, allowed with mechanics)")
    check(rms < 0.05, f"eshelby, R = 20 in a 60^3 octant: RMS error {100 * rms:.2f} % of the peak (< 5 %)")
    check(spread < 0.01, f"eshelby: the stress is uniform inside (spread {100 * spread:.3f} % of the peak)")
    inside = sh[core].mean() / peak
    check(abs(inside + 1) < 0.06, f"eshelby: interior sigma_h = {inside:.4f} x 2 E e* / (3 (1 - nu)) (-1; the finite box adds its own pressure)")


def test_free(args, tmp):
    e = BETA * 0.1
    f = run_case(args, tmp, "free", 'microstructure = { type = "generated"; seed = 3; secondaries = ( { center_um = [0.6, 0.6, 0.6]; radius_um = 0.45; } ); };\n',
                 "grid = { voxel_nm = 25.0; shape = [48, 48, 48]; };\n",
                 f"initial = {{ vacancy_fraction = 0.1; }};\nmechanics = {{ enabled = true; vacancy_expansion = {BETA}; orientation = \"random\"; }};\n")
    c, sh, vm, solid = stored(f)
    worst = max(np.abs(sh[solid]).max(), vm[solid].max()) / (E * e)
    check(worst < 1e-6, f"free body, uniform eigenstrain: largest |sigma_h| or von Mises {worst:.2e} of E e* (< 1e-6)")
    axes = f["particles/c_axis"][:]
    check(np.allclose(np.linalg.norm(axes, axis=1), 1.0), f"/particles/c_axis: {axes.shape[0]} unit vectors")
    check(f["particles_series/hydrostatic_stress_mean_Pa"].shape == (1, axes.shape[0]), "/particles_series/hydrostatic_stress_mean_Pa [n_out][n_particles]")


def test_ranks(args, tmp):
    if not args.mpiexec:
        print("      ranks: no --mpiexec, skipped")
        return
    e1, s1, solid, peak = sphere_case(args, tmp, 20, tag="np1")
    e2, s2, _, _ = sphere_case(args, tmp, 20, mpiexec=args.mpiexec, tag="np2")
    d = np.abs(s1[solid] - s2[solid]).max() / peak
    check(d < 1e-6, f"2 ranks vs 1: largest difference {d:.2e} of the peak stress (< 1e-6, the solver tolerance)")


def main():
    ap = oxtest.parser(__doc__)
    ap.add_argument("--only", choices=["sphere", "eshelby", "free", "ranks"])
    ap.add_argument("--fine", action="store_true", help="add R = 40 to the refinement")
    args = oxtest.parse_args(ap)
    with oxtest.workdir(args.keep, "oxvac_mech_") as tmp:
        for name, fn in (("sphere", test_sphere), ("eshelby", test_eshelby), ("free", test_free), ("ranks", test_ranks)):
            if args.only in (None, name):
                fn(args, tmp)
    print("test_mechanics:", "FAILED" if failures else "PASSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
