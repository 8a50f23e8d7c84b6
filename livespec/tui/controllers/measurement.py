"""The live app's measurement view (``M``), averaging (``A``) and harmonic markers (``H``).

A mixin of :class:`livespec.tui.app.LivespecApp`. The heavy work is elsewhere: the
measurement runs on :class:`~livespec.measure.live.MeasureWorker`'s own thread (started
only while the view is on) and the spectrum's averaging on the engine's thread
(:meth:`MeasureActions.average_frame`, called from ``push_frame``). On the UI thread the
app's tick (:meth:`MeasureActions.measure_tick`: 4 times a second at most, only while the
view or the markers are on) takes the newest result and updates the panel's text and the
markers. Everything here runs on the UI thread unless
noted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livespec.config import Config
from livespec.dsp.averaging import AverageSpec
from livespec.measure.live import (
    MeasureResult,
    MeasureWorker,
    SpectrumAverager,
    average_cycle,
    describe_average,
)
from livespec.tui.widgets.actions import KeyActions
from livespec.tui.widgets.measure_panel import MeasurePanel, measure_text
from livespec.tui.widgets.spectrum_marks import MarkedSpectrumPanel, harmonic_marks

if TYPE_CHECKING:
    from livespec.tui.widgets.plot import Plot

MEASURE_POLL_S = 0.25  # the panel and the markers are updated this often at most


class MeasureActions(KeyActions):
    """State and actions of the measurement view; the app supplies ``cfg``, ``source``,
    ``ring``, ``live``, ``view``, ``stats`` and ``analysis``.

    Attributes:
        average_spec: the averaging of the spectrum panel and the measurements.
        average_modes: what the averaging key steps through.
        spectrum_average: averages the engine's rows for the spectrum panel.
        measure_on: the measurement view is shown.
        show_harmonics: the harmonic markers are shown.
        measure_worker: the running worker while the view is on.
        measure_result: the newest result shown.
    """

    cfg: Config
    source: Any
    ring: Any
    live: bool
    measure_on: bool = False
    show_harmonics: bool = False
    measure_worker: MeasureWorker | None = None
    measure_result: MeasureResult | None = None
    _marked_plot: Plot | None = None
    _spectrum_panel: MarkedSpectrumPanel | None = None
    _measure_panel: MeasurePanel | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.average_spec = AverageSpec("none")
        self.average_modes = average_cycle(self.average_spec)
        self.spectrum_average = SpectrumAverager()
        self.measure_settings: dict[str, Any] = {}  # harmonics, band, weighting (options)
        self._measure_polled = 0.0  # clock time of the last poll from the tick

    # -- set-up --------------------------------------------------------------------------------

    def configure_measure(
        self,
        average: AverageSpec | None,
        *,
        harmonics: int | None = None,
        band: tuple[float, float] | None = None,
        weighting: str | None = None,
    ) -> None:
        """Before the app runs: start with averaging ``average`` (from ``--average``; None:
        none), whose time constant or frame count replaces the default in the key's cycle;
        ``harmonics``, ``band`` (Hz) and ``weighting`` (A, C, Z) for the measurements
        (None: the defaults, 10, 20 Hz-20 kHz or Nyquist, Z)."""
        if harmonics is not None:
            self.measure_settings["harmonics"] = harmonics
        if band is not None:
            self.measure_settings["band"] = band
        if weighting is not None:
            self.measure_settings["weighting"] = weighting
        if average is None:
            return
        self.average_modes = average_cycle(average)
        self._set_average(average)

    def with_measure_marks(self, plot: Plot) -> Plot:
        """Give ``plot`` the averaging, marking spectrum panel; returns ``plot`` (compose)."""
        panel = MarkedSpectrumPanel(self.view, self.spectrum_average)
        panel.mode = self.average_spec
        plot.spectrum = panel
        self._marked_plot, self._spectrum_panel = plot, panel
        return plot

    def average_frame(self, frame: Any) -> None:
        """Add an engine Frame to the spectrum's average. The frame producer's thread (the
        engine's worker); does nothing while the averaging is ``none``."""
        period = self.analysis.hop_samples / float(self.source.samplerate)
        self.spectrum_average.update(frame.db, period)

    # -- keys ----------------------------------------------------------------------------------

    def action_measure(self) -> None:
        """Show or hide the measurement view (key ``M``)."""
        if self.measure_on:
            self.stop_measuring()
        else:
            self.start_measuring()

    def action_average(self) -> None:
        """Next averaging mode: none, exponential, linear, peak hold (key ``A``)."""
        modes = self.average_modes
        kinds = [m.kind for m in modes]
        i = kinds.index(self.average_spec.kind) if self.average_spec.kind in kinds else -1
        spec = modes[(i + 1) % len(modes)]
        self._set_average(spec)
        self.notify(f"Averaging: {describe_average(spec)}", timeout=1.5)

    def action_harmonics(self) -> None:
        """Show or hide the harmonic markers on the spectrum panel (key ``H``)."""
        self.show_harmonics = not self.show_harmonics
        self._update_marks()

    def action_hold_reset(self) -> None:
        """Also restart the averages (a peak hold starts afresh)."""
        self.spectrum_average.reset()
        if self.measure_worker is not None:
            self.measure_worker.reset()
        super().action_hold_reset()

    # -- the view ------------------------------------------------------------------------------

    def start_measuring(self) -> None:
        """Start the worker on the ring and show the panel (and the harmonic markers)."""
        if self.ring is None:
            self.notify("Measurements need the audio itself (a local source).", severity="warning")
            return
        channel = None if self.cfg.source.channel is None else self.cfg.source.channel - 1
        try:
            worker = MeasureWorker(
                self.ring,
                float(self.source.samplerate),
                channel=channel,
                average=self.average_spec,
                **self.measure_settings,
            )
        except ValueError as exc:
            self.notify(str(exc), title="Measurement", severity="error")
            return
        self.measure_worker, self.measure_result = worker, None
        if self.live:
            worker.start()
        self.measure_on = True
        self.show_harmonics = True
        self._panel().display = True
        self._show_measurement()
        self._update_marks()

    def stop_measuring(self) -> None:
        """Stop the worker and hide the panel (the markers stay as they are)."""
        self.stop_measure_worker()
        self.measure_on = False
        self.measure_result = None
        self._panel().display = False
        self._update_marks()

    def stop_measure_worker(self) -> None:
        """Stop and join the worker thread, if any (also when the app closes)."""
        worker, self.measure_worker = self.measure_worker, None
        if worker is not None:
            worker.stop()

    def measure_poll(self) -> None:
        """Show the newest result and move the markers (from the tick, 4 per second at
        most). Without a live app (tests) the worker's frames are measured here,
        synchronously."""
        worker = self.measure_worker
        if worker is not None:
            if not self.live:
                worker.process_available()
            if worker.error is not None:
                err = worker.error
                self.stop_measuring()
                self.notify(f"{err}", title="Measurement stopped", severity="error")
                return
            result = worker.latest()
            if result is not None:
                self.measure_result = result
                self._show_measurement()
        self._update_marks()

    def _panel(self) -> MeasurePanel:
        if self._measure_panel is None:
            self._measure_panel = self.query_one(MeasurePanel)
        return self._measure_panel

    def _show_measurement(self) -> None:
        m = self.cfg.measure
        unit = m.calibration_unit or ("dB" if m.calibration_db is not None else "")
        text = measure_text(self.measure_result, m.calibration_db, unit)
        self._panel().set_text(text)

    def _set_average(self, spec: AverageSpec) -> None:
        self.average_spec = spec
        self.spectrum_average.set_spec(spec)
        if self.measure_worker is not None:
            self.measure_worker.set_average(spec)
        if self._spectrum_panel is not None:
            self._spectrum_panel.mode = spec
        self._sync_plot()

    def _update_marks(self) -> None:
        """The fundamental (the measurement's while the view is on, else the strongest
        display peak) and its harmonics up to the top of the view."""
        panel = self._spectrum_panel
        if panel is None:
            return
        marks: tuple[float, ...] = ()
        if self.show_harmonics:
            f0: float | None = None
            res = self.measure_result
            if self.measure_on and res is not None and res.measurement is not None:
                f0 = res.measurement.freq_hz
            elif not self.measure_on and self.stats.peaks:
                f0 = float(self.stats.peaks[0].freq_hz)
            marks = harmonic_marks(f0, self.view.fmax)
        if marks != panel.marks:
            panel.marks = marks
            self._sync_plot()

    def _sync_plot(self) -> None:
        if self._marked_plot is not None and self._marked_plot.is_mounted:
            self._marked_plot.sync()

    def measure_tick(self, ticks: int, now: float) -> None:
        """From the app's tick (UI thread): poll at most every ``MEASURE_POLL_S`` while the
        view or the markers are on, and only on ticks when no widget below the plot
        updates (the level meter on odd ticks, the status line on ticks 2 mod 16): two
        changed regions on both sides of the plot would make Textual re-render it."""
        if not (self.live and (self.measure_on or self.show_harmonics)):
            return
        if ticks % 2 or ticks % 16 == 2 or now - self._measure_polled < MEASURE_POLL_S:
            return
        self._measure_polled = now
        self.measure_poll()
