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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from livespec import __version__
from livespec.config import Config, default_config_path, load_file, merge_cli
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    LivespecError,
    UsageError,
)

SUBCOMMANDS = ("devices", "peaks", "config", "record", "export", "measure", "stream", "view")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _add_source_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("source (default: the default input device)")
    g.add_argument(
        "-i",
        "--input",
        metavar="SRC",
        help="FILE (wav, flac, ogg...), '-' for raw PCM on stdin, or a test signal: "
        "tone:FREQ[,FREQ...][@DBFS], chirp[:F0-F1], noise[:pink], demo; "
        "parts can be summed with '+', e.g. tone:1000@-6+noise@-90",
    )
    g.add_argument(
        "-d",
        "--device",
        metavar="DEV",
        help="input device by index or name substring (see 'livespec devices')",
    )
    g.add_argument(
        "-r",
        "--samplerate",
        metavar="HZ",
        help="sample rate in Hz (default: the device's; 48000 for signals/stdin)",
    )
    g.add_argument("--channels", metavar="N", help="channels to capture (default 1)")
    g.add_argument(
        "--channel", metavar="N", help="analyse only channel N (1-based; default: the mono mix)"
    )
    g.add_argument("--blocksize", metavar="FRAMES", help="frames per audio callback (1024)")
    g.add_argument("--latency", metavar="S", help="input latency: low, high or seconds (high)")
    g.add_argument(
        "--format",
        metavar="FMT",
        help="raw PCM format on stdin: s16le, s24le, s32le, f32le (s16le)",
    )
    g.add_argument("--ring-seconds", metavar="S", help="seconds of audio buffered (20)")


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("analysis")
    g.add_argument("-n", "--fft", metavar="N", help="samples per frame, 64..65536 (4096)")
    g.add_argument(
        "-w",
        "--window",
        metavar="W",
        help="rect, hann, hamming, blackman, blackman-harris, flattop, kaiser (hann)",
    )
    g.add_argument("--beta", metavar="B", help="kaiser window beta (8.6)")
    g.add_argument("--hop", metavar="N", help="samples between frames (default: from overlap)")
    g.add_argument("--overlap", metavar="F", help="overlap fraction 0..0.97 (0.75)")
    g.add_argument("--zero-pad", metavar="K", help="zero-padding factor, FFT = K * fft (1)")
    g.add_argument("--peaks", metavar="N", help="peaks found per frame (1)")
    g.add_argument("--a4", metavar="HZ", help="tuning reference for note names (440)")
    g.add_argument("--fmin", metavar="HZ", help="lowest peak frequency searched (0)")
    g.add_argument("--fmax", metavar="HZ", help="highest peak frequency searched (Nyquist)")
    g.add_argument("--backend", metavar="B", help="FFT backend: auto, fftw, numpy (auto)")


def _add_display_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("display (the live app)")
    g.add_argument(
        "--colormap", metavar="NAME", help="viridis, magma, inferno, plasma, turbo, grey (viridis)"
    )
    g.add_argument(
        "--colors",
        metavar="DEPTH",
        help="auto, truecolor, 256, 16, none (auto: from COLORTERM/TERM/NO_COLOR; "
        "at most 256 over SSH)",
    )
    g.add_argument("--db-min", metavar="DB", help="floor of the colour scale in dBFS (-120)")
    g.add_argument("--db-max", metavar="DB", help="ceiling of the colour scale in dBFS (0)")
    g.add_argument(
        "--orientation",
        metavar="O",
        help="horizontal (time scrolls left), vertical (time flows down) or auto "
        "(horizontal; vertical over SSH, where the terminal scrolls it)",
    )
    g.add_argument("--scale", metavar="S", help="frequency scale: linear, log, mel (log)")
    g.add_argument("--fps", metavar="N", help="screen updates per second at most (30; 15 over SSH)")
    g.add_argument(
        "--ssh",
        metavar="auto|on|off",
        help="bandwidth-saving defaults for a remote terminal (auto: when SSH_CONNECTION, "
        "SSH_TTY or SSH_CLIENT is set)",
    )
    g.add_argument("--history-seconds", metavar="S", help="waterfall history kept (300)")
    g.add_argument(
        "--frames-per-pixel",
        metavar="N",
        help="analysis frames per waterfall time pixel, their maximum shown: a longer time "
        "span on the same screen (1..64; 1; keys < and >)",
    )
    g.add_argument("--spectrum", metavar="on|off", help="show the spectrum panel (on)")
    g.add_argument("--record-dir", metavar="DIR", help="folder for recordings (.)")


class _Calibrate(argparse.Action):
    """``--calibrate DB UNIT``: sets ``calibration_db`` and ``calibration_unit`` (the config's
    ``[measure]`` keys, so the flag overrides the file like any other)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        db_text, unit = values
        try:
            db = float(db_text)
        except ValueError:
            db = math.nan
        if not (math.isfinite(db) and abs(db) <= 1000.0):
            parser.error(f"--calibrate {db_text}: DB must be a number from -1000 to 1000")
        if not unit.strip():
            parser.error("--calibrate: UNIT must not be empty, e.g. 'dB SPL'")
        namespace.calibration_db = db
        namespace.calibration_unit = unit.strip()


def _calibrate_option(g: Any, help: str) -> None:
    g.add_argument(
        "--calibrate", nargs=2, metavar=("DB", "UNIT"), action=_Calibrate, default=None, help=help
    )


def _app_average(text: str) -> Any:
    """``--average`` of the app: an AverageSpec (numpy is imported only when given)."""
    from livespec.live_measure import parse_app_average

    try:
        return parse_app_average(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _app_band(text: str) -> tuple[float, float]:
    """``--band LO-HI`` of the app's measurement view, in Hz."""
    from livespec.measure_cmd import parse_band

    try:
        return parse_band(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--band {text}: ")) from None


def _app_harmonics(text: str) -> int:
    """``--harmonics N`` of the app's measurement view: 2..100."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 2 <= n <= 100:
        raise argparse.ArgumentTypeError("must be an integer from 2 to 100")
    return n


def _add_measure_view_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("measurement view (M, A and H keys; see docs/measure.md)")
    g.add_argument(
        "--harmonics", metavar="N", type=_app_harmonics, help="THD counts harmonics 2..N (10)"
    )
    g.add_argument(
        "--band",
        metavar="LO-HI",
        type=_app_band,
        help="band in Hz the measurements cover (20-20000, or to Nyquist)",
    )
    g.add_argument(
        "--weighting",
        metavar="W",
        type=str.upper,
        choices=("A", "C", "Z"),
        help="weighting of harmonics and noise: A, C (IEC 61672) or Z (none) (Z)",
    )
    g.add_argument(
        "--average",
        metavar="A",
        type=_app_average,
        help="averaging of the spectrum panel and the measurements: none, exp:TAU "
        "(seconds), lin:N (frames), peak (none; the A key cycles)",
    )
    _calibrate_option(
        g, "show measured levels also in UNIT = dBFS + DB, e.g. 114 'dB SPL' (config [measure])"
    )


def _config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("calibration (saved in the config file; see docs/measure.md)")
    _calibrate_option(
        g, "save [measure] calibration_db = DB and calibration_unit = UNIT in the config file"
    )
    g.add_argument(
        "--no-calibration", action="store_true", help="remove the calibration from the config file"
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="config file (default: $LIVESPEC_CONFIG or the user config dir)",
    )


def _app_parser() -> _Parser:
    """``livespec [options]``: the live app."""
    epilog = "subcommands: " + ", ".join(SUBCOMMANDS) + " ('livespec SUBCOMMAND --help')"
    app = _Parser(
        prog="livespec",
        description="A real-time spectrum analyzer for the terminal.",
        epilog=epilog,
    )
    app.add_argument("--version", action="version", version=f"livespec {__version__}")
    app.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    _add_common(app)
    _add_source_options(app)
    _add_analysis_options(app)
    _add_display_options(app)
    _add_measure_view_options(app)
    rec = app.add_argument_group("recording (also the r key; see docs/recording.md)")
    rec.add_argument("--record", metavar="OUT.wav", help="record from launch into OUT.wav")
    rec.add_argument(
        "--preroll",
        metavar="S",
        type=float,
        help="seconds before the r key that a recording includes (3)",
    )
    rec.add_argument(
        "--subtype",
        metavar="T",
        choices=("PCM_16", "PCM_24", "PCM_32", "FLOAT"),
        help="WAV sample format: PCM_16, PCM_24, PCM_32, FLOAT (PCM_24)",
    )
    rec.add_argument("--force", action="store_true", help="let --record replace OUT.wav")

    return app


def _peaks_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--duration",
        metavar="S",
        type=float,
        help="stop after S seconds of audio (a file ends by itself)",
    )
    p.add_argument(
        "--interval",
        metavar="S",
        type=float,
        help="print one line per S seconds instead of one per frame",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--realtime", action="store_true", help="pace files and test signals at their sample rate"
    )


def _devices_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON array")


def _channel_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--channel", metavar="N", help="analyse only channel N (1-based; default: the mono mix)"
    )


def _record_options(p: argparse.ArgumentParser) -> None:
    from livespec.record_cmd import add_record_arguments

    add_record_arguments(p)


def _export_options(p: argparse.ArgumentParser) -> None:
    from livespec.export import add_export_arguments  # cheap: no numpy or PIL

    add_export_arguments(p)


def _measure_options(p: argparse.ArgumentParser) -> None:
    from livespec.measure_cmd import add_measure_arguments

    add_measure_arguments(p)


def _stream_options(p: argparse.ArgumentParser) -> None:
    from livespec.stream_cmd import add_stream_arguments

    add_stream_arguments(p)


def _view_options(p: argparse.ArgumentParser) -> None:
    from livespec.stream_cmd import add_view_arguments

    add_view_arguments(p)


_OptionAdder = Callable[[argparse.ArgumentParser], None]
# subcommand -> (description, the option groups it takes, in order)
_SUBCOMMAND_SPECS: dict[str, tuple[str, tuple[_OptionAdder, ...]]] = {
    "devices": ("List the audio input devices.", (_devices_options,)),
    "peaks": (
        "Print the strongest peak of every analysis frame (headless).",
        (_add_common, _add_source_options, _add_analysis_options, _peaks_options),
    ),
    "config": (
        "Show the config file's path and the effective settings; save a calibration.",
        (
            _add_common,
            _add_source_options,
            _add_analysis_options,
            _add_display_options,
            _config_options,
        ),
    ),
    "record": (
        "Record audio to a WAV file, crash-safe (see docs/recording.md).",
        (_add_common, _add_source_options, _record_options),
    ),
    "export": (
        "Audio files and folders -> spectrogram PNG, NPY or CSV (docs/export.md).",
        (_add_common, _channel_option, _add_analysis_options, _export_options),
    ),
    "measure": (
        "Level, THD, THD+N, SNR, SINAD and noise of the dominant tone (headless; docs/measure.md).",
        (_add_common, _add_source_options, _measure_options),
    ),
    "stream": (
        "Write analysed frames to stdout for 'livespec view -' (docs/ssh.md).",
        (_add_common, _add_source_options, _add_analysis_options, _stream_options),
    ),
    "view": (
        "Show a stream from 'livespec stream' (stdin or a file; docs/ssh.md).",
        (_add_common, _add_display_options, _view_options),
    ),
}


def build_parser(sub: str = "") -> argparse.ArgumentParser:
    """The parser of the app (``""``) or of one subcommand; only its modules are imported."""
    if not sub:
        return _app_parser()
    description, groups = _SUBCOMMAND_SPECS[sub]
    parser = _Parser(prog=f"livespec {sub}", description=description)
    for add in groups:
        add(parser)
    return parser


def build_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every parser: the app's (key ``""``) and each subcommand's."""
    return {sub: build_parser(sub) for sub in ("", *SUBCOMMANDS)}


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
    from livespec.record_cmd import run_record

    return run_record(ns, resolve_config(ns))


def cmd_stream(ns: argparse.Namespace) -> int:
    """``livespec stream`` (docs/ssh.md)."""
    from livespec.stream_cmd import run_stream

    return run_stream(ns, resolve_config(ns))


def cmd_view(ns: argparse.Namespace) -> int:
    """``livespec view -|FILE`` (docs/ssh.md)."""
    from livespec.stream_cmd import run_view

    return run_view(ns, resolve_config(ns))


def cmd_export(ns: argparse.Namespace) -> int:
    """``livespec export`` (docs/export.md)."""
    from livespec.export import run_export

    return run_export(ns, resolve_config(ns))


def cmd_measure(ns: argparse.Namespace) -> int:
    """``livespec measure`` (docs/measure.md)."""
    from livespec.measure_cmd import run_measure

    return run_measure(ns, resolve_config(ns))


# -- entry point ---------------------------------------------------------------------------


def cmd_app(ns: argparse.Namespace) -> int:
    """``livespec``: the live Textual app (not headless)."""
    if ns.list_devices:
        return cmd_devices(argparse.Namespace(json=False))
    try:
        from livespec.app import run_app  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise LivespecError(
            "the live app is not built yet; try 'livespec peaks --input demo'", EXIT_USAGE
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
        sys.stderr.write(f"livespec: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
