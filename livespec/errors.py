"""Errors a user can cause, the exit codes livespec documents (docs/cli.md), and the
stop signals (SIGTERM, SIGHUP...) that end a command with one of them."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAILURE = 1  # a runtime failure after start-up (input lost, I/O error)
EXIT_USAGE = 2  # a user's mistake: bad option, missing file, unknown device
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)

# C0 and C1 control characters and DEL: what a terminal acts on instead of showing.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_CONTROL.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x1B: "\\x1b"})


def printable(text: str) -> str:
    """``text`` with every control character shown escaped (``\\x1b``, ``\\n``), so that
    text from a file, a stream, a device or a file name can be printed or drawn without
    the terminal acting on it (a title change, a cleared screen, a forged line)."""
    return text.translate(_CONTROL)


def counted(n: int, one: str, many: str = "") -> str:
    """``n`` and the noun in its number: ``counted(1, "input")`` is ``1 input``,
    ``counted(3, "input")`` is ``3 inputs`` (``many`` for an irregular plural)."""
    return f"{n} {one if n == 1 else many or one + 's'}"


class LivespecError(Exception):
    """An error to report as one line on stderr, then exit with ``exit_code``.

    Raise it for anything a user can cause or fix; it is never shown as a traceback.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(LivespecError):
    """A bad option value or combination (exit status 2)."""


class SourceError(LivespecError):
    """A source that cannot be opened or read: file, device, stdin (exit status 2)."""


class OutputError(LivespecError):
    """A command's results could not be written to stdout (a full disk): exit status 1."""


def write_out(out: TextIO, text: str, flush: bool) -> None:
    """Write ``text`` to ``out`` (stdout), then flush it if ``flush``. A failed write (a
    full disk, ``> /dev/full``) raises :class:`OutputError` (``cannot write to stdout: No
    space left on device``), not an OSError a frame consumer's caller would report as
    ``analysis stopped: OSError: [Errno 28] ...``; a broken pipe passes unchanged."""
    try:
        out.write(text)
        if flush:
            out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write to stdout: {exc.strerror or exc}", EXIT_FAILURE) from None


SignalHandler = Callable[[int, "FrameType | None"], Any]


def handle_signals(names: Iterable[str], handler: SignalHandler) -> dict[int, Any]:
    """Install ``handler`` for each signal named (``"SIGTERM"``...) that this platform has
    and that is not ignored (ignored at launch, as under ``nohup``, it stays ignored).
    Main thread only: elsewhere nothing is installed. Returns the handlers it replaced,
    for :func:`restore_signals`."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in names:
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, handler)
    return previous


def restore_signals(previous: dict[int, Any]) -> None:
    """Put back the handlers :func:`handle_signals` replaced (main thread)."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)
