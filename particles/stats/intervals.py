"""Means and confidence intervals of per-replicate figures.

SciPy (a test extra, not a runtime dependency) gives Student-t quantiles when installed; it
is imported on first use, never at import time (``scipy.stats`` takes seconds to import on a
busy machine). Without it the normal quantile is used.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np


def _scipy_stats():
    """``scipy.stats``, imported on first use; None when SciPy is not installed."""
    try:
        from scipy import stats
    except ImportError:  # pragma: no cover - exercised only without scipy
        return None
    return stats


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
    sp_stats = _scipy_stats() if math.isfinite(dof) else None
    if sp_stats is not None:
        return float(sp_stats.t.ppf(p, dof))
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
