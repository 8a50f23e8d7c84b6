"""The spectrum panel: the newest shown frame as bars, with a decaying peak hold.

Beside a horizontal waterfall the bars grow to the right (frequency along y, two waterfall
pixels per row); above a vertical one they grow upwards (one column per pixel). The bars
take the colour map's colour of their level. UI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

import numpy as np
import numpy.typing as npt
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from livespec.render.raster import AnsiStrip, compact_ansi
from livespec.render.view import NO_DATA_DB, WaterfallView
from livespec.tui.widgets.common import Part

H_EIGHTHS = " ▏▎▍▌▋▊▉█"
V_EIGHTHS = " ▁▂▃▄▅▆▇█"
HOLD = Style(color="bright_white", bold=True)


class SpectrumPanel(Part):
    """Bars of the newest shown frame plus the peak hold."""

    def __init__(self, view: WaterfallView) -> None:
        super().__init__()
        self.view = view
        self._style_key: Hashable = None
        self._style_cache: list[Style] = []
        # (width, base, bar eighths, colour level, hold x or -1) -> the row beside a
        # horizontal waterfall: most rows repeat from frame to frame, and a Strip that is
        # reused keeps its escape sequences.
        self._side_rows: dict[tuple[int, Style, int, int, int], Strip] = {}
        # Seconds between redraws for new frames alone (0: every frame). Over SSH the
        # panel's short coloured runs cost most of the bytes, so the app sets it there.
        self.min_interval = 0.0
        self._shown_key: tuple[object, ...] | None = None
        self._shown_time = 0.0

    def _values(self, cells: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Current and hold levels per cell, low frequency first."""
        view = self.view
        cur = view.db[0] if view.db.shape[0] else np.full(cells, NO_DATA_DB, np.float32)
        hold = view.hold
        if view.orientation == "horizontal":
            n = cur.shape[0] // 2 * 2
            cur = cur[:n].reshape(-1, 2).max(axis=1)
            hold = hold[:n].reshape(-1, 2).max(axis=1)
        return cur[:cells], hold[:cells]

    def _fraction(self, db: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        view = self.view
        span = max(view.db_max - view.db_min, 1e-6)
        return np.clip((db.astype(np.float64) - view.db_min) / span, 0.0, 1.0)

    def _levels(self, db: npt.NDArray[np.float32], base: Style) -> list[int]:
        """The colour map's level (0..255) for each value; :attr:`_style_cache` holds
        their styles (per table and base style)."""
        view = self.view
        key = (id(view.table), base)
        if key != self._style_key:
            self._style_key = key
            self._style_cache = [base + Style(color=c) for c in view.table.colors]
            self._side_rows.clear()
        span = max(view.db_max - view.db_min, 1e-6)
        levels = np.clip((db - view.db_min) * (255.0 / span), 0, 255).astype(np.uint8)
        canon = view.table.canon  # levels of one colour share one style (runs merge)
        lv: list[int] = (levels if canon is None else canon[levels]).tolist()
        return lv

    def _styles(self, db: npt.NDArray[np.float32], base: Style) -> list[Style]:
        """The colour map's style for each level (cached per table and base style)."""
        levels = self._levels(db, base)
        cache = self._style_cache
        return [cache[i] for i in levels]

    def cache_key(self) -> Hashable:
        """The view's pixels and colour range."""
        v = self.view
        key = (v.version, v.db_min, v.db_max, id(v.table), v.orientation)
        shown = self._shown_key
        if key == shown:
            return key
        now = time.monotonic()
        if (
            self.min_interval > 0
            and shown is not None
            and key[1:] == shown[1:]
            and now - self._shown_time < self.min_interval
        ):
            return shown  # only new frames, and too soon: keep the rows shown
        self._shown_key, self._shown_time = key, now
        return key

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """All rows of the panel."""
        view = self.view
        if view.orientation == "horizontal":
            return self._side(width, min(height, view.height), base)
        return self._top(width, height, base)

    def _side(self, width: int, rows: int, base: Style) -> list[Strip]:
        cur, hold = self._values(rows)
        levels = self._levels(cur, base)
        styles = self._style_cache
        eighths = np.rint(self._fraction(cur) * (width * 8)).astype(np.int64).tolist()
        hx_all = np.minimum((self._fraction(hold) * width).astype(np.int64), width - 1)
        hx_all = np.where(hold > self.view.db_min, hx_all, -1).tolist()
        cache = self._side_rows
        if len(cache) > 4096:
            cache.clear()
        out: list[Strip] = []
        n = len(eighths)
        for y in range(rows):
            i = rows - 1 - y
            if i >= n:
                out.append(Strip.blank(width, base))
                continue
            key = (width, base, eighths[i], levels[i], hx_all[i])
            strip = cache.get(key)
            if strip is None:
                strip = cache[key] = self._side_row(
                    width, base, eighths[i], styles[levels[i]], hx_all[i], self.view.table.system
                )
            out.append(strip)
        return out

    @staticmethod
    def _side_row(
        width: int, base: Style, eighths: int, style: Style, hx: int, system: str
    ) -> Strip:
        """One row of a bar growing to the right, with the hold mark at ``hx`` (-1: none)."""
        full, part = divmod(eighths, 8)
        bar = "█" * full + (H_EIGHTHS[part] if part and full < width else "")
        segs = [Segment(bar, style)]
        rest = width - len(bar)
        if hx >= 0 and hx >= len(bar):
            segs.append(Segment(" " * (hx - len(bar)), base))
            segs.append(Segment("│", base + HOLD))
            rest = width - hx - 1
        segs.append(Segment(" " * max(rest, 0), base))
        return AnsiStrip(segs, width, [compact_ansi(segs, system)], system)

    def _top(self, width: int, height: int, base: Style) -> list[Strip]:
        """Bars growing upwards, one column per pixel; neighbours of one style are one
        segment (blank cells take the base style), so a row is a few runs, not a segment
        and an escape sequence per cell."""
        cols = min(self.view.width, width)
        cur, hold = self._values(cols)
        eighths = (self._fraction(cur) * height * 8).astype(np.int64)  # from the bottom
        hold_row = height - 1 - np.minimum((self._fraction(hold) * height).astype(int), height - 1)
        hold_row = np.where(hold > self.view.db_min, hold_row, -1)
        styles = self._styles(cur, base)
        hold_style = base + HOLD
        system = self.view.table.system
        out: list[Strip] = []
        for y in range(height):
            from_bottom = height - 1 - y
            fill = np.clip(eighths - from_bottom * 8, 0, 8).tolist()
            marks = (hold_row == y).tolist()
            segs: list[Segment] = []
            run: list[str] = []
            run_style: Style | None = None
            for x, (e, mark) in enumerate(zip(fill, marks, strict=True)):
                if e:
                    ch, style = V_EIGHTHS[e], styles[x]
                elif mark:
                    ch, style = "▔", hold_style
                else:
                    ch, style = " ", base
                if style is not run_style:
                    if run:
                        segs.append(Segment("".join(run), run_style))
                    run, run_style = [], style
                run.append(ch)
            if run:
                segs.append(Segment("".join(run), run_style))
            if cols < width:
                segs.append(Segment(" " * (width - cols), base))
            out.append(AnsiStrip(segs, width, [compact_ansi(segs, system)], system))
        return out
