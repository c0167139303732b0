"""Hodgkin-Huxley gating as Markov chains (issue 14 item 1; MODEL.md §4b).

Rates against the formulas; pores clamped at three voltages against the HH steady states
and time courses; the population kernel against the per-pore chains; the binomial deviate
against its moments. Tolerances are 4 standard errors of the quantity compared (plus one
count where counts are compared, for their granularity). The clamp runs use the
simulation's step, 1.5625e-4 ms at 37 °C: the one-transition-per-step chain then differs
from the continuous one by at most 0.9 binomial s.e. for 2000 pores (computed from the
exact discrete chain's matrix powers at these voltages), inside the tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from particles import gating as g
from particles.layout import (CH_KV, CH_NAV, KV_OPEN, KV_STATES, NAV_M_STATES, NAV_OPEN,
                              NAV_STATES, ChannelType)
from particles.rng import binomial, step_key

T_C = 37.0
DT = 1.5625e-4  # ms
M = 2000  # pores of each kind
N_LEAK = 10
RECORD_MS = (0.01, 0.03, 0.1, 0.3)
END_MS = 2.0  # > 7 of the slowest time constant (τ_n at −80 mV, 0.27 ms)
VOLTAGES = (-80.0, -40.0, 0.0)
NAV_START = NAV_M_STATES  # m0h1: activation gates closed, not inactivated
Z = 4.0


def _within(count, n, p):
    """``count`` of ``n`` is within Z binomial s.e. (plus one count) of n·p."""
    return abs(count - n * p) <= Z * math.sqrt(n * p * (1.0 - p)) + 1.0


def _hh_open(kind, v, t):
    """HH open probability at time ``t`` (ms) after the all-closed start."""
    tm, th, tn = g.time_constants(v, T_C)
    m_inf, h_inf, n_inf = g.steady_state(v)
    if kind == "kv":
        return (n_inf * -math.expm1(-t / tn)) ** 4
    h = h_inf + (1.0 - h_inf) * math.exp(-t / th)
    return (m_inf * -math.expm1(-t / tm)) ** 3 * h


# ------------------------------------------------------------------------------- rates

def _hand(v):
    """(α_m, β_m, α_h, β_h, α_n, β_n) at 6.3 °C, written out with :mod:`math` (no expm1,
    none of the kernel's code), at V away from the singular points."""
    e = math.exp
    return (0.1 * (v + 40) / (1 - e(-(v + 40) / 10)), 4 * e(-(v + 65) / 18),
            0.07 * e(-(v + 65) / 20), 1 / (1 + e(-(v + 35) / 10)),
            0.01 * (v + 55) / (1 - e(-(v + 55) / 10)), 0.125 * e(-(v + 65) / 80))


HAND = {v: _hand(v) for v in (-90.0, -65.0, -20.0, 0.0, 40.0)}
HAND[-65.0] = (2.5 / (math.e ** 2.5 - 1), 4.0, 0.07, 1 / (1 + math.e ** 3), 0.1 / (math.e - 1),
               0.125)  # by hand
assert HAND[-65.0] == pytest.approx(_hand(-65.0), rel=1e-12)


@pytest.mark.parametrize("v", sorted(HAND))
def test_rates_are_the_hh_formulas(v):
    rates = g.hh_rates(v, 6.3)
    assert list(rates.values()) == pytest.approx(HAND[v], rel=1e-9)
    hot = g.hh_rates(v, T_C)
    phi = 3.0 ** ((T_C - 6.3) / 10.0)
    assert list(hot.values()) == pytest.approx([phi * r for r in HAND[v]], rel=1e-9)


def test_rates_at_singular_points_and_extremes():
    assert g.hh_rates(-40.0)["alpha_m"] == 1.0
    assert g.hh_rates(-55.0)["alpha_n"] == 0.1
    for eps in (1e-12, 1e-7, 1e-3):  # continuous through the removable singularities
        for s in (-1.0, 1.0):
            assert g.hh_rates(-40.0 + s * eps)["alpha_m"] == pytest.approx(1.0 + s * eps / 20,
                                                                          rel=1e-8, abs=1e-12)
            assert g.hh_rates(-55.0 + s * eps)["alpha_n"] == pytest.approx(
                0.1 * (1.0 + s * eps / 20), rel=1e-8, abs=1e-12)
    for v in (-500.0, 500.0, -1e6, 1e6):
        rates = np.array(list(g.hh_rates(v, T_C).values()))
        assert np.all(np.isfinite(rates)) and np.all(rates >= 0.0), (v, rates)
    assert g.hh_rates(1e6) == g.hh_rates(500.0)


def test_matrices_have_the_scheme():
    q_nav, q_kv = g.gating_matrices(-20.0, T_C)
    r = g.hh_rates(-20.0, T_C)
    assert np.all(np.diag(q_nav) == 0) and np.all(np.diag(q_kv) == 0)
    assert q_nav[0, 1] == pytest.approx(3 * r["alpha_m"]) and q_nav[3, 2] == 3 * r["beta_m"]
    assert q_nav[2, 6] == r["alpha_h"] and q_nav[NAV_OPEN, 3] == r["beta_h"]
    assert q_kv[1, 2] == pytest.approx(3 * r["alpha_n"]) and q_kv[KV_OPEN, 3] == 4 * r["beta_n"]
    assert np.count_nonzero(q_nav) == 2 * (2 * 3) + 8 and np.count_nonzero(q_kv) == 2 * 4
    for kind, q in (("nav", q_nav), ("kv", q_kv)):  # detailed balance at the steady state
        pi = g.state_probabilities(kind, -20.0)
        assert pi.sum() == pytest.approx(1.0)
        assert pi[:, None] * q == pytest.approx((pi[:, None] * q).T, rel=1e-9, abs=1e-15)


def test_steady_states_and_starts():
    m, h, n = g.steady_state(-65.0)
    assert (m, h, n) == pytest.approx((0.0529325, 0.596121, 0.317677), rel=1e-5)
    assert g.open_probability("nav", 0.0) == pytest.approx(
        g.state_probabilities("nav", 0.0)[NAV_OPEN])
    assert g.open_probability("kv", -40.0) == pytest.approx(g.steady_state(-40.0)[2] ** 4)
    assert g.time_constants(-65.0, 6.3)[1] == pytest.approx(1 / (0.07 + 1 / (1 + math.e ** 3)))
    for kind in g.KINDS:
        p = g.state_probabilities(kind, -65.0)
        c = g.equilibrium_counts(kind, 1001, -65.0)
        assert c.dtype == np.int64 and c.sum() == 1001 and np.all(np.abs(c - 1001 * p) < 1)
        u = (np.arange(100000) + 0.5) / 100000
        drawn = np.bincount([g.equilibrium_state(kind, -65.0, x) for x in u[::10]],
                            minlength=p.size) / 10000
        assert drawn == pytest.approx(p, abs=2e-4)
    with pytest.raises(ValueError):
        g.open_probability("cav", 0.0)


# ------------------------------------------------------------------------------- pores

def _patch():
    """Types and start states: leak pores (states must stay), M Nav in m0h1, M Kv in n0."""
    ch_type = np.concatenate([np.full(N_LEAK, int(ChannelType.NA_LEAK)), np.full(M, CH_NAV),
                              np.full(N_LEAK, int(ChannelType.K_LEAK)),
                              np.full(M, CH_KV)]).astype(np.int8)
    gate = np.where(ch_type == CH_NAV, NAV_START, 0).astype(np.int8)
    gate[ch_type < CH_NAV] = 3
    return ch_type, gate


def _run_pores(v, seed=5):
    """Clamp the patch at ``v``; the gate states at RECORD_MS and END_MS."""
    q_nav, q_kv = g.gating_matrices(v, T_C)
    ch_type, gate = _patch()
    marks = {round(t / DT): t for t in RECORD_MS + (END_MS,)}
    out = {}
    for step in range(1, max(marks) + 1):
        g.gate_pores(seed, step, DT, q_nav, q_kv, ch_type, gate)
        if step in marks:
            out[marks[step]] = gate.copy()
    assert np.all(gate[ch_type < CH_NAV] == 3)
    return ch_type, out


@pytest.fixture(scope="module", params=VOLTAGES)
def clamped(request):
    return request.param, *_run_pores(request.param)


def test_pores_reach_the_hh_steady_state(clamped):
    v, ch_type, out = clamped
    for kind, code in (("nav", CH_NAV), ("kv", CH_KV)):
        states = out[END_MS][ch_type == code]
        counts = np.bincount(states, minlength=g.N_STATES[kind])
        assert counts.size == g.N_STATES[kind]
        probs = g.state_probabilities(kind, v)
        for s, p in enumerate(probs):
            assert _within(counts[s], M, p), (v, kind, s, counts, M * probs)
        assert _within(counts[g.OPEN_STATE[kind]], M, g.open_probability(kind, v))


def test_pores_relax_along_the_hh_time_course(clamped):
    v, ch_type, out = clamped
    for kind, code in (("nav", CH_NAV), ("kv", CH_KV)):
        got = [np.count_nonzero(out[t][ch_type == code] == g.OPEN_STATE[kind])
               for t in RECORD_MS]
        want = [M * _hh_open(kind, v, t) for t in RECORD_MS]
        assert all(_within(c, M, w / M) for c, w in zip(got, want)), (v, kind, got, want)


def test_pores_are_a_pure_function_of_the_key():
    q_nav, q_kv = g.gating_matrices(-20.0, T_C)
    ch_type, gate0 = _patch()
    gate0[ch_type == CH_NAV] = np.arange(M) % NAV_STATES
    gate0[ch_type == CH_KV] = np.arange(M) % KV_STATES
    a, b, c = gate0.copy(), gate0.copy(), gate0.copy()
    g.gate_pores(3, 17, 0.05, q_nav, q_kv, ch_type, a)
    g.gate_pores(3, 17, 0.05, q_nav, q_kv, ch_type, b)
    g.gate_pores(3, 18, 0.05, q_nav, q_kv, ch_type, c)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    moved = a != gate0
    assert 0 < moved.sum() < 2 * M
    # one transition at most, to a neighbour of the scheme
    nav = ch_type == CH_NAV
    assert np.all(q_nav[gate0[nav & moved], a[nav & moved]] > 0)
    assert np.all(q_kv[gate0[~nav & moved], a[~nav & moved]] > 0)


# -------------------------------------------------------------------------- population

POP_V = 0.0
POP_N = 100
POP_REPS = 200
POP_MS = (0.01, 0.03, 0.1)


def _population_open(kind, q, start, seed):
    """Open counts ``(POP_REPS, len(POP_MS))`` of POP_REPS populations of POP_N pores under
    one key per step (index0 = r·S²), and every step's check of the counts."""
    s = q.shape[0]
    counts = np.zeros((POP_REPS, s), np.int64)
    counts[:, start] = POP_N
    marks = {round(t / DT): i for i, t in enumerate(POP_MS)}
    out = np.zeros((POP_REPS, len(POP_MS)), np.int64)
    for step in range(1, max(marks) + 1):
        for r in range(POP_REPS):
            g.population_step(seed, step, r * s * s, DT, q, counts[r])
        assert np.all(counts.sum(axis=1) == POP_N) and np.all(counts >= 0)
        if step in marks:
            out[:, marks[step]] = counts[:, g.OPEN_STATE[kind]]
    return out


def test_population_matches_the_pores():
    """Open counts of POP_REPS populations of POP_N pores against POP_REPS groups of POP_N
    pores stepped one by one: means (two-sample z) and variances (4 s.e. of each sample
    variance, from its fourth moment), and the variance against the binomial N·p(1 − p)."""
    q_nav, q_kv = g.gating_matrices(POP_V, T_C)
    n = POP_N * POP_REPS
    for kind, code, q, start in (("nav", CH_NAV, q_nav, NAV_START), ("kv", CH_KV, q_kv, 0)):
        ch_type = np.full(n, code, np.int8)
        gate = np.full(n, start, np.int8)
        marks = {round(t / DT): i for i, t in enumerate(POP_MS)}
        pores = np.zeros((POP_REPS, len(POP_MS)), np.int64)
        for step in range(1, max(marks) + 1):
            g.gate_pores(9, step, DT, q_nav, q_kv, ch_type, gate)
            if step in marks:
                pores[:, marks[step]] = (gate == g.OPEN_STATE[kind]).reshape(POP_REPS, -1).sum(1)
        pop = _population_open(kind, q, start, seed=11)
        for i in range(len(POP_MS)):
            a, b = pores[:, i], pop[:, i]
            se = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / POP_REPS)
            assert abs(a.mean() - b.mean()) <= Z * se, (kind, i, a.mean(), b.mean())
            p = a.mean() / POP_N
            binom_var = POP_N * p * (1 - p)
            for x in (a, b):
                m4 = binom_var * (1 + 3 * (POP_N - 2) * p * (1 - p))  # binomial
                se_var = math.sqrt((m4 - binom_var ** 2) / POP_REPS)
                assert abs(x.var(ddof=1) - binom_var) <= Z * se_var, (kind, i, x.var(), binom_var)


@pytest.mark.parametrize("n", [40, 1000])  # binomials by inversion / the normal branch
def test_population_step_is_binomial_then_multinomial(n):
    """One step of ``n`` pores all in state 0 of a made-up chain: 0 leaves at rates 1, 2, 3
    to states 1, 2, 3 (half leave in dt = ln 2 / 6), and 1 goes back to 0 at rate 5. From
    the counts at the start of the step, state j ≥ 1 then holds Binomial(n, r_j / 12): its
    mean and variance over 3000 populations (within 4 s.e.; the normal branch rounds up to
    two normals: variance + 2/12)."""
    q = np.zeros((4, 4))
    q[0, 1:] = (1.0, 2.0, 3.0)
    q[1, 0] = 5.0
    reps = 3000
    got = np.zeros((reps, 4), np.int64)
    for r in range(reps):
        got[r, 0] = n
        g.population_step(6, 1, 16 * r, math.log(2.0) / 6.0, q, got[r])
    assert np.all(got.sum(axis=1) == n)
    for j, rate in ((1, 1.0), (2, 2.0), (3, 3.0)):
        p = rate / 12.0
        x = got[:, j]
        var = n * p * (1 - p)
        m4 = var * (1 + 3 * (n - 2) * p * (1 - p))
        assert abs(x.mean() - n * p) <= Z * math.sqrt(var / reps), (j, x.mean(), n * p)
        slack = 2 / 12 if n >= 60 else 0.0
        assert abs(x.var(ddof=1) - var) <= Z * math.sqrt((m4 - var ** 2) / reps) + slack


def _discrete_chain(q, dt):
    """Transition matrix of one step of the one-transition-per-step chain (the kernels')."""
    total = q.sum(axis=1)
    leave = -np.expm1(-total * dt)
    p = q * (leave / np.where(total > 0, total, 1.0))[:, None]
    p[np.diag_indices_from(p)] = 1.0 - leave
    return p


def test_population_keeps_its_counts_in_the_normal_branch():
    """A million Nav pores, all open at −90 mV and 37 °C (the largest dt·R, binomials in
    the normal branch): the counts sum to N and stay ≥ 0 at every step, and their means
    follow the chain's exact mean, N times the start row times the step matrix to the
    power of the steps (the normal branch keeps the binomials' means)."""
    q_nav, _ = g.gating_matrices(-90.0, T_C)
    n, steps = 1_000_000, 2000
    counts = np.zeros(NAV_STATES, np.int64)
    counts[NAV_OPEN] = n
    for step in range(1, steps + 1):
        g.population_step(2, step, 0, DT, q_nav, counts)
        assert counts.sum() == n and np.all(counts >= 0)
    p = np.linalg.matrix_power(_discrete_chain(q_nav, DT), steps)[NAV_OPEN]
    assert np.all(np.abs(counts - n * p) <= Z * np.sqrt(n * p * (1 - p)) + 1), (counts, n * p)


def test_population_is_a_pure_function_of_the_key():
    q_nav, _ = g.gating_matrices(-20.0, T_C)
    start = g.equilibrium_counts("nav", 5000, -65.0)
    a, b, c, d = start.copy(), start.copy(), start.copy(), start.copy()
    g.population_step(4, 8, 0, 0.05, q_nav, a)
    g.population_step(4, 8, 0, 0.05, q_nav, b)
    g.population_step(4, 8, NAV_STATES ** 2, 0.05, q_nav, c)
    g.population_step(4, 9, 0, 0.05, q_nav, d)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)
    assert a.sum() == c.sum() == 5000


# ---------------------------------------------------------------------------- binomial

@pytest.mark.parametrize("n, p", [(10, 0.3), (100, 0.05), (50, 0.9), (3000, 0.001),
                                  (59, 0.5),  # inversion up to n·p < 30
                                  (60, 0.5), (1000, 0.4), (10000, 0.01), (200, 0.8)])
def test_binomial_moments(n, p):
    k = 20000
    key = np.uint64(step_key(7, 1, n))
    x = np.array([binomial(n, p, key, i) for i in range(k)], dtype=np.int64)
    assert x.min() >= 0 and x.max() <= n
    q = 1.0 - p
    var = n * p * q + (1 / 12 if n * min(p, q) >= 30 else 0.0)  # rounding of the normal
    assert abs(x.mean() - n * p) <= Z * math.sqrt(n * p * q / k)
    m4 = n * p * q * (1 + 3 * (n - 2) * p * q)  # binomial fourth central moment
    assert abs(x.var(ddof=1) - var) <= Z * math.sqrt((m4 - (n * p * q) ** 2) / k)


def test_binomial_inversion_is_exact():
    n, p, k = 20, 0.3, 40000
    key = np.uint64(step_key(8, 1, 0))
    freq = np.bincount([binomial(n, p, key, i) for i in range(k)], minlength=n + 1) / k
    pmf = np.array([math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(n + 1)])
    assert np.all(np.abs(freq - pmf) <= Z * np.sqrt(pmf * (1 - pmf) / k) + 1 / k)


def test_binomial_edges_and_purity():
    key = np.uint64(step_key(1, 2, 3))
    assert binomial(0, 0.5, key, 1) == 0 and binomial(10, 0.0, key, 1) == 0
    assert binomial(10, 1.0, key, 1) == 10 and binomial(10, 1.0 + 1e-12, key, 1) == 10
    assert binomial(10, -1e-12, key, 1) == 0 and binomial(-3, 0.5, key, 1) == 0
    assert binomial(1_000_000_000, 1e-12, key, 1) in (0, 1)
    assert binomial(10**12, 0.5, key, 1) == pytest.approx(5e11, abs=6e6)
    for n, p in ((25, 0.4), (5000, 0.3)):
        xs = [binomial(n, p, key, i) for i in range(50)]
        assert xs == [binomial(n, p, key, i) for i in range(50)] and len(set(xs)) > 1
