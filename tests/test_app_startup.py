"""The app's start-up: the garbage collector is off while it starts and on again after."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

import livespec.cli as cli
import livespec.tui.run as tui_run
from livespec.errors import SourceError


def test_freeze_gc_turns_the_collector_back_on():
    """``freeze_gc`` (1.5 s after the app is up) turns on the collector that ``livespec``
    turned off at launch, and makes full collections rarer."""
    code = (
        "import gc\n"
        "from livespec.tui.process import GC_FULL_EVERY, freeze_gc\n"
        "gc.disable()\n"
        "freeze_gc()\n"
        "print(gc.isenabled(), gc.get_threshold()[2] == GC_FULL_EVERY, gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]


def test_the_collector_is_on_again_when_the_app_fails_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error before the app is up (here: the source) leaves the collector on."""
    seen: list[bool] = []

    def failing_run_app(*args: object) -> int:
        seen.append(gc.isenabled())
        raise SourceError("no such input")

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # main() sets it if unset
    monkeypatch.setattr(cli, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(tui_run, "run_app", failing_run_app)
    assert gc.isenabled()
    try:
        status = cli.main(["--input", "tone:1000"])
        after = gc.isenabled()
    finally:
        gc.enable()  # whatever happened, not off for the rest of the test session
    assert status == SourceError("x").exit_code
    assert seen == [False]  # off while the app started
    assert after
    assert "no such input" in capsys.readouterr().err
