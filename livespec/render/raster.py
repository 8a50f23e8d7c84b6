"""Pure rendering: dB rows -> colour levels -> Strips of half-block cells; axes and ticks.

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

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rich.color import Color, ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from livespec.render.colormaps import SHADES, palette
from livespec.render.terminal import AnsiStrip as AnsiStrip  # re-exported (it moved)

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

UPPER_HALF = "▀"
LOG_FLOOR_HZ = 20.0  # lowest frequency of a log scale when fmin is 0


# -- frequency scales -----------------------------------------------------------------------


def _fwd(scale: str, f: npt.ArrayLike) -> npt.NDArray[np.float64]:
    a = np.asarray(f, dtype=np.float64)
    if scale == "log":
        return np.log10(np.maximum(a, 1e-6))
    if scale == "mel":
        return 2595.0 * np.log10(1.0 + a / 700.0)
    return a


def _inv(scale: str, s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    a = np.asarray(s, dtype=np.float64)
    if scale == "log":
        return np.power(10.0, a)
    if scale == "mel":
        return 700.0 * (np.power(10.0, a / 2595.0) - 1.0)
    return a


def scale_limits(scale: str, fmin: float, fmax: float, nyquist: float) -> tuple[float, float]:
    """The shown frequency range in Hz, clamped to [0, nyquist] (log: above 0)."""
    hi = min(max(fmax, 1.0), nyquist)
    lo = max(0.0, min(fmin, hi))
    if scale == "log":
        floor = min(LOG_FLOOR_HZ, hi / 100.0)
        lo = max(lo, floor)
    if hi - lo < 1e-3:
        lo = max(0.0, hi - 1.0)
    return lo, hi


def _fwd1(scale: str, f: float) -> float:
    if scale == "log":
        return math.log10(max(f, 1e-6))
    if scale == "mel":
        return 2595.0 * math.log10(1.0 + f / 700.0)
    return f


def _inv1(scale: str, s: float) -> float:
    if scale == "log":
        return float(10.0**s)
    if scale == "mel":
        return float(700.0 * (10.0 ** (s / 2595.0) - 1.0))
    return s


@dataclass
class FreqMap:
    """Maps FFT bins to ``pixels`` display pixels (pixel 0 = lowest frequency).

    A pixel that spans one or more bin centres takes their maximum (a peak never falls
    between pixels); a pixel narrower than a bin interpolates linearly between bins.

    Args:
        scale: ``linear``, ``log`` or ``mel``.
        fmin: lowest frequency shown, Hz.
        fmax: highest frequency shown, Hz (clamped to Nyquist).
        pixels: pixels along the frequency direction.
        samplerate: Hz.
        bins: length of the dB rows (nfft // 2 + 1).
    """

    scale: str
    fmin: float
    fmax: float
    pixels: int
    samplerate: float
    bins: int
    lo: float = field(init=False)
    hi: float = field(init=False)
    edges: npt.NDArray[np.float64] = field(init=False, repr=False)
    _starts: I64 = field(init=False, repr=False)
    _stop: int = field(init=False, repr=False)
    _narrow: I64 = field(init=False, repr=False)
    _i0: I64 = field(init=False, repr=False)
    _w: F32 = field(init=False, repr=False)
    _centres: npt.NDArray[np.float64] | None = field(init=False, repr=False, default=None)
    _ticks: dict[tuple[float, float], list[tuple[float, float]]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        nyq = self.samplerate / 2.0
        self.lo, self.hi = scale_limits(self.scale, self.fmin, self.fmax, nyq)
        n = max(1, self.pixels)
        s0, s1 = _fwd(self.scale, [self.lo, self.hi])
        self.edges = _inv(self.scale, np.linspace(s0, s1, n + 1))
        df = self.bin_hz
        last = self.bins - 1
        starts = np.clip(np.ceil(self.edges[:-1] / df - 1e-9), 0, last).astype(np.int64)
        ends = np.clip(np.ceil(self.edges[1:] / df - 1e-9), 0, self.bins).astype(np.int64)
        narrow = np.flatnonzero(ends <= starts)  # pixels without a bin centre
        self._starts = starts
        self._stop = int(max(ends[-1], starts[-1] + 1))  # reduceat needs a bin per start
        self._narrow = narrow
        centre = self.centres()[narrow] / df
        i0 = np.clip(np.floor(centre), 0, max(last - 1, 0)).astype(np.int64)
        self._i0 = i0
        self._w = np.clip(centre - i0, 0.0, 1.0).astype(np.float32)

    @property
    def bin_hz(self) -> float:
        """Bin spacing in Hz."""
        return self.samplerate / max(2 * (self.bins - 1), 1)

    def centres(self) -> npt.NDArray[np.float64]:
        """Centre frequency (Hz, on the scale) of each pixel (computed once)."""
        if self._centres is None:
            s = _fwd(self.scale, self.edges)
            self._centres = _inv(self.scale, (s[:-1] + s[1:]) / 2.0)
        return self._centres

    def freq_at(self, pos: float) -> float:
        """Frequency in Hz at a fractional pixel position (0 = low edge of pixel 0)."""
        s0, s1 = _fwd1(self.scale, self.lo), _fwd1(self.scale, self.hi)
        return _inv1(self.scale, s0 + (s1 - s0) * pos / max(1, self.pixels))

    def pos_of(self, freq: float) -> float:
        """Fractional pixel position of ``freq`` Hz (may fall outside [0, pixels])."""
        s0, s1 = _fwd1(self.scale, self.lo), _fwd1(self.scale, self.hi)
        return (_fwd1(self.scale, max(freq, 1e-6)) - s0) / (s1 - s0) * self.pixels

    def map_row(self, db: F32, out: F32 | None = None) -> F32:
        """dB row (``bins`` long) -> one value per pixel (float32)."""
        if out is None:
            out = np.empty(self.pixels, dtype=np.float32)
        row = db[: self._stop]
        np.maximum.reduceat(row, self._starts, out=out)
        if self._narrow.size:
            i0 = self._i0
            a = db[i0]
            out[self._narrow] = a + (db[i0 + 1] - a) * self._w
        return out

    def map_rows(self, rows: npt.NDArray[np.floating], out: F32 | None = None) -> F32:
        """(frames, bins) -> (frames, pixels) float32."""
        if out is None:
            out = np.empty((rows.shape[0], self.pixels), dtype=np.float32)
        if rows.shape[0] == 0:
            return out
        r = rows[:, : self._stop].astype(np.float32, copy=False)
        np.maximum.reduceat(r, self._starts, axis=1, out=out)
        if self._narrow.size:
            i0 = self._i0
            a = rows[:, i0].astype(np.float32)
            b = rows[:, i0 + 1].astype(np.float32)
            out[:, self._narrow] = a + (b - a) * self._w
        return out


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
        # escape sequences: [key] colours and character, [65536 + key] the character only
        self._ansi: list[str] = [" "] * 131072
        self.canon: U8 | None = _canonical_levels(self.colors, depth)

    def _make(self, key: int) -> None:
        top, bottom = key >> 8, key & 255
        if self.depth == "none":
            level = max(top, bottom)
            ch = SHADES[min(level * len(SHADES) // 256, len(SHADES) - 1)]
            style = Style()
            seg = Segment(ch, style)
        else:
            style = Style(color=self.colors[top], bgcolor=self.colors[bottom])
            seg = Segment(UPPER_HALF, style)
        self._segments[key] = seg
        self._styles[key] = style
        # Every cell sets both colours and no attribute, so within a row no reset is
        # needed between cells: the row ends with one.
        sgr = Strip.render_ansi(style, self._color_system)
        self._ansi[key] = f"\x1b[{sgr}m{seg.text}" if sgr else seg.text
        self._ansi[65536 + key] = seg.text
        self._filled[key] = True

    def ensure(self, keys: npt.NDArray[np.uint16]) -> None:
        """Make the segments of all ``keys`` that are still missing."""
        missing = keys[~self._filled[keys]]
        if missing.size:
            for k in set(missing.tolist()):
                self._make(k)

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

    def pieces(
        self, keys: npt.NDArray[np.uint16], left: npt.NDArray[np.uint16] | None
    ) -> list[str]:
        """The escape sequence of every cell of (rows, width) ``keys``, row after row.

        A cell equal to its left neighbour (``left``: the keys left of column 0, or None
        for the start of a row) needs only its character: runs share one colour sequence.
        Every cell sets both colours and no attribute, so no reset is needed in between.
        Call :meth:`ensure` (or :meth:`cells`) first.
        """
        flat = keys.ravel()
        same = np.empty(keys.shape, dtype=bool)
        np.equal(keys[:, 1:], keys[:, :-1], out=same[:, 1:])
        if left is None:
            same[:, 0] = False
        else:
            np.equal(keys[:, 0], left, out=same[:, 0])
        index = flat.astype(np.int32)
        index[same.ravel()] += 65536
        return list(map(self._ansi.__getitem__, index.tolist()))

    def full_piece(self, key: int) -> str:
        """The escape sequence of one cell with its colours (start of a row)."""
        if not self._filled[key]:
            self._make(key)
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


# -- ticks and labels ---------------------------------------------------------------------------


def nice_steps(lo: float) -> list[float]:
    """1-2-5 steps from ``lo`` upwards, for the tick search."""
    e = math.floor(math.log10(max(lo, 1e-9)))
    out: list[float] = []
    for k in range(e, e + 12):
        for m in (1.0, 2.0, 5.0):
            out.append(m * 10.0**k)
    return [s for s in out if s >= lo * 0.999]


def format_hz(f: float) -> str:
    """Compact tick label: ``500``, ``1k``, ``2.5k``, ``12k``, ``12.5k``."""
    if abs(f) >= 1000.0:
        k = f / 1000.0
        text = f"{k:.2f}".rstrip("0").rstrip(".")
        return text + "k"
    if abs(f) >= 10 or f == 0:
        return f"{f:.0f}"
    return f"{f:.1f}".rstrip("0").rstrip(".")


def freq_ticks(fmap: FreqMap, cells: float, min_gap: float) -> list[tuple[float, float]]:
    """Tick positions for an axis of ``cells`` cells over ``fmap``.

    Returns (position in cells from the low-frequency end, frequency Hz) pairs, at least
    ``min_gap`` cells apart: 1-2-5 per decade on a log scale, a round step otherwise.
    """
    if cells <= 0 or fmap.pixels <= 0:
        return []
    cached = fmap._ticks.get((cells, min_gap))
    if cached is None:
        cached = fmap._ticks[(cells, min_gap)] = _freq_ticks(fmap, cells, min_gap)
    return cached


def _freq_ticks(fmap: FreqMap, cells: float, min_gap: float) -> list[tuple[float, float]]:
    k = cells / fmap.pixels
    lo, hi = fmap.lo, fmap.hi

    def positions(freqs: list[float]) -> list[tuple[float, float]]:
        return [(fmap.pos_of(f) * k, f) for f in freqs if lo - 1e-9 <= f <= hi + 1e-9]

    def ok(ticks: list[tuple[float, float]]) -> bool:
        return len(ticks) >= 2 and all(b[0] - a[0] >= min_gap for a, b in itertools.pairwise(ticks))

    candidates: list[list[float]] = []
    if fmap.scale == "log" and hi / max(lo, 1e-9) >= 8.0:
        d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        for mults in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3), (1,)):
            candidates.append([m * 10.0**d for d in range(d0, d1 + 1) for m in mults])
        candidates.append([10.0**d for d in range(d0, d1 + 1, 2)])
    for step in nice_steps((hi - lo) / 200.0):
        first = math.ceil(lo / step - 1e-9) * step
        count = int((hi - first) / step + 1e-9) + 1
        if count > 400:
            continue
        candidates.append([first + i * step for i in range(max(count, 0))])
    best: list[tuple[float, float]] = []
    for freqs in candidates:
        ticks = positions(freqs)
        if ok(ticks):
            return ticks
        if len(ticks) == 1 and not best:
            best = ticks
    return best


def time_ticks(
    start_s: float, span_s: float, cells: int, min_gap: float
) -> list[tuple[float, float]]:
    """Ticks for a time axis of ``cells`` cells showing ``start_s`` .. ``start_s + span_s``
    seconds ago (the newest shown end first).

    Returns (cells from the newest shown end, seconds ago) pairs at round steps.
    """
    if cells <= 0 or span_s <= 0:
        return []
    per_cell = span_s / cells
    for step in nice_steps(per_cell * min_gap):
        if step / per_cell >= min_gap:
            first = math.ceil(start_s / step - 1e-9)
            last = math.floor((start_s + span_s) / step + 1e-9)
            out = []
            for i in range(first, last + 1):
                s = round(i * step, 9)
                pos = (s - start_s) / per_cell
                if pos < cells:
                    out.append((pos, s))
            return out
    return []


def format_seconds(s: float) -> str:
    """``0s``, ``-0.5s``, ``-12s``, ``-2m``."""
    if s == 0:
        return "0s"
    if s >= 120 and s % 60 == 0:
        return f"-{s / 60:g}m"
    return f"-{s:g}s"


def db_ticks(db_min: float, db_max: float, cells: int, min_gap: int = 2) -> list[tuple[int, float]]:
    """dB ticks for a colour bar of ``cells`` rows, top = ``db_max``: (row, dB) pairs."""
    if cells <= 1 or db_max <= db_min:
        return []
    per_cell = (db_max - db_min) / cells
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0):
        if step / per_cell >= min_gap:
            break
    first = math.ceil(db_min / step) * step
    out: list[tuple[int, float]] = []
    v = first
    while v <= db_max + 1e-9:
        row = round((db_max - v) / per_cell - 0.5)
        row = min(max(row, 0), cells - 1)
        if not out or out[-1][0] != row:
            out.append((row, v))
        v += step
    return out


def color_bar_levels(rows: int) -> U8:
    """Levels for a vertical colour bar of ``rows`` cells (2 pixels each), top = 255."""
    n = 2 * rows
    return np.linspace(255, 0, n).round().astype(np.uint8).reshape(rows, 2)


def color_of(table: CellTable, level: int) -> Color:
    """The colour of one level in ``table``'s palette."""
    return table.colors[max(0, min(255, level))]
