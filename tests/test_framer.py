"""The Framer: the one loop that cuts a ring into frames; every frame number is delivered
intact or counted as lost, never torn, never twice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livespec.audio.framer import Framer
from livespec.audio.ringbuffer import RingBuffer


def ramp(start: int, n: int) -> np.ndarray:
    """Frames whose value is their own index."""
    return np.arange(start, start + n, dtype=np.float32)[:, None]


class Producer:
    def __init__(self, ring: RingBuffer) -> None:
        self.ring, self.w = ring, 0

    def write(self, n: int) -> None:
        self.ring.write(ramp(self.w, n))
        self.w += n


@settings(max_examples=300, deadline=None)
@given(
    capacity=st.integers(4, 64),
    n_frac=st.floats(0.05, 1.0),
    hop=st.integers(1, 40),
    origin=st.integers(0, 30),
    backlog=st.one_of(st.none(), st.integers(0, 50)),
    ops=st.lists(
        st.tuples(st.sampled_from(["w", "p", "torn"]), st.integers(0, 90)), min_size=1, max_size=50
    ),
)
def test_every_frame_is_delivered_intact_or_counted_lost(
    capacity, n_frac, hop, origin, backlog, ops
):
    ring = RingBuffer(capacity, 1)
    prod = Producer(ring)
    n = max(1, round(n_frac * capacity))
    framer = Framer(ring, n, hop, origin=origin, max_backlog=backlog)
    delivered: dict[int, int] = {}
    skipped: list[int] = []
    discarded: list[int] = []
    torn_write = [0]
    analysed: set[int] = set()

    def analyse(view: np.ndarray) -> np.ndarray:
        out = view[:, 0].copy()
        analysed.add(int(out[0]))  # the frame's start (intact when it is read)
        if torn_write[0]:  # the producer writes while this frame is being analysed
            prod.write(torn_write[0])
            torn_write[0] = 0
        return out

    def deliver(index: int, start: int, got: np.ndarray) -> None:
        assert start == origin + index * hop
        assert index not in delivered
        np.testing.assert_array_equal(got, ramp(start, n)[:, 0])  # never torn
        delivered[index] = start

    for op, k in ops:
        if op == "w":
            prod.write(k)
            continue
        torn_write[0] = k if op == "torn" else 0
        before_index, before_lost = framer.index, framer.lost
        oldest = ring.oldest()
        if backlog is not None:
            oldest = max(oldest, ring.written - n - backlog)
        written = ring.written
        done = framer.process(analyse, deliver)
        assert done == framer.index - before_index - (framer.lost - before_lost)
        oldest_now = ring.oldest()
        if backlog is not None:
            oldest_now = max(oldest_now, ring.written - n - backlog)
        for i in range(before_index, framer.index):
            if i in delivered:
                continue
            start = origin + i * hop
            if start in analysed:
                # Discarded: the producer overwrote it during its analysis.
                assert op == "torn" and ring.claimed - capacity > start
                discarded.append(i)
            else:  # skipped: overwritten (or too far behind) before it was read
                assert start < (oldest if op == "p" else oldest_now)
                skipped.append(i)
        if op == "p":  # nothing written meanwhile: every complete frame was handled
            assert not framer.ready()
            assert framer.next_end > written
    assert framer.delivered == len(delivered)
    assert framer.lost == len(skipped) + len(discarded)
    assert framer.index == framer.delivered + framer.lost
    assert sorted([*delivered, *skipped, *discarded]) == list(range(framer.index))


def test_skip_counts_the_overwritten_frames():
    ring = RingBuffer(16, 1)
    framer = Framer(ring, 8, 4, origin=0)
    ring.write(ramp(0, 40))  # frames starting before 40 - 16 = 24 are gone
    got: list[int] = []
    assert framer.process(lambda v: float(v[0, 0]), lambda i, s, x: got.append(s)) == 3
    assert framer.lost == 6  # starts 0, 4, ..., 20
    assert got == [24, 28, 32]
    assert framer.index == 9 and framer.next_start == 36


def test_a_frame_torn_during_analysis_is_discarded_and_counted():
    ring = RingBuffer(16, 1)
    prod = Producer(ring)
    prod.write(16)
    framer = Framer(ring, 8, 8, origin=0)
    calls: list[int] = []

    def analyse(view: np.ndarray) -> float:
        calls.append(int(view[0, 0]))
        if len(calls) == 1:
            prod.write(4)  # overwrites samples 0..3 of frame 0
        return float(view[0, 0])

    got: list[tuple[int, int]] = []
    framer.process(analyse, lambda i, s, x: got.append((i, s)))
    assert calls == [0, 8]
    assert framer.lost == 1 and got == [(1, 8)] and framer.index == 2


def test_limit_stop_room_and_reset():
    ring = RingBuffer(32, 1)
    ring.write(ramp(0, 30))
    framer = Framer(ring, 8, 4, origin=0)
    framer.limit = 16
    assert framer.process(lambda v: 0, lambda i, s, x: None) == 3  # ends 8, 12, 16
    assert framer.room() == 32 - (30 - 12)
    framer.limit = None
    assert framer.process(lambda v: 0, lambda i, s, x: None, stop=lambda: True) == 0
    framer.reset(4, 2)
    assert framer.origin == 30 and framer.index == 0 and framer.delivered == 3
    with pytest.raises(ValueError):
        framer.reset(64, 2)
    with pytest.raises(ValueError):
        framer.reset(4, 0)
