"""Start recording a running source: the one call the app and ``livespec stream`` use.

Caller's thread.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from livespec.recorder.parts import DEFAULT_SPLIT_BYTES, default_recording_path, put_back
from livespec.recorder.sidecar import source_info
from livespec.recorder.writer import Recorder, sidecar_path

if TYPE_CHECKING:
    from livespec.audio.base import Source
    from livespec.audio.ringbuffer import RingBuffer


def start_recording(
    ring: RingBuffer,
    source: Source,
    *,
    path: str | Path | None = None,
    folder: str | Path = ".",
    preroll_s: float = 3.0,
    subtype: str = "PCM_24",
    analysis: object = None,
    force: bool = False,
    split_bytes: int = DEFAULT_SPLIT_BYTES,
) -> Recorder:
    """Start recording ``source``'s audio from ``ring`` (caller's thread, e.g. the app's).

    Args:
        ring: the ring the source writes to.
        source: a started :class:`~livespec.audio.base.Source` (rate, channels, overflows).
        path: the WAV file; None names it ``livespec-YYYYmmdd-HHMMSS.wav`` in ``folder``.
        preroll_s: seconds of the past to include (capped to what the ring holds).
        analysis: an ``AnalysisConfig`` (or dict) stored in the sidecar.

    Returns the running :class:`Recorder`; call ``stop()`` (or ``request_stop()`` then
    ``stop()``) to finalise it, on every exit path.

    Raises:
        RecordingError: the file exists (without ``force``), the folder is missing, or
            the file cannot be created; one line, exit status 2.
    """
    target = Path(path) if path is not None else default_recording_path(folder)
    rec = Recorder(
        ring,
        source.samplerate,
        source.channels,
        target,
        subtype=subtype,
        preroll_s=preroll_s,
        split_bytes=split_bytes,
        sidecar_info=source_info(source, analysis),
        force=force,
        overflows=lambda: int(source.overflows),
        drops=source,
    )
    rec.start()
    return rec


def remove_if_empty(rec: Recorder) -> str:
    """Remove the files of a stopped recording that never received a frame (its source
    failed at the start): the WAV part(s) and the sidecar it created, nothing it did not
    create; the files a forced recording set aside are put back (a file that existed is
    otherwise refused by :meth:`Recorder.open` before any is made). Returns what happened
    to the file for the user's message (``'OUT.wav' removed``, or ``'OUT.wav' left as it
    was`` where a forced recording's old take was put back), or "" if nothing was removed.
    Caller's thread."""
    if rec.frames_written != 0 or not rec.paths:
        return ""
    for p in [*rec.paths, sidecar_path(rec.path)]:
        with contextlib.suppress(OSError):
            p.unlink()
    restored = any(original == rec.path for original, _ in rec.replaced)
    put_back(rec.replaced)
    return f"'{rec.path}' left as it was" if restored else f"'{rec.path}' removed"
