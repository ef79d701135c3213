#!/usr/bin/python3
"""A NaN or a vacancy fraction beyond [0, 1] stops the run (issue 12,
docs/interface.md section 8): exit 1, a message naming cycle, step and time,
and a checkpoint of the last good state (the state at the start of the
failing step) from which a restart reproduces the uninterrupted run bitwise.
No result file is written. The fault is planted with the test options
-ox_fault_segment G [-ox_fault_value V] (NaN by default) after segment G.

usage: test_state_check.py --oxvac PATH [--mpiexec "mpiexec -n 2"] [--keep DIR]
"""
import os
import re
import sys

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
SPHERE = os.path.join(HERE, "data", "fit", "sphere.cfg")
FAILED = re.compile(r"oxvac: run failed in cycle (\d+), step (\d+) \(t = (\S+) to (\S+) s\): (.*); last good checkpoint: (\S+)(.*)")


def bitwise(a, b):
    with h5py.File(a, "r") as x, h5py.File(b, "r") as y:
        same = all(np.array_equal(x["timeseries"][k][:], y["timeseries"][k][:]) for k in x["timeseries"])
        same &= sorted(x["fields"]) == sorted(y["fields"])
        for k in x["fields"]:
            same &= np.array_equal(x["fields"][k]["vacancy_fraction"][:], y["fields"][k]["vacancy_fraction"][:])
    return same


def run_checks(args, wd, c):
    pre = oxtest.launcher(args.mpiexec)
    ref = os.path.join(wd, "ref.h5")
    p = oxtest.run(pre + [args.oxvac, "run", SPHERE, "-o", ref, "--quiet"], timeout=args.timeout)
    if not c.check(p.returncode == 0, "uninterrupted run", p.args, p.stdout, p.stderr):
        return
    cases = [("NaN", "5", [], "is not finite"), ("negative", "3", ["-ox_fault_value", "-0.5"], "left [0, 1] by more than 0.001 (smallest -0.5")]
    for name, seg, extra, text in cases:
        d = os.path.join(wd, name)
        os.makedirs(d)
        out, ckpt = os.path.join(d, "r.h5"), os.path.join(d, "r.ckpt.h5")
        p = oxtest.run(pre + [args.oxvac, "run", SPHERE, "-o", out, "--quiet", "-ox_fault_segment", seg] + extra, timeout=args.timeout)
        m = FAILED.search(p.stdout + p.stderr)
        c.check(p.returncode == 1 and m and text in m.group(5) and m.group(6) == ckpt and "start of this step" in m.group(7),
                f"{name}: exit 1 naming cycle, step, time, what is wrong and the checkpoint", p.args, p.stdout, p.stderr)
        c.check(sorted(os.listdir(d)) == ["r.ckpt.h5"], f"{name}: only the checkpoint is left ({sorted(os.listdir(d))})", p.args)
        if not os.path.exists(ckpt):
            continue
        with h5py.File(ckpt, "r") as f:
            nxt = int(f["state"].attrs["next_segment"])
            rows = f["timeseries/time_s"].shape[0]
        c.check(nxt == int(seg) and rows == int(seg) + 1,
                f"{name}: the checkpoint holds the state before segment {seg} (next_segment {nxt}, {rows} rows)")
        if m:
            with h5py.File(ref, "r") as f:
                t0 = f["timeseries/time_s"][int(seg)]
            c.check(abs(float(m.group(3)) - t0) <= 1e-6 * t0, f"{name}: the failing step starts at t = {t0} s (message {m.group(3)})")
        q = oxtest.run(pre + [args.oxvac, "run", SPHERE, "-o", out, "--quiet", "--restart", ckpt], timeout=args.timeout)
        if c.check(q.returncode == 0, f"{name}: restart from the checkpoint", q.args, q.stdout, q.stderr):
            c.check(bitwise(ref, out), f"{name}: the restarted run is bitwise the uninterrupted one")
    # In the first step there is no earlier state to keep: nothing is written.
    d = os.path.join(wd, "first")
    os.makedirs(d)
    p = oxtest.run(pre + [args.oxvac, "run", SPHERE, "-o", os.path.join(d, "r.h5"), "--quiet", "-ox_fault_segment", "0"], timeout=args.timeout)
    m = FAILED.search(p.stdout + p.stderr)
    c.check(p.returncode == 1 and m and m.group(6) == "none" and os.listdir(d) == [],
            "first step: exit 1, last good checkpoint none, nothing written", p.args, p.stdout, p.stderr)


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, timeout=120.0))
    return oxtest.main("test_state_check", args, run_checks, verbose=True)


if __name__ == "__main__":
    sys.exit(main())
