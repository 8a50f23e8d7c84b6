"""``livespec FILE`` / ``livespec play FILE``: a whole recording in the terminal.

A thin shell: the layout, the key table and the tick. The waterfall is a
:class:`~livespec.render.fileview.FileView` drawn by the live app's
:class:`~livespec.tui.widgets.plot.Plot`; its columns come from background workers
(:class:`~livespec.tui.controllers.browse.BrowseData`); the keys' work is done by
:class:`~livespec.tui.controllers.browse.BrowseController`; the play position by a
:class:`~livespec.audio.playback.Playback` (the sound card, or silent). Build the app with
:func:`make_browser`; :func:`run_browser` is what the command runs. UI thread.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer

from livespec.annotate.curves import Curve
from livespec.annotate.labels import Label
from livespec.audio.playback import Playback
from livespec.config import Config, check_record_dir, load_file, merge_cli
from livespec.errors import EXIT_USAGE, UsageError, counted, printable
from livespec.export.overview import FileInfo
from livespec.render.fileview import FileView
from livespec.render.link import choose_link
from livespec.render.overlay import CURVE_COLORS, PEAK_COLOR, RMS_COLOR, WAVE_COLOR
from livespec.render.terminal import set_color_depth
from livespec.tui.browse_faults import Faults
from livespec.tui.browse_faults import exit_status as faults_exit_status
from livespec.tui.browse_start import check_file, load_options, open_playback
from livespec.tui.controllers.browse import BrowseController, BrowseData
from livespec.tui.keys import BROWSER_KEY_TABLE, BROWSER_KEYS
from livespec.tui.process import exit_on_stop_signals, keys_from_tty_if_redirected
from livespec.tui.screenshot import save_screen
from livespec.tui.widgets.browse import BrowseWaterfall, FileTimeAxis, LabelRow, format_clock
from livespec.tui.widgets.help import HelpScreen
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.readout import Readout
from livespec.tui.widgets.status import StatusLine, failure_line


@dataclass
class BrowseOptions:
    """The browser's per-run settings (from the command line)."""

    curves: Sequence[Curve] = ()
    labels: list[Label] = field(default_factory=list)
    labels_out: str | None = None
    start: float = 0.0
    notice: str | None = None
    playback_text: str = "silent"


class BrowserApp(App[int]):
    """The file browser. ``live=False``: no timer (tests call :meth:`tick`)."""

    TITLE = "livespec"
    CSS = """
    Screen { layout: vertical; }
    """
    BINDINGS: ClassVar[list[BindingType]] = BROWSER_KEYS

    def __init__(
        self,
        cfg: Config,
        info: FileInfo,
        playback: Playback,
        options: BrowseOptions | None = None,
        *,
        live: bool = True,
    ) -> None:
        d, a = cfg.display, cfg.analysis
        self.link = choose_link(
            ssh=d.ssh, fps=d.fps, colors=d.colors, orientation="horizontal", env=os.environ
        )
        super().__init__(ansi_color=True)
        set_color_depth(self.console, self.link.depth)
        self.cfg, self.info, self.live = cfg, info, live
        self.options = options = BrowseOptions() if options is None else options
        ch = cfg.source.channel
        self.data = BrowseData(info, a.fft, a.window, None if ch is None else ch - 1, a.backend)
        fs = float(info.samplerate)
        ov = self.data.overview
        self.view = FileView(
            self.data,
            info.duration,
            min_span=40 * 32 / fs,
            samplerate=fs,
            bins=self.data.bins,
            hop=ov.recipe.hop,
            scale=d.scale,
            fmin=a.fmin,
            fmax=a.fmax,
            db_min=d.db_min,
            db_max=d.db_max,
            colormap=d.colormap,
            depth=self.link.depth,
        )
        self.plot = Plot(self.view, spectrum=False, id="plot")
        self.axis = FileTimeAxis(self.view)
        self.plot.time_axis = self.axis
        self.browsing = BrowseController(
            self,
            self.view,
            self.data,
            playback,
            self.axis,
            options.curves,
            options.labels_out,
            ticks_per_second=self.link.fps,
        )
        self.plot.waterfall = BrowseWaterfall(self.view, self.browsing.paint)
        self.playback = playback
        self.readout = Readout(id="readout")
        self.status = StatusLine(id="status")
        self.label_row = LabelRow(self.view, options.labels, id="labels")
        self.colormap, self.scale = d.colormap, d.scale
        self.full_range = (self.view.fmin, self.view.fmax)
        self._ticks = 0
        # the file found damaged, the playback failed: said, printed at exit (status 1)
        self.faults = Faults(self, str(info.path), self.data, playback)

    def compose(self) -> ComposeResult:
        """Readout, plot, labels, status line and footer."""
        yield self.readout
        yield self.plot
        if self.options.labels:
            yield self.label_row
        yield self.status
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Start the overview worker and the tick (UI thread)."""
        self.data.start()
        if self.options.start:
            self.playback.seek(self.options.start)
        if self.live:
            # the live app's rate (30/s, 20 over SSH, --fps): at 20/s the screen was 43 ms
            # behind the sound (median; 65 ms at most), at 30/s 34 ms (54 ms; docs/play.md)
            self.set_interval(1.0 / self.link.fps, self.tick, name="browse-tick")
        if self.options.notice:
            self.notify(self.options.notice, timeout=8)
        self.tick()

    def on_unmount(self) -> None:
        """Stop the workers and the sound (UI thread)."""
        self.data.stop()
        self.faults.note_playback()  # a device lost says so only until it is closed
        self.playback.close()

    def tick(self) -> None:
        """Take new columns, move the playhead, redraw what changed."""
        self._ticks += 1
        self.browsing.tick()
        self.plot.sync()
        if self.options.labels:
            self.label_row.sync()
        self.faults.check()
        self.update_texts()

    def refresh_plot(self) -> None:
        """Redraw the plot and the texts."""
        self.browsing.repaint()
        self.plot.refresh()
        self.update_texts()

    def update_texts(self, force: bool = True) -> None:
        """Readout (position, cursor, markers, legend) and status line."""
        self.readout.set_text(self.readout_text())
        self.status.set_text(self.status_text())

    def readout_text(self) -> Text:
        """Three lines: position and window; cursor and markers; the overlays' legend."""
        v, pb, b = self.view, self.playback, self.browsing
        places = 3 if v.span < 10 else 1
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("▶ " if pb.playing() else "⏸ ", "bold bright_green")
        t.append(f"{format_clock(pb.position(), 3)}", "bold bright_white")
        t.append(f" / {format_clock(v.duration, 3)}", "dim")
        t.append(f"   view {format_clock(v.t0, places)}–{format_clock(v.t0 + v.span, places)}")
        a, e = b.loop
        if a is not None or e is not None:
            show = [("…" if x is None else format_clock(x, 3)) for x in (a, e)]
            t.append(f"   loop {show[0]}–{show[1]}", "bright_green")
        ov = self.data.overview
        if ov.done < ov.columns:
            t.append(f"   overview {100 * ov.done // ov.columns}%", "yellow")
        t.append("\n")
        if v.cursor_on:
            hz, db, sec = v.cursor_reading()
            t.append("Cursor ", "bold")
            level = "n/a" if db is None else f"{db:.1f} dBFS"
            t.append(f"{sec or 0.0:.3f} s  {hz:.1f} Hz  {level}", "bold bright_white")
        else:
            t.append("click: seek + cursor   m: marker   L: save labels   ?: help", "dim")
        if b.markers:
            mt, mhz = b.markers[-1]
            where = f"{mt:.3f} s" + ("" if mhz is None else f" {mhz:.1f} Hz")
            t.append(f"   Markers {len(b.markers)} (last {where})", "bright_yellow")
        t.append("\n")
        items = []
        if b.show_peak:
            items.append(("peak track", PEAK_COLOR))
        if b.show_rms:
            items.append(("RMS dBFS", RMS_COLOR))
        if b.show_wave:
            items.append(("waveform", WAVE_COLOR))
        for i, c in enumerate(b.curves):
            items.append((f"{c.name} ({c.unit})", CURVE_COLORS[i % len(CURVE_COLORS)]))
        if not items:
            t.append("overlays: p peak track, e RMS, v waveform", "dim")
        for name, color in items:
            t.append("• ", f"bold {color}")
            t.append(f"{name}   ")
        return t

    def status_text(self) -> Text:
        """A failure (on red, while it lasts: to the end), file, format, analysis, sound,
        keys."""
        i, a = self.info, self.cfg.analysis
        text = (
            f"{printable(i.path.name)}  {i.samplerate} Hz  {i.channels} ch  "
            f"{format_clock(i.duration, 1)}  FFT {self.data.overview.recipe.n} {a.window}  "
            f"{self.options.playback_text}  S: save screen"
        )
        failed = "; ".join(self.faults.lines())  # the file damaged, the playback failed
        return failure_line(failed, text, self.status.size.width or None)

    def on_plot_cell_clicked(self, message: Plot.CellClicked) -> None:
        """A click on the waterfall seeks there and puts the cursor there."""
        self.browsing.seek_click(message.x, message.y)
        self.plot.sync()

    # -- key actions -------------------------------------------------------------------------

    def action_play_pause(self) -> None:
        self.browsing.play_pause()

    def action_step(self, fraction: float) -> None:
        self.browsing.step(fraction)

    def action_seek_to(self, end: int) -> None:
        self.browsing.seek(self.view.duration if end else 0.0)

    def action_loop(self, which: int) -> None:
        self.browsing.set_loop_end(which)

    def action_loop_clear(self) -> None:
        self.browsing.clear_loop()

    def action_time_zoom(self, factor: float) -> None:
        self.browsing.time_zoom(factor)

    def action_time_pan(self, fraction: float) -> None:
        self.browsing.time_pan(fraction)

    def action_whole(self) -> None:
        self.browsing.whole()

    def action_zoom(self, factor: float) -> None:
        v = self.view
        lo, hi = v.zoomed(factor, v.cursor_hz if v.cursor_on else None)
        self._set_freq(lo, hi)

    def action_pan(self, fraction: float) -> None:
        self._set_freq(*self.view.panned(fraction))

    def action_zoom_reset(self) -> None:
        self._set_freq(*self.full_range)

    def _set_freq(self, lo: float, hi: float) -> None:
        self.view.set_freq(self.scale, lo, hi)
        self.refresh_plot()

    def action_scale(self) -> None:
        from livespec.config import SCALE_CHOICES

        self.scale = SCALE_CHOICES[(SCALE_CHOICES.index(self.scale) + 1) % len(SCALE_CHOICES)]
        self._set_freq(self.view.fmin, self.view.fmax)

    def action_colormap(self, step: int) -> None:
        from livespec.config import COLORMAP_CHOICES

        i = COLORMAP_CHOICES.index(self.colormap)
        self.colormap = COLORMAP_CHOICES[(i + step) % len(COLORMAP_CHOICES)]
        self.view.set_colors(self.colormap, self.link.depth)
        self.refresh_plot()

    def action_autorange(self) -> None:
        import numpy as np

        v = self.view
        data = v.db[v.db > -399.0]
        if data.size:
            lo = float(np.floor((np.percentile(data, 5) - 5.0) / 5.0) * 5.0)
            hi = float(np.ceil((float(data.max()) + 3.0) / 5.0) * 5.0)
            v.set_db(max(lo, -300.0), min(max(hi, lo + 10.0), 100.0))
            self.refresh_plot()

    def action_cursor(self, dx: int, dy: int) -> None:
        if not self.view.cursor_on:  # it appears at the playhead, not at the window's end
            self.view.place_cursor(self.playback.position())
        self.view.move_cursor(dx, dy)
        self.browsing.repaint()
        self.plot.sync()
        self.update_texts()

    def action_cursor_off(self) -> None:
        self.view.cursor_on = False
        self.plot.sync()
        self.update_texts()

    def action_marker(self) -> None:
        self.browsing.add_marker()
        self.plot.sync()

    def action_save_labels(self) -> None:
        self.browsing.save_labels(self.info.path)

    def action_overlay(self, which: str) -> None:
        b = self.browsing
        setattr(b, f"show_{which}", not getattr(b, f"show_{which}"))
        b.repaint()
        self.plot.sync()
        self.update_texts()

    def action_save_screen(self) -> None:
        save_screen(self, self.cfg.display.record_dir, self.info.path.stem)

    def action_help(self) -> None:
        """Show every key."""
        from livespec.tui.widgets.help import key_label

        rows = [(key_label(k), text) for k, _, _, text, _ in BROWSER_KEY_TABLE]
        self.push_screen(HelpScreen(rows))


# -- start-up ------------------------------------------------------------------------------


def make_browser(
    cfg: Config, ns: argparse.Namespace, *, live: bool = True, playback: Playback | None = None
) -> BrowserApp:
    """Check the file and the annotation files, open the playback, build the app (no
    terminal needed: tests run it with ``run_test``). Raises a one-line error for bad
    input, before any screen."""
    info = check_file(ns.file)
    curves, labels = load_options(ns)
    start = float(getattr(ns, "start", None) or 0.0)
    if not 0.0 <= start <= info.duration:
        raise UsageError(f"--start {start:g} is outside the file (0..{info.duration:.3f} s)")
    ch = cfg.source.channel
    if ch is not None and ch > info.channels:
        raise UsageError(f"--channel {ch}: {ns.file} has {counted(info.channels, 'channel')}")
    if cfg.display.record_dir is not None:
        check_record_dir(cfg.display.record_dir)
    text, notice = "silent", None
    if playback is None:
        playback, text, notice = open_playback(ns, info)
    options = BrowseOptions(
        curves, labels, getattr(ns, "labels_out", None), start, notice, playback_text=text
    )
    return BrowserApp(cfg, info, playback, options, live=live)


def run_browser(ns: argparse.Namespace, cfg: Config | None = None) -> int:
    """``livespec FILE`` / ``livespec play FILE``: browse ``ns.file`` until ``q`` (main
    thread). ``ns`` has ``file``, ``output_device``, ``no_audio``, ``start`` and optionally
    ``overlay``, ``labels``, ``labels_out``; ``cfg`` defaults to the config file and ``ns``'s
    flags. Returns the exit status."""
    if cfg is None:
        explicit = getattr(ns, "config", None)
        from livespec.config import default_config_path

        path = explicit if explicit is not None else default_config_path()
        cfg = merge_cli(load_file(path, explicit=explicit is not None), vars(ns))
    app = make_browser(cfg, ns)
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        app.playback.close()
        raise UsageError("no terminal: the file browser needs one ('livespec export' is headless)")
    try:
        keys_from_tty_if_redirected("the file browser", "'livespec export' is headless")
    except BaseException:
        app.playback.close()
        raise
    app.data.start()  # the first columns while Textual starts (on_mount does not restart it)
    try:
        with exit_on_stop_signals(app):
            status = app.run()
    finally:
        app.data.stop()
    return exit_status(app, status)


def exit_status(app: BrowserApp, status: int | None) -> int:
    """The browser's exit status after it ended (main thread): the file found damaged or a
    playback that failed prints its one line on stderr and makes it 1, as a source's
    failure does in the live app; a stop signal's status (129, 143) stays."""
    return faults_exit_status(app.faults, app.return_code, status)


__all__ = ["EXIT_USAGE", "BrowserApp", "make_browser", "run_browser"]
