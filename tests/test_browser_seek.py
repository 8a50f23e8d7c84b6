"""The file browser's cursor and seeks during playback: ←/→ (and home/end) carry a cursor
shown to the play position's column at once, clamped at the file's ends; the cursor's time
agrees with the play position to half a column (the seconds per column computed here)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.app import sync

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
        for _ in range(400):
            app.tick()
            if app.data.overview.finished:
                break
            await asyncio.sleep(0.02)
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
