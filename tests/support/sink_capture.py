"""The virtual sink's monitor as a clock of what is heard: a *scrambled counter* test file
whose every sample names its own frame, and ``parec`` on the monitor with each read
stamped with ``time.monotonic()``. Shared by tests/test_playback_device.py and
tests/test_playhead_screen.py.

The file: sample n is the counter value of ``n * A mod 2**24`` (A odd, so the map is a
bijection): white-noise-like, so a shift of one sample ruins the correlation, and exact in
float32, so every captured sample names the file frame it came from. A gap, a repeat or a
seek is then read off exactly, sample by sample.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time

import numpy as np
import numpy.typing as npt

from support.virtual_audio import SINK, VirtualAudio

RATE = 48000
_P = 1 << 24
_H = 1 << 23
_A = 0x9E3779  # odd: n -> n * A mod 2**24 is a bijection
_A_INV = pow(_A, -1, _P)


def scrambled(n: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """Sample n of the test file: exact in float32, different for every n < 2**24."""
    return ((((n * _A) % _P) - _H) / _H).astype(np.float32)


def frames_of(x: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """The file frame each sample came from (the inverse of :func:`scrambled`); -1 for
    exact zeros (silence: 0.0 is frame 2**23 * A_inv, far beyond a 20 s file)."""
    k = (np.rint(x.astype(np.float64) * _H).astype(np.int64) + _H) % _P
    frames = (k * _A_INV) % _P
    frames[x == 0.0] = -1
    return frames


def steps(frames: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """(position, jump) at each place where the sound does not step by +1 file frame
    (silence removed): jump > 0 frames skipped, < 0 repeated."""
    sound = np.flatnonzero(frames >= 0)
    d = np.diff(frames[sound])
    return [(int(sound[i + 1]), int(d[i]) - 1) for i in np.flatnonzero(d != 1)]


class Capture:
    """``parec`` on the sink's monitor, each read stamped with ``time.monotonic()``."""

    def __init__(self, va: VirtualAudio) -> None:
        self.env = {**os.environ, **va.env}
        self.proc = subprocess.Popen(
            [
                "parec",
                f"--device={SINK}.monitor",
                "--raw",
                "--format=float32le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=10",
            ],
            env={**os.environ, **va.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.data = bytearray()
        self.reads: list[tuple[int, float]] = []  # (bytes so far, arrival time)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while chunk := os.read(fd, 1 << 16):
            now = time.monotonic()
            self.data += chunk
            self.reads.append((len(self.data), now))

    def sink_block(self) -> float:
        """The null sink's configured latency (s): how far ahead of its play time it
        renders, and so how early the monitor hands audio out."""
        text = subprocess.run(
            ["pactl", "list", "sinks"], env=self.env, capture_output=True, text=True, check=True
        ).stdout
        block = text[text.index(f"Name: {SINK}") :]
        found = re.search(r"Latency: \d+ usec, configured (\d+) usec", block)
        assert found is not None, block
        return int(found[1]) / 1e6

    def stop(self) -> tuple[npt.NDArray[np.float32], float]:
        """The capture and its clock: sample j arrived by ``t0 + j / RATE`` (s)."""
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.thread.join(timeout=5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        x = np.frombuffer(bytes(self.data[: len(self.data) // 4 * 4]), dtype="<f4")
        t0 = min(t - (size // 4) / RATE for size, t in self.reads)
        return x.astype(np.float32), t0
