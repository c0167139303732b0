"""``ionpump watch``: the desktop window; without a display, ``make run``'s headless run."""

from __future__ import annotations

import os

from . import options
from .options import UsageError

DEFAULT_SCENARIO = "pump-cycle"


def add_parser(sub) -> None:
    """Declare ``watch`` and its options."""
    sp = sub.add_parser("watch", help="open the desktop visualisation", **options.examples(
        "ionpump watch", "ionpump watch resting --set ions.k.outside_mM=0",
        "ionpump watch hodgkin-keynes --seed 3"))
    sp.add_argument("scenario", nargs="?", metavar="SCENARIO", help="default: pump-cycle")
    options.add_common(sp, scenario_required=False)
    sp.add_argument("--headless-fallback", action="store_true",
                    help="without a display, run headless instead (what `make run` does)")
    sp.set_defaults(func=cmd_watch)


def has_display() -> bool:
    """True when a window can be opened (X11 or Wayland, or an explicit SDL driver)."""
    drv = os.environ.get("SDL_VIDEODRIVER", "")
    if drv and drv not in ("dummy", "offscreen"):
        return True
    if drv in ("dummy", "offscreen"):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_watch(args) -> int:
    """Open the window on the scenario; a window that cannot open is a one-line error."""
    sc = options.scenario(args.scenario or DEFAULT_SCENARIO, args.set)
    seed = options.seed(args.seed)
    if not has_display():
        if not args.headless_fallback:
            raise UsageError("watch", "no display (DISPLAY is not set); use `ionpump run` or "
                             "`ionpump record`, or run under Xvfb")
        print(f"ionpump: no display; running {sc.name!r} headless instead (results and a "
              "short video in out/)")
        return _headless_default(args, sc, seed)
    from render import app

    try:
        return app.watch(sc, seed=seed)
    except app.WindowError as e:
        raise UsageError("watch", str(e)) from None


def _headless_default(args, sc, seed: int) -> int:
    """What `make run` does without a display: a run with its summary and a short MP4 of the
    same scenario, options and seed, in out/."""
    from .parser import build_parser
    from .record import record_scenario
    from .run import cmd_run

    common = [args.scenario or DEFAULT_SCENARIO, "--seed", str(seed), "--force"]
    for kv in args.set or []:
        common += ["--set", kv]
    parser = build_parser()
    rc = cmd_run(parser.parse_args(["run", *common, "--out", f"out/{sc.name}.csv"]))
    if rc:
        return rc
    vs = parser.parse_args(["record", *common, "--out", f"out/{sc.name}.mp4", "--seconds", "5"])
    rc = record_scenario(vs, sc)
    if rc == 0:
        print(f"ionpump: wrote out/{sc.name}.csv and out/{sc.name}.mp4")
    return rc
