"""The sound card as a source: PortAudio through ``sounddevice``, imported lazily.

Nothing here touches PortAudio until a function is called, so the rest of livespec (files,
stdin, test signals, the DSP) works on a machine without ``libportaudio2``. PortAudio lists
the devices once, when ``sounddevice`` is first imported: a device plugged in later is seen
by a new process only.

The audio callback runs on PortAudio's thread and only copies the block into the ring and
counts overflow flags (see :meth:`DeviceSource._callback`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from livespec.audio.base import Source
from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.stderr import quiet_native_stderr
from livespec.errors import EXIT_FAILURE, SourceError, UsageError

_NO_PORTAUDIO = (
    "PortAudio library not found: install it (sudo apt-get install libportaudio2), "
    "or use --input demo / --input FILE"
)
_NO_DEVICE = "no audio input device found: see `livespec devices`, or try `livespec --input demo`"
_SEE_DEVICES = "(see `livespec devices`)"


def import_sounddevice() -> ModuleType:
    """Import and return ``sounddevice``; a missing PortAudio becomes a :class:`SourceError`.

    Called on the caller's thread; the first call initialises PortAudio (tens of ms).
    """
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        if "portaudio library not found" in str(exc).lower():
            raise SourceError(_NO_PORTAUDIO) from None
        raise SourceError(f"PortAudio could not be loaded ({exc}); {_hint()}") from None
    except ImportError as exc:
        raise SourceError(
            f"the sounddevice module cannot be imported ({exc}): install it "
            "(pip install sounddevice), or use --input demo / --input FILE"
        ) from None
    except Exception as exc:  # PortAudioError from Pa_Initialize at import time
        raise SourceError(f"PortAudio could not be initialised ({exc}); {_hint()}") from None
    module: ModuleType = sounddevice
    return module


def _hint() -> str:
    return "use --input demo / --input FILE to run without a sound card"


def _reason(exc: BaseException) -> str:
    """PortAudio's message without the ``[PaErrorCode -9997]`` suffix."""
    text = str(exc.args[0]) if exc.args else str(exc)
    return text.split(" [PaErrorCode", 1)[0].strip() or type(exc).__name__


# -- listing and choosing devices ------------------------------------------------------------


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio input device.

    Attributes:
        index: PortAudio's device index (valid for this process only).
        name: the device's name as PortAudio reports it.
        hostapi: the host API's name (ALSA, JACK, Core Audio, WASAPI, ...).
        max_input_channels: input channels the device offers.
        default_samplerate: the device's default sample rate in Hz.
        is_default: True for PortAudio's default input device.
    """

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate: float
    is_default: bool


def _default_input_index(sd: ModuleType) -> int:
    try:
        index = sd.default.device[0]
    except Exception:
        return -1
    return index if isinstance(index, int) else -1


def _query(sd: ModuleType) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        return list(sd.query_devices()), list(sd.query_hostapis())
    except Exception as exc:  # PortAudioError
        raise SourceError(f"cannot list audio devices: {_reason(exc)}") from None


def list_input_devices() -> list[DeviceInfo]:
    """Every device with at least one input channel, in PortAudio's order (caller's thread)."""
    sd = import_sounddevice()
    devices, hostapis = _query(sd)
    default = _default_input_index(sd)
    found = []
    for i, d in enumerate(devices):
        channels = int(d.get("max_input_channels", 0))
        if channels < 1:
            continue
        index = int(d.get("index", i))
        api = int(d.get("hostapi", -1))
        found.append(
            DeviceInfo(
                index=index,
                name=str(d.get("name", f"device {index}")),
                hostapi=str(hostapis[api]["name"]) if 0 <= api < len(hostapis) else "?",
                max_input_channels=channels,
                default_samplerate=float(d.get("default_samplerate", 0.0)),
                is_default=index == default,
            )
        )
    return found


def _rate_text(rate: float) -> str:
    return f"{rate:.0f}" if float(rate).is_integer() else f"{rate:g}"


def format_devices(devices: list[DeviceInfo]) -> str:
    """A readable table of ``devices``; the default input device is marked with ``>``."""
    if not devices:
        return _NO_DEVICE
    rows = [("", "index", "name", "host API", "channels", "default rate")]
    for d in devices:
        rows.append(
            (
                ">" if d.is_default else "",
                str(d.index),
                d.name,
                d.hostapi,
                str(d.max_input_channels),
                f"{_rate_text(d.default_samplerate)} Hz",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    right = {1, 4, 5}  # numeric columns
    lines = []
    for r in rows:
        cells = [
            r[c].rjust(widths[c]) if c in right else r[c].ljust(widths[c]) for c in range(len(r))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("> = default input device; choose one with --device INDEX or --device NAME")
    return "\n".join(lines)


def devices_command(as_json: bool = False) -> str:
    """The output of ``livespec devices``: a table, or a JSON list of :class:`DeviceInfo`."""
    devices = list_input_devices()
    if as_json:
        return json.dumps([asdict(d) for d in devices], indent=2)
    return format_devices(devices)


def resolve_device(spec: str | int | None) -> DeviceInfo:
    """The input device ``spec`` names (caller's thread).

    Args:
        spec: None for the default input device; an index (int or a string of digits);
            or a case-insensitive name substring (an exact name wins, then a unique
            substring).

    Raises:
        SourceError: no input device at all, an unknown or ambiguous name, or an index
            that is not an input device.
    """
    devices = list_input_devices()
    if not devices:
        raise SourceError(_NO_DEVICE)
    if spec is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec.strip())
    if isinstance(spec, int) and not isinstance(spec, bool):
        for d in devices:
            if d.index == spec:
                return d
        raise SourceError(f"no input device with index {spec} {_SEE_DEVICES}")
    text = str(spec).strip()
    if not text:
        raise SourceError(f"empty device name {_SEE_DEVICES}")
    key = text.casefold()
    for candidates in (
        [d for d in devices if d.name.casefold() == key],
        [d for d in devices if key in d.name.casefold()],
    ):
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            listed = ", ".join(f"{d.index} '{d.name}'" for d in candidates)
            raise SourceError(
                f"input device name '{text}' matches {len(candidates)} devices ({listed}): "
                f"give its index with --device INDEX {_SEE_DEVICES}"
            )
    raise SourceError(f"unknown input device '{text}' {_SEE_DEVICES}")


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
        overflows: input-overflow flags PortAudio reported (each is lost input).
    """

    realtime = True
    finite = False

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
        self._write: Callable[[npt.NDArray[np.float32]], None] = _not_started  # ring.write,
        self._abort: type[BaseException] = RuntimeError  # sd.CallbackAbort, both from start()

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
                f"{info.max_input_channels} input channel(s)"
            )
        try:
            with quiet_native_stderr():
                sd.check_input_settings(
                    device=info.index, channels=channels, dtype="float32", samplerate=rate
                )
        except Exception as exc:  # PortAudioError, or ValueError from sounddevice
            reason = _reason(exc)
            if "sample rate" in reason.lower():
                raise SourceError(
                    f"sample rate {rate} Hz is not supported by '{info.name}': {reason}"
                ) from None
            raise SourceError(
                f"'{info.name}' does not support {channels} channel(s) at {rate} Hz: {reason}"
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
            raise SourceError(f"cannot open input device '{info.name}': {_reason(exc)}") from None
        self._stream = stream
        self.started_at = time.monotonic()
        try:
            stream.start()
        except Exception as exc:
            self.stop()
            raise SourceError(
                f"cannot start capturing from '{info.name}': {_reason(exc)}"
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
        self._finished.set()

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
        if stream is None:
            return 0.0
        try:
            return float(stream.latency)
        except Exception:
            return 0.0

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
                self.overflows += 1
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
