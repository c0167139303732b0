"""The rest of the membrane at the start of a run (issue 14): its channels at their
equilibrium at the initial potential (whole numbers) and its pumps at the cycle's steady
state (numbers of pumps per state, a master equation: see
:mod:`particles.kernels.population`).

The kernel (:mod:`particles.kernels.population`) advances these counts; this module only
fills them in ``env`` (``ENV_POP + POP_*``) when a run starts.
"""

from __future__ import annotations

import numpy as np

from .energetics import steady_state
from .gating import equilibrium_counts
from .layout import ENV_POP, ENV_V, N_RING, POP_KV, POP_NAV, POP_PUMP
from .kernels import pump_rates, ring_matrix
from .physics import population_scale


def fill(env: np.ndarray, par: np.ndarray, values: dict, n_pumps: int) -> None:
    """Put the rest of the membrane's starting counts in ``env`` (in place): Nav and Kv
    channels at equilibrium at ``env[ENV_V]``, pumps at the steady state of their cycle
    (with ouabain if the bath has it) at the starting concentrations; nothing without a
    cell area."""
    scale = population_scale(values, n_pumps)
    env[ENV_POP:] = 0.0
    if scale <= 0:
        return
    v = float(env[ENV_V])
    for kind, slot in (("nav", POP_NAV), ("kv", POP_KV)):
        n = int(round(scale * values[f"channels.{kind}_count"]))
        c = equilibrium_counts(kind, n, v)
        env[ENV_POP + slot:ENV_POP + slot + len(c)] = c
    q = ring_matrix(par, env, pump_rates(par, env))
    env[ENV_POP + POP_PUMP:ENV_POP + POP_PUMP + N_RING] = steady_state(q) * scale * n_pumps
