"""A Simulation in a notebook (particles.display, render.notebook): the HTML table, the
still frame, the videos, the run figure, and the renderer found through its entry points."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from particles import Simulation, load_scenario
from particles import display
from particles.config import ScenarioError
from particles.layout import PumpState, Side, Species
from particles.output import OutputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sim():
    s = Simulation(load_scenario("pump-cycle"), seed=4)
    s.run(1.0)
    return s


def _free(sim, species, side) -> int:
    i = sim.ions
    return int(np.count_nonzero((i.species == species) & (i.side == side) & ~i.bound))


def test_repr_html_holds_the_state(sim):
    text = sim._repr_html_()
    assert "The pump cycle, close up" in text and "t = 1 ms" in text
    for sp, name in ((Species.NA, "Na⁺"), (Species.K, "K⁺")):
        cells = [f"<td>{_free(sim, sp, side)}</td><td>"
                 f"{sim.concentration_mM(sp, side):.4g}</td>"
                 for side in (Side.INSIDE, Side.OUTSIDE)]
        assert f"<tr><th>{name}</th>{''.join(cells)}" in text, name
    assert f"{sim.v_mV:.4g} mV" in text and f"{sim.atp_mM:.4g} mM" in text
    occupancy = np.bincount(sim.pumps.state, minlength=len(PumpState))
    assert f"<th>E1·3Na</th><td>{occupancy[PumpState.E1_3NA]}</td>" in text
    assert f"<th>E2P</th><td>{occupancy[PumpState.E2P]}</td>" in text
    assert sum(occupancy) == len(sim.pumps) == 3


def test_repr_html_escapes_the_scenario_text():
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    s = Simulation(load_scenario("pump-cycle", overrides={"scenario.title": hostile}), seed=1)
    s.set_phase("<b>phase</b>")
    text = s._repr_html_()
    assert "<script>" not in text and "<img" not in text and "<b>phase" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in text
    assert "&lt;b&gt;phase&lt;/b&gt;" in text


def test_show_draws_the_current_frame_without_advancing(sim, tmp_path):
    pygame = pytest.importorskip("pygame")
    step, state = sim.step_index, sim.pumps.state.copy()
    img = sim.show(size=(640, 360))
    assert sim.step_index == step and np.array_equal(sim.pumps.state, state)
    assert img.data[:8] == b"\x89PNG\r\n\x1a\n" and img._repr_png_() is img.data
    assert img.size == (640, 360)
    surface = pygame.image.load(io.BytesIO(img.data), "frame.png")
    assert surface.get_size() == (640, 360)
    rgb = pygame.surfarray.array3d(surface)
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    assert len(colours) > 50 and rgb.std() > 20, "blank frame"
    assert sim.show(size=(640, 360)).data == img.data  # drawing does not change the state
    assert img.save(tmp_path / "f.png").read_bytes() == img.data


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_to_video_writes_the_frames(tmp_path, suffix):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    s = Simulation(load_scenario("pump-cycle"), seed=2)
    out = tmp_path / f"clip{suffix}"
    out.write_bytes(b"old")  # replaced, as savefig would
    assert s.to_video(out, seconds=0.2, fps=30, size=(320, 180), progress=False) == out
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 6
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert tuple(meta["size"]) == (320, 180)
    reader.close()
    # each frame advanced ms_per_second / fps simulated ms, in whole steps (the fraction of a
    # step carries over to the next frame)
    wanted = 6 * s.scenario.values["render.ms_per_second"] / 30
    assert abs(s.step_index - wanted / s.dt_ms) <= 1


def test_to_video_inline(tmp_path):
    video = Simulation(load_scenario("pump-cycle"), seed=3).to_video(
        None, seconds=0.2, fps=10, size=(320, 180), progress=False)
    assert isinstance(video, display.InlineVideo) and video.mime == "video/mp4"
    assert video.data[4:8] == b"ftyp"
    html = video._repr_html_()
    assert html.startswith("<video controls") and 'width="320"' in html
    src = html.split('src="data:video/mp4;base64,')[1].split('"')[0]
    assert base64.b64decode(src) == video.data
    assert video.save(tmp_path / "v.mp4").read_bytes() == video.data


@pytest.mark.parametrize("kwargs, key", [
    ({"seconds": 0}, "seconds"), ({"seconds": float("nan")}, "seconds"),
    ({"seconds": True}, "seconds"), ({"fps": 0}, "fps"), ({"fps": 2.5}, "fps"),
    ({"size": (10, 10)}, "size"), ({"size": "big"}, "size")])
def test_to_video_refuses_bad_arguments_in_one_line(sim, kwargs, key):
    step = sim.step_index
    with pytest.raises(ScenarioError) as err:
        sim.to_video(None, **kwargs)
    assert err.value.key == key and "\n" not in str(err.value)
    assert sim.step_index == step


def test_to_video_refuses_an_unknown_format(sim, tmp_path):
    with pytest.raises(OutputError, match="unknown output extension '.avi'"):
        sim.to_video(tmp_path / "clip.avi", seconds=0.1)


def test_plot_is_the_run_figure(sim):
    matplotlib = pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    fig = sim.plot()
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert len(fig.axes) >= 4
        assert fig._suptitle.get_text() == "The pump cycle, close up"
        times = fig.axes[1].lines[0].get_xdata()  # the potential against time
        assert len(times) == len(sim.timeseries())
    finally:
        plt.close(fig)


def test_missing_renderer_is_one_line(sim, monkeypatch):
    import importlib.metadata as md

    monkeypatch.setattr(md, "entry_points", lambda group: [])
    with pytest.raises(ImportError, match=r"^ionpump: no renderer installed for 'frame'[^\n]*$"):
        sim.show()


def test_renderer_without_pygame_is_one_line(sim, monkeypatch):
    import importlib.metadata as md

    class Broken:
        name = "frame"

        def load(self):
            raise ModuleNotFoundError("No module named 'pygame'", name="pygame")

    monkeypatch.setattr(md, "entry_points", lambda group: [Broken()])
    with pytest.raises(ImportError, match=r"^ionpump: the renderer needs pygame: pip install"):
        sim.show()


def test_display_entry_points_are_installed():
    """pyproject.toml declares the renderer's functions (reinstall after changing it)."""
    from importlib.metadata import entry_points

    from render import notebook

    eps = {ep.name: ep for ep in entry_points(group=display.PLUGIN_GROUP)}
    assert eps["frame"].load() is notebook.frame and eps["video"].load() is notebook.video


def test_display_loads_nothing_heavy():
    code = ("import sys, particles.display, particles.simulation; "
            "print(*(m for m in ('pygame', 'render', 'matplotlib', 'pandas', 'imageio_ffmpeg') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == []
