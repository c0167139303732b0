"""Simulation state as plain arrays (struct of arrays): ions, pumps, geometry.

An ion is an index into the :class:`Ions` arrays and keeps that index for the life of a
simulation. Species, compartments and pump states are small integer codes with
:class:`~enum.IntEnum` names declared in :mod:`particles.layout` (re-exported here). Units: µm
for positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import K_SITES, NA_SITES, PumpState, Side, Species

__all__ = ["Geometry", "Ions", "Pumps", "PumpState", "Side", "Species", "site_offsets"]


@dataclass
class Geometry:
    """The box and the membrane (µm). Inside is ``x < x_in_face``, outside ``x > x_out_face``."""

    width_um: float
    height_um: float
    depth_um: float
    membrane_x_um: float
    membrane_thickness_um: float
    pump_face_um: float

    @property
    def x_in_face(self) -> float:
        """x of the membrane's inner (cytoplasmic) face, µm."""
        return self.membrane_x_um - self.membrane_thickness_um / 2

    @property
    def x_out_face(self) -> float:
        """x of the membrane's outer (extracellular) face, µm."""
        return self.membrane_x_um + self.membrane_thickness_um / 2

    @property
    def area_in_um2(self) -> float:
        return self.x_in_face * self.height_um

    @property
    def area_out_um2(self) -> float:
        return (self.width_um - self.x_out_face) * self.height_um


@dataclass
class Ions:
    """All ions, one entry per ion (shape ``(n,)`` each).

    Attributes:
        x, y: position in µm (float64). Bound ions sit on their pump's site.
        species: :class:`Species` code (int8).
        side: :class:`Side` code of the compartment the ion is in (int8); a bound ion keeps
            the side it was captured from until released.
        bound: True while held by a pump.
        tracer: True for 24Na-labelled Na+.
    """

    x: np.ndarray
    y: np.ndarray
    species: np.ndarray
    side: np.ndarray
    bound: np.ndarray
    tracer: np.ndarray

    @classmethod
    def empty(cls, n: int) -> "Ions":
        return cls(np.zeros(n), np.zeros(n), np.zeros(n, np.int8), np.zeros(n, np.int8),
                   np.zeros(n, np.bool_), np.zeros(n, np.bool_))

    def __len__(self) -> int:
        return self.x.shape[0]

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("x", "y", "species", "side", "bound", "tracer")}


@dataclass
class Pumps:
    """All pumps, one entry per pump (shape ``(m,)`` unless noted).

    Attributes:
        y: centre of the pump along the membrane, µm (float64). Pumps are evenly spaced, so
            pump ``i`` owns the membrane bin ``floor(y * m / height)`` (O(1) lookup).
        state: :class:`PumpState` code (int8).
        n_na: Na+ held in the Na+ sites (0..3, int8).
        n_k: ions held in the K+ sites (0..2, int8); may be Na+ acting as a K+ congener.
        sites: ion index held by each site, -1 when empty; shape ``(m, 5)`` int32, columns
            0..2 Na+ sites, 3..4 K+ sites.
        cycles: completed cycles per pump (int64).
    """

    y: np.ndarray
    state: np.ndarray
    n_na: np.ndarray
    n_k: np.ndarray
    sites: np.ndarray
    cycles: np.ndarray

    @classmethod
    def evenly_spaced(cls, m: int, height_um: float) -> "Pumps":
        y = (np.arange(m) + 0.5) * (height_um / max(m, 1))
        return cls(y, np.zeros(m, np.int8), np.zeros(m, np.int8), np.zeros(m, np.int8),
                   np.full((m, NA_SITES + K_SITES), -1, np.int32), np.zeros(m, np.int64))

    def __len__(self) -> int:
        return self.y.shape[0]

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("y", "state", "n_na", "n_k", "sites", "cycles")}


def site_offsets(geom: Geometry) -> np.ndarray:
    """Where each of the 5 sites sits relative to (membrane_x, pump y), µm; shape ``(5, 2)``.

    Na+ sites are spread along y nearer the inner face, K+ sites nearer the outer face; used
    to place bound ions (and by the renderer)."""
    t, w = geom.membrane_thickness_um, geom.pump_face_um
    return np.array([
        [-t / 6, -w / 4], [-t / 6, 0.0], [-t / 6, w / 4],
        [t / 6, -w / 6], [t / 6, w / 6],
    ])
