"""The file browser's failures: the file found damaged while its columns are computed (a
decoder that loses sync, a sample that is NaN), and the playback's failure (the output
device gone, a sample that cannot be played). Each is said once in a notification, kept,
and printed as one line on stderr after the browser ended, with exit status 1
(:func:`exit_status`), as the live app does after its source failed. UI thread unless
noted.
"""

from __future__ import annotations

import sys
from typing import Protocol

from livespec.audio.playback import Playback
from livespec.errors import EXIT_FAILURE, printable
from livespec.tui.controllers.host import Host


class Columns(Protocol):
    """Where the damage is found (:class:`~livespec.tui.controllers.browse.BrowseData`)."""

    def error(self) -> BaseException | None:
        """A worker's failure, if any."""


class Faults:
    """The failures of one browser run, first of each kind (UI thread).

    Args:
        host: the app (notifications).
        name: the file's path as given (escaped when shown).
        data: the columns' workers.
        playback: the play position (silent or the sound card).
    """

    def __init__(self, host: Host, name: str, data: Columns, playback: Playback) -> None:
        self.host, self.name, self.data, self.playback = host, name, data, playback
        self.damage: str | None = None  # "PATH: what is damaged", escaped
        self.failure: str | None = None  # the playback's, escaped

    def check(self) -> None:
        """Notice a new failure and say it in a notification (each kind once)."""
        err = self.data.error()
        if err is not None and self.damage is None:
            self.damage = printable(f"{self.name}: {err}")
            self.host.notify(self.damage, severity="error", timeout=30)
        if self.failure is None and self.note_playback():
            self.host.notify(self.failure or "", severity="error", timeout=30)

    def note_playback(self) -> bool:
        """Keep the playback's first failure in :attr:`failure` (without saying it); True
        when there is one."""
        said = self.playback.error
        if self.failure is None and said is not None:
            self.failure = printable(said)
        return self.failure is not None

    def lines(self) -> list[str]:
        """What is printed at exit: the damage, then the playback's failure (one line
        each; the same text once)."""
        out = [x for x in (self.damage, self.failure) if x is not None]
        return out[:1] if len(out) == 2 and out[0] == out[1] else out


def exit_status(faults: Faults, return_code: int | None, status: int | None) -> int:
    """The browser's exit status after it ended (main thread): a failure (the file damaged,
    the playback failed) prints its one line on stderr and makes it 1; a stop signal's
    status (129, 143) stays. ``return_code``: the app's; ``status``: what ``run`` gave."""
    lines = faults.lines()
    for line in lines:
        sys.stderr.write(f"livespec: {line}\n")
    if return_code not in (None, 0):
        return int(return_code)
    if lines:
        return EXIT_FAILURE
    return int(status or 0)
