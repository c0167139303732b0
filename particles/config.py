"""Scenario files: schema, units, loading and validation.

A scenario is a TOML document (see ``scenarios/*.toml``). Every key it may hold is listed in
:data:`SCHEMA` with its unit, type, allowed range and default; a document is merged onto the
defaults, ``--set``-style overrides are applied, and every value is validated. Any problem is
raised as one :class:`ScenarioError` whose message names the file, the key and what is wrong.
The quantities derived from the values (counts, coefficients, the safe dt, the channel layout)
are computed in :mod:`particles.physics`; the memory probe is :mod:`particles.memory`.

Units: lengths µm, times ms, concentrations mM, diffusion coefficients µm²/ms, rates 1/ms,
voltages mV, conductances mS/cm², capacitance µF/cm².
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .memory import BYTES_PER_ION, available_memory_bytes
from .physics import (SPECIES, channel_layout, dt_limit, expected_ion_count, initial_ion_count,
                      membrane_x, mM_to_mean_count)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def printable(text: Any) -> str:
    """``text`` safe to print on a terminal on one line: control characters (newlines,
    escape sequences) and other unprintable ones escaped as in Python literals."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class ScenarioError(ValueError):
    """A scenario file or value is unusable. ``str(err)`` is one line: file, key and problem."""

    def __init__(self, source: str, key: str | None, problem: str):
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}: " if key else f"{source}: "
        # one line whatever the file holds: control characters (a newline in a key) escaped
        super().__init__(printable(where + problem))


@dataclass(frozen=True)
class Key:
    """One scenario key: its default, unit and validation rule.

    Attributes:
        default: value when a scenario does not set the key.
        unit: unit of the value ("" for text, flags and plain ratios).
        help: one-line description.
        kind: ``float``, ``int``, ``bool`` or ``str``.
        min, max: allowed range (None: unbounded); ``min_open`` makes ``min`` exclusive.
    """

    default: Any
    unit: str
    help: str
    kind: type = float
    min: float | None = None
    max: float | None = None
    min_open: bool = False


def _k(default, unit, help, kind=float, lo=None, hi=None, strict=False) -> Key:
    return Key(default, unit, help, kind, lo, hi, strict)


POS = dict(lo=0.0, strict=True)  # strictly positive
NONNEG = dict(lo=0.0)
MV = dict(lo=-500.0, hi=500.0)  # potentials: a membrane breaks down well inside ±500 mV

#: Every key a scenario may set, with defaults. Dotted names map to TOML tables.
SCHEMA: dict[str, Key] = {
    "scenario.title": _k("Untitled scenario", "", "title shown in lists and videos", str),
    "scenario.description": _k("", "", "one-line description", str),
    # time
    "time.dt_ms": _k(1.5e-4, "ms", "time step", **POS),
    "time.duration_ms": _k(20.0, "ms", "default simulated duration of a run", **POS),
    "time.sample_ms": _k(0.5, "ms", "interval between rows of the results table", **POS),
    "time.warmup_ms": _k(0.0, "ms", "simulated time run before t = 0 (on a seed of its own, "
                         "not recorded, no protocol events) to settle V and the pumps",
                         lo=0.0, hi=1000.0),
    # domain
    "domain.width_um": _k(1.0, "µm", "box width (x); membrane splits it", **POS),
    "domain.height_um": _k(1.0, "µm", "box height (y), the membrane length", **POS),
    "domain.depth_um": _k(0.0002, "µm", "slab depth h mapping counts to concentrations", **POS),
    "domain.membrane_x_um": _k(-1.0, "µm", "membrane centre (x); -1 = width/2"),
    "domain.membrane_thickness_um": _k(0.005, "µm", "membrane (bilayer) thickness", **POS),
    # ions
    "ions.na.D": _k(1.33, "µm²/ms", "Na+ diffusion coefficient", **POS),
    "ions.k.D": _k(1.96, "µm²/ms", "K+ diffusion coefficient", **POS),
    "ions.na.inside_mM": _k(12.0, "mM", "Na+ inside at start", **NONNEG),
    "ions.na.outside_mM": _k(145.0, "mM", "Na+ outside at start", **NONNEG),
    "ions.k.inside_mM": _k(140.0, "mM", "K+ inside at start", **NONNEG),
    "ions.k.outside_mM": _k(5.0, "mM", "K+ outside at start", **NONNEG),
    "ions.max_count": _k(20_000_000, "ions", "refuse scenarios with more ions than this", int, 1),
    # pumps: geometry and capture
    "pumps.count": _k(10, "pumps", "number of pumps, evenly spaced along the membrane", int, 0),
    "pumps.face_um": _k(0.05, "µm", "width of a pump's capture face along the membrane", **POS),
    "pumps.kon_na_per_mM_ms": _k(
        0.04, "1/(mM·ms)", "capture rate of Na+ by an open inner Na+ site, per mM", **NONNEG),
    "pumps.kon_k_per_mM_ms": _k(
        0.27, "1/(mM·ms)", "capture rate of K+ by an open outer K+ site, per mM", **NONNEG),
    "pumps.kon_na_congener_per_mM_ms": _k(
        0.0, "1/(mM·ms)", "capture rate of Na+ by an open outer K+ site (congener), per mM; "
        "a path outside the reversible cycle, off by default", **NONNEG),
    # pumps: reversibility (MODEL.md §2b); the E1(2K) -> E2(2K) rate follows from the rest
    # by detailed balance
    "pumps.kd_na_in_mM": _k(
        8.0, "mM", "dissociation constant of internal Na+ at E1's Na+ sites (k_off = k_on·K_D)",
        **POS),
    "pumps.kd_na_out_mM": _k(
        300.0, "mM", "dissociation constant of external Na+ at E2P's Na+ sites at V = 0 "
        "(rebinding k_on = k_na_release / K_D)", **POS),
    "pumps.kd_k_out_mM": _k(
        2.0, "mM", "dissociation constant of external K+ at E2P's K+ sites (k_off = k_on·K_D)",
        **POS),
    "pumps.kd_k_in_mM": _k(
        150.0, "mM", "dissociation constant of internal K+ at E1's K+ sites (binding k_on = "
        "k_k_release / K_D); internal K+ competes with Na+", **POS),
    "pumps.k_k_release_per_ms": _k(5.0, "1/ms", "release of each K+ inside from E1", **POS),
    "pumps.k_phos_back_per_ms": _k(
        300.0, "1/ms", "E1P(3Na) + ADP -> E1·3Na + ATP at saturating ADP", **POS),
    "pumps.km_adp_mM": _k(0.1, "mM", "ADP half-saturation of the back-phosphorylation", **POS),
    "pumps.k_occlusion_back_per_ms": _k(0.1, "1/ms", "E2P(3Na) -> E1P(3Na) at V = 0", **POS),
    "pumps.k_dephos_back_per_mM_ms": _k(
        0.1, "1/(mM·ms)", "E2(2K) + Pi -> E2P(2K), per mM Pi", **POS),
    # pumps: first-order rates (1/ms); defaults from MODEL.md §2, see scenarios for sources
    "pumps.start_steady": _k(
        False, "", "start each pump at a place on its cycle drawn from the steady state, "
        "holding ions taken from the compartments (false: all empty in E1)", bool),
    "pumps.k_phos_per_ms": _k(1.0, "1/ms", "E1·3Na -> E1P(3Na) at saturating ATP", **NONNEG),
    "pumps.km_atp_mM": _k(0.008, "mM", "ATP half-saturation of phosphorylation", **POS),
    "pumps.k_occlusion_per_ms": _k(0.5, "1/ms", "E1P(3Na) -> E2P (electrogenic step)", **NONNEG),
    "pumps.k_na_release_per_ms": _k(5.0, "1/ms", "release of each Na+ from E2P", **NONNEG),
    "pumps.k_dephos_per_ms": _k(2.0, "1/ms", "E2P(2K) -> E2(2K) dephosphorylation", **NONNEG),
    "pumps.k_return_per_ms": _k(0.05, "1/ms", "E2(2K) -> E1 without ATP", **NONNEG),
    "pumps.k_return_atp_per_ms": _k(0.4, "1/ms", "E2(2K) -> E1 at saturating ATP", **NONNEG),
    "pumps.km_atp_low_mM": _k(0.3, "mM", "low-affinity ATP site speeding E2 -> E1", **POS),
    "pumps.occlusion_charge": _k(
        0.3, "e", "fraction of the cycle's one charge crossing the field in E1P -> E2P; the "
        "rest moves with the release of the three Na+ outside (ion well)", lo=0.0, hi=1.0),
    # energy
    "atp.initial_mM": _k(3.0, "mM", "intracellular ATP at start", **NONNEG),
    "atp.production_mM_per_ms": _k(
        -1.0, "mM/ms", "steady ATP production; -1 = basal_per_ms × initial_mM"),
    "atp.regen_per_ms": _k(
        1.0, "1/ms", "rate at which metabolism restores ATP towards initial_mM", **NONNEG),
    "atp.basal_per_ms": _k(0.01, "1/ms", "first-order ATP use by everything but the pumps",
                           **NONNEG),
    "atp.poisoned": _k(False, "", "metabolic poison (DNP) present: no ATP production", bool),
    "atp.adp_mM": _k(0.03, "mM", "free ADP inside at start, and the set point metabolism "
                     "restores", **NONNEG),
    "atp.pi_mM": _k(4.0, "mM", "inorganic phosphate inside at start, and its set point",
                    **NONNEG),
    "atp.dg0_kJ_per_mol": _k(-30.5, "kJ/mol", "standard free energy of ATP hydrolysis ΔG0′"),
    # ouabain
    "ouabain.concentration_mM": _k(0.0, "mM", "ouabain in the bath", **NONNEG),
    "ouabain.k_on_per_mM_ms": _k(0.05, "1/(mM·ms)", "ouabain binding to empty E2P (K_D = "
                                 "k_off/k_on = 4 nM)", **NONNEG),
    "ouabain.k_off_per_ms": _k(2e-7, "1/ms", "ouabain unbinding (Erdmann & Hasse 1975)",
                               **NONNEG),
    # membrane potential (MODEL.md §4)
    "membrane.C_uF_per_cm2": _k(1.0, "µF/cm²", "specific capacitance", **POS),
    "membrane.g_leak_mS_per_cm2": _k(0.3, "mS/cm²", "leak conductance g_L", **POS),
    "membrane.E_leak_mV": _k(-65.0, "mV", "leak reversal potential E_L", **MV),
    "membrane.v_initial_mV": _k(-65.0, "mV", "membrane potential at start", **MV),
    "membrane.temperature_C": _k(37.0, "°C", "temperature (RT/F of the pump's energetics and "
                                 "voltage factors, and of channel passage)", lo=-273.15,
                                 strict=True),
    "membrane.clamp": _k(False, "", "voltage clamp: V held at membrane.clamp_mV", bool),
    "membrane.clamp_mV": _k(-65.0, "mV", "clamp potential (settable during a run)", **MV),
    "membrane.current_window_ms": _k(
        5.0, "ms", "averaging window of the patch's pump current before it drives V", **POS),
    "membrane.pump_density_per_um2": _k(
        0.0, "1/µm²", "pump density of the cell the patch stands for (0: the patch's own)",
        **NONNEG),
    # bath
    "bath.clamped": _k(False, "", "outside is a perfused bath held at its concentrations", bool),
    "bath.zone_um": _k(0.5, "µm", "width of the far-field exchange zone at the outer wall",
                       **POS),
    "bath.every_ms": _k(0.05, "ms", "interval between bath exchanges", **POS),
    # internal dialysis (Brinley & Mullins 1967): inside held at its concentrations
    "dialysis.clamped": _k(False, "", "inside held at its concentrations by a dialysis zone",
                           bool),
    "dialysis.zone_um": _k(0.1, "µm", "width of the dialysis zone at the inner wall", **POS),
    # channels: pores in the membrane between the pumps (MODEL.md §1, issue 4)
    "channels.na_leak_count": _k(0, "pores", "Na+ leak channels", int, 0),
    "channels.k_leak_count": _k(0, "pores", "K+ leak channels", int, 0),
    "channels.nav_count": _k(0, "pores", "voltage-gated Na+ channels (Hodgkin-Huxley m³h "
                             "gating)", int, 0),
    "channels.kv_count": _k(0, "pores", "voltage-gated K+ channels (Hodgkin-Huxley n⁴ "
                            "gating)", int, 0),
    "channels.pore_um": _k(0.03, "µm", "width of a channel pore along the membrane", **POS),
    "channels.na_leak_per_mM_ms": _k(
        0.001, "1/(mM·ms)", "passages per ms through one Na+ leak pore per mM of Na+ on the "
        "side the ions come from, at V = 0", **NONNEG),
    "channels.k_leak_per_mM_ms": _k(
        0.004, "1/(mM·ms)", "the same for one K+ leak pore", **NONNEG),
    "channels.nav_per_mM_ms": _k(
        0.05, "1/(mM·ms)", "the same for one open voltage-gated Na+ pore", **NONNEG),
    "channels.kv_per_mM_ms": _k(
        0.02, "1/(mM·ms)", "the same for one open voltage-gated K+ pore", **NONNEG),
    "channels.voltage_bias": _k(
        True, "", "V biases passage: inward ×exp(−V/2V_T), outward ×exp(+V/2V_T)", bool),
    "channels.q10": _k(3.0, "", "Q10 of the gating rates, from Hodgkin & Huxley's 6.3 °C to "
                       "membrane.temperature_C (MODEL.md §4b)", lo=1.0),
    "channels.current_window_ms": _k(
        0.05, "ms", "averaging window of the channel current before it drives V", **POS),
    "membrane.patch_area_um2": _k(
        0.0, "µm²", "membrane area one patch stands for in the current density (0: pumps.count"
        " / pump_density_per_um2, or the slab's own height × depth)", **NONNEG),
    "membrane.cell_area_um2": _k(
        0.0, "µm²", "membrane area of the whole cell whose potential V is; the rest of it "
        "beyond the patch is a population of the patch's pumps and pores (0: the patch alone)",
        **NONNEG),
    # current injection (issue 14): the `stimulate` event's defaults
    "stimulus.amplitude_uA_per_cm2": _k(
        40.0, "µA/cm²", "default stimulus amplitude (positive depolarises)", lo=-1e4, hi=1e4),
    "stimulus.duration_ms": _k(0.5, "ms", "default duration of one stimulus pulse", **POS),
    # tracer
    "tracer.fraction": _k(0.0, "", "fraction of inside Na+ labelled (24Na) at start", lo=0.0,
                          hi=1.0),
    # rendering and video (read by render/, ignored by the simulation)
    "render.ms_per_second": _k(1.0, "ms/s", "simulated ms shown per second of window or video",
                               **POS),
    "render.captions": _k(False, "", "show step captions of the pump cycle", bool),
    "render.follow_pump": _k(-1, "", "pump highlighted at start (-1: none)", int, -1),
}

#: Protocol event names and the parameters each accepts (see particles/protocol.py).
PROTOCOL_EVENTS: dict[str, tuple[str, ...]] = {
    "phase": (),
    "set": ("key", "value"),
    "k_free": (),
    "restore_k": (),
    "poison": (),
    "washout": (),
    "ouabain": ("mM",),
    "action_potential": ("count", "interval_ms"),
    "stimulate": ("amplitude_uA_per_cm2", "duration_ms", "count", "interval_ms"),
    "load_tracer": ("fraction",),
    "add_ions": ("species", "side", "count"),
    "remove_ions": ("species", "side", "count"),
}


# ---------------------------------------------------------------- resource limits
# What a scenario (a file from anyone) may ask for; above these it is refused in one line
# with the estimate, before any memory is taken or time spent.

#: Most bytes read from a scenario file (the built-in ones are a few kB).
MAX_SCENARIO_BYTES = 1 * 2**20
#: Most protocol events in one scenario.
MAX_EVENTS = 10_000
#: Most pumps and most channel pores (the kernel's per-step work grows with both).
MAX_PUMPS = 100_000
MAX_PORES = 100_000
#: Memory one recorded row of the results table holds (a dict of ~70 columns), bytes, plus
#: 8 bytes per pump (its cycle count at the row).
ROW_BYTES = 3000
#: Most memory the recorded rows of one run may take, bytes.
MAX_RECORD_BYTES = 4 * 2**30


def _bad(source, key, problem):
    return ScenarioError(source, key, problem)


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        else:
            out[name] = v
    return out


def suggest(name: str, options) -> str:
    """' (did you mean X?)' for the closest of ``options``, or ''."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


#: Keys of earlier versions, and why they are gone (said instead of "unknown key").
REMOVED_KEYS = {k: "removed: the voltage-gated pores now open and close by their own "
                   "Hodgkin-Huxley gating at V (issue 14); use a `stimulate` event"
                for k in ("channels.nav_open_ms", "channels.kv_delay_ms",
                          "channels.kv_open_ms")}


def coerce(source: str, key: str, value: Any) -> Any:
    """Check one value against :data:`SCHEMA` and return it in the schema's type."""
    if key in REMOVED_KEYS:
        raise _bad(source, key, REMOVED_KEYS[key])
    if key not in SCHEMA:
        inner = [k for k in SCHEMA if k.startswith(key + ".")]
        if inner:  # e.g. `time = 3` where [time] is a table
            raise _bad(source, key, f"expected a table of keys such as {inner[0]}, "
                       f"got {value!r}")
        raise _bad(source, key, "unknown key" + suggest(key, SCHEMA))
    spec = SCHEMA[key]
    unit = f" {spec.unit}" if spec.unit else ""
    in_unit = f" (in {spec.unit})" if spec.unit and spec.kind is float else ""
    if spec.kind is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise _bad(source, key, f"expected true or false, got {value!r}")
        return value
    if spec.kind is str:
        if not isinstance(value, str):
            raise _bad(source, key, f"expected text, got {value!r}")
        return value
    if isinstance(value, bool):
        raise _bad(source, key, f"expected a number{in_unit}, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value) if spec.kind is float else int(value)
        except ValueError:
            raise _bad(source, key, f"expected a number{in_unit}, got {value!r}") from None
    if not isinstance(value, (int, float)):
        raise _bad(source, key, f"expected a number{in_unit}, got {value!r}")
    if spec.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise _bad(source, key, f"expected a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise _bad(source, key, f"must be a finite number{unit}, got {value!r}")
    if spec.min is not None:
        if spec.min_open and not value > spec.min:
            raise _bad(source, key, f"must be > {spec.min:g}{unit}, got {value!r}")
        if value < spec.min:
            raise _bad(source, key, f"must be >= {spec.min:g}{unit}, got {value!r}")
    if spec.max is not None and value > spec.max:
        raise _bad(source, key, f"must be <= {spec.max:g}{unit}, got {value!r}")
    return value


def key_unit(key: str) -> str:
    """The unit of a scenario key ("mM", "µm", "pumps", ...): from :data:`SCHEMA`, else from
    the key's suffix (``_mM``, ``_ms``, ``_um``, ``_mV``), else ""."""
    if key in SCHEMA:
        return SCHEMA[key].unit
    m = re.search(r"_(mM|ms|um|mV)$", key)
    return m.group(1).replace("um", "µm") if m else ""


def parse_assignment(text: str, source: str = "--set") -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` (VALUE in TOML syntax, or a bare word) into (key, value)."""
    if "=" not in text:
        raise _bad(source, None, f"expected KEY=VALUE, got {text!r}")
    key, raw = (s.strip() for s in text.split("=", 1))
    if not key or not raw:
        raise _bad(source, key or None, f"expected KEY=VALUE, got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # bare word, e.g. a phase label
    return key, value


@dataclass
class Event:
    """One protocol event: at ``at_ms`` do ``action`` with ``params``; optional phase label."""

    at_ms: float
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    phase: str | None = None


@dataclass
class Scenario:
    """A validated scenario: flat key -> value, plus its protocol.

    Attributes:
        name: built-in name or file stem.
        source: path or ``builtin:NAME`` (used in error messages).
        values: every key of :data:`SCHEMA`, validated, in its unit.
        protocol: timed events, sorted by time.
        initial_phase: label of the phase in force at t = 0.
    """

    name: str
    source: str
    values: dict[str, Any]
    protocol: list[Event]
    initial_phase: str = "control"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def title(self) -> str:
        return self.values["scenario.title"]

    @property
    def description(self) -> str:
        return self.values["scenario.description"]

    def to_dict(self) -> dict:
        """Plain JSON-able dict of everything needed to rebuild this scenario."""
        return {
            "name": self.name,
            "source": self.source,
            "values": dict(self.values),
            "initial_phase": self.initial_phase,
            "protocol": [
                {"at_ms": e.at_ms, "action": e.action, "params": dict(e.params), "phase": e.phase}
                for e in self.protocol
            ],
        }

    def with_overrides(self, overrides: dict[str, Any], source: str = "--set") -> "Scenario":
        """A copy with dotted-key overrides applied and the whole scenario re-validated."""
        values = dict(self.values)
        for key, v in overrides.items():
            values[key] = coerce(source, key, v)
        new = Scenario(self.name, self.source, values, copy.deepcopy(self.protocol),
                       self.initial_phase)
        validate(new)
        return new


def builtin_names() -> list[str]:
    """Names of the scenario files shipped in the ``scenarios`` package."""
    files = resources.files("scenarios")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def _read_source(ref: str | Path) -> tuple[str, str, str]:
    """Return (name, source label, TOML text) for a built-in name or a file path.

    A file must be a regular file (a FIFO would block, ``/dev/zero`` never ends) of at most
    :data:`MAX_SCENARIO_BYTES`."""
    ref_s = str(ref)
    if ref_s in builtin_names():
        text = resources.files("scenarios").joinpath(ref_s + ".toml").read_text("utf-8")
        return ref_s, f"scenarios/{ref_s}.toml", text
    path = Path(ref_s)
    if path.suffix == ".toml" or path.exists():
        return path.stem, ref_s, _read_text(path, ref_s)
    raise _bad(ref_s, None, "unknown scenario" + suggest(ref_s, builtin_names())
               + "; built-in scenarios: " + ", ".join(builtin_names()))


def _read_text(path: Path, label: str) -> str:
    """The UTF-8 text of a regular file of at most :data:`MAX_SCENARIO_BYTES`."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO: no wait
    except FileNotFoundError:
        raise _bad(label, None, "no such scenario file") from None
    except OSError as e:
        raise _bad(label, None, f"cannot read file: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _bad(label, None, "not a regular file (a directory, pipe or device)")
            data = f.read(MAX_SCENARIO_BYTES + 1)
        except OSError as e:
            raise _bad(label, None, f"cannot read file: {e.strerror or e}") from None
    if len(data) > MAX_SCENARIO_BYTES:
        raise _bad(label, None, f"larger than {MAX_SCENARIO_BYTES // 2**20} MiB: not a "
                   "scenario file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(label, None, f"cannot read file: not UTF-8 text ({e.reason} at byte "
                   f"{e.start})") from None


def _parse_protocol(source: str, raw: Any) -> tuple[list[Event], str]:
    if raw is None:
        return [], "control"
    if isinstance(raw, dict):
        initial = raw.get("initial_phase", "control")
        events = raw.get("events", [])
        extra = set(raw) - {"initial_phase", "events"}
        if extra:
            k = sorted(extra)[0]
            raise _bad(source, f"protocol.{k}", "unknown key" + suggest(
                k, ["initial_phase", "events"]))
    else:
        raise _bad(source, "protocol", "expected a table with [[protocol.events]]")
    if not isinstance(initial, str):
        raise _bad(source, "protocol.initial_phase", "expected text")
    if not isinstance(events, list):
        raise _bad(source, "protocol.events", "expected an array of tables")
    if len(events) > MAX_EVENTS:
        raise _bad(source, "protocol.events", f"{len(events):,} events; at most "
                   f"{MAX_EVENTS:,} are allowed")
    out = []
    for i, ev in enumerate(events):
        where = f"protocol.events[{i}]"
        if not isinstance(ev, dict):
            raise _bad(source, where, "expected a table")
        ev = dict(ev)
        at = ev.pop("at_ms", None)
        action = ev.pop("do", None)
        phase = ev.pop("phase", None)
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) \
                or at < 0:
            raise _bad(source, where + ".at_ms", f"expected a time >= 0 ms, got {at!r}")
        if action is None and phase is not None:
            action = "phase"
        if phase is not None and not isinstance(phase, str):
            raise _bad(source, where + ".phase", "expected text")
        ev = check_event(source, where, action, ev)
        out.append(Event(float(at), action, ev, phase))
    out.sort(key=lambda e: e.at_ms)
    return out, initial


def check_event(source: str, where: str, action: Any, params: dict[str, Any]) -> dict:
    """Check one protocol event's name and parameters; return the parameters, values
    coerced (a ``set`` value to its key's type). The one validator of events: scenario files,
    :meth:`Simulation.apply_event` and the window all come through here.

    Args:
        source: file (or ``event``) named in errors.
        where: the event's place, e.g. ``protocol.events[3]`` (``""`` for none).
        action: event name (:data:`PROTOCOL_EVENTS`).
        params: its parameters.

    Raises:
        ScenarioError: unknown event or parameter, a missing one, a bad value.
    """
    pre = f"{where}." if where else ""
    if not isinstance(action, str) or action not in PROTOCOL_EVENTS:
        raise _bad(source, pre + "do", f"unknown event {action!r}" + suggest(
            str(action), PROTOCOL_EVENTS) + "; events: " + ", ".join(PROTOCOL_EVENTS))
    allowed = PROTOCOL_EVENTS[action]
    for k in params:
        if k not in allowed:
            raise _bad(source, f"{pre}{k}", f"not a parameter of {action!r}" + suggest(
                str(k), allowed))
    ev = dict(params)
    if action == "set":
        if "key" not in ev or "value" not in ev:
            raise _bad(source, where or "set", "a 'set' event needs key and value")
        ev["value"] = coerce(source, str(ev["key"]), ev["value"])
    for k in ("mM", "fraction", "interval_ms"):
        if k in ev:
            v = ev[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not \
                    math.isfinite(v) or v < 0:
                raise _bad(source, f"{pre}{k}", f"expected a number >= 0, got {v!r}")
    if "duration_ms" in ev:
        v = ev["duration_ms"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not \
                math.isfinite(v) or v <= 0:
            raise _bad(source, f"{pre}duration_ms", f"expected a number > 0, got {v!r}")
    if "amplitude_uA_per_cm2" in ev:
        ev["amplitude_uA_per_cm2"] = coerce(source, "stimulus.amplitude_uA_per_cm2",
                                            ev["amplitude_uA_per_cm2"])
    if "fraction" in ev and ev["fraction"] > 1:
        raise _bad(source, f"{pre}fraction", f"must be <= 1, got {ev['fraction']!r}")
    if "count" in ev:
        n = ev["count"]
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 2**53:
            raise _bad(source, f"{pre}count", f"expected a whole number from 1 to 2^53, "
                       f"got {n!r}")
        ev["count"] = int(n)
    return ev


def parse(text: str, source: str, name: str) -> Scenario:
    """Parse and validate TOML text into a :class:`Scenario`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _bad(source, None, f"malformed TOML: {e}") from None
    if not doc:
        raise _bad(source, None, "empty scenario file")
    protocol_raw = doc.pop("protocol", None)
    values = {k: v.default for k, v in SCHEMA.items()}
    for key, v in _flatten(doc).items():
        values[key] = coerce(source, key, v)
    events, initial = _parse_protocol(source, protocol_raw)
    sc = Scenario(name, source, values, events, initial)
    validate(sc)
    return sc


def load_scenario(ref: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a built-in scenario by name, or a TOML file by path, and apply overrides.

    Args:
        ref: built-in name (``ionpump scenarios`` lists them) or path to a ``.toml`` file.
        overrides: dotted key -> value, e.g. ``{"pumps.count": 40}``; values may be strings
            as typed on the command line.

    Raises:
        ScenarioError: one-line message naming the file, key and problem.
    """
    if not isinstance(ref, (str, Path)):
        raise _bad("argument", "ref", f"expected a scenario name or a path, got {ref!r}")
    if overrides is not None and not isinstance(overrides, dict):
        raise _bad("argument", "overrides", "expected a dict of dotted key -> value, e.g. "
                   f"{{'pumps.count': 20}}, got {overrides!r}")
    name, source, text = _read_source(ref)
    sc = parse(text, source, name)
    if overrides:
        sc = sc.with_overrides(overrides)
    return sc


def scenario_from_dict(d: dict) -> Scenario:
    """Inverse of :meth:`Scenario.to_dict` (used by checkpoints and Dask workers)."""
    events = [Event(e["at_ms"], e["action"], dict(e["params"]), e["phase"]) for e in d["protocol"]]
    sc = Scenario(d["name"], d["source"], dict(d["values"]), events, d["initial_phase"])
    validate(sc)
    return sc


# ---------------------------------------------------------------- cross-key validation

def validate(sc: Scenario) -> None:
    """Cross-key checks: geometry, time step safety, memory. Raises ScenarioError."""
    _check_counts(sc)
    _check_geometry(sc.values, sc.source)
    _check_time(sc)
    _check_memory(sc.values, sc.source)
    check_ion_budget(sc)
    check_recording(sc.values, sc.values["time.duration_ms"], sc.source, "time.duration_ms")


def _check_counts(sc: Scenario) -> None:
    """Pumps, pores and events within :data:`MAX_PUMPS`, :data:`MAX_PORES`,
    :data:`MAX_EVENTS` (before the channel layout is computed)."""
    v, src = sc.values, sc.source
    if v["pumps.count"] > MAX_PUMPS:
        raise _bad(src, "pumps.count", f"{v['pumps.count']:,} pumps; at most {MAX_PUMPS:,} "
                   "are allowed")
    pores = sum(v[f"channels.{k}_count"] for k in ("na_leak", "k_leak", "nav", "kv"))
    if pores > MAX_PORES:
        raise _bad(src, "channels", f"{pores:,} channel pores; at most {MAX_PORES:,} are "
                   "allowed")
    if len(sc.protocol) > MAX_EVENTS:
        raise _bad(src, "protocol.events", f"{len(sc.protocol):,} events; at most "
                   f"{MAX_EVENTS:,} are allowed")


def ion_budget(sc: Scenario) -> float:
    """Most ions a run of ``sc`` may hold (expected, not rounded): those at start at the
    highest outside concentrations its protocol's ``set`` events ask for when a clamped bath
    fills the outside to them, twice the bath zone's content for the reservoir, and every
    ``add_ions`` event's count."""
    v = dict(sc.values)
    adds = 0
    for e in sc.protocol:
        if e.action == "add_ions":
            adds += e.params["count"]
        key = e.params.get("key") if e.action == "set" else None
        if v["bath.clamped"] and key in {f"ions.{s}.outside_mM" for s in SPECIES}:
            v[key] = max(v[key], e.params["value"])
    h = v["domain.depth_um"]
    zone = v["bath.zone_um"] * v["domain.height_um"] if v["bath.clamped"] else 0.0
    reservoir = sum(2 * mM_to_mean_count(max(v[f"ions.{s}.outside_mM"],
                                             v[f"ions.{s}.inside_mM"], 1.0), zone, h) + 64
                    for s in SPECIES) if zone else 0.0
    return expected_ion_count(v) + reservoir + adds


def check_ion_budget(sc: Scenario, source: str | None = None) -> None:
    """Refuse a scenario whose :func:`ion_budget` exceeds ``ions.max_count``."""
    n, limit = ion_budget(sc), sc.values["ions.max_count"]
    if not n <= limit:
        raise _bad(source or sc.source, "ions.max_count", f"the run may hold {_count(n)} ions "
                   f"(about {_count(n * BYTES_PER_ION / 2**30)} GiB) with its bath, reservoir and "
                   f"protocol's additions; the limit is ions.max_count = {limit:,}")


def recording_bytes(values: dict, duration_ms: float) -> float:
    """Memory the recorded rows of a run of ``duration_ms`` take (bytes, estimated)."""
    rows = duration_ms / max(values["time.sample_ms"], values["time.dt_ms"]) + 2
    return rows * (ROW_BYTES + 8 * values["pumps.count"])


def check_recording(values: dict, duration_ms: float, source: str, key: str) -> None:
    """Refuse a run whose recorded rows would take more than :data:`MAX_RECORD_BYTES` (or
    more than this machine's free memory)."""
    need = recording_bytes(values, duration_ms)
    avail = available_memory_bytes()
    limit = MAX_RECORD_BYTES if avail is None else min(MAX_RECORD_BYTES, avail)
    if not need <= limit:
        rows = duration_ms / values["time.sample_ms"]
        raise _bad(source, key, f"{duration_ms:g} ms sampled every "
                   f"{values['time.sample_ms']:g} ms records {_count(rows)} rows, about "
                   f"{_count(need / 2**30)} GiB in memory; the limit is "
                   f"{limit / 2**30:,.1f} GiB (raise time.sample_ms or shorten the run)")


def _count(x: float) -> str:
    """A large estimate for a message: ``12,345`` below 10^9, ``1.23e+15`` above."""
    return f"{x:,.0f}" if x < 1e9 else f"{x:.3g}"


def _check_geometry(v: dict, src: str) -> None:
    """The membrane lies in the box; pumps, channels and exchange zones fit."""
    W, H = v["domain.width_um"], v["domain.height_um"]
    xm, t = membrane_x(v), v["domain.membrane_thickness_um"]
    if not (t / 2 < xm < W - t / 2):
        raise _bad(src, "domain.membrane_x_um", f"membrane at {xm:g} µm lies outside the box "
                   f"(width {W:g} µm)")
    n_p = v["pumps.count"]
    if n_p > 0 and n_p * v["pumps.face_um"] > H:
        raise _bad(src, "pumps.count", f"{n_p} pumps of face {v['pumps.face_um']:g} µm do not "
                   f"fit on a membrane {H:g} µm long (at most {int(H / v['pumps.face_um'])})")
    try:
        channel_layout(v)
    except ValueError as e:
        raise _bad(src, "channels", f"{e}{_pumps_that_fit(v)}") from None
    if v["bath.clamped"] and v["bath.zone_um"] >= W - xm - t / 2:
        raise _bad(src, "bath.zone_um", "bath exchange zone is wider than the outside "
                   "compartment")
    if v["dialysis.clamped"] and v["dialysis.zone_um"] >= xm - t / 2:
        raise _bad(src, "dialysis.zone_um", "dialysis zone is wider than the inside "
                   "compartment")


def _pumps_that_fit(v: dict) -> str:
    """"; they fit with pumps.count = M" for the most pumps that leave room for the
    scenario's pores, or "" when the pores do not fit even without pumps."""
    for m in range(v["pumps.count"] - 1, -1, -1):
        try:
            channel_layout({**v, "pumps.count": m})
        except ValueError:
            continue
        return f"; they fit with pumps.count = {m}"
    return ""


def _check_time(sc: Scenario) -> None:
    """Sampling, run length and event times fit in 2^53 steps; dt is safe (``dt_limit``)."""
    v, src = sc.values, sc.source
    if v["time.sample_ms"] < v["time.dt_ms"]:
        raise _bad(src, "time.sample_ms", f"sampling interval {v['time.sample_ms']:g} ms is "
                   f"shorter than dt = {v['time.dt_ms']:g} ms")
    for key in ("time.sample_ms", "time.duration_ms"):
        if v[key] / v["time.dt_ms"] > 2**53:
            raise _bad(src, key, f"{v[key]:g} ms is more than 2^53 steps of dt = "
                       f"{v['time.dt_ms']:g} ms")
    for e in sc.protocol:
        if e.at_ms / v["time.dt_ms"] > 2**53:
            raise _bad(src, "protocol", f"event {e.action!r} at {e.at_ms:g} ms is more than "
                       f"2^53 steps of dt = {v['time.dt_ms']:g} ms")
    safe, why = dt_limit(v)
    if v["time.dt_ms"] > safe * (1 + 1e-9):
        raise _bad(src, "time.dt_ms", f"dt = {v['time.dt_ms']:g} ms {why}; the largest safe "
                   f"dt is {_floor3(safe):.3g} ms")


def _check_memory(v: dict, src: str) -> None:
    """The ions at start stay within ``ions.max_count`` and this machine's free memory."""
    nf = expected_ion_count(v)
    if not nf <= v["ions.max_count"]:  # as a float first: an absurd domain overflows int
        raise _bad(src, "domain", f"{nf:,.0f} ions would need about "
                   f"{nf * BYTES_PER_ION / 2**30:,.1f} GiB; the limit is ions.max_count = "
                   f"{v['ions.max_count']:,} (shrink the domain, the depth or the "
                   "concentrations)")
    n = initial_ion_count(v)
    if n > v["ions.max_count"]:
        raise _bad(src, "domain", f"{n:,} ions would need about {n * BYTES_PER_ION / 2**30:.1f} "
                   f"GiB; the limit is ions.max_count = {v['ions.max_count']:,} (shrink the "
                   "domain, the depth or the concentrations)")
    avail = available_memory_bytes()
    if avail is not None and n * BYTES_PER_ION > avail:
        raise _bad(src, "domain", f"{n:,} ions would need about {n * BYTES_PER_ION / 2**30:.1f} "
                   f"GiB but this machine has {avail / 2**30:.1f} GiB available (shrink the "
                   "domain, the depth or the concentrations)")


def _floor3(x: float) -> float:
    """``x`` rounded down to 3 significant figures (a printed limit that is itself safe)."""
    if x <= 0 or not math.isfinite(x):
        return x
    scale = 10 ** (math.floor(math.log10(x)) - 2)
    return math.floor(x / scale * (1 + 1e-12)) * scale
