"""The live app's constant-Q transform: one FFT and one sparse product per group of octaves,
each group at its own rate.

A bin's kernel is ``Q * fs / f`` samples long (at 24 bins per octave and 48 kHz: 1.04 s for
C1, 8 ms at C9), so one FFT long enough for the bass, computed for every frame, would cost a
65536-point transform 47 times a second. :class:`LiveCqt` splits the bins by octave: octave
``g`` is recomputed every ``s_g`` frames, ``s_g = max(1, L_g / (4 * hop))`` with ``L_g`` its
longest kernel: a quarter of the kernel, as an STFT with 75 % overlap, which is all the time
resolution a kernel that long has; in between, its values are held. Octaves with the same
``s_g``, up to three (at 48 kHz and hop 1024: C4-C6 and C7-C9, every frame), share one FFT
of ``N_g`` points (a power of two holding their longest kernel) over the newest ``N_g``
samples. The
cost is then about four transforms of each group's length per kernel length, for all
groups together a few times one STFT's; the levels are the same as
:class:`~livespec.dsp.cqt.CqtKernel`'s (the export's), kernel for kernel, but each kernel is
cut at :data:`LIVE_SPARSITY` of its L1 mass, not 1 %: less leakage far from a tone
(docs/dsp.md, "Leakage").

Each octave's kernels are centred in its newest ``N_g`` samples, so a bin shows what was
played about half its kernel ago: the bass later than the treble, as in any CQT.

The FFTs are planned with FFTW_ESTIMATE: measuring plans for nine lengths up to 65536 took
8 s without wisdom, a freeze at every switch to the scale, for about 0.2 ms a frame.
Building the kernels takes about 0.16 s at 48 kHz; the engine has it done on a thread of
its own (:mod:`livespec.dsp.cqt_switch`), which can stop it between groups of octaves
(``cancelled``).

Engine thread (one thread at a time); no allocation per frame beyond numpy's small
temporaries in :meth:`CqtKernel.power_dbfs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.cqt import C1_HZ, DBFS_FLOOR, CqtKernel, CqtLayout, fft_length
from livespec.dsp.fftw import RealFFT

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]

LIVE_BPO = 24  # bins per octave of the live scale: two per semitone
LIVE_TOP_FRACTION = 0.42  # the top bin stays below this fraction of the sample rate
# Fraction of each kernel's L1 mass dropped (cqt.py's SPARSITY, librosa's, is 0.01: a
# -6 dBFS tone then leaked to -79 dBFS an octave and more away; 0.001 keeps that below
# -109 dBFS, under a direct constant-Q sum's -90, for 17 % more time per frame).
LIVE_SPARSITY = 0.001


def live_layout(samplerate: float, fmin: float = C1_HZ, bpo: int = LIVE_BPO) -> CqtLayout:
    """The live scale's bins: ``bpo`` per octave from ``fmin`` in whole octaves up to
    about 0.42 times the sample rate (C1 .. C10 at 48 kHz: 9 octaves)."""
    octaves = max(1, int(np.floor(np.log2(LIVE_TOP_FRACTION * samplerate / fmin))))
    return CqtLayout(fmin, bpo, octaves * bpo)


@dataclass
class _Octave:
    """One octave's FFT, kernels and schedule."""

    bins: range
    fft: RealFFT
    kernel: CqtKernel
    stride: int  # recomputed every ``stride`` frames
    phase: int  # ... at frames whose index % stride == phase
    power: F64
    done: bool = False  # computed at least once


class CqtCancelled(Exception):
    """A :class:`LiveCqt` build stopped because its ``cancelled()`` returned True."""


class LiveCqt:
    """CQT rows for the live app, one per analysis frame.

    Args:
        layout: the bins (see :func:`live_layout`).
        samplerate: Hz.
        hop: samples between the engine's frames.
        window: the kernels' window.
        backend: FFT backend ("auto", "fftw", "numpy").
        max_fft: the longest FFT allowed (the ring's capacity): octaves whose kernels are
            longer raise ValueError.
        cancelled: asked before each group of octaves is built; True raises
            :class:`CqtCancelled` (a build on its own thread that is no longer wanted).
        sparsity: fraction of each kernel's L1 mass dropped (:data:`LIVE_SPARSITY`).

    Attributes:
        longest: samples of the longest FFT (the most history a row needs).
    """

    def __init__(
        self,
        layout: CqtLayout,
        samplerate: float,
        hop: int,
        window: str = "hann",
        backend: str = "auto",
        max_fft: int = 1 << 17,
        cancelled: Callable[[], bool] | None = None,
        sparsity: float = LIVE_SPARSITY,
    ) -> None:
        self.layout = layout
        lengths = layout.lengths(samplerate)
        bpo = layout.bins_per_octave
        self.octaves: list[_Octave] = []
        # Up to three octaves recomputed at the same rate share one FFT (more would spread
        # the short kernels' spectra over too many bins of the long FFT).
        groups: list[tuple[int, int, int]] = []  # (first bin, stop bin, stride)
        for first in range(0, layout.n_bins, bpo):
            stop = min(first + bpo, layout.n_bins)
            stride = max(1, int(float(lengths[first]) // (4 * max(1, hop))))
            if groups and groups[-1][2] == stride and first - groups[-1][0] < 3 * bpo:
                groups[-1] = (groups[-1][0], stop, stride)
            else:
                groups.append((first, stop, stride))
        for g, (first, stop, stride) in enumerate(groups):
            if cancelled is not None and cancelled():
                raise CqtCancelled
            bins = range(first, stop)
            n = fft_length(float(lengths[first]))
            if n > max_fft:
                raise ValueError(f"a CQT kernel of {n} samples exceeds the {max_fft} available")
            self.octaves.append(
                _Octave(
                    bins,
                    RealFFT(n, backend, planner="FFTW_ESTIMATE"),
                    CqtKernel(layout, samplerate, n, window, bins, sparsity),
                    stride,
                    g % stride,
                    np.empty(len(bins), dtype=np.float64),
                )
            )
        self.longest = max(o.fft.nfft for o in self.octaves)
        self.row: F32 = np.full(layout.n_bins, -200.0, dtype=np.float32)

    def reset(self) -> None:
        """Forget the held values: every group is computed at the next frame."""
        self.row[:] = -200.0
        for o in self.octaves:
            o.done = False

    def compute(self, index: int, newest: Callable[[int, F64], bool]) -> F32:
        """The CQT row (dBFS, float32, a new array) after frame ``index``: the groups due
        at this frame (and any not computed yet) are recomputed, the others keep their last
        values.

        Args:
            index: the engine's frame number.
            newest: ``newest(n, out)`` fills ``out`` (float64, ``n``) with the newest ``n``
                mono samples of the frame and returns True, or False when the stream does
                not reach back that far yet (the octave is left as it is).
        """
        row = self.row
        for o in self.octaves:
            if o.done and index % o.stride != o.phase:
                continue
            if not newest(o.fft.nfft, o.fft.input):
                continue
            o.done = True
            o.fft.execute()
            p = o.kernel.power_dbfs(o.fft.output, o.power)
            np.maximum(p, DBFS_FLOOR, out=p)
            np.log10(p, out=p)
            p *= 10.0
            row[o.bins.start : o.bins.stop] = p
        return row.copy()
