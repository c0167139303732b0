"""Reliability (issue 8): checkpoints, exact resume, interruption, output safety, long runs.

The resume tests are real: a run is stopped by SIGINT or SIGTERM sent to an ``ionpump run``
process, resumed from its checkpoint by another process, and the results file compared byte
for byte with an uninterrupted run. Scenarios are shrunk with ``--set`` (a ~1800-ion patch)
so each run takes a few seconds.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from particles import Simulation, load_scenario
from particles.checkpoint import (DERIVED_ATTRS, SAVED_ATTRS, CheckpointError, load_checkpoint,
                                  read_checkpoint, save_checkpoint)
from particles.config import ScenarioError, builtin_names
from particles.output import OutputError, write_table

TINY = {"domain.depth_um": 2e-5, "pumps.count": 4, "time.sample_ms": 0.05}
TINY_SET = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]

# A perfused-bath tracer protocol like Hodgkin & Keynes's, small and fast.
PROTOCOL_TOML = """
[scenario]
title = "Tracer efflux protocol (test)"
[time]
dt_ms = 1.5625e-4
duration_ms = 8.0
sample_ms = 0.05
[domain]
width_um = 1.0
height_um = 1.0
depth_um = 2e-5
[pumps]
count = 4
[bath]
clamped = true
zone_um = 0.2
[tracer]
fraction = 0.5
[protocol]
initial_phase = "control"
[[protocol.events]]
at_ms = 0.8
do = "k_free"
phase = "K-free"
[[protocol.events]]
at_ms = 1.0
do = "set"
key = "ions.na.outside_mM"
value = 120.0
[[protocol.events]]
at_ms = 1.2
do = "set"
key = "pumps.k_phos_per_ms"
value = 2.0
[[protocol.events]]
at_ms = 3.0
do = "restore_k"
phase = "control"
[[protocol.events]]
at_ms = 4.0
do = "poison"
phase = "DNP"
[[protocol.events]]
at_ms = 5.5
do = "washout"
phase = "washout"
[[protocol.events]]
at_ms = 6.5
do = "load_tracer"
fraction = 0.2
"""
EVENT_MS = (0.8, 1.0, 1.2, 3.0, 4.0, 5.5, 6.5)


@pytest.fixture
def protocol_toml(tmp_path) -> Path:
    p = tmp_path / "tracer.toml"
    p.write_text(PROTOCOL_TOML)
    return p


def cli(*args, cwd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "particles", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, **kw)


def start(*args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "particles", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(pred, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t_end = time.monotonic() + timeout
    while not pred():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended (rc {proc.returncode}) before the condition:\n{err}")
        if time.monotonic() > t_end:
            proc.kill()
            pytest.fail("timed out waiting for the run")
        time.sleep(0.02)


def checkpoint_time(path: Path) -> float:
    try:
        return read_checkpoint(path)[0]["time_ms"]
    except CheckpointError:  # not there yet (the rename is atomic: never half-written)
        return -1.0


def handlers_installed(pid: int) -> bool:
    """True once the process catches SIGTERM (ionpump's Interrupt handler is in place)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(ln for ln in status.splitlines() if ln.startswith("SigCgt:")).split()[1],
                 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# ------------------------------------------------------------------ in-process checkpoints

def _sim(ref, seed=3):
    return Simulation(load_scenario(ref, overrides=TINY), seed=seed)


@pytest.mark.parametrize("stop_ms", [0.0, 0.5, 0.4371])  # start, a sample, mid-sample
def test_checkpoint_resume_identical_in_process(tmp_path, stop_ms):
    full = _sim("resting").run(1.0)
    part = _sim("resting").run(stop_ms)
    save_checkpoint(part, tmp_path / "c.npz", {"end_step": full.step_index})
    sim, plan = load_checkpoint(tmp_path / "c.npz", load_scenario("resting", overrides=TINY))
    sim.run_steps(plan["end_step"] - sim.step_index)
    assert sim.timeseries().to_csv() == full.timeseries().to_csv()
    for k, a in full.ions.arrays().items():
        np.testing.assert_array_equal(getattr(sim.ions, k), a)
    np.testing.assert_array_equal(sim.pumps.sites, full.pumps.sites)
    np.testing.assert_array_equal(sim.pump_cycles_history(), full.pump_cycles_history())
    np.testing.assert_array_equal(sim.env, full.env)


def test_checkpoint_mid_protocol_phase_with_grown_reservoir(tmp_path, protocol_toml):
    """Mid K-free phase, after `set` events changed values, with extra reservoir ions."""
    full = Simulation(load_scenario(protocol_toml), seed=5).run(4.5)
    part = Simulation(load_scenario(protocol_toml), seed=5).run(2.2)
    assert part.phase == "K-free" and part.scenario.values["pumps.k_phos_per_ms"] == 2.0
    full_grow = Simulation(load_scenario(protocol_toml), seed=5).run(2.2)
    n0 = len(part.ions)
    part._grow_reservoir()  # as the kernel asks when the bath runs short
    full_grow._grow_reservoir()
    full_grow.run(4.5 - 2.2)
    assert len(part.ions) > n0
    save_checkpoint(part, tmp_path / "c.npz", {"end_step": full.step_index})
    sim, plan = load_checkpoint(tmp_path / "c.npz", load_scenario(protocol_toml))
    assert len(sim.ions) == len(part.ions)
    assert sim.scenario.values["pumps.k_phos_per_ms"] == 2.0
    assert sim.initial_values["pumps.k_phos_per_ms"] == 1.0
    assert sim.bath_mM == part.bath_mM and sim.phase == "K-free"
    sim.run_steps(plan["end_step"] - sim.step_index)
    assert sim.timeseries().to_csv() == full_grow.timeseries().to_csv()
    assert [e[1] for e in sim.protocol.log] == [e[1] for e in full.protocol.log]


def test_every_simulation_attribute_is_saved_or_derived():
    """New state in Simulation must be added to particles/checkpoint.py (saved or derived)."""
    sim = _sim("resting")
    unknown = set(vars(sim)) - SAVED_ATTRS - DERIVED_ATTRS
    assert not unknown, f"checkpoint.py does not know these Simulation attributes: {unknown}"


def _rewrite(path: Path, edit) -> None:
    """Rewrite a checkpoint with ``edit(header, arrays)`` applied and a valid checksum."""
    from particles.checkpoint import _digest

    with np.load(path) as z:
        members = {k: z[k] for k in z.files}
    header = json.loads(members.pop("header").tobytes())
    members.pop("sha256")
    edit(header, members)
    hb = json.dumps(header).encode()
    with open(path, "wb") as f:
        np.savez(f, header=np.frombuffer(hb, np.uint8), **members,
                 sha256=np.frombuffer(_digest(hb, members), np.uint8))


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("ck") / "good.npz"
    save_checkpoint(_sim("resting").run(0.2), p, {"end_step": 100})
    return p


def _damage(kind: str, src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    if kind == "truncated":
        dst.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-tail":
        dst.write_bytes(data[:-10])
    elif kind == "empty":
        dst.write_bytes(b"")
    elif kind == "flipped-byte":
        data[len(data) // 3] ^= 0xFF
        dst.write_bytes(bytes(data))
    elif kind == "random-bytes":
        dst.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "not-a-checkpoint":
        np.savez(dst, x=np.arange(3))
    elif kind == "checksum":  # valid zip, an array changed, the old checksum kept
        with np.load(src) as z:
            members = {k: z[k] for k in z.files}
        members["ions_x"] = members["ions_x"] + 1e-9
        with open(dst, "wb") as f:
            np.savez(f, **members)
    else:
        dst.write_bytes(bytes(data))
        if kind == "format-version":
            _rewrite(dst, lambda h, a: h.update(format_version=99))
        elif kind == "ionpump-version":
            _rewrite(dst, lambda h, a: h.update(ionpump_version="0.0.1"))
        elif kind == "schema":
            _rewrite(dst, lambda h, a: h["values"].pop("pumps.count"))
        elif kind == "missing-array":
            _rewrite(dst, lambda h, a: a.pop("env"))


REFUSALS = {
    "truncated": "truncated or corrupted", "truncated-tail": "truncated or corrupted",
    "empty": "truncated or corrupted", "flipped-byte": "corrupted",
    "random-bytes": "truncated or corrupted", "not-a-checkpoint": "not an ionpump checkpoint",
    "checksum": "checksum mismatch", "format-version": "format version 99",
    "ionpump-version": "ionpump 0.0.1", "schema": "schema",
    "missing-array": "member 'env.npy' missing",
}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_damaged_or_incompatible_checkpoint_refused(tmp_path, good_checkpoint, kind):
    bad = tmp_path / f"{kind}.npz"
    _damage(kind, good_checkpoint, bad)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(bad)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(bad)) and REFUSALS[kind] in msg, msg


def test_other_scenario_refused(good_checkpoint):
    with pytest.raises(CheckpointError, match="pumps.count is 4 in the checkpoint but 10"):
        load_checkpoint(good_checkpoint, load_scenario("resting"))
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(good_checkpoint, load_scenario("saturation", overrides=TINY))


def test_checkpoint_write_failure_keeps_previous(tmp_path, monkeypatch, good_checkpoint):
    """A full disk mid-write: one-line error, the previous checkpoint still loads."""
    p = tmp_path / "c.npz"
    p.write_bytes(good_checkpoint.read_bytes())

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(CheckpointError, match="No space left on device; the previous "
                                              "checkpoint is intact"):
        save_checkpoint(_sim("resting"), p, {})
    monkeypatch.undo()
    load_checkpoint(p)
    assert [f.name for f in tmp_path.iterdir()] == ["c.npz"]  # no temporary left behind


def test_table_write_failure_keeps_previous(tmp_path, monkeypatch):
    p = tmp_path / "r.csv"
    p.write_text("old\n")

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_table(pd.DataFrame({"a": [1]}), p)
    assert p.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


# ------------------------------------------------------------------ real processes, signals

def _interrupted_then_resumed(tmp_path, scenario, extra, duration, sig, after_ms, out="r.csv"):
    """Full run; the same run stopped by ``sig`` once a checkpoint past ``after_ms`` exists,
    then resumed. Returns (full bytes, resumed bytes, checkpoint header at the stop)."""
    ck = tmp_path / "r.npz"
    r = cli("run", scenario, *extra, "--duration", duration, "--seed", 7, "--quiet",
            "--out", f"full{Path(out).suffix}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    proc = start("run", scenario, *extra, "--duration", duration, "--seed", 7, "--quiet",
                 "--out", out, "--checkpoint", ck, "--checkpoint-every", 0.5, cwd=tmp_path)
    wait_for(lambda: checkpoint_time(ck) >= after_ms, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted at" in err and out in err and "--resume" in err and "Traceback" not in err
    header = read_checkpoint(ck)[0]
    partial = pd.read_csv(tmp_path / out) if out.endswith(".csv") else \
        pd.read_parquet(tmp_path / out)
    assert 0 < len(partial) and partial["time_ms"].iloc[-1] == pytest.approx(header["time_ms"])
    meta = json.loads((tmp_path / f"{out}.meta.json").read_text())
    assert meta["interrupted"] is True
    r = cli("run", "--resume", ck, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / f"{out}.meta.json").read_text())["interrupted"] is False
    return (_content(tmp_path / f"full{Path(out).suffix}"), _content(tmp_path / out), header)


def _content(path: Path):
    """A results file's bytes; for Parquet its table without the run metadata it carries
    (wall time, command, resumed_from differ between the runs by nature)."""
    if path.suffix != ".parquet":
        return path.read_bytes()
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    kv = {k: v for k, v in (table.schema.metadata or {}).items() if k != b"ionpump"}
    return table.replace_schema_metadata(kv).to_pydict(), kv


def test_sigterm_then_resume_resting_identical(tmp_path):
    full, resumed, header = _interrupted_then_resumed(tmp_path, "resting", TINY_SET, 4,
                                                      signal.SIGTERM, 1.0)
    assert 1.0 <= header["time_ms"] < 4
    assert full == resumed


def test_sigint_mid_phase_then_resume_protocol_identical(tmp_path, protocol_toml):
    full, resumed, header = _interrupted_then_resumed(
        tmp_path, protocol_toml, [], 5, signal.SIGINT, 1.5, out="r.parquet")
    t = header["time_ms"]
    pos = header["protocol"]["position"]
    assert 0 < pos < len(EVENT_MS) and not any(abs(t - e) < 1e-9 for e in EVENT_MS), (t, pos)
    assert full == resumed


@pytest.mark.skipif("hodgkin-keynes" not in builtin_names(), reason="scenario not built yet")
def test_sigint_mid_phase_then_resume_hodgkin_keynes_identical(tmp_path):
    """The built-in scenario as it is, stopped in its second phase (5 ms into it)."""
    sc = load_scenario("hodgkin-keynes")
    events = sorted(e.at_ms for e in sc.protocol if e.at_ms > 0)
    duration = min(events[0] + 5.0, sc["time.duration_ms"])
    full, resumed, header = _interrupted_then_resumed(
        tmp_path, "hodgkin-keynes", [], duration, signal.SIGINT, events[0] + 1.0)
    assert header["protocol"]["position"] > 0
    assert not any(abs(header["time_ms"] - e) < 1e-9 for e in events)
    assert full == resumed


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_without_checkpoint_leaves_readable_table(tmp_path, sig):
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to see when the handlers are in place")
    for delay in (0.5, 2.0, 8.0):  # a busy machine may still be importing after 0.5 s
        proc = start("run", "resting", *TINY_SET, "--duration", 500, "--quiet", "--out",
                     "r.csv", cwd=tmp_path)
        wait_for(lambda: handlers_installed(proc.pid), proc)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        if err.strip() != "ionpump: interrupted":  # else stopped before the run began
            break
        assert not (tmp_path / "r.csv").exists()
    assert "Traceback" not in err and "results so far written to r.csv" in err
    df = pd.read_csv(tmp_path / "r.csv")
    assert len(df) >= 1 and list(df.columns[:5]) == ["time_ms", "na_in", "na_out", "k_in",
                                                      "k_out"]
    assert df["time_ms"].iloc[-1] < 500
    assert json.loads((tmp_path / "r.csv.meta.json").read_text())["interrupted"] is True


def test_resume_options(tmp_path):
    """--out elsewhere, a scenario that does not match, a seed that does not match."""
    ck = tmp_path / "r.npz"
    r = cli("run", "resting", *TINY_SET, "--duration", 0.4, "--seed", 4, "--quiet", "--out",
            "a.csv", "--checkpoint", ck, "--checkpoint-every", 0.2, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    line = one_line_error(cli("run", "--resume", ck, "resting", cwd=tmp_path))
    assert "does not match" in line and "pumps.count is 4" in line
    line = one_line_error(cli("run", "--resume", ck, "--set", "pumps.count=5", cwd=tmp_path))
    assert "pumps.count" in line
    line = one_line_error(cli("run", "--resume", ck, "--seed", 5, cwd=tmp_path))
    assert "--seed" in line and "seed 4" in line
    line = one_line_error(cli("run", "--resume", ck, "--duration", 3, cwd=tmp_path))
    assert "--duration" in line
    # the last periodic checkpoint (0.2 ms) continued to 0.4 ms equals the run itself
    r = cli("run", "--resume", ck, "resting", *TINY_SET, "--seed", 4, "--out", "b.csv",
            "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    # b.csv exists now: a second resume into it needs --force
    line = one_line_error(cli("run", "--resume", ck, "--out", "b.csv", cwd=tmp_path))
    assert "already exists; pass --force" in line
    bad = tmp_path / "bad.npz"
    bad.write_bytes(ck.read_bytes()[:1000])
    line = one_line_error(cli("run", "--resume", bad, cwd=tmp_path))
    assert line.startswith(f"ionpump: error: {bad}: ") and "truncated or corrupted" in line


# ------------------------------------------------------------------ output safety

def test_existing_output_needs_force(tmp_path):
    (tmp_path / "r.csv").write_text("precious\n")
    (tmp_path / "c.npz").write_text("precious\n")
    args = ["run", "resting", *TINY_SET, "--duration", 0.1, "--quiet", "--out", "r.csv"]
    line = one_line_error(cli(*args, cwd=tmp_path))
    assert line == "ionpump: error: r.csv: already exists; pass --force to overwrite it"
    (tmp_path / "r2.csv").unlink(missing_ok=True)
    line = one_line_error(cli(*args[:-1], "r2.csv", "--checkpoint", "c.npz", cwd=tmp_path))
    assert "c.npz: already exists; pass --force" in line
    assert (tmp_path / "r.csv").read_text() == "precious\n"
    assert (tmp_path / "c.npz").read_text() == "precious\n"
    r = cli(*args, "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(tmp_path / "r.csv")["time_ms"].iloc[-1] == pytest.approx(0.1)


def test_unwritable_output_path(tmp_path):
    (tmp_path / "afile").write_text("x")
    line = one_line_error(cli("run", "resting", "--out", "afile/r.csv", cwd=tmp_path))
    assert "afile/r.csv" in line and ("cannot create directory" in line
                                      or "not writable" in line)
    line = one_line_error(cli("run", "resting", "--out", "/proc/r.csv", cwd=tmp_path))
    assert "/proc/r.csv" in line


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (needs root and mount); skipped where it cannot be made."""
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(d)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root?)")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` up, then free ``leave`` bytes (a file of that size is deleted)."""
    (disk / "spare").write_bytes(b"\0" * leave)
    try:
        with open(disk / "filler", "ab") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass
    (disk / "spare").unlink()


def test_full_disk_reported_in_one_line(tmp_path, tiny_disk):
    _fill(tiny_disk, 0)
    r = cli("run", "resting", *TINY_SET, "--duration", 0.5, "--quiet", "--out",
            tiny_disk / "r.csv", cwd=tmp_path)
    line = one_line_error(r)
    assert str(tiny_disk / "r.csv") in line and "No space left on device" in line
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]  # no temporary left
    # room for the results but not for a checkpoint: a warning per failed save, and the run
    # goes on to its end with its complete table (nothing computed is lost)
    (tiny_disk / "filler").unlink()
    _fill(tiny_disk, 16 * 1024)
    r = cli("run", "resting", *TINY_SET, "--duration", 0.5, "--quiet", "--out",
            tmp_path / "r.csv", "--checkpoint", tiny_disk / "c.npz", "--checkpoint-every",
            0.2, cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("ionpump: warning: ")]
    assert len(warnings) == 2, r.stderr  # the saves due at 0.2 and 0.4 ms
    for line in warnings:
        assert "c.npz" in line
        assert "could not write checkpoint: No space left on device" in line
        assert line.endswith("the run goes on")
    table = pd.read_csv(tmp_path / "r.csv")
    assert table["time_ms"].iloc[-1] == pytest.approx(0.5)
    assert json.loads((tmp_path / "r.csv.meta.json").read_text())["checkpoint_failed"] is True
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


# ------------------------------------------------------------------ long-run soundness

def _soak_module():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"
    spec = importlib.util.spec_from_file_location("ionpump_soak", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_soundness_check_catches_faults():
    soak = _soak_module()
    sim = _sim("resting").run(0.05)
    totals = soak.species_totals(sim)
    assert soak.check_sound(sim, totals) == []
    free = np.flatnonzero(~sim.ions.bound & (sim.ions.side == 0))
    sim.ions.x[free[0]] = sim.geometry.membrane_x_um
    sim.ions.y[free[1]] = -1e-3
    problems = " ".join(soak.check_sound(sim, totals))
    assert "inside the membrane band" in problems and "outside the box" in problems
    sim.counters[0] += 1
    assert any("cycles" in b for b in soak.check_sound(sim, totals))


@pytest.mark.slow
def test_soak_short():
    """2·10^5 steps of a small `resting`: conservation exact, no ion in the membrane or out
    of the box at every check, memory flat (benchmarks/soak.py runs 10^7 steps)."""
    soak = _soak_module()
    lines = []
    r = soak.soak("resting", {**TINY, "time.sample_ms": 0.5}, 200_000, 20_000, 11, 16.0,
                  out=lines.append)
    assert r["ok"], "\n".join(lines)
    assert r["steps"] == 200_000  # (net cycles may be <= 0 this early: issue 13)
