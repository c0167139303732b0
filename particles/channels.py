"""Channels: pores in the membrane that let one species through (MODEL.md §1, issue 4).

Four kinds, in the order of :class:`~particles.layout.ChannelType`: Na+ leak, K+ leak,
voltage-gated Na+ (Nav) and voltage-gated K+ (Kv). Leak pores are always open. Each gated
pore is a stochastic agent with Hodgkin-Huxley gating as a Markov chain (Nav m³h: 8 states,
Kv n⁴: 5 states; MODEL.md §4b, :mod:`particles.kernels.gating`) stepped at the membrane
potential every step; it conducts only in its open state (m3h1, n4). An ion of the pore's species that reaches an open pore passes
with a probability per hit derived from the pore's passage rate per mM exactly as pump
capture is (MODEL.md §2, Andrews 2009): ``κ = rate / (h · 602214 · pore)`` and
P from κ, dt and D by :func:`~particles.physics.sticking_probability`, so the flux does not
depend on dt. With
``channels.voltage_bias`` the membrane potential multiplies P by ``exp(∓V / 2V_T)``
(inward / outward), a symmetric single-barrier pore whose net flux vanishes at the
species' Nernst potential: ions flow down their electrochemical gradient.

This module holds the pores (:class:`Channels`); the crossings themselves happen in the move
(:mod:`particles.kernels.motion`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .physics import (CHANNEL_KINDS, channel_bins, channel_kappas, channel_layout,
                      sticking_probability)
from .gating import equilibrium_state
from .layout import KV_OPEN, N_CH_TYPES, NAV_OPEN, ChannelArrays, ChannelType


@dataclass
class Channels:
    """All channel pores (shape ``(n_ch,)`` unless noted).

    Attributes:
        y: pore centres along the membrane, µm, ascending (float64).
        type: :class:`~particles.layout.ChannelType` code of each pore (int8).
        bins: ``(B,)`` int32 bin map used by the kernel to find a pore in O(1).
        half_um: half the pore width, µm.
        p0: ``(N_CH_TYPES,)`` passage probability per hit at V = 0 for each kind (from the
            scenario's rates per mM and dt).
        gate: gating state of each pore (int8; ``NAV_*``/``KV_*`` codes of
            :mod:`particles.layout`, 0 for leak pores).
    """

    y: np.ndarray
    type: np.ndarray
    bins: np.ndarray
    half_um: float
    p0: np.ndarray
    gate: np.ndarray

    @classmethod
    def from_values(cls, values: dict, seed: int = 0) -> "Channels":
        """The scenario's pores; gated ones start in a state drawn from their equilibrium at
        ``membrane.v_initial_mV`` (random numbers of ``seed``)."""
        ys, types = channel_layout(values)
        pore, H = values["channels.pore_um"], values["domain.height_um"]
        bins = channel_bins(ys, pore, H) if ys else np.zeros(0, np.int32)
        types = np.array(types, np.int8)
        gate = np.zeros(len(types), np.int8)
        u = np.random.default_rng([seed, 0x6A7E]).uniform(size=len(types))
        v0 = values["membrane.v_initial_mV"]
        for q, t in enumerate(types):
            if t in (ChannelType.NAV, ChannelType.KV):
                gate[q] = equilibrium_state("nav" if t == ChannelType.NAV else "kv", v0, u[q])
        ch = cls(np.array(ys, np.float64), types, bins, pore / 2, np.zeros(N_CH_TYPES), gate)
        ch.update(values)
        return ch

    def update(self, values: dict) -> None:
        """Recompute the passage probabilities at V = 0 from the scenario's current values."""
        dt = values["time.dt_ms"]
        for t, (kappa, (_, sp)) in enumerate(zip(channel_kappas(values), CHANNEL_KINDS)):
            self.p0[t] = sticking_probability(kappa, dt, values[f"ions.{sp}.D"])

    def __len__(self) -> int:
        return self.y.shape[0]

    def count(self, kind: int) -> int:
        """Number of pores of :class:`~particles.layout.ChannelType` ``kind``."""
        return int(np.count_nonzero(self.type == kind))

    def kernel_arrays(self) -> ChannelArrays:
        """The arrays as the kernels take them (same objects, no copy)."""
        return ChannelArrays(self.y, self.type, self.bins, self.p0, self.gate)

    def conducting(self) -> np.ndarray:
        """``(n_ch,)`` bool: which pores conduct now (leak pores always; Nav in m3h1, Kv in
        n4)."""
        nav, kv = self.type == ChannelType.NAV, self.type == ChannelType.KV
        return ~(nav | kv) | (nav & (self.gate == NAV_OPEN)) | (kv & (self.gate == KV_OPEN))
