"""Figures of oxvac results and sweeps (matplotlib, Agg backend).

    python3 -m oxvac.plot SUBCOMMAND RESULT.h5 [-o FILE.png|.pdf]   (or: oxvac-plot ...)

Subcommands loss, profiles, lamella, slice, depth, measured (oxvac.plot.figures)
and sweep (oxvac.plot.sweep, a sweep's summary.csv). The figure functions
return matplotlib Figures; oxvac.plot.style.save() writes 300 dpi PNG or PDF.
The names below are imported on first use, so that oxvac.plot.sweep needs
only the standard library until it plots.
"""
_FIGURES = ("depth_figure", "lamella_figure", "loss_figure", "measured_figure", "profiles_figure",
            "section", "slab_average", "slice_figure")
_STYLE = ("DPI", "PlotError", "save")
__all__ = list(_FIGURES + _STYLE)


def __getattr__(name):
    if name in _FIGURES:
        from . import figures
        return getattr(figures, name)
    if name in _STYLE:
        from . import style
        return getattr(style, name)
    raise AttributeError(f"module 'oxvac.plot' has no attribute {name!r}")
