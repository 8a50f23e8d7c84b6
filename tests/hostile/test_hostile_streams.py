"""``livespec view`` over hostile streams (tests/support/hostile_streams.py).

For each case:

* ``livespec view --dump FILE``: the documented exit status, stderr empty on success or
  exactly one ``livespec:`` line naming the damage, no raw control character in any output
  (the JSON lines included), peak RSS under 200 MB, done within 10 s (``check``);
* ``livespec view --fast FILE`` when the header is already refused: the same, before the
  screen (it needs no terminal for that);
* otherwise the viewer app itself, in process (Textual's ``run_test``): a damaged stream
  closes it with status 2 and the reader's one line, never ``END OF STREAM``; a good one
  (texts escaped) ends with ``END OF STREAM`` and nothing raw in the status line or the
  notices.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from support.app import sync
from support.hostile import MAX_SECONDS, RAW_CONTROL, check, run
from support.hostile_streams import OK, PWNED, STREAM_CASES, StreamCase

from livespec.config import Config
from livespec.stream.protocol import StreamReader
from livespec.stream.source import FdReader, StreamSource

APP_CASES = [c for c in STREAM_CASES if not (c.header and c.status != OK)]
HEADER_REFUSED = [c for c in STREAM_CASES if c.header and c.status != OK]


@pytest.mark.parametrize("case", STREAM_CASES, ids=lambda c: c.name)
def test_view_dump(case: StreamCase, tmp_path: Path) -> None:
    result = run(["view", "--dump", str(case.make(tmp_path))], timeout=MAX_SECONDS)
    check(result, case.status)
    assert case.words in result.stderr, result.stderr
    for line in result.stdout.splitlines():
        json.loads(line)  # every line is JSON, even when the stream breaks off after it
    assert "PWNED" not in result.stdout or "\\\\x1b]2;PWNED" in result.stdout


@pytest.mark.parametrize("case", HEADER_REFUSED, ids=lambda c: c.name)
def test_view_app_refuses_the_header_before_the_screen(case: StreamCase, tmp_path: Path) -> None:
    result = run(["view", "--fast", str(case.make(tmp_path))], timeout=MAX_SECONDS)
    check(result, case.status)
    assert case.words in result.stderr, result.stderr


def _texts(app: object) -> str:
    """What the app shows in words: the status line and every notice."""
    from livespec.tui.viewer import StreamViewApp
    from livespec.tui.widgets.status import status_text

    assert isinstance(app, StreamViewApp)
    status = status_text(app.status_info()).plain
    readout = str(app.widgets.readout.render_line(0).text)
    notes = " ".join(str(n.message) for n in app._notifications)
    return f"{status} {readout} {notes} {app.source.description} {app.recording_text()}"


@sync
@pytest.mark.parametrize("case", APP_CASES, ids=lambda c: c.name)
async def test_view_app(case: StreamCase) -> None:
    from livespec.tui.viewer import StreamViewApp, stream_config

    fdr = FdReader(os.open(os.devnull, os.O_RDONLY))
    fdr._buf += case.data()
    reader = StreamReader(fdr, "file")
    src = StreamSource(reader, fdr, live=False, pace=False)
    app = StreamViewApp(stream_config(Config(), reader), src, reader.header.hop, live=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            src.start(app.push_frame, lambda: len(app.inbox))
            assert src._finished.wait(MAX_SECONDS)
            for _ in range(3):
                app.tick()
                app.update_texts()
                await pilot.pause()
            shown = _texts(app)
            assert not RAW_CONTROL.search(shown), repr(shown)
            if case.status == OK:
                assert src.error is None and app.return_code is None
                assert "END OF STREAM" in shown
                if PWNED in case.data().decode("latin-1"):
                    assert "PWNED" not in shown or "\\x1b]2;PWNED" in shown
            else:
                assert src.error is not None and case.words in str(src.error)
                assert "\n" not in str(src.error) and src.error.exit_code == 2
                assert app.return_code == 2  # closed with the error, not END OF STREAM
                assert "END OF STREAM:" not in shown
    finally:
        src.stop()


def test_texts_from_a_stream_are_escaped_when_decoded() -> None:
    """The escaping happens in the reader, once: the header, STATUS and END texts."""
    from support.hostile_streams import end, good_stream, header, status

    data = good_stream(
        header(window=PWNED, info={"host": PWNED, "source": "\x9b2J", PWNED: "\x7f"}),
        middle=status(recording=PWNED),
        tail=end(reason=PWNED),
    )
    reader = StreamReader(io.BytesIO(data), "t")
    h = reader.header
    assert h.window == "\\x1b]2;PWNED\\x07" and h.info["host"] == "\\x1b]2;PWNED\\x07"
    assert h.info["source"] == "\\x9b2J" and h.info["\\x1b]2;PWNED\\x07"] == "\\x7f"
    texts = []
    while (rec := reader.next_record()) is not None:
        if rec[0] != 1:
            texts.append(json.dumps(reader.json_payload(rec[1]), ensure_ascii=False))
    assert not RAW_CONTROL.search(" ".join(texts))
    assert "\\\\x1b]2;PWNED\\\\x07" in texts[-1]


def test_there_are_enough_cases() -> None:
    assert len(STREAM_CASES) >= 25
    assert len(APP_CASES) >= 25


# -- the real app in a terminal (tmux), for three representative cases ------------------------


@pytest.fixture
def tmux(tmp_path: Path):  # type: ignore[no-untyped-def]
    from support.tmux import Tmux

    t = Tmux(tmp_path, "hostile")
    yield t
    t.kill()


def _case(name: str) -> StreamCase:
    return next(c for c in STREAM_CASES if c.name == name)


def test_terminal_title_is_not_set_by_a_stream(tmp_path: Path, tmux) -> None:  # type: ignore[no-untyped-def]
    """host, source, window and END reason all hold ESC ] 2 ; PWNED BEL: the app shows
    them escaped and the terminal's title stays."""
    from support.hostile_streams import end, good_stream, header
    from support.tmux import livespec_command as _livespec
    from test_app_e2e import _assert_restored

    path = tmp_path / "title.lspc"
    info = {"host": PWNED, "source": PWNED, "input": PWNED}
    path.write_bytes(good_stream(header(window=PWNED, info=info), tail=end(reason=PWNED)))
    tmux.start(_livespec("view", "--fast", str(path)), {}, (120, 30))
    screen = tmux.wait_for(r"END OF STREAM")
    assert "\\x1b]2;PWNED" in screen.replace("\n", "")
    assert "PWNED" not in tmux.tmux("display", "-p", "-t", tmux.name, "#{pane_title}")
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


@pytest.mark.parametrize("name", ["status-overflows-text", "frame-t-1e300"])
def test_damage_closes_the_app_with_one_line(name: str, tmp_path: Path, tmux) -> None:  # type: ignore[no-untyped-def]
    """Paced replay (frame times honoured): the damage ends the app, status 2, with the
    reader's line on the restored terminal, never END OF STREAM."""
    from support.tmux import livespec_command as _livespec
    from test_app_e2e import _assert_restored

    path = _case(name).make(tmp_path)
    tmux.start(_livespec("view", str(path)), {}, (120, 30))
    assert tmux.wait_exit() == 2
    _assert_restored(tmux)
    screen = tmux.screen(joined=True)  # a line wrapped at a space keeps it
    assert "damaged stream at byte" in screen and "END OF STREAM" not in screen, screen
    assert "Traceback" not in screen
