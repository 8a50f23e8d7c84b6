"""The Pipeline: open (with the demo fallback), one ring size, engine, watchdog, stop on
every exit path."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from livespec.audio.base import Source
from livespec.audio.dropwatch import Drop
from livespec.audio.ringbuffer import RingBuffer
from livespec.config import Config
from livespec.errors import SourceError
from livespec.pipeline import AnalysisStopped, Pipeline, Watchdog, analysis_errors


def cfg_with(input_spec: str | None, **source: Any) -> Config:
    cfg = Config()
    return dataclasses.replace(
        cfg, source=dataclasses.replace(cfg.source, input=input_spec, **source)
    )


def test_a_finite_signal_is_pumped_synchronously_and_everything_stops():
    frames: list[Any] = []
    with Pipeline(cfg_with("tone:1000"), realtime=False, max_seconds=0.5) as pipe:
        assert pipe.synchronous
        engine = pipe.make_engine(frames.append, first_frame_start=0)
        assert pipe.ring.capacity == 20 * 48000  # ring_seconds rules here
        pipe.pump(engine.process_available, engine.framer.room)
    assert len(frames) == 1 + (24000 - 4096) // 1024
    assert not engine.running and pipe.source.finished
    pipe.close()  # idempotent


def test_a_real_time_pipeline_stops_its_threads_when_the_body_raises():
    pipe = Pipeline(cfg_with("tone:1000"), realtime=True)
    with pytest.raises(KeyError), pipe:
        pipe.make_ring(frame=65536)
        assert pipe.ring.capacity == 20 * 48000
        engine = pipe.make_engine(lambda frame: None)
        pipe.start()
        assert engine.running
        raise KeyError("the caller failed")
    assert not engine.running


def test_the_demo_signal_replaces_a_missing_sound_card(monkeypatch):
    import livespec.pipeline as pipeline

    real = pipeline.open_source

    def no_device(cfg: Config, **kw: Any):
        if cfg.source.input is None:
            raise SourceError("no input device")
        return real(cfg, **kw)

    monkeypatch.setattr(pipeline, "open_source", no_device)
    with Pipeline(cfg_with(None), realtime=True, demo_fallback=True) as pipe:
        assert str(pipe.fallback) == "no input device"
        assert pipe.cfg.source.input == "demo"
    with pytest.raises(SourceError), Pipeline(cfg_with(None), realtime=True):
        pass  # no fallback unless asked for


class SilentSource(Source):
    samplerate = 8000
    channels = 1
    description = "silent"
    block_frames = 80

    def __init__(self) -> None:
        super().__init__()
        self.stream_active = True

    def open(self) -> None:
        pass

    def start(self, ring: RingBuffer) -> None:
        self.ring = ring
        self.started_at = time.monotonic()

    def stop(self) -> None:
        pass


def test_the_watchdog_reports_lost_resumed_and_a_stopped_stream_once_each():
    source = SilentSource()
    ring = RingBuffer(1000, 1)
    source.start(ring)
    dog = Watchdog(source)
    assert dog.poll() == []
    source.started_at -= 1.0  # a second without input
    events = dog.poll()
    assert [e.kind for e in events] == ["input lost"]
    assert events[0].message.startswith("input lost: no audio from silent for 1.")
    assert dog.poll() == [] and dog.lost  # said once
    source.stream_active = False
    assert [(e.kind, e.message, e.fatal) for e in dog.poll()] == [
        ("stream stopped", "input stream stopped: silent", True)
    ]
    source.stream_active = True
    ring.write(ring.window(0, 10).copy())
    assert [e.message for e in dog.poll()] == ["input resumed"]
    source.error = OSError("gone")
    assert [(e.kind, e.fatal) for e in dog.poll()] == [("source failed", True)]


def test_analysis_errors_become_one_line_but_a_broken_pipe_passes():
    stopped = pytest.raises(AnalysisStopped, match=r"^analysis stopped: ZeroDivisionError: ")
    with stopped, analysis_errors():
        1 / 0  # noqa: B018
    with pytest.raises(BrokenPipeError), analysis_errors():
        raise BrokenPipeError
    with pytest.raises(AnalysisStopped) as info, analysis_errors():
        raise RuntimeError
    assert str(info.value) == "analysis stopped: RuntimeError"
    assert info.value.exit_code == 1


def test_one_registry_of_subcommands_matches_the_parsers():
    from livespec.cli import COMMANDS
    from livespec.cli.parsers import build_parser
    from livespec.cli.usage import SUBCOMMANDS

    assert set(COMMANDS) == {"", *SUBCOMMANDS}
    for sub in COMMANDS:
        build_parser(sub)  # every registered subcommand has its parser


def test_the_watchdog_follows_the_input_latency_in_use() -> None:
    """With --latency 2, PortAudio may deliver 2 s of audio at a time: 1.5 s without a
    write is not 'input lost' (it was, with the fixed 0.5 s timeout); 4.5 s is."""
    import time

    from livespec.audio.base import Source
    from livespec.audio.ringbuffer import RingBuffer

    class Slow(Source):
        samplerate, channels, block_frames = 48000, 1, 1024

        @property
        def latency_seconds(self) -> float:
            return 2.0

        def open(self) -> None: ...

        def start(self, ring: RingBuffer) -> None:
            self.ring, self.started_at = ring, time.monotonic()

        def stop(self) -> None: ...

    src = Slow()
    src.start(RingBuffer(4096, 1))
    src.started_at = time.monotonic() - 1.5
    assert not src.input_lost()
    src.started_at = time.monotonic() - 4.5
    assert src.input_lost()


def test_the_watchdog_reports_input_the_sound_system_dropped_once_not_fatal():
    source = SilentSource()
    source.start(RingBuffer(1000, 1))
    ring = source.ring
    assert ring is not None
    ring.write(ring.window(0, 10).copy())
    drop = Drop(5.94, 100, 10, 50, 0.0)
    found: list[Drop] = [drop]
    source.check_drops = lambda: found.pop() if found else None  # type: ignore[method-assign]
    dog = Watchdog(source)
    events = dog.poll()
    assert [(e.kind, e.fatal) for e in events] == [("input dropped", False)]
    assert events[0].message == (
        "input dropped: the sound system discarded about 5.9 s of audio (livespec was "
        "stalled longer than its buffer); counted as an overflow"
    )
    assert dog.poll() == []
