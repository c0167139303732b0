"""The renderer's side of :mod:`particles.display` (``sim.show()``, ``sim.to_video()``).

The core never imports render (tests/test_architecture.py); it finds these two functions
through the ``ionpump.display`` entry points that ``pyproject.toml`` declares, at call time.
Both draw with the headless frames of :mod:`render.video` (the window's
:class:`~render.scene.Scene`), so a still, a video and the window look the same.
"""

from __future__ import annotations

import io
from pathlib import Path

import pygame

from . import video as _video


def frame(sim, size: tuple[int, int], captions: bool = True) -> bytes:
    """The current state of ``sim`` drawn as a PNG image; ``sim`` is not advanced.

    Args:
        sim: the simulation to draw (read only).
        size: (W, H) pixels.
        captions: the top bar's title, clock and phase, and the step captions.

    Returns:
        The PNG file's bytes, W × H pixels, RGB.
    """
    rgb = _video.still(sim, size, captions)
    surface = pygame.image.frombuffer(rgb.tobytes(), (int(size[0]), int(size[1])), "RGB")
    out = io.BytesIO()
    pygame.image.save(surface, out, "frame.png")
    return out.getvalue()


def video(sim, path: Path, size: tuple[int, int], fps: int, seconds: float,
          captions: bool = True, progress: bool = True) -> int:
    """Film ``sim`` for ``seconds`` of video into ``path`` (``.mp4`` or ``.gif``), advancing
    it by ``seconds × render.ms_per_second`` simulated ms (:func:`render.video.record`).

    Args:
        sim: the simulation to film; it is advanced.
        path: output file (checked by the caller).
        size: (W, H) pixels; both even for MP4.
        fps: frames per second.
        seconds: length of the video (s); ``round(seconds × fps)`` frames, at least one.
        captions: burn in the captions and the title card.
        progress: a progress bar of frames (tqdm.auto: a widget in a notebook).

    Returns:
        The number of frames written.
    """
    n_frames = max(1, int(round(seconds * fps)))
    return _video.record(sim, path, size, fps, n_frames, captions=captions,
                         progress=progress).frames
