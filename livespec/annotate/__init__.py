"""Annotations read from and written to files: Audacity label tracks and overlay curves.

Pure parsing, no drawing: the live app, the file browser, the HTML page and the API all
draw what :mod:`livespec.annotate.labels` and :mod:`livespec.annotate.curves` return.
Every user mistake is an :class:`AnnotationError` naming the file and the line.
"""

from __future__ import annotations

import os

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


def read_text(path: str | os.PathLike[str], limit: int) -> tuple[str, str]:
    """(the file's name, its UTF-8 text) for a label or overlay file of at most ``limit``
    bytes; raises :class:`AnnotationError` naming the file (and the line of bad UTF-8)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise AnnotationError(name, None, exc.strerror or "cannot be read") from None
    if len(data) > limit:
        raise AnnotationError(name, None, f"larger than {limit >> 20} MiB")
    try:
        return name, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AnnotationError(name, line, "not UTF-8 text") from None
