"""Saturation (Hill) fits with standard errors, and the choice of curve by AICc.

Weighted least squares by ``scipy.optimize.curve_fit`` when SciPy is installed (imported on
first use, never at import time), else by a small Levenberg-Marquardt on log-parameters.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Sequence

import numpy as np


def _scipy_optimize():
    """``scipy.optimize``, imported on first use; None when SciPy is not installed."""
    try:
        from scipy import optimize
    except ImportError:  # pragma: no cover - exercised only without scipy
        return None
    return optimize


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
    Goodness of fit: ``dof`` = points - fitted parameters; ``chi2_red`` the reduced
    chi-square sum((resid/sigma)^2)/dof (NaN without standard errors: it needs them; near 1
    for a curve that describes the points within their errors, >> 1 for one that does not);
    ``aic_weight`` the Akaike weight of this curve among those :func:`fit_saturation`
    compared (exp(-ΔAICc/2), normalised; NaN when none was compared).
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
    dof: int = 0
    chi2_red: float = float("nan")
    aic_weight: float = float("nan")

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
        gof = [f"χ²/dof = {self.chi2_red:.2g} (dof {self.dof})"] if np.isfinite(self.chi2_red) \
            else [f"dof {self.dof}"]
        if np.isfinite(self.aic_weight):
            gof.append(f"AICc weight {self.aic_weight:.2f}")
        return f"{text}; {', '.join(gof)}"


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
    min_dof: int = 2,
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
        min_dof: least number of points beyond the parameters (default 2: with fewer,
            parameters and standard errors are mostly noise and the goodness of fit is
            undefined, so the fit is refused).

    Returns:
        A :class:`HillFit` (callable: ``fit(c)`` evaluates the curve).

    Raises:
        ValueError: fewer finite points than parameters + ``min_dof``.
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
    if x.size < len(names) + max(int(min_dof), 0):
        raise ValueError(f"{x.size} points are too few to fit {len(names)} parameters "
                         f"({', '.join(names)}): need at least {len(names) + min_dof}")
    absolute_sigma = s is not None if absolute_sigma is None else bool(absolute_sigma)
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

    popt, pcov, method = _solve(f, start, positive, x, y, s, absolute_sigma)
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None)) if np.all(np.isfinite(pcov)) else \
        np.full(len(start), np.nan)
    resid = f(x, *popt) - y
    aic = _aicc(resid, s, absolute_sigma, len(names))
    dof = int(x.size - len(names))
    chi2_red = float(np.sum((resid / s) ** 2) / dof) if s is not None and dof > 0 else np.nan
    p = dict(zip(names, popt))
    se = dict(zip(names, perr))
    return HillFit(K=float(p["K"]), n=float(p.get("n", fix_n)), Vmax=float(p["Vmax"]),
                   K_se=float(se["K"]), n_se=float(se.get("n", 0.0)),
                   Vmax_se=float(se["Vmax"]), n_points=int(x.size),
                   rss=float(np.sum(resid ** 2)), method=method, v0=float(p.get("v0", 0.0)),
                   v0_se=float(se.get("v0", 0.0)), aic=float(aic), baseline=baseline,
                   dof=dof, chi2_red=chi2_red)


def _solve(f, start: list[float], positive: np.ndarray, x: np.ndarray, y: np.ndarray,
           s: np.ndarray | None, absolute_sigma: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Weighted least squares of ``f`` by ``scipy.optimize.curve_fit`` or, without SciPy,
    :func:`_lm_fit`.

    Args:
        f: model ``f(x, *p)``.
        start: starting parameters, shape (k,).
        positive: which parameters are bounded > 0, shape (k,) bool.
        x, y: data, shape (m,).
        s: standard error of each y, shape (m,), or None for equal weights.
        absolute_sigma: the covariance is absolute (else scaled by the residual variance).

    Returns:
        (parameters (k,), covariance (k, k), name of the method).
    """
    sp_optimize = _scipy_optimize()
    if sp_optimize is not None:
        popt, pcov = sp_optimize.curve_fit(
            f, x, y, p0=start, sigma=s, absolute_sigma=absolute_sigma,
            bounds=(np.where(positive, 1e-12, -np.inf), np.full(len(start), np.inf)),
            maxfev=20000)
        return popt, pcov, "scipy.curve_fit"
    w = 1.0 / s if s is not None else np.ones_like(y)
    popt, pcov, rss_w = _lm_fit(f, start, x, y, w, log=positive)
    if not absolute_sigma:
        dof = max(x.size - len(start), 1)
        pcov = pcov * rss_w / dof
    return popt, pcov, "levenberg-marquardt"


def _aicc(resid: np.ndarray, sigma: np.ndarray | None, absolute_sigma: bool,
          n_params: int) -> float:
    """Small-sample corrected Akaike criterion of a fit (see :class:`HillFit`).

    Args:
        resid: residuals, shape (m,).
        sigma: standard errors of the data, shape (m,), or None for equal weights.
        absolute_sigma: ``sigma`` is absolute; otherwise the noise variance is estimated
            from the residuals and counts as one more parameter.
        n_params: fitted parameters.
    """
    m = int(resid.size)
    if sigma is not None and absolute_sigma:
        k = n_params
        fit_term = float(np.sum((resid / sigma) ** 2))
    else:
        k = n_params + 1
        rss_w = float(np.sum((resid / sigma) ** 2)) if sigma is not None else \
            float(np.sum(resid ** 2))
        fit_term = m * float(np.log(max(rss_w, 1e-300) / m))
    return fit_term + 2 * k + (2 * k * (k + 1) / (m - k - 1) if m - k - 1 > 0 else np.inf)


def fit_sigma(sem) -> np.ndarray | None:
    """Standard errors to weight a fit of point means by, shape (m,).

    A point whose replicates all gave the same value (e.g. no cycles at all without K+ and
    Na+ outside) has a standard error of 0, or one of rounding size (below 1e-9 of the
    largest); it is given the smallest positive one of the others instead of being dropped,
    of making every point unweighted or of outweighing them all. None when no point has a
    positive, finite standard error (e.g. one replicate).
    """
    e = np.asarray(sem, dtype=float)
    ok = np.isfinite(e) & (e > 0)
    if ok.any():
        ok &= e > 1e-9 * e[ok].max()
    pos = e[ok]
    if pos.size == 0:
        return None
    return np.where(ok, e, pos.min())


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
        The chosen :class:`HillFit` (``fit.baseline`` tells which), with its Akaike weight
        among the curves compared (1 when the baseline curve could not be fitted).

    Raises:
        ValueError, RuntimeError: as :func:`fit_hill` for the plain curve.
    """
    plain = fit_hill(c, v, sigma, fix_n=fix_n)
    if not np.isfinite(plain.aic):
        return plain
    try:
        based = fit_hill(c, v, sigma, fix_n=fix_n, baseline=True)
    except (ValueError, RuntimeError):
        return replace(plain, aic_weight=1.0)
    best = based if based.aic < plain.aic else plain
    other = plain if best is based else based
    rel = math.exp(-0.5 * (other.aic - best.aic)) if np.isfinite(other.aic) else 0.0
    return replace(best, aic_weight=1.0 / (1.0 + rel))
