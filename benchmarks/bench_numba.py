"""Benchmark: would numba earn its place in the engine's per-frame DSP? (issue #16 item 3)

Issue #16 allows "a numba/C kernel if it earns its place". ``bench_floor.py`` measures
the compiled-C floor; this script measures numba on the step where a compiled loop should
gain most, the dB rows (power of the complex spectrum, rounded to float32, floored, and
``10*log10``), against the numpy passes ``SpectrumBlock._db`` makes, over a run of 16
frames of n = 4096 (2049 bins), CPU µs per frame, medians of ``--repeat`` passes. It also
times ``import numba`` in a fresh interpreter and the first call's JIT compilation,
which a live app would pay at start-up (or on a background thread, with numpy meanwhile).

numba is not a dependency of livespec: ``pip install numba`` into a scratch virtual
environment to run this.

    python benchmarks/bench_numba.py [--repeat 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

BINS, FRAMES = 2049, 16


def per_frame(call: Callable[[], object], repeat: int, loops: int = 300) -> float:
    """Median CPU µs per frame of ``call`` (one run of FRAMES frames per call)."""
    call()
    times = []
    for _ in range(repeat):
        c0 = time.process_time()
        for _ in range(loops):
            call()
        times.append((time.process_time() - c0) / loops / FRAMES * 1e6)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    code = "import time; t = time.perf_counter(); import numba; print(time.perf_counter() - t)"
    imports = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        * 1e3
        for _ in range(5)
    ]
    import numba  # type: ignore[import-not-found]  # not a dependency

    @numba.njit(fastmath=True)  # type: ignore[misc]
    def db_numba(xv: np.ndarray, out: np.ndarray) -> None:
        scale, floor = np.float32(10.0 / math.log(10.0)), np.float32(1e-20)
        for j in range(out.shape[0]):
            for i in range(out.shape[1]):
                p = np.float32(xv[j, i, 0] * xv[j, i, 0] + xv[j, i, 1] * xv[j, i, 1])
                out[j, i] = math.log(max(p, floor)) * scale

    rng = np.random.default_rng(1)
    xv = rng.standard_normal((FRAMES, BINS, 2))
    out = np.empty((FRAMES, BINS), np.float32)
    t0 = time.perf_counter()
    db_numba(xv, out)
    jit_ms = (time.perf_counter() - t0) * 1e3
    sq, db = np.empty_like(xv), np.empty((FRAMES, BINS), np.float32)
    floor = np.full((FRAMES, BINS), 1e-20, np.float32)
    scale = np.float32(10.0 / np.log(10.0))

    def db_numpy() -> None:  # SpectrumBlock._db's passes
        np.multiply(xv, xv, sq)
        np.add(sq[..., 0], sq[..., 1], db)
        np.maximum(db, floor, out=db)
        np.log(db, db)
        np.multiply(db, scale, db)

    db_numpy()
    gap = float(np.max(np.abs(db - out)))
    med = {
        "numba_db_us": per_frame(lambda: db_numba(xv, out), args.repeat),
        "numpy_db_us": per_frame(db_numpy, args.repeat),
        "import_numba_ms": statistics.median(imports),
        "first_call_jit_ms": jit_ms,
        "max_abs_diff_db": gap,
    }
    if args.json:
        print(json.dumps({k: round(v, 6) for k, v in med.items()}))
        return 0
    print(f"numba {numba.__version__}, numpy {np.__version__}, {FRAMES} frames x {BINS} bins")
    for key, value in med.items():
        print(f"{key:18s} {value:10.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
