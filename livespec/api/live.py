"""``livespec.listen`` and ``livespec.record``: live frames from the sound card or any
``--input`` source, and a recording, on the commands' own :class:`~livespec.pipeline.Pipeline`
(and, for ``record``, ``livespec record``'s crash-safe :class:`~livespec.recorder.writer.Recorder`).

Nothing here imports PortAudio until the sound card is opened, and nothing imports Textual.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import weakref
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from livespec.api.inputs import MAX_FFT, MIN_FFT, as_path, int_in, is_number, shown
from livespec.config import WINDOW_CHOICES, AnalysisConfig, Config, SourceConfig
from livespec.errors import LivespecError, SourceError, UsageError
from livespec.pipeline import AnalysisStopped, Event, Pipeline, analysis_errors, runs_in_realtime

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from livespec.engine import Frame

SUBTYPES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT")  # livespec.recorder.writer.SUBTYPES


def _config(
    device: str | int | None,
    samplerate: int | None,
    source: str | bytes | os.PathLike[str] | None,
    channels: int | None = None,
    channel: int | None = None,
    analysis: AnalysisConfig | None = None,
) -> Config:
    if samplerate is not None:
        int_in("samplerate", samplerate, 1000, 768000)
    if channel is not None:
        int_in("channel", channel, 0, 255)
    src = SourceConfig(
        input=None if source is None else _source_text(source),
        device=None if device is None else str(device),
        samplerate=samplerate,
        channels=channels,
        channel=None if channel is None else channel + 1,  # the config's is 1-based
    )
    return Config(analysis=analysis or AnalysisConfig(), source=src)


def _source_text(source: object) -> str:
    """``source`` as ``--input`` text (a path may be bytes or a path object)."""
    return os.fsdecode(source) if isinstance(source, (bytes, os.PathLike)) else str(source)


def _event_error(event: Event) -> LivespecError:
    """The exception the iterator raises for a fatal watchdog event (one clear line)."""
    if event.kind == "analysis stopped":
        return AnalysisStopped(event.message)
    if isinstance(event.error, LivespecError):
        return event.error
    return SourceError(event.message)


class LiveStream:
    """Analysed frames of a running source; made by :func:`listen`.

    Iterate it for :class:`livespec.Frame` objects (``index``, ``t``, ``db``,
    ``peaks``, ``rms_dbfs``, ``peak_dbfs``, ``overflows``, ``lost_frames``, ``latency``);
    ``db[i]`` is the level at ``freqs[i]`` Hz. Use it as a context manager (or call
    :meth:`close`): leaving the ``with`` block, a ``break`` inside it, Ctrl-C or an error
    stop the engine and the source and release the device. A stream dropped unclosed is
    closed when collected, or at the interpreter's exit.

    A real-time source (the sound card, an endless test signal) is analysed on the
    engine's thread; frames wait in a bounded queue of ``queue`` frames. When the caller
    is slower than the audio, the oldest queued frame is dropped ("newest wins") and
    counted in :attr:`dropped`. A file, stdin or a test signal with a ``duration`` is
    analysed on the caller's thread as it iterates: every frame, nothing dropped.

    Attributes:
        samplerate: Hz.
        freqs: the frequency of each ``db`` bin, Hz.
        bin_hz: the spacing of ``freqs``.
        realtime: True if the source runs at its sample rate (frames may be dropped).
        dropped: frames the queue dropped because the caller was too slow.
    """

    def __init__(
        self, pipe: Pipeline, queue: int, timeout: float, duration: float | None = None
    ) -> None:
        self._pipe = pipe
        self._timeout = timeout
        self._duration = duration  # the sound card has no end of its own
        self._queue: deque[Frame] = deque()
        self._size = queue
        self._cond = threading.Condition()
        self._woken = False
        self._closed = False
        self._overflows = self._lost = 0
        self.dropped = 0
        src = pipe.open()
        self.samplerate = int(src.samplerate)
        self.realtime = not pipe.synchronous
        # A stream dropped without close() (no ``with``, a bare ``break``) is closed when it
        # is collected, and one the main thread left open at the interpreter's exit before
        # the exit waits for the engine's thread (else it would wait forever). The engine
        # holds it weakly. A stream another thread still iterates is left to that thread.
        self._release = weakref.finalize(self, pipe.close)
        self._user = threading.current_thread()  # the thread that made or last iterated it
        _close_at_exit(self)
        if self.realtime:
            me = weakref.ref(self)

            def on_frame(frame: Frame) -> None:
                stream = me()
                if stream is not None:
                    stream._on_frame(frame)

            def on_error(exc: BaseException) -> None:
                stream = me()
                if stream is not None:
                    stream._on_error(exc)

            pipe.make_engine(on_frame, on_error=on_error)
            pipe.start()
        else:
            engine = pipe.make_engine(self._queue.append, first_frame_start=0)
            pipe.source.attach(pipe.ring)  # type: ignore[attr-defined]
            self._room = engine.framer.room
        self.freqs: npt.NDArray[np.float64] = pipe.engine.spectrum.freqs(self.samplerate)  # type: ignore[union-attr]
        self.bin_hz = float(self.freqs[1])

    # -- the engine's thread -----------------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        with self._cond:
            if len(self._queue) >= self._size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(frame)
            self._cond.notify()

    def _on_error(self, exc: BaseException) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify()

    # -- the caller's thread -----------------------------------------------------------------

    @property
    def overflows(self) -> int:
        """Input overflows (blocks the sound card lost) so far."""
        src = self._pipe._source
        return int(src.overflows) if src is not None else self._overflows

    @property
    def audio_dropped_s(self) -> float:
        """Seconds of input the sound system dropped without an overflow flag (the
        process stalled longer than its buffer), estimated; each loss is also one of
        :attr:`overflows`. Checked while you iterate."""
        src = self._pipe._source
        return float(src.audio_dropped_s) if src is not None else 0.0

    @property
    def lost_frames(self) -> int:
        """Frames the engine skipped because it fell behind, so far."""
        engine = self._pipe.engine
        return engine.lost_frames if engine is not None else self._lost

    def __iter__(self) -> LiveStream:
        return self

    def __next__(self) -> Frame:
        if self._closed:
            raise StopIteration
        self._user = threading.current_thread()
        try:
            frame = self._next_realtime() if self.realtime else self._next_pumped()
        except BaseException:  # an error, Ctrl-C: clean up, then let it through
            self.close()
            raise
        if frame is not None and self._duration is not None:
            end = frame.t + self._pipe.cfg.analysis.fft / (2 * self.samplerate)
            frame = frame if end <= self._duration + 1e-9 else None
        if frame is None:
            self.close()
            raise StopIteration
        return frame

    def _next_pumped(self) -> Frame | None:
        """The next frame of a synchronous source, analysed here; None at its end."""
        pipe, queue = self._pipe, self._queue
        source, engine = pipe.source, pipe.engine
        assert engine is not None
        with analysis_errors():
            while not queue:
                if source.pump(min(source.block_frames, self._room())) == 0:
                    engine.process_available()
                    if source.error is not None:
                        raise source.error
                    break
                engine.process_available()
        return queue.popleft() if queue else None

    def _next_realtime(self) -> Frame | None:
        """The next queued frame; raises on a fatal event or when no audio came for
        ``timeout`` seconds; None when a finite source ended."""
        pipe, cond = self._pipe, self._cond
        since = time.monotonic()
        while True:
            with cond:
                if not self._queue and not self._woken:
                    cond.wait(0.05)
                if self._queue:
                    return self._queue.popleft()
            for event in pipe.poll():
                if event.fatal:
                    raise _event_error(event)
            engine = pipe.engine
            if engine is not None and not engine.running and not self._queue:
                if engine.error is not None:
                    continue  # the watchdog reports it on the next poll
                return None  # a finite source ended
            if time.monotonic() - since > self._timeout:
                what = pipe.source.description
                raise SourceError(f"input lost: no audio from {what} for {self._timeout:g} s")

    def close(self) -> None:
        """Stop the engine and the source (joined), release the device. Idempotent."""
        if not self._closed:
            self._closed = True
            self._overflows, self._lost = self.overflows, self.lost_frames
            self._release()  # pipe.close(), once

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_OPEN: weakref.WeakSet[LiveStream] = weakref.WeakSet()
_at_exit = False


def _close_at_exit(stream: LiveStream) -> None:
    """Close ``stream`` at the interpreter's exit, if still open, before the exit joins
    non-daemon threads (``atexit`` runs after that join: a running engine would block it)."""
    global _at_exit
    _OPEN.add(stream)
    if not _at_exit:
        register = getattr(threading, "_register_atexit", None)  # CPython 3.9+
        if register is not None:
            try:
                register(_close_all)
            except RuntimeError:  # the interpreter is already shutting down
                return
        _at_exit = True


def _close_all() -> None:
    """At the exit (main thread): close the streams of the main thread or of threads that
    ended; a live thread still iterating one keeps it (the exit waits for that thread)."""
    main = threading.main_thread()
    for stream in list(_OPEN):
        if stream._user is main or not stream._user.is_alive():
            stream.close()


def listen(
    device: str | int | None = None,
    samplerate: int | None = None,
    fft: int = 4096,
    hop: int | None = None,
    window: str = "hann",
    source: str | bytes | os.PathLike[str] | None = None,
    *,
    channels: int | None = None,
    channel: int | None = None,
    peaks: int = 1,
    zero_pad: int = 1,
    duration: float | None = None,
    queue: int = 64,
    timeout: float = 5.0,
) -> LiveStream:
    """Analysed frames, live, from the sound card or ``source``: a :class:`LiveStream`.

    >>> with livespec.listen(source="tone:1000") as stream:   # doctest: +SKIP
    ...     for frame in stream:
    ...         print(frame.t, frame.peaks[0].freq_hz)

    Args:
        device: input device (name, part of a name, or index); None = the default.
        samplerate: Hz; None = the device's default (48000 for test signals).
        fft: samples per frame, 64..65536. hop: samples between frames (fft // 4).
        window: hann, hamming, blackman, blackman-harris, flattop, kaiser, rect.
        source: anything ``--input`` takes instead of the sound card: a test signal
            ("tone:1000", "demo"), a file path, or "-" for stdin.
        channels: channels to open; channel: the 0-based one to analyse (None: the mix).
        peaks: peaks found per frame. zero_pad: FFT length = fft * zero_pad.
        duration: end after the frames of this many seconds of input; None = at the
            input's end (never, for the sound card and an endless test signal).
        queue: frames held for a slow caller (real time; the oldest are dropped).
        timeout: seconds without any audio before the iterator gives up (the sound card
            and endless test signals; a file or stdin is read as the loop asks).

    Raises:
        livespec.UsageError: a bad argument; livespec.SourceError: the input cannot be
        opened, or (from the iterator) it died; AnalysisStopped (a LivespecError): the
        analysis died.
    """
    n = int_in("fft", fft, MIN_FFT, MAX_FFT)
    if hop is not None:
        int_in("hop", hop, 1, n)
    if not isinstance(window, str) or window not in WINDOW_CHOICES:
        raise UsageError(f"window={shown(window)}: must be one of {', '.join(WINDOW_CHOICES)}")
    int_in("peaks", peaks, 0, 64)
    int_in("zero_pad", zero_pad, 1, 16)
    int_in("queue", queue, 1, 1 << 20)
    if not (is_number(timeout) and 0 < timeout < 1e9):
        raise UsageError(f"timeout={shown(timeout)}: must be a positive number of seconds")
    if duration is not None and not (is_number(duration) and 0 < duration < 1e9):
        raise UsageError(f"duration={shown(duration)}: must be a positive number of seconds")
    duration = None if duration is None else float(duration)
    analysis = AnalysisConfig(fft=n, hop=hop, window=window, peaks=peaks, zero_pad=zero_pad)
    cfg = _config(device, samplerate, source, channels, channel, analysis)
    pipe = Pipeline(cfg, realtime=runs_in_realtime(cfg, duration), max_seconds=duration)
    try:
        return LiveStream(pipe, queue, float(timeout), duration)
    except UsageError as exc:
        pipe.close()
        text = str(exc)
        if channel is not None and text.startswith("--channel "):  # the CLI's 1-based words
            what = text.split(": ", 1)[-1]
            raise UsageError(f"channel={channel!r}: {what}, numbered from 0") from None
        raise
    except BaseException:
        pipe.close()
        raise


def record(
    path: str | bytes | os.PathLike[str],
    seconds: float,
    device: str | int | None = None,
    samplerate: int | None = None,
    source: str | bytes | os.PathLike[str] | None = None,
    subtype: str = "PCM_24",
    force: bool = False,
    *,
    channels: int | None = None,
) -> Path:
    """Record ``seconds`` of the sound card (or ``source``) to the WAV file ``path`` with
    ``livespec record``'s crash-safe recorder (a sidecar JSON beside it; docs/recording.md).
    Returns the path. A device or an endless signal records in real time; a file, stdin
    or a test signal as fast as it comes, losslessly. Ctrl-C stops it with the file
    finalised up to that moment, then propagates.

    Raises:
        livespec.UsageError: a bad argument; a LivespecError (RecordingError): the file
        exists (without ``force``) or cannot be written; livespec.SourceError: the input
        cannot be opened (no file is made), failed before its first frame (the file made
        is removed; with ``force``, the old take is put back, as when no frame came at
        all) or died later (the file is complete up to that point).
    """
    from livespec.audio.sources import BlockSource
    from livespec.recorder.parts import RecordingError, check_target
    from livespec.recorder.start import remove_if_empty
    from livespec.recorder.writer import Recorder

    out = as_path(path)
    if not (is_number(seconds) and 0 < seconds < 1e9):
        raise UsageError(f"seconds={shown(seconds)}: must be a positive number")
    seconds = float(seconds)
    if subtype not in SUBTYPES:
        raise UsageError(f"subtype={subtype!r}: must be one of {', '.join(SUBTYPES)}")
    if out.suffix.lower() != ".wav":
        raise UsageError(f"'{out}': the recording is a WAV file, name it *.wav")
    try:
        check_target(out, bool(force))  # before opening a device
    except RecordingError as exc:
        raise RecordingError(str(exc).replace("--force", "force=True")) from None
    cfg = _config(device, samplerate, source, channels)
    with Pipeline(cfg, realtime=runs_in_realtime(cfg, seconds), max_seconds=seconds) as pipe:
        src = pipe.source
        ring = pipe.make_ring()
        info = getattr(src, "info", None)
        fs = int(src.samplerate)
        rec = Recorder(
            ring, fs, src.channels, out, subtype=subtype, force=bool(force),
            sidecar_info={
                "device": getattr(info, "name", None), "hostapi": getattr(info, "hostapi", None),
                "source": src.description, "input": cfg.source.input,
                "analysis": dataclasses.asdict(cfg.analysis),
            },
            max_frames=round(seconds * fs), overflows=lambda: int(src.overflows),
            drops=src,
        )  # fmt: skip
        failure: LivespecError | None = None
        reason = "error"
        removed = ""
        try:
            rec.open()
            if isinstance(src, BlockSource) and not src.realtime:
                src.set_backpressure(rec.oldest_needed)
            rec.start()
            pipe.start()
            while not rec.finished and failure is None:
                time.sleep(0.02)
                fatal = [e for e in pipe.poll() if e.fatal]
                failure = _event_error(fatal[0]) if fatal else None
                if src.finished and rec.position >= ring.written:
                    rec.ended_by = rec.ended_by or "end of input"
                    break
            reason = "duration" if failure is None else "error"
        except KeyboardInterrupt:
            reason = "SIGINT"
            raise
        finally:  # Ctrl-C included: everything up to now is written, then the file closes
            rec.request_stop(reason)
            pipe.close()
            rec.stop(reason)
            if reason == "error" or rec.replaced:  # no frame: no file, or the old take back
                removed = remove_if_empty(rec)
    if removed and failure is None and rec.error is None:  # force=True, and not one frame
        raise SourceError(
            f"the input ended before its first frame; nothing was recorded ({removed})"
        )
    if rec.error is not None:
        raise RecordingError(rec.error)
    if failure is not None:
        if removed:
            raise SourceError(f"{failure}; nothing was recorded ({removed})")
        raise SourceError(f"{failure}; '{rec.path}' is complete up to that point")
    return rec.path
