"""Benchmark: the warm cost of one analysis frame in the engine, against FFTW alone.

Three figures, in µs of CPU time per frame (``time.process_time``), medians over
``--repeat`` passes, measured in one process one after the other, interleaved:

* **FFTW execute**: the planned transform alone (``RealFFT.execute``), the floor;
* **engine step**: ``Engine.process_available`` over a ring that already holds
  ``--seconds`` of a tone in noise, every frame analysed and handed to a no-op consumer
  (read the ring view, window, FFT, dBFS row, levels, peak search and refinement, the
  ``Frame``): what the engine's worker pays per frame when its caches are warm (frames
  analysed in runs of up to 16, the engine's default; ``--batch 1`` measures one frame at
  a time, what a worker woken for every frame pays, and adds the row **engine, one frame
  at a time**);
* **numpy script**: what a plain numpy script does for the same frame (window, ``rfft``,
  ``abs``, ``log10``, ``argmax``), a reference for "no faster than numpy".

    python benchmarks/bench_frame.py [--fft 4096] [--repeat 30] [--batch N] [--json]

Run it with ``PYTHONPATH`` pointing at two trees to compare before and after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fft", type=int, default=4096)
    ap.add_argument("--overlap", type=float, default=0.75)
    ap.add_argument("--seconds", type=float, default=4.0, help="audio in the ring per pass")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument(
        "--batch", type=int, default=0, help="also the engine with runs of at most N frames"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from livespec.audio.ringbuffer import RingBuffer
    from livespec.audio.sources import make_source
    from livespec.config import AnalysisConfig
    from livespec.dsp.fftw import RealFFT
    from livespec.engine import Engine

    fs, n = 48000, args.fft
    total = int(args.seconds * fs)
    rng = np.random.default_rng(1)
    t = np.arange(total) / fs
    x = (0.5 * np.sin(2 * np.pi * 1000.37 * t) + 1e-3 * rng.standard_normal(total)).astype(
        np.float32
    )
    source = make_source("tone:1000", samplerate=fs, realtime=False)
    source.open()
    ring = RingBuffer(total, 1)
    ring.write(x)
    delivered = 0

    def consume(frame: object) -> None:
        nonlocal delivered
        delivered += 1

    cfg = AnalysisConfig(fft=n, overlap=args.overlap)
    engine = Engine(source, ring, cfg, consume, None, 0)
    hop = engine.hop
    engines = {"engine_step": engine}
    if args.batch:
        try:
            engines["engine_batch"] = Engine(source, ring, cfg, consume, None, 0, batch=args.batch)
        except TypeError:  # an engine from before runs existed: one frame at a time
            engines["engine_batch"] = Engine(source, ring, cfg, consume, None, 0)
    frames = (total - n) // hop + 1

    fft = RealFFT(n)
    fft.input[:] = rng.standard_normal(n)
    window = np.hanning(n + 1)[:-1]

    def engine_pass(engine: Engine) -> float:
        engine.framer.reset(n, hop, 0)
        c0 = time.process_time()
        done = engine.process_available()
        c1 = time.process_time()
        assert done == frames, (done, frames)
        return (c1 - c0) / frames * 1e6

    def fftw_pass() -> float:
        execute = fft.execute
        c0 = time.process_time()
        for _ in range(frames):
            execute()
        return (time.process_time() - c0) / frames * 1e6

    def numpy_pass() -> float:
        c0 = time.process_time()
        for k in range(frames):
            seg = x[k * hop : k * hop + n]
            spec = np.fft.rfft(seg * window)
            db = 20.0 * np.log10(np.abs(spec) + 1e-12)
            int(np.argmax(db))
        return (time.process_time() - c0) / frames * 1e6

    for e in engines.values():  # warm up
        engine_pass(e)
    fftw_pass()
    numpy_pass()
    runs: dict[str, list[float]] = {"fftw_execute": [], "numpy_script": []}
    runs.update({name: [] for name in engines})
    for _ in range(args.repeat):
        runs["fftw_execute"].append(fftw_pass())
        for name, e in engines.items():
            runs[name].append(engine_pass(e))
        runs["numpy_script"].append(numpy_pass())
    med = {k: statistics.median(v) for k, v in runs.items()}
    if args.json:
        print(json.dumps({k: round(v, 2) for k, v in med.items()}))
        return 0
    print(f"n={n} hop={hop} frames/pass={frames} repeat={args.repeat} (CPU µs per frame)")
    for k, v in med.items():
        print(f"{k:14s} {v:8.2f} µs")
    print(f"engine / FFTW execute: {med['engine_step'] / med['fftw_execute']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
