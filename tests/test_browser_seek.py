"""The file browser's cursor and seeks during playback: ←/→ (and home/end) carry a cursor
shown to the play position's column at once, clamped at the file's ends; the cursor's time
agrees with the play position to half a column (the seconds per column computed here)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.app import overview_done, sync

from livespec.audio.playback import SilentPlayback
from livespec.cli import resolve_config
from livespec.cli.parsers import build_parser
from livespec.tui.browser import BrowserApp, make_browser

FS = 8000
SECONDS = 20.0
WIDTH = 120


class HandClock:
    """A clock that moves only when the test says (no real time in the assertions)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seek") / "tone.wav"
    t = np.arange(int(SECONDS * FS)) / FS
    sf.write(path, (0.25 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32), FS)
    return path


def _app(path: Path, clock: HandClock) -> BrowserApp:
    ns = build_parser("play").parse_args([str(path), "--no-audio", "--backend", "numpy"])
    return make_browser(resolve_config(ns), ns, live=False, playback=SilentPlayback(SECONDS, clock))


def _expected_x(app: BrowserApp, seconds: float) -> int:
    """The column of ``seconds``: floor of (s - t0) / (s per column); the file's very end
    is drawn in the last column."""
    v = app.view
    x = math.floor((seconds - v.t0) / (v.span / v.width))
    return min(x, v.width - 1) if seconds >= SECONDS else x


@sync
async def test_seek_keys_carry_the_cursor_to_the_play_position(tone: Path) -> None:
    clock = HandClock()
    app = _app(tone, clock)
    async with app.run_test(size=(WIDTH, 30)) as pilot:
        await overview_done(app)
        await pilot.pause()
        v, pb = app.view, app.playback
        dt = v.span / v.width  # seconds per column
        assert v.span == SECONDS
        await pilot.press("space")  # play
        clock.t += 4.0
        app.tick()
        await pilot.press("up")  # the cursor appears at the playhead (4.0 s)
        assert v.cursor_x() == _expected_x(app, 4.0)
        steps = [
            ("right", 4.0 + 0.1 * SECONDS),  # a tenth of the screen: 6.0 s
            ("right", 8.0),
            ("shift+right", 8.2),  # a hundredth
            ("left", 6.2),
            ("end", SECONDS),
            ("right", SECONDS),  # past the end: clamped
            ("home", 0.0),
            ("left", 0.0),  # before the start: clamped
            ("shift+left", 0.0),
        ]
        for i, key_want in enumerate(steps):
            key, want = key_want
            await pilot.press(key)
            assert pb.playing() == (i < 4), key  # playing until the end is reached
            pos = pb.position()
            assert pos == pytest.approx(want, abs=1e-9), key
            assert v.cursor_on
            assert v.cursor_x() == _expected_x(app, want), key
            _, _, t = v.cursor_reading()
            assert t is not None
            # the readout's cursor time is its column's centre: within half a column
            assert abs(t - pos) <= dt / 2 + 1e-9, (key, t, pos, dt)
        # the playhead is drawn in the cursor's column at the file's end too
        await pilot.press("end")
        app.tick()
        cols = {x for x, _, ch, _ in app.browsing.paint.cells if ch == "│"}
        assert cols == {v.width - 1}
        # the cursor stays put while the sound plays on
        await pilot.press("home", "space")
        clock.t += 5.0
        app.tick()
        assert pb.position() == pytest.approx(5.0)
        assert v.cursor_x() == _expected_x(app, 0.0)


@sync
async def test_a_cursor_keeps_its_time_when_the_view_follows_the_playhead(tone: Path) -> None:
    """The view scrolls to follow the playhead: a cursor the user placed keeps its time (it
    moves with the content and leaves the screen with it), a seek brings it to the play
    position."""
    clock = HandClock()
    app = _app(tone, clock)
    async with app.run_test(size=(WIDTH, 30)) as pilot:
        await overview_done(app)
        await pilot.pause()
        v, pb = app.view, app.playback
        await pilot.press("plus", "plus")  # x4 around the playhead at 0: 0-5 s on screen
        assert (v.t0, v.span) == (0.0, SECONDS / 4)
        dt = v.span / v.width
        await pilot.press("space")
        clock.t += 1.0
        app.tick()
        await pilot.press("up")  # at the playhead (1.0 s), one row up
        _, _, placed = v.cursor_reading()
        assert placed is not None and abs(placed - 1.0) <= dt / 2 + 1e-9
        assert "Cursor 1.0" in app.readout_text().plain
        clock.t += 4.5  # 5.5 s: past the screen's end, the view follows the playhead
        app.tick()
        assert pb.position() == pytest.approx(5.5)
        assert v.t0 == pytest.approx(5.5 - 0.02 * v.span)  # 5.4 s
        assert not v.cursor_on  # 1.0 s left the screen, and the cursor with it
        assert "Cursor" not in app.readout_text().plain
        await pilot.press("space")  # pause at 5.5 s
        await pilot.press("less_than_sign")  # half a screen back: 2.9-7.9 s
        assert v.t0 == pytest.approx(2.9) and not v.cursor_on
        await pilot.press("less_than_sign")  # 0.4-5.4 s: 1.0 s is back on screen
        assert v.t0 == pytest.approx(0.4)
        assert v.cursor_on
        assert v.cursor_x() == math.floor((placed - v.t0) / dt)  # where its time is now
        _, _, t = v.cursor_reading()
        assert t is not None and abs(t - placed) <= dt / 2 + 1e-9
        # a seek brings it to the play position (the view moves to show it)
        await pilot.press("space")  # playing again from 5.5 s
        clock.t += 2.0  # 7.5 s: the view followed to 7.4 s, the cursor left again
        app.tick()
        assert v.t0 == pytest.approx(7.4) and not v.cursor_on
        await pilot.press("right")  # + a tenth of the span: 8.0 s
        assert pb.position() == pytest.approx(8.0)
        assert v.cursor_on and v.cursor_x() == _expected_x(app, 8.0)
        clock.t += 1.0  # 9.0 s: still on screen, the view does not move; nor the cursor
        app.tick()
        assert v.t0 == pytest.approx(7.4) and v.cursor_x() == _expected_x(app, 8.0)
