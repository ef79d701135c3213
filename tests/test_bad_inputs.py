#!/usr/bin/python3
"""Absurd but well-typed inputs are input errors (issue 12, docs/interface.md section 2).

For every BAD_DIR/*.cfg (first line `# expect: SUBSTRING`; a line `# run-only:`
marks a defect only `run` can see, once the microstructure is built):
  - `oxvac run FILE -o OUT.h5` onto an existing sentinel OUT.h5 exits 2 with
    one stderr line `FILE:LINE: key 'a.b': what; expected...` containing
    SUBSTRING, and leaves OUT.h5 byte for byte, with nothing beside it;
  - `oxvac check FILE` exits 2 with the same line (unless run-only).
Also an imported label image whose largest id (2147483647) exceeds its voxel
count: exit 2 naming microstructure.labels, sentinel untouched.

usage: test_bad_inputs.py --oxvac PATH --bad-dir tests/bad_inputs
"""
import glob
import os
import re
import sys

import oxtest

KEY_RE = re.compile(r"^[^:\n]+:[0-9]+: key '[^']+': .+; .+")
SENTINEL = b"oxvac test_bad_inputs: an existing result that must survive\n" + bytes(range(256))


def header(path, tag):
    for line in open(path):
        m = re.match(r"#\s*" + tag + r":\s*(.*\S)?\s*$", line)
        if m:
            return m.group(1) or ""
        if not line.startswith("#"):
            break
    return None


def one_case(args, c, path, expect, run_only, wd):
    name = os.path.basename(path)
    d = os.path.join(wd, name[:-4])
    os.makedirs(d)
    out = os.path.join(d, "OUT.h5")
    with open(out, "wb") as f:
        f.write(SENTINEL)
    p = oxtest.run([args.oxvac, "run", path, "-o", out, "--quiet"], timeout=args.timeout, cwd=d)
    lines = [ln for ln in p.stderr.splitlines() if KEY_RE.match(ln)]
    with open(out, "rb") as f:
        same = f.read() == SENTINEL
    good = (c.check(p.returncode == 2, f"{name}: run exit status {p.returncode}, expected 2", p.args, p.stdout, p.stderr)
            & c.check(len(lines) == 1 and expect in lines[0],
                      f"{name}: no single 'FILE:LINE: key ...: ...; ...' line containing {expect!r}", p.args, p.stdout, p.stderr)
            & c.check(same, f"{name}: the existing OUT.h5 was changed", p.args)
            & c.check(sorted(os.listdir(d)) == ["OUT.h5"], f"{name}: beside OUT.h5: {sorted(os.listdir(d))}", p.args))
    if not run_only:
        q = oxtest.run([args.oxvac, "check", path], timeout=args.timeout, cwd=d)
        qlines = [ln for ln in q.stderr.splitlines() if KEY_RE.match(ln)]
        good &= c.check(q.returncode == 2 and qlines == lines,
                        f"{name}: check exit {q.returncode}, message {qlines}; expected 2 and {lines}", q.args, q.stdout, q.stderr)
    print(f"{'ok  ' if good else 'FAIL'} {name}: {lines[0] if lines else p.stderr.strip()[:300]}")


def import_label_case(args, c, wd):
    import h5py
    import numpy as np
    d = os.path.join(wd, "import_label_huge")
    os.makedirs(d)
    lab = np.zeros((8, 8, 8), dtype=np.int32)
    lab[2:6, 2:6, 2:6] = 1
    lab[4, 4, 4] = 2147483647
    with h5py.File(os.path.join(d, "micro.h5"), "w") as f:
        f["labels"] = lab
        f["labels"].attrs["voxel_nm"] = 20.0
    cfg = os.path.join(d, "import.cfg")
    with open(cfg, "w") as f:
        f.write('microstructure = { type = "import"; file = "micro.h5"; labels = "/labels"; };\n'
                'protocol = { cycling = { steps = ( { type = "rest"; duration_min = 1.0; } ); }; };\n')
    one_case(args, c, cfg, "largest label 2147483647 exceeds the number of voxels", False, os.path.join(wd, "imp"))


def run_checks(args, wd, c):
    files = sorted(glob.glob(os.path.join(os.path.abspath(args.bad_dir), "*.cfg")))
    c.check(bool(files), f"no *.cfg in {args.bad_dir}")
    for path in files:
        expect = header(path, "expect")
        if not c.check(expect, f"{path}: no '# expect: ...' line"):
            continue
        one_case(args, c, path, expect, header(path, "run-only") is not None, wd)
    import_label_case(args, c, wd)


def main():
    ap = oxtest.parser(__doc__, mpiexec=False, timeout=120.0)
    ap.add_argument("--bad-dir", required=True)
    args = oxtest.parse_args(ap)
    return oxtest.main("test_bad_inputs", args, run_checks)


if __name__ == "__main__":
    sys.exit(main())
