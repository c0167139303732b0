"""The desktop window: ``ionpump watch``.

A fixed-step loop (pymunk's bouncing balls): each frame handles events, advances the
simulation by ``n`` steps, draws the scene and flips. ``n`` comes from the scenario's
``render.ms_per_second`` (simulated ms per second of window at speed ×1), the target frame
rate and the speed factor; speed controls change ``n``, never ``dt``. Every control that
changes the simulated world goes through :meth:`Simulation.apply_event`, the same events a
scenario protocol schedules.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pygame

from particles.config import ScenarioError
from particles.physics import mM_to_count
from particles.simulation import Simulation
from particles.layout import K_SITES, NA_SITES

from .lessons import things_to_try
from .messages import PHASES, clamp_note, refusal, speed_label
from .pipeline import Stepper
from .scene import UI, Scene
from .style import pump_style

FPS = 60
SPEEDS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32, 64)
ADD_MM = 5.0  # how much one add/remove control changes a concentration (mM)
# Around a spike the playback slows to SPIKE_MS_PER_S × the speed factor (simulated ms per
# real second; at ×1 a 1 ms spike lasts about a second on screen): while V is above
# SPIKE_V_MV or a stimulus is on, and for SPIKE_HOLD_MS simulated ms after.
SPIKE_MS_PER_S = 1.0
SPIKE_V_MV = -50.0
SPIKE_HOLD_MS = 1.0

#: (key, what it does) shown by the help overlay (H or ?).
HELP = [
    ("Space", "pause / resume"),
    (". or →", "one frame forward (while paused)"),
    ("N", "pause at the next step of the followed pump (any pump if none)"),
    ("+ / −", "faster / slower (more or fewer steps per frame)"),
    ("R", "reset the scenario (same seed)"),
    ("K", "K⁺-free bath on / off (perfused scenarios)"),
    ("D", "metabolic poison (DNP) on / washout"),
    ("O", "add ouabain (1 µM): blocks pumps"),
    ("A", "stimulate: inject a pulse of current (a spike if V reaches threshold)"),
    ("T", "label half the inside Na⁺ as ²⁴Na⁺ tracer"),
    ("L", "highlight the labelled ²⁴Na⁺ (the other ions fade)"),
    ("1 2 3 4", f"add {ADD_MM:g} mM Na⁺ in / Na⁺ out / K⁺ in / K⁺ out"),
    ("Shift+1..4", f"remove {ADD_MM:g} mM of the same"),
    ("click a pump", "follow it (highlight, captions, state history)"),
    ("wheel / drag", "zoom / pan;  0: whole box"),
    ("S or F12", "screenshot PNG to out/"),
    ("V", "start / stop recording an MP4 to out/"),
    ("F11", "fullscreen on / off"),
    ("H or ?", "this help;  Esc or Q: quit"),
]

#: Panel buttons: (label, action), rows of five.
BUTTONS = [
    [("Pause", "pause"), ("Slower", "slower"), ("Faster", "faster"), ("Reset", "reset"),
     ("Help", "help")],
    [("K-free", "k_free"), ("Poison", "poison"), ("Ouabain", "ouabain"), ("Stimulate", "stimulate"),
     ("Tracer", "tracer")],
    [("+Na⁺ in", "add na inside"), ("+Na⁺ out", "add na outside"), ("+K⁺ in", "add k inside"),
     ("+K⁺ out", "add k outside"), ("Record", "record")],
    [("−Na⁺ in", "remove na inside"), ("−Na⁺ out", "remove na outside"),
     ("−K⁺ in", "remove k inside"), ("−K⁺ out", "remove k outside"), ("Photo", "screenshot")],
]


def window_size(desktop: tuple[int, int] | None) -> tuple[int, int]:
    """The window's first size for a display of ``desktop`` (W, H) px: 16:9, at most 90 % of
    the display, at least 960x540 (1280x720 when the display size is unknown)."""
    if not desktop or min(desktop) <= 0:
        return 1280, 720
    w = min(0.9 * desktop[0], 0.9 * desktop[1] * 16 / 9)
    w = max(960, int(w) // 2 * 2)
    return w, max(540, round(w * 9 / 16))


class WindowError(Exception):
    """The window cannot do what was asked (e.g. no display to open it on); the message is
    meant for the user."""


def _pump_step_text(before, now) -> str:
    """What one pump did between two (state, n_na, n_k) triples, for a screen notice."""
    if before[0] != now[0]:
        return f"{pump_style(before[0]).name} → {pump_style(now[0]).name}"
    parts = []
    for ion, k, sites in (("Na⁺", 1, NA_SITES), ("K⁺", 2, K_SITES)):
        d = int(now[k] - before[k])
        if d:
            parts.append(f"{abs(d)} {ion} {'bound' if d > 0 else 'released'} "
                         f"({now[k]} of {sites} sites filled)")
    return ", ".join(parts)


class App:
    """The window and its loop. Works with any SDL video driver (``dummy`` in tests).

    Args:
        scenario: a loaded :class:`~particles.config.Scenario`.
        seed: random seed of the simulation (reset keeps it).
        size: initial window size (W, H); None: sized to the display (:func:`window_size`).
            The window is resizable; F11 toggles fullscreen.
        out_dir: where screenshots and recordings go.
    """

    def __init__(self, scenario, seed: int = 1, size=None, out_dir="out"):
        self.scenario0 = copy.deepcopy(scenario)
        self.seed = seed
        self.out_dir = Path(out_dir)
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(f"ionpump — {scenario.title}")
        sizes = pygame.display.get_desktop_sizes()
        self.desktop = tuple(sizes[0]) if sizes else None
        self.windowed = tuple(size or window_size(self.desktop))
        self.fullscreen = False
        self.screen = pygame.display.set_mode(self.windowed, pygame.RESIZABLE)
        self.scene = Scene(self.screen.get_size(), fps=FPS)
        self.ui = UI(help_lines=HELP, tips=things_to_try(scenario.name))
        self.speed_i = SPEEDS.index(1)
        self.paused = False
        self.running = True
        self.frames = 0
        self._carry = 0.0
        self._drag = None
        self.encoder = None
        self.clock = pygame.time.Clock()
        self.last_steps = 0
        self._rate_samples: list[tuple[float, float]] = []
        self._slow_until_ms = -1.0   # playback slowed for a spike until this time (ms)
        self._was_slowed = False
        self.stepper = Stepper(numba.get_num_threads())  # the caller's count, per thread
        self.new_sim()

    # ------------------------------------------------------------------ state

    def new_sim(self) -> None:
        """(Re)start the simulation from the scenario as loaded, with the same seed."""
        self.sim = Simulation(copy.deepcopy(self.scenario0), seed=self.seed)
        self.scene.reset_memory()
        self.scene.set_follow(int(self.sim.scenario.values["render.follow_pump"]))
        self.scene.title_alpha = 0.0
        self._carry = 0.0
        self._slow_until_ms = -1.0

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_i]

    def steps_per_frame(self) -> float:
        """Simulation steps per frame at the current speed (may be fractional)."""
        return self.target_rate() / (FPS * self.sim.dt_ms)

    def target_rate(self) -> float:
        """Simulated ms per real second asked for at the current speed (slowed around a
        spike: :meth:`slowed`)."""
        rate = self.sim.scenario.values["render.ms_per_second"] * self.speed
        return min(rate, SPIKE_MS_PER_S * self.speed) if self.slowed() else rate

    def slowed(self) -> bool:
        """Whether the playback is slowed for a spike now: in a scenario with voltage-gated
        Na⁺ channels and V not clamped, while V > SPIKE_V_MV or a stimulus is on, and for
        SPIKE_HOLD_MS after; never when the speed's own rate is slower already."""
        sim = self.sim
        v = sim.scenario.values
        if (v["channels.nav_count"] == 0 or v["membrane.clamp"]
                or v["render.ms_per_second"] <= SPIKE_MS_PER_S):
            return False
        if sim.v_mV > SPIKE_V_MV or sim.stimulus_uA_cm2 != 0:
            self._slow_until_ms = sim.time_ms + SPIKE_HOLD_MS
        return sim.time_ms < self._slow_until_ms

    def achieved_rate(self, window_s: float = 2.0) -> float | None:
        """Simulated ms per real second over the last ``window_s`` s of running (not
        paused); None until half a second has been measured."""
        now = time.perf_counter()
        t = self.sim.time_ms
        samples = self._rate_samples
        if self.paused or (samples and t < samples[-1][1]):  # paused or reset: start again
            samples.clear()
            return None
        samples.append((now, t))
        while len(samples) > 2 and now - samples[1][0] >= window_s:
            samples.pop(0)
        dt = now - samples[0][0]
        return (t - samples[0][1]) / dt if dt >= 0.5 else None

    def _steps_now(self) -> int:
        self._carry += self.steps_per_frame()
        n = int(self._carry)
        self._carry -= n
        return n

    # ------------------------------------------------------------------ controls

    def event(self, action: str, **params) -> bool:
        """Apply a protocol event; say why on screen, in a sentence, when it is not
        possible. A control that starts a phase names it (top bar and panel)."""
        why = refusal(self.sim, action, **params)
        if why is None:
            try:
                self.sim.apply_event(action, **params)
            except ScenarioError as e:
                why = str(e).replace("event: ", "")
        if why is not None:
            self.scene.notify(why, 6.0)
            return False
        if action in PHASES:
            self.sim.set_phase(PHASES[action])
        return True

    def do(self, action: str) -> None:
        """Carry out one control (keyboard, mouse button or test)."""
        sim = self.sim
        if action == "pause":
            self.paused = not self.paused
        elif action == "step":
            self.paused = True
            self._advance(max(1, int(round(self.steps_per_frame()))))
        elif action == "next_event":
            self.paused = True
            self.step_to_next_event()
        elif action in ("faster", "slower"):
            step = 1 if action == "faster" else -1
            self.speed_i = min(max(self.speed_i + step, 0), len(SPEEDS) - 1)
            self._rate_samples.clear()
        elif action == "reset":
            self.new_sim()
            self.scene.notify("reset")
        elif action == "k_free":
            if sim.bath_mM[1] == 0 and sim.scenario.values["bath.clamped"]:
                if self.event("restore_k"):
                    self.scene.notify("K⁺ restored to the bath")
            elif self.event("k_free"):
                self.scene.notify("K⁺-free bath: outside K⁺ is washed away")
        elif action == "poison":
            if sim.poisoned:
                if self.event("washout"):
                    self.scene.notify("washout: poison (and ouabain) removed")
            elif self.event("poison"):
                self.scene.notify("poison: no more ATP is made")
        elif action == "ouabain":
            if self.event("ouabain", mM=0.001):
                self.scene.notify("1 µM ouabain added outside")
        elif action == "stimulate":
            v = sim.scenario.values
            if self.event("stimulate"):
                self.scene.notify(f"Stimulus: {v['stimulus.amplitude_uA_per_cm2']:g} µA/cm² "
                                  f"for {v['stimulus.duration_ms']:g} ms. A spike follows if "
                                  "V reaches threshold.", 4.0)
        elif action == "tracer":
            if self.event("load_tracer", fraction=0.5):
                self.scene.notify("half the inside Na⁺ labelled ²⁴Na⁺")
        elif action.startswith(("add ", "remove ")):
            verb, species, side = action.split()
            g = sim.geometry
            area = g.area_in_um2 if side == "inside" else g.area_out_um2
            count = max(1, mM_to_count(ADD_MM, area, g.depth_um))
            name = "Na⁺" if species == "na" else "K⁺"
            if self.event(f"{verb}_ions", species=species, side=side, count=count):
                self.scene.notify(f"{'Added' if verb == 'add' else 'Removed'} {count} {name} "
                                  f"({ADD_MM:g} mM) {side}."
                                  + clamp_note(sim, species, side), 6.0)
        elif action == "screenshot":
            self.screenshot()
        elif action == "record":
            self.toggle_recording()
        elif action == "help":
            self.ui.help = not self.ui.help
        elif action == "highlight":
            if not self.sim.ions.tracer.any():
                self.scene.notify("No ion is labelled yet: press T to label half the inside "
                                  "Na⁺ as ²⁴Na⁺.", 5.0)
            else:
                self.scene.highlight_tracer = not self.scene.highlight_tracer
        elif action == "fullscreen":
            self.toggle_fullscreen()
        elif action == "view_reset":
            self.scene.view.zoom, self.scene.view.center = 1.0, None
        elif action == "quit":
            self.running = False

    KEYS = {
        pygame.K_SPACE: "pause", pygame.K_PERIOD: "step", pygame.K_RIGHT: "step",
        pygame.K_n: "next_event",
        pygame.K_PLUS: "faster", pygame.K_EQUALS: "faster", pygame.K_KP_PLUS: "faster",
        pygame.K_MINUS: "slower", pygame.K_KP_MINUS: "slower", pygame.K_r: "reset",
        pygame.K_k: "k_free", pygame.K_d: "poison", pygame.K_o: "ouabain",
        pygame.K_a: "stimulate",
        pygame.K_t: "tracer", pygame.K_s: "screenshot", pygame.K_F12: "screenshot",
        pygame.K_v: "record", pygame.K_h: "help", pygame.K_QUESTION: "help",
        pygame.K_0: "view_reset", pygame.K_HOME: "view_reset", pygame.K_q: "quit",
        pygame.K_F11: "fullscreen", pygame.K_l: "highlight",
    }
    NUMBER_KEYS = {pygame.K_1: "na inside", pygame.K_2: "na outside", pygame.K_3: "k inside",
                   pygame.K_4: "k outside"}

    def handle(self, ev) -> None:
        """One pygame event."""
        if ev.type == pygame.QUIT:
            self.running = False
        elif ev.type == pygame.KEYDOWN:
            shift = bool(getattr(ev, "mod", 0) & pygame.KMOD_SHIFT)
            if ev.key == pygame.K_ESCAPE:
                if self.ui.help:
                    self.ui.help = False
                else:
                    self.running = False
            elif ev.key == pygame.K_SLASH and shift:
                self.do("help")
            elif ev.key in self.NUMBER_KEYS:
                self.do(("remove " if shift else "add ") + self.NUMBER_KEYS[ev.key])
            elif ev.key in self.KEYS:
                self.do(self.KEYS[ev.key])
        elif ev.type == pygame.VIDEORESIZE or ev.type == getattr(pygame, "WINDOWRESIZED", -1):
            size = (getattr(ev, "w", None) or ev.x, getattr(ev, "h", None) or ev.y)
            self.resize(size)
        elif ev.type == pygame.MOUSEWHEEL:
            self.zoom(1.25 ** ev.y, pygame.mouse.get_pos())
        elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button in (1, 2, 3):
            for label, rect, _, enabled in self.ui.buttons:
                if rect.collidepoint(ev.pos):
                    if enabled:
                        self.do(self._button_action(label))
                    return
            if self.scene.layout.world.collidepoint(ev.pos):
                self._drag = (ev.pos, ev.pos, ev.button)
        elif ev.type == pygame.MOUSEMOTION and self._drag is not None:
            start, last, button = self._drag
            dx, dy = ev.pos[0] - last[0], ev.pos[1] - last[1]
            moved = abs(ev.pos[0] - start[0]) + abs(ev.pos[1] - start[1])
            if moved > 4:
                self.pan(dx, dy)
            self._drag = (start, ev.pos, button)
        elif ev.type == pygame.MOUSEBUTTONUP and self._drag is not None:
            start, _, button = self._drag
            self._drag = None
            if abs(ev.pos[0] - start[0]) + abs(ev.pos[1] - start[1]) <= 4 and button == 1:
                self.click(ev.pos)

    def click(self, pos) -> None:
        """A click in the picture: follow the pump under it (again: stop following)."""
        i = self.scene.pick_pump(self.sim, pos)
        if i >= 0:
            self.scene.set_follow(-1 if i == self.scene.follow else i)

    def zoom(self, factor: float, pos) -> None:
        """Zoom by ``factor`` (0.5x .. 40x in all), keeping the box point under ``pos``."""
        v = self.scene.view
        wx, wy = self.scene.projection(self.sim).to_world(pos)
        v.zoom = float(min(max(v.zoom * factor, 0.5), 40.0))
        s = self.scene.projection(self.sim).scale
        c = self.scene.layout.world.center
        v.center = (wx - (pos[0] - c[0]) / s, wy - (pos[1] - c[1]) / s)

    def pan(self, dx: float, dy: float) -> None:
        """Move the camera with a drag of (``dx``, ``dy``) px."""
        g = self.sim.geometry
        v = self.scene.view
        s = self.scene.projection(self.sim).scale
        cx, cy = v.center or (g.width_um / 2, g.height_um / 2)
        v.center = (cx - dx / s, cy - dy / s)

    def _button_action(self, label: str) -> str:
        for row in BUTTONS:
            for lab, action in row:
                if lab == label:
                    return action
        return ""

    def resize(self, size, flags: int = pygame.RESIZABLE) -> None:
        """Draw at ``size`` (W, H) px (at least 320x240) from now on."""
        size = (max(int(size[0]), 320), max(int(size[1]), 240))
        if size == self.scene.size and flags == pygame.RESIZABLE:
            return
        if self.encoder is not None:
            self.toggle_recording()
            self.scene.notify("recording stopped: the window was resized")
        if (pygame.display.get_surface() is None or self.screen.get_size() != size
                or flags != pygame.RESIZABLE):
            self.screen = pygame.display.set_mode(size, flags)
        self.scene.resize(self.screen.get_size())
        if not self.fullscreen:
            self.windowed = self.screen.get_size()

    def toggle_fullscreen(self) -> None:
        """Fullscreen at the display's size, or back to the window's last size."""
        if self.fullscreen:
            self.fullscreen = False
            self.resize(self.windowed)
        else:
            self.fullscreen = True
            self.resize(self.desktop or self.scene.size, pygame.FULLSCREEN)

    # ------------------------------------------------------------------ files

    def _stamp(self) -> str:
        return f"{self.sim.scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}-{self.frames:06d}"

    def screenshot(self) -> Path | None:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"ionpump-{self._stamp()}.png"
            pygame.image.save(self.scene.surface, str(path))
        except (OSError, pygame.error) as e:
            self.scene.notify(f"screenshot failed: {e}")
            return None
        self.scene.notify(f"saved {path}")
        return path

    def toggle_recording(self) -> None:
        from .video import Encoder, VideoError

        if self.encoder is not None:
            path = self.encoder.path
            try:
                self.encoder.close()
                self.scene.notify(f"saved {path}")
            except VideoError as e:
                self.scene.notify(str(e))
            self.encoder = None
            return
        W, H = self.scene.size
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"ionpump-{self._stamp()}.mp4"
            self.encoder = Encoder(path, (W - W % 2, H - H % 2), FPS)
        except (OSError, VideoError) as e:
            self.scene.notify(f"cannot record: {e}")
            self.encoder = None
            return
        self.scene.notify(f"recording to {path} (V stops)")

    # ------------------------------------------------------------------ the loop

    def _advance(self, n: int) -> None:
        if n > 0:
            self.sim.run_steps(n)
        self.last_steps = n

    def step_to_next_event(self, chunk: int = 16, max_ms: float = 20.0) -> bool:
        """Advance until the followed pump (any pump when none is followed) takes a step:
        changes conformation, or binds or releases an ion.

        Steps go in chunks of ``chunk`` dt (a few µs simulated: the overshoot cannot be seen,
        but a change undone within one chunk is missed, and of several pumps that moved in
        the same chunk the lowest-numbered is named) and stop after ``max_ms`` simulated ms at
        most (a blocked or starved pump may not move). The step is announced on screen, e.g.
        "pump 2: E1 → E1·3Na after 0.41 ms".

        Returns:
            True if a pump took a step, False if ``max_ms`` passed first.
        """
        sim, i = self.sim, self.scene.follow
        pumps = sim.pumps
        if pumps.state.size == 0:
            self.scene.notify("no pumps in this scenario")
            return False
        if i >= pumps.state.size:  # render.follow_pump beyond the last pump: follow none
            i = -1
        watch = slice(None) if i < 0 else slice(i, i + 1)
        before = np.stack([pumps.state[watch], pumps.n_na[watch], pumps.n_k[watch]]).astype(int)
        limit = max(1, int(round(max_ms / sim.dt_ms)))
        t0, n = sim.time_ms, 0
        while n < limit:
            sim.run_steps(chunk)
            n += chunk
            now = np.stack([pumps.state[watch], pumps.n_na[watch], pumps.n_k[watch]]).astype(int)
            moved = np.flatnonzero((now != before).any(axis=0))
            if moved.size:
                self.last_steps = n
                j = int(moved[0])
                what = _pump_step_text(before[:, j], now[:, j])
                self.scene.notify(f"pump {j + (i if i >= 0 else 0) + 1}: {what} after "
                                  f"{sim.time_ms - t0:.3g} ms")
                return True
        self.last_steps = n
        self.scene.notify(f"no pump step in {max_ms:g} ms")
        return False

    def _layout_buttons(self) -> None:
        lay = self.scene.layout
        if not lay.panel:
            self.ui.buttons, self.ui.buttons_height = [], 0
            return
        P = lay.side
        pad = lay.px(10)
        gap = lay.px(4)
        bh = lay.px(24)
        cols = 5
        bw = (P.w - 2 * pad - (cols - 1) * gap) / cols
        top = P.bottom - pad - len(BUTTONS) * (bh + gap) + gap
        v = self.sim.scenario.values
        active = {
            "pause": self.paused, "help": self.ui.help, "record": self.encoder is not None,
            "k_free": bool(v["bath.clamped"] and self.sim.bath_mM[1] == 0),
            "poison": self.sim.poisoned,
            "ouabain": self.sim.ouabain_mM > 0,
        }
        enabled = {
            "k_free": bool(v["bath.clamped"]),
            "stimulate": v["channels.nav_count"] + v["channels.kv_count"] > 0,
        }
        out = []
        for r, row in enumerate(BUTTONS):
            for c, (label, action) in enumerate(row):
                rect = pygame.Rect(round(P.left + pad + c * (bw + gap)),
                                   round(top + r * (bh + gap)), round(bw), bh)
                en = enabled.get(action.split()[0], True)
                out.append((label, rect, active.get(action, False), en))
        self.ui.buttons = out
        self.ui.buttons_height = len(BUTTONS) * (bh + gap) + pad

    def frame(self) -> None:
        """One frame: events; then the steps to the next frame run in the background
        (:class:`~render.pipeline.Stepper`) while this frame is drawn from a frozen copy
        (:meth:`~particles.simulation.Simulation.frozen`) and flipped; the frame ends when
        both are done."""
        for ev in pygame.event.get():
            self.handle(ev)
            if not self.running:
                return
        self._overlays()
        view = self.sim.frozen()
        n = 0 if self.paused else self._steps_now()
        self.stepper.start(self._advance, n)
        try:
            self._draw(view)
        finally:
            self.stepper.wait()
        self.frames += 1

    def _overlays(self) -> None:
        """Speed label, title fade and buttons from the simulation as it is (not stepping)."""
        sc = self.scene
        sc.paused = self.paused
        slowed = self.slowed()
        if slowed != self._was_slowed:  # a new rate: measure it afresh
            self._rate_samples.clear()
            self._was_slowed = slowed
        sc.speed_label = speed_label(self.speed, self.target_rate(), self.achieved_rate(),
                                     slowed)
        sc.title_alpha = max(0.0, 1.0 - self.frames / (3.0 * FPS)) if self.frames < 3 * FPS \
            else 0.0
        self._layout_buttons()

    def _draw(self, view) -> None:
        """Draw ``view`` (the state at the start of this frame), record it when recording,
        and flip."""
        sc = self.scene
        sc.draw(view, self.ui)
        if self.encoder is not None:
            W, H = self.encoder.size
            self.encoder.write(sc.buffer[:H, :W])
        self.screen.blit(sc.surface, (0, 0))
        pygame.display.flip()

    def run(self, max_seconds: float | None = None, max_frames: int | None = None) -> int:
        t0 = time.perf_counter()
        try:
            while self.running:
                self.frame()
                self.clock.tick(FPS)
                if max_frames is not None and self.frames >= max_frames:
                    break
                if max_seconds is not None and time.perf_counter() - t0 >= max_seconds:
                    break
        finally:
            if self.encoder is not None:
                self.toggle_recording()
        self.wall_s = time.perf_counter() - t0
        return 0

    def close(self) -> None:
        self.stepper.close()
        if self.encoder is not None:
            self.toggle_recording()
        pygame.display.quit()


def watch(scenario, seed: int = 1, max_seconds: float | None = None) -> int:
    """Open the window on ``scenario``; returns the exit status (0).

    ``max_seconds`` (or the environment variable ``IONPUMP_WATCH_SECONDS``) closes the window
    after that long, for demos and tests; the frame count is then printed on stderr.
    """
    if max_seconds is None and os.environ.get("IONPUMP_WATCH_SECONDS"):
        max_seconds = float(os.environ["IONPUMP_WATCH_SECONDS"])
    try:
        app = App(scenario, seed=seed)
    except pygame.error as e:
        raise WindowError(f"cannot open a window: {e}") from None
    try:
        rc = app.run(max_seconds=max_seconds)
        if max_seconds is not None:
            shot = os.environ.get("IONPUMP_WATCH_SCREENSHOT")
            if shot:
                pygame.image.save(app.scene.surface, shot)
            checksum = int(np.sum(app.scene.buffer, dtype=np.int64))
            print(f"watch: drew {app.frames} frames in {app.wall_s:.1f} s, simulated "
                  f"{app.sim.time_ms:.3f} ms, checksum {checksum}", file=sys.stderr)
        return rc
    finally:
        app.close()
