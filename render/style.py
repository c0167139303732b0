"""How things look: the palette and one style per pump state (name, colour, shape, caption).

Every drawing module takes its colours from here, so a pump state or a colour is declared
once. The ion colours (Okabe-Ito, colour-blind safe) live with the rasteriser in
:mod:`render.raster`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from particles.layout import NA_SITES, PumpState
from particles.palette import STATES, TRACER_LINE_RGB, V_RGB

RGB = tuple[int, int, int]

# ---------------------------------------------------------------- palette (Okabe-Ito based)
BG_INSIDE = (255, 246, 226)      # cytoplasm: warm cream
BG_INSIDE_ZONE = (246, 234, 208)
BG_OUTSIDE = (226, 240, 250)     # extracellular: pale blue
BG_OUTSIDE_ZONE = (210, 228, 242)
BG_VOID = (92, 98, 110)
BAR_BG = (36, 41, 51)
BAR_FG = (245, 245, 245)
BAR_DIM = (170, 178, 190)
PANEL_BG = (247, 247, 249)
PANEL_FG = (30, 32, 38)
PANEL_DIM = (105, 110, 120)
GRID = (222, 224, 230)
HEAD = (205, 170, 120)           # lipid head groups
HEAD_EDGE = (150, 118, 78)
TAIL = (236, 216, 170)
PROTEIN = (170, 150, 205)        # pump body (lavender)
PROTEIN_EDGE = (70, 55, 105)
PROTEIN_BLOCKED = (165, 165, 165)
CAVITY = (252, 250, 255)
P_MARK = (240, 228, 66)          # yellow phosphate badge
OUABAIN = (0, 158, 115)          # bluish green
FOLLOW = (230, 159, 0)           # orange highlight ring
REVERSE = (204, 0, 102)          # the reversed arrow of a pump that ran a cycle backwards
V_LINE = V_RGB                   # reddish purple
TRACER_LINE = TRACER_LINE_RGB
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

NA_LABEL, K_LABEL = "Na⁺", "K⁺"


def hexagon(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """Corners of the ouabain mark: a regular hexagon of radius ``r`` (px) around (cx, cy)."""
    return [(cx + r * math.cos(k * math.pi / 3), cy + r * math.sin(k * math.pi / 3))
            for k in range(6)]


def mix(a, b, t: float) -> RGB:
    """The colour a fraction ``t`` (clipped to 0..1) of the way from ``a`` to ``b``."""
    t = min(max(float(t), 0.0), 1.0)
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


# ---------------------------------------------------------------- pump states

@dataclass(frozen=True)
class PumpStyle:
    """How one :class:`~particles.state.PumpState` is named and drawn.

    Attributes:
        name: short label (next to the pump, the followed pump, notices).
        color: RGB in the state-history strip, the occupancy bar and far-away ticks.
        pocket: shape of the ion pocket: ``"inward"`` or ``"outward"`` open, ``"occluded"``
            (gates shut on both sides) or ``"plugged"`` (ouabain in the outward mouth; the
            pump is drawn grey and its empty sites are not shown).
        phosphorylated: carries the phosphate (a P badge on the cytoplasmic lobe).
        atp: ATP bound and waiting to phosphorylate (an ATP badge under the lobe).
        caption: the teaching caption, a function of (Na+ in the Na+ sites, ions in the K+
            sites).
    """

    name: str
    color: RGB
    pocket: str
    phosphorylated: bool
    atp: bool
    caption: Callable[[int, int], str]

    @property
    def blocked(self) -> bool:
        """Ouabain-bound: locked until ouabain leaves."""
        return self.pocket == "plugged"


def _caption_e1(n_na: int, n_k: int) -> str:
    if n_na == 0:
        return "① Inward-open: waiting for Na⁺ from the inside"
    return f"① Inward-open: {n_na} Na⁺ bound (3 sites)"


def _caption_e2p(n_na: int, n_k: int) -> str:
    if n_na > 0:
        return f"④ Outward-open: Na⁺ released outside ({n_na} left)"
    return f"⑤ Outward-open: K⁺ sites filling from the outside ({n_k} of 2)"


#: One style per pump state; colours are grouped by phase of the cycle.
PUMP_STYLES: dict[PumpState, PumpStyle] = {
    s: PumpStyle(STATES[s][0], STATES[s][1], *look) for s, look in {
        PumpState.E1: ("inward", False, False, _caption_e1),
        PumpState.E1_3NA: ("inward", False, True,
                           lambda n_na, n_k: "② 3 Na⁺ bound: ATP binds"),
        PumpState.E1P_3NA: ("occluded", True, False,
                            lambda n_na, n_k: "③ ATP → ADP + P: phosphorylated, 3 Na⁺ occluded"),
        PumpState.E2P: ("outward", True, False, _caption_e2p),
        PumpState.E2P_2K: ("occluded", True, False,
                           lambda n_na, n_k: "⑥ 2 K⁺ bound and occluded"),
        PumpState.E2_2K: ("occluded", False, False,
                          lambda n_na, n_k: "⑦ P released (dephosphorylated): turning inward, "
                                            "K⁺ will be released inside"),
        PumpState.BLOCKED: ("plugged", True, False,
                            lambda n_na, n_k: "Ouabain bound: the pump is locked"),
    }.items()}


def pump_style(state: int) -> PumpStyle:
    """The style of the pump state code ``state`` (``Pumps.state``)."""
    return PUMP_STYLES[PumpState(int(state))]


def step_caption(state: int, n_na: int, n_k: int) -> str:
    """The teaching caption for a pump in ``state`` holding ``n_na``/``n_k`` ions."""
    return pump_style(state).caption(n_na, n_k)


def site_position(j: int) -> tuple[float, float]:
    """Where the drawing puts site ``j`` (a column of ``Pumps.sites``) on a pump: (x in
    half-widths of the drawn pump, y in face heights) from its centre. Na+ sites (the first
    ``NA_SITES`` columns) sit left, towards the inside; K+ sites right, towards the outside.

    This is the schematic's layout, scaled to the drawn pump (whose width follows the drawn
    membrane band, widened to stay visible), not the model's site positions in µm
    (:func:`particles.state.site_offsets`)."""
    if j < NA_SITES:
        return -0.22, (j - 1) * 0.2
    return 0.22, (j - NA_SITES - 0.5) * 0.24
