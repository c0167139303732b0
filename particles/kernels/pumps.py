"""The pumps: open sites, reversible conformational changes, release of ions.

Post-Albers cycle (MODEL.md §2, §2b; :class:`~particles.layout.PumpState`), every step
reversible: E1 fills its three Na+ sites from inside (they unbind back) -> E1_3NA ->(ATP ⇌
ADP) E1P_3NA ⇌ E2P releases the Na+ outside one by one (external Na+ rebinds), then fills
its two K+ sites from outside (they unbind back) -> E2P_2K ⇌(Pi) E2_2K ⇌ E1 holding the two
K+, which it releases inside one by one (internal K+ binds back). A forward cycle is counted
at E2_2K -> E1, a backward one at its reverse. Ouabain locks an empty E2P (BLOCKED).
Competing transitions of one state are drawn from one uniform number: the state is left
within the time left of the step, t, with probability ``1 - exp(-Σk t)``, by each way in
proportion to its rate, at a time drawn from the exponential of Σk truncated to t. A pump
goes on through first-order steps until the step's time is used up (or it waits for a
capture, which only the move makes), so the first-order kinetics do not depend on dt: with
one transition per step, states left at rates near 1/dt were held a whole step each
(hodgkin-keynes' cycle ran ~6 % slow at its 2.5 µs, issue 15's time-lapse). The per-state
helpers are inlined (``inline='always'``; 4.8 -> 3.5 µs per step for 100 pumps); the
dispatch on the state stays in the loop (moved into an inlined function of its own that
takes the named tuples, it cost 80 instead of 34 ns per pump and step).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (BLOCKED, C_ATP_USED, C_CHARGE_OUT, C_CYCLES, C_CYCLES_BWD, C_CYCLES_FWD,
                      C_K_IN, C_NA_IN, C_NA_OUT, C_PI_RELEASED, C_TRACER_EFFLUX, E1, E1_3NA,
                      E1P_3NA, E2_2K, E2P, E2P_2K, ENV_ADP, ENV_ATP, ENV_OUABAIN, ENV_PI, ENV_V,
                      INSIDE, K, K_SITES, NA, NA_SITES, OUTSIDE, PAR_DT,
                      PAR_FACE_HALF, PAR_K_DEPHOS, PAR_K_DEPHOS_B, PAR_K_K_OFF_OUT,
                      PAR_K_K_REL_IN, PAR_K_NA_OFF_IN, PAR_K_NAREL, PAR_K_OCC, PAR_K_OCC_B,
                      PAR_K_OUA_OFF, PAR_K_OUA_ON, PAR_K_PHOS, PAR_K_PHOS_B, PAR_K_RET0,
                      PAR_K_RET_ATP, PAR_KEQ_RET, PAR_KM_ADP, PAR_KM_ATP, PAR_KM_ATP_LOW,
                      PAR_KP_REBIND, PAR_SIGMA, PAR_VT, PAR_X_IN, PAR_X_OUT, PAR_Z_NA, PAR_Z_OCC,
                      R_DEPHOS, R_DEPHOS_B, R_K_OFF_OUT, R_K_REL_IN, R_NA_OFF_IN, R_NAREL,
                      R_OCC, R_OCC_B, R_OUA_OFF, R_OUA_ON, R_PHOS, R_PHOS_B, R_RET, R_RET_B,
                      R_STICK_REBIND, STREAM_PLACE, STREAM_PUMP)
from ..physics import andrews_tables, stick_from_reduced
from ..rng import draw, step_key, uniforms

_KP, _P_OVER_KP, _, _ = andrews_tables()
_stick = njit(**JIT)(stick_from_reduced)


@njit(**JIT)
def _open_inner(species, st, n_na, n_k):
    """True if a pump in state ``st`` holding ``n_na`` Na+ and ``n_k`` K+ accepts an ion of
    ``species`` at its inner face: Na+ on the Na+ sites of an E1 holding no K+, K+ on the
    K+ sites of an E1 holding no Na+. (Scalars, not the pump arrays: a kernel function
    taking arrays costs a reference count of each per call, see :mod:`.motion`.)"""
    if st != E1:
        return False
    if species == NA:
        return n_k == 0 and n_na < NA_SITES
    return n_na == 0 and n_k < K_SITES


@njit(**JIT)
def _open_rebind(st, n_na, n_k):
    """True if a pump in state ``st`` holding ``n_na``, ``n_k`` accepts an external Na+
    back on its Na+ sites (E2P, no K+)."""
    return st == E2P and n_k == 0 and n_na < NA_SITES


@njit(**JIT)
def _open_outer(st, n_na, n_k):
    """True if a pump in state ``st`` holding ``n_na``, ``n_k`` accepts an ion at its outer
    (K+) sites."""
    return st == E2P and n_na == 0 and n_k < K_SITES


@njit(inline='always', **JIT)
def _release(i, to_side, face_x, yp, par, key, slot, ions):
    """Free ion ``i`` beside the face at ``face_x`` (µm) on ``to_side``, within the pump face
    of the pump at ``yp``.

    The distance from the face is drawn with the density of the positions from which an ion
    crosses the face in one step, ``∝ erfc(d / (√2 σ))`` (σ its rms step per axis): release
    is then the microscopic reverse of capture, so the agents keep the cycle's detailed
    balance (a release placed closer would be recaptured too often). Sampled as
    ``d = U·σ·R`` with R Rayleigh-distributed."""
    u1, u2 = uniforms(draw(key, slot))
    u3, _ = uniforms(draw(key, (1 << 40) + i))
    d = u1 * par[PAR_SIGMA + ions.species[i]] * np.sqrt(-2.0 * np.log(1.0 - u3))
    if to_side == OUTSIDE:
        ions.x[i] = face_x + d
    else:
        ions.x[i] = face_x - d
    ions.y[i] = yp + (2.0 * u2 - 1.0) * par[PAR_FACE_HALF]
    ions.side[i] = to_side
    ions.bound[i] = False


@njit(**JIT)
def _pick(u, t, k1, k2):
    """Which of two competing transitions of rates ``k1``, ``k2`` (1/ms) fires first within
    ``t`` ms given the uniform ``u``, and when: ``(0, t)`` none; ``(1 or 2, τ)``, 0 <= τ < t.

    ``u < 1 - exp(-(k1 + k2) t)`` fires, way 1 in the first ``k1 / (k1 + k2)`` of that
    interval; ``u`` rescaled within its way's part is again uniform on it, and gives τ by
    inverting the exponential of ``k1 + k2``, so τ does not depend on the way."""
    tot = k1 + k2
    if tot <= 0.0:
        return 0, t
    p = -np.expm1(-tot * t)
    if u >= p:
        return 0, t
    if u * tot < p * k1:
        return 1, -np.log1p(-u * tot / k1) / tot
    return 2, -np.log1p(-(u * tot - p * k1) / k2) / tot


@njit(inline='always', **JIT)
def _unbind(p, k, to_side, pumps, par, kplace, ions):
    """Free the ion on site ``k`` of pump ``p`` beside the face of ``to_side``; returns it."""
    i = pumps.sites[p, k]
    pumps.sites[p, k] = -1
    face = par[PAR_X_OUT] if to_side == OUTSIDE else par[PAR_X_IN]
    _release(i, to_side, face, pumps.y[p], par, kplace, 4 * p + (k % 4), ions)
    return i


@njit(inline='always', **JIT)
def _e1(p, u, t, rate, ions, pumps, par, kplace, counters):
    """E1 (or E1_3NA): Na+ unbinds inside or phosphorylates; K+ is released inside or the
    pump occludes its two K+ (backward return). Returns the time taken (ms), ``t`` if
    nothing happened within ``t`` (as the other state helpers)."""
    n_na, n_k = pumps.n_na, pumps.n_k
    tau = t
    if n_k[p] > 0:
        w, tau = _pick(u, t, rate[R_K_REL_IN], rate[R_RET_B] if n_k[p] == K_SITES else 0.0)
        if w == 1:
            n_k[p] -= 1
            i = _unbind(p, NA_SITES + n_k[p], INSIDE, pumps, par, kplace, ions)
            counters[C_CHARGE_OUT] -= 1
            if ions.species[i] == K:
                counters[C_K_IN] += 1
            else:
                counters[C_NA_IN] += 1
        elif w == 2:
            pumps.state[p] = E2_2K
            pumps.cycles[p] -= 1
            counters[C_CYCLES] -= 1
            counters[C_CYCLES_BWD] += 1
    elif n_na[p] > 0:
        full = pumps.state[p] == E1_3NA
        w, tau = _pick(u, t, rate[R_NA_OFF_IN], rate[R_PHOS] if full else 0.0)
        if w == 1:
            n_na[p] -= 1
            _unbind(p, n_na[p], INSIDE, pumps, par, kplace, ions)
            pumps.state[p] = E1
        elif w == 2:
            pumps.state[p] = E1P_3NA
            counters[C_ATP_USED] += 1
    return tau


@njit(inline='always', **JIT)
def _e2p(p, u, t, rate, ions, pumps, par, kplace, counters):
    """E2P: Na+ released outside (or back to E1P with all three), K+ unbinding outside,
    ouabain binding when empty. Returns the time taken (ms), ``t`` if nothing happened."""
    n_na, n_k = pumps.n_na, pumps.n_k
    if n_na[p] > 0:
        w, tau = _pick(u, t, rate[R_NAREL], rate[R_OCC_B] if n_na[p] == NA_SITES else 0.0)
        if w == 1:
            n_na[p] -= 1
            i = _unbind(p, n_na[p], OUTSIDE, pumps, par, kplace, ions)
            counters[C_NA_OUT] += 1
            counters[C_CHARGE_OUT] += 1
            if ions.tracer[i]:
                counters[C_TRACER_EFFLUX] += 1
        elif w == 2:
            pumps.state[p] = E1P_3NA
        return tau
    if n_k[p] > 0:
        w, tau = _pick(u, t, rate[R_K_OFF_OUT], 0.0)
        if w == 1:
            n_k[p] -= 1
            _unbind(p, NA_SITES + n_k[p], OUTSIDE, pumps, par, kplace, ions)
        return tau
    w, tau = _pick(u, t, rate[R_OUA_ON], 0.0)
    if w == 1:
        pumps.state[p] = BLOCKED
    return tau


@njit(**JIT)
def _pump_transitions(seed, step, ions, pumps, par, rate, counters):
    """Fire first-order pump transitions for one step (serial over pumps).

    Args:
        seed, step: key of the counter-based random numbers.
        ions, pumps: :class:`~particles.layout.IonArrays`, :class:`~particles.layout.PumpArrays`.
        par: ``(N_PAR,)`` parameters (faces, reach of released ions, dt).
        rate: ``(N_RATE,)`` rates in force this step (1/ms, ``R_*`` slots; :func:`_rates`).
        counters: ``(N_COUNTERS,)`` int64 cumulative counters, updated in place.
    """
    state, n_k = pumps.state, pumps.n_k
    dt = par[PAR_DT]
    kp = step_key(seed, STREAM_PUMP, step)
    kplace = step_key(seed, STREAM_PLACE, step)
    for p in range(pumps.y.shape[0]):
        t = dt
        for j in range(MAX_TRANSITIONS):  # the first number is the one-transition draw
            u, _ = uniforms(draw(kp, p + (j << 32)))
            st = state[p]
            if st == E1 or st == E1_3NA:
                tau = _e1(p, u, t, rate, ions, pumps, par, kplace, counters)
            elif st == E2P:
                tau = _e2p(p, u, t, rate, ions, pumps, par, kplace, counters)
            elif st == E1P_3NA:
                w, tau = _pick(u, t, rate[R_OCC], rate[R_PHOS_B])
                if w == 1:
                    state[p] = E2P
                elif w == 2:
                    state[p] = E1_3NA
                    counters[C_ATP_USED] -= 1
            elif st == E2P_2K:
                w, tau = _pick(u, t, rate[R_DEPHOS], rate[R_K_OFF_OUT])
                if w == 1:
                    state[p] = E2_2K
                    counters[C_PI_RELEASED] += 1
                elif w == 2:
                    state[p] = E2P
                    n_k[p] -= 1
                    _unbind(p, NA_SITES + n_k[p], OUTSIDE, pumps, par, kplace, ions)
            elif st == E2_2K:
                w, tau = _pick(u, t, rate[R_RET], rate[R_DEPHOS_B])
                if w == 1:
                    state[p] = E1
                    pumps.cycles[p] += 1
                    counters[C_CYCLES] += 1
                    counters[C_CYCLES_FWD] += 1
                elif w == 2:
                    state[p] = E2P_2K
                    counters[C_PI_RELEASED] -= 1
            else:  # BLOCKED
                w, tau = _pick(u, t, rate[R_OUA_OFF], 0.0)
                if w == 1:
                    state[p] = E2P
            if tau >= t:  # nothing more within this step (or it waits for a capture)
                break
            t -= tau


MAX_TRANSITIONS = 64
"""Most first-order transitions one pump makes in one step (the chance of needing more is
negligible: states left at rates near 1/dt are few and far from each other on the cycle)."""


@njit(**JIT)
def _rates(par, env, rate):
    """The rates in force now (1/ms) into ``rate (N_RATE,)`` (``R_*`` slots), from ATP, ADP,
    Pi, ouabain and V in ``env``: :func:`_rates_at`."""
    _rates_at(par, env[ENV_ATP], env[ENV_ADP], env[ENV_PI], env[ENV_V], env[ENV_OUABAIN],
              rate)


@njit(**JIT)
def _rates_at(par, atp, adp, pi, v, ouabain, rate):
    """The rates (1/ms) into ``rate (N_RATE,)`` at ATP, ADP, Pi (mM), V (mV) and ouabain
    (mM).

    Nucleotides: E1_3NA binds ATP (``K_ATP``) or ADP (``K_ADP``) competitively, so
    phosphorylation runs at ``k_phos·a/(1 + a + d)`` and back at ``k_phos_b·d/(1 + a + d)``
    (``a = ATP/K_ATP``, ``d = ADP/K_ADP``). ATP on its low-affinity site speeds E2_2K ⇌ E1
    both ways (a catalyst: the ratio of the two is the constant ``PAR_KEQ_RET``). Voltage:
    each backward/forward pair splits its factor symmetrically, ``exp(±z·V/2V_T)``, with the
    charge ``z`` of E1P -> E2P and of each Na+ release. The rebinding's adsorption
    coefficient κ gets ``exp(-z_Na·V/2V_T)``: κ' = κ·sqrt(dt/2D) at V = 0 (``PAR_KP_REBIND``,
    derived once with the parameters) is scaled and turned into P by the full Andrews relation
    (:func:`~particles.physics.stick_from_reduced`), so rebinding stays dt-independent at
    any V, as the other faces are."""
    u = v / par[PAR_VT]
    a = atp / par[PAR_KM_ATP]
    d = adp / par[PAR_KM_ADP]
    rate[R_PHOS] = par[PAR_K_PHOS] * a / (1.0 + a + d)
    rate[R_PHOS_B] = par[PAR_K_PHOS_B] * d / (1.0 + a + d)
    f_occ = np.exp(0.5 * par[PAR_Z_OCC] * u)
    rate[R_OCC] = par[PAR_K_OCC] * f_occ
    rate[R_OCC_B] = par[PAR_K_OCC_B] / f_occ
    f_na = np.exp(0.5 * par[PAR_Z_NA] * u)
    rate[R_NAREL] = par[PAR_K_NAREL] * f_na
    rate[R_STICK_REBIND] = _stick(par[PAR_KP_REBIND] / f_na, _KP, _P_OVER_KP)
    rate[R_DEPHOS] = par[PAR_K_DEPHOS]
    rate[R_DEPHOS_B] = par[PAR_K_DEPHOS_B] * pi
    k_ret = par[PAR_K_RET0] + (par[PAR_K_RET_ATP] - par[PAR_K_RET0]) * atp / (
        atp + par[PAR_KM_ATP_LOW])
    rate[R_RET] = k_ret
    rate[R_RET_B] = k_ret / par[PAR_KEQ_RET]
    rate[R_OUA_ON] = par[PAR_K_OUA_ON] * ouabain
    rate[R_OUA_OFF] = par[PAR_K_OUA_OFF]
    rate[R_NA_OFF_IN] = par[PAR_K_NA_OFF_IN]
    rate[R_K_REL_IN] = par[PAR_K_K_REL_IN]
    rate[R_K_OFF_OUT] = par[PAR_K_K_OFF_OUT]
