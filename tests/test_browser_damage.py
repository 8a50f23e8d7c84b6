"""A file that turns out damaged while the browser's overview reads it (a NaN sample, FLAC
frames corrupt in the middle): a notification says it, and after ``q`` its one line is on
stderr and the exit status is 1, as after a playback's failure (docs/cli.md's table). In
an app (Pilot) and end to end in tmux."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.app import sync
from support.hostile import _corrupt, good
from support.tmux import Tmux
from support.tmux import livespec_command as _livespec

from livespec.cli import resolve_config
from livespec.cli.parsers import build_parser
from livespec.errors import EXIT_FAILURE
from livespec.tui.browser import BrowserApp, exit_status, make_browser

FS = 8000
NAN_AT = 52_000  # 6.5 s into a 10 s file


@pytest.fixture(scope="module")
def nan_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("damage") / "nan\x1b[31m.wav"  # a name to escape too
    x = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(10 * FS) / FS)
    x[NAN_AT] = np.nan
    sf.write(path, x, FS, subtype="FLOAT")
    return path


@pytest.fixture(scope="module")
def corrupt_flac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("damage") / "corrupt.flac"
    path.write_bytes(_corrupt(good("FLAC", seconds=10.0), 0.4))
    return path


def _app(path: Path) -> BrowserApp:
    ns = build_parser("play").parse_args([str(path), "--no-audio", "--backend", "numpy"])
    return make_browser(resolve_config(ns), ns, live=False)


async def _until_damage_then_q(app: BrowserApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(500):
            app.tick()
            if app.data.error() is not None:
                break
            await asyncio.sleep(0.02)
        app.tick()
        await pilot.press("q")


@sync
async def test_a_nan_found_by_the_overview_is_printed_at_exit_with_status_1(
    nan_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(nan_wav)
    await _until_damage_then_q(app)
    assert exit_status(app, app.return_code) == EXIT_FAILURE == 1
    where = str(nan_wav).replace("\x1b", "\\x1b")
    said = f"{where}: sample {NAN_AT} ({NAN_AT / FS:.4f} s) is not a number: the audio is damaged"
    assert capsys.readouterr().err == f"livespec: {said}\n"
    shown = [n.message for n in app._notifications]
    assert shown.count(said) == 1, shown


@sync
async def test_corrupt_flac_frames_are_printed_at_exit_with_status_1(
    corrupt_flac: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(corrupt_flac)
    await _until_damage_then_q(app)
    assert exit_status(app, app.return_code) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"livespec: {corrupt_flac}: ") and err.count("\n") == 1, err
    assert err[len("livespec: ") : -1] in [n.message for n in app._notifications]


@sync
async def test_a_stop_signal_keeps_its_status_and_still_says_the_damage(
    nan_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(nan_wav)
    async with app.run_test(size=(100, 30)):
        for _ in range(500):
            app.tick()
            if app.data.error() is not None:
                break
            await asyncio.sleep(0.02)
        app.exit(None, 143)  # as exit_on_stop_signals ends it
    assert exit_status(app, None) == 143
    assert capsys.readouterr().err.count("is not a number: the audio is damaged\n") == 1


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, "browser-damage")
    yield t
    t.kill()


def test_damaged_flac_then_q_in_a_terminal_says_it_and_exits_1(
    corrupt_flac: Path, tmux: Tmux
) -> None:
    tmux.start(_livespec(str(corrupt_flac), "--no-audio"), {}, (120, 40))
    tmux.wait_for(r"corrupt\.flac: ")  # the notification
    tmux.keys("q")
    assert tmux.wait_exit() == 1
    screen = tmux.screen(joined=True)
    lines = [ln for ln in screen.splitlines() if ln.startswith("livespec:")]
    assert len(lines) == 1, screen
    assert lines[0].startswith(f"livespec: {corrupt_flac}: "), screen
