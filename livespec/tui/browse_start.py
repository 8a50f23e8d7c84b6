"""Start-up of the file browser: the file, the annotation files and the playback, checked
before any screen (a bad one ends in one line and exit status 2). Main thread."""

from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path

from livespec.annotate.curves import Curve, read_curve
from livespec.annotate.labels import Label, read_labels
from livespec.audio.files import AudioFileError
from livespec.audio.playback import Playback, SilentPlayback
from livespec.errors import SourceError
from livespec.export.overview import FileInfo, file_info


def load_options(ns: argparse.Namespace) -> tuple[list[Curve], list[Label]]:
    """The ``--overlay`` curves and ``--labels`` of ``ns``; a bad file raises
    :class:`~livespec.annotate.AnnotationError` (file and line; exit status 2)."""
    curves = [read_curve(p) for p in (getattr(ns, "overlay", None) or [])]
    labels_file = getattr(ns, "labels", None)
    labels = read_labels(labels_file) if labels_file else []
    return curves, labels


def open_playback(ns: argparse.Namespace, info: FileInfo) -> tuple[Playback, str, str | None]:
    """The play position for ``ns``: (playback, what the status line says, a notice).

    Silent with ``--no-audio``, over SSH (SSH_CONNECTION set) unless ``--output-device``
    is given, when this build has no sound-card player, or when opening the output fails
    (a notice says why; an explicitly named ``--output-device`` that fails is an error)."""
    silent = SilentPlayback(info.duration)
    device = getattr(ns, "output_device", None)
    if getattr(ns, "no_audio", False):
        return silent, "silent (--no-audio)", None
    if os.environ.get("SSH_CONNECTION") and device is None:
        return silent, "silent (SSH)", "Over SSH: browsing silently (--output-device plays here)."
    try:  # the sound-card player, when this build has it
        output = importlib.import_module("livespec.audio.output")
    except ImportError:
        return silent, "silent", "No audio output in this build: browsing silently."
    try:
        latency = getattr(ns, "output_latency", 0.2)
        player: Playback = output.open_playback(
            str(info.path), device=device, audio=True, latency=latency
        )
    except SourceError as exc:
        if device is not None:
            raise
        return silent, "silent", f"No sound output ({exc}): browsing silently."
    return player, f"output {device if device is not None else 'default'}", None


def check_file(path: str) -> FileInfo:
    """The file's rate and length, or a one-line :class:`SourceError` (exit status 2)."""
    try:
        return file_info(Path(path))
    except AudioFileError as exc:
        raise SourceError(f"{path}: {exc}") from None
