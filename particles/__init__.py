"""ionpump: an agent-based particle simulation of the sodium-potassium pump.

Public API::

    from particles import Simulation, load_scenario
    sim = Simulation(load_scenario("resting", overrides={"pumps.count": 20}), seed=1)
    sim.run(duration_ms=10.0)
    sim.timeseries()
"""

from . import jit  # noqa: F401  first: chooses numba's cache directory before numba loads
from .config import ScenarioError, load_scenario
from .simulation import Simulation
from .state import PumpState, Side, Species

__version__ = "0.2.0"
__all__ = ["Simulation", "load_scenario", "ScenarioError", "PumpState", "Side", "Species",
           "__version__"]
