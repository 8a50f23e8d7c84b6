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

    def cache_key(self) -> Hashable:
        """Pixels, cursor and marker."""
        v = self.view
        cursor = v.cursor_cell() if v.cursor_on else None
        return (v.version, cursor, v.marker_cell())

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
        for x, y, seg in overlays:
            if 0 <= y < len(rows) and 0 <= x < width:
                strip = Strip(rows[y][0], view.width)
                joined = Strip.join([strip.crop(0, x), Strip([seg], 1), strip.crop(x + 1, width)])
                rows[y] = (list(joined), None)
        return rows

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """The view's rows with the overlays, as Strips."""
        return [Strip(segs, self.view.width) for segs, _ in self.cell_rows(width)]
