"""The peaks of a run of frames (the engine's batched analysis).

:func:`find_run` gives, for every row of a run, the peaks :meth:`PeakFinder.find
<livespec.dsp.peaks.PeakFinder.find>` gives for that row alone (the same arithmetic; the
engine's spectra carry the window's calibration gain, divided out again, which moves the
last bits: within 1e-6 Hz and dB, ``tests/test_block.py``). With one peak a frame (the
default) the strongest bins of the whole run and their neighbours are looked up in one
numpy call each, and the window's two-bin ratio estimate (``PeakFinder.refine``'s fast
path) and the note name run in one plain Python loop with the same arithmetic (numpy
calls on a handful of numbers cost more than the Python); the frames it does not settle
(not a local maximum, near DC or Nyquist, a shape that is not one tone's, a top no louder
than the DC lobe, which may be its skirt) go through ``PeakFinder`` itself, and so does a
frame whose strongest bin is the last one (Nyquist), whose neighbour beyond is its mirror
image. Engine thread.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.peaks import NOTE_NAMES, Peak, PeakFinder, note_name

_AROUND = np.arange(-1, 2)  # a bin and its two neighbours
_ROWS = np.arange(64)[:, None]  # row numbers of a run, for its gathers
_MIDI_LOW, _MIDI_HIGH = -60, 200  # note names tabulated for MIDI numbers in this range
_NAMES = [f"{NOTE_NAMES[m % 12]}{m // 12 - 1}" for m in range(_MIDI_LOW, _MIDI_HIGH)]


class _PeakSlots:
    """A :class:`Peak` under construction: the same slots, not frozen, made a ``Peak`` by
    assigning ``__class__`` (see :func:`make_peak`)."""

    __slots__ = Peak.__slots__

    def __init__(
        self, freq_hz: float, level_dbfs: float, bin: float, note: str, cents: float
    ) -> None:
        self.freq_hz = freq_hz
        self.level_dbfs = level_dbfs
        self.bin = bin
        self.note = note
        self.cents = cents


assert _PeakSlots.__slots__ == tuple(Peak.__dataclass_fields__)  # the same fields, in order


def make_peak(freq_hz: float, level_dbfs: float, bin: float, note: str, cents: float) -> Peak:
    """``Peak(freq_hz, level_dbfs, bin, note, cents)`` in half the time: a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``; this sets the
    slots of a twin class with plain stores and makes it a ``Peak`` (the same immutable
    peak). Any thread."""
    peak = _PeakSlots(freq_hz, level_dbfs, bin, note, cents)
    peak.__class__ = Peak  # type: ignore[assignment]
    return peak  # type: ignore[return-value]


def find_run(
    finder: PeakFinder, X: NDArray[np.complex128], db: NDArray[np.float32], gain: float = 1.0
) -> list[tuple[Peak, ...]]:
    """The peaks of every row of a run (``X`` and ``db``: frames x bins; ``X`` is the
    spectrum times ``gain``), strongest first, as ``finder.find`` finds them in each row
    alone. Engine thread."""
    k = int(db.shape[0])
    lo, hi = finder._kmin, finder._kmax
    if finder.max_peaks != 1 or hi < lo:
        return [tuple(finder.find(X[j] / gain, db[j])) for j in range(k)]
    nyq, lobe = finder._bins - 1, finder._dc_lobe
    # The DC lobe's strongest bin, in the rows where it may beat the top in range (a top
    # no louder is refined by find(), which tells a peak from the lobe's skirt). Where the
    # row's strongest bin lies in range, it is louder than the lobe.
    dcs: list[float] | None = None
    if k == 1:  # slices are cheaper than a gather for one frame
        row = db[0]
        top = int(row.argmax())  # the method: np.argmax adds a wrapper
        if not lo <= top <= hi:
            top = lo + int(row[lo : hi + 1].argmax())
            dcs = [max(row[:lobe].tolist())]
        if top == nyq:  # its right neighbour is its mirror image: refined alone
            return [tuple(finder.find(X[0] / gain, row))]
        best = [top]
        around = [row[top - 1 : top + 2].tolist()]
        spectra = [X[0, top - 1 : top + 2].tolist()]
    else:
        # The strongest bin of each whole row (contiguous rows: twice as fast as the
        # range's strided view), then of the range in the rows where it lies outside it
        # (argmax takes the first of equal values: the same bin either way).
        tops = db.argmax(axis=1)
        best = tops.tolist()
        outside = [j for j, t in enumerate(best) if not lo <= t <= hi]
        if len(outside) * 4 > k:  # e.g. a DC offset above everything: the range at once
            tops = db[:, lo : hi + 1].argmax(axis=1)
            tops += lo
            best = tops.tolist()
        else:
            for j in outside:
                best[j] = tops[j] = lo + int(db[j, lo : hi + 1].argmax())
        if outside:
            dcs = [-math.inf] * k
            for j in outside:
                dcs[j] = max(db[j, :lobe].tolist())
        rows = _ROWS[:k] if k <= len(_ROWS) else np.arange(k)[:, None]
        cols = tops[:, None] + _AROUND
        if hi == nyq and nyq in best:  # (db[nyq - 1], db[nyq], db[nyq]): find() decides
            np.minimum(cols, nyq, out=cols)
        around = db[rows, cols].tolist()
        spectra = X[rows, cols].tolist()
    table = finder._ratio_table
    if table is None:
        ratios: list[float] = []
        deltas = levels = ratios
        margin, top = 1, 0  # no frame is in range: each is refined alone
    else:
        ratios, deltas, levels = table
        margin = finder._ratio_margin
        top = finder._bins - 1 - margin
    last = len(ratios)
    hz_per_bin, a4 = finder._hz_per_bin, finder.a4  # a4 > 0 (PeakFinder checks)
    log, log2, log10 = math.log, math.log2, math.log10
    names = _NAMES
    out: list[tuple[Peak, ...]] = []
    for j, (k0, (a, b, c), (x_lo, x_mid, x_hi)) in enumerate(
        zip(best, around, spectra, strict=True)
    ):
        if not a < b >= c or (dcs is not None and b <= dcs[j]):  # (or the DC lobe)
            out.append(tuple(finder.find(X[j] / gain, db[j])))
            continue
        # PeakFinder._ratio_estimate, and refine's test of its result, inline.
        f = math.nan
        if margin <= k0 <= top:
            m_lo, m_hi = abs(x_lo), abs(x_hi)
            if m_hi >= m_lo:
                kk, m0, m1 = k0, abs(x_mid), m_hi
            else:
                kk, m0, m1 = k0 - 1, m_lo, abs(x_mid)
            if m0 > 0.0 and m1 > 0.0:
                r = log(m1 / m0)
                i = bisect_right(ratios, r)
                if 0 < i < last:
                    r0, d0, g0 = ratios[i - 1], deltas[i - 1], levels[i - 1]
                    t = (r - r0) / (ratios[i] - r0)
                    f = kk + (d0 + t * (deltas[i] - d0))
                    mag = g0 + t * (levels[i] - g0)
        if not abs(f - k0) <= 1.0:  # not settled here (NaN included): the full refinement
            unscaled = [x_lo / gain, x_mid / gain, x_hi / gain]
            out.append((finder._peak(X[j] / gain, db[j], k0, (a, b, c), unscaled),))
            continue
        level = 20.0 * log10(2.0 * (m0 / gain) / mag)
        # note_name, with its names tabulated: hz > 0 and finite, f being within a bin
        # of k0 >= margin > 0.
        hz = f * hz_per_bin
        midi = 69.0 + 12.0 * log2(hz / a4)
        nearest = round(midi)
        if _MIDI_LOW <= nearest < _MIDI_HIGH:
            note, cents = names[nearest - _MIDI_LOW], 100.0 * (midi - nearest)
        else:
            note, cents = note_name(hz, a4)
        peak = _PeakSlots(hz, level, f, note, cents)  # make_peak, inline
        peak.__class__ = Peak  # type: ignore[assignment]
        out.append((peak,))  # type: ignore[arg-type]
    return out
