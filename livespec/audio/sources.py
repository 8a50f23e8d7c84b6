"""Sources other than the sound card: audio files, raw PCM on stdin, built-in test signals.

They all feed the same :class:`~livespec.audio.ringbuffer.RingBuffer` the sound card
does, block by block, either

* from a thread of their own (:meth:`Source.start`), paced at the sample rate for live
  views (``realtime=True``) or as fast as the consumer allows (lossless back-pressure), or
* synchronously from the caller's thread with :meth:`Source.pump`, for headless analysis.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from livespec.audio import signals
from livespec.audio.base import Source
from livespec.audio.ringbuffer import RingBuffer
from livespec.errors import SourceError, UsageError

PCM_FORMATS = {"s16le": 2, "s24le": 3, "s32le": 4, "f32le": 4}


class BlockSource(Source):
    """A source that produces blocks on demand; the base of file, stdin and signal sources.

    Subclasses implement :meth:`_read_block`. With ``realtime=True`` the producer thread
    writes one block per block period; otherwise it writes as fast as the back-pressure
    function (the oldest frame a consumer still needs) allows, so nothing is lost.
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
        """Producer thread: block by block until the end, an error or stop()."""
        assert self.ring is not None
        ring = self.ring
        t0 = time.monotonic()
        try:
            while not self._stop.is_set():
                if not self.realtime and self._oldest_needed is not None:
                    while (
                        ring.written + self.block_frames - self._oldest_needed() > ring.capacity
                        and not self._stop.is_set()
                    ):
                        time.sleep(0.001)
                if self.pump(self.block_frames) == 0:
                    break
                if self.realtime:
                    due = t0 + self.frames_read / self.samplerate
                    delay = due - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
        except BaseException as exc:  # reported to the consumer via .error, never lost
            self.error = exc
        finally:
            self._finished.set()

    def stop(self) -> None:
        """Stop and join the producer thread, then close. Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._close()

    def _close(self) -> None:
        """Release files; subclasses override."""


class FileSource(BlockSource):
    """An audio file soundfile can read (WAV, FLAC, OGG, ...).

    Args:
        path: the file.
        realtime: pace at the file's sample rate (live views) or not (headless).
        max_seconds: stop after this much audio (None: the whole file).
    """

    finite = True

    def __init__(
        self,
        path: str | Path,
        blocksize: int = 1024,
        realtime: bool = False,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__(blocksize, realtime)
        self.path = Path(path)
        self.max_seconds = max_seconds
        self._sf: object | None = None
        self._limit = 0
        self.total_frames = 0

    def open(self) -> None:
        """Open the file and read its header (caller's thread)."""
        import soundfile as sf

        if not self.path.exists():
            raise SourceError(f"cannot open '{self.path}': no such file")
        if self.path.is_dir():
            raise SourceError(f"cannot open '{self.path}': it is a folder")
        try:
            f = sf.SoundFile(str(self.path))
        except Exception as exc:  # libsndfile's errors vary; report them in one line
            raise SourceError(f"cannot read '{self.path}': {_sf_reason(exc)}") from None
        self._sf = f
        self.samplerate = int(f.samplerate)
        self.channels = int(f.channels)
        self.total_frames = int(f.frames) if f.frames >= 0 else 0
        self._limit = self.total_frames
        if self.max_seconds is not None:
            self._limit = min(self._limit, round(self.max_seconds * self.samplerate))
        self.description = f"file '{self.path.name}' ({f.format} {f.subtype})"
        self._alloc()

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        import soundfile as sf

        f = self._sf
        assert isinstance(f, sf.SoundFile)
        want = min(out.shape[0], self._limit - self.frames_read)
        if want <= 0:
            return 0
        try:
            n = int(f.read(want, dtype="float32", always_2d=True, out=out[:want]).shape[0])
        except Exception as exc:
            raise SourceError(f"cannot read '{self.path}': {_sf_reason(exc)}") from None
        return n

    def _close(self) -> None:
        f = self._sf
        if f is not None:
            f.close()  # type: ignore[attr-defined]
            self._sf = None


def _sf_reason(exc: BaseException) -> str:
    msg = str(exc).strip() or type(exc).__name__
    # soundfile prefixes "Error opening 'path': " which repeats what we say.
    if msg.startswith("Error opening") and ": " in msg:
        msg = msg.split(": ", 1)[1]
    return msg.rstrip(".")


STDIN_POLL_S = 0.05  # how often a reader waiting on an empty pipe checks for stop()


class StdinSource(BlockSource):
    """Raw interleaved PCM from a binary stream (stdin by default).

    Args:
        fmt: ``s16le``, ``s24le``, ``s32le`` or ``f32le``.
        samplerate: Hz (raw PCM carries none).
        channels: interleaved channels.
        stream: a binary file object; ``None`` means ``sys.stdin.buffer``.
    """

    finite = True

    def __init__(
        self,
        fmt: str = "s16le",
        samplerate: int = 48000,
        channels: int = 1,
        blocksize: int = 1024,
        stream: BinaryIO | None = None,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__(blocksize, realtime=False)
        if fmt not in PCM_FORMATS:
            raise UsageError(f"--format {fmt!r}: use one of {', '.join(PCM_FORMATS)}")
        self.fmt = fmt
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self._stream = stream
        self.max_seconds = max_seconds
        self._raw = bytearray()
        self._pending = b""
        self._fd: int | None = None  # read with select() so that stop() never waits on a pipe

    def open(self) -> None:
        """Take stdin (or the given stream); no data is read yet."""
        import sys

        if self._stream is None:
            if sys.stdin is None or sys.stdin.isatty():
                raise SourceError(
                    "--input - reads raw PCM from stdin: pipe audio in, e.g. "
                    "arecord -f S16_LE -r 48000 -c 1 -t raw | livespec --input -"
                )
            self._stream = sys.stdin.buffer
        width = PCM_FORMATS[self.fmt]
        self._raw = bytearray(self.block_frames * self.channels * width)
        self.description = f"stdin ({self.fmt}, {self.channels} ch)"
        try:
            self._fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # an in-memory stream (tests)
            self._fd = None
        self._alloc()

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        assert self._stream is not None
        width = PCM_FORMATS[self.fmt]
        frame_bytes = width * self.channels
        want = out.shape[0]
        if self.max_seconds is not None:
            want = min(want, round(self.max_seconds * self.samplerate) - self.frames_read)
            if want <= 0:
                return 0
        view = memoryview(self._raw)[: want * frame_bytes]
        got = 0
        fd = self._fd
        while got < len(view):  # a pipe may return short reads
            if fd is None:
                n = self._stream.readinto(view[got:])  # type: ignore[attr-defined]
            else:
                # A stalled producer must not hold up stop() (q in the app): wait for
                # data in short steps and give up when asked to stop.
                if self._stop.is_set():
                    break
                ready, _, _ = select.select([fd], [], [], STDIN_POLL_S)
                if not ready:
                    continue
                n = os.readv(fd, [view[got:]])
            if not n:
                break
            got += n
        frames = got // frame_bytes
        if frames == 0:
            return 0
        data = bytes(view[: frames * frame_bytes])
        decode_pcm(data, self.fmt, self.channels, out[:frames])
        return frames


def decode_pcm(data: bytes, fmt: str, channels: int, out: npt.NDArray[np.float32]) -> None:
    """Decode little-endian interleaved PCM bytes into float32 ``out`` (frames x channels),
    full scale = 1.0."""
    frames = out.shape[0]
    if fmt == "s16le":
        out[:] = np.frombuffer(data, "<i2").reshape(frames, channels) * (1.0 / 32768.0)
    elif fmt == "s32le":
        out[:] = np.frombuffer(data, "<i4").reshape(frames, channels) * (1.0 / 2147483648.0)
    elif fmt == "f32le":
        out[:] = np.frombuffer(data, "<f4").reshape(frames, channels)
    elif fmt == "s24le":
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = (v << 8) >> 8  # sign-extend 24 -> 32 bits
        out[:] = v.reshape(frames, channels) * (1.0 / 8388608.0)
    else:  # pragma: no cover - validated in __init__
        raise ValueError(fmt)


class SignalSource(BlockSource):
    """A built-in test signal (see :mod:`livespec.audio.signals`).

    Args:
        spec: e.g. ``"tone:1000@-6"`` or ``"demo"``.
        samplerate: Hz.
        channels: the same signal on every channel.
        realtime: pace at the sample rate (live) or not (headless).
        max_seconds: end after this much signal (None: endless).
    """

    def __init__(
        self,
        spec: str,
        samplerate: int = 48000,
        channels: int = 1,
        blocksize: int = 1024,
        realtime: bool = True,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__(blocksize, realtime)
        self.spec = spec
        self.parts = signals.parse_signal(spec)
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.max_seconds = max_seconds
        self.finite = max_seconds is not None
        self._mono: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)

    def open(self) -> None:
        """Nothing to open; allocate the block buffers."""
        self.description = f"test signal '{self.spec}'"
        self._alloc()
        self._mono = np.zeros(self.block_frames, dtype=np.float32)

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        n = int(out.shape[0])
        if self.max_seconds is not None:
            n = min(n, round(self.max_seconds * self.samplerate) - self.frames_read)
            if n <= 0:
                return 0
        signals.render(self.parts, self.frames_read, n, self.samplerate, self._mono)
        out[:n] = self._mono[:n, None]
        return n


def make_source(
    input_spec: str | None,
    *,
    device: str | int | None = None,
    samplerate: int | None = None,
    channels: int | None = None,
    blocksize: int = 1024,
    latency: float | str | None = "high",
    pcm_format: str = "s16le",
    realtime: bool = True,
    max_seconds: float | None = None,
) -> Source:
    """Build the source an ``--input``/``--device`` pair names (nothing is opened yet).

    ``input_spec`` is None for the sound card, ``"-"`` for stdin, a test-signal spec, or a
    file path.
    """
    if input_spec is None:
        from livespec.audio.device import DeviceSource

        return DeviceSource(device, samplerate, channels, blocksize, latency)
    if device is not None:
        raise UsageError("give either --device or --input, not both")
    if input_spec == "-":
        return StdinSource(
            pcm_format, samplerate or 48000, channels or 1, blocksize, max_seconds=max_seconds
        )
    if signals.is_signal_spec(input_spec) and not os.path.exists(input_spec):
        return SignalSource(
            input_spec,
            samplerate or 48000,
            channels or 1,
            blocksize,
            realtime=realtime,
            max_seconds=max_seconds,
        )
    if samplerate is not None:
        raise UsageError("--samplerate does not apply to a file (it has its own rate)")
    return FileSource(input_spec, blocksize, realtime=realtime, max_seconds=max_seconds)
