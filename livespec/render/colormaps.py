"""Colour maps as 256-entry lookup tables, in truecolor, 256-colour and 16-colour forms.

The perceptual maps (viridis, magma, inferno, plasma) are generated from mattz's degree-6
polynomial fits of matplotlib's tables (https://www.shadertoy.com/view/WlfXRN, CC0); turbo
from Google's polynomial approximation (Anton Mikhailov and Ruofei Du, Apache-2.0). The
256-colour forms pick the nearest xterm colour (6x6x6 cube or grey ramp) in a weighted RGB
space; the 16-colour forms are hand-made ramps of ANSI colours ordered by lightness, so a
map stays readable on any terminal theme.

Pure code: nothing here imports Textual. Any thread.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from rich.color import Color

from livespec.config import COLORMAPS as COLORMAPS

DEPTHS: tuple[str, ...] = ("truecolor", "256", "16", "none")

RGB = npt.NDArray[np.uint8]

# Degree-6 polynomial coefficients c0..c6 for (r, g, b), highest power last.
_POLY6: dict[str, tuple[tuple[float, float, float], ...]] = {
    "viridis": (
        (0.2777273272234177, 0.005407344544966578, 0.3340998053353061),
        (0.1050930431085774, 1.404613529898575, 1.384590162594685),
        (-0.3308618287255563, 0.214847559468213, 0.09509516302823659),
        (-4.634230498983486, -5.799100973351585, -19.33244095627987),
        (6.228269936347081, 14.17993336680509, 56.69055260068105),
        (4.776384997670288, -13.74514537774601, -65.35303263337234),
        (-5.435455855934631, 4.645852612178535, 26.3124352495832),
    ),
    "plasma": (
        (0.05873234392399702, 0.02333670892565664, 0.5433401826748754),
        (2.176514634195958, 0.2383834171260182, 0.7539604599784036),
        (-2.689460476458034, -7.455851135738909, 3.110799939717086),
        (6.130348345893603, 42.3461881477227, -28.51885465332158),
        (-11.10743619062271, -82.66631109428045, 60.13984767418263),
        (10.02306557647065, 71.41361770095349, -54.07218655560067),
        (-3.658713842777788, -22.93153465461149, 18.19190778539828),
    ),
    "magma": (
        (-0.002136485053939582, -0.000749655052795221, -0.005386127855323933),
        (0.2516605407371642, 0.6775232436837668, 2.494026599312351),
        (8.353717279216625, -3.577719514958484, 0.3144679030132573),
        (-27.66873308576866, 14.26473078096533, -13.64921318813922),
        (52.17613981234068, -27.94360607168351, 12.94416944238394),
        (-50.76852536473588, 29.04658282127291, 4.23415299384598),
        (18.65570506591883, -11.48977351997711, -5.601961508734096),
    ),
    "inferno": (
        (0.0002189403691192265, 0.001651004631001012, -0.01948089843709184),
        (0.1065134194856116, 0.5639564367884091, 3.932712388889277),
        (11.60249308247187, -3.972853965665698, -15.9423941062914),
        (-41.70399613139459, 17.43639888205313, 44.35414519872813),
        (77.162935699427, -33.40235894210092, -81.80730925738993),
        (-71.31942824499214, 32.62606426397723, 73.20951985803202),
        (25.13112622477341, -12.24266895238567, -23.07032500287172),
    ),
    "turbo": (
        (0.13572138, 0.09140261, 0.10667330),
        (4.61539260, 2.19418839, 12.64194608),
        (-42.66032258, 4.84296658, -60.58204836),
        (132.13108234, -14.18503333, 110.36276771),
        (-152.94239396, 4.27729857, -89.90310912),
        (59.28637943, 2.82956604, 27.34824973),
        (0.0, 0.0, 0.0),
    ),
}

# 16-colour ramps (ANSI indices 0-15, dark to light) that follow each map's hues.
_RAMP16: dict[str, tuple[int, ...]] = {
    "viridis": (0, 5, 4, 6, 2, 10, 11),
    "magma": (0, 4, 5, 13, 9, 11, 15),
    "inferno": (0, 5, 1, 9, 3, 11, 15),
    "plasma": (4, 5, 13, 9, 3, 11),
    "turbo": (4, 12, 6, 14, 10, 11, 3, 9, 1),
    "grey": (0, 8, 7, 15),
}

# Characters for --colors none, one level per cell (dark to light).
SHADES = " .:-=+*#%@"


@functools.cache
def rgb_table(name: str) -> RGB:
    """The map ``name`` as a (256, 3) uint8 table, index 0 = lowest level."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r} (known: {', '.join(COLORMAPS)})")
    t = np.linspace(0.0, 1.0, 256)
    if name == "grey":
        rgb = np.stack([t, t, t], axis=1)
    else:
        coeffs = np.asarray(_POLY6[name], dtype=np.float64)  # (7, 3)
        rgb = np.zeros((256, 3))
        for c in coeffs[::-1]:  # Horner
            rgb = rgb * t[:, None] + c
    out = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


@functools.cache
def xterm256_rgb() -> RGB:
    """RGB of xterm's colours 16-255 as a (240, 3) uint8 table (row i = colour 16 + i)."""
    levels = (0, 95, 135, 175, 215, 255)
    cube = [(r, g, b) for r in levels for g in levels for b in levels]
    greys = [(v, v, v) for v in range(8, 248, 10)]
    out = np.asarray(cube + greys, dtype=np.uint8)
    out.setflags(write=False)
    return out


def nearest_xterm256(rgb: RGB) -> npt.NDArray[np.int16]:
    """Nearest xterm colour index (16-255) for each row of an (n, 3) uint8 RGB array.

    Distance is a "redmean"-weighted RGB distance, a cheap stand-in for perceptual
    difference.
    """
    a = rgb.astype(np.float64)[:, None, :]
    b = xterm256_rgb().astype(np.float64)[None, :, :]
    rmean = (a[..., 0] + b[..., 0]) / 2.0
    d = a - b
    dist = (
        (2.0 + rmean / 256.0) * d[..., 0] ** 2
        + 4.0 * d[..., 1] ** 2
        + (2.0 + (255.0 - rmean) / 256.0) * d[..., 2] ** 2
    )
    out: npt.NDArray[np.int16] = (np.argmin(dist, axis=1) + 16).astype(np.int16)
    return out


@functools.cache
def ansi_indices(name: str, depth: str) -> tuple[int, ...]:
    """For ``depth`` 256 or 16: the ANSI colour number of each of the 256 levels."""
    if depth == "256":
        return tuple(int(i) for i in nearest_xterm256(rgb_table(name)))
    if depth == "16":
        ramp = _RAMP16[name]
        return tuple(ramp[level * len(ramp) // 256] for level in range(256))
    raise ValueError(f"no ANSI indices for depth {depth!r}")


@functools.cache
def palette(name: str, depth: str) -> tuple[Color, ...]:
    """The 256 Rich colours of map ``name`` at colour ``depth`` (truecolor, 256, 16, none).

    ``none`` gives grey truecolor entries (only used for previews; the renderer draws
    shade characters instead).
    """
    if depth in ("truecolor", "none"):
        table = rgb_table("grey" if depth == "none" else name)
        return tuple(Color.from_rgb(int(r), int(g), int(b)) for r, g, b in table.tolist())
    if depth in ("256", "16"):
        return tuple(Color.from_ansi(i) for i in ansi_indices(name, depth))
    raise ValueError(f"unknown colour depth {depth!r} (known: {', '.join(DEPTHS)})")


def detect_depth(env: Mapping[str, str] | None = None) -> str:
    """Colour depth from the environment: NO_COLOR, COLORTERM, TERM (as Rich does).

    Returns ``"none"``, ``"truecolor"``, ``"256"`` or ``"16"``.
    """
    env = os.environ if env is None else env
    if "NO_COLOR" in env and env["NO_COLOR"] != "":
        return "none"
    if env.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
        return "truecolor"
    term = env.get("TERM", "").strip().lower()
    if term in ("dumb", "unknown"):
        return "none"
    suffix = term.rpartition("-")[2]
    if suffix in ("256color", "kitty") or term.startswith("xterm-kitty"):
        return "256"
    return "16"


def resolve_depth(option: str, env: Mapping[str, str] | None = None) -> str:
    """``--colors`` value -> the depth used (``auto`` asks :func:`detect_depth`)."""
    if option == "auto":
        return detect_depth(env)
    if option not in DEPTHS:
        raise ValueError(f"unknown colour depth {option!r}")
    return option
