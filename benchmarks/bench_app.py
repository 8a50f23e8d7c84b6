"""Benchmark of the live app: CPU, frame gaps and bytes to the terminal, in a real tmux.

Usage::

    python benchmarks/bench_app.py                      # 120x40 and 200x60, demo, 20 s each
    python benchmarks/bench_app.py --size 120x40 --seconds 30 --colors 256
    python benchmarks/bench_app.py --input tone:1000@-6

For each size it starts a detached tmux session of that size (``COLORTERM=truecolor``
unless ``--colors`` says otherwise) running this script in ``--inner`` mode, which builds
the real app (source, ring, engine, Textual driver) and measures, after a warm-up:

* CPU of the whole process (all threads: audio source, engine, UI, Textual's writer),
  as a percentage of one core (``resource.getrusage`` over wall time);
* frame gaps: time between successive screen updates written to the terminal (p50, p95,
  max, ms) and the update rate;
* bytes written to the terminal per second.

The inner run writes its figures as JSON; the outer prints a table. The machine's other
load is reported too (``os.getloadavg``), since on a shared machine it moves the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WARMUP_S = 3.0


def inner(args: argparse.Namespace) -> None:
    """Run the app in this terminal and write the measurements to ``args.out``."""
    from textual.drivers.linux_driver import LinuxDriver

    from livespec.app import make_app
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.cli import build_parsers, open_source, resolve_config
    from livespec.engine import Engine

    written = [0]
    orig_write = LinuxDriver.write

    def counting_write(self: LinuxDriver, data: str) -> None:
        written[0] += len(data.encode("utf-8", "replace"))
        orig_write(self, data)

    LinuxDriver.write = counting_write  # type: ignore[method-assign]

    argv = ["--input", args.input, "--colors", args.colors, "--fps", str(args.fps)]
    ns = build_parsers()[""].parse_args(argv + args.extra)
    cfg = resolve_config(ns)
    source = open_source(cfg, realtime=True, max_seconds=None)
    ring = RingBuffer(max(1 << 17, 20 * source.samplerate), source.channels)
    app = make_app(cfg, source)
    engine = Engine(source, ring, cfg.analysis, app.push_frame)
    app.engine = engine

    stamps: list[float] = []
    marks: dict[str, Any] = {}
    orig_display = app._display

    def timed_display(screen: Any, renderable: Any) -> None:
        orig_display(screen, renderable)
        if renderable is not None:
            stamps.append(time.perf_counter())

    app._display = timed_display  # type: ignore[method-assign]

    def start_measuring() -> None:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        marks["t0"] = time.perf_counter()
        marks["cpu0"] = ru.ru_utime + ru.ru_stime
        marks["bytes0"] = written[0]
        marks["n0"] = len(stamps)
        marks["frames0"] = engine.frames

    def stop_measuring() -> None:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        marks["t1"] = time.perf_counter()
        marks["cpu1"] = ru.ru_utime + ru.ru_stime
        marks["bytes1"] = written[0]
        marks["frames1"] = engine.frames
        app.exit(0)

    def on_ready() -> None:
        app.set_timer(WARMUP_S, start_measuring)
        app.set_timer(WARMUP_S + args.seconds, stop_measuring)

    app.call_later(on_ready)
    source.start(ring)
    engine.start()
    try:
        app.run()
    finally:
        engine.stop()
        source.stop()
    wall = marks["t1"] - marks["t0"]
    ts = np.asarray([t for t in stamps if marks["t0"] <= t <= marks["t1"]])
    gaps = np.diff(ts) * 1000.0 if ts.size > 1 else np.zeros(1)
    result = {
        "size": f"{app.size.width}x{app.size.height}",
        "colors": args.colors,
        "input": args.input,
        "seconds": round(wall, 2),
        "cpu_percent": round(100.0 * (marks["cpu1"] - marks["cpu0"]) / wall, 1),
        "updates_per_s": round(ts.size / wall, 1),
        "gap_p50_ms": round(float(np.percentile(gaps, 50)), 1),
        "gap_p95_ms": round(float(np.percentile(gaps, 95)), 1),
        "gap_max_ms": round(float(gaps.max()), 1),
        "gaps_over_50ms": int((gaps > 50.0).sum()),
        "kb_per_s": round((marks["bytes1"] - marks["bytes0"]) / wall / 1024.0, 1),
        "analysis_frames_per_s": round((marks["frames1"] - marks["frames0"]) / wall, 1),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
    Path(args.out).write_text(json.dumps(result))


def outer(args: argparse.Namespace) -> int:
    """Run the inner benchmark in tmux at each size and print the figures."""
    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 2
    rows = []
    for size in args.size:
        w, h = (int(v) for v in size.lower().split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            session = f"livespec-bench-{os.getpid()}"
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--inner",
                "--out",
                str(out),
                "--seconds",
                str(args.seconds),
                "--input",
                args.input,
                "--colors",
                args.colors,
                "--fps",
                str(args.fps),
                *(["--", *args.extra] if args.extra else []),
            ]
            env = ["-e", "COLORTERM=truecolor"] if args.colors in ("truecolor", "auto") else []
            subprocess.run(
                [
                    "tmux",
                    "new-session",
                    "-d",
                    "-s",
                    session,
                    "-x",
                    str(w),
                    "-y",
                    str(h),
                    *env,
                    " ".join(cmd),
                ],
                check=True,
            )
            deadline = time.monotonic() + args.seconds + WARMUP_S + 30
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(0.5)
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
            if not out.exists():
                print(f"{size}: no result (the app did not finish)", file=sys.stderr)
                return 1
            rows.append(json.loads(out.read_text()))
    keys = [
        "size",
        "colors",
        "cpu_percent",
        "updates_per_s",
        "gap_p50_ms",
        "gap_p95_ms",
        "gap_max_ms",
        "gaps_over_50ms",
        "kb_per_s",
        "analysis_frames_per_s",
        "loadavg_1min",
    ]
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(str(r[k]) for k in keys))
    if args.json:
        print(json.dumps(rows))
    return 0


def main() -> int:
    """Parse the options and run the outer or inner benchmark."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--size", action="append", help="WxH (repeatable; default 120x40, 200x60)")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per size")
    p.add_argument("--input", default="demo", help="livespec --input (default demo)")
    p.add_argument("--colors", default="truecolor", help="truecolor, 256, 16, none")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--json", action="store_true", help="also print the rows as JSON")
    p.add_argument("extra", nargs="*", help="more livespec options after --")
    args = p.parse_args()
    if args.inner:
        inner(args)
        return 0
    args.size = args.size or ["120x40", "200x60"]
    return outer(args)


if __name__ == "__main__":
    sys.exit(main())
