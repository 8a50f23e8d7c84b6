"""The two logs :class:`~livespec.audio.output.DevicePlayback` keeps to map the DAC's
time back to a file frame (written by one thread each, read by any; no lock).

- :class:`BlockLog`, written by PortAudio's output callback: each block's first ring
  frame, the frames of the file in it, its DAC time and a jump taken inside it;
- :class:`SegmentLog`, written by the feeder: where each stretch of the file (a seek, a
  loop's wrap) starts in the ring.
"""

from __future__ import annotations

_LOG = 256  # callbacks remembered: several times the blocks in flight
_SEGMENTS = 64  # stretches of the file remembered (seeks, loop wraps)


class BlockLog:
    """The output callback's log of its blocks (PortAudio's thread writes, any reads)."""

    def __init__(self) -> None:
        self.n = 0  # blocks logged
        self._start = [0] * _LOG  # ring frame at the block's start
        self._real = [0] * _LOG  # frames of the file in the block (0: silence)
        self._dac = [0.0] * _LOG  # stream time (s) the block reaches the DAC
        self._skip = [(-1, -1)] * _LOG  # a jump taken inside the block: (from, to)

    def add(self, start: int, real: int, dac: float, skip: tuple[int, int]) -> None:
        """Log one block (PortAudio's thread; no allocation but the tuple it is given)."""
        i = self.n % _LOG
        self._start[i] = start
        self._real[i] = real
        self._dac[i] = dac
        self._skip[i] = skip
        self.n += 1

    def at(self, now: float, samplerate: int) -> tuple[int, bool] | None:
        """The ring frame at the DAC at stream time ``now`` (s) and whether it is sound
        (None: no block has reached the DAC yet). Any thread."""
        n = self.n
        for k in range(n - 1, max(-1, n - _LOG - 1), -1):
            i = k % _LOG
            dac = self._dac[i]
            if dac <= now:
                real = self._real[i]
                offset = min(max(0, round((now - dac) * samplerate)), real)
                index = self._start[i] + offset
                skip_from, skip_to = self._skip[i]
                if skip_from >= 0 and index >= skip_from:
                    index += skip_to - skip_from
                return index, real > 0
        return None


class SegmentLog:
    """Where each stretch of the file starts in the ring (the feeder writes, any reads)."""

    def __init__(self) -> None:
        self._n = 0
        self._ring = [0] * _SEGMENTS
        self._file = [0] * _SEGMENTS

    def add(self, ring_index: int, file_frame: int) -> None:
        """A stretch from ``file_frame`` starts at ring frame ``ring_index`` (feeder)."""
        i = self._n % _SEGMENTS
        self._ring[i] = ring_index
        self._file[i] = file_frame
        self._n += 1

    def file_frame(self, ring_index: int) -> int:
        """The file frame the ring frame ``ring_index`` holds (0 before any stretch)."""
        n = self._n
        for k in range(n - 1, max(-1, n - _SEGMENTS - 1), -1):
            i = k % _SEGMENTS
            if self._ring[i] <= ring_index:
                return self._file[i] + (ring_index - self._ring[i])
        return 0
