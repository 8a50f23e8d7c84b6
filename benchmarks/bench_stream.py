"""Benchmark of ``livespec stream | livespec view -``: bandwidth and added latency.

Usage::

    python benchmarks/bench_stream.py                 # demo, 10 s, real time
    python benchmarks/bench_stream.py --input tone:1000@-6 --seconds 20 --fps 0

Bandwidth (bytes per second of audio) is measured without real time on ``--seconds`` of
the signal, for several frame rates and bin counts, through the real encoder. Latency is
measured in one process through the real pieces: a real-time test signal, the engine,
the reducer and encoder, the outbox and writer thread, an ``os.pipe``, the reader thread
and its decoder. For each streamed frame it takes the time from its newest analysis frame
being ready (the moment a local app would receive it) to the decoded frame being handed
to ``push`` (the moment the viewing app receives it): that is what the stream adds.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import SignalSource
from livespec.cli.stream import OUTBOX_FRAMES, _Outbox, _Writer
from livespec.config import AnalysisConfig
from livespec.engine import Engine, Frame
from livespec.stream.protocol import StreamReader, encode_header
from livespec.stream.reducer import Reducer, make_header
from livespec.stream.source import FdReader, StreamSource

FS = 48000


def bandwidth(spec: str, seconds: float) -> None:
    """Bytes per second for a few settings (not real time)."""
    a = AnalysisConfig(peaks=3)
    frames: list[Frame] = []
    src = SignalSource(spec, FS, 1, 1024, realtime=False, max_seconds=seconds)
    src.open()
    ring = RingBuffer(FS * 20, 1)
    engine = Engine(src, ring, a, frames.append, None, first_frame_start=0)
    src.attach(ring)
    while src.pump(1024):
        engine.process_available()
    engine.process_available()
    print(f"bandwidth, {spec}, {seconds:g} s, fft 4096 hop 1024, 3 peaks:")
    for fps, sent, grid in (
        (30, 1024, "log"),
        (0, 1024, "log"),
        (30, 2049, "log"),
        (30, 512, "log"),
        (30, 1024, "linear"),
    ):
        h = make_header(a, FS, fps, sent, grid, {})
        red = Reducer(h)
        t0 = time.perf_counter()
        n = len(encode_header(h)) + sum(len(r) for f in frames for r in red.add(f))
        cost = (time.perf_counter() - t0) / len(frames) * 1e6
        rate = "every frame" if fps == 0 else f"{fps} fps"
        print(
            f"  {rate:>11}  {h.sent:5d} bins {grid:6}  {n / seconds / 1000:6.1f} KB/s"
            f"  ({cost:.0f} µs per analysis frame to reduce and encode)"
        )


def latency(spec: str, seconds: float, fps: float) -> None:
    """Analysis frame ready -> decoded frame pushed, through a pipe (real time)."""
    a = AnalysisConfig(peaks=3)
    src = SignalSource(spec, FS, 1, 1024, realtime=True)
    src.open()
    ring = RingBuffer(FS * 20, 1)
    h = make_header(a, FS, fps, 1024, "log", {"host": "bench", "source": spec})
    red = Reducer(h)
    box = _Outbox(OUTBOX_FRAMES)
    box.put(encode_header(h))
    r, w = os.pipe()
    writer = _Writer(w, box)
    ready: dict[int, float] = {}
    pushed: dict[int, float] = {}

    def on_frame(f: Frame) -> None:  # engine thread
        recs = red.add(f)
        if recs:
            ready[f.index * h.hop // h.frame_hop] = time.monotonic()
        for rec in recs:
            box.put(rec, frame=True)

    engine = Engine(src, ring, a, on_frame, None)
    writer.start()
    header_read = threading.Event()
    holder: list[StreamSource] = []

    def open_reader() -> None:
        fdr = FdReader(r)
        holder.append(StreamSource(StreamReader(fdr, "pipe"), fdr, live=True, pace=False))
        header_read.set()

    opener = threading.Thread(target=open_reader)
    opener.start()
    header_read.wait()
    opener.join()
    source = holder[0]
    source.start(lambda f: pushed.__setitem__(f.index, time.monotonic()))
    src.start(ring)
    engine.start()
    time.sleep(seconds)
    engine.stop()
    src.stop()
    writer.close()
    os.close(w)
    source.stop()
    common = sorted(set(ready) & set(pushed))[10:]  # skip the warm-up
    d = np.array([pushed[i] - ready[i] for i in common]) * 1000.0
    print(
        f"latency added by the stream ({len(d)} frames, {spec}, {fps:g} fps): "
        f"median {np.median(d):.2f} ms, p95 {np.percentile(d, 95):.2f} ms, "
        f"p99 {np.percentile(d, 99):.2f} ms, max {d.max():.2f} ms; load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    """Run both measurements."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", default="demo")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--fps", type=float, default=30.0)
    ns = p.parse_args()
    bandwidth(ns.input, ns.seconds)
    latency(ns.input, ns.seconds, ns.fps)


if __name__ == "__main__":
    main()
