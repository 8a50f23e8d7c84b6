"""Runs of overlapping frames analysed together: window, FFT, dBFS rows and levels.

The engine's per-frame work is many small numpy calls; when several frames are waiting in
the ring (a block of audio arrived, or the worker woke after a few hops) each step runs
once over all of them: one copy of the run's signal, one window multiply into the FFT's
input rows, one FFT call per row, one pass per dB step over every row, levels from chunk
sums.

Every frame's results do not depend on the run it was in, to the bit: the same
element-wise operations in the same order (a short run only makes them through cheaper
calls: a lone frame's one-dimensional views, its level chunks added in Python), each row
transformed by a plan FFTW makes for the single frame's problem (same length, strides and
alignment, so the same algorithm), the levels combined per frame from chunks whose
boundaries do not depend on the run. Against :class:`~livespec.dsp.stft.Spectrum` the dB
rows differ by at most one float32 rounding of the power: the window carries the
calibration (``x_gain``), which saves a pass (``tests/test_block.py`` checks both).

All methods run on the engine's worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from livespec.dsp.fftw import PLANNING, pyfftw_module
from livespec.dsp.stft import Spectrum

MAX_BLOCK_SAMPLES = 1 << 18  # at most this many FFT input samples per run (2 MB)
_ALIGN_BYTES = 64  # every FFT row starts as aligned as the single frame's buffer
_MIN_CHUNK = 64  # level chunks shorter than this: reduce whole frames instead
_MIN_VECTOR_RUN = 6  # frames from which a run sums its level chunks in numpy...
_MAX_VECTOR_CHUNKS = 7  # ...if a frame has at most this many (numpy's pairwise sum adds
# up to 7 values in order, from 8 on in 8 partial sums)
_MAX_ITEM_EDGES = 4  # runs up to this long quarter their edge bins item by item
_QUARTER = np.float32(0.25)
# The ufuncs of the hot path, called with a positional ``out`` (a keyword costs more).
_multiply, _add, _maximum, _log = np.multiply, np.add, np.maximum, np.log
_sum, _max = np.add.reduce, np.maximum.reduce
_DB_PER_NEPER_POWER = np.float32(10.0 / np.log(10.0))
_FLOOR32 = np.float32(1e-20)  # stft.POWER_FLOOR


def max_run(nfft: int, limit: int = 16) -> int:
    """Frames per run for transforms of ``nfft`` points: up to ``limit``, fewer for long
    transforms (the run's FFT buffers stay within :data:`MAX_BLOCK_SAMPLES`)."""
    return max(1, min(int(limit), MAX_BLOCK_SAMPLES // max(int(nfft), 1)))


def _padded(count: int, itemsize: int) -> int:
    """``count`` rounded up so that ``count * itemsize`` is a multiple of the alignment."""
    step = _ALIGN_BYTES // math.gcd(_ALIGN_BYTES, itemsize)
    return -(-count // step) * step


class Run(NamedTuple):
    """The analysis of ``k`` consecutive frames (row ``j`` is frame ``j`` of the run).

    Attributes:
        X: complex spectra, (k, bins) complex128, each the frame's spectrum times
            :attr:`SpectrumBlock.x_gain`; a view of internal buffers, valid until the next
            :meth:`SpectrumBlock.compute`.
        db: dBFS rows, (k, bins) float32; a new array (each frame may keep its row).
        rms_dbfs: RMS level of each frame's analysed signal (dBFS, floor -200).
        peak_dbfs: largest absolute sample of each frame's analysed signal (dBFS, floor
            -200).
    """

    X: NDArray[np.complex128]
    db: NDArray[np.float32]
    rms_dbfs: list[float]
    peak_dbfs: list[float]


class _Views(NamedTuple):
    """Views of :class:`SpectrumBlock`'s buffers for a run of k frames of L samples."""

    x: NDArray[np.float64]  # (L,) the run's signal
    x2: NDArray[np.float64]  # (L,) its squares
    frames_x: NDArray[np.float64]  # (k, n) its frames (k = 1: (n,), as all (k, ...) here)
    frames_in: NDArray[np.float64]  # (k, n) the FFT input rows' samples
    plans: list[Callable[[], None]]  # the rows' FFTs
    fft_in: NDArray[np.float64]  # (k, nfft) the FFT input rows
    X: NDArray[np.complex128]  # (k, bins) the spectra (also for k = 1)
    xv: NDArray[np.float64]  # (k, bins, 2) as (re, im) pairs
    sq: NDArray[np.float64]  # (k, bins, 2) their squares
    sq_re: NDArray[np.float64]  # (k, bins)
    sq_im: NDArray[np.float64]  # (k, bins)
    floor: NDArray[np.float32]  # (k, bins) the power floor
    chunks: NDArray[np.float64]  # (m, g) the squares' level chunks
    stat: NDArray[np.float64]  # (2, m) each chunk's sum and largest square
    sums: NDArray[np.float64]  # (m,)
    tops: NDArray[np.float64]  # (m,)
    frame_stat: NDArray[np.float64]  # (2, k) each frame's
    frame_sums: NDArray[np.float64]  # (k, per) each frame's chunks' sums (of ``sums``)
    frame_tops: NDArray[np.float64]  # (k, per) and largest squares (of ``tops``)


class SpectrumBlock:
    """Analyses up to ``max_frames`` frames, ``hop`` samples apart, with one ``spectrum``'s
    settings (window, FFT length, calibration); one thread only (the engine's worker).

    Args:
        spectrum: the single-frame analyzer whose results each row reproduces.
        hop: samples between frame starts (>= 1).
        max_frames: the longest run :meth:`compute` accepts (>= 1).
    """

    def __init__(self, spectrum: Spectrum, hop: int, max_frames: int) -> None:
        if hop < 1 or max_frames < 1:
            raise ValueError(f"need hop >= 1 and max_frames >= 1, got {hop}, {max_frames}")
        self.spectrum = spectrum
        self.hop = int(hop)
        self.max_frames = b = int(max_frames)
        n, nfft, bins = spectrum.n, spectrum.nfft, spectrum.bins
        self._n, self._nfft, self._bins = n, nfft, bins
        pyfftw = pyfftw_module() if spectrum.backend_name == "fftw" else None
        in_row, out_row = _padded(nfft, 8), _padded(bins, 16)
        if pyfftw is not None:
            self._in: NDArray[np.float64] = pyfftw.empty_aligned((b, in_row), dtype="float64")
            self._out: NDArray[np.complex128] = pyfftw.empty_aligned(
                (b, out_row), dtype="complex128"
            )
            # One plan per row for the single frame's problem: FFTW finds it in its wisdom
            # (the Spectrum planned it), so each row is transformed exactly as alone.
            with PLANNING:  # FFTW's planner: one thread at a time (dsp/fftw.py)
                self._plans = [
                    pyfftw.FFTW(
                        self._in[j, :nfft],
                        self._out[j, :bins],
                        direction="FFTW_FORWARD",
                        flags=("FFTW_MEASURE",),
                        threads=1,
                    ).execute
                    for j in range(b)
                ]
        else:
            self._in = np.zeros((b, in_row), dtype=np.float64)
            self._out = np.zeros((b, out_row), dtype=np.complex128)
            self._plans = []
        self._in.fill(0.0)  # columns n..nfft stay zero (the zero padding)
        self._out.fill(0.0)
        self._frames_in = self._in[:, :n]
        self._X = self._out[:, :bins]
        self._Xv = self._out.view(np.float64).reshape(b, out_row, 2)[:, :bins]
        self._sq = np.empty((b, bins, 2), dtype=np.float64)
        self._floor = np.full((b, bins), _FLOOR32, dtype=np.float32)  # faster than a scalar
        # The window carries the calibration: X is the single frame's spectrum times
        # x_gain = 2 / sum(window), so |X|**2 is the power 4 |X|**2 / S1**2 of every bin
        # but DC and (even nfft) Nyquist, which take a quarter of it (exact in binary).
        self.x_gain = 2.0 / float(np.sum(spectrum._w64))
        self._window = spectrum._w64 * self.x_gain
        self._mix_window = self._window.copy()
        self._edges = slice(0, bins, bins - 1) if nfft % 2 == 0 and bins > 1 else slice(0, 1)
        self._edge_bins = (0, bins - 1) if nfft % 2 == 0 and bins > 1 else (0,)
        self._mix_channels = 1
        # The run's analysed signal (float64) and its squares, and every frame of it as a
        # row of a strided view (made once: as_strided costs microseconds a call).
        span = (b - 1) * self.hop + n
        self._x = np.empty(span, dtype=np.float64)
        self._x2 = np.empty(span, dtype=np.float64)
        self._frames_x = _rows(self._x, b, n, self.hop)
        # Levels: sums and maxima of the squares over chunks of g samples (g divides n
        # and hop, so every frame is whole chunks, cut at the same places in any run), or
        # over whole frames; each frame then adds up its n // g chunks.
        g = math.gcd(n, self.hop)
        if g < _MIN_CHUNK:
            g = n
        self._per = n // g  # chunks per frame
        self._step = self.hop // g if g < n else 1  # chunks between frame starts
        if g < n:
            m = span // g
            self._chunks = self._x2.reshape(m, g)  # the span is m whole chunks
        else:
            m = b
            self._chunks = _rows(self._x2, b, n, self.hop)
        self._chunk = g
        self._cstat = np.empty((2, m))  # each chunk's sum and largest square
        self._fstat = np.empty((2, b))  # each frame's
        # The views a run of k frames works on, made on its first use (a view costs a
        # few tenths of a microsecond, about 20 of them a run: much of a short run).
        self._views: list[_Views | None] = [None] * (b + 1)

    def _make_views(self, k: int) -> _Views:
        """The buffers' views for a run of ``k`` frames (see ``__init__``)."""
        length = (k - 1) * self.hop + self._n
        per, step = self._per, self._step
        m = (k - 1) * step + per
        # One frame: the row itself, one dimension less (numpy's calls cost less).
        row = 0 if k == 1 else slice(0, k)
        sq = self._sq[row]
        sums, tops = self._cstat[:, :m]
        views = _Views(
            x=self._x[:length],
            x2=self._x2[:length],
            frames_x=self._x[:length] if k == 1 else self._frames_x[:k],
            frames_in=self._frames_in[row],
            plans=self._plans[:k],
            fft_in=self._in[:k, : self._nfft],
            X=self._X[:k],
            xv=self._Xv[row],
            sq=sq,
            sq_re=sq[..., 0],
            sq_im=sq[..., 1],
            floor=self._floor[row],
            chunks=self._chunks[:m],
            stat=self._cstat[:, :m],
            sums=sums,
            tops=tops,
            frame_stat=self._fstat[:, :k],
            frame_sums=_rows(sums, k, per, step),
            frame_tops=_rows(tops, k, per, step),
        )
        self._views[k] = views
        return views

    def frames_in(self, samples: int) -> int:
        """How many frames a run of ``samples`` samples holds."""
        return (samples - self._n) // self.hop + 1

    def compute(self, span: NDArray[np.float32], channel: int | None = None) -> Run:
        """Analyse the ``k`` frames of ``span`` (samples x channels, float32, any strides,
        e.g. a ring view; ``(k - 1) * hop + n`` samples, k <= max_frames); mixes all
        channels (their mean) if ``channel`` is None. Engine thread.

        Raises:
            ValueError: a span that is not whole frames, too long, or a channel out of range.
        """
        n, hop = self._n, self.hop
        length = int(span.shape[0])
        k = (length - n) // hop + 1  # self.frames_in(length)
        if not 1 <= k <= self.max_frames or (k - 1) * hop + n != length:
            raise ValueError(
                f"a run of {length} samples is not 1..{self.max_frames} frames of {n} every {hop}"
            )
        v = self._views[k] or self._make_views(k)
        x = v.x
        window, gain = self._window, 1.0
        channels = 1 if span.ndim == 1 else int(span.shape[1])
        if channel is not None and not 0 <= channel < channels:
            raise ValueError(f"channel {channel} out of range for {channels} channels")
        if span.ndim == 1:
            np.copyto(x, span)
        elif channel is not None or channels == 1:
            np.copyto(x, span[:, channel or 0])
        else:  # the mean of the channels: their sum here, 1/channels in the window
            _add(span[:, 0], span[:, 1], x)
            for c in range(2, channels):
                _add(x, span[:, c], x)
            if channels != self._mix_channels:
                _multiply(self._window, 1.0 / channels, self._mix_window)
                self._mix_channels = channels
            window, gain = self._mix_window, 1.0 / channels
        _multiply(v.frames_x, window, v.frames_in)
        if self._plans:
            for execute in v.plans:
                execute()
        else:
            np.fft.rfft(v.fft_in, axis=1, out=v.X)
        rms, peak = self._levels(v, k, gain)
        return Run(v.X, self._db(v, k), rms, peak)

    def _db(self, v: _Views, k: int) -> NDArray[np.float32]:
        """The dBFS rows of the last transform (:meth:`Spectrum.db`'s formula; the scale
        came with the window): power in float64, rounded once to float32, floored, and
        its logarithm in float32 (numpy's float32 log is SIMD)."""
        out = np.empty((k, self._bins), dtype=np.float32)
        db = out[0] if k == 1 else out  # as the views (see _make_views)
        _multiply(v.xv, v.xv, v.sq)
        _add(v.sq_re, v.sq_im, db)
        if k <= _MAX_ITEM_EDGES:  # a strided view's call costs more than a few items
            for row in (db,) if k == 1 else out:
                for i in self._edge_bins:
                    row[i] *= _QUARTER
        else:
            edges = out[:, self._edges]
            _multiply(edges, _QUARTER, edges)
        _maximum(db, v.floor, out=db)
        _log(db, db)
        _multiply(db, _DB_PER_NEPER_POWER, db)
        return out

    def _levels(self, v: _Views, k: int, gain: float) -> tuple[list[float], list[float]]:
        """RMS and peak level (dBFS, floor -200) of each frame of the run's signal (the
        views ``v``) times ``gain``.

        The peak is taken from the squares: ``sqrt(RN(x*x)) == abs(x)`` in binary floating
        point, so ``max(x*x)`` is exactly the largest square (here even ``x*x`` is exact:
        x holds float32 samples or their sum). Each frame adds its chunks' sums in order:
        in one numpy reduction over the run's frames (a long run) or in Python (a short
        one, where numpy's calls cost more), the same additions either way.
        """
        x, x2 = v.x, v.x2
        _multiply(x, x, x2)
        per, step = self._per, self._step
        sums, tops = v.sums, v.tops
        _sum(v.chunks, 1, None, out=sums)
        if k == 1:  # one frame: its chunks are all there are (the largest: of them all)
            sums_ = sums.tolist()
            t = sums_[0]
            for value in sums_[1:]:
                t += value
            return self._dbfs([t], [float(_max(x2))], gain)
        _max(v.chunks, 1, None, out=tops)
        if per == 1:
            total, top = v.stat.tolist()  # a chunk is a frame
        elif k >= _MIN_VECTOR_RUN and per <= _MAX_VECTOR_CHUNKS:
            # One reduction over each frame's chunks: numpy adds fewer than 8 values in
            # order, as the loop below does.
            ftotal, ftop = frames = v.frame_stat
            _sum(v.frame_sums, 1, None, out=ftotal)
            _max(v.frame_tops, 1, None, out=ftop)
            total, top = frames.tolist()
        else:
            sums_, tops_ = v.stat.tolist()
            total, top = [], []
            for first in range(0, k * step, step):
                t = sums_[first]
                for i in range(first + 1, first + per):
                    t += sums_[i]
                total.append(t)
                top.append(max(tops_[first : first + per]))
        return self._dbfs(total, top, gain)

    def _dbfs(
        self, total: list[float], top: list[float], gain: float
    ) -> tuple[list[float], list[float]]:
        """RMS and peak levels (dBFS) of frames from their sums of squares and largest
        squares: 10*log10(power), -200 below 1e-20 (the level 1e-10, the power floor's)."""
        g2 = gain * gain
        mean_scale, log10 = g2 / self._n, math.log10
        rms = [10.0 * log10(max(t * mean_scale, 1e-20)) for t in total]
        peak = [10.0 * log10(max(t * g2, 1e-20)) for t in top]
        return rms, peak


def _rows(a: NDArray[np.float64], rows: int, n: int, step: int) -> NDArray[np.float64]:
    """Rows ``a[j*step : j*step + n]`` for j < rows, as one read-only strided view."""
    return as_strided(a, (rows, n), (step * a.strides[0], a.strides[0]), writeable=False)
