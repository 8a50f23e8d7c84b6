"""Harmonic detection in ``measure``: the noise at a clean tone's harmonic frequencies is no
harmonic (false-alarm rate over many seeds against the design), a real harmonic well above
the noise is detected and measured against its generation level, THD counts only the
detected harmonics while THD+N keeps all the power; docs/measure.md, "Harmonics"."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import soundfile as sf
from support.cli import measure_json
from test_measure_detect import _block, _noise

from livespec.audio.ringbuffer import RingBuffer
from livespec.dsp.detect import floor_fit, floor_fits
from livespec.dsp.measure import Measurer
from livespec.meter.live import MeasureWorker, parse_app_average
from livespec.tui.widgets.measure_panel import measure_text

FS = 48000


@pytest.mark.parametrize("color", ["white", "pink"])
def test_noise_at_the_harmonics_is_no_harmonic(color: str) -> None:
    # A clean 1 kHz tone 20 dB over the noise (4096-point FFT, 8 frames, 9 harmonic regions
    # of 17 bins searched): before the rule about 40 % of the harmonics were "present", at
    # random dBc, in every measurement. Measured: 7 of 1000 measurements (white and pink)
    # report any harmonic with the design at 10 %, none at 1 % nor at the default 0.1 %.
    m = Measurer(FS, 4096, backend="numpy", wisdom=False)
    rng = np.random.default_rng(21 if color == "white" else 22)
    t = np.arange(m.n + 7 * m.hop) / FS
    trials, hits_10, hits_default = 1000, 0, 0
    for _ in range(trials):
        tone = 0.1 * np.sin(2 * np.pi * 1000.0 * t + rng.uniform(0, 2 * np.pi))
        row, frames = _block(m, 0.01 * _noise(rng, t.size, color) + tone, 8)
        loose = m.measure(row, frames, pfa=0.1)
        r = m.measure(row, frames)
        assert loose is not None and r is not None and r.harmonics_used == 9
        hits_10 += any(h.level_dbc is not None for h in loose.harmonics)
        hits_default += any(h.level_dbc is not None for h in r.harmonics)
        if all(h.level_dbc is None for h in r.harmonics):
            assert r.thd_db == -math.inf and r.thd_percent == 0.0
    assert hits_10 / trials <= 0.1, hits_10
    assert hits_default == 0, hits_default


def test_a_real_second_harmonic_is_detected_and_measured() -> None:
    # 2nd harmonic at -60 dBc whose power is 20 dB over the noise power per bin (white noise
    # of variance s^2 puts 2 s^2 ENBW / (n/2) in each bin); 32 frames (6 s at 48 kHz). It is
    # detected for every seed, its level within 0.5 dB of the generation's -60 dBc (0.32 dB
    # max, 0.13 rms over 40 seeds; with 8 frames 0.64 max, 0.32 rms: the noise in its lobe),
    # THD is that harmonic alone, and harmonics 3..10 (noise only) are not reported.
    m = Measurer(FS, 32768, backend="numpy", wisdom=False)
    sigma = 1e-4
    floor = 2 * sigma**2 * m.enbw_bins / (m.n / 2)
    a2 = math.sqrt(floor * 10 ** (20.0 / 10))
    a1 = a2 * 1000.0
    rng = np.random.default_rng(7)
    t = np.arange(m.n + 31 * m.hop) / FS
    for _ in range(12):
        f0 = (rng.integers(100, 3000) + rng.uniform(0, 1)) * m.bin_hz
        x = a1 * np.sin(2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi))
        x += a2 * np.sin(2 * np.pi * 2 * f0 * t + rng.uniform(0, 2 * np.pi))
        row, frames = _block(m, x + sigma * rng.standard_normal(t.size), 32)
        r = m.measure(row, frames)
        assert r is not None and r.harmonics[0].order == 2
        h2 = r.harmonics[0].level_dbc
        assert h2 is not None and abs(h2 + 60.0) <= 0.5, (f0, h2)
        assert r.thd_db == pytest.approx(h2, abs=1e-9)
        assert [h.order for h in r.harmonics if h.level_dbc is not None] == [2], f0


def test_floor_fits_equal_the_single_fit() -> None:
    # The vectorised fits of the harmonic regions are detect.floor_fit's, region by region,
    # on a sloped (pink) row, with regions cut by the band's edges and one with too few
    # noise bins near it (the whole band's fit).
    rng = np.random.default_rng(3)
    k_lo, nb = 14, 3000
    k = np.arange(k_lo, k_lo + nb)
    Qb = rng.exponential(1.0, nb) / k
    is_noise = np.ones(nb, dtype=bool)
    is_noise[200:400] = False  # a wide non-noise stretch: region 3 has too few neighbours
    start = np.array([0, 100, 290, 1000, nb - 10])
    stop = np.minimum(start + 17, nb)
    at = start + 5
    floor, bins = floor_fits(Qb, is_noise, start, stop, at, k_lo, 32, 5.26, 3.67)
    for r in range(len(start)):
        lo, hi = max(start[r] - 32, 0), min(stop[r] + 32, nb)
        near = np.flatnonzero(is_noise[lo:hi]) + lo
        if len(near) < 32:
            near = np.flatnonzero(is_noise)
        want = floor_fit(near + k_lo, Qb[near], int(at[r]) + k_lo, 5.26, 3.67)
        assert floor[r] == pytest.approx(want[0], rel=1e-9)
        assert bins[r] == pytest.approx(want[1], rel=1e-9)


def test_cli_reports_no_harmonics_in_noise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The reproduction: a -40 dBFS tone in white noise (a test signal, and a WAV written
    # with numpy) listed noise at 2..10 kHz as harmonics at -51..-58 dBc. Now none is
    # reported, THD is null (no harmonic detected), and THD+N is the noise over the tone:
    # -SNR (the noise under the harmonics counts as noise).
    rng = np.random.default_rng(4)
    t = np.arange(3 * FS) / FS
    x = 0.01 * np.sin(2 * np.pi * 1000.0 * t) + 1e-3 * rng.standard_normal(t.size)
    path = tmp_path / "tone_in_noise.wav"
    sf.write(path, x, FS, subtype="FLOAT")
    for args in (("--input", "tone:1000@-40+noise@-60", "--duration", "3"), ("--input", str(path))):
        rows = measure_json(*args)
        assert len(rows) == 3
        for row in rows:
            assert row["freq_hz"] == pytest.approx(1000.0, abs=0.01)
            harmonics = row["harmonics"]
            assert isinstance(harmonics, list) and len(harmonics) == 9
            assert [h["level_dbc"] for h in harmonics] == [None] * 9, harmonics
            assert row["thd_db"] is None and row["thd_percent"] == 0.0
            assert row["thdn_db"] == pytest.approx(-row["snr_db"], abs=0.05)  # type: ignore[operator]


def test_the_app_panel_shows_noise_harmonics_as_not_detected() -> None:
    # The app's view (key M) of a -40 dBFS tone in noise 17.8 dB under it, averaged
    # (exp 1 s), as the measurement worker produces it: it listed noise as harmonics
    # ("2:-51.2 3:-57.3 ... 8:-55.2" beside "THD — dB"); now every harmonic reads "—".
    rng = np.random.default_rng(9)
    t = np.arange(4 * FS) / FS
    x = 0.01 * np.sin(2 * np.pi * 1000.0 * t) + 1e-3 * rng.standard_normal(t.size)
    ring = RingBuffer(1 << 18, 1)
    worker = MeasureWorker(ring, FS, average=parse_app_average("exp:1"))
    x32 = x.astype(np.float32)
    for i in range(0, x32.size, 1024):
        ring.write(x32[i : i + 1024])
        worker.process_available()
    result = worker.latest()
    assert result is not None and result.measurement is not None
    text = measure_text(result).plain
    line = next(s for s in text.splitlines() if s.startswith("H dBc"))
    assert line.split()[2:] == [f"{h}:—" for h in range(2, 11)], text
    assert re.search(r"THD\s+— dB", text), text
