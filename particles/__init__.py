"""ionpump: an agent-based particle simulation of the sodium-potassium pump.

Public API::

    from particles import Simulation, load_scenario
    sim = Simulation(load_scenario("resting", overrides={"pumps.count": 20}), seed=1)
    sim.run(duration_ms=10.0)
    sim.timeseries()

The names are imported on first use (PEP 562), so that ``import particles`` (and the
``ionpump`` command's first instant, before it handles Ctrl-C) stays light.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from . import jit  # noqa: F401  first: chooses numba's cache directory before numba loads

try:  # the one version source: the installed distribution's metadata (pyproject.toml)
    __version__ = version("ionpump")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {"Simulation": ".simulation", "load_scenario": ".config", "ScenarioError": ".config",
         "PumpState": ".state", "Side": ".state", "Species": ".state"}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
