"""Sweeps and replicates: reproducible, complete, and independent of where they run.

The runs are real simulations of a tiny patch (the built-in ``resting`` scenario shrunk by
overrides), so these tests also check that a run is a pure function of its seed whatever
process, thread count or batch runs it. The sweeps run in the worker processes a sweep
starts itself, and on real Dask clusters on 127.0.0.1: a ``LocalCluster`` writing a
scheduler file, and a ``dask scheduler`` with ``dask worker`` processes started here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from particles.cli.sweep import parse_vary
from particles.config import ScenarioError
from particles.sweep import SweepError, run_one, run_sweep, sweep_points

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "resting"
# A 1 µm × 1 µm patch one tenth as deep as usual: ~900 ions, 4 pumps; runs take ~0.1 s.
TINY = {"domain.width_um": 1.0, "domain.height_um": 1.0, "domain.depth_um": 2e-5,
        "pumps.count": 4, "time.sample_ms": 0.05}
VARY = {"pumps.count": [2, 4], "ions.na.inside_mM": [12.0, 40.0]}
DURATION = 0.2


def _dask_exe() -> str:
    exe = Path(sys.executable).with_name("dask")
    return str(exe) if exe.exists() else (shutil.which("dask") or "dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskProcs:
    """A ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, killed on exit.

    Entering waits (bounded) until all workers are registered; :meth:`warm` then runs a tiny
    simulation on each worker, so numba's compilation (or cache loading, 30+ s in a fresh
    process on a busy machine) is done before a test starts timing or killing anything.
    """

    def __init__(self, n_workers: int, tmp: Path):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.n_workers = n_workers
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: list = []
        env = {**os.environ, "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        self.env = env

    def _spawn(self, name, args):
        log = open(self.tmp / f"{name}.log", "wb")
        self.logs.append(log)
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        dask = _dask_exe()
        self._spawn("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port",
                                  str(self.port), "--no-dashboard"])
        for i in range(self.n_workers):
            self._spawn(f"w{i}", [dask, "worker", self.address, "--nthreads", "1",
                                  "--no-nanny", "--name", f"w{i}", "--no-dashboard",
                                  "--local-directory", str(self.tmp / f"w{i}"),
                                  "--death-timeout", "60"])
        from distributed import Client

        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(self.address, timeout=5) as c:
                    c.wait_for_workers(self.n_workers, timeout=max(1, deadline - time.monotonic()))
                return
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"Dask cluster did not start:\n{self.log_tail()}")
                time.sleep(0.5)

    def warm(self, client, timeout=180):
        """A tiny run on every worker (pinned to it), so the kernels are compiled there."""
        from distributed import wait

        futs = [client.submit(run_one, SCENARIO, TINY, 0, 0.05, numba_threads=1, pure=False,
                              workers=[a], allow_other_workers=False)
                for a in self.workers(client).values()]
        try:
            wait(futs, timeout=timeout)
            client.gather(futs)
        except Exception as e:
            raise AssertionError(f"workers did not warm up: {e!r}\n{self.log_tail()}") from e
        finally:
            client.cancel(futs)

    def workers(self, client):
        """Worker name -> address."""
        return {w["name"]: a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}

    def wait_running(self, client, name, timeout=60):
        """Wait until worker ``name`` is processing a run; return its address."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            addr = self.workers(client).get(name)
            if addr and client.processing().get(addr):
                return addr
            time.sleep(0.05)
        raise AssertionError(f"worker {name} never started a run:\n{self.log_tail()}")

    def kill(self, name):
        self.procs[name].kill()
        self.procs[name].wait(timeout=30)

    def log_tail(self, lines=15):
        out = []
        for name in self.procs:
            text = (self.tmp / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"--- {name}.log\n" + "\n".join(t[:200] for t in text[-lines:]))
        return "\n".join(out)

    def __exit__(self, *exc):
        for name, p in reversed(list(self.procs.items())):
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        for log in self.logs:
            log.close()


def _in_thread(fn):
    """Start ``fn`` in a daemon thread; returns (thread, box with "value" or "err")."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # reported by the test
            box["err"] = e

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, box


def reference_table(vary, replicates, seed, duration, overrides):
    """The sweep computed serially in this process with run_one."""
    frames = []
    for point in sweep_points(vary):
        for r in range(replicates):
            frames.append(run_one(SCENARIO, {**overrides, **point}, seed + r, duration,
                                  columns={**point, "replicate": r}, numba_threads=1))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- single runs


def test_replicates_reproducible_and_distinct():
    a = run_one(SCENARIO, TINY, 5, DURATION, columns={"replicate": 0}, numba_threads=1)
    b = run_one(SCENARIO, TINY, 5, DURATION, columns={"replicate": 0}, numba_threads=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns[:2]) == ["replicate", "seed"] and a["seed"].iloc[0] == 5
    # Long enough for ions to bind to pumps, which is where seeds show in the counts.
    busy = {**TINY, "domain.depth_um": 1e-4, "pumps.count": 10}
    runs = [run_one(SCENARIO, busy, s, 1.0, numba_threads=1) for s in (5, 6, 7)]
    bound = [tuple(r["na_bound"]) + tuple(r["na_in"]) for r in runs]
    assert len(set(bound)) == 3, "different seeds gave identical runs"


def test_sweep_points_order():
    pts = sweep_points({"a.x": [1, 2], "b.y": ["u", "v"]})
    assert pts == [{"a.x": 1, "b.y": "u"}, {"a.x": 1, "b.y": "v"},
                   {"a.x": 2, "b.y": "u"}, {"a.x": 2, "b.y": "v"}]
    assert sweep_points({}) == [{}]
    with pytest.raises(ValueError):
        sweep_points({"a.x": []})


def test_parse_vary():
    assert parse_vary(["ions.na.inside_mM=5,10.5", "pumps.count=2, 4", "x.label=a,b"]) == {
        "ions.na.inside_mM": [5, 10.5], "pumps.count": [2, 4], "x.label": ["a", "b"]}
    for bad in (["pumps.count"], ["pumps.count="], ["pumps.count=1,,2"],
                ["pumps.count=1", "pumps.count=2"]):
        with pytest.raises(ScenarioError):
            parse_vary(bad)


def test_bad_input_stops_before_any_cluster(monkeypatch):
    import distributed

    from particles import workers

    def no_cluster(*a, **k):  # pragma: no cover - reached only if validation is skipped
        raise AssertionError("a cluster was started before the sweep was validated")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    monkeypatch.setattr(distributed, "Client", no_cluster)
    monkeypatch.setattr(workers, "LocalWorkers", no_cluster)
    with pytest.raises(ScenarioError, match="--vary: pumps.count"):
        run_sweep(SCENARIO, {"pumps.count": [2, -3]}, overrides=TINY, progress=False)
    with pytest.raises(ScenarioError, match="dt = 1 ms"):
        run_sweep(SCENARIO, {"pumps.count": [2]}, overrides={**TINY, "time.dt_ms": 1.0})
    with pytest.raises(ScenarioError, match="no_such_key"):
        run_sweep(SCENARIO, {"no_such_key.x": [1]}, overrides=TINY, progress=False)
    with pytest.raises(ScenarioError):
        run_sweep("no-such-scenario", {"pumps.count": [2]}, progress=False)
    with pytest.raises(ValueError, match="replicates"):
        run_sweep(SCENARIO, {"pumps.count": [2]}, replicates=0, overrides=TINY)


# ----------------------------------------------------------------------------- on Dask


def test_runs_per_task():
    from particles.workers import runs_per_task

    assert runs_per_task(4, 2) == 1  # a small sweep: one run per task, all workers busy
    assert runs_per_task(80, 2) == 10 and runs_per_task(10_000, 2) == 16
    assert runs_per_task(3, 1) == 1


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_same_table_in_local_workers_and_on_dask_workers_in_any_batches(tmp_path):
    kw = dict(replicates=2, seed=3, duration_ms=DURATION, overrides=TINY, progress=False)
    ref = reference_table(VARY, 2, 3, DURATION, TINY)
    local = run_sweep(SCENARIO, VARY, n_workers=2, **kw)
    assert local.attrs["vary"] == VARY and local.attrs["seeds"] == [3, 4]
    assert list(local.columns[:4]) == ["pumps.count", "ions.na.inside_mM", "replicate", "seed"]
    assert len(local) == len(ref) and len(local.groupby(list(local.columns[:3]))) == 8
    pd.testing.assert_frame_equal(local, ref)
    batched = run_sweep(SCENARIO, VARY, n_workers=2, runs_per_task=3, **kw)
    pd.testing.assert_frame_equal(batched, ref)
    with DaskProcs(2, tmp_path) as cluster:
        remote = run_sweep(SCENARIO, VARY, scheduler=cluster.address, runs_per_task=3, **kw)
    pd.testing.assert_frame_equal(remote, local)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_failing_run_stops_the_sweep_with_its_name():
    def task(scenario, overrides, seed, duration_ms, *, columns, numba_threads):
        if columns["pumps.count"] == 4:  # a nested function: Dask ships it by value
            raise ValueError("boom")
        return run_one(scenario, overrides, seed, duration_ms, columns=columns,
                       numba_threads=numba_threads)

    with pytest.raises(SweepError, match=r"pumps.count=4, replicate 0 \(seed 9\) failed "
                                         r"after 0 retries: ValueError: boom"):
        run_sweep(SCENARIO, {"pumps.count": [2, 4]}, seed=9, duration_ms=0.05, overrides=TINY,
                  n_workers=1, retries=0, task=task, progress=False)


def _first_time(marker: Path) -> bool:
    """True the first time it is called with ``marker`` (in any process): it creates it."""
    try:
        marker.touch(exist_ok=False)
        return True
    except FileExistsError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_local_workers_retry_a_failed_run_and_survive_a_killed_worker(tmp_path):
    """A run that raises once is run again; a local worker process killed mid-run (here by
    the run itself) has its batch run again by a new pool: the table is complete and equal
    to the runs done serially."""
    vary = {"pumps.count": [2, 4]}

    def task(scenario, overrides, seed, duration_ms, *, columns, numba_threads):
        if columns["replicate"] == 0 and _first_time(tmp_path / f"raise{columns['pumps.count']}"):
            raise ValueError("once")
        if columns["replicate"] == 1 and _first_time(tmp_path / "kill"):
            os.kill(os.getpid(), 9)
        return run_one(scenario, overrides, seed, duration_ms, columns=columns,
                       numba_threads=numba_threads)

    df = run_sweep(SCENARIO, vary, replicates=2, seed=3, duration_ms=DURATION, overrides=TINY,
                   n_workers=2, retries=1, task=task, progress=False)
    assert {p.name for p in tmp_path.iterdir()} == {"raise2", "raise4", "kill"}
    pd.testing.assert_frame_equal(df, reference_table(vary, 2, 3, DURATION, TINY))


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_interrupted_local_sweep_keeps_its_runs_and_stops_its_workers(tmp_path):
    """Ctrl-C during a local sweep: SweepInterrupted carries the runs done, and the worker
    processes (one of them in a run that would last a minute) are stopped."""
    import signal

    from particles.sweep import SweepInterrupted

    def task(scenario, overrides, seed, duration_ms, *, columns, numba_threads):
        (tmp_path / f"pid{os.getpid()}").touch()
        if columns["pumps.count"] == 4:
            time.sleep(60)
        df = run_one(scenario, overrides, seed, duration_ms, columns=columns,
                     numba_threads=numba_threads)
        (tmp_path / "done").touch()
        return df

    def interrupt_when_a_run_is_done():
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not (
                (tmp_path / "done").exists() and len(list(tmp_path.glob("pid*"))) == 2):
            time.sleep(0.1)
        time.sleep(2)  # the done run's table reaches the sweep meanwhile
        os.kill(os.getpid(), signal.SIGINT)

    th = threading.Thread(target=interrupt_when_a_run_is_done, daemon=True)
    th.start()
    with pytest.raises(SweepInterrupted) as info:
        run_sweep(SCENARIO, {"pumps.count": [2, 4]}, seed=3, duration_ms=DURATION,
                  overrides=TINY, n_workers=2, task=task, progress=False)
    th.join()
    table = info.value.table
    assert table.attrs["runs_done"] == 1 and not table.attrs["complete"]
    pd.testing.assert_frame_equal(table, reference_table({"pumps.count": [2]}, 1, 3,
                                                         DURATION, TINY))
    pids = [int(p.name[3:]) for p in tmp_path.glob("pid*")]
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "a worker process outlived the sweep"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killed_worker_does_not_lose_the_sweep(tmp_path):
    # Runs long enough (~1-2 s each) that a worker is certainly mid-run when it is killed.
    over = {**TINY, "domain.depth_um": 1e-4}
    vary = {"ions.na.inside_mM": [10.0, 40.0]}
    duration = 0.7
    kw = dict(replicates=2, seed=11, duration_ms=duration, overrides=over, progress=False)
    from distributed import Client

    # The reference first: it compiles the kernels here and fills numba's on-disk cache,
    # so the workers below load them instead of all compiling at once.
    ref = reference_table(vary, 2, 11, duration, over)
    with DaskProcs(2, tmp_path) as cluster, Client(cluster.address, timeout=10) as c:
        cluster.warm(c)
        t0 = time.monotonic()
        th, box = _in_thread(lambda: run_sweep(SCENARIO, vary, scheduler=cluster.address,
                                               worker_timeout=30, **kw))
        w0 = cluster.wait_running(c, "w0")
        time.sleep(0.3)  # mid-run: a run takes over a second
        assert c.processing().get(w0), "w0 finished its run before it could be killed"
        cluster.kill("w0")
        assert cluster.procs["w0"].poll() is not None
        th.join(timeout=90)
        assert not th.is_alive(), (f"sweep did not finish {time.monotonic() - t0:.0f} s after "
                                   f"a worker was killed:\n{cluster.log_tail()}")
        assert "Remove worker" in (tmp_path / "scheduler.log").read_text()
    assert "err" not in box, box.get("err")
    pd.testing.assert_frame_equal(box["value"], ref)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sweep_stops_when_all_workers_are_gone(tmp_path):
    over = {**TINY, "domain.depth_um": 1e-4}
    kw = dict(replicates=3, seed=1, duration_ms=0.7, overrides=over, progress=False)
    from distributed import Client

    with DaskProcs(1, tmp_path) as cluster, Client(cluster.address, timeout=10) as c:
        cluster.warm(c)
        th, box = _in_thread(lambda: run_sweep(SCENARIO, None, scheduler=cluster.address,
                                               worker_timeout=3, **kw))
        cluster.wait_running(c, "w0")
        cluster.kill("w0")
        t0 = time.monotonic()
        th.join(timeout=60)
        assert not th.is_alive(), "sweep hung with no workers left"
        waited = time.monotonic() - t0
    err = box.get("err")
    assert isinstance(err, SweepError), err
    assert re.fullmatch(r"no Dask worker connected to tcp://127\.0\.0\.1:\d+ for 3 s "
                        r"\(\d of 3 runs done\); sweep stopped", str(err)), str(err)
    assert 3 <= waited < 30


# ----------------------------------------------------------------------------- scheduler
# files and resumed sweeps


@pytest.fixture(scope="module")
def scheduler_file(tmp_path_factory):
    """A LocalCluster whose scheduler writes its file, as ``dask scheduler
    --scheduler-file FILE`` does on a SLURM/PBS cluster."""
    import logging

    from distributed import LocalCluster

    path = tmp_path_factory.mktemp("dask") / "scheduler.json"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR,
                      scheduler_kwargs={"scheduler_file": str(path)},
                      env={"NUMBA_NUM_THREADS": "1"}):
        assert path.is_file()
        yield path


def _sweep_cli(out, *extra):
    from particles.cli import main

    tiny = [f"--set={k}={v}" for k, v in TINY.items()]
    return main(["sweep", SCENARIO, "--vary", "pumps.count=2,4", "--vary",
                 "ions.na.inside_mM=12.0,40.0", "--replicates", "2", "--seed", "3",
                 "--duration", str(DURATION), *tiny, "--out", str(out), "--quiet", *extra])


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cli_sweep_carries_the_metadata_of_ionpump_run_and_its_tables(tmp_path):
    """``ionpump sweep`` in local workers: the Parquet file holds the same metadata as its
    ``.meta.json`` (scenario, seed, version, the varied values), with the keys ``ionpump
    run`` writes; a sweep point's rows equal ``ionpump run`` of that point."""
    from particles.cli import main
    from particles.output import read_meta, read_parquet_meta, read_table

    out = tmp_path / "sweep.parquet"
    assert _sweep_cli(out) == 0
    meta = read_parquet_meta(out)
    assert meta == read_meta(out)
    assert meta["vary"] == VARY and meta["seed"] == 3 and meta["seeds"] == [3, 4]
    assert meta["complete"] and meta["runs_done"] == 8 and meta["scenario"]["name"] == SCENARIO

    single = tmp_path / "run.parquet"
    point = {**TINY, "pumps.count": 4, "ions.na.inside_mM": 40.0}
    assert main(["run", SCENARIO, *(f"--set={k}={v}" for k, v in point.items()), "--seed", "4",
                 "--duration", str(DURATION), "--out", str(single), "--quiet"]) == 0
    run_meta = read_parquet_meta(single)
    for key in ("ionpump_version", "python", "scenario", "seed", "duration_ms"):
        assert key in meta and key in run_meta, key
    assert meta["ionpump_version"] == run_meta["ionpump_version"]
    table = read_table(out)
    rows = table[(table["pumps.count"] == 4) & (table["ions.na.inside_mM"] == 40.0) &
                 (table["replicate"] == 1)]
    assert rows["seed"].unique().tolist() == [4]
    pd.testing.assert_frame_equal(rows.iloc[:, 4:].reset_index(drop=True), read_table(single))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_scheduler_file_and_resume_of_a_truncated_table(tmp_path, scheduler_file):
    """--scheduler-file runs the sweep on that cluster (the same table as in-process runs);
    --resume of a table cut short (runs missing, the last one partly written) runs only what
    is missing and gives the complete table, equal to the uninterrupted one."""
    from particles.cli import main
    from particles.output import read_meta, read_table, write_meta, write_table

    full = tmp_path / "full.parquet"
    assert _sweep_cli(full, "--scheduler-file", str(scheduler_file)) == 0
    ref = reference_table(VARY, 2, 3, DURATION, TINY)
    table = read_table(full)
    pd.testing.assert_frame_equal(table, ref, check_dtype=False)
    meta = read_meta(full)
    assert meta["complete"] and meta["scheduler"] == str(scheduler_file)

    cut = tmp_path / "cut.parquet"
    runs = table.groupby(["pumps.count", "ions.na.inside_mM", "replicate"], sort=False)
    keep = [g for _, g in runs][:3]
    keep[-1] = keep[-1].iloc[:-2]  # the third run lacks its last samples
    write_table(pd.concat(keep, ignore_index=True), cut)
    write_meta(cut, {**meta, "complete": False, "runs_done": 3})
    assert main(["sweep", "--resume", str(cut), "--quiet", "--scheduler-file",
                 str(scheduler_file)]) == 0
    pd.testing.assert_frame_equal(read_table(cut), table)
    resumed = read_meta(cut)
    assert resumed["complete"] and resumed["runs_done"] == 8 and resumed["resumed_from"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_resume_runs_only_the_missing_runs(scheduler_file):
    """A run already in the table is never submitted again (a task that refuses those runs
    would stop the sweep)."""
    done = reference_table({"pumps.count": [2, 4]}, 2, 3, DURATION, TINY)
    done = done[~((done["pumps.count"] == 4) & (done["replicate"] == 1))]
    kept = {(2, 0), (2, 1), (4, 0)}

    def task(scenario, overrides, seed, duration_ms, *, columns, numba_threads):
        if (columns["pumps.count"], columns["replicate"]) in kept:
            raise AssertionError(f"run {columns} was already done")
        return run_one(scenario, overrides, seed, duration_ms, columns=columns,
                       numba_threads=numba_threads)

    df = run_sweep(SCENARIO, {"pumps.count": [2, 4]}, replicates=2, seed=3,
                   duration_ms=DURATION, overrides=TINY, progress=False,
                   scheduler_file=str(scheduler_file), resume=done, task=task)
    ref = reference_table({"pumps.count": [2, 4]}, 2, 3, DURATION, TINY)
    pd.testing.assert_frame_equal(df, ref)
    assert df.attrs["complete"] and df.attrs["runs_done"] == 4


def test_resume_and_scheduler_file_refuse_bad_input(tmp_path, capsys):
    from particles.cli import main

    table = tmp_path / "t.parquet"
    pd.DataFrame({"time_ms": [0.0]}).to_parquet(table)
    for argv, message in (
            (["--resume", str(table), "--vary", "pumps.count=1,2"], "--vary: not with --resume"),
            (["--resume", str(table)], "t.parquet.meta.json does not describe a sweep"),
            (["--resume", str(tmp_path / "none.parquet")], "no such results file"),
            ([SCENARIO, "--vary", "pumps.count=1,2", "--out", str(tmp_path / "o.csv"),
              "--scheduler-file", str(tmp_path / "none.json")], "--scheduler-file: no such file"),
            ([SCENARIO, "--out", str(tmp_path / "o.csv")], "--vary: at least one")):
        assert main(["sweep", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("ionpump: error: ") and message in err and err.count("\n") == 1, err


def test_progress_bar_on_a_terminal_or_in_jupyter(monkeypatch):
    import io
    import types

    from particles.sweep import show_progress

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not show_progress(True)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert show_progress(True) and not show_progress(False)


def test_progress_bar_shows_runs_done_left_and_time_left(monkeypatch):
    import io

    from particles.sweep import _count, _progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    bar = _progress_bar(8, 3, progress=True)  # 3 runs done before (a resumed sweep)
    _count(bar, 2)
    bar.close()
    last = err.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert re.search(r"sweep: .*5/8 \[[0-9:]+<[0-9:?]+, .*3 left\]", last), last
