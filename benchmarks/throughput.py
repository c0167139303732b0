"""Throughput, memory per ion, pump-count scaling and start-up: ``ionpump bench`` as a script.

    .venv/bin/python benchmarks/throughput.py [--quick] [--json]
"""

import sys

from particles.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
