"""Channels: pores in the membrane that let one species through (MODEL.md §1, issue 4).

Four kinds, in the order of the kernel's ``CH_*`` codes: Na+ leak, K+ leak, voltage-gated
Na+ (Nav) and voltage-gated K+ (Kv). Leak pores are always open; gated pores open only
during an action potential (the ``action_potential`` event: Na+ gates for
``channels.nav_open_ms``, then K+ gates from ``channels.kv_delay_ms`` for
``channels.kv_open_ms``). An ion of the pore's species that reaches an open pore passes
with a probability per hit derived from the pore's passage rate per mM exactly as pump
capture is (MODEL.md §2, Andrews 2009): ``κ = rate / (h · 602214 · pore)`` and
``P = κ · sqrt(π dt / D)``, so the flux does not depend on dt. With
``channels.voltage_bias`` the membrane potential multiplies P by ``exp(∓V / 2V_T)``
(inward / outward), a symmetric single-barrier pore whose net flux vanishes at the
species' Nernst potential: ions flow down their electrochemical gradient.

This module holds the layout (:class:`Channels`) and the manual ``add_ions`` /
``remove_ions`` exchanges; the crossings themselves happen in :func:`particles.kernels._move`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import CHANNEL_KINDS, channel_bins, channel_kappas, channel_layout
from .layout import C_BATH_ADDED, C_BATH_REMOVED, INSIDE, N_CH_TYPES, RESERVOIR

KIND_NAMES = ("na_leak", "k_leak", "nav", "kv")
"""Names of the channel kinds, indexed by ``CH_*`` code (as in the scenario keys)."""


@dataclass
class Channels:
    """All channel pores (shape ``(n_ch,)`` unless noted).

    Attributes:
        y: pore centres along the membrane, µm, ascending (float64).
        type: ``CH_*`` code of each pore (int8).
        bins: ``(B,)`` int32 bin map used by the kernel to find a pore in O(1).
        half_um: half the pore width, µm.
        p0: ``(4,)`` passage probability per hit at V = 0 for each kind (from the scenario's
            rates per mM and dt).
    """

    y: np.ndarray
    type: np.ndarray
    bins: np.ndarray
    half_um: float
    p0: np.ndarray

    @classmethod
    def from_values(cls, values: dict) -> "Channels":
        ys, types = channel_layout(values)
        pore, H = values["channels.pore_um"], values["domain.height_um"]
        bins = channel_bins(ys, pore, H) if ys else np.zeros(0, np.int32)
        ch = cls(np.array(ys, np.float64), np.array(types, np.int8), bins, pore / 2,
                 np.zeros(N_CH_TYPES))
        ch.update(values)
        return ch

    def update(self, values: dict) -> None:
        """Recompute the passage probabilities at V = 0 from the scenario's current values."""
        dt = values["time.dt_ms"]
        for t, (kappa, (_, sp)) in enumerate(zip(channel_kappas(values), CHANNEL_KINDS)):
            self.p0[t] = kappa * math.sqrt(math.pi * dt / values[f"ions.{sp}.D"])

    def __len__(self) -> int:
        return self.y.shape[0]

    def count(self, kind: int) -> int:
        return int(np.count_nonzero(self.type == kind))


SPECIES_CODES = {"na": 0, "k": 1}
SIDE_CODES = {"inside": 0, "outside": 1}


def add_ions(sim, species: str, side: str, count: int) -> int:
    """Bring ``count`` free ions of ``species`` from the outside world into ``side``.

    The ions come from the reservoir (grown when short) and are placed uniformly at random in
    the compartment (random numbers from (seed, step), so runs stay reproducible). They are
    counted as added in ``bath_<species>_added``: a manual addition is an exchange with the
    outside world, so ``free + bound − added + removed`` stays constant. Returns the count."""
    s, where = SPECIES_CODES[species], SIDE_CODES[side]
    i, g = sim.ions, sim.geometry
    idx = np.nonzero((i.side == RESERVOIR) & (i.species == s))[0]
    if len(idx) < count:
        sim._append_reservoir(s, count - len(idx))
        i = sim.ions
        idx = np.nonzero((i.side == RESERVOIR) & (i.species == s))[0]
    idx = idx[:count]
    rng = np.random.default_rng([sim.seed, sim.step_index, 0xADD, s, where])
    lo, hi = (0.0, g.x_in_face) if where == INSIDE else (g.x_out_face, g.width_um)
    i.x[idx] = rng.uniform(lo, hi, count)
    i.y[idx] = rng.uniform(0.0, g.height_um, count)
    i.side[idx] = where
    i.bound[idx] = False
    i.tracer[idx] = False
    sim.counters[C_BATH_ADDED + s] += count
    return count


def remove_ions(sim, species: str, side: str, count: int) -> int:
    """Take up to ``count`` free ions of ``species`` out of ``side`` (chosen at random,
    reproducibly) into the reservoir, counted in ``bath_<species>_removed``. Returns the
    number removed (fewer when fewer are there)."""
    s, where = SPECIES_CODES[species], SIDE_CODES[side]
    i = sim.ions
    idx = np.nonzero((i.side == where) & (i.species == s) & ~i.bound)[0]
    rng = np.random.default_rng([sim.seed, sim.step_index, 0xDE1, s, where])
    k = min(count, len(idx))
    pick = np.sort(rng.choice(idx, size=k, replace=False)) if k else idx[:0]
    i.side[pick] = RESERVOIR
    i.tracer[pick] = False
    sim.counters[C_BATH_REMOVED + s] += k
    return k
