"""The kernels' parameter and environment vectors, derived from a scenario's values.

``par`` (``PAR_*`` slots of :mod:`particles.layout`) holds everything constant between
protocol ``set`` events: rates, membrane electrics, the box and the membrane faces, the rms
steps and sticking probabilities, the pump sites; ``env`` (``ENV_*``) starts the state the
kernels advance (ATP, V) and the switches events flip.
"""

from __future__ import annotations

import numpy as np

from .energetics import return_equilibrium, thermal_voltage_mV
from .physics import AVOGADRO_PER_UM3_MM, face_kappas, sticking_probability
from .layout import (ENV_ADP, ENV_ATP, ENV_BATH_ON, ENV_PI, PAR_ADP_SET, PAR_CLAMP,
                     PAR_CLAMP_MV, PAR_K_DEPHOS_B, PAR_K_K_OFF_OUT, PAR_K_K_REL_IN,
                     PAR_K_NA_OFF_IN, PAR_K_OCC_B, PAR_K_PHOS_B, PAR_KEQ_RET, PAR_KM_ADP,
                     PAR_PI_SET, PAR_VT, PAR_Z_NA, ENV_DIALYSIS_ON, ENV_OUABAIN, ENV_POISONED,
                     ENV_V, N_ENV, N_P_STICK, N_PAR, N_SITES, PAR_ATP_BASAL, PAR_ATP_PROD,
                     PAR_ATP_REGEN, PAR_ATP_SET, PAR_BATH_EVERY, PAR_BATH_X0, PAR_C, PAR_CH_BIAS,
                     PAR_CH_HALF, PAR_DIALYSIS_X1, PAR_DT, PAR_EL, PAR_FACE_HALF, PAR_GL,
                     PAR_HEIGHT, PAR_J_PER_CHARGE, PAR_K_DEPHOS, PAR_K_NAREL, PAR_K_OCC,
                     PAR_K_OUA_OFF, PAR_K_OUA_ON, PAR_K_PHOS, PAR_K_RET0, PAR_K_RET_ATP, PAR_KM_ATP,
                     PAR_KM_ATP_LOW, PAR_MM_PER_ATP,
                     PAR_P_STICK, PAR_SIGMA, PAR_SITE_DX, PAR_SITE_DY, PAR_TAU_J,
                     PAR_TAU_JCH, PAR_WIDTH, PAR_X_IN, PAR_X_MEM, PAR_X_OUT, PAR_Z_OCC, Species)
from .layout import (ENV_CONC, ENV_NUC, ENV_STIM_START, INSIDE, OUTSIDE, PAR_CH_RATE,
                     PAR_KON_K, PAR_KON_K_IN, PAR_KON_NA, PAR_KON_NA_OUT, PAR_MM_PER_ION,
                     PAR_CONC_WEIGHT, PAR_KP_REBIND, PAR_PHI, PAR_POP, PAR_POP_LEAK,
                     PAR_RECOUNT_EVERY, P_STICK_NA_REBIND)
from .gating import q10_factor
from .physics import CHANNEL_KINDS, patch_area_um2, population_scale
from .state import Geometry, site_offsets

CONC_WINDOW_MS = 2.0
"""Averaging window (ms) of the concentrations the rest of the membrane sees."""

E_CHARGE_C = 1.602176634e-19
"""Elementary charge (C)."""


def kernel_parameters(values: dict, geometry: Geometry, n_pumps: int,
                      pore_half_um: float) -> np.ndarray:
    """The ``(N_PAR,)`` float64 parameter vector for the scenario's current ``values``.

    Args:
        values: the scenario's values (every key of the schema).
        geometry: the box and the membrane.
        n_pumps: pumps on the patch (the current of one pump stands for 1/(m·rho) µm²).
        pore_half_um: half the width of a channel pore (µm).
    """
    par = np.zeros(N_PAR)
    _pump_and_energy(par, values, geometry, n_pumps)
    _space_and_motion(par, values, geometry, pore_half_um)
    return par


def _pump_and_energy(par: np.ndarray, v: dict, g: Geometry, n_pumps: int) -> None:
    """Rates of the pump cycle, ATP, membrane electrics and channel gating."""
    dt = v["time.dt_ms"]
    atp_prod = v["atp.production_mM_per_ms"]
    if atp_prod < 0:
        atp_prod = v["atp.basal_per_ms"] * v["atp.initial_mM"]
    par[PAR_DT] = dt
    par[PAR_K_PHOS] = v["pumps.k_phos_per_ms"]
    par[PAR_KM_ATP] = v["pumps.km_atp_mM"]
    par[PAR_K_OCC] = v["pumps.k_occlusion_per_ms"]
    par[PAR_K_NAREL] = v["pumps.k_na_release_per_ms"]
    par[PAR_K_DEPHOS] = v["pumps.k_dephos_per_ms"]
    par[PAR_K_RET0] = v["pumps.k_return_per_ms"]
    par[PAR_K_RET_ATP] = v["pumps.k_return_atp_per_ms"]
    par[PAR_KM_ATP_LOW] = v["pumps.km_atp_low_mM"]
    par[PAR_K_OUA_ON] = v["ouabain.k_on_per_mM_ms"]
    par[PAR_K_OUA_OFF] = v["ouabain.k_off_per_ms"]
    par[PAR_Z_OCC] = v["pumps.occlusion_charge"]
    _reverse_steps(par, v)
    par[PAR_ATP_PROD] = atp_prod
    par[PAR_ATP_BASAL] = v["atp.basal_per_ms"]
    par[PAR_MM_PER_ATP] = 1.0 / (g.area_in_um2 * g.depth_um * AVOGADRO_PER_UM3_MM)
    par[PAR_C] = v["membrane.C_uF_per_cm2"]
    par[PAR_GL] = v["membrane.g_leak_mS_per_cm2"]
    par[PAR_EL] = v["membrane.E_leak_mV"]
    # One charge moved in one step, as a current density (µA/cm²) on the membrane the
    # potential belongs to: the whole cell when it has an area (the patch's crossings are
    # then its real charges), else the area the patch stands for (physics.patch_area_um2).
    area = v["membrane.cell_area_um2"] or patch_area_um2(v, n_pumps)
    par[PAR_J_PER_CHARGE] = E_CHARGE_C / area * 1e8 / (dt * 1e-3) * 1e6
    par[PAR_TAU_J] = v["membrane.current_window_ms"]
    par[PAR_BATH_EVERY] = max(1, round(v["bath.every_ms"] / dt))
    par[PAR_ATP_REGEN] = v["atp.regen_per_ms"]
    par[PAR_ATP_SET] = v["atp.initial_mM"]
    par[PAR_TAU_JCH] = v["channels.current_window_ms"]
    par[PAR_CH_BIAS] = float(v["channels.voltage_bias"])
    _gating_and_population(par, v, g, n_pumps)


def _gating_and_population(par: np.ndarray, v: dict, g: Geometry, n_pumps: int) -> None:
    """The gating's Q10 factor, the pores' rates, and the rest of the membrane: whether it
    is a population, its leak pores, the pumps' binding constants per mM, the mM of one free
    ion in each compartment (its concentrations are recounted every 0.005 ms and averaged
    over :data:`CONC_WINDOW_MS`)."""
    par[PAR_PHI] = q10_factor(v["membrane.temperature_C"], v["channels.q10"])
    for t, (stem, _) in enumerate(CHANNEL_KINDS):
        par[PAR_CH_RATE + t] = v[f"channels.{stem}_per_mM_ms"]
    scale = population_scale(v, n_pumps)
    par[PAR_POP] = float(scale > 0)
    par[PAR_POP_LEAK:PAR_POP_LEAK + 2] = [scale * v["channels.na_leak_count"],
                                          scale * v["channels.k_leak_count"]]
    par[PAR_RECOUNT_EVERY] = max(1, round(0.005 / v["time.dt_ms"]))
    par[PAR_CONC_WEIGHT] = min(1.0, par[PAR_RECOUNT_EVERY] * v["time.dt_ms"] / CONC_WINDOW_MS)
    par[PAR_KON_NA] = v["pumps.kon_na_per_mM_ms"]
    par[PAR_KON_K] = v["pumps.kon_k_per_mM_ms"]
    par[PAR_KON_NA_OUT] = v["pumps.k_na_release_per_ms"] / v["pumps.kd_na_out_mM"]
    par[PAR_KON_K_IN] = v["pumps.k_k_release_per_ms"] / v["pumps.kd_k_in_mM"]
    for side, area in ((INSIDE, g.area_in_um2), (OUTSIDE, g.area_out_um2)):
        par[PAR_MM_PER_ION + side] = 1.0 / (area * g.depth_um * AVOGADRO_PER_UM3_MM)


def _reverse_steps(par: np.ndarray, v: dict) -> None:
    """Backward rates, the voltage split and the detailed-balance constant (MODEL.md §2b),
    the voltage clamp and the ADP and Pi set points."""
    par[PAR_K_PHOS_B] = v["pumps.k_phos_back_per_ms"]
    par[PAR_KM_ADP] = v["pumps.km_adp_mM"]
    par[PAR_K_OCC_B] = v["pumps.k_occlusion_back_per_ms"]
    par[PAR_K_DEPHOS_B] = v["pumps.k_dephos_back_per_mM_ms"]
    # within float range: extreme (valid) rates must not make a rate divide by zero
    par[PAR_KEQ_RET] = min(max(return_equilibrium(v), 1e-300), 1e300)
    par[PAR_K_NA_OFF_IN] = v["pumps.kon_na_per_mM_ms"] * v["pumps.kd_na_in_mM"]
    par[PAR_K_K_REL_IN] = v["pumps.k_k_release_per_ms"]
    par[PAR_K_K_OFF_OUT] = v["pumps.kon_k_per_mM_ms"] * v["pumps.kd_k_out_mM"]
    par[PAR_Z_NA] = (1.0 - v["pumps.occlusion_charge"]) / 3.0
    par[PAR_VT] = thermal_voltage_mV(v["membrane.temperature_C"])
    par[PAR_CLAMP] = float(v["membrane.clamp"])
    par[PAR_CLAMP_MV] = v["membrane.clamp_mV"]
    par[PAR_ADP_SET] = v["atp.adp_mM"]
    par[PAR_PI_SET] = v["atp.pi_mM"]


def _space_and_motion(par: np.ndarray, v: dict, g: Geometry, pore_half_um: float) -> None:
    """The box, the membrane faces and sites, exchange zones, rms steps, sticking."""
    dt = v["time.dt_ms"]
    D = np.array([v[f"ions.{s.name.lower()}.D"] for s in Species])
    sigma = np.sqrt(2.0 * D * dt)
    par[PAR_SIGMA:PAR_SIGMA + len(Species)] = sigma
    # Sticking probability per crossing from the adsorption coefficient by the full relation
    # (Andrews 2009; physics.sticking_probability), in the P_STICK_* order of face_kappas.
    kappas = face_kappas(v)
    par[PAR_P_STICK:PAR_P_STICK + N_P_STICK] = [
        sticking_probability(kappa, dt, d) for kappa, d in kappas]
    # the rebinding's κ' takes the ion well's voltage factor in the kernel (kernels.pumps)
    kappa, d = kappas[P_STICK_NA_REBIND]
    par[PAR_KP_REBIND] = kappa * np.sqrt(dt / (2.0 * d))
    par[PAR_WIDTH] = g.width_um
    par[PAR_HEIGHT] = g.height_um
    par[PAR_X_IN] = g.x_in_face
    par[PAR_X_OUT] = g.x_out_face
    par[PAR_X_MEM] = g.membrane_x_um
    par[PAR_FACE_HALF] = g.pump_face_um / 2
    par[PAR_BATH_X0] = g.width_um - v["bath.zone_um"]
    par[PAR_DIALYSIS_X1] = v["dialysis.zone_um"]
    par[PAR_CH_HALF] = pore_half_um
    offsets = site_offsets(g)
    par[PAR_SITE_DX:PAR_SITE_DX + N_SITES] = offsets[:, 0]
    par[PAR_SITE_DY:PAR_SITE_DY + N_SITES] = offsets[:, 1]


def initial_environment(values: dict) -> np.ndarray:
    """The ``(N_ENV,)`` float64 environment at the start of a run."""
    env = np.zeros(N_ENV)
    env[ENV_ATP] = values["atp.initial_mM"]
    env[ENV_ADP] = values["atp.adp_mM"]
    env[ENV_PI] = values["atp.pi_mM"]
    env[ENV_V] = (values["membrane.clamp_mV"] if values["membrane.clamp"]
                  else values["membrane.v_initial_mV"])
    env[ENV_OUABAIN] = values["ouabain.concentration_mM"]
    env[ENV_POISONED] = float(values["atp.poisoned"])
    env[ENV_BATH_ON] = float(values["bath.clamped"])
    env[ENV_DIALYSIS_ON] = float(values["dialysis.clamped"])
    env[ENV_STIM_START] = -1.0  # no stimulus yet (ENV_STIM_COUNT = 0)
    env[ENV_NUC:ENV_NUC + 3] = env[ENV_ATP], env[ENV_ADP], env[ENV_PI]
    for s in Species:
        for side, where in ((INSIDE, "inside"), (OUTSIDE, "outside")):
            env[ENV_CONC + 2 * s + side] = values[f"ions.{s.name.lower()}.{where}_mM"]
    return env
