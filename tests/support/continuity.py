"""Find every discontinuity in a capture of the virtual device's sample counter.

The counter signal (``VirtualAudio(..., counter=True)``) names each of its samples: sample
*n* is :func:`~support.virtual_audio.counter_sample` (n), exact in float32. In a capture,
consecutive samples therefore step by exactly +1 in :func:`counter_values`, except where
something went wrong. :func:`find_discontinuities` lists each such place with its position
in the capture and two lengths, which say what happened:

=============  ===========  =============================================================
``silent``     ``jump``     kind
=============  ===========  =============================================================
> 0            0            ``inserted``: silence added, nothing lost (the device's feeder
                            underran: PulseAudio played silence, then the signal went on)
> 0            == silent    ``filled``: frames lost and replaced by as much silence (what
                            ``livespec record`` does for a counted gap)
0              > 0          ``dropped``: frames missing, nothing in their place
any            < 0          ``repeated``: -jump frames delivered again
otherwise                   ``mixed``
=============  ===========  =============================================================

``jump`` is the number of signal frames missing between the last sample before the place
and the first one after it (negative: repeated). A run of two or more exact zeros is
silence (the ramp passes 0.0 once per period, alone). Silence before the first or after
the last counter sample is reported apart (a stream may start or end with it), not as a
discontinuity. Jumps are read modulo the counter's period (349.5 s at 48 kHz): a forward
jump of more than half of it would read as a repeat.

Matching two captures of the same device (:func:`match`) is by counter value, not by
position: an underrun of the device is at the same counter value in every capture of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from support.virtual_audio import COUNTER_BITS, COUNTER_PERIOD

_HALF = 1 << (COUNTER_BITS - 1)


@dataclass(frozen=True)
class Discontinuity:
    """One place where the counter does not step by +1.

    Attributes:
        pos: index in the capture of the first sample after the last good one (the first
            silent sample, or the first sample after the jump).
        silent: exact zeros at ``pos`` (0 if none).
        jump: signal frames missing across the place (negative: repeated).
        before: counter value of the last sample before the place.
    """

    pos: int
    silent: int
    jump: int
    before: int

    @property
    def kind(self) -> str:
        """``inserted``, ``filled``, ``dropped``, ``repeated`` or ``mixed`` (module doc)."""
        if self.jump < 0:
            return "repeated"
        if self.silent and not self.jump:
            return "inserted"
        if self.silent and self.jump == self.silent:
            return "filled"
        if self.jump and not self.silent:
            return "dropped"
        return "mixed"

    def __str__(self) -> str:
        return f"{self.kind} at sample {self.pos} (silent {self.silent}, jump {self.jump})"


@dataclass(frozen=True)
class Continuity:
    """What :func:`find_discontinuities` found.

    Attributes:
        events: every discontinuity, in order.
        lead: silent samples before the first counter sample.
        tail: silent samples after the last one.
        first: counter value of the first counter sample (-1 if the capture is all silence).
    """

    events: list[Discontinuity]
    lead: int
    tail: int
    first: int


def counter_values(x: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The counter value of each sample (vectorised
    :func:`~support.virtual_audio.counter_value`)."""
    a = np.asarray(x, dtype=np.float64)
    return (np.rint(a * _HALF).astype(np.int64) + _HALF) % COUNTER_PERIOD


def find_discontinuities(x: npt.ArrayLike) -> Continuity:
    """Every place in ``x`` (a 1-D capture of the counter, float) where it does not step
    by +1; see the module doc for what the fields mean."""
    a = np.asarray(x, dtype=np.float64).ravel()
    zero = a == 0.0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], zero.astype(np.int8), [0]])))
    silent = np.zeros(len(a), dtype=bool)
    runs: dict[int, int] = {}  # start -> length of each silent run (2 or more zeros)
    for s, e in zip(edges[::2], edges[1::2], strict=True):
        if e - s >= 2 or s == 0 or e == len(a):
            silent[s:e] = True
            runs[int(s)] = int(e - s)
    keep = np.flatnonzero(~silent)  # positions of counter samples
    if len(keep) == 0:
        return Continuity([], len(a), 0, -1)
    c = counter_values(a[keep])
    step = (np.diff(c) % COUNTER_PERIOD).astype(np.int64)
    step[step > COUNTER_PERIOD // 2] -= COUNTER_PERIOD  # backwards: a repeat
    events = []
    for i in np.flatnonzero((step != 1) | (np.diff(keep) != 1)):
        prev, nxt = int(keep[i]), int(keep[i + 1])
        n_silent = nxt - prev - 1
        pos = prev + 1
        if n_silent:
            assert runs.get(pos) == n_silent, (pos, n_silent)
        events.append(Discontinuity(pos, n_silent, int(step[i]) - 1, int(c[i])))
    lead, tail = int(keep[0]), len(a) - 1 - int(keep[-1])
    return Continuity(events, lead, tail, int(c[0]))


def match(
    events: list[Discontinuity], reference: list[Discontinuity], slack: int = 0
) -> tuple[list[Discontinuity], list[Discontinuity]]:
    """Split ``events`` into those also in ``reference`` (same kind, silent length and jump,
    counter value within ``slack``) and those that are not."""
    found, missing = [], []
    for e in events:
        if any(
            r.kind == e.kind
            and r.silent == e.silent
            and r.jump == e.jump
            and abs(
                (r.before - e.before + COUNTER_PERIOD // 2) % COUNTER_PERIOD - COUNTER_PERIOD // 2
            )
            <= slack
            for r in reference
        ):
            found.append(e)
        else:
            missing.append(e)
    return found, missing
