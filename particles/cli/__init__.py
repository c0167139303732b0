"""The ``ionpump`` command line (also ``python -m particles``): the only code that knows
argparse, signals and exit codes.

Exit status: 0 done; 2 bad input (one line naming the file, key and problem); 130 interrupted
after the results so far were written (1: a sweep's run failed).

Layout: :mod:`.parser` builds the parser from one module per command (:mod:`.scenarios`,
:mod:`.watch`, :mod:`.run`, :mod:`.record`, :mod:`.plot`, :mod:`.sweep`, :mod:`.bench`), each
holding its options and its handler; :mod:`.options` holds the shared options and their
checks (seed, durations, ``--set``) and :class:`UsageError`; :mod:`.signals` holds
:class:`Interrupt` and the process-wide handlers. Nothing heavy is imported before
:func:`entry` has taken over Ctrl-C and SIGTERM: this module imports only the standard
library at import time, and the handlers import the libraries they need (render, pygame,
matplotlib, pandas, dask, scipy).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from . import signals

__all__ = ["main", "entry", "build_parser", "UsageError", "Interrupt"]


def __getattr__(name: str):
    if name == "build_parser":
        from .parser import build_parser
        return build_parser
    if name == "UsageError":
        from .options import UsageError
        return UsageError
    if name == "Interrupt":
        return signals.Interrupt
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def entry() -> None:
    """The ``ionpump`` program: Ctrl-C/SIGTERM at any instant (while importing, after the
    results are written) exit 130 with one line; then :func:`main`."""
    signals.exit_on_signal()
    status = main()
    signals.hold()
    if status == signals.EXIT_INTERRUPTED and signals.received():
        signals.leave(status)
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``ionpump`` command; returns its exit status.

    While it runs, SIGTERM is Ctrl-C: both raise KeyboardInterrupt outside the commands'
    own :class:`~.signals.Interrupt` sections, which ends here in exit 130 (nothing was being
    written then, or the results are already complete)."""
    try:
        with signals.interrupt_raises():
            return _command(argv)
    except Exception:  # noqa: BLE001  a KeyboardInterrupt that an import turned into another
        if not signals.received():
            raise
        return _interrupted()
    except KeyboardInterrupt:
        return _interrupted()


def _interrupted() -> int:
    """Undo what the interrupted command created; one line; 130."""
    output = sys.modules.get("particles.output")  # not imported yet: nothing to undo
    if output is not None:
        output.remove_created_dirs()
    return signals.interrupted()


def _command(argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the command; bad input is one line and exit 2."""
    from ..config import ScenarioError
    from ..output import remove_created_dirs
    from .parser import build_parser

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except ScenarioError as e:
        remove_created_dirs()
        print(f"ionpump: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        os._exit(0)
