"""``livespec view --remote HOST``: the remote sender, ``livespec stream --paced``, as a child.

The child is ``ssh HOST livespec stream --paced [options]`` (``$LIVESPEC_SSH`` replaces
``ssh``, e.g. ``ssh -p 2222``; ``--remote-livespec`` the remote command). Its stdout is the
stream; its stdin carries the viewer's acknowledgements back (:mod:`livespec.stream.acks`);
its stderr goes to a temporary file, read only when no stream came or the stream broke
(ssh's and the remote livespec's own lines: ``ssh: Could not resolve hostname``,
``livespec: command not found``). ssh asks for a password, if it must, on the terminal
before the viewer's screen starts. Closing the acknowledgements ends the remote stream
("the reader went away"), and ssh with it. Main thread.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
from collections.abc import Sequence

from livespec.errors import UsageError, printable
from livespec.stream.acks import Acker

SSH_ENV = "LIVESPEC_SSH"
_HUNG_UP = "livespec: stream: the reader went away"
CLOSE_WAIT_S = 3.0  # how long the remote side may take to end after the viewer quits


def ssh_argv(host: str, remote_livespec: str, options: Sequence[str]) -> list[str]:
    """The child's argv: ssh (or ``$LIVESPEC_SSH``), the host, and the remote command line
    (``remote_livespec`` as given, shell syntax such as ``~`` kept; options quoted)."""
    try:
        ssh = shlex.split(os.environ.get(SSH_ENV) or "ssh")
        remote = shlex.split(remote_livespec)
    except ValueError as exc:
        raise UsageError(f"${SSH_ENV} or --remote-livespec: {exc}") from None
    if not ssh or not remote:
        raise UsageError(f"${SSH_ENV} and --remote-livespec must name a command")
    if not host or host.startswith("-"):
        raise UsageError(f"--remote {host!r}: give a host name (options for ssh go in ${SSH_ENV})")
    quoted = " ".join(shlex.quote(o) for o in ("stream", "--paced", *options))
    return [*ssh, host, f"{remote_livespec} {quoted}"]


class RemoteStream:
    """The remote sender as a child process (main thread)."""

    def __init__(self, host: str, remote_livespec: str, options: Sequence[str]) -> None:
        self.host = host
        self.argv = ssh_argv(host, remote_livespec, options)
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self._child: subprocess.Popen[bytes] | None = None
        self.acker: Acker | None = None
        self._said: str | None = None
        self._since = 0  # the offset in the child's stderr where the stream had started
        self.status: int | None = None  # the child's exit status, once closed
        self._notes: list[str] = []

    def start(self) -> int:
        """Start the child; returns a descriptor of the stream (the caller closes it)."""
        try:
            child = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
            )
        except OSError as exc:
            raise UsageError(f"cannot run {self.argv[0]!r}: {exc.strerror or exc}") from None
        self._child = child
        assert child.stdin is not None and child.stdout is not None
        self.acker = Acker(os.dup(child.stdin.fileno()))
        child.stdin.close()
        fd = os.dup(child.stdout.fileno())
        child.stdout.close()
        return fd

    def mark(self) -> None:
        """The stream has started: :meth:`said` now reports only what comes after."""
        with contextlib.suppress(OSError, ValueError):
            self._since = self._errors.seek(0, os.SEEK_END)

    def said(self) -> str | None:
        """The last line the child printed on stderr (ssh's or the remote livespec's),
        since :meth:`mark`, without a leading ``livespec: ``; None if it printed nothing."""
        if self._errors.closed:
            return self._said
        lines = self._lines(self._since)
        return lines[-1] if lines else None

    def notes(self) -> list[str]:
        """Every line the child printed on stderr (e.g. the sender's ``streaming the
        built-in demo signal instead``), once closed; as :meth:`said`."""
        return list(self._notes)

    def _lines(self, since: int) -> list[str]:
        self._errors.seek(since)
        text = self._errors.read()[-16384:].decode(errors="replace")
        lines = [printable(ln.strip()) for ln in text.splitlines() if ln.strip()]
        # the sender's "the reader went away" is the viewer's own doing (it hung up)
        lines = [ln for ln in lines if not ln.startswith(_HUNG_UP)]
        return [ln[len("livespec: ") :] if ln.startswith("livespec: ") else ln for ln in lines]

    def close(self) -> int | None:
        """End the acknowledgements (the remote stream stops), wait for the child (at most
        :data:`CLOSE_WAIT_S`, then it is terminated); returns its exit status."""
        if self.acker is not None:
            self.acker.close()
        status = None
        child = self._child
        if child is not None:
            try:
                status = child.wait(CLOSE_WAIT_S)
            except subprocess.TimeoutExpired:
                child.terminate()
                try:
                    status = child.wait(CLOSE_WAIT_S)
                except subprocess.TimeoutExpired:
                    child.kill()
                    status = child.wait()
        if not self._errors.closed:
            self._said = self.said()
            self._notes = self._lines(0)
        with contextlib.suppress(OSError):
            self._errors.close()
        self.status = status
        return status


def older_livespec(said: str) -> bool:
    """True if the remote side's last line says its livespec has no ``stream --paced``
    (an unknown option, or no ``stream`` command at all)."""
    unknown = ("unknown option" in said or "unrecognized arguments" in said) and "--paced" in said
    return unknown or ("invalid choice: 'stream'" in said)


def why_it_ended(status: int | None, said: str | None) -> str:
    """What to add to "the stream broke off": ssh's (or the remote side's) last line, else
    what its exit ``status`` tells (``""``: nothing to add)."""
    if said:
        return f"; ssh said: {said}"
    if status is not None and status < 0:
        with contextlib.suppress(ValueError):
            return f"; ssh was killed ({signal.Signals(-status).name})"
        return f"; ssh was killed (signal {-status})"
    if status == 255:  # ssh's own failure, or the remote command killed by a signal
        return "; ssh ended with status 255 (the link was cut or the sender killed)"
    if status:
        return f"; the remote command ended with status {status}"
    return ""
