"""The pumps in the world view: each in its conformation with its bound ions and badges,
the ions it releases, the ADP, phosphate and ATP it gives off, and a reversed arrow when it
has run a whole cycle backwards.

Shapes come from each state's :class:`~render.style.PumpStyle`. Detail follows the zoom: a
coloured tick per pump far away (face under 10 px), then the body with its bound ions, the
ATP and phosphate badges from 16-20 px, and from 40 px the empty sites and the state's name.
"""

from __future__ import annotations

import math

import pygame

from particles.layout import NA_SITES, Species

from .layout import Layout, Projection
from .memory import FLASH_S, PUFF_S, REVERSAL_S, FrameMemory
from .raster import K_RGB, NA_RGB, RING_RGB, TRACER_RGB
from .style import (BG_INSIDE, BG_OUTSIDE, BLACK, CAVITY, FOLLOW, OUABAIN, P_MARK, PROTEIN,
                    PROTEIN_BLOCKED, PROTEIN_EDGE, REVERSE, WHITE, PumpStyle, hexagon, mix,
                    pump_style, site_position)
from .text import Text


def draw_reverse_arrow(surf, box) -> None:
    """The mark of a backward cycle: a bold arrow pointing left (to the inside) filling the
    rectangle ``box`` (px), in :data:`REVERSE` edged white."""
    h = box.h / 2
    w = max(1.0, h * 0.3)      # half the shaft's thickness
    head = min(h * 1.25, box.w / 2)
    x0, x1, cy = box.left, box.right, box.centery
    poly = [(x1, cy - w), (x0 + head, cy - w), (x0 + head, cy - h), (x0, cy),
            (x0 + head, cy + h), (x0 + head, cy + w), (x1, cy + w)]
    pygame.draw.polygon(surf, REVERSE, poly)
    pygame.draw.polygon(surf, WHITE, poly, max(1, round(w * 0.4)))


class PumpPainter:
    """Draws the pumps of a simulation onto a surface (reads the simulation only)."""

    def __init__(self, text: Text):
        self.text = text

    # -------------------------------------------------------------- pumps

    def draw(self, surf, lay: Layout, sim, proj: Projection, follow: int,
             avoid: list[pygame.Rect] = ()) -> None:
        """Every pump in the world view; the one at index ``follow`` ringed. A state's name
        goes at the pump's top right, else its bottom right, and is left out where both
        would cover one of the ``avoid`` rectangles (other labels)."""
        p = sim.pumps
        fh, hw = proj.face, proj.half_width
        wr = lay.world
        cx = proj.membrane_x
        if cx + hw * 2 < wr.left or cx - hw * 2 > wr.right:
            return
        ion_r = max(2.5, min(0.09 * fh, lay.px(14)))
        for i in range(len(p)):
            cy = proj.pump_y(float(p.y[i]))
            if cy + fh < wr.top or cy - fh > wr.bottom:
                continue
            style = pump_style(p.state[i])
            self._body(surf, cx, cy, fh, hw, style, i == follow)
            if fh >= 10:
                self._sites(surf, sim, i, cx, cy, fh, hw, ion_r, style)
            if fh >= 40:
                self._name(surf, style.name, cx + hw + fh * 0.08, cy, fh,
                           round(max(9, min(fh * 0.11, lay.px(16)))), avoid)

    def _name(self, surf, name, x, cy, fh, size, avoid) -> None:
        """A pump state's name beside the pump (top right, else bottom right) where it
        covers none of the ``avoid`` rectangles."""
        for anchor, y in (("topleft", cy - fh * 0.47), ("bottomleft", cy + fh * 0.47)):
            box = self.text.label_rect(name, (x, y), size, anchor)
            if box.collidelist(avoid) < 0:
                self.text.label(surf, name, (x, y), size, PROTEIN_EDGE, anchor)
                return

    def _sites(self, surf, sim, i, cx, cy, fh, hw, ion_r, style: PumpStyle) -> None:
        """Pump ``i``'s bound ions (a tracer Na+ ringed) and, from 40 px, its empty sites."""
        ions = sim.ions
        for j, ion in enumerate(sim.pumps.sites[i]):
            ion = int(ion)
            dx, dy = site_position(j)
            x, y = cx + dx * hw, cy + dy * fh
            if ion < 0 or ion >= len(ions):
                if fh >= 40 and not style.blocked:
                    col = NA_RGB if j < NA_SITES else K_RGB
                    pygame.draw.circle(surf, mix(col, CAVITY, 0.55), (x, y), ion_r, 1)
                continue
            sp = int(ions.species[ion])
            col = K_RGB if sp == Species.K else (TRACER_RGB if ions.tracer[ion] else NA_RGB)
            pygame.draw.circle(surf, col, (x, y), ion_r)
            edge = RING_RGB if (sp == Species.NA and ions.tracer[ion]) else WHITE
            pygame.draw.circle(surf, edge, (x, y), ion_r, max(1, round(ion_r * 0.22)))

    def _body(self, surf, cx, cy, fh, hw, style: PumpStyle, followed: bool) -> None:
        """The protein: cytoplasmic lobe, body, ion pocket, ouabain plug and badges."""
        h2 = fh * 0.47
        lobe_r = 0.27 * fh
        lobe_c = (cx - hw - lobe_r * 0.35, cy + h2 * 0.35)
        if followed:
            pad = max(3, fh * 0.08)
            rr = pygame.Rect(0, 0, 2 * hw + lobe_r * 1.3 + 2 * pad, 2 * h2 + 2 * pad)
            rr.midright = (round(cx + hw + pad), round(cy))
            pygame.draw.rect(surf, FOLLOW, rr, max(2, round(fh * 0.05)),
                             border_radius=round(pad * 2))
        if fh < 10:  # far away: a coloured tick per pump
            pygame.draw.rect(surf, style.color,
                             pygame.Rect(round(cx - hw), round(cy - fh / 2), max(2, round(2 * hw)),
                                         max(2, round(fh * 0.9))))
            return
        body_col = PROTEIN_BLOCKED if style.blocked else PROTEIN
        # cytoplasmic lobe (ATP-binding / phosphorylation domain)
        pygame.draw.circle(surf, body_col, lobe_c, lobe_r)
        pygame.draw.circle(surf, PROTEIN_EDGE, lobe_c, lobe_r, max(1, round(fh * 0.025)))
        body = pygame.Rect(round(cx - hw), round(cy - h2), round(2 * hw), round(2 * h2))
        rad = round(hw * 0.45)
        pygame.draw.rect(surf, body_col, body, border_radius=rad)
        pygame.draw.rect(surf, PROTEIN_EDGE, body, max(1, round(fh * 0.025)), border_radius=rad)
        self._pocket(surf, cx, cy, fh, hw, h2, style.pocket)
        if style.blocked:
            self._ouabain(surf, cx, cy, fh, hw)
        # ATP waiting at the lobe, then the phosphate mark
        if style.atp and fh >= 20:
            self._badge(surf, lobe_c[0] - lobe_r * 0.2, lobe_c[1] + lobe_r * 0.95, "ATP", fh,
                        P_MARK, BLACK)
        if style.phosphorylated and fh >= 16:
            self._badge(surf, lobe_c[0], lobe_c[1], "P", fh, P_MARK, BLACK, circle=True)

    @staticmethod
    def _pocket(surf, cx, cy, fh, hw, h2, pocket: str) -> None:
        """The ion pocket: open to one side (inward/outward), plugged, or closed (occluded:
        closed gates drawn as thick bars on both sides)."""
        a, b = hw * 0.42, h2 * 0.72
        if pocket == "inward":
            pts = [(cx - hw - 1, cy - b * 1.15), (cx + a, cy - b), (cx + a, cy + b),
                   (cx - hw - 1, cy + b * 1.15)]
        elif pocket == "outward":
            pts = [(cx + hw + 1, cy - b * 1.15), (cx - a, cy - b), (cx - a, cy + b),
                   (cx + hw + 1, cy + b * 1.15)]
        elif pocket == "plugged":
            pts = [(cx + hw + 1, cy - b * 0.9), (cx - a * 0.5, cy - b * 0.5),
                   (cx - a * 0.5, cy + b * 0.5), (cx + hw + 1, cy + b * 0.9)]
        else:
            pts = [(cx - a, cy - b), (cx + a, cy - b), (cx + a, cy + b), (cx - a, cy + b)]
        pygame.draw.polygon(surf, CAVITY, pts)
        edge_w = max(1, round(fh * 0.02))
        if pocket != "occluded":
            pygame.draw.line(surf, PROTEIN_EDGE, pts[0], pts[1], edge_w)
            pygame.draw.line(surf, PROTEIN_EDGE, pts[1], pts[2], edge_w)
            pygame.draw.line(surf, PROTEIN_EDGE, pts[2], pts[3], edge_w)
        else:
            pygame.draw.polygon(surf, PROTEIN_EDGE, pts, edge_w)
            gw = max(2, round(fh * 0.045))
            for x in (cx - a, cx + a):
                pygame.draw.line(surf, PROTEIN_EDGE, (x, cy - b), (x, cy + b), gw)

    @staticmethod
    def _ouabain(surf, cx, cy, fh, hw) -> None:
        """Ouabain (a green hexagon) plugging the outward mouth (the state's label names it)."""
        r = min(0.16 * fh, hw * 0.7)
        c = (cx + hw * 0.75, cy)
        hexa = hexagon(c[0], c[1], r)
        pygame.draw.polygon(surf, OUABAIN, hexa)
        pygame.draw.polygon(surf, BLACK, hexa, max(1, round(fh * 0.02)))

    def _badge(self, surf, x, y, text, fh, fill, fg, circle=False, alpha=1.0) -> None:
        """A small label on a pump (ATP, P, ADP), in a rounded box or a circle at (x, y),
        the whole badge (outline and text with it) faded to ``alpha`` (0..1)."""
        size = max(7, fh * 0.13)
        img = self.text.render(text, round(size), fg, True)
        if circle:
            r = max(img.get_width(), img.get_height()) * 0.62
            d = math.ceil(2 * r) + 2
            badge = pygame.Surface((d, d), pygame.SRCALPHA)
            pygame.draw.circle(badge, fill, (d / 2, d / 2), r)
            pygame.draw.circle(badge, BLACK, (d / 2, d / 2), r, max(1, round(fh * 0.02)))
        else:
            rect = img.get_rect().inflate(size * 0.6, size * 0.2)
            badge = pygame.Surface(rect.size, pygame.SRCALPHA)
            rect.topleft = (0, 0)
            pygame.draw.rect(badge, fill, rect, border_radius=round(size * 0.4))
            pygame.draw.rect(badge, BLACK, rect, 1, border_radius=round(size * 0.4))
        badge.blit(img, img.get_rect(center=badge.get_rect().center))
        if alpha < 1.0:
            badge.set_alpha(round(255 * alpha))
        surf.blit(badge, badge.get_rect(center=(round(x), round(y))))

    # -------------------------------------------------------------- marks of events

    def draw_puffs(self, surf, sim, proj: Projection, memory: FrameMemory, fps: float) -> None:
        """ADP, P and ATP labels drifting off the pumps' lobes into the cytoplasm, fading."""
        fh, hw = proj.face, proj.half_width
        if fh < 36:
            return
        life = PUFF_S * fps
        for q in memory.puffs:
            if q.pump >= len(sim.pumps):
                continue
            cx, cy = proj.to_screen(sim.geometry.membrane_x_um, float(sim.pumps.y[q.pump]))
            t = (memory.frame - q.born) / life
            lobe_x = cx - hw - 0.27 * fh * 0.35
            x = lobe_x - fh * (0.35 + 0.9 * t)
            y = cy + fh * (0.2 + (0.25 if q.text == "ADP" else -0.35) * t)
            alpha = 1.0 - min(t * 1.2, 1.0) ** 2
            if alpha > 0.05:
                self._badge(surf, x, y, q.text, fh, q.color, BLACK, circle=(q.text == "P"),
                            alpha=alpha)

    @staticmethod
    def draw_flashes(surf, lay: Layout, sim, proj: Projection, memory: FrameMemory,
                     fps: float, radius: float) -> None:
        """A released ion: a ghost of it leaves the pump's mouth on the side it was released
        to, with an expanding ring, fading (the real ion has diffused on by the next frame).
        ``radius`` is the drawn radius of a free ion (px)."""
        p = sim.pumps
        fh, hw = proj.face, proj.half_width
        life = FLASH_S * fps
        cx = proj.membrane_x
        r_ion = max(radius * 1.3, min(0.085 * fh, lay.px(14)))
        if fh < 36:
            r_ion = min(r_ion, max(radius * 1.6, 2.0))
        for f in memory.flashes:
            if f.pump >= len(p):
                continue
            t = (memory.frame - f.born) / life
            cy = proj.pump_y(float(p.y[f.pump])) + f.dy * fh
            d = 1 if f.outward else -1
            x = cx + d * (hw + r_ion * 1.2 + fh * 0.55 * t ** 0.7)
            col = K_RGB if f.species == Species.K else NA_RGB
            bg = BG_OUTSIDE if f.outward else BG_INSIDE
            c = mix(col, bg, t ** 1.5)
            pygame.draw.line(surf, mix(col, bg, 0.4 + 0.6 * t),
                             (cx + d * hw, cy), (x, cy), max(1, round(r_ion * 0.35)))
            pygame.draw.circle(surf, c, (x, cy), r_ion)
            pygame.draw.circle(surf, mix(WHITE, bg, t), (x, cy), r_ion,
                               max(1, round(r_ion * 0.2)))
            pygame.draw.circle(surf, c, (x, cy), r_ion * (1.3 + 1.8 * t),
                               max(1, round(r_ion * 0.25)))

    @staticmethod
    def draw_reversals(surf, lay: Layout, sim, proj: Projection, memory: FrameMemory,
                       fps: float) -> None:
        """A pump that has just run a whole cycle backwards (Na⁺ in, K⁺ out, ATP made): a
        bold arrow across it pointing to the inside, against the forward way of Na⁺, fading
        (the panel's key names it)."""
        fh, hw = proj.face, proj.half_width
        life = REVERSAL_S * fps
        size = max(fh, lay.px(12))
        for r in memory.reversals:
            if r.pump >= len(sim.pumps):
                continue
            alpha = 1.0 - min((memory.frame - r.born) / life, 1.0) ** 2
            if alpha > 0.05:
                half = hw + size * 0.45
                box = pygame.Rect(0, 0, math.ceil(2 * half) + 4, math.ceil(0.5 * size) + 4)
                mark = pygame.Surface(box.size, pygame.SRCALPHA)
                draw_reverse_arrow(mark, box.inflate(-4, -4))
                mark.set_alpha(round(255 * alpha))
                y = proj.pump_y(float(sim.pumps.y[r.pump]))
                surf.blit(mark, mark.get_rect(center=(round(proj.membrane_x), round(y))))
