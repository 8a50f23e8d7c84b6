"""``livespec export -o x.html`` and ``-o x.svg`` without a browser: what the files hold,
their size bounds, the hover data against numpy, bad overlay/label input (one line, exit
2), options that do not apply, and the notebook's ``_repr_html_`` (issues #13 and #15).
The browser checks are in tests/test_html_player.py."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import livespec
from livespec.dsp.scales import FreqScale
from livespec.export.html import MAX_LEVELS, STEP_DB, LevelPool, row_centres

EXPORT = [sys.executable, "-m", "livespec", "export"]
FS = 16000


def _tone_file(path: Path, seconds: float = 6.0, f: float = 1000.0, amp: float = 0.5) -> Path:
    t = np.arange(int(seconds * FS)) / FS
    sf.write(path, (amp * np.sin(2 * np.pi * f * t)).astype(np.float32), FS, subtype="FLOAT")
    return path


def _config(page: str) -> dict:
    m = re.search(r'<script type="application/json" class="lsp-config">(.*?)</script>', page, re.S)
    assert m is not None
    cfg: dict = json.loads(m.group(1))
    return cfg


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXPORT, *args], capture_output=True, text=True, timeout=120)


def test_html_page_is_self_contained_and_holds_the_levels(tmp_path: Path) -> None:
    wav = _tone_file(tmp_path / "a.wav")
    out = tmp_path / "a.html"
    done = _run(str(wav), "-o", str(out), "--fft", "1024", "--hop", "256")
    assert done.returncode == 0, done.stderr
    page = out.read_text("utf-8")
    # No network: every src/href is a data: URL (the audio is embedded as FLAC).
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and all(r.startswith("data:") for r in refs), refs
    assert "http://" not in page and "https://" not in page
    assert 'type="audio/flac"' in page and "<canvas" in page
    cfg = _config(page)
    lev = cfg["levels"]
    q = np.frombuffer(base64.b64decode(lev["data"]), np.uint8).reshape(lev["cols"], lev["rows"])
    # The same levels as the NPY export, max-pooled (here not pooled), 0.5 dB steps.
    npy = tmp_path / "a.npy"
    assert _run(str(wav), "-o", str(npy), "--fft", "1024", "--hop", "256").returncode == 0
    ref = np.load(npy)
    assert lev["group"] == 1 and q.shape == ref.shape
    got = lev["lo"] + q * lev["step"]
    above = ref > lev["lo"]
    np.testing.assert_allclose(got[above], ref[above], atol=STEP_DB / 2 + 1e-4)
    np.testing.assert_allclose(lev["freqs"], np.arange(513) * FS / 1024, atol=1e-3)
    hop_s = 256 / FS
    assert cfg["t_left"] == pytest.approx(512 / FS - hop_s / 2)
    assert lev["frame_dt"] == pytest.approx(hop_s)


def test_level_pool_keeps_the_loudest_value_of_each_run() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(-60, 10, size=(1003, 40)).astype(np.float32)
    pool = LevelPool(1003, 40, cap=40 * 100)
    for k in range(0, 1003, 37):  # batches that do not line up with the groups
        pool.add(a[k : k + 37])
    g = pool.group
    assert g == 11 and pool.cols == 92
    want = np.stack([a[i : i + g].max(axis=0) for i in range(0, 1003, g)])
    np.testing.assert_array_equal(pool.result(), want)


def test_hover_data_is_bounded_for_a_long_input(tmp_path: Path) -> None:
    long = tmp_path / "long.wav"
    rng = np.random.default_rng(2)
    sf.write(long, (0.1 * rng.standard_normal(FS * 600)).astype(np.float32), FS)  # 10 min
    out = tmp_path / "long.html"
    done = _run(str(long), "-o", str(out), "--audio", "none")
    assert done.returncode == 0, done.stderr
    lev = _config(out.read_text("utf-8"))["levels"]
    assert lev["cols"] * lev["rows"] <= MAX_LEVELS and lev["group"] > 1
    assert f"loudest level of each run of {lev['group']} frames" in out.read_text("utf-8")
    assert out.stat().st_size < 4_000_000


def test_row_centres_match_the_scales() -> None:
    lin = FreqScale("linear", 513, 0.0, 8000.0)
    np.testing.assert_allclose(row_centres(lin), np.linspace(0, 8000, 513))
    log = FreqScale("log", 100, 20.0, 8000.0)
    c = row_centres(log)
    np.testing.assert_allclose(log.index(c), np.arange(100), atol=1e-9)
    mel = FreqScale("mel", 64, 0.0, 8000.0)
    np.testing.assert_allclose(mel.index(row_centres(mel)), np.arange(64), atol=1e-9)


def test_svg_figure_is_vector_with_the_plot_embedded(tmp_path: Path) -> None:
    wav = _tone_file(tmp_path / "b.wav")
    curve = tmp_path / "c.csv"
    curve.write_text("time_s,value\n1,1000\n2,1200\n3,\n4,900\n")
    labels = tmp_path / "l.txt"
    labels.write_text("1.000000\t2.500000\tspeech\n")
    out = tmp_path / "b.svg"
    done = _run(str(wav), "-o", str(out), "--overlay", str(curve), "--labels", str(labels))
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    texts = [t.text for t in root.iterfind(".//s:text", ns)]
    assert "b.wav" in texts and "Time (s)" in texts and "dBFS" in texts and "speech" in texts
    assert "Frequency (kHz)" in texts and "-120" in texts and "0" in texts
    images = root.findall(".//s:image", ns)
    assert len(images) == 1 and images[0].get("href", "").startswith("data:image/png;base64,")
    assert root.find(".//s:linearGradient", ns) is not None
    assert len(root.findall(".//s:polyline", ns)) == 2  # the gap splits the curve


@pytest.mark.parametrize(
    ("files", "args", "expect"),
    [
        ({}, ["--overlay", "{d}/missing.csv"], r"missing\.csv: No such file"),
        ({"w.csv": "time_s,value\n0,100\n1,200,Hz,x\n"}, ["--overlay", "{d}/w.csv"], r"w\.csv:3: "),
        ({"u.csv": "0,100,kHz\n"}, ["--overlay", "{d}/u.csv"], r"u\.csv:1: unit 'kHz'"),
        ({"l.txt": "1.0\t2.0\tok\nbad line\n"}, ["--labels", "{d}/l.txt"], r"l\.txt:2: "),
        ({"l.txt": "3.0\t2.0\tx\n"}, ["--labels", "{d}/l.txt"], r"l\.txt:1: end 2 s is before"),
    ],
)
def test_bad_overlay_and_label_files_end_in_one_line(
    tmp_path: Path, files: dict[str, str], args: list[str], expect: str
) -> None:
    wav = _tone_file(tmp_path / "a.wav", seconds=1.0)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    argv = [a.format(d=tmp_path) for a in args]
    done = _run(str(wav), "-o", str(tmp_path / "a.html"), *argv)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(expect, lines[0]), done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "a.html").exists()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["-o", "{d}/a.png", "--audio", "link"], "--audio applies to an HTML page"),
        (["-o", "{d}/a.npy", "--labels", "{d}/l.txt"], "--labels applies to .html and .svg"),
        (["-o", "{d}/a.svg", "--audio", "none"], "--audio applies to an HTML page"),
        (
            ["-o", "{d}/a.html", "--size", "100x100"],
            "--size does not apply here: it needs a .png or .svg",
        ),
    ],
)
def test_options_that_do_not_apply_are_refused(
    tmp_path: Path, args: list[str], expect: str
) -> None:
    wav = _tone_file(tmp_path / "a.wav", seconds=1.0)
    (tmp_path / "l.txt").write_text("0\t1\tx\n")
    done = _run(str(wav), *[a.format(d=tmp_path) for a in args])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"livespec: export: {expect}"] or (
        len(done.stderr.strip().splitlines()) == 1 and expect in done.stderr
    ), done.stderr


def test_audio_link_points_at_the_input_relatively(tmp_path: Path) -> None:
    (tmp_path / "in dir").mkdir()
    wav = _tone_file(tmp_path / "in dir" / "a b.wav", seconds=1.0)
    out = tmp_path / "pages" / "a.html"
    out.parent.mkdir()
    assert _run(str(wav), "-o", str(out), "--audio", "link").returncode == 0
    assert '<source src="../in%20dir/a%20b.wav" type="audio/wav">' in out.read_text("utf-8")


def test_a_page_from_stdin_embeds_its_audio_and_refuses_a_link(tmp_path: Path) -> None:
    """``export - -o x.html`` embeds the audio as from a file (it said "The audio could not
    be embedded: Error opening '-'", and was titled "-"); stdin has no file to link to:
    ``--audio link`` wrote ``<source src="-">``, now a usage error, nothing written."""
    wav = _tone_file(tmp_path / "a.wav", seconds=1.0)
    out = tmp_path / "a.html"
    done = subprocess.run(
        [*EXPORT, "-", "-o", str(out), "--audio", "link"],
        input=wav.read_bytes(), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "livespec: --audio link: stdin is no file to link to; use embed or none"
    ]
    assert not out.exists()
    done = subprocess.run(
        [*EXPORT, "-", "-o", str(out)],
        input=wav.read_bytes(), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text("utf-8")
    assert "<title>stdin</title>" in page and "not be embedded" not in page
    (url,) = re.findall(r'<source src="data:audio/flac;base64,([^"]+)" type="audio/flac">', page)
    heard, fs = sf.read(io.BytesIO(base64.b64decode(url)), dtype="float32")
    assert fs == FS
    # (FLAC 16-bit: the float input to within a step)
    np.testing.assert_allclose(heard, sf.read(wav, dtype="float32")[0], atol=2**-15)


def test_notebook_shows_the_player_with_its_audio_under_a_bound() -> None:
    y = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(FS * 30) / FS)
    s = livespec.spectrogram(y, FS)
    page = s._repr_html_()
    assert page is not None
    assert page.startswith('<div class="lsp-player" id="lsp-') and "<html" not in page
    assert page.count("<audio") == 1 and 'type="audio/flac"' in page
    assert 'src="data:image/png;base64,' in page
    assert len(page) < 3_000_000  # 30 s of a tone: image, levels and FLAC
    ids = re.findall(r'id="(lsp-[0-9a-f]+)"', page)
    again = s._repr_html_()
    assert again is not None and ids and ids[0] not in again  # two cells, two players
    # The embedded audio is the signal (FLAC, 16 bit).
    m = re.search(r'src="data:audio/flac;base64,([^"]+)"', page)
    assert m is not None
    import io

    back, fs = sf.read(io.BytesIO(base64.b64decode(m.group(1))))
    assert fs == FS and np.max(np.abs(back - y)) < 1e-4


@pytest.mark.parametrize("scale", ["linear", "log", "mel", "cqt"])
def test_notebook_player_is_the_export_page_for_every_scale(tmp_path: Path, scale: str) -> None:
    # The notebook's player of log bands and CQT bins raised IndexError (it took their rows
    # for FFT bins); its page must be the export's: the same levels, axes and times.
    wav = _tone_file(tmp_path / "a.wav", seconds=2.0)
    assert _run(str(wav), "-o", str(tmp_path / "a.html"), "--scale", scale).returncode == 0
    page = livespec.spectrogram(wav, scale=scale)._repr_html_()
    assert page is not None
    want, got = _config((tmp_path / "a.html").read_text("utf-8")), _config(page)
    assert want.pop("title") == "a.wav" and got.pop("title") == ""
    for key in ("t_left", "t_right"):  # s, computed in another order
        assert got.pop(key) == pytest.approx(want.pop(key), abs=1e-9)
    assert got == want


def test_notebook_without_audio_falls_back_to_the_png(tmp_path: Path) -> None:
    wav = _tone_file(tmp_path / "a.wav", seconds=1.0)
    with open(wav, "rb") as f:
        s = livespec.spectrogram(f)
    assert s._repr_html_() is None
    assert s._repr_png_().startswith(b"\x89PNG")


def test_a_clip_page_plays_its_own_audio_at_the_clip_times(tmp_path: Path) -> None:
    wav = _tone_file(tmp_path / "a.wav", seconds=4.0)
    assert _run(str(wav), "-o", str(tmp_path / "a.html"), "--clip", "2").returncode == 0
    cfg = _config((tmp_path / "a_4.html").read_text("utf-8"))
    assert cfg["audio_offset"] == 2.0 and 2.0 < cfg["t_left"] < 2.2 < 3.8 < cfg["t_right"] <= 4.0
    assert cfg["title"] == "a.wav  2-4 s"


def test_level_overlays_get_their_own_axis() -> None:
    from livespec.annotate.curves import parse_curve
    from livespec.export.figure import level_range, place_curves

    hz = parse_curve("0,1000\n1,2000\n", "f.csv")
    db = parse_curve("0,-30,dB\n1,-12,dB\n2,,dB\n", "l.csv")
    lo, hi = level_range([hz, db]) or (0.0, 0.0)
    assert lo <= -30 and hi >= -12 and (lo, hi) == (-30.0, -10.0)
    scale = FreqScale("linear", 513, 0.0, 8000.0)
    f_curve, l_curve = place_curves([hz, db], scale, 100)
    np.testing.assert_allclose(f_curve.y, scale.y_of(np.array([1000.0, 2000.0]), 100), atol=1e-3)
    assert l_curve.y[:2] == [pytest.approx(100.0), pytest.approx(10.0)]
    assert l_curve.y[2] != l_curve.y[2]  # the gap stays a gap (NaN)
    assert f_curve.colour != l_curve.colour


def test_a_mel_page_reads_the_mel_bands(tmp_path: Path) -> None:
    wav = _tone_file(tmp_path / "m.wav", seconds=2.0)
    out = tmp_path / "m.html"
    assert _run(str(wav), "-o", str(out), "--scale", "mel", "--n-mels", "64").returncode == 0
    cfg = _config(out.read_text("utf-8"))
    s = livespec.spectrogram(str(wav), scale="mel", n_mels=64)
    assert cfg["levels"]["rows"] == 64 and cfg["freq_name"] == "Frequency (kHz, mel scale)"
    np.testing.assert_allclose(cfg["levels"]["freqs"], s.freqs, atol=1e-3)
