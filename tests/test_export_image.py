"""livespec export's PNG output: size, orientation, frequency scales, colours, clips, axes."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image
from support.cli import export

from livespec.dsp.scales import nice_ticks
from livespec.export.image import colour_table

FS = 48000
N = 1024
HOP = 256
BINS = N // 2 + 1


def tone_file(tmp: Path, freqs: list[float], seconds: float = 1.0, amp: float = 0.5) -> Path:
    """Tones of ``amp`` amplitude, one after the other in equal parts of ``seconds``."""
    parts = []
    each = int(seconds * FS) // len(freqs)
    for f in freqs:
        t = np.arange(each) / FS
        parts.append(amp * np.sin(2 * np.pi * f * t))
    p = tmp / "tone.wav"
    sf.write(p, np.concatenate(parts).astype(np.float32), FS, subtype="FLOAT")
    return p


def bin_hz(k: int) -> float:
    """Centre of bin k (fft 1024) in Hz."""
    return k * FS / N


def brightest_rows(img: Image.Image) -> np.ndarray:
    """Row (0 = top) of the largest grey value in each column."""
    return np.asarray(img.convert("L")).argmax(axis=0)


def test_full_resolution_geometry_orientation_and_level(tmp_path):
    src = tone_file(tmp_path, [bin_hz(40)])
    out = tmp_path / "x.png"
    argv = [
        str(src),
        "-o",
        str(out),
        "--fft",
        str(N),
        "--hop",
        str(HOP),
        "--gray",
        "--size",
        "native",
    ]
    assert export([*argv, "--db-min", "-100", "--db-max", "0"]) == 0
    img = Image.open(out)
    frames = 1 + (FS - N) // HOP
    assert img.size == (frames, BINS) and img.mode == "L"
    rows = brightest_rows(img)
    assert np.all(rows == BINS - 1 - 40)  # low frequencies at the bottom
    # A bin-centred 0.5 sine reads -6.02 dBFS: grey round(255 * 93.98 / 100) = 240.
    assert int(np.median(np.asarray(img)[BINS - 1 - 40])) == 240


def test_colormap_pixels(tmp_path):
    src = tone_file(tmp_path, [bin_hz(40)])
    out = tmp_path / "x.png"
    argv = [str(src), "-o", str(out), "--fft", str(N), "--hop", str(HOP), "--size", "native"]
    assert export([*argv, "--db-min", "-100", "--db-max", "0", "--colormap", "magma"]) == 0
    img = Image.open(out)
    assert img.mode == "RGB"
    px = np.asarray(img)[BINS - 1 - 40, 1]
    assert tuple(px) == tuple(colour_table("magma")[240])


def test_time_runs_left_to_right(tmp_path):
    src = tone_file(tmp_path, [bin_hz(100), bin_hz(20)], seconds=2.0)
    out = tmp_path / "x.png"
    argv = [str(src), "-o", str(out), "--fft", str(N), "--hop", str(HOP), "--gray"]
    assert export([*argv, "--size", "native"]) == 0
    rows = brightest_rows(Image.open(out))
    w = rows.size
    assert np.all(rows[: w // 2 - 4] == BINS - 1 - 100)  # first half: the higher tone
    assert np.all(rows[w // 2 + 4 :] == BINS - 1 - 20)  # second half: lower, nearer the bottom


def test_size_resamples(tmp_path):
    src = tone_file(tmp_path, [bin_hz(300)])
    out = tmp_path / "x.png"
    argv = [str(src), "-o", str(out), "--fft", str(N), "--hop", str(HOP), "--gray"]
    assert export([*argv, "--size", "512x256"]) == 0
    img = Image.open(out)
    assert img.size == (512, 256)
    # Pillow maps pixel centres: bin 300 (row 212 of 513 from the top) -> 256/513 scale.
    expected = (BINS - 1 - 300 + 0.5) * 256 / BINS - 0.5
    assert np.all(np.abs(brightest_rows(img) - expected) <= 1.0)


def test_log_scale_rows(tmp_path):
    h = 200
    for f in (bin_hz(10), bin_hz(100), bin_hz(400)):
        src = tone_file(tmp_path, [f])
        out = tmp_path / "log.png"
        argv = [str(src), "-o", str(out), "--fft", str(N), "--hop", str(HOP), "--gray"]
        assert export([*argv, "--scale", "log", "--size", f"300x{h}", "--force"]) == 0
        img = Image.open(out)
        assert img.size == (300, h)
        # The log array's bands: 12 per octave from 20 Hz, whole bands below Nyquist.
        bands = math.floor(12 * math.log2(FS / 2 / 20.0) + 1e-9)
        f_lo, f_hi = 20.0, 20.0 * 2 ** (bands / 12)
        expected = h * (1 - math.log(f / f_lo) / math.log(f_hi / f_lo))  # pixel edge coords
        assert np.all(np.abs(brightest_rows(img) + 0.5 - expected) <= 1.5)


def test_mel_scale_rows(tmp_path):
    import librosa  # a test dependency (pyproject [test])

    n_mels = 64
    for f in (500.0, 3000.0, 12000.0):
        src = tone_file(tmp_path, [f])
        out = tmp_path / "mel.png"
        argv = [str(src), "-o", str(out), "--fft", "2048", "--hop", "512", "--gray", "--force"]
        assert export([*argv, "--scale", "mel", "--n-mels", str(n_mels)]) == 0
        img = Image.open(out)
        assert img.size[1] == n_mels
        m = librosa.hz_to_mel(np.array([0.0, f, FS / 2]))
        band = (m[1] - m[0]) / ((m[2] - m[0]) / (n_mels + 1)) - 1  # fractional band index
        rows = brightest_rows(img)
        assert np.all(np.abs((n_mels - 1 - rows) - band) <= 1.0)


def test_top_db_colour_range(tmp_path):
    src = tone_file(tmp_path, [bin_hz(40)])
    out = tmp_path / "x.png"
    argv = [str(src), "-o", str(out), "--fft", str(N), "--hop", str(HOP), "--gray"]
    assert export([*argv, "--top-db", "50", "--size", "native"]) == 0
    a = np.asarray(Image.open(out))
    assert a.max() == 255  # the loudest value is the top of the range
    assert a.min() == 0  # everything 50 dB below it or less is the bottom
    assert a[BINS - 1 - 40].min() == 255  # the tone is the loudest row in every column


def test_like_torchaudio_image_spans_the_data(tmp_path):
    src = tone_file(tmp_path, [1000.0], seconds=0.5)
    out = tmp_path / "x.png"
    assert export([str(src), "-o", str(out), "--like", "torchaudio", "--gray"]) == 0
    a = np.asarray(Image.open(out))
    assert a.shape == (201, 1 + (FS // 2) // 200)
    assert a.max() == 255 and a.min() == 0  # no top_db: the data's min..max


def test_clip_names_count_and_content(tmp_path):
    # 12 s: 5 s at bin 50, 5 s at bin 150, 2 s at bin 250.
    t = np.arange(12 * FS) / FS
    f = np.where(t < 5, bin_hz(50), np.where(t < 10, bin_hz(150), bin_hz(250)))
    x = 0.5 * np.sin(2 * np.pi * np.cumsum(f) / FS)
    src = tmp_path / "birds.wav"
    sf.write(src, x.astype(np.float32), FS, subtype="FLOAT")
    outdir = tmp_path / "out"
    argv = [str(src), "-o", str(outdir), "--fft", str(N), "--hop", str(HOP), "--gray"]
    assert export([*argv, "--clip", "5", "--size", "512x512"]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["birds_10.png", "birds_5.png"]
    for name, k in (("birds_5.png", 50), ("birds_10.png", 150)):
        img = Image.open(outdir / name)
        assert img.size == (512, 512)
        expected = (BINS - 1 - k + 0.5) * 512 / BINS - 0.5
        rows = brightest_rows(img)[4:-4]  # clip edges see the neighbouring tone's onset
        assert np.all(np.abs(rows - expected) <= 1.0)
    assert (
        export([*argv, "--clip", "5", "--keep-partial", "--png", "--npy", "--size", "native"]) == 0
    )
    names = sorted(p.name for p in outdir.iterdir())
    assert names == [
        "birds_10.npy", "birds_10.png", "birds_15.npy", "birds_15.png", "birds_5.npy",
        "birds_5.png",
    ]  # fmt: skip
    # Existing PNGs were skipped; the partial clip has 2 s of frames.
    assert np.load(outdir / "birds_15.npy").shape == (1 + (2 * FS - N) // HOP, BINS)
    assert np.load(outdir / "birds_5.npy").shape == (1 + (5 * FS - N) // HOP, BINS)
    assert Image.open(outdir / "birds_15.png").size == (1 + (2 * FS - N) // HOP, BINS)
    # Fractional clip lengths name clips by their end second.
    out2 = tmp_path / "o2"
    argv2 = [str(src), "-o", str(out2), "--fft", str(N), "--hop", str(HOP), "--clip", "2.5"]
    assert export(argv2) == 0
    assert sorted(p.name for p in out2.iterdir()) == sorted(
        f"birds_{s}.png" for s in ("2.5", "5", "7.5", "10")
    )


def test_file_shorter_than_a_clip(tmp_path, capsys):
    src = tone_file(tmp_path, [1000.0], seconds=0.5)
    assert export([str(src), "-o", str(tmp_path / "out"), "--fft", str(N), "--clip", "1"]) == 0
    assert not (tmp_path / "out").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "livespec: export: 1 input: 0 files written, 1 file shorter than one clip "
        "(no output), 0 failed"
    ]


def test_clip_named_file_output(tmp_path):
    src = tone_file(tmp_path, [1000.0], seconds=3.0)
    out = tmp_path / "spec.png"
    assert export([str(src), "-o", str(out), "--fft", str(N), "--clip", "1"]) == 0
    assert sorted(p.name for p in tmp_path.glob("spec*")) == [
        "spec_1.png", "spec_2.png", "spec_3.png",
    ]  # fmt: skip


def test_axes_figure_contains_the_plot(tmp_path):
    src = tone_file(tmp_path, [bin_hz(40)])
    plain = tmp_path / "plain.png"
    fig = tmp_path / "fig.png"
    argv = [str(src), "--fft", str(N), "--hop", str(HOP), "--size", "400x300"]
    assert export([*argv, "-o", str(plain)]) == 0
    assert export([*argv, "-o", str(fig), "--axes"]) == 0
    p = np.asarray(Image.open(plain))
    f = np.asarray(Image.open(fig))
    assert f.shape[0] > 300 + 30 and f.shape[1] > 400 + 60
    # The plot appears unchanged inside the figure, exactly once.
    hits = [
        (y, x)
        for y in range(f.shape[0] - 300 + 1)
        for x in range(f.shape[1] - 400 + 1)
        if np.array_equal(f[y, x : x + 4], p[0, :4])
        and np.array_equal(f[y : y + 300, x : x + 400], p)
    ]
    assert len(hits) == 1
    y, x = hits[0]
    assert x > 30 and y > 10  # room for labels at the left and a title above
    border = f[y - 1, x : x + 400]
    assert np.all(border == 0)  # a black frame around the plot


def test_axes_figure_of_a_short_input_has_a_readable_plot(tmp_path):
    """Without --size, --axes stretches a short input's plot to 640 columns and cuts its
    many rows down to half the width; the tone stays on its row. A plain PNG (no --axes)
    with --size native keeps one column per frame and one row per bin."""
    src = tone_file(tmp_path, [6000.0], seconds=0.3)
    argv = [str(src), "--fft", str(N), "--hop", str(HOP)]
    plain, fig = tmp_path / "plain.png", tmp_path / "fig.png"
    assert export([*argv, "-o", str(plain), "--size", "native"]) == 0
    assert export([*argv, "-o", str(fig), "--axes"]) == 0
    frames = 1 + (int(0.3 * FS) - N) // HOP
    assert Image.open(plain).size == (frames, BINS)
    f = np.asarray(Image.open(fig).convert("L")).astype(int)
    # the plot: the largest block framed in black (0) that is at least 600 wide
    w, h = Image.open(fig).size
    assert 640 < w < 640 + 200 and 320 < h < 320 + 120
    cols = np.flatnonzero((f == 0).sum(axis=0) > 300)  # the frame's vertical sides
    assert cols.size >= 2 and cols[-1] - cols[0] - 1 >= 640
    rows = np.flatnonzero((f == 0).sum(axis=1) > 600)  # its top and bottom
    plot_h = rows[-1] - rows[0] - 1
    assert plot_h == 320
    # the 6 kHz tone: the brightest row, 6/24 of the way up from the bottom
    inside = f[rows[0] + 1 : rows[-1], cols[0] + 1 : cols[-1]]
    y = int(np.argmax(inside.mean(axis=1)))
    assert abs((plot_h - 1 - y) / plot_h - 6000 / 24000) < 0.02


def test_nice_ticks():
    assert nice_ticks(0, 24000, 6) == [0, 5000, 10000, 15000, 20000]
    assert nice_ticks(-120, 0, 6) == [-120, -100, -80, -60, -40, -20, 0]
    assert nice_ticks(0.01, 4.99, 5) == [1, 2, 3, 4]


def test_default_size_is_800_wide_and_at_most_400_high(tmp_path, capsys):
    """Without --size (nor --like, --axes) a PNG is 800 x min(rows, 400) pixels: the same
    image as --size 800x400 (rows resampled, a short input stretched), the tone on its row."""
    src = tone_file(tmp_path, [bin_hz(40)])
    argv = [str(src), "--fft", str(N), "--hop", str(HOP), "--gray"]
    default, sized = tmp_path / "d.png", tmp_path / "s.png"
    assert export([*argv, "-o", str(default)]) == 0
    assert export([*argv, "-o", str(sized), "--size", "800x400"]) == 0
    img = Image.open(default)
    assert img.size == (800, 400)
    assert np.array_equal(np.asarray(img), np.asarray(Image.open(sized)))
    expected = (BINS - 1 - 40 + 0.5) * 400 / BINS - 0.5  # bilinear: pixel centres scaled
    assert np.all(np.abs(brightest_rows(img)[4:-4] - expected) <= 1.0)
    # Fewer rows than 400 are kept: --fft 256 gives 129 rows.
    small = tmp_path / "small.png"
    assert export([str(src), "--fft", "256", "-o", str(small)]) == 0
    assert Image.open(small).size == (800, 129)
    assert "levels shown as" not in capsys.readouterr().err


def test_levels_transposed_by_two_threads_give_the_same_image(monkeypatch):
    import pytest

    from livespec.export import image
    from livespec.export.convention import DEFAULT_CONVENTION, ImageConvention

    rng = np.random.default_rng(4)
    levels = rng.uniform(-140.0, 10.0, (1000, 301)).astype(np.float32)  # (time, rows)
    for origin in ("lower", "upper"):
        conv = ImageConvention(**{**DEFAULT_CONVENTION.__dict__, "origin": origin})
        got = {}
        for limit in (1, 1 << 40):  # two threads, one
            monkeypatch.setattr(image, "PARALLEL_VALUES", limit)
            got[limit] = image.plot_index([levels.copy()], -120.0, 0.0, (250, 100), conv)
        assert got[1][1] is False and got[1][0].shape == (100, 250)
        np.testing.assert_array_equal(got[1][0], got[1 << 40][0])
        # and the transposition itself: clamped levels, rows reversed for "lower"
        v = np.empty((301, 1000), dtype=np.float32)
        part = functools.partial(image._clip_transposed, levels, v, -120.0, 0.0, origin == "lower")
        image._on_two_threads(part, (0, 448), (448, 1000))
        want = np.clip(levels.T, -120.0, 0.0)
        np.testing.assert_array_equal(v, want[::-1] if origin == "lower" else want)

    def fails_there(a: int, b: int) -> None:
        if a:
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):  # an error on the helper thread reaches the caller
        image._on_two_threads(fails_there, (0, 1), (1, 2))
