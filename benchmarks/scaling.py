"""Scaling of the core (issue 16): particle-steps per second and bytes per ion from 10^4 to
10^7 ions (100 pumps), and the cost of one step against the pump count (10 to 10^4 pumps at
10^5 ions), on `ionpump bench`'s workload (particles.bench.bench_scenario: a 10 × 10 µm box,
2-D, the patch alone). Prints a table and writes a figure:

    .venv/bin/python benchmarks/scaling.py [--out docs/scaling.png] [--seconds 2]

Figures are this machine's (its CPU, cores and numba threads are printed); measure on an
idle machine.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from particles.bench import machine, steps_per_second  # noqa: E402

IONS = (10_000, 100_000, 1_000_000, 10_000_000)  # 10^3 ions: a slab so thin that capture
# per crossing would exceed 0.5 at this dt (refused)
PUMPS = (10, 100, 1_000, 10_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/scaling.png")
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    print(machine())
    by_ions = []
    for n in IONS:
        r = steps_per_second(n, 100, args.seconds)
        by_ions.append(r)
        print(f"{r['ions']:>10} ions, 100 pumps: {r['particle_steps_per_s'] / 1e6:7.1f} M "
              f"particle-steps/s, {r['bytes_per_ion']:.1f} B/ion")
    by_pumps = []
    for m in PUMPS:
        r = steps_per_second(100_000, m, args.seconds)
        by_pumps.append(r)
        print(f"{r['ions']:>10} ions, {m:>5} pumps: {r['particle_steps_per_s'] / 1e6:7.1f} M "
              f"particle-steps/s ({r['ions'] / r['particle_steps_per_s'] * 1e6:.0f} µs/step)")
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    n = [r["ions"] for r in by_ions]
    a.semilogx(n, [r["particle_steps_per_s"] / 1e6 for r in by_ions], "o-", color="#0072B2")
    a.set_xlabel("ions")
    a.set_ylabel("million particle-steps per second (circles)", color="#0072B2")
    a.set_ylim(0, None)
    a2 = a.twinx()
    a2.semilogx(n, [r["bytes_per_ion"] for r in by_ions], "s--", color="#D55E00")
    a2.set_ylabel("bytes per ion (squares)", color="#D55E00")
    a2.set_ylim(0, max(r["bytes_per_ion"] for r in by_ions) * 1.5)
    a.set_title("throughput and memory, 100 pumps")
    m = [r["pumps"] for r in by_pumps]
    b.semilogx(m, [r["ions"] / r["particle_steps_per_s"] * 1e6 for r in by_pumps], "o-",
               color="#009E73")
    b.set_xlabel("pumps")
    b.set_ylabel("µs per step (10⁵ ions)")
    b.set_ylim(0, None)
    b.set_title("cost per step against pump count")
    fig.suptitle(machine(), fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"figure {args.out}")


if __name__ == "__main__":
    main()
