"""Recording from the live app: the ``r`` key, ``--record FILE`` and the status-line text.

:class:`RecordingController` is owned by :class:`~livespec.tui.app.LivespecApp`; everything
here runs on the UI thread unless noted. The recorder itself is a thread with its own reader
on the ring buffer (livespec.recorder.writer), so the app only starts it, asks it to stop, and
shows its one-line status.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from livespec.audio.ringbuffer import RingBuffer
from livespec.config import AnalysisConfig, default_record_dir
from livespec.errors import printable
from livespec.tui.controllers.host import Host
from livespec.tui.feed import AppSource, source_failure
from livespec.tui.options import AppOptions

if TYPE_CHECKING:
    from livespec.recorder.writer import Recorder

SAVED_MESSAGE_S = 8.0  # how long "saved FILE" stays on the status line


SIGNAL_ENDS = {129: "SIGHUP", 143: "SIGTERM"}  # the app's exit status -> ended_by


class RecordingController:
    """State and actions for recording.

    Args:
        host: the app (notifications).
        ring: the audio (None: nothing to record, as in ``livespec view``).
        source: the source (its rate and description go into the file's notes).
        folder: where the ``r`` key puts recordings (None: the default folder,
            :func:`~livespec.config.default_record_dir`, created when first needed).
        analysis: the analysis settings in effect now (a callable: they change with keys),
            noted in the file's sidecar when a recording starts; changes made while it runs
            are added as ``analysis_changes`` (see :meth:`analysis_changed`).
        options: ``--preroll`` and ``--subtype``.

    Attributes:
        recorder: the running recording, if any.
    """

    def __init__(
        self,
        host: Host,
        ring: RingBuffer | None,
        source: AppSource,
        *,
        folder: str | None,
        analysis: Callable[[], AnalysisConfig],
        options: AppOptions,
    ) -> None:
        self.host, self.ring, self.source = host, ring, source
        self.folder, self.analysis = folder, analysis
        self.preroll_s, self.subtype = options.preroll_s, options.subtype
        self.recorder: Recorder | None = None
        self.last: Recorder | None = None  # the newest recording of this run, even finished
        self._note = ""
        self._note_until = 0.0

    def start(
        self, path: str | None = None, preroll_s: float | None = None, force: bool = False
    ) -> None:
        """Start recording now (minus the pre-roll) into ``path`` or an automatic name
        (UI or main thread).

        Raises:
            RecordingError: the file exists (without ``force``) or cannot be created, or
                there is no ring to record from.
        """
        from livespec.audio.base import Source
        from livespec.recorder.start import start_recording
        from livespec.recorder.writer import RecordingError

        if self.ring is None or not isinstance(self.source, Source):
            raise RecordingError("Recording needs a live source.")
        folder = self.folder
        if folder is None and path is None:
            default = default_record_dir()
            try:
                default.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RecordingError(f"cannot create '{default}': {exc.strerror}") from None
            folder = str(default)
        self.recorder = start_recording(
            self.ring,
            self.source,
            path=path,
            folder=folder or ".",
            preroll_s=self.preroll_s if preroll_s is None else preroll_s,
            subtype=self.subtype,
            analysis=self.analysis(),
            force=force,
        )
        self.last = self.recorder

    def span(self) -> tuple[Path, float, float] | None:
        """The newest recording of this run (running or finished): its WAV, and its first
        frame and its end in seconds since the stream's start (the time base of
        :attr:`livespec.engine.Frame.t`); None before the first recording. UI thread."""
        rec = self.last
        if rec is None or rec.samplerate <= 0:
            return None
        fs = float(rec.samplerate)
        return rec.path, rec.start_index / fs, (rec.start_index + rec.frames_written) / fs

    def analysis_changed(self, analysis: AnalysisConfig) -> None:
        """Note new analysis settings in the running recording's sidecar, with the
        recording's time (UI thread). The sidecar's dict is replaced, never changed in
        place, so the writer thread never sees it half-updated."""
        rec = self.recorder
        if rec is None or rec.finished:
            return
        changes = list(rec.sidecar_info.get("analysis_changes", []))  # type: ignore[call-overload]
        changes.append({"at_s": round(rec.elapsed_s, 3), **dataclasses.asdict(analysis)})
        rec.sidecar_info = {**rec.sidecar_info, "analysis_changes": changes}

    def toggle(self) -> None:
        """Start a recording, or stop the one running (key ``r``)."""
        from livespec.recorder.writer import RecordingError

        if self.ring is None:
            self.host.notify("Recording needs a live source.", severity="warning")
            return
        rec = self.recorder
        if rec is not None and not rec.finished:
            rec.request_stop()  # the writer finishes in its own time; see poll
            return
        try:
            self.start()
        except RecordingError as exc:
            self.host.notify(str(exc), title="Recording", severity="error", timeout=10)
            return
        if self.recorder is not None:  # say where it goes (the folder may be a default)
            self.host.notify(printable(str(self.recorder.path)), title="Recording to", timeout=5)

    def poll(self) -> None:
        """End a recording whose source ended or failed (as ``livespec record`` does: the
        writer writes what came, the sidecar says why it ended); reap a recording that
        finished (stopped, failed, or disk full)."""
        rec = self.recorder
        if rec is None:
            return
        if not rec.finished:
            end = source_end(self.source, reopens=True)
            if end is not None:
                rec.request_stop(end[0])  # everything the source wrote, then the file closes
            return
        rec.stop()  # already finished: joins at once
        self.recorder = None
        failure = self._note_end(rec)
        if failure is not None:
            self._note = f"REC ended: {printable(failure)}"
            self.host.notify(
                printable(f"{failure}; '{rec.path}' is complete up to that point"),
                title="Recording stopped",
                severity="error",
                timeout=15,
            )
        elif rec.error:
            self._note = f"REC FAILED: {rec.error}"
            msg = str(rec.error)
            self.host.notify(msg, title="Recording stopped", severity="error", timeout=15)
        else:
            self._note = rec.status_text()
        self._note_until = time.monotonic() + SAVED_MESSAGE_S

    def _note_end(self, rec: Recorder) -> str | None:
        """Put how a finished recording's take ended into its sidecar when the source
        did it: ``end of input``, or ``error`` and the source's line (a device still gone
        included), which is returned. UI or main thread, after the writer finished."""
        from livespec.recorder.sidecar import save_sidecar

        end = source_end(self.source, reopens=False)
        if end is None or rec.error is not None or not rec.frames_written:
            return None
        device = getattr(self.source, "reopen", None) is not None  # the gap goes on as silence
        if not device and (self.ring is None or rec.position < self.ring.written):
            return None  # stopped before the input's last frame
        if (rec.ended_by, rec.error) != end:
            rec.ended_by, rec.error = end
            with contextlib.suppress(OSError):  # else the writer's sidecar stays
                save_sidecar(rec, complete=True)
        return end[1]

    def text(self) -> str:
        """What the status line says about recording."""
        rec = self.recorder
        if rec is not None:
            return rec.status_text()
        if self._note and time.monotonic() < self._note_until:
            return self._note
        return "rec off (r)"

    def finish(self, status: int | None = None) -> None:
        """Finalise a running recording (every exit path of the app; main or UI thread).
        ``status``: the app's exit status; 129 or 143 (SIGHUP, SIGTERM) name the signal as
        the sidecar's ``ended_by``, as ``livespec record`` does."""
        rec, self.recorder = self.recorder, None
        if rec is not None:
            rec.stop(SIGNAL_ENDS.get(status or 0, "stop"))
            self._note_end(rec)


def source_end(source: AppSource, *, reopens: bool) -> tuple[str, str | None] | None:
    """How ``source`` ended: ``("error", line)`` if its producer failed, ``("end of
    input", None)`` if it ended, None while it runs (any thread). With ``reopens``, a
    device's dead stream is not an end: the app reopens it, and a recording goes on with
    the gap as silence."""
    failure = source_failure(source)
    device = getattr(source, "reopen", None) is not None  # never ends by itself
    if failure is not None:
        return None if reopens and device else ("error", failure[0])
    if source.finished and not device:
        return "end of input", None
    return None
