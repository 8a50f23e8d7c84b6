"""Benchmark: ``PeakFinder.find`` on frames whose DC lobe dominates (the DC-skirt rule of
peaks_edge.py) beside normal frames, in the same run.

Frames (n = 4096, hann, 48 kHz, float32 like the ring, the app's defaults):

* ``tone 1 kHz``: 0.5 sin(1000.37 Hz) + 1e-4 noise (a normal frame: the fast ratio path);
* ``tone 327 Hz``: 0.5 sin(327.2 Hz) + 1e-4 noise (a normal frame whose peak lies within
  48 bins of DC, so it is refined by the fit: the path the DC frames' peaks take);
* ``DC + noise``: 0.5 + 1e-4 noise (every candidate lies under the DC lobe's level);
* ``DC + weak tone``: 0.5 + 1e-3 sin(1000.37 Hz) + 1e-4 noise.

Wall-clock µs per call, the median of ``--repeat`` runs of ``--calls`` calls each, and the
ratio to the normal 1 kHz frame of the same run.

    python benchmarks/bench_skirt.py [--calls 300] [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def frames(n: int, fs: float) -> dict[str, np.ndarray]:
    """The benchmark's frames, float32 (n, 1)."""
    rng = np.random.default_rng(0)
    t = np.arange(n) / fs
    noise = 1e-4 * rng.standard_normal(n)
    sig = {
        "tone 1 kHz": 0.5 * np.sin(2 * np.pi * 1000.37 * t) + noise,
        "tone 327 Hz": 0.5 * np.sin(2 * np.pi * 327.2 * t) + noise,
        "DC + noise": 0.5 + noise,
        "DC + weak tone": 0.5 + 1e-3 * np.sin(2 * np.pi * 1000.37 * t) + noise,
    }
    return {k: v.astype(np.float32).reshape(n, 1) for k, v in sig.items()}


def main() -> int:
    from livespec.dsp.peaks import PeakFinder
    from livespec.dsp.stft import Spectrum

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--window", default="hann")
    ap.add_argument("--n", type=int, default=4096)
    args = ap.parse_args()
    fs = 48000.0
    spec = Spectrum(args.n, args.window, backend="numpy", wisdom=False)
    finder = PeakFinder(spec, fs)
    print(f"load average: {os.getloadavg()[0]:.2f}; n {args.n}, {args.window}")
    results = {}
    for name, x in frames(args.n, fs).items():
        X = spec.compute(x).copy()
        db = spec.db().copy()
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for _ in range(args.calls):
                finder.find(X, db)
            runs.append((time.perf_counter() - t0) / args.calls * 1e6)
        results[name] = statistics.median(runs)
        (peak,) = finder.find(X, db)
        print(
            f"  {name:15s} {results[name]:7.1f} µs  x{results[name] / results['tone 1 kHz']:5.1f}"
            f"   peak {peak.freq_hz:9.3f} Hz {peak.level_dbfs:8.2f} dBFS"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
