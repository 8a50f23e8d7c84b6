"""``livespec stream``: analysed frames to stdout (``livespec view`` is :mod:`livespec.cli.view`).

``livespec stream`` opens the source like the app, runs the engine and writes the stream
(:mod:`livespec.stream.protocol`) to stdout from a writer thread fed by a bounded outbox: a slow
link never blocks the engine; the oldest waiting frames are dropped instead and counted
in the STATUS records. ``--record OUT.wav`` records from the same ring buffer. It ends at
the end of the input, when the reader goes away (status 0, one line), or at SIGINT,
SIGTERM or SIGHUP (130, 143, 129); the stream then ends with an END record. If the
analysis dies, the END record and one line on stderr say ``analysis stopped: ...`` (1).
A recording that failed (a full disk) does not stop the stream; it is said at the end,
and the status is 1 unless a signal ended the stream. See docs/ssh.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import math
import os
import select
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from livespec.config import Config
from livespec.errors import EXIT_FAILURE, EXIT_OK, LivespecError, UsageError, printable
from livespec.stream.acks import AckReader, in_flight_budget

if TYPE_CHECKING:
    from livespec.audio.base import Source
    from livespec.engine import Frame
    from livespec.pipeline import Event
    from livespec.recorder.writer import Recorder
    from livespec.stream.protocol import StreamHeader

OUTBOX_FRAMES = 64  # frames waiting for the link before the oldest are dropped (~2 s)
PACED_OUTBOX_FRAMES = 4  # --paced: the link's buffer is kept small; the newest frames wait
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
    g.add_argument(
        "--paced",
        action="store_true",
        help="read the viewer's acknowledgements on stdin and keep little in flight "
        "(what 'livespec view --remote' starts; docs/ssh.md)",
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
        self._status: bytes | None = None  # the last STATUS record put
        self.cond = threading.Condition()

    def put(self, data: bytes, frame: bool = False, status: bool = False) -> None:
        """Queue a record; ``frame`` records may be dropped, others never; a ``status``
        record replaces one still waiting (its counts are totals: on a stalled link
        they would pile up)."""
        with self.cond:
            if status:
                for i, (_, old) in enumerate(self.items):
                    if old is self._status:
                        self.items[i] = (False, data)
                        self._status = data
                        return
                self._status = data
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
    """The writer thread: outbox -> file descriptor, one record at a time; with ``acks``
    (``--paced``), only while little is unacknowledged (:mod:`livespec.stream.acks`)."""

    def __init__(self, fd: int, outbox: _Outbox, acks: AckReader | None = None) -> None:
        self.fd, self.box, self.acks = fd, outbox, acks
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
        box, acks = self.box, self.acks
        while not self._abort.is_set():
            if acks is not None:
                budget = in_flight_budget(acks.rate())
                if not acks.wait_room(self.bytes, budget, 0.2):
                    if acks.closed:  # the viewer went away
                        self.gone = True
                        return
                    continue
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


def _header(cfg: Config, ns: argparse.Namespace, source: Source) -> StreamHeader:
    from livespec import __version__
    from livespec.stream.reducer import make_header

    info = {
        "host": socket.gethostname(),
        "source": source.description,
        "input": cfg.source.input,
        "livespec": __version__,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return make_header(cfg.analysis, int(source.samplerate), ns.stream_fps, ns.bins, ns.grid, info)


def _check_stream_options(ns: argparse.Namespace, cfg: Config) -> None:
    from livespec.stream.limits import MAX_FFT_LENGTH, MIN_FPS

    fps = ns.stream_fps
    if not (fps == 0 or MIN_FPS <= fps <= 1000) or math.isnan(fps):
        raise UsageError(f"--fps {fps:g}: must be 0 (every frame) or from {MIN_FPS:g} to 1000")
    a = cfg.analysis
    if a.fft * a.zero_pad > MAX_FFT_LENGTH:
        raise UsageError(
            f"--fft {a.fft} x --zero-pad {a.zero_pad}: a stream carries FFTs of at most "
            f"{MAX_FFT_LENGTH} points (the viewer keeps rows of all their bins)"
        )
    if not 16 <= ns.bins <= 65536:
        raise UsageError(f"--bins {ns.bins}: must be 16..65536")
    if getattr(ns, "paced", False) and (cfg.source.input == "-" or os.isatty(0)):
        raise UsageError(
            "--paced reads the viewer's acknowledgements on stdin: not with --input - "
            "or a terminal on stdin (it is what 'livespec view --remote HOST' starts)"
        )
    if os.isatty(1):
        raise UsageError(
            "livespec stream writes binary frames to stdout: pipe it into a viewer, "
            "e.g. ssh lab livespec stream | livespec view -"
        )
    if ns.record is not None:
        from livespec.recorder.writer import check_target

        if Path(ns.record).suffix.lower() != ".wav":
            raise UsageError(f"'{ns.record}': the recording is a WAV file, name it OUT.wav")
        check_target(Path(ns.record), bool(ns.force))


def run_stream(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec stream``: analyse the source and write the stream to stdout.

    Main thread (installs signal handlers). Returns the exit status.
    """
    from livespec.cli.record import catch_stop_signals
    from livespec.errors import restore_signals
    from livespec.pipeline import Pipeline
    from livespec.stream.protocol import END, STATUS, encode_header, encode_json_record
    from livespec.stream.reducer import Reducer

    _check_stream_options(ns, cfg)
    cfg = dataclasses.replace(
        cfg, analysis=dataclasses.replace(cfg.analysis, peaks=max(cfg.analysis.peaks, 3))
    )
    pipe = Pipeline(cfg, realtime=True, demo_fallback=True)
    with pipe:
        if pipe.fallback is not None:
            sys.stderr.write(
                f"livespec: {pipe.fallback}; streaming the built-in demo signal instead\n"
            )
        source = pipe.source
        if pipe.cfg.source.input == "-":
            source.realtime = True  # pace a fast pipe at its sample rate, as the app does
        header = _header(pipe.cfg, ns, source)
        ring = pipe.make_ring()
        paced = bool(getattr(ns, "paced", False))
        box = _Outbox(PACED_OUTBOX_FRAMES if paced else OUTBOX_FRAMES)
        box.put(encode_header(header))
        acks = AckReader(0) if paced else None
        writer = _Writer(sys.stdout.fileno(), box, acks)
        reducer = Reducer(header)

        def on_frame(frame: Frame) -> None:  # engine thread
            for rec in reducer.add(frame):
                box.put(rec, frame=True)

        engine = pipe.make_engine(on_frame)
        caught: list[str] = []
        stop = threading.Event()
        previous = catch_stop_signals(caught, stop)
        rec: Recorder | None = None
        reason = "stopped"
        failure: str | None = None
        try:
            if acks is not None:
                acks.start()
            writer.start()
            if ns.record:  # before the source starts: every sample it delivers, as record
                from livespec.recorder.start import remove_if_empty, start_recording

                rec = start_recording(
                    ring,
                    source,
                    path=ns.record,
                    preroll_s=0.0,
                    subtype=ns.subtype,
                    analysis=pipe.cfg.analysis,
                    force=bool(ns.force),
                )
            try:
                pipe.start()
            except LivespecError:
                if rec is not None:  # nothing came: no empty take left behind
                    rec.stop("error")
                    remove_if_empty(rec)
                raise
            last_status: dict[str, int | float | str | None] = {}
            next_status = 0.0
            while not stop.wait(0.05):
                if writer.failed:
                    break
                failure = _failure(pipe.poll())
                if failure is not None:
                    break
                if source.finished and not engine.running:
                    reason = "end of input"
                    break
                status = {
                    "overflows": int(source.overflows),
                    "audio_dropped_s": round(source.audio_dropped_s, 3),
                    "lost_frames": int(engine.lost_frames),
                    "dropped": box.dropped,
                    "input_lost": pipe.input_lost,
                    "recording": None if rec is None else rec.status_text(),
                }
                now = time.monotonic()
                # "dropped" alone waits for the heartbeat: on a slow link it changes with
                # nearly every frame, and a STATUS each time took a quarter of 8 KB/s
                changed = {**status, "dropped": 0} != {**last_status, "dropped": 0}
                if changed or now >= next_status:
                    status_rec = encode_json_record(STATUS, {**status, "frames": engine.frames})
                    box.put(status_rec, status=True)
                    last_status, next_status = status, now + STATUS_EVERY_S
        finally:
            engine.stop()
            if caught:
                reason = f"the sender was stopped ({caught[0]})"
            if failure is not None:
                reason = failure
            if rec is not None:  # the sidecar says how the take ended, as record's does
                ended = "end of input" if reason == "end of input" else "stop"
                ended = "error" if failure is not None else ended
                rec.request_stop(caught[0] if caught else ended)
            box.put(encode_json_record(END, {"reason": reason, "frames": engine.frames}))
            writer.close()
            if acks is not None:
                acks.stop()
            pipe.close()
            if rec is not None:
                rec.stop()
                if failure is not None and rec.error is None and rec.frames_written:
                    from livespec.recorder.sidecar import save_sidecar

                    rec.error = failure  # the writer has finished: why the take ended
                    with contextlib.suppress(OSError):
                        save_sidecar(rec, complete=True)
            restore_signals(previous)
    pipe.say_notes()
    return _stream_report(writer, box, rec, failure, caught)


def _failure(events: list[Event]) -> str | None:
    """The reason the stream must end, from the watchdog's events (None: go on)."""
    for event in events:
        if event.kind == "source failed":
            return f"input stream stopped: {event.error}"
        if event.fatal:
            return event.message
    return None


def _stream_report(
    writer: _Writer, box: _Outbox, rec: Recorder | None, failure: str | None, caught: list[str]
) -> int:
    """The closing line on stderr and the exit status."""
    from livespec.cli.record import STOP_SIGNALS

    def say(text: str) -> None:
        try:
            sys.stderr.write(f"livespec: {printable(text)}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    if writer.gone:
        _stdout_to_devnull()
    if rec is not None and rec.error and rec.error != failure:  # else said below
        say(f"recording failed: {rec.error}")
    elif rec is not None and (rec.replaced or failure is not None):
        from livespec.recorder.start import remove_if_empty

        if note := remove_if_empty(rec):  # not one frame came: --force's old take back
            say(f"nothing was recorded ({note})")
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
    if rec is not None and rec.error:  # a full disk (said above): the take is cut short
        return EXIT_FAILURE
    return EXIT_OK


def _stdout_to_devnull() -> None:
    """Point fd 1 at /dev/null so nothing at exit writes into the broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
