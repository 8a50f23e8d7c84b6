"""Flow control for a slow terminal link (livespec/render/pacing.py, the app's tick)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

from support.app import make_rig, sync
from support.tmux import Tmux, livespec_command

from livespec.render import pacing
from livespec.render.pacing import KEEPALIVE_S, WINDOW_BYTES, LinkPacer

SLOWLINK = Path(__file__).parent / "support" / "slowlink.py"


def _ask(p: LinkPacer, now: float, written: int) -> int:
    """Write a query: its id (the column, 0-based, its reply reports)."""
    text = p.query(now, written)
    assert text.startswith("\x1b7\x1b[1;") and text.endswith("H\x1b[6n\x1b8"), text
    return int(text[len("\x1b7\x1b[1;") : -len("H\x1b[6n\x1b8")]) - 1


def _answered(p: LinkPacer, now: float = 0.0, written: int = 0) -> None:
    """One query out and answered: the terminal is known to answer."""
    p.reply(_ask(p, now, written))


def test_no_query_out_never_holds() -> None:
    p = LinkPacer()
    assert not p.hold(0.0, 10**9)
    _answered(p)
    assert not p.hold(1.0, 10**9)
    assert p.held == 0


def test_holds_once_the_window_went_out_after_an_unanswered_query() -> None:
    p = LinkPacer()
    _answered(p)
    q = _ask(p, 1.0, 50_000)
    assert not p.hold(1.1, 50_000 + WINDOW_BYTES)  # up to the window: draw
    assert p.hold(1.2, 50_000 + WINDOW_BYTES + 1)  # past it: the terminal is behind
    assert p.hold(1.3, 50_000 + WINDOW_BYTES + 1)
    assert p.held == 2
    p.reply(q)  # the terminal has shown everything up to the query
    assert not p.hold(1.4, 50_000 + WINDOW_BYTES + 1)


def test_the_oldest_query_sets_the_window() -> None:
    p = LinkPacer()
    _answered(p)
    first = _ask(p, 1.0, 1000)
    second = _ask(p, 4.5, 20_000)  # asked again (a reply may have been lost)
    assert first != second
    assert p.hold(5.0, 1000 + WINDOW_BYTES + 1)
    p.reply(first)  # the window now counts from the second
    assert not p.hold(5.1, 1000 + WINDOW_BYTES + 1)
    assert p.hold(5.2, 20_000 + WINDOW_BYTES + 1)
    assert p.stolen == 0


def test_a_reply_that_skips_queries_means_another_reader_and_ends_the_holding() -> None:
    p = LinkPacer()
    _answered(p)
    _ask(p, 1.0, 1000)
    second = _ask(p, 4.5, 20_000)
    p.reply(second)  # the first one's reply went to someone else
    assert p.stolen == 1
    _ask(p, 5.0, 30_000)
    assert not p.hold(6.0, 10**9)  # never held again: replies cannot be trusted


def test_a_reply_of_unknown_column_answers_the_oldest() -> None:
    p = LinkPacer()
    _answered(p)
    _ask(p, 1.0, 0)
    p.reply(99)  # e.g. a terminal too narrow for the column
    assert not p.hold(1.5, 10**9) and p.stolen == 0


def test_before_any_reply_holds_only_for_a_while() -> None:
    p = LinkPacer()
    first = _ask(p, 0.0, 0)
    assert p.hold(1.0, WINDOW_BYTES + 1)
    # A terminal that never answers is drawn to as if unpaced after FIRST_GIVE_UP_S.
    assert not p.hold(pacing.FIRST_GIVE_UP_S, 10 * WINDOW_BYTES)
    p.reply(first)  # a late first reply: the terminal answers after all
    _ask(p, 20.0, 10 * WINDOW_BYTES)
    assert p.hold(40.0, 11 * WINDOW_BYTES + 1)  # from now on it is held however long


def test_one_update_goes_out_every_keepalive_while_held() -> None:
    p = LinkPacer()
    _answered(p)
    _ask(p, 0.0, 0)
    w = WINDOW_BYTES + 1
    passed = [t for t in range(0, 35) if not p.hold(float(t), w)]
    assert passed == [10, 20, 30]
    assert KEEPALIVE_S == 10.0


def test_queries_follow_updates_at_most_every_half_second_and_again_if_lost() -> None:
    p = LinkPacer()
    assert p.probe_due(0.0)
    q = _ask(p, 0.0, 0)
    assert not p.probe_due(0.1)  # one out: wait for it
    p.reply(q)
    assert not p.probe_due(0.4)  # answered, but the last went out 0.4 s ago
    assert p.probe_due(0.5)
    first = _ask(p, 0.5, 0)
    assert not p.probe_due(3.4)
    assert p.probe_due(3.5)  # no reply for REPROBE_S: ask again
    ids = [_ask(p, t, 0) for t in (3.5, 6.5, 9.5)]  # none answered: MAX_OUTSTANDING out
    assert p.probe_due(12.5)  # still asking...
    ids.append(_ask(p, 12.5, 0))  # ...and the oldest (first) is forgotten
    p.reply(first)  # so its id is unknown: it answers the oldest still out
    assert p.stolen == 0
    p.reply(ids[-1])  # skips two: their replies went to another reader
    assert p.stolen == 2


@sync
async def test_a_held_tick_takes_the_frames_but_draws_nothing() -> None:
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)):
        rig.feed(10)
        fps_before = app.stats.fps()
        frames_before = app.view.history.count
        synced: list[bool] = []
        app.widgets.plot.sync = lambda: synced.append(True)  # type: ignore[method-assign]
        app.output.behind = lambda: True  # type: ignore[method-assign]
        rig.feed(10)
        assert app.view.history.count > frames_before  # the history has the new frames
        assert synced == [] and app.stats.fps() == fps_before  # nothing drawn or counted
        app.output.behind = lambda: False  # type: ignore[method-assign]
        rig.feed(1)
        assert synced and app.stats.fps() == fps_before + 1


def _link_log(path: Path) -> list[tuple[float, int, int]]:
    rows = []
    for line in path.read_text().splitlines():
        t, buffered, sent = line.split()
        rows.append((float(t), int(buffered), int(sent)))
    return rows


def test_a_slow_link_does_not_fill_with_old_screens(tmp_path: Path) -> None:
    """The app through an 8 KB/s link with 2 MB of buffer (SSH's window): it writes about
    33 KB/s with the SSH defaults, so without flow control the buffer grows by 25 KB every
    second and the screen falls further behind; with it, what waits in the link stays
    near the pacing window while the screen keeps changing."""
    log, pidfile = tmp_path / "link.log", tmp_path / "app.pid"
    app = livespec_command("--input", "tone:1000@-6+noise@-50", "--ssh", "on")
    # script gives the app a pty of its own session, out of reach of tmux's hang-up: the
    # test ends it itself, by its pid.
    app = f"echo $$ > {shlex.quote(str(pidfile))}; exec {app}"
    link = f"{shlex.quote(sys.executable)} {shlex.quote(str(SLOWLINK))} 8000 2000000 {log}"
    tmux = Tmux(tmp_path, "slow")
    script = f"script -q -f -c {shlex.quote(app)} /dev/null"
    tmux.start(f"{script} | {link}", {}, (120, 40))
    try:
        tmux.wait_for(r"Peak\s+1000\.0 Hz")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rows = _link_log(log) if log.exists() else []
            if rows and rows[-1][0] >= 30.0:
                break
            time.sleep(1.0)
        else:
            raise AssertionError(f"the link's log stopped: {log.read_text()!r}")
        late = [r for r in rows if r[0] >= 12.0]
        most = max(b for _, b, _ in late)
        assert most < 80_000, rows  # unpaced: > 400 KB by now (the window is 24 KB)
        sent = [s for _, _, s in late]
        assert sent[-1] - sent[0] > 5000 * (late[-1][0] - late[0][0]), rows  # still drawing
    finally:
        tmux.kill()
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_another_reader_of_the_terminal_is_named_and_not_waited_for(tmp_path: Path) -> None:
    """``ssh HOST livespec stream | livespec view -`` without ``ssh -n``: ssh reads the
    terminal too and takes some of the terminal's replies (and keys). The viewer says so
    once and stops pacing on replies it cannot count on (it keeps drawing at full rate)."""
    thief = Path(__file__).parent / "support" / "tty_thief.py"
    stream = livespec_command("stream", "--input", "tone:1000@-6")
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(thief))} {stream} | "
    cmd += livespec_command("view", "-")
    tmux = Tmux(tmp_path, "thief")
    tmux.start(cmd, {}, (120, 40))
    try:
        deadline = time.monotonic() + 90
        screen = ""
        while time.monotonic() < deadline and "give ssh -n" not in screen:
            time.sleep(0.5)
            screen = tmux.screen(joined=True)
        assert "give ssh -n" in screen, screen
        fps = None
        while time.monotonic() < deadline + 30 and fps is None:  # the notice covers it
            time.sleep(0.5)
            fps = re.search(r"│ (\d+) fps", tmux.screen())
        assert fps is not None and int(fps.group(1)) >= 10, tmux.screen()
    finally:
        tmux.kill()
