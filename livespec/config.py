"""Configuration: frozen dataclasses, a TOML file of defaults, command-line overrides.

Precedence: built-in defaults < the TOML file < command-line flags. The file lives at
``platformdirs.user_config_dir("livespec")/config.toml`` (``~/.config/livespec/config.toml``
on Linux), or wherever ``--config`` or ``$LIVESPEC_CONFIG`` points. Its tables are named after
the dataclasses below and its keys after the long options (``zero_pad`` for
``--zero-pad``)::

    [source]
    samplerate = 48000
    [analysis]
    fft = 8192
    window = "blackman-harris"

Every value is validated; a bad one is reported with the file, the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from livespec.config_file import check_types, read_toml, shorten, toml_shown, toml_string
from livespec.errors import UsageError

# The names of the colour maps: the one list that options, parsers and tables use (their
# tables live in livespec.render.colormaps).
COLORMAPS: tuple[str, ...] = ("viridis", "magma", "inferno", "plasma", "turbo", "grey")
DEFAULT_COLORMAP = "viridis"

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

WINDOW_CHOICES = ("rect", "hann", "hamming", "blackman", "blackman-harris", "flattop", "kaiser")
PCM_FORMAT_CHOICES = ("s16le", "s24le", "s32le", "f32le")


@dataclass(frozen=True)
class SourceConfig:
    """Where audio comes from. ``input`` None means the sound card (``device``)."""

    input: str | None = None
    device: str | None = None
    samplerate: int | None = None  # Hz; None = the device's default (48000 for signals/stdin)
    channels: int | None = None  # channels to open; None = 1 (a file: all of its channels)
    channel: int | None = None  # 1-based channel to analyse; None = mono mix
    blocksize: int = 1024  # frames per callback
    latency: str = "high"  # "low", "high" or seconds
    format: str | None = None  # raw PCM on stdin; None = s16le (refused with a WAV/FLAC/... stream)
    ring_seconds: float = 20.0  # seconds of audio kept in the ring buffer


@dataclass(frozen=True)
class AnalysisConfig:
    """How frames are analysed; shared by the app, ``peaks`` and ``export``."""

    fft: int = 4096  # samples per frame
    window: str = "hann"
    beta: float = 8.6  # kaiser's beta
    hop: int | None = None  # samples between frames; None = from overlap
    overlap: float = 0.75  # fraction of a frame shared with the next
    zero_pad: int = 1  # FFT length = fft * zero_pad
    peaks: int = 1  # peaks found per frame
    a4: float = 440.0  # Hz, for note names
    fmin: float = 0.0  # Hz, peak search band
    fmax: float | None = None  # Hz; None = Nyquist
    backend: str = "auto"  # "auto", "fftw", "numpy"

    @property
    def hop_samples(self) -> int:
        """Samples between frame starts."""
        if self.hop is not None:
            return self.hop
        return max(1, round(self.fft * (1.0 - self.overlap)))


COLORMAP_CHOICES = COLORMAPS
COLORS_CHOICES = ("auto", "truecolor", "256", "16", "none")
ORIENTATION_CHOICES = ("horizontal", "vertical")  # time scrolls left / time flows down
SSH_CHOICES = ("auto", "on", "off")
SCALE_CHOICES = ("linear", "log", "mel", "cqt")
WEIGHTING_CHOICES = ("A", "C", "Z")  # --weighting: IEC 61672 A, C, or Z (none)


@dataclass(frozen=True)
class DisplayConfig:
    """How the live app draws (ignored by headless commands)."""

    colormap: str = DEFAULT_COLORMAP
    colors: str = "auto"  # terminal colour depth; auto = from COLORTERM, TERM, NO_COLOR
    db_min: float = -120.0  # dBFS at the bottom of the colour scale
    db_max: float = 0.0  # dBFS at the top
    orientation: str = "auto"  # auto = horizontal (over SSH too)
    scale: str = "log"
    fps: float | None = (
        None  # screen updates per second at most; None = 30, 20 over SSH (render/link.py)
    )
    ssh: str = "auto"  # bandwidth-saving defaults: auto (when SSH_* is set), on, off
    history_seconds: float = 300.0  # waterfall history kept for pause/scroll-back
    frames_per_pixel: int = 1  # analysis frames per waterfall time pixel (their maximum)
    spectrum: bool = True  # show the spectrum panel
    record_dir: str | None = None  # where the r key puts recordings; None: default_record_dir()


@dataclass(frozen=True)
class MeasureConfig:
    """Measurement settings (``livespec measure``)."""

    calibration_db: float | None = None  # offset from dBFS to the unit (dB)
    calibration_unit: str = ""  # e.g. "dB SPL", "dBV"


@dataclass(frozen=True)
class Config:
    """Everything livespec can be told, after merging file and flags."""

    source: SourceConfig = field(default_factory=SourceConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    path: Path | None = None  # the file the values came from, if any


MAX_PREROLL_S = 60.0  # --preroll: seconds of the past a recording may start with


def preroll_seconds(text: str) -> float:
    """``--preroll S`` (the app's and ``livespec record``'s): 0 to :data:`MAX_PREROLL_S`
    seconds; anything else is a usage error (one line, exit status 2)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0.0 <= v <= MAX_PREROLL_S:
        raise UsageError(
            f"--preroll {shorten(str(text))}: must be from 0 to {MAX_PREROLL_S:g} seconds"
        )
    return v


# -- validation -------------------------------------------------------------------------

_T = TypeVar("_T")
_D = TypeVar("_D", bound="DataclassInstance")


def _int(lo: int, hi: int) -> Callable[[object], int]:
    def check(v: object) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            digits = v.strip().lstrip("-") if isinstance(v, str) else ""
            if isinstance(v, str) and digits.isascii() and digits.isdigit() and len(digits) < 20:
                v = int(v)
            else:
                raise ValueError(f"an integer from {lo} to {hi}")
        if not lo <= v <= hi:
            raise ValueError(f"an integer from {lo} to {hi}")
        return int(v)

    return check


def _float(lo: float, hi: float) -> Callable[[object], float]:
    def check(v: object) -> float:
        try:
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise TypeError
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"a number from {lo:g} to {hi:g}") from None
        if not lo <= f <= hi:
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        return f

    return check


def _choice(*choices: str) -> Callable[[object], str]:
    def check(v: object) -> str:
        if not isinstance(v, str) or v.lower() not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return v.lower()

    return check


def _text(v: object) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise ValueError("a text value")
    return str(v)


def _path(v: object) -> str:
    """A file or folder name; a leading ``~`` is the home folder (TOML has no shell)."""
    return os.path.expanduser(_text(v))


def _latency(v: object) -> str:
    if isinstance(v, str) and v.lower() in ("low", "high"):
        return v.lower()
    try:
        if not isinstance(v, (int, float, str)):  # as float() would
            raise TypeError
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError("'low', 'high' or seconds from 0.001 to 2") from None
    if not 0.001 <= f <= 2.0:
        raise ValueError("'low', 'high' or seconds from 0.001 to 2")
    return repr(f)


def _bool(v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return v.lower() in ("true", "yes", "on", "1")
    raise ValueError("true or false")


def _optional(check: Callable[[object], _T]) -> Callable[[object], _T | None]:
    return lambda v: None if v is None else check(v)


VALIDATORS: dict[str, dict[str, Callable[[object], object]]] = {
    "source": {
        "input": _optional(_path),
        "device": _optional(_text),
        "samplerate": _optional(_int(1000, 768000)),
        "channels": _optional(_int(1, 64)),
        "channel": _optional(_int(1, 64)),
        "blocksize": _int(16, 65536),
        "latency": _latency,
        "format": _choice(*PCM_FORMAT_CHOICES),
        "ring_seconds": _float(1.0, 600.0),
    },
    "analysis": {
        "fft": _int(64, 65536),
        "window": _choice(*WINDOW_CHOICES),
        "beta": _float(0.0, 50.0),
        "hop": _optional(_int(1, 65536)),
        "overlap": _float(0.0, 0.97),
        "zero_pad": _int(1, 16),
        "peaks": _int(1, 32),
        "a4": _float(200.0, 1000.0),
        "fmin": _float(0.0, 1e6),
        "fmax": _optional(_float(1.0, 1e6)),
        "backend": _choice("auto", "fftw", "numpy"),
    },
    "display": {
        "colormap": _choice(*COLORMAP_CHOICES),
        "colors": _choice(*COLORS_CHOICES),
        "db_min": _float(-300.0, 100.0),
        "db_max": _float(-300.0, 100.0),
        "orientation": _choice("auto", *ORIENTATION_CHOICES),
        "scale": _choice(*SCALE_CHOICES),
        "fps": _optional(_float(1.0, 120.0)),
        "ssh": _choice(*SSH_CHOICES),
        "history_seconds": _float(1.0, 3600.0),
        "frames_per_pixel": _int(1, 64),
        "spectrum": _bool,
        "record_dir": _path,
    },
    "measure": {
        "calibration_db": _optional(_float(-1000.0, 1000.0)),
        "calibration_unit": _text,
    },
}
SECTIONS: dict[str, type[object]] = {
    "source": SourceConfig,
    "analysis": AnalysisConfig,
    "display": DisplayConfig,
    "measure": MeasureConfig,
}


def option_name(key: str) -> str:
    """The command-line spelling of a config key (``zero_pad`` -> ``--zero-pad``)."""
    return "--" + key.replace("_", "-")


def _apply(
    section: str, base: _D, values: Mapping[str, object], where: Callable[[str, object], str]
) -> _D:
    """Validate ``values`` for ``section`` onto ``base``; ``where(key, value)`` names the
    place of a bad value in the error message."""
    checks = VALIDATORS[section]
    out: dict[str, object] = {}
    for key, value in values.items():
        if key not in checks:
            known = ", ".join(checks)
            raise UsageError(f"{where(key, None)}: unknown setting (known: {known})")
        try:
            out[key] = checks[key](value)
        except ValueError as exc:
            raise UsageError(f"{where(key, value)}: must be {exc}") from None
    return dataclasses.replace(base, **out)


def default_config_path() -> Path:
    """The user's config file: $LIVESPEC_CONFIG, else the platform's config directory."""
    env = os.environ.get("LIVESPEC_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("livespec")) / "config.toml"


def default_record_dir() -> Path:
    """Where the ``r`` key puts recordings unless ``--record-dir`` says otherwise: the
    platform's data folder (``~/.local/share/livespec/recordings`` on Linux), created on
    the first recording; never the current directory (often a git clone)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("livespec")) / "recordings"


def check_record_dir(folder: str) -> None:
    """Refuse a ``--record-dir`` that is missing, not a folder or not writable (at start-up,
    not when ``r`` is pressed). Raises :class:`~livespec.errors.UsageError`."""
    p = Path(folder)
    if not p.exists():
        raise UsageError(f"--record-dir '{folder}': no such folder")
    if not p.is_dir():
        raise UsageError(f"--record-dir '{folder}': not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise UsageError(f"--record-dir '{folder}': permission denied (cannot write there)")


def _file_place(path: Path, section: str, key: str, value: object) -> str:
    shown = "" if value is None else f" = {toml_shown(value)}"
    return f"{path}: [{section}] {shorten(key)}{shown}"


def load_file(path: Path, explicit: bool = False) -> Config:
    """Read and validate a TOML config file; a missing default file gives the defaults.
    The file is read with limits (:mod:`livespec.config_file`: a regular file of at most
    1 MiB, UTF-8, nested at most 32 deep)."""
    cfg = Config()
    data = read_toml(path, explicit)
    if data is None:
        return cfg
    parts: dict[str, Any] = {}  # section name -> its config (replace() wants each type)
    for section, values in data.items():
        name = shorten(section)
        if section not in SECTIONS:
            raise UsageError(f"{path}: unknown table [{name}] (known: {', '.join(SECTIONS)})")
        if not isinstance(values, dict):
            raise UsageError(f"{path}: '{name}' must be a table, [{name}]")
        where = functools.partial(_file_place, path, section)
        base = getattr(cfg, section)
        parts[section] = _apply(section, base, check_types(type(base), values, where), where)
    src = parts.get("source")
    if src is not None and src.input is not None and src.device is not None:
        raise UsageError(f"{path}: [source] has both input and device; keep one")
    return dataclasses.replace(cfg, path=path, **parts)


def merge_cli(cfg: Config, given: Mapping[str, object]) -> Config:
    """Override ``cfg`` with the command-line values that were given (not None)."""
    parts: dict[str, Any] = {}  # section name -> its config (replace() wants each type)
    inp, dev = given.get("input"), given.get("device")
    if (inp is None) != (dev is None):  # one flag replaces the file's choice of source
        source = dataclasses.replace(cfg.source, input=None, device=None)
        cfg = dataclasses.replace(cfg, source=source)
    for section in SECTIONS:
        values = {k: v for k, v in given.items() if k in VALIDATORS[section] and v is not None}
        if values:
            parts[section] = _apply(
                section,
                getattr(cfg, section),
                values,
                lambda key, value: f"{option_name(key)} {shorten(str(value))}",
            )
    merged = dataclasses.replace(cfg, **parts)
    try:
        check_consistency(merged)
    except UsageError as exc:  # name the file for the values that came from it
        keys = [o[2:].replace("-", "_") for o in re.findall(r"--[a-z][a-z-]*", str(exc))]
        in_file = [k for k in keys if given.get(k) is None]
        if merged.path is None or not in_file:
            raise
        where = f"not on the command line: {', '.join(in_file)}; config file {merged.path}"
        raise UsageError(f"{exc} ({where})") from None
    return merged


def check_consistency(cfg: Config) -> None:
    """Cross-field rules (hop no longer than a frame, channel within channels, ...)."""
    a, s = cfg.analysis, cfg.source
    if a.hop is not None and a.hop > a.fft:
        raise UsageError(f"--hop {a.hop} is longer than --fft {a.fft}: frames would skip audio")
    if a.fmax is not None and a.fmax <= a.fmin:
        raise UsageError(f"--fmax {a.fmax:g} must be above --fmin {a.fmin:g}")
    if s.channel is not None and s.channels is not None and s.channel > s.channels:
        raise UsageError(f"--channel {s.channel} is past --channels {s.channels}")
    d = cfg.display
    if d.db_max <= d.db_min:
        raise UsageError(f"--db-max {d.db_max:g} must be above --db-min {d.db_min:g}")
    if s.input is not None and s.device is not None:
        raise UsageError("give either --device or --input, not both")


def as_toml(cfg: Config) -> str:
    """The effective values as TOML text (None values are shown as comments)."""
    lines: list[str] = []
    for section in SECTIONS:
        lines.append(f"[{section}]")
        for f in dataclasses.fields(getattr(cfg, section)):
            v = getattr(getattr(cfg, section), f.name)
            if v is None:
                lines.append(f"# {f.name} = (not set)")
            elif isinstance(v, bool):
                lines.append(f"{f.name} = {'true' if v else 'false'}")
            elif isinstance(v, str):
                lines.append(f"{f.name} = {toml_string(v)}")
            else:
                lines.append(f"{f.name} = {v!r}")
        lines.append("")
    return "\n".join(lines)
