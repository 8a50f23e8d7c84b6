"""Single-precision analysis, as ``scipy.signal.spectrogram`` computes integer input.

scipy works in ``result_type(x, complex64)``: for int16 samples that is complex64. The
window is rounded to complex64 in every case (and the power scale computed from it in
complex64); without detrending (the Kaggle ``log_specgram`` recipe: ``detrend=False`` on
``wavfile.read``'s int16 array) the window product, FFT, power and scaling are all float32
too, and that rounding moves weak bins by up to about 1e-2 in the natural log (with
detrending, scipy's ``detrend`` returns float64 and the rest is double precision:
livespec's ``precision="mixed"``). To reproduce that output
value for value, :class:`SingleAnalysis` does the same steps in float32 with scipy's own
FFT (``scipy.fft.rfft``, pocketfft; imported only here, when asked for): the result
agrees with scipy's within about 1e-6. Used by :class:`~livespec.export.dsp.BatchAnalyzer`
for a recipe with ``precision="single"``; caller's thread.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]


def scipy_scale(window: NDArray[np.float64], nfft: int, level: str, samplerate: float) -> F32:
    """scipy's per-bin power scale for integer input, computed as scipy does from the
    window rounded to complex64: ``1.0 / (fs * (win*win).sum())`` ("density") or ``1.0 /
    win.sum()**2`` ("spectrum"), doubled except at DC (and Nyquist for an even nfft)."""
    wc = window.astype(np.float32).astype(np.complex64)
    if level == "density":
        scale = np.complex64(1.0) / (np.float32(samplerate) * (wc * wc).sum())
    else:
        scale = np.complex64(1.0) / wc.sum() ** 2
    s = np.float32(np.real(scale))
    out = np.full(nfft // 2 + 1, s * np.float32(2.0), dtype=np.float32)
    out[0] = s
    if nfft % 2 == 0:
        out[-1] = s
    return out


def scipy_available() -> bool:
    """True if scipy can be imported (without importing it)."""
    return importlib.util.find_spec("scipy") is not None


class SingleAnalysis:
    """Levels of a batch of frames in float32, step by step as scipy.

    Args:
        window: the window (float64; used as float32, as scipy's ``win.astype(complex64)``).
        nfft: FFT length (zero padding past the window).
        gain: factor on the samples (32768 for int16 values: exact in float32).
        level: "density" (``1 / (fs * sum(w**2))``) or "spectrum" (``1 / sum(w)**2``).
        samplerate: Hz.
        batch: largest number of frames per call.
    """

    def __init__(
        self,
        window: NDArray[np.float64],
        nfft: int,
        gain: float,
        level: str,
        samplerate: float,
        batch: int,
    ) -> None:
        import scipy.fft

        self._rfft: Callable[..., Any] = scipy.fft.rfft
        self.nfft = nfft
        self._w = window.astype(np.float32)
        self._gain = np.float32(gain)
        self._scale = scipy_scale(window, nfft, level, samplerate)
        bins = nfft // 2 + 1
        self._xw = np.empty((batch, window.shape[0]), dtype=np.float32)
        self._im = np.empty((batch, bins), dtype=np.float32)

    def power(self, frames: F32, out: F32) -> None:
        """Scaled one-sided power of ``frames`` (f, n) into ``out`` (f, bins), float32."""
        f = frames.shape[0]
        xw = self._xw[:f]
        np.multiply(frames, self._gain, out=xw)  # integer values: exact
        np.multiply(xw, self._w, out=xw)
        spec = self._rfft(xw, n=self.nfft, axis=-1)  # complex64
        im = self._im[:f]
        np.multiply(spec.real, spec.real, out=out)
        np.multiply(spec.imag, spec.imag, out=im)
        np.add(out, im, out=out)  # conj(X) * X, real part
        np.multiply(out, self._scale, out=out)
