"""The files of a recording: part names, the target check, creating parts, the switch.

Past ``split_bytes`` (default just under 4 GiB, the WAV limit) a recording ``OUT.wav``
continues in numbered files ``OUT-002.wav``, ``OUT-003.wav``, ... without a gap: every
frame goes to exactly one part, and each part is a plain WAV every reader opens (RF64 is
not readable by ``wave``); the sidecar ``OUT.wav.json`` lists the parts. Each part is
created under a hidden temporary name with its complete header and then given its name
atomically, never replacing a file unless forced.

Called from the writer thread or the caller's (:mod:`livespec.recorder.writer`); nothing
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
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from livespec.errors import EXIT_FAILURE, EXIT_USAGE, LivespecError
from livespec.recorder.sidecar import sidecar_path

WAV_MAX_BYTES = 2**32 - 1  # the RIFF size field is 32 bits
DEFAULT_SPLIT_BYTES = 2**32 - 2**20  # 4 GiB - 1 MiB: start the next part before the limit
SFC_SET_UPDATE_HEADER_AUTO = 0x1061  # libsndfile: rewrite the header after every write
SFC_UPDATE_HEADER_NOW = 0x1060  # libsndfile: rewrite the header once, now


class RecordingError(LivespecError):
    """A recording cannot start (exists, bad folder: exit 2) or failed (exit 1)."""


def part_path(path: Path, part: int) -> Path:
    """The file of part ``part`` (1-based): ``OUT.wav``, then ``OUT-002.wav``, ..."""
    return path if part == 1 else path.with_name(f"{path.stem}-{part:03d}{path.suffix}")


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
        what = (
            f"'{folder}' is not a folder"
            if folder.exists()
            else f"folder '{folder}' does not exist"
        )
        raise RecordingError(f"cannot record to '{path}': {what}")
    if path.is_dir():
        raise RecordingError(f"cannot record to '{path}': it is a folder")
    if force:
        return
    taken = taken_paths(path)
    if taken:
        raise RecordingError(
            f"'{taken[0]}' already exists: not overwriting it (use --force to replace it)"
        )


def taken_paths(path: Path) -> list[Path]:
    """The files a recording to ``path`` would replace: the WAV, its sidecar and any
    numbered part ``OUT-NNN.wav`` of an earlier recording."""
    taken = [p for p in (path, sidecar_path(path)) if p.exists()]
    pattern = re.compile(re.escape(path.stem) + r"-\d{3}" + re.escape(path.suffix) + "$")
    with contextlib.suppress(OSError):
        taken += sorted(path.parent / n for n in os.listdir(path.parent) if pattern.match(n))
    return taken


def set_aside(path: Path) -> list[tuple[Path, Path]]:
    """Before a forced recording to ``path``: rename the files it replaces (see
    :func:`taken_paths`) to hidden ``.NAME.replaced`` files in the same folder, so that a
    recording that fails before its first frame can put them back (:func:`put_back`) and
    one that succeeds deletes them (:func:`discard`). Returns (original, hidden) pairs.
    Caller's thread."""
    moved: list[tuple[Path, Path]] = []
    for p in taken_paths(path):
        hidden = p.with_name(f".{p.name}.replaced")
        if os.path.lexists(hidden):  # an earlier forced take that never finished
            raise RecordingError(
                f"'{hidden}' holds a take set aside by an unfinished --force recording: "
                "rename or remove it first"
            )
    try:
        for p in taken_paths(path):
            hidden = p.with_name(f".{p.name}.replaced")
            os.replace(p, hidden)
            moved.append((p, hidden))
    except OSError as exc:
        put_back(moved)
        raise RecordingError(f"cannot replace '{path}': {io_reason(exc, path.parent)}") from None
    return moved


def put_back(moved: list[tuple[Path, Path]]) -> None:
    """Restore the files :func:`set_aside` moved (over whatever now has their names)."""
    for original, hidden in moved:
        with contextlib.suppress(OSError):
            os.replace(hidden, original)
    moved.clear()


def discard(moved: list[tuple[Path, Path]]) -> None:
    """Delete the files :func:`set_aside` moved: the new recording has replaced them."""
    for _, hidden in moved:
        with contextlib.suppress(OSError):
            hidden.unlink()
    moved.clear()


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


def start_error(path: Path, exc: BaseException) -> RecordingError:
    """The error for ``path`` (the WAV or its sidecar) that cannot be written at the start:
    status 2 where the folder refuses (no permission, read-only), 1 where the disk fails
    (full, an I/O error), as for the WAV itself (:func:`create_part`)."""
    refused = isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    status = EXIT_USAGE if refused else EXIT_FAILURE
    return RecordingError(f"cannot write '{path}': {io_reason(exc, path.parent)}", status)


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


class SoundWriter(Protocol):
    """What the recorder uses of a ``soundfile.SoundFile`` opened for writing."""

    def write(self, data: npt.NDArray[np.float32]) -> None:
        """Append frames."""

    def tell(self) -> int:
        """Frames in the file."""

    def close(self) -> None:
        """Flush and close."""


class Part(NamedTuple):
    """An open part: its soundfile writer, file descriptor and header size in bytes."""

    file: SoundWriter
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
    except OSError as exc:  # no permission, a read-only file system: the user's (2)
        status = EXIT_USAGE if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else 1
        raise RecordingError(
            f"cannot create '{path}': {io_reason(exc, path.parent)}", status
        ) from None
    f: SoundWriter | None = None
    try:
        try:
            snd = sf.SoundFile(fd, "w", samplerate, channels, subtype, format="WAV", closefd=False)
            f = snd
        except Exception as exc:  # libsndfile says "System error.": ask the file system
            raise RecordingError(
                f"cannot write '{path}': {io_reason(exc, path.parent)}", EXIT_FAILURE
            ) from None
        # libsndfile's first header says RIFF size 8 (wave and scipy reject it) until a
        # write; make it right now, and after every write from here on.
        sf._snd.sf_command(snd._file, SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, 1)
        sf._snd.sf_command(snd._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
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
    return Part(snd, fd, header)


class PartWriter:
    """The parts of one recording: frames go to exactly one part, a part holds at most
    ``split_bytes`` bytes, and the next one starts where it is full (writer thread, or the
    caller's while the recording opens and closes).

    Args:
        path: the first part (``OUT.wav``); the others are :func:`part_path`.
        samplerate: Hz.
        channels: channels per frame.
        subtype: libsndfile subtype (``PCM_24``...).
        split_bytes: bytes per part, header included.
        frame_bytes: bytes per frame (all channels).
        force: replace existing files.
    """

    def __init__(
        self,
        path: Path,
        samplerate: int,
        channels: int,
        subtype: str,
        *,
        split_bytes: int,
        frame_bytes: int,
        force: bool,
    ) -> None:
        self.path = path
        self.samplerate = samplerate
        self.channels = channels
        self.subtype = subtype
        self.split_bytes = split_bytes
        self.frame_bytes = frame_bytes
        self.force = force
        self.paths: list[Path] = []
        self.part_frames = 0  # frames in the current part
        self.part_limit = 0  # frames a part may hold
        self.header_bytes = 0
        self.file: SoundWriter | None = None
        self.fd = -1
        self.replaced: list[tuple[Path, Path]] = []  # with force: see set_aside

    @property
    def is_open(self) -> bool:
        """True while a part is open."""
        return self.file is not None

    def open(self, part: int) -> None:
        """Create part ``part`` (1-based) with :func:`create_part` and make it current."""
        path = part_path(self.path, part)
        if part == 1 and self.force:
            self.replaced = set_aside(self.path)
        try:
            f, fd, header = create_part(
                path,
                self.samplerate,
                self.channels,
                self.subtype,
                split_bytes=self.split_bytes,
                frame_bytes=self.frame_bytes,
                force=self.force,
            )
        except BaseException:
            put_back(self.replaced)
            raise
        self.file, self.fd = f, fd
        self.paths.append(path)
        self.header_bytes = header
        self.part_frames = 0
        self.part_limit = (self.split_bytes - header) // self.frame_bytes

    def room(self, frames: int) -> int:
        """How many of ``frames`` frames the current part takes, starting the next part
        first if the current one is full."""
        if self.part_frames >= self.part_limit:
            self.close()
            self.open(len(self.paths) + 1)
        return min(frames, self.part_limit - self.part_frames)

    def write(self, block: npt.NDArray[np.float32]) -> None:
        """Append ``block`` to the current part (at most :meth:`room` frames)."""
        assert self.file is not None
        self.file.write(block)
        self.part_frames += len(block)

    def recover(self) -> int:
        """After a failed write: the frames libsndfile wrote anyway (counted into the part);
        may raise whatever the library raises."""
        if self.file is None:
            return 0
        done = int(self.file.tell()) - self.part_frames
        if done > 0:
            self.part_frames += done
        return done

    def fsync(self) -> bool:
        """``fsync`` the current part; False if none is open."""
        if self.fd < 0:
            return False
        os.fsync(self.fd)
        return True

    def abandon(self) -> None:
        """Close and delete the parts of a recording that failed before its first frame,
        and put back the files a forced recording set aside."""
        self.close()
        for p in self.paths:
            with contextlib.suppress(OSError):
                p.unlink()
        put_back(self.replaced)

    def close(self) -> None:
        """Flush, close and release the current part (the header is already right)."""
        f, self.file = self.file, None
        fd, self.fd = self.fd, -1
        if f is None:
            return
        try:
            f.close()
            os.fsync(fd)
        finally:
            os.close(fd)
