"""The colours and names shared by the window and the figures: Okabe-Ito colours for the ions
(colour-blind safe) and one name and colour per pump state, so a plot and the window say
"E1·3Na" in the same orange.

Colours are RGB tuples of 0..255; :func:`hex_colour` gives matplotlib's ``#rrggbb``.
"""

from __future__ import annotations

from .layout import PumpState

NA_RGB = (213, 94, 0)        # vermillion
K_RGB = (0, 114, 178)        # blue
TRACER_RGB = (30, 30, 30)    # 24Na+ tracer (a dark core in a vermillion ring in the window)
V_RGB = (204, 121, 167)      # reddish purple: the membrane potential
CYCLES_RGB = (30, 30, 30)
TRACER_LINE_RGB = (0, 158, 115)  # bluish green

#: Short name and colour of each pump state (state-history strip, occupancy bars, plots).
STATES: dict[PumpState, tuple[str, tuple[int, int, int]]] = {
    PumpState.E1: ("E1", (255, 200, 150)),
    PumpState.E1_3NA: ("E1·3Na", (230, 130, 60)),
    PumpState.E1P_3NA: ("E1P(3Na)", (200, 160, 40)),
    PumpState.E2P: ("E2P", (120, 180, 230)),
    PumpState.E2P_2K: ("E2P(2K)", (40, 110, 180)),
    PumpState.E2_2K: ("E2(2K)", (110, 90, 170)),
    PumpState.BLOCKED: ("ouabain", (120, 120, 120)),
}


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """``#rrggbb`` of an RGB tuple (0..255)."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def state_of_column(column: str) -> PumpState | None:
    """The pump state of a results column ``pumps_<STATE>`` (None for another column)."""
    if not column.startswith("pumps_"):
        return None
    return PumpState.__members__.get(column[len("pumps_"):])
