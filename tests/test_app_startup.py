"""The app's start-up: the garbage collector is off while it starts and on again after;
the first peak is read out as soon as it is there."""

from __future__ import annotations

import gc
import re
import subprocess
import sys

import pytest
from support.app import make_rig, sync

import livespec.cli as cli
import livespec.tui.run as tui_run
from livespec.errors import SourceError
from livespec.tui.app import READOUT_EVERY
from livespec.tui.widgets.common import TextLines


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


@sync
async def test_the_first_peak_is_read_out_on_the_tick_that_brings_it() -> None:
    """Frames that arrive after the app is up (a device's first 4096 samples come 85 ms
    after it opens) show their peak on the tick that brings them, not on the next readout
    tick (up to 133 ms later)."""
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        readout = app.query_one("#readout", TextLines)
        assert "Hz" not in readout.text.plain.splitlines()[0]  # mounted without a frame
        rig.feed(10)  # audio for a few frames, then one tick
        assert app._ticks % READOUT_EVERY != 0  # not a readout tick
        await pilot.pause()
        assert re.search(r"Peak +1000\.0 Hz", readout.text.plain)


@pytest.mark.parametrize("running", [True, False])
def test_a_stop_signal_ends_the_process_even_if_the_way_out_hangs(monkeypatch, running) -> None:
    """SIGTERM/SIGHUP ask the app to exit as ``q`` does; a way out that hangs (a terminal
    gone with the SSH link, a sound server gone with the session) or an app not running
    any more left a process behind for good (seen: benchmark runs' apps living on after
    their tmux server was killed). The process now ends within STOP_GRACE_S anyway."""
    import os
    import signal
    import threading

    from livespec.tui import process

    asked: list[tuple[object, ...]] = []
    ended: list[int] = []
    done = threading.Event()

    class FakeApp:
        def exit(self, result: object, return_code: int) -> None:
            asked.append((result, return_code))

        def call_from_thread(self, callback, *args):  # type: ignore[no-untyped-def]
            if not running:
                raise RuntimeError("App is not running")
            callback(*args)  # the app's exit path then hangs: nothing more happens

    def fake_exit(status: int) -> None:
        ended.append(status)
        done.set()

    monkeypatch.setattr(process, "STOP_GRACE_S", 0.05)
    monkeypatch.setattr(os, "_exit", fake_exit)
    with process.exit_on_stop_signals(FakeApp()):  # type: ignore[arg-type]
        os.kill(os.getpid(), signal.SIGTERM)
        assert done.wait(10.0)
    assert ended == [143]
    assert asked == ([(None, 143)] if running else [])
