"""The app's measurement view (M), averaging (A) and harmonic markers (H).

* the measurement worker, fed through the ring buffer as in the app, and the panel's text:
  THD and SNR read back from the panel against the generation parameters and against an
  independent scipy.signal.welch computation (tests/test_measure.py's helpers);
* the worker on its own thread while audio arrives;
* the spectrum averaging in linear power;
* Pilot tests of the keys on the deterministic rig (tests/support/app.py).
"""

from __future__ import annotations

import dataclasses
import math
import re
import time

import numpy as np
import pytest
from support.app import make_rig, sync
from test_measure import FS, Case, generate, welch_reference

from livespec.audio.ringbuffer import RingBuffer
from livespec.config import Config, MeasureConfig
from livespec.dsp.averaging import AverageSpec
from livespec.meter.live import (
    MeasureWorker,
    SpectrumAverager,
    average_cycle,
    parse_app_average,
)
from livespec.tui.app import MIN_HEIGHT, MIN_WIDTH
from livespec.tui.options import AppOptions
from livespec.tui.widgets.measure_panel import MeasurePanel, measure_text
from livespec.tui.widgets.plot import Plot
from livespec.tui.widgets.spectrum_marks import MarkedSpectrumPanel

# 1 kHz at -6 dBFS, 2nd harmonic at -60 dBc, 3rd at -70 dBc, white noise -100 dBFS RMS.
DISTORTED = "tone:1000@-6+tone:2000@-66+tone:3000@-76+noise@-100"
TRUE_THD_DB = 10 * math.log10(1e-6 + 1e-7)  # -59.586 dB
# White noise of RMS -100 dBFS is -96.99 dBFS on the AES17 scale over 0..24 kHz; the band
# 20 Hz..20 kHz holds 19980/24000 of it.
TRUE_SNR_DB = -6.0 - (-100.0 + 10 * math.log10(2.0) + 10 * math.log10(19980 / 24000))

_NUMBER = r"(-?\d+(?:\.\d+)?)"
PANEL_FIELDS = {
    "freq": rf"Tone\s+{_NUMBER} Hz",
    "level": rf"Hz\s+{_NUMBER} dBFS",
    "thd_db": rf"THD\s+{_NUMBER} dB",
    "thd_pct": rf"THD\s+-?[\d.]+ dB\s+{_NUMBER} %",
    "thdn_db": rf"THD\+N\s+{_NUMBER} dB",
    "snr": rf"SNR\s+{_NUMBER} dB",
    "sinad": rf"SINAD\s+{_NUMBER} dB",
    "noise": rf"Noise\s+{_NUMBER} dBFS",
}


def panel_numbers(text: str) -> dict[str, float]:
    """The figures as the panel prints them (the reader's view of the numbers)."""
    out = {}
    for key, pattern in PANEL_FIELDS.items():
        m = re.search(pattern, text)
        assert m is not None, f"{key} not on the panel:\n{text}"
        out[key] = float(m.group(1))
    return out


def _feed(ring: RingBuffer, worker: MeasureWorker, x: np.ndarray, block: int = 1024) -> None:
    """Write ``x`` into the ring block by block, as the audio callback does, measuring
    synchronously after each block."""
    x32 = x.astype(np.float32)
    for i in range(0, x32.size, block):
        ring.write(x32[i : i + block])
        worker.process_available()


WORKER_CASES = [
    (Case(1000.0, -6.0, 80.0), "exp:1"),
    (Case(1000.0, -6.0, 80.0), "lin:8"),
    (Case(997.3, -20.0, 75.0), "exp:0.5"),
    (Case(6000.0, -1.0, 90.0), "none"),
    (Case(100.0, -40.0, 60.0), "lin:16"),
]


@pytest.mark.parametrize(
    ("case", "average"),
    WORKER_CASES,
    ids=[f"{c.freq:g}Hz{c.dbfs:g}dB-{a}" for c, a in WORKER_CASES],
)
def test_panel_numbers_from_the_worker_match_independent_computations(
    case: Case, average: str
) -> None:
    x, _noise = generate(case, seconds=4.0, seed=21)
    ring = RingBuffer(1 << 18, 1)
    worker = MeasureWorker(ring, FS, average=parse_app_average(average))
    _feed(ring, worker, x)
    result = worker.latest()
    assert result is not None and result.measurement is not None
    assert worker.skipped == 0 and result.fft == 32768
    got = panel_numbers(measure_text(result).plain)
    # Against the generation parameters (the targets of issue 7)...
    assert abs(got["thd_db"] - case.thd_db) <= 0.5, (got, case.thd_db)
    assert abs(got["snr"] - case.snr_db) <= 1.0, (got, case.snr_db)
    # ... and against scipy.signal.welch with a Kaiser window on the same samples.
    thd_ref, snr_ref = welch_reference(x, case.freq)
    assert abs(got["thd_db"] - thd_ref) <= 0.5, (got, thd_ref)
    assert abs(got["snr"] - snr_ref) <= 1.0, (got, snr_ref)
    assert abs(got["freq"] - case.freq) <= 0.002
    assert abs(got["level"] - case.dbfs) <= 0.02
    assert got["thd_pct"] == pytest.approx(100 * 10 ** (got["thd_db"] / 20), rel=2e-3)
    assert got["noise"] == pytest.approx(got["level"] - got["snr"], abs=0.02)
    assert got["sinad"] == pytest.approx(-got["thdn_db"], abs=0.02)
    frames = {"none": 1, "lin:8": 8, "lin:16": 16}.get(average)
    if frames is not None:
        assert result.frames == frames
    assert f"({result.frames} frame" in measure_text(result).plain


def test_worker_thread_measures_while_audio_arrives() -> None:
    case = Case(1000.0, -6.0, 80.0)
    x, _ = generate(case, seconds=3.0, seed=5)
    x32 = x.astype(np.float32)
    ring = RingBuffer(1 << 18, 1)
    worker = MeasureWorker(ring, FS, average=parse_app_average("exp:0.5"))
    worker.start(poll_s=0.005)
    seen = []
    try:
        for i in range(0, x32.size, 1024):
            ring.write(x32[i : i + 1024])
            time.sleep(0.0005)
            r = worker.latest()
            if r is not None:
                seen.append(r)
        deadline = time.monotonic() + 20.0
        want = (x32.size - 32768) // 8192 + 1
        while worker.frames < want and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        r = worker.latest()
        if r is not None:
            seen.append(r)
    finally:
        worker.stop()
    assert not worker.running and worker.error is None
    assert worker.frames == want and worker.skipped == 0
    assert len(seen) >= 2 and [s.seq for s in seen] == sorted(s.seq for s in seen)
    m = seen[-1].measurement
    assert m is not None
    assert abs(m.thd_db - case.thd_db) <= 0.5 and abs(m.snr_db - case.snr_db) <= 1.0


def test_worker_skips_ahead_when_far_behind() -> None:
    x, _ = generate(Case(1000.0, -6.0, 80.0), seconds=5.0, seed=6)
    ring = RingBuffer(1 << 19, 1)
    worker = MeasureWorker(ring, FS, max_backlog_s=1.0)
    ring.write(x[: 32768 * 2].astype(np.float32))
    worker.process_available()
    ring.write(x[32768 * 2 :].astype(np.float32))  # 3.6 s at once: more than the backlog
    worker.process_available()
    assert worker.skipped > 0
    r = worker.latest()
    assert r is not None and r.skipped == worker.skipped
    assert r.t > x.size / FS - 0.2  # it caught up with the newest audio


def test_worker_average_changes_and_reset() -> None:
    x, _ = generate(Case(1000.0, -6.0, 80.0), seconds=4.0, seed=8)
    ring = RingBuffer(1 << 18, 1)
    worker = MeasureWorker(ring, FS, average=parse_app_average("lin:4"))
    _feed(ring, worker, x[: FS * 2])
    r = worker.latest()
    assert r is not None and r.frames == 4 and r.average.kind == "lin"
    worker.set_average(AverageSpec("peak"))
    _feed(ring, worker, x[FS * 2 : FS * 3])
    r = worker.latest()
    assert r is not None and r.average.kind == "peak" and 1 <= r.frames <= 6
    before = worker.frames
    worker.reset()
    _feed(ring, worker, x[FS * 3 : FS * 3 + 8192])
    r = worker.latest()
    assert r is not None and r.frames == worker.frames - before == 1


def test_spectrum_averaging_is_in_linear_power() -> None:
    """Averaged white noise reads its mean power; a mean of dB rows would read 2.5 dB low."""
    rng = np.random.default_rng(1)
    bins = 2049
    avg = SpectrumAverager()
    avg.set_spec(parse_app_average("lin:64"))
    powers = rng.exponential(1e-6, size=(64, bins))  # chi-square with 2 degrees of freedom
    for p in powers:
        avg.update((10 * np.log10(p)).astype(np.float32), 1024 / 48000)
    latest = avg.latest
    assert latest is not None and latest.frames == 64 and latest.spec.kind == "lin"
    want = 10 * np.log10(powers.mean(axis=0))
    np.testing.assert_allclose(latest.db, want, atol=1e-3)
    mean_of_db = (10 * np.log10(powers)).mean()
    assert float(latest.db.mean()) - mean_of_db == pytest.approx(2.5, abs=0.3)
    avg.set_spec(AverageSpec("none"))
    avg.update(np.zeros(bins, np.float32), 1024 / 48000)
    assert avg.latest is None


def test_parse_app_average_and_cycle() -> None:
    assert parse_app_average("exp:0.5") == AverageSpec("exp", time_constant_s=0.5)
    assert parse_app_average("PEAK").kind == "peak"
    for bad in ("block", "exp:0", "lin:0", "mean"):
        with pytest.raises(ValueError):
            parse_app_average(bad)
    kinds = [s.describe() for s in average_cycle(parse_app_average("lin:4"))]
    assert kinds == ["none", "exp:1", "lin:4", "peak"]


# -- the app --------------------------------------------------------------------------------


def _plot_text(app) -> str:  # type: ignore[no-untyped-def]
    plot = app.query_one(Plot)
    return "\n".join(s.text for s in plot._current_rows())


@sync
async def test_m_shows_the_measurement_and_harmonic_markers() -> None:
    rig = make_rig(DISTORTED)
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(100)
        await pilot.pause()
        panel = app.query_one(MeasurePanel)
        assert not panel.display and "◂2" not in _plot_text(app)
        await pilot.press("M")
        rig.feed(60)
        await pilot.pause()
        assert panel.display and panel.region.height == 5
        got = panel_numbers(panel.text.plain)
        assert abs(got["freq"] - 1000.0) <= 0.002
        assert abs(got["level"] - -6.0) <= 0.02
        assert abs(got["thd_db"] - TRUE_THD_DB) <= 0.5, got
        assert abs(got["snr"] - TRUE_SNR_DB) <= 1.0, got
        assert "H dBc" in panel.text.plain and "2:-60.0" in panel.text.plain
        text = _plot_text(app)
        for label in ("◂1", "◂2", "◂3", "◂5"):
            assert label in text
        # the markers sit on the rows of 1, 2 and 3 kHz
        rows = text.splitlines()
        fmap = app.view.fmap
        for order in (1, 2, 3):
            y = len(rows) - 2 - int(fmap.pos_of(1000.0 * order)) // 2
            assert f"◂{order}" in rows[y], (order, rows[y])
        assert app.measuring.worker is not None
        await pilot.press("M")
        await pilot.pause()
        assert not panel.display and app.measuring.worker is None and not app.measuring.on
        assert "◂2" in _plot_text(app)  # the markers stay (on the display's peak) until H
        await pilot.press("H")
        rig.feed(2)
        await pilot.pause()
        assert "◂2" not in _plot_text(app) and not app.measuring.show_harmonics


@sync
async def test_h_marks_the_display_peak_in_both_orientations() -> None:
    rig = make_rig(DISTORTED)
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(60)
        await pilot.press("H")
        rig.feed(5)
        await pilot.pause()
        panel = app.query_one(Plot).spectrum
        assert isinstance(panel, MarkedSpectrumPanel)
        assert len(panel.marks) == 10 and abs(panel.marks[0] - 1000.0) < 5.0
        assert panel.marks[1] == pytest.approx(2 * panel.marks[0])
        await pilot.press("o")
        rig.feed(5)
        await pilot.pause()
        rows = _plot_text(app).splitlines()
        labels = rows[2]  # the spectrum's top row, under the two axis rows
        fmap = app.view.fmap
        for order in (1, 2, 3):
            x = 7 + int(fmap.pos_of(panel.marks[order - 1]))
            assert labels[x : x + 1] == str(order), (order, labels)


@sync
async def test_a_cycles_the_averaging_and_the_panel_draws_the_average() -> None:
    rig = make_rig("tone:1000@-6+noise@-40")
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(40)
        await pilot.pause()
        panel = app.query_one(Plot).spectrum
        assert isinstance(panel, MarkedSpectrumPanel)
        seen = []
        for _ in range(4):
            await pilot.press("A")
            rig.feed(40)
            await pilot.pause()
            seen.append(app.measuring.average_spec.describe())
            text = _plot_text(app)
            if app.measuring.average_spec.kind != "none":
                assert panel.mode == app.measuring.average_spec
                latest = app.measuring.averager.latest
                assert latest is not None and latest.spec == app.measuring.average_spec
                label = {"exp": "avg exp 1s", "lin": "avg lin 16", "peak": "avg peak"}
                assert label[app.measuring.average_spec.kind] in text
                # the bars are the averaged row, not the newest frame
                cells = app.view.height
                cur, _ = panel._values(cells)
                avg = app.view.fmap.map_row(latest.db)
                avg = avg[: avg.shape[0] // 2 * 2].reshape(-1, 2).max(axis=1)[:cells]
                np.testing.assert_array_equal(cur, avg)
                raw = app.view.db[0][: cells * 2].reshape(-1, 2).max(axis=1)
                assert not np.array_equal(cur, raw)
            else:
                assert "avg " not in text
        assert seen == ["exp:1", "lin:16", "peak", "none"]


@sync
async def test_averaging_smooths_the_noise_and_h_restarts_a_peak_hold() -> None:
    rig = make_rig("noise@-30", options=AppOptions(average=parse_app_average("exp:0.5")))
    app = rig.app
    assert [s.describe() for s in app.measuring.average_modes] == [
        "none",
        "exp:0.5",
        "lin:16",
        "peak",
    ]
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(200)
        await pilot.pause()
        latest = app.measuring.averager.latest
        assert latest is not None
        raw = app.view.db[0]
        avg = app.view.fmap.map_row(latest.db)
        # Over the log-spaced pixels white noise rises 3 dB/octave; compare the ripple of
        # neighbouring pixels: the average is much smoother than one frame.
        assert np.std(np.diff(avg[40:])) < 0.4 * np.std(np.diff(raw[40:]))
        await pilot.press("A")  # lin:16
        await pilot.press("A")  # peak
        rig.feed(50)
        latest = app.measuring.averager.latest
        assert latest is not None
        count = latest.frames
        assert count >= 50
        await pilot.press("h")
        rig.feed(3)
        latest = app.measuring.averager.latest
        assert latest is not None and latest.frames <= 4


@sync
async def test_calibrated_levels_show_in_the_unit() -> None:
    cfg = dataclasses.replace(Config(), measure=MeasureConfig(114.0, "dB SPL"))
    rig = make_rig("tone:1000@-20+noise@-100", cfg=cfg)
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(40)
        await pilot.press("M")
        rig.feed(40)
        await pilot.pause()
        text = rig.app.query_one(MeasurePanel).text.plain
        assert "-20.00 dBFS  = 94.00 dB SPL" in text
        noise = float(re.search(r"Noise (-[\d.]+) dBFS", text).group(1))  # type: ignore[union-attr]
        assert f"= {noise + 114.0:.2f} dB SPL" in text


@sync
async def test_m_without_a_ring_says_why() -> None:
    rig = make_rig(with_ring=False)  # as in 'livespec view', where the audio stays at the sender
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(10)
        await pilot.press("M")
        await pilot.pause()
        assert not rig.app.measuring.on
        assert any("audio itself" in n.message for n in rig.app._notifications)


@pytest.mark.parametrize("size", [(80, 24), (MIN_WIDTH, MIN_HEIGHT)])
@sync
async def test_measurement_view_fits_small_terminals(size: tuple[int, int]) -> None:
    rig = make_rig(DISTORTED)
    app = rig.app
    async with app.run_test(size=size) as pilot:
        rig.feed(60)
        await pilot.press("M")
        rig.feed(40)
        await pilot.pause()
        panel = app.query_one(MeasurePanel)
        assert panel.region.height == 5 and panel.region.width == size[0]
        lines = panel.text.plain.splitlines()
        assert all(len(line) <= 78 for line in lines), lines
        assert app.view.height > 0 and not app.screen.has_class("too-small")
        await pilot.press("o")
        rig.feed(5)
        await pilot.pause()
        assert app.view.height >= 0
        await pilot.press("M")
        await pilot.pause()
        assert not panel.display


def test_panel_text_without_a_result_or_a_tone() -> None:
    waiting = measure_text(None).plain
    assert "waiting for the first frame" in waiting and waiting.count("\n") == 4
    ring = RingBuffer(1 << 17, 1)
    worker = MeasureWorker(ring, FS)
    ring.write(np.zeros(40000, np.float32))  # digital silence: no tone in the band
    worker.process_available()
    result = worker.latest()
    assert result is not None and result.measurement is None
    text = measure_text(result).plain
    assert "no tone in the band" in text and text.count("\n") == 4
    assert "avg none (1 frame)" in text


@sync
async def test_a_failing_worker_closes_the_view_with_a_message() -> None:
    rig = make_rig()
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(40)
        await pilot.press("M")
        await pilot.pause()
        assert app.measuring.worker is not None
        app.measuring.worker.error = RuntimeError("disk on fire")
        app.measuring.poll()
        await pilot.pause()
        assert not app.measuring.on and app.measuring.worker is None
        assert not app.query_one(MeasurePanel).display
        assert any("disk on fire" in n.message for n in app._notifications)


@sync
async def test_live_app_runs_the_worker_thread_only_while_the_view_is_on() -> None:
    import threading

    rig = make_rig(DISTORTED, live=True)  # the screen tick (which polls) and the worker thread
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(60, tick=False)
        await pilot.pause()
        assert not any(t.name == "livespec-measure" for t in threading.enumerate())
        await pilot.press("M")
        worker = app.measuring.worker
        assert worker is not None and worker.running
        deadline = time.monotonic() + 20.0
        while app.measuring.result is None and time.monotonic() < deadline:
            rig.feed(4, tick=False)
            await pilot.pause(0.05)
        assert app.measuring.result is not None
        got = panel_numbers(app.query_one(MeasurePanel).text.plain)
        assert abs(got["thd_db"] - TRUE_THD_DB) <= 0.5
        await pilot.press("M")
        await pilot.pause()
        assert not worker.running and app.measuring.worker is None
        polled = app.measuring.polled_at
        deadline = time.monotonic() + 20.0
        while app.measuring.polled_at == polled and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert app.measuring.polled_at > polled  # the markers stay on: the tick still polls
        await pilot.press("H")
        await pilot.pause(0.1)
        polled = app.measuring.polled_at
        await pilot.pause(0.8)
        assert app.measuring.polled_at == polled  # nothing on: no polling


@sync
async def test_band_harmonics_and_weighting_options_reach_the_measurement() -> None:
    """``--harmonics 3 --band 100-5000 --weighting A``: the panel names the band and the
    weighting, lists harmonics 2 and 3 only, and THD (harmonics 2 and 3, A-weighted: the
    2nd at 2 kHz gains 1.2 dB, the 3rd at 3 kHz 1.2 dB over the 1 kHz fundamental's 0 dB)
    still matches the truth within 0.5 dB."""
    options = AppOptions(harmonics=3, band=(100.0, 5000.0), weighting="A")
    rig = make_rig(DISTORTED, options=options)
    app = rig.app
    async with app.run_test(size=(120, 40)) as pilot:
        rig.feed(20)
        await pilot.press("M")
        rig.feed(60)
        await pilot.pause()
        text = app.query_one(MeasurePanel).text.plain
        assert "band 100-5000 Hz A-weighted" in text
        assert "2:-58.8 3:-68.8" in text and "4:" not in text  # -60 and -70 dBc, A-weighted
        got = panel_numbers(text)
        a2, a3 = 1.2029, 1.2064  # IEC 61672 A at 2 and 3 kHz re 1 kHz (0 dB), dB
        true = 10 * np.log10(10 ** ((-60 + a2) / 10) + 10 ** ((-70 + a3) / 10))
        assert abs(got["thd_db"] - true) <= 0.5, (got, true)
