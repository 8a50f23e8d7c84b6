"""Benchmark: the live app's own CPU, per thread, in a 120x40 tmux pane (issue #16 item 1),
with the same run of another checkout interleaved (``--before``: e.g. main).

Each run starts ``livespec --input demo --fps 30 --colors truecolor`` (COLORTERM=truecolor)
in a private tmux server's detached pane, as ``bench_peers.py --terminal`` does, waits 4 s
and then measures over ``--seconds``: the program's CPU (% of one core, all threads), each
of its threads' (``/proc/PID/task/*/stat``; the main thread is the UI thread, the others
are named from ``py-spy dump`` when it is installed), the tmux server's CPU and the bytes
written (``wchar``, KB/s). Prints medians over ``--repeat`` runs and the load average.

    python benchmarks/bench_screen.py [--before /path/to/other/checkout] [--repeat 3]
        [--seconds 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys

from bench_peers import PY, ROOT, screen_load  # this script's folder


def run(root: str, seconds: float) -> dict[str, float]:
    """One run of the app from checkout ``root``: CPU %, per thread %, tmux %, KB/s."""
    threads: dict[str, float] = {}
    cmd = f"{PY} -m livespec --input demo --fps 30 --colors truecolor"
    env = {"PYTHONPATH": root, "COLORTERM": "truecolor"}
    app, tmux, kbs = screen_load(cmd, seconds, env, threads=threads)
    return {"app_pct": app, "tmux_pct": tmux, "kb_s": kbs, **threads}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="another checkout to measure interleaved (e.g. main)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed", file=sys.stderr)
        return 2
    roots = ([args.before] if args.before else []) + [str(ROOT)]
    load0 = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {r: [] for r in roots}
    for _ in range(args.repeat):
        for root in roots:
            runs[root].append(run(root, args.seconds))
    load1 = os.getloadavg()[0]
    medians = {
        root: {
            key: statistics.median(r.get(key, 0.0) for r in rs)
            for key in sorted({k for r in rs for k in r})
        }
        for root, rs in runs.items()
    }
    if args.json:
        print(json.dumps({"load": [load0, load1], "medians": medians, "runs": runs}))
        return 0
    print(
        f"repeats {args.repeat}, {args.seconds:g} s each; load average {load0:.2f} -> {load1:.2f}"
    )
    for root, m in medians.items():
        print(f"{root}: medians")
        for key, value in m.items():
            if value >= 0.05 or not key.startswith("thread"):
                print(f"  {key:32s} {value:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
