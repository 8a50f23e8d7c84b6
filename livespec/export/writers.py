"""The output formats of ``livespec export``: one entry per format in :data:`WRITERS`.

A writer is a function of a :class:`Target` (one output of one segment) that returns a
:class:`~livespec.export.io.Sink`. The format of an output follows its file's extension;
an extension that is known but has no writer yet (:data:`PLANNED`) is refused with one
line, and any other extension is an error too (never a folder: :mod:`.plan`).

Caller's thread (a worker process of a folder export, or the main thread).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livespec.dsp.scales import FreqScale
from livespec.errors import counted
from livespec.export.columns import freq_scale, row_frequencies
from livespec.export.dsp import Recipe
from livespec.export.image import LogRows
from livespec.export.io import CsvSink, ImageSpec, NpySink, PngSink, Sink

if TYPE_CHECKING:
    from livespec.export.job import ExportOptions

AXES_MIN_WIDTH = 640  # a report figure's plot is at least this wide (pixels)
AXES_MIN_HEIGHT = 320  # ... and, cut down from a tall row count, about half as high
MAX_WIDTH = 4096  # an image without --size: frames max-pooled down to at most this width
MAX_HEIGHT = 4096  # ... and rows to at most this height
DEFAULT_WIDTH = 800  # a PNG without --size (nor --like, --axes): this wide (sox's width)
DEFAULT_HEIGHT = 400  # ... and at most this high (fewer rows are kept as they are)


@dataclass
class Target:
    """One output of one segment (a whole input or one clip).

    Attributes:
        path: the output file.
        frames: rows of levels the segment gives.
        fs: sample rate in Hz.
        opts: the export's options.
        offset: the segment's start in seconds from the input's start.
        length_s: the segment's length in seconds.
        clipped: the segment is one clip of the input (named in a figure's title).
        name: the input's file name.
        notes: lines for stderr (the writer appends; the export prints them).
    """

    path: Path
    frames: int
    fs: int
    opts: ExportOptions
    offset: float
    length_s: float
    clipped: bool
    name: str
    notes: list[str] = field(default_factory=list)
    source: Path = Path()  # the input file (the HTML page's audio)

    @property
    def recipe(self) -> Recipe:
        """The analysis."""
        return self.opts.recipe


Writer = Callable[[Target], Sink]


def npy_writer(t: Target) -> Sink:
    """float32 (frames, cols) NPY."""
    return NpySink(t.path, t.frames, t.recipe.columns(t.fs))


def csv_writer(t: Target) -> Sink:
    """CSV text (``--csv-layout``)."""
    r = t.recipe
    k = np.arange(t.frames, dtype=np.float64)
    times = r.frame_time(k, t.fs) + t.offset
    return CsvSink(t.path, r.columns(t.fs), times, row_frequencies(r, t.fs), t.opts.csv_layout)


def figure_spec(spec: ImageSpec, frames: int, rows: int) -> ImageSpec:
    """For ``--axes`` without ``--size``: a plot of a readable shape. A short input (fewer
    frames than ``AXES_MIN_WIDTH``) is stretched to that width, and rows are cut down to
    half the width (at least ``AXES_MIN_HEIGHT``) when there are more; a long input keeps
    its column per frame (up to the width cap). Everything else is left as it is."""
    if not spec.axes or spec.size is not None:
        return spec
    width = max(frames, AXES_MIN_WIDTH)
    height = min(rows, max(AXES_MIN_HEIGHT, width // 2))
    if (width, height) == (frames, rows):
        return spec
    return dataclasses.replace(spec, size=(width, height))


def image_pool(frames: int, rows: int) -> tuple[int, int] | None:
    """Frames and rows per pixel that bring a full-resolution image within
    ``MAX_WIDTH`` x ``MAX_HEIGHT``, or None if it fits."""
    if frames <= MAX_WIDTH and rows <= MAX_HEIGHT:
        return None
    return -(-frames // MAX_WIDTH), -(-rows // MAX_HEIGHT)


def default_size(rows: int) -> tuple[int, int]:
    """The size of a PNG without ``--size`` (``ImageSpec.fit``) whose levels have ``rows``
    frequency rows: ``DEFAULT_WIDTH`` columns whatever the length (as sox's 800), and the
    rows, or ``DEFAULT_HEIGHT`` if there are more."""
    return DEFAULT_WIDTH, min(rows, DEFAULT_HEIGHT)


def png_writer(t: Target) -> Sink:
    """A PNG image (or an ``--axes`` figure)."""
    r = t.recipe
    fs = t.fs
    spec = t.opts.image
    frames = t.frames
    rows_in = r.columns(fs)
    if spec.fit and spec.size is None and not spec.axes:
        spec = dataclasses.replace(spec, size=default_size(rows_in))
    pool = image_pool(frames, rows_in) if spec.size is None else None
    if pool is not None and spec.axes:
        capped = (-(-frames // pool[0]), -(-rows_in // pool[1]))
        spec = figure_spec(spec, *capped)
        if spec.size is not None:
            pool = None
    else:
        spec = figure_spec(spec, frames, rows_in)
    log_rows: LogRows | None = None
    if r.kind != "linear":  # mel, log or cqt rows: the image shows them as they are
        freq = freq_scale(r, fs)
    elif spec.scale == "log":
        bin_hz = fs / r.nfft
        rows = spec.size[1] if spec.size is not None else r.bins
        f_lo = max(20.0, bin_hz)
        f_hi = (r.bins - 1) * bin_hz
        log_rows = LogRows(bin_hz, r.bins, f_lo, f_hi, rows)
        freq = log_rows.scale
    else:
        freq = FreqScale("linear", r.bins, 0.0, (r.bins - 1) * fs / r.nfft)
    if pool is not None:
        g, rg = pool
        w, h = -(-frames // g), -(-freq.rows // rg)
        what = counted(g, "frame") + (f" x {counted(rg, 'row')}" if rg > 1 else "")
        t.notes.append(
            f"{t.name}: {frames}x{freq.rows} levels shown as a {w}x{h} image (the loudest "
            f"of {what} per pixel); --size WxH or --clip S for another shape"
        )
    half = r.hop / fs / 2.0
    t0 = float(r.frame_time(np.zeros(1), fs)[0]) + t.offset
    t_left = t0 - half
    t_right = t0 + (frames - 1) * r.hop / fs + half
    title = t.name
    if t.clipped:
        title = f"{t.name}  {t.offset:g}-{t.offset + t.length_s:g} s"
    return PngSink(t.path, frames, spec, freq, log_rows, t_left, t_right, title, pool)


def html_writer(t: Target) -> Sink:
    """The HTML player page (:mod:`.html`)."""
    from livespec.export.pages import html_sink

    start, length = round(t.offset * t.fs), round(t.length_s * t.fs)
    return html_sink(t.path, t.frames, t.fs, t.opts, t.source, start, length, t.clipped, t.name)


def svg_writer(t: Target) -> Sink:
    """The vector figure (:mod:`.svg`): the ``--axes`` figure's plot size."""
    from livespec.export.pages import svg_sink

    r = t.recipe
    rows = r.columns(t.fs)
    spec = dataclasses.replace(t.opts.image, axes=True)
    pool = image_pool(t.frames, rows) if spec.size is None else None
    if pool is None:
        spec = figure_spec(spec, t.frames, rows)
    else:  # a long input: its plot capped as the PNG's (MAX_WIDTH x MAX_HEIGHT)
        capped = (-(-t.frames // pool[0]), -(-rows // pool[1]))
        spec = figure_spec(spec, *capped)
        spec = spec if spec.size is not None else dataclasses.replace(spec, size=capped)
        assert spec.size is not None
        t.notes.append(
            f"{t.name}: {t.frames}x{rows} levels shown as a {spec.size[0]}x{spec.size[1]} "
            "plot; --size WxH or --clip S for another shape"
        )
    return svg_sink(t.path, t.frames, t.fs, t.opts, spec, t.name, t.offset, t.length_s, t.clipped)


# The formats livespec writes, by extension (without the dot). Adding one is one entry.
WRITERS: dict[str, Writer] = {
    "png": png_writer,
    "npy": npy_writer,
    "csv": csv_writer,
    "html": html_writer,
    "svg": svg_writer,
}

# Known extensions without a writer yet: refused with one line, never taken for a folder.
PLANNED: dict[str, str] = {}

# Bytes per value of a format's file (for the free-space check before any work), if known.
BYTES_PER_VALUE: dict[str, int] = {"npy": 4, "csv": 16}  # CSV: the spill's 4 and the text
CSV_LONG_BYTES_PER_VALUE = 34  # --csv-layout long: the spill's 4 and a line of about 29
