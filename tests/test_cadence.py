"""The worker's wake-ups: a test signal written by its consumer on the sample clock
(``BlockSource.write_due``), and the app's engine woken just before each screen tick
(``TickGrid``, ``Engine.follow_ticks``)."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import Any

import numpy as np
import pytest

from livespec.audio.cadence import STEP_S, WINDOW, TickGrid
from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import SignalSource
from livespec.config import Config
from livespec.pipeline import Pipeline
from livespec.tui.feed import FrameInbox

FS, BLOCK = 48000, 1024


def opened(realtime: bool = True, **kw: Any) -> SignalSource:
    src = SignalSource("demo+tone:997@-20", FS, 2, blocksize=BLOCK, realtime=realtime, **kw)
    src.open()
    return src


def test_write_due_writes_what_produce_has_written_by_then_and_the_same_samples():
    # produce() writes block j at t0 + j * BLOCK / FS (the first at once): by time t0 + x
    # it has written floor(x * FS / BLOCK) + 1 blocks.
    t0 = 100.0
    src = opened()
    ring = RingBuffer(FS * 4, 2)
    src.attach(ring)
    for x in (0.0, 0.01, 0.05, 0.3, 0.3, 1.0, 1.7):
        nxt = src.write_due(t0 + x)
        blocks = math.floor(x * FS / BLOCK + 1e-9) + 1
        assert ring.written == blocks * BLOCK, x
        assert nxt == pytest.approx(t0 + blocks * BLOCK / FS)
    # produce() on a fake clock: the same schedule.
    other = opened()
    other.attach(RingBuffer(FS * 4, 2))
    clock = [t0]
    other._clock = lambda: clock[0]
    other._wait = lambda s: clock.__setitem__(0, clock[0] + s)
    seen: list[tuple[float, int]] = []

    def after_block() -> bool:
        seen.append((clock[0], other.frames_read))
        return other.frames_read >= ring.written

    other.produce(after_block)
    for t, frames in seen:
        assert frames == (math.floor((t - t0) * FS / BLOCK + 1e-9) + 1) * BLOCK
    # the samples are those of the signal pumped block by block
    ref = opened(realtime=False, max_seconds=ring.written / FS)
    ref_ring = RingBuffer(FS * 4, 2)
    ref.attach(ref_ring)
    while ref.pump(BLOCK):
        pass
    assert ref_ring.written == ring.written
    np.testing.assert_array_equal(ring.window(0, ring.written), ref_ring.window(0, ring.written))


def test_write_due_ends_with_a_finite_signal_and_after_stop():
    src = opened(max_seconds=0.05)  # 2400 frames: blocks of 1024, 1024, 352
    src.attach(RingBuffer(FS, 2))
    assert src.write_due(5.0) == pytest.approx(5.0 + BLOCK / FS)
    assert src.write_due(6.0) == math.inf
    assert src.ring is not None and src.ring.written == 2400 and src.finished
    live = opened()
    live.attach(RingBuffer(FS, 2))
    live.stop()
    assert live.write_due(1.0) == math.inf and live.ring is not None
    assert live.ring.written == 0


def test_the_tick_grid_wakes_lead_seconds_before_the_next_tick():
    grid = TickGrid(0.1, lead=0.004)
    assert grid.next_wake(3.0) is None  # no tick yet
    grid.tick(10.0)
    assert grid.next_wake(10.001) == pytest.approx(10.096)
    assert grid.next_wake(10.0965) == pytest.approx(10.196)
    assert grid.next_wake(12.345) == pytest.approx(12.396)
    # Late ticks move the grid by the least lateness of each WINDOW ticks (at most
    # STEP_S); an early one moves it at once.
    for k in range(1, WINDOW):
        grid.tick(10.0 + k * 0.1 + (0.003 if k % 2 else 0.0003))
        assert grid.next_wake(10.0 + k * 0.1 + 0.01) == pytest.approx(10.096 + k * 0.1)
    grid.tick(10.0 + WINDOW * 0.1 + 0.002)
    t = 10.0 + WINDOW * 0.1 + 0.0003
    assert grid.next_wake(t + 0.01) == pytest.approx(t + 0.096)
    for k in range(1, WINDOW + 1):  # all late by 20 ms: at most STEP_S later per window
        grid.tick(t + k * 0.1 + 0.021)
        grid.next_wake(t + k * 0.1 + 0.025)  # the worker sees each tick (once a pass)
    t += WINDOW * 0.1
    assert grid.next_wake(t + 0.03) == pytest.approx(t + 0.096 + STEP_S)
    grid.tick(t + 0.0995)
    assert grid.next_wake(t + 0.1) == pytest.approx(t + 0.1955)
    with pytest.raises(ValueError):
        TickGrid(0.0)


def cfg_with(input_spec: str) -> Config:
    cfg = Config()
    return dataclasses.replace(cfg, source=dataclasses.replace(cfg.source, input=input_spec))


def test_a_real_time_test_signal_is_written_by_the_engine_which_follows_the_ticks():
    """No producer thread: the engine's worker writes the signal; once it follows a
    consumer's tick it passes once per tick, not once per block, and loses no frame."""
    frames: list[Any] = []
    passes: list[float] = []
    with Pipeline(cfg_with("tone:1000"), realtime=True) as pipe:
        engine = pipe.make_engine(frames.append)
        analyse = engine.process_available

        def counted() -> int:
            passes.append(time.monotonic())
            return analyse()

        engine.process_available = counted  # type: ignore[method-assign]
        grid = engine.follow_ticks(0.1)
        pipe.start()
        source = pipe.source
        assert isinstance(source, SignalSource) and source._thread is None
        assert engine.feed is not None
        stop = threading.Event()
        ticks: list[float] = []
        while len(ticks) < 8:
            ticks.append(time.monotonic())
            grid.tick(ticks[-1])
            stop.wait(0.1)
        written = pipe.ring.written
    # once the grid is known: 0.6 s, 28 blocks, but one pass per tick (6; 8 allowed)
    n_passes = sum(1 for t in passes if ticks[1] < t <= ticks[-1])
    assert n_passes <= len(ticks)
    assert engine.lost_frames == 0 and written >= FS * 0.7
    assert [f.index for f in frames] == list(range(len(frames)))
    assert len(frames) >= (written - 4096 * 2) // 1024


def test_the_inbox_reports_only_the_timers_ticks_to_the_engine():
    """The app's timer callback, wrapped by ``FrameInbox.follow``, reports its time to the
    engine's grid; a drain at another time (a key's extra tick) does not."""
    pipe = Pipeline(cfg_with("tone:1000"), realtime=True)
    with pipe:
        engine = pipe.make_engine(lambda frame: None)
        inbox = FrameInbox()
        calls: list[float] = []
        timed = inbox.follow(engine, 0.05, lambda: calls.append(time.monotonic()))
        grid = engine.ticks
        assert grid is not None and grid.period == 0.05 and grid.phase() is None
        inbox.drain()
        assert grid.phase() is None
        before = time.monotonic()
        timed()
        phase = grid.phase()
        assert calls and phase is not None and before <= phase <= calls[0]

    def tick() -> None:
        pass

    assert FrameInbox().follow(None, 0.05, tick) is tick  # no engine (the stream viewer)
