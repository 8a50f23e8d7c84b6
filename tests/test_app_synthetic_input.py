"""Pilot test: the live app on the real pipeline with the demo signal, which the engine's
worker writes itself (``BlockSource.write_due``). A worker that is late (its first CQT row
on the cqt scale, every octave at once, on a loaded machine) delays the signal but drops
no sample, so the status line must not say INPUT LOST; the samples after the stall are the
signal's, without a gap."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pytest
from support.app import sync

from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import SignalSource
from livespec.config import Config
from livespec.dsp.cqt_live import LiveCqt
from livespec.pipeline import Pipeline
from livespec.tui.app import make_app
from livespec.tui.feed import AppFeed, FrameInbox
from livespec.tui.widgets.status import status_text

STALL_S = 0.8  # longer than the watchdog's 0.5 s


@sync
async def test_a_late_worker_writing_the_demo_is_no_input_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = Config()
    cfg = dataclasses.replace(
        cfg,
        source=dataclasses.replace(cfg.source, input="demo"),
        display=dataclasses.replace(cfg.display, scale="linear"),
    )
    seen: list[tuple[bool, str]] = []
    stalled: list[int] = []  # the ring's frames when the stall began
    box: list[Any] = []

    compute = LiveCqt.compute

    def slow_compute(self: LiveCqt, *args: Any, **kwargs: Any) -> Any:
        """The first CQT row as slow as the worker on a loaded machine (worker thread;
        the kernels are built off it: livespec/dsp/cqt_switch.py)."""
        if not stalled:
            stalled.append(box[1].written)
            time.sleep(STALL_S)
            app = box[0]  # what the status line says now, asked on the UI thread
            seen.append(
                app.call_from_thread(
                    lambda: (app.status_info().input_lost, status_text(app.status_info()).plain)
                )
            )
        return compute(self, *args, **kwargs)

    monkeypatch.setattr(LiveCqt, "compute", slow_compute)
    with Pipeline(cfg, realtime=True) as pipe:
        ring = pipe.make_ring(frame=1 << 16)
        inbox = FrameInbox()
        engine = pipe.make_engine(inbox.push)
        pipe.start()
        source = pipe.source
        assert isinstance(source, SignalSource) and engine.feed is not None
        app = make_app(pipe.cfg, AppFeed(source, ring=ring, engine=engine), inbox=inbox)
        box += [app, ring]
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            for _ in range(3):  # linear -> log -> mel -> cqt
                await pilot.press("l")
            for _ in range(600):  # a deadline for a loaded machine (30 s), not a timing
                if seen or engine.error is not None:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.3)  # the worker writes what came due meanwhile
            written = ring.written
            status = status_text(app.status_info()).plain
            assert app.view.scale == "cqt" and engine.cqt is not None
        assert engine.error is None and seen, "no cqt row was ever computed"
        lost, line = seen[0]
        assert not lost and "INPUT LOST" not in line, line
        assert "INPUT LOST" not in status
        assert engine.lost_frames == 0 and source.overflows == 0
        # No sample dropped: the late worker wrote the stall's samples once it ran again,
        # and the ring holds the demo signal from its first frame, as rendered in one go.
        assert written - stalled[0] >= STALL_S * source.samplerate
        ref = SignalSource("demo", source.samplerate, source.channels, realtime=False)
        ref.open()
        ref_ring = RingBuffer(ring.capacity, ref.channels)
        ref.attach(ref_ring)
        while ref_ring.written < written:
            ref.pump(ref.block_frames)
        np.testing.assert_array_equal(ring.window(0, written), ref_ring.window(0, written))
