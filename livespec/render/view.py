"""The waterfall's model: history, the display matrix, cursor, marker and Strips.

Pure code (only :class:`textual.strip.Strip` from Textual); everything runs on the UI
thread. The display matrix ``db`` holds one row per displayed frame (row 0 = the newest
shown) and one column per frequency pixel, already mapped by the :class:`FreqMap`; it is
shifted as frames arrive, re-coloured when the dB range or colour map changes, and rebuilt
from the :class:`History` when the geometry, scale or zoom changes or while scrolling back.

Orientation ``horizontal``: time runs along x (newest at the right), frequency along y
(low at the bottom, two pixels per cell). ``vertical``: frequency along x (low at the left),
time down y (newest at the top, two frames per cell). In the vertical orientation a text row
always holds the same two frames (``2k`` below ``2k + 1``): while the newest pair is
incomplete its one frame fills both halves of the top row, so that as time goes on the rows
move down by whole text rows, which a terminal can scroll (:attr:`WaterfallView.scrolls`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from livespec.config import DEFAULT_COLORMAP
from livespec.dsp.cqt import CqtLayout
from livespec.render.freqmap import FreqMap, pan_range, zoom_range
from livespec.render.history import History
from livespec.render.raster import F32, AnsiStrip, CellRow, CellTable, cell_keys, to_levels
from livespec.render.rows import HKeys, RowBuilder, new_keys
from livespec.render.terminal import Strip

NO_DATA_DB = -400.0  # below any colour floor


class WaterfallView:
    """State and pixels of the waterfall.

    Args:
        samplerate: Hz.
        bins: dB row length.
        hop: samples between frames.
        history_seconds: pause/scroll-back history to keep, s.
        scale, fmin, fmax: frequency scale and shown range (Hz).
        db_min, db_max: colour range, dBFS.
        colormap, depth: colour map name and colour depth.
        orientation: ``horizontal`` or ``vertical``.
    """

    def __init__(
        self,
        *,
        samplerate: float,
        bins: int,
        hop: int,
        history_seconds: float,
        scale: str = "log",
        fmin: float = 0.0,
        fmax: float | None = None,
        db_min: float = -120.0,
        db_max: float = 0.0,
        colormap: str = DEFAULT_COLORMAP,
        depth: str = "truecolor",
        orientation: str = "horizontal",
    ) -> None:
        self.samplerate = float(samplerate)
        self.hop = int(hop)
        self.history_seconds = history_seconds
        self.scale = scale
        self.fmin = fmin
        self.fmax = samplerate / 2.0 if fmax is None else min(fmax, samplerate / 2.0)
        self._range = (self.fmin, self.fmax)  # asked for; fmin/fmax: what the map shows
        self.db_min, self.db_max = db_min, db_max
        self.orientation = orientation
        self.table = CellTable(colormap, depth)
        self.width = self.height = 0
        self.paused = False
        self.end = 0  # absolute index after the newest displayed frame (a multiple of fpp)
        self.fpp = 1  # analysis frames per time pixel (their maximum is shown)
        self.history = History(bins, samplerate / max(hop, 1), history_seconds)
        self.cqt: CqtLayout | None = None  # the rows are constant-Q bins (else FFT bins)
        self.fmap = FreqMap(scale, fmin, self.fmax, 1, samplerate, bins)
        self.db: F32 = np.full((0, 0), NO_DATA_DB, dtype=np.float32)
        self.hold: F32 = np.full(0, NO_DATA_DB, dtype=np.float32)
        self._strips: list[Strip] | None = None
        self._rows: list[CellRow] | None = None
        self._shifted: int | None = None  # frames pushed in since :meth:`rows` (None: rebuild)
        self._builder = RowBuilder()
        self._hkeys = HKeys()  # horizontal: the keys now, so a terminal can shift rows
        self.cursor_on = False
        self.cursor_age = 0  # time pixels back from the newest shown
        self.cursor_hz = 1000.0
        self.marker: tuple[int, float] | None = None  # (absolute frame index, Hz)
        self.version = 0  # bumped whenever the pixels change

    # -- geometry ----------------------------------------------------------------------

    @property
    def bins(self) -> int:
        """dB row length the view expects."""
        return self.history.bins

    @property
    def time_pixels(self) -> int:
        """Frames shown."""
        return self.width if self.orientation == "horizontal" else 2 * self.height

    @property
    def freq_pixels(self) -> int:
        """Frequency pixels shown."""
        return 2 * self.height if self.orientation == "horizontal" else self.width

    @property
    def frame_seconds(self) -> float:
        """Seconds between frames."""
        return self.hop / self.samplerate

    @property
    def pixel_seconds(self) -> float:
        """Seconds per time pixel (``fpp`` frames)."""
        return self.fpp * self.hop / self.samplerate

    def set_frames_per_pixel(self, fpp: int) -> None:
        """Show the maximum of ``fpp`` consecutive frames per time pixel (a longer span
        on the same screen; 1 = every frame) and rebuild from the history."""
        fpp = max(1, int(fpp))
        if fpp != self.fpp:
            self.fpp = fpp
            self.end = self._whole(self.end)
            self._rebuild()

    def _whole(self, frames: int) -> int:
        """``frames`` rounded down to whole time pixels."""
        return frames // self.fpp * self.fpp

    def resize(self, width: int, height: int) -> None:
        """Set the waterfall's size in cells and rebuild."""
        if (width, height) != (self.width, self.height):
            self.width, self.height = max(0, width), max(0, height)
            self._remap()

    def set_orientation(self, orientation: str) -> None:
        """``horizontal`` or ``vertical``; the caller resizes afterwards."""
        self.orientation = orientation
        self._remap()

    def set_freq(self, scale: str, fmin: float, fmax: float) -> None:
        """Frequency scale and shown range in Hz."""
        self.scale, self._range = scale, (fmin, min(fmax, self.samplerate / 2.0))
        self._remap()  # sets fmin, fmax

    def set_db(self, db_min: float, db_max: float) -> None:
        """Colour floor and ceiling in dBFS."""
        self.db_min, self.db_max = db_min, db_max
        self._dirty()

    def set_colors(self, colormap: str, depth: str) -> None:
        """Colour map and depth."""
        self.table = CellTable(colormap, depth)
        self._dirty()

    def set_analysis(
        self, samplerate: float, bins: int, hop: int, cqt: CqtLayout | None = None
    ) -> None:
        """New analysis settings (``cqt``: the rows are these constant-Q bins, not FFT
        bins); a new row length clears the history."""
        changed = bins != self.bins or samplerate != self.samplerate or cqt != self.cqt
        self.samplerate, self.hop, self.cqt = float(samplerate), int(hop), cqt
        if changed:
            self.history = History(bins, samplerate / max(hop, 1), self.history_seconds)
            self.end = 0
            self.marker = None
        self._remap()

    def _remap(self) -> None:
        self.fmap = FreqMap(
            self.scale,
            *self._range,
            max(1, self.freq_pixels),
            self.samplerate,
            self.bins,
            self.cqt,
        )
        self.fmin, self.fmax = self.fmap.lo, self.fmap.hi
        self.hold = np.full(self.fmap.pixels, NO_DATA_DB, dtype=np.float32)
        self._rebuild()

    def _rebuild(self) -> None:
        t, f, fpp = self.time_pixels, self.fmap.pixels, self.fpp
        db = np.full((t, f), NO_DATA_DB, dtype=np.float32)
        if not self.paused:
            self.end = self._whole(self.history.count)
        rows, n = self.history.newest_first(self.end, t * fpp)
        m = n // fpp  # whole pixels (an incomplete oldest one is left out)
        if m and fpp == 1:
            self.fmap.map_rows(rows, out=db[:m])
        elif m:
            db[:m] = self.fmap.map_rows(rows[: m * fpp]).reshape(m, fpp, f).max(axis=1)
        self.db = db
        self._dirty()

    def _dirty(self, shifted: int | None = None) -> None:
        """The pixels changed; ``shifted``: only by that many new frames pushed in."""
        self._strips = None
        self._rows = None
        self._hkeys.dirty(shifted)
        if shifted is None or self._shifted is None:
            self._shifted = None
        else:
            self._shifted += shifted
        self.version += 1

    # -- frames --------------------------------------------------------------------------

    def push(self, rows: list[npt.NDArray[np.float32]], times: list[float]) -> None:
        """Store new dB rows (oldest first); while live, shift them into the display."""
        rows = [r for r in rows if r.shape[0] == self.bins]
        if not rows:
            return
        for r, t in zip(rows, times, strict=False):
            self.history.append(r, t)
        if self.paused:
            if not self.history.has(self.end - 1) and self.end > 0:
                span = min(self.time_pixels * self.fpp, len(self.history))
                self.end = self._whole(self.history.oldest + span)
                self._rebuild()
            return
        t, fpp = self.time_pixels, self.fpp
        end = self._whole(self.history.count)
        new_pixels, self.end = (end - self.end) // fpp, end
        k = min(new_pixels, t)
        if k <= 0:
            return
        if fpp == 1:
            mapped = self.fmap.map_rows(np.asarray(rows[-k:][::-1]))
        else:  # whole new pixels: the maximum of their frames, from the history
            frames, n = self.history.newest_first(end, k * fpp)
            if n < k * fpp:
                self._rebuild()
                return
            mapped = self.fmap.map_rows(frames).reshape(k, fpp, -1).max(axis=1)
        if k < t:
            self.db[k:] = self.db[:-k]
        self.db[:k] = mapped
        np.maximum(self.hold, mapped.max(axis=0), out=self.hold)
        self._dirty(shifted=k)

    def decay_hold(self, db: float) -> None:
        """Lower the spectrum's peak hold by ``db`` dB (called once per tick)."""
        self.hold -= np.float32(db)

    def reset_hold(self) -> None:
        """Forget the spectrum's peak hold."""
        self.hold[:] = NO_DATA_DB

    # -- pause and scroll-back -----------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Freeze (the history keeps filling) or go live again."""
        self.paused = paused
        if not paused:
            self._rebuild()

    def scroll(self, frames: int) -> None:
        """Move a paused view ``frames`` back in time (negative: forward)."""
        h = self.history
        lo = min(h.oldest + self.time_pixels * self.fpp, h.count)
        self.end = self._whole(max(lo, min(h.count, self.end - frames)))
        self._rebuild()

    @property
    def frames_back(self) -> int:
        """Frames between the newest shown and the newest received."""
        return self.history.count - self.end

    # -- pixels --------------------------------------------------------------------------------

    def levels(self) -> npt.NDArray[np.uint8]:
        """Colour levels in screen layout: (2 * height, width), row 0 at the top."""
        lv = to_levels(self.db, self.db_min, self.db_max)
        canon = self.table.canon
        if canon is not None:
            lv = canon[lv]
        if self.orientation == "horizontal":
            return np.ascontiguousarray(lv[::-1, ::-1].T)
        if self._half_row and lv.shape[0]:
            lv = np.concatenate((lv[:1], lv[:-1]))
        return lv

    @property
    def _half_row(self) -> int:
        """1 when the vertical waterfall's top row holds only one frame (an odd count)."""
        return (self.end // self.fpp) % 2 if self.orientation == "vertical" else 0

    def _text_row(self, age: int) -> int:
        """Text row of the time pixel ``age`` frames back from the newest shown."""
        return (age + self._half_row) // 2

    def strips(self) -> list[Strip]:
        """One Strip per text row (cached until the pixels change)."""
        if self._strips is None:
            system, width = self.table.system, self.width
            self._strips = [AnsiStrip(segs, width, [ansi], system) for segs, ansi in self.rows()]
        return self._strips

    def rows(self) -> list[CellRow]:
        """(segments, escape sequences) of every text row (cached until the pixels change).

        While time scrolls along x in truecolor, only the columns of the frames pushed in
        since the last call are looked up; the rest of each row moves left
        (:class:`~livespec.render.rows.RowBuilder`).
        """
        if self._rows is not None:
            return self._rows
        if self.width <= 0 or self.height <= 0:
            self._rows, self._shifted = [], None
            return self._rows
        shifted, table, builder = self._shifted, self.table, self._builder
        keys = self.keys_now()
        if keys is None:
            keys = cell_keys(self.levels())
            self._rows = builder.vertical(table, keys, self.end, self.fpp, shifted is not None)
        else:
            self._rows = builder.horizontal(table, keys, self._hkeys.hscrolls)
        self._shifted = 0
        return self._rows

    def keys_now(self) -> npt.NDArray[np.uint16] | None:
        """The horizontal waterfall's (height, width) cell keys now, brought up to date
        from the new columns alone where it only moved (None: vertical, or no size)."""
        if self.orientation != "horizontal" or self.width <= 0 or self.height <= 0:
            return None
        return self._hkeys.update(
            (self.height, self.width),
            lambda k: new_keys(self.db[:k], self.db_min, self.db_max, self.table.canon),
            lambda: cell_keys(self.levels()),
        )

    @property
    def hscrolls(self) -> tuple[int, int]:
        """(epoch, columns the horizontal waterfall moved left since): :attr:`HKeys.hscrolls`."""
        self.keys_now()
        return self._hkeys.hscrolls

    def tails(self, columns: int) -> list[str] | None:
        """The escape sequences of the last ``columns`` cells of every row of the horizontal
        waterfall now (from their colours, ending with a reset); None if unknown."""
        keys = self.keys_now()
        if keys is None or not 0 < columns <= keys.shape[1]:
            return None
        return self.table.texts(keys[:, -columns:])

    def row_text(self, y: int) -> str:
        """Text row ``y`` of the horizontal waterfall now, as :meth:`rows` gives it."""
        keys = self.keys_now()
        return "" if keys is None else self.table.texts(keys[y : y + 1])[0]

    @property
    def scrolls(self) -> tuple[int, int]:
        """(epoch, text rows the vertical waterfall moved down since the epoch began): a
        new epoch means the rows were rebuilt, not moved."""
        return self._builder.scrolls

    # -- cursor and marker --------------------------------------------------------------------

    def cursor_pixel(self) -> tuple[int, int]:
        """(time pixel from the newest shown, frequency pixel) of the cursor, clamped."""
        age = min(max(self.cursor_age, 0), max(self.time_pixels - 1, 0))
        fpx = int(self.fmap.pos_of(self.cursor_hz))
        return age, min(max(fpx, 0), self.fmap.pixels - 1)

    def cursor_cell(self) -> tuple[int, int]:
        """(x, y) of the cursor's cell in the waterfall."""
        age, fpx = self.cursor_pixel()
        if self.orientation == "horizontal":
            return self.width - 1 - age, (self.fmap.pixels - 1 - fpx) // 2
        return fpx, self._text_row(age)

    def move_cursor(self, dx: int, dy: int) -> None:
        """Move the cursor by cells on screen (x right, y down) and show it."""
        if not self.cursor_on:
            self.cursor_on = True
        age, fpx = self.cursor_pixel()
        if self.orientation == "horizontal":
            age -= dx
            fpx -= 2 * dy
        else:
            fpx += dx
            age += 2 * dy
        self.cursor_age = min(max(age, 0), max(self.time_pixels - 1, 0))
        fpx = min(max(fpx, 0), self.fmap.pixels - 1)
        self.cursor_hz = self.fmap.freq_at(fpx + 0.5)

    def level_at(self, age: int, fpx: int) -> float | None:
        """dBFS shown at (time pixel, frequency pixel), None if no data."""
        if not (0 <= age < self.db.shape[0] and 0 <= fpx < self.db.shape[1]):
            return None
        v = float(self.db[age, fpx])
        return None if v <= NO_DATA_DB else v

    def cursor_reading(self) -> tuple[float, float | None, float | None]:
        """(Hz, dBFS or None, seconds of the frame or None) under the cursor."""
        age, fpx = self.cursor_pixel()
        hz = float(self.fmap.centres()[fpx])
        index = self.end - 1 - age * self.fpp  # the pixel's newest frame
        t = self.history.time(index) if self.history.has(index) else None
        return hz, self.level_at(age, fpx), t

    def set_marker(self) -> None:
        """Put the second marker where the cursor is."""
        age, _ = self.cursor_pixel()
        self.marker = (self.end - 1 - age * self.fpp, self.cursor_hz)

    def marker_reading(self) -> tuple[float, float | None] | None:
        """(Hz, dBFS or None) at the marker, None when no marker is set."""
        if self.marker is None:
            return None
        index, hz = self.marker
        fpx = min(max(int(self.fmap.pos_of(hz)), 0), self.fmap.pixels - 1)
        age = (self.end - 1 - index) // self.fpp
        if 0 <= age < self.db.shape[0]:
            return float(self.fmap.centres()[fpx]), self.level_at(age, fpx)
        if self.history.has(index):
            row = self.fmap.map_row(self.history.row(index).astype(np.float32))
            return float(self.fmap.centres()[fpx]), float(row[fpx])
        return float(self.fmap.centres()[fpx]), None

    def marker_cell(self) -> tuple[int, int] | None:
        """(x, y) of the marker's cell if it is on screen."""
        if self.marker is None:
            return None
        index, hz = self.marker
        age = (self.end - 1 - index) // self.fpp
        if not 0 <= age < self.time_pixels:
            return None
        fpx = min(max(int(self.fmap.pos_of(hz)), 0), self.fmap.pixels - 1)
        if self.orientation == "horizontal":
            return self.width - 1 - age, (self.fmap.pixels - 1 - fpx) // 2
        return fpx, self._text_row(age)

    # -- zoom --------------------------------------------------------------------------------

    def zoomed(self, factor: float, centre_hz: float | None = None) -> tuple[float, float]:
        """The range after zooming by ``factor`` (>1 = in) around ``centre_hz``."""
        return zoom_range(self.fmap, self._whole_map(), factor, centre_hz)

    def panned(self, fraction: float) -> tuple[float, float]:
        """The range after moving by ``fraction`` of the view (positive: up)."""
        return pan_range(self.fmap, self._whole_map(), fraction)

    def _whole_map(self) -> FreqMap:
        nyq = self.samplerate / 2
        return FreqMap(self.scale, 0.0, nyq, 1, self.samplerate, self.bins, self.cqt)
