"""livespec export against the notebooks it claims to reproduce (issue #14): the BirdCLEF
torchaudio pipeline (images) and the Kaggle ``log_specgram`` scipy recipe (arrays), each
computed here from the libraries' documented formulas, against the command docs/export.md
gives; and the image conventions (--origin, --quantize, --resize-on)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf
from PIL import Image
from scipy.io import wavfile
from support.cli import export

BIRD_FS = 32000  # BirdCLEF's recordings are 32 kHz


def birdsong(seconds: float, seed: int) -> np.ndarray:
    """Chirps (2-8 kHz sweeps with harmonics), a low hum and background noise, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * BIRD_FS)) / BIRD_FS
    x = 0.01 * rng.standard_normal(t.size) + 0.02 * np.sin(2 * np.pi * 120 * t)
    for start in np.arange(0.2, seconds - 0.4, 0.7):
        d = 0.25
        m = (t >= start) & (t < start + d)
        tt = t[m] - start
        f0 = rng.uniform(2500, 4000)
        phase = 2 * np.pi * (f0 * tt + rng.uniform(2000, 6000) * tt**2)
        env = np.sin(np.pi * tt / d) ** 2
        x[m] += env * (0.4 * np.sin(phase) + 0.1 * np.sin(2 * phase))
    return x.astype(np.float32)


# -- the BirdCLEF notebook, by torchaudio's documented formulas (torch is not needed) --------


def torch_spectrogram_db(clip: np.ndarray) -> np.ndarray:
    """``AmplitudeToDB()(Spectrogram()(clip))`` in float32, shape (201, frames):
    Spectrogram: n_fft 400, win_length 400, hop 200, ``torch.hann_window(400)`` (periodic),
    center=True with ``pad_mode='reflect'``, power 2, not normalized, onesided.
    AmplitudeToDB: stype 'power', ref 1, amin 1e-10, top_db None:
    ``10 * log10(clamp(x, min=1e-10)) - 10 * log10(max(amin, ref))``."""
    n, hop = 400, 200
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
    padded = np.pad(clip, n // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n)[::hop]
    spec = np.fft.rfft(frames * win, axis=-1)  # float32 in, complex64 out (numpy >= 2)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    db = np.float32(10.0) * np.log10(np.maximum(power, np.float32(1e-10)))
    return db.T.astype(np.float32)


def birdclef_image(clip: np.ndarray) -> np.ndarray:
    """The notebook: min-max to 0..255, ``astype(np.uint8)``, ``Image.fromarray`` (row 0 is
    0 Hz, at the top), ``.resize((512, 512))`` with Pillow's default filter."""
    x = torch_spectrogram_db(clip)
    x = (x - x.min()) / (x.max() - x.min()) * 255
    img = Image.fromarray(x.astype(np.uint8))
    return np.asarray(img.resize((512, 512)), dtype=np.float64)


@pytest.mark.parametrize(
    ("ext", "subtype"), [("ogg", "VORBIS"), ("flac", "PCM_16"), ("wav", "PCM_16")]
)
def test_birdclef_notebook_images(tmp_path, ext, subtype):
    src = tmp_path / "birds"
    src.mkdir()
    path = src / f"song.{ext}"
    sf.write(path, birdsong(10.0, seed=len(ext)), BIRD_FS, subtype=subtype)
    out = tmp_path / "dataset"
    # The command docs/export.md gives for the notebook.
    argv = [str(src), "-o", str(out), "--clip", "5", "--size", "512x512", "--gray"]
    assert export([*argv, "--like", "torchaudio"]) == 0
    audio, fs = sf.read(path, dtype="float32")  # torchaudio.load: float32 in [-1, 1)
    assert fs == BIRD_FS
    for k, name in enumerate(["song_5.png", "song_10.png"]):
        clip = audio[k * 5 * fs : (k + 1) * 5 * fs]
        want = birdclef_image(clip)
        got = np.asarray(Image.open(out / name), dtype=np.float64)
        assert got.shape == want.shape == (512, 512)
        diff = np.abs(got - want)
        assert diff.mean() <= 0.5, (name, diff.mean(), diff.max())
        assert diff.max() <= 4, (name, diff.mean(), diff.max())
    # Before the conventions, livespec's image was upside down: the test can fail.
    flipped = np.abs(got[::-1] - want)
    assert flipped.mean() > 5


# -- the Kaggle log_specgram recipe (scipy) -----------------------------------------------


def log_specgram(audio, sample_rate, window_size=20, step_size=10, eps=1e-10):
    """Verbatim from the Kaggle "speech representation" notebook."""
    nperseg = int(round(window_size * sample_rate / 1e3))  # noqa: RUF046
    noverlap = int(round(step_size * sample_rate / 1e3))  # noqa: RUF046
    freqs, times, spec = ss.spectrogram(
        audio,
        fs=sample_rate,
        window="hann",
        nperseg=nperseg,
        noverlap=noverlap,
        detrend=False,
    )
    return freqs, times, np.log(spec.T.astype(np.float32) + eps)


LOG_SPECGRAM = ["--like", "scipy", "--window", "hann", "--fft", "320", "--hop", "160"]
LOG_SPECGRAM += ["--detrend", "none", "--log", "ln", "--raw-int"]


def speech_like(seconds: float, fs: int, seed: int, noise: float = 0.05) -> np.ndarray:
    """Voiced glides, noise, a DC offset and 0.25 s of digital silence (eps matters)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    voiced = np.sin(2 * np.pi * (150 + 50 * t) * t) + 0.5 * np.sin(2 * np.pi * (300 + 100 * t) * t)
    x = 0.4 * np.sin(2 * np.pi * 3 * t) ** 2 * voiced + noise * rng.standard_normal(t.size) + 0.03
    x[(t > 0.5) & (t < 0.75)] = 0.0
    return x


@pytest.mark.parametrize(("seed", "noise"), [(0, 0.05), (1, 0.05), (2, 0.003)])
def test_log_specgram_recipe(tmp_path, seed, noise):
    fs = 16000
    path = tmp_path / "speech.wav"
    sf.write(path, speech_like(2.0, fs, seed, noise), fs, subtype="PCM_16")
    out = tmp_path / "spec.npy"
    assert export([str(path), "-o", str(out), *LOG_SPECGRAM]) == 0
    got = np.load(out)
    sr, audio = wavfile.read(path)
    assert audio.dtype == np.int16
    _, _, want = log_specgram(audio, sr)  # scipy computes int16 input in float32
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-4
    # Silent frames read ln(1e-10), as the recipe's eps gives.
    assert np.isclose(got.min(), np.log(np.float32(1e-10)), atol=1e-5)
    if noise < 0.01:  # weak bins: the same arithmetic in double precision misses the
        _, _, exact = log_specgram(audio.astype(np.float64), sr)  # bound (the test can fail)
        assert np.abs(exact - want).max() > 1e-3


def test_raw_int_with_detrending_is_double_as_in_scipy(tmp_path):
    """scipy's detrend turns integer samples into float64 (the result is cast to float32 at
    the end): no single precision then."""
    fs = 16000
    path = tmp_path / "speech.wav"
    sf.write(path, speech_like(2.0, fs, 4, 0.003), fs, subtype="PCM_16")
    out = tmp_path / "spec.npy"
    argv = [str(path), "-o", str(out), *LOG_SPECGRAM[:-5], "--log", "ln", "--raw-int"]
    assert export(argv) == 0  # --like scipy's default detrend: constant
    sr, audio = wavfile.read(path)
    _, _, s = ss.spectrogram(audio, fs=sr, window="hann", nperseg=320, noverlap=160)
    want = np.log(s.T.astype(np.float32) + 1e-10)
    assert np.abs(np.load(out) - want).max() <= 1e-4


@pytest.mark.parametrize("detrend", [[], ["--detrend", "none"]], ids=["constant", "none"])
def test_log_specgram_recipe_on_24_bit_files_is_double_as_in_scipy(tmp_path, detrend):
    """scipy.io.wavfile reads 24-bit samples as int32, and np.result_type(int32,
    complex64) is complex128: scipy computes them in double precision (not in float32 as
    int16). The export did them in float32: bins off by up to 1.4 in ln without detrending,
    8 with it (measured on speech_like files)."""
    fs = 16000
    path = tmp_path / "speech.wav"
    sf.write(path, speech_like(2.0, fs, 5, 0.003), fs, subtype="PCM_24")
    out = tmp_path / "spec.npy"
    assert export([str(path), "-o", str(out), *LOG_SPECGRAM[:-5], *detrend, "--log", "ln",
                   "--raw-int"]) == 0  # fmt: skip
    sr, audio = wavfile.read(path)
    assert audio.dtype == np.int32
    mode = {"detrend": False} if detrend else {}
    _, _, s = ss.spectrogram(audio, fs=sr, window="hann", nperseg=320, noverlap=160, **mode)
    want = np.log(s.T.astype(np.float32) + 1e-10)
    assert np.abs(np.load(out) - want).max() <= 1e-5


@pytest.mark.parametrize("detrend", ["constant", "linear"])
@pytest.mark.parametrize("scaling", ["density", "spectrum"])
def test_scipy_detrend_and_scaling(tmp_path, detrend, scaling):
    fs = 8000
    x = speech_like(1.0, fs, 3) + np.linspace(-0.2, 0.3, fs)  # a ramp, for 'linear'
    path = tmp_path / "x.wav"
    sf.write(path, x.astype(np.float32), fs, subtype="FLOAT")
    out = tmp_path / "x.npy"
    argv = [str(path), "-o", str(out), "--like", "scipy", "--detrend", detrend]
    assert export([*argv, "--scaling", scaling]) == 0
    data, _ = sf.read(path, dtype="float64")
    _, _, s = ss.spectrogram(data, fs, detrend=detrend, scaling=scaling)
    want = 10 * np.log10(np.maximum(s.T, 1e-20))
    np.testing.assert_allclose(np.load(out), want, rtol=0, atol=2e-3)


# -- conventions -------------------------------------------------------------------------


def test_origin_quantize_and_resize_on(tmp_path):
    path = tmp_path / "b.wav"
    sf.write(path, birdsong(1.0, 7), BIRD_FS)
    base = [str(path), "--fft", "512", "--hop", "256", "--gray"]

    def png(name: str, *extra: str) -> np.ndarray:
        assert export([*base, "-o", str(tmp_path / name), *extra]) == 0
        return np.asarray(Image.open(tmp_path / name), dtype=np.int16)

    lower = png("lower.png")
    upper = png("upper.png", "--origin", "upper")
    np.testing.assert_array_equal(upper, lower[::-1])
    floor = png("floor.png", "--quantize", "floor")
    d = lower - floor
    assert d.min() >= 0 and d.max() == 1  # floor is round, or one level under it
    # --resize-on image resizes the 8-bit image: with 'nearest' both ways give the same.
    a = png("a.png", "--size", "64x32", "--resize-filter", "nearest")
    b = png("b.png", "--size", "64x32", "--resize-filter", "nearest", "--resize-on", "image")
    np.testing.assert_array_equal(a, b)
    c = png("c.png", "--size", "64x32", "--resize-filter", "bicubic", "--resize-on", "image")
    assert c.shape == (32, 64) and not np.array_equal(a, c)


# -- the librosa specshow article --------------------------------------------------------


def test_librosa_specshow_array_and_colour_indices(tmp_path):
    """``D = librosa.amplitude_to_db(np.abs(librosa.stft(y)), ref=np.max)`` and
    ``specshow(D, y_axis='linear')``: the array, and matplotlib's colour index of each value
    (``Normalize`` to D's range, ``min(floor(256 x), 255)``), 0 Hz in the bottom row."""
    import librosa

    fs = 22050
    path = tmp_path / "y.wav"
    y = birdsong(3.0, 5)[: 3 * fs]
    sf.write(path, y, fs, subtype="FLOAT")
    base = [str(path), "--like", "librosa", "--db-ref", "max"]
    assert export([*base, "-o", str(tmp_path / "d.npy")]) == 0
    assert export([*base, "-o", str(tmp_path / "d.png"), "--gray"]) == 0
    d = librosa.amplitude_to_db(np.abs(librosa.stft(y)), ref=np.max)
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), d.T, rtol=0, atol=1e-3)
    x = (d - d.min()) / (d.max() - d.min())
    want = np.minimum(np.floor(x * 256), 255)[::-1]
    got = np.asarray(Image.open(tmp_path / "d.png"), dtype=np.float64)
    assert got.shape == want.shape
    diff = np.abs(got - want)
    assert diff.max() <= 1 and diff.mean() <= 0.01, (diff.mean(), diff.max())
