"""Soak test: a long run checked for exact conservation, ions in bounds and flat memory.

Runs by hand (too long for the test suite; tests/test_reliability.py runs a short version)::

    .venv/bin/python benchmarks/soak.py                       # 10^7 steps of `resting`
    .venv/bin/python benchmarks/soak.py --steps 2e6 --set domain.depth_um=2e-5

Every ``--check-every`` steps it checks, exactly (integers, no tolerance):

- every species keeps its ion count (``resting`` has no bath or dialysis); the free counts of
  the results row plus the bound ions add up to it;
- no free ion lies inside the membrane band or outside the box, and each free ion lies in
  the compartment its ``side`` says;
- pump bookkeeping: each bound ion is held by exactly one site, site counts match, the
  counters obey the cycle's stoichiometry (2 ions in per cycle; 3 Na+ out per cycle, up to
  one unfinished cycle per pump), per-pump cycles add up to the total;
- resident memory (VmRSS) after the first check grows by less than ``--rss-slack`` MiB
  beyond what the recorded rows need.

It prints one line per check and a summary, and exits 1 on the first failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from particles import Simulation, load_scenario  # noqa: E402
from particles import layout  # noqa: E402
from particles.config import parse_assignment  # noqa: E402
from particles.state import Side, Species  # noqa: E402


def rss_mib() -> float:
    """Resident memory now (MiB), from /proc (ru_maxrss only ever grows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def species_totals(sim) -> dict[int, int]:
    live = sim.ions.side != Side.RESERVOIR
    return {int(sp): int(np.count_nonzero(live & (sim.ions.species == sp))) for sp in Species}


def check_sound(sim, totals: dict[int, int]) -> list[str]:
    """Every soundness violation now (empty list: all well)."""
    bad = []
    i, g, p, c = sim.ions, sim.geometry, sim.pumps, sim.counters
    live = i.side != Side.RESERVOIR
    free = live & ~i.bound
    fx, fy = i.x[free], i.y[free]
    n_out = np.count_nonzero((fx < 0) | (fx > g.width_um) | (fy < 0) | (fy > g.height_um))
    if n_out:
        bad.append(f"{n_out} free ions outside the box")
    n_band = np.count_nonzero((fx > g.x_in_face) & (fx < g.x_out_face))
    if n_band:
        bad.append(f"{n_band} free ions inside the membrane band")
    wrong = (np.count_nonzero(free & (i.side == Side.INSIDE) & (i.x > g.x_in_face))
             + np.count_nonzero(free & (i.side == Side.OUTSIDE) & (i.x < g.x_out_face)))
    if wrong:
        bad.append(f"{wrong} free ions on the wrong side of the membrane")
    now = species_totals(sim)
    if now != totals:
        bad.append(f"ion counts changed: {totals} -> {now}")
    row = sim.counts()
    if row["na_in"] + row["na_out"] + row["na_bound"] != totals[Species.NA] or \
            row["k_in"] + row["k_out"] + row["k_bound"] != totals[Species.K]:
        bad.append(f"results row does not add up: {row}")
    held = p.sites[p.sites >= 0]
    if len(np.unique(held)) != len(held) or len(held) != np.count_nonzero(i.bound & live) \
            or not np.all(i.bound[held]):
        bad.append("bound ions and pump sites disagree")
    if not (np.array_equal(p.n_na, (p.sites[:, :3] >= 0).sum(1))
            and np.array_equal(p.n_k, (p.sites[:, 3:] >= 0).sum(1))):
        bad.append("pump site counts disagree with the sites")
    cyc = int(c[layout.C_CYCLES])
    if int(p.cycles.sum()) != cyc:
        bad.append(f"per-pump cycles {int(p.cycles.sum())} != total {cyc}")
    # net counts (issue 13: every step reversible): within the ions of cycles in progress
    ions_in = int(c[layout.C_K_IN] + c[layout.C_NA_IN])
    if abs(ions_in - 2 * cyc) > 2 * len(p):
        bad.append(f"ions carried in {ions_in} not within 2 x {cyc} cycles (+2 per pump)")
    if abs(int(c[layout.C_NA_OUT]) - 3 * cyc) > 3 * len(p):
        bad.append(f"Na+ out {int(c[layout.C_NA_OUT])} not within 3 x cycles (+3 per pump)")
    if int(c[layout.C_CHARGE_OUT]) != int(c[layout.C_NA_OUT]) - ions_in:
        bad.append("net charge out != Na+ out - ions in")
    if not (np.isfinite(sim.env).all() and sim.atp_mM >= 0):
        bad.append(f"environment not finite or ATP negative: {sim.env}")
    return bad


def soak(scenario: str, overrides: dict, steps: int, check_every: int, seed: int,
         rss_slack_mib: float, out=print) -> dict:
    sim = Simulation(load_scenario(scenario, overrides=overrides), seed=seed)
    totals = species_totals(sim)
    out(f"soak: {scenario} {overrides or ''} seed {seed}: {len(sim.ions):,} ions, "
        f"{len(sim.pumps)} pumps, dt {sim.dt_ms:g} ms, {steps:,} steps "
        f"({steps * sim.dt_ms:g} ms), checks every {check_every:,} steps")
    t0 = time.perf_counter()
    rss0 = None
    rows0 = 0
    result = {"ok": True, "failures": []}
    while sim.step_index < steps:
        sim.run_steps(min(check_every, steps - sim.step_index))
        bad = check_sound(sim, totals)
        rss = rss_mib()
        if rss0 is None:  # after the first block: compiled, warmed, scratch allocated
            rss0, rows0 = rss, len(sim.recorder.rows)
        rows_mib = (len(sim.recorder.rows) - rows0) * (40 * 60 + 8 * len(sim.pumps)) / 2**20
        growth = rss - rss0 - rows_mib
        if growth > rss_slack_mib:
            bad.append(f"RSS grew by {growth:.1f} MiB beyond the recorded rows")
        wall = time.perf_counter() - t0
        out(f"  step {sim.step_index:>11,}  t {sim.time_ms:9.2f} ms  wall {wall:8.1f} s  "
            f"{sim.step_index / wall:9.0f} steps/s  RSS {rss:7.1f} MiB  cycles "
            f"{int(sim.counters[layout.C_CYCLES]):,}  {'OK' if not bad else '; '.join(bad)}")
        if bad:
            result.update(ok=False, failures=bad)
            break
    wall = time.perf_counter() - t0
    result.update(steps=sim.step_index, simulated_ms=sim.time_ms, wall_s=wall,
                  rss_first_mib=rss0, rss_last_mib=rss_mib(), rows=len(sim.recorder.rows),
                  cycles=int(sim.counters[layout.C_CYCLES]), ions=len(sim.ions))
    out(f"soak {'PASSED' if result['ok'] else 'FAILED'}: {sim.step_index:,} steps in "
        f"{wall:.0f} s; RSS {rss0:.1f} -> {result['rss_last_mib']:.1f} MiB; "
        f"{result['rows']} rows; {result['cycles']:,} cycles")
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="resting")
    ap.add_argument("--steps", type=float, default=1e7)
    ap.add_argument("--check-every", type=float, default=1e5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--rss-slack", type=float, default=32.0, metavar="MIB")
    a = ap.parse_args(argv)
    overrides = dict(parse_assignment(s) for s in a.set)
    r = soak(a.scenario, overrides, int(a.steps), int(a.check_every), a.seed, a.rss_slack)
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
