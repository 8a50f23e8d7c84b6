"""Spectrogram images for ``livespec export``: colour tables, 8-bit levels, rendering and
the ``--axes`` figure (scales and ticks: :mod:`livespec.dsp.scales`; log-spaced rows and
time reduction: :mod:`.reduce`; the PNG file: :mod:`.pngfile`).

An image has time from left to right and low frequencies at the bottom (``origin="lower"``)
or 0 Hz in the top row (``"upper"``). Levels (dB) are clamped to a range ``[lo, hi]``, mapped
to 256 levels (``round`` or ``floor`` of ``255 * (v - lo) / (hi - lo)``, or matplotlib's 256
equal ``bins``: an index into a
colour table, or an 8-bit grey pixel with ``--gray``) and resized to ``--size`` with one of
Pillow's filters, either before the mapping (``resize_on="db"``) or after it (``"image"``).
:mod:`.convention` holds the options and the ``--like`` presets.

Pure code (Pillow and numpy); any thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from livespec.config import COLORMAPS, DEFAULT_COLORMAP
from livespec.dsp.scales import (
    FreqScale,
    hz_label,
    nice_ticks,
    scale_ticks,
    time_label,
)
from livespec.export.convention import DEFAULT_CONVENTION, ImageConvention
from livespec.export.reduce import LogRows as LogRows  # re-exported (they lived here)
from livespec.export.reduce import TimeReducer as TimeReducer

if TYPE_CHECKING:  # ImageDraw and ImageFont are imported by the --axes figure only
    from PIL import ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

F32 = NDArray[np.float32]
Ink = int | tuple[int, int, int]  # a grey level or an RGB colour
MAX_PIXELS = 8_000_000  # an image larger than this needs --size or --clip
PNG_COMPRESS = 1  # zlib level of a PNG (--png-compress): 1 is fast, 9 is small

COLORMAP_NAMES = COLORMAPS


def colour_table(name: str) -> NDArray[np.uint8]:
    """The colormap ``name`` as a (256, 3) uint8 table, index 0 = lowest level (the live
    view's table, :func:`livespec.render.colormaps.rgb_table`)."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r} (known: {', '.join(COLORMAPS)})")
    from livespec.render.colormaps import rgb_table  # imports Rich: only when drawing

    return rgb_table(name)


# -- rendering -----------------------------------------------------------------------------


FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


U8 = NDArray[np.uint8]
CHUNK_VALUES = 1 << 20  # levels quantized per step of an image that is not resampled
TRANSPOSE_BLOCK = 64  # frames transposed per step (cache-sized) of an image resampled on dB
PARALLEL_VALUES = 1 << 21  # levels from which an image is transposed by two threads


def _quantize(v: F32, lo: float, hi: float, quantize: str) -> U8:
    """Clamped dB levels ``v`` -> 8-bit levels (``v`` is overwritten)."""
    np.subtract(v, np.float32(lo), out=v)
    if quantize in ("floor", "bins"):  # (x - min) / (max - min) * 255, then astype(np.uint8)
        np.divide(v, np.float32(hi) - np.float32(lo), out=v)
        np.multiply(v, np.float32(255.0 if quantize == "floor" else 256.0), out=v)
        np.floor(v, out=v)
    else:
        np.multiply(v, np.float32(255.0 / (hi - lo)), out=v)
        np.rint(v, out=v)
    np.clip(v, 0, 255, out=v)
    return v.astype(np.uint8)


def plot_index(
    box: list[F32],
    lo: float,
    hi: float,
    size: tuple[int, int] | None,
    convention: ImageConvention = DEFAULT_CONVENTION,
) -> tuple[U8, bool]:
    """The plot's 8-bit levels (height, width), row 0 at the top, from the (time, rows) dB
    levels in ``box`` (popped, so that they are freed as soon as they are used up when the
    caller keeps no other reference). Also True if the 8-bit image still has to be resized
    to ``size`` (``resize_on == "image"``). An image that is not resampled on dB levels is
    quantized a block of frames at a time: no float copy of it is ever made."""
    c = convention
    levels = box.pop()
    t, r = levels.shape
    resize = size is not None and (t, r) != size
    if size is None or not resize or c.resize_on == "image":
        idx = np.empty((r, t), dtype=np.uint8)
        step = max(1, CHUNK_VALUES // max(1, r))
        tmp = np.empty((min(step, t), r), dtype=np.float32)
        for k0 in range(0, t, step):
            v = tmp[: min(step, t - k0)]
            np.clip(levels[k0 : k0 + step], lo, hi, out=v)
            q = _quantize(v, lo, hi, c.quantize)
            idx[:, k0 : k0 + v.shape[0]] = q.T[::-1] if c.origin == "lower" else q.T
        return idx, resize
    v = np.empty((r, t), dtype=np.float32)
    transpose = functools.partial(_clip_transposed, levels, v, lo, hi, c.origin == "lower")
    # A large image is transposed by two threads, each half of the columns (numpy lets
    # go of the GIL): 19 MB of levels for a 10-minute 2048x512 image, 17 ms in one thread.
    half = t // 2 // TRANSPOSE_BLOCK * TRANSPOSE_BLOCK
    if t * r >= PARALLEL_VALUES and half > 0:
        _on_two_threads(transpose, (0, half), (half, t))
    else:
        transpose(0, t)
    del levels, transpose  # (no view of the levels is left: this frees them)
    f = Image.fromarray(v, mode="F")
    del v
    f = f.resize(size, FILTERS[c.resize_filter])
    small = np.array(f, dtype=np.float32)
    del f
    return _quantize(small, lo, hi, c.quantize), False


def _clip_transposed(levels: F32, v: F32, lo: float, hi: float, flip: bool, a: int, b: int) -> None:
    """Columns ``a:b`` of ``v`` (rows, time) = frames ``a:b`` of ``levels`` (time, rows)
    clamped to ``[lo, hi]``, rows reversed with ``flip``; by blocks of frames (2.5x faster
    than the whole at once)."""
    for k0 in range(a, b, TRANSPOSE_BLOCK):
        k1 = min(b, k0 + TRANSPOSE_BLOCK)
        src = levels[k0:k1].T
        np.clip(src[::-1] if flip else src, lo, hi, out=v[:, k0:k1])


def _on_two_threads(
    fn: Callable[[int, int], None], here: tuple[int, int], there: tuple[int, int]
) -> None:
    """``fn(*here)`` on this thread while a helper thread runs ``fn(*there)``."""
    errors: list[BaseException] = []

    def helper() -> None:
        try:
            fn(*there)
        except BaseException as exc:  # re-raised by the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=helper, name="export-transpose")
    thread.start()
    try:
        fn(*here)
    finally:
        thread.join()
    if errors:
        raise errors[0]


def index_image(
    idx: U8,
    *,
    gray: bool,
    colormap: str,
    size: tuple[int, int] | None = None,
    resize_filter: str = "bilinear",
) -> Image.Image:
    """8-bit levels as a grey ("L") or coloured ("RGB", a table lookup) Pillow image,
    resized to ``size`` with ``resize_filter`` when given."""
    if gray:
        img = Image.fromarray(idx, mode="L")
    else:
        img = Image.fromarray(colour_table(colormap)[idx], mode="RGB")
    if size is not None:
        img = img.resize(size, FILTERS[resize_filter])
    return img


def render(
    levels: F32,
    lo: float,
    hi: float,
    *,
    size: tuple[int, int] | None = None,
    gray: bool = False,
    colormap: str = DEFAULT_COLORMAP,
    convention: ImageConvention = DEFAULT_CONVENTION,
) -> Image.Image:
    """The plot image of ``levels`` (shape (time, rows), dB): time left to right, row 0 at
    the bottom (``convention.origin == "lower"``) or the top; clamped to ``[lo, hi]`` dB,
    resized to ``size`` (width, height) pixels as ``convention`` says."""
    idx, resize_after = plot_index([levels], lo, hi, size, convention)
    return index_image(
        idx,
        gray=gray,
        colormap=colormap,
        size=size if resize_after else None,
        resize_filter=convention.resize_filter,
    )


@dataclass(frozen=True)
class Axes:
    """What ``--axes`` labels: time span, frequency scale and the colour range.

    Attributes:
        t_left, t_right: seconds at the plot's left and right edges.
        scale: the rows' frequency scale.
        lo, hi: dB at the bottom and top of the colour bar.
        unit: the level unit shown over the colour bar ("dBFS" or "dB").
        title: text above the plot (the input's name).
    """

    t_left: float
    t_right: float
    scale: FreqScale
    lo: float
    hi: float
    unit: str
    title: str


def _font(size: int) -> Font:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # old Pillow or no FreeType
        return ImageFont.load_default()


def _text_size(font: Font, text: str) -> tuple[int, int]:
    box = font.getbbox(text)
    return int(box[2] - box[0]), int(box[3])


def figure(plot: Image.Image, axes: Axes, *, gray: bool, colormap: str) -> Image.Image:
    """``plot`` framed as a report figure: title, labelled time and frequency axes, and a
    dB colour bar at the right. The plot is pasted unchanged at :func:`plot_origin`."""
    w, h = plot.size
    font = _font(12)
    fg: Ink = 0 if gray else (0, 0, 0)
    bg: Ink = 255 if gray else (255, 255, 255)
    mode = "L" if gray else "RGB"
    # Frequency ticks.
    sc = axes.scale
    th = _text_size(font, "0123456789k")[1]
    fticks = scale_ticks(sc, h)
    khz = sc.f_hi >= 2000.0
    fy_all = sc.y_of(np.asarray(fticks, dtype=np.float64), h)
    fy_list: list[float] = []
    flabels: list[str] = []
    for f, y in zip(fticks, fy_all.tolist(), strict=True):
        # Inside the plot, and clear of the previous (lower) label.
        if -0.5 <= y <= h + 0.5 and (not fy_list or fy_list[-1] - y >= 1.6 * th):
            fy_list.append(y)
            flabels.append(hz_label(f, khz))
    fy = np.asarray(fy_list)
    # Time ticks.
    if axes.t_right - axes.t_left >= 180:  # whole minutes
        tticks = [60 * t for t in nice_ticks(axes.t_left / 60, axes.t_right / 60, max(2, w // 90))]
    else:
        tticks = nice_ticks(axes.t_left, axes.t_right, max(2, w // 90))
    tstep = tticks[1] - tticks[0] if len(tticks) > 1 else 1.0
    tlabels = [time_label(t, tstep) for t in tticks]
    span = axes.t_right - axes.t_left
    tx = [(t - axes.t_left) / span * w for t in tticks]
    # dB ticks.
    dbticks = nice_ticks(axes.lo, axes.hi, max(2, h // 50))
    dblabels = [f"{v:g}" for v in dbticks]

    lab_w = max([_text_size(font, s)[0] for s in flabels] + [10])
    db_w = max([_text_size(font, s)[0] for s in dblabels] + [_text_size(font, axes.unit)[0]])
    tick = 5
    left = 6 + th + 6 + lab_w + 4 + tick
    top = 8 + th + 10
    bottom = tick + 3 + th + 6 + th + 8
    bar_gap, bar_w = 14, 14
    right = bar_gap + bar_w + tick + 3 + db_w + 8
    fig = Image.new(mode, (left + w + right, top + h + bottom), bg)
    fig.paste(plot, (left, top))
    from PIL import ImageDraw

    d = ImageDraw.Draw(fig)
    d.rectangle((left - 1, top - 1, left + w, top + h), outline=fg)
    d.text((left, 6), axes.title, fill=fg, font=font)
    for y, s in zip(fy, flabels, strict=True):
        yy = top + float(y)
        d.line((left - 1 - tick, yy, left - 1, yy), fill=fg)
        tw, _ = _text_size(font, s)
        d.text((left - 1 - tick - 3 - tw, yy - th / 2 - 1), s, fill=fg, font=font)
    for x, s in zip(tx, tlabels, strict=True):
        xx = left + x
        d.line((xx, top + h, xx, top + h + tick), fill=fg)
        tw, _ = _text_size(font, s)
        d.text((xx - tw / 2, top + h + tick + 3), s, fill=fg, font=font)
    tname = "Time (min:s)" if tstep >= 60 and axes.t_right >= 60 else "Time (s)"
    tw, _ = _text_size(font, tname)
    d.text((left + (w - tw) / 2, top + h + tick + 3 + th + 6), tname, fill=fg, font=font)
    unit = "kHz" if khz else "Hz"
    fname = {"linear": f"Frequency ({unit})", "log": f"Frequency ({unit}, log scale)"}.get(
        sc.kind, f"Frequency ({unit}, mel scale)"
    )
    _vertical_text(fig, fname, (6, top + h // 2), font, fg, bg)
    # Colour bar.
    bx = left + w + bar_gap
    ramp = np.linspace(255, 0, h).round().astype(np.uint8)[:, None].repeat(bar_w, axis=1)
    bar = Image.fromarray(ramp, "L") if gray else Image.fromarray(colour_table(colormap)[ramp])
    fig.paste(bar, (bx, top))
    d.rectangle((bx - 1, top - 1, bx + bar_w, top + h), outline=fg)
    for v, s in zip(dbticks, dblabels, strict=True):
        yy = top + (axes.hi - v) / (axes.hi - axes.lo) * (h - 1)
        d.line((bx + bar_w, yy, bx + bar_w + tick, yy), fill=fg)
        d.text((bx + bar_w + tick + 3, yy - th / 2 - 1), s, fill=fg, font=font)
    d.text((bx, 6), axes.unit, fill=fg, font=font)
    return fig


def plot_origin(plot_size: tuple[int, int], axes: Axes, *, gray: bool = False) -> tuple[int, int]:
    """Where :func:`figure` puts the plot's top-left pixel (found by drawing a probe)."""
    probe = Image.new("L" if gray else "RGB", plot_size, 7 if gray else (7, 7, 7))
    fig = figure(probe, axes, gray=gray, colormap="grey")
    a = np.asarray(fig.convert("L")) == 7
    ys, xs = np.nonzero(a)
    return int(xs.min()), int(ys.min())


def _vertical_text(
    fig: Image.Image, text: str, at: tuple[int, int], font: Font, fg: Ink, bg: Ink
) -> None:
    tw, th = _text_size(font, text)
    tmp = Image.new(fig.mode, (tw + 2, th + 4), bg)
    from PIL import ImageDraw

    ImageDraw.Draw(tmp).text((1, 0), text, fill=fg, font=font)
    rot = tmp.rotate(90, expand=True)
    x, y = at
    fig.paste(rot, (x, max(0, y - rot.size[1] // 2)))


def image_size_error(frames: int, rows: int) -> str | None:
    """A message if a full-resolution image of ``frames`` x ``rows`` pixels is too large."""
    if frames * rows > MAX_PIXELS:
        return (
            f"the image would be {frames}x{rows} pixels; give --size WxH (or --clip S) "
            "for a long input"
        )
    return None


def parse_size(text: str) -> tuple[int, int]:
    """``"512x512"`` -> (512, 512); raises ValueError with the allowed form."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError("WIDTHxHEIGHT in pixels, e.g. 512x512")
    w, h = (int(p) for p in parts)
    if not (1 <= w <= 32768 and 1 <= h <= 32768):
        raise ValueError("WIDTHxHEIGHT with each from 1 to 32768 pixels")
    return w, h
