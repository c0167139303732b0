"""Hodgkin-Huxley gating of the voltage-gated pores: rates, steady states, starts, steps.

The theory side of :mod:`particles.kernels.gating` (MODEL.md §4b): the rates α, β of
Hodgkin & Huxley 1952 scaled by Q10 from 6.3 °C, the steady states and time constants of
the gates, the stationary distribution of a pore's Markov chain (a product of binomials:
the gates are independent), and wrappers that call the kernels with fixed argument types
(one compiled signature each). Units: mV, °C, ms, rates in 1/ms.

Kinds: ``"nav"`` (states ``m + NAV_M_STATES·h``, open only in ``NAV_OPEN`` = m3h1) and
``"kv"`` (states n = 0..4, open only in ``KV_OPEN``).
"""

from __future__ import annotations

from math import comb

import numpy as np

from .kernels.gating import _gate_pores, _gating_matrices, _hh_rates, _population_step
from .layout import (HH_AH, HH_AM, HH_AN, HH_BH, HH_BM, HH_BN, KV_OPEN, KV_STATES, N_HH,
                     NAV_M_STATES, NAV_OPEN, NAV_STATES, STREAM_GATE, STREAM_POPULATION)
from .rng import step_key

Q10 = 3.0
"""Q10 of the gating rates (Hodgkin & Huxley 1952)."""
REFERENCE_C = 6.3
"""Temperature of Hodgkin & Huxley's rates (°C)."""
KINDS = ("nav", "kv")
#: States and the open state of each kind.
N_STATES = {"nav": NAV_STATES, "kv": KV_STATES}
OPEN_STATE = {"nav": NAV_OPEN, "kv": KV_OPEN}
_RATE_NAMES = {"alpha_m": HH_AM, "beta_m": HH_BM, "alpha_h": HH_AH, "beta_h": HH_BH,
               "alpha_n": HH_AN, "beta_n": HH_BN}


def q10_factor(temperature_C: float, q10: float = Q10, reference_C: float = REFERENCE_C) -> float:
    """The factor q10^((T − reference) / 10 °C) multiplying every rate at ``temperature_C``
    (°C); 1 at 6.3 °C, ≈ 29.2 at 37 °C."""
    return float(q10 ** ((temperature_C - reference_C) / 10.0))


def rate_vector(v_mV: float, temperature_C: float = REFERENCE_C) -> np.ndarray:
    """The six rates ``(N_HH,)`` 1/ms in the ``HH_*`` layout at ``v_mV`` (mV) and
    ``temperature_C`` (°C), as the kernels use them."""
    hh = np.zeros(N_HH)
    _hh_rates(float(v_mV), q10_factor(temperature_C), hh)
    return hh


def hh_rates(v_mV: float, temperature_C: float = REFERENCE_C) -> dict[str, float]:
    """The rates α_m, β_m, α_h, β_h, α_n, β_n (1/ms) at ``v_mV`` (mV) and ``temperature_C``
    (°C), keyed ``alpha_m`` ... ``beta_n``."""
    hh = rate_vector(v_mV, temperature_C)
    return {name: float(hh[slot]) for name, slot in _RATE_NAMES.items()}


def steady_state(v_mV: float) -> tuple[float, float, float]:
    """(m∞, h∞, n∞) at ``v_mV`` (mV): x∞ = α_x / (α_x + β_x), independent of temperature."""
    hh = rate_vector(v_mV)
    return tuple(float(hh[a] / (hh[a] + hh[b]))
                 for a, b in ((HH_AM, HH_BM), (HH_AH, HH_BH), (HH_AN, HH_BN)))


def time_constants(v_mV: float, temperature_C: float = REFERENCE_C) -> tuple[float, float, float]:
    """(τ_m, τ_h, τ_n) in ms at ``v_mV`` (mV) and ``temperature_C`` (°C): τ_x = 1 / (α_x +
    β_x)."""
    hh = rate_vector(v_mV, temperature_C)
    return tuple(float(1.0 / (hh[a] + hh[b]))
                 for a, b in ((HH_AM, HH_BM), (HH_AH, HH_BH), (HH_AN, HH_BN)))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"gating kind must be one of {', '.join(KINDS)}, not {kind!r}")


def _binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(k of ``n`` independent gates open), k = 0..n, each open with probability ``p``."""
    return np.array([comb(n, k) * p ** k * (1.0 - p) ** (n - k) for k in range(n + 1)])


def state_probabilities(kind: str, v_mV: float) -> np.ndarray:
    """Stationary probability of each state of a pore of ``kind`` at ``v_mV`` (mV), ``(S,)``
    in the state-code layout: for Nav Binomial(3, m∞)(m)·(h∞ or 1 − h∞), for Kv
    Binomial(4, n∞)(n)."""
    _check_kind(kind)
    m_inf, h_inf, n_inf = steady_state(v_mV)
    if kind == "kv":
        return _binomial_pmf(KV_STATES - 1, n_inf)
    pm = _binomial_pmf(NAV_M_STATES - 1, m_inf)
    return np.concatenate([pm * (1.0 - h_inf), pm * h_inf])


def open_probability(kind: str, v_mV: float) -> float:
    """Stationary open probability at ``v_mV`` (mV): m∞³h∞ for ``"nav"``, n∞⁴ for ``"kv"``."""
    _check_kind(kind)
    m_inf, h_inf, n_inf = steady_state(v_mV)
    return m_inf ** 3 * h_inf if kind == "nav" else n_inf ** 4


def equilibrium_counts(kind: str, n: int, v_mV: float) -> np.ndarray:
    """``n`` pores of ``kind`` shared among the states at their stationary probabilities at
    ``v_mV`` (mV): ``(S,)`` int64 summing to ``n`` (largest remainders get the leftover)."""
    p = state_probabilities(kind, v_mV) * int(n)
    counts = np.floor(p).astype(np.int64)
    short = int(n) - int(counts.sum())
    counts[np.argsort(counts - p, kind="stable")[:short]] += 1
    return counts


def equilibrium_state(kind: str, v_mV: float, u: float) -> int:
    """The state code of a pore of ``kind`` drawn from its stationary distribution at
    ``v_mV`` (mV) by the uniform ``u`` in [0, 1) (inversion of the cumulative)."""
    cdf = np.cumsum(state_probabilities(kind, v_mV))
    return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), cdf.size - 1))


def gating_matrices(v_mV: float, temperature_C: float = REFERENCE_C
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Transition rates (1/ms) from state i to state j at ``v_mV`` (mV) and
    ``temperature_C`` (°C): ``q_nav (NAV_STATES, NAV_STATES)``, ``q_kv (KV_STATES,
    KV_STATES)`` (see :func:`particles.kernels.gating._gating_matrices`)."""
    q_nav = np.zeros((NAV_STATES, NAV_STATES))
    q_kv = np.zeros((KV_STATES, KV_STATES))
    _gating_matrices(rate_vector(v_mV, temperature_C), q_nav, q_kv)
    return q_nav, q_kv


def gate_pores(seed: int, step: int, dt_ms: float, q_nav: np.ndarray, q_kv: np.ndarray,
               ch_type: np.ndarray, gate: np.ndarray) -> None:
    """One gating step of ``dt_ms`` for the pores ``ch_type (n_ch,)`` int8 with states
    ``gate (n_ch,)`` int8 (in place), random numbers of ``(seed, STREAM_GATE, step)`` (see
    :func:`particles.kernels.gating._gate_pores`)."""
    key = step_key(int(seed), STREAM_GATE, int(step))
    _gate_pores(np.uint64(key), float(dt_ms), q_nav, q_kv, ch_type, gate)


def population_step(seed: int, step: int, index0: int, dt_ms: float, q: np.ndarray,
                    counts: np.ndarray) -> None:
    """One step of ``dt_ms`` for a population kept as ``counts (S,)`` int64 (in place) with
    rates ``q (S, S)`` (1/ms), random numbers of ``(seed, STREAM_POPULATION, step)`` at the
    indices from ``index0`` (see :func:`particles.kernels.gating._population_step`)."""
    key = step_key(int(seed), STREAM_POPULATION, int(step))
    _population_step(np.uint64(key), int(index0), float(dt_ms), q, counts,
                     np.zeros(counts.shape[0], np.int64))
