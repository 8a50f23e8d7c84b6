"""The file browser's status line shows a failure while it lasts (to the end: a playback that
failed does not come back, damage stays): first, escaped, on red, cut to fit, as the live
app shows a source's failure; the rest of the line (file, rate, ...) after it, cut at the
line's end. At 80 and 120 columns, in an app (Pilot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.app import overview_done, sync

from livespec.cli import resolve_config
from livespec.cli.parsers import build_parser
from livespec.tui.browser import BrowserApp, make_browser
from livespec.tui.widgets.status import ERROR_MAX

FS = 8000
GONE = (
    "output stream ended unexpectedly: device 'pulse' (ALSA, 8000 Hz, 1 ch) "
    "(device unplugged or sound server gone?)"
)
SHOWN = "\\x1b[31m" + GONE  # escaped
RED = "bold white on red"


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("status") / "quiet.wav"
    sf.write(path, np.zeros(30 * FS, dtype=np.float32), FS)
    return path


def _app(path: Path) -> BrowserApp:
    ns = build_parser("play").parse_args([str(path), "--no-audio", "--backend", "numpy"])
    return make_browser(resolve_config(ns), ns, live=False)


async def _rows(app: BrowserApp, width: int, fail: str | None) -> tuple[str, str, list[str]]:
    """The status row before and after the failure, and the styles over the failure."""
    async with app.run_test(size=(width, 30)) as pilot:
        await overview_done(app, 200)
        await pilot.pause()
        before = "".join(s.text for s in app.status.render_line(0))
        app.playback.error = fail  # type: ignore[misc]  # SilentPlayback's, as a device's
        app.tick()
        await pilot.pause()
        strip = app.status.render_line(0)
        after = "".join(s.text for s in strip)
        styles = [str(s.style) for s in strip if s.text.strip().startswith("\\x1b")]
        await pilot.press("q")
    return before, after, styles


@pytest.mark.parametrize("width", [80, 120])
@sync
async def test_a_playback_failure_is_first_on_the_status_line(quiet: Path, width: int) -> None:
    app = _app(quiet)
    before, after, styles = await _rows(app, width, "\x1b[31m" + GONE)
    assert before.startswith("quiet.wav  8000 Hz  1 ch  0:30.0  FFT 4096 hann  silent (")
    assert "\\x1b" not in before and "output" not in before
    assert len(after) == width, after
    cut = SHOWN[: ERROR_MAX - 1] + "…"  # the whole line is in the notification and at exit
    assert after.startswith(f" {cut}  quiet.wav"), after
    assert len(styles) == 1 and RED in styles[0], styles
    rest = width - len(f" {cut}  ")
    expected = (
        "quiet.wav  8000 Hz  1 ch  0:30.0  FFT 4096 hann  silent (--no-audio)  S: save screen"
    )
    assert rest < len(expected)  # the rest is cut at its end
    assert after.endswith(expected[: rest - 1] + "…"), after


@sync
async def test_a_short_failure_is_whole_and_the_line_as_before_after_it(quiet: Path) -> None:
    app = _app(quiet)
    before, after, _ = await _rows(app, 120, "device 'x': playback stopped: boom")
    full = " device 'x': playback stopped: boom  " + before.rstrip()
    assert len(full) > 120 and after == full[:119] + "…", after


def test_without_width_the_failure_is_cut_to_its_maximum() -> None:
    from livespec.tui.widgets.status import failure_line

    line = failure_line(GONE, "rest")
    assert line.plain == f" {GONE[: ERROR_MAX - 1]}…  rest"
    assert failure_line(None, "rest", 80).plain == "rest"
    narrow = failure_line(GONE, "quiet.wav  8000 Hz", 30)
    # 30 - 3 - 12 = 15 cells of failure ("output stream…": the space before the cut goes)
    assert narrow.plain == " output stream…  quiet.wav  8…" and narrow.cell_len == 30
