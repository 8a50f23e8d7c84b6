"""livespec's public Python API (docs/api.md), re-exported by :mod:`livespec`.

Built on the export's and the commands' own analysis, so the numbers are theirs; loads
neither Textual nor PortAudio (sounddevice). Caller's thread.
"""

from __future__ import annotations

from livespec.api.analysis import MeasureResult, PeakFrame, measure, peaks
from livespec.api.result import Spectrogram
from livespec.api.spectrogram import frames, spectrogram

__all__ = [
    "MeasureResult",
    "PeakFrame",
    "Spectrogram",
    "frames",
    "measure",
    "peaks",
    "spectrogram",
]
