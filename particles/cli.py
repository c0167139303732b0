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
    _print_phases(df)


def _print_phases(df) -> None:
    """Per-phase table (tracer efflux rate constant, turnover, mean potential) when the run
    went through more than one protocol phase (observe.phase_summary)."""
    from .observe import phase_summary

    if len(df) < 3:
        return
    ph = phase_summary(df)
    if len(ph) < 2:
        return
    print(f"  {'phase':<10} {'from-to ms':>13} {'k efflux /ms':>20} {'cycles/pump/s':>14} "
          f"{'V mV':>7}")
    for _, r in ph.iterrows():
        k = "-" if r["tracer_efflux"] == 0 and not r["k_per_ms"] > 0 else \
            f"{r['k_per_ms']:.5f} ± {r['k_se_per_ms']:.5f}"
        print(f"  {r['phase']:<10} {r['t_start_ms']:>6.4g}-{r['t_end_ms']:<6.4g} {k:>20} "
              f"{r['cycles_per_pump_per_s']:>14.1f} {r['v_mV_mean']:>7.1f}")


def _fluctuation_lines(sim, df) -> list[tuple[str, str]]:
    """Fano factors of the cycle count (one pump, whole membrane) against renewal theory."""
    from .reports import fluctuation_report

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
    from .output import TABLE_SUFFIXES, check_output
    from .simulation import Simulation

    if getattr(args, "resume", None):
        return _resume_run(args)
    if args.scenario is None:
        raise UsageError("SCENARIO", "a scenario is required (or --resume FILE)")
    if args.out is None:
        raise UsageError("--out", "an output file is required (.csv or .parquet)")
    _positive("--duration", args.duration)
    ckpt, every = _checkpoint_options(args)
    out = check_output(args.out, TABLE_SUFFIXES, args.force)
    if ckpt is not None:
        from .checkpoint import check_path

        ckpt = check_path(ckpt, args.force)
    sc = _scenario(args)
    seed = _seed(1 if args.seed is None else args.seed)
    duration = args.duration if args.duration is not None else sc.values["time.duration_ms"]
    if args.replicates < 1:
        raise UsageError("--replicates", f"must be >= 1, got {args.replicates}")
    if args.replicates > 1:
        if ckpt is not None:
            raise UsageError("--checkpoint", "not available with --replicates")
        # SIGTERM as Ctrl-C: the sweep then writes the completed replicates and exits 130
        old = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            return _run_replicates(args, out, sc, seed, duration)
        finally:
            signal.signal(signal.SIGTERM, old)
    steps = duration / sc.values["time.dt_ms"]
    if steps < 0.5 or steps > 2**53:
        raise UsageError("--duration", f"{duration:g} ms is {steps:.3g} steps of dt = "
                         f"{sc.values['time.dt_ms']:g} ms; give between one step and 2^53")
    t0 = time.perf_counter()
    scenario_dict = sc.to_dict()  # before protocol `set` events change the values
    with Interrupt() as stop:  # from here on a signal stops at a step boundary
        sim = Simulation(sc, seed=seed)
        plan = {"end_step": sim.step_index + int(round(duration / sim.dt_ms)),
                "duration_ms": duration, "out": str(out), "format": out.suffix.lower(),
                "checkpoint": None if ckpt is None else str(ckpt),
                "checkpoint_every_ms": every, "scenario_ref": str(args.scenario),
                "overrides": list(args.set or []), "seed": seed,
                "quiet": bool(args.quiet), "command": list(sys.argv)}
        return _drive(sim, plan, stop, t0, scenario_dict, quiet=args.quiet)


def _checkpoint_options(args) -> tuple[Any, float | None]:
    ckpt = getattr(args, "checkpoint", None)
    every = _positive("--checkpoint-every", getattr(args, "checkpoint_every", None))
    if every is not None and ckpt is None:
        raise UsageError("--checkpoint-every", "needs --checkpoint FILE")
    return ckpt, every


def _drive(sim, plan: dict, stop: "Interrupt", t0: float, scenario_dict: dict,
           quiet: bool, resumed_from: str | None = None) -> int:
    """Run ``sim`` to ``plan['end_step']``, checkpointing on the way and when interrupted;
    write the results (complete, or so far) and the summary. Returns the exit status."""
    from pathlib import Path

    from .output import write_meta, write_table

    end = int(plan["end_step"])
    ckpt = plan.get("checkpoint")
    every = plan.get("checkpoint_every_ms")
    every_steps = max(1, int(round(every / sim.dt_ms))) if ckpt and every else None
    bar = None
    ckpt_failed = False
    if _is_tty() and not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=end, initial=sim.step_index, unit="step", unit_scale=True,
                   desc=sim.scenario.name, leave=False)
    try:
        while sim.step_index < end and not stop():
            nxt = end
            if every_steps:
                nxt = min(end, (sim.step_index // every_steps + 1) * every_steps)
            sim.run_steps(nxt - sim.step_index, bar.update if bar else None, stop)
            if every_steps and sim.step_index == nxt < end and not stop():
                ckpt_failed |= not _save_checkpoint(sim, ckpt, plan)
    finally:
        if bar is not None:
            bar.close()
    interrupted = sim.step_index < end
    saved = True
    if interrupted and ckpt:
        saved = _save_checkpoint(sim, ckpt, plan)  # before the extra row: resume stays exact
    sim.recorder.record()
    df = sim.timeseries()
    wall = time.perf_counter() - t0
    out = Path(plan["out"])
    write_table(df, out)
    meta = {"scenario": scenario_dict, "seed": sim.seed, "dt_ms": sim.dt_ms,
            "duration_ms": plan["duration_ms"], "simulated_ms": sim.time_ms,
            "interrupted": interrupted, "wall_s": wall, "summary": sim.summary(),
            "command": sys.argv}
    if resumed_from:
        meta["resumed_from"] = resumed_from
    if ckpt:
        meta["checkpoint"] = ckpt
        meta["checkpoint_failed"] = ckpt_failed or not saved
    write_meta(out, meta)
    if not quiet:
        _print_summary(sim, df, wall, out)
    if interrupted:
        where = f"; checkpoint {ckpt} (continue with: ionpump run --resume {ckpt})" \
            if ckpt and saved else ""
        print(f"interrupted at {sim.time_ms:.4g} ms; results so far written to {out}{where}",
              file=sys.stderr)
        return 130
    return 0


def _save_checkpoint(sim, path: str, plan: dict) -> bool:
    """Save a checkpoint; if the file cannot be written (a full disk) warn in one line and
    return False, so that the run and its results table go on: the previous checkpoint, if
    any, is left intact. Other checkpoint errors (a bug) still stop the run."""
    from .checkpoint import CheckpointWriteError, save_checkpoint

    try:
        save_checkpoint(sim, path, plan)
    except CheckpointWriteError as e:
        print(f"ionpump: warning: {e}; the run goes on", file=sys.stderr)
        return False
    return True


def _resume_run(args) -> int:
    """`run --resume FILE [SCENARIO] [--out OUT]`: continue a checkpointed run to its end."""
    from .checkpoint import check_path, check_scenario, load_checkpoint, read_checkpoint
    from .config import scenario_from_dict
    from .output import TABLE_SUFFIXES, check_output

    for opt, val in (("--duration", args.duration), ("--replicates", args.replicates != 1
                                                     or None)):
        if val is not None:
            raise UsageError(opt, "cannot change a resumed run (its plan is in the checkpoint)")
    src = args.resume
    header, _ = read_checkpoint(src)  # refuses bad files before any other work
    plan = dict(header.get("plan") or {})
    if "end_step" not in plan or "out" not in plan:
        raise UsageError("--resume", f"{src} holds no run plan (not written by `ionpump run`)")
    if args.seed is not None and args.seed != header["seed"]:
        raise UsageError("--seed", f"the checkpoint's run has seed {header['seed']}, "
                         f"not {args.seed}")
    if args.scenario is not None:
        check_scenario(src, header, load_scenario(args.scenario, _overrides(args.set)))
    elif args.set:
        start = scenario_from_dict(header["scenario"])
        check_scenario(src, header, start.with_overrides(_overrides(args.set)))
    out = args.out if args.out is not None else plan["out"]
    same_out = os.path.abspath(out) == os.path.abspath(plan["out"])
    out = check_output(out, TABLE_SUFFIXES, args.force or same_out)
    ckpt, every = _checkpoint_options(args)
    if ckpt is not None:
        ckpt = str(check_path(ckpt, args.force, may_replace=(src, plan.get("checkpoint") or src)))
        plan["checkpoint"] = ckpt
    elif plan.get("checkpoint"):
        plan["checkpoint"] = str(src)  # go on saving where we resumed from
    if every is not None:
        plan["checkpoint_every_ms"] = every
    plan["out"], plan["format"] = str(out), out.suffix.lower()
    quiet = bool(args.quiet or plan.get("quiet"))
    t0 = time.perf_counter()
    with Interrupt() as stop:
        sim, _ = load_checkpoint(src)
        if not quiet:
            print(f"resuming {sim.scenario.name} (seed {sim.seed}) from {src} at "
                  f"{sim.time_ms:.4g} ms", file=sys.stderr)
        return _drive(sim, plan, stop, t0, header["scenario"], quiet=quiet,
                      resumed_from=str(src))


def _run_replicates(args, out, sc, seed: int, duration: float) -> int:
    """`run --replicates R`: R seeds on a local Dask cluster, one tidy table, mean/sd/CI."""
    from .output import write_meta, write_table
    from .reports import format_summary, summarize_replicates
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
        print(format_summary(summarize_replicates(df)))
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
        return _headless_default(args, sc)
    from render import app

    return app.watch(sc, seed=seed)


def _headless_default(args, sc) -> int:
    """What `make run` does without a display: a run with its summary and a short MP4 of the
    same scenario, options and seed, in out/."""
    common = [args.scenario or DEFAULT_SCENARIO, "--seed", str(_seed(args.seed)), "--force"]
    for kv in args.set or []:
        common += ["--set", kv]
    parser = build_parser()
    rc = cmd_run(parser.parse_args(["run", *common, "--out", f"out/{sc.name}.csv"]))
    if rc:
        return rc
    from render import video

    vs = parser.parse_args(["record", *common, "--out", f"out/{sc.name}.mp4", "--seconds", "5"])
    rc = video.record_command(vs, sc)
    if rc == 0:
        print(f"ionpump: wrote out/{sc.name}.csv and out/{sc.name}.mp4")
    return rc


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
                        help="override a scenario key, e.g. --set ions.k.outside_mM=0 (repeatable)")

    sp = sub.add_parser("scenarios", help="list the built-in scenarios")
    sp.set_defaults(func=cmd_scenarios)

    sp = sub.add_parser("watch", help="open the desktop visualisation", **_examples(
        "ionpump watch", "ionpump watch resting --set ions.k.outside_mM=0",
        "ionpump watch hodgkin-keynes --seed 3"))
    sp.add_argument("scenario", nargs="?", metavar="SCENARIO", help="default: pump-cycle")
    common(sp, scenario_required=False)
    sp.add_argument("--headless-fallback", action="store_true",
                    help="without a display, run headless instead (what `make run` does)")
    sp.set_defaults(func=cmd_watch)

    sp = sub.add_parser("run", help="headless run; results table + summary", **_examples(
        "ionpump run resting --duration 5 --out out/r.csv",
        "ionpump run pump-cycle --replicates 8 --out out/pc.parquet",
        "ionpump run resting --out r.csv --checkpoint r.npz --checkpoint-every 10",
        "ionpump run --resume r.npz"))
    sp.add_argument("scenario", nargs="?", metavar="SCENARIO",
                    help="built-in name (see `ionpump scenarios`) or path to a .toml; "
                    "optional with --resume (then checked against the checkpoint)")
    common(sp, scenario_required=False)
    sp.set_defaults(seed=None)  # default 1; None tells --resume that no seed was given
    sp.add_argument("--out", metavar="FILE",
                    help="results .csv or .parquet (with --resume: default, the run's own)")
    sp.add_argument("--checkpoint", metavar="FILE",
                    help="checkpoint .npz written every --checkpoint-every MS and on interrupt")
    sp.add_argument("--checkpoint-every", type=float, metavar="MS",
                    help="simulated time between checkpoints (default: only on interrupt)")
    sp.add_argument("--resume", metavar="FILE",
                    help="continue the run saved in this checkpoint to its planned end")
    sp.add_argument("--duration", type=float, metavar="MS",
                    help="simulated time in ms (default: the scenario's time.duration_ms)")
    sp.add_argument("--replicates", type=int, default=1, metavar="R",
                    help="independent runs with seeds SEED..SEED+R-1")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("record", help="render a video headless (.mp4 or .gif)", **_examples(
        "ionpump record pump-cycle --seconds 20 --out out/pump-cycle.mp4",
        "ionpump record resting --size 640x360 --fps 15 --out out/resting.gif"))
    common(sp)
    sp.add_argument("--out", required=True, metavar="FILE", help="video .mp4 or .gif")
    sp.add_argument("--seconds", type=float, default=10.0, help="video length in s")
    sp.add_argument("--fps", type=int, default=30, help="frames per second")
    sp.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels")
    sp.add_argument("--no-captions", action="store_true", help="no burned-in captions")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.set_defaults(func=cmd_record)

    sp = sub.add_parser("plot", help="standard figures for a results file", **_examples(
        "ionpump plot out/r.csv --out out/r.png",
        "ionpump plot out/hk.parquet --out out/hk.pdf        # the Figure 4.11 view",
        "ionpump plot out/sat-na.parquet --out out/sat-na.svg  # flux + saturation fit"))
    sp.add_argument("file", metavar="FILE", help="results .csv or .parquet")
    sp.add_argument("--out", required=True, metavar="PNG", help="figure .png, .svg or .pdf")
    sp.set_defaults(func=cmd_plot)

    sp = sub.add_parser("sweep", help="parameter sweep and replicates on Dask", **_examples(
        "ionpump sweep saturation --vary ions.na.inside_mM=2,5,10,20,40,80 --replicates 3 \\",
        "    --duration 150 --out out/sat-na.parquet",
        "ionpump sweep resting --vary pumps.count=3,6,12 --vary atp.initial_mM=1,5 \\",
        "    --replicates 4 --out out/grid.parquet --scheduler tcp://10.0.0.5:8786"))
    common(sp)
    sp.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                    help="values of one key (repeatable: the product is run)")
    sp.add_argument("--replicates", type=int, default=1, metavar="R",
                    help="seeds SEED..SEED+R-1 at every point (default 1)")
    sp.add_argument("--duration", type=float, metavar="MS",
                    help="simulated time per run in ms (default: the scenario's)")
    sp.add_argument("--out", required=True, metavar="FILE", help=".parquet or .csv")
    sp.add_argument("--scheduler", metavar="ADDRESS",
                    help="existing Dask scheduler (default: a local cluster)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("bench", help="this machine's performance figures", **_examples(
        "ionpump bench", "ionpump bench --quick --json > bench.json"))
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    sp.set_defaults(func=cmd_bench)
    return p


def _examples(*lines: str) -> dict:
    """Keyword arguments for ``add_parser`` that print ``lines`` under "examples:" in --help."""
    return {"epilog": "examples:\n" + "\n".join("  " + line for line in lines),
            "formatter_class": argparse.RawDescriptionHelpFormatter}


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
