"""Protocol: timed events that change the simulated world (MODEL.md §3–5).

Events come from the scenario's ``[[protocol.events]]`` tables, from the Python API
(:meth:`Simulation.apply_event`) and from the window's controls; all go through
:meth:`Protocol.apply`. An event changes only physical conditions (bath, ATP supply,
ouabain, labels); nothing here looks at or shapes the measured efflux.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import kernels as kn
from .config import Event, ScenarioError, coerce
from .layout import ENV_AP_COUNT, ENV_AP_INTERVAL, ENV_AP_START, ENV_OUABAIN, ENV_POISONED

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

#: Keys a ``set`` event may change during a run (others fix the geometry or the ion count).
SETTABLE_PREFIXES = ("pumps.k", "pumps.km", "pumps.kappa", "pumps.occlusion", "atp.",
                     "ouabain.", "membrane.", "ions.na.outside_mM", "ions.k.outside_mM",
                     "render.", "channels.na_leak_per", "channels.k_leak_per",
                     "channels.nav_per", "channels.kv_per", "channels.voltage_bias",
                     "channels.nav_open", "channels.kv_delay", "channels.kv_open",
                     "channels.current_window")


class Protocol:
    """The timeline of one simulation: events sorted by time, fired at step boundaries."""

    def __init__(self, sim: "Simulation", events: list[Event]):
        self.sim = sim
        self.events = list(events)
        self.position = 0  # index of the next event to fire
        for e in self.events:
            self._check(e.action, e.params, sim.scenario.source)
        self.log: list[tuple[float, str, str | None]] = []

    def _check(self, action: str, params: dict, source: str) -> None:
        sim = self.sim
        if action == "set" and not str(params.get("key", "")).startswith(SETTABLE_PREFIXES):
            raise ScenarioError(source, f"protocol set {params.get('key')}",
                                "this key cannot change during a run")
        if action in ("k_free", "restore_k") and not sim.scenario.values["bath.clamped"]:
            raise ScenarioError(source, "bath.clamped",
                                f"the {action!r} event needs a perfused bath (bath.clamped = true)")
        if action == "action_potential":
            v = sim.scenario.values
            if v["channels.nav_count"] + v["channels.kv_count"] == 0:
                raise ScenarioError(source, "channels.nav_count", "the 'action_potential' "
                                    "event needs voltage-gated channels (channels.nav_count, "
                                    "channels.kv_count)")
            n = params.get("count", 1)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ScenarioError(source, "action_potential.count",
                                    f"expected a whole number >= 1, got {n!r}")
            iv = params.get("interval_ms", 10.0)
            if isinstance(iv, bool) or not isinstance(iv, (int, float)) or not iv > 0:
                raise ScenarioError(source, "action_potential.interval_ms",
                                    f"expected a time > 0 ms, got {iv!r}")
        if action in ("add_ions", "remove_ions"):
            from .channels import SIDE_CODES, SPECIES_CODES

            for k, allowed in (("species", SPECIES_CODES), ("side", SIDE_CODES)):
                if params.get(k) not in allowed:
                    raise ScenarioError(source, f"{action}.{k}", f"expected one of "
                                        f"{', '.join(allowed)}, got {params.get(k)!r}")
            n = params.get("count")
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ScenarioError(source, f"{action}.count",
                                    f"expected a whole number >= 1, got {n!r}")

    def event_step(self, e: Event) -> int:
        return int(round(e.at_ms / self.sim.dt_ms))

    def next_step(self) -> int:
        """Step index of the next event (a large number when none is left)."""
        if self.position < len(self.events):
            return self.event_step(self.events[self.position])
        return 2**62

    def fire_due(self) -> None:
        """Fire every event whose time has come."""
        while self.position < len(self.events) and \
                self.event_step(self.events[self.position]) <= self.sim.step_index:
            e = self.events[self.position]
            self.position += 1
            self.apply(e.action, e.params, e.phase)

    def apply(self, action: str, params: dict[str, Any], phase: str | None) -> None:
        """Apply one event now; ``phase`` (if given) becomes the current phase label."""
        sim = self.sim
        self._check(action, params, "event")
        v = sim.scenario.values
        env = sim.env
        if action == "set":
            key = params["key"]
            v[key] = coerce("event", key, params["value"])
            sim._update_parameters()
            env[ENV_POISONED] = float(v["atp.poisoned"])
            env[ENV_OUABAIN] = v["ouabain.concentration_mM"]
            if key.startswith("ions."):
                sim.set_bath(v["ions.na.outside_mM"], v["ions.k.outside_mM"])
        elif action == "k_free":
            sim.set_bath(sim.bath_mM[0], 0.0)
        elif action == "restore_k":
            sim.set_bath(sim.bath_mM[0], v["ions.k.outside_mM"])
        elif action == "poison":
            env[ENV_POISONED] = 1.0
        elif action == "washout":
            env[ENV_POISONED] = 0.0
            env[ENV_OUABAIN] = 0.0
        elif action == "ouabain":
            env[ENV_OUABAIN] = float(params.get("mM", 1e-3))
        elif action == "load_tracer":
            fraction = float(params.get("fraction", 1.0))
            i = sim.ions
            kn._label_tracer(sim.seed, sim.step_index, fraction, i.species, i.side, i.tracer)
        elif action == "action_potential":
            # A train of `count` action potentials from now, `interval_ms` apart: the gates
            # open and close on this schedule (kernels._gates_open); the ions that pass and
            # the potential they move are the agents' own.
            env[ENV_AP_START] = sim.time_ms
            env[ENV_AP_COUNT] = float(params.get("count", 1))
            env[ENV_AP_INTERVAL] = float(params.get("interval_ms", 10.0))
        elif action in ("add_ions", "remove_ions"):
            from .channels import add_ions, remove_ions

            fn = add_ions if action == "add_ions" else remove_ions
            fn(sim, params["species"], params["side"], int(params["count"]))
        elif action != "phase":
            raise ScenarioError("event", action, "unknown event")
        if phase is not None:
            sim.phase = phase
        self.log.append((sim.time_ms, action, phase))
