"""The plot's rows as pieces for :class:`~livespec.render.patch.ScreenPatch`, the form in
which the plot writes them to the terminal itself. UI thread.
"""

from __future__ import annotations

from rich.console import Console

from livespec.render.patch import Lazy, Piece, Row
from livespec.render.terminal import AnsiStrip, Strip
from livespec.render.view import WaterfallView

# (id(list of Strips), x) -> (the list, its pieces)
TextCache = dict[tuple[int, int], tuple[list[Strip], list[Piece]]]


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
    cache: TextCache,
) -> list[Row]:
    """The rows of a horizontal plot, ``left[y]``, the waterfall's row ``y`` and each of
    ``right``'s ``[y]`` side by side, then ``bottom``, as :func:`parts` gives them for
    the built rows, except that each waterfall piece is a :class:`Lazy`: made only if the
    row has to be written whole; where the terminal shifts the row (``HScroll``) no row
    is built. Every Strip must bring its own sequences for ``console``'s colour system;
    ``cache`` keeps the sequences of the lists of Strips that come back unchanged."""
    epoch, cols = view.hscrolls
    row_text = view.row_text
    x0 = left[0].cell_length if left else 0
    sides: list[list[Piece]] = [_pieces(left, 0, console, cache)] if left else []
    x = x0 + view.width
    for part in right:
        sides.append(_pieces(part, x, console, cache))
        x += part[0].cell_length if part else 0
    h = view.height
    lazies: list[Piece] = [(x0, Lazy((epoch, cols, y), row_text, y)) for y in range(h)]
    columns = [*sides[:1], lazies, *sides[1:]] if left else [lazies, *sides]
    rows: list[Row] = list(zip(*columns, strict=True))
    rows.append(parts(bottom, console))
    return rows


def _pieces(lines: list[Strip], x: int, console: Console, cache: TextCache) -> list[Piece]:
    """(``x``, escape sequences) of each Strip; kept while the same list comes back (a
    part's rows are one list until they change)."""
    hit = cache.get((id(lines), x))
    if hit is not None and hit[0] is lines:
        return hit[1]
    pieces: list[Piece] = [(x, strip.render(console)) for strip in lines]
    if len(cache) > 16:
        cache.clear()
    cache[(id(lines), x)] = (lines, pieces)
    return pieces
