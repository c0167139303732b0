"""Frames -> video through ffmpeg (:func:`record`, used by ``ionpump record``; :class:`Encoder`,
used by ``V`` in the window).

Frames are streamed to an ffmpeg process over a pipe, so memory stays flat whatever the
length. MP4: H.264, yuv420p tagged BT.709, ``+faststart`` (plays in browsers, slide software,
phones); the frames are converted to yuv420p here (:mod:`render.yuv`) and piped as such.
GIF: the frames are first streamed to a lossless temporary file (rgb24), then ffmpeg builds
an optimised palette (``palettegen``) and applies it (``paletteuse``); the GIF loops. The
ffmpeg binary is the one shipped by ``imageio-ffmpeg``. The file is written under a temporary
name and renamed when complete, so an interrupted recording still leaves a playable file.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from particles.config import ScenarioError

from .yuv import plane_bytes, rgb_to_yuv420

BT709 = ["-color_range", "tv", "-colorspace", "bt709", "-color_primaries", "bt709",
         "-color_trc", "bt709"]
"""ffmpeg options of the MP4 frames' colours: limited range, BT.709 (:mod:`render.yuv`)."""


class VideoError(ScenarioError):
    """Encoding failed (ffmpeg missing or it stopped with an error)."""

    def __init__(self, path, problem: str):
        super().__init__(str(path), None, problem)


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class Encoder:
    """Streams ``(H, W, 3)`` uint8 frames into ``path`` (.mp4 or .gif).

    Args:
        path: output file; written as ``.NAME.part`` beside it, renamed on :meth:`close`.
        size: (W, H); both even for MP4.
        fps: frames per second.
        crf: H.264 quality (lower is better).
        preset: x264 speed preset. ``ultrafast`` at crf 27 gives files the size of
            ``superfast`` at crf 23 (about 13 Mbit/s for 1280×720 of thousands of moving
            ions) with about half the encoder's CPU (measured on 2 cores: 10.5 against
            18.7 ms of CPU per frame), which leaves the cores for the simulation and the
            drawing (issue 15; README: the speed of ``record``).
    """

    def __init__(self, path, size: tuple[int, int], fps: float, crf: int = 27,
                 preset: str = "ultrafast"):
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        self.fps = fps
        self.frames = 0
        self.kind = self.path.suffix.lower()
        W, H = self.size
        if self.kind not in (".mp4", ".gif"):
            raise VideoError(self.path, "unknown video extension; use .mp4 or .gif")
        if self.kind == ".mp4" and (W % 2 or H % 2):
            raise VideoError(self.path, f"MP4 needs an even width and height, got {W}x{H}")
        self.tmp = self.path.with_name(f".{self.path.name}.part{self.kind}")
        exe = ffmpeg_exe()
        self._planes = None  # MP4: the frame as yuv420p planes (render.yuv)
        if self.kind == ".mp4":
            self._planes = np.empty(plane_bytes(W, H), np.uint8)
            pix = ["-pix_fmt", "yuv420p", *BT709]
            target = self.tmp
            args = ["-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                    "-pix_fmt", "yuv420p", *BT709, "-movflags", "+faststart", "-f", "mp4",
                    str(target)]
        else:
            pix = ["-pix_fmt", "rgb24"]
            self._work = tempfile.TemporaryDirectory(prefix="ionpump-gif-",
                                                     dir=self.path.parent or ".")
            target = Path(self._work.name) / "frames.mkv"
            args = ["-an", "-c:v", "ffv1", "-f", "matroska", str(target)]
        self._intermediate = target
        src = ["-f", "rawvideo", *pix, "-s", f"{W}x{H}", "-r", f"{fps}", "-i", "-"]
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", *src, *args]
        self._err = tempfile.TemporaryFile()
        # A session of its own: Ctrl-C reaches us, not ffmpeg, so we can close it cleanly.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=self._err, start_new_session=True)

    def write(self, frame: np.ndarray) -> None:
        """Append one frame, ``(H, W, 3)`` uint8."""
        W, H = self.size
        if frame.shape != (H, W, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be ({H}, {W}, 3) uint8, got {frame.shape} "
                             f"{frame.dtype}")
        data = np.ascontiguousarray(frame)
        if self._planes is not None:
            rgb_to_yuv420(data, self._planes)
            data = self._planes
        try:
            self.proc.stdin.write(data.data)
        except BrokenPipeError:
            raise VideoError(self.path, "ffmpeg stopped: " + self._stderr()) from None
        self.frames += 1

    def _stderr(self) -> str:
        self._err.seek(0)
        text = self._err.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else "no message"

    def close(self) -> Path:
        """Finish the file (playable) and move it into place; returns the path."""
        if self.proc is None:
            return self.path
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        rc = self.proc.wait()
        self.proc = None
        try:
            if rc != 0:
                raise VideoError(self.path, "ffmpeg failed: " + self._stderr())
            if self.kind == ".gif":
                self._make_gif()
            os.replace(self.tmp, self.path)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.path, 0o666 & ~umask)
        finally:
            if self.tmp.exists():
                self.tmp.unlink()
            if self.kind == ".gif":
                self._work.cleanup()
            self._err.close()
        return self.path

    def _make_gif(self) -> None:
        exe = ffmpeg_exe()
        pal = Path(self._work.name) / "palette.png"
        base = [exe, "-hide_banner", "-loglevel", "error", "-y"]
        for cmd in (base + ["-i", str(self._intermediate), "-vf",
                            "palettegen=stats_mode=full:max_colors=256", str(pal)],
                    base + ["-r", f"{self.fps}", "-i", str(self._intermediate), "-i", str(pal),
                            "-lavfi", "paletteuse=dither=bayer:bayer_scale=4:diff_mode=rectangle",
                            "-loop", "0", "-f", "gif", str(self.tmp)]):
            r = subprocess.run(cmd, capture_output=True, start_new_session=True)
            if r.returncode != 0:
                msg = r.stderr.decode(errors="replace").strip().splitlines()
                raise VideoError(self.path, "ffmpeg failed: " + (msg[-1] if msg else "?"))

    def abort(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self.tmp.exists():
            self.tmp.unlink()


# ---------------------------------------------------------------------- offscreen frames

MAX_WHOLE_S = 60.0   # a whole-protocol video longer than this plays faster


def whole_protocol(values: dict, max_seconds: float = MAX_WHOLE_S) -> tuple[float, float]:
    """(video seconds, simulated ms per video second) that show a scenario's whole
    ``time.duration_ms`` at its ``render.ms_per_second``, or faster when that would take
    more than ``max_seconds``."""
    duration, rate = float(values["time.duration_ms"]), float(values["render.ms_per_second"])
    if duration / rate > max_seconds:
        rate = duration / max_seconds
    return duration / rate, rate


def _scene(sim, size: tuple[int, int], fps: float, captions: bool, rate: float):
    """A headless :class:`~render.scene.Scene` for ``sim``'s video frames at ``rate``
    simulated ms per second."""
    from .messages import speed_label
    from .scene import Scene, headless_init

    headless_init()
    scene = Scene(size, fps=fps, captions=captions)
    scene.set_follow(int(sim.scenario.values["render.follow_pump"]))
    scene.speed_label = speed_label(1.0, rate, rate)  # a video plays at exactly its rate
    return scene


def still(sim, size: tuple[int, int], captions: bool = True) -> np.ndarray:
    """``sim`` as it is now, drawn as the first frame of a video without its title card,
    ``(H, W, 3)`` uint8; ``sim`` is not advanced."""
    scene = _scene(sim, size, 30, captions, sim.scenario.values["render.ms_per_second"])
    scene.title_alpha = 0.0
    return scene.draw(sim)


def frames(sim, size: tuple[int, int], fps: float, captions: bool = True,
           title_card: bool = True, ms_per_second: float | None = None,
           threads: int | None = None):
    """Yield frames of ``sim`` at ``fps``: each advances ``ms_per_second / fps`` simulated ms
    (default ``render.ms_per_second``; whole steps, the remainder carries to the next frame)
    and is drawn by the same :class:`~render.scene.Scene` as the window, from a frozen copy
    (:meth:`~particles.simulation.Simulation.frozen`) while the simulation steps on to the
    next frame in a :class:`~render.pipeline.Stepper` thread (whose kernels use ``threads``
    numba threads, default numba's). Deterministic for a given seed."""
    from .pipeline import Stepper

    rate = ms_per_second or sim.scenario.values["render.ms_per_second"]
    scene = _scene(sim, size, fps, captions, rate)
    per_frame = rate / fps / sim.dt_ms
    carry = 0.0
    k = 0
    card = 2.0 * fps if (title_card and captions) else 0
    with Stepper(threads) as stepper:
        while True:
            scene.title_alpha = min(1.0, 1.5 * (1 - k / card)) if k < card else 0.0
            view = sim.frozen()
            carry += per_frame
            n = int(carry)
            carry -= n
            if n:  # the next frame's steps run while this one is drawn and encoded
                stepper.start(sim.run_steps, n)
            yield scene.draw(view)
            stepper.wait()
            k += 1


@dataclass(frozen=True)
class Recording:
    """What :func:`record` wrote.

    Attributes:
        path: the video file (complete and playable).
        frames: frames written (>= 1).
        interrupted: ``should_stop()`` was true when the recording ended (a signal came).
    """

    path: Path
    frames: int
    interrupted: bool


def record(sim, out, size: tuple[int, int], fps: int, n_frames: int,
           should_stop: Callable[[], bool] | None = None, *, captions: bool = True,
           progress: bool = False, ms_per_second: float | None = None) -> Recording:
    """Render ``n_frames`` frames of ``sim`` (see :func:`frames`) and encode them into ``out``.

    The simulation advances ``render.ms_per_second / fps`` simulated ms per frame. ffmpeg
    encodes on the other core(s): the simulation runs on at most half the cores meanwhile
    (results do not depend on the thread count).

    Args:
        sim: the simulation to film; it is advanced.
        out: ``.mp4`` or ``.gif`` path (checked by the caller: writable, not in the way).
        size: (W, H) pixels; both even for MP4.
        fps: frames per second of the video.
        n_frames: frames to write.
        should_stop: polled between frames; True ends the recording early, after at least
            one frame, with a playable file.
        captions: burn in the captions and the title card.
        progress: show a tqdm bar of frames on stderr.
        ms_per_second: simulated ms per second of video (default ``render.ms_per_second``).

    Returns:
        A :class:`Recording`.

    Raises:
        VideoError: ffmpeg is missing or failed, or the size does not suit the format.
    """
    import numba

    stop = should_stop or (lambda: False)
    threads = max(1, min(numba.get_num_threads(), (os.cpu_count() or 2) // 2))
    bar = None
    enc = Encoder(out, size, fps)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_frames, unit="frame", desc=f"record {enc.path.name}", leave=False)
    shots = frames(sim, size, fps, captions, ms_per_second=ms_per_second, threads=threads)
    try:
        for k, frame in enumerate(itertools.islice(shots, n_frames)):
            if k and stop():  # at least one frame: a playable file
                break
            enc.write(frame)
            if bar is not None:
                bar.update(1)
        interrupted = stop()
    except BaseException:
        enc.abort()
        raise
    finally:
        shots.close()  # the steps started for the next frame finish
        if bar is not None:
            bar.close()
    return Recording(enc.close(), enc.frames, interrupted)
