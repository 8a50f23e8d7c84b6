"""Data after a stream's END record: two sessions appended to one file (``livespec stream
... >> f`` twice), or junk. ``livespec view`` shows the first stream, says in one line
how many bytes after END were ignored (and, for a second stream in a file, how to view
it), and keeps status 0 (the first stream is whole). Byte counts and offsets are checked
against the two sessions written to files of their own."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.tmux import Tmux
from support.tmux import livespec_command as _livespec

FS = 16000


def _livespec_run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "livespec", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(first session, second session, both appended with >>) as a user makes them."""
    d = tmp_path_factory.mktemp("after_end")
    for name, hz in (("a", 1000.0), ("b", 3000.0)):
        t = np.arange(FS) / FS
        sf.write(d / f"{name}.wav", (0.25 * np.sin(2 * np.pi * hz * t)).astype(np.float32), FS)
        done = _livespec_run("stream", "--input", str(d / f"{name}.wav"))
        assert done.returncode == 0, done.stderr
        (d / f"{name}.lspc").write_bytes(done.stdout)
    both = d / "two.lspc"
    cmd = " ".join(
        f"{_livespec('stream', '--input', str(d / f'{n}.wav'))} >> {shlex.quote(str(both))};"
        for n in ("a", "b")
    )
    subprocess.run(["sh", "-c", cmd], check=True, timeout=60)
    return d / "a.lspc", d / "b.lspc", both


def _dump(path: Path) -> subprocess.CompletedProcess[bytes]:
    return _livespec_run("view", "--dump", str(path))


def test_two_appended_sessions_dump_the_first_and_say_where_the_second_is(
    sessions: tuple[Path, Path, Path],
) -> None:
    a, b, both = sessions
    first, second = a.stat().st_size, b.stat().st_size
    assert both.stat().st_size == first + second
    alone = _dump(a)
    done = _dump(both)
    assert done.returncode == 0
    # the first session's records, nothing more (a header says when it was made)
    assert done.stdout.splitlines()[1:] == alone.stdout.splitlines()[1:]
    assert done.stdout.count(b'"type": "end"') == 1
    err = done.stderr.decode()
    assert err == (
        f"livespec: {both}: {second} bytes after the END record (at byte {first}) ignored: "
        "another stream follows (two sessions in one file: 'livespec stream >> FILE' "
        f"appends); view it with: tail -c +{first + 1} {both} | livespec view -\n"
    )
    assert alone.stderr == b""
    # the command it gives shows the second session: the same records as b alone
    tail = subprocess.run(
        ["tail", "-c", f"+{first + 1}", str(both)], capture_output=True, check=True
    ).stdout
    assert len(tail) == second and tail.startswith(b"LSPC")
    again = _livespec_run("view", "--dump", "-", stdin=tail)
    assert again.returncode == 0
    assert again.stdout.splitlines()[1:] == _dump(b).stdout.splitlines()[1:]


def test_junk_after_end_is_said_not_to_be_a_stream(
    sessions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, _, _ = sessions
    path = tmp_path / "junk.lspc"
    path.write_bytes(a.read_bytes() + b"x")
    done = _dump(path)
    assert done.returncode == 0
    assert done.stderr.decode() == (
        f"livespec: {path}: 1 byte after the END record (at byte {a.stat().st_size}) "
        "ignored: not a livespec stream\n"
    )


def test_a_pipe_is_read_to_its_end_and_counted(sessions: tuple[Path, Path, Path]) -> None:
    a, b, both = sessions
    done = _livespec_run("view", "--dump", "-", stdin=both.read_bytes() + b"tail")
    assert done.returncode == 0
    assert done.stderr.decode() == (
        f"livespec: stdin: {b.stat().st_size + 4} bytes after the END record (at byte "
        f"{a.stat().st_size}) ignored: another stream follows (shown: only the first)\n"
    )


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, "after-end")
    yield t
    t.kill()


def test_the_viewer_shows_the_first_warns_and_prints_the_line_at_exit(
    sessions: tuple[Path, Path, Path], tmux: Tmux
) -> None:
    a, b, both = sessions
    tmux.start(_livespec("view", "--fast", str(both)), {}, (120, 40))
    tmux.wait_for(r"END OF STREAM")
    tmux.wait_for(r"bytes after the END")  # the notification
    screen = tmux.screen()
    assert "1000.0 Hz" in screen and "3000.0 Hz" not in screen
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    lines = [ln for ln in tmux.screen(joined=True).splitlines() if ln.startswith("livespec:")]
    assert lines == [
        f"livespec: {both}: {b.stat().st_size} bytes after the END record (at byte "
        f"{a.stat().st_size}) ignored: another stream follows (two sessions in one file: "
        f"'livespec stream >> FILE' appends); view it with: tail -c +{a.stat().st_size + 1} "
        f"{both} | livespec view -"
    ]
