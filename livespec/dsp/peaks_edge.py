"""Peaks near DC and Nyquist (:class:`~livespec.dsp.peaks.PeakFinder`'s edge path): the
fit on the mirrored spectrum, and the DC lobe's skirt (``_above_skirt``), which is no peak
(its model fitted once per frame; with one peak a frame the strongest candidate is tested
alone first: ``_strongest_above_skirt``).

The spectrum of a real frame continues past both edges as ``X[-k] = conj(X[k])`` and
``X[nfft - k] = conj(X[k])``, and the fitted model ``a*W(k - f) + conj(a)*W(k + f)`` (the
tone and its image, W nfft-periodic) holds at every integer k, so the fit works up to DC
and Nyquist on the mirrored data. Two things differ there (docs/dsp.md):

* the model is even in ``f - s`` about s = 0 and s = nfft/2 (f and -f, f and nfft - f give
  the same model), so the explained energy has two maxima near s that the fit's grid in f
  cannot resolve; in ``u = (f - s)**2`` it has one. The fit is tried both ways (the grid in
  f started from the best of a scan of +-2.5 bins of n, and a polynomial in u) and the one
  that explains more energy is kept;
* at ``f = s`` the two terms coincide and ``a`` is not determined, and near it ``|a|``
  changes fast with f: ``|a|`` is solved at the fitted f (a hair off s), not interpolated.

Engine thread (the finder's).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from livespec.dsp.windows import WindowTransform

EDGE_NEAR = 2.5  # bins of n: a picked bin this near DC or Nyquist tries the fit in u
# The first scan, bins of n from the picked bin; the fit in u: distances from s, bins of n.
_SCAN = np.arange(-25, 26, dtype=np.float64) * 0.1 + 0.025
_R = np.arange(7, dtype=np.float64) * 0.1 + 0.05
_U_HALF = float(_R[-1] ** 2) / 2.0  # u = (t + 1) * _U_HALF: t in -1..1 spans 0 .. _R[-1]**2
_U_VANDER_INV = np.linalg.inv(np.vander(_R * _R / _U_HALF - 1.0, increasing=True))
_U_GRID = np.linspace(-1.0, 1.0, 257)  # t from u = 0 to the last sample's
_FLOAT32_FLOOR_DB = -140.0  # dB re the DC lobe's content: its float32 rounding (_above_skirt)
_SKIRT_MARGIN_DB = 6.0  # dB above the DC lobe's predicted leakage (_above_skirt)
_CLEAN = 0.999  # a fit explaining this much of the window's energy is a clean tone
_CAP_CLEAN = 10.0**3.0  # +30 dB: clean tones near s measured up to +24.1 (flattop)
_CAP_NOISY = 1.0  # otherwise: no more than the explained energy supports
_OFF_S = 1e-3  # bins of n: |a| at f = s is solved this far from it


class EdgeFit:
    """The edge path of :class:`~livespec.dsp.peaks.PeakFinder` (a mixin: the finder
    provides the attributes and methods declared here)."""

    _nfft: int
    _zp: int
    _bins: int
    _half: int
    _islope: int
    _dc_lobe: int
    _transform: WindowTransform
    _base: NDArray[np.float64]
    _dsign: NDArray[np.float64]
    _off: NDArray[np.float64]
    _s1: float  # |W(0)|
    _dc_terms: NDArray[np.complex128]  # A(k) over k = -half..half: a DC offset's lobe
    _dc_terms_nn: float  # its energy
    _abs_w: NDArray[np.float64]  # |W(k)| at every bin k
    _index0: NDArray[np.int64]  # _mirrored(X, 0)'s indices, mirror mask and phase
    _mirror0: NDArray[np.bool_]
    _phase0: NDArray[np.complex128]

    def _init_skirt(self) -> None:
        """The DC skirt rule's tables (the finder's ``__init__``, after ``_off``)."""
        nfft, bins, half = self._nfft, self._bins, self._half
        self._s1 = abs(complex(self._transform(0.0)))
        self._dc_terms = self._transform.reduced(self._off)
        self._dc_terms_nn = float(np.vdot(self._dc_terms, self._dc_terms).real)
        self._abs_w = np.abs(self._transform(np.arange(bins, dtype=np.float64)))
        j0 = np.arange(-half, half + 1, dtype=np.int64) % nfft
        self._mirror0 = j0 >= bins  # _mirrored(X, 0) with its indices and phase kept
        self._index0 = np.where(self._mirror0, nfft - j0, j0)
        self._phase0 = self._unphase_at(np.arange(-half, half + 1, dtype=np.int64))

    def _strongest_above_skirt(
        self,
        X: NDArray[np.complex128],
        db: NDArray[np.float32],
        ks: NDArray[np.intp],
        levels: NDArray[np.float32],
        dc: float,
    ) -> int | None:
        """The strongest of the candidate bins ``ks`` (the first of equals) that is not the
        DC lobe's skirt, or None: the candidate ``find`` would pick after testing them all,
        found by testing the strongest alone first (a DC offset over a quiet signal leaves
        hundreds of candidates under the DC lobe's level, and the strongest is usually the
        answer), then, if it is skirt, all the others at once."""
        first = int(np.argmax(levels))  # the strongest (the first of equals) alone first
        if levels[first] > dc:
            return int(ks[first])
        model = self._skirt_model(X, db)
        if model is None or self._skirt_keep(model, db, ks[first : first + 1])[0]:
            return int(ks[first])  # (no model: the fit failed, every candidate is kept)
        # The rest at once (a second test of them all costs less than several smaller ones).
        keep = levels > dc
        low = ~keep
        low[first] = keep[first] = False
        keep[low] = self._skirt_keep(model, db, ks[low])
        if not keep.any():
            return None
        return int(ks[keep][int(np.argmax(levels[keep]))])

    def _above_skirt(
        self, X: NDArray[np.complex128], db: NDArray[np.float32], ks: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Which of the candidate bins ``ks`` rise above the skirt of what lies in the DC
        lobe (bins 0 .. dc_lobe - 1, never searched): :meth:`_skirt_model` then
        :meth:`_skirt_keep`. All are kept if the fit fails."""
        model = self._skirt_model(X, db)
        if model is None:
            return np.ones(ks.size, dtype=bool)
        return self._skirt_keep(model, db, ks)

    def _skirt_model(
        self, X: NDArray[np.complex128], db: NDArray[np.float32]
    ) -> tuple[complex, float, float] | None:
        """What lies in the DC lobe, as ``(a, f, level)``: its leakage at bin k is
        ``a*W(k - f) + conj(a)*W(k + f)``, or ``|a|*|W(k)|`` for a DC offset (then
        ``f = -1``); ``level`` is its dBFS. None if the fit fails.

        That content is fitted like a peak (f and the complex a), and a candidate at most
        6 dB above its predicted leakage is its skirt, as is one 140 dB or more below that
        content (float32 samples' rounding noise: -150 dB re the signal and lower per bin).
        A DC offset (the lobe is ``c*W(k)`` within -60 dB) is checked first, without the
        fit: it leaks ``|c*W(k)|``, nothing past its lobe for the cosine-sum windows, so it
        hides nothing above the rounding. Computed once per frame, whatever the number of
        candidates (:meth:`_skirt_keep` tests them)."""
        # A DC offset, the common case, without the fit: X[k] = c*W(k) within -60 dB.
        x = self._mirrored0(X)
        dc_terms = self._dc_terms
        c = complex(np.vdot(dc_terms, x)) / self._dc_terms_nn
        rest = x - c * dc_terms
        if float(np.vdot(rest, rest).real) <= 1e-6 * float(np.vdot(x, x).real):
            return complex(abs(c)), -1.0, 20.0 * math.log10(max(abs(c), 1e-300))
        k0 = int(np.argmax(db[: self._dc_lobe]))
        x = self._mirrored(X, k0)
        fit = self._edge_refine(X, k0)
        if fit is None:
            return None
        f = max(fit[0], _OFF_S * self._zp)  # a' is undetermined at f = 0 itself
        nu = k0 + np.arange(-self._half, self._half + 1, dtype=np.float64)
        a1, a2 = self._transform.reduced(nu - f), self._transform.reduced(nu + f)
        nn = float(np.vdot(a1, a1).real + np.vdot(a2, a2).real)
        zz = complex(np.vdot(a1, a2))
        r = complex(np.vdot(a1, x)) + complex(np.vdot(a2, x)).conjugate()
        det = nn * nn - 4.0 * abs(zz) ** 2
        if not det > 0.0:
            return None
        a = (nn * r - 2.0 * zz * r.conjugate()) / det  # a', without W's linear phase
        rot = np.exp(-1j * np.pi * self._transform.phase_slope * f / self._nfft)
        return complex(a * rot), f, fit[1]

    def _skirt_keep(
        self, model: tuple[complex, float, float], db: NDArray[np.float32], ks: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Which of the candidate bins ``ks`` rise above the skirt ``model``
        (:meth:`_skirt_model`)."""
        a, f, level = model
        if f < 0.0:  # a DC offset: |c| |W(k)|
            leak = a.real * self._abs_w[ks]  # |W(k)|, tabulated
        else:
            k = ks.astype(np.float64)
            leak = np.abs(a * self._transform(k - f) + a.conjugate() * self._transform(k + f))
        return self._keep(db, ks, leak / self._s1, level)

    @staticmethod
    def _keep(
        db: NDArray[np.float32], ks: NDArray[np.intp], leak: NDArray[np.float64], level: float
    ) -> NDArray[np.bool_]:
        """Candidates above the predicted leakage (|X| / S1 at each) + 6 dB and above the
        float32 floor under ``level`` (dBFS, the DC lobe's content)."""
        limit = 20.0 * np.log10(np.maximum(2.0 * leak, 1e-300)) + _SKIRT_MARGIN_DB
        np.maximum(limit, level + _FLOAT32_FLOOR_DB, out=limit)
        keep: NDArray[np.bool_] = db[ks] > limit
        return keep

    def _fit(
        self, x: NDArray[np.complex128], k0: int, p: float, reach: float = 1.0
    ) -> tuple[float, float] | None:
        raise NotImplementedError

    def _image_base(self, k0: int) -> float:
        raise NotImplementedError

    def _evaluate(
        self, deltas: NDArray[np.float64], x: NDArray[np.complex128], sign: float
    ) -> tuple[list[float], list[float]]:
        raise NotImplementedError

    def _evaluate_all(
        self, deltas: NDArray[np.float64], x: NDArray[np.complex128], sign: float
    ) -> tuple[list[float], list[float]]:
        """``_evaluate`` (the energy explained at each f = k0 + delta, and |a|) in numpy
        operations on whole arrays: for the edge path's scans of 7 to 51 frequencies, where
        the Gram matrix of all rows would cost (2G + 1)**2 products. Same arithmetic."""
        nu = self._base + self._dsign * deltas[:, None]
        terms = self._transform.reduced(nu)
        a1, a2 = terms[0], terms[1]
        nn = (a1.real**2 + a1.imag**2).sum(axis=1) + (a2.real**2 + a2.imag**2).sum(axis=1)
        zz = (a1.conj() * a2).sum(axis=1) * sign
        r = a1.conj() @ x + ((a2.conj() @ x) * sign).conj()
        det = nn * nn - 4.0 * (zz.real**2 + zz.imag**2)
        ok = det > 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (nn * r - 2.0 * zz * r.conj()) / det
        energy = np.where(ok, a.real * r.real + a.imag * r.imag, -np.inf)
        amp = np.where(ok, np.abs(a), np.nan)
        return energy.tolist(), amp.tolist()

    def _mirrored(self, X: NDArray[np.complex128], k0: int) -> NDArray[np.complex128]:
        """``X[k0 - half : k0 + half + 1]`` continued past DC and Nyquist by conjugate
        symmetry (odd nfft too), W's per-bin phase removed as for the inner bins."""
        nfft = self._nfft
        k = k0 + np.arange(-self._half, self._half + 1, dtype=np.int64)
        j = k % nfft
        mirror = j >= self._bins
        x = X[np.where(mirror, nfft - j, j)]
        np.conjugate(x, out=x, where=mirror)
        out: NDArray[np.complex128] = x * self._unphase_at(k)
        return out

    def _unphase_at(self, k: NDArray[np.int64]) -> NDArray[np.complex128]:
        """``exp(j*pi*slope*k/nfft)`` at bins ``k`` (any integers): removes W's linear phase."""
        nfft = self._nfft
        ang = ((self._islope * k) % (2 * nfft)) * (np.pi / nfft)
        out: NDArray[np.complex128] = np.cos(ang) + 1j * np.sin(ang)
        return out

    def _mirrored0(self, X: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """``_mirrored(X, 0)`` (the DC lobe, every frame with a DC skirt) from kept tables."""
        x = X[self._index0]
        np.conjugate(x, out=x, where=self._mirror0)
        out: NDArray[np.complex128] = x * self._phase0
        return out

    def _edge_refine(self, X: NDArray[np.complex128], k0: int) -> tuple[float, float] | None:
        """(fractional bin of nfft in 0..nfft/2, dBFS) of the peak picked at ``k0``, whose
        fit window reaches past DC or Nyquist; None if no fit succeeds. (The search starts
        from a scan, not from the log-parabolic estimate.)"""
        x = self._mirrored(X, k0)
        zp = self._zp
        sign = self._image_base(k0)
        energy, _ = self._evaluate_all(_SCAN * float(zp), x, sign)
        start = float(_SCAN[energy.index(max(energy))]) * zp
        found = [r[0] for r in (self._fit(x, k0, start, EDGE_NEAR), self._fit_u(x, k0)) if r]
        if not found:
            return None
        nyquist = 2 * k0 > self._nfft // 2
        s = self._nfft / 2.0 if nyquist else 0.0
        # Evaluate each candidate a hair off s (the model is undetermined at s).
        toward = -1.0 if nyquist else 1.0
        fs = [s + toward * max(abs(f - s), _OFF_S * zp) for f in found]
        sign = self._image_base(k0)  # (the fits set it too, for the same k0)
        energy, amp = self._evaluate_all(np.array(fs) - k0, x, sign)
        i = energy.index(max(energy))
        a = amp[i]
        if not (a > 0.0 and math.isfinite(a)):
            return None
        # Near s a large |a| can explain little energy (the two terms nearly cancel):
        # right for a clean tone in that phase, wild for noise. Cap |a|**2 at the
        # energy explained per unit of the terms' energy, times 10**(cap/10).
        nu = self._base + self._dsign * (fs[i] - k0)
        terms = self._transform.reduced(nu)
        nn = float(np.sum(terms.real**2 + terms.imag**2))
        clean = energy[i] >= _CLEAN * float(np.vdot(x, x).real)
        a = min(a, math.sqrt(max(energy[i], 0.0) / nn * (_CAP_CLEAN if clean else _CAP_NOISY)))
        if not a > 0.0:
            return None
        return found[i], 20.0 * math.log10(2.0 * a)

    def _fit_u(self, x: NDArray[np.complex128], k0: int) -> tuple[float, float] | None:
        """The fit in ``u = (f - s)**2`` for a picked bin within EDGE_NEAR bins of n of
        the symmetry point s (else None): the explained energy at ``|f - s|`` = 0.05 ..
        0.65 bin of n, the polynomial through it in u and that polynomial's maximum; None
        if the maximum lies at the far end (the tone is farther from s)."""
        nfft, zp = self._nfft, self._zp
        nyquist = 2 * k0 > nfft // 2
        s_delta = (nfft / 2.0 if nyquist else 0.0) - k0  # s - k0, bins of nfft
        if abs(s_delta) > EDGE_NEAR * zp:
            return None
        toward = -1.0 if nyquist else 1.0  # f = s + toward * r, r >= 0
        sign = self._image_base(k0)
        rs: NDArray[np.float64] = s_delta + toward * zp * _R
        energy, _ = self._evaluate_all(rs, x, sign)
        if not all(math.isfinite(e) for e in energy):
            return None
        # The polynomial through the samples in t (u mapped onto -1..1), its largest value
        # on a dense grid from u = 0 to the last sample, polished by Newton's method.
        coef = (_U_VANDER_INV @ np.asarray(energy)).tolist()
        values = np.polynomial.polynomial.polyval(_U_GRID, coef)
        i = int(values.argmax())
        if i == _U_GRID.size - 1:
            return None  # the maximum lies farther from s: the tone is not this close
        t = float(_U_GRID[i])
        if i > 0:
            for _ in range(8):
                d1 = d2 = 0.0
                for n in range(len(coef) - 1, 0, -1):  # Horner for the first two derivatives
                    d2 = d2 * t + d1
                    d1 = d1 * t + n * coef[n]
                if not d2 < 0.0:
                    break
                step = d1 / d2
                t = min(max(t - step, float(_U_GRID[0])), 1.0)
                if abs(step) < 1e-12:
                    break
        best = max((t + 1.0) * _U_HALF, 0.0)  # u
        return s_delta + k0 + toward * math.sqrt(best) * zp, 0.0
