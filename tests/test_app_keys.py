"""Pilot tests: every key binding of the app does what the help says."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.style import Style
from support.app import Rig, make_rig, sync
from textual.binding import Binding

from livespec.tui.app import MIN_HEIGHT, MIN_WIDTH, LivespecApp
from livespec.tui.keys import KEYS
from livespec.tui.options import AppOptions
from livespec.tui.widgets.common import TextLines
from livespec.tui.widgets.help import HelpScreen, key_label
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.status import status_text

State = Callable[[LivespecApp], Any]


def _plot(app: LivespecApp) -> Plot:
    return app.query_one(Plot)


# binding id -> (keys to press before, key pressed, state read before/after, expected after
# or None for "changed")
CASES: dict[str, tuple[list[str], str, State, Any]] = {
    "pause": ([], "space", lambda a: a.view.paused, True),
    "colormap": ([], "c", lambda a: a.viewing.colormap, "magma"),
    "colormap_prev": ([], "C", lambda a: a.viewing.colormap, "grey"),
    "window": ([], "w", lambda a: a.viewing.analysis.window, "hamming"),
    "fft_up": ([], "plus", lambda a: a.viewing.analysis.fft, 8192),
    "fft_down": ([], "minus", lambda a: a.viewing.analysis.fft, 2048),
    "spectrum": ([], "s", lambda a: _plot(a).show_spectrum, False),
    "orientation": ([], "o", lambda a: a.view.orientation, "vertical"),
    "scale": ([], "l", lambda a: a.view.scale, "mel"),
    "cursor_up": (["down"], "up", lambda a: a.view.cursor_pixel(), None),
    "cursor_down": ([], "down", lambda a: a.view.cursor_pixel(), None),
    "cursor_left": ([], "left", lambda a: a.view.cursor_pixel(), None),
    "cursor_right": (["left", "left"], "right", lambda a: a.view.cursor_pixel(), None),
    "cursor_up_fast": (["down"], "shift+up", lambda a: a.view.cursor_pixel(), None),
    "cursor_down_fast": ([], "shift+down", lambda a: a.view.cursor_pixel(), None),
    "cursor_left_fast": ([], "shift+left", lambda a: a.view.cursor_pixel(), None),
    "cursor_right_fast": (["shift+left"], "shift+right", lambda a: a.view.cursor_pixel(), None),
    "marker": (["left"], "m", lambda a: a.view.marker is not None, True),
    "cursor_off": (
        ["left", "m"],
        "escape",
        lambda a: (a.view.cursor_on, a.view.marker),
        (False, None),
    ),
    "top3": ([], "t", lambda a: (a.viewing.top3, a.viewing.analysis.peaks), (True, 3)),
    "hold_reset": ([], "h", lambda a: a.stats.hold, None),
    "zoom_in": ([], "z", lambda a: (a.view.fmin, a.view.fmax), None),
    "zoom_out": (["z", "z"], "x", lambda a: (a.view.fmin, a.view.fmax), None),
    "pan_down": (["z"], "comma", lambda a: (a.view.fmin, a.view.fmax), None),
    "pan_up": (["z", "comma"], "full_stop", lambda a: (a.view.fmin, a.view.fmax), None),
    "zoom_reset": (["z"], "0", lambda a: (a.view.fmin, a.view.fmax), (20.0, 24000.0)),
    "floor_down": ([], "left_square_bracket", lambda a: a.view.db_min, -125.0),
    "floor_up": ([], "right_square_bracket", lambda a: a.view.db_min, -115.0),
    "ceiling_down": ([], "left_curly_bracket", lambda a: a.view.db_max, -5.0),
    "ceiling_up": ([], "right_curly_bracket", lambda a: a.view.db_max, 5.0),
    "autorange": ([], "a", lambda a: (a.view.db_min, a.view.db_max), None),
    "time_out": ([], "less_than_sign", lambda a: (a.view.fpp, a.view.pixel_seconds), None),
    "time_in": (["less_than_sign", "less_than_sign"], "greater_than_sign", lambda a: a.view.fpp, 2),
    "scroll_back": ([], "pageup", lambda a: (a.view.paused, a.view.frames_back), None),
    "scroll_forward": (["pageup", "pageup"], "pagedown", lambda a: a.view.frames_back, None),
    "scroll_oldest": ([], "home", lambda a: a.view.frames_back, None),
    "scroll_newest": (["home"], "end", lambda a: a.view.frames_back, 0),
    "record": ([], "r", lambda a: a.recording.recorder is not None, True),
    "measure": ([], "M", lambda a: (a.measuring.on, a.measuring.worker is not None), (True, True)),
    "average": ([], "A", lambda a: a.measuring.average_spec.kind, "exp"),
    "harmonics": ([], "H", lambda a: a.measuring.show_harmonics, True),
    "help": ([], "question_mark", lambda a: isinstance(a.screen, HelpScreen), True),
    "peak_track": (
        [],
        "p",
        lambda a: (a.overlays.peak, bool(_plot(a).waterfall.extra)),
        (True, True),
    ),
    "rms": ([], "e", lambda a: (a.overlays.rms, bool(_plot(a).waterfall.extra)), (True, True)),
    "wave": ([], "v", lambda a: (a.overlays.wave, bool(_plot(a).waterfall.extra)), (True, True)),
    "save_labels": (["left", "m"], "L", lambda a: len(a.markers.saved), 1),
    "save_screen": ([], "S", lambda a: _svgs(a), None),
}


def _svgs(app: LivespecApp) -> list[str]:
    folder = Path(app.cfg.display.record_dir or "")
    return sorted(p.name for p in folder.glob("*.svg"))


def test_every_binding_is_tested() -> None:
    ids = {b.id for b in KEYS if isinstance(b, Binding)} - {"quit", "quit_ctrl_c"}
    assert ids == set(CASES)


async def _run(rig: Rig, before: list[str], key: str, state: State) -> tuple[Any, Any]:
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(400)  # 8.5 s of audio: more history than one screen
        await pilot.pause()
        for k in before:
            await pilot.press(k)
        rig.feed(4)
        await pilot.pause()
        old = state(app)
        await pilot.press(key)
        await pilot.pause()
        rig.feed(4)
        await pilot.pause()
        return old, state(app)


@pytest.mark.parametrize("bid", sorted(CASES))
@sync
async def test_key(bid: str) -> None:
    before, key, state, expected = CASES[bid]
    rig = make_rig()
    old, new = await _run(rig, before, key, state)
    if expected is None:
        assert new != old, f"{key} changed nothing"
    else:
        assert new == expected
        if bid not in ("hold_reset",):
            assert new != old


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
@sync
async def test_a_click_on_the_waterfall_puts_the_cursor_there(orientation: str) -> None:
    rig = make_rig(orientation=orientation)
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(100)
        await pilot.pause()
        plot = app.query_one(Plot)
        top = 0 if orientation == "horizontal" else 10  # axis rows and spectrum above
        assert plot.waterfall_cell(7 + 12, top + 5) == (12, 5)
        assert plot.waterfall_cell(2, top + 5) is None  # the axis
        await pilot.click(Plot, offset=(7 + 12, top + 5))
        await pilot.pause()
        assert app.view.cursor_on and app.view.cursor_cell() == (12, 5)
        assert "Cursor " in app.query_one("#readout", TextLines).text.plain
        assert "Cursor off" not in app.query_one("#readout", TextLines).text.plain
        await pilot.click(Plot, offset=(2, top + 5))  # outside: nothing moves
        await pilot.pause()
        assert app.view.cursor_cell() == (12, 5)


@sync
async def test_time_zoom_shows_a_longer_span_from_the_history() -> None:
    """``<`` twice: 4 frames per pixel; the newest column is the maximum of the newest 4
    complete frames, the time axis spans 4 times as long, and ``>`` comes back."""
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(400)
        await pilot.pause()
        v = app.view
        span1 = v.time_pixels * v.pixel_seconds
        axis1 = app.query_one(Plot).time_axis.render_all(v.width, 1, Style())[0].text
        await pilot.press("less_than_sign", "less_than_sign")
        rig.feed(3)
        await pilot.pause()
        assert v.fpp == 4 and v.end % 4 == 0
        assert v.time_pixels * v.pixel_seconds == pytest.approx(4 * span1)
        newest = v.history.newest_first(v.end, 4)[0].astype(np.float32)
        assert np.array_equal(v.db[0], v.fmap.map_rows(newest).max(axis=0))
        axis4 = app.query_one(Plot).time_axis.render_all(v.width, 1, Style())[0].text
        assert axis4 != axis1 and "-6s" in axis4  # 4x the span of about 1.7 s
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        await pilot.pause()
        assert v.fpp == 1


@sync
async def test_hold_reset_forgets_the_held_peak() -> None:
    rig = make_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.pause()
        assert rig.app.stats.hold is not None
        await pilot.press("h")
        assert rig.app.stats.hold is None


@sync
async def test_fft_keys_reach_the_engine() -> None:
    rig = make_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.press("plus")
        rig.feed(40)
        await pilot.pause()
        assert rig.engine.config.fft == 8192
        assert rig.app.view.bins == 8192 // 2 + 1
        assert "FFT 8192" in rig.app.query_one("#status", TextLines).text.plain


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
@sync
async def test_quit_keys_exit_with_status_0(key: str) -> None:
    rig = make_rig()
    async with rig.app.run_test(size=(80, 24)) as pilot:
        rig.feed(5)
        await pilot.press(key)
        await pilot.pause()
    assert rig.app.return_code == 0


@sync
async def test_help_lists_every_key_and_closes() -> None:
    rig = make_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(rig.app.screen, HelpScreen)
        rows = dict((d, k) for k, d in rig.app.screen.rows)
        assert len(rows) == len(CASES) + 1  # every binding and quit
        shown = {d: key_label(k) for d, k in rows.items()}  # as the help's table shows them
        assert shown["Longer time span (x2 frames per pixel)"] == "<"
        assert shown["Shorter time span"] == ">"
        assert all("_sign" not in k and "bracket" not in k for k in shown.values()), shown
        await pilot.press("q")  # closes the help, does not quit
        await pilot.pause()
        assert not isinstance(rig.app.screen, HelpScreen)
        assert rig.app.is_running


@sync
async def test_command_palette_offers_the_key_actions() -> None:
    rig = make_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        titles = {c.title for c in rig.app.get_system_commands(rig.app.screen)}
        for _keys, desc, _action in rig.app.key_rows():
            if desc != "Quit":
                assert desc in titles
        await pilot.pause()


@sync
async def test_keymap_remaps_a_binding() -> None:
    rig = make_rig()
    rig.app.set_keymap({"pause": "p"})
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(5)
        await pilot.press("p")
        await pilot.pause()
        assert rig.app.view.paused
        assert any(k == "p" and "Pause" in d for k, d, _ in rig.app.key_rows())


@sync
async def test_pause_freezes_the_view_while_history_fills() -> None:
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(50)
        await pilot.press("space")
        frozen = app.view.db.copy()
        count = app.view.history.count
        rig.feed(50)
        await pilot.pause()
        assert (app.view.db == frozen).all()
        assert app.view.history.count > count
        assert app.view.frames_back > 0
        await pilot.press("space")
        rig.feed(1)
        assert app.view.frames_back == 0


@sync
async def test_cursor_reads_the_tone_and_marker_gives_deltas() -> None:
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(200)
        await pilot.pause()
        await pilot.press("left")
        app.view.cursor_hz = 1000.0  # put the cursor on the tone
        await pilot.press("m")
        await pilot.press("shift+up")
        rig.feed(2)
        await pilot.pause()
        text = app.query_one("#readout", TextLines).text.plain
        assert re.search(r"Peak +1000\.0 Hz", text)
        assert "-6.0 dBFS" in text
        assert "Δf" in text and "ΔdB" in text
        _hz, db, _ = app.view.cursor_reading()
        mark = app.view.marker_reading()
        assert mark is not None and mark[1] is not None and db is not None
        assert abs(mark[0] - 1000.0) < 30.0
        assert mark[1] > -10.0 and db < mark[1]


@pytest.mark.parametrize("size", [(80, 24), (60, 18), (MIN_WIDTH - 1, 20), (30, 8), (1, 1)])
@sync
async def test_resizing_never_crashes(size: tuple[int, int]) -> None:
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(30)
        await pilot.resize_terminal(*size)
        rig.feed(5)
        await pilot.pause()
        small = size[0] < MIN_WIDTH or size[1] < MIN_HEIGHT
        assert app.screen.has_class("too-small") == small
        await pilot.press("o")
        rig.feed(5)
        await pilot.resize_terminal(120, 40)
        rig.feed(5)
        await pilot.pause()
        assert not app.screen.has_class("too-small")
        assert app.view.width > 0


@sync
async def test_growing_back_under_the_help_screen_leaves_the_small_message() -> None:
    """Too small, then ``?``, then the terminal grows back: once the help closes the
    plot is back, not the stale 'Terminal too small' (the resize only reached the help
    screen, the one on top)."""
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(10)
        main = app.screen
        await pilot.resize_terminal(30, 8)
        await pilot.pause()
        assert main.has_class("too-small")
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is not main
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.press("escape")
        rig.feed(5)
        await pilot.pause()
        assert app.screen is main
        assert not main.has_class("too-small")
        assert "Terminal too small" not in app.export_screenshot()


@sync
async def test_the_clip_light_goes_out_when_no_more_frames_come() -> None:
    """CLIP shows for two seconds after a full-scale sample, also when the input ends
    (or the view is paused) right after it; it stayed lit for good, as no frame time
    passed any more."""
    from livespec.tui.widgets.meter import LevelMeter

    rig = make_rig("tone:1000@0")  # peaks at full scale
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(10)
        rig.feed(2)  # the meter is updated every other tick
        await pilot.pause()
        meter = app.query_one(LevelMeter)
        assert app.stats.clipping
        assert "CLIP" in meter.render_line(0).text
        assert "CLIP" in app.export_screenshot()  # drawn
        for _ in range(45):  # no more frames; the step clock passes 3 s
            app.tick()
        await pilot.pause()
        assert not app.stats.clipping
        assert "CLIP" not in meter.render_line(0).text
        assert "CLIP" not in app.export_screenshot()  # and redrawn without it
        rig.feed(10)  # full scale again: lit again
        await pilot.pause()
        assert app.stats.clipping


@pytest.mark.parametrize("depth", ["truecolor", "256", "16", "none"])
@sync
async def test_every_colour_depth_sets_the_console_and_draws(depth: str) -> None:
    rig = make_rig(colors=depth)
    app = rig.app
    async with app.run_test(size=(80, 24)) as pilot:
        rig.feed(60)
        await pilot.pause()
        expected = {"truecolor": "truecolor", "256": "256", "16": "standard", "none": "standard"}
        assert app.console.color_system == expected[depth]
        rows = app.view.strips()
        assert rows and all(r.cell_length == app.view.width for r in rows)
        text = "".join(r.text for r in rows)
        if depth == "none":
            assert "▀" not in text and any(c in text for c in ".:-=+*#%@")
        else:
            assert set(text) == {"▀"}


@sync
async def test_r_records_with_preroll_and_stops_into_a_readable_wav() -> None:
    """r starts a recording that begins the pre-roll in the past; r again stops it; the
    file holds exactly the audio from (start - pre-roll) to the stop."""
    import json
    from pathlib import Path

    import soundfile as sf

    rig = make_rig(options=AppOptions(preroll_s=1.0))
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(100)  # 2.1 s of audio in the ring
        await pilot.press("r")
        rec = app.recording.recorder
        assert rec is not None
        start_written = rig.source.frames_read
        rig.feed(50)
        await pilot.pause()
        await pilot.press("r")  # asks the writer to stop at the newest frame
        rec.stop()
        stop_written = rig.source.frames_read
        app.recording.poll()
        assert app.recording.recorder is None
        assert "REC" in app.recording.text() or "saved" in app.recording.text()
    path = Path(rec.paths[0])
    data, rate = sf.read(path, dtype="float32")
    assert rate == 48000
    assert data.shape[0] == stop_written - (start_written - 48000)
    # the content is the test tone from the right place in the stream
    t0 = start_written - 48000
    expected = np.zeros(data.shape[0], dtype=np.float32)
    from livespec.audio import signals

    signals.render(signals.parse_signal(rig.source.spec), t0, data.shape[0], 48000.0, expected)
    np.testing.assert_allclose(data, expected, atol=2.0**-22)
    sidecar = json.loads(Path(str(path) + ".json").read_text())
    assert sidecar["samplerate"] == 48000


@sync
async def test_a_dead_engine_is_shown_on_the_status_line() -> None:
    """An exception in the analysis worker is never silent: the status line says so."""
    rig = make_rig()
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(4)
        assert "analysis stopped" not in str(rig.app.status_info())
        rig.engine.error = RuntimeError("boom \x1b]2;x\x07")  # as the worker keeps it
        rig.app.update_texts()
        await pilot.pause()
        text = status_text(rig.app.status_info()).plain
        assert text.startswith(" analysis stopped: RuntimeError: boom \\x1b]2;x\\x07 ")


@sync
async def test_the_sidecar_holds_the_settings_in_effect_and_their_changes() -> None:
    """Started with flattop, w pressed, then r: the sidecar says the window in use, and a
    change made while recording is noted with its time."""
    import json
    from pathlib import Path

    from livespec.config import WINDOW_CHOICES, Config

    cfg = Config()
    cfg = dataclasses.replace(cfg, analysis=dataclasses.replace(cfg.analysis, window="flattop"))
    rig = make_rig(cfg=cfg)
    app = rig.app
    after_w = WINDOW_CHOICES[(WINDOW_CHOICES.index("flattop") + 1) % len(WINDOW_CHOICES)]
    third = WINDOW_CHOICES[(WINDOW_CHOICES.index(after_w) + 1) % len(WINDOW_CHOICES)]
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.press("w")
        await pilot.press("r")
        rec = app.recording.recorder
        assert rec is not None
        rig.feed(30)
        await pilot.pause()
        await pilot.press("w")
        rig.feed(10)
        await pilot.press("r")
        rec.stop()
        app.recording.poll()
    sidecar = json.loads(Path(str(rec.paths[0]) + ".json").read_text())
    assert sidecar["analysis"]["window"] == after_w != "flattop"
    (change,) = sidecar["analysis_changes"]
    assert change["window"] == third and change["at_s"] >= 0


@sync
async def test_r_without_record_dir_records_into_the_data_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    rig = make_rig()
    rig.app.recording.folder = None  # as without --record-dir
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(10)
        await pilot.press("r")
        rec = rig.app.recording.recorder
        assert rec is not None
        await pilot.press("r")
        rec.stop()
    assert rec.path.parent == tmp_path / "data" / "livespec" / "recordings"
    assert rec.path.exists()
    assert not list(tmp_path.glob("*.wav"))


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda d: d / "missing", "no such folder"),
        (lambda d: (d / "file").write_text("x") and d / "file", "not a folder"),
    ],
)
def test_a_bad_record_dir_is_refused_at_start_up(
    tmp_path: Path, make: Callable[[Path], Path], said: str
) -> None:
    from livespec.config import Config
    from livespec.errors import UsageError
    from livespec.tui.run import run_app

    folder = make(tmp_path)
    cfg = Config()
    cfg = dataclasses.replace(cfg, display=dataclasses.replace(cfg.display, record_dir=str(folder)))
    with pytest.raises(UsageError, match=f"--record-dir '{folder}': {said}"):
        run_app(cfg)  # before any source is opened or the screen is taken


@sync
async def test_a_vanished_device_is_reopened_from_the_tick_with_a_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = make_rig()
    app = rig.app
    said: list[str] = []
    try:
        async with app.run_test(size=(120, 40)):
            monkeypatch.setattr(app, "notify", lambda msg, **kw: said.append(str(msg)))
            app.reopen_input()  # a source without reopen(): nothing to do
            lost = {"now": True}
            monkeypatch.setattr(rig.source, "input_lost", lambda timeout=None: lost["now"])
            monkeypatch.setattr(rig.source, "reopen", lambda: None, raising=False)
            app.reopen_input()  # not back yet
            assert said == []
            monkeypatch.setattr(rig.source, "reopen", lambda: 2.5, raising=False)
            app.reopen_input()
            assert rig.engine.running  # a reopen attempt starts the analysis again
    finally:
        rig.engine.stop()  # (the rig's engine is fed by hand; the reopen started its thread)
    assert len(said) == 1 and said[0].startswith("Reopened test signal") and "2.5 s" in said[0]


def test_preroll_zero_in_the_app_means_zero() -> None:
    """--preroll 0 is a request for no pre-roll, not for the default."""
    from livespec.cli.parsers import build_parser

    assert AppOptions.from_args(build_parser("").parse_args(["--preroll", "0"])).preroll_s == 0.0
    assert AppOptions.from_args(build_parser("").parse_args([])).preroll_s == 3.0


@sync
async def test_peak_track_and_rms_cells_are_where_the_tone_is() -> None:
    """The live peak track sits on the tone's row (1 kHz on the frequency map); the RMS
    envelope at the frames' RMS (-3 dB below the tone's peak level) on the colour bar's
    axis, both computed here independently of the overlay code."""
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(300)
        await pilot.pause()
        await pilot.press("p", "e")
        rig.feed(4)
        await pilot.pause()
        v = app.view
        extra = _plot(app).waterfall.extra
        names = [
            (x, y, seg.style.color.name if seg.style and seg.style.color else "")
            for x, y, seg in extra
        ]
        peak_cells = {(x, y) for x, y, name in names if name == "bright_white"}
        rms_cells = {(x, y) for x, y, name in names if name == "bright_yellow"}
        fm = v.fmap
        tone_y = (fm.pixels - 1 - int(fm.pos_of(1000.0))) // 2
        assert len(peak_cells) > v.width // 2
        assert all(abs(y - tone_y) <= 1 for _, y in peak_cells)
        rms = -6.0 - 10 * np.log10(2.0)  # a sine at -6 dBFS peak (the noise is negligible)
        want = round((v.db_max - rms) / (v.db_max - v.db_min) * (v.height - 1))
        assert len(rms_cells) > v.width // 2
        assert all(y == want for _, y in rms_cells)
        assert not _plot(app).direct  # Textual draws the plot while an overlay is on
        await pilot.press("p", "e")
        assert _plot(app).direct and not _plot(app).waterfall.extra


@sync
async def test_input_the_sound_system_dropped_is_said_once_from_the_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from livespec.audio.dropwatch import Drop

    rig = make_rig()
    app = rig.app
    said: list[str] = []
    async with app.run_test(size=(120, 40)):
        monkeypatch.setattr(app, "notify", lambda msg, **kw: said.append(str(msg)))
        app.report_dropped()  # a test signal: nothing is ever dropped
        found = [Drop(5.94, 100, 10, 50, 0.0)]
        monkeypatch.setattr(
            rig.source, "check_drops", lambda: found.pop() if found else None, raising=False
        )
        app.report_dropped()
        app.report_dropped()
    assert said == [
        "input dropped: the sound system discarded about 5.9 s of audio (livespec was "
        "stalled longer than its buffer); counted as an overflow"
    ]


@sync
async def test_a_screenshot_on_a_full_disk_leaves_no_empty_file(tiny_disk: Path) -> None:
    """``S`` with the recording folder on a full disk: an error notice and nothing in the
    folder. Before, an empty ``livespec-*.svg`` (0 bytes) stayed behind."""
    (tiny_disk / "filler").write_bytes(bytes(1 << 20))  # tmpfs: every page taken
    rig = make_rig(record_dir=str(tiny_disk))
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(100)
        await pilot.pause()
        await pilot.press("S")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
    assert any("No space left on device" in m for m in notes), notes
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]
