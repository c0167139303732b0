"""Options shared by the commands: their declaration, their checks and the error they raise.

Every value the command line gives is checked here once: the seed, durations and other
positive numbers, ``--set KEY=VALUE`` overrides, and the scenario they select.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from ..config import ScenarioError, load_scenario, parse_assignment


class UsageError(ScenarioError):
    """A command-line value is unusable (``ionpump: error: command line: OPTION: ...``)."""

    def __init__(self, option: str, problem: str):
        super().__init__("command line", option, problem)


def add_common(sp: argparse.ArgumentParser, scenario_required: bool = True) -> None:
    """Add SCENARIO (when required), ``--seed`` and ``--set`` to a command's parser."""
    if scenario_required:
        sp.add_argument("scenario", metavar="SCENARIO",
                        help="built-in name (see `ionpump scenarios`) or path to a .toml")
    sp.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="override a scenario key, e.g. --set ions.k.outside_mM=0 (repeatable)")


def add_workers(sp: argparse.ArgumentParser) -> None:
    """Add ``--workers N``: local worker processes of a sweep or of ``--replicates``."""
    sp.add_argument("--workers", type=int, metavar="N",
                    help="worker processes on this machine (default: one per core; at most "
                    "one per run)")


def workers(value: int | None, scheduler: str | None = None) -> int | None:
    """``--workers``: None (one per core) or a count >= 1; refused beside a cluster, whose
    workers are its own."""
    if value is None:
        return None
    if scheduler:
        raise UsageError("--workers", "a Dask cluster's workers are its own; --workers is "
                         "for worker processes on this machine")
    return at_least_one("--workers", value)


def examples(*lines: str) -> dict:
    """Keyword arguments for ``add_parser`` that print ``lines`` under "examples:" in --help."""
    return {"epilog": "examples:\n" + "\n".join("  " + line for line in lines),
            "formatter_class": argparse.RawDescriptionHelpFormatter}


def seed(value: int | None) -> int:
    """The ``--seed`` to run with: 1 when not given; a whole number >= 0."""
    value = 1 if value is None else value
    if not 0 <= value < 2**63:
        raise UsageError("--seed", f"must be a whole number from 0 to 2^63 - 1, got {value}")
    return value


def recording(option: str, sc, duration_ms: float) -> None:
    """Refuse a run whose recorded rows would not fit in memory
    (:func:`~particles.config.check_recording`), naming ``option``."""
    from ..config import check_recording

    try:
        check_recording(sc.values, duration_ms, sc.source, "time.duration_ms")
    except ScenarioError as e:
        raise UsageError(option, e.problem) from None


def positive(option: str, value: float | None) -> float | None:
    """A finite number > 0 (``--duration`` and other times), or None when not given."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(option, f"must be a number > 0, got {value!r}")
    return value


def at_least_one(option: str, value: int) -> int:
    """A count >= 1 (``--replicates``)."""
    if value is None or value < 1:
        raise UsageError(option, f"must be >= 1, got {value}")
    return value


def overrides(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as ``{dotted key: value}`` (the last of a key wins)."""
    out = {}
    for text in pairs or []:
        k, v = parse_assignment(text)
        out[k] = v
    return out


def scenario(ref: str, pairs: Sequence[str] | None):
    """The scenario ``ref`` (built-in name or TOML path) with the ``--set`` options applied."""
    return load_scenario(ref, overrides(pairs))


def is_tty() -> bool:
    """Progress bars only on a terminal."""
    return sys.stderr.isatty()
