"""A and C frequency weighting as IEC 61672-1 defines them (analytic form, not the table).

IEC 61672-1:2013, equations (E.1)-(E.6), with the pole frequencies ``f1 = 20.598997``,
``f2 = 107.65265``, ``f3 = 737.86223`` and ``f4 = 12194.217`` Hz::

    C(f) = 20*log10( f4^2 f^2 / ((f^2 + f1^2) (f^2 + f4^2)) ) - C1000
    A(f) = 20*log10( f4^2 f^4 / ((f^2 + f1^2) (f^2 + f2^2)^0.5 (f^2 + f3^2)^0.5
                                 (f^2 + f4^2)) ) - A1000

``C1000 = -0.062`` dB and ``A1000 = -2.000`` dB normalise both to 0 dB at 1 kHz. ``Z`` is
zero weighting (0 dB everywhere). The curves are applied to power spectra per bin
(:func:`weighting_power`); at 0 Hz A and C are -inf dB (power gain 0).

Pure functions of their arguments; any thread.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

WEIGHTINGS: tuple[str, ...] = ("A", "C", "Z")

F1 = 20.598997  # Hz
F2 = 107.65265  # Hz
F3 = 737.86223  # Hz
F4 = 12194.217  # Hz
A1000 = -2.000  # dB
C1000 = -0.062  # dB


def _check(name: str) -> str:
    key = name.upper()
    if key not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {name!r}; valid: A, C, Z")
    return key


def weighting_power(name: str, freqs_hz: ArrayLike) -> NDArray[np.float64]:
    """Power gain (linear, 1.0 at 1 kHz for A and C) of weighting ``name`` at ``freqs_hz``.

    Args:
        name: "A", "C" or "Z" (case-insensitive).
        freqs_hz: frequencies in Hz (any shape, >= 0).

    Raises:
        ValueError: unknown weighting name.
    """
    key = _check(name)
    f2 = np.square(np.asarray(freqs_hz, dtype=np.float64))
    if key == "Z":
        return np.ones_like(f2)
    # Power gain = amplitude gain squared: the squares of the (E.1)/(E.3) ratios.
    c = (F4**2 * f2) ** 2 / ((f2 + F1**2) ** 2 * (f2 + F4**2) ** 2)
    if key == "C":
        out: NDArray[np.float64] = c * 10.0 ** (-C1000 / 10.0)
        return out
    a = c * f2 * f2 / ((f2 + F2**2) * (f2 + F3**2))
    out = a * 10.0 ** (-A1000 / 10.0)
    return out


def weighting_db(name: str, freqs_hz: ArrayLike) -> NDArray[np.float64]:
    """Gain in dB of weighting ``name`` at ``freqs_hz`` (Hz); -inf at 0 Hz for A and C."""
    p = weighting_power(name, freqs_hz)
    with np.errstate(divide="ignore"):
        out: NDArray[np.float64] = 10.0 * np.log10(p)
    return out
