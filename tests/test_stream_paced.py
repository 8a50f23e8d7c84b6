"""Paced streams (livespec/stream/acks.py, ``livespec view --remote HOST``): on a link
slower than the stream, what waits in the link stays near the sender's budget instead of
growing to SSH's megabytes; frames are dropped and counted instead."""

from __future__ import annotations

import contextlib
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
from livespec.stream.remote import RemoteStream, ssh_argv

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


def test_a_waiting_status_record_is_replaced_by_a_newer_one() -> None:
    # the link is stalled: STATUS records must not pile up behind it (they are never
    # dropped), a newer one replaces the one still waiting, in its place
    box = _Outbox(PACED_OUTBOX_FRAMES)
    box.put(b"header")
    for i in range(50):
        box.put(b"frame%d" % i, frame=True)
        box.put(b"status%d" % i, status=True)
    box.close()
    out = []
    while (data := box.get(0.0)) is not None:
        out.append(data)
    assert out[0] == b"header"
    assert [d for d in out if d.startswith(b"status")] == [b"status49"]
    assert [d for d in out if d.startswith(b"frame")] == [b"frame%d" % i for i in range(46, 50)]
    assert box.dropped == 46


def test_view_remote_on_a_slow_link_sends_about_one_status_a_second(tmp_path: Path) -> None:
    # every dropped frame changed STATUS's "dropped": one STATUS record per change (16 a
    # second through 8 KB/s, a quarter of the link); "dropped" alone now waits for the
    # heartbeat, once a second
    view = _remote(tmp_path, 8000, "--input", "tone:1000+noise@-30")
    lines: list[dict[str, object]] = []
    try:
        assert view.stdout is not None
        for line in view.stdout:
            lines.append(json.loads(line))
            if lines[-1]["type"] == "frame" and float(str(lines[-1]["t"])) > 8.0:
                break
    finally:
        view.send_signal(signal.SIGTERM)
        view.wait(10)
    statuses = [d for d in lines if d["type"] == "status"]
    dropped = [int(str(s["dropped"])) for s in statuses]
    print(f"{len(statuses)} STATUS records in 8 s of stream; dropped {dropped}")
    assert dropped[-1] > 0 and dropped == sorted(dropped)
    assert len(statuses) <= 8 * 2 + 2  # the heartbeat, and changes of the other counts


def test_view_remote_says_why_the_stream_broke_off(tmp_path: Path) -> None:
    # the connection drops mid-stream: ssh's own last line (printed after the stream
    # started) ends the viewer's line, not just "the sender or the link died"
    script = tmp_path / "ssh"
    script.write_text(
        '#!/bin/sh\nhost=$1; shift\nsh -c "$*" | head -c 30000\n'
        'echo "Connection to $host closed by remote host." >&2\nexit 255\n'
    )
    script.chmod(0o755)
    env = {**os.environ, "LIVESPEC_SSH": str(script)}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    cmd += ["--remote-livespec", f"{shlex.quote(sys.executable)} -m livespec", "--"]
    done = subprocess.run(
        [*cmd, "--input", "tone:440"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert '"type": "frame"' in done.stdout  # the stream had started
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("livespec: ssh lab: ") and "the stream broke off" in line
    assert line.endswith("; ssh said: Connection to lab closed by remote host."), line


@pytest.mark.parametrize(
    ("status", "said", "why"),
    [
        (-9, None, "; ssh was killed (SIGKILL)"),
        (255, None, "; ssh ended with status 255 (the link was cut or the sender killed)"),
        (137, None, "; the remote command ended with status 137"),
        (255, "Broken pipe", "; ssh said: Broken pipe"),
        (0, None, ""),
        (None, None, ""),
    ],
)
def test_why_the_remote_stream_ended(status: int | None, said: str | None, why: str) -> None:
    from livespec.stream.remote import why_it_ended

    assert why_it_ended(status, said) == why


def test_acker_closes_its_descriptor_once() -> None:
    r, w = os.pipe()
    acker = Acker(w)
    acker.close()
    reused = os.open(os.devnull, os.O_RDONLY)
    try:
        assert reused == w  # the lowest free number: the one just closed
        acker.close()  # view --remote closes the remote side twice when a stream breaks
        os.fstat(reused)
    finally:
        os.close(reused)
        os.close(r)


@pytest.mark.parametrize(
    "old_says",
    [
        "livespec: unknown option --paced (did you mean --peaks?) (see 'livespec stream --help')",
        "livespec stream: error: unrecognized arguments: --paced",
        "livespec: error: argument command: invalid choice: 'stream' (choose from 'run', 'record')",
    ],
)
def test_view_remote_names_an_older_livespec_on_the_host(tmp_path: Path, old_says: str) -> None:
    old = tmp_path / "old-livespec"
    old.write_text(f"#!/bin/sh\necho {shlex.quote(old_says)} >&2\nexit 2\n")
    old.chmod(0o755)
    env = {**os.environ, "LIVESPEC_SSH": str(_fake_ssh(tmp_path, None))}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    done = subprocess.run(
        [*cmd, "--remote-livespec", str(old)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    said = old_says.removeprefix("livespec: ")
    assert line == (
        "livespec: ssh lab: the livespec there is older than this one: it has no "
        f"'stream --paced' ({said}); update it there, or pipe its stream: "
        f"ssh lab {old} stream | livespec view -"
    )


def test_view_remote_without_a_terminal_starts_nothing_on_the_host(tmp_path: Path) -> None:
    # no terminal for the keys: say so before ssh runs (the sender would open the
    # device, or start a --record take, only to be stopped at once)
    env = {**os.environ, "LIVESPEC_SSH": str(_fake_ssh(tmp_path, None))}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab"]
    cmd += ["--remote-livespec", f"{shlex.quote(sys.executable)} -m livespec", "--"]
    done = subprocess.run(
        [*cmd, "--input", "tone:440", "--record", str(tmp_path / "take.wav")],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "livespec: livespec view --remote needs a terminal for the keys, but /dev/tty cannot "
        "be opened (No such device or address); use 'livespec view --remote lab --dump'"
    ]
    assert not (tmp_path / "ssh.pid").exists()  # ssh never ran
    assert not (tmp_path / "take.wav").exists()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_before_the_stream_came_ends_ssh_too(
    tmp_path: Path, sig: signal.Signals, status: int
) -> None:
    # the host is slow to start the sender (here: never does); SIGTERM or SIGHUP (the
    # terminal closed) killed the viewer at once and left ssh running
    env = {**os.environ, "LIVESPEC_SSH": str(_fake_ssh(tmp_path, None))}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    cmd += ["--remote-livespec", "exec sleep 60 #"]
    view = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = tmp_path / "ssh.pid"
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    time.sleep(0.5)  # the viewer waits for the stream's header
    view.send_signal(sig)
    try:
        _, err = view.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # not to leave it behind if the test fails
    assert view.returncode == status
    assert err.strip().splitlines() == [
        f"livespec: ssh lab: stopped by {sig.name} before the stream came"
    ]
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or ") Z " in stat.read_text()  # ssh ended (or is a zombie)


@pytest.mark.parametrize(
    ("before", "option", "line"),
    [
        (
            "echo Welcome to lab;",
            "--input",
            "it starts with 'Welcome to lab' (does a login script on lab print on stdout? "
            "the stream needs it clean)",
        ),
        ("", "--help", "it starts with 'usage: livespec stream [-h] "),
    ],
)
def test_view_remote_names_text_printed_before_the_stream(
    tmp_path: Path, before: str, option: str, line: str
) -> None:
    # a login script on the host that prints on stdout puts text before the stream: say
    # what it printed, not the sender's "the reader went away" (that is the viewer's own
    # doing: it hung up on a stream it could not read)
    env = {**os.environ, "LIVESPEC_SSH": str(_fake_ssh(tmp_path, None))}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    cmd += ["--remote-livespec", f"{before} {shlex.quote(sys.executable)} -m livespec"]
    done = subprocess.run(
        [*cmd, "--", option, "tone:440"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    [said] = done.stderr.strip().splitlines()
    assert said.startswith(f"livespec: ssh lab: not a livespec stream: {line}"), said
    if option == "--help":
        assert said.endswith("' (the remote livespec printed it instead of streaming)"), said


def test_the_remote_side_hanging_up_is_not_what_it_said() -> None:
    remote = RemoteStream("lab", "livespec", [])
    try:
        remote._errors.write(b"livespec: unknown device 'x'\n")
        assert remote.said() == "unknown device 'x'"
        remote._errors.write(b"livespec: stream: the reader went away; stopped after 0 bytes\n")
        assert remote.said() == "unknown device 'x'"
    finally:
        remote.close()


def test_view_remote_passes_on_what_the_sender_said(tmp_path: Path) -> None:
    # the sender's notes on stderr (a device missing, the demo signal instead; a
    # recording that failed) were kept in a file and shown only if no stream came
    import numpy as np
    import soundfile as sf

    wav = tmp_path / "tone.wav"
    sf.write(wav, 0.3 * np.sin(2 * np.pi * 440 * np.arange(9600) / 48000), 48000)
    sender = tmp_path / "sender"
    sender.write_text(
        f"#!/bin/sh\necho 'livespec: a note from the sender' >&2\n"
        f'exec {shlex.quote(sys.executable)} -m livespec "$@"\n'
    )
    sender.chmod(0o755)
    env = {**os.environ, "LIVESPEC_SSH": str(_fake_ssh(tmp_path, None))}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    done = subprocess.run(
        [*cmd, "--remote-livespec", str(sender), "--", "--input", str(wav)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout.splitlines()[-1])["reason"] == "end of input"
    assert done.stderr.splitlines() == ["livespec: ssh lab: a note from the sender"]


def test_view_remote_names_a_terminal_that_merged_stderr_into_the_stream(tmp_path: Path) -> None:
    # 'ssh -t' gives the sender a terminal: its error comes on stdout, before any stream
    script = tmp_path / "ssh"
    script.write_text('#!/bin/sh\nshift 2\nexec sh -c "$*" 2>&1\n')  # -t lab; as a pty merges
    script.chmod(0o755)
    env = {**os.environ, "LIVESPEC_SSH": f"{script} -t"}
    cmd = [sys.executable, "-m", "livespec", "view", "--remote", "lab", "--dump"]
    cmd += ["--remote-livespec", f"{shlex.quote(sys.executable)} -m livespec"]
    done = subprocess.run(
        [*cmd, "--", "--fps", "5000"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "livespec: ssh lab: --fps 5000: must be 0 (every frame) or from 0.001 to 1000 (its "
        "messages came on stdout: a terminal? leave -t out of $LIVESPEC_SSH)"
    ]
