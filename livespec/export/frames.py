"""Reading and framing for ``livespec export``: mono samples from a file, block by block,
cut into frames (scipy's framing, or centred and padded as librosa and torchaudio do) and
analysed in batches by a :class:`~livespec.export.dsp.BatchAnalyzer`.

Caller's thread; memory is a few batches of samples, whatever the length of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livespec.audio.files import check_samples
from livespec.export.dsp import F32, BatchAnalyzer

Floats = NDArray[np.float32] | NDArray[np.float64]
PCM16_SCALE = np.float32(1.0 / 32768.0)  # libsndfile's int16 -> float (exact in float32)
AHEAD_BYTES = 1 << 19  # 16-bit PCM read ahead per call of libsndfile (all channels)


class SampleReader:
    """Reads mono float32 samples from an open ``soundfile.SoundFile``: one channel, or the
    mean of all channels. 16-bit PCM is read as int16 and scaled here (libsndfile's own
    conversion gives the same values at about four times the cost; such samples need no
    range check). Caller's thread; reuses its buffers."""

    def __init__(self, sf: object, channel: int | None, block: int = 65536) -> None:
        self._sf = sf
        self.channels = int(getattr(sf, "channels", 1))
        self.channel = channel
        self._block = block
        self._buf = np.empty((block, self.channels), dtype=np.float32)
        self._pcm16: NDArray[np.int16] | None = None
        if getattr(sf, "subtype", None) == "PCM_16":  # read ahead: a call costs ~20 us
            ahead = max(block, AHEAD_BYTES // (2 * self.channels))
            self._pcm16 = np.empty((ahead, self.channels), dtype=np.int16)
        self._next = self._end = 0  # the int16 frames not yet taken: _pcm16[_next:_end]
        self._inv = np.float32(1.0 / self.channels)
        self._wide: F32 | None = None
        self._fs = float(getattr(sf, "samplerate", 1) or 1)
        self.read_total = 0

    def read(self, out: Floats) -> int:
        """Fill ``out`` (1-D float32, or float64: the same values) as far as the file
        allows; return the samples read."""
        got = 0
        want = out.shape[0]
        direct = self._pcm16 is not None and (self.channels == 1 or self.channel is not None)
        if out.dtype != np.float32 and not direct:  # the float32 values, then widened
            if self._wide is None:
                self._wide = np.empty(self._block, dtype=np.float32)
            while got < want:
                k = min(self._block, want - got)
                m = self.read(self._wide[:k])
                out[got : got + m] = self._wide[:m]
                got += m
                if m < k:
                    break
            return got
        read = self._sf.read  # type: ignore[attr-defined]
        while got < want:
            k = min(self._block, want - got)
            dst = out[got : got + k]
            if self._pcm16 is not None:
                ints = self._take16(k)
                m = ints.shape[0]
                if m == 0:
                    break
                if direct:
                    np.multiply(ints[:, self.channel or 0], PCM16_SCALE, out=dst[:m])
                    got += m
                    continue
                data: F32 = self._buf[:m]
                np.multiply(ints, PCM16_SCALE, out=data)
            else:
                data = read(k, dtype="float32", always_2d=True, out=self._buf[:k])
                m = data.shape[0]
                if m == 0:
                    break
                check_samples(data, self.read_total + got, self._fs)
            dst = dst[:m]
            if self.channel is not None:
                np.copyto(dst, data[:, self.channel])
            elif self.channels == 1:
                np.copyto(dst, data[:, 0])
            else:
                np.add(data[:, 0], data[:, 1], out=dst)
                for c in range(2, self.channels):
                    np.add(dst, data[:, c], out=dst)
                np.multiply(dst, self._inv, out=dst)
            got += m
            if m < k and self._pcm16 is None:
                break
        self.read_total += got
        return got

    def _take16(self, k: int) -> NDArray[np.int16]:
        """Up to ``k`` int16 frames, from the read-ahead buffer (refilled when it is used
        up); none at the end of the file."""
        assert self._pcm16 is not None
        if self._next == self._end:
            read = self._sf.read  # type: ignore[attr-defined]
            self._end = read(
                len(self._pcm16), dtype="int16", always_2d=True, out=self._pcm16
            ).shape[0]
            self._next = 0
        a = self._next
        self._next = min(self._end, a + k)
        return self._pcm16[a : self._next]


class ShortRead(Exception):
    """The file ended before the number of samples its header promised."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"truncated: expected {expected} samples, read {got}")
        self.expected = expected
        self.got = got

    def __reduce__(self) -> tuple[type[ShortRead], tuple[int, int]]:
        return (ShortRead, (self.expected, self.got))  # pickled by a forked part


def analyse_segment(
    read: Callable[[F32], int],
    nsamples: int,
    analyzer: BatchAnalyzer,
    emit: Callable[[F32], None],
) -> int:
    """Stream ``nsamples`` samples from ``read`` through ``analyzer``; call ``emit`` with each
    batch of rows (a float32 view (f, cols), valid only during the call).

    Args:
        read: writes the next samples into a float32 1-D array, returns how many (0 at the
            end; fewer than asked is fine).
        nsamples: samples in the segment (a whole file or one clip).
        analyzer: the planned analysis.
        emit: receives consecutive rows; frame k covers padded samples
            ``[k*hop, k*hop + n)`` (padding only when the recipe is centred).

    Returns:
        The number of rows emitted (``recipe.frames(nsamples)``).

    Raises:
        ShortRead: ``read`` ran dry before ``nsamples`` samples.
    """
    produced = 0
    for rows in iter_segment(read, nsamples, analyzer):
        emit(rows)
        produced += rows.shape[0]
    return produced


def iter_segment(
    read: Callable[[F32], int], nsamples: int, analyzer: BatchAnalyzer
) -> Iterator[F32]:
    """:func:`analyse_segment` as a generator: yields each batch of rows (a float32 view
    (f, cols), valid until the next step). Caller's thread."""
    out = np.empty((analyzer.batch, analyzer.cols), dtype=np.float32)
    for view in frame_views(read, nsamples, analyzer):
        f = view.shape[0]
        analyzer.process(view, out[:f])
        yield out[:f]


def frame_views(
    read: Callable[[Any], int],
    nsamples: int,
    analyzer: BatchAnalyzer,
    dtype: type[np.floating[Any]] = np.float32,
) -> Iterator[F32]:
    """The framing of :func:`iter_segment`: yields each batch of frames, a read-only
    (f, n) view of the samples valid until the next step (``analyzer`` gives the recipe
    and the batch size). With ``dtype`` float64 the frames hold the same values in float64
    (``read`` must fill such an array), which the window multiplies without a conversion
    per use of a sample. Caller's thread."""
    r = analyzer.recipe
    n, hop, pad, b = r.n, r.hop, r.pad, analyzer.batch
    total = r.frames(nsamples)
    if total == 0:
        return
    reflect = r.center and r.pad_mode == "reflect"
    keep = pad + 1 if reflect else 0  # samples kept for the right-hand reflection
    cap = b * hop + n + 2 * pad + 2
    buf = np.empty(cap, dtype=dtype)
    size = buf.itemsize
    fill = 0
    pos = 0
    remaining = nsamples
    started = pad == 0
    finished = pad == 0
    produced = 0

    def read_fully(dst: F32) -> int:
        got = 0
        while got < dst.shape[0]:
            k = read(dst[got:])
            if k <= 0:
                break
            got += k
        return got

    while produced < total:
        if remaining > 0:
            start = fill if started else pad
            want = min(cap - start - (0 if started else pad), remaining)
            if want > 0:
                got = read_fully(buf[start : start + want])
                remaining -= got
                if got < want and remaining > 0:
                    raise ShortRead(nsamples, nsamples - remaining)
                if not started:
                    if reflect:
                        buf[:pad] = buf[pad + 1 : 2 * pad + 1][::-1]
                    else:
                        buf[:pad] = 0.0
                    started = True
                    fill = pad + got
                else:
                    fill += got
        if remaining == 0 and not finished and cap - fill >= pad:
            if reflect:
                buf[fill : fill + pad] = buf[fill - pad - 1 : fill - 1][::-1]
            else:
                buf[fill : fill + pad] = 0.0
            fill += pad
            finished = True
        avail = fill - pos
        f = 0 if avail < n else min(b, (avail - n) // hop + 1, total - produced)
        if f > 0:
            # (as_strided's view without its per-call cost: a tenth of it)
            view = np.ndarray((f, n), buf.dtype, buf, pos * size, (hop * size, size))
            view.flags.writeable = False
            yield view
            produced += f
            pos += f * hop
        elif remaining == 0 and finished:  # pragma: no cover - guarded by frames()
            raise RuntimeError("framing ended early")
        # Compact: keep from the next frame start (and the reflection tail) onwards.
        drop = min(pos, fill - keep) if not finished else pos
        if drop > 0:
            rest = fill - drop
            buf[:rest] = buf[drop:fill]
            fill = rest
            pos -= drop
