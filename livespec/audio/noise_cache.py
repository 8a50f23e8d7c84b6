"""The noise signals' repeating tables, kept in the user's cache folder.

A noise table (:class:`~livespec.audio.signals.Noise`: 2**18 samples from numpy's
``default_rng``, pink-shaped with an FFT) takes about 30 ms of CPU to make, 10 of them
importing ``numpy.random``, and plain ``livespec`` makes one (the demo's) while Textual
loads, both holding the GIL (start-up). The shaped noise before its level is applied is
saved once as ``<user cache dir>/noise-*.npy`` (2 MiB, beside FFTW's wisdom: one file per
colour) and read in about 1 ms; the level is applied after, as when it is made, so the
samples are the same. The file's name holds everything they depend on (colour, seed,
size, numpy's version); a file that cannot be read, or holds anything but that many
finite float64 samples, is ignored and made again.
Any thread; a failure to read or write is never an error.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def table_path(color: str, seed: int, size: int) -> Path:
    """Where the table of these parameters is kept (honours ``XDG_CACHE_HOME``)."""
    import platformdirs

    name = f"noise-{color}-seed{seed}-{size}-numpy{np.__version__}.npy"
    return Path(platformdirs.user_cache_dir("livespec")) / name


def load(path: Path, size: int) -> F64 | None:
    """The table saved at ``path``, or None if there is none or it is not ``size`` finite
    float64 samples."""
    try:
        with open(path, "rb") as f:
            table = np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if table.dtype != np.float64 or table.shape != (size,) or not np.isfinite(table).all():
        return None
    out: F64 = table
    return out


def save(path: Path, table: F64) -> None:
    """Write ``table`` to ``path`` atomically (a temporary file, then a rename); ignore
    failures (a read-only home: the table is made again next time)."""
    import tempfile

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".noise-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, table, allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
