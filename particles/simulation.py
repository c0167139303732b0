"""The :class:`Simulation`: owns state, clock, seed, protocol and observers; the one loop.

The simulation is the only writer of its state. Protocol events, manual ion exchanges and
checkpoint restores call its public methods (``set_value``, ``set_bath``, ``set_poisoned``,
``set_ouabain``, ``stimulate``, ``label_tracer``, ``add_ions``, ``remove_ions``,
``set_phase``, ``restore``); observers and the renderer read it (``counts()``,
``gates_open()``, ``poisoned``, ``ouabain_mM`` ...) and never write.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from . import kernels as kn
from . import population, start
from .channels import Channels
from .config import Scenario, ScenarioError, check_recording, load_scenario
from .physics import count_to_mM, membrane_x, mM_to_count, mM_to_mean_count
from .energetics import cycle_rates, dg_atp, dg_cycle, reversal_mV
from .layout import (C_BATH_ADDED, C_BATH_REMOVED, C_CHANNEL, C_CYCLES_BWD, C_CYCLES_FWD,
                     ENV_ADP, ENV_ATP, ENV_CONC, ENV_I_STIM, ENV_J, ENV_JCH, ENV_JPOP_CH, ENV_JPOP_PUMP,
                     ENV_SPIKES, ENV_STIM_AMP, ENV_STIM_COUNT, ENV_STIM_DUR, ENV_STIM_INTERVAL,
                     ENV_STIM_START, GROUP_GATED, INWARD, NA, OUTWARD, ChannelType, chp_column,
                     ENV_OUABAIN, ENV_PI, ENV_POISONED, ENV_V, N_COUNTERS, N_TARGET, R_DEPHOS,
                     R_DEPHOS_B, R_K_OFF_OUT, R_K_REL_IN, R_NA_OFF_IN, R_NAREL, R_OCC, R_OCC_B,
                     PAR_J_PER_CHARGE, R_PHOS, R_PHOS_B, R_RET, R_RET_B, SIDE_BY_NAME,
                     SPECIES_BY_NAME, TARGET_BATH, TARGET_DIALYSIS, PumpState, Side, Species)
from .observe import Recorder
from .parameters import initial_environment, kernel_parameters
from .protocol import Protocol
from .state import Geometry, Ions, Pumps, Snapshot


class Simulation:
    """An agent-based simulation of Na+ and K+ ions and Na+/K+ pumps.

    Args:
        scenario: a :class:`~particles.config.Scenario`, or a built-in name / TOML path.
        seed: integer ≥ 0; the same seed gives identical results on any thread count.

    Attributes:
        time_ms: simulated time (ms).
        step_index: completed steps.
        ions: :class:`~particles.state.Ions` (positions in µm).
        pumps: :class:`~particles.state.Pumps`.
        channels: :class:`~particles.channels.Channels`.
        geometry: :class:`~particles.state.Geometry`.
        phase: label of the protocol phase in force.
        par, env, bath_target, counters: the kernel's vectors (slot layouts in
            :mod:`particles.layout`); read them, change them through the methods.
    """

    def __init__(self, scenario: Scenario | str, seed: int = 0):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or \
                not 0 <= seed < 2**63:
            raise ScenarioError("argument", "seed", f"expected a whole number from 0 to "
                                f"2^63 - 1, got {seed!r}")
        self.scenario = scenario
        # The values before any protocol `set` event changes them (checkpoints keep both).
        self.initial_values = dict(scenario.values)
        self.seed = int(seed)
        v = scenario.values
        self.dt_ms = v["time.dt_ms"]
        self.geometry = Geometry(v["domain.width_um"], v["domain.height_um"],
                                 v["domain.depth_um"], membrane_x(v),
                                 v["domain.membrane_thickness_um"], v["pumps.face_um"])
        self.step_index = 0
        self.phase = scenario.initial_phase
        self.ions = self._place_ions(v)
        self._scratch = kn.scratch(len(self.ions))
        self.pumps = Pumps.evenly_spaced(v["pumps.count"], self.geometry.height_um)
        self.channels = Channels.from_values(v, self.seed)
        self.counters = np.zeros(N_COUNTERS, np.int64)
        self.env = initial_environment(v)
        self.bath_target = np.zeros(N_TARGET)  # mean ions per species in the exchange zones
        self._update_parameters()
        population.fill(self.env, self.par, v, len(self.pumps))
        if v["pumps.start_steady"]:
            start.fill_steady(self.pumps, self.ions, self.par, self.env, self.seed,
                              scenario.source)
        self.set_bath(v["ions.na.outside_mM"], v["ions.k.outside_mM"])
        self._warm_up(v["time.warmup_ms"])
        self.recorder = Recorder(self)
        self.protocol = Protocol(self, scenario.protocol)
        if v["tracer.fraction"] > 0:
            self.label_tracer(v["tracer.fraction"])
        self.protocol.fire_due()
        self.recorder.record()

    # ------------------------------------------------------------------ construction

    def _zone_area_um2(self) -> float:
        return self.scenario.values["bath.zone_um"] * self.geometry.height_um

    def _place_ions(self, v: dict) -> Ions:
        """Ions placed uniformly in each compartment, and the bath reservoir if clamped."""
        g = self.geometry
        h = g.depth_um
        rng = np.random.default_rng([self.seed, 0x10F])
        groups = []  # (species, side, count)
        for sp in Species:
            name = sp.name.lower()
            groups.append((sp, Side.INSIDE, mM_to_count(v[f"ions.{name}.inside_mM"],
                                                        g.area_in_um2, h)))
            groups.append((sp, Side.OUTSIDE, mM_to_count(v[f"ions.{name}.outside_mM"],
                                                         g.area_out_um2, h)))
        for clamp, where in (("bath", "outside"), ("dialysis", "inside")):
            if not v[f"{clamp}.clamped"]:
                continue
            zone = v[f"{clamp}.zone_um"] * g.height_um
            for sp in Species:
                key = f"ions.{sp.name.lower()}.{where}_mM"
                top = max([v[key]] + [e.params["value"] for e in self.scenario.protocol
                                      if e.action == "set" and e.params.get("key") == key])
                groups.append((sp, Side.RESERVOIR, 2 * mM_to_count(top, zone, h) + 16))
        ions = Ions.empty(sum(c for _, _, c in groups))
        i = 0
        for sp, side, c in groups:
            sl = slice(i, i + c)
            ions.species[sl] = sp
            ions.side[sl] = side
            lo, hi = (0.0, g.x_in_face) if side == Side.INSIDE else (g.x_out_face, g.width_um)
            ions.x[sl] = rng.uniform(lo, hi, c)
            ions.y[sl] = rng.uniform(0.0, g.height_um, c)
            i += c
        return ions

    def _update_parameters(self) -> None:
        """Derive the channels' passage probabilities and the kernel's parameters from the
        scenario's current values."""
        v = self.scenario.values
        self.channels.update(v)
        self.par = kernel_parameters(v, self.geometry, len(self.pumps), self.channels.half_um)

    def _grow_reservoir(self) -> None:
        """Append reservoir ions of each species (the bath is an endless supply)."""
        zone = self._zone_area_um2()
        v = self.scenario.values
        extra = [2 * mM_to_count(max(c, v[f"ions.{sp.name.lower()}.inside_mM"], 1.0), zone,
                                 self.geometry.depth_um) + 64
                 for c, sp in zip(self.bath_mM, Species)]
        add = Ions.empty(sum(extra))
        add.species[:] = np.repeat(np.array(list(Species), np.int8), extra)
        self._append_reservoir(add)

    def _append_reservoir(self, add: Ions) -> None:
        """Append ``add`` (species set) to the ions as reservoir ions; resize the scratch."""
        add.side[:] = Side.RESERVOIR
        add.x[:] = self.geometry.width_um
        self.ions = self.ions.extended(add)
        self._scratch = kn.scratch(len(self.ions))

    def _warm_up(self, ms: float) -> None:
        """Run ``ms`` simulated ms before t = 0 (``time.warmup_ms``) so that V, the
        concentrations and the pumps settle: on a seed of its own (:func:`warmup_seed`, so the
        run's random numbers are not those of the warm-up), with no protocol events and
        nothing recorded; then the clock, the counters and the pumps' cycle counts start
        from 0."""
        n = int(round(ms / self.dt_ms))
        if n == 0:
            return
        seed = self.seed
        self.seed = warmup_seed(seed)
        try:
            self._advance(n)
        finally:
            self.seed = seed
        self.step_index = 0
        self.counters[:] = 0
        self.pumps.cycles[:] = 0
        self.env[ENV_SPIKES] = 0.0

    # ------------------------------------------------------------------ the loop

    @property
    def time_ms(self) -> float:
        """Simulated time (ms): ``step_index × dt``."""
        return self.step_index * self.dt_ms

    @property
    def atp_mM(self) -> float:
        """ATP inside now (mM)."""
        return float(self.env[ENV_ATP])

    @property
    def v_mV(self) -> float:
        """Membrane potential now, inside minus outside (mV)."""
        return float(self.env[ENV_V])

    @property
    def i_pump_uA_cm2(self) -> float:
        """Pump current density of the membrane, outward (µA/cm²): the patch's, averaged
        over ``membrane.current_window_ms``, plus the rest of the membrane's now."""
        return float(self.env[ENV_J] + self.env[ENV_JPOP_PUMP])

    def pump_current_of_cycles(self, cycles_per_ms: float) -> float:
        """Pump current density of the membrane (µA/cm², outward) when the patch's pumps
        complete ``cycles_per_ms`` net cycles per ms (each carries one charge out: 3 Na+
        out, 2 K+ in), over the area the patch stands for, plus the rest of the membrane's
        pump current now (0 without a cell area). Counted by whole cycles it has the sign
        of the net cycling, which the patch's charge over a millisecond need not have."""
        per_charge_ms = self.par[PAR_J_PER_CHARGE] * self.dt_ms  # µA/cm² per charge/ms
        return float(cycles_per_ms * per_charge_ms + self.env[ENV_JPOP_PUMP])

    @property
    def i_channel_uA_cm2(self) -> float:
        """Channel current density of the membrane, outward (µA/cm²): the patch's pores,
        averaged over ``channels.current_window_ms``, plus the rest of the membrane's now."""
        return float(self.env[ENV_JCH] + self.env[ENV_JPOP_CH])

    def _advance(self, nsteps: int) -> None:
        """Run the kernel for ``nsteps`` steps (no events, no samples in between)."""
        while nsteps > 0:
            done = kn.advance(nsteps, self.step_index, self.seed, self.ions.kernel_arrays(),
                              self.pumps.kernel_arrays(), self.channels.kernel_arrays(),
                              self.par, self.env, self.bath_target, self.counters,
                              self._scratch)
            self.step_index += abs(done)
            nsteps -= abs(done)
            if done < 0:
                self._grow_reservoir()

    def step(self, n: int = 1) -> None:
        """Advance ``n`` steps, firing protocol events and observers on time."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= 2**53:
            raise ScenarioError("argument", "n", f"expected a whole number of steps from 0 "
                                f"to 2^53, got {n!r}")
        self.run_steps(int(n))

    def run_steps(self, n: int, progress: Callable[[int], Any] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> None:
        """Advance ``n`` steps. Between kernel calls: protocol events due, then samples.

        ``progress(k)`` is called with the number of steps just done; ``should_stop()``
        is polled between calls and ends the run early (at a step boundary) when True.
        """
        target = self.step_index + n
        while self.step_index < target:
            nxt = min(target, self.recorder.next_step(), self.protocol.next_step())
            k = max(1, nxt - self.step_index)
            k = min(k, 512, target - self.step_index)  # keep calls short for stop polling
            self._advance(k)
            self.protocol.fire_due()
            self.recorder.maybe_record()
            if progress is not None:
                progress(k)
            if should_stop is not None and should_stop():
                break

    def run(self, duration_ms: float | None = None, progress: bool | Callable = False,
            should_stop: Callable[[], bool] | None = None) -> "Simulation":
        """Advance by ``duration_ms`` (default: the scenario's ``time.duration_ms``).

        Args:
            duration_ms: simulated time to add (ms), rounded to whole steps.
            progress: True for a tqdm bar on a terminal, or a callable(steps_done).
        """
        if duration_ms is None:
            duration_ms = self.scenario.values["time.duration_ms"]
        if isinstance(duration_ms, bool) or not isinstance(duration_ms, (int, float)) or \
                not (math.isfinite(duration_ms) and 0 <= duration_ms / self.dt_ms <= 2**53):
            raise ScenarioError("argument", "duration_ms", f"expected a time >= 0 ms of at "
                                f"most 2^53 steps, got {duration_ms!r}")
        check_recording(self.scenario.values, self.time_ms + duration_ms, "argument",
                        "duration_ms")
        n = int(round(duration_ms / self.dt_ms))
        if progress is True:
            from tqdm.auto import tqdm

            with tqdm(total=n, unit="step", unit_scale=True, desc=self.scenario.name,
                      leave=False) as bar:
                self.run_steps(n, bar.update, should_stop)
        else:
            self.run_steps(n, progress or None, should_stop)
        return self

    # ------------------------------------------------------------------ writers

    def apply_event(self, action: str, **params) -> None:
        """Apply a protocol event now (same names as in scenario files)."""
        self.protocol.apply(action, params, None)

    def set_value(self, key: str, value: Any) -> None:
        """Change the scenario value ``key`` now (a protocol ``set``): the kernel parameters
        are derived again, and poison and ouabain follow the values ``atp.poisoned`` and
        ``ouabain.concentration_mM``; under voltage clamp V is ``membrane.clamp_mV`` at once;
        changing ``ions.*`` re-targets the bath. ``atp.initial_mM``, ``atp.adp_mM`` and
        ``atp.pi_mM`` are set points: metabolism moves the pools towards them.

        Raises:
            ScenarioError: the key cannot change during a run, or the value is invalid.
        """
        value = self.protocol.check("set", {"key": key, "value": value}, "event")["value"]
        v = self.scenario.values
        v[key] = value
        self._update_parameters()
        self.set_poisoned(v["atp.poisoned"])
        self.set_ouabain(v["ouabain.concentration_mM"])
        if v["membrane.clamp"]:  # the clamp holds V from now
            self.env[ENV_V] = v["membrane.clamp_mV"]
        if key.startswith("ions."):
            self.set_bath(v["ions.na.outside_mM"], v["ions.k.outside_mM"])

    def set_bath(self, na_mM: float, k_mM: float) -> None:
        """Set the concentrations (mM) the perfused bath holds in its exchange zone (and the
        dialysis zone holds the scenario's inside concentrations)."""
        v = self.scenario.values
        self.bath_mM = (float(na_mM), float(k_mM))
        zone, h = self._zone_area_um2(), self.geometry.depth_um
        dial = v["dialysis.zone_um"] * self.geometry.height_um
        for sp, c_bath in zip(Species, self.bath_mM):
            c_dial = v[f"ions.{sp.name.lower()}.inside_mM"]
            self.bath_target[TARGET_BATH + sp] = mM_to_mean_count(c_bath, zone, h)
            self.bath_target[TARGET_DIALYSIS + sp] = mM_to_mean_count(c_dial, dial, h)
            if v["bath.clamped"]:  # the bath is the cell's outside (kernels.population)
                self.env[ENV_CONC + 2 * sp + Side.OUTSIDE] = c_bath

    def set_poisoned(self, poisoned: bool) -> None:
        """Start (True) or stop (False) a metabolic poison: ATP production stops while on.
        The scenario value ``atp.poisoned`` follows, so a later ``set`` keeps it."""
        self.scenario.values["atp.poisoned"] = bool(poisoned)
        self.env[ENV_POISONED] = float(poisoned)

    def set_ouabain(self, mM: float) -> None:
        """Set the ouabain concentration in the bath (mM; 0 washes it out). The scenario value
        ``ouabain.concentration_mM`` follows, so a later ``set`` keeps it."""
        self.scenario.values["ouabain.concentration_mM"] = float(mM)
        self.env[ENV_OUABAIN] = float(mM)

    def stimulate(self, amplitude_uA_per_cm2: float | None = None,
                  duration_ms: float | None = None, count: int = 1,
                  interval_ms: float = 10.0) -> None:
        """Inject current from now: ``count`` pulses of ``amplitude_uA_per_cm2`` (µA/cm²,
        positive depolarises; default ``stimulus.amplitude_uA_per_cm2``) lasting
        ``duration_ms`` (default ``stimulus.duration_ms``), one every ``interval_ms``. A
        train in force is replaced. Whether the membrane fires is up to its channels."""
        v = self.scenario.values
        amp = v["stimulus.amplitude_uA_per_cm2"] if amplitude_uA_per_cm2 is None \
            else float(amplitude_uA_per_cm2)
        dur = v["stimulus.duration_ms"] if duration_ms is None else float(duration_ms)
        if not (np.isfinite(amp) and np.isfinite(dur) and dur > 0 and count >= 1
                and interval_ms >= 0):
            raise ScenarioError("argument", "stimulate", f"expected a finite amplitude, a "
                                f"duration > 0, count >= 1 and interval >= 0, got {amp!r}, "
                                f"{dur!r}, {count!r}, {interval_ms!r}")
        self.env[ENV_STIM_START] = self.time_ms
        self.env[ENV_STIM_COUNT] = float(count)
        self.env[ENV_STIM_INTERVAL] = float(interval_ms)
        self.env[ENV_STIM_AMP] = amp
        self.env[ENV_STIM_DUR] = dur

    def label_tracer(self, fraction: float) -> int:
        """Label each Na+ inside (free or bound) with probability ``fraction`` (²⁴Na);
        returns the number labelled."""
        return kn.label_tracer(self.seed, self.step_index, fraction, self.ions.kernel_arrays())

    def set_phase(self, label: str) -> None:
        """Name the protocol phase in force from now (a label only: no physics reads it)."""
        self.phase = label

    def add_ions(self, species: str | int, side: str | int, count: int) -> int:
        """Bring ``count`` free ions of ``species`` ("na", "k" or a Species code) from the
        outside world into ``side`` ("inside", "outside" or a Side code).

        The ions come from the reservoir (grown when short) and are placed uniformly at
        random in the compartment (random numbers from (seed, step), so runs stay
        reproducible). They are counted as added in ``bath_<species>_added``: a manual
        addition is an exchange with the outside world, so ``free + bound − added +
        removed`` stays constant. Returns the count."""
        s, where = _code(species, SPECIES_BY_NAME), _code(side, SIDE_BY_NAME)
        i, g = self.ions, self.geometry
        idx = np.nonzero((i.side == Side.RESERVOIR) & (i.species == s))[0]
        if len(idx) < count:
            add = Ions.empty(int(count) - len(idx))
            add.species[:] = s
            self._append_reservoir(add)
            i = self.ions
            idx = np.nonzero((i.side == Side.RESERVOIR) & (i.species == s))[0]
        idx = idx[:count]
        rng = np.random.default_rng([self.seed, self.step_index, 0xADD, s, where])
        lo, hi = (0.0, g.x_in_face) if where == Side.INSIDE else (g.x_out_face, g.width_um)
        i.x[idx] = rng.uniform(lo, hi, count)
        i.y[idx] = rng.uniform(0.0, g.height_um, count)
        i.side[idx] = where
        i.bound[idx] = False
        i.tracer[idx] = False
        self.counters[C_BATH_ADDED + s] += count
        return count

    def remove_ions(self, species: str | int, side: str | int, count: int) -> int:
        """Take up to ``count`` free ions of ``species`` out of ``side`` (chosen at random,
        reproducibly) into the reservoir, counted in ``bath_<species>_removed``. Returns the
        number removed (fewer when fewer are there)."""
        s, where = _code(species, SPECIES_BY_NAME), _code(side, SIDE_BY_NAME)
        i = self.ions
        idx = np.nonzero((i.side == where) & (i.species == s) & ~i.bound)[0]
        rng = np.random.default_rng([self.seed, self.step_index, 0xDE1, s, where])
        k = min(count, len(idx))
        pick = np.sort(rng.choice(idx, size=k, replace=False)) if k else idx[:0]
        i.side[pick] = Side.RESERVOIR
        i.tracer[pick] = False
        self.counters[C_BATH_REMOVED + s] += k
        return k

    # ------------------------------------------------------------------ checkpoints

    def snapshot(self) -> Snapshot:
        """The complete state now (arrays shared, not copied: save it before stepping)."""
        rec = self.recorder
        return Snapshot(dict(self.scenario.values), dict(self.initial_values),
                        self.step_index, self.phase, self.bath_mM, self.ions, self.pumps,
                        self.counters, self.env, self.bath_target, self.protocol.position,
                        list(self.protocol.log), list(rec.rows), rec.pump_cycles(),
                        rec.last_step, self.channels.gate)

    def restore(self, snap: Snapshot) -> None:
        """Continue from ``snap`` (a :meth:`snapshot` of a simulation of the same scenario
        and seed, e.g. read from a checkpoint): the run goes on bit for bit. The snapshot's
        arrays are taken over, not copied."""
        v = self.scenario.values
        v.clear()
        v.update(snap.values)
        self.initial_values = dict(snap.initial_values)
        self._update_parameters()
        self.step_index = int(snap.step_index)
        self.phase = snap.phase
        self.ions = snap.ions
        self._scratch = kn.scratch(len(self.ions))
        self.pumps = snap.pumps
        self.counters[:] = snap.counters
        self.env[:] = snap.env
        self.bath_target[:] = snap.bath_target
        self.channels.gate[:] = snap.gate
        self.bath_mM = tuple(float(c) for c in snap.bath_mM)
        self.protocol.restore(snap.protocol_position, snap.protocol_log)
        self.recorder.restore(snap.rows, snap.cycles_history, snap.last_step)

    def frozen(self) -> "Simulation":
        """A read-only copy of the simulation as it is now, to draw from while this one
        steps on (the window and ``record`` do, :mod:`render.pipeline`): the same object with
        its own copies of everything a step changes (ions, pumps, pore gates, the kernel's
        vectors, the values, the list of recorded rows). Costs a copy of the ion arrays (~20
        bytes per ion); never step it."""
        view = copy.copy(self)
        view.ions = Ions(**{k: a.copy() for k, a in self.ions.arrays().items()})
        view.pumps = Pumps(**{k: a.copy() for k, a in self.pumps.arrays().items()})
        view.channels = copy.deepcopy(self.channels)
        view.env, view.counters = self.env.copy(), self.counters.copy()
        view.bath_target = self.bath_target.copy()
        view.scenario = replace(self.scenario, values=dict(self.scenario.values))
        rec = view.recorder = copy.copy(self.recorder)
        # rows and the cycle counts at each row are never changed once recorded: new lists
        # of the same items (O(rows) pointers, not copies of each)
        rec.sim, rec.rows, rec._cycles = view, list(rec.rows), list(rec._cycles)
        rec._buf = rec._buf.copy()  # its counting scratch
        return view

    # ------------------------------------------------------------------ readouts

    @property
    def poisoned(self) -> bool:
        """True while a metabolic poison is in force."""
        return bool(self.env[ENV_POISONED] > 0)

    @property
    def ouabain_mM(self) -> float:
        """Ouabain concentration in the bath (mM), 0 if none."""
        return float(self.env[ENV_OUABAIN])

    def gates_open(self) -> tuple[bool, bool]:
        """(any voltage-gated Na+ pore conducting, any voltage-gated K+ pore conducting)
        now."""
        on = self.channels.conducting()
        t = self.channels.type
        return bool(on[t == ChannelType.NAV].any()), bool(on[t == ChannelType.KV].any())

    @property
    def spikes(self) -> int:
        """Spikes so far: upward crossings of 0 mV."""
        return int(self.env[ENV_SPIKES])

    @property
    def stimulus_uA_cm2(self) -> float:
        """Stimulus current injected now (µA/cm², positive depolarises)."""
        return float(self.env[ENV_I_STIM])

    def currents_uA_cm2(self) -> dict[str, float]:
        """The whole membrane's current densities now (µA/cm², outward positive; the
        stimulus as injected, positive depolarising): ``pump``, ``channels`` (pores, the
        patch's averaged plus the rest of the membrane's), ``leak`` (g_L·(V − E_L)),
        ``stimulus``."""
        e, v = self.env, self.scenario.values
        return {"pump": self.i_pump_uA_cm2, "channels": self.i_channel_uA_cm2,
                "leak": float(v["membrane.g_leak_mS_per_cm2"]
                              * (e[ENV_V] - v["membrane.E_leak_mV"])),
                "stimulus": float(e[ENV_I_STIM])}

    def na_per_spike(self) -> float:
        """Na+ ions that entered through the patch's Nav pores per spike (net, mean over
        the spikes so far; nan before the first)."""
        if self.spikes == 0:
            return float("nan")
        c = self.counters
        net = c[C_CHANNEL + chp_column(GROUP_GATED, NA, INWARD)] - \
            c[C_CHANNEL + chp_column(GROUP_GATED, NA, OUTWARD)]
        return float(net) / self.spikes

    def memory_bytes(self) -> int:
        """Bytes held by the state and scratch arrays (ions, pumps, channels, proposals)."""
        arrays = [*self.ions.arrays().values(), *self.pumps.arrays().values(),
                  *self.channels.kernel_arrays(), *self._scratch, self.par, self.env,
                  self.bath_target, self.counters]
        return int(sum(a.nbytes for a in arrays))

    def counts(self) -> dict[str, Any]:
        """The current row of the results table (see :mod:`particles.observe`)."""
        return self.recorder.row()

    def timeseries(self):
        """The recorded results table (pandas DataFrame, one row per sample)."""
        return self.recorder.table()

    def pump_cycles_history(self) -> np.ndarray:
        """Completed cycles per pump at each sample, shape ``(n_samples, n_pumps)`` int64."""
        return self.recorder.pump_cycles()

    def pump_rates(self) -> dict[str, float]:
        """First-order rates now in force (1/ms), with ATP, ADP, Pi and V applied; backward
        steps end in ``_back``."""
        r = kn.pump_rates(self.par, self.env)
        return {"phosphorylation": float(r[R_PHOS]), "occlusion": float(r[R_OCC]),
                "na_release": float(r[R_NAREL]), "dephosphorylation": float(r[R_DEPHOS]),
                "return": float(r[R_RET]), "phosphorylation_back": float(r[R_PHOS_B]),
                "occlusion_back": float(r[R_OCC_B]),
                "dephosphorylation_back": float(r[R_DEPHOS_B]), "return_back": float(r[R_RET_B]),
                "na_unbinding_inside": float(r[R_NA_OFF_IN]),
                "k_release_inside": float(r[R_K_REL_IN]),
                "k_unbinding_outside": float(r[R_K_OFF_OUT])}

    def cycle_rates(self, **conc: float) -> list[tuple[str, float, float]]:
        """The 14 steps of the reversible cycle with their mean-field rates now (1/ms):
        ``[(name, forward, backward)]`` (:func:`particles.energetics.cycle_rates`).

        Binding steps use the free concentrations now (mM), or those given as keywords
        ``na_in``, ``na_out``, ``k_in``, ``k_out``."""
        c = {"na_in": self.concentration_mM(Species.NA, Side.INSIDE),
             "na_out": self.concentration_mM(Species.NA, Side.OUTSIDE),
             "k_in": self.concentration_mM(Species.K, Side.INSIDE),
             "k_out": self.concentration_mM(Species.K, Side.OUTSIDE), **conc}
        return cycle_rates(self.par, self.env, kn.pump_rates(self.par, self.env), **c)

    def cycle_steps(self) -> list[tuple[str, float]]:
        """Every step of one forward cycle with its forward mean-field rate now (1/ms), in
        order (:meth:`cycle_rates` without the backward rates). Where the backward rates are
        negligible, the long-time Fano factor of the cycle count is
        ``Σ 1/k² / (Σ 1/k)²`` (MODEL.md §7; :func:`particles.stats.renewal_fano`)."""
        return [(name, f) for name, f, _ in self.cycle_rates()]

    # ------------------------------------------------------------------ energetics

    @property
    def adp_mM(self) -> float:
        """Free ADP inside now (mM)."""
        return float(self.env[ENV_ADP])

    @property
    def pi_mM(self) -> float:
        """Inorganic phosphate inside now (mM)."""
        return float(self.env[ENV_PI])

    @property
    def cycles_forward(self) -> int:
        """Forward cycles so far, all pumps (cumulative)."""
        return int(self.counters[C_CYCLES_FWD])

    @property
    def cycles_backward(self) -> int:
        """Backward cycles so far, all pumps (cumulative); net = forward − backward."""
        return int(self.counters[C_CYCLES_BWD])

    def _energetics_args(self) -> tuple:
        v = self.scenario.values
        return (self.concentration_mM(Species.NA, Side.INSIDE),
                self.concentration_mM(Species.NA, Side.OUTSIDE),
                self.concentration_mM(Species.K, Side.INSIDE),
                self.concentration_mM(Species.K, Side.OUTSIDE),
                v["atp.dg0_kJ_per_mol"], v["membrane.temperature_C"])

    @property
    def dg_atp_kJ_mol(self) -> float:
        """Free energy of ATP hydrolysis now (kJ/mol): ΔG0′ + RT ln([ADP][Pi]/[ATP])."""
        v = self.scenario.values
        return dg_atp(self.atp_mM, self.adp_mM, self.pi_mM, v["atp.dg0_kJ_per_mol"],
                      v["membrane.temperature_C"])

    @property
    def dg_cycle_kJ_mol(self) -> float:
        """Free energy of one forward cycle now (kJ/mol; negative: forward is downhill),
        with the free concentrations and V now."""
        na_i, na_o, k_i, k_o, dg0, temp = self._energetics_args()
        return dg_cycle(self.atp_mM, self.adp_mM, self.pi_mM, na_i, na_o, k_i, k_o,
                        self.v_mV, dg0, temp)

    @property
    def pump_reversal_mV(self) -> float:
        """The potential (mV) at which the cycle's free energy is zero now: the pumps run
        forward above it, backward below it."""
        na_i, na_o, k_i, k_o, dg0, temp = self._energetics_args()
        return reversal_mV(self.atp_mM, self.adp_mM, self.pi_mM, na_i, na_o, k_i, k_o, dg0,
                           temp)

    def concentration_mM(self, species: int, side: int, count: float | None = None) -> float:
        """Free concentration (mM) of ``species`` on ``side`` (or of ``count`` ions there)."""
        g = self.geometry
        if count is None:
            i = self.ions
            count = int(np.count_nonzero((i.species == species) & (i.side == side) & ~i.bound))
        area = g.area_in_um2 if side == Side.INSIDE else g.area_out_um2
        return count_to_mM(count, area, g.depth_um)

    def summary(self) -> dict[str, Any]:
        """Headline figures of the run so far (see :func:`particles.observe.summarize`)."""
        from .observe import summarize

        return summarize(self)

    def __repr__(self) -> str:
        return (f"Simulation({self.scenario.name!r}, seed={self.seed}, t={self.time_ms:g} ms, "
                f"{len(self.ions)} ions, {len(self.pumps)} pumps)")

    # ------------------------------------------------------------------ notebooks

    def _repr_html_(self) -> str:
        """Jupyter's rich display: title, time, ions in and out, V, ATP and pump states
        (:func:`particles.display.html_table`)."""
        from .display import html_table

        return html_table(self)

    def show(self, size: tuple[int, int] = (1280, 720), captions: bool = True):
        """The current frame as the window draws it, a PNG a notebook shows inline
        (:class:`particles.display.PNGImage`: ``.data``, ``.size``, ``.save(path)``).
        Does not advance the simulation; needs the renderer (pygame-ce)."""
        from .display import still

        return still(self, size, captions)

    def to_video(self, path=None, seconds: float = 5.0, fps: int = 30,
                 size: tuple[int, int] = (960, 540), captions: bool = True,
                 progress: bool = True):
        """Film the simulation from now on for ``seconds`` of video at ``fps``, advancing it
        by ``seconds × render.ms_per_second`` simulated ms (``render.video.record``).

        Args:
            path: ``.mp4`` or ``.gif`` file to write (replaced if it exists), or None for a
                video a notebook plays inline (:class:`particles.display.InlineVideo`, MP4).
            seconds: video length (s), > 0 and at most 3600; ``round(seconds × fps)`` frames.
            fps: frames per second, 1 to 120.
            size: (W, H) pixels; both even for MP4.
            captions: burn in the captions and the title card.
            progress: a progress bar of frames (tqdm.auto: a widget in a notebook).

        Returns:
            The path written, or the inline video.
        """
        from .display import film

        return film(self, path, seconds, fps, size, captions, progress)

    def plot(self):
        """The standard run figure of the results so far (concentrations, V, cycles, pump
        states; :func:`particles.plotting.plot_run`): a matplotlib Figure."""
        from .display import run_figure

        return run_figure(self)


def warmup_seed(seed: int) -> int:
    """The seed of the warm-up before t = 0 of a run of ``seed`` (a fixed mixing of it,
    0 to 2^63 - 1)."""
    return (seed * 0x9E3779B97F4A7C15 + 0x57A4) % 2**63


def _code(value: str | int, by_name: dict) -> int:
    """The code of ``value``, given by its protocol name (a key of ``by_name``) or as a code."""
    code = by_name.get(value) if isinstance(value, str) else value
    if code is None or code not in by_name.values():
        raise ValueError(f"expected one of {', '.join(by_name)}, got {value!r}")
    return int(code)


__all__ = ["PumpState", "Side", "Simulation", "Species"]
