"""The HTML page's and the SVG figure's sinks for one output of ``livespec export``: the
plot's frequency scale, time span and title (as the PNG's), then :class:`.html.HtmlSink` or
:class:`.svg.SvgSink`. Caller's thread (a worker process of a folder export, or the main
thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livespec.dsp.scales import FreqScale
from livespec.errors import LivespecError
from livespec.export.columns import freq_scale
from livespec.export.dsp import Recipe
from livespec.export.figure import Layout
from livespec.export.html import HtmlSink, plot_for
from livespec.export.image import LogRows, image_size_error
from livespec.export.io import ImageSpec
from livespec.export.svg import SvgSink

if TYPE_CHECKING:
    from livespec.export.job import ExportOptions


@dataclass(frozen=True)
class Geometry:
    """A plot: its rows' frequency scale (after ``log_rows``, if any), the seconds at its
    left and right edges, and its title."""

    freq: FreqScale
    log_rows: LogRows | None
    t_left: float
    t_right: float
    title: str


def geometry(
    frames: int,
    fs: int,
    r: Recipe,
    scale: str,
    log_height: int,
    name: str,
    offset: float,
    length_s: float,
    clipped: bool,
) -> Geometry:
    """The plot of ``frames`` frames of a segment starting ``offset`` s into the input
    (``log_height``: rows of a log scale), by the PNG export's rules."""
    log_rows: LogRows | None = None
    if r.kind != "linear":  # mel, log or cqt rows, shown as they are
        freq = freq_scale(r, fs)
    elif scale == "log":
        bin_hz = fs / r.nfft
        log_rows = LogRows(bin_hz, r.bins, max(20.0, bin_hz), (r.bins - 1) * bin_hz, log_height)
        freq = log_rows.scale
    else:
        freq = FreqScale("linear", r.bins, 0.0, (r.bins - 1) * fs / r.nfft)
    half = r.hop / fs / 2.0
    t0 = float(r.frame_time(np.zeros(1), fs)[0]) + offset
    t_left = t0 - half
    t_right = t0 + (frames - 1) * r.hop / fs + half
    title = f"{name}  {offset:g}-{offset + length_s:g} s" if clipped else name
    return Geometry(freq, log_rows, t_left, t_right, title)


def html_sink(
    path: Path,
    frames: int,
    fs: int,
    opts: ExportOptions,
    source: Path,
    start: int,
    length: int,
    clipped: bool,
    name: str,
) -> HtmlSink:
    """``-o x.html``: the page of samples ``start .. start + length`` of ``source``, titled
    ``name`` (the input's file name, or stdin)."""
    r = opts.recipe
    g = geometry(
        frames, fs, r, opts.image.scale, Layout().ph, name, start / fs, length / fs, clipped
    )
    plot = plot_for(frames, g.freq, g.log_rows, opts.page)
    audio = (source, start, length)
    return HtmlSink(
        path, plot, opts.image, opts.page, audio, g.t_left, g.t_right, r.hop / fs, g.title
    )


def svg_sink(
    path: Path,
    frames: int,
    fs: int,
    opts: ExportOptions,
    spec: ImageSpec,
    name: str,
    offset: float,
    length_s: float,
    clipped: bool,
) -> SvgSink:
    """``-o x.svg``: ``spec`` is the ``--axes`` figure's image spec (its plot's size)."""
    r = opts.recipe
    rows = spec.size[1] if spec.size is not None else r.columns(fs)
    g = geometry(frames, fs, r, spec.scale, rows, name, offset, length_s, clipped)
    if spec.size is None and (problem := image_size_error(frames, g.freq.rows)):
        raise LivespecError(problem)
    return SvgSink(path, frames, spec, g.freq, g.log_rows, g.t_left, g.t_right, g.title, opts.page)
