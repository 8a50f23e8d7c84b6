"""A preallocated ring of past dB rows for pause and scroll-back (bounded memory).

Rows are stored as float16 (about 0.06 dB resolution near -100 dBFS, plenty for a picture
and a cursor readout), so five minutes of the default analysis (2049 bins at 46.9 frames/s)
take 58 MB; the ring never grows past ``max_bytes`` (or, to keep a screenful, past
``HARD_MAX_BYTES``). Used on the UI thread only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
HARD_MAX_BYTES = 256 * 1024 * 1024  # not even ``min_frames`` rows may take more


class History:
    """The newest ``capacity`` dB rows with their frame times.

    Args:
        bins: length of each row.
        frames_per_second: analysis frames per second (samplerate / hop).
        seconds: history wanted, in seconds.
        max_bytes: upper bound on the row storage.
        min_frames: keep at least this many rows whatever ``max_bytes`` says, as long as
            they fit in ``HARD_MAX_BYTES`` (a zero-padded FFT of 2^20 has 524,289 bins:
            512 rows of it would take 537 MB).
    """

    def __init__(
        self,
        bins: int,
        frames_per_second: float,
        seconds: float,
        max_bytes: int = DEFAULT_MAX_BYTES,
        min_frames: int = 512,
    ) -> None:
        want = int(np.ceil(max(seconds, 0.0) * max(frames_per_second, 1e-3)))
        budget = max_bytes // max(2 * bins, 1)
        self.bins = int(bins)
        floor = min(min_frames, HARD_MAX_BYTES // max(2 * bins, 1))
        self.capacity = max(min(want, budget), floor, 1)
        self._rows = np.empty((self.capacity, self.bins), dtype=np.float16)
        self._t = np.zeros(self.capacity, dtype=np.float64)
        self.count = 0  # rows ever appended; the next row's absolute index

    @property
    def oldest(self) -> int:
        """Absolute index of the oldest row still kept."""
        return max(0, self.count - self.capacity)

    def __len__(self) -> int:
        return self.count - self.oldest

    def append(self, db: npt.NDArray[np.floating], t: float) -> int:
        """Store one row (``bins`` long) taken at ``t`` seconds; return its index."""
        i = self.count % self.capacity
        self._rows[i] = db
        self._t[i] = t
        self.count += 1
        return self.count - 1

    def has(self, index: int) -> bool:
        """True if row ``index`` is still kept."""
        return self.oldest <= index < self.count

    def row(self, index: int) -> npt.NDArray[np.float16]:
        """The row at absolute ``index`` (must be kept; a view, do not keep it)."""
        if not self.has(index):
            raise IndexError(index)
        row: npt.NDArray[np.float16] = self._rows[index % self.capacity]
        return row

    def time(self, index: int) -> float:
        """Seconds of row ``index`` (must be kept)."""
        if not self.has(index):
            raise IndexError(index)
        return float(self._t[index % self.capacity])

    def newest_first(self, end: int, count: int) -> tuple[npt.NDArray[np.float16], int]:
        """Up to ``count`` rows ending before ``end``, newest first, as a new array.

        Returns the rows and how many of them exist (the rest, older than the history,
        are not included: the array has that many rows).
        """
        end = min(end, self.count)
        start = max(end - count, self.oldest)
        n = max(end - start, 0)
        if n == 0:
            return np.empty((0, self.bins), dtype=np.float16), 0
        idx = np.arange(end - 1, start - 1, -1) % self.capacity
        return self._rows[idx], n
