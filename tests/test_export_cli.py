"""livespec export as a command: output naming, folders in parallel with bad files among good
ones (messages, summary, exit status, resume), usage errors, CSV layout, bounded memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from support.cli import export

FS = 16000


EXPORT = [sys.executable, "-m", "livespec", "export"]


def tone(seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    """A 440 Hz sine at -10 dBFS, float32."""
    x = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * FS)) / FS)
    return (np.stack([x] * channels, axis=1) if channels > 1 else x).astype(np.float32)


def make_tree(root: Path) -> dict[str, str]:
    """Three good files in nested folders, four bad ones (with the expected cause), a
    text file and a hidden file."""
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "bad").mkdir()
    sf.write(root / "a.wav", tone(), FS)
    sf.write(root / "sub" / "b.flac", tone(), FS)
    sf.write(root / "sub" / "deeper" / "c.wav", tone(channels=2), FS)
    (root / "bad" / "empty.wav").write_bytes(b"")
    (root / "bad" / "junk.wav").write_bytes(np.random.default_rng(1).bytes(3000))
    sf.write(root / "bad" / "full.wav", tone(), FS, subtype="PCM_16")
    data = (root / "bad" / "full.wav").read_bytes()
    (root / "bad" / "trunc.wav").write_bytes(data[: len(data) // 2])
    (root / "bad" / "full.wav").unlink()
    (root / "bad" / "notes.mp3").write_text("not audio at all")
    (root / "readme.txt").write_text("ignored")
    sf.write(root / ".hidden.wav", tone(), FS)
    return {
        "empty.wav": "empty file",
        "junk.wav": "format not recognised",
        "trunc.wav": "truncated",
        "notes.mp3": "cannot open",
    }


def lines_of(err: str) -> list[str]:
    """Non-empty stderr lines."""
    return [s for s in err.splitlines() if s.strip()]


def outputs(root: Path) -> list[str]:
    """Every file under root, relative, sorted (hidden ones included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_folder_mode_with_bad_files_summary_exit_status_and_resume(tmp_path, capsys):
    src = tmp_path / "in"
    bad = make_tree(src)
    out = tmp_path / "out"
    argv = [str(src), "-o", str(out), "--fft", "512", "--hop", "256", "--png", "--npy"]
    assert export([*argv, "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    good = ["a.npy", "a.png", "sub/b.npy", "sub/b.png", "sub/deeper/c.npy", "sub/deeper/c.png"]
    assert outputs(out) == good  # the tree is mirrored, no partial or temporary files
    assert "Traceback" not in err
    lines = lines_of(err)
    assert len(lines) == len(bad) + 1
    for name, cause in bad.items():
        (line,) = [s for s in lines if f"{src / 'bad' / name}:" in s]
        assert line.startswith("livespec: ") and cause in line.lower()
    assert lines[-1] == (
        "livespec: export: 7 inputs: 6 files written, 1 non-audio file ignored, 4 failed"
    )
    np.testing.assert_equal(np.load(out / "a.npy").shape, (1 + (FS - 512) // 256, 257))
    # Resume: existing outputs are skipped, a missing one is made again.
    (out / "sub" / "b.png").unlink()
    before = (out / "a.png").stat().st_mtime_ns
    assert export([*argv, "--jobs", "2"]) == 1
    lines = lines_of(capsys.readouterr().err)
    assert outputs(out) == good
    assert (out / "a.png").stat().st_mtime_ns == before
    assert lines[-1] == (
        "livespec: export: 7 inputs: 1 file written, 5 skipped (exist; --force to redo), "
        "1 non-audio file ignored, 4 failed"
    )
    # --force rewrites everything; without bad inputs the exit status is 0.
    for name in bad:
        (src / "bad" / name).unlink()
    assert export([*argv, "--jobs", "1", "--force"]) == 0
    lines = lines_of(capsys.readouterr().err)
    assert lines == [
        "livespec: export: 3 inputs: 6 files written, 1 non-audio file ignored, 0 failed"
    ]


@pytest.mark.parametrize("name", ["empty.wav", "junk.wav", "trunc.wav", "notes.mp3", "readme.txt"])
def test_single_bad_file_one_line(tmp_path, capsys, name):
    src = tmp_path / "in"
    bad = make_tree(src)
    path = src / "bad" / name if name != "readme.txt" else src / name
    out = tmp_path / "o.npy"
    before = outputs(tmp_path)
    assert export([str(path), "-o", str(out)]) == 1
    lines = lines_of(capsys.readouterr().err)
    assert len(lines) == 1
    assert lines[0].startswith(f"livespec: {path}: ")
    assert bad.get(name, "cannot open") in lines[0].lower()
    assert outputs(tmp_path) == before  # no output, no temporary file


@pytest.mark.parametrize(("fmt", "subtype"), [("flac", "PCM_16"), ("mp3", "MPEG_LAYER_III")])
def test_truncated_compressed_file(tmp_path, capsys, fmt, subtype):
    src = tmp_path / f"full.{fmt}"
    sf.write(src, tone(3.0), FS, subtype=subtype)
    cut = tmp_path / f"cut.{fmt}"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert export([str(cut), "-o", str(tmp_path / "x.npy"), "--fft", "256"]) == 1
    lines = lines_of(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith(f"livespec: {cut}: ")
    assert "truncated" in lines[0]  # flac: "cannot decode: ... (corrupt or truncated?)"
    assert not (tmp_path / "x.npy").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_subprocess_bad_file_never_a_traceback(tmp_path):
    (tmp_path / "junk.flac").write_bytes(b"fLaC" + bytes(100))
    r = subprocess.run(
        [*EXPORT, str(tmp_path / "junk.flac"), "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert len(lines_of(r.stderr)) == 1 and "junk.flac" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.wav", "-o", "x.png"], "no such file or folder"),
        (["{dir}", "-o", "x.png"], "names one file"),
        (["{wav}", "--npy", "x.txt"], "must end in .npy"),
        (["{wav}"], "say where to write"),
        (["{wav}", "-o", "x.png", "--size", "0x5"], "--size 0x5"),
        (["{wav}", "-o", "x.png", "--clip", "0"], "--clip 0"),
        (["{wav}", "-o", "x.png", "--top-db", "-3"], "--top-db -3"),
        (["{wav}", "-o", "x.png", "--like", "librosa", "--hop", "4096"], "--hop 4096"),
        (["{wav}", "-o", "x.png", "--db-min", "0", "--db-max", "-10"], "--db-max -10"),
        (["{wav}", "-o", "x.png", "--colormap", "rainbow"], "--colormap rainbow"),
        (["{dir}", "{dir2}", "-o", "out"], "would both write"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, monkeypatch, args, message):
    d = tmp_path / "d"
    d.mkdir()
    sf.write(d / "a.wav", tone(), FS)
    d2 = tmp_path / "d2"
    d2.mkdir()
    sf.write(d2 / "a.wav", tone(), FS)
    subs = {"{dir}": str(d), "{dir2}": str(d2), "{wav}": str(d / "a.wav")}
    argv = [subs.get(a, a) for a in args]
    monkeypatch.chdir(tmp_path)
    assert export(argv) == 2
    lines = lines_of(capsys.readouterr().err)
    assert len(lines) == 1 and message in lines[0]


def test_output_naming(tmp_path, capsys):
    src = tmp_path / "rec.wav"
    sf.write(src, tone(), FS)
    assert export([str(src), "-o", str(tmp_path / "x.npy"), "--csv", "--png", "--fft", "256"]) == 0
    assert {p.name for p in tmp_path.glob("x.*")} == {"x.npy", "x.csv", "x.png"}
    assert export([str(src), "-o", str(tmp_path / "dir"), "--fft", "256"]) == 0
    assert outputs(tmp_path / "dir") == ["rec.png"]
    assert export([str(src), "--npy=" + str(tmp_path / "only.npy"), "--fft", "256"]) == 0
    assert (tmp_path / "only.npy").exists()
    # Two files into a folder.
    sf.write(tmp_path / "rec2.flac", tone(), FS)
    argv = [str(src), str(tmp_path / "rec2.flac"), "-o", str(tmp_path / "two"), "--npy"]
    assert export([*argv, "--fft", "256", "--jobs", "1"]) == 0
    assert outputs(tmp_path / "two") == ["rec.npy", "rec2.npy"]
    capsys.readouterr()
    # An existing output is skipped, and said so.
    before = (tmp_path / "x.png").read_bytes()
    assert export([str(src), "-o", str(tmp_path / "x.png"), "--fft", "512"]) == 0
    assert (tmp_path / "x.png").read_bytes() == before
    assert "1 skipped (exists; --force to redo)" in capsys.readouterr().err


def test_a_file_named_twice_is_exported_once(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    a, b = src / "a.wav", src / "b.wav"
    sf.write(a, tone(), FS)
    sf.write(b, tone(0.5), FS)
    (tmp_path / "link.wav").symlink_to(a)
    fft = ["--fft", "256", "--npy", "--jobs", "1"]
    assert export([str(a), str(a), "-o", str(tmp_path / "o1"), *fft]) == 0
    assert outputs(tmp_path / "o1") == ["a.npy"]  # not a.wav.npy: one input
    assert lines_of(capsys.readouterr().err) == [f"livespec: {a}: named twice; exported once"]
    alone = np.load(tmp_path / "o1" / "a.npy")
    np.testing.assert_equal(alone.shape, (1 + (FS - 256) // 64, 129))
    # The same file by another name, as the only input: -o FILE is allowed.
    argv = [str(a), str(tmp_path / "link.wav"), "-o", str(tmp_path / "x.npy"), "--fft", "256"]
    assert export(argv) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), alone)
    assert lines_of(capsys.readouterr().err) == [
        f"livespec: {tmp_path / 'link.wav'}: the same as {a}; exported once"
    ]
    # A folder and a file in it: each file once, one note; the summary counts inputs once.
    assert export([str(src), str(b), "-o", str(tmp_path / "o2"), *fft]) == 0
    assert outputs(tmp_path / "o2") == ["a.npy", "b.npy"]
    assert lines_of(capsys.readouterr().err) == [
        f"livespec: {b}: among the inputs twice (in a named folder too); exported once",
        "livespec: export: 2 inputs: 2 files written, 0 failed",
    ]
    # Two different files with one name still collide.
    other = tmp_path / "other"
    other.mkdir()
    sf.write(other / "a.wav", tone(), FS)
    assert export([str(a), str(other / "a.wav"), "-o", str(tmp_path / "o3"), *fft]) == 2
    assert "would both write" in capsys.readouterr().err


def test_csv_layouts(tmp_path):
    src = tmp_path / "rec.wav"
    sf.write(src, tone(0.25), FS, subtype="FLOAT")
    base = [str(src), "--fft", "256", "--hop", "128", "--npy", str(tmp_path / "r.npy")]
    assert export([*base, "--csv", str(tmp_path / "r.csv")]) == 0
    ref = np.load(tmp_path / "r.npy")
    text = (tmp_path / "r.csv").read_text().splitlines()
    head = text[0].split(",")
    assert head[0] == "time_s"
    np.testing.assert_allclose([float(v) for v in head[1:]], np.arange(129) * FS / 256)
    body = np.array([[float(v) for v in line.split(",")] for line in text[1:]])
    assert body.shape == (ref.shape[0], 1 + 129)
    np.testing.assert_allclose(body[:, 0], (np.arange(ref.shape[0]) * 128 + 128) / FS, atol=1e-6)
    np.testing.assert_allclose(body[:, 1:], ref, atol=0.0005 + 1e-6)
    long = tmp_path / "l.csv"
    assert export([*base, "--force", "--csv", str(long), "--csv-layout", "long"]) == 0
    rows = long.read_text().splitlines()
    assert rows[0] == "time_s,freq_hz,level_db"
    assert len(rows) == 1 + ref.size
    t, f, v = (float(s) for s in rows[1 + 129 + 5].split(","))  # frame 1, bin 5
    assert t == pytest.approx(256 / FS, abs=1e-6) and f == 5 * FS / 256
    assert v == pytest.approx(float(ref[1, 5]), abs=0.0005 + 1e-6)


def test_memory_is_bounded_for_a_long_file(tmp_path):
    """A 10-minute 48 kHz file (230 MB as float64 samples) exports in well under that."""
    src = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    with sf.SoundFile(src, "w", 48000, 1, subtype="PCM_16") as f:
        for _ in range(60):
            f.write(0.1 * rng.standard_normal(480000))
    code = (
        "import json, resource, subprocess, sys\n"
        "rc = subprocess.run(sys.argv[1:]).returncode\n"
        "print(json.dumps([rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    cmd = [*EXPORT, str(src), "--npy", str(tmp_path / "o.npy")]
    cmd += ["--png", str(tmp_path / "o.png"), "--size", "800x400", "--fft", "4096", "--hop", "4096"]
    r = subprocess.run(
        [sys.executable, "-c", code, *cmd],
        capture_output=True,
        text=True,
    )
    rc, rss_kib = json.loads(r.stdout.strip().splitlines()[-1])
    assert rc == 0, r.stderr
    assert np.load(tmp_path / "o.npy", mmap_mode="r").shape == (600 * 48000 // 4096, 2049)
    assert rss_kib / 1024 < 150


def test_export_core_imports_no_textual_or_rich():
    code = (
        "import sys\n"
        "import livespec.cli.export, livespec.export.run\n"
        "import livespec.export.plan, livespec.export.job\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'scipy'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_parser_module_is_light_and_its_constants_match():
    code = (
        "import sys\n"
        "import livespec.cli.export\n"
        "print(','.join(m for m in ('numpy', 'PIL', 'soundfile') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    from livespec.cli import export
    from livespec.export import dsp as export_dsp
    from livespec.export import image as export_image
    from livespec.export import job as export_job

    assert export.LIKE_NAMES == tuple(export_dsp.LIKE) == export_dsp.LIKE_CHOICES[1:]
    assert export.COLORMAP_NAMES == export_image.COLORMAP_NAMES
    assert export_job.FORMATS == ("png", "npy", "csv", "html", "svg")


def test_a_fifo_with_no_writer_is_named_a_fifo_not_an_empty_file(tmp_path: Path) -> None:
    """Issue #12: a FIFO was reported as "empty file" (and could block the export). The
    hint names export's own way to read stdin (`export -`; it said only `--input -`, an
    option export does not have)."""
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    done = subprocess.run(
        [*EXPORT, str(fifo), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert lines_of(done.stderr) == [
        f"livespec: {fifo}: is a FIFO (named pipe), not a file; pipe it in on stdin instead "
        "(--input -; export -)"
    ]


def test_export_as_the_command_line_freezes_the_collector_and_a_caller_keeps_it(
    tmp_path, monkeypatch
):
    import gc

    from livespec.cli import main

    sf.write(tmp_path / "a.wav", tone(), FS)
    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    args = ["export", str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.png")]
    assert main(args) == 0  # called with arguments: the caller's collector is left alone
    assert frozen == []
    monkeypatch.setattr(sys, "argv", ["livespec", *args, "--force"])
    assert main() == 0  # the process's own command line: nothing left to walk at exit
    assert frozen == [1]


def test_export_help_describes_the_options_as_export_reads_them(tmp_path, capsys) -> None:
    """``export --help`` neither offers --peaks and --a4 (refused: they belong to ``livespec
    peaks``) nor calls --fmin/--fmax a peak search range (they bound the log, mel and cqt
    rows); the options are still refused in one line when given."""
    from livespec.cli.parsers import build_parser

    text = build_parser("export").format_help()
    assert "--peaks" not in text and "--a4" not in text
    assert "peak frequency" not in text
    assert "lowest frequency of the --scale log, mel or cqt rows" in " ".join(text.split())
    assert "HTML or SVG" in " ".join(text.split())
    sf.write(tmp_path / "a.wav", tone(), FS)
    for option in (["--peaks", "2"], ["--a4", "432"]):
        assert export([str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.npy"), *option]) == 2
        (line,) = lines_of(capsys.readouterr().err)
        assert line.startswith(f"livespec: {option[0]} does not apply here"), line
    assert not (tmp_path / "a.npy").exists()


def test_an_mp3_is_exported_as_its_whole_decoded_signal(tmp_path):
    """soundfile seeks back after every read and libsndfile's MPEG seek is not exact: an
    MP3 exported in blocks had stretches of silence or of another part of the file (bins
    off by 20 to 50 dB). The NPY, the PNG and a clip page's audio (read after a seek) now
    equal those of the same samples decoded whole and written as a float WAV, and a seek
    lands on the sample asked for (as a split PNG analysis's second half needs)."""
    import base64
    import re

    from livespec.audio.files import open_audio_file

    fs = 48000
    t = np.arange(10 * fs) / fs
    src = tmp_path / "song.mp3"
    sf.write(src, 0.5 * np.sin(2 * np.pi * 1000.37 * t) * (1 + 0.5 * np.sin(2 * np.pi * t)), fs)
    decoded, sr = sf.read(src, dtype="float32")  # one read: no seek in between
    assert sr == fs
    ref = tmp_path / "ref" / "song.wav"
    ref.parent.mkdir()
    sf.write(ref, decoded, fs, subtype="FLOAT")
    argv = ["--fft", "1024", "--hop", "256", "--png", "--npy", "--size", "400x200"]
    for p in (src, ref):
        assert export([str(p), "-o", str(p.with_suffix(".npy")), *argv]) == 0
    got, want = np.load(src.with_suffix(".npy")), np.load(ref.with_suffix(".npy"))
    assert got.shape == want.shape == (1 + (decoded.size - 1024) // 256, 513)
    np.testing.assert_allclose(got, want, atol=1e-3)
    png_got = np.asarray(Image.open(src.with_suffix(".png")), dtype=np.int16)
    png_want = np.asarray(Image.open(ref.with_suffix(".png")), dtype=np.int16)
    assert np.abs(png_got - png_want).max() <= 1
    out = tmp_path / "pages" / "song.html"
    assert export([str(src), "-o", str(out), "--clip", "5", "--fft", "1024"]) == 0
    page = (out.parent / "song_10.html").read_text("utf-8")
    (url,) = re.findall(r'<source src="data:audio/flac;base64,([^"]+)"', page)
    heard, _ = sf.read(io.BytesIO(base64.b64decode(url)), dtype="float32")
    np.testing.assert_allclose(heard, decoded[5 * fs : 10 * fs], atol=2**-15)
    with open_audio_file(src) as f:
        for start in (123457, 3 * fs, 1000):  # forward, then behind the position
            f.seek(start)
            block = f.read(4096, dtype="float32")
            np.testing.assert_allclose(block, decoded[start : start + 4096], atol=1e-6)


def test_a_dwvw_aiff_is_exported_as_the_same_16_bit_wav(tmp_path, capsys):
    """libsndfile cannot seek in a DWVW-coded AIFF, and soundfile seeks after every read:
    the export failed with "cannot decode: Internal psf_fseek() failed (corrupt or
    truncated?)". DWVW is lossless: the levels equal those of the same 16-bit samples."""
    x = tone(3.0)
    sf.write(tmp_path / "a.aiff", x, FS, format="AIFF", subtype="DWVW_16")
    sf.write(tmp_path / "b.wav", x, FS, subtype="PCM_16")
    for name in ("a.aiff", "b.wav"):
        assert export([str(tmp_path / name), "--npy", str(tmp_path / f"{name}.npy")]) == 0
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(np.load(tmp_path / "a.aiff.npy"), np.load(tmp_path / "b.wav.npy"))


@pytest.mark.parametrize("closed", [2, 1], ids=["stderr", "stdout"])
def test_a_closed_standard_fd_does_not_fail_the_work(tmp_path, closed):
    """Started with fd 2 (``2>&-``) or fd 1 closed, Python has no sys.stderr (stdout):
    export failed a good file ("internal error: AttributeError: 'NoneType' object has no
    attribute 'flush'"), peaks printed nothing and ended with status 1, measure a
    traceback. /dev/null now stands in for the closed fd."""
    src = tmp_path / "a.wav"
    sf.write(src, tone(), FS)
    commands = [
        ([*EXPORT, str(src), "-o", str(tmp_path / "a.npy")], 0),
        ([sys.executable, "-m", "livespec", "peaks", "--input", str(src)], 1 + (FS - 4096) // 1024),
        ([sys.executable, "-m", "livespec", "measure", "--input", str(src), "--fft", "8192"], 2),
    ]
    for cmd, lines in commands:
        done = subprocess.run(
            cmd, stdout=subprocess.PIPE, text=True, timeout=60, check=False,
            preexec_fn=lambda: os.close(closed),  # (in the child, before exec)
        )  # fmt: skip
        assert done.returncode == 0, cmd
        assert len(done.stdout.splitlines()) == (lines if closed == 2 else 0), cmd
    assert np.load(tmp_path / "a.npy").shape == (1 + (FS - 4096) // 1024, 2049)


@pytest.mark.parametrize("ext", ["png", "html"])
def test_a_full_disk_names_the_output_not_only_the_input(tiny_disk: Path, ext: str) -> None:
    """A write that fails for want of space names no file (unlike a failed open): the
    line said ``livespec: in.wav: No space left on device``, as if the input's disk were
    full. It names the output, and nothing is left in the folder."""
    src = tiny_disk.parent / "in.wav"
    noise = np.random.default_rng(3).normal(0, 0.1, 30 * FS).astype(np.float32)
    sf.write(src, noise, FS)
    (tiny_disk / "filler").write_bytes(bytes((1 << 20) - 8192))  # two pages left
    out = tiny_disk / f"o.{ext}"
    done = subprocess.run(
        [*EXPORT, str(src), "-o", str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert lines_of(done.stderr) == [f"livespec: {src}: No space left on device ({out})"]
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


def test_a_file_name_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    """``take<0xff>.wav`` (a name from another system's encoding; ``livespec record``
    makes one): export, peaks and the others read it. They said ``cannot open: 'utf-8'
    codec can't encode character '\\udcff' ...: surrogates not allowed`` (soundfile
    encodes a text path strictly), and the HTML page's title failed the same way."""
    src = tmp_path / os.fsdecode(b"take\xff.wav")
    sf.write(os.fsencode(src), tone(), FS)
    png, page = tmp_path / "a.png", tmp_path / "a.html"
    for out in (png, page):
        done = subprocess.run([*EXPORT, str(src), "-o", str(out)], capture_output=True)
        assert done.returncode == 0, done.stderr
    assert Image.open(png).size[0] == 800
    assert "<title>take?.wav</title>" in page.read_text("utf-8")
    peaks = subprocess.run(
        [sys.executable, "-m", "livespec", "peaks", "--input", str(src), "--fft", "1024"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert peaks.returncode == 0, peaks.stderr
    first = peaks.stdout.splitlines()[0].split()
    assert abs(float(first[2]) - 440.0) < 2.0, first


def test_a_read_only_folder_is_named_read_only_not_short_of_space(tiny_disk: Path) -> None:
    """An NPY export into a read-only file system said ``not enough space: the output
    needs 79.9 MB, DISK has 1.0 MB free``: the size check ran first and a read-only disk
    reports its free blocks. It says the file system is read-only."""
    src = tiny_disk.parent / "in.wav"
    sf.write(src, tone(10.0), FS)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    out = tiny_disk / "o.npy"
    done = subprocess.run(
        [*EXPORT, str(src), "-o", str(out), "--hop", "16"], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert lines_of(done.stderr) == [f"livespec: {src}: Read-only file system ({out})"]
