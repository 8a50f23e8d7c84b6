"""Peaks near DC and Nyquist (:class:`~livespec.dsp.peaks.PeakFinder`'s edge path): the
fit on the mirrored spectrum, and the DC lobe's skirt (``_above_skirt``), which is no peak.

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

    def _above_skirt(
        self, X: NDArray[np.complex128], db: NDArray[np.float32], ks: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Which of the candidate bins ``ks`` rise above the skirt of what lies in the DC
        lobe (bins 0 .. dc_lobe - 1, never searched). That content is fitted like a peak
        (f and the complex a), its leakage ``a*W(k - f) + conj(a)*W(k + f)`` predicted at
        each candidate, and a candidate at most 6 dB above it is its skirt, as is one 140 dB
        or more below that content (float32 samples' rounding noise: -150 dB re the signal
        and lower per bin). A DC offset (f = 0) leaks nothing past its lobe (cosine-sum
        windows): it hides nothing above the rounding. All are kept if the fit fails."""
        k0 = int(np.argmax(db[: self._dc_lobe]))
        fit = self._edge_refine(X, k0)
        if fit is None:
            return np.ones(ks.size, dtype=bool)
        f = max(fit[0], _OFF_S * self._zp)  # a' is undetermined at f = 0 itself
        x = self._mirrored(X, k0)
        nu = k0 + np.arange(-self._half, self._half + 1, dtype=np.float64)
        a1, a2 = self._transform.reduced(nu - f), self._transform.reduced(nu + f)
        nn = float(np.vdot(a1, a1).real + np.vdot(a2, a2).real)
        zz = complex(np.vdot(a1, a2))
        r = complex(np.vdot(a1, x)) + complex(np.vdot(a2, x)).conjugate()
        det = nn * nn - 4.0 * abs(zz) ** 2
        if not det > 0.0:
            return np.ones(ks.size, dtype=bool)
        a = (nn * r - 2.0 * zz * r.conjugate()) / det  # a', without W's linear phase
        k = ks.astype(np.float64)
        rot = np.exp(-1j * np.pi * self._transform.phase_slope * f / self._nfft)
        leak = a * rot * self._transform(k - f) + (a * rot).conjugate() * self._transform(k + f)
        s1 = abs(complex(self._transform(0.0)))
        limit = 20.0 * np.log10(np.maximum(2.0 * np.abs(leak) / s1, 1e-300)) + _SKIRT_MARGIN_DB
        np.maximum(limit, fit[1] + _FLOAT32_FLOOR_DB, out=limit)
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

    def _mirrored(self, X: NDArray[np.complex128], k0: int) -> NDArray[np.complex128]:
        """``X[k0 - half : k0 + half + 1]`` continued past DC and Nyquist by conjugate
        symmetry (odd nfft too), W's per-bin phase removed as for the inner bins."""
        nfft = self._nfft
        k = k0 + np.arange(-self._half, self._half + 1, dtype=np.int64)
        j = k % nfft
        mirror = j >= self._bins
        x = X[np.where(mirror, nfft - j, j)]
        np.conjugate(x, out=x, where=mirror)
        ang = ((self._islope * k) % (2 * nfft)) * (np.pi / nfft)
        out: NDArray[np.complex128] = x * (np.cos(ang) + 1j * np.sin(ang))
        return out

    def _edge_refine(self, X: NDArray[np.complex128], k0: int) -> tuple[float, float] | None:
        """(fractional bin of nfft in 0..nfft/2, dBFS) of the peak picked at ``k0``, whose
        fit window reaches past DC or Nyquist; None if no fit succeeds. (The search starts
        from a scan, not from the log-parabolic estimate.)"""
        x = self._mirrored(X, k0)
        zp = self._zp
        sign = self._image_base(k0)
        energy, _ = self._evaluate(_SCAN * float(zp), x, sign)
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
        energy, amp = self._evaluate(np.array(fs) - k0, x, sign)
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
        energy, _ = self._evaluate(rs, x, sign)
        if not all(math.isfinite(e) for e in energy):
            return None
        u = _R * _R
        u_max = float(u[-1])
        poly = np.polynomial.Polynomial.fit(u, energy, _R.size - 1)
        cand = [0.0, u_max]
        for c in poly.deriv().roots().tolist():
            if abs(complex(c).imag) < 1e-12 and 0.0 < complex(c).real < u_max:
                cand.append(complex(c).real)
        best = max(cand, key=lambda c: float(poly(c)))
        if best >= u_max * 0.999:
            return None
        return s_delta + k0 + toward * math.sqrt(best) * zp, 0.0
