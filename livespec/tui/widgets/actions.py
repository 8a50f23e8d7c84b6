"""The app's key actions, as a mixin of :class:`livespec.tui.app.LivespecApp` (UI thread).

Each ``action_*`` is bound to a key in ``LivespecApp.BINDINGS`` (with an id, so keys can be
remapped) and listed in the help screen and the command palette.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from livespec.config import COLORMAP_CHOICES, SCALE_CHOICES, WINDOW_CHOICES, AnalysisConfig
from livespec.render.stats import Stats
from livespec.render.view import NO_DATA_DB, WaterfallView
from livespec.tui.widgets.help import HelpScreen
from livespec.tui.widgets.plot import Plot

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[int]
else:
    _Base = object

FFT_SIZES = tuple(1 << k for k in range(6, 17))  # 64 .. 65536
DB_STEP = 5.0  # floor/ceiling keys move by this (dB)
MIN_DB_SPAN = 10.0
MAX_FRAMES_PER_PIXEL = 64  # time zoom: at most 64 frames per pixel (about 80 s at 120x40)


class KeyActions(_Base):
    """Actions behind the keys; the app supplies the state below."""

    view: WaterfallView
    stats: Stats
    analysis: AnalysisConfig
    engine: Any
    colormap: str
    scale: str
    depth: str
    zoomed: bool
    full_range: tuple[float, float]
    top3: bool

    def tick(self) -> None:  # pragma: no cover - provided by the app
        raise NotImplementedError

    def _refresh_plot(self) -> None:  # pragma: no cover - provided by the app
        raise NotImplementedError

    def _update_texts(self) -> None:  # pragma: no cover - provided by the app
        raise NotImplementedError

    def key_rows(self) -> list[tuple[str, str, str]]:  # pragma: no cover - provided by the app
        raise NotImplementedError

    def _reconfigure(self, **changes: Any) -> None:
        self.analysis = dataclasses.replace(self.analysis, **changes)
        if self.engine is not None:
            self.engine.reconfigure(self.analysis)
        self._update_texts()

    def action_pause(self) -> None:
        """Freeze or resume the view (the audio and the history keep flowing)."""
        self.view.set_paused(not self.view.paused)
        self.tick()

    def action_colormap(self, step: int) -> None:
        """Next (or previous) colour map."""
        i = COLORMAP_CHOICES.index(self.colormap)
        self.colormap = COLORMAP_CHOICES[(i + step) % len(COLORMAP_CHOICES)]
        self.view.set_colors(self.colormap, self.depth)
        self._refresh_plot()
        self.notify(f"Colour map: {self.colormap}", timeout=1.5)

    def action_window(self) -> None:
        """Next analysis window."""
        i = WINDOW_CHOICES.index(self.analysis.window)
        self._reconfigure(window=WINDOW_CHOICES[(i + 1) % len(WINDOW_CHOICES)])

    def action_fft(self, step: int) -> None:
        """Double (step 1) or halve (step -1) the FFT size."""
        a = self.analysis
        i = min(range(len(FFT_SIZES)), key=lambda k: abs(FFT_SIZES[k] - a.fft))
        new = FFT_SIZES[max(0, min(len(FFT_SIZES) - 1, i + step))]
        hop = None if a.hop is None else min(a.hop, new)
        if new * a.zero_pad <= 1 << 20:
            self._reconfigure(fft=new, hop=hop)

    def action_spectrum(self) -> None:
        """Show or hide the spectrum panel."""
        plot = self.query_one(Plot)
        plot.set_spectrum(not plot.show_spectrum)

    def action_orientation(self) -> None:
        """Switch between time-scrolls-left and time-flows-down."""
        v = self.view
        self.query_one(Plot).set_orientation(
            "vertical" if v.orientation == "horizontal" else "horizontal"
        )
        self._refresh_plot()

    def action_scale(self) -> None:
        """Next frequency scale (linear, log, mel)."""
        self.scale = SCALE_CHOICES[(SCALE_CHOICES.index(self.scale) + 1) % len(SCALE_CHOICES)]
        lo, hi = (self.view.fmin, self.view.fmax) if self.zoomed else self.full_range
        self._set_freq(lo, hi, self.zoomed)

    def _set_freq(self, lo: float, hi: float, zoomed: bool) -> None:
        self.zoomed = zoomed
        self.view.set_freq(self.scale, lo, hi)
        self._refresh_plot()

    def action_cursor(self, dx: int, dy: int) -> None:
        """Move the keyboard cursor by cells."""
        self.view.move_cursor(dx, dy)
        self._refresh_cursor()

    def _refresh_cursor(self) -> None:
        self.query_one(Plot).sync()  # straight to the terminal where it can
        self._update_texts()

    def action_marker(self) -> None:
        """Put the second marker at the cursor."""
        if not self.view.cursor_on:
            self.view.cursor_on = True
        self.view.set_marker()
        self._refresh_cursor()

    def action_cursor_off(self) -> None:
        """Hide the cursor and drop the marker."""
        self.view.cursor_on = False
        self.view.marker = None
        self._refresh_cursor()

    def action_top3(self) -> None:
        """Show or hide the three strongest peaks."""
        self.top3 = not self.top3
        if self.top3 and self.analysis.peaks < 3:
            self._reconfigure(peaks=3)
        self._update_texts()

    def action_hold_reset(self) -> None:
        """Forget the peak hold and the clip light."""
        self.stats.reset_hold()
        self.view.reset_hold()
        self._refresh_plot()

    def action_zoom(self, factor: float) -> None:
        """Zoom the frequency range in (factor > 1) or out, at the cursor if shown."""
        v = self.view
        lo, hi = v.zoomed(factor, v.cursor_hz if v.cursor_on else None)
        full = (lo, hi) == self.full_range or (lo <= self.full_range[0] and hi >= v.fmax)
        self._set_freq(lo, hi, not full)

    def action_time_zoom(self, factor: float) -> None:
        """A longer (factor > 1) or shorter time span: frames per time pixel x2 or /2
        (1 to 64), rebuilt from the history."""
        v = self.view
        fpp = min(max(round(v.fpp * factor), 1), MAX_FRAMES_PER_PIXEL)
        if fpp != v.fpp:
            v.set_frames_per_pixel(fpp)
            span = v.time_pixels * v.pixel_seconds
            self.notify(f"{fpp} frame(s) per pixel: {span:.3g} s on screen", timeout=1.5)
        self._refresh_plot()

    def action_pan(self, fraction: float) -> None:
        """Move the frequency range by a fraction of its height."""
        lo, hi = self.view.panned(fraction)
        self._set_freq(lo, hi, True)

    def action_zoom_reset(self) -> None:
        """Back to the whole configured frequency range."""
        self._set_freq(*self.full_range, False)

    def action_floor(self, step: int) -> None:
        """Move the colour floor by 5 dB."""
        v = self.view
        self._set_db(min(v.db_min + step * DB_STEP, v.db_max - MIN_DB_SPAN), v.db_max)

    def action_ceiling(self, step: int) -> None:
        """Move the colour ceiling by 5 dB."""
        v = self.view
        self._set_db(v.db_min, max(v.db_max + step * DB_STEP, v.db_min + MIN_DB_SPAN))

    def _set_db(self, lo: float, hi: float) -> None:
        self.view.set_db(max(lo, -300.0), min(hi, 100.0))
        self._refresh_plot()

    def action_autorange(self) -> None:
        """Fit floor and ceiling to what is on screen."""
        data = self.view.db[self.view.db > NO_DATA_DB]
        if data.size == 0:
            return
        lo = float(np.floor((np.percentile(data, 5) - 5.0) / DB_STEP) * DB_STEP)
        hi = float(np.ceil((float(data.max()) + 3.0) / DB_STEP) * DB_STEP)
        self._set_db(lo, max(hi, lo + MIN_DB_SPAN))

    def action_scroll(self, pages: int) -> None:
        """Scroll the frozen view back (pages > 0) or forward by half a screen."""
        v = self.view
        if not v.paused:
            v.set_paused(True)
        v.scroll(pages * max(1, v.time_pixels // 2) * v.fpp)
        self.tick()

    def action_scroll_end(self, oldest: int) -> None:
        """Jump to the oldest history (1, pauses) or back to live (0)."""
        v = self.view
        if oldest:
            v.set_paused(True)
            v.scroll(v.history.count)
        else:
            v.set_paused(False)
        self.tick()

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen([(k, d) for k, d, _ in self.key_rows()]))
