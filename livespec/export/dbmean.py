"""Mean dB levels of a PNG's pixels from powers: one logarithm per run of values.

A PNG of a long input averages runs of ``group`` frames and ``row_group`` FFT bins of dB
levels (:class:`~livespec.export.reduce.TimeReducer`). The mean of ``10*log10(s*p)`` over
a run of k powers is ``10*log10(prod(p)) / k`` plus the mean of ``10*log10(s)``, so
:class:`PowerMeans` multiplies the powers of each run (float64) and takes one logarithm
per run instead of one per value: for the default 2048x512 image of 4096-point frames,
12 values per logarithm, and no per-value scaling, rounding to float32 or summing of
levels. The floor is the same (``max(s*p, floor)``, as ``max(p, floor/s)``). A run holds
at most ``max_factors`` values, so that a product of floored powers cannot underflow; a
product that overflows (samples far above full scale with ``--raw-int``) is redone value
by value. The sums differ from those of the per-value levels by float rounding only
(about 1e-5 dB, against 0.47 dB per level of the default 120 dB colour range): a pixel
can move by one level, rarely (tests/test_export_dbmean.py compares the images).

:func:`level_extremes` gives the per-frame extremes (``--db-ref max``, ``--top-db``, a
colour range from the data) exactly as the per-value levels would.

Caller's thread; one instance per thread (the parts of a split analysis each have their
own, adding to disjoint columns of one reducer).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from livespec.export.reduce import TimeReducer

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
DB_PER_NEPER = 10.0 / math.log(10.0)
MAX_DECADES = 300.0  # decades a product of floored powers may span below 1 (float64: 307)


def max_factors(floor: float) -> int:
    """Powers per product such that a product of floored values stays a normal float64."""
    return max(1, int(MAX_DECADES // max(1.0, -math.log10(floor))))


def run_batch(group: int, row_group: int, floor: float, batch: int) -> int:
    """Frames per analysis batch for :class:`PowerMeans`: a multiple of ``group`` near
    ``batch`` when whole groups fit in a product, so each group is one run of one batch."""
    if group * row_group > max_factors(floor) or group > 2 * batch:
        return batch
    return group * max(1, batch // group)


class PowerMeans:
    """Adds the levels of powers to a :class:`TimeReducer` (mean of dB over runs).

    Args:
        reducer: the PNG's reducer (averaging, not max-pooling; its ``rows_in`` are bins).
        scale: per-bin factor on ``|X|**2`` (:func:`~livespec.export.dsp.power_scale`),
            or None.
        floor: power floor before the logarithm (after scaling).
        log: the analyzer's per-value logarithm (float32 powers -> dB, in place), for
            :meth:`extremes`.
        batch: the most frames :meth:`add` is given at once (its buffers' size: nothing is
            allocated per call but a few small index arrays).
    """

    def __init__(
        self,
        reducer: TimeReducer,
        scale: F64 | None,
        floor: float,
        log: Callable[[F32], None],
        batch: int,
    ) -> None:
        bins = reducer.rows_in
        self.reducer = reducer
        self.group = reducer.group
        self.row_group = rg = reducer.row_group
        s = np.ones(bins) if scale is None else np.asarray(scale, dtype=np.float64)
        self._scale = s
        self._thr: F64 = floor / s  # max(p, floor / s) * s == max(s * p, floor)
        self._thr_max = float(self._thr.max())
        self._floor = floor
        starts = np.arange(0, bins, rg)
        self._starts = starts
        counts = np.minimum(rg, bins - starts)
        self._lns_row: F64 = np.add.reduceat(np.log(s), starts)  # sum of ln(s) per row
        self._lns_group: F64 = float(reducer.group) * self._lns_row  # ... of a whole group
        self._per_row: F64 = DB_PER_NEPER / counts.astype(np.float64)
        self.tmax = max(1, max_factors(floor) // rg)  # frames per product
        self._log = log
        # Runs of bins with one scale value: the extremes of p there give those of s*p.
        edges = np.flatnonzero(np.diff(s) != 0) + 1
        bounds = [0, *edges.tolist(), bins]
        self._same = [(a, b, float(s[a])) for a, b in itertools.pairwise(bounds)]
        self._prod = np.empty((batch, bins), dtype=np.float64)
        self._rows = np.empty((batch, starts.shape[0]), dtype=np.float64)
        self._tmp = np.empty_like(self._rows)

    def extremes(self, p: F64) -> tuple[float, float]:
        """(min, max) of the dB levels of powers ``p`` (f, bins), unscaled: exactly those
        of :meth:`~livespec.export.dsp.BatchAnalyzer.process` (every step from the power
        to the level is monotone, and so is rounding a product)."""
        lo, hi = math.inf, -math.inf
        for a, b, s in self._same:
            part = p[:, a:b]
            lo = min(lo, float(part.min()) * s)
            hi = max(hi, float(part.max()) * s)
        v = np.array([lo, hi], dtype=np.float64).astype(np.float32)
        self._log(v)
        return float(v[0]), float(v[1])

    def add(self, p: F64, k0: int) -> None:
        """Add frames ``k0..k0+f`` (their unscaled powers ``p`` (f, bins), overwritten).
        Runs end at each group boundary and after ``tmax`` frames."""
        f = p.shape[0]
        g = self.group
        if p.min() < self._thr_max:  # rare (digital silence): one pass otherwise
            np.maximum(p, self._thr, out=p)
        if g <= self.tmax and k0 % g == 0 and f % g == 0:  # whole groups: one run a column
            self._whole_groups(p, k0 // g, f // g)
            return
        idx = np.arange(k0, k0 + f)
        starts = np.flatnonzero(((idx % g) % self.tmax == 0) | (idx == k0))
        runs = starts.shape[0]
        prod = self._prod[:runs]
        with np.errstate(over="ignore"):
            np.multiply.reduceat(p, starts, axis=0, out=prod)
        lengths = np.diff(np.append(starts, f)).astype(np.float64)
        cols = idx[starts] // g
        rows = self._rows[:runs] if self.row_group > 1 else prod
        if self.row_group > 1:
            with np.errstate(over="ignore"):
                _row_products(prod, self.row_group, rows)
        np.log(rows, out=rows)
        if not math.isfinite(float(rows.sum())):  # a product overflowed: a log per value
            rows = self._sum_logs(p, lengths)
        if lengths[0] == lengths[-1] and (runs < 3 or (lengths == lengths[0]).all()):
            rows += lengths[0] * self._lns_row
        else:
            rows += np.multiply.outer(lengths, self._lns_row, out=self._tmp[:runs])
        rows *= self._per_row
        first = int(cols[0])
        if runs > 1 and (cols[1:] == cols[:-1]).any():  # runs of one column
            at = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
            rows = np.add.reduceat(rows, at, axis=0)
        self.reducer.add_sums(first, rows)

    def _whole_groups(self, p: F64, c0: int, runs: int) -> None:
        """:meth:`add` of ``runs`` whole groups from column ``c0``: the same arithmetic in
        the same order, with fewer numpy calls (each one a hand-over of the GIL when two
        parts run at once)."""
        g = self.group
        a = p.reshape(runs, g, p.shape[1])
        prod = a[:, 0]
        rows = prod
        with np.errstate(over="ignore"):
            if g > 1:
                prod = rows = self._prod[:runs]
                np.multiply.reduce(a, axis=1, out=prod)  # ((a0 * a1) * a2) ... as a loop
            if self.row_group > 1:
                rows = self._rows[:runs]
                _row_products(prod, self.row_group, rows)
        np.log(rows, out=rows)
        if not math.isfinite(float(rows.sum())):  # a product overflowed: a log per value
            rows = self._sum_logs(p, np.full(runs, g, dtype=np.float64))
        rows += self._lns_group
        rows *= self._per_row
        self.reducer.add_sums(c0, rows)

    def _sum_logs(self, p: F64, lengths: F64) -> F64:
        """Sums of ln(p) per run and row, one logarithm per value (the overflow case)."""
        logs = np.log(p)
        ends = np.cumsum(lengths).astype(np.intp)
        starts = np.r_[0, ends[:-1]]
        per_run = np.add.reduceat(logs, starts, axis=0)
        return np.add.reduceat(per_run, self._starts, axis=1)


def _row_products(a: F64, g: int, out: F64) -> None:
    """Products of runs of ``g`` columns of ``a`` (n, bins), the last possibly shorter,
    into ``out`` (n, ceil(bins / g))."""
    bins = a.shape[1]
    full = bins // g
    head = out[:, :full]
    if full:
        np.multiply(a[:, 0 : full * g : g], a[:, 1 : full * g : g], out=head)
        for j in range(2, g):
            np.multiply(head, a[:, j : full * g : g], out=head)
    if full * g == bins - 1:  # one value left (the Nyquist bin of an even FFT)
        np.copyto(out[:, full], a[:, full * g])
    elif full * g < bins:
        np.prod(a[:, full * g :], axis=1, out=out[:, full])
