"""Audacity label tracks: ``start<TAB>end<TAB>text`` per line, times in seconds.

Audacity writes times with six decimals (``%.6f``); :func:`format_labels` does the same, so
a file written by Audacity and read here is written back byte for byte. Spectral labels
(a second line starting with a backslash: ``\\<TAB>f_low<TAB>f_high``) are kept.
Pure code; any thread.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from livespec.annotate import AnnotationError, read_text

MAX_LABEL_BYTES = 16 * 1024 * 1024  # a label file larger than this is refused


@dataclass(frozen=True)
class Label:
    """One region: ``start`` and ``end`` in seconds (``end >= start``; equal for a point
    label), ``text`` (may be empty), and optionally its frequency range in Hz."""

    start: float
    end: float
    text: str = ""
    f_low: float | None = None
    f_high: float | None = None


def _time(field: str, path: str, line: int, what: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise AnnotationError(
            path, line, f"{what} time {field.strip()!r} is not a number"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise AnnotationError(
            path, line, f"{what} time {field.strip()!r} must be a finite number ≥ 0"
        )
    return value


def parse_labels(text: str, path: str = "<labels>") -> list[Label]:
    """Labels from the text of an Audacity label file; raises :class:`AnnotationError`
    (file and line) for a bad line. Blank lines are skipped."""
    labels: list[Label] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        fields = raw.split("\t")
        if fields[0] == "\\":
            if not labels:
                raise AnnotationError(path, number, "a frequency line before any label")
            if len(fields) < 3:
                raise AnnotationError(path, number, "a frequency line needs '\\', f_low and f_high")
            lo = _time(fields[1], path, number, "low frequency")
            hi = _time(fields[2], path, number, "high frequency")
            last = labels[-1]
            labels[-1] = Label(last.start, last.end, last.text, lo, hi)
            continue
        if len(fields) < 2:
            raise AnnotationError(
                path, number, "expected start<TAB>end<TAB>text (an Audacity label track)"
            )
        start = _time(fields[0], path, number, "start")
        end = _time(fields[1], path, number, "end")
        if end < start:
            raise AnnotationError(path, number, f"end {end:g} s is before start {start:g} s")
        labels.append(Label(start, end, "\t".join(fields[2:])))
    return labels


def read_labels(path: str | os.PathLike[str]) -> list[Label]:
    """Read an Audacity label file (UTF-8); raises :class:`AnnotationError`."""
    name, text = read_text(path, MAX_LABEL_BYTES)
    return parse_labels(text, name)


def format_labels(labels: Iterable[Label]) -> str:
    """The text of an Audacity label file for ``labels`` (``%.6f`` times, LF endings)."""
    lines: list[str] = []
    for lab in labels:
        lines.append(f"{lab.start:.6f}\t{lab.end:.6f}\t{lab.text}")
        if lab.f_low is not None and lab.f_high is not None:
            lines.append(f"\\\t{lab.f_low:.6f}\t{lab.f_high:.6f}")
    return "".join(line + "\n" for line in lines)


def write_labels(path: str | os.PathLike[str], labels: Sequence[Label]) -> None:
    """Write ``labels`` as an Audacity label file: to a temporary name, then renamed, so a
    crash never leaves half a file. Raises :class:`AnnotationError` on an I/O error."""
    name = os.fspath(path)
    tmp = f"{name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(format_labels(labels))
        os.replace(tmp, name)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise AnnotationError(name, None, exc.strerror or "cannot be written") from None
