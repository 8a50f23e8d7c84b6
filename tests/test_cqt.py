"""The constant-Q transform (livespec/dsp/cqt.py, ``scale="cqt"``) against librosa.cqt, and
the live app's octave-wise CQT against the same reference.

librosa.cqt(scale=False) with its default L1-normalised hann kernels gives ``A/2 * L_k`` for a
sine of amplitude ``A`` at bin ``k`` (``L_k`` the kernel's length); ``2*|C|/L_k`` is then the
amplitude, and ``20*log10`` of it dBFS: the reference both are compared on.
"""

from __future__ import annotations

import numpy as np
import pytest

librosa = pytest.importorskip("librosa")

import livespec  # noqa: E402
from livespec.dsp.cqt import C1_HZ, CqtLayout, cqt_q  # noqa: E402
from livespec.dsp.cqt_live import LiveCqt, live_layout  # noqa: E402

FS = 22050
OCTAVES = 8  # C1 (32.7 Hz) .. B8 (7.9 kHz)


def width_bins(db: np.ndarray) -> float:
    """-6 dB width of the peak of a dB row, in bins (linear interpolation of the crossings;
    at the first or last bin the crossing on the other side is mirrored)."""
    k = int(np.argmax(db))
    thr = db[k] - 6.0

    def crossing(step: int) -> float | None:
        i = k
        while 0 <= i + step < db.shape[0] and db[i + step] > thr:
            i += step
        j = i + step
        if not 0 <= j < db.shape[0]:
            return None
        return i + (db[i] - thr) / (db[i] - db[j]) * step

    lo, hi = crossing(-1), crossing(1)
    if lo is None and hi is not None:
        lo = 2 * k - hi
    if hi is None and lo is not None:
        hi = 2 * k - lo
    assert lo is not None and hi is not None
    return float(hi - lo)


def librosa_dbfs(x: np.ndarray, bpo: int, n_bins: int) -> np.ndarray:
    """librosa.cqt as dBFS, (frames, bins)."""
    c = librosa.cqt(
        x, sr=FS, hop_length=512, fmin=C1_HZ, n_bins=n_bins, bins_per_octave=bpo, scale=False
    )
    lengths = cqt_q(bpo) * FS / librosa.cqt_frequencies(n_bins, fmin=C1_HZ, bins_per_octave=bpo)
    return (20.0 * np.log10(np.maximum(2.0 * np.abs(c) / lengths[:, None], 1e-12))).T


@pytest.mark.parametrize("bpo", [12, 36])
def test_cqt_matches_librosa_on_tones_over_eight_octaves(bpo: int) -> None:
    n_bins = OCTAVES * bpo
    t = np.arange(3 * FS) / FS
    checked = 0
    for k in range(0, n_bins, bpo // 2):  # two tones per octave, on bin centres
        f = C1_HZ * 2.0 ** (k / bpo)
        x = np.sin(2 * np.pi * f * t)
        s = livespec.spectrogram(x, FS, scale="cqt", bins_per_octave=bpo, octaves=OCTAVES)
        assert s.db.shape[1] == n_bins
        np.testing.assert_allclose(s.freqs, librosa.cqt_frequencies(n_bins, fmin=C1_HZ,
                                   bins_per_octave=bpo), rtol=1e-12)  # fmt: skip
        ref = librosa_dbfs(x, bpo, n_bins)
        mid = s.db.shape[0] // 2
        ours, theirs = s.db[mid].astype(np.float64), ref[ref.shape[0] // 2]
        assert int(np.argmax(ours)) == k, f"{f:.1f} Hz peaks in bin {np.argmax(ours)}"
        assert int(np.argmax(theirs)) == k
        assert abs(ours[k]) < 0.05  # a full-scale sine reads 0 dBFS in its bin
        assert abs(ours[k] - theirs[k]) < 1.0
        w_ours, w_theirs = width_bins(ours), width_bins(theirs)
        assert abs(w_ours / w_theirs - 1.0) < 0.10, (f, w_ours, w_theirs)
        checked += 1
    assert checked == 2 * OCTAVES


def test_cqt_levels_follow_the_amplitude_and_frames_match_librosa_times() -> None:
    t = np.arange(2 * FS) / FS
    x = 0.1 * np.sin(2 * np.pi * 440.0 * t)
    s = livespec.spectrogram(x, FS, scale="cqt", hop=256)
    k = int(np.argmin(np.abs(s.freqs - 440.0)))
    mid = s.db.shape[0] // 2
    assert s.db[mid, k] == pytest.approx(-20.0, abs=0.05)
    assert s.db.shape[0] == 1 + x.shape[0] // 256
    np.testing.assert_allclose(s.times, np.arange(s.db.shape[0]) * 256 / FS)


def test_live_cqt_matches_the_reference_levels_octave_by_octave() -> None:
    fs = 48000
    layout = live_layout(fs)
    assert layout.fmin == C1_HZ and layout.bins_per_octave == 24
    live = LiveCqt(layout, fs, hop=1024, backend="numpy")
    freqs = layout.freqs()
    for k in (6, 30, 60, 100, 130, 170, 200):
        n = live.longest
        x = np.sin(2 * np.pi * freqs[k] * np.arange(n) / fs)

        def newest(m: int, out: np.ndarray, x: np.ndarray = x) -> bool:
            out[:] = x[-m:]
            return True

        live.reset()  # a fresh start: every group computed
        row = live.compute(0, newest)
        assert int(np.argmax(row)) == k
        assert row[k] == pytest.approx(0.0, abs=0.05)


def test_live_octaves_are_recomputed_at_a_quarter_of_their_kernel() -> None:
    fs = 48000
    layout = CqtLayout(C1_HZ, 24, 216)
    live = LiveCqt(layout, fs, hop=1024, backend="numpy")
    lengths = layout.lengths(fs)
    for o in live.octaves:
        assert o.stride == max(1, int(lengths[o.bins.start] // 4096))
        assert o.fft.nfft >= lengths[o.bins.start]
    # C1 at 48 kHz: a 50 k-sample kernel, every 12 frames; C2 every 6, C3 every 3; the
    # octaves from C4 up, every frame, share one FFT per three octaves.
    assert [o.stride for o in live.octaves] == [12, 6, 3, 1, 1]
    assert [o.bins for o in live.octaves] == [range(0, 24), range(24, 48), range(48, 72),
                                              range(72, 144), range(144, 216)]  # fmt: skip
