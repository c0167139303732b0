"""Every built-in scenario lays out inside the window at 960x540, 1280x720 and 1920x1080:
each string the scene draws lies inside its area (top bar, world view, legend bar, panel, help
box) and no two strings of a layer overlap. The scene records the rectangle of every string
it draws (:attr:`render.text.Text.drawn`)."""

import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from particles import Simulation, load_scenario  # noqa: E402
from particles.config import builtin_names  # noqa: E402
from render.app import App  # noqa: E402

SIZES = [(960, 540), (1280, 720), (1920, 1080)]
LONG = "This scenario has no perfused bath, so the outside K⁺ cannot be removed."


def problems(drawn, layer="frame"):
    """Strings cut by their area, and pairs that overlap (each as a short text)."""
    out = []
    mine = [(r, a, t) for r, a, lay, t in drawn if lay == layer]
    for r, a, t in mine:
        if a is not None and not a.contains(r):
            out.append(f"{t!r} {r} outside {a}")
    for i, (r, _, t) in enumerate(mine):
        for s, _, u in mine[i + 1:]:
            if r.colliderect(s):
                out.append(f"{t!r} {r} overlaps {u!r} {s}")
    return out


@pytest.fixture(scope="module", params=builtin_names())
def app(request):
    sim_ms = 0.5
    a = App(load_scenario(request.param), seed=1, size=SIZES[0])
    a.sim.run(sim_ms)
    yield a
    a.close()


@pytest.mark.parametrize("size", SIZES)
def test_text_fits_and_does_not_overlap(app, size):
    app.resize(size)
    app.frames = 10 ** 6  # past the title card
    app.scene.notify(LONG)
    app.paused = True
    app.frame()
    assert problems(app.scene.text.drawn) == []
    app.do("help")
    app.frame()
    assert problems(app.scene.text.drawn, "help") == []
    app.do("help")


@pytest.mark.parametrize("name", ["ouabain", "hodgkin-keynes", "pump-cycle",
                                  "action-potentials"])
def test_small_video_frames_fit(name):
    """A 640x360 GIF (the README's size): legend, top bar and labels still fit."""
    from render.scene import Scene
    sim = Simulation(load_scenario(name), seed=1)
    sim.run(0.2)
    sc = Scene((640, 360), fps=15)
    sc.set_follow(int(sim.scenario.values["render.follow_pump"]))
    sc.draw(sim)
    assert problems(sc.text.drawn) == []


@pytest.mark.parametrize("size", SIZES)
def test_title_card_fits(size):
    sim = Simulation(load_scenario("hodgkin-keynes"), seed=1)
    from render.scene import Scene
    sc = Scene(size)
    sc.title_alpha = 1.0
    sc.draw(sim)
    assert problems(sc.text.drawn, "card") == []
    assert any(lay == "card" for _, _, lay, _ in sc.text.drawn)


@pytest.mark.parametrize("size", SIZES)
def test_spike_texts_fit(size):
    """action-potentials in the middle of a spike (the slowed speed label, the V chart at
    −90…+50 mV with its 0 mV line and the stimulus) and after it (Na⁺ per spike, the pump's
    share): every string inside its area, none overlapping."""
    a = App(load_scenario("action-potentials"), seed=1, size=size)
    try:
        a.frames = 10 ** 6
        a.do("stimulate")
        for _ in range(4000):
            if a.sim.v_mV > 0:
                break
            a.sim.step(1)
        assert a.sim.v_mV > 0
        a.paused = True
        a.frame()
        drawn = [t for _, _, _, t in a.scene.text.drawn]
        assert "slowed for the spike" in a.scene.speed_label and "0" in drawn
        assert problems(a.scene.text.drawn) == []
        a.sim.run(10.0)
        a.frame()
        drawn = [t for _, _, _, t in a.scene.text.drawn]
        assert any("ions/spike" in t and "C·ΔV/e" in t for t in drawn)
        assert any("% of outward" in t for t in drawn)
        assert problems(a.scene.text.drawn) == []
    finally:
        a.close()


@pytest.mark.parametrize("size", [(640, 360), (960, 540)])
def test_legend_keys_the_pores_without_a_panel(size):
    """Frames without the panel (videos): the legend bar gives the gated pores' states."""
    from render.scene import Scene
    sim = Simulation(load_scenario("action-potentials"), seed=1)
    sc = Scene(size, fps=15, panel=False)
    sc.draw(sim)
    drawn = [t for _, _, _, t in sc.text.drawn]
    assert {"pore:", "open", "closed", "inactivated"} <= set(drawn)
    assert problems(sc.text.drawn) == []


@pytest.mark.parametrize("size", SIZES)
def test_energetics_texts_fit_while_pumps_run_backwards(size):
    """energetics at low ATP clamped at -130 mV (its backward phase): the panel's ΔG of ATP
    and of a cycle, the pump's reversal potential, the key's "backward cycle" and the net
    cycles chart lie inside their areas, none overlapping, while reversed arrows are shown."""
    low = {"atp.initial_mM": 0.3, "atp.adp_mM": 0.3, "atp.pi_mM": 8.0,
           "membrane.clamp_mV": -130.0}
    a = App(load_scenario("energetics", overrides=low), seed=1, size=size)
    try:
        a.frames = 10 ** 6
        a.paused = True
        for _ in range(40):
            a.sim.run(0.2)
            a.frame()
        assert a.scene.memory.reversals  # pumps completed cycles backwards
        drawn = [t for _, _, _, t in a.scene.text.drawn]
        for key in ("ΔG of ATP hydrolysis", "ΔG of a pump cycle", "Pump reversal potential",
                    "backward cycle", "Net pump cycles (down: backwards)"):
            assert key in drawn
        assert any(t.endswith(" kJ/mol") and t.startswith("+") for t in drawn)  # uphill
        assert problems(a.scene.text.drawn) == []
    finally:
        a.close()
