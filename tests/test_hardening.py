"""Hardening (issue 18): nothing lost, nothing trusted that should not be, nothing unbounded.

Each test meets a problem where a user would: through the ``ionpump`` command (real
processes, real signals, a directory removed mid-run, crafted checkpoints, a FIFO) or the
Python API. Scenarios are shrunk with ``--set`` so each run takes a second or two.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from particles import Simulation, load_scenario
from particles.checkpoint import (CheckpointError, CheckpointWriteError, _digest,
                                  read_checkpoint, save_checkpoint)
from particles.config import ScenarioError
from particles.output import read_parquet_meta

from .test_reliability import (TINY, TINY_SET, checkpoint_time, cli, handlers_installed,
                               one_line_error, start, wait_for)

RUN = ["run", "resting", *TINY_SET, "--quiet"]


def toml(tmp_path, text: str, name="s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------ 1. a failed periodic save

def test_vanished_checkpoint_directory_warns_and_the_run_goes_on(tmp_path):
    (tmp_path / "ck").mkdir()
    proc = start(*RUN, "--duration", 3, "--out", "r.csv", "--checkpoint", "ck/c.npz",
                 "--checkpoint-every", 0.05, cwd=tmp_path)
    wait_for(lambda: (tmp_path / "ck" / "c.npz").exists(), proc)
    (tmp_path / "ck").rename(tmp_path / "gone")  # atomic: as if removed, mid-write or not
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "ionpump: warning:" in err and "the run goes on" in err
    df = pd.read_csv(tmp_path / "r.csv")
    assert df["time_ms"].iloc[-1] == pytest.approx(3.0)
    assert json.loads((tmp_path / "r.csv.meta.json").read_text())["checkpoint_failed"] is True


def test_save_checkpoint_into_a_missing_directory_is_a_clear_error(tmp_path):
    sim = Simulation(load_scenario("resting", overrides=TINY), seed=1)
    with pytest.raises(CheckpointWriteError, match="no-such-dir.*no directory"):
        save_checkpoint(sim, tmp_path / "no-such-dir" / "x.npz")
    assert not (tmp_path / "no-such-dir").exists()


# ------------------------------------------------------------ 2.-3. untrusted checkpoints

@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory) -> Path:
    """A checkpoint of an interrupted-looking run: plan to 0.4 ms, saved at 0.2 ms."""
    d = tmp_path_factory.mktemp("ck")
    sim = Simulation(load_scenario("resting", overrides=TINY), seed=2)
    sim.run(0.2)
    plan = {"end_step": int(round(0.4 / sim.dt_ms)), "duration_ms": 0.4, "out": "r.csv",
            "format": ".csv", "checkpoint": "c.npz", "checkpoint_every_ms": None,
            "quiet": True}
    return save_checkpoint(sim, d / "c.npz", plan)


def craft(src: Path, dst: Path, header_change=None, arrays_change=None) -> Path:
    """A copy of checkpoint ``src`` with its header or arrays changed and the checksum
    recomputed (as anyone can): only the content checks can refuse it."""
    header, arrays = read_checkpoint(src)
    if header_change:
        header_change(header)
    if arrays_change:
        arrays_change(arrays)
    hb = json.dumps(header).encode()
    members = {"header": np.frombuffer(hb, np.uint8), **arrays,
               "sha256": np.frombuffer(_digest(hb, arrays), np.uint8)}
    with open(dst, "wb") as f:
        np.savez(f, **members)
    return dst


def test_crafted_plan_does_not_choose_where_resume_writes(tmp_path, checkpoint_file):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.csv").write_text("precious\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ck = craft(checkpoint_file, run_dir / "c.npz",
               lambda h: h["plan"].update(out=str(victim / "precious.csv")))
    r = cli("run", "--resume", ck, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (victim / "precious.csv").read_text() == "precious\n"
    assert sorted(p.name for p in victim.iterdir()) == ["precious.csv"]
    assert pd.read_csv(run_dir / "precious.csv")["time_ms"].iloc[-1] == pytest.approx(0.4)
    # a plan naming another directory creates nothing there either
    ck2 = craft(checkpoint_file, run_dir / "d.npz",
                lambda h: h["plan"].update(out="../elsewhere/new/r2.parquet"))
    assert cli("run", "--resume", ck2, cwd=tmp_path).returncode == 0
    assert not (tmp_path / "elsewhere").exists() and (run_dir / "r2.parquet").is_file()
    # an existing file beside the checkpoint that is not this run's partial results: --force
    line = one_line_error(cli("run", "--resume", ck, cwd=tmp_path))
    assert "precious.csv: already exists; pass --force" in line


@pytest.mark.parametrize("change, expect", [
    (lambda h: h["plan"].update(end_step="many"), "plan.end_step: expected a whole number"),
    (lambda h: h["plan"].update(end_step=10**15), "GiB"),
    (lambda h: h["plan"].update(duration_ms=float("nan")), "plan.duration_ms"),
    (lambda h: h["plan"].update(out="r.exe"), "plan.out: expected a .csv or .parquet"),
    (lambda h: h.update(plan={}), "holds no run plan"),
])
def test_crafted_plan_values_are_one_line_errors(tmp_path, checkpoint_file, change, expect):
    ck = craft(checkpoint_file, tmp_path / "c.npz", change)
    line = one_line_error(cli("run", "--resume", ck, cwd=tmp_path))
    assert expect in line


def test_crafted_arrays_are_refused_before_loading(tmp_path, checkpoint_file):
    def as_float(a):
        a["ions_species"] = a["ions_species"].astype(np.float64)

    ck = craft(checkpoint_file, tmp_path / "f.npz", arrays_change=as_float)
    line = one_line_error(cli("run", "--resume", ck, cwd=tmp_path))
    assert "ions_species is float64" in line and "expected int8" in line

    def short(a):
        a["ions_y"] = a["ions_y"][:-1]

    ck = craft(checkpoint_file, tmp_path / "s.npz", arrays_change=short)
    assert "inconsistent" in one_line_error(cli("run", "--resume", ck, cwd=tmp_path))

    def foreign(a):
        a["payload"] = np.zeros(3)

    ck = craft(checkpoint_file, tmp_path / "x.npz", arrays_change=foreign)
    with pytest.raises(CheckpointError, match="member 'payload.npy' unexpected"):
        read_checkpoint(ck)


def test_inflating_checkpoint_member_is_refused_unread(tmp_path, checkpoint_file):
    """A member whose .npy header claims 64 GiB (and whose data would inflate to it) is
    refused from its header: nothing near that size is decompressed."""
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(checkpoint_file) as src, \
            zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name != "ions_x.npy":
                dst.writestr(name, src.read(name))
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": (8 * 2**30,)})
        with dst.open("ions_x.npy", "w", force_zip64=True) as f:
            f.write(buf.getvalue())
            zeros = bytes(2**20)
            for _ in range(64):  # 64 MiB of zeros, ~64 kB compressed
                f.write(zeros)
    assert bomb.stat().st_size < 2**20
    line = one_line_error(cli("run", "--resume", bomb, cwd=tmp_path))
    assert "ions_x would take 68,719,476,736 bytes" in line


# ------------------------------------------------------------ 4. bounded resources

@pytest.mark.parametrize("text, key, expect", [
    ('[[protocol.events]]\nat_ms = 1\ndo = "add_ions"\nspecies = "na"\nside = "inside"\n'
     'count = 1_000_000_000_000\n', "ions.max_count", "may hold 1e+12 ions"),
    ('[[protocol.events]]\nat_ms = 1\ndo = "add_ions"\nspecies = "na"\nside = "inside"\n'
     'count = 9_000_000_000_000_000_000\n', "protocol.events[0].count", "from 1 to 2^53"),
    ('[bath]\nclamped = true\nzone_um = 0.05\n[[protocol.events]]\nat_ms = 1\ndo = "set"\n'
     'key = "ions.k.outside_mM"\nvalue = 1e9\n', "ions.max_count", "bath, reservoir"),
    ('[pumps]\ncount = 2_000_000\n[domain]\nheight_um = 200000.0\n', "pumps.count",
     "at most 100,000"),
    ('[channels]\nna_leak_count = 200_000\n', "channels", "at most 100,000"),
    ('[time]\nsample_ms = 1.5e-4\nduration_ms = 2000.0\n', "time.duration_ms",
     "GiB in memory; the limit is"),
])
def test_scenario_resources_are_bounded(tmp_path, text, key, expect):
    p = toml(tmp_path, '[scenario]\ntitle = "big"\n' + text)
    line = one_line_error(cli("run", p, cwd=tmp_path))
    assert line.startswith(f"ionpump: error: {p}: {key}: ") and expect in line


def test_too_many_events_and_too_large_files_are_refused(tmp_path):
    ev = '[[protocol.events]]\nat_ms = 1\ndo = "poison"\n'
    p = toml(tmp_path, ev * 10_001)
    assert "10,001 events; at most 10,000" in one_line_error(cli("run", p, cwd=tmp_path))
    p = toml(tmp_path, "# padding\n" * 200_000, "big.toml")
    assert "larger than 1 MiB" in one_line_error(cli("run", p, cwd=tmp_path))


def test_many_pumps_and_pores_lay_out_linearly():
    """10^5 pumps with 10^5 pores: the layout is O(n log m) (it was ~30 min); and the layout
    deals pores exactly as the original quadratic rule on small cases."""
    from particles.physics import channel_layout

    v = dict(load_scenario("resting").values)
    v.update({"pumps.count": 100_000, "domain.height_um": 10_000.0,
              "channels.na_leak_count": 49_999, "channels.k_leak_count": 50_000,
              "channels.nav_count": 0, "channels.kv_count": 0})
    ys, kinds = channel_layout(v)
    assert len(ys) == len(kinds) == 99_999 and ys == sorted(ys)
    v.update({"pumps.count": 3, "domain.height_um": 1.0, "channels.na_leak_count": 5,
              "channels.k_leak_count": 4, "pumps.face_um": 0.05, "channels.pore_um": 0.03})
    ys, kinds = channel_layout(v)
    assert [round(y, 6) for y in ys] == [
        round(y, 6) for y in _quadratic_layout(1.0, 3, 0.025, 0.03, 9)]


def _quadratic_layout(H, m, fhalf, w, n):
    edges = [0.0]
    for p in range(m):
        yp = (p + 0.5) * H / m
        edges += [yp - fhalf, yp + fhalf]
    edges.append(H)
    gaps = [(edges[2 * k], edges[2 * k + 1]) for k in range(m + 1)]
    room = [int((hi - lo) / w * (1 + 1e-9)) for lo, hi in gaps]
    dealt = [0] * len(gaps)
    for _ in range(n):
        k = min((g for g in range(len(gaps)) if dealt[g] < room[g]),
                key=lambda g: ((dealt[g] + 1) / (gaps[g][1] - gaps[g][0]), g))
        dealt[k] += 1
    return sorted(lo + (j + 0.5) * (hi - lo) / c for (lo, hi), c in zip(gaps, dealt)
                  for j in range(c))


def test_api_add_ions_beyond_the_budget_is_refused():
    sim = Simulation(load_scenario("resting", overrides={**TINY, "ions.max_count": 5000}))
    with pytest.raises(ScenarioError, match="ions.max_count = 5,000"):
        sim.apply_event("add_ions", species="na", side="inside", count=10**12)


# ------------------------------------------------------------ 5. special files

def test_fifo_and_device_are_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    line = one_line_error(cli("run", fifo, cwd=tmp_path))
    assert "not a regular file" in line
    ck = tmp_path / "c.npz"
    os.mkfifo(ck)
    assert "not a regular file" in one_line_error(cli("run", "--resume", ck, cwd=tmp_path))
    assert "not a regular file" in one_line_error(cli("run", "/dev/zero", cwd=tmp_path))


# ------------------------------------------------------------ 8. signals at every instant

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_importing_exits_130_in_one_line(tmp_path, sig):
    proc = start(*RUN, "--duration", 1, "--out", "r.csv", cwd=tmp_path)
    wait_for(lambda: handlers_installed(proc.pid), proc)  # entry(): before heavy imports
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "ionpump: interrupted"


@pytest.mark.parametrize("signalled", [True, False])
def test_an_interrupt_that_an_import_turns_into_another_error_is_still_130(
        monkeypatch, capsys, signalled):
    """numba's extension modules turn a KeyboardInterrupt during their import into
    ImportError ("numba._devicearray failed to import"): after a signal that is exit 130 in
    one line; without one the ImportError is a real error and propagates."""
    import time

    import particles.cli as cli_main

    def importing(argv):  # noqa: ARG001  an extension module's import, as numba's
        try:
            if signalled:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
        except KeyboardInterrupt:
            pass
        raise ImportError("numba._devicearray failed to import")

    monkeypatch.setattr(cli_main, "_command", importing)
    if not signalled:
        with pytest.raises(ImportError):
            cli_main.main(["run"])
        return
    assert cli_main.main(["run"]) == 130
    assert capsys.readouterr().err.strip() == "ionpump: interrupted"


def test_an_interrupt_inside_an_extensions_pyrun_still_exits_130(tmp_path):
    """A KeyboardInterrupt raised in code an extension runs through ``PyRun_*`` (as an
    import may) sets CPython's unhandled-interrupt flag; under ``python -m`` the process then
    ended by SIGINT (-2) instead of exiting 130 (seen under load)."""
    (tmp_path / "pyrun_ionpump.py").write_text(
        "import ctypes\n"
        "import particles.cli as cli\n"
        "def _command(argv):\n"
        "    ctypes.pythonapi.PyRun_SimpleString(\n"
        "        b'import os, signal; os.kill(os.getpid(), signal.SIGTERM)')\n"
        "    raise ImportError('numba._devicearray failed to import')\n"
        "cli._command = _command\n"
        "cli.entry()\n")
    proc = subprocess.run([sys.executable, "-m", "pyrun_ionpump"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "ionpump: interrupted"


def test_sigterm_right_after_the_results_are_written(tmp_path):
    proc = start(*RUN, "--duration", 0.5, "--out", "r.csv", cwd=tmp_path)
    wait_for(lambda: (tmp_path / "r.csv.meta.json").exists(), proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err
    assert pd.read_csv(tmp_path / "r.csv")["time_ms"].iloc[-1] == pytest.approx(0.5)


# ------------------------------------------------------------ 8. smaller ones

def test_huge_seed_is_one_line(tmp_path):
    line = one_line_error(cli(*RUN, "--seed", 2**64, cwd=tmp_path))
    assert "--seed: must be a whole number from 0 to 2^63 - 1" in line
    with pytest.raises(ScenarioError, match="seed"):
        Simulation(load_scenario("resting", overrides=TINY), seed=2**64)


def test_scenario_text_is_escaped_on_screen_and_guarded_in_csv(tmp_path):
    p = toml(tmp_path, '[scenario]\ntitle = "evil"\n[protocol]\ninitial_phase = '
             '"=HYPERLINK(\\"x\\")"\n[[protocol.events]]\nat_ms = 0.2\ndo = "phase"\n'
             'phase = "@SUM(1)\\u001b[2J"\n', "e\x1b[31m.toml")
    r = cli("run", p, *TINY_SET, "--duration", 0.5, "--out", "r.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout + r.stderr and "\\x1b" in r.stdout
    phases = pd.read_csv(tmp_path / "r.csv")["phase"].unique().tolist()
    assert phases == ["'=HYPERLINK(\"x\")", "'@SUM(1)\x1b[2J"]


def test_output_that_appears_during_the_run_is_not_replaced(tmp_path):
    proc = start(*RUN, "--duration", 3, "--out", "r.csv", "--checkpoint", "c.npz",
                 "--checkpoint-every", 0.05, cwd=tmp_path)
    wait_for(lambda: checkpoint_time(tmp_path / "c.npz") > 0, proc)
    (tmp_path / "r.csv").write_text("another run's\n")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert "r.csv: appeared while the run was going on" in err and "r-1.csv" in err
    assert (tmp_path / "r.csv").read_text() == "another run's\n"
    assert pd.read_csv(tmp_path / "r-1.csv")["time_ms"].iloc[-1] == pytest.approx(3.0)
    assert (tmp_path / "r-1.csv.meta.json").is_file()


def test_failed_run_leaves_no_directories(tmp_path):
    line = one_line_error(cli("run", "resting", "--set", "pumps.count=-1", "--out",
                              "newdir/sub/a.csv", cwd=tmp_path))
    assert "pumps.count" in line and not (tmp_path / "newdir").exists()


def test_run_without_out_prints_the_summary_and_writes_nothing(tmp_path):
    r = cli("run", "resting", *TINY_SET, "--duration", 0.2, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "not written (no --out)" in r.stdout
    assert list(tmp_path.iterdir()) == []


def test_parquet_carries_the_run_metadata(tmp_path):
    r = cli(*RUN, "--duration", 0.2, "--seed", 5, "--out", "r.parquet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    meta = read_parquet_meta(tmp_path / "r.parquet")
    assert meta["seed"] == 5 and meta["scenario"]["name"] == "resting"
    assert meta == json.loads((tmp_path / "r.parquet.meta.json").read_text())


def test_plot_on_a_full_disk_keeps_the_previous_figure(tmp_path, monkeypatch):
    import errno

    import matplotlib.figure

    from particles.cli import main

    assert cli(*RUN, "--duration", 0.2, "--out", "r.csv", cwd=tmp_path).returncode == 0
    fig = tmp_path / "r.png"
    fig.write_bytes(b"previous")

    def full(self, fname, *a, **k):
        Path(fname).write_bytes(b"")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    assert main(["plot", str(tmp_path / "r.csv"), "--out", str(fig)]) == 2
    assert fig.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == \
        ["r.csv", "r.csv.meta.json", "r.png"]


@pytest.mark.parametrize("call, where", [
    (lambda s: s.run(True), "duration_ms"),
    (lambda s: s.step(-5), "n"),
    (lambda s: s.apply_event("ouabain", mM=-1), "mM"),
    (lambda s: s.apply_event("ouabain", mM=math.nan), "mM"),
    (lambda s: s.apply_event("load_tracer", fraction=5), "fraction"),
    (lambda s: s.apply_event("poison", strength=2), "strength"),
    (lambda s: s.apply_event("explode"), "do"),
    (lambda s: load_scenario("resting", overrides="pumps.count=3"), "overrides"),
])
def test_api_arguments_are_checked_like_scenario_files(call, where):
    sim = _tiny_sim()
    with pytest.raises(ScenarioError) as e:
        call(sim)
    assert f": {where}: " in str(e.value) and "\n" not in str(e.value)


_SIM = []


def _tiny_sim() -> Simulation:
    if not _SIM:
        _SIM.append(Simulation(load_scenario("resting", overrides=TINY), seed=1))
    return _SIM[0]
