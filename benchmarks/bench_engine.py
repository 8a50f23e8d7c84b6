"""Benchmark: CPU and callback-to-frame latency of the live analysis path.

Runs, in this one process, the real capture path (PortAudio through the virtual input
device of tests/support/virtual_audio.py, or ``--source signal`` for a paced test signal) twice
for the same duration:

1. capture only: the source writes into the ring, nothing reads it (the reference);
2. capture + engine: the analysis worker computes every frame (48 kHz mono, n = 4096,
   75 % overlap by default) and hands it to a no-op consumer.

CPU is the process's CPU time (all threads: PortAudio's callback, the engine worker,
Python's main thread) over wall time, as a percentage of one core. The engine's own share
is the difference between the two runs. Latency is from the moment the frame's last sample
was written into the ring (the callback's ``ring.write``) to the frame being ready.

    python benchmarks/bench_engine.py --seconds 20
    python benchmarks/bench_engine.py --source signal --seconds 20

The machines are shared and noisy: quote medians over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def run_once(
    source_kind: str, seconds: float, with_engine: bool, fft: int, overlap: float, blocksize: int
) -> dict[str, float]:
    """One measured run; returns CPU % of one core and latency figures (ms)."""
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.audio.sources import make_source
    from livespec.config import AnalysisConfig
    from livespec.engine import Engine

    if source_kind == "device":
        source = make_source(None, device="pulse", samplerate=48000, blocksize=blocksize)
    else:
        source = make_source("tone:1000@-6", samplerate=48000, blocksize=blocksize)
    source.open()
    ring = RingBuffer(48000 * 20, source.channels)
    engine = None
    frames = 0

    def consume(frame: object) -> None:
        nonlocal frames
        frames += 1

    if with_engine:
        engine = Engine(source, ring, AnalysisConfig(fft=fft, overlap=overlap), consume)
        engine.keep_latencies = True
    source.start(ring)
    if engine is not None:
        engine.start()
    time.sleep(1.0)  # settle: stream start-up, first frames
    if engine is not None:
        engine.latencies.clear()
    c0, t0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    c1, t1 = time.process_time(), time.monotonic()
    if engine is not None:
        engine.stop()
    source.stop()
    out = {"cpu_pct": 100.0 * (c1 - c0) / (t1 - t0), "overflows": float(source.overflows)}
    if engine is not None:
        lat = np.array([x for x in engine.latencies if x == x]) * 1000.0
        out.update(
            frames_per_s=len(engine.latencies) / (t1 - t0),
            lat_median_ms=float(np.median(lat)),
            lat_p99_ms=float(np.percentile(lat, 99)),
            lat_max_ms=float(np.max(lat)),
            lost_frames=float(engine.lost_frames),
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--source", choices=["device", "signal"], default="device")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fft", type=int, default=4096)
    ap.add_argument("--overlap", type=float, default=0.75)
    ap.add_argument("--blocksize", type=int, default=1024)
    args = ap.parse_args()

    va = None
    if args.source == "device" and "PULSE_SERVER" not in os.environ:
        from support.virtual_audio import VirtualAudio

        va = VirtualAudio(Path("/tmp/livespec-bench-va"), rate=48000, freq=1000.0, amp=0.5)
        va.start()
        os.environ.update(va.env)
    try:
        from livespec.dsp.stft import Spectrum

        Spectrum(args.fft, "hann")  # plan once so wisdom exists, as on a user's second start
        ref, eng = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            ref.append(
                run_once(args.source, args.seconds, False, args.fft, args.overlap, args.blocksize)
            )
            eng.append(
                run_once(args.source, args.seconds, True, args.fft, args.overlap, args.blocksize)
            )
    finally:
        if va is not None:
            va.stop()

    def runs(rows: list[dict[str, float]]) -> str:
        return ", ".join(format(r["cpu_pct"], ".2f") for r in rows)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(
        f"source={args.source} fs=48000 fft={args.fft} overlap={args.overlap} "
        f"blocksize={args.blocksize} seconds={args.seconds} repeat={args.repeat}"
    )
    print(f"capture only        : CPU {med(ref, 'cpu_pct'):.2f} % of one core (runs: {runs(ref)})")
    print(f"capture + engine    : CPU {med(eng, 'cpu_pct'):.2f} % of one core (runs: {runs(eng)})")
    print(f"engine share        : {med(eng, 'cpu_pct') - med(ref, 'cpu_pct'):.2f} % of one core")
    print(f"frames/s            : {med(eng, 'frames_per_s'):.1f}")
    print(
        f"latency (ms)        : median {med(eng, 'lat_median_ms'):.3f}, "
        f"p99 {med(eng, 'lat_p99_ms'):.3f}, max {max(r['lat_max_ms'] for r in eng):.3f}"
    )
    print(
        f"overflows           : {sum(r['overflows'] for r in ref + eng):.0f}; "
        f"lost frames {sum(r['lost_frames'] for r in eng):.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
