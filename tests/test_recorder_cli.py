"""``livespec record`` end to end, in subprocesses: exact content from files, stdin and test
signals; kill -9 at any time; SIGINT, SIGTERM and SIGHUP; no overwrite; a full disk; the
split into numbered parts; the status line on a terminal; the virtual input device."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.io.wavfile
import soundfile as sf
from support.virtual_audio import VirtualAudio

from livespec.audio import signals

FS = 48000
F64 = npt.NDArray[np.float64]
RECORD = [sys.executable, "-m", "livespec", "record"]


def record(
    *args: str, env: dict[str, str] | None = None, input: bytes = b"", timeout: float = 60.0
) -> subprocess.CompletedProcess[bytes]:
    """Run ``livespec record *args`` to the end, with ``input`` on its stdin."""
    return subprocess.run(
        [*RECORD, *args],
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def start(*args: str, **kw: Any) -> subprocess.Popen[bytes]:
    """Start ``livespec record *args``; a pipe to its stdin is closed (quietly) when the
    test ends."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([*RECORD, *args], **kw)


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``cond`` until it holds; fail the test after ``timeout`` s (a hang guard)."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def header_frames(path: Path) -> int:
    """Frames the WAV header announces now (0 while the file does not exist)."""
    try:
        return int(sf.info(str(path)).frames)
    except Exception:
        return 0


def read3(path: Path, pcm: bool = True) -> F64:
    """soundfile, scipy.io.wavfile and (PCM) wave all read ``path``, the same frame count."""
    a, rate = sf.read(str(path), dtype="float64", always_2d=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
        srate, b = scipy.io.wavfile.read(str(path))
    assert rate == srate and len(b) == len(a)
    if pcm:
        with wave.open(str(path), "rb") as w:
            assert w.getframerate() == rate and w.getnframes() == len(a)
            assert len(w.readframes(len(a))) == len(a) * w.getsampwidth() * w.getnchannels()
    return a


def rendered(spec: str, n: int) -> F64:
    out = np.zeros(n, dtype=np.float32)
    signals.render(signals.parse_signal(spec), 0, n, FS, out)
    return out.astype(np.float64)[:, None]


def sidecar(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".json").read_text())


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


def tone_continuity(x: F64, freq: float, seg: int = 480) -> tuple[float, float, float, float]:
    """Fit a sine of ``freq`` Hz to every ``seg``-sample segment (absolute time).

    Returns (frequency in Hz, lowest and highest amplitude, largest phase residual in
    radians after a straight-line fit). A lost or repeated block of k samples shows as a
    phase step of 2*pi*freq*k/fs (0.13 rad per sample at 997 Hz), or as a dip in amplitude.
    """
    phases, amps = [], []
    for s in range(0, len(x) - seg + 1, seg):
        n = np.arange(s, s + seg)
        w = 2 * np.pi * freq * n / FS
        basis = np.stack([np.cos(w), np.sin(w)], axis=1)
        (a, b), *_ = np.linalg.lstsq(basis, x[s : s + seg], rcond=None)
        phases.append(np.arctan2(b, a))
        amps.append(np.hypot(a, b))
    ph = np.unwrap(np.array(phases))
    k = np.arange(len(ph))
    fit = np.polyfit(k, ph, 1)
    residual = float(np.max(np.abs(ph - np.polyval(fit, k))))
    est = freq + fit[0] * FS / (2 * np.pi * seg)
    return float(est), float(np.min(amps)), float(np.max(amps)), residual


# -- lossless sources --------------------------------------------------------------------------


def test_a_test_signal_with_a_duration_is_recorded_exactly(tmp_path: Path) -> None:
    out = tmp_path / "sig.wav"
    done = record(str(out), "--input", "tone:997@-6", "--duration", "2.5")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""  # quiet when not on a terminal
    y = read3(out)
    assert len(y) == 120_000 and sf.info(str(out)).subtype == "PCM_24"
    np.testing.assert_allclose(y, rendered("tone:997@-6", 120_000), atol=2.0**-23)
    side = sidecar(out)
    assert side["samplerate"] == FS and side["channels"] == 1 and side["subtype"] == "PCM_24"
    assert side["duration_s"] == 2.5 and side["frames"] == 120_000
    assert (side["overflows"], side["gaps"], side["lost_frames"]) == (0, 0, 0)
    assert side["complete"] is True and side["ended_by"] == "duration"
    assert side["source"] == "test signal 'tone:997@-6'"
    assert side["analysis"]["fft"] == 4096
    started = dt.datetime.fromisoformat(side["start_utc"].replace("Z", "+00:00"))
    assert started.tzinfo is not None and started.utcoffset() == dt.timedelta(0)


def test_a_file_and_stdin_are_recorded_bit_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (30_000, 2)).astype(np.float32)
    src = tmp_path / "in.wav"
    sf.write(str(src), x, FS, subtype="FLOAT")
    done = record(str(tmp_path / "f.wav"), "--input", str(src), "--subtype", "float")
    assert done.returncode == 0, done.stderr
    y, _ = sf.read(str(tmp_path / "f.wav"), dtype="float32")
    np.testing.assert_array_equal(y, x)
    assert sidecar(tmp_path / "f.wav")["ended_by"] == "end of input"

    pcm = rng.integers(-32768, 32768, 50_000, dtype=np.int16)
    done = record(
        str(tmp_path / "s.wav"), "--input", "-", "--subtype", "PCM_16", input=pcm.tobytes()
    )
    assert done.returncode == 0, done.stderr
    with wave.open(str(tmp_path / "s.wav"), "rb") as w:
        got = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    np.testing.assert_array_equal(got, pcm)


def test_an_input_shorter_than_the_duration_ends_by_end_of_input(tmp_path: Path) -> None:
    """A file or a pipe that ends before --duration: the sidecar says the input ended, not
    that the duration was reached (it said "duration" for half a second of a 5 s take)."""
    short = tmp_path / "short.wav"
    sf.write(str(short), rendered("tone:440", FS // 2), FS, subtype="FLOAT")
    pcm = (rendered("tone:440", FS // 2)[:, 0] * 32767).astype("<i2").tobytes()
    for name, args, data in [
        ("file.wav", ["--input", str(short)], b""),
        ("pipe.wav", ["--input", "-"], pcm),
    ]:
        out = tmp_path / name
        done = record(str(out), *args, "--duration", "5", input=data)
        assert done.returncode == 0, done.stderr
        side = sidecar(out)
        assert (side["frames"], side["ended_by"]) == (FS // 2, "end of input")
    out = tmp_path / "full.wav"
    assert record(str(out), "--input", str(short), "--duration", "0.25").returncode == 0
    assert (sidecar(out)["frames"], sidecar(out)["ended_by"]) == (FS // 4, "duration")


def test_numbered_parts_past_a_lowered_threshold_have_no_gap(tmp_path: Path) -> None:
    out = tmp_path / "big.wav"
    done = record(
        str(out), "--input", "tone:997", "--duration", "3", "--subtype", "PCM_16",
        "--split-bytes", "100000",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    names = ["big.wav", "big-002.wav", "big-003.wav"]
    assert sorted(p.name for p in tmp_path.glob("big*.wav")) == sorted(names)
    parts = [read3(tmp_path / n) for n in names]
    assert [len(p) for p in parts] == [49_978, 49_978, 44_044]
    np.testing.assert_allclose(np.concatenate(parts), rendered("tone:997", 3 * FS), atol=2**-15)
    assert sidecar(out)["parts"] == names


# -- never overwrite ---------------------------------------------------------------------------


def test_an_existing_file_is_left_untouched_without_force(tmp_path: Path) -> None:
    out = tmp_path / "take1.wav"
    out.write_bytes(b"a recording that cannot be made again")
    before = out.stat()
    done = record(str(out), "--input", "tone:440", "--duration", "1")
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"livespec: '{out}' already exists: not overwriting it (use --force to replace it)"
    )
    after = out.stat()
    assert out.read_bytes() == b"a recording that cannot be made again"
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take1.wav"]

    done = record(str(out), "--input", "tone:440", "--duration", "1", "--force")
    assert done.returncode == 0, done.stderr
    assert len(read3(out)) == FS


def test_force_with_an_input_that_ends_before_its_first_frame_keeps_the_old_take(
    tmp_path: Path,
) -> None:
    """Empty stdin under --force: the earlier take was set aside for the new one; with no
    frame recorded it is put back byte for byte, not left hidden (where the next such run
    replaced it: the take was lost)."""
    out = tmp_path / "keep.wav"
    assert record(str(out), "--input", "tone:440", "--duration", "0.2").returncode == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for _ in range(2):
        done = record(str(out), "--force", "--input", "-", input=b"")
        assert done.returncode == 0, done.stderr
        assert one_line(done.stderr) == f"livespec: nothing was recorded ('{out}' left as it was)"
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_force_never_replaces_a_take_an_unfinished_force_set_aside(tmp_path: Path) -> None:
    """After a crash the old take is still there as ``.OUT.wav.replaced`` (docs/recording.md):
    a new --force recording must not put the crashed one over it."""
    out = tmp_path / "take.wav"
    out.write_bytes(b"the crashed take")
    hidden = tmp_path / ".take.wav.replaced"
    hidden.write_bytes(b"the take that cannot be made again")
    done = record(str(out), "--force", "--input", "tone:440", "--duration", "0.2")
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"livespec: '{hidden}' holds a take set aside by an unfinished --force recording: "
        "rename or remove it first"
    )
    assert hidden.read_bytes() == b"the take that cannot be made again"
    assert out.read_bytes() == b"the crashed take"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".take.wav.replaced", "take.wav"]


def test_a_folder_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "take.wav").write_bytes(b"a file, not a folder")
    out = tmp_path / "take.wav" / "x.wav"
    done = record(str(out), "--input", "tone:440", "--duration", "0.2")
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"livespec: cannot record to '{out}': '{out.parent}' is not a folder"
    )
    done = record(str(tmp_path / "nodir" / "x.wav"), "--input", "tone:440", "--duration", "0.2")
    assert done.returncode == 2
    assert one_line(done.stderr).endswith(f"folder '{tmp_path / 'nodir'}' does not exist")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "-1"], "--duration -1: must be positive"),
        (["--duration", "nan"], "--duration nan: must be positive"),
        (
            ["--duration", "inf"],
            "--duration inf: must be finite (leave it out to record until stopped)",
        ),
        (
            ["--duration", "1e308"],
            "--duration 1e+308: must be at most 1e+09 seconds (leave it out to record until "
            "stopped)",
        ),
        (["--preroll", "-2"], "--preroll -2: must be from 0 to 60 seconds"),
        (["--preroll", "3000"], "--preroll 3000: must be from 0 to 60 seconds"),
        (["--preroll", "1e9"], "--preroll 1e9: must be from 0 to 60 seconds"),
        (["--preroll", "nan"], "--preroll nan: must be from 0 to 60 seconds"),
        (["--split-bytes", "10"], "--split-bytes 10: must be 1024..4294967295"),
    ],
)
def test_bad_options_are_one_line_with_status_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = record(str(tmp_path / "x.wav"), "--input", "tone:440", *args)
    assert done.returncode == 2
    assert one_line(done.stderr) == f"livespec: {message}"
    assert list(tmp_path.iterdir()) == []


# -- crashes and signals -------------------------------------------------------------------


class Feeder:
    """Writes raw s16le PCM into a child's stdin from a thread, like ``arecord``, and logs
    (time, frames sent) so a test knows what was sent before a given moment."""

    def __init__(self, proc: subprocess.Popen[bytes], data: npt.NDArray[np.int16]) -> None:
        self.proc, self.data = proc, data
        self.log: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        block = FS // 50
        stdin = self.proc.stdin
        assert stdin is not None
        t0 = time.monotonic()
        try:
            for i in range(0, len(self.data), block):
                stdin.write(self.data[i : i + block].tobytes())
                stdin.flush()
                sent = min(i + block, len(self.data))
                self.log.append((time.monotonic(), sent))
                delay = t0 + sent / FS - time.monotonic()  # real time
                if delay > 0:
                    time.sleep(delay)
        except (BrokenPipeError, ValueError, OSError):
            pass

    def sent_before(self, t: float) -> int:
        return max(n for when, n in self.log if when <= t)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
def test_kill_9_while_streaming_keeps_all_audio_older_than_one_second(
    tmp_path: Path, subtype: str
) -> None:
    out = tmp_path / "k.wav"
    data = np.random.default_rng(9).integers(-30000, 30000, 20 * FS, dtype=np.int16)
    proc = start(str(out), "--input", "-", "--subtype", subtype, stdin=subprocess.PIPE)
    feeder = Feeder(proc, data)
    feeder.thread.start()
    wait_for(lambda: header_frames(out) >= int(2.3 * FS), "2.3 s in the file")
    t_kill = time.monotonic()
    proc.kill()
    proc.wait(timeout=30)
    feeder.thread.join(timeout=30)
    y = read3(out)
    older = feeder.sent_before(t_kill - 1.0)
    assert older > 0
    assert len(y) >= older, f"{older - len(y)} frames sent over 1 s before the kill are missing"
    np.testing.assert_array_equal(np.round(y[:, 0] * 32768).astype(np.int16), data[: len(y)])
    side = sidecar(out)  # written at the start, refreshed every 10 s
    assert side["complete"] is False and side["subtype"] == subtype


def test_kill_9_when_idle_keeps_every_frame(tmp_path: Path) -> None:
    """All audio sent more than a second before the kill is in the file, bit for bit.

    Whole blocks only: the stdin source waits for a full block (1024 frames) before it
    passes any of it on."""
    out = tmp_path / "idle.wav"
    data = np.random.default_rng(3).integers(-32768, 32768, 120 * 1024, dtype=np.int16)
    proc = start(str(out), "--input", "-", "--subtype", "PCM_16", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(data.tobytes())
    proc.stdin.flush()  # the pipe stays open: the recording goes on
    time.sleep(1.0)  # "older than one second" is the requirement itself
    proc.kill()
    proc.wait(timeout=30)
    y = read3(out)
    assert len(y) == len(data)
    np.testing.assert_array_equal(np.round(y[:, 0] * 32768).astype(np.int16), data)


def test_kill_9_right_after_the_start_leaves_a_readable_file(tmp_path: Path) -> None:
    out = tmp_path / "early.wav"
    proc = start(str(out), "--input", "tone:997", "--subtype", "PCM_16")
    wait_for(out.exists, "the file")
    proc.kill()
    proc.wait(timeout=30)
    y = read3(out)  # possibly empty, never unreadable
    np.testing.assert_allclose(y, rendered("tone:997", len(y)), atol=2**-15)


@pytest.mark.parametrize(
    ("sig", "status"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
)
def test_stop_signals_finalise_the_file_with_a_documented_status(
    tmp_path: Path, sig: signal.Signals, status: int
) -> None:
    out = tmp_path / "sig.wav"
    proc = start(  # an endless test signal runs in real time
        str(out),
        "--input",
        "tone:997@-3",
        "--subtype",
        "FLOAT",
        preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL),  # even if CI ignores it
    )
    wait_for(lambda: header_frames(out) >= FS // 2, "0.5 s in the file")
    seen = header_frames(out)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == status, err
    assert err == b""
    y = read3(out, pcm=False)
    assert len(y) >= seen
    # Every frame up to the end is the test signal: no lost or repeated block.
    np.testing.assert_array_equal(y, rendered("tone:997@-3", len(y)))
    side = sidecar(out)
    assert side["complete"] is True and side["ended_by"] == sig.name
    assert side["frames"] == len(y) and side["duration_s"] == round(len(y) / FS, 6)


def test_sigterm_ends_a_recording_from_a_silent_pipe(tmp_path: Path) -> None:
    """A producer blocked reading stdin does not keep the process alive after the signal."""
    out = tmp_path / "pipe.wav"
    proc = start(str(out), "--input", "-", stdin=subprocess.PIPE)  # nothing is ever sent
    wait_for(lambda: out.with_name("pipe.wav.json").exists(), "the recording to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert sidecar(out)["ended_by"] == "SIGTERM" and len(read3(out)) == 0
    assert proc.stdin is not None
    proc.stdin.close()


def test_an_ignored_sighup_keeps_recording_like_nohup(tmp_path: Path) -> None:
    out = tmp_path / "nohup.wav"
    proc = start(
        str(out),
        "--input",
        "tone:997",
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    wait_for(lambda: header_frames(out) >= FS // 4, "0.25 s in the file")
    proc.send_signal(signal.SIGHUP)
    at_hup = header_frames(out)
    wait_for(lambda: header_frames(out) >= at_hup + FS // 2, "recording to go on")
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert sidecar(out)["ended_by"] == "SIGTERM"


# -- a full disk -------------------------------------------------------------------------------


def test_a_full_disk_ends_with_one_line_status_1_and_a_readable_file(tiny_disk: Path) -> None:
    out = tiny_disk / "full.wav"
    done = record(str(out), "--input", "tone:997", "--duration", "60")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(f"livespec: recording to '{out}' stopped after ")
    assert line.endswith(" s: No space left on device (ENOSPC)")
    y = read3(out)
    assert len(y) > 300_000  # about 1 MiB of 3-byte frames
    np.testing.assert_allclose(y, rendered("tone:997", len(y)), atol=2**-23)
    side = sidecar(out)
    assert side["error"] == line.removeprefix("livespec: ") and side["ended_by"] == "error"


# -- the status line ---------------------------------------------------------------------------


def test_a_terminal_gets_a_live_status_line(tmp_path: Path) -> None:
    out = tmp_path / "tty.wav"
    master, slave = pty.openpty()
    proc = start(
        str(out),
        "--input",
        "tone:997@-6",
        stdout=slave,
        stderr=slave,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    seen = b""

    def read_some() -> bool:
        nonlocal seen
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                return True
            if not chunk:
                return True
            seen += chunk
        return False

    try:
        wait_for(lambda: read_some() or b"REC 0:00:02" in seen, "a status line after 2 s")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        wait_for(read_some, "the end of the output")
        os.close(master)
    assert proc.returncode == 130
    lines = [seg.removesuffix("\x1b[K") for seg in seen.decode().split("\r") if seg.strip()]
    live = [seg for seg in lines if seg.startswith("REC 0:00:01")]
    assert live, lines
    assert live[-1].endswith(" MB  tty.wav")
    assert "  -6.0 dBFS  overflows 0  " in live[-1]
    assert lines[-1].startswith("saved 0:00:0") and lines[-1].endswith(" MB  tty.wav")


# -- the virtual input device -------------------------------------------------------------------


def silent_runs(x: F64, shortest: int = 24) -> list[tuple[int, int]]:
    """(start, length) of every run of exact digital zeros of at least ``shortest`` samples."""
    zero = np.concatenate([[False], x == 0.0, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    runs = [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [r for r in runs if r[1] >= shortest]


def test_recording_the_virtual_device_is_exact_and_continuous(
    tmp_path: Path, virtual_audio: VirtualAudio
) -> None:
    """Duration, rate and content of a device recording; the tone has no discontinuity.

    997 Hz is used because no whole number of samples below one second is a whole number
    of its periods: any lost or repeated block, of any length, moves its phase.

    The recorder's own losses are filled with silence and counted (the sidecar must say
    0). A run of exact digital silence with no count is the virtual device's own underrun
    (PulseAudio's null sink plays silence when its feeder is late on a loaded machine):
    then the tone is checked on each side of it and a warning names the underruns."""
    out = tmp_path / "dev.wav"
    virtual_audio.set_tone(997.0, 0.5)
    try:
        done = record(
            str(out), "--device", "pulse", "-r", "48000", "--duration", "3",
            "--subtype", "FLOAT", env=virtual_audio.env,
        )  # fmt: skip
    finally:
        virtual_audio.set_tone(1000.0, 0.5)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    side = sidecar(out)
    assert side["device"] == "pulse" and side["hostapi"] == "ALSA"
    assert side["samplerate"] == FS and side["channels"] == 1
    assert side["frames"] == 3 * FS and side["ended_by"] == "duration"
    assert (side["overflows"], side["gaps"], side["lost_frames"]) == (0, 0, 0)
    y = read3(out, pcm=False)[:, 0]
    assert len(y) == 3 * FS and sf.info(str(out)).samplerate == FS
    runs = silent_runs(y)
    if runs and runs[0][0] == 0:  # the device may start with silence
        runs = runs[1:]
    if runs:
        warnings.warn(f"the virtual device played silence (underruns): {runs}", stacklevel=1)
    assert sum(n for _, n in runs) < FS // 10
    bounds = [int(np.argmax(np.abs(y) > 0.05))]
    for a, n in runs:
        bounds += [a, a + n]
    bounds.append(len(y))
    checked = 0
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):
        if b - a < 4800:
            continue
        freq, lo, hi, residual = tone_continuity(y[a:b], 997.0)
        assert abs(freq - 997.0) < 0.01, (a, b)
        assert 0.499 < lo <= hi < 0.501, (a, b)
        assert residual < 0.01, (a, b)  # radians; one lost sample would be 0.13
        checked += b - a
    assert checked > 2 * FS


def test_kill_9_while_splitting_leaves_a_sidecar_listing_every_part(tmp_path: Path) -> None:
    """The sidecar is rewritten as each part opens, not only every 10 s."""
    out = tmp_path / "split.wav"
    proc = start(  # an endless test signal runs in real time: about 1 s per part
        str(out), "--input", "tone:997", "--subtype", "PCM_16", "--split-bytes", "100000"
    )
    part4 = tmp_path / "split-004.wav"
    wait_for(part4.exists, "the fourth part")
    time.sleep(0.3)  # well inside part 4
    proc.kill()
    proc.wait(timeout=30)
    names = ["split.wav", *sorted(p.name for p in tmp_path.glob("split-*.wav"))]
    assert len(names) >= 4
    side = sidecar(out)
    assert side["complete"] is False
    assert side["parts"] == names
    for n in names:
        read3(tmp_path / n)


# -- refused at the start: a full disk, no permission ------------------------------------------


def test_an_already_full_disk_is_named_at_the_start(tiny_disk: Path) -> None:
    (tiny_disk / "filler").write_bytes(bytes(1 << 20))  # tmpfs: every page is taken
    out = tiny_disk / "late.wav"
    done = record(str(out), "--input", "tone:997", "--duration", "1")
    assert done.returncode == 1, done.stderr
    assert one_line(done.stderr) == (
        f"livespec: cannot write '{out}': No space left on device (ENOSPC)"
    )
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


def test_a_disk_with_room_for_the_header_but_not_the_sidecar_is_status_1(
    tiny_disk: Path,
) -> None:
    """One page (4 KiB) left on the 1 MiB tmpfs: the WAV's header is written, the sidecar
    is not. A full disk is status 1 (docs/recording.md), whichever file meets it first."""
    (tiny_disk / "filler").write_bytes(bytes((1 << 20) - 4096))
    out = tiny_disk / "late.wav"
    done = record(str(out), "--input", "tone:997", "--duration", "1")
    assert done.returncode == 1, done.stderr
    assert one_line(done.stderr) == (
        f"livespec: cannot write '{out}.json': No space left on device (ENOSPC)"
    )
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


def test_a_read_only_file_system_is_named_at_the_start(tiny_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    out = tiny_disk / "ro.wav"
    done = record(str(out), "--input", "tone:997", "--duration", "1")
    assert done.returncode == 2, done.stderr
    assert one_line(done.stderr) == (
        f"livespec: cannot create '{out}': Read-only file system (EROFS)"
    )


def test_a_folder_without_write_permission_is_named_at_the_start() -> None:
    """Run without the capability that lets root ignore mode bits (``setpriv`` drops
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set), in a folder nobody
    may write, root included. The user stays the same, so the checkout is readable
    wherever it is (a ``mktemp -d`` folder that only its owner may enter)."""
    if not os.path.exists("/usr/bin/setpriv"):
        pytest.skip("setpriv is not available")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="livespec-denied-", dir="/tmp"))
    try:
        folder.chmod(0o555)
        out = folder / "denied.wav"
        done = subprocess.run(
            ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *RECORD,
             str(out), "--input", "tone:997", "--duration", "1"],
            env={**os.environ, "LIVESPEC_CONFIG": "/nonexistent/livespec.toml"},
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert one_line(done.stderr) == (
            f"livespec: cannot create '{out}': Permission denied (EACCES)"
        )
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


def test_a_source_that_fails_midway_keeps_the_audio_and_the_reason_in_the_sidecar(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.wav"
    x = rendered("tone:440", 2 * FS)[:, 0].astype(np.float32)
    x[FS] = np.nan  # damaged one second in
    sf.write(str(bad), x, FS, subtype="FLOAT")
    out = tmp_path / "out.wav"
    done = record("-i", str(bad), str(out), "--subtype", "FLOAT")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.endswith(f"; '{out}' is complete up to that point"), line
    y = read3(out, pcm=False)
    assert 0 < len(y) <= FS
    np.testing.assert_array_equal(y[:, 0], x[: len(y)])
    side = sidecar(out)
    assert side["ended_by"] == "error" and side["complete"] is True
    reason = line.removeprefix("livespec: ").removesuffix(f"; '{out}' is complete up to that point")
    assert "is not a number" in reason and side["error"] == reason


def test_a_source_that_fails_before_its_first_frame_leaves_no_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    sf.write(str(bad), np.full(48000, np.nan, dtype=np.float32), FS, subtype="FLOAT")
    out = tmp_path / "out.wav"
    done = record("-i", str(bad), str(out))
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "not a number" in err and "nothing was recorded" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wav"]
    # --force over an earlier take: the source fails before its first frame, so the old
    # take is put back byte for byte and the message says so
    done = record(str(out), "-i", "tone:440", "--duration", "0.2")
    assert done.returncode == 0, done.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    done = record("-i", str(bad), str(out), "--force")
    assert done.returncode == 1
    assert one_line(done.stderr).endswith(f"nothing was recorded ('{out}' left as it was)")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
