"""Checkpoints: the complete state of a run in one file, written atomically, resumed exactly.

A checkpoint is a NumPy ``.npz`` archive (no pickles; ``np.load(path)`` opens it) with

- ``header``: UTF-8 JSON (as uint8): format name and version, ionpump version, the scenario as
  it was at the start (``Scenario.to_dict()``) and its values now (protocol ``set`` events
  change them), seed, step index, phase, bath concentrations, protocol position and log,
  the recorded rows, the array directory and the run plan (target end step, output path,
  command options);
- one member per state array: ions (the bath reservoir may have grown them), pumps,
  counters, environment (ATP, V, ...), bath targets, per-pump cycle history;
- ``sha256``: a checksum over the header and every array's name, dtype, shape and bytes.

Random numbers are a pure function of (seed, step, index, stream), so nothing else is
needed: a simulation rebuilt by :func:`load_checkpoint` continues bit for bit as if it had
never stopped. Every refusal (missing, truncated or corrupted file, another format or
ionpump version, another scenario) is one :class:`CheckpointError` line.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .config import (SCHEMA, Scenario, ScenarioError, check_recording, printable,
                     scenario_from_dict)
from .layout import IonArrays, PumpArrays
from .state import Ions, Pumps, Snapshot

FORMAT = "ionpump-checkpoint"
FORMAT_VERSION = 3  # 2: bath_target holds mean counts (float64); 3: pores gate (issue 14)
SUFFIXES = (".npz",)

_ION_FIELDS = IonArrays._fields
_PUMP_FIELDS = PumpArrays._fields

#: Attributes of a :class:`~particles.simulation.Simulation` and what a checkpoint does with
#: each: saved, rebuilt from the scenario (derived), or scratch. A test fails when the
#: simulation grows an attribute listed in neither, so new state cannot be forgotten here.
SAVED_ATTRS = frozenset({"scenario", "initial_values", "seed", "step_index", "phase", "ions",
                         "pumps", "counters", "env", "bath_target", "bath_mM", "recorder",
                         "protocol"})
DERIVED_ATTRS = frozenset({"dt_ms", "geometry", "par", "channels", "_scratch"})


class CheckpointError(ScenarioError):
    """A checkpoint cannot be written or used. ``str(err)`` is one line: file and problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(str(path), None, problem)


class CheckpointWriteError(CheckpointError):
    """The checkpoint file could not be written (a full disk, a vanished directory): a
    condition of the machine, which a long run may outlive, unlike a bad plan or state."""


# ---------------------------------------------------------------------------- writing

def _jsonable(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, (Path,)):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def _digest(header_bytes: bytes, arrays: dict[str, np.ndarray]) -> bytes:
    h = hashlib.sha256()
    h.update(header_bytes)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.reshape(-1).view(np.uint8) if a.size else b"")  # no copy
    return h.hexdigest().encode("ascii")


def _state(sim, plan: dict | None) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) describing ``sim`` completely."""
    from . import __version__

    snap = sim.snapshot()
    arrays: dict[str, np.ndarray] = {}
    for k in _ION_FIELDS:
        arrays[f"ions_{k}"] = getattr(snap.ions, k)
    for k in _PUMP_FIELDS:
        arrays[f"pumps_{k}"] = getattr(snap.pumps, k)
    arrays["counters"] = snap.counters
    arrays["env"] = snap.env
    arrays["bath_target"] = snap.bath_target
    arrays["cycles_history"] = snap.cycles_history
    arrays["channel_gate"] = snap.gate
    columns = list(snap.rows[0]) if snap.rows else []
    start = sim.scenario.to_dict()
    start["values"] = snap.initial_values
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ionpump_version": __version__,
        "scenario": start,
        "values": snap.values,
        "seed": sim.seed,
        "step_index": int(snap.step_index),
        "dt_ms": sim.dt_ms,
        "time_ms": sim.time_ms,
        "phase": snap.phase,
        "bath_mM": list(snap.bath_mM),
        "protocol": {"position": snap.protocol_position,
                     "log": [list(e) for e in snap.protocol_log]},
        "recorder": {"columns": columns, "rows": [[r[c] for c in columns] for r in snap.rows],
                     "last_step": snap.last_step},
        "arrays": {k: [a.dtype.str, list(a.shape)] for k, a in arrays.items()},
        "plan": plan or {},
    }
    return header, arrays


def save_checkpoint(sim, path: str | os.PathLike, plan: dict | None = None) -> Path:
    """Write the complete state of ``sim`` (and the run ``plan``) to ``path`` atomically.

    The file is written beside ``path`` under a temporary name, fsynced and renamed over it,
    so a crash or a full disk mid-write leaves the previous checkpoint intact.

    Args:
        sim: the :class:`~particles.simulation.Simulation` to save (between steps).
        path: destination, conventionally ``*.npz``.
        plan: JSON-able description of the run, kept as is (``cmd_run`` stores the target
            end step, the output path and format and the command options).

    Raises:
        CheckpointWriteError: the file could not be written (one line, e.g. a full disk).
        CheckpointError: the run plan cannot be stored (not JSON-able).
    """
    from .output import OutputError, atomic_write

    header, arrays = _state(sim, plan)
    try:
        hb = json.dumps(header, default=_jsonable, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise CheckpointError(path, f"the run plan cannot be saved: {e}") from None
    members = {"header": np.frombuffer(hb, np.uint8), **arrays}
    members["sha256"] = np.frombuffer(_digest(hb, arrays), np.uint8)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, **members)

    p = Path(path)
    if not p.parent.is_dir():
        raise CheckpointWriteError(p, f"could not write checkpoint: no directory "
                                   f"{str(p.parent)!r}")
    try:
        atomic_write(p, write)
    except OutputError as e:
        why = e.problem.removeprefix("could not write: ")
        kept = "; the previous checkpoint is intact" if p.exists() else ""
        raise CheckpointWriteError(p, f"could not write checkpoint: {why}{kept}") from None
    return p


# ---------------------------------------------------------------------------- reading

#: Largest header a checkpoint may hold (JSON: scenario, plan, recorded rows), bytes.
MAX_HEADER_BYTES = 512 * 2**20


def _expected_arrays() -> dict[str, tuple[np.dtype, tuple]]:
    """Every array member a checkpoint holds: dtype and shape, with ``"n"`` (ions), ``"m"``
    (pumps) and ``"r"`` (recorded rows) for the lengths that vary."""
    from .layout import N_COUNTERS, N_ENV, N_SITES, N_TARGET

    ions, pumps = Ions.empty(0), Pumps.evenly_spaced(0, 1.0)
    out = {f"ions_{k}": (getattr(ions, k).dtype, ("n",)) for k in _ION_FIELDS}
    out.update({f"pumps_{k}": (getattr(pumps, k).dtype, ("m",)) for k in _PUMP_FIELDS})
    out["pumps_sites"] = (out["pumps_sites"][0], ("m", N_SITES))
    out.update({"counters": (np.dtype(np.int64), (N_COUNTERS,)),
                "env": (np.dtype(np.float64), (N_ENV,)),
                "bath_target": (np.dtype(np.float64), (N_TARGET,)),
                "cycles_history": (np.dtype(np.int64), ("r", "m")),
                "channel_gate": (np.dtype(np.int8), ("c",))})
    return out


def _read_member(p: Path, zf, name: str, dtype: np.dtype, shape: tuple, sizes: dict,
                 limit: int) -> np.ndarray:
    """One ``.npy`` member, checked before its data is read: the stored dtype must be
    ``dtype`` and the shape ``shape`` (a letter is a length that must agree with the other
    members', recorded in ``sizes``); at most ``limit`` bytes are read (bounded
    decompression: an inflated member is refused, not loaded)."""
    from numpy.lib import format as npy

    with zf.open(name + ".npy") as f:
        version = npy.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"npy version {version}")
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        got_shape, fortran, got_dtype = read(f, max_header_size=10000)
        if got_dtype != dtype or fortran or len(got_shape) != len(shape):
            raise CheckpointError(p, f"checkpoint array {name} is {got_dtype} of shape "
                                  f"{got_shape}, expected {dtype} of {len(shape)} dimension(s)")
        for want, got in zip(shape, got_shape):
            if isinstance(want, str):
                want = sizes.setdefault(want, got)
            if got != want:
                raise CheckpointError(p, f"checkpoint array {name} has shape {got_shape}, "
                                      "inconsistent with the other arrays")
        nbytes = int(np.prod(got_shape, dtype=object)) * dtype.itemsize
        if nbytes > limit:
            raise CheckpointError(p, f"checkpoint array {name} would take {nbytes:,} bytes, "
                                  f"more than the {limit:,} allowed")
        data = f.read(nbytes)
        if len(data) != nbytes:
            raise ValueError("short member")
    return np.frombuffer(data, dtype).reshape(got_shape).copy()


def _limit_bytes() -> int:
    """The most a checkpoint's arrays may take together: half the free memory (8 GiB when
    unknown)."""
    from .memory import available_memory_bytes

    avail = available_memory_bytes()
    return 8 * 2**30 if avail is None else avail // 2


def read_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a checkpoint: (header, arrays). Nothing is rebuilt.

    The file is untrusted: only a regular file is opened; the member names must be exactly
    those a checkpoint holds; every member's dtype and shape are checked from its ``.npy``
    header and at most its declared size is decompressed (within half the free memory);
    the header and the checksum are then verified.

    Raises:
        CheckpointError: missing, special or unreadable file, truncated or corrupted, an
            unexpected member, dtype or size, another format or version.
    """
    import zipfile

    from . import __version__

    p = Path(path)
    if not p.exists():
        raise CheckpointError(p, "no such checkpoint file")
    if p.is_dir():
        raise CheckpointError(p, "is a directory, not a checkpoint file")
    if not p.is_file():
        raise CheckpointError(p, "is not a regular file (a pipe or a device), not a checkpoint")
    expected = _expected_arrays()
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            want = {f"{k}.npy" for k in (*expected, "header", "sha256")}
            if "header.npy" not in names or "sha256.npy" not in names:
                raise CheckpointError(p, "not an ionpump checkpoint (no header)")
            if names != want:
                odd = sorted(names ^ want)[0]
                raise CheckpointError(p, f"not an ionpump checkpoint: member {odd!r} "
                                      f"{'missing' if odd in want else 'unexpected'}")
            sizes: dict[str, int] = {}
            budget = _limit_bytes()
            hb = _read_member(p, zf, "header", np.dtype(np.uint8), ("h",), sizes,
                              MAX_HEADER_BYTES).tobytes()
            stored = _read_member(p, zf, "sha256", np.dtype(np.uint8), (64,), sizes,
                                  64).tobytes()
            members = {}
            for k, (dt, shape) in expected.items():
                members[k] = _read_member(p, zf, k, dt, shape, sizes, budget)
                budget -= members[k].nbytes
    except CheckpointError:
        raise
    except PermissionError:
        raise CheckpointError(p, "cannot read checkpoint: permission denied") from None
    except Exception:  # zipfile/format errors of every kind: the file is damaged
        raise CheckpointError(p, "not a readable checkpoint: the file is truncated or "
                              "corrupted (or is not an ionpump checkpoint)") from None
    try:
        header = json.loads(hb.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CheckpointError(p, "corrupted checkpoint: the header is unreadable") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(p, "not an ionpump checkpoint")
    fv = header.get("format_version")
    if fv != FORMAT_VERSION:
        raise CheckpointError(p, f"checkpoint format version {printable(fv)} is not "
                              f"supported by this ionpump {__version__} (it reads version "
                              f"{FORMAT_VERSION})")
    if _digest(hb, members) != stored:
        raise CheckpointError(p, "corrupted checkpoint: checksum mismatch")
    v = header.get("ionpump_version")
    if v != __version__:
        raise CheckpointError(p, f"checkpoint written by ionpump {printable(v)}; this is "
                              f"ionpump {__version__}, which cannot continue it identically")
    values = header.get("values")
    missing = set(values if isinstance(values, dict) else {}) ^ set(SCHEMA)
    if missing:
        raise CheckpointError(p, "checkpoint scenario keys do not match this ionpump's "
                              f"schema (e.g. {sorted(missing)[0]})")
    return header, members


def check_plan(path: str | os.PathLike, header: dict) -> dict:
    """The run plan of a checkpoint, checked like the command-line options it came from.

    Returns:
        ``end_step`` (int, from the saved step to 2^53), ``duration_ms`` (> 0),
        ``out`` (a bare ``.csv``/``.parquet`` file name, or None: the plan chooses no
        directory), ``checkpoint`` (truthy when the run saved checkpoints),
        ``checkpoint_every_ms`` (> 0 or None), ``quiet`` (bool) and the informative rest.

    Raises:
        CheckpointError: no plan (not written by ``ionpump run``) or a bad value in it.
    """
    from .output import TABLE_SUFFIXES

    plan = header.get("plan")
    if not isinstance(plan, dict) or "end_step" not in plan or "out" not in plan:
        raise CheckpointError(path, "holds no run plan (not written by `ionpump run`)")

    def bad(key, problem):
        return CheckpointError(path, f"plan.{key}: {problem}")

    def number(key):
        x = plan.get(key)
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) \
                or x <= 0:
            raise bad(key, f"expected a number > 0, got {printable(repr(x))}")
        return float(x)

    end, step = plan["end_step"], header.get("step_index")
    if isinstance(end, bool) or not isinstance(end, int) or not isinstance(step, int) or \
            not 0 <= step <= end <= 2**53:
        raise bad("end_step", f"expected a whole number of steps from the saved step "
                  f"{printable(repr(step))} to 2^53, got {printable(repr(end))}")
    try:
        check_recording(header["scenario"]["values"], end * float(header["dt_ms"]), str(path),
                        "plan.end_step")
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, ScenarioError):
            raise
        raise CheckpointError(path, "checkpoint is incomplete or inconsistent (no scenario "
                              "values or dt)") from None
    out = plan["out"]
    if out is not None:
        if not isinstance(out, str) or "\0" in out or \
                Path(out).suffix.lower() not in TABLE_SUFFIXES or not Path(out).name:
            raise bad("out", f"expected a .csv or .parquet file name, got "
                      f"{printable(repr(out))}")
        out = Path(out).name
    every = plan.get("checkpoint_every_ms")
    return {**plan, "end_step": end, "duration_ms": number("duration_ms"), "out": out,
            "checkpoint": bool(plan.get("checkpoint")),
            "checkpoint_every_ms": None if every is None else number("checkpoint_every_ms"),
            "quiet": plan.get("quiet") is True}


def _describe_difference(a: dict, b: dict) -> str:
    """What first differs between two Scenario.to_dict() (checkpoint a, requested b)."""
    va, vb = a["values"], b["values"]
    diffs = []
    for k in SCHEMA:
        x, y = va.get(k), vb.get(k)
        if x != y and not (isinstance(x, float) and isinstance(y, float)
                           and math.isnan(x) and math.isnan(y)):
            diffs.append(f"{k} is {x!r} in the checkpoint but {y!r}")
    if a.get("initial_phase") != b.get("initial_phase") or a["protocol"] != b["protocol"]:
        diffs.append("the protocols differ")
    more = f" and {len(diffs) - 3} more" if len(diffs) > 3 else ""
    return ", ".join(diffs[:3]) + more


def check_scenario(path, header: dict, expected: Scenario) -> None:
    """Refuse (CheckpointError) when the checkpoint was not made from ``expected``."""
    # A round trip through JSON, so both sides compare in the same types.
    want = json.loads(json.dumps(expected.to_dict(), default=_jsonable))
    diff = _describe_difference(header["scenario"], want)
    if diff:
        raise CheckpointError(path, f"checkpoint of scenario {header['scenario']['name']!r} "
                              f"does not match the scenario asked for: {diff}")


def load_checkpoint(path: str | os.PathLike, expected: Scenario | None = None):
    """Rebuild the simulation saved in ``path``: returns ``(sim, plan)``.

    The simulation continues bit for bit as the saved one would have (same seed, step,
    RNG position, protocol position, recorded rows).

    Args:
        path: a file written by :func:`save_checkpoint`.
        expected: when given, the scenario the caller means to continue; a checkpoint of any
            other scenario (values or protocol) is refused.

    Raises:
        CheckpointError: see :func:`read_checkpoint`; or a different scenario.
    """
    from .simulation import Simulation

    header, arrays = read_checkpoint(path)
    try:
        if expected is not None:
            check_scenario(path, header, expected)
        try:
            sc = scenario_from_dict(header["scenario"])
        except ScenarioError as e:
            raise CheckpointError(path, f"the checkpoint's scenario is invalid: {e.problem}") \
                from None
        sim = Simulation(sc, seed=int(header["seed"]))
        sim.restore(_snapshot(path, sim, header, arrays))
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise CheckpointError(path, f"checkpoint is incomplete or inconsistent ({e!r})") \
            from None
    return sim, dict(header.get("plan") or {})


def _snapshot(path, sim, header: dict, arrays: dict[str, np.ndarray]) -> Snapshot:
    """The saved state as a :class:`~particles.state.Snapshot`, checked against ``sim`` (a
    fresh simulation of the saved scenario and seed). Arrays are copies."""
    ions = Ions(**{k: arrays[f"ions_{k}"].copy() for k in _ION_FIELDS})
    pumps = Pumps(**{k: arrays[f"pumps_{k}"].copy() for k in _PUMP_FIELDS})
    for name in ("counters", "env", "bath_target"):
        cur, new = getattr(sim, name), arrays[name]
        if new.shape != cur.shape or new.dtype != cur.dtype:
            raise CheckpointError(path, f"checkpoint array {name} has shape {new.shape} "
                                  f"{new.dtype}, expected {cur.shape} {cur.dtype}")
    n_ions, n_pumps = len(ions), len(pumps)
    if any(len(getattr(ions, k)) != n_ions for k in _ION_FIELDS) or \
            any(getattr(pumps, k).shape[0] != n_pumps for k in _PUMP_FIELDS):
        raise CheckpointError(path, "checkpoint arrays have inconsistent lengths")
    if arrays["channel_gate"].shape != sim.channels.gate.shape:
        raise CheckpointError(path, f"checkpoint holds {arrays['channel_gate'].shape[0]} "
                              f"channel pores, the scenario {len(sim.channels)}")
    rec = header["recorder"]
    cols = rec["columns"]
    return Snapshot(
        values=header["values"], initial_values=header["scenario"]["values"],
        step_index=int(header["step_index"]), phase=header["phase"],
        bath_mM=tuple(float(c) for c in header["bath_mM"]), ions=ions, pumps=pumps,
        counters=arrays["counters"], env=arrays["env"], bath_target=arrays["bath_target"],
        protocol_position=int(header["protocol"]["position"]),
        protocol_log=[tuple(e) for e in header["protocol"]["log"]],
        rows=[dict(zip(cols, r)) for r in rec["rows"]], cycles_history=arrays["cycles_history"],
        last_step=int(rec["last_step"]), gate=arrays["channel_gate"].copy())


def check_path(path: str | os.PathLike, force: bool, may_replace=()) -> Path:
    """Check before any work that a checkpoint can be written at ``path``.

    An existing file is refused without ``force`` unless it is one of ``may_replace`` (the
    checkpoint a resumed run came from)."""
    from .output import OutputError, check_output

    p = Path(path)
    same = any(p.exists() and Path(q).exists() and os.path.samefile(p, q) for q in may_replace)
    try:
        return check_output(p, SUFFIXES, force or same)
    except OutputError as e:
        raise CheckpointError(p, e.problem) from None


__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint", "check_scenario",
           "check_plan",
           "check_path", "CheckpointError", "FORMAT_VERSION", "SAVED_ATTRS", "DERIVED_ATTRS"]
