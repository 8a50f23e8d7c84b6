"""The inputs of ``livespec export``: the audio files in a folder, and one file named twice
(``a.wav a.wav``, ``a.wav ./a.wav``, a folder and a file in it) analysed once.

Pure code (it reads folders and resolves paths); main thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from livespec.errors import counted

T = TypeVar("T")

AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc"}
    | {".au", ".snd", ".caf", ".w64", ".rf64"}
)


def audio_files(root: Path) -> tuple[list[Path], int]:
    """Audio files under ``root`` (sorted, hidden names skipped) and the count of others."""
    found: list[Path] = []
    others = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in AUDIO_SUFFIXES:
                found.append(Path(dirpath) / name)
            else:
                others += 1
    return found, others


def suffix_list() -> str:
    """The suffixes of :data:`AUDIO_SUFFIXES`, for a message."""
    return " ".join(sorted(AUDIO_SUFFIXES))


def _same(p: Path) -> str:
    """What tells one file (or folder) from another: its real path, case as the system."""
    return os.path.normcase(os.path.realpath(p))


def distinct_named(inputs: list[Path]) -> tuple[list[Path], list[str]]:
    """The inputs named on the command line, each file or folder once (the first time it is
    named), and a note for each one named again."""
    first: dict[str, Path] = {}
    notes: list[str] = []
    for p in inputs:
        key = _same(p)
        if key not in first:
            first[key] = p
        elif str(p) == str(first[key]):
            notes.append(f"livespec: {p}: named twice; exported once")
        else:
            notes.append(f"livespec: {p}: the same as {first[key]}; exported once")
    return list(first.values()), notes


def distinct_found(found: list[tuple[Path, T]]) -> tuple[list[tuple[Path, T]], list[str]]:
    """The (file, ...) entries of the inputs and their folders, each file once (the first
    time it is found), and one note if a file came twice (a folder named and a file or
    folder inside it)."""
    seen: set[str] = set()
    kept: list[tuple[Path, T]] = []
    again: list[Path] = []
    for entry in found:
        key = _same(entry[0])
        if key in seen:
            again.append(entry[0])
        else:
            seen.add(key)
            kept.append(entry)
    if not again:
        return kept, []
    if len(again) == 1:
        return kept, [f"livespec: {again[0]}: among the inputs twice (in a named folder too); "
                      "exported once"]  # fmt: skip
    return kept, [
        f"livespec: {counted(len(again), 'file')} among the inputs twice ({again[0]}, ...; in "
        "a named folder too); each exported once"
    ]
