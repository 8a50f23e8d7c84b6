"""One input file of ``livespec export``: open, check, split into clips, analyse, write.

:func:`run_job` is what a worker process of a folder export runs; it never raises for a
problem with the file (it returns a :class:`JobResult` with a one-line reason) and never
leaves a partial output behind.
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livespec.audio.files import AudioFileError, open_audio_file, sf_reason
from livespec.audio.stderr import quiet_native_stderr
from livespec.dsp.scales import FreqScale
from livespec.errors import LivespecError
from livespec.export.dsp import F32, BatchAnalyzer, Recipe, row_frequencies
from livespec.export.frames import SampleReader, ShortRead, analyse_segment
from livespec.export.html import PageSpec
from livespec.export.image import LogRows, image_size_error
from livespec.export.io import CsvSink, ImageSpec, NpySink, PngSink, Post, Sink
from livespec.export.pages import html_sink, svg_sink

FORMATS = ("png", "npy", "csv", "html", "svg")


@dataclass(frozen=True)
class ExportOptions:
    """Everything about an export but its inputs and outputs.

    Attributes:
        recipe: the analysis.
        image: PNG options.
        clip: seconds per clip, or None for one output per input.
        keep_partial: also write a last clip shorter than ``clip``.
        csv_layout: "wide" or "long".
        force: overwrite outputs that exist (else they are skipped).
        page: what an HTML page or SVG figure shows besides the spectrogram.
        backend: FFT backend ("auto", "fftw", "numpy").
        threads: FFTW threads per process.
    """

    recipe: Recipe
    image: ImageSpec = field(default_factory=ImageSpec)
    clip: float | None = None
    keep_partial: bool = False
    csv_layout: str = "wide"
    force: bool = False
    page: PageSpec = field(default_factory=PageSpec)
    backend: str = "auto"
    threads: int = 1


@dataclass(frozen=True)
class Job:
    """One input and the base path of each output format (clips add ``_END`` to the name)."""

    input: Path
    outputs: tuple[tuple[str, Path], ...]  # (format, path)
    label: str  # the input as the user would recognise it, for messages


@dataclass(frozen=True)
class JobResult:
    """What happened to one input.

    Attributes:
        label: the input, for messages.
        status: "done", "skipped" (every output existed), "short" (shorter than one clip,
            so no output) or "failed".
        message: the reason of a failure, one line.
        written: outputs written.
        existing: outputs skipped because they existed.
    """

    label: str
    status: str
    message: str = ""
    written: int = 0
    existing: int = 0


class JobError(Exception):
    """A problem with one input, reported as one line."""


def clip_label(end_s: float) -> str:
    """The clip's end second as it appears in names: ``5``, ``2.5``, ``0.125``."""
    return f"{round(end_s, 6):.6f}".rstrip("0").rstrip(".")


def clip_path(base: Path, end_s: float) -> Path:
    """``dir/NAME.png`` -> ``dir/NAME_<end>.png``."""
    return base.with_name(f"{base.stem}_{clip_label(end_s)}{base.suffix}")


@dataclass(frozen=True)
class Segment:
    """A run of samples that becomes one set of outputs."""

    start: int  # first sample
    length: int  # samples
    end_s: float | None  # the clip's nominal end second (None: not clipping)


def segments(nsamples: int, samplerate: int, opts: ExportOptions) -> list[Segment]:
    """The whole file, or its clips (a last partial clip only with ``keep_partial`` and only
    if it holds at least one frame)."""
    if opts.clip is None:
        return [Segment(0, nsamples, None)]
    size = round(opts.clip * samplerate)
    out: list[Segment] = []
    k = 0
    while (k + 1) * size <= nsamples:
        out.append(Segment(k * size, size, (k + 1) * opts.clip))
        k += 1
    rest = nsamples - k * size
    if rest > 0 and opts.keep_partial and opts.recipe.frames(rest) > 0:
        out.append(Segment(k * size, rest, (k + 1) * opts.clip))
    return out


_ANALYZERS: OrderedDict[tuple[Recipe, float, str, int], BatchAnalyzer] = OrderedDict()


def analyzer_for(recipe: Recipe, samplerate: float, backend: str, threads: int) -> BatchAnalyzer:
    """A planned analyzer, reused across the files a process exports (4 kept)."""
    key = (recipe, float(samplerate), backend, threads)
    a = _ANALYZERS.get(key)
    if a is None:
        a = BatchAnalyzer(recipe, samplerate, backend=backend, threads=threads)
        _ANALYZERS[key] = a
        while len(_ANALYZERS) > 4:
            _ANALYZERS.popitem(last=False)
    else:
        _ANALYZERS.move_to_end(key)
    return a


def run_job(job: Job, opts: ExportOptions) -> JobResult:
    """Export one input; a problem with the file becomes a failed :class:`JobResult`."""
    try:
        with quiet_native_stderr():
            return _run(job, opts)
    except JobError as exc:
        return JobResult(job.label, "failed", str(exc))
    except ShortRead as exc:
        return JobResult(job.label, "failed", str(exc))
    except LivespecError as exc:  # DamagedInput: a sample that is not audio
        return JobResult(job.label, "failed", str(exc))
    except MemoryError:
        return JobResult(job.label, "failed", "out of memory")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return JobResult(job.label, "failed", f"{exc.strerror or exc}{where}")
    except RuntimeError as exc:  # soundfile.LibsndfileError while decoding
        reason = sf_reason(exc)
        return JobResult(job.label, "failed", f"cannot decode: {reason} (corrupt or truncated?)")
    except Exception as exc:
        msg = " ".join(str(exc).split())
        return JobResult(job.label, "failed", f"internal error: {type(exc).__name__}: {msg}")


def _run(job: Job, opts: ExportOptions) -> JobResult:
    path = job.input
    try:
        f = open_audio_file(path)
    except AudioFileError as exc:
        raise JobError(f"cannot open: {exc}" if exc.library else str(exc)) from None
    with f:
        nsamples = int(f.frames)
        fs = int(f.samplerate)
        if nsamples <= 0:
            raise JobError("no audio (0 samples)")
        r = opts.recipe
        if r.channel is not None and r.channel >= f.channels:
            raise JobError(f"--channel {r.channel + 1}: the file has {f.channels} channel(s)")
        written = existing = 0
        need = r.min_samples()
        if opts.clip is not None:
            if round(opts.clip * fs) < need:
                raise JobError(f"--clip {opts.clip:g} s is shorter than one frame ({need} samples)")
        elif nsamples < need:
            raise JobError(f"too short: {nsamples} samples, one frame needs {need}")
        segs = segments(nsamples, fs, opts)
        if not segs:
            return JobResult(job.label, "short", f"shorter than one clip ({nsamples / fs:g} s)")
        plans: list[tuple[Segment, list[tuple[str, Path]]]] = []
        for seg in segs:
            paths = [
                (fmt, p if seg.end_s is None else clip_path(p, seg.end_s)) for fmt, p in job.outputs
            ]
            todo = [(fmt, p) for fmt, p in paths if opts.force or not p.exists()]
            existing += len(paths) - len(todo)
            plans.append((seg, todo))
        while plans and not plans[-1][1]:  # nothing to do after the last clip with work
            plans.pop()
        reader = SampleReader(f, r.channel)
        analyzer: BatchAnalyzer | None = None
        scratch = np.empty(0, dtype=np.float32)
        for seg, todo in plans:  # consecutive segments, read in order
            if not todo:
                scratch = _skip(reader, seg.length, scratch)
                continue
            if analyzer is None:
                analyzer = analyzer_for(r, fs, opts.backend, opts.threads)
            written += _export_segment(reader, seg, fs, todo, analyzer, opts, path.name, path)
    status = "done" if written else "skipped"
    return JobResult(job.label, status, "", written, existing)


def _skip(reader: SampleReader, count: int, scratch: F32) -> F32:
    if scratch.shape[0] == 0:
        scratch = np.empty(65536, dtype=np.float32)
    while count > 0:
        k = min(count, scratch.shape[0])
        got = reader.read(scratch[:k])
        if got < k:
            raise ShortRead(count, got)
        count -= k
    return scratch


def _export_segment(
    reader: SampleReader,
    seg: Segment,
    fs: int,
    todo: list[tuple[str, Path]],
    analyzer: BatchAnalyzer,
    opts: ExportOptions,
    name: str,
    source: Path,
) -> int:
    r = opts.recipe
    frames = r.frames(seg.length)
    check_room(todo, frames, r.cols)
    offset = seg.start / fs
    spec = opts.image
    sinks: list[Sink] = []
    stats = np.array([np.inf, -np.inf])
    try:
        for fmt, p in todo:
            if fmt == "npy":
                sinks.append(NpySink(p, frames, r.cols))
            elif fmt == "csv":
                k = np.arange(frames, dtype=np.float64)
                sinks.append(
                    CsvSink(
                        p,
                        r.cols,
                        r.frame_time(k, fs) + offset,
                        row_frequencies(r, fs),
                        opts.csv_layout,
                    )
                )
            elif fmt == "html":
                clipped = seg.end_s is not None
                sinks.append(html_sink(p, frames, fs, opts, source, seg.start, seg.length, clipped))
            elif fmt == "svg":
                rows = r.n_mels if r.mel else r.bins
                svg = figure_spec(dataclasses.replace(spec, axes=True), frames, rows)
                length_s = seg.length / fs
                clipped = seg.end_s is not None
                sinks.append(svg_sink(p, frames, fs, opts, svg, name, offset, length_s, clipped))
            else:
                sinks.append(_png_sink(p, frames, fs, r, spec, offset, name, seg))

        def emit(rows: F32) -> None:
            lo = float(rows.min())
            hi = float(rows.max())
            if lo < stats[0]:
                stats[0] = lo
            if hi > stats[1]:
                stats[1] = hi
            for s in sinks:
                s.write(rows)

        got = analyse_segment(reader.read, seg.length, analyzer, emit)
        if got != frames:  # pragma: no cover - analyse_segment guarantees it
            raise JobError(f"internal error: {got} frames, expected {frames}")
        vmin, vmax = float(stats[0]), float(stats[1])
        shift = -vmax if r.ref_max else 0.0
        clamp = None if r.top_db is None else vmax + shift - r.top_db
        post = Post(shift, clamp)
        done = 0
        for s in sinks:
            s.finish(post, vmin, vmax)
            done += 1
        return done
    except BaseException:
        for s in sinks:
            s.abort()
        raise


CSV_BYTES_PER_VALUE = 16  # the spill's 4 and about 9 of text ("-120.000,"), with room


def _free_bytes(folder: Path) -> int | None:
    """Bytes free to this user in ``folder`` (or its nearest existing parent)."""
    for f in (folder, *folder.parents):
        try:
            st = os.statvfs(f)
        except OSError:
            continue
        return st.f_bavail * st.f_frsize
    return None


def check_room(todo: list[tuple[str, Path]], frames: int, cols: int) -> None:
    """Refuse (:class:`JobError`) outputs that cannot fit in their folder's free space:
    the size of an NPY (and about that of a CSV) is known before any work starts, and a
    mistaken ``--hop 1 --fft 65536`` asks for gigabytes."""
    need: dict[Path, int] = {}
    for fmt, p in todo:
        per_value = {"npy": 4, "csv": CSV_BYTES_PER_VALUE}.get(fmt, 0)
        need[p.parent] = need.get(p.parent, 0) + frames * cols * per_value
    for folder, size in need.items():
        free = _free_bytes(folder)
        if free is not None and size > free:
            raise JobError(
                f"not enough space: the output needs {size / 1e6:.1f} MB, "
                f"{folder} has {free / 1e6:.1f} MB free"
            )


AXES_MIN_WIDTH = 640  # a report figure's plot is at least this wide (pixels)
AXES_MIN_HEIGHT = 320  # ... and, cut down from a tall row count, about half as high


def figure_spec(spec: ImageSpec, frames: int, rows: int) -> ImageSpec:
    """For ``--axes`` without ``--size``: a plot of a readable shape. A short input (fewer
    frames than ``AXES_MIN_WIDTH``) is stretched to that width, and rows are cut down to
    half the width (at least ``AXES_MIN_HEIGHT``) when there are more; a long input keeps
    its column per frame. Everything else is left as it is."""
    if not spec.axes or spec.size is not None:
        return spec
    width = max(frames, AXES_MIN_WIDTH)
    height = min(rows, max(AXES_MIN_HEIGHT, width // 2))
    if (width, height) == (frames, rows):
        return spec
    return dataclasses.replace(spec, size=(width, height))


def _png_sink(
    p: Path,
    frames: int,
    fs: int,
    r: Recipe,
    spec: ImageSpec,
    offset: float,
    name: str,
    seg: Segment,
) -> PngSink:
    spec = figure_spec(spec, frames, r.n_mels if r.mel else r.bins)
    log_rows: LogRows | None = None
    if r.mel:
        freq = FreqScale("mel", r.n_mels, r.fmin, r.mel_fmax(fs), r.mel_htk)
    elif spec.scale == "log":
        bin_hz = fs / r.nfft
        rows = spec.size[1] if spec.size is not None else r.bins
        f_lo = max(20.0, bin_hz)
        f_hi = (r.bins - 1) * bin_hz
        log_rows = LogRows(bin_hz, r.bins, f_lo, f_hi, rows)
        freq = log_rows.scale
    else:
        freq = FreqScale("linear", r.bins, 0.0, (r.bins - 1) * fs / r.nfft)
    if spec.size is None:
        problem = image_size_error(frames, freq.rows)
        if problem:
            raise JobError(problem)
    half = r.hop / fs / 2.0
    t0 = float(r.frame_time(np.zeros(1), fs)[0]) + offset
    t_left = t0 - half
    t_right = t0 + (frames - 1) * r.hop / fs + half
    title = name if seg.end_s is None else f"{name}  {offset:g}-{offset + seg.length / fs:g} s"
    return PngSink(p, frames, spec, freq, log_rows, t_left, t_right, title)


def default_workers() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
