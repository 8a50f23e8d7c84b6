"""Benchmark: ``livespec export`` to PNG beside ``sox ... spectrogram`` (issue #16 item 5).

Three rows, each livespec and sox on the same input in the same run, interleaved,
``--repeat`` times (3); medians of wall time and the largest peak RSS (``wait4``), their
ratio, and the load average before and after:

* **folder**: 200 five-second 48 kHz WAVs (a chirp each) to PNG: ``livespec export DIR -o
  OUT --png --jobs 2`` (the default 800x400 image) against ``ls *.wav | xargs -P2 -I{} sox
  {} -n spectrogram -o OUT/{}.png`` (sox's default 800x257 plus axes); target ratio <= 1;
* **2048x512**: a 10-minute file, ``--size 2048x512`` against ``sox -x 2048 -Y 512``;
  targets ratio <= 1.5 and <= 100 MB;
* **native**: the same file at one pixel per frame and bin, ``--fft 2048 --hop 1024
  --size FRAMESx1025`` against ``sox -x 28125 -Y 1025``; targets ratio <= 2 and <= 200 MB.

The inputs are made with sox in a temporary folder (``--keep DIR`` makes or reuses them
there). ``PYTHONDONTWRITEBYTECODE`` is dropped from the environment so that livespec runs
from its byte-code cache, as an installed copy does.

    python benchmarks/bench_png.py [--repeat 3] [--only folder,2048,native] [--json]
        [--keep DIR] [--baseline SRC]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT)
FS = 48000


def run(
    cmd: list[str] | str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a command. The RSS is ``/usr/bin/time``'s ``%M`` (the
    largest of the process and its waited-for descendants: a shell's sox processes,
    livespec's workers); ``wait4``'s own would count this Python's pages, copied by the
    fork, for a small command."""
    argv = ["sh", "-c", cmd] if isinstance(cmd, str) else cmd
    rss_file = Path(tempfile.mktemp(prefix="bench_png-rss-"))
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file)]
    have_time = Path("/usr/bin/time").exists()
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [*timer, *argv] if have_time else argv,
        env=env or ENV,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({p.returncode})")
    if have_time:
        kb = float(rss_file.read_text().split()[-1])
        rss_file.unlink()
        return dt, kb / 1024.0
    return dt, ru.ru_maxrss / 1024.0


def make_inputs(tmp: Path) -> tuple[Path, Path]:
    folder = tmp / "folder"
    folder.mkdir(exist_ok=True)
    for i in range(1, 201):
        f = folder / f"f{i:03d}.wav"
        if not f.exists():
            subprocess.run(
                ["sox", "-n", "-r", str(FS), "-b", "16", "-c", "1", str(f), "synth", "5",
                 "sine", f"{100 + 10 * i}-{3000 + 20 * i}", "gain", "-6"],
                check=True,
            )  # fmt: skip
    long = tmp / "long.wav"
    if not long.exists():
        subprocess.run(
            ["sox", "-n", "-r", str(FS), "-b", "16", "-c", "1", str(long), "synth", "600",
             "sine", "200-8000", "synth", "600", "pinknoise", "amod", "0.5", "gain", "-6"],
            check=True,
        )  # fmt: skip
    return folder, long


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="folder,2048,native")
    ap.add_argument("--keep", type=Path, help="make (or reuse) the inputs here")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="also run the livespec source tree at this path (e.g. `git archive` of an "
        "earlier commit), interleaved, as the 'before' figures",
    )
    args = ap.parse_args()
    if shutil.which("sox") is None:
        print("sox is not installed: nothing to compare with", file=sys.stderr)
        return 1
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench_png-"))
    tmp.mkdir(parents=True, exist_ok=True)
    folder, long = make_inputs(tmp)
    npy = tmp / "frames.npy"  # the frame count of --fft 2048 --hop 1024, from an NPY's header
    subprocess.run(
        [PY, "-m", "livespec", "export", str(long), "-o", str(npy), "--fft", "2048", "--hop",
         "1024", "--force"],
        env=ENV, check=True, capture_output=True,
    )  # fmt: skip
    import numpy as np

    frames = int(np.load(npy, mmap_mode="r").shape[0])
    lv = [PY, "-m", "livespec", "export"]
    rows = {
        "folder": (
            lambda k: [*lv, str(folder), "-o", str(tmp / f"lv{k}"), "--png", "--jobs", "2"],
            lambda k: (
                f"mkdir -p {tmp}/sx{k} && cd {folder} && "
                f"ls *.wav | xargs -P2 -I{{}} sox {{}} -n spectrogram -o {tmp}/sx{k}/{{}}.png"
            ),
            1.0,
            None,
        ),
        "2048": (
            lambda k: [*lv, str(long), "-o", str(tmp / f"l{k}.png"), "--size", "2048x512"],
            lambda k: f"sox {long} -n spectrogram -x 2048 -Y 512 -o {tmp}/s{k}.png",
            1.5,
            100.0,
        ),
        "native": (
            lambda k: [
                *lv,
                str(long),
                "-o",
                str(tmp / f"n{k}.png"),
                "--fft",
                "2048",
                "--hop",
                "1024",
                "--size",
                f"{frames}x1025",
            ],
            lambda k: f"sox {long} -n spectrogram -x 28125 -Y 1025 -o {tmp}/t{k}.png",
            2.0,
            200.0,
        ),
    }
    results = {}
    load0 = os.getloadavg()
    for name in args.only.split(","):
        mine, peer, ratio_target, mb_target = rows[name]
        who_all = ["livespec", "sox"] + (["baseline"] if args.baseline else [])
        ts: dict[str, list[float]] = {w: [] for w in who_all}
        mb: dict[str, float] = {w: 0.0 for w in who_all}
        base_env = {**ENV, "PYTHONPATH": str(args.baseline)} if args.baseline else None
        for k in range(args.repeat):
            for who in who_all:
                cmd = peer(k) if who == "sox" else mine(k)
                for out in tmp.glob(f"[lsnt]{k}.png"):
                    out.unlink()
                for d in (tmp / f"lv{k}", tmp / f"sx{k}"):
                    shutil.rmtree(d, ignore_errors=True)
                # In the inputs' folder: from a checkout, ``python -m`` would import the
                # checkout's livespec (sys.path[0] is the working directory) whatever
                # PYTHONPATH says, and the baseline would be this tree again.
                dt, rss = run(cmd, cwd=tmp, env=base_env if who == "baseline" else None)
                ts[who].append(dt)
                mb[who] = max(mb[who], rss)
        a, b = statistics.median(ts["livespec"]), statistics.median(ts["sox"])
        results[name] = {
            "livespec_s": a,
            "sox_s": b,
            "ratio": a / b,
            "livespec_mb": mb["livespec"],
            "sox_mb": mb["sox"],
            "ratio_target": ratio_target,
            "mb_target": mb_target,
        }
        if args.baseline:
            base = statistics.median(ts["baseline"])
            results[name] |= {"baseline_s": base, "baseline_mb": mb["baseline"]}
    load1 = os.getloadavg()
    if args.json:
        print(json.dumps({"load": [load0[0], load1[0]], **results}))
        return 0
    print(f"load average {load0[0]:.2f} before, {load1[0]:.2f} after; medians of {args.repeat}")
    print(
        f"{'row':<8} {'livespec':>10} {'sox':>8} {'ratio':>6} {'target':>7} {'MB':>6} {'sox MB':>7}"
    )
    for name, r in results.items():
        ok = r["ratio"] <= r["ratio_target"] and (
            r["mb_target"] is None or r["livespec_mb"] <= r["mb_target"]
        )
        print(
            f"{name:<8} {r['livespec_s']:>9.2f}s {r['sox_s']:>7.2f}s {r['ratio']:>6.2f} "
            f"{r['ratio_target']:>6.1f}x {r['livespec_mb']:>6.0f} {r['sox_mb']:>7.0f}"
            f"  {'met' if ok else 'NOT met'}"
        )
        if "baseline_s" in r:
            print(
                f"{'  before':<8} {r['baseline_s']:>9.2f}s {'':>8} "
                f"{r['baseline_s'] / r['sox_s']:>6.2f} {'':>7} {r['baseline_mb']:>6.0f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
