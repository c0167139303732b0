"""The scene: simulation state -> pixels, one frame at a time.

:class:`Scene` composes a frame from its parts and draws it into its own ``(H, W, 3)`` uint8
buffer (the same array the window blits and the video encoder receives). It only *reads* the
simulation. The parts, each drawable headless on any surface:

- :mod:`render.world`: the box: compartments, membrane, channels, ions, pumps
  (:mod:`render.pumps`), labels and scale bar;
- :mod:`render.panel`: the side panel: numbers, live charts, the followed pump, buttons;
- :mod:`render.overlays`: the top and legend bars, step captions, notices, title card, help.

:mod:`render.layout` places them (and holds the camera), :mod:`render.style` says how things
look, and :mod:`render.memory` remembers the previous frame to show what happened between
frames (released ions, ADP and phosphate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pygame

from .layout import Layout, Projection, View
from .memory import FrameMemory
from .overlays import Overlays
from .panel import Panel
from .style import step_caption  # noqa: F401  (part of render.scene's interface)
from .text import Text
from .world import WorldView


@dataclass
class UI:
    """What the window adds to a frame.

    Attributes:
        buttons: (label, rect, active, enabled) per button of the panel.
        buttons_height: px the buttons take at the bottom of the panel.
        help: whether the help is shown.
        help_lines: (key, what it does) per line of the help.
        tips: the scenario's things to try, shown under the help's keys.
    """

    buttons: list = field(default_factory=list)
    buttons_height: int = 0
    help: bool = False
    help_lines: list = field(default_factory=list)
    tips: list = field(default_factory=list)


class Scene:
    """Draws a :class:`~particles.simulation.Simulation` into an RGB frame.

    Args:
        size: (W, H) pixels.
        fps: frames per second the frames are shown at (sets how long flashes last).
        captions: title, clock, phase and step captions (False: only the picture and panel).
        panel: the side panel with numbers and charts (dropped below 640 px wide).

    Attributes set by the window between frames: ``follow`` (through :meth:`set_follow`),
    ``view`` (zoom and pan), ``paused``, ``speed_label``, ``title_alpha`` (0..1) and
    ``highlight_tracer``.
    """

    def __init__(self, size: tuple[int, int], fps: float = 60.0, captions: bool = True,
                 panel: bool = True):
        self.fps = float(fps)
        self.captions = captions
        self.want_panel = panel
        self.text = Text()
        self.world_view = WorldView(self.text)
        self.panel = Panel(self.text)
        self.overlays = Overlays(self.text)
        self.view = View()
        self.follow = -1
        self.speed_label = "×1"
        self.paused = False
        self.message = ""          # a one-line notice (e.g. an unavailable control)
        self.message_frames = 0
        self.title_alpha = 0.0     # 0..1: the title card over the picture
        self.highlight_tracer = False  # fade the other ions, the ²⁴Na⁺ drawn larger
        self.resize(size)
        self.reset_memory()

    # -------------------------------------------------------------- setup

    def resize(self, size: tuple[int, int]) -> None:
        """Draw at ``size`` (W, H) px from the next frame on (a new buffer and layout)."""
        W, H = int(size[0]), int(size[1])
        self.size = (W, H)
        self.layout = Layout.for_size((W, H), self.want_panel)
        self.buffer = np.zeros((H, W, 3), np.uint8)
        self.surface = pygame.image.frombuffer(self.buffer, (W, H), "RGB")

    def reset_memory(self) -> None:
        """Forget the previous frame (after a reset or a new simulation)."""
        self.memory = FrameMemory()

    def set_follow(self, pump: int) -> None:
        """Follow pump ``pump`` (-1: none): ring, step captions, state history."""
        self.follow = int(pump)
        self.memory.forget_history()

    @property
    def flashes(self):
        """Release flashes still shown (see :class:`render.memory.FrameMemory`)."""
        return self.memory.flashes

    @property
    def puffs(self):
        """ADP and P labels still shown."""
        return self.memory.puffs

    # -------------------------------------------------------------- where things are

    def projection(self, sim) -> Projection:
        """The box of ``sim`` through the camera, at this window's layout."""
        return Projection.of(self.layout, self.view, sim.geometry)

    def pump_rect(self, sim, i: int) -> pygame.Rect:
        """Screen rectangle of pump ``i``'s drawing (for picking and highlighting)."""
        return self.world_view.pump_rect(sim, self.projection(sim), i)

    def pick_pump(self, sim, pos) -> int:
        """Index of the pump under screen ``pos``, or -1."""
        return self.world_view.pick_pump(sim, self.projection(sim), pos)

    # -------------------------------------------------------------- the frame

    def draw(self, sim, ui: UI | None = None) -> np.ndarray:
        """Draw the current state of ``sim``; return the ``(H, W, 3)`` uint8 frame.

        ``ui`` (optional, from the window) adds the panel's buttons and the help."""
        lay = self.layout
        surf = self.surface
        self.text.drawn = []
        self.memory.update(sim, self.fps, self.follow)
        world = self.world_view
        world.draw(self.buffer, surf, lay, sim, self.projection(sim), self.memory, self.fps,
                   self.follow, self.highlight_tracer)
        self.overlays.top_bar(surf, lay, sim, self.captions, self.paused, self.speed_label)
        if self.message and self.message_frames > 0:
            self.overlays.notice(surf, lay, self.message)
            self.message_frames -= 1
        else:
            self.overlays.legend(surf, lay, sim)
        if lay.panel:
            self.panel.draw(surf, lay, sim, self.follow, self.memory.history, ui)
        if self.captions and self.follow >= 0 and sim.scenario.values.get("render.captions"):
            room = lay.world.w - 2 * (world.scale_bar_right - lay.world.left + lay.px(8))
            self.overlays.step_caption(surf, lay, sim, self.follow, room)
        if self.title_alpha > 0:
            self.overlays.title_card(surf, lay, sim, self.title_alpha)
        if ui is not None and ui.help:
            self.overlays.help(surf, lay, ui.help_lines, ui.tips)
        self.memory.frame += 1
        return self.buffer

    def notify(self, text: str, seconds: float = 3.0) -> None:
        """Show a notice (in place of the legend bar) for ``seconds``."""
        self.message = text
        self.message_frames = int(seconds * self.fps)


def headless_init() -> None:
    """Make pygame usable without a display (fonts and surfaces only)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if not pygame.font.get_init():
        pygame.font.init()
