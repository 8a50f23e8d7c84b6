"""Annotations read from and written to files: Audacity label tracks and overlay curves.

Pure parsing, no drawing: the live app, the file browser, the HTML page and the API all
draw what :mod:`livespec.annotate.labels` and :mod:`livespec.annotate.curves` return.
Every user mistake is an :class:`AnnotationError` naming the file and the line.
"""

from __future__ import annotations

from livespec.errors import LivespecError, printable


class AnnotationError(LivespecError):
    """A label or overlay file that cannot be used (exit status 2); the message names the
    file and, where there is one, the line (1-based)."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        where = f"{printable(path)}:{line}" if line is not None else printable(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason
