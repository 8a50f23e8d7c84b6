"""The analysis engine: ring buffer -> overlapping windowed frames -> dBFS rows and peaks.

Frame ``k`` covers ring frames ``[k*hop, k*hop + fft)`` counted from the stream's first
sample (scipy.signal.spectrogram's framing); its time ``t`` is the frame's centre in
seconds. The engine reads each window as one contiguous view of the mirrored ring, checks
after the FFT that the producer did not overwrite it meanwhile, and if it fell so far behind
that frames were overwritten, skips them and counts them in ``lost_frames`` (the cutting
into frames is :class:`livespec.audio.framer.Framer`'s). When several frames are waiting,
they are analysed as one run (:class:`livespec.dsp.block.SpectrumBlock`: one numpy call per
step for all of them, every frame's results those of the frame alone), then delivered one
by one, in order.

An exception in the worker (in the analysis or in a consumer's ``on_frame``) ends the worker
and is kept in :attr:`Engine.error`; the pipeline's watchdog reports it.

Run it either on its own worker thread (:meth:`Engine.start` / :meth:`Engine.stop`) or
synchronously with :meth:`Engine.process_available` from the caller's thread.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livespec.audio.base import Source
from livespec.audio.cadence import TickGrid
from livespec.audio.framer import Framer
from livespec.audio.ringbuffer import RingBuffer, Samples
from livespec.config import AnalysisConfig
from livespec.dsp.block import SpectrumBlock, max_run
from livespec.dsp.cqt import CqtLayout
from livespec.dsp.cqt_live import LiveCqt
from livespec.dsp.cqt_switch import CqtSwitch
from livespec.dsp.peaks import Peak, PeakFinder
from livespec.dsp.peaks_run import find_run
from livespec.dsp.stft import Spectrum


@dataclass(frozen=True, slots=True)
class Frame:
    """One analysed frame, handed to consumers on the engine's thread.

    Attributes:
        index: frame number since the stream started (skipped frames are counted too).
        start: ring index of the frame's first sample.
        t: seconds since the stream's start at the frame's centre.
        db: dBFS row, float32, ``bins`` long; owned by this frame.
        peaks: strongest first.
        rms_dbfs: RMS level of the frame's samples (dBFS; a full-scale sine is -3.01).
        peak_dbfs: largest absolute sample of the frame (dBFS).
        overflows: the source's cumulative count of input overflows (lost input blocks).
        lost_frames: cumulative frames the engine skipped because it fell behind.
        latency: seconds from the frame's last sample arriving in the ring to the frame
            being ready (NaN when unknown).
        cqt: the constant-Q row (dBFS, float32) when the engine computes one
            (:meth:`Engine.set_cqt`), else None.
    """

    index: int
    start: int
    t: float
    db: npt.NDArray[np.float32]
    peaks: tuple[Peak, ...]
    rms_dbfs: float
    peak_dbfs: float
    overflows: int
    lost_frames: int
    latency: float
    cqt: npt.NDArray[np.float32] | None = None


FrameCallback = Callable[[Frame], None]


class _FrameSlots:
    """A :class:`Frame` under construction: the same slots, not frozen, so its
    ``__init__`` sets them with plain stores; the engine then makes it a ``Frame`` by
    assigning ``__class__`` (allowed between classes of the same slots). A frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``: this builds
    the same immutable frame in half the time, once per frame. Engine thread."""

    __slots__ = Frame.__slots__

    def __init__(
        self,
        index: int,
        start: int,
        t: float,
        db: npt.NDArray[np.float32],
        peaks: tuple[Peak, ...],
        rms_dbfs: float,
        peak_dbfs: float,
        overflows: int,
        lost_frames: int,
        latency: float,
        cqt: npt.NDArray[np.float32] | None,
    ) -> None:
        self.index = index
        self.start = start
        self.t = t
        self.db = db
        self.peaks = peaks
        self.rms_dbfs = rms_dbfs
        self.peak_dbfs = peak_dbfs
        self.overflows = overflows
        self.lost_frames = lost_frames
        self.latency = latency
        self.cqt = cqt


assert _FrameSlots.__slots__ == tuple(Frame.__dataclass_fields__)  # the same fields, in order
WAKE_MARGIN_S = 0.0015  # the worker wakes this long after the next write is expected
MAX_RUN = 16  # frames analysed together at most (fewer for long FFTs: dsp.block.max_run)
# What the analysis of a run of frames hands to their delivery: each frame's dB row, peaks,
# RMS and peak level.
_Analysed = tuple[list[npt.NDArray[np.float32]], list[tuple[Peak, ...]], list[float], list[float]]


def analysis_stopped_text(exc: BaseException) -> str:
    """The one line that reports an analysis that died: ``analysis stopped: Type: msg``."""
    text = str(exc)
    return f"analysis stopped: {type(exc).__name__}" + (f": {text}" if text else "")


class Engine:
    """Analyses frames from a ring buffer filled by ``source``.

    Args:
        source: the producer (for its sample rate, overflow count and timing).
        ring: the ring the source writes to.
        config: analysis settings.
        on_frame: called with each :class:`Frame` on the engine's thread; keep it short
            (hand the frame to another thread; a slow consumer makes the engine skip).
        channel: 0-based channel to analyse, or None for the mono mix.
        first_frame_start: ring index where frame 0 starts (default: the ring's current
            write position, i.e. from now on).
        on_error: called once on the worker thread, after :attr:`error` is set, when the
            worker dies of an exception (e.g. to wake a UI); it must not block.
        batch: frames analysed together at most when several are waiting (1: one at a
            time; the results are the same, only the cost differs).
    """

    def __init__(
        self,
        source: Source,
        ring: RingBuffer,
        config: AnalysisConfig,
        on_frame: FrameCallback,
        channel: int | None = None,
        first_frame_start: int | None = None,
        *,
        on_error: Callable[[BaseException], None] | None = None,
        batch: int = MAX_RUN,
    ) -> None:
        self.source = source
        self.batch = max(1, int(batch))
        self.on_error = on_error
        self.ring = ring
        self.on_frame = on_frame
        self.channel = channel
        self.latencies: list[float] = []  # seconds, for benchmarks; bounded below
        self.keep_latencies = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: AnalysisConfig | None = None
        self.cqt_switch = CqtSwitch()  # the CQT rows' transform, built off this thread
        self.error: BaseException | None = None
        # The worker's wake-ups (see run): a consumer's tick to wake just before, and a
        # source the worker writes itself (BlockSource.write_due: when the next block is due).
        self.ticks: TickGrid | None = None
        self.feed: Callable[[float], float] | None = None
        self._configure(config)  # checks the FFT against the ring first
        self.framer = Framer(ring, config.fft, config.hop_samples, first_frame_start)

    # -- configuration -------------------------------------------------------------------

    def _configure(self, config: AnalysisConfig) -> None:
        if config.fft > self.ring.capacity:
            raise ValueError(f"fft {config.fft} exceeds the ring's {self.ring.capacity} frames")
        self.config = config
        self.hop = config.hop_samples  # samples between frame starts
        # A frame's last sample (from its first) and centre, and the rate, for _deliver.
        self._last, self._half = config.fft - 1, config.fft / 2
        self._fs = float(self.source.samplerate)
        self.spectrum = Spectrum(
            config.fft,
            config.window,
            beta=config.beta,
            zero_pad=config.zero_pad,
            backend=config.backend,
        )
        self.peak_finder = PeakFinder(
            self.spectrum,
            self.source.samplerate,
            max_peaks=config.peaks,
            a4=config.a4,
            fmin=config.fmin,
            fmax=config.fmax,
        )
        self.block = SpectrumBlock(self.spectrum, self.hop, max_run(self.spectrum.nfft, self.batch))

    @property
    def cqt(self) -> LiveCqt | None:
        """The constant-Q transform the frames' CQT rows come from now (None: no rows)."""
        return self.cqt_switch.current

    def follow_ticks(self, period: float) -> TickGrid:
        """Wake the worker once per ``period`` s, just before the consumer's tick, whose
        times the consumer reports to the returned grid (:meth:`TickGrid.tick`): the app
        takes frames only on its tick. Any thread."""
        self.ticks = TickGrid(period)
        return self.ticks

    def set_cqt(self, layout: CqtLayout | None) -> None:
        """Also compute a constant-Q row per frame (:attr:`Frame.cqt`) for ``layout``, or
        stop (None); any thread. The worker builds the transform on a thread of its own
        and keeps delivering frames without CQT rows until it is ready
        (:mod:`livespec.dsp.cqt_switch`); a headless caller builds it at its next
        :meth:`process_available`."""
        self.cqt_switch.want(layout)

    def reconfigure(self, config: AnalysisConfig) -> None:
        """Ask for new settings; applied by the worker before its next frame (any thread).

        Frame numbering restarts at the newest audio.
        """
        self._pending = config

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._configure(pending)
            self.framer.reset(pending.fft, pending.hop_samples)

    @property
    def samplerate(self) -> int:
        """Hz."""
        return self.source.samplerate

    @property
    def bins(self) -> int:
        """Length of each dB row."""
        return self.spectrum.bins

    # -- the work --------------------------------------------------------------------------

    def process_available(self) -> int:
        """Analyse every complete frame now in the ring; return how many were delivered.

        Runs on the calling thread (the worker, or a headless caller); an exception from
        the analysis or from ``on_frame`` propagates to the caller.
        """
        if self._pending is not None:
            self._apply_pending()
        self.cqt_switch.update(
            self._fs,
            self.hop,
            self.config.backend,
            self.ring.capacity,
            background=self._thread is not None and threading.current_thread() is self._thread,
        )
        return self.framer.process_blocks(
            self._analyse, self._deliver, self.block.max_frames, self._stop.is_set
        )

    def _analyse(self, view: Samples) -> _Analysed:
        """Spectra, levels and peaks of the run of frames in ``view`` (aliases the ring):
        each frame's dB row (a view of the run's new array), peaks and levels."""
        run = self.block.compute(view, self.channel)
        peaks = find_run(self.peak_finder, run.X, run.db, self.block.x_gain)
        return list(run.db), peaks, run.rms_dbfs, run.peak_dbfs

    def _deliver(self, index: int, start: int, analysed: _Analysed, j: int) -> None:
        """Timing and the :class:`Frame` of an intact frame (row ``j`` of its run), handed
        to ``on_frame``."""
        rows, peaks, rms, tops = analysed
        source = self.source
        if source.realtime:
            avail = self.ring.time_of(start + self._last)
            latency = time.monotonic() - avail if avail is not None else math.nan
        else:
            latency = math.nan
        if self.keep_latencies and len(self.latencies) < 1_000_000:
            self.latencies.append(latency)
        framer = self.framer
        frame = _FrameSlots(
            index,
            start,
            (start - framer.origin + self._half) / self._fs,
            rows[j],
            peaks[j],
            rms[j],
            tops[j],
            source.overflows,
            framer.lost,
            latency,
            None if self.cqt is None else self._cqt_row(index, start + self._last + 1),
        )
        frame.__class__ = Frame  # type: ignore[assignment]  # see _FrameSlots
        self.on_frame(frame)  # type: ignore[arg-type]

    def _cqt_row(self, index: int, end: int) -> npt.NDArray[np.float32] | None:
        """The CQT row of the frame ending at ring index ``end`` (engine thread)."""
        cqt = self.cqt
        if cqt is None:  # pragma: no cover - checked by the caller
            return None
        ring, channel = self.ring, self.channel

        def newest(n: int, out: npt.NDArray[np.float64]) -> bool:
            start = end - n
            if start < 0 or start < ring.oldest():
                return False
            view = ring.window(start, n)
            if channel is not None or view.shape[1] == 1:
                np.copyto(out, view[:, channel or 0])
            else:
                np.mean(view, axis=1, out=out)
            return ring.intact(start)

        return cqt.compute(index, newest)

    @property
    def frames(self) -> int:
        """Frames delivered since the start."""
        return self.framer.delivered

    @property
    def lost_frames(self) -> int:
        """Frames skipped (the engine fell behind) or discarded (overwritten while being
        analysed) since the start."""
        return self.framer.lost

    @property
    def origin(self) -> int:
        """Ring index where frame 0 starts (moves to the newest audio on a reconfigure)."""
        return self.framer.origin

    # -- the worker thread -------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (caller's thread)."""
        self._stop.clear()
        self.error = None
        self._thread = threading.Thread(target=self._run, name="livespec-engine")
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker and join it (any thread but the worker's). Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._thread = None
        self.cqt_switch.close()  # a CQT build under way: cancelled and joined

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        """Worker thread: :meth:`_loop` until stopped or the input ended. An exception
        (in the analysis or in ``on_frame``) ends the thread and is kept in :attr:`error`
        for the caller's watchdog (:meth:`livespec.pipeline.Pipeline.poll`), never lost."""
        try:
            self._loop()
        except BaseException as exc:  # kept and reported by the watchdog, not silent
            self.error = exc
            if self.on_error is not None:
                with contextlib.suppress(Exception):  # the error is kept in self.error
                    self.on_error(exc)

    @property
    def error_message(self) -> str | None:
        """``"analysis stopped: <ExcType>: <message>"`` once the worker died of an
        exception, else None (any thread; e.g. for a status line)."""
        exc = self.error
        return None if exc is None else analysis_stopped_text(exc)

    def _loop(self) -> None:
        """The worker thread's loop (:meth:`run` until stopped)."""
        self.run()

    def run(self, after_pass: Callable[[], bool] | None = None, period: float = 0.0) -> None:
        """Analyse frames as the source writes them, on the calling thread, until
        :meth:`stop`, the end of a finite source, or ``after_pass()`` returning True
        (called after every pass, e.g. to watch the input). Exceptions propagate.

        The worker thread runs this; ``livespec peaks`` runs it on its main thread, which
        then prints frames where they are made (one thread woken per block, not two). The
        engine polls: the audio callback signals nothing, it only writes. After each pass
        it sleeps until just after the next write is expected, following the observed
        interval between writes (PortAudio may deliver blocks unevenly, e.g. every 25 ms
        for 21.3 ms blocks), so it wakes once per block instead of polling; with a
        ``period`` (seconds), at most once per period, analysing the frames that came
        meanwhile as one run (``livespec peaks``: fewer wake-ups, whose cold caches cost
        more than the frames' analysis). The app's engine instead follows its screen tick
        (:meth:`follow_ticks`, once the first tick is reported): it wakes just before
        each one. With a :attr:`feed` (a test signal this thread writes itself), the pass
        begins with writing what is due, and without ticks it wakes when the next block is.
        """
        ring, source, framer = self.ring, self.source, self.framer
        block_s = source.block_frames / max(source.samplerate, 1)
        interval = block_s  # smoothed seconds between ring writes
        seen_written, seen_time = ring.written, ring.last_write_time
        stopped = self._stop.is_set
        while not stopped():
            woke = time.monotonic()
            feed, ticks = self.feed, self.ticks
            next_write = feed(woke) if feed is not None else 0.0
            self.process_available()
            if source.finished and framer.next_end > ring.written:
                break  # a finite source ended and no complete frame is left
            if after_pass is not None and after_pass():
                break
            now = time.monotonic()
            last = ring.last_write_time
            if last != seen_time and ring.written > seen_written:
                writes = max(1, round((ring.written - seen_written) / source.block_frames))
                if seen_time:
                    gap = (last - seen_time) / writes
                    interval += 0.1 * (min(max(gap, 0.25 * block_s), 4 * block_s) - interval)
                seen_written, seen_time = ring.written, last
            if source.realtime and last:
                # Wake just after the next write is expected (a producer's wake-up is late
                # by a millisecond or so under load: waking before it costs a second
                # wake-up); poll gently if it is later still.
                due = last + interval + WAKE_MARGIN_S - now
                wait = due if due > 0.002 else 0.004
                wait = min(wait, 0.02)
            else:
                wait = 0.002
            if feed is not None:  # the next block this thread writes
                wait = min(next_write - now, 0.02)
            tick = ticks.next_wake(now) if ticks is not None else None
            if tick is not None:
                wait = tick - now
            if period > 0.0:
                wait = max(wait, woke + period - now)
            time.sleep(max(wait, 0.0))  # cheaper than Event.wait; stop() is seen in a period
