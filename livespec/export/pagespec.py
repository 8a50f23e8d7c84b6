"""What an HTML page or SVG figure shows besides the spectrogram (:class:`PageSpec`), apart
from :mod:`.html` so that an export of other formats does not import the page's modules.

Pure data; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livespec.annotate.curves import Curve
    from livespec.annotate.labels import Label


@dataclass(frozen=True)
class PageSpec:
    """What goes on a page besides the spectrogram: ``audio`` ("embed", "link", "none"),
    overlay ``curves`` and ``labels`` (read before the export starts)."""

    audio: str = "embed"
    curves: tuple[Curve, ...] = field(default=())
    labels: tuple[Label, ...] = field(default=())
