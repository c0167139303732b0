"""The pump's energetics (MODEL.md §2b): free energies, reversal potential, the detailed-
balance constant of the return step, the mean-field rates of the reversible cycle and its
steady-state turnover (the exact well-mixed master equation).

Conventions: V is inside minus outside (mV); one forward cycle moves 3 Na+ out, 2 K+ in,
hydrolyses one ATP and carries one positive charge outward. Concentrations in mM; the
standard state of ΔG0′ is 1 M (1000 mM).
"""

from __future__ import annotations

import math

import numpy as np

from .layout import ENV_CONC, INSIDE, OUTSIDE, K, NA

GAS_CONSTANT = 8.314462618e-3
"""R (kJ/(mol·K))."""
FARADAY = 96.48533212
"""F (kJ/(mol·V)), i.e. C/mol / 1000."""


def rt_kJ(temperature_C: float) -> float:
    """RT (kJ/mol) at ``temperature_C``."""
    return GAS_CONSTANT * (temperature_C + 273.15)


def thermal_voltage_mV(temperature_C: float) -> float:
    """RT/F (mV) at ``temperature_C``."""
    return 1000.0 * rt_kJ(temperature_C) / FARADAY


def dg_atp(atp_mM: float, adp_mM: float, pi_mM: float, dg0: float,
           temperature_C: float) -> float:
    """ΔG of ATP hydrolysis (kJ/mol): ``ΔG0′ + RT ln([ADP][Pi]/[ATP])`` (concentrations in
    M); -inf without ADP or Pi, +inf without ATP."""
    if adp_mM <= 0 or pi_mM <= 0:
        return -math.inf if atp_mM > 0 else math.nan
    if atp_mM <= 0:
        return math.inf
    return dg0 + rt_kJ(temperature_C) * math.log(adp_mM * pi_mM / (atp_mM * 1000.0))


def _ln_ratio(a: float, b: float) -> float:
    """ln(a/b), ±inf when one of them is 0, nan when both are."""
    la = math.log(a) if a > 0 else -math.inf
    lb = math.log(b) if b > 0 else -math.inf
    return la - lb if math.isfinite(la) or math.isfinite(lb) else math.nan


def transport_work(na_in: float, na_out: float, k_in: float, k_out: float, v_mV: float,
                   temperature_C: float) -> float:
    """Free energy (kJ/mol) of moving 3 Na+ out, 2 K+ in and one charge out:
    ``3 RT ln(Na_o/Na_i) + 2 RT ln(K_i/K_o) − F V`` (infinite or nan when an ion is
    missing)."""
    rt = rt_kJ(temperature_C)
    na, k = _ln_ratio(na_out, na_in), _ln_ratio(k_in, k_out)
    if (na == math.inf and k == -math.inf) or (na == -math.inf and k == math.inf):
        return math.nan
    return 3 * rt * na + 2 * rt * k - FARADAY * v_mV * 1e-3


def dg_cycle(atp_mM, adp_mM, pi_mM, na_in, na_out, k_in, k_out, v_mV, dg0,
             temperature_C) -> float:
    """ΔG of one forward cycle (kJ/mol); negative: forward is downhill."""
    return _sum(dg_atp(atp_mM, adp_mM, pi_mM, dg0, temperature_C),
                transport_work(na_in, na_out, k_in, k_out, 0.0, temperature_C)) \
        - FARADAY * v_mV * 1e-3


def _sum(a: float, b: float) -> float:
    """a + b, nan (not an error) for inf − inf."""
    return a + b if not (math.isinf(a) and math.isinf(b) and a != b) else math.nan


def reversal_mV(atp_mM, adp_mM, pi_mM, na_in, na_out, k_in, k_out, dg0,
                temperature_C) -> float:
    """The potential (mV) at which ΔG_cycle = 0: the pump runs forward above it."""
    g = _sum(dg_atp(atp_mM, adp_mM, pi_mM, dg0, temperature_C),
             transport_work(na_in, na_out, k_in, k_out, 0.0, temperature_C))
    return g / FARADAY * 1e3


def return_equilibrium(v: dict) -> float:
    """Equilibrium constant of E2(2K) ⇌ E1(2K) (forward/backward rate, dimensionless) that
    closes detailed balance around the cycle, from the scenario's values ``v``.

    Around one cycle ``Π k+ / Π k− = exp(−ΔG0′/RT)·1000 mM·[ATP]/([ADP][Pi]) ×
    (Na_i/Na_o)³ (K_o/K_i)² exp(FV/RT)``. The ion and voltage factors cancel against the
    binding steps (k_on·c against k_off, with the voltage split over the charged steps,
    which carry one charge in all); what remains fixes this constant."""
    rt = rt_kJ(v["membrane.temperature_C"])
    others = (v["pumps.kd_na_in_mM"] ** -3
              * (v["pumps.k_phos_per_ms"] / v["pumps.km_atp_mM"])
              / (v["pumps.k_phos_back_per_ms"] / v["pumps.km_adp_mM"])
              * v["pumps.k_occlusion_per_ms"] / v["pumps.k_occlusion_back_per_ms"]
              * v["pumps.kd_na_out_mM"] ** 3 * v["pumps.kd_k_out_mM"] ** -2
              * v["pumps.k_dephos_per_ms"] / v["pumps.k_dephos_back_per_mM_ms"]
              * v["pumps.kd_k_in_mM"] ** 2)
    if others == 0.0:  # a forward rate of 0 (e.g. no phosphorylation): never back either
        return math.inf
    return 1000.0 * math.exp(-v["atp.dg0_kJ_per_mol"] / rt) / others


#: Names of the 14 steps of the cycle, in order from E1 (empty, inward-open).
CYCLE_STEP_NAMES = (["Na+ binds inside"] * 3 + ["phosphorylation", "E1P -> E2P"]
                    + ["Na+ released outside"] * 3 + ["K+ binds outside"] * 2
                    + ["dephosphorylation", "E2 -> E1", "K+ released inside",
                       "K+ released inside"])


def cycle_rates(par: np.ndarray, env: np.ndarray, rate: np.ndarray, na_in: float,
                na_out: float, k_in: float, k_out: float) -> list[tuple[str, float, float]]:
    """Mean-field rates (1/ms) of the 14 steps around the cycle, forward and backward: the
    rates the rest of the membrane's pumps run on (:func:`particles.kernels.ring_matrix`).

    Binding steps are ``k_on·c`` (the agents' capture rate of an open face at bulk
    concentration ``c`` mM) against ``k_off``; first-order steps come from ``rate`` (the
    kernel's ``R_*`` rates, with ATP, ADP, Pi and the V of ``env`` applied). The congener
    path and ouabain are not part of the cycle.

    Args:
        par, env: the kernel's parameter and environment vectors (``env`` is not changed).
        rate: ``(N_RATE,)`` from :func:`particles.kernels.pump_rates` at ``par``, ``env``.
        na_in, na_out, k_in, k_out: free concentrations (mM).

    Returns:
        ``[(name, k_forward, k_backward)]`` in the order of :data:`CYCLE_STEP_NAMES`.
    """
    from .kernels import ring_matrix

    at = env.copy()
    for conc, s, side in ((na_in, NA, INSIDE), (na_out, NA, OUTSIDE), (k_in, K, INSIDE),
                          (k_out, K, OUTSIDE)):
        at[ENV_CONC + 2 * s + side] = conc
    q = ring_matrix(par, at, rate)
    n = len(CYCLE_STEP_NAMES)
    return [(name, float(q[j, (j + 1) % n]), float(q[(j + 1) % n, j]))
            for j, name in enumerate(CYCLE_STEP_NAMES)]


def steady_state(q: np.ndarray) -> np.ndarray:
    """Steady-state probabilities ``(S,)`` of a Markov chain with rates ``q (S, S)`` (1/ms,
    from state i to j): the null vector of its generator with Σp = 1 (least squares on the
    stacked, full-rank system: exact for an irreducible chain; unreachable states get 0)."""
    gen = q.T - np.diag(q.sum(axis=1))
    a = np.vstack([gen, np.ones(len(q))])
    b = np.zeros(len(q) + 1)
    b[-1] = 1.0
    p, *_ = np.linalg.lstsq(a, b, rcond=None)
    p = np.clip(p, 0.0, None)
    return p / p.sum()


def ring_turnover(steps: list[tuple[str, float, float]]) -> float:
    """Net cycles per ms of one pump in the well-mixed steady state of its cycle: the exact
    solution of the master equation of a ring of N states (step j leads from state j to
    j+1 mod N at ``k+_j`` and back at ``k-_j``): the steady probabilities p of
    :func:`steady_state`, and the net flux ``p_j k+_j − p_{j+1} k-_j``, the same through
    every step. Positive: forward.

    Args:
        steps: ``[(name, k_forward, k_backward)]`` (1/ms), e.g. :func:`cycle_rates`.
    """
    k = np.array([(f, b) for _, f, b in steps], dtype=float)
    n = len(k)
    j = np.arange(n)
    nxt = (j + 1) % n
    q = np.zeros((n, n))
    np.add.at(q, (j, nxt), k[:, 0])
    np.add.at(q, (nxt, j), k[:, 1])
    p = steady_state(q)
    return float(p[0] * k[0, 0] - p[1 % n] * k[0, 1])
