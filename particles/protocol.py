"""Protocol: timed events that change the simulated world (MODEL.md §3–5).

Events come from the scenario's ``[[protocol.events]]`` tables, from the Python API
(:meth:`Simulation.apply_event`) and from the window's controls; all go through
:meth:`Protocol.apply`, which checks the event and calls the simulation's public writers
(:meth:`~particles.simulation.Simulation.set_value`, ``set_bath``, ``add_ions`` ...). An
event changes only physical conditions (bath, ATP supply, ouabain, labels); nothing here
looks at or shapes the measured efflux.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Event, Scenario, ScenarioError, check_event, check_ion_budget
from .layout import SIDE_BY_NAME, SPECIES_BY_NAME
from .memory import BYTES_PER_ION
from .physics import dt_limit

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

#: Keys a ``set`` event may change during a run (others fix the geometry or the ion count).
SETTABLE_PREFIXES = ("pumps.k", "pumps.km", "pumps.kappa", "pumps.occlusion", "atp.",
                     "ouabain.", "membrane.", "render.", "channels.na_leak_per",
                     "channels.k_leak_per", "channels.nav_per", "channels.kv_per",
                     "channels.voltage_bias", "channels.nav_open", "channels.kv_delay",
                     "channels.kv_open", "channels.current_window",
                     *(f"ions.{name}.outside_mM" for name in SPECIES_BY_NAME))


def check_settable(key: str, source: str) -> None:
    """Raise ScenarioError (naming ``source``) unless ``key`` may change during a run."""
    if not str(key).startswith(SETTABLE_PREFIXES):
        raise ScenarioError(source, f"protocol set {key}", "this key cannot change during a run")


class Protocol:
    """The timeline of one simulation: events sorted by time, fired at step boundaries."""

    def __init__(self, sim: "Simulation", events: list[Event]):
        self.sim = sim
        self.events = list(events)
        self.position = 0  # index of the next event to fire
        for e in self.events:
            self.check(e.action, e.params, sim.scenario.source)
        self.log: list[tuple[float, str, str | None]] = []

    def check(self, action: str, params: dict, source: str) -> dict:
        """Check an event against this simulation (the parameters through
        :func:`~particles.config.check_event`, the one validator of events; then what the
        scenario must provide and the ion budget); return its coerced parameters."""
        sim = self.sim
        params = check_event(source, "", action, params)
        if action == "set":
            check_settable(params.get("key"), source)
            values = {**sim.scenario.values, params["key"]: params["value"]}
            safe, why = dt_limit(values)
            if sim.dt_ms > safe:
                raise ScenarioError(source, f"protocol set {params['key']}",
                                    f"{params['value']!r} {why} at dt = {sim.dt_ms:g} ms "
                                    f"(it would need dt <= {safe:.3g} ms)")
            if params["key"].startswith("ions."):  # a clamped bath fills up to it
                sc = sim.scenario
                check_ion_budget(Scenario(sc.name, sc.source, {**sc.values, params["key"]:
                                          params["value"]}, []), source)
        if action in ("k_free", "restore_k") and not sim.scenario.values["bath.clamped"]:
            raise ScenarioError(source, "bath.clamped",
                                f"the {action!r} event needs a perfused bath (bath.clamped = true)")
        if action == "action_potential":
            v = sim.scenario.values
            if v["channels.nav_count"] + v["channels.kv_count"] == 0:
                raise ScenarioError(source, "channels.nav_count", "the 'action_potential' "
                                    "event needs voltage-gated channels (channels.nav_count, "
                                    "channels.kv_count)")
        if action in ("add_ions", "remove_ions"):
            for k, allowed in (("species", SPECIES_BY_NAME), ("side", SIDE_BY_NAME)):
                if params.get(k) not in allowed:
                    raise ScenarioError(source, f"{action}.{k}", f"expected one of "
                                        f"{', '.join(allowed)}, got {params.get(k)!r}")
            if "count" not in params:
                raise ScenarioError(source, f"{action}.count", "missing: how many ions")
        if action == "add_ions":
            n, limit = len(sim.ions) + params["count"], sim.scenario.values["ions.max_count"]
            if n > limit:
                raise ScenarioError(source, "add_ions.count", f"{n:,} ions would need about "
                                    f"{n * BYTES_PER_ION / 2**30:,.1f} GiB; the limit is "
                                    f"ions.max_count = {limit:,}")
        return params

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
        params = self.check(action, params, "event")
        v = sim.scenario.values
        if action == "set":
            sim.set_value(params["key"], params["value"])
        elif action == "k_free":
            sim.set_bath(sim.bath_mM[0], 0.0)
        elif action == "restore_k":
            sim.set_bath(sim.bath_mM[0], v["ions.k.outside_mM"])
        elif action == "poison":
            sim.set_poisoned(True)
        elif action == "washout":
            sim.set_poisoned(False)
            sim.set_ouabain(0.0)
        elif action == "ouabain":
            sim.set_ouabain(float(params.get("mM", 1e-3)))
        elif action == "load_tracer":
            sim.label_tracer(float(params.get("fraction", 1.0)))
        elif action in ("action_potential", "stimulate"):  # an action potential: the default
            sim.stimulate(params.get("amplitude_uA_per_cm2"), params.get("duration_ms"),
                          int(params.get("count", 1)), float(params.get("interval_ms", 10.0)))
        elif action == "add_ions":
            sim.add_ions(params["species"], params["side"], int(params["count"]))
        elif action == "remove_ions":
            sim.remove_ions(params["species"], params["side"], int(params["count"]))
        elif action != "phase":
            raise ScenarioError("event", action, "unknown event")
        if phase is not None:
            sim.set_phase(phase)
        self.log.append((sim.time_ms, action, phase))

    def restore(self, position: int, log: list) -> None:
        """Continue a restored run: ``position`` events already fired, as ``log`` says."""
        self.position = int(position)
        self.log = [tuple(e) for e in log]
