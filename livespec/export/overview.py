"""A recording's spectrogram at a bounded number of time columns, computed in a thread.

The file browser (``livespec FILE``) shows a whole recording at once: :class:`SpanJob`
reads a span of the file block by block (:class:`~livespec.export.frames.SampleReader`,
:func:`~livespec.export.frames.iter_segment`, one :class:`~livespec.export.dsp.BatchAnalyzer`)
and max-pools the rows into ``columns`` time columns (a tone shorter than a column is never
lost between columns), with each column's RMS level and waveform extremes. Memory is the
column matrix (int16 hundredths of a dB, ``columns x bins``: 33 MB at 8192 x 2049) plus a
few blocks, whatever the file's length.
The whole file is one job with at most :data:`MAX_COLUMNS` columns (the overview); a
zoomed view asks for its visible span at screen resolution (a detail job).

Columns fill from the start of the span; :attr:`SpanJob.done` (columns complete) grows as
the worker goes, so the UI draws what is ready. The worker thread writes, any thread reads
(a column being written may be read half-done: a picture, not a measurement).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livespec.audio.files import open_audio_file
from livespec.export.dsp import DBFS_FLOOR, BatchAnalyzer, Recipe
from livespec.export.frames import SampleReader, frame_views

MAX_COLUMNS = 8192  # overview columns, whatever the length of the file
NO_DATA_DB = -400.0  # a column not computed yet (below any colour floor)
NO_DATA_Q = -32768  # the same in :attr:`SpanJob.db` (int16, hundredths of a dB)
Q_PER_DB = 100  # levels are stored in hundredths of a dB
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FileInfo:
    """What the browser needs to know of an audio file: rate (Hz), frames, channels."""

    path: Path
    samplerate: int
    frames: int
    channels: int
    format: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.samplerate


def file_info(path: Path) -> FileInfo:
    """Open ``path`` once to check it (raises :class:`~livespec.audio.files.AudioFileError`
    with the reason) and return its rate, length and channels. Caller's thread."""
    with open_audio_file(path) as f:
        return FileInfo(path, int(f.samplerate), int(f.frames), int(f.channels), str(f.format))


def overview_hop(nsamples: int, n: int, columns: int) -> int:
    """Samples between frames for ``columns`` columns over ``nsamples``: about two frames
    per column, no more overlap than 3/4 of a frame and no gap between frames."""
    want = nsamples // max(2 * columns, 1)
    return int(min(max(want, max(n // 4, 16)), n))


def detail_hop(nsamples: int, n: int, columns: int) -> int:
    """Samples between frames for a zoomed span: two frames per column, at least 16."""
    return int(min(max(nsamples // max(2 * columns, 1), 16), n))


class SpanJob:
    """Max-pooled spectrogram columns of samples ``[start, end)`` of ``path``.

    Args:
        info: the file (from :func:`file_info`).
        start, end: the span in samples (clamped to the file).
        columns: time columns the span is cut into (each ``(end - start) / columns``
            samples long).
        fft: samples per frame (a power of two; shortened for a file shorter than that).
        window: a livespec window name.
        hop: samples between frames (None: :func:`overview_hop`).
        channel: 0-based channel; None: the mean of all channels.

    Attributes:
        db: (columns, bins) int16 levels in hundredths of a dB (dBFS * 100; -327.67 to
            +327.67 dBFS), :data:`NO_DATA_Q` where not computed yet (:meth:`levels` gives
            dBFS); int16 because numpy's maximum over float16 is 30 times slower.
        rms_db: (columns,) float32 RMS level of each column's samples, dBFS.
        wave_lo, wave_hi: (columns,) float32 smallest and largest sample of each column.
        done: columns complete (they fill from the left).
        error: the worker's exception, if it failed.
    """

    def __init__(
        self,
        info: FileInfo,
        start: int,
        end: int,
        columns: int,
        *,
        fft: int = 4096,
        window: str = "hann",
        hop: int | None = None,
        channel: int | None = None,
        backend: str = "auto",
    ) -> None:
        self.info = info
        self.backend = backend
        self.start = max(0, min(int(start), info.frames))
        self.end = max(self.start, min(int(end), info.frames))
        self.columns = max(1, int(columns))
        span = max(self.end - self.start, 1)
        n = int(fft)
        while n > 64 and n > info.frames:
            n //= 2
        self.recipe = Recipe(
            n=n, nfft=n, hop=hop or overview_hop(span, n, self.columns), window=window
        )
        self.channel = channel
        self.window = window
        self.bins = n // 2 + 1
        self.db = np.full((self.columns, self.bins), NO_DATA_Q, dtype=np.int16)
        self.rms_db = np.full(self.columns, NO_DATA_DB, dtype=np.float32)
        self.wave_lo = np.zeros(self.columns, dtype=np.float32)
        self.wave_hi = np.zeros(self.columns, dtype=np.float32)
        self._sq = np.zeros(self.columns, dtype=np.float64)
        self._count = np.zeros(self.columns, dtype=np.int64)
        self.done = 0
        self.finished = False
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def levels(self) -> F32:
        """:attr:`db` in dBFS (float32; :data:`NO_DATA_DB` where not computed)."""
        return to_dbfs(self.db)

    # -- geometry ------------------------------------------------------------------------

    @property
    def seconds(self) -> tuple[float, float]:
        """The span in seconds."""
        fs = self.info.samplerate
        return self.start / fs, self.end / fs

    def column_of_samples(self, samples: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Column of each absolute sample position (clipped to the columns)."""
        span = max(self.end - self.start, 1)
        col = np.floor((samples - self.start) * (self.columns / span)).astype(np.int64)
        return np.clip(col, 0, self.columns - 1)

    @property
    def ready_seconds(self) -> float:
        """Seconds of the span whose columns are complete."""
        a, b = self.seconds
        return (b - a) * self.done / self.columns

    # -- the worker ----------------------------------------------------------------------

    def start_thread(self) -> None:
        """Start the worker (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="livespec-overview")
            self._thread.start()

    def stop(self) -> None:
        """Ask the worker to stop and wait for it (any thread but the worker)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def run(self) -> None:
        """Compute every column in the caller's thread (tests, small files)."""
        self._run()

    def _run(self) -> None:
        try:
            self._compute()
        except BaseException as exc:  # kept and shown by the UI, never lost
            self.error = exc
        finally:
            self.finished = True

    def _compute(self) -> None:
        info, r = self.info, self.recipe
        seg0 = max(0, self.start - r.n // 2)
        seg1 = min(info.frames, self.end + r.n // 2)
        fs = float(info.samplerate)
        faster: list[BatchAnalyzer] = []
        planner = None
        if self.backend == "auto":
            # numpy's FFT at once; FFTW from the batch after its plan is ready (importing
            # and planning it takes about a second the first time in a process)
            analyzer = BatchAnalyzer(r, fs, backend="numpy")
            planner = threading.Thread(
                target=_plan, args=(r, fs, faster), name="livespec-overview-plan"
            )
            planner.start()
        else:
            analyzer = BatchAnalyzer(r, fs, backend=self.backend)
        try:
            complete = self._analyse(analyzer, faster, seg0, seg1)
        finally:
            if planner is not None:
                planner.join()
        if not complete:
            return
        self._fill_gaps()
        self.done = self.columns

    def _analyse(
        self, analyzer: BatchAnalyzer, faster: list[BatchAnalyzer], seg0: int, seg1: int
    ) -> bool:
        """Read and analyse samples ``[seg0, seg1)``; False if stopped before the end."""
        info, r = self.info, self.recipe
        with open_audio_file(info.path) as sf:
            sf.seek(seg0)
            reader = SampleReader(sf, self.channel)
            pos = [seg0]

            def read(out: F32) -> int:
                if self._stop.is_set():
                    return 0
                got = reader.read(out[: max(0, seg1 - pos[0])])
                if got:
                    self._samples(out[:got], pos[0])
                    pos[0] += got
                return got

            k = 0
            half = r.n / 2.0
            total = r.frames(seg1 - seg0)
            try:
                for frames in frame_views(read, seg1 - seg0, analyzer):
                    rows = (faster[0] if faster else analyzer).power(frames)
                    f = rows.shape[0]
                    centres = seg0 + (np.arange(k, k + f, dtype=np.float64) * r.hop + half)
                    k += f
                    keep = (centres >= self.start) & (centres < self.end)
                    if keep.all():
                        self._pool(rows, self.column_of_samples(centres))
                    elif keep.any():
                        self._pool(rows[keep], self.column_of_samples(centres[keep]))
                    if self._stop.is_set():
                        return False
                    if k < total:
                        last = int(self.column_of_samples(centres[-1:])[0])
                        self.done = max(self.done, last)
            except Exception:
                if self._stop.is_set():
                    return False
                raise
        return True

    def _pool(self, rows: npt.NDArray[np.float64], cols: npt.NDArray[np.int64]) -> None:
        """Max-pool rows of power (non-decreasing columns ``cols``) into :attr:`db`: the
        maximum first, then the logarithm (the same levels, fewer logarithms)."""
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        pooled = np.maximum.reduceat(rows, starts, axis=0)
        np.maximum(pooled, DBFS_FLOOR, out=pooled)
        db = np.log10(pooled)
        db *= 10.0 * Q_PER_DB
        q = np.clip(np.rint(db), -32767, 32767).astype(np.int16)
        idx = cols[starts]
        np.maximum(q, self.db[idx], out=q)
        self.db[idx] = q

    def _samples(self, block: F32, first: int) -> None:
        """Per-column RMS and waveform extremes of samples starting at ``first``."""
        lo_s, hi_s = max(first, self.start), min(first + block.shape[0], self.end)
        if hi_s <= lo_s:
            return
        x = block[lo_s - first : hi_s - first]
        c0, c1 = self.column_of_samples(np.array([lo_s, hi_s - 1], dtype=np.float64))
        span = max(self.end - self.start, 1)
        # first sample of each column c0+1..c1 (relative to x)
        cs = np.arange(int(c0) + 1, int(c1) + 1, dtype=np.float64)
        bounds = np.ceil(self.start + cs * (span / self.columns)).astype(np.int64) - lo_s
        starts = np.clip(np.r_[0, bounds], 0, x.shape[0] - 1)
        cols = np.arange(int(c0), int(c1) + 1)
        sq = np.add.reduceat(x.astype(np.float64) ** 2, starts)
        n = np.diff(np.r_[starts, x.shape[0]])
        lo = np.minimum.reduceat(x, starts)
        hi = np.maximum.reduceat(x, starts)
        fresh = self._count[cols] == 0
        self.wave_lo[cols] = np.where(fresh, lo, np.minimum(self.wave_lo[cols], lo))
        self.wave_hi[cols] = np.where(fresh, hi, np.maximum(self.wave_hi[cols], hi))
        self._sq[cols] += sq
        self._count[cols] += n
        ms = self._sq[cols] / np.maximum(self._count[cols], 1)
        self.rms_db[cols] = 10.0 * np.log10(np.maximum(ms, 1e-20))

    def _fill_gaps(self) -> None:
        """Columns no frame centre fell in (a span shorter than two hops per column) take
        the nearest computed column to their left (or right, at the start)."""
        have = self.db[:, 0] > NO_DATA_Q
        if have.all() or not have.any():
            return
        idx = np.where(have, np.arange(self.columns), -1)
        idx = np.maximum.accumulate(idx)
        first = int(np.argmax(have))
        idx[idx < 0] = first
        self.db[:] = self.db[idx]


def _plan(recipe: Recipe, samplerate: float, out: list[BatchAnalyzer]) -> None:
    """Plan an FFTW analyzer (a planner thread); ``out`` gets it if pyFFTW is there."""
    try:
        a = BatchAnalyzer(recipe, samplerate, backend="auto")
    except Exception:  # no FFTW after all: numpy's FFT goes on
        return
    if a.backend == "fftw":
        out.append(a)


def to_dbfs(q: npt.NDArray[np.int16]) -> F32:
    """Stored levels (hundredths of a dB) -> dBFS float32, :data:`NO_DATA_DB` for none."""
    out: F32 = q.astype(np.float32) * np.float32(1.0 / Q_PER_DB)
    out[q == NO_DATA_Q] = NO_DATA_DB
    return out


def overview_job(
    info: FileInfo,
    *,
    fft: int = 4096,
    window: str = "hann",
    channel: int | None = None,
    backend: str = "auto",
) -> SpanJob:
    """The whole file at ``min(MAX_COLUMNS, frames / (fft / 4))`` columns."""
    n = min(fft, max(64, info.frames))
    columns = int(min(MAX_COLUMNS, max(1, info.frames // max(n // 4, 1))))
    return SpanJob(
        info, 0, info.frames, columns, fft=fft, window=window, channel=channel, backend=backend
    )


def detail_job(
    info: FileInfo,
    t0: float,
    t1: float,
    columns: int,
    *,
    fft: int = 4096,
    window: str = "hann",
    channel: int | None = None,
    backend: str = "auto",
) -> SpanJob:
    """Seconds ``[t0, t1)`` at ``columns`` columns (a zoomed view at screen resolution)."""
    fs = info.samplerate
    a, b = round(t0 * fs), round(t1 * fs)
    hop = detail_hop(max(b - a, 1), min(fft, max(64, info.frames)), columns)
    return SpanJob(
        info, a, b, columns, fft=fft, window=window, hop=hop, channel=channel, backend=backend
    )
