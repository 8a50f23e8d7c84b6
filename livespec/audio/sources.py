"""Sources other than the sound card: audio files, raw PCM on stdin, built-in test signals.

They all feed the same :class:`~livespec.audio.ringbuffer.RingBuffer` the sound card
does, block by block, either

* from a thread of their own (:meth:`Source.start`), paced at the sample rate for live
  views (``realtime=True``) or as fast as the consumer allows (lossless back-pressure), or
* synchronously from the caller's thread with :meth:`Source.pump`, for headless analysis.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livespec.audio import signals
from livespec.audio.base import BlockSource, Source
from livespec.audio.files import (
    AudioFileError,
    DamagedInput,
    check_path,
    open_audio_file,
    sf_reason,
)
from livespec.audio.stdin import StdinSource
from livespec.errors import SourceError, UsageError

__all__ = [
    "BlockSource",
    "FileSource",
    "SignalSource",
    "StdinSource",
    "check_input",
    "make_source",
]


class FileSource(BlockSource):
    """An audio file soundfile can read (WAV, FLAC, OGG, ...).

    Args:
        path: the file.
        realtime: pace at the file's sample rate (live views) or not (headless).
        max_seconds: stop after this much audio (None: the whole file).
    """

    finite = True

    def __init__(
        self,
        path: str | Path,
        blocksize: int = 1024,
        realtime: bool = False,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__(blocksize, realtime)
        self.path = Path(path)
        self.max_seconds = max_seconds
        self._sf: object | None = None
        self._limit = 0
        self.total_frames = 0

    def open(self) -> None:
        """Open the file and read its header (caller's thread); every check of
        :func:`~livespec.audio.files.open_audio_file`."""
        try:
            f = open_audio_file(self.path)
        except AudioFileError as exc:
            raise SourceError(f"cannot open '{self.path}': {exc}") from None
        self._sf = f
        self.samplerate = int(f.samplerate)
        self.channels = int(f.channels)
        self.total_frames = int(f.frames) if f.frames >= 0 else 0
        self._limit = self.total_frames
        if self.max_seconds is not None:
            self._limit = min(self._limit, round(self.max_seconds * self.samplerate))
        self.description = f"file '{self.path.name}' ({f.format} {f.subtype})"
        self._alloc()

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        import soundfile as sf

        f = self._sf
        assert isinstance(f, sf.SoundFile)
        want = min(out.shape[0], self._limit - self.frames_read)
        if want <= 0:
            return 0
        fs = self.samplerate
        try:
            n = int(f.read(want, dtype="float32", always_2d=True, out=out[:want]).shape[0])
        except Exception as exc:  # a decoder that lost its way: a damaged or cut file
            raise DamagedInput(
                f"'{self.path}' is damaged or truncated: decoding stopped at "
                f"{self.frames_read / fs:.3f} s of {self.total_frames / fs:.3f} s "
                f"({sf_reason(exc)})"
            ) from None
        if n == 0 and self.frames_read < self._limit:
            raise DamagedInput(
                f"'{self.path}' is truncated: it ends at {self.frames_read / fs:.3f} s, "
                f"its header declares {self.total_frames / fs:.3f} s"
            )
        return n

    def _close(self) -> None:
        f = self._sf
        if f is not None:
            f.close()  # type: ignore[attr-defined]
            self._sf = None


RENDER_AHEAD = 8192  # frames of a test signal rendered at once in real time


class SignalSource(BlockSource):
    """A built-in test signal (see :mod:`livespec.audio.signals`); in real time under an
    engine's worker, written by that worker (:meth:`BlockSource.write_due`, the pipeline).

    Args:
        spec: e.g. ``"tone:1000@-6"`` or ``"demo"``.
        samplerate: Hz.
        channels: the same signal on every channel.
        realtime: pace at the sample rate (live) or not (headless).
        max_seconds: end after this much signal (None: endless).
    """

    def __init__(
        self,
        spec: str,
        samplerate: int = 48000,
        channels: int = 1,
        blocksize: int = 1024,
        realtime: bool = True,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__(blocksize, realtime)
        self.synthetic = True
        self.spec = spec
        self.parts = signals.parse_signal(spec)
        self.samplerate = int(samplerate)
        nyquist = self.samplerate / 2.0
        for part in self.parts:  # above it a sine aliases, at it it is all zeros
            if isinstance(part, signals.Tone) and part.freq >= nyquist:
                raise UsageError(
                    f"--input {spec!r}: tone {part.freq:g} Hz must be below the Nyquist "
                    f"frequency, {nyquist:g} Hz (sample rate {self.samplerate} Hz)"
                )
        self.channels = int(channels)
        self.max_seconds = max_seconds
        self.finite = max_seconds is not None
        self._mono: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._mono_start = 0  # frame index of _mono[0]
        self._mono_len = 0  # frames rendered in _mono

    def open(self) -> None:
        """Nothing to open; allocate the block buffers."""
        self.description = f"test signal '{self.spec}'"
        self._alloc()
        # In real time the signal is rendered RENDER_AHEAD frames at a time: a block's
        # numpy calls on a cold cache cost more than their arithmetic (the app's demo).
        ahead = max(RENDER_AHEAD, self.block_frames) if self.realtime else self.block_frames
        self._mono = np.zeros(ahead, dtype=np.float32)

    def _read_block(self, out: npt.NDArray[np.float32]) -> int:
        n = int(out.shape[0])
        if self.max_seconds is not None:
            n = min(n, round(self.max_seconds * self.samplerate) - self.frames_read)
            if n <= 0:
                return 0
        start, mono = self.frames_read, self._mono
        offset = start - self._mono_start
        if not 0 <= offset <= self._mono_len - n:
            size = mono.shape[0]
            if self.max_seconds is not None:
                size = max(n, min(size, round(self.max_seconds * self.samplerate) - start))
            signals.render(self.parts, start, size, self.samplerate, mono)
            self._mono_start, self._mono_len, offset = start, size, 0
        out[:n] = mono[offset : offset + n, None]
        return n


def make_source(
    input_spec: str | None,
    *,
    device: str | int | None = None,
    samplerate: int | None = None,
    channels: int | None = None,
    blocksize: int = 1024,
    latency: float | str | None = "high",
    pcm_format: str | None = None,
    realtime: bool = True,
    max_seconds: float | None = None,
) -> Source:
    """Build the source an ``--input``/``--device`` pair names (nothing is opened yet).

    ``input_spec`` is None for the sound card, ``"-"`` for stdin, a test-signal spec, or a
    file path.
    """
    if input_spec is None:
        from livespec.audio.device import DeviceSource

        return DeviceSource(device, samplerate, channels, blocksize, latency)
    if device is not None:
        raise UsageError("give either --device or --input, not both")
    if not input_spec.strip():  # else a file named '' is the folder '.'
        raise UsageError("--input '': empty; give a file, - (stdin) or a test signal (tone:1000)")
    if input_spec == "-":
        return StdinSource(pcm_format, samplerate, channels, blocksize, max_seconds=max_seconds)
    if signals.is_signal_spec(input_spec) and not os.path.exists(input_spec):
        return SignalSource(
            input_spec,
            samplerate or 48000,
            channels or 1,
            blocksize,
            realtime=realtime,
            max_seconds=max_seconds,
        )
    if samplerate is not None:
        raise UsageError("--samplerate does not apply to a file (it has its own rate)")
    return FileSource(input_spec, blocksize, realtime=realtime, max_seconds=max_seconds)


def check_input(
    input_spec: str | None, *, device: str | int | None = None, samplerate: int | None = None
) -> None:
    """What can be said of ``--input`` without opening the sound card or reading stdin
    (caller's thread): a test signal's spec, a file that is missing or no file, the option
    pairs :func:`make_source` refuses. Raises the UsageError or SourceError opening would."""
    if input_spec is None or input_spec == "-":
        return
    source = make_source(input_spec, device=device, samplerate=samplerate)
    if isinstance(source, FileSource):
        try:
            check_path(source.path)
        except AudioFileError as exc:
            raise SourceError(f"cannot open '{source.path}': {exc}") from None
