"""Counter-based random numbers: a pure function of (seed, stream, step, index).

Normal deviates use the ziggurat method (Marsaglia & Tsang 2000, J. Stat. Softw. 5(8)) with
256 layers; the layer index (8 bits) and the signed magnitude (24 bits) come from separate
bits (avoiding the correlation Doornik 2005 found in the original), and the rare slow path
(about 1.3 % of draws) takes further bits from ``draw(tail_key, index)`` with its own
counter, so it stays a pure function of (seed, step, ion) too. :func:`normal_pair_fast` is
the fast path alone, branch-free, for loops that vectorise (the move) and take
:func:`normal_pair` for the few pairs it flags: the deviates are the same bit for bit.

Every random number the simulation draws is ``hash(key(seed, stream, step) + (index + 1) · γ)``
with the SplitMix64 finaliser (Steele, Lea & Flood 2014) and γ the 64-bit golden ratio, so
results do not depend on thread count or on the order in which ions are visited, a NumPy
reference can reproduce any step exactly (``tests/reference.py``), and a checkpoint needs to
store only the step counter. Streams (``STREAM_*`` in :mod:`particles.layout`) separate
independent uses within one step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TO_UNIT = 1.0 / 4294967296.0  # 2**-32

ZIG_LAYERS = 256
ZIG_R = 3.6541528853610088
"""Start of the tail of the 256-layer ziggurat (Marsaglia & Tsang 2000)."""
_ZIG_V = 4.92867323399e-3  # area of each layer (Marsaglia & Tsang 2000)
_ZIG_BITS = 23  # magnitude bits besides the sign: 8 + 1 + 23 = 32


def _ziggurat_tables(layers: int = ZIG_LAYERS, bits: int = _ZIG_BITS):
    """Tables (KN int64, WN float64, FN float64) of the normal ziggurat, magnitudes of
    ``bits`` bits (Marsaglia & Tsang 2000, with m1 = 2**bits)."""
    dn = ZIG_R
    tn = dn
    vn = _ZIG_V
    m1 = float(2**bits)
    kn = np.zeros(layers, np.int64)
    wn = np.zeros(layers)
    fn = np.zeros(layers)
    q = vn / np.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[layers - 1] = dn / m1
    fn[0] = 1.0
    fn[layers - 1] = np.exp(-0.5 * dn * dn)
    for i in range(layers - 2, 0, -1):
        dn = np.sqrt(-2.0 * np.log(vn / dn + np.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = np.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


ZIG_KN, ZIG_WN, ZIG_FN = _ziggurat_tables()
_B8, _M8, _HALF = np.uint64(8), np.uint64(ZIG_LAYERS - 1), 1 << _ZIG_BITS


@njit(**JIT)
def mix(z):
    """SplitMix64 finaliser of a uint64 (bijective, well avalanched)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**JIT)
def step_key(seed, stream, step):
    """Key for all draws of one (seed, stream, step); ``seed``, ``stream``, ``step`` ≥ 0."""
    return mix(mix(np.uint64(seed) ^ (np.uint64(stream) * GOLDEN)) + np.uint64(step) * GOLDEN)


@njit(**JIT)
def draw(key, index):
    """64 random bits for entry ``index`` under ``key``."""
    return mix(key + (np.uint64(index) + np.uint64(1)) * GOLDEN)


@njit(**JIT)
def uniforms(bits):
    """Two uniforms in (0, 1) from the two 32-bit halves of ``bits``."""
    u1 = (np.float64(bits >> _S32) + 0.5) * _TO_UNIT
    u2 = (np.float64(bits & _LOW32) + 0.5) * _TO_UNIT
    return u1, u2


@njit(**JIT)
def _zig_slow(hz, iz, key, index):
    """Ziggurat slow path: wedge test or tail, drawing more bits from ``draw(key, ...)``."""
    j = np.uint64(0)
    base = np.uint64(index) * np.uint64(64)
    while True:
        x = hz * ZIG_WN[iz]
        if iz == 0:  # tail beyond ZIG_R (Marsaglia 1964)
            while True:
                u1, u2 = uniforms(draw(key, base + j))
                j += np.uint64(1)
                xx = -np.log(u1) / ZIG_R
                yy = -np.log(u2)
                if yy + yy >= xx * xx:
                    break
            return ZIG_R + xx if hz > 0 else -ZIG_R - xx
        u1, _ = uniforms(draw(key, base + j))
        j += np.uint64(1)
        if ZIG_FN[iz] + u1 * (ZIG_FN[iz - 1] - ZIG_FN[iz]) < np.exp(-0.5 * x * x):
            return x
        b = draw(key, base + j) & _LOW32
        j += np.uint64(1)
        iz = np.int64(b & _M8)
        hz = np.int64(b >> _B8) - _HALF
        if abs(hz) < ZIG_KN[iz]:
            return hz * ZIG_WN[iz]


@njit(**JIT)
def _fast_bits(b):
    """Layer index and signed magnitude of the ziggurat from 32 random bits ``b``, and
    whether they fall outside the layer's rectangle (the slow path is needed)."""
    iz = np.int64(b & _M8)
    hz = np.int64(b >> _B8) - _HALF
    return iz, hz, abs(hz) >= ZIG_KN[iz]


@njit(**JIT)
def normal32(b, key, index):
    """A standard normal from 32 random bits ``b`` (uint64 < 2**32); slow path keyed by
    ``(key, index)``."""
    iz, hz, slow = _fast_bits(b)
    if not slow:
        return hz * ZIG_WN[iz]
    return _zig_slow(hz, iz, key, index)


@njit(**JIT)
def normal_pair_fast(bits):
    """The pair of :func:`normal_pair` ``(bits, ...)`` by the ziggurat's fast path alone, and
    whether either deviate needs the slow path (about 2.6 % of pairs; then the pair is not
    :func:`normal_pair`'s and that must be called). No branches: a loop over entries that
    calls it vectorises (the move does, and handles the flagged entries afterwards)."""
    iz1, hz1, s1 = _fast_bits(bits & _LOW32)
    iz2, hz2, s2 = _fast_bits(bits >> _S32)
    return hz1 * ZIG_WN[iz1], hz2 * ZIG_WN[iz2], s1 | s2


@njit(**JIT)
def normal_pair(bits, key, index):
    """Two independent standard normals from 64 bits; ``(key, 2·index[+1])`` for slow paths."""
    i2 = np.uint64(index) * np.uint64(2)
    return (normal32(bits & _LOW32, key, i2),
            normal32(bits >> _S32, key, i2 + np.uint64(1)))


_INVERSION_MAX = 30.0  # binomial: inversion while n·min(p, 1−p) is below this


@njit(**JIT)
def binomial(n, p, key, index):
    """A Binomial(``n``, ``p``) deviate (int64), a pure function of (``key``, ``index``).

    Exact inversion while n·min(p, 1 − p) < 30: the CDF is walked from 0 with one uniform
    of ``draw(key, index)`` (32 bits: probabilities resolved to 2⁻³² ≈ 2.3e-10), for
    p > 1/2 as n − Binomial(n, 1 − p), so the walk is short (≈ n·min(p, 1 − p) terms) and
    (1 − p)ⁿ ≥ e⁻⁶⁰ never underflows. Above that, the normal approximation (the Langevin,
    diffusion limit of channel noise, as in Fox & Lu 1994): n·p + √(n·p(1 − p))·z rounded
    and clipped to [0, n], z by Box–Muller from the two uniforms of the same draw (its mean
    is exact, its variance n·p(1 − p) + 1/12, its skewness is dropped). n ≤ 0 or p ≤ 0
    give 0, p ≥ 1 gives n."""
    if n <= 0 or p <= 0.0:
        return np.int64(0)
    if p >= 1.0:
        return np.int64(n)
    flip = p > 0.5
    pp = 1.0 - p if flip else p
    u1, u2 = uniforms(draw(key, index))
    if n * pp < _INVERSION_MAX:
        ratio = pp / (1.0 - pp)
        f = np.exp(n * np.log1p(-pp))
        cdf = f
        k = 0
        while u1 > cdf and k < n:
            f *= ratio * (n - k) / (k + 1)
            k += 1
            cdf += f
    else:
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        k = int(np.rint(n * pp + np.sqrt(n * pp * (1.0 - pp)) * z))
        k = min(max(k, 0), n)
    return np.int64(n - k if flip else k)
