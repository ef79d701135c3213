"""Read an oxvac result file (layout: docs/interface.md section 4, "Result file")."""
import re

import h5py
import numpy as np


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def config_text(f):
    """The resolved config of an open result or checkpoint: the root attribute
    `config`, or the scalar string dataset /config that holds a config too
    large for an attribute (over 32 KiB, e.g. 1000 listed protocol steps);
    "" when neither is there."""
    if "config" in f.attrs:
        return _text(f.attrs["config"])
    if isinstance(f.get("config"), h5py.Dataset):
        return _text(f["config"][()])
    return ""


class Result:
    """An oxvac result file, opened read-only.

    Everything is read lazily from the HDF5 file; arrays come back as numpy
    arrays in the file's own [nz][ny][nx] order for fields.
    """

    def __init__(self, path):
        self.path = str(path)
        self.f = h5py.File(self.path, "r")
        self.config = config_text(self.f)
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
        """[(center_um (3,), radius_um)] of a generated microstructure, in config
        order (secondary id = index + 1); [] when the config lists none."""
        out = []
        for m in re.finditer(r"center_um\s*=\s*\[([^\]]*)\]\s*;\s*radius_um\s*=\s*([-+0-9.eE]+)", self.config):
            out.append((np.array([float(x) for x in m.group(1).split(",")]), float(m.group(2))))
        return out

    @property
    def microstructure_type(self):
        """microstructure.type of the resolved config ("generated", "sphere", ...), or None."""
        m = re.search(r'microstructure\s*=\s*\{[^{}]*?\btype\s*=\s*"([^"]*)"', self.config)
        return m.group(1) if m else None

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

    @property
    def shape_zyx(self):
        return tuple(reversed(self.shape_xyz))

    def labels(self):
        return self.f["geometry/labels"][...]

    def secondary(self):
        return self.f["geometry/secondary"][...]

    def secondary_ids(self):
        """Secondary ids > 0 present in the result, ascending (/secondaries/id,
        else the values of /geometry/secondary)."""
        if "secondaries/id" in self.f:
            ids = self.f["secondaries/id"][...]
        else:
            ids = np.unique(self.secondary())
        return [int(i) for i in np.unique(ids) if i > 0]

    def secondary_centre_m(self, sid=None):
        """Centre (m, x y z) of secondary `sid` (default: the first, the
        smallest id > 0), from the stored geometry.

        A generated microstructure stores each secondary's centre in the
        resolved config (`center_um`, secondary id = index + 1): that centre
        is exact. Otherwise (imported labels) it is the centroid of the
        secondary's voxels in /geometry/secondary, except along an axis where
        the secondary is cut by a domain face: the face is a mirror plane, a
        secondary centred on it is one body with its mirror image, and its
        centre lies on the face. "Cut" means that the layer of voxels at the
        face holds at least half as many of the secondary's voxels as its
        largest layer along that axis (a secondary that merely touches the
        face has only a few there). Without any secondary: the domain centre.
        """
        ids = self.secondary_ids()
        h = self.voxel_m
        n = np.array(self.shape_xyz, dtype=float)
        if sid is None:
            if not ids:
                return 0.5 * n * h
            sid = ids[0]
        secs = self.secondaries()
        if self.microstructure_type == "generated" and 1 <= sid <= len(secs):
            return secs[sid - 1][0] * 1e-6
        sec = self.secondary()
        zyx = np.nonzero(sec == sid)
        if zyx[0].size == 0:
            raise KeyError(f"{self.path}: secondary {sid} has no voxel in /geometry/secondary")
        c = np.empty(3)
        for a in range(3):                       # a = x, y, z; array axis 2 - a
            idx = zyx[2 - a]
            layers = np.bincount(idx, minlength=int(n[a]))
            if layers[0] >= 0.5 * layers.max():
                c[a] = 0.0
            elif layers[-1] >= 0.5 * layers.max():
                c[a] = n[a] * h
            else:
                c[a] = (idx.mean() + 0.5) * h
        return c

    def largest_secondary_id(self):
        """Id of the secondary with the largest volume (/secondaries), else the first."""
        T = self.secondaries_table()
        if T is not None and len(T["id"]):
            keep = T["id"] > 0
            if keep.any():
                return int(T["id"][keep][np.argmax(T["volume_m3"][keep])])
        ids = self.secondary_ids()
        return ids[0] if ids else None

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

    def cycle_end_time(self, cycle):
        """Time (s) at which a stored cycle's field, profiles and series were
        written: 0 for cycle 0 (the initial state), else the last time-series
        row of the cycle."""
        if cycle == 0:
            return 0.0
        ts = self.timeseries()
        rows = np.nonzero(ts["cycle"] == cycle)[0]
        if rows.size == 0:
            raise KeyError(f"{self.path}: no time-series row for cycle {cycle}")
        return float(ts["time_s"][rows[-1]])

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

    # ---- secondaries ----
    def secondaries_table(self):
        """dict of /secondaries arrays ([n_sec]), or None in an older result."""
        if "secondaries" not in self.f:
            return None
        g = self.f["secondaries"]
        return {k: g[k][...] for k in g}

    def secondaries_series(self):
        """dict of /secondaries_series: cycle [n_out], the rest [n_out][n_sec]; or None."""
        if "secondaries_series" not in self.f:
            return None
        g = self.f["secondaries_series"]
        return {k: g[k][...] for k in g}

    # ---- fields ----
    def field_cycles(self):
        if "fields" not in self.f:
            return []
        return sorted(int(k.split("_")[1]) for k in self.f["fields"])

    def field(self, cycle, name="vacancy_fraction"):
        key = f"fields/cycle_{cycle:06d}/{name}"
        if key not in self.f:
            raise KeyError(f"{self.path}: no {key} (stored field cycles: "
                           f"{', '.join(map(str, self.field_cycles())) or 'none'})")
        return self.f[key][...]

    def has_field(self, cycle, name="vacancy_fraction"):
        return f"fields/cycle_{cycle:06d}/{name}" in self.f

    # ---- profiles / lamella written by oxvac itself (if present) ----
    def stored_cycles(self, group):
        """Cycles stored under /profiles or /lamella, ascending ([] if absent)."""
        if group not in self.f:
            return []
        return sorted(int(k.split("_")[1]) for k in self.f[group] if k.startswith("cycle_"))

    def stored_attrs(self, group, cycle):
        """Attributes of /GROUP/cycle_NNNNNN as a dict (strings decoded), or None."""
        key = f"{group}/cycle_{cycle:06d}"
        if key not in self.f:
            return None
        return {k: (_text(v) if isinstance(v, bytes) else v) for k, v in self.f[key].attrs.items()}

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
