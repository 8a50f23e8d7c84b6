"""Output writers of ``livespec export``: NPY, CSV and PNG sinks.

Every sink receives consecutive batches of rows (float32 dB, shape (f, cols)) through
:meth:`write`, then :meth:`finish` with the output's final dB adjustment (:class:`Post`,
known only when all rows have been seen), or :meth:`abort`. A sink writes to a hidden
temporary file in the destination folder (named by :mod:`.temps`) and renames it into place
when finished, so an output that exists is always complete (an interrupted run leaves no
half-written output).

Memory does not grow with the input: NPY rows are appended to the file as they come, CSV
rows are spilled to a temporary binary file and formatted at the end, and PNG columns are
averaged down to about twice the requested width (:class:`~livespec.export.image.TimeReducer`).

Caller's thread (a worker process of a folder export, or the main thread).
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from livespec.config import DEFAULT_COLORMAP
from livespec.dsp.scales import FreqScale
from livespec.export.convention import DEFAULT_CONVENTION, ImageConvention
from livespec.export.image import (
    PNG_COMPRESS,
    Axes,
    LogRows,
    TimeReducer,
    colour_table,
    figure,
    index_image,
    plot_index,
)
from livespec.export.pngfile import write_png
from livespec.export.temps import create_temp

F32 = NDArray[np.float32]
CHUNK_VALUES = 1 << 20  # values per read/modify/write step of a post pass (4 MiB)


@dataclass(frozen=True)
class Post:
    """The last adjustment of an output's levels: ``max(v + shift, clamp)`` (dB).

    ``shift`` is minus the maximum with ``--db-ref max`` (else 0); ``clamp`` is the
    ``--top-db`` floor (the shifted maximum minus top_db), or None.
    """

    shift: float = 0.0
    clamp: float | None = None

    @property
    def identity(self) -> bool:
        """True if the adjustment changes nothing."""
        return self.shift == 0.0 and self.clamp is None

    def apply(self, a: F32) -> None:
        """Adjust ``a`` in place."""
        if self.shift != 0.0:
            np.add(a, np.float32(self.shift), out=a)
        if self.clamp is not None:
            np.maximum(a, np.float32(self.clamp), out=a)


BinaryFile = io.BufferedRandom


class Sink(Protocol):
    """Receives rows of one output."""

    path: Path

    def write(self, rows: F32) -> None: ...

    def finish(self, post: Post, vmin: float, vmax: float) -> None: ...

    def abort(self) -> None: ...


def _temp_for(path: Path, suffix: str = ".part") -> tuple[BinaryFile, Path]:
    """A new hidden temporary file next to ``path`` (:func:`.temps.create_temp`)."""
    return create_temp(path, suffix)


def _unlink(p: Path | None) -> None:
    if p is not None:
        with contextlib.suppress(OSError):
            p.unlink()


class NpySink:
    """Writes a float32 (frames, cols) ``.npy`` incrementally (NPY format 1.0, C order)."""

    def __init__(self, path: Path, frames: int, cols: int) -> None:
        self.path = path
        self.frames = frames
        self.cols = cols
        self._f, self._tmp = _temp_for(path)
        header = {"descr": "<f4", "fortran_order": False, "shape": (frames, cols)}
        np.lib.format.write_array_header_1_0(self._f, header)
        self._data_at = self._f.tell()
        self._rows = 0

    def write(self, rows: F32) -> None:
        """Append rows (f, cols)."""
        self._f.write(np.ascontiguousarray(rows, dtype="<f4").data.cast("B"))
        self._rows += rows.shape[0]

    def finish(self, post: Post, vmin: float, vmax: float) -> None:
        """Apply ``post`` in place (chunk by chunk) and move the file into place."""
        if self._rows != self.frames:
            raise RuntimeError(f"NPY got {self._rows} rows, expected {self.frames}")
        if not post.identity:
            _post_pass(self._f, self._data_at, self.frames * self.cols, post)
        self._f.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        self._f.close()
        _unlink(self._tmp)


def _post_pass(f: BinaryFile, start: int, count: int, post: Post) -> None:
    buf = np.empty(min(count, CHUNK_VALUES), dtype="<f4")
    done = 0
    while done < count:
        k = min(buf.shape[0], count - done)
        chunk = buf[:k]
        f.seek(start + 4 * done)
        f.readinto(chunk.data.cast("B"))
        post.apply(chunk)
        f.seek(start + 4 * done)
        f.write(chunk.data.cast("B"))
        done += k
    f.flush()


class CsvSink:
    """Writes levels as CSV text (docs/export.md, "CSV layout").

    ``wide``: a header ``time_s,<Hz>,<Hz>,...`` and one line per frame (time, then one level
    per frequency). ``long``: a header ``time_s,freq_hz,level_db`` and one line per value.
    Times are frame centres in seconds (plus ``offset``), levels have 3 decimals.
    """

    def __init__(
        self,
        path: Path,
        cols: int,
        times: NDArray[np.float64],
        freqs: NDArray[np.float64],
        layout: str = "wide",
    ) -> None:
        self.path = path
        self.cols = cols
        self.times = times
        self.freqs = freqs
        self.layout = layout
        self._spill, self._spill_path = _temp_for(path, ".spill")
        self._rows = 0

    def write(self, rows: F32) -> None:
        """Spill rows (f, cols) to the temporary binary file."""
        self._spill.write(np.ascontiguousarray(rows, dtype="<f4").data.cast("B"))
        self._rows += rows.shape[0]

    def finish(self, post: Post, vmin: float, vmax: float) -> None:
        """Format the spilled rows (adjusted by ``post``) as text and move it into place."""
        self._spill.flush()
        self._spill.seek(0)
        out, tmp = _temp_for(self.path)
        try:
            with open(out.fileno(), "w", encoding="ascii", newline="\n", closefd=False) as t:
                freq_txt = [f"{f:.10g}" for f in self.freqs]
                if self.layout == "wide":
                    t.write("time_s," + ",".join(freq_txt) + "\n")
                else:
                    t.write("time_s,freq_hz,level_db\n")
                per = max(1, CHUNK_VALUES // max(1, self.cols))
                buf = np.empty((per, self.cols), dtype="<f4")
                done = 0
                while done < self._rows:
                    k = min(per, self._rows - done)
                    chunk = buf[:k]
                    self._spill.readinto(chunk.data.cast("B"))
                    post.apply(chunk)
                    times = self.times[done : done + k]
                    if self.layout == "wide":
                        fmt = "%.6f" + ",%.3f" * self.cols + "\n"
                        for i in range(k):
                            t.write(fmt % (times[i], *chunk[i].tolist()))
                    else:
                        for i in range(k):
                            ts = f"{times[i]:.6f},"
                            t.writelines(
                                f"{ts}{fs},{v:.3f}\n"
                                for fs, v in zip(freq_txt, chunk[i].tolist(), strict=True)
                            )
                    done += k
            out.close()
            os.replace(tmp, self.path)
        except BaseException:
            out.close()
            _unlink(tmp)
            raise
        finally:
            self._spill.close()
            _unlink(self._spill_path)

    def abort(self) -> None:
        """Drop the spill."""
        self._spill.close()
        _unlink(self._spill_path)


@dataclass(frozen=True)
class ImageSpec:
    """How PNG outputs look (shared by all outputs of an export).

    Attributes:
        size: (width, height) pixels, or None for one column per frame and one row per
            frequency row.
        gray: 8-bit greyscale instead of a colour map.
        colormap: colour map name.
        axes: draw the report figure (title, axes, colour bar).
        scale: "linear", "log" or "mel" frequency rows.
        db_min, db_max: fixed ends of the colour range in dB; None = from the data: the top
            is the output's maximum, the bottom ``top_db`` below it, or its minimum.
        top_db: see db_min.
        unit: level unit for the colour bar ("dBFS" or "dB").
        convention: origin, resize filter, what is resized and the quantization.
        compress: the PNG's zlib level, 0 (none, fastest) to 9 (smallest, slowest).
        fit: with ``size`` None and no ``axes``, a PNG gets the default size
            (:func:`livespec.export.writers.default_size`) instead of one pixel per value.
    """

    size: tuple[int, int] | None = None
    gray: bool = False
    colormap: str = DEFAULT_COLORMAP
    axes: bool = False
    scale: str = "linear"
    db_min: float | None = -120.0
    db_max: float | None = 0.0
    top_db: float | None = None
    unit: str = "dBFS"
    convention: ImageConvention = DEFAULT_CONVENTION
    compress: int = PNG_COMPRESS
    fit: bool = False


def levels_range(s: ImageSpec, post: Post, vmin: float, vmax: float) -> tuple[float, float]:
    """The colour range (lo, hi) in dB of an output whose levels spanned ``vmin..vmax``
    before ``post``."""
    hi = vmax + post.shift if s.db_max is None else s.db_max
    if s.db_min is not None:
        lo = s.db_min
    elif s.top_db is not None:
        lo = hi - s.top_db
    else:
        lo = vmin + post.shift
        if post.clamp is not None:
            lo = max(lo, post.clamp)
    if not hi > lo:
        hi = lo + 1.0
    return lo, hi


class PngSink:
    """Collects an image (time reduced to about twice the target width) and writes a PNG.

    Args:
        path: the output.
        frames: rows that will be written.
        spec: image options.
        freq: frequency scale of the incoming rows' image rows.
        log_rows: maps incoming bins to log-spaced rows (``spec.scale == "log"``), or None.
        t_left, t_right: seconds at the image's left and right edges (for ``--axes``).
        title: figure title.
        pool: max-pool runs of (frames, rows) into one pixel (the size cap without
            ``--size``), or None.
    """

    def __init__(
        self,
        path: Path,
        frames: int,
        spec: ImageSpec,
        freq: FreqScale,
        log_rows: LogRows | None,
        t_left: float,
        t_right: float,
        title: str,
        pool: tuple[int, int] | None = None,
    ) -> None:
        self.path = path
        self.spec = spec
        self._map = log_rows
        self._reducer = TimeReducer(frames, freq.rows, spec.size, pool)
        self.freq = replace(freq, group=self._reducer.row_group)
        self._t = (t_left, t_right)
        self.title = title

    def write(self, rows: F32, at: int | None = None) -> None:
        """Add columns (one per frame): the next ones, or those of frames ``at..`` (the
        parts of a split analysis, :mod:`.segment`)."""
        self._reducer.add(self._map(rows) if self._map is not None else rows, at)

    @property
    def reducer(self) -> TimeReducer:
        """The columns being collected."""
        return self._reducer

    @property
    def averages_bins(self) -> bool:
        """True if the image's pixels are means of runs of FFT bins' levels (no
        log-spaced rows, no max-pooling) over more than one value each: what
        :mod:`.dbmean` computes from powers."""
        red = self._reducer
        return self._map is None and not red.pooled and red.group * red.row_group > 1

    def levels_range(self, post: Post, vmin: float, vmax: float) -> tuple[float, float]:
        """The colour range (lo, hi) in dB for this output."""
        return levels_range(self.spec, post, vmin, vmax)

    def finish(self, post: Post, vmin: float, vmax: float) -> None:
        """Render and save the PNG (:mod:`.pngfile`: coloured and deflated a block of rows
        at a time; the levels are freed once quantized)."""
        levels = self._reducer.take()
        post.apply(levels)
        lo, hi = self.levels_range(post, vmin, vmax)
        s = self.spec
        box = [levels]
        del levels
        idx, resize_after = plot_index(box, lo, hi, s.size, s.convention)
        pixels: NDArray[np.uint8] = idx
        table = None if s.gray else colour_table(s.colormap)
        if resize_after or s.axes:
            img = index_image(
                idx,
                gray=s.gray,
                colormap=s.colormap,
                size=s.size if resize_after else None,
                resize_filter=s.convention.resize_filter,
            )
            del idx
            if s.axes:
                ax = Axes(self._t[0], self._t[1], self.freq, lo, hi, s.unit, self.title)
                img = figure(img, ax, gray=s.gray, colormap=s.colormap)
            pixels, table = np.asarray(img), None
            del img
        f, tmp = _temp_for(self.path)
        try:
            write_png(f, pixels, table, s.compress)
            f.close()
            os.replace(tmp, self.path)
        except BaseException:
            f.close()
            _unlink(tmp)
            raise

    def abort(self) -> None:
        """Nothing was written yet."""
