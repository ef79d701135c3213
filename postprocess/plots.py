"""PNG figures for validation reports (matplotlib, Agg backend, small files)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 90


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def loss_vs_cycle(path, cycles, loss, paper_points, title=""):
    """Oxygen loss (at.%) at each cycle end; paper_points: [(cycle, value, label)]."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    m = cycles >= 1
    ax.plot(cycles[m], loss[m], "-", color="C0", label="model (end of each cycle)")
    if (cycles == 0).any():
        ax.plot([0], loss[cycles == 0][-1:], "s", color="C0", mfc="none", label="model, end of formation")
    for i, (c, v, lab) in enumerate(paper_points):
        ax.plot([c], [v], "o", color="C3", ms=8, label=lab if i == 0 else None)
        ax.annotate(f"{v:g}", (c, v), textcoords="offset points", xytext=(6, -12), color="C3")
    ax.set_xlabel("cycle")
    ax.set_ylabel("oxygen loss (at.%)")
    ax.set_xlim(-10, max(510, cycles.max() + 10))
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def profiles(path, curves, ylabel, title="", threshold_lines=None, xmax=None,
             xlabel="distance from the primary particle's own surface (nm)"):
    """curves: [(label, distance_nm, values, count)]; bins with count < 100 are drawn dotted."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for i, (lab, d, v, n) in enumerate(curves):
        ok = n >= 100
        ax.plot(d[ok], v[ok], "-o", ms=3, color=f"C{i}", label=lab)
        if (~ok).any():
            ax.plot(d, v, ":", color=f"C{i}", lw=1)
    for x, lab in threshold_lines or []:
        ax.axvline(x, color="gray", ls="--", lw=0.8)
        ax.annotate(lab, (x, 0), textcoords="offset points", xytext=(3, 3), fontsize=8, color="gray")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, None)
    if xmax:
        ax.set_xlim(0, xmax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def particle_depth(path, series, small_points, ylabel, title="", marks=None):
    """series: [(label, depth_um, value)]; small_points: [(label, value)] drawn as
    horizontal ticks at the left (primaries of small secondaries)."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for i, (lab, d, v) in enumerate(series):
        ax.plot(d, v, "-o", ms=3, color=f"C{i}", label=lab)
    for i, (lab, v) in enumerate(small_points):
        ax.plot([-0.08], [v], marker="D", color=f"C{i}", ls="none", ms=6,
                label=lab if i == 0 else None, mfc="none")
    for x in marks or []:
        ax.axvline(x, color="gray", ls="--", lw=0.8)
    ax.set_xlabel("primary centroid depth below the large secondary's envelope (um)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.2, None)
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def slices(path, panels, voxel_nm, cbar_label, vmax=None, title=""):
    """panels: [(label, 2D array [rows=y][cols=x], mask of solid)] side by side."""
    n = len(panels)
    fig, axs = plt.subplots(1, n, figsize=(3.3 * n + 0.6, 3.4), squeeze=False)
    vmax = vmax or max(float(np.nanmax(np.where(m, a, np.nan))) for _, a, m in panels)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("white")
    for ax, (lab, a, m) in zip(axs[0], panels):
        ny, nx = a.shape
        ext = [0, nx * voxel_nm / 1000, 0, ny * voxel_nm / 1000]
        im = ax.imshow(np.where(m, a, np.nan), origin="lower", extent=ext, cmap=cmap, vmin=0, vmax=vmax,
                       interpolation="nearest")
        ax.set_title(lab, fontsize=9)
        ax.set_xlabel("x (um)")
    axs[0][0].set_ylabel("y (um)")
    cb = fig.colorbar(im, ax=list(axs[0]), shrink=0.85)
    cb.set_label(cbar_label)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
