"""A measured Mn3+ depth profile and the model at its points.

The CSV is the one `oxvac compare` reads (docs/compare.md):

    # source: <citation>          (or a first comment saying "synthetic")
    cycle,distance_nm,mn3_fraction,sigma
    1,15.0,0.098,0.01

'#' lines are comments anywhere, blank lines are skipped, spaces around
fields, CRLF and a UTF-8 byte-order mark are accepted. The model at a point
follows compare's rule: linear interpolation in distance between the centres
of the non-empty bins (count > 0) of /profiles or /lamella at the point's
cycle, the first bin's value closer to the surface than its centre, the last
bin's value for half a bin beyond its centre (the bin width is the smallest
spacing of the centres; a profile of one bin starts at the surface), and an
error deeper than that. Residual r = (model - measured) / sigma, as compare.
"""
import math

import numpy as np

COLUMNS = ("cycle", "distance_nm", "mn3_fraction", "sigma")
GROUPS = {"lamella": "lamella", "3d": "profiles"}


class MeasuredError(ValueError):
    """An input error in the CSV or in what the result holds for it."""


def read_csv(path):
    """Read a measured CSV. Returns dict(cycle int array, distance_nm,
    mn3_fraction, sigma float arrays, line int array, source str or None,
    synthetic bool, comments [str])."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise MeasuredError(f"{path}:1: key 'header': cannot read the file: {e}") from None
    comments, rows, header = [], [], None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line[1:].strip())
            continue
        fields = [x.strip() for x in line.split(",")]
        if header is None:
            names = [x.lower() for x in fields]
            if tuple(names) != COLUMNS:
                raise MeasuredError(f"{path}:{no}: key 'header': the header is '{line}'; expected "
                                    f"the header {','.join(COLUMNS)} (in this order)")
            header = no
            continue
        if len(fields) != 4:
            raise MeasuredError(f"{path}:{no}: key 'header': the row has {len(fields)} fields; "
                                f"expected 4 fields {','.join(COLUMNS)}")
        vals = []
        for name, x in zip(COLUMNS, fields):
            try:
                v = float(x)
            except ValueError:
                raise MeasuredError(f"{path}:{no}: key '{name}': '{x}' is not a number") from None
            if not math.isfinite(v):
                raise MeasuredError(f"{path}:{no}: key '{name}': {x} is not finite")
            vals.append(v)
        c, d, y, s = vals
        if c < 0 or c != int(c):
            raise MeasuredError(f"{path}:{no}: key 'cycle': {fields[0]} is not a non-negative integer")
        if d < 0:
            raise MeasuredError(f"{path}:{no}: key 'distance_nm': {fields[1]} is negative; expected >= 0")
        if not 0.0 <= y <= 1.0:
            raise MeasuredError(f"{path}:{no}: key 'mn3_fraction': {fields[2]} is outside [0, 1]")
        if s <= 0:
            raise MeasuredError(f"{path}:{no}: key 'sigma': {fields[3]} is not positive; "
                                "expected a standard deviation > 0")
        rows.append((int(c), d, y, s, no))
    if header is None:
        raise MeasuredError(f"{path}:1: key 'header': no header {','.join(COLUMNS)}")
    if not rows:
        raise MeasuredError(f"{path}:{header}: key 'header': no data rows after the header")
    source = next((c.split(":", 1)[1].strip() for c in comments if c.lower().startswith("source:")), None)
    a = np.array([r[:4] for r in rows], dtype=float)
    return {
        "cycle": a[:, 0].astype(int), "distance_nm": a[:, 1], "mn3_fraction": a[:, 2], "sigma": a[:, 3],
        "line": np.array([r[4] for r in rows]), "source": source, "comments": comments,
        "synthetic": bool(comments) and "synthetic" in comments[0].lower(),
    }


def nonempty(profile):
    """(distance_nm, mn3_fraction, vacancy_fraction, count) of the bins with count > 0."""
    ok = np.asarray(profile["count"]) > 0
    return tuple(np.asarray(profile[k])[ok] for k in ("distance_nm", "mn3_fraction", "vacancy_fraction", "count"))


def model_at(profile, distance_nm, key="mn3_fraction"):
    """The model at depths distance_nm (array), compare's rule. Raises
    MeasuredError for a point deeper than the profile's last non-empty bin
    centre plus half a bin (the message names the limit)."""
    ok = np.asarray(profile["count"]) > 0
    x = np.asarray(profile["distance_nm"], dtype=float)[ok]
    v = np.asarray(profile[key], dtype=float)[ok]
    if x.size == 0:
        raise MeasuredError("the profile has no non-empty bin")
    half = 0.5 * float(np.min(np.diff(x))) if x.size > 1 else float(x[0])
    d = np.asarray(distance_nm, dtype=float)
    deep = d > x[-1] + half
    if deep.any():
        i = int(np.nonzero(deep)[0][0])
        raise MeasuredError(f"{d[i]:g} nm is deeper than the model's profile (last non-empty bin "
                            f"centre {x[-1]:g} nm, so at most {x[-1] + half:g} nm)")
    return np.interp(d, x, v)


def evaluate(res, meas, geometry="lamella", csv_path="measured.csv"):
    """Model, residual and per-cycle statistics for a measured table.

    Returns dict(group, model, residual [per point, file order], cycles
    {cycle: dict(n, wrms, chi2, chi2_red, index)}) and 'all' the same over
    every point. Raises MeasuredError naming the CSV line for an unstored
    cycle or a point deeper than the model's profile."""
    group = GROUPS[geometry]
    stored = res.stored_cycles(group)
    if not stored:
        raise MeasuredError(f"{res.path}: no /{group} in the result")
    model = np.empty(meas["cycle"].size)
    for c in np.unique(meas["cycle"]):
        idx = np.nonzero(meas["cycle"] == c)[0]
        if int(c) not in stored:
            raise MeasuredError(f"{csv_path}:{meas['line'][idx[0]]}: key 'cycle': cycle {c} is not stored in "
                                f"{res.path} (/{group} has cycles {', '.join(map(str, stored))}); expected one "
                                "of them (add it to output.fields_at_cycles)")
        prof = res.stored_profile(group, int(c))
        for i in idx:
            try:
                model[i] = model_at(prof, meas["distance_nm"][i:i + 1])[0]
            except MeasuredError as e:
                raise MeasuredError(f"{csv_path}:{meas['line'][i]}: key 'distance_nm': {e} at cycle {c} in "
                                    f"{res.path}: the model has no particle that deep") from None
    y, s = meas["mn3_fraction"], meas["sigma"]
    r = (model - y) / s

    def stats(idx):
        w = 1.0 / s[idx] ** 2
        chi2 = float(np.sum(r[idx] ** 2))
        return {"n": int(idx.size), "chi2": chi2, "chi2_red": chi2 / idx.size,
                "wrms": float(np.sqrt(np.sum(w * (model[idx] - y[idx]) ** 2) / np.sum(w))), "index": idx}

    cycles = {int(c): stats(np.nonzero(meas["cycle"] == c)[0]) for c in np.unique(meas["cycle"])}
    return {"group": group, "model": model, "residual": r, "cycles": cycles,
            "all": stats(np.arange(r.size))}
