"""livespec: a real-time spectrum analyzer for the terminal, and a small Python API.

>>> import livespec
>>> S = livespec.spectrogram("take.flac")             # doctest: +SKIP
>>> S.db.shape, S.freqs[1], S.times[0]                 # doctest: +SKIP

Importing the package is cheap: the API (:mod:`livespec.api`, docs/api.md) loads on
first use, and nothing here loads Textual or PortAudio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livespec.errors import LivespecError, SourceError, UsageError

if TYPE_CHECKING:
    from livespec.api import (
        Audio,
        Frame,
        LiveStream,
        MeasureResult,
        PeakFrame,
        Spectrogram,
        frames,
        listen,
        measure,
        peaks,
        record,
        spectrogram,
    )


__version__ = "0.1.0"

__all__ = [
    "Audio",
    "Frame",
    "LiveStream",
    "LivespecError",
    "MeasureResult",
    "PeakFrame",
    "SourceError",
    "Spectrogram",
    "UsageError",
    "__version__",
    "frames",
    "listen",
    "measure",
    "peaks",
    "record",
    "spectrogram",
]

_API = frozenset(__all__) - {"LivespecError", "SourceError", "UsageError", "__version__"}


def __getattr__(name: str) -> Any:
    """The API's names, imported on first use (``import livespec`` stays cheap)."""
    if name in _API:
        from livespec import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'livespec' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API only (what ``import *`` gives and a completer should offer), not the
    typing helpers this file imports nor the submodules loaded so far."""
    return sorted(__all__)
