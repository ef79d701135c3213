#!/usr/bin/python3
"""Damaged or hostile checkpoints (issue 12): `oxvac run CFG -o OUT --restart
CKPT` on each exits 2 before any work with one 'CKPT: dataset '/path': ...;
expected ...' (or 'CKPT: file: ...') line, leaves no OUT / partial file and
the checkpoint's bytes unchanged, and never crashes; the intact checkpoint
still restarts to the uninterrupted run's result, bitwise.

usage: test_bad_checkpoints.py --oxvac PATH [--mpiexec "mpiexec -n 2"] [--keep DIR]
"""
import hashlib
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "data", "sweep", "base.cfg")
SETS = ["--set", "protocol.cycling.repeat=3", "--set", "output.checkpoint_every_cycles=1"]
CRASH = ("Segmentation", "PETSC ERROR", "AddressSanitizer", "Traceback", "core dumped", "HDF5-DIAG")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def replace(f, path, data):
    """Replace dataset path by data, keeping its attributes."""
    attrs = dict(f[path].attrs)
    del f[path]
    f[path] = data
    for k, v in attrs.items():
        f[path].attrs[k] = v


def edit(fn):
    def apply(path):
        with h5py.File(path, "r+") as f:
            fn(f)
    return apply


def raw(fn):
    def apply(path):
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(fn(data))
    return apply


def set_attr(obj, name, value):
    return edit(lambda f: f[obj].attrs.__setitem__(name, value))


def modify(path, fn):
    return edit(lambda f: replace(f, path, fn(f[path][...])))


def drop(path):
    return edit(lambda f: f.__delitem__(path))


def drop_attr(obj, name):
    return edit(lambda f: f[obj].attrs.__delitem__(name))


def nan_at(a):
    a = a.copy()
    a.flat[a.size // 2] = np.nan
    return a


def neg_at(a):
    a = a.copy()
    a.flat[a.size // 3] = -0.5
    return a


def truncate_series(f):
    for k in list(f["timeseries"]):
        replace(f, "timeseries/" + k, f["timeseries/" + k][...][:0])


def extra_cycle(f):
    c = f["particles_series/cycle"][...]
    replace(f, "particles_series/cycle", np.append(c, c[-1] + 5).astype(c.dtype))


def field_missing(f):
    c = int(f["particles_series/cycle"][-1])
    del f[f"fields/cycle_{c:06d}"]


def counts_disagree(f):
    v = f["particles_series/vacancy_mean"][...]
    replace(f, "particles_series/vacancy_mean", v[:1])


def swap_times(f):
    t = f["timeseries/time_s"][...]
    t[2], t[3] = t[3], t[2]
    replace(f, "timeseries/time_s", t)


def one_more_row(f):
    for k in list(f["timeseries"]):
        a = f["timeseries/" + k][...]
        replace(f, "timeseries/" + k, np.append(a, a[-1:]))


def last_time_shifted(f):
    t = f["timeseries/time_s"][...]
    t[-1] += 600.0
    replace(f, "timeseries/time_s", t)


def state_as_dataset(f):
    del f["state/layer"]
    f["state/layer"] = np.zeros(3)


CASES = [
    ("zero-byte file", raw(lambda d: b"")),
    ("not HDF5 at all", raw(lambda d: b"plain text, not a checkpoint\n" * 10)),
    ("truncated file", raw(lambda d: d[: len(d) // 3])),
    ("header bytes overwritten", raw(lambda d: d[:64] + b"\0" * 4096 + d[64 + 4096:])),
    ("missing /state group", drop("state")),
    ("empty /timeseries", edit(truncate_series)),
    ("next_segment = -5", set_attr("state", "next_segment", np.int32(-5))),
    ("next_segment = 1000000", set_attr("state", "next_segment", np.int32(1000000))),
    ("next_segment = 0", set_attr("state", "next_segment", np.int32(0))),
    ("next_segment disagrees with the time series", set_attr("state", "next_segment", np.int32(3))),
    ("next_segment as a string", set_attr("state", "next_segment", "6")),
    ("missing next_segment", drop_attr("state", "next_segment")),
    ("missing released_mol", drop_attr("state", "released_mol")),
    ("NaN released_mol", set_attr("state", "released_mol", np.nan)),
    ("released_mol disagrees with the time series", set_attr("state", "released_mol", 1.0)),
    ("state of the wrong shape", modify("state/vacancy_fraction", lambda a: a[:, :, :-1])),
    ("state transposed", modify("state/vacancy_fraction", lambda a: np.ascontiguousarray(a.transpose(2, 1, 0)))),
    ("state of rank 1", modify("state/vacancy_fraction", lambda a: a.ravel())),
    ("state as int32", modify("state/vacancy_fraction", lambda a: a.astype(np.int32))),
    ("state as float32", modify("state/vacancy_fraction", lambda a: a.astype(np.float32))),
    ("NaN in the state", modify("state/vacancy_fraction", nan_at)),
    ("negative state", modify("state/vacancy_fraction", neg_at)),
    ("state above 1", modify("state/vacancy_fraction", lambda a: a + 2.0)),
    ("missing /state/vacancy_fraction", drop("state/vacancy_fraction")),
    ("missing layer cell", drop("state/layer/cell_03")),
    ("missing layer group", drop("state/layer")),
    ("layer as a dataset", edit(state_as_dataset)),
    ("NaN in a layer cell", modify("state/layer/cell_00", nan_at)),
    ("layer cell of the wrong shape", modify("state/layer/cell_07", lambda a: a[:-1])),
    ("unequal /timeseries columns", modify("timeseries/soc", lambda a: a[:-1])),
    ("missing /timeseries column", drop("timeseries/inventory_mol")),
    ("timeseries cycle as float", modify("timeseries/cycle", lambda a: a.astype(np.float64))),
    ("time series not increasing", edit(swap_times)),
    ("extra time series row", edit(one_more_row)),
    ("last time disagrees with the protocol", edit(last_time_shifted)),
    ("NaN in the time series", modify("timeseries/vacancy_mean", nan_at)),
    ("2-D time series column", modify("timeseries/released_mol", lambda a: np.stack([a, a]))),
    ("extra stored cycle", edit(extra_cycle)),
    ("stored cycle without its field", edit(field_missing)),
    ("particle means count disagrees", edit(counts_disagree)),
    ("stored field of the wrong shape", modify("fields/cycle_000001/vacancy_fraction", lambda a: a[1:])),
    ("NaN in a stored field", modify("fields/cycle_000002/vacancy_fraction", nan_at)),
    ("stored field without time_s", drop_attr("fields/cycle_000001/vacancy_fraction", "time_s")),
    ("missing profile column", drop("profiles/cycle_000001/count")),
    ("unequal lamella columns", modify("lamella/cycle_000002/distance_nm", lambda a: a[:-1])),
    ("missing config attribute", drop_attr("/", "config")),
    ("stored cycles not increasing", modify("particles_series/cycle", lambda a: a[::-1].copy())),
]

LINE_RE = oxtest.CKPT_LINE_RE


def main():
    args = oxtest.parse_args(oxtest.parser(__doc__, timeout=300.0))
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    with oxtest.workdir(args.keep, "oxvac_badckpt_") as tmp:
        cmd = oxtest.launcher(args.mpiexec) + [args.oxvac, "run", CFG, "--quiet"] + SETS
        ref = os.path.join(tmp, "ref.h5")
        p = subprocess.run(cmd + ["-o", ref], capture_output=True, text=True, timeout=args.timeout)
        good = os.path.join(tmp, "ref.ckpt.h5")
        check(p.returncode == 0 and os.path.exists(good), "reference run keeps its last checkpoint")
        if failures:
            print(p.stdout[-2000:], p.stderr[-2000:])
            return 1
        with h5py.File(good, "r") as f:
            check(int(f["state"].attrs["next_segment"]) == 6 and "layer" in f["state"]
                  and len(f["particles_series/cycle"]) == 2, "checkpoint after cycle 2: next segment 6, layer, 2 stored fields")

        # The intact checkpoint restarts to the same result, bitwise.
        out = os.path.join(tmp, "restarted.h5")
        p = subprocess.run(cmd + ["-o", out, "--restart", good], capture_output=True, text=True, timeout=args.timeout)
        check(p.returncode == 0, f"intact checkpoint restarts: exit {p.returncode}")
        if p.returncode == 0:
            with h5py.File(ref, "r") as a, h5py.File(out, "r") as b:
                same = all(np.array_equal(a["timeseries"][k][...], b["timeseries"][k][...]) for k in a["timeseries"])
                same &= sorted(a["fields"]) == sorted(b["fields"]) and all(
                    np.array_equal(a["fields"][k]["vacancy_fraction"][...], b["fields"][k]["vacancy_fraction"][...]) for k in a["fields"])
            check(same, "restart from the intact checkpoint: time series and fields bitwise equal to the uninterrupted run")

        for i, (what, damage) in enumerate(CASES):
            d = os.path.join(tmp, f"case{i:02d}")
            os.mkdir(d)
            ckpt = os.path.join(d, "bad.ckpt.h5")
            shutil.copyfile(good, ckpt)
            try:
                damage(ckpt)
            except Exception as e:  # noqa: BLE001 - a case that cannot be made is a test bug
                check(False, f"{what}: could not make the damaged copy: {e!r}")
                continue
            before, listing = sha(ckpt), sorted(os.listdir(d))
            out = os.path.join(d, "out.h5")
            try:
                p = subprocess.run(cmd + ["-o", out, "--restart", ckpt], capture_output=True, text=True, timeout=args.timeout, cwd=d)
            except subprocess.TimeoutExpired:
                check(False, f"{what}: no answer within {args.timeout:.0f} s")
                continue
            text = p.stdout + p.stderr
            lines = [m for m in (LINE_RE.match(ln) for ln in p.stderr.splitlines()) if m and m.group("file") == ckpt]
            crashed = [w for w in CRASH if w in text]
            left = sorted(set(os.listdir(d)) - set(listing))
            ok = p.returncode == 2 and lines and not crashed and not left and sha(ckpt) == before
            check(ok, f"{what}: exit {p.returncode}, " + (lines[0].group(0) if lines else "no 'CKPT: dataset ...; expected ...' line"))
            if not ok:
                if crashed:
                    print(f"      crash markers {crashed}")
                if left:
                    print(f"      files left behind: {left}")
                if sha(ckpt) != before:
                    print("      the checkpoint was modified")
                print("      stderr: " + p.stderr[-1500:].replace("\n", "\n      "))
    print(f"test_bad_checkpoints: {len(CASES)} damaged checkpoints,", "FAILED" if failures else "PASSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
