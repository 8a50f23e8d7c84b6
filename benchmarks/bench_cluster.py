"""Benchmark: files per second of a folder export on the process pool and on a local Dask
cluster, for 1, 2 and 4 workers.

Each configuration runs ``livespec export FOLDER -o OUT`` as a whole process (start-up,
for Dask the local cluster's start and stop, reading, analysis, writing), on a folder of
``--files`` WAVs of ``--seconds`` seconds (48 kHz mono 16-bit, noise plus a tone), with
the default analysis (fft 2048, hop 512) and a 512x512 PNG plus an NPY per file. The
configurations are interleaved ``--repeat`` times in one run; the median wall time of each
is reported as files/s, with the ratio to the pool's at the same worker count, and the
range of the 1-minute load average seen (other work on the machine stretches wall times).

Usage::

    python benchmarks/bench_cluster.py [--files 100] [--seconds 5] [--repeat 3] [--dir DIR]

Needs ``livespec[cluster]`` (Dask distributed). The inputs are generated once into DIR
(default: a folder in the system temp dir) and reused; outputs are deleted after each run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FS = 48000
WORKERS = (1, 2, 4)
OUTPUTS = ["--npy", "--png", "--size", "512x512"]


def make_inputs(folder: Path, files: int, seconds: float) -> None:
    """``files`` WAVs, each a different seed (skipped when the folder holds them)."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    for i in range(files):
        p = folder / f"clip{i:04d}.wav"
        if p.exists():
            continue
        rng = np.random.default_rng(i)
        x = 0.05 * rng.standard_normal(n) + 0.3 * np.sin(2 * np.pi * (200 + 10 * i) * t)
        sf.write(p, x.astype(np.float32), FS, subtype="PCM_16")


def run_once(inputs: Path, out: Path, backend: list[str]) -> float:
    """Wall seconds of one export process; raises if it fails."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "livespec", "export", str(inputs), "-o", str(out)]
    t0 = time.perf_counter()
    r = subprocess.run([*cmd, *OUTPUTS, *backend], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(backend)}: exit {r.returncode}: {r.stderr.strip()}")
    shutil.rmtree(out, ignore_errors=True)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "livespec-bench")
    args = ap.parse_args()

    inputs = args.dir / f"cluster-{args.files}x{args.seconds:g}s"
    make_inputs(inputs, args.files, args.seconds)
    out = args.dir / "cluster-out"
    configs = {}
    for n in WORKERS:
        configs[f"pool --jobs {n}"] = ["--jobs", str(n)]
        configs[f"dask local:{n}"] = ["--scheduler", f"local:{n}"]
    walls: dict[str, list[float]] = {name: [] for name in configs}
    loads = []
    for _ in range(args.repeat):
        for name, backend in configs.items():
            walls[name].append(run_once(inputs, out, backend))
            loads.append(os.getloadavg()[0])

    print(
        f"{args.files} files of {args.seconds:g} s, 48 kHz mono 16-bit; NPY + 512x512 PNG each; "
        f"{os.cpu_count()} CPUs, 1-min load {min(loads):.1f}-{max(loads):.1f}; "
        f"median of {args.repeat}"
    )
    print(f"{'backend':<16} {'wall s':>8} {'files/s':>8} {'vs pool':>8}")
    for n in WORKERS:
        pool = statistics.median(walls[f"pool --jobs {n}"])
        for name in (f"pool --jobs {n}", f"dask local:{n}"):
            wall = statistics.median(walls[name])
            print(f"{name:<16} {wall:8.2f} {args.files / wall:8.1f} {pool / wall:8.2f}")


if __name__ == "__main__":
    main()
