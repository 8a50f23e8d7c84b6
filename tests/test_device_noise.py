"""A device that dies under a running stream: livespec's one line on stderr, not PortAudio's.

PortAudio's ALSA backend prints ``Expression '...' failed in 'src/hostapi/alsa/...'`` lines
with ``fprintf(stderr)`` from its callback thread when the sound server dies, before
livespec knows (three of them before ``livespec: input stream ended unexpectedly``; in the
app more at every reopen attempt, over the screen). While a stream is open, C stdio's
``stderr`` goes to a temporary file (``NativeStdio``); fd 2, so livespec's own lines and
Python tracebacks, is left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.virtual_audio import VirtualAudio

HELD_CODE = r"""
import ctypes, sys
from livespec.audio.stderr import NATIVE_STDIO
libc = ctypes.CDLL(None)
libc.fprintf.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
libc.fflush.argtypes = [ctypes.c_void_p]
err = ctypes.c_void_p.in_dll(libc, "stderr")

def c_says(text):
    libc.fprintf(err.value, text.encode())
    libc.fflush(err.value)

c_says("c: before\n")
NATIVE_STDIO.hold()
NATIVE_STDIO.hold()  # a second stream
c_says("Expression 'alsa_snd_pcm_poll_descriptors_revents( self->pcm, pfds, self->nfds, "
       "&revents )' failed in 'src/hostapi/alsa/pa_linux_alsa.c', line: 3665\n")
sys.stderr.write("livespec: mine, at once\n"); sys.stderr.flush()
c_says("ALSA lib pulse.c:242:(pulse_connect) PulseAudio: Unable to connect: refused\n")
c_says("c: something else\n")
NATIVE_STDIO.release()
sys.stderr.write("livespec: one stream left\n"); sys.stderr.flush()
NATIVE_STDIO.release()
c_says("c: after\n")
NATIVE_STDIO.hold()  # a stream open, and then an uncaught exception: its traceback shows
raise RuntimeError("a Python traceback is not C stdio")
"""


def test_c_stdio_is_held_while_streams_are_open_and_only_the_sound_stack_is_dropped() -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(HELD_CODE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [x for x in done.stderr.splitlines() if not x.startswith('  File "<string>"')]
    assert lines == [
        "c: before",
        "livespec: mine, at once",
        "livespec: one stream left",
        "c: something else",  # copied when the last stream closed
        "c: after",
        "Traceback (most recent call last):",
        "RuntimeError: a Python traceback is not C stdio",
    ]


def _dies(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``livespec ARGS`` on a private virtual device whose server is killed once the
    command captures."""
    va = VirtualAudio(tmp_path / "va")  # not the session's device
    va.start()
    cmd = [sys.executable, "-m", "livespec", *args]
    env = {**os.environ, **va.env, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if args[0] == "peaks":
            assert proc.stdout.readline()  # a frame: capturing
        else:
            out = tmp_path / "take.wav"
            while not (out.exists() and out.stat().st_size > 48000):  # capturing
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        va.stop()
        out_text, err = proc.communicate(timeout=30)
    finally:
        va.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, out_text, err)


@pytest.mark.virtual_audio
@pytest.mark.parametrize("command", ["peaks", "record"])
def test_a_dying_device_is_one_line_of_livespec_not_portaudio(tmp_path: Path, command: str) -> None:
    args = (
        ["peaks", "--device", "pulse", "--json"]
        if command == "peaks"
        else ["record", "--device", "pulse", str(tmp_path / "take.wav")]
    )
    done = _dies(tmp_path, *args)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("livespec: input stream ended unexpectedly: device 'pulse'")
