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


@pytest.mark.parametrize(
    "args, line",
    [
        (["--colormap", "nope"], "--colormap nope: must be one of viridis, magma, inferno, "),
        (["--fft", "3"], "--fft 3: must be an integer from 64 to 65536"),
        (["--scale", "nope"], "--scale nope: must be one of linear, log, mel, cqt"),
        (["--fmin", "5000", "--fmax", "100"], "--fmax 100 must be above --fmin 5000"),
        (["--config", "/nonexistent/livespec.toml"], "config file '/nonexistent/livespec"),
        (["--input", "/nonexistent.wav"], "cannot open '/nonexistent.wav': no such file"),
        (["--input", "tone:abc"], "bad frequency 'abc' in --input 'tone:abc'"),
        (["--input", "demo", "--device", "0"], "give either --device or --input, not both"),
    ],
)
def test_a_bad_option_is_said_before_the_missing_terminal(args: list[str], line: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "livespec", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"livespec: {line}") and done.stderr.count("\n") == 1
