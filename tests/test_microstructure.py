#!/usr/bin/python3
"""Generated microstructures: statistics against the request, rank and seed
reproducibility, the /particles table, accessibility models, and the paper's
morphology trend (deeper primaries and larger secondaries lose less).

usage: test_microstructure.py --oxvac PATH [--mpiexec "mpiexec -n 2"] [--keep DIR]
"""
import os
import sys

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "..", "inputs")

STATIC = """
grid = {{ voxel_nm = {voxel}; shape = [{n}, {n}, {n}]; }};
microstructure = {{ type = "generated"; seed = {seed};
  secondaries = ( {{ center_um = [{c}, {c}, {c}]; radius_um = {r}; }} );
  primary_diameter_nm = {d}; primary_cv = {cv}; porosity = {phi}; }};
material = {{ particle_spread = {spread}; }};
protocol = {{ cycling = {{ repeat = 1; steps = ( {{ type = "rest"; duration_min = 1.0e-6; }} ); }}; }};
output = {{ fields_at_cycles = [1]; checkpoint_every_cycles = 0; }};
"""

def generate(args, tmp, name, mpi=None, **kw):
    cfg = os.path.join(tmp, name + ".cfg")
    out = os.path.join(tmp, name + ".h5")
    with open(cfg, "w") as f:
        f.write(STATIC.format(**kw))
    oxtest.run_oxvac(args, ["run", cfg, "-o", out, "--quiet", "-pc_type", "jacobi"], mpiexec=mpi)
    return h5py.File(out, "r")


def stats(f):
    lab = f["geometry/labels"][:]
    sec = f["geometry/secondary"][:]
    h = f["geometry"].attrs["voxel_m"]
    cnt = np.bincount(lab.ravel())[1:]
    cnt = cnt[cnt > 0]
    d = (6.0 * cnt / np.pi) ** (1.0 / 3.0) * h * 1e9
    inside = sec > 0
    return d.mean(), d.std() / d.mean(), ((lab == 0) & inside).sum() / inside.sum(), len(cnt)


def main():
    ap = oxtest.parser(__doc__, keep_help="write configs and results here and keep them",
                       timeout=None)
    return oxtest.main("test_microstructure", oxtest.parse_args(ap), run_checks, verbose=True)


def run_checks(args, tmp, checker):
    check = checker.check

    # 1. statistics against the request, two settings
    settings = [dict(voxel=20.0, n=96, seed=1, c=0.96, r=0.8, d=200.0, cv=0.25, phi=0.10, spread=0.0),
                dict(voxel=10.0, n=128, seed=3, c=0.64, r=0.55, d=120.0, cv=0.15, phi=0.20, spread=0.5)]
    files = []
    for i, s in enumerate(settings):
        f = generate(args, tmp, f"stats{i}", **s)
        files.append(f)
        m, cv, phi, n = stats(f)
        what = f"setting {i}: {n} primaries, mean d {m:.1f} nm (asked {s['d']}), cv {cv:.3f} (asked {s['cv']}), porosity {phi:.4f} (asked {s['phi']})"
        check(abs(m / s["d"] - 1) <= 0.10 and abs(cv - s["cv"]) <= 0.10 and abs(phi - s["phi"]) <= 0.02, what)

    # 2. /particles table: volumes, areas, radii, multipliers
    f = files[1]
    P = f["particles"]
    lab = f["geometry/labels"][:]
    h = f["geometry"].attrs["voxel_m"]
    vol = P["volume_m3"][:]
    check(np.allclose(vol.sum(), (lab > 0).sum() * h ** 3, rtol=1e-12), "particle volumes sum to the solid volume")
    check(np.allclose(P["area_m2"][:].sum(), f["geometry"].attrs["exchange_area_total_m2"], rtol=1e-10),
          "particle areas sum to the total exchange area")
    check(np.allclose(P["radius_m"][:], (3 * vol / (4 * np.pi)) ** (1 / 3)), "radius_m is the equal-volume radius")
    lm = np.log(P["diffusivity_multiplier"][:][vol > 0])
    check(abs(np.median(lm)) < 0.1 and abs(lm.std() - 0.5) < 0.06,
          f"log multipliers: median {np.median(lm):+.3f} (0), std {lm.std():.3f} (spread 0.5) over {lm.size} particles")
    ids = P["id"][:]
    for p in ids[:20]:
        zz, yy, xx = np.nonzero(lab == p)
        if zz.size:
            cen = (np.array([xx.mean(), yy.mean(), zz.mean()]) + 0.5) * h
            if not np.allclose(cen, P["centroid_m"][p - 1], rtol=0, atol=1e-6 * h):
                check(False, f"centroid of particle {p}")
                break
    else:
        check(True, "centroids match the labels (x, y, z order)")

    # 3. reproducibility: same seed on 1 and 2 ranks identical, other seed different
    s = dict(settings[0], n=64, r=0.55, c=0.64)
    a = generate(args, tmp, "seed1_np1", mpi="", **s)["geometry/labels"][:]
    two = args.mpiexec if args.mpiexec else ""
    b = generate(args, tmp, "seed1_np2", mpi=two, **s)["geometry/labels"][:]
    c = generate(args, tmp, "seed2", mpi="", **dict(s, seed=2))["geometry/labels"][:]
    check(np.array_equal(a, b), f"same seed: identical labels on 1 and {'2' if two else '1'} rank(s)")
    check(not np.array_equal(a, c) and abs((a > 0).mean() - (c > 0).mean()) < 0.05, "different seed: different labels")

    # 4. morphology: depth accessibility, small vs large secondary
    out = os.path.join(tmp, "morph.h5")
    oxtest.run_oxvac(args, ["run", os.path.join(INPUTS, "morphology_small_vs_large.cfg"), "-o", out, "--quiet",
                            "--set", "grid.voxel_nm=40.0", "--set", "protocol.cycling.repeat=2",
                            "--set", "output.fields_at_cycles=[2]"])
    f = h5py.File(out, "r")
    P = f["particles"]
    vm = f["particles_series/vacancy_mean"][-1]
    dep, sec, vol = P["depth_m"][:] * 1e9, P["secondary"][:], P["volume_m3"][:]
    ok = vol > 0
    means = []
    for a_, b_ in zip([0, 100, 200, 400, 700], [100, 200, 400, 700, 1300]):
        m = ok & (dep >= a_) & (dep < b_)
        means.append(vm[m].mean())
        print(f"      depth {a_:4d}-{b_:4d} nm: {m.sum():4d} primaries, mean vacancy fraction {vm[m].mean():.4e}")
    check(all(x > y for x, y in zip(means, means[1:])), "mean vacancy fraction of primaries falls monotonically with depth")
    per = [(vm[ok & (sec == s_)] * vol[ok & (sec == s_)]).sum() / vol[ok & (sec == s_)].sum() for s_ in (1, 2)]
    check(per[0] > per[1], f"small secondary loses more per volume: {per[0]:.4e} > {per[1]:.4e}")
    acc = f["geometry/accessibility"][:]
    area = f["geometry/exchange_area_m2"][:]
    check(acc.max() <= 1.0 and acc[area > 0].min() > 0.0 and acc[area > 0].min() < 0.05,
          f"depth accessibility in (0, 1]: min {acc[area > 0].min():.3g} on the surface")

    # 5. connected accessibility: every face is either open (1) or closed (0)
    f = generate(args, tmp, "conn", mpi="", **dict(settings[0], n=64, r=0.55, c=0.64))
    cfg = os.path.join(tmp, "conn.cfg")
    with open(cfg, "a") as g:
        g.write('surface = { accessibility = { model = "connected"; }; };\n')
    out = os.path.join(tmp, "conn2.h5")
    oxtest.run_oxvac(args, ["run", cfg, "-o", out, "--quiet", "-pc_type", "jacobi"])
    f2 = h5py.File(out, "r")
    acc = f2["geometry/accessibility"][:]
    area = f2["geometry/exchange_area_m2"][:]
    frac = (acc * area).sum() / area.sum()
    check(0.0 < frac < 1.0, f"connected: {100 * frac:.1f} % of the exchange area faces open electrolyte")
    outer = (f2["geometry/secondary"][:] == 0) & (f2["geometry/labels"][:] > 0)
    check(outer.sum() == 0, "no primary voxel lies outside its secondary")


if __name__ == "__main__":
    sys.exit(main())
