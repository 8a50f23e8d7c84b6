"""Saving the screen as SVG (the ``S`` key, in the live app and the file browser).

Textual's :meth:`App.save_screenshot` writes what the terminal shows, colours and all, into
the recording folder (``--record-dir``, else :func:`livespec.config.default_record_dir`),
under a new name; a notice names the file. UI thread.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual.app import App

from livespec.config import default_record_dir
from livespec.errors import printable


def screenshot_path(folder: Path, stem: str, clock: float) -> Path:
    """A new SVG name in ``folder``: ``STEM-YYYYmmdd-HHMMSS.svg`` (``-1``, ``-2`` ... when
    taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock))
    path = folder / f"{stem}-{stamp}.svg"
    k = 1
    while path.exists():
        path = folder / f"{stem}-{stamp}-{k}.svg"
        k += 1
    return path


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` (never one that exists: FileExistsError);
    on a failed write (a full disk) the partial file is removed, not left as an empty or
    cut-short SVG."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def save_screen(app: App[int], record_dir: str | None, stem: str = "livespec") -> Path | None:
    """Save the screen as SVG in the recording folder and say where (a notice); an error
    notice when the folder cannot be written. Returns the file, or None."""
    folder = Path(record_dir) if record_dir else default_record_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(13, "permission denied")
        path = screenshot_path(folder, stem, time.time())
        write_new(path, app.export_screenshot().encode("utf-8"))
    except OSError as exc:
        app.notify(
            f"Cannot save the screen in {printable(str(folder))}: {exc.strerror or exc}",
            severity="error",
            timeout=6,
        )
        return None
    app.notify(f"Screen saved: {printable(str(path))}", title="SVG", timeout=5)
    return path
