"""Physics derived from a scenario's values: unit conversions, compartments, capture and
passage coefficients, the channel layout and the time-step safety limit.

Every function takes the flat, validated ``values`` dict of a
:class:`~particles.config.Scenario` (or plain numbers) and returns numbers; none raises
:class:`~particles.config.ScenarioError` (``channel_layout`` raises ValueError, which the
loader turns into one). Units: lengths µm, areas µm², times ms, concentrations mM,
diffusion coefficients µm²/ms, adsorption coefficients κ µm/ms (MODEL.md §1-2).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from .state import Species

AVOGADRO_PER_UM3_MM = 602_214.076
"""Particles per µm³ at 1 mM (MODEL.md §1)."""

SPECIES: tuple[str, ...] = tuple(sp.name.lower() for sp in Species)
"""Scenario-key stem of each ion species (``ions.<stem>.D``, ``ions.<stem>.inside_mM``,
``bath_<stem>_added``), indexed by its :class:`~particles.state.Species` code: the stems
are the codes' names in lower case, ``("na", "k")``."""

CHANNEL_KINDS = (("na_leak", "na"), ("k_leak", "k"), ("nav", "na"), ("kv", "k"))
"""Channel types in the order of the kernel's ``CH_*`` codes: (key stem, species stem)."""


# ---------------------------------------------------------------- counts and concentrations

def mM_to_count(c_mM: float, area_um2: float, depth_um: float) -> int:
    """Number of particles at concentration ``c_mM`` in ``area_um2`` × ``depth_um``."""
    return int(round(mM_to_mean_count(c_mM, area_um2, depth_um)))


def mM_to_mean_count(c_mM: float, area_um2: float, depth_um: float) -> float:
    """Expected number of particles (not rounded) at ``c_mM`` in ``area_um2`` × ``depth_um``."""
    return c_mM * area_um2 * depth_um * AVOGADRO_PER_UM3_MM


def count_to_mM(n: float, area_um2: float, depth_um: float) -> float:
    """Concentration (mM) of ``n`` particles in ``area_um2`` × ``depth_um``."""
    return n / (area_um2 * depth_um * AVOGADRO_PER_UM3_MM)


# ---------------------------------------------------------------- geometry

def membrane_x(values: dict) -> float:
    """Membrane centre (µm): ``domain.membrane_x_um``, or half the width when it is < 0."""
    x = values["domain.membrane_x_um"]
    return values["domain.width_um"] / 2 if x < 0 else x


def compartment_areas(values: dict) -> tuple[float, float]:
    """(inside, outside) free areas in µm², excluding the membrane band."""
    xm, t = membrane_x(values), values["domain.membrane_thickness_um"]
    h = values["domain.height_um"]
    return (xm - t / 2) * h, (values["domain.width_um"] - xm - t / 2) * h


def _initial_groups(values: dict):
    """(concentration mM, area µm²) of every species in each compartment at start, species
    in code order, inside before outside."""
    a_in, a_out = compartment_areas(values)
    return [(values[f"ions.{s}.{side}_mM"], a)
            for s in SPECIES for side, a in (("inside", a_in), ("outside", a_out))]


def expected_ion_count(values: dict) -> float:
    """Expected number of free ions at start (all species, both compartments), not rounded:
    a float, so an absurd domain gives a huge number (or inf) instead of overflowing."""
    h = values["domain.depth_um"]
    return sum(mM_to_mean_count(c, a, h) for c, a in _initial_groups(values))


def initial_ion_count(values: dict) -> int:
    """Number of free ions at start: each species' count per compartment, rounded, summed."""
    h = values["domain.depth_um"]
    return sum(mM_to_count(c, a, h) for c, a in _initial_groups(values))


# ---------------------------------------------------------------- capture and passage

def adsorption_coefficients(values: dict) -> tuple[float, float, float]:
    """Adsorption coefficients κ (µm/ms) of open faces: (Na inner, K outer, Na outer).

    A face of width w in a slab of depth h, exposed to concentration c, captures
    ``κ · c · h · 602214 · w`` ions per ms; the scenario gives that rate per mM (k_on), so
    ``κ = k_on / (h · 602214 · w)`` and the affinity does not depend on h or w."""
    scale = values["domain.depth_um"] * AVOGADRO_PER_UM3_MM * values["pumps.face_um"]
    return (values["pumps.kon_na_per_mM_ms"] / scale, values["pumps.kon_k_per_mM_ms"] / scale,
            values["pumps.kon_na_congener_per_mM_ms"] / scale)


def channel_kappas(values: dict) -> list[float]:
    """Adsorption-like coefficients κ (µm/ms) of the four channel types at V = 0, from their
    passage rates per mM exactly as for pump faces: ``κ = rate / (h · 602214 · pore)``."""
    scale = values["domain.depth_um"] * AVOGADRO_PER_UM3_MM * values["channels.pore_um"]
    return [values[f"channels.{k}_per_mM_ms"] / scale for k, _ in CHANNEL_KINDS]


def channel_count(values: dict) -> int:
    """Number of channel pores of all types."""
    return sum(values[f"channels.{k}_count"] for k, _ in CHANNEL_KINDS)


# ---------------------------------------------------------------- time step

def max_safe_dt(values: dict) -> float:
    """Largest dt (ms) for which no ion can step past a capture face or a compartment.

    Rules: the rms step ``sqrt(2 D dt)`` of the fastest species is at most half a pump face
    and a fifth of the narrowest compartment, and the per-crossing sticking probability
    ``κ sqrt(π dt / D)`` (Andrews 2009) stays at or below 0.5 for every face and species.
    """
    D_na, D_k = values["ions.na.D"], values["ions.k.D"]
    D_max = max(D_na, D_k)
    xm, t = membrane_x(values), values["domain.membrane_thickness_um"]
    narrow = min(xm - t / 2, values["domain.width_um"] - xm - t / 2, values["domain.height_um"])
    limits = [_sq(narrow) / (25 * 2 * D_max)]
    if values["pumps.count"] > 0:
        limits.append(_sq(values["pumps.face_um"] / 2) / (2 * D_max))
        for kappa, D in zip(adsorption_coefficients(values), (D_na, D_k, D_na)):
            if kappa > 0:
                limits.append(D / math.pi * _sq(0.5 / kappa))
    if channel_count(values) > 0:  # pores: rms step <= pore width; passage P <= 0.5 at V = 0
        limits.append(_sq(values["channels.pore_um"]) / (2 * D_max))
        for kappa, (_, sp) in zip(channel_kappas(values), CHANNEL_KINDS):
            if kappa > 0:
                limits.append(values[f"ions.{sp}.D"] / math.pi * _sq(0.5 / kappa))
    return min(limits)


def _sq(x: float) -> float:
    """x², inf instead of OverflowError for absurd values (``**`` raises)."""
    return x * x


# ---------------------------------------------------------------- channel layout

def channel_layout(values: dict) -> tuple[list[float], list[int]]:
    """Pore centres (µm, ascending) and type codes (``CH_*`` order of :data:`CHANNEL_KINDS`)
    of the channels, or raise ValueError when they do not fit.

    Pores go into the free stretches of membrane between pump faces (and between the end
    faces and the walls), never overlapping a face or each other: channels are dealt one at
    a time to the stretch with the fewest per unit length that still has room, and spread
    evenly within each stretch. Types are interleaved along the membrane so each kind is
    spread out. The kernel finds a pore by binning (``channel_bins``): O(1) per crossing."""
    H = values["domain.height_um"]
    counts = [values[f"channels.{k}_count"] for k, _ in CHANNEL_KINDS]
    n = sum(counts)
    if n == 0:
        return [], []
    w = values["channels.pore_um"]
    m = values["pumps.count"]
    fhalf = values["pumps.face_um"] / 2
    edges = [0.0]
    for p in range(m):
        yp = (p + 0.5) * H / m
        edges += [yp - fhalf, yp + fhalf]
    edges.append(H)
    gaps = [(edges[2 * k], edges[2 * k + 1]) for k in range(m + 1)]
    room = [int((hi - lo) / w * (1 + 1e-9)) for lo, hi in gaps]
    if sum(room) < n:
        raise ValueError(f"{n} pores of {w:g} µm do not fit between {m} pump faces of "
                         f"{2 * fhalf:g} µm on a membrane {H:g} µm long (room for {sum(room)})")
    dealt = [0] * len(gaps)
    # a heap of (density after one more pore, stretch): O(n log m), not O(n m)
    heap = [(1 / (hi - lo), g) for g, (lo, hi) in enumerate(gaps) if room[g] > 0]
    heapq.heapify(heap)
    for _ in range(n):
        _, k = heapq.heappop(heap)
        dealt[k] += 1
        if dealt[k] < room[k]:
            heapq.heappush(heap, ((dealt[k] + 1) / (gaps[k][1] - gaps[k][0]), k))
    ys = []
    for (lo, hi), c in zip(gaps, dealt):
        ys += [lo + (j + 0.5) * (hi - lo) / c for j in range(c)]
    ys.sort()
    order = sorted(((i + 0.5) / c, t) for t, c in enumerate(counts) for i in range(c))
    return ys, [t for _, t in order]


def channel_bins(ys: list[float], pore_um: float, height_um: float) -> np.ndarray:
    """Bin map for the kernel: ``(B,)`` int32, bin ``floor(y · B / H)`` (bins no wider than
    half a pore) -> index of a pore overlapping it, or -1 when none does. A crossing checks
    that pore and its two neighbours (pores are sorted and never overlap)."""
    nb = max(1, int(math.ceil(2 * height_um / pore_um)))
    out = np.full(nb, -1, np.int32)
    for q, y in enumerate(ys):
        lo = max(0, int((y - pore_um / 2) * nb / height_um))
        hi = min(nb - 1, int((y + pore_um / 2) * nb / height_um))
        out[lo:hi + 1] = q
    return out
