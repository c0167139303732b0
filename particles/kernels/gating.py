"""PLACEHOLDER of the lead (replaced by the gating helper's module at merge)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import JIT
from ..layout import CH_KV, CH_NAV
from ..rng import draw, uniforms


@njit(**JIT)
def _hh_rates(v, phi, hh):
    x = v + 40.0
    hh[0] = 1.0 if abs(x) < 1e-6 else 0.1 * x / (1.0 - np.exp(-x / 10.0))
    hh[1] = 4.0 * np.exp(-(v + 65.0) / 18.0)
    hh[2] = 0.07 * np.exp(-(v + 65.0) / 20.0)
    hh[3] = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    x = v + 55.0
    hh[4] = 0.1 if abs(x) < 1e-6 else 0.01 * x / (1.0 - np.exp(-x / 10.0))
    hh[5] = 0.125 * np.exp(-(v + 65.0) / 80.0)
    for i in range(6):
        hh[i] *= phi


@njit(**JIT)
def _gating_matrices(hh, q_nav, q_kv):
    q_nav[:] = 0.0
    q_kv[:] = 0.0
    for h in range(2):
        for m in range(4):
            s = m + 4 * h
            if m < 3:
                q_nav[s, s + 1] = (3 - m) * hh[0]
            if m > 0:
                q_nav[s, s - 1] = m * hh[1]
            if h == 0:
                q_nav[s, s + 4] = hh[2]
            else:
                q_nav[s, s - 4] = hh[3]
    for n in range(5):
        if n < 4:
            q_kv[n, n + 1] = (4 - n) * hh[4]
        if n > 0:
            q_kv[n, n - 1] = n * hh[5]


@njit(**JIT)
def _gate_pores(key, dt, q_nav, q_kv, ch_type, gate):
    for q in range(ch_type.shape[0]):
        t = ch_type[q]
        if t == CH_NAV:
            qq = q_nav
        elif t == CH_KV:
            qq = q_kv
        else:
            continue
        s = gate[q]
        r = 0.0
        for j in range(qq.shape[0]):
            r += qq[s, j]
        u1, u2 = uniforms(draw(key, q))
        if u1 < 1.0 - np.exp(-r * dt):
            acc = 0.0
            for j in range(qq.shape[0]):
                acc += qq[s, j]
                if u2 * r < acc:
                    gate[q] = j
                    break


@njit(**JIT)
def _binom(n, p, key, index):
    if n <= 0 or p <= 0.0:
        return 0
    mean = n * p
    u1, u2 = uniforms(draw(key, index))
    if mean > 30.0:
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)
        k = np.int64(np.floor(mean + z * np.sqrt(mean * (1 - p)) + 0.5))
        return min(max(k, 0), n)
    pk = (1.0 - p) ** n
    c = pk
    k = 0
    while u1 > c and k < n:
        pk *= (n - k) / (k + 1) * p / (1 - p)
        k += 1
        c += pk
    return k


@njit(**JIT)
def _population_step(key, index0, dt, q, counts, delta):
    S = counts.shape[0]
    delta[:] = 0
    for s in range(S):
        r = 0.0
        for j in range(S):
            r += q[s, j]
        if counts[s] == 0 or r <= 0.0:
            continue
        left = _binom(counts[s], 1.0 - np.exp(-r * dt), key, index0 + s * S + S)
        rem = r
        for j in range(S):
            if left == 0:
                break
            if q[s, j] <= 0.0:
                continue
            k = left if q[s, j] >= rem else _binom(left, q[s, j] / rem, key, index0 + s * S + j)
            rem -= q[s, j]
            left -= k
            delta[s] -= k
            delta[j] += k
    for s in range(S):
        counts[s] += delta[s]
