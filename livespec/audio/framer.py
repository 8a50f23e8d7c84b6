"""The one loop that cuts a ring buffer into overlapping frames.

Frame ``k`` covers ring frames ``[origin + k*hop, origin + k*hop + n)`` (scipy's framing).
A reader that fell so far behind that the producer overwrote the start of its next frame
skips every overwritten frame and counts it in ``lost``; a frame that the producer
overwrote while it was being analysed (the ring's seqlock check, ``RingBuffer.intact``) is
discarded and counted in ``lost`` too. Nothing is ever delivered torn, and every frame
number is either delivered or counted as lost.

:meth:`Framer.process_blocks` does the same for runs of consecutive frames: the analysis
gets one view of the ring that holds up to ``max_frames`` frames, so it can work on all of
them with one numpy call per step; each frame is still checked, delivered or counted alone.

Used by the analysis engine (:mod:`livespec.engine`), the app's measurement worker
(:mod:`livespec.meter.live`) and ``livespec measure`` (:mod:`livespec.cli.measure`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from livespec.audio.ringbuffer import RingBuffer, Samples

T = TypeVar("T")


class Framer:
    """Cuts ``ring`` into frames of ``n`` samples every ``hop`` samples; one thread only.

    Args:
        ring: the ring to read (never written here; its producer never waits).
        n: samples per frame (at most the ring's capacity).
        hop: samples between frame starts (>= 1).
        origin: ring index where frame 0 starts (default: the ring's write position now).
        max_backlog: if set, a reader more than this many samples behind the newest full
            frame jumps ahead (the frames jumped over count as lost), as if overwritten.

    Attributes:
        index: number of the next frame (frames delivered + frames lost since ``origin``).
        delivered: frames handed to ``deliver``.
        lost: frames skipped (overwritten before they were read, too far behind) or
            discarded (overwritten while being analysed).
        limit: ring index past which no frame may end (None: no limit), e.g. a duration.
    """

    def __init__(
        self,
        ring: RingBuffer,
        n: int,
        hop: int,
        origin: int | None = None,
        max_backlog: int | None = None,
    ) -> None:
        self.ring = ring
        self.max_backlog = max_backlog
        self.limit: int | None = None
        self.delivered = 0
        self.lost = 0
        self.reset(n, hop, origin)

    def reset(self, n: int, hop: int, origin: int | None = None) -> None:
        """Start again with frames of ``n`` samples every ``hop``, frame 0 at ``origin``
        (default: the newest audio). ``delivered`` and ``lost`` keep counting."""
        if not 1 <= n <= self.ring.capacity:
            raise ValueError(f"frame of {n} samples: must be 1..{self.ring.capacity}")
        if hop < 1:
            raise ValueError(f"hop {hop}: must be at least 1")
        self.n, self.hop = int(n), int(hop)
        self.origin = self.ring.written if origin is None else int(origin)
        self.index = 0

    @property
    def next_start(self) -> int:
        """Ring index of the next frame's first sample."""
        return self.origin + self.index * self.hop

    @property
    def next_end(self) -> int:
        """Ring index one past the next frame's last sample."""
        return self.next_start + self.n

    def room(self) -> int:
        """Samples the ring can take before it overwrites the next frame's start (at least
        1): a synchronous producer pumps at most this much between two :meth:`process`."""
        return max(1, self.ring.capacity - (self.ring.written - self.next_start))

    def ready(self) -> bool:
        """True if the next frame is complete in the ring (and within ``limit``)."""
        end = self.next_end
        return end <= self.ring.written and (self.limit is None or end <= self.limit)

    def skip_lost(self) -> int:
        """Skip the frames whose start the producer overwrote (or that are more than
        ``max_backlog`` behind); return how many were skipped now."""
        ring = self.ring
        oldest = ring.oldest()
        if self.max_backlog is not None:
            oldest = max(oldest, ring.written - self.n - self.max_backlog)
        start = self.next_start
        if start >= oldest:
            return 0
        skip = -(-(oldest - start) // self.hop)
        self.index += skip
        self.lost += skip
        return skip

    def process(
        self,
        analyse: Callable[[Samples], T],
        deliver: Callable[[int, int, T], None],
        stop: Callable[[], bool] | None = None,
    ) -> int:
        """Analyse every complete frame now in the ring; return how many were delivered.

        ``analyse(view)`` gets the frame as a view of the ring (n x channels; it must not
        keep the view) and returns its result; the frame is then checked: if the producer
        overwrote it meanwhile, the result is discarded and the frame counted as lost,
        else ``deliver(index, start, result)`` is called. ``stop()`` is asked before each
        frame. Runs on the calling thread. An exception from a callback propagates: a frame
        whose ``analyse`` raised is read again next time, one whose ``deliver`` raised
        counts as delivered.
        """
        ring = self.ring
        n, hop, limit = self.n, self.hop, self.limit
        done = 0
        # ready() and skip_lost() inlined: this loop runs once per frame.
        while stop is None or not stop():
            start = self.origin + self.index * hop
            end = start + n
            if end > ring.written or (limit is not None and end > limit):
                break
            behind = start < ring.claimed - ring.capacity or self.max_backlog is not None
            if behind and self.skip_lost():
                continue
            index = self.index
            result = analyse(ring.window(start, n))
            if not ring.intact(start):  # overwritten while we worked: discard
                self.index += 1
                self.lost += 1
                continue
            self.index += 1
            self.delivered += 1
            done += 1
            deliver(index, start, result)
        return done

    def process_blocks(
        self,
        analyse: Callable[[Samples], T],
        deliver: Callable[[int, int, T, int], None],
        max_frames: int,
        stop: Callable[[], bool] | None = None,
    ) -> int:
        """:meth:`process` for runs of up to ``max_frames`` consecutive frames at a time.

        ``analyse(view)`` gets the ring's samples ``[s, s + (k - 1)*hop + n)`` of ``k``
        complete frames starting at ``s`` (k = ``(len(view) - n) // hop + 1``); afterwards
        each frame is checked as in :meth:`process`: the first frames of the run that the
        producer overwrote meanwhile are counted as lost, the others are delivered in order
        with ``deliver(index, start, result, j)``, ``j`` the frame's row in the run.
        ``stop()`` is asked before each run and before each delivery (frames of a run left
        undelivered are analysed again next time). Calling thread; exceptions as in
        :meth:`process`. With ``max_frames`` 1 the frames are exactly :meth:`process`'s.
        """
        ring = self.ring
        n, hop, limit = self.n, self.hop, self.limit
        most = max(1, int(max_frames))
        done = 0
        while stop is None or not stop():
            start = self.origin + self.index * hop
            avail = ring.written if limit is None else min(ring.written, limit)
            if start + n > avail:
                break
            behind = start < ring.claimed - ring.capacity or self.max_backlog is not None
            if behind and self.skip_lost():
                continue
            k = min(most, (avail - start - n) // hop + 1)
            index = self.index
            result = analyse(ring.window(start, (k - 1) * hop + n))
            oldest = ring.claimed - ring.capacity  # the frames starting before it are torn
            torn = 0 if start >= oldest else min(k, -(-(oldest - start) // hop))
            self.index += torn
            self.lost += torn
            for j in range(torn, k):
                if j > torn and stop is not None and stop():
                    return done
                self.index += 1
                self.delivered += 1
                done += 1
                deliver(index + j, start + j * hop, result, j)
        return done
