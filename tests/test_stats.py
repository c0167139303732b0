"""Counting statistics (particles.stats) and the reports built on them (particles.reports)
against processes with known answers, generated here with numpy.

Tolerances are statistical: an estimate must lie within 4 of its own standard errors of the
truth, and the standard error must be small enough for the check to mean something.
Seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from particles import reports, stats
from particles.stats import fits as hill_fits
from particles.stats import intervals


def renewal_counts(rng, shape_k: int, mean_interval: float, t_end: float, dt: float,
                   n_series: int = 1, rates=None):
    """Cumulative event counts of renewal processes sampled every ``dt``.

    Intervals are Erlang(shape_k) with the given mean, or, with ``rates``, a sum of
    exponentials of those rates (hypoexponential). Returns (t, counts (n_samples, n_series)).
    """
    if rates is not None:
        mean_interval = sum(1.0 / r for r in rates)
    n_ev = int(t_end / mean_interval * 1.3) + 100
    if rates is None:
        iv = rng.gamma(shape_k, mean_interval / shape_k, size=(n_series, n_ev))
    else:
        iv = sum(rng.exponential(1.0 / r, size=(n_series, n_ev)) for r in rates)
    events = np.cumsum(iv, axis=1)
    assert np.all(events[:, -1] > t_end)
    t = np.arange(0.0, t_end + dt / 2, dt)
    counts = np.stack([np.searchsorted(e, t, side="right") for e in events], axis=1)
    return t, counts


# ----------------------------------------------------------------------------- Fano factor


def test_fano_poisson_is_one():
    rng = np.random.default_rng(11)
    t, c = renewal_counts(rng, 1, 1.0, 40_000.0, 0.5)
    est = stats.long_time_fano(c, t)
    assert est.se < 0.05
    assert abs(est.value - 1.0) < 4 * est.se, est
    assert est.ci_low < 1.0 < est.ci_high or abs(est.value - 1.0) < 4 * est.se


def test_fano_erlang4_is_quarter():
    rng = np.random.default_rng(12)
    t, c = renewal_counts(rng, 4, 1.0, 40_000.0, 0.5)
    est = stats.long_time_fano(c, t)
    assert est.se < 0.015
    assert abs(est.value - 0.25) < 4 * est.se, est
    # ... and is told apart from a Poisson process and from Erlang-2.
    assert est.ci_high < 0.5


def test_fano_pooled_over_pumps_bootstrap():
    """Many short series with different rates: the pooled within-series estimate stays 1/4."""
    rng = np.random.default_rng(13)
    parts = [renewal_counts(rng, 4, m, 2_000.0, 0.5, n_series=20)[1] for m in (0.5, 1.0, 2.0)]
    t = np.arange(0.0, 2_000.0 + 0.25, 0.5)
    c = np.concatenate(parts, axis=1)
    est = stats.long_time_fano(c, t)
    assert est.method == "bootstrap" and est.n_series == 60
    assert abs(est.value - 0.25) < 4 * est.se, est
    # The sum over series (the whole membrane) of independent Erlang-4 counts also has F = 1/4.
    # Its window must hold many cycles of each pump, not just many events in total.
    mem = stats.long_time_fano(c.sum(axis=1), t, n_units=60)
    assert abs(mem.value - 0.25) < 4 * mem.se, mem


def test_fano_batch_ci_coverage():
    """95 % batch-means CIs of a Poisson process's Fano factor cover 1 about 95 % of the time."""
    rng = np.random.default_rng(14)
    n_rep, hits = 300, 0
    for _ in range(n_rep):
        t, c = renewal_counts(rng, 1, 1.0, 4_000.0, 1.0)
        est = stats.fano_factor(c, 20, method="batch")
        hits += est.ci_low <= 1.0 <= est.ci_high
    cover = hits / n_rep
    # binomial sd at 0.95 with 300 trials is 0.013: 4 sd either side.
    assert 0.89 <= cover <= 1.0, cover
    assert cover < 0.995  # an interval that always covers is too wide to be useful


def test_window_counts_shape_and_sum():
    c = np.arange(11)[:, None] * np.array([[1, 2]])
    w = stats.window_counts(c, 3)
    assert w.shape == (3, 2)
    assert np.all(w == np.array([[3, 6]]))
    with pytest.raises(ValueError):
        stats.fano_factor(np.arange(3), 1)


# ----------------------------------------------------------------------------- renewal theory


def test_renewal_fano_formula():
    assert stats.renewal_fano([2.0, 2.0, 2.0, 2.0])["fano"] == pytest.approx(0.25)
    r = stats.renewal_fano({"a": 1.0, "b": 2.0, "inf": math.inf})
    assert r["mean_cycle_time"] == pytest.approx(1.5)
    assert r["var_cycle_time"] == pytest.approx(1.25)
    assert r["fano"] == pytest.approx(1.25 / 2.25)
    assert r["n_steps"] == 2
    with pytest.raises(ValueError):
        stats.renewal_fano([1.0, 0.0])


def test_renewal_fano_matches_simulated_hypoexponential_cycle():
    rates = (1.0, 2.0, 5.0, 0.7)
    theory = stats.renewal_fano(rates)["fano"]
    rng = np.random.default_rng(15)
    t, c = renewal_counts(rng, 0, 0.0, 30_000.0, 1.0, n_series=1, rates=rates)
    est = stats.long_time_fano(c, t)
    assert abs(est.value - theory) < 4 * est.se, (est, theory)


def test_randomness_parameter_erlang():
    rng = np.random.default_rng(16)
    r = stats.randomness_parameter(rng.gamma(4, 0.25, size=20_000))
    assert abs(r["r"] - 0.25) < 4 * r["se"]
    assert r["se"] < 0.01
    assert 3.5 < r["n_min"] < 4.5


def test_fluctuation_report_compares_with_theory():
    rates = {"a": 0.5, "b": 0.5}  # per ms: Erlang-2 cycle, F = 1/2, turnover 0.25 /ms
    rng = np.random.default_rng(17)
    t, h = renewal_counts(rng, 0, 0.0, 4_000.0, 0.5, n_series=30, rates=tuple(rates.values()))
    rep = reports.fluctuation_report(t, h, rates)
    assert rep["theory"]["fano"] == pytest.approx(0.5)
    assert rep["theory_applies"]
    assert abs(rep["pump"]["value"] - 0.5) < 4 * rep["pump"]["se"]
    assert abs(rep["membrane"]["value"] - 0.5) < 4 * rep["membrane"]["se"]
    assert rep["turnover_per_ms"] == pytest.approx(0.25, rel=0.05)
    # Rates that explain only a small part of the cycle time: the theory is flagged.
    rep2 = reports.fluctuation_report(t, h, {"a": 5.0})
    assert not rep2["theory_applies"]


# ----------------------------------------------------------------------------- means and CIs


def test_mean_ci_t_coverage_small_samples():
    """n = 4 normal samples: the t interval covers the mean ~95 % (a normal one only ~86 %)."""
    if intervals._scipy_stats() is None:
        pytest.skip("t quantiles need scipy")
    rng = np.random.default_rng(18)
    x = rng.normal(3.0, 2.0, size=(2000, 4))
    hits = 0
    for row in x:
        s = stats.mean_ci(row)
        hits += s["ci_low"] <= 3.0 <= s["ci_high"]
    assert 0.93 <= hits / 2000 <= 0.97


def test_mean_ci_small_n_and_fallback(monkeypatch):
    assert math.isnan(stats.mean_ci([1.0])["sd"])
    assert stats.mean_ci([])["n"] == 0
    s = stats.mean_ci([1.0, 2.0, 3.0, np.nan])
    assert s["n"] == 3 and s["mean"] == pytest.approx(2.0) and s["sd"] == pytest.approx(1.0)
    monkeypatch.setattr(intervals, "_scipy_stats", lambda: None)
    assert stats.t_quantile(0.95, 5) == pytest.approx(1.959964, abs=1e-5)


# ----------------------------------------------------------------------------- Hill fit


@pytest.fixture(params=["scipy", "levenberg-marquardt"])
def fit_method(request, monkeypatch) -> str:
    """Run a fit test with SciPy's curve_fit and with the built-in fallback."""
    if request.param == "scipy" and hill_fits._scipy_optimize() is None:
        pytest.skip("scipy not installed")
    if request.param != "scipy":
        monkeypatch.setattr(hill_fits, "_scipy_optimize", lambda: None)
    return request.param


def test_hill_fit_recovers_parameters(fit_method):
    K, n, vmax = 12.0, 1.5, 50.0
    rng = np.random.default_rng(19)
    c = np.array([1, 2, 4, 7, 10, 15, 20, 30, 50, 80, 120], dtype=float)
    sigma = 0.5 + 0.03 * stats.hill(c, K, n, vmax)
    v = stats.hill(c, K, n, vmax) + sigma * rng.standard_normal(c.size)
    fit = stats.fit_hill(c, v, sigma=sigma)
    assert fit.method.startswith(fit_method.split("-")[0])
    for true, est, se in ((K, fit.K, fit.K_se), (n, fit.n, fit.n_se),
                          (vmax, fit.Vmax, fit.Vmax_se)):
        assert 0 < se < 0.15 * true
        assert abs(est - true) < 4 * se, fit
    assert fit(fit.K) == pytest.approx(fit.Vmax / 2)


def test_hill_fit_with_baseline_recovers_parameters(fit_method):
    """A curve that starts at v0 > 0 (the pump against external K+ with Na+ outside)."""
    K, n, vmax, v0 = 1.2, 1.3, 72.0, 40.0
    rng = np.random.default_rng(23)
    c = np.array([0, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40], dtype=float)
    sigma = np.full(c.size, 0.6)
    truth = stats.hill(c, K, n, vmax, v0)
    assert truth[0] == v0 and stats.hill(K, K, n, vmax, v0) == pytest.approx((v0 + vmax) / 2)
    fit = stats.fit_hill(c, truth + sigma * rng.standard_normal(c.size), sigma=sigma,
                         baseline=True)
    assert fit.baseline and fit.method.startswith(fit_method.split("-")[0])
    for true, est, se in ((K, fit.K, fit.K_se), (n, fit.n, fit.n_se),
                          (vmax, fit.Vmax, fit.Vmax_se), (v0, fit.v0, fit.v0_se)):
        assert 0 < se < 0.25 * true, fit
        assert abs(est - true) < 4 * se, fit
    assert "v0 = " in fit.describe("mM", "s⁻¹") and "K½ = " in fit.describe("mM")


@pytest.mark.parametrize("weights", ["absolute", "relative", "none"])
def test_fit_saturation_chooses_the_curve_by_aic(weights):
    """With a floor the baseline curve wins and the plain fit's K is far off; without one the
    plain curve wins (the extra parameter is not paid for). Checked with absolute standard
    errors, with relative ones (absolute_sigma=False: scaling sigma must not change the
    choice or the criterion difference) and with none."""
    rng = np.random.default_rng(5)
    c = np.array([0, 0.25, 0.5, 1, 2, 3, 5, 10, 20], dtype=float)
    sigma = np.full(c.size, 1.0)
    floor = stats.hill(c, 1.0, 1.0, 72.0, 45.0) + sigma * rng.standard_normal(c.size)
    no_floor = stats.hill(c, 1.0, 1.0, 72.0) + sigma * rng.standard_normal(c.size)

    def fits(v, scale=1.0):
        if weights == "none":
            return stats.fit_saturation(c, v), stats.fit_hill(c, v)
        kw = {} if weights == "absolute" else {"absolute_sigma": False}
        plain = stats.fit_hill(c, v, sigma * scale, **kw)
        based = stats.fit_hill(c, v, sigma * scale, baseline=True, **kw)
        chosen = based if based.aic < plain.aic else plain
        if weights == "absolute":
            sat = stats.fit_saturation(c, v, sigma)
            assert dataclasses.replace(sat, aic_weight=chosen.aic_weight) == chosen
            delta = abs(based.aic - plain.aic)
            assert sat.aic_weight == pytest.approx(1 / (1 + math.exp(-delta / 2)))
        return chosen, plain

    chosen, plain = fits(floor)
    assert chosen.baseline and chosen.aic < plain.aic, (chosen, plain)
    assert abs(chosen.K - 1.0) < 4 * chosen.K_se and abs(chosen.v0 - 45.0) < 4 * chosen.v0_se
    assert abs(plain.K - 1.0) > 4 * chosen.K_se  # the plain curve misreads the floor
    assert not fits(no_floor)[0].baseline
    if weights == "relative":  # AICc differences do not depend on the scale of sigma
        big_chosen, big_plain = fits(floor, scale=100.0)
        assert big_chosen.aic - big_plain.aic == pytest.approx(chosen.aic - plain.aic, rel=1e-6)
    few = stats.fit_saturation(c[:5], floor[:5], sigma[:5])  # too few points to try v0
    assert not few.baseline and few.aic_weight == 1.0 and few.dof == 2
    with pytest.raises(ValueError, match="5 points are too few to fit 4 parameters"):
        stats.fit_hill(c[:5], floor[:5], sigma[:5], baseline=True)


def test_baseline_fit_of_a_curve_without_floor_gives_v0_near_zero():
    """v0 is not bounded: where the truth is 0 its estimate is 0 within its standard error."""
    rng = np.random.default_rng(8)
    c = np.array([0, 0.25, 0.5, 1, 2, 3, 5, 10, 20], dtype=float)
    v = stats.hill(c, 2.0, 1.0, 60.0) + rng.standard_normal(c.size)
    fit = stats.fit_hill(c, v, np.ones(c.size), baseline=True)
    assert fit.baseline and 0 < fit.v0_se < 3 and abs(fit.v0) < 4 * fit.v0_se


def test_fit_sigma_keeps_zero_error_points_weighted():
    np.testing.assert_array_equal(stats.fit_sigma([0.0, 2.0, 0.5, np.nan]), [0.5, 2.0, 0.5, 0.5])
    # equal replicates whose mean rounds: an error of 1e-16 is 0, not a weight of 1e32
    np.testing.assert_array_equal(stats.fit_sigma([5e-16, 2.0, 0.5]), [0.5, 2.0, 0.5])
    assert stats.fit_sigma([0.0, np.nan]) is None


def test_hill_fit_fixed_n_and_errors():
    c = np.array([1.0, 3.0, 10.0, 30.0])
    fit = stats.fit_hill(c, stats.hill(c, 5.0, 1.0, 2.0), fix_n=1.0)
    assert fit.K == pytest.approx(5.0, rel=1e-4) and fit.n == 1.0
    with pytest.raises(ValueError):
        stats.fit_hill([1.0, 2.0], [1.0, 2.0])


# ----------------------------------------------------------------------------- tracer and runs


def tracer_table(rng, phases, dt=1.0, n0=50_000):
    """Tracer efflux with a known rate constant per phase: [(label, duration_ms, k_per_ms)]."""
    rows = [(0.0, n0, 0, phases[0][0])]
    t, tin, eff = 0.0, n0, 0
    for label, dur, k in phases:
        for _ in range(int(round(dur / dt))):
            e = rng.binomial(tin, 1 - math.exp(-k * dt))
            t, tin, eff = t + dt, tin - e, eff + e
            rows.append((t, tin, eff, label))
    return pd.DataFrame(rows, columns=["time_ms", "tracer_in", "tracer_efflux", "phase"])


def test_efflux_rate_constants_per_phase():
    rng = np.random.default_rng(20)
    phases = [("control", 300, 2e-3), ("K-free", 200, 1e-3), ("control", 200, 2e-3),
              ("DNP", 300, 1e-4), ("washout", 200, 2e-3)]
    df = tracer_table(rng, phases)
    by_label = reports.efflux_rate_constants(df).set_index("phase")
    truth = {"control": 2e-3, "K-free": 1e-3, "DNP": 1e-4, "washout": 2e-3}
    assert list(by_label.index) == ["control", "K-free", "DNP", "washout"]
    for label, k in truth.items():
        row = by_label.loc[label]
        # exp(-k dt) per step, so the exact per-ms rate is (1-exp(-k dt))/dt ~ k (1 - k dt/2).
        assert abs(row.k_per_ms - k) < 4 * row.se_per_ms + 1e-3 * k, (label, row.k_per_ms, k)
        assert row.k_per_min == pytest.approx(row.k_per_ms * 60_000)
    by_seg = reports.efflux_rate_constants(df, by="segment")
    assert list(by_seg["phase"]) == [p[0] for p in phases]
    assert by_seg["n_intervals"].sum() == len(df) - 1


def replicate_table(rng, n_rep=5, n_pumps=10, turnover_per_s=40.0, t_end=500.0, dt=1.0):
    frames = []
    for r in range(n_rep):
        t = np.arange(0.0, t_end + dt / 2, dt)
        cyc = np.concatenate([[0], np.cumsum(rng.poisson(n_pumps * turnover_per_s / 1000
                                                         * dt, t.size - 1))])
        frames.append(pd.DataFrame({
            "replicate": r, "time_ms": t, "cycles": cyc, "na_pumped_out": 3 * cyc,
            "k_pumped_in": 2 * cyc, "atp_mM": 3.0 - 1e-5 * cyc, "v_mV": -60 - t / 250,
            "pumps_E1": n_pumps, "pumps_E2P": 0, "phase": "control"}))
    return pd.concat(frames, ignore_index=True)


def test_summarize_replicates():
    rng = np.random.default_rng(21)
    df = replicate_table(rng)
    s = reports.summarize_replicates(df).set_index("figure")
    tp = s.loc["cycles_per_pump_per_s"]
    assert tp["n"] == 5
    assert tp["ci_low"] <= 40.0 <= tp["ci_high"]
    assert tp["ci_high"] - tp["ci_low"] < 8.0
    assert s.loc["na_k_ratio", "mean"] == pytest.approx(1.5)
    assert s.loc["delta_v_mV", "mean"] == pytest.approx(-2.0)
    assert s.loc["atp_used", "mean"] == pytest.approx(s.loc["cycles_per_pump_per_s", "mean"]
                                                      * 10 * 0.5)
    assert abs(s.loc["membrane_fano", "mean"] - 1.0) < 0.3
    runs = reports.per_run_figures(df)
    assert list(runs["replicate"]) == [0, 1, 2, 3, 4]
    text = reports.format_summary(reports.summarize_replicates(df))
    assert "cycles_per_pump_per_s (1/s)" in text and "95 % CI" in text


def test_summarize_sweep_groups_by_dotted_keys():
    rng = np.random.default_rng(22)
    a = replicate_table(rng, n_rep=3, turnover_per_s=10.0).assign(**{"ions.na.inside_mM": 5.0})
    b = replicate_table(rng, n_rep=3, turnover_per_s=30.0).assign(**{"ions.na.inside_mM": 50.0})
    df = pd.concat([a, b], ignore_index=True)
    assert reports.sweep_keys(df) == ["ions.na.inside_mM"]
    s = reports.summarize_replicates(df)
    tp = s[s["figure"] == "cycles_per_pump_per_s"].set_index("ions.na.inside_mM")["mean"]
    assert tp.loc[5.0] == pytest.approx(10.0, rel=0.2)
    assert tp.loc[50.0] == pytest.approx(30.0, rel=0.2)


# ----------------------------------------------------------------------------- guardrails


def test_a_fit_needs_two_points_more_than_its_parameters():
    """3 parameters from 3 or 4 points are refused (nothing left to judge the fit by); 5 are
    fitted and say their degrees of freedom; ``min_dof=0`` is the caller's explicit choice."""
    c = np.array([1.0, 3.0, 10.0, 30.0, 100.0])
    v = stats.hill(c, 8.0, 1.0, 50.0)
    for m in (3, 4):
        with pytest.raises(ValueError, match=rf"^{m} points are too few to fit 3 parameters "
                           r"\(K, n, Vmax\): need at least 5$"):
            stats.fit_hill(c[:m], v[:m])
        with pytest.raises(ValueError, match="too few"):
            stats.fit_saturation(c[:m], v[:m])
    assert stats.fit_hill(c, v).dof == 2
    assert stats.fit_hill(c[:4], v[:4], fix_n=1.0).dof == 2
    assert stats.fit_hill(c[:4], v[:4], min_dof=1).dof == 1


def test_reduced_chi_square_tells_a_good_fit_from_a_bad_one():
    """With the true standard errors the reduced χ² of the right curve is near 1 (its sd is
    sqrt(2/dof) = 0.45 here); the plain curve through data with a floor is far above."""
    rng = np.random.default_rng(31)
    c = np.array([0, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 40, 80, 120, 160], dtype=float)
    sigma = np.full(c.size, 1.0)
    good = stats.hill(c, 3.0, 1.0, 70.0) + sigma * rng.standard_normal(c.size)
    fit = stats.fit_hill(c, good, sigma)
    assert fit.dof == 10 and abs(fit.chi2_red - 1.0) < 4 * math.sqrt(2 / fit.dof)
    floor = stats.hill(c, 1.0, 1.0, 72.0, 45.0) + sigma * rng.standard_normal(c.size)
    assert stats.fit_hill(c, floor, sigma).chi2_red > 10
    assert "χ²/dof = " in fit.describe("mM") and "(dof 10)" in fit.describe("mM")
    assert math.isnan(stats.fit_hill(c, good).chi2_red)  # no standard errors: no χ²
    sat = stats.fit_saturation(c, floor, sigma)
    assert sat.baseline and 0.5 < sat.aic_weight <= 1 and "AICc weight" in sat.describe()


def test_trend_test_false_alarms_at_its_level_and_finds_a_drift():
    """Stationary Poisson counts are called drifting about 1 time in 100 (binomial bound
    over 400 series); a rate falling by half over the series is always found."""
    rng = np.random.default_rng(37)
    alarms = sum(not stats.trend_test(rng.poisson(30.0, 40))["stationary"] for _ in range(400))
    assert alarms <= 4 + 4 * math.sqrt(4)
    drift = rng.poisson(np.linspace(40, 20, 40))
    t = stats.trend_test(drift)
    assert not t["stationary"] and t["relative_change"] == pytest.approx(-20 / 30, abs=0.2)
    assert stats.trend_test(np.full(10, 7.0))["stationary"]


def test_fano_estimates_say_whether_the_count_was_stationary():
    rng = np.random.default_rng(41)
    steady = np.concatenate([[0], np.cumsum(rng.poisson(0.5, 4000))])
    assert stats.long_time_fano(steady).stationary
    stopping = np.concatenate([[0], np.cumsum(rng.poisson(np.linspace(1.0, 0.0, 4000)))])
    est = stats.long_time_fano(stopping)
    assert not est.stationary and est.trend < -0.5


def test_the_replicate_summary_leaves_out_a_fano_factor_of_a_drifting_run():
    rng = np.random.default_rng(43)
    df = replicate_table(rng, n_rep=3)
    t = df["time_ms"].to_numpy()
    stop = (df["replicate"] == 0).to_numpy()
    frozen = df.loc[stop, "cycles"].to_numpy()
    df.loc[stop, "cycles"] = np.where(t[stop] > 250, frozen[np.searchsorted(t[stop], 250)],
                                      frozen)  # replicate 0 stops cycling half-way
    runs = reports.per_run_figures(df)
    assert math.isnan(runs["membrane_fano"][0]) and np.isfinite(runs["membrane_fano"][1:]).all()


def test_intervals_from_fewer_than_three_replicates_are_marked():
    rng = np.random.default_rng(47)
    two = reports.format_summary(reports.summarize_replicates(replicate_table(rng, n_rep=2)))
    assert "]*" in two
    assert "* n = 2: a t-interval on 1 degree of freedom (t = 12.7), far too wide" in two
    three = reports.format_summary(reports.summarize_replicates(replicate_table(rng, n_rep=3)))
    assert "*" not in three
    assert reports.few_replicates_note(3) == "" and reports.few_replicates_note(1) == ""


def test_sweep_summary_fits_only_what_its_points_allow():
    """3 points: no fit (and why); 4: Michaelis-Menten (n = 1); 5 or more: Hill with n free;
    each fit line carries its goodness of fit."""
    from particles.cli.sweep import _fit_line

    c = np.array([1.0, 3.0, 10.0, 30.0, 100.0, 300.0])
    v = stats.hill(c, 8.0, 1.2, 50.0) * (1 + 0.01 * np.array([1, -1, 1, -1, 1, -1]))
    sem = np.full(c.size, 0.5)
    assert _fit_line(c[:3], v[:3], sem[:3], "ions.na.inside_mM") == (
        "no saturation fit: 3 points are too few to fit 2 parameters (K, Vmax): need at least 4")
    assert _fit_line(c[:4], v[:4], sem[:4], "ions.na.inside_mM").startswith(
        "Hill fit with n fixed at 1 against ions.na.inside_mM: K½ = ")
    line = _fit_line(c, v, sem, "ions.na.inside_mM")
    assert line.startswith("Hill fit against ions.na.inside_mM: K½ = ") and " mM, n = " in line
    assert "χ²/dof = " in line and "(dof 3)" in line


def test_run_summary_gives_no_fano_factor_of_a_run_that_is_not_stationary(tmp_path, capsys):
    """ouabain locks the pumps at 30 ms: the summary says the cycle count is not stationary
    instead of printing a Fano factor, and the value from the rates keeps its caveat."""
    from particles.cli import main
    from particles.reports import FANO_CAVEAT

    assert main(["run", "ouabain", "--out", str(tmp_path / "o.csv")]) == 0
    out = capsys.readouterr().out
    lines = {ln.split("  ")[1]: ln for ln in out.splitlines() if ln.startswith("  Fano")}
    for label in ("Fano, one pump", "Fano, membrane"):
        assert "not stationary after 20 ms (cycles " in lines[label], out
        assert " -> 0 per pump per s): no Fano factor" in lines[label], out
    assert lines["Fano from rates"].endswith(FANO_CAVEAT)
