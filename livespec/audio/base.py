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

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from livespec.audio.dropwatch import Drop
from livespec.audio.files import DamagedInput, check_samples
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
        overflows: input overflow flags counted by the producer (lost input blocks), and
            losses the sound system did not flag but :meth:`check_drops` found.
        drops: those unflagged losses (:class:`~livespec.audio.dropwatch.Drop`), oldest
            first; ``audio_dropped_s`` is their total length in seconds.
        error: an exception that stopped the producer thread, if any.
        notes: warnings about the input, one line each (e.g. a WAV stream on stdin that
            ended short of the size its header declares), for the command to print.
        synthetic: a test signal, rendered on demand: in real time its consumer may write
            it into the ring itself (:meth:`BlockSource.write_due`) instead of a thread.
    """

    samplerate: int = 0
    channels: int = 0
    description: str = ""
    realtime: bool = True
    finite: bool = False
    block_frames: int = 1024
    synthetic: bool = False  # rendered on demand: see BlockSource.write_due

    def __init__(self) -> None:
        self.ring: RingBuffer | None = None
        self.overflows = 0
        self.drops: list[Drop] = []
        self.audio_dropped_s = 0.0
        self.error: BaseException | None = None
        self.notes: list[str] = []
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

    @property
    def latency_seconds(self) -> float:
        """The input latency in use, seconds (0.0 where there is none to speak of)."""
        return 0.0

    def check_drops(self) -> Drop | None:
        """Look for input the sound system dropped without an overflow flag; the new
        loss if one was found now (also appended to :attr:`drops`), else None. Only a
        sound card can lose input that way: the default finds nothing. Caller's thread
        (the watchdog's poll, the app's tick), never the producer's."""
        return None

    @property
    def drop_hold(self) -> int | None:
        """While :meth:`check_drops` suspects a loss that is not yet final: the ring index
        where the audio after it begins (a recording holds back there, so the loss's
        silence goes in the right place); None otherwise. Any thread."""
        return None

    def seconds_since_input(self) -> float:
        """Seconds since the producer last wrote (since start if it never wrote)."""
        ring = self.ring
        last = ring.last_write_time if ring is not None and ring.last_write_time else 0.0
        return time.monotonic() - (last or self.started_at or time.monotonic())

    def input_lost(self, timeout: float | None = None) -> bool:
        """Watchdog: True if a real-time source has delivered nothing for ``timeout`` s.

        The default timeout is the largest of 0.5 s, four blocks and twice the input
        latency in use (PortAudio may deliver a large latency's buffer in bursts). A test
        signal (``synthetic``) is never lost: its writer renders every block due on its
        sample clock when it runs again (:meth:`BlockSource.write_due`, ``produce``), so a
        late writer (the app's worker building CQT kernels) delays samples, drops none.
        """
        if not self.realtime or self.finished or not self.started_at or self.synthetic:
            return False
        if timeout is None:
            blocks = 4.0 * self.block_frames / max(self.samplerate, 1)
            timeout = max(0.5, blocks, 2.0 * self.latency_seconds)
        return self.seconds_since_input() > timeout

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BlockSource(Source):
    """A source that produces blocks on demand; the base of file, stdin and signal sources.

    Subclasses implement :meth:`_read_block`. With ``realtime=True`` the producer thread
    writes one block per block period, but may run up to ``catch_up_frames`` ahead of that
    clock to drain a backlog, and restarts the clock whenever the input has nothing
    waiting (:meth:`_caught_up`: a live pipe); otherwise it writes as fast as the
    back-pressure function (the oldest frame a consumer still needs) allows, so nothing
    is lost.
    """

    def __init__(self, blocksize: int = 1024, realtime: bool = True) -> None:
        super().__init__()
        self.block_frames = int(blocksize)
        self.realtime = realtime
        self._buf: npt.NDArray[np.float32] = np.zeros((1, 1), dtype=np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._oldest_needed: Callable[[], int] | None = None
        self.frames_read = 0
        # Real-time pacing: how far (frames) reading may run ahead of the sample clock to
        # drain a backlog (a live pipe fed before we started); 0 for files and signals.
        self.catch_up_frames = 0
        self._clock: Callable[[], float] = time.monotonic  # replaceable in tests
        self._wait: Callable[[float], object] = self._stop.wait
        self._due_t0: float | None = None  # write_due's sample clock: time of frame 0

    def _alloc(self) -> None:
        self._buf = np.zeros((self.block_frames, self.channels), dtype=np.float32)

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        """Fill ``out[:n]`` (frames x channels) and return n; 0 at the end."""
        raise NotImplementedError

    def set_backpressure(self, oldest_needed: Callable[[], int]) -> None:
        """Make a non-real-time producer wait while writing would overwrite frames at or
        after ``oldest_needed()`` (called on the producer thread)."""
        self._oldest_needed = oldest_needed

    def pump(self, max_frames: int) -> int:
        """Read one block of at most ``max_frames`` and write it to the ring (caller's thread)."""
        if self.ring is None:
            raise RuntimeError("start() or attach() first")
        if self.finished:
            return 0
        n = self._read_block(self._buf[: min(max_frames, self.block_frames)])
        if n <= 0:
            self._finished.set()
            return 0
        try:
            check_samples(self._buf[:n], self.frames_read, self.samplerate)
        except DamagedInput as exc:
            raise DamagedInput(f"{self.description}: {exc}") from None
        self.ring.write(self._buf[:n])
        self.frames_read += n
        return n

    def attach(self, ring: RingBuffer) -> None:
        """Use ``ring`` without starting a thread (for :meth:`pump`)."""
        if ring.channels != self.channels:
            raise ValueError("ring channel count differs from the source's")
        self.ring = ring
        self.started_at = time.monotonic()

    def start(self, ring: RingBuffer) -> None:
        """Start the producer thread writing into ``ring``."""
        self.attach(ring)
        self._thread = threading.Thread(target=self._run, name=f"livespec-{type(self).__name__}")
        self._thread.start()

    def _run(self) -> None:
        """Producer thread: :meth:`produce` until the end, an error or stop()."""
        try:
            self.produce()
        except BaseException as exc:  # reported to the consumer via .error, never lost
            self.error = exc
        finally:
            self._finished.set()

    def produce(
        self, after_block: Callable[[], bool] | None = None, blocks_per_wake: int = 1
    ) -> None:
        """Write block after block into the ring (after :meth:`start` or :meth:`attach`)
        until the end, :meth:`stop`, or ``after_block()`` returning True (called after
        each ``blocks_per_wake`` blocks written, e.g. to analyse them). Paced at the
        sample rate when real time (``blocks_per_wake`` blocks at a time, then a sleep),
        else throttled by the back-pressure. Runs on the producer thread, or on a caller
        that analyses the blocks itself (``livespec peaks --realtime`` on a file or a test
        signal: one thread woken every few blocks). Exceptions propagate.
        """
        ring = self.ring
        if ring is None:
            raise RuntimeError("start() or attach() first")
        clock = self._clock
        t0 = clock()
        group, written = max(1, int(blocks_per_wake)), 0
        while not self._stop.is_set():
            if not self.realtime and self._oldest_needed is not None:
                while (
                    ring.written + self.block_frames - self._oldest_needed() > ring.capacity
                    and not self._stop.is_set()
                ):
                    time.sleep(0.001)
            if self.pump(self.block_frames) == 0:
                break
            written += 1
            if written % group:
                continue  # the next block of this wake-up, at once
            if after_block is not None and after_block():
                break
            if self.realtime:
                now = clock()
                if self._caught_up():  # a live producer paces us: restart the clock here
                    t0 = now - self.frames_read / self.samplerate
                due = t0 + (self.frames_read - self.catch_up_frames) / self.samplerate
                if due > now:
                    self._wait(due - now)

    def write_due(self, now: float) -> float:
        """Write every block that is due by ``now`` (monotonic seconds) on the sample clock
        started by the first call, at least one then, as :meth:`produce` would have by
        then; return when the next block is due (``math.inf`` at the end or after
        :meth:`stop`). For a real-time source that a consumer produces itself, after
        :meth:`attach`: the live app's engine writes a test signal into the ring on its
        own wake-ups, one thread woken instead of two (the consumer's thread)."""
        if self._stop.is_set() or self.finished:
            return math.inf
        if self._due_t0 is None:  # produce()'s clock: frames_read's frames are ahead
            self._due_t0 = now
            if self.pump(self.block_frames) == 0:
                return math.inf
        t0, fs = self._due_t0, self.samplerate
        while (due := t0 + (self.frames_read - self.catch_up_frames) / fs) <= now:
            if self.pump(self.block_frames) == 0:
                return math.inf
        return due

    def _caught_up(self) -> bool:
        """True if the input holds less than a block waiting to be read (a live producer
        then sets the pace, and a later backlog may be drained). Producer thread; False
        where unknown, and for files and signals (always readable)."""
        return False

    def stop(self) -> None:
        """Stop and join the producer thread, then close. Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._close()

    def _close(self) -> None:
        """Release files; subclasses override."""
