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
scipy_signal = pytest.importorskip("scipy.signal")

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


def direct_cqt_dbfs(live: LiveCqt, x: np.ndarray, fs: float) -> np.ndarray:
    """An independent constant-Q sum: each bin's kernel (a periodic hann of ``Q * fs / f``
    samples, librosa's rounding, times ``exp(2j*pi*f*t)``, over its L1 norm) times the
    newest samples of ``x`` where the live CQT centres it, summed directly (no FFT, no
    dropped kernel values); dBFS (``4 * |C|**2``)."""
    layout = live.layout
    q = cqt_q(layout.bins_per_octave)
    out = np.empty(layout.n_bins)
    for o in live.octaves:
        n = o.fft.nfft
        seg = x[x.shape[0] - n :]
        for k in o.bins:
            f = layout.fmin * 2.0 ** (k / layout.bins_per_octave)
            length = q * fs / f
            t = np.arange(-(length // 2), length // 2)
            kern = scipy_signal.get_window("hann", t.shape[0]) * np.exp(2j * np.pi * f * t / fs)
            kern /= np.abs(kern).sum()
            first = n // 2 - t.shape[0] // 2
            c = np.sum(seg[first : first + t.shape[0]] * np.conj(kern))
            out[k] = 10.0 * np.log10(max(4.0 * abs(c) ** 2, 1e-20))
    return out


def test_live_cqt_of_a_tone_leaks_no_more_than_a_direct_constant_q_sum() -> None:
    """Kernels cut to 99 % of their L1 mass (librosa's sparsity 0.01) leaked a -6 dBFS tone
    to -79 dBFS an octave and more away (the cut kernels meet the rectangular frame's
    leakage of the tone unbalanced); a direct sum shows -90 at worst there."""
    fs = 48000.0
    layout = live_layout(fs)
    live = LiveCqt(layout, fs, hop=1024, backend="numpy")
    rng = np.random.default_rng(7)
    idx = np.arange(layout.n_bins)
    worst = []
    for k0 in range(5, layout.n_bins, 19):
        f0 = float(layout.freqs()[k0]) * 2.0 ** (rng.uniform(-0.25, 0.25) / 24)
        x = 0.5 * np.sin(2 * np.pi * f0 * np.arange(live.longest) / fs + rng.uniform(0, 6.3))

        def newest(m: int, out: np.ndarray, x: np.ndarray = x) -> bool:
            out[:] = x[-m:]
            return True

        live.reset()
        row = live.compute(0, newest).astype(np.float64)
        ref = direct_cqt_dbfs(live, x, fs)
        assert row[k0] == pytest.approx(ref[k0], abs=0.1)  # the tone's own bin: -6 dBFS
        assert ref[k0] == pytest.approx(-6.02, abs=0.5)  # (up to a quarter bin off centre)
        far = np.abs(idx - k0) >= 24  # an octave and more away
        # Not above the direct sum, or above -120 dBFS (the app's default floor) if lower.
        assert row[far].max() <= max(ref[far].max(), -120.0) + 1.0, (k0, row[far].max())
        worst.append(row[far].max())
    assert len(worst) == 12 and max(worst) < -100.0
