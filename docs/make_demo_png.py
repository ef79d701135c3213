#!/usr/bin/python3
"""Draw docs/demo.png (the README's picture) from a run of inputs/demo.cfg.

    mpiexec -n 2 build/oxvac run inputs/demo.cfg -o results/demo.h5
    /usr/bin/python3 docs/make_demo_png.py results/demo.h5 docs/demo.png

Left: oxygen loss (/timeseries/oxygen_loss_pct) against time, the end of each
cycle marked. Right: the vacancy fraction of the last stored cycle on the
middle z plane, electrolyte (label 0) blank. Needs h5py, numpy, matplotlib.
"""
import sys
import h5py
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

src, out = sys.argv[1], sys.argv[2]
with h5py.File(src, "r") as f:
    t_h = f["timeseries/time_s"][:] / 3600.0
    loss = f["timeseries/oxygen_loss_pct"][:]
    cyc = f["timeseries/cycle"][:]
    h_um = float(f["geometry"].attrs["voxel_m"]) * 1e6
    labels = f["geometry/labels"][:]
    cycles = sorted(int(k.split("_")[1]) for k in f["fields"])
    last = cycles[-1]
    c = f[f"fields/cycle_{last:06d}/vacancy_fraction"][:]
nz = labels.shape[0]
k = nz // 2
sl = np.ma.masked_where(labels[k] <= 0, 100.0 * c[k])

fig, (a0, a1) = plt.subplots(1, 2, figsize=(8.0, 3.4), gridspec_kw={"width_ratios": [1.25, 1]})
a0.plot(t_h, loss, "-", color="0.2", lw=1.2)
ends = [i for i in range(len(cyc)) if cyc[i] > 0 and (i + 1 == len(cyc) or cyc[i + 1] != cyc[i])]
a0.plot(t_h[ends], loss[ends], "o", color="C3", ms=4, label="end of each cycle")
form_end = t_h[np.argmax(cyc > 0) - 1] if np.any(cyc > 0) else t_h[-1]
a0.axvspan(0, form_end, color="0.92", lw=0)
a0.text(0.5 * form_end, 0.97 * loss.max(), "formation: 4 cycles at C/10", ha="center", va="top", fontsize=8)
a0.annotate("cycles 1-3\n(1C / CV / 2C)", xy=(t_h[ends[0]], loss[ends[0]]), xytext=(0.72 * form_end, 0.45 * loss[ends[0]]), fontsize=8, ha="center", va="center", arrowprops=dict(arrowstyle="->", lw=0.6))
a0.set_xlabel("time (h)")
a0.set_ylabel("oxygen loss (at.%)")
a0.set_xlim(0, t_h[-1])
a0.set_ylim(0, None)
a0.legend(loc="lower right", fontsize=8, frameon=False)
a0.set_title("oxygen loss", fontsize=10)

ny, nx = sl.shape
im = a1.imshow(sl, origin="lower", extent=(0, nx * h_um, 0, ny * h_um), cmap="viridis", interpolation="nearest")
a1.set_facecolor("white")
a1.set_xlabel("x (µm)")
a1.set_ylabel("y (µm)")
a1.set_title(f"vacancy fraction, z = {(k + 0.5) * h_um:.2f} µm, cycle {last}", fontsize=10)
cb = fig.colorbar(im, ax=a1, fraction=0.046, pad=0.04)
cb.set_label("vacant O sites (%)")
fig.tight_layout()
fig.savefig(out, dpi=300)
