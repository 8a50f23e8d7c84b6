"""A virtual microphone for tests: a private PulseAudio server playing a known signal.

No sound card is needed. ``pulseaudio -n`` runs with a generated config that loads only a
unix socket and a null sink ``vsink`` whose monitor is the default source; a feeder (this
file run as ``_feed``, stdlib only) writes a sine or a looping WAV into ``pacat``, which
plays it into the sink at the sink's clock. Through ALSA's ``pulse`` plugin
(libasound2-plugins), PortAudio then offers a real input device named ``pulse`` that
delivers the signal in real time. Clients find the server only through :attr:`env`.

Works as root, without a TTY, D-Bus or systemd; processes are stopped by pid, never by
name. From Python (see tests/conftest.py)::

    va = VirtualAudio(tmp_dir, freq=1000.0, amp=0.5)
    va.start()                      # idempotent
    subprocess.run([...], env={**os.environ, **va.env})   # device "pulse"
    va.set_tone(2500.0)             # returns once the new tone is flowing
    va.stop()

From a shell (the state directory is ``--dir``, else ``$VA_DIR``, else one per uid in the
temporary directory; give each person or job sharing a machine their own ``VA_DIR``)::

    export VA_DIR=/tmp/va-mine
    eval "$(python tests/support/virtual_audio.py start --freq 1000)"
    python -m livespec peaks --device pulse
    python tests/support/virtual_audio.py stop

Needs: apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2
"""

from __future__ import annotations

import argparse
import array
import contextlib
import fcntl
import glob
import hashlib
import itertools
import json
import math
import os
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import wave
from collections.abc import Iterator
from pathlib import Path

INSTALL_HINT = "apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2"
SINK = "vsink"
_SUN_PATH_MAX = 100  # a unix socket path must fit in sockaddr_un (108 bytes on Linux)
_FEED_CHUNK_S = 0.05  # seconds of audio per write into pacat
# pacat's buffer in the server. With 20 ms, a feeder delayed by a busy machine (load 3-7 on
# 2 cores) left 3-25 ms holes of silence in 2 of 8 one-second captures; with 100 ms, none
# in 40, and the null sink still delivers in ~43 ms steps.
_FEED_LATENCY_MS = 100


class VirtualAudioError(RuntimeError):
    """The virtual device could not be started (tools missing, server or feeder failed)."""


class VirtualAudioWarning(UserWarning):
    """Something that will probably make PortAudio miss the device."""


def _pid_state(pid: int) -> str | None:
    """The process state letter from /proc (``Z`` = zombie), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class VirtualAudio:
    """A private PulseAudio server whose default source carries a test signal.

    Args:
        directory: holds everything (config, socket, pid files, logs); created if needed.
            Two instances with different directories are independent servers.
        rate: the null sink's sample rate in Hz.
        freq: the sine's frequency in Hz (ignored when ``wav`` is given).
        amp: the sine's peak amplitude, 0..1 of full scale (0.5 = -6.02 dBFS peak).
        wav: a 16-bit PCM WAV file to loop instead of the sine.
        sample_format: the sink's sample format: ``float32le`` (default; the sine arrives
            bit-exact as float32) or ``s16le`` (like most sound cards: 16-bit quantised).
        owned: if True, the feeder stops the server and itself when the process that
            started them dies without calling :meth:`stop` (a test run killed by SIGKILL).
            The shell command uses False, so the device outlives it.
        counter: play the sample counter (see :func:`counter_value`) instead of a sine:
            sample *n* of the feeder is a ramp value that names *n* exactly, so any dropped,
            repeated or inserted stretch in a capture is found to the sample
            (tests/support/continuity.py). ``freq``/``amp`` are then unused.
        feed_latency_ms: the feeder's buffer in the server (pacat ``--latency-msec``);
            deeper rides out longer stalls of the feeder on a loaded machine.
        raise_priority: run the feeder (and its pacat) at a raised priority: ``SCHED_FIFO``
            where allowed (root), else nice -10, else unchanged; :attr:`feeder_priority`
            says which. False (and a shallow ``feed_latency_ms``) makes a device that
            underruns on a loaded machine, to show that such gaps are told apart.

    Attributes:
        device: the PortAudio device name that captures the signal.
    """

    device = "pulse"

    def __init__(
        self,
        directory: Path,
        rate: int = 48000,
        freq: float = 1000.0,
        amp: float = 0.5,
        wav: Path | None = None,
        *,
        sample_format: str = "float32le",
        owned: bool = True,
        counter: bool = False,
        feed_latency_ms: int = _FEED_LATENCY_MS,
        raise_priority: bool = True,
    ) -> None:
        if not 1000 <= int(rate) <= 384000:
            raise ValueError(f"rate {rate} Hz: must be 1000..384000")
        if sample_format not in ("float32le", "s16le"):
            raise ValueError(f"sample_format {sample_format!r}: use 'float32le' or 's16le'")
        self.directory = Path(directory).absolute()
        self.rate = int(rate)
        self.sample_format = sample_format
        self.owned = owned
        if not 10 <= int(feed_latency_ms) <= 5000:
            raise ValueError(f"feed_latency_ms {feed_latency_ms}: must be 10..5000")
        self.feed_latency_ms = int(feed_latency_ms)
        self.counter = bool(counter)
        self.raise_priority = bool(raise_priority)
        if self.counter and (wav is not None or sample_format != "float32le"):
            raise ValueError("counter=True needs a float32le sink and no wav")
        self.freq, self.amp, self.wav = self._checked_signal(freq, amp, wav)
        d = self.directory
        self._config = d / "server.pa"
        self._cookie = d / "cookie"
        self._client_conf = d / "client.conf"
        self._server_pidfile = d / "server.pid"
        self._feeder_pidfile = d / "feeder.pid"
        self._feeder_cfgfile = d / "feeder.json"
        self._log = d / "pulse.log"
        self._feeder_log = d / "feeder.log"
        self._feeder_priofile = d / "feeder.priority"
        self._socket = self._socket_path()
        # Popen objects of processes this object started, so they can be reaped.
        self._server_proc: subprocess.Popen[bytes] | None = None
        self._feeder_proc: subprocess.Popen[bytes] | None = None
        self._ref_proc: subprocess.Popen[bytes] | None = None
        self._ref_raw: Path | None = None
        self._ref_out: Path | None = None

    # -- public ----------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Environment variables a client process needs to see the device."""
        return {
            "PULSE_SERVER": f"unix:{self._socket}",
            "PULSE_COOKIE": str(self._cookie),
            "PULSE_CLIENTCONFIG": str(self._client_conf),
        }

    def start(self) -> None:
        """Start the server and the feeder unless they already run with this signal.

        Returns once the sink's monitor delivers the signal promptly. Idempotent, also
        across processes sharing ``directory``.

        Raises:
            VirtualAudioError: a tool is missing, or the server or feeder failed.
        """
        self._check_tools()
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            if not (
                self._server_alive()
                and self._config_text() == _read_text(self._config)
                and self._server_reachable()
            ):
                self._kill_feeder()
                self._kill_server()
                self._start_server()
            if self._feeder_alive() and self._feeder_cfgfile_matches():
                return
            self._replace_feeder()

    def set_tone(self, freq: float, amp: float | None = None) -> None:
        """Play a sine of ``freq`` Hz (and ``amp``, default unchanged) instead of the current
        signal; only the feeder is restarted. Returns once the new tone is flowing."""
        self.freq, self.amp, self.wav = self._checked_signal(
            freq, self.amp if amp is None else amp, None
        )
        self.counter = False
        with self._locked():
            if not (self._server_alive() and self._server_reachable()):
                raise VirtualAudioError("the virtual audio server is not running: start() first")
            self._replace_feeder()

    def suspend(self) -> None:
        """Stall the device: the sink stops and captures receive nothing (not even silence)."""
        self._pactl("suspend-sink", SINK, "1")

    def resume(self) -> None:
        """Undo :meth:`suspend`."""
        self._pactl("suspend-sink", SINK, "0")

    def stop(self) -> None:
        """Stop the feeder and the server (by pid), remove the socket. Idempotent."""
        if self._ref_proc is not None:
            with contextlib.suppress(VirtualAudioError, OSError):
                self.stop_reference()
        if not self.directory.is_dir():
            return
        with self._locked():
            self._kill_feeder()
            self._kill_server()
        with contextlib.suppress(OSError):
            self._socket.unlink()
        if self._socket.parent != self.directory:
            with contextlib.suppress(OSError):
                self._socket.parent.rmdir()

    @property
    def running(self) -> bool:
        """True if the server and the feeder are alive."""
        return self._server_alive() and self._feeder_alive()

    def __enter__(self) -> VirtualAudio:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def feeder_priority(self) -> str:
        """The priority the feeder got: ``"SCHED_FIFO 10"``, ``"nice -10"`` or ``"normal"``."""
        return (_read_text(self._feeder_priofile) or "unknown").strip()

    # -- reference capture -----------------------------------------------------------------

    def start_reference(self, path: Path, latency_msec: int = 200) -> None:
        """Record the sink's monitor with ``parec`` into ``path`` beside whatever else
        captures it: an independent copy of the same signal, to tell the device's own gaps
        (in both) from a client's (in one). float32 mono at the sink's rate; a ``.wav`` path
        gets a WAV (IEEE float, like ``livespec record --subtype FLOAT``) when
        :meth:`stop_reference` is called, any other path stays raw float32le. parec runs at
        the feeder's raised priority (where allowed) with ``latency_msec`` of buffer."""
        if self._ref_proc is not None:
            raise VirtualAudioError("a reference capture is already running")
        path = Path(path).absolute()
        raw = path.with_name(path.name + ".raw") if path.suffix.lower() == ".wav" else path
        cmd = [
            "parec",
            f"--device={SINK}.monitor",
            "--raw",
            "--format=float32le",
            f"--rate={self.rate}",
            "--channels=1",
            f"--latency-msec={int(latency_msec)}",
            "--client-name=livespec-test-reference",
        ]
        with open(raw, "wb") as out:
            self._ref_proc = subprocess.Popen(
                cmd,
                env=self._client_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        _raise_priority(self._ref_proc.pid)
        self._ref_raw, self._ref_out = raw, path

    def stop_reference(self) -> Path:
        """Stop the reference capture; returns its file (see :meth:`start_reference`)."""
        proc, raw, out = self._ref_proc, self._ref_raw, self._ref_out
        if proc is None or raw is None or out is None:
            raise VirtualAudioError("no reference capture is running")
        self._ref_proc = None
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if raw != out:
            _raw_to_float_wav(raw, out, self.rate)
            raw.unlink()
        return out

    # -- signal ----------------------------------------------------------------------------

    def _checked_signal(
        self, freq: float, amp: float, wav: Path | None
    ) -> tuple[float, float, Path | None]:
        freq, amp = float(freq), float(amp)
        if wav is not None:
            wav = Path(wav).absolute()
            try:
                with wave.open(str(wav), "rb") as w:
                    if w.getsampwidth() != 2:
                        raise VirtualAudioError(f"{wav}: only 16-bit PCM WAV files can be looped")
            except (OSError, wave.Error, EOFError) as exc:
                raise VirtualAudioError(f"{wav}: cannot read as a WAV file ({exc})") from None
        elif not 0.0 < freq < self.rate / 2:
            raise ValueError(f"freq {freq} Hz: must be between 0 and {self.rate / 2} Hz")
        if not 0.0 <= amp <= 1.0:
            raise ValueError(f"amp {amp}: must be between 0 and 1 (full scale)")
        return freq, amp, wav

    def _feeder_config(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "freq": self.freq,
            "amp": self.amp,
            "wav": str(self.wav) if self.wav else None,
            "counter": self.counter,
            "feed_latency_ms": self.feed_latency_ms,
            "raise_priority": self.raise_priority,
        }

    # -- processes -------------------------------------------------------------------------

    def _check_tools(self) -> None:
        missing = [t for t in ("pulseaudio", "pactl", "pacat", "parec") if not shutil.which(t)]
        if missing:
            raise VirtualAudioError(
                f"{', '.join(missing)} not found: the virtual audio device needs "
                f"PulseAudio ({INSTALL_HINT})"
            )
        dirs = ("/usr/lib/*/alsa-lib", "/usr/lib*/alsa-lib", "/usr/local/lib*/alsa-lib")
        if not any(glob.glob(f"{d}/libasound_module_pcm_pulse.so") for d in dirs):
            warnings.warn(
                "ALSA's pulse plugin (libasound_module_pcm_pulse.so) was not found: PortAudio "
                f"will not see the virtual device ({INSTALL_HINT})",
                VirtualAudioWarning,
                stacklevel=3,
            )

    def _socket_path(self) -> Path:
        path = self.directory / "native"
        if len(str(path)) <= _SUN_PATH_MAX and not any(c.isspace() for c in str(path)):
            return path
        # Too long for a unix socket, or has spaces (PULSE_SERVER splits on them): use a
        # short directory named after ours, so a later process finds the same one.
        tag = hashlib.sha256(str(self.directory).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"livespec-va-{os.getuid()}-{tag}" / "native"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
        env.update(self.env)
        return env

    def _pactl(self, *args: str, timeout: float = 10.0) -> str:
        try:
            done = subprocess.run(
                ["pactl", *args],
                env=self._client_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise VirtualAudioError(f"pactl {' '.join(args)}: no answer in {timeout} s") from None
        if done.returncode:
            raise VirtualAudioError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def _read_pid(self, pidfile: Path, marker: str) -> int | None:
        """The pid in ``pidfile`` if that process lives and its command line has ``marker``."""
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        state = _pid_state(pid)
        if state is None or state == "Z" or marker not in _cmdline(pid):
            return None
        return pid

    def _server_alive(self) -> bool:
        return self._read_pid(self._server_pidfile, str(self._config)) is not None

    def _feeder_alive(self) -> bool:
        return self._read_pid(self._feeder_pidfile, self._feeder_marker()) is not None

    def _feeder_marker(self) -> str:
        return f"--dir {self.directory}"

    def _feeder_cfgfile_matches(self) -> bool:
        try:
            return bool(json.loads(self._feeder_cfgfile.read_text()) == self._feeder_config())
        except (OSError, ValueError):
            return False

    def _server_reachable(self) -> bool:
        try:
            self._pactl("info", timeout=5.0)
        except VirtualAudioError:
            return False
        return True

    def _start_server(self) -> None:
        d = self.directory
        self._socket.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self._socket.unlink()
        for sub in ("home", "run", "state"):
            (d / sub).mkdir(exist_ok=True)
            (d / sub).chmod(0o700)
        if not self._cookie.exists():
            self._cookie.write_bytes(secrets.token_bytes(256))
        self._client_conf.write_text("autospawn = no\n")
        self._config.write_text(self._config_text())
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PULSE_", "DBUS_", "XDG_RUNTIME")) and k != "DISPLAY"
        }
        # Nothing is written to the real home; no D-Bus session is looked for.
        env.update(
            HOME=str(d / "home"),
            XDG_CONFIG_HOME=str(d / "home"),
            PULSE_RUNTIME_PATH=str(d / "run"),
            PULSE_STATE_PATH=str(d / "state"),
            DBUS_SESSION_BUS_ADDRESS=f"unix:path={d / 'no-dbus'}",
        )
        cmd = [
            "pulseaudio",
            "--daemonize=no",
            "-n",  # skip /etc/pulse/default.pa: no udev, D-Bus, suspend-on-idle, ...
            "-F",
            str(self._config),
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--disable-shm=yes",  # copy over the socket: no memfd/shm quirks in containers
            f"--log-target=file:{self._log}",
            "--log-level=notice",
        ]
        with open(self._log, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # not hit by the caller's Ctrl-C; outlives a shell
            )
        self._server_proc = proc
        self._server_pidfile.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise VirtualAudioError(
                    f"pulseaudio exited with status {proc.returncode}: {self._log_tail()}"
                )
            if self._socket.exists() and self._server_reachable():
                return
            time.sleep(0.05)
        self._kill_server()
        raise VirtualAudioError(f"pulseaudio did not answer in 15 s: {self._log_tail()}")

    def _config_text(self) -> str:
        return (
            f"load-module module-native-protocol-unix socket={self._socket} "
            "auth-anonymous=1 auth-cookie-enabled=0\n"
            f"load-module module-null-sink sink_name={SINK} rate={self.rate} channels=1 "
            f"format={self.sample_format} sink_properties=device.description=livespec-test\n"
            f"set-default-sink {SINK}\n"
            f"set-default-source {SINK}.monitor\n"
        )

    def _log_tail(self) -> str:
        try:
            lines = self._log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"(no log at {self._log})"
        return " | ".join(lines[-3:]) + f" (log: {self._log})"

    def _replace_feeder(self) -> None:
        """Start a new feeder and stop the old one once the new one plays: the sink always
        has an input, so it stays in low-latency mode and captures see no stall."""
        had_feeder = self._feeder_alive()
        old_pid = self._read_pid(self._feeder_pidfile, self._feeder_marker())
        old_proc = (
            self._feeder_proc if self._feeder_proc and self._feeder_proc.pid == old_pid else None
        )
        server_pid = self._read_pid(self._server_pidfile, str(self._config))
        cfg = self._feeder_config()
        stream = f"livespec-test-{secrets.token_hex(4)}"
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "_feed",
            "--rate",
            str(self.rate),
            "--freq",
            repr(self.freq),
            "--amp",
            repr(self.amp),
            "--stream-name",
            stream,
            "--server-pid",
            str(server_pid or 0),
            "--dir",
            str(self.directory),
        ]
        if self.wav is not None:
            cmd += ["--wav", str(self.wav)]
        if self.counter:
            cmd += ["--counter"]
        cmd += ["--latency-msec", str(self.feed_latency_ms)]
        if not self.raise_priority:
            cmd += ["--normal-priority"]
        if self.owned:
            cmd += ["--watch-parent"]
        with open(self._feeder_log, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                env=self._client_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: the feeder and its pacat
            )
        self._wait_for_stream(proc, stream)
        if old_pid is not None:
            self._kill_group(old_pid, old_proc)
        self._feeder_proc = proc
        self._feeder_pidfile.write_text(f"{proc.pid}\n")
        self._feeder_cfgfile.write_text(json.dumps(cfg))
        if not had_feeder:
            # An idle null sink sleeps in blocks of ~2 s; a suspend/resume cycle makes it
            # pick up the feeder's latency now instead of after the current block.
            with contextlib.suppress(VirtualAudioError):
                self.suspend()
                self.resume()
        self._wait_until_flowing()

    def _wait_for_stream(self, proc: subprocess.Popen[bytes], stream: str) -> None:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise VirtualAudioError(
                    f"the feeder exited with status {proc.returncode}; see {self._feeder_log}"
                )
            if f'media.name = "{stream}"' in self._pactl("list", "sink-inputs"):
                return
            time.sleep(0.05)
        self._kill_group(proc.pid, proc)
        raise VirtualAudioError(f"the feeder did not connect in 10 s; see {self._feeder_log}")

    def _wait_until_flowing(self) -> None:
        """Readiness: 0.2 s of the monitor must arrive within 1 s and, for a sine, its last
        0.1 s must have about the right amplitude and frequency (an old tone does not count)."""
        last = "no attempt"
        for _ in range(20):
            got, seconds = self._record(0.2, timeout=1.0)
            if got is not None:
                tail = got[len(got) // 2 :]
                last = self._judge(tail)
                if not last:
                    return
            else:
                last = f"0.2 s of audio did not arrive within {seconds:.1f} s"
            time.sleep(0.1)
        raise VirtualAudioError(f"the virtual device is not delivering the signal: {last}")

    def _judge(self, x: array.array[float]) -> str:
        """Empty if ``x`` looks like the configured signal, else why not."""
        if self.counter:
            steps = [counter_value(b) - counter_value(a) for a, b in itertools.pairwise(x)]
            bad = sum(1 for d in steps if d % COUNTER_PERIOD != 1)
            return f"{bad} of {len(steps)} steps are not +1 in the counter" if bad else ""
        if self.wav is not None or self.amp == 0.0:
            return ""
        peak = max(abs(v) for v in x)
        crossings = sum(1 for a, b in itertools.pairwise(x) if (a < 0.0) != (b < 0.0))
        est = crossings * self.rate / (2.0 * len(x))
        if not 0.8 * self.amp <= peak <= 1.2 * self.amp:
            return f"peak {peak:.4f}, expected {self.amp:.4f}"
        if abs(est - self.freq) > max(0.05 * self.freq, 20.0):
            return f"about {est:.0f} Hz, expected {self.freq:g} Hz"
        return ""

    def _record(self, seconds: float, timeout: float) -> tuple[array.array[float] | None, float]:
        """``seconds`` of the monitor as float32 via parec, or None if it took > timeout."""
        want = round(seconds * self.rate) * 4
        cmd = [
            "parec",
            f"--device={SINK}.monitor",
            "--raw",
            "--format=float32le",
            f"--rate={self.rate}",
            "--channels=1",
            "--latency-msec=20",
        ]
        t0 = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            env=self._client_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        data = bytearray()
        try:
            fd = proc.stdout.fileno()
            while len(data) < want:
                left = t0 + timeout - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    break
                chunk = os.read(fd, want - len(data))
                if not chunk:
                    break
                data += chunk
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        elapsed = time.monotonic() - t0
        if len(data) < want:
            return None, elapsed
        samples = array.array("f")
        samples.frombytes(bytes(data))
        if sys.byteorder != "little":
            samples.byteswap()
        return samples, elapsed

    def _kill_group(self, pid: int, proc: subprocess.Popen[bytes] | None) -> None:
        """SIGTERM the process group led by ``pid`` (our feeder and its pacat), then wait."""
        if self._read_pid_direct(pid, self._feeder_marker()):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGTERM)
        self._wait_gone(pid, proc)

    def _read_pid_direct(self, pid: int, marker: str) -> bool:
        state = _pid_state(pid)
        return state is not None and state != "Z" and marker in _cmdline(pid)

    def _wait_gone(self, pid: int, proc: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return
            state = _pid_state(pid)
            if state is None or state == "Z":
                if proc is not None:
                    proc.wait()
                return
            time.sleep(0.02)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        if proc is not None:
            proc.wait()

    def _kill_feeder(self) -> None:
        pid = self._read_pid(self._feeder_pidfile, self._feeder_marker())
        if pid is not None:
            self._kill_group(pid, self._feeder_proc)
        elif self._feeder_proc is not None:
            self._feeder_proc.poll()
        self._feeder_proc = None
        for f in (self._feeder_pidfile, self._feeder_cfgfile):
            with contextlib.suppress(OSError):
                f.unlink()

    def _kill_server(self) -> None:
        pid = self._read_pid(self._server_pidfile, str(self._config))
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            self._wait_gone(pid, self._server_proc)
        elif self._server_proc is not None:
            self._server_proc.poll()
        self._server_proc = None
        with contextlib.suppress(OSError):
            self._server_pidfile.unlink()


# -- the feeder process ----------------------------------------------------------------------


COUNTER_BITS = 24  # float32 holds k / 2**23 exactly for every integer |k| <= 2**23
COUNTER_PERIOD = 1 << COUNTER_BITS  # samples: 349.5 s at 48 kHz
_COUNTER_HALF = 1 << (COUNTER_BITS - 1)


def counter_sample(n: int) -> float:
    """The counter signal's sample *n*: a ramp from -1 up to 1 - 2**-23 in steps of 2**-23,
    repeating every :data:`COUNTER_PERIOD` samples. Exact in float32 (and so through a
    float32 sink, PortAudio and a FLOAT WAV), so :func:`counter_value` reads *n* back."""
    return ((n % COUNTER_PERIOD) - _COUNTER_HALF) / _COUNTER_HALF


def counter_value(x: float) -> int:
    """The inverse of :func:`counter_sample`: *n* modulo :data:`COUNTER_PERIOD`.

    Digital silence (0.0) reads as 2**23, a value the ramp passes only once per period,
    so a run of zeros is never mistaken for counting."""
    return (round(x * _COUNTER_HALF) + _COUNTER_HALF) % COUNTER_PERIOD


def _counter_chunks(rate: int) -> Iterator[bytes]:
    """Endless counter signal (from sample 0) in chunks of about 50 ms."""
    n = max(1, round(_FEED_CHUNK_S * rate))
    k = 0
    while True:
        yield array.array("f", (counter_sample(k + i) for i in range(n))).tobytes()
        k += n


def _raise_priority(pid: int = 0) -> str:
    """Raise the scheduling priority of ``pid`` (0: this process) as far as allowed; says
    what it got.

    SCHED_FIFO (priority 10: above every normal process, below the kernel's own threads)
    needs root or CAP_SYS_NICE; nice -10 needs the same in most setups. A process that only
    writes audio into a pipe and sleeps cannot starve the machine."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(10))
        return "SCHED_FIFO 10"
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, -10)
        return "nice -10"
    return "normal"


def _raw_to_float_wav(raw: Path, out: Path, rate: int) -> None:
    """Wrap raw float32le mono in a WAV header (format 3, IEEE float)."""
    size = raw.stat().st_size // 4 * 4
    header = b"".join(
        [
            b"RIFF",
            (36 + size).to_bytes(4, "little"),
            b"WAVEfmt ",
            (16).to_bytes(4, "little"),
            (3).to_bytes(2, "little"),  # WAVE_FORMAT_IEEE_FLOAT
            (1).to_bytes(2, "little"),  # channels
            rate.to_bytes(4, "little"),
            (rate * 4).to_bytes(4, "little"),
            (4).to_bytes(2, "little"),  # block align
            (32).to_bytes(2, "little"),  # bits
            b"data",
            size.to_bytes(4, "little"),
        ]
    )
    with open(raw, "rb") as src, open(out, "wb") as dst:
        dst.write(header)
        left = size
        while left > 0:
            block = src.read(min(left, 1 << 20))
            if not block:
                break
            dst.write(block)
            left -= len(block)


def _tone_chunks(rate: int, freq: float, amp: float) -> Iterator[bytes]:
    """Endless float32 sine with continuous phase, in chunks of about 50 ms."""
    n = max(1, round(_FEED_CHUNK_S * rate))
    if freq.is_integer():  # exactly periodic after rate/gcd samples: compute one chunk once
        period = rate // math.gcd(rate, int(freq))
        reps = max(1, -(-n // period))
        one = array.array(
            "f", (amp * math.sin(2.0 * math.pi * freq * i / rate) for i in range(period))
        )
        chunk = (one * reps).tobytes()
        while True:
            yield chunk
    step = freq / rate
    k = 0
    while True:
        yield array.array(
            "f", (amp * math.sin(2.0 * math.pi * ((k + i) * step % 1.0)) for i in range(n))
        ).tobytes()
        k += n


def _wav_chunks(path: str) -> tuple[Iterator[bytes], list[str]]:
    with wave.open(path, "rb") as w:
        fmt = ["--format=s16le", f"--rate={w.getframerate()}", f"--channels={w.getnchannels()}"]
        data = w.readframes(w.getnframes())

    def loop() -> Iterator[bytes]:
        while True:
            yield data

    return loop(), fmt


def _feed(ns: argparse.Namespace) -> int:
    """The feeder process: play the signal into the sink through pacat until killed.

    With ``--watch-parent``, it also ends (and stops the server) when the process that
    started it dies without cleaning up, e.g. a test run killed with SIGKILL.
    """
    parent = os.getppid() if ns.watch_parent else None
    # SIGTERM (stop() signals our process group) unwinds through ``finally``, which reaps
    # pacat, so no zombie is left for init to collect.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    priority = "normal" if ns.normal_priority else _raise_priority()  # pacat inherits it
    with contextlib.suppress(OSError):
        (Path(ns.dir) / "feeder.priority").write_text(priority + "\n")
    if ns.counter:
        chunks = _counter_chunks(ns.rate)
        fmt = ["--format=float32le", f"--rate={ns.rate}", "--channels=1"]
    elif ns.wav:
        chunks, fmt = _wav_chunks(ns.wav)
    else:
        chunks = _tone_chunks(ns.rate, ns.freq, ns.amp)
        fmt = ["--format=float32le", f"--rate={ns.rate}", "--channels=1"]
    pacat = subprocess.Popen(
        [
            "pacat",
            "--playback",
            f"--device={SINK}",
            "--raw",
            f"--latency-msec={ns.latency_msec}",
            "--client-name=livespec-test-feeder",
            f"--stream-name={ns.stream_name}",
            *fmt,
        ],
        stdin=subprocess.PIPE,
    )
    assert pacat.stdin is not None
    checked = time.monotonic()
    try:
        for chunk in chunks:
            if pacat.poll() is not None:
                break
            pacat.stdin.write(chunk)
            pacat.stdin.flush()
            if parent is not None and time.monotonic() - checked > 0.5:
                checked = time.monotonic()
                if os.getppid() != parent:  # our starter is gone: clean up after it
                    cfg = str(Path(ns.dir) / "server.pa")
                    if ns.server_pid and cfg in _cmdline(ns.server_pid):
                        os.kill(ns.server_pid, signal.SIGTERM)
                    break
    except BrokenPipeError:
        pass
    finally:
        if pacat.poll() is None:
            pacat.terminate()
        with contextlib.suppress(BrokenPipeError):
            pacat.stdin.close()
        pacat.wait()
    return 0


# -- command line ----------------------------------------------------------------------------


def _default_dir() -> Path:
    """``$VA_DIR`` when set (one device per user of a shared machine), else one folder per
    uid in the temporary directory."""
    named = os.environ.get("VA_DIR")
    if named:
        return Path(named)
    return Path(tempfile.gettempdir()) / f"livespec-virtual-audio-{os.getuid()}"


def main(argv: list[str] | None = None) -> int:
    """``python tests/support/virtual_audio.py start|stop``: the virtual device for a shell."""
    p = argparse.ArgumentParser(
        prog="virtual_audio.py",
        description="A virtual input device 'pulse' playing a test signal (no sound card).",
        epilog='usage: eval "$(python tests/support/virtual_audio.py start)"; ...; '
        "python tests/support/virtual_audio.py stop",
    )
    sub = p.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start (or retune) it; prints export lines")
    start.add_argument("--freq", type=float, default=1000.0, help="sine frequency, Hz (1000)")
    start.add_argument("--amp", type=float, default=0.5, help="sine peak, 0..1 (0.5)")
    start.add_argument("--rate", type=int, default=48000, help="sink rate, Hz (48000)")
    start.add_argument("--wav", type=Path, help="loop this 16-bit WAV instead of the sine")
    start.add_argument("--s16", action="store_true", help="16-bit sink instead of float32")
    start.add_argument(
        "--counter", action="store_true", help="play the sample counter instead of a sine"
    )
    start.add_argument(
        "--latency-msec", type=int, default=_FEED_LATENCY_MS, help="feeder's buffer, ms (100)"
    )
    dir_help = "state directory ($VA_DIR, else $TMPDIR/livespec-virtual-audio-UID)"
    start.add_argument("--dir", type=Path, default=_default_dir(), help=dir_help)
    stop = sub.add_parser("stop", help="stop it")
    stop.add_argument("--dir", type=Path, default=_default_dir(), help=dir_help)
    feed = sub.add_parser("_feed", help=argparse.SUPPRESS)
    feed.add_argument("--rate", type=int, required=True)
    feed.add_argument("--freq", type=float, required=True)
    feed.add_argument("--amp", type=float, required=True)
    feed.add_argument("--wav")
    feed.add_argument("--stream-name", required=True)
    feed.add_argument("--server-pid", type=int, default=0)
    feed.add_argument("--dir", required=True)
    feed.add_argument("--watch-parent", action="store_true")
    feed.add_argument("--counter", action="store_true")
    feed.add_argument("--normal-priority", action="store_true")
    feed.add_argument("--latency-msec", type=int, default=_FEED_LATENCY_MS)
    ns = p.parse_args(argv)
    if ns.command == "_feed":
        return _feed(ns)
    try:
        if ns.command == "stop":
            VirtualAudio(ns.dir).stop()
            print(f"virtual_audio: stopped ({ns.dir})", file=sys.stderr)
            return 0
        va = VirtualAudio(
            ns.dir,
            rate=ns.rate,
            freq=ns.freq,
            amp=ns.amp,
            wav=ns.wav,
            sample_format="s16le" if ns.s16 else "float32le",
            owned=False,
            counter=ns.counter,
            feed_latency_ms=ns.latency_msec,
        )
        va.start()
    except (VirtualAudioError, ValueError) as exc:
        print(f"virtual_audio: error: {exc}", file=sys.stderr)
        return 1
    for key, value in va.env.items():
        print(f"export {key}={shlex.quote(value)}")
    signal_text = f"{va.wav}" if va.wav else f"{va.freq:g} Hz sine, peak {va.amp:g}"
    if va.counter:
        signal_text = "the sample counter"
    print(f"virtual_audio: device '{va.device}' plays {signal_text}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
