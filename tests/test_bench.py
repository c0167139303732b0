"""``ionpump bench``: the core's figures (particles.bench), the renderer's (render.bench) and
the command that joins them. Benchmarks assert nothing about speed: only that each figure is
measured, positive and reported."""

from __future__ import annotations

import json

import pytest

from particles import bench
from particles.cli import main


def test_core_throughput_figures():
    r = bench.steps_per_second(10_000, seconds=0.1)  # the smallest size `bench` measures
    assert r["pumps"] == 100 and abs(r["ions"] - 10_000) < 500
    assert r["steps"] >= 15 and r["particle_steps_per_s"] > 0
    assert 8 < r["bytes_per_ion"] < 1000


def test_encode_speed_goes_through_record():
    from render.bench import encode_speed

    v = encode_speed(seconds=0.3, size=(160, 96), fps=10)
    assert v["speed_vs_realtime"] > 0 and v["mbytes"] > 0 and v["size"] == "160x96"


@pytest.fixture
def fake_figures(monkeypatch):
    """Replace the measurements by fixed figures (the command's job is to join them)."""
    import render.bench as rbench

    def run_all(quick, progress):
        progress("  core line")
        return {"machine": "test machine", "throughput": [{"ions": 10}]}

    monkeypatch.setattr(bench, "machine", lambda: "test machine")
    monkeypatch.setattr(bench, "run_all", run_all)
    monkeypatch.setattr(rbench, "frames_per_second",
                        lambda n_ions, seconds: {"fps": 50.0, "n_ions": n_ions, "size": "1x1"})
    monkeypatch.setattr(rbench, "encode_speed", lambda seconds: {"speed_vs_realtime": 2.0})


def test_bench_command_joins_core_and_renderer_figures(fake_figures, capsys):
    assert main(["bench", "--quick", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert list(res) == ["machine", "throughput", "window", "video"]
    assert res["window"]["n_ions"] == 2000 and res["video"]["speed_vs_realtime"] == 2.0
    assert main(["bench", "--quick"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ionpump bench on test machine", "  core line",
        "  window: 50 frames/s (2000 ions, 1x1)", "  video: 2.0× real time"]
