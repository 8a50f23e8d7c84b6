"""The interface every source implements: it fills a :class:`RingBuffer` and nothing else.

Life cycle (all on the caller's thread unless noted):

1. construct with its options (cheap, no I/O);
2. :meth:`Source.open` opens the device/file and fixes ``samplerate`` and ``channels``;
3. the caller makes a ring with that many channels and calls :meth:`Source.start`, after
   which the source's producer (PortAudio's callback thread, or a thread of the source's
   own) writes into the ring;
4. :meth:`Source.stop` stops the producer, joins it and closes everything (idempotent).

A source that is not real time (a file, a test signal with a duration) can instead be
driven synchronously with :meth:`Source.pump`, without a thread, for headless analysis at
full speed.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

from livespec.audio.ringbuffer import RingBuffer


class Source(ABC):
    """A producer of audio frames into a ring buffer.

    Attributes:
        samplerate: frames per second (Hz); valid after :meth:`open`.
        channels: channels per frame written to the ring; valid after :meth:`open`.
        description: short human text for status lines, e.g. ``"device 'pulse' (ALSA)"``.
        realtime: True if frames arrive at the sample rate whatever the consumer does.
        finite: True if the source ends by itself (end of file, duration, EOF on stdin).
        block_frames: frames per producer block (the callback's block size), for the
            watchdog and latency estimates.
        overflows: input overflow flags counted by the producer (lost input blocks).
        error: an exception that stopped the producer thread, if any.
    """

    samplerate: int = 0
    channels: int = 0
    description: str = ""
    realtime: bool = True
    finite: bool = False
    block_frames: int = 1024

    def __init__(self) -> None:
        self.ring: RingBuffer | None = None
        self.overflows = 0
        self.error: BaseException | None = None
        self._finished = threading.Event()
        self.started_at = 0.0  # time.monotonic() when start() was called

    @abstractmethod
    def open(self) -> None:
        """Open the underlying device, file or stream; set samplerate and channels."""

    @abstractmethod
    def start(self, ring: RingBuffer) -> None:
        """Begin producing into ``ring`` (in real time, or paced, from another thread)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop producing, join threads, close the device or file. Idempotent."""

    def pump(self, max_frames: int) -> int:
        """Synchronously write up to ``max_frames`` into the ring; 0 means finished.

        Only for sources that are not real time; the caller's thread does the work.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot be pumped synchronously")

    @property
    def finished(self) -> bool:
        """True once a finite source has delivered everything (or its producer failed)."""
        return self._finished.is_set()

    def seconds_since_input(self) -> float:
        """Seconds since the producer last wrote (since start if it never wrote)."""
        ring = self.ring
        last = ring.last_write_time if ring is not None and ring.last_write_time else 0.0
        return time.monotonic() - (last or self.started_at or time.monotonic())

    def input_lost(self, timeout: float | None = None) -> bool:
        """Watchdog: True if a real-time source has delivered nothing for ``timeout`` s.

        The default timeout is the larger of 0.5 s and four blocks.
        """
        if not self.realtime or self.finished or not self.started_at:
            return False
        if timeout is None:
            timeout = max(0.5, 4.0 * self.block_frames / max(self.samplerate, 1))
        return self.seconds_since_input() > timeout

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
