"""Output names of ``livespec export``: what ``-o`` names (a file of a known format, or a
folder), and the names of the outputs in a folder.

* The format follows the extension: ``.png``, ``.npy``, ``.csv`` (:data:`.writers.WRITERS`).
  ``.svg`` and ``.html`` are known but not written yet, and any other extension is an
  error: never a folder. A folder is a path without an extension, an existing folder,
  or a path that ends in ``/``.
* In a folder, an input's outputs are named after its stem (``sweep.wav`` -> ``sweep.png``);
  when two inputs would get the same name (``sweep.wav`` and ``sweep.flac`` in one
  folder), each keeps its whole file name instead (``sweep.wav.png``, ``sweep.flac.png``).

Pure code; any thread.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from livespec.errors import UsageError
from livespec.export.writers import PLANNED, WRITERS


def _known() -> str:
    return ", ".join(f".{k}" for k in WRITERS)


def output_kind(text: str) -> str | None:
    """The format ``-o TEXT`` names (``"png"``, ``"npy"``, ...), or None for a folder.
    Raises UsageError for an extension that is planned but not written yet, or unknown."""
    if text.endswith(("/", os.sep)):
        return None
    p = Path(text)
    if p.is_dir():
        return None
    if text == "-":  # not a folder named "-": export writes no stdout
        raise UsageError(f"-o -: export writes files, not stdout; -o FILE ({_known()}) or FOLDER/")
    ext = p.suffix.lower().lstrip(".")
    if not ext:
        return None
    if ext in WRITERS:
        return ext
    if ext in PLANNED:
        raise UsageError(f"-o {text}: {PLANNED[ext]}; write {_known()}")
    raise UsageError(
        f"-o {text}: unknown output format .{ext} (known: {_known()}; a folder's name has "
        "no extension, or ends in /)"
    )


def folder_outputs(
    found: list[tuple[Path, Path]], outdir: Path, formats: list[str]
) -> list[tuple[tuple[str, Path], ...]]:
    """For each (input, its path relative to ``outdir``), its outputs (format, path):
    ``outdir/REL_STEM.FMT``, or ``outdir/REL_NAME.FMT`` for inputs whose stems collide."""
    stems = [os.path.normcase(os.path.abspath(outdir / rel.with_suffix(""))) for _, rel in found]
    count = Counter(stems)
    out: list[tuple[tuple[str, Path], ...]] = []
    for (_, rel), stem in zip(found, stems, strict=True):
        if count[stem] > 1 and rel.suffix:
            out.append(tuple((fmt, outdir / rel.with_name(f"{rel.name}.{fmt}")) for fmt in formats))
        else:
            out.append(tuple((fmt, outdir / rel.with_suffix(f".{fmt}")) for fmt in formats))
    return out
