"""How a channel pore looks: its kind (Na⁺ or K⁺, leak or voltage-gated) by colour, and the
gating state of a voltage-gated pore by shape, so that it reads without colour vision:

- open: a clear passage through the membrane;
- closed: the passage shut by a dark gate across its middle;
- inactivated (Na⁺ only): the passage plugged at its cytoplasmic mouth by a dark ball (the
  "ball and chain" of the textbooks), whatever its activation gates do.

The states come from ``Channels.conducting()`` and, for inactivation, ``Channels.gate`` (see
:mod:`particles.layout`: a Nav pore's code is ``m + NAV_M_STATES·h``); leak pores are always
open.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pygame

from particles.layout import NAV_M_STATES, ChannelType

from .raster import K_RGB, NA_RGB
from .style import BLACK, CAVITY, WHITE, mix

GATE = (25, 25, 30)      # the shut gate and the inactivation ball


class PoreState(IntEnum):
    """What a pore is doing now, as drawn."""

    OPEN = 0
    CLOSED = 1
    INACTIVATED = 2


#: Channel kinds in the order of their codes (``Channels.type``): (colour, voltage-gated,
#: name in the key).
KINDS = ((NA_RGB, False, "Na⁺ leak"), (K_RGB, False, "K⁺ leak"),
         (NA_RGB, True, "gated Na⁺"), (K_RGB, True, "gated K⁺"))

#: The key's entries for the gating states: (state, name).
STATE_NAMES = ((PoreState.OPEN, "open"), (PoreState.CLOSED, "closed"),
               (PoreState.INACTIVATED, "inactivated (Na⁺)"))


def pore_states(channels) -> np.ndarray:
    """The drawn state of each pore of ``channels`` (:class:`~particles.channels.Channels`).

    Returns:
        ``(n_ch,)`` int8 :class:`PoreState` codes: open where the pore conducts
        (``Channels.conducting``); else inactivated for a Nav pore whose inactivation gate is
        shut (gate code < NAV_M_STATES), closed otherwise.
    """
    out = np.full(len(channels.type), PoreState.CLOSED, np.int8)
    out[(channels.type == ChannelType.NAV) & (channels.gate < NAV_M_STATES)] = \
        PoreState.INACTIVATED
    out[channels.conducting()] = PoreState.OPEN
    return out


def draw_pore(surf, rect: pygame.Rect, color, gated: bool, state: int, line: int = 1) -> None:
    """One pore across the membrane in ``rect`` (x across the membrane, the cytoplasm on the
    left; y along it).

    Args:
        surf: the surface to draw on.
        rect: the pore's box, px.
        color: the pore's ion colour (RGB).
        gated: a voltage-gated pore (outlined); else a leak pore.
        state: its :class:`PoreState`.
        line: the outline's width, px.
    """
    pygame.draw.rect(surf, mix(color, WHITE, 0.35), rect)
    slit = rect.inflate(-max(2, round(rect.w * 0.15)), -max(1, round(rect.h * 0.55)))
    if slit.h < 1:
        slit.h, slit.centery = 1, rect.centery
    pygame.draw.rect(surf, CAVITY, slit)
    if state == PoreState.CLOSED:
        gate = pygame.Rect(0, 0, max(2, round(rect.w * 0.3)), rect.h)
        gate.center = rect.center
        pygame.draw.rect(surf, GATE, gate)
    if gated:
        pygame.draw.rect(surf, BLACK, rect, line)
    if state == PoreState.INACTIVATED:
        r = max(2.0, rect.h * 0.5)
        pygame.draw.circle(surf, GATE, (rect.left, rect.centery), r)
