"""Tone measurements on an averaged power spectrum: level, THD, THD+N, SNR, SINAD, noise.

The formulas, conventions and their accuracy are in docs/measure.md. In short: a frame is
windowed with the 7-term Blackman-Harris window (sidelobes below -180 dB, main lobe +-7
bins) and transformed with a large FFT (32768 points at 48 kHz, 1.46 Hz bins); the power
row is scaled like the dBFS rows (a full-scale sine has power 1.0), averaged in the power
domain by the caller (:mod:`livespec.dsp.averaging`), then :meth:`Measurer.measure`
splits the band into the fundamental's lobe, the harmonics' lobes and the rest (noise):

* a tone's power is the sum of the bins within +-8 of it, minus the noise under it
  (estimated from the noise bins within 32 bins of its lobe), divided by the window's
  ENBW (bins);
* a harmonic counts only if it stands above the noise (:mod:`livespec.dsp.harmonics`);
  the band's noise is the sum of the other bins (outside the DC region), plus the noise
  estimated under the fundamental and the detected harmonics, divided by the ENBW;
* the fundamental is taken unweighted; harmonics and noise on the A/C/Z-weighted row.

Build a :class:`Measurer` once per configuration (it plans an FFT); call :meth:`power`
per frame and :meth:`measure` per result, from one thread (the analysis worker, or the
headless command's main thread). Nothing here imports scipy or Textual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.averaging import Averager
from livespec.dsp.detect import (
    FALSE_ALARM,
    bin_correlation,
    equivalent_frames,
    floor_fit,
    overlap_correlation,
    ratio_threshold,
)
from livespec.dsp.fftw import RealFFT, export_wisdom, load_wisdom, save_wisdom
from livespec.dsp.harmonics import split_harmonics
from livespec.dsp.stft import POWER_FLOOR
from livespec.dsp.weighting import weighting_power

MEASURE_WINDOW = "blackman-harris-7"
# Albrecht's 7-term Blackman-Harris window (H.-H. Albrecht, "A family of cosine-sum
# windows for high-resolution measurements", ICASSP 2001): w[m] = sum_k (-1)^k a_k
# cos(2 pi k m / n). Highest sidelobe about -180 dB; main-lobe half-width 7 bins; ENBW
# 2.6319 bins; coherent gain 0.27105.
BH7_COEFFS: tuple[float, ...] = (
    0.27105140069342,
    0.43329793923448,
    0.21812299954311,
    0.06592544638803,
    0.01081174209837,
    0.00077658482522,
    0.00001388721735,
)
MAINLOBE_HALF_BINS = 7  # first null of the 7-term window, bins of n
# Its highest sidelobe is -180.06 dB; with 10 dB to spare (a tone and its image adding,
# scalloping), a band whose strongest bin is at most this far (power) below the strongest
# bin outside the band holds nothing but that bin's leakage (or noise under it): no tone.
OUTSIDE_LEAK = 10.0 ** (-17.0)
LOBE_HALF_BINS = 8  # bins summed each side of a tone's peak bin: the main lobe, any offset
NEIGHBOUR_BINS = 32  # noise under a tone is estimated from this many bins each side
DEFAULT_BAND_HZ = (20.0, 20000.0)
MIN_FFT = 1024
MAX_FFT = 1 << 20
_DEFAULT_BIN_HZ = 1.5  # the default FFT makes bins at most this wide


def bh7_window(n: int) -> NDArray[np.float64]:
    """The periodic (DFT-even) 7-term Blackman-Harris window of ``n`` samples (float64)."""
    m = np.arange(int(n), dtype=np.float64) * (2.0 * np.pi / int(n))
    w = np.zeros(int(n))
    for k, a in enumerate(BH7_COEFFS):
        w += (-1.0) ** k * a * np.cos(k * m)
    return w


def default_fft_size(samplerate: float) -> int:
    """The measurement FFT for ``samplerate`` (Hz): the smallest power of two whose bins
    are at most 1.5 Hz wide (32768 at 44.1 and 48 kHz, 65536 at 96 kHz), at least 4096."""
    n = 1 << max(12, math.ceil(math.log2(float(samplerate) / _DEFAULT_BIN_HZ)))
    return min(n, MAX_FFT)


@dataclass(frozen=True, slots=True)
class Harmonic:
    """One harmonic of the fundamental.

    Attributes:
        order: 2, 3, ...
        freq_hz: order times the fundamental's frequency (Hz).
        level_dbc: power relative to the fundamental (dB; weighted like the noise); None
            when it is not detected above the noise (docs/measure.md, "Harmonics").
    """

    order: int
    freq_hz: float
    level_dbc: float | None


@dataclass(frozen=True, slots=True)
class Measurement:
    """The figures for the dominant tone of one (averaged) power spectrum.

    Ratios are in dB of power (``10*log10``) and in percent of amplitude
    (``100*sqrt(ratio)``). Non-finite results (no harmonic above the noise, no noise at all)
    are ``-inf``/``inf``.

    Attributes:
        freq_hz: the fundamental's frequency (Hz; power-weighted centroid of its lobe).
        level_dbfs: its level (dBFS; a full-scale sine reads 0.0), unweighted.
        total_dbfs: everything in the band: fundamental, harmonics and noise (dBFS).
        thd_db, thd_percent: the detected harmonics of 2..N over the fundamental.
        thdn_db, thdn_percent: THD+N, everything in the band but the fundamental over it.
        snr_db: fundamental over the noise (harmonics excluded).
        sinad_db: everything in the band over everything but the fundamental.
        noise_dbfs: the noise in the band (dBFS), harmonics excluded, weighted.
        noise_density_dbfs_hz: that noise per Hz (dBFS/Hz).
        band_hz: the band (Hz) the figures cover.
        harmonics: the harmonics used, order 2 upwards.
        harmonics_requested: N.
        weighting: "A", "C" or "Z".
    """

    freq_hz: float
    level_dbfs: float
    total_dbfs: float
    thd_db: float
    thd_percent: float
    thdn_db: float
    thdn_percent: float
    snr_db: float
    sinad_db: float
    noise_dbfs: float
    noise_density_dbfs_hz: float
    band_hz: tuple[float, float]
    harmonics: tuple[Harmonic, ...] = field(default_factory=tuple)
    harmonics_requested: int = 10
    weighting: str = "Z"

    @property
    def harmonics_used(self) -> int:
        """How many harmonics (of 2..N) lay inside the band and below Nyquist."""
        return len(self.harmonics)

    def as_dict(self, digits: int = 4) -> dict[str, object]:
        """JSON-ready values (rounded; None for non-finite numbers)."""

        def r(x: float | None) -> float | None:
            return round(x, digits) if x is not None and math.isfinite(x) else None

        return {
            "freq_hz": r(self.freq_hz),
            "level_dbfs": r(self.level_dbfs),
            "total_dbfs": r(self.total_dbfs),
            "thd_db": r(self.thd_db),
            "thd_percent": r(self.thd_percent),
            "thdn_db": r(self.thdn_db),
            "thdn_percent": r(self.thdn_percent),
            "snr_db": r(self.snr_db),
            "sinad_db": r(self.sinad_db),
            "noise_dbfs": r(self.noise_dbfs),
            "noise_density_dbfs_hz": r(self.noise_density_dbfs_hz),
            "band_hz": [r(self.band_hz[0]), r(self.band_hz[1])],
            "harmonics_used": self.harmonics_used,
            "harmonics_requested": self.harmonics_requested,
            "harmonics": [
                {"order": h.order, "freq_hz": r(h.freq_hz), "level_dbc": r(h.level_dbc)}
                for h in self.harmonics
            ],
            "weighting": self.weighting,
        }


def _db(power_ratio: float) -> float:
    if power_ratio <= 0.0:
        return -math.inf
    if math.isinf(power_ratio):
        return math.inf
    return 10.0 * math.log10(power_ratio)


class Measurer:
    """Power spectra of frames and the measurements on them.

    Args:
        samplerate: Hz.
        n: samples per frame = FFT size (even, 1024..1048576); None = :func:`default_fft_size`.
        harmonics: N, the highest harmonic order counted (2..100).
        band: (low, high) Hz the figures cover; None = 20 Hz to 20 kHz. ``high`` is clamped
            to the last bin below Nyquist.
        weighting: "A", "C" or "Z" for harmonics and noise.
        backend: FFT backend, "auto", "fftw" or "numpy".
        wisdom: load/save FFTW wisdom as :class:`~livespec.dsp.stft.Spectrum` does.

    Attributes:
        n, bins, samplerate, bin_hz, enbw_bins, band_hz, harmonics, weighting.
        hop: suggested samples between frames (n/4: the window is narrow in time, so 75 %
            overlap uses the signal nearly evenly).

    Raises:
        ValueError: an argument out of range, or a band with no room for a tone.
    """

    def __init__(
        self,
        samplerate: float,
        n: int | None = None,
        *,
        harmonics: int = 10,
        band: tuple[float, float] | None = None,
        weighting: str = "Z",
        backend: str = "auto",
        wisdom: bool = True,
    ) -> None:
        if not samplerate > 0.0:
            raise ValueError(f"samplerate must be positive (Hz), got {samplerate}")
        fs = float(samplerate)
        n = default_fft_size(fs) if n is None else n
        if isinstance(n, bool) or int(n) != n or not MIN_FFT <= n <= MAX_FFT or n % 2:
            raise ValueError(f"measurement FFT must be an even integer {MIN_FFT}..{MAX_FFT}")
        if isinstance(harmonics, bool) or not 2 <= int(harmonics) <= 100:
            raise ValueError(f"harmonics must be an integer from 2 to 100, got {harmonics}")
        self.samplerate = fs
        self.n = int(n)
        self.bins = self.n // 2 + 1
        self.bin_hz = fs / self.n
        self.hop = self.n // 4
        self.harmonics = int(harmonics)
        self.weighting = weighting.upper()
        lo, hi = DEFAULT_BAND_HZ if band is None else band
        if not (0.0 <= lo < hi):
            raise ValueError(f"band must have 0 <= low < high (Hz), got {lo}-{hi}")
        # Band in bins: never the DC region (0..LOBE) nor the Nyquist bin.
        k_lo = max(math.ceil(lo / self.bin_hz - 1e-9), LOBE_HALF_BINS + 1)
        k_hi = min(math.floor(hi / self.bin_hz + 1e-9), self.bins - 2)
        if k_hi - k_lo < 4 * LOBE_HALF_BINS:
            raise ValueError(
                f"band {lo:g}-{hi:g} Hz is too narrow for a {self.n}-point FFT at "
                f"{fs:g} Hz (bins of {self.bin_hz:.3g} Hz; a tone's lobe takes "
                f"{2 * LOBE_HALF_BINS + 1} bins)"
            )
        self._k_lo, self._k_hi = k_lo, k_hi
        self.band_hz = (float(lo), float(min(hi, fs / 2.0)))
        freqs = np.arange(self.bins, dtype=np.float64) * self.bin_hz
        self._gain = weighting_power(self.weighting, freqs)  # validates the name

        w = bh7_window(self.n)
        s1, s2 = float(np.sum(w)), float(np.sum(w * w))
        self.enbw_bins = self.n * s2 / (s1 * s1)
        self._w = w
        scale = np.full(self.bins, 4.0 / (s1 * s1))  # a full-scale sine's power is 1.0
        scale[0] = scale[-1] = 1.0 / (s1 * s1)
        self._scale = scale
        self._rho = overlap_correlation(w, self.hop)  # power correlation at lags of hop
        self._bin_corr = bin_correlation(w)  # L bins' mean ~ L / this independent bins

        use_wisdom = wisdom and backend != "numpy"
        loaded = load_wisdom() if use_wisdom else False
        before = export_wisdom() if use_wisdom else None
        self._fft = RealFFT(self.n, backend)
        self.backend_name = self._fft.backend
        if use_wisdom and self._fft.backend == "fftw":
            after = export_wisdom()
            if after is not None and (after != before or not loaded):
                save_wisdom()
        self._in = self._fft.input
        self._xv = self._fft.output.view(np.float64).reshape(self.bins, 2)
        self._sq = np.empty((self.bins, 2))
        self._power = np.empty(self.bins)
        self._weighted = np.empty(self.bins)
        self._mix = np.empty(self.n)
        self._idx = np.arange(self.bins)

    @property
    def window_name(self) -> str:
        """The measurement window's name."""
        return MEASURE_WINDOW

    # -- per frame ---------------------------------------------------------------------------

    def power(
        self, samples: NDArray[np.float32], channel: int | None = None
    ) -> NDArray[np.float64]:
        """Window and FFT one frame; return its power per bin (full-scale sine = 1.0 at a
        bin centre; the internal buffer, valid until the next call). Caller's thread.

        Args:
            samples: shape (n,) or (n, channels), any float dtype and strides.
            channel: 0-based channel to analyse; None = the mean of the channels.

        Raises:
            ValueError: wrong frame length or channel out of range.
        """
        if samples.shape[0] != self.n:
            raise ValueError(f"expected {self.n} samples per frame, got {samples.shape[0]}")
        frame = self._in
        if samples.ndim == 1 or samples.shape[1] == 1:
            if channel not in (None, 0):
                raise ValueError(f"channel {channel} out of range for 1 channel")
            np.multiply(samples.reshape(self.n), self._w, out=frame)
        elif channel is not None:
            if not 0 <= channel < samples.shape[1]:
                raise ValueError(f"channel {channel} out of range for {samples.shape[1]}")
            np.multiply(samples[:, channel], self._w, out=frame)
        else:
            np.mean(samples, axis=1, out=self._mix)
            np.multiply(self._mix, self._w, out=frame)
        self._fft.execute()
        np.multiply(self._xv, self._xv, out=self._sq)
        np.add(self._sq[:, 0], self._sq[:, 1], out=self._power)
        self._power *= self._scale
        return self._power

    # -- per result --------------------------------------------------------------------------

    def equivalent_frames(self, averager: Averager | None) -> float:
        """The equivalent independent frames in ``averager``'s result, for :meth:`measure`
        (frames ``hop`` apart overlap, so their powers correlate). Caller's thread."""
        return equivalent_frames(averager, self._rho)

    def measure(
        self, power: NDArray[np.float64], frames: float = 1.0, pfa: float = FALSE_ALARM
    ) -> Measurement | None:
        """The figures for the strongest tone in the band of ``power`` (linear power per bin
        as :meth:`power` returns, usually averaged); None if the band holds no tone: its
        strongest bin is at or below -200 dBFS, or at or below the leakage (-170 dB) of the
        strongest bin outside the band, or not above what noise alone reaches with
        probability ``pfa`` (docs/measure.md) given ``frames``, the equivalent independent
        frames averaged (:meth:`equivalent_frames`; 1, the default, is the strictest).
        Caller's thread; allocates a few arrays of ``bins`` values.
        """
        if power.shape != (self.bins,):
            raise ValueError(f"expected {self.bins} bins, got shape {power.shape}")
        P = power
        Q = np.multiply(P, self._gain, out=self._weighted)  # weighted
        k_lo, k_hi, K, enbw = self._k_lo, self._k_hi, LOBE_HALF_BINS, self.enbw_bins
        band = slice(k_lo, k_hi + 1)
        k0 = k_lo + int(np.argmax(P[band]))
        # No tone: nothing above the dB rows' floor (-200 dBFS: arithmetic residue), or
        # nothing above what the window's sidelobes let through from outside the band
        # (the DC region, a tone below or above the band, Nyquist): docs/measure.md.
        outside = float(P[:k_lo].max())
        if k_hi + 1 < self.bins:
            outside = max(outside, float(P[k_hi + 1 :].max()))
        if not P[k0] > max(POWER_FLOOR, outside * OUTSIDE_LEAK):
            return None
        # The fundamental's lobe, whole even where it reaches past the band's edges (clipped
        # to the DC region and Nyquist only), and its centroid frequency.
        f_lo, f_hi = max(k0 - K, K + 1), min(k0 + K, self.bins - 2)
        lobe = P[f_lo : f_hi + 1]
        f0_bins = float(np.dot(self._idx[f_lo : f_hi + 1], lobe) / np.sum(lobe))

        # Masks over the band: tone regions, harmonics, the rest (noise).
        nb = k_hi - k_lo + 1
        is_fund = np.zeros(nb, dtype=bool)
        fa, fb = max(f_lo, k_lo) - k_lo, min(f_hi, k_hi) - k_lo  # the lobe's part in the band
        is_fund[fa : fb + 1] = True
        is_harm = np.zeros(nb, dtype=bool)
        regions: list[tuple[int, int, int]] = []
        for h in range(2, self.harmonics + 1):
            centre = round(h * f0_bins)
            if centre + K > k_hi:
                break  # above the band (or Nyquist); higher orders are too
            a, b = max(centre - K, k_lo), centre + K
            regions.append((h, a, b))
            is_harm[a - k_lo : b - k_lo + 1] = True
        is_harm &= ~is_fund
        is_noise = ~(is_fund | is_harm)
        Pb, Qb = P[band], Q[band]
        # Noise under each tone's lobe: the mean of the noise bins within NEIGHBOUR_BINS
        # of the lobe (local, so coloured noise and weighting are followed); cumulative sums
        # make each mean O(1).
        cs_n = np.concatenate(([0], np.cumsum(is_noise)))
        cs_p = np.concatenate(([0.0], np.cumsum(np.where(is_noise, Pb, 0.0))))
        cs_q = np.concatenate(([0.0], np.cumsum(np.where(is_noise, Qb, 0.0))))
        n_all = int(cs_n[-1])
        p_all = float(cs_p[-1]) / n_all if n_all else 0.0
        q_all = float(cs_q[-1]) / n_all if n_all else 0.0

        def local(a: int, b: int) -> tuple[float, float]:
            """(unweighted, weighted) noise per bin near band bins a..b."""
            i, j = max(a - NEIGHBOUR_BINS, 0), min(b + NEIGHBOUR_BINS, nb - 1) + 1
            cnt = int(cs_n[j] - cs_n[i])
            if cnt < NEIGHBOUR_BINS:
                return p_all, q_all
            return float(cs_p[j] - cs_p[i]) / cnt, float(cs_q[j] - cs_q[i]) / cnt

        est_q = np.zeros(nb)  # weighted noise per bin estimated under the tones' lobes
        for _, a, b in regions:
            est_q[a - k_lo : b - k_lo + 1] = local(a - k_lo, b - k_lo)[1]
        p_fund, q_fund = local(fa, fb)
        est_q[fa : fb + 1] = q_fund

        n_fund = fb - fa + 1  # in the band
        # Detection: the peak bin over the local noise mean against noise's own maximum.
        i, j = max(fa - NEIGHBOUR_BINS, 0), min(fb + NEIGHBOUR_BINS, nb - 1) + 1
        if int(cs_n[j] - cs_n[i]) < NEIGHBOUR_BINS:
            i, j = 0, nb
        near = np.flatnonzero(is_noise[i:j]) + i
        floor, floor_bins = floor_fit(near + k_lo, Pb[near], k0, frames, self._bin_corr)
        if not P[k0] > floor * ratio_threshold(frames, floor_bins, nb, pfa):
            return None
        fund = max(float(np.sum(lobe)) - p_fund * (f_hi - f_lo + 1), 0.0) / enbw
        if not fund > 0.0:
            return None
        # Harmonics: only those that stand above the noise (docs/measure.md); the others'
        # bins are noise.
        split = split_harmonics(
            Qb, est_q, is_noise, is_fund, regions, k_lo, NEIGHBOUR_BINS, frames,
            self._bin_corr, pfa,
        )  # fmt: skip
        det = split.detected
        harm = max(float(np.sum(Qb[det]) - np.sum(est_q[det])), 0.0) / enbw
        as_noise = is_noise | split.undetected
        noise = (float(np.sum(Qb[as_noise])) + float(np.sum(est_q[~as_noise]))) / enbw
        # Everything but the fundamental: harmonics, noise outside the tones, and the noise
        # estimated under the fundamental's lobe (weighted).
        residual = (float(np.sum(Qb[~is_fund])) + q_fund * n_fund) / enbw

        harmonics: list[Harmonic] = []
        for (h, _, _), hp in zip(regions, split.powers, strict=True):
            level = None if hp is None else _db(hp / enbw / fund)
            harmonics.append(Harmonic(h, h * f0_bins * self.bin_hz, level))

        thd = harm / fund
        thdn = residual / fund
        band_width_hz = nb * self.bin_hz
        return Measurement(
            freq_hz=f0_bins * self.bin_hz,
            level_dbfs=_db(fund),
            total_dbfs=_db(fund + residual),
            thd_db=_db(thd),
            thd_percent=100.0 * math.sqrt(thd),
            thdn_db=_db(thdn),
            thdn_percent=100.0 * math.sqrt(thdn),
            snr_db=_db(fund / noise) if noise > 0.0 else math.inf,
            sinad_db=_db((fund + residual) / residual) if residual > 0.0 else math.inf,
            noise_dbfs=_db(noise),
            noise_density_dbfs_hz=_db(noise / band_width_hz),
            band_hz=self.band_hz,
            harmonics=tuple(harmonics),
            harmonics_requested=self.harmonics,
            weighting=self.weighting,
        )
