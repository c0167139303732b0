"""The kernel entry: advance the whole simulation by a number of steps."""

from __future__ import annotations

from numba import njit

from ..jit import JIT
from ..layout import (CH_KV, CH_NAV, C_ATP_USED, C_BATH_ADDED, C_CHANNEL, C_CHARGE_OUT, C_DIALYSIS,
                      C_PI_RELEASED,
                      C_TRACER_EFFLUX, CHP_CROSSINGS, CHP_TRACER_OUT, ENV_BATH_ON,
                      ENV_DIALYSIS_ON, ENV_V, INSIDE, N_CHP, N_SPECIES, OUTSIDE, OUTWARD,
                      PAR_BATH_EVERY, PAR_BATH_X0, PAR_DIALYSIS_X1, PAR_DT, PAR_HEIGHT,
                      PAR_PHI, PAR_POP, PAR_RECOUNT_EVERY, PAR_WIDTH, STREAM_GATE,
                      TARGET_BATH, TARGET_DIALYSIS)
from ..rng import step_key
from .gating import _gate_pores, _gating_matrices, _hh_rates
from .ions import _bath_exchange
from .membrane import _bias, _channel_probabilities, _energy_and_potential
from .motion import _accept, _move
from .population import _population, _recount
from .pumps import _pump_transitions, _rates


@njit(**JIT)
def _reduce_crossings(channels, scratch, counters):
    """Add this step's channel crossings (``ch_part``, in chunk order) to the counters;
    return the net elementary charges that crossed outward (outward minus inward)."""
    ch_out = 0
    if channels.y.shape[0] > 0:
        ch_part = scratch.ch_part
        for c in range(scratch.prop_count.shape[0]):
            for j in range(N_CHP):
                counters[C_CHANNEL + j] += ch_part[c, j]
            for j in range(CHP_CROSSINGS):
                if j % 2 == OUTWARD:
                    ch_out += ch_part[c, j]
                else:
                    ch_out -= ch_part[c, j]
            counters[C_TRACER_EFFLUX] += ch_part[c, CHP_TRACER_OUT]
    return ch_out


@njit(**JIT)
def _exchanges(seed, step, ions, par, env, bath_target, counters):
    """The perfused bath's and the internal dialysis's exchanges, when switched on in
    ``env``; False if the reservoir ran short."""
    ok = True
    if env[ENV_BATH_ON] > 0:
        ok = _bath_exchange(seed, step, ions, OUTSIDE, par[PAR_BATH_X0], par[PAR_WIDTH],
                            par[PAR_HEIGHT], bath_target[TARGET_BATH:TARGET_BATH + N_SPECIES],
                            counters, C_BATH_ADDED)
    if env[ENV_DIALYSIS_ON] > 0:
        ok = _bath_exchange(seed, step, ions, INSIDE, 0.0, par[PAR_DIALYSIS_X1],
                            par[PAR_HEIGHT],
                            bath_target[TARGET_DIALYSIS:TARGET_DIALYSIS + N_SPECIES],
                            counters, C_DIALYSIS) and ok
    return ok


@njit(**JIT)
def _advance(nsteps, step0, seed, ions, pumps, channels, par, env, bath_target, counters,
             scratch):
    """Advance the simulation ``nsteps`` steps from step index ``step0``.

    The order within a step (DESIGN.md): gating of the voltage-gated pores at V -> move,
    propose captures and pass conducting pores -> channel crossing counts reduced in chunk
    order -> accept captures -> pump transitions and releases -> the rest of the membrane
    (a population, when ``PAR_POP``; its concentrations recounted every
    ``PAR_RECOUNT_EVERY`` steps) -> ATP and potential -> bath and dialysis exchanges (every
    ``PAR_BATH_EVERY`` steps).

    Args:
        nsteps, step0, seed: steps to do, index of the first, seed of the random numbers.
        ions, pumps, channels: :class:`~particles.layout.IonArrays`,
            :class:`~particles.layout.PumpArrays`, :class:`~particles.layout.ChannelArrays`.
        par: ``(N_PAR,)`` float64 parameters (``PAR_*``).
        env: ``(N_ENV,)`` float64 environment (``ENV_*``): ATP, V, currents, event flags.
        bath_target: ``(N_TARGET,)`` float64 mean ions per species held in the bath zone
            ``x > PAR_BATH_X0`` and the dialysis zone ``x < PAR_DIALYSIS_X1``.
        counters: ``(N_COUNTERS,)`` int64 cumulative event counters (``C_*``).
        scratch: :class:`~particles.layout.Scratch` sized for these ions.

    Everything is updated in place. Returns the number of steps done, negated when the
    bath reservoir ran short in the last of them (the caller grows it and goes on).
    """
    pop = par[PAR_POP] > 0.0
    gated = pop  # HH rates are needed by the population or by gated pores of the patch
    for t in channels.type:
        if t == CH_NAV or t == CH_KV:
            gated = True
    recount = int(par[PAR_RECOUNT_EVERY])
    for s in range(nsteps):
        step = step0 + s
        _rates(par, env, scratch.rate)
        f_in, f_out = _bias(par, env)
        _channel_probabilities(channels.p0, f_in, f_out, scratch.ch_pass)
        if gated:
            _hh_rates(env[ENV_V], par[PAR_PHI], scratch.hh)
            _gating_matrices(scratch.hh, scratch.q_nav, scratch.q_kv)
            _gate_pores(step_key(seed, STREAM_GATE, step), par[PAR_DT], scratch.q_nav,
                        scratch.q_kv, channels.type, channels.gate)
        _move(seed, step, ions, pumps, channels, par, scratch)
        ch_out = _reduce_crossings(channels, scratch, counters)
        used0 = counters[C_ATP_USED]
        pi0 = counters[C_PI_RELEASED]
        charge0 = counters[C_CHARGE_OUT]  # bindings move charge too (rebinding Na+, K+ in)
        _accept(ions, pumps, par, scratch, counters)
        _pump_transitions(seed, step, ions, pumps, par, scratch.rate, counters)
        if pop:
            if step % recount == 0:
                _recount(ions, par, env, scratch.count)
            _population(seed, step, par, env, f_in, f_out, scratch)
        _energy_and_potential(par, env, step * par[PAR_DT], counters[C_ATP_USED] - used0,
                              counters[C_PI_RELEASED] - pi0, counters[C_CHARGE_OUT] - charge0,
                              ch_out)
        if (step + 1) % int(par[PAR_BATH_EVERY]) == 0:
            if not _exchanges(seed, step, ions, par, env, bath_target, counters):
                return -(s + 1)
    return nsteps
