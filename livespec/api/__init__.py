"""livespec's public Python API (docs/api.md), re-exported by :mod:`livespec`.

Built on the export's and the commands' own analysis, so the numbers are theirs; loads
neither Textual nor PortAudio (sounddevice) until ``listen``/``record`` open the sound card.
"""

from __future__ import annotations

from livespec.api.analysis import MeasureResult, PeakFrame, measure, peaks
from livespec.api.audio import Audio
from livespec.api.live import LiveStream, listen, record
from livespec.api.result import Spectrogram
from livespec.api.spectrogram import frames, spectrogram
from livespec.engine import Frame

__all__ = [
    "Audio",
    "Frame",
    "LiveStream",
    "MeasureResult",
    "PeakFrame",
    "Spectrogram",
    "frames",
    "listen",
    "measure",
    "peaks",
    "record",
    "spectrogram",
]
