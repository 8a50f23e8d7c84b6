"""A WAV stream on stdin that ends before the data size its header declares: read what came,
and one warning line on stderr when the size was real (a file cut short, ``head -c``), none
for the placeholders streaming writers put there (0, 0xFFFFFFFF, SoX's 0x7FFFF000,
arecord's 0x7FFFFFFF). Before, a cut file was read silently, and a data size of 0 gave no
audio at all ("shorter than one analysis frame"). Through a real pipe (subprocess stdin).
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livespec.audio.wavhead import WavHead, open_ended, scan

FS = 48000
FRAMES = 2 * FS
CUT = 100000  # bytes of the file that come through


def wav(subtype: str = "PCM_16", fmt: str = "WAV", channels: int = 1) -> bytes:
    x = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(FRAMES) / FS)
    buf = io.BytesIO()
    sf.write(buf, np.repeat(x[:, None], channels, axis=1), FS, format=fmt, subtype=subtype)
    return buf.getvalue()


def with_size(data: bytes, size: int) -> bytes:
    at = data.index(b"data") + 4
    return data[:at] + struct.pack("<I", size) + data[at + 4 :]


def run(*args: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "livespec", *args],
        input=data,
        capture_output=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


def test_the_header_scan_finds_the_data_size_soundfile_wrote() -> None:
    full = wav("PCM_24", channels=2)  # soundfile's header: the reference
    info = sf.info(io.BytesIO(full))
    at = full.index(b"data") + 4
    head = scan(full[:200])
    assert head == WavHead(info.frames * 6, 6, at, False) and head.frames == FRAMES
    assert scan(full[:20]) is True  # more bytes needed
    assert scan(b"RIFF\0\0\0\0AIFF" + full[12:]) is None
    # a LIST chunk before the data: still found, once its bytes are there
    listed = full[:36] + b"LIST" + struct.pack("<I", 1001) + bytes(1002) + full[36:]
    assert scan(listed[:500]) is True
    assert scan(listed) == WavHead(FRAMES * 6, 6, at + 1010, False)
    for size in (0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF, 0x7FFFFFFE):
        found = scan(with_size(full, size))
        assert isinstance(found, WavHead) and found.placeholder and found.data_bytes == size
    rf64 = wav("PCM_16", fmt="RF64")  # libsndfile writes RF64 with a ds64 chunk
    found = scan(rf64)
    assert isinstance(found, WavHead) and not found.placeholder and found.frames == FRAMES
    zero = with_size(full, 0)
    opened = open_ended(zero, WavHead(0, 6, at, True))
    assert opened == with_size(full, 0xFFFFFFFF)


def _expected_note(got: int) -> str:
    return (
        f"livespec: warning: the WAV stream on stdin ended after {got} of the {FRAMES} "
        f"frames its header declares ({got / FS:.3f} of {FRAMES / FS:.3f} s): cut short? "
        "Read what came."
    )


@pytest.mark.parametrize("command", ["peaks", "record", "export"])
def test_a_cut_wav_on_stdin_is_read_with_one_warning(command: str, tmp_path: Path) -> None:
    cut = wav()[:CUT]
    got = (CUT - 44) // 2  # whole 16-bit frames after the 44-byte header
    out = tmp_path / "out.npy"
    args = {
        "peaks": ["peaks", "--input", "-", "--json"],
        "record": ["record", "--input", "-", str(tmp_path / "take.wav")],
        "export": ["export", "-", "-o", str(out), "--fft", "4096", "--hop", "1024"],
    }[command]
    done = run(*args, data=cut)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.decode().splitlines()
    assert lines == [_expected_note(got)]
    if command == "record":  # every frame that came is in the take
        data, _ = sf.read(str(tmp_path / "take.wav"), dtype="float32")
        ref, _ = sf.read(io.BytesIO(wav()), dtype="float32", frames=got)
        np.testing.assert_allclose(data, ref, atol=2.0**-15)


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF, None])
def test_a_placeholder_size_reads_to_the_end_without_a_warning(
    size: int | None, tmp_path: Path
) -> None:
    data = wav() if size is None else with_size(wav(), size)  # None: a real, whole file
    done = run("record", "--input", "-", str(tmp_path / "take.wav"), data=data)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    taken, _ = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    ref, _ = sf.read(io.BytesIO(wav()), dtype="float32")
    np.testing.assert_allclose(taken, ref, atol=2.0**-15)  # all of it, 0 included
    out = tmp_path / "out.npy"
    done = run("export", "-", "-o", str(out), "--fft", "4096", "--hop", "1024", data=data)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert np.load(out).shape[0] == 1 + (FRAMES - 4096) // 1024
