"""Particle-steps per second of `ionpump bench`'s workload with channel pores present
(issue 14: voltage-gated pores gate as Hodgkin-Huxley Markov chains every step; the cost
must stay within 10 % of the same workload before gating existed).

Run it in two checkouts (before and after) on the same machine, one after the other:

    .venv/bin/python benchmarks/channels.py

It prints, for 10^4 and 10^5 ions with 100 pumps and 8 Nav, 8 Kv, 8 leak pores, the
median particle-steps per second of 5 measurements of about 2 s each.
"""

import time

import numpy as np

from particles import Simulation
from particles.bench import bench_scenario
from particles.config import load_scenario

CHANNELS = {"channels.na_leak_count": 4, "channels.k_leak_count": 4, "channels.nav_count": 8,
            "channels.kv_count": 8, "channels.pore_um": 0.05, "channels.na_leak_per_mM_ms": 0.001,
            "channels.k_leak_per_mM_ms": 0.001, "channels.nav_per_mM_ms": 0.001,
            "channels.kv_per_mM_ms": 0.001}


def rate(n_ions: int) -> float:
    """Median particle-steps per second (5 measurements) with the pores present."""
    base = bench_scenario(n_ions)
    sc = load_scenario("resting", overrides={**{k: base.values[k] for k in base.values
                                                if k.startswith(("domain.", "pumps.", "time.",
                                                                 "ions.", "membrane."))},
                                             **CHANNELS})
    sc.protocol = []
    sim = Simulation(sc, seed=1)
    sim.step(3)
    t0 = time.perf_counter()
    sim.step(5)
    k = max(5, int(2.0 / max((time.perf_counter() - t0) / 5, 1e-7)))
    out = []
    for _ in range(5):
        t0 = time.perf_counter()
        sim.step(k)
        out.append(len(sim.ions) * k / (time.perf_counter() - t0))
    return float(np.median(out))


if __name__ == "__main__":
    for n in (10_000, 100_000):
        print(f"{n:>7} ions: {rate(n) / 1e6:6.1f} M particle-steps/s")
