"""Voltage-gated pores: Hodgkin-Huxley gating as Markov chains (MODEL.md §4b).

Rates α, β (1/ms) of Hodgkin & Huxley 1952 (squid, 6.3 °C, V in mV with rest at −65 mV),
multiplied by the Q10 factor ``phi``. Each pore is a Markov chain over the states of its
independent gates (Skaugen & Walløe 1979; Chow & White 1996): a Nav pore in state ``m +
NAV_M_STATES·h`` (m activation gates open of 3, h the inactivation gate), open only in
``NAV_OPEN`` (m3h1); a Kv pore in state n (gates open of 4), open only in ``KV_OPEN``.
``q (S, S)`` holds the transition rates from state i to state j (1/ms, diagonal 0).

Two ways to step: :func:`_gate_pores` moves each pore of the patch on its own (random
numbers indexed by pore), :func:`_population_step` moves N pores of one kind kept only as
counts per state (binomial and multinomial draws): both give the same distribution.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (CH_KV, CH_NAV, HH_AH, HH_AM, HH_AN, HH_BH, HH_BM, HH_BN, KV_STATES,
                      NAV_M_STATES, NAV_STATES)
from ..rng import binomial, draw, uniforms

V_LIMIT_MV = 500.0
"""The rates are evaluated at V clipped to ±V_LIMIT_MV (the simulation's bound on potentials):
all exponents then stay below 60, so no rate overflows."""


@njit(**JIT)
def _x_over_expm1(x):
    """x / (1 − e^(−x)), the shape of α_m and α_n, with its removable singularity at x = 0
    (limit 1) taken exactly; ``expm1`` keeps it accurate near 0."""
    if x == 0.0:
        return 1.0
    return x / -np.expm1(-x)


@njit(**JIT)
def _hh_rates(v_mV, phi, hh):
    """Fill ``hh (N_HH,)`` with α_m, β_m, α_h, β_h, α_n, β_n (1/ms) at ``v_mV`` (mV, clipped
    to ±V_LIMIT_MV), each times ``phi`` (the Q10 factor, 1 at 6.3 °C).

    Hodgkin & Huxley 1952 (MODEL.md §4b): α_m = 0.1(V+40)/(1 − e^{−(V+40)/10}),
    β_m = 4e^{−(V+65)/18}, α_h = 0.07e^{−(V+65)/20}, β_h = 1/(1 + e^{−(V+35)/10}),
    α_n = 0.01(V+55)/(1 − e^{−(V+55)/10}), β_n = 0.125e^{−(V+65)/80}; α_m(−40) = 1 and
    α_n(−55) = 0.1 exactly (the limits)."""
    v = min(max(v_mV, -V_LIMIT_MV), V_LIMIT_MV)
    hh[HH_AM] = phi * _x_over_expm1((v + 40.0) / 10.0)
    hh[HH_BM] = phi * 4.0 * np.exp(-(v + 65.0) / 18.0)
    hh[HH_AH] = phi * 0.07 * np.exp(-(v + 65.0) / 20.0)
    hh[HH_BH] = phi / (1.0 + np.exp(-(v + 35.0) / 10.0))
    hh[HH_AN] = phi * 0.1 * _x_over_expm1((v + 55.0) / 10.0)
    hh[HH_BN] = phi * 0.125 * np.exp(-(v + 65.0) / 80.0)


@njit(**JIT)
def _gating_matrices(hh, q_nav, q_kv):
    """Fill the transition rates (1/ms) from state i to state j, ``q_nav (NAV_STATES,
    NAV_STATES)`` and ``q_kv (KV_STATES, KV_STATES)``, from the rates ``hh (N_HH,)``.

    Nav (state m + 4h): m → m+1 at (3−m)α_m, m → m−1 at m·β_m, h 0 → 1 at α_h, 1 → 0 at
    β_h. Kv: n → n+1 at (4−n)α_n, n → n−1 at n·β_n. Independent gates, so the occupancy of a
    chain started in a product state is a product of binomials at all times."""
    q_nav[:, :] = 0.0
    q_kv[:, :] = 0.0
    top_m = NAV_M_STATES - 1
    for h in range(2):
        for m in range(NAV_M_STATES):
            i = m + NAV_M_STATES * h
            if m < top_m:
                q_nav[i, i + 1] = (top_m - m) * hh[HH_AM]
            if m > 0:
                q_nav[i, i - 1] = m * hh[HH_BM]
            if h == 0:
                q_nav[i, i + NAV_M_STATES] = hh[HH_AH]
            else:
                q_nav[i, i - NAV_M_STATES] = hh[HH_BH]
    top_n = KV_STATES - 1
    for n in range(KV_STATES):
        if n < top_n:
            q_kv[n, n + 1] = (top_n - n) * hh[HH_AN]
        if n > 0:
            q_kv[n, n - 1] = n * hh[HH_BN]


@njit(**JIT)
def _row_total(q, s):
    """Total rate out of state ``s`` of ``q (S, S)`` (1/ms)."""
    tot = 0.0
    for j in range(q.shape[1]):
        tot += q[s, j]
    return tot


@njit(**JIT)
def _gate_pores(key, dt, q_nav, q_kv, ch_type, gate):
    """One gating step of ``dt`` ms for every pore ``q`` whose ``ch_type[q]`` (int8) is
    ``CH_NAV`` or ``CH_KV`` (other pores are untouched): its state ``gate[q]`` (int8, in
    place) is left with probability 1 − exp(−R·dt), R the total rate out of it in ``q_nav``
    or ``q_kv`` (1/ms), for a state j chosen with probability q[s, j] / R. Both uniforms
    come from ``draw(key, q)``: the first decides whether, the second where.

    At most one transition per step: this is the exact chain to first order in dt·R (the
    probability of leaving is exact, a second jump within the step is dropped). At order
    (dt·R)² each state is left ≈ dt·R/2 more slowly than in continuous time, which raises
    its stationary weight by the same relative amount. The largest dt·R in the scenarios is
    that of Nav m3 at −90 mV and 37 °C (φ = 29.2, dt = 1.5625e-4 ms): 3β_m·φ·dt ≈ 0.22
    (m3 then holds ~1e-5 of the pores); at rest (−65 mV) ≈ 0.055, during a spike (0 to +40
    mV) 0.06-0.11, for Kv ≤ 0.02 up to +50 mV. Measured on the exact discrete chain at that
    dt: the stationary Nav open probability is 2.5 % above m∞³h∞ at −65 mV, 0.1-0.2 % at −40
    to +40 mV; Kv's within 0.05 %; the open fraction after a step from m0h1 to 0 mV is
    within 0.0052 of m(t)³h(t) at all times (peak 0.40)."""
    leave = np.zeros((2, NAV_STATES))  # probability of leaving each state: Nav, Kv
    for s in range(NAV_STATES):
        leave[0, s] = -np.expm1(-_row_total(q_nav, s) * dt)
    for s in range(KV_STATES):
        leave[1, s] = -np.expm1(-_row_total(q_kv, s) * dt)
    for q in range(ch_type.shape[0]):
        t = ch_type[q]
        if t == CH_NAV:
            rates, row = q_nav, 0
        elif t == CH_KV:
            rates, row = q_kv, 1
        else:
            continue
        s = gate[q]
        u_leave, u_where = uniforms(draw(key, q))
        if u_leave >= leave[row, s]:
            continue
        tot = _row_total(rates, s)
        target = u_where * tot
        acc = 0.0
        dest = s
        for j in range(rates.shape[1]):
            if rates[s, j] > 0.0:
                dest = j  # the last positive rate if rounding leaves target above the sum
                acc += rates[s, j]
                if target < acc:
                    break
        gate[q] = dest


@njit(**JIT)
def _population_step(key, index0, dt, q, counts, delta):
    """One step of ``dt`` ms for N independent pores of one kind kept as ``counts (S,)``
    int64 per state (in place; ``q (S, S)`` rates 1/ms, ``delta (S,)`` int64 scratch).

    From each state s, the number leaving is Binomial(counts[s], 1 − exp(−R_s·dt)) and they
    are shared among the destinations j by sequential conditional binomials (a
    multinomial with probabilities q[s, j] / R_s), all from the counts at the start of the
    step; the changes are applied after. This is the distribution of N pores stepped one by
    one as :func:`_gate_pores` steps them (the same one-transition-per-step chain), exactly
    while each binomial is drawn by inversion (see :func:`particles.rng.binomial`; above
    its n·p threshold by a rounded normal, the Langevin limit). The counts sum to N and
    stay ≥ 0. Random numbers: ``draw(key, index0 + s·S + j)`` for the pores moving from s
    to j, ``j = s`` for the number leaving s; a population uses the S² indices from
    ``index0``, so populations with disjoint ranges under one key are independent."""
    n_states = counts.shape[0]
    delta[:] = 0
    for s in range(n_states):
        n_left = counts[s]
        tot = _row_total(q, s)
        if n_left <= 0 or tot <= 0.0:
            continue
        base = index0 + s * n_states
        n_left = binomial(n_left, -np.expm1(-tot * dt), key, base + s)
        delta[s] -= n_left
        last = n_states - 1
        while q[s, last] <= 0.0:
            last -= 1
        for j in range(n_states):
            if n_left == 0:
                break
            if q[s, j] <= 0.0:
                continue
            k = n_left if j == last else binomial(n_left, q[s, j] / tot, key, base + j)
            delta[j] += k
            n_left -= k
            tot -= q[s, j]
    for s in range(n_states):
        counts[s] += delta[s]
