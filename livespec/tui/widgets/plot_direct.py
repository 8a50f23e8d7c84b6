"""The plot's rows as pieces for :class:`~livespec.render.patch.ScreenPatch`, the form in
which the plot writes them to the terminal itself. UI thread.
"""

from __future__ import annotations

from functools import partial

from rich.console import Console

from livespec.render.patch import Lazy, Piece, Row
from livespec.render.terminal import AnsiStrip, Strip
from livespec.render.view import WaterfallView


def parts(row: Strip, console: Console) -> Row:
    """A row as pieces with their escape sequences (see :class:`ScreenPatch`)."""
    if isinstance(row, AnsiStrip):
        return row.parts(console)
    return [(0, row.render(console))]


def shifted_rows(
    view: WaterfallView,
    console: Console,
    left: list[Strip],
    right: list[list[Strip]],
    bottom: Strip,
) -> list[Row]:
    """The rows of a horizontal plot, ``left[y]``, the waterfall's row ``y`` and each of
    ``right``'s ``[y]`` side by side, then ``bottom``, as :func:`parts` gives them for
    the built rows, except that each waterfall piece is a :class:`Lazy`: made only if the
    row has to be written whole; where the terminal shifts the row (``HScroll``) no row
    is built. Every Strip must bring its own sequences for ``console``'s colour system."""
    epoch, cols = view.hscrolls
    row_text = view.row_text
    x0 = left[0].cell_length if left else 0
    x_right = x0 + view.width
    rows: list[Row] = []
    for y in range(view.height):
        row: list[Piece] = [(0, left[y].render(console))] if left else []
        row.append((x0, Lazy((epoch, cols, y), partial(row_text, y))))
        x = x_right
        for part in right:
            strip = part[y]
            row.append((x, strip.render(console)))
            x += strip.cell_length
        rows.append(row)
    rows.append(parts(bottom, console))
    return rows
