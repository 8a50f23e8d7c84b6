"""livespec export's numbers: NPY against scipy.signal.spectrogram, Spectrum.db, librosa and
torchaudio's documented formulas; streaming framing against direct numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf
from support.cli import export

from livespec.dsp.stft import Spectrum
from livespec.dsp.windows import scipy_window_spec
from livespec.export.dsp import BatchAnalyzer, Recipe, mel_filterbank, tukey_window
from livespec.export.frames import ShortRead, analyse_segment

FS = 48000
DB2 = 10 * np.log10(2.0)  # 3.0103 dB


def signal(seconds: float = 1.0, channels: int = 1, seed: int = 1) -> np.ndarray:
    """Tones from -3 to -100 dBFS over white noise at about -130 dBFS per bin, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    cols = []
    for c in range(channels):
        x = (
            0.7 * np.sin(2 * np.pi * (1234.5 + 100 * c) * t)
            + 1e-3 * np.sin(2 * np.pi * 5000 * t + c)
            + 1e-5 * np.sin(2 * np.pi * 9000 * t)
            + 3e-6 * rng.standard_normal(t.size)
            + 0.01  # a DC offset, for the detrending of --like scipy
        )
        cols.append(x)
    out = np.stack(cols, axis=1) if channels > 1 else cols[0]
    return out.astype(np.float32)


def write(tmp: Path, x: np.ndarray, name: str = "sig.wav") -> tuple[Path, np.ndarray]:
    """A float WAV and the float64 samples read back (the reference input)."""
    p = tmp / name
    sf.write(p, x, FS, subtype="FLOAT")
    return p, sf.read(p)[0]


def scipy_dbfs(x: np.ndarray, window: str, n: int, hop: int, nfft: int) -> np.ndarray:
    """livespec's dBFS from scipy: 10*log10(spectrum scaling) + 3.0103 but at DC/Nyquist."""
    w = ss.get_window(scipy_window_spec(window), n)
    _, _, s = ss.spectrogram(
        x, FS, window=w, nperseg=n, noverlap=n - hop, nfft=nfft, detrend=False,
        scaling="spectrum", mode="psd",
    )  # fmt: skip
    db = 10 * np.log10(np.maximum(s.T, 1e-30))
    db[:, 1 : (-1 if nfft % 2 == 0 else None)] += DB2
    return db


def assert_levels(got: np.ndarray, ref: np.ndarray, top: float = 0.0) -> None:
    """The issue's tolerances: 0.01 dB above top-90 dB, 0.2 dB above top-120 dB."""
    assert got.shape == ref.shape
    d = np.abs(got.astype(np.float64) - ref)
    hi = ref > top - 90
    mid = ref > top - 120
    assert hi.sum() > 0 and mid.sum() > hi.sum()
    assert d[hi].max() <= 0.01
    assert d[mid].max() <= 0.2


@pytest.mark.parametrize(
    ("window", "n", "hop", "zero_pad"),
    [
        ("hann", 2048, 512, 1),
        ("blackman-harris", 1024, 1024, 1),
        ("kaiser", 4096, 1000, 1),
        ("rect", 256, 100, 1),
        ("flattop", 512, 128, 2),
        ("hamming", 999, 250, 1),
    ],
)
def test_npy_matches_scipy_spectrogram(tmp_path, window, n, hop, zero_pad):
    src, x = write(tmp_path, signal())
    out = tmp_path / "o.npy"
    argv = [str(src), "--npy", str(out), "--fft", str(n), "--hop", str(hop), "-w", window]
    assert export([*argv, "--zero-pad", str(zero_pad)]) == 0
    got = np.load(out)
    assert got.dtype == np.float32
    ref = scipy_dbfs(x, window, n, hop, n * zero_pad)
    assert got.shape == (1 + (x.size - n) // hop, n * zero_pad // 2 + 1)
    assert_levels(got, ref)
    # The loud tone reads its level: 0.7 amplitude = -3.1 dBFS (within the scalloping loss).
    assert -3.1 - 4.0 < got.max() <= -3.09 + 0.02


def test_npy_mono_mix_and_channel(tmp_path):
    src, x = write(tmp_path, signal(channels=2))
    out = tmp_path / "mix.npy"
    assert export([str(src), "--npy", str(out), "--fft", "1024", "--hop", "256"]) == 0
    assert_levels(np.load(out), scipy_dbfs(x.mean(axis=1), "hann", 1024, 256, 1024))
    out2 = tmp_path / "ch2.npy"
    argv = [str(src), "--npy", str(out2), "--fft", "1024", "--hop", "256", "--channel", "2"]
    assert export(argv) == 0
    assert_levels(np.load(out2), scipy_dbfs(x[:, 1], "hann", 1024, 256, 1024))


def test_npy_agrees_with_spectrum_db(tmp_path):
    """The same calibration as the live analyzer (Spectrum is float32: compare above -90)."""
    sig = signal(0.5)
    src, _ = write(tmp_path, sig)
    out = tmp_path / "o.npy"
    argv = [str(src), "--npy", str(out), "--fft", "2048", "--hop", "700", "-w", "blackman"]
    assert export(argv) == 0
    got = np.load(out)
    spec = Spectrum(2048, "blackman", wisdom=False)
    for k in range(got.shape[0]):
        spec.compute(sig[k * 700 : k * 700 + 2048])
        row = spec.db()
        mask = row > -90
        np.testing.assert_allclose(got[k][mask], row[mask], atol=0.01)
        assert abs(float(got[k].max()) - float(row.max())) < 1e-3


def test_tukey_window_matches_scipy():
    for n in (1, 2, 7, 256, 257, 1000):
        for alpha in (0.0, 0.25, 0.5, 1.0):
            np.testing.assert_allclose(
                tukey_window(n, alpha), ss.get_window(("tukey", alpha), n), atol=1e-15
            )


def test_like_scipy_matches_spectrogram_defaults(tmp_path):
    src, x = write(tmp_path, signal())
    out = tmp_path / "o.npy"
    assert export([str(src), "--npy", str(out), "--like", "scipy"]) == 0
    f, t, sxx = ss.spectrogram(x, FS)  # tukey(.25), 256, overlap 32, detrend, density
    ref = 10 * np.log10(sxx.T)
    got = np.load(out)
    assert got.shape == (t.size, f.size) == (1 + (x.size - 256) // 224, 129)
    assert_levels(got, ref, top=float(ref.max()))


def test_like_librosa_matches_librosa(tmp_path):
    import librosa  # a test dependency (pyproject [test])

    src, y = write(tmp_path, signal())
    out = tmp_path / "o.npy"
    assert export([str(src), "--npy", str(out), "--like", "librosa"]) == 0
    ref = librosa.amplitude_to_db(np.abs(librosa.stft(y)), ref=1.0).T  # top_db 80
    got = np.load(out)
    assert got.shape == ref.shape == (1 + y.size // 512, 1025)
    assert float(got.min()) == pytest.approx(float(ref.max()) - 80.0, abs=1e-3)
    np.testing.assert_allclose(got, ref, atol=0.01)
    # ref=np.max and the pre-0.10 reflect padding.
    out2 = tmp_path / "o2.npy"
    argv = [str(src), "--npy", str(out2), "--like", "librosa", "--db-ref", "max"]
    assert export([*argv, "--pad-mode", "reflect", "--fft", "1024"]) == 0
    d = librosa.stft(y, n_fft=1024, pad_mode="reflect")
    ref2 = librosa.amplitude_to_db(np.abs(d), ref=np.max).T
    got2 = np.load(out2)
    assert got2.shape == ref2.shape == (1 + y.size // 256, 513)
    assert float(got2.max()) == 0.0
    np.testing.assert_allclose(got2, ref2, atol=0.01)


def test_like_librosa_mel_matches_librosa(tmp_path):
    import librosa  # a test dependency (pyproject [test])

    src, y = write(tmp_path, signal())
    out = tmp_path / "o.npy"
    assert export([str(src), "--npy", str(out), "--like", "librosa", "--scale", "mel"]) == 0
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=FS)).T
    got = np.load(out)
    assert got.shape == ref.shape == (1 + y.size // 512, 128)
    np.testing.assert_allclose(got, ref, atol=0.01)


def torchaudio_reference(y: np.ndarray, n_fft: int = 400, n_mels: int | None = None) -> np.ndarray:
    """torchaudio.transforms.Spectrogram() + AmplitudeToDB() as documented: centre with
    reflect padding of n_fft // 2, periodic hann, hop n_fft // 2, |X|**2, then
    10*log10(max(x, 1e-10)) (ref 1, top_db None); with n_mels, MelSpectrogram's HTK
    triangles (melscale_fbanks, norm None) over linspace(0, sr // 2) first."""
    hop = n_fft // 2
    yp = np.pad(y, n_fft // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop]
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # torch.hann_window
    p = np.abs(np.fft.rfft(frames * w, axis=1)) ** 2
    if n_mels is not None:
        all_freqs = np.linspace(0, FS // 2, n_fft // 2 + 1)
        m_max = 2595.0 * np.log10(1.0 + (FS // 2) / 700.0)
        f_pts = 700.0 * (10 ** (np.linspace(0, m_max, n_mels + 2) / 2595.0) - 1.0)
        f_diff = f_pts[1:] - f_pts[:-1]
        slopes = f_pts[None, :] - all_freqs[:, None]
        down = -slopes[:, :-2] / f_diff[:-1]
        up = slopes[:, 2:] / f_diff[1:]
        p = p @ np.maximum(0.0, np.minimum(down, up))
    return 10 * np.log10(np.maximum(p, 1e-10))


def test_like_torchaudio_matches_documented_formula(tmp_path):
    src, y = write(tmp_path, signal(0.5))
    out = tmp_path / "o.npy"
    assert export([str(src), "--npy", str(out), "--like", "torchaudio"]) == 0
    ref = torchaudio_reference(y)
    got = np.load(out)
    assert got.shape == ref.shape == (1 + y.size // 200, 201)
    np.testing.assert_allclose(got, ref, atol=0.01)
    out2 = tmp_path / "mel.npy"
    assert export([str(src), "--npy", str(out2), "--like", "torchaudio", "--scale", "mel"]) == 0
    ref2 = torchaudio_reference(y, n_mels=128)
    got2 = np.load(out2)
    assert got2.shape == ref2.shape == (1 + y.size // 200, 128)
    mask = ref2 > -100  # mel bands narrower than a bin are empty (-100 dB) in both
    np.testing.assert_allclose(got2[mask], ref2[mask], atol=0.01)
    assert np.all(got2[~mask] == pytest.approx(-100.0, abs=1e-3))


def test_mel_filterbank_matches_librosa():
    import librosa  # a test dependency (pyproject [test])

    for n_fft, n_mels, htk, norm in ((2048, 128, False, "slaney"), (1024, 40, True, None)):
        r = Recipe(n=n_fft, nfft=n_fft, mel=True, n_mels=n_mels, mel_htk=htk, mel_norm=norm)
        ref = librosa.filters.mel(sr=22050, n_fft=n_fft, n_mels=n_mels, htk=htk, norm=norm)  # type: ignore[arg-type]
        np.testing.assert_allclose(mel_filterbank(r, 22050).T, ref, rtol=1e-5, atol=1e-9)


def test_mel_dbfs_bands_read_a_tone_at_their_centre_at_its_level(tmp_path):
    """Without --like, mel bands are dBFS: the bins' dBFS power through triangles that peak
    at 1 (librosa's filters with ``norm=None``, Slaney scale, 0 Hz to Nyquist), over the
    window's equivalent noise bandwidth in bins, as the log bands are. A -6.02 dBFS sine at
    a wide band's centre reads -6.02 dBFS there (within the triangle's slope across the
    window's main lobe), not 10*log10(1.5) = 1.76 dB more (the sum of hann's lobe)."""
    import librosa  # a test dependency (pyproject [test])

    n = 4096
    edges = librosa.mel_frequencies(130, fmin=0.0, fmax=FS / 2)  # Slaney, band k: k..k+2
    f0 = float(edges[101])  # band 100's centre, about 7.9 kHz: 22 bins each side
    t = np.arange(FS) / FS
    src, x = write(tmp_path, (0.5 * np.sin(2 * np.pi * f0 * t)).astype(np.float32))
    out = tmp_path / "mel.npy"
    assert export([str(src), "--npy", str(out), "--scale", "mel", "--hop", "1024"]) == 0
    got = np.load(out)
    fb = librosa.filters.mel(sr=FS, n_fft=n, n_mels=128, fmin=0.0, fmax=FS / 2, norm=None)
    w = ss.get_window("hann", n)
    enbw = n * np.sum(w**2) / np.sum(w) ** 2  # 1.5 bins
    power = 10 ** (scipy_dbfs(x, "hann", n, 1024, n) / 10)
    ref = 10 * np.log10(np.maximum(power @ fb.T / enbw, 1e-20))
    assert got.shape == ref.shape == (1 + (FS - n) // 1024, 128)
    top = ref > -120
    np.testing.assert_allclose(got[top], ref[top], atol=0.01)
    level = float(np.median(got[:, 100]))
    assert level == pytest.approx(20 * np.log10(0.5), abs=0.15)


def test_top_db_and_ref_max_in_dbfs(tmp_path):
    src, x = write(tmp_path, signal())
    out = tmp_path / "o.npy"
    argv = [str(src), "--npy", str(out), "--fft", "1024", "--hop", "512", "--top-db", "60"]
    assert export(argv) == 0
    ref = scipy_dbfs(x, "hann", 1024, 512, 1024)
    got = np.load(out)
    top = float(ref.max())
    assert float(got.min()) == pytest.approx(top - 60, abs=1e-3)
    np.testing.assert_allclose(got, np.maximum(ref, top - 60), atol=0.01)
    assert export([*argv, "--force", "--db-ref", "max"]) == 0
    got = np.load(out)
    assert float(got.max()) == 0.0
    np.testing.assert_allclose(got, np.maximum(ref - top, -60), atol=0.01)


class _ChunkReader:
    """Gives samples in irregular chunks, like a decoder at block edges."""

    def __init__(self, x: np.ndarray, seed: int) -> None:
        self.x = x.astype(np.float32)
        self.pos = 0
        self.rng = np.random.default_rng(seed)

    def __call__(self, out: np.ndarray) -> int:
        k = min(out.shape[0], int(self.rng.integers(1, 5000)), self.x.size - self.pos)
        out[:k] = self.x[self.pos : self.pos + k]
        self.pos += k
        return k


@pytest.mark.parametrize(
    ("n", "hop", "center", "pad_mode", "length"),
    [
        (256, 64, False, "constant", 10_000),
        (256, 200, True, "constant", 10_000),
        (255, 255, True, "reflect", 9_999),
        (512, 100, True, "reflect", 300),
        (512, 512, True, "constant", 100),
        (64, 1, False, "constant", 3_000),
    ],
)
def test_streaming_framing_matches_direct(n, hop, center, pad_mode, length):
    r = Recipe(n=n, nfft=n, hop=hop, center=center, pad_mode=pad_mode, level="power", floor=1e-10)
    an = BatchAnalyzer(r, FS, wisdom=False)
    x = np.random.default_rng(3).standard_normal(length).astype(np.float32)
    rows: list[np.ndarray] = []
    got = analyse_segment(_ChunkReader(x, n + hop), length, an, lambda a: rows.append(a.copy()))
    xp = np.pad(x.astype(np.float64), n // 2, mode=pad_mode) if center else x.astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(xp, n)[::hop]
    ref = 10 * np.log10(np.maximum(np.abs(np.fft.rfft(frames * an.window, axis=1)) ** 2, 1e-10))
    assert got == r.frames(length) == ref.shape[0]
    if center and n % 2 == 0:
        assert got == 1 + length // hop  # librosa's and torch's frame count
    np.testing.assert_allclose(np.concatenate(rows), ref, atol=2e-4)


def test_short_read_is_reported():
    r = Recipe(n=256, nfft=256, hop=128)
    an = BatchAnalyzer(r, FS, wisdom=False)
    x = np.zeros(1000, dtype=np.float32)
    with pytest.raises(ShortRead, match="expected 5000 samples, read 1000"):
        analyse_segment(_ChunkReader(x, 1), 5000, an, lambda a: None)
