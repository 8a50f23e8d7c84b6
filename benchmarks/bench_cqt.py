"""Benchmark: the live CQT (livespec/dsp/cqt_live.py, cqt_switch.py).

``switch``: the longest gap between two frames delivered by the engine's worker (48 kHz
test signal in real time, n = 4096, hop 1024: one frame every 21.3 ms) around the switch
to the cqt scale (``Engine.set_cqt``), with the transform built on its own thread (as the
engine does) and, as the reference, on the worker itself (as it did before); also when
the first CQT row came. Interleaved runs, medians.

    python benchmarks/bench_cqt.py switch --repeat 7
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np


def switch_once(on_worker: bool) -> tuple[float, float, float]:
    """One switch: (the longest gap around it, the usual gap, the first CQT row after the
    switch), seconds."""
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.audio.sources import make_source
    from livespec.config import AnalysisConfig
    from livespec.dsp.cqt_live import live_layout
    from livespec.engine import Engine, Frame

    source = make_source("tone:440@-6", samplerate=48000, blocksize=1024)
    source.open()
    ring = RingBuffer(1 << 18, 1)
    seen: list[tuple[float, bool]] = []

    def consume(frame: Frame) -> None:
        seen.append((time.monotonic(), frame.cqt is not None))

    engine = Engine(source, ring, AnalysisConfig(fft=4096), consume)
    if on_worker:  # the reference: the build on the worker, as before cqt_switch
        update = engine.cqt_switch.update

        def on_the_worker(*args: Any, background: bool) -> None:
            update(*args, background=False)

        engine.cqt_switch.update = on_the_worker  # type: ignore[method-assign]
    source.attach(ring)
    engine.feed = source.write_due  # type: ignore[attr-defined]
    engine.start()
    try:
        time.sleep(1.0)
        t_switch = time.monotonic()
        engine.set_cqt(live_layout(48000))
        time.sleep(1.5)
    finally:
        engine.stop()
        source.stop()
    t = np.array([s[0] for s in seen])
    gaps, after = np.diff(t), t[1:]
    near = (after > t_switch - 0.05) & (after < t_switch + 1.0)
    first = next((s[0] for s in seen if s[1]), float("nan")) - t_switch
    return float(gaps[near].max()), float(np.median(gaps[after < t_switch])), first


def bench_switch(repeat: int) -> None:
    runs: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    for _ in range(repeat):
        for on_worker in (True, False):
            runs[on_worker].append(switch_once(on_worker))
    print(f"switch to the cqt scale, 48 kHz, n=4096 hop=1024, {repeat} runs each, medians:")
    for on_worker, name in ((True, "built on the worker (reference)"), (False, "built off it")):
        r = runs[on_worker]
        gap = statistics.median(x[0] for x in r) * 1e3
        usual = statistics.median(x[1] for x in r) * 1e3
        first = statistics.median(x[2] for x in r) * 1e3
        each = ", ".join(f"{x[0] * 1e3:.0f}" for x in r)
        print(
            f"  {name:33s}: longest gap {gap:6.1f} ms (usual {usual:.1f} ms; runs {each}), "
            f"first CQT row after {first:.0f} ms"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["switch"], nargs="?", default="switch")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    if args.what == "switch":
        bench_switch(args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
