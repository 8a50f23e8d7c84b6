"""The sound-card source (livespec/audio/device.py), against a real PortAudio input device.

The device is ``pulse``: a private PulseAudio server playing a known sine (see
tests/support/virtual_audio.py). PortAudio lists devices when ``sounddevice`` is imported, so
everything that touches PortAudio runs in a subprocess started after the device; the
pure parts (choosing a device by name, the table) run here on made-up device lists.
"""

from __future__ import annotations

import json
import math
import os
import select
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.virtual_audio import VirtualAudio

from livespec.audio import devices as devices_mod
from livespec.audio.device import DeviceSource
from livespec.audio.devices import DeviceInfo, format_devices, resolve_device
from livespec.errors import SourceError, UsageError

RunLivespec = Callable[..., "subprocess.CompletedProcess[str]"]  # the run_livespec fixture
RATE = 48000
FFT = 4096
BIN_HZ = RATE / FFT
FREQ_TOL = 0.01 * BIN_HZ  # Hz: 0.01 bin
LEVEL_TOL = 0.1  # dB
NO_PORTAUDIO = (
    "livespec: PortAudio library not found: install it (sudo apt-get install libportaudio2), "
    "or use --input demo / --input FILE"
)


def _frames(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single ``livespec: ...`` line of a run that failed with exit status 2."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("livespec: ")
    assert "Traceback" not in done.stderr
    return lines[0]


def _python(code: str, env: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


# -- choosing a device (no PortAudio: made-up device lists) ------------------------------------


def _info(index: int, name: str, is_default: bool = False) -> DeviceInfo:
    return DeviceInfo(index, name, "ALSA", 2, 44100.0, is_default)


FAKE = [
    _info(0, "USB Mic"),
    _info(1, "USB Mic (2)"),
    _info(3, "pulse"),
    _info(4, "default", is_default=True),
]


@pytest.fixture
def fake_devices(monkeypatch: pytest.MonkeyPatch) -> list[DeviceInfo]:
    devices = list(FAKE)
    monkeypatch.setattr(devices_mod, "list_input_devices", lambda: devices)
    return devices


@pytest.mark.parametrize(
    ("spec", "index"),
    [
        (None, 4),  # the default input device
        (3, 3),
        ("3", 3),
        (" 1 ", 1),
        ("usb mic", 0),  # an exact name wins over two substring matches
        ("PULSE", 3),
        ("(2)", 1),  # a unique substring
        ("faul", 4),
    ],
)
def test_resolve_device_picks(
    fake_devices: list[DeviceInfo], spec: str | int | None, index: int
) -> None:
    assert resolve_device(spec).index == index


def test_resolve_device_without_default_takes_the_first(fake_devices: list[DeviceInfo]) -> None:
    fake_devices[3] = _info(4, "default", is_default=False)
    assert resolve_device(None).index == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown input device 'nope' (see `livespec devices`)"),
        (2, "no input device with index 2 (see `livespec devices`)"),
        ("7", "no input device with index 7 (see `livespec devices`)"),
        (
            "mic",
            "input device name 'mic' matches 2 devices (0 'USB Mic', 1 'USB Mic (2)'): give its "
            "index with --device INDEX (see `livespec devices`)",
        ),
    ],
)
def test_resolve_device_errors(
    fake_devices: list[DeviceInfo], spec: str | int, message: str
) -> None:
    with pytest.raises(SourceError) as err:
        resolve_device(spec)
    assert str(err.value) == message
    assert err.value.exit_code == 2


def test_no_input_device_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices_mod, "list_input_devices", lambda: [])
    with pytest.raises(SourceError, match=r"^no audio input device found: see `livespec devi"):
        resolve_device(None)
    assert devices_mod.devices_command(as_json=True) == "[]"
    with pytest.raises(SourceError, match=r"^no audio input device found: PortAudio lists none"):
        devices_mod.devices_command()  # 'livespec devices' itself: exit 2, not itself again


def test_format_devices_table() -> None:
    lines = format_devices(FAKE).splitlines()
    assert lines[0].split() == ["index", "name", "host", "API", "channels", "default", "rate"]
    assert lines[1].split() == ["0", "USB", "Mic", "ALSA", "2", "44100", "Hz"]
    assert lines[4].split() == [">", "4", "default", "ALSA", "2", "44100", "Hz"]
    assert lines[5].startswith("> = default input device")
    assert sum(line.startswith(">") for line in lines[1:5]) == 1


def test_devices_command_json(fake_devices: list[DeviceInfo]) -> None:
    data = json.loads(devices_mod.devices_command(as_json=True))
    assert data[3] == {
        "index": 4,
        "name": "default",
        "hostapi": "ALSA",
        "max_input_channels": 2,
        "default_samplerate": 44100.0,
        "is_default": True,
    }
    assert [d["name"] for d in data] == [d.name for d in FAKE]


@pytest.mark.parametrize(
    "kwargs",
    [{"samplerate": 0}, {"channels": 0}, {"blocksize": 0}, {"latency": "medium"}, {"latency": -1}],
)
def test_device_source_rejects_bad_options(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        DeviceSource("pulse", **kwargs)


# -- the CLI against the virtual device -------------------------------------------------------


@pytest.mark.virtual_audio
def test_devices_lists_pulse_with_its_rate(
    virtual_audio: VirtualAudio, run_livespec: RunLivespec
) -> None:
    done = run_livespec("devices", "--json", env=virtual_audio.env)
    assert done.returncode == 0, done.stderr
    by_name = {d["name"]: d for d in json.loads(done.stdout)}
    pulse = by_name["pulse"]
    assert pulse["hostapi"] == "ALSA"
    assert pulse["max_input_channels"] >= 1
    assert pulse["default_samplerate"] > 0
    rate = f"{pulse['default_samplerate']:.0f} Hz"

    for args in (["devices"], ["--list-devices"]):
        done = run_livespec(*args, env=virtual_audio.env)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        rows = [line.split() for line in done.stdout.splitlines()]
        row = next(r for r in rows if "pulse" in r)
        assert str(pulse["index"]) in row
        assert " ".join(row).endswith(rate)


@pytest.mark.virtual_audio
def test_peaks_reports_the_fed_tone(virtual_audio: VirtualAudio, run_livespec: RunLivespec) -> None:
    done = run_livespec(
        *("peaks", "--device", "pulse", "--samplerate", str(RATE), "--fft", str(FFT)),
        *("--window", "hann", "--duration", "4", "--json"),
        env=virtual_audio.env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    frames = _frames(done.stdout)
    steady = [f for f in frames if f["t"] > 1.0]
    assert len(steady) >= 10, done.stdout
    want_db = 20 * math.log10(virtual_audio.amp)
    for f in steady:
        assert abs(f["freq_hz"] - virtual_audio.freq) <= FREQ_TOL, f
        assert abs(f["level_dbfs"] - want_db) <= LEVEL_TOL, f
        assert f["note"] is not None
    assert max(f["t"] for f in frames) <= 4.0
    assert all(f["overflows"] == 0 for f in frames)


@pytest.mark.virtual_audio
def test_set_tone_is_reported_by_a_running_capture(virtual_audio: VirtualAudio) -> None:
    """Retune the device while ``peaks`` runs: the new tone shows up, nothing is lost."""
    cmd = [sys.executable, "-m", "livespec", "peaks", "--device", "pulse"]
    cmd += ["--samplerate", str(RATE), "--fft", str(FFT), "--duration", "6", "--json"]
    env = {**os.environ, **virtual_audio.env, "PYTHONUNBUFFERED": "1"}
    before: list[dict[str, Any]] = []
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # 1000 Hz until the tone is switched
            before.append(json.loads(line))
            if before[-1]["t"] > 1.0:
                break
        virtual_audio.set_tone(2500.0)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        virtual_audio.set_tone(1000.0, 0.5)
    assert proc.returncode == 0, err
    assert err == ""
    after = _frames(out)
    assert before[-1]["t"] > 1.0
    assert all(abs(f["freq_hz"] - 1000.0) <= FREQ_TOL for f in before if f["t"] > 0.5)
    switched = [f["t"] for f in after if abs(f["freq_hz"] - 2500.0) <= FREQ_TOL]
    assert switched, out
    # Frames whose window holds the switch (both feeders play for a few ms, make before
    # break) mix the tones; from half a second later on, only the new tone is there.
    settled = [f for f in after if f["t"] > switched[0] + 0.5]
    assert settled[-1]["t"] - settled[0]["t"] > 2.0, out
    for f in settled:
        assert abs(f["freq_hz"] - 2500.0) <= FREQ_TOL, f
        assert abs(f["level_dbfs"] - 20 * math.log10(0.5)) <= LEVEL_TOL, f
    assert after[-1]["overflows"] == 0


@pytest.mark.virtual_audio
def test_unknown_device_is_one_line(virtual_audio: VirtualAudio, run_livespec: RunLivespec) -> None:
    done = run_livespec(
        "peaks", "--device", "no-such-mic", "--duration", "1", env=virtual_audio.env
    )
    line = _one_error_line(done)
    assert line == "livespec: unknown input device 'no-such-mic' (see `livespec devices`)"
    assert done.stdout == ""


@pytest.mark.virtual_audio
def test_ambiguous_device_is_one_line(
    virtual_audio: VirtualAudio, run_livespec: RunLivespec
) -> None:
    # 'e' is in both 'pulse' and 'default'
    line = _one_error_line(run_livespec("peaks", "--device", "e", env=virtual_audio.env))
    assert "'pulse'" in line and "'default'" in line and "--device INDEX" in line


@pytest.mark.virtual_audio
def test_unsupported_samplerate_is_one_line(
    virtual_audio: VirtualAudio, run_livespec: RunLivespec
) -> None:
    done = run_livespec(
        "peaks", "--device", "pulse", "--samplerate", "400000", "--duration", "1",
        env=virtual_audio.env,
    )  # fmt: skip
    line = _one_error_line(done)
    assert line.startswith("livespec: sample rate 400000 Hz is not supported by 'pulse': ")


@pytest.mark.virtual_audio
def test_too_many_channels_is_one_line(
    virtual_audio: VirtualAudio, run_livespec: RunLivespec
) -> None:
    done = run_livespec("peaks", "--device", "pulse", "--channels", "64", env=virtual_audio.env)
    line = _one_error_line(done)
    assert "64 channels requested but 'pulse' has" in line


# A meta-path finder that makes ``import sounddevice`` fail the way it does on a machine
# without libportaudio2: sounddevice raises OSError('PortAudio library not found').
NO_PORTAUDIO_CODE = """
import importlib.abc, importlib.machinery, sys

class NoPortAudio(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise OSError("PortAudio library not found")

sys.meta_path.insert(0, NoPortAudio())
from livespec.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.virtual_audio
@pytest.mark.parametrize(
    "args",
    [
        ["peaks", "--device", "pulse", "--duration", "1"],
        ["peaks", "--duration", "1"],
        ["devices"],
        ["devices", "--json"],
        ["--list-devices"],
    ],
)
def test_portaudio_missing_is_one_line(virtual_audio: VirtualAudio, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_PORTAUDIO_CODE, *args],
        env={**os.environ, **virtual_audio.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert _one_error_line(done) == NO_PORTAUDIO


def test_sounddevice_not_installed_is_one_line() -> None:
    code = (
        "import sys\n"
        "sys.modules['sounddevice'] = None  # as if the package were not installed\n"
        "from livespec.cli import main\n"
        "sys.exit(main(['devices']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    line = _one_error_line(done)
    assert line.startswith("livespec: the sounddevice module cannot be imported")
    assert "pip install sounddevice" in line


# -- DeviceSource and RingBuffer, in a subprocess ---------------------------------------------


CAPTURE_CODE = """
import json, math, time
import numpy as np
from livespec.audio.device import DeviceSource
from livespec.audio.ringbuffer import RingBuffer

src = DeviceSource("pulse", samplerate=48000, blocksize=1024)
src.open()
ring = RingBuffer(4 * 48000)
src.start(ring)
time.sleep(0.5)
w0, t0 = ring.written, time.monotonic()
lost = False
while time.monotonic() - t0 < 2.0:
    lost = lost or src.input_lost()
    time.sleep(0.01)
w1, t1 = ring.written, time.monotonic()
active, latency = src.stream_active, src.latency_seconds
src.stop()
src.stop()  # idempotent
x = ring.window(0, ring.written)[:, 0].astype(np.float64)
# A sampled sinusoid obeys x[n+1] + x[n-1] = 2 cos(w) x[n] exactly: a dropped, repeated or
# shifted sample leaves a residual of the order of the amplitude.
w = 2 * math.pi * 1000.0 / 48000
residual = np.abs(x[2:] + x[:-2] - 2 * math.cos(w) * x[1:-1])
c = np.dot(x[1:-1], x[2:] + x[:-2]) / (2 * np.dot(x[1:-1], x[1:-1]))
print(json.dumps({
    "samplerate": src.samplerate, "channels": src.channels, "description": src.description,
    "frames": int(x.size), "rate": (w1 - w0) / (t1 - t0),
    "residual_max": float(residual.max()), "jumps": int((residual > 1e-3).sum()),
    "freq": math.acos(c) * 48000 / (2 * math.pi),
    "level_db": 20 * math.log10(math.sqrt(np.mean(x**2)) * math.sqrt(2)),
    "overflows": src.overflows, "lost": lost, "active": active, "latency": latency,
    "active_after_stop": src.stream_active, "lost_after_stop": src.input_lost(),
    "error": repr(src.error),
}))
"""


@pytest.mark.virtual_audio
def test_device_source_captures_a_continuous_sine(virtual_audio: VirtualAudio) -> None:
    r = _python(CAPTURE_CODE, virtual_audio.env)
    assert (r["samplerate"], r["channels"]) == (48000, 1)
    assert r["description"] == "device 'pulse' (ALSA, 48000 Hz, 1 ch)"
    assert r["frames"] >= 2 * 48000  # 2.5 s minus the start-up latency
    assert r["jumps"] == 0, r  # no phase jump anywhere, from the first sample on
    assert r["residual_max"] < 1e-4, r
    assert abs(r["freq"] - 1000.0) < 0.01, r
    assert abs(r["level_db"] - 20 * math.log10(0.5)) < 0.01, r
    assert abs(r["rate"] - 48000) < 0.03 * 48000, r  # frames per wall-clock second
    assert r["overflows"] == 0
    assert r["lost"] is False
    assert r["active"] is True and r["active_after_stop"] is False
    assert 0.0 < r["latency"] < 0.5
    assert r["lost_after_stop"] is False and r["error"] == "None"


WATCHDOG_CODE = """
import json, select, sys, time
from livespec.audio.device import DeviceSource
from livespec.audio.ringbuffer import RingBuffer

src = DeviceSource("pulse", samplerate=48000, blocksize=1024)
src.open()
ring = RingBuffer(48000)
src.start(ring)
print("started", flush=True)
events, state = [], False
while not select.select([sys.stdin], [], [], 0.002)[0]:
    lost = src.input_lost()
    if lost != state:
        state = lost
        events.append({"t": time.monotonic(), "lost": lost, "active": src.stream_active})
print(json.dumps({
    "events": events, "finished": src.finished, "error": str(src.error),
    "exit_code": getattr(src.error, "exit_code", None), "overflows": src.overflows,
}))
src.stop()
"""


@pytest.mark.virtual_audio
def test_watchdog_sees_a_stalled_and_a_vanished_device(tmp_path: Path) -> None:
    """input_lost(): True 0.5 s after the device stalls, False again when it resumes, and
    True at once when the server dies (PortAudio ends the stream)."""
    va = VirtualAudio(tmp_path / "va", freq=440.0, amp=0.3)  # not the session's device
    va.start()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WATCHDOG_CODE)],
        env={**os.environ, **va.env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert select.select([proc.stdout], [], [], 30)[0], "the capture did not start"
        assert proc.stdout.readline() == "started\n"
        time.sleep(1.0)  # capture runs
        t_stall = time.monotonic()
        va.suspend()
        time.sleep(1.5)
        t_resume = time.monotonic()
        va.resume()
        time.sleep(1.0)
        t_kill = time.monotonic()
        va.stop()
        time.sleep(1.0)
        out, err = proc.communicate("quit\n", timeout=30)
    finally:
        va.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    r = json.loads(out.splitlines()[-1])
    ev = r["events"]
    assert [e["lost"] for e in ev] == [True, False, True], r
    stall, resume, gone = ev
    assert t_stall < stall["t"] <= t_stall + 1.0, stall["t"] - t_stall
    assert stall["active"] is True  # stalled, not ended
    assert t_resume < resume["t"] < t_kill
    assert t_kill < gone["t"] <= t_kill + 1.0, gone["t"] - t_kill
    assert gone["active"] is False
    assert r["finished"] is True
    assert r["error"].startswith("input stream ended unexpectedly: device 'pulse'")
    assert r["exit_code"] == 1
    assert r["overflows"] == 0


@pytest.mark.virtual_audio
def test_peaks_fails_when_the_device_vanishes(tmp_path: Path) -> None:
    """The CLI ends with status 1 and says why when the sound server dies mid-capture."""
    va = VirtualAudio(tmp_path / "va")
    va.start()
    cmd = [sys.executable, "-m", "livespec", "peaks", "--device", "pulse", "--json"]
    env = {**os.environ, **va.env, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # capturing
        va.stop()
        _, err = proc.communicate(timeout=30)
    finally:
        va.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert json.loads(first)["freq_hz"] == pytest.approx(1000.0, abs=1.0)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    # (PortAudio's ALSA backend printed 'Expression ... failed' lines before it; now held
    # back: tests/test_device_noise.py checks that this line is the only one.)
    assert err.splitlines()[-1].startswith("livespec: input stream ended unexpectedly")


# A capture child's start, shared by the reopen tests: it opens the virtual device, says
# "started", and after a line on stdin (the test stopped the server) waits for the stream
# to end and notes where the ring was.
LOSE_SERVER_CODE = """
import json, sys, time
from livespec.audio.device import DeviceSource
from livespec.audio.ringbuffer import RingBuffer
src = DeviceSource("pulse", 48000, 1, 1024)
src.open()
ring = RingBuffer(48000 * 30, 1)
src.start(ring)
print("started", flush=True)
sys.stdin.readline()  # the server is gone now
deadline = time.monotonic() + 10
while src.stream_active and time.monotonic() < deadline:
    time.sleep(0.05)
lost_at = ring.written
"""

REOPEN_CODE = (
    LOSE_SERVER_CODE
    + """import numpy as np
tries = []
print("lost", flush=True)
sys.stdin.readline()  # the server is back
gap = None
while gap is None and time.monotonic() < deadline + 20:
    gap = src.reopen()
    tries.append(gap)
    time.sleep(0.2)
time.sleep(1.0)
after = ring.window(lost_at, ring.written - lost_at)[:, 0]
silence_end = lost_at + int(np.argmax(after != 0))  # the first sample of the new stream
new = ring.window(ring.written - 24000, 24000)[:, 0]
spec = np.abs(np.fft.rfft(new * np.hanning(new.size)))
peak_hz = float(np.argmax(spec) * 48000 / new.size)
src.stop()
quiet = ring.window(lost_at, min(silence_end - lost_at, 24000))
print(json.dumps({"gap": gap, "silence": silence_end - lost_at, "overflows": src.overflows,
                  "silent": bool(np.all(quiet == 0)), "peak_hz": peak_hz,
                  "tries": len(tries)}), flush=True)
"""
)


def _capture_child(code: str, va: VirtualAudio) -> subprocess.Popen[str]:
    """A Python child running ``code`` on ``va``'s device, its stdin/stdout as text pipes."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **va.env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.virtual_audio
def test_a_device_that_comes_back_is_reopened_with_the_gap_as_silence(tmp_path: Path) -> None:
    """The sound server dies and comes back: reopen() captures again into the same ring,
    the missed time is written as silence (the timeline stays true) and counted as one
    overflow."""
    va = VirtualAudio(tmp_path / "va", freq=1000.0, amp=0.3)  # not the session's device
    va.start()
    proc = _capture_child(REOPEN_CODE, va)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert select.select([proc.stdout], [], [], 30)[0], "the capture did not start"
        assert proc.stdout.readline() == "started\n"
        time.sleep(1.0)
        va.stop()
        t_gone = time.monotonic()
        proc.stdin.write("gone\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "lost\n"
        time.sleep(1.0)
        va.start()
        proc.stdin.write("back\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
        t_back = time.monotonic()
    finally:
        va.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    r = json.loads(out.splitlines()[-1])
    assert r["gap"] is not None and 0.9 < r["gap"] < t_back - t_gone + 1.0, r
    assert abs(r["silence"] - round(r["gap"] * 48000)) <= 48000 * 0.05, r
    assert r["silent"] and r["overflows"] == 1, r
    assert abs(r["peak_hz"] - 1000.0) < 5.0, r  # the tone again, from the reopened stream


def test_a_device_name_with_control_characters_is_shown_escaped() -> None:
    table = devices_mod.format_devices([_info(7, "mic\x1b]2;PWNED\x07\x9b2J", is_default=True)])
    assert "mic\\x1b]2;PWNED\\x07\\x9b2J" in table
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in table)


def test_virtual_audio_script_keeps_its_state_in_va_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``VA_DIR=... virtual_audio.py start|stop``: the device of that folder, not the shared
    default one (``--dir`` still wins). No server is started: start/stop are recorded."""
    from support import virtual_audio as va_mod

    seen: list[tuple[str, Path]] = []
    monkeypatch.setattr(
        va_mod.VirtualAudio, "start", lambda self: seen.append(("start", self.directory))
    )
    monkeypatch.setattr(
        va_mod.VirtualAudio, "stop", lambda self: seen.append(("stop", self.directory))
    )
    mine, other = tmp_path / "va-mine", tmp_path / "other"
    monkeypatch.setenv("VA_DIR", str(mine))
    assert va_mod.main(["start", "--freq", "440"]) == 0
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    assert exports["PULSE_SERVER"] == f"unix:{mine / 'native'}"
    assert va_mod.main(["stop"]) == 0
    assert va_mod.main(["stop", "--dir", str(other)]) == 0
    assert seen == [("start", mine), ("stop", mine), ("stop", other)]


FAILED_REOPEN_CODE = (
    LOSE_SERVER_CODE
    + """t0 = time.monotonic()
tries = [src.reopen() for _ in range(4) if time.sleep(0.3) is None]  # the app's ticks
failed = {"tries": tries, "silence": ring.written - lost_at, "overflows": src.overflows,
          "silent": bool((ring.window(lost_at, ring.written - lost_at) == 0).all())}
print(json.dumps(failed), flush=True)
sys.stdin.readline()  # the server is back
gap = None
while gap is None and time.monotonic() < deadline + 20:
    gap = src.reopen()
    time.sleep(0.2)
print(json.dumps({"gap": gap, "overflows": src.overflows}), flush=True)
src.stop()
"""
)


@pytest.mark.virtual_audio
def test_silence_for_a_device_still_gone_counts_as_lost_input(tmp_path: Path) -> None:
    """Failed reopens write the time without input as silence: that silence is lost input
    and counts as one overflow at once (it was counted only when a reopen worked, so a take
    stopped while the device was gone ended in silence with 0 overflows); the reopen that
    works later adds no second count for the same outage."""
    va = VirtualAudio(tmp_path / "va", freq=1000.0, amp=0.3)  # not the session's device
    va.start()
    proc = _capture_child(FAILED_REOPEN_CODE, va)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert select.select([proc.stdout], [], [], 30)[0], "the capture did not start"
        assert proc.stdout.readline() == "started\n"
        time.sleep(1.0)
        va.stop()
        proc.stdin.write("gone\n")
        proc.stdin.flush()
        assert select.select([proc.stdout], [], [], 30)[0], "no failed reopens"
        failed = json.loads(proc.stdout.readline())
        va.start()
        proc.stdin.write("back\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        va.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert failed["tries"] == [None] * 4, failed  # the device stayed gone
    assert failed["silence"] > 48000 * 4 * 0.3 * 0.9 and failed["silent"], failed
    assert failed["overflows"] == 1, failed
    back = json.loads(out.splitlines()[-1])
    assert back["gap"] is not None and back["overflows"] == 1, back
