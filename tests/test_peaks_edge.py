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


def test_peaks_command_reads_a_nyquist_tone(tmp_path: pytest.TempPathFactory) -> None:
    path = str(tmp_path / "nyq.wav")  # type: ignore[operator]
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
