"""Report quantities computed from an oxvac result.

Conventions (docs/interface.md section 1; docs/theory.md section 11, "Observables"):
  c             vacancy site fraction per solid voxel
  oxygen loss   100 * mean(c) over solid volume, at.% of the oxygen sites
  Mn3+ share    min(1, mn_share * 4 c / formula.mn), 0 for c <= 0: each
                vacancy leaves two electrons and there are two oxygen sites
                per formula unit, so 4c electrons per formula unit, a share
                mn_share (config observables.mn_share) of which reduce Mn4+
                to Mn3+ (formula.mn = 0.53 Mn per formula unit); the C code's
                OxMn3Fraction (src/profiles.c). mn3_fraction() below is the
                only place the package converts; the stored /profiles and
                /lamella already hold mn3_fraction and are never recomputed.
  Mn valence    4 - mean over solid voxels of the Mn3+ share

The domain faces of an oxvac grid are mirror planes (docs/numerics.md), so a
secondary centred on a domain corner is one octant of a whole one. Distances
to a particle's own surface are therefore computed on a mirror-padded copy of
the labels: a face of the domain is never a particle surface.
"""
import numpy as np
from scipy import ndimage


# ---------------------------------------------------------------- valence
def mn3_fraction(c, mn_share, formula_mn):
    """Mn3+ fraction of Mn for vacancy fraction c (array or scalar), clipped
    to [0, 1] as oxvac does (NaN stays NaN)."""
    return np.clip(mn_share * 4.0 * np.asarray(c, dtype=float) / formula_mn, 0.0, 1.0)


def result_mn3_fraction(res, c):
    """mn3_fraction(c) with the result's own observables.mn_share and
    material.formula.mn (from its resolved config)."""
    return mn3_fraction(c, res.mn_share, res.formula_mn)


def mn_valence(c_solid, mn_share, formula_mn):
    """Mean Mn valence over solid voxels (c_solid: vacancy fraction of each solid voxel)."""
    return 4.0 - float(np.mean(mn3_fraction(c_solid, mn_share, formula_mn)))


# ---------------------------------------------------------------- distances
def own_surface_distance(labels, voxel_m, pad=None):
    """Distance (m) from each solid voxel centre to the surface of its own particle.

    The surface of particle p is taken half a voxel beyond the centres of
    its outermost voxels: d = (edt - 1/2) h, with edt the Euclidean distance
    (in voxels) from the voxel centre to the nearest voxel centre not in p
    (electrolyte or another primary). Domain faces are mirror planes: the
    labels are reflected across them before the transform. Electrolyte
    voxels get NaN. `labels` is [nz][ny][nx].
    """
    lab = np.asarray(labels)
    if pad is None:
        pad = int(min(max(lab.shape), 32))
    lp = np.pad(lab, pad, mode="symmetric")
    edt = np.zeros(lp.shape, dtype=np.float32)
    for p, sl in enumerate(ndimage.find_objects(lp), start=1):
        if sl is None:
            continue
        box = lp[sl] == p
        d = ndimage.distance_transform_edt(np.pad(box, 1))[1:-1, 1:-1, 1:-1]
        sub = edt[sl]
        sub[box] = d[box]
    core = edt[pad:-pad, pad:-pad, pad:-pad] if pad > 0 else edt
    out = (core.astype(np.float64) - 0.5) * voxel_m
    out[lab <= 0] = np.nan
    return out


def distance_profile(dist_m, values, solid, bin_nm=10.0):
    """Mean of `values` over solid voxels in bins of distance from the own surface.

    Returns dict(distance_nm = mean distance of the voxels in each bin,
    bin_lo_nm, mean, count) for non-empty bins only.
    """
    d = dist_m[solid] * 1e9
    v = values[solid]
    b = np.floor(d / bin_nm).astype(int)
    nb = int(b.max()) + 1 if b.size else 0
    cnt = np.bincount(b, minlength=nb)
    sv = np.bincount(b, weights=v, minlength=nb)
    sd = np.bincount(b, weights=d, minlength=nb)
    keep = cnt > 0
    return {
        "bin_lo_nm": (np.arange(nb) * bin_nm)[keep],
        "distance_nm": sd[keep] / cnt[keep],
        "mean": sv[keep] / cnt[keep],
        "count": cnt[keep],
    }


def penetration_nm(profile, fraction=0.10, min_count=100):
    """Largest distance from the surface at which the binned mean is still
    >= `fraction` of its value in the surface bin (the first bin), over bins
    holding >= `min_count` voxels. Returns (penetration_nm, surface_value,
    deepest bin considered in nm)."""
    ok = profile["count"] >= min_count
    if not ok.any():
        return float("nan"), float("nan"), float("nan")
    dist, mean = profile["distance_nm"][ok], profile["mean"][ok]
    surf = mean[0]
    above = mean >= fraction * surf
    pen = float(dist[above].max()) if above.any() else 0.0
    return pen, float(surf), float(dist.max())


# ---------------------------------------------------------------- particles
def particle_table(res):
    """Particles with voxels in the domain, with their secondary's radius."""
    P = res.particles()
    keep = P["volume_m3"] > 0
    T = {k: v[keep] for k, v in P.items()}
    T["index"] = np.nonzero(keep)[0]
    return T


def largest_secondary(res):
    """(id, radius_um) of the secondary with the largest radius in the config."""
    secs = res.secondaries()
    if not secs:
        return 1, float("nan")
    i = int(np.argmax([r for _, r in secs]))
    return i + 1, secs[i][1]


def particle_groups(res, T, exterior_um=0.3, interior_um=1.0):
    """Boolean masks over the particle table:
    large_exterior: primaries of the largest secondary with centroid depth < exterior_um
    large_interior: primaries of the largest secondary deeper than interior_um
    large_all, small (primaries of every other secondary)."""
    big, _ = largest_secondary(res)
    depth_um = T["depth_m"] * 1e6
    in_big = T["secondary"] == big
    return {
        "large_exterior": in_big & (depth_um < exterior_um),
        "large_interior": in_big & (depth_um > interior_um),
        "large_all": in_big,
        "small": (T["secondary"] > 0) & ~in_big,
    }


def group_means(T, values, groups):
    """Volume-weighted mean of per-particle `values` (indexed like T) per group."""
    out = {}
    for name, m in groups.items():
        w = T["volume_m3"][m]
        out[name] = float(np.sum(w * values[m]) / np.sum(w)) if w.sum() > 0 else float("nan")
        out[name + "_n"] = int(m.sum())
    return out


def depth_binned(T, values, mask, bin_um=0.1):
    """Volume-weighted mean of `values` vs particle depth (um) for particles in mask."""
    d = T["depth_m"][mask] * 1e6
    v = values[mask]
    w = T["volume_m3"][mask]
    b = np.floor(d / bin_um).astype(int)
    nb = int(b.max()) + 1 if b.size else 0
    sw = np.bincount(b, weights=w, minlength=nb)
    sv = np.bincount(b, weights=w * v, minlength=nb)
    n = np.bincount(b, minlength=nb)
    keep = n > 0
    return (np.arange(nb)[keep] + 0.5) * bin_um, sv[keep] / sw[keep], n[keep]
