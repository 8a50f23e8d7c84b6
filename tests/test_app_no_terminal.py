"""The app without a terminal (cron, CI, a mistaken redirect) says so and exits 2 at once,
instead of writing escape codes into a file until killed."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["--input", "demo"], []])
def test_the_app_without_a_terminal_is_one_line_and_exit_2(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "livespec", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "livespec: no terminal; use 'livespec peaks' or 'livespec record' for headless work\n"
    )
