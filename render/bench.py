"""Renderer figures for ``ionpump bench``: window frames per second and video encoding speed.

Both draw with the same :class:`~render.scene.Scene` as the window and ``record``, headless
(SDL ``dummy`` driver, software surfaces), and include the simulation steps of each frame.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import numpy as np


def _bench_scenario(n_ions: int):
    """The ``resting`` scenario resized to about ``n_ions`` ions (same concentrations)."""
    from particles import Simulation, load_scenario

    n0 = len(Simulation(load_scenario("resting"), seed=1).ions)  # in a 1 µm x 1 µm box
    side = float(np.sqrt(n_ions / n0))
    return load_scenario("resting", overrides={"domain.width_um": side,
                                               "domain.height_um": side})


def frames_per_second(n_ions: int = 20000, size=(1280, 720), seconds: float = 3.0,
                      fps_target: int = 60) -> dict[str, Any]:
    """Frames per second of the window's full drawing (ions, pumps, panel, charts, buttons,
    flip onto a software display surface) including the simulation steps of each frame at
    speed ×1 (``render.ms_per_second`` / ``fps_target`` simulated ms per frame). Also reports
    drawing alone (no steps)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

    from .app import FPS, App

    sc = _bench_scenario(n_ions)
    app = App(sc, seed=1, size=tuple(size))
    try:
        app.sim.step(10)
        app.frame()  # compile and warm caches
        n_live = int(np.count_nonzero(app.sim.ions.side != 2))

        def measure(paused: bool) -> tuple[float, int]:
            app.paused = paused
            k, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds / 2 or k < 5:
                app.frame()
                k += 1
            return k / (time.perf_counter() - t0), k

        fps, k1 = measure(False)
        draw_fps, k2 = measure(True)
        steps = app.steps_per_frame()
    finally:
        app.close()
    return {"fps": fps, "draw_only_fps": draw_fps, "n_ions": n_live,
            "size": f"{size[0]}x{size[1]}", "steps_per_frame": steps,
            "frames": k1 + k2, "target_fps": FPS,
            "driver": os.environ.get("SDL_VIDEODRIVER", "")}


def encode_speed(seconds: float = 3.0, size=(1280, 720), fps: int = 30,
                 scenario: str = "pump-cycle") -> dict[str, Any]:
    """Encode ``seconds`` of video of ``scenario`` (the default one) through the same path as
    ``ionpump record`` (:func:`render.video.record`: simulation steps, drawing, H.264 via
    ffmpeg); returns the speed against real time (> 1: faster than real time)."""
    from particles import Simulation, load_scenario

    from .video import record

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bench.mp4")
        t0 = time.perf_counter()
        sim = Simulation(load_scenario(scenario), seed=1)
        record(sim, out, tuple(size), fps, max(1, int(round(seconds * fps))))
        wall = time.perf_counter() - t0
        mb = os.path.getsize(out) / 1e6
    return {"speed_vs_realtime": seconds / wall, "video_s": seconds, "wall_s": wall,
            "size": f"{size[0]}x{size[1]}", "fps": fps, "scenario": scenario, "mbytes": mb}


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(frames_per_second()))
    print(json.dumps(encode_speed()))
