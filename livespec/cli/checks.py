"""Option checks shared by the headless commands (``peaks``, ``measure``, ``record``)."""

from __future__ import annotations

import math

from livespec.errors import UsageError

MAX_DURATION_S = 1e9  # about 32 years: seconds x any sample rate stays an exact count


def check_duration(duration: float | None, until: str = "run until stopped") -> None:
    """Refuse a ``--duration`` (seconds) that is not a positive, finite number of at most
    :data:`MAX_DURATION_S` (``1e308`` would overflow ``seconds * samplerate``). Raises
    :class:`~livespec.errors.UsageError` naming what leaving it out does (``until``)."""
    if duration is None:
        return
    if not duration > 0:
        raise UsageError(f"--duration {duration:g}: must be positive")
    if math.isinf(duration):
        raise UsageError(f"--duration inf: must be finite (leave it out to {until})")
    if duration > MAX_DURATION_S:
        raise UsageError(
            f"--duration {duration:g}: must be at most {MAX_DURATION_S:g} seconds "
            f"(leave it out to {until})"
        )
