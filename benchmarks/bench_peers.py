"""Benchmark: livespec beside its peers (a plain numpy script, cava, sox), as in issue #16.

Every row runs livespec and its reference in the same run, interleaved, ``--repeat``
times (3), and prints medians, their ratio, the load average before and after, and the
target. Peers that are not installed are skipped and said so.

Rows:

* **peaks CPU**: ``livespec peaks --input tone:1000@-6 --realtime`` (48 kHz, n = 4096,
  75 % overlap, stdout to /dev/null) against ``benchmarks/peers/numpy_peaks.py`` (a plain
  numpy script doing the same job), % of one core from ``/proc/PID/stat`` over
  ``--seconds`` after a 2 s warm-up;
* **engine step**: ``benchmarks/bench_frame.py``: warm µs per frame of the whole engine
  step against the FFTW execute alone;
* **peaks start-up**: wall time of ``livespec peaks --input tone:1000 --duration 0.1``
  against ``python -c 'import numpy'``, fresh processes, 10 of each, interleaved;
* **app start-up**: launch to the first analysed frame on screen: ``livespec --input
  tone:1000`` in a 120x40 tmux pane, polled until the readout shows the tone's peak
  (``1000.0 Hz``), plain ``livespec`` (the demo signal when there is no microphone) until
  the readout shows a peak, with the CPU time the app had used by then; and the same on a
  live device beside cava: both read the project's
  virtual input device (tests/support/virtual_audio.py, a private PulseAudio server
  looping a 1 kHz tone over pink noise; livespec through PortAudio's ``pulse`` device,
  cava through libpulse), livespec until its readout shows ``1000.0 Hz``, cava until its
  first bar above the empty baseline. The tmux server and an idle pane are up before the
  clock starts; the clock runs from ``respawn-pane`` (what pressing Enter in a shell is)
  to the first look at the pane that finds the text; a control-mode client looks each time
  the program has written to the pane (no process per look, no busy polling:
  :class:`Pane`). Bytecode caches are used, as an installed package has them (see
  ``PYCACHE``), and every program runs in an empty folder (``CWD``);
* **stdin latency**: ``benchmarks/bench_latency.py``: a tone's onset to its first frame,
  the pipe fed from launch, against the same without a backlog (the device-like path);
* **terminal** (``--terminal``): the live app at 120x40 in truecolor at 30 updates/s
  (``--input demo``, and ``--device pulse`` on the virtual device) in a tmux pane,
  against cava on the same device (its defaults: 60 fps) in the same pane size: CPU of
  the program, CPU of the tmux server that
  parses its output (what the user's terminal pays), and bytes written per second
  (``wchar``), over ``--seconds`` after a 4 s warm-up;
* **PNG** (``--png``): ``livespec export --png --size 2048x512`` of a 60 s file against
  ``sox ... spectrogram -x 2048 -Y 512``, wall time.

    python benchmarks/bench_peers.py [--repeat 3] [--seconds 10] [--terminal] [--png]
        [--only peaks,engine,short,startup,latency,terminal,png] [--json]
    python benchmarks/bench_peers.py --only short,startup --repeat 15 --before ../before
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import select
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Bytecode caches as an installed package has them (pip compiles at install time): the
# session's PYTHONDONTWRITEBYTECODE would make every run compile livespec's ~70 modules
# from source (70 ms), so the caches go to a private folder, written by the warm-up runs.
PYCACHE = tempfile.mkdtemp(prefix="livespec-bench-pyc-")
# Every program runs in an empty folder: ``python -m livespec`` puts its working folder
# first on sys.path, so started from a checkout it would run that checkout, whatever
# PYTHONPATH says (``--before`` would measure this tree twice).
CWD = tempfile.mkdtemp(prefix="livespec-bench-cwd-")
atexit.register(shutil.rmtree, PYCACHE, ignore_errors=True)
atexit.register(shutil.rmtree, CWD, ignore_errors=True)


def tree_env(root: Path) -> dict[str, str]:
    """What a run of the livespec at ``root`` gets on top of ``os.environ``."""
    return {"PYTHONPATH": str(root), "PYTHONPYCACHEPREFIX": PYCACHE}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | tree_env(ROOT)
VIRTUAL_AUDIO = ROOT / "tests" / "support" / "virtual_audio.py"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_pct(cmd: list[str], seconds: float, warm: float = 2.0) -> float:
    """% of one core a long-running command uses over ``seconds`` after ``warm``."""
    p = subprocess.Popen(
        cmd, env=ENV, cwd=CWD, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(warm)
        c0, t0 = cpu_seconds(p.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(p.pid), time.monotonic()
    finally:
        p.terminate()
        p.wait()
    return 100.0 * (c1 - c0) / (t1 - t0)


def wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds a command takes, start to exit."""
    t0 = time.perf_counter()
    subprocess.run(
        cmd,
        env=ENV | (env or {}),
        cwd=CWD,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - t0


def json_of(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run(cmd, env=ENV, cwd=CWD, capture_output=True, text=True, check=True)
    parsed: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return parsed


class Pane:
    """A private tmux server with one 120x40 pane (no status line) and a control-mode
    client. The client is told of every write to the pane (``%output``) and reads the
    pane's text on request, through one pipe: no tmux process per look, and no look while
    the program writes nothing (a poll loop would take the CPU the program under test
    needs on a loaded 2-core machine)."""

    def __init__(self, tmp: str, env: dict[str, str] | None = None) -> None:
        self.sock = os.path.join(tmp, "tmux")
        conf = os.path.join(tmp, "tmux.conf")
        Path(conf).write_text("set -g status off\n")
        self.base = ["tmux", "-S", self.sock, "-f", conf]
        extra: list[str] = []
        for k, v in (env or {}).items():
            extra += ["-e", f"{k}={v}"]
        # An idle pane first: the server's start is not part of the program's.
        subprocess.run(
            [
                *self.base,
                "new-session",
                "-d",
                "-s",
                "b",
                "-c",
                CWD,
                "-x",
                "120",
                "-y",
                "40",
                *extra,
                "cat",
            ],
            check=True,
            env=ENV,  # the server's environment is every pane's
        )
        self.ctl = subprocess.Popen(
            [*self.base, "-C", "attach", "-t", "b"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self.buf = b""
        self.written = False  # the pane was written to since the last look

    def _line(self, timeout: float | None) -> bytes | None:
        """The client's next line; None if none came within ``timeout`` seconds."""
        assert self.ctl.stdout is not None
        fd = self.ctl.stdout.fileno()
        while b"\n" not in self.buf:
            if timeout is not None and not select.select([fd], [], [], timeout)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise RuntimeError("tmux control client ended")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if line.startswith(b"%output"):
            self.written = True
        return line

    def wait_output(self, timeout: float) -> None:
        """Until the pane is written to or ``timeout`` seconds pass."""
        end = time.monotonic() + timeout
        while not self.written and (left := end - time.monotonic()) > 0:
            self._line(left)

    def command(self, text: str) -> str:
        """Run one tmux command through the control client; its output."""
        assert self.ctl.stdin is not None
        self.ctl.stdin.write(text.encode() + b"\n")
        lines: list[bytes] = []
        inside = False
        while True:
            line = self._line(None)
            assert line is not None
            # %begin TIME NUMBER FLAGS: flags 1 marks the reply to this client's command
            # (the attach's own block, flags 0, comes first and is not a reply)
            if line.startswith(b"%begin") and line.endswith(b" 1"):
                inside, lines = True, []
            elif line.startswith((b"%end", b"%error")) and inside:
                return b"\n".join(lines).decode("utf-8", "replace")
            elif inside:
                lines.append(line)

    def close(self) -> None:
        # The client may be blocked writing %output nobody reads: end it, then the server.
        self.ctl.kill()
        self.ctl.wait()
        for pipe in (self.ctl.stdin, self.ctl.stdout):
            if pipe is not None:
                pipe.close()
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=10)


def pane_until(
    cmd: str,
    found: Any,
    timeout: float = 10.0,
    env: dict[str, str] | None = None,
    cpu: list[float] | None = None,
) -> float:
    """Seconds from starting ``cmd`` in a 120x40 tmux pane (private server, started
    beforehand with an idle pane, as a user's terminal is) to ``found(pane_text)`` being
    true. The pane's text is read each time the program has written to it (and every
    50 ms regardless), about 1 ms after the write. NaN on timeout. ``cpu``: gets the CPU
    seconds the program had used by then (all its threads; less sensitive to the load)."""
    assert "'" not in cmd
    with tempfile.TemporaryDirectory() as tmp:
        pane = Pane(tmp, env)
        try:
            pane.command("capture-pane -p -t b")  # the client is up and answering
            t0 = time.monotonic()
            pane.command(f"respawn-pane -k -t b 'exec {cmd}'")
            pid = int(pane.command("display -p -t b '#{pane_pid}'").strip())
            while time.monotonic() - t0 < timeout:
                pane.wait_output(0.05)
                pane.written = False
                if found(pane.command("capture-pane -p -t b")):
                    seconds = time.monotonic() - t0
                    if cpu is not None:
                        cpu.append(cpu_seconds(pid))
                    return seconds
            return float("nan")
        finally:
            pane.close()


def app_startup(
    root: Path = ROOT, args: str = "--input tone:1000", cpu: list[float] | None = None
) -> float:
    """Launch to the first analysed frame on screen: the readout shows the tone's peak
    (``1000.0 Hz``), or with ``args=""`` (plain ``livespec``: the demo when there is no
    microphone) any peak frequency. ``cpu``: as :func:`pane_until`'s."""
    cmd = f"{PY} -m livespec {args}".strip()
    env = {**tree_env(root), "COLORTERM": "truecolor"}
    if args:
        return pane_until(cmd, lambda text: "1000.0 Hz" in text, env=env, cpu=cpu)
    peak = re.compile(r"Peak +[0-9.]+ Hz")
    return pane_until(cmd, lambda text: peak.search(text) is not None, env=env, cpu=cpu)


def virtual_device_start(tmp: Path) -> dict[str, str] | None:
    """Start the project's virtual input device (tests/support/virtual_audio.py: a private
    PulseAudio server whose null sink loops ``signal.wav``, a 1 kHz tone over pink noise),
    so that livespec (through PortAudio, device ``pulse``) and cava (through libpulse) read
    the same live audio. Returns the client environment, or None when it cannot start."""
    import wave

    import numpy as np

    wav = tmp / "signal.wav"
    rate = 48000
    rng = np.random.default_rng(0)
    white = rng.standard_normal(rate * 10)
    spec = np.fft.rfft(white)
    spec[1:] /= np.sqrt(np.arange(1, spec.size))  # pink: power falls 3 dB an octave
    pink = np.fft.irfft(spec, white.size)
    pink *= 0.05 / np.max(np.abs(pink))
    tone = 0.25 * np.sin(2 * np.pi * 1000 * np.arange(white.size) / rate)
    pcm = np.round(32767 * (tone + pink)).astype("<i2")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    out = subprocess.run(
        [PY, str(VIRTUAL_AUDIO), "start", "--dir", str(tmp / "va"), "--wav", str(wav), "--s16"],
        capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        print(f"virtual device: {out.stderr.strip()}", file=sys.stderr)
        return None
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def virtual_device_stop(tmp: Path) -> None:
    subprocess.run([PY, str(VIRTUAL_AUDIO), "stop", "--dir", str(tmp / "va")], capture_output=True)


def cava_conf(tmp: Path) -> Path:
    """cava's config: PulseAudio input from the virtual device's monitor, defaults else."""
    conf = tmp / "cava.conf"
    conf.write_text("[input]\nmethod = pulse\nsource = vsink.monitor\n")
    return conf


def cava_startup(tmp: Path, device_env: dict[str, str]) -> float:
    """cava on the virtual device, launch to its first bar above the empty baseline."""
    bars = set("▂▃▄▅▆▇█")
    return pane_until(
        f"cava -p {cava_conf(tmp)}", lambda text: any(c in bars for c in text), env=device_env
    )


def device_startup(device_env: dict[str, str]) -> float:
    """livespec on the virtual device (PortAudio), launch to the tone's peak readout."""
    cmd = f"{PY} -m livespec --device pulse"
    env = {**tree_env(ROOT), "COLORTERM": "truecolor", **device_env}
    return pane_until(cmd, lambda text: "1000.0 Hz" in text, env=env)


def wchar(pid: int) -> int:
    """Bytes the process has passed to write() so far."""
    with open(f"/proc/{pid}/io", encoding="ascii") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


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


def screen_load(
    cmd: str, seconds: float, env: dict[str, str], threads: dict[str, float] | None = None
) -> tuple[float, float, float]:
    """(program CPU %, tmux server CPU %, KB/s written) of ``cmd`` in a 120x40 tmux pane
    (private server, no status line, an empty working folder) over ``seconds`` after a 4 s
    warm-up. ``threads``, if given, receives each thread's CPU % as ``"thread NAME"`` (the
    main thread is ``MainThread (UI)``; the others named by ``py-spy`` when installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "tmux")
        conf = os.path.join(tmp, "tmux.conf")
        Path(conf).write_text("set -g status off\n")
        extra: list[str] = []
        for k, v in env.items():
            extra += ["-e", f"{k}={v}"]
        base = ["tmux", "-S", sock, "-f", conf]
        out = subprocess.run(
            [*base, "new-session", "-d", "-c", CWD, "-x", "120", "-y", "40", *extra, "-P", "-F",
             "#{pane_pid}", "exec " + cmd],
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
            names = thread_names(pid) if threads is not None else {}
            h0 = thread_cpu(pid) if threads is not None else {}
            c0, s0, b0, t0 = cpu_seconds(pid), cpu_seconds(server), wchar(pid), time.monotonic()
            time.sleep(seconds)
            h1 = thread_cpu(pid) if threads is not None else {}
            c1, s1, b1, t1 = cpu_seconds(pid), cpu_seconds(server), wchar(pid), time.monotonic()
        finally:
            subprocess.run([*base, "kill-server"], capture_output=True)
    dt = t1 - t0
    for tid, cpu in h1.items():
        assert threads is not None
        name = "MainThread (UI)" if tid == pid else names.get(tid, f"thread {tid - pid:+d}")
        key = f"thread {name}"
        threads[key] = threads.get(key, 0.0) + 100 * (cpu - h0.get(tid, cpu)) / dt
    return 100 * (c1 - c0) / dt, 100 * (s1 - s0) / dt, (b1 - b0) / dt / 1024


def cava_screen(
    tmp: Path, seconds: float, device_env: dict[str, str]
) -> tuple[float, float, float]:
    """:func:`screen_load` of cava (its defaults: 60 fps, truecolor-free bars) on the
    virtual device."""
    return screen_load(
        f"cava -p {cava_conf(tmp)}", seconds, {"COLORTERM": "truecolor", **device_env}
    )


def med(xs: list[float]) -> float:
    good = [x for x in xs if x == x]
    return statistics.median(good) if good else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0, help="CPU measurement per run")
    ap.add_argument("--png", action="store_true", help="also the PNG row (needs sox)")
    ap.add_argument(
        "--terminal", action="store_true", help="also the app's screen against cava's (tmux)"
    )
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated rows to run: peaks, engine, short, startup, latency, "
        "terminal, png (default: all that the other flags allow)",
    )
    ap.add_argument(
        "--before",
        type=Path,
        metavar="TREE",
        help="also run the short and start-up rows with the livespec checkout at TREE, interleaved",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    trees = [("", ROOT)] + ([("before_", args.before.resolve())] if args.before else [])

    def want(*names: str) -> bool:
        """Whether any of these rows runs (``--terminal``/``--png`` still gate theirs)."""
        return not only or bool(only.intersection(names))

    have = {tool: shutil.which(tool) is not None for tool in ("cava", "sox", "tmux")}
    load0 = os.getloadavg()
    runs: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        runs.setdefault(key, []).append(value)

    peaks = [PY, "-m", "livespec", "peaks", "--input", "tone:1000@-6", "--realtime"]
    script = [PY, str(ROOT / "benchmarks" / "peers" / "numpy_peaks.py")]
    short = [PY, "-m", "livespec", "peaks", "--input", "tone:1000", "--duration", "0.1"]
    numpy_import = [PY, "-c", "import numpy"]

    def one_round(tmp: Path, device_env: dict[str, str] | None) -> None:
        """One interleaved pass over every selected row."""
        if want("peaks"):
            add("peaks_cpu_pct", cpu_pct(peaks, args.seconds))
            add("numpy_script_cpu_pct", cpu_pct(script, args.seconds))
        if want("engine"):
            frame = json_of(
                [PY, str(ROOT / "benchmarks" / "bench_frame.py"), "--json", "--repeat", "10"]
            )
            add("engine_step_us", frame["engine_step"])
            add("fftw_execute_us", frame["fftw_execute"])
            add("numpy_frame_us", frame["numpy_script"])
        if want("short"):
            for _ in range(10 // args.repeat + 1):
                for prefix, root in trees:
                    add(prefix + "peaks_short_ms", 1000 * wall(short, tree_env(root)))
                add("import_numpy_ms", 1000 * wall(numpy_import))
        if have["tmux"] and want("startup"):
            for prefix, root in trees:
                used: list[float] = []
                add(prefix + "app_first_frame_ms", 1000 * app_startup(root, cpu=used))
                add(prefix + "app_demo_first_frame_ms", 1000 * app_startup(root, "", used))
                if len(used) == 2:
                    add(prefix + "app_first_frame_cpu_ms", 1000 * used[0])
                    add(prefix + "app_demo_first_frame_cpu_ms", 1000 * used[1])
            if device_env is not None:
                add("app_device_first_frame_ms", 1000 * device_startup(device_env))
                if have["cava"]:
                    add("cava_first_bar_ms", 1000 * cava_startup(tmp, device_env))
        if args.terminal and have["tmux"] and want("terminal"):
            app = f"{PY} -m livespec --input demo --fps 30 --colors truecolor"
            env = {**tree_env(ROOT), "COLORTERM": "truecolor"}
            cpu, tmux_cpu, kbs = screen_load(app, args.seconds, env)
            add("app_cpu_pct", cpu)
            add("app_tmux_cpu_pct", tmux_cpu)
            add("app_kb_s", kbs)
            add("app_user_pays_pct", cpu + tmux_cpu)
            if device_env is not None:
                app = f"{PY} -m livespec --device pulse --fps 30 --colors truecolor"
                cpu, tmux_cpu, kbs = screen_load(app, args.seconds, {**env, **device_env})
                add("app_device_cpu_pct", cpu)
                add("app_device_kb_s", kbs)
                if have["cava"]:
                    cpu, tmux_cpu, kbs = cava_screen(tmp, args.seconds, device_env)
                    add("cava_cpu_pct", cpu)
                    add("cava_tmux_cpu_pct", tmux_cpu)
                    add("cava_kb_s", kbs)
                    add("cava_user_pays_pct", cpu + tmux_cpu)
        if want("latency"):
            lat = json_of(
                [PY, str(ROOT / "benchmarks" / "bench_latency.py"), "--json", "--repeat", "1"]
            )
            add("stdin_latency_ms", lat["fed_from_launch_ms"])
            add("no_backlog_latency_ms", lat["no_backlog_ms"])
        if args.png and have["sox"] and want("png"):
            out = tmp / "out.png"
            add(
                "png_ms",
                1000
                * wall(
                    [PY, "-m", "livespec", "export", str(tmp / "tone60.wav"), "--png", str(out),
                     "--size", "2048x512", "--force"]
                ),
            )  # fmt: skip
            add(
                "sox_png_ms",
                1000
                * wall(
                    ["sox", str(tmp / "tone60.wav"), "-n", "spectrogram", "-x", "2048", "-Y",
                     "512", "-o", str(tmp / "sox.png")]
                ),
            )  # fmt: skip

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        wav = tmp / "tone60.wav"
        if args.png and have["sox"]:
            subprocess.run(
                [
                    "sox",
                    "-q",
                    "-n",
                    "-r",
                    "48000",
                    "-b",
                    "16",
                    str(wav),
                    "synth",
                    "60",
                    "sine",
                    "300-8000",
                    "gain",
                    "-6",
                ],
                check=True,
            )
        for _, root in trees:  # write the bytecode caches, plan FFTW wisdom once
            wall(short, tree_env(root))
            if have["tmux"] and want("startup"):
                app_startup(root)
                app_startup(root, "")
        device_env = None
        if have["tmux"] and want("startup", "terminal", "device"):
            device_env = virtual_device_start(tmp)
        try:
            for _ in range(args.repeat):
                one_round(tmp, device_env)
        finally:
            if device_env is not None:
                virtual_device_stop(tmp)
    load1 = os.getloadavg()
    m = {k: med(v) for k, v in runs.items()}
    rows = [
        (
            "peaks in real time, % of a core",
            "peaks_cpu_pct",
            "numpy_script_cpu_pct",
            "numpy script",
            "<= 1.2 % and below the script",
        ),
        (
            "engine step, µs per warm frame",
            "engine_step_us",
            "fftw_execute_us",
            "FFTW execute",
            "<= 12 µs",
        ),
        (
            "peaks of a 0.1 s tone, ms",
            "peaks_short_ms",
            "import_numpy_ms",
            "python -c 'import numpy'",
            "<= 200 ms",
        ),
        (
            "app: launch to first analysed frame, ms",
            "app_first_frame_ms",
            "cava_first_bar_ms",
            "cava (device) to its first bar",
            "<= 400 ms",
        ),
        (
            "plain livespec (demo without a mic) to its first frame, ms",
            "app_demo_first_frame_ms",
            "cava_first_bar_ms",
            "cava (device) to its first bar",
            "<= 400 ms",
        ),
        ("  CPU used by then (all threads), ms", "app_first_frame_cpu_ms", "", "", ""),
        ("  the same, plain livespec, ms", "app_demo_first_frame_cpu_ms", "", "", ""),
        (
            "app on the device: launch to first frame, ms",
            "app_device_first_frame_ms",
            "cava_first_bar_ms",
            "cava (device) to its first bar",
            "",
        ),
        (
            "stdin fed from launch: onset to frame, ms",
            "stdin_latency_ms",
            "no_backlog_latency_ms",
            "no backlog (device-like)",
            "within 50 ms of it",
        ),
        (
            "app 120x40 30/s truecolor: KB/s to the terminal",
            "app_kb_s",
            "cava_kb_s",
            "cava",
            "<= 400",
        ),
        ("app: % of a core", "app_cpu_pct", "cava_cpu_pct", "cava", "<= 8 %"),
        (
            "app on the device (as cava): % of a core",
            "app_device_cpu_pct",
            "cava_cpu_pct",
            "cava",
            "",
        ),
        ("app on the device: KB/s", "app_device_kb_s", "cava_kb_s", "cava", ""),
        ("tmux parsing it: % of a core", "app_tmux_cpu_pct", "cava_tmux_cpu_pct", "cava", "<= 3 %"),
        (
            "app + tmux: what the user's machine pays, %",
            "app_user_pays_pct",
            "cava_user_pays_pct",
            "cava",
            "",
        ),
        ("PNG 60 s at 2048x512, ms", "png_ms", "sox_png_ms", "sox spectrogram", "(item 5)"),
    ]
    if args.json:
        print(json.dumps({"load": [load0[0], load1[0]], "medians": m, "runs": runs}))
        return 0
    print(
        f"repeats {args.repeat}; load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after"
    )
    print(f"{'what':44s} {'livespec':>10s} {'peer':>10s} {'ratio':>7s}  peer / target")
    for title, mine, theirs, peer, target in rows:
        if mine not in m:
            continue
        a, b = m[mine], m.get(theirs, float("nan"))
        ratio = a / b if b == b and b else float("nan")
        if not theirs:
            print(f"{title:44s} {a:10.2f}")
        else:
            print(f"{title:44s} {a:10.2f} {b:10.2f} {ratio:6.2f}x  {peer}; target {target}")
        if "before_" + mine in m:
            a = m["before_" + mine]
            ratio = a / b if b == b and b else float("nan")
            before = f"{'  before: ' + str(args.before):44s} {a:10.2f}"
            print(before + (f" {b:10.2f} {ratio:6.2f}x" if theirs else ""))
    if not have["cava"]:
        print("cava: not installed (apt-get install cava)")
    if have["tmux"] and not any(k.startswith("app_device") for k in m) and want("startup"):
        print(
            "the virtual device did not start (pulseaudio missing?): device and cava rows left out"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
