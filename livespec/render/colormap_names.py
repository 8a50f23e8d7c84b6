"""The names of the colour maps: the one list that options, parsers and tables use.

Their tables live in :mod:`livespec.render.colormaps`; this module imports nothing, so
that the configuration and the command line parsers can name the maps without loading
numpy or Rich.
"""

from __future__ import annotations

COLORMAPS: tuple[str, ...] = ("viridis", "magma", "inferno", "plasma", "turbo", "grey")
DEFAULT_COLORMAP = "viridis"
