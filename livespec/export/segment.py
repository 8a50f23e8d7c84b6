"""The analysis of one segment into its outputs, on one thread or two.

Most outputs take every frame's levels in order (:func:`~livespec.export.frames.
analyse_segment`). A segment whose only output is a PNG is analysed differently:

* when its pixels are means of several FFT bins' levels (a ``--size`` smaller than the
  levels, linear rows, livespec's dBFS levels), from powers, one logarithm per run of
  values (:mod:`.dbmean`), in batches of whole groups of frames;
* a long input from a file, shown smaller than its levels, is analysed in two parts at
  once, each with its own file handle and analyzer, adding to disjoint columns of the one
  image: the second part in a forked child process (:mod:`.forked`; Linux, while this
  process has no other Python thread), whose columns reach the image through shared
  memory, else on a helper thread (numpy, FFTW and libsndfile let go of the GIL, but the
  two threads hand it to each other at every numpy call). The split is at a multiple of
  the batch and of the frames per column, so the image is the same as from one thread,
  bit for bit.

The per-frame extremes of the levels are computed only if the output needs them
(``--db-ref max``, ``--top-db``, a colour range from the data). Caller's thread, plus the
helper thread or child process it waits for.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from livespec.export.dbmean import PowerMeans, run_batch
from livespec.export.dsp import F32, F64, BatchAnalyzer, Recipe, batch_size, power_scale
from livespec.export.forked import Child as Child  # (tests replace it)
from livespec.export.forked import can_fork
from livespec.export.frames import SampleReader, ShortRead, frame_views
from livespec.export.io import PngSink

MIN_SPLIT_FRAMES = 1024  # fewer frames than this are analysed on one thread
# The second part in a forked child where it can (.forked): only when ``livespec export``
# is the process's own command line (the CLI sets it); a library caller's process (a
# notebook, an ML pipeline with its own native threads and handles) is never forked.
SPLIT_BY_FORK = False

# (batch or None for the default, part index) -> an analyzer of the segment's recipe
Analyzers = Callable[[int | None, int], BatchAnalyzer]
# sample offset in the input -> a reader positioned there, and its closer
Reopen = Callable[[int], tuple[SampleReader, Callable[[], None]]]


@dataclass
class _Part:
    reader: SampleReader | None  # None until its thread opens it
    nsamples: int
    k0: int  # its first frame in the segment
    analyzer: BatchAnalyzer | None  # None until its thread plans it
    lo: float = math.inf
    hi: float = -math.inf
    error: BaseException | None = None


def parts_fork() -> bool:
    """True if the second part of a split analysis would run in a forked process (Linux,
    no other Python thread now): then it is worth running whatever the load average."""
    return SPLIT_BY_FORK and can_fork()


def means_apply(r: Recipe, sink: PngSink) -> bool:
    """True if the PNG's pixels can be computed from powers (:mod:`.dbmean`)."""
    plain = r.kind == "linear" and r.level == "dbfs" and r.log_base == "db"
    return plain and r.precision == "double" and sink.averages_bins


def split_at(frames: int, step: int) -> int | None:
    """The first frame of the second part: a multiple of ``step`` near the middle, or None
    if the segment is too short to split."""
    if frames < max(MIN_SPLIT_FRAMES, 4 * step):
        return None
    return max(step, round(frames / 2 / step) * step)


def analyse_png(
    reader: SampleReader,
    nsamples: int,
    analyzers: Analyzers,
    sink: PngSink,
    r: Recipe,
    fs: int,
    need_extremes: bool,
    reopen: Reopen | None,
) -> tuple[float, float]:
    """Analyse ``nsamples`` samples from ``reader`` into ``sink`` (on two threads when
    ``reopen`` is given and the segment is long); the extremes of the levels (min, max) in
    dB, or (inf, -inf) without ``need_extremes``.

    Raises:
        ShortRead: the input ended early.
    """
    means = means_apply(r, sink)
    red = sink.reducer
    batch = run_batch(red.group, red.row_group, r.floor, batch_size(r.nfft))
    first = analyzers(batch if means else None, 0)
    frames = r.frames(nsamples)
    step = math.lcm(first.batch, red.group)
    # An image of one pixel per value holds every level already: a second analyzer's
    # buffers would take it past its memory budget for little gain.
    whole = red.group == 1 and red.row_group == 1
    s = split_at(frames, step) if reopen is not None and not r.center and not whole else None
    if s is None or reopen is None:
        parts = [_Part(reader, nsamples, 0, first)]
        closers: list[Callable[[], None]] = []
    else:
        closers = []
        parts = [
            _Part(reader, (s - 1) * r.hop + r.n, 0, first),
            _Part(None, nsamples - s * r.hop, s, None),
        ]
    scale = power_scale(r, fs) if means else None
    stop = threading.Event()

    def work(part: _Part) -> None:
        try:
            if part.analyzer is None and reopen is not None:
                # The second part opens and plans on its own thread (pyFFTW's planner
                # holds a lock of its own), while the first one is already analysing.
                part.reader, close = reopen(part.k0 * r.hop)
                closers.append(close)
                part.analyzer = analyzers(first.batch if means else None, 1)
            _run_part(part, sink, means, scale, need_extremes, stop)
        except BaseException as exc:  # re-raised by the caller's thread
            part.error = exc

    helper = None
    child: Child[tuple[float, float]] | None = None
    try:
        if len(parts) > 1 and parts_fork():
            sink.reducer.share()  # the child adds its columns to this process's image
            child = Child(functools.partial(_in_child, work, parts[1]))
        elif len(parts) > 1:
            helper = threading.Thread(target=work, args=(parts[1],), name="export-part")
            helper.daemon = True
            helper.start()
        work(parts[0])
    finally:
        if parts[0].error is not None:
            stop.set()
            if child is not None:
                child.kill()
        if helper is not None:
            helper.join()
        if child is not None and parts[0].error is None:
            try:
                parts[1].lo, parts[1].hi = child.result()
            except BaseException as exc:  # raised below, after the first part's
                parts[1].error = exc
        for close in closers:
            close()
    for part in parts:
        if isinstance(part.error, ShortRead):
            got = part.k0 * r.hop + part.error.got
            raise ShortRead(nsamples, got) from None
        if part.error is not None:
            raise part.error
    return min(p.lo for p in parts), max(p.hi for p in parts)


def _in_child(work: Callable[[_Part], None], part: _Part) -> tuple[float, float]:
    """The second part in a forked child (:mod:`.forked`): its extremes, or its error."""
    work(part)
    if part.error is not None:
        raise part.error
    return part.lo, part.hi


def _run_part(
    part: _Part,
    sink: PngSink,
    from_powers: bool,
    scale: F64 | None,
    need_extremes: bool,
    stop: threading.Event,
) -> None:
    """One part's frames into ``sink``, from powers (with their per-bin ``scale``) or
    from levels."""
    an, reader = part.analyzer, part.reader
    assert an is not None and reader is not None
    k = part.k0
    means = None
    if from_powers:
        means = PowerMeans(sink.reducer, scale, an.recipe.floor, an.log, an.batch)
    else:
        out: F32 = np.empty((an.batch, an.cols), dtype=np.float32)
    wide = np.float64 if from_powers else np.float32
    for view in frame_views(reader.read, part.nsamples, an, wide):
        if stop.is_set():
            return
        f = view.shape[0]
        if means is not None:
            p = an.power(view, scaled=False)
            if need_extremes:
                lo, hi = means.extremes(p)
                part.lo, part.hi = min(part.lo, lo), max(part.hi, hi)
            means.add(p, k)
        else:
            rows = out[:f]
            an.process(view, rows)
            if need_extremes:
                part.lo = min(part.lo, float(rows.min()))
                part.hi = max(part.hi, float(rows.max()))
            sink.write(rows, k)
        k += f
