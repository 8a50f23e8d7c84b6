"""The file browser's parts: the waterfall with its overlays, the absolute time axis and
the label row. The cells come from :mod:`livespec.render.overlay`; these only paint them.
UI thread only.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from livespec.annotate.labels import Label
from livespec.render.fileview import FileView
from livespec.render.overlay import label_spans, time_row_text
from livespec.render.raster import time_ticks
from livespec.tui.widgets.axes import TimeAxis
from livespec.tui.widgets.common import place
from livespec.tui.widgets.plot import AXIS_W
from livespec.tui.widgets.waterfall import CURSOR, WaterfallPart

PLAYHEAD = Style(color="bright_white", bold=True)
LOOP = Style(color="bright_green", bold=True)
MARK = Style(color="bright_yellow", bold=True)
STRIP_BG = Style(bgcolor="grey7")


@dataclass
class Paint:
    """What is painted over the waterfall, in order (later on top): per-cell glyphs."""

    background: list[tuple[int, int]] = field(default_factory=list)  # the waveform strip
    cells: list[tuple[int, int, str, Style]] = field(default_factory=list)
    version: int = 0  # bumped by the owner whenever the lists change


def format_clock(seconds: float, places: int = 1) -> str:
    """``m:ss.s`` or ``h:mm:ss.s`` (``places`` decimals)."""
    s = max(seconds, 0.0)
    h, rest = divmod(s, 3600.0)
    m, sec = divmod(rest, 60.0)
    w = 3 + places if places else 2
    secs = f"{sec:0{w}.{places}f}"
    return f"{int(h)}:{int(m):02d}:{secs}" if h >= 1 else f"{int(m)}:{secs}"


class BrowseWaterfall(WaterfallPart):
    """The file's waterfall with the overlays of :class:`Paint` and the cursor on top."""

    view: FileView

    def __init__(self, view: FileView, paint: Paint) -> None:
        super().__init__(view)
        self.paint = paint

    def cache_key(self) -> Hashable:
        """Pixels, cursor and overlays."""
        return (super().cache_key(), self.paint.version)

    def cell_rows(self, width: int) -> list[tuple[list[Segment], str | None]]:
        """The view's rows with the overlays painted (rows touched lose their escape
        sequences: Textual renders their segments)."""
        view = self.view
        base = list(view.rows())
        touched: dict[int, list[Segment]] = {}

        def row(y: int) -> list[Segment]:
            if y not in touched:
                cells: list[Segment] = []
                for seg in base[y][0]:
                    if len(seg.text) == 1:
                        cells.append(seg)
                    else:
                        cells.extend(Segment(ch, seg.style) for ch in seg.text)
                cells += [Segment(" ")] * (view.width - len(cells))
                touched[y] = cells
            return touched[y]

        h = len(base)
        for x, y in self.paint.background:
            if 0 <= y < h and 0 <= x < width:
                row(y)[x] = Segment(" ", STRIP_BG)
        for x, y, ch, style in self.paint.cells:
            if 0 <= y < h and 0 <= x < width:
                cells = row(y)
                old = cells[x].style
                bg = old.bgcolor if old is not None else None
                cells[x] = Segment(ch, style + Style(bgcolor=bg) if bg is not None else style)
        if view.cursor_on:
            x, y = view.cursor_cell()
            if 0 <= y < h and 0 <= x < width:
                row(y)[x] = CURSOR
        out: list[tuple[list[Segment], str | None]] = list(base)
        for y, cells in touched.items():
            out[y] = (cells, None)
        return out


class FileTimeAxis(TimeAxis):
    """Time from the start of the file under the waterfall, with the loop's ends."""

    view: FileView

    def __init__(self, view: FileView) -> None:
        super().__init__(view)
        self.loop: tuple[float | None, float | None] = (None, None)

    def cache_key(self) -> Hashable:
        """The window and the loop."""
        v = self.view
        return (v.width, v.t0, v.span, self.loop)

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """One row of tick labels (``m:ss``) placed at their columns."""
        v = self.view
        items: list[tuple[int, str, Style]] = []
        for end, glyph in zip(self.loop, ("[", "]"), strict=True):
            x = None if end is None else v.x_of(end)
            if x is not None:
                items.append((x, glyph, LOOP))
        places = 0 if v.span >= 20 else (1 if v.span >= 2 else 3)
        for p, s in time_ticks(v.t0, v.span, v.width, 10.0):
            label = "┴" + format_clock(s, places)
            items.append((int(p), label, Style()))
        return [place(width, items, base)]


class LabelRow(Widget):
    """The labels of ``--labels`` as regions under the time axis (one row)."""

    DEFAULT_CSS = """
    LabelRow { height: 1; width: 1fr; }
    """

    def __init__(self, view: FileView, labels: list[Label], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view
        self.labels = labels
        self._key: Hashable = None

    def sync(self) -> None:
        """Redraw if the window moved (UI thread)."""
        v = self.view
        key = (v.t0, v.span, v.width, len(self.labels), id(self.labels))
        if key != self._key:
            self._key = key
            self.refresh()

    def render_line(self, y: int) -> Strip:
        """The label regions, offset by the frequency axis."""
        v, width = self.view, self.size.width
        base = self.rich_style
        if y != 0:
            return Strip.blank(width, base)
        spans = label_spans(self.labels, v.t0, v.span, v.width)
        items = [(AXIS_W + x, text, MARK) for x, text in time_row_text(spans, v.width)]
        items.insert(0, (0, "labels", Style(dim=True)))
        return place(width, _overlapping_last_wins(items), base)


def _overlapping_last_wins(
    items: list[tuple[int, str, Style]],
) -> list[tuple[int, str, Style]]:
    """:func:`place` keeps the first of overlapping items: put later labels first."""
    return [items[0], *reversed(items[1:])]
