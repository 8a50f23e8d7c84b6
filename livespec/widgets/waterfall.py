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
from livespec.widgets.common import Part

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

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """The view's rows with the overlays."""
        view = self.view
        rows = list(view.strips())
        overlays: list[tuple[int, int, Segment]] = []
        mark = view.marker_cell()
        if mark is not None:
            overlays.append((mark[0], mark[1], MARKER))
        if view.cursor_on:
            x, y = view.cursor_cell()
            overlays.append((x, y, CURSOR))
        for x, y, seg in overlays:
            if 0 <= y < len(rows) and 0 <= x < width:
                strip = rows[y]
                rows[y] = Strip.join([strip.crop(0, x), Strip([seg], 1), strip.crop(x + 1, width)])
        return rows
