"""Silencing what C libraries print on file descriptor 2, for a moment."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send what C libraries write to file descriptor 2 to /dev/null meanwhile.

    PortAudio's ALSA host API prints ``Expression '...' failed`` lines when it rejects
    settings, and libmpg123 warns about a corrupt MP3 there; the same failures reach
    livespec as exceptions, which it reports in one clear line. Everything written to fd 2
    meanwhile is lost, so use it only briefly and before a terminal UI owns stderr.
    Caller's thread; not for use while another thread needs stderr.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        os.close(saved)
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
