"""Playing a file on the sound card: :class:`DevicePlayback`, a :class:`Playback` with sound.

Three threads share a :class:`RingBuffer` (one producer, one consumer, no lock):

- the **feeder** (:meth:`DevicePlayback._feed`) reads the file with soundfile into the ring,
  at most ``ahead_s`` ahead of the callback (bounded memory), and carries out seeks/loops;
- PortAudio's **callback** (:meth:`DevicePlayback._callback`) only copies from the ring,
  outputs silence while paused or after the end, counts underflows, and logs each block's
  first ring frame and DAC time (``outputBufferDacTime``): no allocation, locks or I/O;
- the **caller** (the browser's UI thread, ``livespec play --no-ui``) calls the rest.

Latency compensation: :meth:`DevicePlayback.position` is the frame at the DAC *now* (the
newest block whose DAC time has come, plus the stream time since), so a playhead drawn
there is where the sound is. The feeder logs where each stretch of the file (a seek, a
loop's wrap) starts in the ring, so a ring frame maps back to a file frame. A seek writes
the new stretch after what is queued and publishes a jump that the callback takes.
The logs live in :mod:`livespec.audio.outlog`. A stream PortAudio ends by itself (the
device unplugged, the sound server gone) stops playback: :attr:`DevicePlayback.error`.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from livespec.audio.devices import (
    check_output_settings,
    import_sounddevice,
    portaudio_reason,
    resolve_output_device,
)
from livespec.audio.files import check_samples, mix_channels, open_audio_path
from livespec.audio.outlog import BlockLog, SegmentLog
from livespec.audio.playback import Playback, SilentPlayback
from livespec.audio.ringbuffer import RingBuffer
from livespec.errors import SourceError, printable

_FAR = 1 << 62  # "never": an end-of-file ring index not known yet
_CHUNK = 4096  # frames the feeder reads at a time
_PREFILL_S = 0.5  # s queued after a seek before the callback jumps there


class DevicePlayback:
    """Plays ``path`` on an output device; a :class:`~livespec.audio.playback.Playback`.

    The stream starts at once (silent, paused); :meth:`play` starts the sound.

    Args:
        path: an audio file libsndfile reads.
        device: output device index, name substring, or None for the default.
        latency: PortAudio's output latency, seconds or ``'low'``/``'high'``. The
            position is compensated for it, so only pause and seek wait for it; 0.2 s
            rides out a Python callback held up by a busy machine.
        ahead_s: seconds the feeder keeps queued ahead of the callback.

    Raises:
        SourceError: an unreadable file, no output device ("no output device ..."), or a
            device that cannot play the file's rate or channels.

    Attributes:
        duration: the file's length in seconds.
        samplerate: the file's (and the stream's) rate in Hz.
        underflows: blocks the ring could not fill while playing (the feeder was late).
        device_underflows: output underflows PortAudio reported.
        device: the resolved output device.
        description: one line naming the device, rate and channels.
    """

    def __init__(
        self,
        path: str | Path,
        device: str | int | None = None,
        *,
        latency: float | str = 0.2,
        ahead_s: float = 1.0,
    ) -> None:
        self._file = open_audio_path(path)
        self._name = printable(str(path))
        try:
            self._setup(device, latency, ahead_s)
        except BaseException:
            self._file.close()
            raise

    def _setup(self, device: str | int | None, latency: float | str, ahead_s: float) -> None:
        f = self._file
        self.samplerate = int(f.samplerate)
        self.frames = int(f.frames)
        self.duration = self.frames / self.samplerate
        sd = import_sounddevice()
        info = resolve_output_device(device)
        self.device = info
        self.channels = min(int(f.channels), info.max_output_channels)
        check_output_settings(info, self.channels, self.samplerate)
        self.description = (
            f"'{printable(info.name)}' ({printable(info.hostapi)}, {self.samplerate} Hz, "
            f"{self.channels} ch)"
        )
        self._ahead = ahead = max(_CHUNK, round(ahead_s * self.samplerate))
        self._prefill = min(ahead, max(_CHUNK, round(_PREFILL_S * self.samplerate)))
        self._ring = RingBuffer(2 * ahead + 2 * _CHUNK, self.channels)
        self._buf = np.zeros((_CHUNK, int(f.channels)), dtype=np.float32)
        self.underflows = 0
        self.device_underflows = 0
        # -- the callback's state (written by PortAudio's thread only) --
        self._read = 0  # next ring frame the callback plays
        self._blocks = BlockLog()  # each block's ring frame and DAC time, for position()
        # -- the feeder's state (written by the feeder only) --
        self._segments = SegmentLog()  # where each stretch of the file starts in the ring
        self._jump: tuple[int, int] = (-1, -1)  # (ring frame to jump at, -1 = now; target)
        self._eof_at = _FAR  # ring frame where the file's audio ends
        self._seek_ring = 0  # ring frame where the newest seek's stretch starts
        # -- the caller's requests --
        self._paused = True
        self._hold = True  # silence: a seek is not carried out yet (set by the caller)
        self._request = 1  # serial of the newest seek or loop request (1: start at 0)
        self._target = 0  # file frame of the newest seek (the position until it is heard)
        self._soft = False  # the newest request keeps what is queued up to a margin
        self._loop: tuple[int, int] | None = None  # [a, b) in file frames
        self._lock = threading.Lock()  # the caller's side only (never the callback)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._done_request = -1
        self._error: BaseException | None = None
        self._ended = threading.Event()  # PortAudio's stream has ended (by close() or itself)
        self._abort: type[BaseException] = sd.CallbackAbort
        self._closed = False
        self._feeder = threading.Thread(target=self._feed, name="livespec-playback", daemon=True)
        self._feeder.start()
        try:
            self._stream: Any = sd.OutputStream(
                device=info.index,
                samplerate=self.samplerate,
                channels=self.channels,
                dtype="float32",
                latency=latency,
                callback=self._callback,
                finished_callback=self._ended.set,
            )
            self._stream.start()
            # The first sound waits until the stream's silence has reached the DAC: on
            # PulseAudio, audio from a stream's first milliseconds can be cut (2-6 ms).
            deadline = time.monotonic() + 1.0
            while self._dac_index() is None and time.monotonic() < deadline:
                time.sleep(0.005)
        except Exception as exc:
            self.close()
            raise SourceError(
                f"cannot play on output device '{printable(info.name)}': {portaudio_reason(exc)}"
            ) from None

    # -- the caller's thread ----------------------------------------------------------------

    @property
    def latency(self) -> float:
        """The output latency PortAudio reports (s)."""
        with suppress(Exception):
            return float(self._stream.latency)
        return 0.0

    @property
    def error(self) -> str | None:
        """Why playback stopped early: a damaged file (what is before the damage plays), or
        a stream PortAudio ended by itself (the device unplugged, the sound server gone)."""
        if self._error is not None:
            return f"{self._name}: playback stopped: {self._error}"
        if self._lost():
            return (
                f"output stream ended unexpectedly: device {self.description} "
                "(device unplugged or sound server gone?)"
            )
        return None

    def _lost(self) -> bool:
        """True once PortAudio has ended the stream by itself (not by :meth:`close`)."""
        if self._closed:
            return False
        if self._ended.is_set():
            return True
        try:
            return not bool(self._stream.active)
        except Exception:  # a stream PortAudio no longer knows: _ended says
            return False

    def _dac_index(self) -> tuple[int, bool] | None:
        """The ring frame at the DAC now and whether it is sound (None: nothing played yet)."""
        try:
            now = float(self._stream.time)
        except Exception:
            return None
        return self._blocks.at(now, self.samplerate)

    def _seeking(self) -> bool:
        """True while a seek is not yet carried out by the feeder (caller's lock held)."""
        return self._done_request != self._request and not self._soft

    def position(self) -> float:
        """The time (s) of the frame at the DAC now (after the output latency); a seek's
        target until the sound reaches it. Any thread."""
        with self._lock:
            if self._seeking():
                return self._target / self.samplerate
            at = self._dac_index()
            if at is None or at[0] < self._seek_ring:
                return self._target / self.samplerate  # the seek is not heard yet
            frame = self._segments.file_frame(at[0])
            return min(max(frame, 0), self.frames) / self.samplerate

    def finished(self) -> bool:
        """True once the last frame of the file has reached the DAC (not looping)."""
        with self._lock:
            if self._seeking():
                return False
            at = self._dac_index()
            return at is not None and at[0] >= self._eof_at

    def playing(self) -> bool:
        """True while the sound plays (not paused, not past the end, the stream not lost:
        see :attr:`error`)."""
        if self._paused:
            return False
        if self.finished() or self._lost():
            self._paused = True
            return False
        return True

    def play(self) -> None:
        """Start or resume; from the start (or the loop's start) after the end."""
        if self._lost():  # the device is gone: see :attr:`error`
            return
        if self.finished():
            if self._error is not None:  # the file is damaged here: see :attr:`error`
                return
            self.seek(self._loop[0] / self.samplerate if self._loop else 0.0)
        self._paused = False

    def pause(self) -> None:
        """Silence from the next block on; the ring keeps what is queued for :meth:`play`."""
        self._paused = True

    def seek(self, seconds: float) -> None:
        """Play from ``seconds`` (clamped to the file or loop); not after :attr:`error`."""
        if self._error is not None:
            return
        with self._lock:
            lo, hi = self._loop if self._loop else (0, self.frames)
            frame = round(float(seconds) * self.samplerate)
            self._target = min(max(frame, lo), max(lo, hi - 1) if self._loop else hi)
            self._soft = False
            self._hold = True
            self._request += 1
        self._wake.set()

    def set_loop(self, start: float | None, end: float | None) -> None:
        """Repeat ``[start, end)`` (s); ``None`` clears the loop. If the position is
        outside the new loop it moves to ``start``."""
        pos = self.position()  # a pending seek's target while it is carried out
        with self._lock:
            pending = self._seeking()  # then the new request is a seek too, not seamless
            if start is None or end is None:
                self._loop = None
                self._target = round(pos * self.samplerate)
                self._soft = not pending
                self._request += 1
                self._wake.set()
                return
            a = min(max(round(float(start) * self.samplerate), 0), self.frames)
            b = min(max(round(float(end) * self.samplerate), 0), self.frames)
            if b <= a:
                raise ValueError(f"loop end {end:g} s must be after its start {start:g} s")
            self._loop = (a, b)
            frame = round(pos * self.samplerate)
            inside = a <= frame < b
            self._target = frame if inside else a
            self._soft = inside and not pending  # seamless: re-queue with the loop's end
            self._request += 1
        self._wake.set()

    def close(self) -> None:
        """Stop the stream and the feeder, close the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._paused = True
        self._stop.set()
        self._wake.set()
        with suppress(Exception):
            self._stream.stop()
        with suppress(Exception):
            self._stream.close()
        self._feeder.join(timeout=5.0)
        with suppress(Exception):
            self._file.close()

    # -- the feeder thread -----------------------------------------------------------------

    def _feed(self) -> None:
        """The feeder thread: keep the ring ``ahead`` frames ahead of the callback."""
        try:
            self._feed_loop()
        except Exception as exc:  # a damaged file: reported by play() and playing()
            self._error = exc
            self._eof_at = self._ring.written

    def _feed_loop(self) -> None:
        ring, f = self._ring, self._file
        cur = 0  # next file frame to read
        while not self._stop.is_set():
            with self._lock:
                request, target, soft = self._request, self._target, self._soft
                loop = self._loop
            if request != self._done_request:
                start = ring.written
                jump_at = -1
                if soft and self._read < start:  # keep a margin of what is queued
                    jump_at = min(start, self._read + _CHUNK)
                    target = self._segments.file_frame(jump_at)
                    if loop is not None and not loop[0] <= target < loop[1]:
                        target = loop[0]
                cur = target
                f.seek(cur)
                self._segments.add(start, cur)
                self._eof_at = _FAR
                # Queue enough before the jump to fill the device's buffer at once (PortAudio
                # asks for several blocks in a burst when the sound starts).
                try:
                    while ring.written - start < self._prefill and self._eof_at == _FAR:
                        cur = self._write_chunk(cur, loop)
                finally:  # also for a damaged file: what was read before it plays
                    self._jump = (jump_at, start)
                    with self._lock:
                        self._seek_ring = start if not soft else self._seek_ring
                        self._done_request = request
                        self._hold = self._hold and request != self._request
                continue
            queued = ring.written - self._read
            if queued >= self._ahead or self._eof_at != _FAR:
                self._wake.wait(0.01)
                self._wake.clear()
                continue
            cur = self._write_chunk(cur, loop)

    def _write_chunk(self, cur: int, loop: tuple[int, int] | None) -> int:
        """Read up to one chunk from file frame ``cur`` into the ring; wrap at the loop's
        end, mark the end of the file. Returns the next file frame (feeder thread)."""
        f, ring = self._file, self._ring
        end = loop[1] if loop is not None and cur < loop[1] else self.frames
        n = min(_CHUNK, end - cur)
        if n > 0:
            got = f.read(n, dtype="float32", always_2d=True, out=self._buf[:n])
            k = int(got.shape[0])
            check_samples(got, cur, self.samplerate)  # no NaN or +200 dB into speakers
            block = got if got.shape[1] == self.channels else mix_channels(got, self.channels)
            ring.write(block)
            cur += k
            if k < n:  # shorter than the header said
                end = cur
        if cur >= end:
            if loop is not None and end == loop[1]:
                cur = loop[0]
                f.seek(cur)
                self._segments.add(ring.written, cur)
            else:
                self._eof_at = ring.written
        return cur

    # -- PortAudio's thread ----------------------------------------------------------------

    def _callback(self, outdata: npt.NDArray[np.float32], frames: int, t: Any, status: Any) -> None:
        """PortAudio's callback thread: copy the next frames from the ring into ``outdata``.

        Real-time rules: no array allocation, no locks, no I/O. Silence while paused or
        after the end; a ring that cannot fill the block counts one underflow.
        """
        try:
            ring = self._ring
            r = self._read
            start = r
            done = 0
            skip = (-1, -1)
            if not (self._paused or self._hold):
                while done < frames:
                    jump_at, jump_to = self._jump
                    if jump_to > r and jump_at <= r:  # a pending jump is due
                        if done:
                            skip = (r, jump_to)
                        else:
                            start = jump_to
                        r = jump_to
                    stop = min(ring.written, self._eof_at)
                    if jump_to > r:
                        stop = min(stop, jump_at)
                    n = min(frames - done, stop - r)
                    if n <= 0:
                        break
                    p = r % ring.capacity
                    outdata[done : done + n] = ring._data[p : p + n]
                    r += n
                    done += n
                if done < frames and r < self._eof_at:
                    self.underflows += 1
            outdata[done:] = 0.0
            self._read = r
            dac = float(t.outputBufferDacTime)
            if dac <= 0.0:  # host APIs that give no DAC time
                dac = float(t.currentTime) + float(self._stream.latency)
            self._blocks.add(start, done, dac, skip)
            if status and status.output_underflow:
                self.device_underflows += 1
        except Exception as exc:  # never reached in normal operation
            self._error = exc
            raise self._abort from None


def open_playback(
    path: str | Path,
    device: str | int | None = None,
    audio: bool = True,
    latency: float | str = 0.2,
) -> Playback:
    """The player for ``path``: :class:`DevicePlayback` on ``device``, or with
    ``audio=False`` a :class:`SilentPlayback` of the file's length (caller's thread).

    Raises:
        SourceError: an unreadable file; no output device ("no output device ..."; the
            caller may fall back to ``open_playback(path, audio=False)``).
    """
    if audio:
        return DevicePlayback(path, device, latency=latency)
    with open_audio_path(path) as f:
        return SilentPlayback(int(f.frames) / int(f.samplerate))
