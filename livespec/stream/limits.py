"""What a stream may declare, and the checks every decoded value passes (docs/ssh.md).

A stream comes from another machine or a file: every size, number and text in it is
checked here, in the reader, before anything is allocated from it or shown. A value
outside its limit raises ``ValueError`` naming the field; the reader turns that into one
``damaged stream at byte N: ...`` line (status 2). Text is returned with its control
characters escaped (:func:`livespec.errors.printable`), so nothing from a stream can act on
a terminal, whether drawn by the app or printed by ``--dump``.

Pure code: no Textual, no numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from livespec.errors import printable

# The limits (docs/ssh.md, "Limits"): the largest values `livespec stream` can send.
MAX_HEADER = 1 << 20  # bytes of header JSON
MAX_RECORD = 1 << 20  # bytes of one record's payload
MAX_SAMPLERATE = 768_000  # Hz (as for audio files)
FFT_RANGE = (64, 65536)  # samples per analysis frame
MAX_ZERO_PAD = 16
# fft * zero_pad: the viewer keeps rows of all FFT bins (history, screen), so its memory
# grows with them: at 65536 (32769 bins) `livespec view` peaks at about 160 MB, at 16 x
# that (524289 bins) at 1.7 GB. `livespec stream` refuses larger analyses.
MAX_FFT_LENGTH = 65536
MAX_BINS = MAX_FFT_LENGTH // 2 + 1  # FFT bins of a full row (fft * zero_pad / 2 + 1)
MIN_FPS = 0.001  # streamed frames per second (`--fps`; 0 = every analysis frame)
MAX_SENT = 65536  # dB values per streamed row (`--bins`)
MAX_HOP = 1 << 20  # samples between analysis frames
MAX_FRAME_HOP = 1 << 31  # samples between streamed frames (> MAX_SAMPLERATE / MIN_FPS)
MAX_PEAKS = 255  # peaks per frame
MAX_COUNT = 1 << 53  # frame indices, sample positions and counters (exact in a float)
MAX_SECONDS = 1e9  # frame times, s (about 31 years)
MAX_DB = 1000.0  # |dB| of levels
MAX_HZ = 1e6  # frequencies (fmin, fmax, peaks)
MAX_TEXT = 4096  # characters of one text value
MAX_DEPTH = 8  # nesting of JSON objects and lists


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"{text[:20]} is out of range")
    return v


def loads(data: bytes, what: str) -> dict[str, object]:
    """Strict JSON for a stream: an object, no NaN or Infinity, no float that overflows,
    at most MAX_DEPTH levels, every text escaped. ValueError names what is wrong."""
    try:
        d = json.loads(data, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"{what}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: not valid JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{what}: not a JSON object")
    cleaned = clean(d, what, 0)
    assert isinstance(cleaned, dict)
    return cleaned


def clean(v: object, what: str, depth: int) -> object:
    """A decoded JSON value with every text (keys too) checked and escaped."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{what}: JSON nested too deeply")
    if isinstance(v, str):
        if len(v) > MAX_TEXT:
            raise ValueError(f"{what}: a text of {len(v)} characters (at most {MAX_TEXT})")
        return printable(v)
    if isinstance(v, dict):
        return {clean(k, what, depth + 1): clean(x, what, depth + 1) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x, what, depth + 1) for x in v]
    return v


def number(d: dict[str, object], key: str, lo: float, hi: float) -> float:
    """``d[key]``: a finite number in lo..hi (bool is not a number)."""
    v = d.get(key, _MISSING)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise ValueError(f"{key} = {_show(v)} (a number from {lo:g} to {hi:g})")
    return float(v)


def integer(d: dict[str, object], key: str, lo: int, hi: int) -> int:
    """``d[key]``: an integer in lo..hi (1.0 is not an integer here)."""
    v = d.get(key, _MISSING)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{key} = {_show(v)} (an integer from {lo} to {hi})")
    return v


def text(d: dict[str, object], key: str, default: str | None = None) -> str:
    """``d[key]``: a text (already escaped by :func:`loads`), or ``default`` if missing."""
    v = d.get(key, _MISSING if default is None else default)
    if not isinstance(v, str):
        raise ValueError(f"{key} = {_show(v)} (a text)")
    return v


_MISSING = object()


def _show(v: object) -> str:
    """A value as the JSON it came as (texts are escaped already), cut to 40 characters."""
    s = "missing" if v is _MISSING else json.dumps(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _optional(
    check: Callable[[object], bool], kind: str
) -> Callable[[dict[str, object], str], None]:
    def field(d: dict[str, object], key: str) -> None:
        if key in d and not check(d[key]):
            raise ValueError(f"{key} = {_show(d[key])} ({kind})")

    return field


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COUNT


_count = _optional(_is_count, f"an integer from 0 to {MAX_COUNT}")
_flag = _optional(lambda v: isinstance(v, bool), "true or false")
_text_or_null = _optional(lambda v: v is None or isinstance(v, str), "a text or null")


def check_status(d: dict[str, object]) -> dict[str, object]:
    """A STATUS object: the known keys have their types (all optional; unknown keys are
    kept for later versions)."""
    for key in ("overflows", "lost_frames", "dropped", "frames"):
        _count(d, key)
    _flag(d, "input_lost")
    _text_or_null(d, "recording")
    return d


def check_end(d: dict[str, object]) -> dict[str, object]:
    """An END object: ``reason`` a text (or missing), ``frames`` a count."""
    _text_or_null(d, "reason")
    _count(d, "frames")
    return d


def check_frame(
    index: int,
    start: int,
    t: float,
    levels: tuple[float, float, float],
    npeaks: int,
    max_peaks: int,
) -> None:
    """A FRAME's fixed fields: positions, time, levels (rms, peak, latency), peak count."""
    if index > MAX_COUNT or start > MAX_COUNT:
        raise ValueError(f"index {index} or start {start} above {MAX_COUNT}")
    if not (math.isfinite(t) and 0.0 <= t <= MAX_SECONDS):
        raise ValueError(f"time {t!r} s (0 to {MAX_SECONDS:g})")
    rms, peak, latency = levels
    for name, v in (("rms_dbfs", rms), ("peak_dbfs", peak)):
        if not (math.isfinite(v) and abs(v) <= MAX_DB):
            raise ValueError(f"{name} {v!r} (-{MAX_DB:g} to {MAX_DB:g})")
    if not (math.isnan(latency) or 0.0 <= latency <= MAX_SECONDS):  # NaN: not measured
        raise ValueError(f"latency {latency!r} s")
    if npeaks > max_peaks:
        raise ValueError(f"{npeaks} peaks, the header allows {max_peaks}")


def check_peak(freq: float, level: float, bin_: float, bins: int) -> None:
    """One peak of a FRAME: a finite frequency, level and bin inside the row."""
    if not (math.isfinite(freq) and 0.0 <= freq <= MAX_HZ):
        raise ValueError(f"peak frequency {freq!r} Hz")
    if not (math.isfinite(level) and abs(level) <= MAX_DB):
        raise ValueError(f"peak level {level!r} dBFS")
    if not (math.isfinite(bin_) and 0.0 <= bin_ <= bins):
        raise ValueError(f"peak bin {bin_!r} (0 to {bins})")
