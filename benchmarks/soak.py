"""Soak: record the virtual device under full CPU load; no discontinuity may be silent.

Usage::

    python benchmarks/soak.py                   # 10 minutes, both cores busy
    python benchmarks/soak.py --minutes 1 --stress 0

A private virtual device (tests/support/virtual_audio.py) plays the sample counter, whose
every sample names its own index, so any dropped, repeated or silent stretch in a capture
is found to the sample (tests/support/continuity.py). While ``--stress`` busy processes
(default: one per core) keep every core at 100 %, ``livespec record --device pulse
--subtype FLOAT`` records it for ``--minutes``, and ``parec`` records the same monitor
beside it at a raised priority (the reference).

Every discontinuity in livespec's file is then one of:

- **device**: also in the reference, at the same counter value: the virtual device's own
  (its feeder underran, PulseAudio played silence); not livespec's;
- **counted**: a gap in the sidecar's ``gap_list`` at that frame, of that length (lost and
  filled with silence, or silence inserted for audio the sound system dropped without a
  flag, which has a ``cause``), or a drop while the sidecar counts input overflows (one
  per overflow; PortAudio does not say where);
- **silent**: neither. livespec lost or altered audio without saying so.

Prints the figures and each discontinuity; exits 1 if any is silent, 2 if the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.continuity import (  # noqa: E402
    Continuity,
    Discontinuity,
    find_discontinuities,
    match,
)
from support.virtual_audio import VirtualAudio  # noqa: E402

RATE = 48000
BUSY = "import os, sys\nos.nice(int(sys.argv[1]))\nwhile True:\n    pass\n"


@dataclass
class Soak:
    """What one soak found."""

    seconds: float = 0.0
    load: list[float] = field(default_factory=list)  # 1-minute load average, every 5 s
    cpu_busy: float = 0.0  # fraction of all cores busy over the recording
    priority: str = ""
    livespec: Continuity | None = None
    reference: Continuity | None = None
    sidecar: dict[str, object] = field(default_factory=dict)
    verdicts: list[tuple[Discontinuity, str]] = field(default_factory=list)
    uncounted_gaps: list[dict[str, int]] = field(default_factory=list)
    error: str = ""

    def count(self, verdict: str) -> int:
        return sum(1 for _, v in self.verdicts if v.startswith(verdict))

    @property
    def silent(self) -> int:
        return self.count("silent")

    def report(self) -> str:
        """The figures, one per line, then every discontinuity of livespec's file."""
        if self.error:
            return f"soak: FAILED: {self.error}"
        assert self.livespec is not None and self.reference is not None
        side = self.sidecar
        load = f"{max(self.load):.2f} max, {sum(self.load) / len(self.load):.2f} mean"
        lines = [
            f"minutes                  {self.seconds / 60:.2f}",
            f"load average (1 min)     {load}; CPU busy {100 * self.cpu_busy:.0f} %",
            f"feeder/reference         {self.priority}",
            f"frames in livespec file  {side.get('frames')} (leading silence "
            f"{self.livespec.lead}, trailing {self.livespec.tail})",
            f"sidecar                  overflows {side.get('overflows')}, gaps "
            f"{side.get('gaps')}, lost_frames {side.get('lost_frames')}",
            f"discontinuities livespec {len(self.livespec.events)}",
            f"  in the reference       {len(self.reference.events)} "
            f"(of which in livespec's too: {self.count('device')})",
            f"  counted by livespec    {self.count('counted')}",
            f"  silent                 {self.silent}",
        ]
        lines += [f"    {e}: {v}" for e, v in self.verdicts]
        lines += [f"    sidecar gap not seen in the file: {g}" for g in self.uncounted_gaps]
        return "\n".join(lines)


def judge(
    mine: list[Discontinuity], reference: list[Discontinuity], side: dict[str, object]
) -> tuple[list[tuple[Discontinuity, str]], list[dict[str, int]]]:
    """A verdict for each of livespec's discontinuities (see the module doc), and the
    sidecar's gaps that no discontinuity of the file accounts for."""
    device, _ = match(mine, reference)
    gap_list = [dict(g) for g in side.get("gap_list", [])]  # type: ignore[attr-defined]
    overflows = int(side.get("overflows", 0))  # type: ignore[call-overload]
    verdicts = []
    for e in mine:
        listed = [g for g in gap_list if (g.get("at_frame"), g.get("frames")) == (e.pos, e.silent)]
        if e in device:
            verdicts.append((e, "device (also in the reference)"))
        elif e.kind == "filled" and listed:
            gap_list.remove(listed[0])
            verdicts.append((e, "counted (sidecar gap)"))
        elif e.kind == "inserted" and listed and listed[0].get("cause"):
            gap_list.remove(listed[0])
            verdicts.append((e, f"counted (silence for audio {listed[0]['cause']})"))
        elif e.jump > 0 and overflows > 0:
            overflows -= 1
            verdicts.append((e, "counted (an input overflow)"))
        else:
            verdicts.append((e, "silent"))
    return verdicts, gap_list


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _record(
    cmd: list[str], env: dict[str, str], seconds: float, stall: float
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; with ``stall``, SIGSTOP it for that long a third of the way in."""
    with subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        if stall > 0:
            time.sleep(seconds / 3)
            os.kill(proc.pid, signal.SIGSTOP)
            time.sleep(stall)
            os.kill(proc.pid, signal.SIGCONT)
        try:
            stdout, stderr = proc.communicate(timeout=seconds + stall + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout.decode(), stderr.decode())


def run(
    seconds: float,
    workdir: Path,
    stress: int,
    nice: int = 0,
    feeder_ms: int = 400,
    raise_priority: bool = True,
    stall: float = 0.0,
) -> Soak:
    """One soak of ``seconds`` with ``stress`` busy processes at ``nice``, in ``workdir``,
    the feeder with ``feeder_ms`` of buffer, at a raised priority or not. ``stall`` > 0
    stops livespec (SIGSTOP) for that many seconds a third of the way in."""
    out = Soak()
    latency = feeder_ms
    va = VirtualAudio(
        workdir / "va",
        rate=RATE,
        counter=True,
        feed_latency_ms=latency,
        raise_priority=raise_priority,
    )
    busy: list[subprocess.Popen[bytes]] = []
    rec = workdir / "livespec.wav"
    for f in (rec, rec.with_name(rec.name + ".json")):
        f.unlink(missing_ok=True)
    stop_sampling = threading.Event()

    def sample_load() -> None:
        while not stop_sampling.wait(5.0):
            out.load.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    try:
        va.start()
        out.priority = f"feeder {va.feeder_priority}, {latency} ms buffer; parec 200 ms"
        busy = [
            subprocess.Popen([sys.executable, "-c", BUSY, str(nice)], stdin=subprocess.DEVNULL)
            for _ in range(stress)
        ]
        time.sleep(1.0 if stress else 0.0)  # let the load build up
        va.start_reference(workdir / "reference.wav")
        time.sleep(0.5)
        sampler.start()
        cmd = [sys.executable, "-m", "livespec", "record", str(rec), "--device", "pulse"]
        cmd += ["-r", str(RATE), "--duration", f"{seconds:g}", "--subtype", "FLOAT"]
        c0, t0 = _cpu_times(), time.monotonic()
        done = _record(cmd, {**os.environ, **va.env}, seconds, stall)
        out.seconds = time.monotonic() - t0
        c1 = _cpu_times()
        out.cpu_busy = (c1[0] - c0[0]) / max(1, c1[1] - c0[1])
        out.load.append(os.getloadavg()[0])
        time.sleep(0.5)
        ref = va.stop_reference()
        if done.returncode != 0:
            out.error = f"livespec record exited {done.returncode}: {done.stderr.strip()}"
            return out
        out.sidecar = json.loads(rec.with_name(rec.name + ".json").read_text())
        x, _ = sf.read(str(rec), dtype="float32", always_2d=True)
        r, _ = sf.read(str(ref), dtype="float32", always_2d=True)
        out.livespec = find_discontinuities(x[:, 0])
        out.reference = find_discontinuities(r[:, 0])
        out.verdicts, out.uncounted_gaps = judge(
            out.livespec.events, out.reference.events, out.sidecar
        )
        return out
    finally:
        stop_sampling.set()
        for p in busy:
            p.kill()
            p.wait()
        va.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="recording length (10)")
    ap.add_argument(
        "--stress", type=int, default=os.cpu_count() or 2, help="busy processes (one per core)"
    )
    ap.add_argument("--nice", type=int, default=0, help="their nice value (0: like livespec)")
    ap.add_argument("--dir", type=Path, help="working folder (kept); default: a temporary one")
    ap.add_argument(
        "--weak-device",
        action="store_true",
        help="feeder at normal priority with 10 ms of buffer: it underruns (a check of the check)",
    )
    ap.add_argument(
        "--stall",
        type=float,
        default=0.0,
        help="stop livespec (SIGSTOP) for this many seconds a third of the way in",
    )
    ap.add_argument("--feeder-ms", type=int, default=400, help="the feeder's buffer, ms (400)")
    ap.add_argument(
        "--normal-priority", action="store_true", help="do not raise the feeder's priority"
    )
    args = ap.parse_args()
    if args.weak_device:
        args.feeder_ms, args.normal_priority = 10, True
    device = {"feeder_ms": args.feeder_ms, "raise_priority": not args.normal_priority}
    device["stall"] = args.stall
    print(
        f"soak: recording the sample counter for {args.minutes:g} min with "
        f"{args.stress} busy process(es)...",
        flush=True,
    )
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        result = run(args.minutes * 60, args.dir, args.stress, args.nice, **device)
    else:
        with tempfile.TemporaryDirectory(prefix="livespec-soak-") as tmp:
            result = run(args.minutes * 60, Path(tmp), args.stress, args.nice, **device)
    print(result.report())
    if result.error:
        return 2
    return 1 if result.silent else 0


if __name__ == "__main__":
    sys.exit(main())
