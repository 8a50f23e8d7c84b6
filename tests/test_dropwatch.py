"""DropWatch: losses the sound system does not flag, found from the ring's counters.

A simulated sound server (1 ms ticks, deterministic) delivers 1024-frame blocks with
jitter; during a stall it keeps ``keep_s`` seconds and drops the newest audio beyond that
(PulseAudio's behaviour, measured with the sample counter: docs/testing.md), then pours the
backlog in at up to one block per millisecond (21x real time). The poller calls
``DropWatch.update`` every 100 ms except while stalled. The reference is the simulator's
exact count of dropped frames.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pytest

from livespec.audio.device import DeviceSource
from livespec.audio.dropwatch import Drop, DropWatch
from livespec.audio.ringbuffer import RingBuffer

FS = 48000
BLOCK = 1024


@dataclass
class Sim:
    """What one simulated run delivered and what the watch reported."""

    drops: list[tuple[float, Drop]] = field(default_factory=list)  # (time found, drop)
    holds: list[int] = field(default_factory=list)  # DropWatch.hold() after each update
    lost: int = 0  # frames the server dropped
    lost_at: int = -1  # ring index where the first dropped frame would have been
    resumed_at: float = 0.0


def simulate(
    seconds: float,
    *,
    drift_ppm: float = 0.0,
    stall: tuple[float, float] | None = None,
    stalls: list[tuple[float, float]] | None = None,
    keep_s: float = 22.0,
    gap: tuple[float, float] | None = None,
    seed: int = 1,
) -> Sim:
    """Run ``seconds`` of a device whose clock is ``drift_ppm`` slow (negative: fast);
    ``stall`` = (start, length) stops the client (``stalls``: several); ``gap`` =
    (start, length) makes the server drop everything for a while with the client running
    (no backlog)."""
    stalls = stalls or ([stall] if stall is not None else [])
    rng = random.Random(seed)
    now = [0.0]
    watch = DropWatch(FS, clock=lambda: now[0], wall=lambda: 1e9 + now[0])
    sim = Sim()
    written = 0
    last_write = 0.0
    next_poll = 0.1
    for ms in range(int(seconds * 1000)):
        t = now[0] = ms / 1000.0
        produced = int(t * FS * (1.0 - drift_ppm * 1e-6))
        stalled = any(a <= t < a + n for a, n in stalls)
        dropping = gap is not None and gap[0] <= t < gap[0] + gap[1]
        waiting = produced - sim.lost - written
        if stalled or dropping:
            keep = round(keep_s * FS) if stalled else 0
            if waiting > keep:
                if sim.lost_at < 0:
                    sim.lost_at = written + keep
                sim.lost += waiting - keep
            continue
        if stalls and not sim.resumed_at and t >= stalls[0][0] + stalls[0][1]:
            sim.resumed_at = t
        # one block per tick at most; a late delivery now and then (jitter up to ~40 ms)
        if waiting >= BLOCK and (rng.random() < 0.5 or waiting > 2 * BLOCK):
            if rng.random() < 0.01:
                continue
            written += BLOCK
            last_write = t
        if t >= next_poll:
            next_poll = t + 0.1
            drop = watch.update(written, last_write)
            if drop is not None:
                sim.drops.append((t, drop))
            hold = watch.hold()
            if hold is not None:
                sim.holds.append(hold)
    return sim


def test_a_stall_longer_than_the_servers_buffer_is_reported_once_with_its_size() -> None:
    sim = simulate(80.0, stall=(20.0, 28.0))
    assert sim.lost > 5 * FS  # the simulator did drop ~6 s
    assert len(sim.drops) == 1
    t, drop = sim.drops[0]
    assert drop.seconds == pytest.approx(sim.lost / FS, abs=0.05)
    assert t > sim.resumed_at  # after the backlog drained (it takes ~1 s)
    assert t < sim.resumed_at + 3.0
    assert drop.detected_at == pytest.approx(1e9 + t)
    # where: after the last write before the stall, and before (within the delivery
    # latency, two blocks here) the first fresh audio, at most ~0.2 s past the true
    # position (PulseAudio drops the newest audio)
    assert drop.after <= sim.lost_at <= drop.before + 2 * BLOCK
    assert abs(drop.before - sim.lost_at) < 0.25 * FS
    assert drop.after <= round(20.0 * FS)
    # while the loss was suspected, a recording was held back before the loss
    assert sim.holds and max(sim.holds) <= sim.lost_at + 2 * BLOCK
    assert sim.holds[-1] == drop.before  # (and let go once it was reported)


def test_a_stall_the_server_buffers_loses_nothing_and_reports_nothing() -> None:
    sim = simulate(60.0, stall=(20.0, 15.0))
    assert sim.lost == 0
    assert sim.drops == []


@pytest.mark.parametrize("drift_ppm", [0.0, 300.0, -300.0, 900.0])
def test_jitter_and_clock_drift_within_the_allowance_report_nothing(drift_ppm: float) -> None:
    # 10 minutes: a 900 ppm slow clock is 0.54 s behind by the end, twice the threshold
    sim = simulate(600.0, drift_ppm=drift_ppm, seed=7)
    assert sim.lost == 0
    assert sim.drops == []


def test_a_drift_faster_than_the_allowance_is_taken_for_a_loss() -> None:
    # the check can fail: 2000 ppm (twice the allowance) slow for 10 minutes
    sim = simulate(600.0, drift_ppm=2000.0, seed=7)
    assert sim.drops


def test_a_loss_without_a_stall_is_reported_and_a_small_one_is_not() -> None:
    big = simulate(30.0, gap=(10.0, 0.8))
    assert [round(d.seconds, 1) for _, d in big.drops] == [round(big.lost / FS, 1)]
    assert big.drops[0][1].seconds == pytest.approx(big.lost / FS, abs=0.05)
    small = simulate(30.0, gap=(10.0, 0.15))
    assert small.lost > 0.1 * FS
    assert small.drops == []


def test_two_stalls_are_two_reports_each_measured_from_the_new_baseline() -> None:
    sim = simulate(140.0, stalls=[(20.0, 28.0), (80.0, 25.0)])
    assert len(sim.drops) == 2
    first, second = (d.seconds for _, d in sim.drops)
    assert first + second == pytest.approx(sim.lost / FS, abs=0.1)
    assert first == pytest.approx(6.0, abs=0.1)
    assert second == pytest.approx(3.0, abs=0.1)


class _Stream:
    """What DeviceSource reads of a running PortAudio stream."""

    active = True
    latency = 0.04


def test_the_device_source_counts_a_loss_as_an_overflow_and_lists_it() -> None:
    """DeviceSource.check_drops on a fake stream: written frames and write times set by
    hand (the callback's ring.write stamps time.monotonic(), replaced here)."""
    src = DeviceSource(samplerate=FS)
    src.samplerate, src.channels = FS, 1
    ring = RingBuffer(FS, 1)
    now = [100.0]
    src.ring, src._stream = ring, cast(Any, _Stream())
    src._watch = DropWatch(FS, clock=lambda: now[0], wall=lambda: 5.0)
    block = np.zeros((BLOCK, 1), np.float32)
    found = []

    def run(seconds: float) -> None:
        end = now[0] + seconds
        while now[0] < end:
            now[0] += BLOCK / FS
            ring.write(block)
            ring.last_write_time = now[0]
            if (drop := src.check_drops()) is not None:
                found.append(drop)

    run(5.0)
    src.flags += 1  # the callback saw an overflow flag (a short one: nothing to measure)
    run(1.0)
    assert src.overflows == 1 and src.audio_dropped_s == 0.0 and found == []
    now[0] += 3.0  # the server dropped 3 s: no backlog, the writes just go on later
    run(5.0)
    assert len(found) == 1 and src.drops == found
    assert found[0].seconds == pytest.approx(3.0, abs=BLOCK / FS)
    assert found[0].detected_at == 5.0
    assert src.audio_dropped_s == found[0].seconds
    assert src.overflows == 2  # the flag and the loss
    assert src.drop_hold is None  # final: a recording need not hold back
    # a loss PortAudio flagged too (an ALSA driver's overrun): its size, not a 2nd count
    now[0] += 2.0
    src.flags += 1
    run(5.0)
    assert len(found) == 2 and found[1].flagged and not found[0].flagged
    assert found[1].seconds == pytest.approx(2.0, abs=BLOCK / FS)
    assert src.overflows == 3 and src.audio_dropped_s == found[0].seconds + found[1].seconds
    assert found[1].text == "input dropped: an input overflow lost about 2.0 s of audio"
    src._stream = None  # stopped: nothing more is checked
    now[0] += 3.0
    run(2.0)
    assert len(found) == 2
