"""Every reader over malformed audio files, special files and hostile names.

For each (case, reader): the documented exit status (tests/support/hostile.py), stderr
empty on success or exactly one ``livespec:`` line otherwise (no traceback, no native
library chatter), no raw control character in any output, peak RSS under 200 MB, done
within 10 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import FILE_CASES, MAX_SECONDS, Case, check, run

READERS = ("peaks", "measure", "export")


def _args(reader: str, path: Path, out: Path) -> list[str]:
    if reader == "export":
        return ["export", str(path), "-o", str(out)]
    return [reader, "--input", str(path)]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_hostile_file(case: Case, reader: str, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    result = run(_args(reader, path, tmp_path / "out"), timeout=MAX_SECONDS)
    check(result, case.status[READERS.index(reader)])


def test_there_are_enough_cases() -> None:
    assert len(FILE_CASES) * len(READERS) >= 60
