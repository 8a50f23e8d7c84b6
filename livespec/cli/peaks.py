"""``livespec peaks``: one line (text or JSON) per analysed frame, or per ``--interval``.

Files, stdin and test signals with a duration are pumped synchronously on the main thread
as fast as they can be analysed, losslessly; a device, a live pipe or an endless test
signal runs in real time: the source's producer and the engine's worker run, and the main
thread prints frames and watches the input (:class:`~livespec.pipeline.Pipeline`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import TYPE_CHECKING, TextIO

from livespec.cli.checks import check_duration
from livespec.config import Config
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    LivespecError,
    UsageError,
    printable,
    write_out,
)

POLL_S = 0.1  # seconds between looks at the input (lost, failed) in real time
# In real time, analyse and print what arrived every this many seconds, not every block:
# each wake-up starts with cold caches, which cost more than a frame's analysis.
WAKE_S = 0.08

if TYPE_CHECKING:
    from collections.abc import Callable

    from livespec.engine import Frame
    from livespec.pipeline import Pipeline

JsonValue = str | int | float | None | list[dict[str, str | float]]


def frame_record(frame: Frame, dropped_s: float = 0.0) -> dict[str, JsonValue]:
    """The JSON object of one frame (``--json``); ``dropped_s``: seconds of input the sound
    system has dropped without a flag so far (:attr:`BlockSource.audio_dropped_s`)."""
    peaks = frame.peaks
    top = peaks[0] if peaks else None
    rec: dict[str, JsonValue] = {
        "t": round(frame.t, 6),
        "freq_hz": round(top.freq_hz, 4) if top else None,
        "level_dbfs": round(top.level_dbfs, 4) if top else None,
        "note": top.note if top else None,
        "cents": round(top.cents, 2) if top else None,
        "overflows": frame.overflows,
        "lost_frames": frame.lost_frames,
        "dropped_s": round(dropped_s, 3),
    }
    if len(peaks) > 1:
        rec["peaks"] = [
            {
                "freq_hz": round(p.freq_hz, 4),
                "level_dbfs": round(p.level_dbfs, 4),
                "note": p.note,
                "cents": round(p.cents, 2),
            }
            for p in peaks
        ]
    return rec


def frame_text(frame: Frame) -> str:
    """The text line of one frame."""
    parts = [f"{frame.t:9.3f} s"]
    if not frame.peaks:
        parts.append("   (no peak)")
    for p in frame.peaks:
        parts.append(f"{p.freq_hz:11.2f} Hz {p.level_dbfs:7.2f} dBFS {p.label:<9}")
    tail = f"overflows {frame.overflows}"
    if frame.lost_frames:
        tail += f"  lost frames {frame.lost_frames}"
    return "  ".join(parts) + "  " + tail


class Printer:
    """Writes frames as lines, honouring ``--interval`` (the thread that delivers frames:
    the main thread)."""

    def __init__(
        self,
        out: TextIO,
        as_json: bool,
        interval: float | None,
        dropped: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.out, self.as_json, self.interval = out, as_json, interval
        self.dropped = dropped  # seconds the sound system dropped so far (any thread)
        self.next_t = 0.0
        self.last: Frame | None = None

    def __call__(self, frame: Frame) -> None:
        self.last = frame
        if self.interval:
            if frame.t < self.next_t:
                return
            self.next_t = (math.floor(frame.t / self.interval) + 1) * self.interval
        if self.as_json:
            line = json.dumps(frame_record(frame, self.dropped()))
        else:
            line = frame_text(frame)
        write_out(self.out, line + "\n", bool(self.interval) or self.out.isatty())


def run_peaks(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec peaks``: one line per frame (or per --interval) on stdout. Main thread."""
    from livespec.pipeline import Pipeline, runs_in_realtime

    check_duration(ns.duration)
    if ns.interval is not None and not ns.interval > 0:
        raise UsageError(f"--interval {ns.interval:g}: must be positive")
    realtime = runs_in_realtime(cfg, ns.duration, forced=bool(ns.realtime))
    with Pipeline(cfg, realtime=realtime, max_seconds=ns.duration) as pipe:
        source = pipe.source
        printer = Printer(sys.stdout, bool(ns.json), ns.interval, lambda: source.audio_dropped_s)
        if pipe.synchronous:
            engine = pipe.make_engine(printer, first_frame_start=0)
            run = (engine.block.max_frames - 1) * engine.hop  # a full run after the first
            pipe.pump(engine.process_available, engine.framer.room, run)
        else:
            _run_live(pipe, printer, ns.duration)
    write_out(sys.stdout, "", True)
    pipe.say_notes()
    last = printer.last
    if last is None:  # not one whole frame: say so, as `livespec measure` does
        fft, fs = cfg.analysis.fft, pipe.source.samplerate
        raise UsageError(
            f"the input is shorter than one analysis frame ({fft} samples, {fft / fs:.3g} s); "
            "give a smaller --fft"
        )
    dropped = pipe.source.audio_dropped_s
    if last is not None and (last.overflows or last.lost_frames):
        print(
            f"livespec: {last.overflows} input overflow(s)"
            + (f" ({dropped:.1f} s dropped by the sound system)" if dropped else "")
            + f", {last.lost_frames} frame(s) skipped by the analysis",
            file=sys.stderr,
        )
    return EXIT_OK


def _run_live(pipe: Pipeline, printer: Printer, duration: float | None) -> None:
    """Real-time path: the source's producer runs on its thread, the engine on this (main)
    thread, which prints each frame where it is made and watches the input every
    ``POLL_S``: one thread woken every ``WAKE_S`` (the frames that came meanwhile analysed
    as one run) instead of an engine worker and a printer woken per block."""
    from livespec.audio.base import BlockSource
    from livespec.pipeline import AnalysisStopped, analysis_errors

    engine = pipe.make_engine(printer, first_frame_start=0)
    framer, samplerate = engine.framer, pipe.source.samplerate
    if duration is not None:
        framer.limit = round(duration * samplerate)  # no frame ends past the duration
    next_poll = 0.0

    def after_pass() -> bool:
        nonlocal next_poll
        if framer.limit is not None and framer.next_end > framer.limit:
            return True  # every frame within the duration is printed
        now = time.monotonic()
        if now < next_poll:
            return False
        next_poll = now + POLL_S
        for event in pipe.poll():
            if event.kind == "source failed" and event.error is not None:
                raise event.error
            if event.kind == "analysis stopped":
                raise AnalysisStopped(event.message)
            if event.fatal:
                raise LivespecError(event.message, EXIT_FAILURE)
            print(f"livespec: {printable(event.message)}", file=sys.stderr)
        return False

    source = pipe.source
    with analysis_errors():
        if isinstance(source, BlockSource):
            # A file or test signal in real time: this thread also produces the blocks,
            # analysing each one as it is written (like a plain numpy script would).
            source.attach(pipe.ring)

            def after_block() -> bool:
                engine.process_available()
                return after_pass()

            per_wake = max(1, round(WAKE_S * samplerate / source.block_frames))
            source.produce(after_block, blocks_per_wake=per_wake)
            engine.process_available()  # the frames the last block completed
        else:
            pipe.start(worker=False)
            engine.run(after_pass, period=WAKE_S)
    if source.error is not None:
        raise source.error
