"""Command line: ``livespec [options]`` (the app) and the subcommands.

Subcommands: ``devices``, ``peaks``, ``config``. Every option is validated by
:mod:`livespec.config`; a user's mistake ends in one line on stderr and exit status 2.
Exit statuses are listed in docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from livespec.cli.parsers import (  # noqa: F401  (re-exported: tests build parsers from cli)
    SUBCOMMANDS,
    _add_analysis_options,
    _add_common,
    _add_source_options,
    _Parser,
    build_parser,
    build_parsers,
)
from livespec.config import Config, default_config_path, load_file, merge_cli
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    LivespecError,
    UsageError,
    printable,
)

# -- configuration and sources -------------------------------------------------------------


def resolve_config(ns: argparse.Namespace) -> Config:
    """Defaults < config file < flags, validated."""
    explicit = getattr(ns, "config", None)
    path = explicit if explicit is not None else default_config_path()
    base = load_file(path, explicit=explicit is not None)
    return merge_cli(base, vars(ns))


def open_source(cfg: Config, *, realtime: bool, max_seconds: float | None) -> Any:
    """Make and open the configured source (caller's thread)."""
    from livespec.audio.sources import make_source

    s = cfg.source
    latency: float | str = s.latency if s.latency in ("low", "high") else float(s.latency)
    source = make_source(
        s.input,
        device=s.device,
        samplerate=s.samplerate,
        channels=s.channels,
        blocksize=s.blocksize,
        latency=latency,
        pcm_format=s.format,
        realtime=realtime,
        max_seconds=max_seconds,
    )
    source.open()
    if s.channel is not None and s.channel > source.channels:
        source.stop()
        raise UsageError(f"--channel {s.channel}: the source has {source.channels} channel(s)")
    if cfg.analysis.fft * cfg.analysis.zero_pad > 1 << 20:
        raise UsageError("--fft times --zero-pad must not exceed 1048576")
    return source


# -- subcommands -------------------------------------------------------------------------


def cmd_devices(ns: argparse.Namespace) -> int:
    """``livespec devices``: the input devices, default marked."""
    from livespec.audio.device import devices_command

    print(devices_command(as_json=bool(getattr(ns, "json", False))))
    return EXIT_OK


def cmd_config(ns: argparse.Namespace) -> int:
    """``livespec config``: the file's path and the effective values; with
    ``--calibrate DB UNIT`` or ``--no-calibration``, first save that in the file."""
    from livespec.config import as_toml

    path = ns.config if ns.config is not None else default_config_path()
    if getattr(ns, "calibration_db", None) is not None or getattr(ns, "no_calibration", False):
        from livespec.config_edit import save_calibration

        if ns.no_calibration and getattr(ns, "calibration_db", None) is not None:
            raise UsageError("give either --calibrate or --no-calibration, not both")
        if path.exists():
            load_file(path)  # a broken config is reported, not edited
        save_calibration(
            path,
            ns.calibration_db if not ns.no_calibration else None,
            getattr(ns, "calibration_unit", ""),
        )
        what = (
            "removed the calibration"
            if ns.no_calibration
            else f"saved calibration {ns.calibration_db:g} {ns.calibration_unit}"
        )
        print(f"# {what} in {path}")
    cfg = resolve_config(ns)
    state = "exists" if path.exists() else "does not exist; built-in defaults are used"
    print(f"# config file: {path} ({state})")
    print(as_toml(cfg), end="")
    return EXIT_OK


def _frame_record(frame: Any) -> dict[str, Any]:
    peaks = frame.peaks
    top = peaks[0] if peaks else None
    rec: dict[str, Any] = {
        "t": round(frame.t, 6),
        "freq_hz": round(top.freq_hz, 4) if top else None,
        "level_dbfs": round(top.level_dbfs, 4) if top else None,
        "note": top.note if top else None,
        "cents": round(top.cents, 2) if top else None,
        "overflows": frame.overflows,
        "lost_frames": frame.lost_frames,
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


def _frame_text(frame: Any) -> str:
    parts = [f"{frame.t:9.3f} s"]
    if not frame.peaks:
        parts.append("   (no peak)")
    for p in frame.peaks:
        parts.append(f"{p.freq_hz:11.2f} Hz {p.level_dbfs:7.2f} dBFS {p.label:<9}")
    tail = f"overflows {frame.overflows}"
    if frame.lost_frames:
        tail += f"  lost frames {frame.lost_frames}"
    return "  ".join(parts) + "  " + tail


class _Printer:
    """Writes frames as lines (main thread), honouring --interval."""

    def __init__(self, out: TextIO, as_json: bool, interval: float | None) -> None:
        self.out, self.as_json, self.interval = out, as_json, interval
        self.next_t = 0.0
        self.last: Any = None

    def __call__(self, frame: Any) -> None:
        self.last = frame
        if self.interval:
            if frame.t < self.next_t:
                return
            self.next_t = (math.floor(frame.t / self.interval) + 1) * self.interval
        line = json.dumps(_frame_record(frame)) if self.as_json else _frame_text(frame)
        self.out.write(line + "\n")
        if self.interval or self.out.isatty():
            self.out.flush()


def cmd_peaks(ns: argparse.Namespace) -> int:
    """``livespec peaks``: one line per frame (or per --interval) on stdout."""
    from livespec.audio.ringbuffer import RingBuffer
    from livespec.audio.sources import BlockSource
    from livespec.engine import Engine

    if ns.duration is not None and not ns.duration > 0:
        raise UsageError(f"--duration {ns.duration:g}: must be positive")
    if ns.interval is not None and not ns.interval > 0:
        raise UsageError(f"--interval {ns.interval:g}: must be positive")
    cfg = resolve_config(ns)
    inp = cfg.source.input
    # Files, stdin and test signals with a duration run as fast as they can; a device, a
    # live pipe or an endless test signal runs in real time.
    endless_signal = inp is not None and inp != "-" and ns.duration is None
    realtime = bool(ns.realtime) or inp is None or (endless_signal and _is_signal(inp))
    source = open_source(cfg, realtime=realtime, max_seconds=ns.duration)
    fs = source.samplerate
    capacity = max(2 * cfg.analysis.fft, round(cfg.source.ring_seconds * fs))
    ring = RingBuffer(capacity, source.channels)
    channel = None if cfg.source.channel is None else cfg.source.channel - 1
    printer = _Printer(sys.stdout, bool(ns.json), ns.interval)
    try:
        if isinstance(source, BlockSource) and not source.realtime:
            engine = Engine(source, ring, cfg.analysis, printer, channel, first_frame_start=0)
            source.attach(ring)
            while source.pump(source.block_frames):
                engine.process_available()
            engine.process_available()
            if source.error is not None:
                raise source.error
        else:
            _run_live(source, ring, cfg, printer, channel, ns.duration)
    finally:
        source.stop()
    sys.stdout.flush()
    last = printer.last
    if last is not None and (last.overflows or last.lost_frames):
        print(
            f"livespec: {last.overflows} input overflow(s), {last.lost_frames} frame(s) "
            "skipped by the analysis",
            file=sys.stderr,
        )
    return EXIT_OK


def _is_signal(inp: str) -> bool:
    from livespec.audio.signals import is_signal_spec

    return is_signal_spec(inp) and not os.path.exists(inp)


def _run_live(
    source: Any,
    ring: Any,
    cfg: Config,
    printer: _Printer,
    channel: int | None,
    duration: float | None,
) -> None:
    """Real-time path: the source's producer and the engine's worker run; this (main)
    thread prints frames and watches the input."""
    from livespec.engine import Engine

    frames: queue.SimpleQueue[Any] = queue.SimpleQueue()
    engine = Engine(source, ring, cfg.analysis, frames.put, channel, first_frame_start=0)
    fs = source.samplerate
    limit = None if duration is None else round(duration * fs)
    source.start(ring)
    engine.start()
    lost_reported = False
    try:
        while True:
            try:
                frame = frames.get(timeout=0.1)
            except queue.Empty:
                frame = None
            if frame is not None:
                if limit is not None and frame.start + cfg.analysis.fft > limit:
                    break
                printer(frame)
                continue
            if source.error is not None:
                raise source.error
            if source.finished and not engine.running:
                break
            if limit is not None and ring.written >= limit and not engine.running:
                break
            if source.input_lost():
                if not lost_reported:
                    print(
                        f"livespec: input lost: no audio from {source.description} for "
                        f"{source.seconds_since_input():.1f} s",
                        file=sys.stderr,
                    )
                    lost_reported = True
                if not getattr(source, "stream_active", True):
                    raise LivespecError(f"input stream stopped: {source.description}", EXIT_FAILURE)
            elif lost_reported:
                print("livespec: input resumed", file=sys.stderr)
                lost_reported = False
    finally:
        engine.stop()


def cmd_record(ns: argparse.Namespace) -> int:
    """``livespec record OUT.wav``: headless recording (docs/recording.md)."""
    from livespec.cli.record import run_record

    return run_record(ns, resolve_config(ns))


def cmd_stream(ns: argparse.Namespace) -> int:
    """``livespec stream`` (docs/ssh.md)."""
    from livespec.cli.stream import run_stream

    return run_stream(ns, resolve_config(ns))


def cmd_view(ns: argparse.Namespace) -> int:
    """``livespec view -|FILE`` (docs/ssh.md)."""
    from livespec.cli.stream import run_view

    return run_view(ns, resolve_config(ns))


def cmd_export(ns: argparse.Namespace) -> int:
    """``livespec export`` (docs/export.md)."""
    from livespec.cli.export import run_export

    return run_export(ns, resolve_config(ns))


def cmd_measure(ns: argparse.Namespace) -> int:
    """``livespec measure`` (docs/measure.md)."""
    from livespec.cli.measure import run_measure

    return run_measure(ns, resolve_config(ns))


# -- entry point ---------------------------------------------------------------------------


def cmd_app(ns: argparse.Namespace) -> int:
    """``livespec``: the live Textual app (not headless)."""
    if ns.list_devices:
        return cmd_devices(argparse.Namespace(json=False))
    try:
        from livespec.tui.app import run_app
    except ImportError as exc:  # a broken install (Textual or Rich missing)
        raise LivespecError(
            f"cannot start the live app ({exc}); headless commands such as "
            "'livespec peaks' still work",
            EXIT_FAILURE,
        ) from None
    return int(run_app(resolve_config(ns), ns))


def main(argv: Sequence[str] | None = None) -> int:
    """Run livespec; returns the exit status (see docs/cli.md)."""
    args = list(sys.argv[1:] if argv is None else argv)
    sub = args[0] if args and args[0] in SUBCOMMANDS else ""
    if sub:
        args = args[1:]
    try:
        parser = build_parser(sub)
        ns = parser.parse_args(args)
        handlers = {
            "": cmd_app,
            "devices": cmd_devices,
            "peaks": cmd_peaks,
            "config": cmd_config,
            "record": cmd_record,
            "export": cmd_export,
            "measure": cmd_measure,
            "stream": cmd_stream,
            "view": cmd_view,
        }
        return handlers[sub](ns)
    except LivespecError as exc:
        _die(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. '| head'): stop quietly, as other tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_OK
    except MemoryError:
        _die("out of memory (try a smaller --fft or --ring-seconds)")
        return EXIT_FAILURE


def _die(message: str) -> None:
    try:
        sys.stderr.write(f"livespec: {printable(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
