"""The waterfall model: bounded history, scrolling display, pause, cursor, marker, zoom."""

from __future__ import annotations

import numpy as np
import pytest

from livespec.render.history import History
from livespec.render.raster import cell_keys, to_levels
from livespec.render.stats import Stats
from livespec.render.view import NO_DATA_DB, WaterfallView

FS, BINS, HOP = 48000, 2049, 1024


def _rows(n: int, start: int = 0) -> list[np.ndarray]:
    out = []
    for i in range(start, start + n):
        r = np.full(BINS, -100.0, np.float32)
        r[85] = -6.0 - (i % 50)  # a tone whose level tells the frame apart
        out.append(r)
    return out


def _view(**kw: object) -> WaterfallView:
    v = WaterfallView(samplerate=FS, bins=BINS, hop=HOP, history_seconds=10.0, **kw)  # type: ignore[arg-type]
    v.resize(40, 20)
    return v


def test_history_is_bounded_and_keeps_the_newest() -> None:
    h = History(BINS, FS / HOP, seconds=2.0, min_frames=10)
    assert h.capacity == 94  # ceil(2 s * 46.875 frames/s)
    for i, r in enumerate(_rows(300)):
        h.append(r, i * 0.1)
    assert len(h) == h.capacity and h.oldest == 300 - h.capacity
    assert h.row(299)[85] == pytest.approx(-6.0 - 299 % 50, abs=0.02)
    assert not h.has(h.oldest - 1)
    rows, n = h.newest_first(300, 5)
    assert n == 5 and rows[0][85] == h.row(299)[85]


def test_history_respects_the_byte_budget() -> None:
    h = History(32769, 3.0, seconds=3600.0, max_bytes=1 << 20)
    assert h.capacity * 32769 * 2 <= max(1 << 20, 512 * 32769 * 2)


def test_history_of_a_huge_zero_padded_fft_stays_within_the_hard_cap() -> None:
    """fft 65536 x zero-pad 16: 524,289 bins a row; the screenful floor (512 rows, 537 MB)
    yields to the hard cap, and the rows really are allocated within it."""
    from livespec.render.history import HARD_MAX_BYTES

    bins = 65536 * 16 // 2 + 1
    h = History(bins, 48000 / 16384, seconds=300.0)
    assert h.capacity == HARD_MAX_BYTES // (2 * bins) == 255  # rows of 1 MB
    assert h._rows.nbytes <= HARD_MAX_BYTES


def test_horizontal_newest_column_is_at_the_right_and_low_frequencies_at_the_bottom() -> None:
    v = _view()
    v.push(_rows(3), [0.0, 0.1, 0.2])
    assert v.time_pixels == 40 and v.freq_pixels == 40
    lv = v.levels()  # (2*height, width), row 0 = top
    tone_px = int(v.fmap.pos_of(85 * FS / 4096))
    assert lv[39 - tone_px, 39] > lv[0, 39]  # newest column at the right shows the tone
    assert lv[39 - tone_px, 0] == 0  # no data yet at the left
    assert len(v.strips()) == 20 and all(s.cell_length == 40 for s in v.strips())


def test_vertical_newest_row_is_at_the_top() -> None:
    v = _view(orientation="vertical")
    v.push(_rows(2), [0.0, 0.1])
    assert v.time_pixels == 40 and v.freq_pixels == 40
    lv = v.levels()
    tone_px = int(v.fmap.pos_of(85 * FS / 4096))
    assert lv[0, tone_px] > 0 and lv[39, tone_px] == 0


def test_vertical_rows_hold_fixed_frame_pairs_and_only_move_down() -> None:
    """A text row always shows frames (2k+1 above 2k); while the newest pair is incomplete
    its frame fills both halves; reused rows equal rows built from scratch."""
    v = _view(orientation="vertical")
    tone_px = int(v.fmap.pos_of(85 * FS / 4096))
    seen: list[tuple[int, int, int]] = []
    n = 0
    for batch in [1, 1, 2, 3, 1, 4, 1, 1, 2]:
        v.push(_rows(batch, n), [0.0] * batch)
        n += batch
        rows = v.rows()
        lv = v.levels()
        fresh = v.table.rows_from_keys(cell_keys(lv))
        assert [r[1] for r in rows] == [r[1] for r in fresh]
        # the top row's two halves: frame n-1 twice (odd count) or frames n-1 over n-2
        top, bottom = int(lv[0, tone_px]), int(lv[1, tone_px])
        level = [int(x) for x in to_levels(np.array([-6.0 - (i % 50) for i in range(n)]), -120, 0)]
        if n % 2:
            assert top == bottom == level[n - 1]
        else:
            assert (top, bottom) == (level[n - 1], level[n - 2])
        seen.append((*v.scrolls, n))
    assert len({e for e, _, _ in seen}) == 1  # never rebuilt after the first build
    # the rows moved down by the pairs begun since the first frame: pair (n - 1) // 2
    assert [t for _, t, _ in seen] == [(n - 1) // 2 for _, _, n in seen]
    assert seen[-1][1] == 7


def test_vertical_rows_rebuild_after_a_colour_change() -> None:
    v = _view(orientation="vertical")
    v.push(_rows(3), [0.0] * 3)
    v.rows()
    before = v.scrolls
    v.set_db(-100.0, -10.0)
    v.rows()
    assert v.scrolls[0] == before[0] + 1


def test_pause_freezes_and_scrolls_back_through_history() -> None:
    v = _view()
    v.push(_rows(100), [i * 0.02 for i in range(100)])
    v.set_paused(True)
    frozen = v.db.copy()
    v.push(_rows(50, 100), [2 + i * 0.02 for i in range(50)])
    np.testing.assert_array_equal(v.db, frozen)
    assert v.frames_back == 50
    v.scroll(30)
    assert v.frames_back == 80
    age, fpx = 0, int(v.fmap.pos_of(85 * FS / 4096))
    assert v.level_at(age, fpx) == pytest.approx(-6.0 - (149 - 80) % 50, abs=0.05)
    v.scroll(10_000)  # clamps at the oldest full screen
    assert v.end == v.history.oldest + v.time_pixels
    v.set_paused(False)
    assert v.frames_back == 0


def test_cursor_and_marker_readings() -> None:
    v = _view()
    v.push(_rows(60), [i * 0.02 for i in range(60)])
    v.move_cursor(-3, 0)  # three columns back in time
    v.cursor_hz = 85 * FS / 4096
    hz, db, t = v.cursor_reading()
    assert abs(hz / 996.1 - 1) < 0.1 and t == pytest.approx(56 * 0.02)  # pixels are ~18% wide
    assert db == pytest.approx(-6.0 - 56 % 50, abs=0.05)
    v.set_marker()
    v.move_cursor(0, -5)  # up in frequency
    mark = v.marker_reading()
    assert mark is not None and mark[1] == pytest.approx(db)
    hz2, db2, _ = v.cursor_reading()
    assert mark[1] is not None
    assert hz2 is not None and hz2 > mark[0] and db2 is not None and db2 < mark[1]
    assert v.marker_cell() is not None and v.cursor_cell() != v.marker_cell()


def test_zoom_and_pan_stay_inside_nyquist() -> None:
    v = _view(scale="linear")
    lo, hi = v.zoomed(4.0, 1000.0)
    assert lo < 1000.0 < hi and hi - lo == pytest.approx(24000.0 / 4, rel=1e-6)
    v.set_freq("linear", lo, hi)
    lo2, hi2 = v.panned(10.0)
    assert hi2 == pytest.approx(24000.0) and hi2 - lo2 == pytest.approx(hi - lo, rel=1e-6)
    for _ in range(20):
        v.set_freq("linear", *v.zoomed(4.0))
    assert v.fmax - v.fmin >= 4 * v.fmap.bin_hz - 1e-9


def test_new_fft_size_clears_the_history() -> None:
    v = _view()
    v.push(_rows(10), [0.0] * 10)
    v.set_analysis(FS, 4097, 2048)
    assert v.history.count == 0 and v.bins == 4097
    assert (v.db == NO_DATA_DB).all()
    v.push(_rows(1), [0.0])  # rows of the old size are ignored
    assert v.history.count == 0


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
@pytest.mark.parametrize("fpp", [1, 3, 4])
def test_frames_per_pixel_pushed_equals_rebuilt(orientation: str, fpp: int) -> None:
    """With ``fpp`` frames per pixel, the display built frame by frame equals one rebuilt
    from the history, whatever the batches; each pixel is the maximum of its frames."""
    v = _view(orientation=orientation)
    v.set_frames_per_pixel(fpp)
    n = 0
    for batch in [1, 2, 5, 1, 7, 3, 1, 1, 9]:
        v.push(_rows(batch, n), [0.0] * batch)
        n += batch
        assert v.end == n // fpp * fpp
        rows = v.rows()
        fresh = _view(orientation=orientation)
        fresh.set_frames_per_pixel(fpp)
        fresh.push(_rows(n), [0.0] * n)
        assert np.array_equal(v.db, fresh.db)
        assert [r[1] for r in rows] == [r[1] for r in fresh.rows()]
    tone_px = int(v.fmap.pos_of(85 * FS / 4096))
    newest = max(-6.0 - (i % 50) for i in range(v.end - fpp, v.end))
    assert v.db[0, tone_px] == pytest.approx(newest, abs=0.05)


def test_frames_per_pixel_cursor_marker_and_scroll_back() -> None:
    v = _view()
    v.push(_rows(200), [i * 0.1 for i in range(200)])
    v.set_frames_per_pixel(4)
    assert v.end == 200
    v.cursor_on, v.cursor_age = True, 2  # two pixels back: frames 188..191
    _, _, t = v.cursor_reading()
    assert t == pytest.approx(19.1)  # the pixel's newest frame
    v.set_marker()
    assert v.marker is not None and v.marker[0] == 191
    assert v.marker_cell() == (v.width - 1 - 2, v.cursor_cell()[1])
    v.set_paused(True)
    v.scroll(10)
    assert v.end == 188  # whole pixels
    assert v.frames_back == 12


@pytest.mark.parametrize("rate", [30.0, 20.0, 10.0])
def test_the_updates_per_second_readout_is_the_tick_rate(rate: float) -> None:
    """Ticks on a timer's grid (each a little late, as a real timer is) read as the rate
    they come at; a count over a closed one-second window read one too many (31 at 30)
    whenever the tick a second back was no later than the newest."""
    rng = np.random.default_rng(7)
    stats = Stats()
    readings = []
    for k in range(int(5 * rate)):
        stats.tick(1000.0 + k / rate + float(rng.uniform(0.0, 0.004)))
        if k >= rate:  # a full second of ticks
            readings.append(round(stats.fps()))
    assert set(readings) == {round(rate)}
