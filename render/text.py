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
    """Font and rendered-text caches (DejaVu Sans, bundled, so pixels match everywhere).

    Every string drawn is recorded in :attr:`drawn` as (rectangle, area, layer, string):
    ``area`` is
    the rectangle it must stay inside (set by the part drawing it through :attr:`area`) and
    ``layer`` says what it belongs to (``"frame"``, or ``"help"`` for the help drawn over
    everything). The scene clears the record at each frame; tests check that no string is
    cut by its area or overlaps another of its layer.
    """

    def __init__(self):
        if not pygame.font.get_init():
            pygame.font.init()
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._cache: dict[tuple, pygame.Surface] = {}
        self._sizes: dict[tuple, tuple[int, int]] = {}
        self.drawn: list[tuple[pygame.Rect, pygame.Rect | None, str, str]] = []
        self.area: pygame.Rect | None = None
        self.layer = "frame"

    def record(self, rect: pygame.Rect, text: str) -> None:
        """Note that ``text`` was drawn in ``rect`` (see :attr:`drawn`)."""
        self.drawn.append((pygame.Rect(rect), self.area and pygame.Rect(self.area), self.layer,
                           text))

    def size(self, text: str, size: int, bold: bool = False) -> tuple[int, int]:
        """(width, height) px of ``text`` at ``size`` px (cached like :meth:`render`: the
        captions are measured word by word at every frame)."""
        key = (text, int(size), bool(bold))
        wh = self._sizes.get(key)
        if wh is None:
            if len(self._sizes) > 20000:
                self._sizes.clear()
            wh = self._sizes[key] = self.font(size, bold).size(text)
        return wh

    def width(self, text: str, size: int, bold: bool = False) -> int:
        """Width (px) of ``text`` at ``size`` px."""
        return self.size(text, size, bold)[0]

    def fit(self, text: str, size: int, width: float, bold: bool = False,
            smallest: int = 8) -> int:
        """The largest font size from ``size`` down to ``smallest`` at which ``text`` is at
        most ``width`` px wide (``smallest`` if none)."""
        size = int(size)
        while size > smallest and self.width(text, size, bold) > width:
            size -= 1
        return size

    def wrap(self, text: str, size: int, width: float, bold: bool = False) -> list[str]:
        """``text`` broken at spaces into lines at most ``width`` px wide at ``size`` px (a
        single word wider than that stays on its own line)."""
        lines: list[str] = []
        for word in text.split(" "):
            if lines and self.width(lines[-1] + " " + word, size, bold) <= width:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines or [""]

    def wrap_fit(self, text: str, size: int, width: float, max_lines: int = 2,
                 bold: bool = False, smallest: int = 8) -> tuple[list[str], int]:
        """Wrap ``text`` into at most ``max_lines`` lines of ``width`` px, shrinking the font
        from ``size`` down to ``smallest`` as needed; returns (lines, size)."""
        size = int(size)
        while True:
            lines = self.wrap(text, size, width, bold)
            fits = len(lines) <= max_lines and all(self.width(s, size, bold) <= width
                                                   for s in lines)
            if fits or size <= smallest:
                return lines, size
            size -= 1

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
        self.record(r, text)
        return r

    def label_rect(self, text, pos, size, anchor) -> pygame.Rect:
        """The box :meth:`label` would draw for ``text`` with its ``anchor`` point at ``pos``."""
        w, h = self.size(text, size, True)
        rect = pygame.Rect(0, 0, w, h)
        setattr(rect, anchor, (round(pos[0]), round(pos[1])))
        return rect.inflate(round(size * 0.6), round(size * 0.25))

    def label(self, surf, text, pos, size, color, anchor) -> pygame.Rect:
        """Bold ``text`` on a white rounded box, its ``anchor`` point at ``pos`` (px);
        returns the box."""
        img = self.render(text, size, color, True)
        box = self.label_rect(text, pos, size, anchor)
        pygame.draw.rect(surf, WHITE, box, border_radius=round(size * 0.3))
        surf.blit(img, img.get_rect(center=box.center))
        self.record(box, text)
        return box


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
