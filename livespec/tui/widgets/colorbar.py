"""The colour bar: the colour map from the ceiling (top) to the floor, with dB labels."""

from __future__ import annotations

from collections.abc import Hashable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from livespec.render.raster import db_ticks
from livespec.render.view import WaterfallView
from livespec.tui.widgets.common import Part


class ColorBar(Part):
    """Two cells of half-block colour per row (top = ``db_max``) and dBFS tick labels.

    Its height follows the waterfall beside it. UI thread only.
    """

    def __init__(self, view: WaterfallView) -> None:
        super().__init__()
        self.view = view

    def cache_key(self) -> Hashable:
        """Colour range and colour table."""
        v = self.view
        return (v.db_min, v.db_max, id(v.table))

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """All rows of the bar."""
        view = self.view
        n = 2 * height
        labels = dict(db_ticks(view.db_min, view.db_max, height))
        out = []
        for y in range(height):
            top = round(255 * (1 - (2 * y) / max(n - 1, 1)))
            bottom = round(255 * (1 - (2 * y + 1) / max(n - 1, 1)))
            cell = view.table.segment(top << 8 | bottom)
            text = f" {labels[y]:.0f}" if y in labels else ""
            mark = "─" if y in labels else " "
            segs = [Segment(cell.text * 2, cell.style), Segment(mark, base + Style(dim=True))]
            segs.append(Segment(text.ljust(width - 3)[: max(width - 3, 0)], base))
            out.append(Strip(segs).crop(0, width).extend_cell_length(width, base))
        return out
