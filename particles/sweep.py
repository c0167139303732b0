"""Parameter sweeps and replicates: in worker processes started for the sweep, or on Dask.

A sweep is the product of the varied values × replicate seeds (Mesa's batch runner shape).
Each run is one call of :func:`run_one`, a pure function of (scenario, overrides, seed,
duration) that returns a tidy table. The runs go in batches of several runs
(:func:`particles.workers.run_batch`) to workers started once per sweep, which load the
compiled kernels from numba's cache once and run batch after batch: on one machine, a pool
of single-threaded worker processes the sweep starts itself (no scheduler, no cluster to
start); on a cluster, the workers of an existing Dask scheduler given by its address or its
scheduler file (what ``dask scheduler --scheduler-file`` writes, the usual way on SLURM/PBS
clusters)::

    dask scheduler                      # on one machine; prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 4 --nthreads 1   # on each machine
    ionpump sweep saturation --vary ions.na.inside_mM=5,10,20,40 --replicates 4 \\
        --scheduler tcp://HOST:8786 --out sat.parquet

A sweep cut short (Ctrl-C, a job's time limit) writes the runs done; ``resume`` (the table
it wrote) runs only the missing points × replicates, with the same seeds, so the resumed
table equals the one an uninterrupted sweep writes.

Seeds: replicate ``r`` of every sweep point runs with seed ``seed + r``, so all points share
the same random streams (common random numbers: differences between points are not blurred
by seed noise), and the same (seed, replicates) give the same table on any cluster, with any
number of workers and any batch size.

Table layout: one row per sample per run. The first columns are the varied keys, named by
their dotted scenario key (e.g. ``ions.na.inside_mM``; results columns never contain a dot),
then ``replicate`` and ``seed``, then the results columns of :meth:`Simulation.timeseries`.
Rows are ordered by sweep point (in the order of the product of the ``vary`` lists), then
replicate, then time, whatever order the runs completed in. ``df.attrs["vary"]`` holds the
varied keys and their values; :func:`sweep_meta` returns the sweep's metadata (what the
command writes into the table's file and ``FILE.meta.json``).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .workers import SweepError

if TYPE_CHECKING:  # pandas is imported where a table is built, not at import time
    import pandas as pd

__all__ = ["run_one", "sweep_points", "run_sweep", "sweep_meta", "default_workers",
           "show_progress", "SweepError", "SweepInterrupted"]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM under ``ionpump sweep``) during a sweep.

    Attributes:
        table: the runs completed so far, in the sweep's order (possibly empty), with the
            same ``attrs`` as a complete table plus ``attrs["complete"] = False``.
    """

    def __init__(self, table: "pd.DataFrame"):
        super().__init__("sweep interrupted")
        self.table = table


def default_workers() -> int:
    """Local worker processes: the CPU cores this process may use."""
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
    scheduler_file: str | None = None,
    resume: pd.DataFrame | None = None,
    n_workers: int | None = None,
    runs_per_task: int | None = None,
    numba_threads: int | None = 1,
    retries: int = 2,
    worker_timeout: float = 60.0,
    task: Callable[..., pd.DataFrame] = run_one,
) -> pd.DataFrame:
    """Run the product of ``vary`` values × ``replicates`` seeds; one tidy table.

    Every sweep point is loaded and validated here first: bad input raises the loader's
    :class:`particles.config.ScenarioError` before any worker starts. The runs go to the
    workers in batches of ``runs_per_task``; a run that raises is run again up to
    ``retries`` times. A worker that dies mid-run has its batch run again (by the others on
    Dask; by a new pool of processes locally, up to 3 times), so the table is complete. A
    sweep never waits forever: if no Dask worker is left for ``worker_timeout`` seconds, or
    the scheduler is lost, it stops with a one-line :class:`SweepError`.

    Args:
        scenario_ref: built-in scenario name or TOML path.
        vary: dotted key -> values; the product of all lists is swept.
        replicates: runs per sweep point; replicate r uses seed ``seed + r``.
        seed: base seed.
        duration_ms: simulated time per run (ms); None: the scenario's ``time.duration_ms``.
        overrides: dotted key -> value applied to every run (``--set``).
        scheduler: address of an existing Dask scheduler (``tcp://host:8786``); None (and
            no ``scheduler_file``) starts ``n_workers`` worker processes on this machine
            (with ``NUMBA_NUM_THREADS`` = ``numba_threads``) and stops them afterwards.
        progress: show a progress bar (runs done of all, runs left, time spent and left):
            on a terminal, or a widget in a Jupyter notebook (``tqdm.auto``); none when
            output is piped.
        scheduler_file: JSON file of an existing Dask scheduler, as written by ``dask
            scheduler --scheduler-file FILE`` (or dask-jobqueue); instead of ``scheduler``.
        resume: a table this sweep wrote before (cut short): its complete runs (every
            point × replicate whose rows reach the run's end, with the right seed) are kept
            and only the others are run.
        n_workers: local worker processes (at most one per run to do); default
            :func:`default_workers`.
        runs_per_task: runs per batch; default
            :func:`particles.workers.runs_per_task` (about 4 batches per worker, at most 16
            runs each). The table does not depend on it.
        numba_threads: numba threads per run (``numba.set_num_threads``); None leaves the
            workers' setting alone.
        retries: times a run that raised is run again before the sweep stops.
        worker_timeout: seconds the sweep waits while no worker is connected to the Dask
            scheduler (all died, or none started) before it stops with :class:`SweepError`;
            Dask alone would wait forever.
        task: the run function (signature of :func:`run_one`); for tests and custom runs.

    Returns:
        DataFrame: varied-key columns, ``replicate``, ``seed``, then the results columns;
        ordered by sweep point, replicate and time. ``attrs`` carries the sweep description
        (see :func:`sweep_meta`).

    Raises:
        particles.config.ScenarioError: a sweep point is not a valid scenario.
        SweepError: a run raised after its retries (the others are cancelled), the local
            workers kept dying, the scheduler cannot be reached or its connection was lost,
            or no Dask worker was connected for ``worker_timeout`` seconds.
        ValueError: replicates < 1 or an empty value list.
    """
    vary = {k: [_column_value(v) for v in vals] for k, vals in (vary or {}).items()}
    overrides = dict(overrides or {})
    replicates = int(replicates)
    if replicates < 1:
        raise ValueError(f"--replicates must be >= 1, got {replicates}")
    points = sweep_points(vary)
    plan = _Plan(points, _validate(scenario_ref, points, overrides),
                 [int(seed) + r for r in range(replicates)], vary, overrides, duration_ms)

    t0 = time.perf_counter()
    results = plan.completed(resume) if resume is not None else {}
    todo = [spec for spec in plan.specs if spec not in results]
    interrupted = False
    if todo:
        from .workers import runs_per_task as default_runs_per_task

        workers = _workers(scheduler, scheduler_file, min(n_workers or default_workers(),
                                                          len(todo)), numba_threads,
                           worker_timeout)
        try:
            size = runs_per_task or default_runs_per_task(len(todo), max(1, workers.n))
            jobs = [todo[k:k + size] for k in range(0, len(todo), size)]
            interrupted = _execute(workers, plan, jobs, results, task=task,
                                   numba_threads=numba_threads, retries=retries,
                                   progress=progress)
        finally:
            workers.close()
    df = plan.table(results, complete=not interrupted, wall_s=time.perf_counter() - t0)
    if interrupted:
        raise SweepInterrupted(df)
    return df


@dataclass
class _Plan:
    """A validated sweep.

    Attributes:
        points: varied key -> value, one dict per sweep point.
        scenarios: the validated Scenario of each point.
        seeds: the seed of each replicate.
        vary: varied key -> its values.
        overrides: dotted key -> value applied to every run.
        duration_ms: simulated time per run (ms), None for the scenario's.
    """

    points: list[dict[str, Any]]
    scenarios: list
    seeds: list[int]
    vary: dict[str, list[Any]]
    overrides: dict[str, Any]
    duration_ms: float | None

    @property
    def specs(self) -> list[tuple[int, int]]:
        """(point index, replicate) of every run, in the order of the table."""
        return [(i, r) for i in range(len(self.points)) for r in range(len(self.seeds))]

    def describe(self, i: int, r: int) -> str:
        """The run's name in a message, e.g. ``pumps.count=4, replicate 0 (seed 9)``."""
        pt = ", ".join(f"{k}={v}" for k, v in self.points[i].items())
        return f"{pt + ', ' if pt else ''}replicate {r} (seed {self.seeds[r]})"

    def completed(self, table: pd.DataFrame) -> dict[tuple[int, int], pd.DataFrame]:
        """The runs of an earlier table of this sweep that are complete: (point, replicate)
        -> its rows. A run counts when its seed is the replicate's and its last sample
        reaches the run's end (within half a sample interval)."""
        keys = list(self.vary) + ["replicate"]
        if table.empty or not set(keys + ["seed", "time_ms"]) <= set(table.columns):
            return {}
        index = {tuple(p[k] for k in self.vary): i for i, p in enumerate(self.points)}
        done = {}
        for key, rows in table.groupby(keys, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            i, r = index.get(tuple(key[:-1])), int(key[-1])
            if i is None or not 0 <= r < len(self.seeds) or \
                    int(rows["seed"].iloc[0]) != self.seeds[r]:
                continue
            v = self.scenarios[i].values
            end = self.duration_ms if self.duration_ms is not None else v["time.duration_ms"]
            if float(rows["time_ms"].max()) >= end - 0.5 * v["time.sample_ms"]:
                done[(i, r)] = rows.reset_index(drop=True)
        return done

    def table(self, results: Mapping[tuple[int, int], pd.DataFrame], complete: bool,
              wall_s: float) -> pd.DataFrame:
        """The tables of the runs done, concatenated in the sweep's order, with the sweep's
        description in ``attrs`` (see :func:`sweep_meta`)."""
        import pandas as pd

        done = [results[s] for s in self.specs if s in results]
        df = pd.concat(done, ignore_index=True) if done else pd.DataFrame()
        df.attrs.update({
            "vary": {k: list(v) for k, v in self.vary.items()},
            "replicates": len(self.seeds), "base_seed": self.seeds[0], "seeds": self.seeds,
            "scenario": self.scenarios[0].name, "duration_ms": self.duration_ms,
            "overrides": self.overrides, "runs": len(self.specs), "runs_done": len(done),
            "complete": complete, "wall_s": round(wall_s, 3),
        })
        return df




def _workers(scheduler: str | None, scheduler_file: str | None, n_workers: int,
             numba_threads: int | None, worker_timeout: float):
    """The workers of the Dask scheduler at ``scheduler`` or described by
    ``scheduler_file``, or else ``n_workers`` local worker processes started now."""
    from .workers import DaskWorkers, LocalWorkers

    if scheduler is None and scheduler_file is None:
        return LocalWorkers(n_workers, numba_threads)
    return DaskWorkers(_connect(scheduler, scheduler_file=scheduler_file),
                       scheduler or scheduler_file, worker_timeout)


def _connect(scheduler: str | None, *, scheduler_file: str | None = None):
    """A Dask client of the scheduler at ``scheduler`` or described by ``scheduler_file``.

    Raises:
        SweepError: no such scheduler file, or the scheduler cannot be reached.
    """
    from distributed import Client

    if scheduler_file is not None:
        if not os.path.isfile(scheduler_file):
            raise SweepError(f"no Dask scheduler file {scheduler_file!r}")
        try:
            return Client(scheduler_file=scheduler_file, timeout=30)
        except (OSError, TimeoutError, ValueError, KeyError) as e:
            raise SweepError(f"cannot reach the Dask scheduler of {scheduler_file!r}: "
                             f"{e}") from None
    try:
        return Client(scheduler, timeout=30)
    except (OSError, TimeoutError, ValueError) as e:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}") from None


def _execute(workers, plan: _Plan, batches: list[list[tuple[int, int]]], results: dict, *,
             task, numba_threads: int | None, retries: int, progress: bool) -> bool:
    """Submit the batches of runs ((point, replicate) pairs) and move each run's table into
    ``results`` as its batch completes, until none is left or Ctrl-C.

    Returns:
        True when interrupted (KeyboardInterrupt) before every run was done.

    Raises:
        SweepError: a run failed after its retries, the workers were lost, or no Dask
            worker was connected for the allowed time (the batches left are cancelled).
    """
    from .workers import RunFailed, WorkersLost

    def submit(batch):
        jobs = [((plan.scenarios[i].to_dict(), None, plan.seeds[r], plan.duration_ms),
                 {"columns": {**plan.points[i], "replicate": r},
                  "numba_threads": numba_threads}) for i, r in batch]
        return workers.submit(task, jobs, retries)

    total = len(plan.specs)
    bar = _progress_bar(total, total - sum(map(len, batches)), progress)
    try:
        pending = {submit(b): b for b in batches}
        while pending:
            done = workers.wait(list(pending), _WAIT_S)
            if not done:
                workers.check()
            for fut in done:
                batch = pending.pop(fut)
                try:
                    tables = workers.result(fut)
                except WorkersLost:
                    pending = {submit(b): b for b in [batch, *pending.values()]}
                    break
                except RunFailed as e:
                    raise SweepError(f"run {plan.describe(*batch[e.index])} failed after "
                                     f"{retries} retries: {e.text}") from None
                results.update(zip(batch, tables))
                _count(bar, len(batch))
    except KeyboardInterrupt:
        workers.cancel()
        return True
    except SweepError as e:
        workers.cancel()
        raise SweepError(f"{e} ({len(results)} of {total} runs done); sweep stopped") from None
    finally:
        bar.close()
    return False


_WAIT_S = 0.25
"""Seconds the sweep waits for a batch before it checks the workers (and Ctrl-C)."""


def _progress_bar(total: int, done: int, progress: bool):
    """A ``tqdm.auto`` bar of the runs: done/total, runs left, time spent and left."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=done, unit="run", desc="sweep",
               postfix=f"{total - done} left", disable=not show_progress(progress))
    return bar


def _count(bar, runs: int) -> None:
    """Count ``runs`` more runs done on the progress bar, and the runs left."""
    bar.set_postfix_str(f"{bar.total - bar.n - runs} left", refresh=False)
    bar.update(runs)


def show_progress(progress: bool) -> bool:
    """Whether to draw a progress bar: asked for, and stderr a terminal or a Jupyter kernel
    (where ``tqdm.auto`` draws a widget; ``ipykernel`` is imported only there)."""
    return bool(progress) and (sys.stderr.isatty() or "ipykernel" in sys.modules)
