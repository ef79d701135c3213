#!/usr/bin/python3
"""The command line a person expects (issue 11): help, --quiet, check warnings.

  --part help      `oxvac COMMAND --help` and `-h` for every command (run,
                   check, compare, fit, sweep), also after other arguments,
                   and `oxvac help COMMAND`: exit 0, `usage: oxvac COMMAND`
                   first on stdout, nothing on stderr, nothing written.
                   `oxvac`, `oxvac help` and `oxvac --help` list every
                   command; an unknown command (`oxvac frobnicate`) and an
                   unknown help topic (`oxvac help frobnicate`) exit 2 naming
                   it, with every command listed on stderr.
  --part quiet     `oxvac run` of a small generated microstructure: without
                   --quiet stderr starts with the startup line (grid, type,
                   secondaries, expected primaries) and, with the progress
                   threshold at 0 s (-oxvac_progress_after_s 0), has progress
                   lines (at most one per 10 %, percentages rising) and the
                   line with the numbers built; with --quiet a successful run
                   prints nothing at all on stderr (also in averaged mode,
                   whose per-cycle lines are progress too); stdout keeps the
                   summary and `oxvac: wrote OUT.h5` either way.
  --part warnings  every WARN_DIR/*.cfg (first lines `# warn: LINE KEY TEXT`,
                   one per expected warning): `oxvac check` exits 0, prints
                   the resolved config on stdout, and on stderr exactly those
                   warnings, each `warning: FILE:LINE: key 'KEY': ...TEXT...;
                   expected ...`. A warning caused by a --set points at it
                   (`warning: --set:1: key ...`). Every INPUTS_DIR/*.cfg (but
                   sweep files) and tests/data/fit/*.cfg checks without a
                   warning.

usage: test_cli_help.py --oxvac PATH --part help|quiet|warnings [--warn-dir tests/warn] [--inputs-dir inputs]
Exit status 0 if every check passes, 1 otherwise.
"""
import glob
import os
import re
import sys

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
COMMANDS = ["run", "check", "compare", "fit", "sweep"]
WARN_HEAD = re.compile(r"^#\s*warn:\s*(\d+)\s+(\S+)\s+(.*\S)\s*$")

# A small generated microstructure and a one-step protocol: about a second.
GENERATED = """grid = { voxel_nm = 20.0; shape = [24, 24, 24]; };
microstructure = { type = "generated"; seed = 2; secondaries = ( { center_um = [0.24, 0.24, 0.24]; radius_um = 0.2; } );
                   primary_diameter_nm = 100.0; };
protocol = { cycling = { repeat = 1; steps = ( { type = "hold"; soc = 0.5; duration_h = 0.01; } ); }; };
output = { file = "gen.h5"; fields_at_cycles = [1]; };
"""
# A sphere in averaged mode: 5 cycles, the last 2 averaged.
AVERAGED = """grid = { voxel_nm = 10.0; shape = [12, 12, 12]; };
microstructure = { type = "sphere"; radius_nm = 40.0; center_nm = [0.0, 0.0, 0.0]; };
protocol = { cycling = { repeat = 5; steps = ( { type = "cc"; rate_C = 2.0; until_soc = 1.0; },
                                               { type = "cc"; rate_C = -2.0; until_soc = 0.0; } ); }; };
solver = { time_mode = "averaged"; };
output = { file = "avg.h5"; fields_at_cycles = [1, 5]; checkpoint_every_cycles = 0; };
"""


def listing(d):
    return sorted(os.listdir(d))


def lists_all_commands(text):
    return all(re.search(rf"^\s+oxvac {c} ", text, re.M) for c in COMMANDS)


def part_help(args, work, c):
    demo = os.path.join(args.inputs_dir, "demo.cfg")
    for cmd in COMMANDS:
        for argv in ([cmd, "--help"], [cmd, "-h"], ["help", cmd], [cmd, demo, "--help"]):
            p = oxtest.run([args.oxvac] + argv, timeout=args.timeout, cwd=work)
            first = p.stdout.splitlines()[0] if p.stdout.strip() else ""
            c.check(p.returncode == 0 and first.startswith(f"usage: oxvac {cmd}") and p.stderr == "" and not listing(work),
                    f"oxvac {' '.join(argv)}: exit 0 (got {p.returncode}), "
                    f"`usage: oxvac {cmd}` first on stdout (got {first!r}), nothing on stderr, nothing written",
                    p.args, p.stdout, p.stderr)
            print(f"{'ok  ' if p.returncode == 0 else 'FAIL'} oxvac {' '.join(argv)}: {first[:70]}")
    for argv in (["help"], ["--help"], ["-h"]):
        p = oxtest.run([args.oxvac] + argv, timeout=args.timeout)
        c.check(p.returncode == 0 and lists_all_commands(p.stdout), f"oxvac {argv[0]}: exit 0, every command listed on stdout",
                p.args, p.stdout, p.stderr)
    for argv, what in ((["frobnicate"], "unknown command 'frobnicate'"), (["help", "frobnicate"], "unknown help topic 'frobnicate'"),
                       ([], "missing command")):
        p = oxtest.run([args.oxvac] + argv, timeout=args.timeout, cwd=work)
        ok = c.check(p.returncode == 2 and what in p.stderr and lists_all_commands(p.stderr) and p.stdout == "" and not listing(work),
                     f"oxvac {' '.join(argv)}: exit 2 (got {p.returncode}), `{what}` and every command listed on stderr, nothing on stdout",
                     p.args, p.stdout, p.stderr)
        print(f"{'ok  ' if ok else 'FAIL'} oxvac {' '.join(argv)}: exit {p.returncode}: {p.stderr.splitlines()[0] if p.stderr else ''}")


def part_quiet(args, work, c):
    gen = os.path.join(work, "gen.cfg")
    with open(gen, "w") as f:
        f.write(GENERATED)
    out = os.path.join(work, "gen.h5")
    # Not quiet: startup line, progress (threshold 0 s), the numbers built.
    p = oxtest.run_oxvac(args, ["run", gen, "-o", out, "-oxvac_progress_after_s", "0"], mpiexec="", cwd=work)
    err = p.stderr.splitlines()
    c.check(bool(err) and re.match(r"^oxvac: building 24x24x24 voxels of 20 nm \(0\.48 x 0\.48 x 0\.48 um, .*\): generated, "
                                   r"1 secondary of about \d+ primaries of 100 nm", err[0]) is not None,
            "without --quiet stderr starts with the startup line (grid, generated, 1 secondary, about N primaries)", p.args, p.stdout, p.stderr)
    pct = [int(m.group(1)) for m in (re.match(r"^generating microstructure:\s+(\d+)%", ln) for ln in err) if m]
    deciles = [v // 10 for v in pct]
    c.check(len(pct) >= 2 and deciles == sorted(set(deciles)) and len(pct) <= 11,
            f"progress lines while generating: rising, at most one per 10 % (got {pct})", p.args, p.stdout, p.stderr)
    built = [ln for ln in err if re.match(r"^generated microstructure: \d+ primaries in 1 secondary, [\d.]+ s$", ln)]
    c.check(len(built) == 1, "one line with the numbers built", p.args, p.stdout, p.stderr)
    c.check("oxvac: wrote " + out in p.stdout, "stdout ends with `oxvac: wrote OUT.h5`", p.args, p.stdout)
    print(f"ok   startup line: {err[0] if err else ''}")
    print(f"ok   progress: {pct}")
    # Quiet: nothing on stderr, the same summary on stdout.
    for name, text, extra in (("generated", GENERATED, ["-oxvac_progress_after_s", "0"]), ("averaged", AVERAGED, [])):
        cfg = os.path.join(work, name + ".cfg")
        with open(cfg, "w") as f:
            f.write(text)
        res = os.path.join(work, name + "_quiet.h5")
        p = oxtest.run_oxvac(args, ["run", cfg, "-o", res, "--quiet"] + extra, mpiexec="", cwd=work)
        ok = c.check(p.stderr == "", f"{name}: `oxvac run --quiet` prints nothing on stderr (got {p.stderr[:300]!r})", p.args, p.stdout, p.stderr)
        ok &= c.check(os.path.isfile(res) and "oxvac: wrote " + res in p.stdout and "oxygen loss" in p.stdout,
                      f"{name}: with --quiet the summary and `oxvac: wrote OUT.h5` stay on stdout", p.args, p.stdout)
        print(f"{'ok  ' if ok else 'FAIL'} --quiet ({name}): stderr empty, {len(p.stdout.splitlines())} summary lines on stdout")


def expected_warnings(path):
    want = []
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            m = WARN_HEAD.match(line)
            if m:
                want.append((int(m.group(1)), m.group(2), m.group(3)))
    return want


def part_warnings(args, work, c):
    files = sorted(glob.glob(os.path.join(args.warn_dir, "*.cfg")))
    c.check(len(files) >= 8, f"bad-but-valid configs in {args.warn_dir} (found {len(files)})")
    for path in files:
        name = os.path.basename(path)
        want = expected_warnings(path)
        p = oxtest.run([args.oxvac, "check", path], timeout=args.timeout, cwd=work)
        got = p.stderr.splitlines()
        ok = c.check(bool(want), f"{name}: first lines `# warn: LINE KEY TEXT`")
        ok &= c.check(p.returncode == 0 and "microstructure = {" in p.stdout, f"{name}: check exits 0 (got {p.returncode}) and prints the "
                      "resolved config", p.args, p.stdout, p.stderr)
        ok &= c.check(len(got) == len(want), f"{name}: {len(want)} warning line(s) on stderr (got {len(got)})", p.args, "", p.stderr)
        for line, key, text in want:
            hits = [g for g in got if g.startswith(f"warning: {path}:{line}: key '{key}': ") and text in g and "; expected " in g]
            ok &= c.check(len(hits) == 1, f"{name}: one `warning: {path}:{line}: key '{key}': ...{text}...; expected ...`", p.args, "", p.stderr)
        c.check(not listing(work), f"{name}: check writes nothing")
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got[0] if got else ''}")
    # A warning caused by an override points at it.
    sphere = os.path.join(HERE, "data", "fit", "sphere.cfg")
    p = oxtest.run([args.oxvac, "check", sphere, "--set", "material.diffusivity_cm2_s.value=[1e-27, 1e-27]"], timeout=args.timeout)
    ok = c.check(p.returncode == 0 and p.stderr.startswith("warning: --set:1: key 'material.diffusivity_cm2_s.value': ") and len(p.stderr.splitlines()) == 1,
                 "--set material.diffusivity_cm2_s.value=[1e-27, 1e-27]: one `warning: --set:1: key 'material.diffusivity_cm2_s.value': ...`", p.args, p.stdout, p.stderr)
    print(f"{'ok  ' if ok else 'FAIL'} --set: {p.stderr.strip()[:120]}")
    # Good configs: no warning.
    good = sorted(glob.glob(os.path.join(args.inputs_dir, "*.cfg"))) + sorted(glob.glob(os.path.join(HERE, "data", "fit", "*.cfg")))
    for path in good:
        if any(line.startswith("base") for line in open(path)):
            continue  # a sweep file
        p = oxtest.run([args.oxvac, "check", path], timeout=args.timeout, cwd=os.path.dirname(path))
        ok = c.check(p.returncode == 0 and p.stderr == "", f"{os.path.relpath(path)}: checks without a warning (got {p.stderr.strip()[:300]!r})",
                     p.args, "", p.stderr)
        print(f"{'ok  ' if ok else 'FAIL'} no warning: {os.path.relpath(path)}")


def main():
    ap = oxtest.parser(__doc__, mpiexec=False, keep=True, timeout=120.0)
    ap.add_argument("--part", required=True, choices=["help", "quiet", "warnings"])
    ap.add_argument("--warn-dir", default=os.path.join(HERE, "warn"), help="bad-but-valid configs (tests/warn)")
    ap.add_argument("--inputs-dir", default=os.path.join(HERE, "..", "inputs"), help="configs that check without a warning (inputs)")
    args = oxtest.parse_args(ap)
    args.warn_dir = os.path.abspath(args.warn_dir)
    args.inputs_dir = os.path.abspath(args.inputs_dir)
    parts = {"help": part_help, "quiet": part_quiet, "warnings": part_warnings}
    return oxtest.main(f"test_cli_{args.part}", args, parts[args.part], verbose=False)


if __name__ == "__main__":
    sys.exit(main())
