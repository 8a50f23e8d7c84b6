"""A recording made with the app's ``r`` key ends when its source ends or fails, and its
sidecar says how and why (``ended_by``, ``error``), as ``livespec record``'s does.

End to end: the real ``livespec`` in tmux reading raw PCM from stdin that ends, or that
turns out damaged (a NaN) while recording. In the app: a device whose stream died is
reopened (the recording goes on, the gap as silence), so only a stop while it is still
gone says so.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.app import make_rig, sync
from support.tmux import Tmux
from support.tmux import livespec_command as _livespec

from livespec.errors import SourceError
from livespec.tui.options import AppOptions

FS = 48000
FAIL_AT = 8 * FS  # the first frame of the block that holds the NaN


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, "livespec")
    yield t
    t.kill()


def _tone(n: int) -> np.ndarray:
    return (0.25 * np.sin(2 * np.pi * 1000.0 * np.arange(n) / FS)).astype("<f4")


@pytest.mark.parametrize("damaged", [True, False])
def test_r_recording_ends_with_the_stdin_stream_and_says_why(
    tmp_path: Path, tmux: Tmux, damaged: bool
) -> None:
    x = _tone(10 * FS)
    if damaged:
        x[FAIL_AT] = np.nan
    raw = tmp_path / "tone.f32"
    raw.write_bytes(x.tobytes())
    rec = tmp_path / "rec"
    rec.mkdir()
    args = ["--input", "-", "--format", "f32le", "--samplerate", str(FS), "--channels", "1"]
    cmd = f"cat {shlex.quote(str(raw))} | " + _livespec(*args, "--record-dir", str(rec))
    tmux.start(cmd, {}, (120, 40))
    tmux.wait_for(r"Peak +1000\.0 Hz")
    tmux.keys("r")
    tmux.wait_for(r"REC 0:00:0\d")
    # The take ends by itself (on main it ran on until q, the sidecar said "stop").
    tmux.wait_for(r"Recording stopped" if damaged else r"saved 0:00:")
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    (wav,) = rec.glob("*.wav")
    side = json.loads(Path(f"{wav}.json").read_text())
    data, rate = sf.read(str(wav), dtype="float32")
    assert side["complete"] is True and side["frames"] == len(data) > FS and rate == FS
    end = FAIL_AT if damaged else len(x)  # every frame up to the failure or the end
    np.testing.assert_allclose(data, x[end - len(data) : end], atol=2.0**-22)
    if damaged:
        assert side["ended_by"] == "error"
        assert side["error"] == (
            f"stdin (f32le, 1 ch): sample {FAIL_AT} ({FAIL_AT / FS:.4f} s) is not a number: "
            "the audio is damaged"
        )
    else:
        assert side["ended_by"] == "end of input" and side["error"] is None


@sync
async def test_a_stop_while_the_device_is_still_gone_says_so_in_the_sidecar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A device's dead stream does not end the take (the app reopens it, and the gap goes
    in as silence); stopped while the device is still gone, the sidecar says why the
    audio ends there. Reopened, a stop is a plain stop."""
    rig = make_rig(options=AppOptions(preroll_s=0.0))
    app, source = rig.app, rig.source
    monkeypatch.setattr(source, "reopen", lambda: None, raising=False)  # a device
    said: list[str] = []
    gone = SourceError("input stream ended unexpectedly: device 'pulse' (device unplugged)")
    sides: list[dict[str, object]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(app, "notify", lambda msg, **kw: said.append(str(msg)))
        for back in (False, True):
            source.error = None
            source._finished.clear()
            rig.feed(10)
            await pilot.press("r")
            rec = app.recording.recorder
            assert rec is not None
            rig.feed(20)
            source.error = gone  # as PortAudio's finished callback sets it
            source._finished.set()
            app.recording.poll()
            assert app.recording.recorder is rec and not rec.finished  # the take goes on
            if back:  # reopened: DeviceSource.start clears both
                source.error = None
                source._finished.clear()
                rig.feed(5)
            await pilot.press("r")
            rec.stop()
            rig.engine.ring.write_silence(2048)  # as a failed reopen writes the gap
            app.recording.poll()
            assert app.recording.recorder is None
            sides.append(json.loads(Path(f"{rec.path}.json").read_text()))
            assert sides[-1]["frames"] == sf.info(str(rec.path)).frames > 0
    assert (sides[0]["ended_by"], sides[0]["error"]) == ("error", str(gone))
    assert (sides[1]["ended_by"], sides[1]["error"]) == ("stop", None)
    assert len(said) == 3 and said[1].startswith(str(gone))  # where it goes, why it ended


def test_a_failed_reopen_keeps_why_the_device_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's reopen attempt restarts the stream, which clears the error first; when
    the device is still gone the source stayed finished without a reason, and a recording
    stopped then was said to end by "end of input"."""
    from livespec.audio.device import DeviceSource
    from livespec.audio.ringbuffer import RingBuffer

    src = DeviceSource("pulse", FS, 1, 1024)
    src.samplerate, src.channels = FS, 1
    src.ring = RingBuffer(FS, 1)
    src.started_at = 1.0
    gone = SourceError("input stream ended unexpectedly: device 'pulse'")
    src.error = gone
    src._finished.set()

    def fails(ring: RingBuffer) -> None:
        src.error = None  # as start() does before it opens
        src._finished.clear()
        raise SourceError("cannot open input device 'pulse': Unanticipated host error")

    monkeypatch.setattr(src, "start", fails)
    assert src.reopen() is None
    assert src.error is gone and src.finished


@pytest.mark.parametrize("damaged", [True, False])
def test_stream_record_says_how_the_take_ended_too(tmp_path: Path, damaged: bool) -> None:
    """``livespec stream --record``: its sidecar said ``stop`` after a failed or ended
    input (record's says ``error`` with the line, or ``end of input``)."""
    import os
    import subprocess
    import sys

    x = _tone(4 * FS)
    if damaged:
        x[3 * FS] = np.nan
    out = tmp_path / "take.wav"
    args = ["--input", "-", "--format", "f32le", "--samplerate", str(FS), "--channels", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "livespec", "stream", *args, "--record", str(out)],
        input=x.tobytes(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        timeout=60, env=dict(os.environ), check=False,
    )  # fmt: skip
    err = done.stderr.decode()
    side = json.loads(Path(f"{out}.json").read_text())
    assert side["complete"] is True and side["frames"] == sf.info(str(out)).frames > 0
    if damaged:
        line = (
            f"input stream stopped: stdin (f32le, 1 ch): sample {3 * FS} (3.0000 s) is not a "
            "number: the audio is damaged"
        )
        assert done.returncode == 1 and err == f"livespec: {line}\n", err
        assert (side["ended_by"], side["error"]) == ("error", line)
    else:
        assert done.returncode == 0 and err == "", err
        assert (side["ended_by"], side["error"]) == ("end of input", None)
