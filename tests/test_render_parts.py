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


def test_memory_marks_whole_backward_cycles_only():
    """A pump's net count flickering by one (E2(2K) ⇌ E1(2K)) gives no reversal; a fall of
    two below its highest (a whole cycle run backwards) gives one, and each further fall
    below the last reversal's count another (a first frame's count is only a start: a
    reversal needs two below it); E1P(3Na) -> E1·3Na gives ATP (made), not P."""
    sim = Simulation(load_scenario("pump-cycle"), seed=1)
    p = sim.pumps
    mem = FrameMemory()
    counts = {0: [0, 1, 2, 1, 2, 1, 2, 1, 0, 1, 0, -1, 0, -1, -1],
              1: [5, 4, 5, 4, 3, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2]}
    marks = []
    for k in range(15):
        p.cycles[:2] = [counts[0][k], counts[1][k]]
        mem.update(sim, fps=1000, follow=-1)
        marks += [(r.pump, k) for r in mem.reversals if r.born == mem.frame]
        mem.frame += 1
    assert marks == [(1, 4), (1, 7), (0, 8), (0, 11)]
    p.state[2] = PumpState.E1P_3NA
    mem.update(sim, fps=30, follow=-1)
    p.state[2] = PumpState.E1_3NA
    mem.frame += 1
    mem.update(sim, fps=30, follow=-1)
    assert [(q.pump, q.text) for q in mem.puffs if q.born == mem.frame] == [(2, "ATP")]


def test_backward_pumps_are_drawn_with_a_reversed_arrow(sim):
    """The arrow of a reversal is drawn on its pump in the reverse colour, and fades away."""
    from render.memory import Reversal
    from render.style import REVERSE
    lay = Layout.for_size((960, 540), panel=False)
    proj = Projection.of(lay, View(), sim.geometry)
    mem = FrameMemory()
    mem.update(sim, fps=30, follow=-1)
    mem.reversals = [Reversal(1, mem.frame)]

    def reverse_px():
        buf, surf = _surface(lay.size)
        WorldView(Text()).draw(buf, surf, lay, sim, proj, mem, fps=30, follow=-1)
        return int(np.all(buf == REVERSE, axis=2).sum())

    assert reverse_px() > 20
    mem.frame += 100
    assert reverse_px() == 0


def test_panel_shows_the_pump_energetics_where_the_scenario_is_about_them():
    """energetics (clamped) and hodgkin-keynes (a poison in its protocol) show ΔG of ATP, of
    a cycle and the reversal potential with units, and the key names the reversed arrow;
    resting does not."""
    from render.readouts import about_energetics, energetics_lines
    seen = {}
    for name in ("energetics", "hodgkin-keynes", "resting"):
        s = Simulation(load_scenario(name), seed=1)
        s.run(0.05)
        seen[name] = about_energetics(s)
        if seen[name]:
            lay = Layout.for_size((1280, 720))
            text = Text()
            _, surf = _surface(lay.size)
            Panel(text).draw(surf, lay, s, follow=-1, history=[])
            drawn = [t for _, _, _, t in text.drawn]
            lines = energetics_lines(s.recorder.rows[-1])
            assert [k for k, _ in lines] == ["ΔG of ATP hydrolysis", "ΔG of a pump cycle",
                                             "Pump reversal potential"]
            assert lines[0][1].endswith(" kJ/mol") and lines[2][1].endswith(" mV")
            assert all(k in drawn and v in drawn for k, v in lines)
            assert "backward cycle" in drawn
    assert seen == {"energetics": True, "hodgkin-keynes": True, "resting": False}
    assert energetics_lines({"dg_atp_kJ_mol": float("-inf"), "dg_cycle_kJ_mol": float("nan"),
                             "pump_reversal_mV": -85.4}) == [
        ("ΔG of ATP hydrolysis", "–"), ("ΔG of a pump cycle", "–"),
        ("Pump reversal potential", "-85 mV")]


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
    from render.readouts import turnover
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


def test_pump_current_readout_follows_the_net_cycles_of_the_last_5_ms():
    """Pumps running net backwards at 40 cycles per pump per second read an inward pump
    current of 40·m elementary charges per second over the patch's area, whatever the 1-ms
    average of the partial reactions says (issue 13's note: it read +4 µA/cm² there)."""
    from particles.physics import patch_area_um2
    from render.readouts import current_lines, pump_current
    sim = Simulation(load_scenario("energetics"), seed=1)
    m = len(sim.pumps)
    t = np.arange(0.0, 20.01, 0.25)
    cycles = -0.04 * m * t  # -40 /pump/s
    sim.recorder.rows = [{"time_ms": float(a), "cycles": float(c)} for a, c in zip(t, cycles)]
    area_cm2 = patch_area_um2(sim.scenario.values, m) * 1e-8
    expected = -40.0 * m * 1.602176634e-19 / area_cm2 * 1e6  # µA/cm²
    assert pump_current(sim) == pytest.approx(expected, rel=1e-6)
    assert dict(current_lines(sim, None))["Pump current"].startswith(f"{expected:+.2f} µA/cm²")
    sim.recorder.rows = sim.recorder.rows[:1]  # one row: the kernel's own average
    assert pump_current(sim) == sim.i_pump_uA_cm2


def test_efflux_rate_bins_the_run_and_leaves_out_empty_bins():
    from render.panel import efflux_rate
    rows = [{"time_ms": 0.5 * i, "tracer_efflux": 2 * min(i, 40)} for i in range(81)]
    out = efflux_rate(rows, bins=8)
    assert len(out) == 8
    assert [r["efflux_per_ms"] for r in out[:4]] == pytest.approx([4.0] * 4)  # 2 per 0.5 ms
    assert all(np.isnan(r["efflux_per_ms"]) for r in out[4:])


# ---------------------------------------------------------------- pores and the V chart

def test_pore_states_follow_the_gating_codes():
    """Nav: inactivated while h = 0 (codes 0..3), open only in m3h1, else closed; Kv: open
    only in n4; leak pores always open."""
    from particles.channels import Channels
    from particles.layout import KV_OPEN, NAV_OPEN, ChannelType
    from render.pores import PoreState, pore_states
    nav = [int(ChannelType.NAV)] * 8
    kv = [int(ChannelType.KV)] * 5
    leak = [int(ChannelType.NA_LEAK), int(ChannelType.K_LEAK)]
    types = np.array(nav + kv + leak, np.int8)
    gate = np.array(list(range(8)) + list(range(5)) + [0, 0], np.int8)
    ch = Channels(np.zeros(len(types)), types, np.zeros(0, np.int32), 0.01, np.zeros(4), gate)
    want = ([PoreState.INACTIVATED] * 4 + [PoreState.CLOSED] * 3 + [PoreState.OPEN]
            + [PoreState.CLOSED] * 4 + [PoreState.OPEN] + [PoreState.OPEN] * 2)
    assert list(pore_states(ch)) == want
    assert gate[7] == NAV_OPEN and gate[8 + 4] == KV_OPEN


def _pore_picture(state, color):
    from render.pores import draw_pore
    buf, surf = _surface((60, 40))
    buf[:] = 255
    draw_pore(surf, pygame.Rect(20, 12, 24, 16), color, True, state, 1)
    grey = buf.astype(float) @ np.array([0.299, 0.587, 0.114])  # luminance only
    return grey < 100  # the dark parts: gate, ball, outline


def test_pore_states_differ_in_shape_not_only_colour():
    """Seen in grey (no colour vision), open, closed and inactivated pores of the same
    colour differ in many pixels, in both ion colours."""
    from render.pores import PoreState
    from render.raster import K_RGB, NA_RGB
    for color in (NA_RGB, K_RGB):
        pics = [_pore_picture(s, color) for s in PoreState]
        for i in range(3):
            for j in range(i + 1, 3):
                assert np.count_nonzero(pics[i] != pics[j]) >= 40, (color, i, j)
    inact = _pore_picture(PoreState.INACTIVATED, NA_RGB)
    assert inact[:, :20].any()  # the ball sits in the cytoplasmic mouth, left of the pore


def test_world_view_draws_each_pore_in_its_state():
    """A scenario with gated pores: the same pore drawn open, closed and inactivated gives
    three different pictures at its place, and nothing changes elsewhere."""
    from particles.layout import NAV_OPEN, ChannelType
    s = Simulation(load_scenario("recovery"), seed=1)
    ch = s.channels
    nav = np.flatnonzero(ch.type == ChannelType.NAV)
    assert nav.size
    lay = Layout.for_size((1280, 720), panel=False)
    proj = Projection.of(lay, View(), s.geometry)
    pics = []
    for code in (NAV_OPEN, NAV_OPEN - 1, 0):  # open, closed (m2h1), inactivated (m0h0)
        gate = np.full(len(ch), 0, np.int8)
        gate[ch.type == ChannelType.KV] = 0
        gate[nav] = code
        ch.gate[:] = gate
        buf, surf = _surface(lay.size)
        WorldView(Text()).draw(buf, surf, lay, s, proj, FrameMemory(), fps=30, follow=-1)
        pics.append(buf.copy())
    cy = round(proj.pump_y(float(ch.y[nav[0]])))
    x0, x1 = (round(x) for x in proj.band)
    near = slice(cy - 12, cy + 13), slice(x0 - 15, x1 + 5)
    for i in range(3):
        for j in range(i + 1, 3):
            assert (pics[i][near] != pics[j][near]).any(axis=2).sum() >= 10, (i, j)
    diff = (pics[0] != pics[2]).any(axis=2)
    diff[near] = False
    far = diff.copy()
    for k in nav:  # the other Nav pores change too; nothing else does
        y = round(proj.pump_y(float(ch.y[k])))
        far[max(0, y - 12):y + 13, x0 - 15:x1 + 5] = False
    assert not far.any()


def test_key_shows_the_pore_states_only_with_gated_pores():
    from render.pores import STATE_NAMES
    names = [n for _, n in STATE_NAMES]
    for name, has in (("pump-cycle", False), ("recovery", True)):
        s = Simulation(load_scenario(name), seed=1)
        lay = Layout.for_size((1280, 720))
        buf, surf = _surface(lay.size)
        text = Text()
        Panel(text).draw(surf, lay, s, follow=-1, history=[])
        drawn = [t for _, _, _, t in text.drawn]
        assert all((n in drawn) == has for n in names), (name, drawn)


def test_v_axis_spans_the_spike_range_around_a_spike():
    from render.panel import V_SPIKE_RANGE, _axis_range
    from render.readouts import spike_in_view
    rest = [{"spikes": 2, "v_mV": -70.0}, {"spikes": 2, "v_mV": -66.0}]
    assert not spike_in_view(rest, -66.0)
    assert spike_in_view(rest, -30.0)                       # depolarised now
    spiked = rest + [{"spikes": 3, "v_mV": -72.0}]
    assert spike_in_view(spiked, -72.0)                     # a spike inside the window
    v = np.array([-72.0, 35.0, -80.0])
    assert _axis_range([v], None, V_SPIKE_RANGE) == V_SPIKE_RANGE
    lo, hi = _axis_range([np.array([-95.0, 60.0])], None, V_SPIKE_RANGE)
    assert lo < -95 and hi > 60                             # data beyond it: all shown
    lo, hi = _axis_range([np.array([-70.0, -66.0])], None, None)
    assert -71 < lo < -70 and -66 < hi < -65                # at rest: the data's range


def test_a_steady_v_is_drawn_flat_with_distinct_labels():
    """A V steady to 0.05 mV (resting-timelapse) spans V_MIN_SPAN_MV centred on the data,
    so the three axis labels differ, instead of its noise filling the plot."""
    from render.panel import V_MIN_SPAN_MV, _axis_range
    from render.text import fmt_num
    v = np.array([-65.05, -65.02, -65.0])
    lo, hi = _axis_range([v], None, None, V_MIN_SPAN_MV)
    assert hi - lo == pytest.approx(V_MIN_SPAN_MV)
    assert lo < v.min() and v.max() < hi and abs((lo + hi) / 2 - v.mean()) < 0.05
    labels = {fmt_num(lo + f * (hi - lo)) for f in (0.0, 0.5, 1.0)}
    assert len(labels) == 3, labels
    wide = np.array([-80.0, -60.0])                         # wider data: their own range
    assert _axis_range([wide], None, None, V_MIN_SPAN_MV) == _axis_range([wide], None, None)


def test_v_chart_draws_the_0_mV_line_and_the_stimulus():
    from render.panel import STIM_SHADE, draw_chart
    lay = Layout.for_size((1280, 720))
    buf, surf = _surface((400, 200))
    rows = [{"time_ms": 0.05 * i, "v_mV": -70.0 + 100.0 * (20 <= i < 30),
             "i_stim_uA_cm2": 40.0 * (10 <= i < 20), "spikes": int(i >= 25)}
            for i in range(100)]
    text = Text()
    draw_chart(surf, text, lay, pygame.Rect(0, 0, 400, 200), rows, [("v_mV", (0, 0, 0), "V")],
               "Membrane potential (mV)", floor=None, include=(-90.0, 50.0), marks=(0.0,),
               shade=("i_stim_uA_cm2", STIM_SHADE, "stimulus"))
    drawn = [t for _, _, _, t in text.drawn]
    assert "0" in drawn and "stimulus" in drawn and "-90.0" in drawn and "50.0" in drawn
    assert (buf == STIM_SHADE).all(axis=2).sum() > 100


def test_spike_heights_and_the_sodium_entry_ratio():
    """Heights are measured from the foot (lowest V in the 3 ms before the crossing) to the
    peak (highest in the 1.5 ms after), once the peak's window is recorded; the ratio is the
    Na⁺ per spike over C·A·ΔV/e for the patch's area."""
    from particles.physics import patch_area_um2
    from render.readouts import SpikeHeights, na_entry_ratio
    rows = []
    for i in range(200):  # 0.1 ms rows: two spikes of 110 and 120 mV from -75 and -80 mV
        t = 0.1 * i
        v = -75.0 if t < 8 else -80.0
        v = 35.0 if 5.0 <= t < 5.3 else (40.0 if 15.0 <= t < 15.3 else v)
        rows.append({"time_ms": t, "v_mV": v, "spikes": int(t >= 5.0) + int(t >= 15.0)})
    h = SpikeHeights()
    h.update(rows[:55])
    assert h.heights == []                      # the first peak's window is not complete
    h.update(rows[:100])
    assert h.heights == [pytest.approx(110.0)]
    h.update(rows)
    assert h.heights == [pytest.approx(110.0), pytest.approx(120.0)]
    h.update(rows[:10])                          # a new run: starts again
    assert h.heights == []
    s = Simulation(load_scenario("action-potentials"), seed=1)
    assert np.isnan(na_entry_ratio(s, 115.0))    # no spike yet
    area = patch_area_um2(s.scenario.values, len(s.pumps))
    least = 1e-14 * area * 0.115 / 1.602176634e-19
    s.na_per_spike = lambda: 3.0 * least
    assert na_entry_ratio(s, 115.0) == pytest.approx(3.0)
