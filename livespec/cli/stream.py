"""``livespec stream`` (analysed frames to stdout) and ``livespec view -|FILE``.

``livespec stream`` opens the source like the app, runs the engine and writes the stream
(:mod:`livespec.stream.protocol`) to stdout from a writer thread fed by a bounded outbox: a slow
link never blocks the engine; the oldest waiting frames are dropped instead and counted
in the STATUS records. ``--record OUT.wav`` records from the same ring buffer. It ends at
the end of the input, when the reader goes away (status 0, one line), or at SIGINT,
SIGTERM or SIGHUP (130, 143, 129); the stream then ends with an END record.

``livespec view`` reads a stream from stdin (``-``, keys from the terminal) or a file and
shows it in the app (:mod:`livespec.tui.viewer`); ``--dump`` prints its records as JSON
lines instead. A stream that is not livespec's, is newer or is damaged ends the viewer
with one line and status 2. See docs/ssh.md.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import json
import math
import os
import select
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from livespec.config import Config
from livespec.errors import EXIT_FAILURE, EXIT_OK, SourceError, UsageError

OUTBOX_FRAMES = 64  # frames waiting for the link before the oldest are dropped (~2 s)
STATUS_EVERY_S = 1.0  # heartbeat
CLOSE_TIMEOUT_S = 2.0  # how long the END record may take to leave at the end
_CHUNK = 4096  # PIPE_BUF: a write this size after select() does not block on a pipe


def add_stream_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``livespec stream`` (source and analysis options come from cli)."""
    g = p.add_argument_group("stream")
    g.add_argument(
        "--fps",
        dest="stream_fps",
        metavar="N",
        type=float,
        default=30.0,
        help="frames per second sent; analysis frames are max-combined (30; 0 = every frame)",
    )
    g.add_argument(
        "--bins", metavar="N", type=int, default=1024, help="dB values per frame, 16..65536 (1024)"
    )
    g.add_argument(
        "--grid",
        choices=("log", "linear"),
        default="log",
        help="how FFT bins are grouped into sent bins (log: fine at low frequencies)",
    )
    g.add_argument("--record", metavar="OUT.wav", help="also record the audio into OUT.wav")
    g.add_argument(
        "--subtype",
        metavar="T",
        type=str.upper,
        choices=("PCM_16", "PCM_24", "PCM_32", "FLOAT"),
        default="PCM_24",
        help="WAV sample format of --record (PCM_24)",
    )
    g.add_argument("--force", action="store_true", help="let --record replace OUT.wav")


def add_view_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``livespec view`` (display options come from cli)."""
    p.add_argument("stream", metavar="-|FILE", help="'-' reads the stream on stdin, or a file")
    g = p.add_argument_group("view")
    g.add_argument(
        "--fast", action="store_true", help="replay a FILE as fast as it draws (default: real time)"
    )
    g.add_argument(
        "--dump", action="store_true", help="print the records as JSON lines (no screen)"
    )


# -- the writer ------------------------------------------------------------------------------


class _Outbox:
    """Records waiting for the link; frames beyond ``limit`` drop the oldest frame
    (any thread puts, the writer thread takes)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: collections.deque[tuple[bool, bytes]] = collections.deque()
        self.frames = 0
        self.dropped = 0
        self.closed = False
        self.cond = threading.Condition()

    def put(self, data: bytes, frame: bool = False) -> None:
        """Queue a record; ``frame`` records may be dropped, others never."""
        with self.cond:
            if frame:
                if self.frames >= self.limit:
                    for i, (is_frame, _) in enumerate(self.items):
                        if is_frame:
                            del self.items[i]
                            break
                    self.frames -= 1
                    self.dropped += 1
                self.frames += 1
            self.items.append((frame, data))
            self.cond.notify()

    def get(self, timeout: float) -> bytes | None:
        """The next record, or None after ``timeout`` s or once closed and empty."""
        with self.cond:
            if not self.items and not self.closed:
                self.cond.wait(timeout)
            if not self.items:
                return None
            frame, data = self.items.popleft()
            self.frames -= frame
            return data

    def close(self) -> None:
        """No more records: the writer leaves once the outbox is empty."""
        with self.cond:
            self.closed = True
            self.cond.notify()


class _Writer:
    """The writer thread: outbox -> file descriptor, one record at a time."""

    def __init__(self, fd: int, outbox: _Outbox) -> None:
        self.fd, self.box = fd, outbox
        self.gone = False  # the reader went away (EPIPE)
        self.error: str | None = None
        self.bytes = 0
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livespec-stream-writer")

    def start(self) -> None:
        """Start the thread (main thread)."""
        self._thread.start()

    def close(self) -> None:
        """Send what is queued (at most CLOSE_TIMEOUT_S), then join (main thread)."""
        self.box.close()
        self._thread.join(CLOSE_TIMEOUT_S)
        self._abort.set()
        self._thread.join()

    @property
    def failed(self) -> bool:
        """True once the output is unusable."""
        return self.gone or self.error is not None

    def _run(self) -> None:
        box = self.box
        while not self._abort.is_set():
            data = box.get(0.2)
            if data is None:
                if box.closed:
                    return
                continue
            try:
                self._write_all(data)
            except BrokenPipeError:
                self.gone = True
                return
            except OSError as exc:
                self.error = exc.strerror or str(exc)
                return

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._abort.is_set():
            _, ready, _ = select.select([], [self.fd], [], 0.2)
            if ready:
                n = os.write(self.fd, view[:_CHUNK])
                self.bytes += n
                view = view[n:]


def _header(cfg: Config, ns: argparse.Namespace, source: Any) -> Any:
    from livespec import __version__
    from livespec.stream.protocol import make_header

    info = {
        "host": socket.gethostname(),
        "source": source.description,
        "input": cfg.source.input,
        "livespec": __version__,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return make_header(cfg.analysis, int(source.samplerate), ns.stream_fps, ns.bins, ns.grid, info)


def _check_stream_options(ns: argparse.Namespace) -> None:
    if not (ns.stream_fps == 0 or 0 < ns.stream_fps <= 1000) or math.isnan(ns.stream_fps):
        raise UsageError(f"--fps {ns.stream_fps:g}: must be 0 (every frame) or up to 1000")
    if not 16 <= ns.bins <= 65536:
        raise UsageError(f"--bins {ns.bins}: must be 16..65536")
    if os.isatty(1):
        raise UsageError(
            "livespec stream writes binary frames to stdout: pipe it into a viewer, "
            "e.g. ssh lab livespec stream | livespec view -"
        )
    if ns.record is not None:
        from livespec.record.writer import check_target

        if Path(ns.record).suffix.lower() != ".wav":
            raise UsageError(f"'{ns.record}': the recording is a WAV file, name it OUT.wav")
        check_target(Path(ns.record), bool(ns.force))


def _open_source(cfg: Config) -> tuple[Config, Any]:
    """Open the source like the app: without any input device and without --input or
    --device, the demo signal (said on stderr). Main thread."""
    from livespec.cli import open_source

    try:
        return cfg, open_source(cfg, realtime=True, max_seconds=None)
    except SourceError as exc:
        if cfg.source.input is not None or cfg.source.device is not None:
            raise
        demo = dataclasses.replace(cfg, source=dataclasses.replace(cfg.source, input="demo"))
        sys.stderr.write(f"livespec: {exc}; streaming the built-in demo signal instead\n")
        return demo, open_source(demo, realtime=True, max_seconds=None)


def run_stream(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec stream``: analyse the source and write the stream to stdout.

    Main thread (installs signal handlers). Returns the exit status.
    """
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.cli.record import STOP_SIGNALS
    from livespec.engine import Engine
    from livespec.stream.protocol import END, STATUS, Reducer, encode_header, encode_json_record

    _check_stream_options(ns)
    cfg = dataclasses.replace(
        cfg, analysis=dataclasses.replace(cfg.analysis, peaks=max(cfg.analysis.peaks, 3))
    )
    cfg, source = _open_source(cfg)
    if cfg.source.input == "-":
        source.realtime = True  # pace a fast pipe at its sample rate, as the app does
    header = _header(cfg, ns, source)
    fs = source.samplerate
    ring = RingBuffer(
        max(2 * cfg.analysis.fft, round(cfg.source.ring_seconds * fs)), source.channels
    )
    box = _Outbox(OUTBOX_FRAMES)
    box.put(encode_header(header))
    writer = _Writer(sys.stdout.fileno(), box)
    reducer = Reducer(header)

    def on_frame(frame: Any) -> None:  # engine thread
        for rec in reducer.add(frame):
            box.put(rec, frame=True)

    channel = None if cfg.source.channel is None else cfg.source.channel - 1
    engine = Engine(source, ring, cfg.analysis, on_frame, channel)
    caught: list[str] = []
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        caught.append(signal.Signals(signum).name)
        stop.set()

    previous: dict[int, Any] = {}
    for name in STOP_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, on_signal)
    rec = None
    reason = "stopped"
    failure: str | None = None
    try:
        writer.start()
        source.start(ring)
        engine.start()
        if ns.record:
            from livespec.record.writer import start_recording

            rec = start_recording(
                ring,
                source,
                path=ns.record,
                preroll_s=0.0,
                subtype=ns.subtype,
                analysis=cfg.analysis,
                force=bool(ns.force),
            )
        last_status: dict[str, Any] = {}
        next_status = 0.0
        while not stop.wait(0.05):
            if writer.failed:
                break
            if source.error is not None:
                failure = f"input stream stopped: {source.error}"
                break
            if source.finished and not engine.running:
                reason = "end of input"
                break
            lost = source.input_lost()
            if lost and not getattr(source, "stream_active", True):
                failure = f"input stream stopped: {source.description}"
                break
            status = {
                "overflows": int(source.overflows),
                "lost_frames": int(engine.lost_frames),
                "dropped": box.dropped,
                "input_lost": bool(lost),
                "recording": None if rec is None else rec.status_text(),
            }
            now = time.monotonic()
            if status != last_status or now >= next_status:
                box.put(encode_json_record(STATUS, {**status, "frames": engine.frames}))
                last_status, next_status = status, now + STATUS_EVERY_S
    finally:
        engine.stop()
        if caught:
            reason = f"the sender was stopped ({caught[0]})"
        if failure is not None:
            reason = failure
        if rec is not None:
            rec.request_stop(caught[0] if caught else "stop")
        box.put(encode_json_record(END, {"reason": reason, "frames": engine.frames}))
        writer.close()
        source.stop()
        if rec is not None:
            rec.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return _stream_report(writer, box, rec, failure, caught)


def _stream_report(
    writer: _Writer, box: _Outbox, rec: Any, failure: str | None, caught: list[str]
) -> int:
    """The closing line on stderr and the exit status."""
    from livespec.cli.record import STOP_SIGNALS

    def say(text: str) -> None:
        try:
            sys.stderr.write(f"livespec: {text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    if writer.gone:
        _stdout_to_devnull()
    if rec is not None and rec.error:
        say(f"recording failed: {rec.error}")
    if failure is not None:
        say(failure)
        return EXIT_FAILURE
    if writer.error is not None:
        say(f"stream: cannot write to stdout: {writer.error}")
        return EXIT_FAILURE
    if caught:
        return STOP_SIGNALS.get(caught[0], EXIT_FAILURE)
    if writer.gone:
        dropped = f", {box.dropped} dropped by a slow link" if box.dropped else ""
        say(f"stream: the reader went away; stopped after {writer.bytes} bytes{dropped}")
    return EXIT_OK


def _stdout_to_devnull() -> None:
    """Point fd 1 at /dev/null so nothing at exit writes into the broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


# -- the viewer ------------------------------------------------------------------------------


def _open_stream(spec: str) -> tuple[int, str]:
    """(file descriptor, name for messages) of ``-`` (stdin) or a file (main thread)."""
    if spec == "-":
        if os.isatty(0):
            raise UsageError(
                "livespec view - reads a stream on stdin: pipe one in, "
                "e.g. ssh lab livespec stream | livespec view -"
            )
        return os.dup(0), "stdin"
    try:
        return os.open(spec, os.O_RDONLY), spec
    except OSError as exc:
        raise SourceError(f"cannot open '{spec}': {exc.strerror}") from None


def run_view(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec view -|FILE``: show a stream in the app (or ``--dump`` it). Main thread."""
    from livespec.stream.protocol import StreamReader
    from livespec.stream.source import FdReader

    fd, name = _open_stream(ns.stream)
    fdr = FdReader(fd)
    try:
        reader = StreamReader(fdr, name)  # the header: a bad stream ends here, before a screen
        if ns.dump:
            return _dump(reader)
    except BaseException:
        fdr.close()
        raise
    from livespec.tui.viewer import run_viewer

    return int(run_viewer(cfg, reader, fdr, stdin=ns.stream == "-", pace=not ns.fast))


def _dump(reader: Any) -> int:
    """Print the header and every record as JSON lines (main thread)."""
    from livespec.stream.protocol import END, FRAME

    h = reader.header.to_json()
    h["groups"] = len(h["groups"])
    out = sys.stdout
    out.write(json.dumps({"type": "header", **h}) + "\n")
    while True:
        rec = reader.next_record()
        if rec is None:
            out.flush()
            raise reader.missing_end()
        kind, payload = rec
        if kind == FRAME:
            f = reader.frame(payload)
            line: dict[str, Any] = {
                "type": "frame",
                "index": f.index,
                "t": round(f.t, 6),
                "rms_dbfs": round(f.rms_dbfs, 3),
                "peak_dbfs": round(f.peak_dbfs, 3),
                "peaks": [[p.freq_hz, p.level_dbfs, p.note, round(p.cents, 2)] for p in f.peaks],
            }
        else:
            line = {"type": "end" if kind == END else "status", **reader.json_payload(payload)}
        out.write(json.dumps(line) + "\n")
        if kind == END:
            out.flush()
            return EXIT_OK
