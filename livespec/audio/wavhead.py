"""The data size a WAV stream's header declares, and whether a stream that ended short of it
was cut off.

A WAV written to a pipe cannot have its sizes patched at the end, so streaming writers put
a placeholder in the ``data`` chunk's size: 0, ``0xFFFFFFFF`` (ffmpeg), ``0x7FFFF000``
(SoX) or ``0x7FFFFFFF`` rounded down to whole frames (arecord without ``-d``); RF64/BW64
put ``0xFFFFFFFF`` there and the size in the ``ds64`` chunk, 0 or ``-1`` when unknown. Any
other size is taken as real: a stream that ends before it is a file cut short (``head -c``,
a dropped connection), or a writer stopped early (``arecord -d 60`` interrupted). Readers
read what came in both cases; only a real size is worth a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEAD_BYTES = 1 << 20  # the data chunk's header must come within this many bytes
UNKNOWN_FROM = 0x7FFFF000  # a 32-bit data size this large is a streaming placeholder
UNKNOWN_FROM_64 = 1 << 63  # ... and a 64-bit one (ds64) this large


@dataclass(frozen=True)
class WavHead:
    """What a WAV header says about its ``data`` chunk.

    Attributes:
        data_bytes: the declared size of the audio in bytes.
        block_align: bytes per frame (all channels).
        size_at: offset of the ``data`` chunk's 32-bit size field in the stream.
        placeholder: the size is a streaming writer's placeholder, not a real size.
    """

    data_bytes: int
    block_align: int
    size_at: int
    placeholder: bool

    @property
    def frames(self) -> int:
        """Frames the header declares (meaningless for a placeholder)."""
        return self.data_bytes // max(self.block_align, 1)


def scan(head: bytes) -> WavHead | bool | None:
    """The ``data`` chunk of the RIFF/RF64/BW64 WAVE header at the start of ``head``; True
    if more bytes are needed to reach it, None if there is none to find (not a WAVE
    header, no ``fmt `` chunk before ``data``, or not within :data:`MAX_HEAD_BYTES`)."""
    if len(head) < 12:
        return True
    if head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
        return None
    rf64 = head[:4] != b"RIFF"
    pos, align, size64 = 12, 0, None
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        body = pos + 8
        if cid == b"data":
            if not align:
                return None
            if rf64 and size == 0xFFFFFFFF:
                if size64 is None:  # no ds64 chunk: nothing says the size
                    return WavHead(0, align, pos + 4, True)
                return WavHead(size64, align, pos + 4, size64 == 0 or size64 >= UNKNOWN_FROM_64)
            return WavHead(size, align, pos + 4, size == 0 or size >= UNKNOWN_FROM)
        if body + size > len(head) and cid in (b"fmt ", b"ds64"):
            break  # its body has not come yet
        if cid == b"fmt " and size >= 14:
            align = int.from_bytes(head[body + 12 : body + 14], "little")
        elif cid == b"ds64" and size >= 16:
            size64 = int.from_bytes(head[body + 8 : body + 16], "little")
        pos = body + size + (size & 1)
    return True if pos + 8 <= MAX_HEAD_BYTES else None


def open_ended(head: bytes, wav: WavHead) -> bytes:
    """``head`` with a data size of 0 replaced by ``0xFFFFFFFF``: libsndfile reads no audio
    after a size of 0, but up to the end of the stream after ``0xFFFFFFFF``."""
    if wav.data_bytes != 0 or len(head) < wav.size_at + 4:
        return head
    at = wav.size_at
    return head[:at] + b"\xff\xff\xff\xff" + head[at + 4 :]


def short_note(what: str, wav: WavHead, frames: int, samplerate: float) -> str | None:
    """One line if the stream ended after ``frames`` frames, short of the real size its
    header declares; None if it did not, or the size is a placeholder."""
    if wav.placeholder or frames >= wav.frames:
        return None
    fs = max(float(samplerate), 1.0)
    return (
        f"warning: {what} ended after {frames} of the {wav.frames} frames its header "
        f"declares ({frames / fs:.3f} of {wav.frames / fs:.3f} s): cut short? "
        "Read what came."
    )
