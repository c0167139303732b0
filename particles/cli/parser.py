"""The ``ionpump`` argument parser: one sub-command per module of this package."""

from __future__ import annotations

import argparse

from . import bench, completion, plot, record, run, scenarios, schema, sweep, warmup, watch
from .options import UsageError

EPILOG = """examples:
  ionpump scenarios
  ionpump watch pump-cycle
  ionpump run resting --duration 5 --out out/resting.csv
  ionpump run hodgkin-keynes --seed 3 --set pumps.count=12 --out out/hk.parquet
  ionpump record pump-cycle --seconds 10 --out out/pump-cycle.mp4
  ionpump plot out/hk.parquet --out out/hk.png
  ionpump sweep saturation --vary ions.na.inside_mM=5,10,20,40 --replicates 3 --out out/sat.parquet
  ionpump bench --json
  ionpump warmup
"""

#: The commands in the order ``ionpump --help`` lists them.
COMMANDS = (scenarios, watch, run, record, plot, sweep, bench, warmup, schema, completion)


class ArgParser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str):  # noqa: D102
        raise UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each sets ``func``, its handler, on its namespace."""
    p = ArgParser(prog="ionpump", description="Agent-based simulation of the Na+/K+ pump.",
                  epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgParser)
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def _version() -> str:
    from .. import __version__

    return f"ionpump {__version__}"
