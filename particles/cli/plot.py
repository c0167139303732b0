"""``ionpump plot``: the standard figure for a results file (matplotlib, imported here only)."""

from __future__ import annotations

from . import options


def add_parser(sub) -> None:
    """Declare ``plot`` and its options."""
    sp = sub.add_parser("plot", help="standard figures for a results file", **options.examples(
        "ionpump plot out/r.csv --out out/r.png",
        "ionpump plot out/hk.parquet --out out/hk.pdf        # the Figure 4.11 view",
        "ionpump plot out/sat-na.parquet --out out/sat-na.svg  # flux + saturation fit"))
    sp.add_argument("file", metavar="FILE", help="results .csv or .parquet")
    sp.add_argument("--out", required=True, metavar="PNG", help="figure .png, .svg or .pdf")
    sp.set_defaults(func=cmd_plot)


def cmd_plot(args) -> int:
    """Draw the figure; unreadable input or a bad extension is a one-line error (exit 2)."""
    from ..plotting import plot_file

    plot_file(args.file, args.out)
    print(f"wrote {args.out}")
    return 0
