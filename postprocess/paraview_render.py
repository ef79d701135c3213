"""Render an oxvac result with ParaView: the secondary particle cut through its
centre, coloured by the vacancy fraction, with a colour bar, to a PNG.

    xvfb-run -a pvbatch --force-offscreen-rendering postprocess/paraview_render.py \\
        RESULT.xdmf -o OUT.png [--cycle N] [--array vacancy_fraction] [--normal x]

RESULT.xdmf is the sidecar oxvac writes beside RESULT.h5 (one grid per stored
cycle, named cycle_NNNNNN, Time in seconds). The pipeline: the XDMF reader at
the time of the chosen stored cycle (default: the last) -> Threshold on the
cell array `solid` (1 on solid voxels) so the electrolyte goes -> Clip by the
plane normal to --normal through the centre of the solid's bounding box,
snapped to the nearest voxel centre (the half on the low side stays, cut
voxels keep their own value) -> coloured by --array on the cells, colour
scale = the array's range over all solid voxels, colour bar and a title line
(cycle, time, SOC). It prints, one `key: value` per line:

    cycle: N
    time_s: T
    reader_times_s: T0 T1 ...       (the time steps ParaView's reader found)
    reader_cycle: N                 (the field data `cycle` of the grid it read at T)
    solid_cells: n                  (cells left after the Threshold)
    clip_origin_m: X Y Z
    ARRAY range solid: MIN MAX      (all solid voxels; the colour scale)
    ARRAY range rendered: MIN MAX   (the clipped half drawn)
    wrote: OUT.png

with %.17g numbers, so a test can compare them with the HDF5 file.
"""
import argparse
import os
import sys
import xml.etree.ElementTree as ET

from paraview import simple as pv


def fail(msg):
    """Exit 2 with msg on stderr. os._exit: under pvbatch, sys.exit (SystemExit)
    tears down the X/GLX context badly and the exit status turns to 1."""
    sys.stdout.flush()
    sys.stderr.write(f"paraview_render.py: {msg}\n")
    sys.stderr.flush()
    os._exit(2)


def stored_cycles(xdmf):
    """[(cycle, time_s, grid name)] of the temporal collection, in file order."""
    root = ET.parse(xdmf).getroot()
    out = []
    for g in root.iter("Grid"):
        if g.get("CollectionType") != "Temporal":
            continue
        for s in g.findall("Grid"):
            t = s.find("Time")
            name = s.get("Name") or ""
            if t is None or not name.startswith("cycle_"):
                continue
            out.append((int(name[len("cycle_"):]), float(t.get("Value")), name))
    return out


def voxel_size(xdmf):
    root = ET.parse(xdmf).getroot()
    for geo in root.iter("Geometry"):
        items = geo.findall("DataItem")
        if len(items) == 2:
            return [float(v) for v in items[1].text.split()]
    return None


def threshold_solid(src):
    th = pv.Threshold(Input=src)
    th.Scalars = ["CELLS", "solid"]
    if hasattr(th, "LowerThreshold"):          # ParaView >= 5.10
        th.LowerThreshold, th.UpperThreshold = 0.5, 1.5
        th.ThresholdMethod = "Between"
    else:
        th.ThresholdRange = [0.5, 1.5]
    return th


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("xdmf", help="RESULT.xdmf written by oxvac beside RESULT.h5")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--cycle", type=int, default=None, help="stored cycle to show (default: the last stored)")
    ap.add_argument("--array", default="vacancy_fraction", help="cell array to colour by (default vacancy_fraction)")
    ap.add_argument("--normal", choices="xyz", default="x", help="normal of the clip plane (default x)")
    ap.add_argument("--size", type=int, nargs=2, default=[1200, 900], metavar=("W", "H"), help="image size in pixels")
    args = ap.parse_args(argv)

    cycles = stored_cycles(args.xdmf)
    if not cycles:
        fail(f"{args.xdmf}: no stored cycle (grids named cycle_NNNNNN with a Time); was the run "
             "given output.fields_at_cycles?")
    if args.cycle is None:
        cycle, time_s, _ = cycles[-1]
    else:
        hit = [c for c in cycles if c[0] == args.cycle]
        if not hit:
            fail(f"{args.xdmf}: cycle {args.cycle} is not stored; stored: {[c[0] for c in cycles]}")
        cycle, time_s, _ = hit[0]
    h = voxel_size(args.xdmf)

    reader = pv.OpenDataFile(os.path.abspath(args.xdmf))
    if reader is None:
        fail(f"ParaView cannot open {args.xdmf}")
    reader.UpdatePipeline(time_s)
    names = list(reader.CellData.keys())
    for need in ("solid", args.array):
        if need not in names:
            fail(f"{args.xdmf}: no cell array {need!r} (arrays: {names})")
    solid = threshold_solid(reader)
    solid.UpdatePipeline(time_s)
    b = solid.GetDataInformation().GetBounds()
    if b[0] > b[1]:
        fail(f"{args.xdmf}: no solid voxel at cycle {cycle}")
    axis = "xyz".index(args.normal)
    origin = [0.5 * (b[2 * d] + b[2 * d + 1]) for d in range(3)]
    if h:  # through voxel centres, so each voxel is either cut or whole on one side
        origin[axis] = (int(origin[axis] / h[axis]) + 0.5) * h[axis]
    lo, hi = solid.CellData[args.array].GetRange()
    nsolid = solid.GetDataInformation().GetNumberOfCells()
    fd = reader.FieldData.keys()
    read_cycle = reader.FieldData["cycle"].GetRange()[0] if "cycle" in fd else None
    soc = reader.FieldData["soc"].GetRange()[0] if "soc" in fd else None

    clip = pv.Clip(Input=solid)
    clip.ClipType = "Plane"
    clip.ClipType.Origin = origin
    clip.ClipType.Normal = [1.0 if d == axis else 0.0 for d in range(3)]
    if hasattr(clip, "Invert"):
        clip.Invert = 1                        # keep the low side
    if hasattr(clip, "Crinkleclip"):
        clip.Crinkleclip = 0
    clip.UpdatePipeline(time_s)
    rlo, rhi = clip.CellData[args.array].GetRange()

    view = pv.CreateRenderView() if not pv.GetActiveView() else pv.GetActiveView()
    view.ViewSize = list(args.size)
    view.ViewTime = time_s
    view.Background = [1.0, 1.0, 1.0]
    if hasattr(view, "UseColorPaletteForBackground"):
        view.UseColorPaletteForBackground = 0
    view.OrientationAxesVisibility = 1
    disp = pv.Show(clip, view)
    pv.ColorBy(disp, ("CELLS", args.array))
    lut = pv.GetColorTransferFunction(args.array)
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.RescaleTransferFunction(lo, hi if hi > lo else lo + 1e-12)
    if hasattr(lut, "AutomaticRescaleRangeMode"):
        lut.AutomaticRescaleRangeMode = "Never"
    disp.SetScalarBarVisibility(view, True)
    bar = pv.GetScalarBar(lut, view)
    bar.Title = args.array.replace("_", " ")
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.0, 0.0, 0.0]
    bar.RangeLabelFormat = "%-#.3g"
    title = pv.Text(Text=f"cycle {cycle}, t = {time_s / 3600.0:.4g} h" + (f", SOC {soc:.3g}" if soc is not None else ""))
    tdisp = pv.Show(title, view)
    tdisp.Color = [0.0, 0.0, 0.0]
    try:
        tdisp.WindowLocation = "Upper Center"   # ParaView >= 5.10
    except (ValueError, AttributeError):
        tdisp.WindowLocation = "UpperCenter"

    # Look at the cut face (it faces +normal) from a little off-axis.
    r = max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
    eye = [origin[d] + (2.5 * r if d == axis else 0.9 * r) for d in range(3)]
    view.CameraFocalPoint = origin
    view.CameraPosition = eye
    view.CameraViewUp = [0.0, 0.0, 1.0] if axis != 2 else [0.0, 1.0, 0.0]
    view.ResetCamera()
    pv.Render(view)
    pv.SaveScreenshot(args.output, view, ImageResolution=list(args.size))

    print(f"cycle: {cycle}")
    print(f"time_s: {time_s:.17g}")
    print("reader_times_s: " + " ".join(f"{t:.17g}" for t in reader.TimestepValues))
    print(f"reader_cycle: {int(read_cycle) if read_cycle is not None else 'none'}")
    print(f"solid_cells: {nsolid}")
    print("clip_origin_m: " + " ".join(f"{v:.17g}" for v in origin))
    print(f"{args.array} range solid: {lo:.17g} {hi:.17g}")
    print(f"{args.array} range rendered: {rlo:.17g} {rhi:.17g}")
    print(f"wrote: {args.output}")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])   # no sys.exit on success: see fail()
