"""The live app's status line at 80, 100 and 120 columns with every part shown at once
(an error, INPUT LOST, a recording, PAUSED, skipped frames, ssh): what must stay (the
overflow and skipped counts, INPUT LOST, REC with its time) is on the line and the line
fits (it lost the overflow count at 120 columns, cut off at its end); with room to spare
the line is what it always was."""

from __future__ import annotations

import dataclasses

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from livespec.tui.widgets.status import StatusInfo, StatusLine, status_text

ERROR = (
    "input stream ended unexpectedly: device 'pulse' (ALSA, 48000 Hz, 1 ch) "
    "(device unplugged or sound server gone?)"
)
REC = "REC 0:01:23   -12.0 dBFS  overflows 3  8.0 MB  livespec-20261205-144500.wav"
SHOWN_REC = REC.replace("overflows 3", "take overflows 3")  # the recorder's, named
ALL = StatusInfo(
    source="pulse (ALSA, 48000 Hz, 1 ch)",
    samplerate=48000,
    fft=4096,
    window="hann",
    hop=1024,
    fps=30.0,
    overflows=17,  # the app's count; the recorder's (3) is in REC's text
    lost_frames=0,
    input_lost=True,
    finished=False,
    paused=False,
    seconds_back=0.0,
    recording=REC,
    error=ERROR,
)
MORE = dataclasses.replace(ALL, paused=True, seconds_back=2.5, lost_frames=4, ssh=True)
OLD_FULL = (  # the whole line as it has always been (no width given; the take's overflows named)
    " input stream ended unexpectedly: device 'pulse' (ALSA, 4800…   INPUT LOST  "
    f"● {SHOWN_REC} │ pulse (ALSA, 48000 Hz, … │ 48 kHz │ FFT 4096 hann │ hop 1024 │ "
    "overflows 17 │ 30 fps"
)


def _must(info: StatusInfo) -> list[str]:
    must = ["overflows 17", "● REC 0:01:23", " INPUT LOST "]
    if info.paused:
        must += [" PAUSED -2.5s ", "skipped 4"]
    return must


@pytest.mark.parametrize("info", [ALL, MORE], ids=["error-lost-rec", "and-paused-skipped-ssh"])
@pytest.mark.parametrize("width", [80, 100, 120])
def test_the_parts_that_must_stay_are_on_a_line_that_fits(info: StatusInfo, width: int) -> None:
    line = status_text(info, width)
    plain = line.plain
    assert line.cell_len <= width, plain
    for part in _must(info):
        assert part in plain, (width, part, plain)
    assert plain.startswith(" input"), plain  # the error is cut, not gone
    assert "…" in plain


def test_the_overflow_count_is_highlighted_where_it_is() -> None:
    line = status_text(ALL, 120)
    at = line.plain.index("overflows 17")
    styles = [str(s.style) for s in line.spans if s.start <= at < s.end]
    assert styles == ["bold bright_white on red"]


def test_with_room_the_line_is_unchanged() -> None:
    assert status_text(ALL).plain == OLD_FULL
    assert status_text(ALL, len(OLD_FULL)).plain == OLD_FULL
    assert status_text(ALL, 300).plain == OLD_FULL
    assert status_text(ALL, 300).spans == status_text(ALL).spans
    plain = dataclasses.replace(ALL, error=None, input_lost=False, recording="rec off (r)")
    assert status_text(plain, 120).plain == status_text(plain).plain  # 93 cells: it fits


def test_the_order_of_what_is_shortened() -> None:
    """Error first (to 20), then rec off / ssh / fps / hop, the source (to 10), FFT and
    rate, then the recording's details after its time."""
    full = len(OLD_FULL)
    cut = status_text(ALL, full - 10).plain  # only the error is shorter: 60 - 10 cells
    assert cut == OLD_FULL.replace(ERROR[:59] + "…", ERROR[:49] + "…")
    cut = status_text(ALL, full - 59).plain  # error at 20 (40), fps (9), hop (11)
    assert " input stream ended… " in cut
    assert "hop" not in cut and "fps" not in cut and "FFT 4096 hann" in cut
    assert "pulse (ALSA, 48000 Hz, …" in cut
    assert SHOWN_REC in cut  # the recording whole while there is room


@pytest.mark.parametrize("width", [80, 100, 120])
def test_the_widget_lays_out_for_its_width(width: int) -> None:
    """In an app: the status line's row holds every part that must stay."""

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusLine(id="status")

    async def run() -> str:
        app = One()
        async with app.run_test(size=(width, 3)) as pilot:
            status = app.query_one(StatusLine)
            status.set_info(MORE)
            await pilot.pause()
            return "".join(seg.text for seg in status.render_line(0))

    import asyncio

    row = asyncio.run(run())
    assert len(row) == width
    for part in _must(MORE):
        assert part in row, (part, row)
    assert isinstance(status_text(MORE, width), Text)


def test_a_failed_take_is_not_shown_as_recording() -> None:
    """The recorder says ``REC failed at ...`` (the app's later note ``REC FAILED: ...``):
    either is a warning at the end of the line, without the red dot in front."""
    for said in ("REC failed at 0:00:03: disk full", "REC FAILED: disk full"):
        plain = status_text(dataclasses.replace(ALL, recording=said)).plain
        assert "●" not in plain and plain.endswith(f"│ {said}"), plain


@pytest.mark.parametrize("info", [ALL, MORE], ids=["error-lost-rec", "and-paused-skipped-ssh"])
@pytest.mark.parametrize("width", [80, 100, 120, None])
def test_the_takes_overflows_are_never_read_as_the_apps(
    info: StatusInfo, width: int | None
) -> None:
    """The recorder's ``overflows 3`` (since the take began) next to the app's
    ``overflows 17`` read as a contradiction, the more so cut to ``overflow…``: it is named
    as the take's and is whole or not there; the app's count is there once."""
    plain = status_text(info, width).plain
    assert plain.count("overflows 17") == 1, plain
    rest = plain.replace("take overflows 3", "", 1).replace("overflows 17", "")
    assert "overflow" not in rest and "take" not in rest, plain
    if width is not None:
        assert len(plain) <= width, plain
        for part in _must(info):  # and what must stay is still there
            assert part in plain, (width, part, plain)


def test_a_saved_take_names_its_overflows_too() -> None:
    saved = REC.replace("REC", "saved")
    plain = status_text(dataclasses.replace(ALL, recording=saved)).plain
    assert plain.endswith(f"│ {saved.replace('overflows 3', 'take overflows 3')}"), plain
    assert plain.count("overflows 17") == 1, plain
