"""Paced streams (livespec/stream/acks.py, ``livespec view --remote HOST``): on a link
slower than the stream, what waits in the link stays near the sender's budget instead of
growing to SSH's megabytes; frames are dropped and counted instead."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from livespec.cli.stream import PACED_OUTBOX_FRAMES, _Outbox, _Writer
from livespec.stream.acks import MIN_IN_FLIGHT, Acker, AckReader, in_flight_budget
from livespec.stream.remote import ssh_argv

SLOWLINK = Path(__file__).parent / "support" / "slowlink.py"
RECORD = 1000  # bytes of one frame record in the unit tests


def test_budget_is_half_a_second_of_the_link_and_at_least_the_minimum() -> None:
    assert in_flight_budget(None) == MIN_IN_FLIGHT  # no acknowledgement yet
    assert in_flight_budget(1_000.0) == MIN_IN_FLIGHT
    assert in_flight_budget(26_000.0) == max(MIN_IN_FLIGHT, 13_000)
    assert in_flight_budget(400_000.0) == 200_000


def test_ack_reader_takes_the_largest_count_and_ignores_garbage() -> None:
    r, w = os.pipe()
    acks = AckReader(r)
    acks.start()
    try:
        os.write(w, b"100\n50\nxyz\n" + b"9" * 40 + b"\n300")  # 300: no newline yet
        assert not acks.wait_room(written=1_000, budget=800, timeout=0.3)  # 900 unacked
        os.write(w, b"\n")
        assert acks.wait_room(written=1_000, budget=800, timeout=2.0)  # 700 unacked
        assert acks.acked == 300
        os.close(w)
        w = -1
        deadline = time.monotonic() + 2.0
        while not acks.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert acks.closed  # the viewer went away
        assert not acks.wait_room(written=10**9, budget=1, timeout=0.1)
    finally:
        acks.stop()
        if w >= 0:
            os.close(w)
        os.close(r)


def _slow_link(paced: bool, rate: float = 20_000.0, seconds: float = 2.5) -> dict[str, int]:
    """A writer fed 200 frame records a second, read at ``rate`` bytes/s by a viewer that
    acknowledges what it read (if ``paced``); the largest amount written but not yet read
    (what waits in the link: here the pipe's buffer), frames dropped and read."""
    data_r, data_w = os.pipe()
    ack_r, ack_w = os.pipe()
    acks = AckReader(ack_r) if paced else None
    box = _Outbox(PACED_OUTBOX_FRAMES if paced else 64)
    writer = _Writer(data_w, box, acks)
    acker = Acker(ack_w)
    if acks is not None:
        acks.start()
    writer.start()
    stop = threading.Event()
    seen = {"waiting": 0, "read": 0}

    def viewer() -> None:
        t0 = time.monotonic()
        while not stop.is_set():
            allowed = int(rate * (time.monotonic() - t0)) - seen["read"]
            if allowed <= 0:
                time.sleep(0.005)
                continue
            chunk = os.read(data_r, min(allowed, 4096))
            seen["read"] += len(chunk)
            acker(seen["read"])
            seen["waiting"] = max(seen["waiting"], writer.bytes - seen["read"])

    reader = threading.Thread(target=viewer)
    reader.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        box.put(b"f" * RECORD, frame=True)
        time.sleep(0.005)
    stop.set()
    reader.join()
    writer._abort.set()
    box.close()
    writer._thread.join(5)
    if acks is not None:
        acks.stop()
    for fd in (data_r, data_w, ack_r):
        os.close(fd)
    acker.close()
    return {"waiting": seen["waiting"], "dropped": box.dropped, "read": seen["read"]}


def test_a_paced_writer_keeps_what_waits_in_the_link_near_its_budget() -> None:
    unpaced = _slow_link(paced=False)
    paced = _slow_link(paced=True)
    # 200 KB/s offered, 20 KB/s read: unpaced, the pipe's buffer (64 KiB here, megabytes
    # over SSH) fills; paced, no more than the budget (half a second of the link's 20 KB/s)
    # plus one record and one acknowledgement's worth
    assert unpaced["waiting"] > 40_000
    assert paced["waiting"] <= in_flight_budget(20_000 * 1.1) + RECORD + 4096, paced
    assert paced["dropped"] > 100  # counted, for the viewer's "skipped"
    assert paced["read"] > 20_000  # and the link still carries frames


def test_ssh_argv_quotes_the_options_and_keeps_the_remote_command() -> None:
    os.environ.pop("LIVESPEC_SSH", None)
    argv = ssh_argv("lab", "~/venv/bin/livespec", ["--device", "USB mic", "--fps", "15"])
    assert argv[:2] == ["ssh", "lab"]
    assert argv[2] == "~/venv/bin/livespec stream --paced --device 'USB mic' --fps 15"
    assert shlex.split(argv[2])[4] == "USB mic"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--remote", "lab", "s.lsp"], "give either 's.lsp' or --remote HOST, not both"),
        ([], "give the stream: '-' (stdin), a FILE, or --remote HOST"),
        (["x.lsp", "--", "--fps", "3"], "options after '--' go to the remote stream"),
        (["--remote=-p", "--dump"], "--remote '-p': give a host name"),
    ],
)
def test_view_remote_usage_errors(run_livespec, args, line) -> None:
    done = run_livespec("view", *args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"livespec: {line}"] or line in done.stderr


def _fake_ssh(tmp_path: Path, rate: int | None) -> Path:
    """An ``ssh`` that runs the command here, its output through a slow link (``rate``
    bytes/s, 2 MB of buffer, as OpenSSH's window) that logs what waits in it."""
    script = tmp_path / "ssh"
    pipe = ""
    if rate is not None:
        pipe = f" | {sys.executable} {SLOWLINK} {rate} 2000000 {tmp_path / 'link.log'}"
    script.write_text(
        f'#!/bin/sh\necho $$ > {tmp_path / "ssh.pid"}\nhost=$1; shift\nexec sh -c "$*{pipe}"\n'
    )
    script.chmod(0o755)
    return script


def _remote(tmp_path: Path, rate: int | None, *options: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LIVESPEC_SSH": str(_fake_ssh(tmp_path, rate))}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    cmd += ["--remote-livespec", f"{shlex.quote(sys.executable)} -m livespec", "--", *options]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_view_remote_over_a_slow_link_keeps_the_link_nearly_empty(tmp_path: Path) -> None:
    # 8 KB/s against a stream of about 25 KB/s (a tone in noise): unpaced, 2 MB would pile
    # up in the link (the screen minutes behind); paced, the sender's budget
    view = _remote(tmp_path, 8000, "--input", "tone:1000+noise@-30")
    lines: list[dict[str, object]] = []
    try:
        assert view.stdout is not None
        deadline = time.monotonic() + 12.0
        for line in view.stdout:
            lines.append(json.loads(line))
            if time.monotonic() > deadline:
                break
    finally:
        view.send_signal(signal.SIGTERM)
        view.wait(10)
    pid = int((tmp_path / "ssh.pid").read_text())
    for _ in range(100):  # the viewer's end ends the remote stream, and ssh with it
        if not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text():
            break
        time.sleep(0.05)
    else:
        pytest.fail("the remote stream outlived the viewer")
    waiting = [int(ln.split()[1]) for ln in (tmp_path / "link.log").read_text().splitlines()]
    frames = [d for d in lines if d["type"] == "frame"]
    statuses = [d for d in lines if d["type"] == "status"]
    print(f"link buffer each second: {waiting}; frames {len(frames)}")
    assert len(waiting) >= 8 and len(frames) > 20
    assert max(waiting[3:]) <= in_flight_budget(8000 * 1.1) + 4096  # about 8 KB
    assert max(int(str(s["dropped"])) for s in statuses) > 0


def test_view_remote_says_what_the_remote_side_said(tmp_path: Path) -> None:
    view = _remote(tmp_path, None, "--input", "-")
    _, err = view.communicate(timeout=30)
    assert view.returncode == 2
    assert err.strip().splitlines() == [
        "livespec: ssh lab: --paced reads the viewer's acknowledgements on stdin: not with "
        "--input - or a terminal on stdin (it is what 'livespec view --remote HOST' starts)"
    ]
