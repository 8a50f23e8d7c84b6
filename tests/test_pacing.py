"""Flow control for a slow terminal link (livespec/render/pacing.py, the app's tick)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from support.app import make_rig, sync
from support.tmux import Tmux, livespec_command

from livespec.render import pacing
from livespec.render.pacing import KEEPALIVE_S, WINDOW_BYTES, LinkPacer

SLOWLINK = Path(__file__).parent / "support" / "slowlink.py"


def _answered(p: LinkPacer, now: float = 0.0, written: int = 0) -> None:
    """One query out and answered: the terminal is known to answer."""
    p.sent(now, written)
    p.reply()


def test_no_query_out_never_holds() -> None:
    p = LinkPacer()
    assert not p.hold(0.0, 10**9)
    _answered(p)
    assert not p.hold(1.0, 10**9)
    assert p.held == 0


def test_holds_once_the_window_went_out_after_an_unanswered_query() -> None:
    p = LinkPacer()
    _answered(p)
    p.sent(1.0, 50_000)
    assert not p.hold(1.1, 50_000 + WINDOW_BYTES)  # up to the window: draw
    assert p.hold(1.2, 50_000 + WINDOW_BYTES + 1)  # past it: the terminal is behind
    assert p.hold(1.3, 50_000 + WINDOW_BYTES + 1)
    assert p.held == 2
    p.reply()  # the terminal has shown everything up to the query
    assert not p.hold(1.4, 50_000 + WINDOW_BYTES + 1)


def test_the_oldest_query_sets_the_window() -> None:
    p = LinkPacer()
    _answered(p)
    p.sent(1.0, 1000)
    p.sent(4.5, 20_000)  # asked again (a reply may have been lost)
    assert p.hold(5.0, 1000 + WINDOW_BYTES + 1)
    p.reply()  # answers the first: the window now counts from the second
    assert not p.hold(5.1, 1000 + WINDOW_BYTES + 1)
    assert p.hold(5.2, 20_000 + WINDOW_BYTES + 1)


def test_before_any_reply_holds_only_for_a_while() -> None:
    p = LinkPacer()
    p.sent(0.0, 0)
    assert p.hold(1.0, WINDOW_BYTES + 1)
    # A terminal that never answers is drawn to as if unpaced after FIRST_GIVE_UP_S.
    assert not p.hold(pacing.FIRST_GIVE_UP_S, 10 * WINDOW_BYTES)
    p.reply()  # a late first reply: the terminal answers after all
    p.sent(20.0, 10 * WINDOW_BYTES)
    assert p.hold(40.0, 11 * WINDOW_BYTES + 1)  # from now on it is held however long


def test_one_update_goes_out_every_keepalive_while_held() -> None:
    p = LinkPacer()
    _answered(p)
    p.sent(0.0, 0)
    w = WINDOW_BYTES + 1
    passed = [t for t in range(0, 35) if not p.hold(float(t), w)]
    assert passed == [10, 20, 30]
    assert KEEPALIVE_S == 10.0


def test_queries_follow_updates_at_most_every_quarter_second_and_again_if_lost() -> None:
    p = LinkPacer()
    assert p.probe_due(0.0)
    p.sent(0.0, 0)
    assert not p.probe_due(0.1)  # one out: wait for it
    p.reply()
    assert not p.probe_due(0.2)  # answered, but the last went out 0.2 s ago
    assert p.probe_due(0.25)
    p.sent(0.25, 0)
    assert not p.probe_due(3.0)
    assert p.probe_due(3.25)  # no reply for REPROBE_S: ask again
    for t in (3.25, 6.5, 9.75):
        p.sent(t, 0)
    assert not p.probe_due(100.0)  # at most MAX_OUTSTANDING out


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
    log = tmp_path / "link.log"
    app = livespec_command("--input", "tone:1000@-6+noise@-50", "--ssh", "on")
    link = f"{shlex.quote(sys.executable)} {shlex.quote(str(SLOWLINK))} 8000 2000000 {log}"
    tmux = Tmux(tmp_path, "slow")
    tmux.start(f"script -q -f -c {shlex.quote(app)} /dev/null | {link}", {}, (120, 40))
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
