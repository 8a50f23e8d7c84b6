"""Benchmark of the live app: CPU of the whole process, screen updates and frame gaps.

Usage::

    python benchmarks/bench_app.py                      # 120x40 and 200x60, 3 repeats
    python benchmarks/bench_app.py --size 120x40 --seconds 30 --repeats 5
    python benchmarks/bench_app.py --colors 256 -- --orientation vertical
    python benchmarks/bench_app.py --size 120x40 --scale linear --scale cqt  # CPU ratio

What it runs: the real program, ``python -m livespec --input demo --fps 30`` (default
analysis), in a detached tmux session of each size on a private tmux server
(``COLORTERM=truecolor`` unless ``--colors`` says otherwise; no tmux status line, so the
app gets the whole size). After a warm-up it measures for ``--seconds``:

* **CPU** of the whole process, all threads (UI, Textual's writer, engine, source), from
  ``utime + stime`` in ``/proc/PID/stat``, as a percentage of one core; the UI (main)
  thread alone from ``/proc/PID/task/PID/stat``; divided by the updates, the CPU time per
  screen update.
* **Screen updates and frame gaps** from the app's own log: with ``LIVESPEC_FRAME_LOG``
  set, the app notes the time (``time.monotonic``, the same clock as here) at which each
  update of the plot is handed to Textual's terminal writer (written directly by the plot,
  or as a Textual screen update that redraws it), and writes the list when it quits;
  ``direct_share`` is the fraction written directly. Updates per second, and the gaps
  between updates: p50, p95, max and the count over 50 ms.
* **Bytes written** (``wchar`` in ``/proc/PID/io``): what the terminal has to digest.

A shared machine moves all of these, so each repeat also measures, right before the app:

* the **engine alone**: ``python -m livespec peaks --input demo --realtime`` (same
  analysis, no screen), CPU % over the same number of seconds;
* a **calibration loop**: wall time of a fixed pure-Python loop (ms; it grows when other
  processes take the cores);
* the 1-minute **load average**.

The figures reported are medians over ``--repeats``; ``--json`` also prints every run.
With several ``--scale`` values, each repeat runs the app once per scale (interleaved, so
they share the machine's load), and the CPU of each scale is also given as a ratio to the
first scale's: the median of the per-repeat ratios.
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
from typing import Any

import numpy as np

WARMUP_S = 4.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (all threads) or of one of its threads, in seconds."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path, encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bytes_written(pid: int) -> int:
    """Bytes the process has passed to write() so far (``wchar``)."""
    with open(f"/proc/{pid}/io", encoding="ascii") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def calibrate() -> float:
    """Wall milliseconds of a fixed pure-Python loop (median of 5): a gauge of how much
    of a core this process gets right now."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        acc = 0
        for i in range(200_000):
            acc += i * i % 7
        times.append((time.perf_counter() - t) * 1000.0)
    return round(statistics.median(times), 1)


def reference(args: argparse.Namespace) -> dict[str, float]:
    """CPU % of the engine alone (``livespec peaks --realtime``) over ``args.seconds``."""
    cmd = [sys.executable, "-m", "livespec", "peaks", "--input", args.input, "--realtime"]
    cmd += ["--interval", "1", "--duration", str(WARMUP_S + args.seconds + 5)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARMUP_S)
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.seconds)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    finally:
        proc.terminate()
        proc.wait(10)
    return {"engine_cpu_percent": round(100.0 * (c1 - c0) / (t1 - t0), 1)}


def _tmux(sock: str, *argv: str) -> str:
    done = subprocess.run(["tmux", "-L", sock, *argv], capture_output=True, text=True)
    return done.stdout.strip()


def run_app(size: str, args: argparse.Namespace, scale: str | None = None) -> dict[str, Any]:
    """One measured run of the app at ``size`` (WxH) in its own tmux server, with the
    frequency ``scale`` (None: the app's default)."""
    w, h = (int(v) for v in size.lower().split("x"))
    sock = f"livespec-bench-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "frames.txt"
        conf = Path(tmp) / "tmux.conf"
        conf.write_text("set -g status off\n")
        env = [
            "-e",
            f"LIVESPEC_FRAME_LOG={log}",
            *(["-e", "COLORTERM=truecolor"] if args.colors in ("truecolor", "auto") else []),
        ]
        cmd = [sys.executable, "-m", "livespec", "--input", args.input]
        if args.ssh:
            # an SSH session as sshd sets it up; the app picks its own rate and colours
            env += ["-e", "SSH_CONNECTION=192.0.2.1 50022 192.0.2.2 22"]
        else:
            cmd += ["--fps", str(args.fps), "--colors", args.colors]
        cmd += args.extra
        if scale is not None:
            cmd += ["--scale", scale]
        new = ["-f", str(conf), "new-session", "-d", "-s", "bench", "-x", str(w), "-y", str(h)]
        pane_pid = _tmux(
            sock,
            *new,
            *env,
            "-P",
            "-F",
            "#{pane_pid}",
            "exec " + " ".join(cmd),
        )
        try:
            pid = int(pane_pid)
            time.sleep(WARMUP_S)
            pane = _tmux(sock, "display", "-p", "-t", "bench", "#{pane_width}x#{pane_height}")
            server = int(_tmux(sock, "display", "-p", "#{pid}"))
            s0 = cpu_seconds(server)
            c0, u0 = cpu_seconds(pid), cpu_seconds(pid, pid)
            b0, t0 = bytes_written(pid), time.monotonic()
            time.sleep(args.seconds)
            c1, u1 = cpu_seconds(pid), cpu_seconds(pid, pid)
            b1, t1 = bytes_written(pid), time.monotonic()
            s1 = cpu_seconds(server)
            load = os.getloadavg()[0]
            _tmux(sock, "send-keys", "-t", "bench", "q")
            deadline = time.monotonic() + 15.0
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            log_rows = np.loadtxt(log, ndmin=2) if log.exists() else np.zeros((0, 2))
        finally:
            _tmux(sock, "kill-server")
            tmux_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
            (tmux_dir / sock).unlink(missing_ok=True)
    wall = t1 - t0
    inside = (log_rows[:, 0] >= t0) & (log_rows[:, 0] <= t1)
    ts = log_rows[inside, 0]
    direct = float(log_rows[inside, 1].mean()) if ts.size else float("nan")
    gaps = np.diff(ts) * 1000.0 if ts.size > 1 else np.full(1, np.nan)
    updates = max(int(ts.size), 1)
    return {
        "size": pane,
        "cpu_percent": round(100.0 * (c1 - c0) / wall, 1),
        "ui_thread_percent": round(100.0 * (u1 - u0) / wall, 1),
        "tmux_cpu_percent": round(100.0 * (s1 - s0) / wall, 1),
        "updates_per_s": round(ts.size / wall, 1),
        "cpu_ms_per_update": round(1000.0 * (c1 - c0) / updates, 2),
        "gap_p50_ms": round(float(np.percentile(gaps, 50)), 1),
        "gap_p95_ms": round(float(np.percentile(gaps, 95)), 1),
        "gap_max_ms": round(float(gaps.max()), 1),
        "gaps_over_50ms": int((gaps > 50.0).sum()),
        "kb_per_s": round((b1 - b0) / wall / 1024.0, 1),
        "direct_share": round(direct, 2),
        "loadavg_1min": round(load, 2),
    }


COLUMNS = [
    "size",
    "cpu_percent",
    "ui_thread_percent",
    "tmux_cpu_percent",
    "updates_per_s",
    "cpu_ms_per_update",
    "gap_p50_ms",
    "gap_p95_ms",
    "gap_max_ms",
    "gaps_over_50ms",
    "kb_per_s",
    "direct_share",
    "engine_cpu_percent",
    "calibration_ms",
    "loadavg_1min",
]


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric column over ``runs`` (same size)."""
    out: dict[str, Any] = {"size": runs[0]["size"], "repeats": len(runs)}
    for k in COLUMNS[1:]:
        out[k] = round(statistics.median(float(r[k]) for r in runs), 2)
    return out


def main() -> int:
    """Parse the options, run every size ``--repeats`` times and print the medians."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--size", action="append", help="WxH (repeatable; default 120x40, 200x60)")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    p.add_argument("--repeats", type=int, default=3, help="runs per size (medians reported)")
    p.add_argument("--input", default="demo", help="livespec --input (default demo)")
    p.add_argument("--colors", default="truecolor", help="truecolor, 256, 16, none")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument(
        "--ssh",
        action="store_true",
        help="run as in an SSH session (SSH_CONNECTION set, the terminal announcing "
        "truecolor), with the app's own choice of frame rate, colours and orientation",
    )
    p.add_argument(
        "--scale",
        action="append",
        help="the app's --scale (repeatable: each measured in every repeat; CPU ratios to "
        "the first)",
    )
    p.add_argument("--json", action="store_true", help="also print every run as JSON")
    p.add_argument("extra", nargs="*", help="more livespec options after --")
    args = p.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 2
    sizes = args.size or ["120x40", "200x60"]
    scales: list[str | None] = list(args.scale) if args.scale else [None]
    keys = [(s, sc) for s in sizes for sc in scales]
    runs: dict[tuple[str, str | None], list[dict[str, Any]]] = {k: [] for k in keys}
    for rep in range(args.repeats):
        ref = reference(args)
        for size, scale in keys:
            row = {
                "repeat": rep,
                "calibration_ms": calibrate(),
                **ref,
                **run_app(size, args, scale),
            }
            runs[(size, scale)].append(row)
            tag = f"scale={scale} | " if scale else ""
            print(tag + " | ".join(f"{k}={row[k]}" for k in COLUMNS), file=sys.stderr)
    print(
        f"medians over {args.repeats} runs of {args.seconds:g} s, "
        f"{'SSH defaults' if args.ssh else args.colors}, "
        f"--input {args.input}{'' if args.ssh else f' --fps {args.fps:g}'} "
        f"{' '.join(args.extra)}".rstrip()
    )
    print(("scale | " if args.scale else "") + " | ".join(COLUMNS))
    for size, scale in keys:
        m = medians(runs[(size, scale)])
        print((f"{scale} | " if scale else "") + " | ".join(str(m[k]) for k in COLUMNS))
    if args.scale and len(scales) > 1:
        for size in sizes:
            base = runs[(size, scales[0])]
            for scale in scales[1:]:
                ratios = [
                    r["cpu_percent"] / max(b["cpu_percent"], 1e-9)
                    for r, b in zip(runs[(size, scale)], base, strict=True)
                ]
                print(
                    f"{size}: CPU {scale}/{scales[0]} = {statistics.median(ratios):.3f} "
                    f"(median of {len(ratios)} per-repeat ratios: "
                    f"{', '.join(f'{x:.3f}' for x in ratios)})"
                )
    if args.json:
        print(json.dumps({f"{k[0]} {k[1]}": v for k, v in runs.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
