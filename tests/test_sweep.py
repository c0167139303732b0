"""Sweeps and replicates on Dask: reproducible, complete, and independent of the cluster.

The runs are real simulations of a tiny patch (the built-in ``resting`` scenario shrunk by
overrides), so these tests also check that a run is a pure function of its seed whatever
process or thread count runs it. The distributed tests start real clusters on 127.0.0.1:
a ``LocalCluster``, and a ``dask scheduler`` with ``dask worker`` processes started here.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from particles.config import ScenarioError
from particles.sweep import SweepError, parse_vary, run_one, run_sweep, sweep_points

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
    """A ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, killed on exit."""

    def __init__(self, n_workers: int, tmp: Path):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.n_workers = n_workers
        self.procs: dict[str, subprocess.Popen] = {}
        env = {**os.environ, "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        self.env = env

    def _spawn(self, name, args):
        log = open(self.tmp / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def __enter__(self):
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
                return self
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def kill(self, name):
        self.procs[name].kill()
        self.procs[name].wait(timeout=30)

    def __exit__(self, *exc):
        for name, p in reversed(list(self.procs.items())):
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


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

    def no_cluster(*a, **k):  # pragma: no cover - reached only if validation is skipped
        raise AssertionError("a cluster was started before the sweep was validated")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    monkeypatch.setattr(distributed, "Client", no_cluster)
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


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_same_table_on_local_cluster_and_on_dask_workers(tmp_path):
    kw = dict(replicates=2, seed=3, duration_ms=DURATION, overrides=TINY, progress=False)
    ref = reference_table(VARY, 2, 3, DURATION, TINY)
    local = run_sweep(SCENARIO, VARY, n_workers=2, **kw)
    assert local.attrs["vary"] == VARY and local.attrs["seeds"] == [3, 4]
    assert list(local.columns[:4]) == ["pumps.count", "ions.na.inside_mM", "replicate", "seed"]
    assert len(local) == len(ref) and len(local.groupby(list(local.columns[:3]))) == 8
    pd.testing.assert_frame_equal(local, ref)
    with DaskProcs(2, tmp_path) as cluster:
        remote = run_sweep(SCENARIO, VARY, scheduler=cluster.address, **kw)
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


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killed_worker_does_not_lose_the_sweep(tmp_path):
    # Runs long enough (~1-2 s each) that a worker is certainly mid-run when it is killed.
    over = {**TINY, "domain.depth_um": 1e-4}
    vary = {"ions.na.inside_mM": [10.0, 20.0, 40.0]}
    duration = 0.7
    kw = dict(replicates=2, seed=11, duration_ms=duration, overrides=over, progress=False)
    from distributed import Client

    with DaskProcs(2, tmp_path) as cluster:
        box: dict = {}

        def sweep():
            try:
                box["df"] = run_sweep(SCENARIO, vary, scheduler=cluster.address, **kw)
            except BaseException as e:  # pragma: no cover - reported below
                box["err"] = e

        th = threading.Thread(target=sweep, daemon=True)
        th.start()
        victim = None
        with Client(cluster.address, timeout=10) as c:
            deadline = time.monotonic() + 60
            while victim is None and time.monotonic() < deadline:
                info = c.scheduler_info()["workers"]
                busy = {a: n for a, n in c.processing().items() if n}
                for addr in busy:
                    if info.get(addr, {}).get("name") == "w0":
                        victim = "w0"
                time.sleep(0.1)
            assert victim, "worker w0 never started a run"
            time.sleep(0.3)  # mid-run
            w0 = [a for a, w in c.scheduler_info()["workers"].items() if w["name"] == "w0"]
            assert w0 and c.processing()[w0[0]], "w0 finished its run before it could be killed"
            cluster.kill(victim)
            assert cluster.procs[victim].poll() is not None
        th.join(timeout=240)
        assert not th.is_alive(), "sweep did not finish after a worker was killed"
    assert "err" not in box, box.get("err")
    df = box["df"]
    ref = reference_table(vary, 2, 11, duration, over)
    pd.testing.assert_frame_equal(df, ref)
