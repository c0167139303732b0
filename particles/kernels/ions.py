"""Kernels over the whole ion population: counting, tracer labelling, bath exchanges."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import (COUNT_BOUND, COUNT_FREE, COUNT_TRACER_IN, INSIDE, N_SPECIES, NA, RESERVOIR,
                      STREAM_BATH, STREAM_BATH_COUNT, K)
from ..rng import draw, step_key, uniforms

@njit(**JIT)
def _count(ions, out):
    """Count ions into ``out`` (int64, shape ``(N_COUNT,)``, ``COUNT_*`` layout): free ions
    by species and side, bound ions by species, labelled Na+ on the inside (free, or bound
    but not yet released outside). Serial: it runs once per sample, and a thread wake-up
    would cost more."""
    out[:] = 0
    for i in range(ions.species.shape[0]):
        sd = ions.side[i]
        if sd == RESERVOIR:
            continue
        s = ions.species[i]
        if ions.bound[i]:
            out[COUNT_BOUND + s] += 1
        else:
            out[COUNT_FREE + 2 * s + sd] += 1
        if ions.tracer[i] and sd == INSIDE:
            out[COUNT_TRACER_IN] += 1


@njit(**JIT)
def _dithered(mean, u):
    """floor(mean), plus one when the uniform ``u`` < frac(mean): a whole number whose
    average is ``mean`` (>= 0)."""
    whole = np.int64(math.floor(mean))
    return whole + 1 if u < mean - whole else whole


@njit(**JIT)
def _bath_exchange(seed, step, ions, zone_side, zone_lo, zone_hi, height, target, counters,
                   counter_base):
    """Clamp a far-field zone: replace every free ion of compartment ``zone_side`` with
    ``zone_lo < x < zone_hi`` (µm) by fresh unlabelled ions from the reservoir, on average
    ``target[s]`` of each species ``s`` (a real number: c · zone volume) at random places in
    the zone. The whole number put in is floor(target) plus one with probability
    frac(target), so that a zone meant to hold 1.5 ions holds 1.5 on average rather than a
    rounded 2 (which at sub-mM concentrations would raise them by a third). Removed ions are
    parked in the reservoir (side RESERVOIR). Used for the perfused bath (outside) and for
    internal dialysis (inside, Brinley & Mullins 1967).

    ``counters[counter_base + s]`` counts ions added, ``counters[counter_base + N_SPECIES + s]``
    ions
    removed (an exchange block of :mod:`particles.layout`), so that free + bound − added +
    removed stays constant per species. Returns False if the reservoir ran short of a
    species (the zone then holds fewer ions until the next exchange; the caller grows the
    reservoir).
    """
    x, y, species, side, bound, tracer = ions
    n = x.shape[0]
    for i in range(n):
        if side[i] == zone_side and not bound[i] and zone_lo < x[i] < zone_hi:
            side[i] = RESERVOIR
            tracer[i] = False
            counters[counter_base + N_SPECIES + species[i]] += 1
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
def _label_tracer(seed, step, fraction, ions):
    """Label each Na+ on the inside (free or bound) with probability ``fraction``; returns
    the number labelled."""
    key = step_key(seed, STREAM_BATH, step)
    labelled = 0
    for i in range(ions.species.shape[0]):
        if ions.species[i] == NA and ions.side[i] == INSIDE and not ions.tracer[i]:
            u, _ = uniforms(draw(key, i))
            if u < fraction:
                ions.tracer[i] = True
                labelled += 1
    return labelled
