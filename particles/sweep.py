"""Parameter sweeps and replicates on Dask ``distributed``.

A sweep is the product of the varied values × replicate seeds (Mesa's batch runner shape).
Each run is one call of :func:`run_one`, a pure function of (scenario, overrides, seed,
duration) that returns a tidy table; Dask runs them on a ``LocalCluster`` sized to the
machine, or on an existing cluster given its scheduler address::

    dask scheduler                      # on one machine; prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 4 --nthreads 1   # on each machine
    ionpump sweep saturation --vary ions.na.inside_mM=5,10,20,40 --replicates 4 \\
        --scheduler tcp://HOST:8786 --out sat.parquet

Seeds: replicate ``r`` of every sweep point runs with seed ``seed + r``, so all points share
the same random streams (common random numbers: differences between points are not blurred
by seed noise), and the same (seed, replicates) give the same table on any cluster.

Table layout: one row per sample per run. The first columns are the varied keys, named by
their dotted scenario key (e.g. ``ions.na.inside_mM``; results columns never contain a dot),
then ``replicate`` and ``seed``, then the results columns of :meth:`Simulation.timeseries`.
Rows are ordered by sweep point (in the order of the product of the ``vary`` lists), then
replicate, then time, whatever order the runs completed in. ``df.attrs["vary"]`` holds the
varied keys and their values; :func:`sweep_meta` returns what to write to ``FILE.meta.json``.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

__all__ = ["run_one", "sweep_points", "run_sweep", "sweep_meta", "default_workers",
           "parse_vary", "sweep_command", "SweepError", "SweepInterrupted"]


class SweepError(RuntimeError):
    """A run of the sweep raised on its worker (after its retries); the sweep is stopped."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM under :func:`sweep_command`) during a sweep.

    Attributes:
        table: the runs completed so far, in the sweep's order (possibly empty), with the
            same ``attrs`` as a complete table plus ``attrs["complete"] = False``.
    """

    def __init__(self, table: pd.DataFrame):
        super().__init__("sweep interrupted")
        self.table = table


def default_workers() -> int:
    """Workers for a local cluster: the CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _scenario(scenario_ref, overrides: Mapping[str, Any] | None):
    """A validated Scenario from a name/path, a ``Scenario.to_dict()`` dict or a Scenario."""
    from particles.config import Scenario, load_scenario, scenario_from_dict

    if isinstance(scenario_ref, Scenario):
        sc = scenario_ref
    elif isinstance(scenario_ref, Mapping):
        sc = scenario_from_dict(dict(scenario_ref))
    else:
        return load_scenario(scenario_ref, dict(overrides) if overrides else None)
    return sc.with_overrides(dict(overrides)) if overrides else sc


def run_one(
    scenario_ref,
    overrides: Mapping[str, Any] | None = None,
    seed: int = 0,
    duration_ms: float | None = None,
    *,
    columns: Mapping[str, Any] | None = None,
    numba_threads: int | None = None,
) -> pd.DataFrame:
    """Run one simulation and return its results table (the unit of work of a sweep).

    Pure: the same arguments give the same table on any machine. Picklable, so Dask can ship
    it to workers.

    Args:
        scenario_ref: built-in name, path to a TOML file, a ``Scenario.to_dict()`` dict (what
            :func:`run_sweep` ships, so remote workers need no scenario file) or a Scenario.
        overrides: dotted key -> value applied on top of the scenario.
        seed: the run's seed.
        duration_ms: simulated time (ms); None runs the scenario's ``time.duration_ms``.
        columns: extra constant columns put first in the table (e.g. the varied keys and
            ``replicate``); ``seed`` is always added after them.
        numba_threads: if given, ``numba.set_num_threads`` for this run (1 in a sweep: the
            parallelism is across runs).

    Returns:
        The run's ``timeseries()`` with ``columns`` and ``seed`` prepended.
    """
    from particles import Simulation

    if numba_threads is not None:
        import numba

        numba.set_num_threads(max(1, min(int(numba_threads), numba.config.NUMBA_NUM_THREADS)))
    sc = _scenario(scenario_ref, overrides)
    sim = Simulation(sc, seed=int(seed))
    sim.run(duration_ms=duration_ms, progress=False)
    sim.recorder.record()  # the final state, as `ionpump run` records it (no-op if sampled)
    df = sim.timeseries().reset_index(drop=True)
    front = dict(columns or {})
    front["seed"] = int(seed)
    for i, (k, v) in enumerate(front.items()):
        if k in df.columns:
            df = df.drop(columns=k)
        df.insert(i, k, v)
    return df


def sweep_points(vary: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The product of the varied values, in order (last key varies fastest).

    Args:
        vary: dotted key -> list of values, e.g. ``{"ions.na.inside_mM": [5, 10, 20]}``.

    Returns:
        One dict key -> value per sweep point; ``[{}]`` when nothing varies.
    """
    keys = list(vary)
    for k in keys:
        if len(vary[k]) == 0:
            raise ValueError(f"--vary {k}: no values given")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(vary[k] for k in keys))]


def _validate(scenario_ref, points, overrides):
    """Load every sweep point locally; the loader's ScenarioError stops the sweep here."""
    base = _scenario(scenario_ref, overrides)
    return [base.with_overrides(p, source="--vary") if p else base for p in points]


def sweep_meta(df: pd.DataFrame) -> dict[str, Any]:
    """What a sweep adds to ``FILE.meta.json``: ``vary``, ``replicates``, ``seeds``."""
    return {k: df.attrs[k] for k in ("vary", "replicates", "seeds", "base_seed", "scenario",
                                     "duration_ms", "overrides", "runs", "runs_done",
                                     "complete", "wall_s") if k in df.attrs}


def _column_value(v):
    """A value for a table column: numbers stay numbers, strings as typed become numbers."""
    if isinstance(v, str):
        for cast in (int, float):
            try:
                return cast(v)
            except ValueError:
                pass
    return v


_HEALTH_CHECK_S = 1.0
"""Seconds between checks, while no run completes, that the cluster still has workers."""


def _n_workers(client) -> int:
    """Workers connected to the client's scheduler (0 if the scheduler cannot be asked)."""
    if client.status != "running":
        return 0
    try:
        return len(client.nthreads())
    except (OSError, TimeoutError):
        return 0


def _cancel(client, ac) -> None:
    """Cancel the runs not yet done (best effort: the scheduler may be gone)."""
    try:
        left = list(ac.futures)
        ac.clear()
        if left and client.status == "running":
            client.cancel(left)
    except Exception:  # pragma: no cover - nothing more to do on a broken connection
        pass


def run_sweep(
    scenario_ref,
    vary: Mapping[str, Sequence[Any]] | None = None,
    replicates: int = 1,
    seed: int = 0,
    duration_ms: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    *,
    n_workers: int | None = None,
    numba_threads: int | None = 1,
    retries: int = 2,
    worker_timeout: float = 60.0,
    task: Callable[..., pd.DataFrame] = run_one,
) -> pd.DataFrame:
    """Run the product of ``vary`` values × ``replicates`` seeds on Dask; one tidy table.

    Every sweep point is loaded and validated here first: bad input raises the loader's
    :class:`particles.config.ScenarioError` before anything is submitted. Each run is
    submitted with ``retries`` and ``pure=False``; a worker that dies mid-run has its runs
    rescheduled on the others, so the table is complete. A sweep never waits forever: if no
    worker is left for ``worker_timeout`` seconds, or the scheduler is lost, it stops with a
    one-line :class:`SweepError`.

    Args:
        scenario_ref: built-in scenario name or TOML path.
        vary: dotted key -> values; the product of all lists is swept.
        replicates: runs per sweep point; replicate r uses seed ``seed + r``.
        seed: base seed.
        duration_ms: simulated time per run (ms); None: the scenario's ``time.duration_ms``.
        overrides: dotted key -> value applied to every run (``--set``).
        scheduler: address of an existing Dask scheduler (``tcp://host:8786``); None starts a
            ``LocalCluster`` of ``n_workers`` single-threaded worker processes (with
            ``NUMBA_NUM_THREADS=1``) and closes it afterwards.
        progress: show a tqdm bar over runs (only when stderr is a terminal).
        n_workers: local cluster size; default :func:`default_workers`.
        numba_threads: numba threads per run (``numba.set_num_threads``); None leaves the
            workers' setting alone.
        retries: automatic retries of a run that raised. A run whose worker died is
            rescheduled on the others by Dask (up to the scheduler's ``allowed-failures``,
            default 3, after which it fails with ``KilledWorker``).
        worker_timeout: seconds the sweep waits while no worker is connected to the
            scheduler (all died, or none started) before it stops with :class:`SweepError`;
            Dask alone would wait forever.
        task: the run function (signature of :func:`run_one`); for tests and custom runs.

    Returns:
        DataFrame: varied-key columns, ``replicate``, ``seed``, then the results columns;
        ordered by sweep point, replicate and time. ``attrs`` carries the sweep description
        (see :func:`sweep_meta`).

    Raises:
        particles.config.ScenarioError: a sweep point is not a valid scenario.
        SweepError: a run raised on its worker after its retries (the others are cancelled),
            the scheduler at ``scheduler`` cannot be reached or its connection was lost, or
            no worker was connected for ``worker_timeout`` seconds.
        ValueError: replicates < 1 or an empty value list.
    """
    import asyncio
    from concurrent.futures import CancelledError

    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    vary = {k: [_column_value(v) for v in vals] for k, vals in (vary or {}).items()}
    overrides = dict(overrides or {})
    replicates = int(replicates)
    if replicates < 1:
        raise ValueError(f"--replicates must be >= 1, got {replicates}")
    points = sweep_points(vary)
    scenarios = _validate(scenario_ref, points, overrides)
    seeds = [int(seed) + r for r in range(replicates)]
    specs = [(i, r) for i in range(len(points)) for r in range(replicates)]

    t0 = time.perf_counter()
    cluster = None
    if scheduler is None:
        import logging

        cluster = LocalCluster(
            n_workers=min(n_workers or default_workers(), len(specs)), threads_per_worker=1,
            processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
            env={"NUMBA_NUM_THREADS": "1"} if numba_threads == 1 else None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError, ValueError) as e:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}") from None
    results: dict[tuple[int, int], pd.DataFrame] = {}
    where = scheduler or "the local cluster"
    try:
        futures, pending = {}, []
        for i, r in specs:
            cols = {**points[i], "replicate": r}
            fut = client.submit(task, scenarios[i].to_dict(), None, seeds[r], duration_ms,
                                columns=cols, numba_threads=numba_threads,
                                retries=retries, pure=False)
            futures[fut.key] = (i, r)
            pending.append(fut)
        bar = tqdm(total=len(specs), unit="run", desc="sweep",
                   disable=not (progress and sys.stderr.isatty()))
        ac = as_completed(pending)
        del pending, fut  # as_completed holds each run's future until it is done
        try:
            no_workers_since = None
            next_check = time.monotonic() + _HEALTH_CHECK_S
            while not ac.is_empty():
                if not ac.has_ready():
                    time.sleep(0.05)
                    if time.monotonic() < next_check:
                        continue
                    next_check = time.monotonic() + _HEALTH_CHECK_S
                    # Bounded waiting: Dask itself waits forever for a worker to come back.
                    n = _n_workers(client)
                    if n:
                        no_workers_since = None
                        continue
                    no_workers_since = no_workers_since or time.monotonic()
                    if time.monotonic() - no_workers_since >= worker_timeout:
                        _cancel(client, ac)
                        raise SweepError(
                            f"no Dask worker connected to {where} for {worker_timeout:g} s "
                            f"({len(results)} of {len(specs)} runs done); sweep stopped")
                    continue
                for fut in ac.next_batch(block=False):
                    i, r = futures[fut.key]
                    try:
                        results[(i, r)] = fut.result()
                    except (CancelledError, asyncio.CancelledError) as e:
                        _cancel(client, ac)
                        raise SweepError(
                            f"lost the connection to the Dask scheduler at {where} "
                            f"({len(results)} of {len(specs)} runs done): {e}") from None
                    except Exception as e:
                        _cancel(client, ac)
                        pt = ", ".join(f"{k}={v}" for k, v in points[i].items())
                        raise SweepError(
                            f"run {pt + ', ' if pt else ''}replicate {r} (seed {seeds[r]}) "
                            f"failed after {retries} retries: {type(e).__name__}: {e}") from e
                    # Forget the result on the cluster: if its worker dies later, Dask would
                    # otherwise recompute a run that is already done.
                    fut.release()
                    bar.update(1)
        except KeyboardInterrupt:
            interrupted = True
        else:
            interrupted = False
        finally:
            bar.close()
    finally:
        try:
            client.close(timeout=10)
        except Exception:  # pragma: no cover - the scheduler is gone; nothing to close
            pass
        if cluster is not None:
            cluster.close()
    done = [results[s] for s in specs if s in results]
    df = pd.concat(done, ignore_index=True) if done else pd.DataFrame()
    df.attrs.update({
        "vary": {k: list(v) for k, v in vary.items()}, "replicates": replicates,
        "base_seed": int(seed), "seeds": seeds, "scenario": scenarios[0].name,
        "duration_ms": duration_ms, "overrides": overrides,
        "runs": len(specs), "runs_done": len(done), "complete": not interrupted,
        "wall_s": round(time.perf_counter() - t0, 3),
    })
    if interrupted:
        raise SweepInterrupted(df)
    return df


def parse_vary(items: Sequence[str] | None) -> dict[str, list[Any]]:
    """Parse ``--vary KEY=V1,V2,...`` options into ``{key: [values]}``.

    Each value is read as the scenario loader reads ``--set`` values (TOML syntax or a bare
    word); the key is checked later, with the rest of the sweep, by :func:`run_sweep`.

    Raises:
        particles.config.ScenarioError: a malformed option or a key given twice.
    """
    from particles.config import ScenarioError, parse_assignment

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


def _print_sweep_summary(df: pd.DataFrame, out) -> None:
    """Turnover per sweep point (mean ± 95 % CI over replicates) and a Hill fit per key."""
    from particles import reports, stats
    from particles.config import key_unit

    keys = list(df.attrs.get("vary", {}))
    if df.empty:
        return
    t = df["time_ms"].to_numpy(dtype=float)
    warmup = 0.2 * float(t.max() - t.min())
    runs = reports.per_run_figures(df, keys, warmup_ms=warmup, fano=False)
    fig = "cycles_per_pump_per_s"
    print(f"  turnover (cycles pump⁻¹ s⁻¹, after {warmup:g} ms warm-up; mean ± 95 % CI, "
          f"{df.attrs.get('replicates', 1)} replicate(s))")
    groups = runs.groupby(keys, sort=False) if keys else [((), runs)]
    slow = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        s = stats.mean_ci(g[fig].to_numpy(dtype=float))
        half = s["ci_high"] - s["mean"]
        label = ", ".join(f"{k}={v}" for k, v in zip(keys, key)) or "all"
        err = f" ± {half:.3g}" if half == half else ""
        print(f"    {label:<40} {s['mean']:.4g}{err}")
        if 0 < s["mean"] < 1000.0 / warmup:  # a mean cycle outlasts the warm-up
            slow.append(f"{label} ({1000.0 / s['mean']:.2g} ms)")
    if slow:
        print(f"  note: a mean cycle outlasts the {warmup:g} ms warm-up at {', '.join(slow)}; "
              "pumps start empty, so those rates can be biased low (and a fitted n high): "
              "use a longer --duration (the warm-up is its first 20 %)")
    if len(keys) == 1:
        g = runs.groupby(keys[0])[fig]
        x = pd.to_numeric(pd.Series(list(g.groups)), errors="coerce").to_numpy()
        if len(x) >= 3 and (x == x).all():
            try:
                m = g.mean().to_numpy()
                sem = g.sem().to_numpy()
                fit = stats.fit_saturation(x, m, sigma=stats.fit_sigma(sem))
                kind = "Hill fit with baseline" if fit.baseline else "Hill fit"
                print(f"  {kind} against {keys[0]}: {fit.describe(key_unit(keys[0]), 's⁻¹')}")
            except (ValueError, RuntimeError):
                print("  Hill fit: did not converge")
    print(f"  results  {out}")


def sweep_command(args) -> int:
    """``ionpump sweep``: run the sweep, write the table and ``FILE.meta.json``, print a summary.

    Args:
        args: argparse namespace with ``scenario``, ``vary`` (list of ``KEY=V1,V2``), ``set``,
            ``seed``, ``replicates``, ``duration``, ``scheduler``, ``out``, ``force`` and
            optionally ``quiet``.

    Returns:
        0 done; 1 a run failed (one line names it; nothing written); 130 interrupted (the
        completed runs are written, ``complete`` false in the meta). Bad input raises
        :class:`particles.config.ScenarioError` (exit 2 in the CLI)
        before any run starts.
    """
    import signal

    from particles.config import ScenarioError, parse_assignment
    from particles.output import TABLE_SUFFIXES, check_output, write_meta, write_table

    out = check_output(args.out, TABLE_SUFFIXES, getattr(args, "force", False))
    vary = parse_vary(args.vary)
    overrides = dict(parse_assignment(t) for t in (args.set or []))
    if args.replicates is None or args.replicates < 1:
        raise ScenarioError("command line", "--replicates", f"must be >= 1, got {args.replicates}")
    if args.seed < 0:
        raise ScenarioError("command line", "--seed", f"must be >= 0, got {args.seed}")
    if args.duration is not None and not args.duration > 0:
        raise ScenarioError("command line", "--duration", f"must be > 0, got {args.duration}")
    base = _scenario(args.scenario, overrides)
    quiet = getattr(args, "quiet", False)

    def _term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, _term)
    status = 0
    try:
        df = run_sweep(args.scenario, vary, args.replicates, args.seed, args.duration,
                       overrides, args.scheduler, progress=not quiet)
    except SweepInterrupted as e:
        df, status = e.table, 130
    except SweepError as e:
        print(f"ionpump: error: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, old)
    write_table(df, out)
    write_meta(out, {**sweep_meta(df), "scenario": base.to_dict(), "seed": args.seed,
                     "scheduler": args.scheduler, "command": sys.argv})
    if status:
        print(f"interrupted: {df.attrs['runs_done']} of {df.attrs['runs']} runs written to "
              f"{out}", file=sys.stderr)
        return status
    if not quiet:
        _print_sweep_summary(df, out)
    return 0
