"""Overlay curves from CSV: ``time_s,value`` (a frequency in Hz, drawn on the frequency
axis) or ``time_s,value,unit`` with unit ``Hz`` or ``dB`` (a level, drawn on its own axis).

A header line is allowed (the first line, if its first field is not a number). Times must
not decrease; an empty value (or ``nan``) is a gap in the curve. Pure code; any thread.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass

import numpy as np

from livespec.annotate import AnnotationError, read_text

MAX_CURVE_BYTES = 64 * 1024 * 1024
UNITS = ("Hz", "dB")


@dataclass(frozen=True, eq=False)
class Curve:
    """One overlay: ``times`` (s, non-decreasing, float64) and ``values`` (float64; NaN is a
    gap) in ``unit`` (``"Hz"`` or ``"dB"``), named ``name`` (the file's stem by default)."""

    name: str
    times: np.ndarray
    values: np.ndarray
    unit: str = "Hz"


def _number(field: str, path: str, line: int, what: str, allow_gap: bool) -> float:
    text = field.strip()
    if allow_gap and text.lower() in ("", "nan"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(path, line, f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise AnnotationError(path, line, f"{what} {text!r} is not finite")
    return value


def parse_curve(text: str, path: str = "<overlay>", name: str | None = None) -> Curve:
    """A :class:`Curve` from CSV text; raises :class:`AnnotationError` (file and line)."""
    times: list[float] = []
    values: list[float] = []
    unit: str | None = None
    rows = csv.reader(io.StringIO(text))
    for number, row in enumerate(rows, start=1):
        if not row or all(not f.strip() for f in row):
            continue
        if number == 1 and not _is_number(row[0]):
            continue  # a header
        if len(row) not in (2, 3):
            raise AnnotationError(
                path, number, f"expected time_s,value or time_s,value,unit; got {len(row)} columns"
            )
        t = _number(row[0], path, number, "time", allow_gap=False)
        if t < 0:
            raise AnnotationError(path, number, f"time {t:g} s is negative")
        if times and t < times[-1]:
            raise AnnotationError(path, number, f"time {t:g} s is before the line above")
        v = _number(row[1], path, number, "value", allow_gap=True)
        row_unit = row[2].strip() if len(row) == 3 else "Hz"
        if row_unit not in UNITS:
            raise AnnotationError(path, number, f"unit {row_unit!r} is not Hz or dB")
        if unit is None:
            unit = row_unit
        elif row_unit != unit:
            raise AnnotationError(path, number, f"unit {row_unit} differs from {unit} above")
        if unit == "Hz" and not math.isnan(v) and v < 0:
            raise AnnotationError(path, number, f"frequency {v:g} Hz is negative")
        times.append(t)
        values.append(v)
    if not times:
        raise AnnotationError(path, None, "no data rows (expected time_s,value[,unit])")
    stem = name if name is not None else os.path.splitext(os.path.basename(path))[0]
    return Curve(stem, np.asarray(times, np.float64), np.asarray(values, np.float64), unit or "Hz")


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def read_curve(path: str | os.PathLike[str]) -> Curve:
    """Read an overlay CSV file (UTF-8); raises :class:`AnnotationError`."""
    name, text = read_text(path, MAX_CURVE_BYTES)
    return parse_curve(text, name)


def sample_curve(curve: Curve, times: np.ndarray) -> np.ndarray:
    """The curve's value at each of ``times`` (s): linear interpolation between points,
    NaN outside the curve's time span and across gaps. Float64, same shape as ``times``."""
    t = np.asarray(times, np.float64)
    out: np.ndarray = np.interp(t, curve.times, curve.values, left=np.nan, right=np.nan)
    if len(curve.times) == 1:
        out = np.where(t == curve.times[0], curve.values[0], np.nan)
    return out
