"""True log-frequency arrays and CQT arrays in ``livespec export`` and ``livespec.spectrogram``:
values against a direct integration of the linear spectrum, files' shapes and axes, and the
refusal of every option that does not apply to the chosen scale."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import livespec
from livespec.dsp.cqt import C1_HZ

FS = 16000
N = 1024
HOP = 256


def direct_log_bands(x: np.ndarray, fmin: float, fmax: float, bpo: int) -> np.ndarray:
    """The log array computed independently: per frame the dBFS power spectrum (hann,
    scipy's framing), seen as a piecewise-constant density over each bin's
    [f - df/2, f + df/2) (clipped to [0, Nyquist]); its cumulative integral at each band
    edge, differenced, over the window's noise bandwidth (1.5 bins for hann)."""
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N) / N)  # periodic hann
    frames = np.lib.stride_tricks.sliding_window_view(x, N)[::HOP]
    spec = np.fft.rfft(frames * w, axis=1)
    p = np.abs(spec) ** 2 * 4.0 / w.sum() ** 2
    p[:, 0] /= 4.0
    p[:, -1] /= 4.0
    df = FS / N
    n_bands = math.floor(bpo * math.log2(fmax / fmin) + 1e-9)
    edges = fmin * 2.0 ** (np.arange(n_bands + 1) / bpo)
    centres = np.arange(p.shape[1]) * df
    lo = np.clip(centres - df / 2, 0.0, FS / 2)
    hi = np.clip(centres + df / 2, 0.0, FS / 2)
    cdf = np.empty((p.shape[0], edges.shape[0]))
    for i, e in enumerate(edges):  # power below e Hz
        cdf[:, i] = p @ np.clip((e - lo) / (hi - lo), 0.0, 1.0)
    out = np.diff(cdf, axis=1)
    enbw = N * float(np.sum(w * w)) / float(np.sum(w)) ** 2
    return 10.0 * np.log10(np.maximum(out / enbw, 1e-20))


def test_log_array_is_the_integral_of_the_linear_spectrum() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(FS) / FS
    x = 0.3 * np.sin(2 * np.pi * 1000.0 * t) + 0.1 * np.sin(2 * np.pi * 97.0 * t)
    x = (x + 0.01 * rng.standard_normal(t.shape)).astype(np.float32)
    s = livespec.spectrogram(
        x, FS, fft=N, hop=HOP, scale="log", bins_per_octave=24, fmin=50.0, fmax=6000.0
    )
    ref = direct_log_bands(x.astype(np.float64), 50.0, 6000.0, 24)
    assert s.db.shape == ref.shape
    big = ref > ref.max() - 90.0  # float32 levels: exact to about 1e-4 dB up here
    np.testing.assert_allclose(s.db[big], ref[big], atol=2e-3)
    edges = 50.0 * 2.0 ** (np.arange(s.db.shape[1] + 1) / 24)
    np.testing.assert_allclose(s.freqs, np.sqrt(edges[:-1] * edges[1:]), rtol=1e-12)
    assert edges[-1] <= 6000.0 < edges[-1] * 2 ** (1 / 24)


def test_a_sine_inside_a_wide_band_reads_its_dbfs_level() -> None:
    t = np.arange(FS) / FS
    x = 0.5 * np.sin(2 * np.pi * 1414.0 * t)  # the middle of the 1 kHz .. 2 kHz band
    s = livespec.spectrogram(x, FS, fft=N, hop=HOP, scale="log", bins_per_octave=1,
                             fmin=1000.0, fmax=2000.0)  # fmt: skip
    assert s.db.shape[1] == 1
    assert float(np.median(s.db[:, 0])) == pytest.approx(20 * math.log10(0.5), abs=0.01)


def _wav(tmp_path: Path, f: float = 440.0, seconds: float = 2.0) -> Path:
    t = np.arange(int(seconds * FS)) / FS
    p = tmp_path / "tone.wav"
    sf.write(p, (0.5 * np.sin(2 * np.pi * f * t)).astype(np.float32), FS, subtype="FLOAT")
    return p


def _export(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "livespec", "export", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_log_and_cqt_arrays_have_their_shapes_and_axes(tmp_path: Path) -> None:
    src = _wav(tmp_path)
    out = tmp_path / "log.npy"
    r = _export(str(src), "-o", str(out), "--scale", "log", "--bins-per-octave", "12",
                "--fmin", "100", "--fmax", "4000", "--fft", "1024", "--hop", "256")  # fmt: skip
    assert r.returncode == 0, r.stderr
    a = np.load(out)
    bands = math.floor(12 * math.log2(4000 / 100) + 1e-9)
    assert a.shape == (1 + (2 * FS - 1024) // 256, bands)
    ref = livespec.spectrogram(src, fft=1024, hop=256, scale="log", bins_per_octave=12,
                               fmin=100.0, fmax=4000.0)  # fmt: skip
    np.testing.assert_array_equal(a, ref.db)

    out = tmp_path / "cqt.csv"
    r = _export(str(src), "-o", str(out), "--scale", "cqt", "--bins-per-octave", "24",
                "--octaves", "6", "--hop", "512")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(out.open()))
    header = rows[0]
    freqs = np.array([float(h) for h in header[1:]])
    np.testing.assert_allclose(freqs, C1_HZ * 2 ** (np.arange(144) / 24), rtol=1e-6)
    assert len(rows) - 1 == 1 + 2 * FS // 512
    times = np.array([float(row[0]) for row in rows[1:]])
    np.testing.assert_allclose(times, np.arange(len(times)) * 512 / FS, atol=1e-3)
    levels = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    mid = levels[len(levels) // 2]
    k = int(np.argmax(mid))
    assert abs(freqs[k] / 440.0 - 1) < 0.01
    assert mid[k] == pytest.approx(20 * math.log10(0.5), abs=0.05)

    png = tmp_path / "cqt.png"
    r = _export(str(src), "-o", str(png), "--scale", "cqt", "--axes")
    assert r.returncode == 0, r.stderr
    assert png.stat().st_size > 0


REFUSALS = [
    (["--bins-per-octave", "24"], "--bins-per-octave does not apply to --scale linear"),
    (["--scale", "mel", "--bins-per-octave", "24"], "--bins-per-octave does not apply"),
    (["--fmin", "100"], "--fmin does not apply to --scale linear"),
    (["--fmax", "1000"], "--fmax does not apply to --scale linear"),
    (["--octaves", "3"], "--octaves does not apply to --scale linear"),
    (["--scale", "log", "--octaves", "3"], "--octaves does not apply to --scale log"),
    (["--scale", "log", "--n-mels", "64"], "--n-mels does not apply to --scale log"),
    (["--scale", "cqt", "--n-mels", "64"], "--n-mels does not apply to --scale cqt"),
    (["--scale", "cqt", "--fft", "2048"], "--fft does not apply to --scale cqt"),
    (["--scale", "cqt", "--zero-pad", "2"], "--zero-pad does not apply to --scale cqt"),
    (["--scale", "cqt", "--overlap", "0.5"], "--overlap does not apply to --scale cqt"),
    (["--scale", "cqt", "--like", "librosa"], "--like does not apply to --scale cqt"),
    (["--scale", "cqt", "--center"], "--center does not apply to --scale cqt"),
    (["--scale", "cqt", "--pad-mode", "reflect"], "--pad-mode does not apply to --scale cqt"),
    (["--scale", "cqt", "--bins-per-octave", "6"], "--bins-per-octave 6: must be from 12 to 96"),
    (["--scale", "cqt", "--bins-per-octave", "97"], "must be from 12 to 96"),
    (["--scale", "cqt", "--octaves", "3", "--fmax", "500"], "not both"),
    (["--scale", "log", "--fmin", "0"], "--fmin 0: must be above 0 Hz"),
    (["--scale", "cqt", "--octaves", "9"], "reach above 8000 Hz"),
]


@pytest.mark.parametrize(("extra", "message"), REFUSALS)
def test_an_option_that_does_not_apply_is_refused_in_one_line(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    src = _wav(tmp_path, seconds=0.5)
    r = _export(str(src), "-o", str(tmp_path / "x.npy"), *extra)
    assert r.returncode in (1, 2)
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and message in ln]
    assert len(lines) == 1
    assert not (tmp_path / "x.npy").exists()


def test_the_api_refuses_arguments_that_do_not_apply() -> None:
    x = np.zeros(FS, dtype=np.float32)
    with pytest.raises(livespec.UsageError, match=r"^bins_per_octave does not apply to "
                       r"scale='linear': only to scale='log' and scale='cqt'$"):  # fmt: skip
        livespec.spectrogram(x, FS, bins_per_octave=24)
    with pytest.raises(livespec.UsageError, match=r"^fmin does not apply to scale='linear'"):
        livespec.spectrogram(x, FS, fmin=100.0)
    with pytest.raises(livespec.UsageError, match=r"^fft does not apply to scale='cqt'"):
        livespec.spectrogram(x, FS, scale="cqt", fft=2048)
    with pytest.raises(livespec.UsageError, match=r"^scale='cqt': the top bin .* lower octaves"):
        livespec.spectrogram(x, FS, scale="cqt", octaves=9)
