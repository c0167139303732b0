"""``ionpump warmup``: fill numba's cache with every kernel the commands use.

``make`` runs it once after installing, so the first ``make run`` or ``make test`` loads
compiled kernels instead of compiling them (about 20 s on 2 cores). It goes through the
public API only, as the commands do: a few steps of every built-in scenario, the same
without channels or bath, every protocol event, and two frames of the offscreen renderer
(one converted to an MP4's planes).
Each stage prints one line with the number of functions numba compiled for it; run again,
every count is 0 (all loaded from the cache, :mod:`particles.jit`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator

STEPS = 3
"""Steps per tiny simulation: enough to run every kernel of a step and a results row."""

BARE = {"channels.na_leak_count": 0, "channels.k_leak_count": 0, "channels.nav_count": 0,
        "channels.kv_count": 0, "bath.clamped": False}
"""Overrides: no channel pores, no bath exchange (the kernels' other branch)."""

EVENTS = (("k_free", {}), ("restore_k", {}),
          ("add_ions", {"species": "na", "side": "inside", "count": 4}),
          ("remove_ions", {"species": "k", "side": "outside", "count": 2}),
          ("action_potential", {"count": 1, "interval_ms": 0.01}),
          ("set", {"key": "ions.k.outside_mM", "value": 30.0}), ("poison", {}),
          ("load_tracer", {"fraction": 0.5}), ("washout", {}), ("ouabain", {"mM": 0.01}),
          ("phase", {}))
"""Every protocol event once, with parameters like a scenario file's."""


def _simulation(name: str, overrides: dict | None = None):
    from particles import Simulation, load_scenario

    return Simulation(load_scenario(name, overrides=overrides or {}), seed=1)


def _events() -> None:
    sim = _simulation("recovery")
    for action, params in EVENTS:
        sim.apply_event(action, **params)
        sim.step(1)
    sim.timeseries()


def _frames() -> None:
    import numpy as np

    from render.video import frames
    from render.yuv import plane_bytes, rgb_to_yuv420

    it = frames(_simulation("recovery"), (320, 180), 30.0)  # gated pores drawn too
    next(it)
    rgb_to_yuv420(next(it), np.empty(plane_bytes(320, 180), np.uint8))  # as MP4s are piped


def stages() -> Iterator[tuple[str, Callable[[], None]]]:
    """(label, work) for every stage, in order."""
    from particles.config import builtin_names

    for name in builtin_names():
        yield name, lambda name=name: _simulation(name).step(STEPS)
    yield "without channels or bath", lambda: _simulation("resting", BARE).step(STEPS)
    yield "protocol events", _events
    yield "renderer", _frames


def add_parser(sub) -> None:
    """Declare ``warmup``."""
    sp = sub.add_parser("warmup", help="compile the simulation kernels once (make does it)",
                        description="Compile every kernel the commands use into numba's "
                        "cache, so later commands start in about a second. `make run` and "
                        "`make test` run it after installing; after `pip install`, run it once.",
                        epilog="examples:\n  ionpump warmup",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sp.set_defaults(func=cmd_warmup)


def cmd_warmup(args=None) -> int:
    """Run every stage; print one line per stage. Returns the exit code (0)."""
    from numba.core import event

    from particles import jit

    where = jit.CACHE_DIR or "nowhere (caching is off)"
    print(f"ionpump warm-up: numba's cache is {where}", flush=True)
    t_all = time.perf_counter()
    for label, work in stages():
        print(f"  {label}: ", end="", flush=True)
        t0 = time.perf_counter()
        with event.install_recorder("numba:compile") as rec:
            work()
        n = sum(1 for _, ev in rec.buffer if ev.is_start)
        print(f"{n} functions compiled, {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"ionpump warm-up: done in {time.perf_counter() - t_all:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(cmd_warmup())
