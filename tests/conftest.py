"""Shared fixtures: small scenarios built from built-in ones with overrides."""

import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from particles import Simulation, load_scenario  # noqa: E402

FREE_BOX = {  # a box with no pumps: free diffusion and reflection only
    "pumps.count": 0,
    "domain.width_um": 20.0,
    "domain.height_um": 20.0,
    "domain.depth_um": 1e-6,
    "time.dt_ms": 1e-3,
    "ions.na.inside_mM": 200.0, "ions.na.outside_mM": 200.0,
    "ions.k.inside_mM": 200.0, "ions.k.outside_mM": 200.0,
    "channels.na_leak_count": 0, "channels.k_leak_count": 0,
    "channels.nav_count": 0, "channels.kv_count": 0,
}


@pytest.fixture
def make_sim():
    """make_sim(base, seed=1, **overrides) -> Simulation (dotted keys via a dict)."""

    def make(base="resting", seed=1, overrides=None):
        return Simulation(load_scenario(base, overrides=overrides or {}), seed=seed)

    return make
