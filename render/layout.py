"""Where things go on the screen: the window's rectangles, the camera, and the projection of
the box (µm) onto the world view (px) for one frame.

Layout (all sizes scale with the window, 1024x640 .. 4K): a top bar (title, clock, phase,
speed), the world view (the box, fitted, with zoom and pan), a legend bar below it and a side
panel on the right (numbers, live charts, the followed pump, buttons).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame


@dataclass
class Layout:
    """Screen rectangles for a window of ``size`` (W, H) pixels.

    Attributes:
        size: (W, H) px.
        panel: whether the side panel is shown (never below 640x300 px).
        u: the scale of this window against 1280x720 (0.5 .. 3).
        top, world, legend, side: the top bar, the world view, the legend bar and the side
            panel (zero width without the panel).
    """

    size: tuple[int, int]
    panel: bool = True
    u: float = 1.0
    top: pygame.Rect = field(default_factory=pygame.Rect)
    world: pygame.Rect = field(default_factory=pygame.Rect)
    legend: pygame.Rect = field(default_factory=pygame.Rect)
    side: pygame.Rect = field(default_factory=pygame.Rect)

    @classmethod
    def for_size(cls, size: tuple[int, int], panel: bool = True) -> "Layout":
        """The layout of a window of ``size`` (W, H) px, with the panel if wanted and room."""
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


@dataclass(frozen=True)
class Projection:
    """The box seen through the camera in one frame: µm -> px, and the drawn membrane.

    Attributes:
        transform: (x0, y0, scale, ox, oy) as :meth:`View.transform` gives it.
        scale: px per µm.
        ox, oy: screen position (px) of the box's corner (x = 0, y = 0).
        membrane_x: screen x (px) of the membrane's mid-plane.
        band: (left, right) screen x (px) of the drawn membrane band (at least 16 px wide at
            1280x720 and zoom 1, wider when zoomed in, so the membrane stays visible).
        face: a pump's face height on screen (px).
        half_width: half the width of a drawn pump (px): a little wider than the band.
    """

    transform: tuple[float, float, float, float, float]
    scale: float
    ox: float
    oy: float
    membrane_x: float
    band: tuple[float, float]
    face: float
    half_width: float

    @classmethod
    def of(cls, lay: Layout, view: View, geom) -> "Projection":
        """The projection of the box ``geom`` (:class:`particles.state.Geometry`)."""
        tr = view.transform(lay, geom)
        _, _, s, ox, oy = tr
        cx = ox + geom.membrane_x_um * s
        half = max(geom.membrane_thickness_um * s / 2, lay.px(8) * min(view.zoom, 3))
        band = (cx - half, cx + half)
        face = geom.pump_face_um * s
        half_width = max((band[1] - band[0]) / 2 * 1.25, 0.30 * face)
        return cls(tr, s, ox, oy, cx, band, face, half_width)

    def to_screen(self, x_um: float, y_um: float) -> tuple[float, float]:
        """Screen position (px) of the box point (``x_um``, ``y_um``)."""
        return self.ox + x_um * self.scale, self.oy + y_um * self.scale

    def to_world(self, pos) -> tuple[float, float]:
        """Box position (µm) of the screen point ``pos`` (px)."""
        return (pos[0] - self.ox) / self.scale, (pos[1] - self.oy) / self.scale

    def pump_y(self, y_um: float) -> float:
        """Screen y (px) of a pump centred at ``y_um`` along the membrane."""
        return self.oy + y_um * self.scale
