"""Words around and over the picture: the top bar (title, clock, phase, speed), the legend bar,
and the overlays: the followed pump's step caption, one-line notices, the title card and the
help.
"""

from __future__ import annotations

import numpy as np
import pygame

from particles.layout import ChannelType

from .layout import Layout
from .pores import STATE_NAMES, PoreState, draw_pore
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
        self._card = None  # (key, surface, [(rect in the card, text)]): the title card

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
        """Title, clock and phase (with ``captions``), and the speed (or PAUSED) at the right,
        in one line: the font shrinks to fit, then the title is dropped."""
        r = lay.top
        size, pad, x, cy = self._bar(surf, lay, r, 10, 0.5)
        T = self.text
        T.area = r
        status = ("PAUSED  " if paused else "") + f"speed {speed_label}"
        left = []
        if captions:
            left = [(sim.scenario.title, BAR_FG, True),
                    (f"t = {fmt_time(sim.time_ms)}", CLOCK, True),
                    (f"phase: {sim.phase}", BAR_FG, False)]
        show_status = captions or paused

        def width(items, fs):
            w = sum(T.width(t, fs, b) + pad * 2 for t, _, b in items)
            return w + (T.width(status, round(fs * 0.85), paused) if show_status else 0)

        room = r.w - 2 * pad
        while left and size > 9 and width(left, size) > room:
            size -= 1
        if left and width(left, size) > room:
            left = left[1:]
        for t, col, bold in left:
            x = T.blit(surf, t, (x, cy), size, col, bold, "midleft").right + pad * 2
        if show_status:
            T.blit(surf, status, (r.right - pad, cy), round(size * 0.85),
                   PAUSED if paused else BAR_DIM, paused, "midright")

    def legend(self, surf, lay: Layout, sim) -> None:
        """The key: ion colours (tracer when there is one), the phosphate and ouabain marks,
        the gated pores' states when there is no panel to give them (:mod:`render.pores`),
        and where to find the help; the font shrinks to fit, then the help hint is dropped."""
        r = lay.legend
        size, pad, x0, cy = self._bar(surf, lay, r, 9, 0.46)
        T = self.text
        T.area = r
        items = [(NA_RGB, None, f"{NA_LABEL} sodium"), (K_RGB, None, f"{K_LABEL} potassium")]
        if sim.scenario.values.get("tracer.fraction", 0) > 0 or np.any(sim.ions.tracer):
            items.append((TRACER_RGB, RING_RGB, "²⁴Na⁺ tracer"))
        marks = [("P", "phosphorylated"), ("hex", "ouabain")]
        kinds = set(int(t) for t in sim.channels.type)
        pores = [] if lay.panel else [
            (st, name.split(" (")[0]) for st, name in STATE_NAMES
            if kinds & {ChannelType.KV, ChannelType.NAV} and (
                st != PoreState.INACTIVATED or ChannelType.NAV in kinds)]

        def width(fs):
            rr = max(3, round(fs * 0.42))
            w = sum(2 * rr + pad // 2 + T.width(t, fs) + pad * 2 for _, _, t in items)
            w += T.width("pump:", fs) + pad // 2
            w += sum(2 * rr + pad // 3 + T.width(t, fs) + pad for _, t in marks)
            if pores:
                w += pad + T.width("pore:", fs) + pad // 2
                w += sum(5 * rr + pad // 3 + T.width(t, fs) + pad for _, t in pores)
            return w

        hint_w = lambda fs: T.width("H: help", fs) + pad * 2  # noqa: E731
        room = r.w - 2 * pad
        while size > 8 and width(size) + hint_w(size) > room:
            size -= 1
        rr = max(3, round(size * 0.42))
        x = x0
        for fill, ring, label in items:
            pygame.draw.circle(surf, fill, (x + rr, cy), rr)
            if ring:
                pygame.draw.circle(surf, ring, (x + rr, cy), rr, max(1, rr // 3))
            x = T.blit(surf, label, (x + 2 * rr + pad // 2, cy), size, BAR_FG, False,
                       "midleft").right + pad * 2
        x = T.blit(surf, "pump:", (x, cy), size, BAR_DIM, False, "midleft").right + pad // 2
        for mark, label in marks:
            if mark == "P":
                pygame.draw.circle(surf, P_MARK, (x + rr, cy), rr)
                img = T.render("P", round(size * 0.8), BLACK, True)
                surf.blit(img, img.get_rect(center=(round(x + rr), round(cy))))
            else:
                pygame.draw.polygon(surf, OUABAIN, hexagon(x + rr, cy, rr))
            x = T.blit(surf, label, (x + 2 * rr + pad // 3, cy), size, BAR_FG, False,
                       "midleft").right + pad
        if pores:
            x = T.blit(surf, "pore:", (x + pad, cy), size, BAR_DIM, False,
                       "midleft").right + pad // 2
        for st, label in pores:  # on a light backing, so the dark gate and ball show
            pygame.draw.rect(surf, BAR_FG, pygame.Rect(round(x), round(cy - rr), 5 * rr, 2 * rr),
                             border_radius=max(1, rr // 2))
            draw_pore(surf, pygame.Rect(round(x + 1.2 * rr), round(cy - 0.7 * rr), round(3.4 * rr),
                                        round(1.4 * rr)), BAR_DIM, True, st)
            x = T.blit(surf, label, (x + 5 * rr + pad // 3, cy), size, BAR_FG, False,
                       "midleft").right + pad
        if x + hint_w(size) <= r.right:
            T.blit(surf, "H: help", (r.right - pad, cy), size, BAR_DIM, False, "midright")

    # -------------------------------------------------------------- overlays

    def _shaded_lines(self, surf, lay: Layout, lines: list[str], size: int, color, fill,
                      edge, anchor: str, pos) -> pygame.Rect:
        """``lines`` centred in a shaded box with its ``anchor`` point at ``pos``; returns
        the box."""
        T = self.text
        T.area = lay.world
        lh = T.font(size, True).get_linesize()
        w = max(T.width(s, size, True) for s in lines)
        box = pygame.Rect(0, 0, w + round(size * 1.2), lh * len(lines) + round(size * 0.6))
        setattr(box, anchor, (round(pos[0]), round(pos[1])))
        shade = pygame.Surface(box.size, pygame.SRCALPHA)
        shade.fill(fill)
        surf.blit(shade, box)
        if edge is not None:
            pygame.draw.rect(surf, edge, box, max(2, lay.px(2)))
        y = box.top + round(size * 0.3)
        for s in lines:
            T.blit(surf, s, (box.centerx, y), size, color, True, "midtop")
            y += lh
        return box

    def caption_lines(self, lay: Layout, sim, follow: int, room: float
                      ) -> tuple[list[str], int]:
        """The followed pump's step caption wrapped to ``room`` px (at most 2 lines), and its
        font size; no lines when no pump is followed."""
        p = sim.pumps
        if not (0 <= follow < len(p)):
            return [], 0
        text = step_caption(int(p.state[follow]), int(p.n_na[follow]), int(p.n_k[follow]))
        size = lay.px(22)
        lines, fs = self.text.wrap_fit(text, size, room - size * 1.2, 1, True,
                                       round(size * 0.8))  # one line if 80 % of the size do
        if len(lines) == 1 and self.text.width(lines[0], fs, True) <= room - size * 1.2:
            return lines, fs
        return self.text.wrap_fit(text, size, room - size * 1.2, 2, True, max(9, lay.px(13)))

    def step_caption(self, surf, lay: Layout, sim, follow: int, room: float) -> None:
        """What the followed pump is doing, in a box at the bottom of the world view, at most
        ``room`` px wide (centred, so it clears the scale bar)."""
        lines, size = self.caption_lines(lay, sim, follow, room)
        if lines:
            wr = lay.world
            self._shaded_lines(surf, lay, lines, size, WHITE, (*SHADE, 215), FOLLOW,
                               "midbottom", (wr.centerx, wr.bottom - lay.px(10)))

    def notice(self, surf, lay: Layout, message: str) -> None:
        """A notice in place of the legend bar (so it covers nothing of the picture): one
        line, or two in a smaller font when one would be too small to read."""
        r = lay.legend
        surf.fill(NOTICE_BG[:3], r)
        T = self.text
        T.area = r
        pad = lay.px(12)
        size = max(9, round(r.h * 0.5))
        lines, size = T.wrap_fit(message, size, r.w - 2 * pad, 1, True, max(9, lay.px(11)))
        if len(lines) > 1 or T.width(lines[0], size, True) > r.w - 2 * pad:
            lines, size = T.wrap_fit(message, round(r.h * 0.4), r.w - 2 * pad, 2, True, 7)
        lh = min(T.font(size, True).get_linesize(), r.h // len(lines))
        y = r.centery - lh * len(lines) / 2
        for line in lines:
            T.blit(surf, line, (r.centerx, y + lh / 2), size, NOTICE_TEXT, True, "center")
            y += lh

    def title_card(self, surf, lay: Layout, sim, alpha: float) -> None:
        """The scenario's title and description (wrapped to the world view), faded to
        ``alpha`` (0..1). The card is composed once per scenario and size, and faded as a
        whole (about 0.5 ms a frame less than composing it at every frame of the fade)."""
        wr = lay.world
        key = (sim.scenario.title, sim.scenario.description, wr.size, lay.px(34))
        if self._card is None or self._card[0] != key:
            self._card = (key, *self._compose_card(lay, sim))
        _, card, texts = self._card
        at = card.get_rect(midtop=(wr.centerx, wr.top + lay.px(70)))
        T = self.text
        T.area, T.layer = wr, "card"
        for r, text in texts:
            T.record(r.move(at.topleft), text)
        card.set_alpha(round(255 * max(0.0, min(alpha, 1.0))))
        surf.blit(card, at)
        T.layer = "frame"

    def _compose_card(self, lay: Layout, sim) -> tuple[pygame.Surface, list]:
        """The title card at full strength (the shade at opacity 225, the text opaque), and
        (rectangle in the card, text) of its lines."""
        T = self.text
        wr = lay.world
        room = wr.w - lay.px(60)
        title, s1 = T.wrap_fit(sim.scenario.title, lay.px(34), room, 1, True, lay.px(16))
        desc, s2 = T.wrap_fit(sim.scenario.description or "", lay.px(17), room, 3, False,
                              max(8, lay.px(11)))
        foot = "ionpump: agent-based Na⁺/K⁺ pump simulation"
        rows = ([(s, s1, WHITE, True) for s in title] + [(s, s2, (225, 230, 240), False)
                                                         for s in desc]
                + [(foot, T.fit(foot, lay.px(13), room), (180, 190, 205), False)])
        imgs = [(T.render(s, fs, col, b), s) for s, fs, col, b in rows]
        w = min(max(i.get_width() for i, _ in imgs) + lay.px(60), wr.w)
        h = sum(i.get_height() + lay.px(8) for i, _ in imgs) + lay.px(34)
        card = pygame.Surface((w, h), pygame.SRCALPHA)
        card.fill((*SHADE, 225))
        texts = []
        y = lay.px(16)
        for img, text in imgs:
            r = img.get_rect(midtop=(w // 2, y))
            card.blit(img, r)
            texts.append((r, text))
            y += img.get_height() + lay.px(8)
        return card, texts

    def _help_rows(self, lay: Layout, lines, tips, fs: int, w: int):
        """The help's rows at font size ``fs`` in a box ``w`` px wide: (text, x offset, y
        offset, colour, bold) each, and the height they take."""
        T = self.text
        lh = round(fs * 1.4)
        pad = lay.px(20)
        kx = pad
        dx = kx + max(T.width(k, fs, True) for k, _ in lines) + pad if lines else kx
        rows, y = [("Controls (H or ? closes this)", w // 2, pad // 2, WHITE, True)], pad // 2
        y += round(lh * 1.3)
        for key, desc in lines:
            for k, part in enumerate(T.wrap(desc, fs, w - dx - pad)):
                if k == 0:
                    rows.append((key, kx, y, CLOCK, True))
                rows.append((part, dx, y, WHITE, False))
                y += lh
        if tips:
            y += lh // 3
            rows.append(("Things to try", kx, y, FOLLOW, True))
            y += lh
            for tip in tips:
                for k, part in enumerate(T.wrap(tip, fs, w - kx - pad - fs)):
                    rows.append((("• " if k == 0 else "") + part, kx + (0 if k == 0 else fs),
                                 y, WHITE, False))
                    y += lh
        return rows, y + pad // 2

    def help(self, surf, lay: Layout, lines: list[tuple[str, str]],
             tips: list[str] = ()) -> None:
        """The controls, (key, what it does) per line, and the scenario's things to try
        (``tips``), in a box in the middle; the font shrinks until it all fits."""
        W, H = lay.size
        T = self.text
        w = min(W - lay.px(24), lay.px(900))
        fs = lay.px(16)
        rows, h = self._help_rows(lay, lines, tips, fs, w)
        while h > H - lay.px(16) and fs > 7:
            fs -= 1
            rows, h = self._help_rows(lay, lines, tips, fs, w)
        box = pygame.Rect(0, 0, w, min(h, H))
        box.center = (W // 2, H // 2)
        shade = pygame.Surface(box.size, pygame.SRCALPHA)
        shade.fill((*SHADE, 240))
        surf.blit(shade, box)
        pygame.draw.rect(surf, FOLLOW, box, 2)
        T.area, T.layer = box, "help"
        for text, x, y, col, bold in rows:
            anchor = "midtop" if y == rows[0][2] and x == w // 2 else "topleft"
            T.blit(surf, text, (box.left + x, box.top + y), fs, col, bold, anchor)
        T.layer = "frame"
