"""``ionpump sweep``: a parameter sweep with replicates, one tidy table and a summary.

The runs go to worker processes the sweep starts on this machine, or to an existing Dask
cluster (``--scheduler``, ``--scheduler-file``). The table carries the sweep's metadata in
the file (Parquet key-value metadata ``ionpump``, as ``ionpump run`` writes) and in
``FILE.meta.json``.

Exit status 0 done; 1 a run failed (one line names it; nothing written); 130 interrupted (the
completed runs are written, ``complete`` false in the meta). Bad input exits 2 before any
run starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from ..config import ScenarioError, load_scenario, parse_assignment
from . import options
from .options import UsageError
from .signals import sigterm_as_interrupt


def add_parser(sub) -> None:
    """Declare ``sweep`` and its options."""
    sp = sub.add_parser("sweep", help="parameter sweep and replicates (local worker processes "
                        "or a Dask cluster)", **options.examples(
        "ionpump sweep saturation --vary ions.na.inside_mM=2,5,10,20,40,80 --replicates 3 \\",
        "    --duration 150 --out out/sat-na.parquet",
        "ionpump sweep resting --vary pumps.count=3,6,12 --vary atp.initial_mM=1,5 \\",
        "    --replicates 4 --out out/grid.parquet --scheduler tcp://10.0.0.5:8786",
        "ionpump sweep --resume out/sat-na.parquet    # run only the runs it lacks",
        "ionpump sweep saturation --vary ions.k.outside_mM=0,1,5,20 --out out/k.parquet \\",
        "    --scheduler-file ~/scheduler.json          # a cluster started on SLURM/PBS",
        "ionpump sweep energetics --set atp.initial_mM=0.3 --set atp.adp_mM=0.3 \\",
        "    --set atp.pi_mM=8 --vary membrane.clamp_mV=-160,-80,0,40 --replicates 3 \\",
        "    --duration 36 --out out/iv.parquet          # the pump's I-V (ionpump plot)",
        "ionpump sweep saturation --vary ions.na.inside_mM=5,20 --workers 1 \\",
        "    --duration 3 --out out/one-core.parquet      # leave the other cores free"))
    sp.add_argument("scenario", nargs="?", metavar="SCENARIO",
                    help="built-in name (see `ionpump scenarios`) or path to a .toml "
                    "(not with --resume)")
    options.add_common(sp, scenario_required=False)
    sp.set_defaults(seed=None)  # default 1; None tells --resume that no seed was given
    sp.add_argument("--vary", action="append", metavar="KEY=V1,V2,...",
                    help="values of one key (repeatable: the product is run)")
    sp.add_argument("--replicates", type=int, metavar="R",
                    help="seeds SEED..SEED+R-1 at every point (default 1)")
    sp.add_argument("--duration", type=float, metavar="MS",
                    help="simulated time per run in ms (default: the scenario's)")
    sp.add_argument("--out", metavar="FILE",
                    help=".parquet or .csv (with --resume: default, the resumed file)")
    sp.add_argument("--resume", metavar="FILE",
                    help="a sweep's table cut short: run only its missing points × "
                    "replicates (same seeds; the sweep is read from FILE.meta.json)")
    sp.add_argument("--scheduler", metavar="ADDRESS",
                    help="existing Dask scheduler (default: worker processes on this "
                    "machine, one per core)")
    sp.add_argument("--scheduler-file", metavar="FILE",
                    help="existing Dask scheduler's file (dask scheduler --scheduler-file)")
    options.add_workers(sp)
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sp.set_defaults(func=cmd_sweep)


def parse_vary(items: Sequence[str] | None) -> dict[str, list[Any]]:
    """Parse ``--vary KEY=V1,V2,...`` options into ``{key: [values]}``.

    Each value is read as the scenario loader reads ``--set`` values (TOML syntax or a bare
    word); the key is checked later, with the rest of the sweep, by
    :func:`particles.sweep.run_sweep`.

    Raises:
        particles.config.ScenarioError: a malformed option or a key given twice.
    """
    out: dict[str, list[Any]] = {}
    for text in items or []:
        if "=" not in text:
            raise ScenarioError("--vary", None, f"expected KEY=V1,V2,..., got {text!r}")
        key, raw = (t.strip() for t in text.split("=", 1))
        parts = [p.strip() for p in raw.split(",")]
        if not key or not raw or any(p == "" for p in parts):
            raise ScenarioError("--vary", key or None, f"expected KEY=V1,V2,..., got {text!r}")
        if key in out:
            raise ScenarioError("--vary", key, "given twice; list all its values in one --vary")
        out[key] = [parse_assignment(f"{key}={p}", "--vary")[1] for p in parts]
    return out


def cmd_sweep(args) -> int:
    """Run the sweep (or the runs a cut-short one lacks), write the table and
    ``FILE.meta.json``, print a summary."""
    from ..output import TABLE_SUFFIXES, check_output, write_results
    from ..sweep import SweepError, SweepInterrupted, run_sweep, sweep_meta

    if args.scheduler and args.scheduler_file:
        raise UsageError("--scheduler-file", "give --scheduler or --scheduler-file, not both")
    if args.scheduler_file and not os.path.isfile(args.scheduler_file):
        raise UsageError("--scheduler-file", f"no such file: {args.scheduler_file}")
    n_workers = options.workers(args.workers, args.scheduler or args.scheduler_file)
    plan = _resumed(args) if args.resume else _planned(args)
    same_file = args.resume is not None and args.out is None
    out = check_output(args.out or args.resume, TABLE_SUFFIXES, args.force or same_file)
    status = 0
    try:
        with sigterm_as_interrupt():
            df = run_sweep(plan["scenario"], plan["vary"], plan["replicates"], plan["seed"],
                           plan["duration"], plan["overrides"], args.scheduler,
                           progress=not args.quiet, scheduler_file=args.scheduler_file,
                           resume=plan["resume"], n_workers=n_workers)
    except SweepInterrupted as e:
        df, status = e.table, 130
    except SweepError as e:
        print(f"ionpump: error: {e}", file=sys.stderr)
        return 1
    write_results(df, out, {**sweep_meta(df), "scenario": plan["base"].to_dict(),
                            "seed": plan["seed"],
                            "scheduler": args.scheduler or args.scheduler_file,
                            "resumed_from": args.resume, "command": sys.argv})
    if status:
        print(f"interrupted: {df.attrs['runs_done']} of {df.attrs['runs']} runs written to "
              f"{out}", file=sys.stderr)
        return status
    if not args.quiet:
        print_sweep_summary(df, out)
    return 0


def _planned(args) -> dict[str, Any]:
    """The sweep the command line describes (SCENARIO, --vary, --replicates, ...)."""
    if args.scenario is None:
        raise UsageError("SCENARIO", "a scenario is required (or --resume FILE)")
    if not args.vary:
        raise UsageError("--vary", "at least one --vary KEY=V1,V2,... is required")
    if args.out is None:
        raise UsageError("--out", "an output file is required (.parquet or .csv)")
    overrides = options.overrides(args.set)
    replicates = 1 if args.replicates is None else args.replicates
    options.at_least_one("--replicates", replicates)
    options.positive("--duration", args.duration)
    return {"scenario": args.scenario, "vary": parse_vary(args.vary), "replicates": replicates,
            "seed": options.seed(args.seed), "duration": args.duration,
            "overrides": overrides, "base": load_scenario(args.scenario, overrides),
            "resume": None}


def _resumed(args) -> dict[str, Any]:
    """The sweep of ``--resume FILE``: its plan from ``FILE.meta.json``, its table."""
    from ..config import scenario_from_dict
    from ..output import read_meta, read_table

    given = [o for o, v in (("SCENARIO", args.scenario), ("--vary", args.vary),
                            ("--set", args.set), ("--replicates", args.replicates),
                            ("--seed", args.seed), ("--duration", args.duration)) if v]
    if given:
        raise UsageError(given[0], "not with --resume: the sweep is read from "
                         f"{args.resume}.meta.json")
    table = read_table(args.resume)
    meta = read_meta(args.resume)
    try:
        plan = {"scenario": meta["scenario"], "vary": meta["vary"],
                "replicates": int(meta["replicates"]), "seed": int(meta["base_seed"]),
                "duration": meta["duration_ms"], "overrides": dict(meta["overrides"]),
                "base": scenario_from_dict(meta["scenario"]), "resume": table}
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError("--resume", f"{args.resume}.meta.json does not describe a sweep "
                         f"(missing or bad {e})") from None
    if not plan["vary"]:
        raise UsageError("--resume", f"{args.resume} is not a sweep's table")
    return plan


def print_sweep_summary(df, out) -> None:
    """Turnover per sweep point (mean ± 95 % CI over replicates) and a Hill fit per key."""
    import pandas as pd

    from .. import reports, stats

    keys = list(df.attrs.get("vary", {}))
    if df.empty:
        return
    t = df["time_ms"].to_numpy(dtype=float)
    warmup = 0.2 * float(t.max() - t.min())
    runs = reports.per_run_figures(df, keys, warmup_ms=warmup, fano=False)
    fig = "cycles_per_pump_per_s"
    n_rep = int(df.attrs.get("replicates", 1))
    few = reports.few_replicates_note(n_rep)
    print(f"  turnover (cycles pump⁻¹ s⁻¹, after {warmup:g} ms warm-up; mean ± 95 % CI"
          f"{'*' if few else ''}, {n_rep} replicate(s))")
    groups = runs.groupby(keys, sort=False) if keys else [((), runs)]
    # a clamp sweep is an I-V relation: near reversal the net rate is small while the
    # one-way rates are fast, and nothing saturates (`ionpump plot` draws it)
    iv = keys == ["membrane.clamp_mV"]
    slow = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        s = stats.mean_ci(g[fig].to_numpy(dtype=float))
        half = s["ci_high"] - s["mean"]
        label = ", ".join(f"{k}={v}" for k, v in zip(keys, key)) or "all"
        err = f" ± {half:.3g}" if half == half else ""
        print(f"    {label:<40} {s['mean']:.4g}{err}")
        if not iv and 0 < s["mean"] < 1000.0 / warmup:  # a mean cycle outlasts the warm-up
            slow.append(f"{label} ({1000.0 / s['mean']:.2g} ms)")
    if few:
        print(f"  * {few}")
    if slow:
        print(f"  note: a mean cycle outlasts the {warmup:g} ms warm-up at {', '.join(slow)}; "
              "pumps start empty, so those rates can be biased low (and a fitted n high): "
              "use a longer --duration (the warm-up is its first 20 %)")
    if iv:
        print(f"  the pump's I-V relation: `ionpump plot {out}` draws it")
    elif len(keys) == 1:
        g = runs.groupby(keys[0])[fig]
        x = pd.to_numeric(pd.Series(list(g.groups)), errors="coerce").to_numpy()
        if len(x) >= 2 and (x == x).all():
            print(f"  {_fit_line(x, g.mean().to_numpy(), g.sem().to_numpy(), keys[0])}")
    print(f"  results  {out}")


def _fit_line(x, mean, sem, key: str) -> str:
    """The saturation fit of the sweep's turnover against its one varied key, with its
    goodness of fit: Hill (n free) when there are 2 points more than its parameters, else
    Michaelis-Menten (n = 1), else a line saying why there is none."""
    from .. import stats
    from ..config import key_unit

    sigma = stats.fit_sigma(sem)
    for fix_n, kind in ((None, "Hill fit"), (1.0, "Hill fit with n fixed at 1")):
        try:
            fit = stats.fit_saturation(x, mean, sigma=sigma, fix_n=fix_n)
        except ValueError as e:
            reason = str(e)
            continue
        except RuntimeError:
            return f"{kind}: did not converge"
        kind += " with baseline" if fit.baseline else ""
        return f"{kind} against {key}: {fit.describe(key_unit(key), 's⁻¹')}"
    return f"no saturation fit: {reason}"

