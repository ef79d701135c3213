#!/usr/bin/python3
"""Self-test of tests/slurmlocal.py: start a private SLURM cluster, run a
4-task job array, check its output files, stop, and check that no daemon (or
job process) it started is still alive and that its folder is gone.

    python3 tests/test_slurmlocal.py

Exit 0 on success, 1 with a message otherwise (label `slurm`).
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slurmlocal  # noqa: E402


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    return 1


def main():
    t0 = time.time()
    try:
        slurmlocal.ensure_installed()
    except slurmlocal.SlurmError as e:
        return fail(str(e))
    out = tempfile.mkdtemp(prefix="oxvac-slurmtest-")
    cl = slurmlocal.SlurmCluster(name="oxvacself")
    pids, root, errors = {}, None, []
    try:
        try:
            cl.start()
        except slurmlocal.SlurmError as e:
            return fail(str(e))
        pids, root = dict(cl.pids), cl.root
        for k in ("SLURM_CONF",):
            if cl.env.get(k) != cl.conf:
                errors.append("env[%s] is %r, not %r" % (k, cl.env.get(k), cl.conf))
        try:
            job = cl.sbatch(["--array=0-3", "-n", "1", "--cpus-per-task=1",
                             "-J", "selftest", "-D", out,
                             "-o", os.path.join(out, "slurm-%A_%a.out"),
                             "--wrap", "echo $SLURM_ARRAY_TASK_ID > %s/task_$SLURM_ARRAY_TASK_ID"
                             % out], cwd=out)
            print("submitted job %s" % job, flush=True)
            cl.wait_jobs(job, timeout=60)
        except slurmlocal.SlurmError as e:
            errors.append(str(e))
        else:
            for i in range(4):
                path = os.path.join(out, "task_%d" % i)
                try:
                    with open(path) as f:
                        got = f.read().strip()
                except OSError as e:
                    errors.append("task %d wrote no file: %s" % (i, e))
                    continue
                if got != str(i):
                    errors.append("%s holds %r, not %r" % (path, got, str(i)))
            if errors:
                for name in sorted(os.listdir(out)):
                    if name.startswith("slurm-"):
                        with open(os.path.join(out, name)) as f:
                            errors.append("---- %s\n%s" % (name, f.read()[-1000:]))
                r = cl.run(["scontrol", "show", "job", job], check=False)
                errors.append(r.stdout + r.stderr)
                errors.append(cl.log_tails())
    finally:
        cl.stop()
        shutil.rmtree(out, ignore_errors=True)

    pids = dict(cl.started)
    alive = ["%s (pid %d)" % (n, p) for n, p in pids.items() if slurmlocal._alive(p)]
    if alive:
        errors.append("still alive after stop(): " + ", ".join(alive))
    if root is not None:
        left = slurmlocal.tagged_pids(root)
        if left:
            errors.append("job/step processes still alive after stop(): %s" % left)
        if not cl.keep and os.path.exists(root):
            errors.append("cluster folder %s not removed" % root)
    if set(pids) != {"munged", "slurmctld", "slurmd"}:
        errors.append("daemons started: %s" % sorted(pids))
    if errors:
        return fail("\n".join(errors))
    print("OK: 4 array tasks ran; daemons %s stopped; %.1f s"
          % (", ".join("%s=%d" % kv for kv in pids.items()), time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
