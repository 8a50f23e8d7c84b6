"""Colour maps: table shapes, known end colours, the 256- and 16-colour forms, detection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from livespec.config import COLORMAP_CHOICES
from livespec.render.colormaps import (
    COLORMAPS,
    ansi_indices,
    detect_depth,
    nearest_xterm256,
    palette,
    resolve_depth,
    rgb_table,
    xterm256_rgb,
)

# matplotlib's first and last entries (0-255); the polynomial fits stay within a few steps.
ENDS = {
    "viridis": ((68, 1, 84), (253, 231, 37)),
    "magma": ((0, 0, 4), (252, 253, 191)),
    "inferno": ((0, 0, 4), (252, 255, 164)),
    "plasma": ((13, 8, 135), (240, 249, 33)),
    "grey": ((0, 0, 0), (255, 255, 255)),
}


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.2126, 0.7152, 0.0722])


def test_every_config_colormap_exists() -> None:
    assert set(COLORMAP_CHOICES) == set(COLORMAPS)


@pytest.mark.parametrize("name", COLORMAPS)
def test_tables_are_256_rgb_entries(name: str) -> None:
    t = rgb_table(name)
    assert t.shape == (256, 3) and t.dtype == np.uint8
    assert len({tuple(c) for c in t.tolist()}) > 150  # smooth: many distinct colours


@pytest.mark.parametrize("name", sorted(ENDS))
def test_end_colours_match_matplotlib(name: str) -> None:
    t = rgb_table(name).astype(int)
    lo, hi = ENDS[name]
    assert np.abs(t[0] - lo).max() <= 6
    assert np.abs(t[255] - hi).max() <= 6


@pytest.mark.parametrize("name", ["viridis", "magma", "inferno", "plasma", "grey"])
def test_perceptual_maps_get_lighter(name: str) -> None:
    light = _lightness(rgb_table(name))
    assert np.all(np.diff(light) > -1.5)  # monotonic up to rounding
    assert light[-1] - light[0] > 150


def test_xterm_cube_and_greys() -> None:
    x = xterm256_rgb()
    assert x.shape == (240, 3)
    assert tuple(x[0]) == (0, 0, 0) and tuple(x[215]) == (255, 255, 255)
    assert tuple(x[216]) == (8, 8, 8)
    assert nearest_xterm256(np.array([[255, 0, 0], [128, 128, 128]], np.uint8)).tolist() == [
        196,
        244,
    ]


@pytest.mark.parametrize("name", COLORMAPS)
def test_reduced_forms_are_ordered_and_in_range(name: str) -> None:
    i256 = ansi_indices(name, "256")
    assert all(16 <= i <= 255 for i in i256)
    assert len(set(i256)) >= 10
    i16 = ansi_indices(name, "16")
    assert all(0 <= i <= 15 for i in i16)
    assert len(set(i16)) >= 4
    # 16-colour ramps only step forward (no flicker between two colours)
    changes = [a for a, b in itertools.pairwise(i16) if a != b]
    assert len(changes) == len(set(i16)) - 1
    assert len(palette(name, "truecolor")) == len(palette(name, "16")) == 256


@pytest.mark.parametrize(
    ("env", "depth"),
    [
        ({"COLORTERM": "truecolor", "TERM": "xterm-256color"}, "truecolor"),
        ({"COLORTERM": "24bit"}, "truecolor"),
        ({"TERM": "xterm-256color"}, "256"),
        ({"TERM": "tmux-256color"}, "256"),
        ({"TERM": "xterm"}, "16"),
        ({"TERM": "linux"}, "16"),
        ({"TERM": "dumb"}, "none"),
        ({"NO_COLOR": "1", "COLORTERM": "truecolor"}, "none"),
        ({"NO_COLOR": "", "TERM": "xterm"}, "16"),
    ],
)
def test_detect_depth(env: dict[str, str], depth: str) -> None:
    assert detect_depth(env) == depth


def test_colors_option_overrides_detection() -> None:
    assert resolve_depth("256", {"COLORTERM": "truecolor"}) == "256"
    assert resolve_depth("auto", {"TERM": "xterm"}) == "16"
    with pytest.raises(ValueError):
        resolve_depth("64k")
