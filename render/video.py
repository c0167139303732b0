"""Frames -> video through ffmpeg (``ionpump record``, and ``V`` in the window).

Frames are streamed to an ffmpeg process over a pipe as raw rgb24, so memory stays flat
whatever the length. MP4: H.264, yuv420p, ``+faststart`` (plays in browsers, slide software,
phones). GIF: the frames are first streamed to a lossless temporary file, then ffmpeg builds
an optimised palette (``palettegen``) and applies it (``paletteuse``); the GIF loops. The
ffmpeg binary is the one shipped by ``imageio-ffmpeg``. The file is written under a temporary
name and renamed when complete, so an interrupted recording still leaves a playable file.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from particles.config import ScenarioError


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
        crf: H.264 quality (lower is better; 20 is visually clean for this content).
    """

    def __init__(self, path, size: tuple[int, int], fps: float, crf: int = 20,
                 preset: str = "veryfast"):
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
        src = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", f"{fps}",
               "-i", "-"]
        if self.kind == ".mp4":
            target = self.tmp
            args = ["-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", str(target)]
        else:
            self._work = tempfile.TemporaryDirectory(prefix="ionpump-gif-",
                                                     dir=self.path.parent or ".")
            target = Path(self._work.name) / "frames.mkv"
            args = ["-an", "-c:v", "ffv1", "-f", "matroska", str(target)]
        self._intermediate = target
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
        try:
            self.proc.stdin.write(np.ascontiguousarray(frame).data)
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

def frames(sim, size: tuple[int, int], fps: float, captions: bool = True,
           title_card: bool = True):
    """Yield frames of ``sim`` at ``fps``: each advances ``render.ms_per_second / fps``
    simulated ms (whole steps; the remainder carries to the next frame) and is drawn by the
    same :class:`~render.scene.Scene` as the window. Deterministic for a given seed."""
    from .scene import Scene, headless_init

    headless_init()
    scene = Scene(size, fps=fps, captions=captions)
    scene.set_follow(int(sim.scenario.values["render.follow_pump"]))
    per_frame = sim.scenario.values["render.ms_per_second"] / fps / sim.dt_ms
    carry = 0.0
    k = 0
    card = 2.0 * fps if (title_card and captions) else 0
    while True:
        scene.title_alpha = min(1.0, 1.5 * (1 - k / card)) if k < card else 0.0
        yield scene.draw(sim)
        carry += per_frame
        n = int(carry)
        carry -= n
        if n:
            sim.run_steps(n)
        k += 1


def parse_size(text) -> tuple[int, int]:
    from particles.cli import UsageError

    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
    if not m:
        raise UsageError("--size", f"expected WIDTHxHEIGHT in pixels, e.g. 1280x720, got "
                         f"{text!r}")
    W, H = int(m.group(1)), int(m.group(2))
    if not (64 <= W <= 7680 and 64 <= H <= 4320):
        raise UsageError("--size", f"{W}x{H} is out of range (64x64 .. 7680x4320)")
    return W, H


def record_command(args, scenario) -> int:
    """``ionpump record``: validate the options, render and encode; returns the exit status
    (0 done, 130 interrupted after closing a playable file). Bad options raise
    :class:`~particles.config.ScenarioError` subclasses (the CLI prints one line, exit 2)."""
    from particles.cli import Interrupt, UsageError
    from particles.output import check_output
    from particles.simulation import Simulation

    W, H = parse_size(getattr(args, "size", "1280x720"))
    fps = getattr(args, "fps", 30)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) \
            or not (1 <= fps <= 120) or int(fps) != fps:
        raise UsageError("--fps", f"must be a whole number from 1 to 120, got {fps!r}")
    fps = int(fps)
    seconds = getattr(args, "seconds", 10.0)
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds
            <= 3600):
        raise UsageError("--seconds", f"must be > 0 and at most 3600, got {seconds!r}")
    seed = getattr(args, "seed", 1)
    seed = 1 if seed is None else seed
    if seed < 0:
        raise UsageError("--seed", f"must be >= 0, got {seed}")
    out = check_output(args.out, (".mp4", ".gif"), bool(getattr(args, "force", False)))
    if out.suffix.lower() == ".mp4" and (W % 2 or H % 2):
        raise UsageError("--size", f"MP4 needs an even width and height, got {W}x{H}")
    captions = not getattr(args, "no_captions", False)
    n_frames = max(1, int(round(seconds * fps)))

    sim = Simulation(scenario, seed=seed)
    # ffmpeg encodes on the other core(s): one numba thread for the simulation is faster on
    # a small machine than two that compete with the encoder (results do not depend on it).
    import numba

    threads = numba.get_num_threads()
    bar = None
    t0 = time.perf_counter()
    with Interrupt() as stop:  # before ffmpeg starts: a signal never leaves it orphaned
        enc = Encoder(out, (W, H), fps)
        numba.set_num_threads(max(1, min(threads, (os.cpu_count() or 2) // 2)))
        if sys.stderr.isatty():
            from tqdm.auto import tqdm

            bar = tqdm(total=n_frames, unit="frame", desc=f"record {out.name}", leave=False)
        try:
            for k, frame in enumerate(frames(sim, (W, H), fps, captions)):
                if k >= n_frames or (k and stop()):  # at least one frame: a playable file
                    break
                enc.write(frame)
                if bar is not None:
                    bar.update(1)
            interrupted = stop()
        except BaseException:
            enc.abort()
            raise
        finally:
            numba.set_num_threads(threads)
            if bar is not None:
                bar.close()
        enc.close()
    wall = time.perf_counter() - t0
    video_s = enc.frames / fps
    print(f"wrote {out} ({enc.frames} frames, {W}x{H}, {video_s:.1f} s of video showing "
          f"{sim.time_ms:.3g} ms simulated; {wall:.1f} s to make"
          + (", interrupted)" if interrupted else ")"))
    return 130 if interrupted else 0
