"""What feeds the live app: the source, the ring, the engine, and the frames' inbox.

The app is built from a :class:`Feed` (a :class:`livespec.pipeline.Pipeline`, or an
:class:`AppFeed` in tests and the stream viewer) and a :class:`FrameInbox`. The frame
producer (the engine's worker, or the viewer's stream reader) calls :meth:`FrameInbox.push`
for every frame; it runs the taps (the spectrum's averaging) and appends to a bounded deque,
newest wins, never blocking. The app's tick (UI thread) takes every frame that arrived since
with :meth:`FrameInbox.drain`. So build the inbox first, give ``inbox.push`` to the producer
as its ``on_frame``, then both to :func:`~livespec.tui.app.make_app`.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from livespec.audio.ringbuffer import RingBuffer
from livespec.engine import Engine, Frame
from livespec.errors import EXIT_FAILURE, LivespecError


class AppSource(Protocol):
    """An opened source, as the app sees it: a device, file, signal or stream."""

    @property
    def samplerate(self) -> int:
        """Frames per second (Hz)."""

    @property
    def description(self) -> str:
        """Short text for the status line."""

    @property
    def finished(self) -> bool:
        """The source ended (a file or a stream)."""

    def input_lost(self, timeout: float | None = None) -> bool:
        """No input arrived for a while (the watchdog)."""


class Feed(Protocol):
    """What the app is fed from (the attributes of a pipeline)."""

    @property
    def source(self) -> AppSource:
        """The opened source."""

    @property
    def ring(self) -> RingBuffer | None:
        """The audio ring the source writes (None: no audio, as in ``livespec view``)."""

    @property
    def engine(self) -> Engine | None:
        """The analysis engine the keys reconfigure (None: no local analysis)."""

    @property
    def notice(self) -> str | None:
        """A message to show at start-up (e.g. the demo fallback)."""


@dataclass(frozen=True)
class AppFeed:
    """A :class:`Feed` put together by hand (tests, the stream viewer)."""

    source: AppSource
    ring: RingBuffer | None = None
    engine: Engine | None = None
    notice: str | None = None


INBOX_FRAMES = 2048  # frames kept between ticks before the oldest are dropped
FrameTap = Callable[[Frame], None]


class FrameInbox:
    """A bounded queue of frames, newest wins, with taps run on the producer's thread."""

    def __init__(self, maxlen: int = INBOX_FRAMES) -> None:
        self._frames: collections.deque[Frame] = collections.deque(maxlen=maxlen)
        self._taps: tuple[FrameTap, ...] = ()

    def add_tap(self, tap: FrameTap) -> None:
        """Also hand every frame to ``tap`` on the producer's thread (keep it short). Before
        the producer starts (main or UI thread)."""
        self._taps = (*self._taps, tap)

    def push(self, frame: Frame) -> None:
        """Hand one frame to the UI (the producer's thread; never blocks)."""
        for tap in self._taps:
            tap(frame)
        self._frames.append(frame)

    def follow(
        self, engine: Engine | None, period: float, tick: Callable[[], None]
    ) -> Callable[[], None]:
        """``tick`` (the screen tick's timer callback, every ``period`` s), telling
        ``engine``'s worker when it runs: the worker wakes just before each one, not per
        audio block, since frames wait for the tick anyway. Only the timer's ticks are
        reported, not the extra ones a key asks for (UI thread)."""
        if engine is None:
            return tick
        grid = engine.follow_ticks(period)

        def timed() -> None:
            grid.tick(time.monotonic())
            tick()

        return timed

    def drain(self) -> list[Frame]:
        """Every frame that arrived since the last call, oldest first (UI thread)."""
        frames: list[Frame] = []
        pop = self._frames.popleft
        while self._frames:
            frames.append(pop())
        return frames

    def __len__(self) -> int:
        """Frames waiting (any thread)."""
        return len(self._frames)


def source_failure(source: AppSource) -> tuple[str, int] | None:
    """The source's error as one line (as ``livespec peaks`` prints it) and the exit status
    it ends the app with (its own, else 1), or None while it has none. Any thread; a
    device being reopened keeps its error while it stays gone."""
    error = getattr(source, "error", None)
    if error is None:
        return None
    if isinstance(error, LivespecError):
        return str(error), error.exit_code
    return f"{type(error).__name__}: {error}", EXIT_FAILURE
