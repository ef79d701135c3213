#!/usr/bin/python3
"""Checkpoint/restart: a run killed with SIGKILL after a checkpoint and
restarted gives the same result as an uninterrupted run, bitwise (every
timeseries column and stored field), holding the whole history; SIGTERM
and SIGINT stop a run cleanly at the next step end with exit 1 and a
checkpoint from which the restarted run is again bitwise the uninterrupted one
(the BDF history restarts at every step, docs/interface.md section 8).

usage: test_restart.py --oxvac PATH [--mpiexec "mpiexec -n 2"] [--keep DIR]
"""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "inputs", "demo.cfg")
SETS = ["--set", "protocol.formation.repeat=1", "--set", "protocol.cycling.repeat=4",
        "--set", "output.checkpoint_every_cycles=1", "--set", "output.fields_at_cycles=[0,1,2,4]",
        "--set", "grid.shape=[40,40,40]", "--set", "microstructure.secondaries=({center_um=[0.5,0.5,0.5];radius_um=0.4;})"]
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def compare(a, b, label):
    worst = 0.0
    for k in a["timeseries"]:
        x, y = a["timeseries"][k][:], b["timeseries"][k][:]
        if x.shape != y.shape:
            check(False, f"{label}: /timeseries/{k} has {y.shape} rows, expected {x.shape}")
            return
        worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))))
    check(worst == 0.0, f"{label}: timeseries bitwise equal (worst relative difference {worst:.2e})")
    worst = 0.0
    check(sorted(a["fields"]) == sorted(b["fields"]), f"{label}: same stored cycles {sorted(b['fields'])}")
    for k in a["fields"]:
        x, y = a["fields"][k]["vacancy_fraction"][:], b["fields"][k]["vacancy_fraction"][:]
        worst = max(worst, float(np.max(np.abs(x - y)) / max(np.max(np.abs(x)), 1e-300)))
    check(worst == 0.0, f"{label}: fields bitwise equal (worst relative difference {worst:.2e})")


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, timeout=None))
    with oxtest.workdir(args.keep, "oxvac_restart_") as tmp:
        restart_checks(args, tmp)
    print("test_restart:", "FAILED" if failures else "PASSED")
    return 1 if failures else 0


def restart_checks(args, tmp):
    cmd = oxtest.launcher(args.mpiexec) + [args.oxvac, "run", DEMO, "--quiet"] + SETS

    ref = os.path.join(tmp, "ref.h5")
    p = subprocess.run(cmd + ["-o", ref], capture_output=True, text=True)
    check(p.returncode == 0, "uninterrupted run")

    # SIGKILL after the first checkpoint, then restart.
    out = os.path.join(tmp, "killed.h5")
    ckpt = os.path.join(tmp, "killed.ckpt.h5")
    oxtest.kill_when_exists(cmd + ["-o", out], ckpt)
    check(os.path.exists(ckpt) and not os.path.exists(out), "killed after a checkpoint, no result file yet")
    with h5py.File(ckpt, "r") as f:
        print(f"      checkpoint holds {f['timeseries/time_s'].shape[0]} rows, next segment {f['state'].attrs['next_segment']}")
    p = subprocess.run(cmd + ["-o", out, "--restart", ckpt], capture_output=True, text=True)
    check(p.returncode == 0, "restart from the checkpoint")
    if p.returncode == 0:
        compare(h5py.File(ref, "r"), h5py.File(out, "r"), "SIGKILL + restart")

    # SIGTERM and SIGINT, at two different moments: clean stop, exit 1, the
    # message names the checkpoint, and the restart is bitwise the reference.
    for sig, wait in ((signal.SIGTERM, 1.5), (signal.SIGINT, 3.0)):
        name = sig.name
        out = os.path.join(tmp, f"{name}.h5")
        ckpt = os.path.join(tmp, f"{name}.ckpt.h5")
        proc = subprocess.Popen(cmd + ["-o", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        time.sleep(wait)
        os.killpg(proc.pid, sig)
        text, _ = proc.communicate(timeout=120)
        if proc.returncode == 0:  # finished before the signal: nothing to test at this speed
            print(f"      {name}: the run finished before the signal")
            continue
        check(proc.returncode == 1 and ckpt in text and "--restart" in text,
              f"{name}: exit {proc.returncode}, message names the checkpoint")
        p = subprocess.run(cmd + ["-o", out, "--restart", ckpt], capture_output=True, text=True)
        check(p.returncode == 0 and os.path.exists(out), f"restart after {name} completes")
        if p.returncode == 0:
            compare(h5py.File(ref, "r"), h5py.File(out, "r"), f"{name} + restart")

    # A checkpoint of another config is refused.
    p = subprocess.run(cmd + ["-o", os.path.join(tmp, "x.h5"), "--restart", ckpt, "--set", "material.diffusivity_scale=2.0"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and not os.path.exists(os.path.join(tmp, "x.h5")), f"restart with a different config: exit {p.returncode}")


if __name__ == "__main__":
    sys.exit(main())
