"""PLACEHOLDER of the lead (replaced by the gating helper's module at merge)."""

from __future__ import annotations

import numpy as np

from .layout import KV_STATES, NAV_STATES
from .kernels.gating import _hh_rates


def _probabilities(kind: str, v_mV: float) -> np.ndarray:
    hh = np.zeros(6)
    _hh_rates(float(v_mV), 1.0, hh)
    m = hh[0] / (hh[0] + hh[1])
    h = hh[2] / (hh[2] + hh[3])
    n = hh[4] / (hh[4] + hh[5])
    from math import comb
    if kind == "nav":
        return np.array([comb(3, k) * m**k * (1 - m)**(3 - k) * (h if s >= 4 else 1 - h)
                         for s in range(NAV_STATES) for k in [s % 4]])
    return np.array([comb(4, k) * n**k * (1 - n)**(4 - k) for k in range(KV_STATES)])


def equilibrium_counts(kind: str, n: int, v_mV: float) -> np.ndarray:
    p = _probabilities(kind, v_mV)
    c = np.floor(p * n).astype(np.int64)
    c[np.argmax(p)] += n - c.sum()
    return c


def equilibrium_state(kind: str, v_mV: float, u: float) -> int:
    p = _probabilities(kind, v_mV)
    return int(min(np.searchsorted(np.cumsum(p), u), len(p) - 1))
