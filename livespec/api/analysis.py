"""``livespec.peaks`` and ``livespec.measure``: the estimators of ``livespec peaks`` and
``livespec measure`` on arrays, paths and file objects, with results that print well.

Frames are cut as the commands cut a file: frame k covers samples ``[k*hop, k*hop + n)``,
only whole frames; the input is read in blocks (bounded memory). Caller's thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import numpy as np

from livespec.api.inputs import (
    BACKENDS,
    F32,
    MAX_FFT,
    MIN_FFT,
    Input,
    Source,
    int_in,
    is_number,
    open_input,
    shown,
)
from livespec.config import WINDOW_CHOICES
from livespec.dsp.measure import Harmonic, Measurement
from livespec.dsp.peaks import Peak
from livespec.errors import UsageError

T = TypeVar("T")


def _num(x: float, digits: int) -> str:
    """``x`` rounded as ``peaks --json`` rounds it, without a ``-0.0``."""
    return repr(round(x, digits) + 0.0)


def _frames(inp: Input, n: int, hop: int, analyse: Callable[[F32], T]) -> Iterator[tuple[int, T]]:
    """``analyse`` of each whole frame (a (n, channels) float32 view), with its first
    sample; frames start at 0, hop, 2*hop, ... Reads blocks; memory is a few frames."""
    cap = max(4 * n, n + hop, 65536)
    buf = np.empty((cap, inp.channels), dtype=np.float32)
    base = fill = start = 0  # sample index of buf[0], samples held, next frame's start
    while True:
        while start + n <= base + fill:
            yield start, analyse(buf[start - base : start - base + n])
            start += hop
        drop = min(start - base, fill)
        if drop:
            buf[: fill - drop] = buf[drop:fill]
            fill -= drop
            base += drop
        got = inp.read(cap - fill, out=buf[fill:]).shape[0]
        if got == 0:
            return
        fill += got  # with hop > n, samples before the next frame are dropped above


@dataclass(frozen=True)
class PeakFrame:
    """The peaks of one frame.

    Attributes:
        t: the frame's centre in seconds from the first sample.
        peaks: strongest first; each has ``freq_hz`` (Hz), ``level_dbfs`` (dBFS, a
            full-scale sine reads 0.0), ``bin``, ``note`` ("A4") and ``cents``.
    """

    t: float
    peaks: tuple[Peak, ...]

    @property
    def freq_hz(self) -> float | None:
        """The strongest peak's frequency (Hz), None without a peak."""
        return self.peaks[0].freq_hz if self.peaks else None

    @property
    def level_dbfs(self) -> float | None:
        """The strongest peak's level (dBFS), None without a peak."""
        return self.peaks[0].level_dbfs if self.peaks else None

    def as_dict(self) -> dict[str, Any]:
        """The values of ``livespec peaks --json`` (rounded as it rounds them)."""
        top = self.peaks[0] if self.peaks else None
        rec: dict[str, Any] = {
            "t": round(self.t, 6),
            "freq_hz": round(top.freq_hz, 4) if top else None,
            "level_dbfs": round(top.level_dbfs, 4) if top else None,
            "note": top.note if top else None,
            "cents": round(top.cents, 2) if top else None,
        }
        if len(self.peaks) > 1:
            rec["peaks"] = [
                {
                    "freq_hz": round(p.freq_hz, 4),
                    "level_dbfs": round(p.level_dbfs, 4),
                    "note": p.note,
                    "cents": round(p.cents, 2),
                }
                for p in self.peaks
            ]
        return rec

    def __str__(self) -> str:
        parts = [
            f"{_num(p.freq_hz, 4)} Hz {_num(p.level_dbfs, 4)} dBFS {p.label}".rstrip()
            for p in self.peaks
        ]
        return f"{self.t:.6f} s: " + ("; ".join(parts) if parts else "no peak")


def peaks(
    y: Source,
    sr: float | None = None,
    *,
    fft: int = 4096,
    hop: int | None = None,
    window: str = "hann",
    beta: float = 8.6,
    zero_pad: int = 1,
    n: int = 1,
    a4: float = 440.0,
    fmin: float | None = 0.0,
    fmax: float | None = None,
    channel: int | None = None,
    backend: str = "auto",
) -> list[PeakFrame]:
    """The ``n`` strongest peaks of every frame, interpolated between bins: the numbers of
    ``livespec peaks --json`` for the same input and settings.

    Args:
        y, sr: as :func:`livespec.spectrogram` (an array with its rate in Hz, or a file).
        fft: samples per frame, 64..65536; hop: samples between frames (fft // 4).
        window, beta, zero_pad: the analysis window, Kaiser beta, FFT length factor.
        n: peaks per frame, 1..32.
        a4: reference pitch for note names (Hz).
        fmin, fmax: the band searched (Hz; fmin None = 0, fmax None = Nyquist).
        channel: 0-based channel; None = the mean of the channels.
        backend: FFT backend, "auto", "fftw" or "numpy".

    Raises:
        livespec.UsageError, livespec.SourceError.
    """
    from livespec.dsp.peaks import PeakFinder
    from livespec.dsp.stft import Spectrum

    n_ = int_in("fft", fft, MIN_FFT, MAX_FFT)
    step = max(1, round(n_ * 0.25)) if hop is None else int_in("hop", hop, 1, MAX_FFT)
    int_in("zero_pad", zero_pad, 1, 16)
    int_in("n", n, 1, 32)
    if not isinstance(window, str) or window not in WINDOW_CHOICES:
        raise UsageError(f"window={shown(window)}: must be one of {', '.join(WINDOW_CHOICES)}")
    if backend not in BACKENDS:
        raise UsageError(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    if not (is_number(beta) and 0.0 <= beta <= 50.0):  # as livespec peaks --beta
        raise UsageError(f"beta={shown(beta)}: must be from 0 to 50")
    if not (is_number(a4) and 200.0 <= a4 <= 1000.0):
        raise UsageError(f"a4={a4!r}: must be from 200 to 1000 Hz")
    with open_input(y, sr, channel) as inp:
        if inp.frames < n_:
            raise UsageError(f"{inp.label}: too short: {inp.frames} samples, a frame is {n_}")
        try:
            spectrum = Spectrum(n_, window, beta=float(beta), zero_pad=zero_pad, backend=backend)
            finder = PeakFinder(
                spectrum, inp.samplerate, max_peaks=n, a4=float(a4),
                fmin=0.0 if fmin is None else fmin, fmax=fmax,
            )  # fmt: skip
        except (ValueError, TypeError) as exc:
            raise UsageError(f"peaks: {exc}") from None
        db = np.empty(spectrum.bins, dtype=np.float32)
        fs = inp.samplerate

        def analyse(view: F32) -> tuple[Peak, ...]:
            X = spectrum.compute(view, channel)
            return tuple(finder.find(X, spectrum.db(db)))

        return [
            PeakFrame((start + n_ / 2) / fs, found)
            for start, found in _frames(inp, n_, step, analyse)
        ]


class _Figure(Generic[T]):
    """A figure of :class:`Measurement` read as an attribute of :class:`MeasureResult`,
    typed (a type checker knows ``thd_db`` is a float and ``thd_dbb`` a typo);
    AttributeError when no tone stood out."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.__doc__ = f"``measurement.{name}`` (AttributeError when no tone stood out)."

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Figure[T]: ...
    @overload
    def __get__(self, obj: MeasureResult, owner: type | None = None) -> T: ...
    def __get__(self, obj: MeasureResult | None, owner: type | None = None) -> T | _Figure[T]:
        if obj is None:
            return self
        if obj.measurement is None:
            raise AttributeError(f"{self.name}: no tone stood out, so measurement is None")
        value: T = getattr(obj.measurement, self.name)
        return value


@dataclass(frozen=True)
class MeasureResult:
    """The measurement of the dominant tone (docs/measure.md), over all frames averaged.

    Attributes:
        measurement: the figures (freq_hz, level_dbfs, thd_db, thd_percent, thdn_db,
            thdn_percent, snr_db, sinad_db, noise_dbfs, harmonics, ...; also readable as
            attributes of this object), or None when no tone stands out.
        frames: frames averaged; fft: samples per frame; samplerate: Hz.
        average: the averaging ("block": the mean of all frames).
        calibration_db, unit: ``level`` and ``noise`` are dBFS + calibration_db in unit.
    """

    measurement: Measurement | None
    frames: int
    fft: int
    samplerate: float
    average: str
    calibration_db: float | None = None
    unit: str = ""

    # The figures of ``measurement`` (dsp/measure.py), one typed attribute each.
    freq_hz = _Figure[float]()
    level_dbfs = _Figure[float]()
    total_dbfs = _Figure[float]()
    thd_db = _Figure[float]()
    thd_percent = _Figure[float]()
    thdn_db = _Figure[float]()
    thdn_percent = _Figure[float]()
    snr_db = _Figure[float]()
    sinad_db = _Figure[float]()
    noise_dbfs = _Figure[float]()
    noise_density_dbfs_hz = _Figure[float]()
    band_hz = _Figure[tuple[float, float]]()
    harmonics = _Figure[tuple[Harmonic, ...]]()
    harmonics_requested = _Figure[int]()
    harmonics_used = _Figure[int]()
    weighting = _Figure[str]()

    @property
    def level(self) -> float | None:
        """The tone's level in ``unit`` (dBFS + calibration_db); None without calibration."""
        if self.measurement is None or self.calibration_db is None:
            return None
        return self.measurement.level_dbfs + self.calibration_db

    @property
    def noise(self) -> float | None:
        """The noise in ``unit`` (dBFS + calibration_db); None without calibration."""
        if self.measurement is None or self.calibration_db is None:
            return None
        return self.measurement.noise_dbfs + self.calibration_db

    def as_dict(self) -> dict[str, Any]:
        """The values of ``livespec measure --json`` (rounded to 4 decimals)."""
        rec: dict[str, Any] = {}
        if self.measurement is not None:
            rec.update(self.measurement.as_dict())
        if self.calibration_db is not None:
            rec["unit"] = self.unit
            for key in ("level", "noise"):
                v = rec.get(f"{key}_dbfs")
                rec[key] = None if v is None else round(v + self.calibration_db, 4)
        rec.update(frames=self.frames, average=self.average, fft=self.fft)
        rec["samplerate"] = self.samplerate
        return rec

    def __str__(self) -> str:
        m = self.measurement
        if m is None:
            return f"no tone ({self.frames} frames)"

        def db(x: float, unit: str = "dB") -> str:
            return f"{x:.2f} {unit}" if math.isfinite(x) else f"-- {unit}"

        cal = "" if self.level is None else f" ({self.level:.2f} {self.unit})"
        return (
            f"{m.freq_hz:.3f} Hz  level {db(m.level_dbfs, 'dBFS')}{cal}  "
            f"THD {db(m.thd_db)} ({m.thd_percent:.4f} %)  THD+N {db(m.thdn_db)}  "
            f"SNR {db(m.snr_db)}  SINAD {db(m.sinad_db)}  noise {db(m.noise_dbfs, 'dBFS')}"
            f"  [weighting {m.weighting}, {self.frames} frames of {self.fft}]"
        )


def measure(
    y: Source,
    sr: float | None = None,
    *,
    fft: int | None = None,
    harmonics: int = 10,
    band: tuple[float, float] | None = None,
    weighting: str = "Z",
    average: str = "block",
    calibrate: tuple[float, str] | None = None,
    channel: int | None = None,
    backend: str = "auto",
) -> MeasureResult:
    """Level, THD, THD+N, SNR, SINAD and noise of the dominant tone: ``livespec measure
    --json --interval 0`` for the same input and settings (7-term Blackman-Harris frames,
    hop fft // 4, power averaged over the whole input).

    Args:
        y, sr: as :func:`livespec.spectrogram`.
        fft: even, 1024..1048576 samples (None: bins of at most 1.5 Hz).
        harmonics: THD counts harmonics 2..N.
        band: (low, high) Hz; None = 20 Hz to 20 kHz (or Nyquist).
        weighting: "A", "C" (IEC 61672) or "Z" (none), for harmonics and noise.
        average: "block", "exp:TAU", "lin:N", "peak" or "none" (the last frame).
        calibrate: (dB, unit): also give levels as dBFS + dB in unit, e.g. (114, "dB SPL").
        channel: 0-based channel; None = the mean of the channels.

    Raises:
        livespec.UsageError, livespec.SourceError.
    """
    from livespec.dsp.averaging import make_averager, parse_average
    from livespec.dsp.measure import Measurer

    try:
        spec = parse_average(average)
    except (ValueError, AttributeError) as exc:
        raise UsageError(f"average={average!r}: {exc}") from None
    if weighting not in ("A", "C", "Z"):
        raise UsageError(f"weighting={weighting!r}: must be 'A', 'C' or 'Z'")
    if calibrate is not None and (
        not isinstance(calibrate, (tuple, list)) or len(calibrate) != 2
        or not is_number(calibrate[0]) or not -1000 <= calibrate[0] <= 1000
        or not str(calibrate[1])
    ):  # fmt: skip
        raise UsageError(f"calibrate={shown(calibrate)}: must be (dB from -1000 to 1000, unit)")
    if backend not in BACKENDS:
        raise UsageError(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    if band is not None and not (
        isinstance(band, (tuple, list, np.ndarray))
        and len(band) == 2 and all(is_number(v) for v in band)
    ):  # fmt: skip
        raise UsageError(f"band={shown(band)}: must be (low, high) in Hz")
    with open_input(y, sr, channel) as inp:
        try:
            m = Measurer(
                inp.samplerate, fft, harmonics=harmonics, band=band, weighting=weighting,
                backend=backend,
            )  # fmt: skip
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
        if inp.frames < m.n:
            raise UsageError(
                f"{inp.label}: shorter than one measurement frame ({m.n} samples); give a "
                "smaller fft"
            )
        avg = make_averager(spec, m.bins, m.hop / m.samplerate)
        last = None
        for _, power in _frames(inp, m.n, m.hop, lambda v: m.power(v, channel)):
            last = avg.update(power)
        assert last is not None
        result = m.measure(last, m.equivalent_frames(avg))
    return MeasureResult(
        result,
        avg.count,
        m.n,
        m.samplerate,
        spec.describe(),
        None if calibrate is None else float(calibrate[0]),
        "" if calibrate is None else str(calibrate[1]),
    )
