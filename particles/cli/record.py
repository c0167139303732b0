"""``ionpump record``: a video of a scenario, rendered headless (.mp4 or .gif).

The options are checked here; :func:`render.video.record` renders and encodes. Exit status
0 done, 130 interrupted (the file is closed and playable); bad options exit 2.
"""

from __future__ import annotations

import math
import re
import time

from . import options
from .options import UsageError
from .signals import Interrupt


def add_parser(sub) -> None:
    """Declare ``record`` and its options."""
    sp = sub.add_parser("record", help="render a video headless (.mp4 or .gif)",
                        **options.examples(
                            "ionpump record pump-cycle --seconds 20 --out out/pump-cycle.mp4",
                            "ionpump record resting --size 640x360 --fps 15 "
                            "--out out/resting.gif"))
    options.add_common(sp)
    sp.add_argument("--out", required=True, metavar="FILE", help="video .mp4 or .gif")
    sp.add_argument("--seconds", type=float, default=None,
                    help="video length in s (default: the whole protocol at the scenario's "
                         "playback speed, faster if that exceeds 60 s)")
    sp.add_argument("--fps", type=int, default=30, help="frames per second")
    sp.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels")
    sp.add_argument("--no-captions", action="store_true", help="no burned-in captions")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.set_defaults(func=cmd_record)


def cmd_record(args) -> int:
    """Load the scenario, then :func:`record_scenario`."""
    return record_scenario(args, options.scenario(args.scenario, args.set))


def parse_size(text: str) -> tuple[int, int]:
    """``--size WxH`` as (W, H) pixels, each within 64..7680 x 64..4320."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
    if not m:
        raise UsageError("--size", f"expected WIDTHxHEIGHT in pixels, e.g. 1280x720, got "
                         f"{text!r}")
    W, H = int(m.group(1)), int(m.group(2))
    if not (64 <= W <= 7680 and 64 <= H <= 4320):
        raise UsageError("--size", f"{W}x{H} is out of range (64x64 .. 7680x4320)")
    return W, H


def record_scenario(args, scenario) -> int:
    """Check the options, render ``scenario`` and encode it; print one line about the file.

    Returns:
        0 done; 130 interrupted after closing a playable file.
    """
    from render import video

    from ..output import check_output
    from ..simulation import Simulation

    W, H = parse_size(args.size)
    if not 1 <= args.fps <= 120:
        raise UsageError("--fps", f"must be a whole number from 1 to 120, got {args.fps!r}")
    rate = None
    if args.seconds is None:
        args.seconds, rate = video.whole_protocol(scenario.values)
    if not (math.isfinite(args.seconds) and 0 < args.seconds <= 3600):
        raise UsageError("--seconds", f"must be > 0 and at most 3600, got {args.seconds!r}")
    seed = options.seed(args.seed)
    out = check_output(args.out, (".mp4", ".gif"), args.force)
    if out.suffix.lower() == ".mp4" and (W % 2 or H % 2):
        raise UsageError("--size", f"MP4 needs an even width and height, got {W}x{H}")
    n_frames = max(1, int(round(args.seconds * args.fps)))

    sim = Simulation(scenario, seed=seed)
    t0 = time.perf_counter()
    with Interrupt() as stop:  # before ffmpeg starts: a signal never leaves it orphaned
        rec = video.record(sim, out, (W, H), args.fps, n_frames, should_stop=stop,
                           captions=not args.no_captions, progress=options.is_tty(),
                           ms_per_second=rate)
    wall = time.perf_counter() - t0
    print(f"wrote {out} ({rec.frames} frames, {W}x{H}, {rec.frames / args.fps:.1f} s of video "
          f"showing {sim.time_ms:.3g} ms simulated; {wall:.1f} s to make"
          + (", interrupted)" if rec.interrupted else ")"))
    return 130 if rec.interrupted else 0
