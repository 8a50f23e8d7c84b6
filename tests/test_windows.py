"""Windows against scipy, their figures of merit, and their transforms against direct sums."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from numpy.testing import assert_allclose

from livespec.dsp.windows import (
    WINDOW_NAMES,
    WindowTransform,
    mainlobe_halfwidth,
    make_window,
    scipy_window_spec,
    window_info,
    window_transform,
)

SIZES = (1, 2, 3, 7, 64, 255, 256, 1000, 4096, 65536)


def direct_dtft(w: np.ndarray, nfft: int, nu: np.ndarray) -> np.ndarray:
    """sum_m w[m] exp(-2j pi nu m / nfft), straight from the definition."""
    m = np.arange(w.size)
    return np.exp(-2j * np.pi * np.outer(nu, m) / nfft) @ w


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize("n", SIZES)
def test_make_window_equals_scipy_periodic(name: str, n: int) -> None:
    ref = scipy.signal.get_window(scipy_window_spec(name), n, fftbins=True)
    w = make_window(name, n)
    assert w.dtype == np.float64
    assert w.shape == (n,)
    assert_allclose(w, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 2.5, 8.6, 14.0, 20.0])
@pytest.mark.parametrize("n", [64, 255, 4096])
def test_kaiser_beta_equals_scipy(beta: float, n: int) -> None:
    ref = scipy.signal.get_window(("kaiser", beta), n, fftbins=True)
    assert scipy_window_spec("kaiser", beta) == ("kaiser", beta)
    assert_allclose(make_window("kaiser", n, beta), ref, rtol=0, atol=1e-12)


def test_unknown_window_lists_the_valid_names() -> None:
    with pytest.raises(ValueError) as err:
        make_window("hanning", 64)
    for name in WINDOW_NAMES:
        assert name in str(err.value)
    with pytest.raises(ValueError):
        window_info("gauss", 64)
    with pytest.raises(ValueError):
        scipy_window_spec("triangle")
    with pytest.raises(ValueError):
        make_window("hann", 0)


@pytest.mark.parametrize(
    ("name", "gain", "enbw"),
    [
        ("rect", 1.0, 1.0),
        ("hann", 0.5, 1.5),
        ("hamming", 0.54, (0.54**2 + 0.46**2 / 2) / 0.54**2),
        ("blackman", 0.42, (0.42**2 + 0.5**2 / 2 + 0.08**2 / 2) / 0.42**2),
    ],
)
def test_window_info_closed_forms(name: str, gain: float, enbw: float) -> None:
    # For a periodic cosine-sum window of even length, sum(w) = n*a0 and
    # sum(w^2) = n*(a0^2 + sum_k a_k^2 / 2) exactly.
    info = window_info(name, 4096)
    assert info.name == name
    assert info.n == 4096
    assert_allclose(info.coherent_gain, gain, rtol=1e-12)
    assert_allclose(info.enbw_bins, enbw, rtol=1e-12)
    assert_allclose(info.sum, gain * 4096, rtol=1e-12)


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize("n", [64, 1000, 4096])
def test_window_info_matches_its_definition(name: str, n: int) -> None:
    w = scipy.signal.get_window(scipy_window_spec(name, 7.0), n, fftbins=True)
    info = window_info(name, n, beta=7.0)
    assert info.beta == 7.0
    assert_allclose(info.sum, w.sum(), rtol=1e-12)
    assert_allclose(info.coherent_gain, w.sum() / n, rtol=1e-12)
    assert_allclose(info.enbw_bins, n * np.sum(w**2) / w.sum() ** 2, rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "nulls"),
    [("rect", 1), ("hann", 2), ("hamming", 2), ("blackman", 3), ("blackman-harris", 4)],
)
def test_mainlobe_halfwidth_is_the_first_null(name: str, nulls: int) -> None:
    n = 256
    w = make_window(name, n)
    peak = abs(direct_dtft(w, n, np.array([0.0]))[0])
    assert mainlobe_halfwidth(name) == float(nulls)
    assert abs(direct_dtft(w, n, np.array([float(nulls)]))[0]) < 1e-12 * peak
    # ... and there is no null before it.
    inside = np.abs(direct_dtft(w, n, np.linspace(0.0, nulls - 0.25, 50)))
    assert inside.min() > 1e-4 * peak


def test_mainlobe_halfwidth_kaiser_and_flattop() -> None:
    assert mainlobe_halfwidth("flattop") == 5.0
    assert_allclose(mainlobe_halfwidth("kaiser", 8.6), np.sqrt(1 + (8.6 / np.pi) ** 2))
    # The kaiser main lobe ends near that width: |W| there is far below the peak.
    n = 4096
    w = make_window("kaiser", n, 8.6)
    half = mainlobe_halfwidth("kaiser", 8.6)
    mag = np.abs(direct_dtft(w, n, np.array([0.0, half])))
    assert mag[1] < 1e-3 * mag[0]


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize(("n", "zp"), [(64, 1), (64, 4), (255, 2), (256, 3), (4096, 1)])
def test_transform_equals_direct_sum(name: str, n: int, zp: int) -> None:
    nfft = n * zp
    w = make_window(name, n)
    rng = np.random.default_rng(n * 10 + zp)
    nu = np.concatenate(
        [
            rng.uniform(-8 * zp, 8 * zp, 200),  # main lobe and near sidelobes
            np.arange(-8 * zp, 8 * zp + 1, dtype=np.float64),  # exactly on bins
            np.arange(-8 * zp, 8 * zp + 1) + 1e-9,  # just off them
            rng.uniform(-nfft, nfft, 100),  # anywhere, including aliases
            [nfft / 2, -nfft / 2, nfft - 0.25, -nfft + 0.25, 3 * nfft + 0.5],
        ]
    )
    got = window_transform(name, n, nfft, nu)
    ref = direct_dtft(w, nfft, nu)
    assert got.dtype == np.complex128
    assert got.shape == nu.shape
    # Cosine sums are closed forms (rounding only); kaiser is a table: 1e-8 of sum(w)
    # within 512 bins of n, 2.1e-6 (-113 dB) beyond.
    if name == "kaiser":
        near = np.abs((nu + nfft / 2) % nfft - nfft / 2) <= 512 * zp
        assert_allclose(got[near], ref[near], rtol=0, atol=1e-8 * w.sum())
        assert_allclose(got, ref, rtol=0, atol=2.1e-6 * w.sum())
    else:
        assert_allclose(got, ref, rtol=0, atol=1e-11 * w.sum())


def test_transform_at_zero_is_the_window_sum_and_shape_is_kept() -> None:
    for name in WINDOW_NAMES:
        w = make_window(name, 1024)
        got = window_transform(name, 1024, 2048, np.zeros((2, 3)))
        assert got.shape == (2, 3)
        assert_allclose(got, w.sum(), rtol=1e-9)


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_reduced_transform_is_w_without_its_linear_phase(name: str) -> None:
    n, zp = 512, 2
    nfft = n * zp
    t = WindowTransform(name, n, nfft)
    nu = np.linspace(-nfft / 2 - 8 * zp, nfft / 2 + 8 * zp, 4001)
    expect = direct_dtft(make_window(name, n), nfft, nu) * np.exp(
        1j * np.pi * t.phase_slope * nu / nfft
    )
    s1 = make_window(name, n).sum()
    got = t.reduced(nu)
    if name == "kaiser":  # a table: 1e-8 of sum(w) (all of it is within its reach here)
        assert_allclose(got, expect, rtol=0, atol=1e-8 * s1)
    else:
        assert_allclose(got, expect, rtol=0, atol=1e-11 * s1)


def test_transform_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        WindowTransform("hann", 1, 1)
    with pytest.raises(ValueError):
        WindowTransform("hann", 64, 32)
