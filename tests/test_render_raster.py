"""Pure rendering: frequency maps, levels, Segment table, ticks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livespec.dsp.scales import db_ticks, format_hz, format_seconds, time_ticks
from livespec.render.freqmap import FreqMap, freq_ticks
from livespec.render.raster import UPPER_HALF, CellTable, cell_keys, to_levels

FS, BINS = 48000, 2049  # fft 4096


def _row_with_peak(bin_index: int, level: float = -6.0) -> np.ndarray:
    row = np.full(BINS, -120.0, np.float32)
    row[bin_index] = level
    return row


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
@pytest.mark.parametrize("pixels", [20, 76, 500])
def test_a_peak_lands_in_the_pixel_of_its_frequency(scale: str, pixels: int) -> None:
    fm = FreqMap(scale, 0.0, FS / 2, pixels, FS, BINS)
    for k in (43, 85, 853):  # ~504 Hz, ~996 Hz, ~10 kHz
        out = fm.map_row(_row_with_peak(k))
        f = k * FS / 4096
        px = int(fm.pos_of(f))
        assert out[min(px, pixels - 1)] == pytest.approx(-6.0)
        assert fm.edges[px] <= f <= fm.edges[px + 1] + 1e-9


def test_wide_pixels_take_the_max_and_narrow_ones_interpolate() -> None:
    fm = FreqMap("linear", 0.0, FS / 2, 10, FS, BINS)  # ~205 bins per pixel
    row = np.random.default_rng(0).uniform(-100, -50, BINS).astype(np.float32)
    out = fm.map_row(row)
    assert out[0] == pytest.approx(row[: int(np.ceil(fm.edges[1] / fm.bin_hz))].max())
    zoom = FreqMap("linear", 990.0, 1010.0, 40, FS, BINS)  # 0.5 Hz per pixel, bins 11.7 Hz
    ramp = np.arange(BINS, dtype=np.float32)
    z = zoom.map_row(ramp)
    # pixels without a bin centre interpolate; one that holds a bin centre shows that bin
    np.testing.assert_allclose(z, zoom.centres() / zoom.bin_hz, atol=0.5 * 0.5 / zoom.bin_hz + 1e-4)
    assert np.all(np.diff(z) >= 0)


def test_map_rows_equals_map_row() -> None:
    fm = FreqMap("log", 20.0, 20000.0, 64, FS, BINS)
    rows = np.random.default_rng(1).normal(-80, 10, (5, BINS)).astype(np.float32)
    many = fm.map_rows(rows)
    for r, m in zip(rows, many, strict=True):
        np.testing.assert_array_equal(fm.map_row(r), m)


def test_log_scale_starts_above_zero_and_fmax_is_clamped() -> None:
    fm = FreqMap("log", 0.0, 1e6, 50, FS, BINS)
    assert fm.lo == 20.0 and fm.hi == FS / 2
    assert fm.freq_at(0) == pytest.approx(20.0)
    assert fm.freq_at(50) == pytest.approx(FS / 2)


@given(st.floats(30.0, 23000.0), st.sampled_from(["linear", "log", "mel"]))
def test_pos_and_freq_are_inverse(f: float, scale: str) -> None:
    fm = FreqMap(scale, 20.0, FS / 2, 100, FS, BINS)
    assert fm.freq_at(fm.pos_of(f)) == pytest.approx(f, rel=1e-9)


def test_levels_span_the_db_range() -> None:
    lv = to_levels(np.array([-200, -120, -60, 0, 30], np.float32), -120.0, 0.0)
    assert lv.tolist() == [0, 0, 128, 255, 255]


def test_cell_table_strips() -> None:
    top = np.array([[0, 0, 255, 255]], np.uint8)
    bottom = np.array([[0, 0, 0, 128]], np.uint8)
    for depth in ("truecolor", "256", "16"):
        table = CellTable("viridis", depth)
        (strip,) = table.strips(top, bottom)
        assert strip.cell_length == 4
        assert strip.text == UPPER_HALF * 4
        segs = list(strip)
        if depth != "truecolor":  # runs of equal cells are merged
            assert len(segs) == 3 and segs[0].text == UPPER_HALF * 2
        assert segs[-1].style is not None
        assert segs[-1].style.color == table.colors[255]
        assert segs[-1].style.bgcolor == table.colors[128]
    none = CellTable("viridis", "none")
    (strip,) = none.strips(top, bottom)
    assert strip.text == "  @@"


def test_cell_keys_pair_rows() -> None:
    px = np.arange(6, dtype=np.uint8).reshape(3, 2)
    keys = cell_keys(px)
    assert keys.tolist() == [[0 << 8 | 2, 1 << 8 | 3], [4 << 8 | 0, 5 << 8 | 0]]


def test_log_ticks_are_1_2_5_and_spaced() -> None:
    fm = FreqMap("log", 20.0, 24000.0, 76, FS, BINS)
    ticks = freq_ticks(fm, 38, 2.0)
    labels = [format_hz(f) for _, f in ticks]
    assert labels[:4] == ["20", "50", "100", "200"] and "1k" in labels and "10k" in labels
    pos = [p for p, _ in ticks]
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(pos))


def test_ticks_follow_the_zoom() -> None:
    fm = FreqMap("linear", 900.0, 1100.0, 80, FS, BINS)
    labels = [format_hz(f) for _, f in freq_ticks(fm, 80, 7.0)]
    assert labels[0] == "900" and "1k" in labels and labels[-1] == "1.1k"
    assert len(labels) >= 5


def test_formats() -> None:
    assert [format_hz(f) for f in (0, 20, 500, 1000, 1500, 12500, 2.5)] == [
        "0",
        "20",
        "500",
        "1k",
        "1.5k",
        "12.5k",
        "2.5",
    ]
    assert [format_seconds(s) for s in (0, 0.5, 12, 120)] == ["0s", "-0.5s", "-12s", "-2m"]


def test_time_and_db_ticks() -> None:
    ticks = time_ticks(0.0, 2.0, 100, 8)
    assert ticks[0] == (0.0, 0.0)
    assert all(b[0] - a[0] >= 8 for a, b in itertools.pairwise(ticks))
    back = time_ticks(1.05, 2.0, 100, 8)
    assert all(s >= 1.05 for _, s in back)
    rows = db_ticks(-120.0, 0.0, 30)
    assert rows[0] == (29, -120.0) and rows[-1] == (0, 0.0)


@pytest.mark.parametrize("depth", ["truecolor", "256", "16", "none"])
@pytest.mark.parametrize("width", [1, 2, 5])
def test_texts_are_the_rows_escape_sequences(depth: str, width: int) -> None:
    """CellTable.texts (escape sequences only, made without the segments) gives each
    row's sequences exactly as rows_from_keys does, on a table that made them first."""
    keys = np.random.default_rng(width).integers(0, 65536, size=(9, width)).astype(np.uint16)
    fresh = CellTable("magma", depth)
    texts = fresh.texts(keys)
    assert texts == [ansi for _, ansi in CellTable("magma", depth).rows_from_keys(keys)]
    assert [ansi for _, ansi in fresh.rows_from_keys(keys)] == texts  # segments made later
