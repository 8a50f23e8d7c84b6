"""The live app's overlays on the waterfall: the peak track (``p``), the RMS envelope
(``e``) and the waveform strip (``v``), drawn by
:class:`~livespec.tui.widgets.waterfall.WaterfallPart` from the cells
:mod:`livespec.render.overlay` computes. UI thread.

The waveform strip shows, per time pixel, the smallest and the largest sample of the hops
its frames stand for (the ``hop`` samples around each frame's centre, read from the ring
when the frame arrives; ``livespec view``, which has no ring, uses ``±`` the frame's peak):
the bottom rows of a horizontal waterfall (+1 at the strip's top), the right-most columns
of a vertical one (+1 at the right).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from rich.segment import Segment
from rich.style import Style

from livespec.audio.ringbuffer import RingBuffer
from livespec.engine import Frame
from livespec.render.overlay import (
    PEAK_COLOR,
    RMS_COLOR,
    WAVE_COLOR,
    WAVE_ROWS,
    level_row,
    peak_freqs,
    wave_cells,
)
from livespec.render.view import WaterfallView
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.waterfall import WaterfallPart

PEAK_SEG = Segment("•", Style(color=PEAK_COLOR, bold=True))
RMS_SEG = Segment("•", Style(color=RMS_COLOR, bold=True))
WAVE_SEG = Segment("┃", Style(color=WAVE_COLOR))
STRIP_SEG = Segment(" ", Style(bgcolor="grey7"))  # the strip's own dark background
WAVE_COLS = 12  # columns of the strip on a vertical waterfall


def strip_cells_live(
    view: WaterfallView, lo: np.ndarray, hi: np.ndarray
) -> list[tuple[int, int, Segment]]:
    """Cells of the waveform strip for per-time-pixel sample extremes ``lo``/``hi``
    (newest first), background first, in either orientation."""
    w, h = view.width, view.height
    out: list[tuple[int, int, Segment]] = []
    if view.orientation == "horizontal":
        n = min(w, lo.shape[0])
        rows = min(WAVE_ROWS, h)
        out += [(x, y, STRIP_SEG) for y in range(h - rows, h) for x in range(w)]
        # oldest first, right-aligned: column w - 1 is the newest pixel
        cells = wave_cells(lo[:n][::-1], hi[:n][::-1], h)
        out += [(x + w - n, y, WAVE_SEG) for x, y in cells]
        return out
    half = (view.end // view.fpp) % 2
    cols = min(WAVE_COLS, w)
    text_rows = (lo.shape[0] + half + 1) // 2
    rlo = np.full(text_rows, np.nan)
    rhi = np.full(text_rows, np.nan)
    for age in range(lo.shape[0]):
        r = (age + half) // 2
        if math.isfinite(lo[age]):
            rlo[r] = lo[age] if not math.isfinite(rlo[r]) else min(rlo[r], lo[age])
            rhi[r] = hi[age] if not math.isfinite(rhi[r]) else max(rhi[r], hi[age])
    n = min(text_rows, h)
    out += [(x, y, STRIP_SEG) for y in range(h) for x in range(w - cols, w)]
    # band k (k = 0: +1 down to k = cols - 1: -1) is column w - 1 - k
    edges = 1.0 - 2.0 * np.arange(cols + 1) / cols
    for r in range(n):
        a, b = rlo[r], rhi[r]
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        a, b = max(min(a, 1.0), -1.0), max(min(b, 1.0), -1.0)
        out += [
            (w - 1 - k, r, WAVE_SEG) for k in range(cols) if a <= edges[k] and b >= edges[k + 1]
        ]
    return out


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
    """The peak track, RMS envelope and waveform strip of the live waterfall.

    Args:
        view, part, plot: the waterfall's model, its drawing part and the plot.
        ring: the audio (None: the strip uses each frame's peak level).
        frame_len: the analysis frame's length in samples now (the FFT size).
        channel: the analysed channel (0-based; None: the mix).
    """

    def __init__(
        self,
        view: WaterfallView,
        part: WaterfallPart,
        plot: Plot | None = None,
        *,
        ring: RingBuffer | None = None,
        frame_len: Callable[[], int] | None = None,
        channel: int | None = None,
    ) -> None:
        self.view, self.part, self.plot = view, part, plot
        self.ring, self.frame_len, self.channel = ring, frame_len, channel
        self.peak = False
        self.rms = False
        self.wave = False
        cap = view.history.capacity
        self._levels = np.full(cap, np.nan, dtype=np.float32)
        self._lo = np.full(cap, np.nan, dtype=np.float32)
        self._hi = np.full(cap, np.nan, dtype=np.float32)
        self._key: object = None

    def frames(self, frames: Sequence[Frame]) -> None:
        """Keep the RMS (and, while the strip is on, the sample extremes) of the frames
        just pushed into the view's history."""
        h = self.view.history
        if self._levels.shape[0] != h.capacity:
            self._levels = np.full(h.capacity, np.nan, dtype=np.float32)
            self._lo = np.full(h.capacity, np.nan, dtype=np.float32)
            self._hi = np.full(h.capacity, np.nan, dtype=np.float32)
        first = h.count - len(frames)
        for i, f in enumerate(frames):
            k = (first + i) % h.capacity
            self._levels[k] = f.rms_dbfs
            if self.wave:
                self._lo[k], self._hi[k] = self._extremes(f)

    def _extremes(self, f: Frame) -> tuple[float, float]:
        """(lowest, highest) sample of the ``hop`` samples around ``f``'s centre; from
        the ring if it still holds them, else ``∓`` the frame's peak."""
        ring, hop = self.ring, self.view.hop
        if ring is not None and self.frame_len is not None and hop > 0:
            start = f.start + (self.frame_len() - hop) // 2
            if ring.oldest() <= start and start + hop <= ring.written:
                block = ring.window(start, hop)
                ch = (
                    self.channel
                    if self.channel is not None and self.channel < block.shape[1]
                    else None
                )
                x = block[:, ch] if ch is not None else block.mean(axis=1)
                lo, hi = float(x.min()), float(x.max())
                if ring.intact(start):
                    return lo, hi
        peak = 10.0 ** (f.peak_dbfs / 20.0) if math.isfinite(f.peak_dbfs) else math.nan
        return -peak, peak

    def toggle(self, which: str) -> bool:
        """Turn ``peak``, ``rms`` or ``wave`` on or off; returns the new state. While one
        is on the plot is drawn by Textual, not written directly (the direct writer's
        record of the screen lost the glyphs in a real terminal: seen in tmux, not yet
        understood). The strip starts empty: it fills with the frames that arrive."""
        setattr(self, which, not getattr(self, which))
        if which == "wave" and self.wave:
            self._lo[:] = np.nan
            self._hi[:] = np.nan
        if self.plot is not None:
            self.plot.direct = not (self.peak or self.rms or self.wave)
        self.update()
        return bool(getattr(self, which))

    def _pixels(self, values: np.ndarray, pick: Callable[..., np.ndarray]) -> np.ndarray:
        """Per time pixel (newest first): ``pick`` (nanmax/nanmin) of its frames' values."""
        v, h = self.view, self.view.history
        t, fpp = v.time_pixels, v.fpp
        idx = v.end - 1 - np.arange(t * fpp)
        ok = (idx >= h.oldest) & (idx < h.count)
        vals = np.where(ok, values[idx % h.capacity], np.nan).reshape(t, fpp)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN pixel: NaN
            out: np.ndarray = pick(vals, axis=1).astype(np.float64)
        return out

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
        key = (v.version, self.peak, self.rms, self.wave)
        if key == self._key:
            return
        self._key = key
        cells: list[tuple[int, int, Segment]] = []
        if self.wave:
            cells += strip_cells_live(
                v, self._pixels(self._lo, np.nanmin), self._pixels(self._hi, np.nanmax)
            )
        if self.peak or self.rms:
            hz = peak_freqs(v.db, v.fmap, v.db_min)[::-1] if self.peak else np.empty(0)
            cells += live_cells(v, hz, self._rms_pixels() if self.rms else None)
        self.part.extra = cells
        self.part.extra_version += 1
