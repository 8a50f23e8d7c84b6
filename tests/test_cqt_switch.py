"""The live CQT's transform is built off the engine's worker (livespec/dsp/cqt_switch.py):
frames keep coming while a (deliberately slowed) build runs, the CQT rows that follow are
those of a transform built synchronously, a newer request wins over a build under way, and
stopping the engine cancels a build and leaves no thread behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
from test_engine import FakeSource

from livespec.audio.ringbuffer import RingBuffer
from livespec.config import AnalysisConfig
from livespec.dsp.cqt import CqtLayout
from livespec.dsp.cqt_live import CqtCancelled, LiveCqt
from livespec.dsp.cqt_switch import CqtKey, build_live_cqt
from livespec.engine import Engine, Frame

FS = 8000  # FakeSource's rate
FFT, HOP = 256, 128
LAYOUT = CqtLayout(110.0, 12, 36)  # A2 .. G#5; the longest kernel 1222 samples (2048 FFT)
OTHER = CqtLayout(220.0, 24, 48)
SIGNAL = (0.5 * np.sin(2 * np.pi * 440.0 * np.arange(1 << 16) / FS)).astype(np.float32)


def wait_until(done: Callable[[], bool], what: str) -> None:
    """A deadline for a loaded machine (20 s), not a timing assertion."""
    deadline = time.monotonic() + 20.0
    while not done():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.002)


class Rig:
    """An engine on its worker thread, fed by the test (the FakeSource's ring)."""

    def __init__(self, capacity: int = 1 << 15) -> None:
        self.ring = RingBuffer(capacity, 1)
        self.source = FakeSource()
        self.frames: list[Frame] = []
        cfg = AnalysisConfig(fft=FFT, hop=HOP, backend="numpy")
        self.engine = Engine(self.source, self.ring, cfg, self.frames.append, first_frame_start=0)
        self.source.start(self.ring)
        self.engine.start()

    def write(self, n: int) -> None:
        """Write the next ``n`` samples of SIGNAL and wait for their frames."""
        w = self.ring.written
        self.ring.write(SIGNAL[w : w + n, None])
        due = (w + n - FFT) // HOP + 1
        wait_until(lambda: len(self.frames) >= due or self.engine.error is not None, "frames")
        assert self.engine.error is None


def more(rig: Rig, frames: int) -> None:
    """Write until ``frames`` more frames came (after a reconfigure: frame 0 starts at the
    newest audio when the worker applies it)."""
    want, ring = len(rig.frames) + frames, rig.ring

    def done() -> bool:
        if len(rig.frames) < want and ring.written + 64 <= SIGNAL.shape[0]:
            ring.write(SIGNAL[ring.written : ring.written + 64, None])
        return len(rig.frames) >= want

    wait_until(done, f"{frames} frames")


class SlowBuild:
    """A build that waits for :attr:`release` (honouring ``cancelled`` unless told not to),
    then builds for real; records the keys it was asked for and the transforms made."""

    def __init__(self, slow: Callable[[CqtKey], bool] = lambda key: True, cancel: bool = True):
        self.release, self.started = threading.Event(), threading.Event()
        self.slow, self.cancel = slow, cancel
        self.keys: list[CqtKey] = []
        self.cancelled: list[CqtKey] = []
        self.made: list[LiveCqt] = []

    def __call__(self, key: CqtKey, cancelled: Callable[[], bool]) -> LiveCqt:
        self.keys.append(key)
        self.started.set()
        while self.slow(key) and not self.release.wait(0.005):
            if self.cancel and cancelled():
                self.cancelled.append(key)
                raise CqtCancelled
        made = build_live_cqt(key, lambda: False)
        self.made.append(made)
        return made


def reference_rows(frames: list[Frame], key: CqtKey) -> list[np.ndarray]:
    """The CQT rows of ``frames`` (consecutive, the first the swap's) from a transform built
    synchronously at the same frame, fed SIGNAL directly (not through the ring)."""
    live = build_live_cqt(key, lambda: False)
    rows = []
    for f in frames:
        end = f.start + FFT

        def newest(n: int, out: np.ndarray, end: int = end) -> bool:
            if end - n < 0:
                return False
            out[:] = SIGNAL[end - n : end]
            return True

        rows.append(live.compute(f.index, newest))
    return rows


def test_frames_keep_coming_while_the_cqt_is_built_and_its_rows_are_a_synchronous_builds():
    rig = Rig()
    slow = SlowBuild()
    rig.engine.cqt_switch.build = slow
    try:
        rig.write(4096)
        rig.engine.set_cqt(LAYOUT)
        wait_until(slow.started.is_set, "the build started")
        before = len(rig.frames)
        for _ in range(8):  # 32 more frames while the build waits
            rig.write(512)
        assert len(rig.frames) == before + 32
        assert all(f.cqt is None for f in rig.frames)  # no CQT row until it is ready
        assert rig.engine.cqt is None and rig.engine.cqt_switch.building
        slow.release.set()
        while rig.engine.cqt is None:
            rig.write(128)
        for _ in range(16):
            rig.write(128)
    finally:
        rig.engine.stop()
    frames = rig.frames
    assert [f.index for f in frames] == list(range(len(frames)))  # none lost, in order
    assert rig.engine.lost_frames == 0
    first = next(i for i, f in enumerate(frames) if f.cqt is not None)
    # the first frame after the release may already carry one (the swap raced it)
    assert first >= before + 32 and all(f.cqt is not None for f in frames[first:])
    assert rig.engine.cqt is slow.made[0]
    key = (LAYOUT, float(FS), HOP, "numpy", rig.ring.capacity)
    assert slow.keys == [key]
    for f, ref in zip(frames[first:], reference_rows(frames[first:], key), strict=True):
        np.testing.assert_array_equal(f.cqt, ref)
    k = int(np.argmax(frames[-1].cqt))  # 440 Hz, -6 dBFS: bin 24 of A2 + 12 per octave
    assert k == 24 and frames[-1].cqt[k] == pytest.approx(-6.02, abs=0.1)


def test_a_newer_request_wins_over_a_build_under_way():
    rig = Rig()
    slow = SlowBuild(slow=lambda key: key[0] == LAYOUT, cancel=False)  # the stale one ends
    rig.engine.cqt_switch.build = slow
    try:
        rig.write(4096)
        rig.engine.set_cqt(LAYOUT)
        wait_until(slow.started.is_set, "the first build started")
        rig.engine.set_cqt(OTHER)
        rig.write(1024)
        slow.release.set()  # LAYOUT's build finishes now, after OTHER was asked for
        while rig.engine.cqt is None:
            rig.write(128)
        rig.write(1024)
    finally:
        rig.engine.stop()
    assert [k[0] for k in slow.keys] == [LAYOUT, OTHER]
    assert len(slow.made) == 2 and rig.engine.cqt is slow.made[1]  # the stale one dropped
    rows = [f.cqt for f in rig.frames if f.cqt is not None]
    assert rows and all(r.shape == (OTHER.n_bins,) for r in rows)


def test_stopping_the_engine_cancels_a_build_and_leaves_no_thread():
    rig = Rig()
    slow = SlowBuild()  # never released: only a cancel ends it
    rig.engine.cqt_switch.build = slow
    try:
        rig.write(4096)
        rig.engine.set_cqt(LAYOUT)
        wait_until(slow.started.is_set, "the build started")
        assert any(t.name == "livespec-cqt" for t in threading.enumerate())
    finally:
        rig.engine.stop()
    assert slow.cancelled == slow.keys and not slow.made
    names = [t.name for t in threading.enumerate()]
    assert "livespec-cqt" not in names and "livespec-engine" not in names


def test_a_failed_build_stops_the_analysis_with_its_error():
    rig = Rig(capacity=1024)  # the ring holds less than LAYOUT's longest FFT (2048)
    try:
        rig.ring.write(SIGNAL[:512, None])
        rig.engine.set_cqt(LAYOUT)
        wait_until(lambda: not rig.engine.running, "the worker ended")
    finally:
        rig.engine.stop()
    assert isinstance(rig.engine.error, ValueError)
    assert "exceeds the 1024 available" in str(rig.engine.error)


def test_a_new_hop_keeps_the_previous_rows_until_its_build_is_ready():
    rig = Rig()
    slow = SlowBuild(slow=lambda key: key[2] != HOP)  # the second build (hop 64) waits
    rig.engine.cqt_switch.build = slow
    try:
        rig.write(4096)
        rig.engine.set_cqt(LAYOUT)
        while rig.engine.cqt is None:
            rig.write(128)
        first = rig.engine.cqt
        rig.engine.reconfigure(AnalysisConfig(fft=FFT, hop=HOP, window="blackman", backend="numpy"))
        more(rig, 8)  # frame numbers restart at the newest audio
        assert rig.engine.cqt is first and len(slow.keys) == 1  # the window: no new build
        rig.engine.reconfigure(AnalysisConfig(fft=FFT, hop=64, backend="numpy"))
        n = len(rig.frames)
        more(rig, 16)
        wait_until(slow.started.is_set, "the second build started")
        assert rig.engine.cqt is first
        assert all(f.cqt is not None for f in rig.frames[n:])  # the previous transform's
        slow.release.set()
        wait_until(lambda: rig.engine.cqt is not first or rig.engine.error is not None, "swap")
    finally:
        rig.engine.stop()
    assert rig.engine.error is None
    assert [k[2] for k in slow.keys] == [HOP, 64] and rig.engine.cqt is slow.made[1]
