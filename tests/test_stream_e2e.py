"""End-to-end: ``livespec stream | livespec view -`` in a tmux terminal.

* a streamed 1 kHz tone shows ``1000.0 Hz`` in the viewer's readout, the keys come from
  the terminal although stdin is the stream, and ``q`` ends both sides with status 0;
* the sender dies (SIGKILL, as when the link drops): the viewer restores the terminal and
  says so in one line, status 2.

Nothing here asserts on timing: the waits are generous deadlines for a loaded machine.
"""

from __future__ import annotations

import os
import shlex
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.tmux import Tmux
from support.tmux import livespec_command as _livespec
from test_app_e2e import _assert_restored


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, "stream")
    yield t
    t.kill()


def _pipe(tmp_path: Path, *stream_args: str) -> str:
    """sender | viewer, the sender's stderr and pid in files."""
    err, pid = shlex.quote(str(tmp_path / "sender.err")), shlex.quote(str(tmp_path / "sender.pid"))
    sender = f"sh -c 'echo $$ > {pid}; exec {_livespec('stream', *stream_args)}' 2> {err}"
    return f"{sender} | {_livespec('view', '-')}"


def test_streamed_tone_shows_1000_hz_and_q_ends_both_sides(tmp_path: Path, tmux: Tmux) -> None:
    tmux.start(_pipe(tmp_path, "--input", "tone:1000@-6"), {}, (110, 32))
    screen = tmux.wait_for(r"Peak +1000\.0 Hz +-6\.0 dBFS")
    assert "test signal 'tone:1" in screen and "FFT 4096 hann │ hop 1024" in screen
    tmux.wait_for(r"(?m)^ +1k[┤◀]")
    tmux.keys("w")  # the keys reach the viewer; the analysis is the sender's
    tmux.wait_for(r"runs at the sender")
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)
    err = (tmp_path / "sender.err").read_text()
    assert err.count("\n") == 1 and "the reader went away" in err, err


def test_a_dead_sender_ends_the_viewer_with_one_line(tmp_path: Path, tmux: Tmux) -> None:
    tmux.start(_pipe(tmp_path, "--input", "tone:440@-12"), {}, (100, 30))
    tmux.wait_for(r"Peak +440\.0 Hz")
    os.kill(int((tmp_path / "sender.pid").read_text()), signal.SIGKILL)
    assert tmux.wait_exit() == 2
    _assert_restored(tmux)
    screen = tmux.screen()
    assert "livespec: stdin: the stream broke off after" in screen.replace("\n", ""), screen
    assert "Traceback" not in screen
