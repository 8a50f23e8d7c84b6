"""A preallocated single-producer, multi-reader ring buffer of audio samples.

The producer (the audio callback, or a source thread) is the only writer and never waits.
Each sample is written twice ("mirrored"): at ``i % capacity`` and at ``i % capacity +
capacity``, so any window of up to ``capacity`` samples is one contiguous view.

Counters are monotonic Python ints (64-bit and beyond): ``claimed`` is advanced *before* a
block is copied in and ``written`` *after*, so a reader can tell, after it has used a view,
whether the producer overwrote any part of it (a seqlock without a lock). Readers keep their
own position and learn exactly how many samples they lost.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


class RingBuffer:
    """Mirrored ring of ``capacity`` frames x ``channels`` float32 samples.

    Args:
        capacity: frames (samples per channel) kept; the longest readable window.
        channels: interleaved channels per frame.
    """

    LOG = 64

    def __init__(self, capacity: int, channels: int = 1) -> None:
        if capacity < 1 or channels < 1:
            raise ValueError("capacity and channels must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._data: Samples = np.zeros((2 * self.capacity, self.channels), dtype=np.float32)
        self.claimed = 0  # frames the producer has started to write (end of block in progress)
        self.written = 0  # frames fully written and visible to readers
        self.last_write_time = 0.0  # time.monotonic() of the last write; 0.0 = never
        # The last LOG writes as (written after it, time.monotonic()), preallocated, so a
        # consumer can tell when a given frame became readable (latency measurements).
        self._log_written = [0] * self.LOG
        self._log_time = [0.0] * self.LOG
        self._log_i = 0

    # -- producer side (one thread only) ------------------------------------------------

    def write(self, block: npt.NDArray[np.float32]) -> None:
        """Append ``block`` (frames x channels, or frames for mono). Producer thread only.

        Never waits and never allocates array memory. A block longer than ``capacity``
        keeps only its newest ``capacity`` frames (the rest count as lost for readers).
        """
        n = block.shape[0]
        if n == 0:
            return
        cap = self.capacity
        if block.ndim == 1:
            block = block.reshape(n, 1)
        w = self.written
        if n > cap:  # only the newest samples can be kept
            w += n - cap
            block = block[n - cap :]
            n = cap
        self.claimed = w + n
        p = w % cap
        data = self._data
        data[p : p + n] = block
        split = min(p + n, cap)
        if split > p:  # mirror of the part in [p, cap) goes to [p + cap, split + cap)
            data[p + cap : split + cap] = block[: split - p]
        if p + n > cap:  # mirror of the part in [cap, p + n) goes to [0, p + n - cap)
            data[0 : p + n - cap] = block[split - p :]
        self._publish(w + n)

    def write_silence(self, n: int) -> None:
        """Append ``n`` frames of silence without a block to copy: a stretch of input the
        producer knows it missed (a device reopened after it vanished), so that the
        timeline stays true. Producer side only, while no other producer runs. Only the
        newest ``capacity`` frames are stored; readers count the rest as lost."""
        if n <= 0:
            return
        cap = self.capacity
        w = self.written + max(0, n - cap)
        k = min(n, cap)
        self.claimed = w + k
        p = w % cap
        data = self._data
        data[p : p + k] = 0.0  # the first copy, and the mirror of a part past the wrap
        split = min(p + k, cap)
        if split > p:
            data[p + cap : split + cap] = 0.0
        if p + k > cap:
            data[0 : p + k - cap] = 0.0
        self._publish(w + k)

    def _publish(self, end: int) -> None:
        """Make frames up to ``end`` visible to readers and log when (producer only)."""
        self.written = end
        now = time.monotonic()
        self.last_write_time = now
        i = self._log_i
        self._log_written[i] = end
        self._log_time[i] = now
        self._log_i = (i + 1) % self.LOG

    def time_of(self, index: int) -> float | None:
        """``time.monotonic()`` at which frame ``index`` became readable, if still logged."""
        found: float | None = None
        i = self._log_i
        for _ in range(self.LOG):  # newest to oldest
            i = (i - 1) % self.LOG
            if self._log_written[i] <= index:
                break
            found = self._log_time[i]
        return found

    # -- reader side (any thread) ---------------------------------------------------------

    def oldest(self) -> int:
        """Index of the oldest frame that is safe to read now."""
        return max(0, self.claimed - self.capacity)

    def window(self, start: int, n: int) -> Samples:
        """A contiguous view of frames ``[start, start + n)`` (shape n x channels).

        The view aliases the ring: check :meth:`intact` after using it. ``start + n`` must
        not exceed ``written`` and ``n`` not ``capacity``.
        """
        if n > self.capacity:
            raise ValueError(f"window of {n} frames exceeds ring capacity {self.capacity}")
        p = start % self.capacity
        return self._data[p : p + n]

    def intact(self, start: int) -> bool:
        """True if no frame at or after ``start`` has been overwritten (yet)."""
        return self.claimed - self.capacity <= start

    def reader(self, start: int | None = None) -> RingReader:
        """A new independent reader, by default starting at the newest frame."""
        return RingReader(self, self.written if start is None else start)


class RingReader:
    """One consumer's position on a :class:`RingBuffer`; use from one thread only.

    Attributes:
        position: index of the next frame this reader will read.
        lost: total frames this reader lost because the producer overwrote them.
    """

    def __init__(self, ring: RingBuffer, start: int) -> None:
        self.ring = ring
        self.position = start
        self.lost = 0

    def available(self) -> int:
        """Frames written but not yet read (may include frames already lost)."""
        return self.ring.written - self.position

    def skip_lost(self) -> int:
        """Advance past frames already overwritten; return how many were lost now."""
        oldest = self.ring.oldest()
        if self.position < oldest:
            gap = oldest - self.position
            self.position = oldest
            self.lost += gap
            return gap
        return 0

    def read_into(self, out: npt.NDArray[np.float32]) -> tuple[int, int]:
        """Copy up to ``len(out)`` frames into ``out`` (frames x channels).

        Returns ``(n, lost)``: frames copied into ``out[:n]``, and frames lost just before
        them (overwritten before this reader got to them; the caller decides whether to fill
        the gap). The copy is validated after it is made, so ``out[:n]`` is never torn.
        """
        lost = self.skip_lost()
        n = min(out.shape[0], self.ring.written - self.position)
        if n <= 0:
            return 0, lost
        start = self.position
        out[:n] = self.ring.window(start, n)
        oldest = self.ring.oldest()  # re-check: did the producer overwrite part of the copy?
        if oldest > start:
            torn = min(oldest - start, n)
            # The torn prefix is lost; keep the intact remainder at the front of ``out``.
            out[: n - torn] = out[torn:n]  # numpy handles the overlap
            self.lost += torn
            lost += torn
            start += torn
            n -= torn
        self.position = start + n
        return n, lost
