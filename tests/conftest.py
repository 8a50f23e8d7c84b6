"""Shared fixtures: an isolated XDG environment, the virtual input device, a runner for
``python -m livespec`` in a subprocess, and a tiny full-able disk. Helpers that are plain
functions live in the ``support`` package beside this file.

PortAudio lists devices once, when ``sounddevice`` is imported, so tests that need the
virtual device drive livespec in a subprocess started after the device::

    def test_x(virtual_audio, run_livespec):
        done = run_livespec("devices", env=virtual_audio.env)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from support.virtual_audio import VirtualAudio

RunLivespec = Callable[..., "subprocess.CompletedProcess[str]"]


def run_livespec(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m livespec *args`` and capture its text output.

    Args:
        env: variables added to (and overriding) ``os.environ``, e.g. ``virtual_audio.env``.
        timeout: seconds before the process is killed and the test fails.
        input: text for its stdin (otherwise stdin is empty).
    """
    return subprocess.run(
        [sys.executable, "-m", "livespec", *args],
        env={**os.environ, **(env or {})},
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(name="run_livespec")
def run_livespec_fixture() -> RunLivespec:
    """:func:`run_livespec` as a fixture."""
    return run_livespec


@pytest.fixture(scope="session", autouse=True)
def _isolated_xdg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the XDG directories at empty temporary ones: no test reads a user's config
    or cache, and subprocesses inherit the same."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            mp.setenv(var, str(tmp_path_factory.mktemp(var.lower())))
        yield


@pytest.fixture(scope="session")
def virtual_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualAudio]:
    """A private PulseAudio server whose input device ``pulse`` plays a 1000 Hz sine of
    peak 0.5 at 48000 Hz (float32, so the samples arrive exactly). Pass ``.env`` to
    subprocesses; tests that retune it with ``set_tone`` should restore 1000 Hz / 0.5."""
    va = VirtualAudio(tmp_path_factory.mktemp("virtual_audio"), rate=48000, freq=1000.0, amp=0.5)
    va.start()
    try:
        yield va
    finally:
        va.stop()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root), unmounted afterwards."""
    d = tmp_path / "disk"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(d)], check=True)
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], check=True)
