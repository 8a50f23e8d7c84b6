"""Recording from the live app: the ``r`` key, ``--record FILE`` and the status-line text.

A mixin of :class:`livespec.tui.app.LivespecApp`; everything here runs on the UI thread. The
recorder itself is a thread with its own reader on the ring buffer (livespec.record.writer), so
the app only starts it, asks it to stop, and shows its one-line status.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from livespec.config import Config

if TYPE_CHECKING:
    from textual.app import App

    from livespec.record.writer import Recorder

    _Base = App[int]
else:
    _Base = object

DEFAULT_PREROLL_S = 3.0  # a recording started with r begins this far in the past
SAVED_MESSAGE_S = 8.0  # how long "saved FILE" stays on the status line


class RecordingActions(_Base):
    """State and actions for recording; the app supplies ``cfg``, ``source``, ``ring``."""

    cfg: Config
    source: Any
    ring: Any = None
    recorder: Recorder | None = None
    record_preroll_s: float = DEFAULT_PREROLL_S
    record_subtype: str = "PCM_24"
    _rec_note: str = ""
    _rec_note_until: float = 0.0

    def start_recording(
        self, path: str | None = None, preroll_s: float | None = None, force: bool = False
    ) -> None:
        """Start recording now (minus the pre-roll) into ``path`` or an automatic name.

        Raises:
            RecordingError: the file exists (without ``force``) or cannot be created.
        """
        from livespec.record.writer import start_recording

        self.recorder = start_recording(
            self.ring,
            self.source,
            path=path,
            folder=self.cfg.display.record_dir,
            preroll_s=self.record_preroll_s if preroll_s is None else preroll_s,
            subtype=self.record_subtype,
            analysis=self.cfg.analysis,
            force=force,
        )

    def action_record(self) -> None:
        """Start a recording, or stop the one running (key ``r``)."""
        from livespec.record.writer import RecordingError

        if self.ring is None:
            self.notify("Recording needs a live source.", severity="warning")
            return
        rec = self.recorder
        if rec is not None and not rec.finished:
            rec.request_stop()  # the writer finishes in its own time; see poll_recording
            return
        try:
            self.start_recording()
        except RecordingError as exc:
            self.notify(str(exc), title="Recording", severity="error", timeout=10)

    def poll_recording(self) -> None:
        """Reap a recording that finished (stopped, failed, or disk full)."""
        rec = self.recorder
        if rec is None or not rec.finished:
            return
        rec.stop()  # already finished: joins at once
        self.recorder = None
        if rec.error:
            self._rec_note = f"REC FAILED: {rec.error}"
            self.notify(str(rec.error), title="Recording stopped", severity="error", timeout=15)
        else:
            self._rec_note = rec.status_text()
        self._rec_note_until = time.monotonic() + SAVED_MESSAGE_S

    def recording_text(self) -> str:
        """What the status line says about recording."""
        rec = self.recorder
        if rec is not None:
            return rec.status_text()
        if self._rec_note and time.monotonic() < self._rec_note_until:
            return self._rec_note
        return "rec off (r)"

    def finish_recording(self) -> None:
        """Finalise a running recording (every exit path of the app; main thread)."""
        rec, self.recorder = self.recorder, None
        if rec is not None:
            rec.stop()
