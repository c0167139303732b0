"""`make run` without a display: `ionpump watch --headless-fallback` (INTERFACE.md)."""

import os
import subprocess
import sys

import pandas as pd


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_VIDEODRIVER"] = "dummy"
    return env


def test_watch_without_display_says_so_in_one_line():
    r = subprocess.run([sys.executable, "-m", "particles", "watch"], env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "no display" in r.stderr


def test_headless_fallback_runs_the_scenario_and_writes_a_video(tmp_path):
    r = subprocess.run([sys.executable, "-m", "particles", "watch", "--headless-fallback",
                        "--set", "time.duration_ms=2", "--seed", "3"], env=_env(), cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("ionpump: no display")
    df = pd.read_csv(tmp_path / "out" / "pump-cycle.csv")
    assert abs(df["time_ms"].iloc[-1] - 2.0) < 1e-6  # the --set reached the run
    mp4 = tmp_path / "out" / "pump-cycle.mp4"
    assert mp4.stat().st_size > 10_000
    assert "wrote out/pump-cycle.csv and out/pump-cycle.mp4" in r.stdout
