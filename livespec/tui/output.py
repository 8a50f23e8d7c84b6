"""What the app writes to the terminal besides Textual's own updates (UI thread).

The plot writes its changed rows itself (:meth:`TerminalOutput.write`, as one synchronized
update where the terminal supports it), and the small widgets that change while the app
runs (level meter, readout, status line) are painted straight to the terminal
(:meth:`TerminalOutput.draw`), since for a screen update of its own Textual re-renders
every widget beside the one that changed; over SSH the bytes handed to the terminal are
counted for the status line's output rate; with ``LIVESPEC_FRAME_LOG`` set, the time of every
screen update that redraws the plot is noted for ``benchmarks/bench_app.py``. Textual's
private names are reached through :mod:`livespec.render.terminal` only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from textual.app import App
from textual.geometry import Region
from textual.widget import Widget

from livespec.render.pacing import LinkPacer
from livespec.render.patch import RESET, move_to
from livespec.render.terminal import (
    Spans,
    Write,
    has_notifications,
    hook_display,
    render_now,
    synchronized,
    terminal_writer,
    visible_widgets,
    wrap_writer,
)

Uncovered = dict[Widget, tuple[object, Region]]  # widget -> (visible widgets, its region)
FRAME_LOG_ENV = "LIVESPEC_FRAME_LOG"  # file for the times of screen updates (benchmarks)


class TerminalOutput:
    """The app's direct output, byte count and frame log.

    Args:
        app: the app whose terminal driver is written to.
        ssh: count the bytes written (for :meth:`output_rate`).
        clock: monotonic seconds, for the output rate.
        frame_log: file for the times of screen updates, or None.
    """

    def __init__(
        self,
        app: App[int],
        *,
        ssh: bool,
        clock: Callable[[], float] = time.monotonic,
        frame_log: str | None = None,
    ) -> None:
        self._app = app
        self.ssh = ssh
        self.clock = clock
        self.frame_log = frame_log
        self.frame_times: list[tuple[float, int]] = []  # (time, 1 if written directly)
        self.plot_via_textual = False  # the plot asked Textual for a redraw (frame log)
        self.bytes_out = 0  # bytes written to the terminal (counted on a real terminal)
        self._rate_mark = (0.0, 0)
        self._last_rate: float | None = None
        self._held: list[str] | None = None  # writes kept for one batch (see batch())
        self.pacer = LinkPacer()  # holds updates while the terminal is behind (see behind())
        self._uncovered: Uncovered = {}  # see can_draw_direct

    def write(self, text: str) -> None:
        """Hand escape sequences straight to Textual's terminal writer, as one synchronized
        update when the terminal supports it (used by :meth:`Plot.sync`)."""
        self._write(text)
        if self.frame_log:
            self.frame_times.append((time.monotonic(), 1))

    def _write(self, text: str, query: bool = False) -> None:
        if self._held is not None:
            self._held.append(text)
            return
        write = terminal_writer(self._app)
        if write is None:
            return
        if not query:
            write(synchronized(self._app, text))
            return
        # The pacing's question follows the update in the same write (one wake-up of the
        # writer thread); its mark is every byte written up to it.
        update = synchronized(self._app, text) if text else ""
        mark = self.bytes_out + len(update.encode("utf-8", "replace"))
        write(update + self.pacer.query(self.clock(), mark))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hand every write made inside to the terminal writer at the end, as one
        synchronized update (one wake-up of Textual's writer thread per tick), followed by
        the pacing's question to the terminal when one is due."""
        if self._held is not None:
            yield
            return
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            query = not self._app.is_headless and self.pacer.probe_due(self.clock())
            if held or query:
                self._write("".join(held), query)

    def batched(self, fn: Callable[[], None]) -> Callable[[], None]:
        """``fn`` with its writes handed over as one update (:meth:`batch`)."""

        def run() -> None:
            with self.batch():
                fn()

        return run

    def behind(self) -> bool:
        """True while more than the pacing window went out after a question the terminal
        has not answered yet (:mod:`livespec.render.pacing`): the caller skips this
        update's drawing."""
        return self.pacer.hold(self.clock(), self.bytes_out)

    def link_reply(self, column: int) -> bool:
        """The terminal answered a query (its cursor position report, ``column`` 0-based);
        True the first time the replies turn out to be read by another process too."""
        stolen = self.pacer.stolen
        self.pacer.reply(column)
        return not stolen and self.pacer.stolen > 0

    def can_draw(self, widget: Widget) -> bool:
        """:func:`can_draw_direct`, remembering what it found while the layout stands."""
        return can_draw_direct(widget, self._uncovered)

    def draw(self, widget: Widget) -> bool:
        """Paint ``widget`` straight to the terminal, as Textual would, if nothing covers
        it (:func:`can_draw_direct`); False if not (then the caller refreshes it)."""
        if not self.can_draw(widget) or terminal_writer(self._app) is None:
            return False
        region, console = widget.region, self._app.console
        x, y = region.x, region.y
        text = "".join(
            [
                move_to(x, y + i) + strip.render(console)
                for i, strip in enumerate(render_now(widget))
            ]
        )
        self._write(RESET + text + RESET)
        return True

    def textual_redraw(self) -> None:
        """The plot asked Textual for a redraw (the next screen update is logged)."""
        self.plot_via_textual = True

    def watch_updates(self, screen_written: Callable[[Spans | None], None]) -> None:
        """Call ``screen_written(spans)`` before each screen update Textual writes (the rows
        it writes; None: all), and note the update's time in the frame log when it redraws
        the plot."""
        hook_display(self._app, screen_written, self._after_update)

    def _after_update(self) -> None:
        if self.frame_log and self.plot_via_textual:
            self.frame_times.append((time.monotonic(), 0))
            self.plot_via_textual = False

    def count_bytes(self) -> None:
        """On a real terminal, count the bytes handed to the terminal writer (the pacing's
        window, and over SSH the status line's output rate)."""
        if self._app.is_headless:
            return

        def counting(write: Write) -> Write:
            def counting_write(text: str) -> None:
                self.bytes_out += len(text.encode("utf-8", "replace"))
                write(text)

            return counting_write

        wrap_writer(self._app, counting)

    def output_rate(self) -> float | None:
        """Bytes per second written to the terminal since the last call (SSH only)."""
        if not self.ssh:
            return None
        now = self.clock()
        t0, b0 = self._rate_mark
        if now - t0 >= 0.5:  # a forced status update right after another keeps the figure
            if t0 > 0:
                self._last_rate = (self.bytes_out - b0) / (now - t0)
            self._rate_mark = (now, self.bytes_out)
        return self._last_rate

    def save_frame_log(self) -> None:
        """Write the frame log's times, if one was asked for (when the app closes)."""
        if self.frame_log:
            with open(self.frame_log, "w", encoding="utf-8") as f:
                f.write("".join(f"{t:.6f} {d}\n" for t, d in self.frame_times))


def can_draw_direct(
    widget: Widget, seen: dict[Widget, tuple[object, Region]] | None = None
) -> bool:
    """True when ``widget`` may be painted without Textual: a real terminal, its screen on
    top, no notification, and no other widget over it (UI thread). ``seen``: widget ->
    (Textual's map of visible widgets, region) found uncovered, kept by the caller (the
    map is a new object whenever the layout changes)."""
    app = widget.app
    region = widget.region
    if app.is_headless or widget.screen is not app.screen or not region.area:
        return False
    if has_notifications(app):
        return False
    visible = visible_widgets(widget.screen)
    if visible is None:  # Textual's internals moved: be safe
        return False
    if seen is not None:
        hit = seen.get(widget)
        if hit is not None and hit[0] is visible and hit[1] == region:
            return True
    ancestors = widget.ancestors_with_self
    for other, (other_region, clip) in visible.items():
        if (
            other_region.overlaps(region)
            and clip.overlaps(region)
            and other is not widget
            and other not in ancestors
        ):
            return False
    if seen is not None:
        seen[widget] = (visible, region)
    return True
