"""The plot's own escape sequences draw exactly what Textual's rendering would draw.

The waterfall rows and the plot rows carry their escape sequences (:class:`AnsiStrip`;
no reset between cells, runs of equal cells share one colour sequence, rows scrolled
instead of rebuilt). These tests read both outputs with a small SGR interpreter and
compare the cells (character, foreground, background, attributes) one by one.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from support.app import make_rig, sync
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from livespec.render.raster import AnsiStrip, CellTable, compact_ansi
from livespec.render.view import WaterfallView
from livespec.tui.widgets.plot import Plot

Cell = tuple[str, Any, Any, frozenset[int]]
SYSTEMS = {"truecolor": "truecolor", "256": "256", "16": "standard"}
_TOKEN = re.compile(r"\x1b\[([0-9;]*)m|\x1b\[[0-9;]*[A-HJKf]|(.)", re.S)


def cells(ansi: str) -> list[Cell]:
    """The cells an SGR-only byte stream draws, and a check that it ends reset."""
    fg: Any = None
    bg: Any = None
    attrs: set[int] = set()
    out: list[Cell] = []
    for m in _TOKEN.finditer(ansi):
        if m.group(2) is not None:
            out.append((m.group(2), fg, bg, frozenset(attrs)))
            continue
        if m.group(1) is None:
            continue
        params = [int(p) if p else 0 for p in m.group(1).split(";")]
        i = 0
        while i < len(params):
            p = params[i]
            if p == 0:
                fg, bg, attrs = None, None, set()
            elif p in (38, 48):
                if params[i + 1] == 5:
                    value: Any = (5, params[i + 2])
                    i += 2
                else:
                    value = (2, *params[i + 2 : i + 5])
                    i += 4
                if p == 38:
                    fg = value
                else:
                    bg = value
            elif 30 <= p <= 37 or 90 <= p <= 97:
                fg = p
            elif 40 <= p <= 47 or 100 <= p <= 107:
                bg = p
            elif p == 39:
                fg = None
            elif p == 49:
                bg = None
            else:
                attrs.add(p)
            i += 1
    assert (fg, bg, attrs) == (None, None, set()), "the sequence must end reset"
    return out


def _console(depth: str) -> Console:
    return Console(force_terminal=True, color_system=SYSTEMS[depth])  # type: ignore[arg-type]


def _fresh(style: Any) -> Any:
    """A copy of ``style`` without its cached escape codes. Textual's ``render_style``
    uses ``Style._ansi`` when it is set, whatever colour system set it, and Rich hands out
    the same object for equal styles (``Style.__add__`` is cached): a test that rendered an
    equal style at another depth earlier in the session would leave its codes here."""
    if style is None:
        return None
    copy = style.copy()
    copy._ansi = None
    return copy


def _textual(strip: Strip, console: Console) -> str:
    """Textual's own rendering of the same segments, at ``console``'s colour system."""
    from rich.segment import Segment

    segs = [Segment(text, _fresh(style), ctl) for text, style, ctl in strip]
    return Strip(segs, strip.cell_length).render(console)


@pytest.mark.parametrize("depth", ["truecolor", "256", "16"])
def test_cell_rows_draw_what_textual_draws(depth: str) -> None:
    rng = np.random.default_rng(1)
    top = rng.integers(0, 256, size=(6, 50)).astype(np.uint8)
    top[:, 10:20] = 7  # runs of equal cells
    bottom = top.copy()
    bottom[::2] = rng.integers(0, 256, size=(3, 50)).astype(np.uint8)
    table = CellTable("magma", depth)
    console = _console(depth)
    for strip in table.strips(top, bottom):
        assert isinstance(strip, AnsiStrip)
        ours = strip.render(console)
        assert cells(ours) == cells(_textual(strip, console))
        assert len(ours) < len(_textual(strip, console))


def test_another_colour_system_falls_back_to_textual() -> None:
    table = CellTable("viridis", "truecolor")
    (strip,) = table.strips(np.array([[0, 255]], np.uint8), np.array([[9, 9]], np.uint8))
    console = _console("256")
    assert strip.render(console) == _textual(strip, console)


def _frames(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    rows = rng.uniform(-130.0, 0.0, size=(n, 1025)).astype(np.float32)
    rows[:, 100:400] = -125.0  # below the floor: runs
    return list(rows)


def test_scrolled_rows_equal_a_full_rebuild() -> None:
    rng = np.random.default_rng(2)
    view = WaterfallView(samplerate=48000, bins=1025, hop=512, history_seconds=5.0)
    view.resize(30, 12)
    for batch in (40, 1, 2, 3, 1, 29, 1, 30, 5):
        frames = _frames(batch, rng)
        view.push(frames, [0.0] * batch)
        scrolled = view.rows()
        view._dirty()  # forget the scrolling state: the next rows() rebuilds everything
        rebuilt = view.rows()
        assert scrolled == rebuilt
        view.push([], [])
    view.set_db(-90.0, -10.0)
    view.push(_frames(2, rng), [0.0, 0.0])
    scrolled = view.rows()
    view._dirty()
    assert scrolled == view.rows()


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
@pytest.mark.parametrize("depth", ["truecolor", "256", "16"])
@sync
async def test_plot_rows_draw_what_textual_draws(depth: str, orientation: str) -> None:
    rig = make_rig("demo", colors=depth, orientation=orientation)
    app = rig.app
    async with app.run_test(size=(100, 30)) as pilot:
        rig.feed(80)
        await pilot.press("left", "m", "left", "left")  # cursor and marker overlays
        rig.feed(5)
        await pilot.pause()
        plot = app.query_one(Plot)
        region = Region(0, 0, plot.size.width, plot.size.height)
        ours = plot.render_lines(region)
        theirs = Widget.render_lines(plot, region)
        assert len(ours) == len(theirs) == plot.size.height
        console = app.console
        for a, b in zip(ours, theirs, strict=True):
            assert list(a) == list(b)
            assert cells(a.render(console)) == cells(b.render(console))
        assert any(isinstance(row, AnsiStrip) for row in ours)


@pytest.mark.parametrize(
    ("depth", "system"), [("truecolor", "truecolor"), ("256", "256"), ("16", "standard")]
)
def test_compact_sequences_draw_what_textual_draws(depth: str, system: str) -> None:
    """compact_ansi: the same cells as Textual's rendering in fewer bytes; colour numbers
    that happen to be 39 or 49 (defaults as SGR codes) are kept inside 38;2 and 48;5."""
    from rich.segment import Segment
    from rich.style import Style

    base = Style(color="default", bgcolor="default")
    segs = [
        Segment("██▉", base + Style(color="rgb(49,39,49)")),
        Segment("   ", base),
        Segment("│", base + Style(color="bright_white", bold=True)),
        Segment("ab", Style(color="color(49)", bgcolor="color(39)")),
        Segment("", base + Style(italic=True)),
        Segment("  ", base),
    ]
    strip = Strip(segs, 11)
    console = _console(depth)
    ours = compact_ansi(segs, system)
    assert cells(ours) == cells(_textual(strip, console))
    assert len(ours) < len(_textual(strip, console))


@pytest.mark.parametrize("depth", ["truecolor", "256"])
def test_neighbours_sharing_a_colour_send_only_the_other(depth: str) -> None:
    """A cell whose top (foreground) equals its left neighbour's sends only its
    background, and the other way round; the row still draws what Textual draws."""
    table = CellTable("viridis", depth)
    top = np.array([[10, 10, 200, 200, 90]], np.uint8)
    bottom = np.array([[20, 220, 220, 30, 30]], np.uint8)
    (strip,) = table.strips(top, bottom)
    console = _console("truecolor" if depth == "truecolor" else "256")
    ansi = strip.render(console)
    assert cells(ansi) == cells(_textual(strip, console))
    sgrs = re.findall(r"\x1b\[([0-9;]*)m", ansi)[:-1]  # the last is the reset
    kinds = [("38" in s, "48" in s) for s in sgrs]
    assert kinds == [(True, True), (False, True), (True, False), (False, True), (True, False)]
