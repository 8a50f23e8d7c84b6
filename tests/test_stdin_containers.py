"""``--input -`` with a WAV, AIFF, FLAC or OGG stream: the header gives rate and format.

Before, the header was read as raw s16le samples at 48 kHz: a 1 kHz sine at 44.1 kHz in a
WAV came out at 1088.44 Hz, in FLAC at 21279.50 Hz. The streams here go through a real
pipe (``subprocess`` stdin), as ``sox ... | livespec peaks --input -`` does.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

FS = 44100


def encoded(fmt: str, subtype: str | None, channels: int = 1, seconds: float = 1.0) -> bytes:
    """A 1 kHz sine at -6.02 dBFS peak (0.5), ``FS`` Hz, as the bytes of a ``fmt`` file."""
    t = np.arange(round(seconds * FS)) / FS
    x = 0.5 * np.sin(2 * np.pi * 1000.0 * t)
    data = np.repeat(x[:, None], channels, axis=1)
    buf = io.BytesIO()
    sf.write(buf, data, FS, format=fmt, subtype=subtype)
    return buf.getvalue()


def peaks(run_livespec: Any, data: bytes, *extra: str) -> Any:
    return run_livespec("peaks", "--input", "-", "--json", *extra, input_bytes=data)


@pytest.fixture(name="run_livespec")
def run_livespec_bytes() -> Any:
    import os
    import subprocess
    import sys

    def run(*args: str, input_bytes: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "livespec", *args],
            input=input_bytes,
            capture_output=True,
            timeout=60,
            env=dict(os.environ),
            check=False,
        )

    return run


@pytest.mark.parametrize(
    ("fmt", "subtype", "tol_hz", "tol_db"),
    [
        ("WAV", "PCM_16", 0.01, 0.01),
        ("WAV", "FLOAT", 0.01, 0.01),
        ("WAV", "PCM_24", 0.01, 0.01),
        ("AIFF", "PCM_16", 0.01, 0.01),
        ("FLAC", "PCM_16", 0.01, 0.01),
        ("FLAC", "PCM_24", 0.01, 0.01),
        ("OGG", "VORBIS", 0.2, 0.3),  # lossy
    ],
)
def test_a_container_on_stdin_is_read_at_its_own_rate(
    run_livespec: Any, fmt: str, subtype: str, tol_hz: float, tol_db: float
) -> None:
    done = peaks(run_livespec, encoded(fmt, subtype))
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    frames = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(frames) >= 5
    # The frames' times run at the stream's rate: the last frame ends within the second.
    assert frames[-1]["t"] < 1.0 and frames[-1]["t"] > 0.85
    for f in frames:
        assert abs(f["freq_hz"] - 1000.0) < tol_hz, f
        assert abs(f["level_dbfs"] - (-6.0206)) < tol_db, f


def test_a_stereo_wav_on_stdin_has_two_channels(run_livespec: Any) -> None:
    done = peaks(run_livespec, encoded("WAV", "PCM_16", channels=2), "--channel", "2")
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.decode().splitlines()[-1])
    assert abs(last["freq_hz"] - 1000.0) < 0.01


@pytest.mark.parametrize("option", [["--format", "s16le"], ["--samplerate", "48000"]])
def test_raw_pcm_options_with_a_container_are_refused(run_livespec: Any, option: list[str]) -> None:
    done = peaks(run_livespec, encoded("WAV", "PCM_16"), *option)
    assert done.returncode == 2
    assert done.stdout == b""
    err = done.stderr.decode()
    assert err.count("\n") == 1
    assert f"{option[0]} given, but stdin carries a WAV stream" in err


def test_raw_pcm_still_reads_as_before(run_livespec: Any) -> None:
    t = np.arange(48000) / 48000
    raw = (0.5 * 32767 * np.sin(2 * np.pi * 1000.0 * t)).astype("<i2").tobytes()
    done = peaks(run_livespec, raw, "--format", "s16le", "--samplerate", "48000")
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.decode().splitlines()[-1])
    assert abs(last["freq_hz"] - 1000.0) < 0.01


def test_an_mp3_on_stdin_is_refused_in_one_line(run_livespec: Any) -> None:
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + encoded("MP3", None)
    done = peaks(run_livespec, mp3)
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "livespec: an MP3 stream on stdin cannot be decoded; give the file with --input "
        "FILE, or pipe WAV or FLAC\n"
    )


def test_a_damaged_wav_on_stdin_is_one_line(run_livespec: Any) -> None:
    done = peaks(run_livespec, b"RIFF\x00\x00\x00\x00WAVEjunk")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("livespec: cannot read the WAV stream")


@pytest.mark.parametrize(
    ("rate", "said"),
    [
        (1_000_000_000, "the header says 1000000000 Hz; livespec reads 1..768000 Hz"),
        (200_000_000, "the header says 200000000 Hz; livespec reads 1..768000 Hz"),
        (0, "SF_INFO struct incomplete"),
    ],
)
def test_a_wav_file_claiming_an_impossible_rate_is_refused(
    run_livespec: Any, tmp_path: Path, rate: int, said: str
) -> None:
    data = bytearray(encoded("WAV", "PCM_16"))
    assert data[24:28] == struct.pack("<I", FS)
    data[24:28] = struct.pack("<I", rate)
    path = tmp_path / "liar.wav"
    path.write_bytes(bytes(data))
    done = run_livespec("peaks", "--input", str(path))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.count("\n") == 1, err
    assert said in err, err
