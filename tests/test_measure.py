"""Tone measurements: THD, SNR, THD+N, SINAD and level on signals of known distortion and
noise, against the generation parameters, the realised noise, and a scipy.signal.welch
computation with a different window; and ``livespec measure`` end to end on FLOAT WAVs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from livespec.dsp.averaging import CumulativeAverager
from livespec.dsp.measure import Measurer, bh7_window, default_fft_size
from livespec.dsp.weighting import weighting_db, weighting_power

FS = 48000
BAND = (20.0, 20000.0)


@dataclass(frozen=True)
class Case:
    freq: float  # Hz
    dbfs: float  # fundamental's level (peak amplitude, dBFS)
    snr_db: float  # fundamental over the band's noise
    h2_dbc: float = -60.0
    h3_dbc: float = -70.0

    @property
    def thd_db(self) -> float:
        """True THD from the parameters, counting only harmonics inside the band."""
        p = sum(
            10.0 ** (dbc / 10.0)
            for h, dbc in ((2, self.h2_dbc), (3, self.h3_dbc))
            if h * self.freq <= BAND[1]
        )
        return 10.0 * math.log10(p)


def generate(case: Case, seconds: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(signal, noise alone): float64, the noise white with the RMS that gives case.snr_db
    over the band (white noise of variance s^2 has power 2 s^2 on the dBFS scale, spread
    evenly over 0..fs/2)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * FS)) / FS
    a = 10.0 ** (case.dbfs / 20.0)
    x = a * np.sin(2 * np.pi * case.freq * t + rng.uniform(0, 2 * np.pi))
    for h, dbc in ((2, case.h2_dbc), (3, case.h3_dbc)):
        if h * case.freq < FS / 2:
            x += (
                a * 10.0 ** (dbc / 20.0) * np.sin(2 * np.pi * h * case.freq * t + rng.uniform(0, 7))
            )
    band_fraction = (BAND[1] - BAND[0]) / (FS / 2)
    sigma = math.sqrt(a * a * 10.0 ** (-case.snr_db / 10.0) / (2.0 * band_fraction))
    noise = sigma * rng.standard_normal(t.size)
    return x + noise, noise


def realised_band_noise_dbfs(noise: np.ndarray) -> float:
    """The realised noise's power within the band (brick-wall, whole record), dBFS scale."""
    spec = np.fft.rfft(noise)
    f = np.fft.rfftfreq(noise.size, 1 / FS)
    sel = (f >= BAND[0]) & (f <= BAND[1])
    return 10.0 * math.log10(2.0 * 2.0 * np.sum(np.abs(spec[sel]) ** 2) / noise.size**2)


def measure(x: np.ndarray, **kw: object):  # type: ignore[no-untyped-def]
    m = Measurer(FS, backend="numpy", wisdom=False, **kw)  # type: ignore[arg-type]
    avg = CumulativeAverager(m.bins)
    x32 = x.astype(np.float32)  # as from the ring buffer
    for s in range(0, x32.size - m.n + 1, m.hop):
        out = avg.update(m.power(x32[s : s + m.n]))
    return m.measure(out)


def welch_reference(x: np.ndarray, f0: float) -> tuple[float, float]:
    """(THD dB, SNR dB) from scipy.signal.welch with a Kaiser (beta 20) window: tone
    powers are the PSD summed over +-10 bins, noise the rest of the band scaled up to the
    whole band. An independent implementation and window."""
    f, psd = scipy.signal.welch(
        x, FS, window=("kaiser", 20.0), nperseg=16384, noverlap=12288, scaling="density"
    )
    df = f[1] - f[0]
    band = (f >= BAND[0]) & (f <= BAND[1])
    tone = np.zeros_like(band)

    def power(fc: float) -> float:
        sel = np.abs(f - fc) <= 10 * df
        tone[sel] = True
        return float(np.sum(psd[sel]) * df)

    p1 = power(f0)
    harm = sum(power(h * f0) for h in range(2, 11) if h * f0 + 10 * df <= BAND[1])
    rest = band & ~tone
    noise = float(np.mean(psd[rest])) * np.count_nonzero(band) * df
    return 10 * math.log10(harm / p1), 10 * math.log10(p1 / noise)


CASES = [
    Case(f, dbfs, snr)
    for f in (100.0, 1000.0, 6000.0, 997.3)
    for dbfs, snr in ((-1.0, 90.0), (-20.0, 75.0), (-40.0, 60.0))
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.freq:g}Hz{c.dbfs:g}dB-snr{c.snr_db:g}")
def test_thd_and_snr_match_the_generation_parameters(case: Case) -> None:
    x, noise = generate(case)
    r = measure(x)
    assert r is not None
    assert abs(r.thd_db - case.thd_db) <= 0.5, (r.thd_db, case.thd_db)
    assert abs(r.snr_db - case.snr_db) <= 1.0, (r.snr_db, case.snr_db)
    # Tighter, against the noise actually drawn: the figures are better than the targets.
    realised_snr = case.dbfs - realised_band_noise_dbfs(noise)
    assert abs(r.snr_db - realised_snr) <= 0.3, (r.snr_db, realised_snr)
    assert abs(r.thd_db - case.thd_db) <= 0.1
    assert abs(r.level_dbfs - case.dbfs) <= 0.01
    assert abs(r.freq_hz - case.freq) <= 1e-3
    # THD+N and SINAD from the same parts: distortion plus noise.
    thdn = 10 * math.log10(10 ** (case.thd_db / 10) + 10 ** (-case.snr_db / 10))
    assert abs(r.thdn_db - thdn) <= 0.3
    assert r.sinad_db == pytest.approx(
        -10 * math.log10(10 ** (r.thdn_db / 10) / (1 + 10 ** (r.thdn_db / 10)))
    )
    assert r.thd_percent == pytest.approx(100 * 10 ** (r.thd_db / 20))
    assert r.noise_dbfs == pytest.approx(r.level_dbfs - r.snr_db)
    expected_used = sum(1 for h in range(2, 11) if h * case.freq + 8 * FS / 32768 <= BAND[1])
    assert r.harmonics_used == expected_used
    assert abs(r.harmonics[0].level_dbc - case.h2_dbc) <= 0.2  # type: ignore[operator]


@pytest.mark.parametrize("case", CASES[::2], ids=lambda c: f"{c.freq:g}Hz{c.dbfs:g}dB")
def test_agrees_with_a_scipy_welch_computation(case: Case) -> None:
    x, _ = generate(case, seconds=3.0, seed=7)
    r = measure(x)
    assert r is not None
    thd_ref, snr_ref = welch_reference(x, case.freq)
    assert abs(r.thd_db - thd_ref) <= 0.3, (r.thd_db, thd_ref)
    assert abs(r.snr_db - snr_ref) <= 0.5, (r.snr_db, snr_ref)


def test_tone_between_bins_and_near_the_band_edge() -> None:
    case = Case(15012.3, -6.0, 85.0)  # H2 above the band: no harmonic is counted
    x, _ = generate(case, seed=2)
    r = measure(x)
    assert r is not None and r.harmonics_used == 0
    assert r.thd_db == -math.inf and r.thd_percent == 0.0
    assert abs(r.snr_db - case.snr_db) <= 1.0
    assert abs(r.freq_hz - case.freq) <= 1e-3


@pytest.mark.parametrize(
    ("freq", "band"),
    [
        (1000.0, (1000.0, 2000.0)),  # at the low edge: half the lobe below the band
        (1000.0, (500.0, 1000.0)),  # at the high edge
        (1001.1, (1000.0, 3000.0)),  # just inside, between bins
        (20.0, (20.0, 20000.0)),  # the default band's edge, next to the DC region
    ],
)
def test_a_tone_at_a_band_edge_is_measured_whole(freq: float, band: tuple[float, float]) -> None:
    t = np.arange(FS * 3) / FS
    x = 10 ** (-6.0 / 20) * np.sin(2 * np.pi * freq * t)  # -6.00 dBFS exactly
    r = measure(x, band=band)
    assert r is not None
    assert abs(r.freq_hz - freq) <= 1e-3, r.freq_hz  # was 1001.108 Hz at the low edge
    assert abs(r.level_dbfs - -6.0) <= 0.01, r.level_dbfs  # was -9 dBFS (half a lobe)
    assert r.thdn_db < -100.0, r.thdn_db  # the lobe's other half is no distortion


def test_band_limits_the_harmonics_and_the_noise() -> None:
    case = Case(1000.0, -1.0, 80.0)
    x, _ = generate(case, seed=3)
    r = measure(x, band=(20.0, 5500.0))
    assert r is not None and r.harmonics_used == 4  # 2, 3, 4 and 5 kHz
    # White noise: a quarter of the bandwidth, a quarter of the power (+6 dB SNR).
    assert abs(r.snr_db - (case.snr_db + 10 * math.log10(19980 / 5480))) <= 0.5


def test_a_weighting_applies_to_harmonics_and_noise_not_the_fundamental() -> None:
    case = Case(1000.0, -10.0, 80.0, h2_dbc=-60.0, h3_dbc=-70.0)
    x, _ = generate(case, seed=4)
    z, a = measure(x), measure(x, weighting="A")
    assert z is not None and a is not None
    assert a.level_dbfs == pytest.approx(z.level_dbfs)
    for h, dbc in ((0, -60.0), (1, -70.0)):
        want = dbc + float(weighting_db("A", (h + 2) * 1000.0))
        assert abs(a.harmonics[h].level_dbc - want) <= 0.1  # type: ignore[operator]
    # White noise through A: the mean power gain over the band.
    f = np.arange(14, 13654) * FS / 32768
    gain_db = 10 * math.log10(float(np.mean(weighting_power("A", f))))
    assert abs((a.noise_dbfs - z.noise_dbfs) - gain_db) <= 0.2
    assert a.weighting == "A"


def test_window_figures_and_default_fft() -> None:
    w = bh7_window(32768)
    assert abs(w.max() - 1.0) < 1e-12 and abs(w[0]) < 1e-7
    enbw = w.size * np.sum(w * w) / np.sum(w) ** 2
    assert enbw == pytest.approx(2.6319, abs=1e-4)
    # Sidelobes: a bin-centred tone leaks less than -170 dB beyond +-8 bins.
    m = np.arange(32768)
    p = np.abs(np.fft.rfft(w * np.cos(2 * np.pi * 1000.5 * m / 32768))) ** 2
    p /= p.max()
    far = np.concatenate((p[: 1000 - 8], p[1001 + 9 :]))
    assert 10 * np.log10(far.max()) < -170
    assert default_fft_size(48000) == 32768
    assert default_fft_size(44100) == 32768
    assert default_fft_size(96000) == 65536


def test_silence_gives_none_and_bad_arguments_are_refused() -> None:
    m = Measurer(FS, 4096, backend="numpy", wisdom=False)
    assert m.measure(np.zeros(m.bins)) is None
    with pytest.raises(ValueError, match="too narrow"):
        Measurer(FS, 4096, band=(1000.0, 1100.0), backend="numpy", wisdom=False)
    with pytest.raises(ValueError, match="even integer"):
        Measurer(FS, 1001, backend="numpy", wisdom=False)
    with pytest.raises(ValueError, match="harmonics"):
        Measurer(FS, harmonics=1, backend="numpy", wisdom=False)


def test_measure_modules_import_no_scipy_or_textual() -> None:
    code = (
        "import sys\n"
        "import livespec.cli.measure, livespec.dsp.measure, livespec.dsp.averaging, "
        "livespec.dsp.weighting\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'sounddevice', 'scipy')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the command line ------------------------------------------------------------------


def run_measure(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m livespec measure ARGS``."""
    cmd = ["-m", "livespec", "measure"]
    return subprocess.run(
        [sys.executable, *cmd, *args], capture_output=True, text=True, timeout=120, check=False
    )


CLI_CASES = [Case(1000.0, -1.0, 90.0), Case(100.0, -20.0, 75.0), Case(6000.0, -40.0, 60.0)]


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: f"{c.freq:g}Hz{c.dbfs:g}dB")
def test_cli_json_on_a_float_wav(tmp_path, case: Case) -> None:
    x, _ = generate(case, seconds=3.0, seed=11)
    path = tmp_path / "tone.wav"
    sf.write(path, x, FS, subtype="FLOAT")
    done = run_measure("--input", str(path), "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 3  # results at 1.02, 2.05 s and the rest at the end (2.90 s)
    for r in rows:
        for key in ("freq_hz", "level_dbfs", "thd_db", "thd_percent", "thdn_db", "snr_db"):
            assert isinstance(r[key], float), key
        assert abs(r["thd_db"] - case.thd_db) <= 0.5, r
        assert abs(r["snr_db"] - case.snr_db) <= 1.0, r
        assert abs(r["level_dbfs"] - case.dbfs) <= 0.02
        assert r["sinad_db"] == pytest.approx(-r["thdn_db"], abs=0.01)
        assert r["band_hz"] == [20.0, 20000.0]
        assert r["fft"] == 32768 and r["window"] == "blackman-harris-7"
    assert [r["frames"] for r in rows] == [3, 6, 5]
    assert rows[-1]["t"] == pytest.approx((13 * 8192 + 32768) / FS)  # the last frame's end


def test_cli_whole_file_calibration_weighting_and_text(tmp_path) -> None:
    case = Case(1000.0, -20.0, 80.0)
    x, _ = generate(case, seconds=2.0, seed=12)
    path = tmp_path / "tone.wav"
    sf.write(path, x, FS, subtype="FLOAT")
    done = run_measure(
        "--input", str(path), "--json", "--interval", "0", "--calibrate", "114", "dB SPL",
        "--weighting", "a", "--harmonics", "3", "--band", "20-12000", "--average", "exp:0.5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (r,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert r["unit"] == "dB SPL"
    assert r["level"] == pytest.approx(r["level_dbfs"] + 114.0)
    assert r["noise"] == pytest.approx(r["noise_dbfs"] + 114.0)
    assert r["weighting"] == "A" and r["harmonics_used"] == 2 and r["average"] == "exp:0.5"
    assert r["band_hz"] == [20.0, 12000.0]
    text = run_measure("--input", str(path), "--interval", "0")
    assert text.returncode == 0, text.stderr
    head, line = text.stdout.splitlines()
    assert head.startswith("# band 20-20000 Hz") and "blackman-harris-7" in head
    assert "1000.000 Hz" in line and "THD" in line and "SNR" in line


def test_cli_text_line_gives_level_and_noise_in_the_calibrated_unit(tmp_path) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, generate(Case(1000.0, -20.0, 80.0), seconds=1.0)[0], FS, subtype="FLOAT")
    args = ["--input", str(path), "--interval", "0", "--calibrate", "114", "dB SPL"]
    (rec,) = [json.loads(x) for x in run_measure(*args, "--json").stdout.splitlines()]
    line = run_measure(*args).stdout.splitlines()[-1]
    assert f"{rec['level_dbfs']:.2f} dBFS  {rec['level_dbfs'] + 114:7.2f} dB SPL" in line, line
    assert f"noise {rec['noise_dbfs']:.2f} dBFS  {rec['noise_dbfs'] + 114:7.2f} dB SPL" in line


def test_cli_json_of_silence_has_every_key(tmp_path) -> None:
    """No tone: the same keys as with one (docs/measure.md), the figures null."""
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(FS), FS, subtype="PCM_16")
    tone = tmp_path / "tone.wav"
    sf.write(tone, generate(Case(1000.0, -6.0, 80.0), seconds=1.0)[0], FS, subtype="FLOAT")
    args = ["--json", "--interval", "0", "--band", "30-9000", "--weighting", "A"]
    (quiet,) = [json.loads(x) for x in run_measure("--input", str(path), *args).stdout.splitlines()]
    (loud,) = [json.loads(x) for x in run_measure("--input", str(tone), *args).stdout.splitlines()]
    assert list(quiet) == list(loud)
    assert quiet["freq_hz"] is None and quiet["thdn_percent"] is None
    assert quiet["total_dbfs"] is None and quiet["noise_density_dbfs_hz"] is None
    assert quiet["band_hz"] == loud["band_hz"] == [30.0, 9000.0]
    assert quiet["weighting"] == "A" and quiet["harmonics_requested"] == 10
    assert (quiet["harmonics_used"], quiet["harmonics"]) == (0, [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--average", "exp:0"], "--average"),
        (["--band", "5000-100"], "--band"),
        (["--harmonics", "1"], "--harmonics"),
        (["--fft", "1001"], "--fft"),
        (["--calibrate", "x", "dBV"], "--calibrate"),
        (["--duration", "0.5"], "shorter than one measurement frame"),
        (["--duration", "inf"], "--duration inf: must be finite"),
        (["--duration", "1e308"], "--duration 1e+308: must be at most 1e+09 seconds"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, args: list[str], message: str) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, generate(Case(1000.0, -6.0, 80.0), seconds=1.0)[0], FS, subtype="FLOAT")
    done = run_measure("--input", str(path), *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_cli_live_path_on_a_paced_test_signal() -> None:
    """--realtime takes the real-time path (producer thread, polling main thread)."""
    done = run_measure(
        "--input", "tone:1000@-6+noise@-100", "--duration", "1.2", "--realtime", "--json",
        "--interval", "0.5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    # Frames end at 0.68, 0.85, 1.02 and 1.19 s: results at 0.68 (past 0.5), 1.02 (past
    # 1.0) and the rest at the end.
    assert [r["frames"] for r in rows] == [1, 2, 1]
    # noise@-100 is -100 dBFS RMS: -96.99 on the sine scale, 20 Hz-20 kHz of 0-24 kHz of it.
    want_noise = -100 + 10 * math.log10(2) + 10 * math.log10(19980 / 24000)
    for r in rows:
        assert abs(r["level_dbfs"] + 6.0) < 0.01
        assert abs(r["noise_dbfs"] - want_noise) < 1.0


@pytest.mark.parametrize("fmt", [[], ["--json"]], ids=["text", "json"])
def test_stdout_on_a_full_disk_is_one_line_and_status_1(tmp_path, fmt) -> None:
    """``livespec measure > /dev/full`` ended in a traceback (the header line's write);
    docs/cli.md: a full disk is status 1, every error one line."""
    path = tmp_path / "tone.wav"
    sf.write(path, 0.5 * np.sin(2 * np.pi * 1000 * np.arange(FS) / FS), FS)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "livespec", "measure", "--input", str(path), *fmt],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("livespec: ") and "No space left on device" in line, line


def _averaged(m: Measurer, x: np.ndarray) -> np.ndarray:
    frames = [m.power(x[i : i + m.n].astype(np.float32)).copy() for i in (0, m.hop, 2 * m.hop)]
    return np.mean(frames, axis=0)


@pytest.mark.parametrize(
    "what,x",
    [
        ("DC only", np.full(60000, 0.5)),
        ("a 5 Hz tone, in the DC region", 0.5 * np.cos(2 * np.pi * 5.0 * np.arange(60000) / FS)),
        ("a tone at Nyquist, above the band", 0.5 * np.cos(np.pi * np.arange(60000))),
        ("23996.5 Hz, above the band", 0.5 * np.cos(2 * np.pi * 23996.5 * np.arange(60000) / FS)),
    ],
)
def test_no_tone_when_the_band_holds_only_residue_or_leakage(what: str, x: np.ndarray) -> None:
    # The band's strongest bin is float rounding (-323 dBFS for DC only) or float32 noise
    # under the leakage of what lies outside it: no tone (it read -323 and -188 dBFS).
    m = Measurer(FS, 32768, backend="numpy", wisdom=False)
    assert m.measure(_averaged(m, x)) is None, what


def test_a_weak_tone_next_to_a_loud_dc_offset_is_still_measured() -> None:
    m = Measurer(FS, 32768, backend="numpy", wisdom=False)
    t = np.arange(60000)
    x = 0.5 + 1e-6 * np.cos(2 * np.pi * 1000.3 * t / FS)  # -120 dBFS next to -6 dBFS DC
    r = m.measure(_averaged(m, x))
    assert r is not None
    assert r.freq_hz == pytest.approx(1000.3, abs=0.01)
    assert r.level_dbfs == pytest.approx(-120.0, abs=0.05)


def test_cli_reports_no_tone_on_a_dc_only_file(tmp_path) -> None:
    path = tmp_path / "dc.wav"
    sf.write(path, np.full(48000, 0.5), FS, subtype="FLOAT")
    done = run_measure("--input", str(path), "--json", "--interval", "0")
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["freq_hz"] is None and row["level_dbfs"] is None
    text = run_measure("--input", str(path), "--interval", "0")
    assert text.stdout.splitlines()[-1].endswith("(no tone)")


def test_ctrl_c_on_a_live_source_reports_what_was_measured(monkeypatch, capsys) -> None:
    """Ctrl-C is how a live measurement ends (no --duration): the frames since the last
    result are reported, then status 130 (as `record` keeps the take up to the signal)."""
    import livespec.cli.measure as cli_measure
    from livespec.cli import main

    frames = {"n": 0}
    real_frame = cli_measure._Reporter.frame

    def counting_frame(self, power, t_end):  # type: ignore[no-untyped-def]
        frames["n"] += 1
        real_frame(self, power, t_end)

    def sleep(_s: float) -> None:  # the live loop's wait: Ctrl-C once two frames are in
        if frames["n"] >= 2:
            raise KeyboardInterrupt
        real_sleep(0.01)

    real_sleep = time.sleep
    monkeypatch.setattr(cli_measure._Reporter, "frame", counting_frame)
    monkeypatch.setattr(cli_measure, "time", SimpleNamespace(sleep=sleep))  # this loop's only
    status = main(["measure", "--input", "tone:1000@-6", "--interval", "0", "--json"])
    monkeypatch.undo()
    assert status == 130
    (rec,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rec["frames"] >= 2 and rec["freq_hz"] == pytest.approx(1000.0, abs=1e-3)
    assert rec["level_dbfs"] == pytest.approx(-6.0, abs=0.01)  # tone:1000@-6
