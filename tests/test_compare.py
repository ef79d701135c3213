#!/usr/bin/python3
"""`oxvac compare`: residuals of a result's Mn3+ profiles against measured points.

Checks against an independent computation in Python (numpy.interp on the
non-empty bins, the statistics written out again here):
  - a result-like HDF5 file made with h5py (/lamella and /profiles only; an
    empty bin with count 0 and NaN inside the profile, empty bins at its deep
    end, count stored as int32 in one group and float64 in the other);
  - a measured CSV with comments, a `# source:` line, CRLF line ends, spaces
    around fields, a blank line and three cycles in mixed order: the model at
    every point (on a centre, between centres, across the empty bin, above the
    first centre, up to half a bin past the last non-empty centre) and per-cycle
    and overall n, wrms and chi2_red, to 1e-12 relative (json);
  - the csv and text outputs agree with json; -o FILE writes the chosen form
    (or the one its name implies) and prints the table; --geometry 3d reads
    /profiles;
  - every defect of the CSV exits 2 with `FILE:LINE: key 'COLUMN': ...;
    expected ...` (a table of bad files), as do a cycle the result did not
    store, a distance deeper than the model's particle, a missing / non-HDF5
    result, a result without the group, and usage errors; -o is not written
    on an error.
With --self-check: a real `oxvac run` on a small sphere, then a CSV made from
its own /lamella and /profiles at some bin centres and half way between
neighbouring ones (their mean; sigma 0.01) must give chi2 ~ 0.

usage: test_compare.py --oxvac PATH [--self-check] [--keep DIR]
Exit status 0 if every check passes, 1 otherwise.
"""
import csv
import io
import json
import math
import os
import sys

import h5py
import numpy as np

import oxtest

BIN_NM = 10.0
CENTRES = (np.arange(10) + 0.5) * BIN_NM            # 5, 15, ..., 95


def profile(cycle, shift):
    """A smooth profile with an empty bin at 35 nm and empty bins at 85 and 95
    nm: the last non-empty centre is 75 nm, so up to 80 nm is inside."""
    mn3 = 0.6 * np.exp(-CENTRES / (30.0 + 10 * cycle)) + 0.05 + shift + 0.01 * np.sin(CENTRES)
    count = np.array([40, 35, 30, 0, 22, 18, 14, 9, 0, 0], dtype=float)
    mn3[count == 0] = np.nan
    return mn3, count


LAMELLA = {c: profile(c, 0.0) for c in (0, 1, 3)}
PROFILES = {c: profile(c, 0.1) for c in (0, 1, 3)}
PROFILES[1][1][0] = 0          # 3D cycle 1: the first bin is empty too
PROFILES[1][0][0] = np.nan


def write_result(path, with_lamella=True, with_profiles=True):
    with h5py.File(path, "w") as h:
        h.attrs["oxvac_version"] = "test"
        if with_lamella:
            for c, (mn3, count) in LAMELLA.items():
                g = h.create_group(f"lamella/cycle_{c:06d}")
                g.attrs["cycle"], g.attrs["bin_nm"] = c, BIN_NM
                g["distance_nm"] = CENTRES
                g["mn3_fraction"] = mn3
                g["count"] = count.astype(np.int32)      # HDF5 converts to double
        if with_profiles:
            for c, (mn3, count) in PROFILES.items():
                g = h.create_group(f"profiles/cycle_{c:06d}")
                g["distance_nm"] = CENTRES
                g["mn3_fraction"] = mn3
                g["vacancy_fraction"] = np.where(count > 0, 0.01, np.nan)
                g["count"] = count


# (cycle, distance_nm, mn3_fraction, sigma): mixed cycles, every interpolation case.
POINTS = [
    (1, 0.0, 0.61, 0.03), (1, 5.0, 0.55, 0.02), (1, 12.5, 0.5, 0.05), (1, 30.0, 0.40, 0.04),
    (1, 40.0, 0.33, 0.04), (3, 2.0, 0.66, 0.05), (1, 78.0, 0.12, 0.01), (1, 80.0, 0.1, 0.02),
    (0, 15.0, 0.35, 0.03), (0, 45.0, 0.12, 0.02), (3, 65.0, 0.2, 0.06), (0, 75.0, 0.07, 0.01),
    (3, 35.0, 0.31, 0.015), (1, 55.0, 0.20, 0.03),
]


def model_values(store, points):
    """numpy.interp over the non-empty bins; np.interp holds the end values
    outside the first and last centre."""
    out = []
    for c, d, _, _ in points:
        mn3, count = store[c]
        keep = (count > 0) & np.isfinite(mn3)
        out.append(float(np.interp(d, CENTRES[keep], mn3[keep])))
    return np.array(out)


def statistics(points, model):
    """Per cycle (ascending) and overall: n, wrms, chi2, chi2_red."""
    cyc = np.array([p[0] for p in points])
    meas = np.array([p[2] for p in points])
    sig = np.array([p[3] for p in points])
    r = (model - meas) / sig
    w = 1.0 / sig ** 2

    def one(sel):
        chi2 = float(np.sum(r[sel] ** 2))
        return {"n": int(sel.sum()), "chi2": chi2, "chi2_red": chi2 / sel.sum(),
                "wrms": math.sqrt(float(np.sum(w[sel] * (model[sel] - meas[sel]) ** 2) / np.sum(w[sel])))}
    per = {int(c): one(cyc == c) for c in sorted(set(cyc.tolist()))}
    return per, one(np.ones(len(points), bool)), r


def write_csv(path, points, head="# source: synthetic test data (tests/test_compare.py)\n",
              crlf=True):
    lines = [head.rstrip("\n"), "# comment line", "cycle , distance_nm,mn3_fraction , sigma", ""]
    lines += [f" {c}, {d!r} ,{m!r},{s!r} " for c, d, m, s in points]
    with open(path, "w", newline="") as f:
        f.write(("\r\n" if crlf else "\n").join(lines) + "\r\n")


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


# Bad CSVs: (name, content, line, key, substring). Line and key are checked as
# `NAME:LINE: key 'KEY': ` at the start of the message; every message also
# has "; expected".
HEAD = "# synthetic\ncycle,distance_nm,mn3_fraction,sigma\n"
BAD = [
    # old Mac line ends (CR only): lines are counted, no raw CR reaches the message
    ("cr_only", HEAD.replace("\n", "\r") + "1,5.0,0.3,0.03\r1,abc,0.3,0.03\r", 4, "distance_nm", "'abc' is not a number"),
    ("cr_mixed", "# synthetic\r\ncycle,distance_nm,mn3_fraction,sigma\r1,5.0,0.3,0.03\n1,abc,0.3,0.03\r\n", 4, "distance_nm",
     "'abc' is not a number"),
    # a control character inside a field is shown as '?'
    ("control_char", HEAD + "1,5\x07x,0.3,0.03\n", 3, "distance_nm", "'5?x' is not a number"),
    ("empty", "", 1, "header", "the file is empty"),
    ("comments_only", "# synthetic\n# nothing else\n", 2, "header", "no header row"),
    ("no_header", "# synthetic\n1,5.0,0.3,0.03\n", 2, "header", "no header row before the data"),
    ("header_name", "cycle,depth_nm,mn3_fraction,sigma\n1,5,0.3,0.03\n", 1, "header", "column 2 is 'depth_nm'"),
    ("header_order", "cycle,mn3_fraction,distance_nm,sigma\n1,5,0.3,0.03\n", 1, "header", "column 2 is 'mn3_fraction'"),
    ("header_columns", "cycle,distance_nm,mn3_fraction\n1,5,0.3\n", 1, "header", "has 3 columns"),
    ("no_rows", HEAD + "# end\n\n", 2, "header", "no data rows"),
    ("few_fields", HEAD + "1,5.0,0.3,0.03\n1,5.0,0.3\n", 4, "sigma", "missing (the row has 3 fields)"),
    ("one_field", HEAD + "1\n", 3, "distance_nm", "missing (the row has 1 field)"),
    ("many_fields", HEAD + "1,5.0,0.3,0.03,7\n", 3, "header", "the row has 5 fields"),
    ("trailing_comma", HEAD + "1,5.0,0.3,0.03,\n", 3, "header", "the row has 5 fields"),
    ("text_distance", HEAD + "1,abc,0.3,0.03\n", 3, "distance_nm", "'abc' is not a number"),
    ("text_cycle", HEAD + "one,5,0.3,0.03\n", 3, "cycle", "'one' is not a number"),
    ("empty_mn3", HEAD + "1,5, ,0.03\n", 3, "mn3_fraction", "empty"),
    ("nan_sigma", HEAD + "1,5,0.3,nan\n", 3, "sigma", "'nan' is not finite"),
    ("inf_distance", HEAD + "1,inf,0.3,0.1\n", 3, "distance_nm", "'inf' is not finite"),
    ("frac_cycle", HEAD + "1.5,5,0.3,0.03\n", 3, "cycle", "1.5 is not a non-negative integer"),
    ("neg_cycle", HEAD + "-1,5,0.3,0.03\n", 3, "cycle", "-1 is not a non-negative integer"),
    ("neg_distance", HEAD + "1,5,0.3,0.03\n1,-5,0.3,0.03\n", 4, "distance_nm", "-5 is negative"),
    # Plain decimal only: no hex, no trailing junk (strtod would take 0x1 as 1).
    ("hex_cycle", HEAD + "0x1,5,0.3,0.03\n", 3, "cycle", "'0x1' is not a plain decimal number"),
    ("hex_distance", HEAD + "1,0x5p0,0.3,0.03\n", 3, "distance_nm", "'0x5p0' is not a plain decimal number"),
    ("junk_mn3", HEAD + "1,5,0.3x,0.03\n", 3, "mn3_fraction", "'0.3x' is not a number"),
    ("infinity_mn3", HEAD + "1,5,infinity,0.03\n", 3, "mn3_fraction", "'infinity' is not finite"),
    # A subnormal sigma: 1/sigma^2 overflows, chi2 null.
    ("tiny_sigma", HEAD + "1,5,0.3,1e-320\n", 3, "sigma", "1e-320 is too small"),
    ("small_sigma", HEAD + "1,5,0.3,1e-13\n", 3, "sigma", "expected a standard deviation >= 1e-12"),
    ("neg_sigma", HEAD + "\n1,5,0.3,0.03\n1,5,0.3,-0.1\n", 5, "sigma",
     "-0.1 is not positive; expected a standard deviation >= 1e-12"),
    ("zero_sigma", HEAD + "1,5,0.3,0\n", 3, "sigma", "0 is not positive"),
    # Defects only the result shows.
    ("missing_cycle", HEAD + "1,5,0.3,0.03\n2,5,0.3,0.03\n", 4, "cycle",
     "cycle 2 is not stored in {result} (/lamella has cycles 0, 1, 3); expected one of them "
     "(add it to output.fields_at_cycles)"),
    ("too_deep", HEAD + "1,80.0,0.3,0.03\n1,80.5,0.3,0.03\n", 4, "distance_nm",
     "the model has no particle that deep"),
]


def main():
    ap = oxtest.parser(__doc__, mpiexec=False)
    ap.add_argument("--self-check", action="store_true",
                    help="also run oxvac on a small sphere and compare it with its own lamella")
    args = oxtest.parse_args(ap)
    name = "test_compare_self" if args.self_check else "test_compare"
    return oxtest.main(name, args, self_check if args.self_check else run_checks)


def compare(args, argv, cwd):
    return oxtest.run([args.oxvac, "compare"] + argv, timeout=args.timeout, cwd=cwd)


def parse_text(out):
    """{cycle or 'all': (n, wrms, chi2_red)} from the text table."""
    rows = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) == 4 and (w[0].isdigit() or w[0] == "all") and w[1].isdigit():
            rows[w[0] if w[0] == "all" else int(w[0])] = (int(w[1]), float(w[2]), float(w[3]))
    return rows


def check_json_numbers(check, js, store, points, what):
    """Model values and statistics of a json output against Python's."""
    model = model_values(store, points)
    per, tot, r = statistics(points, model)
    pts = js["points"]
    check(pts["line"] == [5 + i for i in range(len(points))],
          f"{what}: json points.line {pts['line']}; expected the CSV lines 5..")
    bad = [i for i in range(len(points)) if not close(pts["model"][i], model[i])]
    check(not bad, f"{what}: model differs from numpy.interp at points {bad}: "
          f"{[(pts['model'][i], model[i]) for i in bad]}")
    bad = [i for i in range(len(points)) if not close(pts["residual"][i], r[i])]
    check(not bad, f"{what}: residuals differ at points {bad}")
    cy = js["cycles"]
    check(cy["cycle"] == sorted(per), f"{what}: cycles {cy['cycle']}; expected {sorted(per)}")
    for k, c in enumerate(cy["cycle"]):
        e = per.get(c)
        if e is None:
            continue
        ok = cy["n"][k] == e["n"] and all(close(cy[key][k], e[key]) for key in ("wrms", "chi2", "chi2_red"))
        check(ok, f"{what}: cycle {c}: n {cy['n'][k]}, wrms {cy['wrms'][k]!r}, chi2_red "
              f"{cy['chi2_red'][k]!r}; expected {e}")
    a = js["all"]
    check(a["n"] == tot["n"] and all(close(a[key], tot[key]) for key in ("wrms", "chi2", "chi2_red")),
          f"{what}: all {a}; expected {tot}")
    print(f"{what}: {len(points)} points, model max |diff| "
          f"{max(abs(pts['model'][i] - model[i]) for i in range(len(points))):.3g}; all: n {a['n']}, "
          f"wrms {a['wrms']:.6g}, chi2_red {a['chi2_red']:.6g} (python {tot['wrms']:.6g}, "
          f"{tot['chi2_red']:.6g})")
    return per, tot


def run_checks(args, wd, c):
    check = c.check
    result = os.path.join(wd, "result.h5")
    write_result(result)
    meas = os.path.join(wd, "measured.csv")
    write_csv(meas, POINTS)

    # json: every number against Python.
    p = compare(args, ["result.h5", "measured.csv", "--format", "json"], wd)
    if not check(p.returncode == 0, f"compare --format json: exit {p.returncode}", p.args, p.stdout, p.stderr):
        return
    try:
        js = json.loads(p.stdout)
    except ValueError as e:
        check(False, f"--format json output does not parse: {e}", p.args, p.stdout)
        return
    check(js.get("source") == "synthetic test data (tests/test_compare.py)" and js.get("synthetic") is True
          and js.get("geometry") == "lamella" and js.get("group") == "/lamella"
          and js.get("result") == "result.h5" and js.get("measurement") == "measured.csv",
          f"json header fields {({k: js.get(k) for k in ('result', 'measurement', 'source', 'synthetic', 'geometry', 'group')})}")
    per, tot = check_json_numbers(check, js, LAMELLA, POINTS, "lamella")

    # text (the default) agrees with json to its printed precision.
    p = compare(args, ["result.h5", "measured.csv"], wd)
    check(p.returncode == 0, f"compare (text): exit {p.returncode}", p.args, p.stdout, p.stderr)
    rows = parse_text(p.stdout)
    want = {cy: (e["n"], e["wrms"], e["chi2_red"]) for cy, e in per.items()}
    want["all"] = (tot["n"], tot["wrms"], tot["chi2_red"])
    check(set(rows) == set(want) and all(rows[k][0] == want[k][0] and close(rows[k][1], want[k][1], 1e-5)
                                         and close(rows[k][2], want[k][2], 1e-5) for k in want),
          f"text table {rows}; expected {want}", p.args, p.stdout)
    check("result.h5" in p.stdout and "measured.csv" in p.stdout and "synthetic test data" in p.stdout
          and "lamella" in p.stdout, "text header does not name result, measurement, source and geometry",
          p.args, p.stdout)

    # csv agrees with json exactly (%.17g both).
    p = compare(args, ["result.h5", "measured.csv", "--format=csv"], wd)
    check(p.returncode == 0, f"compare --format csv: exit {p.returncode}", p.args, p.stdout, p.stderr)
    check_csv(check, p.stdout, js, "--format csv")

    # -o: the file gets the machine form, stdout the table; no temporary left.
    for fname, fmt in (("out.json", None), ("out.csv", None), ("o.txt", "json")):
        argv = ["result.h5", "measured.csv", "-o", fname] + (["--format", fmt] if fmt else [])
        p = compare(args, argv, wd)
        check(p.returncode == 0 and parse_text(p.stdout) == rows,
              f"compare {' '.join(argv)}: exit {p.returncode}, stdout is not the table", p.args, p.stdout, p.stderr)
        path = os.path.join(wd, fname)
        text = open(path).read() if os.path.isfile(path) else ""
        if fname.endswith(".csv"):
            check_csv(check, text, js, f"-o {fname}")
        else:
            try:
                check(json.loads(text) == js, f"-o {fname}: differs from --format json")
            except ValueError as e:
                check(False, f"-o {fname}: not json: {e}")
    left = [f for f in os.listdir(wd) if "partial" in f]
    check(not left, f"temporary files left: {left}")

    # --geometry 3d reads /profiles (different values, an empty first bin at cycle 1).
    p = compare(args, ["result.h5", "measured.csv", "--geometry", "3d", "--format", "json"], wd)
    if check(p.returncode == 0, f"--geometry 3d: exit {p.returncode}", p.args, p.stdout, p.stderr):
        js3 = json.loads(p.stdout)
        check(js3.get("group") == "/profiles" and js3.get("geometry") == "3d", "--geometry 3d: group/geometry")
        check_json_numbers(check, js3, PROFILES, POINTS, "3d")

    # Errors.
    check_errors(args, wd, c)


def check_csv(check, text, js, what):
    rows = list(csv.reader(io.StringIO(text)))
    if not check(len(rows) >= 2 and rows[0] == ["cycle", "n", "wrms", "chi2", "chi2_red"],
                 f"{what}: header {rows[:1]}; expected cycle,n,wrms,chi2,chi2_red", out=text):
        return
    cy = js["cycles"]
    want = [[str(c), str(cy["n"][k]), cy["wrms"][k], cy["chi2"][k], cy["chi2_red"][k]]
            for k, c in enumerate(cy["cycle"])]
    a = js["all"]
    want.append(["all", str(a["n"]), a["wrms"], a["chi2"], a["chi2_red"]])
    got = [[r[0], r[1]] + [float(x) for x in r[2:]] for r in rows[1:] if len(r) == 5]
    check(got == want and len(rows) == len(want) + 1, f"{what}: rows {got}; expected (json) {want}", out=text)


def check_errors(args, wd, c):
    check = c.check
    bad_dir = os.path.join(wd, "bad")
    os.makedirs(bad_dir, exist_ok=True)
    nok = 0
    for name, content, line, key, sub in BAD:
        fname = f"{name}.csv"
        with open(os.path.join(bad_dir, fname), "w", newline="") as f:
            f.write(content)
        sub = sub.format(result="../result.h5")
        p = compare(args, ["../result.h5", fname, "-o", "never.json"], bad_dir)
        prefix = f"{fname}:{line}: key '{key}': "
        err = p.stderr.strip()
        ok = (p.returncode == 2 and err.startswith(prefix) and sub in err and "; expected" in err
              and "\n" not in err and not any(ord(ch) < 32 or ord(ch) == 127 for ch in err) and not p.stdout and not os.path.exists(os.path.join(bad_dir, "never.json")))
        nok += check(ok, f"bad CSV {name}: exit {p.returncode}, stderr {err!r}; expected exit 2 and "
                     f"{prefix!r}...{sub!r}", p.args)
    print(f"bad CSVs: {nok}/{len(BAD)} exit 2 with FILE:LINE: key '...': ...; expected ...")

    # Noisy measurements are data: a fraction a little below 0 (a fit of reference
    # spectra where the truth is ~0) is accepted silently; one implausible given its
    # sigma is accepted with one warning for the file, naming its first line.
    noisy = [("noisy_ok", HEAD + "1,5,-0.002,0.005\n1,6,1.004,0.005\n", None),
             ("noisy_warn", HEAD + "1,5,0.3,0.03\n1,5,-0.5,0.005\n1,6,1.2,0.01\n", 4)]
    for name, content, warn_line in noisy:
        fname = f"{name}.csv"
        with open(os.path.join(bad_dir, fname), "w", newline="") as f:
            f.write(content)
        p = compare(args, ["../result.h5", fname], bad_dir)
        warns = [ln for ln in p.stderr.splitlines() if "warning" in ln]
        if warn_line is None:
            ok = p.returncode == 0 and not warns
        else:
            ok = (p.returncode == 0 and len(warns) == 1
                  and f"{fname}:{warn_line}: key 'mn3_fraction': -0.5 is more than 3 sigma" in warns[0]
                  and "1 more row" in warns[0])
        check(ok, f"noisy CSV {name}: exit {p.returncode}, warnings {warns}; expected exit 0 and "
              f"{'no warning' if warn_line is None else f'one warning naming line {warn_line}'}",
              p.args, p.stdout, p.stderr)
        print(f"{'ok  ' if ok else 'FAIL'} noisy CSV {name}: exit {p.returncode}, {warns[0] if warns else 'no warning'}")

    # A valid file with CR-only line ends compares like its LF twin.
    fname = "cr_only_ok.csv"
    with open(os.path.join(bad_dir, fname), "w", newline="") as f:
        f.write(HEAD.replace("\n", "\r") + "1,5,0.3,0.03\r1,6,0.2,0.03")
    p = compare(args, ["../result.h5", fname, "--format", "json"], bad_dir)
    check(p.returncode == 0 and json.loads(p.stdout or "{}").get("points", {}).get("line") == [3, 4],
          f"CR-only CSV: exit {p.returncode}, stderr {p.stderr.strip()!r}; expected exit 0 and rows on lines 3 and 4",
          p.args, p.stdout)

    # Missing measurement file.
    p = compare(args, ["result.h5", "nosuch.csv"], wd)
    check(p.returncode == 2 and p.stderr.startswith("nosuch.csv:1: key 'header': cannot open the file")
          and "; expected" in p.stderr, f"missing CSV: exit {p.returncode}, {p.stderr!r}")

    # Result file defects: the message starts with the result's name.
    with open(os.path.join(wd, "text.h5"), "w") as f:
        f.write("not hdf5\n")
    write_result(os.path.join(wd, "nolamella.h5"), with_lamella=False)
    write_result(os.path.join(wd, "noprofiles.h5"), with_profiles=False)
    for res, extra, sub in (("nosuch.h5", [], "cannot open the result file"),
                            ("text.h5", [], "not an HDF5 file"),
                            ("nolamella.h5", [], "no /lamella group"),
                            ("noprofiles.h5", ["--geometry", "3d"], "no /profiles group")):
        p = compare(args, [res, "measured.csv"] + extra, wd)
        check(p.returncode == 2 and p.stderr.startswith(f"{res}: ") and sub in p.stderr and "; expected" in p.stderr,
              f"result {res}: exit {p.returncode}, stderr {p.stderr.strip()!r}; expected exit 2, '{res}: ...{sub}'")
    p = compare(args, ["noprofiles.h5", "measured.csv"], wd)
    check(p.returncode == 0, f"a result without /profiles still compares its lamella: exit {p.returncode}",
          p.args, p.stdout, p.stderr)

    # Usage errors print the usage line.
    for argv in ([], ["result.h5"], ["result.h5", "measured.csv", "--format", "xml"],
                 ["result.h5", "measured.csv", "--geometry", "2d"], ["result.h5", "measured.csv", "--bogus"],
                 ["result.h5", "measured.csv", "extra"], ["result.h5", "measured.csv", "-o"]):
        p = compare(args, argv, wd)
        check(p.returncode == 2 and "usage: oxvac compare RESULT.h5 MEASURED.csv" in p.stderr,
              f"usage error {argv}: exit {p.returncode}, {p.stderr.strip()!r}")
    # -o onto an input: refused, the input left as it was.
    for target, what in (("measured.csv", "measured"), ("result.h5", "result")):
        with open(os.path.join(wd, target), "rb") as f:
            before = f.read()
        p = compare(args, ["result.h5", "measured.csv", "-o", target], wd)
        with open(os.path.join(wd, target), "rb") as f:
            same = f.read() == before
        check(p.returncode == 2 and same and f"option '-o': {target} is the {what} file itself; expected" in p.stderr,
              f"compare -o {target}: exit {p.returncode}, unchanged {same}, {p.stderr.strip()!r}; expected exit 2, input unchanged")
    p = compare(args, ["--help"], wd)
    check(p.returncode == 0 and "usage: oxvac compare" in p.stdout, f"--help: exit {p.returncode}")


# ------------------------------------------------------------------ self check

SPHERE = """# generated by tests/test_compare.py --self-check
grid = { voxel_nm = 10.0; shape = [24, 24, 24]; };
microstructure = { type = "sphere"; radius_nm = 100.0; };
protocol = {
  cycling = { repeat = 2; steps = (
    { type = "cc";   rate_C = 1.0;  until_soc = 1.0; },
    { type = "rest"; duration_min = 10.0; },
    { type = "cc";   rate_C = -1.0; until_soc = 0.0; }
  ); };
};
output = { fields_at_cycles = [1, 2]; checkpoint_every_cycles = 0; };
"""


def self_check(args, wd, c):
    check = c.check
    cfg = os.path.join(wd, "sphere.cfg")
    out = os.path.join(wd, "sphere.h5")
    with open(cfg, "w") as f:
        f.write(SPHERE)
    c.commands.append(oxtest.run_oxvac(args, ["run", cfg, "-o", out, "--quiet"], mpiexec="").args)
    for group, geo in (("lamella", "lamella"), ("profiles", "3d")):
        points = []
        with h5py.File(out, "r") as h:
            if not check(group in h, f"{out} has no /{group}"):
                continue
            for name in sorted(h[group]):
                cyc = int(name[len("cycle_"):])
                g = h[group][name]
                d, m, n = (np.asarray(g[k][...], dtype=float) for k in ("distance_nm", "mn3_fraction", "count"))
                keep = np.nonzero((n > 0) & np.isfinite(m))[0]
                for i in keep[:: max(1, len(keep) // 5)]:
                    points.append((cyc, float(d[i]), float(m[i]), 0.01))
                # Half way between neighbouring non-empty centres: their mean.
                for i, j in zip(keep[:3], keep[1:4]):
                    points.append((cyc, 0.5 * (d[i] + d[j]), 0.5 * (m[i] + m[j]), 0.01))
        if not check(len(points) >= 4 and len({p[0] for p in points}) == 2,
                     f"/{group}: {len(points)} usable points over cycles {sorted({p[0] for p in points})}"):
            continue
        meas = os.path.join(wd, f"own_{group}.csv")
        write_csv(meas, points, head="# synthetic: the run's own profile\n", crlf=False)
        p = compare(args, [out, meas, "--geometry", geo, "--format", "json"], wd)
        if not check(p.returncode == 0, f"compare with own /{group}: exit {p.returncode}", p.args, p.stdout, p.stderr):
            continue
        js = json.loads(p.stdout)
        chi2 = js["all"]["chi2"]
        check(chi2 <= 1e-20 and max(abs(x) for x in js["points"]["residual"]) <= 1e-12,
              f"compare with own /{group}: chi2 {chi2!r}; expected ~0")
        print(f"own /{group}: {len(points)} points at bin centres, cycles {js['cycles']['cycle']}, chi2 {chi2:.3g}")


if __name__ == "__main__":
    sys.exit(main())
