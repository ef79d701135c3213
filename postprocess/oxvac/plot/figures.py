"""Figures of any oxvac result (the `python3 -m oxvac.plot` subcommands).

Every function takes an open oxvac.result.Result and returns a matplotlib
Figure (Agg, no pyplot state); oxvac.plot.style.save() writes it as a 300 dpi
PNG or PDF. Plotted arrays are kept in `fig.oxvac_data` (a dict) and the
artists carry gids ("total", "secondary:S", "profile:QUANTITY:C", "model:C",
"data:C", "residual:C", ...) so that tests and scripts can check what was drawn.

  loss_figure      oxygen loss (total, per secondary) and SOC vs cycle or time
  profiles_figure  stored /profiles or /lamella: Mn3+ and/or vacancy fraction vs distance
  lamella_figure   stored lamella maps, else the field averaged through the lamella slab
  slice_figure     a section through the 3D field, electrolyte masked
  depth_figure     per-primary loss vs centroid depth below its secondary's envelope
  measured_figure  model vs a measured Mn3+ CSV, with residuals

Nothing is recomputed that the result stores: profiles come from /profiles and
/lamella as written; a vacancy fraction is converted to Mn3+ only where no
stored Mn3+ exists (sections and slab averages of the field), and then by
oxvac.metrics.mn3_fraction, the package's one conversion.
"""
import re

import matplotlib
import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import metrics as M
from .. import measured as MS
from . import style as S
from .style import PlotError

AXES = "xyz"


# ---------------------------------------------------------------- helpers
def _cycles(requested, available, what, default="last"):
    """The cycles to plot: requested (list of ints, or None for the default:
    'last' = the last available, 'nonzero' = all but cycle 0 if there are
    others), each checked against `available`."""
    available = list(available)
    if not available:
        raise PlotError(f"no stored cycles in {what}")
    if requested is None:
        if default == "last":
            return [available[-1]]
        nz = [c for c in available if c != 0]
        return nz or available
    bad = [c for c in requested if c not in available]
    if bad:
        raise PlotError(f"cycle {bad[0]} is not stored in {what}; stored cycles: "
                        f"{', '.join(map(str, available))}")
    return list(requested)


def _cycle_coordinate(ts):
    """x of every time-series row on a continuous cycle axis: cycle c >= 1
    spans (p, c] with p the previous cycle present (end of cycle c at x = c);
    the formation block (cycle 0) spans [-1, 0] when it takes any time."""
    cyc, t = ts["cycle"].astype(int), ts["time_s"].astype(float)
    x = np.zeros(t.size)
    present = sorted(set(cyc.tolist()))
    m0 = cyc == 0
    prev_c, prev_end = 0, (float(t[m0].max()) if m0.any() else 0.0)
    if m0.any() and prev_end > 0:
        x[m0] = -1.0 + t[m0] / prev_end
    for c in present:
        if c <= 0:
            continue
        m = cyc == c
        end = float(t[m].max())
        span = end - prev_end
        frac = (t[m] - prev_end) / span if span > 0 else np.ones(m.sum())
        x[m] = prev_c + (c - prev_c) * frac
        prev_c, prev_end = c, end
    return x


def _field_quantity(res, cycle, quantity):
    """The stored 3D field of a cycle: vacancy fraction, or the Mn3+ fraction
    (the stored /fields/.../mn3_fraction, else converted once per voxel)."""
    if quantity == "mn3":
        if res.has_field(cycle, "mn3_fraction"):
            return res.field(cycle, "mn3_fraction")
        return M.result_mn3_fraction(res, res.field(cycle))
    return res.field(cycle)


def _mirror_axes(res, centre_m, axes):
    """For each in-plane axis: 'low' / 'high' when centre lies within a voxel
    of that domain face (a mirror plane through the body), else None."""
    h, n = res.voxel_m, res.shape_xyz
    out = []
    for a in axes:
        if centre_m[a] < h:
            out.append("low")
        elif centre_m[a] > (n[a] - 1) * h:
            out.append("high")
        else:
            out.append(None)
    return out


def _mirror(img, mask, how, axis):
    """Reflect img / mask across a domain face: axis 1 = columns, 0 = rows."""
    if how == "low":
        return (np.concatenate([np.flip(img, axis), img], axis), np.concatenate([np.flip(mask, axis), mask], axis))
    if how == "high":
        return (np.concatenate([img, np.flip(img, axis)], axis), np.concatenate([mask, np.flip(mask, axis)], axis))
    return img, mask


def _extent(n_cols, n_rows, h_um, mirrors):
    """imshow extent (µm) of an image, mirrored parts at negative / beyond."""
    def span(n, how):
        if how == "low":
            return -n / 2 * h_um, n / 2 * h_um
        return 0.0, n * h_um
    x0, x1 = span(n_cols, mirrors[0])
    y0, y1 = span(n_rows, mirrors[1])
    return [x0, x1, y0, y1]


def _image_panels(fig, panels, cbar_label, vmax=None, xlabel="", ylabel=""):
    """panels: [(title, image [rows][cols], solid mask, extent µm)]. One axes per
    panel, shared colour scale from 0, masked pixels grey, a scale bar each."""
    n = len(panels)
    axs = fig.subplots(1, n, squeeze=False)[0]
    vals = [np.asarray(a)[m] for _, a, m, _ in panels]
    vals = np.concatenate([v[np.isfinite(v)] for v in vals]) if vals else np.array([])
    if vmax is None:
        vmax = float(vals.max()) if vals.size and vals.max() > 0 else 1.0
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad(S.ELECTROLYTE)
    im = None
    for ax, (title, a, m, ext) in zip(axs, panels):
        data = np.ma.masked_where(~m | ~np.isfinite(a), a)
        im = ax.imshow(data, origin="lower", extent=ext, cmap=cmap, vmin=0.0, vmax=vmax,
                       interpolation="nearest")
        im.set_gid("image")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(xlabel)
        ax.tick_params(labelsize=7)
        S.scale_bar(ax, ext[1] - ext[0])
    axs[0].set_ylabel(ylabel)
    cb = fig.colorbar(im, ax=list(axs), shrink=0.85)
    cb.set_label(cbar_label)
    return axs, vmax


def _title(fig, title):
    if title:
        fig.suptitle(title, fontsize=10)


# ---------------------------------------------------------------- loss
def loss_figure(res, x="cycle", soc=True, per_secondary=True, ends_only=False, points=None,
                title=None, figsize=S.FIGSIZE):
    """Oxygen loss (at.%) vs cycle or time: the total from /timeseries (every
    row, or only the cycle ends with ends_only), each secondary from
    /secondaries_series at its stored cycles, optional reference points
    [(x, y, label)], and below it the SOC (soc=True).

    On the cycle axis, cycle c >= 1 spans (c - 1, c] (end at x = c) and the
    formation block [-1, 0] (shaded); stored cycle 0 is the initial state
    (t = 0). On the time axis the formation block is shaded too."""
    if x not in ("cycle", "time"):
        raise PlotError(f"--x {x}: expected cycle or time")
    ts = res.timeseries()
    t = ts["time_s"].astype(float)
    xc = _cycle_coordinate(ts)
    xs = xc if x == "cycle" else t / 3600.0
    cyc = ts["cycle"].astype(int)
    loss = ts["oxygen_loss_pct"].astype(float)
    fig = S.new_figure(figsize)
    if soc:
        ax, axs = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.3, 1.0]})
    else:
        ax, axs = fig.subplots(1, 1), None
    data = {"x": x}

    ends = np.array([0] + [np.nonzero(cyc == c)[0][-1] for c in np.unique(cyc)])
    ends = np.unique(ends)
    if ends_only:
        (ln,) = ax.plot(xs[ends], loss[ends], "-o", ms=3, color="k", lw=1.3, label="total")
        data["total"] = (xs[ends], loss[ends])
    else:
        (ln,) = ax.plot(xs, loss, "-", color="k", lw=1.3, label="total")
        data["total"] = (xs, loss)
    ln.set_gid("total")

    data["secondaries"] = {}
    ss = res.secondaries_series() if per_secondary else None
    if ss is not None and "oxygen_loss_pct" in ss:
        T = res.secondaries_table()
        ids = [int(i) for i in (T["id"] if T is not None else range(1, ss["oxygen_loss_pct"].shape[1] + 1))]
        tc = np.array([res.cycle_end_time(int(c)) for c in ss["cycle"]])
        sx = np.interp(tc, t, xc) if x == "cycle" else tc / 3600.0
        for j, sid in enumerate(ids):
            y = ss["oxygen_loss_pct"][:, j]
            ok = np.isfinite(y)
            if not ok.any():
                continue
            (ln,) = ax.plot(sx[ok], y[ok], "--s", ms=3.5, lw=1.0, color=S.secondary_color(sid, ids),
                            label=S.secondary_label(sid, res))
            ln.set_gid(f"secondary:{sid}")
            data["secondaries"][sid] = (sx[ok], y[ok])

    for i, (px, py, lab) in enumerate(points or []):
        ax.plot([px], [py], "o", color="C3", ms=7, mfc="none", mew=1.5, label=lab, gid="reference")
        ax.annotate(f"{py:g}", (px, py), textcoords="offset points", xytext=(6, -12), color="C3", fontsize=8)

    t0 = float(t[cyc == 0].max()) if (cyc == 0).any() else 0.0
    if t0 > 0:
        lo, hi = (-1.0, 0.0) if x == "cycle" else (0.0, t0 / 3600.0)
        for a in (ax, axs) if axs is not None else (ax,):
            a.axvspan(lo, hi, color="0.92", zorder=0, lw=0)
        ax.text(0.5 * (lo + hi), 0.97, "formation", transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize=7, color="0.35")
    ax.set_ylabel(S.LOSS)
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    bottom = ax
    if axs is not None:
        (ln,) = axs.plot(xs, ts["soc"], "-", color="C7", lw=1.0)
        ln.set_gid("soc")
        data["soc"] = (xs, ts["soc"])
        axs.set_ylabel("SOC")
        axs.set_ylim(-0.05, 1.05)
        axs.grid(alpha=0.3)
        bottom = axs
    bottom.set_xlabel(S.CYCLE if x == "cycle" else S.TIME)
    if x == "cycle":
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    _title(fig, title)
    fig.oxvac_data = data
    return fig


# ---------------------------------------------------------------- profiles
def profiles_figure(res, geometry="3d", cycles=None, quantity="both", min_count=100, marks=None,
                    title=None, figsize=None):
    """Stored depth profiles (never recomputed): /profiles (geometry '3d',
    distance from each primary's own surface) or /lamella ('lamella', 2D
    distance from the particle edge in the projected slab), Mn3+ fraction
    and/or vacancy fraction per bin at the chosen cycles (default every
    stored cycle but the initial state). Empty bins (count 0) are left out;
    bins holding fewer than min_count voxels (pixels) get open markers.
    marks: distances (nm) drawn as dashed vertical lines."""
    if geometry not in MS.GROUPS:
        raise PlotError(f"--geometry {geometry}: expected 3d or lamella")
    group = MS.GROUPS[geometry]
    qs = {"both": ["mn3", "vacancy"], "mn3": ["mn3"], "vacancy": ["vacancy"]}.get(quantity)
    if qs is None:
        raise PlotError(f"--quantity {quantity}: expected mn3, vacancy or both")
    stored = res.stored_cycles(group)
    if not stored:
        raise PlotError(f"{res.path} has no /{group} (profiles are written at output.fields_at_cycles)")
    cycles = _cycles(cycles, stored, f"/{group} of {res.path}", default="nonzero")
    fig = S.new_figure(figsize or (S.FIGSIZE[0], 2.6 + 2.0 * (len(qs) - 1)))
    axs = fig.subplots(len(qs), 1, sharex=True, squeeze=False)[:, 0]
    data = {"group": group, "curves": {}}
    unit = "voxels" if geometry == "3d" else "pixels"
    sparse_any = False
    for ax, q in zip(axs, qs):
        key = "mn3_fraction" if q == "mn3" else "vacancy_fraction"
        for i, c in enumerate(cycles):
            p = res.stored_profile(group, c)
            ok = p["count"] > 0
            d, v, n = p["distance_nm"][ok], p[key][ok], p["count"][ok]
            (ln,) = ax.plot(d, v, "-o", ms=3, lw=1.2, color=f"C{i % 10}", label=f"cycle {c}")
            ln.set_gid(f"profile:{q}:{c}")
            data["curves"][(q, c)] = (d, v, n)
            few = n < min_count
            if few.any():
                sparse_any = True
                ax.plot(d[few], v[few], "o", ms=3, color=f"C{i % 10}", mfc="white", gid=f"sparse:{q}:{c}")
        for xm in marks or []:
            ax.axvline(xm, color="gray", ls="--", lw=0.8)
        ax.set_ylabel(S.QUANTITY_LABEL[q])
        ax.set_ylim(0, None)
        ax.set_xlim(0, None)
        ax.grid(alpha=0.3)
    axs[0].legend(fontsize=7, title=(f"open markers: bins of < {min_count} {unit}" if sparse_any else None),
                  title_fontsize=6.5)
    axs[-1].set_xlabel(S.DIST_LABEL[geometry])
    _title(fig, title)
    fig.oxvac_data = data
    return fig


# ---------------------------------------------------------------- sections
def section(res, cycle, axis="z", position_m=None, secondary=None, quantity="vacancy", mirror="auto"):
    """A plane of the 3D field through voxel layer k along `axis`.

    position_m (m along axis) defaults to the centre of `secondary` (default
    the first secondary) from the stored geometry. Returns dict(image [rows]
    [cols], solid mask, cols/rows axis letters, index k, position_m (the
    layer's centre), extent (µm), mirrors)."""
    if axis not in AXES:
        raise PlotError(f"--axis {axis}: expected x, y or z")
    a = AXES.index(axis)
    n, h = res.shape_xyz, res.voxel_m
    centre = res.secondary_centre_m(secondary)
    pos = centre[a] if position_m is None else position_m
    if not -0.5 * h <= pos <= (n[a] + 0.5) * h:
        raise PlotError(f"--position {pos * 1e6:g} µm is outside the domain (0 to {n[a] * h * 1e6:g} µm along {axis})")
    k = int(min(max(np.floor(pos / h), 0), n[a] - 1))
    fld = _field_quantity(res, cycle, quantity)
    lab = res.labels()
    # arrays are [z][y][x]; a plane normal to axis a, rows/cols the other two (x before y before z)
    take = [slice(None)] * 3
    take[2 - a] = k
    img, sol = fld[tuple(take)], lab[tuple(take)] > 0
    cols, rows = [b for b in range(3) if b != a]
    mirrors = _mirror_axes(res, centre, (cols, rows)) if mirror == "auto" else [None, None]
    img, sol = _mirror(img, sol, mirrors[0], 1)
    img, sol = _mirror(img, sol, mirrors[1], 0)
    ext = _extent(img.shape[1], img.shape[0], h * 1e6, mirrors)
    return {"image": img, "solid": sol, "cols": AXES[cols], "rows": AXES[rows], "index": k,
            "position_m": (k + 0.5) * h, "extent": ext, "mirrors": mirrors, "axis": axis}


def slice_figure(res, cycles=None, axis="z", position_m=None, secondary=None, quantity="vacancy",
                 mirror="auto", vmax=None, title=None, figsize=None):
    """Sections through the stored 3D field at the chosen cycles (default the
    last stored), one panel each with a shared colour scale: the plane normal
    to `axis` through `position_m` (default the centre of the first secondary,
    or of `secondary`), electrolyte (labels == 0) grey, a colour bar and a
    scale bar. mirror='auto' reflects the section across a domain face that
    the secondary's centre lies on (faces are mirror planes: an octant is
    shown as the whole section)."""
    if quantity not in ("vacancy", "mn3"):
        raise PlotError(f"--quantity {quantity}: expected vacancy or mn3")
    cycles = _cycles(cycles, res.field_cycles(), f"/fields of {res.path}")
    secs = [section(res, c, axis, position_m, secondary, quantity, mirror) for c in cycles]
    s0 = secs[0]
    where = f"{axis} = {s0['position_m'] * 1e6:.3g} µm"
    panels = [(f"cycle {c}, {where}", s["image"], s["solid"], s["extent"]) for c, s in zip(cycles, secs)]
    fig = S.new_figure(figsize or (2.9 * len(panels) + 1.2, 3.2))
    axs, vmax = _image_panels(fig, panels, S.QUANTITY_LABEL[quantity], vmax,
                              f"{s0['cols']} (µm)", f"{s0['rows']} (µm)")
    _title(fig, title)
    fig.oxvac_data = {"sections": dict(zip(cycles, secs)), "vmax": vmax, "quantity": quantity}
    return fig


def lamella_geometry(res):
    """(axis index, thickness_nm, centre_m (3,)) of the virtual lamella: the
    attributes oxvac stored with /lamella, else the config
    (observables.lamella) through the largest secondary's centre."""
    for c in res.stored_cycles("lamella"):
        at = res.stored_attrs("lamella", c)
        if at and "axis" in at and "centre_m" in at:
            return AXES.index(str(at["axis"]).strip().lower()), float(at["thickness_nm"]), np.asarray(at["centre_m"], float)
    m = re.search(r'lamella\s*=\s*\{[^}]*?axis\s*=\s*"([xyz])"', res.config)
    axis = AXES.index(m.group(1)) if m else 2
    thick = res.config_number("thickness_nm", 80.0)
    secs = res.secondaries()
    if res.microstructure_type == "generated" and secs:
        centre = secs[int(np.argmax([r for _, r in secs]))][0] * 1e-6
    else:
        sid = res.largest_secondary_id()
        centre = res.secondary_centre_m(sid) if sid else 0.5 * np.array(res.shape_xyz) * res.voxel_m
    return axis, thick, centre


def slab_average(res, cycle, quantity="mn3"):
    """The field averaged through the lamella slab along its axis, as oxvac's
    lamella does: voxels weighted by their overlap with the slab and by solid,
    the Mn3+ fraction converted per voxel then averaged. Returns dict(image
    [rows = axis+2][cols = axis+1], solid (pixels with solid in the column),
    thickness_nm (solid thickness per pixel), axis, cols, rows)."""
    a, thick, centre = lamella_geometry(res)
    h, n = res.voxel_m, res.shape_xyz
    ca, t = centre[a] / h, thick * 1e-9 / h
    lo, hi = ca - 0.5 * t, ca + 0.5 * t
    k = np.arange(n[a])
    w = np.clip(np.minimum(k + 1.0, hi) - np.maximum(k.astype(float), lo), 0.0, None)
    u, v = (a + 1) % 3, (a + 2) % 3
    q = _field_quantity(res, cycle, quantity).transpose(2, 1, 0).transpose(a, v, u)   # [a][v][u]
    solid = (res.labels() > 0).transpose(2, 1, 0).transpose(a, v, u)
    ww = w[:, None, None] * solid
    T = ww.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        img = np.where(T > 0, (ww * q).sum(axis=0) / np.where(T > 0, T, 1.0), np.nan)
    return {"image": img, "solid": T > 0, "thickness_nm": T * h * 1e9, "axis": AXES[a], "cols": AXES[u],
            "rows": AXES[v], "centre_m": centre, "slab_nm": thick, "u": u, "v": v}


def stored_lamella_map(res, cycle, quantity="mn3"):
    """A 2D map stored under /lamella/cycle_NNNNNN (any 2D dataset; the one
    naming the quantity preferred), or None. Returns dict(image, solid, name)."""
    key = f"lamella/cycle_{cycle:06d}"
    if key not in res.f:
        return None
    g = res.f[key]
    maps = {k: g[k] for k in g if getattr(g[k], "ndim", 0) == 2}
    if not maps:
        return None
    want = ("mn3",) if quantity == "mn3" else ("vacancy", "vac")
    names = [k for k in maps if any(w in k.lower() for w in want)]
    values = [k for k in names if not any(s in k.lower() for s in ("thick", "label", "count", "mask"))]
    if not values:
        return None
    name = sorted(values, key=len)[0]
    img = maps[name][...].astype(float)
    solid = np.isfinite(img)
    for k in maps:
        if "thick" in k.lower():
            solid &= maps[k][...] > 0
    return {"image": img, "solid": solid, "name": name}


def lamella_figure(res, cycles=None, quantity="mn3", mirror="auto", vmax=None, title=None, figsize=None):
    """The virtual lamella at the chosen cycles (default the last stored): the
    2D maps oxvac stored under /lamella if there are any, else the stored 3D
    field averaged through the lamella slab (slab_average), empty pixels grey,
    with a colour bar and a scale bar."""
    if quantity not in ("vacancy", "mn3"):
        raise PlotError(f"--quantity {quantity}: expected mn3 or vacancy")
    a, thick, centre = lamella_geometry(res)
    u, v = (a + 1) % 3, (a + 2) % 3
    avail = sorted(set(res.stored_cycles("lamella")) | set(res.field_cycles()))
    cycles = _cycles(cycles, avail, f"/lamella or /fields of {res.path}")
    h_um = res.voxel_m * 1e6
    mirrors = _mirror_axes(res, centre, (u, v)) if mirror == "auto" else [None, None]
    panels, data = [], {"maps": {}, "source": {}}
    for c in cycles:
        m = stored_lamella_map(res, c, quantity)
        if m is not None:
            img, sol, src = m["image"], m["solid"], f"/lamella/cycle_{c:06d}/{m['name']}"
        else:
            if not res.has_field(c):
                raise PlotError(f"cycle {c}: no lamella map and no /fields/cycle_{c:06d} to average")
            sa = slab_average(res, c, quantity)
            img, sol, src = sa["image"], sa["solid"], "slab average of /fields"
        data["maps"][c], data["source"][c] = img, src
        img, sol = _mirror(img, sol, mirrors[0], 1)
        img, sol = _mirror(img, sol, mirrors[1], 0)
        ext = _extent(img.shape[1], img.shape[0], h_um, mirrors)
        panels.append((f"cycle {c}, {thick:g} nm slab at {AXES[a]} = {centre[a] * 1e6:.3g} µm", img, sol, ext))
    fig = S.new_figure(figsize or (2.9 * len(panels) + 1.2, 3.2))
    label = S.QUANTITY_LABEL[quantity] + " (slab mean)"
    axs, vmax = _image_panels(fig, panels, label, vmax, f"{AXES[u]} (µm)", f"{AXES[v]} (µm)")
    _title(fig, title)
    data.update(vmax=vmax, axis=AXES[a], thickness_nm=thick, centre_m=centre)
    fig.oxvac_data = data
    return fig


# ---------------------------------------------------------------- depth
def depth_figure(res, cycles=None, binned_um=None, marks=None, title=None, figsize=None):
    """Per-primary oxygen loss (100 x its mean vacancy fraction,
    /particles_series/vacancy_mean) vs the depth of its centroid below its
    secondary's envelope (/particles/depth_m), one colour per secondary, one
    panel per cycle (default the last stored). Primaries without voxels in
    the domain are left out. binned_um: also the volume-weighted mean per
    secondary in depth bins of that width (lines). marks: depths (µm) drawn
    as dashed lines."""
    P = res.particles()
    pc, pv = res.particle_series()
    pc = [int(c) for c in pc]
    cycles = _cycles(cycles, pc, f"/particles_series of {res.path}")
    keep = P["volume_m3"] > 0
    T = {k: val[keep] for k, val in P.items()}
    sids = sorted(set(int(s) for s in T["secondary"]))
    ids_all = res.secondary_ids() or [s for s in sids if s > 0]
    fig = S.new_figure(figsize or (3.4 * len(cycles) + 2.2, 3.6))
    axs = fig.subplots(1, len(cycles), sharey=True, squeeze=False)[0]
    data = {"points": {}, "binned": {}}
    for ax, c in zip(axs, cycles):
        vals = 100.0 * pv[pc.index(c)][keep]
        for sid in sids:
            m = T["secondary"] == sid
            col = S.secondary_color(sid, ids_all) if sid in ids_all or sid == 0 else "0.3"
            d = T["depth_m"][m] * 1e6
            (ln,) = ax.plot(d, vals[m], "o", ms=2.6, alpha=0.75, color=col, mew=0,
                            label=f"{S.secondary_label(sid, res)}, {int(m.sum())} primaries")
            ln.set_gid(f"primaries:{c}:{sid}")
            data["points"][(c, sid)] = (d, vals[m])
            if binned_um:
                bd, bv, _ = M.depth_binned(T, vals, m, binned_um)
                (ln,) = ax.plot(bd, bv, "-", lw=1.4, color=col)
                ln.set_gid(f"binned:{c}:{sid}")
                data["binned"][(c, sid)] = (bd, bv)
        for xm in marks or []:
            ax.axvline(xm, color="gray", ls="--", lw=0.8)
        ax.set_title(f"cycle {c}", fontsize=8)
        ax.set_xlabel(S.DEPTH if len(cycles) == 1 else "centroid depth below envelope (µm)")
        ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
        ax.grid(alpha=0.3)
    axs[0].set_ylabel("primary " + S.LOSS)
    axs[0].set_ylim(0, None)
    axs[-1].legend(fontsize=6.5, loc="best",
                   title=(f"lines: volume-weighted means, {binned_um:g} µm bins" if binned_um else None),
                   title_fontsize=6)
    _title(fig, title)
    fig.oxvac_data = data
    return fig


# ---------------------------------------------------------------- measured
def measured_figure(res, meas, geometry="lamella", csv_path="measured.csv", title=None, figsize=None):
    """Model vs a measured Mn3+ profile (oxvac.measured.read_csv): per measured
    cycle the stored model profile (line, /lamella or /profiles as
    `oxvac compare --geometry`) and the data with 1-sigma error bars; below,
    the residuals (model - measured) / sigma at each point, as compare
    computes them."""
    if geometry not in MS.GROUPS:
        raise PlotError(f"--geometry {geometry}: expected lamella or 3d")
    try:
        ev = MS.evaluate(res, meas, geometry, csv_path)
    except MS.MeasuredError as e:
        raise PlotError(str(e)) from None
    fig = S.new_figure(figsize or (S.FIGSIZE[0], 5.0))
    ax, axr = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1.0]})
    data = {"evaluation": ev, "model_curves": {}, "residuals": {}}
    for i, c in enumerate(sorted(ev["cycles"])):
        st = ev["cycles"][c]
        idx = st["index"]
        col = f"C{i % 10}"
        prof = res.stored_profile(ev["group"], c)
        d, v, _, _ = MS.nonempty(prof)
        (ln,) = ax.plot(d, v, "-", lw=1.3, color=col,
                        label=f"cycle {c}: model; data n = {st['n']}, χ²/n = {st['chi2_red']:.3g}")
        ln.set_gid(f"model:{c}")
        data["model_curves"][c] = (d, v)
        eb = ax.errorbar(meas["distance_nm"][idx], meas["mn3_fraction"][idx], yerr=meas["sigma"][idx],
                         fmt="o", ms=3.5, color=col, mfc="white", capsize=2, lw=0.9)
        eb.lines[0].set_gid(f"data:{c}")
        (ln,) = axr.plot(meas["distance_nm"][idx], ev["residual"][idx], "o", ms=3.5, color=col)
        ln.set_gid(f"residual:{c}")
        data["residuals"][c] = (meas["distance_nm"][idx], ev["residual"][idx])
    axr.axhline(0.0, color="k", lw=0.8)
    for yv in (-1.0, 1.0):
        axr.axhline(yv, color="gray", ls="--", lw=0.7)
    ax.set_ylabel(S.MN3)
    ax.set_ylim(0, None)
    ax.set_xlim(0, None)
    ax.grid(alpha=0.3)
    src = meas.get("source") or ("synthetic" if meas.get("synthetic") else None)
    ax.legend(fontsize=6.5, title=(f"measured: {src}" if src else None), title_fontsize=6.5)
    axr.set_ylabel("(model − measured) / σ", fontsize=8)
    axr.set_xlabel(S.DIST_LABEL[geometry])
    axr.grid(alpha=0.3)
    _title(fig, title)
    fig.oxvac_data = data
    return fig
