"""`livespec peaks` end to end on files, stdin and test signals, and the CLI's error lines."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

FS = 48000
N = 4096
BIN_HZ = FS / N


def tone_file(
    path,
    freq: float,
    dbfs: float,
    seconds: float = 1.0,
    noise_dbfs: float = -130.0,
    subtype: str = "FLOAT",
    seed: int = 0,
):
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * FS)) / FS
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    x += 10 ** (noise_dbfs / 20) * rng.standard_normal(t.size)
    sf.write(path, x, FS, subtype=subtype)
    return path


def peaks_json(run_livespec, *args: str) -> list[dict]:
    done = run_livespec("peaks", *args, "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


# Arbitrary frequencies (fractional bins) and levels; noise 60+ dB below the tone.
CASES = [
    (1000.0, -6.0),
    (1234.567, -20.0),
    (440.0 + 0.37 * BIN_HZ, -3.0),
    (15012.3, -40.0),
    (97.7, -12.0),
    (7777.7, -0.5),
]


@pytest.mark.parametrize("window", ["hann", "blackman-harris", "flattop"])
@pytest.mark.parametrize(("freq", "dbfs"), CASES)
def test_file_peaks_meet_the_accuracy_target(tmp_path, run_livespec, window, freq, dbfs):
    path = tone_file(tmp_path / "tone.wav", freq, dbfs, noise_dbfs=dbfs - 70)
    rows = peaks_json(run_livespec, "--input", str(path), "--fft", str(N), "--window", window)
    hop = N // 4
    assert len(rows) == (FS - N) // hop + 1  # every frame, scipy's framing
    for r in rows:
        assert abs(r["freq_hz"] - freq) / BIN_HZ <= 0.01, r
        assert abs(r["level_dbfs"] - dbfs) <= 0.1, r
        assert r["overflows"] == 0
        assert r["lost_frames"] == 0
    assert rows[0]["t"] == pytest.approx(N / 2 / FS, abs=1e-6)
    assert rows[1]["t"] - rows[0]["t"] == pytest.approx(hop / FS, abs=2e-6)


def test_note_names_and_text_output(tmp_path, run_livespec):
    rows = peaks_json(run_livespec, "--input", "tone:440@-6", "--duration", "0.3")
    assert {r["note"] for r in rows} == {"A4"}
    assert all(abs(r["cents"]) < 0.5 for r in rows)
    assert {r["dropped_s"] for r in rows} == {0.0}  # nothing was dropped
    rows = peaks_json(run_livespec, "--input", "tone:440@-6", "--duration", "0.3", "--a4", "432")
    assert all(r["note"] == "A4" and 30 < r["cents"] < 33 for r in rows)  # 1200*log2(440/432)
    text = run_livespec("peaks", "--input", "tone:1000", "--duration", "0.2")
    assert text.returncode == 0
    first = text.stdout.splitlines()[0]
    assert "Hz" in first and "dBFS" in first and "overflows 0" in first


def test_json_lines_carry_the_seconds_the_sound_system_dropped():
    """Each --json line says how much input the sound system has dropped so far (the
    source's running total, read when the line is written)."""
    import io

    from livespec.cli.peaks import Printer
    from livespec.engine import Frame

    dropped = [0.0]
    out = io.StringIO()
    printer = Printer(out, True, None, lambda: dropped[0])
    row = np.zeros(3, dtype=np.float32)
    for i, loss in enumerate((0.0, 5.8864)):
        dropped[0] = loss
        frame = Frame(i, i * 1024, i * 0.02, row, (), -20.0, -17.0, i, 0, math.nan, None)
        printer(frame)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["dropped_s"] for r in lines] == [0.0, 5.886]
    assert [r["overflows"] for r in lines] == [0, 1]


def test_several_peaks_and_interval(run_livespec):
    rows = peaks_json(
        run_livespec,
        "--input",
        "tone:1000@-10+tone:3000@-20",
        "--duration",
        "2",
        "--peaks",
        "2",
        "--interval",
        "0.5",
    )
    assert [r["t"] // 0.5 for r in rows] == [0.0, 1.0, 2.0, 3.0]
    for r in rows:
        assert [round(p["freq_hz"]) for p in r["peaks"]] == [1000, 3000]
        assert [round(p["level_dbfs"]) for p in r["peaks"]] == [-10, -20]


def test_stdin_pcm(run_livespec):
    t = np.arange(FS) / FS
    pcm = (0.5 * np.sin(2 * np.pi * 2500 * t) * 32767).astype("<i2").tobytes()
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "livespec",
            "peaks",
            "--input",
            "-",
            "--samplerate",
            "48000",
            "--format",
            "s16le",
            "--json",
        ],
        input=pcm,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in done.stdout.splitlines()]
    assert len(rows) == (FS - N) // (N // 4) + 1
    assert all(abs(r["freq_hz"] - 2500) < 0.01 * BIN_HZ for r in rows)
    assert all(abs(r["level_dbfs"] - 20 * math.log10(0.5 * 32767 / 32768)) < 0.1 for r in rows)


def test_stereo_file_channel_pick(tmp_path, run_livespec):
    t = np.arange(FS // 2) / FS
    x = np.stack([0.5 * np.sin(2 * np.pi * 500 * t), 0.5 * np.sin(2 * np.pi * 3000 * t)], 1)
    sf.write(tmp_path / "st.wav", x, FS, subtype="FLOAT")
    left = peaks_json(run_livespec, "--input", str(tmp_path / "st.wav"), "--channel", "1")
    right = peaks_json(run_livespec, "--input", str(tmp_path / "st.wav"), "--channel", "2")
    mix = peaks_json(run_livespec, "--input", str(tmp_path / "st.wav"), "--peaks", "2")
    assert all(round(r["freq_hz"]) == 500 for r in left)
    assert all(round(r["freq_hz"]) == 3000 for r in right)
    # the mono mix is the mean: each tone at half its amplitude (-6.02 dB)
    assert all(
        abs(p["level_dbfs"] - (20 * math.log10(0.25))) < 0.1 for r in mix for p in r["peaks"]
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--fft", "abc"], "--fft abc: must be an integer from 64 to 65536"),
        (["--fft", "100000"], "--fft 100000: must be an integer from 64 to 65536"),
        (["--window", "gauss"], "--window gauss: must be one of"),
        (["--overlap", "1.5"], "--overlap 1.5: must be a number"),
        (["--bogus"], "unknown option --bogus (see 'livespec peaks --help')"),
        (["--inptu", "tone:1000"], "unknown option --inptu (did you mean --input?)"),
        (["--input", "tone:1000", "extra"], "unrecognized arguments: extra"),
        (["--input", "/nonexistent/x.wav"], "cannot open '/nonexistent/x.wav': no such file"),
        (["--input", "tone:abc"], "bad frequency"),
        (["--input", "tone:1000", "--channel", "3", "--duration", "1"], "--channel 3"),
        (["--input", "tone:1000", "--duration", "-1"], "--duration -1: must be positive"),
        (["--input", "tone:1000", "--duration", "inf"], "--duration inf: must be finite"),
        (["--input", "tone:1000", "--duration", "1e308"], "--duration 1e+308: must be at most"),
        (  # at or above Nyquist (24 kHz here) no band is left to search
            ["--input", "tone:1000", "--fmin", "24000", "--duration", "1"],
            "--fmin 24000: must be below the input's Nyquist frequency, 24000 Hz",
        ),
    ],
)
def test_user_errors_are_one_line_and_status_2(run_livespec, args, needle):
    done = run_livespec("peaks", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("livespec")
    assert needle in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--config", "/dev/null", "peaks", "--input", "tone:1000", "--duration", "0.1"],
        ["--fft", "1024", "record", "x.wav"],
    ],
)
def test_a_command_after_options_is_named_in_one_line(run_livespec, args):
    done = run_livespec(*args)  # options before the command went to the live app's parser
    assert done.returncode == 2
    word = next(a for a in args if a in ("peaks", "record"))
    assert done.stderr.strip() == (
        f"livespec: the command goes first: livespec {word} [options] (options before it "
        f"are the live app's; see 'livespec {word} --help')"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [  # an option another command has: named alone (not 'unrecognized arguments: --device
        # t.wav', the file argparse could not place), with the command's own option
        (
            ["play", "--device", "pulse", "t.wav"],
            "unknown option --device (did you mean --output-device?)",
        ),
        (["--colourmap", "magma"], "unknown option --colourmap (did you mean --colormap?)"),
        (["export", "--pngg=x", "--zzz", "a.wav"], "unknown options --pngg, --zzz (did you mean"),
        (["peaks", "-Z"], "unknown option -Z (see"),
    ],
)
def test_an_unknown_option_is_named_with_the_nearest(run_livespec, args, line):
    done = run_livespec(*args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert line in done.stderr


def test_corrupt_and_empty_files(tmp_path, run_livespec):
    (tmp_path / "junk.wav").write_bytes(b"this is not audio at all" * 10)
    (tmp_path / "empty.wav").write_bytes(b"")
    for name in ("junk.wav", "empty.wav"):
        done = run_livespec("peaks", "--input", str(tmp_path / name))
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1
        assert name in done.stderr


@pytest.mark.parametrize(
    ("source", "stdin"),
    [("file", False), ("stdin", True), ("signal", False)],
    ids=["file", "stdin", "signal-duration"],
)
def test_an_input_shorter_than_one_frame_is_one_line_and_status_2(tmp_path, source, stdin):
    """100 samples (or --duration 0.01 s) give no frame at --fft 4096: not an empty success
    but one line, status 2, as `livespec measure` says of its frame; a smaller --fft reads
    the same input."""
    path = tone_file(tmp_path / "short.wav", 1000.0, -6.0, seconds=100 / FS, subtype="PCM_16")
    if source == "signal":
        args = ["--input", "tone:1000", "--duration", "0.01"]
    else:
        args = ["--input", "-" if stdin else str(path)]
    data = path.read_bytes() if stdin else b""

    def peaks(*more: str) -> subprocess.CompletedProcess[bytes]:
        cmd = [sys.executable, "-m", "livespec", "peaks", *args, "--json", *more]
        return subprocess.run(cmd, input=data, capture_output=True, timeout=60, check=False)

    done = peaks()
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "livespec: the input is shorter than one analysis frame (4096 samples, 0.0853 s); "
        "give a smaller --fft"
    ]
    done = peaks("--fft", "64", "--hop", "16")
    assert done.returncode == 0, done.stderr
    samples = 480 if source == "signal" else 100
    assert len(done.stdout.splitlines()) == 1 + (samples - 64) // 16


def test_bad_config_file_names_file_key_and_range(tmp_path, run_livespec):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[analysis]\nwindow = 'triangle'\n")
    done = run_livespec(
        "peaks", "--input", "tone:1000", "--duration", "0.1", env={"LIVESPEC_CONFIG": str(cfg)}
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f'livespec: {cfg}: [analysis] window = "triangle": must be one of rect, hann, hamming, '
        "blackman, blackman-harris, flattop, kaiser"
    )


def test_config_command_shows_path_and_effective_values(tmp_path, run_livespec):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[analysis]\nfft = 8192\n")
    done = run_livespec("config", "--window", "flattop", env={"LIVESPEC_CONFIG": str(cfg)})
    assert done.returncode == 0
    assert f"# config file: {cfg} (exists)" in done.stdout
    assert "fft = 8192" in done.stdout and 'window = "flattop"' in done.stdout


def test_broken_pipe_is_quiet():
    import subprocess
    import sys

    p = subprocess.Popen(
        f"{sys.executable} -m livespec peaks --input tone:1000 --duration 60 | head -n 2",
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = p.communicate(timeout=60)
    assert len(out.splitlines()) == 2
    assert "Traceback" not in err and "Error" not in err


def test_an_mp3_is_analysed_whole_by_peaks_and_measure(tmp_path, run_livespec):
    """An MP3 read in 1024-frame blocks came back as digital silence after its fifth block
    (soundfile seeks after every read; libsndfile's MPEG seek is not exact): peaks printed
    null for 460 of 465 frames and measure a -87 dBFS "tone". Now every frame reads the
    -6.02 dBFS tone (within the MP3's coding error), as a whole-file read gives it."""
    fs = 48000
    t = np.arange(10 * fs) / fs
    src = tmp_path / "tone.mp3"
    sf.write(src, 0.5 * np.sin(2 * np.pi * 1000.37 * t), fs)
    decoded, _ = sf.read(src)
    assert np.abs(decoded[2 * fs : 9 * fs]).max() > 0.49  # the file holds the tone
    recs = peaks_json(run_livespec, "--input", str(src))
    assert len(recs) == 1 + (decoded.size - N) // 1024
    assert all(r["freq_hz"] == pytest.approx(1000.37, abs=0.05) for r in recs[2:-2])
    assert all(r["level_dbfs"] == pytest.approx(-6.02, abs=0.1) for r in recs[2:-2])
    done = run_livespec("measure", "--input", str(src), "--json", "--interval", "0")
    assert done.returncode == 0, done.stderr
    m = json.loads(done.stdout)
    assert m["level_dbfs"] == pytest.approx(-6.02, abs=0.02) and m["snr_db"] > 40


@pytest.mark.parametrize(
    "args",
    [
        ["peaks", "--input", "tone:1000", "--duration", "5"],
        ["peaks", "--input", "tone:1000", "--duration", "5", "--json"],
        ["peaks", "--input", "tone:1000", "--duration", "0.2"],  # only the last flush fails
        ["measure", "--input", "tone:1000", "--duration", "3"],
        ["measure", "--input", "tone:1000", "--duration", "3", "--json"],
    ],
    ids=["peaks", "peaks-json", "peaks-short", "measure", "measure-json"],
)
def test_results_to_a_full_disk_say_so_in_one_line(args: list[str]) -> None:
    """``livespec peaks > /dev/full`` said ``analysis stopped: OSError: [Errno 28] No space
    left on device`` (the analysis was fine: stdout could not be written), ``measure``
    ``I/O error: ...`` or the same as peaks with --json. One wording, status 1."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "livespec", *args],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == "livespec: cannot write to stdout: No space left on device\n"
