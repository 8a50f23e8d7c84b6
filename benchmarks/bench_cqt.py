"""Benchmark: the live CQT (livespec/dsp/cqt_live.py, cqt_switch.py).

``switch``: the longest gap between two frames delivered by the engine's worker (48 kHz
test signal in real time, n = 4096, hop 1024: one frame every 21.3 ms) around the switch
to the cqt scale (``Engine.set_cqt``), with the transform built on its own thread (as the
engine does) and, as the reference, on the worker itself (as it did before); also when
the first CQT row came. Interleaved runs, medians.

``frame``: for each kernel sparsity (the fraction of each kernel's L1 mass dropped; the
live default and librosa's 0.01), the leakage of -6 dBFS tones (one every 5 bins, random
offsets within their bin and phases) one and two octaves away and more, against a direct
constant-Q sum over the same samples (the kernels' time-domain inner product, no FFT, no
truncation), and ``LiveCqt.compute``'s cost per frame (216 bins at 48 kHz, hop 1024,
FFTW as in the app; the mean over 240 frames, 20 cycles of the C1 octave's 12, per repeat;
repeats interleaved, medians).

    python benchmarks/bench_cqt.py switch --repeat 7
    python benchmarks/bench_cqt.py frame --repeat 15
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


def direct_dbfs(live: Any, x: np.ndarray, fs: float) -> np.ndarray:
    """The reference: each bin's kernel (``time_kernel``) times the newest samples of
    ``x`` where the live CQT centres it, summed directly; dBFS."""
    from livespec.dsp.cqt import time_kernel

    layout = live.layout
    freqs, lengths = layout.freqs(), layout.lengths(fs)
    out = np.empty(layout.n_bins)
    for o in live.octaves:
        n = o.fft.nfft
        seg = x[x.shape[0] - n :]
        for k in o.bins:
            tk = time_kernel(float(freqs[k]), float(lengths[k]), fs, "hann")
            first = n // 2 - tk.shape[0] // 2
            c = np.sum(seg[first : first + tk.shape[0]] * np.conj(tk))
            out[k] = 10.0 * np.log10(max(4.0 * abs(c) ** 2, 1e-20))
    return out


def bench_frame(repeat: int, sparsities: list[float]) -> None:
    from livespec.dsp.cqt_live import LIVE_SPARSITY, LiveCqt, live_layout

    fs = 48000.0
    layout = live_layout(fs)
    lives = {s: LiveCqt(layout, fs, 1024, max_fft=1 << 18, sparsity=s) for s in sparsities}
    rng = np.random.default_rng(2)
    idx = np.arange(layout.n_bins)
    n = 1 << 17
    worst: dict[float, dict[int, list[float]]] = {s: {1: [], 2: []} for s in sparsities}
    ref_worst: dict[int, list[float]] = {1: [], 2: []}
    excess: dict[float, list[float]] = {s: [] for s in sparsities}
    for k0 in range(3, layout.n_bins, 5):
        f0 = float(layout.freqs()[k0]) * 2.0 ** (rng.uniform(-0.5, 0.5) / 24)
        x = 0.5 * np.sin(2 * np.pi * f0 * np.arange(n) / fs + rng.uniform(0, 2 * np.pi))
        ref = direct_dbfs(lives[sparsities[0]], x, fs)

        def newest(m: int, out: np.ndarray, x: np.ndarray = x) -> bool:
            out[:] = x[-m:]
            return True

        for octs in (1, 2):
            far = np.abs(idx - k0) >= 24 * octs
            ref_worst[octs].append(float(ref[far].max()))
        for s, live in lives.items():
            live.reset()
            row = live.compute(0, newest)
            for octs in (1, 2):
                far = np.abs(idx - k0) >= 24 * octs
                worst[s][octs].append(float(row[far].max()))
            far = np.abs(idx - k0) >= 24
            excess[s].append(float(row[far].max() - max(ref[far].max(), -120.0)))
    noise = rng.standard_normal(n) * 0.1

    def newest_noise(m: int, out: np.ndarray) -> bool:
        out[:] = noise[-m:]
        return True

    cost: dict[float, list[float]] = {s: [] for s in sparsities}
    for _ in range(repeat):
        for s, live in lives.items():
            live.reset()
            t0 = time.perf_counter()
            for i in range(240):
                live.compute(i, newest_noise)
            cost[s].append((time.perf_counter() - t0) / 240 * 1e6)
    base = statistics.median(cost[sparsities[0]])
    print(
        f"live CQT, 48 kHz, 216 bins, hop 1024, {len(ref_worst[1])} tones at -6 dBFS; "
        f"direct sum's worst: {max(ref_worst[1]):.1f} dBFS >= 1 octave away, "
        f"{max(ref_worst[2]):.1f} >= 2 octaves; cost: {repeat} repeats, medians"
    )
    for s in sparsities:
        nnz = sum(o.kernel.nnz for o in lives[s].octaves)
        mark = " (live default)" if s == LIVE_SPARSITY else ""
        us = statistics.median(cost[s])
        print(
            f"  sparsity {s:<7g}{mark:15s}: worst leakage {max(worst[s][1]):6.1f} dBFS >= 1 "
            f"octave away, {max(worst[s][2]):6.1f} >= 2; >= 1 octave, above max(direct, "
            f"-120 dBFS) by at most {max(excess[s]):+5.1f} dB; "
            f"{us:6.1f} us/frame (x{us / base:.3f}), nnz {nnz}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["switch", "frame"], nargs="?", default="switch")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--sparsity", type=float, action="append", help="default: 0.01 0.001 3e-4")
    args = ap.parse_args()
    if args.what == "switch":
        bench_switch(args.repeat)
    else:
        bench_frame(args.repeat, args.sparsity or [0.01, 0.001, 3e-4])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
