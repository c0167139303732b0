"""How a channel pore looks: its kind (Na⁺ or K⁺, leak or voltage-gated) by colour, and the
gating state of a voltage-gated pore by shape, so that it reads without colour vision:

- open: a clear passage through the membrane;
- closed: the passage shut by a dark gate across its middle;
- inactivated (Na⁺ only): the passage plugged at its cytoplasmic mouth by a dark ball (the
  "ball and chain" of the textbooks), whatever its activation gates do.

The states come from ``Channels.gate`` (see :mod:`particles.layout`: a Nav pore's code is
``m + NAV_M_STATES·h``, conducting only in ``NAV_OPEN``; a Kv pore conducts only in
``KV_OPEN``); leak pores are always open.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pygame

from particles.layout import KV_OPEN, NAV_M_STATES, NAV_OPEN, ChannelType

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


def pore_states(types: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """The drawn state of each pore.

    Args:
        types: ``(n_ch,)`` :class:`~particles.layout.ChannelType` codes.
        gate: ``(n_ch,)`` gating codes (``Channels.gate``).

    Returns:
        ``(n_ch,)`` int8 :class:`PoreState` codes: a Nav pore is inactivated while its
        inactivation gate is shut (code < NAV_M_STATES), open only in NAV_OPEN, else closed;
        a Kv pore open only in KV_OPEN, else closed; a leak pore always open.
    """
    types = np.asarray(types)
    gate = np.asarray(gate)
    out = np.full(types.shape, PoreState.OPEN, np.int8)
    nav = types == ChannelType.NAV
    kv = types == ChannelType.KV
    out[nav & (gate != NAV_OPEN)] = PoreState.CLOSED
    out[nav & (gate < NAV_M_STATES)] = PoreState.INACTIVATED
    out[kv & (gate != KV_OPEN)] = PoreState.CLOSED
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
