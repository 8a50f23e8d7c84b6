"""One planned analyzer: frame of samples -> windowed real FFT -> calibrated dBFS row.

Calibration (docs/dsp.md): a full-scale sine (amplitude 1.0) exactly at a bin centre reads
0.0 dBFS at its peak, for every window, frame length and zero padding::

    level[k] = 10 * log10(4 * |X[k]|**2 / S1**2)   (0 < k < nfft/2)
    level[k] = 10 * log10(|X[k]|**2 / S1**2)       (k = 0, and k = nfft/2 for even nfft)

with ``S1 = sum(window)`` over the n window samples, and power floored at 1e-20 (-200 dBFS).
This is scipy's ``spectrogram(..., scaling='spectrum', mode='psd')`` + 3.0103 dB.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.fftw import RealFFT, load_wisdom, save_wisdom
from livespec.dsp.windows import make_window, window_info

MIN_N = 64
MAX_N = 65536
POWER_FLOOR = 1e-20  # -200 dBFS
NEW_PLAN_SECONDS = 0.02  # planning longer than this measured a new plan
_DB_PER_NEPER_POWER = np.float32(10.0 / np.log(10.0))  # 10*log10(p) = this * ln(p)
_FLOOR32 = np.float32(POWER_FLOOR)


class Spectrum:
    """A planned analyzer for one configuration (frame length, window, zero padding).

    Build it, then call :meth:`compute` and :meth:`db` once per frame, all from one thread
    (the engine's worker thread). Nothing is allocated per frame except when the caller lets
    :meth:`db` allocate its output.

    Args:
        n: samples per frame, 64..65536 (any integer).
        window: a name from :data:`livespec.dsp.windows.WINDOW_NAMES`.
        beta: Kaiser beta (ignored by other windows).
        zero_pad: integer factor >= 1; the FFT has ``nfft = n * zero_pad`` points.
        backend: "auto" (pyFFTW if importable, else numpy), "fftw" or "numpy".
        wisdom: load FFTW wisdom from the user cache before planning, and save it afterwards
            if planning added to it (or no wisdom file could be loaded).

    Attributes:
        n: samples per frame.
        nfft: FFT length (samples, n * zero_pad).
        bins: length of a spectrum row, nfft // 2 + 1.
        window_name, beta, zero_pad: as given.
        backend_name: "fftw" or "numpy".
        plan_seconds: time spent planning the FFT (s).
        wisdom_loaded: True if wisdom was read from disk before planning.
        wisdom_saved: True if wisdom was written after planning.
        window: the periodic window, float32, length n.
        info: its :class:`~livespec.dsp.windows.WindowInfo`.

    Raises:
        ValueError: n, zero_pad, window or backend out of range; "fftw" without pyFFTW.
    """

    def __init__(
        self,
        n: int,
        window: str = "hann",
        *,
        beta: float = 8.6,
        zero_pad: int = 1,
        backend: str = "auto",
        wisdom: bool = True,
    ) -> None:
        if isinstance(n, bool) or int(n) != n or not MIN_N <= int(n) <= MAX_N:
            raise ValueError(f"frame length must be an integer in {MIN_N}..{MAX_N}, got {n}")
        if isinstance(zero_pad, bool) or int(zero_pad) != zero_pad or int(zero_pad) < 1:
            raise ValueError(f"zero_pad must be an integer >= 1, got {zero_pad}")
        if backend not in ("auto", "fftw", "numpy"):
            raise ValueError(f"unknown FFT backend {backend!r}; valid: auto, fftw, numpy")
        self.n = int(n)
        self.zero_pad = int(zero_pad)
        self.nfft = self.n * self.zero_pad
        self.bins = self.nfft // 2 + 1
        self.window_name = window
        self.beta = float(beta)
        w64 = make_window(window, self.n, self.beta)  # validates the name
        self.info = window_info(window, self.n, self.beta)
        self.window: NDArray[np.float32] = w64.astype(np.float32)

        self.wisdom_loaded = False
        self.wisdom_saved = False
        use_wisdom = wisdom and backend != "numpy"
        if use_wisdom:
            self.wisdom_loaded = load_wisdom()  # read once per process, then remembered
        fft = RealFFT(self.nfft, backend)
        self.backend_name = fft.backend
        self.plan_seconds = fft.plan_seconds
        # A plan from wisdom takes well under a millisecond; one that took longer was
        # measured anew, so the wisdom file is worth rewriting.
        if (
            use_wisdom
            and fft.backend == "fftw"
            and (fft.plan_seconds > NEW_PLAN_SECONDS or not self.wisdom_loaded)
        ):
            save_wisdom()
            self.wisdom_saved = True
        self._fft = fft
        self._execute = fft.execute
        self._in_frame = fft.input[: self.n]  # the padding after it stays zero
        self._X = fft.output
        self._Xv = fft.output.view(np.float64).reshape(self.bins, 2)  # (re, im) pairs

        # Per-bin power scale: 4/S1^2, but 1/S1^2 at DC and (even nfft) Nyquist.
        s1 = float(np.sum(w64))
        scale = np.full(self.bins, 4.0 / (s1 * s1))
        scale[0] = 1.0 / (s1 * s1)
        if self.nfft % 2 == 0:
            scale[-1] = 1.0 / (s1 * s1)
        self._scale = scale
        self._sq = np.empty((self.bins, 2), dtype=np.float64)
        self._power = np.empty(self.bins, dtype=np.float64)
        self._w64 = w64
        self._mix = np.empty(self.n, dtype=np.float64)
        self._mix_window = w64.copy()
        self._mix_channels = 1

    def compute(
        self, samples: NDArray[np.float32], channel: int | None = None
    ) -> NDArray[np.complex128]:
        """Window one frame and FFT it; return the complex spectrum (length ``bins``).

        Args:
            samples: shape (n, channels) or (n,), float32 (any strides, e.g. a ring view).
            channel: analyse this channel only; None mixes all channels (their mean).

        Returns:
            The internal complex128 output buffer, valid until the next call. Engine thread.

        Raises:
            ValueError: wrong frame length or channel out of range.
        """
        n = self.n
        if samples.shape[0] != n:
            raise ValueError(f"expected {n} samples per frame, got {samples.shape[0]}")
        frame = self._in_frame
        if samples.ndim == 1:
            if channel not in (None, 0):
                raise ValueError(f"channel {channel} out of range for 1 channel")
            np.multiply(samples, self._w64, out=frame)
        else:
            channels = samples.shape[1]
            if channel is not None:
                if not 0 <= channel < channels:
                    raise ValueError(f"channel {channel} out of range for {channels} channels")
                np.multiply(samples[:, channel], self._w64, out=frame)
            elif channels == 1:
                np.multiply(samples[:, 0], self._w64, out=frame)
            else:
                mix = self._mix
                np.add(samples[:, 0], samples[:, 1], out=mix)
                for c in range(2, channels):
                    np.add(mix, samples[:, c], out=mix)
                if channels != self._mix_channels:
                    np.multiply(self._w64, 1.0 / channels, out=self._mix_window)
                    self._mix_channels = channels
                np.multiply(mix, self._mix_window, out=frame)
        self._execute()
        return self._X

    def db(self, out: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
        """The dBFS row (float32, length ``bins``) of the last :meth:`compute`. Engine thread.

        Full-scale sine at a bin centre = 0.0 dBFS at its peak; floor -200 dBFS. Writes into
        ``out`` if given (float32, length bins), else into a new array.
        """
        if out is None:
            out = np.empty(self.bins, dtype=np.float32)
        sq, power = self._sq, self._power
        xv = self._Xv
        np.multiply(xv, xv, out=sq)  # power in float64, the logarithm in float32
        np.add(sq[:, 0], sq[:, 1], out=power)
        # Scaled in float64 and rounded once to float32, then floored in float32: rounding
        # is monotonic, so this equals flooring in float64 first, on half the bytes.
        np.multiply(power, self._scale, out=out, casting="same_kind")
        np.maximum(out, _FLOOR32, out=out)
        np.log(out, out=out)  # numpy's float32 log is SIMD; its log10 is ~4x slower
        np.multiply(out, _DB_PER_NEPER_POWER, out=out)
        return out

    def freqs(self, samplerate: float) -> NDArray[np.float64]:
        """Centre frequency of every bin, in Hz, for ``samplerate`` (Hz)."""
        return np.arange(self.bins, dtype=np.float64) * (float(samplerate) / self.nfft)
