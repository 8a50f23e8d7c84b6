"""Small helpers shared by the widgets: label placement on one row. UI thread."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.strip import Strip
from textual.widget import Widget

from livespec.render.raster import AnsiStrip, compact_ansi
from livespec.render.terminal import styles_key


def place(width: int, items: Iterable[tuple[int, str, Style]], base: Style) -> Strip:
    """A row of ``width`` cells with each text at its x (clipped; later items that would
    overlap an earlier one are dropped)."""
    cells: list[tuple[str, Style]] = [(" ", base)] * width
    taken = [False] * width
    for x, text, style in items:
        x = max(0, min(x, width - len(text)))
        end = min(width, x + len(text))
        if x >= end or any(taken[x:end]):
            continue
        for i in range(x, end):
            cells[i] = (text[i - x], base + style)
            taken[i] = True
    segs: list[Segment] = []
    run, run_style = "", base
    for ch, st in cells:
        if st is run_style:
            run += ch
        else:
            if run:
                segs.append(Segment(run, run_style))
            run, run_style = ch, st
    if run:
        segs.append(Segment(run, run_style))
    return Strip(segs, width)


class Part:
    """A piece of the plot (axis, colour bar, spectrum) drawn as rows of Strips.

    Subclasses give :meth:`cache_key` (cheap; everything the picture depends on) and
    :meth:`render_all`; :meth:`lines` re-renders only when the key or the size changed.
    UI thread only.
    """

    def __init__(self) -> None:
        self._key: Hashable = None
        self._lines: list[Strip] = []

    def cache_key(self) -> Hashable:
        """What the rows depend on (besides the size)."""
        raise NotImplementedError

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """Every row of the part (may return fewer than ``height`` rows)."""
        raise NotImplementedError

    def lines(self, width: int, height: int, base: Style, system: str | None = None) -> list[Strip]:
        """``height`` rows of ``width`` cells (cached). With a colour ``system`` name the
        rows carry compact escape sequences of their own (:func:`compact_ansi`), which
        the plot writes to the terminal as they are."""
        key = (self.cache_key(), width, height, base, system)
        if key != self._key:
            rows = self.render_all(width, height, base) if width > 0 and height > 0 else []
            rows = [  # crop_extend to the same width gives the row itself
                r if r.cell_length == width else r.crop_extend(0, width, base)
                for r in rows[:height]
            ]
            rows += [Strip.blank(width, base)] * (max(height, 0) - len(rows))
            if system is not None:
                rows = [r if isinstance(r, AnsiStrip) else _compact(r, width, system) for r in rows]
            self._lines, self._key = rows, key
        return self._lines


def _compact(strip: Strip, width: int, system: str) -> Strip:
    segs = list(strip)
    return AnsiStrip(segs, width, [compact_ansi(segs, system)], system)


Painter = Callable[[Widget], bool]  # paints a widget without Textual; False if it cannot


def show_change(widget: Widget, painter: Painter | None) -> None:
    """``widget``'s picture changed: have ``painter`` paint it at once (the app's direct
    output), else (no painter, or it cannot) ask Textual to refresh it (UI thread)."""
    if painter is None or not painter(widget):
        widget.refresh()


class StyledWidget(Widget):
    """A widget whose :attr:`rich_style` and :attr:`background_colors` are kept until a
    style they depend on changes.

    Textual computes them afresh on each use from every ancestor's styles (about 0.1 ms);
    the app's widgets use them on every tick and every direct paint. UI thread only.
    """

    _style_key: Hashable = None
    _style: Style = Style()
    _colors_key: Hashable = None
    _colors: tuple[Color, Color] = (Color(0, 0, 0, 0), Color(0, 0, 0, 0))

    @property
    def rich_style(self) -> Style:
        """Textual's ``rich_style``, recomputed only when :func:`styles_key` changed."""
        key = styles_key(self)
        if key != self._style_key:
            self._style, self._style_key = super().rich_style, key
        return self._style

    @property
    def background_colors(self) -> tuple[Color, Color]:
        """Textual's ``background_colors``, recomputed only when :func:`styles_key`
        changed."""
        key = styles_key(self)
        if key != self._colors_key:
            self._colors, self._colors_key = super().background_colors, key
        return self._colors


class CachedLines(StyledWidget):
    """A line-API widget that renders all its rows at once when its key changes.

    Subclasses give :meth:`cache_key` (cheap; everything the picture depends on) and
    :meth:`render_all`. The app calls :meth:`sync` every tick; it refreshes only when the
    key changed. ``painter`` (set by the app): paints a change without Textual. UI thread
    only.
    """

    def __init__(self, *, id: str | None = None, painter: Painter | None = None) -> None:
        super().__init__(id=id)
        self._key: Hashable = None
        self._lines: list[Strip] = []
        self.painter = painter

    def cache_key(self) -> Hashable:
        """What the rows depend on (besides the size)."""
        raise NotImplementedError

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """Every row of the widget."""
        raise NotImplementedError

    def _full_key(self) -> Hashable:
        return (self.cache_key(), self.size.width, self.size.height)

    def sync(self) -> None:
        """Refresh if what the rows depend on changed."""
        if self._full_key() != self._key:
            self.refresh()

    def render_line(self, y: int) -> Strip:
        """Row ``y`` from the cache (rebuilt when the key changed)."""
        key = self._full_key()
        if key != self._key:
            w, h = self.size.width, self.size.height
            self._lines = self.render_all(w, h, self.rich_style) if w > 0 and h > 0 else []
            self._key = key
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.rich_style)


class TextLines(CachedLines):
    """Lines of Rich text drawn with the line API: changing the text repaints only this
    widget (a ``Static.update`` would ask for a new layout of the whole screen)."""

    def __init__(self, *, id: str | None = None, painter: Painter | None = None) -> None:
        super().__init__(id=id, painter=painter)
        self.text: Text = Text()
        self._shown: Hashable = ("", (), "")

    def set_text(self, text: Text) -> None:
        """Show ``text`` (refreshes only if it changed)."""
        key = (text.plain, tuple(text.spans), text.style)  # cheaper than its markup
        if key != self._shown:
            self.text, self._shown = text, key
            show_change(self, self.painter)

    def cache_key(self) -> Hashable:
        """The text."""
        return self._shown

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """The text, cropped to the widget."""
        console = self.app.console
        options = console.options.update(width=width, height=height, no_wrap=True)
        lines = console.render_lines(self.text, options, style=base, pad=True)
        return [Strip(line, width) for line in lines[:height]]
