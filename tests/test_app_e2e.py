"""End-to-end: the real ``livespec`` in a tmux terminal, read back from the screen.

* the virtual input device plays 1000 Hz: the readout shows 1000.0 Hz, the waterfall is
  filled with many colours, the colour bar and the frequency axis are labelled, and ``q``
  exits with status 0 and the terminal restored;
* raw PCM piped on stdin while the keys come from the terminal (``cat file | livespec
  --input -``);
* no input device at all: ``livespec`` falls back to the demo signal with a notice;
* the plot written directly to the terminal looks exactly as Textual's own repaint.

Nothing here asserts on timing: the waits are generous deadlines for a loaded machine.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import signal
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from support.tmux import DEADLINE_S, Tmux
from support.tmux import livespec_command as _livespec


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path, "livespec")
    yield t
    t.kill()


def _colours(screen_with_escapes: str) -> int:
    """Distinct colours in a captured screen: truecolor, 256-colour and 16-colour codes."""
    found: set[str] = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", screen_with_escapes):
        codes = params.split(";")
        i = 0
        while i < len(codes):
            c = codes[i]
            if c in ("38", "48") and i + 1 < len(codes):
                n = 3 if codes[i + 1] == "5" else 5
                found.add(";".join(codes[i + 1 : i + n]))
                i += n
                continue
            if c.isdigit() and (30 <= int(c) <= 37 or 40 <= int(c) <= 47 or 90 <= int(c) <= 107):
                found.add(str(int(c) % 10 + (8 if int(c) >= 90 else 0)))
            i += 1
    return len(found)


def _assert_restored(tmux: Tmux) -> None:
    assert tmux.tmux("display", "-p", "-t", tmux.name, "#{alternate_on}").strip() == "0"
    assert tmux.tmux("display", "-p", "-t", tmux.name, "#{cursor_flag}").strip() == "1"
    assert "▀" not in tmux.screen()


@pytest.mark.virtual_audio
def test_device_tone_shows_1000_hz_and_q_exits(virtual_audio, tmux: Tmux) -> None:
    tmux.start(_livespec("--device", "pulse"), virtual_audio.env, (120, 40))
    screen = tmux.wait_for(r"Peak +1000\.0 Hz")
    readout = screen.splitlines()[0]
    assert re.search(r"1000\.0 Hz +-\d+\.\d dBFS +B5 [+-]\d+¢", readout), readout
    tmux.wait_for(r"(?m)─ -120\s*$")  # colour bar labels
    tmux.wait_for(r"(?m)─ 0\s*$")
    tmux.wait_for(r"(?m)^ +1k[┤◀]")  # frequency axis (◀: the peak)
    tmux.wait_for(r"(?m)^ +10k┤")
    tmux.wait_for(r"(?m)^ +Hz .*-1s .* 0s +dBFS")  # time scale
    tmux.wait_for(r"device 'pulse'.* overflows 0")  # the status line
    assert _colours(tmux.screen(escapes=True)) >= 20  # a filled, many-coloured waterfall
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


@pytest.mark.virtual_audio
def test_plain_livespec_opens_the_default_input_device(virtual_audio, tmux: Tmux) -> None:
    """No --device: PortAudio finds the virtual device (the default input), and the app
    opens it, not the demo."""
    tmux.start(_livespec(), virtual_audio.env, (120, 40))
    tmux.wait_for(r"Peak +1000\.0 Hz")
    screen = tmux.wait_for(r"device '.*' \(ALSA")  # the status line
    assert "No audio input" not in screen and "demo" not in screen
    tmux.keys("q")
    assert tmux.wait_exit() == 0


def _tone_file(path: Path, seconds: float = 30.0, freq: float = 1000.0) -> None:
    fs = 48000
    n = int(seconds * fs)
    amp = 0.5 * 32767
    data = struct.pack(
        f"<{n}h", *(round(amp * math.sin(2 * math.pi * freq * i / fs)) for i in range(n))
    )
    path.write_bytes(data)


def test_stdin_pcm_with_keys_from_the_terminal(tmp_path: Path, tmux: Tmux) -> None:
    raw = tmp_path / "tone.raw"
    _tone_file(raw)
    cmd = f"cat {shlex.quote(str(raw))} | " + _livespec("--input", "-", "--format", "s16le")
    tmux.start(cmd, {}, (100, 30))
    tmux.wait_for(r"Peak +1000\.0 Hz")
    assert "stdin (s16le, 1 ch)" in tmux.screen()
    tmux.keys("w")  # keys reach the app although stdin is the pipe
    tmux.wait_for(r"FFT 4096 hamming")
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


@pytest.mark.parametrize("kind", ["app", "browser"])
def test_keys_come_from_the_terminal_when_stdin_is_not_one(
    tmp_path: Path, tmux: Tmux, kind: str
) -> None:
    """``livespec < /dev/null`` (stdin closed or redirected by a script): the keys come
    from the terminal, as with ``--input -``. Before, the app and the file browser ran on
    the screen with no key reaching them (``q`` ignored, a cursor report echoed as
    ``^[[1;2R``): only Ctrl-C ended them."""
    import soundfile as sf

    if kind == "app":
        cmd, ready = _livespec("--input", "tone:1000"), r"Peak +1000\.0 Hz"
    else:
        wav = tmp_path / "take.wav"
        sf.write(wav, np.zeros(16000, np.float32), 16000)
        cmd, ready = _livespec(str(wav), "--no-audio"), r"take\.wav  16000 Hz"
    tmux.start(f"{cmd} </dev/null", {}, (100, 30))
    tmux.wait_for(ready)
    tmux.keys("?")  # the help screen: a key reached the app
    tmux.wait_for(r"livespec keys")
    assert "^[" not in tmux.screen()
    tmux.keys("Escape")
    deadline = time.monotonic() + DEADLINE_S
    while "livespec keys" in tmux.screen():  # closed (a q sent with it would be alt+q)
        assert time.monotonic() < deadline
        time.sleep(0.2)
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


def test_no_input_device_falls_back_to_demo(tmp_path: Path, tmux: Tmux) -> None:
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-server"}  # no sound card here either
    tmux.start(_livespec(), env, (100, 30))
    tmux.wait_for(r"No audio input")  # the notice
    tmux.wait_for(r"test signal 'demo'")  # the status line
    tmux.wait_for(r"Peak +\d+\.\d Hz")  # and it is analysing
    tmux.keys("q")
    assert tmux.wait_exit() == 0


@pytest.mark.parametrize("colors", ["truecolor", "256", "16"])
@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_direct_drawing_shows_what_textual_would(
    tmp_path: Path, tmux: Tmux, orientation: str, colors: str
) -> None:
    """The plot's rows go straight to the terminal (changed pieces only; the vertical
    waterfall scrolled by the terminal, the horizontal one shifted by it with ICH/DCH), in
    every colour depth. When the input ends, the screen is captured; then the help screen
    is opened and closed, so that Textual repaints everything itself; the two screens must
    be identical, colours included, and the log must show that the updates were written
    directly."""
    import soundfile as sf

    fs = 48000
    t = np.arange(int(fs * 3.0)) / fs
    sweep = 0.5 * np.sin(2 * np.pi * (200 * t + 1500 * t**2))  # 200 Hz .. 9.2 kHz
    wav = tmp_path / "sweep.wav"
    sf.write(wav, (sweep + 0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), fs)
    log = tmp_path / "frames.txt"
    env = {"LIVESPEC_FRAME_LOG": str(log)}
    args = ["--input", str(wav), "--orientation", orientation, "--colors", colors]
    tmux.start(_livespec(*args), env, (120, 40))
    tmux.wait_for(r"END OF INPUT")
    # the last frames drawn: wait until the screen above the status line stands still
    deadline = time.monotonic() + DEADLINE_S
    direct = ""
    while True:
        time.sleep(0.5)
        now = tmux.screen(escapes=True)
        if now.splitlines()[:38] == direct.splitlines()[:38]:
            break
        assert time.monotonic() < deadline, "the screen never settled"
        direct = now
    tmux.keys("?")
    tmux.wait_for(r"Help")
    tmux.keys("Escape")
    deadline = time.monotonic() + DEADLINE_S
    while "Hide cursor" in tmux.screen():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.0)
    repainted = tmux.screen(escapes=True)
    assert _colours(direct) > {"truecolor": 50, "256": 10, "16": 4}[colors]
    # everything above the status line (whose frame rate falls to 0 meanwhile)
    assert direct.splitlines()[:38] == repainted.splitlines()[:38]
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    kinds = np.loadtxt(log, ndmin=2)[:, 1]
    assert kinds.size > 10 and kinds.mean() > 0.9  # nearly every update went directly


@pytest.mark.virtual_audio
def test_device_measurement_view_reads_the_tone(virtual_audio, tmux: Tmux) -> None:
    """M on the virtual device's 1000 Hz sine (float32, peak 0.5): the panel shows the
    frequency, the level (-6.02 dBFS), and THD and SNR lines; A and H work; M hides it."""
    cmd = _livespec("--device", "pulse", "--samplerate", "48000", "--average", "exp:1")
    tmux.start(cmd, virtual_audio.env, (120, 40))
    tmux.wait_for(r"Peak +1000\.0 Hz")
    tmux.keys("M")
    screen = tmux.wait_for(r"(?m)^ *SNR +\d+\.\d\d dB +SINAD")
    tone = re.search(r"Tone +(\d+\.\d{3}) Hz +(-\d+\.\d\d) dBFS", screen)
    assert tone is not None, screen
    assert abs(float(tone.group(1)) - 1000.0) <= 0.01
    assert abs(float(tone.group(2)) - -6.02) <= 0.05
    thd = re.search(r"(?m)^ *THD +(-\d+\.\d\d) dB +(\d+\.\d{4}) %", screen)
    snr = re.search(r"(?m)^ *SNR +(\d+\.\d\d) dB", screen)
    assert thd is not None and snr is not None, screen
    # A float32 sine: distortion and noise are float32 rounding, far below any analyzer.
    assert float(thd.group(1)) < -120.0 and float(snr.group(1)) > 120.0, screen
    assert re.search(r"avg exp τ=1s \(\d+ frames?\) · FFT 32768 BH7 1\.46 Hz", screen), screen
    tmux.wait_for(r"◂1")  # the fundamental's marker on the spectrum panel
    tmux.wait_for(r"◂2")
    tmux.wait_for(r"avg exp 1s")
    tmux.keys("A")  # exp -> lin
    tmux.wait_for(r"avg lin 16 frames \(\d+ frames?\)")
    tmux.keys("M")
    deadline = time.monotonic() + DEADLINE_S
    while "SINAD" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert "SINAD" not in tmux.screen()
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)


def _distorted_wav(path: Path, fs: int = 48000, seconds: float = 2.0) -> tuple[float, float]:
    """A 16-bit WAV that loops seamlessly: 1 kHz at -6 dBFS with its 2nd harmonic at
    -60 dBc and 3rd at -70 dBc, plus white noise of RMS -80 dBFS (which also dithers the
    16-bit rounding). Returns the true (THD dB, SNR dB in 20 Hz..20 kHz) of the samples as
    written: THD from the parameters, SNR from the FFT of what is left after subtracting
    the exact tones (noise and rounding) -- without livespec's Measurer."""
    import wave

    import numpy as np

    n = round(seconds * fs)  # whole periods of every tone: the loop has no seam
    t = np.arange(n) / fs
    a = 10 ** (-6 / 20)
    tones = a * np.sin(2 * np.pi * 1000 * t)
    tones += a * 10 ** (-60 / 20) * np.sin(2 * np.pi * 2000 * t + 1.0)
    tones += a * 10 ** (-70 / 20) * np.sin(2 * np.pi * 3000 * t + 2.0)
    noise = 10 ** (-80 / 20) * np.random.default_rng(3).standard_normal(n)
    pcm = np.round((tones + noise) * 32768).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(fs)
        w.writeframes(pcm.tobytes())
    rest = pcm / 32768 - tones
    spec = np.fft.rfft(rest)
    f = np.fft.rfftfreq(n, 1 / fs)
    band = (f >= 20) & (f <= 20000)
    noise_power = 4 * np.sum(np.abs(spec[band]) ** 2) / n**2  # dBFS scale: sine A -> A^2
    thd = 10 * math.log10(10 ** (-60 / 10) + 10 ** (-70 / 10))
    return thd, 10 * math.log10(a * a / noise_power)


@pytest.mark.virtual_audio
def test_device_measurement_of_a_known_distortion(tmp_path: Path, tmux: Tmux) -> None:
    """A private virtual device loops a WAV of known THD and SNR; the measurement view
    must read both within 0.5 dB (THD) and 1 dB (SNR) from the screen."""
    from support.virtual_audio import VirtualAudio

    wav = tmp_path / "distorted.wav"
    true_thd, true_snr = _distorted_wav(wav)
    va = VirtualAudio(tmp_path / "va", rate=48000, wav=wav)
    va.start()
    try:
        cmd = _livespec("--device", "pulse", "--samplerate", "48000", "--average", "lin:16")
        tmux.start(cmd, va.env, (100, 30))
        tmux.wait_for(r"Peak +1000\.0 Hz")
        tmux.keys("M")
        screen = tmux.wait_for(r"avg lin 16 frames \(16 frames\)")  # a full average
        thd = re.search(r"(?m)^ *THD +(-\d+\.\d\d) dB", screen)
        snr = re.search(r"(?m)^ *SNR +(\d+\.\d\d) dB", screen)
        tone = re.search(r"Tone +(\d+\.\d{3}) Hz +(-\d+\.\d\d) dBFS", screen)
        assert thd and snr and tone, screen
        assert abs(float(thd.group(1)) - true_thd) <= 0.5, (screen, true_thd)
        assert abs(float(snr.group(1)) - true_snr) <= 1.0, (screen, true_snr)
        assert abs(float(tone.group(1)) - 1000.0) <= 0.01
        assert abs(float(tone.group(2)) - -6.0) <= 0.05
        tmux.keys("q")
        assert tmux.wait_exit() == 0
    finally:
        va.stop()


def test_over_ssh_the_app_saves_bandwidth(tmux: Tmux) -> None:
    """With SSH_CONNECTION set (the terminal still announcing truecolor) the app picks 256
    colours and 20 updates per second, and shows the output rate it measures in the status
    line; the waterfall still fills with colour."""
    env = {"SSH_CONNECTION": "192.0.2.1 50022 192.0.2.2 22"}
    tmux.start(_livespec("--input", "demo"), env, (120, 40))
    text = tmux.wait_for(r"ssh \d+ KB/s")
    time.sleep(3.0)  # a few status updates later
    text = tmux.wait_for(r"ssh \d+ KB/s")
    rate = int(re.search(r"ssh (\d+) KB/s", text).group(1))  # type: ignore[union-attr]
    assert 0 < rate < 250
    lines = text.splitlines()
    assert any(re.match(r"\s*1k\b", ln) for ln in lines)  # the frequency axis on the left
    assert re.search(r"-\d+(\.\d+)?s", "\n".join(lines[-4:]))  # time along the bottom
    screen = tmux.screen(escapes=True)
    assert "38;2;" not in screen and "48;2;" not in screen.replace("48;2;36;47;56", "")
    assert len(set(re.findall(r"[34]8;5;(\d+)", screen))) > 10
    # at most 20 updates per second (a loaded machine may draw fewer; locally it is 30)
    fps = int(re.search(r"(\d+) fps", text).group(1))  # type: ignore[union-attr]
    assert 1 <= fps <= 21
    tmux.keys("q")
    assert tmux.wait_exit() == 0


def test_file_browser_in_a_terminal(tmp_path: Path, tmux: Tmux) -> None:
    """``livespec FILE`` in tmux at 120x40: the whole file, zoom in time at the playhead,
    seek, a marker saved as Audacity labels next to the file, q restores the terminal."""
    import soundfile as sf

    from livespec.annotate.labels import read_labels

    fs = 16000
    t = np.arange(fs * 40) / fs
    x = np.where((t >= 8) & (t < 12), 0.25 * np.sin(2 * np.pi * 1000 * t), 0.0)
    wav = tmp_path / "take.wav"
    sf.write(wav, x.astype(np.float32), fs)
    tmux.start(_livespec(str(wav), "--no-audio"), {}, (120, 40))
    tmux.wait_for(r"view 0:00\.0–0:40\.0")
    tmux.wait_for(r"take\.wav  16000 Hz  1 ch  0:40\.0")
    deadline = time.monotonic() + DEADLINE_S
    while "overview" in tmux.screen():  # the readout shows the overview's progress
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert _colours(tmux.screen(escapes=True)) > 5
    tmux.keys("End", "Home", "Right", "Right")  # a tenth of 40 s twice: 8 s
    tmux.wait_for(r"0:08\.000 / 0:40\.000")
    tmux.keys("+", "+")  # x4 around the playhead (8 s at 20 % of the screen)
    tmux.wait_for(r"view 0:06\.0–0:16\.0")
    tmux.keys("m", "L")
    tmux.wait_for(r"take\.labels\.txt")
    tmux.keys("q")
    assert tmux.wait_exit() == 0
    _assert_restored(tmux)
    labels = read_labels(tmp_path / "take.labels.txt")
    assert [(lab.start, lab.text) for lab in labels] == [(8.0, "m1")]


def _app_pid(tmux: Tmux) -> int:
    """The livespec process under the tmux pane's shell."""
    shell = int(tmux.tmux("display", "-p", "-t", tmux.name, "#{pane_pid}").strip())
    for child in Path(f"/proc/{shell}/task/{shell}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"livespec" in cmdline:
            return int(child)
    raise AssertionError(f"no livespec process under the pane's shell {shell}")


@pytest.mark.parametrize(("signame", "status"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_stop_signal_ends_the_app_like_q(
    tmp_path: Path, tmux: Tmux, signame: str, status: int
) -> None:
    """``kill`` (SIGTERM) or a hang-up (SIGHUP) while the app records: the app ends as
    with ``q`` (exit status 128 + the signal), the terminal is restored and the recording
    is finalised: its sidecar complete, with every frame the WAV holds. Before, the
    default action killed it in the alternate screen, the sidecar at 0 frames."""
    import soundfile as sf

    rec = tmp_path / "rec"
    rec.mkdir()
    tmux.start(_livespec("--input", "tone:1000@-6", "--record-dir", str(rec)), {}, (100, 30))
    tmux.wait_for(r"Peak +1000\.0 Hz")
    tmux.keys("r")
    tmux.wait_for(r"REC 0:00:0[4-9]")  # 3 s of pre-roll, then at least a second more
    os.kill(_app_pid(tmux), getattr(signal, signame))
    assert tmux.wait_exit() == status
    _assert_restored(tmux)
    (wav,) = rec.glob("*.wav")
    side = json.loads(Path(f"{wav}.json").read_text())
    info = sf.info(str(wav))
    assert side["complete"] is True
    assert side["frames"] == info.frames > 4 * 48000
    assert side["ended_by"] == signame  # as livespec record's (it said "stop", as for r)


def test_fmin_above_nyquist_is_one_line_before_the_screen(tmux: Tmux) -> None:
    """--fmin at or above the input's Nyquist frequency leaves no band: one line and
    status 2 before the screen (it showed an empty 1 Hz view labelled 24k twice)."""
    tmux.start(_livespec("--input", "tone:1000", "--fmin", "30000"), {}, (100, 30))
    assert tmux.wait_exit() == 2
    lines = [ln for ln in tmux.screen().splitlines() if ln.strip()]
    assert lines == [
        "livespec: --fmin 30000: must be below the input's Nyquist frequency, 24000 Hz "
        "(sample rate 48000 Hz)"
    ]
