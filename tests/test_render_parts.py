"""The renderer's parts, each on its own and headless (SDL dummy driver): the pump-state style
table covers every state, the frame memory turns pump changes into marks, the projection
round-trips, and the panel, world view and overlays each draw onto a plain surface without a
Scene or a window. Also: the renderer reads the simulation only through public members."""

import ast
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from particles import Simulation, load_scenario  # noqa: E402
from particles.state import PumpState, Side  # noqa: E402
from render.layout import Layout, Projection, View  # noqa: E402
from render.memory import FrameMemory  # noqa: E402
from render.overlays import Overlays  # noqa: E402
from render.panel import Panel  # noqa: E402
from render.style import PUMP_STYLES, pump_style, step_caption  # noqa: E402
from render.text import Text  # noqa: E402
from render.world import WorldView  # noqa: E402

RENDER = Path(__file__).resolve().parents[1] / "render"


@pytest.fixture(scope="module")
def sim():
    s = Simulation(load_scenario("pump-cycle"), seed=1)
    s.step(300)
    return s


def _surface(size):
    buf = np.zeros((size[1], size[0], 3), np.uint8)
    return buf, pygame.image.frombuffer(buf, size, "RGB")


# ---------------------------------------------------------------- style table

def test_every_pump_state_has_one_distinct_style():
    assert set(PUMP_STYLES) == set(PumpState)
    styles = list(PUMP_STYLES.values())
    assert len({s.name for s in styles}) == len(styles)
    assert len({s.color for s in styles}) == len(styles)
    assert {s.pocket for s in styles} <= {"inward", "outward", "occluded", "plugged"}
    assert [s for s in PumpState if pump_style(s).blocked] == [PumpState.BLOCKED]
    for s in PumpState:
        assert step_caption(s, 0, 0) == PUMP_STYLES[s].caption(0, 0)


# ---------------------------------------------------------------- memory

def test_memory_turns_pump_changes_into_marks():
    """A released free ion flashes; E1·3Na -> E1P gives ADP; E2P(2K) -> E2(2K) gives P;
    E2P -> ouabain-blocked gives nothing; the followed pump's history records its states."""
    sim = Simulation(load_scenario("pump-cycle"), seed=1)
    p, ions = sim.pumps, sim.ions
    free = int(np.flatnonzero((ions.side == Side.INSIDE) & ~ions.bound)[0])
    p.state[:3] = [PumpState.E1_3NA, PumpState.E2P_2K, PumpState.E2P]
    p.sites[0, 0] = free  # as if bound: it is free in the next frame
    mem = FrameMemory()
    mem.update(sim, fps=30, follow=1)
    mem.frame += 1
    assert not mem.flashes and not mem.puffs
    p.sites[0, 0] = -1
    p.state[:3] = [PumpState.E1P_3NA, PumpState.E2_2K, PumpState.BLOCKED]
    mem.update(sim, fps=30, follow=1)
    assert [(f.pump, f.outward) for f in mem.flashes] == [(0, False)]
    assert sorted((q.pump, q.text) for q in mem.puffs) == [(0, "ADP"), (1, "P")]
    assert [s for _, s in mem.history] == [PumpState.E2P_2K, PumpState.E2_2K]
    mem.frame += 100  # marks expire after a second or so of playback
    mem.update(sim, fps=30, follow=1)
    assert not mem.flashes and not mem.puffs


# ---------------------------------------------------------------- layout

def test_projection_round_trips_and_follows_the_camera(sim):
    lay = Layout.for_size((1280, 720))
    view = View()
    proj = Projection.of(lay, view, sim.geometry)
    x, y = proj.to_world(proj.to_screen(0.3, 0.2))
    assert (x, y) == pytest.approx((0.3, 0.2))
    left, right = proj.band
    assert left < proj.membrane_x < right and proj.half_width > (right - left) / 2
    view.zoom = 2.0
    assert Projection.of(lay, view, sim.geometry).scale == pytest.approx(2 * proj.scale)


# ---------------------------------------------------------------- each part alone

def test_panel_draws_alone_in_its_rectangle(sim):
    lay = Layout.for_size((1280, 720))
    buf, surf = _surface(lay.size)
    Panel(Text()).draw(surf, lay, sim, follow=1, history=[(0.0, 0)])
    side = lay.side
    assert len(np.unique(buf[side.top:, side.left:].reshape(-1, 3), axis=0)) > 10
    assert not buf[:, :side.left].any()  # nothing outside the panel


def test_world_view_draws_alone(sim):
    lay = Layout.for_size((960, 540), panel=False)
    buf, surf = _surface(lay.size)
    world = WorldView(Text())
    proj = Projection.of(lay, View(), sim.geometry)
    world.draw(buf, surf, lay, sim, proj, FrameMemory(), fps=30, follow=0)
    wr = lay.world
    assert len(np.unique(buf[wr.top:wr.bottom, :].reshape(-1, 3)[::37], axis=0)) > 20
    r = world.pump_rect(sim, proj, 2)
    assert world.pick_pump(sim, proj, r.center) == 2


def test_overlays_draw_alone(sim):
    lay = Layout.for_size((800, 500))
    buf, surf = _surface(lay.size)
    ov = Overlays(Text())
    ov.top_bar(surf, lay, sim, captions=True, paused=True, speed_label="×2")
    ov.legend(surf, lay, sim)
    assert buf[lay.top.top:lay.top.bottom].any() and buf[lay.legend.top:].any()
    before = buf.copy()
    ov.help(surf, lay, [("Space", "pause / resume")])
    changed = np.argwhere((buf != before).any(axis=2))
    cy, cx = changed.mean(axis=0)
    assert abs(cx - 400) < 40 and abs(cy - 250) < 40  # a box in the middle


# ---------------------------------------------------------------- a reader

def test_renderer_uses_only_public_members_of_the_simulation():
    """No module in render/ imports the kernels or reads ``env``/``par``/private members of
    a simulation (``sim.x`` where x starts with ``_``)."""
    for path in sorted(RENDER.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [f"{node.module}.{a.name}" for a in node.names]
            else:
                imported = []
            assert not any(m.startswith("particles.kernels") for m in imported), \
                f"{path.name}:{node.lineno}: imports the kernels"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "sim":
                assert node.attr not in ("env", "par") and not node.attr.startswith("_"), \
                    f"{path.name}:{node.lineno}: sim.{node.attr}"


def test_turnover_counts_the_last_5_ms_only():
    """Pumps that cycled at 100 /pump/s and then stopped (blocked) show 0 once 5 ms have
    passed, whatever the run's mean."""
    from render.panel import turnover
    sim = Simulation(load_scenario("pump-cycle"), seed=1)
    m = len(sim.pumps)
    t = np.arange(0.0, 20.01, 0.25)
    cycles = np.where(t < 10, t, 10.0) * m * 0.1  # 0.1 /pump/ms until 10 ms, then none
    sim.recorder.rows = [{"time_ms": float(a), "cycles": float(c)} for a, c in zip(t, cycles)]
    assert turnover(sim) == 0.0
    sim.recorder.rows = sim.recorder.rows[:41]  # up to 10 ms: still cycling
    assert turnover(sim) == pytest.approx(100.0)
    sim.recorder.rows = sim.recorder.rows[:2]
    assert turnover(sim) == pytest.approx(100.0)


def test_efflux_rate_bins_the_run_and_leaves_out_empty_bins():
    from render.panel import efflux_rate
    rows = [{"time_ms": 0.5 * i, "tracer_efflux": 2 * min(i, 40)} for i in range(81)]
    out = efflux_rate(rows, bins=8)
    assert len(out) == 8
    assert [r["efflux_per_ms"] for r in out[:4]] == pytest.approx([4.0] * 4)  # 2 per 0.5 ms
    assert all(np.isnan(r["efflux_per_ms"]) for r in out[4:])
