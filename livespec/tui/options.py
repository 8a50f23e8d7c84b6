"""The live app's settings that come only from its command line, not from the config file.

``livespec`` takes ``--record``, ``--preroll``, ``--subtype``, ``--labels-out`` and the
measurement view's ``--average``, ``--harmonics``, ``--band`` and ``--weighting``; they hold
for one run, so they are not :class:`~livespec.config.Config` values (which the TOML file
can set). The parser's namespace is read once, in :meth:`AppOptions.from_args`; everything
else is given an :class:`AppOptions`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from livespec.dsp.averaging import AverageSpec

DEFAULT_PREROLL_S = 3.0  # a recording started with r begins this far in the past
DEFAULT_SUBTYPE = "PCM_24"


@dataclass(frozen=True)
class AppOptions:
    """Per-run settings of the live app.

    Attributes:
        record: record from launch into this file (None: not at launch).
        force: let ``record`` replace an existing file.
        preroll_s: seconds before the ``r`` key that a recording includes.
        subtype: WAV sample format of recordings.
        average: averaging to start with (None: none, and the default cycle of the A key).
        harmonics: THD counts harmonics 2..N (None: the measurement's default).
        band: the measurements' band in Hz (None: the default).
        weighting: A, C or Z (None: the default, Z).
        labels_out: where ``L`` saves the markers (None: the recording folder).
    """

    record: str | None = None
    force: bool = False
    preroll_s: float = DEFAULT_PREROLL_S
    subtype: str = DEFAULT_SUBTYPE
    average: AverageSpec | None = None
    harmonics: int | None = None
    band: tuple[float, float] | None = None
    weighting: str | None = None
    labels_out: str | None = None

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> AppOptions:
        """The options of the ``livespec`` command line's namespace (main thread)."""
        return cls(
            record=ns.record,
            force=bool(ns.force),
            preroll_s=DEFAULT_PREROLL_S if ns.preroll is None else float(ns.preroll),
            subtype=str(ns.subtype or DEFAULT_SUBTYPE),
            average=ns.average,
            harmonics=ns.harmonics,
            band=ns.band,
            weighting=ns.weighting,
            labels_out=getattr(ns, "labels_out", None),
        )
