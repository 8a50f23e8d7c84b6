"""The spectrum panel with averaging and harmonic markers.

A :class:`~livespec.tui.widgets.spectrum.SpectrumPanel` that draws the averaged spectrum
(:class:`~livespec.meter.live.SpectrumAverager`, averaged in linear power on the engine's
thread) instead of the newest frame while an averaging mode is on, names the mode in its
top row, and labels the fundamental and its harmonics (``◂1``, ``◂2``, ... at the right
edge of their rows beside a horizontal waterfall; ``1``, ``2``, ... in the top row above a
vertical one). The peak-hold line still follows the individual frames. UI thread only.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import numpy.typing as npt
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from livespec.dsp.averaging import AverageSpec
from livespec.meter.live import AveragedRow, SpectrumAverager, describe_average
from livespec.render.view import WaterfallView
from livespec.tui.widgets.spectrum import SpectrumPanel

MARK = Style(color="bright_yellow", bold=True)
MODE = Style(color="bright_cyan", bold=True)


def harmonic_marks(f0: float | None, highest: float, orders: int = 10) -> tuple[float, ...]:
    """Frequencies (Hz) of the fundamental ``f0`` and its harmonics 2..``orders`` up to
    ``highest`` Hz; empty when there is no fundamental."""
    if f0 is None or not f0 > 0.0:
        return ()
    return tuple(h * f0 for h in range(1, orders + 1) if h * f0 <= highest)


def mode_label(spec: AverageSpec) -> str:
    """The panel's short name for an averaging mode (empty for ``none``)."""
    return "" if spec.kind == "none" else f"avg {describe_average(spec, short=True)}"


def _overlay(strip: Strip, x: int, text: str, style: Style, width: int) -> Strip:
    """``strip`` with ``text`` written over cells ``x``.. (clipped to ``width``)."""
    n = len(text)
    x = max(0, min(x, width - n))
    return Strip.join([strip.crop(0, x), Strip([Segment(text, style)], n), strip.crop(x + n)])


class MarkedSpectrumPanel(SpectrumPanel):
    """The spectrum panel, averaged and marked; the app sets :attr:`mode` and
    :attr:`marks`.

    Attributes:
        averager: where the averaged rows come from.
        mode: the averaging shown (``none``: the newest frame, as the plain panel).
        marks: frequencies (Hz) of the fundamental and its harmonics to label, in order.
    """

    def __init__(self, view: WaterfallView, averager: SpectrumAverager) -> None:
        super().__init__(view)
        self.averager = averager
        self.mode = AverageSpec("none")
        self.marks: tuple[float, ...] = ()
        self._avg: AveragedRow | None = None
        # (id of a row, x, text, style) -> (that row, the row with the text written over):
        # most rows repeat from frame to frame, and a reused Strip keeps its sequences.
        self._overlays: dict[tuple[int, int, str, Style], tuple[Strip, Strip]] = {}

    def cache_key(self) -> Hashable:
        """The plain panel's key, the mode and the marks."""
        return (super().cache_key(), self.mode, self.marks)

    def _values(self, cells: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The averaged row (while a mode is on and the average matches it), else the
        newest frame; the hold as in the plain panel."""
        cur, hold = super()._values(cells)
        view = self.view
        if not view.paused:  # a paused view keeps the average it had
            self._avg = self.averager.latest
        avg_row = self._avg
        if (
            self.mode.kind == "none"
            or avg_row is None
            or avg_row.spec != self.mode
            or avg_row.db.shape[0] != view.bins
        ):
            return cur, hold
        avg = view.fmap.map_row(avg_row.db)
        if view.orientation == "horizontal":
            n = avg.shape[0] // 2 * 2
            avg = avg[:n].reshape(-1, 2).max(axis=1)
        return avg[:cells], hold

    def _overlaid(self, strip: Strip, x: int, text: str, style: Style, width: int) -> Strip:
        """:func:`_overlay`, cached per row object."""
        key = (id(strip), x, text, style)
        hit = self._overlays.get(key)
        if hit is not None and hit[0] is strip:
            return hit[1]
        if len(self._overlays) > 2048:
            self._overlays.clear()
        out = _overlay(strip, x, text, style, width)
        self._overlays[key] = (strip, out)
        return out

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """The plain panel's rows with the mode and the harmonic labels written over."""
        rows = super().render_all(width, height, base)
        if not rows or (not self.marks and self.mode.kind == "none"):
            return rows
        label = mode_label(self.mode)
        taken: set[int] = set()
        if label and len(label) <= width:
            rows[0] = self._overlaid(rows[0], width - len(label), label, base + MODE, width)
            taken.add(0)
        fmap = self.view.fmap
        if self.view.orientation == "horizontal":
            for order, f in enumerate(self.marks, start=1):
                pos = fmap.pos_of(f)
                if not 0.0 <= pos < fmap.pixels:
                    continue
                y = len(rows) - 1 - int(pos) // 2
                if 0 <= y < len(rows) and y not in taken:
                    text = f"◂{order}"
                    rows[y] = self._overlaid(rows[y], width - len(text), text, base + MARK, width)
                    taken.add(y)
            return rows
        used = [False] * width
        if label and len(label) <= width:
            used[width - len(label) :] = [True] * len(label)
        for order, f in enumerate(self.marks, start=1):
            pos = fmap.pos_of(f)
            if not 0.0 <= pos < min(fmap.pixels, width):
                continue
            text = str(order)
            x = min(int(pos), width - len(text))
            if any(used[max(x - 1, 0) : x + len(text) + 1]):
                continue
            rows[0] = self._overlaid(rows[0], x, text, base + MARK, width)
            used[x : x + len(text)] = [True] * len(text)
        return rows
