"""The vector figure (``livespec export x.wav -o x.svg``): title, axes, tick labels, the dB
colour bar (a gradient), overlays and labels as SVG shapes and text, and the spectrogram
itself as an embedded PNG ``<image>`` (the ``--axes`` PNG's plot, same pixels). For papers:
it scales without blurring its text and lines, and editors (Inkscape, Illustrator) can
restyle it. Pure code; caller's thread.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

from PIL import Image

from livespec.dsp.scales import FreqScale
from livespec.export import figure
from livespec.export.html import PageSpec, write_text_atomic
from livespec.export.image import LogRows, colour_table, render
from livespec.export.io import ImageSpec, PngSink, Post

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" dy="0.35em" text-anchor="{anchor}"{extra}>'
        f"{escape(s)}</text>"
    )


def svg_figure(
    plot: Image.Image,
    t_left: float,
    t_right: float,
    scale: FreqScale,
    lo: float,
    hi: float,
    unit: str,
    title: str,
    *,
    colormap: str,
    gray: bool = False,
    page: PageSpec | None = None,
) -> str:
    """The SVG text of a figure around ``plot`` (its pixels are the plot's size in SVG
    units)."""
    page = page or PageSpec()
    w, h = plot.size
    lay = figure.Layout(
        pw=w,
        ph=h,
        strip_h=18 if page.labels else 0,
        level_axis=44 if any(c.unit == "dB" for c in page.curves) else 0,
    )
    ml, mt = lay.ml, lay.mt
    buf = io.BytesIO()
    plot.save(buf, format="PNG")
    href = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{lay.width}" height="{lay.height}" viewBox="0 0 {lay.width} {lay.height}" '
        f'font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    table = colour_table("grey" if gray else colormap)
    stops = [
        f'<stop offset="{i / 255:.4f}" stop-color="#{r:02x}{g:02x}{b:02x}"/>'
        for i, (r, g, b) in enumerate(table.tolist())
        if i % 8 == 0 or i == 255
    ]
    out.append(
        '<defs><linearGradient id="lsp-bar" x1="0" y1="1" x2="0" y2="0">'
        + "".join(stops)
        + f'</linearGradient><clipPath id="lsp-plot"><rect x="{ml}" y="{mt}" width="{w}" '
        f'height="{h}"/></clipPath></defs>'
    )
    out.append(_text(ml, 14, title))
    out.append(
        f'<image x="{ml}" y="{mt}" width="{w}" height="{h}" preserveAspectRatio="none" '
        f'xlink:href="{href}" href="{href}"/>'
    )
    out.append(
        f'<rect x="{ml - 0.5}" y="{mt - 0.5}" width="{w + 1}" height="{h + 1}" fill="none" '
        'stroke="#000"/>'
    )
    ticks: list[str] = []
    for y, s in figure.freq_ticks(scale, h):
        ticks.append(f"M{ml - 6} {_f(mt + y)}h5")
        out.append(_text(ml - 9, mt + y, s, "end"))
    tt, tname = figure.time_ticks(t_left, t_right, w)
    for x, s in tt:
        ticks.append(f"M{_f(ml + x)} {mt + h}v5")
        out.append(_text(ml + x, mt + h + 14, s, "middle"))
    out.append(_text(ml + w / 2, mt + h + 32, tname, "middle"))
    out.append(
        _text(0, 0, figure.freq_axis_name(scale), "middle",
              f' transform="translate(12 {_f(mt + h / 2)}) rotate(-90)"')
    )  # fmt: skip
    bx, bw = lay.bar_x, lay.bar_w
    out.append(f'<rect x="{bx}" y="{mt}" width="{bw}" height="{h}" fill="url(#lsp-bar)"/>')
    out.append(
        f'<rect x="{bx - 0.5}" y="{mt - 0.5}" width="{bw + 1}" height="{h + 1}" fill="none" '
        'stroke="#000"/>'
    )
    for y, s in figure.db_ticks(lo, hi, h):
        ticks.append(f"M{bx + bw} {_f(mt + y)}h5")
        out.append(_text(bx + bw + 8, mt + y, s))
    out.append(_text(bx, 14, unit))
    levels = figure.level_range(page.curves)
    if levels is not None:
        out.append(_text(ml + w + 8, 14, "dB"))
        for y, s in figure.db_ticks(levels[0], levels[1], h):
            ticks.append(f"M{ml + w} {_f(mt + y)}h5")
            out.append(_text(ml + w + 8, mt + y, s))
    out.append(f'<path d="{" ".join(ticks)}" stroke="#000" fill="none"/>')
    span = t_right - t_left

    def x_of(t: float) -> float:
        return ml + (t - t_left) / span * w

    for c in figure.place_curves(page.curves, scale, h):
        runs: list[list[str]] = [[]]
        for t, y in zip(c.times, c.y, strict=True):
            if y != y:  # NaN: a gap
                runs.append([])
            else:
                runs[-1].append(f"{_f(x_of(t))},{_f(mt + y)}")
        for run in runs:
            if run:
                out.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{c.colour}" '
                    'stroke-width="2" stroke-linejoin="round" clip-path="url(#lsp-plot)"/>'
                )
    lx = ml + w / 2  # the legend, on the title's line
    for c in figure.place_curves(page.curves, scale, h):
        out.append(
            f'<rect x="{_f(lx)}" y="12.5" width="18" height="3" fill="{c.colour}" '
            'stroke="#888" stroke-width="0.5"/>'
        )
        name = f"{c.name} ({c.unit})"
        out.append(_text(lx + 22, 14, name))
        lx += 22 + 7 * len(name) + 14
    for i, (a, b, s) in enumerate(figure.label_spans(page.labels)):
        xa, xb = max(x_of(a), ml), min(x_of(b), ml + w)
        if xb < xa:
            continue
        fill = "#a8d5ff" if i % 2 else "#ffd59e"
        out.append(
            f'<rect x="{_f(xa)}" y="{lay.strip_y}" width="{_f(max(xb - xa, 2))}" '
            f'height="{lay.strip_h}" fill="{fill}"/>'
        )
        out.append(_text(xa + 3, lay.strip_y + lay.strip_h / 2, s, extra=' font-size="11"'))
    out.append("</svg>")
    return "\n".join(out) + "\n"


class SvgSink(PngSink):
    """``-o x.svg``: collects the plot as the ``--axes`` PNG does, writes the vector figure."""

    def __init__(
        self,
        path: Path,
        frames: int,
        spec: ImageSpec,
        freq: FreqScale,
        log_rows: LogRows | None,
        t_left: float,
        t_right: float,
        title: str,
        page: PageSpec,
    ) -> None:
        super().__init__(path, frames, spec, freq, log_rows, t_left, t_right, title)
        self.page = page

    def finish(self, post: Post, vmin: float, vmax: float) -> None:
        """Render the plot and write the SVG."""
        levels = self._reducer.result()
        post.apply(levels)
        lo, hi = self.levels_range(post, vmin, vmax)
        s = self.spec
        img = render(levels, lo, hi, size=s.size, gray=s.gray, colormap=s.colormap)
        text = svg_figure(
            img, self._t[0], self._t[1], self.freq, lo, hi, s.unit, self.title,
            colormap=s.colormap, gray=s.gray, page=self.page,
        )  # fmt: skip
        write_text_atomic(self.path, text)
