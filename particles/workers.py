"""Where a sweep's runs execute: worker processes the sweep starts itself, or a Dask cluster.

Both run *batches*: one task is several runs in a row (:func:`run_batch`), so what a task
costs (shipping its arguments, scheduling it, returning its tables) is paid once per batch,
and every worker is a long-lived process that loads the compiled kernels once (from numba's
on-disk cache, see :mod:`particles.jit`) and then runs run after run.

:class:`LocalWorkers` is a :class:`concurrent.futures.ProcessPoolExecutor` of freshly
started (``spawn``) single-threaded processes, no scheduler: what a sweep on one machine
uses. :class:`DaskWorkers` submits the batches to an existing Dask cluster. The sweep drives
either through the same few methods (``submit``, ``wait``, ``result``, ``check``,
``cancel``, ``close``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

Job = tuple[tuple, dict[str, Any]]
"""One run of a batch: the run function's positional and keyword arguments."""


class SweepError(RuntimeError):
    """A run of the sweep raised (after its retries), or the cluster was lost; the sweep is
    stopped."""


class RunFailed(Exception):
    """Run ``index`` of a batch raised on every attempt.

    Attributes:
        index: the run's position in its batch.
        text: the last exception's type and message, e.g. ``ValueError: boom``.
    """

    def __init__(self, index: int, text: str):
        super().__init__(index, text)
        self.index = index
        self.text = text


class WorkersLost(Exception):
    """The local worker processes died (one was killed): the pool must be started again."""


def run_batch(task: Callable, jobs: Sequence[Job], retries: int) -> list:
    """Run ``task(*args, **kwargs)`` for each job in order; a run that raises is run again,
    up to ``retries`` more times.

    Returns:
        The runs' results, in the order of ``jobs``.

    Raises:
        RunFailed: a run raised on all its ``1 + retries`` attempts (names it in the batch).
    """
    out = []
    for k, (args, kwargs) in enumerate(jobs):
        for attempt in range(retries + 1):
            try:
                out.append(task(*args, **kwargs))
                break
            except Exception as e:  # noqa: BLE001  reported with the run's name
                if attempt == retries:
                    raise RunFailed(k, f"{type(e).__name__}: {e}") from None
    return out


def _run_pickled_batch(task: bytes, jobs: Sequence[Job], retries: int) -> list:
    """:func:`run_batch` of a run function shipped by ``cloudpickle`` (a function defined in
    a notebook or a test pickles by value, as Dask ships it)."""
    import cloudpickle

    return run_batch(cloudpickle.loads(task), jobs, retries)


def _init_worker() -> None:
    """A local worker ignores Ctrl-C (the sweep stops it): the terminal's SIGINT reaches the
    whole process group, and a worker must not die mid-run and break the pool for that."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def runs_per_task(runs: int, workers: int, per_worker: int = 4, most: int = 16) -> int:
    """Runs per batch: about ``per_worker`` batches per worker (so the workers stay evenly
    busy and the progress bar moves), at most ``most`` runs in one.

    Args:
        runs: runs to do.
        workers: runs that can go on at once.
        per_worker: batches to aim at per worker.
        most: the largest batch.
    """
    return max(1, min(most, runs // max(1, workers * per_worker)))


class LocalWorkers:
    """``n`` worker processes started once for the sweep, each with one numba thread.

    Args:
        n: worker processes.
        numba_threads: ``NUMBA_NUM_THREADS`` of the workers (None: this process's setting).
    """

    restarts_allowed = 3
    """Times the pool is started again after a worker process died (Dask's default
    ``allowed-failures``)."""

    def __init__(self, n: int, numba_threads: int | None):
        self.n = n
        self.numba_threads = numba_threads
        self.restarts = 0
        self._pool = self._start()

    def _start(self):
        """A new pool. ``spawn``: a clean interpreter, safe whatever threads this process
        runs; ``NUMBA_NUM_THREADS`` is set in the environment the workers inherit."""
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        saved = os.environ.get("NUMBA_NUM_THREADS")
        if self.numba_threads is not None:
            os.environ["NUMBA_NUM_THREADS"] = str(self.numba_threads)
        try:
            pool = ProcessPoolExecutor(self.n, multiprocessing.get_context("spawn"),
                                       initializer=_init_worker)
            for _ in range(self.n):  # start them all now, with this environment
                pool.submit(int)
        finally:
            if saved is None:
                os.environ.pop("NUMBA_NUM_THREADS", None)
            else:
                os.environ["NUMBA_NUM_THREADS"] = saved
        return pool

    def submit(self, task: Callable, jobs: Sequence[Job], retries: int):
        """Submit one batch; returns its future."""
        import cloudpickle

        return self._pool.submit(_run_pickled_batch, cloudpickle.dumps(task), jobs, retries)

    def wait(self, futures, timeout: float) -> set:
        """The futures done within ``timeout`` s (at least one, or none at the timeout)."""
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED).done

    def result(self, fut) -> list:
        """A batch's tables.

        Raises:
            RunFailed: a run of the batch raised.
            WorkersLost: a worker process died; the pool was started again, so the batches
                not done can be submitted again.
            SweepError: workers died more than ``restarts_allowed`` times.
        """
        from concurrent.futures.process import BrokenProcessPool

        try:
            return fut.result()
        except BrokenProcessPool as e:
            if self.restarts >= self.restarts_allowed:
                raise SweepError(f"the worker processes died {self.restarts + 1} times: "
                                 f"{e}") from None
            self.restarts += 1
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            raise WorkersLost() from None

    def check(self) -> None:
        """Nothing to check: a dead worker process breaks the pool, which :meth:`result`
        reports."""

    def cancel(self) -> None:
        """Stop now: the runs not started are dropped and the workers terminated (a run
        under way is lost)."""
        # No public way before Python 3.14 (terminate_workers) to stop a running task.
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()

    def close(self) -> None:
        """Tell the workers to stop, without waiting for them to exit (their runs are done
        when the sweep ends; the table is written meanwhile)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


_HEALTH_CHECK_S = 1.0
"""Seconds between checks, while no batch completes, that a Dask cluster still has
workers."""


class DaskWorkers:
    """The workers of an existing Dask cluster, through a client of its scheduler.

    Waiting is bounded (Dask itself waits forever for a worker to come back): while batches
    are pending, :meth:`check` counts the cluster's workers; after ``worker_timeout`` s
    without any it raises.

    Args:
        client: a ``distributed.Client``.
        where: the scheduler's address or file, for messages.
        worker_timeout: seconds to wait while no worker is connected.
    """

    def __init__(self, client, where: str, worker_timeout: float):
        self.client = client
        self.where = where
        self.worker_timeout = worker_timeout
        self._futures: list = []
        self._no_workers_since: float | None = None
        self._next_check = time.monotonic() + _HEALTH_CHECK_S

    @property
    def n(self) -> int:
        """Worker threads connected to the scheduler (0 if it cannot be asked)."""
        if self.client.status != "running":
            return 0
        try:
            return sum(self.client.nthreads().values())
        except (OSError, TimeoutError):
            return 0

    def submit(self, task: Callable, jobs: Sequence[Job], retries: int):
        """Submit one batch (not pure: a batch is never shared with another sweep's)."""
        fut = self.client.submit(run_batch, task, list(jobs), retries, pure=False)
        self._futures.append(fut)
        return fut

    def wait(self, futures, timeout: float) -> set:
        """The futures done within ``timeout`` s (at least one, or none at the timeout)."""
        from distributed import wait

        try:
            return set(wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return set()

    def result(self, fut) -> list:
        """A batch's tables, its result then forgotten on the cluster (if its worker dies
        later, Dask would otherwise compute a batch that is already done again).

        Raises:
            RunFailed: a run of the batch raised.
            SweepError: the connection to the scheduler was lost.
        """
        import asyncio
        from concurrent.futures import CancelledError

        try:
            tables = fut.result()
        except (CancelledError, asyncio.CancelledError) as e:
            raise SweepError(f"lost the connection to the Dask scheduler at {self.where}: "
                             f"{e}") from None
        self._futures.remove(fut)
        fut.release()
        return tables

    def check(self) -> None:
        """Every ``_HEALTH_CHECK_S``: raise when no worker was connected for
        ``worker_timeout`` s (all died, or none started, or the scheduler is gone)."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + _HEALTH_CHECK_S
        if self.n:
            self._no_workers_since = None
            return
        self._no_workers_since = self._no_workers_since or now
        if now - self._no_workers_since >= self.worker_timeout:
            raise SweepError(f"no Dask worker connected to {self.where} for "
                             f"{self.worker_timeout:g} s")

    def cancel(self) -> None:
        """Cancel the batches not yet done (best effort: the scheduler may be gone)."""
        left, self._futures = self._futures, []
        try:
            if left and self.client.status == "running":
                self.client.cancel(left)
        except Exception:  # noqa: BLE001  nothing more to do on a broken connection
            pass

    def close(self) -> None:
        """Close the client (the cluster is not ours: it stays)."""
        try:
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001  the scheduler is gone; nothing to close
            pass
