"""numba kernels: pure functions over a few grouped arrays (no Python objects).

One simulation step, in the order of :func:`advance` (the kernel entry, called by
:meth:`particles.simulation.Simulation.step`):

0. :mod:`~particles.kernels.gating`: the voltage-gated pores' Hodgkin-Huxley Markov chains
   take one step at V.
1. :mod:`~particles.kernels.motion` (parallel over chunks of ions): Brownian displacement,
   reflection at the walls and at the membrane, *proposals* of captures by pump faces, and
   passage through open channel pores of the ion's species.
2. Channel crossings reduced in chunk order; proposals accepted serially, in chunk then
   ion-index order, while the pump still has an open site (the first ion in index order
   wins, losers stay reflected).
3. :mod:`~particles.kernels.pumps` (serial over pumps): first-order conformational changes
   and release of bound ions as free particles beside the other face.
4. :mod:`~particles.kernels.population`: the rest of the membrane (its pumps and channels as
   counts per state), when the scenario has a cell area; then
   :mod:`~particles.kernels.membrane`: ATP, and V driven by the pump, channel, population
   and stimulus currents.
5. :mod:`~particles.kernels.ions`: the perfused bath's and the dialysis's exchanges.

The arrays come in the groups of :mod:`particles.layout` (``IonArrays``, ``PumpArrays``,
``ChannelArrays``, ``Scratch``) and the vectors ``par``, ``env``, ``bath_target``,
``counters`` with the slot layouts declared there. The private kernels (``_advance``,
``_move`` ...) take exactly those; the public functions below are what other modules and
tests call: each fixes its argument types, so every kernel has one compiled signature,
the same from a test as from the simulation (numba's on-disk cache then holds one entry
per kernel). Units: µm, ms, mM.
"""

from __future__ import annotations

import os

import numpy as np

from ..layout import (KV_STATES, N_CH_TYPES, N_CHP, N_COUNT, N_HH, N_RATE, N_RING, NAV_STATES,
                      ChannelArrays, IonArrays, PumpArrays, Scratch)
from .ions import _count, _label_tracer
from .motion import CHUNK, PARALLEL_MIN_CHUNKS, _move
from .population import _ring_matrix
from .pumps import _pump_transitions, _rates
from .step import _advance, _exchanges

OMP_WAIT_POLICY = "PASSIVE"
"""OpenMP wait policy of the parallel move's threads unless the environment sets one (read
when numba first loads its OpenMP layer, at the first parallel step). GNU OpenMP's default
spins between parallel regions: on a machine busy with other work a spinning thread holds a
core the other thread needs and each step's join waits for the scheduler (measured: 10⁵ ions
on 2 threads at load 8 on 2 cores, 3-8 M particle-steps/s spinning, 66-71 M passive, 24-30 M
on one thread). Results do not depend on it."""
os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)

__all__ = ["CHUNK", "PARALLEL_MIN_CHUNKS", "advance", "count", "exchanges",
           "label_tracer", "move", "pump_rates", "pump_transitions", "ring_matrix", "scratch"]


def scratch(n_ions: int) -> Scratch:
    """Fresh per-step scratch arrays for ``n_ions`` ions (:class:`~particles.layout.Scratch`)."""
    n_chunks = max((n_ions + CHUNK - 1) // CHUNK, 1)
    return Scratch(np.zeros(n_ions, np.int32), np.zeros(n_ions, np.int32),
                   np.zeros(n_chunks, np.int64), np.zeros(N_RATE),
                   np.zeros((N_CH_TYPES, 2)), np.zeros((n_chunks, N_CHP), np.int64),
                   np.zeros(N_HH), np.zeros((NAV_STATES, NAV_STATES)),
                   np.zeros((KV_STATES, KV_STATES)), np.zeros((N_RING, N_RING)),
                   np.zeros((N_RING, N_RING)),
                   np.zeros(N_RING, np.int64), np.zeros(N_RING, np.int64),
                   np.zeros(N_COUNT, np.int64), np.zeros(N_RATE))


def advance(nsteps: int, step0: int, seed: int, ions: IonArrays, pumps: PumpArrays,
            channels: ChannelArrays, par: np.ndarray, env: np.ndarray,
            bath_target: np.ndarray, counters: np.ndarray, scratch: Scratch) -> int:
    """Advance ``nsteps`` steps from step ``step0`` (see :func:`.step._advance`); returns the
    steps done, negated when the bath reservoir ran short in the last of them."""
    return int(_advance(int(nsteps), int(step0), int(seed), ions, pumps, channels, par, env,
                        bath_target, counters, scratch))


def move(seed: int, step: int, ions: IonArrays, pumps: PumpArrays, channels: ChannelArrays,
         par: np.ndarray, scratch: Scratch) -> None:
    """One move of every free ion (see :func:`.move._move`); ``scratch.ch_pass`` must hold
    the passage probabilities of this step (zeros: no pore passes)."""
    _move(int(seed), int(step), ions, pumps, channels, par, scratch)


def count(ions: IonArrays, out: np.ndarray | None = None) -> np.ndarray:
    """Ion counts ``(N_COUNT,)`` int64 in the ``COUNT_*`` layout, written into ``out`` if
    given."""
    if out is None:
        out = np.zeros(N_COUNT, np.int64)
    _count(ions, out)
    return out


def label_tracer(seed: int, step: int, fraction: float, ions: IonArrays) -> int:
    """Label each Na+ inside with probability ``fraction`` (random numbers of ``(seed,
    step)``); returns the number labelled."""
    return int(_label_tracer(int(seed), int(step), float(fraction), ions))


def exchanges(seed: int, step: int, ions: IonArrays, par: np.ndarray, env: np.ndarray,
              bath_target: np.ndarray, counters: np.ndarray) -> bool:
    """The perfused bath's and the dialysis's exchanges of step ``step``, as the step does
    them every ``PAR_BATH_EVERY`` steps (see :func:`.ions._bath_exchange`); False if the
    reservoir ran short."""
    return bool(_exchanges(int(seed), int(step), ions, par, env, bath_target, counters))


def pump_rates(par: np.ndarray, env: np.ndarray) -> np.ndarray:
    """The pump rates now, ``(N_RATE,)`` in the ``R_*`` layout (1/ms; ``R_STICK_REBIND`` is
    a probability): the values the step draws its transitions from."""
    out = np.zeros(N_RATE)
    _rates(par, env, out)
    return out


def pump_transitions(seed: int, step: int, ions: IonArrays, pumps: PumpArrays,
                     par: np.ndarray, rate: np.ndarray, counters: np.ndarray) -> None:
    """The pumps' first-order transitions of step ``step`` over ``par[PAR_DT]`` ms (see
    :func:`.pumps._pump_transitions`), at the rates ``rate`` (:func:`pump_rates`)."""
    _pump_transitions(int(seed), int(step), ions, pumps, par, rate, counters)


def ring_matrix(par: np.ndarray, env: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """The pump cycle's transition rates now, ``(N_RING, N_RING)`` (1/ms, from ring state i
    to j, the ouabain-blocked state last), at the population's concentrations in ``env``
    and the rates ``rate`` (:func:`pump_rates`)."""
    q = np.zeros((N_RING, N_RING))
    _ring_matrix(par, env, rate, q)
    return q
