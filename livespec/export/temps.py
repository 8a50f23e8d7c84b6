"""The temporary files of ``livespec export``: their names, and removing the ones a killed
run left behind.

Every output is written to a hidden file next to it, ``.NAME.livespec-PID-XXXXXXXX.part``
(CSV rows also spill to a ``.spill`` file), and renamed into place when complete. The
name says that livespec made it and which process owns it, so a later run can remove the
ones whose process is gone (``kill -9``, a crash, a power cut) and nothing else: a
temporary file of a run that is still going (its process exists) is left alone, and so is
every file with any other name.

On Dask workers (``--scheduler``, :mod:`.cluster`) the pid in the name is the export
process's, not the worker's (:func:`owned_by`): a worker may be on another machine, and
the export removes its own run's leftovers, those of workers killed meanwhile included,
once every job has ended (:func:`remove_owned`); the next run on the export's machine
removes those of an export that was killed.

Any thread; no state but the owner of a task's temporary files (a context variable).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

TEMP_SUFFIXES = (".part", ".spill")
NAME_MAX = 255  # bytes in a file name (Linux, macOS)
_TEMP = re.compile(
    r"^\.(?P<name>.+)\.livespec-(?P<pid>[1-9][0-9]{0,9})-[0-9a-f]{8}\.(?:part|spill)$"
)


_OWNER: contextvars.ContextVar[int | None] = contextvars.ContextVar("livespec_temp_owner")


@contextlib.contextmanager
def owned_by(pid: int) -> Iterator[None]:
    """Name the temporary files made in this thread (context) inside the block as owned by
    process ``pid`` instead of this one (a Dask task: the export process's pid)."""
    token = _OWNER.set(pid)
    try:
        yield
    finally:
        _OWNER.reset(token)


def temp_name(path: Path, suffix: str = ".part") -> Path:
    """A new name for a temporary file next to ``path``, owned by this process (or by the
    pid of an enclosing :func:`owned_by`). ``path``'s name is cut short (at a character)
    where the whole would pass NAME_MAX (255 bytes): a long output name stays writable."""
    if suffix not in TEMP_SUFFIXES:
        raise ValueError(f"temporary suffix {suffix!r}")
    pid = _OWNER.get(None) or os.getpid()
    tail = f".livespec-{pid}-{os.urandom(4).hex()}{suffix}"
    room = NAME_MAX - 1 - len(tail.encode())
    name = os.fsencode(path.name)[:room].decode("utf-8", "ignore") or "x"
    return path.with_name(f".{name}{tail}")


def make_folder(folder: Path) -> None:
    """``folder`` and its parents, created if missing. Raises NotADirectoryError naming
    the file in the way when the name (or a parent's) is a file (mkdir's "File exists")."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        taken = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        if taken.is_dir():
            raise
        what = "a file has that name" if taken == folder else f"{taken} is a file"
        msg = f"cannot make the folder {folder}: {what}"
        raise NotADirectoryError(errno.ENOTDIR, msg) from None


def create_temp(path: Path, suffix: str = ".part") -> tuple[io.BufferedRandom, Path]:
    """A new hidden file next to ``path`` (permissions as for any new file: 0666 & ~umask)."""
    make_folder(path.parent)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = temp_name(path, suffix)
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        return os.fdopen(fd, "w+b"), tmp
    raise FileExistsError(f"cannot create a temporary file next to {path}")


def output_of(path: str) -> str:
    """The output a temporary file (:func:`temp_name`) stands for, for messages (a user
    never asked for ``.x.npy.livespec-PID-XXXXXXXX.part``); any other path as it is."""
    folder, _, name = path.rpartition(os.sep)
    m = _TEMP.match(name)
    if m is None:
        return path
    return f"{folder}{os.sep}{m.group('name')}" if folder else m.group("name")


def owner(name: str) -> int | None:
    """The pid in a livespec temporary file's name, or None for any other name."""
    m = _TEMP.match(name)
    return int(m.group("pid")) if m else None


def pid_alive(pid: int) -> bool:
    """True if process ``pid`` exists on this machine (or might: when in doubt, alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale(folder: Path) -> int:
    """Remove the livespec temporary files in ``folder`` whose owning process is gone;
    returns how many. Errors (a folder that is missing or unreadable, a file that cannot
    be removed) are ignored: this is housekeeping."""
    return _remove(folder, lambda pid: not pid_alive(pid))


def remove_owned(folder: Path, pid: int) -> int:
    """Remove the livespec temporary files in ``folder`` owned by process ``pid`` (a Dask
    export's own, once none of its jobs runs any more); returns how many."""
    return _remove(folder, lambda owner_pid: owner_pid == pid)


def _remove(folder: Path, stale: Callable[[int], bool]) -> int:
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        pid = owner(name)
        if pid is None or not stale(pid):
            continue
        p = folder / name
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed += 1
    return removed


WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}  # errors of a write()


def error_place(exc: OSError, outputs: Sequence[Path], *, clips: bool = False) -> str:
    """The output an export's OSError concerns, for its line: `` (OUT)`` from the error's
    file name (a temporary file named as the output it stands for), else for a failed
    write, which names no file (no space, an I/O error), the job's one output or
    `` (writing into FOLDER)`` for several (or ``clips``); else nothing."""
    name = exc.filename2 or exc.filename  # (a rename's destination)
    if name:
        return f" ({output_of(str(name))})"
    if exc.errno not in WRITE_ERRNOS or not outputs:
        return ""
    if len(set(outputs)) == 1 and not clips:
        return f" ({outputs[0]})"
    folders = {p.parent for p in outputs}
    return f" (writing into {folders.pop()})" if len(folders) == 1 else ""
