#!/usr/bin/python3
"""oxvac fit against synthetic noisy profiles of known scale factors.

Each case runs `oxvac run` at known scales (the truth), reads its profiles
(/lamella, or /profiles with --geometry 3d) at the stored cycles, adds seeded
Gaussian noise (sigma = 2 % of the largest Mn3+ fraction) and writes the CSV
(first line `# synthetic: ...`), then runs `oxvac fit` from the config's
values (all 1.0) and checks what it prints and writes:

  --case A    tests/data/fit/sphere.cfg, lamella, truth diffusivity_scale 2.0,
              exchange_scale 0.5: both recovered within 10 %, the truth within
              3 printed sigmas, both identifiable, reduced chi-square plausible.
  --case B    the same config, --geometry 3d, truth 0.4 and 3.0.
  --case C    tests/data/fit/sphere_fast_exchange.cfg (diffusion-limited, one
              particle): diffusivity_scale 2.0 recovered within 10 %;
              surface.exchange_scale and material.grain_boundary reported as
              not identifiable.
  --case averaged  tests/data/fit/sphere_long.cfg (12 cycles): --mode auto
              iterates in averaged mode and confirms with a resolved run;
              exchange_scale within 10 %, diffusivity within 3 sigmas.
  --case signal  sphere_long.cfg: SIGINT while a forward run is in progress
              (an averaged trial run with --mode averaged, the first run with
              --mode auto; averaged runs write no checkpoint) ends the fit with
              exit 1 and a `stopped by signal` message; no fitted config,
              nothing left behind.
  --case errors  input errors exit 2 with one `FILE:LINE: key 'a.b': what;
              expected ...` line and leave nothing behind: no --param, unknown,
              string, integer and non-positive keys, a parameter given twice,
              a missing or bad CSV, a measured cycle past the protocol, a
              missing config, an unwritable -o, bad option values.

Every successful case also checks: the fitted config is written beside the
measurement as MEASURED.fit.cfg, starts with a `# fitted by oxvac` header,
passes `oxvac check` and holds the printed values; the run at the fitted
values is kept beside it as MEASURED.fit.h5 (+ .xdmf), its root attribute
`config` is the fitted config resolved (as `oxvac check` prints it), and
`oxvac compare` on it gives the printed chi-square; stdout ends with the
command that plots it (`python3 -m oxvac.plot measured H5 CSV -o PNG`); no
temporary folder or other file is left beside the measurement or in $TMPDIR.

usage: test_fit.py --oxvac PATH --case A|B|C|averaged|signal|errors [--mpiexec "mpiexec -n 2"] [--keep DIR]
Exit status 0 if every check passes, 1 otherwise.
"""
import os
import re
import signal
import subprocess
import sys
import time

import json
import shlex

import h5py
import numpy as np

import oxtest

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "fit")
D, K, GB = "material.diffusivity_scale", "surface.exchange_scale", "material.grain_boundary"
NOISE = 0.02          # noise sigma, relative to the largest Mn3+ fraction of the truth
TOL = 0.10            # recovered within 10 %

# case: config, geometry, truth scales, seed, fitted parameters, extra fit options
CASES = {
    "A": ("sphere.cfg", "lamella", {D: 2.0, K: 0.5}, 1, [D, K], []),
    "B": ("sphere.cfg", "3d", {D: 0.4, K: 3.0}, 2, [D, K], []),
    "C": ("sphere_fast_exchange.cfg", "lamella", {D: 2.0, K: 1.0}, 4, [D, K, GB], []),
    "averaged": ("sphere_long.cfg", "lamella", {D: 2.0, K: 0.5}, 7, [D, K], []),
}

PARAM_LINE = re.compile(r"^(\S+) = (\S+) \+/- (\S+)(?:\s+\(not identifiable: (.*)\))?$")
CHI2_LINE = re.compile(r"^reduced chi-square = (\S+) \(chi2 = (\S+), n = (\d+) points, p = (\d+) parameters\)$")
ERROR_LINE = re.compile(r"^(.+?):(\d+): (?:key '([^']+)': )?(.+); expected (.+)$")


def synthetic(args, c, work, cfg, geometry, truth, seed):
    """Run the truth, write MEASURED.csv with seeded noise; return its path and number of points."""
    truth_h5 = os.path.join(work, "truth.h5")
    argv = ["run", cfg, "--quiet", "-o", truth_h5]
    for k, v in truth.items():
        argv += ["--set", f"{k}={v!r}"]
    oxtest.run_oxvac(args, argv, mpiexec="", label=" (truth run)")
    group = "/profiles" if geometry == "3d" else "/lamella"
    rows = []
    with h5py.File(truth_h5, "r") as h:
        for name in sorted(h[group]):
            g = h[group][name]
            cycle = int(name.split("_")[1])
            for d, m, n in zip(g["distance_nm"][...], g["mn3_fraction"][...], g["count"][...]):
                if n > 0:
                    rows.append((cycle, float(d), float(m)))
    c.check(len(rows) >= 10, f"the truth run has {len(rows)} profile points in {group} (expected at least 10)")
    sigma = NOISE * max(r[2] for r in rows)
    rng = np.random.default_rng(seed)
    path = os.path.join(work, "measured.csv")
    settings = " ".join(f"{k}={v}" for k, v in truth.items())
    with open(path, "w") as f:
        f.write(f"# synthetic: oxvac run {os.path.basename(cfg)} with {settings}, {group} at cycles "
                f"{sorted({r[0] for r in rows})} (seed {seed}, noise sigma {sigma:.4g} = {NOISE:g} of the largest value)\n")
        f.write("cycle,distance_nm,mn3_fraction,sigma\n")
        for cycle, d, m in rows:
            value = min(1.0, max(0.0, m + sigma * rng.standard_normal()))
            f.write(f"{cycle},{d:.6g},{value:.6f},{sigma:.6f}\n")
    for leftover in ("truth.h5", "truth.xdmf"):
        os.remove(os.path.join(work, leftover))
    return path, len(rows)


PLOT_PREFIX = "plot model vs measured: "


def parse_fit(out):
    """{path: (value, sigma, why or None)}, (chi2_red, chi2, n, p) or None, [paths after `wrote `]."""
    params, chi2, wrote = {}, None, []
    for line in out.splitlines():
        m = PARAM_LINE.match(line)
        if m and not line.startswith("reduced"):
            params[m.group(1)] = (float(m.group(2)), float(m.group(3)), m.group(4))
        m = CHI2_LINE.match(line)
        if m:
            chi2 = (float(m.group(1)), float(m.group(2)), int(m.group(3)), int(m.group(4)))
        if line.startswith("wrote "):
            wrote.append(line[len("wrote "):].split(" (")[0])
    return params, chi2, wrote


def fitted_value(text, path):
    """The value of a dotted key in a resolved config text (groups on their own lines or one-line groups)."""
    group, key = path.rsplit(".", 1)
    m = re.search(r"^" + re.escape(group) + r" = \{(.*?)^\};", text, re.S | re.M)
    if not m:
        return None
    v = re.search(r"(?<![\w.])" + re.escape(key) + r" = ([^;]+);", m.group(1))
    return float(v.group(1)) if v else None


def check_kept(args, c, resolved, kept, kept_xdmf, measured, geometry, chi2):
    """The kept run: present with its XDMF, a run of the fitted config, and compare on it gives the printed chi2."""
    if not c.check(os.path.isfile(kept) and os.path.isfile(kept_xdmf), f"the run at the fitted values is kept: {kept} and {kept_xdmf}"):
        return
    with h5py.File(kept, "r") as h:
        attr = h.attrs["config"]
        attr = attr.decode() if isinstance(attr, bytes) else str(attr)
    want = "\n".join(ln for ln in resolved.splitlines() if not ln.startswith("# protocol:"))
    c.check(attr.strip() == want.strip(), "the kept result's config attribute is the fitted config resolved (oxvac check FITTED.cfg)",
            None, attr[-1500:], want[-1500:])
    cmd = [args.oxvac, "compare", kept, measured, "--geometry", geometry, "--format", "json"]
    q = oxtest.run(cmd, timeout=args.timeout)
    if not c.check(q.returncode == 0, f"oxvac compare on the kept result exits 0 (got {q.returncode})", cmd, q.stdout, q.stderr):
        return
    got = json.loads(q.stdout)["all"]
    c.check(chi2 is not None and got["n"] == chi2[2] and abs(got["chi2"] - chi2[1]) <= 1e-5 * chi2[1],
            f"oxvac compare on the kept result gives the printed chi2 {chi2 and chi2[1]} (got {got['chi2']}, n = {got['n']})", cmd, q.stdout)


def check_clean(c, work, tmpdir, expected):
    left = sorted(set(os.listdir(work)) - set(expected) - {os.path.basename(tmpdir)})
    c.check(not left, f"nothing else is left beside the measurement (found {left})")
    c.check(not os.listdir(tmpdir), f"nothing is left in $TMPDIR (found {os.listdir(tmpdir)})")


def fit_case(args, work, c):
    cfg_name, geometry, truth, seed, params, extra = CASES[args.case]
    cfg = os.path.join(DATA, cfg_name)
    measured, npoints = synthetic(args, c, work, cfg, geometry, truth, seed)
    tmpdir = os.path.join(work, "tmp")
    os.makedirs(tmpdir)
    argv = [args.oxvac, "fit", cfg, measured, "--geometry", geometry] + extra
    for p in params:
        argv += ["--param", p]
    cmd = oxtest.launcher(args.mpiexec) + argv
    c.commands.append(cmd)
    env_tmp = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = tmpdir
    t0 = time.monotonic()
    p = oxtest.run(cmd, timeout=args.timeout)
    wall = time.monotonic() - t0
    if env_tmp is None:
        del os.environ["TMPDIR"]
    else:
        os.environ["TMPDIR"] = env_tmp
    if not c.check(p.returncode == 0, f"oxvac fit exits 0 (got {p.returncode})", cmd, p.stdout, p.stderr):
        return
    fits, chi2, wrote = parse_fit(p.stdout)
    expected_cfg = os.path.join(work, "measured.fit.cfg")
    kept, kept_xdmf = os.path.join(work, "measured.fit.h5"), os.path.join(work, "measured.fit.xdmf")
    c.check(list(fits) == params, f"one line `PATH = VALUE +/- SIGMA` per parameter, in order (got {list(fits)})",
            cmd, p.stdout)
    c.check(chi2 is not None and chi2[2] == npoints and chi2[3] == len(params),
            f"`reduced chi-square = X (chi2 = Y, n = {npoints} points, p = {len(params)} parameters)` (got {chi2})", cmd, p.stdout)
    c.check([os.path.abspath(w) for w in wrote] == [expected_cfg, kept], f"wrote {expected_cfg} and {kept} (got {wrote})", cmd, p.stdout)
    lines = p.stdout.splitlines()
    plot = shlex.split(lines[-1][len(PLOT_PREFIX):]) if lines and lines[-1].startswith(PLOT_PREFIX) else None
    c.check(plot is not None and plot[:4] == ["python3", "-m", "oxvac.plot", "measured"] and len(plot) == 8
            and os.path.abspath(plot[4]) == kept and os.path.abspath(plot[5]) == measured and plot[6] == "-o"
            and os.path.abspath(plot[7]) == os.path.join(work, "measured.fit.png"),
            "stdout ends with `plot model vs measured: python3 -m oxvac.plot measured FITTED.h5 MEASURED.csv -o FITTED.png`",
            cmd, p.stdout)
    if chi2:
        dof = npoints - len(params)
        c.check(0.2 < chi2[0] < 3.0 and abs(chi2[0] * dof - chi2[1]) <= 1e-4 * chi2[1],
                f"reduced chi-square {chi2[0]} is chi2 / (n - p) and plausible for noise of the stated sigma (0.2 .. 3)")

    identifiable = {D: True, K: True} if args.case != "C" else {D: True, K: False, GB: False}
    for path in params:
        if path not in fits:
            continue
        value, sigma, why = fits[path]
        true = truth.get(path)
        print(f"{args.case}: {path} = {value:g} +/- {sigma:g} (true {true}){'  not identifiable: ' + why if why else ''}")
        if identifiable[path]:
            c.check(why is None, f"{path} is identifiable (got: {why})", cmd, p.stdout)
            c.check(0.0 < sigma < 0.25 * value, f"{path}: sigma {sigma:g} is positive and below 25 % of the value {value:g}")
            c.check(abs(value - true) <= 3.0 * sigma, f"{path}: the truth {true} lies within 3 sigma of {value:g} +/- {sigma:g}")
            if not (args.case == "averaged" and path == D):  # the averaged case's profiles constrain D to ~20 %
                c.check(abs(value / true - 1.0) <= TOL, f"{path}: {value:g} within {TOL:.0%} of the truth {true}")
        else:
            c.check(why is not None, f"{path} is reported as not identifiable", cmd, p.stdout)
    if args.case == "C" and GB in fits and fits[GB][2]:
        c.check("do not depend" in fits[GB][2] and fits[GB][0] == 0.5,
                f"{GB} (one particle, no grain boundary): the data do not depend on it and it keeps its start 0.5 (got {fits[GB]})")
    if args.case == "averaged":
        c.check("averaged mode" in p.stderr, "--mode auto iterates in averaged mode for 12 cycles", cmd, p.stdout, p.stderr)
        c.check("confirmed by a resolved run" in p.stdout, "the fit is confirmed by a resolved run", cmd, p.stdout)

    if os.path.exists(expected_cfg):
        text = open(expected_cfg).read()
        c.check(text.startswith("# fitted by oxvac") and "measured.csv" in text.split("# oxvac resolved")[0],
                "the fitted config starts with a header naming the measurement")
        q = oxtest.run([args.oxvac, "check", expected_cfg], timeout=args.timeout)
        c.check(q.returncode == 0, "oxvac check accepts the fitted config", [args.oxvac, "check", expected_cfg], q.stdout, q.stderr)
        for path, (value, sigma, _) in fits.items():
            got = fitted_value(q.stdout, path)
            c.check(got is not None and abs(got - value) <= max(0.5 * sigma, 1e-9) + 0.01 * abs(value),
                    f"the fitted config holds {path} = {got} (printed {value:g})")
        check_kept(args, c, q.stdout, kept, kept_xdmf, measured, geometry, chi2)
    check_clean(c, work, tmpdir, ["measured.csv", "measured.fit.cfg", "measured.fit.h5", "measured.fit.xdmf", "tmp"])
    print(f"{args.case}: {chi2 and 'reduced chi-square %g (chi2 %g, n %d, p %d)' % chi2}; wall {wall:.1f} s")


def signal_case(args, work, c):
    """SIGINT during a forward run stops the whole fit (exit 1), whatever the run's mode:
    during an averaged trial run (--mode averaged), and during the first run of --mode auto."""
    cfg = os.path.join(DATA, "sphere_long.cfg")
    measured, _ = synthetic(args, c, work, cfg, "lamella", {D: 2.0, K: 0.5}, 7)
    tmpdir = os.path.join(work, "tmp")
    os.makedirs(tmpdir)
    env = dict(os.environ, TMPDIR=tmpdir)
    # (mode, the stderr line after which a forward run starts at once); each run takes about 0.7 s here
    for mode, after in (("averaged", "fit: iteration 0"), ("auto", "fit: 2 parameters")):
        cmd = [args.oxvac, "fit", cfg, measured, "--param", D, "--param", K, "--mode", mode]
        c.commands.append(cmd)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        err = []
        for line in p.stderr:
            err.append(line)
            if line.startswith(after):
                break
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        out, rest = p.communicate(timeout=args.timeout)
        err = "".join(err) + rest
        c.check(p.returncode == 1, f"--mode {mode}, SIGINT during a forward run: exit 1 (got {p.returncode})", cmd, out, err)
        c.check("stopped by signal" in err, f"--mode {mode}: the message says the fit was stopped by a signal", cmd, out, err)
        fits, chi2, wrote = parse_fit(out)
        c.check(not fits and chi2 is None and not wrote, f"--mode {mode}: no parameter, chi-square or `wrote` line on stdout", cmd, out)
        check_clean(c, work, tmpdir, ["measured.csv", "tmp"])


def error_cases(args, work, c):
    cfg = os.path.join(DATA, "sphere.cfg")
    cfg_lines = open(cfg).read().splitlines()
    gb_line = next(i + 1 for i, line in enumerate(cfg_lines) if "grain_boundary" in line)
    good = os.path.join(work, "good.csv")
    with open(good, "w") as f:
        f.write("# synthetic: hand-made points for the input-error checks of tests/test_fit.py\n")
        f.write("cycle,distance_nm,mn3_fraction,sigma\n")
        for i in range(6):
            f.write(f"1,{5 + 10 * i}.0,0.2,0.01\n3,{5 + 10 * i}.0,0.4,0.01\n")
    bad = os.path.join(work, "bad.csv")
    with open(bad, "w") as f:
        f.write("# synthetic: a bad sigma on line 4\ncycle,distance_nm,mn3_fraction,sigma\n1,5.0,0.2,0.01\n1,15.0,0.2,-0.01\n")
    late = os.path.join(work, "late.csv")
    with open(late, "w") as f:
        f.write("# synthetic: cycle 7 on line 5, past the 3 cycles of sphere.cfg\ncycle,distance_nm,mn3_fraction,sigma\n")
        f.write("1,5.0,0.2,0.01\n1,15.0,0.2,0.01\n7,5.0,0.2,0.01\n")
    missing = os.path.join(work, "missing.csv")
    os.mkdir(os.path.join(work, "clash.h5"))  # -o clash.cfg: the kept result clash.h5 cannot be written
    P = ["--param", D]
    # (what, argv after `fit`, file, line, key, text in the message); file None: a usage error (oxvac: ... / usage:)
    cases = [
        ("no --param", [cfg, good], cfg, 1, "--param", "no parameter"),
        ("an unknown key, with a suggestion", [cfg, good, "--param", "material.difusivity_scale"], cfg, 1,
         "material.difusivity_scale", "did you mean 'material.diffusivity_scale'"),
        ("a string key", [cfg, good, "--param", "microstructure.type"], cfg, None, "microstructure.type", "is a string"),
        ("an integer key", [cfg, good, "--param", "protocol.cycling.repeat"], cfg, None, "protocol.cycling.repeat", "is an integer"),
        ("a zero value, at its line", [cfg, good, "--param", GB], cfg, gb_line, GB, "positive"),
        ("a group", [cfg, good, "--param", "material"], cfg, None, "material", "is a group"),
        ("a parameter twice", [cfg, good] + P + P, cfg, 1, D, "twice"),
        ("a missing measurement", [cfg, missing] + P, missing, 1, None, ""),
        ("a bad sigma", [cfg, bad] + P, bad, 4, "sigma", ""),
        ("a cycle past the protocol", [cfg, late] + P, late, 5, "cycle", "past the end"),
        ("a missing config", [os.path.join(work, "nothing.cfg"), good] + P, os.path.join(work, "nothing.cfg"), 1, None, ""),
        ("an unwritable -o", [cfg, good, "-o", os.path.join(work, "no", "such", "f.cfg")] + P, good, 1, "output", "does not exist"),
        ("-o CONFIG itself", [cfg, good, "-o", cfg] + P, good, 1, "output", "CONFIG itself"),
        ("a kept result that would be a folder", [cfg, good, "-o", os.path.join(work, "clash.cfg")] + P, good, 1, "output", "kept result"),
        ("a bad --set", [cfg, good, "--set", "material.diffusivity_scale=-1"] + P, "--set", 1, D, ""),
        ("--mode fast", [cfg, good, "--mode", "fast"] + P, None, None, None, "--mode"),
        ("--bounds 2,3", [cfg, good, "--bounds", "2,3"] + P, None, None, None, "--bounds"),
        ("--geometry 2d", [cfg, good, "--geometry", "2d"] + P, None, None, None, "--geometry"),
        ("--max-evals 0", [cfg, good, "--max-evals", "0"] + P, None, None, None, "--max-evals"),
        ("no MEASURED", [cfg] + P, None, None, None, "MEASURED"),
        ("an unknown option", [cfg, good, "--parm", D], None, None, None, "--parm"),
    ]
    before = sorted(os.listdir(work))
    for what, argv, file, line, key, text in cases:
        cmd = oxtest.launcher(args.mpiexec) + [args.oxvac, "fit"] + argv
        p = oxtest.run(cmd, timeout=args.timeout)
        err = p.stderr.strip().splitlines()
        c.check(p.returncode == 2, f"{what}: exit 2 (got {p.returncode})", cmd, p.stdout, p.stderr)
        c.check(p.stdout == "", f"{what}: nothing on stdout", cmd, p.stdout)
        if file is None:
            c.check(len(err) >= 1 and text in p.stderr, f"{what}: the message names {text or 'the problem'}", cmd, "", p.stderr)
            continue
        m = ERROR_LINE.match(err[0]) if len(err) == 1 else None
        c.check(m is not None, f"{what}: one line `FILE:LINE: key 'a.b': what is wrong; expected ...`", cmd, "", p.stderr)
        if m:
            c.check(m.group(1) == file and (line is None or int(m.group(2)) == line) and (key is None or m.group(3) == key)
                    and text in err[0], f"{what}: at {file}:{line if line else 'N'}, key '{key}', saying '{text}'", cmd, "", p.stderr)
    c.check(sorted(os.listdir(work)) == before, f"input errors leave no file behind (now {sorted(os.listdir(work))})")


def main():
    ap = oxtest.parser(__doc__, timeout=300.0)
    ap.add_argument("--case", required=True, choices=["A", "B", "C", "averaged", "signal", "errors"])
    args = oxtest.parse_args(ap)
    return oxtest.main(f"test_fit_{args.case}", args, {"errors": error_cases, "signal": signal_case}.get(args.case, fit_case), verbose=False)


if __name__ == "__main__":
    sys.exit(main())
