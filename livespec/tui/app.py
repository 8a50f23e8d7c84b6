"""The live Textual app: layout, key bindings, the screen tick and the message wiring.

The keys' work is done by controllers the app owns (:mod:`livespec.tui.controllers`), its
direct terminal output by :class:`~livespec.tui.output.TerminalOutput`. Threads: the frame
producer calls ``FrameInbox.push`` (:mod:`livespec.tui.feed`); a timer on the UI thread runs
:meth:`LivespecApp.tick` at most ``fps`` times per second, which drains every frame that
arrived since (the waterfall gets every frame's row) and redraws what changed. Build the app
with :func:`make_app`; :func:`run_app` is what ``livespec`` runs.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Vertical
from textual.events import CursorPosition, Resize
from textual.filter import NoColor
from textual.screen import Screen
from textual.widgets import Footer, Static

from livespec.config import Config
from livespec.engine import Frame
from livespec.meter.live import SpectrumAverager
from livespec.render.link import choose_link
from livespec.render.stats import Stats
from livespec.render.terminal import add_line_filter, set_color_depth
from livespec.tui.controllers.input_watch import InputWatch
from livespec.tui.controllers.labels import LiveMarkers
from livespec.tui.controllers.measurement import MeasureController, MeasureWidgets
from livespec.tui.controllers.overlays import LiveOverlays
from livespec.tui.controllers.recording import RecordingController
from livespec.tui.controllers.view import ViewController, waterfall_view
from livespec.tui.feed import Feed, FrameInbox, source_failure
from livespec.tui.keys import KEYS, key_commands, key_rows
from livespec.tui.options import AppOptions
from livespec.tui.output import FRAME_LOG_ENV, TerminalOutput
from livespec.tui.process import freeze_gc
from livespec.tui.screenshot import save_screen
from livespec.tui.widgets.help import HelpScreen
from livespec.tui.widgets.measure_panel import MeasurePanel
from livespec.tui.widgets.meter import LevelMeter
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.readout import Readout, readout_text
from livespec.tui.widgets.spectrum_marks import MarkedSpectrumPanel
from livespec.tui.widgets.status import StatusInfo, StatusLine

MIN_WIDTH, MIN_HEIGHT = 50, 16  # below this the app shows a plain message
HOLD_DECAY_DB_S = 20.0  # spectrum peak hold falls this fast (dB per second of audio)
STOLEN_INPUT = (
    "Another program reads this terminal too, so keys can go astray. With "
    "'ssh HOST livespec stream | livespec view -', give ssh -n."
)


# The small widgets take turns (each one's update is painted directly, or is a screen update)
METER_EVERY = 2  # ticks between level-meter updates (15 per second at 30 fps), odd ticks
READOUT_EVERY = 4  # ticks between readout updates (7.5 per second), ticks 0 mod 4
REOPEN_EVERY = 30  # ticks between attempts to reopen a vanished device (1 s at 30 fps)
STATUS_EVERY = 16  # ticks between status-line updates, ticks 2 mod 16


@dataclasses.dataclass(frozen=True)
class AppWidgets:
    """The widgets the tick updates, made with the app (a query per tick costs ~1 ms)."""

    plot: Plot
    meter: LevelMeter
    readout: Readout
    status: StatusLine
    measure: MeasurePanel


class LivespecApp(App[int]):
    """The spectrum analyzer.

    Args:
        cfg: the effective configuration.
        feed: the source, the ring (recording and the measurement view need it), the
            engine the keys reconfigure (None: keys change only what is shown) and a notice.
        inbox: where the frame producer puts frames (None: a new one, fed by
            :meth:`push_frame`).
        options: the per-run command-line settings (recording, measurement view).
        live: run the screen tick on a timer (False: the caller calls ``tick()``).
        clock: monotonic seconds, for the frame-rate counter.
    """

    TITLE = "livespec"
    CSS = """
    Screen { layout: vertical; }
    #main { height: 1fr; }
    #too-small { display: none; width: 1fr; height: 1fr; content-align: center middle; }
    Screen.too-small #main { display: none; }
    Screen.too-small #too-small { display: block; }
    Screen.too-small Footer { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = KEYS

    def __init__(
        self,
        cfg: Config,
        feed: Feed,
        *,
        inbox: FrameInbox | None = None,
        options: AppOptions | None = None,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        d = cfg.display
        source, ring, engine = feed.source, feed.ring, feed.engine
        options = AppOptions() if options is None else options
        self.link = choose_link(
            ssh=d.ssh, fps=d.fps, colors=d.colors, orientation=d.orientation, env=os.environ
        )
        self.depth = self.link.depth
        super().__init__(ansi_color=True)
        set_color_depth(self.console, self.depth)
        if self.depth == "none" and not self.no_color:
            add_line_filter(self, NoColor())
        self.cfg, self.source, self.ring, self.engine = cfg, source, ring, engine
        self.live, self.clock, self.notice = live, clock, feed.notice
        self.inbox = FrameInbox() if inbox is None else inbox
        fs = float(source.samplerate)
        self.view = waterfall_view(cfg, fs, self.depth, self.link.orientation)
        self.stats = Stats()
        self.output = TerminalOutput(
            self, ssh=self.link.ssh, clock=clock, frame_log=os.environ.get(FRAME_LOG_ENV) or None
        )
        averager = SpectrumAverager()
        marks = MarkedSpectrumPanel(self.view, averager)
        marks.min_interval = 1.0 / self.link.panel_fps if self.link.panel_fps else 0.0
        plot = Plot(self.view, spectrum=d.spectrum, panel=marks, output=self.output, id="plot")
        self.widgets = AppWidgets(
            plot,
            LevelMeter(self.stats, id="meter", painter=self.output.draw),
            Readout(id="readout", painter=self.output.draw),
            StatusLine(id="status", painter=self.output.draw),
            MeasurePanel(id="measure"),
        )
        self.viewing = ViewController(self, cfg, self.view, self.stats, plot, engine, self.depth)
        parts = MeasureWidgets(plot, marks, self.widgets.measure, averager)
        self.measuring = MeasureController(
            self, cfg, fs, ring, self.viewing, parts, options, live=live
        )
        self.inbox.add_tap(self.measuring.average_frame)
        viewing = self.viewing
        self.recording = RecordingController(
            self,
            ring,
            source,
            folder=d.record_dir,
            analysis=lambda: viewing.analysis,
            options=options,
        )
        viewing.on_analysis.append(self.recording.analysis_changed)
        self.overlays = LiveOverlays(
            self.view,
            plot.waterfall,
            plot,
            ring=ring,
            frame_len=lambda: viewing.analysis.fft,
            channel=engine.channel if engine is not None else None,
        )
        self.markers = LiveMarkers(
            self, d.record_dir, options.labels_out, recording=self.recording.span
        )
        self.input_watch = InputWatch(self, source, self._repaint, engine)
        self._ticks = 0

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Readout, plot, meter, status line and footer."""
        w = self.widgets
        with Vertical(id="main"):
            yield w.readout
            yield w.measure
            # a box of its own: Textual re-renders each widget whose box overlaps a change
            with Vertical(id="plot-box"):
                yield w.plot
            yield w.meter
            yield w.status
        yield Static("", id="too-small")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Start the screen tick and, after start-up, freeze the GC's view of old objects."""
        self.output.watch_updates(self.widgets.plot.screen_written)
        self._check_size(self.size.width, self.size.height)
        if self.live:
            period = 1.0 / self.link.fps
            tick = self.inbox.follow(self.engine, period, self.output.batched(self.tick))
            self.set_interval(period, tick, name="tick")
            self.output.count_bytes()
            self.set_timer(1.5, freeze_gc)
        if self.notice:  # after the first paint, which waits for no toast (start-up)
            self.call_after_refresh(self.notify, self.notice, title="No audio input", timeout=10)
        self.tick()
        self.update_texts()

    def on_unmount(self) -> None:
        """Finalise a running recording when the app closes (UI thread)."""
        self.recording.finish(self.return_code)
        self.measuring.stop_worker()
        self.output.save_frame_log()

    def on_resize(self, event: Resize) -> None:
        """Show a plain message below the minimum size (UI thread)."""
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        main = self.screen_stack[0]  # also under help or the palette (else stuck on the message)
        main.set_class(small := width < MIN_WIDTH or height < MIN_HEIGHT, "too-small")
        if small:
            msg = f"Terminal too small: {width}×{height}, need {MIN_WIDTH}×{MIN_HEIGHT}. q quits."
            main.query_one("#too-small", Static).update(msg)

    def on_plot_cell_clicked(self, message: Plot.CellClicked) -> None:
        """A click on the waterfall puts the cursor there (UI thread)."""
        self.viewing.cursor_to(message.x, message.y)

    def refresh_plot(self) -> None:
        """Redraw the whole plot and the texts (UI thread)."""
        self.widgets.plot.refresh()
        self.update_texts()

    # -- frames ------------------------------------------------------------------------------

    def push_frame(self, frame: Frame) -> None:
        """Hand one frame to the UI (the producer's thread; never blocks)."""
        self.inbox.push(frame)

    def tick(self) -> None:
        """Take the frames that arrived and redraw what changed (UI thread)."""
        frames, no_peak_yet = self.inbox.drain(), not self.stats.peaks
        view = self.view
        if frames:
            cqt = self.viewing.cqt_layout
            use_cqt = cqt is not None and frames[-1].cqt is not None

            def row(f: Frame) -> npt.NDArray[np.float32]:
                return f.cqt if use_cqt and f.cqt is not None else f.db

            bins = int(row(frames[-1]).shape[0])
            layout = cqt if use_cqt else None
            if bins != view.bins or layout != view.cqt:
                fs = float(self.source.samplerate)
                view.set_analysis(fs, bins, self.viewing.analysis.hop_samples, layout)
                self.refresh_plot()
            frames = [f for f in frames if row(f).shape[0] == bins]
            view.push([row(f) for f in frames], [f.t for f in frames])
            self.overlays.frames(frames)
            self.stats.counters(frames[-1])
            if not view.paused:
                self.stats.update(frames)
                view.decay_hold(len(frames) * view.frame_seconds * HOLD_DECAY_DB_S)
        self._ticks += 1
        if not self.output.behind():  # a slow link: draw once the terminal caught up
            self.stats.tick(self.clock())
            w = self.widgets
            self.update_texts(force=no_peak_yet and bool(self.stats.peaks))  # axis marker
            self.overlays.update()
            w.plot.sync()
            if self._ticks % METER_EVERY == 1:  # redrawn only if changed (CLIP goes out)
                w.meter.changed()
        self.measuring.tick(self._ticks, self.clock())
        if self._ticks % REOPEN_EVERY == 0:
            self.reopen_input()
            self.report_dropped()

    def reopen_input(self) -> None:
        """Reopen a vanished device and say so (:class:`InputWatch`; UI thread)."""
        self.input_watch.reopen()

    def report_dropped(self) -> None:
        """Say once per loss the sound system did not flag (UI thread)."""
        self.input_watch.report_dropped()

    def _repaint(self) -> None:
        self.refresh(repaint=True, layout=True)
        self.refresh_plot()

    def on_cursor_position(self, event: CursorPosition) -> None:
        """The terminal answered the output's query: it has shown what came before."""
        if self.output.link_reply(event.x):
            self.notify(STOLEN_INPUT, severity="warning", timeout=10)

    def update_texts(self, force: bool = True) -> None:
        """Readout and axis marker (at most every READOUT_EVERY ticks unless forced),
        status line (every STATUS_EVERY ticks unless forced)."""
        w = self.widgets
        if force or self._ticks % READOUT_EVERY == 0:
            peaks = self.stats.peaks
            w.plot.freq_axis.peak_hz = peaks[0].freq_hz if peaks else None
            if force:
                w.plot.sync()
            w.readout.set_text(readout_text(self.view, self.stats, self.viewing.top3))
        if force or self._ticks % STATUS_EVERY == 2:
            self.recording.poll()
            w.status.set_info(self.status_info())

    def status_info(self) -> StatusInfo:
        """What the status line shows now."""
        src, a, v = self.source, self.viewing.analysis, self.view
        return StatusInfo(
            source=str(src.description),
            samplerate=int(src.samplerate),
            fft=a.fft,
            window=a.window,
            hop=a.hop_samples,
            fps=self.stats.fps(),
            overflows=self.stats.overflows,
            lost_frames=self.stats.lost_frames,
            input_lost=bool(src.input_lost()),
            finished=bool(src.finished) and not self.inbox,
            paused=v.paused,
            seconds_back=v.frames_back * v.frame_seconds,
            recording=self.recording.text(),
            output_rate=self.output.output_rate(),
            ssh=self.link.ssh,
            error=(self.engine.error_message if self.engine is not None else None)
            or (failed[0] if (failed := source_failure(src)) else None),
        )

    def key_rows(self) -> list[tuple[str, str, str]]:
        """(keys, description, action) of every livespec binding, as currently mapped."""
        return key_rows(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: Textual's commands plus every livespec key action."""
        yield from super().get_system_commands(screen)
        yield from key_commands(self)

    # -- key actions (bound in KEYS; the controllers do the work) ------------------------------

    def action_pause(self) -> None:
        self.viewing.pause()

    def action_colormap(self, step: int) -> None:
        self.viewing.next_colormap(step)

    def action_window(self) -> None:
        self.viewing.next_window()

    def action_fft(self, step: int) -> None:
        self.viewing.step_fft(step)

    def action_spectrum(self) -> None:
        self.viewing.toggle_spectrum()

    def action_orientation(self) -> None:
        self.viewing.toggle_orientation()

    def action_scale(self) -> None:
        self.viewing.next_scale()

    def action_cursor(self, dx: int, dy: int) -> None:
        self.viewing.move_cursor(dx, dy)

    def action_marker(self) -> None:
        self.viewing.set_marker()
        self.markers.add_from(self.view)

    def action_save_labels(self) -> None:
        self.markers.save()

    def action_cursor_off(self) -> None:
        self.viewing.cursor_off()

    def action_top3(self) -> None:
        self.viewing.toggle_top3()

    def action_hold_reset(self) -> None:
        self.measuring.reset_averages()
        self.viewing.reset_hold()

    def action_zoom(self, factor: float) -> None:
        self.viewing.zoom(factor)

    def action_time_zoom(self, factor: float) -> None:
        self.viewing.time_zoom(factor)

    def action_pan(self, fraction: float) -> None:
        self.viewing.pan(fraction)

    def action_zoom_reset(self) -> None:
        self.viewing.zoom_reset()

    def action_floor(self, step: int) -> None:
        self.viewing.floor(step)

    def action_ceiling(self, step: int) -> None:
        self.viewing.ceiling(step)

    def action_autorange(self) -> None:
        self.viewing.autorange()

    def action_scroll(self, pages: int) -> None:
        self.viewing.scroll(pages)

    def action_scroll_end(self, oldest: int) -> None:
        self.viewing.scroll_end(oldest)

    def action_record(self) -> None:
        self.recording.toggle()

    def action_measure(self) -> None:
        self.measuring.toggle()

    def action_average(self) -> None:
        self.measuring.next_average()

    def action_harmonics(self) -> None:
        self.measuring.toggle_harmonics()

    def action_overlay(self, which: str) -> None:
        self.overlays.toggle(which)
        self.widgets.plot.sync()

    def action_save_screen(self) -> None:
        save_screen(self, self.cfg.display.record_dir)

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen([(k, d) for k, d, _ in self.key_rows()]))


def make_app(
    cfg: Config,
    feed: Feed,
    *,
    inbox: FrameInbox | None = None,
    options: AppOptions | None = None,
    live: bool = True,
    clock: Callable[[], float] = time.monotonic,
    keymap: dict[str, str] | None = None,
) -> LivespecApp:
    """Build the app (:class:`LivespecApp`'s arguments; ``keymap``: binding id -> keys)."""
    app = LivespecApp(cfg, feed, inbox=inbox, options=options, live=live, clock=clock)
    if keymap:
        app.set_keymap(keymap)
    return app
