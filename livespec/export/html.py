"""The HTML player page (``livespec export x.wav -o x.html``) and the notebook's view of a
spectrogram: one self-contained file (no network), docs/export.md "HTML player".

The page holds the spectrogram image (PNG, base64), the levels for the hover readout
(:class:`LevelPool`: uint8 in 0.5 dB steps, at most ``MAX_LEVELS`` values, max-pooled in
time for long inputs), the audio (:mod:`.media`), the axes' ticks, the overlays and labels
in plot coordinates (:mod:`.figure`), and a small script (``player.html``, package data)
that draws them, follows playback and answers clicks, hovers and zooms.

Caller's thread (a worker process of a folder export, the main thread, or the notebook's).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livespec.annotate.curves import Curve
from livespec.annotate.labels import Label
from livespec.dsp.scales import FreqScale, hz_to_mel, mel_to_hz
from livespec.errors import LivespecError
from livespec.export import figure
from livespec.export.image import LogRows, TimeReducer, colour_table, render
from livespec.export.io import ImageSpec, Post, levels_range
from livespec.export.media import AudioRef
from livespec.export.pagespec import PageSpec as PageSpec  # re-exported (it lived here)
from livespec.export.temps import create_temp

F32 = NDArray[np.float32]
MAX_LEVELS = 1 << 20  # values of the hover data (1 MiB, 1.4 MB as base64)
MAX_DATA_ROWS = 4096  # more frequency rows are max-pooled in groups
STEP_DB = 0.5  # the hover data's quantisation step; 255 steps below the maximum
IMAGE_MAX_W = 3600  # image columns (zooming in shows up to this much detail)


class LevelPool:
    """The hover data: the loudest level of each run of ``group`` frames (and of each run of
    ``row_group`` rows when there are more than ``MAX_DATA_ROWS``), so that a long input
    keeps at most about ``cap`` values and a short tone is not averaged away."""

    def __init__(self, frames: int, rows: int, cap: int = MAX_LEVELS) -> None:
        self.frames = frames
        self.row_group = -(-rows // MAX_DATA_ROWS)
        self.rows = -(-rows // self.row_group)
        self.group = max(1, -(-frames * self.rows // cap))
        self.cols = -(-frames // self.group)
        self._row_starts = np.arange(0, rows, self.row_group)
        self._max = np.full((self.cols, self.rows), -np.inf, dtype=np.float32)
        self._next = 0

    def add(self, rows: F32) -> None:
        """Append the next frames (f, rows) dB."""
        if self.row_group > 1:
            rows = np.maximum.reduceat(rows, self._row_starts, axis=1)
        f = rows.shape[0]
        k0 = self._next
        idx = np.arange(k0, k0 + f)
        starts = np.flatnonzero((idx % self.group == 0) | (idx == k0))
        cols = idx[starts] // self.group
        self._max[cols] = np.maximum(self._max[cols], np.maximum.reduceat(rows, starts, axis=0))
        self._next = k0 + f

    def result(self) -> F32:
        """(cols, rows) float32 dB."""
        return self._max

    def quantised(self) -> tuple[NDArray[np.uint8], float]:
        """uint8 steps of ``STEP_DB`` and the dB of step 0 (255 steps below the maximum)."""
        v = self._max
        lo = float(v.max()) - 255 * STEP_DB
        q = np.clip(np.rint((v - np.float32(lo)) / np.float32(STEP_DB)), 0, 255)
        return q.astype(np.uint8), lo


def row_centres(scale: FreqScale, group: int = 1) -> NDArray[np.float64]:
    """The centre frequency (Hz) of each row of ``scale`` (rows grouped by ``group``)."""
    i = np.arange(0, scale.rows, group, dtype=np.float64) + (group - 1) / 2.0
    i = np.minimum(i, scale.rows - 1)
    if scale.kind == "linear":
        return i * (scale.f_hi / max(1, scale.rows - 1))
    if scale.kind == "log":
        out: NDArray[np.float64] = scale.f_lo * (scale.f_hi / scale.f_lo) ** (
            (i + 0.5) / scale.rows
        )
        return out
    lo = float(hz_to_mel(scale.f_lo, scale.htk))
    hi = float(hz_to_mel(scale.f_hi, scale.htk))
    return mel_to_hz(lo + (i + 1.0) * (hi - lo) / (scale.rows + 1), scale.htk)


@dataclass
class Plot:
    """Collects the rows of one output: the image (averaged in time, as the PNG export) and
    the hover data (max-pooled). ``scale`` is the rows' frequency scale after ``log_rows``."""

    frames: int
    scale: FreqScale
    log_rows: LogRows | None
    layout: figure.Layout
    image: TimeReducer = field(init=False)
    pool: LevelPool = field(init=False)
    size: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        rows = self.scale.rows
        self.size = (min(self.frames, IMAGE_MAX_W), min(rows, self.layout.ph))
        # Rows are max-pooled down to at most the image's height before the export's
        # averaging: a tone one bin wide stays as bright as its level.
        self.row_pool = -(-rows // self.size[1])
        self._starts = np.arange(0, rows, self.row_pool)
        self.image = TimeReducer(self.frames, len(self._starts), self.size)
        self.pool = LevelPool(self.frames, rows)

    def add(self, rows: F32) -> None:
        """Add frames (f, bins) dB."""
        if self.log_rows is not None:
            rows = self.log_rows(rows)
        self.pool.add(rows)
        if self.row_pool > 1:
            rows = np.maximum.reduceat(rows, self._starts, axis=1)
        self.image.add(rows)


def _png(img: Any) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def page_config(
    plot: Plot,
    post_shift: float,
    clamp: float | None,
    lo: float,
    hi: float,
    *,
    t_left: float,
    t_right: float,
    frame_dt: float,
    unit: str,
    title: str,
    colormap: str,
    page: PageSpec,
    audio_offset: float = 0.0,
) -> tuple[dict[str, Any], str]:
    """The page's data (its script's ``cfg``) and the image as a data: URL. ``post_shift``
    and ``clamp`` are the export's last adjustment of the levels (dB)."""
    levels = plot.image.result()
    pooled = plot.pool.result()
    for a in (levels, pooled):
        if post_shift:
            a += np.float32(post_shift)
        if clamp is not None:
            np.maximum(a, np.float32(clamp), out=a)
    img = render(levels, lo, hi, size=plot.size, colormap=colormap)
    q, q_lo = plot.pool.quantised()
    lay = plot.layout
    table = colour_table(colormap)
    freqs = row_centres(plot.scale, plot.pool.row_group)
    curves = figure.place_curves(page.curves, plot.scale, lay.ph)
    levels_axis = figure.level_range(page.curves)
    cfg: dict[str, Any] = {
        "title": title,
        "unit": unit,
        "t_left": t_left,
        "t_right": t_right,
        "layout": lay.as_dict(),
        "freq_ticks": figure.freq_ticks(plot.scale, lay.ph),
        "freq_name": figure.freq_axis_name(plot.scale),
        "db_ticks": figure.db_ticks(lo, hi, lay.ph),
        "lo": lo,
        "hi": hi,
        "colours": "".join(f"{r:02x}{g:02x}{b:02x}" for r, g, b in table.tolist()),
        "levels": {
            "cols": plot.pool.cols,
            "rows": plot.pool.rows,
            "group": plot.pool.group,
            "frame_dt": frame_dt,
            "lo": q_lo,
            "step": STEP_DB,
            "freqs": [round(float(f), 4) for f in freqs],
            "data": base64.b64encode(q.tobytes()).decode("ascii"),
        },
        "curves": [
            {
                "name": c.name,
                "unit": c.unit,
                "colour": c.colour,
                "t": c.times,
                "y": [None if y != y else y for y in c.y],  # NaN: a gap
            }
            for c in curves
        ],
        "level_axis": None,
        "labels": [list(s) for s in figure.label_spans(page.labels)],
        "audio_offset": audio_offset,
        "playhead": figure.PLAYHEAD_COLOUR,
    }
    if levels_axis is not None:
        c_lo, c_hi = levels_axis
        cfg["level_axis"] = {
            "lo": c_lo,
            "hi": c_hi,
            "ticks": figure.db_ticks(c_lo, c_hi, lay.ph),
        }
    return cfg, _png(img)


_TEMPLATE: str | None = None


def _template() -> str:
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = resources.files("livespec.export").joinpath("player.html").read_text("utf-8")
    return _TEMPLATE


def fragment(cfg: dict[str, Any], image_url: str, audio: AudioRef | None, note: str = "") -> str:
    """The player as a ``<div>`` (for a notebook cell, or the body of a page), with ids
    unique to this call so several players can share a page."""
    uid = "lsp-" + secrets.token_hex(6)
    lay = cfg["layout"]
    if audio is not None and audio.src:
        mime = f' type="{audio.mime}"' if audio.mime else ""
        tag = (
            '<audio class="lsp-audio" controls preload="auto">'
            f'<source src="{html.escape(audio.src)}"{mime}></audio>'
        )
    else:
        tag = ""
    data = json.dumps(cfg, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    values = {
        "UID": uid,
        "ML": str(lay["ml"]),
        "PW": str(lay["pw"]),
        "PH": str(lay["ph"]),
        "WIDTH": str(lay["width"]),
        "HEIGHT": str(lay["height"]),
        "AUDIO": tag,
        "NOTE": html.escape(note),
        "IMAGE": image_url,
        "CONFIG": data,
    }
    return re.sub(r"@([A-Z]+)@", lambda m: values[m.group(1)], _template())


def document(body: str, title: str) -> str:
    """A whole HTML file around a player :func:`fragment`."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<meta name="generator" content="livespec">\n</head>\n<body>\n'
        f"{body}\n</body>\n</html>\n"
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a hidden temporary file next to ``path``, then rename it."""
    f, tmp = create_temp(path, ".part")
    try:
        f.write(text.encode("utf-8", "replace"))  # a non-UTF-8 file name: "?" in the title
        f.close()
        os.replace(tmp, path)
    except BaseException:
        f.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def plot_for(
    frames: int, scale: FreqScale, log_rows: LogRows | None, page: PageSpec | None
) -> Plot:
    """A :class:`Plot` with the layout the page needs (a label strip, a level axis)."""
    labels: Sequence[Label] = page.labels if page else ()
    curves: Sequence[Curve] = page.curves if page else ()
    lay = figure.Layout(
        strip_h=18 if labels else 0,
        level_axis=44 if any(c.unit == "dB" for c in curves) else 0,
    )
    return Plot(frames, scale, log_rows, lay)


class HtmlSink:
    """``livespec export -o x.html``: collects the rows (:class:`Plot`) and, when finished,
    encodes the audio and writes the page (temporary file, then renamed).

    Args:
        path: the output page.
        plot: the collector (:func:`plot_for`).
        spec: the image options (colour map and range, unit).
        page: audio mode, overlays and labels.
        audio: (input file, first sample, samples) of the audio heard on the page.
        t_left, t_right: seconds at the plot's edges; frame_dt: seconds per frame.
        title: the figure's title.
    """

    def __init__(
        self,
        path: Path,
        plot: Plot,
        spec: ImageSpec,
        page: PageSpec,
        audio: tuple[Path, int, int],
        t_left: float,
        t_right: float,
        frame_dt: float,
        title: str,
    ) -> None:
        self.path = path
        self.plot = plot
        self.spec = spec
        self.page = page
        self.audio = audio
        self.t = (t_left, t_right, frame_dt)
        self.title = title

    def write(self, rows: F32) -> None:
        """Add frames (f, bins) dB."""
        self.plot.add(rows)

    def finish(self, post: Post, vmin: float, vmax: float) -> None:
        """Build and write the page."""
        lo, hi = levels_range(self.spec, post, vmin, vmax)
        ref, note = page_audio(self.page.audio, self.audio, self.path)
        cfg, url = page_config(
            self.plot, post.shift, post.clamp, lo, hi,
            t_left=self.t[0], t_right=self.t[1], frame_dt=self.t[2], unit=self.spec.unit,
            title=self.title, colormap="grey" if self.spec.gray else self.spec.colormap,
            page=self.page,
            audio_offset=ref.offset if ref is not None else 0.0,
        )  # fmt: skip
        body = fragment(cfg, url, ref, " ".join(filter(None, [note, pool_note(self.plot)])))
        write_text_atomic(self.path, document(body, self.title))

    def abort(self) -> None:
        """Nothing was written yet."""


def pool_note(plot: Plot) -> str:
    """What the page says when its readout's levels are max-pooled in time (a long input)."""
    g = plot.pool.group
    if g == 1:
        return ""
    return f"The readout shows the loudest level of each run of {g} frames (the file is long)."


def page_audio(mode: str, source: tuple[Path, int, int], page: Path) -> tuple[AudioRef | None, str]:
    """The page's audio for ``mode`` and a note for the reader when there is none."""
    from livespec.export import media

    path, start, length = source
    if mode == "none":
        return None, ""
    if mode == "link":
        return media.link(path, page), ""
    try:
        ref = media.embed_file(path, start, length)
    except (RuntimeError, ValueError, OSError, LivespecError) as exc:  # a rate Vorbis refuses
        return None, f"The audio could not be embedded: {' '.join(str(exc).split())}"
    if not ref.src:
        return None, f"The audio is not embedded: {ref.note}."
    return ref, ""
