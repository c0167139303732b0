"""The pump's current-voltage view of a sweep over ``membrane.clamp_mV`` (issue 13), and the
master-equation curve of any sweep over the clamp potential or a held concentration.

``ionpump sweep energetics --vary membrane.clamp_mV=... --out out/iv.parquet`` followed by
``ionpump plot out/iv.parquet`` draws it (:func:`particles.plotting.plot_file` picks it for a
sweep whose only varied key is the clamp potential): net cycles per pump per second (and the
pump current density on the right axis) against V, mean ± 95 % CI over replicates; the
exact well-mixed master-equation curve of the same cycle
(:func:`particles.energetics.ring_turnover`) at the sweep's mean free concentrations; and
the pump's reversal potential, where the cycle's free energy is zero and both curves cross
zero (MODEL.md §2b).
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt  # the backend is chosen by particles.plotting, imported first
import numpy as np
import pandas as pd

from particles import reports, stats
from particles.palette import CYCLES_RGB, NA_RGB, V_RGB, hex_colour

IV_KEY = "membrane.clamp_mV"
"""The varied key that makes a sweep an I-V curve."""

CONCENTRATIONS = ("na_in", "na_out", "k_in", "k_out")
"""Free-concentration columns (``<name>_mM``) the master equation is solved at."""

CONC_KEYS = {"ions.na.inside_mM": "na_in", "ions.na.outside_mM": "na_out",
             "ions.k.inside_mM": "k_in", "ions.k.outside_mM": "k_out"}
"""Varied keys that set a concentration (held by dialysis or the bath), and its column."""


def plot_iv(df: pd.DataFrame, meta: Mapping | None = None, title: str = "",
            warmup_fraction: float = 0.2, confidence: float = 0.95) -> plt.Figure:
    """Net pump turnover against the clamp potential, with the master-equation curve.

    Args:
        df: sweep table (``membrane.clamp_mV``, ``replicate``, results columns).
        meta: parsed ``FILE.meta.json``: its ``scenario`` (name, source and values) and
            ``overrides`` rebuild the scenario for the master-equation curve; without them,
            or when they no longer load, only the agents' points are drawn.
        title: figure title.
        warmup_fraction: fraction of each run's duration skipped before measuring (pumps
            start empty).
        confidence: coverage of the error bars.

    Returns:
        The figure (caller saves and closes it).
    """
    t = df["time_ms"].to_numpy(dtype=float)
    warmup = warmup_fraction * float(np.nanmax(t) - np.nanmin(t))
    runs = reports.per_run_figures(df, [IV_KEY], warmup_ms=warmup, fano=False)
    s = pd.DataFrame([{"v": float(v), **stats.mean_ci(g["cycles_per_pump_per_s"], confidence)}
                      for v, g in runs.groupby(IV_KEY, sort=True)])
    err = (s["ci_high"] - s["mean"]).to_numpy()
    has_err = bool(np.isfinite(err).all())
    fig, ax = plt.subplots(figsize=(7.5, 5.0))
    ax.axhline(0.0, color="#888888", lw=0.8)
    n = int(s["n"].min())
    ax.errorbar(s["v"], s["mean"], yerr=err if has_err else None, fmt="o", ms=5, capsize=3,
                color=hex_colour(NA_RGB), zorder=3,
                label=f"agents (mean ± {confidence:.0%} CI, {n} replicates)" if has_err
                else "agents (one replicate: no CI)")
    late = df[df["time_ms"] >= np.nanmin(t) + warmup]
    theory = _master_equation_curve(meta or {}, late, s["v"].min(), s["v"].max())
    if theory is not None:
        vs, jt, reversal, per_cycle_uA = theory
        ax.plot(vs, jt, color=hex_colour(CYCLES_RGB), lw=1.5,
                label="master equation of the cycle (well mixed)")
        lo, hi = ax.get_xlim()
        if lo <= reversal <= hi:
            ax.axvline(reversal, color=hex_colour(V_RGB), ls="--", lw=1.2,
                       label=f"pump reversal potential {reversal:.0f} mV (ΔG_cycle = 0)")
        else:
            ax.text(0.02 if reversal < lo else 0.98, 0.04,
                    f"pump reversal potential {reversal:.0f} mV (off scale)",
                    transform=ax.transAxes, ha="left" if reversal < lo else "right",
                    fontsize=8, color=hex_colour(V_RGB),
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.85))
        if per_cycle_uA > 0:
            right = ax.secondary_yaxis("right", functions=(lambda y: y * per_cycle_uA,
                                                           lambda y: y / per_cycle_uA))
            right.set_ylabel("pump current density (µA/cm², outward)")
    ax.set_xlabel("membrane potential, clamped (mV)")
    ax.set_ylabel("net pump turnover (cycles pump⁻¹ s⁻¹)")
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=8, loc="upper left")
    head = "Pump current-voltage relation"
    fig.suptitle(f"{title}\n{head}" if title else head, fontsize=11)
    fig.tight_layout()
    return fig


def _master_equation_curve(meta: Mapping, late: pd.DataFrame, v_lo: float, v_hi: float):
    """The master-equation turnover (cycles/s per pump) over a fine grid of V spanning the
    sweep (:func:`master_equation_curve`), the reversal potential at the mean free
    concentrations of ``late`` (the rows after the warm-up) and the current of one cycle.

    Returns:
        ``(V (300,) mV, turnover (300,) 1/s, reversal potential mV, µA/cm² per cycle/s of
        every pump)``, or None when the scenario cannot be rebuilt or the table lacks the
        concentrations.
    """
    from particles.energetics import reversal_mV
    from particles.layout import PAR_DT, PAR_J_PER_CHARGE
    from particles.simulation import Simulation

    span = max(v_hi - v_lo, 1.0)
    vs = np.linspace(v_lo - 0.05 * span, v_hi + 0.05 * span, 300)
    jt = master_equation_curve(meta, late, IV_KEY, vs)
    if jt is None:
        return None
    sim = Simulation(_scenario_of(meta), seed=0)
    conc = {c: float(late[f"{c}_mM"].mean()) for c in CONCENTRATIONS}
    val = sim.scenario.values
    reversal = reversal_mV(sim.atp_mM, sim.adp_mM, sim.pi_mM, conc["na_in"], conc["na_out"],
                           conc["k_in"], conc["k_out"], val["atp.dg0_kJ_per_mol"],
                           val["membrane.temperature_C"])
    # PAR_J_PER_CHARGE: µA/cm² of one charge per step for the patch's pumps together
    per_cycle_uA = float(sim.par[PAR_J_PER_CHARGE] * sim.par[PAR_DT] * 1e-3 * len(sim.pumps.y))
    return vs, jt, reversal, per_cycle_uA


def master_equation_curve(meta: Mapping, late: pd.DataFrame, key: str,
                          xs: np.ndarray) -> np.ndarray | None:
    """The well-mixed turnover of the cycle (cycles/s per pump; the exact steady state of its
    master equation, :func:`particles.energetics.ring_turnover`) at each value ``xs`` of the
    varied ``key``: the clamp potential or a concentration held by dialysis or the bath
    (:data:`CONC_KEYS`). The other conditions, the free concentrations and V (of unclamped
    runs), are interpolated between their means at the sweep's points in ``late`` (the rows
    after the warm-up). ATP, ADP and Pi are the scenario's.

    Returns:
        ``(len(xs),)`` float, or None when ``key`` is neither, the scenario cannot be rebuilt
        from ``meta`` (see :func:`plot_iv`) or ``late`` lacks the columns.
    """
    from particles.energetics import ring_turnover
    from particles.simulation import Simulation

    cols = [f"{c}_mM" for c in CONCENTRATIONS] + ["v_mV"]
    if key != IV_KEY and key not in CONC_KEYS:
        return None
    sc = _scenario_of(meta)
    if sc is None or late.empty or not {key, *cols} <= set(late.columns):
        return None
    pts = late.groupby(key, sort=True)[cols].mean()
    px = pts.index.to_numpy(dtype=float)
    sim = Simulation(sc, seed=0)
    out = []
    for x in np.asarray(xs, dtype=float):
        at = {c: float(np.interp(x, px, pts[f"{c}_mM"])) for c in CONCENTRATIONS}
        if key in CONC_KEYS:
            at[CONC_KEYS[key]] = float(x)
        sim.set_value(IV_KEY, float(x) if key == IV_KEY else float(np.interp(x, px, pts["v_mV"])))
        out.append(1000.0 * ring_turnover(sim.cycle_rates(**at)))
    return np.array(out)


def _scenario_of(meta: Mapping):
    """The swept scenario, clamped, from a sweep's metadata: the built-in (or the file) it
    names, with the values it records and the ``--set`` overrides; None when it cannot be
    rebuilt."""
    from particles.config import ScenarioError, load_scenario

    sc_meta = meta.get("scenario")
    if isinstance(sc_meta, str):
        sc_meta = {"name": sc_meta}
    if not isinstance(sc_meta, Mapping):
        return None
    values = {**(sc_meta.get("values") or {}), **(meta.get("overrides") or {})}
    for ref in (sc_meta.get("name"), sc_meta.get("source")):
        if not isinstance(ref, str):
            continue
        try:
            sc = load_scenario(ref)
            diff = {k: v for k, v in values.items() if k in sc.values and sc.values[k] != v}
            return sc.with_overrides({**diff, "membrane.clamp": True})
        except (ScenarioError, OSError, ValueError, TypeError):
            continue
    return None
