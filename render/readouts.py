"""The panel's readouts, computed from the simulation's public members and its results rows:
the turnover over the last few ms, the conditions in force, the pump's energetics, the
membrane's currents, the Na⁺ entered per spike against the least charge a spike needs, and
whether the V chart spans a spike."""

from __future__ import annotations

import math

import numpy as np

from particles.layout import ChannelType
from particles.physics import patch_area_um2

TURNOVER_MS = 5.0        # simulated ms over which the panel's turnover is counted
V_SPIKE_SHOW_MV = -40.0  # the V chart spans a spike's range while V is above this
PEAK_MS = 1.5            # a spike's peak: the highest V within this after it crossed 0 mV
FOOT_MS = 3.0            # its foot: the lowest V within this before it crossed
E_CHARGE = 1.602176634e-19  # C


def _window(rows: list[dict], span: float) -> tuple[dict, dict, float]:
    """The first and last of the results ``rows`` within the last ``span`` simulated ms (all
    the rows when fewer) and the ms between them (0 with fewer than two rows)."""
    if len(rows) < 2:
        return {}, {}, 0.0
    last = rows[-1]
    k = len(rows) - 1
    while k > 0 and last["time_ms"] - rows[k - 1]["time_ms"] <= span:
        k -= 1
    return rows[k], last, last["time_ms"] - rows[k]["time_ms"]


def turnover(sim, span: float = TURNOVER_MS) -> float:
    """Cycles per pump per second over the last ``span`` simulated ms (all the rows when
    fewer): 0 while every pump is blocked; NaN without pumps or with fewer than two rows."""
    m = len(sim.pumps)
    first, last, dt = _window(sim.recorder.rows, span)
    if m == 0 or dt <= 0:
        return float("nan")
    return (last["cycles"] - first["cycles"]) / m / (dt * 1e-3)


def pump_current(sim, span: float = TURNOVER_MS) -> float:
    """The pump current density of the membrane (µA/cm², outward): the patch's from its net
    cycles over the last ``span`` simulated ms (each carries one charge out: 3 Na⁺ out, 2 K⁺
    in; :meth:`~particles.simulation.Simulation.pump_current_of_cycles`) plus the rest of
    the membrane's now; the kernel's 1-ms average while fewer than two rows exist. The
    charge a small patch moves over 1 ms, or even 5 ms, is dominated by partial reactions
    (3 Na⁺ released before the 2 K⁺ come in) and can have the opposite sign to its net
    cycling; counted by whole cycles it agrees with the turnover shown."""
    first, last, dt = _window(sim.recorder.rows, span)
    if dt <= 0:
        return sim.i_pump_uA_cm2
    return sim.pump_current_of_cycles((last["cycles"] - first["cycles"]) / dt)


def conditions(sim) -> list[str]:
    """Short notes on what is in force: a K-free bath, a poison, ouabain."""
    v = sim.scenario.values
    out = []
    if v.get("bath.clamped") and sim.bath_mM[1] == 0 and v["ions.k.outside_mM"] > 0:
        out.append("K-free bath")
    if sim.poisoned:
        out.append("poisoned (no ATP made)")
    if sim.ouabain_mM > 0:
        mM = sim.ouabain_mM
        out.append(f"ouabain {mM * 1e3:.3g} µM" if mM < 1 else f"ouabain {mM:.3g} mM")
    return out


def about_energetics(sim) -> bool:
    """Whether the panel shows the pump's energetics: in a voltage-clamped scenario, in one
    whose protocol poisons the cell or sets ATP, ADP or Pi (``atp.*``), and once poisoned."""
    if sim.scenario.values["membrane.clamp"] or sim.poisoned:
        return True
    return any(e.action == "poison" or (e.action == "set"
                                        and str(e.params.get("key", "")).startswith("atp."))
               for e in sim.scenario.protocol)


def energetics_lines(row: dict) -> list[tuple[str, str]]:
    """The pump's energetics in the results ``row``: the free energy of ATP hydrolysis and of
    one forward cycle (kJ/mol; a cycle's > 0 means the pump runs backwards) and the pump's
    reversal potential (mV; it runs forward at V above it). (name, value) each; "–" where a
    value is not finite (no ATP, ADP or Pi, or an ion missing)."""
    def fmt(x: float, spec: str, unit: str) -> str:
        return f"{x:{spec}} {unit}" if math.isfinite(x) else "–"
    return [("ΔG of ATP hydrolysis", fmt(row["dg_atp_kJ_mol"], "+.1f", "kJ/mol")),
            ("ΔG of a pump cycle", fmt(row["dg_cycle_kJ_mol"], "+.1f", "kJ/mol")),
            ("Pump reversal potential", fmt(row["pump_reversal_mV"], "+.0f", "mV"))]


def current_lines(sim, heights: "SpikeHeights") -> list[tuple[str, str]]:
    """The panel's readouts of the membrane's currents: the pump's current over the last
    ``TURNOVER_MS`` (:func:`pump_current`) and its share of the outward current (the outward
    parts of pump, channel and leak currents), and with voltage-gated Na⁺ pores the Na⁺ that
    entered per spike through the patch's Na⁺ pores (mean over the spikes so far) and that
    as a multiple of the least charge the spikes need (:func:`na_entry_ratio`, from the
    spike ``heights`` recorded). (name, value) each."""
    out = []
    cur = sim.currents_uA_cm2()
    cur["pump"] = pump_current(sim)
    if len(sim.pumps):
        outward = sum(max(cur[k], 0.0) for k in ("pump", "channels", "leak"))
        share = (f", {100 * max(cur['pump'], 0.0) / outward:.0f} % of outward"
                 if outward > 0 else "")
        out.append(("Pump current", f"{cur['pump']:+.2f} µA/cm²{share}"))
    if np.any(sim.channels.type == ChannelType.NAV):
        na = sim.na_per_spike()
        text = (f"{na:.1f}" if na < 100 else f"{na:,.0f}") + " ions/spike"
        ratio = na_entry_ratio(sim, heights.mean())
        if ratio == ratio:
            text += f" ({ratio:.1f}× C·ΔV/e)"
        out.append(("Na⁺ entered, patch", text if na == na else "no spike yet"))
    return out


def spike_in_view(rows: list[dict], v_now: float) -> bool:
    """Whether the V chart spans a spike: the spike count rose within ``rows`` (the rows
    shown) or V is above ``V_SPIKE_SHOW_MV`` now."""
    return v_now > V_SPIKE_SHOW_MV or (len(rows) > 1 and rows[-1]["spikes"] > rows[0]["spikes"])


def na_entry_ratio(sim, height_mV: float) -> float:
    """The Na⁺ that entered per spike through the patch's Nav pores
    (:meth:`~particles.simulation.Simulation.na_per_spike`) over the least number of charges
    that moves the patch's membrane by a spike's height: C·A·ΔV/e, with C
    ``membrane.C_uF_per_cm2``, A the area the patch stands for
    (:func:`particles.physics.patch_area_um2`) and ΔV ``height_mV`` (Carter & Bean 2009
    measured 1.2–4 in mammalian neurons). NaN before the first spike or without a height."""
    na = sim.na_per_spike()
    if not (na == na and height_mV > 0):
        return math.nan
    v = sim.scenario.values
    c_f_per_um2 = v["membrane.C_uF_per_cm2"] * 1e-14  # 1 µF/cm² = 1e-14 F/µm²
    least = c_f_per_um2 * patch_area_um2(v, len(sim.pumps)) * height_mV * 1e-3 / E_CHARGE
    return na / least


class SpikeHeights:
    """The heights of the spikes in the results rows (mV), measured as the rows arrive: for
    each row where the ``spikes`` count rose, the highest V within PEAK_MS after it minus the
    lowest within FOOT_MS before it (from the foot, where the stimulus or the previous spike's
    after-hyperpolarisation left V, to the peak). Starts again for a new run."""

    def __init__(self):
        self.heights: list[float] = []
        self._rows = None
        self._next = 1   # the first row not examined yet

    def update(self, rows: list[dict]) -> None:
        """Measure the spikes of ``rows`` (the simulation's rows) whose peak window has been
        recorded."""
        if rows is not self._rows or len(rows) < self._next:
            self.heights, self._rows, self._next = [], rows, 1
        j = self._next
        while j < len(rows):
            if rows[j]["spikes"] > rows[j - 1]["spikes"]:
                t = rows[j]["time_ms"]
                if rows[-1]["time_ms"] < t + PEAK_MS:
                    break  # its peak is still to come
                self.heights.append(self._peak(rows, j, t) - self._foot(rows, j, t))
            j += 1
        self._next = j

    @staticmethod
    def _peak(rows, j: int, t: float) -> float:
        k, v = j, rows[j]["v_mV"]
        while k + 1 < len(rows) and rows[k + 1]["time_ms"] <= t + PEAK_MS:
            k += 1
            v = max(v, rows[k]["v_mV"])
        return v

    @staticmethod
    def _foot(rows, j: int, t: float) -> float:
        k, v = j, rows[j]["v_mV"]
        while k > 0 and rows[k - 1]["time_ms"] >= t - FOOT_MS:
            k -= 1
            v = min(v, rows[k]["v_mV"])
        return v

    def mean(self) -> float:
        """The mean height (mV); NaN before the first spike is measured."""
        return float(np.mean(self.heights)) if self.heights else math.nan
