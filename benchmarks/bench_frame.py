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

``--steps`` adds where an engine step's time goes: each step of the analysis timed alone
in a loop over one run of 16 frames (µs per frame, medians), and the delivery (the
``Frame`` and the framer's loop) as a whole pass with the analysis's result reused.

``--before TREE`` measures a second tree too (a checkout of the code before a change):
``--rounds`` rounds, each running this script once for each tree (in turn, the order
alternating) with ``PYTHONPATH`` at that tree; it prints the medians over the rounds, the
median of the per-round differences, and the load average before and after.

    python benchmarks/bench_frame.py [--fft 4096] [--repeat 30] [--batch N] [--steps]
        [--json] [--before TREE [--rounds 9]]

Run it with ``PYTHONPATH`` pointing at the tree to measure (or use ``--before``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    ap.add_argument("--steps", action="store_true", help="also where an engine step goes")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--before", type=Path, help="also this tree, round by round")
    ap.add_argument("--rounds", type=int, default=9, help="rounds with --before")
    args = ap.parse_args()
    if args.before is not None:
        return compare(args)

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
    if args.steps:
        med.update(steps(engine, ring, args.repeat, engine_pass))
    if args.json:
        print(json.dumps({k: round(v, 2) for k, v in med.items()}))
        return 0
    print(f"n={n} hop={hop} frames/pass={frames} repeat={args.repeat} (CPU µs per frame)")
    for k, v in med.items():
        print(f"{k:14s} {v:8.2f} µs")
    print(f"engine / FFTW execute: {med['engine_step'] / med['fftw_execute']:.2f}x")
    return 0


def steps(
    engine: Any, ring: Any, repeat: int, engine_pass: Callable[[Any], float]
) -> dict[str, float]:
    """µs per frame of each step of the analysis of one run of 16 frames (timed alone, in a
    loop: warm), and of the delivery (a pass whose analysis is one result reused). Reaches
    into the engine's internals: for this tree's code only."""
    from livespec.dsp.peaks_run import find_run

    e = engine
    block, n, hop = e.block, e.config.fft, e.hop
    k = block.max_frames
    span = ring.window(0, (k - 1) * hop + n)
    v = block._views[k] or block._make_views(k)
    run = block.compute(span, None)
    column = span[:, 0]

    def fft() -> None:
        for execute in v.plans:
            execute()

    parts: dict[str, Callable[[], object]] = {
        "step_copy": lambda: np.copyto(v.x, column),
        "step_window": lambda: np.multiply(v.frames_x, block._window, v.frames_in),
        "step_fft": fft,
        "step_db": lambda: block._db(v, k),
        "step_levels": lambda: block._levels(v, k, 1.0),
        "step_peaks": lambda: find_run(e.peak_finder, run.X, run.db, block.x_gain),
        "step_compute": lambda: block.compute(span, None),
        "step_analyse": lambda: e._analyse(span),
    }
    out: dict[str, float] = {}
    loops = 200
    for name, call in parts.items():
        call()
        times = []
        for _ in range(max(5, repeat // 3)):
            c0 = time.process_time()
            for _ in range(loops):
                call()
            times.append((time.process_time() - c0) / loops / k * 1e6)
        out[name] = statistics.median(times)
    analysed = e._analyse(span)
    e._analyse = lambda view: analysed  # the delivery alone: the analysis reused
    try:
        out["step_deliver"] = statistics.median(engine_pass(e) for _ in range(repeat))
    finally:
        del e._analyse
    return out


def compare(args: argparse.Namespace) -> int:
    """Run this script for the tree on ``PYTHONPATH`` (or this file's) and for
    ``--before``, round by round, and print both."""
    here = Path(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or Path(__file__).parents[1])
    trees = {"before": args.before.resolve(), "after": here.resolve()}
    argv = [sys.executable, str(Path(__file__).resolve()), "--json", "--repeat", str(args.repeat)]
    argv += ["--fft", str(args.fft), "--overlap", str(args.overlap)]
    argv += ["--seconds", str(args.seconds)] + (["--batch", str(args.batch)] if args.batch else [])
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    load0 = os.getloadavg()[0]
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for name in order:
            env = {**os.environ, "PYTHONPATH": str(trees[name])}
            out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    load1 = os.getloadavg()[0]
    rows = {}
    for key in results["after"][0]:
        b = [r[key] for r in results["before"] if key in r]
        a = [r[key] for r in results["after"]]
        diff = [y - x for x, y in zip(b, a, strict=False)]
        rows[key] = {
            "before": statistics.median(b) if b else float("nan"),
            "after": statistics.median(a),
            "diff": statistics.median(diff) if diff else float("nan"),
        }
    if args.json:
        print(json.dumps({"rows": rows, "load": [load0, load1]}))
        return 0
    print(f"before: {trees['before']}  after: {trees['after']}  rounds {args.rounds}")
    print(f"{'(CPU µs per frame)':18s} {'before':>8s} {'after':>8s} {'median diff':>12s}")
    for key, row in rows.items():
        print(f"{key:18s} {row['before']:8.2f} {row['after']:8.2f} {row['diff']:+12.2f}")
    print(f"load average (1 min) {load0:.2f} before, {load1:.2f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
