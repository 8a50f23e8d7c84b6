"""Measurements and averaging for the live app, off the UI thread (no Textual here).

Two pieces, both fed from the app's audio path:

* :class:`MeasureWorker` reads the source's ring buffer with its own position (as the
  engine and the recorder do) and runs the headless command's :class:`Measurer` on it: the
  7-term Blackman-Harris window and the large FFT (32768 points at 48 kHz), one frame every
  ``n/4`` samples (every 0.17 s at 48 kHz), the power rows averaged per the app's averaging
  mode, and a :class:`MeasureResult` about every ``interval_s`` seconds of audio into a
  bounded deque that the UI thread drains. It runs on a thread of its own, started only
  while the measurement view is on (:meth:`MeasureWorker.start`/:meth:`MeasureWorker.stop`),
  or synchronously with :meth:`MeasureWorker.process_available` (tests).
* :class:`SpectrumAverager` averages the engine's dBFS rows in linear power for the
  spectrum panel; :meth:`SpectrumAverager.update` runs on whatever thread delivers frames
  (the engine's worker, through ``LivespecApp.push_frame``) and costs nothing when the
  averaging is ``none``.

The measurement FFT uses numpy's FFT by default, not FFTW: FFTW's planner and wisdom are
global to the process and would be used from two threads (the engine re-plans when the FFT
key is pressed); planning a 32768-point FFTW transform also takes about a second, while
numpy's transform costs about 1 ms, six times a second.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livespec.audio.framer import Framer
from livespec.audio.ringbuffer import RingBuffer
from livespec.dsp.averaging import Averager, AverageSpec, make_averager, parse_average
from livespec.dsp.measure import Measurement, Measurer, default_fft_size

# The averaging modes the app's key cycles through; --average replaces the exp or lin one.
NO_AVERAGE = AverageSpec("none")
DEFAULT_EXP = AverageSpec("exp", time_constant_s=1.0)
DEFAULT_LIN = AverageSpec("lin", n_frames=16)
APP_AVERAGE_KINDS = ("none", "exp", "lin", "peak")
RESULTS_KEPT = 4  # results waiting for the UI thread; the oldest are dropped
_LN10_OVER_10 = float(np.log(10.0) / 10.0)


def parse_app_average(text: str) -> AverageSpec:
    """``none``, ``exp:TAU`` (seconds), ``lin:N`` (frames) or ``peak``.

    Raises:
        ValueError: anything else, ``block`` included (the app has no measurement interval
            that would end a block).
    """
    try:
        spec: AverageSpec | None = parse_average(text)
    except ValueError:
        spec = None
    if spec is None or spec.kind not in APP_AVERAGE_KINDS:
        raise ValueError(
            f"{text!r}: averaging must be none, exp:SECONDS (> 0), lin:FRAMES (>= 1) or peak"
        )
    return spec


def average_cycle(start: AverageSpec) -> tuple[AverageSpec, ...]:
    """The modes the averaging key steps through: none, exp, lin, peak; ``start``'s own
    time constant or frame count replaces the default one (exp:1, lin:16)."""
    exp = start if start.kind == "exp" else DEFAULT_EXP
    lin = start if start.kind == "lin" else DEFAULT_LIN
    return (NO_AVERAGE, exp, lin, AverageSpec("peak"))


def describe_average(spec: AverageSpec, short: bool = False) -> str:
    """Words for a mode: ``none``, ``exp τ=1s``, ``lin 16 frames``, ``peak hold``; with
    ``short``: ``exp 1s``, ``lin 16``, ``peak`` (and ``none``)."""
    if spec.kind == "exp":
        return f"exp {spec.time_constant_s:g}s" if short else f"exp τ={spec.time_constant_s:g}s"
    if spec.kind == "lin":
        return f"lin {spec.n_frames}" if short else f"lin {spec.n_frames} frames"
    if spec.kind == "peak":
        return "peak" if short else "peak hold"
    return spec.kind


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """One measurement of the live audio, handed from the worker to the UI thread.

    Attributes:
        measurement: the figures, or None when the band held no tone (silence).
        frames: frames in the averaged power row it was measured on.
        average: the averaging mode.
        t: stream time (s since the ring's first sample) of the last sample used.
        fft: samples per measurement frame (= FFT size).
        bin_hz: Hz per FFT bin.
        window: the measurement window's name.
        samplerate: Hz.
        skipped: frames the worker skipped since it started (it fell behind, or the ring
            overwrote a frame while it was being read).
        seq: 1 for the first result of this worker, then 2, 3, ...
    """

    measurement: Measurement | None
    frames: int
    average: AverageSpec
    t: float
    fft: int
    bin_hz: float
    window: str
    samplerate: float
    skipped: int
    seq: int


class MeasureWorker:
    """Measures the dominant tone of the audio in ``ring`` on its own thread.

    Args:
        ring: the ring the source writes (read only; its producer never waits for us).
        samplerate: Hz.
        channel: 0-based channel to measure, or None for the mean of the channels.
        average: the averaging of the power rows.
        harmonics, band, weighting: as for :class:`Measurer` (THD counts 2..harmonics).
        fft: samples per frame; None = :func:`default_fft_size` (32768 at 48 kHz).
        backend: the measurement FFT's backend (see the module docstring for "numpy").
        interval_s: seconds of audio between results (0.25: a few results per second).
        max_backlog_s: if the worker falls further behind than this (seconds of audio),
            it jumps to the newest audio and counts the frames in :attr:`skipped`.

    Attributes:
        results: bounded deque of :class:`MeasureResult`, newest last (worker appends, the
            UI thread takes them with :meth:`latest`).
        frames: frames measured since the start.
        skipped: frames skipped.
        error: an exception that stopped the worker thread, or None.
    """

    def __init__(
        self,
        ring: RingBuffer,
        samplerate: float,
        *,
        channel: int | None = None,
        average: AverageSpec = NO_AVERAGE,
        harmonics: int = 10,
        band: tuple[float, float] | None = None,
        weighting: str = "Z",
        fft: int | None = None,
        backend: str = "numpy",
        interval_s: float = 0.25,
        max_backlog_s: float = 2.0,
    ) -> None:
        self.ring = ring
        self.samplerate = float(samplerate)
        self.channel = channel
        self.n = default_fft_size(self.samplerate) if fft is None else int(fft)
        if self.n > ring.capacity:
            raise ValueError(f"measurement FFT {self.n} exceeds the ring's {ring.capacity}")
        self.hop = self.n // 4
        self._measurer_args = (harmonics, band, weighting, backend)
        self._measurer: Measurer | None = None
        self.average = average
        self._averager: Averager | None = None
        # Requests from other threads: a new mode (one reference, compared by identity)
        # and a count of resets; the worker applies them before its next frame.
        self._wanted_average = average
        self._resets_asked = 0
        self._resets_done = 0
        self._interval = max(1, round(interval_s * self.samplerate))
        # Start with the newest full frame already in the ring: a first result at once.
        self.framer = Framer(
            ring,
            self.n,
            self.hop,
            origin=max(ring.oldest(), ring.written - self.n, 0),
            max_backlog=max(self.hop, round(max_backlog_s * self.samplerate)),
        )
        self._last_end = 0
        self._reported_end: int | None = None
        self._avg_row: npt.NDArray[np.float64] | None = None
        self.results: collections.deque[MeasureResult] = collections.deque(maxlen=RESULTS_KEPT)
        self._seq = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- settings (any thread; applied by the worker before its next frame) -------------------

    def set_average(self, spec: AverageSpec) -> None:
        """Use averaging ``spec`` from the next frame on (restarts the average). Any thread."""
        self._wanted_average = spec

    def reset(self) -> None:
        """Forget the frames averaged so far (e.g. restart a peak hold). Any thread."""
        self._resets_asked += 1

    # -- results (UI thread) ---------------------------------------------------------------

    def latest(self) -> MeasureResult | None:
        """The newest result since the last call (older ones are dropped), or None. UI
        thread."""
        out = None
        results = self.results
        while results:
            out = results.popleft()
        return out

    # -- the work (worker thread, or the caller's in tests) ----------------------------------

    def _build(self) -> Measurer:
        harmonics, band, weighting, backend = self._measurer_args
        m = Measurer(
            self.samplerate,
            self.n,
            harmonics=harmonics,
            band=band,
            weighting=weighting,
            backend=backend,
            wisdom=False,
        )
        self._measurer = m
        return m

    def _apply_pending(self, m: Measurer) -> Averager:
        spec = self._wanted_average
        if spec is not self.average:
            self.average = spec
            self._averager = None
        asked = self._resets_asked
        if asked != self._resets_done:
            self._resets_done = asked
            if self._averager is not None:
                self._averager.reset()
        if self._averager is None:
            self._averager = make_averager(self.average, m.bins, self.hop / self.samplerate)
            self._avg_row = None
            self._reported_end = None  # report the new mode's first frame at once
        return self._averager

    def process_available(self) -> int:
        """Measure every frame now complete in the ring; publish a result when one is due.
        Returns the frames measured. Worker thread (or the caller's, synchronously)."""
        m = self._measurer or self._build()
        averager = self._apply_pending(m)

        def deliver(index: int, start: int, power: npt.NDArray[np.float64]) -> None:
            self._avg_row = averager.update(power)
            self._last_end = start + self.n

        done = self.framer.process(
            lambda view: m.power(view, self.channel), deliver, self._stop.is_set
        )
        due = self._reported_end is None or self._last_end - self._reported_end >= self._interval
        if done and due and self._avg_row is not None:
            self._publish(m, averager, self._avg_row)
        return done

    def _publish(self, m: Measurer, averager: Averager, row: npt.NDArray[np.float64]) -> None:
        self._reported_end = self._last_end
        self._seq += 1
        self.results.append(
            MeasureResult(
                measurement=m.measure(row, m.equivalent_frames(averager)),
                frames=averager.count,
                average=self.average,
                t=self._last_end / self.samplerate,
                fft=m.n,
                bin_hz=m.bin_hz,
                window=m.window_name,
                samplerate=m.samplerate,
                skipped=self.skipped,
                seq=self._seq,
            )
        )

    @property
    def frames(self) -> int:
        """Frames measured since the start."""
        return self.framer.delivered

    @property
    def skipped(self) -> int:
        """Frames skipped (fell behind) or discarded (overwritten while being read)."""
        return self.framer.lost

    # -- the thread --------------------------------------------------------------------------

    def start(self, poll_s: float = 0.05) -> None:
        """Start the worker thread; it looks for new frames every ``poll_s`` seconds (a
        frame is ``n/4`` samples, 0.17 s at 48 kHz). A daemon thread: it only reads."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(poll_s,), name="livespec-measure", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and join it (any thread but the worker's). Idempotent."""
        self._stop.set()
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5.0)

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self, poll_s: float) -> None:
        try:
            while not self._stop.is_set():
                self.process_available()
                self._stop.wait(poll_s)
        except Exception as exc:  # reported by the UI thread, which stops the view
            self.error = exc


@dataclass(frozen=True, slots=True)
class AveragedRow:
    """An averaged dBFS row for the spectrum panel.

    Attributes:
        db: float32 dBFS per FFT bin (floor -200), a new array owned by this object.
        frames: frames in the average.
        spec: the averaging that made it.
    """

    db: npt.NDArray[np.float32]
    frames: int
    spec: AverageSpec


class SpectrumAverager:
    """Averages the engine's dBFS rows in linear power for the spectrum panel.

    :meth:`update` runs on the thread that delivers frames; :meth:`set_spec` and
    :meth:`reset` on any thread (applied at the next frame); :attr:`latest` is replaced (one
    reference assignment) after each frame and read by the UI thread.
    """

    def __init__(self, spec: AverageSpec = NO_AVERAGE) -> None:
        self.spec = spec
        self._wanted = spec  # set by other threads; compared by identity
        self._resets_asked = 0
        self._resets_done = 0
        self._averager: Averager | None = None
        self._key: tuple[int, float] = (0, 0.0)
        self._power = np.empty(0)
        self.latest: AveragedRow | None = None

    def set_spec(self, spec: AverageSpec) -> None:
        """Average with ``spec`` from the next frame on (starts afresh). Any thread."""
        self._wanted = spec

    def reset(self) -> None:
        """Start the average afresh at the next frame. Any thread."""
        self._resets_asked += 1

    def update(self, db: npt.NDArray[np.float32], frame_period_s: float) -> None:
        """Add one frame's dBFS row (frames ``frame_period_s`` seconds apart). The frame
        producer's thread; nothing is done while the mode is ``none``."""
        wanted = self._wanted
        if wanted is not self.spec:
            self.spec, self._averager = wanted, None
        asked = self._resets_asked
        reset = asked != self._resets_done
        self._resets_done = asked
        spec = self.spec
        if spec.kind == "none":
            self.latest = None
            return
        bins = int(db.shape[0])
        key = (bins, float(frame_period_s))
        if self._averager is None or key != self._key:
            self._averager = make_averager(spec, bins, frame_period_s)
            self._power = np.empty(bins)
            self._key = key
        elif reset:
            self._averager.reset()
        power = self._power
        np.multiply(db, _LN10_OVER_10, out=power)  # dB -> linear power
        np.exp(power, out=power)
        avg = self._averager.update(power)
        out = np.maximum(avg, 1e-20).astype(np.float32)
        np.log10(out, out=out)
        out *= np.float32(10.0)
        self.latest = AveragedRow(out, self._averager.count, spec)
