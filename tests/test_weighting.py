"""A and C weighting against IEC 61672-1:2013 Table 3 (nominal values, class 1 limits)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from livespec.dsp.weighting import weighting_db, weighting_power

# IEC 61672-1:2013 Table 3: nominal frequency (Hz), A and C weighting (dB), class 1
# acceptance limits (+, -) in dB (None = -infinity). The table's frequencies are nominal;
# its weightings are computed at the exact base-10 frequencies 1000 * 10**(i/10) Hz and
# rounded to 0.1 dB.
TABLE3: list[tuple[float, float, float, float, float | None]] = [
    (10, -70.4, -14.3, 3.5, None),
    (12.5, -63.4, -11.2, 3.0, None),
    (16, -56.7, -8.5, 2.5, 4.5),
    (20, -50.5, -6.2, 2.5, 2.5),
    (25, -44.7, -4.4, 2.5, 2.0),
    (31.5, -39.4, -3.0, 2.0, 2.0),
    (40, -34.6, -2.0, 1.5, 1.5),
    (50, -30.2, -1.3, 1.5, 1.5),
    (63, -26.2, -0.8, 1.5, 1.5),
    (80, -22.5, -0.5, 1.5, 1.5),
    (100, -19.1, -0.3, 1.5, 1.5),
    (125, -16.1, -0.2, 1.5, 1.5),
    (160, -13.4, -0.1, 1.5, 1.5),
    (200, -10.9, 0.0, 1.5, 1.5),
    (250, -8.6, 0.0, 1.4, 1.4),
    (315, -6.6, 0.0, 1.4, 1.4),
    (400, -4.8, 0.0, 1.4, 1.4),
    (500, -3.2, 0.0, 1.4, 1.4),
    (630, -1.9, 0.0, 1.4, 1.4),
    (800, -0.8, 0.0, 1.4, 1.4),
    (1000, 0.0, 0.0, 1.1, 1.1),
    (1250, 0.6, 0.0, 1.4, 1.4),
    (1600, 1.0, -0.1, 1.6, 1.6),
    (2000, 1.2, -0.2, 1.6, 1.6),
    (2500, 1.3, -0.3, 1.6, 1.6),
    (3150, 1.2, -0.5, 1.6, 1.6),
    (4000, 1.0, -0.8, 1.6, 1.6),
    (5000, 0.5, -1.3, 2.1, 2.1),
    (6300, -0.1, -2.0, 2.1, 2.6),
    (8000, -1.1, -3.0, 2.1, 3.1),
    (10000, -2.5, -4.4, 2.6, 3.6),
    (12500, -4.3, -6.2, 3.0, 6.0),
    (16000, -6.6, -8.5, 3.5, 17.0),
    (20000, -9.3, -11.2, 4.0, None),
]
EXACT = [1000.0 * 10.0 ** (i / 10.0) for i in range(-20, 14)]  # the 34 base-10 frequencies


def test_table_has_the_34_one_third_octave_bands() -> None:
    assert len(TABLE3) == 34
    for (nominal, *_), exact in zip(TABLE3, EXACT, strict=True):
        assert abs(nominal / exact - 1.0) < 0.03


@pytest.mark.parametrize(("name", "col"), [("A", 1), ("C", 2)])
def test_equals_table3_to_its_rounding(name: str, col: int) -> None:
    """At the exact frequencies the analytic curves round to the table's 0.1 dB values (A at
    160 Hz is -13.34996 dB, tabulated -13.4: hence the 0.051 dB)."""
    got = weighting_db(name, EXACT)
    want = np.array([row[col] for row in TABLE3])
    np.testing.assert_allclose(got, want, atol=0.051, rtol=0)


@pytest.mark.parametrize(("name", "col"), [("A", 1), ("C", 2)])
def test_within_class1_limits_at_nominal_frequencies(name: str, col: int) -> None:
    """Evaluated at the nominal (rounded) frequencies, every value stays within the class 1
    acceptance limits around the table's goal."""
    for row in TABLE3:
        f, goal, plus, minus = row[0], row[col], row[3], row[4]
        assert goal is not None and plus is not None
        got = float(weighting_db(name, f))
        assert got <= goal + plus, (name, f, got)
        if minus is not None:
            assert got >= goal - minus, (name, f, got)


def test_normalised_at_1khz_and_z_is_flat() -> None:
    assert abs(float(weighting_db("A", 1000.0))) < 1e-3
    assert abs(float(weighting_db("C", 1000.0))) < 1e-3
    np.testing.assert_array_equal(weighting_db("Z", [0.0, 10.0, 1e4]), 0.0)


def test_dc_is_minus_infinity_and_power_is_the_square() -> None:
    assert weighting_db("a", 0.0) == -math.inf
    assert float(weighting_power("C", 0.0)) == 0.0
    f = np.geomspace(5.0, 24000.0, 50)
    for name in ("A", "C"):
        np.testing.assert_allclose(
            10.0 * np.log10(weighting_power(name, f)), weighting_db(name, f), atol=1e-12
        )


def test_unknown_weighting_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown weighting"):
        weighting_db("B", 1000.0)
