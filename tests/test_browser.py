"""The file browser (``livespec FILE``): the overview's numbers, zoom, pan and cursor on a
file with tones at known times and frequencies, overlays and labels at cells computed here
independently, markers saved as Audacity labels, the SVG key, bad input, and a snapshot."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from support.app import sync
from textual.pilot import Pilot

from livespec.annotate import AnnotationError
from livespec.annotate.labels import format_labels, read_labels, write_labels
from livespec.cli import main, resolve_config
from livespec.cli.parsers import build_parser
from livespec.errors import SourceError
from livespec.export.overview import detail_job, file_info, overview_job
from livespec.render.fileview import pool_columns
from livespec.tui.browser import BrowserApp, make_browser
from livespec.tui.widgets.browse import LabelRow
from livespec.tui.widgets.plot import AXIS_W, Plot

FS = 16000
SECONDS = 30.0
TONES = [(2.0, 4.0, 1000.0), (10.0, 12.0, 3000.0), (20.0, 25.0, 500.0)]  # start, end, Hz
AMP = 0.25  # -12.04 dBFS peak, -15.05 dBFS RMS


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browse") / "tones.wav"
    t = np.arange(int(SECONDS * FS)) / FS
    x = np.zeros_like(t)
    for a, b, f in TONES:
        m = (t >= a) & (t < b)
        x[m] = AMP * np.sin(2 * np.pi * f * t[m])
    sf.write(path, x.astype(np.float32), FS, subtype="FLOAT")
    return path


def _app(path: Path, *extra: str, record_dir: Path | None = None) -> BrowserApp:
    args = [str(path), "--no-audio", "--colors", "truecolor", "--backend", "numpy", *extra]
    if record_dir is not None:
        args += ["--record-dir", str(record_dir)]
    ns = build_parser("play").parse_args(args)
    return make_browser(resolve_config(ns), ns, live=False)


async def _ready(app: BrowserApp, pilot: Pilot[Any]) -> None:
    """Wait for the overview (and any detail asked for), then draw."""
    for _ in range(400):
        app.tick()
        d = app.data.detail
        if app.data.overview.finished and (d is None or d.finished):
            break
        await asyncio.sleep(0.02)
    for _ in range(6):  # the detail waits a few ticks of a still window
        app.tick()
    d = app.data.detail
    while d is not None and not d.finished:
        await asyncio.sleep(0.02)
    app.tick()
    await pilot.pause()


def _x_of(app: BrowserApp, seconds: float) -> int:
    v = app.view
    return math.floor((seconds - v.t0) / (v.span / v.width))


def _y_of(app: BrowserApp, hz: float) -> int:
    """Row of ``hz`` on the log scale, from the scale's formula (not FreqMap)."""
    v = app.view
    assert v.scale == "log"
    pixels = 2 * v.height
    pos = (math.log(hz) - math.log(v.fmin)) / (math.log(v.fmax) - math.log(v.fmin)) * pixels
    return (pixels - 1 - int(pos)) // 2


# -- the overview's numbers -------------------------------------------------------------------


def test_overview_finds_each_tone_at_its_time_frequency_and_level(tones: Path) -> None:
    info = file_info(tones)
    job = overview_job(info, backend="numpy")
    job.run()
    assert job.error is None and job.done == job.columns <= 8192
    bin_hz = FS / job.recipe.nfft
    for a, b, f in TONES:
        col = int((a + b) / 2 / SECONDS * job.columns)
        row = job.levels()[col]
        assert abs(np.argmax(row) * bin_hz - f) <= bin_hz
        assert row.max() == pytest.approx(20 * np.log10(AMP), abs=0.1)  # dBFS of the sine
        assert job.rms_db[col] == pytest.approx(20 * np.log10(AMP / np.sqrt(2)), abs=0.05)
        assert job.wave_hi[col] == pytest.approx(AMP, abs=1e-3)
        assert job.wave_lo[col] == pytest.approx(-AMP, abs=1e-3)
    quiet = int(15.0 / SECONDS * job.columns)
    assert job.levels()[quiet].max() < -150


def test_detail_job_resolves_a_short_span(tones: Path) -> None:
    info = file_info(tones)
    job = detail_job(info, 3.5, 4.5, 100, backend="numpy")
    job.run()
    assert job.error is None
    dt = 1.0 / 100
    bin_hz = FS / job.recipe.nfft
    for k in (10, 40):  # 3.6 s and 3.9 s: the tone
        assert abs(np.argmax(job.levels()[k]) * bin_hz - 1000) <= bin_hz
    for k in (70, 95):  # 4.2 s, 4.45 s: silence (the tone ended at 4.0 s)
        assert 3.5 + (k + 0.5) * dt - job.recipe.n / 2 / FS > 4.0  # the whole frame after
        assert job.levels()[k].max() < -150


def test_pool_columns_is_the_maximum_over_overlapping_columns() -> None:
    rng = np.random.default_rng(1)
    cols = rng.normal(size=(50, 3)).astype(np.float32)
    out = pool_columns(cols, 0.0, 5.0, 1.0, 4.0, 7)  # 0.1 s columns, 3/7 s screen columns
    for x in range(7):
        a, b = 1.0 + 3 * x / 7, 1.0 + 3 * (x + 1) / 7
        i0, i1 = math.floor(a / 0.1 + 1e-9), math.ceil(b / 0.1 - 1e-9)
        np.testing.assert_array_equal(out[x], cols[i0:i1].max(axis=0))
    up = pool_columns(cols, 0.0, 5.0, 1.0, 1.2, 8)  # screen columns inside one column
    np.testing.assert_array_equal(up[:4], np.repeat(cols[10:11], 4, axis=0))
    np.testing.assert_array_equal(up[4:], np.repeat(cols[11:12], 4, axis=0))
    off = pool_columns(cols, 0.0, 5.0, 6.0, 7.0, 4)
    assert (off <= -400).all()


# -- the screen ---------------------------------------------------------------------------------


@sync
async def test_click_reads_time_frequency_and_level_of_a_tone(tones: Path) -> None:
    app = _app(tones)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        v = app.view
        assert (v.t0, v.span) == (0.0, SECONDS)
        x, y = _x_of(app, 3.0), _y_of(app, 1000.0)
        await pilot.click(Plot, offset=(AXIS_W + x, y))
        await pilot.pause()
        hz, db, t = v.cursor_reading()
        dt = v.span / v.width
        assert t == pytest.approx(3.0, abs=dt)
        assert app.playback.position() == pytest.approx(t, abs=1e-9)  # the click seeks
        lo, hi = v.fmap.edges[int(v.fmap.pos_of(hz))], v.fmap.edges[int(v.fmap.pos_of(hz)) + 1]
        assert lo - 2 * v.fmap.bin_hz <= 1000.0 <= hi + 2 * v.fmap.bin_hz
        assert db == pytest.approx(20 * np.log10(AMP), abs=0.5)
        assert f"{t:.3f} s" in app.readout_text().plain


@sync
async def test_zoom_and_pan_in_time_and_frequency_keep_the_readings_right(tones: Path) -> None:
    app = _app(tones)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        v = app.view
        await pilot.click(Plot, offset=(AXIS_W + _x_of(app, 11.0), _y_of(app, 3000.0)))
        for _ in range(4):  # x16 in time, around the cursor
            await pilot.press("plus")
        await _ready(app, pilot)
        assert v.span == pytest.approx(SECONDS / 16)
        assert v.t0 <= 11.0 < v.t0 + v.span
        assert app.data.detail is not None and app.data.detail_ready(
            v.t0, v.t0 + v.span, v.width
        )  # recomputed at screen resolution
        await pilot.click(Plot, offset=(AXIS_W + _x_of(app, 11.5), _y_of(app, 3000.0)))
        await pilot.pause()
        hz, db, t = v.cursor_reading()
        assert t == pytest.approx(11.5, abs=v.span / v.width)
        assert abs(hz - 3000.0) < 0.05 * 3000
        assert db == pytest.approx(20 * np.log10(AMP), abs=0.5)
        t0 = v.t0
        await pilot.press("greater_than_sign")  # pan half a screen later
        assert v.t0 == pytest.approx(t0 + v.span / 2)
        await pilot.press("less_than_sign")
        assert v.t0 == pytest.approx(t0)
        await pilot.press("z", "z")  # frequency x4 at the cursor (3 kHz)
        await _ready(app, pilot)
        assert v.fmin < 3000.0 < v.fmax and v.fmax / v.fmin < 10
        await pilot.click(Plot, offset=(AXIS_W + _x_of(app, 11.2), _y_of(app, 3000.0)))
        await pilot.pause()
        hz, db, t = v.cursor_reading()
        assert t == pytest.approx(11.2, abs=v.span / v.width)
        p = int(v.fmap.pos_of(hz))  # the cell holds pixels p and p +- 1: 3 kHz is in it
        assert v.fmap.edges[max(p - 1, 0)] <= 3000.0 <= v.fmap.edges[p + 2]
        assert v.fmap.edges[p + 1] / v.fmap.edges[p] < 1.03  # finer than before the zoom
        age, _ = v.cursor_pixel()
        y = (v.fmap.pixels - 1 - p) // 2  # the cell's two pixels: the tone is in one
        cell = [v.level_at(age, v.fmap.pixels - 1 - 2 * y - k) for k in (0, 1)]
        assert max(c for c in cell if c is not None) == pytest.approx(20 * np.log10(AMP), abs=0.5)
        await pilot.press("w", "0")
        assert (v.t0, v.span) == (0.0, SECONDS)


@sync
async def test_cursor_shown_by_a_key_starts_at_the_playhead(tones: Path) -> None:
    app = _app(tones)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        v = app.view
        dt = v.span / v.width
        await pilot.press("up")  # the playhead is at 0 s: the cursor at the left edge
        _, _, t = v.cursor_reading()
        assert t == pytest.approx(dt / 2)
        await pilot.press("escape", "right", "right", "up")  # seek to 6 s, show it again
        _, _, t = v.cursor_reading()
        assert t == pytest.approx(6.0, abs=dt)
        assert v.cursor_x() == _x_of(app, 6.0)
        await pilot.press("escape")
        for _ in range(3):  # x8 in time around the playhead, then pan it off screen
            await pilot.press("plus")
        await pilot.press("less_than_sign", "less_than_sign", "down")
        assert v.x_of(app.playback.position()) is None
        _, _, t = v.cursor_reading()
        assert v.cursor_x() == 0 and t == pytest.approx(v.t0 + v.span / v.width / 2)


@sync
async def test_keys_seek_loop_and_play(tones: Path) -> None:
    app = _app(tones)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        pb = app.playback
        await pilot.press("right")
        assert pb.position() == pytest.approx(3.0)  # a tenth of 30 s
        await pilot.press("shift+right")
        assert pb.position() == pytest.approx(3.3)
        await pilot.press("left_square_bracket", "right", "right_square_bracket")
        a, b = app.browsing.loop
        assert a == pytest.approx(3.3) and b == pytest.approx(6.3)
        await pilot.press("end")
        assert pb.position() == pytest.approx(6.3)  # clamped to the loop
        await pilot.press("backslash", "end")
        assert pb.position() == pytest.approx(SECONDS)
        await pilot.press("home", "space")
        assert pb.playing()
        await pilot.press("space")
        assert not pb.playing()


@sync
async def test_overlays_and_labels_are_drawn_where_they_belong(tones: Path, tmp_path: Path) -> None:
    curve = tmp_path / "pitch.csv"
    curve.write_text("time_s,value\n2.0,1000\n4.0,1000\n")
    level = tmp_path / "level.csv"
    level.write_text("0,-60,dB\n30,-60,dB\n")
    labels = tmp_path / "regions.txt"
    labels.write_text("10.000000\t12.000000\tbeep\n20.000000\t25.000000\tlow\n")
    app = _app(tones, "--overlay", str(curve), "--overlay", str(level), "--labels", str(labels))
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        v = app.view
        cells = {(x, y): (ch, st) for x, y, ch, st in app.browsing.paint.cells}
        dt = v.span / v.width
        y1k = _y_of(app, 1000.0)
        inside = [x for x in range(v.width) if 2.0 <= v.t0 + (x + 0.5) * dt <= 4.0]
        assert inside and all(cells[(x, y1k)][0] == "•" for x in inside)
        c0 = cells[(inside[0], y1k)][1].color
        ydb = round((v.db_max - -60.0) / (v.db_max - v.db_min) * (v.height - 1))
        assert all((x, ydb) in cells for x in range(v.width) if (x, ydb) not in {(0, 0)})
        assert cells[(5, ydb)][1].color != c0  # each curve its own colour
        legend = app.readout_text().plain
        assert "pitch (Hz)" in legend and "level (dB)" in legend
        row = app.query_one(LabelRow).render_line(0).text
        x_beep = AXIS_W + math.floor((10.0 - v.t0) / dt)
        assert row[x_beep] == "▕" and row[x_beep + 1 : x_beep + 5] == "beep"
        x_end = AXIS_W + math.ceil((12.0 - v.t0) / dt) - 1
        assert row[x_end] == "▏"
        await pilot.press("p", "v")
        chars = {(x, y): ch for x, y, ch, _ in app.browsing.paint.cells}
        y3k = _y_of(app, 3000.0)
        x11 = _x_of(app, 11.0)
        dots = [y for (x, y), ch in chars.items() if x == x11 and ch == "•" and y != ydb]
        assert dots and abs(dots[0] - y3k) <= 1  # the peak track on the 3 kHz tone
        # the waveform strip: +-0.25 on 5 rows spanning +1..-1 -> the middle three rows
        wave_rows = sorted(y for (x, y), ch in chars.items() if x == x11 and ch == "┃")
        assert wave_rows == [v.height - 4, v.height - 3, v.height - 2]


@sync
async def test_markers_saved_as_audacity_labels_round_trip(tones: Path, tmp_path: Path) -> None:
    audio = tmp_path / "take.wav"
    audio.write_bytes(tones.read_bytes())
    app = _app(audio)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        await pilot.click(Plot, offset=(AXIS_W + _x_of(app, 3.0), _y_of(app, 1000.0)))
        await pilot.press("m")
        await pilot.press("escape", "end", "m")  # no cursor: at the play position
        await pilot.press("L")
        await pilot.press("L")
    first, second = tmp_path / "take.labels.txt", tmp_path / "take.labels-1.txt"
    assert first.read_bytes() == second.read_bytes()  # never overwritten: a second file
    labels = read_labels(first)
    assert [lab.start for lab in labels] == [lab.end for lab in labels]
    assert labels[0].start == pytest.approx(3.0, abs=SECONDS / 105)
    assert labels[1].start == SECONDS and labels[1].text == "m2"
    again = tmp_path / "again.txt"
    write_labels(again, labels)
    assert again.read_bytes() == first.read_bytes()
    assert format_labels(read_labels(again)).encode() == first.read_bytes()


@sync
async def test_labels_out_and_screenshot_key(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine.txt"
    rec = tmp_path / "rec"
    rec.mkdir()
    app = _app(tones, "--labels-out", str(out), record_dir=rec)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        await pilot.press("m", "L", "S")
        await pilot.pause()
        await pilot.press("L")  # a second save never replaces the first
        await pilot.pause()
    assert read_labels(out)[0].start == 0.0
    assert read_labels(tmp_path / "mine-1.txt") == read_labels(out)
    svgs = list(rec.glob("tones-*.svg"))
    assert len(svgs) == 1 and svgs[0].read_text().startswith("<svg")


# -- bad input ---------------------------------------------------------------------------------


def test_bad_input_ends_before_the_screen(tones: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        _app(tmp_path / "missing.wav")
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,value\n1.0,2.0,3.0,4.0\n")
    with pytest.raises(AnnotationError, match=r"bad\.csv:2: expected time_s,value"):
        _app(tones, "--overlay", str(bad))
    lab = tmp_path / "bad.txt"
    lab.write_text("1.0\t2.0\tok\nzz\t3.0\tx\n")
    with pytest.raises(AnnotationError, match=r"bad\.txt:2: start time"):
        _app(tones, "--labels", str(lab))


@pytest.mark.parametrize(
    "args, message",
    [
        (["{missing}"], "missing.wav: no such file"),
        (["play", "{missing}"], "missing.wav: no such file"),
        (["{tones}", "--overlay", "{bad}"], "bad.csv:1: expected time_s,value"),
        (["{tones}"], "no terminal"),
    ],
)
def test_command_line_errors_are_one_line_and_status_2(
    args: list[str], message: str, tones: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3,4\n")
    names = {"missing": tmp_path / "missing.wav", "tones": tones, "bad": bad}
    assert main([a.format(**names) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_the_app_and_subcommands_still_parse_as_before() -> None:
    from livespec.cli import _is_file_argument

    assert not _is_file_argument("--input")
    assert not _is_file_argument("peaks")
    assert _is_file_argument("x.wav")


def test_snapshot_browser(snap_compare: Any, tones: Path) -> None:
    tones.with_name("snap.txt").write_text("2.000000\t4.000000\ttone\n")
    app = _app(tones, "--labels", str(tones.with_name("snap.txt")))

    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(app, pilot)
        await pilot.press("e", "m")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


class _FakeOutput:
    """Stands for livespec.audio.output (the sound-card player of another branch)."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.calls: list[tuple[str, object]] = []

    def open_playback(
        self, path: str, device: object = None, audio: bool = True, latency: object = 0.2
    ) -> Any:
        self.calls.append((path, device))
        if self.fail:
            raise SourceError("no output device")
        from livespec.audio.playback import SilentPlayback

        player = SilentPlayback(1.0)
        player.duration = 123.0  # recognisable
        return player


@pytest.mark.parametrize(
    "env, args, fail, kind, notice",
    [
        ({}, ["--no-audio"], False, "silent", None),
        ({"SSH_CONNECTION": "1 2 3 4"}, [], False, "silent", "Over SSH"),
        ({}, [], True, "silent", "No sound output (no output device)"),
        ({}, [], False, "device", None),
        ({"SSH_CONNECTION": "1 2 3 4"}, ["--output-device", "2"], False, "device", None),
    ],
)
def test_playback_choice(
    env: dict[str, str],
    args: list[str],
    fail: bool,
    kind: str,
    notice: str | None,
    tones: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from livespec.tui.browse_start import open_playback

    fake = _FakeOutput(fail)
    monkeypatch.setitem(sys.modules, "livespec.audio.output", fake)  # type: ignore[arg-type]
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ns = build_parser("play").parse_args([str(tones), *args])
    player, _, said = open_playback(ns, file_info(tones))
    assert (player.duration == 123.0) == (kind == "device")
    assert (said is None) if notice is None else (said is not None and notice in said)


def test_a_named_output_device_that_fails_is_an_error(
    tones: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from livespec.tui.browse_start import open_playback

    monkeypatch.setitem(sys.modules, "livespec.audio.output", _FakeOutput(True))  # type: ignore[arg-type]
    ns = build_parser("play").parse_args([str(tones), "--output-device", "nope"])
    with pytest.raises(SourceError, match="no output device"):
        open_playback(ns, file_info(tones))


@sync
async def test_a_playback_that_fails_is_a_notification(tones: Path) -> None:
    """The output device gone (or a sample that cannot be played): the player stops and
    the browser says why, once."""
    app = _app(tones)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        said = "output stream ended unexpectedly: device 'pulse' (sound server gone?)"
        app.playback.error = said  # type: ignore[misc]  # SilentPlayback's, set as a device's
        app.tick()
        app.tick()
        await pilot.pause()
        shown = [n.message for n in app._notifications]
        assert shown.count(said) == 1, shown
