"""The analysis engine: frame numbering and times, skipped and discarded frames counted,
and errors kept and reported (an exception in the worker or in a consumer is never silent)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import pytest

from livespec.audio.base import Source
from livespec.audio.ringbuffer import RingBuffer
from livespec.cli import main
from livespec.config import AnalysisConfig
from livespec.engine import Engine, Frame
from livespec.pipeline import Watchdog, ring_frames

FS = 8000


class FakeSource(Source):
    """A source the test writes into the ring itself."""

    samplerate = FS
    channels = 1
    description = "fake"

    def __init__(self, realtime: bool = False) -> None:
        super().__init__()
        self.realtime = realtime

    def open(self) -> None:
        pass

    def start(self, ring: RingBuffer) -> None:
        self.ring = ring
        self.started_at = time.monotonic()

    def stop(self) -> None:
        pass


def tone(start: int, n: int, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(start, start + n) / FS
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def make(capacity: int = 4096, fft: int = 256, hop: int = 128, **kw):
    ring = RingBuffer(capacity, 1)
    source = FakeSource()
    frames: list[Frame] = []
    cfg = AnalysisConfig(fft=fft, hop=hop, backend="numpy")
    engine = Engine(source, ring, cfg, frames.append, first_frame_start=0, **kw)
    return ring, source, engine, frames


def test_frame_numbers_starts_and_times():
    ring, _, engine, frames = make()
    ring.write(tone(0, 1000))
    assert engine.process_available() == 6  # starts 0, 128, ..., 640 (+256 <= 1000)
    assert [f.index for f in frames] == list(range(6))
    assert [f.start for f in frames] == [128 * k for k in range(6)]
    np.testing.assert_allclose([f.t for f in frames], [(128 * k + 128) / FS for k in range(6)])
    assert engine.frames == 6 and engine.lost_frames == 0
    assert abs(frames[0].peaks[0].freq_hz - 1000.0) < FS / 256
    np.testing.assert_allclose(frames[0].rms_dbfs, 20 * np.log10(0.5 / np.sqrt(2)), atol=0.2)


def test_frames_the_producer_overwrote_are_skipped_and_counted():
    ring, _, engine, frames = make(capacity=1024)
    ring.write(tone(0, 3000))  # only [1976, 3000) is still in the ring
    engine.process_available()
    skipped = -(-1976 // 128)  # frames starting before 1976
    assert engine.lost_frames == skipped
    assert frames[0].index == skipped and frames[0].start == skipped * 128
    assert frames[0].lost_frames == skipped
    assert engine.frames + engine.lost_frames == frames[-1].index + 1


def test_a_frame_overwritten_during_its_analysis_is_discarded_and_counted():
    ring, _, engine, frames = make(capacity=512)
    ring.write(tone(0, 512))
    analyse = engine._analyse
    calls: list[Any] = []

    def analyse_while_the_producer_writes(view):
        out = analyse(view)
        if not calls:
            ring.write(tone(512, 64))  # overwrites the start of frame 0 meanwhile
        calls.append(1)
        return out

    engine._analyse = analyse_while_the_producer_writes
    engine.process_available()
    assert engine.lost_frames == 1
    assert frames[0].index == 1 and frames[0].lost_frames == 1
    assert [f.start for f in frames] == [128, 256]


def test_a_consumer_that_raises_stops_the_worker_and_the_error_is_kept():
    seen: list[BaseException] = []

    def on_frame(frame: Frame) -> None:
        raise RuntimeError("consumer failed")

    ring = RingBuffer(4096, 1)
    source = FakeSource(realtime=True)
    cfg = AnalysisConfig(fft=256, hop=128, backend="numpy")
    engine = Engine(source, ring, cfg, on_frame, on_error=seen.append)
    source.start(ring)
    engine.start()
    try:
        ring.write(tone(0, 1024))
        deadline = time.monotonic() + 5
        while engine.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not engine.running  # the thread ended
        assert isinstance(engine.error, RuntimeError)
        assert seen == [engine.error]  # on_error was called once, with it
        assert engine.error_message == "analysis stopped: RuntimeError: consumer failed"
        events = Watchdog(source, engine).poll()
        assert (events[0].kind, events[0].message, events[0].fatal) == (
            "analysis stopped",
            "analysis stopped: RuntimeError: consumer failed",
            True,
        )
        assert not any(t.name == "livespec-engine" for t in threading.enumerate())
    finally:
        engine.stop()
    engine.stop()  # idempotent


def test_process_available_raises_to_a_synchronous_caller():
    ring, _, engine, _ = make()
    engine.on_frame = lambda frame: (_ for _ in ()).throw(ValueError("bad"))
    ring.write(tone(0, 1000))
    with pytest.raises(ValueError, match="bad"):
        engine.process_available()


def test_the_ring_sizing_rule_covers_every_caller():
    assert ring_frames(48000, 20.0) == 960000  # the history
    assert ring_frames(48000, 1.0, frame=65536) == 131072  # two of the largest app FFT
    assert ring_frames(48000, 1.0, frame=1 << 20) == 1 << 21  # measure's largest frame
    assert ring_frames(48000, 1.0, preroll_s=5.0) == 6 * 48000  # pre-roll + 1 s


# -- the commands end with one line and status 1 ----------------------------------------------


def boom(*args: object) -> None:
    raise RuntimeError("boom")


def test_peaks_reports_a_failing_consumer_in_one_line(monkeypatch, capsys):
    import livespec.cli.peaks

    monkeypatch.setattr(livespec.cli.peaks.Printer, "__call__", boom)
    status = main(["peaks", "--input", "tone:1000", "--duration", "0.5"])
    err = capsys.readouterr().err
    assert status == 1
    assert err == "livespec: analysis stopped: RuntimeError: boom\n"


def test_peaks_in_real_time_reports_an_engine_thread_error(monkeypatch, capsys):
    from livespec.dsp.block import SpectrumBlock

    monkeypatch.setattr(SpectrumBlock, "compute", boom)  # runs on the engine's worker thread
    status = main(["peaks", "--input", "tone:1000", "--duration", "2", "--realtime"])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert captured.err == "livespec: analysis stopped: RuntimeError: boom\n"


def test_measure_reports_a_failing_analysis_in_one_line(monkeypatch, capsys):
    from livespec.dsp.measure import Measurer

    monkeypatch.setattr(Measurer, "power", boom)
    status = main(["measure", "--input", "tone:1000", "--duration", "1", "--json"])
    assert status == 1
    assert capsys.readouterr().err == "livespec: analysis stopped: RuntimeError: boom\n"


def test_stream_reports_a_failing_consumer_in_one_line():
    code = (
        "import sys\n"
        "import livespec.stream.reducer as reducer\n"
        "def boom(self, frame):\n"
        "    raise RuntimeError('boom')\n"
        "reducer.Reducer.add = boom\n"
        "from livespec.cli import main\n"
        "sys.exit(main(['stream', '--input', 'tone:1000']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.decode() == "livespec: analysis stopped: RuntimeError: boom\n"
    assert b"analysis stopped: RuntimeError: boom" in done.stdout  # the END record's reason
