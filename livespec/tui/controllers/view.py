"""The display keys: pause, colour map, analysis window and FFT size, spectrum panel,
orientation, frequency scale, cursor and marker, top 3, peak hold, zoom and pan, floor and
ceiling, history scrolling.

:class:`ViewController` is owned by :class:`~livespec.tui.app.LivespecApp`, whose
``action_*`` methods (bound to keys) call it. UI thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from livespec.config import (
    COLORMAP_CHOICES,
    SCALE_CHOICES,
    WINDOW_CHOICES,
    AnalysisConfig,
    Config,
)
from livespec.dsp.cqt import CqtLayout
from livespec.dsp.cqt_live import live_layout
from livespec.engine import Engine
from livespec.errors import counted
from livespec.render.stats import Stats
from livespec.render.view import NO_DATA_DB, WaterfallView
from livespec.tui.controllers.host import Host
from livespec.tui.widgets.plot import Plot

FFT_SIZES = tuple(1 << k for k in range(6, 17))  # 64 .. 65536
DB_STEP = 5.0  # floor/ceiling keys move by this (dB)
MIN_DB_SPAN = 10.0
MAX_FRAMES_PER_PIXEL = 64  # time zoom: at most 64 frames per pixel (about 80 s at 120x40)


def waterfall_view(cfg: Config, samplerate: float, depth: str, orientation: str) -> WaterfallView:
    """The waterfall's model as configured, for a terminal of colour ``depth``."""
    a, d = cfg.analysis, cfg.display
    view = WaterfallView(
        samplerate=samplerate,
        bins=a.fft * a.zero_pad // 2 + 1,
        hop=a.hop_samples,
        history_seconds=d.history_seconds,
        scale=d.scale,
        fmin=a.fmin,
        fmax=a.fmax,
        db_min=d.db_min,
        db_max=d.db_max,
        colormap=d.colormap,
        depth=depth,
        orientation=orientation,
    )
    view.set_frames_per_pixel(d.frames_per_pixel)
    return view


class ViewController:
    """What the display keys change.

    Args:
        host: the app (notifications, redraws, the tick).
        cfg: the configuration (the analysis, colour map and scale at start).
        view: the waterfall's model.
        stats: the readout's figures (peak hold).
        plot: the plot widget (spectrum panel, orientation, direct redraws).
        engine: the engine to reconfigure (None: the keys change only what is shown).
        depth: the terminal's colour depth.

    Attributes:
        analysis: the analysis settings now.
        colormap, scale: the colour map and frequency scale now.
        zoomed: the frequency range is not the whole range.
        full_range: the whole frequency range (Hz).
        top3: the readout shows the three strongest peaks.
        on_analysis: called with the new settings after each analysis change (UI thread).
    """

    def __init__(
        self,
        host: Host,
        cfg: Config,
        view: WaterfallView,
        stats: Stats,
        plot: Plot,
        engine: Engine | None,
        depth: str,
    ) -> None:
        self.host, self.view, self.stats, self.plot = host, view, stats, plot
        self.analysis: AnalysisConfig = cfg.analysis
        self.engine, self.depth = engine, depth
        self.colormap, self.scale = cfg.display.colormap, cfg.display.scale
        self.full_range = (view.fmin, view.fmax)
        self.zoomed = False
        self.top3 = False
        self.on_analysis: list[Callable[[AnalysisConfig], None]] = []  # told of every change
        self._sync_cqt()

    @property
    def cqt_layout(self) -> CqtLayout | None:
        """The constant-Q bins the engine computes for the cqt scale (None: another scale,
        or no local engine, as in ``livespec view``, where the cqt scale warps FFT bins)."""
        if self.scale != "cqt" or self.engine is None:
            return None
        return live_layout(self.view.samplerate)

    def _sync_cqt(self) -> None:
        """Have the engine compute CQT rows while the cqt scale is shown, and only then."""
        if self.engine is not None:
            self.engine.set_cqt(self.cqt_layout)

    def reconfigure(self, **changes: int | str | None) -> None:
        """Change the analysis (and the engine's, if any)."""
        self.analysis = dataclasses.replace(self.analysis, **changes)  # type: ignore[arg-type]
        if self.engine is not None:
            self.engine.reconfigure(self.analysis)
        for listener in self.on_analysis:
            listener(self.analysis)
        self.host.update_texts()

    def pause(self) -> None:
        """Freeze or resume the view (the audio and the history keep flowing)."""
        self.view.set_paused(not self.view.paused)
        self.host.tick()

    def next_colormap(self, step: int) -> None:
        """Next (or previous) colour map."""
        i = COLORMAP_CHOICES.index(self.colormap)
        self.colormap = COLORMAP_CHOICES[(i + step) % len(COLORMAP_CHOICES)]
        self.view.set_colors(self.colormap, self.depth)
        self.host.refresh_plot()
        self.host.notify(f"Colour map: {self.colormap}", timeout=1.5)

    def next_window(self) -> None:
        """Next analysis window."""
        i = WINDOW_CHOICES.index(self.analysis.window)
        self.reconfigure(window=WINDOW_CHOICES[(i + 1) % len(WINDOW_CHOICES)])

    def step_fft(self, step: int) -> None:
        """Double (step 1) or halve (step -1) the FFT size."""
        a = self.analysis
        i = min(range(len(FFT_SIZES)), key=lambda k: abs(FFT_SIZES[k] - a.fft))
        new = FFT_SIZES[max(0, min(len(FFT_SIZES) - 1, i + step))]
        hop = None if a.hop is None else min(a.hop, new)
        if new * a.zero_pad <= 1 << 20:
            self.reconfigure(fft=new, hop=hop)

    def toggle_spectrum(self) -> None:
        """Show or hide the spectrum panel."""
        self.plot.set_spectrum(not self.plot.show_spectrum)

    def toggle_orientation(self) -> None:
        """Switch between time-scrolls-left and time-flows-down."""
        v = self.view
        self.plot.set_orientation("vertical" if v.orientation == "horizontal" else "horizontal")
        self.host.refresh_plot()

    def next_scale(self) -> None:
        """Next frequency scale (linear, log, mel, cqt)."""
        self.scale = SCALE_CHOICES[(SCALE_CHOICES.index(self.scale) + 1) % len(SCALE_CHOICES)]
        self._sync_cqt()
        lo, hi = (self.view.fmin, self.view.fmax) if self.zoomed else self.full_range
        self._set_freq(lo, hi, self.zoomed)
        layout = self.cqt_layout
        if layout is not None:
            longest = float(layout.lengths(self.view.samplerate)[0]) / self.view.samplerate
            self.host.notify(
                f"Scale: constant-Q, {layout.bins_per_octave} bins per octave from C1; "
                f"the lowest bins need {longest:.1f} s of sound and are updated every "
                f"{longest / 4:.2f} s",
                timeout=4,
            )

    def _set_freq(self, lo: float, hi: float, zoomed: bool) -> None:
        self.zoomed = zoomed
        self.view.set_freq(self.scale, lo, hi)
        self.host.refresh_plot()

    def move_cursor(self, dx: int, dy: int) -> None:
        """Move the keyboard cursor by cells."""
        self.view.move_cursor(dx, dy)
        self._refresh_cursor()

    def cursor_to(self, x: int, y: int) -> None:
        """Put the cursor on waterfall cell (``x``, ``y``) (a click)."""
        x0, y0 = self.view.cursor_cell()
        self.move_cursor(x - x0, y - y0)

    def _refresh_cursor(self) -> None:
        self.plot.sync()  # straight to the terminal where it can
        self.host.update_texts()

    def set_marker(self) -> None:
        """Put the second marker at the cursor."""
        if not self.view.cursor_on:
            self.view.cursor_on = True
        self.view.set_marker()
        self._refresh_cursor()

    def cursor_off(self) -> None:
        """Hide the cursor and drop the marker."""
        self.view.cursor_on = False
        self.view.marker = None
        self._refresh_cursor()

    def toggle_top3(self) -> None:
        """Show or hide the three strongest peaks."""
        self.top3 = not self.top3
        if self.top3 and self.analysis.peaks < 3:
            self.reconfigure(peaks=3)
        self.host.update_texts()

    def reset_hold(self) -> None:
        """Forget the peak hold and the clip light."""
        self.stats.reset_hold()
        self.view.reset_hold()
        self.host.refresh_plot()

    def zoom(self, factor: float) -> None:
        """Zoom the frequency range in (factor > 1) or out, at the cursor if shown."""
        v = self.view
        lo, hi = v.zoomed(factor, v.cursor_hz if v.cursor_on else None)
        full = (lo, hi) == self.full_range or (lo <= self.full_range[0] and hi >= v.fmax)
        self._set_freq(lo, hi, not full)

    def time_zoom(self, factor: float) -> None:
        """A longer (factor > 1) or shorter time span: frames per time pixel x2 or /2
        (1 to 64), rebuilt from the history."""
        v = self.view
        fpp = min(max(round(v.fpp * factor), 1), MAX_FRAMES_PER_PIXEL)
        if fpp != v.fpp:
            v.set_frames_per_pixel(fpp)
            span = v.time_pixels * v.pixel_seconds
            what = f"{counted(fpp, 'frame')} per pixel: {span:.3g} s on screen"
            self.host.notify(what, timeout=1.5)
        self.host.refresh_plot()

    def pan(self, fraction: float) -> None:
        """Move the frequency range by a fraction of its height."""
        lo, hi = self.view.panned(fraction)
        self._set_freq(lo, hi, True)

    def zoom_reset(self) -> None:
        """Back to the whole configured frequency range."""
        self._set_freq(*self.full_range, False)

    def floor(self, step: int) -> None:
        """Move the colour floor by 5 dB."""
        v = self.view
        self._set_db(min(v.db_min + step * DB_STEP, v.db_max - MIN_DB_SPAN), v.db_max)

    def ceiling(self, step: int) -> None:
        """Move the colour ceiling by 5 dB."""
        v = self.view
        self._set_db(v.db_min, max(v.db_max + step * DB_STEP, v.db_min + MIN_DB_SPAN))

    def _set_db(self, lo: float, hi: float) -> None:
        self.view.set_db(max(lo, -300.0), min(hi, 100.0))
        self.host.refresh_plot()

    def autorange(self) -> None:
        """Fit floor and ceiling to what is on screen."""
        data = self.view.db[self.view.db > NO_DATA_DB]
        if data.size == 0:
            return
        lo = float(np.floor((np.percentile(data, 5) - 5.0) / DB_STEP) * DB_STEP)
        hi = float(np.ceil((float(data.max()) + 3.0) / DB_STEP) * DB_STEP)
        self._set_db(lo, max(hi, lo + MIN_DB_SPAN))

    def scroll(self, pages: int) -> None:
        """Scroll the frozen view back (pages > 0) or forward by half a screen."""
        v = self.view
        if not v.paused:
            v.set_paused(True)
        v.scroll(pages * max(1, v.time_pixels // 2) * v.fpp)
        self.host.tick()

    def scroll_end(self, oldest: int) -> None:
        """Jump to the oldest history (1, pauses) or back to live (0)."""
        v = self.view
        if oldest:
            v.set_paused(True)
            v.scroll(v.history.count)
        else:
            v.set_paused(False)
        self.host.tick()
