#!/usr/bin/python3
"""Command-line and input-error behaviour of oxvac (docs/interface.md section 2).

For every BAD_DIR/*.cfg (the configs of the corpus tests/bad_inputs, whose
header says `# expect: SUBSTRING`, oxtest.case_header; a case of stage `run`
and a known defect are left to test_bad_inputs):
  - `oxvac run FILE -o TMP/out.h5` exits 2, stderr has a line
    `FILE:LINE: key 'a.b': what; expected...` (or, for libconfig syntax
    errors, `FILE:LINE: syntax error: what; expected...`) containing SUBSTRING,
    and TMP (and the working directory) is left empty: no result, no partial;
  - `oxvac check FILE` exits 2 with the same message line;
  - no clobber: `oxvac run FILE -o TMP2/keep.h5` onto an existing keep.h5
    exits 2 and leaves it byte for byte, with nothing beside it.
Then:
  - no clobber for a missing config file, a bad --set and an unknown option,
    likewise;
  - `oxvac check inputs/demo.cfg` exits 0, and its output checks again with
    exit 0 and identical output (the resolved config round-trips);
  - usage errors exit 2: `oxvac`, `oxvac run`, `oxvac frobnicate`,
    `oxvac run CONFIG --bogus`;
  - `oxvac --version` and `oxvac help run` exit 0;
  - `--set grid.voxel_nm=-1` exits 2 with a FILE:LINE message naming the key;
  - every INPUTS_DIR/*.cfg passes `oxvac check`.

usage: test_cli_errors.py --oxvac PATH --bad-dir tests/bad_inputs [--inputs-dir inputs]
Exit status 0 if every check passes, 1 otherwise.
"""
import concurrent.futures
import glob
import os
import re
import shlex
import sys
import tempfile

import oxtest

KEY_RE = oxtest.KEY_LINE_RE
SYNTAX_RE = oxtest.SYNTAX_LINE_RE
KEEP_BYTES = b"oxvac test_cli_errors: an existing result that must survive\n" + bytes(range(256))


class Checker(oxtest.Checker):
    """oxtest.Checker that also runs `oxvac ARGV`, returning (cmd, rc, out, err)."""

    def __init__(self, oxvac, timeout):
        super().__init__("test_cli_errors")
        self.oxvac = oxvac
        self.timeout = timeout

    def run(self, argv, cwd=None):
        p = oxtest.run([self.oxvac] + argv, timeout=self.timeout, cwd=cwd)
        return p.args, p.returncode, p.stdout, p.stderr


def named_file(path):
    """The file a case's message names: the case, or the NAME.inc its `# expect: NAME.inc:` names."""
    m = re.match(r"([^\s:]+\.inc):", expect_of(path) or "")
    return os.path.join(os.path.dirname(path), m.group(1)) if m else path


def message_line(stderr, path):
    """The first stderr line of the FILE:LINE: key/syntax-error form, or None."""
    path = named_file(path)
    for line in stderr.splitlines():
        if (KEY_RE.match(line) or SYNTAX_RE.match(line)) and line.startswith(path + ":"):
            return line
    return None


def expect_of(path):
    return oxtest.case_header(path).get("expect") or None


def for_here(path):
    """Whether this test runs the case: run and check both refuse it, and it is no known defect."""
    head = oxtest.case_header(path)
    return head.get("stage", "config") != "run" and "known-defect" not in head


def listing(d):
    out = []
    for root, dirs, files in os.walk(d):
        out += [os.path.relpath(os.path.join(root, x), d) for x in dirs + files]
    return sorted(out)


def check_bad_files(c, bad_files, workdir, jobs):
    # The runs are independent and mostly wait on MPI start-up: run them in parallel,
    # each in its own empty output folder and working directory, then judge in order.
    def both(path):
        stem = os.path.basename(path)[:-4]
        outdir = os.path.join(workdir, "out_" + stem)
        scratch = os.path.join(workdir, "cwd_" + stem)
        os.makedirs(outdir)
        os.makedirs(scratch)
        r1 = c.run(["run", path, "-o", os.path.join(outdir, "out.h5"), "--quiet"], cwd=scratch)
        left, stray = listing(outdir), listing(scratch)
        r2 = c.run(["check", path], cwd=scratch)
        ncdir = os.path.join(workdir, "keep_" + stem)
        os.makedirs(ncdir)
        keep = os.path.join(ncdir, "keep.h5")
        with open(keep, "wb") as f:
            f.write(KEEP_BYTES)
        r3 = c.run(["run", path, "-o", keep, "--quiet"], cwd=ncdir)
        with open(keep, "rb") as f:
            same = f.read() == KEEP_BYTES
        return r1, left, stray, r2, (r3, same, listing(ncdir))

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(both, bad_files))

    for path, ((cmd, rc, out, err), left, stray, (cmd2, rc2, out2, err2),
               ((cmd3, rc3, out3, err3), same, left3)) in zip(bad_files, results):
        name = os.path.basename(path)
        expect = expect_of(path)
        if not c.check(expect is not None, f"{name}: no '# expect: ...' line in its header", [path]):
            continue
        line = message_line(err, path)
        good = (c.check(rc == 2, f"{name}: run exit status {rc}, expected 2", cmd, out, err)
                & c.check(line is not None,
                          f"{name}: no stderr line of the form "
                          f"'{path}:LINE: key 'a.b': what; expected...'", cmd, out, err))
        if line is not None:
            good &= c.check(expect in line, f"{name}: message lacks {expect!r}:\n  {line}",
                            cmd, out, err)
        good &= c.check(not left, f"{name}: files left in the output folder: {left}", cmd)
        good &= c.check(not stray, f"{name}: files left in the working directory: {stray}", cmd)

        line2 = message_line(err2, path)
        good &= c.check(rc2 == 2, f"{name}: check exit status {rc2}, expected 2", cmd2, out2, err2)
        good &= c.check(line2 == line, f"{name}: check message differs from run's:\n"
                        f"  run:   {line}\n  check: {line2}", cmd2, out2, err2)

        good &= c.check(rc3 == 2, f"{name}: run onto an existing keep.h5: exit status {rc3}",
                        cmd3, out3, err3)
        good &= c.check(same, f"{name}: the existing keep.h5 was changed", cmd3)
        good &= c.check(left3 == ["keep.h5"], f"{name}: beside keep.h5: {left3}", cmd3)
        print(f"{'ok  ' if good else 'FAIL'} {name}: {line}")


def check_no_clobber(c, bad_files, demo, workdir):
    d = os.path.join(workdir, "noclobber")
    os.makedirs(d)
    keep = os.path.join(d, "keep.h5")
    cases = [("missing config file", ["run", os.path.join(d, "no_such.cfg"), "-o", keep])]
    if demo:
        cases.append(("bad --set", ["run", demo, "-o", keep, "--quiet",
                                    "--set", "grid.voxel_nm=-1"]))
        cases.append(("unknown option", ["run", demo, "-o", keep, "--quiet", "--bogus"]))
    for what, argv in cases:
        with open(keep, "wb") as f:
            f.write(KEEP_BYTES)
        cmd, rc, out, err = c.run(argv, cwd=d)
        with open(keep, "rb") as f:
            same = f.read() == KEEP_BYTES
        left = listing(d)
        good = (c.check(rc == 2, f"no-clobber ({what}): exit status {rc}, expected 2",
                        cmd, out, err)
                & c.check(same, f"no-clobber ({what}): existing keep.h5 was changed", cmd)
                & c.check(left == ["keep.h5"], f"no-clobber ({what}): folder holds {left}", cmd))
        print(f"{'ok  ' if good else 'FAIL'} no-clobber, {what}: existing keep.h5 unchanged")
    if demo:
        # -o onto the config itself: refused, the config left byte for byte.
        cfg = os.path.join(d, "self.cfg")
        with open(demo, "rb") as f:
            text = f.read()
        with open(cfg, "wb") as f:
            f.write(text)
        cmd, rc, out, err = c.run(["run", cfg, "-o", cfg, "--quiet"], cwd=d)
        with open(cfg, "rb") as f:
            same = f.read() == text
        good = (c.check(rc == 2 and "it is the config file itself; expected" in err,
                        f"run -o CONFIG: exit status {rc}, expected 2 naming the config", cmd, out, err)
                & c.check(same, "run -o CONFIG: the config was changed", cmd))
        os.remove(cfg)
        print(f"{'ok  ' if good else 'FAIL'} run -o CONFIG refused, the config unchanged")


def check_roundtrip(c, demo, workdir):
    cmd, rc, out, err = c.run(["check", demo])
    if not c.check(rc == 0, f"check {demo}: exit status {rc}, expected 0", cmd, out, err):
        return
    c.check(out.strip() != "", "check printed no resolved config", cmd, out, err)
    resolved = os.path.join(workdir, "resolved.cfg")
    with open(resolved, "w") as f:
        f.write(out)
    cmd2, rc2, out2, err2 = c.run(["check", resolved])
    good = (c.check(rc2 == 0, f"check of the resolved config: exit status {rc2}", cmd2, out2, err2)
            & c.check(out2 == out, "check of the resolved config prints something else:\n"
                      + "\n".join(f"  - {a}\n  + {b}" for a, b in
                                  zip(out.splitlines(), out2.splitlines()) if a != b)[:3000],
                      cmd2))
    print(f"{'ok  ' if good else 'FAIL'} round trip: check {os.path.basename(demo)} "
          f"-> {len(out.splitlines())} lines, checks again identically")


def check_usage(c, demo, workdir):
    d = os.path.join(workdir, "usage")
    os.makedirs(d)
    cfg = demo or "missing.cfg"
    for argv in ([], ["run"], ["check"], ["frobnicate"],
                 ["run", cfg, "--bogus", "-o", os.path.join(d, "out.h5")]):
        cmd, rc, out, err = c.run(argv, cwd=d)
        good = (c.check(rc == 2, f"usage error: exit status {rc}, expected 2", cmd, out, err)
                & c.check((out + err).strip() != "", "usage error: no message at all", cmd)
                & c.check(listing(d) == [], f"usage error left files: {listing(d)}", cmd))
        first = (err.strip() or out.strip()).splitlines()[0] if (out + err).strip() else ""
        print(f"{'ok  ' if good else 'FAIL'} usage error exit 2: oxvac {shlex.join(argv)}: {first}")

    cmd, rc, out, err = c.run(["--version"])
    good = (c.check(rc == 0, f"--version: exit status {rc}", cmd, out, err)
            & c.check(re.search(r"\d+\.\d+", out + err) is not None,
                      "--version prints no version number", cmd, out, err))
    print(f"{'ok  ' if good else 'FAIL'} --version: {(out + err).strip()}")
    cmd, rc, out, err = c.run(["help", "run"])
    good = (c.check(rc == 0, f"help run: exit status {rc}", cmd, out, err)
            & c.check("oxvac run" in out + err, "help run does not show 'oxvac run'", cmd, out, err))
    print(f"{'ok  ' if good else 'FAIL'} help run: exit 0")

    if demo:
        for sub in (["check", demo], ["run", demo, "-o", os.path.join(d, "out.h5"), "--quiet"]):
            argv = sub + ["--set", "grid.voxel_nm=-1"]
            cmd, rc, out, err = c.run(argv, cwd=d)
            lines = [ln for ln in err.splitlines()
                     if KEY_RE.match(ln) and "'grid.voxel_nm'" in ln]
            good = (c.check(rc == 2, f"bad --set: exit status {rc}, expected 2", cmd, out, err)
                    & c.check(bool(lines), "bad --set: no 'WHERE:LINE: key 'grid.voxel_nm': ...; ...' "
                              "line on stderr", cmd, out, err)
                    & c.check(listing(d) == [], f"bad --set left files: {listing(d)}", cmd))
            print(f"{'ok  ' if good else 'FAIL'} bad --set ({sub[0]}): "
                  f"{lines[0] if lines else err.strip()}")


def check_runtime_inputs(c, demo, workdir):
    """Input errors only a run can see, each found before any work: exit 2,
    one FILE:LINE message naming the key, nothing written."""
    d = tempfile.mkdtemp(dir=workdir)
    os.mkdir(os.path.join(d, "adir.h5"))
    notckpt = os.path.join(d, "not_a_checkpoint.h5")
    with open(notckpt, "w") as f:
        f.write("plain text\n")
    cases = [("output path is a directory", ["-o", os.path.join(d, "adir.h5")], "'output.file'"),
             ("output folder cannot be made", ["-o", "/proc/oxvac_nonexistent/x.h5"], "'output.file'"),
             ("restart file is not a checkpoint", ["-o", os.path.join(d, "r.h5"), "--restart", notckpt], "file"),
             ("no solid voxel", ["-o", os.path.join(d, "r.h5"), "--set", "microstructure.secondaries=({center_um=[9.0,9.0,9.0];radius_um=0.1;})"],
              "'microstructure'"),
             ("grid beyond 32-bit indices", ["-o", os.path.join(d, "r.h5"), "--set", "grid.shape=[2000,2000,2000]"], "'grid.shape'")]
    for what, extra, key in cases:
        before = listing(d)
        cmd, rc, out, err = c.run(["run", demo, "--quiet"] + extra, cwd=d)
        if key == "file":  # a damaged checkpoint is named as 'CKPT: file: ...; expected ...' (issue 12)
            lines = [ln for ln in err.splitlines() if ln.startswith(notckpt + ": file: ") and "; expected " in ln]
        else:
            lines = [ln for ln in err.splitlines() if KEY_RE.match(ln) and key in ln]
        good = (c.check(rc == 2, f"{what}: exit status {rc}, expected 2", cmd, out, err)
                & c.check(len(lines) == 1, f"{what}: no single 'FILE:LINE: key {key}: ...; ...' line", cmd, out, err)
                & c.check(listing(d) == before, f"{what}: files written: {sorted(set(listing(d)) - set(before))}", cmd))
        print(f"{'ok  ' if good else 'FAIL'} {what}: {lines[0] if lines else err.strip()[:200]}")


def check_inputs(c, inputs_dir):
    files = sorted(glob.glob(os.path.join(inputs_dir, "*.cfg")))
    c.check(bool(files), f"no *.cfg in {inputs_dir}", [])
    for f in files:
        # a sweep file (base = ...) is checked point by point, writing nothing
        is_sweep = any(line.startswith("base") for line in open(f))
        cmd, rc, out, err = c.run(["sweep", f, "--check"] if is_sweep else ["check", f], cwd=os.path.dirname(f))
        good = c.check(rc == 0, f"{f}: check exit status {rc}, expected 0", cmd, out, err)
        print(f"{'ok  ' if good else 'FAIL'} check {os.path.relpath(f)}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = oxtest.parser(__doc__, mpiexec=False, keep=False, timeout=60.0)
    ap.add_argument("--bad-dir", required=True, help="folder of bad configs (tests/bad_inputs)")
    ap.add_argument("--inputs-dir", default=os.path.join(here, "..", "inputs"),
                    help="folder whose *.cfg must all pass check (default: ../inputs)")
    ap.add_argument("--jobs", type=int, default=6, help="bad configs run at once")
    args = oxtest.parse_args(ap)
    bad_dir = os.path.abspath(args.bad_dir)
    inputs_dir = os.path.abspath(args.inputs_dir)
    bad_files = [f for f in sorted(glob.glob(os.path.join(bad_dir, "*.cfg"))) if for_here(f)]
    demo = os.path.join(inputs_dir, "demo.cfg")
    demo = demo if os.path.isfile(demo) else None

    c = Checker(args.oxvac, args.timeout)
    c.check(bool(bad_files), f"no *.cfg in {bad_dir}", [])
    c.check(demo is not None, f"no demo.cfg in {inputs_dir}", [])
    with oxtest.workdir(None, "oxvac_cli_errors_") as workdir:
        check_bad_files(c, bad_files, workdir, args.jobs)
        check_no_clobber(c, bad_files, demo, workdir)
        if demo:
            check_roundtrip(c, demo, workdir)
        check_usage(c, demo, workdir)
        if demo:
            check_runtime_inputs(c, demo, workdir)
        check_inputs(c, inputs_dir)
    return c.exit_code(f"{len(bad_files)} bad configs, {c.count} checks")


if __name__ == "__main__":
    sys.exit(main())
