"""The rest of the membrane: a population of the patch's pumps and pores (issue 14).

The simulated patch is a sample of the cell's membrane. Its particles, pumps and pores are
agents; the rest of the membrane (``membrane.cell_area_um2`` minus the patch) holds the
same pumps and pores at the same densities, simulated as numbers per state: each Nav and
Kv channel there is a Markov chain with the same rates as the patch's pores, and their
counts take the multinomial steps of that many independent chains
(:func:`particles.kernels.gating._population_step`); its pumps (hundreds of thousands,
whose fluctuations move V by far less than 0.1 mV) are their cycle's master equation,
stepped implicitly because some of its steps are much faster than dt. They feel the same V and the
concentrations of the patch's compartments (recounted every ``PAR_RECOUNT_EVERY`` steps and
smoothed, :func:`_recount`),
and carry the current their states imply: an open pore (or a leak pore) passes
``rate·(c_from·bias)`` ions per ms each way as a patch pore does on average, a pump moves
one charge out with each Na+ released outside and one in with each K+ released inside at
the rates of its ring. The patch's own crossings add their real charge (one elementary
charge on the whole cell's capacitance each), so the potential is that of the whole cell
and its noise is the cell's, not the patch's magnified.

Ring states of the pumps: :data:`particles.layout.RING_STATES` in the order of
:data:`particles.energetics.CYCLE_STEP_NAMES` (step j from state j to j + 1), and
``RING_BLOCKED`` (ouabain on the empty E2P).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (CH_KV, CH_NAV, ENV_ADP, ENV_ATP, ENV_BATH_ON, ENV_CONC, ENV_NUC,
                      ENV_OUABAIN, ENV_PI, ENV_JPOP_CH, ENV_JPOP_PUMP, ENV_POP, ENV_V,
                      INSIDE, K, KV_OPEN, KV_STATES, N_CH_TYPES, N_RING, NA,
                      NAV_OPEN, NAV_STATES, OUTSIDE, PAR_CH_RATE, PAR_DT, PAR_J_PER_CHARGE,
                      PAR_KON_K, PAR_KON_K_IN, PAR_KON_NA, PAR_KON_NA_OUT, PAR_MM_PER_ION,
                      PAR_CONC_WEIGHT, PAR_POP_LEAK, PAR_VT, PAR_Z_NA, POP_KV, POP_NAV, POP_PUMP, R_DEPHOS,
                      R_DEPHOS_B, R_K_OFF_OUT, R_K_REL_IN, R_NA_OFF_IN, R_NAREL, R_OCC,
                      R_OCC_B, R_OUA_OFF, R_OUA_ON, R_PHOS, R_PHOS_B, R_RET, R_RET_B,
                      RING_BLOCKED, RING_E2P_EMPTY, RING_STATES, COUNT_BOUND, COUNT_FREE,
                      STREAM_POPULATION)
from ..rng import step_key
from .gating import _population_step
from .ions import _count
from .pumps import _rates_at

#: Offsets of the three populations' random-number indices under one step's key.
_INDEX_NAV, _INDEX_KV, _INDEX_RING = 0, 1 << 12, 2 << 12


@njit(**JIT)
def _ring_step(par, env, rate, j):
    """Forward and backward rate (1/ms) of step ``j`` of the pump cycle now: binding steps
    ``k_on·c`` (the population's concentrations ``ENV_CONC``) against ``k_off``, the rest
    from ``rate`` (``R_*``, with ATP, ADP, Pi and V applied); also what
    :func:`particles.energetics.cycle_rates` reports."""
    na_in = env[ENV_CONC + 2 * NA + INSIDE]
    na_out = env[ENV_CONC + 2 * NA + OUTSIDE]
    k_in = env[ENV_CONC + 2 * K + INSIDE]
    k_out = env[ENV_CONC + 2 * K + OUTSIDE]
    if j < 3:
        return par[PAR_KON_NA] * na_in, rate[R_NA_OFF_IN]
    if j == 3:
        return rate[R_PHOS], rate[R_PHOS_B]
    if j == 4:
        return rate[R_OCC], rate[R_OCC_B]
    if j < 8:  # release k·exp(+z u/2) against rebinding (k/K_D)·exp(−z u/2)·c
        f_na = np.exp(0.5 * par[PAR_Z_NA] * env[ENV_V] / par[PAR_VT])
        return rate[R_NAREL], par[PAR_KON_NA_OUT] / f_na * na_out
    if j < 10:
        return par[PAR_KON_K] * k_out, rate[R_K_OFF_OUT]
    if j == 10:
        return rate[R_DEPHOS], rate[R_DEPHOS_B]
    if j == 11:
        return rate[R_RET], rate[R_RET_B]
    return rate[R_K_REL_IN], par[PAR_KON_K_IN] * k_in


@njit(**JIT)
def _ring_matrix(par, env, rate, q):
    """Fill ``q (N_RING, N_RING)`` with the pumps' transition rates (1/ms, from state i to
    j) now."""
    q[:] = 0.0
    for j in range(RING_STATES):
        kf, kb = _ring_step(par, env, rate, j)
        nxt = (j + 1) % RING_STATES
        q[j, nxt] = kf
        q[nxt, j] = kb
    q[RING_E2P_EMPTY, RING_BLOCKED] = rate[R_OUA_ON]
    q[RING_BLOCKED, RING_E2P_EMPTY] = rate[R_OUA_OFF]


@njit(**JIT)
def _ring_charge(q, env):
    """Outward charges per ms the pumps of ``env`` (``ENV_POP + POP_PUMP``) move at rates
    ``q``: the net flow of each Na+ release outside (+1) and K+ release inside (−1)."""
    base = ENV_POP + POP_PUMP
    charge = 0.0
    for j in range(RING_STATES):
        nxt = (j + 1) % RING_STATES
        flow = env[base + j] * q[j, nxt] - env[base + nxt] * q[nxt, j]
        if 5 <= j <= 7:
            charge += flow
        elif j >= 12:
            charge -= flow
    return charge


@njit(**JIT)
def _ring_step_implicit(q, dt, env, a):
    """Advance the pumps' state numbers ``env[ENV_POP + POP_PUMP:]`` by one backward-Euler
    step ``(I − dt·G) n' = n`` (G the generator of ``q``): stable and conserving for the
    cycle's stiff near-equilibrium steps (rates up to ~10⁴ /ms against dt·10⁴ ≫ 1). The
    matrix is column diagonally dominant, so elimination needs no pivoting (``a``
    ``(N_RING, N_RING)`` scratch)."""
    n = N_RING
    base = ENV_POP + POP_PUMP
    for i in range(n):
        for j in range(n):
            a[i, j] = -dt * q[j, i]
        out = 0.0
        for j in range(n):
            out += q[i, j]
        a[i, i] += 1.0 + dt * out
    for k in range(n):  # forward elimination on env's slots as the right-hand side
        for i in range(k + 1, n):
            f = a[i, k] / a[k, k]
            if f != 0.0:
                for j in range(k, n):
                    a[i, j] -= f * a[k, j]
                env[base + i] -= f * env[base + k]
    for i in range(n - 1, -1, -1):
        acc = env[base + i]
        for j in range(i + 1, n):
            acc -= a[i, j] * env[base + j]
        env[base + i] = max(acc / a[i, i], 0.0)


@njit(**JIT)
def _step_counts(key, index0, dt, q, env, base, n, pop, delta):
    """One multinomial step of the ``n``-state population stored in ``env[base:base + n]``
    (whole numbers as float64), through the int64 scratch ``pop``, ``delta``."""
    for s in range(n):
        pop[s] = np.int64(env[base + s])
    _population_step(key, index0, dt, q, pop[:n], delta[:n])
    for s in range(n):
        env[base + s] = np.float64(pop[s])


@njit(**JIT)
def _channel_charge(par, env, f_in, f_out):
    """Expected outward charge per ms through the rest of the membrane's conducting pores:
    its leak pores (``PAR_POP_LEAK``) and its Nav, Kv channels in their open state, each
    passing ``rate·c·bias`` ions per ms from each side (``PAR_CH_RATE``)."""
    out = 0.0
    for t in range(N_CH_TYPES):
        s = t & 1
        if t == CH_NAV:
            n = env[ENV_POP + POP_NAV + NAV_OPEN]
        elif t == CH_KV:
            n = env[ENV_POP + POP_KV + KV_OPEN]
        else:
            n = par[PAR_POP_LEAK + s]
        c_in = env[ENV_CONC + 2 * s + INSIDE]
        c_out = env[ENV_CONC + 2 * s + OUTSIDE]
        out += n * par[PAR_CH_RATE + t] * (c_in * f_out - c_out * f_in)
    return out


@njit(**JIT)
def _population(seed, step, par, env, f_in, f_out, scratch):
    """Advance the rest of the membrane one step and set its current densities
    ``ENV_JPOP_CH`` (its pores, from their states at the start of the step) and
    ``ENV_JPOP_PUMP`` (its pumps, the net flow of the implicit step), outward, µA/cm².
    ``scratch.q_nav``, ``scratch.q_kv`` hold this step's gating rates; ``f_in``, ``f_out``
    the pores' voltage bias."""
    dt = par[PAR_DT]
    per_ms = dt * par[PAR_J_PER_CHARGE]  # µA/cm² of one charge per ms
    env[ENV_JPOP_CH] = _channel_charge(par, env, f_in, f_out) * per_ms
    rate = scratch.pop_rate
    _rates_at(par, env[ENV_NUC], env[ENV_NUC + 1], env[ENV_NUC + 2], env[ENV_V],
              env[ENV_OUABAIN], rate)
    _ring_matrix(par, env, rate, scratch.q_ring)
    _ring_step_implicit(scratch.q_ring, dt, env, scratch.ring_a)
    env[ENV_JPOP_PUMP] = _ring_charge(scratch.q_ring, env) * per_ms
    key = step_key(seed, STREAM_POPULATION, step)
    _step_counts(key, _INDEX_NAV, dt, scratch.q_nav, env, ENV_POP + POP_NAV, NAV_STATES,
                 scratch.pop, scratch.delta)
    _step_counts(key, _INDEX_KV, dt, scratch.q_kv, env, ENV_POP + POP_KV, KV_STATES,
                 scratch.pop, scratch.delta)


@njit(**JIT)
def _recount(ions, par, env, count):
    """Update the population's concentrations ``ENV_CONC`` (mM) from the patch's
    compartments now (``count (N_COUNT,)`` int64 scratch): the free ions (inside Na+ with
    the Na+ the patch's pumps hold, which the cell's free pool would hold on average), each
    recount weighted ``PAR_CONC_WEIGHT`` in an exponential average (the few ions of a small
    patch fluctuate; the cell's concentrations do not); ATP, ADP and Pi likewise
    (``ENV_NUC``: one cycle of the patch moves them by a molecule of its small volume). A perfused bath's concentrations
    are set by the simulation instead (the bath is the cell's outside)."""
    _count(ions, count)
    w = par[PAR_CONC_WEIGHT]
    for s in range(2):
        for side in range(2):
            if side == OUTSIDE and env[ENV_BATH_ON] > 0:
                continue
            n = count[COUNT_FREE + 2 * s + side]
            if s == NA and side == INSIDE:
                n += count[COUNT_BOUND + NA]
            slot = ENV_CONC + 2 * s + side
            env[slot] += (n * par[PAR_MM_PER_ION + side] - env[slot]) * w
    for k, slot in enumerate((ENV_ATP, ENV_ADP, ENV_PI)):
        env[ENV_NUC + k] += (env[slot] - env[ENV_NUC + k]) * w
