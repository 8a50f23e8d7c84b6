"""The run set-up every command shares: open the source, size the ring, build and start the
engine, watch the input, and stop everything on every exit path.

Used by ``livespec peaks``, ``record``, ``stream``, ``measure`` and the app's ``run_app``::

    with Pipeline(cfg, realtime=True) as pipe:     # opens the source
        pipe.make_ring(frame=4096)                  # one sizing rule (ring_frames)
        pipe.make_engine(on_frame)                  # optional: headless measure has none
        pipe.start()                                # the source's producer, the engine
        while ...:
            for event in pipe.poll():               # the input watchdog, engine errors
                ...
    # the engine is stopped and joined, the source stopped and closed (also on errors)

Nothing heavy is imported here at module level: ``sounddevice`` is imported only when the
sound card is opened, so files and test signals run without PortAudio, and nothing here
imports Textual.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from livespec.config import Config
from livespec.errors import EXIT_FAILURE, LivespecError, SourceError, UsageError, counted

if TYPE_CHECKING:
    from livespec.audio.base import Source
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.engine import Engine, FrameCallback


def open_source(cfg: Config, *, realtime: bool, max_seconds: float | None) -> Source:
    """Make and open the configured source (caller's thread).

    Raises:
        SourceError: the device, file or stdin cannot be opened.
        UsageError: an option does not fit the source (e.g. ``--channel``).
    """
    from livespec.audio.sources import make_source

    if cfg.analysis.fft * cfg.analysis.zero_pad > 1 << 20:  # before anything is opened
        raise UsageError("--fft times --zero-pad must not exceed 1048576")
    s = cfg.source
    latency: float | str = s.latency if s.latency in ("low", "high") else float(s.latency)
    source = make_source(
        s.input,
        device=s.device,
        samplerate=s.samplerate,
        channels=s.channels,
        blocksize=s.blocksize,
        latency=latency,
        pcm_format=s.format,
        realtime=realtime,
        max_seconds=max_seconds,
    )
    source.open()
    if s.channel is not None and s.channel > source.channels:
        source.stop()
        has = counted(source.channels, "channel")
        raise UsageError(f"--channel {s.channel}: the source has {has}")
    return source


def runs_in_realtime(cfg: Config, duration: float | None, forced: bool = False) -> bool:
    """True if the configured input runs at its sample rate: the sound card, an endless
    test signal (no ``duration``), or anything when ``forced`` (``--realtime``). Files,
    stdin and test signals with a duration run as fast as they can, losslessly."""
    from livespec.audio.signals import is_signal_spec

    inp = cfg.source.input
    if forced or inp is None:
        return True
    endless = inp != "-" and duration is None
    return endless and is_signal_spec(inp) and not os.path.exists(inp)


def ring_frames(
    samplerate: int, ring_seconds: float, frame: int = 0, preroll_s: float = 0.0
) -> int:
    """The ring's capacity in frames (samples per channel): the one sizing rule.

    ``max(ring_seconds * fs, 2 * frame, (preroll_s + 1 s) * fs)``:

    * ``ring_seconds`` of history (``--ring-seconds``, at least 1 s);
    * two of the largest frame any reader cuts (``frame``: the analysis FFT, the largest
      FFT the app can switch to, ``measure``'s frame), so a reader that is one frame late
      still finds its frame whole;
    * a recording's pre-roll plus one second of headroom for the writer thread.
    """
    fs = float(samplerate)
    return max(round(ring_seconds * fs), 2 * int(frame), round((preroll_s + 1.0) * fs), 1)


class AnalysisStopped(LivespecError):
    """The analysis died of an exception: one line ``analysis stopped: Type: msg``, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_FAILURE)


@contextmanager
def analysis_errors() -> Iterator[None]:
    """Turn an exception of the analysis run on the caller's thread (a frame consumer
    included) into :class:`AnalysisStopped`; a :class:`LivespecError`, a broken pipe
    (the reader went away) and Ctrl-C pass through unchanged."""
    from livespec.engine import analysis_stopped_text

    try:
        yield
    except (LivespecError, BrokenPipeError):
        raise
    except Exception as exc:
        raise AnalysisStopped(analysis_stopped_text(exc)) from None


EventKind = Literal[
    "input lost",
    "input resumed",
    "input dropped",
    "stream stopped",
    "source failed",
    "analysis stopped",
]
_FATAL = ("stream stopped", "source failed", "analysis stopped")


@dataclass(frozen=True, slots=True)
class Event:
    """What the watchdog saw; ``message`` is one line without the ``livespec:`` prefix.

    Attributes:
        kind: ``input lost`` / ``input resumed`` (reported once per change), ``input
            dropped`` (the sound system dropped input without an overflow flag: once per
            loss, see :meth:`Source.check_drops <livespec.audio.base.Source.check_drops>`),
            ``stream stopped`` (PortAudio ended the stream), ``source failed`` (the producer died:
            ``error``), ``analysis stopped`` (the engine died: ``error``).
        message: e.g. ``input lost: no audio from device 'pulse' for 0.6 s``.
        error: the exception behind ``source failed`` / ``analysis stopped``.
    """

    kind: EventKind
    message: str
    error: BaseException | None = None

    @property
    def fatal(self) -> bool:
        """True if the run cannot go on (the stream, the source or the analysis died)."""
        return self.kind in _FATAL


class Watchdog:
    """Watches a started source (and engine) for the caller's poll loop; one thread.

    Args:
        source: the started source.
        engine: the started engine, or None.
    """

    def __init__(self, source: Source, engine: Engine | None = None) -> None:
        self.source, self.engine = source, engine
        self.lost = False  # the input is lost now (reported)

    def poll(self) -> list[Event]:
        """The events since the last poll: fatal ones first, then a change of the input's
        state (lost / resumed), then a loss the sound system did not flag (found by
        :meth:`Source.check_drops <livespec.audio.base.Source.check_drops>`, here).
        Caller's thread (the main thread)."""
        from livespec.engine import analysis_stopped_text

        source, events = self.source, []
        if source.error is not None:
            events.append(Event("source failed", str(source.error), source.error))
        engine = self.engine
        if engine is not None and engine.error is not None:
            events.append(
                Event("analysis stopped", analysis_stopped_text(engine.error), engine.error)
            )
        # An engine that wrote the input itself and died: its silence is no input lost.
        writer_died = engine is not None and engine.feed is not None and engine.error is not None
        if source.input_lost() and not writer_died:
            if not self.lost:
                self.lost = True
                events.append(
                    Event(
                        "input lost",
                        f"input lost: no audio from {source.description} for "
                        f"{source.seconds_since_input():.1f} s",
                    )
                )
            if not getattr(source, "stream_active", True):
                events.append(
                    Event("stream stopped", f"input stream stopped: {source.description}")
                )
        elif self.lost:
            self.lost = False
            events.append(Event("input resumed", "input resumed"))
        drop = source.check_drops()
        if drop is not None:
            events.append(Event("input dropped", drop.text))
        return events


class Pipeline:
    """Source -> ring -> engine for one run; a context manager that stops everything.

    Args:
        cfg: the effective configuration.
        realtime: open the source in real time (see :func:`runs_in_realtime`).
        max_seconds: end a file, stdin or test signal after this many seconds.
        demo_fallback: when no input device exists and neither ``--input`` nor
            ``--device`` was given, open the built-in demo signal instead (the app and
            ``stream``); the reason is kept in :attr:`fallback` and :attr:`cfg` changes.

    Attributes:
        cfg: the configuration used (its input is ``demo`` after a fallback).
        fallback: why the demo signal replaced the sound card, or None.
        engine: the engine once made with :meth:`make_engine`, else None.
        watchdog: made by :meth:`start`.
    """

    def __init__(
        self,
        cfg: Config,
        *,
        realtime: bool,
        max_seconds: float | None = None,
        demo_fallback: bool = False,
    ) -> None:
        self.cfg = cfg
        self.realtime, self.max_seconds, self.demo_fallback = realtime, max_seconds, demo_fallback
        self.fallback: SourceError | None = None
        self._source: Source | None = None
        self._ring: RingBuffer | None = None
        self.engine: Engine | None = None
        self.watchdog: Watchdog | None = None

    # -- set-up (caller's thread, in this order) ---------------------------------------------

    def open(self) -> Source:
        """Open the source (the demo signal on a fallback). Idempotent."""
        if self._source is None:
            try:
                self._source = open_source(
                    self.cfg, realtime=self.realtime, max_seconds=self.max_seconds
                )
            except SourceError as exc:
                s = self.cfg.source
                if not self.demo_fallback or s.input is not None or s.device is not None:
                    raise
                self.fallback = exc
                self.cfg = dataclasses.replace(
                    self.cfg, source=dataclasses.replace(s, input="demo")
                )
                self._source = open_source(
                    self.cfg, realtime=self.realtime, max_seconds=self.max_seconds
                )
        return self._source

    @property
    def source(self) -> Source:
        """The opened source."""
        if self._source is None:
            raise RuntimeError("the pipeline's source is not open")
        return self._source

    @property
    def ring(self) -> RingBuffer:
        """The ring (made by :meth:`make_ring`)."""
        if self._ring is None:
            raise RuntimeError("the pipeline has no ring yet")
        return self._ring

    @property
    def channel(self) -> int | None:
        """The 0-based channel to analyse (``--channel`` is 1-based), None for the mix."""
        ch = self.cfg.source.channel
        return None if ch is None else ch - 1

    def make_ring(self, *, frame: int = 0, preroll_s: float = 0.0) -> RingBuffer:
        """The ring, sized by :func:`ring_frames` for the largest of ``frame`` and the
        analysis FFT, and ``preroll_s`` seconds of pre-roll."""
        from livespec.audio.ringbuffer import RingBuffer

        source = self.open()
        frame = max(frame, self.cfg.analysis.fft)
        capacity = ring_frames(source.samplerate, self.cfg.source.ring_seconds, frame, preroll_s)
        self._ring = RingBuffer(capacity, source.channels)
        return self._ring

    def make_engine(
        self,
        on_frame: FrameCallback,
        *,
        first_frame_start: int | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Engine:
        """The analysis engine on the ring (made if needed), calling ``on_frame`` on its
        worker thread (or on the caller's, see :meth:`pump`); ``on_error`` is called on
        the worker thread if it dies (see :class:`~livespec.engine.Engine`).

        Raises:
            UsageError: ``--fmin`` at or above the input's Nyquist frequency (no band
                left to analyse: every frame without a peak, a blank view).
        """
        from livespec.engine import Engine

        fs = self.source.samplerate
        if self.cfg.analysis.fmin >= fs / 2.0:
            raise UsageError(
                f"--fmin {self.cfg.analysis.fmin:g}: must be below the input's Nyquist "
                f"frequency, {fs / 2.0:g} Hz (sample rate {fs:g} Hz)"
            )
        ring = self._ring if self._ring is not None else self.make_ring()
        self.engine = Engine(
            self.source,
            ring,
            self.cfg.analysis,
            on_frame,
            self.channel,
            first_frame_start,
            on_error=on_error,
        )
        return self.engine

    # -- running -------------------------------------------------------------------------------

    @property
    def synchronous(self) -> bool:
        """True if the source is pumped by the caller (a file, stdin or a finite test
        signal, not in real time) instead of producing on a thread of its own."""
        from livespec.audio.sources import BlockSource

        source = self.source
        return isinstance(source, BlockSource) and not source.realtime

    def start(self, *, worker: bool = True) -> None:
        """Start the source's producer and the engine's worker; arm the watchdog.

        With ``worker=False`` the engine gets no thread: the caller runs it
        (:meth:`Engine.run <livespec.engine.Engine.run>`) on its own thread.
        """
        ring = self._ring if self._ring is not None else self.make_ring()
        source, engine = self.source, self.engine
        if engine is not None and worker and source.synthetic and source.realtime:
            # A test signal in real time: the engine's worker writes it (the same ring,
            # the same pacing), one thread woken instead of two.
            from livespec.audio.sources import BlockSource

            assert isinstance(source, BlockSource)
            source.attach(ring)
            engine.feed = source.write_due
        else:
            source.start(ring)
        if engine is not None and worker:
            engine.start()
        self.watchdog = Watchdog(self.source, self.engine)

    def pump(self, analyse: Callable[[], object], room: Callable[[], int], frames: int = 0) -> None:
        """Run a synchronous source to its end on the caller's thread: write at most
        ``room()`` frames (what the ring holds without overwriting the next frame), then
        ``analyse()`` them; blocks are written until ``frames`` frames (at least one
        block) or the room are used before each analysis (the engine analyses what it
        finds as runs). An exception of the analysis ends in :class:`AnalysisStopped`.

        Raises:
            LivespecError: the source failed.
        """
        from livespec.audio.sources import BlockSource

        source = self.source
        assert isinstance(source, BlockSource)
        source.attach(self.ring)
        with analysis_errors():
            while True:
                wrote = source.pump(min(source.block_frames, room()))
                more = wrote
                while more and wrote < frames and room() > 1:
                    more = source.pump(min(source.block_frames, frames - wrote, room()))
                    wrote += more
                if not wrote:
                    break
                analyse()
            analyse()
        if source.error is not None:
            raise source.error

    def poll(self) -> list[Event]:
        """The watchdog's events since the last poll (see :meth:`Watchdog.poll`)."""
        if self.watchdog is None:
            self.watchdog = Watchdog(self.source, self.engine)
        return self.watchdog.poll()

    @property
    def input_lost(self) -> bool:
        """True while the watchdog reports the input as lost."""
        return self.watchdog is not None and self.watchdog.lost

    def say_notes(self, say: Callable[[str], object] | None = None) -> None:
        """Say the source's notes (warnings about the input, e.g. a WAV stream on stdin
        that ended short of its header's size) once each: ``livespec: NOTE`` on stderr, or
        ``say(NOTE)``. Caller's thread, once the input ended (after the run)."""
        import sys

        from livespec.errors import printable

        source = self._source
        notes = [] if source is None else source.notes
        while notes:
            note = notes.pop(0)
            if say is not None:
                say(note)
            else:
                sys.stderr.write(f"livespec: {printable(note)}\n")

    # -- the end -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop and join the engine, stop and close the source. Idempotent; any exit path."""
        if self.engine is not None:
            self.engine.stop()
        if self._source is not None:
            self._source.stop()

    def __enter__(self) -> Pipeline:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
