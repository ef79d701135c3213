#!/usr/bin/python3
"""Imported microstructures (microstructure.type = "import").

(a) Round trip: a small generated run is imported back from its own result
    file (/geometry/labels and /geometry/secondary, grid and voxel size from
    the file) and must reproduce /geometry, /timeseries (1e-12 relative) and
    /particles exactly, except /particles/depth_m, which is measured below the
    secondary's envelope: the generator's envelope is its configured sphere,
    an import's is the equal-volume sphere at the secondary's centroid, so
    depth_m is checked against that sphere computed here from the voxels.
    Imported WITHOUT the secondary dataset, the secondaries derived by closing
    must match the generated ones on every solid voxel up to renumbering (one
    secondary: every solid voxel gets the same id, and there is one id), on 1
    rank and on the given mpiexec alike.
(b) Malformed files (written here with h5py) are refused with exit 2 and one
    line `CFG:LINE: key 'microstructure.file': FILE:DATASET: ...; ...` that
    names the dataset, and leave no result file.

usage: test_import.py --oxvac PATH [--mpiexec "mpiexec -n 2"] [--keep DIR]
"""
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import time

import h5py
import numpy as np

import oxtest

PROTOCOL = """
protocol = { cycling = { repeat = 1; steps = (
  { type = "cc"; rate_C = 20.0; until_soc = 1.0; },
  { type = "cc"; rate_C = -20.0; until_soc = 0.0; } ); }; };
output = { fields_at_cycles = [1]; checkpoint_every_cycles = 0; };
"""

GENERATED = """grid = { voxel_nm = 20.0; shape = [48, 48, 48]; };
microstructure = { type = "generated"; seed = 3;
  secondaries = ( { center_um = [0.48, 0.48, 0.48]; radius_um = 0.4; } ); };
""" + PROTOCOL

# microstructure.file is on line 4 of every import config written here.
IMPORT = """# import test
{grid}
microstructure = {{ type = "import";
  file = "{file}";
  labels = "{labels}";{secondary}{extra} }};
"""
FILE_LINE = 4
# For runs that only need the geometry and /particles.
REST = """
protocol = { cycling = { repeat = 1; steps = ( { type = "rest"; duration_min = 1.0e-6; } ); }; };
output = { fields_at_cycles = [1]; checkpoint_every_cycles = 0; };
"""

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def launcher(mpiexec):
    return shlex.split(mpiexec) if mpiexec else []


def oxvac(args, cmd, mpiexec=None):
    full = launcher(args.mpiexec if mpiexec is None else mpiexec) + [args.oxvac] + cmd
    return subprocess.run(full, capture_output=True, text=True)


def run_ok(args, cfg, out, mpiexec=None):
    p = oxvac(args, ["run", cfg, "-o", out, "--quiet", "-pc_type", "jacobi"], mpiexec)
    if p.returncode != 0:
        print("command failed:", cfg, "\n", p.stdout[-2000:], p.stderr[-2000:])
        sys.exit(1)
    return h5py.File(out, "r")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def import_cfg(tmp, name, file, labels, secondary=None, grid="", extra="", protocol=PROTOCOL):
    sec = ' secondary = "%s";' % secondary if secondary else ""
    return write(os.path.join(tmp, name + ".cfg"),
                 IMPORT.format(grid=grid, file=file, labels=labels, secondary=sec, extra=extra) + protocol)


def rel_diff(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape:
        return np.inf
    scale = np.maximum(np.abs(x), np.abs(y))
    d = np.abs(x - y)
    return float(np.max(np.where(scale > 0, d / np.where(scale > 0, scale, 1), 0))) if x.size else 0.0


def envelope(sec, h):
    """Centroid (m) and equal-volume radius (m) of every secondary id, from its voxels."""
    k, j, i = np.nonzero(sec > 0)
    s = sec[k, j, i]
    n = np.bincount(s)
    env = {}
    for t in range(1, len(n)):
        if n[t]:
            m = s == t
            c = np.array([i[m].mean() + 0.5, j[m].mean() + 0.5, k[m].mean() + 0.5]) * h
            env[t] = (c, (3.0 * n[t] * h ** 3 / (4.0 * np.pi)) ** (1.0 / 3.0))
    return env


def round_trip(args, tmp):
    gen = run_ok(args, write(os.path.join(tmp, "gen.cfg"), GENERATED), os.path.join(tmp, "gen.h5"))
    lab, sec = gen["geometry/labels"][:], gen["geometry/secondary"][:]
    h = float(gen["geometry"].attrs["voxel_m"])
    print("      generated: %d primaries, %d secondaries, %d solid voxels, %d gap voxels"
          % (len(np.unique(lab)) - 1, sec.max(), (lab > 0).sum(), ((lab == 0) & (sec > 0)).sum()))

    # With the secondary dataset; grid and voxel size from the file alone.
    cfg = import_cfg(tmp, "imp", "gen.h5", "/geometry/labels", "/geometry/secondary")
    imp = run_ok(args, cfg, os.path.join(tmp, "imp.h5"))
    check(np.array_equal(imp["geometry/labels"][:], lab), "round trip: /geometry/labels identical")
    check(np.array_equal(imp["geometry/secondary"][:], sec), "round trip: /geometry/secondary identical")
    check(float(imp["geometry"].attrs["voxel_m"]) == h, "round trip: voxel_m %.17g from the file's attribute" % h)
    worst = max(rel_diff(gen["timeseries"][k][:], imp["timeseries"][k][:]) for k in gen["timeseries"])
    check(set(gen["timeseries"]) == set(imp["timeseries"]) and worst <= 1e-12,
          "round trip: /timeseries identical (max relative difference %.3g over %d rows)"
          % (worst, len(gen["timeseries/time_s"])))
    same = [k for k in gen["particles"] if k != "depth_m"
            and np.array_equal(gen["particles"][k][:], imp["particles"][k][:])]
    check(len(same) == len(gen["particles"]) - 1,
          "round trip: /particles identical except depth_m (%d of %d datasets: %s)"
          % (len(same), len(gen["particles"]) - 1, ", ".join(sorted(same))))
    env = envelope(sec, h)
    cen, psec = imp["particles/centroid_m"][:], imp["particles/secondary"][:]
    want = np.array([max(0.0, env[s][1] - np.linalg.norm(c - env[s][0])) if s in env else 0.0
                     for c, s in zip(cen, psec)])
    got = imp["particles/depth_m"][:]
    err = float(np.max(np.abs(got - want)))
    check(err <= 1e-6 * h, "round trip: depth_m below the equal-volume sphere at the secondary's centroid "
          "(max error %.3g m; generator's sphere vs it differs by up to %.3g m)"
          % (err, float(np.max(np.abs(gen["particles/depth_m"][:] - got)))))

    # Without the secondary dataset: derived by closing (40 nm = a ball of radius 1 voxel).
    grid = "grid = { voxel_nm = 20.0; shape = [48, 48, 48]; };"
    cfg = import_cfg(tmp, "der", "gen.h5", "/geometry/labels", grid=grid)
    # The generated run used args.mpiexec; an extra serial run checks rank independence of the fill.
    launchers = [(args.mpiexec or "1 rank", args.mpiexec)] + ([("1 rank", "")] if args.mpiexec else [])
    cfg_rest = import_cfg(tmp, "der_rest", "gen.h5", "/geometry/labels", grid=grid, protocol=REST)
    results = [(tag, run_ok(args, cfg if n == 0 else cfg_rest, os.path.join(tmp, "der%d.h5" % n), mpi))
               for n, (tag, mpi) in enumerate(launchers)]
    for n, (tag, der) in enumerate(results):
        dsec = der["geometry/secondary"][:]
        solid = lab > 0
        pairs = np.unique(np.stack([sec[solid], dsec[solid]]), axis=1)
        bijective = (len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1])))
        gap_gen, gap_der = (lab == 0) & (sec > 0), (lab == 0) & (dsec > 0)
        check(bijective and dsec.max() == sec.max() and dsec[solid].min() > 0,
              "derived secondaries (%s): %d id(s), solid voxels map one to one onto the generated ones "
              "(%d pair(s)); gap voxels marked %d (generated %d, %d in common)"
              % (tag, dsec.max(), pairs.shape[1], gap_der.sum(), gap_gen.sum(), (gap_gen & gap_der).sum()))
        ps = der["particles/secondary"][:]
        check(np.array_equal(ps, np.array([pairs[1][pairs[0] == s][0] for s in gen["particles/secondary"][:]])),
              "derived secondaries (%s): /particles/secondary follows the renumbering" % tag)
        if n == 0:  # same launcher as the generated run
            worst = max(rel_diff(gen["timeseries"][k][:], der["timeseries"][k][:]) for k in gen["timeseries"])
            check(worst <= 1e-12, "derived secondaries (%s): /timeseries identical (max relative difference %.3g)"
                  % (tag, worst))
    if len(results) == 2:
        # Integers exactly; floating-point sums over ranks (areas, centroids) to rounding.
        a, b = results[0][1], results[1][1]
        exact = all(np.array_equal(a["particles"][k][:], b["particles"][k][:])
                    for k in ("id", "secondary", "volume_m3", "radius_m", "diffusivity_multiplier"))
        worst = max(rel_diff(a["particles"][k][:], b["particles"][k][:]) for k in a["particles"])
        check(np.array_equal(a["geometry/secondary"][:], b["geometry/secondary"][:]) and exact and worst <= 1e-12,
              "derived secondaries: %s and 1 rank give identical /geometry/secondary and /particles "
              "(floating-point sums to %.3g relative)" % (results[0][0], worst))
    return lab, sec


def closing_vs_scipy(args, tmp):
    """Derived secondaries on a synthetic image (several clusters of balls with gaps of
    1..4 voxels, some cut by the grid faces) against scipy's closing with the same ball
    (outside the grid counts as dilated for the erosion) and 6-connected labelling."""
    try:
        from scipy import ndimage
    except ImportError:
        print("skip  closing vs scipy: scipy not available")
        return
    rng = np.random.default_rng(7)
    n = (36, 40, 44)  # nz, ny, nx
    lab = np.zeros(n, np.int32)
    z, y, x = np.indices(n)
    nlab = 0
    for cz, cy, cx in ((10, 12, 12), (26, 28, 32), (30, 6, 40), (3, 36, 2)):
        for _ in range(7):
            r = rng.uniform(2.0, 4.0)
            c = np.array([cz, cy, cx]) + rng.uniform(-5, 5, 3)
            ball = (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r
            ball &= lab == 0
            if ball.any():
                nlab += 1
                lab[ball] = nlab
    # Carve one-voxel gaps between touching balls, so that closing has gaps to bridge.
    grown = ndimage.grey_dilation(lab, footprint=ndimage.generate_binary_structure(3, 1))
    lab[(lab > 0) & (grown != lab)] = 0
    path = os.path.join(tmp, "synthetic.h5")
    with h5py.File(path, "w") as f:
        f["labels"] = lab
        f.attrs["voxel_nm"] = 10.0
    for closing_nm in (40.0, 50.0):
        r2 = (closing_nm / 2 / 10.0) ** 2
        o = np.arange(-3, 4)
        bz, by, bx = np.meshgrid(o, o, o, indexing="ij")
        ball = bz ** 2 + by ** 2 + bx ** 2 <= r2 + 1e-9
        solid = lab > 0
        closed = ndimage.binary_erosion(ndimage.binary_dilation(solid, ball), ball, border_value=1) | solid
        ref, nref = ndimage.label(closed, ndimage.generate_binary_structure(3, 1))
        cfg = import_cfg(tmp, "syn%g" % closing_nm, "synthetic.h5", "/labels", extra=" closing_nm = %.1f;" % closing_nm,
                         protocol=REST)
        res = run_ok(args, cfg, os.path.join(tmp, "syn%g.h5" % closing_nm), mpiexec="")
        got = res["geometry/secondary"][:]
        pairs = np.unique(np.stack([ref.ravel(), got.ravel()]), axis=1)
        same = (len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1])) and got.max() == nref
                and np.array_equal(got > 0, ref > 0))
        flat = got.ravel()
        first = [np.argmax(flat == s) for s in range(1, got.max() + 1)]
        env = envelope(got, 10e-9)
        cen, psec = res["particles/centroid_m"][:], res["particles/secondary"][:]
        want = np.array([max(0.0, env[s][1] - np.linalg.norm(c - env[s][0])) if s in env else 0.0
                         for c, s in zip(cen, psec)])
        err = float(np.max(np.abs(res["particles/depth_m"][:] - want)))
        major = [np.bincount(got[lab == p]).argmax() for p in range(1, nlab + 1)]
        check(same and first == sorted(first) and err <= 1e-14 and np.array_equal(psec, major),
              "closing_nm = %g (ball radius %.2g voxels), %d primaries: %d secondaries, %d closed-gap voxels, "
              "same sets as scipy's closing + labelling, numbered in C order of first voxel, particle secondary "
              "= majority id, depth_m to %.2g m" % (closing_nm, closing_nm / 20.0, nlab, got.max(),
                                                      ((lab == 0) & (got > 0)).sum(), err))


def malformed(args, tmp, lab, sec):
    d = os.path.realpath(os.path.join(tmp, "bad"))
    os.makedirs(d, exist_ok=True)
    nz, ny, nx = lab.shape
    grid = "grid = { voxel_nm = 20.0; shape = [%d, %d, %d]; };" % (nx, ny, nz)

    def h5(name, **dsets):
        path = os.path.join(d, name + ".h5")
        with h5py.File(path, "w") as f:
            for k, v in dsets.items():
                if v is not None:
                    f[k] = v
        return name + ".h5"

    cases = [
        # name, file, labels, secondary, grid, dataset the message must name, words it must contain
        ("float labels", h5("float", labels=lab.astype(np.float64)), "/labels", None, grid, "/labels", "floating-point"),
        ("2-D labels", h5("flat", labels=lab[0]), "/labels", None, grid, "/labels", "rank 2"),
        ("shape differs from grid.shape", h5("shape", labels=lab[:, :, :-2]), "/labels", None, grid, "/labels", "grid.shape"),
        ("negative label", h5("neg", labels=np.where(lab == 5, -1, lab).astype(np.int32)), "/labels", None, grid, "/labels", "negative"),
        ("all labels 0", h5("zero", labels=np.zeros_like(lab)), "/labels", None, grid, "/labels", "no solid voxel"),
        ("missing dataset", h5("nolab", other=lab), "/labels", None, grid, "/labels", "no such dataset"),
        ("labels is a group", h5("group", **{"labels/x": lab}), "/labels", None, grid, "/labels", "group"),
        ("secondary of another shape", h5("secshape", labels=lab, sec=sec[:-1]), "/labels", "/sec", grid, "/sec", "differs"),
        ("secondary missing", h5("secmiss", labels=lab), "/labels", "/sec", grid, "/sec", "no such dataset"),
        ("secondary float", h5("secfloat", labels=lab, sec=sec.astype(np.float32)), "/labels", "/sec", grid, "/sec", "floating-point"),
        ("secondary negative", h5("secneg", labels=lab, sec=-sec), "/labels", "/sec", grid, "/sec", "negative"),
        ("no voxel size anywhere", h5("novox", labels=lab), "/labels", None, "", "/labels", "no voxel size"),
        ("file missing", "absent.h5", "/labels", None, grid, "/labels", "cannot open"),
    ]
    with open(os.path.join(d, "text.h5"), "w") as f:
        f.write("this is not HDF5\n")
    cases.append(("not an HDF5 file", "text.h5", "/labels", None, grid, "/labels", "not an HDF5 file"))
    vox = h5("vox", labels=lab)
    with h5py.File(os.path.join(d, vox), "a") as f:
        f["labels"].attrs["voxel_nm"] = 25.0
    cases.append(("voxel_nm attribute vs grid.voxel_nm", vox, "/labels", None, grid, "/labels", "grid.voxel_nm"))

    jobs = []
    for what, file, labels, secondary, g, dset, words in cases:
        name = re.sub(r"\W+", "_", what)
        cfg = import_cfg(d, name, file, labels, secondary, grid=g, protocol=REST)
        jobs.append((cfg, ["run", cfg, "-o", os.path.join(d, name + "_result.h5"), "--quiet"], ""))
    # An import file given by --set: the message points at that --set.
    cfg = import_cfg(d, "via_set", "float.h5", "/labels", grid=grid, protocol=REST)
    jobs.append((cfg, ["run", cfg, "-o", os.path.join(d, "via_set_result.h5"), "--quiet",
                       "--set", 'microstructure.file="zero.h5"'], ""))
    # Under mpiexec: one message (rank 0 only) among mpiexec's own lines.
    if args.mpiexec:
        cfg = import_cfg(d, "mpi", "float.h5", "/labels", grid=grid, protocol=REST)
        jobs.append((cfg, ["run", cfg, "-o", os.path.join(d, "mpi_result.h5"), "--quiet"], None))
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        procs = list(pool.map(lambda j: oxvac(args, j[1], j[2]), jobs))

    for (what, file, labels, secondary, g, dset, words), p in zip(cases, procs):
        name = re.sub(r"\W+", "_", what)
        cfg = os.path.join(d, name + ".cfg")
        lines = p.stderr.strip().splitlines()
        msg = lines[0] if lines else ""
        form = re.match(r"^%s:%d: key 'microstructure\.file': %s:%s: (.+); (.+)$"
                        % (re.escape(cfg), FILE_LINE, re.escape(os.path.join(d, file)), re.escape(dset)), msg)
        leftovers = [f for f in os.listdir(d) if f.startswith(name + "_result")]
        check(p.returncode == 2 and len(lines) == 1 and form is not None and words in msg and not leftovers,
              "malformed, %s: exit %d, %d line(s), no result file%s: %s"
              % (what, p.returncode, len(lines), "" if not leftovers else " FOUND " + str(leftovers), msg))

    p = procs[len(cases)]
    out = os.path.join(d, "via_set_result.h5")
    msg = p.stderr.strip()
    check(p.returncode == 2 and not os.path.exists(out)
          and msg.startswith("--set:1: key 'microstructure.file': %s:/labels: no solid voxel" % os.path.join(d, "zero.h5")),
          "malformed via --set: exit %d: %s" % (p.returncode, msg))

    if args.mpiexec:
        p = procs[len(cases) + 1]
        ours = [l for l in p.stderr.splitlines() if "key 'microstructure.file'" in l]
        check(p.returncode == 2 and len(ours) == 1 and not [f for f in os.listdir(d) if f.startswith("mpi_result")],
              "malformed under %s: exit %d, %d message line(s), no result file" % (args.mpiexec, p.returncode, len(ours)))


def timed(what, f, *a):
    t = time.time()
    r = f(*a)
    print("      (%s: %.1f s)" % (what, time.time() - t))
    return r


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, timeout=None))
    args.mpiexec = " ".join(oxtest.launcher(args.mpiexec))
    with oxtest.workdir(args.keep, "oxvac_import_") as tmp:
        import_checks(args, tmp)
    print("%d check(s) failed" % len(failures) if failures else "all import checks passed")
    return 1 if failures else 0


def import_checks(args, tmp):
    lab, sec = timed("round trip", round_trip, args, tmp)
    timed("closing vs scipy", closing_vs_scipy, args, tmp)
    timed("malformed files", malformed, args, tmp, lab, sec)


if __name__ == "__main__":
    sys.exit(main())
