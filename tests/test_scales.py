"""Frequency scales and ticks (livespec.dsp.scales): mapping, mel values, ticks in range."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from livespec.dsp.scales import (
    SCALES,
    FreqScale,
    db_ticks,
    from_scale,
    from_scale1,
    hz_label,
    hz_ticks,
    hz_to_mel,
    log_band_edges,
    log_ticks,
    mel_band_edges,
    mel_to_hz,
    nice_ticks,
    scale_limits,
    scale_ticks,
    time_label,
    time_ticks,
    to_scale,
    to_scale1,
)

FREQS = np.array([0.0, 20.0, 100.0, 999.0, 1000.0, 1001.0, 4000.0, 24000.0])


@pytest.mark.parametrize("scale", SCALES)
def test_round_trip_and_monotonic(scale: str) -> None:
    f = np.linspace(20.0, 24000.0, 500)
    s = to_scale(scale, f)
    assert np.all(np.diff(s) > 0)
    assert_allclose(from_scale(scale, s), f, rtol=1e-12)
    for x in (20.0, 440.0, 12345.0):
        assert from_scale1(scale, to_scale1(scale, x)) == pytest.approx(x, rel=1e-12)
        assert to_scale1(scale, x) == pytest.approx(float(to_scale(scale, x)), rel=1e-12)


def test_one_list_of_scales() -> None:
    from livespec.cli.export import SCALES as CLI_SCALES
    from livespec.config import SCALE_CHOICES

    assert SCALES == SCALE_CHOICES == CLI_SCALES


@pytest.mark.parametrize("htk", [False, True])
def test_mel_round_trip(htk: bool) -> None:
    m = hz_to_mel(FREQS, htk)
    assert np.all(np.diff(m) > 0)
    assert_allclose(mel_to_hz(m, htk), FREQS, rtol=1e-12, atol=1e-9)


def test_mel_known_values() -> None:
    # HTK: 1000 Hz is 1000 mels by construction (2595 * log10(1 + 1000/700) = 999.99 mels).
    assert float(hz_to_mel(1000.0, htk=True)) == pytest.approx(999.9855, abs=1e-3)
    assert float(hz_to_mel(700.0, htk=True)) == pytest.approx(2595.0 * np.log10(2.0))
    # Slaney (librosa.hz_to_mel): 3 mels per 200 Hz below 1 kHz, 15 mels at 1 kHz,
    # 27 mels per factor 6.4 above.
    assert float(hz_to_mel(200.0)) == pytest.approx(3.0)
    assert float(hz_to_mel(1000.0)) == pytest.approx(15.0)
    assert float(hz_to_mel(6400.0)) == pytest.approx(42.0)
    assert float(mel_to_hz(42.0)) == pytest.approx(6400.0)


def test_band_edges() -> None:
    e = mel_band_edges(0.0, 8000.0, 40)
    assert e.shape == (42,) and e[0] == 0.0 and e[-1] == pytest.approx(8000.0)
    assert np.all(np.diff(e) > 0)
    le = log_band_edges(20.0, 20000.0, 3)
    assert_allclose(le, [20.0, 200.0, 2000.0, 20000.0])


def test_scale_limits() -> None:
    assert scale_limits("linear", 0.0, 30000.0, 24000.0) == (0.0, 24000.0)
    assert scale_limits("log", 0.0, 24000.0, 24000.0) == (20.0, 24000.0)
    assert scale_limits("log", 0.0, 1000.0, 24000.0) == (10.0, 1000.0)
    lo, hi = scale_limits("mel", 500.0, 500.0, 24000.0)
    assert hi - lo == pytest.approx(1.0)


def test_freq_scale_rows_are_centred() -> None:
    lin = FreqScale("linear", 11, 0.0, 1000.0)
    assert_allclose(lin.index(np.array([0.0, 500.0, 1000.0])), [0.0, 5.0, 10.0])
    log = FreqScale("log", 3, 20.0, 20000.0)
    assert_allclose(log.index(np.array([20.0, 20000.0])), [-0.5, 2.5])
    assert_allclose(log.y_of(np.array([20.0, 20000.0]), 300), [300.0, 0.0])
    mel = FreqScale("mel", 40, 0.0, 8000.0, htk=True)
    centres = mel_band_edges(0.0, 8000.0, 40, htk=True)[1:-1]
    assert_allclose(mel.index(centres), np.arange(40), atol=1e-9)


@pytest.mark.parametrize("scale", SCALES)
def test_hz_ticks_inside_range_and_spaced(scale: str) -> None:
    lo, hi = scale_limits(scale, 0.0, 24000.0, 24000.0)
    s0, s1 = to_scale1(scale, lo), to_scale1(scale, hi)
    cells = 60.0

    def pos(f: float) -> float:
        return (to_scale1(scale, f) - s0) / (s1 - s0) * cells

    ticks = hz_ticks(scale, lo, hi, pos, 5.0)
    assert len(ticks) >= 2
    assert all(lo - 1e-9 <= f <= hi + 1e-9 and -1e-9 <= p <= cells + 1e-9 for p, f in ticks)
    assert all(b[0] - a[0] >= 5.0 for a, b in itertools.pairwise(ticks))


def test_time_and_db_ticks_inside_range() -> None:
    for pos, s in time_ticks(1.3, 7.0, 40, 6):
        assert 0 <= pos < 40 and 1.3 - 1e-9 <= s <= 8.3 + 1e-9
    rows = db_ticks(-120.0, 0.0, 20)
    assert rows[0] == (19, -120.0) and rows[-1] == (0, 0.0)
    assert all(0 <= r < 20 for r, _ in rows)
    assert all(-120.0 <= v <= 0.0 for _, v in rows)


def test_figure_ticks_and_labels() -> None:
    assert nice_ticks(0.0, 1.0, 4) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(3.0, 3.0) == [3.0]
    assert log_ticks(20.0, 20000.0)[:4] == [20.0, 50.0, 100.0, 200.0]
    assert all(20.0 <= f <= 20000.0 for f in log_ticks(20.0, 20000.0))
    assert scale_ticks(FreqScale("mel", 64, 0.0, 8000.0), 400)[:2] == [0.0, 100.0]
    assert scale_ticks(FreqScale("linear", 2049, 0.0, 24000.0), 400)[-1] == 20000.0
    assert [hz_label(f, True) for f in (500.0, 2500.0, 20000.0)] == ["0.5", "2.5", "20"]
    assert hz_label(440.0, False) == "440"
    assert [time_label(t, 60.0) for t in (0.0, 90.0, 600.0)] == ["0", "1:30", "10:00"]
    assert time_label(2.5, 0.5) == "2.5"
