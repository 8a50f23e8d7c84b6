"""When a worker should wake to have its work ready just before a consumer's periodic tick.

The live app drains its frames on a screen tick (30 per second, 20 over SSH); frames made
between two ticks wait for the next one anyway, so its engine wakes once per tick, a little
before it (:class:`TickGrid`), instead of once per audio block: fewer wake-ups (each one
finds cold caches) and no added latency on the screen.
"""

from __future__ import annotations

import math

TICK_LEAD_S = 0.008  # the worker wakes this long before the tick (> the GIL switch interval, 5 ms)
WINDOW = 30  # ticks: the grid follows later ticks by the least lateness over so many
STEP_S = 0.0005  # and by at most this much per window


class TickGrid:
    """The schedule of a consumer's tick (period ``period`` s on a fixed grid, as Textual's
    timers keep), learnt from the times the consumer reports with :meth:`tick`.

    A tick is never early against its timer's grid, often late by a fraction of a
    millisecond, sometimes by several (a busy UI thread): the grid's phase follows a tick
    earlier than it at once, and later ones only by the least lateness of each
    ``WINDOW`` ticks, at most ``STEP_S`` at a time (a timer's grid does not move later;
    ticks late for a while must not move the worker's wake-up past the timer's). Written
    by the consumer's thread (:meth:`tick`: one float stored), read by the worker's
    (:meth:`next_wake`, which sees the latest tick).
    """

    def __init__(self, period: float, lead: float = TICK_LEAD_S) -> None:
        if not period > 0.0:
            raise ValueError(f"a tick period must be positive, not {period!r}")
        self.period = float(period)
        self.lead = float(lead)
        self._last = 0.0  # the consumer's latest tick (monotonic s; 0: none yet)
        self._seen = 0.0
        self._phase: float | None = None  # a time on the grid (worker's thread)
        self._least = math.inf  # the least lateness of this window's ticks (s)
        self._count = 0  # ticks in this window

    def tick(self, t: float) -> None:
        """The consumer ticked at ``t`` (monotonic seconds; the consumer's thread)."""
        self._last = t

    def phase(self) -> float | None:
        """A time on the grid (monotonic s), None before the first tick (worker's thread)."""
        t = self._last
        if t != self._seen:
            self._seen = t
            phase = self._phase
            if phase is None:
                self._phase = t
            else:
                grid = phase + round((t - phase) / self.period) * self.period
                late = t - grid
                if late < 0.0:  # the grid is earlier than thought
                    self._phase, self._least, self._count = t, math.inf, 0
                else:
                    self._least = min(self._least, late)
                    self._count += 1
                    if self._count >= WINDOW:
                        self._phase = grid + min(self._least, STEP_S)
                        self._least, self._count = math.inf, 0
        return self._phase

    def next_wake(self, now: float) -> float | None:
        """The first time after ``now`` that is ``lead`` s before a tick (monotonic s);
        None before the first tick (worker's thread)."""
        phase = self.phase()
        if phase is None:
            return None
        wake = phase - self.lead
        k = math.floor((now - wake) / self.period) + 1
        return wake + k * self.period
