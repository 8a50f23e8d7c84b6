"""Pilot tests: the live app's constant-Q scale (the ``l`` key's fourth stop): CQT rows from
the engine, equal-width semitones, note names on the frequency axis."""

from __future__ import annotations

import re

import numpy as np
from rich.style import Style
from support.app import make_rig, sync

from livespec.dsp.cqt import C1_HZ
from livespec.tui.app import LivespecApp
from livespec.tui.widgets.plot import Plot


def _axis_text(app: LivespecApp) -> str:
    axis = app.query_one(Plot).freq_axis
    strips = axis.render_all(7, app.view.height, Style())
    return "\n".join(s.text for s in strips)


@sync
async def test_the_cqt_scale_shows_notes_and_the_tone_in_its_semitone() -> None:
    rig = make_rig("tone:110@-6", scale="linear")
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.pause()
        for _ in range(3):  # linear -> log -> mel -> cqt
            await pilot.press("l")
        rig.feed(120)  # 2.6 s: more than the lowest octave's kernel (1.04 s at 48 kHz)
        await pilot.pause()
        assert app.view.scale == "cqt"
        assert rig.engine.cqt is not None
        layout = app.view.cqt
        assert layout is not None and layout.fmin == C1_HZ and layout.bins_per_octave == 24
        assert app.view.bins == layout.n_bins == 216
        # The newest CQT row peaks at A2 (110 Hz): bin 24 * log2(110 / C1) = 42, at -6 dBFS.
        row = app.view.history.row(app.view.history.count - 1).astype(np.float32)
        k = int(np.argmax(row))
        assert k == round(24 * np.log2(110.0 / C1_HZ))
        assert abs(float(row[k]) + 6.0) < 0.1
        # Semitones are equal-width: pixel positions of C2, C3, C4 are evenly spaced.
        fm = app.view.fmap
        p = [fm.pos_of(C1_HZ * 2.0**o) for o in (1, 2, 3)]
        assert abs((p[2] - p[1]) - (p[1] - p[0])) < 1e-6
        # The axis is labelled with note names.
        text = _axis_text(app)
        notes = re.findall(r"\b([A-G]#?\d)\b", text)
        assert {"C2", "C3", "C4", "C5"} <= set(notes), text
        assert not re.search(r"\b\d+k\b", text)
        # ... and its corner says what the labels are.
        assert "note" in app.export_screenshot().replace("&#160;", " ")
        screen = app.export_screenshot()
        assert "note" in screen.replace("&#160;", " ")
        # The peak readout still comes from the FFT (Hz and note).
        await pilot.press("l")  # back to linear: the engine stops the CQT
        rig.feed(10)
        await pilot.pause()
        assert app.view.scale == "linear"
        assert rig.engine.cqt is None
        assert app.view.cqt is None and app.view.bins == 4096 // 2 + 1


@sync
async def test_leaving_the_cqt_scale_shows_the_whole_range_again() -> None:
    """The cqt scale ends at its top bin (below Nyquist); the scales after it must not
    keep that limit as if the view were zoomed (it cut 16.7-24 kHz off the linear view)."""
    rig = make_rig("tone:1000@-6", scale="linear")
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.pause()
        nyquist = 48000 / 2
        assert app.view.fmax == nyquist
        for _ in range(3):  # linear -> log -> mel -> cqt
            await pilot.press("l")
        rig.feed(20)
        await pilot.pause()
        assert app.view.cqt is not None and app.view.fmax < nyquist
        for scale in ("linear", "log", "mel"):
            await pilot.press("l")
            rig.feed(10)
            await pilot.pause()
            assert app.view.scale == scale and app.view.cqt is None
            assert app.view.fmax == nyquist, scale
