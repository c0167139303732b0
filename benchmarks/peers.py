"""ionpump beside Smoldyn on the peers' workloads (../shared/peers), in one session.

Usage (Smoldyn's wheel imports only on Python 3.10)::

    python3.10 -m venv /tmp/smol-venv && /tmp/smol-venv/bin/pip install smoldyn numpy
    .venv/bin/python benchmarks/peers.py --smoldyn-python /tmp/smol-venv/bin/python

Prints a markdown table of particle-steps per second and the ratio. With ``--checkout DIR``
(repeatable; a directory holding a ``particles`` package, e.g. ``git archive REV | tar -x -C
DIR``) each checkout is measured in its own process instead of this one, in turn with
Smoldyn, ``--repeats`` times (medians shown), so that old and new builds meet the same load.
``--peers DIR``: where ``bench_smoldyn.py`` is (default: ``../shared/peers`` beside the
checkout, else ``/work/shared/peers``). Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from pathlib import Path

from ab_throughput import measure

from particles.bench import steps_per_second

PEERS = next((p for p in (Path(__file__).resolve().parents[1].parent / "shared" / "peers",
                          Path("/work/shared/peers")) if p.is_dir()),
             Path("../shared/peers"))

# (label, ions, pumps, smoldyn arguments: its best box sizes per ../shared/peers/README.md)
WORKLOADS = [
    ("10⁴ ions, 200 pumps", 10_000, 200, ["--steps", "1000", "--boxsize", "0.5"]),
    ("10⁵ ions, 200 pumps", 100_000, 200, ["--steps", "300", "--boxsize", "0.5"]),
    ("10⁵ ions, free diffusion", 100_000, 0, ["--steps", "300", "--boxsize", "2"]),
    ("10⁶ ions, 200 pumps", 1_000_000, 200, ["--steps", "40", "--boxsize", "0.5"]),
    ("10⁶ ions, free diffusion", 1_000_000, 0, ["--steps", "40", "--boxsize", "2"]),
]


def smoldyn(python: str, peers: Path, n: int, pumps: int, extra: list[str]) -> float:
    cmd = [python, str(peers / "bench_smoldyn.py"), "--n", str(n), "--dim", "2", *extra]
    if pumps:
        cmd += ["--pumps", str(pumps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(s for s in out.splitlines() if s.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])["particle_steps_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoldyn-python", required=True, help="python with smoldyn installed")
    ap.add_argument("--peers", type=Path, default=PEERS, help="directory of bench_smoldyn.py")
    ap.add_argument("--checkout", action="append", default=[],
                    help="measure this checkout of ionpump (repeatable)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="numba threads of --checkout runs")
    a = ap.parse_args()
    names = [os.path.basename(os.path.abspath(c)) for c in a.checkout] or ["ionpump"]
    print(f"| workload (2-D, box 10 µm, membrane) | Smoldyn 2.76 | "
          + " | ".join(f"{m} | ratio" for m in names) + " | load |")
    print("|---|---|" + "---|---|" * len(names) + "---|")
    for label, n, pumps, extra in WORKLOADS:
        got: list[list[float]] = [[] for _ in range(1 + len(names))]
        for _ in range(a.repeats):
            got[0].append(smoldyn(a.smoldyn_python, a.peers, n, pumps, extra))
            for k, src in enumerate(a.checkout):
                got[k + 1].append(measure(os.path.abspath(src), n, pumps, 2.0, a.threads))
            if not a.checkout:
                got[1].append(steps_per_second(n, pumps=pumps)["particle_steps_per_s"])
        s, *ours = [statistics.median(v) for v in got]
        print(f"| {label} | {s / 1e6:.1f} M/s | "
              + " | ".join(f"{o / 1e6:.0f} M/s | {o / s:.1f}×" for o in ours)
              + f" | {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
