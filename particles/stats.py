"""Counting statistics for ionpump results: replicates, fluctuations, saturation fits.

Pure NumPy (and pandas for tables); SciPy is used when installed (Student-t quantiles,
``scipy.optimize.curve_fit``) and replaced by a normal approximation / a small
Levenberg-Marquardt fit when it is not. Nothing here reads or changes simulation state.

Units follow the results table: time in ms, counts are plain integers (ions or cycles),
rates are per ms unless a name says ``_per_s`` or ``_per_min``, concentrations in mM.

Main entry points:

- :func:`mean_ci` -- mean, standard deviation and confidence interval of a per-replicate figure.
- :func:`fano_factor`, :func:`long_time_fano` -- Fano factor of counts in windows of a
  cumulative count series (one pump, many pumps, or the whole membrane) with a CI.
- :func:`randomness_parameter` -- Schnitzer-Block randomness r = var(tau)/<tau>^2 of dwell times.
- :func:`renewal_fano` -- theoretical long-time Fano factor of a cycle of irreversible
  exponential steps (hypoexponential cycle time).
- :func:`fit_hill` -- saturating fit v = Vmax c^n / (K^n + c^n) with standard errors.
- :func:`tracer_efflux_intervals`, :func:`efflux_rate_constants` -- tracer efflux per
  sample interval and the efflux rate constant per protocol phase.
- :func:`run_figures`, :func:`summarize_replicates` -- headline figures per run and their
  mean / sd / CI over replicates.
- :func:`fluctuation_report` -- Fano factor of single pumps and of the membrane, compared
  with the value computed from the scenario's first-order rates.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

try:  # SciPy is a test extra, not a runtime dependency: every use has a fallback.
    from scipy import optimize as _sp_optimize
    from scipy import stats as _sp_stats
except ImportError:  # pragma: no cover - exercised only without scipy
    _sp_optimize = None
    _sp_stats = None

__all__ = [
    "FanoEstimate",
    "HillFit",
    "t_quantile",
    "mean_ci",
    "window_counts",
    "fano_factor",
    "long_time_fano",
    "fano_curve",
    "randomness_parameter",
    "renewal_fano",
    "hill",
    "fit_hill",
    "tracer_efflux_intervals",
    "efflux_rate_constants",
    "n_pumps",
    "run_figures",
    "run_groups",
    "per_run_figures",
    "summarize_replicates",
    "format_summary",
    "fluctuation_report",
    "sweep_keys",
]


# --------------------------------------------------------------------------------------
# Means and confidence intervals
# --------------------------------------------------------------------------------------


def t_quantile(confidence: float, dof: float) -> float:
    """Two-sided critical value of Student's t (normal when SciPy is absent or dof is inf).

    Args:
        confidence: coverage of the interval, e.g. 0.95.
        dof: degrees of freedom (> 0); ``math.inf`` gives the normal quantile.

    Returns:
        q such that P(|T| <= q) = confidence.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    p = 0.5 + confidence / 2.0
    if _sp_stats is not None and math.isfinite(dof):
        return float(_sp_stats.t.ppf(p, dof))
    # Normal quantile by bisection on erf (no SciPy needed; 60 halvings = full precision).
    lo, hi = 0.0, 40.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if 0.5 * (1.0 + math.erf(mid / math.sqrt(2.0))) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> dict[str, float]:
    """Mean, sample standard deviation and t-based confidence interval of the mean.

    Args:
        values: one figure per replicate, shape (R,), any unit; NaNs are dropped.
        confidence: coverage of the interval (default 0.95).

    Returns:
        dict with ``n``, ``mean``, ``sd`` (ddof=1), ``sem``, ``ci_low``, ``ci_high`` in the
        unit of ``values``. With n < 2 the sd, sem and CI are NaN.
    """
    x = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "sem": math.nan,
                "ci_low": math.nan, "ci_high": math.nan}
    mean = float(x.mean())
    if n < 2:
        return {"n": n, "mean": mean, "sd": math.nan, "sem": math.nan,
                "ci_low": math.nan, "ci_high": math.nan}
    sd = float(x.std(ddof=1))
    sem = sd / math.sqrt(n)
    half = t_quantile(confidence, n - 1) * sem
    return {"n": n, "mean": mean, "sd": sd, "sem": sem,
            "ci_low": mean - half, "ci_high": mean + half}


# --------------------------------------------------------------------------------------
# Fano factor and randomness parameter
# --------------------------------------------------------------------------------------


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
    mean_count = float(counts.mean())
    if method == "auto":
        method = "bootstrap" if n_ser >= 20 else "batch"
    if method == "bootstrap":
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
    elif method == "batch":
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
        lo, hi = value - half, value + half
    else:
        raise ValueError(f"method must be 'auto', 'batch' or 'bootstrap', got {method!r}")
    window_ms = math.nan
    if times_ms is not None:
        t = np.asarray(times_ms, dtype=float)
        if t.size >= 2:
            window_ms = float(np.median(np.diff(t)) * window)
    return FanoEstimate(float(value), float(lo), float(hi), float(se), int(window), window_ms,
                        int(n_win), int(n_ser), mean_count, method, float(confidence))


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


def fano_curve(cumulative, windows: Sequence[int], times_ms=None) -> pd.DataFrame:
    """Fano factor F(T) for several window lengths (point estimates only).

    Args:
        cumulative: cumulative counts, shape (n_samples,) or (n_samples, n_series).
        windows: window lengths in samples.
        times_ms: sample times (ms), to report ``window_ms``.

    Returns:
        DataFrame with columns window, window_ms, n_windows, mean_count, fano.
    """
    c = _as_2d(cumulative)
    dt = math.nan
    if times_ms is not None and len(times_ms) >= 2:
        dt = float(np.median(np.diff(np.asarray(times_ms, dtype=float))))
    rows = []
    for w in windows:
        counts = window_counts(c, int(w))
        if counts.shape[0] < 2:
            continue
        rows.append({"window": int(w), "window_ms": dt * int(w), "n_windows": counts.shape[0],
                     "mean_count": float(counts.mean()), "fano": _pooled_fano(counts)})
    return pd.DataFrame(rows, columns=["window", "window_ms", "n_windows", "mean_count", "fano"])


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


# --------------------------------------------------------------------------------------
# Saturation (Hill) fit
# --------------------------------------------------------------------------------------


def hill(c, K, n, Vmax, v0=0.0):
    """Hill saturation curve v = v0 + (Vmax - v0) c^n / (K^n + c^n).

    Args:
        c: concentration(s), >= 0 (unit of K, e.g. mM).
        K: half-saturation concentration (unit of c), > 0: v(K) is half-way from v0 to Vmax.
        n: Hill coefficient (dimensionless), > 0.
        Vmax: rate at saturating c (unit of v).
        v0: rate at c = 0 (unit of v); 0 for the plain Hill curve. A baseline arises when
            another ligand does the same job with lower affinity (external Na+ on the K+
            sites: Na/Na exchange keeps the pump turning without external K+).
    """
    c = np.asarray(c, dtype=float)
    cn = np.power(np.clip(c, 0.0, None), n)
    return v0 + (Vmax - v0) * cn / (np.power(K, n) + cn)


@dataclass(frozen=True)
class HillFit:
    """Result of :func:`fit_hill`: parameters, standard errors and residual summary.

    ``baseline`` tells whether v0 was fitted (``v0``/``v0_se`` are 0 for the plain curve).
    ``aic`` is the small-sample corrected Akaike criterion (AICc) of the fit, for
    :func:`fit_saturation` to compare the two curves: chi-square + 2k with k fitted parameters
    when absolute standard errors were given, else m ln(RSS_w/m) + 2(k + 1) (the noise
    variance is estimated too), plus the correction 2k'(k'+1)/(m - k' - 1) for the k' counted;
    +inf when there are too few points for the correction.
    """

    K: float
    n: float
    Vmax: float
    K_se: float
    n_se: float
    Vmax_se: float
    n_points: int
    rss: float
    method: str
    v0: float = 0.0
    v0_se: float = 0.0
    aic: float = float("nan")
    baseline: bool = False

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)

    def __call__(self, c):
        """Evaluate the fitted curve at concentrations ``c``."""
        return hill(c, self.K, self.n, self.Vmax, self.v0)

    def describe(self, c_unit: str = "", v_unit: str = "") -> str:
        """One line for a summary or a figure, e.g. ``K½ = 8.9 ± 0.6 mM, n = 1.2 ± 0.07, ...``.

        Args:
            c_unit: unit of K, e.g. "mM".
            v_unit: unit of Vmax and v0, e.g. "s⁻¹".
        """
        cu, vu = (f" {c_unit}" if c_unit else ""), (f" {v_unit}" if v_unit else "")
        text = (f"K½ = {_value_se(self.K, self.K_se)}{cu}, n = {_value_se(self.n, self.n_se)}, "
                f"Vmax = {_value_se(self.Vmax, self.Vmax_se)}{vu}")
        if self.baseline:
            text += f", v0 = {_value_se(self.v0, self.v0_se)}{vu}"
        return text


def _value_se(v: float, se: float) -> str:
    """``"v ± se"`` to 3 and 2 significant figures, or ``"v"`` without a standard error."""
    if not np.isfinite(se) or se == 0:
        return f"{v:.3g}"
    return f"{v:.3g} ± {se:.2g}"


def _lm_fit(f, p0, x, y, w, log=None, n_iter=200):
    """Tiny Levenberg-Marquardt; returns (p, cov, weighted rss).

    Parameters flagged in ``log`` (default: all) are fitted as logarithms, which keeps them
    positive; the others are fitted as they are.
    """
    p0 = np.asarray(p0, dtype=float)
    log = np.ones(p0.size, bool) if log is None else np.asarray(log, bool)

    def params(q):
        return np.where(log, np.exp(np.where(log, q, 0.0)), q)

    q = np.where(log, np.log(np.where(log, p0, 1.0)), p0)

    def resid(q):
        return (f(x, *params(q)) - y) * w

    def jac(q):
        r0 = resid(q)
        J = np.empty((x.size, q.size))
        for j in range(q.size):
            h = 1e-6 * max(1.0, abs(q[j]))
            dq = q.copy()
            dq[j] += h
            J[:, j] = (resid(dq) - r0) / h
        return J

    lam = 1e-3
    r = resid(q)
    cost = float(r @ r)
    for _ in range(n_iter):
        J = jac(q)
        A = J.T @ J
        g = J.T @ r
        step = np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-12), -g)
        q_new = q + step
        r_new = resid(q_new)
        c_new = float(r_new @ r_new)
        if c_new < cost:
            done = abs(cost - c_new) <= 1e-12 * max(cost, 1e-300)
            q, r, cost, lam = q_new, r_new, c_new, lam / 3.0
            if done:
                break
        else:
            lam *= 4.0
            if lam > 1e12:
                break
    J = jac(q)
    p = params(q)
    cov_q = np.linalg.pinv(J.T @ J)
    dp = np.where(log, p, 1.0)  # dp/dq
    cov = cov_q * np.outer(dp, dp)  # delta method back to linear parameters
    return p, cov, cost


def fit_hill(
    c,
    v,
    sigma=None,
    *,
    p0: Sequence[float] | None = None,
    fix_n: float | None = None,
    baseline: bool = False,
    absolute_sigma: bool | None = None,
) -> HillFit:
    """Fit v = Vmax c^n / (K^n + c^n), or with ``baseline`` v0 + (Vmax - v0) c^n / (K^n + c^n).

    Weighted least squares: ``scipy.optimize.curve_fit`` (all parameters bounded > 0) when
    SciPy is installed, else a small Levenberg-Marquardt on log-parameters. Standard errors
    come from the covariance of the fit: with ``sigma`` given (e.g. the SEM of each point over
    replicates) and ``absolute_sigma`` true they are absolute; otherwise scaled by the
    residual variance.

    Args:
        c: concentrations, shape (m,), unit of K (e.g. mM).
        v: rates at each c, shape (m,), unit of Vmax (e.g. cycles pump^-1 s^-1).
        sigma: standard error of each v, shape (m,), or None for equal weights.
        p0: starting (K, n, Vmax) or, with ``baseline``, (K, n, Vmax, v0); default (median
            positive c, 1, 1.2 max v, 0.9 min v).
        fix_n: fix the Hill coefficient (e.g. 1.0 for Michaelis-Menten); n_se is then 0.
        baseline: fit the rate at c = 0 (v0) too; needs one point more.
        absolute_sigma: default True when sigma is given.

    Returns:
        A :class:`HillFit` (callable: ``fit(c)`` evaluates the curve).

    Raises:
        ValueError: fewer finite points than parameters.
        RuntimeError: the fit did not converge (SciPy).
    """
    x = np.asarray(c, dtype=float)
    y = np.asarray(v, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    s = None
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)
        ok &= np.isfinite(s) & (s > 0)
    x, y = x[ok], y[ok]
    s = s[ok] if s is not None else None
    names = ["K"] + (["n"] if fix_n is None else []) + ["Vmax"] + (["v0"] if baseline else [])
    if x.size < len(names):
        raise ValueError(f"need at least {len(names)} points to fit, got {x.size}")
    if absolute_sigma is None:
        absolute_sigma = s is not None
    pos = x[x > 0]
    default = {"K": float(np.median(pos)) if pos.size else 1.0,
               "n": 1.0 if fix_n is None else fix_n,
               "Vmax": float(max(np.max(y), 1e-12)) * 1.2,
               "v0": float(np.min(y))}
    given = dict(zip(["K", "n", "Vmax", "v0"], p0)) if p0 is not None else {}
    start = [float(given.get(k, default[k])) for k in names]
    positive = np.array([k != "v0" for k in names])  # v0 is free: its s.e. then means something

    def f(xx, *p):
        q = dict(zip(names, p))
        return hill(xx, q["K"], q.get("n", fix_n), q["Vmax"], q.get("v0", 0.0))

    if _sp_optimize is not None:
        popt, pcov = _sp_optimize.curve_fit(
            f, x, y, p0=start, sigma=s, absolute_sigma=bool(absolute_sigma),
            bounds=(np.where(positive, 1e-12, -np.inf), np.full(len(start), np.inf)),
            maxfev=20000)
        method = "scipy.curve_fit"
    else:
        w = 1.0 / s if s is not None else np.ones_like(y)
        popt, pcov, rss_w = _lm_fit(f, start, x, y, w, log=positive)
        if not absolute_sigma:
            dof = max(x.size - len(start), 1)
            pcov = pcov * rss_w / dof
        method = "levenberg-marquardt"
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None)) if np.all(np.isfinite(pcov)) else \
        np.full(len(start), np.nan)
    resid = f(x, *popt) - y
    rss = float(np.sum(resid ** 2))
    m = int(x.size)
    if s is not None and absolute_sigma:
        k = len(names)
        fit_term = float(np.sum((resid / s) ** 2))
    else:
        k = len(names) + 1
        rss_w = float(np.sum((resid / s) ** 2)) if s is not None else rss
        fit_term = m * float(np.log(max(rss_w, 1e-300) / m))
    aic = fit_term + 2 * k + (2 * k * (k + 1) / (m - k - 1) if m - k - 1 > 0 else np.inf)
    p = dict(zip(names, popt))
    se = dict(zip(names, perr))
    return HillFit(K=float(p["K"]), n=float(p.get("n", fix_n)), Vmax=float(p["Vmax"]),
                   K_se=float(se["K"]), n_se=float(se.get("n", 0.0)),
                   Vmax_se=float(se["Vmax"]), n_points=m, rss=rss, method=method,
                   v0=float(p.get("v0", 0.0)), v0_se=float(se.get("v0", 0.0)), aic=float(aic),
                   baseline=baseline)


def fit_sigma(sem) -> np.ndarray | None:
    """Standard errors to weight a fit of point means by, shape (m,).

    A point whose replicates all gave the same value (e.g. no cycles at all without K+ and
    Na+ outside) has a standard error of 0; it is given the smallest positive one of the
    others instead of being dropped or of making every point unweighted. None when no point
    has a positive, finite standard error (e.g. one replicate).
    """
    e = np.asarray(sem, dtype=float)
    pos = e[np.isfinite(e) & (e > 0)]
    if pos.size == 0:
        return None
    return np.where(np.isfinite(e) & (e > 0), e, pos.min())


def fit_saturation(c, v, sigma=None, *, fix_n: float | None = None) -> HillFit:
    """The better of the plain Hill fit and the fit with a baseline, by Akaike's criterion.

    A flux that does not fall to zero without the ligand (the pump against external K+,
    where external Na+ takes the K+ sites) is not described by the plain curve, and fitting it
    anyway gives a meaningless K. The baseline fit is kept when its corrected AIC
    (:class:`HillFit`) is lower; that needs enough points: with absolute standard errors and a
    free n, at least 6 (the correction is +inf below that) and in practice 8 or more, since
    with 6 points its penalty is 30 higher than the plain fit's (48 against 18).

    Args:
        c, v, sigma, fix_n: as in :func:`fit_hill`.

    Returns:
        The chosen :class:`HillFit` (``fit.baseline`` tells which).

    Raises:
        ValueError, RuntimeError: as :func:`fit_hill` for the plain curve.
    """
    plain = fit_hill(c, v, sigma, fix_n=fix_n)
    if not np.isfinite(plain.aic):
        return plain
    try:
        based = fit_hill(c, v, sigma, fix_n=fix_n, baseline=True)
    except (ValueError, RuntimeError):
        return plain
    return based if based.aic < plain.aic else plain


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
        ``delta_v_mV`` (end - start), ``membrane_fano`` and, when the run has tracer,
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
            out["membrane_fano"] = long_time_fano(sub["cycles"].to_numpy(), n_units=npump or 1,
                                                  min_windows=8).value
        except ValueError:
            pass
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


def format_summary(summary: pd.DataFrame) -> str:
    """Plain-text table of :func:`summarize_replicates` output, one line per figure.

    Columns: figure (unit), mean, sd, 95 % CI (as ``[low, high]``) and n; sweep-point columns,
    if any, head each block.
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
            lines.append(f"  {name:<{w}}  {r.mean:>10.4g}  {r.sd:>9.3g}  {ci:>23}  {r.n}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Fluctuations of single pumps and of the membrane
# --------------------------------------------------------------------------------------


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
        for ``pump``), ``turnover_per_ms`` (observed cycles per pump per ms), and when rates
        are given ``theory`` (:func:`renewal_fano`), ``theory_applies`` (bool) and
        ``first_order_time_fraction``.
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
