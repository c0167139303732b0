"""The world view: the box through the camera, with its compartments, the lipid bilayer,
channel pores, the ions (rasterised by :mod:`render.raster`), the pumps
(:mod:`render.pumps`), and the labels and scale bar over them.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from particles.layout import Side
from particles.state import Ions

from .layout import Layout, Projection
from .memory import FrameMemory
from .pores import KINDS, draw_pore, pore_states
from .pumps import PumpPainter
from .raster import IonRaster
from .style import (BG_INSIDE, BG_INSIDE_ZONE, BG_OUTSIDE, BG_OUTSIDE_ZONE, BG_VOID, BLACK,
                    HEAD, HEAD_EDGE, TAIL, WHITE)
from .text import Text

LIPID_TAIL = (205, 180, 130)
INSIDE_TEXT = (120, 70, 10)
OUTSIDE_TEXT = (0, 70, 120)


def nice_length(x: float) -> float:
    """The 1, 2 or 5 × 10^k nearest above 0.7·``x`` (a scale bar's length)."""
    if x <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * e >= x * 0.7:
            return m * e
    return 10 * e


class WorldView:
    """Draws the box of a simulation into the world view's rectangle (reads the simulation
    only). Keeps the static background (compartments and bilayer) cached between frames."""

    def __init__(self, text: Text):
        self.text = text
        self.raster = IonRaster()
        self.pumps = PumpPainter(text)
        self._bg_key = None
        self._bg: np.ndarray | None = None
        self.scale_bar_right = 0    # px: the right end of the scale bar and its length

    def draw(self, buffer: np.ndarray, surf, lay: Layout, sim, proj: Projection,
             memory: FrameMemory, fps: float, follow: int, highlight_tracer: bool = False
             ) -> None:
        """Start a frame with the world view of ``sim``.

        The whole of ``buffer`` (``(H, W, 3)`` uint8) is reset to the cached background, then
        ions, channels, pumps and labels are drawn inside ``lay.world``, through ``surf`` (a
        surface over the same pixels). ``follow`` is the followed pump (-1: none).
        ``highlight_tracer``: the other ions are faded and the ²⁴Na⁺ drawn larger on top."""
        np.copyto(buffer, self._background(lay, sim, proj))
        radius = self.ion_radius(lay, sim, proj)
        wr = lay.world
        clip = (wr.left, wr.top, wr.right, wr.bottom)
        self.raster.draw(buffer, sim.ions, proj.transform, clip, radius)
        if highlight_tracer:
            view = buffer[wr.top:wr.bottom, wr.left:wr.right]
            view[:] = (view * 0.3 + 255 * 0.7).astype(np.uint8)
            i = sim.ions
            m = i.tracer
            self.raster.draw(buffer, Ions(i.x[m], i.y[m], i.species[m], i.side[m], i.bound[m],
                                          i.tracer[m]), proj.transform, clip,
                             max(radius * 1.8, 2.5))
        surf.set_clip(wr)
        self.text.area = wr
        self._channels(surf, lay, sim, proj)
        self.pumps.draw_flashes(surf, lay, sim, proj, memory, fps, radius)
        labels = self._plan_labels(lay, sim, proj)
        self.pumps.draw(surf, lay, sim, proj, follow, avoid=[box for _, box, _, _ in labels])
        self.pumps.draw_puffs(surf, sim, proj, memory, fps)
        self.pumps.draw_reversals(surf, lay, sim, proj, memory, fps)
        for text, box, fs, col in labels:
            self.text.label(surf, text, box.center, fs, col, "center")
        self._scale_bar(surf, lay, sim, proj)
        surf.set_clip(None)

    # -------------------------------------------------------------- what is where

    @staticmethod
    def ion_radius(lay: Layout, sim, proj: Projection) -> float:
        """Drawn radius of a free ion (px): from the mean spacing of ions on screen."""
        g = sim.geometry
        n = max(int(np.count_nonzero(sim.ions.side != Side.RESERVOIR)), 1)
        spacing = math.sqrt(g.width_um * g.height_um / n) * proj.scale
        return float(min(max(0.30 * spacing, 1.2), 7.0 * lay.u))

    @staticmethod
    def pump_rect(sim, proj: Projection, i: int) -> pygame.Rect:
        """Screen rectangle of pump ``i``'s drawing (for picking and highlighting)."""
        cx, cy = proj.to_screen(sim.geometry.membrane_x_um, float(sim.pumps.y[i]))
        fh, hw = proj.face, proj.half_width
        lobe = 0.34 * fh
        return pygame.Rect(int(cx - hw - lobe), int(cy - fh / 2), int(2 * hw + lobe), int(fh))

    def pick_pump(self, sim, proj: Projection, pos) -> int:
        """Index of the pump under screen ``pos``, or -1 (the nearest in y if several)."""
        best, bd = -1, 1e18
        for i in range(len(sim.pumps)):
            r = self.pump_rect(sim, proj, i).inflate(8, 8)
            if r.collidepoint(pos):
                d = abs(r.centery - pos[1])
                if d < bd:
                    best, bd = i, d
        return best

    # -------------------------------------------------------------- background

    def _background(self, lay: Layout, sim, proj: Projection) -> np.ndarray:
        """The whole frame's static part: void, compartments, clamped zones and bilayer."""
        v = sim.scenario.values
        key = (lay.size, proj.transform, lay.panel, v.get("bath.clamped"), v.get("bath.zone_um"))
        if key == self._bg_key:
            return self._bg
        W, H = lay.size
        surf = pygame.Surface((W, H), depth=24)
        surf.fill(BG_VOID)
        g = sim.geometry
        s, ox, oy = proj.scale, proj.ox, proj.oy
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
        self._bilayer(surf, lay, proj, oy, g.height_um * s)
        surf.set_clip(None)
        arr = pygame.surfarray.array3d(surf).swapaxes(0, 1)
        self._bg = np.ascontiguousarray(arr)
        self._bg_key = key
        return self._bg

    @staticmethod
    def _bilayer(surf, lay: Layout, proj: Projection, y_top: float, h: float) -> None:
        """The membrane band from ``y_top`` over ``h`` px: two rows of lipid heads with their
        tails (a plain band with edges when the heads would be under 2.5 px apart)."""
        band_l, band_r = proj.band
        w = band_r - band_l
        rect = pygame.Rect(round(band_l), round(y_top), max(round(w), 2), round(h))
        surf.fill(TAIL, rect)
        head_r = max(1.5, min(w * 0.16, lay.px(6)))
        step = head_r * 2.1
        y0 = max(y_top, lay.world.top - step)
        y1 = min(y_top + h, lay.world.bottom + step)
        if step < 2.5:
            pygame.draw.rect(surf, HEAD, rect, max(1, round(w * 0.25)))
            return
        ny = int((y1 - y0) / step) + 1
        for k in range(ny):
            y = y0 + (k + 0.5) * step
            for x, d in ((band_l + head_r, 1), (band_r - head_r, -1)):
                x_end = band_l + w / 2 - d * w * 0.04
                for dy in (-head_r * 0.35, head_r * 0.35):
                    pygame.draw.line(surf, LIPID_TAIL, (x, y + dy), (x_end, y + dy))
        for k in range(ny):
            y = y0 + (k + 0.5) * step
            for x in (band_l + head_r, band_r - head_r):
                pygame.draw.circle(surf, HEAD, (x, y), head_r)
                if head_r >= 3:
                    pygame.draw.circle(surf, HEAD_EDGE, (x, y), head_r, 1)

    # -------------------------------------------------------------- channels and labels

    @staticmethod
    def _channels(surf, lay: Layout, sim, proj: Projection) -> None:
        """Each pore across the band in its ion's colour, a voltage-gated one outlined and
        drawn open, closed or inactivated (:mod:`render.pores`)."""
        ch = sim.channels
        if len(ch) == 0:
            return
        states = pore_states(ch)
        band_l, band_r = proj.band
        half = ch.half_um * proj.scale
        line = max(1, round(lay.u))
        for y_um, t, st in zip(ch.y, ch.type, states):
            col, gated, _ = KINDS[int(t)]
            cy = proj.pump_y(y_um)
            rect = pygame.Rect(round(band_l) - 1, round(cy - half), round(band_r - band_l) + 2,
                               max(2, round(2 * half)))
            draw_pore(surf, rect, col, gated, int(st), line)

    def _plan_labels(self, lay: Layout, sim, proj: Projection) -> list[tuple]:
        """Where INSIDE / OUTSIDE go, at the top of each side (shortened or smaller to fit,
        allowed into the grey margin beside the box), and the perfused bath's name under
        OUTSIDE: (text, box, font size, colour) each."""
        g = sim.geometry
        T = self.text
        s, ox, oy = proj.scale, proj.ox, proj.oy
        wr = lay.world
        size = lay.px(17)
        pad = lay.px(8)
        band_l, band_r = proj.band
        y = max(wr.top + pad, oy + pad)
        sides = ((("INSIDE  (cytoplasm)", "INSIDE", "IN"), max(wr.left + pad, ox + pad),
                  wr.left + pad, band_l - pad, INSIDE_TEXT, "topleft"),
                 (("OUTSIDE  (extracellular)", "OUTSIDE", "OUT"),
                  min(wr.right - pad, ox + g.width_um * s - pad), band_r + pad,
                  wr.right - pad, OUTSIDE_TEXT, "topright"))
        plan = []
        for texts, x, lo, hi, col, anchor in sides:
            fitted = self._fitting_label(texts, (x, y), size, anchor, hi - lo)
            if fitted is None:
                continue
            box, text, fs = fitted
            if box.left < lo or box.right > hi:  # too wide in the box: from the band out
                box = box.move(lo - box.left if anchor == "topleft" else hi - box.right, 0)
            plan.append((text, box, fs, col))
        bath_seen = ox + g.width_um * s <= wr.right + pad  # the zone is at the box's right end
        if (sim.scenario.values.get("bath.clamped") and bath_seen and plan
                and plan[-1][3] == OUTSIDE_TEXT):
            fs = lay.px(12)
            out = plan[-1][1]
            box = T.label_rect("perfused bath", (out.right - round(fs * 0.3),
                                                 out.bottom + pad // 2 + fs * 0.12),
                               fs, "topright")
            if box.left >= band_r + pad and box.bottom < wr.bottom - pad:
                plan.append(("perfused bath", box, fs, OUTSIDE_TEXT))
        return plan

    def _fitting_label(self, texts, pos, size, anchor, room):
        """(box, text, size) of the first of ``texts`` (at ``size`` px, or down to 70 % of
        it) whose label is at most ``room`` px wide; None if none fits."""
        for text in texts:
            for fs in (size, round(size * 0.85), round(size * 0.7)):
                box = self.text.label_rect(text, pos, fs, anchor)
                if box.w <= room:
                    return box, text, fs
        return None

    def _scale_bar(self, surf, lay: Layout, sim, proj: Projection) -> None:
        """A bar of a round length near 12 % of the view's width, bottom left, its length
        written beside it; in the grey margin under the box when there is room, else over the
        box on a white backing. Sets :attr:`scale_bar_right` (px)."""
        wr = lay.world
        pad = lay.px(8)
        s = proj.scale
        nice = nice_length((wr.w * 0.12) / s)
        bar = nice * s
        fs = lay.px(12)
        label = f"{nice * 1000:g} nm" if nice < 1 else f"{nice:g} µm"
        x0 = wr.left + pad * 2
        box_bottom = proj.oy + sim.geometry.height_um * s
        h = self.text.font(fs, True).get_linesize()
        yb = wr.bottom - max(pad, (wr.bottom - box_bottom - h) / 2) - h / 2
        if wr.bottom - box_bottom < h + 4:
            back = pygame.Rect(x0 - pad // 2, round(yb - h / 2 - 2), round(bar) + pad, h + 4)
            pygame.draw.rect(surf, WHITE, back, border_radius=pad // 2)
        pygame.draw.line(surf, BLACK, (x0, yb), (x0 + bar, yb), max(2, lay.px(3)))
        for x in (x0, x0 + bar):
            pygame.draw.line(surf, BLACK, (x, yb - lay.px(5)), (x, yb + lay.px(5)),
                             max(1, lay.px(2)))
        r = self.text.label(surf, label, (x0 + bar + pad, yb), fs, BLACK, "midleft")
        self.scale_bar_right = r.right
