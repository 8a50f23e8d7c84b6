"""ScreenPatch: incremental terminal updates give the same screen as drawing from scratch.

The bytes go through pyte, a terminal emulator (test-only dependency), so scroll regions,
reverse index and cursor moves are interpreted as a terminal would; what it shows after
each incremental update is compared cell by cell (character, foreground, background) with
a fresh emulator that got the same rows written in full.
"""

from __future__ import annotations

import random

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st

from livespec.render.patch import HScroll, Lazy, Piece, ScreenPatch, Scroll

W, H = 30, 14
Y0 = 3  # the rectangle's first screen row
ROWS = 8
LEFT, MID, RIGHT = 5, 20, 5


def _cell(rgb: tuple[int, int, int], ch: str) -> str:
    r, g, b = rgb
    return f"\x1b[38;2;{r};{g};{b};48;2;{b};{r};{g}m{ch}"


def _piece(seed: int, width: int) -> str:
    rnd = random.Random(seed)
    cells = [
        _cell((rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)), rnd.choice("▀ab"))
        for _ in range(width)
    ]
    return "".join(cells) + "\x1b[0m"


def _row(left: int, mid: int, right: int) -> list[Piece]:
    return [(0, _piece(left, LEFT)), (LEFT, _piece(mid, MID)), (LEFT + MID, _piece(right, RIGHT))]


def _terminal() -> tuple[pyte.Screen, pyte.ByteStream]:
    screen = pyte.Screen(W, H)
    stream = pyte.ByteStream(screen)
    # Something outside the rectangle that must survive every update.
    for y in [*range(Y0), *range(Y0 + ROWS, H)]:
        stream.feed(f"\x1b[{y + 1};1H\x1b[31m{'#' * W}\x1b[0m".encode())
    return screen, stream


def _cells(screen: pyte.Screen) -> list[list[tuple[str, str, str]]]:
    buf = screen.buffer
    return [[(buf[y][x].data, buf[y][x].fg, buf[y][x].bg) for x in range(W)] for y in range(H)]


def _from_scratch(rows: list[list[Piece]]) -> list[list[tuple[str, str, str]]]:
    screen, stream = _terminal()
    stream.feed(ScreenPatch().update(0, Y0, W, rows).encode())
    return _cells(screen)


def test_only_changed_pieces_are_written() -> None:
    patch = ScreenPatch()
    rows = [_row(y, 100 + y, 200 + y) for y in range(ROWS)]
    first = patch.update(0, Y0, W, rows)
    assert patch.update(0, Y0, W, rows) == ""  # nothing changed, nothing written
    rows2 = [list(r) for r in rows]
    rows2[4][1] = (LEFT, _piece(999, MID))
    out = patch.update(0, Y0, W, rows2)
    assert out.count("\x1b[") < 2 * MID + 6
    assert f"\x1b[{Y0 + 4 + 1};{LEFT + 1}H" in out
    assert len(out) < len(first) / ROWS


def test_scroll_moves_rows_and_rewrites_only_the_new_and_the_sides() -> None:
    screen, stream = _terminal()
    patch = ScreenPatch()
    # The middle column scrolls down one row per step; the sides stay (a colour bar and
    # labels that do not move with the data), so after a scroll they are rewritten.
    mids = list(range(1000, 1000 + ROWS))
    for step in range(6):
        rows = [_row(y, mids[y], 500 + y) for y in range(ROWS)]
        scroll = Scroll(1, ROWS - 1, 1) if step else None
        out = patch.update(0, Y0, W, rows, scroll)
        stream.feed(out.encode())
        assert _cells(screen) == _from_scratch(rows), f"step {step}"
        if step:
            assert "\x1bM" in out
            # rows 2.. of the middle moved with the scroll: only row 0's and row 1's
            # middles are written (row 0 is outside the scrolled lines)
            assert out.count(_piece(mids[1], MID)) == 1
            assert all(_piece(m, MID) not in out for m in mids[2:])
        mids = [mids[0], 2000 + step, *mids[1:-1]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # rows scrolled this step (0: none)
            st.lists(st.integers(0, 5), min_size=ROWS, max_size=ROWS),  # side seeds
            st.integers(0, ROWS),  # rows whose middle is new
            st.booleans(),  # Textual redrew a row in between
        ),
        min_size=1,
        max_size=8,
    )
)
def test_incremental_equals_from_scratch(steps: list[tuple[int, list[int], int, bool]]) -> None:
    screen, stream = _terminal()
    patch = ScreenPatch()
    mids = list(range(ROWS))
    fresh = 100
    first, last = 2, ROWS - 1
    for lines, sides, new_top, redraw in steps:
        if lines:
            mids[first + lines : last + 1] = mids[first : last + 1 - lines]
            for y in range(first, first + lines):
                mids[y] = fresh = fresh + 1
        for y in range(min(new_top, ROWS)):
            mids[y] = fresh = fresh + 1
        rows = [_row(sides[y], mids[y], sides[y] * 7) for y in range(ROWS)]
        if redraw:
            # someone else (Textual) wrote row 5 in full; the patch forgets what it showed
            stream.feed(ScreenPatch().update(0, Y0 + 5, W, [rows[5]]).encode())
            patch.forget([5])
        scroll = Scroll(first, last, lines) if lines else None
        stream.feed(patch.update(0, Y0, W, rows, scroll).encode())
        assert _cells(screen) == _from_scratch(rows)


def test_forgotten_rows_are_rewritten_and_a_moved_rectangle_starts_afresh() -> None:
    patch = ScreenPatch()
    rows = [_row(y, y, y) for y in range(ROWS)]
    patch.update(0, Y0, W, rows)
    patch.forget([2])
    out = patch.update(0, Y0, W, rows)
    assert out.count("H") == 1 and f"\x1b[{Y0 + 3};1H" in out
    assert len(patch.update(0, Y0 + 1, W, rows)) > len(out) * (ROWS - 1)


def _cells_ansi(colors: list[int]) -> str:
    """Cells with a colour per seed (both colours set each cell), ending reset."""
    return "".join(_cell((c % 256, c * 7 % 256, c * 13 % 256), "▀") for c in colors) + "\x1b[0m"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, MID - 1),  # columns the middle moved left this step
            st.lists(st.integers(0, 5), min_size=ROWS, max_size=ROWS),  # side seeds
            st.sets(st.integers(0, ROWS - 1), max_size=3),  # rows written whole instead
            st.booleans(),  # Textual redrew row 5 in between
        ),
        min_size=1,
        max_size=8,
    )
)
def test_hscroll_shifts_the_middle_and_keeps_what_is_right_of_it(
    steps: list[tuple[int, list[int], set[int], bool]],
) -> None:
    """The horizontal waterfall moves left: DCH at the piece's left edge and ICH at its
    right edge shift it in the terminal, the new columns are written at the right end, and
    the pieces right of it (and whatever stands right of the rectangle) stay as they were;
    rows not in ``tails`` are diffed as usual. The screen equals a full redraw after each
    step."""
    width = W - 4  # the rectangle stops 4 cells short of the screen's edge
    screen, stream = _terminal()
    for y in range(Y0, Y0 + ROWS):
        stream.feed(f"\x1b[{y + 1};{width + 1}H\x1b[32m@@@@\x1b[0m".encode())
    right = width - LEFT - MID

    def row(y: int, side: int, cols: list[int]) -> list[Piece]:
        return [
            (0, _piece(side, LEFT)),
            (LEFT, _cells_ansi(cols)),
            (LEFT + MID, _piece(side + 50, right)),
        ]

    def scratch(rows: list[list[Piece]]) -> list[list[tuple[str, str, str]]]:
        s, st_ = _terminal()
        for y in range(Y0, Y0 + ROWS):
            st_.feed(f"\x1b[{y + 1};{width + 1}H\x1b[32m@@@@\x1b[0m".encode())
        st_.feed(ScreenPatch().update(0, Y0, width, rows).encode())
        return _cells(s)

    patch = ScreenPatch()
    cols = [[1000 * y + x for x in range(MID)] for y in range(ROWS)]
    fresh = 10**6
    sides = [0] * ROWS
    stream.feed(patch.update(0, Y0, width, [row(y, 0, cols[y]) for y in range(ROWS)]).encode())
    for k, new_sides, whole, redraw in steps:
        for y in range(ROWS):
            cols[y] = cols[y][k:] + list(range(fresh, fresh + k))
            fresh += k
        sides = new_sides
        rows = [row(y, sides[y], cols[y]) for y in range(ROWS)]
        if redraw:
            stream.feed(ScreenPatch().update(0, Y0 + 5, width, [rows[5]]).encode())
            patch.forget([5])
        tails = {y: _cells_ansi(cols[y][-k:]) for y in range(ROWS) if y not in whole}
        out = patch.update(0, Y0, width, rows, hscroll=HScroll(LEFT, MID, k, tails))
        stream.feed(out.encode())
        assert _cells(screen) == scratch(rows)
        for y in tails:
            if not (redraw and y == 5):
                assert _cells_ansi(cols[y]) not in out  # never the whole middle


def test_lazy_pieces_are_made_only_when_written() -> None:
    """A Lazy piece is made when its row is written whole (unknown to the patch, or its key
    changed), not when the terminal shifts the row (HScroll) nor when its key is the one
    shown; it is never compared equal to a string."""
    made: list[int] = []

    def make(y: int) -> str:
        made.append(y)
        return f"row{y}"

    def rows(key: int) -> list[list[Piece]]:
        return [[(0, "ab"), (2, Lazy(key, make, y))] for y in range(3)]

    patch = ScreenPatch()
    first = patch.update(0, 0, 10, rows(1))
    assert made == [0, 1, 2] and all(f"row{y}" in first for y in range(3))
    made.clear()
    assert patch.update(0, 0, 10, rows(1)) == ""  # the same keys: nothing to write
    shifted = patch.update(0, 0, 10, rows(2), hscroll=HScroll(2, 4, 1, {0: "T", 1: "T", 2: "T"}))
    assert made == [] and shifted.count("T") == 3  # shifted rows need no row
    partly = patch.update(0, 0, 10, rows(3), hscroll=HScroll(2, 4, 1, {1: "T"}))
    assert made == [0, 2] and "row0" in partly and "row2" in partly and "row1" not in partly
    assert Lazy(1, make, 0) != "row0" and Lazy(1, make, 0) == Lazy(1, make, 5)
