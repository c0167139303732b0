"""Signals: Ctrl-C (SIGINT) and SIGTERM stop a command cleanly, with its results written.

Three layers, innermost first: :class:`Interrupt` turns a signal into a flag polled at step
boundaries while a run (and the writing of its results) goes on; :func:`interrupt_raises`
makes SIGTERM raise KeyboardInterrupt as Ctrl-C does everywhere else in a command;
:func:`exit_on_signal` covers the instants before (imports) and :func:`hold` the
interpreter's shutdown after the command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_INTERRUPTED = 130
_received = False  # a signal raised KeyboardInterrupt in this process (see received())


def interrupted() -> int:
    """Say so in one line; the exit status of an interrupted command (130)."""
    print("ionpump: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _exit_now(signum, frame):  # noqa: ARG001
    """Handler outside :func:`main`'s command: nothing is being written, so stop now."""
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001  a reentrant flush: what was printed is what it is
        pass
    os.write(2, b"ionpump: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


def exit_on_signal() -> None:
    """Make SIGINT and SIGTERM exit 130 with one line at once (the ``ionpump`` program's
    first instruction, before anything heavy is imported)."""
    for sig in SIGNALS:
        signal.signal(sig, _exit_now)


def hold() -> None:
    """Ignore SIGINT and SIGTERM from now until the process ends: its command is done and
    its results are written; the interpreter's shutdown (which puts Python's handlers back
    to the default, fatal ones, and may take a second) is not to be cut short. Ignoring is
    process-wide, so numba's worker threads do not take the signal either."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def received() -> bool:
    """True once a signal has raised KeyboardInterrupt (:func:`interrupt_raises`). An
    extension module being imported turns that KeyboardInterrupt into an ImportError
    (numba's do), so the exception alone does not say that the user stopped the command."""
    return _received


def leave(status: int) -> None:
    """End the process now with ``status``, after flushing stdout and stderr (the command's
    results are written and closed). For an interrupted command: a KeyboardInterrupt that
    hit code an extension module ran through ``PyRun_*`` while importing leaves CPython's
    "unhandled KeyboardInterrupt" flag set, and ``python -m`` would then end the process by
    SIGINT (status -2) whatever the exit status."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001  a closed or broken stream: nothing more to say
            pass
    os._exit(status)


def _raise(signum, frame):  # noqa: ARG001
    global _received
    _received = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupt_raises():
    """SIGINT and SIGTERM raise KeyboardInterrupt inside the block (the handlers in force
    before come back after it); :func:`received` remembers it. A no-op outside the main
    thread."""
    global _received
    _received = False
    try:
        old = {sig: signal.signal(sig, _raise) for sig in SIGNALS}
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


class Interrupt:
    """Turns SIGINT/SIGTERM into a flag polled at step boundaries (a second one aborts).

    Use as a context manager; the instance is callable and returns True once a signal came,
    which is what the library functions take as ``should_stop``.
    """

    def __init__(self):
        self.stop = False
        self._old = {}

    def __enter__(self):
        for sig in SIGNALS:
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
