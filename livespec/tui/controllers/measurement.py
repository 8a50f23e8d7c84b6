"""The live app's measurement view (``M``), averaging (``A``) and harmonic markers (``H``).

:class:`MeasureController` is owned by :class:`~livespec.tui.app.LivespecApp`. The heavy
work is elsewhere: the measurement runs on :class:`~livespec.meter.live.MeasureWorker`'s
own thread (started only while the view is on) and the spectrum's averaging on the frame
producer's thread (:meth:`MeasureController.average_frame`, a tap of the app's
:class:`~livespec.tui.feed.FrameInbox`). On the UI thread the app's tick
(:meth:`MeasureController.tick`: 4 times a second at most, only while the view or the
markers are on) takes the newest result and updates the panel's text and the markers.
Everything here runs on the UI thread unless noted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from livespec.audio.ringbuffer import RingBuffer
from livespec.config import Config
from livespec.dsp.averaging import AverageSpec
from livespec.engine import Frame
from livespec.meter.live import (
    MeasureResult,
    MeasureWorker,
    SpectrumAverager,
    average_cycle,
    describe_average,
)
from livespec.tui.controllers.host import Host
from livespec.tui.controllers.view import ViewController
from livespec.tui.options import AppOptions
from livespec.tui.widgets.measure_panel import MeasurePanel, measure_text
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.spectrum_marks import MarkedSpectrumPanel, harmonic_marks

MEASURE_POLL_S = 0.25  # the panel and the markers are updated this often at most


class MeasureSettings(TypedDict, total=False):
    """The measurement options given (the worker's defaults for the others)."""

    harmonics: int
    band: tuple[float, float]
    weighting: str


@dataclass(frozen=True)
class MeasureWidgets:
    """The widgets the measurements show in: the plot, its marking spectrum panel (which
    draws ``averager``'s rows) and the panel of figures."""

    plot: Plot
    marks: MarkedSpectrumPanel
    panel: MeasurePanel
    averager: SpectrumAverager


class MeasureController:
    """State and actions of the measurement view.

    Args:
        host: the app (notifications).
        cfg: the configuration (the analysed channel, the calibration).
        samplerate: the source's rate (Hz).
        ring: the audio (None: no local audio, as in ``livespec view``).
        viewing: the display keys' controller (the view and the peaks for the markers,
            the analysis settings now for the averaging's frame period).
        widgets: where the results are shown.
        options: ``--average``, ``--harmonics``, ``--band``, ``--weighting``.
        live: run the worker on its thread (False: measured in :meth:`poll`, for tests).

    Attributes:
        average_spec: the averaging of the spectrum panel and the measurements.
        average_modes: what the averaging key steps through.
        averager: averages the frames' rows for the spectrum panel.
        on: the measurement view is shown.
        show_harmonics: the harmonic markers are shown.
        worker: the running worker while the view is on.
        result: the newest result shown.
        polled_at: clock time of the last poll from the tick.
    """

    def __init__(
        self,
        host: Host,
        cfg: Config,
        samplerate: float,
        ring: RingBuffer | None,
        viewing: ViewController,
        widgets: MeasureWidgets,
        options: AppOptions,
        *,
        live: bool,
    ) -> None:
        self.host, self.cfg, self.samplerate, self.ring = host, cfg, samplerate, ring
        self.viewing, self.w, self.live = viewing, widgets, live
        self.view, self.stats = viewing.view, viewing.stats
        self.averager = widgets.averager
        self.on = False
        self.show_harmonics = False
        self.worker: MeasureWorker | None = None
        self.result: MeasureResult | None = None
        self.polled_at = 0.0
        self.settings = MeasureSettings()
        if options.harmonics is not None:
            self.settings["harmonics"] = options.harmonics
        if options.band is not None:
            self.settings["band"] = options.band
        if options.weighting is not None:
            self.settings["weighting"] = options.weighting
        self.average_spec = AverageSpec("none")
        self.average_modes = average_cycle(self.average_spec)
        if options.average is not None:
            # its time constant or frame count replaces the default in the key's cycle
            self.average_modes = average_cycle(options.average)
            self._set_average(options.average)
        widgets.marks.mode = self.average_spec

    def average_frame(self, frame: Frame) -> None:
        """Add a frame to the spectrum's average. The frame producer's thread (the engine's
        worker); does nothing while the averaging is ``none``."""
        period = self.viewing.analysis.hop_samples / self.samplerate
        self.averager.update(frame.db, period)

    # -- keys ----------------------------------------------------------------------------------

    def toggle(self) -> None:
        """Show or hide the measurement view (key ``M``)."""
        if self.on:
            self.stop()
        else:
            self.start()

    def next_average(self) -> None:
        """Next averaging mode: none, exponential, linear, peak hold (key ``A``)."""
        modes = self.average_modes
        kinds = [m.kind for m in modes]
        i = kinds.index(self.average_spec.kind) if self.average_spec.kind in kinds else -1
        spec = modes[(i + 1) % len(modes)]
        self._set_average(spec)
        self.host.notify(f"Averaging: {describe_average(spec)}", timeout=1.5)

    def toggle_harmonics(self) -> None:
        """Show or hide the harmonic markers on the spectrum panel (key ``H``)."""
        self.show_harmonics = not self.show_harmonics
        self._update_marks()

    def reset_averages(self) -> None:
        """Restart the averages (a peak hold starts afresh; key ``h``)."""
        self.averager.reset()
        if self.worker is not None:
            self.worker.reset()

    # -- the view ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker on the ring and show the panel (and the harmonic markers)."""
        if self.ring is None:
            msg = "Measurements need the audio itself (a local source)."
            self.host.notify(msg, severity="warning")
            return
        channel = None if self.cfg.source.channel is None else self.cfg.source.channel - 1
        try:
            worker = MeasureWorker(
                self.ring,
                self.samplerate,
                channel=channel,
                average=self.average_spec,
                **self.settings,
            )
        except ValueError as exc:
            self.host.notify(str(exc), title="Measurement", severity="error")
            return
        self.worker, self.result = worker, None
        if self.live:
            worker.start()
        self.on = True
        self.show_harmonics = True
        self.w.panel.display = True
        self._show_measurement()
        self._update_marks()

    def stop(self) -> None:
        """Stop the worker and hide the panel (the markers stay as they are)."""
        self.stop_worker()
        self.on = False
        self.result = None
        self.w.panel.display = False
        self._update_marks()

    def stop_worker(self) -> None:
        """Stop and join the worker thread, if any (also when the app closes)."""
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()

    def poll(self) -> None:
        """Show the newest result and move the markers (from the tick, 4 per second at
        most). Without a live app (tests) the worker's frames are measured here,
        synchronously."""
        worker = self.worker
        if worker is not None:
            if not self.live:
                worker.process_available()
            if worker.error is not None:
                err = worker.error
                self.stop()
                self.host.notify(f"{err}", title="Measurement stopped", severity="error")
                return
            result = worker.latest()
            if result is not None:
                self.result = result
                self._show_measurement()
        self._update_marks()

    def _show_measurement(self) -> None:
        m = self.cfg.measure
        unit = m.calibration_unit or ("dB" if m.calibration_db is not None else "")
        self.w.panel.set_text(measure_text(self.result, m.calibration_db, unit))

    def _set_average(self, spec: AverageSpec) -> None:
        self.average_spec = spec
        self.averager.set_spec(spec)
        if self.worker is not None:
            self.worker.set_average(spec)
        self.w.marks.mode = spec
        self._sync_plot()

    def _update_marks(self) -> None:
        """The fundamental (the measurement's while the view is on, else the strongest
        display peak) and its harmonics up to the top of the view."""
        marks: tuple[float, ...] = ()
        if self.show_harmonics:
            f0: float | None = None
            res = self.result
            if self.on and res is not None and res.measurement is not None:
                f0 = res.measurement.freq_hz
            elif not self.on and self.stats.peaks:
                f0 = float(self.stats.peaks[0].freq_hz)
            marks = harmonic_marks(f0, self.view.fmax)
        if marks != self.w.marks.marks:
            self.w.marks.marks = marks
            self._sync_plot()

    def _sync_plot(self) -> None:
        if self.w.plot.is_mounted:
            self.w.plot.sync()

    def tick(self, ticks: int, now: float) -> None:
        """From the app's tick (UI thread): poll at most every ``MEASURE_POLL_S`` while the
        view or the markers are on, and only on ticks when no widget below the plot
        updates (the level meter on odd ticks, the status line on ticks 2 mod 16): two
        changed regions on both sides of the plot would make Textual re-render it."""
        if not (self.live and (self.on or self.show_harmonics)):
            return
        if ticks % 2 or ticks % 16 == 2 or now - self.polled_at < MEASURE_POLL_S:
            return
        self.polled_at = now
        self.poll()
