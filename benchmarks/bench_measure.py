"""Benchmark: what one ``Measurer.measure`` call costs, and the harmonic detection's share.

A 2 s block average (8 frames of 32768 at 48 kHz) of a -40 dBFS tone in white noise
(-57 dBFS); medians over ``--repeat`` calls, wall time (``time.perf_counter``), in one
process: ``measure`` whole, and ``split_harmonics`` (livespec/dsp/harmonics.py) alone on
the arguments ``measure`` passed it. Rows for ``--harmonics 10`` at 1 kHz (9 regions)
and ``--harmonics 100`` at 200 Hz (98 regions).

    python benchmarks/bench_measure.py [--repeat 400]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import livespec.dsp.measure as measure_module
from livespec.dsp.averaging import CumulativeAverager
from livespec.dsp.measure import Measurer

FS = 48000


def _median_us(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e6 * float(np.median(times))


def row(harmonics: int, f0: float, repeat: int) -> dict[str, float]:
    m = Measurer(FS, harmonics=harmonics, backend="numpy", wisdom=False)
    rng = np.random.default_rng(0)
    t = np.arange(m.n + 7 * m.hop) / FS
    x = (0.01 * np.sin(2 * np.pi * f0 * t) + 1e-3 * rng.standard_normal(t.size)).astype(np.float32)
    avg = CumulativeAverager(m.bins)
    for i in range(8):
        power = avg.update(m.power(x[i * m.hop : i * m.hop + m.n]))
    frames = m.equivalent_frames(avg)
    seen: list[tuple[Any, ...]] = []
    split = measure_module.split_harmonics

    def spy(*args: Any) -> Any:
        seen.append(args)
        return split(*args)

    measure_module.split_harmonics = spy  # type: ignore[assignment]
    try:
        m.measure(power, frames)
    finally:
        measure_module.split_harmonics = split
    whole = _median_us(lambda: m.measure(power, frames), repeat)
    part = _median_us(lambda: split(*seen[0]), repeat)
    return {"regions": len(seen[0][4]), "measure_us": whole, "harmonics_us": part}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=400)
    args = ap.parse_args()
    for harmonics, f0 in ((10, 1000.0), (100, 200.0)):
        r = row(harmonics, f0, args.repeat)
        print(
            f"harmonics {harmonics:3d} f0 {f0:6g} Hz regions {r['regions']:3.0f}: "
            f"measure {r['measure_us']:6.0f} us, harmonic detection {r['harmonics_us']:5.0f} us "
            f"({100 * r['harmonics_us'] / r['measure_us']:.0f} %)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
