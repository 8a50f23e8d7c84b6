"""``livespec view -|FILE``: show a stream (:mod:`livespec.stream.protocol`) in the app.

It reads a stream from stdin (``-``, keys from the terminal) or a file and shows it in the
app (:mod:`livespec.tui.viewer`); ``--dump`` prints its records as JSON lines instead. A
stream that is not livespec's, is newer or is damaged ends the viewer with one line and
status 2. See docs/ssh.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import stat
import sys
from typing import TYPE_CHECKING

from livespec.config import Config
from livespec.errors import (
    EXIT_OK,
    LivespecError,
    SourceError,
    UsageError,
    handle_signals,
    restore_signals,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from livespec.stream.protocol import StreamReader
    from livespec.stream.source import FdReader


def add_view_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``livespec view`` (display options come from cli)."""
    p.add_argument(
        "stream", metavar="-|FILE", nargs="?", help="'-' reads the stream on stdin, or a file"
    )
    g = p.add_argument_group("view")
    g.add_argument(
        "--remote",
        metavar="HOST",
        help="run 'livespec stream --paced' on HOST over ssh and show it, its delay kept "
        "short on a slow link; options after '--' go to the stream "
        "(e.g. --remote lab -- --device 2 --fps 15); $LIVESPEC_SSH replaces 'ssh'",
    )
    g.add_argument(
        "--remote-livespec",
        metavar="CMD",
        default="livespec",
        help="the livespec command on HOST, e.g. '~/livespec/.venv/bin/livespec' (livespec)",
    )
    g.add_argument(
        "--fast", action="store_true", help="replay a FILE as fast as it draws (default: real time)"
    )
    g.add_argument(
        "--dump", action="store_true", help="print the records as JSON lines (no screen)"
    )


def _open_stream(spec: str) -> tuple[int, str]:
    """(file descriptor, name for messages) of ``-`` (stdin) or a file (main thread)."""
    if spec == "-":
        if os.isatty(0):
            raise UsageError(
                "livespec view - reads a stream on stdin: pipe one in, "
                "e.g. ssh lab livespec stream | livespec view -"
            )
        return os.dup(0), "stdin"
    try:
        fd = os.open(spec, os.O_RDONLY)
    except FileNotFoundError:
        raise SourceError(f"cannot open '{spec}': no such file") from None
    except OSError as exc:
        raise SourceError(f"cannot open '{spec}': {exc.strerror}") from None
    if stat.S_ISDIR(os.fstat(fd).st_mode):  # opens, but reading it fails (EISDIR)
        os.close(fd)
        raise SourceError(f"cannot open '{spec}': is a folder")
    return fd, spec


def run_view(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec view -|FILE``: show a stream in the app (or ``--dump`` it). Main thread."""
    from livespec.stream.protocol import StreamReader
    from livespec.stream.source import FdReader

    remote_options = list(getattr(ns, "remote_options", None) or [])
    if getattr(ns, "remote", None) is not None:
        if ns.stream is not None:
            raise UsageError(f"give either {ns.stream!r} or --remote HOST, not both")
        return _view_remote(ns, cfg, remote_options)
    if ns.stream is None:
        raise UsageError("give the stream: '-' (stdin), a FILE, or --remote HOST")
    if remote_options:
        raise UsageError("options after '--' go to the remote stream: give --remote HOST")
    fd, name = _open_stream(ns.stream)
    fdr = FdReader(fd)
    try:
        reader = StreamReader(fdr, name)  # the header: a bad stream ends here, before a screen
        if ns.dump:
            return _dump(reader, fdr)
    except BaseException:
        fdr.close()
        raise
    from livespec.tui.viewer import run_viewer

    return int(run_viewer(cfg, reader, fdr, stdin=ns.stream == "-", pace=not ns.fast))


def _view_remote(ns: argparse.Namespace, cfg: Config, options: list[str]) -> int:
    """``livespec view --remote HOST [-- OPTIONS]``: start the remote sender, paced by this
    viewer's acknowledgements, and show (or dump) its stream. Main thread."""
    from livespec.stream.protocol import StreamError, StreamReader
    from livespec.stream.remote import SSH_ENV, RemoteStream, older_livespec, why_it_ended
    from livespec.stream.source import FdReader

    remote = RemoteStream(ns.remote, ns.remote_livespec, options)
    if not ns.dump and not os.isatty(0):  # before ssh: the sender would start for nothing
        from livespec.tui.process import keys_from_tty

        keys_from_tty("livespec view --remote", f"use 'livespec view --remote {ns.remote} --dump'")
    fdr = FdReader(remote.start(), remote.acker)
    try:
        try:
            with _stop_signals_end_the_wait(ns.remote):
                reader = StreamReader(fdr, f"ssh {ns.remote}")
        except StreamError as exc:  # no stream came: what ssh or the remote side said
            fdr.close()
            remote.close()
            said = remote.said()
            if (text := _text_before(fdr.head)) is not None:
                why = (
                    f"does a login script on {ns.remote} print on stdout? the stream needs it clean"
                )
                if text.startswith(("usage: livespec", "livespec ")):  # -- --help, --version
                    why = "the remote livespec printed it instead of streaming"
                said = f"not a livespec stream: it starts with {text!r} ({why})"
                if text.startswith("livespec: "):  # its stderr on stdout: a terminal (ssh -t)
                    said = (
                        f"{text.removeprefix('livespec: ')} (its messages came on stdout: "
                        f"a terminal? leave -t out of ${SSH_ENV})"
                    )
            if said is None:
                raise
            if older_livespec(said):
                said = (
                    f"the livespec there is older than this one: it has no 'stream --paced' "
                    f"({said}); update it there, or pipe its stream: "
                    f"ssh {ns.remote} {ns.remote_livespec} stream | livespec view -"
                )
            raise SourceError(f"ssh {ns.remote}: {said}") from exc
        remote.mark()
        try:
            if ns.dump:
                status = _dump(reader, fdr)
            else:
                from livespec.tui.viewer import run_viewer

                status = run_viewer(
                    cfg, reader, fdr, stdin=False, pace=False, live=True, remote=ns.remote
                )
            fdr.close()
            remote.close()
            with contextlib.suppress(OSError, ValueError):  # a terminal gone (SIGHUP)
                for note in remote.notes():  # as 'ssh HOST livespec stream | ...' shows
                    sys.stderr.write(f"livespec: ssh {ns.remote}: {note}\n")
                sys.stderr.flush()
            return int(status)
        except StreamError as exc:  # the stream broke off: why, if ssh can tell
            fdr.close()
            remote.close()
            why = why_it_ended(remote.status, remote.said())
            if not why:
                raise
            raise StreamError(f"{exc}{why}") from None
    finally:
        fdr.close()
        remote.close()


def _text_before(head: bytes) -> str | None:
    """The first line of ``head`` if it is text, not a stream (None)."""
    if head.startswith(b"LSPC") or not head:
        return None
    line = head.split(b"\n", 1)[0].strip()
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text and text.isprintable() else None


@contextlib.contextmanager
def _stop_signals_end_the_wait(host: str) -> Iterator[None]:
    """While the viewer waits for the remote stream's header (no screen yet, the host may
    be slow to start the sender), SIGTERM and SIGHUP end it with one line and 128 + the
    signal's number, through the caller's cleanup: ssh is ended too (main thread)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        raise LivespecError(f"ssh {host}: stopped by {name} before the stream came", 128 + signum)

    previous = handle_signals(("SIGTERM", "SIGHUP"), on_signal)
    try:
        yield
    finally:
        restore_signals(previous)


def _dump(reader: StreamReader, fdr: FdReader) -> int:
    """Print the header and every record as JSON lines, and on stderr what follows the
    END record (ignored), if anything (main thread)."""
    from livespec.stream.protocol import END, FRAME
    from livespec.stream.source import after_end

    h = reader.header.to_json()
    h["groups"] = len(reader.header.groups)
    out = sys.stdout
    out.write(json.dumps({"type": "header", **h}) + "\n")
    while True:
        rec = reader.next_record()
        if rec is None:
            out.flush()
            raise reader.missing_end()
        kind, payload = rec
        if kind == FRAME:
            f = reader.frame(payload)
            line: dict[str, object] = {
                "type": "frame",
                "index": f.index,
                "t": round(f.t, 6),
                "rms_dbfs": round(f.rms_dbfs, 3),
                "peak_dbfs": round(f.peak_dbfs, 3),
                "peaks": [[p.freq_hz, p.level_dbfs, p.note, round(p.cents, 2)] for p in f.peaks],
            }
        else:
            line = {"type": "end" if kind == END else "status", **reader.json_payload(payload)}
        out.write(json.dumps(line) + "\n")
        if kind == END:
            out.flush()
            if (said := after_end(reader, fdr)) is not None:
                sys.stderr.write(f"livespec: {said}\n")
            return EXIT_OK
