"""The readout: peak frequency, level and note, peak hold, top 3, cursor and marker."""

from __future__ import annotations

from rich.text import Text

from livespec.render.stats import PeakLike, Stats
from livespec.render.view import WaterfallView
from livespec.tui.widgets.common import TextLines

KEY = "bold"
VALUE = "bold bright_white"
DIM = "dim"


def _hz(f: float) -> str:
    return f"{f:.1f} Hz"


def _level(db: float | None) -> str:
    return "  n/a" if db is None else f"{db:.1f} dBFS"


def _note(p: PeakLike) -> str:
    if not p.note:
        return ""
    cents = round(p.cents) or 0  # no "-0"
    return f"{p.note} {cents:+d}¢"


def readout_text(view: WaterfallView, stats: Stats, top3: bool) -> Text:
    """Three lines: the peak and its hold; the top 3 (or a hint); cursor and marker."""
    t = Text(no_wrap=True, overflow="ellipsis")
    peaks = stats.peaks
    t.append("Peak ", KEY)
    if peaks:
        p = peaks[0]
        t.append(f"{_hz(p.freq_hz):>12}", VALUE)
        t.append(f"  {p.level_dbfs:6.1f} dBFS  ", VALUE)
        t.append(f"{_note(p):<9}", "bright_cyan")
    else:
        t.append(f"{'—':>12}  {'':>11}  {'':<9}", DIM)
    t.append("   Hold ", KEY)
    h = stats.hold
    if h is not None:
        t.append(f"{_hz(h.freq_hz)}  {h.level_dbfs:.1f} dBFS  {_note(h)}")
    else:
        t.append("—", DIM)
    t.append("\n")
    if top3:
        t.append("Top 3", KEY)
        for i, p in enumerate(peaks[:3]):
            t.append(f"  {i + 1}: ", DIM)
            t.append(f"{_hz(p.freq_hz)} {p.level_dbfs:.1f} dBFS {_note(p)}")
        if not peaks:
            t.append("  —", DIM)
    else:
        t.append("t: top 3 peaks   arrows: cursor   m: marker   ?: help", DIM)
    t.append("\n")
    if view.cursor_on:
        hz, db, ft = view.cursor_reading()
        t.append("Cursor ", KEY)
        t.append(f"{_hz(hz)}  {_level(db)}", VALUE)
        if ft is not None:
            t.append(f"  at {ft:.2f} s", DIM)
        mark = view.marker_reading()
        if mark is not None:
            mhz, mdb = mark
            t.append("   Marker ", KEY)
            t.append(f"{_hz(mhz)} {_level(mdb)}")
            t.append("   Δf ", KEY)
            t.append(f"{hz - mhz:+.1f} Hz", VALUE)
            t.append("  ΔdB ", KEY)
            dd = "n/a" if db is None or mdb is None else f"{db - mdb:+.1f} dB"
            t.append(dd, VALUE)
    else:
        t.append("Cursor off", DIM)
    return t


class Readout(TextLines):
    """Three lines of text, updated by the app (UI thread)."""

    DEFAULT_CSS = """
    Readout { height: 3; width: 1fr; padding: 0 1; }
    """
