"""Offline analysis for ``livespec export``: recipes, batched FFTs, streaming framing.

A :class:`Recipe` says how a signal becomes rows of levels (frame length, hop, window,
centring, level scale, dB reference, mel bands). :class:`BatchAnalyzer` turns a batch of
frames into rows with one FFTW execution over a (batch, nfft) array;
:func:`livespec.export.frames.analyse_segment` streams samples through it block by block,
so memory does not grow with the length of the input.

Levels (all in dB, float32), with ``X`` the FFT of the windowed frame:

* ``dbfs`` (livespec): ``10*log10(4*|X|**2 / S1**2)`` (``1/S1**2`` at DC and Nyquist),
  ``S1 = sum(window)``, power floored at 1e-20: exactly :meth:`livespec.dsp.stft.Spectrum.db`,
  and ``10*log10(scipy.signal.spectrogram(..., scaling='spectrum')) + 3.0103``.
* ``density`` (scipy's default): ``10*log10(2*|X|**2 / (fs * S2))`` (no factor 2 at DC and
  Nyquist), ``S2 = sum(window**2)``, fs in Hz: ``10*log10`` of scipy's ``scaling='density'``.
* ``spectrum`` (scipy's ``scaling='spectrum'``): ``10*log10(2*|X|**2 / S1**2)`` (no factor 2
  at DC and Nyquist).
* ``power`` (librosa, torchaudio): ``10*log10(max(|X|**2, amin))``, amin = 1e-10.

Rows are FFT bins, mel bands (power through triangles), log-spaced bands (``log``: the
dBFS power of the bins integrated over each band with fractional overlap weights,
:func:`livespec.dsp.scales.band_weights`, divided by the window's equivalent noise bandwidth
so that a sine inside one band reads its level in dBFS) or constant-Q bins (``cqt``: the
frame is the FFT length of the longest kernel, unwindowed; :mod:`livespec.dsp.cqt`'s sparse
kernels give ``4*|C|**2``, dBFS).

With ``log_base="ln"`` the logarithm is natural and the floor is added instead of being a
minimum: ``ln(P + floor)`` (the Kaggle ``log_specgram`` recipe's ``np.log(spec + eps)``).
``gain`` multiplies the samples first (``--raw-int``: 32768 gives the int16 values that
``scipy.io.wavfile.read`` returns).

Single-threaded: one analyzer per process (workers of a folder export build their own).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.cqt import CqtKernel, CqtLayout

# The windows and band matrices live in .bands; re-exported for the modules that took
# them from here.
from livespec.export.bands import log_edges as log_edges
from livespec.export.bands import log_weights as log_weights
from livespec.export.bands import mel_band_edges as mel_band_edges
from livespec.export.bands import mel_filterbank as mel_filterbank
from livespec.export.bands import mel_weights
from livespec.export.bands import recipe_window as recipe_window
from livespec.export.bands import tukey_window as tukey_window

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
LIKE_CHOICES = ("livespec", "scipy", "librosa", "torchaudio")
LEVEL_CHOICES = ("dbfs", "density", "spectrum", "power")
DETREND_CHOICES = ("none", "constant", "linear")
LOG_CHOICES = ("db", "ln")
DB_PER_NEPER = 10.0 / math.log(10.0)  # 10*log10(x) = DB_PER_NEPER * ln(x)
DBFS_FLOOR = 1e-20  # power floor of dBFS levels (-200 dBFS), as Spectrum.db
AMIN_POWER = 1e-10  # librosa's amin**2 and torchaudio's amin (power)


@dataclass(frozen=True)
class Recipe:
    """How samples become rows of levels; the whole analysis of one export.

    Attributes:
        n: samples per frame (the window length).
        nfft: FFT length in samples (``n * zero_pad``); rows have ``nfft // 2 + 1`` bins.
        hop: samples between frame starts.
        window: a livespec window name, or "tukey" (scipy's default, alpha 0.25).
        beta: Kaiser beta.
        tukey_alpha: Tukey taper fraction.
        center: frames centred on ``k * hop`` with ``n // 2`` samples of padding at each end
            (librosa, torchaudio); otherwise frame k covers ``[k*hop, k*hop + n)`` (scipy).
        pad_mode: "constant" (zeros) or "reflect" padding, when centred.
        detrend: "none", "constant" (subtract each frame's mean before windowing, scipy's
            default) or "linear" (subtract each frame's least-squares line).
        level: "dbfs", "density", "spectrum" or "power" (see the module docstring).
        floor: power floor before the logarithm (1e-20 for dBFS, 1e-10 = amin otherwise);
            with ``log="ln"`` it is added to the power instead.
        log_base: "db" (``10*log10``) or "ln" (natural logarithm, no factor).
        gain: factor on the samples before anything else (1.0; 32768 for ``--raw-int``).
        precision: "double" (livespec's), "single" (float32 steps and scipy's FFT, as scipy
            computes integer input without detrending) or "mixed" (double precision with
            the window and scale rounded as scipy's for integer input; :mod:`.single`).
        ref_max: subtract the output's maximum (librosa's ``ref=np.max``), so it peaks at 0 dB.
        top_db: clamp levels to at least (maximum - top_db) dB; None = no clamp.
        mel: rows are ``n_mels`` mel bands (power summed through triangles) instead of bins.
        n_mels, fmin, fmax: mel bands and their range in Hz (fmax None = half the rate).
        mel_htk: HTK mel formula (torchaudio) instead of Slaney's (librosa).
        mel_norm: "slaney" area normalisation (librosa) or None (triangles peak at 1).
        mel_torch_freqs: bin frequencies as torchaudio computes them (``linspace(0, sr // 2)``).
        channel: 0-based channel to analyse; None = the mean of all channels.
        log: rows are log-spaced bands from ``fmin`` to ``fmax`` (None: half the rate),
            ``bins_per_octave`` per octave, each integrating the FFT bins it covers.
        cqt: rows are ``n_bins`` constant-Q bins from ``fmin``, ``bins_per_octave`` per
            octave (``n`` = ``nfft`` = the FFT length of the longest kernel, rect framing).
        bins_per_octave: bands or CQT bins per octave.
        n_bins: CQT bins.
    """

    n: int = 4096
    nfft: int = 4096
    hop: int = 1024
    window: str = "hann"
    beta: float = 8.6
    tukey_alpha: float = 0.25
    center: bool = False
    pad_mode: str = "constant"
    detrend: str = "none"
    level: str = "dbfs"
    floor: float = DBFS_FLOOR
    log_base: str = "db"
    gain: float = 1.0
    precision: str = "double"
    ref_max: bool = False
    top_db: float | None = None
    mel: bool = False
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    mel_htk: bool = False
    mel_norm: str | None = None
    mel_torch_freqs: bool = False
    channel: int | None = None
    log: bool = False
    cqt: bool = False
    bins_per_octave: int = 12
    n_bins: int = 0

    @property
    def bins(self) -> int:
        """FFT bins per row, ``nfft // 2 + 1``."""
        return self.nfft // 2 + 1

    @property
    def kind(self) -> str:
        """What the rows are: "linear", "mel", "log" or "cqt"."""
        return "mel" if self.mel else "log" if self.log else "cqt" if self.cqt else "linear"

    def columns(self, samplerate: float) -> int:
        """Values per output row: bins, mel bands, log bands or CQT bins."""
        if self.mel:
            return self.n_mels
        if self.cqt:
            return self.n_bins
        if self.log:
            return len(log_edges(self, samplerate)) - 1
        return self.bins

    def cqt_layout(self) -> CqtLayout:
        """The CQT bins of a ``cqt`` recipe."""
        return CqtLayout(self.fmin, self.bins_per_octave, self.n_bins)

    @property
    def pad(self) -> int:
        """Samples of padding at each end when centred (``n // 2``), else 0."""
        return self.n // 2 if self.center else 0

    def frames(self, nsamples: int) -> int:
        """Rows produced from ``nsamples`` samples (0 if there are too few)."""
        total = nsamples + 2 * self.pad
        if nsamples <= 0 or total < self.n:
            return 0
        if self.center and self.pad_mode == "reflect" and nsamples <= self.pad:
            return 0
        return 1 + (total - self.n) // self.hop

    def min_samples(self) -> int:
        """Fewest samples that give one row."""
        if not self.center:
            return self.n
        if self.pad_mode == "reflect":
            return self.pad + 1
        return max(1, self.n - 2 * self.pad)

    def frame_time(self, k: NDArray[np.float64], samplerate: float) -> NDArray[np.float64]:
        """Centre of frame(s) ``k`` in seconds from the segment's first sample."""
        return (k * self.hop + (self.n / 2.0 - self.pad)) / samplerate

    def mel_fmax(self, samplerate: float) -> float:
        """The top of the mel bands in Hz."""
        if self.fmax is not None:
            return self.fmax
        return float(samplerate // 2) if self.mel_torch_freqs else samplerate / 2.0


@dataclass(frozen=True)
class LikeDefaults:
    """One library's spectrogram defaults (docs/export.md, "--like")."""

    fft: int
    hop: Callable[[int], int]  # hop from the frame length when --hop/--overlap are not given
    window: str
    center: bool
    pad_mode: str
    detrend: str
    level: str
    floor: float
    top_db: float | None
    mel_htk: bool
    mel_norm: str | None
    mel_torch_freqs: bool


LIKE: dict[str, LikeDefaults] = {
    # scipy.signal.spectrogram(x, fs): tukey(0.25), nperseg 256, noverlap nperseg // 8,
    # detrend 'constant', scaling 'density', mode 'psd'; then 10*log10.
    "scipy": LikeDefaults(
        256, lambda n: n - n // 8, "tukey", False, "constant", "constant", "density", DBFS_FLOOR,
        None, False, None, False,
    ),
    # librosa.stft(y): n_fft 2048, hop win_length // 4, hann, center, pad_mode 'constant';
    # then librosa.amplitude_to_db(|S|) (ref 1.0, amin 1e-5, top_db 80); mel: slaney.
    "librosa": LikeDefaults(
        2048, lambda n: n // 4, "hann", True, "constant", "none", "power", AMIN_POWER,
        80.0, False, "slaney", False,
    ),
    # torchaudio.transforms.Spectrogram(): n_fft 400, hop win_length // 2, hann, center,
    # pad_mode 'reflect', power 2; then AmplitudeToDB() (power, ref 1, amin 1e-10, top_db
    # None); MelSpectrogram: htk, norm None.
    "torchaudio": LikeDefaults(
        400, lambda n: n // 2, "hann", True, "reflect", "none", "power", AMIN_POWER,
        None, True, None, True,
    ),
}  # fmt: skip


def power_scale(recipe: Recipe, samplerate: float) -> NDArray[np.float64] | None:
    """Per-bin factor applied to ``|X|**2`` (None for the "power" level and for CQT, whose
    kernels carry their own scale)."""
    if recipe.level == "power" or recipe.cqt:
        return None
    w = recipe_window(recipe)
    if recipe.precision != "double":
        from livespec.export.single import scipy_scale

        return scipy_scale(w, recipe.nfft, recipe.level, samplerate).astype(np.float64)
    if recipe.level in ("dbfs", "spectrum"):
        s1 = float(np.sum(w))
        base = 1.0 / (s1 * s1)
        mult = 4.0 if recipe.level == "dbfs" else 2.0
    else:  # density, scipy: 1 / (fs * sum(w**2)), one-sided doubling
        base = 1.0 / (float(samplerate) * float(np.sum(w * w)))
        mult = 2.0
    scale = np.full(recipe.bins, base * mult)
    scale[0] = base
    if recipe.nfft % 2 == 0:
        scale[-1] = base
    return scale


def batch_size(nfft: int) -> int:
    """Frames per FFT execution: about 128 Ki samples of input, 1..256 frames."""
    return max(1, min(256, (1 << 17) // nfft))


class BatchAnalyzer:
    """A planned batched FFT plus the level arithmetic of one :class:`Recipe`.

    Build once per process and recipe (planning with FFTW_MEASURE takes up to a second;
    FFTW wisdom from the user cache makes it fast), then call :meth:`process` from one
    thread. No allocation per call.

    Args:
        recipe: the analysis.
        samplerate: Hz (used by the "density" level and mel bands).
        backend: "auto" (pyFFTW if importable), "fftw" or "numpy".
        threads: FFTW threads.
        wisdom: load and save FFTW wisdom (livespec.dsp.fftw).
        batch: frames per FFT execution (default :func:`batch_size`).
    """

    def __init__(
        self,
        recipe: Recipe,
        samplerate: float,
        *,
        backend: str = "auto",
        threads: int = 1,
        wisdom: bool = True,
        batch: int | None = None,
    ) -> None:
        from livespec.dsp import fftw as fftw_mod

        self.recipe = recipe
        self.samplerate = float(samplerate)
        self.batch = batch_size(recipe.nfft) if batch is None else max(1, int(batch))
        b, n, nfft, bins = self.batch, recipe.n, recipe.nfft, recipe.bins
        if backend not in ("auto", "fftw", "numpy"):
            raise ValueError(f"unknown FFT backend {backend!r}")
        pyfftw = None if backend == "numpy" else fftw_mod.pyfftw_module()
        if backend == "fftw" and pyfftw is None:
            raise ValueError("FFT backend 'fftw' requested but pyFFTW cannot be imported")
        self._execute: Callable[[], object]
        # Double precision up to the power spectrum: float32 FFTs put a noise floor about
        # 150 dB under the loudest tone, which moves bins at -120 dBFS by tenths of a dB.
        if pyfftw is not None:
            self.backend = "fftw"
            before = None
            loaded = False
            if wisdom:
                loaded = fftw_mod.load_wisdom()
                before = fftw_mod.export_wisdom()
            self._in: F64 = pyfftw.empty_aligned((b, nfft), dtype="float64")
            self._out: NDArray[np.complex128] = pyfftw.empty_aligned((b, bins), dtype="complex128")
            with fftw_mod.PLANNING:  # FFTW's planner: one thread at a time (dsp/fftw.py)
                plan = pyfftw.FFTW(
                    self._in,
                    self._out,
                    axes=(-1,),
                    direction="FFTW_FORWARD",
                    flags=("FFTW_MEASURE",),
                    threads=max(1, int(threads)),
                )
            self._plan = plan
            self._execute = plan.execute
            if wisdom:
                after = fftw_mod.export_wisdom()
                if after is not None and (after != before or not loaded):
                    fftw_mod.save_wisdom()
        else:
            self.backend = "numpy"
            self._in = np.zeros((b, nfft), dtype=np.float64)
            self._out = np.zeros((b, bins), dtype=np.complex128)
            self._execute = self._numpy_execute
        self._in.fill(0.0)  # columns n..nfft stay zero (the zero padding)
        self._frames_in = self._in[:, :n]
        # CQT kernels carry their own window: the frame is cut with a rectangle.
        self.window: F64 = np.ones(n) if recipe.cqt else recipe_window(recipe)
        if recipe.precision != "double":  # scipy's win.astype(complex64) for integer input
            self.window = self.window.astype(np.float32).astype(np.float64)
        self._wgain: F64 = self.window * float(recipe.gain)
        self._scale = power_scale(recipe, samplerate)
        # |X|**2 is squared in place (the spectra are not needed after it): no buffer of
        # squares, 1 MB less to stream through the cache per batch of 32 frames.
        self._xv: F64 = self._out.view(np.float64).reshape(b, bins, 2)
        self._pw = np.empty((b, bins), dtype=np.float64)
        self._fb: F64 | None = None
        self.cols = recipe.columns(samplerate)
        self._mel = np.empty((b, self.cols if recipe.mel or recipe.log else 1), dtype=np.float64)
        if recipe.mel:
            self._fb = mel_weights(recipe, samplerate)
        elif recipe.log:
            self._fb = log_weights(recipe, samplerate)
        self._cqt: CqtKernel | None = None
        if recipe.cqt:
            self._cqt = CqtKernel(recipe.cqt_layout(), samplerate, nfft, recipe.window)
        self._floor = np.float32(recipe.floor)
        self._single = None
        if recipe.precision == "single" and recipe.kind == "linear" and recipe.level != "power":
            from livespec.export.single import SingleAnalysis

            self._single = SingleAnalysis(
                self.window, nfft, recipe.gain, recipe.level, samplerate, b
            )
        self._means = np.empty((b, 1), dtype=np.float64)
        if recipe.detrend == "linear":  # least squares on t = 0..n-1, centred
            t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
            self._ramp: F64 = t / float(np.dot(t, t)) if n > 1 else np.zeros(n)
            self._t = t

    def _numpy_execute(self) -> object:
        self._out[...] = np.fft.rfft(self._in, axis=-1)
        return self._out

    def power(self, frames: F32, scaled: bool = True) -> F64:
        """Power of ``frames`` (shape (f, n), f <= batch) per bin (or mel band), scaled as
        the recipe's level says (``scaled=False``: ``|X|**2`` of a linear recipe, without
        the per-bin factor :func:`power_scale`) but before the logarithm: a float64 view
        (f, cols) valid until the next call (the caller may overwrite it). Taking the
        maximum of powers and then the logarithm gives the same levels as :meth:`process`
        for fewer logarithms."""
        f = frames.shape[0]
        fin = self._frames_in[:f]
        detrend = self.recipe.detrend
        if detrend != "none":
            np.copyto(fin, frames)
            means = self._means[:f]
            np.mean(fin, axis=1, keepdims=True, out=means)
            np.subtract(fin, means, out=fin)
            if detrend == "linear":
                slopes = fin @ self._ramp  # (f,): the least-squares slope of each frame
                fin -= slopes[:, None] * self._t
            np.multiply(fin, self._wgain, out=fin)
        else:
            np.multiply(frames, self._wgain, out=fin)
        self._execute()
        if self._cqt is not None:
            c = self._cqt.apply(self._out[:f])
            pc: F64 = c.real * c.real + c.imag * c.imag
            pc *= 4.0
            return pc
        xv = self._xv[:f]
        np.multiply(xv, xv, out=xv)
        pw = self._pw[:f]
        np.add(xv[:, :, 0], xv[:, :, 1], out=pw)
        if self._scale is not None and scaled:
            np.multiply(pw, self._scale, out=pw)
        if self._fb is not None:
            mel = self._mel[:f]
            np.matmul(pw, self._fb, out=mel)
            pw = mel
        return pw

    def process(self, frames: F32, out: F32) -> None:
        """Levels of ``frames`` (shape (f, n), any strides, f <= batch) into ``out`` (f, cols),
        in dB (float32). Window, FFT and power in float64; the logarithm in float32."""
        if self._single is not None:  # scipy's single-precision arithmetic
            self._single.power(frames, out)
            self.log(out)
            return
        pw = self.power(frames)
        np.copyto(out, pw, casting="same_kind")
        self.log(out)

    def log(self, out: F32) -> None:
        """Power -> levels in place: dB, or ln(power + floor)."""
        if self.recipe.log_base == "ln":
            np.add(out, self._floor, out=out)
            np.log(out, out=out)
            return
        np.maximum(out, self._floor, out=out)
        np.log(out, out=out)
        np.multiply(out, np.float32(DB_PER_NEPER), out=out)
