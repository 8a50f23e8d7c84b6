"""The WAV writer: a thread with its own reader on the ring buffer.

The audio callback never waits on the disk: it writes into the ring and nothing else. The
:class:`Recorder` thread follows the ring with its own :class:`RingReader`; a slow disk makes
only the writer fall behind. If it falls so far behind that the producer overwrites frames
it has not written yet, the loss is counted, listed in the sidecar and filled with silence
of the exact length, so the file's timeline stays true.

Crash safety: libsndfile's automatic header update (``SFC_SET_UPDATE_HEADER_AUTO``) rewrites
the RIFF and data sizes after every write, so after ``kill -9`` soundfile, scipy.io.wavfile
and Python's ``wave`` (PCM only: it cannot read float WAV) read everything written so far.
The writer writes at least every ``poll_s`` seconds.

Past ``split_bytes`` (default just under 4 GiB, the WAV limit) the recording continues in
numbered files ``OUT-002.wav``, ``OUT-003.wav``, ... without a gap: every frame goes to
exactly one part, and each part is a plain WAV every reader opens (RF64 is not readable by
``wave``). The sidecar ``OUT.wav.json`` lists the parts.

Nothing here imports a TUI. Errors a user can cause raise :class:`RecordingError` (one
line); errors while recording stop the recording and are kept in :attr:`Recorder.error`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from livespec import __version__
from livespec.audio.ringbuffer import RingBuffer
from livespec.errors import EXIT_FAILURE, LivespecError

SUBTYPES: dict[str, int] = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}  # bytes/sample
WAV_MAX_BYTES = 2**32 - 1  # the RIFF size field is 32 bits
DEFAULT_SPLIT_BYTES = 2**32 - 2**20  # 4 GiB - 1 MiB: start the next part before the limit
SFC_SET_UPDATE_HEADER_AUTO = 0x1061  # libsndfile: rewrite the header after every write
SFC_UPDATE_HEADER_NOW = 0x1060  # libsndfile: rewrite the header once, now
SIDECAR_RESERVE = 1024  # trailing spaces kept so the final sidecar fits on a full disk
MAX_LISTED_GAPS = 100


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


def _utc_iso(t: float) -> str:
    """Seconds since the epoch -> ``2024-05-01T12:00:00.123Z``."""
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _io_reason(exc: BaseException, folder: Path) -> str:
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


def _publish(tmp: Path, path: Path, force: bool) -> None:
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


class Recorder:
    """Writes the ring's audio to a WAV file from its own thread.

    Args:
        ring: the ring the source writes to.
        samplerate: Hz.
        channels: channels per frame (the ring's).
        path: the WAV file (the first part).
        subtype: ``PCM_16``, ``PCM_24``, ``PCM_32`` or ``FLOAT``.
        preroll_s: seconds before "now" the file starts, taken from the ring (capped to
            what the ring still holds).
        split_bytes: bytes per file before the next numbered part starts (at most
            :data:`WAV_MAX_BYTES`; lower it to test the switch).
        sidecar_info: extra keys for the sidecar (device, hostapi, source, analysis...).
        force: overwrite existing files.
        max_frames: stop by itself after this many frames past the start moment (the
            pre-roll comes on top); None: until :meth:`stop`.
        overflows: returns the source's input-overflow count (for the sidecar and status).
        poll_s: seconds the thread sleeps when it has caught up.
        chunk_frames: frames per write (default 0.1 s).
        fsync_s: seconds between ``fsync`` calls (0 = never; protects against power loss).
        before_write: test hook, called on the writer thread with the frame count before
            every file write (inject a delay or raise an ``OSError``).
    """

    def __init__(
        self,
        ring: RingBuffer,
        samplerate: int,
        channels: int,
        path: str | Path,
        subtype: str = "PCM_24",
        preroll_s: float = 0.0,
        split_bytes: int = DEFAULT_SPLIT_BYTES,
        sidecar_info: Mapping[str, Any] | None = None,
        force: bool = False,
        *,
        max_frames: int | None = None,
        overflows: Callable[[], int] | None = None,
        poll_s: float = 0.05,
        chunk_frames: int | None = None,
        fsync_s: float = 2.0,
        before_write: Callable[[int], None] | None = None,
    ) -> None:
        subtype = subtype.upper()
        if subtype not in SUBTYPES:
            raise RecordingError(f"subtype '{subtype}': use one of {', '.join(SUBTYPES)}")
        if channels != ring.channels:
            raise ValueError(f"ring has {ring.channels} channel(s), recorder {channels}")
        if not preroll_s >= 0:
            raise RecordingError(f"pre-roll {preroll_s:g} s: must not be negative")
        if not 0 < split_bytes <= WAV_MAX_BYTES:
            raise RecordingError(f"split size {split_bytes}: must be 1..{WAV_MAX_BYTES} bytes")
        self.ring = ring
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.path = Path(path)
        self.subtype = subtype
        self.preroll_requested_s = float(preroll_s)
        self.split_bytes = int(split_bytes)
        self.sidecar_info = dict(sidecar_info or {})
        self.force = force
        self.max_frames = max_frames
        self._overflows = overflows
        self.poll_s = poll_s
        self.fsync_s = fsync_s
        self._before_write = before_write
        self.frame_bytes = SUBTYPES[subtype] * self.channels
        chunk = chunk_frames or max(256, self.samplerate // 10)
        self._buf: npt.NDArray[np.float32] = np.zeros((chunk, self.channels), np.float32)
        self._zeros: npt.NDArray[np.float32] = np.zeros((chunk, self.channels), np.float32)
        self._reader = ring.reader()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop_at: int | None = None
        self._sf: Any = None
        self._fd = -1
        self._opened = False
        self._closed = False
        self._last_fsync = 0.0
        self._next_sidecar = time.monotonic() + 10.0
        self.paths: list[Path] = []
        self.part_frames = 0  # frames in the current part
        self.part_limit = 0  # frames a part may hold
        self.header_bytes = 0
        self.start_index = 0  # ring index of the file's first frame
        self.open_index = 0  # ring index of the start moment (after the pre-roll)
        self.start_time = 0.0  # epoch seconds of the file's first frame
        self.preroll_s = 0.0  # pre-roll actually taken
        self.frames_written = 0  # frames in the file(s), silence included
        self.gaps = 0
        self.lost_frames = 0
        self.gap_list: list[dict[str, float | int]] = []
        self.level_dbfs = -math.inf  # peak of the last chunk written
        self.overflows_at_start = 0
        self.ended_by = ""
        self.error: str | None = None  # one line, once the recording failed

    # -- caller's thread -------------------------------------------------------------------

    def open(self) -> None:
        """Create the file (never overwriting without ``force``) and place the reader
        ``preroll_s`` back in the ring. Caller's thread; :meth:`start` calls it.

        Raises:
            RecordingError: the file exists (exit 2), the folder is missing (2), or the
                file cannot be created (2).
        """
        if self._opened:
            return
        check_target(self.path, self.force)
        ring = self.ring
        now_index = self.open_index = ring.written
        want = round(self.preroll_requested_s * self.samplerate)
        # a margin, so that the producer does not overwrite the oldest frames at once
        margin = min(ring.capacity // 4, self.samplerate // 2)
        oldest = max(ring.oldest(), now_index - (ring.capacity - margin))
        self.start_index = max(oldest, now_index - want, 0)
        self._reader.position = self.start_index
        self.preroll_s = (now_index - self.start_index) / self.samplerate
        self.start_time = time.time() - self.preroll_s
        if self._overflows is not None:
            self.overflows_at_start = self._overflows()
        self._open_part(1)
        self._opened = True
        try:
            self._write_sidecar(complete=False)
        except OSError as exc:
            self._closed = True
            self._done.set()
            self._close_part()
            raise RecordingError(
                f"cannot write '{sidecar_path(self.path)}': {_io_reason(exc, self.path.parent)}"
            ) from None

    def start(self) -> None:
        """Open the file if needed and start the writer thread (caller's thread)."""
        self.open()
        self._thread = threading.Thread(target=self._run, name="livespec-recorder")
        self._thread.start()

    def request_stop(self, reason: str = "stop") -> None:
        """Ask the writer to write everything up to the ring's newest frame, then finish.
        Returns at once (any thread); :meth:`stop` waits."""
        if self._stop_at is None:
            self._stop_at = self.ring.written
            self.ended_by = self.ended_by or reason
        self._stop.set()

    def stop(self, reason: str = "stop") -> None:
        """Write everything up to now, finalise and close the file, join the thread.

        Idempotent; any thread but the writer's. Without :meth:`start`, the caller's
        thread does the writing (see :meth:`drain`).
        """
        self.request_stop(reason)
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join()
        elif t is None and self._opened and not self._closed:
            try:
                while self.error is None and self._step():
                    pass
            finally:
                self._finish()

    def drain(self) -> int:
        """Write every frame available now from the caller's thread (no writer thread);
        returns frames written. For synchronous, lossless loops."""
        total = 0
        while self.error is None and not self._done.is_set():
            n = self._step()
            if n == 0:
                break
            total += n
        return total

    # -- status (any thread) ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the file is finalised."""
        return self._opened and not self._done.is_set()

    @property
    def finished(self) -> bool:
        """True once the file is closed (stopped, ``max_frames`` reached, or failed)."""
        return self._done.is_set()

    @property
    def elapsed_s(self) -> float:
        """Seconds of audio in the file(s), pre-roll and silence-filled gaps included."""
        return self.frames_written / self.samplerate

    @property
    def file_size(self) -> int:
        """Bytes in all parts (headers included)."""
        return len(self.paths) * self.header_bytes + self.frames_written * self.frame_bytes

    @property
    def overflows(self) -> int:
        """Input overflows the source reported since the recording started."""
        return 0 if self._overflows is None else self._overflows() - self.overflows_at_start

    @property
    def position(self) -> int:
        """Ring index of the next frame to write."""
        return self._reader.position

    def oldest_needed(self) -> int:
        """For ``BlockSource.set_backpressure``: the oldest ring frame not yet written."""
        return self._reader.position if not self._done.is_set() else self.ring.written

    def status_text(self) -> str:
        """One line for a status bar: state, elapsed time, level, losses, size, file."""
        t = int(self.elapsed_s)
        clock = f"{t // 3600}:{t // 60 % 60:02d}:{t % 60:02d}"
        name = self.paths[-1].name if self.paths else self.path.name
        if self.error is not None:
            return f"REC failed at {clock}: {self.error}"
        state = "REC" if not self._done.is_set() else "saved"
        level = f"{self.level_dbfs:6.1f} dBFS" if self.level_dbfs > -120 else "  -inf dBFS"
        parts = [f"{state} {clock}", level, f"overflows {self.overflows}"]
        if self.lost_frames:
            parts.append(f"lost {self.lost_frames / self.samplerate:.3f} s in {self.gaps} gap(s)")
        parts += [f"{self.file_size / 1e6:.1f} MB", name]
        return "  ".join(parts)

    # -- writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        """Writer thread: write what the ring holds, sleep ``poll_s`` when caught up."""
        try:
            while self.error is None and not self._done.is_set():
                stopping = self._stop.is_set()
                if self._step() == 0:
                    if stopping:
                        break
                    self._stop.wait(self.poll_s)
        except BaseException as exc:  # never lose the file: record the error and finish
            self.error = f"recording to '{self.path}' stopped: {type(exc).__name__}: {exc}"
        finally:
            self._finish()

    def _at_max(self) -> bool:
        return (
            self.max_frames is not None
            and self._reader.position >= self.open_index + self.max_frames
        )

    def _target(self) -> int:
        """Ring index up to which the writer should write now."""
        end = self.ring.written
        if self._stop_at is not None:
            end = min(end, self._stop_at)
        if self.max_frames is not None:
            end = min(end, self.open_index + self.max_frames)
        return end

    def _step(self) -> int:
        """Write one chunk (and any silence for lost frames before it); return the frames
        it advanced, 0 when caught up or finished. Writer thread (or :meth:`drain`)."""
        if self._done.is_set() or self.error is not None:
            return 0
        end = self._target()
        reader = self._reader
        if reader.position >= end:
            if self._at_max():
                self.ended_by = self.ended_by or "duration"
                self._finish()
            return 0
        n, lost = reader.read_into(self._buf[: min(len(self._buf), end - reader.position)])
        over = reader.position - end  # skipping lost frames can pass the end; clip it
        if over > 0:
            cut = min(over, n)
            n -= cut
            lost -= over - cut
            reader.position = end
        try:
            if lost > 0:
                self._lost(lost)
            if n > 0:
                block = self._buf[:n]
                peak = float(np.max(np.abs(block)))
                self.level_dbfs = 20.0 * math.log10(peak) if peak > 1e-6 else -math.inf
                self._write(block)
            self._housekeeping()
        except Exception as exc:
            self._failed(exc)
            return 0
        return n + max(lost, 0)

    def _lost(self, lost: int) -> None:
        """Count a gap of ``lost`` frames and fill it with exactly as much silence."""
        self.gaps += 1
        self.lost_frames += lost
        if len(self.gap_list) < MAX_LISTED_GAPS:
            self.gap_list.append(
                {
                    "at_s": round(self.frames_written / self.samplerate, 6),
                    "at_frame": self.frames_written,
                    "frames": lost,
                }
            )
        while lost > 0:
            k = min(lost, len(self._zeros))
            self._write(self._zeros[:k])
            lost -= k

    def _write(self, block: npt.NDArray[np.float32]) -> None:
        """Append ``block`` to the file, starting the next part where the current is full."""
        while len(block):
            if self.part_frames >= self.part_limit:
                self._close_part()
                self._open_part(len(self.paths) + 1)
            k = min(len(block), self.part_limit - self.part_frames)
            if self._before_write is not None:
                self._before_write(k)
            self._sf.write(block[:k])
            self.part_frames += k
            self.frames_written += k
            block = block[k:]

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.fsync_s > 0 and now - self._last_fsync >= self.fsync_s and self._fd >= 0:
            os.fsync(self._fd)
            self._last_fsync = now
        if now >= self._next_sidecar:  # keep the sidecar near the truth in case of a crash
            self._next_sidecar = now + 10.0
            with contextlib.suppress(OSError):
                self._write_sidecar(complete=False)

    def _failed(self, exc: BaseException) -> None:
        """A write failed: keep one line naming the file and the cause, then finish."""
        name = self.paths[-1] if self.paths else self.path
        if self._sf is not None:  # libsndfile may have written part of the block
            with contextlib.suppress(Exception):
                done = int(self._sf.tell()) - self.part_frames
                if done > 0:
                    self.part_frames += done
                    self.frames_written += done
        reason = _io_reason(exc, name.parent)
        self.error = f"recording to '{name}' stopped after {self.elapsed_s:.1f} s: {reason}"
        self.ended_by = "error"
        self._finish()

    # -- files -------------------------------------------------------------------------------

    def _open_part(self, part: int) -> None:
        """Create part ``part`` and enable the header update (writer or caller's thread).

        The file is made under a hidden temporary name, with its complete header, and then
        given its name atomically: a hard link, which never replaces an existing file, or
        a rename with ``force``. So the file is readable from the moment it exists.
        """
        import soundfile as sf

        path = part_path(self.path, part)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(tmp, flags, 0o644)
        except OSError as exc:
            raise RecordingError(f"cannot create '{path}': {exc.strerror or exc}") from None
        f: Any = None
        try:
            try:
                f = sf.SoundFile(
                    fd,
                    "w",
                    self.samplerate,
                    self.channels,
                    self.subtype,
                    format="WAV",
                    closefd=False,
                )
            except Exception as exc:
                raise RecordingError(f"cannot write '{path}': {exc}", EXIT_FAILURE) from None
            # libsndfile's first header says RIFF size 8 (wave and scipy reject it) until a
            # write; make it right now, and after every write from here on.
            sf._snd.sf_command(f._file, SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, 1)
            sf._snd.sf_command(f._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
            header = os.fstat(fd).st_size
            if (self.split_bytes - header) // self.frame_bytes < 1:
                raise RecordingError(f"split size {self.split_bytes} bytes is below one frame")
            _publish(tmp, path, self.force)
        except BaseException:
            if f is not None:
                with contextlib.suppress(Exception):
                    f.close()
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self._sf, self._fd = f, fd
        self.paths.append(path)
        self.header_bytes = header
        self.part_frames = 0
        self.part_limit = (self.split_bytes - header) // self.frame_bytes

    def _close_part(self) -> None:
        """Flush, close and release the current part (the header is already right)."""
        f, self._sf = self._sf, None
        fd, self._fd = self._fd, -1
        if f is None:
            return
        try:
            f.close()
            os.fsync(fd)
        finally:
            os.close(fd)

    def _finish(self) -> None:
        """Close the file and write the final sidecar; runs once (writer thread, or the
        caller's thread without one)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._sf is not None:
                try:
                    self._close_part()
                except Exception as exc:
                    if self.error is None:
                        self.error = (
                            f"recording to '{self.paths[-1]}': closing failed: "
                            f"{_io_reason(exc, self.path.parent)}"
                        )
            self.ended_by = self.ended_by or "stop"
            try:
                self._write_sidecar(complete=True)
            except OSError as exc:
                if self.error is None:
                    self.error = (
                        f"cannot write '{sidecar_path(self.path)}': "
                        f"{_io_reason(exc, self.path.parent)}"
                    )
        finally:
            self._done.set()

    def sidecar(self, complete: bool) -> dict[str, Any]:
        """The sidecar's content now (any thread)."""
        data: dict[str, Any] = {
            "file": self.path.name,
            "parts": [p.name for p in self.paths],
            "format": "WAV",
            "subtype": self.subtype,
            "samplerate": self.samplerate,
            "channels": self.channels,
            "start_utc": _utc_iso(self.start_time),
            "duration_s": round(self.elapsed_s, 6),
            "frames": self.frames_written,
            "preroll_s": round(self.preroll_s, 6),
            "overflows": self.overflows,
            "gaps": self.gaps,
            "lost_frames": self.lost_frames,
            "gap_list": list(self.gap_list),
            "complete": complete,
            "ended_by": self.ended_by or None,
            "error": self.error,
            "split_bytes": self.split_bytes,
            "livespec_version": __version__,
        }
        for key, value in self.sidecar_info.items():
            data.setdefault(key, value)
        return data

    def _write_sidecar(self, complete: bool) -> None:
        """Write ``OUT.wav.json``: atomically by rename, or in place over the reserved
        space when the disk is full."""
        path = sidecar_path(self.path)
        text = json.dumps(self.sidecar(complete), indent=2) + "\n"
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


def start_recording(
    ring: RingBuffer,
    source: Any,
    *,
    path: str | Path | None = None,
    folder: str | Path = ".",
    preroll_s: float = 3.0,
    subtype: str = "PCM_24",
    analysis: Any = None,
    force: bool = False,
    split_bytes: int = DEFAULT_SPLIT_BYTES,
) -> Recorder:
    """Start recording ``source``'s audio from ``ring`` (caller's thread, e.g. the app's).

    Args:
        ring: the ring the source writes to.
        source: a started :class:`~livespec.audio.base.Source` (rate, channels, overflows).
        path: the WAV file; None names it ``livespec-YYYYmmdd-HHMMSS.wav`` in ``folder``.
        preroll_s: seconds of the past to include (capped to what the ring holds).
        analysis: an ``AnalysisConfig`` (or dict) stored in the sidecar.

    Returns the running :class:`Recorder`; call ``stop()`` (or ``request_stop()`` then
    ``stop()``) to finalise it, on every exit path.

    Raises:
        RecordingError: the file exists (without ``force``), the folder is missing, or
            the file cannot be created; one line, exit status 2.
    """
    import dataclasses

    target = Path(path) if path is not None else default_recording_path(folder)
    info = getattr(source, "info", None)
    settings = analysis
    if dataclasses.is_dataclass(analysis) and not isinstance(analysis, type):
        settings = dataclasses.asdict(analysis)
    rec = Recorder(
        ring,
        source.samplerate,
        source.channels,
        target,
        subtype=subtype,
        preroll_s=preroll_s,
        split_bytes=split_bytes,
        sidecar_info={
            "device": getattr(info, "name", None),
            "hostapi": getattr(info, "hostapi", None),
            "source": getattr(source, "description", ""),
            "analysis": settings,
        },
        force=force,
        overflows=lambda: int(source.overflows),
    )
    rec.start()
    return rec
