"""``livespec``'s start-up probe: a child process asks PortAudio (here: a stand-in for
``list_input_devices``, which the forked child inherits) whether any input device exists;
only its clear "none" makes the app skip PortAudio and show the demo."""

from __future__ import annotations

import os
import time

import pytest

import livespec.audio.devices as devices
from livespec.audio import probe as probe_mod
from livespec.audio.devices import DeviceInfo
from livespec.errors import SourceError

MIC = DeviceInfo(0, "mic", "ALSA", 1, 48000.0, True)


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _answer(monkeypatch: pytest.MonkeyPatch, listing: object) -> tuple[bool, int]:
    monkeypatch.setattr(devices, "list_input_devices", listing)
    probe = probe_mod.start_probe()
    assert probe is not None
    try:
        return probe.found_none(), probe.pid
    finally:
        probe.close()


def test_none_only_when_portaudio_lists_no_input_device(monkeypatch: pytest.MonkeyPatch):
    none, pid = _answer(monkeypatch, lambda: [])
    assert none is True
    assert _reaped(pid)  # the child has ended before the app goes on
    assert _answer(monkeypatch, lambda: [MIC])[0] is False


def test_an_error_in_the_child_is_no_answer(monkeypatch: pytest.MonkeyPatch):
    """A failing probe (PortAudio missing, Pa_Initialize failing) proves nothing: the app
    asks PortAudio itself and reports what it says."""

    def failing() -> list[DeviceInfo]:
        raise SourceError("PortAudio library not found")

    assert _answer(monkeypatch, failing)[0] is False


def test_a_child_that_does_not_answer_is_ended(monkeypatch: pytest.MonkeyPatch):
    def hanging() -> list[DeviceInfo]:
        time.sleep(60)
        return []

    monkeypatch.setattr(probe_mod, "ANSWER_TIMEOUT_S", 0.2)
    none, pid = _answer(monkeypatch, hanging)
    assert none is False
    assert _reaped(pid)


def test_close_without_asking_ends_the_child(monkeypatch: pytest.MonkeyPatch):
    """An error before the device is opened (cmd_app's ``finally``) leaves no process."""

    def hanging() -> list[DeviceInfo]:
        time.sleep(60)
        return []

    monkeypatch.setattr(devices, "list_input_devices", hanging)
    probe = probe_mod.start_probe()
    assert probe is not None
    probe.close()
    probe.close()  # idempotent
    assert _reaped(probe.pid)
    assert probe.found_none() is False  # closed: no answer
