"""The audio of an HTML page (``livespec export -o x.html --audio embed|link|none``).

``embed`` encodes the samples into the page: FLAC (lossless, 16-bit) for up to
``FLAC_MAX_S`` seconds, OGG Vorbis (lossy, about 0.6 MB per minute of mono 48 kHz) for
longer audio; more than two channels are mixed down to one. Both play in Chromium's and
Firefox's ``<audio>``. ``link`` points the page at the input file by a relative URL (the page
then plays only next to it). The encoder reads the input in blocks and writes into memory,
so memory grows with the encoded size, not with the decoded samples.

Caller's thread.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
from numpy.typing import NDArray

from livespec.audio.files import open_audio_file

AUDIO_MODES = ("embed", "link", "none")
FLAC_MAX_S = 60.0  # longer audio is embedded as OGG Vorbis
BLOCK = 65536  # samples per channel per read/encode step
MAX_EMBED_S = 4 * 3600.0  # a longer input is not embedded (the page says so)


@dataclass(frozen=True)
class AudioRef:
    """The ``<audio>`` source of a page: ``src`` (a data: URL or a relative URL), its MIME
    type, and ``offset`` (s): the page time of the audio's ``currentTime`` 0."""

    src: str
    mime: str
    offset: float = 0.0
    note: str = ""


def encode(
    read_block: Callable[[int], NDArray[np.float32]],
    frames: int,
    samplerate: int,
    channels: int,
) -> tuple[bytes, str]:
    """Encode ``frames`` samples per channel, read by ``read_block(k) -> (k', channels)
    float32`` (k' <= k; 0 rows ends early), as FLAC or OGG Vorbis. Returns (bytes, MIME)."""
    import soundfile as sf

    out_ch = channels if channels <= 2 else 1
    use_flac = frames / samplerate <= FLAC_MAX_S or samplerate > 192000
    fmt, sub, mime = (
        ("FLAC", "PCM_16", "audio/flac") if use_flac else ("OGG", "VORBIS", "audio/ogg")
    )
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate, out_ch, format=fmt, subtype=sub) as f:
        done = 0
        while done < frames:
            block = read_block(min(BLOCK, frames - done))
            k = int(block.shape[0])
            if k == 0:
                break
            if channels > 2:
                block = block.mean(axis=1, keepdims=True)
            f.write(np.clip(block, -1.0, 1.0))
            done += k
    return buf.getvalue(), mime


def data_url(data: bytes, mime: str) -> str:
    """``data:MIME;base64,...``."""
    import base64

    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def embed_file(path: Path, start: int, frames: int) -> AudioRef:
    """Samples ``start .. start + frames`` of the audio file ``path``, encoded into the page;
    ``offset`` is ``start`` in seconds. Raises OSError/RuntimeError as soundfile does, or
    :class:`~livespec.audio.files.AudioFileError`."""
    with open_audio_file(path) as f:  # (an MP3's seek is exact only through it)
        fs = int(f.samplerate)
        if frames / fs > MAX_EMBED_S:
            return AudioRef("", "", start / fs, f"audio longer than {MAX_EMBED_S / 3600:g} h")
        f.seek(start)

        def read(k: int) -> NDArray[np.float32]:
            block: NDArray[np.float32] = f.read(k, dtype="float32", always_2d=True)
            return block

        data, mime = encode(read, frames, fs, int(f.channels))
    return AudioRef(data_url(data, mime), mime, start / fs)


def embed_array(samples: NDArray[np.float32], samplerate: int) -> AudioRef:
    """A (samples, channels) float32 array encoded into the page."""
    pos = 0

    def read(k: int) -> NDArray[np.float32]:
        nonlocal pos
        block = samples[pos : pos + k]
        pos += block.shape[0]
        return block

    n, ch = samples.shape
    if n / samplerate > MAX_EMBED_S:
        return AudioRef("", "", 0.0, f"audio longer than {MAX_EMBED_S / 3600:g} h")
    data, mime = encode(read, n, samplerate, ch)
    return AudioRef(data_url(data, mime), mime)


LINK_TYPES = {".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
              ".opus": "audio/ogg", ".mp3": "audio/mpeg", ".wav": "audio/wav"}  # fmt: skip


def link(audio: Path, page: Path) -> AudioRef:
    """The input file by a URL relative to the page's folder (``offset`` 0: the page's
    times are the file's, also for a clip)."""
    rel = os.path.relpath(os.path.abspath(audio), os.path.dirname(os.path.abspath(page)))
    url = "/".join(quote(part) for part in Path(rel).parts)
    return AudioRef(url, LINK_TYPES.get(audio.suffix.lower(), ""), 0.0)
