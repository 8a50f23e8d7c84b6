"""Averaging of power spectra: exponential, linear (running or block) and peak hold.

All work in the power domain (linear power per bin, never dB): averaging dB values would
bias noise low by 2.5 dB (the mean of the log of a chi-square variable). Each averager owns
preallocated float64 buffers of ``bins`` values; :meth:`update` takes one frame's power
row and returns the current result, an internal buffer valid until the next call. Build and
use one averager from one thread (the engine's worker thread, or a headless caller).
:func:`parse_average` turns the command line's ``exp:TAU``, ``lin:N``, ``block``,
``peak`` or ``none`` into an :class:`AverageSpec`; :func:`make_averager` builds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

PowerRow = NDArray[np.float64]


class Averager(Protocol):
    """What every averager offers (frames of power per bin in, averaged power out)."""

    @property
    def count(self) -> int:
        """Frames that went into the current result."""
        ...

    def update(self, power: PowerRow) -> PowerRow:
        """Add one frame; return the current result (internal buffer). Caller's thread."""
        ...

    def reset(self) -> None:
        """Forget every frame."""
        ...


def _check_row(power: PowerRow, bins: int) -> None:
    if power.shape != (bins,):
        raise ValueError(f"expected a power row of {bins} bins, got shape {power.shape}")


class NoAverager:
    """No averaging: the result is the last frame (copied)."""

    def __init__(self, bins: int) -> None:
        self.bins = int(bins)
        self._out = np.zeros(self.bins)
        self._count = 0

    @property
    def count(self) -> int:
        """1 after the first frame, 0 before it."""
        return self._count

    def update(self, power: PowerRow) -> PowerRow:
        """Keep ``power`` (linear power per bin); return it. Caller's thread."""
        _check_row(power, self.bins)
        self._out[:] = power
        self._count = 1
        return self._out

    def reset(self) -> None:
        """Forget the last frame."""
        self._out.fill(0.0)
        self._count = 0


class ExponentialAverager:
    """Exponential averaging with a time constant: ``y += alpha * (x - y)``.

    ``alpha = 1 - exp(-frame_period_s / time_constant_s)``, so a step change settles to
    1/e of its size after ``time_constant_s`` seconds whatever the frame rate. The first
    frame after a reset initialises the average (no ramp up from zero), and until
    ``1/alpha`` frames have been seen the weight is ``1/count`` instead (a plain mean), so
    the start is not dominated by the first frame.

    Args:
        bins: values per row.
        time_constant_s: seconds (> 0).
        frame_period_s: seconds between frames (hop / samplerate, > 0).
    """

    def __init__(self, bins: int, time_constant_s: float, frame_period_s: float) -> None:
        if not (time_constant_s > 0.0 and frame_period_s > 0.0):
            raise ValueError(
                f"time constant and frame period must be positive (s), got "
                f"{time_constant_s} and {frame_period_s}"
            )
        self.bins = int(bins)
        self.time_constant_s = float(time_constant_s)
        self.frame_period_s = float(frame_period_s)
        self.alpha = -math.expm1(-self.frame_period_s / self.time_constant_s)
        self._avg = np.zeros(self.bins)
        self._tmp = np.empty(self.bins)
        self._count = 0

    @property
    def count(self) -> int:
        """Frames seen since the last reset."""
        return self._count

    def update(self, power: PowerRow) -> PowerRow:
        """Add one frame of linear power per bin; return the average. Caller's thread."""
        _check_row(power, self.bins)
        self._count += 1
        weight = max(self.alpha, 1.0 / self._count)
        tmp = self._tmp
        np.subtract(power, self._avg, out=tmp)
        tmp *= weight
        self._avg += tmp
        return self._avg

    def reset(self) -> None:
        """Forget every frame."""
        self._avg.fill(0.0)
        self._count = 0


class LinearAverager:
    """The mean of N frames, either running (the last N) or block by block.

    Running: the result is the mean of the last ``min(count, n_frames)`` frames, kept as a
    ring of N rows and their sum (the sum is recomputed from the ring every N frames so
    rounding cannot accumulate). Block: frames are summed until N have been seen, then the
    mean is published and the sum restarts; until the first block is complete the result is
    the mean of the frames so far, afterwards the last complete block (:attr:`ready` tells).

    Args:
        bins: values per row.
        n_frames: N (>= 1).
        running: running (True) or block (False) average.
    """

    def __init__(self, bins: int, n_frames: int, running: bool = True) -> None:
        if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 1:
            raise ValueError(f"n_frames must be an integer >= 1, got {n_frames}")
        self.bins = int(bins)
        self.n_frames = int(n_frames)
        self.running = bool(running)
        self._ring = np.zeros((self.n_frames, self.bins)) if running else np.zeros((0, 0))
        self._sum = np.zeros(self.bins)
        self._out = np.zeros(self.bins)
        self._count = 0  # frames in the current result
        self._seen = 0  # frames since reset
        self._in_block = 0
        self.ready = False  # the result covers n_frames frames

    @property
    def count(self) -> int:
        """Frames in the current result (at most n_frames)."""
        return self._count

    def update(self, power: PowerRow) -> PowerRow:
        """Add one frame of linear power per bin; return the mean. Caller's thread."""
        _check_row(power, self.bins)
        n = self.n_frames
        if self.running:
            slot = self._seen % n
            row = self._ring[slot]
            if self._seen >= n:
                self._sum -= row
            row[:] = power
            self._seen += 1
            if slot == n - 1:  # a full turn: refresh the sum exactly
                np.sum(self._ring, axis=0, out=self._sum)
            else:
                self._sum += power
            self._count = min(self._seen, n)
            np.multiply(self._sum, 1.0 / self._count, out=self._out)
            self.ready = self._count == n
            return self._out
        self._sum += power
        self._in_block += 1
        self._seen += 1
        if self._in_block == n:
            np.multiply(self._sum, 1.0 / n, out=self._out)
            self._sum.fill(0.0)
            self._in_block = 0
            self._count = n
            self.ready = True
        elif not self.ready:
            np.multiply(self._sum, 1.0 / self._in_block, out=self._out)
            self._count = self._in_block
        return self._out

    def reset(self) -> None:
        """Forget every frame."""
        self._sum.fill(0.0)
        self._out.fill(0.0)
        self._count = self._seen = self._in_block = 0
        self.ready = False


class CumulativeAverager:
    """The mean of every frame since the last :meth:`reset` (a block average whose block
    the caller ends, e.g. one measurement interval)."""

    def __init__(self, bins: int) -> None:
        self.bins = int(bins)
        self._sum = np.zeros(self.bins)
        self._out = np.zeros(self.bins)
        self._count = 0

    @property
    def count(self) -> int:
        """Frames since the last reset."""
        return self._count

    def update(self, power: PowerRow) -> PowerRow:
        """Add one frame of linear power per bin; return the mean so far. Caller's thread."""
        _check_row(power, self.bins)
        self._sum += power
        self._count += 1
        np.multiply(self._sum, 1.0 / self._count, out=self._out)
        return self._out

    def reset(self) -> None:
        """Forget every frame (start a new block)."""
        self._sum.fill(0.0)
        self._out.fill(0.0)
        self._count = 0


class PeakHold:
    """The largest power seen in each bin since the last :meth:`reset`.

    Note that held noise reads high (the maximum of many noisy frames), so measurements on a
    peak-held spectrum overstate noise; it is meant for catching intermittent tones.
    """

    def __init__(self, bins: int) -> None:
        self.bins = int(bins)
        self._max = np.zeros(self.bins)
        self._count = 0

    @property
    def count(self) -> int:
        """Frames seen since the last reset."""
        return self._count

    def update(self, power: PowerRow) -> PowerRow:
        """Add one frame of linear power per bin; return the held maxima. Caller's thread."""
        _check_row(power, self.bins)
        if self._count == 0:
            self._max[:] = power
        else:
            np.maximum(self._max, power, out=self._max)
        self._count += 1
        return self._max

    def reset(self) -> None:
        """Forget the held maxima."""
        self._max.fill(0.0)
        self._count = 0


@dataclass(frozen=True, slots=True)
class AverageSpec:
    """A parsed averaging choice.

    Attributes:
        kind: "none", "exp", "lin" (running mean of N frames), "block" (mean since the
            last reset) or "peak".
        time_constant_s: for "exp" (s).
        n_frames: for "lin" (frames; 0 = not used).
    """

    kind: str
    time_constant_s: float = 0.0
    n_frames: int = 0

    def describe(self) -> str:
        """A short text, e.g. ``"exp:0.5"`` (the form :func:`parse_average` reads)."""
        if self.kind == "exp":
            return f"exp:{self.time_constant_s:g}"
        if self.kind == "lin":
            return f"lin:{self.n_frames}"
        return self.kind


def parse_average(text: str) -> AverageSpec:
    """Parse ``none``, ``block``, ``peak``, ``exp:TAU`` (seconds) or ``lin:N`` (frames).

    Raises:
        ValueError: anything else (the message says what is allowed).
    """
    t = text.strip().lower()
    if t in ("none", "block", "peak"):
        return AverageSpec(t)
    kind, _, arg = t.partition(":")
    try:
        if kind == "exp":
            tau = float(arg)
            if math.isfinite(tau) and tau > 0.0:
                return AverageSpec("exp", time_constant_s=tau)
        elif kind == "lin":
            n = int(arg)
            if n >= 1:
                return AverageSpec("lin", n_frames=n)
    except ValueError:
        pass
    raise ValueError(
        f"{text!r}: averaging must be none, block, peak, exp:SECONDS (> 0) or lin:FRAMES (>= 1)"
    )


def make_averager(spec: AverageSpec, bins: int, frame_period_s: float) -> Averager:
    """Build the averager ``spec`` names for rows of ``bins`` values.

    "block" is a :class:`CumulativeAverager` (the caller resets it when a block ends, e.g.
    per measurement interval); "peak" a :class:`PeakHold`; "none" a :class:`NoAverager`.

    Args:
        spec: from :func:`parse_average`.
        bins: values per row.
        frame_period_s: seconds between frames (for "exp").
    """
    if spec.kind == "exp":
        return ExponentialAverager(bins, spec.time_constant_s, frame_period_s)
    if spec.kind == "lin":
        return LinearAverager(bins, spec.n_frames, running=True)
    if spec.kind == "block":
        return CumulativeAverager(bins)
    if spec.kind == "peak":
        return PeakHold(bins)
    return NoAverager(bins)
