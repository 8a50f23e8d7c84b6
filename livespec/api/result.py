"""The result of :func:`livespec.spectrogram`: levels, their axes and settings, and the
export's image and file writers applied to them (docs/api.md). Caller's thread."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livespec.api.inputs import as_path, shown
from livespec.config import COLORMAPS
from livespec.errors import EXIT_FAILURE, LivespecError, UsageError
from livespec.export.dsp import Recipe

if TYPE_CHECKING:
    import os

    from PIL import Image

    from livespec.api.analysis import PeakFrame
    from livespec.api.audio import Audio
    from livespec.dsp.scales import FreqScale

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
C128 = NDArray[np.complex128]
LIVE_RANGE = (-120.0, 0.0)  # the export's colour range without --like (config's default)


@dataclass(frozen=True, eq=False)
class Spectrogram:
    """Levels of a signal over time and frequency, as ``livespec export --npy`` writes them.

    Attributes:
        db: levels in dB, float32, shape (frames, rows): dBFS without ``like`` (a
            full-scale sine reads 0.0), the library's dB with it.
        freqs: frequency of each row in Hz (FFT bins, mel band centres, log band centres
            (geometric) or CQT bin centres).
        times: centre of each frame in seconds from the first sample.
        samplerate: Hz.
        recipe: the analysis (frame length ``recipe.n``, ``recipe.hop``, window, ...).
        scale: "linear", "log" (log-spaced bands), "mel" or "cqt" (constant-Q bins).
        like: None (livespec's dBFS) or the library reproduced.
        unit: "dBFS" or "dB".
        stft: with ``keep_phase=True``, the complex STFT (frames, FFT bins), complex128:
            ``rfft(window * frame, nfft)`` unscaled, ``librosa.stft``'s convention (FFT
            bins even when ``db`` has mel bands); else None.
        nsamples: samples of the (mono) audio analysed; None for a piece of ``frames()``.
        db_offset: dB added to every level by ``db_ref="max"`` (0.0 without it).
    """

    db: F32
    freqs: F64
    times: F64
    samplerate: float
    recipe: Recipe
    scale: str = "linear"
    like: str | None = None
    unit: str = "dBFS"
    source: Any = field(default=None, repr=False)  # the array (by reference) or path: peaks()
    stft: C128 | None = field(default=None, repr=False)
    nsamples: int | None = None
    db_offset: float = 0.0

    @property
    def fft(self) -> int:
        """Samples per frame."""
        return self.recipe.n

    @property
    def hop(self) -> int:
        """Samples between frames."""
        return self.recipe.hop

    @property
    def window(self) -> str:
        """The window's name."""
        return self.recipe.window

    @property
    def shape(self) -> tuple[int, int]:
        """(frames, rows)."""
        return (int(self.db.shape[0]), int(self.db.shape[1]))

    def __repr__(self) -> str:
        return (
            f"Spectrogram({self.shape[0]} frames x {self.shape[1]} rows, fft {self.fft}, "
            f"hop {self.hop}, {self.window}, {self.scale}, {self.samplerate:g} Hz, "
            f"{self.unit}{'' if self.like is None else ', like ' + self.like})"
        )

    # -- images ----------------------------------------------------------------------------

    def db_range(self) -> tuple[float, float]:
        """The default colour range (lo, hi) in dB, the export's rules: -120..0 dBFS
        without ``like``; with ``top_db``, ``top_db`` below the maximum; else min..max."""
        hi = float(self.db.max())
        if self.recipe.top_db is not None:
            lo = hi - self.recipe.top_db
        elif self.like is None:
            lo, hi = LIVE_RANGE
        else:
            lo = float(self.db.min())
        return (lo, hi if hi > lo else lo + 1.0)

    def to_image(
        self,
        size: tuple[int, int] | None = None,
        colormap: str = "viridis",
        origin: str | None = None,
        db_range: tuple[float, float] | None = None,
        *,
        gray: bool = False,
    ) -> Image.Image:
        """The spectrogram as a Pillow image, drawn as ``livespec export`` draws a PNG.

        Args:
            size: (width, height) pixels; None = one column per frame, one row per row.
            colormap: viridis, magma, inferno, plasma, turbo or grey.
            origin: "lower" (low frequencies at the bottom) or "upper" (0 Hz in row 0); None
                = the export's for this ``like`` ("upper" for torchaudio, docs/export.md).
            db_range: (lo, hi) dB mapped to the ends of the colour map; None = :meth:`db_range`.
            gray: an 8-bit greyscale image ("L") instead of RGB.
        """
        if origin not in (None, "lower", "upper"):
            raise UsageError(f"origin={origin!r}: must be None, 'lower' or 'upper'")
        return self._draw(size, colormap, db_range, gray, origin)[0]

    def to_figure(
        self,
        size: tuple[int, int] | None = None,
        colormap: str = "viridis",
        db_range: tuple[float, float] | None = None,
        *,
        gray: bool = False,
        title: str = "",
    ) -> Image.Image:
        """The image framed as a report figure, as ``livespec export --axes`` draws it:
        ``title``, time (s) and frequency (Hz) axes and a colour bar in ``unit``. ``size``
        is the plot's; None = at least 640 columns and at most half as many rows."""
        from livespec.export.image import Axes, figure
        from livespec.export.writers import AXES_MIN_HEIGHT, AXES_MIN_WIDTH

        if not isinstance(title, str):
            raise UsageError(f"title={shown(title)}: must be a string")
        colormap = "grey" if colormap == "gray" else colormap
        frames, rows = self.shape
        if size is None:
            width = max(frames, AXES_MIN_WIDTH)
            height = min(rows, max(AXES_MIN_HEIGHT, width // 2))
            size = None if (width, height) == (frames, rows) else (width, height)
        img, freq, lo, hi = self._draw(size, colormap, db_range, gray)
        half = self.hop / self.samplerate / 2.0
        t0 = float(self.times[0])
        t1 = t0 + (frames - 1) * self.hop / self.samplerate + half
        axes = Axes(t0 - half, t1, freq, lo, hi, self.unit, title)
        return figure(img, axes, gray=gray, colormap=colormap)

    def _repr_png_(self) -> bytes:
        """The figure (:meth:`to_figure`) as PNG bytes, for notebooks; at most 1200 x 600."""
        frames, rows = self.shape
        size = None if frames <= 1200 and rows <= 600 else (min(max(frames, 640), 1200), 400)
        buf = io.BytesIO()
        self.to_figure(size).save(buf, format="PNG")
        return buf.getvalue()

    def _repr_html_(self) -> str | None:
        """The interactive player (``livespec export -o x.html``'s, as a ``<div>``) when the
        result has its audio (an array or a path; at most 10 minutes are embedded), else
        None: the notebook then shows :meth:`_repr_png_`."""
        from livespec.api.notebook import player_html

        return player_html(self)

    def _draw(
        self,
        size: tuple[int, int] | None,
        colormap: str,
        db_range: tuple[float, float] | None,
        gray: bool,
        origin: str | None = "lower",
    ) -> tuple[Image.Image, FreqScale, float, float]:
        """The plot image, its rows' frequency scale and its colour range (lo, hi) in dB."""
        from livespec.dsp.scales import FreqScale
        from livespec.export.columns import freq_scale
        from livespec.export.convention import convention_for
        from livespec.export.image import LogRows, TimeReducer, image_size_error, render

        if colormap == "gray":
            colormap = "grey"
        if colormap not in COLORMAPS:
            raise UsageError(f"colormap={colormap!r}: must be one of {', '.join(COLORMAPS)}")
        if size is not None:
            if not (
                isinstance(size, (tuple, list)) and len(size) == 2
                and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                        and 1 <= v <= 32768 for v in size)
            ):  # fmt: skip
                raise UsageError(
                    f"size={shown(size)}: must be (width, height), 1..32768 pixels each"
                )
            size = (int(size[0]), int(size[1]))
        try:
            lo, hi = (
                self.db_range() if db_range is None else (float(db_range[0]), float(db_range[1]))
            )
        except (TypeError, ValueError, IndexError):
            raise UsageError(f"db_range={db_range!r}: must be (lo, hi) in dB") from None
        if not hi > lo:
            raise UsageError(f"db_range={db_range!r}: the top must be above the bottom")
        levels = self.db
        r, fs = self.recipe, self.samplerate
        if r.kind != "linear":  # mel, log or cqt rows, shown as they are
            freq = freq_scale(r, fs)
        elif self.scale == "log":
            bin_hz = fs / r.nfft
            rows = size[1] if size is not None else r.bins
            log_rows = LogRows(bin_hz, r.bins, max(20.0, bin_hz), (r.bins - 1) * bin_hz, rows)
            levels = log_rows(levels)
            freq = log_rows.scale
        else:
            freq = FreqScale("linear", r.bins, 0.0, (r.bins - 1) * fs / r.nfft)
        if size is None and (problem := image_size_error(levels.shape[0], levels.shape[1])):
            raise UsageError(f"{problem.split(';')[0]}; give size=(width, height)")
        reducer = TimeReducer(levels.shape[0], levels.shape[1], size)
        reducer.add(levels)
        # The preset's origin, quantization and resizing, as the export's.
        conv = convention_for(self.like, origin=origin)
        img = render(
            reducer.result(), lo, hi, size=size, gray=gray, colormap=colormap, convention=conv
        )
        return img, dataclasses.replace(freq, group=reducer.row_group), lo, hi

    # -- files -----------------------------------------------------------------------------

    def save(self, path: str | bytes | os.PathLike[str], **image: Any) -> Path:
        """Write ``path`` (creating its folder) by its suffix: ``.npy`` (float32 (frames,
        rows), the export's bytes), ``.csv`` (the export's wide layout: ``time_s`` then one
        column per frequency in Hz) or ``.png`` (:meth:`to_image` with ``image`` options:
        one pixel per value without ``size``, as ``livespec export --size native``)."""
        from livespec.export.io import CsvSink, NpySink, Post

        p = as_path(path)
        fmt = p.suffix.lower()
        if fmt not in (".npy", ".csv", ".png"):
            raise UsageError(f"{p}: the name must end in .npy, .csv or .png")
        vmin, vmax = float(self.db.min()), float(self.db.max())
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            if fmt == ".png":
                from livespec.export.image import PNG_COMPRESS
                from livespec.export.pngfile import write_png  # the export's bytes

                pixels = np.asarray(self.to_image(**image))
                with open(p, "wb") as f:
                    write_png(f, pixels, None, PNG_COMPRESS)
                return p
            if image:
                raise UsageError(f"{p}: image options apply to .png only")
            frames, cols = self.shape
            sink = (
                NpySink(p, frames, cols)
                if fmt == ".npy"
                else CsvSink(p, cols, self.times, self.freqs, "wide")
            )
            sink.write(self.db)
            sink.finish(Post(), vmin, vmax)
        except OSError as exc:
            raise LivespecError(f"{p}: cannot write: {exc.strerror or exc}", EXIT_FAILURE) from None
        return p

    # -- audio -----------------------------------------------------------------------------

    def to_audio(
        self,
        n_iter: int = 32,
        *,
        method: str | None = None,
        momentum: float = 0.99,
        init: str | None = "random",
        seed: int | None = 0,
    ) -> Audio:
        """Audio whose spectrogram this is, as an :class:`~livespec.api.audio.Audio`
        (``samples``, ``samplerate``, ``spectral_convergence_db``; mono, ``nsamples`` long).

        With the phase (``keep_phase=True``) the inverse STFT (weighted overlap-add) is
        exact; without it, ``n_iter`` iterations of fast Griffin-Lim (``momentum`` 0.99,
        ``librosa.griffinlim``'s; 0 = the original algorithm) from random phases
        (``seed``; ``init=None``: zero phases) find a signal whose magnitudes approach the
        levels in ``db`` (calibration, ``db_ref`` undone; ``top_db`` floors stay floors).
        Mel, log and CQT rows are refused without the phase. ``method`` forces "istft" or
        "griffinlim".

        Raises:
            livespec.UsageError: no phase for "istft", mel bands, a bad argument, or a
            result that does not know its audio (a piece of :func:`livespec.frames`).
        """
        from livespec.api.audio import to_audio

        return to_audio(self, method, n_iter, momentum, init, seed)

    # -- peaks -----------------------------------------------------------------------------

    def peaks(self, n: int = 1) -> list[PeakFrame]:
        """The ``n`` strongest interpolated peaks of every frame (:func:`livespec.peaks`:
        the estimator of ``livespec peaks``), for livespec's own analysis (no ``like``, not
        centred) of an array or a file path."""
        from livespec.api.analysis import peaks

        r = self.recipe
        if self.like is not None or r.center or r.detrend != "none" or r.level != "dbfs":
            raise UsageError("peaks() needs livespec's own analysis: no like=, center=False")
        if self.source is None:
            raise UsageError("peaks() needs the input again: give an array or a path, not a file")
        return peaks(
            self.source,
            None if isinstance(self.source, (str, Path)) else self.samplerate,
            fft=r.n,
            hop=r.hop,
            window=r.window,
            beta=r.beta,
            zero_pad=r.nfft // r.n,
            n=n,
            channel=r.channel,
        )
