"""Fano factors of counting series, the randomness parameter and renewal theory.

Counts are plain integers (ions or cycles) sampled at equally spaced times; times in ms.
Nothing here knows the simulation or its results table.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Mapping

import numpy as np

from .intervals import t_quantile


@dataclass(frozen=True)
class FanoEstimate:
    """A Fano factor estimate F = var(N_T)/<N_T> of counts N_T in windows of length T.

    Attributes:
        value: point estimate (dimensionless).
        ci_low, ci_high: confidence interval (``confidence`` coverage).
        se: standard error of ``value``.
        window: window length in samples.
        window_ms: window length in ms (NaN when no times were given).
        n_windows: windows per series.
        n_series: independent series pooled (pumps or replicates).
        mean_count: mean count per window per series.
        method: ``"batch"`` (batch means over time) or ``"bootstrap"`` (over series).
        confidence: coverage of the CI.
        n_units: renewal processes summed per series (see :func:`long_time_fano`).
        stationary: no trend in the count over :data:`TREND_WINDOWS` windows of the series
            (:func:`trend_test`); a Fano factor of a count whose rate drifts measures the
            drift, not the fluctuations.
        trend: relative change of the count rate over the series fitted by the trend test
            (e.g. -0.9: the rate fell by 90 %).
    """

    value: float
    ci_low: float
    ci_high: float
    se: float
    window: int
    window_ms: float
    n_windows: int
    n_series: int
    mean_count: float
    method: str
    confidence: float
    n_units: int = 1
    stationary: bool = True
    trend: float = 0.0

    def as_dict(self) -> dict:
        """The fields as a plain dict (for tables and JSON)."""
        return asdict(self)


def _as_2d(cumulative) -> np.ndarray:
    c = np.asarray(cumulative, dtype=float)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2:
        raise ValueError(f"cumulative counts must be 1-D or 2-D (samples, series), got {c.shape}")
    return c


def window_counts(cumulative, window: int) -> np.ndarray:
    """Counts in consecutive non-overlapping windows of a cumulative count series.

    Args:
        cumulative: cumulative counts sampled at equally spaced times, shape (n_samples,)
            or (n_samples, n_series) (e.g. ``sim.pump_cycles_history()``).
        window: window length in samples (>= 1).

    Returns:
        Counts per window, shape (n_windows, n_series), n_windows = (n_samples - 1) // window.
    """
    c = _as_2d(cumulative)
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1 sample, got {window}")
    n_win = (c.shape[0] - 1) // window
    idx = np.arange(n_win + 1) * window
    return np.diff(c[idx], axis=0)


def _pooled_fano(counts: np.ndarray) -> float:
    """Within-series pooled Fano factor: sum of per-series variances / sum of means."""
    if counts.shape[0] < 2:
        return math.nan
    m = counts.mean(axis=0).sum()
    if m <= 0:
        return math.nan
    return float(counts.var(axis=0, ddof=1).sum() / m)


def fano_factor(
    cumulative,
    window: int,
    *,
    times_ms=None,
    confidence: float = 0.95,
    method: str = "auto",
    n_batches: int = 10,
    n_boot: int = 1000,
    seed: int = 0,
) -> FanoEstimate:
    """Fano factor of counts in windows of ``window`` samples, with a confidence interval.

    The point estimate pools the series within-series: F = sum_s var_s(N) / sum_s mean_s(N)
    (variance with ddof=1 over the windows of each series), so differences in rate between
    pumps or replicates do not inflate it. For a renewal process F(T) -> CV^2 of the cycle
    time as T grows (bias of order 1/<N_T>), see :func:`long_time_fano`.

    CI methods:
        ``"batch"``: the windows are split in time into ``n_batches`` contiguous batches, F is
        computed in each, and the CI is F +/- t_{B-1} * sd(F_b)/sqrt(B) (batch means).
        ``"bootstrap"``: the series are resampled with replacement ``n_boot`` times; the CI is
        the percentile interval. ``"auto"`` picks bootstrap with >= 20 series, else batch.

    Args:
        cumulative: cumulative counts, shape (n_samples,) or (n_samples, n_series), sampled
            at equally spaced times.
        window: window length in samples.
        times_ms: sample times, shape (n_samples,), ms; only used to report ``window_ms``.
        confidence: CI coverage.
        method: ``"auto"``, ``"batch"`` or ``"bootstrap"``.
        n_batches: batches for the batch-means CI (reduced when there are few windows).
        n_boot: bootstrap resamples.
        seed: seed of the bootstrap's generator.

    Returns:
        A :class:`FanoEstimate`.
    """
    counts = window_counts(cumulative, window)
    n_win, n_ser = counts.shape
    if n_win < 2:
        raise ValueError(f"need at least 2 windows of {window} samples, got {n_win}")
    value = _pooled_fano(counts)
    if method == "auto":
        method = "bootstrap" if n_ser >= 20 else "batch"
    if method == "bootstrap":
        lo, hi, se = _bootstrap_ci(counts, confidence, n_boot, seed)
    elif method == "batch":
        lo, hi, se = _batch_means_ci(counts, value, confidence, n_batches)
    else:
        raise ValueError(f"method must be 'auto', 'batch' or 'bootstrap', got {method!r}")
    window_ms = math.nan
    if times_ms is not None:
        t = np.asarray(times_ms, dtype=float)
        if t.size >= 2:
            window_ms = float(np.median(np.diff(t)) * window)
    c = _as_2d(cumulative)
    trend = trend_test(window_counts(c, max(1, (c.shape[0] - 1) // TREND_WINDOWS)))
    return FanoEstimate(float(value), float(lo), float(hi), float(se), int(window), window_ms,
                        int(n_win), int(n_ser), float(counts.mean()), method, float(confidence),
                        stationary=trend["stationary"], trend=trend["relative_change"])


#: Windows of the trend test of a Fano estimate: finer than the estimate's own (often only
#: 8-40), so that a rate that stops half-way is not mistaken for noise.
TREND_WINDOWS = 40


def trend_test(counts, confidence: float = 0.99) -> dict[str, float]:
    """Test counts in consecutive windows for a linear trend (a rate that drifts).

    Least-squares slope of the count per window (summed over series) against the window
    index, with its standard error from the residuals; the series is called stationary when
    |slope / se| is below the two-sided Student-t critical value on n_windows - 2 degrees of
    freedom (at ``confidence``, default 0.99: a stationary series is called drifting one
    time in 100).

    Args:
        counts: counts per window, shape (n_windows,) or (n_windows, n_series), n_windows >= 3.
        confidence: coverage of the test.

    Returns:
        dict with ``slope`` (counts per window, per window), ``t`` (slope / its standard
        error), ``relative_change`` (fitted change over the whole series / mean count;
        0 for a constant series) and ``stationary`` (bool).
    """
    y = np.asarray(counts, dtype=float)
    y = y.sum(axis=1) if y.ndim == 2 else y
    n = y.size
    if n < 3:
        raise ValueError(f"a trend test needs at least 3 windows, got {n}")
    x = np.arange(n, dtype=float) - (n - 1) / 2.0
    slope = float(x @ (y - y.mean()) / (x @ x))
    resid = y - y.mean() - slope * x
    se = math.sqrt(float(resid @ resid) / (n - 2) / float(x @ x))
    t = slope / se if se > 0 else (0.0 if slope == 0 else math.copysign(math.inf, slope))
    change = slope * (n - 1) / y.mean() if y.mean() > 0 else 0.0
    return {"slope": slope, "t": float(t), "relative_change": float(change),
            "stationary": bool(abs(t) < t_quantile(confidence, n - 2))}


def _bootstrap_ci(counts: np.ndarray, confidence: float, n_boot: int,
                  seed: int) -> tuple[float, float, float]:
    """Percentile CI and standard error of the pooled Fano factor, resampling the series.

    Args:
        counts: counts per window, shape (n_windows, n_series), n_series >= 2.
        confidence: CI coverage.
        n_boot: bootstrap resamples.
        seed: seed of the resampling generator.

    Returns:
        (ci_low, ci_high, se); NaN when no resample gave a finite value.
    """
    n_ser = counts.shape[1]
    if n_ser < 2:
        raise ValueError("bootstrap over series needs at least 2 series")
    var_s = counts.var(axis=0, ddof=1)
    mean_s = counts.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_ser, size=(n_boot, n_ser))
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = var_s[idx].sum(axis=1) / mean_s[idx].sum(axis=1)
    boot = boot[np.isfinite(boot)]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha]) if boot.size else (math.nan, math.nan)
    se = float(boot.std(ddof=1)) if boot.size > 1 else math.nan
    return lo, hi, se


def _batch_means_ci(counts: np.ndarray, value: float, confidence: float,
                    n_batches: int) -> tuple[float, float, float]:
    """Batch-means CI of the pooled Fano factor: ``value`` +/- t_{B-1} sd(F_b)/sqrt(B).

    Args:
        counts: counts per window, shape (n_windows, n_series).
        value: the pooled Fano factor of all windows.
        confidence: CI coverage.
        n_batches: contiguous batches in time (at most n_windows // 2).

    Returns:
        (ci_low, ci_high, se); NaN when fewer than two batches gave a finite value.
    """
    n_win = counts.shape[0]
    b = int(min(n_batches, n_win // 2))
    if b < 2:
        raise ValueError(f"batch-means CI needs at least 4 windows, got {n_win}")
    per = n_win // b
    fb = np.array([_pooled_fano(counts[i * per:(i + 1) * per]) for i in range(b)])
    fb = fb[np.isfinite(fb)]
    if fb.size >= 2:
        se = float(fb.std(ddof=1) / math.sqrt(fb.size))
        half = t_quantile(confidence, fb.size - 1) * se
    else:
        se = half = math.nan
    return value - half, value + half, se


def long_time_fano(
    cumulative,
    times_ms=None,
    *,
    n_units: int = 1,
    target_count: float = 30.0,
    min_windows: int = 40,
    **kwargs,
) -> FanoEstimate:
    """Long-time Fano factor: windows long enough to hold ~``target_count`` cycles of each unit.

    For a renewal process F(T) = CV^2 + O(<tau>/T); with ~30 cycles per window the bias is
    about 1 % of CV^2 or less for the cycles met here. A series that sums ``n_units``
    independent renewal processes (the membrane's count sums its pumps) has the same F(T)
    as one unit, so the window is set by the cycles per unit, not by the total. The window
    is shortened when needed so that every series still has at least ``min_windows``
    windows (needed for a usable CI); the estimate is then biased towards 1 when the window
    holds few cycles per unit: check ``mean_count / n_units`` in the result.

    Args:
        cumulative: cumulative counts, shape (n_samples,) or (n_samples, n_series), equally
            spaced in time (drop any warm-up samples before calling).
        times_ms: sample times, shape (n_samples,), ms (reported as ``window_ms``).
        n_units: independent renewal processes summed in each series (1 for one pump,
            ``n_pumps`` for the membrane).
        target_count: wanted mean count per window per unit.
        min_windows: least number of windows per series.
        **kwargs: passed to :func:`fano_factor` (confidence, method, ...).

    Returns:
        A :class:`FanoEstimate`.
    """
    c = _as_2d(cumulative)
    n_samples = c.shape[0]
    total = float(np.mean(c[-1] - c[0]))
    rate = total / max(n_units, 1) / max(n_samples - 1, 1)  # events per sample per unit
    window = int(math.ceil(target_count / rate)) if rate > 0 else 1
    window = max(1, min(window, (n_samples - 1) // max(min_windows, 2)))
    if window < 1 or (n_samples - 1) // window < 4:
        raise ValueError(f"too few samples ({n_samples}) for a Fano factor estimate")
    est = fano_factor(c, window, times_ms=times_ms, **kwargs)
    return replace(est, n_units=max(int(n_units), 1))



def randomness_parameter(dwell_times, confidence: float = 0.95) -> dict[str, float]:
    """Randomness parameter r = var(tau)/<tau>^2 of cycle (dwell) times (Schnitzer & Block 1995).

    For a renewal process r equals the long-time Fano factor of the count; 1/r is a lower
    bound on the number of rate-limiting steps in the cycle (``n_min``).

    Args:
        dwell_times: cycle completion intervals, shape (n,), any time unit.
        confidence: CI coverage (normal approximation with the delta-method SE of r).

    Returns:
        dict with ``r``, ``se``, ``ci_low``, ``ci_high``, ``n_min`` (= 1/r), ``n``,
        ``mean`` (mean dwell time, unit of the input).
    """
    x = np.asarray(dwell_times, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 3:
        raise ValueError(f"need at least 3 dwell times, got {n}")
    m = x.mean()
    v = x.var(ddof=1)
    r = v / m**2
    # Delta method: r = mu2/mu^2; var(r_hat) ~ (mu4 - mu2^2)/(n mu^4) - 4 mu3/(n mu^5)... use
    # the general formula grad' Sigma grad for (mean, second central moment).
    d = x - m
    mu2, mu3, mu4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    g_m = -2.0 * mu2 / m**3
    g_v = 1.0 / m**2
    var_r = (g_m**2 * mu2 + 2 * g_m * g_v * mu3 + g_v**2 * (mu4 - mu2**2)) / n
    se = math.sqrt(max(var_r, 0.0))
    half = t_quantile(confidence, math.inf) * se
    return {"r": float(r), "se": se, "ci_low": float(r - half), "ci_high": float(r + half),
            "n_min": float(1.0 / r) if r > 0 else math.inf, "n": int(n), "mean": float(m)}


def renewal_fano(rates) -> dict[str, float]:
    """Theoretical Fano factor of a cycle of irreversible exponential steps in series.

    The cycle time is hypoexponential: mean = sum 1/k_i, variance = sum 1/k_i^2, and the
    long-time Fano factor of the cycle count is F = CV^2 = variance / mean^2 (N equal steps
    give 1/N). An infinite rate adds nothing.

    Args:
        rates: first-order rates k_i (any one unit, e.g. 1/ms), a sequence or a mapping of
            name -> rate (values that are None are skipped).

    Returns:
        dict with ``fano``, ``mean_cycle_time`` and ``var_cycle_time`` (in 1/unit of rates),
        ``turnover`` (= 1/mean, unit of rates) and ``n_steps``.
    """
    vals = list(rates.values()) if isinstance(rates, Mapping) else list(rates)
    k = np.array([float(v) for v in vals if v is not None], dtype=float)
    if k.size == 0:
        raise ValueError("no rates given")
    if np.any(~(k > 0)):
        raise ValueError(f"rates must be > 0, got {k}")
    inv = np.where(np.isinf(k), 0.0, 1.0 / k)
    mean = float(inv.sum())
    var = float((inv**2).sum())
    return {"fano": var / mean**2, "mean_cycle_time": mean, "var_cycle_time": var,
            "turnover": 1.0 / mean, "n_steps": int(np.count_nonzero(inv))}
