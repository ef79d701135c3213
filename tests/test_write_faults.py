#!/usr/bin/python3
"""Issue 12, write failures: a run whose output folder fills up or turns
read-only stops with exit 1 and one plain line (cycle, step, time, the file,
why, the last good checkpoint), leaves no .partial file, and its last good
checkpoint stays intact and restartable; a resolved config over 64 KiB
(1000 listed protocol steps) runs and reads back; the HDF5 result is renamed
into place before its XDMF.

The full and read-only folders are small tmpfs mounts (root only: without
the rights to mount, those checks print SKIP and the others still run).

usage: test_write_faults.py --oxvac PATH [--mpiexec "mpiexec --oversubscribe"] [--keep DIR]
"""
import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "data", "sweep", "base.cfg")
SETS = ["--set", "protocol.cycling.repeat=3", "--set", "output.checkpoint_every_cycles=1"]
sys.path.insert(0, os.path.join(HERE, "..", "postprocess"))

MSG_RE = re.compile(r"oxvac: cannot write the (?P<what>checkpoint|result) (?P<file>\S+) at the end of cycle (?P<cycle>\d+), "
                    r"step (?P<step>\d+) \(t = (?P<t>[-+0-9.eE]+) s\): (?P<why>[^;]+); the run stops; "
                    r"last good checkpoint: (?P<last>.+)$", re.M)


@contextlib.contextmanager
def tmpfs(path, size):
    """A tmpfs of size at path, unmounted on the way out; None where it cannot be mounted."""
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], capture_output=True, text=True)
    if p.returncode != 0:
        yield None
        return
    try:
        yield path
    finally:
        subprocess.run(["mount", "-o", "remount,rw", path], capture_output=True)
        for _ in range(20):
            if subprocess.run(["umount", path], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)


def fill(folder, nbytes):
    with open(os.path.join(folder, "fill"), "wb") as f:
        f.write(b"\0" * nbytes)


def partials(folder):
    return sorted(glob.glob(os.path.join(folder, "*partial*")))


def check_failed_run(c, p, cmd, folder, what, cycle, why_re, last):
    """exit 1, the message, no .partial; last: the last good checkpoint's cycle or None."""
    text = p.stdout + p.stderr
    m = MSG_RE.search(text)
    c.check(p.returncode == 1, f"{what} cannot be written: exit 1 (got {p.returncode})", cmd, p.stdout, p.stderr)
    if not c.check(m is not None, f"{what} cannot be written: the plain message", cmd, p.stdout, p.stderr):
        return
    c.check(m["what"] == what and int(m["cycle"]) == cycle and int(m["step"]) == 3 and float(m["t"]) == 6000.0 * cycle,
            f"the message names {what}, cycle {cycle}, step 3, t = {6000 * cycle} s: {m.group(0)}")
    c.check(re.search(why_re, m["why"], re.I) is not None, f"the message says why ({why_re}): {m['why']}")
    c.check(m["file"].startswith(folder), f"the message names the file: {m['file']}")
    if last is None:
        c.check(m["last"].startswith("none"), f"no checkpoint before: {m['last']}")
    else:
        c.check(f"(cycle {last}," in m["last"] and m["last"].startswith(os.path.join(folder, "out.ckpt.h5")),
                f"the message names the last good checkpoint (cycle {last}): {m['last']}")
    c.check("PETSC ERROR" not in text and "HDF5-DIAG" not in text and "Segmentation" not in text,
            "no PETSc traceback, HDF5 error stack or crash", cmd, p.stdout, p.stderr)
    c.check(partials(folder) == [], f"no .partial file left: {partials(folder)}")


def check_restartable(c, args, ckpt, work, label):
    """The checkpoint is intact (h5py reads it, cycle 1 stored) and a run continues from it."""
    try:
        with h5py.File(ckpt, "r") as f:
            nxt = int(f["state"].attrs["next_segment"])
            ok = f["state/vacancy_fraction"][:].size > 0 and "cycle_000001" in f["fields"]
    except (OSError, KeyError) as e:
        c.fail(f"{label}: the last good checkpoint reads back: {e}")
        return
    c.check(ok and nxt > 0, f"{label}: the last good checkpoint is intact (next segment {nxt})")
    out = os.path.join(work, f"restarted_{label}.h5")
    cmd = [args.oxvac, "run", BASE, "-o", out, "--quiet", "--restart", ckpt] + SETS
    p = oxtest.run(cmd, timeout=args.timeout)
    c.check(p.returncode == 0 and os.path.exists(out), f"{label}: --restart from the last good checkpoint exits 0", cmd, p.stdout, p.stderr)


def full_disk(args, work, c, ranks=1):
    """4 MB tmpfs: 3 MB prefilled, the first checkpoint cannot fit; 1 MB, the
    second cannot fit beside the first; checkpoints off and 3.7 MB, the final
    result. On 2 ranks too: a rank that runs out alone inside a collective
    HDF5 write used to leave the other waiting forever (a hang is a timeout)."""
    ran = False
    pre = oxtest.launcher(args.mpiexec) + ["-n", str(ranks)] if ranks > 1 else []
    for prefill, every, what, cycle, last in ((3 << 20, 1, "checkpoint", 1, None), (1 << 20, 1, "checkpoint", 2, 1),
                                              (3700000, 0, "result", 3, None)):
        with tmpfs(os.path.join(work, "full"), "4m") as d:
            if d is None:
                print("SKIP: cannot mount a tmpfs (not root?): the full-disk checks")
                return ran
            ran = True
            fill(d, prefill)
            sets = ["--set", "protocol.cycling.repeat=3", "--set", f"output.checkpoint_every_cycles={every}"]
            cmd = pre + [args.oxvac, "run", BASE, "-o", os.path.join(d, "out.h5"), "--quiet"] + sets
            p = oxtest.run(cmd, timeout=120 if ranks > 1 else args.timeout)
            if ranks > 1:
                print(f"      {ranks} ranks, {what} of cycle {cycle}: exit {p.returncode}")
            check_failed_run(c, p, cmd, d, what, cycle, r"no space left on device", last)
            if what == "result":
                c.check(not os.path.exists(os.path.join(d, "out.h5")) and not os.path.exists(os.path.join(d, "out.xdmf")),
                        "a result that cannot be written leaves neither out.h5 nor out.xdmf")
            if last is not None:
                keep = os.path.join(work, "full_last.ckpt.h5")
                shutil.copy(os.path.join(d, "out.ckpt.h5"), keep)
        if last is not None:
            check_restartable(c, args, keep, work, "full disk")
    return ran


def read_only(args, work, c):
    """The folder remounted read-only once the first checkpoint is in place:
    the second checkpoint cannot be created."""
    with tmpfs(os.path.join(work, "ro"), "16m") as d:
        if d is None:
            print("SKIP: cannot mount a tmpfs (not root?): the read-only checks")
            return False
        ck = os.path.join(d, "out.ckpt.h5")
        cmd = [args.oxvac, "run", BASE, "-o", os.path.join(d, "out.h5"), "--quiet"] + SETS
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t_end, mounted = time.time() + 120, False
        while not os.path.exists(ck) and time.time() < t_end and proc.poll() is None:
            time.sleep(0.02)
        while not mounted and time.time() < t_end and proc.poll() is None:  # EBUSY while a file is open for writing
            mounted = subprocess.run(["mount", "-o", "remount,ro", d], capture_output=True).returncode == 0
            if not mounted:
                time.sleep(0.05)
        so, se = proc.communicate(timeout=args.timeout)
        if not c.check(mounted, "the folder was remounted read-only during the run", cmd, so, se):
            return True
        p = subprocess.CompletedProcess(cmd, proc.returncode, so, se)
        check_failed_run(c, p, cmd, d, "checkpoint", 2, r"read-only file system", 1)
        keep = os.path.join(work, "ro_last.ckpt.h5")
        shutil.copy(ck, keep)
    check_restartable(c, args, keep, work, "read-only")
    return True


def big_config(args, work, c):
    """1000 listed protocol steps: a resolved config of ~96 KiB runs, its result
    and checkpoint read back (h5py, result.py, --restart)."""
    from oxvac.result import Result
    steps = ",\n".join('    { type = "rest"; duration_min = %g; }' % (0.5 + 0.001 * i) for i in range(1000))
    cfg = os.path.join(work, "steps1000.cfg")
    with open(cfg, "w") as f:
        f.write(f'''grid = {{ voxel_nm = 25.0; shape = [36, 20, 20]; }};
microstructure = {{ type = "generated"; seed = 1;
  secondaries = ( {{ center_um = [0.25, 0.25, 0.25]; radius_um = 0.22; }} );
  primary_diameter_nm = 120.0; primary_cv = 0.2; porosity = 0.1; }};
protocol = {{ initial_soc = 0.5;
  cycling = {{ repeat = 2; steps = (
{steps} ); }}; }};
output = {{ file = "unused.h5"; fields_at_cycles = [1, 2]; checkpoint_every_cycles = 1; }};
''')
    out = os.path.join(work, "steps1000.h5")
    chk = oxtest.run_oxvac(args, ["check", cfg], mpiexec="")
    resolved = chk.stdout.split("# protocol:")[0]
    c.check(len(resolved) > 65536, f"the resolved config is over 64 KiB ({len(resolved)} bytes)")
    cmd = [args.oxvac, "run", cfg, "-o", out, "--quiet"]
    p = oxtest.run(cmd, timeout=args.timeout)
    if not c.check(p.returncode == 0 and os.path.exists(out), "a config of 1000 listed steps runs and writes its result", cmd, p.stdout, p.stderr):
        return
    with Result(out) as r:
        text = r.config
    c.check(text.count('type = "rest"') >= 1000 and text.strip() == resolved.strip(),
            f"result.py reads the whole resolved config back ({len(text)} bytes)")
    with h5py.File(out, "r") as f:
        c.check(isinstance(f.get("config"), h5py.Dataset) and "units" in f["config"].attrs,
                "the large config is the dataset /config (with units and description)")
        c.check(f["timeseries/time_s"].shape[0] == 2001, f"the time series has 2001 rows ({f['timeseries/time_s'].shape[0]})")
    ck = os.path.join(work, "steps1000.ckpt.h5")
    re_out = os.path.join(work, "steps1000_restarted.h5")
    cmd = [args.oxvac, "run", cfg, "-o", re_out, "--quiet", "--restart", ck]
    p = oxtest.run(cmd, timeout=args.timeout)
    c.check(p.returncode == 0, "--restart from the checkpoint of the 1000-step config (its /config compared)", cmd, p.stdout, p.stderr)
    if p.returncode == 0:
        with h5py.File(out, "r") as a, h5py.File(re_out, "r") as b:
            x, y = a["timeseries/vacancy_mean"][:], b["timeseries/vacancy_mean"][:]
            c.check(x.shape == y.shape and np.allclose(x, y, rtol=1e-3, atol=0), "the restarted run has the same time series")


def rename_order(args, work, c):
    """strace: out.h5.partial-PID -> out.h5 comes before out.xdmf.partial -> out.xdmf."""
    strace = shutil.which("strace")
    out = os.path.join(work, "order.h5")
    log = os.path.join(work, "order.strace")
    cmd = ([strace, "-f", "-qq", "-e", "trace=rename,renameat,renameat2", "-o", log] if strace else []) + \
          [args.oxvac, "run", BASE, "-o", out, "--quiet", "--set", "protocol.cycling.repeat=1"]
    p = oxtest.run(cmd, timeout=args.timeout)
    if not c.check(p.returncode == 0, "the rename-order run exits 0", cmd, p.stdout, p.stderr):
        return
    if not strace:
        print("SKIP: no strace: the rename order")
        return
    with open(log) as f:
        lines = [ln for ln in f if "rename" in ln and "order." in ln]
    h5 = next((i for i, ln in enumerate(lines) if re.search(r'order\.h5\.partial-\d+", [^"]*"[^"]*order\.h5"', ln)), None)
    xd = next((i for i, ln in enumerate(lines) if re.search(r'order\.xdmf\.partial-\d+", [^"]*"[^"]*order\.xdmf"', ln)), None)
    c.check(h5 is not None and xd is not None and h5 < xd, f"the HDF5 is renamed before its XDMF: {''.join(lines).strip()}")


def stale_partials(args, work, c):
    """SIGKILL leaves PATH.partial-PID behind (nothing can catch it): the next
    run writing the same path removes those of writers no longer running,
    and leaves a live writer's alone."""
    d = os.path.join(work, "stale")
    os.makedirs(d)
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = [f"out.h5.partial-{gone.pid}", f"out.ckpt.h5.partial-{gone.pid}", f"out.xdmf.partial-{gone.pid}"]
    live = f"out.h5.partial-{os.getpid()}"
    for name in dead + [live]:
        with open(os.path.join(d, name), "w") as f:
            f.write("left by a killed run\n")
    cmd = [args.oxvac, "run", BASE, "-o", os.path.join(d, "out.h5"), "--quiet"] + SETS
    p = oxtest.run(cmd, timeout=args.timeout)
    left = sorted(os.listdir(d))
    c.check(p.returncode == 0 and left == sorted(["out.h5", "out.xdmf", "out.ckpt.h5", live]),
            f"a killed run's .partial files are removed by the next run, a live writer's kept: {left}", cmd, p.stdout, p.stderr)


def checks(args, work, c):
    stale_partials(args, work, c)
    ran = full_disk(args, work, c)
    if args.mpiexec:
        full_disk(args, work, c, ranks=2)
    ran = read_only(args, work, c) or ran
    big_config(args, work, c)
    rename_order(args, work, c)
    return ran


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, timeout=300.0))
    return oxtest.main("test_write_faults", args, checks, verbose=True)


if __name__ == "__main__":
    sys.exit(main())
