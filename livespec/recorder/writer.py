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

Past ``split_bytes`` the recording continues in numbered parts (:mod:`.parts`); the
sidecar ``OUT.wav.json`` (:mod:`.sidecar`) lists them.

Nothing here imports a TUI. Errors a user can cause raise :class:`RecordingError` (one
line); errors while recording stop the recording and are kept in :attr:`Recorder.error`.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from livespec.audio.ringbuffer import RingBuffer
from livespec.recorder.drops import DropLog, Losses
from livespec.recorder.parts import (
    DEFAULT_SPLIT_BYTES,
    WAV_MAX_BYTES,
    PartWriter,
    discard,
    io_reason,
    start_error,
)

# The "X as X" imports re-export names that callers (cli/record.py, cli/stream.py, the
# TUI's recording controller) import from here; their homes are .parts, .sidecar, .start.
from livespec.recorder.parts import RecordingError as RecordingError
from livespec.recorder.parts import check_target as check_target
from livespec.recorder.sidecar import save_sidecar, sidecar_content, status_line
from livespec.recorder.sidecar import sidecar_path as sidecar_path

SUBTYPES: dict[str, int] = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}  # bytes/sample
MAX_LISTED_GAPS = 100


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
        drops: the source, for the losses it found that the sound system did not flag
            (``drops``, ``drop_hold``): each becomes silence and a ``gap_list`` entry
            (:mod:`.drops`).
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
        sidecar_info: Mapping[str, object] | None = None,
        force: bool = False,
        *,
        max_frames: int | None = None,
        overflows: Callable[[], int] | None = None,
        drops: Losses | None = None,
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
        self.gap_list: list[dict[str, object]] = []
        self.drops = DropLog(drops, self.samplerate, self.gap_list)
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
        self._parts = PartWriter(
            self.path,
            self.samplerate,
            self.channels,
            subtype,
            split_bytes=self.split_bytes,
            frame_bytes=self.frame_bytes,
            force=force,
        )
        self._opened = False
        self._closed = False
        self._last_fsync = 0.0
        self._next_sidecar = time.monotonic() + 10.0
        self.start_index = 0  # ring index of the file's first frame
        self.open_index = 0  # ring index of the start moment (after the pre-roll)
        self.start_time = 0.0  # epoch seconds of the file's first frame
        self.preroll_s = 0.0  # pre-roll actually taken
        self.frames_written = 0  # frames in the file(s), silence included
        self.gaps = 0
        self.lost_frames = 0
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
        self.drops.open()
        self._parts.open(1)
        self._opened = True
        try:
            save_sidecar(self, complete=False)
        except OSError as exc:
            self._closed = True
            self._done.set()
            self._parts.abandon()
            raise start_error(sidecar_path(self.path), exc) from None

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
        return len(self.paths) * self._parts.header_bytes + self.frames_written * self.frame_bytes

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
        return status_line(self)

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
        reader = self._reader
        if fill := self.drops.due(reader.position, self.frames_written, self.start_index):
            try:  # input the sound system dropped (:mod:`.drops`)
                return self._silence(fill)
            except Exception as exc:
                self._failed(exc)
                return 0
        end = self.drops.limit(reader.position, self._target(), self._stop.is_set())
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
        self._silence(lost)

    def _silence(self, n: int) -> int:
        """Write ``n`` frames of digital silence; return ``n``."""
        for k in range(0, n, len(self._zeros)):
            self._write(self._zeros[: min(n - k, len(self._zeros))])
        return n

    def _write(self, block: npt.NDArray[np.float32]) -> None:
        """Append ``block`` to the file, starting the next part where the current is full."""
        while len(block):
            parts = len(self.paths)
            k = self._parts.room(len(block))
            if len(self.paths) != parts:  # a new part: list it at once (kill -9 safe)
                with contextlib.suppress(OSError):
                    save_sidecar(self, complete=False)
            if self._before_write is not None:
                self._before_write(k)
            self._parts.write(block[:k])
            self.frames_written += k
            block = block[k:]

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.fsync_s > 0 and now - self._last_fsync >= self.fsync_s and self._parts.fsync():
            self._last_fsync = now
        if now >= self._next_sidecar:  # keep the sidecar near the truth in case of a crash
            self._next_sidecar = now + 10.0
            with contextlib.suppress(OSError):
                save_sidecar(self, complete=False)

    def _failed(self, exc: BaseException) -> None:
        """A write failed: keep one line naming the file and the cause, then finish."""
        name = self.paths[-1] if self.paths else self.path
        with contextlib.suppress(Exception):  # libsndfile may have written part of the block
            done = self._parts.recover()
            if done > 0:
                self.frames_written += done
        reason = io_reason(exc, name.parent)
        self.error = f"recording to '{name}' stopped after {self.elapsed_s:.1f} s: {reason}"
        self.ended_by = "error"
        self._finish()

    # -- files -------------------------------------------------------------------------------

    @property
    def paths(self) -> list[Path]:
        """The parts' files so far (the first is :attr:`path`)."""
        return self._parts.paths

    @property
    def replaced(self) -> list[tuple[Path, Path]]:
        """With ``force``: the earlier recording's files, set aside until the first frame."""
        return self._parts.replaced

    def _finish(self) -> None:
        """Close the file and write the final sidecar; runs once (writer thread, or the
        caller's thread without one)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._parts.is_open:
                try:
                    self._parts.close()
                except Exception as exc:
                    if self.error is None:
                        self.error = (
                            f"recording to '{self.paths[-1]}': closing failed: "
                            f"{io_reason(exc, self.path.parent)}"
                        )
            self.ended_by = self.ended_by or "stop"
            try:
                save_sidecar(self, complete=True)
            except OSError as exc:
                if self.error is None:
                    self.error = (
                        f"cannot write '{sidecar_path(self.path)}': "
                        f"{io_reason(exc, self.path.parent)}"
                    )
            if self.frames_written > 0:
                discard(self._parts.replaced)  # else remove_if_empty puts them back
        finally:
            self._done.set()

    def sidecar(self, complete: bool) -> dict[str, object]:
        """The sidecar's content now (any thread)."""
        return sidecar_content(self, complete)
