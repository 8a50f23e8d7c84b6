"""The live app's overlays on the waterfall: the peak track (``p``) and the RMS envelope
(``e``), drawn by :class:`~livespec.tui.widgets.waterfall.WaterfallPart` from the cells
:mod:`livespec.render.overlay` computes. (The waveform strip needs the samples of every
column: the file browser has it.) UI thread.
"""

from __future__ import annotations

import math

import numpy as np
from rich.segment import Segment
from rich.style import Style

from livespec.render.overlay import PEAK_COLOR, RMS_COLOR, level_row, peak_freqs
from livespec.render.view import WaterfallView
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.waterfall import WaterfallPart

PEAK_SEG = Segment("•", Style(color=PEAK_COLOR, bold=True))
RMS_SEG = Segment("•", Style(color=RMS_COLOR, bold=True))


def live_cells(
    view: WaterfallView, hz: np.ndarray, rms: np.ndarray | None
) -> list[tuple[int, int, Segment]]:
    """Cells of the peak track (``hz`` per time pixel, newest first; NaN: none) and of the
    RMS envelope (``rms`` dBFS per time pixel, newest first, on the colour bar's axis) in
    either orientation."""
    out: list[tuple[int, int, Segment]] = []
    fm, w, h = view.fmap, view.width, view.height
    horizontal = view.orientation == "horizontal"
    half = (view.end // view.fpp) % 2 if not horizontal else 0
    for age, f in enumerate(hz.tolist()):
        if not math.isfinite(f):
            continue
        p = int(fm.pos_of(f))
        if not 0 <= p < fm.pixels:
            continue
        cell = (w - 1 - age, (fm.pixels - 1 - p) // 2) if horizontal else (p, (age + half) // 2)
        out.append((*cell, PEAK_SEG))
    if rms is not None:
        for age, v in enumerate(rms.tolist()):
            if horizontal:
                y = level_row(v, view.db_max, view.db_min, h)
                if y is not None:
                    out.append((w - 1 - age, y, RMS_SEG))
            else:
                r = level_row(v, view.db_max, view.db_min, w)
                if r is not None:
                    out.append((w - 1 - r, (age + half) // 2, RMS_SEG))
    return out


class LiveOverlays:
    """The peak track and RMS envelope of the live waterfall."""

    def __init__(self, view: WaterfallView, part: WaterfallPart, plot: Plot | None = None) -> None:
        self.view, self.part, self.plot = view, part, plot
        self.peak = False
        self.rms = False
        self._levels = np.full(view.history.capacity, np.nan, dtype=np.float32)
        self._key: object = None

    def frames(self, levels_dbfs: list[float]) -> None:
        """Keep the RMS of the frames just pushed into the view's history."""
        h = self.view.history
        if self._levels.shape[0] != h.capacity:
            self._levels = np.full(h.capacity, np.nan, dtype=np.float32)
        first = h.count - len(levels_dbfs)
        for i, v in enumerate(levels_dbfs):
            self._levels[(first + i) % h.capacity] = v

    def toggle(self, which: str) -> bool:
        """Turn ``peak`` or ``rms`` on or off; returns the new state. While one is on the
        plot is drawn by Textual, not written directly (the direct writer's record of the
        screen lost the glyphs in a real terminal: seen in tmux, not yet understood)."""
        setattr(self, which, not getattr(self, which))
        if self.plot is not None:
            self.plot.direct = not (self.peak or self.rms)
        self.update()
        return bool(getattr(self, which))

    def _rms_pixels(self) -> np.ndarray:
        v, h = self.view, self.view.history
        t, fpp = v.time_pixels, v.fpp
        idx = v.end - 1 - np.arange(t * fpp)
        ok = (idx >= h.oldest) & (idx < h.count)
        vals = np.where(ok, self._levels[idx % h.capacity], np.nan).reshape(t, fpp)
        with np.errstate(all="ignore"):
            out: np.ndarray = np.nanmax(np.where(np.isnan(vals), -np.inf, vals), axis=1)
        out[~np.isfinite(out)] = np.nan
        return out

    def update(self) -> None:
        """Recompute the cells when the pixels changed (every tick)."""
        v = self.view
        key = (v.version, self.peak, self.rms)
        if key == self._key:
            return
        self._key = key
        cells: list[tuple[int, int, Segment]] = []
        if self.peak or self.rms:
            hz = peak_freqs(v.db, v.fmap, v.db_min)[::-1] if self.peak else np.empty(0)
            cells = live_cells(v, hz, self._rms_pixels() if self.rms else None)
        self.part.extra = cells
        self.part.extra_version += 1
