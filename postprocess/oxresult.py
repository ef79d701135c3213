"""Read an oxvac result file (layout: contract section 4)."""
import re

import h5py
import numpy as np


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class Result:
    """An oxvac result file, opened read-only.

    Everything is read lazily from the HDF5 file; arrays come back as numpy
    arrays in the file's own [nz][ny][nx] order for fields.
    """

    def __init__(self, path):
        self.path = str(path)
        self.f = h5py.File(self.path, "r")
        self.config = _text(self.f.attrs.get("config", ""))
        self.command = _text(self.f.attrs.get("command", ""))
        self.version = _text(self.f.attrs.get("oxvac_version", ""))

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- resolved config (the text stored in the root attribute) ----
    def config_number(self, key, default=None):
        """First `key = number;` in the resolved config text (key without path)."""
        m = re.search(r"(?<![\w.])" + re.escape(key) + r"\s*=\s*([-+0-9.eE]+)\s*;", self.config)
        return float(m.group(1)) if m else default

    def config_string(self, key, default=None):
        m = re.search(r"(?<![\w.])" + re.escape(key) + r'\s*=\s*"([^"]*)"', self.config)
        return m.group(1) if m else default

    def secondaries(self):
        """[(center_um (3,), radius_um)] in config order (secondary id = index + 1)."""
        out = []
        for m in re.finditer(r"center_um\s*=\s*\[([^\]]*)\]\s*;\s*radius_um\s*=\s*([-+0-9.eE]+)", self.config):
            out.append((np.array([float(x) for x in m.group(1).split(",")]), float(m.group(2))))
        return out

    @property
    def mn_share(self):
        return self.config_number("mn_share", 1.0)

    @property
    def formula_mn(self):
        m = re.search(r"formula\s*=\s*\{[^}]*\bmn\s*=\s*([-+0-9.eE]+)", self.config)
        return float(m.group(1)) if m else 0.53

    # ---- geometry ----
    @property
    def voxel_m(self):
        return float(self.f["geometry"].attrs["voxel_m"])

    @property
    def shape_xyz(self):
        return tuple(int(v) for v in self.f["geometry"].attrs["shape"])

    def labels(self):
        return self.f["geometry/labels"][...]

    def secondary(self):
        return self.f["geometry/secondary"][...]

    # ---- time series ----
    def timeseries(self):
        g = self.f["timeseries"]
        return {k: g[k][...] for k in g}

    def loss_at_cycle(self, cycle):
        """Oxygen loss (at.%) in the last time-series row of `cycle` (its end)."""
        ts = self.timeseries()
        rows = np.nonzero(ts["cycle"] == cycle)[0]
        if rows.size == 0:
            raise KeyError(f"{self.path}: no time-series row for cycle {cycle}")
        return float(ts["oxygen_loss_pct"][rows[-1]])

    def loss_per_cycle(self):
        """(cycles, loss at each cycle end) for cycles >= 0 (0 = end of formation)."""
        ts = self.timeseries()
        cyc, loss = ts["cycle"], ts["oxygen_loss_pct"]
        cycles = np.unique(cyc)
        last = np.array([np.nonzero(cyc == c)[0][-1] for c in cycles])
        return cycles, loss[last], ts["time_s"][last]

    # ---- particles ----
    def particles(self):
        g = self.f["particles"]
        return {k: g[k][...] for k in g}

    def particle_series(self):
        """(cycles, vacancy_mean [n_out][n_particles])."""
        g = self.f["particles_series"]
        return g["cycle"][...], g["vacancy_mean"][...]

    # ---- fields ----
    def field_cycles(self):
        if "fields" not in self.f:
            return []
        return sorted(int(k.split("_")[1]) for k in self.f["fields"])

    def field(self, cycle, name="vacancy_fraction"):
        return self.f[f"fields/cycle_{cycle:06d}/{name}"][...]

    # ---- profiles / lamella written by oxvac itself (if present) ----
    def stored_profile(self, group, cycle):
        """dict of arrays from /profiles or /lamella at a cycle, or None."""
        key = f"{group}/cycle_{cycle:06d}"
        if key not in self.f:
            return None
        g = self.f[key]
        return {k: g[k][...] for k in g}

    def averaging(self):
        if "averaging" not in self.f:
            return None
        g = self.f["averaging"]
        return {k: float(np.ravel(g[k][...])[0]) for k in g}
