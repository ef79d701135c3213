"""Small HDF5 seeds for fuzz_checkpoint: checkpoint-like files (a /state group
and a root "config" attribute: fixed and variable length strings, not a
string, missing pieces) in both file-format versions. Usage: make_h5_seeds.py DIR"""
import os
import sys

import h5py
import numpy as np

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
cfg = "grid = { voxel_nm = 20.0; };\n"
n = 0


def make(name, libver, state=True, attr="fixed"):
    global n
    with h5py.File(os.path.join(d, f"{name}-{libver}.h5"), "w", libver=(libver, "latest") if libver != "latest" else "latest") as f:
        if state:
            g = f.create_group("state")
            g.attrs["next_segment"] = np.int32(3)
            g.create_dataset("vacancy_fraction", data=np.zeros(8))
        if attr == "fixed":
            f.attrs.create("config", np.bytes_(cfg.encode()))
        elif attr == "vlen":
            f.attrs["config"] = cfg
        elif attr == "int":
            f.attrs["config"] = np.int64(7)
        elif attr == "array":
            f.attrs["config"] = np.arange(4, dtype=np.float64)
    n += 1


for lv in ("earliest", "latest"):
    make("ckpt", lv)
    make("ckpt_vlen", lv, attr="vlen")
    make("ckpt_int", lv, attr="int")
    make("ckpt_array", lv, attr="array")
    make("result", lv, state=False)
    make("noconfig", lv, attr=None)
print(f"fuzz: {n} HDF5 seeds in {d}")
