"""Text for the drawings: the bundled fonts, a cache of rendered strings, number formats.

DejaVu Sans ships in ``render/fonts`` so that text is drawn with the same pixels on every
machine (the golden images depend on it).
"""

from __future__ import annotations

from pathlib import Path

import pygame

from .style import WHITE

FONT_DIR = Path(__file__).resolve().parent / "fonts"


class Text:
    """Font and rendered-text caches (DejaVu Sans, bundled, so pixels match everywhere)."""

    def __init__(self):
        if not pygame.font.get_init():
            pygame.font.init()
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._cache: dict[tuple, pygame.Surface] = {}

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        """The font of ``size`` px (at least 6), regular or bold."""
        key = (max(int(size), 6), bool(bold))
        f = self._fonts.get(key)
        if f is None:
            path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
            f = pygame.font.Font(str(path) if path.exists() else None, key[0])
            self._fonts[key] = f
        return f

    def render(self, text: str, size: int, color, bold: bool = False) -> pygame.Surface:
        """``text`` rendered anti-aliased in ``color`` (cached; the cache is cleared when it
        holds more than 2000 strings)."""
        key = (text, int(size), bool(bold), tuple(color))
        s = self._cache.get(key)
        if s is None:
            if len(self._cache) > 2000:
                self._cache.clear()
            s = self.font(size, bold).render(text, True, color)
            self._cache[key] = s
        return s

    def blit(self, surf, text, pos, size, color, bold=False, anchor="topleft") -> pygame.Rect:
        """Draw ``text`` on ``surf`` with its ``anchor`` point (a pygame Rect attribute name)
        at ``pos`` (px); returns the rectangle drawn."""
        img = self.render(text, size, color, bold)
        r = img.get_rect(**{anchor: (int(pos[0]), int(pos[1]))})
        surf.blit(img, r)
        return r

    def label(self, surf, text, pos, size, color, anchor) -> None:
        """Bold ``text`` on a white rounded box, its ``anchor`` point at ``pos`` (px)."""
        img = self.render(text, size, color, True)
        rect = img.get_rect(**{anchor: (round(pos[0]), round(pos[1]))})
        box = rect.inflate(size * 0.6, size * 0.25)
        pygame.draw.rect(surf, WHITE, box, border_radius=round(size * 0.3))
        surf.blit(img, rect)


def fmt_time(ms: float) -> str:
    """A simulated time (ms) in µs, ms or s, with 3 to 4 significant digits."""
    if abs(ms) < 1:
        return f"{ms * 1000:.0f} µs" if ms else "0 ms"
    if abs(ms) < 1000:
        return f"{ms:.2f} ms" if abs(ms) < 100 else f"{ms:.1f} ms"
    return f"{ms / 1000:.3f} s"


def fmt_num(v: float) -> str:
    """An axis label: 0, 1 or 2 decimals depending on the magnitude of ``v``."""
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"
