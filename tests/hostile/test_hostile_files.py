"""Every reader over malformed audio files, special files and hostile names.

For each (case, reader): the documented exit status (tests/support/hostile.py), stderr
empty on success or exactly one ``livespec:`` line otherwise (no traceback, no native
library chatter), no raw control character in any output, peak RSS under 200 MB, done
within 10 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import FILE_CASES, RAW_CONTROL, Case, Run, run

READERS = ("peaks", "measure", "export")
MAX_RSS_MB = 200.0
MAX_SECONDS = 10.0


def _args(reader: str, path: Path, out: Path) -> list[str]:
    if reader == "export":
        return ["export", str(path), "-o", str(out)]
    return [reader, "--input", str(path)]


def check(result: Run, status: int) -> None:
    """The assertions every hostile run must pass."""
    assert not result.timed_out, "did not finish"
    assert result.status == status, (result.status, result.stderr)
    lines = result.stderr.splitlines()
    if status == 0:
        assert lines == [], result.stderr
    else:
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("livespec: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not RAW_CONTROL.search(result.stdout + result.stderr), repr(result.stderr)
    assert result.rss_mb < MAX_RSS_MB
    assert result.seconds < MAX_SECONDS


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_hostile_file(case: Case, reader: str, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    result = run(_args(reader, path, tmp_path / "out"), timeout=MAX_SECONDS)
    check(result, case.status[READERS.index(reader)])


def test_there_are_enough_cases() -> None:
    assert len(FILE_CASES) * len(READERS) >= 60
