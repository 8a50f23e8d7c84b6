"""Benchmark: a tone's onset to its first analysed frame, audio on a pipe (``--input -``).

A writer thread plays the part of ``arecord -t raw``: it writes s16 mono PCM at 48 kHz into
a real pipe in 10 ms periods, paced by its own clock, silence and then, from sample
``--onset`` seconds on, a 1 kHz tone at -6 dBFS; it notes the wall-clock time at which the
onset sample went into the pipe. The source is livespec's own (``StdinSource``, paced at
the sample rate as the app does with ``--input -``) and the engine its worker thread
(n = 4096, 75 % overlap). The latency is from the onset's write to the first frame whose
strongest peak is the tone at -20 dBFS or more.

Two cases, interleaved, ``--repeat`` times each, medians:

* **fed from launch**: the pipe is written ``--startup`` seconds before the source starts
  (the app's start-up; audio piles up in the pipe meanwhile);
* **no backlog**: the source starts as soon as the first bytes arrive (as with a sound
  card, or a pipe started after the screen is up): the reference.

With ``--ticks``, two more cases without backlog measure to the app's next screen tick (a
thread ticking 30 times a second; the frame is on screen at the first tick after it came):
the engine woken per block, and woken just before each tick (``Engine.follow_ticks``, what
the app does), the ticks' phase spread over the runs (compare the means: a frame that
comes within the lead before a tick waits for the next one).

    python benchmarks/bench_latency.py [--startup 0.5] [--repeat 3] [--ticks] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time

import numpy as np

FS = 48000
PERIOD = 480  # frames per write (10 ms), like arecord's period


def one_run(
    startup_s: float,
    onset_s: float,
    timeout_s: float = 10.0,
    tick: float = 0.0,
    follow: bool = False,
    phase: float = 0.0,
) -> float:
    """Seconds from the onset's write into the pipe to the first frame showing the tone;
    with a ``tick`` (s), to the first tick after that frame came (the app's screen tick,
    a thread here, ticking ``phase`` ticks after the engine starts), the engine woken per
    block or (``follow``) just before each tick as in the app (``Engine.follow_ticks``)."""
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.audio.stdin import StdinSource
    from livespec.config import AnalysisConfig
    from livespec.engine import Engine, Frame

    r, w = os.pipe()
    onset = int(onset_s * FS)
    stop = threading.Event()
    onset_written: list[float] = []

    def writer() -> None:
        t0 = time.monotonic()
        k = 0
        while not stop.is_set():
            idx = np.arange(k, k + PERIOD)
            x = np.where(idx >= onset, 0.5 * np.sin(2 * np.pi * 1000.0 * idx / FS), 0.0)
            try:
                os.write(w, (x * 32767).astype("<i2").tobytes())
            except OSError:
                return
            if k <= onset < k + PERIOD:
                onset_written.append(time.monotonic())
            k += PERIOD
            delay = t0 + k / FS - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    seen: list[float] = []
    shown: list[float] = []

    def on_frame(frame: Frame) -> None:
        if seen or not frame.peaks:
            return
        p = frame.peaks[0]
        if abs(p.freq_hz - 1000.0) < 20.0 and p.level_dbfs > -20.0:
            seen.append(time.monotonic())

    feed = threading.Thread(target=writer)
    feed.start()
    time.sleep(startup_s)  # the app starting while the pipe fills
    src = StdinSource("s16le", FS, 1, blocksize=1024, stream=os.fdopen(r, "rb", buffering=0))
    engine = None
    try:
        src.open()
        src.realtime = True  # as livespec/tui/run.py does for --input -
        ring = RingBuffer(FS * 10, 1)
        engine = Engine(src, ring, AnalysisConfig(fft=4096, overlap=0.75), on_frame)
        grid = engine.follow_ticks(tick) if follow else None
        src.start(ring)
        engine.start()
        deadline = time.monotonic() + onset_s + timeout_s
        t0, k = time.monotonic() + (phase - 1.0) * tick, 0
        while not shown and time.monotonic() < deadline:
            if not tick:
                time.sleep(0.01)
                if seen:
                    shown.append(seen[0])
                continue
            k += 1
            time.sleep(max(0.0, t0 + k * tick - time.monotonic()))
            now = time.monotonic()  # a tick: what came is shown now
            if grid is not None:
                grid.tick(now)
            if seen:
                shown.append(now)
    finally:
        stop.set()
        if engine is not None:
            engine.stop()
        src.stop()
        feed.join(timeout=5)
        os.close(w)
    if not shown or not onset_written:
        return float("nan")
    return shown[0] - onset_written[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--startup", type=float, default=0.5, help="seconds the pipe fills first")
    ap.add_argument("--onset", type=float, default=1.5, help="tone onset, s into the stream")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--ticks",
        action="store_true",
        help="also the onset to the app's next screen tick (30/s), with the engine woken "
        "per block and just before each tick (as in the app)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    runs: dict[str, list[float]] = {"fed_from_launch_ms": [], "no_backlog_ms": []}
    if args.ticks:
        runs |= {"to_tick_per_block_ms": [], "to_tick_following_ms": []}
    for i in range(args.repeat):
        runs["fed_from_launch_ms"].append(1000 * one_run(args.startup, args.onset))
        runs["no_backlog_ms"].append(1000 * one_run(0.0, args.onset))
        if args.ticks:  # the ticks' phase spread evenly over the runs (golden ratio)
            phase = (i * 0.6180339887) % 1.0
            for key, follow in (("to_tick_per_block_ms", False), ("to_tick_following_ms", True)):
                ms = one_run(0.0, args.onset, tick=1 / 30, follow=follow, phase=phase)
                runs[key].append(1000 * ms)
    med = {k: statistics.median(v) for k, v in runs.items()}
    mean = {k: statistics.fmean(v) for k, v in runs.items()}
    med["difference_ms"] = med["fed_from_launch_ms"] - med["no_backlog_ms"]
    if args.json:
        print(json.dumps({k: round(v, 1) for k, v in med.items()}))
        return 0
    print(f"startup {args.startup} s, onset at {args.onset} s, {args.repeat} runs each")
    for k, v in runs.items():
        print(
            f"{k:20s} median {med[k]:7.1f} ms, mean {mean[k]:7.1f}  "
            f"(runs: {', '.join(f'{x:.1f}' for x in v)})"
        )
    print(f"fed from launch - no backlog: {med['difference_ms']:+.1f} ms (target: within 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
