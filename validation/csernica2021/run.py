#!/usr/bin/python3
"""Run inputs/csernica2021.cfg and write validation/csernica2021/REPORT.md.

    /usr/bin/python3 validation/csernica2021/run.py             # run (~5 min, 1 core) + report
    /usr/bin/python3 validation/csernica2021/run.py --skip-run  # report from the existing result

The result goes to results/csernica2021/csernica2021.h5 (git-ignored), with
run_info.json beside it (wall time, machine, command) so that --skip-run can
still state how the result was made. The report logic is in
postprocess/oxvac/csernica2021.py (the oxvac package in postprocess/, whose
figures are those of `python3 -m oxvac.plot`).
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "postprocess"))

from oxvac import csernica2021  # noqa: E402
from oxvac.provenance import machine  # noqa: E402



def find_oxvac():
    for cand in (os.environ.get("OXVAC"), "build/oxvac", "build-valid/oxvac"):
        if cand and os.path.exists(os.path.join(ROOT, cand) if not os.path.isabs(cand) else cand):
            return cand
    sys.exit("oxvac binary not found: build it (./quickstart.sh, or cmake -S . -B build && cmake --build build) or set OXVAC")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-run", action="store_true", help="only post-process an existing result")
    ap.add_argument("--config", default="inputs/csernica2021.cfg")
    ap.add_argument("--result", default="results/csernica2021/csernica2021.h5")
    ap.add_argument("--report-dir", default="validation/csernica2021")
    ap.add_argument("--oxvac", default=None, help="oxvac binary (default: $OXVAC, build/oxvac, build-valid/oxvac)")
    ap.add_argument("--reference", metavar="PAPER.txt", default=None,
                    help="the accepted manuscript's text (not in the repository): check every quote against its line")
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                    help="extra oxvac --set override (the report then no longer describes the committed config)")
    a = ap.parse_args()
    os.chdir(ROOT)
    info_path = os.path.splitext(a.result)[0] + ".run_info.json"
    if not a.skip_run:
        exe = a.oxvac or find_oxvac()
        os.makedirs(os.path.dirname(a.result) or ".", exist_ok=True)
        extra = sum((["--set", s] for s in a.set), [])
        subprocess.run([exe, "check", a.config] + extra, check=True, stdout=subprocess.DEVNULL)
        cmd = [exe, "run", a.config, "-o", a.result] + extra
        print("running:", shlex.join(cmd), flush=True)
        t0 = time.time()
        subprocess.run(cmd, check=True)
        info = {"wall_s": time.time() - t0, "machine": machine(), "ranks": 1, "command": shlex.join(cmd),
                "finished": datetime.datetime.now().isoformat(timespec="seconds")}
        with open(info_path, "w") as f:
            json.dump(info, f, indent=1)
    if not os.path.exists(a.result):
        sys.exit(f"{a.result} not found: run without --skip-run first")
    info = None
    if os.path.exists(info_path):
        with open(info_path) as f:
            info = json.load(f)
    rows = csernica2021.build(a.result, a.report_dir, a.config, info, a.reference)
    print(f"wrote {os.path.join(a.report_dir, 'REPORT.md')}")
    for r in rows:
        print(f"  {r[0]}: model {r[2]}  [{r[3]}]  pass: {r[4]}")
    return 0 if all(r[4] == "yes" for r in rows) else 3


if __name__ == "__main__":
    sys.exit(main())
