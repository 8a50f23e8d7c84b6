"""Playing a recording: the clock that the file browser follows.

:class:`Playback` is what the browser (``livespec FILE`` / ``livespec play``) asks for the
time being heard and tells to play, pause, seek and loop. Two implementations:

- :class:`SilentPlayback` (here): no device; the position advances with the monotonic
  clock while playing. Used for ``--no-audio``, over SSH, and where no output device exists.
- the sound-card player (``livespec.audio.output``): a sounddevice ``OutputStream`` whose
  position is compensated for the output latency, so the playhead is where the sound is.

Every method may be called from any thread (the UI thread, usually); positions are in
seconds from the start of the file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Playback(Protocol):
    """A play position over a recording of ``duration`` seconds."""

    duration: float

    @property
    def error(self) -> str | None:
        """Why playback stopped for good (a damaged file, the output device gone), or None."""
        ...

    def position(self) -> float:
        """The time (s) being heard now, within ``[0, duration]``."""
        ...

    def playing(self) -> bool:
        """True while playing (not paused, not at the end)."""
        ...

    def play(self) -> None:
        """Start or resume from :meth:`position` (from 0 if at the end)."""
        ...

    def pause(self) -> None:
        """Stop advancing; :meth:`position` stays where the sound stopped."""
        ...

    def seek(self, seconds: float) -> None:
        """Move to ``seconds`` (clamped to the file, or to the loop region when one is set)."""
        ...

    def set_loop(self, start: float | None, end: float | None) -> None:
        """Repeat ``[start, end)`` (s) while playing; ``None``, ``None`` clears the loop."""
        ...

    def close(self) -> None:
        """Release the device (idempotent)."""
        ...


class SilentPlayback:
    """A :class:`Playback` without sound: the position follows ``clock`` (s, monotonic).

    Thread-safe; ``clock`` is injectable for tests."""

    error: str | None = None  # a clock never fails

    def __init__(self, duration: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not duration >= 0:
            raise ValueError(f"duration must be >= 0, got {duration!r}")
        self.duration = float(duration)
        self._clock = clock
        self._lock = threading.Lock()
        self._base = 0.0  # position (s) at _since
        self._since: float | None = None  # clock time when play started; None: paused
        self._loop: tuple[float, float] | None = None

    def _now(self) -> float:
        return float(self._clock())

    def _position_locked(self) -> float:
        if self._since is None:
            return self._base
        pos = self._base + (self._now() - self._since)
        if self._loop is not None:
            a, b = self._loop
            if pos >= b and b > a:
                pos = a + (pos - a) % (b - a)
        if pos >= self.duration:
            self._base, self._since = self.duration, None
            return self.duration
        return pos

    def position(self) -> float:
        with self._lock:
            return self._position_locked()

    def playing(self) -> bool:
        with self._lock:
            self._position_locked()
            return self._since is not None

    def play(self) -> None:
        with self._lock:
            if self._since is not None:
                return
            if self._base >= self.duration:
                self._base = self._loop[0] if self._loop else 0.0
            self._since = self._now()

    def pause(self) -> None:
        with self._lock:
            self._base = self._position_locked()
            self._since = None

    def seek(self, seconds: float) -> None:
        with self._lock:
            lo, hi = self._loop if self._loop else (0.0, self.duration)
            self._base = min(max(float(seconds), lo), hi)
            if self._since is not None:
                self._since = self._now()

    def set_loop(self, start: float | None, end: float | None) -> None:
        with self._lock:
            pos = self._position_locked()
            if start is None or end is None:
                self._loop = None
                return
            a = min(max(float(start), 0.0), self.duration)
            b = min(max(float(end), 0.0), self.duration)
            if b <= a:
                raise ValueError(f"loop end {b:g} s must be after its start {a:g} s")
            self._loop = (a, b)
            if not a <= pos < b:
                self._base = a
                if self._since is not None:
                    self._since = self._now()

    def close(self) -> None:
        self.pause()
