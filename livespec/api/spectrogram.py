"""``livespec.spectrogram`` and ``livespec.frames``: the export's analysis (its
:class:`~livespec.export.dsp.Recipe`, built by ``livespec export``'s own option rules, and its
:class:`~livespec.export.dsp.BatchAnalyzer`) on arrays, paths and file objects, so the
numbers are ``livespec export --npy``'s. Caller's thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livespec.api.inputs import (
    BACKENDS,
    MAX_FFT,
    MIN_FFT,
    Input,
    Source,
    as_path,
    int_in,
    is_number,
    open_input,
    shown,
)
from livespec.api.result import F32, Spectrogram
from livespec.config import WINDOW_CHOICES, AnalysisConfig, Config, SourceConfig
from livespec.errors import SourceError, UsageError
from livespec.export.columns import for_rate, row_frequencies
from livespec.export.dsp import LIKE, BatchAnalyzer, Recipe, recipe_window
from livespec.export.frames import SampleReader, ShortRead, iter_segment
from livespec.export.io import Post
from livespec.export.plan import build_recipe

SCALES = ("linear", "log", "mel", "cqt")
LIKES = ("scipy", "librosa", "torchaudio")


def make_recipe(
    *,
    fft: int | None = None,
    hop: int | None = None,
    window: str | None = None,
    scale: str = "linear",
    like: str | None = None,
    n_mels: int = 128,
    zero_pad: int = 1,
    beta: float = 8.6,
    center: bool | None = None,
    pad_mode: str | None = None,
    db_ref: str | None = None,
    top_db: float | str | None = "auto",
    channel: int | None = None,
    bins_per_octave: int | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    octaves: float | None = None,
) -> Recipe:
    """The analysis for these settings, by ``livespec export``'s rules (docs/export.md):
    what ``livespec export --fft ... --like ...`` would use. Raises UsageError."""
    if like is not None and like not in LIKES:
        raise UsageError(f"like={like!r}: must be None or one of {', '.join(LIKES)}")
    if scale not in SCALES:
        raise UsageError(f"scale={scale!r}: must be one of {', '.join(SCALES)}")
    n = int_in("fft", fft, MIN_FFT, MAX_FFT) if fft is not None else None
    zp = int_in("zero_pad", zero_pad, 1, 16)
    frame = n if n is not None else (4096 if like is None else LIKE[like].fft)
    if hop is not None:
        int_in("hop", hop, 1, 1 << 16 if scale == "cqt" else frame)
    if bins_per_octave is not None:
        int_in("bins_per_octave", bins_per_octave, 1, 96)
    for name, v in (("fmin", fmin), ("fmax", fmax), ("octaves", octaves)):
        if v is not None and not (is_number(v) and 0 <= v < 1e7):
            unit = "octaves" if name == "octaves" else "Hz"
            raise UsageError(f"{name}={v!r}: must be a number of {unit}")
    fmin, fmax, octaves = (None if v is None else float(v) for v in (fmin, fmax, octaves))
    if scale == "mel" and fmax is not None and not fmax > (fmin or 0.0):
        raise UsageError(f"fmax={fmax:g}: the mel bands need fmax above fmin ({fmin or 0.0:g} Hz)")
    if window is not None and (not isinstance(window, str) or window not in WINDOW_CHOICES):
        raise UsageError(f"window={shown(window)}: must be one of {', '.join(WINDOW_CHOICES)}")
    int_in("n_mels", n_mels, 1, 1024)
    if pad_mode not in (None, "constant", "reflect"):
        raise UsageError(f"pad_mode={pad_mode!r}: must be 'constant' or 'reflect'")
    if db_ref not in (None, "max"):
        raise UsageError(f"db_ref={db_ref!r}: must be None (dB re 1, dBFS) or 'max'")
    top: str | float | None
    if top_db == "auto":
        top = None
    elif top_db is None:
        top = "none"
    elif is_number(top_db) and 0 < top_db < 1e9:  # type: ignore[operator]
        top = float(top_db)
    else:
        raise UsageError(f"top_db={top_db!r}: must be 'auto', None or a positive number of dB")
    if not (is_number(beta) and 0.0 <= beta <= 50.0):
        raise UsageError(f"beta={beta!r}: must be from 0 to 50")
    ns = argparse.Namespace(
        like=like,
        top_db=top,
        scale=scale,
        n_mels=n_mels if scale == "mel" or n_mels != 128 else None,
        center=center,
        pad_mode=pad_mode,
        db_ref=db_ref,
        fft=n,
        hop=hop,
        overlap=None,
        window=window,
        zero_pad=None if zero_pad == 1 else zp,
        bins_per_octave=bins_per_octave,
        fmin=fmin,
        fmax=fmax,
        octaves=octaves,
    )
    analysis = AnalysisConfig(
        fft=frame,
        window=window or "hann",
        beta=float(beta),
        hop=hop,
        zero_pad=zp,
        fmin=float(fmin or 0.0),
        fmax=None if fmax is None else float(fmax),
    )
    try:
        recipe = build_recipe(ns, Config(analysis=analysis, source=SourceConfig()))
    except UsageError as exc:
        raise UsageError(api_words(str(exc))) from None
    if pad_mode is not None and not recipe.center:  # as export's --pad-mode (applies.py)
        raise UsageError(
            f"pad_mode={pad_mode!r} does not apply: it needs centred frames (center=True, "
            "or like='librosa' or 'torchaudio')"
        )
    return dataclasses.replace(recipe, channel=channel)


def _for_rate(recipe: Recipe, samplerate: float) -> Recipe:
    """:func:`~livespec.export.dsp.for_rate`, its refusal as a UsageError."""
    try:
        return for_rate(recipe, samplerate)
    except ValueError as exc:
        raise UsageError(api_words(str(exc))) from None


def api_words(message: str) -> str:
    """``livespec export``'s message in the API's words: ``--scale cqt`` -> ``scale='cqt'``,
    ``--bins-per-octave`` -> ``bins_per_octave``."""
    message = re.sub(r"--scale (\w+)", r"scale='\1'", message)
    return re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"), message)


def _unit(like: str | None, db_ref: str | None) -> str:
    return "dBFS" if like is None and db_ref is None else "dB"


_PER_THREAD = threading.local()  # each thread's analyzers: their buffers are not shared


def _analyzer(recipe: Recipe, samplerate: float, backend: str) -> BatchAnalyzer:
    """The export's planned analyzer, or a UsageError. Cached per thread (4 kept): an
    analyzer works in its own buffers, so two threads analysing at once (a thread pool
    over files) must not share one; the process-wide export cache would hand them the same."""
    cache: OrderedDict[tuple[Recipe, float, str], BatchAnalyzer] | None
    cache = getattr(_PER_THREAD, "analyzers", None)
    if cache is None:
        cache = _PER_THREAD.analyzers = OrderedDict()
    key = (recipe, float(samplerate), backend)
    analyzer = cache.get(key)
    if analyzer is None:
        try:
            analyzer = BatchAnalyzer(recipe, samplerate, backend=backend, threads=1)
        except ValueError as exc:  # backend "fftw" without pyFFTW
            raise UsageError(f"backend={backend!r}: {exc}") from None
        cache[key] = analyzer
        while len(cache) > 4:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return analyzer


def _too_short(inp: Input, recipe: Recipe) -> UsageError:
    need = recipe.min_samples()
    return UsageError(f"{inp.label}: too short: {inp.frames} samples, one frame needs {need}")


def spectrogram(
    y: Source,
    sr: float | None = None,
    *,
    fft: int | None = None,
    hop: int | None = None,
    window: str | None = None,
    scale: str = "linear",
    like: str | None = None,
    n_mels: int = 128,
    zero_pad: int = 1,
    beta: float = 8.6,
    center: bool | None = None,
    pad_mode: str | None = None,
    db_ref: str | None = None,
    top_db: float | str | None = "auto",
    channel: int | None = None,
    backend: str = "auto",
    bins_per_octave: int | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    octaves: float | None = None,
    keep_phase: bool = False,
) -> Spectrogram:
    """The spectrogram of ``y``: ``livespec export --npy``'s numbers, as a :class:`Spectrogram`.

    Args:
        y: samples, shape (samples,) or (samples, channels) (soundfile's layout; float at
            +-1.0 full scale, or integer PCM), with ``sr``; or a path or binary file object
            of anything libsndfile reads (its own rate; ``sr`` may be left out).
        sr: sample rate in Hz.
        fft: samples per frame, 64..65536 (4096, or the ``like`` library's default).
        hop: samples between frames, 1..fft (fft // 4, or the library's default).
        window: hann (default), hamming, blackman, blackman-harris, flattop, kaiser, rect.
        scale: "linear" bins, "log" (log-spaced bands, ``bins_per_octave`` per octave
            from ``fmin`` (20 Hz) to ``fmax`` (Nyquist), each integrating the power of the
            bins it covers), "mel" (``n_mels`` bands from ``fmin`` to ``fmax``) or "cqt" (a
            constant-Q transform: ``bins_per_octave`` 12..96 (12), from ``fmin`` (C1, 32.70
            Hz), ``octaves`` (7) or up to ``fmax``; ``hop`` 512 by default; dBFS).
            ``freqs`` are the rows' centre frequencies.
        like: None for livespec's calibrated dBFS, or "scipy", "librosa", "torchaudio" to
            reproduce that library's spectrogram defaults and dB (docs/export.md).
        n_mels: mel bands for ``scale="mel"``.
        zero_pad: FFT length = fft * zero_pad.
        beta: Kaiser beta.
        center: frames centred on k*hop with fft//2 samples of padding (None: the default
            of ``like``; off without it); ``pad_mode`` "constant" or "reflect".
        db_ref: "max" subtracts the maximum (librosa's ``ref=np.max``).
        top_db: levels floored at the maximum minus this (dB); None = no floor; "auto" =
            the library's default (80 for librosa).
        channel: 0-based channel to analyse; None = the mean of the channels.
        backend: FFT backend, "auto", "fftw" or "numpy".
        bins_per_octave, fmin, fmax, octaves: the log and cqt scales' bands (fmin and fmax
            also the mel bands' range); an argument that does not apply to ``scale`` is an
            error.
        keep_phase: also keep the complex STFT (``S.stft``, complex128, 16 bytes per FFT
            bin and frame) so that ``S.to_audio()`` is the exact inverse.

    Raises:
        livespec.UsageError: a bad argument; livespec.SourceError: an unreadable input.
    """
    recipe = make_recipe(
        fft=fft, hop=hop, window=window, scale=scale, like=like, n_mels=n_mels,
        zero_pad=zero_pad, beta=beta, center=center, pad_mode=pad_mode, db_ref=db_ref,
        top_db=top_db, channel=None, bins_per_octave=bins_per_octave, fmin=fmin, fmax=fmax,
        octaves=octaves,
    )  # fmt: skip
    if backend not in BACKENDS:
        raise UsageError(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    if not isinstance(keep_phase, bool):
        raise UsageError(f"keep_phase={keep_phase!r}: must be True or False")
    if keep_phase and recipe.detrend != "none":
        raise UsageError(
            "keep_phase=True: like='scipy' removes each frame's mean (detrend), which no "
            "inverse can restore; use like=None, 'librosa' or 'torchaudio'"
        )
    with open_input(y, sr, channel) as inp:
        recipe = _for_rate(dataclasses.replace(recipe, channel=channel), inp.samplerate)
        total = recipe.frames(inp.frames)
        if total == 0:
            raise _too_short(inp, recipe)
        analyzer = _analyzer(recipe, inp.samplerate, backend)
        db = np.empty((total, analyzer.cols), dtype=np.float32)
        done = 0
        reader = SampleReader(inp, recipe.channel)
        read = reader.read if not keep_phase else _Keeper(reader.read, inp.frames)
        try:
            for rows in iter_segment(read, inp.frames, analyzer):
                db[done : done + rows.shape[0]] = rows
                done += rows.shape[0]
        except ShortRead as exc:
            raise SourceError(f"{inp.label}: {exc}") from None
        fs = inp.samplerate
        nsamples = inp.frames
    vmax = float(db.max())
    shift = -vmax if recipe.ref_max else 0.0
    clamp = None if recipe.top_db is None else vmax + shift - recipe.top_db
    Post(shift, clamp).apply(db)
    keep: Any = None if hasattr(y, "read") and not isinstance(y, np.ndarray) else y
    keep = as_path(keep) if isinstance(keep, bytes) else keep
    return Spectrogram(
        db=db,
        freqs=row_frequencies(recipe, fs),
        times=recipe.frame_time(np.arange(total, dtype=np.float64), fs),
        samplerate=fs,
        recipe=recipe,
        scale=scale,
        like=like,
        unit=_unit(like, db_ref),
        source=keep,
        stft=_phase(read, recipe) if isinstance(read, _Keeper) else None,
        nsamples=nsamples,
        db_offset=shift,
    )


class _Keeper:
    """A sample reader that also keeps every mono sample it reads (for ``keep_phase``)."""

    def __init__(self, read: Callable[[F32], int], nsamples: int) -> None:
        self._read = read
        self.samples = np.zeros(nsamples, dtype=np.float32)
        self._pos = 0

    def __call__(self, out: F32) -> int:
        got = self._read(out)
        take = max(0, min(got, self.samples.shape[0] - self._pos))
        self.samples[self._pos : self._pos + take] = out[:take]
        self._pos += take
        return got


def _phase(keeper: _Keeper, recipe: Recipe) -> NDArray[np.complex128]:
    """The complex STFT of the kept samples, framed as the recipe frames them."""
    from livespec.dsp.istft import stft

    window = recipe_window(recipe)
    return stft(keeper.samples, window, recipe.hop, recipe.nfft, recipe.pad, recipe.pad_mode)


def frames(
    y: Source,
    sr: float | None = None,
    *,
    block: int = 1024,
    fft: int | None = None,
    hop: int | None = None,
    window: str | None = None,
    scale: str = "linear",
    like: str | None = None,
    n_mels: int = 128,
    zero_pad: int = 1,
    beta: float = 8.6,
    center: bool | None = None,
    pad_mode: str | None = None,
    top_db: float | str | None = "auto",
    channel: int | None = None,
    backend: str = "auto",
    bins_per_octave: int | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    octaves: float | None = None,
) -> Iterator[Spectrogram]:
    """:func:`spectrogram` in pieces of at most ``block`` frames, in bounded memory: for
    inputs too long to hold (a file of hours). Each piece is a :class:`Spectrogram` whose
    ``times`` count from the input's start; together they are ``spectrogram(y, sr, ...)``
    row for row (same options). ``top_db`` needs the whole output, so it is refused here
    (``like="librosa"`` needs ``top_db=None``), as is ``db_ref``.

    Raises:
        livespec.UsageError, livespec.SourceError: as :func:`spectrogram`.
    """
    int_in("block", block, 1, 1 << 20)
    recipe = make_recipe(
        fft=fft, hop=hop, window=window, scale=scale, like=like, n_mels=n_mels,
        zero_pad=zero_pad, beta=beta, center=center, pad_mode=pad_mode, top_db=top_db,
        bins_per_octave=bins_per_octave, fmin=fmin, fmax=fmax, octaves=octaves,
    )  # fmt: skip
    if recipe.top_db is not None:
        raise UsageError(
            "frames(): top_db needs the whole output; use spectrogram(), or pass top_db=None"
        )
    if backend not in BACKENDS:
        raise UsageError(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    # The arguments are checked here, at the call; the input is opened at the first piece.
    return _pieces(y, sr, recipe, block, scale, like, channel, backend)


def _pieces(
    y: Source,
    sr: float | None,
    recipe: Recipe,
    block: int,
    scale: str,
    like: str | None,
    channel: int | None,
    backend: str,
) -> Iterator[Spectrogram]:
    """:func:`frames`' generator (caller's thread)."""
    with open_input(y, sr, channel) as inp:
        recipe = _for_rate(dataclasses.replace(recipe, channel=channel), inp.samplerate)
        if recipe.frames(inp.frames) == 0:
            raise _too_short(inp, recipe)
        fs = inp.samplerate
        analyzer = _analyzer(recipe, fs, backend)
        freqs = row_frequencies(recipe, fs)
        reader = SampleReader(inp, recipe.channel)
        pending: list[F32] = []
        count = first = 0

        def piece(rows: list[F32], start: int) -> Spectrogram:
            db = np.concatenate(rows) if len(rows) > 1 else rows[0]
            k = np.arange(start, start + db.shape[0], dtype=np.float64)
            return Spectrogram(
                db=db, freqs=freqs, times=recipe.frame_time(k, fs), samplerate=fs,
                recipe=recipe, scale=scale, like=like,
                unit=_unit(like, None),
            )  # fmt: skip

        try:
            for rows in iter_segment(reader.read, inp.frames, analyzer):
                i = 0
                while i < rows.shape[0]:
                    take = min(block - count, rows.shape[0] - i)
                    pending.append(rows[i : i + take].copy())
                    count += take
                    i += take
                    if count == block:
                        yield piece(pending, first)
                        first += count
                        pending, count = [], 0
        except ShortRead as exc:
            raise SourceError(f"{inp.label}: {exc}") from None
        if pending:
            yield piece(pending, first)
