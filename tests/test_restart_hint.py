#!/usr/bin/python3
"""The restart hint printed after SIGTERM works when pasted into a shell:
a run with --set overrides (one with spaces and quotes) is stopped after its
first checkpoint; the printed `continue with:` command, run by bash as it
is (only its leading `oxvac` made the binary's path), exits 0 and gives the
same time series as an uninterrupted run, bitwise (CVODE's history restarts
at every protocol step, so a stop anywhere restarts exactly).

usage: test_restart_hint.py --oxvac PATH [--keep DIR]
"""
import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "data", "sweep", "base.cfg")
SETS = ["--set", "protocol.cycling.repeat=5", "--set", "output.checkpoint_every_cycles=1",
        "--set", "output.fields_at_cycles=[1, 5]", "--set", 'solver.time_mode="resolved"',
        "--set", "material.diffusivity_scale=1.5"]


def checks(args, work, c):
    out, ref = os.path.join(work, "stopped.h5"), os.path.join(work, "ref.h5")
    ck = os.path.join(work, "stopped.ckpt.h5")
    cmd = [args.oxvac, "run", BASE, "-o", out, "--quiet"] + SETS
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t_end = time.time() + 120
    while not os.path.exists(ck) and time.time() < t_end and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    so, se = proc.communicate(timeout=120)
    m = re.search(r"continue with: (.*)$", so, re.M)
    c.check(proc.returncode == 1 and m is not None, "SIGTERM: exit 1 and a `continue with:` hint", cmd, so, se)
    if not m:
        return
    hint = m.group(1)
    for s in SETS[1::2]:
        c.check(s in hint or s.replace(" ", "") in hint or f"'{s}'" in hint, f"the hint carries --set {s}: {hint}")
    c.check(hint.startswith("oxvac run "), f"the hint is an oxvac command: {hint}")
    pasted = args.oxvac + hint[len("oxvac"):]
    p = subprocess.run(["bash", "-c", pasted], capture_output=True, text=True, timeout=300)
    c.check(p.returncode == 0, "the pasted hint continues the run", [pasted], p.stdout, p.stderr)
    oxtest.run_oxvac(args, ["run", BASE, "-o", ref, "--quiet"] + SETS, mpiexec="")
    with h5py.File(ref, "r") as a, h5py.File(out, "r") as b:
        worst = 0.0
        for k in a["timeseries"]:
            x, y = a["timeseries"][k][:], b["timeseries"][k][:]
            if x.shape != y.shape:
                c.fail(f"/timeseries/{k}: {y.shape} rows after the restart, {x.shape} uninterrupted")
                return
            worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))))
        c.check(worst == 0.0, f"restarted = uninterrupted bitwise, worst relative difference {worst:.2e}")


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, mpiexec=False, timeout=None))
    return oxtest.main("test_restart_hint", args, checks)


if __name__ == "__main__":
    sys.exit(main())
