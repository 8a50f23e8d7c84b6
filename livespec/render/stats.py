"""Numbers for the readout and the level meter, gathered from frames on the UI thread."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class PeakLike(Protocol):
    """What the readout needs of :class:`livespec.dsp.peaks.Peak` (read-only)."""

    @property
    def freq_hz(self) -> float:
        """Hz."""

    @property
    def level_dbfs(self) -> float:
        """dBFS."""

    @property
    def note(self) -> str:
        """Nearest note name."""

    @property
    def cents(self) -> float:
        """Deviation from the note, cents."""


class FrameLike(Protocol):
    """What the stats need of :class:`livespec.engine.Frame`."""

    @property
    def peaks(self) -> Sequence[PeakLike]:
        """Peaks, loudest first."""

    @property
    def rms_dbfs(self) -> float:
        """RMS level, dBFS."""

    @property
    def peak_dbfs(self) -> float:
        """Loudest sample, dBFS."""

    @property
    def t(self) -> float:
        """Frame time, s."""

    @property
    def overflows(self) -> int:
        """Input overflows so far."""

    @property
    def lost_frames(self) -> int:
        """Frames lost so far."""


CLIP_DBFS = -0.01  # a sample this close to full scale counts as clipping
CLIP_HOLD_S = 2.0  # seconds the clip indicator stays lit (frame time)


@dataclass
class Stats:
    """Peak readout, peak hold, levels and counters of the newest frames."""

    peaks: tuple[PeakLike, ...] = ()
    hold: PeakLike | None = None  # the loudest peak since the last reset
    rms_dbfs: float = -math.inf
    peak_dbfs: float = -math.inf  # loudest sample among the frames of the last tick
    clip_until: float = -math.inf  # frame time until which CLIP shows
    t: float = 0.0  # time of the newest frame, s
    frames: int = 0
    overflows: int = 0
    lost_frames: int = 0
    ticks: list[float] = field(default_factory=list)  # times of recent screen updates
    now: float = 0.0  # clock time of the newest screen update, s
    frames_at: float = 0.0  # clock time of the screen update that took the newest frames, s
    _fresh: bool = False  # frames came since the last screen update

    def update(self, frames: Sequence[FrameLike]) -> None:
        """Take the newest ``frames`` (engine Frames, oldest first)."""
        if not frames:
            return
        last = frames[-1]
        self.peaks = tuple(last.peaks)
        self.rms_dbfs = float(last.rms_dbfs)
        self.peak_dbfs = max(float(f.peak_dbfs) for f in frames)
        self.t = float(last.t)
        self._fresh = True
        self.frames += len(frames)
        for f in frames:
            if f.peak_dbfs >= CLIP_DBFS:
                self.clip_until = float(f.t) + CLIP_HOLD_S
            if f.peaks and (self.hold is None or f.peaks[0].level_dbfs > self.hold.level_dbfs):
                self.hold = f.peaks[0]

    def counters(self, frame: FrameLike) -> None:
        """Take the cumulative counters of the newest frame (also while paused)."""
        self.overflows = int(frame.overflows)
        self.lost_frames = int(frame.lost_frames)

    @property
    def clipping(self) -> bool:
        """True while the clip indicator is lit: ``CLIP_HOLD_S`` of frame time, and once
        no frames come (the input ended, a pause), of clock time since the last came."""
        return self.t + max(0.0, self.now - self.frames_at) < self.clip_until

    def reset_hold(self) -> None:
        """Forget the held peak and the clip indicator."""
        self.hold = None
        self.clip_until = -math.inf

    def tick(self, now: float) -> None:
        """Count one screen update at ``now`` (s, monotonic)."""
        self.now = now
        if self._fresh:
            self.frames_at, self._fresh = now, False
        self.ticks.append(now)
        while self.ticks and self.ticks[0] < now - 1.0:
            self.ticks.pop(0)

    def fps(self) -> float:
        """Screen updates per second over the last second: the intervals between its
        updates per second of their span (a count of the updates in a closed one-second
        window reads one too many whenever the first lies on its edge, 31 at 30/s);
        the count itself while they span less than half a second (start-up, a stall)."""
        t = self.ticks
        span = t[-1] - t[0] if t else 0.0
        if span < 0.5:
            return float(len(t))
        return (len(t) - 1) / span
