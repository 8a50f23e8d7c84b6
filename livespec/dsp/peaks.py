"""Spectral peaks: picking, sub-bin refinement that knows the window, and note names.

Refinement (docs/dsp.md): around a picked bin k0 the complex spectrum of a real tone
``x[m] = A*cos(2*pi*f*m/nfft + phi)`` is exactly ``X[k] = a*W(k - f) + conj(a)*W(k + f)``
with ``a = (A/2)*exp(j*phi)`` and ``W`` the window's transform. For a fixed ``f`` the best
``a`` is a 2x2 real least-squares problem; the fit keeps the ``f`` that explains most of the
energy of ``X`` over ``k0 +- 3`` bins of n. The search evaluates 7 frequencies 0.1 bin of n
apart around the log-parabolic estimate in one vectorised step (moving the grid if the best
one is at its edge), interpolates the explained energy and ``|a|`` with the polynomials
through those samples, and finds the maximum by Newton's method on that polynomial.
Level is ``20*log10(2*|a|)`` dBFS, the same scale as the dBFS row. On noise-free tones the
error is below 2e-7 bin (1e-4 bin for rect, whose main lobe is narrowest) and 1e-5 dB;
within 3 bins of DC or Nyquist (``peaks_edge.py``: the fit on the mirrored spectrum) below
0.01 bin and 0.005 dB (docs/dsp.md).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.peaks_edge import EdgeFit
from livespec.dsp.stft import Spectrum
from livespec.dsp.windows import WindowTransform, mainlobe_halfwidth

NOTE_NAMES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

_FIT_HALF_BINS = 3  # fit over k0 +- 3 bins of n
_GRID = np.arange(-3.0, 4.0)  # candidate frequencies, in steps around the start
_STEP = 0.1  # bins of n
_GRID_EDGE = 3.0
_MAX_SHIFTS = 4  # times the grid may move to bracket the optimum
_RATIO_POINTS = 8193  # table of the two-bin magnitude ratio over one bin
_RATIO_MARGIN_BINS = 48  # bins of n from DC and Nyquist beyond which the ratio is used


def note_name(freq_hz: float, a4: float = 440.0) -> tuple[str, float]:
    """Nearest equal-tempered note and the deviation from it in cents (-50..+50).

    Scientific pitch notation with sharps: C4 is middle C, A4 is ``a4`` Hz. A frequency
    that is not positive (or not finite) gives ``("", 0.0)``. Any thread.
    """
    if not (freq_hz > 0.0 and math.isfinite(freq_hz)) or not a4 > 0.0:
        return "", 0.0
    midi = 69.0 + 12.0 * math.log2(freq_hz / a4)
    nearest = round(midi)
    cents = 100.0 * (midi - nearest)
    return f"{NOTE_NAMES[nearest % 12]}{nearest // 12 - 1}", cents


@dataclass(frozen=True, slots=True)
class Peak:
    """One spectral peak.

    Attributes:
        freq_hz: refined frequency (Hz).
        level_dbfs: refined level (dBFS; a full-scale sine reads 0.0).
        bin: refined position in fractional bins of nfft.
        note: nearest equal-tempered note, e.g. "A4" ("" if freq_hz <= 0).
        cents: deviation from that note in cents (-50..+50).
    """

    freq_hz: float
    level_dbfs: float
    bin: float
    note: str
    cents: float

    @property
    def label(self) -> str:
        """The note and rounded cents with a sign, e.g. ``"A4 +3c"`` ("" without a note)."""
        if not self.note:
            return ""
        return f"{self.note} {round(self.cents):+d}c"


class PeakFinder(EdgeFit):
    """Finds the strongest peaks of one :class:`~livespec.dsp.stft.Spectrum`'s rows.

    Build it once per analyzer configuration; call :meth:`find` per frame from the thread
    that calls :meth:`Spectrum.compute <livespec.dsp.stft.Spectrum.compute>` (the engine's
    worker thread).

    Args:
        spectrum: the analyzer whose output is searched (its window, n and nfft are used).
        samplerate: Hz.
        max_peaks: how many peaks :meth:`find` returns at most (0 = none).
        a4: reference pitch for note names (Hz).
        fmin: lowest peak frequency searched (Hz).
        fmax: highest peak frequency searched (Hz); None = up to Nyquist.

    Raises:
        ValueError: non-positive samplerate or a4, negative max_peaks or fmin, fmax < fmin.
    """

    def __init__(
        self,
        spectrum: Spectrum,
        samplerate: float,
        *,
        max_peaks: int = 1,
        a4: float = 440.0,
        fmin: float = 0.0,
        fmax: float | None = None,
    ) -> None:
        if not samplerate > 0.0:
            raise ValueError(f"samplerate must be positive (Hz), got {samplerate}")
        if max_peaks < 0:
            raise ValueError(f"max_peaks must be >= 0, got {max_peaks}")
        if not a4 > 0.0:
            raise ValueError(f"a4 must be positive (Hz), got {a4}")
        if fmin < 0.0 or (fmax is not None and fmax < fmin):
            raise ValueError(f"need 0 <= fmin <= fmax (Hz), got fmin={fmin}, fmax={fmax}")
        self.spectrum = spectrum
        self.samplerate = float(samplerate)
        self.max_peaks = int(max_peaks)
        self.a4 = float(a4)
        self.fmin = float(fmin)
        self.fmax = fmax
        nfft, zp, bins = spectrum.nfft, spectrum.zero_pad, spectrum.bins
        self._nfft = nfft
        self._zp = zp
        self._bins = bins
        self._hz_per_bin = self.samplerate / nfft
        half = mainlobe_halfwidth(spectrum.window_name, spectrum.beta)
        # A candidate within this many bins of nfft of a stronger peak is dropped.
        self.separation_bins = half * zp
        kmin = max(1, math.ceil(half * zp - 1e-9), math.ceil(self.fmin / self._hz_per_bin))
        kmax = bins - 1  # up to Nyquist (the last bin for odd nfft): mirrored neighbours
        if fmax is not None:
            kmax = min(kmax, math.floor(float(fmax) / self._hz_per_bin))
        self._kmin = kmin
        self._kmax = kmax
        self._dc_lobe = max(1, math.ceil(half * zp - 1e-9))  # bins 0..this-1: never searched

        self._transform = WindowTransform(spectrum.window_name, spectrum.n, nfft, spectrum.beta)
        self._ratio_table = self._build_ratio_table(spectrum.window_name, half)
        self._islope = int(self._transform.phase_slope)
        # exp(j*pi*slope*k/nfft) per bin k (slope*k reduced mod 2*nfft while an integer):
        # multiplying X by it removes the linear phase W(k - f) has in k.
        ks = np.arange(bins, dtype=np.int64)
        ang = ((self._islope * ks) % (2 * nfft)) * (np.pi / nfft)
        self._unphase = np.cos(ang) + 1j * np.sin(ang)
        self._half = _FIT_HALF_BINS * zp
        self._off = np.arange(-self._half, self._half + 1, dtype=np.float64)
        self._init_skirt()
        # (-1)^phase_slope: sign of A(nu) when nu is moved down by nfft (W is nfft-periodic).
        self._wrap_sign = -1.0 if self._islope % 2 else 1.0
        # Fit arguments: nu = base + delta * dsign, base[0] = offsets, base[1] = image.
        self._base = np.empty((2, 1, self._off.size))
        self._base[0] = self._off
        self._dsign = np.array([-1.0, 1.0])[:, None, None]
        # Samples on _GRID -> coefficients of the interpolating polynomial (in grid steps).
        self._vander_inv = np.linalg.inv(np.vander(_GRID, increasing=True))

    # -- picking ---------------------------------------------------------------------------

    def find(self, X: NDArray[np.complex128], db: NDArray[np.float32]) -> list[Peak]:
        """The strongest ``max_peaks`` peaks of one frame, strongest first. Engine thread.

        Args:
            X: the complex spectrum from ``Spectrum.compute`` (length bins).
            db: its dBFS row from ``Spectrum.db`` (length bins).
        """
        lo, hi = self._kmin, self._kmax
        if self.max_peaks == 0 or hi < lo:
            return []
        last = self._bins - 1
        dc = max(db[: self._dc_lobe].tolist())  # the DC lobe's strongest bin (dBFS)
        if self.max_peaks == 1:
            # The strongest bin in range is the answer if it is a local maximum (and not
            # the skirt of what lies in the DC lobe).
            k = lo + int(np.argmax(db[lo : hi + 1]))
            if k < last:
                a, b, c = db[k - 1 : k + 2].tolist()  # Python floats: cheaper than 3 scalars
            else:
                a, b, c = self._edge_abc(db, k)
            if a < b >= c and b > dc:
                return [self._peak(X, db, k, (a, b, c))]
        inner = min(hi, last - 1)  # the last bin's right neighbour is its mirror image
        seg = db[lo - 1 : inner + 2]
        mid = seg[1:-1]
        cand = np.flatnonzero((mid > seg[:-2]) & (mid >= seg[2:]))
        if hi == last and db[last] > db[last - 1]:  # its mirror is db[last - 1] or itself
            cand = np.append(cand, last - lo)
        if cand.size == 0:
            return []
        levels = db[lo + cand]
        if self.max_peaks == 1 and not levels.min() > dc:
            best = self._strongest_above_skirt(X, db, lo + cand, levels, dc)
            return [] if best is None else [self._peak(X, db, best)]
        if not levels.min() > dc:  # some may be the DC lobe's skirt (peaks_edge.py)
            low = levels <= dc
            keep = ~low
            keep[low] = self._above_skirt(X, db, lo + cand[low])
            cand, levels = cand[keep], levels[keep]
            if cand.size == 0:
                return []
        if self.max_peaks == 1:
            picks = [lo + int(cand[int(np.argmax(levels))])]
        else:
            picks = []
            sep = self.separation_bins
            # Local maxima are >= 2 bins apart, so each peak taken can drop at most sep
            # candidates: the strongest max_peaks * (sep + 1) are all that can matter.
            top = self.max_peaks * (math.floor(sep) + 1)
            if levels.size > top:
                order = np.argpartition(levels, levels.size - top)[levels.size - top :]
                order = order[np.argsort(levels[order], kind="stable")[::-1]]
            else:
                order = np.argsort(levels, kind="stable")[::-1]
            for j in order:
                k = lo + int(cand[j])
                if all(abs(k - p) > sep for p in picks):
                    picks.append(k)
                    if len(picks) == self.max_peaks:
                        break
        peaks = [self._peak(X, db, k) for k in picks]
        if len(peaks) > 1:
            peaks.sort(key=lambda p: -p.level_dbfs)
        return peaks

    def _edge_abc(self, db: NDArray[np.float32], k: int) -> tuple[float, float, float]:
        """``db[k - 1 : k + 2]`` for the last bin, its right neighbour mirrored: the row
        is symmetric about Nyquist (``db[nfft - j] = db[j]``), for odd nfft too."""
        return float(db[k - 1]), float(db[k]), float(db[self._nfft - k - 1])

    def _peak(
        self,
        X: NDArray[np.complex128],
        db: NDArray[np.float32],
        k0: int,
        abc: tuple[float, float, float] | None = None,
        near: list[complex] | None = None,
    ) -> Peak:
        f, level = self.refine(X, db, k0, abc, near)
        hz = f * self._hz_per_bin
        note, cents = note_name(hz, self.a4)
        return Peak(freq_hz=hz, level_dbfs=level, bin=f, note=note, cents=cents)

    # -- the fast path: the window's two-bin magnitude ratio ---------------------------------

    def _build_ratio_table(self, window: str, half: float) -> tuple[list[float], ...] | None:
        """Tabulate, for a tone ``delta`` bins (of nfft) above bin k, the log ratio of the
        magnitudes at k + 1 and k and the magnitude at k: ``|W(1 - delta)| / |W(delta)|``
        and ``|W(delta)|`` for delta in [0, 1].

        None where the ratio is a poor estimator: rect (its sidelobes reach the
        negative-frequency image) and flattop (its flat top makes the ratio nearly constant),
        or if the ratio is not strictly monotonic.
        """
        if window in ("rect", "flattop") or half * self._zp < 2.0:
            return None
        delta = np.linspace(0.0, 1.0, _RATIO_POINTS)
        mag0 = np.abs(self._transform(delta))
        mag1 = np.abs(self._transform(1.0 - delta))
        ratio = np.log(mag1 / mag0)
        if not np.all(np.diff(ratio) > 0.0):
            return None
        # Far enough from DC and Nyquist that the image term's leakage is negligible.
        self._ratio_margin = _RATIO_MARGIN_BINS * self._zp
        return ratio.tolist(), delta.tolist(), mag0.tolist()

    def _ratio_estimate(
        self, X: NDArray[np.complex128], k0: int, near: list[complex] | None = None
    ) -> tuple[float, float] | None:
        """(fractional bin, dBFS) from the magnitudes of the two bins around the peak
        (``near``: ``X[k0 - 1 : k0 + 2]`` as a list, if the caller has it)."""
        table = self._ratio_table
        if table is None or not self._ratio_margin <= k0 <= self._bins - 1 - self._ratio_margin:
            return None
        lo, mid, hi = map(abs, X[k0 - 1 : k0 + 2].tolist() if near is None else near)
        if hi >= lo:
            k, m0, m1 = k0, mid, hi
        else:
            k, m0, m1 = k0 - 1, lo, mid
        if not (m0 > 0.0 and m1 > 0.0):
            return None
        ratios, deltas, mags = table
        r = math.log(m1 / m0)
        i = bisect.bisect_right(ratios, r)
        if i <= 0 or i >= len(ratios):
            return None  # not a single tone's shape: let the full fit decide
        t = (r - ratios[i - 1]) / (ratios[i] - ratios[i - 1])
        delta = deltas[i - 1] + t * (deltas[i] - deltas[i - 1])
        mag = mags[i - 1] + t * (mags[i] - mags[i - 1])
        return k + delta, 20.0 * math.log10(2.0 * m0 / mag)

    # -- refinement ------------------------------------------------------------------------

    def refine(
        self,
        X: NDArray[np.complex128],
        db: NDArray[np.float32],
        k0: int,
        abc: tuple[float, float, float] | None = None,
        near: list[complex] | None = None,
    ) -> tuple[float, float]:
        """Refined (fractional bin of nfft, level dBFS) of the peak at bin ``k0``.

        Fits the window's transform to ``X`` (see the module docstring; near DC and
        Nyquist on the mirrored spectrum, ``peaks_edge.py``); falls back to the
        log-parabolic estimate from ``db`` if the fit fails. ``abc``:
        ``db[k0 - 1 : k0 + 2]`` as floats and ``near``: ``X[k0 - 1 : k0 + 2]`` as a list,
        if the caller has them already.
        """
        if k0 >= self._bins - 1:
            a, b, c = self._edge_abc(db, k0)
        else:
            a, b, c = db[k0 - 1 : k0 + 2].tolist() if abc is None else abc
        den = a - 2.0 * b + c
        p = 0.5 * (a - c) / den if den < 0.0 else 0.0
        p = min(max(p, -0.5), 0.5)
        f_lp, level_lp = k0 + p, b - 0.25 * (a - c) * p
        fast = self._ratio_estimate(X, k0, near)
        if fast is not None and abs(fast[0] - k0) <= 1.0:
            return fast
        half = self._half
        if k0 - half < 0 or k0 + half > self._bins - 1:
            fitted = self._edge_refine(X, k0)
        else:
            x = X[k0 - half : k0 + half + 1] * self._unphase[k0 - half : k0 + half + 1]
            fitted = self._fit(x, k0, p)
        if fitted is None:
            return f_lp, level_lp
        return fitted

    def _fit(
        self, x: NDArray[np.complex128], k0: int, p: float, reach: float = 1.0
    ) -> tuple[float, float] | None:
        """(fractional bin, dBFS) fitted to ``x``, the data over ``k0 +- half`` with W's
        per-bin phase removed, so the model is x[k] = a'*A(k - f) + conj(a')*A(k + f),
        A = WindowTransform.reduced, |a'| = |a|; the search starts ``p`` bins of nfft from
        k0 and may end ``reach`` bins of n from it; None if the fit fails."""
        nfft, zp = self._nfft, self._zp
        sign = self._image_base(k0)
        step = _STEP * zp
        centre = p
        for _ in range(_MAX_SHIFTS):
            # At f = 0 or nfft/2 the two terms coincide and a' is not determined (the
            # explained energy is continuous but not computable there): keep the grid's
            # points half a step off those points.
            t_sym = (nfft / 2.0 if 2 * k0 > nfft // 2 else 0.0) - k0 - centre
            if abs(t_sym / step - round(t_sym / step)) < 0.05:
                centre += 0.5 * step
            energy, amp = self._evaluate(centre + step * _GRID, x, sign)
            i = energy.index(max(energy))
            if 0 < i < _GRID.size - 1:
                break
            centre += step * float(_GRID[i])
        else:
            return None
        # Interpolate energy and |a| by the degree-6 polynomials through the 7 samples (in
        # grid steps t) and find the energy's maximum by Newton's method from the best one.
        coef = (self._vander_inv @ np.array([energy, amp]).T).tolist()
        ce = [c[0] for c in coef]
        t = float(_GRID[i])
        for _ in range(12):
            d1 = d2 = 0.0
            for k in range(len(ce) - 1, 0, -1):  # Horner for E'(t) and E''(t)
                d2 = d2 * t + d1
                d1 = d1 * t + k * ce[k]
            if not d2 < 0.0:
                return None
            dt = d1 / d2
            t -= dt
            if not abs(t) <= _GRID_EDGE:
                return None
            if abs(dt) < 1e-10:
                break
        a = 0.0
        for c in reversed(coef):
            a = a * t + c[1]
        # f and -f (and f and nfft - f) give the same model: the one in 0..nfft/2 is meant.
        f = abs(k0 + centre + t * step)
        f = min(f, nfft - f)
        if not (abs(f - k0) <= reach * zp and a > 0.0 and math.isfinite(a)):
            return None  # moved more than a bin of n from the picked bin, or no amplitude
        return f, 20.0 * math.log10(2.0 * a)

    def _image_base(self, k0: int) -> float:
        """Set the image term's arguments A(k + f) for the window around ``k0``, kept
        within +-nfft/2 (W is nfft-periodic); returns the sign that move gives A."""
        base = self._base
        base[1] = 2.0 * k0 + self._off
        if 2 * k0 > self._nfft // 2:
            base[1] -= self._nfft
            return self._wrap_sign
        return 1.0

    def _evaluate(
        self, deltas: NDArray[np.float64], x: NDArray[np.complex128], sign: float
    ) -> tuple[list[float], list[float]]:
        """For each f = k0 + delta: the energy of x the model explains, and |a|."""
        # nu[0] = k - f, nu[1] = k + f (maybe moved down by nfft); shape (2, G, m).
        nu = self._base + self._dsign * deltas[:, None]
        A = self._transform.reduced(nu)
        g, m = deltas.size, x.size
        # One Gram matrix holds every inner product needed: rows A1 (G), A2 (G), x.
        rows = np.concatenate((A.reshape(2 * g, m), x[None, :]))
        gram = (rows.conj() @ rows.T).tolist()
        # Least squares for x = a*A1 + conj(a)*A2 (a complex: two real unknowns) gives
        # a*N + 2*z*conj(a) = r with N = sum |A1|^2 + |A2|^2, z = sum conj(A1) A2 and
        # r = sum conj(A1) x + conj(sum conj(A2) x); the energy it explains is
        # Re(conj(a) r). A handful of candidates: plain Python is fastest here.
        energy: list[float] = []
        amp: list[float] = []
        for j in range(g):
            row1, row2 = gram[j], gram[g + j]
            nn = row1[j].real + row2[g + j].real
            p, q, zz = row1[2 * g], row2[2 * g], row1[g + j]
            if sign < 0.0:  # A2 -> -A2
                q, zz = -q, -zz
            r = p + q.conjugate()
            det = nn * nn - 4.0 * (zz.real * zz.real + zz.imag * zz.imag)
            if not det > 0.0:  # the two terms coincide (f at DC or Nyquist)
                energy.append(-math.inf)
                amp.append(math.nan)
                continue
            a = (nn * r - 2.0 * zz * r.conjugate()) / det
            energy.append(a.real * r.real + a.imag * r.imag)
            amp.append(abs(a))
        return energy, amp
