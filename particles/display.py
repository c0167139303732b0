"""A :class:`~particles.simulation.Simulation` in a notebook: the rich display behind
``_repr_html_``, ``sim.show()``, ``sim.to_video()`` and ``sim.plot()``.

``_repr_html_`` (:func:`html_table`) and ``plot()`` (:func:`run_figure`, matplotlib imported
when called) are the core's own. ``show()`` and ``to_video()`` need the renderer (pygame),
which the core never imports (tests/test_architecture.py): they find it through the
``ionpump.display`` entry points (``frame`` and ``video``, declared in ``pyproject.toml`` and
provided by :mod:`render.notebook`), looked up with :mod:`importlib.metadata` when called.
A missing renderer is one :class:`ImportError` line. Nothing here imports more than the
standard library at import time.
"""

from __future__ import annotations

import base64
import html
import math
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .config import ScenarioError
from .layout import PumpState, Species
from .palette import STATES

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

#: Entry-point group of the renderer's notebook functions.
PLUGIN_GROUP = "ionpump.display"
_SPECIES = {Species.NA: "Na⁺", Species.K: "K⁺"}


# ---------------------------------------------------------------------- the HTML table

def html_table(sim: "Simulation") -> str:
    """The state of ``sim`` now as a small HTML table: scenario title, time, free ions in
    and out per species (count and mM), bound ions, V, ATP, cycles and pumps per state.

    Every text from the scenario (title, name, phase) is escaped: scenario files are
    user input."""
    row = sim.counts()
    e = html.escape
    head = (f"<b>{e(sim.scenario.title)}</b> <small>({e(sim.scenario.name)}, seed "
            f"{sim.seed})</small><br>t = {sim.time_ms:.4g} ms (step {sim.step_index}), "
            f"phase <i>{e(str(row['phase']))}</i>")
    ions = "".join(
        f"<tr><th>{label}</th>"
        + "".join(f"<td>{row[f'{sp.name.lower()}_{w}']}</td>"
                  f"<td>{row[f'{sp.name.lower()}_{w}_mM']:.4g}</td>" for w in ("in", "out"))
        + f"<td>{row[f'{sp.name.lower()}_bound']}</td></tr>"
        for sp, label in _SPECIES.items())
    ions_table = ("<table><tr><th></th><th>in</th><th>mM</th><th>out</th><th>mM</th>"
                  f"<th>bound</th></tr>{ions}</table>")
    membrane = (f"<table><tr><th>V</th><td>{row['v_mV']:.4g} mV</td></tr>"
                f"<tr><th>ATP</th><td>{row['atp_mM']:.4g} mM</td></tr>"
                f"<tr><th>cycles</th><td>{row['cycles']}</td></tr>"
                f"<tr><th>pumps</th><td>{len(sim.pumps)}</td></tr></table>")
    states = "".join(f"<tr><th>{e(STATES[s][0])}</th><td>{row[f'pumps_{s.name}']}</td></tr>"
                     for s in PumpState)
    cell = '<td style="vertical-align:top;padding-right:1.5em">'
    return (f'<div class="ionpump-simulation">{head}<table><tr>{cell}{ions_table}</td>'
            f"{cell}{membrane}</td>{cell}<table>{states}</table></td></tr></table></div>")


def run_figure(sim: "Simulation"):
    """The standard run figure of ``sim``'s results table so far
    (:func:`particles.plotting.plot_run`): a matplotlib Figure.

    The figure is closed in pyplot (it stays usable: ``savefig``, display), so a notebook
    shows it once, as the cell's value, not a second time when the cell ends."""
    import matplotlib.pyplot as plt

    from .plotting import plot_run

    fig = plot_run(sim.timeseries(), title=sim.scenario.title)
    plt.close(fig)
    return fig


# ---------------------------------------------------------------------- renderer plugin

def renderer(name: str) -> Callable[..., Any]:
    """The renderer's function ``name`` (``frame`` or ``video``) of the ``ionpump.display``
    entry points.

    Raises:
        ImportError: (one line) the entry point is not installed, or the renderer cannot be
            imported (pygame-ce missing).
    """
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group=PLUGIN_GROUP) if ep.name == name]
    if not found:
        raise ImportError(f"ionpump: no renderer installed for {name!r} (entry point group "
                          f"{PLUGIN_GROUP!r}); reinstall ionpump: pip install -e .")
    try:
        return found[0].load()
    except ImportError as e:
        raise ImportError(f"ionpump: the renderer needs {e.name or e}: pip install "
                          "pygame-ce imageio-ffmpeg") from None


# ---------------------------------------------------------------------- frames and videos

@dataclass(frozen=True)
class PNGImage:
    """A PNG image that a notebook displays inline.

    Attributes:
        data: the PNG file's bytes.
    """

    data: bytes

    @property
    def size(self) -> tuple[int, int]:
        """(W, H) pixels, from the PNG header."""
        return struct.unpack(">II", self.data[16:24])

    def save(self, path: str | Path) -> Path:
        """Write the PNG file to ``path``; returns it."""
        path = Path(path)
        path.write_bytes(self.data)
        return path

    def _repr_png_(self) -> bytes:
        return self.data


@dataclass(frozen=True)
class InlineVideo:
    """An MP4 video that a notebook plays inline (an HTML5 ``<video>`` with the file in it).

    Attributes:
        data: the MP4 file's bytes.
        width: display width (px).
    """

    data: bytes
    width: int
    mime = "video/mp4"

    def save(self, path: str | Path) -> Path:
        """Write the MP4 file to ``path``; returns it."""
        path = Path(path)
        path.write_bytes(self.data)
        return path

    def _repr_html_(self) -> str:
        src = f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"
        return (f'<video controls autoplay loop muted playsinline width="{self.width}" '
                f'src="{src}"></video>')


def _check_size(size: Any) -> tuple[int, int]:
    try:
        W, H = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ScenarioError("argument", "size", f"expected (width, height) in pixels, got "
                            f"{size!r}") from None
    if not (64 <= W <= 7680 and 64 <= H <= 4320):
        raise ScenarioError("argument", "size", f"{W}x{H} is out of range (64x64 .. 7680x4320)")
    return W, H


def still(sim: "Simulation", size: Any = (1280, 720), captions: bool = True) -> PNGImage:
    """The current frame of ``sim`` as drawn by the window (``sim`` is not advanced)."""
    return PNGImage(renderer("frame")(sim, _check_size(size), captions))


def film(sim: "Simulation", path: str | Path | None, seconds: float = 5.0, fps: int = 30,
         size: Any = (960, 540), captions: bool = True,
         progress: bool = True) -> Path | InlineVideo:
    """Film ``sim`` from now on; see :meth:`particles.simulation.Simulation.to_video`."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or \
            not (math.isfinite(seconds) and 0 < seconds <= 3600):
        raise ScenarioError("argument", "seconds", f"expected a video length > 0 and at most "
                            f"3600 s, got {seconds!r}")
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 120:
        raise ScenarioError("argument", "fps", f"expected a whole number from 1 to 120, got "
                            f"{fps!r}")
    W, H = _check_size(size)
    video = renderer("video")
    if path is not None:
        from .output import check_output

        out = check_output(path, (".mp4", ".gif"), force=True)
        video(sim, out, (W, H), fps, seconds, captions, progress)
        return out
    with tempfile.TemporaryDirectory(prefix="ionpump-video-") as tmp:
        out = Path(tmp) / f"{sim.scenario.name}.mp4"  # names the progress bar
        video(sim, out, (W, H), fps, seconds, captions, progress)
        return InlineVideo(out.read_bytes(), W)


__all__ = ["InlineVideo", "PNGImage", "PLUGIN_GROUP", "film", "html_table", "renderer",
           "run_figure", "still"]
