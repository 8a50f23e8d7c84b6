"""Is the band's strongest bin a tone, or only noise? The detection rule of docs/measure.md.

Under noise alone (locally flat density ``N`` per bin), a bin of a power spectrum averaged
over ``K`` frames is ``N`` times a chi-square variable with ``2K`` degrees of freedom
divided by ``2K``; the local noise estimate, the mean of ``L`` such bins, is one with
``2KL``. Their ratio is then an F(2K, 2KL) variable, and the largest of ``M`` searched bins
exceeds ``t`` with probability at most ``M * P(F > t)`` (the union bound: equal when the
bins are independent, lower when neighbouring bins are correlated, as a window makes them).
:func:`ratio_threshold` inverts that for a false-alarm probability per measurement.
``K`` and ``L`` are *equivalent* counts: overlapping frames and a window's neighbouring
bins are correlated, which :func:`overlap_correlation` and :func:`bin_correlation`
measure (Welch 1967; Satterthwaite's equivalent degrees of freedom).

Pure Python and numpy (no scipy: the regularized incomplete beta function is Numerical
Recipes' continued fraction, tested against scipy). Any thread; no shared state but a cache.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.averaging import (
    Averager,
    CumulativeAverager,
    ExponentialAverager,
    LinearAverager,
)

FALSE_ALARM = 1e-3  # probability that noise alone reads as a tone, per measurement


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (a, b > 0; 0 <= x <= 1)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        + a * math.log(x) + b * math.log1p(-x)
    )  # fmt: skip
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def f_sf(t: float, d1: float, d2: float) -> float:
    """P(F > t) for an F(d1, d2) variable (the ratio of two chi-squares over their dof)."""
    if t <= 0.0:
        return 1.0
    return betainc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * t))


@lru_cache(maxsize=256)
def _threshold(d1: float, d2: float, p: float) -> float:
    lo, hi = 0.0, math.log(1e12)  # bisection on log t: P(F > t) falls with t
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if f_sf(math.exp(mid), d1, d2) > p:
            lo = mid
        else:
            hi = mid
    return math.exp(hi)


def ratio_threshold(frames: float, floor_bins: float, searched: int, pfa: float) -> float:
    """The power ratio (largest bin over the local noise mean) that noise alone exceeds with
    probability at most ``pfa`` when ``searched`` bins are searched, each an average of
    ``frames`` equivalent independent frames and the noise mean one of ``floor_bins``
    equivalent independent bins. The counts are rounded down (a slightly higher, safer
    threshold) so that the result can be cached."""
    k = max(math.floor(frames * 100.0) / 100.0, 1.0)
    lb = max(math.floor(floor_bins * 10.0) / 10.0, 1.0)
    return _threshold(2.0 * k, 2.0 * k * lb, pfa / max(int(searched), 1))


def _digamma(x: float) -> float:
    """psi(x) for x > 0 (recurrence up to 6, then the asymptotic series; error < 1e-8)."""
    acc = 0.0
    while x < 6.0:
        acc -= 1.0 / x
        x += 1.0
    x2 = 1.0 / (x * x)
    return acc + math.log(x) - 0.5 / x - x2 * (1 / 12 - x2 * (1 / 120 - x2 / 252))


def _trigamma(x: float) -> float:
    """psi'(x) for x > 0 (recurrence up to 6, then the asymptotic series)."""
    acc = 0.0
    while x < 6.0:
        acc += 1.0 / (x * x)
        x += 1.0
    x2 = 1.0 / (x * x)
    return acc + 1.0 / x + 0.5 * x2 + x2 / x * (1 / 6 - x2 * (1 / 30 - x2 / 42))


def floor_fit(
    bins: NDArray[np.intp], power: NDArray[np.float64], k0: int, frames: float, corr: float
) -> tuple[float, float]:
    """The noise power per bin expected at bin ``k0`` from the noise ``power`` at ``bins``
    (a straight line through log power against log bin, so a 1/f**a density's slope is
    followed, corrected for the mean of a log chi-square), and the equivalent independent
    bins of that estimate (``corr``: :func:`bin_correlation`; fewer when it extrapolates).
    """
    k = max(frames, 1.0)
    x = np.log(bins.astype(np.float64))
    y = np.log(np.maximum(power, 1e-300))
    xm, ym = float(np.mean(x)), float(np.mean(y))
    sxx = float(np.dot(x - xm, x - xm))
    slope = float(np.dot(x - xm, y - ym)) / sxx if sxx > 0.0 else 0.0
    x0 = math.log(k0)
    # E[log(chi2_2k / 2k)] = psi(k) - log(k): undo it to get the arithmetic mean back.
    floor = math.exp(ym + slope * (x0 - xm) - (_digamma(k) - math.log(k)))
    leverage = 1.0 / len(x) + ((x0 - xm) ** 2 / sxx if sxx > 0.0 else 0.0)
    # Match the estimate's log variance to that of a chi-square mean over 2*k*L dof
    # (var log = 1/(k L)): L = 1 / (k psi'(k) corr leverage).
    return floor, 1.0 / (k * _trigamma(k) * corr * leverage)


def floor_fits(
    Qb: NDArray[np.float64],
    is_noise: NDArray[np.bool_],
    start: NDArray[np.intp],
    stop: NDArray[np.intp],
    at: NDArray[np.intp],
    k_lo: int,
    reach: int,
    frames: float,
    corr: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`floor_fit` for many regions at once: for each band
    region ``[start, stop)``, the fit over the noise bins within ``reach`` bins of it
    (the whole band's when fewer than ``reach`` are there) evaluated at band bin ``at``."""
    nb = len(Qb)
    lo, hi = np.maximum(start - reach, 0), np.minimum(stop + reach, nb)
    idx = lo[:, None] + np.arange(int(np.max(hi - lo)))
    use = (idx < hi[:, None]) & is_noise[np.minimum(idx, nb - 1)]
    idx = np.minimum(idx, nb - 1)
    cnt = np.sum(use, axis=1)
    floor = np.empty(len(start))
    bins = np.empty(len(start))
    x = np.log((idx + k_lo).astype(np.float64))
    y = np.log(np.maximum(Qb[idx], 1e-300))
    n = np.maximum(cnt, 1)
    xm = np.sum(np.where(use, x, 0.0), axis=1) / n
    ym = np.sum(np.where(use, y, 0.0), axis=1) / n
    dx = np.where(use, x - xm[:, None], 0.0)
    sxx = np.sum(dx * dx, axis=1)
    sxy = np.sum(dx * (y - ym[:, None]), axis=1)
    ok = sxx > 0.0
    slope = np.where(ok, sxy / np.where(ok, sxx, 1.0), 0.0)
    x0 = np.log((at + k_lo).astype(np.float64))
    k = max(frames, 1.0)
    bias = _digamma(k) - math.log(k)
    floor = np.exp(ym + slope * (x0 - xm) - bias)
    lev = 1.0 / n + np.where(ok, (x0 - xm) ** 2 / np.where(ok, sxx, 1.0), 0.0)
    bins = 1.0 / (k * _trigamma(k) * corr * lev)
    for r in np.flatnonzero(cnt < reach):  # too few near: the whole band (rare)
        near = np.flatnonzero(is_noise)
        floor[r], bins[r] = floor_fit(near + k_lo, Qb[near], int(at[r]) + k_lo, frames, corr)
    return floor, bins


def overlap_correlation(w: NDArray[np.float64], hop: int) -> tuple[float, ...]:
    """Correlation of one bin's power between frames ``j*hop`` apart, j = 1, 2, ... while
    the frames overlap: ``(sum w[m] w[m+s])**2 / (sum w**2)**2`` (white noise; Welch)."""
    n, s2 = len(w), float(np.dot(w, w))
    out = []
    for s in range(int(hop), n, int(hop)):
        out.append((float(np.dot(w[: n - s], w[s:])) / s2) ** 2)
    return tuple(out)


def bin_correlation(w: NDArray[np.float64]) -> float:
    """``sum_j rho_j**2`` over bin lags j, rho_j the correlation of the complex spectrum
    ``j`` bins apart under white noise (the DFT of w**2 over its sum): the mean of L
    neighbouring bins has the variance of L / that many independent ones."""
    g = np.fft.rfft(w * w)
    rho = np.abs(g) / float(np.sum(w * w))
    rho = rho[rho > 1e-9]
    return float(rho[0] ** 2 + 2.0 * np.sum(rho[1:] ** 2))


def _row_sum(count: int, rho: tuple[float, ...]) -> float:
    """The largest row sum of the ``count``-frame correlation matrix of one bin's complex
    amplitude (``sqrt(rho)`` at each lag): a bound on its largest eigenvalue (Gershgorin)."""
    c = [math.sqrt(r) for r in rho]
    mid = (count - 1) // 2
    return 1.0 + sum(c[: min(mid, len(c))]) + sum(c[: min(count - 1 - mid, len(c))])


def mean_frames(count: int, rho: tuple[float, ...]) -> float:
    """Equivalent independent frames of a plain mean of ``count`` frames whose powers
    correlate ``rho[j-1]`` at lag j, for the far tail: the mean is a sum of independent
    exponentials whose weights are at most ``row_sum / count``, and such a sum's far tail
    is at most that of the same number of equal weights (Schur convexity of the tail:
    Bock, Diaconis, Huffer and Perlman 1987), a Gamma of shape ``count / row_sum``."""
    if count <= 1:
        return 1.0
    return count / _row_sum(count, rho)


def equivalent_frames(averager: Averager | None, rho: tuple[float, ...]) -> float:
    """The equivalent independent frames in ``averager``'s current result (1 for none, for
    a single frame and for peak hold, whose maxima the 1-frame threshold covers: the
    largest of M bins held over K frames over their mean reaches ln(MK)/H_K < ln M). An
    exponential average weighs each frame at most ``max(alpha, 1/count)``."""
    if averager is None:
        return 1.0
    count = int(averager.count)
    if isinstance(averager, (CumulativeAverager, LinearAverager)):
        return mean_frames(count, rho)
    if isinstance(averager, ExponentialAverager) and count > 1:
        top = max(averager.alpha, 1.0 / count)
        return max(1.0 / (top * _row_sum(count, rho)), 1.0)
    return 1.0
