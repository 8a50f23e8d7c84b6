"""The waterfall's text rows, rebuilt only where frames moved in.

While time scrolls along x, :class:`HKeys` keeps the screen's cell keys and looks up only
the columns of the frames pushed in since (what a terminal that shifts the rows itself
needs: no row is built). A full build turns every cell key into its segment and escape
sequence. While time scrolls along x in truecolor, each row keeps its cells and pieces, so
the next build looks up only the new columns and moves the rest left. In the
vertical orientation a text row always holds the same two frames, so rows that only moved
down are reused and :attr:`RowBuilder.scrolls` counts the move (a terminal can scroll it).

Pure code (Rich segments); the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from rich.segment import Segment

from livespec.render.raster import RESET, CellRow, CellTable, cell_keys, to_levels

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]


def new_keys(db: npt.NDArray[np.float32], lo: float, hi: float, canon: U8 | None) -> U16:
    """(height, k) cell keys, oldest first, of the horizontal waterfall's newest ``k``
    display rows ``db`` (newest first), coloured from ``lo`` to ``hi`` dBFS."""
    lv = to_levels(db, lo, hi)
    if canon is not None:
        lv = canon[lv]
    return cell_keys(np.ascontiguousarray(lv[::-1, ::-1].T))


class HKeys:
    """The horizontal waterfall's (height, width) cell keys, moved left as frames come in.

    :meth:`dirty` notes each change of the pixels; :meth:`update` brings the keys up to
    date, looking up only the columns of the frames pushed in since when that is all that
    changed. ``hscrolls`` is (epoch, columns moved left since the epoch began): a new epoch
    means the keys were rebuilt, not moved.
    """

    def __init__(self) -> None:
        self.keys: U16 | None = None
        self._pending: int | None = None  # frames pushed in since (None: rebuild)
        self.hscrolls = (0, 0)

    def dirty(self, shifted: int | None) -> None:
        """The pixels changed: only by ``shifted`` new frames, or anyhow (None)."""
        if shifted is None or self._pending is None:
            self._pending = None
        else:
            self._pending += shifted

    def update(
        self, shape: tuple[int, int], newest: Callable[[int], U16], every: Callable[[], U16]
    ) -> U16:
        """The keys now: ``newest(k)`` gives the (height, k) keys of the newest ``k``
        columns (oldest first), ``every()`` all of them."""
        keys, k = self.keys, self._pending
        same = keys is not None and keys.shape == shape
        if k == 0 and same and keys is not None:
            return keys
        epoch, cols = self.hscrolls
        if k is not None and 0 < k < shape[1] and same and keys is not None:
            keys = np.concatenate((keys[:, k:], newest(k)), axis=1)
            self.hscrolls = (epoch, cols + k)
        else:
            keys = every()
            self.hscrolls = (epoch + 1, 0)
        self.keys, self._pending = keys, 0
        return keys


class RowBuilder:
    """Builds (segments, escape sequences) rows from (height, width) cell keys and keeps
    what the next build can reuse."""

    def __init__(self) -> None:
        # Horizontal, truecolor: the screen's keys, each row's segments and escape
        # sequences per cell (None: nothing to build on).
        self.keys: U16 | None = None
        self.mark: tuple[int, int] | None = None  # HKeys.hscrolls the rows were built at
        self._row_cells: list[list[Segment]] = []
        self._row_pieces: list[list[str]] = []
        # Vertical: the keys and rows of the last build and the frame count they were
        # built at, to reuse rows that only moved down.
        self._vkeys: U16 | None = None
        self._vrows: list[CellRow] = []
        self._vend = 0
        self.scrolls = (0, 0)  # (epoch, text rows moved down since the epoch began)

    def can_scroll(self, height: int, width: int) -> bool:
        """True if the last build was a horizontal truecolor one of this size."""
        return self.keys is not None and self.keys.shape == (height, width)

    def horizontal(self, table: CellTable, keys: U16, hscrolls: tuple[int, int]) -> list[CellRow]:
        """The rows of the horizontal ``keys`` (:attr:`HKeys.hscrolls` ``hscrolls``): in
        truecolor only the columns that came in since the last build are looked up."""
        if table.depth != "truecolor":
            self.keys = self.mark = None
            return table.rows_from_keys(keys)
        epoch, cols = hscrolls
        mark = self.mark
        moved = cols - mark[1] if mark is not None and mark[0] == epoch else 0
        h, w = keys.shape
        if 0 < moved < w and self.can_scroll(h, w):
            rows = self.scrolled(table, keys, moved)
        else:
            rows = self.full(table, keys)
        self.mark = hscrolls
        return rows

    def full(self, table: CellTable, keys: U16) -> list[CellRow]:
        """Every row of ``keys`` (horizontal, truecolor), kept for :meth:`scrolled`."""
        h, w = keys.shape
        cells = table.cells(keys)
        pieces = table.pieces(keys, None)
        self.keys = keys
        self._row_cells = [cells[i : i + w] for i in range(0, h * w, w)]
        self._row_pieces = [pieces[i : i + w] for i in range(0, h * w, w)]
        join = "".join
        return [
            (c, join(p) + RESET) for c, p in zip(self._row_cells, self._row_pieces, strict=True)
        ]

    def scrolled(self, table: CellTable, keys: U16, k: int) -> list[CellRow]:
        """The rows of ``keys``, which are the last build's moved left by ``k`` columns
        with new ones at the right (horizontal, truecolor; after :meth:`full`)."""
        old = self.keys
        assert old is not None
        new = keys[:, -k:]
        h = old.shape[0]
        cells = table.cells(new)
        pieces = table.pieces(new, old[:, -1])
        first = keys[:, 0].tolist()
        join = "".join
        out: list[CellRow] = []
        row_cells, row_pieces = self._row_cells, self._row_pieces
        for y in range(h):
            c = row_cells[y][k:]
            c += cells[y * k : (y + 1) * k]
            p = row_pieces[y][k:]
            p += pieces[y * k : (y + 1) * k]
            p[0] = table.full_piece(first[y])  # a row starts with its colours
            row_cells[y], row_pieces[y] = c, p
            out.append((c, join(p) + RESET))
        self.keys = keys
        return out

    def vertical(
        self, table: CellTable, keys: U16, end: int, fpp: int, reuse: bool
    ) -> list[CellRow]:
        """Rows of the vertical waterfall showing frames up to ``end`` (``fpp`` frames per
        pixel); with ``reuse`` (frames were only pushed in), the rows that just moved down
        are taken from the last build and :attr:`scrolls` counts the move."""
        old, h = self._vkeys, keys.shape[0]
        moved = (end // fpp - 1) // 2 - (self._vend // fpp - 1) // 2
        epoch, total = self.scrolls
        if (
            reuse
            and old is not None
            and old.shape == keys.shape
            and 0 <= moved < h
            and np.array_equal(keys[moved + 1 :], old[1 : h - moved])
        ):
            # old row j holds the pair new row j + moved holds; old row 0 may have been
            # the incomplete newest pair, so new rows 0..moved are built afresh
            rows = table.rows_from_keys(keys[: moved + 1]) + self._vrows[1 : h - moved]
            self.scrolls = (epoch, total + moved)
        else:
            rows = table.rows_from_keys(keys)
            self.scrolls = (epoch + 1, 0)
        self._vkeys, self._vrows, self._vend = keys, rows, end
        self.keys = None
        return rows
