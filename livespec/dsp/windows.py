"""Periodic (DFT-even) analysis windows, their figures of merit and their transforms.

Every window here equals ``scipy.signal.get_window(spec, n, fftbins=True)`` for the spec
given by :func:`scipy_window_spec`, but is computed with numpy alone (scipy is a test-only
dependency). :class:`WindowTransform` evaluates a window's DTFT at fractional FFT bins;
the peak estimator fits it to the complex spectrum.

Nothing here keeps state between calls except :func:`window_transform`'s small cache of
transforms; all functions may be called from any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

WINDOW_NAMES: tuple[str, ...] = (
    "rect",
    "hann",
    "hamming",
    "blackman",
    "blackman-harris",
    "flattop",
    "kaiser",
)

# scipy's general-cosine coefficients: w = sum_k a_k cos(k * x), x = linspace(-pi, pi, n + 1).
_COSINE_COEFFS: dict[str, tuple[float, ...]] = {
    "rect": (1.0,),
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.50, 0.08),
    "blackman-harris": (0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}

_SCIPY_NAMES: dict[str, str] = {
    "rect": "boxcar",
    "hann": "hann",
    "hamming": "hamming",
    "blackman": "blackman",
    "blackman-harris": "blackmanharris",
    "flattop": "flattop",
}

# Kaiser transform table: samples per bin and reach (bins of n) of the tabulated part.
_KAISER_STEPS_PER_BIN = 32
_KAISER_REACH_BINS = 512


def _check_name(name: str) -> None:
    if name not in WINDOW_NAMES:
        raise ValueError(f"unknown window {name!r}; valid names: {', '.join(WINDOW_NAMES)}")


def scipy_window_spec(name: str, beta: float = 8.6) -> str | tuple[str, float]:
    """The ``scipy.signal.get_window`` spec equal to livespec's window ``name`` (for tests)."""
    _check_name(name)
    if name == "kaiser":
        return ("kaiser", float(beta))
    return _SCIPY_NAMES[name]


def make_window(name: str, n: int, beta: float = 8.6) -> NDArray[np.float64]:
    """The periodic window ``name`` of ``n`` samples (float64, peak value about 1).

    Args:
        name: one of :data:`WINDOW_NAMES`.
        n: length in samples (>= 1).
        beta: Kaiser shape parameter (ignored by the other windows).

    Raises:
        ValueError: unknown name or ``n < 1``.
    """
    _check_name(name)
    n = int(n)
    if n < 1:
        raise ValueError(f"window length must be >= 1 samples, got {n}")
    if n == 1:
        return np.ones(1)
    if name == "kaiser":
        # scipy: symmetric kaiser of n + 1 points with the last one dropped.
        m = np.arange(n + 1, dtype=np.float64)
        alpha = n / 2.0
        arg = beta * np.sqrt(1.0 - ((m - alpha) / alpha) ** 2.0)
        w: NDArray[np.float64] = np.i0(arg) / np.i0(float(beta))
        return w[:n].copy()
    coeffs = _COSINE_COEFFS[name]
    fac = np.linspace(-np.pi, np.pi, n + 1)
    w = np.zeros(n + 1)
    for k, a in enumerate(coeffs):
        w += a * np.cos(k * fac)
    return w[:n].copy()


@dataclass(frozen=True)
class WindowInfo:
    """Figures of merit of one periodic window.

    Attributes:
        name: window name.
        n: length in samples.
        beta: Kaiser beta (kept for every window, used only by kaiser).
        coherent_gain: ``sum(w) / n`` (amplitude gain for a tone at a bin centre).
        enbw_bins: equivalent noise bandwidth, ``n * sum(w**2) / sum(w)**2``, in bins of n.
        sum: ``sum(w)`` (S1), the dBFS calibration constant.
    """

    name: str
    n: int
    beta: float
    coherent_gain: float
    enbw_bins: float
    sum: float


def window_info(name: str, n: int, beta: float = 8.6) -> WindowInfo:
    """Coherent gain, ENBW (bins) and sum of the periodic window ``name`` of ``n`` samples."""
    w = make_window(name, n, beta)
    s1 = float(np.sum(w))
    s2 = float(np.sum(w * w))
    return WindowInfo(
        name=name,
        n=int(n),
        beta=float(beta),
        coherent_gain=s1 / n,
        enbw_bins=n * s2 / (s1 * s1),
        sum=s1,
    )


def mainlobe_halfwidth(name: str, beta: float = 8.6) -> float:
    """Distance from the centre of the main lobe to its first null, in bins of n.

    Exact for the cosine-sum windows (1 for rect, 2 for hann and hamming, 3 blackman,
    4 blackman-harris, 5 flattop); ``sqrt(1 + (beta/pi)**2)`` for kaiser.
    """
    _check_name(name)
    if name == "kaiser":
        return math.sqrt(1.0 + (beta / math.pi) ** 2)
    return float(len(_COSINE_COEFFS[name]))


class WindowTransform:
    """Evaluates a window's DTFT ``W(nu) = sum_m w[m] exp(-2j*pi*nu*m/nfft)``.

    ``nu`` is in FFT bins of size ``nfft = n * zero_pad``. Cosine-sum windows use a closed
    form (a sum of shifted Dirichlet kernels, exact to rounding). Kaiser uses
    ``W(nu) = w[0] + exp(-j*pi*nu*n/nfft) * R(nu)`` with the real, even ``R`` tabulated once
    (32 steps per bin of n, value and slope, cubic Hermite interpolation) over +-512 bins
    of n, or all of them for n <= 1006; beyond that reach ``R`` is taken as 0. Errors, as a
    fraction of ``sum(w)``: within reach below 1e-8 for beta >= 8 (5e-8 for beta = 0);
    beyond it the window's own far sidelobes, 2e-6 (-114 dB) for beta = 8.6 but up to 6e-4
    (-64 dB) for beta = 0, whose window is rect.

    ``W(nu) = exp(-j*pi*phase_slope*nu/nfft) * A(nu)`` where :meth:`reduced` gives ``A``
    without the linear phase (the peak fit removes that phase from the data instead).

    Build once (the Kaiser table costs about 15 ms at n = 4096, 0.2 s at 65536), then call
    from one thread at a time (the engine's worker thread); calls allocate small arrays.

    Attributes:
        name, n, nfft, beta: the window and transform size.
        phase_slope: ``n - 1`` for cosine-sum windows, ``n`` for kaiser.
    """

    def __init__(self, name: str, n: int, nfft: int, beta: float = 8.6) -> None:
        _check_name(name)
        n = int(n)
        nfft = int(nfft)
        if n < 2 or nfft < n:
            raise ValueError(f"need n >= 2 and nfft >= n, got n={n}, nfft={nfft}")
        self.name = name
        self.n = n
        self.nfft = nfft
        self.beta = float(beta)
        self._zp = nfft / n  # zero-padding factor (bins of nfft per bin of n)
        if name == "kaiser":
            self.phase_slope = float(n)
            self._init_kaiser()
        else:
            self.phase_slope = float(n - 1)
            # w[m] = sum_k b_k cos(2 pi k m / n), b_k = (-1)^k a_k; each cosine is two shifted
            # Dirichlet kernels D(nu -+ k*zp), D(e) = exp(-j pi e (n-1)/nfft) * dr(e), with
            # dr(e) = sin(pi e n/nfft) / sin(pi e/nfft). The common factor exp(-j pi nu
            # (n-1)/nfft) is left out of A; the rest of each phase goes into its weight.
            coeffs = _COSINE_COEFFS[name]
            shifts: list[float] = []
            weights: list[complex] = []
            for k, a in enumerate(coeffs):
                b = a * (-1.0) ** k
                for sign in (1,) if k == 0 else (1, -1):
                    shift = sign * k * self._zp
                    c = b if k == 0 else b / 2.0
                    shifts.append(shift)
                    weights.append(c * np.exp(1j * np.pi * shift * (n - 1) / nfft))
            self._shifts = np.asarray(shifts, dtype=np.float64)
            w = np.asarray(weights, dtype=np.complex128)
            # (terms, 2) real: dr @ this gives (re, im) pairs, viewed as complex128.
            self._weights = np.ascontiguousarray(np.stack([w.real, w.imag], axis=1))
            signs = np.round(self._shifts / self._zp) % 2 * -2.0 + 1.0  # (-1)^j
            self._signed_weights = self._weights * signs[:, None]
            self._shifts_a = self._shifts * (np.pi / nfft)

    def _init_kaiser(self) -> None:
        n = self.n
        w = make_window("kaiser", n, self.beta)
        self._w0 = float(w[0])
        steps = _KAISER_STEPS_PER_BIN
        reach = min(_KAISER_REACH_BINS, n // 2 + 9)  # reduced() goes to n/2 + 8
        size = reach * steps + 1
        m = np.arange(n, dtype=np.float64)
        v = w.copy()
        v[0] = 0.0  # w[0] is kept apart, R holds the symmetric part m = 1..n-1
        vd = v * (m - n / 2.0)
        value = np.empty(size)
        slope = np.empty(size)
        p = np.arange(reach + 1)
        pm = p % n  # a DFT is periodic in its index; needed only for tiny n
        for r in range(steps):
            # R(u) = Re[e^{j pi u} sum_m v[m] e^{-2 pi j u m / n}], u = p + r/steps bins of n;
            # dR/du = (2 pi / n) Im[e^{j pi u} sum_m v[m] (m - n/2) e^{-2 pi j u m / n}].
            u = p + r / steps
            mod = np.exp(-2j * np.pi * r * m / (n * steps))
            rot = np.exp(1j * np.pi * u)
            f_val = np.fft.fft(v * mod)[pm] * rot
            f_der = np.fft.fft(vd * mod)[pm] * rot
            idx = p * steps + r
            keep = idx < size
            value[idx[keep]] = f_val.real[keep]
            slope[idx[keep]] = (2.0 * np.pi / n) * f_der.imag[keep]
        # Cubic Hermite per interval as polynomial coefficients in t (0..1); one extra row
        # of zeros serves every u beyond the reach.
        h = 1.0 / steps
        r0, r1 = value[:-1], value[1:]
        d0, d1 = h * slope[:-1], h * slope[1:]
        coef = np.zeros((size, 4))
        coef[:-1, 0] = r0
        coef[:-1, 1] = d0
        coef[:-1, 2] = -3.0 * r0 - 2.0 * d0 + 3.0 * r1 - d1
        coef[:-1, 3] = 2.0 * r0 + d0 - 2.0 * r1 + d1
        self._coef = coef
        self._steps = float(steps)
        self._last = size - 1

    def reduced(self, nu: ArrayLike) -> NDArray[np.complex128]:
        """``A(nu) = W(nu) * exp(j*pi*phase_slope*nu/nfft)`` for ``|nu| <= nfft/2 + 8*zero_pad``.

        No wrapping is done, for speed (use :meth:`__call__` for any ``nu``): further out the
        kernels meet their aliases. Complex128 of the shape of ``nu``.
        """
        x = np.asarray(nu, dtype=np.float64)
        n = self.n
        if self.name == "kaiser":
            pos = np.abs(x) * (self._steps / self._zp)
            i = np.minimum(pos.astype(np.intp), self._last)
            t = pos - i
            c = self._coef[i]  # (..., 4)
            res = np.empty(x.shape, dtype=np.complex128)
            ph = x * (np.pi * n / self.nfft)
            r = ((c[..., 3] * t + c[..., 2]) * t + c[..., 1]) * t + c[..., 0]
            res.real = r + self._w0 * np.cos(ph)
            res.imag = self._w0 * np.sin(ph)
            return res
        # sin(n*a_s) = (-1)^j sin(pi*nu/zp) for the shift s = j*zp: one numerator for all
        # kernels; the signs (-1)^j are folded into the weights.
        a = np.subtract.outer(x * (np.pi / self.nfft), self._shifts_a)  # pi * (nu - s) / nfft
        den = np.sin(a)
        if not den.all():  # nu exactly at a kernel's centre: its limit is n
            num = np.sin(a * n)
            zero = den == 0.0
            den[zero] = 1.0
            num[zero] = float(n)
            pairs = (num / den) @ self._weights
        else:
            pairs = np.reciprocal(den, out=den) @ self._signed_weights
            pairs *= np.sin(x * (np.pi / self._zp))[..., None]
        out: NDArray[np.complex128] = pairs.view(np.complex128)[..., 0]
        return out

    def __call__(self, nu: ArrayLike) -> NDArray[np.complex128]:
        """``W(nu)`` for ``nu`` in bins of nfft (any shape); complex128 of the same shape."""
        x = np.asarray(nu, dtype=np.float64)
        x = x - self.nfft * np.round(x / self.nfft)  # W is periodic in nfft
        ph = x * (-np.pi * self.phase_slope / self.nfft)
        rot = np.empty(x.shape, dtype=np.complex128)
        rot.real = np.cos(ph)
        rot.imag = np.sin(ph)
        out: NDArray[np.complex128] = self.reduced(x) * rot
        return out


@lru_cache(maxsize=16)
def _cached_transform(name: str, n: int, nfft: int, beta: float) -> WindowTransform:
    return WindowTransform(name, n, nfft, beta)


def window_transform(
    name: str, n: int, nfft: int, nu: ArrayLike, beta: float = 8.6
) -> NDArray[np.complex128]:
    """The DTFT of the periodic window ``name`` (n samples) at ``nu`` bins of ``nfft``.

    ``W(nu) = sum_{m=0}^{n-1} w[m] exp(-2j*pi*nu*m/nfft)``; ``W(0) = sum(w)``. The
    :class:`WindowTransform` behind it is cached per (name, n, nfft, beta); hot loops should
    hold a :class:`WindowTransform` themselves.
    """
    return _cached_transform(name, int(n), int(nfft), float(beta))(nu)
