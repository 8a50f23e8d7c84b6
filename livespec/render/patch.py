"""Screen patches: the bytes that turn what a rectangle of the terminal shows into new rows.

The plot's rows change every frame while the rest of the screen rarely does. Handing them
to Textual costs a full screen update per frame (every widget in the changed box is
re-rendered, cut and placed); :class:`ScreenPatch` instead remembers what it (or Textual)
last put in each row of the rectangle, as pieces with their own escape sequences, and
writes only the pieces that differ, each after a cursor move. When the vertical waterfall
only moved down by whole text rows, it asks the terminal to scroll those rows (a scroll
region and reverse index, VT100 sequences every terminal and tmux know) and then writes
just the new top rows and the side pieces that differ.

Pure string code, no Textual; called on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter


class Lazy:
    """Escape sequences made only when they must be written: a piece that the terminal
    usually shifts into place (:class:`HScroll`) need not be built. ``make(arg)`` makes
    them; two with equal ``key`` have equal text; a Lazy never equals a string."""

    __slots__ = ("arg", "key", "make")

    def __init__(self, key: Hashable, make: Callable[[int], str], arg: int) -> None:
        self.key, self.make, self.arg = key, make, arg

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lazy) and self.key == other.key

    __hash__ = None  # type: ignore[assignment]

    def text(self) -> str:
        """The escape sequences."""
        return self.make(self.arg)


# (x in cells from the rectangle's left edge, escape sequences)
Piece = tuple[int, str | Lazy]
Row = Sequence[Piece]


_x = itemgetter(0)


def _text(text: str | Lazy) -> str:
    return text if isinstance(text, str) else text.text()


RESET = "\x1b[0m"
RESET_MARGINS = "\x1b[r"  # scroll region = the whole screen (moves the cursor home)
REVERSE_INDEX = "\x1bM"  # cursor up; at the top margin the region scrolls down a line


@dataclass(frozen=True)
class HScroll:
    """The piece at ``x`` (cells from the rectangle's left edge), ``width`` cells wide, of
    each row in ``tails`` moved left by ``columns`` cells since the terminal last showed
    it, and ``tails[y]``: the escape sequences of its last ``columns`` cells now.

    The terminal shifts those cells itself: delete ``columns`` characters at ``x`` (DCH,
    which pulls the rest of the line left), then insert as many at ``x + width - columns``
    (ICH, which pushes the rest of the line back where it was, so whatever stands right of
    the piece is untouched), and the tail is written into the gap. VT220 sequences that
    every terminal emulator and tmux know; about 60 bytes a row instead of a whole row."""

    x: int
    width: int
    columns: int
    tails: dict[int, str]


@dataclass(frozen=True)
class Scroll:
    """Rows ``first`` to ``last`` (inclusive, rectangle rows) moved down by ``lines``."""

    first: int
    last: int
    lines: int


def move_to(x: int, y: int) -> str:
    """Cursor to column ``x``, row ``y`` (0-based screen cells)."""
    return f"\x1b[{y + 1};{x + 1}H"


class ScreenPatch:
    """What the terminal shows in one rectangle of the screen, row by row."""

    def __init__(self) -> None:
        self._origin: tuple[int, int, int] | None = None  # x, y, width on screen
        self._shown: list[tuple[Piece, ...] | None] = []

    def forget(self, rows: Iterable[int] | None = None) -> None:
        """The terminal's content of ``rows`` (all when None) is no longer known."""
        if rows is None:
            self._shown = []
            return
        shown = self._shown
        for y in rows:
            if 0 <= y < len(shown):
                shown[y] = None

    def update(
        self,
        x0: int,
        y0: int,
        width: int,
        rows: Sequence[Row],
        scroll: Scroll | None = None,
        hscroll: HScroll | None = None,
    ) -> str:
        """The bytes that make the rectangle at screen cell (``x0``, ``y0``), ``width``
        cells wide, show ``rows``; empty if nothing changed.

        ``scroll``: the content of those rows only moved down (the rectangle must span the
        whole screen width, since a terminal scrolls whole lines).
        ``hscroll``: a piece of some rows only moved left (:class:`HScroll`); rows the
        terminal's content of is not known are written whole instead.
        """
        if self._origin != (x0, y0, width):
            self._origin = (x0, y0, width)
            self._shown = []
        shown = self._shown
        if len(shown) < len(rows):
            shown.extend([None] * (len(rows) - len(shown)))
        del shown[len(rows) :]
        out: list[str] = []
        if scroll is not None and 0 < scroll.lines <= scroll.last - scroll.first:
            first, last, n = scroll.first, scroll.last, scroll.lines
            out.append(f"\x1b[{y0 + first + 1};{y0 + last + 1}r")
            out.append(move_to(0, y0 + first))
            out.append(REVERSE_INDEX * n)
            out.append(RESET_MARGINS)
            shown[first + n : last + 1] = shown[first : last + 1 - n]
            shown[first : first + n] = [None] * n
        tails: dict[int, str] = {}
        hx, dch, ich = -1, "", ""
        if hscroll is not None:  # what follows each shifted row's cursor row: see HScroll
            n, tails, hx = hscroll.columns, hscroll.tails, hscroll.x
            left = x0 + hscroll.x + 1  # 1-based column
            dch = f";{left}H" + (f"\x1b[{n}P" if n > 1 else "\x1b[P")
            ich = f";{left + hscroll.width - n}H" + (f"\x1b[{n}@" if n > 1 else "\x1b[@")
        append = out.append
        for y, row in enumerate(rows):
            old, shown[y] = shown[y], tuple(row)
            if old is not None and len(old) == len(row):
                tail = tails.get(y)
                skip = hx if tail is not None else -1
                changed: list[Piece] = []
                for piece, (ox, otext) in zip(row, old, strict=True):
                    x, text = piece
                    if x != ox:
                        break
                    if x != skip and text is not otext and text != otext:
                        changed.append(piece)
                else:  # the same pieces: write those that changed
                    if tail is not None:
                        append(f"\x1b[{y0 + y + 1}{dch}\x1b[{y0 + y + 1}{ich}")
                        append(tail)
                    for x, text in changed:
                        append(move_to(x0 + x, y0 + y))
                        append(_text(text))
                    continue
            append(move_to(x0 + (row[0][0] if row else 0), y0 + y))
            out.extend(_text(text) for _, text in row)
        if not out:
            return ""
        return RESET + "".join(out) + RESET
