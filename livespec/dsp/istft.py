"""Short-time Fourier transform, its inverse and Griffin-Lim, on whole signals in memory.

The framing is the export's (:mod:`livespec.export.frames`): frame ``k`` covers samples
``[k*hop, k*hop + n)`` of the signal, padded with ``pad`` samples at each end when centred
(zeros, or a reflection without the edge sample, numpy's ``mode="reflect"``); each frame is
multiplied by the window (``n`` samples) and zero-padded to ``nfft`` before a real FFT. The
coefficients are unscaled (``numpy.fft.rfft`` of the windowed frame, ``librosa.stft``'s
convention); levels in dB are a per-bin scale of ``|X|**2`` applied by the caller.

The inverse is the weighted overlap-add: ``y[t] = sum_k w[t-k*hop] x_k[t-k*hop] /
sum_k w[t-k*hop]**2``, exact wherever the window sum is not 0 (a sample no window sees,
such as the first of an uncentred Hann analysis, comes back as 0). Griffin-Lim's
estimates are not consistent, so there samples whose window sum is below ``GL_FLOOR``
times its maximum are set to 0 rather than divided into spikes. Griffin-Lim is the fast variant with
momentum of Perraudin, Balazs and Sondergaard (2013), step for step ``librosa.griffinlim``'s.

Caller's thread; float64 throughout; memory is a few copies of the complex STFT.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
C128 = NDArray[np.complex128]
EXACT_FLOOR = 1e-30  # window sums of squares below this fraction of the maximum: no sample
GL_FLOOR = 1e-10  # the same for Griffin-Lim's estimates
EPS = float(np.finfo(np.float64).tiny)  # librosa's util.tiny for float64


def frame_count(length: int, n: int, hop: int, pad: int) -> int:
    """Frames of ``n`` samples every ``hop`` over ``length`` samples padded by ``pad``."""
    total = length + 2 * pad
    return 0 if length <= 0 or total < n else 1 + (total - n) // hop


def stft(
    x: NDArray[np.floating], window: F64, hop: int, nfft: int, pad: int, pad_mode: str
) -> C128:
    """The complex STFT of the 1-D signal ``x``, shape (frames, nfft // 2 + 1)."""
    n = window.shape[0]
    xs = np.asarray(x, dtype=np.float64)
    if pad:
        xs = np.pad(xs, pad, mode="reflect" if pad_mode == "reflect" else "constant")
    count = frame_count(x.shape[0], n, hop, pad)
    frames = np.lib.stride_tricks.sliding_window_view(xs, n)[::hop][:count]
    out = np.empty((count, nfft // 2 + 1), dtype=np.complex128)
    step = max(1, (1 << 18) // nfft)  # bounded temporaries: ~256 Ki samples per batch
    for i in range(0, count, step):
        out[i : i + step] = np.fft.rfft(frames[i : i + step] * window, n=nfft, axis=-1)
    return out


def overlap_add(frames: F64, hop: int) -> F64:
    """``sum_k frames[k]`` placed at ``k*hop``: ``(count - 1) * hop + n`` samples. One
    vectorised add per ``hop`` columns of a frame, not one per frame."""
    count, n = frames.shape
    r = -(-n // hop)  # pieces of hop samples in a frame
    acc = np.zeros((count + r, hop))
    for j in range(r):
        piece = frames[:, j * hop : min(n, (j + 1) * hop)]
        acc[j : j + count, : piece.shape[1]] += piece
    return acc.reshape(-1)[: (count - 1) * hop + n]


def window_sumsquare(window: F64, hop: int, frames: int) -> F64:
    """``sum_k w[t - k*hop]**2`` over the overlap-add of ``frames`` frames."""
    sq = window * window
    return overlap_add(np.broadcast_to(sq, (frames, sq.shape[0])), hop)


def istft(
    X: C128,
    window: F64,
    hop: int,
    nfft: int,
    pad: int,
    length: int,
    floor: float = EXACT_FLOOR,
    wss: F64 | None = None,
) -> F64:
    """The signal of ``length`` samples whose STFT (as :func:`stft`) is ``X``: the weighted
    overlap-add, exact for a consistent ``X``. Samples no frame covers, or whose window sum
    of squares is below ``floor`` times its maximum, are 0. ``wss``: the window sum of
    squares (:func:`window_sumsquare`), if already known."""
    n = window.shape[0]
    count = X.shape[0]
    frames = np.empty((count, n))
    step = max(1, (1 << 18) // nfft)
    for i in range(0, count, step):
        frames[i : i + step] = np.fft.irfft(X[i : i + step], n=nfft, axis=-1)[:, :n]
    frames *= window
    acc = overlap_add(frames, hop)
    if wss is None:
        wss = window_sumsquare(window, hop, count)
    ok = wss > floor * float(wss.max())
    acc[ok] /= wss[ok]
    acc[~ok] = 0.0
    y = np.zeros(length)
    part = acc[pad : pad + length]
    y[: part.shape[0]] = part
    return y


def spectral_convergence_db(magnitude: F64, X: C128) -> float:
    """``20*log10(||magnitude - |X| ||_F / ||magnitude||_F)`` in dB (-inf if equal)."""
    ref = float(np.linalg.norm(magnitude))
    err = float(np.linalg.norm(magnitude - np.abs(X)))
    if ref == 0.0:
        return 0.0 if err == 0.0 else math.inf
    return -math.inf if err == 0.0 else 20.0 * math.log10(err / ref)


def griffin_lim(
    magnitude: F64,
    window: F64,
    hop: int,
    nfft: int,
    pad: int,
    pad_mode: str,
    length: int,
    *,
    n_iter: int = 32,
    momentum: float = 0.99,
    init: str | None = "random",
    seed: int | None = 0,
) -> tuple[F64, float]:
    """A signal of ``length`` samples whose STFT magnitude approaches ``magnitude`` (frames,
    bins), by ``n_iter`` iterations of fast Griffin-Lim (``momentum`` 0 is the original
    algorithm); phases start random (``seed``) or at 0 (``init=None``). Returns the signal
    and its spectral convergence in dB (:func:`spectral_convergence_db` of its own STFT)."""
    rng = np.random.default_rng(seed)
    if init == "random":
        angles: C128 = np.exp(2j * np.pi * rng.random(magnitude.shape))
    else:
        angles = np.ones(magnitude.shape, dtype=np.complex128)
    angles *= magnitude
    wss = window_sumsquare(window, hop, magnitude.shape[0])
    tprev: C128 | None = None
    for _ in range(n_iter):
        y = istft(angles, window, hop, nfft, pad, length, GL_FLOOR, wss)
        rebuilt = stft(y, window, hop, nfft, pad, pad_mode)
        angles[:] = rebuilt
        if tprev is not None:
            angles -= (momentum / (1.0 + momentum)) * tprev
        angles /= np.abs(angles) + EPS
        angles *= magnitude
        tprev = rebuilt
    y = istft(angles, window, hop, nfft, pad, length, GL_FLOOR, wss)
    return y, spectral_convergence_db(magnitude, stft(y, window, hop, nfft, pad, pad_mode))
