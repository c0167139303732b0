"""``ionpump run``: a headless run to a results table, with checkpoints, resume and replicates.

Exit status 0 done, 1 a replicate of ``--replicates`` failed after its retries (one line;
nothing written), 130 interrupted after the results so far (and a checkpoint, when asked
for) were written; bad input raises a :class:`~particles.config.ScenarioError` (exit 2).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from . import options
from ..config import printable
from .options import UsageError
from .signals import Interrupt, sigterm_as_interrupt


def add_parser(sub) -> None:
    """Declare ``run`` and its options."""
    sp = sub.add_parser("run", help="headless run; results table + summary", **options.examples(
        "ionpump run resting --duration 5 --out out/r.csv",
        "ionpump run pump-cycle --replicates 8 --out out/pc.parquet",
        "ionpump run resting --out r.csv --checkpoint r.npz --checkpoint-every 10",
        "ionpump run --resume r.npz"))
    sp.add_argument("scenario", nargs="?", metavar="SCENARIO",
                    help="built-in name (see `ionpump scenarios`) or path to a .toml; "
                    "optional with --resume (then checked against the checkpoint)")
    options.add_common(sp, scenario_required=False)
    sp.set_defaults(seed=None)  # default 1; None tells --resume that no seed was given
    sp.add_argument("--out", metavar="FILE",
                    help="results .csv or .parquet (default: print the summary only; with "
                    "--resume: the run's own file name, beside the checkpoint)")
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
    options.add_workers(sp)
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sp.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    """Check the options, then run one simulation (or ``--replicates`` of them)."""
    from ..output import TABLE_SUFFIXES, check_output
    from ..simulation import Simulation

    if args.resume:
        return _resume_run(args)
    if args.scenario is None:
        raise UsageError("SCENARIO", "a scenario is required (or --resume FILE)")
    options.positive("--duration", args.duration)
    ckpt, every = _checkpoint_options(args)
    out = None if args.out is None else check_output(args.out, TABLE_SUFFIXES, args.force)
    if ckpt is not None:
        from ..checkpoint import check_path

        ckpt = check_path(ckpt, args.force)
    sc = options.scenario(args.scenario, args.set)
    seed = options.seed(args.seed)
    duration = args.duration if args.duration is not None else sc.values["time.duration_ms"]
    options.at_least_one("--replicates", args.replicates)
    n_workers = options.workers(args.workers)
    if n_workers is not None and args.replicates == 1:
        raise UsageError("--workers", "is for --replicates R (R > 1): one run is one process")
    steps = duration / sc.values["time.dt_ms"]
    if steps < 0.5 or steps > 2**53:
        raise UsageError("--duration", f"{duration:g} ms is {steps:.3g} steps of dt = "
                         f"{sc.values['time.dt_ms']:g} ms; give between one step and 2^53")
    options.recording("--duration", sc, duration)
    if args.replicates > 1:
        if ckpt is not None:
            raise UsageError("--checkpoint", "not available with --replicates")
        if out is None:
            raise UsageError("--out", "--replicates needs an output file (.csv or .parquet)")
        with sigterm_as_interrupt():  # the sweep then writes the completed replicates
            return _run_replicates(args, out, sc, seed, duration, n_workers)
    t0 = time.perf_counter()
    scenario_dict = sc.to_dict()  # before protocol `set` events change the values
    with Interrupt() as stop:  # from here on a signal stops at a step boundary
        sim = Simulation(sc, seed=seed)
        plan = {"end_step": sim.step_index + int(round(duration / sim.dt_ms)),
                "duration_ms": duration, "out": None if out is None else str(out),
                "format": None if out is None else out.suffix.lower(),
                "checkpoint": None if ckpt is None else str(ckpt),
                "checkpoint_every_ms": every, "scenario_ref": str(args.scenario),
                "overrides": list(args.set or []), "seed": seed,
                "quiet": bool(args.quiet), "command": list(sys.argv)}
        return _drive(sim, plan, stop, t0, scenario_dict, quiet=args.quiet,
                      replace=args.force)


def _checkpoint_options(args) -> tuple[Any, float | None]:
    """``--checkpoint FILE`` and ``--checkpoint-every MS`` (which needs the file)."""
    ckpt = args.checkpoint
    every = options.positive("--checkpoint-every", args.checkpoint_every)
    if every is not None and ckpt is None:
        raise UsageError("--checkpoint-every", "needs --checkpoint FILE")
    return ckpt, every


def _advance(sim, plan: dict, stop: Interrupt, quiet: bool) -> bool:
    """Run ``sim`` to ``plan['end_step']`` or a stop, saving a checkpoint every
    ``plan['checkpoint_every_ms']``; a progress bar on a terminal. Returns False if a
    checkpoint could not be written."""
    end = int(plan["end_step"])
    ckpt = plan.get("checkpoint")
    every = plan.get("checkpoint_every_ms")
    every_steps = max(1, int(round(every / sim.dt_ms))) if ckpt and every else None
    bar = None
    ok = True
    if options.is_tty() and not quiet:
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
                ok &= _save_checkpoint(sim, ckpt, plan)
    finally:
        if bar is not None:
            bar.close()
    return ok


def _drive(sim, plan: dict, stop: Interrupt, t0: float, scenario_dict: dict,
           quiet: bool, replace: bool, resumed_from: str | None = None) -> int:
    """Run ``sim`` to ``plan['end_step']``, checkpointing on the way and when interrupted;
    write the results (complete, or so far; none when ``plan['out']`` is None) and the
    summary. ``replace`` lets the results replace a file that appeared during the run.
    Returns the exit status."""
    from pathlib import Path

    from ..output import write_results

    ckpt = plan.get("checkpoint")
    ckpt_failed = not _advance(sim, plan, stop, quiet)
    interrupted = sim.step_index < int(plan["end_step"])
    saved = True
    if interrupted and ckpt:
        saved = _save_checkpoint(sim, ckpt, plan)  # before the extra row: resume stays exact
    sim.recorder.record()
    df = sim.timeseries()
    wall = time.perf_counter() - t0
    out = None if plan.get("out") is None else Path(plan["out"])
    if out is not None:
        meta = {"scenario": scenario_dict, "seed": sim.seed, "dt_ms": sim.dt_ms,
                "duration_ms": plan["duration_ms"], "simulated_ms": sim.time_ms,
                "interrupted": interrupted, "wall_s": wall, "summary": sim.summary(),
                "command": sys.argv}
        if resumed_from:
            meta["resumed_from"] = resumed_from
        if ckpt:
            meta["checkpoint"] = ckpt
            meta["checkpoint_failed"] = ckpt_failed or not saved
        write_results(df, out, meta, replace)
    if not quiet:
        from .summary import print_summary

        print_summary(sim, df, wall, out)
    if interrupted:
        where = f"; checkpoint {ckpt} (continue with: ionpump run --resume {ckpt})" \
            if ckpt and saved else ""
        done = "nothing written (no --out)" if out is None else \
            f"results so far written to {out}"
        print(f"interrupted at {sim.time_ms:.4g} ms; {done}{where}", file=sys.stderr)
        return 130
    return 0


def _save_checkpoint(sim, path: str, plan: dict) -> bool:
    """Save a checkpoint; if the file cannot be written (a full disk) warn in one line and
    return False, so that the run and its results table go on: the previous checkpoint, if
    any, is left intact. Other checkpoint errors (a bug) still stop the run."""
    from ..checkpoint import CheckpointWriteError, save_checkpoint

    try:
        save_checkpoint(sim, path, plan)
    except CheckpointWriteError as e:
        print(f"ionpump: warning: {e}; the run goes on", file=sys.stderr)
        return False
    return True


def _resume_run(args) -> int:
    """`run --resume FILE [SCENARIO] [--out OUT]`: continue a checkpointed run to its end.

    The checkpoint is data from outside: its plan is checked like command-line options and
    chooses no directory. The results go to ``--out``, else to the plan's file name beside
    the checkpoint; an existing file there is replaced only with ``--force`` or when it is
    this run's own interrupted results (its ``.meta.json`` says so)."""
    from ..checkpoint import check_path, check_plan, check_scenario, load_checkpoint, \
        read_checkpoint
    from ..config import scenario_from_dict
    from ..output import TABLE_SUFFIXES, check_output

    for opt, val in (("--duration", args.duration), ("--replicates", args.replicates != 1
                                                     or None)):
        if val is not None:
            raise UsageError(opt, "cannot change a resumed run (its plan is in the checkpoint)")
    src = args.resume
    header, _ = read_checkpoint(src)  # refuses bad files before any other work
    plan = check_plan(src, header)
    if args.seed is not None and args.seed != header["seed"]:
        raise UsageError("--seed", f"the checkpoint's run has seed {header['seed']}, "
                         f"not {args.seed}")
    if args.scenario is not None:
        check_scenario(src, header, options.scenario(args.scenario, args.set))
    elif args.set:
        start = scenario_from_dict(header["scenario"])
        check_scenario(src, header, start.with_overrides(options.overrides(args.set)))
    if args.out is not None:
        out = check_output(args.out, TABLE_SUFFIXES, args.force)
        replace = args.force
    elif plan["out"] is not None:
        out = os.path.join(os.path.dirname(src), plan["out"])
        replace = args.force or _own_partial_results(out, src)
        out = check_output(out, TABLE_SUFFIXES, replace)
    else:
        out, replace = None, False
    ckpt, every = _checkpoint_options(args)
    if ckpt is not None:
        ckpt = str(check_path(ckpt, args.force, may_replace=(src,)))
        plan["checkpoint"] = ckpt
    elif plan.get("checkpoint"):
        plan["checkpoint"] = str(src)  # go on saving where we resumed from
    if every is not None:
        plan["checkpoint_every_ms"] = every
    plan["out"] = None if out is None else str(out)
    plan["format"] = None if out is None else out.suffix.lower()
    quiet = bool(args.quiet or plan.get("quiet"))
    t0 = time.perf_counter()
    with Interrupt() as stop:
        sim, _ = load_checkpoint(src)
        if not quiet:
            print(f"resuming {printable(sim.scenario.name)} (seed {sim.seed}) from {src} at "
                  f"{sim.time_ms:.4g} ms", file=sys.stderr)
        return _drive(sim, plan, stop, t0, header["scenario"], quiet=quiet, replace=replace,
                      resumed_from=str(src))


def _own_partial_results(out: str, src: str) -> bool:
    """True when ``out`` holds the interrupted results of the run checkpointed in ``src``
    (its ``.meta.json`` says interrupted, with a checkpoint of the same file name)."""
    from ..output import read_meta

    meta = read_meta(out)
    ck = meta.get("checkpoint")
    return meta.get("interrupted") is True and isinstance(ck, str) and \
        os.path.basename(ck) == os.path.basename(src)


def _run_replicates(args, out, sc, seed: int, duration: float,
                    n_workers: int | None) -> int:
    """`run --replicates R`: R seeds in local worker processes, one tidy table, mean/sd/CI."""
    from ..output import write_results
    from ..reports import format_summary, summarize_replicates
    from ..sweep import SweepError, SweepInterrupted, run_sweep, sweep_meta

    t0 = time.perf_counter()
    interrupted = False
    try:
        df = run_sweep(sc.to_dict(), {}, args.replicates, seed, duration, {}, None,
                       progress=options.is_tty() and not args.quiet, n_workers=n_workers)
    except SweepInterrupted as e:
        df, interrupted = e.table, True
    except SweepError as e:  # a replicate failed after its retries: one line, nothing written
        print(f"ionpump: error: {e}", file=sys.stderr)
        return 1
    write_results(df, out, {**sweep_meta(df), "scenario": sc.to_dict(), "seed": seed,
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
