"""The plot: frequency axis, waterfall, spectrum panel, colour bar and time scale drawn by
one line-API widget.

Textual's cost per update grows with the number of (widget, line) pairs it re-renders and
with the widget boundaries it cuts each screen line at, so the parts of the plot
(:mod:`~livespec.tui.widgets.axes`, :mod:`~livespec.tui.widgets.colorbar`,
:mod:`~livespec.tui.widgets.spectrum`, :mod:`~livespec.tui.widgets.waterfall`) are thin renderers
with their own caches, and this widget joins their rows. UI thread only.

Layout, ``horizontal`` (time scrolls left)::

    axis | waterfall | spectrum | colour bar
    Hz   | time scale|          | dBFS

``vertical`` (time flows down)::

         | frequency axis (2 rows)  |
         | spectrum (8 rows)        |
    time | waterfall                | colour bar
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.events import Click, Resize
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from livespec.render.patch import HScroll, Row, ScreenPatch, Scroll
from livespec.render.raster import join_rows
from livespec.render.terminal import AnsiStrip
from livespec.render.view import WaterfallView
from livespec.tui.widgets.axes import FreqAxis, TimeAxis
from livespec.tui.widgets.colorbar import ColorBar
from livespec.tui.widgets.common import StyledWidget
from livespec.tui.widgets.plot_direct import TextCache, parts, shifted_rows
from livespec.tui.widgets.spectrum import SpectrumPanel
from livespec.tui.widgets.waterfall import WaterfallPart

AXIS_W = 7  # frequency axis (horizontal) or time scale (vertical), cells
BAR_W = 8  # colour bar with labels, cells
SPEC_W = 24  # spectrum panel beside a horizontal waterfall, cells
SPEC_H = 8  # spectrum panel above a vertical waterfall, rows
UNIT = Style(dim=True)


class DirectOutput(Protocol):
    """Where the plot writes its changed rows itself (the app's terminal output)."""

    def write(self, text: str) -> None:
        """Hand escape sequences to the terminal, in order with Textual's updates."""

    def textual_redraw(self) -> None:
        """Note that the plot asked Textual for a redraw instead (frame log)."""

    def can_draw(self, widget: Widget) -> bool:
        """True when nothing covers ``widget`` on the terminal (see :func:`can_draw_direct`)."""


class Plot(StyledWidget):
    """Everything drawn from the :class:`WaterfallView`.

    Args:
        view: what to draw.
        spectrum: show the spectrum panel.
        panel: the spectrum panel (default: a plain :class:`SpectrumPanel`).
        output: where to write changed rows directly (None: always through Textual).
    """

    DEFAULT_CSS = """
    Plot { height: 1fr; width: 1fr; }
    """

    class CellClicked(Message):
        """A click on waterfall cell (``x``, ``y``) (posted on the UI thread)."""

        def __init__(self, x: int, y: int) -> None:
            super().__init__()
            self.x, self.y = x, y

    def __init__(
        self,
        view: WaterfallView,
        *,
        spectrum: bool = True,
        panel: SpectrumPanel | None = None,
        output: DirectOutput | None = None,
        id: str | None = None,
    ):
        super().__init__(id=id)
        self.view = view
        self.show_spectrum = spectrum
        self.output = output
        self.freq_axis = FreqAxis(view)
        self.time_axis = TimeAxis(view)
        self.colorbar = ColorBar(view)
        self.spectrum = SpectrumPanel(view) if panel is None else panel
        self.waterfall = WaterfallPart(view)
        self._key: Hashable = None  # what _rows show
        self._rows: list[Strip] = []
        self._synced: Hashable = None  # what the last sync() showed or asked Textual for
        self.direct = True  # write changed rows to the terminal without Textual's update
        self._patch = ScreenPatch()
        self._scrolls: tuple[int, int] | None = None  # view.scrolls the terminal shows
        self._hscrolls: tuple[int, int] | None = None  # view.hscrolls the terminal shows
        self._pure: set[int] = set()  # waterfall rows shown without cursor or marker
        self.shift_columns = True  # let the terminal shift the horizontal waterfall (ICH/DCH)
        self._texts: TextCache = {}  # the side parts' escape sequences (direct drawing)
        self._time_key: Hashable = None
        self._time_strip = Strip.blank(0)

    # -- geometry ----------------------------------------------------------------------

    def waterfall_size(self, width: int, height: int) -> tuple[int, int]:
        """Cells of the waterfall inside a plot of ``width`` x ``height``."""
        spec = self.show_spectrum
        if self.view.orientation == "horizontal":
            return max(0, width - AXIS_W - BAR_W - (SPEC_W if spec else 0)), max(0, height - 1)
        return max(0, width - AXIS_W - BAR_W), max(0, height - 2 - (SPEC_H if spec else 0))

    def relayout(self) -> None:
        """Give the view the waterfall's size and redraw."""
        self.view.resize(*self.waterfall_size(self.size.width, self.size.height))
        self.refresh()

    def waterfall_cell(self, x: int, y: int) -> tuple[int, int] | None:
        """The waterfall cell at widget cell (``x``, ``y``), None outside the waterfall."""
        v = self.view
        top = 0 if v.orientation == "horizontal" else 2 + (SPEC_H if self.show_spectrum else 0)
        cx, cy = x - AXIS_W, y - top
        if 0 <= cx < v.width and 0 <= cy < v.height:
            return cx, cy
        return None

    def on_click(self, event: Click) -> None:
        """A click on the waterfall says where (:class:`CellClicked`; the app puts the
        cursor there, the mouse on top of the arrow keys; UI thread)."""
        cell = self.waterfall_cell(event.x, event.y)
        if cell is not None:
            self.post_message(self.CellClicked(*cell))

    def on_resize(self, event: Resize) -> None:
        """Follow the terminal (UI thread)."""
        self.relayout()

    def set_spectrum(self, show: bool) -> None:
        """Show or hide the spectrum panel."""
        self.show_spectrum = show
        self.relayout()

    def set_orientation(self, orientation: str) -> None:
        """``horizontal`` or ``vertical``."""
        self.view.set_orientation(orientation)
        self.relayout()

    # -- drawing ------------------------------------------------------------------------

    def _cache_key(self) -> Hashable:
        return (
            self.size,
            self.show_spectrum,
            self.waterfall.cache_key(),
            self.freq_axis.cache_key(),
            self.time_axis.cache_key(),
            self.colorbar.cache_key(),
            self.spectrum.cache_key() if self.show_spectrum else None,
        )

    def sync(self) -> None:
        """Redraw if anything drawn changed (called by the app every tick): the rows that
        changed go straight to the terminal when :meth:`_can_draw_direct`, else Textual
        refreshes the widget."""
        key = self._cache_key()
        if key == self._synced:
            return
        self._synced = key
        output = self.output
        if output is None or not self._can_draw_direct(output):
            self._patch.forget()
            self._scrolls = self._hscrolls = None
            self.refresh()
            if output is not None:
                output.textual_redraw()
            return
        region = self.region
        console = self.app.console
        rows = self._shifted_rows(console)
        if rows is None:
            rows = [parts(row, console) for row in self._current_rows()]
        text = self._patch.update(
            region.x,
            region.y,
            region.width,
            rows,
            self._scroll(region.x == 0 and region.width == self.screen.size.width),
            self._hscroll(),
        )
        if text:
            output.write(text)

    def _shifted_rows(self, console: Console) -> list[Row] | None:
        """:func:`shifted_rows` (horizontal, without cursor, marker or overlays; None
        otherwise: the rows are built)."""
        view = self.view
        system = view.table.system
        if (
            view.orientation != "horizontal"
            or view.width <= 0
            or view.height <= 0
            or view.cursor_on
            or view.marker_cell() is not None
            or self.waterfall.extra
            or console.color_system != system
        ):
            return None
        base, wh = self.rich_style, view.height
        right = [self.colorbar.lines(BAR_W, wh, base, system)]
        if self.show_spectrum:
            right.insert(0, self.spectrum.lines(SPEC_W, wh, base, system))
        axis = self.freq_axis.lines(AXIS_W, wh, base, system)
        bottom = self._time_row(base, system)
        return shifted_rows(view, console, axis, right, bottom, self._texts)

    def _can_draw_direct(self, output: DirectOutput) -> bool:
        """True when the terminal shows this widget's rows as they are: a real terminal,
        the plot's screen on top, nothing over the plot, and rows with their own escape
        sequences (no filter, tint or opacity)."""
        return self.direct and self._fast_path_ok() and output.can_draw(self)

    def screen_written(self, spans: list[tuple[int, int, int]] | None) -> None:
        """Textual wrote to the terminal: ``spans`` (row, x1, x2) of the screen, or the
        whole screen (None). The plot's rows it touched are no longer known to
        :class:`ScreenPatch`, so the next direct update rewrites them (UI thread)."""
        region = self.region
        if spans is None:
            self._patch.forget()
            return
        x1, x2 = region.x, region.right
        y0 = region.y
        rows = [y - y0 for y, a, b in spans if a < x2 and b >= x1]
        if rows:
            self._patch.forget(rows)

    def _fast_path_ok(self) -> bool:
        styles = self.styles
        return not (
            self.get_line_filters()
            or styles.tint.a
            or styles.opacity != 1.0
            or styles.text_opacity != 1.0
            or self.view.table.depth == "none"
            or any(styles.gutter)
        )

    def _scroll(self, full_width: bool) -> Scroll | None:
        """How far the vertical waterfall's rows moved down since the terminal last
        showed them (None: not known, or not a whole-width scroll)."""
        now = self.view.scrolls if self.view.orientation == "vertical" else None
        before, self._scrolls = self._scrolls, now
        if not full_width or now is None or before is None or now[0] != before[0]:
            return None
        lines = now[1] - before[1]
        first = 2 + (SPEC_H if self.show_spectrum else 0)
        last = first + self.view.height - 1
        return Scroll(first, last, lines) if 0 < lines < self.view.height else None

    def _hscroll(self) -> HScroll | None:
        """How far the horizontal waterfall's rows moved left since the terminal last
        showed them, with the new cells at their right end (None: not known, or nothing
        to shift). Rows with the cursor or marker now or before are written whole."""
        view = self.view
        horizontal = view.orientation == "horizontal"
        now = view.hscrolls if horizontal else None
        before, self._hscrolls = self._hscrolls, now
        pure = self._pure
        self._pure = set(range(view.height)) - self._overlay_rows() if horizontal else set()
        if not self.shift_columns or now is None or before is None or now[0] != before[0]:
            return None
        columns = now[1] - before[1]
        if not 0 < columns < view.width:
            return None
        tails = view.tails(columns)
        if tails is None:
            return None
        keep = pure & self._pure
        return HScroll(
            AXIS_W, view.width, columns, {y: t for y, t in enumerate(tails) if y in keep}
        )

    def _overlay_rows(self) -> set[int]:
        """Waterfall rows with the cursor or the marker drawn on them."""
        view = self.view
        rows: set[int] = set()
        mark = view.marker_cell()
        if mark is not None:
            rows.add(mark[1])
        if view.cursor_on:
            rows.add(view.cursor_cell()[1])
        return rows

    def _current_rows(self) -> list[Strip]:
        key = self._cache_key()
        if key != self._key:
            self._rows = self._render_rows(self.size.width, self.size.height, self.rich_style)
            self._key = key
        return self._rows

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the plot (UI thread)."""
        rows = self._current_rows()
        if y < len(rows):
            return rows[y]
        return Strip.blank(self.size.width, self.rich_style)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows inside ``crop`` (UI thread).

        Textual's default copies every row through its style cache (a new Strip per row,
        whose escape sequences are then formatted segment by segment). The plot has no
        border, padding, tint or opacity, so its own rows (:class:`AnsiStrip`, with their
        sequences joined from cached parts) go to the compositor as they are. With a line
        filter (``--colors none``, ``NO_COLOR``) or any such style, Textual's path is used.
        """
        if not self._fast_path_ok():
            return super().render_lines(crop)
        rows = self._current_rows()
        width = self.size.width
        blank: Strip | None = None
        out: list[Strip] = []
        x1, x2 = crop.column_span
        for y in crop.line_range:
            if y < len(rows):
                out.append(rows[y])
            else:
                blank = blank or Strip.blank(width, self.rich_style)
                out.append(blank)
        if (x1, x2) != (0, width):
            out = [strip.crop(x1, x2) for strip in out]
        return out

    def _time_row(self, base: Style, system: str | None) -> Strip:
        """The horizontal plot's bottom row: the unit, the time scale and dBFS."""
        time = self.time_axis.lines(self.view.width, 1, base, system)[0]
        unit = "note" if self.view.scale == "cqt" else "Hz"
        key = (time, self.show_spectrum, unit, base, system)
        if key != self._time_key:
            gap = Strip.blank(SPEC_W if self.show_spectrum else 0, base)
            parts = [_text(unit.rjust(6), AXIS_W, base), time, gap, _text(" dBFS", BAR_W, base)]
            self._time_key, self._time_strip = key, join_rows(parts, system)
        return self._time_strip

    def _render_rows(self, width: int, height: int, base: Style) -> list[Strip]:
        view = self.view
        system = None if view.table.depth == "none" else view.table.system

        def _join(strips: list[Strip]) -> Strip:
            return join_rows(strips, system)

        ww, wh = view.width, view.height
        if ww <= 0 or wh <= 0:
            return []
        wf = self.waterfall.cell_rows(ww)
        wf += [([Segment(" " * ww, base)], None)] * (wh - len(wf))
        bar = self.colorbar.lines(BAR_W, wh, base, system)
        rows: list[Strip] = []
        unit = "note" if view.scale == "cqt" else "Hz"  # the frequency axis's labels
        if view.orientation == "horizontal":
            axis = self.freq_axis.lines(AXIS_W, wh, base, system)
            spec = self.spectrum.lines(SPEC_W, wh, base, system) if self.show_spectrum else None
            for y in range(wh):
                right = [bar[y]] if spec is None else [spec[y], bar[y]]
                rows.append(_with_cells([axis[y]], wf[y], ww, right, system))
            rows.append(self._time_row(base, system))
            return rows
        pad, pad_bar = Strip.blank(AXIS_W, base), Strip.blank(BAR_W, base)
        axis = self.freq_axis.lines(ww, 2, base, system)
        rows.append(_join([pad, axis[0], pad_bar]))
        rows.append(
            _join([_text(unit.rjust(7), AXIS_W, base), axis[1], _text(" dBFS", BAR_W, base)])
        )
        if self.show_spectrum:
            for line in self.spectrum.lines(ww, SPEC_H, base, system):
                rows.append(_join([pad, line, pad_bar]))
        times = self.time_axis.lines(AXIS_W, wh, base, system)
        for y in range(wh):
            rows.append(_with_cells([times[y]], wf[y], ww, [bar[y]], system))
        return rows


def _with_cells(
    left: list[Strip],
    cells: tuple[list[Segment], str | None],
    width: int,
    right: list[Strip],
    system: str | None,
) -> Strip:
    """A row: the ``left`` Strips, the waterfall's cells (``width`` wide, with their escape
    sequences or None) and the ``right`` Strips; an :class:`AnsiStrip` unless ``system``
    is None."""
    segs, ansi = cells
    out: list[Segment] = []
    total = width
    for s in left:
        out.extend(s)
        total += s.cell_length
    out.extend(segs)
    for s in right:
        out.extend(s)
        total += s.cell_length
    if system is None:
        return Strip(out, total)
    middle: str | Strip = Strip(segs, width) if ansi is None else ansi
    return AnsiStrip(out, total, [*left, middle, *right], system)


def _text(text: str, width: int, base: Style) -> Strip:
    return Strip([Segment(text.ljust(width)[:width], base + UNIT)], width)
