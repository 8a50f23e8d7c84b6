"""Every use of Textual's (and Rich's) private names, in one place.

livespec draws faster than Textual's public API allows in a few spots: rows that bring their
own escape sequences (:class:`AnsiStrip`, which fills a Strip's private slots), plot rows
and small widgets written straight to the terminal between Textual's own updates (the
driver, the synchronized-output sequences, the compositor's visible widgets, a widget's
cache of rendered lines), the colour depth the
user chose (the console's colour system) and the screen updates Textual writes (its
``_display`` hook). Each touch is a small function here; ``tests/test_textual_hooks.py``
checks that every private name still exists in the installed Textual, and pyproject.toml
pins the Textual versions those tests ran against.

This module sits in ``render/`` (below ``tui/``) so that the pure renderers can use
:class:`AnsiStrip`; at run time it imports only :mod:`textual.strip` and Textual's private
modules. UI thread unless noted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rich.color import ColorSystem
from rich.console import Console
from rich.segment import Segment
from textual._ansi_sequences import SYNC_END, SYNC_START
from textual._compositor import ChopsUpdate
from textual.geometry import Region
from textual.strip import Strip as Strip  # the one import of Strip for render/

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import Binding
    from textual.filter import LineFilter
    from textual.screen import Screen
    from textual.widget import Widget

Spans = list[tuple[int, int, int]]  # (screen row, x1, x2) written by one screen update
Write = Callable[[str], None]  # text to the terminal


# -- rows with their own escape sequences ---------------------------------------------------


class _NoCache:
    """Stands in for the small caches a Strip makes for itself (see :class:`AnsiStrip`)."""

    __slots__ = ()

    def get(self, key: object, default: object = None) -> object:
        """Nothing is ever cached."""
        return default

    def __setitem__(self, key: object, value: object) -> None:
        """Forget ``value`` at once."""


_NO_CACHE: Any = _NoCache()
_STRIP_CACHES = (
    "_divide_cache",
    "_crop_cache",
    "_style_cache",
    "_filter_cache",
    "_line_length_cache",
    "_crop_extend_cache",
    "_offsets_cache",
)
_STRIP_SLOTS = {"_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count"}
# The lean constructor below knows Textual 8's Strip; with any other layout of slots the
# normal one is used.
_LEAN = set(getattr(Strip, "__slots__", ())) == _STRIP_SLOTS | set(_STRIP_CACHES)


class AnsiStrip(Strip):
    """A Strip that brings its own escape sequences for one colour system.

    Textual turns a Strip into text for the terminal one segment at a time, with
    ``ESC[<style>m text ESC[0m`` around each (about 1 µs per segment). Rows of the plot are
    joined from parts whose sequences are known or cached (the waterfall's from
    :class:`CellTable`, the axis and colour bar Strips render once and keep theirs), so this
    Strip renders by joining ``pieces`` (strings, or Strips rendered by Textual). The
    segments are the same as a plain Strip's: cropping, dividing (an overlay on top),
    filters and screenshots use them and give plain Strips. Another colour system than
    ``system`` (``console.color_system``) falls back to Textual's rendering. ``segments``
    is taken, not copied: the caller must not change the list afterwards.
    """

    __slots__ = ("_ansi", "_pieces", "_system")

    def __init__(
        self,
        segments: list[Segment],
        cell_length: int,
        pieces: list[str | Strip],
        system: str,
    ) -> None:
        if _LEAN:
            # A plain Strip makes seven small caches (dicts) for results of cropping,
            # dividing, styling...; a row made for one frame never needs them, and
            # making them (and collecting them) cost as much as the rest of the row.
            self._segments = segments
            self._cell_length = cell_length
            self._render_cache = None
            self._link_ids = None
            self._cell_count = None
            for name in _STRIP_CACHES:
                setattr(self, name, _NO_CACHE)
        else:
            super().__init__(segments, cell_length)
        self._pieces = pieces
        self._system = system
        self._ansi: str | None = None

    def render(self, console: Console) -> str:
        """The terminal sequences of this row (UI thread)."""
        if console.color_system != self._system:
            return super().render(console)
        if self._ansi is None:
            self._ansi = "".join(
                [p if isinstance(p, str) else p.render(console) for p in self._pieces]
            )
        return self._ansi

    def parts(self, console: Console) -> list[tuple[int, str]]:
        """(x offset in cells, escape sequences) of each piece, so that a caller can
        rewrite only the pieces that changed (UI thread). Each piece ends with a reset or
        sets every attribute it uses."""
        if console.color_system != self._system:
            return [(0, super().render(console))]
        fixed = sum(p.cell_length for p in self._pieces if not isinstance(p, str))
        out: list[tuple[int, str]] = []
        x = 0
        for p in self._pieces:
            if isinstance(p, str):
                out.append((x, p))
                x += self.cell_length - fixed
            else:
                out.append((x, p.render(console)))
                x += p.cell_length
        return out


# -- the console and the app ----------------------------------------------------------------


_COLOR_SYSTEMS = {
    "truecolor": ColorSystem.TRUECOLOR,
    "256": ColorSystem.EIGHT_BIT,
    "16": ColorSystem.STANDARD,
    "none": ColorSystem.STANDARD,
}


def set_color_depth(console: Console, depth: str) -> None:
    """Make ``console`` write colours for ``depth`` (``truecolor``, ``256``, ``16`` or
    ``none``): Rich decides the colour system from the environment and has no setter."""
    console._color_system = _COLOR_SYSTEMS[depth]


def add_line_filter(app: App[Any], line_filter: LineFilter) -> None:
    """Apply ``line_filter`` to every screen line (before the app runs)."""
    app._filters.append(line_filter)


def bound_keys(app: App[Any]) -> Mapping[str, list[Binding]]:
    """Key -> the app's own bindings, with the keymap (``set_keymap``) applied."""
    bmap = app._bindings.copy()
    if app._keymap:
        bmap.apply_keymap(app._keymap)
    return bmap.key_to_bindings


def has_notifications(app: App[Any]) -> bool:
    """True while a notification (toast) is on the screen."""
    return bool(app._notifications)


def visible_widgets(screen: Screen[Any]) -> Mapping[Widget, tuple[Region, Region]] | None:
    """The widgets the screen shows, with their regions and clips (None: Textual's internals
    moved, so the caller must not assume what is on top)."""
    try:
        return screen._compositor.visible_widgets
    except AttributeError:
        return None


def styles_key(widget: Widget) -> tuple[tuple[object, int], ...]:
    """A key that changes whenever ``widget.rich_style`` may: the widget and its ancestors
    (what the style is computed from), each with its styles' count of changes (Textual
    counts every rule set, cleared or merged, a theme's too)."""
    return tuple([(node, node.styles._cache_key) for node in widget.ancestors_with_self])


def render_now(widget: Widget) -> list[Strip]:
    """Every line of ``widget`` (padding, background and all) as Textual paints it now;
    Textual's cache of its lines is renewed, so a later repaint by Textual shows the
    same."""
    widget._styles_cache.clear()
    region = widget.region
    return widget.render_lines(Region(0, 0, region.width, region.height))


# -- the terminal writer --------------------------------------------------------------------


def terminal_writer(app: App[Any]) -> Write | None:
    """Textual's terminal writer (it queues text for its writer thread, in order with the
    screen updates), or None when the app is not running on a terminal or is exiting (after
    ``exit()`` Textual leaves the alternate screen before it stops running; a direct write
    then would draw on the user's shell)."""
    driver = app._driver
    if driver is None or not app._running or app._closed or app._exit:
        return None
    return driver.write


def synchronized(app: App[Any], text: str) -> str:
    """``text`` as one synchronized update when the terminal supports it."""
    return f"{SYNC_START}{text}{SYNC_END}" if app._sync_available else text


def wrap_writer(
    app: App[Any], wrap: Callable[[Callable[[str], None]], Callable[[str], None]]
) -> bool:
    """Replace the driver's ``write`` with ``wrap(write)`` (e.g. to count bytes); False when
    there is no driver yet."""
    driver = app._driver
    if driver is None:
        return False
    driver.write = wrap(driver.write)  # type: ignore[method-assign, assignment]
    return True


def hook_display(
    app: App[Any], before: Callable[[Spans | None], None], after: Callable[[], None]
) -> None:
    """Around each screen update Textual hands to its writer: ``before(spans)`` with the
    screen rows it writes (None: the whole screen), ``after()`` once it is queued."""
    display = app._display

    def hooked(screen: Screen[Any], renderable: Any) -> None:
        if renderable is None:
            display(screen, renderable)
            return
        before(renderable.spans if isinstance(renderable, ChopsUpdate) else None)
        display(screen, renderable)
        after()

    app._display = hooked  # type: ignore[method-assign]
