"""SVG snapshots of the app (pytest-textual-snapshot) with a deterministic source.

Update them with ``pytest tests/test_app_snapshots.py --snapshot-update`` and look at the
report before committing.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.app import make_rig
from textual.pilot import Pilot

from livespec.tui.options import AppOptions

SIZES = [(80, 24), (120, 40)]
DEPTHS = ["truecolor", "256", "16", "none"]  # none: NO_COLOR, shapes and labels only


def _run_before(rig: Any, keys: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        rig.feed(150)
        for key in keys:
            await pilot.press(key)
        rig.feed(30)
        rig.app.update_texts()  # the readout and status as the next of their ticks shows them
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_demo(snap_compare: Any, size: tuple[int, int], depth: str) -> None:
    rig = make_rig("demo", colors=depth)
    assert snap_compare(rig.app, terminal_size=size, run_before=_run_before(rig))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_vertical_with_cursor(snap_compare: Any, size: tuple[int, int]) -> None:
    rig = make_rig("demo", colors="truecolor", orientation="vertical", colormap="inferno")
    keys = ("left", "left", "m", "shift+right", "down", "t")
    assert snap_compare(rig.app, terminal_size=size, run_before=_run_before(rig, keys))


def test_snapshot_tone_linear_no_spectrum(snap_compare: Any) -> None:
    rig = make_rig(colors="256", scale="linear", spectrum=False, colormap="turbo")
    assert snap_compare(rig.app, terminal_size=(120, 40), run_before=_run_before(rig))


def test_snapshot_help(snap_compare: Any) -> None:
    rig = make_rig(colors="truecolor")
    keys = ("question_mark",)
    assert snap_compare(rig.app, terminal_size=(80, 24), run_before=_run_before(rig, keys))


def test_snapshot_too_small(snap_compare: Any) -> None:
    rig = make_rig(colors="16")
    assert snap_compare(rig.app, terminal_size=(40, 12), run_before=_run_before(rig))


def test_snapshot_measure_view(snap_compare: Any) -> None:
    """M on a tone with known distortion (THD -59.59 dB, SNR 91.8 dB), exponential
    averaging: the measurement panel, the averaged spectrum and the harmonic markers."""
    from livespec.meter.live import parse_app_average

    signal = "tone:1000@-6+tone:2000@-66+tone:3000@-76+noise@-100"
    options = AppOptions(average=parse_app_average("exp:1"))
    rig = make_rig(signal, colors="truecolor", options=options)
    keys = ("M",)
    assert snap_compare(rig.app, terminal_size=(120, 40), run_before=_run_before(rig, keys))
