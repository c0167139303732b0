"""numba compilation flags, in one place (stumpy's habit).

``JIT`` is for small helpers inlined into kernels; ``JIT_PARALLEL`` for the per-step kernels
that loop over ions with ``prange``. ``cache=True`` keeps compiled code on disk between runs
(warm start-up). ``fastmath`` is limited to flags that keep IEEE results reproducible
(no reassociation), so a NumPy reference reproduces kernel results exactly.
"""

FASTMATH = {"nnan", "ninf", "nsz", "arcp", "afn"}

JIT = dict(cache=True, nogil=True, fastmath=FASTMATH)
JIT_PARALLEL = dict(cache=True, nogil=True, fastmath=FASTMATH, parallel=True)
