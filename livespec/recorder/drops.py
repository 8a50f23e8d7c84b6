"""Input the sound system dropped without a flag, in a recording: silence and a record.

The device source finds such a loss (:meth:`DeviceSource.check_drops
<livespec.audio.device.DeviceSource.check_drops>`) a second or so after its backlog
drained; its position is known only within the stall: after ``Drop.after`` and, within
the delivery latency, at ``Drop.before`` (PulseAudio keeps the oldest audio of a stalled
client and drops the newest, so the loss sits where the fresh audio after the stall
begins). The writer inserts digital silence of the estimated length there (it holds back
while a loss is suspected, ``drop_hold``), or where it is if it had already written past
that point (when the loss was suspected later than that), so the file's timeline after
the loss is true to the clock;
the sidecar lists where the silence went, the window the loss lies in and when it was
found. The audio between the true position and the silence (at most the window) is off
by the loss's length, as it would be without the silence.

Writer thread (the status is read from any thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from livespec.recorder.sidecar import utc_iso

if TYPE_CHECKING:
    from livespec.audio.dropwatch import Drop

CAUSE = "dropped by the audio system"


class Losses(Protocol):
    """What the writer reads of the source (a :class:`~livespec.audio.base.Source`)."""

    @property
    def drops(self) -> Sequence[Drop]:
        """The losses found so far, oldest first (appended by the watchdog's thread)."""

    @property
    def drop_hold(self) -> int | None:
        """While a loss is suspected but not yet final: the ring index of the fresh
        audio's start (the loss is before it), else None."""


class DropLog:
    """The unflagged losses of one recording and the silence that stands for them.

    Args:
        drops: the source (its ``drops`` and ``drop_hold``), or None.
        samplerate: Hz.
        gap_list: the recording's ``gap_list``, where each loss gets an entry.
    """

    def __init__(
        self,
        drops: Losses | None,
        samplerate: int,
        gap_list: list[dict[str, object]],
    ) -> None:
        self._drops = drops
        self.gap_list = gap_list
        self.fs = samplerate
        self._seen = 0  # losses of the source already taken (or before the recording)
        self._pending: list[Drop] = []
        self.seconds = 0.0  # estimated seconds lost during the recording
        self.frames = 0  # frames of silence inserted for them

    def open(self) -> None:
        """Ignore the losses before the recording (caller's thread, at the start)."""
        self._seen = len(self._drops.drops) if self._drops is not None else 0

    def _poll(self) -> None:
        drops = self._drops.drops if self._drops is not None else ()
        while self._seen < len(drops):
            self._pending.append(drops[self._seen])
            self._seen += 1

    def limit(self, position: int, end: int, stopping: bool) -> int:
        """The ring index up to which the writer may write before the next silence is
        due, or before a suspected loss (``end`` if neither); ``position`` is the
        writer's. Holding back for a suspected loss (a second or two, while a backlog
        drains; never once ``stopping``) lets its silence go where the fresh audio
        began."""
        self._poll()
        if self._pending and self._pending[0].before > position:
            return min(end, self._pending[0].before)
        hold = self._drops.drop_hold if self._drops is not None and not stopping else None
        return end if hold is None else min(end, max(hold, position))

    def due(self, position: int, file_frame: int, start_index: int) -> int:
        """The frames of silence to write now for the next loss (0: none is due), whose
        entry this adds to ``gap_list``; the writer is at ring index ``position``, file
        frame ``file_frame``; the file began at ring index ``start_index``."""
        self._poll()
        if not self._pending or self._pending[0].before > position:
            return 0
        d = self._pending.pop(0)
        n = max(0, round(d.seconds * self.fs))
        inserted = self.frames  # silence already inserted before this loss

        def file_s(index: int) -> float:
            return round(max(0, index - start_index + inserted) / self.fs, 3)

        self.seconds += d.seconds
        self.frames += n
        self.gap_list.append(
            {
                "at_s": round(file_frame / self.fs, 6),
                "at_frame": file_frame,
                "frames": n,
                "cause": CAUSE,
                "seconds": round(d.seconds, 3),
                "detected_utc": utc_iso(d.detected_at),
                "window_s": [file_s(d.after), file_s(d.before)],
            }
        )
        return n
