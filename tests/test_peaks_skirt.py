"""The DC lobe's skirt rule (peaks_edge.py) tested lazily: with one peak a frame,
``PeakFinder.find`` tests the strongest candidates under the DC lobe's level first and stops
at the first that is no skirt. The peak must be the one the exhaustive rule gives: every
candidate tested, the survivors' strongest (first of equals) refined. The sweep covers DC
offsets x tone levels x tone frequencies (in and beside the DC lobe) x noise x windows."""

from __future__ import annotations

import numpy as np
import pytest

from livespec.dsp.peaks import Peak, PeakFinder
from livespec.dsp.stft import Spectrum
from livespec.dsp.windows import WINDOW_NAMES

FS = 48000.0


def exhaustive(finder: PeakFinder, X: np.ndarray, db: np.ndarray) -> list[Peak]:
    """The strongest local maximum above the DC lobe or above its skirt, every candidate
    tested at once (the rule as it was: ``_above_skirt`` over all of them, then argmax)."""
    lo, hi, last = finder._kmin, finder._kmax, finder._bins - 1
    seg = db[lo - 1 : min(hi, last - 1) + 2]
    mid = seg[1:-1]
    cand = np.flatnonzero((mid > seg[:-2]) & (mid >= seg[2:]))
    if hi == last and db[last] > db[last - 1]:
        cand = np.append(cand, last - lo)
    if cand.size == 0:
        return []
    levels = db[lo + cand]
    dc = max(db[: finder._dc_lobe].tolist())
    low = levels <= dc
    keep = ~low
    keep[low] = finder._above_skirt(X, db, lo + cand[low])
    if not keep.any():
        return []
    k = lo + int(cand[keep][int(np.argmax(levels[keep]))])
    return [finder._peak(X, db, k)]


@pytest.mark.parametrize("n,zp", [(1024, 1), (2048, 2), (256, 4)])
@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_the_lazy_skirt_test_picks_the_peak_the_exhaustive_one_picks(
    name: str, n: int, zp: int
) -> None:
    spec = Spectrum(n, name, zero_pad=zp, backend="numpy", wisdom=False)
    finder = PeakFinder(spec, FS)
    rng = np.random.default_rng(n + zp)
    t = np.arange(n)
    skirts = found = 0
    for dc in (0.0, 1e-3, 0.1, 0.5, -0.9):
        for tone_db in (None, -160.0, -120.0, -100.0, -80.0, -40.0, -6.0):
            for cycles in (0.6, 2.3, 4.7, 9.2, 27.9, 100.37):
                for noise in (0.0, 1e-7, 1e-4):
                    if tone_db is None and cycles != 0.6:
                        continue
                    x = dc + noise * rng.standard_normal(n)
                    if tone_db is not None:
                        phase = rng.uniform(0, 2 * np.pi)
                        x = x + 10 ** (tone_db / 20) * np.cos(2 * np.pi * cycles * t / n + phase)
                    X = spec.compute(x.astype(np.float32)[:, None]).copy()
                    db = spec.db().copy()
                    got, want = finder.find(X, db), exhaustive(finder, X, db)
                    assert got == want, (dc, tone_db, cycles, noise)
                    lo = finder._kmin
                    dc_db = max(db[: finder._dc_lobe].tolist())
                    skirts += bool(db[lo:].max() <= dc_db)
                    found += bool(got)
    assert skirts > 100 and found > 100  # the sweep does reach the skirt rule, both ways
