"""The constant-Q transform: Brown and Puckette's spectral kernels, applied to FFT frames.

Bin ``k`` of a CQT with ``bins_per_octave`` = B is centred on ``fmin * 2**(k / B)`` Hz. Its
kernel is a window of ``L_k = Q * fs / f_k`` samples times ``exp(2j*pi*f_k*t)``, divided by
the window's sum, with librosa's ``Q = 1 / alpha``, ``alpha = (r**2 - 1) / (r**2 + 1)``,
``r = 2**(1 / B)`` (``filter_scale`` 1, ``gamma`` 0). The kernel is centred in an FFT frame
of ``nfft`` samples (a power of two at least as long as the longest kernel) and transformed
once; the CQT of a frame with spectrum ``X`` is then

    C_k = (1 / nfft) * sum_j X[j] * conj(K_k[j])      (Parseval)

over the non-negative frequencies ``j``, where ``K_k`` keeps only its largest values
(:data:`SPARSITY` of each kernel's L1 mass is dropped, as librosa's ``sparsity=0.01``): one
sparse matrix-vector product per frame. A sine of amplitude ``A`` at ``f_k`` gives
``|C_k| = A / 2``, so the level ``10*log10(4*|C_k|**2)`` is in dBFS: a full-scale sine reads
0 dBFS in its bin.

:class:`CqtKernel` holds the sparse kernels of some bins for one FFT length (used by the
export's batched analysis and, one octave per kernel, by the live app's
:class:`livespec.dsp.cqt_live.LiveCqt`). Pure numpy; build on any thread, then use from one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.windows import make_window

F64 = NDArray[np.float64]
C128 = NDArray[np.complex128]

C1_HZ = 32.703195662574764  # C1 at A4 = 440 Hz: the default lowest bin
MIN_BPO, MAX_BPO = 12, 96
SPARSITY = 0.01  # fraction of each kernel's L1 mass dropped (librosa's default)
DBFS_FLOOR = 1e-20  # power floor of CQT levels (-200 dBFS)


def cqt_q(bins_per_octave: int) -> float:
    """The quality factor ``f / bandwidth`` of a CQT bin (librosa's, filter_scale 1)."""
    r2 = math.pow(2.0, 2.0 / bins_per_octave)
    return (r2 + 1.0) / (r2 - 1.0)


@dataclass(frozen=True)
class CqtLayout:
    """Which CQT bins: ``n_bins`` bins from ``fmin`` Hz, ``bins_per_octave`` per octave."""

    fmin: float = C1_HZ
    bins_per_octave: int = 12
    n_bins: int = 84

    @property
    def q(self) -> float:
        """Quality factor (centre frequency over bandwidth)."""
        return cqt_q(self.bins_per_octave)

    def freqs(self) -> F64:
        """Centre frequency of each bin, Hz."""
        k = np.arange(self.n_bins, dtype=np.float64)
        out: F64 = self.fmin * 2.0 ** (k / self.bins_per_octave)
        return out

    def lengths(self, samplerate: float) -> F64:
        """Kernel length of each bin in samples (fractional): ``Q * fs / f``."""
        out: F64 = self.q * float(samplerate) / self.freqs()
        return out

    def index(self, f: F64) -> F64:
        """Fractional bin index of frequencies ``f`` Hz (0 = the first bin's centre)."""
        out: F64 = self.bins_per_octave * np.log2(np.maximum(f, 1e-9) / self.fmin)
        return out

    def top_hz(self) -> float:
        """The highest frequency a kernel reaches (the top bin plus half its bandwidth), Hz."""
        f_top = self.fmin * math.pow(2.0, (self.n_bins - 1) / self.bins_per_octave)
        return f_top * (1.0 + 0.5 * 2.0 / self.q)  # hann's main lobe: 2 bins either side


def fft_length(max_kernel: float, minimum: int = 64) -> int:
    """The power of two (at least ``minimum``) that holds a kernel of ``max_kernel`` samples."""
    return max(minimum, 1 << max(0, math.ceil(math.log2(max(1.0, math.ceil(max_kernel))))))


def time_kernel(f: float, length: float, samplerate: float, window: str) -> C128:
    """One kernel in the time domain: a window of ``length`` samples (librosa's rounding:
    ``arange(-length // 2, length // 2)``) times ``exp(2j*pi*f*t)``, over the window's sum."""
    t = np.arange(-(length // 2), length // 2, dtype=np.float64)
    w = make_window(window, t.shape[0])
    k: C128 = w * np.exp(2j * np.pi * f * t / samplerate)
    k /= np.sum(np.abs(k))
    return k


class CqtKernel:
    """The sparse spectral kernels of some CQT bins for one FFT length.

    Args:
        layout: the bins.
        samplerate: Hz.
        nfft: FFT length (a power of two at least as long as the longest kernel used).
        window: the kernels' window (a livespec window name; librosa uses hann).
        bins: which of ``layout``'s bins (default: all), in increasing order.
        sparsity: fraction of each kernel's L1 mass dropped.

    Attributes:
        nnz: values kept in all kernels together.
    """

    def __init__(
        self,
        layout: CqtLayout,
        samplerate: float,
        nfft: int,
        window: str = "hann",
        bins: range | None = None,
        sparsity: float = SPARSITY,
    ) -> None:
        self.layout = layout
        self.nfft = int(nfft)
        self.bins = range(layout.n_bins) if bins is None else bins
        freqs = layout.freqs()
        lengths = layout.lengths(samplerate)
        idx: list[NDArray[np.intp]] = []
        vals: list[C128] = []
        starts = np.zeros(len(self.bins), dtype=np.intp)
        half = self.nfft // 2
        pos = 0
        for i, k in enumerate(self.bins):
            tk = time_kernel(float(freqs[k]), float(lengths[k]), samplerate, window)
            m = tk.shape[0]
            if m > self.nfft:
                raise ValueError(f"CQT kernel of {m} samples exceeds the FFT length {self.nfft}")
            frame = np.zeros(self.nfft, dtype=np.complex128)
            first = half - m // 2
            frame[first : first + m] = tk
            spec = np.fft.fft(frame)[: half + 1]
            mag = np.abs(spec)
            keep = _kept(mag, sparsity)
            j = np.arange(keep[0], keep[1], dtype=np.intp)
            idx.append(j)
            vals.append((np.conj(spec[j]) / self.nfft).astype(np.complex128))
            starts[i] = pos
            pos += j.shape[0]
        self.idx: NDArray[np.intp] = np.concatenate(idx)
        self.vals: C128 = np.concatenate(vals)
        self.starts = starts
        self.nnz = int(self.idx.shape[0])
        self._prod: C128 = np.empty(0, dtype=np.complex128)

    def apply(self, spectra: C128) -> C128:
        """CQT values, shape (frames, bins), of spectra (frames, nfft // 2 + 1)."""
        prod = spectra[:, self.idx] * self.vals
        out: C128 = np.add.reduceat(prod, self.starts, axis=1)
        return out

    def power_dbfs(self, spectrum: C128, out: F64) -> F64:
        """``4 * |C|**2`` (full-scale sine = 1.0) of one spectrum into ``out`` (bins,);
        reuses its buffers (one thread at a time)."""
        if self._prod.shape[0] != self.nnz:
            self._prod = np.empty(self.nnz, dtype=np.complex128)
        prod = self._prod
        np.take(spectrum, self.idx, out=prod)
        np.multiply(prod, self.vals, out=prod)
        c = np.add.reduceat(prod, self.starts)
        np.multiply(c.real, c.real, out=out)
        out += c.imag * c.imag
        out *= 4.0
        return out


def _kept(mag: F64, sparsity: float) -> tuple[int, int]:
    """The band ``[lo, hi)`` of bins left when the two tails, each up to half of
    ``sparsity`` of the L1 mass, are dropped (a kernel's spectrum is one lobe with decaying
    side lobes, so this is librosa's quantile rule made contiguous)."""
    total = float(mag.sum())
    if total <= 0.0 or sparsity <= 0.0:
        return 0, mag.shape[0]
    cut = 0.5 * sparsity * total
    left = np.cumsum(mag)
    lo = int(np.searchsorted(left, cut, side="right"))
    right = np.cumsum(mag[::-1])
    hi = mag.shape[0] - int(np.searchsorted(right, cut, side="right"))
    return min(lo, hi - 1), max(hi, lo + 1)
