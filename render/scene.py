"""The scene: simulation state -> pixels (membrane, pumps, ions, labels, panel, charts).

:class:`Scene` draws one frame into its own ``(H, W, 3)`` uint8 buffer (the same array the
window blits and the video encoder receives). It only *reads* the simulation. Its memory of
the previous frame (pump sites and states) lets it show what happened between frames: a
flash and trail when an ion leaves a pump, ATP -> ADP + Pi when a pump phosphorylates, Pi
when it dephosphorylates; and the state history of the followed pump. That memory evolves
with the frames drawn, so the same frames in give the same pixels out.

Layout (all sizes scale with the window, 1024x640 .. 4K): a top bar (title, clock, phase,
speed), the world view (the box, fitted, with zoom and pan), a legend bar below it and a side
panel on the right (numbers, live charts, the followed pump, buttons).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pygame

from particles.state import PumpState, Side, Species

from .raster import K_RGB, NA_RGB, RING_RGB, TRACER_RGB, IonRaster

FONT_DIR = Path(__file__).resolve().parent / "fonts"

# ---------------------------------------------------------------- palette (Okabe-Ito based)
BG_INSIDE = (255, 246, 226)      # cytoplasm: warm cream
BG_INSIDE_ZONE = (246, 234, 208)
BG_OUTSIDE = (226, 240, 250)     # extracellular: pale blue
BG_OUTSIDE_ZONE = (210, 228, 242)
BG_VOID = (92, 98, 110)
BAR_BG = (36, 41, 51)
BAR_FG = (245, 245, 245)
BAR_DIM = (170, 178, 190)
PANEL_BG = (247, 247, 249)
PANEL_FG = (30, 32, 38)
PANEL_DIM = (105, 110, 120)
GRID = (222, 224, 230)
HEAD = (205, 170, 120)           # lipid head groups
HEAD_EDGE = (150, 118, 78)
TAIL = (236, 216, 170)
PROTEIN = (170, 150, 205)        # pump body (lavender)
PROTEIN_EDGE = (70, 55, 105)
PROTEIN_BLOCKED = (165, 165, 165)
CAVITY = (252, 250, 255)
P_MARK = (240, 228, 66)          # yellow phosphate badge
OUABAIN = (0, 158, 115)          # bluish green
FOLLOW = (230, 159, 0)           # orange highlight ring
V_LINE = (204, 121, 167)         # reddish purple
TRACER_LINE = (0, 158, 115)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

NA_LABEL, K_LABEL = "Na⁺", "K⁺"

#: Short names and step captions of the pump states (the followed pump, pump-cycle).
STATE_NAMES = {
    PumpState.E1: "E1", PumpState.E1_3NA: "E1·3Na", PumpState.E1P_3NA: "E1P(3Na)",
    PumpState.E2P: "E2P", PumpState.E2P_2K: "E2P(2K)", PumpState.E2_2K: "E2(2K)",
    PumpState.BLOCKED: "ouabain",
}
#: Colour per state for the history strip and the occupancy bar (grouped by phase).
STATE_COLORS = {
    PumpState.E1: (255, 200, 150), PumpState.E1_3NA: (230, 130, 60),
    PumpState.E1P_3NA: (200, 160, 40), PumpState.E2P: (120, 180, 230),
    PumpState.E2P_2K: (40, 110, 180), PumpState.E2_2K: (110, 90, 170),
    PumpState.BLOCKED: (120, 120, 120),
}
PHOSPHORYLATED = (PumpState.E1P_3NA, PumpState.E2P, PumpState.E2P_2K, PumpState.BLOCKED)


def step_caption(state: int, n_na: int, n_k: int) -> str:
    """The teaching caption for a pump in ``state`` holding ``n_na``/``n_k`` ions."""
    s = PumpState(int(state))
    if s == PumpState.E1:
        if n_na == 0:
            return "① Inward-open: waiting for Na⁺ from the inside"
        return f"① Inward-open: {n_na} Na⁺ bound (3 sites)"
    if s == PumpState.E1_3NA:
        return "② 3 Na⁺ bound: ATP binds"
    if s == PumpState.E1P_3NA:
        return "③ ATP → ADP + P: phosphorylated, 3 Na⁺ occluded"
    if s == PumpState.E2P:
        if n_na > 0:
            return f"④ Outward-open: Na⁺ released outside ({n_na} left)"
        return f"⑤ Outward-open: K⁺ sites filling from the outside ({n_k} of 2)"
    if s == PumpState.E2P_2K:
        return "⑥ 2 K⁺ bound and occluded"
    if s == PumpState.E2_2K:
        return "⑦ P released (dephosphorylated): turning inward, K⁺ will be released inside"
    return "Ouabain bound: the pump is locked"


# ---------------------------------------------------------------- text

class Text:
    """Font and rendered-text caches (DejaVu Sans, bundled, so pixels match everywhere)."""

    def __init__(self):
        if not pygame.font.get_init():
            pygame.font.init()
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._cache: dict[tuple, pygame.Surface] = {}

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        key = (max(int(size), 6), bool(bold))
        f = self._fonts.get(key)
        if f is None:
            path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
            f = pygame.font.Font(str(path) if path.exists() else None, key[0])
            self._fonts[key] = f
        return f

    def render(self, text: str, size: int, color, bold: bool = False) -> pygame.Surface:
        key = (text, int(size), bool(bold), tuple(color))
        s = self._cache.get(key)
        if s is None:
            if len(self._cache) > 2000:
                self._cache.clear()
            s = self.font(size, bold).render(text, True, color)
            self._cache[key] = s
        return s

    def blit(self, surf, text, pos, size, color, bold=False, anchor="topleft") -> pygame.Rect:
        img = self.render(text, size, color, bold)
        r = img.get_rect(**{anchor: (int(pos[0]), int(pos[1]))})
        surf.blit(img, r)
        return r


# ---------------------------------------------------------------- layout and view

@dataclass
class Layout:
    """Screen rectangles for a window of ``size`` (W, H) pixels."""

    size: tuple[int, int]
    panel: bool = True
    u: float = 1.0
    top: pygame.Rect = field(default_factory=pygame.Rect)
    world: pygame.Rect = field(default_factory=pygame.Rect)
    legend: pygame.Rect = field(default_factory=pygame.Rect)
    side: pygame.Rect = field(default_factory=pygame.Rect)

    @classmethod
    def for_size(cls, size: tuple[int, int], panel: bool = True) -> "Layout":
        W, H = size
        u = max(0.5, min(W / 1280, H / 720, 3.0))
        if W < 640 or H < 300:
            panel = False
        top_h = max(18, round(38 * u))
        leg_h = max(14, round(30 * u))
        pw = int(min(max(W * 0.28, 270 * u), 560 * u)) if panel else 0
        lay = cls(size, panel, u)
        lay.top = pygame.Rect(0, 0, W, top_h)
        lay.side = pygame.Rect(W - pw, top_h, pw, H - top_h)
        lay.world = pygame.Rect(0, top_h, W - pw, H - top_h - leg_h)
        lay.legend = pygame.Rect(0, H - leg_h, W - pw, leg_h)
        return lay

    def px(self, v: float) -> int:
        """A length of ``v`` pixels at 1280x720, scaled to this window."""
        return max(1, int(round(v * self.u)))


@dataclass
class View:
    """Camera over the box: ``zoom`` (1 = the whole box fits) and ``center`` (µm)."""

    zoom: float = 1.0
    center: tuple[float, float] | None = None  # None: the box's centre

    def transform(self, lay: Layout, geom) -> tuple[float, float, float, float, float]:
        """(x0, y0, scale px/µm, ox, oy) for :meth:`render.raster.IonRaster.draw`."""
        r = lay.world
        margin = lay.px(26)
        base = min((r.w - 2 * margin) / geom.width_um, (r.h - 2 * margin) / geom.height_um)
        scale = max(base, 1e-6) * self.zoom
        cx, cy = self.center or (geom.width_um / 2, geom.height_um / 2)
        return 0.0, 0.0, scale, r.centerx - cx * scale, r.centery - cy * scale


# ---------------------------------------------------------------- renderer memory

@dataclass
class Flash:
    """An ion released by a pump (drawn for a moment at the pump's mouth)."""

    pump: int
    dy: float            # site offset along the membrane, in face heights
    born: int            # frame index
    species: int
    outward: bool        # released to the outside


@dataclass
class Puff:
    """A small label drifting away from a pump: ADP, P (phosphate)."""

    pump: int
    born: int
    text: str
    color: tuple


class Scene:
    """Draws a :class:`~particles.simulation.Simulation` into an RGB frame.

    Args:
        size: (W, H) pixels.
        fps: frames per second the frames are shown at (sets how long flashes last).
        captions: title, clock, phase and step captions (False: only the picture and panel).
        panel: the side panel with numbers and charts (dropped below 640 px wide).
    """

    def __init__(self, size: tuple[int, int], fps: float = 60.0, captions: bool = True,
                 panel: bool = True):
        self.fps = float(fps)
        self.captions = captions
        self.want_panel = panel
        self.text = Text()
        self.raster = IonRaster()
        self.view = View()
        self.follow = -1
        self.speed_label = "×1"
        self.paused = False
        self.message = ""          # a one-line notice (e.g. an unavailable control)
        self.message_frames = 0
        self.title_alpha = 0.0     # 0..1: the title card over the picture
        self.resize(size)
        self.reset_memory()

    # -------------------------------------------------------------- setup

    def resize(self, size: tuple[int, int]) -> None:
        W, H = int(size[0]), int(size[1])
        self.size = (W, H)
        self.layout = Layout.for_size((W, H), self.want_panel)
        self.buffer = np.zeros((H, W, 3), np.uint8)
        self.surface = pygame.image.frombuffer(self.buffer, (W, H), "RGB")
        self._bg_key = None

    def reset_memory(self) -> None:
        """Forget the previous frame (after a reset or a new simulation)."""
        self.frame = 0
        self._prev_sites: np.ndarray | None = None
        self._prev_state: np.ndarray | None = None
        self.flashes: list[Flash] = []
        self.puffs: list[Puff] = []
        self.history: list[tuple[float, int]] = []   # (time_ms, state) of the followed pump
        self._hist_pump = -2
        self._follow_cycles0 = 0

    def set_follow(self, pump: int) -> None:
        self.follow = int(pump)
        self.history = []
        self._hist_pump = -2

    # -------------------------------------------------------------- geometry helpers

    def transform(self, sim):
        return self.view.transform(self.layout, sim.geometry)

    def to_screen(self, sim, x_um: float, y_um: float) -> tuple[float, float]:
        _, _, s, ox, oy = self.transform(sim)
        return ox + x_um * s, oy + y_um * s

    def to_world(self, sim, pos) -> tuple[float, float]:
        _, _, s, ox, oy = self.transform(sim)
        return (pos[0] - ox) / s, (pos[1] - oy) / s

    def pump_rect(self, sim, i: int) -> pygame.Rect:
        """Screen rectangle of pump ``i``'s drawing (for picking and highlighting)."""
        cx, cy = self.to_screen(sim, sim.geometry.membrane_x_um, float(sim.pumps.y[i]))
        fh = self._face_px(sim)
        hw = self._half_width(sim, fh)
        lobe = 0.34 * fh
        return pygame.Rect(int(cx - hw - lobe), int(cy - fh / 2), int(2 * hw + lobe),
                           int(fh))

    def pick_pump(self, sim, pos) -> int:
        """Index of the pump under screen ``pos``, or -1."""
        best, bd = -1, 1e18
        for i in range(len(sim.pumps)):
            r = self.pump_rect(sim, i).inflate(8, 8)
            if r.collidepoint(pos):
                d = abs(r.centery - pos[1])
                if d < bd:
                    best, bd = i, d
        return best

    def _face_px(self, sim) -> float:
        return sim.geometry.pump_face_um * self.transform(sim)[2]

    def _band(self, sim) -> tuple[float, float]:
        """(left, right) screen x of the drawn membrane band (at least 14 px at 1280x720)."""
        g = sim.geometry
        _, _, s, ox, _ = self.transform(sim)
        cx = ox + g.membrane_x_um * s
        half = max(g.membrane_thickness_um * s / 2, self.layout.px(8) * min(self.view.zoom, 3))
        return cx - half, cx + half

    def _half_width(self, sim, fh: float) -> float:
        l, r = self._band(sim)
        return max((r - l) / 2 * 1.25, 0.30 * fh)

    def ion_radius(self, sim) -> float:
        """Drawn radius of a free ion (px): from the mean spacing of ions on screen."""
        g = sim.geometry
        s = self.transform(sim)[2]
        n = max(int(np.count_nonzero(sim.ions.side != Side.RESERVOIR)), 1)
        spacing = math.sqrt(g.width_um * g.height_um / n) * s
        return float(min(max(0.30 * spacing, 1.2), 7.0 * self.layout.u))

    # -------------------------------------------------------------- background

    def _background(self, sim) -> np.ndarray:
        key = (self.size, self.transform(sim), self.layout.panel,
               sim.scenario.values.get("bath.clamped"), sim.scenario.values.get("bath.zone_um"))
        if key == self._bg_key:
            return self._bg
        lay = self.layout
        W, H = self.size
        surf = pygame.Surface((W, H), depth=24)
        surf.fill(BG_VOID)
        g = sim.geometry
        v = sim.scenario.values
        _, _, s, ox, oy = self.transform(sim)
        surf.set_clip(lay.world)
        box_in = pygame.Rect(round(ox), round(oy), round(g.membrane_x_um * s),
                             round(g.height_um * s))
        box_out = pygame.Rect(round(ox + g.membrane_x_um * s), round(oy),
                              round((g.width_um - g.membrane_x_um) * s), round(g.height_um * s))
        surf.fill(BG_INSIDE, box_in)
        surf.fill(BG_OUTSIDE, box_out)
        if v.get("bath.clamped"):
            zx = ox + (g.width_um - v["bath.zone_um"]) * s
            surf.fill(BG_OUTSIDE_ZONE, pygame.Rect(round(zx), round(oy),
                                                   round(box_out.right - zx), box_out.h))
        if v.get("dialysis.clamped"):
            zx = ox + v["dialysis.zone_um"] * s
            surf.fill(BG_INSIDE_ZONE, pygame.Rect(box_in.x, box_in.y, round(zx - box_in.x),
                                                  box_in.h))
        self._draw_bilayer(surf, sim, oy, g.height_um * s)
        surf.set_clip(None)
        arr = pygame.surfarray.array3d(surf).swapaxes(0, 1)
        self._bg = np.ascontiguousarray(arr)
        self._bg_key = key
        return self._bg

    def _draw_bilayer(self, surf, sim, y_top: float, h: float) -> None:
        l, r = self._band(sim)
        w = r - l
        rect = pygame.Rect(round(l), round(y_top), max(round(w), 2), round(h))
        surf.fill(TAIL, rect)
        head_r = max(1.5, min(w * 0.16, self.layout.px(6)))
        step = head_r * 2.1
        y0 = max(y_top, self.layout.world.top - step)
        y1 = min(y_top + h, self.layout.world.bottom + step)
        if step < 2.5:
            pygame.draw.rect(surf, HEAD, rect, max(1, round(w * 0.25)))
            return
        ny = int((y1 - y0) / step) + 1
        tail_col = (205, 180, 130)
        for k in range(ny):
            y = y0 + (k + 0.5) * step
            for x, d in ((l + head_r, 1), (r - head_r, -1)):
                x_end = l + w / 2 - d * w * 0.04
                pygame.draw.line(surf, tail_col, (x, y - head_r * 0.35), (x_end, y - head_r * 0.35))
                pygame.draw.line(surf, tail_col, (x, y + head_r * 0.35), (x_end, y + head_r * 0.35))
        for k in range(ny):
            y = y0 + (k + 0.5) * step
            for x in (l + head_r, r - head_r):
                pygame.draw.circle(surf, HEAD, (x, y), head_r)
                if head_r >= 3:
                    pygame.draw.circle(surf, HEAD_EDGE, (x, y), head_r, 1)

    # -------------------------------------------------------------- the frame

    def draw(self, sim, ui=None) -> np.ndarray:
        """Draw the current state of ``sim``; return the ``(H, W, 3)`` uint8 frame.

        ``ui`` (optional, from the window): an object with ``buttons`` (list of
        (label, rect, active, enabled)) and ``help`` (bool) to draw controls."""
        np.copyto(self.buffer, self._background(sim))
        lay = self.layout
        surf = self.surface
        radius = self.ion_radius(sim)
        wr = lay.world
        self.raster.draw(self.buffer, sim.ions, self.transform(sim),
                         (wr.left, wr.top, wr.right, wr.bottom), radius)
        surf.set_clip(wr)
        self._update_memory(sim)
        self._draw_channels(sim)
        self._draw_flashes(sim, radius)
        self._draw_pumps(sim)
        self._draw_puffs(sim)
        self._draw_world_labels(sim)
        surf.set_clip(None)
        self._draw_top(sim)
        self._draw_legend(sim, radius)
        if lay.panel:
            self._draw_panel(sim, ui)
        if self.captions and self.follow >= 0 and sim.scenario.values.get("render.captions"):
            self._draw_step_caption(sim)
        if self.message and self.message_frames > 0:
            self._draw_message()
            self.message_frames -= 1
        if self.title_alpha > 0:
            self._draw_title_card(sim)
        if ui is not None and getattr(ui, "help", False):
            self._draw_help(ui)
        self.frame += 1
        return self.buffer

    def notify(self, text: str, seconds: float = 3.0) -> None:
        """Show a one-line notice over the picture for ``seconds``."""
        self.message = text
        self.message_frames = int(seconds * self.fps)

    # -------------------------------------------------------------- memory of the last frame

    def _update_memory(self, sim) -> None:
        p = sim.pumps
        sites, state = p.sites, p.state
        m = len(p)
        ions = sim.ions
        if self._prev_sites is not None and self._prev_sites.shape == sites.shape:
            gone = (self._prev_sites >= 0) & (self._prev_sites != sites)
            for i, j in zip(*np.nonzero(gone)):
                ion = int(self._prev_sites[i, j])
                if ion >= len(ions) or ions.bound[ion] or ions.side[ion] == Side.RESERVOIR:
                    continue
                self.flashes.append(Flash(int(i), self._site_offset(int(j))[1], self.frame,
                                          int(ions.species[ion]),
                                          bool(ions.side[ion] == Side.OUTSIDE)))
            prev = self._prev_state
            before = (prev == PumpState.E1) | (prev == PumpState.E1_3NA)
            phos = ((state == PumpState.E1P_3NA) | (state == PumpState.E2P)
                    | (state == PumpState.E2P_2K))
            prev_phos = ((prev == PumpState.E1P_3NA) | (prev == PumpState.E2P)
                         | (prev == PumpState.E2P_2K))
            for i in np.nonzero(before & phos)[0]:
                self.puffs.append(Puff(int(i), self.frame, "ADP", (255, 255, 255)))
            for i in np.nonzero(prev_phos & ~phos & (state != PumpState.BLOCKED))[0]:
                self.puffs.append(Puff(int(i), self.frame, "P", P_MARK))
        self._prev_sites = sites.copy()
        self._prev_state = state.copy()
        life = int(0.9 * self.fps) + 1
        self.flashes = [f for f in self.flashes if self.frame - f.born < life][-400:]
        self.puffs = [q for q in self.puffs if self.frame - q.born < int(1.2 * self.fps) + 1
                      and q.pump < m]
        # history of the followed pump
        f = self.follow
        if 0 <= f < m:
            st = int(state[f])
            if self._hist_pump != f:
                self.history = [(sim.time_ms, st)]
                self._hist_pump = f
            elif st != self.history[-1][1]:
                self.history.append((sim.time_ms, st))
                self.history = self.history[-400:]

    @staticmethod
    def _site_offset(j: int) -> tuple[float, float]:
        """Site ``j`` in units of (half-width, face height): Na+ sites 0..2, K+ 3..4."""
        if j < 3:
            return -0.22, (j - 1) * 0.2
        return 0.22, (j - 3.5) * 0.24

    # -------------------------------------------------------------- pumps

    def _draw_pumps(self, sim) -> None:
        p = sim.pumps
        ions = sim.ions
        fh = self._face_px(sim)
        hw = self._half_width(sim, fh)
        wr = self.layout.world
        xm = sim.geometry.membrane_x_um
        _, _, s, ox, oy = self.transform(sim)
        cx = ox + xm * s
        if cx + hw * 2 < wr.left or cx - hw * 2 > wr.right:
            return
        ion_r = max(2.5, min(0.09 * fh, self.layout.px(14)))
        for i in range(len(p)):
            cy = oy + float(p.y[i]) * s
            if cy + fh < wr.top or cy - fh > wr.bottom:
                continue
            st = int(p.state[i])
            self._draw_pump_body(cx, cy, fh, hw, st, i == self.follow)
            if fh >= 10:
                for j in range(5):
                    ion = int(p.sites[i, j])
                    dx, dy = self._site_offset(j)
                    x, y = cx + dx * hw, cy + dy * fh
                    if ion < 0 or ion >= len(ions):
                        if fh >= 40 and st != PumpState.BLOCKED:
                            col = NA_RGB if j < 3 else K_RGB
                            pygame.draw.circle(self.surface, _mix(col, CAVITY, 0.55), (x, y),
                                               ion_r, 1)
                        continue
                    sp = int(ions.species[ion])
                    col = K_RGB if sp == Species.K else (TRACER_RGB if ions.tracer[ion]
                                                         else NA_RGB)
                    pygame.draw.circle(self.surface, col, (x, y), ion_r)
                    edge = RING_RGB if (sp == Species.NA and ions.tracer[ion]) else WHITE
                    pygame.draw.circle(self.surface, edge, (x, y), ion_r,
                                       max(1, round(ion_r * 0.22)))
            if fh >= 40:
                self._label_box(STATE_NAMES[PumpState(st)], (cx + hw + fh * 0.08, cy - fh * 0.47),
                                round(max(9, min(fh * 0.11, self.layout.px(16)))), PROTEIN_EDGE,
                                "topleft")

    def _draw_pump_body(self, cx, cy, fh, hw, st, followed) -> None:
        surf = self.surface
        h2 = fh * 0.47
        blocked = st == PumpState.BLOCKED
        body_col = PROTEIN_BLOCKED if blocked else PROTEIN
        lobe_r = 0.27 * fh
        lobe_c = (cx - hw - lobe_r * 0.35, cy + h2 * 0.35)
        if followed:
            pad = max(3, fh * 0.08)
            rr = pygame.Rect(0, 0, 2 * hw + lobe_r * 1.3 + 2 * pad, 2 * h2 + 2 * pad)
            rr.midright = (round(cx + hw + pad), round(cy))
            pygame.draw.rect(surf, FOLLOW, rr, max(2, round(fh * 0.05)),
                             border_radius=round(pad * 2))
        if fh < 10:  # far away: a coloured tick per pump
            pygame.draw.rect(surf, STATE_COLORS[PumpState(st)],
                             pygame.Rect(round(cx - hw), round(cy - fh / 2), max(2, round(2 * hw)),
                                         max(2, round(fh * 0.9))))
            return
        # cytoplasmic lobe (ATP-binding / phosphorylation domain)
        pygame.draw.circle(surf, body_col, lobe_c, lobe_r)
        pygame.draw.circle(surf, PROTEIN_EDGE, lobe_c, lobe_r, max(1, round(fh * 0.025)))
        body = pygame.Rect(round(cx - hw), round(cy - h2), round(2 * hw), round(2 * h2))
        rad = round(hw * 0.45)
        pygame.draw.rect(surf, body_col, body, border_radius=rad)
        pygame.draw.rect(surf, PROTEIN_EDGE, body, max(1, round(fh * 0.025)), border_radius=rad)
        # the ion pocket: open to one side (inward/outward) or closed (occluded)
        a, b = hw * 0.42, h2 * 0.72
        if st in (PumpState.E1, PumpState.E1_3NA):
            pts = [(cx - hw - 1, cy - b * 1.15), (cx + a, cy - b), (cx + a, cy + b),
                   (cx - hw - 1, cy + b * 1.15)]
        elif st == PumpState.E2P:
            pts = [(cx + hw + 1, cy - b * 1.15), (cx - a, cy - b), (cx - a, cy + b),
                   (cx + hw + 1, cy + b * 1.15)]
        elif blocked:
            pts = [(cx + hw + 1, cy - b * 0.9), (cx - a * 0.5, cy - b * 0.5),
                   (cx - a * 0.5, cy + b * 0.5), (cx + hw + 1, cy + b * 0.9)]
        else:
            pts = [(cx - a, cy - b), (cx + a, cy - b), (cx + a, cy + b), (cx - a, cy + b)]
        pygame.draw.polygon(surf, CAVITY, pts)
        edge_w = max(1, round(fh * 0.02))
        if st in (PumpState.E1, PumpState.E1_3NA, PumpState.E2P) or blocked:
            pygame.draw.line(surf, PROTEIN_EDGE, pts[0], pts[1], edge_w)
            pygame.draw.line(surf, PROTEIN_EDGE, pts[1], pts[2], edge_w)
            pygame.draw.line(surf, PROTEIN_EDGE, pts[2], pts[3], edge_w)
        else:  # occluded: closed gates drawn as thick bars on both sides
            pygame.draw.polygon(surf, PROTEIN_EDGE, pts, edge_w)
            gw = max(2, round(fh * 0.045))
            for x in (cx - a, cx + a):
                pygame.draw.line(surf, PROTEIN_EDGE, (x, cy - b), (x, cy + b), gw)
        if blocked:  # ouabain plugging the outward mouth
            r = min(0.16 * fh, hw * 0.7)
            c = (cx + hw * 0.75, cy)
            hexa = [(c[0] + r * math.cos(k * math.pi / 3), c[1] + r * math.sin(k * math.pi / 3))
                    for k in range(6)]
            pygame.draw.polygon(surf, OUABAIN, hexa)
            pygame.draw.polygon(surf, BLACK, hexa, max(1, round(fh * 0.02)))
            if fh >= 40:
                self.text.blit(surf, "ouabain", (c[0] + r * 1.2, cy - r * 1.6),
                               max(8, fh * 0.1), (0, 100, 75), bold=True, anchor="midleft")
        # ATP waiting at the lobe, then the phosphate mark
        if st == PumpState.E1_3NA and fh >= 20:
            self._badge(lobe_c[0] - lobe_r * 0.2, lobe_c[1] + lobe_r * 0.95, "ATP", fh,
                        (240, 228, 66), BLACK)
        if st in PHOSPHORYLATED and fh >= 16:
            self._badge(lobe_c[0], lobe_c[1], "P", fh, P_MARK, BLACK, circle=True)

    def _badge(self, x, y, text, fh, fill, fg, circle=False) -> None:
        size = max(7, fh * 0.13)
        img = self.text.render(text, round(size), fg, True)
        if circle:
            r = max(img.get_width(), img.get_height()) * 0.62
            pygame.draw.circle(self.surface, fill, (x, y), r)
            pygame.draw.circle(self.surface, BLACK, (x, y), r, max(1, round(fh * 0.02)))
        else:
            rect = img.get_rect(center=(round(x), round(y))).inflate(size * 0.6, size * 0.2)
            pygame.draw.rect(self.surface, fill, rect, border_radius=round(size * 0.4))
            pygame.draw.rect(self.surface, BLACK, rect, 1, border_radius=round(size * 0.4))
        self.surface.blit(img, img.get_rect(center=(round(x), round(y))))

    def _draw_puffs(self, sim) -> None:
        fh = self._face_px(sim)
        if fh < 36:
            return
        hw = self._half_width(sim, fh)
        life = 1.2 * self.fps
        for q in self.puffs:
            if q.pump >= len(sim.pumps):
                continue
            cx, cy = self.to_screen(sim, sim.geometry.membrane_x_um, float(sim.pumps.y[q.pump]))
            t = (self.frame - q.born) / life
            lobe_x = cx - hw - 0.27 * fh * 0.35
            x = lobe_x - fh * (0.35 + 0.9 * t)
            y = cy + fh * (0.2 + (0.25 if q.text == "ADP" else -0.35) * t)
            fill = _mix(q.color, BG_INSIDE, min(t * 1.2, 1.0) ** 2)
            fg = _mix(BLACK, BG_INSIDE, min(t * 1.2, 1.0) ** 2)
            self._badge(x, y, q.text, fh, fill, fg, circle=(q.text == "P"))

    def _draw_flashes(self, sim, radius: float) -> None:
        """A released ion: a ghost of it leaves the pump's mouth on the side it was released
        to, with an expanding ring, fading (the real ion has diffused on by the next frame)."""
        p = sim.pumps
        fh = self._face_px(sim)
        hw = self._half_width(sim, fh)
        life = 0.9 * self.fps
        cx, _ = self.to_screen(sim, sim.geometry.membrane_x_um, 0.0)
        _, _, s, ox, oy = self.transform(sim)
        r_ion = max(radius * 1.3, min(0.085 * fh, self.layout.px(14)))
        if fh < 36:
            r_ion = min(r_ion, max(radius * 1.6, 2.0))
        for f in self.flashes:
            if f.pump >= len(p):
                continue
            t = (self.frame - f.born) / life
            cy = oy + float(p.y[f.pump]) * s + f.dy * fh
            d = 1 if f.outward else -1
            x = cx + d * (hw + r_ion * 1.2 + fh * 0.55 * t ** 0.7)
            col = K_RGB if f.species == Species.K else NA_RGB
            bg = BG_OUTSIDE if f.outward else BG_INSIDE
            c = _mix(col, bg, t ** 1.5)
            pygame.draw.line(self.surface, _mix(col, bg, 0.4 + 0.6 * t),
                             (cx + d * hw, cy), (x, cy), max(1, round(r_ion * 0.35)))
            pygame.draw.circle(self.surface, c, (x, cy), r_ion)
            pygame.draw.circle(self.surface, _mix(WHITE, bg, t), (x, cy), r_ion,
                               max(1, round(r_ion * 0.2)))
            pygame.draw.circle(self.surface, c, (x, cy), r_ion * (1.3 + 1.8 * t),
                               max(1, round(r_ion * 0.25)))

    # -------------------------------------------------------------- channels

    def _draw_channels(self, sim) -> None:
        ch = sim.channels
        if len(ch) == 0:
            return
        na_open, k_open = sim.gates_open()
        l, r = self._band(sim)
        _, _, s, ox, oy = self.transform(sim)
        half = ch.half_um * s
        for y_um, t in zip(ch.y, ch.type):
            t = int(t)
            cy = oy + y_um * s
            col = NA_RGB if t in (0, 2) else K_RGB
            gated = t in (2, 3)
            is_open = (not gated) or (na_open if t == 2 else k_open)
            rect = pygame.Rect(round(l) - 1, round(cy - half), round(r - l) + 2,
                               max(2, round(2 * half)))
            pygame.draw.rect(self.surface, _mix(col, WHITE, 0.35), rect)
            pore = rect.inflate(-rect.w * 0.15, -rect.h * 0.55)
            pygame.draw.rect(self.surface, CAVITY if is_open else _mix(col, BLACK, 0.3), pore)
            if gated:
                pygame.draw.rect(self.surface, BLACK, rect, max(1, round(self.layout.u)))

    # -------------------------------------------------------------- labels in the world

    def _draw_world_labels(self, sim) -> None:
        lay = self.layout
        g = sim.geometry
        _, _, s, ox, oy = self.transform(sim)
        wr = lay.world
        size = lay.px(17)
        pad = lay.px(8)
        l, r = self._band(sim)
        y = max(wr.top + pad, oy + pad)
        left = max(wr.left + pad, ox + pad)
        right = min(wr.right - pad, ox + g.width_um * s - pad)
        for texts, x, room, col, anchor in (
                (("INSIDE  (cytoplasm)", "INSIDE", "IN"), left, l - left - pad,
                 (120, 70, 10), "topleft"),
                (("OUTSIDE  (extracellular)", "OUTSIDE", "OUT"), right, right - r - pad,
                 (0, 70, 120), "topright")):
            for text in texts:
                if self.text.font(size, True).size(text)[0] + size < room:
                    self._label_box(text, (x, y), size, col, anchor)
                    break
        if sim.scenario.values.get("bath.clamped"):
            zx = ox + (g.width_um - sim.scenario.values["bath.zone_um"]) * s
            yb = min(wr.bottom - pad, oy + g.height_um * s - pad)
            if right - zx > size * 3:
                self._label_box("perfused bath", ((zx + right) / 2, yb), lay.px(12),
                                (0, 70, 120), "midbottom")
        # scale bar
        target = (wr.w * 0.12) / s
        nice = _nice_length(target)
        bar = nice * s
        x0 = wr.left + pad * 2
        yb = wr.bottom - pad * 2
        pygame.draw.line(self.surface, BLACK, (x0, yb), (x0 + bar, yb), max(2, lay.px(3)))
        for x in (x0, x0 + bar):
            pygame.draw.line(self.surface, BLACK, (x, yb - lay.px(5)), (x, yb + lay.px(1)),
                             max(1, lay.px(2)))
        label = f"{nice * 1000:g} nm" if nice < 1 else f"{nice:g} µm"
        self.text.blit(self.surface, label, (x0 + bar / 2, yb - lay.px(6)), lay.px(12), BLACK,
                       anchor="midbottom")

    def _label_box(self, text, pos, size, color, anchor) -> None:
        img = self.text.render(text, size, color, True)
        rect = img.get_rect(**{anchor: (round(pos[0]), round(pos[1]))})
        box = rect.inflate(size * 0.6, size * 0.25)
        pygame.draw.rect(self.surface, WHITE, box, border_radius=round(size * 0.3))
        self.surface.blit(img, rect)

    # -------------------------------------------------------------- bars

    def _bar(self, r, min_size: int, fraction: float) -> tuple[int, int, int, int]:
        """Clear a bar ``r``; return its text size (px, ``fraction`` of its height, at least
        ``min_size``), padding, first x and centre y."""
        self.surface.fill(BAR_BG, r)
        pad = self.layout.px(12)
        return max(min_size, round(r.h * fraction)), pad, r.left + pad, r.centery

    def _draw_top(self, sim) -> None:
        r = self.layout.top
        size, pad, x, cy = self._bar(r, 10, 0.5)
        if self.captions:
            x = self.text.blit(self.surface, sim.scenario.title, (x, cy), size, BAR_FG, True,
                               "midleft").right + pad * 2
            x = self.text.blit(self.surface, f"t = {_fmt_time(sim.time_ms)}", (x, cy), size,
                               (255, 220, 120), True, "midleft").right + pad * 2
            self.text.blit(self.surface, f"phase: {sim.phase}", (x, cy), size, BAR_FG, False,
                           "midleft")
        right = r.right - pad
        status = ("PAUSED  " if self.paused else "") + f"speed {self.speed_label}"
        if self.captions or self.paused:
            self.text.blit(self.surface, status, (right, cy), round(size * 0.85),
                           (255, 150, 120) if self.paused else BAR_DIM, self.paused, "midright")

    def _draw_legend(self, sim, radius) -> None:
        lay = self.layout
        r = lay.legend
        size, pad, x, cy = self._bar(r, 9, 0.46)
        rr = max(3, round(size * 0.42))
        items = [(NA_RGB, None, f"{NA_LABEL} sodium"), (K_RGB, None, f"{K_LABEL} potassium")]
        has_tracer = bool(sim.scenario.values.get("tracer.fraction", 0) > 0
                          or np.any(sim.ions.tracer))
        if has_tracer:
            items.append((TRACER_RGB, RING_RGB, f"²⁴Na⁺ tracer"))
        for fill, ring, label in items:
            pygame.draw.circle(self.surface, fill, (x + rr, cy), rr)
            if ring:
                pygame.draw.circle(self.surface, ring, (x + rr, cy), rr, max(1, rr // 3))
            x = self.text.blit(self.surface, label, (x + 2 * rr + pad // 2, cy), size, BAR_FG,
                               False, "midleft").right + pad * 2
        # pump key
        x = self.text.blit(self.surface, "pump:", (x, cy), size, BAR_DIM, False,
                           "midleft").right + pad // 2
        pygame.draw.circle(self.surface, P_MARK, (x + rr, cy), rr)
        self.text.blit(self.surface, "P", (x + rr, cy), round(size * 0.8), BLACK, True, "center")
        x = self.text.blit(self.surface, "phosphorylated", (x + 2 * rr + pad // 3, cy), size,
                           BAR_FG, False, "midleft").right + pad
        hx = x + rr
        hexa = [(hx + rr * math.cos(k * math.pi / 3), cy + rr * math.sin(k * math.pi / 3))
                for k in range(6)]
        pygame.draw.polygon(self.surface, OUABAIN, hexa)
        x = self.text.blit(self.surface, "ouabain", (x + 2 * rr + pad // 3, cy), size, BAR_FG,
                           False, "midleft").right + pad
        if lay.panel or x < r.right - lay.px(90):
            self.text.blit(self.surface, "H: help", (r.right - pad, cy), size, BAR_DIM, False,
                           "midright")

    # -------------------------------------------------------------- side panel

    def _draw_panel(self, sim, ui) -> None:
        lay = self.layout
        P = lay.side
        surf = self.surface
        surf.fill(PANEL_BG, P)
        pygame.draw.line(surf, (200, 203, 210), P.topleft, P.bottomleft, 1)
        pad = lay.px(12)
        x0, x1 = P.left + pad, P.right - pad
        y = P.top + pad
        fs = lay.px(15)
        small = lay.px(12.5)
        # the last recorded sample (counting every frame would cost more than drawing)
        row = sim.recorder.rows[-1] if sim.recorder.rows else sim.counts()
        T = self.text
        # concentrations
        T.blit(surf, "Concentrations (mM)", (x0, y), fs, PANEL_FG, True)
        y += round(fs * 1.6)
        c1, c2 = x0 + (x1 - x0) * 0.55, x1
        T.blit(surf, "inside", (c1, y), small, PANEL_DIM, anchor="topright")
        T.blit(surf, "outside", (c2, y), small, PANEL_DIM, anchor="topright")
        y += round(small * 1.5)
        for col, name, a, b in ((NA_RGB, NA_LABEL, row["na_in_mM"], row["na_out_mM"]),
                                (K_RGB, K_LABEL, row["k_in_mM"], row["k_out_mM"])):
            rr = round(fs * 0.38)
            pygame.draw.circle(surf, col, (x0 + rr, y + fs * 0.62), rr)
            T.blit(surf, name, (x0 + 3 * rr, y), fs, PANEL_FG, True)
            T.blit(surf, f"{a:.1f}", (c1, y), fs, PANEL_FG, anchor="topright")
            T.blit(surf, f"{b:.1f}", (c2, y), fs, PANEL_FG, anchor="topright")
            y += round(fs * 1.45)
        y += round(fs * 0.3)
        m = len(sim.pumps)
        turnover = _turnover(sim, m)
        lines = [("ATP", f"{row['atp_mM']:.2f} mM"),
                 ("Membrane potential", f"{row['v_mV']:+.1f} mV"),
                 ("Pump cycles", f"{row['cycles']:,}"),
                 ("Turnover", f"{turnover:.0f} /pump/s" if turnover == turnover else "–"),
                 ("Pumps", f"{m}")]
        if row.get("tracer_in", 0) or row.get("tracer_efflux", 0):
            lines.append(("²⁴Na⁺ efflux", f"{row['tracer_efflux']:,} ions"))
        for k, v in lines:
            T.blit(surf, k, (x0, y), fs, PANEL_DIM)
            T.blit(surf, v, (x1, y), fs, PANEL_FG, True, "topright")
            y += round(fs * 1.4)
        # phase and conditions
        flags = _conditions(sim)
        T.blit(surf, "Phase", (x0, y), fs, PANEL_DIM)
        T.blit(surf, str(sim.phase), (x1, y), fs, (160, 60, 0), True, "topright")
        y += round(fs * 1.4)
        if flags:
            T.blit(surf, " · ".join(flags), (x1, y), small, (160, 60, 0), False, "topright")
            y += round(small * 1.5)
        # pump state occupancy bar
        y += round(fs * 0.2)
        self._occupancy_bar(sim, pygame.Rect(x0, y, x1 - x0, lay.px(10)))
        y += lay.px(10) + round(fs * 0.6)
        # charts
        bottom_reserved = 0
        if ui is not None and getattr(ui, "buttons", None):
            bottom_reserved = ui.buttons_height
        follow_h = round(fs * 4.4) if 0 <= self.follow < m else 0
        avail = P.bottom - pad - bottom_reserved - follow_h - y
        ch = max(int((avail - fs) / 2), lay.px(40))
        rows = sim.recorder.rows
        if avail > lay.px(90):
            self._chart(pygame.Rect(x0, y, x1 - x0, ch - round(fs * 0.6)), rows,
                        [("v_mV", V_LINE, "V")], "Membrane potential (mV)")
            y += ch
            if row.get("tracer_in", 0) or row.get("tracer_efflux", 0):
                series = [("tracer_efflux", TRACER_LINE, "²⁴Na⁺ out")]
                title = "Tracer efflux (ions)"
            else:
                series = [("na_in_mM", NA_RGB, "Na⁺ in"), ("k_out_mM", K_RGB, "K⁺ out")]
                title = "Concentration (mM)"
            self._chart(pygame.Rect(x0, y, x1 - x0, ch - round(fs * 0.6)), rows, series, title)
            y += ch
        if follow_h:
            self._follow_box(sim, pygame.Rect(x0, y, x1 - x0, follow_h - round(fs * 0.4)))
        if ui is not None and getattr(ui, "buttons", None):
            self._draw_buttons(ui)

    def _occupancy_bar(self, sim, rect) -> None:
        st = sim.pumps.state
        m = len(st)
        if m == 0:
            return
        occ = np.bincount(st, minlength=len(PumpState))
        x = rect.left
        for s in PumpState:
            w = rect.w * occ[s] / m
            if w > 0:
                pygame.draw.rect(self.surface, STATE_COLORS[s],
                                 pygame.Rect(round(x), rect.top, math.ceil(w), rect.h))
            x += w
        pygame.draw.rect(self.surface, (150, 150, 160), rect, 1)

    def _chart(self, rect, rows, series, title) -> None:
        lay = self.layout
        T = self.text
        surf = self.surface
        fs = lay.px(12)
        T.blit(surf, title, (rect.left, rect.top), fs, PANEL_FG, True)
        # legend of the series at the right of the title
        x = rect.right
        for key, col, name in reversed(series):
            if len(series) > 1:
                r = T.blit(surf, name, (x, rect.top), fs, col, True, "topright")
                x = r.left - lay.px(8)
        plot = pygame.Rect(rect.left + lay.px(40), rect.top + round(fs * 1.5),
                           rect.w - lay.px(40), rect.h - round(fs * 1.5) - round(fs * 1.3))
        if plot.h < 10 or plot.w < 20:
            return
        pygame.draw.rect(surf, WHITE, plot)
        pygame.draw.rect(surf, GRID, plot, 1)
        k = min(len(rows), max(plot.w, 2))
        if k < 2:
            return
        recent = rows[-k:]
        t = np.array([r["time_ms"] for r in recent], float)
        ys = [np.array([r[key] for r in recent], float) for key, _, _ in series]
        lo = min(float(np.nanmin(v)) for v in ys)
        hi = max(float(np.nanmax(v)) for v in ys)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return
        span = hi - lo
        if span < 1e-9:
            span = max(abs(hi) * 0.1, 1.0)
        lo, hi = lo - 0.08 * span, hi + 0.08 * span
        t0, t1 = t[0], t[-1] if t[-1] > t[0] else t[0] + 1
        for frac in (0.0, 0.5, 1.0):
            val = lo + frac * (hi - lo)
            yy = plot.bottom - frac * plot.h
            if 0 < frac < 1:
                pygame.draw.line(surf, GRID, (plot.left, yy), (plot.right, yy), 1)
            T.blit(surf, _fmt_num(val), (plot.left - lay.px(4), yy), lay.px(10), PANEL_DIM,
                   anchor="midright")
        T.blit(surf, _fmt_time(t0), (plot.left, plot.bottom + 2), lay.px(10), PANEL_DIM)
        T.blit(surf, _fmt_time(t[-1]), (plot.right, plot.bottom + 2), lay.px(10), PANEL_DIM,
               anchor="topright")
        X = plot.left + (t - t0) / (t1 - t0) * (plot.w - 1)
        for v, (_, col, _) in zip(ys, series):
            Y = plot.bottom - 1 - (v - lo) / (hi - lo) * (plot.h - 2)
            pts = np.stack([X, Y], axis=1)
            pygame.draw.lines(surf, col, False, pts.tolist(), max(1, lay.px(2)))

    def _follow_box(self, sim, rect) -> None:
        lay = self.layout
        T = self.text
        surf = self.surface
        f = self.follow
        p = sim.pumps
        fs = lay.px(13)
        st = PumpState(int(p.state[f]))
        T.blit(surf, f"Followed pump #{f + 1}", (rect.left, rect.top), fs, FOLLOW, True)
        nc = int(p.cycles[f])
        T.blit(surf, f"{STATE_NAMES[st]} · {nc} cycle{'' if nc == 1 else 's'}",
               (rect.right, rect.top), fs, PANEL_FG, True, "topright")
        strip = pygame.Rect(rect.left, rect.top + round(fs * 1.6), rect.w, round(fs * 1.3))
        span = 10.0 * sim.scenario.values["render.ms_per_second"]
        t1 = sim.time_ms
        t0 = t1 - span
        pygame.draw.rect(surf, WHITE, strip)
        hist = self.history if self._hist_pump == f else []
        for k, (ts, s) in enumerate(hist):
            te = hist[k + 1][0] if k + 1 < len(hist) else t1
            if te < t0:
                continue
            a = strip.left + (max(ts, t0) - t0) / span * strip.w
            b = strip.left + (te - t0) / span * strip.w
            pygame.draw.rect(surf, STATE_COLORS[PumpState(s)],
                             pygame.Rect(round(a), strip.top, max(1, math.ceil(b - a)), strip.h))
        pygame.draw.rect(surf, (150, 150, 160), strip, 1)
        T.blit(surf, f"state history, last {_fmt_time(span)}", (rect.left, strip.bottom + 2),
               lay.px(10), PANEL_DIM)

    def _draw_buttons(self, ui) -> None:
        T = self.text
        fs = self.layout.px(12)
        for label, rect, active, enabled in ui.buttons:
            fill = (255, 214, 150) if active else ((232, 234, 240) if enabled else (240, 240, 240))
            pygame.draw.rect(self.surface, fill, rect, border_radius=self.layout.px(5))
            pygame.draw.rect(self.surface, (150, 155, 165) if enabled else (210, 210, 215), rect,
                             1, border_radius=self.layout.px(5))
            T.blit(self.surface, label, rect.center, fs, PANEL_FG if enabled else (175, 175, 180),
                   active, "center")

    # -------------------------------------------------------------- overlays

    def _draw_step_caption(self, sim) -> None:
        f = self.follow
        p = sim.pumps
        if not (0 <= f < len(p)):
            return
        text = step_caption(int(p.state[f]), int(p.n_na[f]), int(p.n_k[f]))
        lay = self.layout
        size = lay.px(22)
        img = self.text.render(text, size, WHITE, True)
        wr = lay.world
        rect = img.get_rect(midbottom=(wr.centerx, wr.bottom - lay.px(14)))
        box = rect.inflate(size * 1.2, size * 0.6)
        overlay = pygame.Surface(box.size, pygame.SRCALPHA)
        overlay.fill((20, 24, 32, 215))
        self.surface.blit(overlay, box)
        pygame.draw.rect(self.surface, FOLLOW, box, max(2, lay.px(2)))
        self.surface.blit(img, rect)

    def _draw_message(self) -> None:
        lay = self.layout
        size = lay.px(16)
        img = self.text.render(self.message, size, (255, 235, 200), True)
        wr = lay.world
        rect = img.get_rect(midtop=(wr.centerx, wr.top + lay.px(48)))
        box = rect.inflate(size, size * 0.6)
        overlay = pygame.Surface(box.size, pygame.SRCALPHA)
        overlay.fill((120, 30, 10, 220))
        self.surface.blit(overlay, box)
        self.surface.blit(img, rect)

    def _draw_title_card(self, sim) -> None:
        lay = self.layout
        wr = lay.world
        a = max(0.0, min(self.title_alpha, 1.0))
        t1 = self.text.render(sim.scenario.title, lay.px(34), WHITE, True)
        t2 = self.text.render(sim.scenario.description or "", lay.px(17), (225, 230, 240))
        t3 = self.text.render("ionpump: agent-based Na⁺/K⁺ pump simulation", lay.px(13),
                              (180, 190, 205))
        w = max(t1.get_width(), t2.get_width()) + lay.px(60)
        h = t1.get_height() + t2.get_height() + t3.get_height() + lay.px(50)
        card = pygame.Surface((w, h), pygame.SRCALPHA)
        card.fill((20, 24, 32, round(225 * a)))
        y = lay.px(16)
        for t in (t1, t2, t3):
            t = t.copy()
            t.set_alpha(round(255 * a))
            card.blit(t, t.get_rect(midtop=(w // 2, y)))
            y += t.get_height() + lay.px(8)
        self.surface.blit(card, card.get_rect(midtop=(wr.centerx, wr.top + lay.px(70))))

    def _draw_help(self, ui) -> None:
        lay = self.layout
        W, H = self.size
        lines = getattr(ui, "help_lines", [])
        fs = lay.px(16)
        lh = round(fs * 1.45)
        w = min(W - lay.px(40), lay.px(760))
        h = min(H - lay.px(40), lh * (len(lines) + 2))
        box = pygame.Rect(0, 0, w, h)
        box.center = (W // 2, H // 2)
        overlay = pygame.Surface(box.size, pygame.SRCALPHA)
        overlay.fill((20, 24, 32, 235))
        self.surface.blit(overlay, box)
        pygame.draw.rect(self.surface, FOLLOW, box, 2)
        y = box.top + lh // 2
        self.text.blit(self.surface, "Controls (H or ? closes this)", (box.centerx, y), fs, WHITE,
                       True, "midtop")
        y += lh * 1.3
        kx = box.left + lay.px(24)
        dx = box.left + round(w * 0.36)
        for key, desc in lines:
            if y + lh > box.bottom:
                break
            self.text.blit(self.surface, key, (kx, y), fs, (255, 220, 120), True)
            self.text.blit(self.surface, desc, (dx, y), fs, WHITE)
            y += lh


# ---------------------------------------------------------------- small helpers

def _mix(a, b, t: float) -> tuple[int, int, int]:
    t = min(max(float(t), 0.0), 1.0)
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def _nice_length(x: float) -> float:
    if x <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * e >= x * 0.7:
            return m * e
    return 10 * e


def _fmt_time(ms: float) -> str:
    if abs(ms) < 1:
        return f"{ms * 1000:.0f} µs" if ms else "0 ms"
    if abs(ms) < 1000:
        return f"{ms:.2f} ms" if abs(ms) < 100 else f"{ms:.1f} ms"
    return f"{ms / 1000:.3f} s"


def _fmt_num(v: float) -> str:
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _turnover(sim, m: int) -> float:
    """Cycles per pump per second over the recent past (the last 10 s of playback)."""
    rows = sim.recorder.rows
    if m == 0 or len(rows) < 2:
        return float("nan")
    span = 10.0 * sim.scenario.values["render.ms_per_second"]
    last = rows[-1]
    k = len(rows) - 1
    while k > 0 and last["time_ms"] - rows[k - 1]["time_ms"] <= span:
        k -= 1
    first = rows[k]
    dt = last["time_ms"] - first["time_ms"]
    if dt <= 0:
        return float("nan")
    return (last["cycles"] - first["cycles"]) / m / (dt * 1e-3)


def _conditions(sim) -> list[str]:
    out = []
    if sim.scenario.values.get("bath.clamped") and sim.bath_mM[1] == 0 \
            and sim.scenario.values["ions.k.outside_mM"] > 0:
        out.append("K-free bath")
    if sim.poisoned:
        out.append("poisoned (no ATP made)")
    if sim.ouabain_mM > 0:
        out.append(f"ouabain {sim.ouabain_mM * 1e3:g} µM")
    return out


def headless_init() -> None:
    """Make pygame usable without a display (fonts and surfaces only)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if not pygame.font.get_init():
        pygame.font.init()
