"""Paced streams: the viewer says how much it has read, the sender keeps little in flight.

Over SSH a write does not block until megabytes wait in the link (OpenSSH's channel window
is 2 MiB), so a stream faster than its link falls minutes behind before the sender's
outbox ever drops a frame (docs/ssh.md). ``livespec view --remote HOST`` therefore starts
``livespec stream --paced`` itself and writes back, on the remote side's stdin, the number
of stream bytes it has read so far: one ASCII decimal number per line. The sender writes
a record only while fewer than :func:`in_flight_budget` bytes are unacknowledged: half a
second of what the link carried lately (the acknowledgements' rate), at least 8 KB. While
it waits, its outbox keeps the newest few frames and drops (and counts) the older ones.
What waits in the link, and so the delay on screen, stays near half a second of the
link's own rate at any speed; a link that keeps up is never held (its rate follows the
stream's, so its budget does too).
"""

from __future__ import annotations

import collections
import contextlib
import os
import select
import threading
import time

ACK_BYTES = 4096  # the viewer acknowledges after at most this many bytes read...
ACK_S = 0.1  # ...or this long after its last acknowledgement, whichever comes first
MIN_IN_FLIGHT = 8 * 1024  # bytes the sender may have unacknowledged, at least...
IN_FLIGHT_S = 0.5  # ...or this many seconds of what the link carries, if that is more
RATE_WINDOW_S = 2.0  # the link's rate: bytes acknowledged over about this long
_LINE_MAX = 32  # an acknowledgement line is a number: longer lines are garbage


def in_flight_budget(link_rate: float | None) -> int:
    """Bytes the sender may have unacknowledged when the link lately carried
    ``link_rate`` bytes/s (None: not known yet): :data:`IN_FLIGHT_S` of it, at least
    :data:`MIN_IN_FLIGHT`."""
    return max(MIN_IN_FLIGHT, int((link_rate or 0.0) * IN_FLIGHT_S))


class AckReader:
    """The sender's side: a thread reads acknowledgements from ``fd`` (stdin).

    ``acked`` is the largest byte count the viewer reported; ``closed`` is set when the
    acknowledgements end (the viewer quit, the link dropped).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.acked = 0
        self.closed = False
        self._cond = threading.Condition()
        self._history: collections.deque[tuple[float, int]] = collections.deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livespec-stream-acks", daemon=True)

    def start(self) -> None:
        """Start the reading thread (main thread)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (main thread)."""
        self._stop.set()
        self._thread.join()

    def rate(self) -> float | None:
        """Bytes/s acknowledged over the last :data:`RATE_WINDOW_S` (None: too few
        acknowledgements yet); any thread."""
        with self._cond:
            history = self._history
            if len(history) < 2:
                return None
            (t0, a0), (t1, a1) = history[0], history[-1]
        return (a1 - a0) / (t1 - t0) if t1 - t0 >= 0.25 else None

    def wait_room(self, written: int, budget: int, timeout: float) -> bool:
        """True once fewer than ``budget`` of the ``written`` bytes are unacknowledged;
        False after ``timeout`` s or when the acknowledgements ended (writer thread)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while written - self.acked >= budget and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return not self.closed

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if not ready:
                    continue
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[-_LINE_MAX:]
            counts = [int(n) for n in lines if n.strip().isdigit() and len(n) <= _LINE_MAX]
            if counts:
                now = time.monotonic()
                with self._cond:
                    self.acked = max(self.acked, *counts)
                    history = self._history
                    history.append((now, self.acked))
                    while len(history) > 2 and now - history[1][0] >= RATE_WINDOW_S:
                        history.popleft()
                    self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class Acker:
    """The viewer's side: acknowledges what its reader has read, on ``fd`` (the pipe to the
    sender's stdin; reader thread). A full or broken pipe loses an acknowledgement, never
    blocks the reader: the next one carries the newer total."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._sent = 0
        self._when = 0.0
        self.broken = False

    def __call__(self, total: int) -> None:
        """``total`` stream bytes have been read so far."""
        now = time.monotonic()
        if self.broken or (total - self._sent < ACK_BYTES and now - self._when < ACK_S):
            return
        try:
            os.write(self.fd, b"%d\n" % total)
        except BlockingIOError:
            return
        except OSError:  # the sender is gone: its stream's end says so
            self.broken = True
            return
        self._sent, self._when = total, now

    def close(self) -> None:
        """Close the pipe: the sender sees the end of its acknowledgements and stops.
        Again does nothing (the number may have been reused)."""
        fd, self.fd = self.fd, -1
        self.broken = True
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
