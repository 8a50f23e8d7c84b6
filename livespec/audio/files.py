"""Opening audio files one way for every command, with a one-line reason for each way a
file can be wrong.

``peaks``, ``measure``, ``record``'s sources and the app (through
:class:`~livespec.audio.sources.FileSource`) and ``export`` (through its jobs) all open
files with :func:`open_audio_file`, so they refuse the same files with the same words:
a missing file, a symbolic link loop, a folder, a FIFO or device (which would block or
never end), an empty file, a header libsndfile rejects, a rate or channel count no audio
has, a file shorter than its header declares, no audio at all. While reading,
:func:`check_samples` refuses samples that are not finite or lie beyond +120 dBFS (a float
file full of garbage). Caller's thread.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from livespec.audio.mpeg import needs_forward_reads, open_mpeg
from livespec.audio.stderr import quiet_native_stderr
from livespec.errors import EXIT_FAILURE, SourceError, printable

if TYPE_CHECKING:
    import soundfile

MAX_SAMPLE = 1e6  # +120 dBFS: a sample beyond this (or not finite) means a damaged file
MAX_SAMPLERATE = 768_000  # Hz; a header claiming more is damaged (docs/cli.md)
MAX_CHANNELS = 64  # likewise

_DECLARED = re.compile(r"^(data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


class AudioFileError(SourceError):
    """A file that cannot be analysed; the message is the reason, without the path.
    ``library`` is True when libsndfile refused to open it (the reason is its words)."""

    def __init__(self, message: str, library: bool = False) -> None:
        super().__init__(message)
        self.library = library


class DamagedInput(SourceError):
    """Audio found damaged while reading it (exit status 1: after start-up)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_FAILURE)


def check_header(what: str, samplerate: int, channels: int) -> None:
    """Refuse a rate or channel count no real audio has (a damaged or hostile header)."""
    if not 1 <= samplerate <= MAX_SAMPLERATE:
        raise SourceError(
            f"{what}: the header says {samplerate} Hz; livespec reads 1..{MAX_SAMPLERATE} Hz "
            "(the file is damaged or not audio)"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise SourceError(
            f"{what}: the header says {channels} channels; livespec reads 1..{MAX_CHANNELS}"
        )


def sf_reason(exc: BaseException) -> str:
    """libsndfile's complaint in a form for one line: no soundfile "Error opening 'path': "
    prefix, no "Error : ", white space folded."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    if msg.startswith("Error opening") and ": " in msg:
        msg = msg.split(": ", 1)[1]
    if msg.startswith("Error : "):
        msg = msg[len("Error : ") :]
    if msg.startswith("File does not exist or is not a regular file"):
        msg = "format not recognised"  # what libsndfile says after failing to sync an MP3
    return msg.rstrip(".")


def truncation(extra_info: str) -> str | None:
    """A message if libsndfile's log shows a file cut short (its header promises more audio
    than the file holds), else None."""
    m = _DECLARED.search(extra_info)
    if m and int(m.group(2)) > int(m.group(3)):
        return (
            f"truncated: the header declares {int(m.group(2))} bytes of audio, "
            f"the file holds {int(m.group(3))}"
        )
    if "Last page lacks an end-of-stream bit" in extra_info:
        return "truncated: the Ogg stream has no end-of-stream page"
    return None


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for the message; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        # (`livespec export` has no --input: its stdin is `export -`)
        return (
            "is a FIFO (named pipe), not a file; pipe it in on stdin instead (--input -; export -)"
        )
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is not a regular file"


def check_path(path: Path) -> None:
    """Refuse what is not a readable regular file, without opening it (a FIFO's open()
    would wait for a writer). Raises :class:`AudioFileError`."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioFileError("a symbolic link loop") from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise AudioFileError("no such file") from None
        raise AudioFileError(os.strerror(exc.errno or 0).lower() or str(exc)) from None
    kind = _kind(st.st_mode)
    if kind:
        raise AudioFileError(kind)
    if not os.access(path, os.R_OK):
        raise AudioFileError("permission denied")
    if st.st_size == 0:
        raise AudioFileError("empty file (0 bytes)")


def sf_path(path: Path) -> str | bytes:
    """``path`` as soundfile takes it: the text, or its bytes when the name is not valid
    in the file-system encoding (``b'take\xff.wav'``, decoded with surrogate escapes;
    soundfile would fail to encode it: "surrogates not allowed")."""
    text = str(path)
    try:
        text.encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        return os.fsencode(text)
    return text


def open_audio_file(path: Path) -> soundfile.SoundFile:
    """Open ``path`` for reading after every check above; the caller closes it.

    Raises:
        AudioFileError: with the reason in one line (no path; the caller adds it).
    """
    import soundfile as sf

    check_path(path)
    try:
        with quiet_native_stderr():  # libmpg123 and libFLAC complain on fd 2
            f = sf.SoundFile(sf_path(path))
            if needs_forward_reads(f):  # read without libsndfile's (MPEG, DWVW) seek
                f.close()
                f = open_mpeg(path)
    except Exception as exc:  # libsndfile's errors vary
        raise AudioFileError(sf_reason(exc), library=True) from None
    try:
        check_header("the file", int(f.samplerate), int(f.channels))
        problem = truncation(f.extra_info)
        if problem:
            raise AudioFileError(problem)
        if f.frames <= 0:
            raise AudioFileError("no audio (0 samples)")
    except SourceError as exc:
        f.close()
        msg = str(exc).removeprefix("the file: ")
        raise AudioFileError(msg) from None
    return f


def open_audio_path(path: str | Path) -> soundfile.SoundFile:
    """:func:`open_audio_file`, with the path in the error's message."""
    try:
        return open_audio_file(Path(path))
    except SourceError as exc:
        raise SourceError(f"{printable(str(path))}: {exc}") from None


def mix_channels(block: npt.NDArray[np.float32], channels: int) -> npt.NDArray[np.float32]:
    """``block`` (frames x channels) on fewer ``channels``: the mean for 1, else the first."""
    if channels == 1:
        mixed: npt.NDArray[np.float32] = block.mean(axis=1, keepdims=True, dtype=np.float32)
        return mixed
    return block[:, :channels]


def check_samples(block: npt.NDArray[np.float32], first: int, samplerate: float) -> None:
    """Refuse a block holding a sample that is NaN, infinite or beyond ``MAX_SAMPLE``.

    ``first`` is the block's first frame in the stream, for the message.
    """
    if not block.size or (block.max() <= MAX_SAMPLE and block.min() >= -MAX_SAMPLE):
        return  # two reductions, no temporary (NaN fails both comparisons)
    peak = float(np.max(np.abs(block)))
    bad = ~(np.abs(block) <= MAX_SAMPLE)
    frame = first + int(np.argmax(bad.any(axis=1) if bad.ndim == 2 else bad))
    what = "not a number" if math.isnan(peak) else "beyond +120 dBFS (or infinite)"
    raise DamagedInput(
        f"sample {frame} ({frame / samplerate:.4f} s) is {what}: the audio is damaged"
    )
