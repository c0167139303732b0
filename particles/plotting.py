"""The standard figures for an ionpump results file (matplotlib, headless Agg backend).

:func:`plot_file` reads a results table (``.csv`` or ``.parquet``, with ``FILE.meta.json``
beside it when present) and picks the view:

- **sweep** (the table has varied-key columns: ``meta["vary"]`` in ``FILE.meta.json``, or
  columns named by a dotted scenario key such as ``ions.na.inside_mM``): pump turnover
  against each varied key, mean ± 95 % CI over replicates, with a fitted Hill curve; the
  half-saturation K½ and Hill coefficient n are printed on the figure.
- **iv** (a sweep whose only varied key is ``membrane.clamp_mV``): the pump's
  current-voltage relation with the master-equation curve and the reversal potential
  (:mod:`particles.plot_iv`).
- **tracer** (``tracer_in``/``tracer_efflux`` with labelled Na⁺, and a ``phase`` column with a
  K-free or poison (DNP, cyanide) phase or at least three phases): the Hodgkin-Keynes
  Figure 4.11 view, tracer efflux on a log axis against time, phases shaded and labelled
  with their efflux rate constant.
- **run** (anything else): 2×2 panels of concentrations, membrane potential, cumulative
  cycles and ions pumped, and pump-state occupancy against time.

Figures are written at 150 dpi; the format follows the extension (``.png``, ``.svg``,
``.pdf``). A table with several replicates is drawn as the mean over replicates.
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Mapping

import matplotlib

# headless: never needs a display; but a backend already chosen (a notebook's inline backend
# through MPLBACKEND, or pyplot already in use) is kept, so that figures show in notebooks
if not os.environ.get("MPLBACKEND") and "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from particles import reports, stats  # noqa: E402
from particles.config import key_unit  # noqa: E402
from particles.output import OutputError, read_meta, read_table  # noqa: E402
from particles.plot_iv import IV_KEY, master_equation_curve, plot_iv  # noqa: E402
from particles.palette import (CYCLES_RGB, K_RGB, NA_RGB, STATES, V_RGB,  # noqa: E402
                               hex_colour, state_of_column)

NA_C, K_C, V_C, DARK = (hex_colour(c) for c in (NA_RGB, K_RGB, V_RGB, CYCLES_RGB))
OCCUPANCY_BINS = 150   # a longer run's occupancy is averaged into this many bins

__all__ = ["table_kind", "plot_file", "plot_run", "plot_tracer", "plot_sweep", "plot_iv",
           "FORMATS"]

FORMATS = (".png", ".svg", ".pdf")
DPI = 150

#: Axis names for common scenario keys (the unit comes from the schema: config.key_unit).
KEY_NAMES = {
    "ions.na.inside_mM": "[Na⁺] inside",
    "ions.na.outside_mM": "[Na⁺] outside",
    "ions.k.inside_mM": "[K⁺] inside",
    "ions.k.outside_mM": "[K⁺] outside",
    "pumps.count": "pumps",
    "atp.initial_mM": "[ATP]",
    "atp.adp_mM": "[ADP]",
    "atp.pi_mM": "[Pi]",
    "membrane.clamp_mV": "clamp potential",
    "domain.width_um": "box width",
    "domain.height_um": "membrane length",
    "domain.depth_um": "slab depth",
    "membrane.temperature_C": "temperature",
    "ouabain.concentration_mM": "[ouabain]",
}

#: Figures a sweep can be drawn against, with their axis labels.
Y_LABELS = {
    "cycles_per_pump_per_s": "pump turnover (cycles pump⁻¹ s⁻¹)",
    "na_efflux_per_pump_per_s": "Na⁺ efflux (ions pump⁻¹ s⁻¹)",
    "na_efflux_per_s": "Na⁺ efflux (ions s⁻¹)",
}

PHASE_COLOURS = {"k-free": "#4C78A8", "dnp": "#E45756", "poison": "#E45756",
                 "cyanide": "#E45756", "ouabain": "#B279A2", "washout": "#72B7B2"}
TRACER_PHASES = re.compile(r"k[- ]?free|dnp|poison|cyanide", re.IGNORECASE)


def _has_tracer(df: pd.DataFrame) -> bool:
    return {"tracer_in", "tracer_efflux"} <= set(df.columns) and float(df["tracer_in"].max()) > 0


def table_kind(df: pd.DataFrame, meta: Mapping | None = None) -> str:
    """Which view a table gets: ``"iv"``, ``"sweep"``, ``"tracer"`` or ``"run"`` (see module
    doc)."""
    keys = reports.sweep_keys(df, meta)
    if keys:
        return "iv" if keys == [IV_KEY] else "sweep"
    if _has_tracer(df) and "phase" in df.columns:
        phases = df["phase"].astype(str).unique()
        if len(phases) >= 3 or any(TRACER_PHASES.search(p) for p in phases):
            return "tracer"
    return "run"


def plot_file(path_in: str | Path, path_out: str | Path, kind: str | None = None) -> str:
    """Draw the standard figure for a results file.

    Args:
        path_in: results table (``.csv``/``.parquet``); ``path_in + ".meta.json"`` is read
            when present (sweep keys, scenario name).
        path_out: figure file; ``.png``, ``.svg`` or ``.pdf``.
        kind: force ``"run"``, ``"tracer"``, ``"sweep"`` or ``"iv"``; default
            :func:`table_kind`.

    Returns:
        The view drawn.

    Raises:
        particles.output.OutputError: unknown extension, unreadable input, a table without
            ``time_ms`` (one-line :class:`~particles.config.ScenarioError`, exit 2 in the CLI).
        ValueError: unknown ``kind``.
    """
    out = Path(path_out)
    if out.suffix.lower() not in FORMATS:
        raise OutputError(out, f"figure file must end in {', '.join(FORMATS)}")
    df = read_table(path_in)
    if "time_ms" not in df.columns:
        raise OutputError(Path(path_in), "not an ionpump results table (no time_ms column)")
    meta = read_meta(path_in)
    kind = kind or table_kind(df, meta)
    title = _title(meta, path_in)
    if kind == "iv":
        fig = plot_iv(df, meta=meta, title=title)
    elif kind == "sweep":
        fig = plot_sweep(df, meta=meta, title=title)
    elif kind == "tracer":
        fig = plot_tracer(df, title=title)
    elif kind == "run":
        fig = plot_run(df, title=title)
    else:
        raise ValueError(f"unknown figure kind {kind!r} (run, tracer, sweep or iv)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=DPI)
    except OSError as e:
        raise OutputError(out, f"cannot write figure: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return kind


# ------------------------------------------------------------------------------ helpers


def _title(meta: Mapping, path) -> str:
    """Scenario name, with the ``--set`` overrides of a sweep, e.g. "saturation with [Na⁺]
    outside = 0 mM"; the file name when the metadata has no scenario."""
    sc = meta.get("scenario")
    name = None
    if isinstance(sc, Mapping):
        name = sc.get("name") or sc.get("title")
    elif isinstance(sc, str):
        name = sc
    title = str(name) if name else Path(path).name
    over = meta.get("overrides")
    if isinstance(over, Mapping) and over:  # a sweep's --set keys: part of what was run
        title += " with " + ", ".join(
            f"{KEY_NAMES.get(k, k)} = {v:g}{_unit_suffix(k)}" if isinstance(v, (int, float))
            else f"{k} = {v}" for k, v in over.items())
    return title


def _time_axis(t_ms: np.ndarray) -> tuple[float, str]:
    """(divisor, unit) so that the time axis reads in ms, s or min."""
    span = float(np.nanmax(t_ms) - np.nanmin(t_ms)) if len(t_ms) else 0.0
    if span >= 120_000:
        return 60_000.0, "min"
    if span >= 2_000:
        return 1_000.0, "s"
    return 1.0, "ms"


def _mean_over_replicates(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Mean of numeric columns per time over replicates (phase of the first replicate)."""
    if "replicate" not in df.columns or df["replicate"].nunique() <= 1:
        return df.sort_values("time_ms", kind="stable").reset_index(drop=True), 1
    n = int(df["replicate"].nunique())
    num = df.select_dtypes("number").groupby("time_ms", sort=True).mean().reset_index()
    if "phase" in df.columns:
        first = df[df["replicate"] == df["replicate"].min()].drop_duplicates("time_ms")
        num = num.merge(first[["time_ms", "phase"]], on="time_ms", how="left")
    return num, n


def _phase_segments(t: np.ndarray, phase: np.ndarray) -> list[tuple[str, float, float]]:
    """Contiguous (label, start, end) periods; a phase starts where its first sample lies."""
    segs: list[tuple[str, float, float]] = []
    start = 0
    for i in range(1, len(phase) + 1):
        if i == len(phase) or phase[i] != phase[start]:
            t0 = t[start - 1] if start > 0 else t[0]  # change happened after the previous sample
            segs.append((str(phase[start]), float(t0), float(t[i - 1])))
            start = i
    return segs


def _phase_colour(label: str) -> str:
    low = label.lower()
    for key, colour in PHASE_COLOURS.items():
        if key in low:
            return colour
    return "#9D9D9D"


def _label_height(j: int) -> float:
    """Top of period ``j``'s label (axes fraction): neighbours alternate between two heights,
    so the labels of short periods side by side do not run into each other."""
    return 0.97 if j % 2 == 0 else 0.86


def _shade_phases(ax, segs, scale, baseline: str | None, label: bool = True,
                  annotations: Mapping[int, str] | None = None):
    """Shade every period whose label differs from ``baseline`` and name it at the top."""
    for j, (lab, a, b) in enumerate(segs):
        if lab == baseline:
            continue
        ax.axvspan(a / scale, b / scale, color=_phase_colour(lab), alpha=0.15, lw=0)
        if label:
            text = lab + (f"\n{annotations[j]}" if annotations and j in annotations else "")
            ax.text((a + b) / 2 / scale, _label_height(j), text,
                    transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8,
                    color=_phase_colour(lab), fontweight="bold")


# ------------------------------------------------------------------------------ run view


def plot_run(df: pd.DataFrame, title: str = "") -> plt.Figure:
    """2×2 panels: concentrations, potential, cycles and ions pumped, pump-state occupancy.

    Args:
        df: results table of one run (or several replicates, drawn as their mean).
        title: figure title.

    Returns:
        The figure (caller saves and closes it).
    """
    run, n_rep = _mean_over_replicates(df)
    t = run["time_ms"].to_numpy(dtype=float)
    scale, unit = _time_axis(t)
    x = t / scale
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    (ax_c, ax_v), (ax_n, ax_p) = axes
    segs = (_phase_segments(t, run["phase"].astype(str).to_numpy())
            if "phase" in run.columns else [])
    baseline = segs[0][0] if segs else None
    _draw_concentrations(ax_c, run, x)
    if "v_mV" in run.columns:
        ax_v.plot(x, run["v_mV"], color=V_C, lw=1.4)
    ax_v.set_ylabel("membrane potential (mV)")
    ax_v.set_title("Potential")
    ax_v.yaxis.get_major_formatter().set_useOffset(False)
    _draw_cycles(ax_n, run, x)
    _draw_occupancy(ax_p, run, x, unit)
    for ax in axes.flat:
        if len(segs) > 1:
            _shade_phases(ax, segs, scale, baseline, label=ax is ax_c or ax is ax_v)
        ax.grid(alpha=0.3, lw=0.5)
    for ax in axes[1]:
        ax.set_xlabel(f"time ({unit})")
    sup = title + (f" (mean of {n_rep} replicates)" if n_rep > 1 else "")
    if sup:
        fig.suptitle(sup, fontsize=12)
    fig.tight_layout()
    return fig


def _draw_concentrations(ax, run: pd.DataFrame, x: np.ndarray) -> None:
    """Concentrations (mM when the table has them, else free ion counts) against ``x``."""
    series = [("na_in", "Na⁺ in", NA_C, "-"), ("na_out", "Na⁺ out", NA_C, "--"),
              ("k_in", "K⁺ in", K_C, "-"), ("k_out", "K⁺ out", K_C, "--")]
    use_mM = all(f"{c}_mM" in run.columns for c, *_ in series)
    vals = []
    for col, lab, colour, ls in series:
        c = f"{col}_mM" if use_mM else col
        if c in run.columns:
            y = run[c].to_numpy(dtype=float)
            vals.append(y)
            ax.plot(x, y, color=colour, ls=ls, lw=1.4, label=lab)
    if vals:
        pos = np.concatenate(vals)
        pos = pos[pos > 0]
        if pos.size and pos.max() / pos.min() > 5:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
    ax.set_ylabel("concentration (mM)" if use_mM else "free ions (count)")
    ax.set_title("Concentrations")
    ax.legend(fontsize=8, ncol=2, loc="best")


def _draw_cycles(ax, run: pd.DataFrame, x: np.ndarray) -> None:
    """Cumulative cycles and ions moved by the pumps; the turnover in the title."""
    for col, lab, colour in (("na_pumped_out", "Na⁺ pumped out", NA_C),
                             ("k_pumped_in", "K⁺ pumped in", K_C),
                             ("cycles", "cycles", DARK)):
        if col in run.columns:
            ax.plot(x, run[col], color=colour, lw=1.4, label=lab)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("cumulative count (all pumps)")
    fig_rate = reports.run_figures(run, fano=False)["cycles_per_pump_per_s"]
    ax.set_title("Pump cycles" + (f"\n(mean over the run: {fig_rate:.3g} cycles pump⁻¹ s⁻¹)"
                                  if np.isfinite(fig_rate) else ""))
    ax.legend(fontsize=8, loc="upper left")


def _draw_occupancy(ax, run: pd.DataFrame, x: np.ndarray, unit: str) -> None:
    """Fraction of pumps in each state as a stacked area, in the window's state colours and
    names; a run of more than :data:`OCCUPANCY_BINS` samples is averaged into that many bins
    (the fractions over each bin), so a few pumps do not draw a barcode."""
    npump = reports.n_pumps(run)
    pcols = [c for c in run.columns if isinstance(c, str) and state_of_column(c) is not None]
    note = ""
    if pcols and npump > 0:
        occ = run[pcols].to_numpy(dtype=float) / npump
        xs = x
        if len(x) > OCCUPANCY_BINS:
            edges = np.linspace(0, len(x), OCCUPANCY_BINS + 1).astype(int)
            occ = np.add.reduceat(occ, edges[:-1], axis=0) / np.diff(edges)[:, None]
            xs = np.add.reduceat(x, edges[:-1]) / np.diff(edges)
            note = f", mean over bins of {(x[-1] - x[0]) / OCCUPANCY_BINS:.2g} {unit}"
        top = np.cumsum(occ, axis=1)
        for j, c in enumerate(pcols):
            name, rgb = STATES[state_of_column(c)]
            lower = top[:, j - 1] if j else np.zeros_like(xs)
            ax.fill_between(xs, lower, top[:, j], lw=0, alpha=0.9, color=hex_colour(rgb),
                            label=name, step=None if note else "post")
        ax.set_ylim(0, 1)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], fontsize=7, loc="center left",
                  bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_ylabel("fraction of pumps")
    ax.set_title(f"Pump states ({npump} pump{'' if npump == 1 else 's'}{note})")


# ------------------------------------------------------------------------------ tracer view


def _binned_efflux(run: pd.DataFrame, max_points: int = 60) -> pd.DataFrame:
    """Tracer efflux in bins of whole sample intervals that never straddle a phase change."""
    iv = reports.tracer_efflux_intervals(run)
    b = max(1, int(math.ceil(len(iv) / max_points)))
    seg = (iv["phase"] != iv["phase"].shift()).cumsum()
    pos = iv.groupby(seg).cumcount() // b
    g = iv.groupby([seg, pos], sort=False)
    out = g.agg(t0=("t_start_ms", "min"), t1=("time_ms", "max"), efflux=("efflux", "sum"),
                exposure=("exposure", "sum"), phase=("phase", "first")).reset_index(drop=True)
    out["dt_ms"] = out["t1"] - out["t0"]
    return out


def _replicates_per_bin(df: pd.DataFrame, bins: pd.DataFrame) -> np.ndarray:
    """How many replicates have samples throughout each bin (a shorter run, e.g. an
    interrupted one, drops out of the later bins), shape (len(bins),)."""
    per_t = df.groupby("time_ms")["replicate"].nunique()
    t, n = per_t.index.to_numpy(float), per_t.to_numpy()
    return np.array([n[(t > a) & (t <= b)].min() if ((t > a) & (t <= b)).any() else 1
                     for a, b in zip(bins["t0"], bins["t1"])])


def plot_tracer(df: pd.DataFrame, title: str = "") -> plt.Figure:
    """Hodgkin-Keynes (Figure 4.11) view: tracer efflux on a log axis against time.

    Efflux is the labelled Na⁺ released per unit time, in bins of whole sample intervals
    (at most ~60 bins, never straddling a phase change), with Poisson error bars (± one
    standard error from the count, over the replicates present in the bin; the lower bar is
    cut at a fifth of the value, since the log axis cannot reach zero). A bin in which no
    labelled ion left cannot be drawn on a log axis: it is marked by an open triangle on the
    bottom edge and the line breaks there.
    Every phase other than the first is shaded and labelled with its efflux rate constant k
    (per unit of the time axis, simulated time); a return to the first phase's label (the
    second control, after washout) is labelled with its own k. The dashed line is the efflux
    the first phase's rate constant would give over the whole run, k times the labelled Na⁺
    inside (nearly straight on the log axis; one parameter, so it does not tilt with the
    noise of a few bins): efflux that comes back onto it after a washout has recovered fully
    (Hodgkin & Keynes 1955, Figure 4.11 in Hille).

    Args:
        df: results table with ``time_ms``, ``tracer_in``, ``tracer_efflux``, ``phase``.
        title: figure title.

    Returns:
        The figure.
    """
    run, n_rep = _mean_over_replicates(df)
    if "phase" not in run.columns:
        run = run.assign(phase="all")
    t = run["time_ms"].to_numpy(dtype=float)
    scale, unit = _time_axis(t)
    bins = _binned_efflux(run)
    width = (bins["dt_ms"] / scale).to_numpy()
    count = bins["efflux"].to_numpy(dtype=float)  # mean count per replicate
    rate = count / width  # ions per time unit
    n_at = _replicates_per_bin(df, bins) if n_rep > 1 else np.ones(len(bins))
    err = np.sqrt(count * n_at) / n_at / width  # Poisson s.e. of the mean count
    mid = ((bins["t0"] + bins["t1"]) / 2 / scale).to_numpy()

    fig, ax = plt.subplots(figsize=(8, 4.8))
    segs = _phase_segments(t, run["phase"].astype(str).to_numpy())
    ks = reports.efflux_rate_constants(run, by="segment")
    notes = {int(r.segment): f"k = {r.k_per_ms * scale:.3g} {unit}⁻¹"
             for r in ks.itertuples() if np.isfinite(r.k_per_ms)}
    finite = np.isfinite(rate) & (width > 0)
    ok = finite & (rate > 0)
    empty = finite & (count == 0)
    ax.semilogy(mid, np.where(ok, rate, np.nan), "-", lw=1.0, color="#222222")
    ax.errorbar(mid[ok], rate[ok], yerr=(np.minimum(err[ok], 0.8 * rate[ok]), err[ok]),
                fmt="o", ms=3.5, elinewidth=0.8, capsize=0, color="#222222",
                label="²⁴Na⁺ efflux (± Poisson s.e.)")
    ymin, ymax = (rate[ok].min(), rate[ok].max()) if ok.any() else (1, 10)
    ax.set_ylim(ymin / 3, ymax * 8)  # headroom for the phase labels (two heights)
    if empty.any():
        ax.plot(mid[empty], np.full(empty.sum(), ymin / 2.4), "v", ms=5, mfc="none",
                color="#222222", clip_on=False, label="bin with no ²⁴Na⁺ efflux")
    _shade_phases(ax, segs, scale, segs[0][0] if segs else None, annotations=notes)
    for j, (lab, a, b) in enumerate(segs):
        if j and lab == segs[0][0] and j in notes:  # the baseline again: its own k
            ax.text((a + b) / 2 / scale, _label_height(j), f"{lab}\n{notes[j]}",
                    transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8,
                    color="#444444", fontweight="bold")
    if segs and 0 in notes:
        ax.text(0.01, 0.02, f"{segs[0][0]}: {notes[0]}", transform=ax.transAxes, fontsize=8,
                color="#444444")
    k0 = ks["k_per_ms"].iloc[0] if len(ks) else math.nan
    if np.isfinite(k0) and k0 > 0:
        ax.plot(t / scale, k0 * scale * run["tracer_in"].to_numpy(dtype=float), "--", lw=1.2,
                color=hex_colour(K_RGB), label=f"first {segs[0][0] if segs else 'phase'}'s k "
                "× labelled Na⁺ inside")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel(f"²⁴Na⁺ efflux (ions {unit}⁻¹, log scale)")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 0.06))
    sup = "Tracer efflux" + (f": {title}" if title else "")
    if n_rep > 1:
        sup += f" (mean of {n_rep} replicates)"
    ax.set_title(sup)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ sweep view


def _key_label(key: str) -> str:
    """Axis label of a scenario key, e.g. "[K⁺] outside (mM)"."""
    name, unit = KEY_NAMES.get(key, key), key_unit(key)
    return f"{name} ({unit})" if unit and unit != name else name


def _unit_suffix(key: str) -> str:
    """" mM" for a key in mM, else "" (or " pumps" and the like)."""
    unit = key_unit(key)
    return f" {unit}" if unit else ""


def plot_sweep(df: pd.DataFrame, meta: Mapping | None = None, title: str = "",
               y: str = "cycles_per_pump_per_s", warmup_fraction: float = 0.2,
               confidence: float = 0.95) -> plt.Figure:
    """Flux against each varied key, mean ± CI over replicates, with a fitted Hill curve.

    The rate of each run is taken after a warm-up of ``warmup_fraction`` of its duration
    (pumps start empty). With two or more varied keys, each panel draws one series per
    combination of the other keys. A sweep of turnover over one held concentration gets the
    well-mixed master-equation curve of the cycle too (dashed,
    :func:`particles.plot_iv.master_equation_curve`).

    Args:
        df: sweep table (varied-key columns, ``replicate``, results columns).
        meta: parsed ``FILE.meta.json`` (for ``vary``), optional.
        title: figure title.
        y: figure of :func:`particles.reports.run_figures` on the y axis.
        warmup_fraction: fraction of each run's duration skipped before measuring rates.
        confidence: coverage of the error bars.

    Returns:
        The figure.
    """
    keys = reports.sweep_keys(df, meta)
    if not keys:
        raise ValueError("not a sweep table: no varied-key columns")
    t = df["time_ms"].to_numpy(dtype=float)
    warmup = warmup_fraction * float(np.nanmax(t) - np.nanmin(t))
    runs = reports.per_run_figures(df, keys, warmup_ms=warmup, fano=False)
    n_keys = len(keys)
    fig, axes = plt.subplots(1, n_keys, figsize=(6.4 * n_keys, 4.8), squeeze=False)
    colours = plt.get_cmap("tab10").colors
    for ax, key in zip(axes[0], keys):
        others = [k for k in keys if k != key]
        groups = runs.groupby(others, sort=True) if others else [((), runs)]
        boxes = []
        for j, (okey, g) in enumerate(groups):
            okey = okey if isinstance(okey, tuple) else (okey,)
            name = ", ".join(f"{_key_label(k).split(' (')[0]} = {v:g}{_unit_suffix(k)}"
                             for k, v in zip(others, okey))
            box = _draw_sweep_series(ax, g, key, y, confidence, colours[j % len(colours)],
                                     name, legend_fit=not others)
            if box is not None:
                boxes.append(box)
        if not others and y == "cycles_per_pump_per_s":
            xs = np.linspace(0, float(runs[key].max()) * 1.05, 120)
            jt = master_equation_curve(meta or {}, df[t >= np.nanmin(t) + warmup], key, xs)
            if jt is not None:
                ax.plot(xs, jt, ls="--", lw=1.2, color="#555555",
                        label="master equation of the cycle (well mixed)")
        for i, (colour, text) in enumerate(boxes):  # above the data, in the headroom below
            ax.text(0.02, 0.97 - 0.13 * i, text.replace("; ", "\n", 1), transform=ax.transAxes,
                    ha="left", va="top", fontsize=8, color=colour,
                    bbox=dict(boxstyle="round,pad=0.3", fc="white", ec=colour, alpha=0.9))
        ax.set_xlabel(_key_label(key))
        ax.set_ylabel(Y_LABELS.get(y, y))
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_ylim(top=ax.get_ylim()[1] * (1.05 + 0.16 * len(boxes)))
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(fontsize=8, loc="lower right", borderaxespad=0.3)  # below a saturating curve
    n_rep = int(df["replicate"].nunique()) if "replicate" in df.columns else 1
    against = " and ".join(_key_label(k).split(" (")[0] for k in keys)
    head = (f"{Y_LABELS.get(y, y).split(' (')[0]} against {against} "
            f"({n_rep} replicate{'s' if n_rep != 1 else ''} per point)")
    if title:  # scenario (and overrides) on a line of their own, wrapped to the figure
        import textwrap

        head = textwrap.fill(title, width=int(64 * n_keys)) + "\n" + head
    fig.suptitle(head, fontsize=12)
    fig.tight_layout()
    return fig


def _draw_sweep_series(ax, runs: pd.DataFrame, key: str, y: str, confidence: float, colour,
                       name: str, legend_fit: bool) -> tuple[Any, str] | None:
    """One series of a sweep panel: mean ± CI of ``y`` at each value of ``key`` over the runs,
    and the saturation fit with guides to its half-way point.

    Args:
        ax: the panel.
        runs: per-run figures of the series (:func:`particles.reports.per_run_figures`).
        key: the varied key on the x axis.
        y: the figure on the y axis.
        confidence: coverage of the error bars.
        colour: the series' colour.
        name: the series' label (the values of the other varied keys), "" when none.
        legend_fit: give the fitted curve a legend entry.

    Returns:
        (colour, one line describing the fit) for the panel's fit boxes, or None.
    """
    summ = []
    for xv, gg in runs.groupby(key, sort=True):
        summ.append({"x": float(xv), **stats.mean_ci(gg[y].to_numpy(float), confidence)})
    s = pd.DataFrame(summ)
    err = (s["ci_high"] - s["mean"]).to_numpy()
    has_err = np.isfinite(err).all()
    n = int(s["n"].min())
    few = f", n = {n}: t on {n - 1} dof, too wide" if has_err and reports.few_replicates_note(n) \
        else ""
    ax.errorbar(s["x"], s["mean"], yerr=err if has_err else None, fmt="o", ms=5,
                capsize=3, color=colour, label=name or f"simulation (mean ± 95 % CI{few})"
                if has_err else name or "simulation")
    try:
        fit = stats.fit_saturation(s["x"], s["mean"], sigma=stats.fit_sigma(s["sem"]))
    except (ValueError, RuntimeError, np.linalg.LinAlgError):
        fit = None
    if fit is None or not np.isfinite(fit.K):
        ax.plot(s["x"], s["mean"], color=colour, lw=0.8, alpha=0.6)
        return None
    xs = np.linspace(0, float(s["x"].max()) * 1.05, 300)
    ax.plot(xs, fit(xs), color=colour, lw=1.4, label=None if not legend_fit else
            "Hill fit with baseline v0" if fit.baseline else "Hill fit")
    if 0 < fit.K < xs[-1]:  # guide lines to the half-way point (K½, v(K½))
        yk = float(fit(fit.K))
        ax.plot([fit.K, fit.K, 0], [0, yk, yk], ls=":", lw=1.0, color=colour, alpha=0.8)
    text = fit.describe(_unit_suffix(key).strip(), "s⁻¹" if y.endswith("_per_s") else "")
    return colour, f"{name + ': ' if name else ''}{text}"
