"""The sound cards: which input devices PortAudio sees, and the one a ``--device`` names.

``sounddevice`` is imported only when a function here is called (:func:`import_sounddevice`),
so the rest of livespec works on a machine without ``libportaudio2``. PortAudio lists the
devices once, when ``sounddevice`` is first imported: a device plugged in later is seen by
a new process only. Capturing from a device is :mod:`livespec.audio.device`.

Caller's thread.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any, TypeVar

from livespec.audio.stderr import quiet_native_stderr
from livespec.errors import SourceError, counted, printable

_NO_PORTAUDIO = (
    "PortAudio library not found: install it (sudo apt-get install libportaudio2), "
    "or use --input demo / --input FILE"
)
_NO_DEVICE = "no audio input device found: see `livespec devices`, or try `livespec --input demo`"
_SEE_DEVICES = "(see `livespec devices`)"
_NONE_LISTED = (
    "no audio input device found: PortAudio lists none (no sound card, or no access to "
    "one); try `livespec --input demo`"
)


def import_sounddevice() -> ModuleType:
    """Import and return ``sounddevice``; a missing PortAudio becomes a :class:`SourceError`.

    Called on the caller's thread; the first call initialises PortAudio (tens of ms).
    """
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        if "portaudio library not found" in str(exc).lower():
            raise SourceError(_NO_PORTAUDIO) from None
        raise SourceError(f"PortAudio could not be loaded ({exc}); {hint()}") from None
    except ImportError as exc:
        raise SourceError(
            f"the sounddevice module cannot be imported ({exc}): install it "
            "(pip install sounddevice), or use --input demo / --input FILE"
        ) from None
    except Exception as exc:  # PortAudioError from Pa_Initialize at import time
        raise SourceError(f"PortAudio could not be initialised ({exc}); {hint()}") from None
    module: ModuleType = sounddevice
    return module


def hint() -> str:
    """What to do without a sound card."""
    return "use --input demo / --input FILE to run without a sound card"


def portaudio_reason(exc: BaseException) -> str:
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
        raise SourceError(f"cannot list audio devices: {portaudio_reason(exc)}") from None


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
                printable(d.name),  # a device's name is text from outside
                printable(d.hostapi),
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


def devices_command(as_json: bool = False, output: bool = False) -> str:
    """The output of ``livespec devices``: a table, or a JSON list of :class:`DeviceInfo`
    (``[]`` when there is none); with ``output``, the output devices
    (:class:`OutputDeviceInfo`) instead.

    Raises:
        SourceError: no input (output) device at all, for the table (exit status 2).
    """
    import json  # here: the app's start-up imports this module, and no JSON

    if output:
        outs = list_output_devices()
        if as_json:
            return json.dumps([asdict(d) for d in outs], indent=2)
        if not outs:  # not _NO_OUTPUT: it points at this very command
            raise SourceError(_NO_OUTPUT_LISTED)
        return format_output_devices(outs)
    devices = list_input_devices()
    if as_json:
        return json.dumps([asdict(d) for d in devices], indent=2)
    if not devices:
        raise SourceError(_NONE_LISTED)
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
    return _pick(devices, spec, "input", "--device", _SEE_DEVICES)


_D = TypeVar("_D", "DeviceInfo", "OutputDeviceInfo")


def _pick(devices: list[_D], spec: str | int | None, kind: str, option: str, see: str) -> _D:
    """The device of ``devices`` (not empty) that ``spec`` names; see :func:`resolve_device`."""
    if spec is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec.strip())
    if isinstance(spec, int) and not isinstance(spec, bool):
        for d in devices:
            if d.index == spec:
                return d
        raise SourceError(f"no {kind} device with index {spec} {see}")
    text = str(spec).strip()
    if not text:
        raise SourceError(f"empty device name {see}")
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
                f"{kind} device name '{text}' matches {len(candidates)} devices ({listed}): "
                f"give its index with {option} INDEX {see}"
            )
    raise SourceError(f"unknown {kind} device '{text}' {see}")


# -- output devices (livespec play) ------------------------------------------------------------

_NO_OUTPUT = "no output device found: PortAudio lists none (see `livespec devices --output`)"
_NO_OUTPUT_LISTED = (
    "no output device found: PortAudio lists none (no sound card, or no access to one); "
    "`livespec FILE --no-audio` browses a recording without playing it"
)


@dataclass(frozen=True)
class OutputDeviceInfo:
    """One PortAudio output device (fields as in :class:`DeviceInfo`)."""

    index: int
    name: str
    hostapi: str
    max_output_channels: int
    default_samplerate: float
    is_default: bool


def list_output_devices() -> list[OutputDeviceInfo]:
    """Every device with at least one output channel, in PortAudio's order (caller's thread)."""
    sd = import_sounddevice()
    devices, hostapis = _query(sd)
    try:
        default = sd.default.device[1]
    except Exception:
        default = -1
    found = []
    for i, d in enumerate(devices):
        channels = int(d.get("max_output_channels", 0))
        if channels < 1:
            continue
        index = int(d.get("index", i))
        api = int(d.get("hostapi", -1))
        found.append(
            OutputDeviceInfo(
                index=index,
                name=str(d.get("name", f"device {index}")),
                hostapi=str(hostapis[api]["name"]) if 0 <= api < len(hostapis) else "?",
                max_output_channels=channels,
                default_samplerate=float(d.get("default_samplerate", 0.0)),
                is_default=isinstance(default, int) and index == default,
            )
        )
    return found


def resolve_output_device(spec: str | int | None) -> OutputDeviceInfo:
    """The output device ``spec`` names, like :func:`resolve_device` (caller's thread).

    Raises:
        SourceError: no output device at all ("no output device ..."), an unknown or
            ambiguous name, or an index that is not an output device.
    """
    devices = list_output_devices()
    if not devices:
        raise SourceError(_NO_OUTPUT)
    return _pick(devices, spec, "output", "--output-device", "(see `livespec devices --output`)")


def check_output_settings(info: OutputDeviceInfo, channels: int, samplerate: int) -> None:
    """Ask PortAudio whether ``info`` plays ``channels`` float32 at ``samplerate`` Hz.

    Raises:
        SourceError: it does not, in one line (PortAudio's reason and what to do).
    """
    sd = import_sounddevice()
    try:
        with quiet_native_stderr():
            sd.check_output_settings(
                device=info.index, channels=channels, dtype="float32", samplerate=samplerate
            )
    except Exception as exc:  # PortAudioError or ValueError
        raise SourceError(
            f"output device '{printable(info.name)}' cannot play {counted(channels, 'channel')} at "
            f"{samplerate} Hz ({portaudio_reason(exc)}): convert the file to a rate the "
            "device plays, or choose another --output-device"
        ) from None


def format_output_devices(devices: list[OutputDeviceInfo]) -> str:
    """A readable table of output ``devices`` (``livespec devices --output``)."""
    if not devices:
        return _NO_OUTPUT
    rows = [("", "index", "name", "host API", "channels", "default rate")]
    for d in devices:
        rows.append(
            (
                ">" if d.is_default else "",
                str(d.index),
                printable(d.name),
                printable(d.hostapi),
                str(d.max_output_channels),
                f"{_rate_text(d.default_samplerate)} Hz",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(
            r[c].rjust(widths[c]) if c in (1, 4, 5) else r[c].ljust(widths[c])
            for c in range(len(r))
        ).rstrip()
        for r in rows
    ]
    lines.append("> = default output device; choose one with --output-device INDEX or NAME")
    return "\n".join(lines)
