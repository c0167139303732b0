"""The core's performance figures (``ionpump bench`` adds the renderer's, render.bench).

Figures: particle-steps per second by ion count (2-D, membrane, 100 pumps, the whole step:
move, captures, pump transitions), the same at 10 and 1000 pumps (the binning keeps the cost
flat), memory per ion, cold and warm start-up to the first step. Benchmarks measure; they
assert nothing.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .config import load_scenario
from .physics import AVOGADRO_PER_UM3_MM
from .simulation import Simulation


def bench_scenario(n_ions: int, pumps: int = 100):
    """A 10 × 10 µm box, membrane in the middle, four equal ion groups totalling ``n_ions``
    (the peers' workload, ../shared/peers/common.py), ``pumps`` pumps on the membrane; the
    patch alone (no population for the rest of a cell)."""
    c = 100.0  # mM of each of Na+ and K+ on each side
    area = 5.0 * 10.0  # µm² per compartment (membrane band excluded below)
    depth = n_ions / (4 * c * area * AVOGADRO_PER_UM3_MM)
    face = min(0.05, 5.0 / max(pumps, 1))  # pumps must fit on the 10 µm membrane
    dt = min(1.5e-4, (face / 2) ** 2 / (2 * 1.96))  # the largest safe dt for that face
    over = {"domain.width_um": 10.0, "domain.height_um": 10.0, "domain.depth_um": depth,
            "domain.membrane_thickness_um": 0.005, "pumps.count": pumps, "pumps.face_um": face,
            "time.dt_ms": dt, "time.sample_ms": 1e6, "channels.na_leak_count": 0,
            "channels.k_leak_count": 0, "channels.nav_count": 0, "channels.kv_count": 0,
            "ions.na.inside_mM": c, "ions.na.outside_mM": c, "ions.k.inside_mM": c,
            "ions.k.outside_mM": c, "membrane.cell_area_um2": 0.0}
    return load_scenario("resting", overrides=over)


def steps_per_second(n_ions: int, pumps: int = 100, seconds: float = 2.0) -> dict[str, Any]:
    """Particle-steps per second of the full step for ``n_ions`` ions (median of 3)."""
    sim = Simulation(bench_scenario(n_ions, pumps), seed=1)
    n = len(sim.ions)
    sim.step(2)  # compile / warm
    t0 = time.perf_counter()
    sim.step(5)
    per_step = max((time.perf_counter() - t0) / 5, 1e-7)
    k = max(5, int(seconds / 3 / per_step))
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        sim.step(k)
        rates.append(n * k / (time.perf_counter() - t0))
    return {"ions": n, "pumps": pumps, "steps": 3 * k,
            "particle_steps_per_s": float(np.median(rates)),
            "bytes_per_ion": sim.memory_bytes() / n}


def startup_seconds() -> dict[str, float]:
    """Wall time of a fresh process from launch to the end of the first step of `resting`,
    with an empty numba cache (cold) and again with that cache filled (warm)."""
    code = ("from particles import Simulation; s = Simulation('resting'); s.step(1)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            out[f"startup_{label}_s"] = time.perf_counter() - t0
    return out


def machine() -> str:
    """CPU model, core count and numba version and threads, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba

    return (f"{cpu}, {os.cpu_count()} cores, numba {numba.__version__} "
            f"({numba.get_num_threads()} threads)")


def run_all(quick: bool = False, progress: Callable[[str], Any] = print) -> dict[str, Any]:
    """Every core figure as one dict (``ionpump bench --json`` adds the renderer's).

    Args:
        quick: smaller sizes and shorter timings (a smoke test).
        progress: called with one line of text per figure measured.
    """
    res: dict[str, Any] = {"machine": machine()}
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    res["throughput"] = []
    for n in sizes:
        r = steps_per_second(n, seconds=0.5 if quick else 2.0)
        res["throughput"].append(r)
        progress(f"  {r['ions']:>9,} ions, {r['pumps']:>4} pumps: "
                 f"{r['particle_steps_per_s'] / 1e6:7.1f} M particle-steps/s, "
                 f"{r['bytes_per_ion']:.0f} B/ion")
    n_big = sizes[-1]
    res["pump_scaling"] = []
    for m in (10, 1000):
        r = steps_per_second(n_big, pumps=m, seconds=0.5 if quick else 2.0)
        res["pump_scaling"].append(r)
        progress(f"  {r['ions']:>9,} ions, {m:>4} pumps: "
                 f"{r['particle_steps_per_s'] / 1e6:7.1f} M particle-steps/s")
    res.update(startup_seconds())
    progress(f"  start-up to first step: cold {res['startup_cold_s']:.1f} s, "
             f"warm {res['startup_warm_s']:.1f} s")
    return res
