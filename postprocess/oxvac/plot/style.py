"""Shared look of the oxvac figures: sizes, labels, saving, scale bars.

Figures are matplotlib Figure objects (Agg canvas, no pyplot state), saved at
300 dpi as PNG or PDF by the extension of the file name.
"""
import math
import os

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

DPI = 300
FIGSIZE = (6.0, 4.0)          # inches; 1800 x 1200 pixels at DPI
EXTENSIONS = (".png", ".pdf")
ELECTROLYTE = "0.82"          # grey of electrolyte / empty pixels in images

LOSS = "oxygen loss (at.%)"
SOC = "state of charge"
MN3 = "Mn³⁺ fraction of Mn"
VACANCY = "vacancy fraction (of O sites)"
DIST_3D = "distance from the primary's own surface (nm)"
DIST_LAMELLA = "distance from the particle edge in the lamella (nm)"
DEPTH = "primary centroid depth below its secondary's envelope (µm)"
TIME = "time (h)"
CYCLE = "cycle"

QUANTITY_LABEL = {"mn3": MN3, "vacancy": VACANCY}
DIST_LABEL = {"3d": DIST_3D, "lamella": DIST_LAMELLA}


class PlotError(ValueError):
    """A usage or data error (the command line exits 2 with its message)."""


def new_figure(figsize=FIGSIZE):
    return Figure(figsize=figsize, layout="constrained")


def check_output(path):
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise PlotError(f"-o {path}: expected a .png or .pdf file name")
    return ext


def save(fig, path):
    """Write fig to path (.png or .pdf, 300 dpi); returns path."""
    check_output(path)
    fig.savefig(path, dpi=DPI)
    return path


def default_output(source, name, ext=".png"):
    """RESULT.h5 -> RESULT_<name>.png beside it."""
    base = os.path.splitext(source)[0] if source.lower().endswith((".h5", ".hdf5", ".csv")) else source
    return f"{base}_{name}{ext}"


def secondary_label(sid, res=None):
    """'secondary 2 (r = 0.6 µm)' (the radius where the config of a generated
    microstructure gives it), 'no secondary' for id 0."""
    if sid == 0:
        return "no secondary"
    secs = res.secondaries() if res is not None and res.microstructure_type == "generated" else []
    if 1 <= sid <= len(secs):
        return f"secondary {sid} (r = {secs[sid - 1][1]:g} µm)"
    return f"secondary {sid}"


def secondary_color(sid, ids):
    """A fixed colour per secondary id among ids (C0, C1, ...); grey for 0."""
    if sid == 0:
        return "0.45"
    pos = [i for i in ids if i > 0].index(sid)
    return f"C{pos % 10}"


def nice_length(span):
    """A round length (1, 2 or 5 x 10^k) near a fifth of span."""
    target = span / 5.0
    if not target > 0:
        return span
    k = math.floor(math.log10(target))
    best = None
    for m in (1.0, 2.0, 5.0, 10.0):
        v = m * 10.0 ** k
        if v <= span * 0.4 and (best is None or abs(math.log(v / target)) < abs(math.log(best / target))):
            best = v
    return best or 10.0 ** k


def length_label(um):
    """'200 nm' below 1 µm, else '1 µm', '2.5 µm'."""
    if um < 1.0:
        return f"{um * 1000:g} nm"
    return f"{um:g} µm"


def scale_bar(ax, span_um, loc="lower right"):
    """A scale bar on an image axes whose data units are µm; returns its length (µm)."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    L = nice_length(span_um)
    bar = AnchoredSizeBar(ax.transData, L, length_label(L), loc, pad=0.3, borderpad=0.4, sep=3,
                          frameon=True, size_vertical=0, color="black", fontproperties={"size": 7})
    bar.patch.set_alpha(0.75)
    bar.patch.set_edgecolor("none")
    bar.set_gid("scale_bar")
    ax.add_artist(bar)
    return L
