"""The gap detector of tests/support/continuity.py on synthetic captures of the sample
counter with injected faults: each is found at its sample with its exact length."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from support.continuity import Discontinuity, counter_values, find_discontinuities, match
from support.virtual_audio import COUNTER_PERIOD, counter_sample, counter_value

F32 = npt.NDArray[np.float32]


def counter(start: int, n: int) -> F32:
    """Samples ``start`` .. ``start + n - 1`` of the counter signal, as float32."""
    return np.array([counter_sample(k) for k in range(start, start + n)], dtype=np.float32)


def zeros(n: int) -> F32:
    return np.zeros(n, dtype=np.float32)


def test_the_counter_is_exact_in_float32_and_reads_back() -> None:
    for n in (0, 1, 2**23 - 1, 2**23, 2**23 + 1, COUNTER_PERIOD - 1, COUNTER_PERIOD, 10**9):
        x = np.float32(counter_sample(n))
        assert float(x) == counter_sample(n)
        assert counter_value(float(x)) == n % COUNTER_PERIOD
        assert counter_values([x])[0] == n % COUNTER_PERIOD


def test_a_clean_capture_has_none_even_across_the_wrap_and_zero() -> None:
    for start in (0, 12345, 2**23 - 500, COUNTER_PERIOD - 700):
        found = find_discontinuities(counter(start, 4800))
        assert found.events == [] and (found.lead, found.tail) == (0, 0)
        assert found.first == start % COUNTER_PERIOD


def test_a_1_ms_drop_is_found_to_the_sample() -> None:
    x = np.concatenate([counter(1000, 5000), counter(6048, 3000)])
    assert find_discontinuities(x).events == [Discontinuity(5000, 0, 48, 5999)]
    assert find_discontinuities(x).events[0].kind == "dropped"


def test_a_single_dropped_sample_is_found() -> None:
    x = np.concatenate([counter(0, 100), counter(101, 100)])
    assert [(e.pos, e.jump, e.kind) for e in find_discontinuities(x).events] == [
        (100, 1, "dropped")
    ]


def test_a_repeated_block_is_found() -> None:
    x = np.concatenate([counter(0, 3000), counter(2520, 2000)])  # the last 480 again
    (e,) = find_discontinuities(x).events
    assert (e.pos, e.silent, e.jump, e.kind) == (3000, 0, -480, "repeated")


def test_an_inserted_silent_block_is_found() -> None:
    x = np.concatenate([counter(0, 2000), zeros(240), counter(2000, 2000)])
    (e,) = find_discontinuities(x).events
    assert (e.pos, e.silent, e.jump, e.kind) == (2000, 240, 0, "inserted")


def test_a_block_replaced_by_silence_is_found() -> None:
    x = np.concatenate([counter(0, 2000), zeros(960), counter(2960, 2000)])
    (e,) = find_discontinuities(x).events
    assert (e.pos, e.silent, e.jump, e.kind) == (2000, 960, 960, "filled")


def test_several_faults_in_one_capture_and_silence_at_the_ends() -> None:
    x = np.concatenate(
        [
            zeros(300),
            counter(50, 1000),  # 50 .. 1049
            counter(1098, 500),  # 48 dropped: 1098 .. 1597
            zeros(100),  # inserted
            counter(1598, 400),  # .. 1997
            counter(1900, 400),  # 98 repeated: 1900 .. 2299
            zeros(64),  # filled
            counter(2364, 500),
            zeros(7),
        ]
    )
    found = find_discontinuities(x)
    assert (found.lead, found.tail, found.first) == (300, 7, 50)
    assert [(e.pos, e.kind, e.silent, e.jump) for e in found.events] == [
        (1300, "dropped", 0, 48),
        (1800, "inserted", 100, 0),
        (2300, "repeated", 0, -98),
        (2700, "filled", 64, 64),
    ]


def test_a_lone_zero_is_a_counter_sample_where_the_ramp_passes_zero() -> None:
    x = counter(2**23 - 10, 20)
    assert (x == 0).sum() == 1 and find_discontinuities(x).events == []


def test_all_silence_is_no_discontinuity() -> None:
    found = find_discontinuities(zeros(1000))
    assert (found.events, found.lead, found.first) == ([], 1000, -1)


def test_events_match_by_counter_value_not_position() -> None:
    a = np.concatenate([counter(0, 2000), zeros(240), counter(2000, 2000), counter(4100, 10)])
    b = np.concatenate([counter(700, 1300), zeros(240), counter(2000, 1000)])
    ea, eb = find_discontinuities(a).events, find_discontinuities(b).events
    assert [e.pos for e in ea] == [2000, 4240] and [e.pos for e in eb] == [1300]
    both, only_a = match(ea, eb)
    assert [e.kind for e in both] == ["inserted"] and [e.kind for e in only_a] == ["dropped"]
