"""Benchmark: ``livespec export --npy`` against a soundfile + scipy.signal.spectrogram script.

Both run as whole processes, side by side in one run (interleaved, ``--repeat`` times each),
on the same 48 kHz mono 16-bit WAV with fft 2048 and hop 512 (hann, no detrending, one-sided
"spectrum" scaling, dB, float32 .npy). Wall time and peak RSS of each process are measured by
a small wrapper process (its ``RUSAGE_CHILDREN`` covers exactly one child). With ``--hour``
it also exports a 1-hour file and reports livespec's peak RSS (the target is <= 300 MB).

Usage::

    python benchmarks/bench_export.py [--minutes 20] [--repeat 3] [--hour] [--dir DIR]

The test files are generated once into DIR (default: a folder in the system temp dir) and
reused; outputs are deleted after each run. Needs scipy (for the reference script).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FS = 48000
FFT = 2048
HOP = 512

SCIPY_SCRIPT = f"""
import sys
import numpy as np
import soundfile as sf
import scipy.signal as ss
x, fs = sf.read(sys.argv[1])
if x.ndim > 1:
    x = x.mean(axis=1)
f, t, S = ss.spectrogram(x, fs, window="hann", nperseg={FFT}, noverlap={FFT} - {HOP},
                         detrend=False, scaling="spectrum", mode="psd")
db = (10 * np.log10(np.maximum(S, 1e-20)) + 3.0103).astype(np.float32).T
np.save(sys.argv[2], db)
"""

# Runs `livespec export`.
LIVESPEC_SCRIPT = """
import sys
from livespec.cli import main
sys.exit(main(["export", *sys.argv[1:]]))
"""

WRAPPER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - t0
rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "wall_s": wall, "peak_rss_mb": rss_kib / 1024.0}))
"""


def make_file(path: Path, seconds: float) -> None:
    """A 48 kHz mono 16-bit WAV: a gliding tone, a steady tone and pink-ish noise, written
    in blocks (never the whole signal in memory)."""
    import soundfile as sf

    rng = np.random.default_rng(5)
    block = FS * 10
    total = int(seconds * FS)
    tmp = path.with_suffix(".part.wav")
    with sf.SoundFile(str(tmp), "w", FS, 1, subtype="PCM_16") as f:
        done = 0
        phase = 0.0
        while done < total:
            k = min(block, total - done)
            t = (done + np.arange(k)) / FS
            freq = 1000.0 + 800.0 * np.sin(2 * np.pi * t / 7.0)
            ph = phase + 2 * np.pi * np.cumsum(freq) / FS
            phase = float(ph[-1])
            noise = np.cumsum(rng.standard_normal(k)) * 1e-4
            noise -= np.linspace(noise[0], noise[-1], k)
            x = 0.3 * np.sin(ph) + 0.05 * np.sin(2 * np.pi * 6000 * t) + noise
            f.write(np.clip(x, -1, 1))
            done += k
    os.replace(tmp, path)


def measure(cmd: list[str]) -> dict[str, float]:
    """Wall time (s) and peak RSS (MB) of ``cmd`` as one process."""
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, check=True
    )
    res: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise SystemExit(f"command failed ({res['rc']}): {' '.join(cmd)}")
    return res


def livespec_cmd(src: Path, out: Path, *extra: str) -> list[str]:
    """The export command line for ``src``."""
    return [
        sys.executable,
        "-c",
        LIVESPEC_SCRIPT,
        str(src),
        "--npy",
        str(out),
        "--fft",
        str(FFT),
        "--hop",
        str(HOP),
        "--window",
        "hann",
        "--force",
        *extra,
    ]


def main() -> int:
    """Run the benchmark and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hour", action="store_true", help="also measure a 1-hour file's RSS")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "livespec-bench")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    src = args.dir / f"bench_{args.minutes:g}min.wav"
    if not src.exists():
        print(f"generating {src} ...", file=sys.stderr)
        make_file(src, args.minutes * 60)
    out_a = args.dir / "out_livespec.npy"
    out_b = args.dir / "out_scipy.npy"
    # Warm-up: page cache, FFTW wisdom (planning is saved in the user's cache).
    measure(livespec_cmd(src, out_a))
    runs: dict[str, list[dict[str, float]]] = {"livespec": [], "scipy": []}
    for _ in range(args.repeat):
        runs["livespec"].append(measure(livespec_cmd(src, out_a)))
        runs["scipy"].append(measure([sys.executable, "-c", SCIPY_SCRIPT, str(src), str(out_b)]))
    a = np.load(out_a, mmap_mode="r")
    b = np.load(out_b, mmap_mode="r")
    worst = 0.0
    for i in range(0, a.shape[0], 4096):
        ra, rb = np.asarray(a[i : i + 4096]), np.asarray(b[i : i + 4096])
        mask = rb > -90
        mask[:, 0] = mask[:, -1] = False  # DC and Nyquist: no +3.01 dB in livespec's scale
        if mask.any():
            worst = max(worst, float(np.max(np.abs(ra - rb)[mask])))
    shape = a.shape
    del a, b
    wall = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    rss = {k: max(r["peak_rss_mb"] for r in v) for k, v in runs.items()}
    print(f"\nfile: {src.name}, {args.minutes:g} min, 48 kHz mono 16-bit; fft {FFT}, hop {HOP}")
    print(f"output: float32 {shape}, max |difference| above -90 dBFS: {worst:.4f} dB\n")
    print(f"| process | wall time (median of {args.repeat}) | peak RSS |")
    print("| --- | --- | --- |")
    for k in ("scipy", "livespec"):
        print(f"| {k} | {wall[k]:.2f} s | {rss[k]:.0f} MB |")
    print(f"\nspeed-up: {wall['scipy'] / wall['livespec']:.2f}x")
    for p in (out_a, out_b):
        p.unlink(missing_ok=True)
    if args.hour:
        big = args.dir / "bench_60min.wav"
        if not big.exists():
            print(f"generating {big} ...", file=sys.stderr)
            make_file(big, 3600)
        r = measure(livespec_cmd(big, out_a))
        png = measure(livespec_cmd(big, out_a, "--png", str(args.dir / "hour.png"), "--size",
                                   "1024x512"))  # fmt: skip
        print(
            f"\n1-hour file: export --npy {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB; "
            f"--npy + --png --size 1024x512 {png['wall_s']:.1f} s, "
            f"peak RSS {png['peak_rss_mb']:.0f} MB"
        )
        out_a.unlink(missing_ok=True)
        (args.dir / "hour.png").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
