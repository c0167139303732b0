"""The seam between the simulation and everything else (issue 12): the layout registry, the
kernel entry's grouped arguments, and the Simulation as the only writer of its state."""

import copy
import inspect

import numpy as np
import pytest

from particles import Simulation, kernels, layout, load_scenario
from particles.config import ScenarioError
from particles.kernels import step
from particles.state import PumpState, Side, Species

CELL = {"channels.nav_count": 1, "channels.kv_count": 1}


def _cell(**over):
    sc = load_scenario("ouabain", overrides={**CELL, **over})
    sc.protocol = []
    return Simulation(sc, seed=1)


def test_kernel_entry_takes_at_most_12_grouped_arguments():
    assert len(inspect.signature(step._advance.py_func).parameters) <= 12
    assert len(inspect.signature(kernels.advance).parameters) <= 12


def test_state_codes_come_from_the_layout_registry():
    assert (PumpState, Side, Species) == (layout.PumpState, layout.Side, layout.Species)
    assert [layout.E1, layout.E2P, layout.BLOCKED] == [PumpState.E1, PumpState.E2P,
                                                       PumpState.BLOCKED]
    assert all(type(c) is int for c in (layout.NA, layout.K, layout.INSIDE, layout.E2P_2K))
    sim = _cell()
    assert [f"pumps_{s.name}" for s in PumpState] == [
        c for c in sim.timeseries().columns if c.startswith("pumps_")]
    assert len(sim.par) == layout.N_PAR and len(sim.env) == layout.N_ENV
    # counter blocks in order, without overlap, within the counters array
    blocks = [layout.C_BATH_ADDED, layout.C_BATH_REMOVED, layout.C_CHARGE_OUT,
              layout.C_DIALYSIS, layout.C_DIALYSIS_REMOVED, layout.C_CHANNEL]
    widths = [layout.N_SPECIES, layout.N_SPECIES, 1, layout.N_SPECIES, layout.N_SPECIES,
              layout.N_CHP]
    assert all(a + w == b for a, w, b in zip(blocks, widths, blocks[1:]))
    assert layout.C_CHANNEL + layout.N_CHP <= layout.N_COUNTERS


def test_read_members_follow_events():
    sim = _cell()
    assert not sim.poisoned and sim.ouabain_mM == 0.0
    assert sim.gates_open() == (False, False)
    sim.apply_event("poison")
    sim.apply_event("ouabain", mM=0.002)
    assert sim.poisoned and sim.ouabain_mM == 0.002
    sim.apply_event("washout")
    assert not sim.poisoned and sim.ouabain_mM == 0.0
    sim.apply_event("stimulate", amplitude_uA_per_cm2=30.0, duration_ms=0.5, count=2,
                    interval_ms=2.0)
    assert sim.stimulus_uA_cm2 == 0.0  # the kernel injects it from the next step on
    sim.run(0.3)
    assert sim.stimulus_uA_cm2 == 30.0
    sim.run(1.0)  # between the pulses
    assert sim.stimulus_uA_cm2 == 0.0
    sim.run(1.0)  # 0.3 ms into the second pulse
    assert sim.stimulus_uA_cm2 == 30.0
    sim.run(2.0)
    assert sim.stimulus_uA_cm2 == 0.0
    on = sim.channels.conducting()
    kinds = sim.channels.type
    assert sim.gates_open() == (bool(on[kinds == layout.CH_NAV].any()),
                                bool(on[kinds == layout.CH_KV].any()))


def test_memory_bytes_counts_ions_pumps_and_scratch():
    sim = _cell()
    ions = sum(a.nbytes for a in sim.ions.arrays().values())
    proposals = 2 * 4 * len(sim.ions)  # two int32 per ion
    assert sim.memory_bytes() >= ions + proposals
    n0, m0 = len(sim.ions), sim.memory_bytes()
    sim.add_ions("na", "inside", 3 * n0)  # grows the reservoir and the scratch
    assert sim.memory_bytes() > m0 + 2 * (ions + proposals)


def test_set_value_refuses_keys_fixed_for_the_run_and_bad_values():
    sim = _cell()
    with pytest.raises(ScenarioError, match="cannot change during a run"):
        sim.set_value("domain.width_um", 3.0)
    with pytest.raises(ScenarioError):
        sim.set_value("pumps.k_phos_per_ms", "fast")
    before = sim.par.copy()
    sim.set_value("pumps.k_phos_per_ms", 2 * sim.scenario["pumps.k_phos_per_ms"])
    assert sim.par[layout.PAR_K_PHOS] == 2 * before[layout.PAR_K_PHOS]


def test_a_set_event_keeps_the_poison_and_ouabain_of_earlier_events():
    """Poison and ouabain given as events stay in force when a later ``set`` changes another
    value (they used to be reset to the scenario file's values)."""
    sim = _cell()
    sim.apply_event("poison")
    sim.apply_event("ouabain", mM=2e-3)
    sim.set_value("pumps.k_phos_per_ms", 2 * sim.scenario["pumps.k_phos_per_ms"])
    assert sim.env[layout.ENV_POISONED] == 1.0
    assert sim.env[layout.ENV_OUABAIN] == 2e-3
    sim.apply_event("washout")
    sim.set_value("pumps.k_phos_per_ms", sim.scenario["pumps.k_phos_per_ms"] / 2)
    assert sim.env[layout.ENV_POISONED] == 0.0 and sim.env[layout.ENV_OUABAIN] == 0.0


def test_exchanges_take_names_or_codes_and_refuse_others():
    sim = _cell()
    n_in = sim.counts()["na_in"]
    assert sim.add_ions("na", "inside", 4) == 4
    assert sim.add_ions(Species.NA, Side.INSIDE, 2) == 2
    assert sim.counts()["na_in"] == n_in + 6
    assert sim.remove_ions(layout.NA, layout.INSIDE, 6) == 6
    assert sim.counts()["na_in"] == n_in
    with pytest.raises(ValueError, match="expected one of na, k"):
        sim.add_ions("ca", "inside", 1)
    with pytest.raises(ValueError, match="expected one of inside, outside"):
        sim.remove_ions("k", Side.RESERVOIR, 1)


def test_snapshot_restore_continues_identically():
    a = _cell().run(0.3)
    b = _cell()
    b.restore(copy.deepcopy(a.snapshot()))
    a.run(0.3)
    b.run(0.3)
    assert a.timeseries().to_csv() == b.timeseries().to_csv()
    np.testing.assert_array_equal(a.ions.x, b.ions.x)


def test_public_kernels_compile_one_signature_each():
    """A test calling a public kernel uses the signature the simulation compiles (issue 18:
    a second cached specialisation with optional arguments crashed the next process)."""
    sim = _cell()
    sim.run(0.2)
    i = sim.ions
    kernels.move(sim.seed, sim.step_index, i.kernel_arrays(), sim.pumps.kernel_arrays(),
                 sim.channels.kernel_arrays(), sim.par, kernels.scratch(len(i)))
    kernels.count(i.kernel_arrays())
    sim.label_tracer(0.5)
    sim.gates_open()
    sim.pump_rates()
    for f in (kernels.step._advance, kernels.motion._move, kernels.ions._count,
              kernels.ions._label_tracer, kernels.membrane._stimulus, kernels.pumps._rates,
              kernels.gating._gate_pores, kernels.population._population):
        assert len(f.signatures) <= 1, (f, f.signatures)
