"""The membrane: pore passage probabilities, the stimulus, ATP and the membrane potential."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (ENV_ADP, ENV_ATP, ENV_DIALYSIS_ON, ENV_I_STIM, ENV_J, ENV_JCH,
                      ENV_JPOP_CH, ENV_JPOP_PUMP, ENV_PI, ENV_POISONED, ENV_SPIKES,
                      ENV_STIM_AMP, ENV_STIM_COUNT, ENV_STIM_DUR, ENV_STIM_INTERVAL,
                      ENV_STIM_START, ENV_V, INWARD, N_CH_TYPES, OUTWARD, PAR_ADP_SET,
                      PAR_ATP_BASAL, PAR_ATP_PROD, PAR_ATP_REGEN, PAR_ATP_SET, PAR_C,
                      PAR_CH_BIAS, PAR_CLAMP, PAR_CLAMP_MV, PAR_DT, PAR_EL, PAR_GL,
                      PAR_J_PER_CHARGE, PAR_MM_PER_ATP, PAR_PI_SET, PAR_TAU_J, PAR_TAU_JCH,
                      PAR_VT)


@njit(**JIT)
def _bias(par, env):
    """The voltage factors of pore passage now, ``(f_in, f_out)``: with ``PAR_CH_BIAS`` a
    symmetric single-barrier (Eyring) pore, inward ×exp(−V / 2V_T) and outward
    ×exp(+V / 2V_T), so the net flux of a species vanishes at its Nernst potential (the
    constant-field GHK flux has the same zero); (1, 1) without."""
    if par[PAR_CH_BIAS] > 0.0:
        f_in = np.exp(-env[ENV_V] / (2.0 * par[PAR_VT]))
        return f_in, 1.0 / f_in
    return 1.0, 1.0


@njit(**JIT)
def _channel_probabilities(ch_p0, f_in, f_out, ch_pass):
    """Passage probabilities per hit of a conducting pore this step, ``ch_pass
    (N_CH_TYPES, 2)``: ``ch_p0[type]`` (the probability at V = 0, from the permeability,
    dt-independent like pump capture) times the voltage factors of :func:`_bias`. Whether a
    gated pore conducts is its own gating state (:mod:`.gating`), checked per pore."""
    for t_ in range(N_CH_TYPES):
        ch_pass[t_, INWARD] = min(1.0, ch_p0[t_] * f_in)
        ch_pass[t_, OUTWARD] = min(1.0, ch_p0[t_] * f_out)


@njit(**JIT)
def _stimulus(env, t):
    """The stimulus current (µA/cm², positive depolarises) at time ``t`` (ms) of the train
    in ``env``: pulse k of ``ENV_STIM_COUNT`` starts at ``start + k·interval`` and lasts
    ``ENV_STIM_DUR`` ms."""
    count = env[ENV_STIM_COUNT]
    since = t - env[ENV_STIM_START]
    if count <= 0.0 or since < 0.0:
        return 0.0
    interval = env[ENV_STIM_INTERVAL]
    k = 0.0
    if interval > 0.0:
        k = np.floor(since / interval)
        since -= k * interval
    if k >= count or since >= env[ENV_STIM_DUR]:
        return 0.0
    return env[ENV_STIM_AMP]


@njit(**JIT)
def _energy_and_potential(par, env, t, d_atp_used, d_pi_released, d_charge_out,
                          d_channel_out):
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
    ``C dV/dt = -J - J_ch - J_pop - g_L (V - E_L) + I_stim`` (MODEL.md §4; ``J_pop``: the
    rest of the membrane, :mod:`.population`; ``I_stim``: :func:`_stimulus` at ``t`` ms),
    or V = ``PAR_CLAMP_MV`` under voltage clamp (``PAR_CLAMP``); an upward crossing of
    0 mV counts a spike (``ENV_SPIKES``). Internal dialysis (``ENV_DIALYSIS_ON``) holds ATP, ADP
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
    i_stim = _stimulus(env, t)
    env[ENV_I_STIM] = i_stim
    if par[PAR_CLAMP] > 0:
        env[ENV_V] = par[PAR_CLAMP_MV]
        return
    v = env[ENV_V]
    out = env[ENV_J] + env[ENV_JCH] + env[ENV_JPOP_PUMP] + env[ENV_JPOP_CH]
    env[ENV_V] = v + dt * (-out - par[PAR_GL] * (v - par[PAR_EL]) + i_stim) / par[PAR_C]
    if v < 0.0 <= env[ENV_V]:
        env[ENV_SPIKES] += 1.0
