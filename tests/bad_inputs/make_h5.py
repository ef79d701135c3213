#!/usr/bin/python3
"""Regenerate the HDF5 files of the hostile-input corpus (tests/bad_inputs/h5/).

  - img_*.h5: small label images for `microstructure = { type = "import"; ... }`,
    each broken one way (wrong rank or type, negative or huge labels, a missing
    dataset or voxel size, mismatched shapes, a corrupt, truncated or non-HDF5
    file); the config of the same name beside it (h5/img_*.cfg) imports it;
  - ckpt_*.h5: checkpoints of a real run of valid/tiny.cfg, each broken one way
    with the damage functions of tests/test_bad_checkpoints.py (a subset of its
    cases, as files); ckpt_intact.h5 is the unbroken one. h5/ckpt_*.cfg restart
    from them. A change of the resolved config (valid/tiny.cfg, or a new config
    key with a default) makes every checkpoint one "of a different resolved
    config": rerun this script then (test_bad_inputs says so).

The files are the corpus: they are committed, and the expectations are in the
h5/*.cfg headers (README.md), never derived from what oxvac prints.

usage: make_h5.py --oxvac build/oxvac [--out tests/bad_inputs/h5]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/: oxtest, test_bad_checkpoints
import test_bad_checkpoints as tbc  # noqa: E402

N = 8  # label images are N x N x N voxels


def labels(dtype=np.int32):
    """A cube of primary 1 inside electrolyte, [nz][ny][nx]."""
    a = np.zeros((N, N, N), dtype=dtype)
    a[2:6, 2:6, 2:6] = 1
    return a


def image(path, data=None, voxel_nm=20.0, name="labels", **kw):
    """Write data (default: labels()) as /NAME with a voxel_nm attribute (None: none)."""
    with h5py.File(path, "w") as f:
        d = f.create_dataset(name, data=labels() if data is None else data, **kw)
        if voxel_nm is not None:
            d.attrs["voxel_nm"] = voxel_nm


def sparse(path, shape):
    """A chunked int32 /labels of a huge declared shape with no chunk written: a tiny file."""
    with h5py.File(path, "w") as f:
        f.create_dataset("labels", shape=shape, dtype=np.int32, chunks=(1, 1, min(shape[2], 1024)))
        f["labels"].attrs["voxel_nm"] = 20.0


def corrupt_chunk(path):
    """A gzip-chunked image whose first chunk's bytes are overwritten: a read error, not a header error."""
    with h5py.File(path, "w") as f:
        d = f.create_dataset("labels", data=labels(), chunks=(1, N, N), compression="gzip")
        d.attrs["voxel_nm"] = 20.0
        info = d.id.get_chunk_info(0)
        off, size = info.byte_offset, info.size
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(b"\xa5" * size)


def smashed_header(path):
    """A valid image whose /labels object header is overwritten: the link is there, the object unreadable."""
    image(path)
    with h5py.File(path, "r") as f:
        addr = h5py.h5o.get_info(f["labels"].id).addr
    with open(path, "r+b") as f:
        f.seek(addr)
        f.write(b"\xff" * 64)


def img_cases():
    def secondary(data):
        def make(p):
            with h5py.File(p, "w") as f:
                f["labels"] = labels()
                f["labels"].attrs["voxel_nm"] = 20.0
                f["secondary"] = data
        return make

    def truncated(p):
        image(p)
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(data[: len(data) // 2])

    def negative(p):
        a = labels()
        a[3, 4, 5] = -3
        image(p, a)

    def huge_label(p):
        a = labels()
        a[4, 4, 4] = 2147483647
        image(p, a)

    def int64_label(p):
        a = labels(np.int64)
        a[4, 4, 4] = 2 ** 40
        image(p, a)

    def group(p):
        with h5py.File(p, "w") as f:
            f.create_group("labels").attrs["voxel_nm"] = 20.0

    def missing(p):
        image(p, name="segmentation")

    def string(p):
        image(p, np.full((N, N, N), b"1", dtype="S1"))

    def compound(p):
        a = np.zeros((N, N, N), dtype=[("id", np.int32), ("phase", np.int8)])
        a["id"] = labels()
        image(p, a)

    def text(p):
        with open(p, "w") as f:
            f.write("labels = 8 x 8 x 8 voxels of primary ids; this is not HDF5\n")

    def empty(p):
        open(p, "wb").close()

    sec_neg = np.where(labels() > 0, 1, 0).astype(np.int32)
    sec_neg[2, 2, 2] = -1
    return [
        ("img_rank2", lambda p: image(p, labels()[0])),
        ("img_rank4", lambda p: image(p, labels()[np.newaxis])),
        ("img_scalar", lambda p: image(p, np.int32(1))),
        ("img_float", lambda p: image(p, labels(np.float64))),
        ("img_string", string),
        ("img_compound", compound),
        ("img_negative", negative),
        ("img_missing_dataset", missing),
        ("img_group", group),
        ("img_no_voxel_size", lambda p: image(p, voxel_nm=None)),
        ("img_voxel_nan", lambda p: image(p, voxel_nm=np.nan)),
        ("img_voxel_negative", lambda p: image(p, voxel_nm=-20.0)),
        ("img_voxel_string", lambda p: image(p, voxel_nm="20 nm")),
        ("img_voxel_array", lambda p: image(p, voxel_nm=np.array([20.0, 20.0, 20.0]))),
        ("img_voxel_disagrees", lambda p: image(p)),
        ("img_zero_size", lambda p: image(p, np.zeros((0, N, N), np.int32))),
        ("img_all_electrolyte", lambda p: image(p, np.zeros((N, N, N), np.int32))),
        ("img_huge_label", huge_label),
        ("img_int64_label", int64_label),
        ("img_shape_vs_grid", lambda p: image(p)),
        ("img_huge_shape", lambda p: sparse(p, (2000, 2000, 2000))),
        ("img_axis_too_long", lambda p: sparse(p, (1, 1, 2000000))),
        ("img_secondary_shape", secondary(np.ones((4, 4, 4), np.int32))),
        ("img_secondary_negative", secondary(sec_neg)),
        ("img_corrupt_chunk", corrupt_chunk),
        ("img_header_smashed", smashed_header),
        ("img_truncated", truncated),
        ("img_not_hdf5", text),
        ("img_empty", empty),
    ]


# Checkpoints: (file stem, damage) from test_bad_checkpoints' cases (by their
# description) or its helpers, fitted to valid/tiny.cfg (2 layer cells, the
# field of cycle 2 stored, 7 time-series rows).
CKPT_FROM_CASES = {
    "ckpt_empty": "zero-byte file",
    "ckpt_not_hdf5": "not HDF5 at all",
    "ckpt_truncated": "truncated file",
    "ckpt_header_overwritten": "header bytes overwritten",
    "ckpt_no_state": "missing /state group",
    "ckpt_next_segment_huge": "next_segment = 1000000",
    "ckpt_next_segment_string": "next_segment as a string",
    "ckpt_released_nan": "NaN released_mol",
    "ckpt_state_shape": "state of the wrong shape",
    "ckpt_state_nan": "NaN in the state",
    "ckpt_timeseries_unequal": "unequal /timeseries columns",
    "ckpt_time_not_increasing": "time series not increasing",
    "ckpt_no_config": "missing config attribute",
}
CKPT_OWN = {
    "ckpt_layer_cell_missing": tbc.drop("state/layer/cell_01"),
}


def make_checkpoints(oxvac, out):
    cases = dict(tbc.CASES)
    with tempfile.TemporaryDirectory(prefix="oxvac_make_h5_") as tmp:
        # relative names, so that the checkpoints' root attribute `command` says
        # `oxvac run tiny.cfg -o tiny.h5 --quiet` and no path of this machine
        shutil.copyfile(os.path.join(HERE, "valid", "tiny.cfg"), os.path.join(tmp, "tiny.cfg"))
        p = subprocess.run(["oxvac", "run", "tiny.cfg", "-o", "tiny.h5", "--quiet"], executable=oxvac,
                           capture_output=True, text=True, cwd=tmp)
        good = os.path.join(tmp, "tiny.ckpt.h5")
        if p.returncode != 0 or not os.path.exists(good):
            sys.exit(f"make_h5.py: the run of valid/tiny.cfg failed (exit {p.returncode}):\n{p.stdout}{p.stderr}")
        with h5py.File(good, "r") as f:
            assert int(f["state"].attrs["next_segment"]) == 6 and list(f["fields"]) == ["cycle_000002"], "valid/tiny.cfg changed"
        shutil.copyfile(good, os.path.join(out, "ckpt_intact.h5"))
        made = ["ckpt_intact"]
        for stem, damage in [(s, cases[d]) for s, d in CKPT_FROM_CASES.items()] + list(CKPT_OWN.items()):
            path = os.path.join(out, stem + ".h5")
            shutil.copyfile(good, path)
            damage(path)
            made.append(stem)
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--oxvac", required=True, help="path to the oxvac executable (for the checkpoints' run)")
    ap.add_argument("--out", default=os.path.join(HERE, "h5"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    made = []
    for stem, make in img_cases():
        make(os.path.join(args.out, stem + ".h5"))
        made.append(stem)
    made += make_checkpoints(os.path.abspath(args.oxvac), args.out)
    total = sum(os.path.getsize(os.path.join(args.out, s + ".h5")) for s in made)
    print(f"make_h5.py: {len(made)} HDF5 files in {args.out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
