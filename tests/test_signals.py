"""Built-in test signals and non-device sources feeding the ring buffer."""

from __future__ import annotations

import io
import math
import os
import threading
import time
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from livespec.audio import signals
from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import FileSource, SignalSource, make_source
from livespec.audio.stdin import StdinSource, decode_pcm
from livespec.errors import SourceError, UsageError


def collect(source, seconds: float) -> np.ndarray:
    source.open()
    ring = RingBuffer(int(seconds * source.samplerate) + 10, source.channels)
    source.attach(ring)
    while source.pump(source.block_frames):
        pass
    return ring.window(0, ring.written).copy()


def test_tone_level_and_frequency():
    x = collect(SignalSource("tone:1000@-20", 48000, max_seconds=1.0), 1.0)[:, 0]
    assert x.size == 48000
    assert np.max(np.abs(x)) == pytest.approx(10 ** (-20 / 20), rel=1e-4)
    # 1000 cycles in one second: the spectrum's peak is exactly bin 1000.
    assert int(np.argmax(np.abs(np.fft.rfft(x)))) == 1000


def test_sum_of_parts_and_noise_rms():
    parts = signals.parse_signal("tone:440,1000@-20+noise:pink@-40")
    assert [type(p).__name__ for p in parts] == ["Tone", "Tone", "Noise"]
    noise = signals.parse_signal("noise@-30")[0]
    x = noise.render(0, 1 << 18, 48000.0)
    assert 20 * math.log10(float(np.sqrt(np.mean(x**2)))) == pytest.approx(-30.0, abs=0.01)


def test_blocks_are_phase_continuous():
    """Generating in blocks of any size gives the same samples as one long block."""
    parts = signals.parse_signal("tone:997@-6+chirp+noise")
    whole = np.zeros(5000, dtype=np.float32)
    signals.render(parts, 0, 5000, 48000.0, whole)
    pieces = np.zeros(5000, dtype=np.float32)
    pos = 0
    for n in (1, 17, 1024, 333, 3625):
        buf = np.zeros(n, dtype=np.float32)
        signals.render(parts, pos, n, 48000.0, buf)
        pieces[pos : pos + n] = buf
        pos += n
    np.testing.assert_allclose(pieces, whole, atol=1e-6)


@pytest.mark.parametrize(
    "spec", ["tone", "tone:abc", "tone:1000@loud", "chirp:100", "noise:blue", "sine:5", "demo:1"]
)
def test_bad_signal_specs_are_usage_errors(spec):
    with pytest.raises(UsageError):
        signals.parse_signal(spec)


def test_demo_is_lively():
    x = collect(SignalSource("demo", 48000, max_seconds=2.0), 2.0)[:, 0]
    assert 0.05 < float(np.max(np.abs(x))) < 1.0
    # the strongest frequency changes over time (a melody)
    tops = {int(np.argmax(np.abs(np.fft.rfft(x[i : i + 4800])))) for i in range(0, 91200, 4800)}
    assert len(tops) >= 4


def test_demo_is_its_formula():
    """The demo's harmonics (a sine recurrence) and fades (computed where they are not 1)
    against the formula written out, sine by sine."""
    fs, start, n = 48000.0, 12345, 48000
    t = np.arange(start, start + n) / fs
    note = np.floor(t / 0.4).astype(int) % len(signals.Demo.MELODY)
    f, tn = np.asarray(signals.Demo.MELODY)[note], np.mod(t, 0.4)
    ramp = np.minimum(np.minimum(tn / 0.010, (0.4 - tn) / 0.030), 1.0)
    env = np.exp(-tn * 5.0) * 0.5 * np.sin(0.5 * np.pi * ramp) ** 2
    harmonics = zip((1, 2, 3, 4, 5), (1.0, 0.35, 0.18, 0.08, 0.04), strict=True)
    want = sum(g * np.sin(2 * np.pi * h * f * tn) * env for h, g in harmonics)
    want += 0.02 * np.sin(2 * np.pi * (3000.0 * t - (1000.0 / np.pi) * np.cos(np.pi * t)))
    ts = np.mod(t, 8.0)
    k = math.log(12000.0 / 200.0) / 8.0
    fade = np.sin(0.5 * np.pi * np.minimum(np.minimum(ts, 8.0 - ts) / 0.005, 1.0)) ** 2
    want += 10 ** (-30 / 20) * fade * np.sin(2 * np.pi * 200.0 * (np.exp(k * ts) - 1.0) / k)
    want += signals.Noise("pink", -62.0).render(start, n, fs)
    np.testing.assert_allclose(signals.Demo().render(start, n, fs), want, rtol=0, atol=1e-12)


def test_signals_rendered_ahead_equal_block_by_block():
    """In real time a test signal is rendered several blocks at a time; the samples are
    those of one block at a time, up to the last, partial block."""
    spec = "demo+tone:997@-20"
    ahead = collect(SignalSource(spec, 48000, 2, blocksize=1000, max_seconds=0.7), 0.7)
    one = SignalSource(spec, 48000, 2, blocksize=1000, realtime=False, max_seconds=0.7)
    by_block = collect(one, 0.7)
    assert ahead.shape == by_block.shape == (33600, 2)
    np.testing.assert_allclose(ahead, by_block, rtol=0, atol=1e-7)


def test_file_source_reads_all_frames_and_channels(tmp_path):
    rate = 44100
    t = np.arange(rate) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 880 * t)], 1)
    path = tmp_path / "s.flac"
    sf.write(path, stereo, rate, subtype="PCM_24")
    x = collect(FileSource(path, blocksize=1000), 1.0)
    assert x.shape == (rate, 2)
    np.testing.assert_allclose(x, stereo, atol=2e-7)


def test_file_source_errors_are_one_line(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        FileSource(tmp_path / "missing.wav").open()
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    with pytest.raises(SourceError, match=r"bad\.wav") as info:
        FileSource(bad).open()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("fmt", "dtype", "scale"),
    [("s16le", "<i2", 32768.0), ("s32le", "<i4", 2147483648.0), ("f32le", "<f4", 1.0)],
)
def test_pcm_decoding(fmt, dtype, scale):
    vals = np.array([[0.5, -0.25], [-1.0, 0.125]])
    raw = (vals * scale).astype(dtype).tobytes() if fmt != "f32le" else vals.astype("<f4").tobytes()
    out = np.zeros((2, 2), dtype=np.float32)
    decode_pcm(raw, fmt, 2, out)
    np.testing.assert_allclose(out, vals, atol=1e-6)


def test_s24le_sign_extension():
    vals = [0, 1, -1, 4194304, -8388608, 8388607]
    raw = b"".join(v.to_bytes(3, "little", signed=True) for v in vals)
    out = np.zeros((6, 1), dtype=np.float32)
    decode_pcm(raw, "s24le", 1, out)
    np.testing.assert_allclose(out[:, 0], np.array(vals) / 8388608.0)


def test_stdin_source_handles_short_reads_and_partial_frames():
    class Trickle(io.RawIOBase):
        """Returns at most 7 bytes per read, like a slow pipe."""

        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[override]
            n = min(7, len(b), len(self.data))
            b[:n] = self.data[:n]
            self.data = self.data[n:]
            return n

    samples = (np.arange(-1000, 1000) * 16).astype("<i2")
    raw = samples.tobytes() + b"\x01"  # a trailing half sample is dropped
    src = StdinSource("s16le", 8000, 1, blocksize=300, stream=Trickle(raw))  # type: ignore[arg-type]
    x = collect(src, 1.0)
    np.testing.assert_allclose(x[:, 0], samples / 32768.0)


def test_stdin_source_reads_a_real_pipe_in_pieces():
    """Through an OS pipe (the select/readv path), written in uneven pieces."""
    samples = (np.arange(-3000, 3000) * 5).astype("<i2")
    data = samples.tobytes()
    r, w = os.pipe()

    def writer() -> None:
        for i in range(0, len(data), 1001):
            os.write(w, data[i : i + 1001])
            time.sleep(0.001)
        os.close(w)

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as stream:
        x = collect(StdinSource("s16le", 8000, 1, blocksize=256, stream=stream), 1.0)
    t.join()
    np.testing.assert_allclose(x[:, 0], samples / 32768.0)


def test_stdin_source_stops_while_the_producer_is_silent():
    """A producer that writes a little and then stalls (an SSH link that hangs): stop()
    ends the reader thread instead of leaving it blocked in read() (q in the app)."""
    r, w = os.pipe()
    os.write(w, np.zeros(100, "<i2").tobytes())
    stream = os.fdopen(r, "rb")
    src = StdinSource("s16le", 8000, 1, blocksize=256, stream=stream)
    try:
        src.open()
        src.start(RingBuffer(8000, 1))
        time.sleep(0.2)
        assert not src.finished  # waiting for the rest of its first block
        src.stop()
        assert src._thread is not None and not src._thread.is_alive()
    finally:
        os.close(w)  # a reader still blocked would see the end of the pipe and return
        if src._thread is not None:
            src._thread.join()
        stream.close()


def test_make_source_picks_the_kind(tmp_path):
    assert isinstance(make_source("tone:1000"), SignalSource)
    assert isinstance(make_source("-"), StdinSource)
    assert isinstance(make_source(str(tmp_path / "x.wav")), FileSource)
    with pytest.raises(UsageError):
        make_source("tone:1000", device="pulse")


@pytest.mark.parametrize("level", ["999", "20.5", "inf", "nan", "1e400"])
def test_a_level_above_plus_20_dbfs_or_not_finite_is_refused(level: str) -> None:
    with pytest.raises(UsageError, match=r"up to \+20"):
        signals.parse_signal(f"tone:1000@{level}")


def test_levels_up_to_plus_20_dbfs_are_accepted() -> None:
    (part,) = signals.parse_signal("tone:1000@20")
    assert part.render(0, 4800, 48000.0).max() == pytest.approx(10.0, rel=1e-6)


def test_peaks_with_a_bad_level_says_one_line_and_exits_2(run_livespec: Any) -> None:
    done = run_livespec("peaks", "--input", "tone:1000@999", "--duration", "0.1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "must be a number of dBFS up to +20" in done.stderr


@pytest.mark.parametrize(
    ("spec", "fs"),
    [("tone:30000", 48000), ("tone:440,24000@-20", 48000), ("tone:1000+tone:5000", 8000)],
)
def test_a_tone_at_or_above_nyquist_is_refused(spec: str, fs: int) -> None:
    """A sine above Nyquist aliases (tone:30000 at 48 kHz read 18000.0 Hz in the app and
    in peaks) and one at Nyquist is all zeros: refused in one line, as chirp is clamped."""
    with pytest.raises(UsageError, match=r"must be below the Nyquist frequency, \d+ Hz"):
        SignalSource(spec, samplerate=fs)


def test_a_tone_below_nyquist_reads_its_own_frequency(run_livespec: Any) -> None:
    rows = run_livespec("peaks", "--input", "tone:23000", "--duration", "0.2", "--json")
    assert rows.returncode == 0
    import json

    assert abs(json.loads(rows.stdout.splitlines()[-1])["freq_hz"] - 23000.0) < 0.1
    done = run_livespec("peaks", "--input", "tone:30000", "--duration", "0.2")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "livespec: --input 'tone:30000': tone 30000 Hz must be below the Nyquist frequency, "
        "24000 Hz (sample rate 48000 Hz)"
    )


@pytest.mark.parametrize("spec", ["", " "])
def test_an_empty_input_says_so(spec: str) -> None:
    """``--input ''`` said "cannot open '.': is a folder"."""
    with pytest.raises(UsageError, match=r"^--input '': empty; give a file"):
        make_source(spec)
