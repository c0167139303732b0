"""Drawing a frame while the simulation steps to the next one (issue 15, item 8).

The window and ``record`` draw frame k from a frozen copy of the simulation's state at
frame k (:meth:`particles.simulation.Simulation.frozen`) while a :class:`Stepper` thread
advances the simulation itself to frame k + 1.
The kernels release the GIL (``nogil``, :mod:`particles.jit`), so the steps run on one core
while drawing (and the pipe to ffmpeg) use the other. Frames are the same as drawing and
stepping one after the other: the drawing reads only the frozen copy, and the next frame
starts only when the steps are done.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable


class Stepper:
    """One background thread that runs one job at a time (the simulation's steps).

    Use :meth:`start` after taking a frozen view (``sim.frozen()``), draw the view, then
    :meth:`wait` before touching the simulation again; an exception in the job is raised by
    :meth:`wait`.

    Args:
        threads: numba threads for the kernels the jobs call (numba's count is per calling
            thread); None: numba's default. Results do not depend on it.
    """

    def __init__(self, threads: int | None = None):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ionpump-steps",
                                        initializer=_set_threads, initargs=(threads,))
        self._job = None

    def start(self, fn: Callable[..., Any], *args) -> None:
        """Run ``fn(*args)`` in the background (after the previous job has finished)."""
        self.wait()
        self._job = self._pool.submit(fn, *args)

    def wait(self) -> None:
        """Block until the job is done; re-raise its exception, if any."""
        job, self._job = self._job, None
        if job is not None:
            job.result()

    def close(self) -> None:
        """Wait for the job and stop the thread."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> "Stepper":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        import numba

        numba.set_num_threads(threads)
