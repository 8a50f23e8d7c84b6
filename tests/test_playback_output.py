"""DevicePlayback without a sound card: a fake OutputStream whose callback the test calls.

The feeder thread is real; the test plays PortAudio's part: it calls the callback with
a block and the block's DAC time, and sets the stream's clock. The file is a ramp whose
sample n is n / 2**23 (exact in float32), so every output sample names its file frame.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from conftest import RunLivespec

from livespec.audio import devices, output
from livespec.audio.devices import OutputDeviceInfo
from livespec.errors import SourceError

RATE = 48000
LATENCY = 0.05  # s between a callback and its block at the DAC
BLOCK = 480


class FakeStream:
    """What DevicePlayback uses of sounddevice.OutputStream; the test drives it."""

    def __init__(self, **kw: Any) -> None:
        self.callback = kw["callback"]
        self.finished = kw.get("finished_callback")  # PortAudio's thread, when the stream ends
        self.channels = kw["channels"]
        self.active = True
        self.time = 1000.0
        self.latency = LATENCY

    def start(self) -> None:
        """PortAudio calls back at once: one block of silence (the player is paused),
        at the DAC immediately."""
        buf = np.zeros((BLOCK, self.channels), dtype=np.float32)
        self.callback(buf, BLOCK, SimpleNamespace(outputBufferDacTime=self.time), None)
        self.time += BLOCK / RATE

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class Abort(Exception):
    pass


@pytest.fixture
def fake_device(monkeypatch: pytest.MonkeyPatch) -> list[FakeStream]:
    streams: list[FakeStream] = []

    def make(**kw: Any) -> FakeStream:
        streams.append(FakeStream(**kw))
        return streams[-1]

    sd = SimpleNamespace(OutputStream=make, CallbackAbort=Abort)
    info = OutputDeviceInfo(3, "fake out", "ALSA", 1, 48000.0, True)
    monkeypatch.setattr(output, "import_sounddevice", lambda: sd)
    monkeypatch.setattr(output, "resolve_output_device", lambda spec: info)
    monkeypatch.setattr(output, "check_output_settings", lambda *a: None)
    return streams


def ramp_file(path: Path, seconds: float, channels: int = 1) -> Path:
    n = np.arange(round(seconds * RATE), dtype=np.float32) / np.float32(1 << 23)
    sf.write(path, np.repeat(n[:, None], channels, axis=1), RATE, "FLOAT")
    return path


def frames_of(x: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    return np.rint(x.astype(np.float64) * (1 << 23)).astype(np.int64)


def settle(p: output.DevicePlayback) -> None:
    """Wait until the feeder has carried out every request and queued a block."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        ring_ok = p._ring.written - max(p._read, p._jump[1]) >= BLOCK or p._eof_at != output._FAR
        if p._done_request == p._request and not p._hold and ring_ok:
            return
        time.sleep(0.001)
    raise AssertionError("the feeder did not catch up")


def pump(p: output.DevicePlayback, s: FakeStream, blocks: int) -> npt.NDArray[np.float32]:
    """Play ``blocks`` blocks: the callback, then the stream's clock moves on a block."""
    out = []
    for _ in range(blocks):
        settle(p)
        buf = np.full((BLOCK, s.channels), np.nan, dtype=np.float32)
        t = SimpleNamespace(outputBufferDacTime=s.time + LATENCY, currentTime=s.time)
        s.callback(buf, BLOCK, t, None)
        out.append(buf[:, 0].copy())
        s.time += BLOCK / RATE
    return np.concatenate(out)


def test_plays_the_file_exactly_and_position_is_the_frame_at_the_dac(
    tmp_path: Path, fake_device: list[FakeStream]
) -> None:
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 3.0))
    s = fake_device[0]
    try:
        assert p.position() == 0.0 and not p.playing()
        assert not pump(p, s, 3).any()  # paused: silence
        p.play()
        t_first = s.time + LATENCY  # the first block reaches the DAC then
        got = pump(p, s, 100)
        np.testing.assert_array_equal(frames_of(got), np.arange(100 * BLOCK))
        # position() is the frame at the DAC now: 100 blocks were sent, the first one
        # reached the DAC at t_first, so it is (now - t_first) s into the file.
        for dt in (0.0, 0.0101, 0.2):
            s.time = t_first + dt
            assert p.position() == pytest.approx(dt, abs=1 / RATE)
        assert p.playing() and p.underflows == 0
    finally:
        p.close()


def test_seek_pause_and_resume_are_sample_exact(
    tmp_path: Path, fake_device: list[FakeStream]
) -> None:
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 3.0))
    s = fake_device[0]
    try:
        p.play()
        pump(p, s, 10)
        p.seek(2.0)
        assert p.position() == 2.0  # the target, until the sound gets there
        after = frames_of(pump(p, s, 20))
        np.testing.assert_array_equal(after, np.arange(96000, 96000 + 20 * BLOCK))
        s.time += LATENCY  # now the seek's first block is at the DAC... and 20 more blocks
        assert p.position() == pytest.approx(2.0 + 20 * BLOCK / RATE, abs=1 / RATE)
        p.pause()
        assert not pump(p, s, 5).any()  # silence at once
        s.time += 1.0
        frozen = p.position()
        assert frozen == pytest.approx(2.0 + 20 * BLOCK / RATE, abs=1 / RATE)
        p.play()
        resumed = frames_of(pump(p, s, 5))
        np.testing.assert_array_equal(resumed, np.arange(5 * BLOCK) + 96000 + 20 * BLOCK)
    finally:
        p.close()


def test_loop_region_repeats_exactly(tmp_path: Path, fake_device: list[FakeStream]) -> None:
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 3.0))
    s = fake_device[0]
    try:
        p.set_loop(1.0, 1.1)  # outside: moves to 1.0
        p.play()
        got = frames_of(pump(p, s, 60))  # 0.6 s: the 0.1 s loop about 6 times
        expected = 48000 + np.arange(len(got)) % 4800
        np.testing.assert_array_equal(got, expected)
        p.set_loop(None, None)  # clearing plays on past the loop's end, seamlessly
        tail = frames_of(pump(p, s, 40))
        d = np.diff(np.concatenate([got[-1:], tail]))
        assert np.all((d == 1) | (d == -4799))  # wraps queued before the clear, then on
        assert tail[-1] > 52800
    finally:
        p.close()


def test_end_of_file_stops_and_play_restarts(tmp_path: Path, fake_device: list[FakeStream]) -> None:
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 0.1))  # 4800 frames
    s = fake_device[0]
    try:
        p.play()
        got = frames_of(pump(p, s, 15))
        np.testing.assert_array_equal(got[:4800], np.arange(4800))
        assert not got[4800:].any() and p.underflows == 0  # silence after the end
        s.time += LATENCY
        assert p.position() == pytest.approx(0.1) and not p.playing()
        p.play()  # from the start again
        again = frames_of(pump(p, s, 2))
        np.testing.assert_array_equal(again, np.arange(2 * BLOCK))
    finally:
        p.close()


def test_play_no_ui_duration_ends_the_sound_at_the_duration(
    tmp_path: Path, fake_device: list[FakeStream]
) -> None:
    """``--start 0.5 --duration 0.25``: the device gets file frames 24000..35999 and then
    silence (it went on for the output latency and more: the pause came when the frame at
    the DAC reached the end, with the frames queued behind it still to be heard)."""
    from livespec.cli.play_headless import _play

    path = ramp_file(tmp_path / "r.wav", 2.0)
    p = output.DevicePlayback(path, latency=LATENCY)
    s = fake_device[0]
    blocks: list[npt.NDArray[np.float32]] = []
    stop = threading.Event()

    def device() -> None:  # PortAudio's part, in real time
        while not stop.is_set():
            blocks.append(pump(p, s, 1))
            time.sleep(BLOCK / RATE)

    thread = threading.Thread(target=device)
    thread.start()
    try:
        ns = argparse.Namespace(file=str(path), start=0.5, duration=0.25)
        line = _play(ns, p)
    finally:
        stop.set()
        thread.join()
    got = frames_of(np.concatenate(blocks))
    heard = got[got != 0]
    np.testing.assert_array_equal(heard, np.arange(24000, 36000))
    assert line.startswith("played 0.500-0.750 s of ")


def test_stereo_file_on_a_mono_device_is_mixed(
    tmp_path: Path, fake_device: list[FakeStream]
) -> None:
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 1.0, channels=2))
    s = fake_device[0]
    try:
        assert p.channels == 1
        p.play()
        np.testing.assert_array_equal(frames_of(pump(p, s, 4)), np.arange(4 * BLOCK))
    finally:
        p.close()


def test_open_playback_without_audio_is_silent_and_bad_files_are_one_line(
    tmp_path: Path,
) -> None:
    player = output.open_playback(ramp_file(tmp_path / "r.wav", 1.5), audio=False)
    assert player.duration == 1.5 and player.position() == 0.0
    with pytest.raises(SourceError, match="no such file"):
        output.open_playback(tmp_path / "missing.wav", audio=False)


def _fake_sd(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {"name": "Mic", "hostapi": 0, "max_input_channels": 2, "max_output_channels": 0},
        {"name": "USB Speakers", "hostapi": 0, "max_input_channels": 0, "max_output_channels": 2},
        {"name": "HDMI 1", "hostapi": 0, "max_input_channels": 0, "max_output_channels": 8},
        {"name": "HDMI 2", "hostapi": 0, "max_input_channels": 0, "max_output_channels": 8},
    ]
    for r in rows:
        r["default_samplerate"] = 48000.0
    sd = SimpleNamespace(
        query_devices=lambda: rows,
        query_hostapis=lambda: [{"name": "ALSA"}],
        default=SimpleNamespace(device=[0, 2]),
    )
    monkeypatch.setattr(devices, "import_sounddevice", lambda: sd)


def test_output_devices_resolve_by_index_and_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_sd(monkeypatch)
    assert [d.index for d in devices.list_output_devices()] == [1, 2, 3]
    assert devices.resolve_output_device(None).name == "HDMI 1"  # the default
    assert devices.resolve_output_device("3").name == "HDMI 2"
    assert devices.resolve_output_device("usb").index == 1
    with pytest.raises(SourceError, match="no output device with index 0"):
        devices.resolve_output_device(0)  # an input device
    with pytest.raises(SourceError, match=r"matches 2 devices .*--output-device INDEX"):
        devices.resolve_output_device("hdmi")
    table = devices.devices_command(output=True).splitlines()
    assert [line.split()[0] for line in table[1:4]] == ["1", ">", "3"]
    monkeypatch.setattr(devices, "list_output_devices", list)
    with pytest.raises(SourceError, match=r"^no output device found"):
        output.open_playback(ramp_file_tmp(), None)
    with pytest.raises(SourceError, match=r"^no output device found") as info:
        devices.devices_command(output=True)  # says why, not "see livespec devices --output"
    assert "livespec devices" not in str(info.value) and "no sound card" in str(info.value)


def ramp_file_tmp() -> Path:
    import tempfile

    return ramp_file(Path(tempfile.mkdtemp()) / "r.wav", 0.1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.wav"], "missing.wav: no such file"),
        (["{f}", "--start", "5"], "--start 5: the file is only 1.000 s long"),
        (["{f}", "--start", "-1"], "--start -1: must be 0 or more seconds"),
        (["{f}", "--duration", "0"], "--duration 0: must be more than 0 seconds"),
        (
            ["{f}", "--output-latency", "fast"],
            "--output-latency fast: give seconds, 'low' or 'high'",
        ),
    ],
)
def test_play_no_ui_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, run_livespec: RunLivespec, args: list[str], message: str
) -> None:
    f = str(ramp_file(tmp_path / "r.wav", 1.0))
    done = run_livespec("play", *[a.format(f=f) for a in args], "--no-ui", "--no-audio")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"livespec: {message}"], done.stderr


def test_play_no_ui_without_audio_plays_the_clock(
    tmp_path: Path, run_livespec: RunLivespec
) -> None:
    f = str(ramp_file(tmp_path / "r.wav", 1.0))
    done = run_livespec("play", f, "--no-ui", "--no-audio", "--start", "0.7")
    assert done.returncode == 0, done.stderr
    line = done.stderr.strip()
    assert line.startswith("livespec: played 0.700-1.000 s of ") and line.endswith(
        "without sound (--no-audio): 0 underflows"
    ), line


@pytest.mark.parametrize("bad", [10000, 30000])  # in the first 0.5 s queued, or after
def test_a_damaged_sample_stops_playback_with_the_reason(
    tmp_path: Path, fake_device: list[FakeStream], bad: int
) -> None:
    x = np.zeros(RATE, dtype=np.float32)
    x[bad] = np.nan
    sf.write(tmp_path / "bad.wav", x, RATE, "FLOAT")
    p = output.DevicePlayback(tmp_path / "bad.wav")
    s = fake_device[0]
    try:
        p.play()
        got = pump(p, s, 80)
        assert np.isfinite(got).all()  # the NaN never reaches the device
        # What comes before the block that holds it plays (zeros here).
        assert p._eof_at - p._seek_ring == bad // 4096 * 4096
        s.time += LATENCY
        assert not p.playing()
        assert p.error is not None and f"sample {bad}" in p.error and "not a number" in p.error
        assert "bad.wav: playback stopped" in p.error
        p.play()  # stays stopped: the feeder is gone
        assert not p.playing() and not pump(p, s, 2).any()
    finally:
        p.close()


def test_a_loop_set_right_after_a_seek_keeps_the_seek(
    tmp_path: Path, fake_device: list[FakeStream]
) -> None:
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 3.0))
    s = fake_device[0]
    try:
        p.play()
        pump(p, s, 4)
        p._stop.set()  # stop the feeder, so that both requests are pending together
        p._feeder.join()
        p.seek(2.0)
        p.set_loop(1.5, 2.5)  # the seek's 2.0 s is inside: it stays the place to play
        p._stop.clear()
        p._feeder = threading.Thread(target=p._feed, daemon=True)
        p._feeder.start()
        got = frames_of(pump(p, s, 10))
        np.testing.assert_array_equal(got, np.arange(96000, 96000 + 10 * BLOCK))
    finally:
        p.close()


def test_a_rate_the_device_refuses_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_sd(monkeypatch)

    def refuse(**kw: Any) -> None:
        raise ValueError("Invalid sample rate [PaErrorCode -9997]")

    sd: Any = devices.import_sounddevice()
    sd.check_output_settings = refuse
    info = devices.resolve_output_device("usb")
    with pytest.raises(SourceError) as exc:
        devices.check_output_settings(info, 1, 8000)
    assert str(exc.value) == (
        "output device 'USB Speakers' cannot play 1 channel at 8000 Hz (Invalid sample "
        "rate): convert the file to a rate the device plays, or choose another --output-device"
    )
    listed = json.loads(devices.devices_command(as_json=True, output=True))
    assert [d["max_output_channels"] for d in listed] == [2, 8, 8]


def test_a_stream_portaudio_ends_stops_playback_with_the_reason(
    tmp_path: Path, fake_device: list[FakeStream]
) -> None:
    """The device unplugged or the sound server gone: PortAudio ends the stream; the
    player stops playing (the position no longer moves) and says why."""
    p = output.DevicePlayback(ramp_file(tmp_path / "r.wav", 3.0))
    s = fake_device[0]
    try:
        p.play()
        pump(p, s, 20)
        assert p.playing() and p.error is None
        s.active = False  # PortAudio's thread: the stream is over
        assert s.finished is not None
        s.finished()
        assert not p.playing()
        assert p.error is not None
        assert p.error.startswith("output stream ended unexpectedly: device '")
        assert p.error.endswith("(device unplugged or sound server gone?)")
        p.play()  # nothing to play on
        assert not p.playing()
    finally:
        p.close()
    assert p.error is None  # closed on purpose: no loss
