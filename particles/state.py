"""Simulation state as plain arrays (struct of arrays): ions, pumps, geometry.

An ion is an index into the :class:`Ions` arrays and keeps that index for the life of a
simulation. Species, compartments and pump states are small integer codes with
:class:`~enum.IntEnum` names declared in :mod:`particles.layout` (re-exported here). Units: µm
for positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import N_SITES, IonArrays, PumpArrays, PumpState, Side, Species

__all__ = ["Geometry", "Ions", "PumpState", "Pumps", "Side", "Snapshot", "Species",
           "site_offsets"]


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
        """The arrays by field name (same objects, no copy)."""
        return {k: getattr(self, k) for k in IonArrays._fields}

    def kernel_arrays(self) -> IonArrays:
        """The arrays as the kernels take them (same objects, no copy)."""
        return IonArrays(*self.arrays().values())

    def extended(self, more: "Ions") -> "Ions":
        """These ions followed by ``more`` (new arrays; indices of these ions unchanged)."""
        return Ions(**{k: np.concatenate([a, getattr(more, k)])
                       for k, a in self.arrays().items()})


@dataclass
class Pumps:
    """All pumps, one entry per pump (shape ``(m,)`` unless noted).

    Attributes:
        y: centre of the pump along the membrane, µm (float64). Pumps are evenly spaced, so
            pump ``i`` owns the membrane bin ``floor(y * m / height)`` (O(1) lookup).
        state: :class:`PumpState` code (int8).
        n_na: Na+ held in the Na+ sites (0..3, int8).
        n_k: ions held in the K+ sites (0..2, int8); may be Na+ acting as a K+ congener.
        sites: ion index held by each site, -1 when empty; shape ``(m, N_SITES)`` int32,
            Na+ sites first, then K+ sites (:mod:`particles.layout`).
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
                   np.full((m, N_SITES), -1, np.int32), np.zeros(m, np.int64))

    def __len__(self) -> int:
        return self.y.shape[0]

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by field name (same objects, no copy)."""
        return {k: getattr(self, k) for k in PumpArrays._fields}

    def kernel_arrays(self) -> PumpArrays:
        """The arrays as the kernels take them (same objects, no copy)."""
        return PumpArrays(*self.arrays().values())


def site_offsets(geom: Geometry) -> np.ndarray:
    """Where each site sits relative to (membrane_x, pump y), µm; shape ``(N_SITES, 2)``.

    Na+ sites are spread along y nearer the inner face, K+ sites nearer the outer face; used
    to place bound ions (and by the renderer)."""
    t, w = geom.membrane_thickness_um, geom.pump_face_um
    return np.array([
        [-t / 6, -w / 4], [-t / 6, 0.0], [-t / 6, w / 4],
        [t / 6, -w / 6], [t / 6, w / 6],
    ])


@dataclass
class Snapshot:
    """The complete state of a simulation between steps: what a checkpoint stores and
    :meth:`particles.simulation.Simulation.restore` puts back (random numbers are a pure
    function of seed and step, so nothing else is needed to continue bit for bit).

    Attributes:
        values: the scenario's values now (protocol ``set`` events change them).
        initial_values: the values at the start.
        step_index: completed steps.
        phase: label of the protocol phase in force.
        bath_mM: (Na+, K+) the perfused bath holds now (mM).
        ions, pumps: the state arrays (the bath reservoir may have grown the ions).
        counters: ``(N_COUNTERS,)`` int64; env: ``(N_ENV,)``; bath_target: ``(N_TARGET,)``.
        protocol_position: index of the next protocol event; protocol_log: events fired,
            as ``(time_ms, action, phase)``.
        rows: recorded results-table rows; cycles_history: ``(n_rows, m)`` int64 completed
            cycles per pump at each row; last_step: step index of the last row.
        gate: ``(n_ch,)`` int8 gating state of each channel pore.
    """

    values: dict
    initial_values: dict
    step_index: int
    phase: str
    bath_mM: tuple
    ions: Ions
    pumps: Pumps
    counters: np.ndarray
    env: np.ndarray
    bath_target: np.ndarray
    protocol_position: int
    protocol_log: list
    rows: list
    cycles_history: np.ndarray
    last_step: int
    gate: np.ndarray
