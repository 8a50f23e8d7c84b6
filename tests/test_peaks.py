"""Peaks: sub-bin accuracy on noisy tones, picking, the frequency band, note names."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from numpy.testing import assert_allclose

from livespec.dsp.peaks import Peak, PeakFinder, note_name
from livespec.dsp.stft import Spectrum
from livespec.dsp.windows import WINDOW_NAMES

FS = 48000.0
OFFSETS_FINE = np.arange(20) * 0.05  # 0, 0.05, ..., 0.95 bin
OFFSETS = np.arange(10) * 0.1


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep FFTW wisdom written by these tests out of the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


def sweep_errors(
    name: str,
    n: int,
    zero_pad: int,
    bases: Sequence[int],
    offsets: Sequence[float] | np.ndarray,
    levels: Sequence[float],
    snr_db: float = 60.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute frequency (bins of n) and level (dB) errors of the strongest peak.

    One frame per (base bin + offset, level): a cosine with a random phase plus white noise
    ``snr_db`` below the tone's power.
    """
    rng = np.random.default_rng(seed)
    spec = Spectrum(n, name, zero_pad=zero_pad, wisdom=False)
    finder = PeakFinder(spec, FS)
    m = np.arange(n)
    f_err: list[float] = []
    l_err: list[float] = []
    for base in bases:
        for off in offsets:
            for level in levels:
                cycles = base + off
                amp = 10 ** (level / 20)
                sigma = amp / np.sqrt(2) * 10 ** (-snr_db / 20)
                x = amp * np.cos(2 * np.pi * cycles * m / n + rng.uniform(0, 2 * np.pi))
                x += sigma * rng.standard_normal(n)
                X = spec.compute(x.astype(np.float32))
                peaks = finder.find(X, spec.db())
                assert len(peaks) == 1
                p = peaks[0]
                f_err.append(abs(p.bin / zero_pad - cycles))
                l_err.append(abs(p.level_dbfs - level))
                assert_allclose(p.freq_hz, p.bin * FS / spec.nfft)
    return np.array(f_err), np.array(l_err)


# -- the acceptance target ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hann", "blackman-harris", "flattop"])
def test_isolated_tone_accuracy_n4096(name: str) -> None:
    """SNR 60 dB, any fractional position, 3 levels: <= 0.01 bin and <= 0.1 dB."""
    f_err, l_err = sweep_errors(
        name, 4096, 1, bases=(20, 1024, 2000), offsets=OFFSETS_FINE, levels=(0.0, -20.0, -50.0)
    )
    assert f_err.size == 180
    assert f_err.max() <= 0.01
    assert l_err.max() <= 0.1


@pytest.mark.parametrize("name", ["rect", "hamming", "blackman", "kaiser"])
def test_isolated_tone_accuracy_other_windows_n4096(name: str) -> None:
    # rect needs no loosening: the fit models its sidelobes and the image exactly.
    f_err, l_err = sweep_errors(
        name, 4096, 1, bases=(20, 1024, 2000), offsets=OFFSETS_FINE, levels=(0.0, -50.0)
    )
    assert f_err.max() <= 0.01
    assert l_err.max() <= 0.1


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize(
    ("n", "zero_pad", "bases"),
    [
        (256, 1, (20, 64, 100)),
        (1000, 2, (20, 250, 450)),
        (4096, 2, (20, 1024, 2000)),
        (16384, 1, (20, 4096, 8000)),
    ],
)
def test_isolated_tone_accuracy_sizes_and_zero_padding(
    name: str, n: int, zero_pad: int, bases: tuple[int, ...]
) -> None:
    f_err, l_err = sweep_errors(
        name, n, zero_pad, bases=bases, offsets=OFFSETS, levels=(0.0, -50.0), seed=n
    )
    assert f_err.max() <= 0.01
    assert l_err.max() <= 0.1


@pytest.mark.parametrize("name", ["rect", "hann", "blackman-harris", "flattop", "kaiser"])
def test_noise_free_tone_is_fitted_almost_exactly(name: str) -> None:
    # The model is exact; what is left is float32 rounding and the polynomial search
    # (rect: about 1e-4 bin, its main lobe is the narrowest).
    f_err, l_err = sweep_errors(
        name, 4096, 1, bases=(20, 1024), offsets=OFFSETS, levels=(0.0,), snr_db=200.0
    )
    assert f_err.max() <= (3e-4 if name == "rect" else 2e-6)
    assert l_err.max() <= 1e-3


def test_log_parabolic_would_not_do() -> None:
    """The reason for the fit: three-bin log-parabolic interpolation errs far more (hann)."""
    n = 4096
    spec = Spectrum(n, "hann", wisdom=False)
    m = np.arange(n)
    worst = 0.0
    for off in OFFSETS_FINE:
        spec.compute(np.cos(2 * np.pi * (1000 + off) * m / n).astype(np.float32))
        db = spec.db().astype(np.float64)
        k = int(np.argmax(db))
        a, b, c = db[k - 1 : k + 2]
        p = 0.5 * (a - c) / (a - 2 * b + c)
        worst = max(worst, abs(k + p - 1000 - off))
    assert 0.01 < worst < 0.02  # NOTES.md: up to 0.016 bin


# -- picking --------------------------------------------------------------------------------


def frame(
    n: int, tones: Sequence[tuple[float, float]], noise_db: float = -140.0, seed: int = 1
) -> np.ndarray:
    """Sum of (cycles per frame, dBFS) cosines plus white noise, float32."""
    rng = np.random.default_rng(seed)
    m = np.arange(n)
    x = np.zeros(n)
    for cycles, level in tones:
        x += 10 ** (level / 20) * np.cos(2 * np.pi * cycles * m / n + rng.uniform(0, 6.3))
    x += 10 ** (noise_db / 20) * rng.standard_normal(n)
    return x.astype(np.float32)


@pytest.mark.parametrize("name", ["hann", "blackman-harris", "flattop", "kaiser"])
def test_two_tones_50_bins_apart_give_two_peaks_strongest_first(name: str) -> None:
    n = 4096
    spec = Spectrum(n, name, wisdom=False)
    finder = PeakFinder(spec, FS, max_peaks=2)
    for tones in ([(300.3, -20.0), (350.7, -6.0)], [(300.3, -6.0), (350.7, -20.0)]):
        X = spec.compute(frame(n, tones))
        peaks = finder.find(X, spec.db())
        assert len(peaks) == 2
        expect = sorted(tones, key=lambda t: -t[1])
        for p, (cycles, level) in zip(peaks, expect, strict=True):
            assert abs(p.bin - cycles) <= 0.01
            assert abs(p.level_dbfs - level) <= 0.1
            assert_allclose(p.freq_hz, p.bin * FS / n)  # Hz and bins agree
        assert peaks[0].level_dbfs > peaks[1].level_dbfs


def test_more_peaks_than_asked_for_keeps_the_strongest() -> None:
    n = 2048
    spec = Spectrum(n, "hann", wisdom=False)
    tones = [(100.2, -30.0), (200.4, -10.0), (300.6, -20.0), (400.8, -3.0)]
    X = spec.compute(frame(n, tones))
    db = spec.db()
    three = PeakFinder(spec, FS, max_peaks=3).find(X, db)
    assert_allclose([p.bin for p in three], [400.8, 200.4, 300.6], atol=0.01)
    one = PeakFinder(spec, FS).find(X, db)
    assert len(one) == 1
    assert_allclose(one[0].bin, 400.8, atol=0.01)
    assert PeakFinder(spec, FS, max_peaks=0).find(X, db) == []


def test_main_lobe_neighbours_are_not_separate_peaks() -> None:
    # flattop's main lobe is +-5 bins wide: a loud tone gives one peak, and the next one
    # reported is the weaker tone 40 bins away, not a bump on the loud one's lobe.
    n = 4096
    spec = Spectrum(n, "flattop", wisdom=False)
    X = spec.compute(frame(n, [(500.5, 0.0), (540.0, -40.0)], noise_db=-150.0))
    peaks = PeakFinder(spec, FS, max_peaks=2).find(X, spec.db())
    assert_allclose([p.bin for p in peaks], [500.5, 540.0], atol=0.01)
    assert abs(peaks[0].bin - peaks[1].bin) > PeakFinder(spec, FS).separation_bins


def test_dc_and_its_main_lobe_are_never_peaks() -> None:
    n = 4096
    spec = Spectrum(n, "blackman-harris", wisdom=False)
    x = frame(n, [(3.0, -6.0), (700.25, -40.0)]) + np.float32(0.5)  # DC and a tone in its lobe
    X = spec.compute(x)
    peaks = PeakFinder(spec, FS, max_peaks=1).find(X, spec.db())
    assert_allclose(peaks[0].bin, 700.25, atol=0.01)


def test_fmin_fmax_limit_the_search() -> None:
    n = 4096
    spec = Spectrum(n, "hann", wisdom=False)
    hz = FS / n
    tones = [(1000 / hz, -10.0), (3000 / hz, -3.0), (5000 / hz, -20.0)]
    X = spec.compute(frame(n, tones))
    db = spec.db()

    def one(**kw: float) -> list[Peak]:
        return PeakFinder(spec, FS, **kw).find(X, db)  # type: ignore[arg-type]

    assert_allclose(one()[0].freq_hz, 3000.0, atol=0.01 * hz)
    assert_allclose(one(fmin=2000.0, fmax=4000.0)[0].freq_hz, 3000.0, atol=0.01 * hz)
    assert_allclose(one(fmin=4000.0)[0].freq_hz, 5000.0, atol=0.01 * hz)
    assert_allclose(one(fmax=2000.0)[0].freq_hz, 1000.0, atol=0.01 * hz)
    assert one(fmin=30000.0) == []
    both = PeakFinder(spec, FS, max_peaks=5, fmin=500.0, fmax=3500.0).find(X, db)
    assert_allclose([p.freq_hz for p in both[:2]], [3000.0, 1000.0], atol=0.01 * hz)
    assert all(500.0 <= p.freq_hz <= 3500.0 for p in both)


def test_silence_has_no_peaks_and_noise_does_not_crash() -> None:
    n = 1024
    spec = Spectrum(n, "hann", wisdom=False)
    finder = PeakFinder(spec, FS, max_peaks=3)
    X = spec.compute(np.zeros(n, dtype=np.float32))
    assert finder.find(X, spec.db()) == []
    X = spec.compute(frame(n, [], noise_db=-60.0))
    peaks = finder.find(X, spec.db())
    assert len(peaks) == 3
    assert all(np.isfinite(p.freq_hz) and np.isfinite(p.level_dbfs) for p in peaks)
    assert peaks[0].level_dbfs >= peaks[1].level_dbfs >= peaks[2].level_dbfs


def test_picking_equals_a_brute_force_greedy_search() -> None:
    n = 1024
    spec = Spectrum(n, "blackman-harris", wisdom=False)
    X = spec.compute(frame(n, [(100.5, -20.0), (104.0, -50.0)], noise_db=-70.0, seed=5))
    db = spec.db()
    for max_peaks in (1, 2, 5, 12):
        finder = PeakFinder(spec, FS, max_peaks=max_peaks)
        got = sorted(p.bin for p in finder.find(X, db))
        # Reference: every local maximum in range, strongest first, greedy separation.
        k = np.arange(4, spec.bins - 1)
        is_max = (db[k] > db[k - 1]) & (db[k] >= db[k + 1])
        ref: list[int] = []
        for c in sorted(k[is_max].tolist(), key=lambda c: -db[c]):
            if all(abs(c - r) > finder.separation_bins for r in ref):
                ref.append(c)
            if len(ref) == max_peaks:
                break
        # Refinement moves a peak by less than a bin (noise peaks by up to about one).
        assert len(got) == len(ref)
        assert np.all(np.abs(np.array(got) - sorted(ref)) <= 1.0)


def test_non_finite_input_does_not_raise() -> None:
    n = 512
    spec = Spectrum(n, "hann", wisdom=False)
    x = frame(n, [(50.2, -6.0)])
    x[100] = np.nan
    X = spec.compute(x)
    peaks = PeakFinder(spec, FS, max_peaks=2).find(X, spec.db())
    assert len(peaks) <= 2


def test_band_edge_is_fitted_not_log_parabolic() -> None:
    # 2 bins below Nyquist there is no room for +-3 bins: the fit runs on the spectrum
    # mirrored about Nyquist (it fell back to the log-parabolic estimate, 0.02 bin off).
    n = 1024
    spec = Spectrum(n, "hann", wisdom=False)
    finder = PeakFinder(spec, FS)
    X = spec.compute(frame(n, [(510.3, -6.0)]))
    db = spec.db()
    f, level = finder.refine(X, db, int(np.argmax(db)))
    assert abs(f - 510.3) < 1e-4
    assert abs(level + 6.0) < 1e-3


def test_bad_arguments() -> None:
    spec = Spectrum(256, "hann", wisdom=False)
    for kwargs in ({"max_peaks": -1}, {"a4": 0.0}, {"fmin": -1.0}, {"fmin": 5.0, "fmax": 4.0}):
        with pytest.raises(ValueError):
            PeakFinder(spec, FS, **kwargs)
    with pytest.raises(ValueError):
        PeakFinder(spec, 0.0)


# -- notes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("freq", "note", "cents"),
    [
        (440.0, "A4", 0.0),
        (261.6256, "C4", 0.0),
        (261.63, "C4", 0.0293),
        (466.1638, "A#4", 0.0),
        (493.8833, "B4", 0.0),
        (523.2511, "C5", 0.0),
        (27.5, "A0", 0.0),
        (16.3516, "C0", 0.0),
        (4186.009, "C8", 0.0),
        (440.0 * 2 ** (30 / 1200), "A4", 30.0),
        (440.0 * 2 ** (-49 / 1200), "A4", -49.0),
        (440.0 * 2 ** (51 / 1200), "A#4", -49.0),
    ],
)
def test_note_name(freq: float, note: str, cents: float) -> None:
    name, c = note_name(freq)
    assert name == note
    assert_allclose(c, cents, atol=2e-3)


def test_note_name_with_another_a4() -> None:
    assert note_name(432.0, a4=432.0) == ("A4", 0.0)
    name, cents = note_name(440.0, a4=432.0)
    assert name == "A4"
    assert_allclose(cents, 1200 * np.log2(440 / 432), atol=1e-9)  # +31.77 cents
    name, cents = note_name(261.63, a4=432.0)
    assert name == "C4"
    assert_allclose(cents, 1200 * np.log2(261.63 / (432 * 2 ** (-9 / 12))), atol=1e-9)


@pytest.mark.parametrize("freq", [0.0, -440.0, float("nan"), float("inf")])
def test_note_name_of_no_frequency(freq: float) -> None:
    assert note_name(freq) == ("", 0.0)


def test_cents_stay_within_half_a_semitone() -> None:
    freqs = np.geomspace(20.0, 20000.0, 2001)
    cents = np.array([note_name(float(f))[1] for f in freqs])
    assert np.all(np.abs(cents) <= 50.0 + 1e-9)


def test_peak_label_and_immutability() -> None:
    p = Peak(freq_hz=441.0, level_dbfs=-3.0, bin=37.6, note="A4", cents=3.4)
    assert p.label == "A4 +3c"
    assert Peak(440.0, 0.0, 1.0, "A4", -12.6).label == "A4 -13c"
    assert Peak(440.0, 0.0, 1.0, "A4", -0.4).label == "A4 +0c"
    assert Peak(0.0, 0.0, 0.0, "", 0.0).label == ""
    with pytest.raises(FrozenInstanceError):
        p.freq_hz = 1.0  # type: ignore[misc]
    assert not hasattr(p, "__dict__")  # slots


def test_found_peaks_carry_their_note() -> None:
    n = 8192
    spec = Spectrum(n, "blackman-harris", wisdom=False)
    cycles = 440.0 * 2 ** (7 / 1200) * n / FS  # A4 +7 cents
    X = spec.compute(frame(n, [(cycles, -12.0)]))
    (p,) = PeakFinder(spec, FS).find(X, spec.db())
    assert (p.note, p.label) == ("A4", "A4 +7c")
    assert_allclose(p.cents, 7.0, atol=0.05)
    (p,) = PeakFinder(spec, FS, a4=442.0).find(X, spec.db())
    assert p.note == "A4"
    assert_allclose(p.cents, 7.0 - 1200 * np.log2(442 / 440), atol=0.05)
