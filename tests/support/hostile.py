"""Hostile inputs for tests/hostile: malformed audio files, special files, odd names; and
a runner that measures a command's exit status, output, peak memory and time.

Every generator writes into a folder it is given and returns the path to hand to livespec.
They are built from a good file (soundfile) and then damaged the way real files are:
truncation, lying sizes, impossible header fields, corrupt payload, wrong contents.
"""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

FS = 48000
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")  # all but \t and \n
MAX_RSS_MB = 200.0  # peak RSS a hostile input may cost
MAX_SECONDS = 10.0  # and time


def good(
    fmt: str = "WAV",
    subtype: str | None = "PCM_16",
    seconds: float = 1.0,
    channels: int = 1,
    data: np.ndarray | None = None,
) -> bytes:
    """A 1 kHz sine at -6 dBFS in ``fmt`` (the bytes of a whole file)."""
    if data is None:
        t = np.arange(round(seconds * FS)) / FS
        data = np.repeat((0.5 * np.sin(2 * np.pi * 1000.0 * t))[:, None], channels, axis=1)
    buf = io.BytesIO()
    sf.write(buf, data, FS, format=fmt, subtype=subtype)
    return buf.getvalue()


def _wav_field(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def _data_offset(wav: bytes) -> int:
    """Offset of the 'data' chunk's id in a WAV."""
    return wav.index(b"data", 12)


def _corrupt(data: bytes, start: float, seed: int = 1) -> bytes:
    """Random bytes over the middle third of the file from fraction ``start`` on."""
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    i = int(len(b) * start)
    j = i + len(b) // 3
    b[i:j] = rng.integers(0, 256, j - i, dtype=np.uint8).tobytes()
    return bytes(b)


def _cut(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


Make = Callable[[Path], Path]


def _file(name: str, content: bytes | Callable[[], bytes]) -> Make:
    def make(d: Path) -> Path:
        p = d / name
        p.write_bytes(content() if callable(content) else content)
        return p

    return make


def _wav() -> bytes:
    return good("WAV", "PCM_16")


_ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x00"  # an empty ID3v2 tag


def _mp3() -> bytes:
    return good("MP3", None)


def _nonfinite() -> bytes:
    x = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(FS) / FS)
    x[1000:1100] = np.nan
    x[20000] = np.inf
    x[30000] = -np.inf
    return good("WAV", "FLOAT", data=x[:, None])


def _huge_float() -> bytes:
    x = 1e30 * np.sin(2 * np.pi * 1000.0 * np.arange(FS) / FS)
    return good("WAV", "FLOAT", data=x[:, None].astype(np.float32))


def _fifo(d: Path) -> Path:
    p = d / "fifo.wav"
    os.mkfifo(p)
    return p


def _dir(d: Path) -> Path:
    p = d / "folder.wav"
    p.mkdir()
    return p


def _loop(d: Path) -> Path:
    p = d / "loop.wav"
    os.symlink(p, p)
    return p


def _missing(d: Path) -> Path:
    return d / "missing.wav"


def _dangling(d: Path) -> Path:
    p = d / "dangling.wav"
    os.symlink(d / "nowhere.wav", p)
    return p


def _odd_name(name: str) -> Make:
    def make(d: Path) -> Path:
        p = d / name
        p.write_bytes(b"not audio at all, just text\n" * 10)
        return p

    return make


# Documented exit statuses (docs/cli.md): 0 analysed; 2 refused at open (peaks, measure);
# 1 found damaged while reading, or (export) any file that failed.
OK = (0, 0, 0)
REFUSED = (2, 2, 1)
DAMAGED = (1, 1, 1)
NOT_A_FILE = (2, 2, 2)  # export refuses the whole command: nothing to export


@dataclass(frozen=True)
class Case:
    """A hostile input: ``make`` builds it in a folder; ``status`` is the documented exit
    status of (peaks, measure, export) on it."""

    name: str
    make: Make
    status: tuple[int, int, int]


def _w(name: str, fn: Callable[[bytes], bytes], status: tuple[int, int, int] = REFUSED) -> Case:
    return Case(name, _file(f"{name}.wav", lambda: fn(_wav())), status)


FILE_CASES: list[Case] = [
    Case("empty", _file("empty.wav", b""), REFUSED),
    _w("riff-only", lambda w: w[:12]),
    _w("header-only", lambda w: w[: _data_offset(w) + 8]),
    _w("data-size-zero", lambda w: _wav_field(w, _data_offset(w) + 4, "<I", 0)),
    _w("data-odd-bytes", lambda w: w[:-1]),
    _w("data-size-ffffffff", lambda w: _wav_field(w, _data_offset(w) + 4, "<I", 0xFFFFFFFF)),
    _w("riff-size-ffffffff", lambda w: _wav_field(w, 4, "<I", 0xFFFFFFFF), OK),
    _w("truncated-30pct", lambda w: w[: int(len(w) * 0.3)]),
    _w("rate-1e9", lambda w: _wav_field(w, 24, "<I", 1_000_000_000)),
    _w("rate-2e8", lambda w: _wav_field(w, 24, "<I", 200_000_000)),
    _w("rate-0", lambda w: _wav_field(w, 24, "<I", 0)),
    _w("rate-1", lambda w: _wav_field(w, 24, "<I", 1), (0, 2, 0)),  # measure: band too narrow
    _w("channels-0", lambda w: _wav_field(w, 22, "<H", 0)),
    _w("channels-65535", lambda w: _wav_field(w, 22, "<H", 65535)),
    _w("bits-0", lambda w: _wav_field(w, 34, "<H", 0)),
    _w("bits-7", lambda w: _wav_field(w, 34, "<H", 7), OK),  # read as 8-bit
    _w("bits-64", lambda w: _wav_field(w, 34, "<H", 64)),
    _w("fmt-size-huge", lambda w: _wav_field(w, 16, "<I", 0x7FFFFFFF)),
    _w("format-tag-unknown", lambda w: _wav_field(w, 20, "<H", 0x1234)),
    _w("no-fmt-chunk", lambda w: w[:12] + w[_data_offset(w) :]),
    _w("garbage-after-riff", lambda w: w[:12] + bytes(range(7, 71))),
    _w("corrupt-middle", lambda w: _corrupt(w, 0.33), OK),  # noise, but audio
    Case("float-nan-inf", _file("nonfinite.wav", _nonfinite), DAMAGED),
    Case("float-1e30", _file("huge.wav", _huge_float), DAMAGED),
    Case(
        "flac-cut-half", _file("cut.flac", lambda: good("FLAC")[: len(good("FLAC")) // 2]), DAMAGED
    ),
    Case("flac-header-only", _file("head.flac", lambda: good("FLAC")[:42]), DAMAGED),
    Case("flac-corrupt", _file("corrupt.flac", lambda: _corrupt(good("FLAC"), 0.4)), DAMAGED),
    # A cut Ogg file counts its frames from the last page it has: nothing to tell.
    Case("ogg-cut-half", _file("cut.ogg", lambda: good("OGG", "VORBIS")[:6000]), OK),
    Case(
        "ogg-corrupt", _file("corrupt.ogg", lambda: _corrupt(good("OGG", "VORBIS"), 0.3)), REFUSED
    ),
    Case("mp3-cut", _file("cut.mp3", lambda: _cut(_mp3(), 1 / 3)), DAMAGED),
    Case("mp3-garbage", _file("garbage.mp3", lambda: _ID3 + bytes(range(256)) * 16), REFUSED),
    Case("text-as-wav", _file("text.wav", b"hello\n" * 100), REFUSED),
    Case("png-as-wav", _file("image.wav", b"\x89PNG\r\n\x1a\n" + bytes(200)), REFUSED),
    Case("folder", _dir, NOT_A_FILE),
    Case("missing", _missing, NOT_A_FILE),
    Case("dangling-symlink", _dangling, NOT_A_FILE),
    Case("symlink-loop", _loop, NOT_A_FILE),
    Case("fifo-no-writer", _fifo, REFUSED),
    Case("name-with-escape", _odd_name("\x1b]2;PWNED\x07.wav"), REFUSED),
    Case("name-with-newline", _odd_name("two\nlines.wav"), REFUSED),
    Case("name-with-csi", _odd_name("\x9b2J.wav"), REFUSED),
]


@dataclass
class Run:
    """What a command did: exit status, output, peak RSS (MB) and wall time (s)."""

    status: int
    stdout: str
    stderr: str
    rss_mb: float
    seconds: float
    timed_out: bool


def _vm_kib(pid: int, field: str) -> int:
    """A ``VmXXX:`` figure (kB) of ``/proc/PID/status``; 0 if unknown (gone, a zombie)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(
    args: Sequence[str],
    timeout: float = 10.0,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``python -m livespec ARGS`` with its own peak RSS measured.

    ``wait4``'s ``ru_maxrss`` is exact unless this (pytest's) process is the larger: Linux
    carries the peak of the address space a child had before ``exec`` (a copy of this
    one, or this one itself after ``vfork``) into the child's figure, so after a test that
    grew pytest (a browser, a Dask cluster) every child would seem to use that much. Then
    the child's own peak is read from ``/proc/PID/status`` (``VmHWM``, which starts afresh
    at ``exec``) while it runs, every 10 ms."""
    parent_hwm = _vm_kib(os.getpid(), "VmHWM")
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as inp,
    ):
        inp.write(stdin)
        inp.seek(0)
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "livespec", *args],
            stdin=inp,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
        )
        timed_out = False
        polled = 0
        while True:
            polled = max(polled, _vm_kib(proc.pid, "VmHWM"))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                timed_out = True
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
        out.seek(0)
        err.seek(0)
        return Run(
            status=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            rss_mb=(usage.ru_maxrss if usage.ru_maxrss > parent_hwm else polled) / 1024.0,
            seconds=seconds,
            timed_out=timed_out,
        )


def check(result: Run, status: int) -> None:
    """The assertions every hostile run must pass."""
    assert not result.timed_out, "did not finish"
    assert result.status == status, (result.status, result.stderr)
    lines = result.stderr.splitlines()
    if status == 0:
        assert lines == [], result.stderr
    else:
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("livespec: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not RAW_CONTROL.search(result.stdout + result.stderr), repr(result.stderr)
    assert result.rss_mb < MAX_RSS_MB
    assert result.seconds < MAX_SECONDS
