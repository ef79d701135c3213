#!/usr/bin/python3
"""Stress coupling (docs/mechanics.md) end to end on a small generated secondary:

  off        mechanics on with both activation volumes 0 gives the run without
             mechanics bitwise (time series and vacancy fields), plus the stress
  conserve   with coupling (c_eq and D, lattice and vacancy eigenstrain) the
             released oxygen equals the solid's inventory to 1e-9 at every row
  effect     the coupling changes the oxygen loss
  restart    killed after a checkpoint and restarted, the coupled run is bitwise
             the uninterrupted one (the vacancy stress is continued exactly)

usage: test_stress_coupling.py --oxvac PATH [--keep DIR]
"""
import os
import sys

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "inputs", "demo.cfg")
BASE = ["--set", "protocol.formation.repeat=1", "--set", "protocol.cycling.repeat=2", "--set", "output.fields_at_cycles=[1,2]",
        "--set", "output.checkpoint_every_cycles=1", "--set", "grid.shape=[32,32,32]",
        "--set", "microstructure.secondaries=({center_um=[0.4,0.4,0.4];radius_um=0.35;})"]
MECH = ["--set", "mechanics.enabled=true", "--set", "mechanics.vacancy_expansion=0.03",
        "--set", "mechanics.lattice.a=[0.0,-0.01]", "--set", "mechanics.lattice.c=[0.0,0.015]"]
COUPLE = MECH + ["--set", "mechanics.coupling.eq_volume_A3=2.0", "--set", "mechanics.coupling.diffusion_volume_A3=-2.0",
                 "--set", "mechanics.update_tolerance=0.01"]
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def bitwise(a, b):
    """Names of the time-series columns and vacancy fields that differ."""
    bad = [k for k in a["timeseries"] if not np.array_equal(a["timeseries"][k][:], b["timeseries"][k][:])]
    bad += [k for k in a["fields"] if not np.array_equal(a["fields"][k]["vacancy_fraction"][:], b["fields"][k]["vacancy_fraction"][:])]
    return bad


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, mpiexec=False))
    with oxtest.workdir(args.keep, "oxvac_coupling_") as tmp:
        def run(name, sets):
            out = os.path.join(tmp, name + ".h5")
            oxtest.run_oxvac(args, ["run", DEMO, "--quiet", "-o", out] + BASE + sets, label=" " + name)
            return h5py.File(out, "r")

        plain = run("plain", [])
        off = run("off", MECH)
        bad = bitwise(plain, off)
        check(not bad, f"coupling off: bitwise the run without mechanics (differing: {bad or 'none'})")
        check("hydrostatic_stress_Pa" in off["fields/cycle_000001"], "coupling off: the stored fields have their stress")

        cpl = run("coupled", COUPLE)
        ts = cpl["timeseries"]
        rel, inv = ts["released_mol"][1:], ts["inventory_mol"][1:]
        worst = float(np.max(np.abs(rel - inv) / np.abs(inv)))
        check(worst < 1e-9, f"coupled: released vs inventory, worst relative difference {worst:.2e} (< 1e-9)")
        loss = {k: f["timeseries/oxygen_loss_pct"][-1] for k, f in (("plain", plain), ("coupled", cpl))}
        check(abs(loss["coupled"] / loss["plain"] - 1) > 1e-3,
              f"coupled: the oxygen loss moves ({loss['coupled']:.5f} vs {loss['plain']:.5f} at.%)")

        # SIGKILL after the first checkpoint, then restart
        out = os.path.join(tmp, "killed.h5")
        ckpt = os.path.join(tmp, "killed.ckpt.h5")
        cmd = [args.oxvac, "run", DEMO, "--quiet", "-o", out] + BASE + COUPLE
        oxtest.kill_when_exists(cmd, ckpt, timeout=120)
        check(os.path.exists(ckpt) and not os.path.exists(out), "killed after a checkpoint, no result yet")
        with h5py.File(ckpt, "r") as f:
            check("mechanics_reference" in f["state"] and "mechanics_displacement" in f["state"],
                  "the checkpoint holds the vacancy stress's reference field and displacement")
        oxtest.run_oxvac(args, ["run", DEMO, "--quiet", "-o", out, "--restart", ckpt] + BASE + COUPLE, label=" restart")
        with h5py.File(out, "r") as f:
            bad = bitwise(cpl, f)
            check(not bad, f"coupled restart: bitwise the uninterrupted run (differing: {bad or 'none'})")
    print("test_stress_coupling:", "FAILED" if failures else "PASSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
