"""The membrane: channel gates and passage probabilities, ATP and the membrane potential."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (CH_KV, CH_NAV, ENV_ADP, ENV_AP_COUNT, ENV_AP_INTERVAL, ENV_AP_START,
                      ENV_ATP, ENV_DIALYSIS_ON, ENV_J, ENV_JCH, ENV_PI, ENV_POISONED, ENV_V,
                      INWARD, N_CH_TYPES, OUTWARD, PAR_ADP_SET, PAR_ATP_BASAL, PAR_ATP_PROD,
                      PAR_ATP_REGEN, PAR_ATP_SET, PAR_C, PAR_CLAMP, PAR_CLAMP_MV, PAR_PI_SET,
                      PAR_VT,
                      PAR_CH_BIAS, PAR_DT, PAR_EL, PAR_GL, PAR_J_PER_CHARGE, PAR_KV_DELAY,
                      PAR_KV_OPEN, PAR_MM_PER_ATP, PAR_NAV_OPEN, PAR_TAU_J, PAR_TAU_JCH)


@njit(**JIT)
def _gates_open(par, env, t):
    """(Na+ gates open, K+ gates open) at time ``t`` (ms) for the action potential train in
    ``env``: the Na+ gates of the k-th action potential (starting at ``start + k·interval``)
    open for ``PAR_NAV_OPEN`` ms; the K+ gates open ``PAR_KV_DELAY`` ms after its start for
    ``PAR_KV_OPEN`` ms."""
    count = env[ENV_AP_COUNT]
    if count <= 0.0:
        return False, False
    since = t - env[ENV_AP_START]
    if since < 0.0:
        return False, False
    interval = env[ENV_AP_INTERVAL]
    k = 0.0
    if interval > 0.0:
        k = np.floor(since / interval)
        since -= k * interval
    if k >= count:
        return False, False
    na = since < par[PAR_NAV_OPEN]
    kk = par[PAR_KV_DELAY] <= since < par[PAR_KV_DELAY] + par[PAR_KV_OPEN]
    return na, kk


@njit(**JIT)
def _channel_probabilities(par, env, t, ch_p0, ch_pass):
    """Passage probabilities per hit of a pore this step, ``ch_pass (N_CH_TYPES, 2)``.

    ``ch_p0[type]`` is the probability at V = 0 (from the permeability, dt-independent like
    pump capture). With ``PAR_CH_BIAS`` the membrane potential V (inside minus outside)
    biases it as a symmetric single-barrier (Eyring) pore: inward ×exp(−V / 2V_T), outward
    ×exp(+V / 2V_T), so the net flux of a species vanishes at its Nernst potential (the
    constant-field GHK flux has the same zero). Gated types pass only while their gate is
    open (:func:`_gates_open`)."""
    f_in = 1.0
    f_out = 1.0
    if par[PAR_CH_BIAS] > 0.0:
        f_in = np.exp(-env[ENV_V] / (2.0 * par[PAR_VT]))
        f_out = 1.0 / f_in
    na_open, k_open = _gates_open(par, env, t)
    for t_ in range(N_CH_TYPES):
        open_ = True
        if t_ == CH_NAV:
            open_ = na_open
        elif t_ == CH_KV:
            open_ = k_open
        if open_:
            ch_pass[t_, INWARD] = min(1.0, ch_p0[t_] * f_in)
            ch_pass[t_, OUTWARD] = min(1.0, ch_p0[t_] * f_out)
        else:
            ch_pass[t_, INWARD] = 0.0
            ch_pass[t_, OUTWARD] = 0.0


@njit(**JIT)
def _energy_and_potential(par, env, d_atp_used, d_pi_released, d_charge_out, d_channel_out):
    """Advance ATP, ADP, Pi (mM) and the membrane potential (mV) by one step (explicit Euler).

    ATP: ``dA/dt = P + k_regen·(A0 - A) - k_basal·A - (pump use)`` (metabolism buffers ATP
    at its set point A0 both ways: pumps running backwards make ATP); every ATP used
    (by the pumps or the basal use) gives one ADP and one Pi, every ATP made (metabolism)
    takes one of each; while no poison is present metabolism also brings ADP and Pi back
    to their set points at ``k_regen``. Production (all of it) stops while a metabolic
    poison is present (MODEL.md §3): ATP falls, ADP and Pi rise.
    ``d_atp_used``: net ATP molecules the pumps used this step (negative when they made
    ATP running backwards); ``d_pi_released``: net Pi they released; ``d_charge_out``: net
    elementary charges they moved outward. The patch's pump current density (µA/cm²) is
    averaged with an exponential window ``PAR_TAU_J`` (the patch stands for the whole
    membrane). ``d_channel_out``: net elementary charges that crossed channels outward this
    step, scaled the same way and averaged over ``PAR_TAU_JCH`` into ``J_ch``. Then
    ``C dV/dt = -J - J_ch - g_L (V - E_L)`` (MODEL.md §4), or V = ``PAR_CLAMP_MV`` under
    voltage clamp (``PAR_CLAMP``). Internal dialysis (``ENV_DIALYSIS_ON``) holds ATP, ADP
    and Pi at their set points (poison then has no effect on them)."""
    dt = par[PAR_DT]
    atp, adp, pi = env[ENV_ATP], env[ENV_ADP], env[ENV_PI]
    mm = par[PAR_MM_PER_ATP]
    prod = 0.0
    relax_adp = 0.0
    relax_pi = 0.0
    if env[ENV_POISONED] == 0:
        prod = par[PAR_ATP_PROD] + par[PAR_ATP_REGEN] * (par[PAR_ATP_SET] - atp)
        relax_adp = par[PAR_ATP_REGEN] * (par[PAR_ADP_SET] - adp)
        relax_pi = par[PAR_ATP_REGEN] * (par[PAR_PI_SET] - pi)
    basal = par[PAR_ATP_BASAL] * atp
    pump_use = d_atp_used * mm
    env[ENV_ATP] = max(atp + dt * (prod - basal) - pump_use, 0.0)
    env[ENV_ADP] = max(adp + dt * (basal - prod + relax_adp) + pump_use, 0.0)
    env[ENV_PI] = max(pi + dt * (basal - prod + relax_pi) + d_pi_released * mm, 0.0)
    if env[ENV_DIALYSIS_ON] > 0:  # the dialysis fluid holds the nucleotides and Pi too
        env[ENV_ATP] = par[PAR_ATP_SET]
        env[ENV_ADP] = par[PAR_ADP_SET]
        env[ENV_PI] = par[PAR_PI_SET]
    j_now = d_charge_out * par[PAR_J_PER_CHARGE]
    env[ENV_J] += (j_now - env[ENV_J]) * min(1.0, dt / par[PAR_TAU_J])
    j_ch = d_channel_out * par[PAR_J_PER_CHARGE]
    env[ENV_JCH] += (j_ch - env[ENV_JCH]) * min(1.0, dt / par[PAR_TAU_JCH])
    if par[PAR_CLAMP] > 0:
        env[ENV_V] = par[PAR_CLAMP_MV]
        return
    v = env[ENV_V]
    env[ENV_V] = v + dt * (-env[ENV_J] - env[ENV_JCH] - par[PAR_GL] * (v - par[PAR_EL])) \
        / par[PAR_C]
