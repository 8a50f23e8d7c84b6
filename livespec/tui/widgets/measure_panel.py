"""The measurement panel (key ``M``): the dominant tone's frequency, level, THD, THD+N,
SNR, SINAD and noise, from :class:`livespec.meter.live.MeasureWorker`'s results.

Five lines of text that fit 80 columns; the app updates them at most four times a second
(a result arrives about every 0.25 s of audio). UI thread only.
"""

from __future__ import annotations

import math

from rich.text import Text

from livespec.meter.live import MeasureResult, describe_average
from livespec.tui.widgets.common import TextLines

KEY = "bold"
VALUE = "bold bright_white"
DIM = "dim"
PANEL_LINES = 5
HARMONICS_SHOWN = 9  # orders 2..10


def _num(v: float | None, fmt: str, unit: str = "") -> str:
    """``v`` formatted, or an em dash for None and non-finite values."""
    if v is None or not math.isfinite(v):
        return "—" + (" " + unit.strip() if unit else "")
    return format(v, fmt) + unit


def measure_text(
    result: MeasureResult | None,
    calibration_db: float | None = None,
    calibration_unit: str = "",
    note: str = "",
) -> Text:
    """The panel's lines for ``result`` (None: nothing measured yet).

    Args:
        result: the newest measurement.
        calibration_db: dB added to dBFS levels to give ``calibration_unit`` (None: no
            calibration; the levels are shown in dBFS only).
        calibration_unit: e.g. "dB SPL".
        note: a short text for the last line (e.g. the keys).
    """
    t = Text(no_wrap=True, overflow="ellipsis")
    cal = calibration_db
    unit = calibration_unit or "dB"
    if result is None:
        t.append("Measure ", KEY)
        t.append("waiting for the first frame of audio…", DIM)
        t.append("\n" * (PANEL_LINES - 1))
        return t
    m = result.measurement
    if m is None:
        t.append("Measure ", KEY)
        t.append("no tone in the band", DIM)
        t.append("\n" * (PANEL_LINES - 2) + "\n")
        t.append(_settings(result, None, note), DIM)
        return t
    t.append("Tone   ", KEY)
    t.append(f"{m.freq_hz:10.3f} Hz", VALUE)
    t.append(f"   {m.level_dbfs:7.2f} dBFS", VALUE)
    if cal is not None:
        t.append(f"  = {m.level_dbfs + cal:.2f} {unit}", "bold bright_cyan")
    t.append("   total ", DIM)
    t.append(_num(m.total_dbfs, ".2f", " dBFS"))
    t.append("\n")
    t.append("THD    ", KEY)
    t.append(f"{_num(m.thd_db, '7.2f', ' dB'):>10}", VALUE)
    t.append(f"  {_num(m.thd_percent, '.4f', ' %'):>10}", VALUE)
    t.append("     THD+N ", KEY)
    t.append(f"{_num(m.thdn_db, '7.2f', ' dB'):>10}", VALUE)
    t.append(f"  {_num(m.thdn_percent, '.4f', ' %'):>10}", VALUE)
    t.append("\n")
    t.append("SNR    ", KEY)
    t.append(f"{_num(m.snr_db, '7.2f', ' dB'):>10}", VALUE)
    t.append("     SINAD ", KEY)
    t.append(f"{_num(m.sinad_db, '7.2f', ' dB'):>10}", VALUE)
    t.append("     Noise ", KEY)
    t.append(_num(m.noise_dbfs, ".2f", " dBFS"), VALUE)
    if cal is not None and math.isfinite(m.noise_dbfs):
        t.append(f" = {m.noise_dbfs + cal:.2f} {unit}", "bright_cyan")
    else:
        t.append(f"  {_num(m.noise_density_dbfs_hz, '.1f', ' dBFS/Hz')}", DIM)
    t.append("\n")
    t.append("H dBc  ", KEY)
    if m.harmonics:
        for h in m.harmonics[:HARMONICS_SHOWN]:
            t.append(f" {h.order}:", DIM)
            t.append(_num(h.level_dbc, ".1f"))
    else:
        t.append(" no harmonic inside the band", DIM)
    t.append("\n")
    t.append(_settings(result, m.weighting, note), DIM)
    return t


def _settings(result: MeasureResult, weighting: str | None, note: str) -> str:
    parts = []
    m = result.measurement
    if m is not None:
        lo, hi = m.band_hz
        w = "" if weighting in (None, "Z") else f" {weighting}-weighted"
        parts.append(f"band {lo:g}-{hi:g} Hz{w}")
    frames = "frame" if result.frames == 1 else "frames"
    parts.append(f"avg {describe_average(result.average)} ({result.frames} {frames})")
    parts.append(f"FFT {result.fft} BH7 {result.bin_hz:.2f} Hz")
    if result.skipped:
        parts.append(f"skipped {result.skipped}")
    if note:
        parts.append(note)
    return " · ".join(parts)


class MeasurePanel(TextLines):
    """The measurement view's lines, shown under the readout while ``M`` is on."""

    DEFAULT_CSS = """
    MeasurePanel { height: 5; width: 1fr; padding: 0 1; display: none; }
    MeasurePanel.-on { display: block; }
    """
