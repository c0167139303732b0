"""Signals: Ctrl-C (SIGINT) and SIGTERM stop a command cleanly, with its results written."""

from __future__ import annotations

import contextlib
import signal


class Interrupt:
    """Turns SIGINT/SIGTERM into a flag polled at step boundaries (a second one aborts).

    Use as a context manager; the instance is callable and returns True once a signal came,
    which is what the library functions take as ``should_stop``.
    """

    def __init__(self):
        self.stop = False
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False

    def __call__(self) -> bool:
        return self.stop


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does (sweeps stop and write what is done)."""
    old = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
