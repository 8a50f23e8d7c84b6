"""Which harmonics stand above the noise: the per-harmonic detection of docs/measure.md.

A harmonic region (the bins ``round(h*f0) +- 8`` of :meth:`Measurer.measure`) holds a
harmonic only if its strongest bin stands above the noise expected there by more than
noise alone reaches with probability ``pfa`` *over all the regions searched* (family-wise:
``M`` is the sum of their bins), with the statistics of the fundamental's rule
(:mod:`livespec.dsp.detect`): an F(2K, 2KL) ratio, ``K`` the equivalent independent
frames, ``L`` the floor fit's equivalent independent bins. Any thread; pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.detect import floor_fits, ratio_threshold


@dataclass(frozen=True, slots=True)
class HarmonicSplit:
    """The harmonics of one measurement.

    Attributes:
        powers: per region, its power minus the noise under it (times the ENBW: sum of
            bins), or None when it is not detected (or not above the noise under it).
        detected: band-long mask of the detected regions' bins outside the fundamental.
        undetected: band-long mask of the other harmonic bins (noise for SNR).
    """

    powers: tuple[float | None, ...]
    detected: NDArray[np.bool_]
    undetected: NDArray[np.bool_]


def split_harmonics(
    Qb: NDArray[np.float64],
    est_q: NDArray[np.float64],
    is_noise: NDArray[np.bool_],
    is_fund: NDArray[np.bool_],
    regions: list[tuple[int, int, int]],
    k_lo: int,
    reach: int,
    frames: float,
    corr: float,
    pfa: float,
) -> HarmonicSplit:
    """Test each harmonic region of the band row ``Qb`` (weighted power, band bins from
    ``k_lo``; regions ``(order, a, b)`` in absolute bins) against the noise bins within
    ``reach`` bins of it (the whole band's noise bins when fewer than ``reach`` are there),
    ``est_q`` the noise per bin estimated under each lobe. Caller's thread; the regions'
    floor fits are done at once (:func:`~livespec.dsp.detect.floor_fits`)."""
    nb = len(Qb)
    detected = np.zeros(nb, dtype=bool)
    undetected = np.zeros(nb, dtype=bool)
    if not regions:
        return HarmonicSplit((), detected, undetected)
    ab = np.array([(a, b) for _, a, b in regions], dtype=np.intp) - k_lo
    start, stop = ab[:, 0], ab[:, 1] + 1  # band bins [start, stop) of each region
    width = int(np.max(stop - start))
    idx = start[:, None] + np.arange(width)
    inside = idx < stop[:, None]
    idx = np.minimum(idx, nb - 1)
    own = inside & ~is_fund[idx]
    q = Qb[idx]
    peak = idx[np.arange(len(regions)), np.argmax(np.where(own, q, -1.0), axis=1)]
    power = np.sum(np.where(inside, q - est_q[idx], 0.0), axis=1)
    floor, floor_bins = floor_fits(Qb, is_noise, start, stop, peak, k_lo, reach, frames, corr)
    searched = int(np.sum(stop - start))
    t = np.array([ratio_threshold(frames, float(b), searched, pfa) for b in floor_bins])
    # (a region wholly inside the fundamental's lobe is counted as the fundamental)
    hit = own.any(axis=1) & (Qb[peak] > floor * t) & (power > 0.0)
    detected[idx[hit][own[hit]]] = True
    undetected[idx[~hit][own[~hit]]] = True
    powers = tuple(float(p) if h else None for p, h in zip(power, hit, strict=True))
    undetected &= ~detected  # overlapping regions (fundamentals below ~25 Hz)
    return HarmonicSplit(powers, detected, undetected)
