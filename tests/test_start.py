"""Runs that start at rest (issue 15): pumps at their cycle's steady state holding real
ions, an optional warm-up before t = 0, and cycles to watch from the first second."""

import numpy as np
import pytest
from scipy import stats

from particles import Simulation, load_scenario
from particles.config import ScenarioError
from particles.layout import (C_CYCLES_FWD, INSIDE, K, N_RING, NA, NA_SITES, OUTSIDE,
                              RING_STATES)
from particles.simulation import warmup_seed
from particles.start import RING_AGENT_STATES, fill_steady, steady_occupancy
from particles.state import Ions, Pumps

from .resume import assert_resumes_bit_for_bit

#: Scenarios whose lesson starts at rest.
AT_REST = ["resting", "ouabain", "hodgkin-keynes", "recovery", "action-potentials"]


def _ring_index(pumps) -> np.ndarray:
    """Each pump's ring state, from its agent state (:data:`RING_AGENT_STATES`)."""
    table = {s: j for j, s in enumerate(RING_AGENT_STATES)}
    return np.array([table[(int(s), int(a), int(b))]
                     for s, a, b in zip(pumps.state, pumps.n_na, pumps.n_k)])


def test_start_draws_the_steady_occupancy_with_real_ions_of_the_right_side():
    """1200 pumps (a tall patch of `ouabain`): their ring states follow the steady-state
    occupancy (chi-square), every held ion is a distinct particle of the right species taken
    from the side it binds from, sitting on its site, and no ion is created or lost."""
    over = {"domain.height_um": 200.0, "pumps.count": 1200, "time.warmup_ms": 0.0}
    sim = Simulation(load_scenario("ouabain", overrides=over), seed=7)
    plain = Simulation(load_scenario("ouabain", overrides={**over,
                                                           "pumps.start_steady": False}), 7)
    p = steady_occupancy(sim.par, sim.env)
    seen = np.bincount(_ring_index(sim.pumps), minlength=N_RING)
    big = p * len(sim.pumps) >= 5  # chi-square cells with enough expected counts
    assert seen[p == 0].sum() == 0 and p[~big].sum() * len(sim.pumps) < 5
    obs, exp = seen[big], p[big] / p[big].sum() * seen[big].sum()
    assert stats.chisquare(obs, exp).pvalue > 1e-3, (obs, exp)
    assert seen[:RING_STATES].astype(bool).sum() >= 10  # spread over the cycle
    pu, io = sim.pumps, sim.ions
    held = pu.sites[pu.sites >= 0]
    assert len(np.unique(held)) == len(held) == int(pu.n_na.sum() + pu.n_k.sum())
    assert np.array_equal(np.flatnonzero(io.bound), np.sort(held))
    for p_, row in enumerate(pu.sites):
        na, k = row[:NA_SITES], row[NA_SITES:]
        assert (na >= 0).sum() == pu.n_na[p_] and (k >= 0).sum() == pu.n_k[p_]
        assert np.all(io.species[na[na >= 0]] == NA) and np.all(io.side[na[na >= 0]] == INSIDE)
        assert np.all(io.species[k[k >= 0]] == K) and np.all(io.side[k[k >= 0]] == OUTSIDE)
        for s, i in enumerate(row):
            if i >= 0:
                assert abs(io.x[i] - sim.geometry.membrane_x_um) < sim.geometry.pump_face_um
                assert abs(io.y[i] - pu.y[p_]) < sim.geometry.pump_face_um
    # the same ions as a start with empty pumps: only their flags and places differ
    for sp in (NA, K):
        for side in (INSIDE, OUTSIDE):
            assert np.count_nonzero((io.species == sp) & (io.side == side)) == \
                np.count_nonzero((plain.ions.species == sp) & (plain.ions.side == side))


def test_start_is_reproducible_and_resumes_bit_for_bit(tmp_path):
    sc = load_scenario("ouabain", overrides={"time.sample_ms": 0.1})
    a, b = Simulation(sc, seed=5), Simulation(sc, seed=5)
    assert np.array_equal(a.pumps.sites, b.pumps.sites)
    assert np.array_equal(a.ions.x, b.ions.x) and np.array_equal(a.env, b.env)
    c = Simulation(sc, seed=6)
    assert not (np.array_equal(a.pumps.sites, c.pumps.sites)
                and np.array_equal(a.ions.x, c.ions.x))
    assert_resumes_bit_for_bit(a, tmp_path, 0.5, 1.0)


def test_warm_up_is_not_recorded_and_uses_a_seed_of_its_own():
    """After the warm-up the clock, counters and cycle counts start at 0, the table starts
    at t = 0, V has moved from its initial value, and the warm-up's random numbers are not
    the run's (a warmed run differs from a run started at the warmed state with the warm-up's
    seed)."""
    over = {"time.sample_ms": 0.1, "ouabain.concentration_mM": 0.0}
    sc = load_scenario("ouabain", overrides={**over, "time.warmup_ms": 1.0})
    sim = Simulation(sc, seed=2)
    assert sim.step_index == 0 and sim.time_ms == 0.0
    assert not sim.counters.any() and not sim.pumps.cycles.any()
    assert sim.v_mV != sc.values["membrane.v_initial_mV"]
    assert sim.timeseries()["time_ms"].tolist() == [0.0]
    assert warmup_seed(2) != 2 and 0 <= warmup_seed(2**63 - 1) < 2**63
    with pytest.raises(ScenarioError, match="time.warmup_ms"):
        load_scenario("ouabain", overrides={"time.warmup_ms": -1.0})
    with pytest.raises(ScenarioError, match="this key cannot change during a run"):
        sim.set_value("pumps.start_steady", False)


@pytest.mark.parametrize("name", AT_REST)
def test_pumps_are_busy_at_t0_and_cycles_show_in_the_first_second(name):
    """At t = 0 some pumps are past E1 (holding ions, as in the steady state); and where the
    steady state promises at least 3 forward cycles of the patch per second of watching at
    ×1 (``render.ms_per_second`` simulated ms), at least one is completed in the first
    second of each of 3 seeds (Poisson: P(none) <= e^-3 per seed; 3 seeds, e^-9 all).
    `resting` (10 pumps at ~10 cycles/s each, 0.25 ms/s) and `action-potentials` (2 pumps,
    2 ms/s) promise fewer: the test checks the promise so that it fails if they change."""
    sc = load_scenario(name)
    sc.protocol = []
    mps = sc.values["render.ms_per_second"]
    sims = [Simulation(sc, seed=s) for s in (1, 2, 3)]
    for sim in sims:
        ring = _ring_index(sim.pumps)
        assert np.any((ring >= 3) & (ring < RING_STATES)), ring  # not all empty or filling
    s0 = sims[0]
    p = steady_occupancy(s0.par, s0.env)
    e2_2k = 11  # the ring state whose forward step completes a cycle
    q = dict((n, f) for n, f, _ in s0.cycle_rates())
    expected = len(s0.pumps) * p[e2_2k] * q["E2 -> E1"] * mps
    if name in ("resting", "action-potentials"):
        assert expected < 3
        return
    assert expected >= 3, expected
    for sim in sims:
        sim.run(mps)
        assert sim.counters[C_CYCLES_FWD] >= 1, (name, sim.seed, expected)


def test_too_few_free_ions_for_the_pumps_is_a_one_line_error():
    sim = Simulation(load_scenario("ouabain", overrides={"time.warmup_ms": 0.0}), seed=1)
    ions = Ions.empty(3)
    ions.species[:], ions.side[:] = NA, INSIDE
    with pytest.raises(ScenarioError, match=r"^x\.toml: pumps\.start_steady: the pumps would "
                       r"hold \d+ (Na|K)\+ but the (inside|outside) has \d+$"):
        fill_steady(Pumps.evenly_spaced(40, 2.0), ions, sim.par, sim.env, 1, "x.toml")
