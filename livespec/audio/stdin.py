"""Audio on stdin: raw PCM, or a WAV, AIFF, FLAC or OGG stream known by its header.

``livespec --input -`` reads raw interleaved PCM (``--format``, ``--samplerate``,
``--channels``) unless the stream's first bytes announce a container (``RIFF....WAVE``,
``FORM....AIFF``, ``fLaC``, ``OggS``): then libsndfile decodes it and the header gives
rate, channels and sample format, so ``sox ... -t wav - | livespec peaks --input -`` reads
true numbers instead of a header taken for samples. ``--format``, ``--samplerate`` or
``--channels`` given with such a stream is a mistake and is refused.

libsndfile cannot read every container from a pipe in the same way: WAV, AIFF and OGG
decode from a file descriptor (a relay thread puts the bytes used for recognition back in
front of the rest), FLAC only through a reader that can step back a little
(:class:`_PipeReader`). An MP3 (known by its ``ID3`` tag) cannot be read from a pipe at
all, which is said in one line. Every wait on the pipe is a ``select()`` in short steps,
so ``stop()`` is never held up by a producer that sends nothing.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import numpy.typing as npt

from livespec.audio.base import BlockSource
from livespec.audio.files import check_header, sf_reason
from livespec.audio.stderr import quiet_native_stderr
from livespec.audio.wavhead import WavHead, open_ended, scan, short_note
from livespec.errors import SourceError, UsageError

if TYPE_CHECKING:
    import soundfile

PCM_FORMATS = {"s16le": 2, "s24le": 3, "s32le": 4, "f32le": 4}
DEFAULT_PCM_FORMAT = "s16le"
DEFAULT_SAMPLERATE = 48000
STDIN_POLL_S = 0.05  # how often a reader waiting on an empty pipe checks for stop()
SNIFF_BYTES = 12  # bytes read to recognise a container
SNIFF_TIMEOUT_S = 5.0  # a stream silent this long from the start is taken as raw PCM


def sniff(head: bytes) -> str | None:
    """The container a stream's first bytes announce, or None for raw PCM.

    MP3 is recognised only by an ID3 tag: a bare MPEG frame sync is two bytes that raw
    PCM contains by chance.
    """
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:3] == b"ID3":
        return "MP3"
    return None


def _bytes_waiting(fd: int) -> int | None:
    """Bytes readable now from the pipe ``fd`` without waiting (FIONREAD), None if the
    system cannot tell."""
    try:
        import fcntl
        import termios

        buf = bytearray(4)
        fcntl.ioctl(fd, termios.FIONREAD, buf)
    except (ImportError, OSError, AttributeError):
        return None
    return int.from_bytes(buf, sys.byteorder, signed=True)


def _pipe_bytes(fd: int | None) -> int:
    """The capacity of the pipe ``fd`` in bytes (Linux F_GETPIPE_SZ), else 64 KiB."""
    if fd is not None:
        try:
            import fcntl

            return int(fcntl.fcntl(fd, getattr(fcntl, "F_GETPIPE_SZ", 1032)))
        except (ImportError, OSError):
            pass
    return 65536


def _wait_readable(fd: int, stop: threading.Event) -> bool:
    """Wait until ``fd`` has data or EOF (True) or ``stop`` is set (False)."""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], STDIN_POLL_S)
        if ready:
            return True
    return False


class _Relay:
    """Copies ``prefix`` and then everything from ``src`` into a new pipe, whose read end
    (:attr:`fd`) libsndfile decodes. Its own thread; ends at EOF or stop and then closes
    the write end, so a reader blocked on :attr:`fd` sees the end."""

    def __init__(self, src: int, prefix: bytes, stop: threading.Event) -> None:
        self.fd, self._w = os.pipe()
        self._src, self._prefix, self._stop = src, prefix, stop
        self._thread = threading.Thread(target=self._run, name="livespec-stdin-relay")
        self._thread.start()

    def _write(self, data: bytes) -> bool:
        view = memoryview(data)
        while view:
            if self._stop.is_set():
                return False
            _, ready, _ = select.select([], [self._w], [], STDIN_POLL_S)
            if ready:
                view = view[os.write(self._w, view) :]
        return True

    def _run(self) -> None:
        try:
            if not self._write(self._prefix):
                return
            while _wait_readable(self._src, self._stop):
                chunk = os.read(self._src, 65536)
                if not chunk or not self._write(chunk):
                    return
        except OSError:
            return  # the reader closed its end: nothing left to feed
        finally:
            os.close(self._w)

    def close(self) -> None:
        """Stop (the caller has set the stop event), join, close the read end."""
        self._thread.join(timeout=5.0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


class _PipeReader:
    """A file-like view of a pipe for libsndfile's virtual I/O: forward reads from the fd,
    seeks back within the last :attr:`window` bytes, and an end of stream that is far
    away (unknown). FLAC's decoder reads ahead and steps back; nothing else is needed."""

    FAR = 1 << 40  # where the unknown end of the stream is said to be

    def __init__(self, fd: int, prefix: bytes, stop: threading.Event, window: int = 1 << 20):
        self._fd, self._stop, self.window = fd, stop, window
        self._buf = bytearray(prefix)
        self._base = 0  # stream offset of _buf[0]
        self._pos = 0
        self._eof = False

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        new = offset if whence == 0 else self._pos + offset if whence == 1 else self.FAR + offset
        if new < self._base:
            raise OSError("cannot seek back that far in a pipe")
        self._pos = new
        return new

    def _fill(self, end: int) -> None:
        while self._base + len(self._buf) < end and not self._eof:
            if not _wait_readable(self._fd, self._stop):
                self._eof = True  # stopped: end the stream here
                break
            chunk = os.read(self._fd, max(65536, end - self._base - len(self._buf)))
            if chunk:
                self._buf += chunk
            else:
                self._eof = True
        behind = self._pos - self.window - self._base
        if behind > self.window:  # forget what lies far behind the position
            del self._buf[:behind]
            self._base += behind

    def read(self, n: int = -1) -> bytes:
        if self._pos >= self.FAR // 2:
            return b""
        n = 1 << 16 if n is None or n < 0 else n
        self._fill(self._pos + n)
        i = self._pos - self._base
        data = bytes(self._buf[i : i + n])
        self._pos += len(data)
        return data

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _open_forward(file: int | _PipeReader) -> soundfile.SoundFile:
    """A SoundFile that reads forward only: soundfile otherwise seeks after every read,
    which a pipe cannot do."""
    import soundfile as sf

    class ForwardSoundFile(sf.SoundFile):  # type: ignore[misc]  # soundfile is untyped
        def seekable(self) -> bool:
            return False

    if isinstance(file, int):
        return ForwardSoundFile(file, closefd=False)
    return ForwardSoundFile(file)


class StdinSource(BlockSource):
    """Audio from a binary stream (stdin by default): raw interleaved PCM, or a container
    recognised by its header (see the module's docstring).

    Args:
        fmt: raw PCM format ``s16le``, ``s24le``, ``s32le`` or ``f32le``; None: not given
            (``s16le`` for raw PCM; refused with a container only when given).
        samplerate: Hz of raw PCM; None: not given (48000).
        channels: interleaved channels of raw PCM; None: not given (1).
        stream: a binary file object; ``None`` means ``sys.stdin.buffer``. Containers are
            recognised only on a real file descriptor (a pipe or a file).
    """

    finite = True

    def __init__(
        self,
        fmt: str | None = None,
        samplerate: int | None = None,
        channels: int | None = None,
        blocksize: int = 1024,
        stream: BinaryIO | None = None,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__(blocksize, realtime=False)
        if fmt is not None and fmt not in PCM_FORMATS:
            raise UsageError(f"--format {fmt!r}: use one of {', '.join(PCM_FORMATS)}")
        self._given = {"--format": fmt, "--samplerate": samplerate, "--channels": channels}
        self.fmt = fmt or DEFAULT_PCM_FORMAT
        self.samplerate = int(samplerate or DEFAULT_SAMPLERATE)
        self.channels = int(channels or 1)
        self._stream = stream
        self.max_seconds = max_seconds
        self.container: str | None = None  # "WAV", "FLAC", ... once recognised
        self._raw = bytearray()
        self._pending = b""  # bytes read to recognise the stream, not yet decoded
        self._fd: int | None = None  # read with select() so that stop() never waits on a pipe
        self._sf: soundfile.SoundFile | None = None
        self._relay: _Relay | None = None
        self._wav: WavHead | None = None  # a WAV stream's header: its declared size

    def open(self) -> None:
        """Take stdin (or the given stream) and recognise a container by its first bytes
        (waits up to ``SNIFF_TIMEOUT_S`` for them). Caller's thread."""
        if self._stream is None:
            if sys.stdin is None or sys.stdin.isatty():
                raise SourceError(
                    "--input - reads audio from stdin: pipe audio in, e.g. "
                    "arecord -f S16_LE -r 48000 -c 1 -t raw | livespec --input -"
                )
            self._stream = sys.stdin.buffer
        try:
            self._fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # an in-memory stream (tests)
            self._fd = None
        if self._fd is not None:
            self._pending = self._read_head(lambda head: len(head) < SNIFF_BYTES)
            self.container = sniff(self._pending)
            if self.container == "WAV":  # on to the data chunk: its declared size
                self._pending = self._read_head(lambda head: scan(head) is True)
        if self.container is not None:
            self._open_container(self.container)
        else:
            width = PCM_FORMATS[self.fmt]
            self._raw = bytearray(self.block_frames * self.channels * width)
            self.description = f"stdin ({self.fmt}, {self.channels} ch)"
        self._alloc()
        # Paced in real time (the app), reading may run this far ahead of the sample clock
        # to drain what piled up in the pipe(s) before the source started or during a
        # stall: one second, or all that the pipes can hold if that is more.
        pipes = 2 if self._relay is not None else 1
        held = pipes * _pipe_bytes(self._fd) // (self.channels * self._sample_bytes())
        self.catch_up_frames = max(self.samplerate, held + self.block_frames)

    def _sample_bytes(self) -> int:
        """Bytes per sample in the pipe (an estimate for containers: 2)."""
        return PCM_FORMATS[self.fmt] if self._sf is None else 2

    def _caught_up(self) -> bool:
        """True if less than a block waits in the pipe (and in the relay's pipe)."""
        if self._fd is None:
            return False
        waiting = _bytes_waiting(self._fd)
        if self._relay is not None:
            relayed = _bytes_waiting(self._relay.fd)
            waiting = None if waiting is None or relayed is None else waiting + relayed
        if waiting is None:
            return False
        waiting += len(self._pending)
        return waiting < self.block_frames * self.channels * self._sample_bytes()

    def _read_head(self, more: Callable[[bytes], bool]) -> bytes:
        """The stream's first bytes (after :attr:`_pending`) while ``more(head)``, as many
        as arrive within ``SNIFF_TIMEOUT_S``: a container's producer writes its header at
        once; a live raw producer may be silent for longer (it is then read as raw PCM,
        as before). Reads no more than is needed to recognise it, then what comes."""
        assert self._fd is not None
        head = self._pending
        deadline = time.monotonic() + SNIFF_TIMEOUT_S
        while more(head):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self._fd], [], [], min(left, STDIN_POLL_S))
            if not ready:
                continue
            chunk = os.read(self._fd, SNIFF_BYTES - len(head) if len(head) < SNIFF_BYTES else 65536)
            if not chunk:
                break
            head += chunk
        return head

    def _open_container(self, kind: str) -> None:
        given = [opt for opt, v in self._given.items() if v is not None]
        if given:
            raise UsageError(
                f"{', '.join(given)} given, but stdin carries a {kind} stream whose header "
                "says its format; drop the option (it is for raw PCM)"
            )
        if kind == "MP3":  # libsndfile's MP3 reader needs a file it can seek in
            raise SourceError(
                "an MP3 stream on stdin cannot be decoded; give the file with --input FILE, "
                "or pipe WAV or FLAC"
            )
        assert self._fd is not None
        wav = scan(self._pending) if kind == "WAV" else None
        if isinstance(wav, WavHead):  # libsndfile reads nothing after a data size of 0
            self._wav, self._pending = wav, open_ended(self._pending, wav)
        source: int | _PipeReader
        if kind == "FLAC":
            source = _PipeReader(self._fd, self._pending, self._stop)
        else:
            self._relay = _Relay(self._fd, self._pending, self._stop)
            source = self._relay.fd
        self._pending = b""
        try:
            with quiet_native_stderr():  # libmpg123 warns on fd 2 about odd ID3 tags
                self._sf = _open_forward(source)
        except Exception as exc:  # libsndfile's errors vary; one line
            self._stop.set()
            self._close()
            raise SourceError(f"cannot read the {kind} stream on stdin: {sf_reason(exc)}") from None
        self.samplerate, self.channels = int(self._sf.samplerate), int(self._sf.channels)
        check_header(f"the {kind} stream on stdin", self.samplerate, self.channels)
        self.description = f"stdin ({kind} {self._sf.subtype}, {self.channels} ch)"

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        want = out.shape[0]
        if self.max_seconds is not None:
            want = min(want, round(self.max_seconds * self.samplerate) - self.frames_read)
            if want <= 0:
                return 0
        if self._sf is not None:
            try:
                data = self._sf.read(want, dtype="float32", always_2d=True, out=out[:want])
            except Exception as exc:
                raise SourceError(f"cannot read the stream on stdin: {sf_reason(exc)}") from None
            n = int(data.shape[0])
            if n < want and self._wav is not None and not self._stop.is_set():  # its end
                note = short_note(
                    "the WAV stream on stdin", self._wav, self.frames_read + n, self.samplerate
                )
                self._wav = None  # said once
                if note is not None:
                    self.notes.append(note)
            return n
        return self._read_raw(out, want)

    def _read_raw(self, out: npt.NDArray[np.float32], want: int) -> int:
        assert self._stream is not None
        frame_bytes = PCM_FORMATS[self.fmt] * self.channels
        view = memoryview(self._raw)[: want * frame_bytes]
        got = min(len(self._pending), len(view))
        view[:got] = self._pending[:got]
        self._pending = self._pending[got:]
        fd = self._fd
        while got < len(view):  # a pipe may return short reads
            if fd is None:
                n = self._stream.readinto(view[got:])  # type: ignore[attr-defined]
            else:
                # A stalled producer must not hold up stop() (q in the app).
                if not _wait_readable(fd, self._stop):
                    break
                n = os.readv(fd, [view[got:]])
            if not n:
                break
            got += n
        frames = got // frame_bytes
        if frames == 0:
            return 0
        decode_pcm(bytes(view[: frames * frame_bytes]), self.fmt, self.channels, out[:frames])
        return frames

    def _close(self) -> None:
        self._stop.set()  # a relay still copying ends now
        if self._relay is not None:
            self._relay.close()
            self._relay = None
        if self._sf is not None:
            with contextlib.suppress(Exception):
                self._sf.close()
            self._sf = None


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
