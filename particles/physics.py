"""Physics derived from a scenario's values: unit conversions, compartments, capture and
passage coefficients and the sticking probability per crossing they give at a time step
(Andrews 2009), the channel layout and the time-step safety limit.

Every function takes the flat, validated ``values`` dict of a
:class:`~particles.config.Scenario` (or plain numbers) and returns numbers; none raises
:class:`~particles.config.ScenarioError` (``channel_layout`` raises ValueError, which the
loader turns into one). Units: lengths µm, areas µm², times ms, concentrations mM,
diffusion coefficients µm²/ms, adsorption coefficients κ µm/ms (MODEL.md §1-2).
"""

from __future__ import annotations

import functools
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


def patch_area_um2(values: dict, n_pumps: int) -> float:
    """Membrane area (µm²) the simulated patch stands for: ``membrane.patch_area_um2`` if
    set, else its pumps at ``membrane.pump_density_per_um2`` (m / rho), else the slab's
    own membrane (height × depth)."""
    if values["membrane.patch_area_um2"] > 0:
        return values["membrane.patch_area_um2"]
    rho = values["membrane.pump_density_per_um2"]
    if rho > 0:
        return max(n_pumps, 1) / rho
    return values["domain.height_um"] * values["domain.depth_um"]


def population_scale(values: dict, n_pumps: int) -> float:
    """How many times the patch's pumps and pores the rest of the cell's membrane holds
    (``membrane.cell_area_um2`` / patch area − 1), 0 without a cell area (the patch alone
    stands for the membrane)."""
    cell = values["membrane.cell_area_um2"]
    return max(cell / patch_area_um2(values, n_pumps) - 1.0, 0.0) if cell > 0 else 0.0


def face_kappas(values: dict) -> list[tuple[float, float]]:
    """(κ µm/ms, D µm²/ms) of every pump face's capture, in the order of the kernels'
    ``P_STICK_*`` slots: Na+ on E1's sites inside, K+ on E2P's sites outside, the Na+
    congener on them (:func:`adsorption_coefficients`), external Na+ rebinding to E2P's Na+
    sites and internal K+ binding to E1's K+ sites. The last two have k_on = release rate /
    K_D (per mM·ms), turned into κ as for the others (at V = 0 for the rebinding)."""
    scale = values["domain.depth_um"] * AVOGADRO_PER_UM3_MM * values["pumps.face_um"]
    kappas = list(adsorption_coefficients(values)) + [
        values["pumps.k_na_release_per_ms"] / values["pumps.kd_na_out_mM"] / scale,
        values["pumps.k_k_release_per_ms"] / values["pumps.kd_k_in_mM"] / scale]
    d_na, d_k = values["ions.na.D"], values["ions.k.D"]
    return list(zip(kappas, (d_na, d_k, d_na, d_na, d_k)))


def channel_kappas(values: dict) -> list[float]:
    """Adsorption-like coefficients κ (µm/ms) of the four channel types at V = 0, from their
    passage rates per mM exactly as for pump faces: ``κ = rate / (h · 602214 · pore)``."""
    scale = values["domain.depth_um"] * AVOGADRO_PER_UM3_MM * values["channels.pore_um"]
    return [values[f"channels.{k}_per_mM_ms"] / scale for k, _ in CHANNEL_KINDS]


def channel_count(values: dict) -> int:
    """Number of channel pores of all types."""
    return sum(values[f"channels.{k}_count"] for k, _ in CHANNEL_KINDS)


# ---------------------------------------------------------------- sticking probability

STICK_P_MAX = 0.5
"""Largest sticking (or pore passage at V = 0) probability per crossing a scenario's dt may
give: ``max_safe_dt`` keeps every face and pore at or below it."""

_REACH = 8
"""The Andrews profile is solved on [0, 8σ] from the plane; beyond, it is exactly linear
(the wall's disturbance decays like exp(-2.5 x/σ), and a normal tail Q(8) < 1e-15)."""

_NODES = 10
"""Gauss-Legendre nodes per σ-wide panel of the profile (κ' converged to 1e-10)."""

_TABLE_N = 128
"""Table of κ'(P) at P = k/128, k = 0..128 (linear interpolation: relative error < 2e-5)."""


def sticking_probability(kappa: float, dt: float, D: float) -> float:
    """Per-crossing sticking probability P in [0, 1] of a face of adsorption coefficient
    ``kappa`` (µm/ms) for ions of diffusion coefficient ``D`` (µm²/ms) stepping every ``dt``
    (ms): the P at which the kernels' rule captures ``kappa · c`` ions per unit face area per
    ms from a concentration c beside it (a Robin boundary ``D ∂c/∂n = κ c``).

    The rule (pump faces and channel pores alike): an ion whose Gaussian step ends beyond the
    face plane is captured with probability P, else reflected. For it the reduced
    coefficient κ' = κ·dt/σ = κ·sqrt(dt / 2D) (σ = sqrt(2 D dt), the rms step per axis) is a
    function of P alone (Andrews 2009, Phys. Biol. 6:046015; Smoldyn's ``SPAirrAds``):
    κ' = P/sqrt(2π) for small P (P = κ·sqrt(π dt / D)), 0.2753 at P = 0.5 and 0.8582 at
    P = 1 (:func:`reduced_adsorption`). A κ' above that gives P = 1: such a face captures
    less than ``kappa`` asks (``max_safe_dt`` keeps P <= :data:`STICK_P_MAX`)."""
    if not kappa > 0:
        return 0.0
    kp, p_over_kp, _, _ = andrews_tables()
    return float(stick_from_reduced(kappa * math.sqrt(dt / (2 * D)), kp, p_over_kp))


def reduced_adsorption(p: float) -> float:
    """Reduced adsorption coefficient κ' = κ·sqrt(dt / 2D) (dimensionless) that sticking
    probability ``p`` in [0, 1] gives under the kernels' rule (see
    :func:`sticking_probability`), interpolated in the table of :func:`andrews_tables`."""
    _, _, grid, kp_over_p = andrews_tables()
    return float(reduced_from_stick(p, grid, kp_over_p))


def stick_from_reduced(k, kp, p_over_kp):
    """P (in [0, 1]) of the reduced adsorption coefficient ``k`` = κ·sqrt(dt / 2D), by linear
    interpolation of P/κ' in the table ``kp``, ``p_over_kp`` of :func:`andrews_tables` (exact
    at small P). Plain arithmetic on its arguments, so a kernel compiles it too (the pump
    kernels apply a voltage factor to κ' of external Na+ rebinding and convert with it)."""
    if not k > 0:
        return 0.0
    if k >= kp[-1]:
        return 1.0
    return k * np.interp(k, kp, p_over_kp)


def reduced_from_stick(p, grid, kp_over_p):
    """κ' of sticking probability ``p`` (clipped to 1), by linear interpolation of κ'/P in
    the table ``grid``, ``kp_over_p`` of :func:`andrews_tables`; the inverse of
    :func:`stick_from_reduced` (to the table's 2e-5)."""
    if not p > 0:
        return 0.0
    p = min(p, 1.0)
    return p * np.interp(p, grid, kp_over_p)


@functools.cache
def andrews_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tables of the relation between P and κ' (four ``(129,)`` float64 arrays): κ' at
    P = k/128 and P/κ' there (for :func:`stick_from_reduced`), the P grid and κ'/P on it
    (for :func:`reduced_from_stick`); the ratios at P = 0 are their small-P limits sqrt(2π)
    and 1/sqrt(2π)."""
    grid, kp = _andrews_table()
    root = math.sqrt(2 * math.pi)
    return (kp, np.concatenate(([root], grid[1:] / kp[1:])), grid,
            np.concatenate(([1 / root], kp[1:] / grid[1:])))


@functools.cache
def _andrews_table() -> tuple[np.ndarray, np.ndarray]:
    """``(P, κ')``: two ``(129,)`` float64 arrays, P = k/128 and κ'(P) (κ'(0) = 0), computed
    once (about 10 ms) by :func:`_reduced_adsorption_exact`."""
    p = np.arange(_TABLE_N + 1) / _TABLE_N
    return p, np.array([0.0] + [_reduced_adsorption_exact(q) for q in p[1:]])


def _reduced_adsorption_exact(p: float) -> float:
    """κ'(P) from the steady concentration profile beside a partially adsorbing plane under
    the kernels' rule (Andrews' method, solved as a linear system instead of iterated).

    In units of σ, x >= 0 the distance from the plane and g the standard normal density, the
    profile with unit far-field slope c(x) -> x + L obeys, for one step,
    ``c(x) = ∫₀^∞ c(y) [g(x - y) + (1 - p) g(x + y)] dy`` (arrivals at -x are reflected to
    x) and the flux balance ``p ∫₀^∞ c(y) Q(y) dy = D dt / σ² = 1/2`` (Q the normal upper
    tail: the fraction of a step from y that ends beyond the plane). A continuum face with
    the same far field has ``D ∂c/∂x = κ c`` at x = 0, so κ = D/L and κ' = 1/(2L). Solved
    by Nyström quadrature on [0, 8σ] with c = x + L beyond; at p = 1, L is Chernoff's
    constant -ζ(1/2)/sqrt(2π) = 0.5826 to 1e-12."""
    x, w, K0, K1, q_far, q_mirror, q_near = _andrews_grid()
    n, X = x.size, float(_REACH)
    a = np.empty((n + 1, n + 1))
    b = np.empty(n + 1)
    a[:n, :n] = np.eye(n) - K0 - (1 - p) * K1
    # ∫_X^∞ (y + L) g(y - s) dy = g(X - s) + (s + L) Q(X - s), for s = x and s = -x
    a[:n, n] = -(q_far + (1 - p) * q_mirror)
    b[:n] = _gauss(X - x) + x * q_far + (1 - p) * (_gauss(X + x) - x * q_mirror)
    a[n, :n] = p * w * q_near  # the beyond-X part of the balance is below 1e-15
    a[n, n] = 0.0
    b[n] = 0.5
    return 1.0 / (2.0 * np.linalg.solve(a, b)[n])


@functools.cache
def _andrews_grid():
    """Nyström grid of :func:`_reduced_adsorption_exact` (units of σ): nodes ``x`` and
    weights ``w`` (``(n,)``), the direct and mirrored step kernels ``K0``, ``K1``
    (``(n, n)``, weights included) and the normal tails Q(X - x), Q(X + x), Q(x)."""
    t, wt = np.polynomial.legendre.leggauss(_NODES)
    x = (np.arange(_REACH)[:, None] + (t + 1) / 2).ravel()
    w = np.tile(wt / 2, _REACH)
    tail = np.vectorize(lambda u: 0.5 * math.erfc(u / math.sqrt(2)))
    return (x, w, _gauss(x[:, None] - x) * w, _gauss(x[:, None] + x) * w,
            tail(_REACH - x), tail(_REACH + x), tail(x))


def _gauss(u):
    """Standard normal density at ``u`` (array or float)."""
    return np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)


# ---------------------------------------------------------------- time step

def max_safe_dt(values: dict) -> float:
    """Largest dt (ms) the scenario may use; see :func:`dt_limit`."""
    return dt_limit(values)[0]


def dt_limit(values: dict) -> tuple[float, str]:
    """Largest safe dt (ms) and what it prevents (a phrase after "dt = ... ms").

    Rules: the rms step ``sqrt(2 D dt)`` of the fastest species is at most half a pump face,
    a pore's width and a fifth of the narrowest compartment, and the sticking probability of
    every face and species (:func:`face_kappas`: capture, external Na+ rebinding at V = 0
    and internal K+ binding too; passage probability of every pore at V = 0) stays at or below
    :data:`STICK_P_MAX`: dt <= 2 D (κ'(P_max) / κ)² (:func:`sticking_probability`); and dt
    is at most the membrane's leak time constant C/g_L, so the potential's explicit step
    cannot overshoot.
    """
    D_na, D_k = values["ions.na.D"], values["ions.k.D"]
    D_max = max(D_na, D_k)
    xm, t = membrane_x(values), values["domain.membrane_thickness_um"]
    narrow = min(xm - t / 2, values["domain.width_um"] - xm - t / 2, values["domain.height_um"])
    step = "lets ions step past a capture face or compartment"
    limits = [(_sq(narrow) / (25 * 2 * D_max), step)]
    # The potential relaxes through the leak with tau = C / g_L (ms); explicit steps longer
    # than tau overshoot and, far beyond it, diverge.
    limits.append((values["membrane.C_uF_per_cm2"] / values["membrane.g_leak_mS_per_cm2"],
                   "exceeds the membrane's leak time constant C/g_L (V would oscillate)"))
    k_max = reduced_adsorption(STICK_P_MAX)
    stick = f"makes a capture or passage probability per crossing exceed {STICK_P_MAX:g}"
    if values["pumps.count"] > 0:
        limits.append((_sq(values["pumps.face_um"] / 2) / (2 * D_max), step))
        for kappa, D in face_kappas(values):
            if kappa > 0:
                limits.append((2 * D * _sq(k_max / kappa), stick))
    if channel_count(values) > 0:  # pores: rms step <= pore width; passage P <= P_max at V = 0
        limits.append((_sq(values["channels.pore_um"]) / (2 * D_max), step))
        for kappa, (_, sp) in zip(channel_kappas(values), CHANNEL_KINDS):
            if kappa > 0:
                limits.append((2 * values[f"ions.{sp}.D"] * _sq(k_max / kappa), stick))
    return min(limits, key=lambda lim: lim[0])


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
