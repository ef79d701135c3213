#!/usr/bin/python3
"""ParaView reads the result and postprocess/paraview_render.py renders it
(issue 11, item 5).

Installs ParaView if missing (as root: apt-get install --no-install-recommends
paraview python3-paraview xvfb xauth; ~150 MB download, ~800 MB on disk), runs
a short demo (inputs/demo.cfg, 1 formation + 2 cycles, fields at cycles 0, 1
and 2; ~20-40 s), and checks:
  - OUT.xdmf: one grid per stored cycle named cycle_NNNNNN whose Time equals
    /fields/cycle_NNNNNN/vacancy_fraction's time_s (exactly), and the time
    steps ParaView's reader reports equal those times (1e-12 relative);
  - for cycles 1 and 2 (the last, the default) and --cycle: the grid read at
    that time has field data cycle = N; the Threshold on `solid` leaves as
    many cells as /geometry/labels > 0 has voxels; the vacancy_fraction range
    the script reports for the solid equals min/max of the HDF5 field over the
    solid voxels, and the range of the clipped half it drew equals min/max over
    the solid voxels on the kept side of its clip plane (through voxel centres
    along x: index i <= floor(x0 / h)), both to 1e-12 relative;
  - the PNG (decoded here, no ParaView) has the requested size, at least 200
    distinct colours, and at least 5 % of its pixels differ from the
    background (its most common colour); a cycle-1 and a cycle-2 image differ.

usage: test_paraview.py --oxvac PATH [--keep DIR] [--pvbatch pvbatch]
Exit status 0 if every check passes, 1 otherwise.
"""
import os
import shutil
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zlib

import h5py
import numpy as np

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
DEMO = os.path.join(ROOT, "inputs", "demo.cfg")
RENDER = os.path.join(ROOT, "postprocess", "paraview_render.py")
PACKAGES = ["paraview", "python3-paraview", "xvfb", "xauth"]
PROGRAMS = ["pvbatch", "xvfb-run", "xauth"]
SIZE = (800, 600)


def which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")


def ensure_installed():
    """apt-get install the packages if a program is missing; '' or why not."""
    missing = [p for p in PROGRAMS if which(p) is None]
    if not missing:
        return ""
    if os.geteuid() != 0:
        return (f"{', '.join(missing)} missing and not root: install them with "
                f"`apt-get install --no-install-recommends {' '.join(PACKAGES)}`")
    print(f"test_paraview: missing {', '.join(missing)}; installing {' '.join(PACKAGES)} with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    t0 = time.time()
    for cmd in (["apt-get", "update"],
                ["apt-get", "install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"] + PACKAGES):
        for attempt in range(3):      # another apt-get (e.g. the slurm tests') may hold the lock
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode == 0:
                break
            time.sleep(20)
        else:
            return f"`{' '.join(cmd)}` failed (exit {r.returncode}):\n{r.stdout[-3000:]}"
    missing = [p for p in PROGRAMS if which(p) is None]
    if missing:
        return f"still missing after apt-get install: {', '.join(missing)}"
    print(f"test_paraview: installed in {time.time() - t0:.0f} s", flush=True)
    return ""


def read_png(path):
    """(height, width, channels) uint8 array of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}, interlace {interlace}")
    ch = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        cur = bytearray(line)
        if ftype == 1:
            for x in range(ch, stride):
                cur[x] = (cur[x] + cur[x - ch]) & 255
        elif ftype == 2:
            cur = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ftype == 3:
            for x in range(stride):
                cur[x] = (cur[x] + (((cur[x - ch] if x >= ch else 0) + prev[x]) >> 1)) & 255
        elif ftype == 4:
            for x in range(stride):
                a = cur[x - ch] if x >= ch else 0
                b, c = prev[x], (prev[x - ch] if x >= ch else 0)
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
        elif ftype != 0:
            raise ValueError(f"bad PNG filter type {ftype} in row {y}")
        rows.append(bytes(cur))
        prev = cur
    return np.frombuffer(b"".join(rows), np.uint8).reshape(h, w, ch)


def render(args, c, xdmf, png, cycle):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", args.pvbatch, "--force-offscreen-rendering", RENDER,
           xdmf, "-o", png, "--size", str(SIZE[0]), str(SIZE[1])]
    if cycle is not None:
        cmd += ["--cycle", str(cycle)]
    for attempt in range(2):          # xvfb-run -a can race another X server for a display number
        p = oxtest.run(cmd, timeout=300)
        if p.returncode == 0:
            break
    if not c.check(p.returncode == 0, f"pvbatch render (cycle {cycle}) exit {p.returncode}", cmd, p.stdout, p.stderr):
        return None
    info = {}
    for line in p.stdout.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            info[k.strip()] = v.strip()
    print(f"rendered cycle {info.get('cycle')}: " + "; ".join(f"{k} {info[k]}" for k in
          ("time_s", "solid_cells", "clip_origin_m", "vacancy_fraction range solid",
           "vacancy_fraction range rendered") if k in info))
    return info


def close(a, b, scale):
    return abs(a - b) <= 1e-12 * max(abs(scale), 1e-300)


def check_render(c, h, info, cycle, png):
    name = f"cycle_{cycle:06d}"
    lab = np.asarray(h["/geometry/labels"][...])
    v = np.asarray(h[f"/fields/{name}/vacancy_fraction"][...])
    hvox = float(h["/geometry"].attrs["voxel_m"])
    solid = lab > 0
    c.check(info.get("cycle") == str(cycle) and info.get("reader_cycle") == str(cycle),
            f"cycle {cycle}: script shows cycle {info.get('cycle')}, the grid ParaView read has cycle "
            f"{info.get('reader_cycle')}")
    c.check(info.get("solid_cells") == str(int(solid.sum())),
            f"cycle {cycle}: {info.get('solid_cells')} cells after the Threshold on solid; {int(solid.sum())} solid voxels")
    try:
        lo, hi = (float(x) for x in info["vacancy_fraction range solid"].split())
        rlo, rhi = (float(x) for x in info["vacancy_fraction range rendered"].split())
        x0 = float(info["clip_origin_m"].split()[0])
    except (KeyError, ValueError) as e:
        c.fail(f"cycle {cycle}: the script's output lacks a range or the clip origin ({e})")
        return None
    wlo, whi = float(v[solid].min()), float(v[solid].max())
    c.check(close(lo, wlo, whi) and close(hi, whi, whi),
            f"cycle {cycle}: range over the solid {lo!r} .. {hi!r}; HDF5 over labels > 0: {wlo!r} .. {whi!r}")
    ic = int(np.floor(x0 / hvox))
    c.check(abs(x0 / hvox - (ic + 0.5)) < 1e-6, f"cycle {cycle}: clip plane x = {x0!r} m is not through voxel centres")
    kept = solid.copy()
    kept[:, :, ic + 1:] = False            # [z][y][x]: voxels with i <= ic stay (cut or whole)
    klo, khi = float(v[kept].min()), float(v[kept].max())
    c.check(close(rlo, klo, whi) and close(rhi, khi, whi),
            f"cycle {cycle}: rendered range {rlo!r} .. {rhi!r}; HDF5 over the solid voxels with i <= {ic}: "
            f"{klo!r} .. {khi!r}")
    c.check(0 < kept.sum() < solid.sum(), f"cycle {cycle}: the clip keeps {int(kept.sum())} of {int(solid.sum())} solid voxels")
    try:
        img = read_png(png)
    except (OSError, ValueError, zlib.error, TypeError) as e:
        c.fail(f"cycle {cycle}: cannot read {png}: {e}")
        return None
    c.check(img.shape[:2] == (SIZE[1], SIZE[0]), f"cycle {cycle}: PNG {img.shape[1]}x{img.shape[0]}, asked {SIZE[0]}x{SIZE[1]}")
    rgb = img[:, :, :3].reshape(-1, 3)
    colours, counts = np.unique(rgb, axis=0, return_counts=True)
    bg = colours[np.argmax(counts)]
    fg = float(np.mean(np.any(rgb != bg, axis=1)))
    c.check(len(colours) >= 200, f"cycle {cycle}: {len(colours)} distinct colours in the PNG (>= 200)")
    c.check(fg >= 0.05, f"cycle {cycle}: {100 * fg:.1f} % of the pixels differ from the background {bg.tolist()} (>= 5 %)")
    print(f"cycle {cycle}: PNG {img.shape[1]}x{img.shape[0]}, {len(colours)} colours, {100 * fg:.1f} % not background "
          f"{bg.tolist()}; HDF5 solid range {wlo:.6g} .. {whi:.6g}, kept half {klo:.6g} .. {khi:.6g}")
    return img


def check_xdmf_times(c, h, xdmf, reader_times):
    root = ET.parse(xdmf).getroot()
    coll = [g for g in root.iter("Grid") if g.get("CollectionType") == "Temporal"]
    grids = coll[0].findall("Grid") if coll else []
    stored = sorted(h["/fields"].keys())
    names = [g.get("Name") for g in grids]
    c.check(names == stored, f"XDMF grids {names}; /fields holds {stored}")
    want = [float(h[f"/fields/{n}/vacancy_fraction"].attrs["time_s"]) for n in stored]
    got = [float(g.find("Time").get("Value")) if g.find("Time") is not None else None for g in grids]
    c.check(got == want, f"XDMF Time values {got}; /fields/*/time_s {want} (seconds, exactly)")
    c.check(len(reader_times) == len(want) and all(close(a, b, max(want)) for a, b in zip(reader_times, want)),
            f"ParaView's time steps {reader_times}; /fields/*/time_s {want}")
    print(f"xdmf: grids {names}, times {got} s; ParaView reads {reader_times}")


def run_checks(args, workdir, c):
    why = ensure_installed()
    if not c.check(not why, f"ParaView available: {why}"):
        return
    out = os.path.join(workdir, "demo.h5")
    xdmf = os.path.join(workdir, "demo.xdmf")
    t0 = time.time()
    p = oxtest.run_oxvac(args, ["run", DEMO, "-o", out, "--quiet", "--set", "protocol.formation.repeat=1",
                                "--set", "protocol.cycling.repeat=2", "--set", "output.fields_at_cycles=[0,1,2]"])
    c.commands.append(p.args)
    print(f"demo run: {time.time() - t0:.1f} s")
    imgs = {}
    with h5py.File(out, "r") as h:
        for cycle in (None, 1):
            png = os.path.join(workdir, f"demo_{'last' if cycle is None else cycle}.png")
            info = render(args, c, xdmf, png, cycle)
            if info is None:
                continue
            shown = 2 if cycle is None else cycle
            if cycle is None:
                check_xdmf_times(c, h, xdmf, [float(t) for t in info.get("reader_times_s", "").split()])
            imgs[shown] = check_render(c, h, info, shown, png)
    if imgs.get(1) is not None and imgs.get(2) is not None:
        c.check(not np.array_equal(imgs[1], imgs[2]), "the cycle-1 and cycle-2 images differ")


def main():
    ap = oxtest.parser(__doc__, mpiexec=False)
    ap.add_argument("--pvbatch", default="pvbatch", help="the pvbatch program (default: pvbatch on PATH)")
    return oxtest.main("test_paraview", oxtest.parse_args(ap), run_checks)


if __name__ == "__main__":
    sys.exit(main())
