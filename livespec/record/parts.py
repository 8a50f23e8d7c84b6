"""The files of a recording: part names, the target check, creating a part, the sidecar.

A recording ``OUT.wav`` continues past the split size in ``OUT-002.wav``, ``OUT-003.wav``,
...; its sidecar ``OUT.wav.json`` lists the parts. Each part is created under a hidden
temporary name with its complete header and then given its name atomically, never
replacing a file unless forced. The sidecar is replaced atomically too, or rewritten in
place over reserved space when the disk is full.

Called from the writer thread or the caller's (:mod:`livespec.record.writer`); nothing
here keeps state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import secrets
from pathlib import Path
from typing import NamedTuple

from livespec.errors import EXIT_FAILURE, LivespecError

WAV_MAX_BYTES = 2**32 - 1  # the RIFF size field is 32 bits
DEFAULT_SPLIT_BYTES = 2**32 - 2**20  # 4 GiB - 1 MiB: start the next part before the limit
SFC_SET_UPDATE_HEADER_AUTO = 0x1061  # libsndfile: rewrite the header after every write
SFC_UPDATE_HEADER_NOW = 0x1060  # libsndfile: rewrite the header once, now
SIDECAR_RESERVE = 1024  # trailing spaces kept so the final sidecar fits on a full disk


class RecordingError(LivespecError):
    """A recording cannot start (exists, bad folder: exit 2) or failed (exit 1)."""


def part_path(path: Path, part: int) -> Path:
    """The file of part ``part`` (1-based): ``OUT.wav``, then ``OUT-002.wav``, ..."""
    return path if part == 1 else path.with_name(f"{path.stem}-{part:03d}{path.suffix}")


def sidecar_path(path: Path) -> Path:
    """``OUT.wav`` -> ``OUT.wav.json``."""
    return path.with_name(path.name + ".json")


def default_recording_path(folder: str | Path = ".", now: dt.datetime | None = None) -> Path:
    """``FOLDER/livespec-YYYYmmdd-HHMMSS.wav`` (local time), with ``-2``, ``-3``... added
    if that name is taken."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(folder) / f"livespec-{stamp}.wav"
    k = 1
    path = base
    while path.exists() or sidecar_path(path).exists():
        k += 1
        path = base.with_name(f"{base.stem}-{k}{base.suffix}")
    return path


def check_target(path: Path, force: bool) -> None:
    """Raise :class:`RecordingError` (exit 2) if recording to ``path`` would overwrite a
    file (the WAV, its sidecar or a numbered part) without ``force``, or cannot work."""
    folder = path.parent
    if not folder.is_dir():
        raise RecordingError(f"cannot record to '{path}': folder '{folder}' does not exist")
    if path.is_dir():
        raise RecordingError(f"cannot record to '{path}': it is a folder")
    if force:
        return
    taken = [p for p in (path, sidecar_path(path)) if p.exists()]
    pattern = re.compile(re.escape(path.stem) + r"-\d{3}" + re.escape(path.suffix) + "$")
    with contextlib.suppress(OSError):
        taken += sorted(folder / n for n in os.listdir(folder) if pattern.match(n))
    if taken:
        raise RecordingError(
            f"'{taken[0]}' already exists: not overwriting it (use --force to replace it)"
        )


def utc_iso(t: float) -> str:
    """Seconds since the epoch -> ``2024-05-01T12:00:00.123Z``."""
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def io_reason(exc: BaseException, folder: Path) -> str:
    """One-line cause of a write failure; libsndfile says only "System error.", so a full
    disk is recognised by asking the file system."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{os.strerror(exc.errno)} ({errno.errorcode.get(exc.errno, exc.errno)})"
    with contextlib.suppress(OSError):
        st = os.statvfs(folder)
        if st.f_bavail * st.f_frsize < 65536:
            return f"{os.strerror(errno.ENOSPC)} (ENOSPC)"
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return f"write failed: {text}"


def publish(tmp: Path, path: Path, force: bool) -> None:
    """Give the finished temporary file ``tmp`` the name ``path``, atomically, never
    replacing an existing file unless ``force``."""
    if force:
        os.replace(tmp, path)
        return
    exists = f"'{path}' already exists: not overwriting it (use --force to replace it)"
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise RecordingError(exists) from None
    except OSError:  # no hard links here (FAT, some network file systems)
        if path.exists():
            raise RecordingError(exists) from None
        os.rename(tmp, path)
        return
    os.unlink(tmp)


class Part(NamedTuple):
    """An open part: its soundfile writer, file descriptor and header size in bytes."""

    file: object  # soundfile.SoundFile (untyped library)
    fd: int
    header_bytes: int


def create_part(
    path: Path,
    samplerate: int,
    channels: int,
    subtype: str,
    *,
    split_bytes: int,
    frame_bytes: int,
    force: bool,
) -> Part:
    """Create the WAV file ``path`` with its header update enabled (writer or caller's
    thread).

    The file is made under a hidden temporary name, with its complete header, and then
    given its name atomically (:func:`publish`), so it is readable from the moment it
    exists.

    Raises:
        RecordingError: the file cannot be created or exists (without ``force``), or
            ``split_bytes`` leaves no room for one frame of ``frame_bytes`` bytes.
    """
    import soundfile as sf

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o644)
    except OSError as exc:
        raise RecordingError(f"cannot create '{path}': {exc.strerror or exc}") from None
    f = None
    try:
        try:
            f = sf.SoundFile(
                fd, "w", samplerate, channels, subtype, format="WAV", closefd=False
            )
        except Exception as exc:
            raise RecordingError(f"cannot write '{path}': {exc}", EXIT_FAILURE) from None
        # libsndfile's first header says RIFF size 8 (wave and scipy reject it) until a
        # write; make it right now, and after every write from here on.
        sf._snd.sf_command(f._file, SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, 1)
        sf._snd.sf_command(f._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
        header = os.fstat(fd).st_size
        if (split_bytes - header) // frame_bytes < 1:
            raise RecordingError(f"split size {split_bytes} bytes is below one frame")
        publish(tmp, path, force)
    except BaseException:
        if f is not None:
            with contextlib.suppress(Exception):
                f.close()
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return Part(f, fd, header)


def write_sidecar(path: Path, text: str) -> None:
    """Write the sidecar ``path``: atomically by rename (with :data:`SIDECAR_RESERVE`
    trailing spaces), or in place over that reserved space when the disk is full."""
    raw = text.encode() + b" " * SIDECAR_RESERVE
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if not path.exists():
            raise
        fd = os.open(path, os.O_WRONLY)  # in place: reuses the file's blocks
        try:
            data = text.encode()
            os.pwrite(fd, data + b" " * max(0, os.fstat(fd).st_size - len(data)), 0)
        finally:
            os.close(fd)
