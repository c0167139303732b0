"""ionpump's reports: headline figures of results tables, replicate summaries, tracer efflux
rate constants and the fluctuation report of the pump cycle.

These read the results table of :meth:`particles.Simulation.timeseries` (its column names and
units: time in ms, counts of ions or cycles, concentrations in mM) or the simulation's
per-pump cycle history, and apply the generic estimators of :mod:`particles.stats`.

- :func:`tracer_efflux_intervals`, :func:`efflux_rate_constants`: tracer efflux per sample
  interval and the efflux rate constant per protocol phase.
- :func:`run_figures`, :func:`per_run_figures`, :func:`summarize_replicates`,
  :func:`format_summary`: headline figures per run and their mean / sd / CI over replicates.
- :func:`sweep_keys`, :func:`run_groups`, :func:`n_pumps`: what identifies a run of a table.
- :func:`fluctuation_report`: Fano factor of single pumps and of the membrane, compared with
  the value computed from the scenario's first-order rates.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .stats import long_time_fano, mean_ci, renewal_fano, t_quantile

__all__ = ["tracer_efflux_intervals", "efflux_rate_constants", "FIGURE_UNITS", "sweep_keys",
           "run_groups", "n_pumps", "run_figures", "per_run_figures", "summarize_replicates",
           "format_summary", "few_replicates_note", "fluctuation_report", "FANO_CAVEAT"]


# --------------------------------------------------------------------------------------
# Tracer efflux
# --------------------------------------------------------------------------------------


def tracer_efflux_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """Tracer efflux per sample interval and its instantaneous rate constant.

    Interval i runs from sample i-1 to sample i and carries the ``phase`` of sample i (the
    phase in force at its end). Rows of a table with several runs (``replicate``) must be
    split first (see :func:`run_groups`).

    Args:
        df: results table of one run with ``time_ms``, ``tracer_in``, ``tracer_efflux`` and
            optionally ``phase``.

    Returns:
        DataFrame, one row per interval: ``t_start_ms``, ``time_ms`` (end), ``dt_ms``,
        ``efflux`` (labelled Na+ released in the interval), ``exposure`` (trapezoid integral of
        tracer_in over the interval, ion·ms), ``k_per_ms`` (= efflux / exposure) and ``phase``.
    """
    t = df["time_ms"].to_numpy(dtype=float)
    e = df["tracer_efflux"].to_numpy(dtype=float)
    tin = df["tracer_in"].to_numpy(dtype=float)
    dt = np.diff(t)
    exposure = 0.5 * (tin[1:] + tin[:-1]) * dt
    eff = np.diff(e)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(exposure > 0, eff / exposure, np.nan)
    out = pd.DataFrame({"t_start_ms": t[:-1], "time_ms": t[1:], "dt_ms": dt, "efflux": eff,
                        "exposure": exposure, "k_per_ms": k})
    out["phase"] = (df["phase"].astype(str).to_numpy()[1:] if "phase" in df.columns
                    else "all")
    return out


def efflux_rate_constants(df: pd.DataFrame, by: str = "label",
                          confidence: float = 0.95) -> pd.DataFrame:
    """Tracer efflux rate constant per protocol phase (ratio estimator).

    k = (labelled Na+ released in the phase) / (integral of tracer_in dt over the phase), in
    1/ms; its standard error treats the released count as Poisson: se = sqrt(N)/exposure.

    Args:
        df: results table of one run (see :func:`tracer_efflux_intervals`).
        by: ``"label"`` pools all intervals with the same phase label (e.g. both control
            periods); ``"segment"`` keeps each contiguous phase period apart.
        confidence: CI coverage (normal approximation).

    Returns:
        DataFrame in order of first appearance with ``phase``, ``segment`` (-1 when pooled by
        label), ``t_start_ms``, ``t_end_ms``, ``efflux``, ``exposure``, ``k_per_ms``,
        ``k_per_min``, ``se_per_ms``, ``ci_low_per_ms``, ``ci_high_per_ms``, ``n_intervals``.
    """
    iv = tracer_efflux_intervals(df)
    if by not in ("label", "segment"):
        raise ValueError(f"by must be 'label' or 'segment', got {by!r}")
    seg = (iv["phase"] != iv["phase"].shift()).cumsum() - 1
    iv = iv.assign(segment=seg)
    keys = ["phase"] if by == "label" else ["segment", "phase"]
    z = t_quantile(confidence, math.inf)
    rows = []
    for key, g in iv.groupby(keys, sort=False):
        n = float(g["efflux"].sum())
        expo = float(g["exposure"].sum())
        k = n / expo if expo > 0 else math.nan
        se = math.sqrt(max(n, 0.0)) / expo if expo > 0 else math.nan
        rows.append({
            "phase": g["phase"].iloc[0],
            "segment": int(g["segment"].iloc[0]) if by == "segment" else -1,
            "t_start_ms": float(g["t_start_ms"].min()), "t_end_ms": float(g["time_ms"].max()),
            "efflux": n, "exposure": expo, "k_per_ms": k, "k_per_min": k * 60000.0,
            "se_per_ms": se, "ci_low_per_ms": k - z * se, "ci_high_per_ms": k + z * se,
            "n_intervals": int(len(g)),
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# Headline figures per run and over replicates
# --------------------------------------------------------------------------------------

#: figure name -> unit, in the order the summary prints them.
FIGURE_UNITS: dict[str, str] = {
    "cycles_per_pump_per_s": "1/s",
    "na_efflux_per_s": "ions/s",
    "na_efflux_per_pump_per_s": "ions/(pump·s)",
    "na_k_ratio": "",
    "atp_used": "molecules",
    "delta_atp_mM": "mM",
    "delta_v_mV": "mV",
    "membrane_fano": "",
}


def sweep_keys(df: pd.DataFrame, meta: Mapping | None = None) -> list[str]:
    """The varied scenario keys of a sweep table.

    A sweep table carries each varied key as a column named by its dotted scenario key
    (e.g. ``ions.na.inside_mM``); results columns never contain a dot. ``meta["vary"]``
    (from ``FILE.meta.json``) or ``df.attrs["vary"]`` take precedence when present.

    Args:
        df: results table.
        meta: parsed ``FILE.meta.json``, optional.

    Returns:
        The varied keys in column order (empty for a plain run).
    """
    for src in (meta or {}, df.attrs):
        vary = src.get("vary") if hasattr(src, "get") else None
        if vary:
            keys = list(vary.keys()) if isinstance(vary, Mapping) else list(vary)
            return [k for k in keys if k in df.columns]
    return [c for c in df.columns if isinstance(c, str) and "." in c]


def run_groups(df: pd.DataFrame, group_cols: Sequence[str] | None = None) -> list[str]:
    """Columns that identify one run in a table: the varied keys, then ``replicate``."""
    if group_cols is None:
        group_cols = sweep_keys(df)
    cols = list(group_cols)
    if "replicate" in df.columns and "replicate" not in cols:
        cols.append("replicate")
    return cols


def n_pumps(df: pd.DataFrame) -> int:
    """Number of pumps of a run: the sum of the ``pumps_<STATE>`` columns in its first row."""
    cols = [c for c in df.columns if isinstance(c, str) and c.startswith("pumps_")]
    if not cols:
        return 0
    return int(df[cols].iloc[0].sum())


def run_figures(run: pd.DataFrame, *, warmup_ms: float = 0.0,
                fano: bool = True) -> dict[str, float]:
    """Headline figures of one run.

    Rates are taken between the first sample at or after ``time_ms[0] + warmup_ms`` and the
    last sample.

    Args:
        run: the rows of one run, ordered by time.
        warmup_ms: simulated time to skip at the start (ms) for the rate figures.
        fano: also compute the long-time Fano factor of the membrane's cycle count.

    Returns:
        dict: ``cycles_per_pump_per_s`` (1/s), ``na_efflux_per_s`` (Na+ pumped out per second,
        whole membrane), ``na_efflux_per_pump_per_s``, ``na_k_ratio`` (Na+ out / K+ in by the
        pumps), ``atp_used`` (molecules; the ``atp_used`` column when present, else one per
        cycle), ``delta_atp_mM`` (end - start),
        ``delta_v_mV`` (end - start), ``membrane_fano`` (NaN when the cycle rate is not
        stationary after the warm-up, see :func:`particles.stats.trend_test`) and, when the
        run has tracer,
        ``tracer_k_per_min:<phase>`` for each phase label.
    """
    run = run.sort_values("time_ms", kind="stable")
    t = run["time_ms"].to_numpy(dtype=float)
    i0 = int(np.searchsorted(t, t[0] + warmup_ms - 1e-9))
    i0 = min(i0, len(t) - 1)
    sub = run.iloc[i0:]
    dur_s = (t[-1] - t[i0]) / 1000.0
    npump = n_pumps(run)
    out: dict[str, float] = {}

    def delta(col):
        if col not in sub.columns:
            return math.nan
        return float(sub[col].iloc[-1] - sub[col].iloc[0])

    dcyc = delta("cycles")
    dna = delta("na_pumped_out")
    dk = delta("k_pumped_in")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["cycles_per_pump_per_s"] = dcyc / (npump * dur_s) if npump and dur_s > 0 else math.nan
        out["na_efflux_per_s"] = dna / dur_s if dur_s > 0 else math.nan
        out["na_efflux_per_pump_per_s"] = (dna / (npump * dur_s) if npump and dur_s > 0
                                           else math.nan)
        out["na_k_ratio"] = dna / dk if dk and dk > 0 else math.nan
    out["atp_used"] = delta("atp_used") if "atp_used" in sub.columns else dcyc
    out["delta_atp_mM"] = (float(run["atp_mM"].iloc[-1] - run["atp_mM"].iloc[0])
                           if "atp_mM" in run.columns else math.nan)
    out["delta_v_mV"] = (float(run["v_mV"].iloc[-1] - run["v_mV"].iloc[0])
                         if "v_mV" in run.columns else math.nan)
    out["membrane_fano"] = math.nan
    if fano and "cycles" in sub.columns and len(sub) >= 9:
        try:
            est = long_time_fano(sub["cycles"].to_numpy(), n_units=npump or 1, min_windows=8)
        except ValueError:
            est = None
        if est is not None and est.stationary:
            out["membrane_fano"] = est.value
    if {"tracer_in", "tracer_efflux"} <= set(run.columns) and run["tracer_in"].max() > 0:
        for row in efflux_rate_constants(run, by="label").itertuples():
            out[f"tracer_k_per_min:{row.phase}"] = float(row.k_per_min)
    return out


def per_run_figures(df: pd.DataFrame, group_cols: Sequence[str] | None = None,
                    **kwargs) -> pd.DataFrame:
    """:func:`run_figures` for every run of a table, one row per run.

    Args:
        df: results table (a single run, replicates and/or a sweep).
        group_cols: columns identifying the sweep point; default :func:`sweep_keys`.
            ``replicate`` is added when present.
        **kwargs: passed to :func:`run_figures`.

    Returns:
        DataFrame: the identifying columns followed by one column per figure.
    """
    cols = run_groups(df, group_cols)
    rows = []
    if cols:
        for key, g in df.groupby(cols, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(cols, key)), **run_figures(g, **kwargs)})
    else:
        rows.append(run_figures(df, **kwargs))
    return pd.DataFrame(rows)


def summarize_replicates(df: pd.DataFrame, group_cols: Sequence[str] | None = None,
                         confidence: float = 0.95, **kwargs) -> pd.DataFrame:
    """Mean, sd and CI over replicates of each headline figure (per sweep point).

    Args:
        df: results table with a ``replicate`` column (a table without one is one replicate).
        group_cols: columns identifying a sweep point; default :func:`sweep_keys`.
        confidence: CI coverage (t-distribution over replicates).
        **kwargs: passed to :func:`run_figures` (e.g. ``warmup_ms``).

    Returns:
        Long DataFrame: the sweep-point columns, then ``figure``, ``unit``, ``n``, ``mean``,
        ``sd``, ``sem``, ``ci_low``, ``ci_high``; figures in :data:`FIGURE_UNITS` order, then
        tracer rate constants (unit 1/min).
    """
    if group_cols is None:
        group_cols = sweep_keys(df)
    group_cols = [c for c in group_cols if c != "replicate"]
    runs = per_run_figures(df, group_cols, **kwargs)
    figures = [c for c in runs.columns if c not in group_cols and c != "replicate"]
    rows = []
    groups = runs.groupby(group_cols, sort=True) if group_cols else [((), runs)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        for fig in figures:
            unit = FIGURE_UNITS.get(fig, "1/min" if fig.startswith("tracer_k") else "")
            rows.append({**dict(zip(group_cols, key)), "figure": fig, "unit": unit,
                         **mean_ci(g[fig].to_numpy(dtype=float), confidence)})
    return pd.DataFrame(rows)


def few_replicates_note(n: int, confidence: float = 0.95) -> str:
    """The caveat of a t-interval from fewer than 3 replicates (n - 1 degrees of freedom),
    e.g. for n = 2: "n = 2: a t-interval on 1 degree of freedom (t = 12.7), far too wide
    to be useful; use 3 or more replicates"; "" for n >= 3."""
    if n >= 3 or n < 2:
        return ""
    return (f"n = {n}: a t-interval on {n - 1} degree of freedom (t = "
            f"{t_quantile(confidence, n - 1):.3g}), far too wide to be useful; use 3 or more "
            "replicates")


def format_summary(summary: pd.DataFrame) -> str:
    """Plain-text table of :func:`summarize_replicates` output, one line per figure.

    Columns: figure (unit), mean, sd, 95 % CI (as ``[low, high]``) and n; sweep-point columns,
    if any, head each block. An interval from fewer than 3 replicates is marked ``*`` and
    explained under the table (:func:`few_replicates_note`); a figure without a value (e.g.
    the membrane Fano factor of a run that is not stationary) shows "-".
    """
    if summary.empty:
        return ""
    keys = [c for c in summary.columns if c not in
            ("figure", "unit", "n", "mean", "sd", "sem", "ci_low", "ci_high")]
    lines = []
    blocks = summary.groupby(keys, sort=False) if keys else [((), summary)]
    for key, g in blocks:
        key = key if isinstance(key, tuple) else (key,)
        if keys:
            lines.append("  " + ", ".join(f"{k} = {v}" for k, v in zip(keys, key)))
        names = [f"{r.figure} ({r.unit})" if r.unit else r.figure for r in g.itertuples()]
        w = max(len(n) for n in names)
        lines.append(f"  {'figure':<{w}}  {'mean':>10}  {'sd':>9}  {'95 % CI':>23}  n")
        for name, r in zip(names, g.itertuples()):
            ci = (f"[{r.ci_low:.4g}, {r.ci_high:.4g}]" if np.isfinite(r.ci_low) else "")
            ci += "*" if ci and few_replicates_note(r.n) else ""
            mean = f"{r.mean:>10.4g}" if np.isfinite(r.mean) else f"{'-':>10}"
            lines.append(f"  {name:<{w}}  {mean}  {r.sd:>9.3g}  {ci:>23}  {r.n}")
    few = sorted({int(n) for n in summary["n"] if few_replicates_note(int(n))})
    lines += [f"  * {few_replicates_note(n)}" for n in few]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Fluctuations of single pumps and of the membrane
# --------------------------------------------------------------------------------------


#: What a Fano factor computed from the first-order rates leaves out, printed beside it.
FANO_CAVEAT = ("(first-order steps only: binding by diffusion adds variance, so a measured "
               "value is higher when binding is slow)")


def fluctuation_report(
    times_ms,
    pump_history,
    rates: Mapping[str, float] | Sequence[float] | None = None,
    *,
    warmup_ms: float = 0.0,
    confidence: float = 0.95,
    applies_fraction: float = 0.9,
) -> dict:
    """Fano factor of the cycle count of single pumps and of the whole membrane.

    Args:
        times_ms: sample times, shape (n_samples,), ms, equally spaced.
        pump_history: cumulative completed cycles per pump at each sample, shape
            (n_samples, n_pumps) (``sim.pump_cycles_history()``).
        rates: the scenario's first-order rates in 1/ms (``sim.pump_rates()``), or None.
        warmup_ms: simulated time to drop at the start (ms).
        confidence: CI coverage.
        applies_fraction: the rate-based theory is flagged as applying when the first-order
            steps account for at least this fraction of the observed mean cycle time (the
            rest being diffusion-limited binding, which the theory leaves out).

    Returns:
        dict with ``pump`` and ``membrane`` (:meth:`FanoEstimate.as_dict`, pooled over pumps
        for ``pump``; each says whether its count was ``stationary``), ``turnover_per_ms``
        (observed cycles per pump per ms), and when rates are given ``theory``
        (:func:`renewal_fano`), ``theory_applies`` (bool) and ``first_order_time_fraction``
        (see :data:`FANO_CAVEAT`).
    """
    t = np.asarray(times_ms, dtype=float)
    h = np.asarray(pump_history, dtype=float)
    if h.ndim != 2 or h.shape[0] != t.size:
        raise ValueError(f"pump_history must be (n_samples={t.size}, n_pumps), got {h.shape}")
    i0 = int(np.searchsorted(t, t[0] + warmup_ms - 1e-9))
    t, h = t[i0:], h[i0:]
    report: dict = {}
    span = t[-1] - t[0]
    turnover = float((h[-1] - h[0]).mean() / span) if span > 0 else math.nan
    report["turnover_per_ms"] = turnover
    report["pump"] = long_time_fano(h, t, confidence=confidence).as_dict()
    report["membrane"] = long_time_fano(h.sum(axis=1), t, n_units=h.shape[1],
                                        confidence=confidence).as_dict()
    if rates is not None:
        theo = renewal_fano(rates)
        report["theory"] = theo
        frac = theo["mean_cycle_time"] * turnover if turnover > 0 else math.nan
        report["first_order_time_fraction"] = frac
        report["theory_applies"] = bool(np.isfinite(frac) and frac >= applies_fraction)
    return report
