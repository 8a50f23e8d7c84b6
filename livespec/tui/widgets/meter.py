"""The level meter: RMS and sample peak in dBFS on a -60..0 dB scale, and a clip light."""

from __future__ import annotations

import math
from collections.abc import Hashable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from livespec.render.stats import Stats
from livespec.tui.widgets.common import Painter, StyledWidget, show_change

METER_FLOOR_DB = -60.0
GREEN, YELLOW, RED = Style(color="green"), Style(color="yellow"), Style(color="red")
CLIP = Style(color="bright_white", bgcolor="red", bold=True)
EMPTY = Style(dim=True)


def _cells(level: float, width: int) -> int:
    """Cells of a bar ``width`` cells long lit at ``level`` dBFS."""
    frac = 0.0 if not math.isfinite(level) else (level - METER_FLOOR_DB) / -METER_FLOOR_DB
    return max(0, min(width, round(frac * width)))


def _bar(level: float, width: int, base: Style) -> list[Segment]:
    n = _cells(level, width)
    yellow_at, red_at = round(width * 0.7), round(width * 0.9)  # -18 and -6 dBFS
    segs = []
    for lo, hi, st in ((0, yellow_at, GREEN), (yellow_at, red_at, YELLOW), (red_at, width, RED)):
        k = max(0, min(n, hi) - lo)
        if k:
            segs.append(Segment("■" * k, base + st))
    segs.append(Segment("·" * (width - n), base + EMPTY))
    return segs


def _db(v: float) -> str:
    return "  -inf" if not math.isfinite(v) or v < -199 else f"{v:6.1f}"


class LevelMeter(StyledWidget):
    """One row: ``RMS ■■■··· -12.3  Peak ■■■■·· -6.0 dBFS  CLIP``. UI thread only."""

    DEFAULT_CSS = """
    LevelMeter { height: 1; width: 1fr; }
    """

    def __init__(
        self, stats: Stats, *, id: str | None = None, painter: Painter | None = None
    ) -> None:
        super().__init__(id=id)
        self.stats = stats
        self.painter = painter  # paints a change without Textual (the app's output)
        self._shown: Hashable = None

    def _key(self) -> Hashable:
        s, width = self.stats, self.size.width
        bar_w = max(4, (width - 40) // 2)
        rms, peak = s.rms_dbfs, s.peak_dbfs
        return (width, _db(rms), _db(peak), _cells(rms, bar_w), _cells(peak, bar_w), s.clipping)

    def changed(self) -> None:
        """The levels may have changed: show them if what is drawn changed (UI thread)."""
        key = self._key()
        if key != self._shown:
            self._shown = key
            show_change(self, self.painter)

    def render_line(self, y: int) -> Strip:
        """The meter row (UI thread)."""
        width, base, s = self.size.width, self.rich_style, self.stats
        if y > 0 or width <= 0:
            return Strip.blank(width, base)
        bar_w = max(4, (width - 40) // 2)
        segs = [Segment("RMS ", base)]
        segs += _bar(s.rms_dbfs, bar_w, base)
        segs.append(Segment(f" {_db(s.rms_dbfs)}   Peak ", base))
        segs += _bar(s.peak_dbfs, bar_w, base)
        segs.append(Segment(f" {_db(s.peak_dbfs)} dBFS ", base))
        segs.append(Segment(" CLIP ", base + CLIP) if s.clipping else Segment("      ", base))
        return Strip(segs).crop(0, width).extend_cell_length(width, base)
