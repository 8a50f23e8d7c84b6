"""The live app's markers saved as Audacity labels (``L``, ``--labels-out``) and its
waveform strip (``v``), checked against values computed here."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.app import make_rig, sync

from livespec.annotate.labels import format_labels, read_labels
from livespec.cli.parsers import build_parser
from livespec.render.overlay import WAVE_ROWS
from livespec.tui.controllers.labels import new_labels_path, numbered
from livespec.tui.controllers.overlays import WAVE_COLS
from livespec.tui.options import AppOptions
from livespec.tui.widgets.plot import Plot

FS = 48000


def _frame_centre(index: int, hop: int, fft: int) -> float:
    """Seconds at the centre of analysis frame ``index`` of a stream framed from sample 0
    (scipy's framing: frame k covers ``[k * hop, k * hop + fft)``)."""
    return (index * hop + fft / 2) / FS


@sync
async def test_markers_saved_as_labels_at_their_times_round_trip(tmp_path: Path) -> None:
    rig = make_rig(record_dir=str(tmp_path))
    app = rig.app
    a = app.viewing.analysis
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(300)
        await pilot.pause()
        await pilot.press("L")  # nothing to save yet: a notice, no file
        await pilot.pause()
        assert list(tmp_path.iterdir()) == []
        want = []
        for steps in (3, 20, 9):  # three markers, set out of time order
            await pilot.press(*["left"] * steps, "m")
            await pilot.pause()
            assert app.view.marker is not None
            index, hz = app.view.marker
            want.append((_frame_centre(index, a.hop_samples, a.fft), hz))
            rig.feed(2)
            await pilot.pause()
        await pilot.press("escape")  # hides the marker on screen; the saved list stays
        await pilot.press("L")
        await pilot.pause()
        await pilot.press("L")  # again: a new file, never the same one
        await pilot.pause()
    files = sorted(tmp_path.glob("*.labels.txt"))
    assert len(files) == 2, files
    first, second = sorted(files, key=lambda p: len(p.name))
    assert first.name.startswith("livespec-") and second == numbered(first, 1)
    data = first.read_bytes()
    assert second.read_bytes() == data
    labels = read_labels(first)
    assert format_labels(labels).encode() == data  # byte-identical round trip
    want.sort()
    assert [lab.start for lab in labels] == [round(t, 6) for t, _ in want]
    assert all(lab.end == lab.start for lab in labels)
    assert [lab.text for lab in labels] == [
        f"m{i} {hz:.1f} Hz" for i, (_, hz) in enumerate(want, 1)
    ]
    assert app.markers.saved == [first, second]


@sync
async def test_labels_out_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "take.txt"
    out.write_text("keep me\n")
    rig = make_rig(record_dir=str(tmp_path / "rec"), options=AppOptions(labels_out=str(out)))
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(100)
        await pilot.pause()
        await pilot.press("left", "m", "L", "L")
        await pilot.pause()
    assert out.read_text() == "keep me\n"
    assert app.markers.saved == [tmp_path / "take-1.txt", tmp_path / "take-2.txt"]
    assert len(read_labels(tmp_path / "take-2.txt")) == 1
    assert not (tmp_path / "rec").exists()  # --labels-out: nothing in the recording folder


def test_labels_paths_and_the_option(tmp_path: Path) -> None:
    assert numbered(Path("/x/a.labels.txt"), 2) == Path("/x/a-2.labels.txt")
    assert numbered(Path("/x/a"), 1) == Path("/x/a-1")
    p = new_labels_path(tmp_path, None, 0.0)
    assert p.parent == tmp_path and p.name.endswith(".labels.txt")
    p.write_text("")
    assert new_labels_path(tmp_path, None, 0.0) == numbered(p, 1)
    ns = build_parser("").parse_args(["--labels-out", "m.txt"])
    assert AppOptions.from_args(ns).labels_out == "m.txt"


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
@sync
async def test_waveform_strip_spans_the_tone_amplitude(orientation: str) -> None:
    """A sine of peak -6 dBFS (0.501): every strip column (row) filled so far shows the
    amplitude bands that meet [-0.501, 0.501]: of five bands from +1 to -1 (edges +1, 0.6,
    0.2, -0.2, -0.6, -1), the middle three; off: the direct drawing is back."""
    rig = make_rig(orientation=orientation)
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(100)
        await pilot.pause()
        plot = app.query_one(Plot)
        assert plot.direct
        await pilot.press("v")
        rig.feed(60)
        await pilot.pause()
        assert not plot.direct
        v = app.view
        cells = plot.waterfall.extra
        wave = {(x, y) for x, y, seg in cells if seg.text == "┃"}
        strip = {(x, y) for x, y, seg in cells if seg.text == " "}
        w, h = v.width, v.height
        if orientation == "horizontal":
            assert strip == {(x, y) for x in range(w) for y in range(h - WAVE_ROWS, h)}
            cols: dict[int, set[int]] = {}
            for x, y in wave:
                cols.setdefault(x, set()).add(y - (h - WAVE_ROWS))
            assert len(cols) >= 50 and max(cols) == w - 1  # filled from the newest column
            assert all(rows == {1, 2, 3} for rows in cols.values()), cols
        else:
            assert strip == {(x, y) for x in range(w - WAVE_COLS, w) for y in range(h)}
            rows: dict[int, set[int]] = {}
            for x, y in wave:
                rows.setdefault(y, set()).add(w - 1 - x)
            assert len(rows) >= 20 and min(rows) == 0  # filled from the newest row
            # twelve bands from +1 (k = 0) to -1: those meeting [-peak, peak]
            peak = 10 ** (-6 / 20)  # the tone's peak: 0.501, just over the 0.5 edge
            edges = [1 - 2 * k / WAVE_COLS for k in range(WAVE_COLS + 1)]
            want = {k for k in range(WAVE_COLS) if edges[k] >= -peak and edges[k + 1] <= peak}
            assert want == set(range(2, 10))
            assert all(r == want for r in rows.values()), (rows, want)
        await pilot.press("v")
        await pilot.pause()
        assert plot.direct and not plot.waterfall.extra


@sync
async def test_waveform_strip_without_audio_uses_the_frames_peak() -> None:
    """``livespec view`` has no ring: the strip shows ± each frame's peak (-6 dBFS: the
    same middle three bands of five)."""
    rig = make_rig(with_ring=False)
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.pause()
        await pilot.press("v")
        rig.feed(30)
        await pilot.pause()
        h = app.view.height
        wave = [(x, y) for x, y, seg in app.query_one(Plot).waterfall.extra if seg.text == "┃"]
        rows = {y - (h - WAVE_ROWS) for _, y in wave}
        assert len(wave) >= 3 * 20 and rows == {1, 2, 3}


@sync
async def test_with_a_recording_the_labels_count_from_its_first_frame(tmp_path: Path) -> None:
    """After ``r``, ``L`` writes the markers inside the newest recording in seconds from
    the recording's first frame, beside the WAV as TAKE.labels.txt, so the track lines up
    with the audio in Audacity; a marker set before the recording is left out."""
    rig = make_rig(record_dir=str(tmp_path), options=AppOptions(preroll_s=0.5))
    app = rig.app
    a = app.viewing.analysis
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(200)  # 4.3 s of audio
        await pilot.pause()
        await pilot.press(*["left"] * 60, "m")  # 1.3 s back: before the pre-roll
        await pilot.pause()
        assert app.view.marker is not None
        await pilot.press("escape", "r")
        rec = app.recording.recorder
        assert rec is not None
        rig.feed(60)
        await pilot.pause()
        want = []
        for steps in (5, 30):  # after the start, and inside the 0.5 s pre-roll
            await pilot.press(*["left"] * steps, "m")
            await pilot.pause()
            assert app.view.marker is not None
            index, hz = app.view.marker
            want.append((_frame_centre(index, a.hop_samples, a.fft), hz))
            await pilot.press("escape")
        await pilot.press("r")  # stop; the labels still belong to this take
        rec.stop()
        await pilot.pause()
        await pilot.press("L")
        await pilot.pause()
    wav = rec.paths[0]
    out = wav.with_suffix(".labels.txt")
    assert app.markers.saved == [out]
    t0 = rec.start_index / FS
    assert 0 < t0 < want[1][0] < want[0][0]  # both markers are inside the take
    labels = read_labels(out)
    want.sort()
    assert [lab.start for lab in labels] == [round(t - t0, 6) for t, _ in want]
    assert [lab.text for lab in labels] == [
        f"m{i} {hz:.1f} Hz" for i, (_, hz) in enumerate(want, 1)
    ]
