"""Axes of the vector and HTML figures (``livespec export -o x.svg|x.html``): where the
frequency, time and dB ticks go and what they say, the plot's layout in CSS pixels, and
the overlays and labels turned into plot coordinates. The tick values come from
:mod:`livespec.dsp.scales` (the one place for scales and ticks), with the same rules as the
PNG ``--axes`` figure (:func:`livespec.export.image.figure`).

Pure code (numpy only); any thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from livespec.annotate.curves import Curve
from livespec.annotate.labels import Label
from livespec.dsp.scales import FreqScale, hz_label, nice_ticks, scale_ticks, time_label

TEXT_H = 12  # px: the height of a tick label, for spacing frequency labels
MAX_CURVE_POINTS = 20_000  # points of one overlay drawn; a longer curve is thinned evenly
OVERLAY_COLOURS = ("#ffffff", "#00e5ff", "#ff9f1c", "#7cfc00", "#ff4fd8", "#ffd60a")
PLAYHEAD_COLOUR = "#ff3b30"


@dataclass(frozen=True)
class Layout:
    """Where things are, in CSS pixels from the figure's top-left corner.

    Attributes:
        pw, ph: the plot's width and height.
        ml, mt: the plot's left and top edges.
        strip_h: height of the label strip under the time axis (0: no labels).
        level_axis: width kept between the plot and the colour bar for a dB overlay's axis.
    """

    pw: int = 900
    ph: int = 360
    ml: int = 72
    mt: int = 30
    strip_h: int = 0
    level_axis: int = 0

    @property
    def strip_y(self) -> int:
        """Top of the label strip (under the time labels and the axis name)."""
        return self.mt + self.ph + 46

    @property
    def bar_x(self) -> int:
        """Left edge of the colour bar."""
        return self.ml + self.pw + 16 + self.level_axis

    @property
    def bar_w(self) -> int:
        return 14

    @property
    def width(self) -> int:
        return self.bar_x + self.bar_w + 64

    @property
    def height(self) -> int:
        return self.strip_y + (self.strip_h + 8 if self.strip_h else 0)

    def as_dict(self) -> dict[str, int]:
        """The numbers the page's script uses."""
        names = ("pw", "ph", "ml", "mt", "strip_h", "strip_y", "bar_x", "bar_w")
        out = {k: int(getattr(self, k)) for k in names}
        out.update(width=self.width, height=self.height, level_x=self.ml + self.pw + 6)
        return out


def freq_ticks(scale: FreqScale, height: int) -> list[tuple[float, str]]:
    """(y from the plot's top in px, label) of the frequency ticks on a plot ``height``
    pixels high, labels at least 1.6 text heights apart (the PNG figure's rule)."""
    khz = scale.f_hi >= 2000.0
    ticks = scale_ticks(scale, height)
    ys = scale.y_of(np.asarray(ticks, dtype=np.float64), height).tolist()
    out: list[tuple[float, str]] = []
    for f, y in zip(ticks, ys, strict=True):
        if -0.5 <= y <= height + 0.5 and (not out or out[-1][0] - y >= 1.6 * TEXT_H):
            out.append((float(y), hz_label(f, khz)))
    return out


def freq_axis_name(scale: FreqScale) -> str:
    """``Frequency (kHz)``, ``Frequency (Hz, log scale)``, ..."""
    unit = "kHz" if scale.f_hi >= 2000.0 else "Hz"
    extra = {"linear": "", "log": ", log scale"}.get(scale.kind, ", mel scale")
    return f"Frequency ({unit}{extra})"


def time_ticks(t_left: float, t_right: float, width: int) -> tuple[list[tuple[float, str]], str]:
    """(x from the plot's left in px, label) of time ticks, and the axis name."""
    span = t_right - t_left
    if span <= 0:
        return [], "Time (s)"
    if span >= 180:  # whole minutes
        ticks = [60 * t for t in nice_ticks(t_left / 60, t_right / 60, max(2, width // 90))]
    else:
        ticks = nice_ticks(t_left, t_right, max(2, width // 90))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    out = [((t - t_left) / span * width, time_label(t, step)) for t in ticks]
    name = "Time (min:s)" if step >= 60 and t_right >= 60 else "Time (s)"
    return out, name


def db_ticks(lo: float, hi: float, height: int) -> list[tuple[float, str]]:
    """(y from the colour bar's top in px, label) of the colour bar's dB ticks."""
    return [
        ((hi - v) / (hi - lo) * (height - 1), f"{v:g}")
        for v in nice_ticks(lo, hi, max(2, height // 50))
    ]


@dataclass(frozen=True)
class PlacedCurve:
    """An overlay in plot coordinates: ``times`` (s) and ``y`` (px from the plot's top;
    NaN is a gap), its colour and legend text."""

    name: str
    unit: str
    colour: str
    times: list[float]
    y: list[float]


def level_range(curves: Sequence[Curve]) -> tuple[float, float] | None:
    """The dB axis of the level overlays (round numbers around their values), or None."""
    vals = [c.values[np.isfinite(c.values)] for c in curves if c.unit == "dB"]
    vals = [v for v in vals if v.size]
    if not vals:
        return None
    lo = float(min(v.min() for v in vals))
    hi = float(max(v.max() for v in vals))
    if hi - lo < 1.0:
        lo, hi = lo - 0.5, hi + 0.5
    step = nice_ticks(lo, hi, 4)
    s = step[1] - step[0] if len(step) > 1 else 1.0
    return math.floor(lo / s) * s, math.ceil(hi / s) * s


def place_curves(curves: Sequence[Curve], scale: FreqScale, height: int) -> list[PlacedCurve]:
    """Each overlay's points in plot pixels: Hz on the frequency scale, dB on the level
    axis (:func:`level_range`). A curve of more than ``MAX_CURVE_POINTS`` points is thinned."""
    levels = level_range(curves)
    out: list[PlacedCurve] = []
    for i, c in enumerate(curves):
        t, v = c.times, c.values
        if t.size > MAX_CURVE_POINTS:
            keep = np.linspace(0, t.size - 1, MAX_CURVE_POINTS).round().astype(np.intp)
            t, v = t[keep], v[keep]
        if c.unit == "dB" and levels is not None:
            lo, hi = levels
            y = (hi - v) / (hi - lo) * height
        else:
            y = scale.y_of(v, height)
        out.append(
            PlacedCurve(
                c.name,
                c.unit,
                OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)],
                [round(float(x), 6) for x in t],
                [round(float(x), 3) for x in y],
            )
        )
    return out


def label_spans(labels: Sequence[Label]) -> list[tuple[float, float, str]]:
    """(start s, end s, text) of each label."""
    return [(lab.start, lab.end, lab.text) for lab in labels]
