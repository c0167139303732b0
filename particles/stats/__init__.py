"""Generic estimators for counting experiments: confidence intervals, Fano factors, fits.

Nothing here knows the simulation or its results table (that is :mod:`particles.reports`).
Pure NumPy; SciPy is used when installed (Student-t quantiles, ``curve_fit``), imported on
first use, and replaced by a normal approximation / a small Levenberg-Marquardt fit when not.

Units: counts are plain integers (ions or cycles); times in ms unless a name says otherwise.

- :mod:`.intervals`: :func:`mean_ci`, :func:`t_quantile`.
- :mod:`.fano`: :func:`fano_factor`, :func:`long_time_fano` (Fano factor of counts in windows
  of a cumulative count series, with a CI), :func:`window_counts`,
  :func:`randomness_parameter` (Schnitzer-Block r = var(tau)/<tau>^2),
  :func:`renewal_fano` (long-time Fano factor of a cycle of irreversible exponential steps),
  :func:`trend_test` (is a count's rate stationary over the windows of an estimate?).
- :mod:`.fits`: :func:`hill`, :func:`fit_hill` (v = Vmax c^n / (K^n + c^n), optionally on a
  baseline, with standard errors), :func:`fit_saturation` (plain or baseline by AICc),
  :func:`fit_sigma`.
"""

from .fano import (
    FanoEstimate,
    fano_factor,
    long_time_fano,
    randomness_parameter,
    renewal_fano,
    trend_test,
    window_counts,
)
from .fits import HillFit, fit_hill, fit_saturation, fit_sigma, hill
from .intervals import mean_ci, t_quantile

__all__ = ["FanoEstimate", "HillFit", "t_quantile", "mean_ci", "window_counts", "fano_factor",
           "long_time_fano", "randomness_parameter", "renewal_fano", "trend_test", "hill",
           "fit_hill",
           "fit_sigma", "fit_saturation"]
