"""A PNG that averages levels is computed from powers (one logarithm per run of values,
livespec/export/dbmean.py) and a long input is analysed on two threads
(livespec/export/segment.py): the images agree with the per-value levels within one level
and are the same bit for bit whatever the split; 16-bit PCM read as integers gives
libsndfile's own float samples."""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from support.cli import export

from livespec.cli.parsers import build_parser
from livespec.config import Config
from livespec.export import dbmean, segment
from livespec.export.dsp import BatchAnalyzer, Recipe, power_scale
from livespec.export.frames import SampleReader, frame_views
from livespec.export.io import ImageSpec, PngSink, Post
from livespec.export.job import ExportOptions, Job, _reopen, run_job
from livespec.export.plan import build_options
from livespec.export.reduce import TimeReducer
from livespec.export.writers import Target, png_writer

FS = 48000


def noisy_chirp(tmp: Path, seconds: float, name: str = "in.wav") -> Path:
    """A chirp over pink-ish noise that fades in and out, plus 0.2 s of digital silence
    (powers under the floor), as 16-bit PCM."""
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * FS)) / FS
    chirp = 0.5 * np.sin(2 * np.pi * (100 * t + 400 * t * t))
    noise = np.cumsum(rng.standard_normal(t.size)) * 1e-4
    noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
    x = (chirp + noise) * (0.5 + 0.5 * np.sin(2 * np.pi * t / seconds))
    x[FS : FS + FS // 5] = 0.0
    p = tmp / name
    sf.write(p, x.astype(np.float32), FS, subtype="PCM_16")
    return p


def reference_png(src: Path, out: Path, size: tuple[int, int], top_db: float | None) -> None:
    """The image from every frame's levels in dB, in order (the path before powers)."""
    r = Recipe(top_db=top_db)
    spec = ImageSpec(size=size, gray=True)
    if top_db is not None:
        spec = ImageSpec(size=size, gray=True, db_min=None, db_max=None, top_db=top_db)
    opts = ExportOptions(recipe=r, image=spec)
    with sf.SoundFile(src) as f:
        n = f.frames
        reader = SampleReader(f, None)
        an = BatchAnalyzer(r, FS)
        frames = r.frames(n)
        sink = png_writer(Target(out, frames, FS, opts, 0.0, n / FS, False, src.name))
        rows = np.empty((an.batch, an.cols), dtype=np.float32)
        lo, hi = math.inf, -math.inf
        for view in frame_views(reader.read, n, an):
            v = rows[: view.shape[0]]
            an.process(view, v)
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
            sink.write(v)
    sink.finish(Post(0.0, None if top_db is None else hi - top_db), lo, hi)


def pixels(p: Path) -> np.ndarray:
    """The PNG's pixels (8-bit levels of a --gray image) as signed integers."""
    return np.asarray(Image.open(p), dtype=np.int16)


@pytest.mark.parametrize(
    ("size", "extra"),
    [
        ((100, 512), []),  # 2 bins x 4 frames per value, as the 2048x512 image of 10 min
        ((60, 128), []),  # 8 bins x 7 frames: runs of one frame (a product of 8 at most 15)
        ((100, 512), ["--top-db", "60"]),  # the colour range and a floor from the data
    ],
)
def test_png_from_powers_within_one_level_of_the_levels(tmp_path, monkeypatch, size, extra):
    src = noisy_chirp(tmp_path, 12.0)
    used: list[int] = []
    real_add = dbmean.PowerMeans.add

    def add(self: dbmean.PowerMeans, p: np.ndarray, k0: int) -> None:
        used.append(k0)
        real_add(self, p, k0)

    monkeypatch.setattr(dbmean.PowerMeans, "add", add)
    out = tmp_path / "new.png"
    argv = [str(src), "-o", str(out), "--gray", "--size", f"{size[0]}x{size[1]}", *extra]
    assert export(argv) == 0
    assert used, "the image was not computed from powers"
    ref = tmp_path / "ref.png"
    reference_png(src, ref, size, 60.0 if extra else None)
    a, b = pixels(out), pixels(ref)
    assert a.shape == b.shape == (size[1], size[0])
    diff = np.abs(a - b)
    assert diff.max() <= 1
    assert np.count_nonzero(diff) <= max(2, a.size // 1000)
    assert np.ptp(b) > 100  # the picture has contrast: the comparison means something


def test_extremes_are_those_of_the_levels():
    r = Recipe()
    an = BatchAnalyzer(r, FS)
    rng = np.random.default_rng(3)
    frames = (rng.standard_normal((an.batch, r.n)) * 0.1).astype(np.float32)
    frames[2] = 0.0  # a silent frame: the floor
    levels = np.empty((an.batch, an.cols), dtype=np.float32)
    an.process(frames, levels)
    red = TimeReducer(1000, r.bins, (50, 100))
    means = dbmean.PowerMeans(red, power_scale(r, FS), r.floor, an.log, an.batch)
    lo, hi = means.extremes(an.power(frames, scaled=False).copy())
    assert (lo, hi) == (float(levels.min()), float(levels.max()))
    assert lo == pytest.approx(-200.0)


def test_a_product_that_overflows_is_redone_value_by_value():
    bins, frames = 9, 12
    red = TimeReducer(frames, bins, (1, 2))  # 6 frames and 2 bins per value
    assert (red.group, red.row_group) == (6, 2)
    means = dbmean.PowerMeans(red, None, 1e-20, lambda v: None, frames)
    rng = np.random.default_rng(5)
    p = 10.0 ** rng.uniform(25, 35, (frames, bins))  # 12 factors of about 1e30: overflows
    means.add(p.copy(), 0)
    starts = np.arange(0, bins, 2)
    per_frame = np.add.reduceat(10.0 * np.log10(p), starts, axis=1) / np.minimum(2, bins - starts)
    want = per_frame.reshape(2, 6, -1).mean(axis=1)
    np.testing.assert_allclose(red.result(), want, rtol=1e-6)


@pytest.mark.parametrize(
    ("extra", "splits"),
    [
        (["--size", "256x512"], True),  # from powers
        (["--size", "256x300", "--scale", "log"], True),  # from levels (log-spaced rows)
        (["--size", "300x100", "--scale", "mel"], True),  # from levels (mel bands)
        # One pixel per value: every level is held already, no second analyzer.
        (["--fft", "2048", "--hop", "1024", "--size", "1405x1025"], False),
    ],
)
@pytest.mark.parametrize("fork", [True, False])  # the second part in a child process, a thread
def test_two_threads_give_the_same_image_bit_for_bit(tmp_path, monkeypatch, extra, splits, fork):
    src = noisy_chirp(tmp_path, 30.0)
    images = {}
    real = PngSink.finish
    real_split = segment.split_at
    parts: list[int | None] = []
    children: list[int] = []
    real_child = segment.Child

    def split(frames: int, step: int) -> int | None:
        parts.append(real_split(frames, step))
        return parts[-1]

    def child(fn):
        children.append(1)
        return real_child(fn)

    monkeypatch.setattr(segment, "split_at", split)
    monkeypatch.setattr(segment, "SPLIT_BY_FORK", fork)
    monkeypatch.setattr(segment, "Child", child)
    monkeypatch.setattr(segment, "can_fork", lambda: True)  # pytest may run other threads
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.png"
        job = Job(src, (("png", out),), src.name)
        ns = build_parser("export").parse_args([str(src), "-o", str(out), *extra])
        opts = build_options(ns, Config())
        opts = ExportOptions(**{**opts.__dict__, "threads": threads})
        levels: dict[str, np.ndarray] = {}

        def keep(self, post, vmin, vmax, _levels=levels, _real=real):
            _levels["sum"] = self.reducer.result().copy()
            return _real(self, post, vmin, vmax)

        monkeypatch.setattr(PngSink, "finish", keep)
        parts.clear()
        res = run_job(job, opts)
        assert res.status == "done", res.message
        assert bool(parts and parts[0]) == (threads == 2 and splits)
        images[threads] = (levels["sum"], pixels(out))
    assert len(children) == (1 if fork and splits else 0)
    np.testing.assert_array_equal(images[1][0], images[2][0])
    np.testing.assert_array_equal(images[1][1], images[2][1])


@pytest.mark.parametrize("fork", [True, False])
def test_a_short_read_in_the_second_part_names_the_samples_read(tmp_path, monkeypatch, fork):
    from livespec.export import job as job_mod

    src = noisy_chirp(tmp_path, 30.0)
    real = job_mod._reopen
    starts: list[int] = []

    def reopen(path, channel, start):  # the second part's reader ends 1000 samples in
        reader, close = real(path, channel, start)
        starts.append(start)
        left = [1000]

        def read(out):
            k = reader.read(out[: left[0]])
            left[0] -= k
            return k

        return SimpleNamespace(read=read), close

    monkeypatch.setattr(job_mod, "_reopen", reopen)
    monkeypatch.setattr(segment, "SPLIT_BY_FORK", fork)
    monkeypatch.setattr(segment, "can_fork", lambda: True)
    out = tmp_path / "t.png"
    ns = build_parser("export").parse_args([str(src), "-o", str(out), "--size", "256x512"])
    opts = ExportOptions(**{**build_options(ns, Config()).__dict__, "threads": 2})
    res = run_job(Job(src, (("png", out),), src.name), opts)
    assert res.status == "failed"
    if not fork:  # (a child's calls are not seen here)
        assert len(starts) == 1
    start = (starts[0] if starts else 0) if not fork else None
    got = int(res.message.rsplit(" ", 1)[1])
    assert res.message.startswith(f"truncated: expected {30 * FS} samples, read ")
    assert got % 1024 == 1000 and got > 10 * FS  # the second part's start + 1000
    if start is not None:
        assert got == start + 1000
    assert not out.exists()


def test_a_forked_childs_result_error_and_death_reach_the_parent():
    from livespec.export.forked import Child, ChildFailed

    assert Child(lambda: (1.5, -2.0)).result() == (1.5, -2.0)
    with pytest.raises(ValueError, match="bad value"):  # picklable: raised as itself
        Child(lambda: int("bad value")).result()

    class Odd(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"{a}/{b}")

    def odd() -> None:
        raise Odd(1, 2)

    with pytest.raises(ChildFailed, match="Odd: 1/2"):  # not picklable: its name and text
        Child(odd).result()

    def dies() -> None:
        os._exit(3)

    with pytest.raises(ChildFailed, match=r"without a result \(status 3\)"):
        Child(dies).result()
    slow = Child(lambda: __import__("time").sleep(30))
    pid = slow._pid
    slow.kill()  # ended and reaped at once: the process is gone
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_second_part_reader_starts_at_its_sample(tmp_path):
    src = noisy_chirp(tmp_path, 2.0)
    reader, close = _reopen(src, None, 12345)
    try:
        got = np.empty(1000, dtype=np.float32)
        assert reader.read(got) == 1000
    finally:
        close()
    want = sf.read(src, dtype="float32")[0][12345:13345]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "AIFF"])
@pytest.mark.parametrize("channel", [None, 0, 2])
def test_pcm16_read_as_integers_equals_libsndfiles_floats(tmp_path, fmt, channel):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (70001, 3))
    x[5], x[6] = 1.0, -1.0
    p = tmp_path / f"a.{fmt.lower()}"
    sf.write(p, x, FS, format=fmt, subtype="PCM_16")
    ref = sf.read(p, dtype="float32", always_2d=True)[0]
    want = ref[:, channel] if channel is not None else None
    with sf.SoundFile(p) as f:
        reader = SampleReader(f, channel, block=4096)
        assert reader._pcm16 is not None
        got = np.empty(80000, dtype=np.float32)
        assert reader.read(got) == 70001
    if want is None:  # the mean of the channels, as livespec computes it in float32
        want = (ref[:, 0] + ref[:, 1] + ref[:, 2]) * np.float32(1 / 3)
    np.testing.assert_array_equal(got[:70001], want)


@pytest.mark.parametrize("channel", [None, 1])
def test_pcm16_read_ahead_gives_the_samples_in_order_across_refills(tmp_path, monkeypatch, channel):
    from livespec.export import frames

    monkeypatch.setattr(frames, "AHEAD_BYTES", 2 * 2 * 1000)  # 1000 stereo frames a refill
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (10_007, 2))
    p = tmp_path / "a.wav"
    sf.write(p, x, FS, subtype="PCM_16")
    ref = sf.read(p, dtype="float32", always_2d=True)[0]
    want = ref[:, channel] if channel is not None else (ref[:, 0] + ref[:, 1]) * np.float32(0.5)
    with sf.SoundFile(p) as f:
        reader = SampleReader(f, channel, block=700)
        assert reader._pcm16 is not None and len(reader._pcm16) == 1000
        parts, sizes = [], [1, 999, 1500, 333, 2500, 5000]
        for k in sizes:  # calls that end inside, at and across the buffer's refills
            wide = np.empty(k, dtype=np.float64)  # the direct path fills float64 too
            out = wide if channel is not None else np.empty(k, dtype=np.float32)
            got = reader.read(out)
            parts.append(out[:got])
            if got < k:
                break
        assert reader.read(np.empty(10, dtype=np.float32)) == 0  # at the end: nothing
        assert reader.read_total == 10_007
    np.testing.assert_array_equal(np.concatenate(parts), want)


@pytest.mark.parametrize(
    ("load", "fork", "threads"),
    [(0.0, False, 2), (1.4, False, 2), (1.6, False, 1), (7.0, False, 1), (7.0, True, 2)],
)
def test_one_job_gets_a_second_thread_only_on_an_idle_cpu(monkeypatch, load, fork, threads):
    """... or a second process whatever the load (no GIL between the two)."""
    from livespec.export import pool

    monkeypatch.setattr(pool, "default_workers", lambda: 2)
    monkeypatch.setattr(pool, "parts_fork", lambda: fork)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    got: list[int] = []
    monkeypatch.setattr(pool, "run_job", lambda job, opts: got.append(opts.threads))
    list(pool.ProcessPoolBackend(2).run([Job(Path("x.wav"), (), "x")], ExportOptions(Recipe())))
    assert got == [threads]
