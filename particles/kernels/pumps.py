"""The pumps: open sites, first-order conformational changes, release of ions.

Post-Albers cycle (MODEL.md §2, :class:`~particles.layout.PumpState`): E1 fills its three
Na+ sites from inside -> E1_3NA -> (ATP) E1P_3NA -> E2P releases the Na+ outside one by one,
then fills its two K+ sites from outside -> E2P_2K -> E2_2K -> E1 releasing them inside.
Ouabain locks an empty E2P (BLOCKED).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (BLOCKED, C_ATP_USED, C_CHARGE_OUT, C_CYCLES, C_K_IN, C_NA_IN, C_NA_OUT,
                      C_TRACER_EFFLUX, E1, E1_3NA, E1P_3NA, E2_2K, E2P, E2P_2K, ENV_ATP,
                      ENV_OUABAIN, ENV_V, INSIDE, K_SITES, NA, NA_SITES, OUTSIDE, P_DEPHOS, P_NAREL,
                      P_OCC, P_OUA_OFF, P_OUA_ON, P_PHOS, P_RET, PAR_DT, PAR_FACE_HALF,
                      PAR_K_DEPHOS, PAR_K_NAREL, PAR_K_OCC, PAR_K_OUA_OFF, PAR_K_OUA_ON, PAR_K_PHOS,
                      PAR_K_RET0, PAR_K_RET_ATP, PAR_KM_ATP, PAR_KM_ATP_LOW, PAR_REACH, PAR_X_IN,
                      PAR_X_OUT, PAR_Z_OCC, STREAM_PLACE, STREAM_PUMP, K)
from ..rng import draw, step_key, uniforms

V_T_MV = 26.7
"""Thermal voltage kT/e at 37 °C (mV), for the voltage dependence of E1P -> E2P and of
channel passage."""


@njit(**JIT)
def _open_inner(p, species, state, n_na):
    """True if pump ``p`` accepts an ion of ``species`` at its inner face now."""
    return species == NA and state[p] == E1 and n_na[p] < NA_SITES


@njit(**JIT)
def _open_outer(p, state, n_na, n_k):
    """True if pump ``p`` accepts an ion at its outer (K+) sites now."""
    return state[p] == E2P and n_na[p] == 0 and n_k[p] < K_SITES


@njit(**JIT)
def _release(i, to_side, face_x, yp, par, key, slot, ions):
    """Free ion ``i`` beside the face at ``face_x`` (µm) on ``to_side``, within
    ``PAR_REACH`` µm of it and within the pump face of the pump at ``yp``."""
    u1, u2 = uniforms(draw(key, slot))
    if to_side == OUTSIDE:
        ions.x[i] = face_x + u1 * par[PAR_REACH]
    else:
        ions.x[i] = face_x - u1 * par[PAR_REACH]
    ions.y[i] = yp + (2.0 * u2 - 1.0) * par[PAR_FACE_HALF]
    ions.side[i] = to_side
    ions.bound[i] = False


@njit(**JIT)
def _pump_transitions(seed, step, ions, pumps, par, prob, counters):
    """Fire first-order pump transitions for one step (serial over pumps).

    Args:
        seed, step: key of the counter-based random numbers.
        ions, pumps: :class:`~particles.layout.IonArrays`, :class:`~particles.layout.PumpArrays`.
        par: ``(N_PAR,)`` parameters (faces, reach of released ions).
        prob: ``(N_PROB,)`` probabilities ``1 - exp(-k dt)`` of each transition this step,
            indexed by the ``P_*`` slots (ATP- and voltage-dependent ones already evaluated
            for this step, :func:`_probabilities`).
        counters: ``(N_COUNTERS,)`` int64 cumulative counters, updated in place.
    """
    state, n_na, n_k, sites = pumps.state, pumps.n_na, pumps.n_k, pumps.sites
    kp = step_key(seed, STREAM_PUMP, step)
    kplace = step_key(seed, STREAM_PLACE, step)
    for p in range(pumps.y.shape[0]):
        st = state[p]
        if st == E1:
            continue
        u, _ = uniforms(draw(kp, p))
        if st == E1_3NA:
            if u < prob[P_PHOS]:
                state[p] = E1P_3NA
                counters[C_ATP_USED] += 1
        elif st == E1P_3NA:
            if u < prob[P_OCC]:
                state[p] = E2P
        elif st == E2P:
            if n_na[p] > 0:
                if u < prob[P_NAREL]:
                    k = n_na[p] - 1
                    i = sites[p, k]
                    sites[p, k] = -1
                    n_na[p] = k
                    _release(i, OUTSIDE, par[PAR_X_OUT], pumps.y[p], par, kplace, 4 * p, ions)
                    counters[C_NA_OUT] += 1
                    counters[C_CHARGE_OUT] += 1
                    if ions.tracer[i]:
                        counters[C_TRACER_EFFLUX] += 1
            elif n_k[p] == 0 and u < prob[P_OUA_ON]:
                state[p] = BLOCKED
        elif st == E2P_2K:
            if u < prob[P_DEPHOS]:
                state[p] = E2_2K
        elif st == E2_2K:
            if u < prob[P_RET]:
                for k in range(NA_SITES, NA_SITES + K_SITES):
                    i = sites[p, k]
                    sites[p, k] = -1
                    _release(i, INSIDE, par[PAR_X_IN], pumps.y[p], par, kplace,
                             4 * p + 1 + k - NA_SITES, ions)
                    counters[C_CHARGE_OUT] -= 1
                    if ions.species[i] == K:
                        counters[C_K_IN] += 1
                    else:
                        counters[C_NA_IN] += 1
                n_k[p] = 0
                state[p] = E1
                pumps.cycles[p] += 1
                counters[C_CYCLES] += 1
        elif st == BLOCKED:
            if u < prob[P_OUA_OFF]:
                state[p] = E2P


@njit(**JIT)
def _rates(par, env):
    """The ATP- and voltage-dependent rates now (1/ms): (phosphorylation, E1P -> E2P,
    E2 -> E1)."""
    atp = env[ENV_ATP]
    k_phos = par[PAR_K_PHOS] * atp / (atp + par[PAR_KM_ATP])
    k_occ = par[PAR_K_OCC] * np.exp(par[PAR_Z_OCC] * env[ENV_V] / (2.0 * V_T_MV))
    k_ret = par[PAR_K_RET0] + (par[PAR_K_RET_ATP] - par[PAR_K_RET0]) * atp / (
        atp + par[PAR_KM_ATP_LOW])
    return k_phos, k_occ, k_ret


@njit(**JIT)
def _probabilities(par, env, prob):
    """Per-step transition probabilities ``1 - exp(-k dt)`` from rates, ATP and V."""
    dt = par[PAR_DT]
    k_phos, k_occ, k_ret = _rates(par, env)
    prob[P_PHOS] = -np.expm1(-k_phos * dt)
    prob[P_OCC] = -np.expm1(-k_occ * dt)
    prob[P_NAREL] = -np.expm1(-par[PAR_K_NAREL] * dt)
    prob[P_DEPHOS] = -np.expm1(-par[PAR_K_DEPHOS] * dt)
    prob[P_RET] = -np.expm1(-k_ret * dt)
    prob[P_OUA_ON] = -np.expm1(-par[PAR_K_OUA_ON] * env[ENV_OUABAIN] * dt)
    prob[P_OUA_OFF] = -np.expm1(-par[PAR_K_OUA_OFF] * dt)
