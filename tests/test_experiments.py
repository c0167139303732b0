"""The experiments of issue 4: channels, action potentials, membrane potential, the
hodgkin-keynes, ouabain and recovery scenarios, manual ion exchanges, and the rule that no
physics reads the phase label. Tolerances are statistical (Poisson counts, fitted errors)."""

import math
from pathlib import Path

import numba
import numpy as np
import pytest

from particles import Simulation, load_scenario
from particles import kernels as kn
from particles.layout import C_CHANNEL, INSIDE, OUTSIDE, RESERVOIR, ChannelType
from particles.observe import phase_summary

DATA = Path(__file__).resolve().parent / "data"

# A small time-scaled mammalian cell (the cell of the ouabain scenario) for quick checks.
CELL = "ouabain"
NO_OUABAIN = {"protocol": None}


def _cell(overrides=None, seed=1, protocol=False):
    sc = load_scenario(CELL, overrides=overrides or {})
    if not protocol:
        sc.protocol = []
    return Simulation(sc, seed=seed)


def _window(df, a, b, col):
    s = df[(df.time_ms > a) & (df.time_ms <= b)]
    return s[col].to_numpy(dtype=float)


# ------------------------------------------------------------------ conservation


def test_conservation_with_bath_channels_and_manual_exchanges():
    # Nav passage 1.2 /(mM·ms): a few Na+ cross the one Nav pore while it opens (0.3 let
    # none through now and then)
    sim = _cell({"channels.nav_count": 1, "channels.kv_count": 1,
                 "channels.nav_per_mM_ms": 1.2, "channels.kv_per_mM_ms": 0.3}, protocol=True)
    sim.run(2.0)
    sim.apply_event("add_ions", species="na", side="inside", count=40)
    sim.apply_event("remove_ions", species="k", side="outside", count=15)
    # a long strong pulse: the gated pores open (this cell has too few to fire a spike)
    sim.apply_event("stimulate", amplitude_uA_per_cm2=60.0, duration_ms=2.0, count=1)
    sim.run(3.0)
    sim.apply_event("add_ions", species="k", side="outside", count=5000)  # grows reservoir
    sim.apply_event("remove_ions", species="na", side="inside", count=10)
    sim.run(2.0)
    sim.recorder.record()
    df = sim.timeseries()
    for s in ("na", "k"):
        total = (df[f"{s}_in"] + df[f"{s}_out"] + df[f"{s}_bound"] - df[f"bath_{s}_added"]
                 + df[f"bath_{s}_removed"])
        assert total.nunique() == 1, f"{s}: {total.unique()[:5]}"
    assert df["bath_na_added"].iloc[-1] >= 40 and df["bath_k_added"].iloc[-1] >= 5000
    assert df["na_leak_in"].iloc[-1] > 0 and df["k_leak_out"].iloc[-1] > 0
    assert df["na_gated_in"].iloc[-1] > 0 and df["k_gated_out"].iloc[-1] > 0
    # free ions are all in their compartments, never inside the membrane
    i, g = sim.ions, sim.geometry
    free = ~i.bound & (i.side != RESERVOIR)
    inside = free & (i.side == INSIDE)
    assert np.all(i.x[inside] < g.x_in_face) and np.all(i.x[inside] >= 0)
    outside = free & (i.side == OUTSIDE)
    assert np.all(i.x[outside] > g.x_out_face) and np.all(i.x[outside] <= g.width_um)


def test_bad_exchange_and_action_potential_events_are_refused():
    from particles.config import ScenarioError

    sim = _cell()
    with pytest.raises(ScenarioError, match="species"):
        sim.apply_event("add_ions", species="ca", side="inside", count=3)
    with pytest.raises(ScenarioError, match="side"):
        sim.apply_event("remove_ions", species="na", side="left", count=3)
    with pytest.raises(ScenarioError, match="count"):
        sim.apply_event("add_ions", species="na", side="inside", count=0)
    with pytest.raises(ScenarioError, match="voltage-gated"):
        sim.apply_event("action_potential", count=1)


# ------------------------------------------------------------------ channels


def _leak_counts(dt, seed, T=6.0):
    over = {"pumps.count": 0, "channels.k_leak_count": 0, "channels.voltage_bias": False,
            "channels.na_leak_per_mM_ms": 0.1, "time.dt_ms": dt, "time.sample_ms": 0.5}
    sim = _cell(over, seed=seed)
    c_out = sim.concentration_mM(0, OUTSIDE)
    c_in = sim.concentration_mM(0, INSIDE)
    sim.run(T)
    c = sim.counters
    n_pores = sim.channels.count(ChannelType.NA_LEAK)
    return (int(c[C_CHANNEL + 0]), int(c[C_CHANNEL + 1]),
            0.1 * n_pores * c_out * T, 0.1 * n_pores * c_in * T)


def test_leak_passage_rate_matches_permeability_and_does_not_depend_on_dt():
    """A pore of rate r per mM passes r·c ions per ms from a side at concentration c (no
    voltage bias), whatever dt: counts are Poisson, so within 4 sqrt(expected)."""
    n_in, n_out, e_in, e_out = _leak_counts(0.0025, seed=3)
    assert abs(n_in - e_in) < 4 * math.sqrt(e_in) + 0.1 * e_in, (n_in, e_in)
    assert abs(n_out - e_out) < 4 * math.sqrt(e_out) + 0.1 * e_out, (n_out, e_out)
    m_in, _, _, _ = _leak_counts(0.0025 / 4, seed=4)
    assert abs(m_in - n_in) < 4 * math.sqrt(m_in + n_in), (m_in, n_in)


def test_results_identical_on_one_and_two_threads_with_channels():
    """Enough ions (> 16 chunks) that the move runs in parallel; channel crossings, their
    counts and the potential must not depend on the thread count."""
    over = {"domain.depth_um": 0.0003, "channels.nav_count": 1, "channels.kv_count": 1,
            "channels.na_leak_per_mM_ms": 0.05, "channels.k_leak_per_mM_ms": 0.2}
    before = numba.get_num_threads()
    out = []
    try:
        for t in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(t)
            sim = _cell(over, seed=5)
            assert len(sim.ions) > kn.PARALLEL_MIN_CHUNKS * kn.CHUNK
            sim.apply_event("action_potential", count=1)
            sim.step(120)
            out.append((sim.ions.x.copy(), sim.ions.side.copy(), sim.counters.copy(),
                        sim.v_mV))
    finally:
        numba.set_num_threads(before)
    (x1, s1, c1, v1), (x2, s2, c2, v2) = out
    assert np.array_equal(x1, x2) and np.array_equal(s1, s2) and np.array_equal(c1, c2)
    assert v1 == v2
    assert c1[C_CHANNEL:C_CHANNEL + 8].sum() > 0


def test_action_potential_na_enters_then_k_leaves_and_v_goes_up_then_down():
    """One spike of `action-potentials`: Na+ comes in through the Nav pores on the upstroke,
    K+ leaves through the Kv pores after it, V rises above 0 and falls back (issue 14)."""
    sc = load_scenario("action-potentials", overrides={"time.sample_ms": 0.02})
    sc.protocol = []
    sim = Simulation(sc, seed=2)
    sim.run(2.0)
    t0 = sim.time_ms
    sim.apply_event("action_potential")
    sim.run(4.0)
    df = sim.timeseries()
    spike = df[df.time_ms > t0]
    t_peak = spike.time_ms[spike.v_mV.idxmax()]
    before = df[df.time_ms <= t0].iloc[-1]
    at_peak = df[df.time_ms <= t_peak].iloc[-1]
    end = df.iloc[-1]
    assert spike.v_mV.max() > 10 and sim.spikes == 1
    na_up = at_peak.na_gated_in - before.na_gated_in
    k_up = at_peak.k_gated_out - before.k_gated_out
    k_after = end.k_gated_out - at_peak.k_gated_out
    assert na_up > 0 and k_after > k_up, (na_up, k_up, k_after)  # Na+ first, K+ after
    assert end.v_mV < -50                                          # repolarised
    assert end.na_in + end.na_bound > before.na_in + before.na_bound  # the cell gained Na+
    assert end.k_in + end.k_bound < before.k_in + before.k_bound      # ... and lost K+


def test_leak_only_membrane_runs_down_and_pumps_hold_the_gradients():
    T = 50.0
    out = {}
    for m in (0, 8):
        sim = _cell({"pumps.count": m, "membrane.patch_area_um2": 0.03}, seed=7)
        sim.run(T)
        df = sim.timeseries()
        out[m] = (df["na_in_mM"].iloc[0], _window(df, T - 5, T, "na_in_mM").mean(),
                  df["k_in_mM"].iloc[0], _window(df, T - 5, T, "k_in_mM").mean())
    na0, na_end, k0, k_end = out[0]
    # no pumps: ~5 Na+/ms leak into ~360 (30 ions per mM): ~7 mM in 50 ms; K+ leaks out
    # (issue 13: leak pores 0.2x, to match the slower reversible pump)
    assert na_end > na0 + 4, out[0]
    assert k_end < k0 - 2, out[0]
    na0, na_end, k0, k_end = out[8]
    # 1 mM is ~30 ions here: the pumps hold internal Na+ within a few mM
    assert abs(na_end - na0) < 4, out[8]
    assert abs(k_end - k0) < 5, out[8]


# ------------------------------------------------------------------ scenarios


def test_ouabain_depolarises_by_a_few_mV_and_gradients_run_down():
    sim = Simulation(load_scenario("ouabain"), seed=1)
    sim.run(75.0)
    df = sim.timeseries()
    t_block = 30.0
    v_ctrl = _window(df, 10, t_block, "v_mV")
    v_block = _window(df, t_block + 10, t_block + 25, "v_mV")
    dv = v_block.mean() - v_ctrl.mean()
    assert 1.0 < dv < 10.0, dv
    assert df["pumps_BLOCKED"].iloc[-1] == len(sim.pumps)
    assert df["cycles"].iloc[-1] - _window(df, t_block + 20, 200, "cycles")[0] <= 2
    na_block = _window(df, t_block - 2, t_block, "na_in_mM").mean()
    # (issue 13: leak pores 0.2x for the slower reversible pump, so the run-down is slower)
    assert df["na_in_mM"].iloc[-1] > na_block + 3
    assert df["k_in_mM"].iloc[-1] < _window(df, t_block - 2, t_block, "k_in_mM").mean() - 2
    # before the block the pump current is outward and balanced by net inward leak current
    assert _window(df, 10, t_block, "i_pump_uA_cm2").mean() > 0.5
    assert _window(df, 10, t_block, "i_channel_uA_cm2").mean() < 0


def _fit_decay(t, y, rest):
    """Amplitude and time constant (and their standard errors) of ``y = rest + b·exp(−t/τ)``
    with the rest level fixed."""
    from scipy.optimize import curve_fit

    p, cov = curve_fit(lambda t, b, tau: rest + b * np.exp(-t / tau), t, y, p0=(5.0, 80.0))
    return p, np.sqrt(np.diag(cov))


def _pump_time_constant(sim, na_mM):
    """The pumps' own recovery time constant (ms) at internal Na+ ``na_mM``: ions per mM
    inside over the slope of the patch's Na+ efflux, 3·m·dJ/dNa, J the master equation's
    net cycles per pump per ms (:func:`particles.energetics.ring_turnover`) at the
    simulation's other concentrations and V now."""
    from particles.energetics import ring_turnover

    d = 0.5
    slope = (ring_turnover(sim.cycle_rates(na_in=na_mM + d))
             - ring_turnover(sim.cycle_rates(na_in=na_mM - d))) / (2 * d)
    now = sim.counts()
    ions_per_mM = now["na_in"] / now["na_in_mM"]
    return ions_per_mM / (3 * len(sim.pumps) * slope)


@pytest.mark.slow
def test_recovery_fires_its_own_spikes_then_the_pumps_restore_sodium_with_a_time_constant():
    """`recovery` starts at rest and fires its own action potentials (issue 14); the Na+
    they bring in then decays back to rest. The cell is so small (about 30 Na+ per mM
    inside) that the load and its decay vary from seed to seed (the patch's 12 Na+ pores
    open by chance, and one opening moves 1-2 mM), so the time constant is fitted to the
    mean of three seeds, with the rest level fixed, and compared with the pumps' own from
    the master equation (τ = ions per mM / (3 m dJ/dNa) at rest)."""
    runs, taus_me = [], []
    for seed in (1, 2, 3):
        sim = Simulation(load_scenario("recovery"), seed=seed)
        taus_me.append(_pump_time_constant(sim, sim.counts()["na_in_mM"]))
        sim.run()
        assert sim.spikes == 2
        runs.append(sim.timeseries()[["time_ms", "na_in_mM", "k_in_mM"]])
    df = sum(runs) / len(runs)
    rest = df[df["time_ms"] < 2]
    after = df[df["time_ms"] >= 12]
    t = after["time_ms"].to_numpy() - 12
    na = after["na_in_mM"].to_numpy()
    na_rest = rest["na_in_mM"].mean()
    (_, tau), (_, stau) = _fit_decay(t, na, na_rest)
    tau_me = float(np.mean(taus_me))
    excess0, excess_end = na[t < 3].mean() - na_rest, na[t > t[-1] - 3].mean() - na_rest
    print(f"recovery (mean of 3 seeds): excess {excess0:.2f} -> {excess_end:.2f} mM, "
          f"tau = {tau:.0f} ± {stau:.0f} ms; pumps' own (master equation) {tau_me:.0f} ms")
    assert excess0 > 2.0  # the spikes' Na+
    assert excess_end < 0.5 * excess0  # most of it pumped out in 138 ms
    assert stau < 0.2 * tau and 0.5 * tau_me < tau < 4 * tau_me, (tau, stau, tau_me)
    assert df["k_in_mM"].iloc[-5:].mean() > after["k_in_mM"].iloc[:5].mean() + 1  # K+ back in


#: hodgkin-keynes at twice the cell (membrane, pumps, leak pores and the area they stand for):
#: each phase's rate constant to ~8 % (default cell: ~12 %), so the K-free fall (x0.4-0.5)
#: is ~6 standard errors below the controls' mean (~4 at the default size: too close to 3).
HK_2X = {"domain.height_um": 4.0, "pumps.count": 16, "channels.na_leak_count": 8,
         "channels.k_leak_count": 8, "membrane.patch_area_um2": 0.12}


@pytest.mark.slow
def test_hodgkin_keynes_efflux_rate_constant_per_phase():
    sim = Simulation(load_scenario("hodgkin-keynes").with_overrides(HK_2X), seed=1)
    sim.run()
    df = sim.timeseries()
    ph = phase_summary(df, skip_ms=8.0)
    print(ph.to_string())
    assert list(ph["phase"]) == ["control", "K-free", "control", "DNP", "washout"]
    k, se = ph["k_per_ms"].to_numpy(), ph["k_se_per_ms"].to_numpy()
    c1, kf, c2, dnp, wash = range(5)
    k_ctrl = 0.5 * (k[c1] + k[c2])  # the two controls pooled
    se_ctrl = 0.5 * math.hypot(se[c1], se[c2])

    def z(a, b):
        return (k[a] - k[b]) / math.hypot(se[a], se[b])

    def below_ctrl(a):
        """Standard errors by which phase ``a`` lies below the controls' mean."""
        return (k_ctrl - k[a]) / math.hypot(se_ctrl, se[a])

    assert below_ctrl(kf) > 3                                  # K-free: efflux falls ...
    assert 0.2 < k[kf] / k_ctrl < 0.75                         # ... to about a third to a half
    assert k[kf] - 3 * se[kf] > 0                              # Na/Na exchange: not to zero
    assert abs(z(c1, c2)) < 3                                  # K+ restored: back to control
    # DNP: the last 15 ms of the phase, once ATP has run down: nearly zero
    late = ph.loc[dnp]
    t1 = late["t_end_ms"]
    dnp_late = phase_summary(df[df.time_ms >= t1 - 16].assign(
        phase=lambda d: np.where(d.time_ms <= t1, "DNP", "after")))
    k_dnp = dnp_late["k_per_ms"].iloc[0]
    assert k_dnp < 0.1 * k_ctrl and below_ctrl(dnp) > 5, (k_dnp, k_ctrl)
    # washout: back onto the control line (within 3 standard errors of the controls' mean)
    assert abs(k[wash] - k_ctrl) < 3 * math.hypot(se[wash], se_ctrl)
    # ATP: runs down under DNP, recovers after washout
    atp0 = df["atp_mM"].iloc[0]
    assert _window(df, t1 - 15, t1, "atp_mM").max() < 0.05 * atp0
    assert _window(df, df.time_ms.iloc[-1] - 20, 1e9, "atp_mM").mean() > 0.8 * atp0
    # unlabelled Na+ leaks in while labelled Na+ is pumped out: internal Na+ roughly steady
    assert abs(ph.loc[c1, "na_in_mM_mean"] - 50) < 5
    assert ph.loc[c1, "cycles_per_pump_per_s"] > 3 * ph.loc[dnp, "cycles_per_pump_per_s"]


# ------------------------------------------------------------------ the phase label


def test_no_physics_reads_the_phase_label(tmp_path):
    """Only the protocol sets the phase label and observers copy it into the table: renaming
    every label of a scenario that fires every protocol event (and starts with a label)
    changes nothing but the phase column."""
    from dataclasses import replace

    sc = load_scenario(str(DATA / "all-events.toml"), overrides={"time.sample_ms": 0.1})
    labels = {sc.initial_phase} | {e.phase for e in sc.protocol if e.phase is not None}
    renamed = {old: f"renamed-{k}-{old[::-1]}" for k, old in enumerate(sorted(labels))}
    other = replace(sc, values=dict(sc.values), initial_phase=renamed[sc.initial_phase],
                    protocol=[replace(e, params=dict(e.params),
                                      phase=None if e.phase is None else renamed[e.phase])
                              for e in sc.protocol])
    a = Simulation(sc, seed=3).run(2.0).timeseries()
    b = Simulation(other, seed=3).run(2.0).timeseries()
    assert len(set(a["phase"])) >= 4 and len(a) == 21
    assert list(b["phase"]) == [renamed[p] for p in a["phase"]]
    assert a.drop(columns="phase").to_csv() == b.drop(columns="phase").to_csv()
