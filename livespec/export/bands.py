"""Windows and band matrices of an export recipe (:class:`~livespec.export.dsp.Recipe`):
the recipe's window, the mel filterbank (librosa's or torchaudio's), and the weights of
the log-spaced bands. Pure numpy; any thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.scales import band_weights, log_band_edges_bpo
from livespec.dsp.scales import mel_band_edges as mel_band_edges_hz
from livespec.dsp.windows import WINDOW_NAMES, make_window

if TYPE_CHECKING:
    from livespec.export.dsp import Recipe


def tukey_window(n: int, alpha: float = 0.25) -> NDArray[np.float64]:
    """Periodic Tukey window of ``n`` samples, equal to ``scipy.signal.get_window(('tukey',
    alpha), n)``."""
    if n < 1:
        raise ValueError(f"window length must be >= 1 samples, got {n}")
    if n == 1 or alpha <= 0.0:
        return np.ones(n)
    if alpha >= 1.0:
        return make_window("hann", n)
    m = n + 1  # periodic: the symmetric window one longer, last sample dropped
    k = np.arange(m, dtype=np.float64)
    width = int(np.floor(alpha * (m - 1) / 2.0))
    w = np.ones(m)
    k1 = k[: width + 1]
    k3 = k[m - width - 1 :]
    w[: width + 1] = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * k1 / alpha / (m - 1))))
    w[m - width - 1 :] = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * k3 / alpha / (m - 1))))
    return w[:n].copy()


def recipe_window(recipe: Recipe) -> NDArray[np.float64]:
    """The recipe's window (float64, ``recipe.n`` samples)."""
    if recipe.window == "tukey":
        return tukey_window(recipe.n, recipe.tukey_alpha)
    if recipe.window not in WINDOW_NAMES:
        raise ValueError(f"unknown window {recipe.window!r}")
    return make_window(recipe.window, recipe.n, recipe.beta)


# -- mel bands ---------------------------------------------------------------------------


def mel_band_edges(recipe: Recipe, samplerate: float) -> NDArray[np.float64]:
    """The ``n_mels + 2`` band edge frequencies in Hz (band i spans edges i..i+2)."""
    return mel_band_edges_hz(
        recipe.fmin, recipe.mel_fmax(samplerate), recipe.n_mels, recipe.mel_htk
    )


def mel_filterbank(recipe: Recipe, samplerate: float) -> NDArray[np.float64]:
    """Triangular mel weights, shape (bins, n_mels): ``librosa.filters.mel(...).T`` or
    ``torchaudio.functional.melscale_fbanks(...)`` depending on the recipe."""
    edges = mel_band_edges(recipe, samplerate)
    freqs: NDArray[np.floating[Any]]
    if recipe.mel_torch_freqs:
        freqs = np.linspace(0.0, float(samplerate // 2), recipe.bins)
    else:
        freqs = np.fft.rfftfreq(recipe.nfft, d=1.0 / samplerate)
    fdiff = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]  # (n_mels + 2, bins)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0.0, np.minimum(lower, upper))  # (n_mels, bins)
    if recipe.mel_norm == "slaney":
        w *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return np.ascontiguousarray(w.T)


def mel_weights(recipe: Recipe, samplerate: float) -> NDArray[np.float64]:
    """(bins, n_mels) weights of a ``mel`` recipe: :func:`mel_filterbank`; for dBFS levels
    also over the window's equivalent noise bandwidth in bins, as :func:`log_weights`, so a
    sine at a band's centre reads its dBFS level (where the band is wider than the window's
    main lobe) instead of that plus ``10*log10(ENBW)`` (1.76 dB for hann)."""
    weights = mel_filterbank(recipe, samplerate)
    if recipe.level != "dbfs":  # a library's power or density: summed as it is
        return weights
    w = recipe_window(recipe)
    enbw = recipe.nfft * float(np.sum(w * w)) / float(np.sum(w)) ** 2
    return np.ascontiguousarray(weights / enbw)


def log_edges(recipe: Recipe, samplerate: float) -> NDArray[np.float64]:
    """Edges in Hz of a ``log`` recipe's bands (from ``fmin`` up to ``fmax`` or Nyquist)."""
    top = samplerate / 2.0 if recipe.fmax is None else min(recipe.fmax, samplerate / 2.0)
    return log_band_edges_bpo(recipe.fmin, top, recipe.bins_per_octave)


def log_weights(recipe: Recipe, samplerate: float) -> NDArray[np.float64]:
    """(bins, bands) weights of a ``log`` recipe: the fraction of each bin in each band;
    for dBFS levels also over the window's equivalent noise bandwidth in bins
    (``nfft * sum(w**2) / sum(w)**2``), so a sine inside one band reads its dBFS level."""
    w = recipe_window(recipe)
    enbw = recipe.nfft * float(np.sum(w * w)) / float(np.sum(w)) ** 2
    weights = band_weights(log_edges(recipe, samplerate), samplerate / recipe.nfft, recipe.bins)
    if recipe.level != "dbfs":  # a library's power or density: summed as it is
        enbw = 1.0
    return np.ascontiguousarray(weights / enbw)
