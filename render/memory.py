"""What happened between two frames, found by comparing the pumps with the previous frame.

The simulation does not report single events to the renderer; :class:`FrameMemory` keeps the
pump sites, states and net cycle counts of the last frame drawn and turns their differences
into short-lived marks: a flash when an ion leaves a pump, ADP when a pump phosphorylates, P
when it dephosphorylates, ATP when it makes ATP (phosphorylation run backwards), a reversed
arrow when it completes a cycle backwards, and the state history of the followed pump. The
memory evolves with the frames drawn, so the same frames in give the same pixels out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from particles.layout import PumpState, Side

from .style import P_MARK, PUMP_STYLES, site_position


@dataclass
class Flash:
    """An ion released by a pump (drawn for a moment at the pump's mouth)."""

    pump: int
    dy: float            # site offset along the membrane, in face heights
    born: int            # frame index
    species: int
    outward: bool        # released to the outside


@dataclass
class Reversal:
    """A pump that completed a whole cycle backwards (drawn for a moment as a reversed
    arrow)."""

    pump: int
    born: int            # frame index


@dataclass
class Puff:
    """A small label drifting away from a pump: ADP, P (phosphate)."""

    pump: int
    born: int
    text: str
    color: tuple


def _per_state(flag) -> np.ndarray:
    """A boolean per state code, for indexing with ``Pumps.state``."""
    return np.array([flag(PUMP_STYLES[s]) for s in sorted(PumpState)])


#: Pumps that can take up ATP (inward-open, not phosphorylated).
_INWARD = _per_state(lambda st: st.pocket == "inward")
#: Pumps carrying their phosphate (an ouabain-locked pump keeps it: no puff).
_PHOSPHO = _per_state(lambda st: st.phosphorylated and not st.blocked)
_BLOCKED = _per_state(lambda st: st.blocked)

FLASH_S = 0.9   # how long a release flash lasts (s of playback)
PUFF_S = 1.2    # how long an ADP or P label drifts (s)
REVERSAL_S = 1.5  # how long the reversed arrow of a backward cycle lasts (s)
MAX_FLASHES = 400
MAX_HISTORY = 400


class FrameMemory:
    """The renderer's memory of the frames drawn.

    Attributes:
        frame: index of the next frame to draw.
        flashes: releases still shown, oldest first.
        puffs: ADP, P and ATP labels still shown.
        reversals: pumps that completed a cycle backwards, still shown.
        history: (time_ms, state) changes of the followed pump, oldest first.
        history_pump: the pump ``history`` belongs to (-2: none yet).
    """

    def __init__(self):
        self.frame = 0
        self._sites: np.ndarray | None = None
        self._state: np.ndarray | None = None
        self.flashes: list[Flash] = []
        self.puffs: list[Puff] = []
        self.reversals: list[Reversal] = []
        self._low: np.ndarray | None = None
        self._high: np.ndarray | None = None
        self.history: list[tuple[float, int]] = []
        self.history_pump = -2

    def forget_history(self) -> None:
        """Start the followed pump's history afresh (a new pump is followed)."""
        self.history = []
        self.history_pump = -2

    def update(self, sim, fps: float, follow: int) -> None:
        """Compare ``sim``'s pumps with the last frame's; add and expire marks.

        Args:
            sim: the simulation about to be drawn (read only).
            fps: frames per second of playback (marks last a fixed playback time).
            follow: index of the followed pump, -1 for none.
        """
        p = sim.pumps
        sites, state = p.sites, p.state
        if self._sites is not None and self._sites.shape == sites.shape:
            self._note_releases(sim, sites)
            self._note_phosphate(state)
        self._note_cycles(p.cycles)
        self._sites = sites.copy()
        self._state = state.copy()
        life = int(FLASH_S * fps) + 1
        self.flashes = [f for f in self.flashes if self.frame - f.born < life][-MAX_FLASHES:]
        self.reversals = [r for r in self.reversals
                          if self.frame - r.born < int(REVERSAL_S * fps) + 1 and r.pump < len(p)]
        self.puffs = [q for q in self.puffs if self.frame - q.born < int(PUFF_S * fps) + 1
                      and q.pump < len(p)]
        if 0 <= follow < len(p):
            self._note_history(sim.time_ms, follow, int(state[follow]))

    def _note_releases(self, sim, sites: np.ndarray) -> None:
        """A flash for every ion that left a site and is free in the world."""
        ions = sim.ions
        gone = (self._sites >= 0) & (self._sites != sites)
        for i, j in zip(*np.nonzero(gone)):
            ion = int(self._sites[i, j])
            if ion >= len(ions) or ions.bound[ion] or ions.side[ion] == Side.RESERVOIR:
                continue
            self.flashes.append(Flash(int(i), site_position(int(j))[1], self.frame,
                                      int(ions.species[ion]),
                                      bool(ions.side[ion] == Side.OUTSIDE)))

    def _note_phosphate(self, state: np.ndarray) -> None:
        """ADP leaves a pump that phosphorylates; P leaves one that dephosphorylates; ATP
        leaves one whose phosphorylation runs backwards (ADP taken up, ATP made:
        E1P(3Na) -> E1·3Na)."""
        prev = self._state
        phos = _PHOSPHO[state]
        for i in np.nonzero(_INWARD[prev] & phos)[0]:
            self.puffs.append(Puff(int(i), self.frame, "ADP", (255, 255, 255)))
        lost = _PHOSPHO[prev] & ~phos & ~_BLOCKED[state]
        for i in np.nonzero(lost)[0]:
            made = bool(_INWARD[state[i]])
            self.puffs.append(Puff(int(i), self.frame, "ATP" if made else "P", P_MARK))

    def _note_cycles(self, cycles: np.ndarray) -> None:
        """A reversal for every pump that completed a whole cycle backwards since the last
        frame. A pump's net count flickers by one where the cycle is counted (E2(2K) ⇌
        E1(2K) back and forth); only a fall of two below the highest count since its last
        reversal (or a fall below its last reversal's count) is a whole cycle run backwards.
        ``cycles``: ``(m,)`` net cycles of each pump."""
        c = cycles.astype(np.int64)
        if self._low is None or self._low.shape != c.shape:
            self._low, self._high = c - 1, c + 1  # unknown start: two steps either way
            return
        up = c > self._high
        self._high[up], self._low[up] = c[up], c[up] - 1
        down = c < self._low
        self._low[down], self._high[down] = c[down], c[down] + 1
        self.reversals += [Reversal(int(i), self.frame) for i in np.nonzero(down)[0]]
        self.reversals = self.reversals[-MAX_FLASHES:]

    def _note_history(self, time_ms: float, pump: int, state: int) -> None:
        if self.history_pump != pump:
            self.history = [(time_ms, state)]
            self.history_pump = pump
        elif state != self.history[-1][1]:
            self.history.append((time_ms, state))
            self.history = self.history[-MAX_HISTORY:]
