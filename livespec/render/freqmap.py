"""The live view's frequency axis: FFT bins (or constant-Q bins) -> display pixels on a
scale, and its ticks.

The scale itself (Hz <-> position, the shown range, tick search) is
:mod:`livespec.dsp.scales`; this module resamples dB rows onto evenly spaced pixels of it.

Pure code (numpy only); called on the UI thread but thread-agnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from livespec.dsp.cqt import C1_HZ, CqtLayout
from livespec.dsp.scales import (
    from_scale,
    from_scale1,
    hz_ticks,
    scale_limits,
    tick_label,
    to_scale,
    to_scale1,
)

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass
class FreqMap:
    """Maps FFT bins to ``pixels`` display pixels (pixel 0 = lowest frequency).

    A pixel that spans one or more bin centres takes their maximum (a peak never falls
    between pixels); a pixel narrower than a bin interpolates linearly between bins.

    Args:
        scale: ``linear``, ``log`` or ``mel``.
        fmin: lowest frequency shown, Hz.
        fmax: highest frequency shown, Hz (clamped to Nyquist).
        pixels: pixels along the frequency direction.
        samplerate: Hz.
        bins: length of the dB rows (nfft // 2 + 1, or the CQT's bins).
        cqt: the rows are these constant-Q bins (``fmin * 2**(i / bpo)`` Hz) instead of
            FFT bins (None).
    """

    scale: str
    fmin: float
    fmax: float
    pixels: int
    samplerate: float
    bins: int
    cqt: CqtLayout | None = None
    lo: float = field(init=False)
    hi: float = field(init=False)
    edges: npt.NDArray[np.float64] = field(init=False, repr=False)
    _starts: I64 = field(init=False, repr=False)
    _stop: int = field(init=False, repr=False)
    _narrow: I64 = field(init=False, repr=False)
    _i0: I64 = field(init=False, repr=False)
    _w: F32 = field(init=False, repr=False)
    _centres: npt.NDArray[np.float64] | None = field(init=False, repr=False, default=None)
    _ticks: dict[tuple[float, float], list[tuple[float, float]]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        nyq = self.samplerate / 2.0
        cqt = self.cqt if self.cqt is not None and self.cqt.n_bins == self.bins else None
        self.cqt = cqt
        if cqt is not None:
            nyq = min(nyq, float(cqt.freqs()[-1]))
        floor = C1_HZ if cqt is None else cqt.fmin
        self.lo, self.hi = scale_limits(self.scale, self.fmin, self.fmax, nyq, floor)
        n = max(1, self.pixels)
        s0, s1 = to_scale(self.scale, [self.lo, self.hi])
        self.edges = from_scale(self.scale, np.linspace(s0, s1, n + 1))
        last = self.bins - 1
        starts = np.clip(np.ceil(self.index(self.edges[:-1]) - 1e-9), 0, last).astype(np.int64)
        ends = np.clip(np.ceil(self.index(self.edges[1:]) - 1e-9), 0, self.bins).astype(np.int64)
        narrow = np.flatnonzero(ends <= starts)  # pixels without a bin centre
        self._starts = starts
        self._stop = int(max(ends[-1], starts[-1] + 1))  # reduceat needs a bin per start
        self._narrow = narrow
        centre = self.index(self.centres()[narrow])
        i0 = np.clip(np.floor(centre), 0, max(last - 1, 0)).astype(np.int64)
        self._i0 = i0
        self._w = np.clip(centre - i0, 0.0, 1.0).astype(np.float32)

    def index(self, f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Fractional row index of frequencies ``f`` Hz (FFT bin, or CQT bin)."""
        if self.cqt is not None:
            return self.cqt.index(f)
        out: npt.NDArray[np.float64] = f / self.bin_hz
        return out

    def label(self, f: float) -> str:
        """The axis label of ``f`` Hz: a note name on the cqt scale, else Hz."""
        return tick_label(self.scale, f)

    @property
    def bin_hz(self) -> float:
        """Bin spacing in Hz."""
        return self.samplerate / max(2 * (self.bins - 1), 1)

    def centres(self) -> npt.NDArray[np.float64]:
        """Centre frequency (Hz, on the scale) of each pixel (computed once)."""
        if self._centres is None:
            s = to_scale(self.scale, self.edges)
            self._centres = from_scale(self.scale, (s[:-1] + s[1:]) / 2.0)
        return self._centres

    def freq_at(self, pos: float) -> float:
        """Frequency in Hz at a fractional pixel position (0 = low edge of pixel 0)."""
        s0, s1 = to_scale1(self.scale, self.lo), to_scale1(self.scale, self.hi)
        return from_scale1(self.scale, s0 + (s1 - s0) * pos / max(1, self.pixels))

    def pos_of(self, freq: float) -> float:
        """Fractional pixel position of ``freq`` Hz (may fall outside [0, pixels])."""
        s0, s1 = to_scale1(self.scale, self.lo), to_scale1(self.scale, self.hi)
        return (to_scale1(self.scale, max(freq, 1e-6)) - s0) / (s1 - s0) * self.pixels

    def map_row(self, db: F32, out: F32 | None = None) -> F32:
        """dB row (``bins`` long) -> one value per pixel (float32)."""
        if out is None:
            out = np.empty(self.pixels, dtype=np.float32)
        row = db[: self._stop]
        np.maximum.reduceat(row, self._starts, out=out)
        if self._narrow.size:
            i0 = self._i0
            a = db[i0]
            out[self._narrow] = a + (db[i0 + 1] - a) * self._w
        return out

    def map_rows(self, rows: npt.NDArray[np.floating], out: F32 | None = None) -> F32:
        """(frames, bins) -> (frames, pixels) float32."""
        if out is None:
            out = np.empty((rows.shape[0], self.pixels), dtype=np.float32)
        if rows.shape[0] == 0:
            return out
        r = rows[:, : self._stop].astype(np.float32, copy=False)
        np.maximum.reduceat(r, self._starts, axis=1, out=out)
        if self._narrow.size:
            i0 = self._i0
            a = rows[:, i0].astype(np.float32)
            b = rows[:, i0 + 1].astype(np.float32)
            out[:, self._narrow] = a + (b - a) * self._w
        return out

    def ticks(self, cells: float, min_gap: float) -> list[tuple[float, float]]:
        """Tick positions for an axis of ``cells`` cells over this map (computed once per
        size): (position in cells from the low-frequency end, frequency Hz) pairs, at
        least ``min_gap`` cells apart (see :func:`livespec.dsp.scales.hz_ticks`)."""
        if cells <= 0 or self.pixels <= 0:
            return []
        cached = self._ticks.get((cells, min_gap))
        if cached is None:
            k = cells / self.pixels
            cached = hz_ticks(self.scale, self.lo, self.hi, lambda f: self.pos_of(f) * k, min_gap)
            self._ticks[(cells, min_gap)] = cached
        return cached


def freq_ticks(fmap: FreqMap, cells: float, min_gap: float) -> list[tuple[float, float]]:
    """Tick positions for an axis of ``cells`` cells over ``fmap`` (see
    :meth:`FreqMap.ticks`): (position in cells from the low-frequency end, Hz) pairs."""
    return fmap.ticks(cells, min_gap)


def zoom_range(
    fm: FreqMap, whole: FreqMap, factor: float, centre_hz: float | None
) -> tuple[float, float]:
    """The range (Hz) of ``fm`` zoomed by ``factor`` (>1 = in) around ``centre_hz`` (the
    middle when None), kept inside what ``whole`` (the scale's full map) can show: shifted,
    not cut, at the ends."""
    centre = fm.pixels / 2 if centre_hz is None else fm.pos_of(centre_hz)
    half = fm.pixels / (2 * factor)
    return _window(fm, whole, centre - half, centre + half)


def pan_range(fm: FreqMap, whole: FreqMap, fraction: float) -> tuple[float, float]:
    """The range (Hz) of ``fm`` moved by ``fraction`` of the view (positive: up)."""
    shift = fm.pixels * fraction
    return _window(fm, whole, shift, fm.pixels + shift)


def _window(fm: FreqMap, whole: FreqMap, p0: float, p1: float) -> tuple[float, float]:
    """Frequencies of pixel positions ``p0``..``p1`` of ``fm``, shifted into ``whole``'s
    [floor, Nyquist] and no narrower than four bins."""
    floor, nyq = whole.lo, whole.hi
    lo_lim, hi_lim = fm.pos_of(floor), fm.pos_of(nyq)
    span = min(p1 - p0, hi_lim - lo_lim)
    if p0 < lo_lim:
        p0, p1 = lo_lim, lo_lim + span
    if p1 > hi_lim:
        p0, p1 = hi_lim - span, hi_lim
    lo, hi = max(floor, fm.freq_at(p0)), min(nyq, fm.freq_at(p1))
    min_span = max(4 * fm.bin_hz, 1.0)
    if hi - lo < min_span:
        mid = (lo + hi) / 2
        lo, hi = max(floor, mid - min_span / 2), min(nyq, mid + min_span / 2)
    return lo, hi
