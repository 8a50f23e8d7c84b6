"""The status line: source, rate, FFT, window, hop, frame rate, overflows, input state."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from livespec.errors import printable
from livespec.tui.widgets.common import TextLines

WARN = "bold bright_white on red"
SOURCE_MAX = 24  # longer source descriptions are cut (the rest of the line matters more)
ERROR_MAX = 60  # an error is cut too: the whole line is in a notification and at exit


@dataclass(frozen=True)
class StatusInfo:
    """Everything the status line shows (built by the app each tick)."""

    source: str
    samplerate: int
    fft: int
    window: str
    hop: int
    fps: float
    overflows: int
    lost_frames: int
    input_lost: bool
    finished: bool
    paused: bool
    seconds_back: float
    recording: str = "rec off (r)"
    end_text: str = "END OF INPUT"  # shown when finished ("END OF STREAM" in the viewer)
    output_rate: float | None = None  # bytes per second to the terminal (measured over SSH)
    ssh: bool = False  # bandwidth-saving settings in effect
    error: str | None = None  # e.g. "analysis stopped: ..." when the engine died


def status_text(s: StatusInfo) -> Text:
    """One line; overflows and lost input are highlighted."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if s.error:
        said = printable(s.error)
        said = said if len(said) <= ERROR_MAX else said[: ERROR_MAX - 1] + "…"
        t.append(f" {said} ", "bold white on red")
        t.append(" ")
    if s.input_lost:
        t.append(" INPUT LOST ", WARN)
        t.append(" ")
    if s.paused:
        back = f" -{s.seconds_back:.1f}s" if s.seconds_back > 0 else ""
        t.append(f" PAUSED{back} ", "bold black on yellow")
        t.append(" ")
    if s.finished and not s.error:  # a failed source did not simply end
        t.append(f" {s.end_text} ", "bold black on bright_white")
        t.append(" ")
    recording = s.recording.startswith("REC") and not s.recording.startswith("REC FAILED")
    if recording:  # first, so the elapsed time and the file are never cut off
        t.append("● ", "bold red")
        t.append(s.recording, "bold")
        t.append(" │ ")
    text = printable(s.source)  # a device or file name may hold control characters
    source = text if len(text) <= SOURCE_MAX else text[: SOURCE_MAX - 1] + "…"
    t.append(source, "bold")
    rate = f"{s.samplerate / 1000:g} kHz"
    t.append(f" │ {rate} │ FFT {s.fft} {s.window} │ hop {s.hop} │ ")
    t.append(f"overflows {s.overflows}", WARN if s.overflows else "")
    if s.lost_frames:
        t.append(" │ ")
        t.append(f"skipped {s.lost_frames}", WARN)
    t.append(f" │ {s.fps:.0f} fps")
    if s.ssh:
        rate = "" if s.output_rate is None else f" {s.output_rate / 1024:.0f} KB/s"
        t.append(f" │ ssh{rate}")
    if s.recording.startswith("REC FAILED"):
        t.append(" │ ")
        t.append(s.recording, WARN)
    elif not recording:
        t.append(" │ ")
        t.append(s.recording, "dim")
    return t


class StatusLine(TextLines):
    """One line of status, updated by the app when it changes (UI thread)."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; background: $panel; }
    """
