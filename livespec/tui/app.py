"""The live Textual app: layout, key bindings, actions and the screen tick.

Threads: the engine's worker calls :meth:`LivespecApp.push_frame` for every frame; it only
appends to a bounded deque (newest wins). A ``set_interval`` timer on the UI thread runs
:meth:`LivespecApp.tick` at most ``fps`` times per second: it drains every frame that
arrived since (so the waterfall gets every frame's row) and redraws what changed.

Build the app with :func:`make_app` (tests pass a deterministic source and feed frames
themselves); :func:`run_app` is what ``livespec`` runs (see :mod:`livespec.app_run`).
"""

from __future__ import annotations

import collections
import dataclasses
import gc
import io
import os
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, ClassVar

from rich.color import ColorSystem
from textual._ansi_sequences import SYNC_END, SYNC_START
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Resize
from textual.filter import NoColor
from textual.screen import Screen
from textual.widgets import Footer, Static

from livespec.config import Config
from livespec.errors import LivespecError, SourceError
from livespec.render.link import choose_link
from livespec.render.stats import Stats
from livespec.render.view import WaterfallView
from livespec.tui.controllers.measurement import MeasureActions
from livespec.tui.controllers.recording import DEFAULT_PREROLL_S, RecordingActions
from livespec.tui.widgets.actions import FFT_SIZES, KeyActions
from livespec.tui.widgets.help import key_label
from livespec.tui.widgets.measure_panel import MeasurePanel
from livespec.tui.widgets.meter import LevelMeter
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.readout import Readout, readout_text
from livespec.tui.widgets.status import StatusInfo, StatusLine, status_text

MIN_WIDTH, MIN_HEIGHT = 50, 16  # below this the app shows a plain message
HOLD_DECAY_DB_S = 20.0  # spectrum peak hold falls this fast (dB per second of audio)
INBOX_FRAMES = 2048  # frames kept between ticks before the oldest are dropped
_COLOR_SYSTEMS = {
    "truecolor": ColorSystem.TRUECOLOR,
    "256": ColorSystem.EIGHT_BIT,
    "16": ColorSystem.STANDARD,
    "none": ColorSystem.STANDARD,
}


# The small widgets above and below the plot take turns: when two of them change in one
# screen update, Textual re-renders everything in the box around both, the plot included.
METER_EVERY = 2  # ticks between level-meter updates (15 per second at 30 fps), odd ticks
READOUT_EVERY = 4  # ticks between readout updates (7.5 per second), ticks 0 mod 4
STATUS_EVERY = 16  # ticks between status-line updates, ticks 2 mod 16
GC_FULL_EVERY = 1000  # middle-generation collections between full ones (default 10)
FRAME_LOG_ENV = "LIVESPEC_FRAME_LOG"  # file for the times of screen updates (benchmarks)


@dataclasses.dataclass
class _Widgets:
    """The widgets the tick updates, looked up once (a query per tick costs ~1 ms)."""

    plot: Plot
    meter: LevelMeter
    readout: Readout
    status: StatusLine


# (keys, action, footer label or "" when not in the footer, help text, binding id)
_KEY_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("q", "quit", "Quit", "Quit", "quit"),
    ("space", "pause", "Pause", "Pause/resume the view (the audio keeps flowing)", "pause"),
    ("c", "colormap(1)", "Colours", "Next colour map", "colormap"),
    ("C", "colormap(-1)", "", "Previous colour map", "colormap_prev"),
    ("w", "window", "Window", "Next analysis window", "window"),
    ("plus,equals_sign", "fft(1)", "FFT", "FFT size x2", "fft_up"),
    ("minus", "fft(-1)", "", "FFT size /2", "fft_down"),
    ("s", "spectrum", "Spectrum", "Show/hide the spectrum panel", "spectrum"),
    ("o", "orientation", "Orient", "Time scrolls left / time flows down", "orientation"),
    ("l", "scale", "Scale", "Frequency scale: linear, log, mel", "scale"),
    ("up", "cursor(0,-1)", "", "Cursor up", "cursor_up"),
    ("down", "cursor(0,1)", "", "Cursor down", "cursor_down"),
    ("left", "cursor(-1,0)", "", "Cursor left", "cursor_left"),
    ("right", "cursor(1,0)", "", "Cursor right", "cursor_right"),
    ("shift+up", "cursor(0,-8)", "", "Cursor up x8", "cursor_up_fast"),
    ("shift+down", "cursor(0,8)", "", "Cursor down x8", "cursor_down_fast"),
    ("shift+left", "cursor(-8,0)", "", "Cursor left x8", "cursor_left_fast"),
    ("shift+right", "cursor(8,0)", "", "Cursor right x8", "cursor_right_fast"),
    ("m", "marker", "", "Second marker at the cursor (Δf, ΔdB)", "marker"),
    ("escape", "cursor_off", "", "Hide cursor and marker", "cursor_off"),
    ("t", "top3", "", "Top 3 peaks on/off", "top3"),
    ("h", "hold_reset", "", "Reset peak hold and clip light", "hold_reset"),
    ("z", "zoom(2)", "", "Zoom in (at the cursor)", "zoom_in"),
    ("x", "zoom(0.5)", "", "Zoom out", "zoom_out"),
    ("less_than_sign", "time_zoom(2)", "", "Longer time span (x2 frames per pixel)", "time_out"),
    ("greater_than_sign", "time_zoom(0.5)", "", "Shorter time span", "time_in"),
    ("comma", "pan(-0.25)", "", "Pan down in frequency", "pan_down"),
    ("full_stop", "pan(0.25)", "", "Pan up in frequency", "pan_up"),
    ("0", "zoom_reset", "", "Whole frequency range", "zoom_reset"),
    ("left_square_bracket", "floor(-1)", "", "Floor -5 dB", "floor_down"),
    ("right_square_bracket", "floor(1)", "", "Floor +5 dB", "floor_up"),
    ("left_curly_bracket", "ceiling(-1)", "", "Ceiling -5 dB", "ceiling_down"),
    ("right_curly_bracket", "ceiling(1)", "", "Ceiling +5 dB", "ceiling_up"),
    ("a", "autorange", "", "Auto range: fit floor and ceiling", "autorange"),
    ("pageup", "scroll(1)", "", "Scroll back in history (pauses)", "scroll_back"),
    ("pagedown", "scroll(-1)", "", "Scroll forward in history", "scroll_forward"),
    ("home", "scroll_end(1)", "", "Oldest history (pauses)", "scroll_oldest"),
    ("end", "scroll_end(0)", "", "Back to live (newest)", "scroll_newest"),
    ("r", "record", "Rec", "Start/stop recording to a WAV file (with pre-roll)", "record"),
    ("M", "measure", "", "Measurement view: THD, THD+N, SNR, SINAD of the tone", "measure"),
    ("A", "average", "", "Averaging: none, exponential, linear, peak hold", "average"),
    ("H", "harmonics", "", "Harmonic markers on the spectrum panel", "harmonics"),
    ("question_mark", "help", "Help", "Help: every key", "help"),
)
KEYS: list[BindingType] = []
KEYS += [
    Binding(k, a, label or text, show=bool(label), id=i, tooltip=text, key_display=k_disp)
    for k, a, label, text, i in _KEY_TABLE
    for k_disp in [{"plus,equals_sign": "+", "minus": "-", "question_mark": "?"}.get(k)]
] + [Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_ctrl_c")]


class LivespecApp(MeasureActions, RecordingActions, KeyActions, App[int]):
    """The spectrum analyzer. Build it with :func:`make_app`."""

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
        source: Any,
        *,
        engine: Any = None,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
        notice: str | None = None,
    ) -> None:
        d = cfg.display
        self.link = choose_link(
            ssh=d.ssh, fps=d.fps, colors=d.colors, orientation=d.orientation, env=os.environ
        )
        self.depth = self.link.depth
        super().__init__(ansi_color=True)
        self.console._color_system = _COLOR_SYSTEMS[self.depth]
        if self.depth == "none" and not self.no_color:
            self._filters.append(NoColor())
        self.cfg, self.source, self.engine = cfg, source, engine
        self.analysis = cfg.analysis
        self.live, self.clock, self.notice = live, clock, notice
        d = cfg.display
        self.colormap, self.scale = d.colormap, d.scale
        self.inbox: collections.deque[Any] = collections.deque(maxlen=INBOX_FRAMES)
        fs = float(source.samplerate)
        bins = self.analysis.fft * self.analysis.zero_pad // 2 + 1
        self.view = WaterfallView(
            samplerate=fs,
            bins=bins,
            hop=self.analysis.hop_samples,
            history_seconds=d.history_seconds,
            scale=d.scale,
            fmin=self.analysis.fmin,
            fmax=self.analysis.fmax,
            db_min=d.db_min,
            db_max=d.db_max,
            colormap=d.colormap,
            depth=self.depth,
            orientation=self.link.orientation,
        )
        self.view.set_frames_per_pixel(d.frames_per_pixel)
        self.full_range = (self.view.fmin, self.view.fmax)
        self.zoomed = False
        self.stats = Stats()
        self.top3 = False
        self._ticks = 0
        self._w: _Widgets | None = None
        self._frame_log = os.environ.get(FRAME_LOG_ENV) or None
        self._frame_times: list[tuple[float, int]] = []  # (time, 1 if written directly)
        self._plot_via_textual = False  # the plot asked Textual for a redraw (frame log)
        self.bytes_out = 0  # bytes written to the terminal (counted over SSH only)
        self._rate_mark = (0.0, 0)
        self._last_rate: float | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Readout, plot, meter, status line and footer."""
        with Vertical(id="main"):
            yield Readout(id="readout")
            yield MeasurePanel(id="measure")
            yield self.with_measure_marks(
                Plot(self.view, spectrum=self.cfg.display.spectrum, id="plot")
            )
            yield LevelMeter(self.stats, id="meter")
            yield StatusLine(id="status")
        yield Static("", id="too-small")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Start the screen tick and, after start-up, freeze the GC's view of old objects."""
        self._check_size(self.size.width, self.size.height)
        if self.live:
            self.set_interval(1.0 / self.link.fps, self.tick, name="screen-tick")
            self._count_output()
            self.set_timer(1.5, self._freeze_gc)
        if self.notice:
            self.notify(self.notice, title="No audio input", timeout=10)
        self.tick()
        self._update_texts()

    def on_unmount(self) -> None:
        """Finalise a running recording when the app closes (UI thread)."""
        self.finish_recording()
        self.stop_measure_worker()
        if self._frame_log:
            with open(self._frame_log, "w", encoding="utf-8") as f:
                f.write("".join(f"{t:.6f} {d}\n" for t, d in self._frame_times))

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        """Textual's hand-over of a screen update to the terminal writer; with
        ``LIVESPEC_FRAME_LOG`` set, also note its time (``time.monotonic``) for
        ``benchmarks/bench_app.py`` when the update redraws the plot."""
        if renderable is not None and self._w is not None:
            spans = getattr(renderable, "spans", None)  # a ChopsUpdate's written rows
            self._w.plot.screen_written(spans if isinstance(spans, list) else None)
        super()._display(screen, renderable)
        if self._frame_log and renderable is not None and self._plot_via_textual:
            self._frame_times.append((time.monotonic(), 0))
            self._plot_via_textual = False

    def _count_output(self) -> None:
        """Over SSH, count the bytes handed to the terminal writer (for the status line's
        output rate; UI thread)."""
        driver = self._driver
        if driver is None or self.is_headless or not self.link.ssh:
            return
        write = driver.write

        def counting_write(text: str) -> None:
            self.bytes_out += len(text.encode("utf-8", "replace"))
            write(text)

        driver.write = counting_write  # type: ignore[method-assign, assignment]

    def output_rate(self) -> float | None:
        """Bytes per second written to the terminal since the last call (SSH only)."""
        if not self.link.ssh:
            return None
        now = self.clock()
        t0, b0 = self._rate_mark
        if now - t0 >= 0.5:  # a forced status update right after another keeps the figure
            if t0 > 0:
                self._last_rate = (self.bytes_out - b0) / (now - t0)
            self._rate_mark = (now, self.bytes_out)
        return self._last_rate

    def write_terminal(self, text: str) -> None:
        """Hand escape sequences straight to Textual's terminal writer, as one synchronized
        update when the terminal supports it (UI thread; used by :meth:`Plot.sync`)."""
        driver = self._driver
        if driver is None or not self._running or self._closed:
            return
        if self._sync_available:
            text = f"{SYNC_START}{text}{SYNC_END}"
        driver.write(text)
        if self._frame_log:
            self._frame_times.append((time.monotonic(), 1))

    def _freeze_gc(self) -> None:
        gc.collect()
        gc.freeze()
        # Objects made after start-up that live on (colour-table cells, history) land in
        # the oldest generation, and with the default threshold a full collection walks
        # them every few seconds; young garbage is still collected as before.
        gen0, gen1, _ = gc.get_threshold()
        gc.set_threshold(gen0, gen1, GC_FULL_EVERY)

    def on_resize(self, event: Resize) -> None:
        """Show a plain message below the minimum size (UI thread)."""
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.screen.set_class(small, "too-small")
        if small:
            msg = f"Terminal too small: {width}×{height}, need {MIN_WIDTH}×{MIN_HEIGHT}. q quits."
            self.query_one("#too-small", Static).update(msg)

    def _refresh_plot(self) -> None:
        self._widgets().plot.refresh()
        self._update_texts()

    # -- frames ------------------------------------------------------------------------------

    def push_frame(self, frame: Any) -> None:
        """Hand one engine Frame to the UI (engine thread; never blocks)."""
        self.average_frame(frame)
        self.inbox.append(frame)

    def tick(self) -> None:
        """Take the frames that arrived and redraw what changed (UI thread)."""
        frames: list[Any] = []
        inbox = self.inbox
        while inbox:
            frames.append(inbox.popleft())
        view = self.view
        if frames:
            bins = int(frames[-1].db.shape[0])
            if bins != view.bins:
                fs = float(self.source.samplerate)
                view.set_analysis(fs, bins, self.analysis.hop_samples)
                self._refresh_plot()
            frames = [f for f in frames if f.db.shape[0] == bins]
            view.push([f.db for f in frames], [f.t for f in frames])
            self.stats.counters(frames[-1])
            if not view.paused:
                self.stats.update(frames)
                view.decay_hold(len(frames) * view.frame_seconds * HOLD_DECAY_DB_S)
        self.stats.tick(self.clock())
        self._ticks += 1
        w = self._widgets()
        self._update_texts(force=False)  # first: it may move the axis's peak marker
        w.plot.sync()
        if frames and self._ticks % METER_EVERY == 1:
            w.meter.refresh()
        self.measure_tick(self._ticks, self.clock())

    def _widgets(self) -> _Widgets:
        if self._w is None:
            self._w = _Widgets(
                self.query_one(Plot),
                self.query_one(LevelMeter),
                self.query_one(Readout),
                self.query_one(StatusLine),
            )
        return self._w

    def _update_texts(self, force: bool = True) -> None:
        """Readout and axis marker (at most every READOUT_EVERY ticks unless forced),
        status line (every STATUS_EVERY ticks unless forced)."""
        w = self._widgets()
        if force or self._ticks % READOUT_EVERY == 0:
            peaks = self.stats.peaks
            w.plot.freq_axis.peak_hz = peaks[0].freq_hz if peaks else None
            if force:
                w.plot.sync()
            w.readout.set_text(readout_text(self.view, self.stats, self.top3))
        if force or self._ticks % STATUS_EVERY == 2:
            self.poll_recording()
            w.status.set_text(status_text(self.status_info()))

    def status_info(self) -> StatusInfo:
        """What the status line shows now."""
        src, a, v = self.source, self.analysis, self.view
        return StatusInfo(
            source=str(getattr(src, "description", "")),
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
            recording=self.recording_text(),
            output_rate=self.output_rate(),
            ssh=self.link.ssh,
        )

    def key_rows(self) -> list[tuple[str, str, str]]:
        """(keys, description, action) of every livespec binding, as currently mapped."""
        ours = {b.id: b for b in self.BINDINGS if isinstance(b, Binding) and b.id}
        bmap = self._bindings.copy()
        if self._keymap:
            bmap.apply_keymap(self._keymap)
        keys: dict[str, list[str]] = {}
        for key, bindings in bmap.key_to_bindings.items():
            for b in bindings:
                if b.id in ours and key not in keys.setdefault(b.id, []):
                    keys[b.id].append(key)
        return [
            (",".join(keys.get(bid, [])), b.tooltip or b.description, b.action)
            for bid, b in ours.items()
            if bid != "quit_ctrl_c" and keys.get(bid)
        ]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: Textual's commands plus every livespec key action."""
        yield from super().get_system_commands(screen)
        for keys, desc, action in self.key_rows():
            if action != "quit":
                yield SystemCommand(
                    desc, f"key: {key_label(keys)}", partial(self.run_action, action)
                )


def make_app(
    cfg: Config,
    source: Any,
    *,
    engine: Any = None,
    live: bool = True,
    clock: Callable[[], float] = time.monotonic,
    notice: str | None = None,
    keymap: dict[str, str] | None = None,
) -> LivespecApp:
    """Build the app.

    Args:
        cfg: the effective configuration.
        source: an opened source (for its rate, description, overflows and watchdog).
        engine: the analysis engine to reconfigure from keys (None: keys change only the
            shown settings, for tests).
        live: run the screen tick on a timer (False: the caller calls ``tick()``).
        clock: monotonic seconds, for the frame-rate counter.
        notice: a message shown at start-up (e.g. the demo fallback).
        keymap: binding id -> keys, to remap keys.
    """
    app = LivespecApp(cfg, source, engine=engine, live=live, clock=clock, notice=notice)
    if keymap:
        app.set_keymap(keymap)
    return app


def _take_stdin_for_audio() -> io.TextIOWrapper:
    """Move the PCM pipe on fd 0 to a new fd and make ``sys.stdin`` read it (main thread).

    Returns the new stdin object; keep it alive while the source reads (collecting it
    closes the pipe). Textual's driver reads keys from ``sys.__stdin__`` (fd 0), so after
    the source has taken the pipe, :func:`_keys_from_tty` puts the terminal on fd 0.
    """
    pcm = io.TextIOWrapper(os.fdopen(os.dup(0), "rb"))
    sys.stdin = pcm
    return pcm


def _keys_from_tty(
    what: str = "--input -",
    instead: str = "use 'livespec peaks --input -' for headless analysis",
) -> None:
    """Put the controlling terminal on fd 0 for Textual's key reader (main thread).

    ``what`` and ``instead`` word the error when there is no terminal.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError as exc:
        raise LivespecError(
            f"{what} needs a terminal for the keys, but /dev/tty cannot be opened "
            f"({exc.strerror}); {instead}"
        ) from None
    os.dup2(tty, 0)
    os.close(tty)


def run_app(cfg: Config, ns: Any = None) -> int:
    """``livespec``: open the source, run the engine and the app until the user quits.

    Everything started here is stopped on every exit path (:class:`Pipeline`). Without an
    input device (and without --input or --device) the app shows the demo signal and says
    why. If the engine dies, the app shows ``analysis stopped: ...`` as an error
    notification (the text is ``app.engine.error_message``, for the status line too) and
    the same line is printed after the app ends (exit status 1). Main thread. Returns the exit
    status (0 after ``q``).
    """
    from livespec.engine import Engine, analysis_stopped_text
    from livespec.errors import EXIT_FAILURE
    from livespec.pipeline import Pipeline

    stdin_pcm = cfg.source.input == "-"
    pcm_stdin = None
    if stdin_pcm:
        if os.isatty(0):
            raise SourceError(
                "--input - reads raw PCM from stdin: pipe audio in, e.g. "
                "arecord -f S16_LE -r 48000 -c 1 -t raw | livespec --input -"
            )
        pcm_stdin = _take_stdin_for_audio()
    app: LivespecApp | None = None
    engine: Engine | None = None
    with Pipeline(cfg, realtime=True, demo_fallback=True) as pipe:
        source = pipe.source
        notice = None
        if pipe.fallback is not None:
            notice = f"{pipe.fallback}. Showing the built-in demo signal instead."
        try:
            if stdin_pcm:
                _keys_from_tty()
                sys.stdin = sys.__stdin__
                source.realtime = True  # pace a fast pipe (cat file |) at its sample rate
            ring = pipe.make_ring(frame=FFT_SIZES[-1])  # the largest FFT a key can choose
            app = make_app(pipe.cfg, source, notice=notice)
            app.ring = ring
            shown = app

            def on_error(exc: BaseException) -> None:  # engine thread; notify is thread-safe
                shown.notify(analysis_stopped_text(exc), title="livespec", severity="error")

            engine = pipe.make_engine(app.push_frame, on_error=on_error)
            app.engine = engine
            if ns is not None:
                app.record_preroll_s = float(getattr(ns, "preroll", None) or DEFAULT_PREROLL_S)
                app.record_subtype = str(getattr(ns, "subtype", None) or "PCM_24")
                app.configure_measure(
                    getattr(ns, "average", None),
                    harmonics=getattr(ns, "harmonics", None),
                    band=getattr(ns, "band", None),
                    weighting=getattr(ns, "weighting", None),
                )
            pipe.start()
            if ns is not None and getattr(ns, "record", None):
                # From launch: an existing file without --force ends here, before the screen.
                app.start_recording(ns.record, preroll_s=0.0, force=bool(ns.force))
            status = app.run()
        finally:
            if app is not None:
                app.finish_recording()
    del pcm_stdin  # the pipe may close now
    assert app is not None
    if engine is not None and engine.error_message is not None:
        sys.stderr.write(f"livespec: {engine.error_message}\n")
        return EXIT_FAILURE
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(status or 0)
