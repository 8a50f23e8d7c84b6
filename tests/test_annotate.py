"""Audacity label tracks and overlay CSV curves (livespec.annotate): parsing, errors with
file and line, and byte-identical round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livespec.annotate import AnnotationError
from livespec.annotate.curves import parse_curve, read_curve, sample_curve
from livespec.annotate.labels import Label, format_labels, parse_labels, read_labels, write_labels

# As Audacity 3 exports a label track: %.6f times, tabs, a spectral label's frequency line.
AUDACITY = (
    "0.500000\t1.250000\tbird\n"
    "2.000000\t2.000000\t\n"
    "3.141593\t4.000000\ttwo words\there\n"
    "\\\t1000.000000\t4000.000000\n"
)


def test_labels_parse_audacity_text() -> None:
    labels = parse_labels(AUDACITY)
    assert labels == [
        Label(0.5, 1.25, "bird"),
        Label(2.0, 2.0, ""),
        Label(3.141593, 4.0, "two words\there", 1000.0, 4000.0),
    ]


def test_labels_round_trip_byte_identical(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(AUDACITY.encode())
    out = tmp_path / "out.txt"
    write_labels(out, read_labels(src))
    assert out.read_bytes() == src.read_bytes()
    assert format_labels(parse_labels(AUDACITY)) == AUDACITY


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("0.5\n", 1, "expected start<TAB>end"),
        ("0.5\t1\tok\nx\t2\tbad\n", 2, "start time 'x' is not a number"),
        ("2\t1\tback\n", 1, "before start"),
        ("-1\t1\tneg\n", 1, "finite number ≥ 0"),
        ("nan\t1\t\n", 1, "finite number ≥ 0"),
        ("\\\t10\t20\n", 1, "frequency line before any label"),
    ],
)
def test_labels_bad_lines_name_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(AnnotationError) as info:
        parse_labels(text, "marks.txt")
    assert info.value.line == line
    assert reason in str(info.value)
    assert str(info.value).startswith(f"marks.txt:{line}: ")
    assert "\n" not in str(info.value)


def test_labels_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match="No such file"):
        read_labels(tmp_path / "nope.txt")
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"0\t1\tok\n\xff\xfe\n")
    with pytest.raises(AnnotationError) as info:
        read_labels(bad)
    assert info.value.line == 2


def test_curve_hz_with_header_and_gap() -> None:
    c = parse_curve("time_s,value\n0.0,440\n0.5,\n1.0,880\n", "pitch.csv")
    assert c.name == "pitch" and c.unit == "Hz"
    assert np.array_equal(c.times, [0.0, 0.5, 1.0])
    assert c.values[0] == 440 and np.isnan(c.values[1]) and c.values[2] == 880


def test_curve_db_unit_and_sampling() -> None:
    c = parse_curve("0,-20,dB\n1,-10,dB\n", "env.csv")
    assert c.unit == "dB"
    got = sample_curve(c, np.array([-0.1, 0.0, 0.25, 1.0, 1.5]))
    assert np.isnan(got[0]) and np.isnan(got[4])
    assert got[1:4] == pytest.approx([-20.0, -17.5, -10.0])


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("0,1,2,3\n", 1, "got 4 columns"),
        ("0,440\n1,abc\n", 2, "value 'abc' is not a number"),
        ("1,440\n0,440\n", 2, "before the line above"),
        ("0,1,volts\n", 1, "not Hz or dB"),
        ("0,1,Hz\n1,2,dB\n", 2, "differs from Hz"),
        ("0,-5\n", 1, "negative"),
        ("0,inf\n", 1, "not finite"),
    ],
)
def test_curve_bad_lines_name_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(AnnotationError) as info:
        parse_curve(text, "c.csv")
    assert info.value.line == line
    assert reason in str(info.value)


def test_curve_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("time_s,value\n")
    with pytest.raises(AnnotationError, match="no data rows"):
        read_curve(p)
