"""The status line: source, rate, FFT, window, hop, frame rate, overflows, input state."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.strip import Strip

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


@dataclass
class _Piece:
    """A part of the status line: ``sep`` (plain) then ``text`` in ``style``."""

    text: str
    style: str = ""
    sep: str = ""
    sep_style: str = ""

    @property
    def width(self) -> int:
        return len(self.sep) + len(self.text)


def _cut(text: str, n: int, strip: bool = False) -> str:
    """``text`` in at most ``n`` characters, the cut marked with an ellipsis (``strip``:
    no spaces before it)."""
    if len(text) <= n:
        return text
    kept = text[: max(n - 1, 0)]
    return (kept.rstrip() if strip else kept) + "…"


TAKE_OVERFLOWS = re.compile(r"(?<=  )overflows (?=\d+(  |$))")


def take_text(recording: str) -> str:
    """The recorder's line with its overflow count named as the take's (``take overflows
    3``): the app's own count (``overflows 17``, since the app started) is on the same line."""
    return TAKE_OVERFLOWS.sub("take overflows ", recording, count=1)


def _cut_parts(text: str, n: int) -> str:
    """``text`` in at most ``n`` characters, cut after a whole part (parts are separated by
    two spaces or more) and marked with an ellipsis; the first part is always whole."""
    if len(text) <= n:
        return text
    ends = [m.start() for m in re.finditer(r" {2,}", text)]
    fits = [e for e in ends[1:] if e + 1 <= n]
    return text[: (fits[-1] if fits else ends[0] if ends else len(text))] + "…"


def status_text(s: StatusInfo, width: int | None = None) -> Text:
    """One line; overflows and lost input are highlighted.

    With ``width`` (cells), a line too long is cut at its end (…) as long as that leaves
    the parts that must stay whole: the overflow and skipped counts, ``INPUT LOST``,
    ``PAUSED``, the end and a recording's ``REC`` with its time. Else it is shortened in
    this order until it fits: the error text (it is also in a
    notification and printed at exit) down to 20 characters, then ``rec off`` (or a
    note), ``ssh``, the frame rate and the hop go, the source is cut to 10, the FFT and
    the rate go, the recording's details after its time are cut (after a whole part), the
    error to 6, then the source goes. What still does not fit (under about 60 columns) is
    cut at the end. The recorder's own overflow count is shown as ``take overflows N``
    (:func:`take_text`), apart from the app's ``overflows N``."""
    pieces: dict[str, _Piece] = {}
    if s.error:
        pieces["error"] = _Piece(_cut(printable(s.error), ERROR_MAX), "bold white on red")
    if s.input_lost:
        pieces["lost"] = _Piece("INPUT LOST", WARN)
    if s.paused:
        back = f" -{s.seconds_back:.1f}s" if s.seconds_back > 0 else ""
        pieces["paused"] = _Piece(f"PAUSED{back}", "bold black on yellow")
    if s.finished and not s.error:  # a failed source did not simply end
        pieces["end"] = _Piece(s.end_text, "bold black on bright_white")
    failed = s.recording.upper().startswith("REC FAILED")
    recording = s.recording.startswith("REC") and not failed
    rec_text = take_text(s.recording)
    if recording:  # first, so the elapsed time and the file are never cut off
        pieces["rec"] = _Piece(rec_text, "bold", "● ", "bold red")
    text = printable(s.source)  # a device or file name may hold control characters
    pieces["source"] = _Piece(_cut(text, SOURCE_MAX), "bold", " │ " if recording else "")
    pieces["rate"] = _Piece(f"{s.samplerate / 1000:g} kHz", "", " │ ")
    pieces["fft"] = _Piece(f"FFT {s.fft} {s.window}", "", " │ ")
    pieces["hop"] = _Piece(f"hop {s.hop}", "", " │ ")
    pieces["overflows"] = _Piece(f"overflows {s.overflows}", WARN if s.overflows else "", " │ ")
    if s.lost_frames:
        pieces["skipped"] = _Piece(f"skipped {s.lost_frames}", WARN, " │ ")
    pieces["fps"] = _Piece(f"{s.fps:.0f} fps", "", " │ ")
    if s.ssh:
        rate = "" if s.output_rate is None else f" {s.output_rate / 1024:.0f} KB/s"
        pieces["ssh"] = _Piece(f"ssh{rate}", "", " │ ")
    if failed:
        pieces["recstate"] = _Piece(s.recording, WARN, " │ ")
    elif not recording:
        pieces["recstate"] = _Piece(rec_text, "dim", " │ ")  # "saved 0:01:23 ..." too
    if width is not None:
        _fit(pieces, width, s.recording if recording else "")
    return _line(pieces)


REST_MIN = 12  # a failure shown first leaves this many cells for the rest of the line


def failure_line(failure: str | None, rest: str, width: int | None = None) -> Text:
    """The file browser's status line: ``failure`` (escaped, on red, cut to
    :data:`ERROR_MAX` and to leave :data:`REST_MIN` cells; the whole line is in a
    notification and printed at exit) then ``rest`` (dim), the line cut at ``width``
    (cells) with an ellipsis, as the live app shows a source's failure."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if failure:
        n = ERROR_MAX if width is None else min(ERROR_MAX, max(width - 3 - REST_MIN, 6))
        t.append(f" {_cut(printable(failure), n, strip=True)} ", "bold white on red")
        t.append(" ")
    left = None if width is None else width - t.cell_len
    t.append(rest if left is None else _cut(rest, max(left, 0)), "dim")
    return t


BADGES = ("error", "lost", "paused", "end")  # shown as " TEXT " with a space after
KEEP = ("lost", "paused", "end", "overflows", "skipped")  # never cut (nor "REC h:mm:ss")


def _total(pieces: dict[str, _Piece]) -> int:
    return sum(p.width + (3 if k in BADGES else 0) for k, p in pieces.items())


def _fit(pieces: dict[str, _Piece], width: int, rec: str) -> None:
    """Shorten ``pieces`` in place (see :func:`status_text`) until they fit ``width``."""
    clock_text = " ".join(rec.split()[:2])  # "REC 0:01:23"
    end = shown = 0  # where the line ends, and where the last part that must stay ends
    for k, part in pieces.items():
        end += part.width + (3 if k in BADGES else 0)
        if k == "rec":
            shown = end - len(part.text) + len(clock_text)
        elif k in KEEP:
            shown = end
    if end <= width or shown < width:  # the rest is cut at the end (…), as it always was
        return
    clock = len(clock_text) + 1  # and the ellipsis
    steps: list[tuple[str, int]] = [  # (piece, shortest length; 0: left out)
        ("error", 20),
        ("recstate", 0),  # "rec off (r)", a note; "REC FAILED…" stays
        ("ssh", 0),
        ("fps", 0),
        ("hop", 0),
        ("source", 10),
        ("fft", 0),
        ("rate", 0),
        ("rec", clock),
        ("error", 6),
        ("source", 0),
    ]
    for key, shortest in steps:
        over = _total(pieces) - width
        p = pieces.get(key)
        if over <= 0:
            return
        if p is None:
            continue
        if key == "recstate" and p.style == WARN:
            shortest = 11  # "REC FAILED…" stays
        if shortest == 0:
            del pieces[key]
        elif key == "rec":  # whole parts: never "overfl…" next to the app's overflows
            p.text = _cut_parts(p.text, max(len(p.text) - over, shortest))
        elif len(p.text) > shortest:
            p.text = _cut(p.text, max(len(p.text) - over, shortest), strip=True)
    first = next((k for k in pieces if k not in BADGES), None)
    if first is not None and first != "rec":  # the source left out: no separator first
        pieces[first].sep = ""


def _line(pieces: dict[str, _Piece]) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    for key, p in pieces.items():
        if key in BADGES:
            t.append(f" {p.text} ", p.style)
            t.append(" ")
            continue
        t.append(p.sep, p.sep_style)
        t.append(p.text, p.style)
    return t


class StatusLine(TextLines):
    """One line of status, updated by the app when it changes (UI thread)."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; background: $panel; }
    """

    info: StatusInfo | None = None

    def set_info(self, info: StatusInfo) -> None:
        """Show ``info``, laid out for the line's width (:func:`status_text`)."""
        self.info = info
        self.set_text(status_text(info, self.size.width or None))

    def render_all(self, width: int, height: int, base: Style) -> list[Strip]:
        """The line, laid out again for ``width`` (a resize)."""
        if self.info is not None:
            self.text = status_text(self.info, width)
        return super().render_all(width, height, base)
