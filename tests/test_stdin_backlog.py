"""A live pipe that fell behind is drained, then read at the pace of its producer.

The app paces ``--input -`` at the sample rate (``cat file |`` would otherwise flash by).
Audio that piled up in the pipe before the source started (the app's start-up) or during a
stall must not stay there as a standing delay: the source may run up to
``catch_up_frames`` ahead of its clock, and restarts the clock whenever the pipe holds less
than a block (a live producer sets the pace). These tests run the real producer loop on a
real pipe with a fake clock, so they count samples and requested sleeps, never wall time.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.stdin import StdinSource

FS = 48000
BLOCK = 1024


class FakeClock:
    """A clock that moves only when the source asks to wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[tuple[int, float]] = []  # (frames read so far, seconds asked)

    def __call__(self) -> float:
        return self.now


def _paced_source(
    backlog_frames: int, clock: FakeClock, *, live: bool = True, feed_frames: int = 0
) -> tuple[StdinSource, int, threading.Thread | None]:
    """A real-time stdin source on a pipe already holding ``backlog_frames`` of s16 mono
    (the write end stays open, as with a live producer), or fed ``feed_frames`` by a
    thread that keeps the pipe full; returns it, the write end and the feeding thread."""
    r, w = os.pipe()
    os.write(w, _pcm(backlog_frames))
    feeder = None
    if feed_frames:

        def feed() -> None:
            with contextlib.suppress(OSError):  # the reader closed its end
                os.write(w, _pcm(feed_frames))  # blocks while the pipe is full

        feeder = threading.Thread(target=feed)
        feeder.start()
    src = StdinSource("s16le", FS, 1, blocksize=BLOCK, stream=os.fdopen(r, "rb", buffering=0))
    src.open()
    src.realtime = True  # what the app does with --input -
    src.attach(RingBuffer(4 * FS, 1))
    src._clock = clock

    def wait(seconds: float) -> bool:
        clock.waits.append((src.frames_read, seconds))
        clock.now += seconds
        return False

    src._wait = wait
    if not live:
        src._caught_up = lambda: False  # type: ignore[method-assign]  # a pipe kept full
    return src, w, feeder


def _pcm(frames: int) -> bytes:
    return (np.arange(frames, dtype=np.int64) % 100).astype(np.int16).tobytes()


def test_a_backlog_in_the_pipe_is_drained_without_pacing() -> None:
    clock = FakeClock()
    backlog = 24 * BLOCK  # 0.51 s of audio waiting before the source starts (< 64 KiB)
    src, w, _ = _paced_source(backlog, clock)
    try:
        src.produce(lambda: src.frames_read >= backlog)
    finally:
        src.stop()
        os.close(w)
    assert src.frames_read == backlog
    # The whole backlog was read on the spot: not one wait for the sample clock (the
    # old pacing asked for 24 waits, 0.51 s of wall-clock time, and never caught up).
    assert clock.waits == []
    assert clock.now == 0.0
    assert src.catch_up_frames >= FS


def test_the_samples_read_are_the_samples_written() -> None:
    clock = FakeClock()
    backlog = 8 * BLOCK
    src, w, _ = _paced_source(backlog, clock)
    try:
        src.produce(lambda: src.frames_read >= backlog)
        assert src.ring is not None
        got = src.ring.window(0, backlog)[:, 0]
    finally:
        src.stop()
        os.close(w)
    want = (np.arange(backlog) % 100).astype(np.float32) / 32768.0
    np.testing.assert_array_equal(got, want)


def test_a_pipe_that_stays_full_is_still_paced_at_the_sample_rate() -> None:
    """``cat file | livespec --input -``: after the catch-up allowance, one block per
    block period, so a file plays at its own rate and does not flash by."""
    clock = FakeClock()
    src, w, feeder = _paced_source(0, clock, live=False, feed_frames=4 * FS)
    frames = (src.catch_up_frames // BLOCK + 20) * BLOCK
    try:
        src.produce(lambda: src.frames_read >= frames)
    finally:
        src.stop()
        assert src._stream is not None
        src._stream.close()  # the feeder's write fails now, and it ends
        assert feeder is not None
        feeder.join(timeout=5)
        os.close(w)
    first_wait = clock.waits[0][0]
    assert src.catch_up_frames <= first_wait < src.catch_up_frames + BLOCK
    # From then on the clock is ahead by the allowance and every block waits its period.
    ahead = [(n - src.catch_up_frames) / FS - t for n, t in _times(clock)]
    assert len(ahead) >= 19  # every block after the allowance but the last
    assert max(abs(x) for x in ahead) < 1e-9


def _times(clock: FakeClock) -> list[tuple[int, float]]:
    """(frames read, fake time after the wait) for every wait."""
    out, t = [], 0.0
    for n, s in clock.waits:
        t += s
        out.append((n, t))
    return out
