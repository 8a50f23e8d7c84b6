"""Pure rendering: dB levels -> colour levels -> Strips of half-block cells.

A waterfall cell shows two pixels with ``▀`` (upper half in the foreground colour, lower
half in the background colour). Every (top, bottom) pair of 8-bit levels has one
precomputed :class:`~rich.segment.Segment` (and escape sequence) in a 65,536-entry table
indexed by ``top << 8 | bottom``, filled lazily as pairs occur; turning a row of levels
into a Strip is then a list lookup per run of identical cells, and the Strip carries its
escape sequences (:class:`AnsiStrip`), so Textual need not format every cell every frame.

Nothing here imports Textual widgets (only :class:`textual.strip.Strip`). Functions are
called on the UI thread but are thread-agnostic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from rich.color import Color, ColorSystem
from rich.segment import Segment
from rich.style import Style

# The ticks are re-exported for livespec.tui.widgets (axes, colour bar), which import them
# from here; their home is livespec.dsp.scales (and livespec.render.freqmap).
from livespec.dsp.scales import db_ticks as db_ticks
from livespec.dsp.scales import format_hz as format_hz
from livespec.dsp.scales import format_seconds as format_seconds
from livespec.dsp.scales import time_ticks as time_ticks
from livespec.render.colormaps import SHADES, palette
from livespec.render.freqmap import freq_ticks as freq_ticks
from livespec.render.terminal import AnsiStrip as AnsiStrip  # re-exported (it moved)
from livespec.render.terminal import Strip

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

UPPER_HALF = "▀"


# -- levels ------------------------------------------------------------------------------------


def to_levels(
    db: npt.NDArray[np.floating], db_min: float, db_max: float, out: U8 | None = None
) -> U8:
    """dB values -> colour levels 0..255 (``db_min`` -> 0, ``db_max`` -> 255)."""
    scale = 255.0 / max(db_max - db_min, 1e-6)
    tmp = (np.asarray(db, dtype=np.float32) - np.float32(db_min)) * np.float32(scale)
    np.clip(tmp, 0.0, 255.0, out=tmp)
    if out is None:
        out = np.empty(tmp.shape, dtype=np.uint8)
    np.rint(tmp, out=tmp)
    out[...] = tmp
    return out


# -- cells ------------------------------------------------------------------------------------


RESET = "\x1b[0m"
_SYSTEMS = {"truecolor": ColorSystem.TRUECOLOR, "256": ColorSystem.EIGHT_BIT}
_SYSTEM_NAMES = {"truecolor": "truecolor", "256": "256", "16": "standard", "none": "standard"}
CellRow = tuple[list[Segment], str]  # a row's segments and its escape sequences


_SYSTEM_OF_NAME = {
    "truecolor": ColorSystem.TRUECOLOR,
    "256": ColorSystem.EIGHT_BIT,
    "standard": ColorSystem.STANDARD,
    "windows": ColorSystem.WINDOWS,
}
_DEFAULT_CODES = frozenset(("39", "49"))
_sgr_cache: dict[tuple[Style | None, str], str] = {}


def compact_ansi(segments: list[Segment], system: str) -> str:
    """Escape sequences for ``segments`` in the colour system named ``system``, as few as
    the terminal needs: one SGR where the style changes (starting from a reset, so no
    attribute leaks; default colours left out), one reset at the end. Textual's own
    rendering puts ``ESC[...m text ESC[0m`` around every segment, about twice the bytes
    for the spectrum panel's short runs. Any thread."""
    cs = _SYSTEM_OF_NAME[system]
    out: list[str] = []
    prev: str | None = None
    cache = _sgr_cache
    for text, style, _ in segments:
        if not text:
            continue
        key = (style, system)
        sgr = cache.get(key)
        if sgr is None:
            codes = Strip.render_ansi(style, cs).split(";") if style else []
            sgr = ";".join(["0", *_without_defaults(codes)])
            if len(cache) > 4096:
                cache.clear()
            cache[key] = sgr
        if sgr != prev:
            out.append(f"\x1b[{sgr}m")
            prev = sgr
        out.append(text)
    out.append(RESET)
    return "".join(out)


def _without_defaults(codes: list[str]) -> list[str]:
    """SGR parameters without the default colours (39, 49), which a reset already sets;
    the numbers inside 38;5;N and 38;2;R;G;B (and 48;...) are kept whatever they are."""
    out: list[str] = []
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in ("38", "48") and i + 1 < len(codes):
            n = 3 if codes[i + 1] == "5" else 5
            out.extend(codes[i : i + n])
            i += n
            continue
        if code and code not in _DEFAULT_CODES:
            out.append(code)
        i += 1
    return out


def join_rows(parts: list[Strip], system: str | None) -> Strip:
    """Strips side by side as one row; an :class:`AnsiStrip` rendering its parts' own
    (cached) sequences when ``system`` is given."""
    segs: list[Segment] = []
    width = 0
    for s in parts:
        segs.extend(s)
        width += s.cell_length
    if system is None:
        return Strip(segs, width)
    return AnsiStrip(segs, width, list(parts), system)


class CellTable:
    """Segments for every (top, bottom) level pair, made on first use.

    Args:
        colormap: a name from :data:`~livespec.render.colormaps.COLORMAPS`.
        depth: ``truecolor``, ``256``, ``16`` or ``none`` (shade characters, no colour).
    """

    def __init__(self, colormap: str, depth: str) -> None:
        self.colormap = colormap
        self.depth = depth
        self.colors = palette(colormap, depth)
        self.system = _SYSTEM_NAMES[depth]
        self._color_system = _SYSTEMS.get(depth, ColorSystem.STANDARD)
        self._segments: list[Segment] = [Segment(" ")] * 65536
        self._styles: list[Style | None] = [None] * 65536
        self._filled = np.zeros(65536, dtype=bool)
        self._ansi_filled = np.zeros(65536, dtype=bool)  # escape sequences made (below)
        # escape sequences: [key] both colours and the character, [65536 + key] the
        # character only, [2 * 65536 + key] the foreground only (the left neighbour has the
        # same background), [3 * 65536 + key] the background only
        self._ansi: list[str] = [" "] * (4 * 65536)
        self.canon: U8 | None = _canonical_levels(self.colors, depth)
        # SGR parameters of each level as foreground and as background (what
        # Strip.render_ansi gives for Style(color=c, bgcolor=d), in two halves)
        cs = self._color_system
        self._fg = [";".join(c.downgrade(cs).get_ansi_codes()) for c in self.colors]
        self._bg = [";".join(c.downgrade(cs).get_ansi_codes(False)) for c in self.colors]

    def _make(self, key: int) -> None:
        top, bottom = key >> 8, key & 255
        if self.depth == "none":
            style = Style()
            seg = Segment(self._char(key), style)
        else:
            style = Style(color=self.colors[top], bgcolor=self.colors[bottom])
            seg = Segment(UPPER_HALF, style)
        self._segments[key] = seg
        self._styles[key] = style
        if not self._ansi_filled[key]:
            self._make_ansi(key)
        self._filled[key] = True

    def _char(self, key: int) -> str:
        if self.depth != "none":
            return UPPER_HALF
        level = max(key >> 8, key & 255)
        return SHADES[min(level * len(SHADES) // 256, len(SHADES) - 1)]

    def _make_ansi(self, key: int) -> None:
        """The escape sequences of ``key`` (without its segment, which takes longer)."""
        # Every cell sets both colours and no attribute, so within a row no reset is
        # needed between cells: the row ends with one.
        text = self._char(key)
        ansi = self._ansi
        ansi[65536 + key] = text
        if self.depth == "none":
            ansi[key] = ansi[2 * 65536 + key] = ansi[3 * 65536 + key] = text
        else:
            fg, bg = self._fg[key >> 8], self._bg[key & 255]
            ansi[key] = f"\x1b[{fg};{bg}m{text}"
            ansi[2 * 65536 + key] = f"\x1b[{fg}m{text}"
            ansi[3 * 65536 + key] = f"\x1b[{bg}m{text}"
        self._ansi_filled[key] = True

    def ensure(self, keys: npt.NDArray[np.uint16], segments: bool = True) -> None:
        """Make what is still missing of all ``keys``: segments and escape sequences, or
        (``segments=False``) the escape sequences only."""
        filled = self._filled if segments else self._ansi_filled
        missing = keys[~filled[keys]]
        if missing.size:
            make = self._make if segments else self._make_ansi
            for k in set(missing.tolist()):
                make(k)

    def segment(self, key: int) -> Segment:
        """The one-cell segment for ``key`` (made if needed)."""
        if not self._filled[key]:
            self._make(key)
        return self._segments[key]

    def _segments_of(self, keys: npt.NDArray[np.uint16]) -> list[Segment]:
        """One row of keys -> segments; with fewer colours than truecolor, runs of equal
        cells become one segment (in truecolor neighbours rarely match)."""
        width = int(keys.shape[0])
        segs = self._segments
        change = np.flatnonzero(keys[1:] != keys[:-1])
        if self.depth == "truecolor" or change.size > width // 2:  # one segment per cell
            return list(map(segs.__getitem__, keys.tolist()))
        starts = np.concatenate(([0], change + 1))
        lengths = np.diff(np.concatenate((starts, [width])))
        out: list[Segment] = []
        styles = self._styles
        for k, n in zip(keys[starts].tolist(), lengths.tolist(), strict=True):
            seg = segs[k]
            out.append(seg if n == 1 else Segment(seg.text * n, styles[k]))
        return out

    def strip(self, keys: npt.NDArray[np.uint16]) -> Strip:
        """One row of keys -> a Strip."""
        return self.strips_from_keys(keys.reshape(1, -1))[0]

    def strips(self, top: U8, bottom: U8) -> list[Strip]:
        """Two (rows, width) level arrays -> one Strip per row."""
        keys = ((top.astype(np.uint16) << 8) | bottom).astype(np.uint16)
        return self.strips_from_keys(keys)

    def strips_from_keys(self, keys: npt.NDArray[np.uint16]) -> list[Strip]:
        """(rows, width) keys -> one :class:`AnsiStrip` per row."""
        width = int(keys.shape[1])
        return [
            AnsiStrip(segs, width, [ansi], self.system) for segs, ansi in self.rows_from_keys(keys)
        ]

    def rows_from_keys(self, keys: npt.NDArray[np.uint16]) -> list[CellRow]:
        """(rows, width) keys -> (segments, escape sequences) per row.

        The escape sequences are one list lookup per cell (:meth:`pieces`), joined per row
        and ended with a reset.
        """
        rows, width = keys.shape
        if rows == 0 or width == 0:
            return [([], "") for _ in range(rows)]
        keys = np.ascontiguousarray(keys, dtype=np.uint16)
        self.ensure(keys.ravel())
        pieces = self.pieces(keys, None)
        if self.depth == "truecolor":
            cells = list(map(self._segments.__getitem__, keys.ravel().tolist()))
            seg_rows = [cells[i : i + width] for i in range(0, rows * width, width)]
        else:
            seg_rows = [self._segments_of(row) for row in keys]
        join = "".join
        return [
            (segs, join(pieces[i * width : (i + 1) * width]) + RESET)
            for i, segs in enumerate(seg_rows)
        ]

    def texts(self, keys: npt.NDArray[np.uint16]) -> list[str]:
        """The escape sequences of each row of (rows, width) ``keys`` as
        :meth:`rows_from_keys` gives them, without the segments."""
        rows, width = keys.shape
        keys = np.ascontiguousarray(keys, dtype=np.uint16)
        self.ensure(keys.ravel(), segments=False)
        ansi = self._ansi
        if width == 1:  # the newest column of a waterfall that moved by one
            return [ansi[k] + RESET for k in keys.ravel().tolist()]
        pieces = self.pieces(keys, None)
        join = "".join
        return [join(pieces[i * width : (i + 1) * width]) + RESET for i in range(rows)]

    def pieces(
        self, keys: npt.NDArray[np.uint16], left: npt.NDArray[np.uint16] | None
    ) -> list[str]:
        """The escape sequence of every cell of (rows, width) ``keys``, row after row.

        A cell equal to its left neighbour (``left``: the keys left of column 0, or None
        for the start of a row) needs only its character, one that shares its background
        or its foreground only the other colour: the sequences carry only what changes.
        Every cell's colours are set by it or before it in the row and no attribute is
        used, so no reset is needed in between. Call :meth:`ensure` (or :meth:`cells`)
        first.
        """
        rows, width = keys.shape
        prev = np.empty((rows, width), dtype=np.uint16)
        prev[:, 1:] = keys[:, :-1]
        if left is not None:
            prev[:, 0] = left
        diff = keys ^ prev
        # 0: both colours, 1: character only, 2: foreground only, 3: background only
        variant = np.where(
            diff == 0, 1, np.where(diff & 0xFF00 == 0, 3, np.where(diff & 0xFF == 0, 2, 0))
        ).astype(np.int32)
        if left is None:
            variant[:, 0] = 0
        index = keys.astype(np.int32)
        index += variant << 16
        return list(map(self._ansi.__getitem__, index.ravel().tolist()))

    def full_piece(self, key: int) -> str:
        """The escape sequence of one cell with its colours (start of a row)."""
        if not self._ansi_filled[key]:
            self._make_ansi(key)
        return self._ansi[key]

    def cells(self, keys: npt.NDArray[np.uint16]) -> list[Segment]:
        """One segment per cell of (rows, width) ``keys``, row after row."""
        flat = keys.ravel()
        self.ensure(flat)
        return list(map(self._segments.__getitem__, flat.tolist()))


def _canonical_levels(colors: tuple[Color, ...], depth: str) -> U8 | None:
    """For depths with fewer colours than levels: each level -> the lowest level drawn in
    the same colour (shade, for ``none``), so that neighbours of one colour have one key
    and share one escape sequence; None in truecolor (every level is its own colour)."""
    if depth == "truecolor":
        return None
    if depth == "none":
        shade = [min(level * len(SHADES) // 256, len(SHADES) - 1) for level in range(256)]
        names: list[object] = list(shade)
    else:
        names = [c.number for c in colors]
    first: dict[object, int] = {}
    return np.array([first.setdefault(n, i) for i, n in enumerate(names)], dtype=np.uint8)


def cell_keys(pixels: U8) -> npt.NDArray[np.uint16]:
    """(2*rows, width) levels, row 0 at the top -> (rows, width) keys (an odd last row
    is padded with level 0 below)."""
    if pixels.shape[0] % 2:
        pixels = np.concatenate([pixels, np.zeros((1, pixels.shape[1]), np.uint8)])
    keys: npt.NDArray[np.uint16] = ((pixels[0::2].astype(np.uint16) << 8) | pixels[1::2]).astype(
        np.uint16, copy=False
    )
    return keys


# -- colour bar ----------------------------------------------------------------------------------


def color_bar_levels(rows: int) -> U8:
    """Levels for a vertical colour bar of ``rows`` cells (2 pixels each), top = 255."""
    n = 2 * rows
    return np.linspace(255, 0, n).round().astype(np.uint8).reshape(rows, 2)


def color_of(table: CellTable, level: int) -> Color:
    """The colour of one level in ``table``'s palette."""
    return table.colors[max(0, min(255, level))]
