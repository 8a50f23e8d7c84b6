"""Peaks at and near Nyquist and DC: the fit on the mirrored spectrum (docs/dsp.md).

The reference is arithmetic: a synthetic cosine's frequency is known exactly, and its level
is 20*log10(A) dBFS (at exactly Nyquist the samples are A*cos(phi)*(-1)^m, so A*|cos(phi)|).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livespec.dsp.block import SpectrumBlock
from livespec.dsp.peaks import PeakFinder
from livespec.dsp.peaks_run import find_run
from livespec.dsp.stft import Spectrum
from livespec.dsp.windows import WINDOW_NAMES, mainlobe_halfwidth

FS = 48000.0
OFFSETS = np.round(np.arange(0.0, 3.001, 0.1), 2)  # bins of n from the edge
PHASES = (0.0, 0.7, 1.9, 3.0, 4.4)
SIZES = [(4096, 1), (1001, 1), (256, 2), (64, 1)]  # (n, zero_pad); 1001: odd nfft
F_TOL = 0.01  # bins of n (the acceptance target; measured worst 0.0085, rect)
L_TOL = 0.01  # dB (measured worst 0.0045, rect)


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


def tone(n: int, cycles: float, phase: float, amp: float = 0.5) -> np.ndarray:
    m = np.arange(n)
    return (amp * np.cos(2 * np.pi * cycles * m / n + phase)).astype(np.float32)


def edge_errors(name: str, n: int, zp: int, side: str) -> tuple[float, float, int]:
    """Worst frequency (bins of n) and level (dB) errors over OFFSETS x PHASES, and how
    many tones were checked."""
    spec = Spectrum(n, name, zero_pad=zp, wisdom=False)
    finder = PeakFinder(spec, FS)
    lowest = math.ceil(mainlobe_halfwidth(name) * zp - 1e-9) / zp  # the DC lobe: not searched
    f_err = l_err = 0.0
    count = 0
    for off in OFFSETS:
        if side == "dc" and off < lowest:
            continue
        for phase in PHASES:
            cycles = n / 2 - off if side == "nyquist" else off
            amp = 0.5 * abs(math.cos(phase)) if off == 0.0 else 0.5
            if amp < 0.05:
                continue  # at exactly Nyquist a sine phase samples to (almost) nothing
            X = spec.compute(tone(n, cycles, phase))
            peaks = finder.find(X, spec.db())
            assert len(peaks) == 1, (name, n, zp, side, off, phase)
            p = peaks[0]
            f_err = max(f_err, abs(p.bin / zp - cycles))
            l_err = max(l_err, abs(p.level_dbfs - 20 * math.log10(amp)))
            assert p.freq_hz == pytest.approx(p.bin * FS / spec.nfft)
            count += 1
    return f_err, l_err, count


@pytest.mark.parametrize("n,zp", SIZES)
@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_tones_up_to_nyquist(name: str, n: int, zp: int) -> None:
    f_err, l_err, count = edge_errors(name, n, zp, "nyquist")
    assert count >= len(OFFSETS) * 4
    assert f_err <= F_TOL
    assert l_err <= L_TOL


@pytest.mark.parametrize("n,zp", SIZES)
@pytest.mark.parametrize("name", ["rect", "hann", "hamming", "blackman", "kaiser"])
def test_tones_near_dc_above_its_main_lobe(name: str, n: int, zp: int) -> None:
    # Bins below the main-lobe half-width are the DC lobe and are not searched; above it,
    # up to 3 bins from DC, the fit reaches past DC on the mirrored spectrum.
    f_err, l_err, count = edge_errors(name, n, zp, "dc")
    assert count > 0
    assert f_err <= F_TOL
    assert l_err <= L_TOL


def test_the_reported_cases() -> None:
    """48 kHz, n 4096, hann: a tone at Nyquist, 0.3 bin below it, and 29.3 Hz (2.5 bins)."""
    n = 4096
    spec = Spectrum(n, "hann", wisdom=False)
    finder = PeakFinder(spec, FS)
    m = np.arange(n)
    nyq = (0.5 * np.cos(np.pi * m)).astype(np.float32)
    cases = [
        (nyq, 24000.0),
        (tone(n, n / 2 - 0.3, 0.0), 24000.0 - 0.3 * FS / n),
        (tone(n, 29.3 * n / FS, 0.0), 29.3),
    ]
    for x, hz in cases:
        (p,) = finder.find(spec.compute(x), spec.db())
        assert abs(p.freq_hz - hz) < 0.001 * FS / n  # 0.001 bin
        assert abs(p.level_dbfs - 20 * math.log10(0.5)) < 0.001


@pytest.mark.parametrize("n", [4096, 1001])
def test_runs_agree_with_single_frames_at_nyquist(n: int) -> None:
    # The engine's path (find_run over a run of frames) gives what find() gives alone.
    spec = Spectrum(n, "hann", wisdom=False)
    finder = PeakFinder(spec, FS)
    offsets = [0.0, 0.3, 1.0, 2.6]
    block = SpectrumBlock(spec, n, len(offsets))  # hop n: the frames side by side
    frames = np.stack([tone(n, n / 2 - o, 0.4) for o in offsets], axis=1)
    result = block.compute(np.ascontiguousarray(frames.T.reshape(-1))[:, None])
    got = find_run(finder, result.X, result.db, block.x_gain)
    for j, o in enumerate(offsets):
        alone = finder.find(spec.compute(frames[:, j]), spec.db())
        assert len(got[j]) == len(alone) == 1
        assert got[j][0].freq_hz == pytest.approx(alone[0].freq_hz, abs=1e-6)
        assert got[j][0].level_dbfs == pytest.approx(alone[0].level_dbfs, abs=1e-6)
        assert abs(got[j][0].bin - (n / 2 - o)) < 0.001


def test_peaks_command_reads_a_nyquist_tone(tmp_path: Path) -> None:
    path = str(tmp_path / "nyq.wav")
    m = np.arange(48000)
    sf.write(path, 0.5 * np.cos(np.pi * m), 48000, subtype="FLOAT")
    out = subprocess.run(
        [sys.executable, "-m", "livespec", "peaks", "-i", path, "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert len(rows) > 10
    for row in rows:
        assert row["freq_hz"] == pytest.approx(24000.0, abs=0.01)
        assert row["level_dbfs"] == pytest.approx(-6.0206, abs=0.001)


@pytest.mark.parametrize("n,zp", [(64, 1), (256, 2), (1001, 1)])
@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_the_dc_lobes_skirt_is_no_peak(name: str, n: int, zp: int) -> None:
    # A tone in the DC lobe (not searched) left its sidelobes as the strongest "peaks"
    # (n 64, blackman-harris, 1 kHz: -100 dBFS at 6.2 kHz). Now every peak reported for a
    # tone anywhere in the lobe is that tone (its main lobe may reach a searched bin).
    spec = Spectrum(n, name, zero_pad=zp, wisdom=False)
    lobe = math.ceil(mainlobe_halfwidth(name) * zp - 1e-9) / zp  # bins of n
    phases = (0.0, 1.0, 2.0)
    block = SpectrumBlock(spec, n, len(phases))
    for max_peaks in (1, 3):
        finder = PeakFinder(spec, FS, max_peaks=max_peaks)
        for cycles in np.arange(0.0, lobe, 0.1):
            frames = np.stack([tone(n, cycles, ph) for ph in phases], axis=1)
            for j in range(len(phases)):
                for p in finder.find(spec.compute(frames[:, j]), spec.db()):
                    assert abs(p.bin / zp - cycles) < F_TOL, (cycles, j, p)
            result = block.compute(np.ascontiguousarray(frames.T.reshape(-1))[:, None])
            for j, peaks in enumerate(find_run(finder, result.X, result.db, block.x_gain)):
                assert all(abs(p.bin / zp - cycles) < F_TOL for p in peaks), (cycles, j)


@pytest.mark.parametrize("name", ["hann", "blackman-harris", "flattop", "kaiser"])
def test_a_tone_beside_one_in_the_dc_lobe_is_found(name: str) -> None:
    n = 64  # 750 Hz bins: 1 kHz is in every one of these windows' DC lobe
    spec = Spectrum(n, name, wisdom=False)
    x = tone(n, 1000.0 * n / FS, 0.3) + tone(n, 12000.0 * n / FS, 1.0, amp=1e-3)
    (p,) = PeakFinder(spec, FS, max_peaks=3).find(spec.compute(x), spec.db())
    assert p.freq_hz == pytest.approx(12000.0, abs=0.01 * FS / n)
    assert p.level_dbfs == pytest.approx(-60.0, abs=0.05)


def test_peaks_command_prints_no_peak_for_a_tone_in_the_dc_lobe() -> None:
    cmd = [sys.executable, "-m", "livespec", "peaks", "-i", "tone:1000", "--fft", "64"]
    cmd += ["-w", "blackman-harris", "--duration", "0.01"]
    rows = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=True).stdout
    parsed = [json.loads(line) for line in rows.splitlines()]
    assert len(parsed) > 5
    assert all(r["freq_hz"] is None and r["level_dbfs"] is None for r in parsed)
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    assert text and all("(no peak)" in line for line in text)


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_a_dc_offset_hides_no_weak_tone_beside_its_lobe(name: str) -> None:
    # A DC offset (f = 0) leaks nothing past its lobe: hum 40 dB below it, 10 bins from
    # DC, is the peak (the skirt test predicts the lobe's leakage, not a worst case).
    n = 4096
    spec = Spectrum(n, name, wisdom=False)
    finder = PeakFinder(spec, FS)
    x = np.float32(0.01) + tone(n, 10.0, 0.5, amp=1e-4)  # -40 and -80 dBFS
    (p,) = finder.find(spec.compute(x), spec.db())
    assert p.bin == pytest.approx(10.0, abs=0.01)
    assert p.level_dbfs == pytest.approx(-80.0, abs=0.05)


@pytest.mark.parametrize("name", ["rect", "hann", "blackman-harris", "flattop", "kaiser"])
def test_noisy_tones_near_nyquist_and_dc(name: str) -> None:
    """White noise 60 dB below the tone, random phases, n 4096: 0.01 bin / 0.1 dB from
    half a bin off the edge on (measured 8e-4 / 0.0042), 0.05 bin / 0.2 dB nearer (0.016 /
    0.041), where the tone and its image are not resolved."""
    n = 4096
    rng = np.random.default_rng(7)
    spec = Spectrum(n, name, wisdom=False)
    finder = PeakFinder(spec, FS)
    lowest = math.ceil(mainlobe_halfwidth(name) - 1e-9)
    m = np.arange(n)
    for off in OFFSETS:
        for side in ("nyquist", "dc"):
            if side == "dc" and off < lowest:
                continue
            cycles = n / 2 - off if side == "nyquist" else off
            for _ in range(4):
                phase = rng.uniform(0.0, 2 * np.pi)
                amp = 0.5 * abs(math.cos(phase)) if off == 0.0 else 0.5
                if amp < 0.05:
                    continue
                x = 0.5 * np.cos(2 * np.pi * cycles * m / n + phase)
                x += 0.5 / np.sqrt(2) * 1e-3 * rng.standard_normal(n)
                (p,) = finder.find(spec.compute(x.astype(np.float32)), spec.db())
                f_tol, l_tol = (0.01, 0.1) if off >= 0.5 else (0.05, 0.2)
                assert abs(p.bin - cycles) <= f_tol, (side, off, phase)
                assert abs(p.level_dbfs - 20 * math.log10(amp)) <= l_tol, (side, off, phase)


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_noise_at_the_edge_is_not_read_louder_than_it_is(name: str) -> None:
    # Near Nyquist a fit to noise can find a large amplitude whose two terms cancel (read
    # up to 66 dB above the bins); capped, it reads at most a few dB above the strongest
    # bin around it, as the fit does elsewhere (3.8 dB, rect).
    rng = np.random.default_rng(11)
    for n in (64, 1024):
        spec = Spectrum(n, name, wisdom=False)
        finder = PeakFinder(spec, FS)
        worst = -math.inf
        for _ in range(100):
            X = spec.compute((1e-3 * rng.standard_normal(n)).astype(np.float32))
            db = spec.db()
            for k0 in range(spec.bins - 4, spec.bins):
                _, level = finder.refine(X, db, k0)
                worst = max(worst, level - float(db[k0 - 3 :].max()))
        assert worst <= 6.0, (n, worst)
