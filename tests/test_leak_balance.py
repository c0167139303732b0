"""Scenarios meant to sit at a steady state hold their gradients because their leak pores
let back what their pumps carry: at the scenario's starting V and concentrations the Na+
pores let in 3 Na+ and the K+ pores out 2 K+ per net cycle of the pumps' master equation.
Passage per pore follows the channels' exponential V dependence (``particles.physics``;
the symmetric Eyring barrier exp(∓V/2V_T)); the expectation is computed here from the
scenario's numbers, not read from the kernel."""

import math

import pytest

from particles import Simulation, load_scenario
from particles.energetics import ring_turnover, thermal_voltage_mV


def _pumped_and_leaked(name: str) -> tuple[float, float, float, float]:
    """(Na+ pumped out, Na+ leaked in, K+ pumped in, K+ leaked out) per ms at the start."""
    v = load_scenario(name).values
    V = v["membrane.v_initial_mV"]
    clamped = load_scenario(name, overrides={"membrane.clamp": True, "membrane.clamp_mV": V})
    sim = Simulation(clamped, seed=1)
    conc = {"na_in": v["ions.na.inside_mM"], "na_out": v["ions.na.outside_mM"],
            "k_in": v["ions.k.inside_mM"], "k_out": v["ions.k.outside_mM"]}
    cycles = ring_turnover(sim.cycle_rates(**conc)) * v["pumps.count"]
    f = math.exp(-V / (2 * thermal_voltage_mV(v["membrane.temperature_C"])))
    na = v["channels.na_leak_count"] * v["channels.na_leak_per_mM_ms"] * (
        conc["na_out"] * f - conc["na_in"] / f)
    k = v["channels.k_leak_count"] * v["channels.k_leak_per_mM_ms"] * (
        conc["k_in"] / f - conc["k_out"] * f)
    return 3 * cycles, na, 2 * cycles, k


@pytest.mark.parametrize("name", ["pump-cycle", "resting", "resting-timelapse"])
def test_leak_pores_carry_what_the_pumps_carry_at_rest(name):
    """A miscalibration moves, over the scenario's default run, fewer ions than one standard
    deviation of the leak crossings' Poisson noise (pump-cycle's rates from the
    irreversible pump's time let in 6x its Na+: 20 times that)."""
    t = load_scenario(name).values["time.duration_ms"]
    na_out, na_in, k_in, k_out = _pumped_and_leaked(name)
    for pumped, leaked in ((na_out, na_in), (k_in, k_out)):
        assert pumped > 0
        assert abs(leaked - pumped) * t < math.sqrt(pumped * t), (name, pumped, leaked)
