"""``livespec.listen`` and ``livespec.record`` (livespec/api/live.py): live frames from a
test signal, a file and the virtual sound card, and a recording on the CLI's recorder.

The device is ``pulse`` (tests/support/virtual_audio.py: 1000 Hz at amplitude 0.5, 48 kHz);
PortAudio lists devices at ``import sounddevice``, so device tests run in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import soundfile as sf
from support.virtual_audio import VirtualAudio

import livespec
from livespec.pipeline import AnalysisStopped


def _livespec_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("livespec")]


def test_listen_to_a_tone_peaks_at_1000_hz_and_stops_on_break():
    with livespec.listen(source="tone:1000") as stream:
        assert stream.realtime and stream.samplerate == 48000
        assert stream.bin_hz == pytest.approx(48000 / 4096)
        got = []
        for frame in stream:
            got.append(frame)
            if len(got) == 5:
                break
    assert [f.index for f in got] == [0, 1, 2, 3, 4]
    for f in got:
        assert f.peaks[0].freq_hz == pytest.approx(1000.0, abs=0.1)
        assert f.db.shape == stream.freqs.shape
    assert stream.overflows == 0 and stream.dropped == 0 and stream.audio_dropped_s == 0.0
    assert _livespec_threads() == []
    assert list(stream) == []  # closed: iterating again ends at once


def test_a_finite_source_is_analysed_losslessly_and_ends(tmp_path):
    fs = 44100
    t = np.arange(fs) / fs
    path = tmp_path / "a.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), fs, subtype="FLOAT")
    stream = livespec.listen(source=str(path), fft=2048, hop=512)
    assert not stream.realtime
    frames = list(stream)
    assert len(frames) == (fs - 2048) // 512 + 1
    assert all(f.peaks[0].freq_hz == pytest.approx(440.0, abs=0.1) for f in frames)
    assert stream.lost_frames == 0 and stream.dropped == 0
    ends = list(livespec.listen(source="tone:1000", duration=0.5))
    assert len(ends) == (24000 - 4096) // 1024 + 1


def test_a_slow_reader_drops_the_oldest_frames_and_counts_them():
    import time

    with livespec.listen(source="tone:1000", hop=256, queue=2) as stream:
        first = next(stream)
        time.sleep(0.3)
        later = next(stream)
    assert stream.dropped > 0
    assert later.index - first.index > stream.dropped  # the newest were kept


def test_bad_arguments_and_a_missing_file_raise_livespec_errors(tmp_path):
    with pytest.raises(livespec.UsageError, match="fft"):
        livespec.listen(source="tone:1000", fft=3)
    with pytest.raises(livespec.UsageError, match="window"):
        livespec.listen(source="tone:1000", window="nope")
    with pytest.raises(livespec.SourceError):
        livespec.listen(source=str(tmp_path / "missing.wav"))
    for kw in ({"timeout": "5"}, {"duration": "1"}, {"duration": float("inf")}):
        with pytest.raises(livespec.UsageError, match=f"{next(iter(kw))}="):  # not TypeError
            livespec.listen(source="tone:1000", **kw)  # type: ignore[arg-type]
    with pytest.raises(livespec.UsageError, match="seconds='1'"):
        livespec.record(tmp_path / "x.wav", "1", source="tone:1000")  # type: ignore[arg-type]
    assert livespec.record(tmp_path / "y.wav", np.float32(0.25), source="tone:1000").exists()  # type: ignore[arg-type]
    with pytest.raises(livespec.UsageError) as info:  # 0-based, not --channel's 1-based
        livespec.listen(source="tone:1000", channel=3)
    assert str(info.value) == "channel=3: the source has 1 channel, numbered from 0"
    assert _livespec_threads() == []


def test_an_engine_error_is_raised_from_the_iterator_never_hangs(monkeypatch):
    from livespec.engine import Engine

    def boom(self, view):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Engine, "_analyse", boom)
    with livespec.listen(source="tone:1000") as stream, pytest.raises(AnalysisStopped) as err:
        next(stream)
    assert isinstance(err.value, livespec.LivespecError)
    assert str(err.value) == "analysis stopped: ZeroDivisionError: boom"
    assert _livespec_threads() == []


def test_ctrl_c_in_the_loop_propagates_after_cleanup():
    stream = livespec.listen(source="tone:1000")
    with pytest.raises(KeyboardInterrupt), stream:
        for _ in stream:
            raise KeyboardInterrupt
    assert _livespec_threads() == []


def test_a_stream_dropped_without_close_stops_its_thread():
    # No ``with``: a bare ``break`` drops the stream; its engine must not run on.
    for frame in livespec.listen(source="tone:1000"):
        if frame.index == 2:
            break
    for t in threading.enumerate():
        if t.name == "livespec-engine":
            t.join(timeout=10)
    assert _livespec_threads() == []


def test_a_stream_left_open_does_not_block_the_interpreter_exit():
    # A script that never closes its stream (held by a global) must still exit: the
    # engine's thread is not a daemon, so an open stream used to hang the exit forever.
    code = """
        import json, livespec
        stream = livespec.listen(source="tone:1000")
        first = next(stream)
        print(json.dumps({"index": first.index}))
    """
    try:
        result = _python(code, {}, timeout=60.0)
    except subprocess.TimeoutExpired:
        pytest.fail("the interpreter did not exit with a listen() stream left open")
    assert result == {"index": 0}


def test_a_thread_still_listening_keeps_its_stream_at_the_main_threads_end():
    # The exit closes the main thread's forgotten streams, not one a worker iterates: the
    # worker (not a daemon) gets every frame of its second, then prints, then the exit.
    code = """
        import json, threading, livespec
        started = threading.Event()
        def worker():
            with livespec.listen(source="tone:1000") as stream:
                frames = [next(stream).index]
                started.set()  # the main thread ends now, while this one listens on
                frames += [f.index for _, f in zip(range(47), stream)]
            print(json.dumps({"frames": len(frames), "last": frames[-1]}))
        threading.Thread(target=worker).start()
        started.wait()
    """
    assert _python(code, {}, timeout=60.0) == {"frames": 48, "last": 47}


def test_record_a_second_of_a_tone(tmp_path):
    out = tmp_path / "tone.wav"
    assert livespec.record(out, 1, source="tone:997") == out
    info = sf.info(str(out))
    assert (info.frames, info.samplerate, info.subtype) == (48000, 48000, "PCM_24")
    y, _ = sf.read(str(out))
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) == 997
    with pytest.raises(livespec.LivespecError, match="exists"):
        livespec.record(out, 1, source="tone:997")
    livespec.record(out, 0.5, source="tone:997", subtype="FLOAT", force=True)
    assert sf.info(str(out)).frames == 24000
    with pytest.raises(livespec.UsageError):
        livespec.record(tmp_path / "x.wav", 0, source="tone:997")
    assert _livespec_threads() == []


def _damaged(path, bad_at: int) -> None:
    """A float WAV of 1 s whose sample ``bad_at`` is NaN: readable header, damaged audio."""
    y = np.zeros(48000, dtype=np.float32)
    y[bad_at:] = np.nan
    sf.write(str(path), y, 48000, subtype="FLOAT")


def test_record_leaves_no_file_when_the_source_fails_at_the_start(tmp_path):
    """A source that cannot be opened, or that fails before its first frame, leaves no WAV
    and no sidecar behind; one that fails later leaves the audio up to that point."""
    out = tmp_path / "x.wav"
    for source in (str(tmp_path / "missing.wav"), "tone:abc"):
        with pytest.raises(livespec.LivespecError) as err:
            livespec.record(out, 1, source=source)
        assert "\n" not in str(err.value)
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    _damaged(tmp_path / "bad.wav", 0)
    with pytest.raises(livespec.SourceError, match=r"nothing was recorded \('.*x.wav' removed\)"):
        livespec.record(out, 1, source=str(tmp_path / "bad.wav"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wav"]
    _damaged(tmp_path / "late.wav", 30000)
    with pytest.raises(livespec.SourceError, match="complete up to that point"):
        livespec.record(out, 1, source=str(tmp_path / "late.wav"))
    assert 0 < sf.info(str(out)).frames <= 30000 and (tmp_path / "x.wav.json").exists()
    assert _livespec_threads() == []


def test_record_never_touches_an_existing_file_when_the_source_fails(tmp_path):
    out = tmp_path / "take.wav"
    livespec.record(out, 0.25, source="tone:997")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["take.wav", "take.wav.json"]
    _damaged(tmp_path / "bad.wav", 0)
    with pytest.raises(livespec.LivespecError, match="exists"):  # without force: refused first
        livespec.record(out, 1, source=str(tmp_path / "bad.wav"))
    with pytest.raises(livespec.SourceError, match="no such file"):  # force, no source
        livespec.record(out, 1, source=str(tmp_path / "missing.wav"), force=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "bad.wav"} == before
    # force, and a source that opens but fails before its first frame: the old take is
    # set aside while the new one starts, and put back byte for byte when nothing came
    with pytest.raises(livespec.SourceError, match=r"nothing was recorded \('.*' left as it was"):
        livespec.record(out, 1, source=str(tmp_path / "bad.wav"), force=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "bad.wav"} == before


def test_a_forced_record_that_gets_no_frame_puts_the_old_take_back(tmp_path):
    """force=True and not one frame (a duration under one frame): the old take was set
    aside for the new one; it is put back, not left hidden where the next run replaced it."""
    out = tmp_path / "take.wav"
    livespec.record(out, 0.25, source="tone:997")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for _ in range(2):
        with pytest.raises(
            livespec.SourceError, match=r"nothing was recorded \('.*' left as it was"
        ):
            livespec.record(out, 1e-6, source="tone:440", force=True)
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_forced_record_replaces_every_file_of_the_old_take(tmp_path):
    """force=True: the new take replaces the WAV, its sidecar and the old take's numbered
    parts (which would otherwise read as parts of the new one); nothing hidden is left."""
    out = tmp_path / "take.wav"
    livespec.record(out, 0.25, source="tone:997")
    (tmp_path / "take-002.wav").write_bytes(b"an old part")
    livespec.record(out, 0.5, source="tone:440", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.wav", "take.wav.json"]
    assert sf.info(str(out)).frames == 24000
    y, fs = sf.read(str(out))
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    assert abs(np.argmax(spectrum) * fs / y.size - 440) < 2


def test_record_from_an_unknown_device_leaves_no_file(virtual_audio: VirtualAudio, tmp_path):
    out = tmp_path / "dev.wav"
    result = _python(
        f"""
        import json, livespec
        try:
            livespec.record({str(out)!r}, 0.5, device="no such device")
            print(json.dumps({{"error": None}}))
        except livespec.LivespecError as exc:
            print(json.dumps({{"error": str(exc)}}))
        """,
        virtual_audio.env,
    )
    assert isinstance(result["error"], str) and "no such device" in result["error"]
    assert list(tmp_path.iterdir()) == []


# -- the sound card --------------------------------------------------------------------------


def _python(code: str, env: dict[str, str], timeout: float = 60.0) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_listen_to_the_device_break_and_listen_again(virtual_audio: VirtualAudio, tmp_path):
    out = tmp_path / "dev.wav"
    result = _python(
        f"""
        import json, sys, threading
        import livespec
        runs = []
        for _ in range(2):  # the second listen() opens the device the first released
            with livespec.listen(device="pulse") as stream:
                freqs = []
                for frame in stream:
                    freqs.append(frame.peaks[0].freq_hz)
                    if len(freqs) == 20:
                        break
            runs.append(freqs)
        timed = len(list(livespec.listen(device="pulse", samplerate=48000, duration=0.5)))
        alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        path = livespec.record({str(out)!r}, 0.5, device="pulse", samplerate=48000)
        print(json.dumps({{"runs": runs, "alive": alive, "sd": "sounddevice" in sys.modules,
                          "path": str(path), "timed": timed}}))
        """,
        virtual_audio.env,
    )
    runs = result["runs"]
    assert isinstance(runs, list) and len(runs) == 2
    for freqs in runs:
        assert len(freqs) == 20
        assert all(abs(f - 1000.0) < 0.1 for f in freqs[2:]), freqs
    assert result["alive"] == [] and result["sd"] is True
    assert sf.info(str(out)).frames == 24000 and result["path"] == str(out)
    assert result["timed"] == (24000 - 4096) // 1024 + 1  # duration= ends the sound card
