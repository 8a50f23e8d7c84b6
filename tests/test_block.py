"""Runs of frames (the engine's batched analysis) give every frame exactly what it gets
analysed alone, and what the single-frame analyzer (Spectrum, PeakFinder) and numpy give."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livespec.audio.base import Source
from livespec.audio.framer import Framer
from livespec.audio.ringbuffer import RingBuffer
from livespec.config import AnalysisConfig
from livespec.dsp.block import SpectrumBlock, max_run
from livespec.dsp.peaks import PeakFinder
from livespec.dsp.stft import Spectrum
from livespec.engine import Engine, Frame

FS = 48000


class Still(Source):
    """A source whose ring the test fills."""

    samplerate = FS
    description = "test"
    realtime = False

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def open(self) -> None:
        pass

    def start(self, ring: RingBuffer) -> None:
        self.ring = ring

    def stop(self) -> None:
        pass


def signal(n: int, channels: int, seed: int = 3) -> np.ndarray:
    """Two tones (one drifting) in noise, different per channel, plus silence at the end."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    out = np.empty((n, channels), dtype=np.float32)
    for c in range(channels):
        x = 0.5 * np.sin(2 * np.pi * (997.3 + 150 * c + 40 * t) * t)
        x += 0.05 * np.sin(2 * np.pi * 5123.4 * t) + 1e-3 * rng.standard_normal(n)
        out[:, c] = x
    out[-n // 8 :] = 0.0  # frames of silence: the -200 dB floor
    return out


def analyse(cfg: AnalysisConfig, x: np.ndarray, channel: int | None, batch: int) -> list[Frame]:
    ring = RingBuffer(x.shape[0], x.shape[1])
    ring.write(x)
    frames: list[Frame] = []
    engine = Engine(Still(x.shape[1]), ring, cfg, frames.append, channel, 0, batch=batch)
    engine.process_available()
    assert engine.lost_frames == 0
    return frames


CONFIGS = [
    (AnalysisConfig(fft=4096, overlap=0.75), 1, None),
    (AnalysisConfig(fft=2048, hop=333, window="blackman-harris", peaks=3), 2, None),
    (AnalysisConfig(fft=1024, hop=256, zero_pad=2, backend="numpy"), 2, 1),
    (AnalysisConfig(fft=1000, hop=1500, window="rect"), 1, 0),  # hop > fft: gaps
    (AnalysisConfig(fft=4096, overlap=0.5, window="flattop", fmin=2000.0), 3, None),
]


@pytest.mark.parametrize(("cfg", "channels", "channel"), CONFIGS)
def test_runs_of_every_length_give_each_frame_what_it_gets_alone(cfg, channels, channel):
    x = signal(FS, channels)
    alone = analyse(cfg, x, channel, batch=1)
    assert len(alone) > 20
    for batch in (2, 5, 16):
        runs = analyse(cfg, x, channel, batch)
        assert len(runs) == len(alone)
        for a, b in zip(alone, runs, strict=True):
            assert (a.index, a.start, a.t, a.overflows, a.lost_frames, a.cqt) == (
                b.index,
                b.start,
                b.t,
                b.overflows,
                b.lost_frames,
                b.cqt,
            )
            np.testing.assert_array_equal(a.db, b.db)  # to the bit
            assert a.db.dtype == np.float32 and a.db.flags.c_contiguous
            assert a.rms_dbfs == pytest.approx(b.rms_dbfs, abs=1e-9)
            assert a.peak_dbfs == pytest.approx(b.peak_dbfs, abs=1e-9)
            assert len(a.peaks) == len(b.peaks)
            for p, q in zip(a.peaks, b.peaks, strict=True):
                assert abs(p.freq_hz - q.freq_hz) <= 1e-6
                assert abs(p.level_dbfs - q.level_dbfs) <= 1e-9
                assert (p.note, round(p.cents, 6)) == (q.note, round(q.cents, 6))


@pytest.mark.parametrize(("cfg", "channels", "channel"), CONFIGS)
def test_each_frame_is_what_the_single_frame_analyzer_and_numpy_give(cfg, channels, channel):
    x = signal(FS // 2, channels, seed=5)
    frames = analyse(cfg, x, channel, batch=16)
    spectrum = Spectrum(
        cfg.fft, cfg.window, beta=cfg.beta, zero_pad=cfg.zero_pad, backend=cfg.backend
    )
    finder = PeakFinder(spectrum, FS, max_peaks=cfg.peaks, a4=cfg.a4, fmin=cfg.fmin, fmax=cfg.fmax)
    n = cfg.fft
    for f in frames:
        view = x[f.start : f.start + n]
        X = spectrum.compute(view, channel).copy()
        db = spectrum.db()
        # One float32 rounding of the power apart at most (the window carries the scale).
        np.testing.assert_allclose(f.db, db, rtol=0, atol=2e-5)
        mono = view.astype(np.float64).mean(axis=1) if channel is None else view[:, channel]
        rms = math.sqrt(float(np.mean(np.asarray(mono, np.float64) ** 2)))
        top = float(np.max(np.abs(mono)))
        assert f.rms_dbfs == pytest.approx(20 * math.log10(rms) if rms > 1e-10 else -200, abs=1e-6)
        assert f.peak_dbfs == pytest.approx(20 * math.log10(top) if top > 1e-10 else -200, abs=1e-6)
        ref = finder.find(X, db)
        assert len(f.peaks) == len(ref)
        for p, q in zip(f.peaks, ref, strict=True):
            assert abs(p.freq_hz - q.freq_hz) <= 1e-6
            assert abs(p.level_dbfs - q.level_dbfs) <= 1e-6
            assert p.note == q.note


def test_silence_reads_the_floor_and_a_full_scale_sine_zero_dbfs():
    n, hop = 1024, 256
    t = np.arange(8 * n)
    x = np.sin(2 * np.pi * 64 * t / n).astype(np.float32)[:, None]  # bin 64
    x[4 * n :] = 0.0
    cfg = AnalysisConfig(fft=n, hop=hop)
    frames = analyse(cfg, x, None, batch=16)
    assert frames[0].db[64] == pytest.approx(0.0, abs=1e-4)
    assert frames[0].peak_dbfs == pytest.approx(0.0, abs=1e-6)
    assert frames[0].rms_dbfs == pytest.approx(-3.0103, abs=1e-3)
    quiet = frames[-1]
    silent = Spectrum(n)
    silent.compute(np.zeros(n, np.float32))
    np.testing.assert_array_equal(quiet.db, silent.db())  # the floor, as before
    assert quiet.db[0] == pytest.approx(-200.0, abs=1e-4)
    assert quiet.rms_dbfs == quiet.peak_dbfs == -200.0


def test_run_lengths_and_bad_runs():
    assert max_run(4096) == 16 and max_run(65536) == 4 and max_run(1 << 20) == 1
    spectrum = Spectrum(256, backend="numpy")
    block = SpectrumBlock(spectrum, 64, 4)
    x = np.zeros((256 + 3 * 64, 2), np.float32)
    assert block.compute(x).db.shape == (4, spectrum.bins)
    with pytest.raises(ValueError):
        block.compute(x[:-1])  # not whole frames
    with pytest.raises(ValueError):
        block.compute(np.zeros((256 + 4 * 64, 2), np.float32))  # five frames
    with pytest.raises(ValueError):
        block.compute(x, channel=2)
    with pytest.raises(ValueError):
        SpectrumBlock(spectrum, 0, 4)


def ramp(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.float32)[:, None]


@settings(max_examples=300, deadline=None)
@given(
    capacity=st.integers(4, 64),
    n_frac=st.floats(0.05, 1.0),
    hop=st.integers(1, 40),
    most=st.integers(1, 7),
    backlog=st.one_of(st.none(), st.integers(0, 50)),
    ops=st.lists(
        st.tuples(st.sampled_from(["w", "p", "torn"]), st.integers(0, 90)), min_size=1, max_size=50
    ),
)
def test_runs_deliver_every_frame_intact_or_count_it_lost(
    capacity, n_frac, hop, most, backlog, ops
):
    """Framer.process_blocks keeps Framer.process's promise: every frame number delivered
    once, intact, in order, or counted lost; never torn."""
    ring = RingBuffer(capacity, 1)
    written = [0]

    def write(k: int) -> None:
        ring.write(ramp(written[0], k))
        written[0] += k

    n = max(1, round(n_frac * capacity))
    framer = Framer(ring, n, hop, origin=0, max_backlog=backlog)
    delivered: list[int] = []
    torn_write = [0]

    def analyse_run(view: np.ndarray) -> np.ndarray:
        assert (view.shape[0] - n) % hop == 0 and (view.shape[0] - n) // hop < most
        out = view[:, 0].copy()
        if torn_write[0]:
            write(torn_write[0])
            torn_write[0] = 0
        return out

    def deliver(index: int, start: int, got: np.ndarray, j: int) -> None:
        assert start == index * hop
        assert not delivered or index > delivered[-1]
        np.testing.assert_array_equal(got[j * hop : j * hop + n], ramp(start, n)[:, 0])
        delivered.append(index)

    for op, k in ops:
        if op == "w":
            write(k)
            continue
        torn_write[0] = k if op == "torn" else 0
        before = framer.index - framer.lost
        done = framer.process_blocks(analyse_run, deliver, most)
        assert done == framer.index - framer.lost - before
        if op == "p":
            assert not framer.ready()
    assert framer.delivered == len(delivered)
    assert framer.index == framer.delivered + framer.lost


def test_a_run_stopped_midway_leaves_the_rest_for_later():
    ring = RingBuffer(64, 1)
    ring.write(ramp(0, 40))
    framer = Framer(ring, 8, 4, origin=0)
    got: list[int] = []
    stop_after = [3]

    def stop() -> bool:
        return len(got) >= stop_after[0]

    framer.process_blocks(lambda v: v, lambda i, s, r, j: got.append(i), 16, stop)
    assert got == [0, 1, 2] and framer.index == 3 and framer.lost == 0
    stop_after[0] = 100
    framer.process_blocks(lambda v: v, lambda i, s, r, j: got.append(i), 16, stop)
    assert got == list(range(9)) and framer.index == 9  # ends 8, 12, ..., 40


def test_a_paced_signal_writes_a_few_blocks_per_wake_up():
    """``livespec peaks --realtime`` on a signal: blocks_per_wake blocks written together,
    the analysis called once for them, then one wait until they are due."""
    from livespec.audio.sources import SignalSource

    src = SignalSource("tone:1000", FS, blocksize=1024, realtime=True, max_seconds=0.5)
    src.open()
    ring = RingBuffer(FS, 1)
    src.attach(ring)
    now = [0.0]
    waits: list[tuple[int, float]] = []

    def wait(seconds: float) -> bool:
        waits.append((src.frames_read, seconds))
        now[0] += seconds
        return False

    src._clock = lambda: now[0]
    src._wait = wait
    seen: list[int] = []

    def analyse() -> bool:
        seen.append(src.frames_read)
        return False

    src.produce(analyse, blocks_per_wake=4)
    total = round(0.5 * FS)
    assert src.frames_read == total
    assert seen == [4096, 8192, 12288, 16384, 20480, total]  # 23 blocks and a part
    assert [w[0] for w in waits] == seen
    assert [w[1] for w in waits] == pytest.approx(np.diff([0, *seen]) / FS)
    np.testing.assert_allclose(
        ring.window(0, total)[:, 0],  # the same samples as one block at a time
        10 ** (-6 / 20) * np.sin(2 * np.pi * 1000 * np.arange(total) / FS),
        atol=1e-6,
    )


def test_a_period_makes_the_worker_wake_at_most_once_per_period(monkeypatch):
    """Engine.run(period=...) (``livespec peaks`` in real time): one pass per period, the
    frames that came meanwhile analysed as one run; without it, one pass per block."""
    import time

    x = signal(FS // 2, 1)
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # a fake clock

    def runs_of(period: float) -> list[int]:
        now[0] = 100.0
        ring = RingBuffer(FS, 1)
        source = Still(1)
        source.realtime = True
        fed = [0]

        def sleep(seconds: float) -> None:  # a producer writes 1024 frames every 21.3 ms
            now[0] += seconds
            while fed[0] + 1024 <= min(round((now[0] - 100.0) * FS), len(x)):
                ring.write(x[fed[0] : fed[0] + 1024])
                fed[0] += 1024

        monkeypatch.setattr(time, "sleep", sleep)
        sleep(0.0)
        engine = Engine(source, ring, AnalysisConfig(fft=4096, overlap=0.75), lambda f: None)
        analyse, runs = engine._analyse, []

        def counted(view):
            runs.append((view.shape[0] - 4096) // 1024 + 1)
            return analyse(view)

        engine._analyse = counted  # type: ignore[method-assign]
        engine.run(lambda: fed[0] + 1024 > len(x), period=period)
        return runs

    per_block = runs_of(0.0)
    paced = runs_of(0.08)
    assert set(per_block) == {1}  # woken for every block: runs of one frame
    assert sum(paced) >= sum(per_block) - 4  # the same frames (but the last few)...
    assert len(paced) <= sum(paced) // 3 + 1  # ...in runs of 3-4 (80 ms of 21.3 ms hops)
    assert max(paced) <= 4


def test_frames_and_peaks_are_the_frozen_dataclasses():
    """The engine builds frames and peaks through twin classes (plain slot stores) and
    hands out true Frame and Peak instances: frozen, equal to ones built the usual way."""
    import dataclasses

    from livespec.dsp.peaks import Peak

    frames = analyse(AnalysisConfig(fft=1024, hop=256), signal(FS // 4, 1), None, batch=16)
    frame = frames[3]
    peak = frame.peaks[0]
    assert type(frame) is Frame and type(peak) is Peak
    fields = {name: getattr(frame, name) for name in Frame.__dataclass_fields__}
    again = Frame(**fields)
    for name, value in fields.items():
        assert getattr(again, name) is value
    assert again.peaks == frame.peaks and dataclasses.fields(again) == dataclasses.fields(frame)
    assert peak == Peak(peak.freq_hz, peak.level_dbfs, peak.bin, peak.note, peak.cents)
    assert hash(peak) == hash(Peak(peak.freq_hz, peak.level_dbfs, peak.bin, peak.note, peak.cents))
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.t = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        peak.freq_hz = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(("fft", "hop"), [(2048, 1024), (1024, 256), (448, 64), (2048, 256)])
def test_levels_are_the_same_to_the_bit_in_every_run(fft, hop):
    """A long run adds each frame's level chunks in numpy (2-7 chunks a frame), a short
    one in Python (and 8 chunks, the last case, always): the same sums, to the bit."""
    x = signal(FS // 2, 2)
    cfg = AnalysisConfig(fft=fft, hop=hop)
    alone = analyse(cfg, x, None, batch=1)
    for batch in (7, 16):
        runs = analyse(cfg, x, None, batch)
        assert [(f.rms_dbfs, f.peak_dbfs) for f in runs] == [
            (f.rms_dbfs, f.peak_dbfs) for f in alone
        ]


@pytest.mark.parametrize("dc_frames", [2, 12])
def test_rows_whose_strongest_bin_lies_outside_the_search_range(dc_frames):
    """A DC offset stronger than every tone puts a row's largest bin below the peak
    search's range: those rows' peaks are still the range's, as the single-frame finder's
    (a few rows of a run fixed one by one, many with one search over the run)."""
    cfg = AnalysisConfig(fft=1024, hop=256)
    x = signal(FS // 4, 1)
    x[2048 : 2048 + 256 * dc_frames] += 0.9  # a DC step over a few frames, or most of a run
    frames = analyse(cfg, x, None, batch=16)
    alone = analyse(cfg, x, None, batch=1)
    spectrum = Spectrum(cfg.fft)
    finder = PeakFinder(spectrum, FS)
    outside = 0
    for f, g in zip(frames, alone, strict=True):
        X = spectrum.compute(x[f.start : f.start + cfg.fft]).copy()
        db = spectrum.db()
        outside += int(np.argmax(db)) < finder._kmin
        ref = finder.find(X, db)
        assert [(p.freq_hz, p.level_dbfs, p.note) for p in f.peaks] == [
            (p.freq_hz, p.level_dbfs, p.note) for p in g.peaks
        ]
        assert len(f.peaks) == len(ref)  # one, or none in the silence at the end
        for p, q in zip(f.peaks, ref, strict=True):
            assert abs(p.freq_hz - q.freq_hz) <= 1e-6
    assert outside >= dc_frames  # the case happened
