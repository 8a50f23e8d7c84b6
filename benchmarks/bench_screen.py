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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_peers import CLK_TCK, PY, ROOT, cpu_seconds, wchar  # this script's folder


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of ``pid``."""
    out: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def thread_names(pid: int) -> dict[int, str]:
    """Thread id -> Python thread name, from ``py-spy dump`` (empty without py-spy)."""
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not os.path.exists(spy):
        return {}
    out = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True)
    names: dict[int, str] = {}
    for line in out.stdout.splitlines():
        if line.startswith("Thread ") and '"' in line:
            names[int(line.split()[1], 0)] = line.split('"')[1]
    return names


def run(root: str, seconds: float) -> dict[str, float]:
    """One run of the app from checkout ``root``: CPU %, per thread %, tmux %, KB/s."""
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "tmux")
        conf = os.path.join(tmp, "tmux.conf")
        Path(conf).write_text("set -g status off\n")
        base = ["tmux", "-S", sock, "-f", conf]
        # started in an empty folder: ``python -m`` puts the working folder before PYTHONPATH
        env = ["-e", f"PYTHONPATH={root}", "-e", "COLORTERM=truecolor"]
        cmd = f"exec {PY} -m livespec --input demo --fps 30 --colors truecolor"
        out = subprocess.run(
            [*base, "new-session", "-d", "-x", "120", "-y", "40", *env, "-c", tmp, "-P",
             "-F", "#{pane_pid}", cmd],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        pid = int(out.stdout.strip())
        try:
            server = int(
                subprocess.run(
                    [*base, "display", "-p", "#{pid}"], capture_output=True, text=True
                ).stdout.strip()
            )
            time.sleep(4.0)
            names = thread_names(pid)
            t0, c0, s0, b0, w0 = (
                thread_cpu(pid), cpu_seconds(pid), cpu_seconds(server), wchar(pid),
                time.monotonic(),
            )  # fmt: skip
            time.sleep(seconds)
            t1, c1, s1, b1, w1 = (
                thread_cpu(pid), cpu_seconds(pid), cpu_seconds(server), wchar(pid),
                time.monotonic(),
            )  # fmt: skip
        finally:
            subprocess.run([*base, "kill-server"], capture_output=True)
    dt = w1 - w0
    result = {"app_pct": 100 * (c1 - c0) / dt, "tmux_pct": 100 * (s1 - s0) / dt}
    result["kb_s"] = (b1 - b0) / dt / 1024
    for tid, cpu in t1.items():
        name = "MainThread (UI)" if tid == pid else names.get(tid, f"thread {tid - pid:+d}")
        pct = 100 * (cpu - t0.get(tid, cpu)) / dt
        result[f"thread {name}"] = result.get(f"thread {name}", 0.0) + pct
    return result


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
