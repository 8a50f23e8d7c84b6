"""``Spectrogram.to_audio``: audio back from a spectrogram, exactly (the inverse STFT of the
complex STFT kept by ``keep_phase=True``) or by Griffin-Lim from the levels in ``db``
(docs/api.md, "Back to audio"). The algorithms are :mod:`livespec.dsp.istft`'s. Caller's
thread.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livespec.dsp import istft as inv
from livespec.errors import EXIT_FAILURE, LivespecError, UsageError
from livespec.export.dsp import power_scale, recipe_window

if TYPE_CHECKING:
    from livespec.api.result import Spectrogram

F64 = NDArray[np.float64]
MAX_ITER = 10000


@dataclass(frozen=True, eq=False)
class Audio:
    """Audio made by :meth:`livespec.Spectrogram.to_audio`.

    Attributes:
        samples: mono float64 samples, full scale at +-1.0 (``np.asarray(audio)`` gives them).
        samplerate: Hz.
        method: "istft" (exact, from the kept phase) or "griffinlim".
        n_iter: Griffin-Lim iterations (0 for "istft").
        spectral_convergence_db: ``20*log10(||M - |STFT(samples)| ||_F / ||M||_F)``, M the
            magnitudes inverted: how far the audio's own spectrogram is from them, in dB
            (lower is better; -inf for a perfect match).
    """

    samples: F64 = field(repr=False)
    samplerate: float
    method: str
    n_iter: int
    spectral_convergence_db: float

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> F64:
        return self.samples if dtype is None else self.samples.astype(dtype)

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    def __repr__(self) -> str:
        it = f", {self.n_iter} iterations" if self.method == "griffinlim" else ""
        return (
            f"Audio({len(self)} samples, {self.samplerate:g} Hz, {self.method}{it}, "
            f"spectral convergence {self.spectral_convergence_db:.1f} dB)"
        )

    def save(self, path: str | bytes | os.PathLike[str], subtype: str | None = None) -> Path:
        """Write the samples to ``path`` (WAV, FLAC, ... by its suffix, through soundfile;
        ``subtype`` as soundfile's; None = FLOAT where the format holds floats (WAV, AIFF,
        ...), else the format's own default: FLAC 24-bit, OGG Vorbis) and return the path."""
        import soundfile

        p = Path(os.fsdecode(path))  # a str, bytes or path object
        try:
            if subtype is None:
                fmt = p.suffix[1:].upper()
                known = fmt in soundfile.available_formats()
                if known and not soundfile.check_format(fmt, "FLOAT"):
                    subtype = "PCM_24" if fmt == "FLAC" else soundfile.default_subtype(fmt)
                else:
                    subtype = "FLOAT"
            p.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(p, self.samples, round(self.samplerate), subtype=subtype)
        except OSError as exc:
            raise LivespecError(f"{p}: cannot write: {exc.strerror or exc}", EXIT_FAILURE) from None
        except (RuntimeError, ValueError, TypeError) as exc:  # soundfile: format, subtype
            raise UsageError(f"{p}: cannot write: {str(exc).splitlines()[0]}") from None
        return p


def magnitudes(S: Spectrogram) -> F64:
    """``|X|`` (frames, bins) that the levels in ``S.db`` stand for: the dB reference
    (``db_ref``) and the per-bin power scale of the level (dBFS, density) undone."""
    r = S.recipe
    power = np.power(10.0, (S.db.astype(np.float64) - S.db_offset) / 10.0)
    scale = power_scale(r, S.samplerate)
    if scale is not None:
        power /= scale
    return np.sqrt(power)


def to_audio(
    S: Spectrogram,
    method: str | None,
    n_iter: int,
    momentum: float,
    init: str | None,
    seed: int | None,
) -> Audio:
    """:meth:`livespec.Spectrogram.to_audio` (its arguments are documented there)."""
    r = S.recipe
    if S.nsamples is None:
        raise UsageError(
            "to_audio() needs a result of livespec.spectrogram(), which knows its audio's "
            "length (this one does not: a piece of frames() or built by hand)"
        )
    if method not in (None, "istft", "griffinlim"):
        raise UsageError(f"method={method!r}: must be None, 'istft' or 'griffinlim'")
    if method is None:
        method = "istft" if S.stft is not None else "griffinlim"
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)):
        raise UsageError(f"n_iter={n_iter!r}: must be an integer from 0 to {MAX_ITER}")
    if not 0 <= n_iter <= MAX_ITER:
        raise UsageError(f"n_iter={n_iter!r}: must be an integer from 0 to {MAX_ITER}")
    if not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
        raise UsageError(f"momentum={momentum!r}: must be from 0 to 1")
    if init not in (None, "random"):
        raise UsageError(f"init={init!r}: must be 'random' or None (phases start at 0)")
    window = recipe_window(r)
    length = int(S.nsamples)
    if method == "istft":
        if S.stft is None:
            raise UsageError(
                "to_audio(method='istft') needs the phase: make the spectrogram with "
                "keep_phase=True"
            )
        X = S.stft.astype(np.complex128, copy=False)
        y = inv.istft(X, window, r.hop, r.nfft, r.pad, length)
        again = inv.stft(y, window, r.hop, r.nfft, r.pad, r.pad_mode)
        sc = inv.spectral_convergence_db(np.abs(X), again)
        return Audio(y, S.samplerate, "istft", 0, sc)
    if r.kind != "linear":
        what = {"mel": "mel bands", "log": "log bands", "cqt": "constant-Q bins"}[r.kind]
        raise UsageError(
            f"to_audio(): {what} drop the detail of the FFT bins; make the spectrogram "
            "with keep_phase=True (exact inverse) or scale='linear' (Griffin-Lim)"
        )
    mag = magnitudes(S)
    y, sc = inv.griffin_lim(
        mag, window, r.hop, r.nfft, r.pad, r.pad_mode, length,
        n_iter=int(n_iter), momentum=float(momentum), init=init, seed=seed,
    )  # fmt: skip
    if not math.isfinite(float(np.max(np.abs(y)))):  # pragma: no cover - defensive
        raise LivespecError("to_audio(): Griffin-Lim diverged", EXIT_FAILURE)
    return Audio(y, S.samplerate, "griffinlim", int(n_iter), sc)
