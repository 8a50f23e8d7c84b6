"""Benchmark: ``Spectrogram.to_audio`` (Griffin-Lim and the exact inverse STFT) against
``librosa.griffinlim`` and ``librosa.istft`` on the same magnitudes, measured in the same
run. Wall-clock medians (``time.perf_counter``) over repeats; one thread each (numpy's
pocketfft in both).

    python benchmarks/bench_audio.py [--seconds 10] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np


def median_s(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (imports, librosa's caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    import librosa

    import livespec
    from livespec.api.audio import magnitudes
    from livespec.dsp.istft import istft
    from livespec.export.dsp import recipe_window

    fs = 48000
    t = np.arange(int(args.seconds * fs)) / fs
    y = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.25 * np.sin(2 * np.pi * 3000 * t)
    n = len(y)
    S = livespec.spectrogram(y, fs, keep_phase=True)  # fft 4096, hop 1024, not centred
    mag = magnitudes(S).T
    assert S.stft is not None
    X = S.stft.T
    w = recipe_window(S.recipe)
    kw = dict(n_fft=4096, hop_length=1024, center=False, length=n)
    rows = [
        (
            "Griffin-Lim, 32 iterations",
            median_s(lambda: S.to_audio(32, method="griffinlim"), args.repeat),
            median_s(lambda: librosa.griffinlim(mag, n_iter=32, **kw), args.repeat),
        ),
        (
            "inverse STFT (exact)",
            median_s(lambda: S.to_audio(method="istft"), args.repeat),
            median_s(lambda: librosa.istft(X, **kw), args.repeat),
        ),
        (
            "  inverse alone (no re-analysis)",
            median_s(lambda: istft(S.stft, w, 1024, 4096, 0, n), args.repeat),
            median_s(lambda: librosa.istft(X, **kw), args.repeat),
        ),
    ]
    print(f"{args.seconds:g} s at 48 kHz, fft 4096, hop 1024; median of {args.repeat}")
    print(f"{'':32} {'livespec':>10} {'librosa':>10} {'ratio':>7}")
    for name, ours, theirs in rows:
        print(f"{name:32} {ours * 1e3:8.1f} ms {theirs * 1e3:7.1f} ms {ours / theirs:7.2f}")
    print("(livespec's exact inverse also re-analyses its output for the spectral convergence)")


if __name__ == "__main__":
    main()
