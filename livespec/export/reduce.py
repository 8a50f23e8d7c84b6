"""Rows and columns of an export image before it is drawn: log-spaced frequency rows
(:class:`LogRows`) and the reduction of many frames (and rows) to about the image's size
(:class:`TimeReducer`). :mod:`.image` re-exports both.

Pure code (numpy); any thread, one object at a time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.scales import FreqScale, log_band_edges

F32 = NDArray[np.float32]


# -- log-spaced rows --------------------------------------------------------------------


class LogRows:
    """Maps rows of FFT bins to ``rows`` log-spaced image rows between ``f_lo`` and
    ``f_hi`` Hz: a row that contains bin centres shows the loudest of them; a row narrower
    than a bin interpolates (in dB) between its neighbours. Any thread, one at a time."""

    def __init__(self, bin_hz: float, bins: int, f_lo: float, f_hi: float, rows: int) -> None:
        self.scale = FreqScale("log", rows, f_lo, f_hi)
        edges = log_band_edges(f_lo, f_hi, rows)
        centres = np.sqrt(edges[:-1] * edges[1:])
        pos = np.clip(centres / bin_hz, 0.0, bins - 1.0)
        self._i0 = np.minimum(np.floor(pos).astype(np.intp), bins - 2)
        self._w = (pos - self._i0).astype(np.float32)
        first = np.ceil(edges / bin_hz - 1e-9).astype(np.intp)  # first bin at/after each edge
        first = np.clip(first, 0, bins)
        counts = first[1:] - first[:-1]
        self._full = np.flatnonzero(counts > 0)
        self._starts = first[:-1][self._full]
        self._stop = int(first[1:][self._full][-1]) if self._full.size else 0
        self.rows = rows

    def __call__(self, levels: F32) -> F32:
        """(f, bins) dB rows -> (f, rows) dB rows (a new array)."""
        a = levels[:, self._i0]
        b = levels[:, self._i0 + 1]
        out: F32 = a + (b - a) * self._w
        if self._full.size:
            out[:, self._full] = np.maximum.reduceat(levels[:, : self._stop], self._starts, axis=1)
        return out


# -- time reduction ------------------------------------------------------------------------


class TimeReducer:
    """Collects image columns (one per frame) and averages runs of ``group`` frames (in dB)
    so a long input needs memory in proportion to the image, not to its length. When the
    target height is under a quarter of the rows, runs of ``row_group`` rows are averaged
    too. Pillow then resamples the (at most about 2x) larger result to the target size.

    With ``pool`` = (frames, rows) per pixel, runs are reduced by their maximum instead,
    exactly that many per pixel (the width and height cap of an image without ``--size``).

    Args:
        frames: total frames that will be added.
        rows: values per frame.
        size: the (width, height) wanted in the end, or None to keep everything.
        pool: max-pool runs of this many (frames, rows), or None.
    """

    def __init__(
        self,
        frames: int,
        rows: int,
        size: tuple[int, int] | None,
        pool: tuple[int, int] | None = None,
    ) -> None:
        self.frames = frames
        self.rows_in = rows
        w, h = size if size is not None else (frames, rows)
        self.group = 1 if frames <= 4 * w else frames // (2 * w)
        self.row_group = 1 if rows <= 4 * h else rows // (2 * h)
        self._max = pool is not None
        if pool is not None:
            self.group, self.row_group = pool
        self.pooled = pool is not None
        self.cols = -(-frames // self.group)
        self.rows = -(-rows // self.row_group)
        self._row_starts = np.arange(0, rows, self.row_group)
        self._row_counts = np.minimum(self.row_group, rows - self._row_starts).astype(np.float32)
        if self._max:
            self._sum = np.full((self.cols, self.rows), -np.inf, dtype=np.float32)
        else:  # calloc'd: pages are mapped as they are written
            self._sum = np.zeros((self.cols, self.rows), dtype=np.float32)
        self._next = 0

    def share(self) -> None:
        """Keep the sums in memory shared with processes forked after this call (an
        anonymous shared map, :mod:`.forked`): a child's :meth:`add` then reaches this
        process. Call before any process adds to it; the pages are mapped as written."""
        import mmap

        shape = self._sum.shape
        buf = mmap.mmap(-1, max(1, self._sum.nbytes))  # MAP_SHARED, zero-filled
        shared = np.frombuffer(buf, dtype=np.float32, count=self._sum.size).reshape(shape)
        if self._max or self._next:
            np.copyto(shared, self._sum)
        self._sum = shared

    def add(self, rows: F32, at: int | None = None) -> None:
        """Append the next ``rows`` (f, rows) frames, or put them at frame ``at``: the
        parts of an analysis split between threads each add their own frames, starting at
        a multiple of ``group`` (so they touch disjoint columns)."""
        if self.row_group > 1:
            rows = _row_runs(rows, self.row_group, self._max)
            if not self._max:
                rows /= self._row_counts
        f = rows.shape[0]
        k0 = self._next if at is None else at
        if self.group == 1:
            self._sum[k0 : k0 + f] = rows
        else:
            g = self.group
            idx = np.arange(k0, k0 + f)
            starts = np.flatnonzero((idx % g == 0) | (idx == k0))
            cols = idx[starts] // g
            if self._max:
                self._sum[cols] = np.maximum(
                    self._sum[cols], np.maximum.reduceat(rows, starts, axis=0)
                )
            else:
                self._sum[cols] += np.add.reduceat(rows, starts, axis=0)
        self._next = k0 + f

    def add_sums(self, c0: int, sums: NDArray[np.float64]) -> None:
        """Add ``sums`` (n, rows): for each of columns ``c0..c0+n``, the sum over some
        of its frames of their row-averaged levels (what :meth:`add` accumulates;
        :mod:`.dbmean` computes it from powers)."""
        view = self._sum[c0 : c0 + sums.shape[0]]
        np.add(view, sums, out=view, casting="same_kind")

    def take(self) -> F32:
        """:meth:`result`, after which the reducer keeps no reference to it (the caller's
        array is the only one, so dropping it frees the memory)."""
        out = self.result()
        self._sum = np.empty((0, self.rows), dtype=np.float32)
        return out

    def result(self) -> F32:
        """The (cols, rows) float32 dB image, columns in time order (the internal array)."""
        if self.group > 1 and not self._max:
            counts = np.minimum(self.group, self.frames - np.arange(self.cols) * self.group)
            self._sum /= counts[:, None].astype(np.float32)
            self.group = 1  # result() is idempotent
        return self._sum


def _row_runs(a: F32, g: int, peak: bool) -> F32:
    """Sums (or maxima with ``peak``) of runs of ``g`` columns of ``a`` (f, rows), the last
    run possibly shorter: a new (f, ceil(rows / g)) array. The maxima equal
    ``np.maximum.reduceat`` over the runs, the sums ``np.add.reduceat``'s up to float32
    rounding (exactly for runs of 2); about ten times faster, by strided whole-array
    operations instead of one tiny reduction per run."""
    f, n = a.shape
    full = n // g
    out = np.empty((f, -(-n // g)), dtype=np.float32)
    op = np.maximum if peak else np.add
    head = out[:, :full]
    if full:
        op(a[:, 0 : full * g : g], a[:, 1 : full * g : g], out=head)
        for j in range(2, g):
            op(head, a[:, j : full * g : g], out=head)
    if full * g < n:  # the shorter last run
        tail = a[:, full * g :]
        out[:, full] = tail.max(axis=1) if peak else tail.sum(axis=1)
    return out
