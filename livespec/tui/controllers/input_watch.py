"""The live input's health, checked from the app's tick: a source's failure said, a vanished
device reopened, a loss the sound system did not flag reported (UI thread)."""

from __future__ import annotations

from collections.abc import Callable

from livespec.engine import Engine
from livespec.errors import printable
from livespec.tui.controllers.host import Host
from livespec.tui.feed import AppSource, source_failure


class InputWatch:
    """Reopens a vanished device and reports unflagged losses, saying so on screen.

    Args:
        host: the app (notifications).
        source: the live source.
        repaint: redraws the whole screen (after PortAudio's complaints on stderr may have
            scribbled over it).
        engine: the analysis, started again once a reopen attempt wrote the gap's silence
            (its worker ends when the device's stream does), or None.
    """

    def __init__(
        self,
        host: Host,
        source: AppSource,
        repaint: Callable[[], None],
        engine: Engine | None = None,
    ) -> None:
        self.host, self.source, self.repaint, self.engine = host, source, repaint, engine
        self._said: object = None  # the source's error notified last

    def report_failure(self) -> None:
        """Notify the source's error once (a damaged stream, a device gone; a device that
        fails again after a reopen is said again)."""
        error = getattr(self.source, "error", None)
        if error is not None and error is not self._said and (said := source_failure(self.source)):
            self.host.notify(printable(said[0]), title="Input failed", severity="error", timeout=30)
        self._said = error

    def reopen(self) -> None:
        """Say the source's failure (:meth:`report_failure`); if the device's stream died
        (unplugged, sound server restarted), try to reopen it; when that works, say so and
        repaint."""
        self.report_failure()
        reopen = getattr(self.source, "reopen", None)
        if reopen is None or not self.source.input_lost():
            return
        gap_s = reopen()
        engine = self.engine  # the silence, and the device's new stream, are analysed
        if engine is not None and engine.error is None and not engine.running:
            engine.start()
        if gap_s is None:
            return
        self._said = None  # back: a failure after this one is news
        self.host.notify(
            f"Reopened {printable(self.source.description)} after {gap_s:.1f} s without "
            "input; the gap is silence in the waterfall and any recording, and counts as "
            "an overflow.",
            title="Input back",
            timeout=10,
        )
        self.repaint()

    def report_dropped(self) -> None:
        """Say once per loss the sound system did not flag (the source's clock check)."""
        if (drop := getattr(self.source, "check_drops", lambda: None)()) is not None:
            self.host.notify(printable(drop.text), severity="warning", timeout=10)
