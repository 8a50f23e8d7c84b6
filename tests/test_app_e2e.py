"""End-to-end: the real ``livespec`` in a tmux terminal, read back from the screen.

* the virtual input device plays 1000 Hz: the readout shows 1000.0 Hz, the waterfall is
  filled with many colours, the colour bar and the frequency axis are labelled, and ``q``
  exits with status 0 and the terminal restored;
* raw PCM piped on stdin while the keys come from the terminal (``cat file | livespec
  --input -``);
* no input device at all: ``livespec`` falls back to the demo signal with a notice;
* the plot written directly to the terminal looks exactly as Textual's own repaint.

Nothing here asserts on timing: the waits are generous deadlines for a loaded machine.
"""

from __future__ import annotations

import math
import re
import shlex
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pytest

DEADLINE_S = 30.0


class Tmux:
    """A detached tmux session running one shell command (its own server socket)."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.socket = str(tmp / f"tmux-{name}")
        self.name = name
        self.exit_file = tmp / f"{name}.exit"

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return out.stdout

    def start(self, command: str, env: Mapping[str, str], size: tuple[int, int]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        done = f"echo $? > {shlex.quote(str(self.exit_file))}"
        shell = f"unset LINES COLUMNS; {exports} {command}; {done}; sleep 600"
        geometry = ["-x", str(size[0]), "-y", str(size[1]), "-e", "COLORTERM=truecolor"]
        subprocess.run(
            ["tmux", "-S", self.socket, "new-session", "-d", "-s", self.name, *geometry, shell],
            check=True,
            timeout=20,
        )

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def wait_for(self, pattern: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.25)
        raise AssertionError(f"{pattern!r} never appeared; screen:\n{text}")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def wait_exit(self) -> int:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text().strip())
            time.sleep(0.1)
        raise AssertionError(f"livespec did not exit; screen:\n{self.screen()}")

    def kill(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, "livespec")
    yield t
    t.kill()


def _livespec(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in [sys.executable, "-m", "livespec", *args])


def _colours(screen_with_escapes: str) -> int:
    return len(set(re.findall(r"[34]8;2;(\d+;\d+;\d+)", screen_with_escapes)))


def _assert_restored(tmux: Tmux) -> None:
    assert tmux.tmux("display", "-p", "-t", tmux.name, "#{alternate_on}").strip() == "0"
    assert tmux.tmux("display", "-p", "-t", tmux.name, "#{cursor_flag}").strip() == "1"
    assert "▀" not in tmux.screen()


@pytest.mark.virtual_audio
def test_device_tone_shows_1000_hz_and_q_exits(virtual_audio, tmux: Tmux) -> None:
    tmux.start(_livespec("--device", "pulse"), virtual_audio.env, (120, 40))
    screen = tmux.wait_for(r"Peak +1000\.0 Hz")
    readout = screen.splitlines()[0]
    assert re.search(r"1000\.0 Hz +-\d+\.\d dBFS +B5 [+-]\d+¢", readout), readout
    tmux.wait_for(r"(?m)─ -120\s*$")  # colour bar labels
    tmux.wait_for(r"(?m)─ 0\s*$")
    tmux.wait_for(r"(?m)^ +1k[┤◀]")  # frequency axis (◀: the peak)
    tmux.wait_for(r"(?m)^ +10k┤")
    tmux.wait_for(r"(?m)^ +Hz .*-1s .* 0s +dBFS")  # time scale
    tmux.wait_for(r"device 'pulse'.* overflows 0")  # the status line
    assert _colours(tmux.screen(escapes=True)) >= 20  # a filled, many-coloured waterfall
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


def _tone_file(path: Path, seconds: float = 30.0, freq: float = 1000.0) -> None:
    fs = 48000
    n = int(seconds * fs)
    amp = 0.5 * 32767
    data = struct.pack(
        f"<{n}h", *(round(amp * math.sin(2 * math.pi * freq * i / fs)) for i in range(n))
    )
    path.write_bytes(data)


def test_stdin_pcm_with_keys_from_the_terminal(tmp_path: Path, tmux: Tmux) -> None:
    raw = tmp_path / "tone.raw"
    _tone_file(raw)
    cmd = f"cat {shlex.quote(str(raw))} | " + _livespec("--input", "-", "--format", "s16le")
    tmux.start(cmd, {}, (100, 30))
    tmux.wait_for(r"Peak +1000\.0 Hz")
    assert "stdin (s16le, 1 ch)" in tmux.screen()
    tmux.keys("w")  # keys reach the app although stdin is the pipe
    tmux.wait_for(r"FFT 4096 hamming")
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


def test_no_input_device_falls_back_to_demo(tmp_path: Path, tmux: Tmux) -> None:
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-server"}  # no sound card here either
    tmux.start(_livespec(), env, (100, 30))
    tmux.wait_for(r"No audio input")  # the notice
    tmux.wait_for(r"test signal 'demo'")  # the status line
    tmux.wait_for(r"Peak +\d+\.\d Hz")  # and it is analysing
    tmux.keys("q")
    assert tmux.wait_exit() == 0


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_direct_drawing_shows_what_textual_would(
    tmp_path: Path, tmux: Tmux, orientation: str
) -> None:
    """The plot's rows go straight to the terminal (changed pieces only; the vertical
    waterfall scrolled by the terminal). When the input ends, the screen is captured; then
    the help screen is opened and closed, so that Textual repaints everything itself; the
    two screens must be identical, colours included, and the log must show that the
    updates were written directly."""
    import soundfile as sf

    fs = 48000
    t = np.arange(int(fs * 3.0)) / fs
    sweep = 0.5 * np.sin(2 * np.pi * (200 * t + 1500 * t**2))  # 200 Hz .. 9.2 kHz
    wav = tmp_path / "sweep.wav"
    sf.write(wav, (sweep + 0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), fs)
    log = tmp_path / "frames.txt"
    env = {"LIVESPEC_FRAME_LOG": str(log)}
    args = ["--input", str(wav), "--orientation", orientation, "--colors", "truecolor"]
    tmux.start(_livespec(*args), env, (120, 40))
    tmux.wait_for(r"END OF INPUT")
    time.sleep(1.0)  # the last frames drawn, the status line settled
    direct = tmux.screen(escapes=True)
    tmux.keys("?")
    tmux.wait_for(r"Help")
    tmux.keys("Escape")
    deadline = time.monotonic() + DEADLINE_S
    while "Hide cursor" in tmux.screen():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.0)
    repainted = tmux.screen(escapes=True)
    assert _colours(direct) > 50
    # everything above the status line (whose frame rate falls to 0 meanwhile)
    assert direct.splitlines()[:38] == repainted.splitlines()[:38]
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    kinds = np.loadtxt(log, ndmin=2)[:, 1]
    assert kinds.size > 30 and kinds.mean() > 0.9  # nearly every update went directly
