"""The private Textual (and Rich) names :mod:`livespec.render.terminal` relies on still exist.

livespec reaches past Textual's public API in one adapter module; a Textual upgrade that
renames or removes one of these names fails here, by name, instead of somewhere in the app
(or, worse, silently on the slow path). pyproject.toml pins the Textual versions these
tests ran against.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from rich.color import ColorSystem
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from support.app import sync
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.driver import Driver
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from livespec.render import terminal
from livespec.tui.widgets.common import StyledWidget


def test_private_modules_and_names_exist() -> None:
    seqs = importlib.import_module("textual._ansi_sequences")
    assert seqs.SYNC_START == "\x1b[?2026h" and seqs.SYNC_END == "\x1b[?2026l"
    compositor = importlib.import_module("textual._compositor")
    assert isinstance(inspect.getattr_static(compositor.Compositor, "visible_widgets"), property)
    update = compositor.ChopsUpdate([], [(3, 0, 10)], [])
    assert update.spans == [(3, 0, 10)]
    assert callable(getattr(App, "_display", None))
    assert list(inspect.signature(App._display).parameters) == ["self", "screen", "renderable"]
    assert callable(getattr(Driver, "write", None))


def test_strip_slots_are_the_ones_ansistrip_fills() -> None:
    """:class:`AnsiStrip`'s lean constructor fills Strip's private slots itself; with
    another layout it falls back to the slow constructor (correct, but the cost it saves
    comes back), so a change of the slots must be noticed."""
    slots = set(Strip.__slots__)
    assert terminal._STRIP_SLOTS | set(terminal._STRIP_CACHES) == slots
    assert terminal._LEAN
    row = terminal.AnsiStrip([Segment("ab")], 2, ["ab"], "truecolor")
    assert row.cell_length == 2 and list(row) == [Segment("ab")]
    assert row.crop(0, 1).cell_length == 1  # the caches that are never kept still work


def test_console_color_system_is_settable() -> None:
    console = Console(color_system="truecolor", force_terminal=True)
    assert hasattr(console, "_color_system")
    terminal.set_color_depth(console, "256")
    assert console.color_system == "256"
    terminal.set_color_depth(console, "none")
    assert console._color_system == ColorSystem.STANDARD


class _Tiny(App[int]):
    BINDINGS = [Binding("p", "bell", "Bell", id="bell")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        yield Static("x", id="x")


def test_app_private_attributes_exist_before_running() -> None:
    app = _Tiny()
    for name in ("_filters", "_driver", "_running", "_closed", "_exit", "_sync_available"):
        assert hasattr(app, name), name
    for name in ("_bindings", "_keymap", "_notifications"):
        assert hasattr(app, name), name
    assert isinstance(app._filters, list)
    assert hasattr(app._bindings, "copy") and hasattr(app._bindings, "apply_keymap")
    assert terminal.terminal_writer(app) is None  # not running: nothing to write to
    assert not terminal.has_notifications(app)
    assert terminal.synchronized(app, "x") == "x"  # no terminal said it can sync yet
    assert hasattr(Screen(), "_compositor")


@sync
async def test_app_hooks_work_on_a_running_app() -> None:
    app = _Tiny()
    seen: list[Any] = []
    after: list[int] = []
    async with app.run_test(size=(40, 10)) as pilot:
        terminal.hook_display(app, seen.append, lambda: after.append(1))
        assert "p" in terminal.bound_keys(app)
        app.set_keymap({"bell": "q"})
        assert "q" in terminal.bound_keys(app) and "p" not in terminal.bound_keys(app)
        visible = terminal.visible_widgets(app.screen)
        assert visible is not None and app.query_one("#x") in visible
        x = app.query_one("#x")
        assert hasattr(x, "_styles_cache") and hasattr(x._styles_cache, "clear")
        lines = terminal.render_now(x)  # the widget's lines as Textual paints them
        assert len(lines) == x.region.height and lines[0].text.startswith("x")
        assert lines[0].cell_length == x.region.width
        app.notify("hello")
        await pilot.pause()
        assert terminal.has_notifications(app)
        assert terminal.wrap_writer(app, lambda write: write)
    assert seen and len(after) == len(seen)  # every screen update went through the hook
    assert all(s is None or isinstance(s, list) for s in seen)


@pytest.mark.parametrize("name", ["SYNC_START", "SYNC_END"])
def test_the_adapter_imports_what_it_names(name: str) -> None:
    assert getattr(terminal, name) == getattr(
        importlib.import_module("textual._ansi_sequences"), name
    )


class _Styled(App[int]):
    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield StyledWidget(id="w")


@sync
async def test_a_kept_rich_style_follows_every_change_of_the_styles_it_depends_on() -> None:
    """``styles_key`` (Textual's private count of style changes) changes whenever an
    ancestor's or the widget's own style does, so the style and background colours the
    widgets keep are always those Textual computes afresh."""
    app = _Styled()
    async with app.run_test(size=(40, 10)) as pilot:
        w = app.query_one("#w", StyledWidget)
        box = app.query_one("#box")

        def fresh() -> Style:
            assert Widget.background_colors.fget(w) == w.background_colors  # type: ignore[attr-defined]
            return Widget.rich_style.fget(w)  # type: ignore[attr-defined,no-any-return]

        assert w.rich_style == fresh()
        key = terminal.styles_key(w)
        assert terminal.styles_key(w) == key  # nothing changed
        changes = [
            lambda: setattr(app.screen.styles, "background", "green"),
            lambda: setattr(box.styles, "background", "red"),
            lambda: setattr(w.styles, "color", "blue"),
            lambda: setattr(box.styles, "text_style", "bold"),
            lambda: setattr(w.styles, "background", "rgba(0,0,255,0.5)"),
        ]
        for change in changes:
            before = w.rich_style
            colors = w.background_colors
            change()
            await pilot.pause()
            assert terminal.styles_key(w) != key
            key = terminal.styles_key(w)
            assert w.rich_style == fresh() != before
            if changes.index(change) in (0, 1, 4):  # the backgrounds
                assert w.background_colors != colors
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert w.rich_style == fresh()
