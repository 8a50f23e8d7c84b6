"""livespec export's outputs say what they are (issue #14, item 4): the format follows the
extension, an unknown one is an error (never a folder), colliding names keep both files,
skipped outputs are counted, ``export -`` reads stdin, a long input gives a capped image;
and every option that does not apply to the outputs is refused with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from support.cli import export

from livespec.export.applies import RULES
from livespec.export.writers import MAX_WIDTH

FS = 16000
EXPORT = [sys.executable, "-m", "livespec", "export"]


def tone(seconds: float = 1.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * FS)) / FS)).astype(np.float32)


def lines_of(err: str) -> list[str]:
    return [s for s in err.splitlines() if s.strip()]


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    p = tmp_path / "a.wav"
    sf.write(p, tone(), FS)
    return p


# -- extensions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fig.jpg", "unknown output format .jpg (known: .png, .npy, .csv, .html, .svg; "
         "a folder's name has no extension, or ends in /)"),
        ("v1.5", "unknown output format .5 (known: .png, .npy, .csv, .html, .svg; "
         "a folder's name has no extension, or ends in /)"),
    ],
)  # fmt: skip
def test_unknown_or_unsupported_extension_is_refused_never_a_folder(
    tmp_path, wav, capsys, name, message
):
    out = tmp_path / name
    assert export([str(wav), "-o", str(out)]) == 2
    assert lines_of(capsys.readouterr().err) == [f"livespec: -o {out}: {message}"]
    assert not out.exists()


def test_dash_as_the_output_is_refused_not_a_folder_named_dash(tmp_path, wav, capsys, monkeypatch):
    """``-o -`` (stdout, as in many tools) made a folder named "-" and wrote into it; export
    writes files only: a usage error, nothing written. A folder that is named "-" already
    is still a folder (``-o NAME`` of an existing folder)."""
    monkeypatch.chdir(tmp_path)
    assert export([str(wav), "-o", "-"]) == 2
    assert lines_of(capsys.readouterr().err) == [
        "livespec: -o -: export writes files, not stdout; -o FILE (.png, .npy, .csv, .html, "
        ".svg) or FOLDER/"
    ]
    assert not (tmp_path / "-").exists()
    (tmp_path / "-").mkdir()
    assert export([str(wav), "-o", "-"]) == 0
    assert (tmp_path / "-" / "a.png").is_file()


def test_folders_are_named_without_extension_or_with_a_slash(tmp_path, wav):
    assert export([str(wav), "-o", str(tmp_path / "plain")]) == 0
    assert (tmp_path / "plain" / "a.png").is_file()
    assert export([str(wav), "-o", str(tmp_path / "v1.5") + "/"]) == 0
    assert (tmp_path / "v1.5" / "a.png").is_file()
    (tmp_path / "exists.d").mkdir()
    assert export([str(wav), "-o", str(tmp_path / "exists.d"), "--npy"]) == 0
    assert (tmp_path / "exists.d" / "a.npy").is_file()


# -- names in a folder ---------------------------------------------------------------------


def test_colliding_stems_keep_both_files(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "sweep.wav", tone(), FS)
    sf.write(src / "sweep.flac", 0.5 * tone(), FS)
    sf.write(src / "other.wav", tone(), FS)
    out = tmp_path / "out"
    assert export([str(src), "-o", str(out), "--npy", "--jobs", "1"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["other.npy", "sweep.flac.npy", "sweep.wav.npy"]
    a, b = np.load(out / "sweep.wav.npy"), np.load(out / "sweep.flac.npy")
    np.testing.assert_allclose(a.max() - b.max(), 20 * np.log10(2), atol=0.01)  # each its own
    # With clips the whole name is kept too: sweep.wav_1.npy.
    assert export([str(src), "-o", str(tmp_path / "clips"), "--npy", "--clip", "1"]) == 0
    assert (tmp_path / "clips" / "sweep.wav_1.npy").is_file()


# -- the summary ---------------------------------------------------------------------------


def test_skipped_outputs_are_counted_and_the_status_is_0(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for k in range(3):
        sf.write(src / f"f{k}.wav", tone(), FS)
    out = tmp_path / "out"
    argv = [str(src), "-o", str(out), "--png", "--npy", "--jobs", "1"]
    assert export(argv) == 0
    assert lines_of(capsys.readouterr().err) == [
        "livespec: export: 3 inputs: 6 files written, 0 failed"
    ]
    (out / "f1.npy").unlink()
    assert export(argv) == 0
    assert lines_of(capsys.readouterr().err) == [
        "livespec: export: 3 inputs: 1 file written, 5 skipped (exist; --force to redo), 0 failed"
    ]
    # One input whose output exists: said, status 0.
    one = [str(src / "f0.wav"), "-o", str(out / "f0.png")]
    assert export(one) == 0
    assert lines_of(capsys.readouterr().err) == [
        "livespec: export: 1 input: 0 files written, 1 skipped (exists; --force to redo), 0 failed"
    ]


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
def test_an_output_file_that_is_a_folder_fails_the_input(tmp_path, capsys, force):
    """``--npy d.npy`` where d.npy is a folder was counted as an existing output (skipped,
    status 0: nothing written, success reported); now the input fails in one line, with or
    without --force, and the folder is left as it was. A folder of inputs carries on."""
    sf.write(tmp_path / "a.wav", tone(), FS)
    sf.write(tmp_path / "b.wav", tone(), FS)
    (tmp_path / "d.npy").mkdir()
    (tmp_path / "d.npy" / "keep.txt").write_text("mine")
    assert export([str(tmp_path / "a.wav"), "--npy", str(tmp_path / "d.npy"), *force]) == 1
    assert lines_of(capsys.readouterr().err) == [
        f"livespec: {tmp_path / 'a.wav'}: the output {tmp_path / 'd.npy'} is a folder, not a file"
    ]
    assert [p.name for p in (tmp_path / "d.npy").iterdir()] == ["keep.txt"]
    out = tmp_path / "out"
    (out / "a.png").mkdir(parents=True)
    argv = [str(tmp_path / "a.wav"), str(tmp_path / "b.wav"), "-o", str(out), "--jobs", "1"]
    assert export([*argv, *force]) == 1
    assert lines_of(capsys.readouterr().err) == [
        f"livespec: {tmp_path / 'a.wav'}: the output {out / 'a.png'} is a folder, not a file",
        "livespec: export: 2 inputs: 1 file written, 1 failed",
    ]
    assert (out / "b.png").is_file() and not any((out / "a.png").iterdir())


def test_an_output_folder_that_is_a_file_is_named_in_the_line(tmp_path, capsys):
    """``-o notes.txt/x.npy`` (a file where a folder must be made) said "File exists
    (notes.txt)" or "Not a directory (notes.txt/sub)"; now the line names the file."""
    sf.write(tmp_path / "a.wav", tone(), FS)
    (tmp_path / "notes.txt").write_text("mine")
    for out, why in [
        ("notes.txt/x.npy", "cannot make the folder {d}/notes.txt: a file has that name"),
        (
            "notes.txt/sub/x.png",
            "cannot make the folder {d}/notes.txt/sub: {d}/notes.txt is a file",
        ),
    ]:
        assert export([str(tmp_path / "a.wav"), "-o", str(tmp_path / out)]) == 1
        assert lines_of(capsys.readouterr().err) == [
            f"livespec: {tmp_path / 'a.wav'}: " + why.format(d=tmp_path)
        ]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_long_but_valid_name_is_exported(tmp_path, capsys):
    """A 240-character input name gives 244-character outputs (Linux allows 255 bytes), but
    their temporary files (``.NAME.livespec-PID-XXXXXXXX.part``, 30 bytes more) did not
    fit: "File name too long". The temporary name is cut short instead."""
    name = "a" * 120 + "é" * 60  # 240 bytes in UTF-8: the cut falls between characters
    src = tmp_path / f"{name}.wav"
    sf.write(src, tone(), FS)
    out = tmp_path / "out"
    assert export([str(src), "-o", str(out), "--png", "--npy", "--csv"]) == 0, capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.{x}" for x in ("csv", "npy", "png")]
    assert np.load(out / f"{name}.npy").shape == (1 + (FS - 4096) // 1024, 2049)


# -- stdin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "subtype"), [("WAV", "PCM_16"), ("FLAC", "PCM_16"), ("OGG", "VORBIS")]
)
def test_export_reads_stdin(tmp_path, fmt, subtype):
    p = tmp_path / f"in.{fmt.lower()}"
    sf.write(p, tone(2.0), FS, format=fmt, subtype=subtype)
    out = tmp_path / "s.npy"
    with open(p, "rb") as f:
        done = subprocess.run(
            [*EXPORT, "-", "-o", str(out), "--fft", "512"],
            stdin=f, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    ref = tmp_path / "ref.npy"
    assert export([str(p), "-o", str(ref), "--fft", "512"]) == 0
    # The same numbers, but FFTW's measured plans may differ between the two processes in
    # the last bits (4 of 63479 values one float32 step apart near -170 dB, 1 run in 5).
    got, want = np.load(out), np.load(ref)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_stdin_needs_an_output_file_and_a_container(tmp_path):
    done = subprocess.run(
        [*EXPORT, "-", "-o", str(tmp_path / "folder")],
        input=b"", capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert lines_of(done.stderr.decode()) == [
        "livespec: export -: stdin has no name; give the output file: -o NAME.png|.npy|.csv"
    ]
    done = subprocess.run(
        [*EXPORT, "-", "-o", str(tmp_path / "x.npy")],
        input=b"\x00\x01" * 5000, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = lines_of(done.stderr.decode())
    assert "stdin: no WAV, FLAC or OGG header" in line


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "why"),
    [
        (24, "<I", 1_000_000_000, "the header says 1000000000 Hz; livespec reads 1..768000 Hz"),
        (22, "<H", 300, "the header says 300 channels; livespec reads 1..64"),
    ],
    ids=["rate-1e9", "channels-300"],
)
def test_a_stream_header_is_held_to_the_file_limits(tmp_path, wav, offset, fmt, value, why):
    """docs/cli.md: a file's or stream's declared rate and channels are limited (1..768000
    Hz, 1..64). A file was checked, stdin for export not: a 1e9 Hz stream was exported,
    a 300-channel one reported as "too short"."""
    import struct

    data = bytearray(wav.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    done = subprocess.run(
        [*EXPORT, "-", "-o", str(tmp_path / "x.npy")],
        input=bytes(data), capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = lines_of(done.stderr.decode())
    assert line.startswith(f"livespec: stdin: {why}"), line
    assert not (tmp_path / "x.npy").exists()


def test_stdin_at_a_terminal_is_refused_instead_of_waiting(tmp_path):
    """``export -`` with nothing piped in waited silently for the terminal (until Ctrl-D);
    like ``peaks --input -`` it now says how to pipe audio in, status 2."""
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [*EXPORT, "-", "-o", str(tmp_path / "x.npy")],
            stdin=follower, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert lines_of(done.stderr.decode()) == [
        "livespec: export - reads a WAV, FLAC, OGG or AIFF stream from stdin: pipe one in, "
        "e.g. sox in.mp3 -t flac - | livespec export - -o in.npy"
    ]
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b"\x00\x01" * 5000, "no WAV, FLAC or OGG header; export - reads WAV, FLAC, OGG or AIFF"),
        (b"fLaC" + bytes(range(256)) * 8, "cannot decode: "),
    ],
    ids=["no-header", "flac-garbage"],
)
def test_a_bad_stream_on_stdin_is_named_once(tmp_path: Path, data: bytes, cause: str) -> None:
    """The line names stdin once: ``livespec: stdin: CAUSE``, not ``stdin: stdin:``."""
    done = subprocess.run(
        [*EXPORT, "-", "-o", str(tmp_path / "x.npy")],
        input=data, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = lines_of(done.stderr.decode())
    assert line.startswith(f"livespec: stdin: {cause}"), line
    assert line.count("stdin") == 1, line
    assert not (tmp_path / "x.npy").exists()


# -- a long input without --size -------------------------------------------------------------


def test_long_input_image_is_capped_by_max_pooling(tmp_path, capsys):
    fs = 8000
    n = 64 * (2 * MAX_WIDTH + 100) + 256  # 8292 frames of hop 64: pooled by 3
    x = 0.01 * np.random.default_rng(2).standard_normal(n)
    click_frame = 5001
    x[click_frame * 64 + 100 : click_frame * 64 + 110] = 0.9  # one loud frame or two
    p = tmp_path / "long.wav"
    sf.write(p, x.astype(np.float32), fs, subtype="FLOAT")
    base = [str(p), "--fft", "256", "--hop", "64"]
    assert export([*base, "-o", str(tmp_path / "long.npy")]) == 0
    assert export([*base, "-o", str(tmp_path / "long.png"), "--gray", "--size", "native"]) == 0
    (line,) = lines_of(capsys.readouterr().err)
    frames = 1 + (n - 256) // 64
    g = -(-frames // MAX_WIDTH)
    w = -(-frames // g)
    assert line == (
        f"livespec: long.wav: {frames}x129 levels shown as a {w}x129 image (the loudest of {g} "
        "frames per pixel); --size WxH or --clip S for another shape"
    )
    img = np.asarray(Image.open(tmp_path / "long.png"), dtype=np.int16)
    assert img.shape == (129, w) and w <= MAX_WIDTH
    lv = np.load(tmp_path / "long.npy")
    pad = np.full((w * g - frames, 129), -np.inf, dtype=np.float32)
    pooled = np.vstack([lv, pad]).reshape(w, g, 129).max(axis=1)
    want = np.rint(np.clip((pooled - -120.0) * (255.0 / 120.0), 0, 255)).T[::-1]
    assert np.abs(img - want).max() <= 1
    # Max pooling keeps the click: its column is as loud as the full-resolution frame.
    col = click_frame // g
    assert img[:, col].max() >= want[:, col].max() - 1 and img[:, col].mean() > img.mean() + 20


def test_long_input_svg_is_capped_as_the_png_not_refused(tmp_path, capsys):
    """An SVG of an input too long for one pixel per frame (above 8 megapixels) gets a
    plot capped within MAX_WIDTH, with a note, as the PNG does; it used to be refused."""
    import base64
    import io
    import re

    fs = 8000
    frames = 16_100  # x 513 rows: 8.3 megapixels at full resolution
    n = 64 * (frames - 1) + 1024
    x = 0.01 * np.random.default_rng(3).standard_normal(n)
    p = tmp_path / "long.wav"
    sf.write(p, x.astype(np.float32), fs, subtype="FLOAT")
    out = tmp_path / "long.svg"
    assert export([str(p), "--fft", "1024", "--hop", "64", "-o", str(out)]) == 0
    (line,) = lines_of(capsys.readouterr().err)
    g = -(-frames // MAX_WIDTH)
    w = -(-frames // g)
    assert line.startswith(f"livespec: long.wav: {frames}x513 levels shown as a {w}x")
    m = re.search(r'<image [^>]*width="(\d+)" height="(\d+)"[^>]*base64,([^"]+)"', out.read_text())
    assert m is not None and int(m[1]) == w <= MAX_WIDTH
    img = Image.open(io.BytesIO(base64.b64decode(m[3])))
    assert img.size == (int(m[1]), int(m[2]))


# -- options that do not apply -----------------------------------------------------------------

REFUSED = [
    # (extra arguments, output, the option named in the one line)
    (["--colormap", "magma"], "x.npy", "--colormap"),
    (["--gray"], "x.csv", "--gray"),
    (["--axes"], "x.npy", "--axes"),
    (["--size", "64x64"], "x.npy", "--size"),
    (["--db-min", "-100"], "x.npy", "--db-min"),
    (["--db-max", "-10"], "x.csv", "--db-max"),
    (["--origin", "upper"], "x.npy", "--origin"),
    (["--quantize", "floor"], "x.npy", "--quantize"),
    (["--png-compress", "9"], "x.npy", "--png-compress"),
    (["--resize-filter", "lanczos"], "x.png", "--resize-filter"),
    (["--resize-filter", "lanczos", "--size", "9x9"], "x.npy", "--size"),
    (["--resize-on", "image"], "x.png", "--resize-on"),
    (["--colormap", "magma", "--gray"], "x.png", "--colormap"),
    (["--origin", "upper", "--axes"], "x.png", "--origin"),
    (["--csv-layout", "long"], "x.npy", "--csv-layout"),
    (["--n-mels", "64"], "x.npy", "--n-mels"),
    (["--pad-mode", "reflect"], "x.npy", "--pad-mode"),
    (["--keep-partial"], "x.npy", "--keep-partial"),
    (["--top-db", "80", "--log", "ln"], "x.npy", "--top-db"),
    (["--peaks", "3"], "x.npy", "--peaks"),
    (["--a4", "442"], "x.npy", "--a4"),
]


@pytest.mark.parametrize(("extra", "out", "flag"), REFUSED, ids=[" ".join(r[0]) for r in REFUSED])
def test_an_option_that_does_not_apply_is_refused(tmp_path, wav, capsys, extra, out, flag):
    assert export([str(wav), "-o", str(tmp_path / out), "--fft", "256", *extra]) == 2
    (line,) = lines_of(capsys.readouterr().err)
    # the output table (export/applies.py) or the scale table (export/plan.py)
    assert line.startswith(f"livespec: {flag} does not apply ")
    assert "it needs " in line or "only to --scale" in line
    assert not (tmp_path / out).exists()


def test_every_rule_is_in_the_refusal_table():
    tested = {flag for _, _, flag in REFUSED}
    assert {r.flag for r in RULES} <= tested


ACCEPTED = [
    (["--colormap", "magma"], "x.png"),
    (["--resize-filter", "lanczos", "--size", "32x16", "--resize-on", "image"], "x.png"),
    (["--n-mels", "32", "--scale", "mel"], "x.npy"),
    (["--pad-mode", "reflect", "--center"], "x.npy"),
    (["--pad-mode", "constant", "--like", "librosa"], "x.npy"),
    (["--csv-layout", "long"], "x.csv"),
    (["--keep-partial", "--clip", "0.5"], "x.npy"),
    (["--origin", "upper", "--quantize", "floor"], "x.png"),
]


@pytest.mark.parametrize(("extra", "out"), ACCEPTED, ids=[" ".join(r[0]) for r in ACCEPTED])
def test_options_that_apply_are_accepted(tmp_path, wav, extra, out):
    assert export([str(wav), "-o", str(tmp_path / out), "--fft", "256", *extra]) == 0


def test_png_compress_changes_the_file_size_not_the_pixels(tmp_path, wav):
    x = 0.01 * np.random.default_rng(3).standard_normal(FS)  # noise: compresses unevenly
    p = tmp_path / "n.wav"
    sf.write(p, x.astype(np.float32), FS, subtype="FLOAT")
    sizes = {}
    pixels = {}
    for level in ("0", "1", "9"):
        out = tmp_path / f"n{level}.png"
        assert export([str(p), "-o", str(out), "--fft", "256", "--png-compress", level]) == 0
        sizes[level] = out.stat().st_size
        pixels[level] = np.asarray(Image.open(out))
    assert np.array_equal(pixels["0"], pixels["1"]) and np.array_equal(pixels["0"], pixels["9"])
    assert sizes["0"] > sizes["1"] > sizes["9"]
    assert sizes["0"] > pixels["0"].size  # level 0 stores the bytes as they are


def test_png_compress_out_of_range_is_a_usage_error(tmp_path, wav, capsys):
    assert export([str(wav), "-o", str(tmp_path / "x.png"), "--png-compress", "10"]) == 2
    assert lines_of(capsys.readouterr().err) == [
        "livespec: --png-compress 10: must be 0 (fastest) to 9 (smallest)"
    ]


def test_summary_is_english_in_the_singular_and_the_plural() -> None:
    from livespec.export.job import JobResult
    from livespec.export.run import summary

    one = [JobResult("a.wav", "done", written=1)]
    assert summary(one, 0) == "livespec: export: 1 input: 1 file written, 0 failed"
    mixed = [
        JobResult("a.wav", "done", written=1, existing=1),
        JobResult("b.wav", "short"),
        JobResult("c.wav", "failed", "bad"),
    ]
    assert summary(mixed, 1) == (
        "livespec: export: 3 inputs: 1 file written, 1 skipped (exists; --force to redo), "
        "1 file shorter than one clip (no output), 1 non-audio file ignored, 1 failed"
    )
    many = [JobResult("a.wav", "done", written=2, existing=3), JobResult("b.wav", "short")] * 2
    assert summary(many, 2) == (
        "livespec: export: 4 inputs: 4 files written, 6 skipped (exist; --force to redo), "
        "2 files shorter than one clip (no output), 2 non-audio files ignored, 0 failed"
    )
