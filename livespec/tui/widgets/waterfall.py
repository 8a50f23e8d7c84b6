"""The waterfall part: the view's cached Strips with the cursor and marker drawn on top.

The rows come from :meth:`~livespec.render.view.WaterfallView.strips` (built once per
change of pixels from the precomputed half-block Segment table). UI thread only.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from livespec.render.view import WaterfallView
from livespec.tui.widgets.common import Part

CURSOR = Segment("╋", Style(color="bright_white", bgcolor="black", bold=True))
MARKER = Segment("◆", Style(color="bright_yellow", bgcolor="black", bold=True))


class WaterfallPart(Part):
    """The scrolling spectrogram, ``view.width`` x ``view.height`` cells."""

    def __init__(self, view: WaterfallView) -> None:
        super().__init__()
        self.view = view
        self.extra: list[tuple[int, int, Segment]] = []  # overlay cells (x, y, glyph)
        self.extra_version = 0  # bumped with every change of ``extra``

    def cache_key(self) -> Hashable:
        """Pixels, cursor and marker."""
        v = self.view
        cursor = v.cursor_cell() if v.cursor_on else None
        return (v.version, cursor, v.marker_cell(), self.extra_version)

    def cell_rows(self, width: int) -> list[tuple[list[Segment], str | None]]:
        """The view's rows (segments, escape sequences) with the overlays; a row with an
        overlay has no escape sequences of its own (None: Textual renders its segments).

        The rows are ``view.width`` cells wide; ``width`` clips the overlays."""
        view = self.view
        rows: list[tuple[list[Segment], str | None]] = list(view.rows())
        overlays: list[tuple[int, int, Segment]] = []
        mark = view.marker_cell()
        if mark is not None:
            overlays.append((mark[0], mark[1], MARKER))
        if view.cursor_on:
            x, y = view.cursor_cell()
            overlays.append((x, y, CURSOR))
        if self.extra:
            _paint(rows, self.extra, view.width, width, keep_bg=True)
        for x, y, seg in overlays:
            if 0 <= y < len(rows) and 0 <= x < width:
                strip = Strip(rows[y][0], view.width)
                joined = Strip.join([strip.crop(0, x), Strip([seg], 1), strip.crop(x + 1, width)])
                rows[y] = (list(joined), None)
        return rows

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """The view's rows with the overlays, as Strips."""
        return [Strip(segs, self.view.width) for segs, _ in self.cell_rows(width)]


def _paint(
    rows: list[tuple[list[Segment], str | None]],
    cells: list[tuple[int, int, Segment]],
    row_width: int,
    width: int,
    keep_bg: bool,
) -> None:
    """Put each glyph of ``cells`` (x, y, segment) into ``rows`` (in place); a touched row
    becomes one segment per cell without escape sequences. ``keep_bg``: the glyph keeps
    the background colour of the cell it covers."""
    touched: dict[int, list[Segment]] = {}
    for x, y, seg in cells:
        if not (0 <= y < len(rows) and 0 <= x < width):
            continue
        row = touched.get(y)
        if row is None:
            row = []
            for s in rows[y][0]:
                row.extend([s] if len(s.text) == 1 else (Segment(c, s.style) for c in s.text))
            row += [Segment(" ")] * (row_width - len(row))
            touched[y] = row
        if keep_bg and not (seg.style is not None and seg.style.bgcolor is not None):
            old = row[x].style
            bg = None if old is None else old.bgcolor
            if bg is not None and seg.style is not None:
                seg = Segment(seg.text, seg.style + Style(bgcolor=bg))
        row[x] = seg
    for y, row in touched.items():
        rows[y] = (row, None)
