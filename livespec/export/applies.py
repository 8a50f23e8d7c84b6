"""Options of ``livespec export`` that do not apply to the chosen outputs: refused with one
line before any work (a :class:`~livespec.errors.UsageError`, exit status 2), never ignored.

:data:`RULES` is the whole table: an option, and what it needs to mean something. Pure
code; the main thread.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livespec.errors import UsageError
from livespec.export.job import STDIN, ExportOptions, Job
from livespec.export.media import AUDIO_MODES
from livespec.export.pagespec import PageSpec

if TYPE_CHECKING:
    from livespec.annotate.curves import Curve
    from livespec.annotate.labels import Label


@dataclass(frozen=True)
class Context:
    """What the rules look at: the options and the formats of the outputs."""

    ns: argparse.Namespace
    opts: ExportOptions
    formats: frozenset[str]

    @property
    def png(self) -> bool:
        return "png" in self.formats

    def given(self, attr: str) -> bool:
        return getattr(self.ns, attr, None) not in (None, False)


@dataclass(frozen=True)
class Rule:
    """``flag`` (namespace attribute ``attr``) needs ``needs`` (true when ``applies``)."""

    flag: str
    attr: str
    applies: Callable[[Context], bool]
    needs: str


def _png(c: Context) -> bool:
    return c.png


def _drawn(c: Context) -> bool:
    """An output that shows levels in colours: PNG, SVG figure or HTML page."""
    return bool(c.formats & {"png", "svg", "html"})


def _sized(c: Context) -> bool:
    """An output whose picture's size can be chosen: PNG or SVG (a page's plot is fixed)."""
    return bool(c.formats & {"png", "svg"})


def _sized_png(c: Context) -> bool:
    return c.png and c.opts.image.size is not None


def _never(c: Context) -> bool:
    return False


_IMAGE = "a PNG output (-o NAME.png, or --png)"
_DRAWN = "a .png, .svg or .html output"

RULES: tuple[Rule, ...] = (
    *(
        Rule(flag, attr, _png, _IMAGE)
        for flag, attr in (
            ("--axes", "axes"),
            ("--origin", "origin"),
            ("--quantize", "quantize"),
            ("--png-compress", "png_compress"),
        )
    ),
    *(
        Rule(flag, attr, _drawn, _DRAWN)
        for flag, attr in (
            ("--gray", "gray"),
            ("--colormap", "colormap"),
            ("--db-min", "db_min"),
            ("--db-max", "db_max"),
        )
    ),
    Rule("--size", "size", _sized, "a .png or .svg output (an HTML page's plot is 900x360)"),
    Rule("--resize-filter", "resize_filter", _sized_png, "--size WxH and a PNG output"),
    Rule("--resize-on", "resize_on", _sized_png, "--size WxH and a PNG output"),
    Rule("--colormap", "colormap", lambda c: not c.given("gray"), "a colour image, not --gray"),
    Rule(
        "--origin",
        "origin",
        lambda c: not c.given("axes"),
        "an image without --axes (a figure has 0 Hz at the bottom)",
    ),
    Rule("--csv-layout", "csv_layout", lambda c: "csv" in c.formats, "a CSV output"),
    # --n-mels, --bins-per-octave, --octaves, --fmin/--fmax: export/plan.py's scale table
    Rule(
        "--pad-mode",
        "pad_mode",
        lambda c: c.opts.recipe.center,
        "centred frames (--center, or --like librosa|torchaudio)",
    ),
    Rule("--keep-partial", "keep_partial", lambda c: c.opts.clip is not None, "--clip S"),
    Rule(
        "--top-db", "top_db", lambda c: c.opts.recipe.log_base == "db", "dB levels (not --log ln)"
    ),
    Rule("--peaks", "peaks", _never, "livespec peaks (export writes whole spectra)"),
    Rule("--a4", "a4", _never, "note names (livespec peaks and the app)"),
)


def check_options(ns: argparse.Namespace, opts: ExportOptions, jobs: Sequence[Job]) -> None:
    """Raise UsageError for the first option given that does not apply to these outputs."""
    formats = frozenset(fmt for job in jobs for fmt, _ in job.outputs)
    c = Context(ns, opts, formats)
    for rule in RULES:
        if c.given(rule.attr) and not rule.applies(c):
            raise UsageError(f"{rule.flag} does not apply here: it needs {rule.needs}")


def preset_notes(ns: argparse.Namespace, opts: ExportOptions, jobs: Sequence[Job]) -> list[str]:
    """One line each where a ``--like`` preset cannot reproduce the library's picture."""
    like = getattr(ns, "like", None)
    png = any(fmt == "png" for job in jobs for fmt, _ in job.outputs)
    out: list[str] = []
    if like == "librosa" and png and opts.image.axes:
        out.append(
            "--like librosa --axes draws livespec's figure around the plot, not matplotlib's "
            "specshow (the plot's colour indices match; frame, fonts and ticks do not)"
        )
    if like == "librosa" and png and opts.image.scale == "log":
        out.append(
            "--like librosa --scale log: specshow(y_axis='log') stretches the linear bins on "
            "a log axis; livespec resamples them to log-spaced rows (alike, not equal)"
        )
    r = opts.recipe
    if like == "scipy" and opts.raw_int and r.detrend == "none" and r.precision == "mixed":
        out.append(
            "scipy is not installed: computing in double precision, not in scipy's single "
            "precision for integer input (weak bins may differ by about 1e-3 in ln)"
        )
    return [f"livespec: note: {s}" for s in out]


def build_page(ns: argparse.Namespace, jobs: list[Job]) -> PageSpec:
    """``--audio``, ``--overlay`` and ``--labels``: checked against the outputs (they apply
    to .html pages, overlays and labels also to .svg figures, and to one input) and read.
    Raises UsageError, or :class:`~livespec.annotate.AnnotationError` naming the file and
    line (both exit status 2)."""
    audio = getattr(ns, "audio", None)
    overlays = list(getattr(ns, "overlay", None) or [])
    labels = getattr(ns, "labels", None)
    fmts = {fmt for job in jobs for fmt, _ in job.outputs}
    if audio is not None:
        if audio not in AUDIO_MODES:
            raise UsageError(f"--audio {audio}: must be one of {', '.join(AUDIO_MODES)}")
        if "html" not in fmts:
            raise UsageError("--audio applies to an HTML page: give -o FILE.html")
        if audio == "link" and any(job.input == STDIN for job in jobs):
            raise UsageError("--audio link: stdin is no file to link to; use embed or none")
    if overlays or labels is not None:
        what = "--overlay" if overlays else "--labels"
        if not fmts & {"html", "svg"}:
            raise UsageError(f"{what} applies to .html and .svg outputs: give -o FILE.html")
        if len(jobs) != 1:
            raise UsageError(f"{what} belongs to one recording: give one input file")
    curves: tuple[Curve, ...] = ()
    marks: tuple[Label, ...] = ()
    if overlays:  # (the readers are imported only when asked for: 3 ms of start-up)
        from livespec.annotate.curves import read_curve

        curves = tuple(read_curve(p) for p in overlays)
    if labels is not None:
        from livespec.annotate.labels import read_labels

        marks = tuple(read_labels(labels))
    return PageSpec(audio=audio or "embed", curves=curves, labels=marks)
