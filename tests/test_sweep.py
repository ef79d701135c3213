#!/usr/bin/python3
"""oxvac sweep: points, executors, resumption, collection (tests/data/sweep).

Cases (--case):
  local    a 2 x 2 grid with --jobs 2: 4 rows in summary.csv/.h5, each equal to
           a plain `oxvac run` of the base config with the point's --set values
           (an independent path through the code), per-secondary losses equal to
           the volume-weighted means of /particles_series; --status; the SLURM
           dry run writes an array script --array=0-3 with the sweep file's
           settings; a second run finds everything done and runs nothing.
  invalid  one invalid point: exit 2 before anything runs, naming the point,
           the key and why; nothing written in out_dir.
  lhs      Latin hypercube: reproducible from the seed, one sample per stratum
           per parameter, inside the ranges (log and linear), integers rounded.
  resume   SIGTERM to a running local sweep, then a rerun; then SIGKILL of the
           whole process group, then a rerun: every point finishes, none is run
           to completion twice, interrupted points resume from their checkpoints.
  slurm    a real single-node SLURM (tests/slurmlocal.py): the array job's
           summary equals the local executor's for the same sweep.
"""
import csv
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "sweep")
SKIP_COLUMNS = {"wall_s"}


def make_sweep(work, name, out_dir, text=None, src="grid.cfg", subs=()):
    """Copy the base config and a sweep file into work, with its out_dir."""
    shutil.copy(os.path.join(DATA, "base.cfg"), os.path.join(work, "base.cfg"))
    text = text if text is not None else open(os.path.join(DATA, src)).read()
    text = text.replace('out_dir = "OUT";', f'out_dir = "{out_dir}";')
    for a, b in subs:
        text = text.replace(a, b)
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def num(s):
    return float(s) if s not in ("", None) else math.nan


def status_of(d):
    p = os.path.join(d, "status")
    if not os.path.exists(p):
        return {"state": "pending"}
    out = {}
    for line in open(p):
        m = re.match(r'(\w+) = (.*);', line)
        if m:
            v = m.group(2)
            out[m.group(1)] = v.strip('"') if v.startswith('"') else float(v)
    return out


def case_local(args, work, c):
    import h5py
    import numpy as np
    sweep = make_sweep(work, "grid.cfg", "out")
    p = oxtest.run([args.oxvac, "sweep", sweep, "--jobs", "2"], timeout=300)
    c.check(p.returncode == 0, "a 4-point local sweep with --jobs 2 exits 0", p.args, p.stdout, p.stderr)
    c.check("4/4 done" in p.stderr and "left" in p.stderr, "progress lines say points done / running / failed and time left", p.args, p.stdout, p.stderr)
    cols, rows = read_csv(os.path.join(work, "out", "summary.csv"))
    c.check(len(rows) == 4 and all(r["status"] == "done" for r in rows), "summary.csv has 4 rows, all done", p.args, p.stdout, p.stderr)
    rad, dsc = "microstructure.secondaries.[0].radius_um", "material.diffusivity_scale"
    c.check(cols[:3] == ["index", rad, dsc] and cols[-1] == "error", f"columns start with index and the swept paths: {cols[:4]}")
    want = [(0.18, 0.5), (0.18, 2.0), (0.22, 0.5), (0.22, 2.0)]  # the first parameter varies slowest
    got = [(num(r[rad]), num(r[dsc])) for r in rows]
    c.check(all(abs(a - b) < 1e-12 for g, w in zip(got, want) for a, b in zip(g, w)), f"grid order and values {got}")
    # an independent path: oxvac run of the base config with the same --set values
    with h5py.File(os.path.join(work, "out", "summary.h5"), "r") as s:
        h5cols = s.attrs["columns"].split("\n") if isinstance(s.attrs["columns"], str) else s.attrs["columns"].decode().split("\n")
        c.check(h5cols == cols, "summary.h5 holds the same columns in the same order")
        c.check(np.allclose(s["oxygen_loss_pct"][:], [num(r["oxygen_loss_pct"]) for r in rows], rtol=1e-9), "summary.h5 values equal summary.csv's")
    for i in (0, 3):
        out = os.path.join(work, f"direct{i}.h5")
        oxtest.run_oxvac(args, ["run", os.path.join(work, "base.cfg"), "-o", out, "--quiet", "--set", "protocol.cycling.repeat=2",
                                "--set", f"{rad}={want[i][0]}", "--set", f"{dsc}={want[i][1]}"], mpiexec="")
        with h5py.File(out, "r") as f:
            ts_c, ts_l = f["timeseries/cycle"][:], f["timeseries/oxygen_loss_pct"][:]
            for cyc in (1, 2):
                ref = ts_l[np.where(ts_c == cyc)[0][-1]]
                c.check(abs(num(rows[i][f"loss_pct_cycle_{cyc}"]) - ref) <= 1e-9 * ref,
                        f"point {i}: loss at cycle {cyc} {rows[i][f'loss_pct_cycle_{cyc}']} equals a direct run's {ref:.10g}")
            sec, vol, pm = f["particles/secondary"][:], f["particles/volume_m3"][:], f["particles_series/vacancy_mean"][:]
            dep, rp = f["particles/depth_m"][:], f["particles/radius_m"][:]
            for o, cyc in enumerate(f["particles_series/cycle"][:]):
                for s in (1, 2):
                    m = sec == s
                    ref = 100 * np.sum(vol[m] * pm[o, m]) / np.sum(vol[m])
                    val = num(rows[i][f"secondary_{s}_loss_pct_cycle_{cyc}"])
                    c.check(abs(val - ref) <= 1e-9 * ref, f"point {i}: secondary {s} loss at cycle {cyc} {val} = volume-weighted primaries {ref:.10g}")
                ext = dep < 2 * rp
                for name, m in (("exterior", ext), ("interior", ~ext)):
                    val = num(rows[i][f"{name}_loss_pct_cycle_{cyc}"])
                    ref = 100 * np.sum(vol[m] * pm[o, m]) / np.sum(vol[m]) if m.any() else math.nan
                    c.check((math.isnan(val) and math.isnan(ref)) or abs(val - ref) <= 1e-9 * ref,
                            f"point {i}: {name} loss at cycle {cyc} {val} = {ref:.10g}")
    # each point's config is complete: rerunning one by hand needs nothing else
    cfg = open(os.path.join(work, "out", "point_0002", "config.cfg")).read()
    c.check("# run by hand: oxvac run" in cfg and "radius_um = 0.22" in cfg, "point_0002/config.cfg says how to run it and holds its value")
    p = oxtest.run([args.oxvac, "sweep", sweep, "--status"], timeout=60)
    c.check(p.returncode == 0 and p.stdout.count(" done ") == 4 and "4 done" in p.stdout, "--status reports 4 points done", p.args, p.stdout, p.stderr)
    t0 = {i: os.path.getmtime(os.path.join(work, "out", f"point_{i:04d}", "result.h5")) for i in range(4)}
    p = oxtest.run([args.oxvac, "sweep", sweep, "--jobs", "2"], timeout=120)
    t1 = {i: os.path.getmtime(os.path.join(work, "out", f"point_{i:04d}", "result.h5")) for i in range(4)}
    c.check(p.returncode == 0 and "4 done" in p.stderr and "0 to run" in p.stderr and t0 == t1, "a rerun runs nothing", p.args, p.stdout, p.stderr)
    # the SLURM executor, dry: the array script
    p = oxtest.run([args.oxvac, "sweep", sweep, "--executor", "slurm", "--dry-run", "--retry-failed"], timeout=60)
    c.check(p.returncode == 0 and "nothing to submit" in p.stdout, "--executor slurm --dry-run on a finished sweep: nothing to submit", p.args, p.stdout, p.stderr)
    sweep2 = make_sweep(work, "grid2.cfg", "out2")
    p = oxtest.run([args.oxvac, "sweep", sweep2, "--executor", "slurm", "--dry-run"], timeout=60)
    script = os.path.join(work, "out2", "sweep.sbatch")
    text = open(script).read() if os.path.exists(script) else ""
    for line in ("#SBATCH --array=0-3", "#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=1", "#SBATCH --mem=500M", "#SBATCH --time=00:10:00",
                 "#SBATCH --comment=oxvac-test", "echo setup line ran", "sweep --run-point"):
        c.check(line in text, f"the dry-run script has `{line}`", p.args, p.stdout, p.stderr)
    c.check("#SBATCH --partition" not in text, "an empty partition writes no --partition line")
    c.check(not os.path.exists(os.path.join(work, "out2", "slurm_jobs")) and not os.path.exists(os.path.join(work, "out2", "point_0000", "status")),
            "--dry-run submits and runs nothing")
    p = oxtest.run([args.oxvac, "sweep", sweep2, "--dry-run"], timeout=60)
    cmds = [l for l in p.stdout.splitlines() if not l.startswith("#")]
    c.check(len(cmds) == 4 and all(" run " in l and "/config.cfg -o " in l for l in cmds), "the local dry run prints the 4 points' `oxvac run` commands",
            p.args, p.stdout, p.stderr)
    # one point by hand with the printed command: the same numbers
    q = subprocess.run(cmds[1], shell=True, capture_output=True, text=True, timeout=120)
    with h5py.File(os.path.join(work, "out2", "point_0001", "result.h5"), "r") as f:
        ref = f["timeseries/oxygen_loss_pct"][-1]
    c.check(q.returncode == 0 and abs(ref - num(rows[1]["oxygen_loss_pct"])) <= 1e-9 * ref, "the printed command reruns a point by hand", [cmds[1]], q.stdout, q.stderr)


def case_invalid(args, work, c):
    sweep = make_sweep(work, "bad.cfg", "out", subs=[("values = [0.18, 0.22]", "values = [0.18, -0.22]")])
    p = oxtest.run([args.oxvac, "sweep", sweep, "--jobs", "2"], timeout=60)
    msg = p.stderr.strip()
    c.check(p.returncode == 2, "a sweep with an invalid point exits 2", p.args, p.stdout, p.stderr)
    c.check(re.match(r"^.*bad\.cfg:5: point 2 of 4 \(.*radius_um=-0\.22.*\).*key 'microstructure\.secondaries\.\[0\]\.radius_um'.*; expected", msg) is not None,
            f"the message names the sweep file line, the point, the key and what is expected: {msg}")
    c.check(not os.path.exists(os.path.join(work, "out", "point_0000")), "nothing was written or run")
    p = oxtest.run([args.oxvac, "sweep", sweep, "--check"], timeout=60)
    c.check(p.returncode == 2 and "point 2 of 4" in p.stderr and not os.path.exists(os.path.join(work, "out")),
            "--check finds the invalid point and writes nothing", p.args, p.stdout, p.stderr)
    # a bad sweep file key: FILE:LINE: key, nearest name
    sweep = make_sweep(work, "bad2.cfg", "out", subs=[('mode = "grid";', 'mode = "grid";\nsampels = 4;')])
    p = oxtest.run([args.oxvac, "sweep", sweep], timeout=60)
    c.check(p.returncode == 2 and "bad2.cfg:5: key 'sampels': unknown key; expected 'samples'" in p.stderr, "an unknown sweep-file key names the nearest one",
            p.args, p.stdout, p.stderr)
    sweep = make_sweep(work, "bad3.cfg", "out", subs=[("count = 2;", "")])
    p = oxtest.run([args.oxvac, "sweep", sweep], timeout=60)
    c.check(p.returncode == 2 and "key 'parameters.[1].range'" in p.stderr and "count" in p.stderr, "a grid range without count is refused",
            p.args, p.stdout, p.stderr)
    # a different sweep in a used out_dir is refused
    good = make_sweep(work, "good.cfg", "used", subs=[("repeat=2", "repeat=1")])
    p = oxtest.run([args.oxvac, "sweep", good, "--jobs", "2", "--quiet"], timeout=120)
    c.check(p.returncode == 0, "a 1-cycle sweep runs", p.args, p.stdout, p.stderr)
    changed = make_sweep(work, "good.cfg", "used", subs=[("repeat=2", "repeat=1"), ("[0.5, 2.0]", "[0.5, 3.0]")])
    p = oxtest.run([args.oxvac, "sweep", changed], timeout=60)
    c.check(p.returncode == 2 and "holds a different sweep" in p.stderr, "a changed sweep does not overwrite the points of the old one", p.args, p.stdout, p.stderr)
    # failed runs (here a launcher that fails at once) are listed with their error, skipped on a rerun, rerun with --retry-failed
    failing = make_sweep(work, "failing.cfg", "failing", subs=[("repeat=2", "repeat=1"), ("slurm = {", 'local = { mpiexec = "/bin/false"; ranks = 2; };\nslurm = {')])
    p = oxtest.run([args.oxvac, "sweep", failing, "--jobs", "2"], timeout=120)
    cols, rows = read_csv(os.path.join(work, "failing", "summary.csv")) if os.path.exists(os.path.join(work, "failing", "summary.csv")) else ([], [])
    c.check(p.returncode == 1 and "failed" in p.stderr and "rerun it by hand" in p.stderr, "failed points: exit 1, the error and the command to rerun",
            p.args, p.stdout, p.stderr)
    c.check(len(rows) == 4 and all(r["status"] == "failed" and r["error"] for r in rows), "summary.csv lists every failed point with its error")
    p = oxtest.run([args.oxvac, "sweep", failing, "--jobs", "2", "--ranks", "1"], timeout=120)
    c.check(p.returncode == 1 and "0 to run" in p.stderr, "a rerun without --retry-failed leaves failed points alone", p.args, p.stdout, p.stderr)
    p = oxtest.run([args.oxvac, "sweep", failing, "--jobs", "2", "--ranks", "1", "--retry-failed"], timeout=120)
    c.check(p.returncode == 0 and "4 of 4 points done" in p.stderr, "--retry-failed reruns them", p.args, p.stdout, p.stderr)
    p = oxtest.run([args.oxvac, "sweep", changed, "--jobs", "0"], timeout=60)
    c.check(p.returncode == 2 and "--jobs needs a positive integer" in p.stderr, "--jobs 0 is a usage error", p.args, p.stdout, p.stderr)


LHS = """base = "base.cfg";
out_dir = "OUT";
mode = "lhs";
samples = 10; seed = SEED;
parameters = ( { path = "material.diffusivity_scale"; range = [0.1, 10.0]; log = true; },
               { path = "surface.exchange_scale"; range = [0.5, 1.5]; },
               { path = "microstructure.seed"; range = [1, 100]; integer = true; } );
"""


def case_lhs(args, work, c):
    pts = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        sweep = make_sweep(work, f"lhs_{name}.cfg", f"lhs_{name}", text=LHS.replace("SEED", str(seed)))
        p = oxtest.run([args.oxvac, "sweep", sweep, "--dry-run"], timeout=120)
        c.check(p.returncode == 0, f"lhs dry run {name}", p.args, p.stdout, p.stderr)
        pts[name] = open(os.path.join(work, f"lhs_{name}", "points.csv")).read()
    c.check(pts["a"] == pts["b"] and pts["a"] != pts["c"], "the same seed gives the same points, another seed others")
    cols, rows = read_csv(os.path.join(work, "lhs_a", "points.csv"))
    d = [float(r["material.diffusivity_scale"]) for r in rows]
    k = [float(r["surface.exchange_scale"]) for r in rows]
    s = [r["microstructure.seed"] for r in rows]
    c.check(len(rows) == 10, "10 samples")
    c.check(sorted(int(math.floor((math.log(x) - math.log(0.1)) / (math.log(100.0)) * 10)) for x in d) == list(range(10)),
            f"log range: one sample per stratum {d}")
    c.check(sorted(int(math.floor((x - 0.5) * 10)) for x in k) == list(range(10)), f"linear range: one sample per stratum {k}")
    c.check(all(re.fullmatch(r"\d+", x) and 1 <= int(x) <= 100 for x in s), f"integer = true gives integers in range {s}")


def wait_for(pred, timeout):
    t = time.time() + timeout
    while time.time() < t:
        if pred():
            return True
        time.sleep(0.1)
    return False


def case_resume(args, work, c):
    import h5py
    for how in ("SIGTERM", "SIGKILL"):
        sweep = make_sweep(work, f"grid_{how}.cfg", f"out_{how}", subs=[("repeat=2", "repeat=6")])
        dirs = [os.path.join(work, f"out_{how}", f"point_{i:04d}") for i in range(4)]

        def running_with_checkpoint():
            return any(status_of(d).get("state") == "running" and os.path.exists(os.path.join(d, "result.ckpt.h5")) for d in dirs)

        cmd = [args.oxvac, "sweep", sweep, "--jobs", "2"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        c.check(wait_for(running_with_checkpoint, 120), f"{how}: a point is running and has written a checkpoint")
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGKILL)  # the sweep, its runners and their runs
        so, se = proc.communicate(timeout=120)
        if how == "SIGKILL":  # the runs die with their group
            wait_for(lambda: all(not os.path.exists(f"/proc/{int(status_of(d).get('pid', 0))}") or status_of(d).get("pid", 0) == 0
                                 for d in dirs), 30)
        states = [status_of(d).get("state") for d in dirs]
        if how == "SIGTERM":
            c.check(proc.returncode == 1 and all(s in ("done", "interrupted", "pending") for s in states) and "interrupted" in states,
                    f"SIGTERM: the sweep exits 1 and leaves every point done, interrupted or pending: {states}", cmd, so, se)
        else:
            c.check("running" in states, f"SIGKILL: a point was left marked running by its dead runner: {states}", cmd, so, se)
            p = oxtest.run([args.oxvac, "sweep", sweep, "--status"], timeout=60)
            c.check(p.returncode == 0 and " running " not in p.stdout and "interrupted" in p.stdout,
                    "--status sees that the dead runner's point is interrupted, not running", p.args, p.stdout, p.stderr)
        p = oxtest.run(cmd, timeout=300)
        c.check(p.returncode == 0 and "4 of 4 points done" in p.stderr, f"after {how}: the rerun finishes every point", p.args, p.stdout, p.stderr)
        resumed = 0
        for d in dirs:
            st, log = status_of(d), open(os.path.join(d, "log.txt")).read()
            c.check(st.get("state") == "done" and st.get("completions") == 1 and log.count("oxvac: wrote") == 1,
                    f"{how}: {os.path.basename(d)} ran to completion exactly once (status {st.get('completions')}, log {log.count('oxvac: wrote')})")
            resumed += "--restart" in log
        c.check(resumed >= 1, f"{how}: interrupted points resumed from their checkpoints ({resumed} of 4)")
        # the resumed results equal uninterrupted runs of the same config, to solver tolerance
        # (a point stopped between two checkpoints re-initialises CVODE where the uninterrupted run did not)
        for i, d in enumerate(dirs):
            ref = os.path.join(work, f"ref_{how}{i}.h5")
            oxtest.run_oxvac(args, ["run", os.path.join(d, "config.cfg"), "-o", ref, "--quiet"], mpiexec="")
            with h5py.File(ref, "r") as f, h5py.File(os.path.join(d, "result.h5"), "r") as g:
                a, b = f["timeseries/oxygen_loss_pct"][-1], g["timeseries/oxygen_loss_pct"][-1]
                n_a, n_b = len(f["timeseries/time_s"]), len(g["timeseries/time_s"])
            c.check(abs(a - b) <= 1e-4 * a and n_a == n_b, f"{how}: point {i}: resumed loss {b:.12g} equals an uninterrupted run's {a:.12g} ({n_b} rows)")


def case_slurm(args, work, c):
    sys.path.insert(0, HERE)
    import slurmlocal
    slurmlocal.ensure_installed()
    local = make_sweep(work, "local.cfg", "out_local")
    remote = make_sweep(work, "slurm.cfg", "out_slurm")
    p = oxtest.run([args.oxvac, "sweep", local, "--jobs", "2", "--quiet"], timeout=300)
    c.check(p.returncode == 0, "the local executor runs the sweep", p.args, p.stdout, p.stderr)
    with slurmlocal.SlurmCluster(verbose=False) as cl:
        p = subprocess.run([args.oxvac, "sweep", remote, "--executor", "slurm"], capture_output=True, text=True, env=cl.env, timeout=120)
        m = re.search(r"submitted job (\d+), array 0-3", p.stdout)
        c.check(p.returncode == 0 and m is not None, "--executor slurm submits one array job 0-3", p.args, p.stdout, p.stderr)
        if m:
            cl.wait_jobs(m.group(1), timeout=300)
        p = subprocess.run([args.oxvac, "sweep", remote, "--status"], capture_output=True, text=True, env=cl.env, timeout=60)
        c.check(p.returncode == 0 and "4 done" in p.stdout, "--status after the array job: 4 done", p.args, p.stdout, p.stderr)
        p = subprocess.run([args.oxvac, "sweep", remote, "--executor", "slurm"], capture_output=True, text=True, env=cl.env, timeout=60)
        c.check(p.returncode == 0 and "nothing to submit" in p.stdout, "resubmitting a finished sweep submits nothing", p.args, p.stdout, p.stderr)
    p = oxtest.run([args.oxvac, "sweep", remote, "--collect"], timeout=60)
    c.check(p.returncode == 0, "--collect", p.args, p.stdout, p.stderr)
    log = open(os.path.join(work, "out_slurm", "point_0000", "log.txt")).read()
    c.check("job " in log, "the point's log names its SLURM job")
    ca, ra = read_csv(os.path.join(work, "out_local", "summary.csv"))
    cb, rb = read_csv(os.path.join(work, "out_slurm", "summary.csv"))
    c.check(ca == cb and len(ra) == len(rb) == 4, "the SLURM and local summaries have the same columns and 4 rows")
    for x, y in zip(ra, rb):
        for k in ca:
            if k in SKIP_COLUMNS:
                continue
            a, b = x[k], y[k]
            try:
                same = abs(float(a) - float(b)) <= 1e-9 * max(abs(float(a)), 1e-300)
            except ValueError:
                same = a == b
            c.check(same, f"point {x['index']} column {k}: local {a} vs slurm {b}")


def main():
    ap = oxtest.parser(__doc__, mpiexec=False)
    ap.add_argument("--case", required=True, choices=["local", "invalid", "lhs", "resume", "slurm"])
    args = oxtest.parse_args(ap)
    fn = globals()["case_" + args.case]
    return oxtest.main("test_sweep_" + args.case, args, fn)


if __name__ == "__main__":
    sys.exit(main())
