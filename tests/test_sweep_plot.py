#!/usr/bin/python3
"""oxvac.plot.sweep (`python3 -m oxvac.plot sweep`, PYTHONPATH=postprocess):
plots of an `oxvac sweep --collect` summary.csv; postprocess/sweep_plot.py is
a thin wrapper of it for old command lines.

Needs no oxvac: the summary.csv is SYNTHETIC test data written here (not the
output of any run): a grid of 3 secondary radii x 2 primary diameters, rows in
shuffled order, with oxygen loss = 0.5 + 4/radius_um + primary_diameter_nm/1000
(loss_pct_cycle_N = that * N/2), plus one failed point with empty values and
an error message holding a comma and a quote.

Checks:
  - read_summary(): the columns in order, values typed (int, float, None,
    quoted text), the error message unquoted; swept_parameters();
  - the CLI writes a PNG (300 dpi in its pHYs chunk, FIGSIZE*300 pixels) and a
    PDF, prints the path, reports the skipped (failed) point on stderr; the
    default output name; --y loss_pct_cycle_2 --logx --logy --title;
  - plot_sweep() in-process: one line per primary diameter, x sorted, y equal
    to the formula (1e-12), the failed point not on a line but marked at the
    bottom axis, the legend and axis labels; --by swapped;
  - suffix matching (full path, component suffix, plain suffix, ambiguous);
  - exit 2 with the swept parameters listed for an unknown parameter, an
    ambiguous one, an unknown --y, a non-numeric x; --help exits 0 with an
    example; the wrapper postprocess/sweep_plot.py writes the same PNG.

usage: test_sweep_plot.py [--keep DIR] [-v]
Exit status 0 if every check passes, 1 otherwise.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKG = os.path.join(ROOT, "postprocess")
sys.path.insert(0, PKG)

import oxtest  # noqa: E402
from oxvac.plot import sweep as sp  # noqa: E402

WRAPPER = os.path.join(PKG, "sweep_plot.py")
os.environ["PYTHONPATH"] = os.pathsep.join([PKG] + [p for p in [os.environ.get("PYTHONPATH")] if p])
PY = sys.executable or "/usr/bin/python3"

R = "microstructure.secondaries.[0].radius_um"
D = "microstructure.primary_diameter_nm"
RADII = [2.0, 5.0, 8.0]
DIAMS = [150, 400]
FAILED = (3.5, 150)
ERROR = 'solver diverged at cycle 1, step 12 ("dt" below 1e-9 s)'


def loss(r, d):
    """The synthetic data's formula (at.%)."""
    return 0.5 + 4.0 / r + d / 1000.0


def write_summary(path):
    """SYNTHETIC test data in the layout of `oxvac sweep --collect`."""
    cols = ["index", R, D, "status", "wall_s", "cycles", "oxygen_loss_pct",
            "loss_pct_cycle_1", "loss_pct_cycle_2", "secondary_0_loss_pct_cycle_2",
            "exterior_loss_pct_cycle_2", "interior_loss_pct_cycle_2", "error"]
    lines = [",".join(cols)]
    grid = [(r, d) for d in (400, 150) for r in (8.0, 2.0, 5.0)]   # not sorted by x
    for i, (r, d) in enumerate(grid):
        v = loss(r, d)
        cells = [str(i), repr(r), str(d), "done", "12.5", "2", repr(v), repr(v / 2), repr(v),
                 repr(v), repr(1.2 * v), repr(0.8 * v), ""]
        lines.append(",".join(cells))
    esc = ERROR.replace('"', '""')
    lines.append(f'{len(grid)},{FAILED[0]!r},{FAILED[1]},failed,0.8,,,,,,,,"{esc}"')
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
    return cols


def write_text_param_summary(path):
    """SYNTHETIC: a summary whose only swept parameter is text."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('index,material.name,status,wall_s,cycles,oxygen_loss_pct,error\n'
                '0,"NMC811",done,1,1,2.5,\n1,"LNMO",done,1,1,3.5,\n')


png_info = oxtest.png_info


def run_tool(c, argv, wrapper=False):
    """python3 -m oxvac.plot sweep ARGV (PYTHONPATH=postprocess), or the wrapper."""
    cmd = [PY, WRAPPER] + argv if wrapper else [PY, "-m", "oxvac.plot", "sweep"] + argv
    p = oxtest.run(cmd, timeout=60)
    return cmd, p


def checks(args, d, c):
    summary = os.path.join(d, "summary.csv")
    cols = write_summary(summary)

    # --- read_summary / swept_parameters
    columns, rows = sp.read_summary(summary)
    c.check(columns == cols, f"read_summary columns in order: {columns}")
    c.check(len(rows) == 7, f"7 rows read ({len(rows)})")
    c.check(sp.swept_parameters(columns) == [R, D], f"swept parameters {sp.swept_parameters(columns)}")
    f = rows[-1]
    c.check(f["status"] == "failed" and f["oxygen_loss_pct"] is None and f["cycles"] is None
            and f["error"] == ERROR and f[R] == 3.5 and f[D] == 150,
            f"failed row parsed (empty -> None, quoted error unquoted): {f}")
    c.check(isinstance(rows[0]["index"], int) and isinstance(rows[0][R], float)
            and rows[0]["error"] is None, f"value types of a done row: {rows[0]}")

    # --- CLI: PNG
    png = os.path.join(d, "loss.png")
    cmd, p = run_tool(c, [summary, "--x", "radius_um", "--by", "primary_diameter_nm", "-o", png])
    ok = c.check(p.returncode == 0, "CLI PNG exits 0", cmd, p.stdout, p.stderr)
    if ok:
        c.check(p.stdout.strip() == png, f"CLI prints the path written ({p.stdout.strip()!r})",
                cmd, p.stdout, p.stderr)
        c.check("1 of 7 points skipped" in p.stderr and "failed: 1" in p.stderr,
                "CLI reports the skipped failed point on stderr", cmd, p.stdout, p.stderr)
        info = png_info(png) if os.path.isfile(png) else None
        c.check(info is not None and os.path.getsize(png) > 0, f"{png} is a non-empty PNG")
        if info:
            w, h, phys = info
            ppm = round(300 / 0.0254)
            c.check(phys is not None and phys[2] == 1 and abs(phys[0] - ppm) <= 1
                    and abs(phys[1] - ppm) <= 1, f"PNG pHYs is 300 dpi ({phys}, expected {ppm} px/m)")
            ew, eh = (round(sp.FIGSIZE[0] * 300), round(sp.FIGSIZE[1] * 300))
            c.check((w, h) == (ew, eh), f"PNG size {w}x{h} is FIGSIZE*300 = {ew}x{eh}")

    # --- CLI: PDF, with the full path names
    pdf = os.path.join(d, "loss.pdf")
    cmd, p = run_tool(c, [summary, "--x", R, "--by", D, "-o", pdf])
    if c.check(p.returncode == 0, "CLI PDF exits 0", cmd, p.stdout, p.stderr):
        ok = os.path.isfile(pdf) and os.path.getsize(pdf) > 0
        head = open(pdf, "rb").read(5) if ok else b""
        c.check(ok and head == b"%PDF-", f"{pdf} is a non-empty PDF ({head!r})")

    # --- CLI: default name, --y, log axes, title
    cmd, p = run_tool(c, [summary, "--x", "radius_um", "--by", "diameter_nm", "--y",
                          "loss_pct_cycle_2", "--logx", "--logy", "--title", "synthetic"])
    want = os.path.join(d, "summary_loss_pct_cycle_2_vs_radius_um.png")
    if c.check(p.returncode == 0, "CLI default output exits 0", cmd, p.stdout, p.stderr):
        c.check(p.stdout.strip() == want and os.path.getsize(want) > 0,
                f"default output {want} written ({p.stdout.strip()!r})", cmd, p.stdout, p.stderr)

    # --- plot_sweep in-process
    fig = sp.plot_sweep(rows, "radius_um", "oxygen_loss_pct", by="primary_diameter_nm")
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == "sweep"]
    c.check(len(lines) == 2, f"one line per primary diameter ({len(lines)})")
    for ln, dd in zip(lines, DIAMS):
        xs, ys = list(map(float, ln.get_xdata())), list(map(float, ln.get_ydata()))
        c.check(xs == RADII, f"d={dd}: x sorted, failed point excluded ({xs})")
        err = max(abs(y - loss(x, dd)) / loss(x, dd) for x, y in zip(xs, ys)) if xs else 1
        c.check(len(ys) == 3 and err <= 1e-12, f"d={dd}: y equals the formula (rel err {err:.1e})")
        c.check(ln.get_label() == f"primary_diameter_nm = {dd}", f"legend label {ln.get_label()!r}")
        c.check(ln.get_marker() == "o" and ln.get_linestyle() == "-", "marker + line")
    failed = [ln for ln in ax.get_lines() if ln.get_gid() == "failed"]
    c.check(len(failed) == 1 and list(failed[0].get_xdata()) == [FAILED[0]],
            "failed point marked at the bottom axis")
    c.check(ax.get_xlabel() == "radius (µm)" and ax.get_ylabel() == "oxygen loss (at.%)",
            f"axis labels {ax.get_xlabel()!r}, {ax.get_ylabel()!r}")
    c.check(fig.sweep_info["skipped"] == 1 and fig.sweep_info["skipped_by_status"] == {"failed": 1},
            f"sweep_info skipped {fig.sweep_info['skipped_by_status']}")
    c.check(any("1 of 7 points skipped" in t.get_text() for t in fig.texts),
            "skipped-point note in the figure")

    fig = sp.plot_sweep(rows, D, "loss_pct_cycle_1", by=R)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == "sweep"]
    c.check(len(lines) == 3, f"--by radius: one line per radius ({len(lines)})")
    for ln, r in zip(lines, RADII):
        xs, ys = list(map(float, ln.get_xdata())), list(map(float, ln.get_ydata()))
        ok = xs == [150.0, 400.0] and all(abs(y - loss(r, x) / 2) <= 1e-12 * y
                                           for x, y in zip(xs, ys))
        c.check(ok, f"r={r}: loss_pct_cycle_1 at d {xs}: {ys}")
    c.check(ax.get_xlabel() == "primary diameter (nm)"
            and ax.get_ylabel() == "oxygen loss at cycle 1 (at.%)",
            f"axis labels {ax.get_xlabel()!r}, {ax.get_ylabel()!r}")

    # --- labels
    for col, want in [("material.diffusivity_scale", "diffusivity scale"),
                      ("material.D_cm2_s", "D (cm²/s)"), ("wall_s", "wall time (s)"),
                      ("loss_pct_cycle_100", "oxygen loss at cycle 100 (at.%)"),
                      ("protocol.hold_s", "hold (s)")]:
        got = sp.axis_label(col)
        c.check(got == want, f"axis_label({col!r}) = {got!r}, expected {want!r}")

    # --- suffix matching
    two = ["microstructure.secondaries.[0].radius_um", "microstructure.secondaries.[1].radius_um",
           "microstructure.primary_diameter_nm"]
    for name, want in [("radius_um", R), ("microstructure.secondaries.[0].radius_um", R),
                       ("diameter_nm", D), ("primary_diameter_nm", D)]:
        got = sp.resolve_parameter([R, D], name)
        c.check(got == want, f"suffix {name!r} -> {got!r}")
    c.check(sp.resolve_parameter(two, "[1].radius_um") == two[1], "'[1].radius_um' resolves")
    try:
        sp.resolve_parameter(two, "radius_um")
        c.fail("'radius_um' with two secondaries swept is ambiguous")
    except sp.SweepPlotError as e:
        c.check("ambiguous" in str(e), f"ambiguous message: {e}")

    # --- exit 2 cases
    for argv, what, must in [
            ([summary, "--x", "porosity"], "unknown --x", [R, D]),
            ([summary, "--x", "radius_um", "--by", "porosity"], "unknown --by", [R, D]),
            ([summary, "--x", "m"], "ambiguous --x", ["ambiguous", R, D]),
            ([summary, "--x", "radius_um", "--y", "loss_pct_cycle_9"], "unknown --y",
             ["loss_pct_cycle_2"]),
            ([summary, "--x", "radius_um", "-o", os.path.join(d, "x.svg")], "bad -o", [".png"])]:
        cmd, p = run_tool(c, argv)
        c.check(p.returncode == 2 and all(s in p.stderr for s in must),
                f"{what} exits 2 naming {must} (rc {p.returncode})", cmd, p.stdout, p.stderr)
    text = os.path.join(d, "text.csv")
    write_text_param_summary(text)
    cmd, p = run_tool(c, [text, "--x", "name"])
    c.check(p.returncode == 2 and "not numeric" in p.stderr,
            f"non-numeric x exits 2 (rc {p.returncode})", cmd, p.stdout, p.stderr)
    cmd, p = run_tool(c, ["--help"])
    c.check(p.returncode == 0 and "example" in p.stdout and "--by" in p.stdout,
            "--help exits 0 with an example", cmd, p.stdout, p.stderr)
    # --- the thin wrapper postprocess/sweep_plot.py: same figure, same size
    wpng = os.path.join(d, "wrapper.png")
    cmd, p = run_tool(c, [summary, "--x", "radius_um", "--by", "primary_diameter_nm", "-o", wpng], wrapper=True)
    if c.check(p.returncode == 0 and p.stdout.strip() == wpng, "wrapper sweep_plot.py writes the PNG",
               cmd, p.stdout, p.stderr):
        c.check(png_info(wpng)[:2] == png_info(png)[:2], f"wrapper PNG size {png_info(wpng)[:2]}")
        c.check("sweep_plot.py" in run_tool(c, ["--help"], wrapper=True)[1].stdout, "wrapper --help names itself")
    left = sorted(f for f in os.listdir(d) if f.endswith((".png", ".pdf", ".svg")))
    c.check(left == ["loss.pdf", "loss.png", "summary_loss_pct_cycle_2_vs_radius_um.png", "wrapper.png"],
            f"no figure written on an error ({left})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", help="write the synthetic summary and figures here and keep them")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every check")
    args = ap.parse_args()
    c = oxtest.Checker("test_sweep_plot", args.verbose)
    with oxtest.workdir(args.keep, "oxvac_sweep_plot_") as d:
        checks(args, d, c)
    return c.exit_code(f"{c.count} checks")


if __name__ == "__main__":
    sys.exit(main())
