"""The public API (livespec.spectrogram, frames, peaks, measure): the same numbers as the
commands (byte for byte), as scipy and librosa, as torchaudio's formulas; clear errors;
a cheap import that loads neither Textual nor PortAudio."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf
from support.cli import export
from support.examples import run_doctests, run_examples
from test_export_dsp import FS, signal, torchaudio_reference, write

import livespec
from livespec.cli import main

ABOVE = -90.0  # parity with the libraries is held on levels above this (dB)


def max_diff(got: np.ndarray, ref: np.ndarray, above: float = ABOVE) -> float:
    """Largest |got - ref| (dB) over the values where ref is above ``above``."""
    assert got.shape == ref.shape
    mask = ref > above
    assert mask.sum() > 100
    return float(np.max(np.abs(got[mask].astype(np.float64) - ref[mask])))


# -- parity with livespec export, byte for byte ---------------------------------------------

CASES = [
    ([], {}),
    (["--fft", "1024", "--hop", "300", "--window", "blackman"],
     dict(fft=1024, hop=300, window="blackman")),
    (["--like", "scipy"], dict(like="scipy")),
    (["--like", "librosa", "--scale", "mel"], dict(like="librosa", scale="mel")),
    (["--like", "torchaudio"], dict(like="torchaudio")),
    (["--center", "--pad-mode", "reflect", "--db-ref", "max", "--top-db", "60", "--zero-pad", "2"],
     dict(center=True, pad_mode="reflect", db_ref="max", top_db=60, zero_pad=2)),
    (["--channel", "2", "--fft", "512"], dict(channel=1, fft=512)),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "kw"), CASES)
def test_spectrogram_equals_export_npy_byte_for_byte(tmp_path, argv, kw):
    src, _ = write(tmp_path, signal(0.5, channels=2))
    out = tmp_path / "e.npy"
    assert export([str(src), "--npy", str(out), *argv]) == 0
    S = livespec.spectrogram(src, **kw)
    ref = np.load(out)
    assert S.db.dtype == np.float32 and S.db.shape == ref.shape
    assert S.db.tobytes() == ref.tobytes()
    assert S.save(tmp_path / "a.npy").read_bytes() == out.read_bytes()
    # The same samples as an array (soundfile's (samples, channels)) and as a file object.
    y, fs = sf.read(src, dtype="float32")
    assert livespec.spectrogram(y, fs, **kw).db.tobytes() == ref.tobytes()
    with open(src, "rb") as f:
        assert livespec.spectrogram(f, **kw).db.tobytes() == ref.tobytes()


def test_an_mp3_file_object_reads_as_its_path(tmp_path):
    """An MP3 given as a file object went through soundfile's seek after every read,
    which libsndfile's MPEG decoder does not do exactly: frames of silence or of other
    parts of the file (peak rows down to -54 dBFS for a -6 dBFS tone). It now reads as
    the path does, every frame the tone."""
    fs = 48000
    t = np.arange(10 * fs) / fs
    src = tmp_path / "tone.mp3"
    sf.write(src, 0.5 * np.sin(2 * np.pi * 1000.37 * t), fs)
    by_path = livespec.spectrogram(src)
    with open(src, "rb") as f:
        by_object = livespec.spectrogram(f)
    assert by_object.db.tobytes() == by_path.db.tobytes()
    tops = by_object.db.max(axis=-1)[4:-4]  # each frame's strongest bin, inside the file
    assert tops.min() > -7.0 and tops.max() < -6.5


def test_csv_and_png_equal_the_export(tmp_path):
    src, _ = write(tmp_path, signal(0.3))
    argv = [str(src), "-o", str(tmp_path / "e.csv"), "--png", "--fft", "1024", "--size", "native"]
    assert export(argv) == 0
    S = livespec.spectrogram(src, fft=1024)
    assert S.save(tmp_path / "a.csv").read_bytes() == (tmp_path / "e.csv").read_bytes()
    assert S.save(tmp_path / "a.png").read_bytes() == (tmp_path / "e.png").read_bytes()
    assert export([str(src), "-o", str(tmp_path / "g.png"), "--gray", "--size", "64x32"]) == 0
    img = livespec.spectrogram(src).to_image(size=(64, 32), gray=True)
    ref = np.asarray(sf_image(tmp_path / "g.png"))
    assert img.mode == "L" and np.array_equal(np.asarray(img), ref)


@pytest.mark.parametrize(
    "argv", [[], ["--scale", "log", "--size", "300x200"], ["--like", "librosa", "--scale", "mel"]]
)
def test_figure_equals_the_export_axes(tmp_path, argv):
    src, _ = write(tmp_path, signal(0.3))
    assert export([str(src), "-o", str(tmp_path / "e.png"), "--axes", "--fft", "1024", *argv]) == 0
    kw = {"scale": argv[1]} if argv[:1] == ["--scale"] else {}
    if "--like" in argv:
        kw = {"like": "librosa", "scale": "mel"}
    S = livespec.spectrogram(src, fft=1024, **kw)
    size = (300, 200) if "--size" in argv else None
    fig = S.to_figure(size, title="sig.wav")
    ref = sf_image(tmp_path / "e.png")
    assert fig.size == ref.size and np.array_equal(np.asarray(fig), np.asarray(ref))
    png = S._repr_png_()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def sf_image(p: Path):
    from PIL import Image

    return Image.open(p)


def test_axes_times_and_frequencies():
    y = signal(0.5)
    S = livespec.spectrogram(y, FS, fft=2048, hop=512)
    assert S.db.shape == (1 + (y.size - 2048) // 512, 1025)
    np.testing.assert_allclose(S.freqs, np.arange(1025) * FS / 2048)
    np.testing.assert_allclose(S.times, (np.arange(S.db.shape[0]) * 512 + 1024) / FS)
    assert (S.fft, S.hop, S.window, S.unit) == (2048, 512, "hann", "dBFS")
    assert S.samplerate == FS and "fft 2048" in repr(S)
    lib = livespec.spectrogram(y, FS, like="librosa")
    np.testing.assert_allclose(lib.times, np.arange(lib.db.shape[0]) * 512 / FS)


# -- parity with the libraries ---------------------------------------------------------------


def test_like_scipy_and_librosa_equal_the_libraries():
    import librosa

    y = signal(1.0).astype(np.float64)
    _, _, sxx = ss.spectrogram(y, FS)
    d = max_diff(livespec.spectrogram(y, FS, like="scipy").db, 10 * np.log10(sxx.T))
    assert d < 0.01
    ref = librosa.amplitude_to_db(np.abs(librosa.stft(y)), ref=1.0).T
    d2 = max_diff(livespec.spectrogram(y, FS, like="librosa").db, ref)
    assert d2 < 0.01
    ref_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=FS)).T
    d3 = max_diff(livespec.spectrogram(y, FS, like="librosa", scale="mel").db, ref_mel)
    assert d3 < 0.01
    print(f"max dB difference above {ABOVE} dB: scipy {d:.2e}, librosa {d2:.2e}, mel {d3:.2e}")


def test_like_torchaudio_equals_its_documented_formulas():
    y = signal(0.5).astype(np.float64)
    d = max_diff(livespec.spectrogram(y, FS, like="torchaudio").db, torchaudio_reference(y))
    got = livespec.spectrogram(y, FS, like="torchaudio", scale="mel").db
    d2 = max_diff(got, torchaudio_reference(y, n_mels=128))
    assert d < 0.01 and d2 < 0.01
    print(f"max dB difference above {ABOVE} dB: torchaudio {d:.2e}, mel {d2:.2e}")


# -- frames, images ----------------------------------------------------------------------------


def test_frames_are_the_spectrogram_in_pieces(tmp_path):
    src, _ = write(tmp_path, signal(1.0))
    whole = livespec.spectrogram(src, fft=1024, like="torchaudio")
    parts = list(livespec.frames(src, block=100, fft=1024, like="torchaudio"))
    assert [p.db.shape[0] for p in parts[:-1]] == [100] * (len(parts) - 1)
    assert np.concatenate([p.db for p in parts]).tobytes() == whole.db.tobytes()
    np.testing.assert_array_equal(np.concatenate([p.times for p in parts]), whole.times)
    with pytest.raises(livespec.UsageError, match="top_db"):
        next(livespec.frames(src, like="librosa"))
    assert len(list(livespec.frames(src, like="librosa", top_db=None, block=10**6))) == 1


def test_to_image_options():
    S = livespec.spectrogram(signal(0.5), FS, fft=1024, scale="log")
    low = S.to_image(size=(40, 30))
    up = S.to_image(size=(40, 30), origin="upper")
    assert low.size == (40, 30) and low.mode == "RGB"
    assert np.array_equal(np.asarray(low)[::-1], np.asarray(up))
    assert S.to_image(db_range=(-60, 0), colormap="magma").size == S.db.shape
    with pytest.raises(livespec.UsageError, match="colormap"):
        S.to_image(colormap="jet")


# -- peaks and measure: the commands' numbers --------------------------------------------------


def run_cli(capsys, argv: list[str]) -> list[dict]:
    assert main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_peaks_equal_the_peaks_command(tmp_path, capsys):
    src, _ = write(tmp_path, signal(0.5, channels=2))
    recs = run_cli(capsys, ["peaks", "--input", str(src), "--json", "--peaks", "3"])
    got = [p.as_dict() for p in livespec.peaks(src, n=3)]
    for r in recs:
        del r["overflows"], r["lost_frames"], r["dropped_s"]  # the input's status, not peaks
    assert len(got) == len(recs) > 5 and got == recs
    y, _ = sf.read(src, dtype="float32")
    assert [p.as_dict() for p in livespec.peaks(y, FS, n=3)] == recs


def test_the_issue_example_prints_1000_hz_at_0_dbfs():
    code = (
        "import livespec, numpy as np; "
        "S = livespec.spectrogram(np.sin(2*np.pi*1000*np.arange(48000)/48000), 48000); "
        "print(S.peaks()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert " 1000.0 Hz 0.0 dBFS B5" in out.stdout, out.stdout
    top = livespec.spectrogram(np.sin(2 * np.pi * 1000 * np.arange(48000) / 48000), 48000)
    p = top.peaks()[0]
    assert p.freq_hz == pytest.approx(1000.0, abs=1e-3)
    assert p.level_dbfs == pytest.approx(0.0, abs=1e-3)


def test_measure_equals_the_measure_command(tmp_path, capsys):
    t = np.arange(2 * FS) / FS
    y = 0.5 * np.sin(2 * np.pi * 1000 * t) + 1e-3 * np.sin(2 * np.pi * 3000 * t)
    src, _ = write(tmp_path, y.astype(np.float32))
    argv = ["measure", "--input", str(src), "--json", "--interval", "0", "--weighting", "A"]
    (rec,) = run_cli(capsys, [*argv, "--calibrate", "94", "dB SPL"])
    m = livespec.measure(src, weighting="A", calibrate=(94, "dB SPL"))
    got = m.as_dict()
    assert {k: rec[k] for k in got} == got
    assert m.thd_db == pytest.approx(-54.0 + 1.2, abs=0.1)  # A-weighting: +1.2 dB at 3 kHz
    assert m.level == pytest.approx(m.level_dbfs + 94) and "THD" in str(m)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: livespec.spectrogram(np.zeros((2, 48000)), FS), livespec.UsageError, "y.T"),
        (lambda: livespec.spectrogram(np.zeros((4, 4, 4)), FS), livespec.UsageError, "shape"),
        (lambda: livespec.spectrogram(np.zeros(9000, complex), FS), livespec.UsageError, "dtype"),
        (lambda: livespec.spectrogram(["a", "b"], FS), livespec.UsageError, "dtype"),
        (lambda: livespec.spectrogram(np.zeros(9000), 0), livespec.UsageError, "sr=0"),
        (lambda: livespec.spectrogram(np.zeros(9000), -1.0), livespec.UsageError, "sr=-1"),
        (lambda: livespec.spectrogram(np.zeros(9000)), livespec.UsageError, "sample rate"),
        (lambda: livespec.spectrogram(np.zeros(9000), FS, fft=10**6), livespec.UsageError, "fft"),
        (lambda: livespec.spectrogram(np.zeros(9000), FS, fft=32), livespec.UsageError, "fft"),
        (lambda: livespec.spectrogram(np.zeros(9000), FS, hop=5000), livespec.UsageError, "hop"),
        (lambda: livespec.spectrogram(np.zeros(100), FS), livespec.UsageError, "too short"),
        (lambda: livespec.spectrogram(np.full(9000, np.nan), FS), livespec.SourceError, "damaged"),
        (lambda: livespec.spectrogram(np.zeros(9000), FS, like="x"), livespec.UsageError, "like"),
        (  # the mel bands upside down (fmin > fmax), or all at 0 Hz: NaN rows
            lambda: livespec.spectrogram(np.zeros(9000), FS, scale="mel", fmin=5000, fmax=100),
            livespec.UsageError,
            "fmax=100: the mel bands need fmax above fmin",
        ),
        (
            lambda: livespec.spectrogram(np.zeros(9000), FS, scale="mel", fmin=0, fmax=0),
            livespec.UsageError,
            "fmax=0",
        ),
        (
            lambda: livespec.spectrogram(np.zeros(9000), FS, channel=1),
            livespec.UsageError,
            r"0\.\.0",
        ),
        (lambda: livespec.spectrogram("/nonexistent.wav"), livespec.SourceError, "nonexistent"),
        (lambda: livespec.spectrogram(io.BytesIO(b"junk" * 99)), livespec.SourceError, "open"),
        (lambda: livespec.peaks(np.zeros(9000), FS, window="x"), livespec.UsageError, "window"),
        (lambda: livespec.peaks(np.zeros(9000), FS, n=0), livespec.UsageError, "n=0"),
        (
            lambda: livespec.peaks(np.zeros(9000), FS, fmin="x"),  # type: ignore[arg-type]
            livespec.UsageError,
            "peaks",
        ),
        (lambda: livespec.peaks(np.zeros(9000), FS, fmax=-1), livespec.UsageError, "fmax"),
        (lambda: livespec.measure(np.zeros(FS), FS, band=(5, 1)), livespec.UsageError, "band"),
        (lambda: livespec.measure(np.zeros(FS), FS, fft=1000), livespec.UsageError, "even"),
        (lambda: livespec.measure(np.zeros(FS), FS, average="x"), livespec.UsageError, "average"),
        (lambda: livespec.measure(np.zeros(9000), FS), livespec.UsageError, "shorter"),
        (lambda: livespec.measure(np.zeros(FS), FS, weighting="B"), livespec.UsageError, "A"),
        (  # ignored without centred frames (the export refuses --pad-mode there)
            lambda: livespec.spectrogram(np.zeros(9000), FS, pad_mode="reflect"),
            livespec.UsageError,
            "pad_mode='reflect' does not apply",
        ),
        (  # a Kaiser window of negative beta (livespec peaks refuses --beta -1)
            lambda: livespec.peaks(np.zeros(9000), FS, window="kaiser", beta=-1),
            livespec.UsageError,
            "beta=-1: must be from 0 to 50",
        ),
        # Wrong types end in a UsageError too, not a bare TypeError/ValueError from inside.
        (
            lambda: livespec.spectrogram(np.zeros(9000), FS, window=np.hanning(4096)),  # type: ignore[arg-type]
            livespec.UsageError,
            "window=",
        ),
        (
            lambda: livespec.peaks(np.zeros(9000), FS, window=np.hanning(4096)),  # type: ignore[arg-type]
            livespec.UsageError,
            "window=",
        ),
        (
            lambda: livespec.measure(np.zeros(FS), FS, calibrate=94),  # type: ignore[arg-type]
            livespec.UsageError,
            "calibrate=94",
        ),
        (
            lambda: livespec.measure(np.zeros(FS), FS, band="20-20000"),  # type: ignore[arg-type]
            livespec.UsageError,
            r"band='20-20000': must be \(low, high\) in Hz",
        ),
        (
            lambda: livespec.spectrogram(np.zeros(9000), FS).to_image(size=100),  # type: ignore[arg-type]
            livespec.UsageError,
            "size=100",
        ),
        (
            lambda: livespec.spectrogram(np.zeros(9000), FS).to_figure(title=None),  # type: ignore[arg-type]
            livespec.UsageError,
            "title=None",
        ),
    ],
)
def test_user_errors_are_livespec_errors(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, livespec.LivespecError)
    assert "\n" not in str(info.value)


def test_numpy_scalars_are_numbers():
    # np.float32(20.0) is a number of Hz: it was refused as "must be a number of Hz".
    y = signal(0.5)
    f32, i64 = np.float32, np.int64
    kw = dict(scale="mel", fmin=20, fmax=8000, top_db=80)
    np_kw = dict(scale="mel", fmin=f32(20), fmax=i64(8000), top_db=f32(80))
    a, b = livespec.spectrogram(y, FS, **kw), livespec.spectrogram(y, FS, **np_kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.db, b.db)
    np.testing.assert_array_equal(a.freqs, b.freqs)
    k = livespec.spectrogram(y, FS, window="kaiser", beta=f32(5))  # type: ignore[arg-type]
    np.testing.assert_array_equal(k.db, livespec.spectrogram(y, FS, window="kaiser", beta=5).db)
    c = livespec.spectrogram(y, FS, scale="cqt", octaves=i64(5))  # type: ignore[arg-type]
    assert c.db.shape[1] == 60
    assert [str(p) for p in livespec.peaks(y, FS, a4=f32(440))] == [  # type: ignore[arg-type]
        str(p) for p in livespec.peaks(y, FS)
    ]
    assert [str(p) for p in livespec.peaks(y, FS, fmin=None)] == [  # None: from 0 Hz
        str(p) for p in livespec.peaks(y, FS, fmin=0.0)
    ]
    m = livespec.measure(y, FS, fft=8192, calibrate=(f32(94), "dB SPL"))  # type: ignore[arg-type]
    assert m.level == pytest.approx(m.level_dbfs + 94)
    assert a.to_image(size=(i64(100), i64(50))).size == (100, 50)  # type: ignore[arg-type]


def test_a_bytes_path_is_a_path(tmp_path, monkeypatch):
    # open() takes b"take.wav"; the API took it for an array ("an array needs its sample rate").
    monkeypatch.chdir(tmp_path)
    src, _ = write(tmp_path, signal(1.0))
    name = os.fsencode(src.name)
    S = livespec.spectrogram(name)
    np.testing.assert_array_equal(S.db, livespec.spectrogram(src).db)
    assert S._repr_html_() is not None and len(S.peaks()) == S.db.shape[0]
    assert [str(p) for p in livespec.peaks(name)] == [str(p) for p in livespec.peaks(src)]
    assert livespec.measure(name, fft=8192).as_dict() == livespec.measure(src, fft=8192).as_dict()
    assert next(livespec.frames(name, block=3)).db.shape == (3, S.db.shape[1])
    assert S.save(b"out.npy") == Path("out.npy") and np.load("out.npy").shape == S.db.shape
    assert S.to_audio(1).save(b"back.wav").exists()
    assert len(list(livespec.listen(source=name))) > 0
    assert livespec.record(b"rec.wav", 0.1, source="tone:1000") == Path("rec.wav")
    with pytest.raises(livespec.SourceError, match=r"^missing\.wav: no such file$"):
        livespec.spectrogram(b"missing.wav")


def _whole_and_pieces(x: np.ndarray, scale: str) -> tuple[np.ndarray, np.ndarray]:
    whole = livespec.spectrogram(x, FS, scale=scale).db
    return whole, np.concatenate([p.db for p in livespec.frames(x, FS, scale=scale)])


@pytest.mark.parametrize("scale", ["linear", "mel"])
def test_spectrogram_from_several_threads_at_once_equals_one_at_a_time(scale: str) -> None:
    # A thread pool over files: the threads shared one cached analyzer (its buffers), and
    # every result came out mixed with another thread's signal.
    from concurrent.futures import ThreadPoolExecutor

    t = np.arange(4 * FS) / FS
    sigs = [(0.5 * np.sin(2 * np.pi * (300 + 700 * k) * t)).astype(np.float32) for k in range(4)]
    alone = [_whole_and_pieces(x, scale) for x in sigs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            together = list(pool.map(_whole_and_pieces, sigs, [scale] * len(sigs)))
            for (a, b), (c, d) in zip(alone, together, strict=True):
                np.testing.assert_array_equal(c, a)
                np.testing.assert_array_equal(d, b)


def test_a_measurement_without_a_tone_says_so():
    m = livespec.measure(np.zeros(FS), FS, fft=8192)
    assert m.measurement is None and str(m).startswith("no tone")
    with pytest.raises(AttributeError, match="no tone stood out, so measurement is None"):
        _ = m.thd_db


def test_measure_result_figures_are_typed_attributes(tmp_path):
    from dataclasses import fields

    if sys.version_info >= (3, 11):
        from typing import assert_type
    else:  # Python 3.10 (typing_extensions comes with Textual)
        from typing_extensions import assert_type

    from livespec.dsp.measure import Harmonic, Measurement

    t = np.arange(FS) / FS
    m = livespec.measure(
        0.5 * np.sin(2 * np.pi * 1000 * t) + 1e-3 * np.sin(2 * np.pi * 3000 * t), FS
    )
    assert m.measurement is not None
    figures = {f.name for f in fields(Measurement)} | {"harmonics_used"}
    assert figures == {n for n in dir(Measurement) if not n.startswith("_")} - {"as_dict"}
    for name in figures:  # each one is the measurement's own value
        assert getattr(m, name) == getattr(m.measurement, name), name
    assert_type(m.thd_db, float)  # checked by .ci/mypy-tests: not Any
    assert_type(m.harmonics, tuple[Harmonic, ...])
    assert m.thd_db == pytest.approx(20 * np.log10(1e-3 / 0.5), abs=0.1)  # harmonic 3 at -54 dB
    with pytest.raises(AttributeError, match="has no attribute 'thd_dbb'"):
        _ = m.thd_dbb  # type: ignore[attr-defined]
    # What a user's type checker says about a typo and about the figures' types.
    user = tmp_path / "user.py"
    user.write_text(
        "import livespec\n"
        "m = livespec.measure('x.wav')\n"
        "reveal_type(m.thd_db)\n"
        "reveal_type(m.band_hz)\n"
        "print(m.thd_dbb)\n"
    )
    args = ["--strict", "--no-incremental", "--cache-dir", os.devnull, str(user)]
    out = subprocess.run(
        [sys.executable, "-m", "mypy", *args], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(livespec.__file__).parents[1])},
    )  # fmt: skip
    lines = out.stdout.replace("builtins.", "").splitlines()  # older mypy names builtins
    assert 'user.py:3: note: Revealed type is "float"' in lines, out.stdout
    assert 'user.py:4: note: Revealed type is "tuple[float, float]"' in lines
    assert any(':5: error: "MeasureResult" has no attribute "thd_dbb"' in x for x in lines)


def test_dir_lists_the_public_api_only():
    livespec.measure(np.ones(9000), FS, fft=1024)  # loads the API's modules
    assert dir(livespec) == sorted(livespec.__all__)
    assert {"TYPE_CHECKING", "Any", "annotations", "api", "errors"}.isdisjoint(dir(livespec))
    for name in dir(livespec):  # each one is there
        assert getattr(livespec, name) is not None, name
    assert livespec.measure is livespec.api.measure  # the submodules stay reachable


def test_frames_checks_its_arguments_at_the_call():
    # A generator would raise only at the first next(), far from the mistake.
    for kw in ({"fft": 3}, {"block": 0}, {"window": "hanning"}, {"like": "librosa"}):
        with pytest.raises(livespec.UsageError):
            livespec.frames(np.zeros(9000), FS, **kw)  # type: ignore[arg-type]
    pieces = livespec.frames("missing.wav")  # the input is opened at the first piece
    with pytest.raises(livespec.SourceError, match=r"missing\.wav"):
        next(pieces)


def test_image_and_save_errors(tmp_path):
    S = livespec.spectrogram(np.zeros(9000), FS, fft=1024)
    for kw in (dict(size=(0, 5)), dict(origin="left"), dict(db_range=(0, -10)), dict(db_range="x")):
        with pytest.raises(livespec.UsageError):
            S.to_image(**kw)
    with pytest.raises(livespec.UsageError, match="npy"):
        S.save(tmp_path / "x.wav")
    with pytest.raises(livespec.LivespecError, match="cannot write"):
        (tmp_path / "f").write_text("a file, not a folder")
        S.save(tmp_path / "f" / "x.npy")
    assert S.save(tmp_path / "new" / "x.png").exists()


def test_unreadable_file(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + b"\x00" * 100)
    with pytest.raises(livespec.SourceError, match=r"junk\.wav"):
        livespec.spectrogram(junk)
    src, _ = write(tmp_path, signal(0.2))
    with pytest.raises(livespec.UsageError, match="resample"):
        livespec.spectrogram(src, 44100)


# -- a cheap import ---------------------------------------------------------------------------


def test_import_and_every_call_load_neither_textual_nor_sounddevice(tmp_path):
    code = f"""
import sys
import livespec
heavy = lambda: sorted(m for m in sys.modules if m.split('.')[0] in
                       ('textual', 'sounddevice', 'scipy', 'numpy', 'PIL'))
assert heavy() == [], heavy()
import numpy as np
y = np.sin(2 * np.pi * 1000 * np.arange(48000) / 48000)
S = livespec.spectrogram(y, 48000)
S.to_image(size=(64, 32)); S.save({str(tmp_path / "x.png")!r}); S.save({str(tmp_path / "x.csv")!r})
S.peaks(); list(livespec.frames(y, 48000)); livespec.peaks(y, 48000); livespec.measure(y, 48000)
S.to_audio(2)
livespec.spectrogram(y, 48000, keep_phase=True).to_audio().save({str(tmp_path / "a.wav")!r})
list(livespec.listen(source="tone:1000", duration=0.2))
with livespec.listen(source="tone:1000") as stream:
    next(stream)
livespec.record({str(tmp_path / "r.wav")!r}, 0.1, source="tone:997")
bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'sounddevice')]
assert bad == [], bad
print(sorted(livespec.__all__) == sorted(set(livespec.__all__)), 'spectrogram' in dir(livespec),
      callable(livespec.record) and callable(livespec.listen))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True"]


# -- docs/api.md and examples/ ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_docs_api_examples_run(tmp_path):
    run_doctests(sys.executable, tmp_path)


def test_examples_run(tmp_path):
    run_examples(sys.executable, ROOT / "examples", tmp_path)
    src = tmp_path / "bird.wav"
    argv = ["--clip", "5", "--size", "512x512", "--gray", "--like", "torchaudio", "--scale", "mel"]
    assert export([str(src), "-o", str(tmp_path / "ex"), *argv, "--top-db", "80"]) == 0
    for name in ("bird_5.png", "bird_10.png"):  # the export's clips, byte for byte
        assert (tmp_path / "clips" / name).read_bytes() == (tmp_path / "ex" / name).read_bytes()


def test_the_live_example_ends_quietly_on_ctrl_c(tmp_path):
    # Its --help says Ctrl-C is how it stops: no traceback.
    import signal

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "live_peaks.py"), "--input", "tone:1000"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # it runs
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert " 1000.00 Hz " in first
    assert proc.returncode == 0 and err == ""


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_examples_end_quietly_when_the_reader_goes_away(tmp_path, unbuffered):
    # `python examples/peak_logger.py take.wav | head -n 3`: no BrokenPipeError traceback,
    # status 0, as livespec's own commands. The pipe's reader is gone before the first write,
    # so every write fails (block-buffered stdout too: its flush at the exit).
    src = tmp_path / "take.wav"
    t = np.arange(6 * FS) / FS
    sf.write(src, (0.25 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), FS)
    argv = {
        "clip_to_png.py": [str(src), str(tmp_path)],
        "db_plot.py": [str(src), str(tmp_path / "plot.png")],
        "live_peaks.py": ["--input", "tone:1000", "--duration", "1"],
        "peak_logger.py": [str(src)],
    }
    assert sorted(p.name for p in (ROOT / "examples").glob("*.py")) == sorted(argv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    for name, args in argv.items():
        r, w = os.pipe()
        os.close(r)
        try:
            done = subprocess.run(
                [sys.executable, str(ROOT / "examples" / name), *args],
                cwd=tmp_path, stdout=w, stderr=subprocess.PIPE, text=True, env=env, timeout=120,
            )  # fmt: skip
        finally:
            os.close(w)
        assert (done.returncode, done.stderr) == (0, ""), name


def test_api_names_are_not_shadowed_by_subpackages():
    """Importing a submodule sets it as an attribute of its package: a subpackage named like
    an API function (livespec/measure/ once was) would replace livespec.measure."""
    pkg = ROOT / "livespec"
    clash = [n for n in livespec.__all__ if (pkg / n).is_dir() or (pkg / f"{n}.py").exists()]
    assert clash == []
    code = (
        "import pkgutil, livespec, importlib\n"
        "for m in pkgutil.walk_packages(livespec.__path__, 'livespec.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "import livespec.api as api\n"
        "print(all(getattr(livespec, n) is getattr(api, n) for n in api.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
