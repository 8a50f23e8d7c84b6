"""Benchmark of the file browser (``livespec FILE``) on a one-hour recording, end to end.

Usage::

    python benchmarks/bench_browser.py                  # 1 h at 48 kHz, 120x40, 3 repeats
    python benchmarks/bench_browser.py --minutes 10 --repeats 1 --json

The file (mono, 16-bit WAV, pink-ish noise at about -60 dBFS with tones at known times,
see :data:`TONES`) is written once with numpy and soundfile into the temp folder (bounded
memory: one minute at a time) and kept for the next run. Each repeat runs the real program,
``python -m livespec FILE --no-audio``, in a detached tmux session of 120x40 on a private
tmux server (``COLORTERM=truecolor``), reads the screen every 50 ms with ``capture-pane -p
-e`` and measures:

* **first picture**: seconds from launch until the waterfall shows computed columns (cells
  whose colour is not the colour map's floor: the noise is above the floor);
* **full overview**: until the readout no longer says ``overview NN%`` (every column done)
  and the last waterfall column is drawn;
* **peak RSS**: ``VmHWM`` of the process (``/proc/PID/status``) at the end, MB;
* that the picture is right: after the overview, the cells at each tone's time and
  frequency are brighter than the noise around them (``tones_seen``).

As a reference measured in the same run (a shared machine moves the absolute figures), the
plain read of the whole file (``soundfile.blocks``, 65536 frames at a time, no analysis) is
timed; ``overview / read`` is the ratio. Targets (issue #15): first picture <= 2 s, full
overview <= 15 s, peak RSS < 300 MB. Reported figures are medians over ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FS = 48000
TONES = ((600.0, 610.0, 1000.0), (1800.0, 1810.0, 3000.0), (3000.0, 3010.0, 500.0))
WIDTH, HEIGHT = 120, 40
AXIS_W, BAR_W = 7, 8  # the plot's frequency axis and colour bar (livespec.tui.widgets.plot)
TOP = 3  # readout rows above the plot


def make_file(path: Path, minutes: float) -> None:
    """Noise at about -60 dBFS with :data:`TONES` at -12 dBFS, one minute per write."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    total = int(minutes * 60 * FS)
    with sf.SoundFile(path, "w", FS, 1, subtype="PCM_16") as f:
        for start in range(0, total, 60 * FS):
            n = min(60 * FS, total - start)
            t = (start + np.arange(n)) / FS
            x = rng.normal(scale=10 ** (-60 / 20), size=n)
            for a, b, hz in TONES:
                m = (t >= a) & (t < b)
                x[m] += 0.25 * np.sin(2 * np.pi * hz * t[m])
            f.write(x.astype(np.float32))


def read_reference(path: Path) -> float:
    """Seconds to read the whole file in blocks (no analysis)."""
    import soundfile as sf

    t0 = time.perf_counter()
    for _ in sf.blocks(str(path), blocksize=65536, dtype="float32"):
        pass
    return time.perf_counter() - t0


_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def cells(line: str) -> list[tuple[str, tuple[int, ...] | None, tuple[int, ...] | None]]:
    """(character, foreground RGB, background RGB) of each cell of a captured line."""
    out: list[tuple[str, tuple[int, ...] | None, tuple[int, ...] | None]] = []
    fg: tuple[int, ...] | None = None
    bg: tuple[int, ...] | None = None
    pos = 0
    for m in _SGR.finditer(line):
        out += [(ch, fg, bg) for ch in line[pos : m.start()]]
        codes = [int(c) if c else 0 for c in m.group(1).split(";")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                fg = bg = None
            elif c in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                rgb = tuple(codes[i + 2 : i + 5])
                fg, bg = (rgb, bg) if c == 38 else (fg, rgb)
                i += 4
            elif c == 39:
                fg = None
            elif c == 49:
                bg = None
            i += 1
        pos = m.end()
    out += [(ch, fg, bg) for ch in line[pos:]]
    return out


def waterfall(screen: str) -> list[list[tuple[int, ...] | None]]:
    """The waterfall's cells as (top-half) colours: rows x columns."""
    lines = screen.split("\n")[TOP : TOP + HEIGHT - 6]
    rows = []
    for line in lines:
        c = cells(line)[AXIS_W : WIDTH - BAR_W]
        rows.append([fg if ch == "▀" else None for ch, fg, _ in c])
    return rows


def brightness(rgb: tuple[int, ...] | None) -> int:
    return -1 if rgb is None else sum(rgb)


def _tmux(sock: str, *argv: str) -> str:
    done = subprocess.run(["tmux", "-L", sock, *argv], capture_output=True, text=True)
    return done.stdout


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def run_once(path: Path, duration: float, timeout: float) -> dict[str, Any]:
    """One launch of the browser in tmux; the timings and the checks."""
    sock = f"livespec-bench-browser-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "tmux.conf"
        conf.write_text("set -g status off\n")
        cmd = f"exec {sys.executable} -m livespec {path} --no-audio"
        env = ["-e", "COLORTERM=truecolor", "-e", f"PYTHONPATH={ROOT}"]
        new = ["-f", str(conf), "new-session", "-d", "-s", "b", "-x", str(WIDTH), "-y", str(HEIGHT)]
        t_launch = time.monotonic()
        pid = int(_tmux(sock, *new, *env, "-P", "-F", "#{pane_pid}", cmd).strip())
        first = full = None
        screen = ""
        try:
            while time.monotonic() - t_launch < timeout:
                screen = _tmux(sock, "capture-pane", "-p", "-e", "-t", "b")
                now = time.monotonic() - t_launch
                wf = waterfall(screen)
                if wf and wf[0]:
                    floor = (
                        min(brightness(c) for row in wf for c in row if c is not None)
                        if any(c is not None for row in wf for c in row)
                        else -1
                    )
                    lit = [
                        any(brightness(row[x]) > floor for row in wf if x < len(row))
                        for x in range(len(wf[0]))
                    ]
                    if first is None and floor >= 0 and any(lit):
                        first = now
                    if first is not None and "overview" not in screen and lit and lit[-1]:
                        full = now
                        break
                time.sleep(0.05)
            rss = peak_rss_mb(pid)
            seen = tones_seen(waterfall(screen), duration) if full is not None else {}
            _tmux(sock, "send-keys", "-t", "b", "q")
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            _tmux(sock, "kill-server")
            tmux_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
            (tmux_dir / sock).unlink(missing_ok=True)
    return {"first_picture_s": first, "full_overview_s": full, "peak_rss_mb": rss, **seen}


def tones_seen(wf: list[list[tuple[int, ...] | None]], duration: float) -> dict[str, bool]:
    """Whether each tone's column is brighter than the noise on screen (its brightest cell
    against the median of the screen's brightest cells per column)."""
    width = len(wf[0])
    col_max = [max(brightness(row[x]) for row in wf) for x in range(width)]
    noise = statistics.median(col_max)
    out = {}
    for a, b, hz in TONES:
        if b > duration:
            continue
        x = int((a + b) / 2 / duration * width)
        out[f"tone_{hz:g}Hz_at_{a:g}s_seen"] = col_max[x] > noise
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 2
    path = Path(tempfile.gettempdir()) / f"livespec-bench-browser-{args.minutes:g}min.wav"
    if not path.exists():
        t0 = time.perf_counter()
        make_file(path, args.minutes)
        print(f"# wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    runs = []
    for _ in range(args.repeats):
        ref = read_reference(path)
        r = run_once(path, args.minutes * 60, args.timeout)
        r["read_reference_s"] = round(ref, 3)
        runs.append(r)

    def med(key: str) -> float | None:
        vals = [r[key] for r in runs if r.get(key) is not None]
        return round(statistics.median(vals), 3) if vals else None

    summary: dict[str, Any] = {
        "file": str(path),
        "minutes": args.minutes,
        "size": f"{WIDTH}x{HEIGHT}",
        "repeats": args.repeats,
        "first_picture_s": med("first_picture_s"),
        "full_overview_s": med("full_overview_s"),
        "peak_rss_mb": med("peak_rss_mb"),
        "read_reference_s": med("read_reference_s"),
        "tones_seen": all(v for r in runs for k, v in r.items() if k.endswith("_seen")),
    }
    if summary["full_overview_s"] and summary["read_reference_s"]:
        summary["overview_over_read"] = round(
            summary["full_overview_s"] / summary["read_reference_s"], 2
        )
    if args.json:
        summary["runs"] = runs
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
