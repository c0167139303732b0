"""numba kernels: pure functions over arrays and scalars (no Python objects).

One simulation step, in the order of :meth:`particles.simulation.Simulation.step`:

1. :func:`_move` (parallel over chunks of ions): Brownian displacement, reflection at the
   walls and at the membrane, and *proposals* of captures by pump faces; an ion that
   proposes is reflected like any other for now. An ion that hits an open channel pore of
   its species passes through it (it changes side at once; crossings are counted per chunk
   and reduced in chunk order by :func:`_advance`).
2. :func:`_accept` (serial, in chunk then ion-index order): proposals are accepted while the
   pump still has an open site; the first ion in index order wins, losers stay reflected.
3. :func:`_pump_transitions` (serial over pumps): first-order conformational changes and
   release of bound ions as free particles beside the other face.
4. :func:`_energy_and_potential`: ATP, and V driven by the pump and channel currents.

Units: µm, ms, mM. Array shapes: ions ``(n,)``, pumps ``(m,)``, ``sites (m, 5)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL
from .layout import (BLOCKED, C_ATP_USED, C_BATH_ADDED, C_CHANNEL, C_CHARGE_OUT, C_CYCLES,
                     C_DIALYSIS, C_K_CAPTURED, C_K_IN, C_NA_CAPTURED, C_NA_IN, C_NA_OUT,
                     C_TRACER_EFFLUX, CH_KV, CH_NAV, CHP_TRACER_IN, CHP_TRACER_OUT, E1, E1_3NA,
                     E1P_3NA, E2_2K, E2P, E2P_2K, ENV_AP_COUNT, ENV_AP_INTERVAL, ENV_AP_START,
                     ENV_ATP, ENV_BATH_ON, ENV_DIALYSIS_ON, ENV_J, ENV_JCH, ENV_OUABAIN,
                     ENV_POISONED, ENV_V, INSIDE, N_CH_TYPES, N_CHP, NA, OUTSIDE, P_DEPHOS, P_NAREL,
                     P_OCC, P_OUA_OFF, P_OUA_ON, P_PHOS, P_RET, PAR_ATP_BASAL, PAR_ATP_PROD,
                     PAR_ATP_REGEN, PAR_ATP_SET, PAR_BATH_EVERY, PAR_C, PAR_CH_BIAS, PAR_DT, PAR_EL,
                     PAR_GL, PAR_J_PER_CHARGE, PAR_K_DEPHOS, PAR_K_NAREL, PAR_K_OCC, PAR_K_OUA_OFF,
                     PAR_K_OUA_ON, PAR_K_PHOS, PAR_K_RET0, PAR_K_RET_ATP, PAR_KM_ATP,
                     PAR_KM_ATP_LOW, PAR_KV_DELAY, PAR_KV_OPEN, PAR_MM_PER_ATP, PAR_NAV_OPEN,
                     PAR_TAU_J, PAR_TAU_JCH, PAR_Z_OCC, RESERVOIR, STREAM_BATH, STREAM_BATH_COUNT,
                     STREAM_CHANNEL, STREAM_MOVE, STREAM_MOVE_TAIL, STREAM_PLACE, STREAM_PUMP,
                     STREAM_STICK, K)
from .rng import draw, normal_pair, step_key, uniforms

CHUNK = 4096
"""Ions per chunk of the parallel move; proposals are collected per chunk."""

PARALLEL_MIN_CHUNKS = 16
"""Below this many chunks (65 536 ions) the move runs on one thread: the per-step cost of
waking the other threads (and waiting for them when the machine is busy) exceeds the work.
Results are identical either way."""

@njit(**JIT)
def _pump_at(y, n_pumps, height, pump_y, face_half):
    """Index of the pump whose face covers membrane coordinate ``y`` (µm), or -1.

    Pumps are evenly spaced, so the candidate is the bin ``floor(y · m / height)``: O(1)."""
    if n_pumps == 0 or y < 0.0 or y >= height:
        return -1
    p = int(y * n_pumps / height)
    if p >= n_pumps:
        p = n_pumps - 1
    if abs(y - pump_y[p]) <= face_half:
        return p
    return -1


@njit(**JIT)
def _channel_at(y, ch_bin, height, ch_y, ch_half):
    """Index of the channel whose pore covers membrane coordinate ``y`` (µm), or -1.

    ``ch_bin`` maps the bin ``floor(y · B / height)`` to a pore overlapping it; the pore
    covering ``y`` is that one or a neighbour (pores sorted by y, bins <= half a pore): O(1)."""
    nb = ch_bin.shape[0]
    if nb == 0 or y < 0.0 or y >= height:
        return -1
    b = int(y * nb / height)
    if b >= nb:
        b = nb - 1
    q0 = ch_bin[b]
    if q0 < 0:
        return -1
    n = ch_y.shape[0]
    for q in range(max(q0 - 1, 0), min(q0 + 2, n)):
        if abs(y - ch_y[q]) <= ch_half:
            return q
    return -1


@njit(**JIT)
def _open_inner(p, species, state, n_na):
    """True if pump ``p`` accepts an ion of ``species`` at its inner face now."""
    return species == NA and state[p] == E1 and n_na[p] < 3


@njit(**JIT)
def _open_outer(p, state, n_na, n_k):
    """True if pump ``p`` accepts an ion at its outer (K+) sites now."""
    return state[p] == E2P and n_na[p] == 0 and n_k[p] < 2


@njit(**JIT)
def _pore_passes(yc, s, direction, key, i, ch_bin, height, ch_y, ch_half, ch_type, ch_pass):
    """Index of the pore at membrane coordinate ``yc`` (µm) that ion ``i`` of species ``s``
    passes through in ``direction`` (0 inward, 1 outward) this step, or -1 (no pore there,
    a pore of the other species, or the passage trial failed)."""
    q = _channel_at(yc, ch_bin, height, ch_y, ch_half)
    if q < 0:
        return -1
    t = ch_type[q]
    u, _ = uniforms(draw(key, i))
    if (t & 1) != s or not u < ch_pass[t, direction]:
        return -1
    return q


@njit(**JIT)
def _move_chunk(c, x, y, species, side, bound, sigma, kmove, ktail, kstick, width, height,
                x_in, x_out, pump_y, pump_state, pump_nna, pump_nk, face_half, p_stick,
                prop_ion, prop_pump, ch_y, ch_type, ch_bin, ch_half, ch_pass, kchan, ch_part,
                tracer):
    """Move the free ions of chunk ``c`` (see :func:`_move`); return its proposal count.

    Channel crossings of this chunk are counted in row ``c`` of ``ch_part`` (only this
    chunk writes it; the ion itself is the only other thing written)."""
    n = x.shape[0]
    m = pump_y.shape[0]
    n_ch = ch_y.shape[0]
    start = c * CHUNK
    stop = min(n, start + CHUNK)
    cnt = 0
    for j in range(ch_part.shape[1]):
        ch_part[c, j] = 0
    for i in range(start, stop):
        if bound[i] or side[i] == RESERVOIR:
            continue
        s = species[i]
        z1, z2 = normal_pair(draw(kmove, i), ktail, i)
        x0 = x[i]
        y0 = y[i]
        xn = x0 + sigma[s] * z1
        yn = y0 + sigma[s] * z2
        if side[i] == INSIDE:
            if xn < 0.0:
                xn = -xn
            if xn >= x_in:
                # Hit the inner face: where along the membrane?
                yc = y0 + (yn - y0) * (x_in - x0) / (xn - x0)
                p = _pump_at(yc, m, height, pump_y, face_half)
                q = -1
                if p >= 0:
                    if _open_inner(p, s, pump_state, pump_nna):
                        u, _ = uniforms(draw(kstick, i))
                        if u < p_stick[0]:
                            prop_ion[start + cnt] = i
                            prop_pump[start + cnt] = p
                            cnt += 1
                elif n_ch > 0:
                    q = _pore_passes(yc, s, 1, kchan, i, ch_bin, height, ch_y, ch_half,
                                     ch_type, ch_pass)
                if q >= 0:  # through the pore: the rest of the step continues outside
                    xn = x_out + (xn - x_in)
                    if xn > width:
                        xn = 2.0 * width - xn
                    if xn <= x_out or xn > width:
                        xn = 0.5 * (x_out + width)
                    side[i] = OUTSIDE
                    ch_part[c, (ch_type[q] >> 1) * 4 + s * 2 + 1] += 1
                    if tracer[i]:
                        ch_part[c, CHP_TRACER_OUT] += 1
                else:
                    xn = 2.0 * x_in - xn
                    if xn >= x_in or xn < 0.0:  # far tail: never leave the compartment
                        xn = x_in * 0.5
        else:
            if xn > width:
                xn = 2.0 * width - xn
            if xn <= x_out:
                yc = y0 + (yn - y0) * (x_out - x0) / (xn - x0)
                p = _pump_at(yc, m, height, pump_y, face_half)
                q = -1
                if p >= 0:
                    if _open_outer(p, pump_state, pump_nna, pump_nk):
                        u, _ = uniforms(draw(kstick, i))
                        if u < p_stick[1 + 1 * (s == NA)]:
                            prop_ion[start + cnt] = i
                            prop_pump[start + cnt] = p
                            cnt += 1
                elif n_ch > 0:
                    q = _pore_passes(yc, s, 0, kchan, i, ch_bin, height, ch_y, ch_half,
                                     ch_type, ch_pass)
                if q >= 0:  # through the pore: the rest of the step continues inside
                    xn = x_in - (x_out - xn)
                    if xn < 0.0:
                        xn = -xn
                    if xn >= x_in or xn < 0.0:
                        xn = x_in * 0.5
                    side[i] = INSIDE
                    ch_part[c, (ch_type[q] >> 1) * 4 + s * 2] += 1
                    if tracer[i]:
                        ch_part[c, CHP_TRACER_IN] += 1
                else:
                    xn = 2.0 * x_out - xn
                    if xn <= x_out or xn > width:
                        xn = 0.5 * (x_out + width)
        if yn < 0.0:
            yn = -yn
        elif yn > height:
            yn = 2.0 * height - yn
        if yn < 0.0 or yn > height:
            yn = 0.5 * height
        x[i] = xn
        y[i] = yn
    return cnt


@njit(**JIT)
def _move(x, y, species, side, bound, sigma, seed, step, width, height, x_in, x_out,
          pump_y, pump_state, pump_nna, pump_nk, face_half, p_stick,
          prop_ion, prop_pump, prop_count, ch_y=None, ch_type=None, ch_bin=None,
          ch_half=0.0, ch_pass=None, ch_part=None, tracer=None):
    """Move every free ion one step; collect capture proposals per chunk; let ions through
    open channel pores.

    Args:
        x, y: positions (µm), ``(n,)`` float64, updated in place.
        species, side, bound: ion codes, ``(n,)``; ``side`` may be RESERVOIR (not moved).
        sigma: rms step per axis per species, ``sqrt(2 D dt)`` (µm), ``(2,)``.
        seed, step: key of the counter-based random numbers.
        width, height: box (µm); x_in, x_out: membrane inner/outer faces (µm).
        pump_y, pump_state, pump_nna, pump_nk: pump arrays ``(m,)`` (read only here).
        face_half: half width of a pump face (µm).
        p_stick: sticking probability per crossing of an open face: ``[Na at inner face,
            K at outer face, Na at outer face (congener)]``.
        prop_ion, prop_pump: ``(n,)`` int32 scratch; chunk ``c`` writes its proposals at
            ``[c·CHUNK, c·CHUNK + prop_count[c])``.
        prop_count: ``(n_chunks,)`` int64, number of proposals per chunk.
        ch_y: channel pore centres along the membrane (µm), ``(n_ch,)`` float64, sorted,
            between the pump faces; omitted: no channels.
        ch_type: ``(n_ch,)`` int8 ``CH_*`` codes (species = type & 1).
        ch_bin: ``(B,)`` int32 bin map of the pores (:func:`particles.config.channel_bins`).
        ch_half: half width of a pore (µm).
        ch_pass: ``(N_CH_TYPES, 2)`` passage probability per hit of a pore of each type by
            an ion of its species, ``[:, 0]`` from outside (inward), ``[:, 1]`` from inside
            (outward); 0 for a closed gate (see :func:`_channel_probabilities`).
        ch_part: ``(n_chunks, N_CHP)`` int64 scratch: crossings counted per chunk (row ``c``
            written only by chunk ``c``), reduced in order by the caller.
        tracer: ``(n,)`` bool labels (read only, to count labelled crossings).

    An ion that passes a pore changes ``side`` and continues the rest of its step on the
    other side (the pore is a short tunnel through the membrane). Each ion reads only shared
    state and writes only itself and its chunk's row, so results do not depend on threads.
    Fewer than :data:`PARALLEL_MIN_CHUNKS` chunks run serially, in the same chunk order.
    """
    if ch_y is None:
        n_chunks = (x.shape[0] + CHUNK - 1) // CHUNK
        _move_impl(x, y, species, side, bound, sigma, seed, step, width, height, x_in, x_out,
                   pump_y, pump_state, pump_nna, pump_nk, face_half, p_stick, prop_ion,
                   prop_pump, prop_count, np.zeros(0), np.zeros(0, np.int8),
                   np.zeros(0, np.int32), 0.0,
                   np.zeros((N_CH_TYPES, 2)), np.zeros((max(n_chunks, 1), N_CHP), np.int64),
                   np.zeros(0, np.bool_))
    else:
        _move_impl(x, y, species, side, bound, sigma, seed, step, width, height, x_in, x_out,
                   pump_y, pump_state, pump_nna, pump_nk, face_half, p_stick, prop_ion,
                   prop_pump, prop_count, ch_y, ch_type, ch_bin, ch_half, ch_pass, ch_part,
                   tracer)


@njit(**JIT_PARALLEL)
def _move_impl(x, y, species, side, bound, sigma, seed, step, width, height, x_in, x_out,
               pump_y, pump_state, pump_nna, pump_nk, face_half, p_stick, prop_ion, prop_pump,
               prop_count, ch_y, ch_type, ch_bin, ch_half, ch_pass, ch_part, tracer):
    """The body of :func:`_move` (all arguments given)."""
    n = x.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    kmove = step_key(seed, STREAM_MOVE, step)
    ktail = step_key(seed, STREAM_MOVE_TAIL, step)
    kstick = step_key(seed, STREAM_STICK, step)
    kchan = step_key(seed, STREAM_CHANNEL, step)
    if n_chunks < PARALLEL_MIN_CHUNKS:
        for c in range(n_chunks):
            prop_count[c] = _move_chunk(c, x, y, species, side, bound, sigma, kmove, ktail,
                                        kstick, width, height, x_in, x_out, pump_y, pump_state,
                                        pump_nna, pump_nk, face_half, p_stick, prop_ion,
                                        prop_pump, ch_y, ch_type, ch_bin, ch_half, ch_pass,
                                        kchan, ch_part, tracer)
        return
    for c in prange(n_chunks):
        prop_count[c] = _move_chunk(c, x, y, species, side, bound, sigma, kmove, ktail, kstick,
                                    width, height, x_in, x_out, pump_y, pump_state, pump_nna,
                                    pump_nk, face_half, p_stick, prop_ion, prop_pump, ch_y,
                                    ch_type, ch_bin, ch_half, ch_pass, kchan, ch_part, tracer)


@njit(**JIT)
def _accept(x, y, species, side, bound, pump_y, pump_state, pump_nna, pump_nk, sites,
            site_dx, site_dy, x_mem, prop_ion, prop_pump, prop_count, counters):
    """Accept capture proposals in deterministic order (chunk, then ion index).

    A proposal is accepted if its pump still has an open site on that face; the ion becomes
    bound and is placed on the site (``x_mem + site_dx[k]``, ``pump_y + site_dy[k]``).
    Filling the last Na+ site moves the pump to E1_3NA, the last K+ site to E2P_2K.
    """
    n_chunks = prop_count.shape[0]
    for c in range(n_chunks):
        base = c * CHUNK
        for j in range(prop_count[c]):
            i = prop_ion[base + j]
            p = prop_pump[base + j]
            if side[i] == INSIDE:
                if not _open_inner(p, species[i], pump_state, pump_nna):
                    continue
                k = pump_nna[p]
                pump_nna[p] += 1
                if pump_nna[p] == 3:
                    pump_state[p] = E1_3NA
                counters[C_NA_CAPTURED] += 1
            else:
                if not _open_outer(p, pump_state, pump_nna, pump_nk):
                    continue
                k = 3 + pump_nk[p]
                pump_nk[p] += 1
                if pump_nk[p] == 2:
                    pump_state[p] = E2P_2K
                counters[C_K_CAPTURED] += 1
            sites[p, k] = i
            bound[i] = True
            x[i] = x_mem + site_dx[k]
            y[i] = pump_y[p] + site_dy[k]


@njit(**JIT)
def _release(i, to_side, face_x, yp, face_half, reach, key, slot, x, y, side, bound):
    """Free ion ``i`` beside the face at ``face_x`` on ``to_side``, within ``reach`` µm of it."""
    u1, u2 = uniforms(draw(key, slot))
    if to_side == OUTSIDE:
        x[i] = face_x + u1 * reach
    else:
        x[i] = face_x - u1 * reach
    y[i] = yp + (2.0 * u2 - 1.0) * face_half
    side[i] = to_side
    bound[i] = False


@njit(**JIT)
def _pump_transitions(seed, step, prob, x, y, species, side, bound, tracer, pump_y,
                      pump_state, pump_nna, pump_nk, sites, cycles, x_in, x_out, face_half,
                      reach, counters):
    """Fire first-order pump transitions for one step (serial over pumps).

    Args:
        prob: ``(N_PROB,)`` probabilities ``1 - exp(-k dt)`` of each transition this step,
            indexed by the ``P_*`` constants (ATP- and voltage-dependent ones already
            evaluated for this step).
        reach: released ions land within this distance of the face (µm).
        counters: ``(N_COUNTERS,)`` int64 cumulative counters, updated in place.
    """
    m = pump_y.shape[0]
    kp = step_key(seed, STREAM_PUMP, step)
    kplace = step_key(seed, STREAM_PLACE, step)
    for p in range(m):
        st = pump_state[p]
        if st == E1:
            continue
        u, _ = uniforms(draw(kp, p))
        if st == E1_3NA:
            if u < prob[P_PHOS]:
                pump_state[p] = E1P_3NA
                counters[C_ATP_USED] += 1
        elif st == E1P_3NA:
            if u < prob[P_OCC]:
                pump_state[p] = E2P
        elif st == E2P:
            if pump_nna[p] > 0:
                if u < prob[P_NAREL]:
                    k = pump_nna[p] - 1
                    i = sites[p, k]
                    sites[p, k] = -1
                    pump_nna[p] = k
                    _release(i, OUTSIDE, x_out, pump_y[p], face_half, reach, kplace, 4 * p,
                             x, y, side, bound)
                    counters[C_NA_OUT] += 1
                    counters[C_CHARGE_OUT] += 1
                    if tracer[i]:
                        counters[C_TRACER_EFFLUX] += 1
            elif pump_nk[p] == 0 and u < prob[P_OUA_ON]:
                pump_state[p] = BLOCKED
        elif st == E2P_2K:
            if u < prob[P_DEPHOS]:
                pump_state[p] = E2_2K
        elif st == E2_2K:
            if u < prob[P_RET]:
                for k in range(3, 5):
                    i = sites[p, k]
                    sites[p, k] = -1
                    _release(i, INSIDE, x_in, pump_y[p], face_half, reach, kplace, 4 * p + k - 2,
                             x, y, side, bound)
                    counters[C_CHARGE_OUT] -= 1
                    if species[i] == K:
                        counters[C_K_IN] += 1
                    else:
                        counters[C_NA_IN] += 1
                pump_nk[p] = 0
                pump_state[p] = E1
                cycles[p] += 1
                counters[C_CYCLES] += 1
        elif st == BLOCKED:
            if u < prob[P_OUA_OFF]:
                pump_state[p] = E2P


@njit(**JIT)
def _count(species, side, bound, tracer, out):
    """Count ions into ``out`` (int64, shape ``(7,)``): free Na in, Na out, K in, K out,
    bound Na, bound K, labelled Na+ on the inside (free, or bound but not yet released
    outside). Serial: it runs once per sample, and a thread wake-up would cost more."""
    out[:] = 0
    for i in range(species.shape[0]):
        sd = side[i]
        if sd == RESERVOIR:
            continue
        s = species[i]
        if bound[i]:
            out[4 + s] += 1
        else:
            out[2 * s + sd] += 1
        if tracer[i] and sd == INSIDE:
            out[6] += 1


@njit(**JIT)
def _dithered(mean, u):
    """floor(mean), plus one when the uniform ``u`` < frac(mean): a whole number whose
    average is ``mean`` (>= 0)."""
    whole = np.int64(math.floor(mean))
    return whole + 1 if u < mean - whole else whole


@njit(**JIT)
def _bath_exchange(seed, step, x, y, species, side, bound, tracer, zone_side, zone_lo, zone_hi,
                   height, target, counters, counter_base):
    """Clamp a far-field zone: replace every free ion of compartment ``zone_side`` with
    ``zone_lo < x < zone_hi`` (µm) by fresh unlabelled ions from the reservoir, on average
    ``target[s]`` of each species ``s`` (a real number: c · zone volume) at random places in
    the zone. The whole number put in is floor(target) plus one with probability
    frac(target), so that a zone meant to hold 1.5 ions holds 1.5 on average rather than a
    rounded 2 (which at sub-mM concentrations would raise them by a third). Removed ions are
    parked in the reservoir (side RESERVOIR). Used for the perfused bath (outside) and for
    internal dialysis (inside, Brinley & Mullins 1967).

    ``counters[counter_base + s]`` counts ions added, ``counters[counter_base + 2 + s]`` ions
    removed, so that free + bound − added + removed stays constant per species. Returns False
    if the reservoir ran short of a species (the zone then holds fewer ions until the next
    exchange; the caller grows the reservoir).
    """
    n = x.shape[0]
    for i in range(n):
        if side[i] == zone_side and not bound[i] and zone_lo < x[i] < zone_hi:
            side[i] = RESERVOIR
            tracer[i] = False
            counters[counter_base + 2 + species[i]] += 1
    key = step_key(seed, STREAM_BATH, 2 * step + zone_side)
    u_na, u_k = uniforms(draw(step_key(seed, STREAM_BATH_COUNT, 2 * step + zone_side), 0))
    need0 = _dithered(target[0], u_na)
    need1 = _dithered(target[1], u_k)
    span = zone_hi - zone_lo
    for i in range(n):
        if need0 == 0 and need1 == 0:
            break
        if side[i] != RESERVOIR:
            continue
        s = species[i]
        if s == NA and need0 > 0:
            need0 -= 1
        elif s == K and need1 > 0:
            need1 -= 1
        else:
            continue
        u1, u2 = uniforms(draw(key, i))
        x[i] = zone_lo + u1 * span
        y[i] = u2 * height
        side[i] = zone_side
        counters[counter_base + s] += 1
    return need0 == 0 and need1 == 0


@njit(**JIT)
def _label_tracer(seed, step, fraction, species, side, tracer):
    """Label each Na+ on the inside (free or bound) with probability ``fraction``."""
    key = step_key(seed, STREAM_BATH, step)
    n = species.shape[0]
    labelled = 0
    for i in range(n):
        if species[i] == NA and side[i] == INSIDE and not tracer[i]:
            u, _ = uniforms(draw(key, i))
            if u < fraction:
                tracer[i] = True
                labelled += 1
    return labelled


V_T_MV = 26.7
"""Thermal voltage kT/e at 37 °C (mV), for the voltage dependence of E1P -> E2P."""


@njit(**JIT)
def _probabilities(par, env, prob):
    """Per-step transition probabilities ``1 - exp(-k dt)`` from rates, ATP and V."""
    dt = par[PAR_DT]
    atp = env[ENV_ATP]
    k_phos = par[PAR_K_PHOS] * atp / (atp + par[PAR_KM_ATP])
    k_occ = par[PAR_K_OCC] * np.exp(par[PAR_Z_OCC] * env[ENV_V] / (2.0 * V_T_MV))
    k_ret = par[PAR_K_RET0] + (par[PAR_K_RET_ATP] - par[PAR_K_RET0]) * atp / (
        atp + par[PAR_KM_ATP_LOW])
    prob[P_PHOS] = -np.expm1(-k_phos * dt)
    prob[P_OCC] = -np.expm1(-k_occ * dt)
    prob[P_NAREL] = -np.expm1(-par[PAR_K_NAREL] * dt)
    prob[P_DEPHOS] = -np.expm1(-par[PAR_K_DEPHOS] * dt)
    prob[P_RET] = -np.expm1(-k_ret * dt)
    prob[P_OUA_ON] = -np.expm1(-par[PAR_K_OUA_ON] * env[ENV_OUABAIN] * dt)
    prob[P_OUA_OFF] = -np.expm1(-par[PAR_K_OUA_OFF] * dt)


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
        f_in = np.exp(-env[ENV_V] / (2.0 * V_T_MV))
        f_out = 1.0 / f_in
    na_open, k_open = _gates_open(par, env, t)
    for t_ in range(N_CH_TYPES):
        open_ = True
        if t_ == CH_NAV:
            open_ = na_open
        elif t_ == CH_KV:
            open_ = k_open
        if open_:
            ch_pass[t_, 0] = min(1.0, ch_p0[t_] * f_in)
            ch_pass[t_, 1] = min(1.0, ch_p0[t_] * f_out)
        else:
            ch_pass[t_, 0] = 0.0
            ch_pass[t_, 1] = 0.0


@njit(**JIT)
def _energy_and_potential(par, env, d_atp_used, d_charge_out, d_channel_out=0):
    """Advance ATP (mM) and the membrane potential (mV) by one step (explicit Euler).

    ATP: ``dA/dt = P + k_regen·max(A0 - A, 0) - k_basal·A - (pump use)``; production (both
    terms) stops while a metabolic poison is present (MODEL.md §3).
    ``d_atp_used``: ATP molecules the pumps used this step; ``d_charge_out``: net elementary
    charges they moved outward. The patch's pump current density (µA/cm²) is averaged with
    an exponential window ``PAR_TAU_J`` (the patch stands for the whole membrane).
    ``d_channel_out``: net elementary charges that crossed channels outward this step
    (outward minus inward crossings; both ions carry +1), scaled the same way and averaged
    over ``PAR_TAU_JCH`` into ``J_ch``. Then ``C dV/dt = -J - J_ch - g_L (V - E_L)``
    (MODEL.md §4)."""
    dt = par[PAR_DT]
    atp = env[ENV_ATP]
    prod = 0.0
    if env[ENV_POISONED] == 0:
        prod = par[PAR_ATP_PROD] + par[PAR_ATP_REGEN] * max(par[PAR_ATP_SET] - atp, 0.0)
    atp += dt * (prod - par[PAR_ATP_BASAL] * atp) - d_atp_used * par[PAR_MM_PER_ATP]
    env[ENV_ATP] = max(atp, 0.0)
    j_now = d_charge_out * par[PAR_J_PER_CHARGE]
    env[ENV_J] += (j_now - env[ENV_J]) * min(1.0, dt / par[PAR_TAU_J])
    j_ch = d_channel_out * par[PAR_J_PER_CHARGE]
    env[ENV_JCH] += (j_ch - env[ENV_JCH]) * min(1.0, dt / par[PAR_TAU_JCH])
    v = env[ENV_V]
    env[ENV_V] = v + dt * (-env[ENV_J] - env[ENV_JCH] - par[PAR_GL] * (v - par[PAR_EL])) \
        / par[PAR_C]


@njit(**JIT)
def _advance(nsteps, step0, seed, par, env, bath_target, sigma, width, height, x_in, x_out,
             x_mem, face_half, reach, p_stick, zone_x0, zone_x1, site_dx, site_dy,
             x, y, species, side, bound, tracer,
             pump_y, pump_state, pump_nna, pump_nk, sites, cycles,
             prop_ion, prop_pump, prop_count, counters, prob,
             ch_y, ch_type, ch_bin, ch_half, ch_p0, ch_pass, ch_part):
    """Advance the simulation ``nsteps`` steps from step index ``step0``.

    The order within a step (DESIGN.md): move, propose captures and pass channel pores ->
    channel crossing counts reduced in chunk order -> accept captures -> pump transitions
    and releases -> ATP and potential -> bath and dialysis exchanges.
    Channels: ``ch_y``, ``ch_type``, ``ch_bin``, ``ch_half`` as in :func:`_move`; ``ch_p0`` passage
    probabilities at V = 0 per type; ``ch_pass``, ``ch_part`` scratch.
    ``bath_target``: mean number of ions per species held in the bath zone ``x > zone_x0``
    (entries 0, 1) and in the dialysis zone ``x < zone_x1`` (entries 2, 3), float64. Everything is
    updated in place. Returns the number of steps done, negated when the bath reservoir ran
    short in the last of them (the caller grows it and goes on).
    """
    for s in range(nsteps):
        step = step0 + s
        _probabilities(par, env, prob)
        _channel_probabilities(par, env, step * par[PAR_DT], ch_p0, ch_pass)
        _move(x, y, species, side, bound, sigma, seed, step, width, height, x_in, x_out,
              pump_y, pump_state, pump_nna, pump_nk, face_half, p_stick,
              prop_ion, prop_pump, prop_count, ch_y, ch_type, ch_bin, ch_half, ch_pass,
              ch_part, tracer)
        ch_out = 0
        if ch_y.shape[0] > 0:
            for c in range(prop_count.shape[0]):
                for j in range(N_CHP):
                    counters[C_CHANNEL + j] += ch_part[c, j]
                for j in range(8):
                    if j & 1:
                        ch_out += ch_part[c, j]
                    else:
                        ch_out -= ch_part[c, j]
                counters[C_TRACER_EFFLUX] += ch_part[c, CHP_TRACER_OUT]
        _accept(x, y, species, side, bound, pump_y, pump_state, pump_nna, pump_nk, sites,
                site_dx, site_dy, x_mem, prop_ion, prop_pump, prop_count, counters)
        used0 = counters[C_ATP_USED]
        charge0 = counters[C_CHARGE_OUT]
        _pump_transitions(seed, step, prob, x, y, species, side, bound, tracer, pump_y,
                          pump_state, pump_nna, pump_nk, sites, cycles, x_in, x_out, face_half,
                          reach, counters)
        _energy_and_potential(par, env, counters[C_ATP_USED] - used0,
                              counters[C_CHARGE_OUT] - charge0, ch_out)
        if (step + 1) % int(par[PAR_BATH_EVERY]) == 0:
            ok = True
            if env[ENV_BATH_ON] > 0:
                ok = _bath_exchange(seed, step, x, y, species, side, bound, tracer, OUTSIDE,
                                    zone_x0, width, height, bath_target[0:2], counters,
                                    C_BATH_ADDED)
            if env[ENV_DIALYSIS_ON] > 0:
                ok = _bath_exchange(seed, step, x, y, species, side, bound, tracer, INSIDE,
                                    0.0, zone_x1, height, bath_target[2:4], counters,
                                    C_DIALYSIS) and ok
            if not ok:
                return -(s + 1)
    return nsteps
