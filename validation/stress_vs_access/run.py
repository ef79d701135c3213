#!/usr/bin/python3
"""Stress or electrolyte access? The validation study of validation/stress_vs_access/.

Csernica et al. (Nature Energy 6, 2021, paper l. 315-319) leave open why the
primaries deep inside large secondaries lose less oxygen: "stress buildup in
large secondary particles could modify the local oxygen chemical potential
and/or diffusivity", or "diminished electrolyte-induced oxygen release for
interior primary particles". This script runs both hypotheses on one
generated large + small secondary with the paper's protocol and measures
what tells them apart (README.md in this folder is the report).

    /usr/bin/python3 validation/stress_vs_access/run.py                 # everything, 125 cycles
    /usr/bin/python3 validation/stress_vs_access/run.py --cycles 10     # a quicker, shorter study
    /usr/bin/python3 validation/stress_vs_access/run.py --skip-run      # post-process existing results

Writes into --out (default validation/stress_vs_access/out, git-ignored): the
configs (configs/*.cfg, complete, `oxvac check`ed), the results (*.h5), the
run logs, results.json, tables.md and the figures (*.png). With the default
--out and --cycles 125 the figures and configs are also copied to
validation/stress_vs_access/figures/ and configs/, which README.md shows.
"""
import argparse
import concurrent.futures
import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(HERE, "out")
sys.path.insert(0, os.path.join(ROOT, "postprocess"))

from oxvac.provenance import machine  # noqa: E402

# ---------------------------------------------------------------- constants
KB = 1.380649e-23            # J/K
T_K = 298.15                 # cycling at 25 degC (paper l. 403)
A_H, C_H = 2.85, 14.24       # hexagonal cell (A) as in docs/theory.md section 2 (six O sites per cell)
OMEGA_O_A3 = math.sqrt(3.0) / 2.0 * A_H ** 2 * C_H / 6.0   # volume per oxygen site, 16.7 A^3

# ---------------------------------------------------------------- geometry
VOXEL_NM = 25.0
SHAPE = [72, 60, 30]          # nx ny nz: 1.8 x 1.5 x 0.75 um
SEED = 1
LARGE = {"center_um": [0.75, 0.75, 0.0], "radius_um": 0.55}   # half in the grid: z = 0 is a mirror plane
SMALL = {"center_um": [1.8, 1.1, 0.0], "radius_um": 0.30}     # quarter in the grid: x = 1.8 and z = 0 mirror planes

# ---------------------------------------------------------------- mechanics (all cases)
BETA = 0.05                   # vacancy chemical expansion (assumption, upper end of 0.02-0.05)
LATTICE_A = -0.010            # in-plane strain at full charge vs discharged (assumption)
LATTICE_C = +0.015            # c-axis strain at full charge (assumption)
V_EQ = round(3.0 * BETA * OMEGA_O_A3, 2)   # 2.50 A^3: partial volume of a vacancy = 3 beta Omega_O
V_D = 4.0                     # |migration activation volume| (assumption, within |V| <= 5 A^3)
UPDATE_TOL = 0.01             # vacancy stress re-solved when c moved 0.01 (and at every cycle end)
ACCESS_LENGTHS_NM = [44.0, 25.0]   # 44 nm = 200 nm x 0.55 / 2.5: the L / R of inputs/csernica2021.cfg; 25 nm: stronger

# name, label, accessibility, V_eq, V_D, defensible, what it tests
CASES = [
    dict(name="S_eq", label="stress: V_eq=+%.1f" % V_EQ, access=None, v_eq=V_EQ, v_d=0.0, defensible=True),
    dict(name="S_eq_Dpos", label="stress: V_eq=+%.1f, V_D=+%.0f" % (V_EQ, V_D), access=None, v_eq=V_EQ, v_d=+V_D,
         defensible=True),
    dict(name="S_eq_Dneg", label="stress: V_eq=+%.1f, V_D=-%.0f" % (V_EQ, V_D), access=None, v_eq=V_EQ, v_d=-V_D,
         defensible=True),
    dict(name="S_eqneg", label="control: V_eq=-%.1f (not defensible)" % V_EQ, access=None, v_eq=-V_EQ, v_d=0.0,
         defensible=False),
    dict(name="null", label="null: uniform access, no coupling", access=None, v_eq=0.0, v_d=0.0, defensible=True),
    dict(name="A44", label="access: depth, L=44 nm", access=44.0, v_eq=0.0, v_d=0.0, defensible=True),
    dict(name="A25", label="access: depth, L=25 nm", access=25.0, v_eq=0.0, v_d=0.0, defensible=True),
]
ORDER = ["null", "A44", "A25", "S_eq", "S_eq_Dpos", "S_eq_Dneg", "S_eqneg"]

# formation as inputs/csernica2021.cfg: four C/10 cycles, then a slow C/54 cycle and a 6 h rest
_C10_CYCLE = """
    { type = "cc";   rate_C = 0.1;  until_soc = 1.0; },
    { type = "rest"; duration_min = 10.0; },
    { type = "cc";   rate_C = -0.1; until_soc = 0.0; },
    { type = "rest"; duration_min = 10.0; }"""
FORMATION_STEPS = ",".join([_C10_CYCLE] * 4) + """,
    { type = "cc";   rate_C = 0.0186;  until_soc = 1.0; },
    { type = "cc";   rate_C = -0.0186; until_soc = 0.0; },
    { type = "rest"; duration_min = 360.0; }"""

CYCLE_STEPS = """
    { type = "cc";   rate_C = 1.0;  until_soc = 0.9; },
    { type = "cv";   duration_min = 45.0; until_soc = 1.0; tau_min = 15.0; },
    { type = "rest"; duration_min = 10.0; },
    { type = "cc";   rate_C = -2.0; until_soc = 0.0; },
    { type = "rest"; duration_min = 10.0; }"""


def sec_text(s):
    c = s["center_um"]
    return "{ center_um = [%.3f, %.3f, %.3f]; radius_um = %.3f; }" % (c[0], c[1], c[2], s["radius_um"])


def config_text(case, cycles, probe=False):
    """A complete config: geometry, material and protocol of inputs/csernica2021.cfg
    (but D spread 0 and resolved time), and the case's accessibility and coupling.
    probe: the pure lattice stress at full charge (no vacancies, beta 0)."""
    if case.get("access"):
        acc = 'accessibility = { model = "depth"; length_nm = %.1f; };' % case["access"]
    else:
        acc = 'accessibility = { model = "uniform"; };'
    fields = "[1]" if cycles == 1 else "[1, %d]" % cycles
    if probe:
        protocol = """protocol = {
  initial_soc = 1.0;
  cycling = { repeat = 1; steps = ( { type = "rest"; duration_min = 0.001; } ); };
};"""
        fields = "[0]"
    else:
        protocol = """protocol = {
  initial_soc = 0.0;
  # inputs/csernica2021.cfg: four C/10 formation cycles (assumed rate), the
  # half-cell cycle at ~4 mA/g (C/54) and the ~6 h rest of Fig. 4 (paper l. 93-95, 860)
  formation = { repeat = 1; steps = (%s
  ); };
  # 1C/2C, ~45 min CV hold, 10 min rests (paper l. 404-406)
  cycling = { repeat = %d; steps = (%s
  ); };
};""" % (FORMATION_STEPS, cycles, CYCLE_STEPS)
    return f"""# validation/stress_vs_access: case {case['name']} ({case['label']})
# Generated by validation/stress_vs_access/run.py; do not edit (edit the script).
grid = {{ voxel_nm = {VOXEL_NM:.1f}; shape = [{SHAPE[0]}, {SHAPE[1]}, {SHAPE[2]}]; }};

# One large secondary (r = {LARGE['radius_um']} um, centred on the mirror plane z = 0: half in the
# grid, a whole one by symmetry) and one small (r = {SMALL['radius_um']} um, centred on the
# x = xmax, z = 0 edge: a quarter in the grid). 200 nm primaries (paper l. 141).
microstructure = {{
  type = "generated";
  seed = {SEED};
  secondaries = ( {sec_text(LARGE)},
                  {sec_text(SMALL)} );
  primary_diameter_nm = 200.0;
  primary_cv = 0.25;
  porosity = 0.10;
}};

material = {{
  # inputs/csernica2021.cfg: 1e-17 cm2/s delithiated (paper l. 169), 1e-19 at full discharge.
  diffusivity_cm2_s = {{ soc = [0.0, 0.5, 1.0]; value = [1e-19, 1e-17, 1e-17]; }};
  particle_spread = 0.0;   # no random per-primary D: only the two mechanisms differ between primaries
}};

surface = {{
  exchange_nm_s = {{ soc = [0.0, 0.5, 1.0]; value = [0.0, 0.0, 1.0]; }};
  equilibrium_fraction = {{ soc = [0.0]; value = [0.0968]; }};
  {acc}
}};

{protocol}

solver = {{ time_mode = "resolved"; }};

output = {{
  file = "{case['name']}.h5";
  fields_at_cycles = {fields};
  checkpoint_every_cycles = 0;
}};

observables = {{ mn_share = 0.869; }};

mechanics = {{
  enabled = true;
  young_GPa = 150.0;
  poisson = 0.3;
  vacancy_expansion = {0.0 if probe else BETA};
  lattice = {{ soc = [0.0, 1.0]; a = [0.0, {LATTICE_A}]; c = [0.0, {LATTICE_C}]; }};
  orientation = "random";
  coupling = {{ eq_volume_A3 = {case['v_eq']:.2f}; diffusion_volume_A3 = {case['v_d']:.2f}; temperature_K = {T_K}; }};
  update_tolerance = {UPDATE_TOL};
}};
"""



def run_one(exe, cfg, h5, log):
    if os.path.exists(h5):
        os.remove(h5)
    xdmf = os.path.splitext(h5)[0] + ".xdmf"
    if os.path.exists(xdmf):
        os.remove(xdmf)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    t0 = time.time()
    with open(log, "w") as lf:
        r = subprocess.run([exe, "run", cfg, "-o", h5, "--quiet"], stdout=lf, stderr=subprocess.STDOUT, env=env)
    wall = time.time() - t0
    if r.returncode != 0:
        raise RuntimeError(f"oxvac run {cfg} failed (rc {r.returncode}), see {log}")
    return wall


# ---------------------------------------------------------------- metrics
def cyc_name(c):
    return "fields/cycle_%06d" % c


class Geometry:
    """Per-primary geometry of the large secondary, made whole by the z = 0 mirror."""

    def __init__(self, f):
        self.h = float(f["geometry"].attrs["voxel_m"])
        self.labels = f["geometry/labels"][:]
        self.secondary = f["geometry/secondary"][:]
        nz, ny, nx = self.labels.shape
        self.zc = (np.arange(nz) + 0.5) * self.h
        self.yc = (np.arange(ny) + 0.5) * self.h
        self.xc = (np.arange(nx) + 0.5) * self.h
        P = f["particles"]
        self.pid = P["id"][:]
        self.psec = P["secondary"][:]
        self.ox_depth = P["depth_m"][:]
        self.ox_radius = P["radius_m"][:]
        self.ox_interior = self.ox_depth >= 2.0 * self.ox_radius
        self.area_per_volume = P["area_m2"][:] / P["volume_m3"][:]   # the same for a half primary on the mirror plane
        self.center = np.array(LARGE["center_um"]) * 1e-6
        self.R = LARGE["radius_um"] * 1e-6
        lab = self.labels.ravel()
        order = np.argsort(lab, kind="stable")
        lab_sorted = lab[order]
        starts = np.searchsorted(lab_sorted, self.pid, side="left")
        ends = np.searchsorted(lab_sorted, self.pid, side="right")
        Z, Y, X = np.meshgrid(self.zc, self.yc, self.xc, indexing="ij")
        self.coords = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)
        self.prim = {}
        for k, p in enumerate(self.pid):
            if self.psec[k] != 1:
                continue
            idx = order[starts[k]:ends[k]]
            if idx.size == 0:
                continue
            xyz = self.coords[idx]
            on_plane = np.any(idx // (self.labels.shape[1] * self.labels.shape[2]) == 0)
            cen = xyz.mean(axis=0)
            n_full = idx.size * (2 if on_plane else 1)
            if on_plane:
                cen[2] = 0.0  # the whole primary is mirror-symmetric about z = 0
            r = (3.0 * n_full * self.h ** 3 / (4.0 * math.pi)) ** (1.0 / 3.0)
            dvec = cen - self.center
            dist = float(np.linalg.norm(dvec))
            depth = self.R - dist
            u = dvec / dist if dist > 0 else np.zeros(3)
            s = (xyz - cen) @ u  # > 0: the side facing away from the secondary's centre
            self.prim[int(p)] = dict(idx=idx, s=s, r=r, depth=depth, dist=dist, n_full=n_full, on_plane=bool(on_plane),
                                     interior=bool(depth >= 2.0 * r), ox_interior=bool(self.ox_interior[k]))

    def asymmetry(self, field, min_voxels=100, min_dist_m=50e-9):
        """Per primary of the large secondary: (mean(out) - mean(in)) / (sum), the
        sides split by the plane through its centroid normal to the direction
        from the secondary's centre to the centroid."""
        v = field.ravel()
        out = {}
        for p, g in self.prim.items():
            if g["n_full"] < min_voxels or g["dist"] < min_dist_m:
                continue
            vals = v[g["idx"]]
            o = vals[g["s"] > 0]
            i = vals[g["s"] < 0]
            if o.size < 10 or i.size < 10:
                continue
            mo, mi = o.mean(), i.mean()
            out[p] = (mo - mi) / (mo + mi) if (mo + mi) > 0 else 0.0
        return out

    def directional_profile(self, field, interior=True, edges=np.linspace(-1.5, 1.5, 13)):
        """Mean field against s / r (s along the outward direction) over the interior
        (or exterior) primaries of the large secondary."""
        v = field.ravel()
        ss, vv = [], []
        for p, g in self.prim.items():
            if g["interior"] != interior or g["dist"] < 50e-9:
                continue
            ss.append(g["s"] / g["r"])
            vv.append(v[g["idx"]])
        ss = np.concatenate(ss)
        vv = np.concatenate(vv)
        k = np.digitize(ss, edges) - 1
        m = np.array([vv[k == j].mean() if np.any(k == j) else np.nan for j in range(len(edges) - 1)])
        return 0.5 * (edges[1:] + edges[:-1]), m


def summary_stats(vals):
    a = np.array(list(vals))
    if a.size == 0:
        return dict(n=0, median=None, q25=None, q75=None)
    q25, med, q75 = np.percentile(a, [25, 50, 75])
    return dict(n=int(a.size), median=float(med), q25=float(q25), q75=float(q75))


def case_metrics(path, geo, cycles_out, sigma_lat):
    m = {}
    with h5py.File(path, "r") as f:
        ss = f["secondaries_series"]
        sc = list(ss["cycle"][:])
        ids = list(f["secondaries/id"][:])
        il, ism = ids.index(1), ids.index(2)
        ps_cycle = list(f["particles_series/cycle"][:])
        pvm = f["particles_series/vacancy_mean"][:]
        psh = f["particles_series/hydrostatic_stress_mean_Pa"][:] if "particles_series/hydrostatic_stress_mean_Pa" in f else None
        m["wall_time_s_file"] = float(f.attrs["wall_time_s"])
        m["unknowns"] = int(f.attrs["unknowns"])
        cfg = f.attrs["config"]
        cfg = cfg.decode() if isinstance(cfg, bytes) else str(cfg)
        import re
        veq = float(re.search(r"eq_volume_A3\s*=\s*([-+0-9.eE]+)", cfg).group(1))
        vd = float(re.search(r"diffusion_volume_A3\s*=\s*([-+0-9.eE]+)", cfg).group(1))
        ts = f["timeseries"]
        m["timeseries"] = dict(cycle=ts["cycle"][:].tolist(), loss_pct=ts["oxygen_loss_pct"][:].tolist(),
                               time_s=ts["time_s"][:].tolist())
        for c in cycles_out:
            k = sc.index(c)
            loss = ss["oxygen_loss_pct"][k]
            ext = ss["exterior_vacancy_mean"][k]
            inn = ss["interior_vacancy_mean"][k]
            d = dict(
                large_loss_pct=float(loss[il]), small_loss_pct=float(loss[ism]),
                large_interior_vacancy_mean=float(inn[il]), large_exterior_vacancy_mean=float(ext[il]),
                interior_over_exterior=float(inn[il] / ext[il]),
                small_over_large=float(loss[ism] / loss[il]),
                total_loss_pct=float(ts["oxygen_loss_pct"][np.where(ts["cycle"][:] == c)[0][-1]]),
            )
            g = f[cyc_name(c)]
            vac = g["vacancy_fraction"][:]
            mn3 = g["mn3_fraction"][:] if "mn3_fraction" in g else None
            for fname, fld in (("vacancy", vac), ("mn3", mn3)):
                if fld is None:
                    continue
                asym = geo.asymmetry(fld)
                d[f"asymmetry_{fname}"] = {
                    "interior": summary_stats(v for p, v in asym.items() if geo.prim[p]["interior"]),
                    "exterior": summary_stats(v for p, v in asym.items() if not geo.prim[p]["interior"]),
                }
                if fname == "vacancy":
                    d["asymmetry_per_primary"] = {str(p): float(v) for p, v in asym.items()}
            # per-primary vacancy mean and stress (large secondary)
            kk = ps_cycle.index(c)
            d["primary_vacancy_mean"] = {str(p): float(pvm[kk][p - 1]) for p in geo.prim}
            if psh is not None:
                d["primary_sigma_h_discharged_MPa"] = {str(p): float(psh[kk][p - 1] / 1e6) for p in geo.prim}
            # stress the transport sees at full charge: lattice (probe) + vacancy part (stored at soc 0, where a = c = 0)
            if sigma_lat is not None and "hydrostatic_stress_Pa" in g:
                sig = sigma_lat + g["hydrostatic_stress_Pa"][:]
                kT = KB * T_K
                area = f["geometry/exchange_area_m2"][:]
                acc = f["geometry/accessibility"][:]
                grp = {}
                for name, want in (("interior", True), ("exterior", False)):
                    sel = np.zeros(vac.size, bool)
                    for p, gg in geo.prim.items():
                        if gg["interior"] == want:
                            sel[gg["idx"]] = True
                    sel = sel.reshape(vac.shape)
                    surf = sel & (area > 0)
                    w = area[surf] * acc[surf]
                    x = sig[surf]
                    grp[name] = dict(
                        sigma_h_full_charge_mean_MPa=float(sig[sel].mean() / 1e6),
                        sigma_h_full_charge_sd_MPa=float(sig[sel].std() / 1e6),
                        sigma_h_surface_mean_MPa=float(np.average(x, weights=w) / 1e6),
                        ceq_factor_surface=float(np.average(np.minimum(np.exp(veq * 1e-30 * x / kT), 1.0 / 0.0968),
                                                            weights=w)),
                        D_factor_volume=float(np.mean(np.exp(vd * 1e-30 * sig[sel] / kT))),
                    )
                d["full_charge_stress"] = grp
            m[str(c)] = d
    return m


# ---------------------------------------------------------------- report
def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}f}"


def iqr_text(s, nd=3):
    if s["n"] == 0:
        return "–"
    return f"{s['median']:+.{nd}f} [{s['q25']:+.{nd}f}, {s['q75']:+.{nd}f}] (n={s['n']})"


def write_tables(res, cases, cycles_out, path):
    L = []
    L.append("All numbers are from oxvac runs (synthetic), not measurements.\n")
    geo_int = res["geometry"]["interior_ids"]
    for c in cycles_out:
        L.append(f"### After cycle {c}\n")
        L.append("| case | loss large (at.%) | loss small (at.%) | interior / exterior (large) | small / large | "
                 "asymmetry interior: median [IQR] | asymmetry exterior: median [IQR] |")
        L.append("|---|---|---|---|---|---|---|")
        for cs in cases:
            d = res["cases"][cs["name"]]["metrics"][str(c)]
            a = d["asymmetry_vacancy"]
            L.append(f"| {cs['name']} ({cs['label']}) | {d['large_loss_pct']:.3f} | {d['small_loss_pct']:.3f} | "
                     f"{d['interior_over_exterior']:.3f} | {d['small_over_large']:.3f} | "
                     f"{iqr_text(a['interior'])} | {iqr_text(a['exterior'])} |")
        L.append("")
        L.append(f"Relative to the null case (the geometric baseline), cycle {c}: ratios divided by the null's, and the "
                 "per-primary asymmetry minus the same primary's in the null (paired), median [IQR]:\n")
        L.append("| case | (int/ext) / null | (small/large) / null | paired asymmetry shift, interior | "
                 "paired asymmetry shift, exterior |")
        L.append("|---|---|---|---|---|")
        n0 = res["cases"]["null"]["metrics"][str(c)]
        for cs in cases:
            d = res["cases"][cs["name"]]["metrics"][str(c)]
            a, a0 = d["asymmetry_per_primary"], n0["asymmetry_per_primary"]
            sh_i = summary_stats(a[p] - a0[p] for p in a if p in a0 and int(p) in geo_int)
            sh_e = summary_stats(a[p] - a0[p] for p in a if p in a0 and int(p) not in geo_int)
            d["paired_asymmetry_shift"] = dict(interior=sh_i, exterior=sh_e)
            L.append(f"| {cs['name']} | {d['interior_over_exterior'] / n0['interior_over_exterior']:.3f} | "
                     f"{d['small_over_large'] / n0['small_over_large']:.3f} | {iqr_text(sh_i)} | {iqr_text(sh_e)} |")
        L.append("")
        L.append(f"Primary-to-primary effect of each mechanism, cycle {c}: q_p = (primary's vacancy mean) / (the same "
                 "primary's in the null), over the primaries of the large secondary; sd of ln q_p (the heterogeneity "
                 "the mechanism adds) and Spearman's rank correlation of q_p with the centroid depth (< 0: deeper "
                 "primaries lose relatively less):\n")
        L.append("| case | sd of ln q_p | Spearman rho(depth, q_p) | p-value |")
        L.append("|---|---|---|---|")
        from scipy.stats import spearmanr
        for cs in cases:
            if cs["name"] == "null":
                continue
            d = res["cases"][cs["name"]]["metrics"][str(c)]
            pv, p0 = d["primary_vacancy_mean"], n0["primary_vacancy_mean"]
            keys = [p for p in pv if p0[p] > 0 and pv[p] > 0]
            q = np.array([pv[p] / p0[p] for p in keys])
            dep = np.array([res["geometry"]["primary_depth_nm"][p] for p in keys])
            rho, pval = spearmanr(dep, q)
            d["primary_effect"] = dict(sd_ln_q=float(np.std(np.log(q))), spearman_rho_depth=float(rho),
                                       spearman_p=float(pval), n=int(q.size))
            L.append(f"| {cs['name']} | {np.std(np.log(q)):.3f} | {rho:+.2f} | {pval:.2g} |")
        L.append("")
    c = cycles_out[-1]
    L.append(f"### Stress at full charge after cycle {c} (lattice part at soc 1 + vacancy part of the cycle-{c} field)\n")
    L.append("| case | sigma_h interior: mean ± sd (MPa) | sigma_h exterior: mean ± sd (MPa) | "
             "exchange-face sigma_h int / ext (MPa) | c_eq factor int / ext | D factor int / ext |")
    L.append("|---|---|---|---|---|---|")
    for cs in cases:
        d = res["cases"][cs["name"]]["metrics"][str(c)].get("full_charge_stress")
        if not d:
            continue
        i, e = d["interior"], d["exterior"]
        L.append(f"| {cs['name']} | {i['sigma_h_full_charge_mean_MPa']:+.0f} ± {i['sigma_h_full_charge_sd_MPa']:.0f} | "
                 f"{e['sigma_h_full_charge_mean_MPa']:+.0f} ± {e['sigma_h_full_charge_sd_MPa']:.0f} | "
                 f"{i['sigma_h_surface_mean_MPa']:+.0f} / {e['sigma_h_surface_mean_MPa']:+.0f} | "
                 f"{i['ceq_factor_surface']:.3f} / {e['ceq_factor_surface']:.3f} | "
                 f"{i['D_factor_volume']:.3f} / {e['D_factor_volume']:.3f} |")
    L.append("")
    L.append("| case | wall time (s) |")
    L.append("|---|---|")
    for cs in cases:
        L.append(f"| {cs['name']} | {res['cases'][cs['name']]['wall_s']:.0f} |")
    L.append(f"| all (with {res['jobs']} jobs at a time) | {res['study_wall_s']:.0f} |")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def plots(res, cases, cycles_out, geo, out, sigma_lat):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [c["name"] for c in cases]
    cN = cycles_out[-1]
    colors = {"null": "0.5", "A44": "tab:blue", "A25": "navy", "S_eq": "tab:orange", "S_eq_Dpos": "tab:red",
              "S_eq_Dneg": "tab:purple", "S_eqneg": "tab:brown"}
    files = []

    def save(fig, name):
        fig.tight_layout()
        p = os.path.join(out, name)
        fig.savefig(p, dpi=120)
        plt.close(fig)
        files.append(p)

    # 1. ratios
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(len(names))
    w = 0.38
    for ax, key, title, good in ((axs[0], "interior_over_exterior", "interior / exterior vacancy mean (large secondary)",
                                  "paper: < 1"),
                                 (axs[1], "small_over_large", "small / large secondary oxygen loss", "paper: > 1")):
        for j, c in enumerate(cycles_out):
            vals = [res["cases"][n]["metrics"][str(c)][key] for n in names]
            ax.bar(x + (j - 0.5) * w, vals, w, label=f"after cycle {c}",
                   color=("tab:gray" if j == 0 else "k"), alpha=(0.45 if j == 0 else 0.85))
        ax.axhline(1.0, color="r", lw=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_title(title, fontsize=10)
        ax.text(0.02, 0.95, good + " (direction only)", transform=ax.transAxes, va="top", fontsize=8, color="r")
        ax.set_ylim(min(0.5, ax.get_ylim()[0]), ax.get_ylim()[1] * 1.05)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("oxvac (synthetic): oxygen-loss ratios per case", fontsize=11)
    save(fig, "ratios.png")

    # 2. per-primary asymmetry
    fig, axs = plt.subplots(1, len(cycles_out), figsize=(5.5 * len(cycles_out), 4.2), squeeze=False)
    for j, c in enumerate(cycles_out):
        ax = axs[0][j]
        for i, n in enumerate(names):
            a = res["cases"][n]["metrics"][str(c)]["asymmetry_per_primary"]
            vi = [v for p, v in a.items() if geo.prim[int(p)]["interior"]]
            ve = [v for p, v in a.items() if not geo.prim[int(p)]["interior"]]
            rng = np.random.default_rng(0)
            ax.scatter(i - 0.15 + 0.08 * rng.standard_normal(len(vi)), vi, s=9, color="tab:green", alpha=0.7,
                       label="interior" if i == 0 else None)
            ax.scatter(i + 0.15 + 0.08 * rng.standard_normal(len(ve)), ve, s=9, color="tab:gray", alpha=0.7,
                       label="exterior" if i == 0 else None)
            for vv, dx, col in ((vi, -0.15, "darkgreen"), (ve, 0.15, "k")):
                if vv:
                    q = np.percentile(vv, [25, 50, 75])
                    ax.plot([i + dx - 0.12, i + dx + 0.12], [q[1], q[1]], color=col, lw=2)
                    ax.plot([i + dx, i + dx], [q[0], q[2]], color=col, lw=1)
        ax.axhline(0.0, color="r", lw=0.8)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_ylabel("(out - in) / (out + in), vacancy fraction")
        ax.set_title(f"per-primary asymmetry, large secondary, cycle {c}", fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle("oxvac (synthetic): 0 = radially symmetric (what the paper sees, l. 311-312); > 0 = more on the outward side",
                 fontsize=9)
    save(fig, "asymmetry.png")

    # 3. directional profile inside the primaries
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, interior in ((axs[0], True), (axs[1], False)):
        for n in names:
            with h5py.File(os.path.join(out, n + ".h5"), "r") as f:
                fld = f[cyc_name(cN)]["vacancy_fraction"][:]
            s, mval = geo.directional_profile(fld, interior=interior)
            ax.plot(s, mval, "-o", ms=3, color=colors.get(n), label=n)
        ax.set_xlabel("position along the outward direction / primary radius (0 = centroid)")
        ax.set_title(("interior" if interior else "exterior") + f" primaries of the large secondary, cycle {cN}",
                     fontsize=10)
        ax.axvline(0, color="0.7", lw=0.6)
    axs[0].set_ylabel("mean vacancy fraction")
    axs[1].legend(fontsize=8)
    fig.suptitle("oxvac (synthetic): vacancy fraction across each primary, inward (left) to outward (right)", fontsize=10)
    save(fig, "directional_profile.png")

    # 4. per-primary loss vs depth
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    for n in names:
        d = res["cases"][n]["metrics"][str(cN)]["primary_vacancy_mean"]
        dep = [geo.prim[int(p)]["depth"] * 1e9 for p in d]
        axs[0].scatter(dep, [100 * v for v in d.values()], s=8, color=colors.get(n), label=n, alpha=0.8)
        d0 = res["cases"]["null"]["metrics"][str(cN)]["primary_vacancy_mean"]
        axs[1].scatter(dep, [d[p] / d0[p] for p in d], s=8, color=colors.get(n), label=n, alpha=0.8)
    for ax in axs:
        ax.axvline(0, color="0.7", lw=0.6)
        ax.set_xlabel("depth of the primary's centroid below the secondary envelope (nm)")
    axs[0].set_ylabel(f"primary oxygen loss after cycle {cN} (at.%)")
    axs[1].set_ylabel("relative to the null case")
    axs[1].axhline(1, color="0.7", lw=0.6)
    axs[0].legend(fontsize=7)
    fig.suptitle("oxvac (synthetic): primaries of the large secondary", fontsize=10)
    save(fig, "loss_vs_depth.png")

    # 5. mid-plane maps (z = 0 layer = the large secondary's equator)
    show = [n for n in ("null", "A44", "S_eq_Dpos") if n in names]
    stress_case = "S_eq_Dpos" if "S_eq_Dpos" in names else next((n for n in names if n.startswith("S_")), None)
    fig, axs = plt.subplots(1, len(show) + 1, figsize=(4.1 * (len(show) + 1), 3.9))
    with h5py.File(os.path.join(out, "null.h5"), "r") as f:
        solid = f["geometry/solid"][0] > 0
    ext = [0, SHAPE[0] * VOXEL_NM / 1000, 0, SHAPE[1] * VOXEL_NM / 1000]
    for ax, n in zip(axs, show):
        with h5py.File(os.path.join(out, n + ".h5"), "r") as f:
            v = f[cyc_name(cN)]["vacancy_fraction"][0]
        im = ax.imshow(np.where(solid, v, np.nan), origin="lower", extent=ext, vmin=0, vmax=0.1, cmap="viridis")
        ax.set_title(f"{n}: vacancy fraction, cycle {cN}", fontsize=9)
        ax.set_xlabel("x (um)")
    fig.colorbar(im, ax=axs[len(show) - 1], fraction=0.046)
    if sigma_lat is not None and stress_case:
        with h5py.File(os.path.join(out, stress_case + ".h5"), "r") as f:
            sv = f[cyc_name(cN)]["hydrostatic_stress_Pa"][0]
        s = (sigma_lat[0] + sv) / 1e6
        im2 = axs[-1].imshow(np.where(solid, s, np.nan), origin="lower", extent=ext, vmin=-800, vmax=800, cmap="RdBu_r")
        axs[-1].set_title(f"{stress_case}: sigma_h at full charge (MPa), cycle {cN}", fontsize=9)
        fig.colorbar(im2, ax=axs[-1], fraction=0.046)
    axs[0].set_ylabel("y (um)")
    fig.suptitle("oxvac (synthetic): plane z = 0 (equator of the large secondary, left; a quarter of the small one, right edge)",
                 fontsize=9)
    save(fig, "midplane.png")

    # 6. oxygen loss over the cycles (whole domain)
    fig, ax = plt.subplots(figsize=(6, 4))
    for n in names:
        t = res["cases"][n]["metrics"]["timeseries"]
        cyc = np.array(t["cycle"])
        loss = np.array(t["loss_pct"])
        # the value at each cycle end: last row of that cycle
        ends = [np.where(cyc == k)[0][-1] for k in range(1, cN + 1) if np.any(cyc == k)]
        ax.plot(cyc[ends], loss[ends], color=colors.get(n), label=n)
    ax.set_xlabel("cycle")
    ax.set_ylabel("oxygen loss, both secondaries (at.%)")
    ax.legend(fontsize=7)
    ax.set_title("oxvac (synthetic)", fontsize=10)
    save(fig, "loss_vs_cycle.png")
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oxvac", default=os.path.join(ROOT, "build", "oxvac"), help="the oxvac binary (default build/oxvac)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default validation/stress_vs_access/out)")
    ap.add_argument("--cycles", type=int, default=125, help="full-cell cycles after formation (default 125)")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at a time, one MPI rank each (default 2)")
    ap.add_argument("--skip-run", action="store_true", help="post-process the results already in --out")
    ap.add_argument("--cases", default=",".join(ORDER), help="comma-separated subset (default all: %s)" % ",".join(ORDER))
    a = ap.parse_args()
    if a.cycles < 1:
        sys.exit("--cycles must be >= 1")
    exe = os.path.abspath(a.oxvac)
    out = os.path.abspath(a.out)
    want = [n.strip() for n in a.cases.split(",") if n.strip()]
    cases = [c for n in ORDER for c in CASES if c["name"] == n and n in want]
    if not any(c["name"] == "null" for c in cases):
        sys.exit("the case 'null' is needed (the reference of the plots)")
    cycles_out = [1] if a.cycles == 1 else [1, a.cycles]
    os.makedirs(os.path.join(out, "configs"), exist_ok=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    probe = dict(name="probe_lattice_soc1", label="lattice stress at full charge, no vacancies", access=None,
                 v_eq=0.0, v_d=0.0)
    jobs = []
    for c in cases + [probe]:
        cfg = os.path.join(out, "configs", c["name"] + ".cfg")
        with open(cfg, "w") as f:
            f.write(config_text(c, a.cycles, probe=(c is probe)))
        jobs.append((c["name"], cfg, os.path.join(out, c["name"] + ".h5"), os.path.join(out, "logs", c["name"] + ".log")))

    info_path = os.path.join(out, "run_info.json")
    if not a.skip_run:
        if not os.path.exists(exe):
            sys.exit(f"oxvac binary not found: {exe} (build it or pass --oxvac)")
        for name, cfg, _, _ in jobs:
            r = subprocess.run([exe, "check", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"oxvac check {cfg} failed: {r.stderr.strip()}")
        walls = {}
        t0 = time.time()
        print(f"running {len(jobs)} oxvac jobs, {a.jobs} at a time, {a.cycles} cycles, into {out}", flush=True)
        coupled = {c["name"] for c in cases if c["v_eq"] != 0.0 or c["v_d"] != 0.0}
        queue = sorted(jobs, key=lambda j: (j[0] not in coupled, j[0] == probe["name"]))  # the costly ones first
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            futs = {pool.submit(run_one, exe, cfg, h5, log): name for name, cfg, h5, log in queue}
            for fu in concurrent.futures.as_completed(futs):
                name = futs[fu]
                walls[name] = fu.result()
                print(f"  {name}: {walls[name]:.0f} s (at {time.time() - t0:.0f} s)", flush=True)
        info = dict(study_wall_s=time.time() - t0, walls=walls, cycles=a.cycles, jobs=a.jobs, machine=machine(),
                    oxvac=exe, finished=datetime.datetime.now().isoformat(timespec="seconds"))
        with open(info_path, "w") as f:
            json.dump(info, f, indent=1)
    with open(info_path) as f:
        info = json.load(f)
    if info["cycles"] != a.cycles:
        sys.exit(f"results in {out} are for --cycles {info['cycles']}")

    # ---- metrics
    with h5py.File(os.path.join(out, "null.h5"), "r") as f:
        geo = Geometry(f)
        git_rev = f.attrs["git_revision"]
        git_rev = git_rev.decode() if isinstance(git_rev, bytes) else str(git_rev)
    with h5py.File(os.path.join(out, probe["name"] + ".h5"), "r") as f:
        sigma_lat = f["fields/cycle_000000/hydrostatic_stress_Pa"][:]
    n_int = sum(1 for g in geo.prim.values() if g["interior"])
    n_mis = sum(1 for g in geo.prim.values() if g["interior"] != g["ox_interior"])
    res = dict(
        note="All simulation numbers are from oxvac runs (synthetic), not measurements.",
        oxvac_git_revision=git_rev, machine=info["machine"], cycles=a.cycles, jobs=info["jobs"],
        study_wall_s=info["study_wall_s"],
        parameters=dict(voxel_nm=VOXEL_NM, shape=SHAPE, seed=SEED, large=LARGE, small=SMALL, beta=BETA,
                        lattice_a_full_charge=LATTICE_A, lattice_c_full_charge=LATTICE_C, young_GPa=150.0,
                        poisson=0.3, omega_O_A3=OMEGA_O_A3, V_eq_A3=V_EQ, V_D_A3=V_D, temperature_K=T_K,
                        update_tolerance=UPDATE_TOL, access_lengths_nm=ACCESS_LENGTHS_NM),
        geometry=dict(n_primaries_large=len(geo.prim), n_interior_large=n_int, n_exterior_large=len(geo.prim) - n_int,
                      n_classified_differently_from_oxvac=n_mis,
                      n_primaries_large_in_grid=int(np.sum(geo.psec == 1)),
                      n_primaries_small_in_grid=int(np.sum(geo.psec == 2)),
                      exchange_area_per_volume_per_nm=dict(
                          interior=float(np.mean([geo.area_per_volume[p - 1] for p, g in geo.prim.items() if g["interior"]]) * 1e-9),
                          exterior=float(np.mean([geo.area_per_volume[p - 1] for p, g in geo.prim.items() if not g["interior"]]) * 1e-9),
                          small=float(np.mean(geo.area_per_volume[geo.psec == 2]) * 1e-9)),
                      primary_radius_nm_mean=dict(
                          interior=float(np.mean([g["r"] for g in geo.prim.values() if g["interior"]]) * 1e9),
                          exterior=float(np.mean([g["r"] for g in geo.prim.values() if not g["interior"]]) * 1e9))),
        cases={},
    )
    res["geometry"]["interior_ids"] = sorted(p for p, g in geo.prim.items() if g["interior"])
    res["geometry"]["primary_depth_nm"] = {str(p): g["depth"] * 1e9 for p, g in geo.prim.items()}
    for c in cases:
        path = os.path.join(out, c["name"] + ".h5")
        res["cases"][c["name"]] = dict(label=c["label"], access_length_nm=c["access"], V_eq_A3=c["v_eq"], V_D_A3=c["v_d"],
                                       defensible=c["defensible"], wall_s=info["walls"].get(c["name"]),
                                       metrics=case_metrics(path, geo, cycles_out, sigma_lat))
    write_tables(res, cases, cycles_out, os.path.join(out, "tables.md"))  # adds the paired shifts to res
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    figs = plots(res, cases, cycles_out, geo, out, sigma_lat)
    if os.path.abspath(out) == os.path.abspath(DEFAULT_OUT) and a.cycles == 125 and len(cases) == len(ORDER):
        for sub, files in (("figures", figs), ("configs", [j[1] for j in jobs])):
            d = os.path.join(HERE, sub)
            os.makedirs(d, exist_ok=True)
            for p in files:
                shutil.copy(p, d)
        shutil.copy(os.path.join(out, "tables.md"), os.path.join(HERE, "figures", "tables.md"))
        shutil.copy(os.path.join(out, "results.json"), os.path.join(HERE, "figures", "results.json"))
    print(open(os.path.join(out, "tables.md")).read())
    print(f"wrote {out}/results.json, tables.md and {len(figs)} figures")


if __name__ == "__main__":
    main()
