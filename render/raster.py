"""Numba splatting of ions into an RGB image (headless, fast, testable).

The image is a C-contiguous ``(H, W, 3)`` uint8 array, row-major like a video frame, so the
same buffer feeds the window (``pygame.image.frombuffer``) and the encoder (rgb24). Ions are
stamped as anti-aliased discs; a tracer-labelled Na+ is dark with a vermillion ring. Ions in
the reservoir (``Side.RESERVOIR``) are not in the world and are never drawn; bound ions are drawn
on their pump's sites (:mod:`render.pumps`), so they are skipped here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from particles.jit import JIT
from particles.layout import Side, Species
from particles.palette import K_RGB, NA_RGB, TRACER_RGB  # Okabe-Ito; 24Na+: a dark core ...

RING_RGB = NA_RGB            # ... in a vermillion ring (Na+ all the same)

_RESERVOIR = int(Side.RESERVOIR)   # plain ints: compile-time constants in the kernel
_K = int(Species.K)


def disc_stamp(radius: float, ring: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Coverage masks of a disc of ``radius`` px: (fill alpha, ring alpha), each
    ``(2R+1, 2R+1)`` float32 in 0..1 with R = ceil(radius). ``ring`` is the width (px) of an
    outline drawn inside the edge (0: none)."""
    R = int(np.ceil(radius))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    # 4x4 supersampling for smooth edges at small radii
    sub = (np.arange(4) + 0.5) / 4 - 0.5
    d = np.sqrt((xx[..., None, None] + sub[None, None, :, None]) ** 2
                + (yy[..., None, None] + sub[None, None, None, :]) ** 2)
    outer = (d <= radius).mean(axis=(2, 3)).astype(np.float32)
    if ring > 0:
        inner = (d <= max(radius - ring, 0.0)).mean(axis=(2, 3)).astype(np.float32)
    else:
        inner = outer
    return inner, (outer - inner).astype(np.float32)


def _sparse(mask: np.ndarray) -> np.ndarray:
    """Nonzero entries of a square coverage mask as rows (dy, dx, alpha 1..256) int32."""
    R = mask.shape[0] // 2
    dy, dx = np.nonzero(mask > 1.0 / 512)
    a = np.round(mask[dy, dx] * 256).astype(np.int32)
    return np.stack([dy - R, dx - R, np.maximum(a, 1)], axis=1).astype(np.int32)


@njit(**JIT)
def _splat(img, x, y, species, side, bound, tracer, x0, y0, scale, ox, oy,
           cx0, cy0, cx1, cy1, fill, ring, R, colors, ring_rgb):
    """Stamp every free, in-world ion into ``img`` (H, W, 3) uint8, in index order.

    Screen position: ``px = ox + (x - x0) * scale``, ``py = oy + (y - y0) * scale``.
    Only pixels inside the clip rectangle [cx0, cx1) × [cy0, cy1) are written.
    ``colors`` is (3, 3) int: Na+, K+, tracer Na+. ``fill`` and ``ring`` are sparse stamps
    (rows dy, dx, alpha 1..256) of half-size ``R``; the ring is drawn on tracer ions only.
    Returns the count drawn."""
    n = x.shape[0]
    drawn = 0
    nf = fill.shape[0]
    nr = ring.shape[0]
    for i in range(n):
        if side[i] == _RESERVOIR or bound[i]:
            continue
        ix = int(np.floor(ox + (x[i] - x0) * scale + 0.5))
        iy = int(np.floor(oy + (y[i] - y0) * scale + 0.5))
        if ix + R < cx0 or ix - R >= cx1 or iy + R < cy0 or iy - R >= cy1:
            continue
        drawn += 1
        c = 0
        if species[i] == _K:
            c = 1
        elif tracer[i]:
            c = 2
        inside = ix - R >= cx0 and ix + R < cx1 and iy - R >= cy0 and iy + R < cy1
        for s in range(nf + (nr if c == 2 else 0)):
            if s < nf:
                yy = iy + fill[s, 0]
                xx = ix + fill[s, 1]
                a = fill[s, 2]
                cr = colors[c, 0]
                cg = colors[c, 1]
                cb = colors[c, 2]
            else:
                yy = iy + ring[s - nf, 0]
                xx = ix + ring[s - nf, 1]
                a = ring[s - nf, 2]
                cr = ring_rgb[0]
                cg = ring_rgb[1]
                cb = ring_rgb[2]
            if not inside and (yy < cy0 or yy >= cy1 or xx < cx0 or xx >= cx1):
                continue
            if a >= 256:
                img[yy, xx, 0] = cr
                img[yy, xx, 1] = cg
                img[yy, xx, 2] = cb
            else:
                r0 = np.int32(img[yy, xx, 0])
                g0 = np.int32(img[yy, xx, 1])
                b0 = np.int32(img[yy, xx, 2])
                img[yy, xx, 0] = r0 + ((a * (cr - r0) + 128) >> 8)
                img[yy, xx, 1] = g0 + ((a * (cg - g0) + 128) >> 8)
                img[yy, xx, 2] = b0 + ((a * (cb - b0) + 128) >> 8)
    return drawn


class IonRaster:
    """Draws the free ions of a simulation into an RGB image; keeps its stamps cached.

    Reads ``ions`` only (never writes them)."""

    def __init__(self):
        self._key = None
        self._fill = self._ring = None
        self.colors = np.array([NA_RGB, K_RGB, TRACER_RGB], np.int32)
        self.ring_rgb = np.array(RING_RGB, np.int32)

    def stamps(self, radius: float):
        key = round(float(radius), 2)
        if key != self._key:
            ring = max(0.9, radius * 0.35) if radius >= 1.8 else 0.0
            fill, rim = disc_stamp(radius, ring)
            self._fill, self._ring = _sparse(fill), _sparse(rim)
            self._R = fill.shape[0] // 2
            self._key = key
        return self._fill, self._ring

    def draw(self, img: np.ndarray, ions, view, clip: tuple[int, int, int, int],
             radius: float) -> int:
        """Splat ``ions`` into ``img`` through ``view`` (x0, y0, scale, ox, oy); ``clip`` is
        (x0, y0, x1, y1) in pixels. Returns the number of ions drawn."""
        fill, ring = self.stamps(radius)
        x0, y0, scale, ox, oy = view
        return int(_splat(img, ions.x, ions.y, ions.species, ions.side, ions.bound,
                          ions.tracer, float(x0), float(y0), float(scale), float(ox),
                          float(oy), int(clip[0]), int(clip[1]), int(clip[2]), int(clip[3]),
                          fill, ring, self._R, self.colors, self.ring_rgb))
