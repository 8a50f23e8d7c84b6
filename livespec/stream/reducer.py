"""The sender's side of the stream: which bins are sent, the header, frame reduction.

``livespec stream`` groups the FFT bins into at most ``--bins`` sent values (:func:`bin_groups`:
on the log grid the low bins one by one, the high ones grouped, each group the maximum of
its bins so peaks survive) and combines engine frames to the streamed frame rate
(:class:`Reducer`). The format itself is :mod:`livespec.stream.protocol`.

Pure code: no Textual. The reducer runs on the engine's thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from livespec.config import AnalysisConfig
from livespec.engine import Frame
from livespec.stream.protocol import StreamHeader, encode_frame

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


def bin_groups(
    bins: int, bin_hz: float, sent: int, grid: str, fmin: float, fmax: float | None
) -> tuple[I64, int]:
    """Group the FFT bins between ``fmin`` and ``fmax`` (Hz) into at most ``sent`` groups.

    ``log``: group edges on a logarithmic grid, but never narrower than one bin (so the
    low bins are sent one by one); ``linear``: groups of equal width. Returns the first
    bin of each group and the bin after the last group.
    """
    lo = min(bins - 1, max(0, math.floor(fmin / bin_hz)))
    top = bins if fmax is None else min(bins, math.ceil(fmax / bin_hz) + 1)
    hi = max(lo + 1, top)
    if hi - lo <= sent:
        return np.arange(lo, hi, dtype=np.int64), hi
    if grid == "linear":
        edges = np.unique(np.rint(np.linspace(lo, hi, sent + 1)).astype(np.int64))
        return edges[:-1], hi
    starts: list[int] = []
    s = lo
    while s < hi and len(starts) < sent:
        left = sent - len(starts)
        if hi - s <= left:  # as many groups as bins left: one bin each
            starts.extend(range(s, hi))
            break
        base = max(s, 1)
        end = max(s + 1, round(base * (hi / base) ** (1.0 / left)))
        starts.append(s)
        s = end
    return np.asarray(starts, dtype=np.int64), hi


def make_header(
    analysis: AnalysisConfig,
    samplerate: int,
    fps: float,
    sent: int,
    grid: str,
    info: Mapping[str, object],
) -> StreamHeader:
    """The header for an :class:`~livespec.config.AnalysisConfig` at ``samplerate`` Hz,
    ``fps`` streamed frames per second (0: every analysis frame) and ``sent`` bins."""
    a = analysis
    nfft = a.fft * a.zero_pad
    bins = nfft // 2 + 1
    hop = a.hop_samples
    frame_hop = hop if fps == 0 else max(hop, round(samplerate / fps))
    groups, stop = bin_groups(bins, samplerate / nfft, sent, grid, a.fmin, a.fmax)
    return StreamHeader(
        samplerate=samplerate,
        fft=a.fft,
        zero_pad=a.zero_pad,
        window=a.window,
        beta=a.beta,
        hop=hop,
        frame_hop=frame_hop,
        bins=bins,
        groups=tuple(int(g) for g in groups),
        stop=stop,
        peaks=a.peaks,
        a4=a.a4,
        fmin=a.fmin,
        fmax=a.fmax,
        grid=grid,
        info=dict(info),
    )


class Reducer:
    """Engine frames -> streamed frames: bins grouped, frames max-combined to ``frame_hop``.

    Streamed frame ``j`` combines the engine frames that start in samples
    ``[j*frame_hop, (j+1)*frame_hop)``: the dB rows and the sample peaks by maximum, the
    peaks, RMS, time and latency of the newest. It is sent as soon as its last engine
    frame arrives (no waiting for the next). Engine thread.
    """

    def __init__(self, header: StreamHeader) -> None:
        self.h = header
        self._rel = np.asarray(header.groups, dtype=np.int64) - header.groups[0]
        self._row: F32 | None = None
        self._newest: Frame | None = None
        self._slot = -1
        self._peak = -math.inf

    def add(self, f: Frame) -> list[bytes]:
        """Take one engine frame; return the FRAME records now complete (0, 1 or 2)."""
        h, out = self.h, []
        row = np.maximum.reduceat(f.db[h.groups[0] : h.stop], self._rel)
        slot = f.index * h.hop // h.frame_hop
        if self._row is not None and slot != self._slot:  # frames were skipped: send the rest
            out.append(self._emit())
        if self._row is None:
            self._row, self._slot, self._peak = row, slot, f.peak_dbfs
        else:
            np.maximum(self._row, row, out=self._row)
            self._peak = max(self._peak, f.peak_dbfs)
        self._newest = f
        if (f.index + 1) * h.hop // h.frame_hop != slot:
            out.append(self._emit())
        return out

    def _emit(self) -> bytes:
        f, row = self._newest, self._row
        assert f is not None and row is not None
        self._row = None
        return encode_frame(
            self._slot, f.start, f.t, f.rms_dbfs, self._peak, f.latency, f.peaks, row
        )
