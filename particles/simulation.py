"""The :class:`Simulation`: owns state, clock, seed, protocol and observers; the one loop."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from . import kernels as kn
from . import layout as lay
from .channels import Channels
from .config import (AVOGADRO_PER_UM3_MM, Scenario, adsorption_coefficients, count_to_mM,
                     load_scenario, mM_to_count, mM_to_mean_count, membrane_x)
from .observe import Recorder
from .protocol import Protocol
from .state import Geometry, Ions, Pumps, PumpState, Side, Species, site_offsets

E_CHARGE_C = 1.602176634e-19
"""Elementary charge (C)."""


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
        geometry: :class:`~particles.state.Geometry`.
        phase: label of the protocol phase in force.
    """

    def __init__(self, scenario: Scenario | str, seed: int = 0):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
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
        self._build_ions(v)
        self.pumps = Pumps.evenly_spaced(v["pumps.count"], self.geometry.height_um)
        self.channels = Channels.from_values(v)
        self.counters = np.zeros(lay.N_COUNTERS, np.int64)
        self._prob = np.zeros(lay.N_PROB)
        self._allocate_scratch()
        offsets = site_offsets(self.geometry)
        self._site_dx, self._site_dy = offsets[:, 0].copy(), offsets[:, 1].copy()
        self.env = np.zeros(lay.N_ENV)
        self.env[lay.ENV_ATP] = v["atp.initial_mM"]
        self.env[lay.ENV_V] = v["membrane.v_initial_mV"]
        self.env[lay.ENV_OUABAIN] = v["ouabain.concentration_mM"]
        self.env[lay.ENV_POISONED] = float(v["atp.poisoned"])
        self.env[lay.ENV_BATH_ON] = float(v["bath.clamped"])
        self.env[lay.ENV_DIALYSIS_ON] = float(v["dialysis.clamped"])
        self.env[lay.ENV_AP_START] = -1.0  # no action potential yet (ENV_AP_COUNT = 0)
        self.bath_target = np.zeros(4)  # mean ions per species in the bath/dialysis zones
        self._update_parameters()
        self.set_bath(v["ions.na.outside_mM"], v["ions.k.outside_mM"])
        self.recorder = Recorder(self)
        self.protocol = Protocol(self, scenario.protocol)
        if v["tracer.fraction"] > 0:
            kn._label_tracer(self.seed, 0, v["tracer.fraction"], self.ions.species,
                             self.ions.side, self.ions.tracer)
        self.protocol.fire_due()
        self.recorder.record()

    # ------------------------------------------------------------------ construction

    def _zone_area_um2(self) -> float:
        return self.scenario.values["bath.zone_um"] * self.geometry.height_um

    def _build_ions(self, v: dict) -> None:
        """Place ions uniformly in each compartment; add the bath reservoir if clamped."""
        g = self.geometry
        h = g.depth_um
        rng = np.random.default_rng([self.seed, 0x10F])
        groups = []  # (species, side, count)
        for sp, name in ((Species.NA, "na"), (Species.K, "k")):
            groups.append((sp, Side.INSIDE, mM_to_count(v[f"ions.{name}.inside_mM"],
                                                        g.area_in_um2, h)))
            groups.append((sp, Side.OUTSIDE, mM_to_count(v[f"ions.{name}.outside_mM"],
                                                         g.area_out_um2, h)))
        for clamp, where in (("bath", "outside"), ("dialysis", "inside")):
            if not v[f"{clamp}.clamped"]:
                continue
            zone = v[f"{clamp}.zone_um"] * g.height_um
            for sp, name in ((Species.NA, "na"), (Species.K, "k")):
                key = f"ions.{name}.{where}_mM"
                top = max([v[key]] + [e.params["value"] for e in self.scenario.protocol
                                      if e.action == "set" and e.params.get("key") == key])
                groups.append((sp, Side.RESERVOIR, 2 * mM_to_count(top, zone, h) + 16))
        n = sum(c for _, _, c in groups)
        ions = Ions.empty(n)
        i = 0
        for sp, side, c in groups:
            sl = slice(i, i + c)
            ions.species[sl] = sp
            ions.side[sl] = side
            lo, hi = (0.0, g.x_in_face) if side == Side.INSIDE else (g.x_out_face, g.width_um)
            ions.x[sl] = rng.uniform(lo, hi, c)
            ions.y[sl] = rng.uniform(0.0, g.height_um, c)
            i += c
        self.ions = ions

    def _update_parameters(self) -> None:
        """Derive the kernel's constant parameters from the scenario's current values."""
        v = self.scenario.values
        g = self.geometry
        dt = self.dt_ms
        D = np.array([v["ions.na.D"], v["ions.k.D"]])
        self.sigma = np.sqrt(2.0 * D * dt)
        # Sticking probability per crossing from the adsorption coefficient (Andrews 2009):
        # kappa = P * sqrt(D / (pi dt))  =>  P = kappa * sqrt(pi dt / D).
        self.p_stick = np.array([kappa * math.sqrt(math.pi * dt / d) for kappa, d in
                                 zip(adsorption_coefficients(v), (D[0], D[1], D[0]))])
        vol_in_um3 = g.area_in_um2 * g.depth_um
        atp_prod = v["atp.production_mM_per_ms"]
        if atp_prod < 0:
            atp_prod = v["atp.basal_per_ms"] * v["atp.initial_mM"]
        par = np.zeros(lay.N_PAR)
        par[lay.PAR_DT] = dt
        par[lay.PAR_K_PHOS] = v["pumps.k_phos_per_ms"]
        par[lay.PAR_KM_ATP] = v["pumps.km_atp_mM"]
        par[lay.PAR_K_OCC] = v["pumps.k_occlusion_per_ms"]
        par[lay.PAR_K_NAREL] = v["pumps.k_na_release_per_ms"]
        par[lay.PAR_K_DEPHOS] = v["pumps.k_dephos_per_ms"]
        par[lay.PAR_K_RET0] = v["pumps.k_return_per_ms"]
        par[lay.PAR_K_RET_ATP] = v["pumps.k_return_atp_per_ms"]
        par[lay.PAR_KM_ATP_LOW] = v["pumps.km_atp_low_mM"]
        par[lay.PAR_K_OUA_ON] = v["ouabain.k_on_per_mM_ms"]
        par[lay.PAR_K_OUA_OFF] = v["ouabain.k_off_per_ms"]
        par[lay.PAR_Z_OCC] = v["pumps.occlusion_charge"]
        par[lay.PAR_ATP_PROD] = atp_prod
        par[lay.PAR_ATP_BASAL] = v["atp.basal_per_ms"]
        par[lay.PAR_MM_PER_ATP] = 1.0 / (vol_in_um3 * AVOGADRO_PER_UM3_MM)
        par[lay.PAR_C] = v["membrane.C_uF_per_cm2"]
        par[lay.PAR_GL] = v["membrane.g_leak_mS_per_cm2"]
        par[lay.PAR_EL] = v["membrane.E_leak_mV"]
        # One charge moved in one step, as a current density (µA/cm²). The patch stands for
        # a membrane of density rho: each of its m pumps carries the current of 1/(m·rho) µm².
        # The channels' crossings are scaled the same way (the patch's channels stand for the
        # same area as its pumps); membrane.patch_area_um2 > 0 sets that area directly.
        m = max(len(self.pumps), 1)
        rho = v["membrane.pump_density_per_um2"]
        per_um2 = rho / m if rho > 0 else 1.0 / (g.height_um * g.depth_um)
        if v["membrane.patch_area_um2"] > 0:
            per_um2 = 1.0 / v["membrane.patch_area_um2"]
        par[lay.PAR_J_PER_CHARGE] = E_CHARGE_C * per_um2 * 1e8 / (dt * 1e-3) * 1e6
        par[lay.PAR_TAU_J] = v["membrane.current_window_ms"]
        par[lay.PAR_BATH_EVERY] = max(1, round(v["bath.every_ms"] / dt))
        par[lay.PAR_ATP_REGEN] = v["atp.regen_per_ms"]
        par[lay.PAR_ATP_SET] = v["atp.initial_mM"]
        par[lay.PAR_NAV_OPEN] = v["channels.nav_open_ms"]
        par[lay.PAR_KV_DELAY] = v["channels.kv_delay_ms"]
        par[lay.PAR_KV_OPEN] = v["channels.kv_open_ms"]
        par[lay.PAR_TAU_JCH] = v["channels.current_window_ms"]
        par[lay.PAR_CH_BIAS] = float(v["channels.voltage_bias"])
        if hasattr(self, "channels"):
            self.channels.update(v)
        self.par = par

    def set_bath(self, na_mM: float, k_mM: float) -> None:
        """Set the concentrations (mM) the perfused bath holds in its exchange zone (and the
        dialysis zone holds the scenario's inside concentrations)."""
        v = self.scenario.values
        self.bath_mM = (float(na_mM), float(k_mM))
        zone, h = self._zone_area_um2(), self.geometry.depth_um
        dial = v["dialysis.zone_um"] * self.geometry.height_um
        self.bath_target[:] = [mM_to_mean_count(self.bath_mM[0], zone, h),
                               mM_to_mean_count(self.bath_mM[1], zone, h),
                               mM_to_mean_count(v["ions.na.inside_mM"], dial, h),
                               mM_to_mean_count(v["ions.k.inside_mM"], dial, h)]

    # ------------------------------------------------------------------ the loop

    @property
    def time_ms(self) -> float:
        """Simulated time (ms): ``step_index × dt``."""
        return self.step_index * self.dt_ms

    @property
    def atp_mM(self) -> float:
        return float(self.env[lay.ENV_ATP])

    @property
    def v_mV(self) -> float:
        return float(self.env[lay.ENV_V])

    def _grow_reservoir(self) -> None:
        """Append reservoir ions of each species (the bath is an endless supply)."""
        g = self.geometry
        zone = self._zone_area_um2()
        v = self.scenario.values
        extra = [2 * mM_to_count(max(c, v[f"ions.{s}.inside_mM"], 1.0), zone, g.depth_um) + 64
                 for c, s in zip(self.bath_mM, ("na", "k"))]
        add = Ions.empty(sum(extra))
        add.species[extra[0]:] = Species.K
        add.side[:] = Side.RESERVOIR
        add.x[:] = g.width_um
        self.ions = Ions(**{k: np.concatenate([a, getattr(add, k)])
                            for k, a in self.ions.arrays().items()})
        self._allocate_scratch()

    def _append_reservoir(self, species: int, count: int) -> None:
        """Append ``count`` reservoir ions of ``species`` (for manual ``add_ions``)."""
        add = Ions.empty(int(count))
        add.species[:] = species
        add.side[:] = Side.RESERVOIR
        add.x[:] = self.geometry.width_um
        self.ions = Ions(**{k: np.concatenate([a, getattr(add, k)])
                            for k, a in self.ions.arrays().items()})
        self._allocate_scratch()

    def _allocate_scratch(self) -> None:
        n = len(self.ions)
        self._prop_ion = np.zeros(n, np.int32)
        self._prop_pump = np.zeros(n, np.int32)
        self._prop_count = np.zeros(max((n + kn.CHUNK - 1) // kn.CHUNK, 1), np.int64)
        self._ch_part = np.zeros((len(self._prop_count), lay.N_CHP), np.int64)
        self._ch_pass = np.zeros((lay.N_CH_TYPES, 2))

    def _advance(self, nsteps: int) -> None:
        while nsteps > 0:
            done = self._advance_kernel(nsteps)
            self.step_index += abs(done)
            nsteps -= abs(done)
            if done < 0:
                self._grow_reservoir()

    def _advance_kernel(self, nsteps: int) -> int:
        g = self.geometry
        i, p = self.ions, self.pumps
        return kn._advance(
            nsteps, self.step_index, self.seed, self.par, self.env, self.bath_target,
            self.sigma, g.width_um, g.height_um, g.x_in_face, g.x_out_face, g.membrane_x_um,
            g.pump_face_um / 2, float(self.sigma.max()), self.p_stick,
            g.width_um - self.scenario.values["bath.zone_um"],
            self.scenario.values["dialysis.zone_um"],
            self._site_dx, self._site_dy,
            i.x, i.y, i.species, i.side, i.bound, i.tracer,
            p.y, p.state, p.n_na, p.n_k, p.sites, p.cycles,
            self._prop_ion, self._prop_pump, self._prop_count, self.counters, self._prob,
            self.channels.y, self.channels.type, self.channels.bins, self.channels.half_um,
            self.channels.p0, self._ch_pass, self._ch_part)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` steps, firing protocol events and observers on time."""
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
        if not (isinstance(duration_ms, (int, float)) and math.isfinite(duration_ms)
                and duration_ms >= 0):
            raise ValueError(f"duration_ms must be a finite number >= 0, got {duration_ms!r}")
        n = int(round(duration_ms / self.dt_ms))
        if progress is True:
            from tqdm.auto import tqdm

            with tqdm(total=n, unit="step", unit_scale=True, desc=self.scenario.name,
                      leave=False) as bar:
                self.run_steps(n, bar.update, should_stop)
        else:
            self.run_steps(n, progress or None, should_stop)
        return self

    # ------------------------------------------------------------------ events

    def apply_event(self, action: str, **params) -> None:
        """Apply a protocol event now (same names as in scenario files)."""
        self.protocol.apply(action, params, None)

    # ------------------------------------------------------------------ readouts

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
        """First-order rates now in force (1/ms), with ATP and V applied."""
        par, env = self.par, self.env
        atp = env[lay.ENV_ATP]
        return {
            "phosphorylation": par[lay.PAR_K_PHOS] * atp / (atp + par[lay.PAR_KM_ATP]),
            "occlusion": par[lay.PAR_K_OCC] * math.exp(
                par[lay.PAR_Z_OCC] * env[lay.ENV_V] / (2 * kn.V_T_MV)),
            "na_release": par[lay.PAR_K_NAREL],
            "dephosphorylation": par[lay.PAR_K_DEPHOS],
            "return": par[lay.PAR_K_RET0] + (par[lay.PAR_K_RET_ATP] - par[lay.PAR_K_RET0])
            * atp / (atp + par[lay.PAR_KM_ATP_LOW]),
        }

    def cycle_steps(self) -> list[tuple[str, float]]:
        """Every step of one forward cycle with its mean-field rate now (1/ms), in order.

        Captures use the free concentrations now: Na+ inside for the three Na+ sites, K+
        (plus Na+ as congener) outside for the two K+ sites. For a renewal cycle of these
        irreversible steps, the long-time Fano factor of the cycle count is
        ``Σ 1/k² / (Σ 1/k)²`` (MODEL.md §7; :func:`particles.stats.renewal_fano`)."""
        v = self.scenario.values
        r = self.pump_rates()
        na_in = self.concentration_mM(Species.NA, Side.INSIDE)
        k_out = self.concentration_mM(Species.K, Side.OUTSIDE)
        na_out = self.concentration_mM(Species.NA, Side.OUTSIDE)
        k_na = v["pumps.kon_na_per_mM_ms"] * na_in
        k_k = v["pumps.kon_k_per_mM_ms"] * k_out + v["pumps.kon_na_congener_per_mM_ms"] * na_out
        return ([("Na+ capture", k_na)] * 3 + [("phosphorylation", r["phosphorylation"]),
                                                ("E1P -> E2P", r["occlusion"])]
                + [("Na+ release", r["na_release"])] * 3 + [("K+ site capture", k_k)] * 2
                + [("dephosphorylation", r["dephosphorylation"]), ("E2 -> E1", r["return"])])

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


__all__ = ["Simulation", "PumpState", "Species", "Side"]
