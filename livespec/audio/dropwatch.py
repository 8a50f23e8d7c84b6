"""Audio the sound system dropped without saying so, found by comparing clocks.

When livespec's process stalls for longer than the sound server buffers for it (Ctrl-Z
then ``fg``, SIGSTOP/SIGCONT, a suspended VM; PulseAudio keeps 4 MiB per record stream,
21.8 s of float32 mono at 48 kHz), the server discards audio and ALSA's ``pulse`` plugin
reports no overrun, so PortAudio sets no input-overflow flag. The loss still shows: the
frames delivered fall behind the clock. :class:`DropWatch` compares, outside the audio
callback, the monotonic time of the ring's last write with the frames written so far:

    offset = last_write_time - written / samplerate

is constant for a device whose clock keeps time with ``time.monotonic()`` (it moves by the
delivery jitter, tens of ms, and slowly by the clock drift); a loss of N seconds raises it
by N seconds for good. A backlog arriving after a stall lowers it again as it drains, so a
rise is reported only once it has stopped falling (:attr:`DropWatch.settle_s`).

``stream.time`` (PortAudio's stream clock, which the callback's ADC times use) is not used:
with ALSA it is the wall clock (``CLOCK_REALTIME``, measured: it differs from
``time.monotonic()`` by a constant), which NTP and the user may step, and calling it from a
second thread queries the ALSA device beside the callback.

The caller (the watchdog's poll, the app's tick) calls :meth:`DropWatch.update`; one
thread at a time (a lock serialises callers), never the audio callback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

THRESHOLD_S = 0.25  # smallest loss reported (above the delivery jitter: ~40 ms measured)
DRIFT_PPM = 1000.0  # the baseline follows a clock that runs slow by up to this much
SETTLE_S = 1.0  # a rise is final once it has not fallen by SETTLE_TOL_S for this long
SETTLE_TOL_S = 0.05
HOLD_MAX_S = 5.0  # a recording holds back for a suspected loss at most this long


@dataclass(frozen=True, slots=True)
class Drop:
    """A loss the sound system did not flag, found by :class:`DropWatch`.

    Attributes:
        seconds: estimated length of the loss, s (± the delivery jitter, ~0.05 s).
        index: ring index (frames written) when the loss was found.
        after: ring index of the last write seen before it: the loss lies after this...
        before: ...and before this ring index (the frames delivered since the stall
            ended are after it); PulseAudio drops the newest audio when a stalled
            client's buffer is full, so the loss is at ``before``.
        detected_at: ``time.time()`` when it was found (epoch seconds).
        flagged: PortAudio also set an input-overflow flag meanwhile (an ALSA driver
            does after an overrun; PulseAudio does not), so the overflow was counted.
    """

    seconds: float
    index: int
    after: int
    before: int
    detected_at: float
    flagged: bool = False

    @property
    def text(self) -> str:
        """The one line that reports it (without a ``livespec:`` prefix)."""
        if self.flagged:
            return f"input dropped: an input overflow lost about {self.seconds:.1f} s of audio"
        return (
            f"input dropped: the sound system discarded about {self.seconds:.1f} s of "
            "audio (livespec was stalled longer than its buffer); counted as an overflow"
        )


class DropWatch:
    """Finds losses the sound system did not flag (see the module's docstring).

    Args:
        samplerate: the device's rate, Hz.
        threshold_s: smallest rise (s) reported; the caller raises it for a large input
            latency (PortAudio may deliver a latency's worth in a burst).
        drift_ppm: how fast (parts per million of elapsed time) the baseline may rise
            without a report: a device clock slower than the system's by less than this
            is never taken for a loss.
        settle_s: seconds a rise must stop falling before it is reported.
        clock: the monotonic clock (``time.monotonic``; replaceable in tests).
        wall: the wall clock for :attr:`Drop.detected_at` (``time.time``).
    """

    def __init__(
        self,
        samplerate: int,
        *,
        threshold_s: float = THRESHOLD_S,
        drift_ppm: float = DRIFT_PPM,
        settle_s: float = SETTLE_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.fs = float(samplerate)
        self.threshold_s = threshold_s
        self.drift = drift_ppm * 1e-6
        self.settle_s = settle_s
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget the baseline (a new stream; the next write starts a new one). Caller's
        thread."""
        self._base: float | None = None  # the offset of an intact timeline, s
        self._base_at = 0.0  # monotonic time the baseline was last moved
        self._good = 0  # ring index of the last update without a rise
        self._cand: float | None = None  # smallest offset since a rise began
        self._cand_at = 0.0  # monotonic time it last fell by SETTLE_TOL_S
        self._first = 0.0  # monotonic time of the first update that saw the rise
        self._hold: int | None = None  # while a rise is pending: the fresh audio's start
        self._seen = 0.0  # monotonic time of the last update

    def hold(self) -> int | None:
        """While a rise is seen but not yet final (for at most :data:`HOLD_MAX_S`, and
        updated within the last 2 s): the ring index where the fresh audio after it
        begins, which a recording may write up to before the loss's silence goes in;
        else None. Any thread."""
        hold, now = self._hold, self._clock()
        if hold is None or now - self._seen > 2.0 or now - self._first > HOLD_MAX_S:
            return None
        return hold

    def update(self, written: int, last_write: float) -> Drop | None:
        """Take the ring's counters (``ring.written``, ``ring.last_write_time``) and
        return a :class:`Drop` once per loss, when it is final; else None. Caller's
        thread (never the audio callback)."""
        with self._lock:
            return self._update(written, last_write, self._clock())

    def _update(self, written: int, last_write: float, now: float) -> Drop | None:
        if written <= 0 or not last_write:
            return None
        self._seen = now
        offset = last_write - written / self.fs
        if self._base is None:
            self._base, self._base_at, self._good = offset, now, written
            return None
        # The baseline follows the offset down at once (jitter only ever delays a write)
        # and up at most at the drift rate (a device clock a little slower than ours).
        base = min(offset, self._base + self.drift * (now - self._base_at))
        rise = offset - base
        if rise <= self.threshold_s:
            self._base, self._base_at, self._good, self._cand = base, now, written, None
            self._hold = None
            return None
        if self._cand is None:
            self._first = now
        # The audio delivered since the rise was first seen is fresh: the loss is before
        # it (never moved back: a recording may have written up to it).
        fresh = written - round((now - self._first) * self.fs)
        before = max(self._good, fresh, self._hold or 0)
        self._hold = before
        if self._cand is None or offset < self._cand - SETTLE_TOL_S:
            self._cand, self._cand_at = offset, now
            return None
        self._cand = min(self._cand, offset)
        if now - self._cand_at < self.settle_s:
            return None
        drop = Drop(self._cand - self._base, written, self._good, before, self._wall())
        self._base, self._base_at, self._good, self._cand = self._cand, now, written, None
        self._hold = None
        return drop
