"""The file browser's keys and data: play position, seeking, loop, time zoom and pan,
markers and their labels, overlays, and the background columns (overview and detail).

:class:`BrowseData` owns the worker threads (:class:`~livespec.export.overview.SpanJob`):
the whole file at up to 8192 columns, and, when zoomed in further than that, the visible
span at screen resolution. :class:`BrowseController` is owned by the browser app, whose
``action_*`` methods call it. UI thread unless noted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.style import Style

from livespec.annotate import AnnotationError
from livespec.annotate.curves import Curve, sample_curve
from livespec.annotate.labels import Label, write_labels
from livespec.audio.playback import Playback
from livespec.errors import counted, printable
from livespec.export.overview import (
    NO_DATA_Q,
    FileInfo,
    SpanJob,
    detail_job,
    overview_job,
    to_dbfs,
)
from livespec.render.fileview import F32, FileView, pool_columns
from livespec.render.overlay import (
    CURVE_COLORS,
    PEAK_COLOR,
    RMS_COLOR,
    WAVE_COLOR,
    column_times,
    hz_cells,
    hz_row,
    level_cells,
    peak_freqs,
    strip_cells,
    wave_cells,
)
from livespec.tui.controllers.host import Host
from livespec.tui.widgets.browse import LOOP, MARK, PLAYHEAD, FileTimeAxis, Paint

DETAIL_DELAY_S = 0.2  # a zoomed view waits this long without change for its detail
REDRAW_S = 0.25  # while the overview grows, redraw with its new columns this often


class BrowseData:
    """The columns a :class:`FileView` shows (a :class:`ColumnSource`).

    Args:
        info: the file.
        fft, window, channel: the analysis (``channel`` 0-based, None: the mix).
        backend: the FFT backend (``auto``, ``fftw``, ``numpy``).
    """

    def __init__(
        self, info: FileInfo, fft: int, window: str, channel: int | None, backend: str = "auto"
    ) -> None:
        self.info = info
        self.fft, self.window, self.channel, self.backend = fft, window, channel, backend
        self.overview = overview_job(info, fft=fft, window=window, channel=channel, backend=backend)
        self.detail: SpanJob | None = None
        self._want: tuple[float, float, int] | None = None

    @property
    def bins(self) -> int:
        """Values per column."""
        return self.overview.bins

    def start(self) -> None:
        """Start the overview's worker."""
        self.overview.start_thread()

    def stop(self) -> None:
        """Stop and join every worker (idempotent)."""
        self.overview.stop()
        if self.detail is not None:
            self.detail.stop()

    def _detail_for(self, t0: float, t1: float, n: int) -> SpanJob | None:
        d = self.detail
        if d is not None and d.finished and d.error is None and self._want == (t0, t1, n):
            return d
        return None

    def screen_columns(self, t0: float, t1: float, n: int) -> F32:
        """(n, bins) dBFS of seconds ``[t0, t1)``: the detail job's columns when it has
        this very span, else the overview's pooled (any thread but the workers')."""
        d = self._detail_for(t0, t1, n)
        if d is not None:
            return d.levels()
        ov = self.overview
        c0, c1 = ov.seconds
        return to_dbfs(pool_columns(ov.db, c0, c1, t0, t1, n, fill=NO_DATA_Q))

    def screen_stats(
        self, t0: float, t1: float, n: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(RMS dBFS, lowest sample, highest sample) of each of ``n`` columns; NaN where
        not known yet."""
        d = self._detail_for(t0, t1, n)
        if d is not None:
            rms, lo, hi, done = d.rms_db, d.wave_lo, d.wave_hi, d.columns
            c0, c1 = d.seconds
        else:
            ov = self.overview
            rms, lo, hi, done = ov.rms_db, ov.wave_lo, ov.wave_hi, ov.done
            c0, c1 = ov.seconds
        cols = np.stack([rms, -lo, hi], axis=1)
        cols[done:] = -400.0
        out = pool_columns(cols, c0, c1, t0, t1, n).astype(np.float64)
        bad = out[:, 0] <= -400.0
        out[bad] = np.nan
        return out[:, 0], -out[:, 1], out[:, 2]

    def need_detail(self, t0: float, t1: float, n: int) -> bool:
        """True when the overview has fewer columns than the screen in ``[t0, t1)``."""
        ov = self.overview
        per_col = (ov.seconds[1] - ov.seconds[0]) / ov.columns
        return (t1 - t0) / per_col < n

    def ask_detail(self, t0: float, t1: float, n: int) -> None:
        """Compute ``[t0, t1)`` at ``n`` columns in the background (replacing the last)."""
        if self._want == (t0, t1, n):
            return
        if self.detail is not None:
            self.detail.stop()
        self._want = (t0, t1, n)
        job = detail_job(
            self.info,
            t0,
            t1,
            n,
            fft=self.fft,
            window=self.window,
            channel=self.channel,
            backend=self.backend,
        )
        self.detail = job
        job.start_thread()

    def detail_ready(self, t0: float, t1: float, n: int) -> bool:
        """True once the detail of this span is there."""
        return self._detail_for(t0, t1, n) is not None

    def error(self) -> BaseException | None:
        """A worker's failure (the file damaged or gone), if any."""
        for job in (self.overview, self.detail):
            if job is not None and job.error is not None:
                return job.error
        return None


def labels_path(audio: Path, given: str | None) -> Path:
    """Where ``L`` saves: ``given`` (``--labels-out``) or ``NAME.labels.txt`` next to the
    file; if that exists, the same name with ``-1``, ``-2`` ... before its suffix (an
    existing file is never replaced)."""
    path = Path(given) if given is not None else Path(f"{audio.with_suffix('')}.labels.txt")
    stem, suffix = path.with_suffix(""), path.suffix
    k = 0
    while path.exists():
        k += 1
        path = Path(f"{stem}-{k}{suffix}")
    return path


def marker_labels(markers: Sequence[tuple[float, float | None]]) -> list[Label]:
    """Point labels for markers (s, Hz or None), in time order, named by number and Hz."""
    out = []
    for i, (t, hz) in enumerate(sorted(markers, key=lambda m: m[0]), start=1):
        text = f"m{i}" if hz is None else f"m{i} {hz:.1f} Hz"
        out.append(Label(round(t, 6), round(t, 6), text))
    return out


class BrowseController:
    """What the browser's keys change (UI thread).

    Args:
        host: the app (notifications, redraws).
        view: the waterfall's model.
        data: the columns.
        playback: the play position (silent or the sound card).
        axis: the time axis (shows the loop).
        curves: ``--overlay`` curves; labels_out: ``--labels-out`` (None: next to the file).
        ticks_per_second: how often the app calls :meth:`tick`.
    """

    def __init__(
        self,
        host: Host,
        view: FileView,
        data: BrowseData,
        playback: Playback,
        axis: FileTimeAxis,
        curves: Sequence[Curve] = (),
        labels_out: str | None = None,
        ticks_per_second: float = 20.0,
    ) -> None:
        self.host, self.view, self.data, self.playback = host, view, data, playback
        self._redraw_ticks = max(1, round(REDRAW_S * ticks_per_second))
        self._detail_ticks = max(1, round(DETAIL_DELAY_S * ticks_per_second))
        self.axis = axis
        self.curves = list(curves)
        self.labels_out = labels_out
        self.markers: list[tuple[float, float | None]] = []
        self.loop: tuple[float | None, float | None] = (None, None)
        self.show_peak = False
        self.show_rms = False
        self.show_wave = False
        self.paint = Paint()
        self.follow = True
        self._paint_key: object = None
        self._done = -1
        self._since_data = 0
        self._still = 0
        self._window: tuple[float, float, int] = (-1.0, -1.0, -1)
        self.saved: list[Path] = []

    # -- the tick --------------------------------------------------------------------------

    def tick(self) -> None:
        """Follow the playhead, take new columns, ask for detail, repaint the overlays."""
        v, pos = self.view, self.playback.position()
        if self.follow and self.playback.playing() and v.x_of(pos) is None:
            self.view.set_window(pos - 0.02 * v.span, v.span)
        data = self.data
        done = data.overview.done
        window = (v.t0, v.t0 + v.span, v.width)
        self._since_data += 1
        due = self._since_data >= self._redraw_ticks
        if done != self._done and (self._done <= 0 or done == data.overview.columns or due):
            self._done, self._since_data = done, 0
            v.refresh_data()
        if window != self._window:
            self._window, self._still = window, 0
        else:
            self._still += 1
        if v.width > 0 and data.need_detail(*window):
            if self._still == self._detail_ticks:
                data.ask_detail(*window)
            if data.detail_ready(*window) and not getattr(self, "_detail_shown", False):
                self._detail_shown = True
                v.refresh_data()
            elif not data.detail_ready(*window):
                self._detail_shown = False
        self.repaint(pos)

    def repaint(self, pos: float | None = None) -> None:
        """Rebuild the overlay cells if anything they depend on changed."""
        v = self.view
        pos = self.playback.position() if pos is None else pos
        key = (
            v.version,
            v.x_of(pos),
            self.show_peak,
            self.show_rms,
            self.show_wave,
            len(self.markers),
            self.loop,
            self.data.overview.done,
        )
        if key == self._paint_key:
            return
        self._paint_key = key
        self.axis.loop = self.loop
        p = self.paint
        p.background, p.cells = [], []
        w, h = v.width, v.height
        if w <= 0 or h <= 0:
            return
        t1 = v.t0 + v.span
        if self.show_wave or self.show_rms:
            rms, lo, hi = self.data.screen_stats(v.t0, t1, w)
            if self.show_wave:
                p.background = strip_cells(h, w)
                p.cells += [(x, y, "┃", Style(color=WAVE_COLOR)) for x, y in wave_cells(lo, hi, h)]
            if self.show_rms:
                style = Style(color=RMS_COLOR, bold=True)
                p.cells += [(x, y, "•", style) for x, y in level_cells(rms, v.db_max, v.db_min, h)]
        if self.show_peak:
            style = Style(color=PEAK_COLOR, bold=True)
            freqs = peak_freqs(v.db, v.fmap, v.db_min)
            p.cells += [(x, y, "•", style) for x, y in hz_cells(v.fmap, freqs, h)]
        if self.curves:
            times = column_times(v.t0, v.span, w)
            for i, c in enumerate(self.curves):
                style = Style(color=CURVE_COLORS[i % len(CURVE_COLORS)], bold=True)
                vals = sample_curve(c, times)
                if c.unit == "Hz":
                    cells = hz_cells(v.fmap, vals, h)
                else:
                    cells = level_cells(vals, v.db_max, v.db_min, h)
                p.cells += [(x, y, "•", style) for x, y in cells]
        for a in self.loop:
            x = None if a is None else v.x_of(a)
            if x is not None:
                p.cells += [(x, y, "┆", LOOP) for y in range(h)]
        x = v.x_of(pos)
        if x is not None:
            p.cells += [(x, y, "│", PLAYHEAD) for y in range(h)]
        for t, hz in self.markers:
            x = v.x_of(t)
            if x is not None:
                y = hz_row(v.fmap, hz, h) if hz is not None else 0
                p.cells.append((x, 0 if y is None else y, "◆", MARK))
        p.version += 1

    # -- playing -----------------------------------------------------------------------------

    def play_pause(self) -> None:
        """Play or pause."""
        if self.playback.playing():
            self.playback.pause()
        else:
            self.follow = True
            self.playback.play()
        self.host.update_texts()

    def seek(self, seconds: float, *, cursor: bool = True) -> None:
        """Move the play position (the view follows it onto the screen); a cursor set (shown,
        or off screen after the view moved away from its time) moves with it to the play
        position unless ``cursor`` is False."""
        self.playback.seek(seconds)
        pos = self.playback.position()
        v = self.view
        if v.x_of(pos) is None:
            v.set_window(pos - v.span / 2, v.span)
        if cursor and v.cursor_set:  # on screen or scrolled away: it comes to the playhead
            v.place_cursor(pos)
        self.repaint()
        self.host.update_texts()

    def step(self, fraction: float) -> None:
        """Seek by ``fraction`` of the span on screen (negative: back)."""
        self.seek(self.playback.position() + fraction * self.view.span)

    def seek_click(self, x: int, y: int) -> None:
        """A click on waterfall cell (``x``, ``y``): seek there and put the cursor there."""
        v = self.view
        cx, cy = v.cursor_cell()
        v.move_cursor(x - cx, y - cy)
        self.seek(v.time_of(x), cursor=False)  # it stays where clicked (a loop may clamp)

    def set_loop_end(self, which: int) -> None:
        """``[`` (0) or ``]`` (1): the loop's start or end at the play position; both set
        and in order: playback repeats them."""
        pos = self.playback.position()
        a, b = self.loop
        a, b = (pos, b) if which == 0 else (a, pos)
        self.loop = (a, b)
        if a is not None and b is not None:
            if b > a:
                self.playback.set_loop(a, b)
                self.host.notify(f"Loop {a:.3f} s – {b:.3f} s", timeout=2)
            else:
                self.playback.set_loop(None, None)
                self.host.notify("Loop end before its start: not looping", timeout=2)
        self.repaint()
        self.host.update_texts()

    def clear_loop(self) -> None:
        """Forget the loop."""
        self.loop = (None, None)
        self.playback.set_loop(None, None)
        self.repaint()
        self.host.update_texts()

    # -- the time window ---------------------------------------------------------------------

    def _anchor(self) -> float:
        v = self.view
        if v.cursor_on:
            return v.time_of(v.cursor_x())
        pos = self.playback.position()
        return pos if v.x_of(pos) is not None else v.t0 + v.span / 2

    def time_zoom(self, factor: float) -> None:
        """Zoom in time (factor > 1: in) around the cursor, else the playhead."""
        v = self.view
        t = self._anchor()
        v.zoom_time(factor, t)
        self.follow = v.x_of(self.playback.position()) is not None
        self.host.refresh_plot()

    def time_pan(self, fraction: float) -> None:
        """Move the window by ``fraction`` of its span."""
        v = self.view
        v.set_window(v.t0 + fraction * v.span, v.span)
        self.follow = False
        self.host.refresh_plot()

    def whole(self) -> None:
        """The whole file on screen."""
        v = self.view
        v.set_window(0.0, v.duration)
        self.host.refresh_plot()

    # -- markers and labels -----------------------------------------------------------------

    def add_marker(self) -> None:
        """A marker at the cursor (time and Hz), or at the play position."""
        v = self.view
        if v.cursor_on:
            hz, _, t = v.cursor_reading()
            self.markers.append((float(t if t is not None else 0.0), hz))
        else:
            self.markers.append((self.playback.position(), None))
        self.repaint()
        self.host.update_texts()

    def save_labels(self, audio: Path) -> Path | None:
        """Write the markers as Audacity labels (``L``); a notice names the file."""
        if not self.markers:
            self.host.notify("No markers yet: m sets one at the cursor", timeout=3)
            return None
        path = labels_path(audio, self.labels_out)
        try:
            write_labels(path, marker_labels(self.markers))
        except AnnotationError as exc:
            self.host.notify(str(exc), severity="error", timeout=6)
            return None
        self.saved.append(path)
        self.host.notify(
            f"{counted(len(self.markers), 'marker')} saved as Audacity labels: "
            f"{printable(str(path))}",
            timeout=5,
        )
        return path
