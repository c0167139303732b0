"""The side panel: concentrations and readouts (with the pump's energetics where the scenario
is about them), the phase and conditions, the pump-state occupancy bar and its key, two live
charts, the followed pump's state history, and the window's buttons.

Numbers come from the last recorded row of the results table (counting every frame would
cost more than drawing), so the panel shows what the table holds.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from particles.layout import ChannelType, PumpState

from .layout import Layout
from .pores import KINDS, STATE_NAMES, PoreState, draw_pore
from .raster import K_RGB, NA_RGB
from .pumps import draw_reverse_arrow
from .readouts import (TURNOVER_MS, SpikeHeights, about_energetics, conditions, current_lines,
                       energetics_lines, spike_in_view, turnover)
from .style import (FOLLOW, GRID, K_LABEL, NA_LABEL, PANEL_BG, PANEL_DIM, PANEL_FG,
                    TRACER_LINE, V_LINE, WHITE, PUMP_STYLES, pump_style)
from .text import Text, fmt_num, fmt_time

WARN = (160, 60, 0)          # phase and conditions
EDGE = (150, 150, 160)       # outline of the occupancy bar and the history strip
SEPARATOR = (200, 203, 210)
HISTORY_S = 10.0             # playback seconds shown by the history strip
PORE_ICON = (160, 160, 168)  # the gating-state icons of the key: shape, not colour
V_SPIKE_RANGE = (-90.0, 50.0)  # mV the V chart always spans around a spike
V_MIN_SPAN_MV = 2.0  # the V chart spans at least this: a steady V is drawn flat, labelled
STIM_SHADE = (255, 236, 170)   # where the stimulus is on, behind the V trace


def chart_rows(lay: Layout, rect) -> int:
    """How many of the last rows a chart in ``rect`` shows (one per px of its plot)."""
    return max(rect.w - lay.px(40), 2)


def _swatch(surf, box, color, outlined: bool = False) -> None:
    """A square of ``color`` in the key, outlined black for a voltage-gated pore."""
    pygame.draw.rect(surf, color, box)
    pygame.draw.rect(surf, (0, 0, 0) if outlined else EDGE, box, 1)


def _has_tracer(row: dict) -> bool:
    return bool(row.get("tracer_in", 0) or row.get("tracer_efflux", 0))


def _held(sim) -> bool:
    """Both sides' concentrations are held (a perfused bath and internal dialysis)."""
    v = sim.scenario.values
    return bool(v["bath.clamped"] and v["dialysis.clamped"])


class Panel:
    """Draws the side panel of a simulation (reads the simulation only)."""

    def __init__(self, text: Text):
        self.text = text
        self.spike_heights = SpikeHeights()

    def draw(self, surf, lay: Layout, sim, follow: int, history: list[tuple[float, int]],
             ui=None) -> None:
        """The panel in ``lay.side``.

        Args:
            surf: the frame's surface.
            lay: the window's layout.
            sim: the simulation (read only).
            follow: index of the followed pump (-1: none).
            history: (time_ms, state) changes of the followed pump.
            ui: the window's :class:`~render.scene.UI` (buttons), or None.
        """
        P = lay.side
        self.text.area = P
        surf.fill(PANEL_BG, P)
        pygame.draw.line(surf, SEPARATOR, P.topleft, P.bottomleft, 1)
        pad = lay.px(12)
        x0, x1 = P.left + pad, P.right - pad
        fs = lay.px(15)
        row = sim.recorder.rows[-1] if sim.recorder.rows else sim.counts()
        y = self._numbers(surf, lay, sim, row, P.top + pad)
        self._occupancy_bar(surf, sim, pygame.Rect(x0, y, x1 - x0, lay.px(10)))
        y = self._key(surf, lay, sim, x0, x1, y + lay.px(10) + lay.px(4)) + round(fs * 0.4)
        buttons = ui is not None and ui.buttons
        m = len(sim.pumps)
        follow_h = round(fs * 4.4) if 0 <= follow < m else 0
        avail = P.bottom - pad - (ui.buttons_height if buttons else 0) - follow_h - y
        v_share = 0.6 if np.any(sim.channels.type == ChannelType.NAV) else 0.5  # spikes
        ch = max(int((avail - fs) * v_share), lay.px(40))
        ch2 = max(int(avail - fs) - ch, lay.px(40))
        rows = sim.recorder.rows
        if avail > lay.px(90):
            chart = pygame.Rect(x0, y, x1 - x0, ch - round(fs * 0.6))
            recent = rows[-chart_rows(lay, chart):]
            n = sim.spikes if np.any(sim.channels.type == ChannelType.NAV) else 0
            title = "Membrane potential (mV)" + (f" · {n:,} spike{'' if n == 1 else 's'}"
                                                 if n else "")
            draw_chart(surf, self.text, lay, chart, rows, [("v_mV", V_LINE, "V")], title,
                       floor=None,
                       include=V_SPIKE_RANGE if spike_in_view(recent, sim.v_mV) else None,
                       marks=(0.0,), shade=("i_stim_uA_cm2", STIM_SHADE, "stimulus"),
                       min_span=V_MIN_SPAN_MV)
            y += ch
            chart = pygame.Rect(x0, y, x1 - x0, ch2 - round(fs * 0.6))
            if _has_tracer(row):
                draw_chart(surf, self.text, lay, chart, efflux_rate(rows),
                           [("efflux_per_ms", TRACER_LINE, "²⁴Na⁺ out")],
                           "²⁴Na⁺ efflux (ions/ms, log scale)", log=True)
            elif _held(sim) and about_energetics(sim):  # flat concentrations: the cycles
                draw_chart(surf, self.text, lay, chart, rows,
                           [("cycles", FOLLOW, "net cycles")],
                           "Net pump cycles (down: backwards)", floor=None, whole=True)
            else:
                draw_chart(surf, self.text, lay, chart, rows,
                           [("na_in_mM", NA_RGB, "Na⁺ in"), ("k_out_mM", K_RGB, "K⁺ out")],
                           "Concentration (mM)", whole=True)
            y += ch2
        if follow_h:
            self._follow_box(surf, lay, sim, follow, history,
                             pygame.Rect(x0, y, x1 - x0, follow_h - round(fs * 0.4)))
        if buttons:
            self._buttons(surf, lay, ui.buttons)

    def _numbers(self, surf, lay: Layout, sim, row: dict, y: int) -> int:
        """Concentrations, readouts, phase and conditions from ``y`` down; returns the y
        where the occupancy bar goes."""
        T = self.text
        P = lay.side
        pad = lay.px(12)
        x0, x1 = P.left + pad, P.right - pad
        fs = lay.px(15)
        small = lay.px(12.5)
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
        rate = turnover(sim)
        m = len(sim.pumps)
        energetics = about_energetics(sim)
        lines = [("ATP", f"{row['atp_mM']:.2f} mM"),
                 ("Membrane potential", f"{row['v_mV']:+.1f} mV"),
                 (f"{'Net pump' if energetics else 'Pump'} cycles "
                  f"({m} pump{'' if m == 1 else 's'})", f"{row['cycles']:,}"),
                 (f"Turnover, last {TURNOVER_MS:g} ms",
                  f"{rate:.0f} /pump/s" if rate == rate else "–")]
        if energetics:
            lines += energetics_lines(row)
        self.spike_heights.update(sim.recorder.rows)
        lines += current_lines(sim, self.spike_heights)
        if _has_tracer(row):
            n = int(row["tracer_efflux"])
            lines.append(("²⁴Na⁺ efflux", f"{n:,} ion{'' if n == 1 else 's'}"))
        for k, v in lines:
            T.blit(surf, k, (x0, y), fs, PANEL_DIM)
            if T.width(k, fs) + T.width(v, fs, True) + fs > x1 - x0:  # the value below
                y += round(fs * 1.25)
            T.blit(surf, v, (x1, y), fs, PANEL_FG, True, "topright")
            y += round(fs * 1.4)
        T.blit(surf, "Phase", (x0, y), fs, PANEL_DIM)
        T.blit(surf, str(sim.phase), (x1, y), fs, WARN, True, "topright")
        y += round(fs * 1.4)
        flags = conditions(sim)
        if flags:
            T.blit(surf, " · ".join(flags), (x1, y), small, WARN, False, "topright")
            y += round(small * 1.5)
        return y + round(fs * 0.2)

    def _key(self, surf, lay: Layout, sim, x0: int, x1: int, y: int) -> int:
        """The colours of the pump states (as in the occupancy bar and the state history)
        and, when the scenario has pores, the pores' colours and, with voltage-gated pores,
        the shapes of their states (:mod:`render.pores`); from ``y`` down, wrapped between
        ``x0`` and ``x1``. Returns the y below the key."""
        T = self.text
        fs = lay.px(10)
        sw = round(fs * 0.8)
        gap = lay.px(8)
        lh = round(fs * 1.45)
        items = [(sw, lambda box, c=st.color: _swatch(surf, box, c), st.name)
                 for st in PUMP_STYLES.values()]
        kinds = set(int(t) for t in sim.channels.type)
        items += [(sw, lambda box, c=col, g=gated: _swatch(surf, box, c, g), name)
                  for code, (col, gated, name) in enumerate(KINDS) if code in kinds]
        shown = [st for st, _ in STATE_NAMES
                 if st != PoreState.INACTIVATED or ChannelType.NAV in kinds]
        iw = round(sw * 1.9)
        if kinds & {ChannelType.NAV, ChannelType.KV}:
            items += [(iw, lambda box, s=st: draw_pore(surf, box, PORE_ICON, True, s), name)
                      for st, name in STATE_NAMES if st in shown]
        if about_energetics(sim):
            items.append((iw, lambda box: draw_reverse_arrow(surf, box), "backward cycle"))
        x = x0
        for w_icon, draw, name in items:
            w = w_icon + lay.px(3) + T.width(name, fs)
            if x > x0 and x + w > x1:
                x, y = x0, y + lh
            box = pygame.Rect(x + (w_icon - sw) // 4, y + (lh - sw) // 2 - 1,
                              w_icon - (w_icon - sw) // 4, sw)
            draw(box)
            x = T.blit(surf, name, (x + w_icon + lay.px(3), y), fs, PANEL_DIM).right + gap
        return y + lh

    @staticmethod
    def _occupancy_bar(surf, sim, rect) -> None:
        """How many pumps are in each state: one bar split in the states' colours."""
        st = sim.pumps.state
        m = len(st)
        if m == 0:
            return
        occ = np.bincount(st, minlength=len(PumpState))
        x = rect.left
        for s in PumpState:
            w = rect.w * occ[s] / m
            if w > 0:
                pygame.draw.rect(surf, PUMP_STYLES[s].color,
                                 pygame.Rect(round(x), rect.top, math.ceil(w), rect.h))
            x += w
        pygame.draw.rect(surf, EDGE, rect, 1)

    def _follow_box(self, surf, lay: Layout, sim, f: int, history, rect) -> None:
        """The followed pump: number, state and cycles, and a strip of its recent states."""
        T = self.text
        p = sim.pumps
        fs = lay.px(13)
        T.blit(surf, f"Followed pump #{f + 1}", (rect.left, rect.top), fs, FOLLOW, True)
        nc = int(p.cycles[f])
        T.blit(surf, f"{pump_style(p.state[f]).name} · {nc} cycle{'' if nc == 1 else 's'}",
               (rect.right, rect.top), fs, PANEL_FG, True, "topright")
        strip = pygame.Rect(rect.left, rect.top + round(fs * 1.6), rect.w, round(fs * 1.3))
        span = HISTORY_S * sim.scenario.values["render.ms_per_second"]
        t1 = sim.time_ms
        t0 = t1 - span
        pygame.draw.rect(surf, WHITE, strip)
        for k, (ts, s) in enumerate(history):
            te = history[k + 1][0] if k + 1 < len(history) else t1
            if te < t0:
                continue
            a = strip.left + (max(ts, t0) - t0) / span * strip.w
            b = strip.left + (te - t0) / span * strip.w
            pygame.draw.rect(surf, pump_style(s).color,
                             pygame.Rect(round(a), strip.top, max(1, math.ceil(b - a)), strip.h))
        pygame.draw.rect(surf, EDGE, strip, 1)
        T.blit(surf, f"state history, last {fmt_time(span)}", (rect.left, strip.bottom + 2),
               lay.px(10), PANEL_DIM)

    def _buttons(self, surf, lay: Layout, buttons) -> None:
        """The window's buttons: (label, rect, active, enabled) each."""
        fs = lay.px(12)
        radius = lay.px(5)
        for label, rect, active, enabled in buttons:
            fill = (255, 214, 150) if active else ((232, 234, 240) if enabled else (240, 240, 240))
            pygame.draw.rect(surf, fill, rect, border_radius=radius)
            pygame.draw.rect(surf, (150, 155, 165) if enabled else (210, 210, 215), rect, 1,
                             border_radius=radius)
            self.text.blit(surf, label, rect.center, fs,
                           PANEL_FG if enabled else (175, 175, 180), active, "center")


def efflux_rate(rows: list[dict], bins: int = 40) -> list[dict]:
    """The tracer efflux rate over the run so far, in at most ``bins`` bins of equal numbers
    of rows: one row per bin with ``time_ms`` (its middle) and ``efflux_per_ms`` (labelled
    Na⁺ released per simulated ms; NaN where none left, which a log axis cannot show)."""
    if len(rows) < 2:
        return []
    t = np.array([r["time_ms"] for r in rows], float)
    e = np.array([r["tracer_efflux"] for r in rows], float)
    edges = np.unique(np.linspace(0, len(rows) - 1, min(bins, len(rows) - 1) + 1).astype(int))
    a, b = edges[:-1], edges[1:]
    rate = (e[b] - e[a]) / (t[b] - t[a])
    return [{"time_ms": float((t[i] + t[j]) / 2), "efflux_per_ms": float(r) if r > 0
             else math.nan} for i, j, r in zip(a, b, rate)]


def draw_chart(surf, text: Text, lay: Layout, rect, rows: list[dict], series, title: str,
               floor: float | None = 0.0, log: bool = False,
               include: tuple[float, float] | None = None, marks: tuple[float, ...] = (),
               shade: tuple[str, tuple, str] | None = None, whole: bool = False,
               min_span: float = 0.0) -> None:
    """A live line chart of the recent ``rows`` (as many as the plot is px wide), or of the
    whole run (``whole``: rows evenly spread from the first to the last, one per px).

    Args:
        surf: the surface to draw on.
        text: the font cache.
        lay: the window's layout (sizes).
        rect: the chart's rectangle: title line, plot, time axis.
        rows: the results table so far, one dict per row (``time_ms`` and the series' keys).
        series: (column, colour, name) per line; names are shown when there are several.
        title: drawn above the plot.
        floor: the axis never goes below this (0: a count or a concentration); None: free.
        log: a log axis (values <= 0 or NaN are left out).
        include: (low, high) the axis spans at least (then exactly, when the data lie
            inside), or None: the data's range.
        marks: values drawn as a labelled line across the plot when in range (e.g. 0 mV).
        shade: (column, colour, name): the plot's background shaded where that column is not
            0 (e.g. while a stimulus is on), named in the title line; None: no shading.
        min_span: the value axis spans at least this (in the series' unit), centred on the
            data, so a steady line is drawn flat with distinct labels instead of its noise
            blown up to the plot's height.
    """
    fs = lay.px(12)
    text.blit(surf, title, (rect.left, rect.top), fs, PANEL_FG, True)
    x = rect.right
    for key, col, name in reversed(series):
        if len(series) > 1:
            r = text.blit(surf, name, (x, rect.top), fs, col, True, "topright")
            x = r.left - lay.px(8)
    plot = pygame.Rect(rect.left + lay.px(40), rect.top + round(fs * 1.5),
                       rect.w - lay.px(40), rect.h - round(fs * 1.5) - round(fs * 1.3))
    if plot.h < 10 or plot.w < 20:
        return
    pygame.draw.rect(surf, WHITE, plot)
    k = min(len(rows), max(plot.w, 2))
    if k < 2:
        pygame.draw.rect(surf, GRID, plot, 1)
        return
    recent = rows[-k:] if not whole else [rows[i] for i in np.unique(
        np.linspace(0, len(rows) - 1, k).astype(int))]
    t = np.array([r["time_ms"] for r in recent], float)
    t0, t1 = t[0], t[-1] if t[-1] > t[0] else t[0] + 1
    X = plot.left + (t - t0) / (t1 - t0) * (plot.w - 1)
    if shade is not None:
        on = np.array([r[shade[0]] != 0 for r in recent])
        _shade(surf, plot, X, on, shade[1])
        if on.any():
            r = text.blit(surf, shade[2], (x, rect.top), fs, _darker(shade[1]), True,
                          "topright")
            sw = round(fs * 0.8)
            box = pygame.Rect(r.left - sw - lay.px(3), r.centery - sw // 2, sw, sw)
            pygame.draw.rect(surf, shade[1], box)
            pygame.draw.rect(surf, _darker(shade[1]), box, 1)
    pygame.draw.rect(surf, GRID, plot, 1)
    ys = [np.array([r[key] for r in recent], float) for key, _, _ in series]
    if log:
        ys = [np.log10(np.where(v > 0, v, np.nan)) for v in ys]
        floor = None
    if all(np.isnan(v).all() for v in ys):
        return
    lo, hi = _axis_range(ys, floor, include, min_span)
    _axis_labels(surf, text, lay, plot, lo, hi, log, marks)
    text.blit(surf, fmt_time(t0), (plot.left, plot.bottom + 2), lay.px(10), PANEL_DIM)
    text.blit(surf, fmt_time(t[-1]), (plot.right, plot.bottom + 2), lay.px(10), PANEL_DIM,
              anchor="topright")
    for v, (_, col, _) in zip(ys, series):
        Y = plot.bottom - 1 - (v - lo) / (hi - lo) * (plot.h - 2)
        pts = np.stack([X, Y], axis=1)[np.isfinite(v)]
        if len(pts) >= 2:
            pygame.draw.lines(surf, col, False, pts.tolist(), max(1, lay.px(2)))


def _darker(color) -> tuple:
    return tuple(int(c * 0.55) for c in color)


def _shade(surf, plot, X: np.ndarray, on: np.ndarray, color) -> None:
    """Shade the plot's columns from each x in ``X`` (px) to the next where ``on``."""
    edges = np.append(X, plot.right)
    for a, b in zip(edges[:-1][on], edges[1:][on]):
        pygame.draw.rect(surf, color, pygame.Rect(round(a), plot.top + 1,
                                                  max(1, math.ceil(b - a)), plot.h - 2))


def _axis_range(ys: list[np.ndarray], floor: float | None,
                include: tuple[float, float] | None,
                min_span: float = 0.0) -> tuple[float, float]:
    """The value axis's (low, high) for the series ``ys``: their range with 8 % margins,
    at least ``min_span`` wide (centred on the data), not below ``floor``, and spanning
    ``include`` (exactly, if the data lie inside it)."""
    lo = min(float(np.nanmin(v)) for v in ys)
    hi = max(float(np.nanmax(v)) for v in ys)
    if include is not None and include[0] <= lo and hi <= include[1]:
        return include
    span = hi - lo
    if span < 1e-9:
        span = max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - 0.08 * span, hi + 0.08 * span
    if hi - lo < min_span:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 0.5 * min_span, mid + 0.5 * min_span
    if include is not None:
        lo, hi = min(lo, include[0]), max(hi, include[1])
    if floor is not None:
        lo = max(lo, floor)
    return lo, hi


def _axis_labels(surf, text: Text, lay: Layout, plot, lo: float, hi: float, log: bool,
                 marks: tuple[float, ...]) -> None:
    """The value axis: labels at the bottom, middle and top, a grid line in the middle, and
    each of ``marks`` in range as a darker labelled line (the middle label yields to a mark
    it would touch, and the plot too short for three)."""
    fs = lay.px(10)
    ticks = [(0.0, "bottomright"), (0.5, "midright"), (1.0, "topright")]
    shown = {m: (m - lo) / (hi - lo) for m in marks if lo < m < hi}
    near = 1.2 * text.font(fs).get_linesize() / plot.h
    for frac, anchor in ticks:
        if frac == 0.5 and (near > 0.4 or any(abs(frac - f) < near for f in shown.values())):
            continue  # no room, or a mark there
        val = lo + frac * (hi - lo)
        yy = plot.bottom - frac * plot.h
        if 0 < frac < 1:
            pygame.draw.line(surf, GRID, (plot.left, yy), (plot.right, yy), 1)
        text.blit(surf, fmt_num(10 ** val if log else val), (plot.left - lay.px(4), yy), fs,
                  PANEL_DIM, anchor=anchor)
    for m, frac in shown.items():
        if min(frac, 1 - frac) < near / 2:
            continue  # on an end label
        yy = plot.bottom - frac * plot.h
        pygame.draw.line(surf, EDGE, (plot.left, yy), (plot.right, yy), 1)
        text.blit(surf, f"{m:g}", (plot.left - lay.px(4), yy), fs,
                  PANEL_DIM, anchor="midright")
