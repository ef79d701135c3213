#!/usr/bin/python3
"""The hostile-input corpus of issue 12 (tests/bad_inputs/README.md): every case is refused as its header says.

Each case has a header of `# KEY: VALUE` lines (oxtest.case_header): `expect`
the fragment its message must hold, `status` (2 unless given), `stage` (config,
command or run: which of the config module, `oxvac check` and `oxvac run` see
the defect), `restart` (a checkpoint), `output` (the run's -o target instead
of OUT.h5, or `none`: output.file), `known-defect` (a defect of oxvac found and
reported, not yet fixed). The cases:
  - BAD_DIR/*.cfg, BAD_DIR/h5/*.cfg (these use the HDF5 files beside them):
    `oxvac run CFG -o OUT.h5 --quiet [--restart CKPT]` in an empty folder that
    holds sentinel OUT.h5, OUT.xdmf and OUT.ckpt.h5, and (unless stage run)
    `oxvac check CFG`;
  - BAD_DIR/csv/*.csv: `oxvac compare RESULT.h5 CSV -o OUT.csv` onto a sentinel
    OUT.csv, RESULT.h5 from one run of BAD_DIR/valid/tiny.cfg.
A refused case (status 2) must exit 2 with nothing on stdout and exactly one
line on stderr, of the form `FILE:LINE: key 'a.b': what; ...` (or `syntax
error`) naming the config (or the `NAME.inc:` its expectation names) or the
CSV, or `CKPT: dataset '/x': what; expected ...` (or `CKPT: file: ...`) naming
the checkpoint; the line holds the fragment, the check (where run) prints the
same line, the sentinels keep their bytes and nothing else appears in the
folder. A control (status 0) must succeed. A known defect that fails is
reported as XFAIL; one that passes fails the test (XPASS: drop its
known-defect line). At the end the corpus and RESULT.h5 are byte for byte as
they were, every h5/*.h5 is used by a case, and the corpus holds at least
60 configs, 15 HDF5 files and 15 bad CSVs.

usage: test_bad_inputs.py --oxvac PATH --bad-dir tests/bad_inputs [--jobs N]
"""
import concurrent.futures
import glob
import hashlib
import os
import re
import shlex
import sys

import oxtest

SENTINEL = b"oxvac test_bad_inputs: an existing file that must survive\n" + bytes(range(256))
RUN_SENTINELS = ("OUT.h5", "OUT.xdmf", "OUT.ckpt.h5")
MIN_CONFIGS, MIN_H5, MIN_CSV = 60, 15, 15
CRASH = ("Segmentation", "PETSC ERROR", "AddressSanitizer", "Traceback", "core dumped", "HDF5-DIAG", "input in flex scanner failed")
# What an ASan build (allocator_may_return_null=1, tests/sanitize) prints when
# it returns NULL for an allocation past its limit, as malloc does in a run:
# the sanitizer's line, not oxvac's (h5/ckpt_continuation_huge.cfg).
ASAN_NULL_RE = re.compile(r"^==\d+==WARNING: AddressSanitizer failed to allocate 0x[0-9a-f]+ bytes$")


def listing(d):
    out = []
    for root, dirs, files in os.walk(d):
        out += [os.path.relpath(os.path.join(root, x), d) for x in dirs + files]
    return sorted(out)


def snapshot(d):
    """relative path -> sha256 of every file under d."""
    snap = {}
    for rel in listing(d):
        p = os.path.join(d, rel)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                snap[rel] = hashlib.sha256(f.read()).hexdigest()
    return snap


class Case:
    def __init__(self, path, kind):
        self.path, self.kind = path, kind
        self.name = os.path.relpath(path, os.path.dirname(os.path.dirname(path))) if kind != "config" else os.path.basename(path)
        self.head = oxtest.case_header(path)
        self.expect = self.head.get("expect", "")
        self.status = int(self.head.get("status", "2") or 2)
        self.stage = self.head.get("stage", "config")
        self.restart = (os.path.join(os.path.dirname(path), self.head["restart"]) if self.head.get("restart") else None)
        self.known = self.head.get("known-defect")
        self.output = self.head.get("output") or "OUT.h5"

    def named(self):
        """The file the message must start with: the case, the NAME.inc its expectation names, or the checkpoint."""
        m = re.match(r"([^\s:]+\.inc):", self.expect)
        return os.path.join(os.path.dirname(self.path), m.group(1)) if m else self.path


def form_ok(case, line):
    """Whether line is an input-error message naming the case's file in the promised form."""
    if case.kind == "csv":
        return line.startswith(case.path + ":") and re.match(
            r"^.+:[0-9]+: key '(header|cycle|distance_nm|mn3_fraction|sigma)': .+; expected .+", line) is not None
    if case.restart and line.startswith(case.restart + ": "):
        m = oxtest.CKPT_LINE_RE.match(line)
        return m is not None and m.group("file") == case.restart
    named = case.named()
    return line.startswith(named + ":") and (oxtest.KEY_LINE_RE.match(line) or oxtest.SYNTAX_LINE_RE.match(line)) is not None


def judge(case, p, d, sentinels, what):
    """The failed checks of one refused command (a list of strings, empty when it behaved)."""
    why = []
    stderr = "\n".join(ln for ln in (p.stderr or "").splitlines() if not ASAN_NULL_RE.match(ln))
    err_lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if p.returncode != case.status:
        why.append(f"{what}: exit status {p.returncode}, expected {case.status}")
    crashed = [w for w in CRASH if w in (p.stdout or "") + stderr]
    if crashed:
        why.append(f"{what}: crash markers {crashed}")
    if p.stdout.strip():
        why.append(f"{what}: printed on stdout: {p.stdout.strip()[:200]!r}")
    if len(err_lines) != 1:
        why.append(f"{what}: {len(err_lines)} lines on stderr, expected one message line")
    line = err_lines[0] if err_lines else ""
    if err_lines and not form_ok(case, line):
        why.append(f"{what}: not of the form '{case.named() if case.kind != 'csv' else case.path}:LINE: key 'a.b': what; expected ...'"
                   + (" (or 'CKPT: dataset ...: what; expected ...')" if case.restart else "") + f": {line}")
    if case.expect not in line:
        why.append(f"{what}: message lacks {case.expect!r}: {line}")
    for s in sentinels:
        with open(os.path.join(d, s), "rb") as f:
            if f.read() != SENTINEL:
                why.append(f"{what}: the existing {s} was changed")
    extra = sorted(set(listing(d)) - set(sentinels))
    if extra:
        why.append(f"{what}: files left in its folder: {extra}")
    return why, line


def run_case(args, case, wd, result):
    """Run one case in its own folder; (ok, first message line, reasons, commands)."""
    d = os.path.join(wd, "case_" + case.name.replace("/", "_").replace(".", "_"))
    os.makedirs(d)
    cmds, why, line = [], [], ""
    if case.kind == "csv":
        argv = [args.oxvac, "compare", result, case.path, "-o", "OUT.csv"]
        sentinels = ("OUT.csv",)
    else:
        argv = ([args.oxvac, "run", case.path, "--quiet"] + (["-o", case.output] if case.output != "none" else [])
                + (["--restart", case.restart] if case.restart else []))
        sentinels = RUN_SENTINELS
    if case.status == 0:
        p = oxtest.run(argv, timeout=args.timeout, cwd=d)
        cmds.append(p.args)
        if p.returncode != 0:
            why.append(f"exit status {p.returncode}, expected 0: {(p.stderr or '').strip()[-400:]}")
            if case.restart and "different resolved config" in (p.stderr or ""):
                why.append("the checkpoints in h5/ are stale (the resolved config changed): rerun tests/bad_inputs/make_h5.py")
        out = os.path.join(d, "OUT.csv" if case.kind == "csv" else "OUT.h5")
        if p.returncode == 0 and not os.path.exists(out):
            why.append(f"no {os.path.basename(out)} written")
        return not why, "valid: exit 0", why, cmds
    for s in sentinels:
        with open(os.path.join(d, s), "wb") as f:
            f.write(SENTINEL)
    p = oxtest.run(argv, timeout=args.timeout, cwd=d)
    cmds.append(p.args)
    w, line = judge(case, p, d, sentinels, "compare" if case.kind == "csv" else "run")
    why += w
    if case.kind != "csv" and case.stage != "run":
        q = oxtest.run([args.oxvac, "check", case.path], timeout=args.timeout, cwd=d)
        cmds.append(q.args)
        w, qline = judge(case, q, d, sentinels, "check")
        why += w
        if qline != line:
            why.append(f"check prints another message than run:\n    run:   {line}\n    check: {qline}")
    return not why, line, why, cmds


def discover(bad_dir):
    cases = [Case(p, "config") for p in sorted(glob.glob(os.path.join(bad_dir, "*.cfg")))]
    cases += [Case(p, "h5") for p in sorted(glob.glob(os.path.join(bad_dir, "h5", "*.cfg")))]
    cases += [Case(p, "csv") for p in sorted(glob.glob(os.path.join(bad_dir, "csv", "*.csv")))]
    return cases


def check_corpus(c, bad_dir, cases):
    """The corpus itself: headers complete and consistent, every HDF5 file used, no orphan sidecar, the counts."""
    for case in cases:
        c.check(case.status == 0 or case.expect, f"{case.name}: no '# expect: ...' in its header", [case.path])
        c.check(case.stage in ("config", "command", "run"), f"{case.name}: stage {case.stage!r} is not config, command or run")
        c.check(case.kind != "csv" or case.stage == "config", f"{case.name}: a CSV case has no stage")
        c.check(not case.restart or (case.stage == "run" and os.path.isfile(case.restart)),
                f"{case.name}: a restart case is of stage run, its checkpoint {case.restart} a file")
        c.check(case.kind != "h5" or case.stage != "config", f"{case.name}: an h5/ case is of stage command (an import) or run (a restart)")
        c.check(case.output == "OUT.h5" or (case.kind != "csv" and case.stage == "run"),
                f"{case.name}: only a case of stage run has its own output (the others are refused before it matters)")
    h5 = sorted(glob.glob(os.path.join(bad_dir, "h5", "*.h5")))
    texts = "".join(open(x.path, encoding="utf-8", errors="replace").read() for x in cases if x.kind == "h5")
    for f in h5:
        b = os.path.basename(f)
        c.check(f'"{b}"' in texts or f"# restart: {b}" in texts, f"h5/{b}: used by no h5/*.cfg case (file = \"{b}\" or # restart: {b})")
    for side in glob.glob(os.path.join(bad_dir, "**", "*.expect"), recursive=True):
        c.check(os.path.exists(side[: -len(".expect")]), f"{os.path.relpath(side, bad_dir)}: the file it describes is missing")
    n_cfg = sum(x.kind == "config" and x.status != 0 for x in cases)
    n_csv = sum(x.kind == "csv" and x.status != 0 for x in cases)
    c.check(n_cfg >= MIN_CONFIGS, f"only {n_cfg} bad configs in {bad_dir}, expected at least {MIN_CONFIGS}")
    c.check(len(h5) >= MIN_H5, f"only {len(h5)} HDF5 files in {bad_dir}/h5, expected at least {MIN_H5}")
    c.check(n_csv >= MIN_CSV, f"only {n_csv} bad CSVs in {bad_dir}/csv, expected at least {MIN_CSV}")
    return n_cfg, len(h5), n_csv


def run_checks(args, wd, c):
    bad_dir = os.path.abspath(args.bad_dir)
    before = snapshot(bad_dir)
    cases = discover(bad_dir)
    counts = check_corpus(c, bad_dir, cases)

    # The result the CSV cases are compared with: one small real run.
    ref = os.path.join(wd, "ref")
    os.makedirs(ref)
    result = os.path.join(ref, "tiny.h5")
    oxtest.run_oxvac(args, ["run", os.path.join(bad_dir, "valid", "tiny.cfg"), "-o", result, "--quiet"], mpiexec="", cwd=ref,
                     label=": the run of valid/tiny.cfg for the CSV cases")
    with open(result, "rb") as f:
        result_sha = hashlib.sha256(f.read()).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda k: run_case(args, k, wd, result), cases))

    xfail = 0
    for case, (ok, line, why, cmds) in zip(cases, outcomes):
        if case.known:
            xfail += not ok
            c.check(not ok, f"{case.name}: XPASS: the known defect is gone; drop its '# known-defect:' line", cmds[0])
            print(f"{'XFAIL' if not ok else 'XPASS'} {case.name}: known defect: {case.known}")
            for w in why:
                print(f"      {w}")
            continue
        c.check(ok, f"{case.name}:\n    " + "\n    ".join(why) + "".join(f"\n    command: {shlex.join(x)}" for x in cmds))
        print(f"{'ok  ' if ok else 'FAIL'} {case.name}: {line}")

    # Too large to keep in the corpus: 10001 secondaries (the generator tests
    # every seed against every secondary; 100000 ran for minutes).
    many = os.path.join(wd, "secondaries_too_many.cfg")
    with open(many, "w") as f:
        f.write('grid = { voxel_nm = 20.0; shape = [16, 16, 16]; };\nmicrostructure = { type = "generated"; secondaries = (\n')
        f.write(",\n".join(["{ center_um = [0.16, 0.16, 0.16]; radius_um = 0.15; }"] * 10001))
        f.write(' ); };\nprotocol = { cycling = { steps = ( { type = "rest"; duration_min = 1.0; } ); }; };\n')
    p = oxtest.run([args.oxvac, "check", many], timeout=args.timeout)
    c.check(p.returncode == 2 and f"{many}:2: key 'microstructure.secondaries': has 10001 elements; expected at most 10000" in p.stderr,
            "10001 secondaries: exit 2 at the list's line", p.args, "", p.stderr)

    after = snapshot(bad_dir)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    c.check(not changed, f"the corpus was changed (files added, removed or modified): {changed}")
    with open(result, "rb") as f:
        c.check(hashlib.sha256(f.read()).hexdigest() == result_sha, "compare changed RESULT.h5")
    print(f"test_bad_inputs: {counts[0]} bad configs, {counts[1]} HDF5 files, {counts[2]} bad CSVs; "
          f"{len(cases)} cases run ({xfail} known defects, XFAIL)")


def main():
    ap = oxtest.parser(__doc__, mpiexec=False, timeout=60.0)
    ap.add_argument("--bad-dir", required=True)
    ap.add_argument("--jobs", type=int, default=4, help="cases run at once")
    args = oxtest.parse_args(ap)
    return oxtest.main("test_bad_inputs", args, run_checks)


if __name__ == "__main__":
    sys.exit(main())
