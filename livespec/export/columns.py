"""What the columns of an export's rows are: their frequencies, the image scale that shows
them, and a CQT recipe's frame length at a file's sample rate (:mod:`livespec.export.dsp`
has the recipe and the analysis). Pure code; any thread."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.cqt import fft_length
from livespec.dsp.scales import FreqScale
from livespec.export.dsp import Recipe, log_edges, mel_band_edges


def for_rate(recipe: Recipe, samplerate: float) -> Recipe:
    """The recipe for inputs at ``samplerate`` Hz: a CQT's frame is the FFT length of its
    longest kernel (``Q * fs / fmin`` samples, rounded up to a power of two), so it follows
    the rate; other recipes are returned as they are.

    Raises:
        ValueError: the CQT's top bin reaches above Nyquist (one line, for the user).
    """
    if not recipe.cqt:
        return recipe
    layout = recipe.cqt_layout()
    if layout.top_hz() > samplerate / 2.0:
        top = float(layout.freqs()[-1])
        raise ValueError(
            f"--scale cqt: the top bin ({top:.1f} Hz) and its bandwidth reach above "
            f"{samplerate / 2.0:g} Hz (half this file's rate); lower --octaves or --fmax"
        )
    n = fft_length(float(layout.lengths(samplerate).max()), minimum=max(64, recipe.hop))
    return dataclasses.replace(recipe, n=n, nfft=n)


def row_frequencies(recipe: Recipe, samplerate: float) -> NDArray[np.float64]:
    """Frequency in Hz of each output column: bin centres, mel band centres, log band
    centres (geometric) or CQT bin centres."""
    if recipe.mel:
        return mel_band_edges(recipe, samplerate)[1:-1]
    if recipe.cqt:
        return recipe.cqt_layout().freqs()
    if recipe.log:
        e = log_edges(recipe, samplerate)
        return np.sqrt(e[:-1] * e[1:])
    return np.arange(recipe.bins, dtype=np.float64) * (samplerate / recipe.nfft)


def freq_scale(recipe: Recipe, samplerate: float) -> FreqScale:
    """How the output's columns map to frequency, for images and their axes."""
    if recipe.mel:
        return FreqScale(
            "mel", recipe.n_mels, recipe.fmin, recipe.mel_fmax(samplerate), recipe.mel_htk
        )
    if recipe.log:
        e = log_edges(recipe, samplerate)
        return FreqScale("log", len(e) - 1, float(e[0]), float(e[-1]))
    if recipe.cqt:
        b, n = recipe.bins_per_octave, recipe.n_bins
        lo = recipe.fmin * 2.0 ** (-0.5 / b)
        return FreqScale("log", n, lo, lo * 2.0 ** (n / b))
    return FreqScale("linear", recipe.bins, 0.0, (recipe.bins - 1) * samplerate / recipe.nfft)
