"""Observers: read the state, never change it. The results table and the run summary.

The recorder samples every ``time.sample_ms`` (a trigger) and records one row (what) with the
columns of INTERFACE.md. Units are in the column names where they are not counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import kernels as kn
from .layout import (C_ATP_USED, C_BATH_ADDED, C_BATH_REMOVED, C_CHANNEL, C_CHARGE_OUT, C_CYCLES,
                     C_CYCLES_BWD, C_CYCLES_FWD,
                     C_DIALYSIS, C_DIALYSIS_REMOVED, C_K_IN, C_NA_IN, C_NA_OUT, C_TRACER_EFFLUX,
                     CHP_TRACER_IN, CHP_TRACER_OUT, COUNT_BOUND, COUNT_FREE, COUNT_TRACER_IN,
                     GROUP_GATED, GROUP_LEAK, INWARD, N_COUNT, OUTWARD, ChannelType, PumpState,
                     Side, Species, chp_column)

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

_SPECIES = [s.name.lower() for s in Species]  # "na", "k"
_SIDES = {Side.INSIDE: "in", Side.OUTSIDE: "out"}
_FREE = [f"{sp}_{where}" for sp in _SPECIES for where in _SIDES.values()]  # na_in, ...


def _channel_columns() -> dict[str, int]:
    """Channel crossings (cumulative): leak pores, then voltage-gated pores, by species; "in"
    is outside -> inside. Then labelled Na+ through any channel (also in tracer_efflux)."""
    cols = {}
    for group, gname in ((GROUP_LEAK, "leak"), (GROUP_GATED, "gated")):
        for sp in Species:
            for direction, dname in ((INWARD, "in"), (OUTWARD, "out")):
                cols[f"{sp.name.lower()}_{gname}_{dname}"] = \
                    C_CHANNEL + chp_column(group, sp, direction)
    cols["tracer_channel_out"] = C_CHANNEL + CHP_TRACER_OUT
    cols["tracer_channel_in"] = C_CHANNEL + CHP_TRACER_IN
    return cols


def _exchange_columns() -> dict[str, int]:
    """Ions added and removed (cumulative) by the bath, manual exchanges and dialysis."""
    cols = {}
    for clamp, added, removed in (("bath", C_BATH_ADDED, C_BATH_REMOVED),
                                  ("dialysis", C_DIALYSIS, C_DIALYSIS_REMOVED)):
        for sp in Species:
            cols[f"{clamp}_{sp.name.lower()}_added"] = added + sp
            cols[f"{clamp}_{sp.name.lower()}_removed"] = removed + sp
    return cols


#: Columns read from the cumulative counters, and their ``C_*`` slot.
COUNTER_COLUMNS = {"cycles": C_CYCLES, "cycles_forward": C_CYCLES_FWD,
                   "cycles_backward": C_CYCLES_BWD, "na_pumped_out": C_NA_OUT,
                   "k_pumped_in": C_K_IN,
                   "na_pumped_in": C_NA_IN, "tracer_efflux": C_TRACER_EFFLUX,
                   "atp_used": C_ATP_USED, **_exchange_columns(), **_channel_columns()}

#: Channel columns (cumulative counts, see COUNTER_COLUMNS) and the two current densities.
CHANNEL_COLUMNS = list(_channel_columns()) + ["i_pump_uA_cm2", "i_channel_uA_cm2"]

#: Cumulative forward and backward cycles (``cycles`` is their difference), the ADP and Pi
#: pools, and the free energies now (MODEL.md §2b).
ENERGETICS_COLUMNS = ["cycles_forward", "cycles_backward", "adp_mM", "pi_mM", "dg_atp_kJ_mol",
                      "dg_cycle_kJ_mol", "pump_reversal_mV"]

#: The excitable membrane (issue 14): the patch's voltage-gated pores conducting now, the
#: stimulus current (µA/cm², positive depolarises), spikes so far (upward crossings of 0 mV).
EXCITABILITY_COLUMNS = ["nav_open", "kv_open", "i_stim_uA_cm2", "spikes"]

#: Columns in the order they are written. ``pumps_<STATE>`` follow ``v_mV``.
COLUMNS = (["time_ms"] + _FREE + [f"{sp}_bound" for sp in _SPECIES]
           + ["cycles", "na_pumped_out", "k_pumped_in", "na_pumped_in", "tracer_in",
              "tracer_efflux", "atp_mM", "atp_used", "v_mV"]
           + [f"pumps_{s.name}" for s in PumpState]
           + list(_exchange_columns()) + [f"{c}_mM" for c in _FREE]
           + CHANNEL_COLUMNS + ENERGETICS_COLUMNS + EXCITABILITY_COLUMNS + ["phase"])


class Recorder:
    """Samples the simulation every ``time.sample_ms`` into rows of the results table."""

    def __init__(self, sim: "Simulation"):
        self.sim = sim
        self.every = max(1, int(round(sim.scenario.values["time.sample_ms"] / sim.dt_ms)))
        self.rows: list[dict[str, Any]] = []
        self._cycles: list[np.ndarray] = []
        self._buf = np.zeros(N_COUNT, np.int64)
        self._last_step = -1

    @property
    def last_step(self) -> int:
        """Step index of the last recorded row (-1 before the first)."""
        return self._last_step

    def restore(self, rows: list[dict[str, Any]], cycles_history: np.ndarray,
                last_step: int) -> None:
        """Continue a restored run with its ``rows``, cycles per pump at each row
        ``(n_rows, m)`` and the step index of its last row."""
        self.rows = list(rows)
        self._cycles = [cycles_history[i].copy() for i in range(cycles_history.shape[0])]
        self._last_step = int(last_step)

    def next_step(self) -> int:
        """Step index of the next sample."""
        return (self.sim.step_index // self.every + 1) * self.every

    def maybe_record(self) -> None:
        if self.sim.step_index % self.every == 0:
            self.record()

    def record(self) -> None:
        """Append the current row (once per step index)."""
        if self.sim.step_index == self._last_step:
            return
        self._last_step = self.sim.step_index
        self.rows.append(self.row())
        self._cycles.append(self.sim.pumps.cycles.copy())

    def row(self) -> dict[str, Any]:
        """The results-table row for the current state."""
        sim = self.sim
        counts = kn.count(sim.ions.kernel_arrays(), self._buf)
        row: dict[str, Any] = {
            "time_ms": sim.time_ms, "tracer_in": int(counts[COUNT_TRACER_IN]),
            "atp_mM": sim.atp_mM, "v_mV": sim.v_mV,
            "i_pump_uA_cm2": sim.i_pump_uA_cm2, "i_channel_uA_cm2": sim.i_channel_uA_cm2,
            "adp_mM": sim.adp_mM, "pi_mM": sim.pi_mM, "dg_atp_kJ_mol": sim.dg_atp_kJ_mol,
            "dg_cycle_kJ_mol": sim.dg_cycle_kJ_mol, "pump_reversal_mV": sim.pump_reversal_mV,
            "i_stim_uA_cm2": sim.stimulus_uA_cm2, "spikes": sim.spikes,
        }
        on, kind = sim.channels.conducting(), sim.channels.type
        row["nav_open"] = int(np.count_nonzero(on & (kind == ChannelType.NAV)))
        row["kv_open"] = int(np.count_nonzero(on & (kind == ChannelType.KV)))
        for sp in Species:
            name = sp.name.lower()
            row[f"{name}_bound"] = int(counts[COUNT_BOUND + sp])
            for side, where in _SIDES.items():
                n = int(counts[COUNT_FREE + 2 * sp + side])
                row[f"{name}_{where}"] = n
                row[f"{name}_{where}_mM"] = sim.concentration_mM(sp, side, n)
        for name, idx in COUNTER_COLUMNS.items():
            row[name] = int(sim.counters[idx])
        occ = np.bincount(sim.pumps.state, minlength=len(PumpState))
        for s in PumpState:
            row[f"pumps_{s.name}"] = int(occ[s])
        row["phase"] = sim.phase
        return {c: row[c] for c in COLUMNS}

    def table(self):
        """All rows as a pandas DataFrame with the columns of :data:`COLUMNS`."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=COLUMNS)

    def pump_cycles(self) -> np.ndarray:
        """Cycles per pump at each sample, ``(n_samples, n_pumps)`` int64."""
        if not self._cycles:
            return np.zeros((0, len(self.sim.pumps)), np.int64)
        return np.stack(self._cycles)


def summarize(sim: "Simulation") -> dict[str, Any]:
    """Headline figures of a run: turnover, stoichiometry, charge, ATP, potential.

    Returns a dict with units in the keys: ``duration_ms``, ``cycles``,
    ``cycles_per_pump_per_s`` (1/s), ``na_out_per_k_in`` (ratio), ``net_charge_out`` (e),
    ``atp_used`` (molecules), ``atp_mM_end``, ``v_mV_end``.
    """
    c = sim.counters
    t_s = sim.time_ms * 1e-3
    m = len(sim.pumps)
    k_in = int(c[C_K_IN] + c[C_NA_IN])
    return {
        "duration_ms": sim.time_ms,
        "pumps": m,
        "cycles": int(c[C_CYCLES]),
        "cycles_per_pump_per_s": (c[C_CYCLES] / (m * t_s)) if m and t_s > 0 else 0.0,
        "na_pumped_out": int(c[C_NA_OUT]),
        "k_pumped_in": int(c[C_K_IN]),
        "na_pumped_in": int(c[C_NA_IN]),
        "na_out_per_ion_in": (c[C_NA_OUT] / k_in) if k_in else float("nan"),
        "net_charge_out": int(c[C_CHARGE_OUT]),
        "atp_used": int(c[C_ATP_USED]),
        "tracer_efflux": int(c[C_TRACER_EFFLUX]),
        "atp_mM_end": sim.atp_mM,
        "v_mV_end": sim.v_mV,
    }


def phase_summary(df, skip_ms: float = 0.0):
    """One row per contiguous protocol phase: tracer efflux rate constant, turnover, potential.

    Reads only the results table (no state): it can be applied to any results file.

    Args:
        df: results table of one run (``time_ms``, ``tracer_in``, ``tracer_efflux``,
            ``cycles``, ``pumps_*``, ``v_mV``, ``atp_mM``, ``na_in_mM``, ``phase``).
        skip_ms: leave out the first ``skip_ms`` of each phase (settling after a change).

    Returns:
        DataFrame in time order with ``phase``, ``t_start_ms``, ``t_end_ms``,
        ``tracer_efflux`` (labelled Na+ released), ``k_per_ms`` (tracer efflux rate
        constant = efflux / ∫ tracer_in dt, 1/ms) and ``k_se_per_ms`` (Poisson standard
        error, sqrt(efflux) / ∫ tracer_in dt), ``cycles_per_pump_per_s``, ``v_mV_mean``,
        ``atp_mM_mean``, ``na_in_mM_mean``.
    """
    import math

    import pandas as pd

    t = df["time_ms"].to_numpy(dtype=float)
    phase = df["phase"].astype(str).to_numpy()
    n_pumps = int(sum(df[f"pumps_{s.name}"].iloc[0] for s in PumpState))
    # interval i = (row i-1, row i] carries the phase in force at its end (row i)
    seg = np.concatenate([[0], np.cumsum(phase[1:] != phase[:-1])])
    rows = []
    for g in np.unique(seg[1:]):
        idx = np.nonzero(seg == g)[0]
        idx = idx[idx >= 1]
        t0 = t[idx[0] - 1]
        keep = idx[t[idx - 1] >= t0 + skip_ms - 1e-9]
        if len(keep) == 0:
            continue
        a, b = keep[0] - 1, keep[-1]
        dt = t[a + 1:b + 1] - t[a:b]
        tin = df["tracer_in"].to_numpy(dtype=float)
        expo = float(np.sum(0.5 * (tin[a + 1:b + 1] + tin[a:b]) * dt))
        eff = float(df["tracer_efflux"].iloc[b] - df["tracer_efflux"].iloc[a])
        span = t[b] - t[a]
        cyc = float(df["cycles"].iloc[b] - df["cycles"].iloc[a])
        sl = slice(a + 1, b + 1)
        rows.append({
            "phase": phase[idx[0]], "t_start_ms": t[a], "t_end_ms": t[b],
            "tracer_efflux": eff,
            "k_per_ms": eff / expo if expo > 0 else math.nan,
            "k_se_per_ms": math.sqrt(eff) / expo if expo > 0 else math.nan,
            "cycles_per_pump_per_s": cyc / (n_pumps * span * 1e-3) if n_pumps and span > 0
            else math.nan,
            "v_mV_mean": float(df["v_mV"].iloc[sl].mean()),
            "atp_mM_mean": float(df["atp_mM"].iloc[sl].mean()),
            "na_in_mM_mean": float(df["na_in_mM"].iloc[sl].mean()),
        })
    return pd.DataFrame(rows)
