"""Interleaved A/B of the core's throughput: two checkouts (old and new) measured in turns,
in fresh processes, on `ionpump bench`'s workload (particles.bench.steps_per_second), so
that a shared machine's load falls on both alike. Prints every measurement with the load
average, then the median and range of each side:

    .venv/bin/python benchmarks/ab_throughput.py OLD_DIR NEW_DIR [--ions 1e4 1e5 1e6]
        [--repeats 5] [--seconds 2] [--threads 2] [--pumps 100]

OLD_DIR and NEW_DIR each hold a ``particles`` package (e.g. ``git archive REV | tar -x -C
DIR``); each is imported from its own directory (it comes first on ``sys.path``), and
compiles its kernels into its own numba cache directory (keyed by its sources) at the
first, unreported, run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

CODE = ("import json, sys; from particles.bench import steps_per_second; "
        "print(json.dumps(steps_per_second(int(sys.argv[1]), int(sys.argv[2]), "
        "float(sys.argv[3]))))")


def measure(src: str, n: int, pumps: int, seconds: float, threads: int) -> float:
    """Particle-steps per second of the checkout in ``src`` (a fresh process)."""
    env = dict(os.environ, PYTHONPATH=src, NUMBA_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", CODE, str(n), str(pumps), str(seconds)],
                         cwd=src, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])["particle_steps_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--ions", type=float, nargs="+", default=[1e4, 1e5, 1e6])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pumps", type=int, default=100)
    args = ap.parse_args()
    sides = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    for src in sides.values():  # compile (or load) each side's kernels once, unreported
        measure(src, 10_000, args.pumps, 0.1, args.threads)
    for n in (int(v) for v in args.ions):
        got: dict[str, list[float]] = {k: [] for k in sides}
        for r in range(args.repeats):
            order = list(sides) if r % 2 == 0 else list(sides)[::-1]
            for name in order:
                rate = measure(sides[name], n, args.pumps, args.seconds, args.threads)
                got[name].append(rate)
                print(f"{n:>9} ions  {name}  {rate / 1e6:7.1f} M/s  "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
        for name, v in got.items():
            print(f"{n:>9} ions  {name}: median {statistics.median(v) / 1e6:.1f} M/s, "
                  f"range {min(v) / 1e6:.1f}-{max(v) / 1e6:.1f}", flush=True)
        ratio = [b / a for a, b in zip(got["old"], got["new"])]
        print(f"{n:>9} ions  new/old per pair: median {statistics.median(ratio):.2f}, "
              f"range {min(ratio):.2f}-{max(ratio):.2f}", flush=True)


if __name__ == "__main__":
    main()
