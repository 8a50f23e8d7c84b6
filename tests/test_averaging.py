"""Power-domain averagers: exponential, linear (running and block), cumulative, peak hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livespec.dsp.averaging import (
    AverageSpec,
    CumulativeAverager,
    ExponentialAverager,
    LinearAverager,
    NoAverager,
    PeakHold,
    make_averager,
    parse_average,
)

BINS = 8


def rows(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).exponential(1.0, size=(count, BINS))


def test_exponential_step_reaches_1_minus_1_over_e_after_one_time_constant() -> None:
    period, tau = 0.01, 0.5
    avg = ExponentialAverager(BINS, tau, period)
    out = avg.update(np.zeros(BINS))
    assert np.all(out == 0.0)
    # Long past the start-up (plain mean for the first 1/alpha frames), then a step.
    for _ in range(2000):
        avg.update(np.zeros(BINS))
    steps = round(tau / period)
    for _ in range(steps):
        out = avg.update(np.ones(BINS))
    np.testing.assert_allclose(out, 1.0 - math.exp(-1.0), rtol=1e-12)
    assert avg.alpha == pytest.approx(1.0 - math.exp(-period / tau), rel=1e-15)


def test_exponential_starts_as_a_plain_mean_and_resets() -> None:
    data = rows(5)
    avg = ExponentialAverager(BINS, 10.0, 0.01)  # 1/alpha ~ 1000 frames
    for r in data:
        out = avg.update(r)
    np.testing.assert_allclose(out, data.mean(axis=0), rtol=1e-12)
    assert avg.count == 5
    avg.reset()
    assert avg.count == 0
    np.testing.assert_allclose(avg.update(data[0]), data[0])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 7), count=st.integers(1, 30), seed=st.integers(0, 1000))
def test_running_linear_mean_is_the_mean_of_the_last_n(n: int, count: int, seed: int) -> None:
    data = rows(count, seed)
    avg = LinearAverager(BINS, n, running=True)
    for i, r in enumerate(data):
        out = avg.update(r)
        window = data[max(0, i + 1 - n) : i + 1]
        np.testing.assert_allclose(out, window.mean(axis=0), rtol=1e-12)
        assert avg.count == len(window)
        assert avg.ready == (len(window) == n)


def test_block_linear_mean_publishes_every_n_frames() -> None:
    data = rows(10, 3)
    avg = LinearAverager(BINS, 4, running=False)
    outs = [avg.update(r).copy() for r in data]
    np.testing.assert_allclose(outs[1], data[:2].mean(axis=0))  # partial before the first
    np.testing.assert_allclose(outs[3], data[:4].mean(axis=0))
    np.testing.assert_allclose(outs[6], data[:4].mean(axis=0))  # held until the next block
    np.testing.assert_allclose(outs[7], data[4:8].mean(axis=0))
    assert avg.ready and avg.count == 4
    avg.reset()
    assert not avg.ready and avg.count == 0


def test_cumulative_mean_and_peak_hold() -> None:
    data = rows(6, 5)
    cum, peak, none = CumulativeAverager(BINS), PeakHold(BINS), NoAverager(BINS)
    for r in data:
        c, p, z = cum.update(r), peak.update(r), none.update(r)
    np.testing.assert_allclose(c, data.mean(axis=0))
    np.testing.assert_array_equal(p, data.max(axis=0))
    np.testing.assert_array_equal(z, data[-1])
    peak.reset()
    np.testing.assert_array_equal(peak.update(data[0]), data[0])
    assert peak.count == 1 and cum.count == 6 and none.count == 1


def test_update_returns_a_preallocated_buffer_and_checks_shape() -> None:
    for avg in (
        ExponentialAverager(BINS, 1.0, 0.1),
        LinearAverager(BINS, 3),
        LinearAverager(BINS, 3, running=False),
        CumulativeAverager(BINS),
        PeakHold(BINS),
        NoAverager(BINS),
    ):
        first = avg.update(np.ones(BINS))
        assert avg.update(np.ones(BINS)) is first
        with pytest.raises(ValueError, match="bins"):
            avg.update(np.ones(BINS + 1))


def test_parse_and_make() -> None:
    assert parse_average("exp:0.5") == AverageSpec("exp", time_constant_s=0.5)
    assert parse_average(" LIN:8 ") == AverageSpec("lin", n_frames=8)
    assert parse_average("peak").describe() == "peak"
    assert parse_average("exp:0.25").describe() == "exp:0.25"
    for bad in ("exp:0", "exp:-1", "exp:x", "lin:0", "lin:1.5", "mean", "exp:nan"):
        with pytest.raises(ValueError, match="averaging must be"):
            parse_average(bad)
    kinds = {
        "exp:1": ExponentialAverager,
        "lin:4": LinearAverager,
        "block": CumulativeAverager,
        "peak": PeakHold,
        "none": NoAverager,
    }
    for text, cls in kinds.items():
        assert isinstance(make_averager(parse_average(text), BINS, 0.1), cls)
