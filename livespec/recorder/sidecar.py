"""What a recording says about itself: the sidecar ``OUT.wav.json`` and the status line.

The sidecar lists the parts, the format, the start time (UTC), the duration, the frames,
the pre-roll, overflows and gaps (lost frames filled with silence; input the sound system
dropped without a flag, estimated and filled with silence: :mod:`.drops`), how the recording
ended, and the source and analysis settings. It is replaced atomically, or rewritten in
place over reserved space when the disk is full, so that the final one always fits.

Any thread (the writer's, or the caller's while the recording opens and closes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from livespec.errors import counted

if TYPE_CHECKING:
    from livespec.audio.base import Source
    from livespec.recorder.writer import Recorder

SIDECAR_RESERVE = 1024  # trailing spaces kept so the final sidecar fits on a full disk


def _version() -> str:
    """livespec's version. The package root is always loaded before its submodules; it is
    not imported here because it re-exports the API, which uses the recorder (a cycle)."""
    return str(sys.modules["livespec"].__version__)


def sidecar_path(path: Path) -> Path:
    """``OUT.wav`` -> ``OUT.wav.json``."""
    return path.with_name(path.name + ".json")


def utc_iso(t: float) -> str:
    """Seconds since the epoch -> ``2024-05-01T12:00:00.123Z``."""
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sidecar_content(rec: Recorder, complete: bool) -> dict[str, object]:
    """The sidecar of ``rec`` now; ``rec.sidecar_info`` adds keys (never replaces)."""
    data: dict[str, object] = {
        "file": rec.path.name,
        "parts": [p.name for p in rec.paths],
        "format": "WAV",
        "subtype": rec.subtype,
        "samplerate": rec.samplerate,
        "channels": rec.channels,
        "start_utc": utc_iso(rec.start_time),
        "duration_s": round(rec.elapsed_s, 6),
        "frames": rec.frames_written,
        "preroll_s": round(rec.preroll_s, 6),
        "overflows": rec.overflows,
        "gaps": rec.gaps,
        "lost_frames": rec.lost_frames,
        "gap_list": list(rec.gap_list),
        "audio_dropped_s": round(rec.drops.seconds, 3),
        "complete": complete,
        "ended_by": rec.ended_by or None,
        "error": rec.error,
        "split_bytes": rec.split_bytes,
        "livespec_version": _version(),
    }
    for key, value in rec.sidecar_info.items():
        data.setdefault(key, value)
    return data


def source_info(source: Source, analysis: object) -> dict[str, object]:
    """The sidecar keys that describe ``source`` (device, host API, description) and the
    ``analysis`` settings (a dataclass such as ``AnalysisConfig`` becomes a dict)."""
    info = getattr(source, "info", None)
    settings = analysis
    if dataclasses.is_dataclass(analysis) and not isinstance(analysis, type):
        settings = dataclasses.asdict(analysis)
    return {
        "device": getattr(info, "name", None),
        "hostapi": getattr(info, "hostapi", None),
        "source": getattr(source, "description", ""),
        "analysis": settings,
    }


def status_line(rec: Recorder) -> str:
    """One line for a status bar: state, elapsed time, level, losses, size, file."""
    t = int(rec.elapsed_s)
    clock = f"{t // 3600}:{t // 60 % 60:02d}:{t % 60:02d}"
    name = rec.paths[-1].name if rec.paths else rec.path.name
    if rec.error is not None:
        return f"REC failed at {clock}: {rec.error}"
    state = "REC" if not rec.finished else "saved"
    level = f"{rec.level_dbfs:6.1f} dBFS" if rec.level_dbfs > -120 else "  -inf dBFS"
    parts = [f"{state} {clock}", level, f"overflows {rec.overflows}"]
    if rec.drops.seconds:
        parts.append(f"dropped {rec.drops.seconds:.1f} s")
    if rec.lost_frames:
        parts.append(f"lost {rec.lost_frames / rec.samplerate:.3f} s in {counted(rec.gaps, 'gap')}")
    parts += [f"{rec.file_size / 1e6:.1f} MB", name]
    return "  ".join(parts)


def save_sidecar(rec: Recorder, complete: bool) -> None:
    """Write ``rec``'s sidecar ``OUT.wav.json`` (see :func:`write_sidecar`)."""
    write_sidecar(
        sidecar_path(rec.path), json.dumps(sidecar_content(rec, complete), indent=2) + "\n"
    )


def write_sidecar(path: Path, text: str) -> None:
    """Write the sidecar ``path``: atomically by rename (with :data:`SIDECAR_RESERVE`
    trailing spaces), or in place over that reserved space when the disk is full."""
    raw = text.encode() + b" " * SIDECAR_RESERVE
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if not path.exists():
            raise
        fd = os.open(path, os.O_WRONLY)  # in place: reuses the file's blocks
        try:
            data = text.encode()
            os.pwrite(fd, data + b" " * max(0, os.fstat(fd).st_size - len(data)), 0)
        finally:
            os.close(fd)
