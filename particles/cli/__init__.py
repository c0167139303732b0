"""The ``ionpump`` command line (also ``python -m particles``): the only code that knows
argparse, signals and exit codes.

Exit status: 0 done; 2 bad input (one line naming the file, key and problem); 130 interrupted
after the results so far were written (1: a sweep's run failed).

Layout: :mod:`.parser` builds the parser from one module per command (:mod:`.scenarios`,
:mod:`.watch`, :mod:`.run`, :mod:`.record`, :mod:`.plot`, :mod:`.sweep`, :mod:`.bench`), each
holding its options and its handler; :mod:`.options` holds the shared options and their
checks (seed, durations, ``--set``) and :class:`UsageError`; :mod:`.signals` holds
:class:`Interrupt`. Heavy libraries (render, pygame, matplotlib, pandas, dask, scipy) are
imported by the handlers that need them, never at import time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..config import ScenarioError
from .options import UsageError
from .parser import build_parser
from .signals import Interrupt

__all__ = ["main", "build_parser", "UsageError", "Interrupt"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``ionpump`` command; returns its exit status (the ``ionpump`` entry point)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except ScenarioError as e:
        print(f"ionpump: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ionpump: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os._exit(0)
