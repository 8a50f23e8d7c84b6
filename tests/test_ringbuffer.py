"""The ring buffer: mirrored contiguous windows, several readers, exact loss accounting."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from livespec.audio.ringbuffer import RingBuffer, RingReader


def ramp(start: int, n: int, channels: int = 1) -> np.ndarray:
    """Frames whose value is their own index (channel c adds c * 0.25)."""
    base = np.arange(start, start + n, dtype=np.float64)[:, None]
    return (base + 0.25 * np.arange(channels)[None, :]).astype(np.float32)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 64),
    channels=st.integers(1, 3),
    blocks=st.lists(st.integers(0, 100), min_size=1, max_size=40),
    window=st.integers(1, 64),
)
def test_any_window_is_contiguous_and_correct(capacity, channels, blocks, window):
    ring = RingBuffer(capacity, channels)
    w = 0
    for n in blocks:
        ring.write(ramp(w, n, channels))
        w += n
        assert ring.written == w
        assert ring.claimed == w
        size = min(window, capacity, w)
        if size == 0:
            continue
        for start in (max(0, w - capacity), w - size):
            view = ring.window(start, size)
            assert view.flags.c_contiguous
            np.testing.assert_array_equal(view, ramp(start, size, channels))


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(4, 64),
    ops=st.lists(
        st.tuples(st.sampled_from(["w", "a", "b"]), st.integers(0, 90)), min_size=1, max_size=60
    ),
)
def test_readers_are_independent_and_count_exactly_what_they_lost(capacity, ops):
    ring = RingBuffer(capacity, 1)
    readers = {"a": ring.reader(), "b": ring.reader()}
    got: dict[str, list[float]] = {"a": [], "b": []}
    lost: dict[str, int] = {"a": 0, "b": 0}
    w = 0
    out = np.zeros((90, 1), dtype=np.float32)
    for op, n in ops:
        if op == "w":
            ring.write(ramp(w, n))
            w += n
            continue
        r = readers[op]
        k, gap = r.read_into(out[:n])
        lost[op] += gap
        got[op].extend(out[:k, 0].tolist())
    for name, r in readers.items():
        k, gap = r.read_into(np.zeros((capacity, 1), dtype=np.float32))
        lost[name] += gap
        got[name].extend([float(x) for x in range(r.position - k, r.position)])
        # Every frame was either delivered once, in order, or counted as lost.
        assert lost[name] == r.lost
        assert len(got[name]) + r.lost == w
        assert got[name] == sorted(got[name])
        assert len(set(got[name])) == len(got[name])
        # The delivered values are the frames' own indices: nothing torn or shifted.
        assert all(float(v) == float(int(v)) for v in got[name])


def test_block_longer_than_capacity_keeps_the_newest_frames():
    ring = RingBuffer(8, 1)
    reader = ring.reader()
    ring.write(ramp(0, 20))
    assert ring.written == 20
    out = np.zeros((20, 1), dtype=np.float32)
    n, lost = reader.read_into(out)
    assert (n, lost) == (8, 12)
    np.testing.assert_array_equal(out[:8, 0], np.arange(12, 20))


def test_mono_blocks_and_intact_check():
    ring = RingBuffer(16, 1)
    ring.write(np.arange(10, dtype=np.float32))
    assert ring.intact(0)
    ring.write(np.arange(10, 20, dtype=np.float32))
    assert not ring.intact(3)  # frames 0..3 were overwritten (20 - 16 = 4)
    assert ring.intact(4)
    assert ring.oldest() == 4


def test_time_of_reports_when_a_frame_became_readable():
    ring = RingBuffer(1000, 1)
    ring.write(np.zeros(100, dtype=np.float32))
    t1 = ring.last_write_time
    ring.write(np.zeros(100, dtype=np.float32))
    t2 = ring.last_write_time
    assert ring.time_of(50) == t1
    assert ring.time_of(150) == t2
    assert ring.time_of(250) is None


def test_concurrent_producer_and_reader_lose_nothing_silently():
    """A fast producer thread and a slower reader: every frame delivered is the right
    value, and delivered + lost == written."""
    ring = RingBuffer(4096, 2)
    total = 400_000
    done = threading.Event()

    def produce() -> None:
        w = 0
        while w < total:
            n = min(333, total - w)
            ring.write(ramp(w, n, 2))
            w += n
        done.set()

    reader = ring.reader(0)
    out = np.zeros((1000, 2), dtype=np.float32)
    delivered = 0
    t = threading.Thread(target=produce)
    t.start()
    while not (done.is_set() and reader.position == ring.written):
        n, _ = reader.read_into(out)
        if n:
            start = reader.position - n
            np.testing.assert_array_equal(out[:n], ramp(start, n, 2))
            delivered += n
    t.join()
    assert delivered + reader.lost == total


def test_write_silence_keeps_the_timeline_and_counts_what_it_cannot_hold() -> None:
    ring = RingBuffer(1000, 2)
    ring.write(np.ones((300, 2), dtype=np.float32))
    ring.write_silence(50)  # a short gap: stored as zeros
    assert ring.written == 350
    np.testing.assert_array_equal(ring.window(250, 100)[:50], 1.0)
    np.testing.assert_array_equal(ring.window(250, 100)[50:], 0.0)
    reader = RingReader(ring, 0)
    ring.write_silence(5000)  # a long gap: the timeline moves on, only capacity is stored
    assert ring.written == 5350 and ring.oldest() == 4350
    np.testing.assert_array_equal(ring.window(4350, 1000), 0.0)  # both mirror halves
    out = np.empty((1000, 2), dtype=np.float32)
    n, lost = reader.read_into(out)
    assert (n, lost, reader.lost) == (1000, 4350, 4350)  # the reader knows what it missed
    np.testing.assert_array_equal(out, 0.0)
    ring.write(np.full((10, 2), 2.0, dtype=np.float32))
    np.testing.assert_array_equal(ring.window(5350, 10), 2.0)
