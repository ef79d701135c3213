#!/usr/bin/python3
"""The oxvac Python package's figures: `python3 -m oxvac.plot` (PYTHONPATH=postprocess).

--case figures (default): one short run of inputs/demo.cfg made smaller (two
secondaries, 35 nm voxels, 40^3, one formation and two cycles, fields at 0, 1,
2, observables.mn_share = 0.869; ~15 s), then
  - every subcommand (loss, profiles, lamella, slice, depth, measured, sweep)
    through the CLI as PNG and as PDF: exit 0, the path printed, the file
    there; a PNG is 300 dpi (its pHYs chunk) and not blank (more than a few
    distinct colours, a share of non-white pixels); a PDF starts with %PDF;
    `--help` of the command and of each subcommand exits 0; the default name
    RESULT_<subcommand>.png; exit 2 for an unstored cycle, a .svg name, a
    missing file, a measured cycle the result lacks;
  - what the figures draw (in-process, the functions the CLI calls): the
    profile curves equal the stored /profiles and /lamella datasets (bins with
    count > 0); the loss curves equal /timeseries and /secondaries_series, cycle
    ends at x = cycle; the default slice goes through the first secondary's
    centre (not a corner), equals the stored field there with the electrolyte
    masked, and its Mn3+ is min(1, mn_share 4 c / formula.mn) computed here;
    the depth points are /particles/depth_m and 100 x /particles_series/
    vacancy_mean per secondary; the slab average behind `lamella` covers as
    many pixels as oxvac's /lamella counts; a stored 2D lamella map is drawn
    as stored; a secondary centred on a domain corner is mirrored;
  - `measured`: a SYNTHETIC CSV (labelled so in its first comment) made from
    the model's own stored profile plus known offsets at the bin centres: the
    plotted residuals equal -offset / sigma; at points between bin centres
    they equal the residuals of `oxvac compare --format json`;
  - the Csernica report (oxvac.csernica2021.build) still runs on this result,
    draws with the same functions, its loss axis ends near the result's last
    cycle (not 510) and its section goes through the large secondary's centre.
--case install: postprocess/ copied, installed offline with
  `pip install --no-build-isolation --no-index` into a venv that sees the
  system packages; `oxvac-plot --help` and a figure from it (exit 77 = skipped
  where there is no pip).

usage: test_plot.py [--oxvac PATH] [--case figures|install] [--keep DIR] [-v]
Exit status 0 if every check passes, 1 otherwise, 77 skipped.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKG = os.path.join(ROOT, "postprocess")
sys.path.insert(0, PKG)
os.environ["PYTHONPATH"] = os.pathsep.join([PKG] + [p for p in [os.environ.get("PYTHONPATH")] if p])
os.environ.setdefault("MPLBACKEND", "Agg")

import oxtest  # noqa: E402

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SUBCOMMANDS = ["loss", "profiles", "lamella", "slice", "depth", "measured", "sweep"]
MN_SHARE, FORMULA_MN = 0.869, 0.53
CENTRES = [(0.45, 0.45, 0.45), (1.05, 1.05, 1.05)]
RADII = [0.4, 0.3]
VOXEL_NM, N = 35.0, 40
SETS = [
    "microstructure.secondaries=({center_um=[%g,%g,%g];radius_um=%g;},{center_um=[%g,%g,%g];radius_um=%g;})"
    % (CENTRES[0] + (RADII[0],) + CENTRES[1] + (RADII[1],)),
    f"grid.voxel_nm={VOXEL_NM}", f"grid.shape=[{N},{N},{N}]",
    "protocol.formation.repeat=1", "protocol.cycling.repeat=2", "output.fields_at_cycles=[0,1,2]",
    f"observables.mn_share={MN_SHARE}",
]


# ---------------------------------------------------------------- files
png_info = oxtest.png_info


def png_content(path):
    """(distinct colours, fraction of non-white pixels) of a PNG."""
    import matplotlib.image as mpimg
    img = mpimg.imread(path)
    rgb = np.round(img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    packed = rgb[:, 0].astype(np.int64) << 16 | rgb[:, 1].astype(np.int64) << 8 | rgb[:, 2]
    return int(np.unique(packed).size), float(np.mean(rgb.min(axis=1) < 250))


def check_png(c, path, what, min_colours=24, min_ink=0.02):
    info = png_info(path) if os.path.isfile(path) else None
    if not c.check(info is not None, f"{what}: {path} is a PNG with valid chunks"):
        return
    w, h, phys = info
    ppm = round(300 / 0.0254)
    c.check(phys is not None and phys[2] == 1 and abs(phys[0] - ppm) <= 1 and abs(phys[1] - ppm) <= 1,
            f"{what}: 300 dpi in pHYs ({phys}, expected {ppm} px/m)")
    colours, ink = png_content(path)
    c.check(colours > min_colours and ink > min_ink,
            f"{what}: not blank ({colours} distinct colours, {100 * ink:.1f} % non-white pixels, {w}x{h})")


def check_pdf(c, path, what):
    ok = os.path.isfile(path) and os.path.getsize(path) > 1000
    head = open(path, "rb").read(5) if ok else b""
    c.check(ok and head == b"%PDF-", f"{what}: {path} is a PDF ({head!r}, "
            f"{os.path.getsize(path) if ok else 0} bytes)")


def cli(argv, timeout=120):
    cmd = [PY, "-m", "oxvac.plot"] + argv
    return cmd, oxtest.run(cmd, timeout=timeout)


# ---------------------------------------------------------------- synthetic inputs
def write_measured(res_path, path, group, cycles, extra_between=True):
    """SYNTHETIC measured CSV from the result's own stored profile: at each
    non-empty bin centre the model plus a known offset, and (extra_between)
    points halfway between centres. Returns [(cycle, distance, offset, sigma,
    at_centre)] in file order."""
    rows, pts = [], []
    with h5py.File(res_path, "r") as f:
        for c in cycles:
            g = f[f"{group}/cycle_{c:06d}"]
            ok = g["count"][...] > 0
            d, m = g["distance_nm"][...][ok], g["mn3_fraction"][...][ok]
            for i in range(min(6, d.size)):
                off, sig = 0.004 * (i + 1), 0.01 * (1 + i % 2)
                rows.append(f"{c},{d[i]!r},{m[i] + off!r},{sig!r}")
                pts.append((c, float(d[i]), off, sig, True))
            if extra_between:
                for i in range(min(2, d.size - 1)):
                    x = 0.5 * (d[i] + d[i + 1])
                    rows.append(f"{c},{x!r},{0.02:.17g},{0.01!r}")
                    pts.append((c, float(x), None, 0.01, False))
    with open(path, "w") as f:
        f.write(f"# synthetic: the stored {group} profile of the test run plus known offsets "
                "(tests/test_plot.py); not a measurement\n")
        f.write("cycle,distance_nm,mn3_fraction,sigma\n" + "\n".join(rows) + "\n")
    return pts


def write_summary(path):
    """SYNTHETIC sweep summary: loss = 1 + 1/radius for 3 radii x 2 diameters."""
    lines = ["index,microstructure.secondaries.[0].radius_um,microstructure.primary_diameter_nm,status,"
             "wall_s,cycles,oxygen_loss_pct,error"]
    i = 0
    for dd in (150, 300):
        for r in (0.2, 0.4, 0.8):
            lines.append(f"{i},{r},{dd},done,1.0,2,{1 + 1 / r + dd / 1000},")
            i += 1
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def edited_copy(src, dst, config_edit=None, extra=None):
    """A copy of a result with its config text edited and datasets added."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        if config_edit:
            cfg = f.attrs["config"]
            cfg = cfg.decode() if isinstance(cfg, bytes) else str(cfg)
            f.attrs["config"] = config_edit(cfg)
        for k, v in (extra or {}).items():
            f[k] = v
    return dst


# ---------------------------------------------------------------- checks
def gid_lines(fig, prefix):
    return {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines()
            if (ln.get_gid() or "").startswith(prefix)}


def check_cli(c, d, res, csv, summary):
    """Every subcommand as PNG and PDF, help, default name, errors."""
    extra = {"measured": [csv], "sweep": []}
    for sub in SUBCOMMANDS:
        for ext in (".png", ".pdf"):
            out = os.path.join(d, f"cli_{sub}{ext}")
            src = summary if sub == "sweep" else res
            argv = [sub, src] + extra.get(sub, []) + (["--x", "radius_um", "--by", "diameter_nm"] if sub == "sweep"
                                                       else []) + ["-o", out]
            cmd, p = cli(argv)
            if c.check(p.returncode == 0 and p.stdout.strip() == out, f"{sub} {ext}: exit 0, prints {out}",
                       cmd, p.stdout, p.stderr):
                (check_png if ext == ".png" else check_pdf)(c, out, f"{sub} {ext}")
    variants = [
        ("loss_time", ["loss", res, "--x", "time", "--ends"]),
        ("profiles_lamella", ["profiles", res, "--geometry", "lamella", "--cycles", "1,2", "--quantity", "mn3"]),
        ("slice_x_mn3", ["slice", res, "--axis", "x", "--quantity", "mn3", "--cycles", "1,2"]),
        ("depth_bin", ["depth", res, "--cycles", "1,2", "--bin", "0.1"]),
        ("measured_3d", ["measured", res, csv.replace("lamella", "profiles"), "--geometry", "3d"]),
    ]
    for name, argv in variants:
        out = os.path.join(d, f"cli_{name}.png")
        cmd, p = cli(argv + ["-o", out])
        if c.check(p.returncode == 0, f"{name}: exit 0", cmd, p.stdout, p.stderr):
            check_png(c, out, name)
    # --help
    cmd, p = cli(["--help"])
    c.check(p.returncode == 0 and all(s in p.stdout for s in SUBCOMMANDS), "--help lists every subcommand",
            cmd, p.stdout, p.stderr)
    for sub in SUBCOMMANDS:
        cmd, p = cli([sub, "--help"])
        c.check(p.returncode == 0 and f"oxvac.plot {sub}" in p.stdout and "usage" in p.stdout,
                f"{sub} --help exits 0 with its usage", cmd, p.stdout, p.stderr)
    # default output name beside the result
    here = os.path.join(d, "default")
    os.makedirs(here, exist_ok=True)
    r2 = shutil.copy(res, os.path.join(here, "run.h5"))
    cmd, p = cli(["depth", r2])
    want = os.path.join(here, "run_depth.png")
    c.check(p.returncode == 0 and p.stdout.strip() == want and os.path.isfile(want),
            f"default output {want}", cmd, p.stdout, p.stderr)
    # errors: exit 2 with a message, nothing written
    bad_csv = os.path.join(d, "bad_cycle.csv")
    with open(bad_csv, "w") as f:
        f.write("# synthetic: a cycle the result does not store\ncycle,distance_nm,mn3_fraction,sigma\n"
                "7,15,0.1,0.01\n")
    for argv, must in [(["slice", res, "--cycles", "5"], "cycle 5 is not stored"),
                       (["profiles", res, "-o", os.path.join(d, "x.svg")], ".png or .pdf"),
                       (["loss", os.path.join(d, "missing.h5")], "no such file"),
                       (["measured", res, bad_csv], "bad_cycle.csv:3: key 'cycle': cycle 7 is not stored"),
                       (["profiles", res, "--cycles", "x"], "comma-separated")]:
        cmd, p = cli(argv)
        c.check(p.returncode == 2 and must in p.stderr, f"exit 2 naming '{must}' (rc {p.returncode})",
                cmd, p.stdout, p.stderr)
    c.check(not os.path.exists(os.path.join(d, "x.svg")), "nothing written on an error")


def check_figures(c, d, res_path, args):
    from oxvac import metrics
    from oxvac.plot import figures as F
    from oxvac.result import Result

    res = Result(res_path)
    f = res.f
    h = float(f["geometry"].attrs["voxel_m"])
    lab = f["geometry/labels"][...]

    # --- profiles: the curves are the stored datasets
    for geometry, group in (("3d", "profiles"), ("lamella", "lamella")):
        fig = F.profiles_figure(res, geometry)
        lines = gid_lines(fig, "profile:")
        want = {f"profile:{q}:{cy}" for q in ("mn3", "vacancy") for cy in (1, 2)}
        c.check(set(lines) == want, f"{geometry} profiles: curves {sorted(lines)} (cycles 1, 2 by default)")
        for gid, ln in sorted(lines.items()):
            _, q, cy = gid.split(":")
            g = f[f"{group}/cycle_{int(cy):06d}"]
            ok = g["count"][...] > 0
            key = "mn3_fraction" if q == "mn3" else "vacancy_fraction"
            x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
            c.check(np.array_equal(x, g["distance_nm"][...][ok]) and np.array_equal(y, g[key][...][ok]),
                    f"{geometry} {gid}: plotted = /{group}/cycle_{int(cy):06d}/{{distance_nm,{key}}} "
                    f"({ok.sum()} non-empty bins of {ok.size})")
        c.check(fig.axes[-1].get_xlabel().endswith("(nm)") and "Mn³⁺" in fig.axes[0].get_ylabel(),
                f"{geometry} labels {fig.axes[0].get_ylabel()!r}, {fig.axes[-1].get_xlabel()!r}")

    # --- loss: total, per secondary, SOC; cycle ends at x = cycle
    ts = {k: f["timeseries"][k][...] for k in f["timeseries"]}
    ss = {k: f["secondaries_series"][k][...] for k in f["secondaries_series"]}
    fig = F.loss_figure(res, x="cycle")
    L = gid_lines(fig, "")
    tot = L["total"]
    c.check(np.array_equal(np.asarray(tot.get_ydata(), float), ts["oxygen_loss_pct"]),
            "loss: total curve = /timeseries/oxygen_loss_pct")
    xt = np.asarray(tot.get_xdata(), float)
    ends = [np.nonzero(ts["cycle"] == cy)[0][-1] for cy in (0, 1, 2)]
    c.check(np.allclose(xt[ends], [0, 1, 2], atol=1e-12) and abs(xt[0] + 1) < 1e-12,
            f"loss: cycle ends at x = 0, 1, 2 and t = 0 at -1 (formation) ({xt[ends]}, {xt[0]})")
    c.check(np.array_equal(np.asarray(L["soc"].get_ydata(), float), ts["soc"]), "loss: SOC curve = /timeseries/soc")
    ids = f["secondaries/id"][...]
    for j, sid in enumerate(ids):
        ln = L.get(f"secondary:{sid}")
        ok = ln is not None and np.array_equal(np.asarray(ln.get_ydata(), float), ss["oxygen_loss_pct"][:, j]) \
            and np.allclose(np.asarray(ln.get_xdata(), float), [-1, 1, 2])
        c.check(ok, f"loss: secondary {sid} = /secondaries_series/oxygen_loss_pct[:, {j}] at x -1 (t = 0), 1, 2")
    c.check(fig.axes[0].get_ylabel() == "oxygen loss (at.%)" and fig.axes[-1].get_xlabel() == "cycle",
            "loss: axis labels")
    fig = F.loss_figure(res, x="time")
    xt = np.asarray(gid_lines(fig, "total")["total"].get_xdata(), float)
    c.check(np.allclose(xt, ts["time_s"] / 3600.0) and fig.axes[-1].get_xlabel() == "time (h)",
            "loss --x time: x = /timeseries/time_s in hours")

    # --- slice: default through the first secondary's centre, electrolyte masked
    fld2 = f["fields/cycle_000002/vacancy_fraction"][...]
    kz = int(np.floor(CENTRES[0][2] * 1e-6 / h))
    fig = F.slice_figure(res)
    s = fig.oxvac_data["sections"][2]
    c.check(s["index"] == kz and kz > 2, f"slice: default layer z index {s['index']} = centre of secondary 1 "
            f"({kz}; not a corner), cycle 2 (the last) by default")
    im = [a for ax in fig.axes for a in ax.get_images() if a.get_gid() == "image"][0]
    arr = im.get_array()
    c.check(np.array_equal(np.ma.getmaskarray(arr), lab[kz] == 0), "slice: masked exactly where labels == 0")
    c.check(np.array_equal(arr.filled(np.nan)[lab[kz] > 0], fld2[kz][lab[kz] > 0]),
            "slice: solid pixels = /fields/cycle_000002/vacancy_fraction[k]")
    c.check(np.allclose(im.get_extent(), [0.0, N * VOXEL_NM / 1000, 0.0, N * VOXEL_NM / 1000], rtol=1e-12),
            f"slice: extent in µm {im.get_extent()}")
    c.check(any(getattr(a, "get_gid", lambda: None)() == "scale_bar" for ax in fig.axes for a in ax.artists),
            "slice: scale bar drawn")
    fig = F.slice_figure(res, cycles=[1], quantity="mn3", axis="x")
    s = fig.oxvac_data["sections"][1]
    kx = int(np.floor(CENTRES[0][0] * 1e-6 / h))
    fld1 = f["fields/cycle_000001/vacancy_fraction"][...]
    mine = np.clip(MN_SHARE * 4.0 * fld1[:, :, kx] / FORMULA_MN, 0.0, 1.0)
    solid = lab[:, :, kx] > 0
    c.check(s["index"] == kx and s["cols"] == "y" and s["rows"] == "z"
            and np.allclose(s["image"][solid], mine[solid], rtol=0, atol=1e-15),
            "slice --axis x --quantity mn3: = min(1, mn_share 4 c / formula.mn) of the stored field (computed here)")
    c.check(abs(res.mn_share - MN_SHARE) < 1e-12 and abs(res.formula_mn - FORMULA_MN) < 1e-12,
            f"mn_share {res.mn_share}, formula.mn {res.formula_mn} read from the result's config")
    c.check(float(metrics.mn3_fraction(-0.1, 1, 0.53)) == 0.0 and float(metrics.mn3_fraction(1, 1, 0.53)) == 1.0,
            "mn3_fraction clipped to [0, 1] as oxvac's OxMn3Fraction")
    fig = F.slice_figure(res, secondary=2)
    c.check(fig.oxvac_data["sections"][2]["index"] == int(np.floor(CENTRES[1][2] * 1e-6 / h)),
            "slice --secondary 2: through its centre")

    # --- centre from the geometry alone (imported labels): centroid of the secondary's voxels
    imp = edited_copy(res_path, os.path.join(d, "imported.h5"),
                      lambda t: t.replace('type = "generated"', 'type = "imported"', 1))
    r2 = Result(imp)
    for sid, cen in ((1, CENTRES[0]), (2, CENTRES[1])):
        got = r2.secondary_centre_m(sid)
        err = np.abs(got - np.array(cen) * 1e-6).max() / h
        c.check(r2.microstructure_type == "imported" and err < 2.0,
                f"secondary {sid} centre from /geometry/secondary {got * 1e6} µm, within 2 voxels of the "
                f"generator's ({err:.2f} voxels)")
    r2.close()

    # --- mirror: a secondary centred on the domain corner is shown whole
    cor = edited_copy(res_path, os.path.join(d, "corner.h5"),
                      lambda t: t.replace("center_um = [%g, %g, %g]" % CENTRES[0], "center_um = [0.0, 0.0, 0.0]", 1))
    r3 = Result(cor)
    c.check(np.allclose(r3.secondary_centre_m(1), 0.0), "edited copy: secondary 1 centre at the corner")
    s = F.section(r3, 2)
    img = s["image"]
    c.check(s["index"] == 0 and img.shape == (2 * N, 2 * N) and s["mirrors"] == ["low", "low"]
            and np.array_equal(img[:, :N], img[:, N:][:, ::-1], equal_nan=True)
            and np.array_equal(img[:N], img[N:][::-1], equal_nan=True)
            and np.array_equal(img[N:, N:], fld2[0]) and s["extent"][0] < 0,
            f"corner secondary: layer 0 mirrored across x = 0 and y = 0 ({img.shape}, {s['mirrors']})")
    r3.close()

    # --- lamella: slab average where no map is stored; a stored map as stored
    sa = F.slab_average(res, 2)
    nstored = int(f["lamella/cycle_000002/count"][...].sum())
    c.check(int(sa["solid"].sum()) == nstored,
            f"lamella: slab average covers {int(sa['solid'].sum())} pixels = sum of /lamella count ({nstored})")
    fig = F.lamella_figure(res, [1, 2], mirror="off")
    c.check(all(v == "slab average of /fields" for v in fig.oxvac_data["source"].values()),
            f"lamella: no stored map -> {fig.oxvac_data['source']}")
    mp = np.arange(N * N, dtype=float).reshape(N, N) / (N * N)
    withmap = edited_copy(res_path, os.path.join(d, "with_map.h5"),
                          extra={"lamella/cycle_000002/mn3_fraction_map": mp})
    r4 = Result(withmap)
    fig = F.lamella_figure(r4, [2], mirror="off")
    im = [a for ax in fig.axes for a in ax.get_images() if a.get_gid() == "image"][0]
    c.check(fig.oxvac_data["source"][2].endswith("mn3_fraction_map")
            and np.array_equal(im.get_array().filled(np.nan), mp),
            f"lamella: a stored 2D map is drawn as stored ({fig.oxvac_data['source'][2]})")
    r4.close()

    # --- depth: per primary, coloured by secondary
    P = {k: f["particles"][k][...] for k in ("secondary", "depth_m", "volume_m3")}
    pc, pv = f["particles_series/cycle"][...], f["particles_series/vacancy_mean"][...]
    fig = F.depth_figure(res, [1, 2])
    cols = set()
    for cy in (1, 2):
        row = list(pc).index(cy)
        for sid in ids:
            m = (P["secondary"] == sid) & (P["volume_m3"] > 0)
            ln = gid_lines(fig, f"primaries:{cy}:{sid}").get(f"primaries:{cy}:{sid}")
            ok = ln is not None and np.array_equal(np.asarray(ln.get_xdata()), P["depth_m"][m] * 1e6) \
                and np.array_equal(np.asarray(ln.get_ydata()), 100.0 * pv[row][m])
            c.check(ok, f"depth cycle {cy}, secondary {sid}: {m.sum()} primaries at (depth_m, 100 vacancy_mean)")
            if ln is not None:
                cols.add(str(ln.get_color()))
    c.check(len(cols) == len(ids), f"depth: one colour per secondary ({cols})")

    # --- measured: residuals of the synthetic CSV
    from oxvac import measured as MS
    for geometry, group in (("lamella", "lamella"), ("3d", "profiles")):
        csv = os.path.join(d, f"synthetic_{group}.csv")
        pts = write_measured(res_path, csv, group, [1, 2])
        meas = MS.read_csv(csv)
        c.check(meas["synthetic"], f"{csv}: first comment says synthetic")
        fig = F.measured_figure(res, meas, geometry, csv)
        plotted = np.concatenate([np.asarray(gid_lines(fig, f"residual:{cy}")[f"residual:{cy}"].get_ydata(), float)
                                  for cy in (1, 2)])
        centre = np.array([p[4] for p in pts])
        want = np.array([-p[2] / p[3] if p[4] else np.nan for p in pts])
        err = np.max(np.abs(plotted[centre] - want[centre]))
        c.check(err < 1e-9, f"measured {geometry}: plotted residuals at the bin centres = -offset / sigma "
                f"(max error {err:.1e}; {centre.sum()} points)")
        cmd = [args.oxvac, "compare", res_path, csv, "--geometry", geometry, "--format", "json"]
        p = oxtest.run(cmd, timeout=60)
        if c.check(p.returncode == 0, f"oxvac compare --geometry {geometry} runs", cmd, p.stdout, p.stderr):
            J = json.loads(p.stdout)
            theirs = np.array(J["points"]["residual"], float)
            order = np.argsort(np.array(J["points"]["cycle"]), kind="stable")
            err = np.max(np.abs(plotted - theirs[order]))
            c.check(err < 1e-9, f"measured {geometry}: every plotted residual (also between bin centres) = "
                    f"oxvac compare's (max difference {err:.1e})")
            for cy in (1, 2):
                i = J["cycles"]["cycle"].index(cy)
                mine = fig.oxvac_data["evaluation"]["cycles"][cy]["chi2_red"]
                c.check(abs(mine - J["cycles"]["chi2_red"][i]) <= 1e-9 * max(1.0, mine),
                        f"measured {geometry} cycle {cy}: chi2_red {mine:.6g} = compare's")
        model = gid_lines(fig, "model:1")["model:1"]
        g = f[f"{group}/cycle_000001"]
        ok = g["count"][...] > 0
        c.check(np.array_equal(np.asarray(model.get_ydata(), float), g["mn3_fraction"][...][ok]),
                f"measured {geometry}: model curve = stored /{group} mn3_fraction")
    res.close()


def check_report(c, d, res_path):
    """The Csernica report on this result, drawing with the same functions."""
    from oxvac import csernica2021 as R
    from oxvac.plot import figures as F

    made = {}
    names = ("loss_figure", "profiles_figure", "depth_figure", "slice_figure")
    orig = {n: getattr(F, n) for n in names}

    def spy(n):
        def f(*a, **k):
            fig = orig[n](*a, **k)
            made.setdefault(n, []).append(fig)
            return fig
        return f
    for n in names:
        setattr(F, n, spy(n))
    out = os.path.join(d, "report")
    try:
        rows = R.build(res_path, out, os.path.join(ROOT, "inputs", "demo.cfg"), None, reference=None)
    except Exception as e:  # noqa: BLE001 - any failure of the report is the finding
        c.fail(f"csernica2021.build on the demo result: {type(e).__name__}: {e}")
        return
    finally:
        for n in names:
            setattr(F, n, orig[n])
    c.check(len(rows) > 0 and os.path.isfile(os.path.join(out, "REPORT.md")), f"report: REPORT.md, {len(rows)} rows")
    for png in ("oxygen_loss", "profiles", "mn3_profiles", "lamella_mn3", "particle_depth", "slice_mn3"):
        check_png(c, os.path.join(out, png + ".png"), f"report {png}")
    c.check(set(made) == set(names), f"report draws with oxvac.plot.figures ({sorted(made)})")
    if "loss_figure" in made:
        x1 = made["loss_figure"][0].axes[0].get_xlim()[1]
        c.check(2 <= x1 < 5, f"report loss axis follows the result's cycles (right end {x1:.2f}, last cycle 2)")
    if "slice_figure" in made:
        secs = made["slice_figure"][0].oxvac_data["sections"]
        h = VOXEL_NM * 1e-9
        want = int(np.floor(CENTRES[0][2] * 1e-6 / h))
        c.check(sorted(secs) == [1, 2] and all(s["index"] == want for s in secs.values()),
                f"report sections at cycles {sorted(secs)} through the large secondary's centre (z index {want})")


def case_figures(args, d, c):
    if not args.oxvac:
        c.fail("--case figures needs --oxvac")
        return
    res = os.path.join(d, "plot_demo.h5")
    argv = ["run", os.path.join(ROOT, "inputs", "demo.cfg"), "-o", res, "--quiet"]
    for s in SETS:
        argv += ["--set", s]
    oxtest.run_oxvac(args, argv, mpiexec="")
    csv = os.path.join(d, "synthetic_lamella.csv")
    write_measured(res, csv, "lamella", [1, 2])
    write_measured(res, csv.replace("lamella", "profiles"), "profiles", [1, 2])
    summary = os.path.join(d, "summary.csv")
    write_summary(summary)
    check_figures(c, d, res, args)
    check_report(c, d, res)
    check_cli(c, d, res, csv, summary)


def case_install(args, d, c):
    pip = subprocess.run([PY, "-m", "pip", "--version"], capture_output=True, text=True)
    if pip.returncode != 0:
        print("test_plot --case install: SKIPPED (no pip for", PY, ")")
        sys.exit(77)
    src = os.path.join(d, "src")
    os.makedirs(src)
    shutil.copy(os.path.join(PKG, "pyproject.toml"), src)
    shutil.copytree(os.path.join(PKG, "oxvac"), os.path.join(src, "oxvac"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = os.path.join(d, "venv")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    steps = [[PY, "-m", "venv", "--without-pip", "--system-site-packages", venv],
             [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--no-build-isolation", "--no-index",
              "--no-cache-dir", "--disable-pip-version-check", src]]
    for cmd in steps:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        if not c.check(p.returncode == 0, f"{os.path.basename(cmd[0])} {' '.join(cmd[1:4])}: exit 0",
                       cmd, p.stdout, p.stderr):
            return
    exe = os.path.join(venv, "bin", "oxvac-plot")
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env, timeout=60)
    c.check(p.returncode == 0 and "oxvac-plot" in p.stdout and "measured" in p.stdout,
            "installed console script oxvac-plot --help", [exe, "--help"], p.stdout, p.stderr)
    p = subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import oxvac.plot.cli as m; print(m.__file__)"],
                       capture_output=True, text=True, env=env, timeout=60, cwd=d)
    c.check(p.returncode == 0 and p.stdout.strip().startswith(venv),
            f"import oxvac from the venv, not the checkout ({p.stdout.strip()})", None, p.stdout, p.stderr)
    summary = os.path.join(d, "summary.csv")
    write_summary(summary)
    out = os.path.join(d, "sweep.png")
    p = subprocess.run([exe, "sweep", summary, "--x", "radius_um", "-o", out], capture_output=True, text=True,
                       env=env, timeout=60)
    if c.check(p.returncode == 0, "installed oxvac-plot sweep writes a PNG", [exe, "sweep"], p.stdout, p.stderr):
        check_png(c, out, "installed sweep")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--oxvac", help="path to the oxvac executable (--case figures)")
    ap.add_argument("--case", choices=("figures", "install"), default="figures")
    ap.add_argument("--keep", help="work here and keep the result and figures")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds for the oxvac run")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every check")
    args = ap.parse_args()
    if args.oxvac:
        args.oxvac = os.path.abspath(args.oxvac)
    c = oxtest.Checker(f"test_plot --case {args.case}", args.verbose)
    with oxtest.workdir(args.keep, "oxvac_plot_") as d:
        (case_figures if args.case == "figures" else case_install)(args, d, c)
    return c.exit_code(f"{c.count} checks")


if __name__ == "__main__":
    sys.exit(main())
