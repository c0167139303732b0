"""``ionpump plot``: the standard figure for a results file (matplotlib, imported here only)."""

from __future__ import annotations

from . import options


def add_parser(sub) -> None:
    """Declare ``plot`` and its options."""
    sp = sub.add_parser("plot", help="standard figures for a results file", **options.examples(
        "ionpump plot out/r.csv --out out/r.png",
        "ionpump plot out/hk.parquet --out out/hk.pdf        # the Figure 4.11 view",
        "ionpump plot out/sat-na.parquet --out out/sat-na.svg  # flux + saturation fit",
        "ionpump plot out/iv.parquet --out out/iv.png          # a membrane.clamp_mV sweep: "
        "I-V"))
    sp.add_argument("file", metavar="FILE", help="results .csv or .parquet")
    sp.add_argument("--out", required=True, metavar="PNG", help="figure .png, .svg or .pdf")
    sp.set_defaults(func=cmd_plot)


def cmd_plot(args) -> int:
    """Draw the figure; unreadable input or a bad extension is a one-line error (exit 2).

    The figure is drawn under a temporary name beside ``--out`` and renamed over it: a full
    disk or an interruption leaves the previous figure (or none), never a truncated one."""
    import os

    from ..output import atomic_write, check_output
    from ..plotting import FORMATS, plot_file

    if os.path.splitext(args.out)[1].lower() in FORMATS:  # else plot_file says what is wrong
        check_output(args.out, FORMATS, force=True)  # its directory: made, writable

    def draw(tmp: str) -> None:
        named = tmp + os.path.splitext(args.out)[1]  # matplotlib reads the format from it
        try:
            plot_file(args.file, named)
            os.replace(named, tmp)
        finally:
            if os.path.lexists(named):
                os.unlink(named)

    atomic_write(args.out, draw)
    print(f"wrote {args.out}")
    return 0
