"""How much memory a simulation's ions need, and how much this machine has free.

The scenario loader uses both to refuse a domain too large for memory with a one-line
message instead of failing part-way through allocating the ion arrays.
"""

from __future__ import annotations

import os

BYTES_PER_ION = 26
"""Memory held per ion by the state arrays and scratch (see particles/state.py)."""


def available_memory_bytes() -> int | None:
    """Memory available to new allocations (Linux MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None
