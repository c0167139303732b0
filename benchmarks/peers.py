"""ionpump beside Smoldyn on the peers' workloads (../shared/peers), in one session.

Usage (Smoldyn's wheel imports only on Python 3.10)::

    python3.10 -m venv /tmp/smol-venv && /tmp/smol-venv/bin/pip install smoldyn numpy
    .venv/bin/python benchmarks/peers.py --smoldyn-python /tmp/smol-venv/bin/python

Prints a markdown table of particle-steps per second and the ratio. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

from particles.bench import steps_per_second

PEERS = Path(__file__).resolve().parents[1].parent / "shared" / "peers"

# (label, ions, pumps, smoldyn arguments: its best box sizes per ../shared/peers/README.md)
WORKLOADS = [
    ("10⁴ ions, 200 pumps", 10_000, 200, ["--steps", "1000", "--boxsize", "0.5"]),
    ("10⁵ ions, 200 pumps", 100_000, 200, ["--steps", "300", "--boxsize", "0.5"]),
    ("10⁵ ions, free diffusion", 100_000, 0, ["--steps", "300", "--boxsize", "2"]),
]


def smoldyn(python: str, n: int, pumps: int, extra: list[str]) -> float:
    cmd = [python, str(PEERS / "bench_smoldyn.py"), "--n", str(n), "--dim", "2", *extra]
    if pumps:
        cmd += ["--pumps", str(pumps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(s for s in out.splitlines() if s.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])["particle_steps_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoldyn-python", required=True, help="python with smoldyn installed")
    a = ap.parse_args()
    print("| workload (2-D, box 10 µm, membrane) | Smoldyn 2.76 | ionpump | ratio |")
    print("|---|---|---|---|")
    for label, n, pumps, extra in WORKLOADS:
        s = smoldyn(a.smoldyn_python, n, pumps, extra)
        ours = steps_per_second(n, pumps=pumps)["particle_steps_per_s"]
        print(f"| {label} | {s / 1e6:.1f} M/s | {ours / 1e6:.0f} M/s | {ours / s:.1f}× |")


if __name__ == "__main__":
    main()
