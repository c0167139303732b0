"""Slow NumPy reference of the move kernel (stumpy's ``naive.py`` habit).

It re-implements, independently of numba, the counter-based random numbers (SplitMix64,
ziggurat normals) and one Brownian step with reflection and capture proposals, so a test can
check that the numba kernel gives the same result on the same random numbers.
"""

from __future__ import annotations

import numpy as np

from particles.layout import STREAM_MOVE, STREAM_MOVE_TAIL, STREAM_STICK
from particles.rng import ZIG_FN, ZIG_KN, ZIG_LAYERS, ZIG_R, ZIG_WN

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z: int) -> int:
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def step_key(seed: int, stream: int, step: int) -> int:
    return mix((mix(seed ^ ((stream * GOLDEN) & MASK)) + step * GOLDEN) & MASK)


def draw(key: int, index: int) -> int:
    return mix((key + (index + 1) * GOLDEN) & MASK)


def uniforms(bits: int) -> tuple[float, float]:
    return ((bits >> 32) + 0.5) / 2**32, ((bits & 0xFFFFFFFF) + 0.5) / 2**32


def normal32(b: int, key: int, index: int) -> float:
    iz, hz = b % ZIG_LAYERS, (b >> 8) - (1 << 23)
    if abs(hz) < ZIG_KN[iz]:
        return hz * ZIG_WN[iz]
    j, base = 0, index * 64
    while True:
        x = hz * ZIG_WN[iz]
        if iz == 0:
            while True:
                u1, u2 = uniforms(draw(key, base + j))
                j += 1
                xx, yy = -np.log(u1) / ZIG_R, -np.log(u2)
                if yy + yy >= xx * xx:
                    break
            return ZIG_R + xx if hz > 0 else -ZIG_R - xx
        u1, _ = uniforms(draw(key, base + j))
        j += 1
        if ZIG_FN[iz] + u1 * (ZIG_FN[iz - 1] - ZIG_FN[iz]) < np.exp(-0.5 * x * x):
            return x
        b = draw(key, base + j) & 0xFFFFFFFF
        j += 1
        iz, hz = b % ZIG_LAYERS, (b >> 8) - (1 << 23)
        if abs(hz) < ZIG_KN[iz]:
            return hz * ZIG_WN[iz]


def move(x, y, species, side, bound, sigma, seed, step, width, height, x_in, x_out, pump_y,
         pump_state, pump_nna, pump_nk, face_half, p_stick, p_rebind=0.0):
    """One step for every ion; returns new (x, y) and the list of (ion, pump) proposals (a
    congener Na+ on the K+ sites proposes pump + m). ``p_stick`` in the ``P_STICK_*`` order
    (Na inner, K outer, Na congener, -, K inner); ``p_rebind``: external Na+ back on E2P's
    Na+ sites this step."""
    x, y = x.copy(), y.copy()
    m = len(pump_y)
    kmove, ktail = step_key(seed, STREAM_MOVE, step), step_key(seed, STREAM_MOVE_TAIL, step)
    kstick = step_key(seed, STREAM_STICK, step)
    proposals = []

    def inner(p, s):  # sticking probability at an inner face
        if pump_state[p] != 0:
            return 0.0
        if s == 0:
            return p_stick[0] if pump_nk[p] == 0 and pump_nna[p] < 3 else 0.0
        return p_stick[4] if pump_nna[p] == 0 and pump_nk[p] < 2 else 0.0

    def outer(p, s):  # (sticking probability, proposal) at an outer face
        if pump_state[p] != 3:
            return 0.0, p
        if s == 0 and pump_nk[p] == 0 and pump_nna[p] < 3:
            return p_rebind, p
        if pump_nna[p] == 0 and pump_nk[p] < 2:
            return (p_stick[2], p + m) if s == 0 else (p_stick[1], p)
        return 0.0, p

    def pump_at(yc):
        if m == 0 or yc < 0 or yc >= height:
            return -1
        p = min(int(yc * m / height), m - 1)
        return p if abs(yc - pump_y[p]) <= face_half else -1

    for i in range(len(x)):
        if bound[i] or side[i] == 2:
            continue
        bits = draw(kmove, i)
        z1 = normal32(bits & 0xFFFFFFFF, ktail, 2 * i)
        z2 = normal32(bits >> 32, ktail, 2 * i + 1)
        s = species[i]
        x0, y0 = x[i], y[i]
        xn, yn = x0 + sigma[s] * z1, y0 + sigma[s] * z2
        if side[i] == 0:
            xn = -xn if xn < 0 else xn
            if xn >= x_in:
                p = pump_at(y0 + (yn - y0) * (x_in - x0) / (xn - x0))
                if p >= 0 and inner(p, s) > 0:
                    if uniforms(draw(kstick, i))[0] < inner(p, s):
                        proposals.append((i, p))
                xn = 2 * x_in - xn
        else:
            xn = 2 * width - xn if xn > width else xn
            if xn <= x_out:
                p = pump_at(y0 + (yn - y0) * (x_out - x0) / (xn - x0))
                if p >= 0 and outer(p, s)[0] > 0:
                    prob, prop = outer(p, s)
                    if uniforms(draw(kstick, i))[0] < prob:
                        proposals.append((i, prop))
                xn = 2 * x_out - xn
        yn = -yn if yn < 0 else (2 * height - yn if yn > height else yn)
        x[i], y[i] = xn, yn
    return x, y, proposals
