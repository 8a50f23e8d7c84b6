"""One input file of ``livespec export``: open, check, split into clips, analyse, write.

:func:`run_job` is what a worker process of a folder export runs; it never raises for a
problem with the file (it returns a :class:`JobResult` with a one-line reason) and never
leaves a partial output behind.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livespec.audio.files import AudioFileError, check_header, open_audio_file, sf_reason
from livespec.audio.stderr import quiet_native_stderr
from livespec.errors import LivespecError, SourceError, counted
from livespec.export.columns import for_rate
from livespec.export.dsp import F32, BatchAnalyzer, Recipe
from livespec.export.frames import SampleReader, ShortRead, analyse_segment
from livespec.export.io import ImageSpec, PngSink, Post, Sink
from livespec.export.pagespec import PageSpec
from livespec.export.segment import Analyzers, analyse_png
from livespec.export.temps import error_place
from livespec.export.writers import BYTES_PER_VALUE, CSV_LONG_BYTES_PER_VALUE, WRITERS, Target

if TYPE_CHECKING:
    import soundfile

FORMATS = tuple(WRITERS)
STDIN = Path("-")  # ``livespec export -``: a WAV, FLAC or OGG stream on stdin
# --raw-int: the sample values scipy.io.wavfile.read gives, by libsndfile subtype.
RAW_INT_GAIN = {"PCM_16": 32768.0, "PCM_24": 2.0**31, "PCM_32": 2.0**31}


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
        raw_int: analyse the integer sample values (``scipy.io.wavfile.read``'s), not
            values scaled to +-1.
        page: what an HTML page or SVG figure shows besides the spectrogram.
        backend: FFT backend ("auto", "fftw", "numpy").
        threads: threads for one input: a long input is analysed in that many parts at
            once (up to 2; :mod:`.segment`), each with a one-thread FFT. The process pool
            sets it when it runs a single job in this process.
    """

    recipe: Recipe
    image: ImageSpec = field(default_factory=ImageSpec)
    clip: float | None = None
    keep_partial: bool = False
    csv_layout: str = "wide"
    force: bool = False
    raw_int: bool = False
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
        notes: lines for stderr about outputs that were written (e.g. a capped image).
    """

    label: str
    status: str
    message: str = ""
    written: int = 0
    existing: int = 0
    notes: tuple[str, ...] = ()


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


_Key = tuple[Recipe, float, str, int, int | None, int]
_ANALYZERS: OrderedDict[_Key, BatchAnalyzer] = OrderedDict()


def analyzer_for(
    recipe: Recipe,
    samplerate: float,
    backend: str,
    threads: int,
    batch: int | None = None,
    part: int = 0,
) -> BatchAnalyzer:
    """A planned analyzer (``threads`` FFTW threads, ``batch`` frames per FFT or the
    default), reused across the files a process exports (4 kept); each ``part`` of a
    split analysis has its own."""
    key = (recipe, float(samplerate), backend, threads, batch, part)
    a = _ANALYZERS.get(key)
    if a is None:
        a = BatchAnalyzer(recipe, samplerate, backend=backend, threads=threads, batch=batch)
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
    except OSError as exc:  # named by the output, not by its temporary file
        where = error_place(exc, [p for _, p in job.outputs], clips=opts.clip is not None)
        return JobResult(job.label, "failed", f"{exc.strerror or exc}{where}")
    except RuntimeError as exc:  # soundfile.LibsndfileError while decoding
        reason = sf_reason(exc)
        return JobResult(job.label, "failed", f"cannot decode: {reason} (corrupt or truncated?)")
    except Exception as exc:
        msg = " ".join(str(exc).split())
        return JobResult(job.label, "failed", f"internal error: {type(exc).__name__}: {msg}")


def _open_stdin() -> tuple[soundfile.SoundFile, Path, str | None]:
    """stdin (a WAV, FLAC or OGG stream) spooled to an anonymous temporary file, opened
    with libsndfile: the number of frames must be known before the outputs are started;
    a path that opens the spool afresh while it is open (an HTML page's audio); and a
    warning if a WAV stream ended short of the real size its header declares."""
    import soundfile as sf

    from livespec.audio.stdin import sniff
    from livespec.audio.wavhead import MAX_HEAD_BYTES, WavHead, open_ended, scan, short_note

    spool = tempfile.TemporaryFile()  # noqa: SIM115  (owned by the SoundFile returned)
    src = sys.stdin.buffer
    head = src.read(12)
    kind = sniff(head)
    if kind not in ("WAV", "FLAC", "OGG", "AIFF"):
        spool.close()
        what = "an MP3 stream" if kind == "MP3" else "no WAV, FLAC or OGG header"
        raise JobError(f"{what}; export - reads WAV, FLAC, OGG or AIFF streams")
    spool.write(head)
    while chunk := src.read(1 << 20):
        spool.write(chunk)
    spool.seek(0)
    head = spool.read(MAX_HEAD_BYTES)
    wav = scan(head) if kind == "WAV" else None
    if isinstance(wav, WavHead):  # a data size of 0: libsndfile would read nothing
        spool.seek(0)
        spool.write(open_ended(head[: wav.size_at + 4], wav))
    spool.seek(0)
    try:
        f = sf.SoundFile(spool)
    except RuntimeError as exc:
        spool.close()
        raise JobError(f"cannot decode: {sf_reason(exc)}") from None
    try:  # the limits a file's header is held to (docs/cli.md), before any allocation
        check_header("the stream", int(f.samplerate), int(f.channels))
    except SourceError as exc:
        f.close()
        raise JobError(str(exc).removeprefix("the stream: ")) from None
    note = None
    if isinstance(wav, WavHead):
        note = short_note("the WAV stream on stdin", wav, int(f.frames), int(f.samplerate))
    return f, Path(f"/dev/fd/{spool.fileno()}"), note


def _run(job: Job, opts: ExportOptions) -> JobResult:
    path = job.input
    try:
        f, audio, note = _open_stdin() if path == STDIN else (open_audio_file(path), path, None)
    except AudioFileError as exc:
        raise JobError(f"cannot open: {exc}" if exc.library else str(exc)) from None
    with f:
        nsamples = int(f.frames)
        fs = int(f.samplerate)
        if nsamples <= 0:
            raise JobError("no audio (0 samples)")
        try:
            r = for_rate(opts.recipe, fs)
        except ValueError as exc:
            raise JobError(str(exc)) from None
        if opts.raw_int:
            gain = RAW_INT_GAIN.get(str(f.subtype))
            if gain is None:
                raise JobError(
                    f"--raw-int: the samples are {f.subtype}, not 16, 24 or 32-bit integers"
                )
            # scipy computes int16 input in single precision (complex64) but int32 (24- and
            # 32-bit files) in double: np.result_type(int32, complex64) is complex128.
            precision = r.precision if gain == RAW_INT_GAIN["PCM_16"] else "double"
            r = dataclasses.replace(r, gain=gain, precision=precision)
        opts = dataclasses.replace(opts, recipe=r)
        channels = int(f.channels)
        if r.channel is not None and r.channel >= channels:
            has = counted(channels, "channel")
            raise JobError(f"--channel {r.channel + 1}: the file has {has}")
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
            for _, p in paths:  # neither skipped as existing nor replaced (--force)
                if p.is_dir():
                    raise JobError(f"the output {p} is a folder, not a file")
            todo = [(fmt, p) for fmt, p in paths if opts.force or not p.exists()]
            existing += len(paths) - len(todo)
            plans.append((seg, todo))
        while plans and not plans[-1][1]:  # nothing to do after the last clip with work
            plans.pop()
        reader = SampleReader(f, r.channel)
        scratch = np.empty(0, dtype=np.float32)
        notes: list[str] = [] if note is None else [note]
        name = "stdin" if path == STDIN else path.name

        def analyzers(batch: int | None = None, part: int = 0) -> BatchAnalyzer:
            return analyzer_for(r, fs, opts.backend, 1, batch, part)

        for seg, todo in plans:  # consecutive segments, read in order
            if not todo:
                scratch = _skip(reader, seg.length, scratch)
                continue
            written += _export_segment(reader, seg, fs, todo, analyzers, opts, name, notes, audio)
    status = "done" if written else "skipped"
    return JobResult(job.label, status, "", written, existing, tuple(notes))


def _reopen(path: Path, channel: int | None, start: int) -> tuple[SampleReader, Callable[[], None]]:
    """A second reader of ``path`` from sample ``start`` (a part of a split analysis)."""
    f = open_audio_file(path)
    try:
        f.seek(start)
    except BaseException:
        f.close()
        raise
    reader = SampleReader(f, channel)
    reader.read_total = start
    return reader, f.close


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
    analyzers: Analyzers,
    opts: ExportOptions,
    name: str,
    notes: list[str],
    source: Path,
) -> int:
    r = opts.recipe
    frames = r.frames(seg.length)
    cols = r.columns(fs)
    check_room(todo, frames, cols, opts.csv_layout)
    offset = seg.start / fs
    sinks: list[Sink] = []
    stats = np.array([np.inf, -np.inf])
    try:
        for fmt, p in todo:
            t = Target(p, frames, fs, opts, offset, seg.length / fs, seg.end_s is not None, name)
            t.source = source
            sinks.append(WRITERS[fmt](t))
            notes.extend(t.notes)

        def emit(rows: F32) -> None:
            lo = float(rows.min())
            hi = float(rows.max())
            if lo < stats[0]:
                stats[0] = lo
            if hi > stats[1]:
                stats[1] = hi
            for s in sinks:
                s.write(rows)

        png = sinks[0] if len(sinks) == 1 and isinstance(sinks[0], PngSink) else None
        if png is not None:  # from powers and/or on two threads (.segment)
            split = opts.threads > 1 and opts.clip is None and source != STDIN
            reopen = functools.partial(_reopen, source, r.channel) if split else None
            spec = png.spec
            need = r.ref_max or r.top_db is not None or None in (spec.db_min, spec.db_max)
            lo, hi = analyse_png(reader, seg.length, analyzers, png, r, fs, need, reopen)
            stats[:] = lo, hi
        else:
            got = analyse_segment(reader.read, seg.length, analyzers(None, 0), emit)
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


def _free_bytes(folder: Path) -> int | None:
    """Bytes free to this user in ``folder`` (or its nearest existing parent)."""
    for f in (folder, *folder.parents):
        try:
            st = os.statvfs(f)
        except OSError:
            continue
        if st.f_flag & os.ST_RDONLY:  # not "not enough space": the write says EROFS
            return None
        return st.f_bavail * st.f_frsize
    return None


def check_room(
    todo: list[tuple[str, Path]], frames: int, cols: int, csv_layout: str = "wide"
) -> None:
    """Refuse (:class:`JobError`) outputs that cannot fit in their folder's free space:
    the size of an NPY (and about that of a CSV) is known before any work starts, and a
    mistaken ``--hop 1 --fft 65536`` asks for gigabytes."""
    need: dict[Path, int] = {}
    for fmt, p in todo:
        per_value = BYTES_PER_VALUE.get(fmt, 0)
        if fmt == "csv" and csv_layout == "long":  # a line per value: time, Hz and level
            per_value = CSV_LONG_BYTES_PER_VALUE
        need[p.parent] = need.get(p.parent, 0) + frames * cols * per_value
    for folder, size in need.items():
        free = _free_bytes(folder)
        if free is not None and size > free:
            raise JobError(
                f"not enough space: the output needs {size / 1e6:.1f} MB, "
                f"{folder} has {free / 1e6:.1f} MB free"
            )


def default_workers() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
