"""Frequency scales and axis ticks: the one place for linear, log, mel and cqt.

A scale maps frequency in Hz to a position along an axis and back. The live view
(:mod:`livespec.render.freqmap`) spaces its pixels evenly on the scale (log: ``log10(f)``;
mel: HTK's ``2595 * log10(1 + f / 700)``; cqt: ``log10(f)`` from C1 up, over the rows of
a constant-Q transform, :mod:`livespec.dsp.cqt`); the export (:class:`FreqScale`) has image
rows of FFT bins, log-spaced bands (:func:`log_band_edges_bpo`, :func:`band_weights`), mel
bands (Slaney's or HTK's formula, as librosa and torchaudio) or CQT bins. Ticks are round
values inside a range: Hz (1-2-5 per decade on a log scale; note names on the cqt scale),
seconds and dB, with their labels.

Pure code (numpy only); any thread.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livespec.dsp.cqt import C1_HZ

F64 = npt.NDArray[np.float64]

SCALES: tuple[str, ...] = ("linear", "log", "mel", "cqt")
LOG_FLOOR_HZ = 20.0  # lowest frequency of a log scale when fmin is 0
LOGLIKE = ("log", "cqt")  # scales whose position is log10(Hz)
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above.
_SLANEY_F_SP = 200.0 / 3  # Hz per mel below 1 kHz
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_LOGSTEP = math.log(6.4) / 27.0


# -- Hz <-> scale ------------------------------------------------------------------------


def hz_to_mel(f: F64 | float, htk: bool = False) -> F64:
    """Hz to mels: Slaney's scale (linear below 1 kHz, log above; librosa's default) or HTK's
    ``2595 * log10(1 + f / 700)``."""
    f = np.asarray(f, dtype=np.float64)
    if htk:
        out: F64 = 2595.0 * np.log10(1.0 + f / 700.0)
        return out
    mels = f / _SLANEY_F_SP
    high = f >= _SLANEY_MIN_LOG_HZ
    safe = np.where(high, f, _SLANEY_MIN_LOG_HZ)
    result: F64 = np.where(
        high,
        _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP + np.log(safe / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP,
        mels,
    )
    return result


def mel_to_hz(m: F64 | float, htk: bool = False) -> F64:
    """Mels to Hz (the inverse of :func:`hz_to_mel`)."""
    m = np.asarray(m, dtype=np.float64)
    if htk:
        out: F64 = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
        return out
    min_log_mel = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP
    result: F64 = np.where(
        m >= min_log_mel,
        _SLANEY_MIN_LOG_HZ * np.exp(_SLANEY_LOGSTEP * (m - min_log_mel)),
        _SLANEY_F_SP * m,
    )
    return result


def mel_band_edges(fmin: float, fmax: float, n_mels: int, htk: bool = False) -> F64:
    """The ``n_mels + 2`` edge frequencies in Hz of mel bands from ``fmin`` to ``fmax`` Hz
    (band i spans edges i..i+2, centred on edge i+1)."""
    lo = hz_to_mel(fmin, htk)
    hi = hz_to_mel(fmax, htk)
    return mel_to_hz(np.linspace(lo, hi, n_mels + 2), htk)


def log_band_edges(f_lo: float, f_hi: float, rows: int) -> F64:
    """The ``rows + 1`` edges in Hz of ``rows`` log-spaced bands from ``f_lo`` to ``f_hi``."""
    edges: F64 = f_lo * (f_hi / f_lo) ** (np.arange(rows + 1) / rows)
    return edges


def log_band_edges_bpo(fmin: float, fmax: float, bins_per_octave: int) -> F64:
    """Edges in Hz of the log-spaced bands of an exported log array: ``fmin * 2**(i / B)``
    for as many whole bands (B per octave) as fit below ``fmax`` (at least one)."""
    n = max(1, math.floor(bins_per_octave * math.log2(fmax / fmin) + 1e-9))
    edges: F64 = fmin * 2.0 ** (np.arange(n + 1) / bins_per_octave)
    return edges


def band_weights(edges: F64, bin_hz: float, bins: int) -> F64:
    """How much of each FFT bin's power goes into each band, shape (bins, bands).

    FFT bin k stands for the frequencies ``[(k - 0.5) * bin_hz, (k + 0.5) * bin_hz)``
    (clipped at 0 and at the top bin's centre); a band ``[e_i, e_{i+1})`` takes the
    fraction of each bin that it overlaps, so a band's power is the power of the linear
    spectrum integrated over it, and the bands together take each covered bin's power
    exactly once."""
    k = np.arange(bins, dtype=np.float64)
    lo = np.maximum((k - 0.5) * bin_hz, 0.0)
    hi = np.minimum((k + 0.5) * bin_hz, (bins - 1) * bin_hz)
    width = np.maximum(hi - lo, 1e-300)
    overlap = np.minimum(hi[:, None], edges[None, 1:]) - np.maximum(lo[:, None], edges[None, :-1])
    w: F64 = np.maximum(overlap, 0.0) / width[:, None]
    w[hi <= lo] = 0.0
    return w


def to_scale(scale: str, f: npt.ArrayLike) -> F64:
    """Hz -> position on ``scale`` (linear: Hz; log: log10 Hz; mel: HTK mels)."""
    a = np.asarray(f, dtype=np.float64)
    if scale in LOGLIKE:
        out: F64 = np.log10(np.maximum(a, 1e-6))
        return out
    if scale == "mel":
        return hz_to_mel(a, htk=True)
    return a


def from_scale(scale: str, s: npt.ArrayLike) -> F64:
    """Position on ``scale`` -> Hz (the inverse of :func:`to_scale`)."""
    a = np.asarray(s, dtype=np.float64)
    if scale in LOGLIKE:
        out: F64 = np.power(10.0, a)
        return out
    if scale == "mel":
        return mel_to_hz(a, htk=True)
    return a


def to_scale1(scale: str, f: float) -> float:
    """:func:`to_scale` of one frequency in Hz (Python floats)."""
    if scale in LOGLIKE:
        return math.log10(max(f, 1e-6))
    if scale == "mel":
        return 2595.0 * math.log10(1.0 + f / 700.0)
    return f


def from_scale1(scale: str, s: float) -> float:
    """:func:`from_scale` of one position (Python floats), Hz."""
    if scale in LOGLIKE:
        return float(10.0**s)
    if scale == "mel":
        return float(700.0 * (10.0 ** (s / 2595.0) - 1.0))
    return s


def scale_limits(
    scale: str, fmin: float, fmax: float, nyquist: float, cqt_floor_hz: float = C1_HZ
) -> tuple[float, float]:
    """The shown frequency range in Hz, clamped to [0, nyquist] (log: above 0; cqt: from
    the transform's lowest bin, ``cqt_floor_hz``)."""
    hi = min(max(fmax, 1.0), nyquist)
    lo = max(0.0, min(fmin, hi))
    if scale == "log":
        floor = min(LOG_FLOOR_HZ, hi / 100.0)
        lo = max(lo, floor)
    elif scale == "cqt":
        lo = max(lo, min(cqt_floor_hz, hi / 2.0))
    if hi - lo < 1e-3:
        lo = max(0.0, hi - 1.0)
    return lo, hi


@dataclass(frozen=True)
class FreqScale:
    """How the rows of an exported image map to frequency: row i (0 = bottom) of ``rows``
    is centred on the frequency whose :meth:`index` is i.

    Attributes:
        kind: "linear" (rows = FFT bins), "log" (log-spaced rows) or "mel" (mel bands).
        rows: rows before any grouping or resize.
        f_lo, f_hi: "linear": 0 and the top bin's frequency; "log": the bottom and top row
            edges; "mel": the range of the bands (Hz).
        htk: the mel formula (see :func:`hz_to_mel`).
        group: rows averaged into one image row before resizing.
    """

    kind: str
    rows: int
    f_lo: float
    f_hi: float
    htk: bool = False
    group: int = 1

    @property
    def out_rows(self) -> int:
        """Image rows after grouping (before any resize)."""
        return -(-self.rows // self.group)

    def index(self, f: F64) -> F64:
        """Fractional image row index (0 = bottom row's centre) of frequencies ``f`` in Hz."""
        f = np.asarray(f, dtype=np.float64)
        if self.kind == "linear":
            i: F64 = f / (self.f_hi / (self.rows - 1))
        elif self.kind == "log":
            ratio = math.log(self.f_hi / self.f_lo) / self.rows
            i = np.log(np.maximum(f, 1e-9) / self.f_lo) / ratio - 0.5
        else:
            lo = float(hz_to_mel(self.f_lo, self.htk))
            hi = float(hz_to_mel(self.f_hi, self.htk))
            step = (hi - lo) / (self.rows + 1)
            i = (hz_to_mel(f, self.htk) - lo) / step - 1.0
        if self.group > 1:
            i = (i - (self.group - 1) / 2.0) / self.group
        return i

    def y_of(self, f: F64, height: int) -> F64:
        """Pixel y (0 = top edge, ``height`` = bottom edge) of frequencies in Hz."""
        out: F64 = height - (self.index(f) + 0.5) * (height / self.out_rows)
        return out


# -- ticks for the live view ----------------------------------------------------------------


def nice_steps(lo: float) -> list[float]:
    """1-2-5 steps from ``lo`` upwards, for the tick search."""
    e = math.floor(math.log10(max(lo, 1e-9)))
    out: list[float] = []
    for k in range(e, e + 12):
        for m in (1.0, 2.0, 5.0):
            out.append(m * 10.0**k)
    return [s for s in out if s >= lo * 0.999]


def hz_to_midi(f: float, a4: float = 440.0) -> float:
    """MIDI note number (fractional) of ``f`` Hz: 69 = A4."""
    return 69.0 + 12.0 * math.log2(max(f, 1e-9) / a4)


def midi_to_hz(m: float, a4: float = 440.0) -> float:
    """Hz of MIDI note ``m``."""
    return a4 * math.pow(2.0, (m - 69.0) / 12.0)


def note_label(f: float, a4: float = 440.0) -> str:
    """The nearest equal-tempered note of ``f`` Hz: ``C2``, ``F#3``, ``A4``."""
    m = round(hz_to_midi(f, a4))
    return f"{NOTE_NAMES[m % 12]}{m // 12 - 1}"


def tick_label(scale: str, f: float) -> str:
    """An axis label for ``f`` Hz on ``scale``: a note name on the cqt scale, else Hz."""
    return note_label(f) if scale == "cqt" else format_hz(f)


def format_hz(f: float) -> str:
    """Compact tick label: ``500``, ``1k``, ``2.5k``, ``12k``, ``12.5k``."""
    if abs(f) >= 1000.0:
        k = f / 1000.0
        text = f"{k:.2f}".rstrip("0").rstrip(".")
        return text + "k"
    if abs(f) >= 10 or f == 0:
        return f"{f:.0f}"
    return f"{f:.1f}".rstrip("0").rstrip(".")


def hz_ticks(
    scale: str, lo: float, hi: float, pos: Callable[[float], float], min_gap: float
) -> list[tuple[float, float]]:
    """Ticks between ``lo`` and ``hi`` Hz on an axis where ``pos(f)`` is the position of
    ``f`` Hz (in cells).

    Returns (position, frequency Hz) pairs, at least ``min_gap`` apart: 1-2-5 per decade
    on a log scale, notes on the cqt scale (every semitone ... every other C), a round step
    otherwise (the densest that fits; one tick if no two do).
    """

    def positions(freqs: list[float]) -> list[tuple[float, float]]:
        return [(pos(f), f) for f in freqs if lo - 1e-9 <= f <= hi + 1e-9]

    def ok(ticks: list[tuple[float, float]]) -> bool:
        return len(ticks) >= 2 and all(b[0] - a[0] >= min_gap for a, b in itertools.pairwise(ticks))

    candidates: list[list[float]] = []
    if scale == "cqt":
        m0, m1 = math.floor(hz_to_midi(lo)), math.ceil(hz_to_midi(hi))
        for semis in (1, 2, 4, 6, 12, 24):  # semitones, whole tones, ..., every C, every 2nd C
            candidates.append([midi_to_hz(m) for m in range(m0, m1 + 1) if m % semis == 0])
    elif scale == "log" and hi / max(lo, 1e-9) >= 8.0:
        d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        for mults in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3), (1,)):
            candidates.append([m * 10.0**d for d in range(d0, d1 + 1) for m in mults])
        candidates.append([10.0**d for d in range(d0, d1 + 1, 2)])
    steps: list[float] = [] if scale == "cqt" else nice_steps((hi - lo) / 200.0)
    for step in steps:
        first = math.ceil(lo / step - 1e-9) * step
        count = int((hi - first) / step + 1e-9) + 1
        if count > 400:
            continue
        candidates.append([first + i * step for i in range(max(count, 0))])
    best: list[tuple[float, float]] = []
    for freqs in candidates:
        ticks = positions(freqs)
        if ok(ticks):
            return ticks
        if len(ticks) == 1 and not best:
            best = ticks
    return best


def time_ticks(
    start_s: float, span_s: float, cells: int, min_gap: float
) -> list[tuple[float, float]]:
    """Ticks for a time axis of ``cells`` cells showing ``start_s`` .. ``start_s + span_s``
    seconds ago (the newest shown end first).

    Returns (cells from the newest shown end, seconds ago) pairs at round steps.
    """
    if cells <= 0 or span_s <= 0:
        return []
    per_cell = span_s / cells
    for step in nice_steps(per_cell * min_gap):
        if step / per_cell >= min_gap:
            first = math.ceil(start_s / step - 1e-9)
            last = math.floor((start_s + span_s) / step + 1e-9)
            out = []
            for i in range(first, last + 1):
                s = round(i * step, 9)
                pos = (s - start_s) / per_cell
                if pos < cells:
                    out.append((pos, s))
            return out
    return []


def format_seconds(s: float) -> str:
    """Seconds ago as a label: ``0s``, ``-0.5s``, ``-12s``, ``-2m``."""
    if s == 0:
        return "0s"
    if s >= 120 and s % 60 == 0:
        return f"-{s / 60:g}m"
    return f"-{s:g}s"


def db_ticks(db_min: float, db_max: float, cells: int, min_gap: int = 2) -> list[tuple[int, float]]:
    """dB ticks for a colour bar of ``cells`` rows, top = ``db_max``: (row, dB) pairs."""
    if cells <= 1 or db_max <= db_min:
        return []
    per_cell = (db_max - db_min) / cells
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0):
        if step / per_cell >= min_gap:
            break
    first = math.ceil(db_min / step) * step
    out: list[tuple[int, float]] = []
    v = first
    while v <= db_max + 1e-9:
        row = round((db_max - v) / per_cell - 0.5)
        row = min(max(row, 0), cells - 1)
        if not out or out[-1][0] != row:
            out.append((row, v))
        v += step
    return out


# -- ticks for exported figures ---------------------------------------------------------------


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) from lo to hi, about ``target``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, target)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out: list[float] = []
    v = first
    while v <= hi + step * 1e-9:
        out.append(round(v, 12))
        v += step
    return out


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks per decade between lo and hi (Hz)."""
    out: list[float] = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1.0, 2.0, 5.0):
            v = m * 10.0**e
            if lo <= v <= hi:
                out.append(v)
    return out


def scale_ticks(scale: FreqScale, height: int) -> list[float]:
    """Frequency ticks in Hz for a figure's axis of ``height`` pixels over ``scale``."""
    if scale.kind == "log":
        return log_ticks(scale.f_lo, scale.f_hi)
    if scale.kind == "mel":
        return [scale.f_lo, *log_ticks(max(100.0, scale.f_lo * 2), scale.f_hi)]
    return nice_ticks(0.0, scale.f_hi, max(2, height // 60))


def hz_label(f: float, khz: bool) -> str:
    """A figure's frequency label: ``f`` Hz in kHz when ``khz``, shortest form (``2.5``)."""
    v = f / 1000.0 if khz else f
    return f"{v:g}"


def time_label(t: float, step: float) -> str:
    """A figure's time label for ``t`` seconds: ``m:ss`` for steps of a minute or more."""
    if step >= 60 and abs(t) >= 60:
        return f"{int(t // 60)}:{round(t % 60):02d}"
    return f"{t:g}"
