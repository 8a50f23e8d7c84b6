"""``livespec record OUT.wav``: headless recording from any source.

The source fills a ring buffer; a :class:`~livespec.recorder.writer.Recorder` thread writes it to
the WAV file; this (main) thread only waits for the end, watches the input and, on a
terminal, shows a one-line status. The recording ends at ``--duration``, at the end of a
file or of stdin, or at SIGINT (Ctrl-C), SIGTERM or SIGHUP (a dropped SSH link); in every
case the file is finalised with all the audio up to that moment. Exit statuses:

====  =====================================================================
0     finished (duration reached, end of input)
1     the recording failed (full disk, I/O error, input stream died)
2     a user's mistake (bad option, OUT exists without --force, no device)
129   stopped by SIGHUP; the file is complete up to the signal
130   stopped by SIGINT (Ctrl-C); the file is complete up to the signal
143   stopped by SIGTERM; the file is complete up to the signal
====  =====================================================================

Files, stdin and test signals with a duration are recorded losslessly, as fast as they
come (the source waits for the writer); a device and an endless test signal in real time.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from livespec.cli.checks import check_duration
from livespec.config import MAX_PREROLL_S, Config, preroll_seconds
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    LivespecError,
    UsageError,
    handle_signals,
    printable,
    restore_signals,
)

if TYPE_CHECKING:
    from livespec.audio.base import Source
    from livespec.pipeline import Event, Pipeline
    from livespec.recorder.writer import Recorder

# The same values as livespec.recorder.writer's (a test checks), so that building the parser does
# not import numpy.
SUBTYPE_CHOICES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT")
DEFAULT_SPLIT_BYTES = 2**32 - 2**20
WAV_MAX_BYTES = 2**32 - 1
EXIT_HANGUP = 129  # 128 + SIGHUP
EXIT_TERMINATED = 143  # 128 + SIGTERM
STOP_SIGNALS = {"SIGINT": EXIT_INTERRUPTED, "SIGTERM": EXIT_TERMINATED, "SIGHUP": EXIT_HANGUP}


def add_record_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``OUT`` and the recording options to ``p`` (source options come from cli)."""
    p.add_argument("out", metavar="OUT.wav", type=Path, help="the WAV file to write")
    g = p.add_argument_group("recording")
    g.add_argument(
        "--duration",
        metavar="S",
        type=float,
        help="stop after S seconds (default: until Ctrl-C, SIGTERM, SIGHUP or end of input)",
    )
    g.add_argument(
        "--subtype",
        metavar="T",
        type=str.upper,
        choices=SUBTYPE_CHOICES,
        default="PCM_24",
        help="sample format: PCM_16, PCM_24, PCM_32 or FLOAT (PCM_24)",
    )
    g.add_argument("--force", action="store_true", help="overwrite OUT (and its sidecar)")
    g.add_argument(
        "--preroll",
        metavar="S",
        type=preroll_seconds,
        default=0.0,
        help=f"start S seconds in the past, from the ring buffer, 0..{MAX_PREROLL_S:g} "
        "(0; see docs/recording.md)",
    )
    g.add_argument(
        "--split-bytes",
        metavar="N",
        type=int,
        default=DEFAULT_SPLIT_BYTES,
        help=f"continue in OUT-002.wav, ... past N bytes per file ({DEFAULT_SPLIT_BYTES})",
    )


class _Status:
    """The live one-line status on a terminal (main thread); silent elsewhere, and
    silent for good once the terminal is gone (SIGHUP, closed pipe)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        try:
            self.live = out.isatty()
        except (OSError, ValueError):
            self.live = False
        self.shown = False

    def show(self, text: str) -> None:
        """Replace the status line with ``text``, cut to the terminal's width."""
        if self.live:
            try:
                width = os.get_terminal_size(self.out.fileno()).columns
            except (OSError, ValueError):
                width = 0
            width = width if width >= 20 else 80  # 0 = unknown (a fresh pty)
            self._write(f"\r{printable(text)[: width - 1]}\x1b[K")
            self.shown = True

    def end(self) -> None:
        if self.shown:
            self._write("\n")
            self.shown = False

    def say(self, text: str) -> None:
        """A message line (errors, warnings), after the status line."""
        self.end()
        try:
            self.out.write(f"livespec: {printable(text)}\n")
            self.out.flush()
        except (OSError, ValueError):
            pass

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):
            self.live = False


def catch_stop_signals(caught: list[str], stop: threading.Event) -> dict[int, Any]:
    """Make SIGINT, SIGTERM and SIGHUP append their name to ``caught`` and set ``stop``;
    returns the handlers to give back to :func:`restore_signals`. Main thread only (else
    nothing is installed). An ignored signal stays ignored: ``nohup livespec record ...``
    survives a hang-up."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        caught.append(signal.Signals(signum).name)
        stop.set()

    return handle_signals(STOP_SIGNALS, on_signal)


def run_record(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec record``: record until the duration, the end of input or a signal.

    Main thread only (it installs signal handlers). Returns the exit status (see the
    module's docstring); user mistakes raise :class:`~livespec.errors.LivespecError`.
    """
    from livespec.pipeline import Pipeline, runs_in_realtime
    from livespec.recorder.writer import check_target

    check_duration(ns.duration, "record until stopped")
    if not 1024 <= ns.split_bytes <= WAV_MAX_BYTES:
        raise UsageError(f"--split-bytes {ns.split_bytes}: must be 1024..{WAV_MAX_BYTES}")
    out = Path(ns.out)
    if out.suffix.lower() != ".wav":
        raise UsageError(f"'{out}': the recording is a WAV file, name it OUT.wav")
    check_target(out, bool(ns.force))  # before opening a device: fail fast
    realtime = runs_in_realtime(cfg, ns.duration)
    with Pipeline(cfg, realtime=realtime, max_seconds=ns.duration) as pipe:
        status = _record(ns, pipe, out)
    _exit_if_stuck(pipe.source, status)
    return status


def _record(ns: argparse.Namespace, pipe: Pipeline, out: Path) -> int:
    """Record the pipeline's source (opened, not started) to ``out``; main thread."""
    from livespec.audio.sources import BlockSource
    from livespec.recorder.start import remove_if_empty
    from livespec.recorder.writer import Recorder

    source, cfg = pipe.source, pipe.cfg
    fs = int(source.samplerate)
    ring = pipe.make_ring(preroll_s=ns.preroll)
    info = getattr(source, "info", None)
    rec = Recorder(
        ring,
        fs,
        source.channels,
        out,
        subtype=ns.subtype,
        preroll_s=ns.preroll,
        split_bytes=ns.split_bytes,
        sidecar_info={
            "device": getattr(info, "name", None),
            "hostapi": getattr(info, "hostapi", None),
            "source": source.description,
            "input": cfg.source.input,
            "analysis": dataclasses.asdict(cfg.analysis),
        },
        force=bool(ns.force),
        max_frames=None if ns.duration is None else round(ns.duration * fs),
        overflows=lambda: int(source.overflows),
        drops=source,
    )
    status = _Status(sys.stderr)
    stop = threading.Event()
    caught: list[str] = []
    previous = catch_stop_signals(caught, stop)
    failure: str | None = None
    try:
        rec.open()
        if isinstance(source, BlockSource) and not source.realtime:
            source.set_backpressure(rec.oldest_needed)
        rec.start()
        try:
            pipe.start()
        except LivespecError:
            rec.stop("error")
            remove_if_empty(rec)
            raise
        while not stop.wait(0.1):
            status.show(rec.status_text())
            if rec.finished:
                break
            failure = _failure(pipe.poll(), status)
            if failure is not None:
                break
            if source.finished and rec.position >= ring.written:
                full = (
                    rec.max_frames is not None and rec.position >= rec.open_index + rec.max_frames
                )
                rec.ended_by = rec.ended_by or ("duration" if full else "end of input")
                break
    finally:
        reason = caught[0] if caught else ("error" if failure else "stop")
        rec.request_stop(reason)  # everything up to now is written, then the file closes
        pipe.close()
        rec.stop(reason)
        restore_signals(previous)
    status.show(rec.status_text())
    status.end()
    pipe.say_notes(status.say)
    return _report(rec, status, failure, caught)


def _failure(events: list[Event], status: _Status) -> str | None:
    """Say the watchdog's input lost / resumed; the reason to stop, if any."""
    for event in events:
        if event.kind == "source failed" and event.error is not None:
            return _reason(event.error)
        if event.fatal:
            return event.message
        status.say(event.message)
    return None


def _report(rec: Recorder, status: _Status, failure: str | None, caught: list[str]) -> int:
    """The closing lines on stderr and the exit status."""
    from livespec.recorder.sidecar import save_sidecar
    from livespec.recorder.start import remove_if_empty
    from livespec.recorder.writer import sidecar_path

    if rec.lost_frames:
        status.say(
            f"warning: {rec.lost_frames} frames ({rec.lost_frames / rec.samplerate:.3f} s) "
            f"were lost in {rec.gaps} gap(s) and filled with silence "
            f"(see {sidecar_path(rec.path)})"
        )
    if rec.overflows:
        status.say(f"warning: {rec.overflows} input overflow(s) during the recording")
    if rec.drops.seconds:
        status.say(
            f"warning: about {rec.drops.seconds:.1f} s of input the sound system dropped "
            f"were filled with silence (see {sidecar_path(rec.path)})"
        )
    if rec.error is not None:
        status.say(rec.error)
        return EXIT_FAILURE
    if failure is not None:
        if note := remove_if_empty(rec):  # the source failed before its first frame
            status.say(f"{failure}; nothing was recorded ({note})")
        else:
            status.say(f"{failure}; '{rec.path}' is complete up to that point")
            rec.error = failure  # the writer has finished: the sidecar says why it ended
            with contextlib.suppress(OSError):
                save_sidecar(rec, complete=True)
        return EXIT_FAILURE
    if rec.replaced and (note := remove_if_empty(rec)):  # --force, and not one frame came
        status.say(f"nothing was recorded ({note})")
    if caught:
        return STOP_SIGNALS.get(caught[0], EXIT_INTERRUPTED)
    return EXIT_OK


def _exit_if_stuck(source: Source, status: int) -> None:
    """Exit now if the source's producer thread is still blocked (stdin that sends
    nothing): the recording is already closed, and Python would wait for it forever."""
    thread = getattr(source, "_thread", None)
    if isinstance(thread, threading.Thread) and thread.is_alive():
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(status)


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, LivespecError) else f"{type(exc).__name__}: {exc}"
