"""The reversible pump (issue 13): detailed balance, direction of the net flux around the
reversal potential, stoichiometry both ways, external Na+ against K+, and the agents against
an exact well-mixed master equation of the cycle."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from particles import Simulation, load_scenario
from particles.energetics import ring_turnover
from particles.layout import C_ATP_USED, C_CYCLES_BWD, C_CYCLES_FWD, C_K_IN, C_NA_OUT

from .test_pumps import _check_stoichiometry

R_KJ = 8.314462618e-3  # kJ/(mol K), written out here: the test does not use the model's
F_KJ = 96.48533212  # kJ/(mol V)


def _scenario(**over):
    """`energetics` without its protocol, with overrides (dotted keys with '__' for '.')."""
    sc = load_scenario("energetics")
    sc = dataclasses.replace(sc, protocol=[])
    return sc.with_overrides({k.replace("__", "."): v for k, v in over.items()})


def _dg_cycle(v, atp, adp, pi, na_i, na_o, k_i, k_o, v_mV):
    """ΔG of one forward cycle (kJ/mol) straight from MODEL.md §2b."""
    rt = R_KJ * (v["membrane.temperature_C"] + 273.15)
    dg_atp = v["atp.dg0_kJ_per_mol"] + rt * math.log(adp * 1e-3 * pi * 1e-3 / (atp * 1e-3))
    return (dg_atp + 3 * rt * math.log(na_o / na_i) + 2 * rt * math.log(k_i / k_o)
            - F_KJ * v_mV * 1e-3)


_RANDOM_KEYS = {  # key: (low, high), drawn log-uniformly
    "pumps.kd_na_in_mM": (1, 100), "pumps.kd_na_out_mM": (10, 1000),
    "pumps.kd_k_out_mM": (0.05, 20), "pumps.kd_k_in_mM": (5, 500),
    "pumps.k_phos_per_ms": (0.1, 20), "pumps.k_phos_back_per_ms": (0.1, 5000),
    "pumps.km_atp_mM": (0.002, 0.1), "pumps.km_adp_mM": (0.01, 1),
    "pumps.k_occlusion_per_ms": (0.1, 10), "pumps.k_occlusion_back_per_ms": (0.01, 10),
    "pumps.k_na_release_per_ms": (0.5, 50), "pumps.k_dephos_per_ms": (0.2, 20),
    "pumps.k_dephos_back_per_mM_ms": (1e-3, 1), "pumps.k_return_per_ms": (0.01, 1),
    "pumps.k_return_atp_per_ms": (0.1, 10), "pumps.km_atp_low_mM": (0.05, 2),
    "pumps.k_k_release_per_ms": (0.5, 50), "atp.initial_mM": (0.01, 10),
    "atp.adp_mM": (0.001, 3), "atp.pi_mM": (0.1, 20),
}


def test_detailed_balance_for_random_values():
    rng = np.random.default_rng(13)
    for _ in range(12):
        over = {k: float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
                for k, (lo, hi) in _RANDOM_KEYS.items()}
        v_mV = float(rng.uniform(-200, 80))
        over.update({"pumps.occlusion_charge": float(rng.uniform(0, 1)),
                     "membrane.temperature_C": float(rng.uniform(5, 40)),
                     "atp.dg0_kJ_per_mol": float(rng.uniform(-40, -25)),
                     "membrane.clamp_mV": v_mV})
        sim = Simulation(_scenario().with_overrides(over), seed=0)
        conc = {k: float(np.exp(rng.uniform(np.log(0.5), np.log(500))))
                for k in ("na_in", "na_out", "k_in", "k_out")}
        steps = sim.cycle_rates(**conc)
        assert len(steps) == 14
        log_ratio = sum(math.log(f) - math.log(b) for _, f, b in steps)
        v = sim.scenario.values
        dg = _dg_cycle(v, v["atp.initial_mM"], v["atp.adp_mM"], v["atp.pi_mM"],
                       conc["na_in"], conc["na_out"], conc["k_in"], conc["k_out"], v_mV)
        expected = -dg / (R_KJ * (v["membrane.temperature_C"] + 273.15))
        # product of ratios = exp(-ΔG/RT) to 1e-9 relative
        assert abs(math.expm1(log_ratio - expected)) < 1e-9, (log_ratio, expected)
        # and the simulation reports the same ΔG (free concentrations of its own ions)
        assert sim.dg_cycle_kJ_mol == pytest.approx(_dg_cycle(
            v, sim.atp_mM, sim.adp_mM, sim.pi_mM,
            *[sim.concentration_mM(s, side)
              for s, side in ((0, 0), (0, 1), (1, 0), (1, 1))], v_mV), rel=1e-12)


def test_reversal_potential_is_where_the_cycle_free_energy_vanishes():
    sim = Simulation(_scenario(), seed=0)
    v0 = sim.pump_reversal_mV
    sim.set_value("membrane.clamp_mV", v0)
    assert sim.v_mV == v0
    assert abs(sim.dg_cycle_kJ_mol) < 1e-9
    sim.set_value("membrane.clamp_mV", v0 + 10)
    assert sim.dg_cycle_kJ_mol == pytest.approx(-F_KJ * 1e-2, rel=1e-9)


def _net_per_pump(sim, ms):
    """Net cycles per pump per ms over ``ms`` from now: (mean, standard error), the error
    from the spread between the (independent) pumps."""
    c0 = sim.pumps.cycles.copy()
    sim.run(ms)
    d = (sim.pumps.cycles - c0) / ms
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


LOW_ATP = {"atp__initial_mM": 0.3, "atp__adp_mM": 0.3, "atp__pi_mM": 8.0,
           "ions__na__inside_mM": 15.0}


@pytest.mark.slow
def test_clamped_flux_is_forward_above_reversal_backward_below_and_zero_at_it():
    sc = _scenario(**LOW_ATP, pumps__count=20, domain__depth_um=5e-5, time__sample_ms=1.0)
    v0 = Simulation(sc, seed=0).pump_reversal_mV
    assert -100 < v0 < -70  # the dialysed, perfused patch at low ATP
    out = {}
    # +150 mV: forward cycles dominate, so the count's variance is ~ the forward count and
    # the expected flux is ~10 s.e. (at +50 mV, 0.023 /ms, back-and-forth cycles made it ~2 s.e.)
    for dv, seed in ((150, 1), (0, 2), (-80, 3)):
        sim = Simulation(sc.with_overrides({"membrane.clamp_mV": v0 + dv}), seed=seed)
        sim.run(15.0)  # pumps start empty: settle their distribution over the cycle
        out[dv] = _net_per_pump(sim, 60.0)
        _check_stoichiometry(sim)
        if dv < 0:  # running backwards: K+ out, Na+ in, ATP made
            c = sim.counters
            assert c[C_CYCLES_BWD] > c[C_CYCLES_FWD]
            assert c[C_NA_OUT] < 0 and c[C_K_IN] < 0 and c[C_ATP_USED] < 0
    (up, se_up), (zero, se0), (down, se_dn) = out[150], out[0], out[-80]
    assert up > 3 * se_up, out
    assert down < -3 * se_dn, out
    assert abs(zero) < 4 * se0, out


#: Conditions for the master-equation comparison: overrides of `energetics` (clamped V).
ME_CASES = [
    {},  # ATP 3 mM, Na+ in 50 mM, K+ out 5 mM, -40 mV
    {"ions__na__inside_mM": 15.0, "membrane__clamp_mV": 0.0},
    {"ions__k__outside_mM": 0.5, "atp__initial_mM": 0.3, "atp__adp_mM": 0.3,
     "membrane__clamp_mV": -80.0},
    {"atp__initial_mM": 0.5, "atp__adp_mM": 0.5, "atp__pi_mM": 8.0, "membrane__clamp_mV": 30.0},
]
#: Run length (ms) of each case: enough cycles for a standard error below 8 % (the last
#: case's low ATP makes ~0.04 net cycles per ms).
ME_RUN_MS = (150.0, 150.0, 150.0, 300.0)


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(ME_CASES)))
def test_agents_turnover_equals_the_master_equation(case):
    """Reaction-limited capture, concentrations held by dialysis and bath: the master
    equation is solved at the run's mean free concentrations.

    At the scenario's slab depth (50 pm) the faces' adsorption coefficients κ (∝ rate per
    mM / depth) are small: κ·face ≈ 0.09 µm²/ms for K+ against ~1 µm²/ms for diffusion to
    a 50-nm face. At 10 pm κ is 5x larger, capture becomes diffusion-influenced (ions
    near an open face are used up faster than they are replaced) and the agents run
    below the well-mixed ring: 15 mM internal Na+, 0 mV, 2x K+ capture the slow step:
    ~9 % below over 10 runs, with E2P's K+-waiting states 10-20 % above their ring
    occupancy (2026-11-27); 2 runs at 50 pm: -4 % (1 s.e.) and 0 %."""
    sc = _scenario(pumps__count=20, time__sample_ms=0.5, **ME_CASES[case])
    sim = Simulation(sc, seed=40 + case)
    sim.run(5.0)
    c0 = sim.pumps.cycles.copy()
    t0 = sim.time_ms
    sim.run(ME_RUN_MS[case])
    df = sim.timeseries()
    df = df[df["time_ms"] > t0]
    conc = {k: float(df[f"{k}_mM"].mean()) for k in ("na_in", "na_out", "k_in", "k_out")}
    theory = ring_turnover(sim.cycle_rates(**conc))
    d = (sim.pumps.cycles - c0) / (sim.time_ms - t0)
    agents, se = d.mean(), d.std(ddof=1) / np.sqrt(len(d))
    assert abs(agents - theory) < 0.03 * abs(theory) + 3 * se, (agents, se, theory)
    assert se < 0.08 * abs(theory)  # the comparison has power


def test_ouabain_dissociation_constant_from_the_defaults():
    from particles.config import SCHEMA

    kd_nM = SCHEMA["ouabain.k_off_per_ms"].default / SCHEMA["ouabain.k_on_per_mM_ms"].default * 1e6
    assert 1.0 <= kd_nM <= 10.0
    k_off_per_s = SCHEMA["ouabain.k_off_per_ms"].default * 1e3
    assert 1e-4 <= k_off_per_s <= 4e-4


def test_master_equation_current_rises_with_v_and_external_na_inhibits_at_low_k():
    """The cycle's exact steady state (the agents follow it, see the test above): the pump
    current rises monotonically from -120 to +40 mV; at 0.5 mM external K+, 145 mM external
    Na+ lowers the turnover (rebinding to the outward-open Na+ sites), more at -100 mV."""
    sim = Simulation(load_scenario("resting"), seed=0)

    def j(v_mV, **conc):
        sim.set_value("membrane.clamp", True)
        sim.set_value("membrane.clamp_mV", v_mV)
        c = {"na_in": 12.0, "na_out": 145.0, "k_in": 140.0, "k_out": 5.0, **conc}
        return ring_turnover(sim.cycle_rates(**c))

    iv = [j(v) for v in range(-120, 41, 10)]
    assert np.all(np.diff(iv) > 0) and iv[0] > 0
    for v in (-100.0, 0.0):
        assert j(v, k_out=0.5) < j(v, k_out=0.5, na_out=1e-6)
    ratio = [j(v, k_out=0.5) / j(v, k_out=0.5, na_out=1e-6) for v in (-100.0, 0.0)]
    assert ratio[0] < ratio[1]  # more inhibition at negative V


def _derrida_turnover(steps):
    """Net cycles per ms of a ring from the closed form for a periodic one-dimensional chain
    (Derrida 1983, J. Stat. Phys. 31:433): with u_n = k+_n (n -> n+1) and w_n the rate from
    n back to n-1 (k-_{n-1}), ``J = (1 − Π w_n/u_n) / Σ_n r_n``,
    ``r_n = (1/u_n)(1 + Σ_{i=1}^{N-1} Π_{j=1}^{i} w_{n+j}/u_{n+j})``. No matrix: an
    independent check of :func:`ring_turnover`."""
    u = np.array([f for _, f, _ in steps])
    w = np.roll(np.array([b for _, _, b in steps]), 1)
    n = len(u)
    ratio = w / u
    r = [(1 + sum(np.prod([ratio[(m + j) % n] for j in range(1, i + 1)])
                  for i in range(1, n))) / u[m] for m in range(n)]
    return (1 - np.prod(ratio)) / sum(r)


def test_ring_turnover_is_the_exact_steady_state_of_the_cycle():
    """Uniform ring: (k+ − k−)/N; two states: the textbook formula; the 14-step cycle of
    `energetics` at the master-equation cases, forward and backward of reversal: the closed
    form of a periodic chain, to 1e-9 relative."""
    assert ring_turnover([("s", 3.0, 1.0)] * 7) == pytest.approx(2.0 / 7, rel=1e-12)
    a, b, c, d = 2.0, 5.0, 0.3, 0.7
    assert ring_turnover([("1", a, c), ("2", b, d)]) == \
        pytest.approx((a * b - c * d) / (a + b + c + d), rel=1e-12)
    signs = set()
    for case in ME_CASES + [{**LOW_ATP, "membrane__clamp_mV": -130.0}]:
        sim = Simulation(_scenario(**case), seed=0)
        steps = sim.cycle_rates(na_in=sim.scenario.values["ions.na.inside_mM"],
                                na_out=145.0, k_in=140.0, k_out=5.0)
        j = ring_turnover(steps)
        signs.add(np.sign(j))
        assert j == pytest.approx(_derrida_turnover(steps), rel=1e-9)
    assert signs == {-1.0, 1.0}  # both directions checked


@pytest.mark.parametrize("key, slot", [("pumps.kd_na_out_mM", "P_STICK_NA_REBIND"),
                                       ("pumps.kd_k_in_mM", "P_STICK_K_INNER")])
def test_dt_is_refused_where_rebinding_or_internal_k_binding_would_stick_too_often(key, slot):
    """The two binding steps whose k_on is a release rate over K_D (external Na+ back onto
    E2P, internal K+ onto E1) are in the dt rule: a K_D so small that their sticking
    probability would exceed physics.STICK_P_MAX is refused in one line that proposes the
    largest safe dt, and that dt gives a probability just below the limit."""
    from particles import layout, physics
    from particles.config import ScenarioError

    base = load_scenario("energetics")
    p_now = Simulation(base, seed=0).par[layout.PAR_P_STICK + getattr(layout, slot)]
    assert 0 < p_now < physics.STICK_P_MAX
    small = base.values[key] * p_now / 0.8  # κ ∝ 1/K_D: P about 0.7 at this dt
    with pytest.raises(ScenarioError) as err:
        load_scenario("energetics", {key: small})
    msg = str(err.value)
    assert "\n" not in msg and "time.dt_ms" in msg and "exceed 0.5" in msg, msg
    safe = float(msg.split("the largest safe dt is ")[1].split(" ms")[0])
    assert safe < base.values["time.dt_ms"]
    sc = load_scenario("energetics", {key: small, "time.dt_ms": safe})
    p = Simulation(sc, seed=0).par[layout.PAR_P_STICK + getattr(layout, slot)]
    assert 0.49 < p <= physics.STICK_P_MAX, p  # this face is the one that sets the limit


def test_rebinding_voltage_factor_scales_kappa_and_stays_dt_independent():
    """External Na+ rebinding at V != 0: the kernel's sticking probability is the full
    Andrews conversion (physics.sticking_probability, exact against a 1-D solution in
    test_capture) of κ(V) = κ(0)·exp(-z_Na·V/2V_T), so the adsorption coefficient it
    realises is the same at dt, dt/4 and dt/16 (to the table's 1e-4) with P(V = 0) near 0.3.
    Scaling P instead (small-P formula) misses κ(V) by several % there."""
    from particles import kernels, physics
    from particles.layout import (
        ENV_V,
        P_STICK_NA_REBIND,
        PAR_P_STICK,
        PAR_VT,
        PAR_Z_NA,
        R_STICK_REBIND,
    )

    base = load_scenario("energetics")
    v = base.values
    dt, d_na = v["time.dt_ms"], v["ions.na.D"]
    kappa0 = physics.face_kappas(v)[P_STICK_NA_REBIND][0]
    # a K_D that gives P = 0.3 at V = 0 and this dt
    kd = v["pumps.kd_na_out_mM"] * kappa0 / (physics.reduced_adsorption(0.3)
                                            * math.sqrt(2 * d_na / dt))
    realised, off = {}, []
    for f in (1, 4, 16):
        sim = Simulation(load_scenario("energetics", {"pumps.kd_na_out_mM": kd,
                                                      "time.dt_ms": dt / f}), seed=0)
        par, env = sim.par, sim.env.copy()
        k0 = physics.face_kappas(sim.scenario.values)[P_STICK_NA_REBIND][0]
        for v_mV in (-160.0, -40.0, 0.0, 40.0):
            env[ENV_V] = v_mV
            p = kernels.pump_rates(par, env)[R_STICK_REBIND]
            k_v = k0 * math.exp(-0.5 * par[PAR_Z_NA] * v_mV / par[PAR_VT])
            assert p == pytest.approx(physics.sticking_probability(k_v, dt / f, d_na), rel=1e-4)
            realised.setdefault(v_mV, []).append(
                physics.reduced_adsorption(p) * math.sqrt(2 * d_na * f / dt))
            small_p = min(1.0, par[PAR_P_STICK + P_STICK_NA_REBIND] * k_v / k0)
            off.append(abs(physics.reduced_adsorption(small_p)
                           * math.sqrt(2 * d_na * f / dt) / k_v - 1))
        assert par[PAR_P_STICK + P_STICK_NA_REBIND] == pytest.approx(
            0.3 if f == 1 else physics.sticking_probability(k0, dt / f, d_na), rel=1e-4)
    for v_mV, ks in realised.items():
        assert max(ks) / min(ks) - 1 < 1e-4, (v_mV, ks)
    assert max(off) > 0.03  # the old rule was off at P near 0.3


@pytest.mark.slow
def test_agents_external_na_lowers_turnover_at_low_k():
    """At 0.5 mM external K+ the agents turn over more slowly in 145 mM external Na+ than
    Na-free: external Na+ rebinds to the outward-open sites against K+ (MODEL.md §2b). At
    -100 mV, where the voltage makes rebinding strong (the master equation gives 0.025
    against 0.097 /ms), 50 mM Na+ and K+ inside for speed, exchange zones reaching close to
    the membrane (K+ held at the pumps), 20 pumps for 25 ms each: the difference is several
    standard errors of the per-pump spread (about 6 here; 3 are required)."""
    rates = {}
    for na_out, seed in ((145.0, 5), (0.0, 6)):
        sim = Simulation(_scenario(ions__k__outside_mM=0.5, ions__na__outside_mM=na_out,
                                   ions__na__inside_mM=50.0, ions__k__inside_mM=50.0,
                                   membrane__clamp_mV=-100.0, domain__depth_um=1e-5,
                                   bath__zone_um=0.25, dialysis__zone_um=0.25), seed=seed)
        sim.run(2.0)
        rates[na_out] = _net_per_pump(sim, 25.0)
    (with_na, se_na), (free, se_free) = rates[145.0], rates[0.0]
    assert with_na < free - 3 * math.hypot(se_na, se_free), rates


def test_sweep_figure_draws_the_master_equation_of_a_held_concentration():
    """A sweep over internal Na+ of `saturation` (dialysed: the free concentrations are the
    set ones) gets the master-equation curve: at the swept points it is ring_turnover of the
    cycle at those concentrations and the runs' mean V, and the figure draws it dashed."""
    from particles import plotting
    from particles.plot_iv import master_equation_curve

    na = [5.0, 20.0, 80.0]
    late = pd.DataFrame([{"ions.na.inside_mM": c, "na_in_mM": c, "na_out_mM": 145.0,
                          "k_in_mM": 140.0, "k_out_mM": 5.0, "v_mV": -60.0 + c / 10,
                          "time_ms": 10.0} for c in na])
    meta = {"scenario": "saturation"}
    got = master_equation_curve(meta, late, "ions.na.inside_mM", np.array(na))
    sim = Simulation(load_scenario("saturation"), seed=0)
    for c, j in zip(na, got):
        sim.set_value("membrane.clamp", True)
        sim.set_value("membrane.clamp_mV", -60.0 + c / 10)
        want = 1000 * ring_turnover(sim.cycle_rates(na_in=c, na_out=145.0, k_in=140.0,
                                                    k_out=5.0))
        assert j == pytest.approx(want, rel=1e-9)
    assert got[0] < got[1] < got[2]
    assert master_equation_curve(meta, late, "pumps.count", np.array(na)) is None
    assert master_equation_curve({}, late, "ions.na.inside_mM", np.array(na)) is None
    rows = [{**r, "replicate": k, "seed": k, "cycles": int(r["time_ms"] * k), "time_ms": t}
            for r in late.to_dict("records") for k in range(3) for t in (0.0, 10.0, 20.0)]
    fig = plotting.plot_sweep(pd.DataFrame(rows), meta={**meta, "vary":
                                                         {"ions.na.inside_mM": na}})
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert "master equation of the cycle (well mixed)" in labels


def _ring_index(state, n_na, n_k):
    """Ring state (``particles.layout.RING_STATES`` order, blocked last) of each pump."""
    from particles.layout import (BLOCKED, E1, E1_3NA, E1P_3NA, E2_2K, E2P, E2P_2K,
                                  RING_BLOCKED)

    out = np.full(len(state), -1)
    e1, e2p = state == E1, state == E2P
    out[e1 & (n_k == 0)] = n_na[e1 & (n_k == 0)]         # 0..2 Na+ bound
    out[e1 & (n_k > 0)] = 14 - n_k[e1 & (n_k > 0)]       # 12: 2 K+, 13: 1 K+
    out[state == E1_3NA] = 3
    out[state == E1P_3NA] = 4
    out[e2p & (n_na > 0)] = 8 - n_na[e2p & (n_na > 0)]   # 5..7: 3..1 Na+ left
    out[e2p & (n_na == 0)] = 8 + n_k[e2p & (n_na == 0)]  # 8, 9
    out[state == E2P_2K] = 10
    out[state == E2_2K] = 11
    out[state == BLOCKED] = RING_BLOCKED
    return out


@pytest.mark.parametrize("start", [4, 11])
def test_first_order_steps_within_a_step_follow_the_master_equation(start):
    """Within a step a pump goes on through first-order transitions until the step's time is
    used up (it made at most one before, which slowed hodgkin-keynes' cycle by ~6 % at its
    2.5 µs). 20 000 pumps start in E1P(3Na) (ring state 4) or E2(2K) (11) at hodgkin-keynes'
    rates over a step of 10 µs (the fastest exit then ~2 per step); where they are after it
    is the master equation's transient ``p0·exp(G dt)`` with the binding steps off (the
    move makes captures, not this kernel): χ² over the states, p > 0.001."""
    from scipy.linalg import expm
    from scipy.stats import chi2

    from particles import kernels as kn
    from particles.layout import (E1P_3NA, E2_2K, ENV_CONC, K_SITES, N_SITES, NA_SITES, PAR_DT,
                                  IonArrays, PumpArrays)

    sim = Simulation(load_scenario("hodgkin-keynes"), seed=0)
    par = sim.par.copy()
    par[PAR_DT] = 0.01
    rate = kn.pump_rates(par, sim.env)
    m = 20_000
    n_bound = NA_SITES if start == 4 else K_SITES
    state = np.full(m, E1P_3NA if start == 4 else E2_2K, np.int8)
    n_na = np.full(m, NA_SITES if start == 4 else 0, np.int8)
    n_k = np.full(m, 0 if start == 4 else K_SITES, np.int8)
    sites = np.full((m, N_SITES), -1, np.int32)
    ion_ids = np.arange(m * n_bound, dtype=np.int32).reshape(m, n_bound)
    if start == 4:
        sites[:, :NA_SITES] = ion_ids
    else:
        sites[:, NA_SITES:] = ion_ids
    n_ions = m * n_bound
    ions = IonArrays(np.full(n_ions, sim.geometry.membrane_x_um), np.zeros(n_ions),
                     np.full(n_ions, 0 if start == 4 else 1, np.int8),
                     np.full(n_ions, 0 if start == 4 else 1, np.int8),
                     np.ones(n_ions, np.bool_), np.zeros(n_ions, np.bool_))
    pumps = PumpArrays(np.linspace(0.01, 0.99, m) * sim.geometry.height_um, state, n_na, n_k,
                       sites, np.zeros(m, np.int64))
    kn.pump_transitions(7, 3, ions, pumps, par, rate, np.zeros_like(sim.counters))
    seen = np.bincount(_ring_index(state, n_na, n_k), minlength=15)

    env = sim.env.copy()
    env[ENV_CONC:ENV_CONC + 4] = 0.0  # no captures within the transitions
    q = kn.ring_matrix(par, env, rate)
    gen = q - np.diag(q.sum(axis=1))
    p = expm(gen * par[PAR_DT])[start]
    expected = m * p
    assert seen.sum() == m
    big = expected >= 5
    observed = np.append(seen[big], seen[~big].sum())
    want = np.append(expected[big], expected[~big].sum())
    if want[-1] < 5:  # merge the small tail into the largest bin
        observed, want = observed[:-1], want[:-1]
        observed[np.argmax(want)] += seen[~big].sum()
        want[np.argmax(want)] += expected[~big].sum()
    stat = float(((observed - want) ** 2 / want).sum())
    assert chi2.sf(stat, len(want) - 1) > 1e-3, (seen, np.round(expected, 1))
    assert p[start] < 0.8  # the step is long enough for several transitions to matter
