"""The process around the live app: stdin and the terminal when audio comes in on stdin
(``--input -``, ``livespec view -``), the stop signals, and the garbage collector after
start-up. Main or UI thread, as noted.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from livespec.errors import LivespecError, handle_signals, restore_signals

if TYPE_CHECKING:  # the app's module imports Textual itself (on the preload thread)
    from textual.app import App

STOP_GRACE_S = 10.0  # after a stop signal the process ends within this long, s
STOP_SIGNALS = ("SIGTERM", "SIGHUP")  # SIGINT: ctrl+c is a key while Textual has the tty

GC_FULL_EVERY = 1000  # middle-generation collections between full ones (default 10)


def freeze_gc() -> None:
    """After start-up, move every object into the GC's permanent generation, collect the
    oldest generation less often and turn the collector on if start-up turned it off
    (UI thread)."""
    gc.collect()
    gc.freeze()
    # Objects made after start-up that live on (colour-table cells, history) land in
    # the oldest generation, and with the default threshold a full collection walks
    # them every few seconds; young garbage is still collected as before.
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, GC_FULL_EVERY)
    gc.enable()  # ``livespec`` starts with it off (livespec.cli.cmd_app)


def take_stdin_for_audio() -> io.TextIOWrapper:
    """Move the PCM pipe on fd 0 to a new fd and make ``sys.stdin`` read it (main thread).

    Returns the new stdin object; keep it alive while the source reads (collecting it
    closes the pipe). Textual's driver reads keys from ``sys.__stdin__`` (fd 0), so after
    the source has taken the pipe, :func:`keys_from_tty` puts the terminal on fd 0.
    """
    pcm = io.TextIOWrapper(os.fdopen(os.dup(0), "rb"))
    sys.stdin = pcm
    return pcm


def keys_from_tty(
    what: str = "--input -",
    instead: str = "use 'livespec peaks --input -' for headless analysis",
) -> None:
    """Put the controlling terminal on fd 0 for Textual's key reader (main thread).

    ``what`` and ``instead`` word the error when there is no terminal.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError as exc:
        raise LivespecError(
            f"{what} needs a terminal for the keys, but /dev/tty cannot be opened "
            f"({exc.strerror}); {instead}"
        ) from None
    os.dup2(tty, 0)
    os.close(tty)


def keys_from_tty_if_redirected(what: str, instead: str) -> None:
    """When fd 0 is not a terminal (``livespec < /dev/null``, a script's stdin), put the
    controlling terminal there, as :func:`keys_from_tty` does for ``--input -``: else no
    key reaches Textual, ``q`` included (main thread)."""
    if not os.isatty(0):
        keys_from_tty(what, instead)


@contextlib.contextmanager
def exit_on_stop_signals(app: App[Any]) -> Iterator[None]:
    """While the app runs, SIGTERM (``kill``) and SIGHUP (the terminal or the SSH link went
    away) end it as ``q`` does, with exit status 128 + the signal's number: the terminal
    is restored and the app's exit path runs (a recording is finalised). Without this the
    default action killed the process in the alternate screen, the tty raw. A signal
    ignored at launch (``nohup``) stays ignored. Main thread (else nothing is installed).
    """

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # This runs on the main thread, which runs the app's event loop; the app's
        # thread-safe entry, call_from_thread, must be called from another thread.
        def ask() -> None:
            with contextlib.suppress(Exception):  # not running (not yet, or no more)
                app.call_from_thread(app.exit, None, 128 + signum)
            # The way out may hang (a terminal gone with the SSH link, a sound server
            # gone with the session): the process ends within STOP_GRACE_S regardless,
            # as the signal's default action ended it at once (a daemon thread: a
            # process that exits in time takes it along).
            time.sleep(STOP_GRACE_S)
            os._exit(128 + signum)

        threading.Thread(target=ask, name="livespec-signal", daemon=True).start()

    previous = handle_signals(STOP_SIGNALS, on_signal)
    try:
        yield
    finally:
        restore_signals(previous)
