"""The command line: python3 -m oxvac.plot SUBCOMMAND RESULT.h5 [-o FILE.png|.pdf]
(the console script `oxvac-plot` is the same)."""
import argparse
import os
import sys

from .style import PlotError   # style loads matplotlib (Agg); figures, h5py: only when a figure is made

DESCRIPTION = """\
Figures of an oxvac result file (any result, not only the paper's). Each
figure is a 300 dpi PNG or a PDF, by the extension of -o (default
RESULT_<subcommand>.png beside the result); the path written is printed.
`SUBCOMMAND --help` gives each one's options."""

SUBCOMMANDS = {
    "loss": "oxygen loss (at.%) and SOC vs cycle or time, total and per secondary",
    "profiles": "stored Mn3+ / vacancy profiles vs distance from the surface (/profiles or /lamella)",
    "lamella": "the virtual lamella: stored maps, else the field averaged through the slab",
    "slice": "a section through the 3D field (default through the first secondary's centre)",
    "depth": "per-primary oxygen loss vs centroid depth below its secondary's envelope",
    "measured": "model vs a measured Mn3+ CSV, with residuals",
    "sweep": "a column of an `oxvac sweep --collect` summary.csv vs a swept parameter",
}

EXAMPLES = {
    "loss": "  %(prog)s run.h5 --x time -o loss.pdf",
    "profiles": "  %(prog)s run.h5 --cycles 1,125 --quantity mn3\n  %(prog)s run.h5 --geometry lamella",
    "lamella": "  %(prog)s run.h5 --cycles 1,3 -o lamella.png",
    "slice": "  %(prog)s run.h5 --axis x --quantity mn3\n  %(prog)s run.h5 --position 0.4 --cycles 1,3",
    "depth": "  %(prog)s run.h5 --cycles 1,3 --bin 0.2",
    "measured": "  %(prog)s run.h5 data.csv --geometry lamella -o compare.pdf",
}


def _prog():
    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python3 -m oxvac.plot" if base in ("__main__.py", "-m", "", "-c") else base


def _cycles(text):
    try:
        out = [int(x) for x in text.replace(" ", "").split(",") if x != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of cycles (e.g. 1,3)") from None
    if not out or any(c < 0 for c in out):
        raise argparse.ArgumentTypeError(f"'{text}': expected cycles >= 0, e.g. 1,3")
    return out


def _parser(prog):
    ap = argparse.ArgumentParser(prog=prog, description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  PYTHONPATH=postprocess python3 -m oxvac.plot slice run.h5 -o slice.pdf")
    sub = ap.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub.required = True

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("result", metavar="RESULT.h5", help="an oxvac result file")

    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("-o", "--output", metavar="FILE", help="FILE.png or FILE.pdf, 300 dpi "
                     "(default RESULT_<subcommand>.png beside the result)")
    out.add_argument("--title", metavar="TEXT", help="figure title (default none)")

    def add(name, parents):
        return sub.add_parser(name, parents=parents, help=SUBCOMMANDS[name].replace("%", "%%"),
                              description=SUBCOMMANDS[name] + ".",
                              epilog="example:\n" + EXAMPLES[name] if name in EXAMPLES else None,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("loss", [common, out])
    p.add_argument("--x", choices=("cycle", "time"), default="cycle",
                   help="x axis: cycle (cycle c ends at x = c, formation in [-1, 0]) or time in hours (default cycle)")
    p.add_argument("--ends", action="store_true", help="total loss only at the end of each cycle")
    p.add_argument("--no-soc", action="store_true", help="leave out the SOC panel")
    p.add_argument("--no-secondaries", action="store_true", help="leave out the per-secondary curves")

    p = add("profiles", [common, out])
    p.add_argument("--geometry", choices=("3d", "lamella"), default="3d",
                   help="3d: /profiles, distance from each primary's own surface; lamella: /lamella, "
                        "2D distance from the particle edge in the projected slab (default 3d)")
    p.add_argument("--cycles", type=_cycles, metavar="C1,C2", help="stored cycles (default all but 0)")
    p.add_argument("--quantity", choices=("mn3", "vacancy", "both"), default="both",
                   help="Mn3+ fraction, vacancy fraction or both panels (default both)")
    p.add_argument("--min-count", type=int, default=100, metavar="N",
                   help="bins with fewer voxels (pixels) get open markers (default 100)")

    p = add("lamella", [common, out])
    p.add_argument("--cycles", type=_cycles, metavar="C1,C2", help="cycles, one panel each (default the last stored)")
    p.add_argument("--quantity", choices=("mn3", "vacancy"), default="mn3", help="default mn3")
    p.add_argument("--mirror", choices=("auto", "off"), default="auto",
                   help="auto: reflect across a domain face through the slab centre (default)")
    p.add_argument("--vmax", type=float, help="top of the colour scale (default the maximum)")

    p = add("slice", [common, out])
    p.add_argument("--cycles", type=_cycles, metavar="C1,C2", help="field cycles, one panel each (default the last stored)")
    p.add_argument("--axis", choices=tuple("xyz"), default="z", help="normal of the section (default z)")
    p.add_argument("--position", type=float, metavar="UM",
                   help="position along the axis in µm (default the centre of the secondary)")
    p.add_argument("--secondary", type=int, metavar="ID",
                   help="secondary whose centre the section goes through (default the first)")
    p.add_argument("--quantity", choices=("vacancy", "mn3"), default="vacancy", help="default vacancy")
    p.add_argument("--mirror", choices=("auto", "off"), default="auto",
                   help="auto: reflect across a domain face the secondary's centre lies on (default)")
    p.add_argument("--vmax", type=float, help="top of the colour scale (default the maximum)")

    p = add("depth", [common, out])
    p.add_argument("--cycles", type=_cycles, metavar="C1,C2", help="stored cycles, one panel each (default the last)")
    p.add_argument("--bin", type=float, metavar="UM", help="also volume-weighted means in depth bins of UM µm")

    p = add("measured", [common, out])
    p.add_argument("measured", metavar="MEASURED.csv",
                   help="cycle,distance_nm,mn3_fraction,sigma ('#' comments; docs/compare.md)")
    p.add_argument("--geometry", choices=("lamella", "3d"), default="lamella",
                   help="model profile as oxvac compare: lamella (/lamella, default) or 3d (/profiles)")

    sub.add_parser("sweep", help=SUBCOMMANDS["sweep"].replace("%", "%%"), add_help=False)
    return ap


def build(args):
    """(figure, default output name) for parsed arguments."""
    from .. import measured as MS
    from ..result import Result
    from . import figures as F
    from . import style as S

    if not os.path.exists(args.result):
        raise PlotError(f"{args.result}: no such file")
    try:
        res = Result(args.result)
    except OSError as e:
        raise PlotError(f"{args.result}: not an HDF5 result file ({e})") from None
    try:
        c = args.command
        if c == "loss":
            fig = F.loss_figure(res, x=args.x, soc=not args.no_soc, per_secondary=not args.no_secondaries,
                                ends_only=args.ends, title=args.title)
        elif c == "profiles":
            fig = F.profiles_figure(res, args.geometry, args.cycles, args.quantity, args.min_count, title=args.title)
        elif c == "lamella":
            fig = F.lamella_figure(res, args.cycles, args.quantity, args.mirror, args.vmax, title=args.title)
        elif c == "slice":
            pos = None if args.position is None else args.position * 1e-6
            fig = F.slice_figure(res, args.cycles, args.axis, pos, args.secondary, args.quantity, args.mirror,
                                 args.vmax, title=args.title)
        elif c == "depth":
            fig = F.depth_figure(res, args.cycles, args.bin, title=args.title)
        elif c == "measured":
            try:
                meas = MS.read_csv(args.measured)
            except MS.MeasuredError as e:
                raise PlotError(str(e)) from None
            fig = F.measured_figure(res, meas, args.geometry, args.measured, title=args.title)
        else:
            raise PlotError(f"unknown subcommand {c}")
    except KeyError as e:
        raise PlotError(str(e).strip("'\"")) from None
    finally:
        res.close()
    return fig, S.default_output(args.result, args.command)


def main(argv=None):
    """The command line; returns the exit status (0 written, 2 usage or data
    error, 1 the figure could not be written)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = _prog()
    if argv and argv[0] == "sweep":
        from . import sweep
        return sweep.main(argv[1:], prog=f"{prog} sweep")
    args = _parser(prog).parse_args(argv)
    from . import style as S
    try:
        if args.output:
            S.check_output(args.output)
        fig, default = build(args)
    except PlotError as e:
        print(f"{prog} {args.command}: error: {e}", file=sys.stderr)
        return 2
    out = args.output or default
    try:
        S.save(fig, out)
    except (OSError, ValueError) as e:
        print(f"{prog} {args.command}: cannot write {out}: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
