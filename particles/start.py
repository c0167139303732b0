"""The patch's pumps at the start of a run (issue 15): empty in E1, or at their cycle's
steady state (``pumps.start_steady``).

At the steady state each pump's place on the cycle is drawn from the steady-state
occupancy of the ring of 14 states (:func:`particles.energetics.steady_state` of
:func:`particles.kernels.ring_matrix` at the starting concentrations, ATP, ADP, Pi and V:
the rates the rest of the membrane's pumps start from, :mod:`particles.population`), and
the ions it holds are real particles taken from the compartment they would have come from:
Na+ from inside (captured by E1), K+ from outside (captured by E2P). They keep that
compartment as their side until released, as a captured ion does, so every ion is counted
once and the run conserves ions exactly. The draw uses its own random stream of the seed,
so a run is reproducible from the seed and a checkpoint continues it unchanged.
"""

from __future__ import annotations

import numpy as np

from .config import ScenarioError
from .energetics import steady_state
from .kernels import pump_rates, ring_matrix
from .layout import (BLOCKED, E1, E1_3NA, E1P_3NA, E2_2K, E2P, E2P_2K, INSIDE, K, N_RING,
                     NA, NA_SITES, OUTSIDE, PAR_SITE_DX, PAR_SITE_DY, PAR_X_MEM)
from .state import Ions, Pumps

#: Each ring state (:data:`particles.layout.RING_STATES` order, the ouabain-blocked state
#: last) as the agents hold it: (pump state, Na+ on the Na+ sites, K+ on the K+ sites).
RING_AGENT_STATES = (
    (E1, 0, 0), (E1, 1, 0), (E1, 2, 0), (E1_3NA, 3, 0), (E1P_3NA, 3, 0),
    (E2P, 3, 0), (E2P, 2, 0), (E2P, 1, 0), (E2P, 0, 0), (E2P, 0, 1), (E2P_2K, 0, 2),
    (E2_2K, 0, 2), (E1, 0, 2), (E1, 0, 1), (BLOCKED, 0, 0),
)

#: Seed suffix of the starting-state stream (independent of the placement's and the kernels').
STREAM_START = 0x57A7


def steady_occupancy(par: np.ndarray, env: np.ndarray) -> np.ndarray:
    """Steady-state probability of each ring state for one pump, ``(N_RING,)``, at the
    rates ``par`` and the concentrations, nucleotides and V of ``env``."""
    return steady_state(ring_matrix(par, env, pump_rates(par, env)))


def fill_steady(pumps: Pumps, ions: Ions, par: np.ndarray, env: np.ndarray, seed: int,
                source: str = "scenario") -> None:
    """Put every pump at a place on its cycle drawn from the steady-state occupancy, holding
    free ions of the right species and compartment (in place).

    Args:
        pumps: the patch's pumps, all empty in E1.
        ions: all ions; the ones taken are marked bound and placed on their sites.
        par, env: the kernel's parameter and environment vectors at the start.
        seed: the run's seed.
        source: the scenario's file, named in errors.

    Raises:
        ScenarioError: a compartment holds fewer free ions than the pumps would hold.
    """
    m = len(pumps)
    if m == 0:
        return
    rng = np.random.default_rng([seed, STREAM_START])
    ring = rng.choice(N_RING, size=m, p=steady_occupancy(par, env))
    held = np.array([RING_AGENT_STATES[r] for r in ring], dtype=np.int8).reshape(m, 3)
    pumps.state[:], pumps.n_na[:], pumps.n_k[:] = held[:, 0], held[:, 1], held[:, 2]
    for species, side, first, n in ((NA, INSIDE, 0, pumps.n_na), (K, OUTSIDE, NA_SITES,
                                                                   pumps.n_k)):
        free = np.flatnonzero((ions.species == species) & (ions.side == side) & ~ions.bound)
        need = int(n.sum())
        if need > len(free):
            raise ScenarioError(source, "pumps.start_steady", f"the pumps would hold {need} "
                                f"{'Na+' if species == NA else 'K+'} but the "
                                f"{'inside' if side == INSIDE else 'outside'} has {len(free)}")
        taken = iter(rng.choice(free, size=need, replace=False))
        for p in range(m):
            for k in range(first, first + int(n[p])):
                i = next(taken)
                pumps.sites[p, k] = i
                ions.bound[i] = True
                ions.x[i] = par[PAR_X_MEM] + par[PAR_SITE_DX + k]
                ions.y[i] = pumps.y[p] + par[PAR_SITE_DY + k]
