"""Overlays on a horizontal waterfall: which cells a curve, a track or a label occupies.

Pure code (numpy only), so tests compute the same positions independently and the widgets
only paint them. Cells are (x, y) in the waterfall, x = screen column (time, left to right),
y = text row (0 at the top; frequency pixel ``p`` of ``2 * height`` is in row
``(2 * height - 1 - p) // 2``). UI thread, but thread-agnostic.

- frequency curves (a pitch track, the built-in peak track): one cell per column at the
  curve's value on the frequency map (:func:`hz_cells`);
- level curves (dB; the built-in RMS envelope): one cell per column on their own axis,
  ``top_db`` at row 0 and ``bottom_db`` at the last row (:func:`level_cells`);
- the waveform strip: the bottom ``rows`` rows, the cells between each column's smallest and
  largest sample (:func:`wave_cells`);
- labels: (first column, last column, text) under the time axis (:func:`label_spans`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from livespec.annotate.labels import Label
from livespec.render.freqmap import FreqMap

Cell = tuple[int, int]
F64 = npt.NDArray[np.float64]

# Colours of the user curves, in order (Rich colour names), and of the built-in overlays.
CURVE_COLORS = ("bright_cyan", "bright_magenta", "bright_green", "orange1", "deep_pink2", "gold1")
PEAK_COLOR = "bright_white"
RMS_COLOR = "bright_yellow"
WAVE_COLOR = "bright_cyan"
WAVE_ROWS = 5  # rows of the waveform strip at the bottom of the waterfall


def column_times(t0: float, span: float, width: int) -> F64:
    """Seconds at the centre of each of ``width`` columns showing ``[t0, t0 + span)``."""
    return t0 + (np.arange(width, dtype=np.float64) + 0.5) * (span / max(width, 1))


def hz_row(fmap: FreqMap, hz: float, height: int) -> int | None:
    """Text row of ``hz`` on a waterfall of ``height`` rows over ``fmap``, None if off it."""
    if not math.isfinite(hz) or hz <= 0:
        return None
    pos = fmap.pos_of(hz)
    if not 0 <= pos < fmap.pixels:
        return None
    p = int(pos)
    y = (fmap.pixels - 1 - p) // 2
    return y if 0 <= y < height else None


def hz_cells(fmap: FreqMap, values_hz: Sequence[float] | F64, height: int) -> list[Cell]:
    """Cells of a frequency curve: column x at ``values_hz[x]`` (NaN: a gap)."""
    out: list[Cell] = []
    for x, v in enumerate(np.asarray(values_hz, dtype=np.float64).tolist()):
        y = hz_row(fmap, v, height)
        if y is not None:
            out.append((x, y))
    return out


def level_row(db: float, top_db: float, bottom_db: float, height: int) -> int | None:
    """Text row of level ``db`` on an axis from ``top_db`` (row 0) to ``bottom_db`` (the
    last row); None outside it or for NaN."""
    if not math.isfinite(db) or height <= 0 or top_db <= bottom_db:
        return None
    if not bottom_db <= db <= top_db:
        return None
    return min(round((top_db - db) / (top_db - bottom_db) * (height - 1)), height - 1)


def level_cells(
    values_db: Sequence[float] | F64, top_db: float, bottom_db: float, height: int
) -> list[Cell]:
    """Cells of a level curve (column x at ``values_db[x]``) on its own dB axis."""
    out: list[Cell] = []
    for x, v in enumerate(np.asarray(values_db, dtype=np.float64).tolist()):
        y = level_row(v, top_db, bottom_db, height)
        if y is not None:
            out.append((x, y))
    return out


def peak_freqs(db_newest_first: npt.NDArray[np.float32], fmap: FreqMap, floor_db: float) -> F64:
    """The strongest frequency (Hz, the pixel's centre) of each column of a view's display
    matrix (rows newest first, as :attr:`WaterfallView.db`), left to right; NaN where the
    column has nothing above ``floor_db``."""
    db = db_newest_first[::-1]
    if db.size == 0:
        return np.full(db.shape[0], np.nan)
    idx = np.argmax(db, axis=1)
    top = db[np.arange(db.shape[0]), idx]
    hz = fmap.centres()[idx].astype(np.float64)
    hz[~(top > floor_db)] = np.nan
    out: F64 = hz
    return out


def wave_cells(lo: Sequence[float] | F64, hi: Sequence[float] | F64, height: int) -> list[Cell]:
    """Cells of the waveform strip (the bottom ``min(WAVE_ROWS, height)`` rows): in column x,
    every row whose amplitude band (+1 at the strip's top edge, -1 at its bottom edge)
    meets ``[lo[x], hi[x]]``."""
    rows = min(WAVE_ROWS, height)
    if rows <= 0:
        return []
    top = height - rows
    edges = 1.0 - 2.0 * np.arange(rows + 1) / rows  # row r spans [edges[r+1], edges[r]]
    out: list[Cell] = []
    for x, (a, b) in enumerate(zip(np.asarray(lo).tolist(), np.asarray(hi).tolist(), strict=True)):
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        a, b = max(min(a, 1.0), -1.0), max(min(b, 1.0), -1.0)
        for r in range(rows):
            if a <= edges[r] and b >= edges[r + 1]:
                out.append((x, top + r))
    return out


def strip_cells(height: int, width: int) -> list[Cell]:
    """Every cell of the waveform strip (it has its own dark background)."""
    rows = min(WAVE_ROWS, height)
    return [(x, y) for y in range(height - rows, height) for x in range(width)]


def label_spans(
    labels: Sequence[Label], t0: float, span: float, width: int
) -> list[tuple[int, int, str]]:
    """(first column, last column, text) of each label visible in ``[t0, t0 + span)`` on
    ``width`` columns; a point label (or one shorter than a column) takes one column."""
    if width <= 0 or span <= 0:
        return []
    dt = span / width
    out: list[tuple[int, int, str]] = []
    for lab in labels:
        if lab.end < t0 or lab.start >= t0 + span:
            continue
        x0 = max(0, math.floor((lab.start - t0) / dt))
        x1 = min(width - 1, max(x0, math.ceil((lab.end - t0) / dt) - 1))
        out.append((x0, x1, lab.text))
    return out


def time_row_text(spans: list[tuple[int, int, str]], width: int) -> list[tuple[int, str]]:
    """The label row as (column, text) pieces: ``▕text▁▁▁▏`` over each span (texts cut
    to fit; later labels drawn over earlier ones)."""
    out: list[tuple[int, str]] = []
    for x0, x1, text in spans:
        n = x1 - x0 + 1
        if n == 1:
            out.append((x0, "▏"))
            if text:
                out.append((x0 + 1, text[: max(0, width - x0 - 1)]))
            continue
        body = (text[: n - 2] if n > 2 else "").ljust(max(n - 2, 0), "▁")
        out.append((x0, ("▕" + body + "▏")[:n]))
    return out
