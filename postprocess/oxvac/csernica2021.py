"""Validation report against Csernica et al., Nature Energy 6, 2021.

    PYTHONPATH=postprocess /usr/bin/python3 -m oxvac.csernica2021 RESULT.h5 --out DIR [--config CFG]
        [--run-info RUN_INFO.json] [--reference PAPER.txt]

writes DIR/REPORT.md and DIR/*.png from an oxvac result of
inputs/csernica2021.cfg. Paper numbers are quoted as printed, each with its
line in the reference text (file line, and the paper's own line number that
the text carries at the start of each line); when the reference text is at
hand every quote is checked against its line.
"""
import argparse
import datetime
import json
import os
import re
import sys

import numpy as np

from . import metrics as M
from .plot import figures as F
from .plot.style import save
from .result import Result

REFERENCE = None  # the manuscript text is not in the repository: --reference PAPER.txt
CITATION = ("P. M. Csernica et al., Persistent and partially mobile oxygen vacancies in Li-rich "
            "layered oxides, Nature Energy 6, 642–652 (2021), doi:10.1038/s41560-021-00832-7")

# (key, file line, paper line, verbatim excerpt of that line, LaTeX markup removed)
QUOTES = {
    "D": (218, 169, "within an order of magnitude of 10^-17 cm2 s-1 in the delithiated state"),
    "D2": (486, 386, "diffusivity of ~10^-17 cm2 s-1 in the delithiated state"),
    "loss1": (165, 123, "~3.3 at. % after the first cycle (which is preceded by formation"),
    "loss500": (166, 124, "~6.5 at. % after 500 cycles (Supplementary Note 1)"),
    "pen": (200, 153, "progressively enters (> 100 nm) into the bulk"),
    "pen2": (201, 154, "material over many electrochemical cycles (Fig. 2d)"),
    "fig2": (969, 806, "after b 1 cycle and c 125 cycles"),
    "inout": (383, 299, "significantly more oxidized, and thus release less oxygen, than those outside of the agglomerate"),
    "inout0": (382, 298, "the primary particles inside of the large agglomerate are"),
    "extint": (389, 304, "that within the large agglomerate, primary particles near the exterior are more reduced than those"),
    "extint2": (390, 305, "on the interior"),
    "small": (393, 308, "particles or from small secondary particles release a relatively large quantity of oxygen"),
    "fig4": (1032, 860, "taken after 1 cycle followed by discharging to 2.5 V"),
    "mn": (582, 473, "sectioned samples ( Mn3.80+ in Fig. 4a)"),
    "mnco": (154, 113, "Mn and Co are progressively reduced from their initial Mn4+ and Co3+ states"),
    "ni": (155, 114, "while Ni remains in its initial Ni2+ state"),
    "sizes": (109, 73, "particles (~ 200 nm), secondary particles (~ 5 um)"),
    "mech": (404, 318, "Diminished electrolyte-induced oxygen release for interior primary particles is also possible"),
    "stress": (403, 317, "could modify the local oxygen chemical potential and/or diffusivity"),
    "proto": (507, 404, "at a 1C/2C charge/discharge rate between 2.5 - 4.55 V with a ~ 45 min constant voltage"),
    "form": (505, 402, "This cycling included a four cycle formation cycling procedure"),
    "halfcell": (133, 94, "into half cells where they were cycled once more against Li metal"),
    "halfrate": (134, 95, "discharging at ~4 mA g-1 in a half cell after up to 500 full cell cycles"),
    "numbering": (521, 416, "are one higher than the number of cycles conducted in the mini-18650 cell"),
    "numbering2": (523, 418, "then 1 more cycle at low rate in a coin cell"),
    "crate": (509, 406, "C-rates were calculated based on a capacity of 215"),
    "notconst": (231, 178, "the true chemical diffusivity is likely not constant during cycling"),
    "edges": (193, 147, "the particle edges, indicating that oxygen release initiates at the surface of particles"),
}


def _norm(s):
    """Strip the LaTeX / HTML markup of the reference text for comparison."""
    s = s.replace("\\mu\\text{m}", "um").replace("μm", "um").replace("–", "-")
    s = re.sub(r"<sup>(.*?)</sup>", r"\1", s)
    s = re.sub(r"\\text\{([^}]*)\}", r"\1", s)
    s = re.sub(r"\\sim\s*", "~", s)
    s = s.replace("**", "").replace("$", "").replace("{", "").replace("}", "").replace("^", "^")
    s = re.sub(r"\^\s*", "^", s)
    s = re.sub(r"\s+", " ", s)
    return s.strip()


def check_quotes(path):
    """{key: True/False} whether each excerpt occurs on its stated line; {} without the text."""
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = {}
    for k, (fl, pl, ex) in QUOTES.items():
        line = _norm(lines[fl - 1]) if fl - 1 < len(lines) else ""
        want = _norm(ex)
        # the paper's own line number leads the line
        out[k] = (want.replace(" ", "") in line.replace(" ", "").replace("^", "")
                  or want.replace(" ", "").replace("^", "") in line.replace(" ", "").replace("^", "")) \
            and re.match(r"\s*-?\s*%d\b" % pl, lines[fl - 1]) is not None
    return out


def cite(key):
    fl, pl, ex = QUOTES[key]
    return f"\"{ex}\" (paper l. {pl})"


def _save(fig, out_dir, name):
    return save(fig, os.path.join(out_dir, name))


def _fmt(x, nd=3):
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{nd}f}"


# ---------------------------------------------------------------- analysis
def analyse(res, bin_nm=10.0, fraction=0.10, min_count=100):
    """Every number the report needs, from one result file."""
    A = {}
    cycles, loss, times = res.loss_per_cycle()
    A["cycles"], A["loss"], A["times"] = cycles, loss, times
    A["loss1"] = res.loss_at_cycle(1)
    A["loss125"] = res.loss_at_cycle(125) if (cycles == 125).any() else float("nan")
    A["loss500"] = res.loss_at_cycle(500) if (cycles == 500).any() else float("nan")
    A["loss0"] = float(loss[cycles == 0][-1]) if (cycles == 0).any() else float("nan")
    A["mn_share"], A["formula_mn"] = res.mn_share, res.formula_mn
    A["averaging"] = res.averaging()
    ts = res.timeseries()
    inv, rel = ts.get("inventory_mol"), ts.get("released_mol")
    A["conservation"] = float(abs(inv[-1] - rel[-1]) / rel[-1]) if inv is not None and rel[-1] > 0 else float("nan")

    labels = res.labels()
    solid = labels > 0
    h = res.voxel_m
    A["voxel_nm"], A["shape"], A["nsolid"] = h * 1e9, res.shape_xyz, int(solid.sum())
    dist = M.own_surface_distance(labels, h)
    A["field_cycles"] = [c for c in res.field_cycles() if c >= 1]
    A["profiles"], A["pen"], A["mnval_field"], A["stored_pen"] = {}, {}, {}, {}
    for c in A["field_cycles"]:
        fld = res.field(c)
        prof = M.distance_profile(dist, fld, solid, bin_nm)
        A["profiles"][c] = prof
        A["pen"][c] = M.penetration_nm(prof, fraction, min_count)
        A["mnval_field"][c] = M.mn_valence(fld[solid], A["mn_share"], A["formula_mn"])
        sp = res.stored_profile("profiles", c)
        if sp is not None and "vacancy_fraction" in sp:
            p2 = {"distance_nm": sp["distance_nm"], "mean": sp["vacancy_fraction"], "count": sp["count"]}
            A["stored_pen"][c] = (M.penetration_nm(p2, fraction, min_count), sp)
    A["slice_cycles"] = sorted({c for c in A["field_cycles"] if c == 1 or c == max(A["field_cycles"])})
    A["labels"], A["solid"], A["dist"] = labels, solid, dist
    A["secondary_field"] = res.secondary()
    A["lamella"] = {c: res.stored_profile("lamella", c) for c in A["field_cycles"]}

    T = M.particle_table(res)
    pc, pv = res.particle_series()
    groups = M.particle_groups(res, T)
    A["T"], A["groups"], A["pcycles"] = T, groups, pc
    A["group_means"] = {}
    A["particle_values"] = {}
    for i, c in enumerate(pc):
        vals = pv[i][T["index"]]
        A["particle_values"][int(c)] = vals
        A["group_means"][int(c)] = M.group_means(T, vals, groups)
    A["big"] = M.largest_secondary(res)
    A["n_particles"] = int(len(T["volume_m3"]))
    return A


# ---------------------------------------------------------------- report
def build(result, out_dir, config_path=None, run_info=None, reference=REFERENCE):
    os.makedirs(out_dir, exist_ok=True)
    res = Result(result)
    A = analyse(res)
    qok = check_quotes(reference)
    mn_share, fmn = A["mn_share"], A["formula_mn"]
    figs = {}

    # --- figures: the same functions as `python3 -m oxvac.plot` (oxvac.plot.figures)
    last = int(A["cycles"].max())
    paper = [(c, v, lab) for c, v, lab in ((1, 3.3, "paper, XAS (paper l. 123-124)"), (500, 6.5, None))
             if c <= last]
    if paper and paper[0][2] is None:
        paper[0] = (paper[0][0], paper[0][1], "paper, XAS (paper l. 123-124)")
    figs["loss"] = _save(F.loss_figure(res, x="cycle", soc=False, ends_only=True, points=paper),
                         out_dir, "oxygen_loss.png")
    pcycles = [c for c in res.stored_cycles("profiles") if c >= 1]
    if pcycles:
        figs["profiles"] = _save(F.profiles_figure(res, "3d", pcycles, "vacancy", marks=[100.0]),
                                 out_dir, "profiles.png")
        figs["mn_profiles"] = _save(F.profiles_figure(res, "3d", pcycles, "mn3", marks=[100.0]),
                                    out_dir, "mn3_profiles.png")
    lam = {c: v for c, v in A["lamella"].items() if v is not None}
    if lam:
        figs["lamella"] = _save(F.profiles_figure(res, "lamella", sorted(lam), "mn3", marks=[100.0]),
                                out_dir, "lamella_mn3.png")
        A["lamella_pen"] = {c: M.penetration_nm({"distance_nm": v["distance_nm"], "mean": v["mn3_fraction"],
                                                 "count": v["count"]}) for c, v in sorted(lam.items())}
    dcycles = [int(c) for c in A["pcycles"] if c >= 1] or [int(A["pcycles"][-1])]
    figs["depth"] = _save(F.depth_figure(res, dcycles, binned_um=0.2, marks=[0.3, 1.0]),
                          out_dir, "particle_depth.png")
    # sections through the large secondary's centre (mirrored across the domain faces it lies on)
    figs["slice"] = _save(F.slice_figure(res, A["slice_cycles"], "z", secondary=A["big"][0], quantity="mn3"),
                          out_dir, "slice_mn3.png")

    # --- criteria
    pen125 = A["pen"].get(125, (float("nan"),))[0]
    gm1 = A["group_means"].get(1, {})
    mn1 = A["mnval_field"].get(1, 4.0 - float(M.mn3_fraction(A["loss1"] / 100.0, mn_share, fmn)))
    rows = []

    def row(q, paper, model, crit, ok, role):
        rows.append((q, paper, model, crit, "yes" if ok else "**no**", role))

    d1 = _d_at_full_charge(res.config)
    row("O chemical diffusivity, delithiated (soc = 1)", cite("D"), f"{d1:.3g} cm2/s (table value at soc 1.0; "
        "median over primaries)", "= 1e-17 cm2/s", abs(d1 - 1e-17) < 1e-22, "input (fixed)")
    row("O loss after cycle 1 (at.%)", cite("loss1"), _fmt(A["loss1"], 2), "within 0.5 of 3.3",
        abs(A["loss1"] - 3.3) <= 0.5, "calibration target")
    row("O loss after cycle 500 (at.%)", cite("loss500"), _fmt(A["loss500"], 2), "within 0.5 of 6.5",
        abs(A["loss500"] - 6.5) <= 0.5, "calibration target")
    pens = ", ".join(f"cycle {c}: {_fmt(A['pen'][c][0], 0)} nm" for c in sorted(A["pen"]))
    row("Penetration of the deficiency into primaries", cite("pen") + " " + cite("pen2") + "; Fig. 2: "
        + cite("fig2"), pens, "> 100 nm at cycle 125", pen125 > 100.0, "prediction")
    if gm1:
        ii, ss, ee, aa = gm1["large_interior"], gm1["small"], gm1["large_exterior"], gm1["large_all"]
        row("Primaries inside the large agglomerate vs outside it, cycle 1", cite("inout0") + " " + cite("inout")
            + "; " + cite("small") + "; Fig. 4: " + cite("fig4"),
            f"mean c: large secondary, all primaries {100 * aa:.2f} %, interior {100 * ii:.2f} %; "
            f"small secondaries {100 * ss:.2f} %",
            "all and interior < small", (aa < ss) and (ii < ss),
            "prediction (ordering built into the depth hypothesis)")
        row("Exterior vs interior primaries of the large agglomerate, cycle 1", cite("extint") + " "
            + cite("extint2"), f"mean c: exterior {100 * ee:.2f} % > interior {100 * ii:.2f} %",
            "exterior > interior", ee > ii, "prediction (ordering built into the depth hypothesis)")
    row("Mn valence, electrode average, after cycle 1", cite("mn") + "; Fig. 4: " + cite("fig4"),
        _fmt(mn1, 3), "within 0.05 of 3.80", abs(mn1 - 3.80) <= 0.05, "prediction (mn_share from stoichiometry)")

    # --- text
    L = []
    w = L.append
    w("# Validation: Csernica et al., Nature Energy 6 (2021)\n")
    w(f"Reference: {CITATION}. Its figures and supplement are not available; every paper number below is "
      "quoted from the main text as printed, with the line number printed in the authors' accepted manuscript "
      "(\"paper l.\").")
    if qok:
        bad = [k for k, v in qok.items() if not v]
        w(f"Quote check: {len(qok) - len(bad)}/{len(qok)} excerpts found verbatim on their stated lines of the "
          "accepted manuscript's text when this report was generated" + (f"; NOT found: {', '.join(bad)}." if bad else "."))
    else:
        w("Quote check: the manuscript's text was not given (--reference PAPER.txt), so the quotes were not re-checked.")
    w("")
    w(f"Generated by `validation/csernica2021/run.py` on {datetime.date.today().isoformat()} from "
      f"`{os.path.relpath(result)}` (oxvac {res.version}; command: `{res.command}`). Regenerate with "
      "`/usr/bin/python3 validation/csernica2021/run.py` (runs and reports) or `... --skip-run` (report only).\n")

    w("## Model vs paper\n")
    w("| quantity | paper (as printed, line) | model | criterion | pass | role |")
    w("|---|---|---|---|---|---|")
    for r in rows:
        w("| " + " | ".join(r) + " |")
    npass = sum(r[4] == "yes" for r in rows)
    w(f"\n{npass} of {len(rows)} rows pass.\n")

    w("## Calibration and predictions\n")
    w(CALIBRATION_TEXT.format(loss1=A["loss1"], loss500=A["loss500"], ratio=A["loss500"] / A["loss1"],
                              level=level_factor(A["loss1"], A["loss500"])))
    if config_path and os.path.exists(config_path):
        w(f"\nThe parameter set, `{config_path}` (its comments give each choice):\n")
        w("```")
        with open(config_path) as f:
            w(f.read().rstrip())
        w("```\n")

    w("## Oxygen loss vs cycle\n")
    w(f"![oxygen loss]({os.path.basename(figs['loss'])})\n")
    w(f"End of the formation block (cycle 0: formation + half-cell cycle, the exact history of the paper's "
      f"\"1 cycle\" sample): {_fmt(A['loss0'], 2)} at.%; cycle 1: {_fmt(A['loss1'], 2)}; cycle 125: "
      f"{_fmt(A['loss125'], 2)}; cycle 500: {_fmt(A['loss500'], 2)} at.%; ratio 500/1 = "
      f"{A['loss500'] / A['loss1']:.3f} (paper 6.5/3.3 = {6.5 / 3.3:.3f}). Oxygen loss is "
      "100 x the solid-volume mean of the vacancy site fraction at the end of the cycle (discharged, "
      "after the 10 min rest).\n")

    w("## Penetration into primary particles\n")
    w("Definition: for every solid voxel, the distance from its centre to the surface of its own primary "
      "particle (Euclidean distance transform per particle, surface half a voxel beyond the outermost voxel "
      "centres, domain faces treated as the mirror planes they are); voxels are binned by that distance "
      "(10 nm bins) over all primaries of the domain. **Penetration** = the largest distance at which the bin "
      "mean of the vacancy fraction is still >= 10 % of its value in the surface bin, over bins holding "
      ">= 100 voxels. It is computed in `postprocess/oxvac/metrics.py` from `/fields/cycle_N/vacancy_fraction` and "
      "`/geometry/labels`. After one cycle the deficiency is concentrated at the surfaces, as the paper sees "
      "it (" + cite("edges") + "), and it moves inwards with cycling.\n")
    w("| cycle | surface-bin c (%) | penetration (nm) | deepest bin with >= 100 voxels (nm) | Mn valence (field) |")
    w("|---|---|---|---|---|")
    for c in sorted(A["pen"]):
        p, s, dmax = A["pen"][c]
        w(f"| {c} | {100 * s:.2f} | {_fmt(p, 0)} | {_fmt(dmax, 0)} | {A['mnval_field'][c]:.3f} |")
    if A["stored_pen"]:
        w("\nIndependent check with the profiles oxvac writes itself (`/profiles`, same definition applied):\n")
        w("| cycle | penetration from /profiles (nm) | from postprocess (nm) |")
        w("|---|---|---|")
        for c, ((p, s, dmax), sp) in sorted(A["stored_pen"].items()):
            w(f"| {c} | {_fmt(p, 0)} | {_fmt(A['pen'][c][0], 0)} |")
    if A.get("lamella_pen"):
        w("\nThe same definition on the virtual lamella oxvac writes (`/lamella`: 80 nm slab through the large "
          "secondary's centre, Mn3+ projected along the beam, binned by the 2D distance from each particle's "
          "edge in the image; the paper's geometry, paper l. 290; penetration uses bins of >= 100 pixels):\n")
        w("| cycle | edge-bin Mn3+ | penetration (bins >= 100 pixels) | deepest such bin (nm) | penetration (bins >= 20 pixels) |")
        w("|---|---|---|---|---|")
        for c, (p, s_, dmax) in A["lamella_pen"].items():
            v = lam[c]
            p20 = M.penetration_nm({"distance_nm": v["distance_nm"], "mean": v["mn3_fraction"], "count": v["count"]},
                                   min_count=20)[0]
            w(f"| {c} | {s_:.3f} | {_fmt(p, 0)} | {_fmt(dmax, 0)} | {_fmt(p20, 0)} |")
        w("\nThe section through the octant holds a quarter of the large secondary's cross-section, so few "
          "pixels lie deep inside primaries: the 100-pixel rule stops the lamella profile near 85 nm.")
    if "profiles" in figs:
        w(f"\n![profiles]({os.path.basename(figs['profiles'])})\n")
        w(f"![Mn3+ profiles]({os.path.basename(figs['mn_profiles'])})\n")
    if "lamella" in figs:
        w(f"![lamella]({os.path.basename(figs['lamella'])})\n")

    w("## Heterogeneity between primaries (secondary-particle scale)\n")
    big, rbig = A["big"]
    w(f"Groups (volume-weighted means of the primaries' mean vacancy fraction, `/particles_series`; depth = "
      f"centroid depth below the envelope sphere of the large secondary, id {big}, radius {rbig:g} um): "
      "*exterior* = large secondary, depth < 0.3 um; *interior* = large secondary, depth > 1.0 um; *small* = "
      "all primaries of the small secondaries. Mn valence of a group from its mean c.\n")
    w("| cycle | exterior c (%) | interior c (%) | small secondaries c (%) | Mn val. exterior | Mn val. interior | Mn val. small | primaries (ext / int / small) |")
    w("|---|---|---|---|---|---|---|---|")
    for c in sorted(A["group_means"]):
        m = A["group_means"][c]
        mv = lambda x: 4.0 - float(M.mn3_fraction(x, mn_share, fmn))  # noqa: E731
        w(f"| {c} | {100 * m['large_exterior']:.2f} | {100 * m['large_interior']:.2f} | {100 * m['small']:.2f} | "
          f"{mv(m['large_exterior']):.3f} | {mv(m['large_interior']):.3f} | {mv(m['small']):.3f} | "
          f"{m['large_exterior_n']} / {m['large_interior_n']} / {m['small_n']} |")
    w(f"\n![primary means vs depth]({os.path.basename(figs['depth'])})\n")
    w(f"![section]({os.path.basename(figs['slice'])})\n")

    w("## Numerics and cost\n")
    nx, ny, nz = A["shape"]
    w(f"- Grid {nx} x {ny} x {nz} voxels of {A['voxel_nm']:g} nm, {A['nsolid']} solid voxels, "
      f"{A['n_particles']} primaries with voxels in the domain (domain faces are mirror planes: the domain is "
      "one octant of the microstructure).")
    av = A["averaging"]
    if av:
        w(f"- Cycle-averaged time integration (solver.time_mode = \"averaged\"); its own error estimate "
          f"over cycles 1-{av['window_cycles']:g} (averaged vs resolved): total oxygen loss "
          f"{av['error_loss_rel']:+.2e} relative, increment {av['error_increment_rel']:+.2e} relative.")
    w(f"- Conservation: |inventory - released| / released = {A['conservation']:.1e} at the end.")
    if run_info:
        w(f"- Wall time of the run: {run_info.get('wall_s', float('nan')):.0f} s on {run_info.get('machine', '?')}, "
          f"{run_info.get('ranks', 1)} MPI rank; command `{run_info.get('command', '')}`; "
          f"finished {run_info.get('finished', '?')}.")
    w("")
    # Sections written by other scripts of validation/csernica2021 (kept beside the report).
    for name, title in (("layer_change.md", "What the sub-voxel surface layer changed"),
                        ("grid_convergence.md", "Grid convergence")):
        path = os.path.join(out_dir, name)
        if os.path.exists(path):
            w(f"## {title}\n")
            with open(path) as f:
                w(f.read().rstrip() + "\n")
    w(LIMITS_TEXT)
    w("\n## Quotes used (verbatim, markup removed)\n")
    for k, (fl, pl, ex) in QUOTES.items():
        mark = "" if not qok else (" (checked)" if qok.get(k) else " (**not found on this line**)")
        w(f"- paper l. {pl}: \"{ex}\"{mark}")
    with open(os.path.join(out_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    res.close()
    return rows


def _d_at_full_charge(config_text):
    m = re.search(r"diffusivity_cm2_s\s*=\s*\{\s*soc\s*=\s*\[([^\]]*)\]\s*;\s*value\s*=\s*\[([^\]]*)\]", config_text)
    if not m:
        return float("nan")
    soc = [float(x) for x in m.group(1).split(",")]
    val = [float(x) for x in m.group(2).split(",")]
    scale = re.search(r"diffusivity_scale\s*=\s*([-+0-9.eE]+)\s*;", config_text)
    s = float(scale.group(1)) if scale else 1.0
    return s * float(np.interp(1.0, soc, val))


def level_factor(loss1, loss500, target1=3.3, target500=6.5):
    """Factor on c_eq that makes the misses on the two targets equal and
    opposite (minimises the larger absolute miss, as the +-0.5 at.% criteria
    judge them). The model is linear in c with c_eq its only source and c = 0
    at the start, so the factor is exact: the run with c_eq times the factor
    gives every loss times the factor."""
    return (target1 + target500) / (loss1 + loss500)


CALIBRATION_TEXT = """\
**Calibration targets: the oxygen loss after cycle 1 (3.3 at.%) and after cycle 500 (6.5 at.%), and only
those.** The model is linear in the vacancy fraction c, with the surface equilibrium fraction c_eq as its
only source, and c starts at 0: multiplying c_eq multiplies c, the oxygen loss and every profile by the
same factor. Hence two steps:

1. *Shape*, the ratio loss(500) / loss(1) (paper: 6.5 / 3.3 = 1.97), set by the dynamic parameters.
   Fixed beforehand: D = 1e-17 cm2/s at full charge (for the median primary), primary and secondary
   sizes, the cycling protocol, and the slow half-cell cycle the characterised electrodes received (a
   reading of the Methods, below). Chosen and stated, not fitted: the soc window of the release (above
   half charge), the D table below half charge, the exchange velocity (fast enough that primaries at the
   electrolyte are diffusion-limited), and the spread of D between primaries (`material.particle_spread
   = 1.4`: 90 % of the primaries within a factor 10 of the median, the paper's "within an order of
   magnitude" for individual-particle fits). Without the half-cell cycle the microstructure gave a ratio
   of 3.18, and single-primary runs showed no setting in these ranges that would bring it near 2 (even
   D = 1e-17 at every soc gives 2.2 for one 100 nm-radius primary, more for larger ones); with it the
   microstructure gave 2.03 (accessibility length 300 nm) and 2.13 (200 nm). The length was then set
   to 200 nm, for a clear interior / exterior contrast (the paper: "significantly more oxidized"), at
   the cost of the larger ratio. `validation/csernica2021/calibration.md` lists every run.
2. *Level*: c_eq multiplied by the factor that makes the misses on the two targets equal and
   opposite, (3.3 + 6.5) / (loss1 + loss500) of the shape run, exact by linearity. The run reported
   here confirms it: cycle 1 {loss1:.2f} at.%, cycle 500 {loss500:.2f} at.% (ratio {ratio:.3f}); the
   factor this run itself implies is {level:.4f} (1 = calibrated).

**Predictions (not fitted):** the penetration depth at cycles 1, 125 and 500; the Mn valence after
cycle 1 (from the calibrated loss through `observables.mn_share`, fixed beforehand by stoichiometry,
below); the size of the interior / exterior / small-secondary differences. The *ordering* of those
groups is not an independent test: it follows from the accessibility hypothesis put into the model
(`surface.accessibility = depth`, exchange scaled by exp(-depth / length)), one of the causes the paper
offers (paper l. 317-318: stress in large secondaries modifying the local oxygen
chemical potential, or diminished electrolyte-induced release for interior primaries). What the model
adds is that this hypothesis, with one length, gives the ordering together with the two loss numbers.

**The half-cell cycle.** After the full-cell cycling every characterised electrode was "cycled once
more against Li metal" at ~4 mA/g (paper l. 94-95), i.e. about C/54 at the paper's
215 mAh/g (paper l. 406), and a sample labelled "N cycles" had N-1 full-cell cycles before it (paper
l. 416-418, stated for Fig. 1a; assumed here for all samples). That slow cycle
holds the electrode above half charge for about 54 h, more than the four formation cycles together
(40 h at C/10); leaving it
out, the cycle-1 loss is much smaller relative to cycle 500 and no choice of the other parameters in
their stated ranges gives the paper's ratio (calibration.md). It is part of the `formation` block,
before the cycling, so one run serves every cycle number: model cycle N = formation + half-cell cycle
+ N full-cell cycles, one full-cell cycle more than the paper's sample (the row for model cycle 0 is
the exact history of the paper's "1 cycle" sample; both are given below).

`observables.mn_share = 0.869 = 0.53 / (0.53 + 0.08)`: the electrons the vacancies leave are shared
between Mn and Co in proportion to their amounts (both are reduced, Ni is not: paper
l. 113-114). An assumption, not a fit; with all electrons on Mn (mn_share = 1) the cycle-1 valence
would be lower by about 0.03.
"""

LIMITS_TEXT = """\
## Limits of this comparison

- The paper's Fig. 2d profiles and Fig. 4c,d values are not available (figures and supplement are
  missing), so profile shape and heterogeneity are compared with the text's statements, not point by
  point. The paper reads penetration from 2D projections of ~80 nm lamellae (paper l. 290),
  which mix depths; the model's primary measure is the 3D distance to each primary's own surface (the
  virtual-lamella value, where oxvac wrote one, is given for comparison).
- The paper's 3.3 / 6.5 at.% and Mn 3.80+ are electrode averages over secondaries of all sizes; the model
  holds one 5 um secondary and three 1.2 um ones, so its averages weight large secondaries by that choice.
- Formation rates are not in the main text (paper l. 402-403: Supplementary Methods); C/10 is assumed, as
  in inputs/paper.cfg. The constant-voltage hold is an exponential approach to full charge.
- 25 nm voxels (8 across a mean primary) with the sub-voxel surface layer (docs/numerics.md): on a single
  100 nm-radius primary the layer brings the uptake within 2.5 % of a fine radial solution after
  formation and 5 cycles (without it the first cycle's uptake was half of the converged value); the grid
  convergence section gives 25 vs 12.5 nm on the microstructure.
- The surface reconstruction layer (a few nm, paper l. 258-259) and densification
  (~15 %) are not modelled; all oxygen loss is vacancies in the layered phase.
- D is a function of soc only; the paper notes the true chemical diffusivity is likely not constant
  during cycling (paper l. 178).
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result")
    ap.add_argument("--out", required=True)
    ap.add_argument("--config")
    ap.add_argument("--run-info")
    ap.add_argument("--reference", default=REFERENCE)
    a = ap.parse_args(argv)
    info = None
    if a.run_info and os.path.exists(a.run_info):
        with open(a.run_info) as f:
            info = json.load(f)
    rows = build(a.result, a.out, a.config, info, a.reference)
    for r in rows:
        print(" | ".join(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
