"""The move: Brownian steps, reflection, capture proposals and their acceptance, channel
passage.

Every free ion takes one Gaussian step (parallel over chunks of :data:`CHUNK` ions; within a
chunk, blocks of :data:`BLOCK` ions pass through two loops: one vectorised over the ions,
which draws their normal deviates by the ziggurat's fast path and makes the moves that stay
in a compartment, then one over the ions it left, in index order: those whose deviates need
the slow path, and those that reached a membrane face). Drawing the deviates in a loop of
their own and fixing the slow ones in a further pass, as before, cost about 15 % more per
ion-step at 10⁵-10⁶ ions (the branchy pass over the rare slow ones). An
ion that reaches a membrane face where an open pump face is proposes a capture (accepted
after the move, serially, by :func:`_accept`) and is reflected like any other for now; an
ion that hits an open channel pore of its species passes through it (it changes side at
once; crossings are counted per chunk and reduced in chunk order by the step).
Each ion reads only shared state and writes only itself and its chunk's row and proposal
slots, so results do not depend on the thread count.

The face path is written out in :func:`_move_chunk`'s loop, and its helpers take scalars
only. In the close-ups' small boxes (``pump-cycle``: 3.6 % of the ions reach a face each
step) its cost per face hit matters: as calls taking named tuples of arrays the step took
56 µs, as one function inlined by numba 29 µs, and written out 23 µs (issue 15). What it
cost was reference counting: numba counts every array a kernel function receives up and
down (an atomic add each way), and does not prune the pairs across the branches of a
function like this one.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..jit import JIT, JIT_PARALLEL
from ..layout import (C_CHARGE_OUT, C_K_CAPTURED, C_K_IN, C_NA_CAPTURED, C_NA_OUT,
                      C_TRACER_EFFLUX, CH_KV, CH_NAV, CHP_GROUP_STRIDE, CHP_TRACER_IN,
                      CHP_TRACER_OUT, E1_3NA, E2P_2K, INSIDE, INWARD, K, K_SITES, KV_OPEN, NA,
                      NA_SITES, NAV_OPEN, OUTSIDE, OUTWARD, P_STICK_K_INNER, P_STICK_K_OUTER,
                      P_STICK_NA_INNER, P_STICK_NA_OUTER, PAR_CH_HALF, PAR_FACE_HALF,
                      PAR_HEIGHT, PAR_P_STICK, PAR_SIGMA, PAR_SITE_DX, PAR_SITE_DY, PAR_WIDTH,
                      PAR_X_IN, PAR_X_MEM, PAR_X_OUT, R_STICK_REBIND, RESERVOIR, STREAM_CHANNEL,
                      STREAM_MOVE, STREAM_MOVE_TAIL, STREAM_STICK)
from ..rng import draw, normal_pair, normal_pair_fast, step_key, uniforms
from .pumps import _open_inner, _open_outer, _open_rebind

CHUNK = 4096
"""Ions per chunk of the parallel move; proposals are collected per chunk."""

BLOCK = 512
"""Ions per block of the move's two passes (free moves, then the flagged ions): the block's
end points and flags stay in the first-level cache."""

HIT, SLOW = 1, 2
"""Flags of an ion the free moves left in place: its step reaches its membrane face (HIT), or
its normal deviates need the ziggurat's slow path (SLOW, the step not yet known)."""

PARALLEL_MIN_CHUNKS = 16
"""Below this many chunks (65 536 ions) the move runs on one thread: the per-step cost of
waking the other threads (and waiting for them when the machine is busy) exceeds the work.
Results are identical either way."""


@njit(**JIT)
def _bin(y, n, height):
    """Bin ``floor(y · n / height)`` of membrane coordinate ``y`` (µm) among ``n`` equal
    bins of the membrane's ``height``, or -1 (``y`` off the membrane, or ``n`` = 0)."""
    if n == 0 or y < 0.0 or y >= height:
        return -1
    return min(int(y * n / height), n - 1)


@njit(**JIT)
def _conducts(t, gate):
    """True if a pore of type ``t`` in gating state ``gate`` conducts: leak pores always,
    Nav only in NAV_OPEN (m3h1), Kv only in KV_OPEN (n4)."""
    if t == CH_NAV:
        return gate == NAV_OPEN
    if t == CH_KV:
        return gate == KV_OPEN
    return True


@njit(**JIT)
def _stick_probability(face, s, st, n_na, n_k, p_stick, p_rebind):
    """(sticking probability, 1 if as a congener Na+ on the K+ sites else 0) of an ion of
    species ``s`` that crosses the face of compartment ``face`` where a pump in state ``st``
    holding ``n_na`` Na+ and ``n_k`` K+ is: the probability of the site open for it (0 if
    none). ``p_stick``: the ``P_STICK_*`` probabilities, a tuple (Na+ inner, K+ outer, Na+
    outer as a congener, unused, K+ inner); ``p_rebind``: this step's for external Na+ back
    on the Na+ sites."""
    if face == INSIDE:
        if _open_inner(s, st, n_na, n_k):
            return p_stick[P_STICK_NA_INNER if s == NA else P_STICK_K_INNER], 0
        return 0.0, 0
    if s != NA:
        if _open_outer(st, n_na, n_k):
            return p_stick[P_STICK_K_OUTER], 0
        return 0.0, 0
    if _open_rebind(st, n_na, n_k):
        return p_rebind, 0
    if _open_outer(st, n_na, n_k):
        return p_stick[P_STICK_NA_OUTER], 1
    return 0.0, 0


@njit(**JIT)
def _move_chunk(c, keys, ions, pumps, channels, par, scratch):
    """Move the free ions of chunk ``c`` (see :func:`_move`); return its proposal count.

    Block by block of :data:`BLOCK` ions: the moves that stay within a compartment
    (:func:`_free_moves`, a loop the compiler vectorises), then, in index order, the ions it
    flagged: those whose normal deviates need the slow path get them
    (:func:`~particles.rng.normal_pair`) and move like the others, and those that reached a
    membrane face take the face path. Their step from its place ends at ``(xn, yn)`` (µm,
    reflected at the box walls) beyond the face; where it crosses the face, ``yc``:

    - a pump face there proposes a capture with the sticking probability of the site that
      face has open for the ion (:func:`_stick_probability`; random numbers of ``kstick``),
      as a pump index, plus the pump count for a congener Na+ on the K+ sites, and the ion
      is reflected;
    - elsewhere an open pore of its species there lets it through with this step's passage
      probability ``ch_pass`` (random numbers of ``kchan``; the rest of the step continues
      on the other side, counted in row ``c`` of ``ch_part``), or it is reflected.

    Only this chunk writes its row of ``ch_part`` and its proposal slots; the ion itself is
    the only other thing written.

    The face path is written out in this loop, with the arrays taken apart once per chunk
    and helpers that take only scalars: every call of a kernel function that takes arrays
    (or a named tuple of them) costs an atomic reference count up and down of each array,
    which numba's pruning does not remove across branches. As a function of its own
    (inlined or not) the face path cost 16 such pairs per face hit; in ``pump-cycle``'s
    small box (3.6 % of the ions reach a face each step) that was a third of the step.
    """
    kmove, ktail, kstick, kchan = keys
    x, y, species, side, bound, tracer = ions
    state, n_na, n_k, pump_y = pumps.state, pumps.n_na, pumps.n_k, pumps.y
    ch_y, ch_bins, ch_type, ch_gate = channels.y, channels.bins, channels.type, channels.gate
    ch_part, ch_pass = scratch.ch_part, scratch.ch_pass
    width, height = par[PAR_WIDTH], par[PAR_HEIGHT]
    x_in, x_out = par[PAR_X_IN], par[PAR_X_OUT]
    face_half, ch_half = par[PAR_FACE_HALF], par[PAR_CH_HALF]
    p_stick = (par[PAR_P_STICK + 0], par[PAR_P_STICK + 1], par[PAR_P_STICK + 2],
               par[PAR_P_STICK + 3], par[PAR_P_STICK + 4])
    p_rebind = scratch.rate[R_STICK_REBIND]
    m = pump_y.shape[0]
    n_ch = ch_y.shape[0]
    start = c * CHUNK
    stop = min(x.shape[0], start + CHUNK)
    xn = np.empty(BLOCK)
    yn = np.empty(BLOCK)
    flag = np.empty(BLOCK, np.uint8)
    cnt = 0
    for j in range(ch_part.shape[1]):
        ch_part[c, j] = 0
    sigma_na, sigma_k = par[PAR_SIGMA + NA], par[PAR_SIGMA + K]
    for b0 in range(start, stop, BLOCK):
        b1 = min(stop, b0 + BLOCK)
        _free_moves(b0, b1, kmove, ions, par, xn, yn, flag)
        for i in range(b0, b1):
            h = flag[i - b0]
            if h == 0:
                continue
            s = species[i]
            face = side[i]
            xe = xn[i - b0]
            ye = yn[i - b0]
            if h == SLOW:  # its deviates by the slow path, then its step as in _free_moves
                zx, zy = normal_pair(draw(kmove, i), ktail, i)
                xe, ye, reach = _end_point(x[i], y[i], sigma_na if s == NA else sigma_k, zx,
                                           zy, face == INSIDE, width, x_in, x_out)
                if not reach:
                    x[i] = xe
                    y[i] = _reflect_y(ye, height)
                    continue
            x_face = x_in if face == INSIDE else x_out
            yc = y[i] + (ye - y[i]) * (x_face - x[i]) / (xe - x[i])  # where it crosses
            p = _bin(yc, m, height)  # pumps are evenly spaced: this one or none
            if p >= 0 and abs(yc - pump_y[p]) > face_half:
                p = -1
            q = -1
            if p >= 0:
                prob, congener = _stick_probability(face, s, state[p], n_na[p], n_k[p],
                                                    p_stick, p_rebind)
                if prob > 0.0:
                    u, _ = uniforms(draw(kstick, i))
                    if u < prob:
                        scratch.prop_ion[start + cnt] = i
                        scratch.prop_pump[start + cnt] = p + congener * m
                        cnt += 1
            else:  # the pore covering yc is that of its bin or a neighbour (pores sorted)
                b = _bin(yc, ch_bins.shape[0], height)
                k0 = ch_bins[b] if b >= 0 else -1
                if k0 >= 0:
                    for k in range(max(k0 - 1, 0), min(k0 + 2, n_ch)):
                        if abs(yc - ch_y[k]) <= ch_half:
                            t = ch_type[k]
                            if (t & 1) == s and _conducts(t, ch_gate[k]):
                                u, _ = uniforms(draw(kchan, i))
                                direction = OUTWARD if face == INSIDE else INWARD
                                if u < ch_pass[t, direction]:
                                    q = k
                            break
            if q >= 0:  # through the pore: the rest of the step continues on the other side
                xe = _through_pore(face, xe, x_in, x_out, width)
                side[i] = OUTSIDE if face == INSIDE else INSIDE
                direction = OUTWARD if face == INSIDE else INWARD
                ch_part[c, (ch_type[q] >> 1) * CHP_GROUP_STRIDE + s * 2 + direction] += 1
                if tracer[i]:
                    ch_part[c, CHP_TRACER_OUT if face == INSIDE else CHP_TRACER_IN] += 1
            else:
                xe = _reflect(face, xe, x_in, x_out, width)
            x[i] = xe
            y[i] = _reflect_y(ye, height)
    return cnt


@njit(**JIT)
def _end_point(x0, y0, sigma, zx, zy, inside, width, x_in, x_out):
    """End ``(a, b)`` (µm) of the step ``sigma · (zx, zy)`` from ``(x0, y0)``, reflected at
    the far wall of the ion's compartment (``inside``: the inside one), and whether it
    reaches the compartment's membrane face. Selects only (vectorisable)."""
    a = x0 + sigma * zx
    b = y0 + sigma * zy
    a = -a if inside and a < 0.0 else a
    a = 2.0 * width - a if not inside and a > width else a
    return a, b, (a >= x_in if inside else a <= x_out)


@njit(**JIT)
def _free_moves(i0, i1, key, ions, par, xn, yn, flag):
    """Brownian steps of ions ``i0 <= i < i1`` from the normal deviates of ``draw(key, i)``
    by the ziggurat's fast path (:func:`~particles.rng.normal_pair_fast`), reflected at the
    box walls. An ion whose step stays in its compartment is moved. One that reaches its
    membrane face is left in place, flagged :data:`HIT` in ``flag`` (uint8, entry ``i - i0``)
    with its end point in ``xn``, ``yn`` (µm); one whose deviates need the slow path is left
    in place, flagged :data:`SLOW`. Bound ions and ions in the reservoir do not move (flag
    0). Selects, no branches, and indices from 0 over slices: the compiler vectorises the
    loop."""
    width, height = par[PAR_WIDTH], par[PAR_HEIGHT]
    x_in, x_out = par[PAR_X_IN], par[PAR_X_OUT]
    sigma_na, sigma_k = par[PAR_SIGMA + NA], par[PAR_SIGMA + K]
    x, y = ions.x[i0:i1], ions.y[i0:i1]
    species, side, bound = ions.species[i0:i1], ions.side[i0:i1], ions.bound[i0:i1]
    for j in range(i1 - i0):
        zx, zy, slow = normal_pair_fast(draw(key, i0 + j))
        sd = side[j]
        free = not bound[j] and sd != RESERVOIR
        sigma = sigma_na if species[j] == NA else sigma_k
        x0 = x[j]
        y0 = y[j]
        a, b, h = _end_point(x0, y0, sigma, zx, zy, sd == INSIDE, width, x_in, x_out)
        stay = free and not h and not slow
        xn[j] = a
        yn[j] = b
        flag[j] = (SLOW if slow else (HIT if h else 0)) if free else 0
        x[j] = a if stay else x0
        y[j] = _reflect_y(b, height) if stay else y0


@njit(**JIT)
def _through_pore(face, xn, x_in, x_out, width):
    """x (µm) after passing a pore from compartment ``face``: the overshoot beyond the face
    continues beyond the other face (reflected at the far wall, never into the membrane)."""
    if face == INSIDE:
        xn = x_out + (xn - x_in)
        if xn > width:
            xn = 2.0 * width - xn
        if xn <= x_out or xn > width:
            xn = 0.5 * (x_out + width)
        return xn
    xn = x_in - (x_out - xn)
    if xn < 0.0:
        xn = -xn
    if xn >= x_in or xn < 0.0:
        xn = x_in * 0.5
    return xn


@njit(**JIT)
def _reflect(face, xn, x_in, x_out, width):
    """x (µm) reflected at the membrane face of compartment ``face``; a far tail that would
    leave the compartment lands in its middle."""
    if face == INSIDE:
        xn = 2.0 * x_in - xn
        if xn >= x_in or xn < 0.0:
            xn = x_in * 0.5
        return xn
    xn = 2.0 * x_out - xn
    if xn <= x_out or xn > width:
        xn = 0.5 * (x_out + width)
    return xn


@njit(**JIT)
def _reflect_y(yn, height):
    """y (µm) reflected at the box's top and bottom walls (selects: vectorisable)."""
    yn = -yn if yn < 0.0 else (2.0 * height - yn if yn > height else yn)
    return 0.5 * height if yn < 0.0 or yn > height else yn


@njit(**JIT_PARALLEL)
def _move(seed, step, ions, pumps, channels, par, scratch):
    """Move every free ion one step; collect capture proposals per chunk; let ions through
    open channel pores.

    Args:
        seed, step: key of the counter-based random numbers.
        ions: :class:`~particles.layout.IonArrays`; ``x``, ``y`` (µm) and ``side`` are
            updated in place; ions on side RESERVOIR and bound ions do not move.
        pumps: :class:`~particles.layout.PumpArrays` (read only here).
        channels: :class:`~particles.layout.ChannelArrays` (read only).
        par: ``(N_PAR,)`` parameters: box and faces, ``PAR_SIGMA + species`` (rms step per
            axis ``sqrt(2 D dt)``, µm), ``PAR_P_STICK + P_STICK_*`` (sticking probability
            per crossing of an open face), pump face and pore half widths.
        scratch: :class:`~particles.layout.Scratch` (``rate`` holds this step's rebinding
            sticking probability). Chunk ``c`` writes its proposals at
            ``prop_ion/prop_pump[c·CHUNK : c·CHUNK + prop_count[c]]`` and its channel
            crossings in row ``c`` of ``ch_part``; ``ch_pass (N_CH_TYPES, 2)`` holds this
            step's passage probabilities per hit (``[:, INWARD]``, ``[:, OUTWARD]``).

    An ion that passes a pore changes ``side`` and continues the rest of its step on the
    other side (the pore is a short tunnel through the membrane). Fewer than
    :data:`PARALLEL_MIN_CHUNKS` chunks run serially, in the same chunk order.
    """
    n_chunks = (ions.x.shape[0] + CHUNK - 1) // CHUNK
    keys = (step_key(seed, STREAM_MOVE, step), step_key(seed, STREAM_MOVE_TAIL, step),
            step_key(seed, STREAM_STICK, step), step_key(seed, STREAM_CHANNEL, step))
    prop_count = scratch.prop_count
    if n_chunks < PARALLEL_MIN_CHUNKS:
        for c in range(n_chunks):
            prop_count[c] = _move_chunk(c, keys, ions, pumps, channels, par, scratch)
        return
    for c in prange(n_chunks):
        prop_count[c] = _move_chunk(c, keys, ions, pumps, channels, par, scratch)


@njit(**JIT)
def _accept(ions, pumps, par, scratch, counters):
    """Accept capture proposals in deterministic order (chunk, then ion index).

    A proposal is accepted if its pump still has an open site for the ion on that face; the
    ion becomes bound and is placed on the site (``PAR_X_MEM + PAR_SITE_DX[k]``,
    ``pump y + PAR_SITE_DY[k]``). Filling the last Na+ site of E1 moves the pump to E1_3NA,
    the last K+ site of E2P to E2P_2K. External Na+ rebinding and internal K+ binding undo a
    release: they count back the net ``C_NA_OUT`` / ``C_K_IN`` and the charge.
    """
    x, y, species, side, bound, tracer = ions
    prop_ion, prop_pump, prop_count = scratch.prop_ion, scratch.prop_pump, scratch.prop_count
    m = pumps.y.shape[0]
    state, n_na, n_k = pumps.state, pumps.n_na, pumps.n_k
    for c in range(prop_count.shape[0]):
        base = c * CHUNK
        for j in range(prop_count[c]):
            i = prop_ion[base + j]
            p = prop_pump[base + j] % m
            congener = prop_pump[base + j] >= m
            s = species[i]
            if side[i] == INSIDE:
                if not _open_inner(s, state[p], n_na[p], n_k[p]):
                    continue
                if s == NA:
                    k = n_na[p]
                    n_na[p] += 1
                    if n_na[p] == NA_SITES:
                        state[p] = E1_3NA
                    counters[C_NA_CAPTURED] += 1
                else:
                    k = NA_SITES + n_k[p]
                    n_k[p] += 1
                    counters[C_K_IN] -= 1
                    counters[C_CHARGE_OUT] += 1
            elif s == NA and not congener:
                if not _open_rebind(state[p], n_na[p], n_k[p]):
                    continue
                k = n_na[p]
                n_na[p] += 1
                counters[C_NA_OUT] -= 1
                counters[C_CHARGE_OUT] -= 1
                if tracer[i]:
                    counters[C_TRACER_EFFLUX] -= 1
                counters[C_K_CAPTURED] += 1
            else:
                if not _open_outer(state[p], n_na[p], n_k[p]):
                    continue
                k = NA_SITES + n_k[p]
                n_k[p] += 1
                if n_k[p] == K_SITES:
                    state[p] = E2P_2K
                counters[C_K_CAPTURED] += 1
            pumps.sites[p, k] = i
            bound[i] = True
            x[i] = par[PAR_X_MEM] + par[PAR_SITE_DX + k]
            y[i] = pumps.y[p] + par[PAR_SITE_DY + k]
