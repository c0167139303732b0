"""Reference: the well-mixed master equation of one pump's reversible cycle (issue 13).

The cycle of :func:`particles.energetics.cycle_rates` is a ring of N states, step j leading
from state j to state j+1 (mod N) at rate ``k+_j`` and back at ``k-_j``. Its generator
matrix Q (``Q[i, j]`` the rate from j to i, columns summing to zero) has a one-dimensional
null space: the steady-state probabilities. The turnover is the net flux through any step.
"""

from __future__ import annotations

import numpy as np


def generator(pairs: list[tuple[float, float]]) -> np.ndarray:
    """The ``(N, N)`` generator of a ring with forward/backward rates ``pairs`` (1/ms)."""
    n = len(pairs)
    q = np.zeros((n, n))
    for j, (kf, kb) in enumerate(pairs):
        nxt = (j + 1) % n
        q[nxt, j] += kf
        q[j, j] -= kf
        q[j, nxt] += kb
        q[nxt, nxt] -= kb
    return q


def steady_state(pairs: list[tuple[float, float]]) -> np.ndarray:
    """Steady-state probabilities ``(N,)`` of the ring (exact: least squares on Q p = 0
    with Σp = 1, full rank)."""
    q = generator(pairs)
    a = np.vstack([q, np.ones(len(pairs))])
    b = np.zeros(len(pairs) + 1)
    b[-1] = 1.0
    p, *_ = np.linalg.lstsq(a, b, rcond=None)
    return p


def turnover(pairs: list[tuple[float, float]]) -> float:
    """Net cycles per ms of one pump: ``p_j k+_j − p_{j+1} k-_j`` (the same for every j)."""
    p = steady_state(pairs)
    kf, kb = pairs[0]
    return float(p[0] * kf - p[1] * kb)
