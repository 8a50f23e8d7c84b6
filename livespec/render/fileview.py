"""The file browser's waterfall model: a time window over a whole recording.

:class:`FileView` is a :class:`~livespec.render.view.WaterfallView` (same cells, colour
table, frequency map, cursor and axes) whose pixels come from spectrogram columns of a file
instead of a live history: screen column ``x`` (horizontal orientation only) shows seconds
``[t0 + x*dt, t0 + (x+1)*dt)`` with ``dt = span / width``. The columns are asked of a
:class:`ColumnSource` (the browser's overview and detail jobs), pooled to the screen by
:func:`pool_columns`. Pure code; UI thread.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from livespec.render.view import NO_DATA_DB, WaterfallView

F32 = npt.NDArray[np.float32]


class ColumnSource(Protocol):
    """Where a :class:`FileView` gets its data."""

    def screen_columns(self, t0: float, t1: float, n: int) -> F32:
        """(n, bins) dBFS of seconds ``[t0, t1)`` cut into ``n`` columns (NO_DATA_DB where
        nothing is known yet)."""
        ...


def pool_columns(
    cols: npt.NDArray[Any],
    c0: float,
    c1: float,
    t0: float,
    t1: float,
    n: int,
    fill: float = NO_DATA_DB,
) -> npt.NDArray[Any]:
    """Resample (C, bins) columns covering seconds ``[c0, c1)`` to ``n`` screen columns
    covering ``[t0, t1)``: each screen column takes the maximum of the columns it overlaps
    (a column narrower than a screen column is never skipped), or the one column it lies in.
    Screen columns outside ``[c0, c1)`` are ``fill``. Same dtype as ``cols`` (int16 data,
    as the browser stores it, is the fastest: numpy has no SIMD maximum for float16)."""
    count, bins = cols.shape
    out = np.full((n, bins), fill, dtype=cols.dtype)
    if n <= 0 or count == 0 or c1 <= c0 or t1 <= t0:
        return out
    cw = (c1 - c0) / count
    edges = t0 + (t1 - t0) * np.arange(n + 1, dtype=np.float64) / n
    i0 = np.floor((edges[:-1] - c0) / cw + 1e-9).astype(np.int64)
    i1 = np.ceil((edges[1:] - c0) / cw - 1e-9).astype(np.int64)
    inside = (i1 > 0) & (i0 < count)
    i0 = np.clip(i0, 0, count - 1)
    i1 = np.clip(np.maximum(i1, i0 + 1), 1, count)
    for x in np.flatnonzero(inside).tolist():
        a, b = int(i0[x]), int(i1[x])
        out[x] = cols[a] if b == a + 1 else cols[a:b].max(axis=0)
    return out


class FileView(WaterfallView):
    """A window of ``span`` seconds from ``t0`` over a recording of ``duration`` seconds.

    Args:
        source: the columns.
        duration: the recording's length, s.
        min_span: the shortest span a zoom may reach, s.
        **kwargs: :class:`WaterfallView`'s (``hop`` and ``bins`` describe the columns).
    """

    def __init__(
        self, source: ColumnSource, duration: float, min_span: float, **kwargs: object
    ) -> None:
        self.source = source
        self.duration = max(float(duration), 1e-6)
        self.min_span = min(max(min_span, 1e-4), self.duration)
        self.t0 = 0.0
        self.span = self.duration
        self.cursor_time: float | None = None  # seconds the cursor holds when the view moves
        self._cursor_wanted = False
        kwargs["history_seconds"] = 0.0
        kwargs["orientation"] = "horizontal"
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.paused = True

    # -- time window ----------------------------------------------------------------------

    @property
    def dt(self) -> float:
        """Seconds per screen column."""
        return self.span / max(self.width, 1)

    def x_of(self, seconds: float) -> int | None:
        """Screen column showing ``seconds``, None when off screen."""
        if self.width <= 0:
            return None
        x = math.floor((seconds - self.t0) / self.dt)
        if x == self.width and seconds >= self.duration:  # the recording's very end
            return self.width - 1
        return x if 0 <= x < self.width else None

    def time_of(self, x: float) -> float:
        """Seconds at the centre of screen column ``x``."""
        return self.t0 + (x + 0.5) * self.dt

    def set_window(self, t0: float, span: float) -> None:
        """Show ``span`` seconds from ``t0`` (clamped to the recording) and redraw."""
        span = min(max(span, self.min_span), self.duration)
        t0 = min(max(t0, 0.0), self.duration - span)
        if (t0, span) != (self.t0, self.span):
            self.t0, self.span = t0, span
            self._rebuild()

    def zoom_time(self, factor: float, centre: float) -> None:
        """Show ``1/factor`` of the span (factor > 1: zoom in), keeping ``centre`` (s) at
        the same place on screen."""
        frac = (centre - self.t0) / self.span if self.span > 0 else 0.5
        span = min(max(self.span / factor, self.min_span), self.duration)
        self.set_window(centre - frac * span, span)

    def refresh_data(self) -> None:
        """The source has new columns: redraw."""
        self._rebuild()

    # -- WaterfallView hooks ----------------------------------------------------------------

    def _rebuild(self) -> None:
        self._follow_cursor()
        t, f = self.time_pixels, self.fmap.pixels
        db = np.full((t, f), NO_DATA_DB, dtype=np.float32)
        if t > 0 and hasattr(self, "source"):
            cols = self.source.screen_columns(self.t0, self.t0 + self.span, t)
            if cols.shape[1] == self.bins:
                db[:] = self.fmap.map_rows(cols)[::-1]  # row 0: the rightmost column
        self.end = t
        self.db = db
        self._dirty()

    @property
    def frames_back(self) -> int:
        """Not a live view: nothing is newer than the screen."""
        return 0

    # -- the cursor: it holds a time, not a screen column --------------------------------

    @property
    def cursor_on(self) -> bool:
        """The cursor is shown: set (a key, a click) and its time on screen (a view that
        moves away from it, following the playhead or panned, hides it until it is back)."""
        if not self._cursor_wanted:
            return False
        return self.cursor_time is None or self.x_of(self.cursor_time) is not None

    @cursor_on.setter
    def cursor_on(self, on: bool) -> None:
        self._cursor_wanted = on
        if not on:
            self.cursor_time = None

    @property
    def cursor_set(self) -> bool:
        """The cursor was set and not hidden (``esc``), on screen or not."""
        return self._cursor_wanted

    def _follow_cursor(self) -> None:
        """The window moved or was resized: the cursor's column follows its time."""
        t = self.cursor_time
        x = None if t is None else self.x_of(t)
        if x is not None:
            self.cursor_age = max(self.width - 1 - x, 0)

    def place_cursor(self, seconds: float) -> None:
        """Put the cursor at ``seconds`` (the left edge, the start of the window, when that
        is off screen); its frequency stays."""
        x = self.x_of(seconds)
        self.cursor_age = max(self.width - 1 - (x if x is not None else 0), 0)
        self.cursor_time = seconds if x is not None else self.time_of(0)

    def move_cursor(self, dx: int, dy: int) -> None:
        """Move the cursor by cells (x: time, y: frequency) and show it; it then holds the
        time of its column's centre (a move in frequency alone keeps its time)."""
        was = self.cursor_on
        super().move_cursor(dx, dy)
        if dx or not was or self.cursor_time is None:
            self.cursor_time = self.time_of(self.cursor_x())

    def cursor_x(self) -> int:
        """Screen column of the cursor."""
        age, _ = self.cursor_pixel()
        return self.width - 1 - age

    def cursor_reading(self) -> tuple[float, float | None, float | None]:
        """(Hz, dBFS or None, seconds) under the cursor."""
        age, fpx = self.cursor_pixel()
        hz = float(self.fmap.centres()[fpx])
        return hz, self.level_at(age, fpx), self.time_of(self.width - 1 - age)

    def marker_cell(self) -> tuple[int, int] | None:
        """The browser draws its own markers."""
        return None
