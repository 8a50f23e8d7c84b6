"""The viewer's side of a stream: a reader thread that turns records into frames.

:class:`StreamSource` offers what the app reads of a :class:`~livespec.audio.base.Source`
(rate, description, watchdog, end) but produces analysed frames instead of audio: its
thread reads the stream, decodes each FRAME into an engine-shaped
:class:`~livespec.engine.Frame` and hands it to ``push`` (the app's ``push_frame``). A
saved stream can be replayed at the pace of its frame times or as fast as the consumer
takes it. No Textual here.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import stat
import threading
import time
from collections.abc import Callable

from livespec.engine import Frame
from livespec.errors import counted, printable
from livespec.stream.protocol import END, FRAME, MAGIC, STATUS, StreamError, StreamReader

HEARTBEAT_LOST_S = 3.0  # no record for this long: the link counts as lost (heartbeat 1 s)
MAX_PACE_WAIT_S = 1.0  # a paced replay waits at most this long for one frame (time jumps)
BACKLOG_MAX = 256  # fast replay waits while the consumer holds more frames than this
BACKLOG_BYTES = 32 << 20  # or more than this many bytes of rows (wide rows: fewer frames)


class Stopped(Exception):
    """Raised inside the reader thread when :meth:`FdReader.read` is told to stop."""


HEAD_BYTES = 240  # FdReader keeps the first bytes it read, for messages


class FdReader:
    """``read(n)`` on a file descriptor that a stop event can interrupt (reader thread).

    It waits with ``select`` in 0.2 s steps, so the thread never hangs in a read on a
    silent pipe when the viewer quits.
    """

    def __init__(self, fd: int, on_read: Callable[[int], None] | None = None) -> None:
        self.fd = fd
        self.stop = threading.Event()
        self._buf = bytearray()
        self.total = 0  # bytes read from the descriptor so far
        self.head = b""  # the first HEAD_BYTES of them (for messages)
        self._on_read = on_read  # called with ``total`` after each read (e.g. an Acker)

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes: fewer only at EOF. Raises :class:`Stopped` when stopped."""
        buf = self._buf
        while len(buf) < n:
            if self.stop.is_set():
                raise Stopped
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if not ready:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                break
            buf += chunk
            if self.total < HEAD_BYTES:
                self.head = (self.head + chunk)[:HEAD_BYTES]
            self.total += len(chunk)
            if self._on_read is not None:
                self._on_read(self.total)
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def rest(self) -> tuple[int, bytes]:
        """(how many bytes are left until EOF, their first 4): a file's from its size
        (nothing more is read), a pipe's by reading it to its end. Raises
        :class:`Stopped` when stopped (reader thread)."""
        n, head = len(self._buf), bytes(self._buf[:4])
        st = os.fstat(self.fd)
        if stat.S_ISREG(st.st_mode):
            pos = os.lseek(self.fd, 0, os.SEEK_CUR)
            if len(head) < 4 and pos < st.st_size:
                head += os.pread(self.fd, 4 - len(head), pos)
            return n + max(st.st_size - pos, 0), head
        n, head = 0, b""  # the buffer is read again below
        while True:
            chunk = self.read(1 << 16)
            if not chunk:
                return n, head
            head += chunk[: 4 - len(head)]
            n += len(chunk)

    def close(self) -> None:
        """Close the descriptor (after the thread is joined); again does nothing (its
        number may have been reused)."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


class StreamSource:
    """Frames from a stream, for the app (the app's thread reads the attributes).

    Args:
        reader: a :class:`StreamReader` whose header was read (main thread).
        fd_reader: the :class:`FdReader` under it (for stopping and closing).
        live: a pipe from a running sender (watchdog on) rather than a saved file.
        pace: replay at the pace of the frames' times (s); False: as fast as taken.
    """

    channels = 1
    realtime = True

    def __init__(
        self, reader: StreamReader, fd_reader: FdReader, *, live: bool, pace: bool
    ) -> None:
        h = reader.header
        self.reader, self.fd_reader, self.live, self.pace = reader, fd_reader, live, pace
        self.samplerate = h.samplerate
        self.block_frames = h.frame_hop
        info = h.info
        host = str(info.get("host") or "remote")
        self.description = f"{host}: {info.get('source', 'stream')}"
        self.overflows = 0
        self.error: StreamError | None = None
        self.end_reason: str | None = None
        self.after_end: str | None = None  # what followed the END record (ignored), if any
        self.remote: dict[str, object] = {}  # the newest STATUS
        self.frames = 0
        self.started_at = 0.0
        self._last_rx = 0.0
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        """True after the END record, an EOF or an error."""
        return self._finished.is_set()

    def open(self) -> None:
        """Nothing to open (the header was read already)."""

    def seconds_since_input(self) -> float:
        """Seconds since the last record arrived."""
        return time.monotonic() - (self._last_rx or self.started_at or time.monotonic())

    def input_lost(self, timeout: float | None = None) -> bool:
        """True if the sender reports its input lost, or (live) nothing arrived for 3 s."""
        if self.finished or not self.started_at:
            return False
        if self.remote.get("input_lost"):
            return True
        return self.live and self.seconds_since_input() > (timeout or HEARTBEAT_LOST_S)

    def start(self, push: Callable[[Frame], None], backlog: Callable[[], int] = lambda: 0) -> None:
        """Start the reader thread; it calls ``push(frame)`` for every frame (caller's
        thread starts it; ``push`` runs on the reader thread). ``backlog()`` is how many
        frames the consumer holds (fast replay waits while it is large)."""
        self.started_at = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, args=(push, backlog), name="livespec-stream-reader"
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop and join the reader thread, close the stream (any other thread)."""
        self.fd_reader.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._thread = None
        self.fd_reader.close()

    def _run(self, push: Callable[[Frame], None], backlog: Callable[[], int]) -> None:
        stop = self.fd_reader.stop
        reader = self.reader
        most = max(4, min(BACKLOG_MAX, BACKLOG_BYTES // (4 * reader.header.bins)))
        wall0: float | None = None
        t0 = 0.0
        try:
            while not stop.is_set():
                rec = reader.next_record()
                self._last_rx = time.monotonic()
                if rec is None:
                    raise reader.missing_end()
                kind, payload = rec
                if kind == FRAME:
                    frame = reader.frame(payload)
                    if self.pace:
                        if wall0 is None:
                            wall0, t0 = time.monotonic(), frame.t
                        delay = wall0 + (frame.t - t0) - time.monotonic()
                        if delay > MAX_PACE_WAIT_S:  # a jump in time: keep going, re-anchored
                            delay = MAX_PACE_WAIT_S
                            wall0, t0 = time.monotonic() + delay, frame.t
                        if delay > 0 and stop.wait(delay):
                            break
                    else:
                        while backlog() > most and not stop.wait(0.01):
                            pass
                    self.overflows = frame.overflows
                    self.frames += 1
                    push(frame)
                elif kind == STATUS:
                    self.remote = reader.json_payload(payload)
                elif kind == END:
                    d = reader.json_payload(payload)
                    self.end_reason = str(d.get("reason") or "the sender stopped")
                    self._finished.set()  # the end is shown; what follows it is only counted
                    self.after_end = after_end(reader, self.fd_reader)
                    break
        except Stopped:
            pass
        except StreamError as exc:
            self.error = exc
        except OSError as exc:
            self.error = StreamError(f"{reader.name}: read error: {exc.strerror or exc}")
        except Exception as exc:  # a check the reader lacks: still an error, never an END
            self.error = reader.damaged(reader.at, f"{type(exc).__name__}: {exc}")
        finally:
            self._finished.set()


def after_end(reader: StreamReader, fd_reader: FdReader) -> str | None:
    """One line on what follows ``reader``'s END record (ignored: a stream ends there), or
    None when nothing does. Another stream there is a second session appended to the file
    (``livespec stream >> FILE``): the line says how to view it. Reader thread, or the
    main thread for ``--dump``; raises :class:`Stopped` when stopped."""
    n, head = fd_reader.rest()
    if n == 0:
        return None
    name, at = printable(reader.name), reader.offset
    said = f"{name}: {counted(n, 'byte')} after the END record (at byte {at}) ignored"
    if head != MAGIC:
        return f"{said}: not a livespec stream"
    if name == "stdin" or not stat.S_ISREG(os.fstat(fd_reader.fd).st_mode):  # a pipe, ssh
        return f"{said}: another stream follows (shown: only the first)"
    return (
        f"{said}: another stream follows (two sessions in one file: 'livespec stream >> "
        f"FILE' appends); view it with: tail -c +{at + 1} {shlex.quote(name)} | livespec view -"
    )
