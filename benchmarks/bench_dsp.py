"""Benchmark: FFTW planning (cold and with saved wisdom) and the per-frame DSP costs.

Planning is timed in fresh processes with an empty cache folder (cold: FFTW_MEASURE) and
then again with the wisdom the first process saved (a user's second start). Per-frame
costs are CPU time (``time.process_time``) medians over repeats of many frames, with the
numpy FFT measured in the same run as a reference.

    python benchmarks/bench_dsp.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PLAN_CODE = (
    "import time, sys\n"
    "from livespec.dsp.stft import Spectrum\n"
    "import pyfftw  # imported before timing: only planning is measured\n"
    "t = time.perf_counter(); s = Spectrum(int(sys.argv[1]), 'hann')\n"
    "print(time.perf_counter() - t, s.plan_seconds, s.wisdom_loaded)\n"
)


def plan_times(n: int) -> list[tuple[float, float]]:
    """[(whole Spectrum s, FFTW planning s)] for a cold start and a start with wisdom, each
    in a fresh process."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        out = []
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-c", PLAN_CODE, str(n)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            whole, plan = done.stdout.split()[:2]
            out.append((float(whole), float(plan)))
    return out


def per_frame(n: int, backend: str, frames: int = 2000, repeat: int = 5) -> dict[str, float]:
    """Median CPU µs per frame for compute, db and the peak fit."""
    from livespec.dsp.peaks import PeakFinder
    from livespec.dsp.stft import Spectrum

    rng = np.random.default_rng(0)
    x = 0.5 * np.sin(2 * np.pi * 1000.37 * np.arange(n) / 48000) + 1e-4 * rng.standard_normal(n)
    x32 = x.astype(np.float32).reshape(n, 1)
    spec = Spectrum(n, "hann", backend=backend)
    finder = PeakFinder(spec, 48000.0)
    out = np.empty(spec.bins, dtype=np.float32)
    X = spec.compute(x32)
    db = spec.db(out)

    def timed(fn: object) -> float:
        runs = []
        for _ in range(repeat):
            t0 = time.process_time()
            for _ in range(frames):
                fn()  # type: ignore[operator]
            runs.append((time.process_time() - t0) / frames * 1e6)
        return statistics.median(runs)

    return {
        "compute": timed(lambda: spec.compute(x32)),
        "db": timed(lambda: spec.db(out)),
        "peak": timed(lambda: finder.find(X, db)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1024,4096,16384,65536")
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print("ready analyzer (window, tables, wisdom file, plan) / FFTW planning alone, ms:")
    print("       n   cold (FFTW_MEASURE)      second start (saved wisdom)")
    for n in (int(s) for s in args.sizes.split(",")):
        (cw, cp), (ww, wp) = plan_times(n)
        print(
            f"  {n:6d}   {cw * 1000:7.1f} / {cp * 1000:7.1f}"
            f"        {ww * 1000:6.2f} / {wp * 1000:5.2f}"
        )
    print("per frame (CPU µs, median of 5 x 2000 frames), n = 4096:")
    for backend in ("fftw", "numpy"):
        r = per_frame(4096, backend)
        print(
            f"  {backend:5s}  compute {r['compute']:6.1f}  db {r['db']:6.1f}  "
            f"peak fit {r['peak']:6.1f}  total {sum(r.values()):6.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
