"""The sound card as a source: PortAudio through ``sounddevice``, imported lazily.

Nothing here touches PortAudio until a method is called, so the rest of livespec (files,
stdin, test signals, the DSP) works on a machine without ``libportaudio2``. Listing the
devices and resolving ``--device`` is :mod:`livespec.audio.devices`.

The audio callback runs on PortAudio's thread and only copies the block into the ring and
counts overflow flags (see :meth:`DeviceSource._callback`). Losses the sound system does
not flag (a stall longer than PulseAudio's buffer) are found outside the callback, by
:meth:`DeviceSource.check_drops` (:mod:`livespec.audio.dropwatch`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Protocol

import numpy as np
import numpy.typing as npt

from livespec.audio.base import Source
from livespec.audio.devices import (
    DeviceInfo,
    import_sounddevice,
    portaudio_reason,
    resolve_device,
)

# devices_command is re-exported for livespec.cli, which imports it from here.
from livespec.audio.devices import devices_command as devices_command
from livespec.audio.dropwatch import THRESHOLD_S, Drop, DropWatch
from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.stderr import NATIVE_STDIO, quiet_native_stderr
from livespec.errors import EXIT_FAILURE, SourceError, UsageError, counted

# -- the source ---------------------------------------------------------------------------


class _InputStream(Protocol):
    """What this module uses of a ``sounddevice.InputStream`` (untyped library)."""

    active: bool
    latency: float

    def start(self) -> None:
        """Start calling back."""

    def stop(self) -> None:
        """Stop after the pending blocks."""

    def abort(self) -> None:
        """Stop at once."""

    def close(self) -> None:
        """Release the stream."""


class _CallbackFlags(Protocol):
    """What the callback reads of ``sounddevice.CallbackFlags``."""

    @property
    def input_overflow(self) -> bool:
        """True if input data was discarded before this block."""


def _latency(stream: _InputStream) -> float:
    """``stream.latency`` in seconds, 0.0 if PortAudio cannot say."""
    try:
        return float(stream.latency)
    except Exception:
        return 0.0


def _not_started(block: npt.NDArray[np.float32]) -> None:
    """Stands in for ``ring.write`` until :meth:`DeviceSource.start` binds it."""
    raise RuntimeError("DeviceSource not started")


class DeviceSource(Source):
    """Captures from a PortAudio input device into a :class:`RingBuffer` in real time.

    Args:
        device: index, name substring, or None for the default input device.
        samplerate: Hz; None = the device's default rate.
        channels: channels to capture; None = 1.
        blocksize: frames per callback (the producer's block).
        latency: PortAudio's input latency in seconds, or ``'low'``/``'high'`` (the
            device's suggestions). A Python callback can run 5-10 ms late while the GIL
            is busy, so the default ``'high'`` (tens of ms) leaves room to absorb that;
            ``'low'`` risks input overflows under load.

    :meth:`open` silences file descriptor 2 while PortAudio checks the settings (its ALSA
    backend prints noise there): call it before a TUI takes over stderr.

    Attributes:
        info: the resolved device, after :meth:`open`.
        overflows: input-overflow flags PortAudio reported (:attr:`flags`), plus one per
            reopened stream (:meth:`reopen`) and per loss :meth:`check_drops` found
            (each is lost input).
        flags: the input-overflow flags alone (written by the callback only).
    """

    realtime = True
    finite = False
    flags = 0  # input-overflow flags (PortAudio's thread writes it)
    _counted = 0  # overflows counted by other threads (reopen, check_drops)
    _flags_seen = 0  # flags when check_drops last saw an intact timeline

    @property
    def overflows(self) -> int:
        """Input overflows: PortAudio's flags, reopened streams, unflagged losses."""
        return self.flags + self._counted

    @overflows.setter
    def overflows(self, value: int) -> None:
        self._counted = int(value) - self.flags

    def __init__(
        self,
        device: str | int | None = None,
        samplerate: int | None = None,
        channels: int | None = None,
        blocksize: int = 1024,
        latency: float | str | None = "high",
    ) -> None:
        super().__init__()
        if samplerate is not None and samplerate <= 0:
            raise UsageError(f"sample rate {samplerate} Hz: must be positive")
        if channels is not None and channels < 1:
            raise UsageError(f"channels {channels}: must be at least 1")
        if blocksize < 1:
            raise UsageError(f"block size {blocksize}: must be at least 1 frame")
        if latency is None:
            latency = "high"
        if isinstance(latency, str) and latency not in ("low", "high"):
            raise UsageError(f"latency '{latency}': give seconds, 'low' or 'high'")
        if not isinstance(latency, str) and not latency >= 0:
            raise UsageError(f"latency {latency} s: must not be negative")
        self._device = device
        self._samplerate = samplerate
        self._channels = channels
        self._latency: float | str = latency
        self.block_frames = int(blocksize)
        self.info: DeviceInfo | None = None
        self._stream: _InputStream | None = None
        self._stopping = False
        self._quieted = False  # holding NATIVE_STDIO (see _quiet)
        self._write: Callable[[npt.NDArray[np.float32]], None] = _not_started  # ring.write,
        self._abort: type[BaseException] = RuntimeError  # sd.CallbackAbort, both from start()
        self._watch: DropWatch | None = None  # made by start(), for check_drops()

    # -- caller's thread -----------------------------------------------------------------

    def open(self) -> None:
        """Resolve the device and check rate and channels with PortAudio (no stream yet).

        Raises:
            SourceError: unknown device, or settings the device does not support.
        """
        sd = import_sounddevice()
        info = resolve_device(self._device)
        rate = self._samplerate or round(info.default_samplerate)
        channels = self._channels or 1
        if channels > info.max_input_channels:
            raise SourceError(
                f"{channels} channels requested but '{info.name}' has "
                f"{counted(info.max_input_channels, 'input channel')}"
            )
        try:
            with quiet_native_stderr():
                sd.check_input_settings(
                    device=info.index, channels=channels, dtype="float32", samplerate=rate
                )
        except Exception as exc:  # PortAudioError, or ValueError from sounddevice
            reason = portaudio_reason(exc)
            if "sample rate" in reason.lower():
                raise SourceError(
                    f"sample rate {rate} Hz is not supported by '{info.name}': {reason}"
                ) from None
            raise SourceError(
                f"'{info.name}' does not support {counted(channels, 'channel')} at {rate} Hz: "
                f"{reason}"
            ) from None
        self.info = info
        self.samplerate = int(rate)
        self.channels = channels
        self.description = f"device '{info.name}' ({info.hostapi}, {rate} Hz, {channels} ch)"

    def start(self, ring: RingBuffer) -> None:
        """Open the PortAudio stream and start capturing into ``ring``.

        After this, PortAudio's thread calls :meth:`_callback`. Opens the device first if
        :meth:`open` was not called.

        Raises:
            SourceError: PortAudio cannot open or start the stream.
            ValueError: ``ring`` has a different channel count.
        """
        if self.info is None:
            self.open()
        info = self.info
        assert info is not None
        if ring.channels != self.channels:
            raise ValueError(f"ring has {ring.channels} channel(s), source {self.channels}")
        if self._stream is not None:
            raise RuntimeError("DeviceSource already started")
        sd = import_sounddevice()
        self.ring = ring
        self._write = ring.write
        self._abort = sd.CallbackAbort
        self._stopping = False
        self._finished.clear()
        self.error = None
        self._quiet(True)  # PortAudio's complaints from its threads (NativeStdio)
        try:
            stream = sd.InputStream(
                device=info.index,
                samplerate=self.samplerate,
                channels=self.channels,
                dtype="float32",
                blocksize=self.block_frames,
                latency=self._latency,
                callback=self._callback,
                finished_callback=self._on_finished,
            )
        except Exception as exc:
            self._quiet(False)
            raise SourceError(
                f"cannot open input device '{info.name}': {portaudio_reason(exc)}"
            ) from None
        self._stream = stream
        self.started_at = time.monotonic()
        # A new stream, a new timeline: a burst of up to the latency is normal.
        block_s = self.block_frames / self.samplerate
        jitter = 2.0 * (_latency(stream) + block_s)
        self._watch = DropWatch(self.samplerate, threshold_s=max(THRESHOLD_S, jitter))
        try:
            stream.start()
        except Exception as exc:
            self.stop()
            raise SourceError(
                f"cannot start capturing from '{info.name}': {portaudio_reason(exc)}"
            ) from None

    def stop(self) -> None:
        """Stop and close the stream (caller's thread). Idempotent; never raises."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        self._stopping = True
        try:
            stream.stop()
        except Exception:
            with suppress(Exception):
                stream.abort()
        with suppress(Exception):
            stream.close()
        self._quiet(False)
        self._finished.set()

    def _quiet(self, on: bool) -> None:
        """Hold C stdio's stderr (:data:`NATIVE_STDIO`) while a stream of ours is open,
        so that PortAudio's lines when the device dies do not reach the terminal; once
        each way (caller's thread)."""
        if on != self._quieted:
            self._quieted = on
            if on:
                NATIVE_STDIO.hold()
            else:
                NATIVE_STDIO.release()

    def reopen(self) -> float | None:
        """Reopen a stream that PortAudio ended by itself (the device was unplugged, the
        sound server restarted) into the same ring; caller's thread (the app's tick).

        The input missed meanwhile is written to the ring as silence, so times, the
        waterfall and a running recording stay true to the clock, and it counts as one
        overflow (lost input). Returns the seconds without input, or None if the stream
        is running, was stopped on purpose, or the device cannot be opened yet.
        """
        ring = self.ring
        if ring is None or self._stopping or self.stream_active:
            return None
        gap_s = self.seconds_since_input()
        old, self._stream = self._stream, None
        if old is not None:
            with suppress(Exception):
                old.close()
        self._quiet(False)
        missed = round(gap_s * self.samplerate)
        gone = self.error  # why the stream ended: kept while the device stays gone
        try:
            ring.write_silence(missed)  # no producer runs now: the stream is gone
            self.start(ring)
        except SourceError:
            self.error = gone
            self._finished.set()  # still gone; the watchdog keeps saying so
            return None
        self._counted += 1
        return gap_s

    @property
    def drop_hold(self) -> int | None:
        """See :attr:`Source.drop_hold <livespec.audio.base.Source.drop_hold>`."""
        watch = self._watch
        return None if watch is None or not self.stream_active else watch.hold()

    def check_drops(self) -> Drop | None:
        """Look for input the sound server dropped without an overflow flag (the process
        stalled longer than its buffer); the new loss, once its backlog has drained, or
        None. A loss counts as one overflow (unless PortAudio flagged one meanwhile: a
        sound card's driver does, and the loss's size is news) and is appended to
        :attr:`drops`.

        Caller's thread (the watchdog's poll, the app's tick), never PortAudio's: it reads
        the ring's counters (see :class:`~livespec.audio.dropwatch.DropWatch`).
        """
        watch, ring = self._watch, self.ring
        if watch is None or ring is None or not self.stream_active:
            return None
        while True:  # the count and the time of the same write (the callback may write)
            written = ring.written
            last = ring.last_write_time
            if ring.written == written:
                break
        drop = watch.update(written, last)
        if drop is None:
            if watch.hold() is None:
                self._flags_seen = self.flags
            return None
        if self.flags != self._flags_seen:  # PortAudio flagged it too: counted already
            drop = dataclasses.replace(drop, flagged=True)
        else:
            self._counted += 1
        self._flags_seen = self.flags
        self.drops.append(drop)
        self.audio_dropped_s += drop.seconds
        return drop

    @property
    def stream_active(self) -> bool:
        """True while PortAudio's stream is running (False before start, after stop, or
        when PortAudio ended it because the device went away)."""
        stream = self._stream
        if stream is None:
            return False
        try:
            return bool(stream.active)
        except Exception:
            return False

    @property
    def latency_seconds(self) -> float:
        """The input latency PortAudio reports for the open stream, in seconds (0.0 if none)."""
        stream = self._stream
        return 0.0 if stream is None else _latency(stream)

    def input_lost(self, timeout: float | None = None) -> bool:
        """Watchdog: True if nothing arrived for ``timeout`` s, or if PortAudio ended the
        stream by itself (device unplugged, sound server gone). Any thread."""
        if self.started_at and self._finished.is_set() and not self._stopping:
            return True
        return super().input_lost(timeout)

    # -- PortAudio's thread --------------------------------------------------------------

    def _callback(
        self,
        indata: npt.NDArray[np.float32],
        frames: int,
        time_info: object,
        status: _CallbackFlags | None,
    ) -> None:
        """PortAudio's callback thread: copy ``indata`` into the ring, count overflows.

        Real-time rules: no array allocation, no locks, no I/O, no logging. ``indata`` is
        a view of PortAudio's memory, valid only during this call; ``ring.write`` copies it.
        """
        try:
            self._write(indata)
            if status and status.input_overflow:
                self.flags += 1
        except Exception as exc:  # never reached in normal operation
            self.error = exc
            raise self._abort from None  # stop the stream without a cffi traceback

    def _on_finished(self) -> None:
        """PortAudio's thread, once, when the stream ends (after stop() or by itself)."""
        if not self._stopping and self.error is None:
            self.error = SourceError(
                f"input stream ended unexpectedly: {self.description} "
                "(device unplugged or sound server gone?)",
                EXIT_FAILURE,
            )
        self._finished.set()
