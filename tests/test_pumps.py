"""Pump agents: stoichiometry, conservation, capture physics, saturation, fluctuations,
energy and ouabain (issue 3)."""

import numpy as np
import pytest

from particles import PumpState, Simulation, load_scenario, physics
from particles import kernels as kn
from particles.layout import (C_ATP_USED, C_CHARGE_OUT, C_CYCLES, C_CYCLES_BWD, C_CYCLES_FWD,
                              C_K_IN, C_NA_IN, C_NA_OUT, C_PI_RELEASED,
                              P_STICK_NA_INNER, PAR_P_STICK)
from particles.config import builtin_names
from particles.stats import fit_hill, renewal_fano


#: The irreversible limit of the cycle (issue 13): backward steps negligible, which
#: thermodynamics allows only with an enormous drive (ΔG0′ = −600 kJ/mol, so that the
#: E1(2K) -> E2(2K) rate detailed balance leaves is negligible too); renewal theory then
#: applies.
IRREVERSIBLE = {"atp.dg0_kJ_per_mol": -600.0, "pumps.kd_na_in_mM": 1e-6,
                "pumps.kd_na_out_mM": 1e6, "pumps.kd_k_out_mM": 1e-6, "pumps.kd_k_in_mM": 1e6,
                "pumps.k_phos_back_per_ms": 1e-6, "pumps.k_occlusion_back_per_ms": 1e-6,
                "pumps.k_dephos_back_per_mM_ms": 1e-6}


def _check_stoichiometry(sim):
    """Net Na+ out, ions in, ATP, Pi and charge against net cycles (forward − backward),
    within what the pumps hold in cycles in progress (issue 13: steps run both ways)."""
    c, m = sim.counters, len(sim.pumps)
    cycles = c[C_CYCLES]
    assert cycles == c[C_CYCLES_FWD] - c[C_CYCLES_BWD] == sim.pumps.cycles.sum()
    assert abs(c[C_K_IN] + c[C_NA_IN] - 2 * cycles) <= 2 * m
    assert abs(c[C_NA_OUT] - 3 * cycles) <= 3 * m  # Na+ of cycles in progress
    assert c[C_CHARGE_OUT] == c[C_NA_OUT] - c[C_K_IN] - c[C_NA_IN]
    assert abs(c[C_CHARGE_OUT] - cycles) <= 3 * m  # one charge per net cycle
    assert abs(c[C_ATP_USED] - cycles) <= m
    assert abs(c[C_PI_RELEASED] - cycles) <= m
    # every bound ion is on a site of a pump, and every occupied site holds a bound ion
    held = sim.pumps.sites[sim.pumps.sites >= 0]
    assert len(np.unique(held)) == len(held) == sim.ions.bound.sum()
    assert np.all(sim.ions.bound[held])
    assert np.array_equal(sim.pumps.n_na, (sim.pumps.sites[:, :3] >= 0).sum(1))
    assert np.array_equal(sim.pumps.n_k, (sim.pumps.sites[:, 3:] >= 0).sum(1))


def _totals(df, s):
    tot = df[f"{s}_in"] + df[f"{s}_out"] + df[f"{s}_bound"]
    tot = tot - df[f"bath_{s}_added"] + df[f"bath_{s}_removed"]
    return tot - df[f"dialysis_{s}_added"] + df[f"dialysis_{s}_removed"]


@pytest.mark.parametrize("name", builtin_names())
def test_stoichiometry_and_conservation_in_every_scenario(name):
    sim = Simulation(load_scenario(name, overrides={"time.sample_ms": 0.5}), seed=2)
    sim.run(4.0)
    _check_stoichiometry(sim)
    df = sim.timeseries()
    for s in ("na", "k"):
        assert _totals(df, s).nunique() == 1, f"{s} not conserved in {name}"


@pytest.mark.slow
def test_long_run_cycles_3_to_2_and_conserves():
    sim = Simulation(load_scenario("pump-cycle"), seed=4)
    sim.run(60.0)
    _check_stoichiometry(sim)
    c = sim.counters
    assert c[C_CYCLES] >= 5
    # net Na+ out per net cycle tends to 3
    assert abs(c[C_NA_OUT] / c[C_CYCLES] - 3) <= 3 * len(sim.pumps) / c[C_CYCLES]
    df = sim.timeseries()
    for s in ("na", "k"):
        assert _totals(df, s).nunique() == 1
    g, i = sim.geometry, sim.ions
    free = ~i.bound & (i.side != 2)
    assert not np.any((i.x[free] >= g.x_in_face) & (i.x[free] <= g.x_out_face))


def _capture_rate(dt, kon, duration_ms, seed):
    """Captures per ms by 10 Na+ faces that always accept (captured ions are put back at
    random inside, so the bulk concentration stays 50 mM)."""
    over = {"time.dt_ms": dt, "pumps.kon_na_per_mM_ms": kon, "ions.k.inside_mM": 0.0,
            "ions.k.outside_mM": 0.0, "ions.na.outside_mM": 0.0, "ions.na.inside_mM": 50.0,
            "pumps.start_steady": False}  # every face open (E1, empty)
    sim = Simulation(load_scenario("resting", overrides=over), seed=seed)
    i, p, g = sim.ions, sim.pumps, sim.geometry
    scratch = kn.scratch(len(i))  # passage probabilities 0: no pore passes
    rng = np.random.default_rng(seed)
    n = int(round(duration_ms / dt))
    caps = 0
    for step in range(n):
        kn.move(sim.seed, step, i.kernel_arrays(), p.kernel_arrays(),
                sim.channels.kernel_arrays(), sim.par, scratch)
        for c in np.nonzero(scratch.prop_count)[0]:
            ids = scratch.prop_ion[c * kn.CHUNK:c * kn.CHUNK + scratch.prop_count[c]]
            caps += len(ids)
            i.x[ids] = rng.uniform(0, g.x_in_face, len(ids))
            i.y[ids] = rng.uniform(0, g.height_um, len(ids))
    return caps, sim.par[PAR_P_STICK + P_STICK_NA_INNER], len(p)


def test_capture_rate_does_not_depend_on_dt():
    kon, T = 10.0, 0.6
    n1, p1, m = _capture_rate(1.5e-4, kon, T, seed=11)
    n4, p4, _ = _capture_rate(1.5e-4 / 4, kon, T, seed=12)
    # the same κ at both dt: κ' = κ sqrt(dt / 2D) halves (P ∝ sqrt(dt) only for small P)
    kp1, kp4 = physics.reduced_adsorption(p1), physics.reduced_adsorption(p4)
    assert p1 > 0.02 and abs(kp4 / kp1 - 0.5) < 1e-4
    # Same simulated time: counts are Poisson-like, so |n1 - n4| < 4 sqrt(n1 + n4).
    assert abs(n1 - n4) < 4 * np.sqrt(n1 + n4), (n1, n4)
    # and the rate is the one asked for: k_on · c per face (a few % diffusion-limited)
    expected = kon * 50.0 * m * T
    assert 0.85 * expected < n1 < 1.05 * expected, (n1, expected)


def _turnover(na_in_mM, seed, burn_in=10.0, duration=30.0):
    """Cycles per pump per ms at a dialysed internal Na+, all rates 3× those of `saturation`
    (so that a cycle is short against the run)."""
    base = load_scenario("saturation")
    over = {"ions.na.inside_mM": na_in_mM, "time.sample_ms": 1.0, "ions.k.inside_mM": 0.0,
            "domain.depth_um": 5e-5, **IRREVERSIBLE}
    for key in ("k_phos_per_ms", "k_occlusion_per_ms", "k_na_release_per_ms",
                "k_dephos_per_ms", "k_return_per_ms", "k_return_atp_per_ms",
                "k_k_release_per_ms", "kon_na_per_mM_ms", "kon_k_per_mM_ms"):
        over[f"pumps.{key}"] = 3 * base[f"pumps.{key}"]
    sim = Simulation(base.with_overrides(over), seed=seed)
    sim.run(burn_in)  # past the start-up transient of pumps all in E1
    c0, t0 = sim.counters[C_CYCLES], sim.time_ms
    sim.run(duration)
    n = sim.counters[C_CYCLES] - c0
    per = len(sim.pumps) * (sim.time_ms - t0)
    return n / per, np.sqrt(max(n, 1)) / per, sim


@pytest.mark.slow
def test_turnover_saturates_with_internal_na_where_rates_predict():
    concs = np.array([4.0, 12.0, 36.0, 108.0])
    rates, errs, sims = zip(*[_turnover(c, seed=20 + j) for j, c in enumerate(concs)])
    rates, errs = np.array(rates), np.array(errs)
    assert np.all(np.diff(rates) > 0)
    # prediction: cycle time = 3 / (k_on c) + T_rest  =>  v = Vmax c / (K + c),
    # K = 3 / (k_on T_rest), Vmax = 1 / T_rest
    steps = sims[-1].cycle_steps()
    t_rest = sum(1 / k for name, k in steps if name != "Na+ capture")
    K_pred = 3 / (sims[-1].scenario["pumps.kon_na_per_mM_ms"] * t_rest)
    fit = fit_hill(concs, rates, errs, fix_n=1.0)
    assert abs(fit.K - K_pred) < 4 * fit.K_se + 0.1 * K_pred, (fit, K_pred, rates)
    assert abs(fit.Vmax - 1 / t_rest) < 4 * fit.Vmax_se + 0.1 / t_rest, (fit, t_rest)


@pytest.mark.slow
def test_fano_factor_of_one_pump_matches_renewal_theory():
    over = {"domain.width_um": 0.4, "domain.height_um": 1.0, "domain.depth_um": 2e-5,
            "ions.na.inside_mM": 80.0, "ions.k.outside_mM": 40.0, "ions.k.inside_mM": 0.0,
            "ions.na.outside_mM": 0.0, "pumps.kon_na_per_mM_ms": 1.0,
            "pumps.kon_k_per_mM_ms": 1.0, "time.sample_ms": 0.03,
            "bath.clamped": True, "bath.zone_um": 0.05, "dialysis.clamped": True,
            "dialysis.zone_um": 0.05, **IRREVERSIBLE}
    sim = Simulation(load_scenario("resting", overrides=over), seed=5)
    theory = renewal_fano([k for _, k in sim.cycle_steps()])
    sim.run(600.0)
    hist = sim.pump_cycles_history()  # (samples, pumps)
    t = sim.timeseries()["time_ms"].to_numpy()
    intervals = []
    for p in range(hist.shape[1]):
        done = np.nonzero(np.diff(hist[:, p]) > 0)[0]
        intervals.append(np.diff(t[done + 1]))
    iv = np.concatenate(intervals)
    assert iv.size > 500
    cv2 = iv.var() / iv.mean() ** 2
    # s.e. of CV² by the delta method is about CV² sqrt((κ-1)/n + ...); use a bootstrap
    rng = np.random.default_rng(0)
    boot = [(b.var() / b.mean() ** 2) for b in (rng.choice(iv, iv.size) for _ in range(300))]
    se = np.std(boot)
    assert abs(cv2 - theory["fano"]) < 4 * se + 0.02, (cv2, theory, se)
    assert abs(iv.mean() - theory["mean_cycle_time"]) < 4 * iv.std() / np.sqrt(iv.size) \
        + 0.05 * theory["mean_cycle_time"]
    # the long-time Fano factor of the counts agrees too (windows of ~10 cycles)
    from particles.stats import fano_factor

    w = int(10 * theory["mean_cycle_time"] / 0.03)
    est = fano_factor(hist, w, method="batch")
    assert abs(est.value - theory["fano"]) < 4 * est.se + 0.1 * theory["fano"], (est, theory)


def _energetics(**over):
    """`energetics` (clamped, dialysed, perfused, fast pumps) without its protocol."""
    import dataclasses

    sc = dataclasses.replace(load_scenario("energetics"), protocol=[])
    return sc.with_overrides({"domain.depth_um": 2e-5, "time.sample_ms": 0.5, **over})


def test_poison_stops_cycling_and_washout_restores_it():
    sim = Simulation(_energetics(**{"dialysis.clamped": False}), seed=6)  # (it holds ATP)
    sim.run(1.0)  # pumps start empty: internal K+ binds and turns some backwards once
    c0 = sim.counters[C_CYCLES]
    sim.run(4.0)
    assert sim.counters[C_CYCLES] - c0 > 0
    sim.apply_event("poison")
    sim.run(1.0)  # ATP decays with 20 /ms: gone within 1 ms, ADP and Pi up
    assert sim.atp_mM < 0.01 and sim.adp_mM > 2.5 and sim.dg_atp_kJ_mol > 0
    c_poisoned = sim.counters[C_CYCLES]
    sim.run(5.0)
    # phosphorylation needs ATP: no new forward cycle starts, at most one per pump ends
    assert sim.counters[C_CYCLES] - c_poisoned <= len(sim.pumps)
    stuck = sim.counters[C_CYCLES]
    sim.apply_event("washout")
    sim.run(10.0)
    assert sim.atp_mM > 0.9 * sim.scenario["atp.initial_mM"]
    assert sim.counters[C_CYCLES] - stuck > 0


def test_ouabain_locks_pumps_for_good():
    sim = Simulation(_energetics(), seed=7)
    # 0.05 /(mM·ms) · 2000 mM = 100 /ms on an empty E2P (a time-scaled stand-in for µM
    # ouabain over minutes), which K+ (13.5 /ms) and Na+ rebinding compete for
    sim.apply_event("ouabain", mM=2000.0)
    sim.run(30.0)
    assert np.all(sim.pumps.state == PumpState.BLOCKED)
    c = sim.counters[C_CYCLES]
    sim.run(3.0)
    assert sim.counters[C_CYCLES] == c


# K-free Na+ efflux (Na/Na exchange through the Na+ limb) is tested on the whole experiment:
# tests/test_experiments.py::test_hodgkin_keynes_efflux_rate_constant_per_phase.
