"""Benchmark: what the engine's DSP would cost per frame as compiled code, on this machine.

Issue #16 asks for the whole engine step in <= 12 µs a warm frame at n = 4096. This script
measures the floor a compiled kernel reaches, to tell whether the target is within reach
of compiled code at all. It compiles a small C kernel with the system's ``cc`` (``-O3
-march=native -ffast-math``, glibc's vector ``logf``) into a temporary folder and calls
the FFTW library that pyFFTW loaded (found in ``/proc/self/maps``, planned with
``FFTW_MEASURE`` after livespec's wisdom), so nothing here is part of the package.

Rows, CPU µs per frame (``time.process_time``), medians over ``--repeat`` passes over
``--seconds`` of a tone in noise, the passes interleaved in one process:

* **fftw_pyfftw**: ``RealFFT.execute`` alone (the engine's FFT, through pyFFTW);
* **fftw_c**: the same plan's ``fftw_execute_dft_r2c`` called from C, one frame at a time;
* **c_fused**: one C call per run of 16 frames, each frame done whole while it is in the
  L1 cache: the float32 samples to float64 times the window with their sum of squares
  and largest square (the levels), the FFT, the power rounded to float32, DC and Nyquist
  quartered, floored, ``10*log10`` and the argmax: the engine's ``SpectrumBlock.compute``
  plus the peak search's argmax, without the peak refinement and the ``Frame``;
* **c_passes**: the same work as passes over the whole run (window all 16, 16 FFTs, dB
  all 16), as numpy does it;
* **numpy_compute**: ``SpectrumBlock.compute`` and the rows' argmax (the same work in
  numpy);
* **engine_step**: ``Engine.process_available`` (what ``bench_frame.py`` reports: the
  above plus the peak refinement, the ``Frame`` and the framer).

It also prints how far the kernel's dB rows are from numpy's (fast-math and the vector log
differ in the last bits) and whether the argmax agrees.

    python benchmarks/bench_floor.py [--fft 4096] [--repeat 30] [--json]

Run it with ``PYTHONPATH`` pointing at the tree to measure. Needs ``cc``; Linux only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

KERNEL = r"""
#include <math.h>
typedef void (*exec_fn)(void *plan, double *in, double *out);

static void frame_db(const double *r, float *d, int bins, int even, int *top) {
    const float fl = 1e-20f, scale = (float)(10.0 / log(10.0));
    #pragma omp simd
    for (int i = 0; i < bins; i++) d[i] = (float)(r[2*i] * r[2*i] + r[2*i+1] * r[2*i+1]);
    d[0] *= 0.25f;
    if (even) d[bins - 1] *= 0.25f;
    #pragma omp simd
    for (int i = 0; i < bins; i++) { float p = d[i] > fl ? d[i] : fl; d[i] = logf(p) * scale; }
    int b = 0; float m = d[0];
    for (int i = 1; i < bins; i++) if (d[i] > m) { m = d[i]; b = i; }
    *top = b;
}

static void frame_window(const float *f, const double *w, double *in, int n,
                         double *sum, double *peak) {
    double s = 0, t = 0;
    #pragma omp simd reduction(+:s) reduction(max:t)
    for (int i = 0; i < n; i++) {
        double v = f[i]; in[i] = v * w[i]; double q = v * v; s += q; t = q > t ? q : t;
    }
    *sum = s; *peak = t;
}

/* Each frame whole: window and levels, FFT, dB and argmax. in: (n,), X: (bins) complex. */
void fused(const float *x, const double *w, double *in, double *X, float *db, int k, int n,
           int hop, int bins, int even, int *top, double *sums, double *peaks, void *plan,
           exec_fn exec) {
    for (int j = 0; j < k; j++) {
        frame_window(x + (long)j * hop, w, in, n, sums + j, peaks + j);
        exec(plan, in, X);
        frame_db(X, db + (long)j * bins, bins, even, top + j);
    }
}

/* The same work as passes over the run. in: (k, n), X: (k, bins) complex. */
void passes(const float *x, const double *w, double *in, double *X, float *db, int k, int n,
            int hop, int bins, int even, int *top, double *sums, double *peaks, void *plan,
            exec_fn exec) {
    for (int j = 0; j < k; j++)
        frame_window(x + (long)j * hop, w, in + (long)j * n, n, sums + j, peaks + j);
    for (int j = 0; j < k; j++) exec(plan, in + (long)j * n, X + (long)j * 2 * bins);
    for (int j = 0; j < k; j++)
        frame_db(X + (long)j * 2 * bins, db + (long)j * bins, bins, even, top + j);
}

void fft_only(double *in, double *X, int frames, void *plan, exec_fn exec) {
    for (int j = 0; j < frames; j++) exec(plan, in, X);
}
"""

FFTW_MEASURE = 0


def build(folder: Path) -> ctypes.CDLL:
    """The kernel, compiled into ``folder``."""
    src, lib = folder / "floor.c", folder / "libfloor.so"
    src.write_text(KERNEL)
    cmd = ["cc", "-O3", "-march=native", "-ffast-math", "-fopenmp-simd", "-shared", "-fPIC"]
    subprocess.run([*cmd, "-o", str(lib), str(src), "-lm"], check=True)
    return ctypes.CDLL(str(lib))


def loaded_fftw() -> ctypes.CDLL:
    """The double-precision FFTW library this process loaded (pyFFTW's)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        name = Path(path).name
        other = name.startswith(("libfftw3f", "libfftw3l")) or "_omp" in name
        if name.startswith("libfftw3") and not other and "_threads" not in name:
            return ctypes.CDLL(path)
    raise SystemExit("bench_floor: pyFFTW's FFTW library is not loaded in this process")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fft", type=int, default=4096)
    ap.add_argument("--overlap", type=float, default=0.75)
    ap.add_argument("--seconds", type=float, default=4.0, help="audio in the ring per pass")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("cc") is None:
        print("bench_floor: needs a C compiler (cc)", file=sys.stderr)
        return 2

    import pyfftw

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
    engine = Engine(
        source, ring, AnalysisConfig(fft=n, overlap=args.overlap), lambda f: None, None, 0
    )
    hop, block = engine.hop, engine.block
    if block.spectrum.nfft != n:
        raise SystemExit("bench_floor: zero padding is not modelled")
    k = block.max_frames
    span_len = (k - 1) * hop + n
    runs = (total - span_len) // (k * hop) + 1
    frames = runs * k
    bins = n // 2 + 1
    window = np.ascontiguousarray(block._window)  # calibrated: x_gain included

    fft = RealFFT(n)  # loads pyFFTW's FFTW and livespec's wisdom
    fftw = loaded_fftw()
    fftw.fftw_plan_dft_r2c_1d.restype = ctypes.c_void_p
    fftw.fftw_plan_dft_r2c_1d.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    fftw.fftw_plan_dft_r2c_1d.argtypes.append(ctypes.c_uint)
    run_in = pyfftw.empty_aligned((k, n), dtype="float64")
    run_x = pyfftw.empty_aligned((k, bins), dtype="complex128")
    plan = fftw.fftw_plan_dft_r2c_1d(n, run_in.ctypes.data, run_x.ctypes.data, FFTW_MEASURE)
    if not plan:
        raise SystemExit("bench_floor: FFTW made no plan")
    execute = ctypes.cast(fftw.fftw_execute_dft_r2c, ctypes.c_void_p)
    top = np.zeros(k, np.int32)
    sums, peaks = np.zeros(k), np.zeros(k)
    ptr = ctypes.c_void_p

    with tempfile.TemporaryDirectory() as tmp:
        lib = build(Path(tmp))

    def kernel_pass(fn: Callable[..., None]) -> tuple[float, np.ndarray]:
        rows = np.empty((runs, k, bins), np.float32)
        fixed = (ptr(window.ctypes.data), ptr(run_in.ctypes.data), ptr(run_x.ctypes.data))
        tail = (ptr(top.ctypes.data), ptr(sums.ctypes.data), ptr(peaks.ctypes.data))
        calls = [
            (ptr(x[r * k * hop :].ctypes.data), *fixed, ptr(rows[r].ctypes.data))
            for r in range(runs)
        ]
        c0 = time.process_time()
        for head in calls:
            fn(*head, k, n, hop, bins, 1, *tail, ptr(plan), execute)
        return float((time.process_time() - c0) / frames * 1e6), rows

    def fused_pass() -> float:
        return kernel_pass(lib.fused)[0]

    def passes_pass() -> float:
        return kernel_pass(lib.passes)[0]

    def fftw_c_pass() -> float:
        c0 = time.process_time()
        lib.fft_only(ptr(run_in.ctypes.data), ptr(run_x.ctypes.data), frames, ptr(plan), execute)
        return float((time.process_time() - c0) / frames * 1e6)

    def fftw_py_pass() -> float:
        ex = fft.execute
        c0 = time.process_time()
        for _ in range(frames):
            ex()
        return float((time.process_time() - c0) / frames * 1e6)

    spans = [ring.window(r * k * hop, span_len) for r in range(runs)]

    def numpy_pass() -> float:
        compute, argmax = block.compute, np.argmax
        c0 = time.process_time()
        for span in spans:
            argmax(compute(span, None).db, axis=1)
        return float((time.process_time() - c0) / frames * 1e6)

    all_frames = (total - n) // hop + 1

    def engine_pass() -> float:
        engine.framer.reset(n, hop, 0)
        c0 = time.process_time()
        done = engine.process_available()
        c1 = time.process_time()
        assert done == all_frames, (done, all_frames)
        return float((c1 - c0) / all_frames * 1e6)

    passes: dict[str, Callable[[], float]] = {
        "fftw_pyfftw": fftw_py_pass,
        "fftw_c": fftw_c_pass,
        "c_fused": fused_pass,
        "c_passes": passes_pass,
        "numpy_compute": numpy_pass,
        "engine_step": engine_pass,
    }
    for p in passes.values():  # warm up
        p()
    times: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(args.repeat):
        for name, p in passes.items():
            times[name].append(p())
    med = {name: statistics.median(v) for name, v in times.items()}

    # How the kernel's rows compare with numpy's (the first run).
    _, rows = kernel_pass(lib.fused)
    ref = block.compute(spans[0], None).db
    diff = float(np.max(np.abs(rows[0].astype(np.float64) - ref)))
    same_top = bool(np.array_equal(rows[0].argmax(axis=1), ref.argmax(axis=1)))
    fftw.fftw_destroy_plan.argtypes = [ctypes.c_void_p]
    fftw.fftw_destroy_plan(plan)
    if args.json:
        print(json.dumps({**{k_: round(v, 2) for k_, v in med.items()}, "max_db_diff": diff}))
        return 0
    print(f"n={n} hop={hop} runs of {k}, {frames} frames a pass, repeat={args.repeat}")
    print("CPU µs per frame, medians:")
    for name, v in med.items():
        print(f"  {name:14s} {v:7.2f}")
    print(f"c_fused / numpy_compute: {med['c_fused'] / med['numpy_compute']:.2f}x")
    compiled = med["engine_step"] - med["numpy_compute"] + med["c_fused"]
    print(f"the engine step with its DSP compiled (engine - numpy + fused): {compiled:.2f} µs")
    print(f"kernel dB rows vs numpy: max |diff| {diff:.2e} dB; argmax the same: {same_top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
