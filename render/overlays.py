"""Words around and over the picture: the top bar (title, clock, phase, speed), the legend bar,
and the overlays: the followed pump's step caption, one-line notices, the title card and the
help.
"""

from __future__ import annotations

import numpy as np
import pygame

from .layout import Layout
from .raster import K_RGB, NA_RGB, RING_RGB, TRACER_RGB
from .style import (BAR_BG, BAR_DIM, BAR_FG, BLACK, FOLLOW, K_LABEL, NA_LABEL, OUABAIN,
                    P_MARK, WHITE, hexagon, step_caption)
from .text import Text, fmt_time

CLOCK = (255, 220, 120)            # the clock in the top bar, the keys in the help
PAUSED = (255, 150, 120)
NOTICE_TEXT = (255, 235, 200)
NOTICE_BG = (120, 30, 10, 220)
SHADE = (20, 24, 32)               # behind the caption, title card and help


class Overlays:
    """Draws the bars and the overlays of a frame (reads the simulation only)."""

    def __init__(self, text: Text):
        self.text = text

    # -------------------------------------------------------------- bars

    def _bar(self, surf, lay: Layout, r, min_size: int, fraction: float
             ) -> tuple[int, int, int, int]:
        """Clear a bar ``r``; return its text size (px, ``fraction`` of its height, at least
        ``min_size``), padding, first x and centre y."""
        surf.fill(BAR_BG, r)
        pad = lay.px(12)
        return max(min_size, round(r.h * fraction)), pad, r.left + pad, r.centery

    def top_bar(self, surf, lay: Layout, sim, captions: bool, paused: bool,
                speed_label: str) -> None:
        """Title, clock and phase (with ``captions``), and the speed (or PAUSED) at the right."""
        r = lay.top
        size, pad, x, cy = self._bar(surf, lay, r, 10, 0.5)
        T = self.text
        if captions:
            x = T.blit(surf, sim.scenario.title, (x, cy), size, BAR_FG, True,
                       "midleft").right + pad * 2
            x = T.blit(surf, f"t = {fmt_time(sim.time_ms)}", (x, cy), size, CLOCK, True,
                       "midleft").right + pad * 2
            T.blit(surf, f"phase: {sim.phase}", (x, cy), size, BAR_FG, False, "midleft")
        status = ("PAUSED  " if paused else "") + f"speed {speed_label}"
        if captions or paused:
            T.blit(surf, status, (r.right - pad, cy), round(size * 0.85),
                   PAUSED if paused else BAR_DIM, paused, "midright")

    def legend(self, surf, lay: Layout, sim) -> None:
        """The key: ion colours (tracer when there is one), the phosphate and ouabain marks,
        and where to find the help."""
        r = lay.legend
        size, pad, x, cy = self._bar(surf, lay, r, 9, 0.46)
        T = self.text
        rr = max(3, round(size * 0.42))
        items = [(NA_RGB, None, f"{NA_LABEL} sodium"), (K_RGB, None, f"{K_LABEL} potassium")]
        if sim.scenario.values.get("tracer.fraction", 0) > 0 or np.any(sim.ions.tracer):
            items.append((TRACER_RGB, RING_RGB, "²⁴Na⁺ tracer"))
        for fill, ring, label in items:
            pygame.draw.circle(surf, fill, (x + rr, cy), rr)
            if ring:
                pygame.draw.circle(surf, ring, (x + rr, cy), rr, max(1, rr // 3))
            x = T.blit(surf, label, (x + 2 * rr + pad // 2, cy), size, BAR_FG, False,
                       "midleft").right + pad * 2
        x = T.blit(surf, "pump:", (x, cy), size, BAR_DIM, False, "midleft").right + pad // 2
        pygame.draw.circle(surf, P_MARK, (x + rr, cy), rr)
        T.blit(surf, "P", (x + rr, cy), round(size * 0.8), BLACK, True, "center")
        x = T.blit(surf, "phosphorylated", (x + 2 * rr + pad // 3, cy), size, BAR_FG, False,
                   "midleft").right + pad
        pygame.draw.polygon(surf, OUABAIN, hexagon(x + rr, cy, rr))
        x = T.blit(surf, "ouabain", (x + 2 * rr + pad // 3, cy), size, BAR_FG, False,
                   "midleft").right + pad
        if lay.panel or x < r.right - lay.px(90):
            T.blit(surf, "H: help", (r.right - pad, cy), size, BAR_DIM, False, "midright")

    # -------------------------------------------------------------- overlays

    def step_caption(self, surf, lay: Layout, sim, follow: int) -> None:
        """What the followed pump is doing, in a box at the bottom of the world view."""
        p = sim.pumps
        if not (0 <= follow < len(p)):
            return
        text = step_caption(int(p.state[follow]), int(p.n_na[follow]), int(p.n_k[follow]))
        size = lay.px(22)
        img = self.text.render(text, size, WHITE, True)
        wr = lay.world
        rect = img.get_rect(midbottom=(wr.centerx, wr.bottom - lay.px(14)))
        box = rect.inflate(size * 1.2, size * 0.6)
        shade = pygame.Surface(box.size, pygame.SRCALPHA)
        shade.fill((*SHADE, 215))
        surf.blit(shade, box)
        pygame.draw.rect(surf, FOLLOW, box, max(2, lay.px(2)))
        surf.blit(img, rect)

    def notice(self, surf, lay: Layout, message: str) -> None:
        """A one-line notice near the top of the world view."""
        size = lay.px(16)
        img = self.text.render(message, size, NOTICE_TEXT, True)
        wr = lay.world
        rect = img.get_rect(midtop=(wr.centerx, wr.top + lay.px(48)))
        box = rect.inflate(size, size * 0.6)
        shade = pygame.Surface(box.size, pygame.SRCALPHA)
        shade.fill(NOTICE_BG)
        surf.blit(shade, box)
        surf.blit(img, rect)

    def title_card(self, surf, lay: Layout, sim, alpha: float) -> None:
        """The scenario's title and description, faded to ``alpha`` (0..1)."""
        wr = lay.world
        a = max(0.0, min(alpha, 1.0))
        t1 = self.text.render(sim.scenario.title, lay.px(34), WHITE, True)
        t2 = self.text.render(sim.scenario.description or "", lay.px(17), (225, 230, 240))
        t3 = self.text.render("ionpump: agent-based Na⁺/K⁺ pump simulation", lay.px(13),
                              (180, 190, 205))
        w = max(t1.get_width(), t2.get_width()) + lay.px(60)
        h = t1.get_height() + t2.get_height() + t3.get_height() + lay.px(50)
        card = pygame.Surface((w, h), pygame.SRCALPHA)
        card.fill((*SHADE, round(225 * a)))
        y = lay.px(16)
        for t in (t1, t2, t3):
            t = t.copy()
            t.set_alpha(round(255 * a))
            card.blit(t, t.get_rect(midtop=(w // 2, y)))
            y += t.get_height() + lay.px(8)
        surf.blit(card, card.get_rect(midtop=(wr.centerx, wr.top + lay.px(70))))

    def help(self, surf, lay: Layout, lines: list[tuple[str, str]]) -> None:
        """The controls, (key, what it does) per line, in a box in the middle."""
        W, H = lay.size
        fs = lay.px(16)
        lh = round(fs * 1.45)
        w = min(W - lay.px(40), lay.px(760))
        h = min(H - lay.px(40), lh * (len(lines) + 2))
        box = pygame.Rect(0, 0, w, h)
        box.center = (W // 2, H // 2)
        shade = pygame.Surface(box.size, pygame.SRCALPHA)
        shade.fill((*SHADE, 235))
        surf.blit(shade, box)
        pygame.draw.rect(surf, FOLLOW, box, 2)
        y = box.top + lh // 2
        self.text.blit(surf, "Controls (H or ? closes this)", (box.centerx, y), fs, WHITE,
                       True, "midtop")
        y += lh * 1.3
        kx = box.left + lay.px(24)
        dx = box.left + round(w * 0.36)
        for key, desc in lines:
            if y + lh > box.bottom:
                break
            self.text.blit(surf, key, (kx, y), fs, CLOCK, True)
            self.text.blit(surf, desc, (dx, y), fs, WHITE)
            y += lh
