"""The process around the live app: stdin and the terminal when audio comes in on stdin
(``--input -``, ``livespec view -``), and the garbage collector after start-up. Main or UI
thread, as noted.
"""

from __future__ import annotations

import gc
import io
import os
import sys

from livespec.errors import LivespecError

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
