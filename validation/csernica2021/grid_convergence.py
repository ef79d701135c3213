#!/usr/bin/python3
"""Grid convergence of the Csernica 2021 parameter set: the same parameters
(inputs/csernica2021.cfg: tables, formation with the half-cell cycle, cycling,
accessibility, averaged mode) on an octant of one 1.2 um secondary of 200 nm
primaries, at 25 nm and 12.5 nm voxels, to cycle 125. Prints a markdown table
of the oxygen loss after formation and after cycles 1 and 125 with the
relative differences (the bar: 2 % at cycles 1 and 125), and writes it to
validation/csernica2021/grid_convergence.md.

    /usr/bin/python3 validation/csernica2021/grid_convergence.py [--oxvac build/oxvac] [--set PATH=VALUE]...

About 1 + 10 minutes on one core; results go to results/grid_convergence/ (git-ignored).
"""
import argparse
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOXELS = [25.0, 12.5]
CYCLES = [1, 125]


def small_config(text):
    """The csernica2021 config with the geometry of one 1.2 um secondary (octant)."""
    text = re.sub(r"domain_um = \[[^\]]*\];", "domain_um = [0.7, 0.7, 0.7];", text, count=1)
    text = re.sub(r"secondaries = \((.|\n)*?\n  \);",
                  "secondaries = (\n    { center_um = [0.0, 0.0, 0.0]; radius_um = 0.6; }\n  );", text, count=1)
    return text


def loss_at(path, cycles):
    with h5py.File(path, "r") as h:
        cyc = h["/timeseries/cycle"][...]
        loss = h["/timeseries/oxygen_loss_pct"][...]
        unknowns = int(h.attrs["unknowns"])
    out = {0: float(loss[np.nonzero(cyc == 0)[0][-1]])}
    for k in cycles:
        out[k] = float(loss[np.nonzero(cyc == k)[0][-1]])
    return out, unknowns


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oxvac", default=os.path.join(ROOT, "build", "oxvac"))
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    ap.add_argument("--out", default=os.path.join(ROOT, "validation", "csernica2021", "grid_convergence.md"))
    a = ap.parse_args()
    wd = os.path.join(ROOT, "results", "grid_convergence")
    os.makedirs(wd, exist_ok=True)
    with open(os.path.join(ROOT, "inputs", "csernica2021.cfg")) as f:
        cfg_text = small_config(f.read())
    cfg = os.path.join(wd, "small_secondary.cfg")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    rows = {}
    for h in VOXELS:
        out = os.path.join(wd, f"small_{h:g}nm.h5")
        cmd = [a.oxvac, "run", cfg, "-o", out, "--quiet", "--set", f"grid.voxel_nm={h!r}",
               "--set", f"protocol.cycling.repeat={max(CYCLES)}", "--set", "output.fields_at_cycles=[1]"]
        for s in a.set:
            cmd += ["--set", s]
        t0 = time.time()
        subprocess.run(cmd, check=True)
        wall = time.time() - t0
        loss, unknowns = loss_at(out, CYCLES)
        rows[h] = (loss, unknowns, wall)
        print(f"{h:g} nm: {unknowns} unknowns, {wall:.0f} s, loss {loss}", flush=True)
    ref = rows[VOXELS[-1]][0]
    lines = ["| voxel (nm) | unknowns | wall (s, 1 core) | loss after formation (at.%) | cycle 1 | cycle 125 |",
             "|---|---|---|---|---|---|"]
    for h in VOXELS:
        loss, unknowns, wall = rows[h]
        cells = [f"{loss[k]:.4f}" + ("" if h == VOXELS[-1] else f" ({100 * (loss[k] / ref[k] - 1):+.2f} %)") for k in [0] + CYCLES]
        lines.append(f"| {h:g} | {unknowns} | {wall:.0f} | " + " | ".join(cells) + " |")
    worst = max(abs(rows[VOXELS[0]][0][k] / ref[k] - 1) for k in CYCLES)
    text = ("Grid convergence (validation/csernica2021/grid_convergence.py): the csernica2021 parameter set on an "
            "octant of one 1.2 um secondary of 200 nm primaries, 25 nm vs 12.5 nm voxels (differences relative to "
            f"12.5 nm).\n\n" + "\n".join(lines) + f"\n\nLargest difference at cycles {CYCLES}: {100 * worst:.2f} % "
            f"({'within' if worst <= 0.02 else 'above'} the 2 % bar).\n")
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    return 0 if worst <= 0.02 else 3


if __name__ == "__main__":
    sys.exit(main())
