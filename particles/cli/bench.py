"""``ionpump bench``: this machine's figures, the core's (particles.bench) and, when the
renderer is installed, the window's and the video encoder's (render.bench)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def add_parser(sub) -> None:
    """Declare ``bench`` and its options."""
    from .options import examples

    sp = sub.add_parser("bench", help="this machine's performance figures", **examples(
        "ionpump bench", "ionpump bench --quick --json > bench.json"))
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    sp.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    """Measure and print the figures (one JSON object with ``--json``)."""
    from .. import bench

    quiet = args.json
    say = (lambda s: None) if quiet else print
    if not quiet:
        print(f"ionpump bench on {bench.machine()}")
    res = bench.run_all(quick=args.quick, progress=say)
    res.update(render_figures(args.quick, say))
    if args.json:
        print(json.dumps(res))
    return 0


def render_figures(quick: bool, progress: Callable[[str], Any]) -> dict[str, Any]:
    """Frames per second of the window's drawing (``window``) and video encoding speed
    (``video``); empty when the renderer is not installed."""
    try:
        from render import bench as rbench
    except ImportError:  # pragma: no cover - renderer not installed
        return {}
    secs = 1.0 if quick else 3.0
    w = rbench.frames_per_second(n_ions=2000 if quick else 20000, seconds=secs)
    progress(f"  window: {w.get('fps', float('nan')):.0f} frames/s "
             f"({w.get('n_ions', '?')} ions, {w.get('size', '?')})")
    v = rbench.encode_speed(seconds=secs)
    progress(f"  video: {v.get('speed_vs_realtime', float('nan')):.1f}× real time")
    return {"window": w, "video": v}
