"""Inputs of the public API: a numpy array with its rate, a path, or a file object, all
read through one interface (:class:`Input`) the export's :class:`SampleReader` also reads.

Arrays are ``(samples,)`` or ``(samples, channels)``, like ``soundfile.read``; float
samples are full scale at +-1.0 (converted to float32, as the export reads files), integer
samples are scaled as soundfile does (int16 by 1/32768). Caller's thread.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import IO, Any, Union, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from livespec.audio.files import AudioFileError, check_samples, open_audio_file, sf_reason
from livespec.audio.mpeg import needs_forward_reads, open_mpeg
from livespec.audio.stderr import quiet_native_stderr
from livespec.errors import SourceError, UsageError, counted

F32 = NDArray[np.float32]
Source = Union[ArrayLike, str, "os.PathLike[str]", IO[bytes]]  # samples, a path, a file
MAX_CHANNELS = 64
MIN_FFT, MAX_FFT = 64, 65536  # the CLI's --fft range
BACKENDS = ("auto", "fftw", "numpy")


def is_number(v: object) -> bool:
    """True for an int or float, numpy's scalars included (``np.float32(20.0)``), not a bool."""
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


def as_path(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> Path:
    """A path given as str, bytes (``os.fsdecode``) or a path object, as a Path."""
    return Path(os.fsdecode(path))


def shown(v: object) -> str:
    """``repr(v)`` for an error message, or ``<ndarray>`` when that is long (an array)."""
    text = repr(v)
    return text if len(text) <= 60 and "\n" not in text else f"<{type(v).__name__}>"


def int_in(name: str, v: object, lo: int, hi: int) -> int:
    """``v`` if it is an integer in ``lo..hi``, else a UsageError naming ``name``."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise UsageError(f"{name}={v!r}: must be an integer from {lo} to {hi}")
    return int(v)


class Input:
    """An opened input: ``samplerate`` (Hz), ``channels``, ``frames`` (samples per
    channel) and :meth:`read`, the part of ``soundfile.SoundFile`` the readers use."""

    def __init__(self, samplerate: float, channels: int, frames: int, label: str) -> None:
        self.samplerate = samplerate
        self.channels = channels
        self.frames = frames
        self.label = label

    def read(self, k: int, dtype: str = "float32", always_2d: bool = True, out: Any = None) -> F32:
        """Up to ``k`` samples per channel into ``out`` (k, channels); returns the filled
        part. Raises :class:`~livespec.errors.SourceError` for damaged audio."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file, if any."""

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArrayInput(Input):
    """A (samples, channels) float32 array read in blocks."""

    def __init__(self, a: F32, samplerate: float) -> None:
        super().__init__(samplerate, int(a.shape[1]), int(a.shape[0]), "the array")
        self.array = a
        self._pos = 0

    def read(self, k: int, dtype: str = "float32", always_2d: bool = True, out: Any = None) -> F32:
        m = max(0, min(k, self.frames - self._pos))
        block = self.array[self._pos : self._pos + m]
        check_samples(block, self._pos, self.samplerate)
        self._pos += m
        if out is None:
            return block.copy()
        dst: F32 = out[:m]
        np.copyto(dst, block)
        return dst


class FileInput(Input):
    """An open ``soundfile.SoundFile``; decoding errors become one-line SourceErrors."""

    def __init__(self, sf: Any, label: str) -> None:
        super().__init__(float(sf.samplerate), int(sf.channels), int(sf.frames), label)
        self._sf = sf
        self._pos = 0

    def read(self, k: int, dtype: str = "float32", always_2d: bool = True, out: Any = None) -> F32:
        try:
            with quiet_native_stderr():
                data: F32 = self._sf.read(k, dtype="float32", always_2d=True, out=out)
        except RuntimeError as exc:  # soundfile.LibsndfileError
            reason = sf_reason(exc)
            raise SourceError(f"{self.label}: cannot decode: {reason}") from None
        check_samples(data, self._pos, self.samplerate)
        self._pos += data.shape[0]
        return data

    def close(self) -> None:
        self._sf.close()


def _as_samples(y: Any) -> F32:
    """``y`` as a (samples, channels) float32 array, or a UsageError saying what is wrong."""
    try:
        a = np.asarray(y)
    except Exception as exc:
        raise UsageError(f"y: cannot be read as an array of samples ({exc})") from None
    kind = a.dtype.kind
    if kind not in "fiu":
        raise UsageError(
            f"y: samples of dtype {a.dtype} are not audio; give float (+-1.0 full scale) "
            "or integer PCM samples"
        )
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim != 2:
        raise UsageError(f"y: shape {a.shape}: give (samples,) or (samples, channels)")
    if a.shape[1] > MAX_CHANNELS:
        raise UsageError(
            f"y: shape {a.shape} has {a.shape[1]} channels; livespec takes (samples, channels) "
            "like soundfile (librosa's (channels, samples) needs y.T)"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise UsageError(f"y: shape {a.shape} holds no samples")
    if kind == "f":
        return np.ascontiguousarray(a, dtype=np.float32)
    bits = a.dtype.itemsize * 8
    offset = float(2 ** (bits - 1)) if kind == "u" else 0.0
    scaled = (a.astype(np.float64) - offset) / float(2 ** (bits - 1))
    return np.ascontiguousarray(scaled, dtype=np.float32)


def _check_rate(sr: object) -> float:
    if isinstance(sr, bool) or not isinstance(sr, (int, float, np.integer, np.floating)):
        raise UsageError(f"sr={sr!r}: give the sample rate in Hz (a positive number)")
    fs = float(sr)
    if not (fs > 0.0 and math.isfinite(fs)):
        raise UsageError(f"sr={sr!r}: the sample rate must be a positive number of Hz")
    return fs


def open_input(source: Source, sr: float | None, channel: int | None) -> Input:
    """Open ``source`` (an array with ``sr``, a path, or a binary file object).

    Raises:
        UsageError: a bad array, rate or channel; SourceError: a file that cannot be read.
    """
    if isinstance(source, (str, bytes, os.PathLike)):  # bytes: a path, as open() takes
        path = as_path(source)
        try:
            sf = open_audio_file(path)
        except AudioFileError as exc:
            what = f"cannot open: {exc}" if exc.library else str(exc)
            raise SourceError(f"{path}: {what}") from None
        inp: Input = FileInput(sf, str(path))
    elif hasattr(source, "read") and not isinstance(source, np.ndarray):
        import soundfile

        fobj = cast(IO[bytes], source)
        try:
            with quiet_native_stderr():
                start = fobj.tell() if fobj.seekable() else None
                sf = soundfile.SoundFile(fobj)
                if needs_forward_reads(sf) and start is not None:
                    # MP3: read without libsndfile's inexact seek (as a path is)
                    sf.close()
                    fobj.seek(start)
                    sf = open_mpeg(fobj)
        except Exception as exc:
            raise SourceError(f"the file object: cannot open: {sf_reason(exc)}") from None
        inp = FileInput(sf, "the file object")
    else:
        if sr is None:
            raise UsageError("sr: an array needs its sample rate in Hz, e.g. spectrogram(y, 48000)")
        inp = ArrayInput(_as_samples(source), _check_rate(sr))
        sr = None
    try:
        if sr is not None and _check_rate(sr) != inp.samplerate:
            raise UsageError(
                f"sr={sr!r}: {inp.label} is at {inp.samplerate:g} Hz and livespec does not "
                "resample; leave sr out for files"
            )
        if inp.frames <= 0:
            raise SourceError(f"{inp.label}: no audio (0 samples)")
        if channel is not None and (
            isinstance(channel, bool) or not isinstance(channel, (int, np.integer))
            or not 0 <= channel < inp.channels
        ):  # fmt: skip
            raise UsageError(
                f"channel={channel!r}: {inp.label} has {counted(inp.channels, 'channel')}, "
                f"numbered 0..{inp.channels - 1}"
            )
    except BaseException:
        inp.close()
        raise
    return inp
