"""Frequency axis and time scale, placed beside the waterfall. UI thread only.

Both read the shared :class:`~livespec.render.view.WaterfallView`, so their ticks follow the
scale, the zoom and the size of the waterfall they stand next to.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.style import Style
from textual.strip import Strip

from livespec.render.raster import format_seconds, freq_ticks, time_ticks
from livespec.render.view import WaterfallView
from livespec.tui.widgets.common import Part, place

TICK = Style(dim=True)
PEAK = Style(color="bright_yellow", bold=True)


class FreqAxis(Part):
    """Hz/kHz labels: a column left of a horizontal waterfall, or two rows above a
    vertical one. ``peak_hz`` (set by the app) is marked with an arrow."""

    def __init__(self, view: WaterfallView) -> None:
        super().__init__()
        self.view = view
        self.peak_hz: float | None = None
        self._plain_key: Hashable = None
        self._plain: list[Strip] = []
        self._labels: dict[int, str] = {}

    def _peak_pos(self) -> float | None:
        fm, peak = self.view.fmap, self.peak_hz
        if peak is None or not fm.lo <= peak <= fm.hi:
            return None
        return fm.pos_of(peak)

    def cache_key(self) -> Hashable:
        """Mapping, geometry and the cell of the peak marker."""
        v, pos = self.view, self._peak_pos()
        cell = None if pos is None else int(pos / 2 if v.orientation == "horizontal" else pos)
        return (id(v.fmap), v.orientation, v.width, v.height, cell)

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """All rows of the axis."""
        view, fm = self.view, self.view.fmap
        pos = self._peak_pos()
        if view.orientation == "horizontal":
            rows = view.height
            key = (id(fm), rows, width, height, base)
            if key != self._plain_key:
                self._plain_key, self._plain = key, self._side_rows(width, height, base)
            out = list(self._plain)
            peak_row = None if pos is None else min(int(rows - pos / 2), rows - 1)
            if peak_row is not None and 0 <= peak_row < len(out):
                label = self._labels.get(peak_row, "").rjust(width - 1)[: width - 1]
                out[peak_row] = place(width, [(0, label, Style()), (width - 1, "◀", PEAK)], base)
            return out
        ticks = freq_ticks(fm, view.width, 7.0)
        items = [(int(p) - len(fm.label(f)) // 2, fm.label(f), Style()) for p, f in ticks]
        line = ["─"] * width
        for p, _ in ticks:
            line[min(int(p), width - 1)] = "┴"
        marks = [(0, "".join(line), TICK)]
        if pos is not None:
            marks.insert(0, (min(int(pos), width - 1), "▼", PEAK))
        return [place(width, items, base), place(width, marks, base)]

    def _side_rows(self, width: int, height: int, base: Style) -> list[Strip]:
        """Rows of a vertical axis without the peak marker (cached by the caller)."""
        rows = self.view.height
        labels: dict[int, str] = {}
        for p, f in freq_ticks(self.view.fmap, rows, 2.0):
            labels.setdefault(min(int(rows - p), rows - 1), self.view.fmap.label(f))
        self._labels = labels
        out = []
        for y in range(min(rows, height)):
            text = labels.get(y, "")
            label = text.rjust(width - 1)[: width - 1]
            mark = "┤" if text else "│"
            out.append(place(width, [(0, label, Style()), (width - 1, mark, TICK)], base))
        return out


class TimeAxis(Part):
    """Seconds before the newest frame: a row under a horizontal waterfall, or a column
    left of a vertical one."""

    def __init__(self, view: WaterfallView) -> None:
        super().__init__()
        self.view = view

    def cache_key(self) -> Hashable:
        """Geometry, frame spacing and how far back the view is."""
        v = self.view
        return (v.orientation, v.width, v.height, v.frame_seconds, v.fpp, v.frames_back)

    def _ticks(self, cells: int, frames_per_cell: float, gap: float) -> list[tuple[float, str]]:
        view = self.view
        back = view.frames_back * view.frame_seconds
        span = cells * frames_per_cell * view.pixel_seconds
        return [(p, format_seconds(s)) for p, s in time_ticks(back, span, cells, gap)]

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """All rows of the scale."""
        view = self.view
        if view.orientation == "horizontal":
            cols = view.width
            items = []
            for p, label in self._ticks(cols, 1.0, 9.0):
                x = cols - 1 - int(p)
                items.append((x - len(label) + 1, label, Style()))
            return [place(width, items, base)]
        rows = view.height
        labels = {int(p): label for p, label in self._ticks(rows, 2.0, 3.0)}
        out = []
        for y in range(min(rows, height)):
            if y in labels:
                out.append(place(width, [(0, labels[y].rjust(width - 1) + "┤", Style())], base))
            else:
                out.append(place(width, [(width - 1, "│", TICK)], base))
        return out
