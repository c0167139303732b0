"""The ``ionpump`` command line (also ``python -m particles``).

Exit status: 0 done; 2 bad input (one line naming the file, key and problem); 130 interrupted
after the results so far were written. ``render`` is imported only by ``watch`` and ``record``.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from typing import Any, Sequence

from .config import ScenarioError, builtin_names, load_scenario, parse_assignment

EPILOG = """examples:
  ionpump scenarios
  ionpump watch pump-cycle
  ionpump run resting --duration 5 --out out/resting.csv
  ionpump run hodgkin-keynes --seed 3 --set pumps.count=20 --out out/hk.parquet
  ionpump record pump-cycle --seconds 10 --out out/pump-cycle.mp4
  ionpump plot out/hk.parquet --out out/hk.png
  ionpump sweep saturation --vary ions.na.inside_mM=5,10,20,40 --replicates 3 --out out/sat.parquet
  ionpump bench --json
"""


class UsageError(ScenarioError):
    """A command-line value is unusable."""

    def __init__(self, option: str, problem: str):
        super().__init__("command line", option, problem)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str):  # noqa: D102
        raise UsageError(self.prog, message)


class Interrupt:
    """Turns SIGINT/SIGTERM into a flag polled at step boundaries (a second one aborts)."""

    def __init__(self):
        self.stop = False
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False

    def __call__(self) -> bool:
        return self.stop


def _overrides(pairs: Sequence[str] | None) -> dict[str, Any]:
    out = {}
    for text in pairs or []:
        k, v = parse_assignment(text)
        out[k] = v
    return out


def _positive(name: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(name, f"must be a number > 0, got {value!r}")
    return value


def _seed(value: int) -> int:
    if value < 0:
        raise UsageError("--seed", f"must be >= 0, got {value}")
    return value


def _scenario(args) -> Any:
    sc = load_scenario(args.scenario, _overrides(args.set))
    return sc


def _is_tty() -> bool:
    return sys.stderr.isatty()


def cmd_scenarios(args) -> int:
    rows = []
    for name in builtin_names():
        sc = load_scenario(name)
        rows.append((name, sc.title, sc.description))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'name':<{w0}}  {'title':<{w1}}  description")
    for name, title, desc in rows:
        print(f"{name:<{w0}}  {title:<{w1}}  {desc}")
    return 0


def _print_summary(sim, df, wall_s: float, out) -> None:
    from .observe import summarize

    s = summarize(sim)
    lines = [
        ("scenario", f"{sim.scenario.name} (seed {sim.seed})"),
        ("simulated", f"{sim.time_ms:.4g} ms in {len(sim.ions):,} ions, {s['pumps']} pumps"),
        ("wall time", f"{wall_s:.1f} s"),
        ("cycles", f"{s['cycles']} ({s['cycles_per_pump_per_s']:.1f} per pump per s)"),
        ("Na+ out : ions in", f"{s['na_pumped_out']} : {s['k_pumped_in']} K+ "
                              f"+ {s['na_pumped_in']} Na+"),
        ("net charge out", f"{s['net_charge_out']} e"),
        ("ATP used", f"{s['atp_used']} molecules; ATP now {s['atp_mM_end']:.3g} mM"),
        ("potential", f"{s['v_mV_end']:.2f} mV"),
    ]
    if len(df):
        last = df.iloc[-1]
        lines.append(("inside", f"Na+ {last['na_in_mM']:.3g} mM, K+ {last['k_in_mM']:.3g} mM"))
        lines.append(("outside", f"Na+ {last['na_out_mM']:.3g} mM, K+ {last['k_out_mM']:.3g} mM"))
    lines += _fluctuation_lines(sim, df)
    lines.append(("results", str(out)))
    w = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"  {k:<{w}}  {v}")


def _fluctuation_lines(sim, df) -> list[tuple[str, str]]:
    """Fano factors of the cycle count (one pump, whole membrane) against renewal theory."""
    from .stats import fluctuation_report

    hist = sim.pump_cycles_history()
    if hist.shape[1] == 0 or len(df) < 20 or hist[-1].sum() < 20:
        return []
    try:
        rep = fluctuation_report(df["time_ms"].to_numpy(), hist,
                                 [k for _, k in sim.cycle_steps() if k > 0],
                                 warmup_ms=0.2 * sim.time_ms)
    except ValueError:
        return []
    out = []
    for label, key in (("Fano, one pump", "pump"), ("Fano, membrane", "membrane")):
        f = rep[key]
        out.append((label, f"{f['value']:.2f} (95 % CI {f['ci_low']:.2f}-{f['ci_high']:.2f})"))
    if "theory" in rep:
        note = "" if rep["theory_applies"] else " (binding not fast: theory is a lower bound)"
        out.append(("Fano from rates", f"{rep['theory']['fano']:.2f}{note}"))
    return out


def cmd_run(args) -> int:
    from .output import TABLE_SUFFIXES, check_output, write_meta, write_table
    from .simulation import Simulation

    _positive("--duration", args.duration)
    out = check_output(args.out, TABLE_SUFFIXES, args.force)
    sc = _scenario(args)
    seed = _seed(args.seed)
    duration = args.duration if args.duration is not None else sc.values["time.duration_ms"]
    if args.replicates < 1:
        raise UsageError("--replicates", f"must be >= 1, got {args.replicates}")
    if args.replicates > 1:
        return _run_replicates(args, out, sc, seed, duration)
    t0 = time.perf_counter()
    sim = Simulation(sc, seed=seed)
    with Interrupt() as stop:
        sim.run(duration, progress=_is_tty() and not args.quiet, should_stop=stop)
    sim.recorder.record()
    df = sim.timeseries()
    wall = time.perf_counter() - t0
    write_table(df, out)
    write_meta(out, {"scenario": sc.to_dict(), "seed": seed, "dt_ms": sim.dt_ms,
                     "duration_ms": duration, "simulated_ms": sim.time_ms,
                     "interrupted": stop.stop, "wall_s": wall, "summary": sim.summary(),
                     "command": sys.argv})
    if not args.quiet:
        _print_summary(sim, df, wall, out)
    if stop.stop:
        print(f"interrupted at {sim.time_ms:.4g} ms; results so far written to {out}",
              file=sys.stderr)
        return 130
    return 0


def _run_replicates(args, out, sc, seed: int, duration: float) -> int:
    """`run --replicates R`: R seeds on a local Dask cluster, one tidy table, mean/sd/CI."""
    from . import stats
    from .output import write_meta, write_table
    from .sweep import SweepInterrupted, run_sweep, sweep_meta

    t0 = time.perf_counter()
    interrupted = False
    try:
        df = run_sweep(sc.to_dict(), {}, args.replicates, seed, duration, {}, None,
                       progress=_is_tty() and not args.quiet)
    except SweepInterrupted as e:
        df, interrupted = e.table, True
    write_table(df, out)
    write_meta(out, {**sweep_meta(df), "scenario": sc.to_dict(), "seed": seed,
                     "replicates": args.replicates, "duration_ms": duration,
                     "interrupted": interrupted, "wall_s": time.perf_counter() - t0,
                     "command": sys.argv})
    if not args.quiet:
        print(f"  {sc.name}: {args.replicates} replicates (seeds {seed}..."
              f"{seed + args.replicates - 1}), {duration:g} ms each; results {out}")
        print(stats.format_summary(stats.summarize_replicates(df)))
    if interrupted:
        print(f"interrupted; completed replicates written to {out}", file=sys.stderr)
        return 130
    return 0


DEFAULT_SCENARIO = "pump-cycle"


def has_display() -> bool:
    """True when a window can be opened (X11 or Wayland, or an explicit SDL driver)."""
    drv = os.environ.get("SDL_VIDEODRIVER", "")
    if drv and drv not in ("dummy", "offscreen"):
        return True
    if drv in ("dummy", "offscreen"):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_watch(args) -> int:
    sc = load_scenario(args.scenario or DEFAULT_SCENARIO, _overrides(args.set))
    seed = _seed(args.seed)
    if not has_display():
        if not args.headless_fallback:
            raise UsageError("watch", "no display (DISPLAY is not set); use `ionpump run` or "
                             "`ionpump record`, or run under Xvfb")
        print(f"ionpump: no display; running {sc.name!r} headless instead (results and a "
              "short video in out/)")
        return _headless_default(sc, seed)
    from render import app

    return app.watch(sc, seed=seed)


def _headless_default(sc, seed: int) -> int:
    """What `make run` does without a display: a run with its summary and a short MP4."""
    ns = argparse.Namespace(scenario=sc.name, set=None, seed=seed, out=f"out/{sc.name}.csv",
                            duration=None, force=True, quiet=False, replicates=1)
    rc = cmd_run(ns)
    if rc:
        return rc
    from render import video

    vs = argparse.Namespace(scenario=sc.name, set=None, seed=seed, out=f"out/{sc.name}.mp4",
                            seconds=5.0, fps=30, size="1280x720", no_captions=False, force=True)
    return video.record_command(vs, sc)


def cmd_record(args) -> int:
    from render import video

    return video.record_command(args, _scenario(args))


def cmd_plot(args) -> int:
    from .plotting import plot_file

    plot_file(args.file, args.out)
    print(f"wrote {args.out}")
    return 0


def cmd_sweep(args) -> int:
    from .sweep import sweep_command

    return sweep_command(args)


def cmd_bench(args) -> int:
    from .bench import bench_command

    return bench_command(args)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ionpump", description="Agent-based simulation of the Na+/K+ pump.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(sp, scenario_required=True):
        if scenario_required:
            sp.add_argument("scenario", metavar="SCENARIO",
                            help="built-in name (see `ionpump scenarios`) or path to a .toml")
        sp.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a scenario key, e.g. --set pumps.count=40 (repeatable)")

    sp = sub.add_parser("scenarios", help="list the built-in scenarios")
    sp.set_defaults(func=cmd_scenarios)

    sp = sub.add_parser("watch", help="open the desktop visualisation")
    sp.add_argument("scenario", nargs="?", metavar="SCENARIO", help="default: pump-cycle")
    common(sp, scenario_required=False)
    sp.add_argument("--headless-fallback", action="store_true",
                    help="without a display, run headless instead (what `make run` does)")
    sp.set_defaults(func=cmd_watch)

    sp = sub.add_parser("run", help="headless run; results table + summary",
                        epilog="example: ionpump run resting --duration 5 --out out/r.csv",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    common(sp)
    sp.add_argument("--out", required=True, metavar="FILE", help="results .csv or .parquet")
    sp.add_argument("--duration", type=float, metavar="MS",
                    help="simulated time in ms (default: the scenario's time.duration_ms)")
    sp.add_argument("--replicates", type=int, default=1, metavar="R",
                    help="independent runs with seeds SEED..SEED+R-1")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("record", help="render a video headless (.mp4 or .gif)")
    common(sp)
    sp.add_argument("--out", required=True, metavar="FILE", help="video .mp4 or .gif")
    sp.add_argument("--seconds", type=float, default=10.0, help="video length in s")
    sp.add_argument("--fps", type=int, default=30, help="frames per second")
    sp.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels")
    sp.add_argument("--no-captions", action="store_true", help="no burned-in captions")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.set_defaults(func=cmd_record)

    sp = sub.add_parser("plot", help="standard figures for a results file")
    sp.add_argument("file", metavar="FILE", help="results .csv or .parquet")
    sp.add_argument("--out", required=True, metavar="PNG", help="figure .png, .svg or .pdf")
    sp.set_defaults(func=cmd_plot)

    sp = sub.add_parser("sweep", help="parameter sweep and replicates on Dask")
    common(sp)
    sp.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                    help="values of one key (repeatable: the product is run)")
    sp.add_argument("--replicates", type=int, default=1, metavar="R")
    sp.add_argument("--duration", type=float, metavar="MS")
    sp.add_argument("--out", required=True, metavar="FILE", help=".parquet or .csv")
    sp.add_argument("--scheduler", metavar="ADDRESS",
                    help="existing Dask scheduler (default: a local cluster)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("bench", help="this machine's performance figures")
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    sp.set_defaults(func=cmd_bench)
    return p


def _version() -> str:
    from . import __version__

    return f"ionpump {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
