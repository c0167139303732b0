"""A shared check: a run saved to a checkpoint and continued equals the run itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from particles import Simulation
from particles.checkpoint import load_checkpoint, save_checkpoint


def assert_resumes_bit_for_bit(sim: Simulation, tmp_path: Path, first_ms: float,
                               more_ms: float) -> Simulation:
    """Run ``sim`` for ``first_ms``, checkpoint it, run ``more_ms`` more; load the checkpoint
    and run the same ``more_ms``: the results tables, the ions' positions, the environment
    and the pores' gating states must be identical. Returns the resumed simulation."""
    sim.run(first_ms)
    path = save_checkpoint(sim, tmp_path / "resume.ionpump")
    sim.run(more_ms)
    resumed, _ = load_checkpoint(path)
    resumed.run(more_ms)
    assert sim.timeseries().to_csv() == resumed.timeseries().to_csv()
    assert np.array_equal(sim.ions.x, resumed.ions.x)
    assert np.array_equal(sim.env, resumed.env)
    assert np.array_equal(sim.channels.gate, resumed.channels.gate)
    return resumed
