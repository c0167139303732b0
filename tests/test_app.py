"""The window, headless (SDL dummy driver): posted key and mouse events change the simulation
as the controls say; every world-changing control is a protocol event; `watch` under Xvfb
keeps drawing (skipped when Xvfb is not installed)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from particles import load_scenario  # noqa: E402
from particles.config import PROTOCOL_EVENTS  # noqa: E402
from particles.state import PumpState  # noqa: E402
from render.app import App  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app(tmp_path):
    sc = load_scenario("pump-cycle", overrides={"ouabain.k_on_per_mM_ms": 1e5})
    a = App(sc, seed=1, size=(800, 500), out_dir=tmp_path)
    yield a
    a.close()


def key(k, mod=0):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode=""))


def frames(app, n):
    for _ in range(n):
        app.frame()


def test_pause_stops_time_and_step_advances(app):
    frames(app, 2)
    key(pygame.K_SPACE)
    frames(app, 1)
    t = app.sim.time_ms
    frames(app, 5)
    assert app.paused and app.sim.time_ms == t
    key(pygame.K_PERIOD)
    frames(app, 1)
    assert app.sim.time_ms > t
    key(pygame.K_SPACE)
    frames(app, 3)
    assert not app.paused and app.sim.time_ms > t


def test_speed_changes_steps_per_frame_not_dt(app):
    dt = app.sim.dt_ms
    n1 = app.steps_per_frame()
    key(pygame.K_PLUS)
    key(pygame.K_EQUALS)
    frames(app, 1)
    assert app.steps_per_frame() == pytest.approx(4 * n1)
    assert app.last_steps in (int(4 * n1), int(4 * n1) + 1)
    key(pygame.K_MINUS)
    frames(app, 1)
    assert app.steps_per_frame() == pytest.approx(2 * n1)
    assert app.sim.dt_ms == dt


def test_k_free_empties_outside_k(app):
    frames(app, 1)
    k0 = app.sim.counts()["k_out"]
    assert k0 > 10
    key(pygame.K_k)
    key(pygame.K_PLUS)
    key(pygame.K_PLUS)  # x4: 1 ms per 7-8 frames
    frames(app, 20)
    assert app.sim.bath_mM[1] == 0
    assert app.sim.counts()["k_out"] <= 0.2 * k0
    key(pygame.K_k)  # back on
    frames(app, 20)
    assert app.sim.counts()["k_out"] > 0.4 * k0


def test_ouabain_blocks_pumps(app):
    key(pygame.K_o)
    key(pygame.K_PLUS)
    key(pygame.K_PLUS)
    frames(app, 60)
    assert np.count_nonzero(app.sim.pumps.state == PumpState.BLOCKED) >= 1


def test_poison_toggles_and_tracer_loads(app):
    key(pygame.K_d)
    frames(app, 1)
    assert app.sim.poisoned
    key(pygame.K_d)
    frames(app, 1)
    assert not app.sim.poisoned
    key(pygame.K_t)
    frames(app, 1)
    assert app.sim.ions.tracer.sum() > 0


def test_controls_are_protocol_events(app, monkeypatch):
    calls = []
    real = app.sim.apply_event

    def spy(action, **params):
        calls.append(action)
        return real(action, **params)

    monkeypatch.setattr(app.sim, "apply_event", spy)
    for k in (pygame.K_k, pygame.K_d, pygame.K_o, pygame.K_t, pygame.K_1):
        key(k)
    key(pygame.K_2, pygame.KMOD_SHIFT)
    frames(app, 1)
    want = ["k_free", "poison", "ouabain", "load_tracer"]
    want += [a for a in ("add_ions", "remove_ions") if a in PROTOCOL_EVENTS]
    assert calls[:len(want)] == want


@pytest.mark.skipif("add_ions" not in PROTOCOL_EVENTS, reason="add_ions not in this core")
def test_add_and_remove_ions(app):
    frames(app, 1)
    na_in = lambda: int(np.count_nonzero((app.sim.ions.species == 0)  # noqa: E731
                                         & (app.sim.ions.side == 0)))
    n0 = na_in()
    key(pygame.K_1)
    app.paused = True
    frames(app, 1)
    assert na_in() > n0
    n1 = na_in()
    key(pygame.K_1, pygame.KMOD_SHIFT)
    frames(app, 1)
    assert na_in() < n1


def test_unavailable_control_shows_a_message(app):
    key(pygame.K_a)  # pump-cycle has no voltage-gated channels
    frames(app, 1)
    assert app.running and app.scene.message


def test_click_follows_pump_wheel_zooms_drag_pans(app):
    frames(app, 1)
    r = app.scene.pump_rect(app.sim, 0)
    pos = (r.centerx, r.centery)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1))
    frames(app, 1)
    assert app.scene.follow == 0
    z = app.scene.view.zoom
    pygame.event.post(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=2, flipped=False))
    frames(app, 1)
    assert app.scene.view.zoom > z
    c = app.scene.world = app.scene.view.center
    p0 = app.scene.layout.world.center
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=p0, button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(p0[0] + 50, p0[1]),
                                         rel=(50, 0), buttons=(1, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(p0[0] + 50, p0[1]),
                                         button=1))
    frames(app, 1)
    assert app.scene.view.center[0] < c[0]
    assert app.scene.follow == 0  # a drag is not a click


def test_button_click_and_help(app):
    frames(app, 1)
    label, rect, _, _ = next(b for b in app.ui.buttons if b[0] == "Pause")
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=rect.center, button=1))
    frames(app, 1)
    assert app.paused
    key(pygame.K_h)
    frames(app, 1)
    assert app.ui.help
    key(pygame.K_ESCAPE)
    frames(app, 1)
    assert not app.ui.help and app.running


def test_reset_restarts(app):
    frames(app, 5)
    assert app.sim.time_ms > 0
    key(pygame.K_r)
    app.paused = True
    frames(app, 1)
    assert app.sim.time_ms == 0


def test_screenshot_and_recording(app, tmp_path):
    key(pygame.K_s)
    frames(app, 1)
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pygame.image.load(str(pngs[0])).get_size() == (800, 500)
    key(pygame.K_v)
    frames(app, 8)
    key(pygame.K_v)
    frames(app, 1)
    mp4s = list(tmp_path.glob("*.mp4"))
    assert len(mp4s) == 1 and mp4s[0].stat().st_size > 1000


def test_resize(app):
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, w=1024, h=640, size=(1024, 640)))
    frames(app, 2)
    assert app.scene.size == (1024, 640) and app.scene.buffer.shape == (640, 1024, 3)


# ---------------------------------------------------------------- a real window under Xvfb

@pytest.mark.skipif(shutil.which("Xvfb") is None,
                    reason="Xvfb is not installed (apt-get install xvfb; make test tries)")
def test_watch_under_xvfb_keeps_drawing(tmp_path):
    display = f":{90 + os.getpid() % 9}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        assert xvfb.poll() is None, "Xvfb did not start"
        env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
        shot = tmp_path / "last.png"
        env.update(DISPLAY=display, IONPUMP_WATCH_SECONDS="5",
                   IONPUMP_WATCH_SCREENSHOT=str(shot))
        exe = Path(sys.executable).with_name("ionpump")
        r = subprocess.run([str(exe), "watch", "pump-cycle"], env=env, capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        line = [ln for ln in r.stderr.splitlines() if ln.startswith("watch: drew")]
        assert line, r.stderr
        n = int(line[0].split()[2])
        sim_ms = float(line[0].split("simulated ")[1].split()[0])
        assert n >= 20 and sim_ms > 0, line[0]
        assert pygame.image.load(str(shot)).get_size()[0] > 600
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def test_next_event_pauses_at_the_followed_pumps_next_step(app):
    """N advances to the next change of the followed pump (state or bound ions), at most one
    16-step chunk past it (checked by a replay for the first stop), and its notice names what
    changed."""
    app.scene.set_follow(1)
    pumps = app.sim.pumps
    seen = []
    for _ in range(40):  # (issue 13: internal K+ binds and unbinds too)
        before = (int(pumps.state[1]), int(pumps.n_na[1]), int(pumps.n_k[1]))
        t0 = app.sim.time_ms
        key(pygame.K_n)
        frames(app, 1)
        after = (int(pumps.state[1]), int(pumps.n_na[1]), int(pumps.n_k[1]))
        assert app.paused and after != before
        assert 0 < app.sim.time_ms - t0 <= 20.0 + 16 * app.sim.dt_ms
        seen.append(app.scene.message)
        if not seen[:-1]:  # the first stop is the first step: a replay 16 dt earlier has none
            from particles.simulation import Simulation

            ref = Simulation(app.sim.scenario, seed=1)
            ref.run_steps(app.sim.step_index - 16)
            assert (int(ref.pumps.state[1]), int(ref.pumps.n_na[1]),
                    int(ref.pumps.n_k[1])) == before
            ref.run_steps(16)
            assert (int(ref.pumps.state[1]), int(ref.pumps.n_na[1]),
                    int(ref.pumps.n_k[1])) == after
    assert all(m.startswith("pump 2: ") for m in seen), seen
    assert any("→" in m for m in seen) and any("Na⁺ bound" in m for m in seen), seen
    t = app.sim.time_ms
    frames(app, 3)  # paused: nothing more happens
    assert app.sim.time_ms == t


def test_next_event_with_a_blocked_pump_gives_up(app):
    app.sim.pumps.state[:] = PumpState.BLOCKED
    app.scene.set_follow(0)
    assert app.step_to_next_event(max_ms=0.05) is False
    assert "no pump step" in app.scene.message


def test_next_event_following_a_pump_that_does_not_exist_watches_all(app):
    app.scene.follow = 99  # e.g. render.follow_pump larger than pumps.count
    assert app.step_to_next_event() is True
    assert app.scene.message.startswith("pump ")


def test_window_is_sized_to_the_display():
    from render.app import window_size
    assert window_size((1280, 720)) == (1152, 648)     # 90 % of a 720p projector
    assert window_size((1920, 1080)) == (1728, 972)
    assert window_size((3840, 2160)) == (3456, 1944)
    assert window_size((1024, 600)) == (960, 540)       # never below 960x540
    assert window_size(None) == (1280, 720)


def test_f11_toggles_fullscreen(app):
    before = app.scene.size
    key(pygame.K_F11)
    frames(app, 1)
    assert app.fullscreen and app.scene.size == app.screen.get_size()
    key(pygame.K_F11)
    frames(app, 1)
    assert not app.fullscreen and app.scene.size == before


def test_refusals_are_sentences_without_configuration_keys(app, tmp_path):
    a = App(load_scenario("resting"), seed=1, size=(960, 540), out_dir=tmp_path)
    try:
        for k, where in ((pygame.K_k, a), (pygame.K_a, app)):  # resting: no bath; pump-cycle:
            key(k)                                          # no voltage-gated channels
            frames(where, 1)
            msg = where.scene.message
            assert msg.startswith("This scenario has no ") and msg.endswith(".")
            assert "clamped" not in msg and "_" not in msg and "=" not in msg
    finally:
        a.close()


def test_controls_name_their_phase_and_clamped_bath_says_it_pulls_back(app):
    key(pygame.K_k)
    frames(app, 1)
    assert app.sim.phase == "K⁺-free bath"
    key(pygame.K_d)
    frames(app, 1)
    assert app.sim.phase == "poisoned (DNP)"
    key(pygame.K_4)  # add K+ outside: pump-cycle's perfused bath holds it
    frames(app, 1)
    assert "perfused bath holds K⁺ outside at 0 mM" in app.scene.message
    key(pygame.K_1)  # inside is not held
    frames(app, 1)
    assert "pull back" not in app.scene.message


def test_speed_label_tells_the_achieved_rate():
    from render.messages import speed_label
    assert speed_label(1, 2.0, None) == "×1 = 2 ms/s"
    assert speed_label(1, 2.0, 1.84) == "×1: 1.8 ms/s"  # within 10 %: not behind
    assert speed_label(32, 64.0, 0.2) == "×32: 200 µs/s (behind: 64 ms/s asked)"
    assert speed_label(1 / 4, 0.5, 0.5) == "×1/4: 500 µs/s"


def test_window_measures_the_rate_it_achieves(app, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("render.app.time.perf_counter", lambda: clock[0])
    for _ in range(40):  # 40 frames of 1/10 s each: the dummy display is not paced
        clock[0] += 0.1
        frames(app, 1)
    ms_per_frame = app.sim.scenario.values["render.ms_per_second"] / 60
    achieved = app.achieved_rate()
    assert achieved is not None and abs(achieved - ms_per_frame * 10) < 0.05 * ms_per_frame * 10
    assert "behind" in app.scene.speed_label  # 10 frames/s where 60 were asked


def test_l_highlights_the_labelled_ions(app):
    key(pygame.K_l)  # nothing labelled yet: says how
    frames(app, 1)
    assert not app.scene.highlight_tracer and "press T" in app.scene.message
    key(pygame.K_t)
    frames(app, 1)
    app.paused = True
    frames(app, 1)
    plain = app.scene.buffer.copy()
    key(pygame.K_l)
    frames(app, 1)
    assert app.scene.highlight_tracer
    wr = app.scene.layout.world
    lit = app.scene.buffer[wr.top:wr.bottom, wr.left:wr.right].astype(int)
    was = plain[wr.top:wr.bottom, wr.left:wr.right].astype(int)
    assert lit.mean() > was.mean()  # the rest faded towards white


def test_help_shows_the_scenarios_things_to_try(app):
    from render.lessons import TRY
    from particles.config import builtin_names
    assert set(TRY) == set(builtin_names())
    key(pygame.K_h)
    frames(app, 1)
    drawn = [t for _, _, layer, t in app.scene.text.drawn if layer == "help"]
    assert "Things to try" in drawn
    assert any(t.startswith("• Click a pump") for t in drawn)


# ---------------------------------------------------------------- stimulus and spikes

@pytest.fixture
def excitable(tmp_path):
    a = App(load_scenario("recovery"), seed=1, size=(960, 540), out_dir=tmp_path)
    yield a
    a.close()


def test_a_key_and_the_button_stimulate(excitable, monkeypatch):
    from render.app import BUTTONS, HELP
    calls = []
    real = excitable.sim.apply_event
    monkeypatch.setattr(excitable.sim, "apply_event",
                        lambda action, **p: calls.append(action) or real(action, **p))
    key(pygame.K_a)
    frames(excitable, 1)
    assert calls == ["stimulate"] and excitable.scene.message.startswith("Stimulus: ")
    label, rect, _, enabled = next(b for b in excitable.ui.buttons if b[0] == "Stimulate")
    assert enabled
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=rect.center, button=1))
    frames(excitable, 1)
    assert calls == ["stimulate", "stimulate"]
    words = " ".join(d for _, d in HELP) + " ".join(lab for row in BUTTONS for lab, _ in row)
    assert "Fire" not in words and "fire" not in words and "AP" not in words


def test_stimulus_is_refused_without_gated_channels_or_under_clamp():
    from particles import Simulation
    from render.messages import refusal
    assert refusal(Simulation(load_scenario("pump-cycle"), seed=1), "stimulate").startswith(
        "This scenario has no voltage-gated channels")
    clamped = Simulation(load_scenario("recovery", overrides={"membrane.clamp": True}), seed=1)
    assert refusal(clamped, "stimulate") == ("The voltage clamp holds V, so a stimulus cannot "
                                             "move it.")
    assert refusal(Simulation(load_scenario("recovery"), seed=1), "stimulate") is None


def test_playback_slows_around_a_spike_and_the_label_says_so(excitable, monkeypatch):
    """recovery plays 10 ms/s at ×1; while V is above −50 mV it plays SPIKE_MS_PER_S, for
    SPIKE_HOLD_MS after, and the speed label says so; then back to 10 ms/s."""
    from render.app import FPS, SPIKE_HOLD_MS, SPIKE_MS_PER_S
    a = excitable
    sim = a.sim
    normal = sim.scenario.values["render.ms_per_second"]
    assert normal > SPIKE_MS_PER_S
    frames(a, 1)
    assert not a.slowed() and "slowed" not in a.scene.speed_label
    monkeypatch.setattr(type(sim), "v_mV", property(lambda s: -20.0))
    frames(a, 1)
    assert a.slowed() and a.target_rate() == SPIKE_MS_PER_S
    assert a.steps_per_frame() == pytest.approx(SPIKE_MS_PER_S / (FPS * sim.dt_ms))
    assert "slowed for the spike" in a.scene.speed_label
    a.do("faster")
    assert a.target_rate() == 2 * SPIKE_MS_PER_S  # the speed factor still applies
    a.do("slower")
    monkeypatch.setattr(type(sim), "v_mV", property(lambda s: -70.0))
    assert a.slowed()  # held
    sim.run(SPIKE_HOLD_MS * 1.01)
    frames(a, 1)
    assert not a.slowed() and a.target_rate() == normal
    assert "slowed" not in a.scene.speed_label
