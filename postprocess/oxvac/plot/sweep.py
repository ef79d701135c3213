"""Plot one column of an `oxvac sweep --collect` summary.csv against a swept parameter.

usage: python3 -m oxvac.plot sweep SUMMARY.csv --x PARAM [--by PARAM2] [--y COLUMN]
                                   [--logx] [--logy] [-o FILE.png|FILE.pdf] [--title TEXT]

summary.csv: a header row, then one row per sweep point. Columns: `index`,
one column per swept parameter named by its config path (numbers, or a string
in double quotes), `status`, `wall_s`, `cycles`, `oxygen_loss_pct`,
`loss_pct_cycle_N`..., `secondary_S_loss_pct_cycle_N`...,
`exterior_loss_pct_cycle_N`..., `interior_loss_pct_cycle_N`..., optionally
`chi2_red` and `wrms`, and last `error`. An empty cell is no value.

COLUMN (default oxygen_loss_pct) is drawn against PARAM, one marker+line per
distinct value of PARAM2 (sorted by x). Points without a value for COLUMN
(failed, pending, ...) are skipped; their count goes to stderr and to a small
note in the figure's corner, and failed points are marked with a grey x on the
bottom axis. PARAM and PARAM2 are a swept parameter's full path or any unique
suffix of it (`radius_um`). Figures are 300 dpi PNG or PDF, by extension.

Functions: read_summary(path), swept_parameters(columns),
resolve_parameter(swept, name), axis_label(column), plot_sweep(rows, x, y,
by=None, ...), main(argv). Only the standard library is needed up to the
plotting itself; matplotlib (Agg backend) is imported by plot_sweep.

Exit status: 0 written; 2 usage or data errors (unknown or ambiguous
parameter, unknown column, non-numeric x, unreadable summary); 1 nothing to
plot or the figure could not be written.
"""
import argparse
import math
import os
import re
import sys

PROG = "oxvac-plot sweep"
DEFAULT_Y = "oxygen_loss_pct"
FIGSIZE = (6.0, 4.0)      # inches; 1800 x 1200 pixels at DPI
DPI = 300
FAILED_COLOR = "0.5"

EXAMPLE = """\
example:
  PYTHONPATH=postprocess python3 -m oxvac.plot sweep runs/sweep1/summary.csv \\
      --x radius_um --by primary_diameter_nm --y loss_pct_cycle_100 -o loss.png

PARAM and PARAM2 are a swept parameter's config path (the columns between
`index` and `status`, e.g. microstructure.secondaries.[0].radius_um) or any
unique suffix of it. Without -o the figure is written beside SUMMARY as
SUMMARY_<COLUMN>_vs_<last part of PARAM>.png.
"""


class SweepPlotError(ValueError):
    """A usage or data error: main() prints it and exits 2."""


# --------------------------------------------------------------------------
# reading summary.csv

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)",
                       re.IGNORECASE)


def _convert(text, quoted):
    """A cell's value: quoted -> str as written; unquoted: '' -> None, an
    integer -> int, a number -> float, anything else (status) -> str."""
    if quoted:
        return text
    text = text.strip()
    if text == "":
        return None
    if _INT_RE.fullmatch(text):
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    return text


def _records(text, path):
    """Split CSV text into records [(line, [(text, quoted), ...])]. Fields in
    double quotes may hold commas, newlines and "" for a quote; spaces around
    a field are ignored; blank lines and lines starting with '#' are skipped."""
    records = []
    fields = []
    buf = []
    quoted = False      # the current field was opened by a quote
    closed = False      # ... and its closing quote has been read
    in_q = False
    line = 1
    start = 1
    i, n = 0, len(text)

    def end_field():
        nonlocal buf, quoted, closed
        fields.append(("".join(buf), quoted))
        buf, quoted, closed = [], False, False

    def end_record():
        nonlocal fields, start
        end_field()
        blank = len(fields) == 1 and not fields[0][1] and not fields[0][0].strip()
        comment = not fields[0][1] and fields[0][0].lstrip().startswith("#")
        if not blank and not comment:
            records.append((start, fields))
        fields = []
        start = line

    while i < n:
        c = text[i]
        if in_q:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    buf.append('"')
                    i += 2
                    continue
                in_q, closed = False, True
            else:
                if c == "\n":
                    line += 1
                buf.append(c)
            i += 1
            continue
        if c == ",":
            end_field()
        elif c in "\r\n":
            if c == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
            line += 1
            end_record()
        elif c == '"':
            if quoted or "".join(buf).strip():
                raise SweepPlotError(f"{path}:{line}: unexpected '\"' inside a field "
                                     "(a quoted field must start with the quote)")
            buf, quoted, in_q = [], True, True
        elif closed:
            if not c.isspace():
                raise SweepPlotError(f"{path}:{line}: text after the closing quote of a field")
        else:
            buf.append(c)
        i += 1
    if in_q:
        raise SweepPlotError(f"{path}:{start}: quoted field not closed before the end of the file")
    if buf or fields or quoted:
        end_record()
    return records


def read_summary(path):
    """Read an `oxvac sweep --collect` summary.csv.

    Returns (columns, rows): the header's column names in order, and one dict
    per sweep point {column: value} with value None for an empty cell, int or
    float for an unquoted number, str for a quoted cell or other text (status).
    Raises SweepPlotError (a ValueError) for an unreadable or malformed file."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SweepPlotError(f"{path}: cannot read: {e}") from None
    records = _records(text, path)
    if not records:
        raise SweepPlotError(f"{path}: empty file; expected a header row starting with 'index'")
    hline, header = records[0]
    columns = [t.strip() if not q else t for t, q in header]
    for req in ("index", "status"):
        if req not in columns:
            raise SweepPlotError(f"{path}:{hline}: header has no '{req}' column; expected "
                                 "index, PARAM..., status, wall_s, cycles, oxygen_loss_pct, ...")
    seen = set()
    for name in columns:
        if not name:
            raise SweepPlotError(f"{path}:{hline}: empty column name in the header")
        if name in seen:
            raise SweepPlotError(f"{path}:{hline}: column '{name}' appears twice in the header")
        seen.add(name)
    rows = []
    for line, fields in records[1:]:
        if len(fields) > len(columns):
            raise SweepPlotError(f"{path}:{line}: {len(fields)} fields; the header has "
                                 f"{len(columns)} columns")
        values = [_convert(t, q) for t, q in fields]
        values += [None] * (len(columns) - len(values))
        rows.append(dict(zip(columns, values)))
    return columns, rows


def swept_parameters(columns):
    """The swept parameters: the columns between `index` and `status`."""
    columns = list(columns)
    try:
        i, j = columns.index("index"), columns.index("status")
    except ValueError:
        raise SweepPlotError("the columns have no 'index' and 'status'; expected a summary.csv "
                             "of oxvac sweep") from None
    return columns[i + 1:j]


# --------------------------------------------------------------------------
# names and labels

def _listing(names):
    return "\n".join("  " + s for s in names) if names else "  (none)"


def resolve_parameter(swept, name, what="parameter"):
    """The swept parameter that `name` denotes: the full path, else the one
    path that ends with '.' + name, else the one path that ends with name.
    Raises SweepPlotError naming the swept parameters when none or several
    match."""
    swept = list(swept)
    if name in swept:
        return name
    for tier in ([p for p in swept if p.endswith("." + name)],
                 [p for p in swept if p.endswith(name)]):
        if len(tier) == 1:
            return tier[0]
        if len(tier) > 1:
            raise SweepPlotError(f"{what} '{name}' is ambiguous: it matches "
                                 f"{', '.join(tier)}; give more of the path. "
                                 f"The swept parameters are:\n{_listing(swept)}")
    raise SweepPlotError(f"{what} '{name}' is not a swept parameter. "
                         f"The swept parameters are:\n{_listing(swept)}")


def short_name(path, swept=()):
    """The shortest '.'-separated tail of path that no other swept parameter
    ends with (for legends): 'radius_um', or '[1].radius_um' if need be."""
    parts = path.split(".")
    others = [p for p in swept if p != path]
    for k in range(1, len(parts) + 1):
        tail = ".".join(parts[-k:])
        if parts[-k].startswith("[") and k < len(parts):
            continue            # never a bare index: '[0]' -> 'radii.[0]'
        if not any(p == tail or p.endswith("." + tail) for p in others):
            return tail
    return path


def _last_component(path):
    """The last path component, an index joined to its list: 'a.rates.[2]' -> 'rates[2]'."""
    parts = [p for p in path.split(".") if p]
    if not parts:
        return path
    if parts[-1].startswith("[") and len(parts) > 1:
        return parts[-2] + parts[-1]
    return parts[-1]


# unit suffixes of a name, longest first where one ends another
_UNITS = (
    ("_cm2_s", "cm²/s"), ("_m2_s", "m²/s"), ("_um2", "µm²"), ("_nm2", "nm²"),
    ("_um", "µm"), ("_nm", "nm"), ("_mm", "mm"), ("_cm", "cm"),
    ("_degC", "°C"), ("_K", "K"), ("_eV", "eV"), ("_mV", "mV"), ("_V", "V"),
    ("_mA_g", "mA/g"), ("_min", "min"), ("_h", "h"), ("_s", "s"),
)

_SPECIAL = {
    "index": "sweep point index",
    "wall_s": "wall time (s)",
    "cycles": "last cycle reached",
    "oxygen_loss_pct": "oxygen loss (at.%)",
    "chi2_red": "reduced χ²",
    "wrms": "weighted RMS residual",
}


def axis_label(column):
    """An axis label for a column: the last path component with underscores
    as spaces and the unit suffix as '(unit)': 'radius (µm)', 'primary
    diameter (nm)', 'diffusivity scale', 'oxygen loss at cycle 5 (at.%)'."""
    if column in _SPECIAL:
        return _SPECIAL[column]
    m = re.fullmatch(r"loss_pct_cycle_(\d+)", column)
    if m:
        return f"oxygen loss at cycle {m.group(1)} (at.%)"
    m = re.fullmatch(r"secondary_(\d+)_loss_pct_cycle_(\d+)", column)
    if m:
        return f"oxygen loss of secondary {m.group(1)} at cycle {m.group(2)} (at.%)"
    m = re.fullmatch(r"(exterior|interior)_loss_pct_cycle_(\d+)", column)
    if m:
        return f"{m.group(1)} oxygen loss at cycle {m.group(2)} (at.%)"
    comp = _last_component(column)
    if comp.endswith("_pct") and len(comp) > 4:
        name = comp[:-4].replace("_", " ")
        return f"{name} ({'at.%' if 'loss' in name else '%'})"
    for suffix, unit in _UNITS:
        if comp.endswith(suffix) and len(comp) > len(suffix):
            return f"{comp[:-len(suffix)].replace('_', ' ')} ({unit})"
    return comp.replace("_", " ")


def default_output(summary_path, y, x):
    """SUMMARY without .csv + '_<y>_vs_<last component of x>.png'."""
    base = summary_path[:-4] if summary_path.lower().endswith(".csv") else summary_path
    xs = re.sub(r"[^A-Za-z0-9_.-]+", "", _last_component(x)) or "x"
    return f"{base}_{y}_vs_{xs}.png"


# --------------------------------------------------------------------------
# plotting

def _number(v):
    """v as a float, or None for no value; a str counts if it reads as a
    number (rows from csv.DictReader); raises TypeError for other text."""
    if v is None or isinstance(v, bool):
        return None if v is None else float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            return None
        if _FLOAT_RE.fullmatch(s):
            return float(s)
    raise TypeError(v)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:g}"
    return "(none)" if v is None else str(v)


def _group_key(v):
    """Sort order of the --by values: numbers, then text, then no value."""
    try:
        f = _number(v)
    except TypeError:
        return (1, 0.0, str(v))
    return (2, 0.0, "") if f is None else (0, f, "")


def plot_sweep(rows, x, y=DEFAULT_Y, by=None, logx=False, logy=False, title=None,
               columns=None, figsize=FIGSIZE):
    """A matplotlib Figure of column y against swept parameter x, one
    marker+line per distinct value of by (sorted by x).

    x and by are full paths or unique suffixes of the swept parameters (the
    columns between 'index' and 'status' of columns, by default the keys of
    rows[0]); y is a column name. Points without a finite value of y are
    skipped; failed ones are marked with a grey x on the bottom axis. The
    Figure's attribute `sweep_info` is a dict: x, y, by (full names), points,
    plotted, skipped, skipped_by_status {status: count}, lines, warnings.
    Raises SweepPlotError for an unknown name or a non-numeric x."""
    rows = list(rows)
    if columns is None:
        columns = list(rows[0].keys()) if rows else []
    columns = list(columns)
    swept = swept_parameters(columns)
    x = resolve_parameter(swept, x, "--x")
    if by is not None:
        by = resolve_parameter(swept, by, "--by")
        if by == x:
            raise SweepPlotError(f"--by is the same parameter as --x ({x})")
    if y not in columns or y in ("status", "error"):
        values = [c for c in columns if c not in ("status", "error")]
        raise SweepPlotError(f"--y '{y}' is not a column of the summary. The columns are:\n"
                             f"{_listing(values)}")

    skipped_by_status = {}
    failed_x = []
    groups = {}
    for r in rows:
        xv_raw = r.get(x)
        try:
            xv = _number(xv_raw)
        except TypeError:
            raise SweepPlotError(f"--x {x} is not numeric: point {_fmt(r.get('index'))} "
                                 f"has {xv_raw!r}; choose a numeric parameter for --x "
                                 "(a text parameter can go to --by)") from None
        try:
            yv = _number(r.get(y))
        except TypeError:
            yv = None
        status = r.get("status") or "(no status)"
        if xv is None or yv is None or not math.isfinite(yv):
            skipped_by_status[status] = skipped_by_status.get(status, 0) + 1
            if status == "failed" and xv is not None:
                failed_x.append(xv)
            continue
        g = r.get(by) if by is not None else None
        if isinstance(g, float) and g.is_integer():
            g = int(g) if abs(g) < 2**53 else g
        groups.setdefault(g, []).append((xv, yv, r))
    skipped = sum(skipped_by_status.values())
    plotted = len(rows) - skipped

    warnings = []
    others = [p for p in swept if p not in (x, by)]
    for g, pts in groups.items():
        xs = [p[0] for p in pts]
        if len(set(xs)) < len(xs):
            varying = [p for p in others if len({repr(q[2].get(p)) for q in pts}) > 1]
            where = f" (line {short_name(by, swept)} = {_fmt(g)})" if by else ""
            warnings.append(f"several points share an x value{where}"
                            + (f"; {', '.join(varying)} also varies: give it to --by"
                               if varying else ""))
            break

    from matplotlib.figure import Figure   # Agg canvas; no pyplot state

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    lines = []
    keys = sorted(groups, key=_group_key)
    by_label = short_name(by, swept) if by else None
    for i, g in enumerate(keys):
        pts = sorted(groups[g], key=lambda p: p[0])
        label = f"{by_label} = {_fmt(g)}" if by else None
        (ln,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], "-o", ms=4, lw=1.2,
                        color=f"C{i % 10}", label=label)
        ln.set_gid("sweep")
        lines.append(ln)
    if failed_x:
        (ln,) = ax.plot(sorted(failed_x), [0.0] * len(failed_x), "x", ms=7, mew=1.5,
                        color=FAILED_COLOR, transform=ax.get_xaxis_transform(),
                        clip_on=False, zorder=5, label=f"failed ({len(failed_x)})")
        ln.set_gid("failed")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    ax.grid(alpha=0.3)
    if by or failed_x:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    if skipped:
        fig.text(0.005, 0.005, f"{skipped} of {len(rows)} points skipped (no {y})",
                 ha="left", va="bottom", fontsize=6.5, color=FAILED_COLOR)
    fig.sweep_info = {
        "x": x, "y": y, "by": by, "points": len(rows), "plotted": plotted,
        "skipped": skipped, "skipped_by_status": skipped_by_status,
        "lines": lines, "warnings": warnings,
    }
    return fig


# --------------------------------------------------------------------------
# command line

def _parser(prog=PROG):
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Plot a column of an `oxvac sweep --collect` summary.csv against a "
                    "swept parameter, one line per value of a second parameter.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("summary", metavar="SUMMARY.csv", help="the sweep's summary.csv")
    ap.add_argument("--x", required=True, metavar="PARAM",
                    help="swept parameter on the x axis (full path or unique suffix)")
    ap.add_argument("--by", metavar="PARAM2",
                    help="swept parameter: one line per distinct value")
    ap.add_argument("--y", default=DEFAULT_Y, metavar="COLUMN",
                    help=f"column on the y axis (default {DEFAULT_Y}; e.g. loss_pct_cycle_N, "
                         "exterior_loss_pct_cycle_N, chi2_red, wall_s)")
    ap.add_argument("--logx", action="store_true", help="logarithmic x axis")
    ap.add_argument("--logy", action="store_true", help="logarithmic y axis")
    ap.add_argument("-o", "--output", metavar="FILE",
                    help="FILE.png or FILE.pdf, 300 dpi (default: SUMMARY_<COLUMN>_vs_<PARAM>.png)")
    ap.add_argument("--title", metavar="TEXT", help="figure title (default none)")
    return ap


def main(argv=None, prog=PROG):
    """The command line; returns the exit status (argparse exits 2 itself).
    prog: the name in usage and messages."""
    PROG = prog  # noqa: N806
    args = _parser(prog).parse_args(argv)
    out = args.output
    try:
        if out is not None and os.path.splitext(out)[1].lower() not in (".png", ".pdf"):
            raise SweepPlotError(f"-o {out}: expected a .png or .pdf file name")
        columns, rows = read_summary(args.summary)
        if not rows:
            print(f"{PROG}: {args.summary}: no sweep points to plot", file=sys.stderr)
            return 1
        fig = plot_sweep(rows, args.x, args.y, by=args.by, logx=args.logx, logy=args.logy,
                         title=args.title, columns=columns)
    except SweepPlotError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    info = fig.sweep_info
    for w in info["warnings"]:
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    if info["skipped"]:
        why = ", ".join(f"{s}: {k}" for s, k in sorted(info["skipped_by_status"].items()))
        print(f"{PROG}: {info['skipped']} of {info['points']} points skipped without a value "
              f"for {info['y']} ({why})", file=sys.stderr)
    if not info["plotted"]:
        print(f"{PROG}: no point has a value for {info['y']}; nothing written", file=sys.stderr)
        return 1
    if out is None:
        out = default_output(args.summary, info["y"], info["x"])
    try:
        fig.savefig(out, dpi=DPI)
    except (OSError, ValueError) as e:
        print(f"{PROG}: cannot write {out}: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
