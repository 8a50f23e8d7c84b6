"""The command line's parsers: ``livespec [options]`` (the app) and each subcommand's.

Built on demand (:func:`build_parser`), so a subcommand imports only what it needs. Option
values are validated by :mod:`livespec.config` after parsing; a few options with their own
syntax (``--average``, ``--band``, ``--calibrate``) are checked here and end in one line
with exit status 2, like every usage error (docs/cli.md).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livespec import __version__
from livespec.cli.usage import SUBCOMMANDS, _Parser
from livespec.config import (
    COLORMAPS,
    DEFAULT_COLORMAP,
    MAX_PREROLL_S,
    WEIGHTING_CHOICES,
    preroll_seconds,
)
from livespec.errors import UsageError

if TYPE_CHECKING:
    from livespec.dsp.averaging import AverageSpec


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


def _add_analysis_options(p: argparse.ArgumentParser, export: bool = False) -> None:
    """The shared analysis options; ``export``: as ``livespec export`` reads them (it
    refuses --peaks and --a4, and --fmin/--fmax bound its log, mel and cqt rows)."""
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
    hidden = argparse.SUPPRESS
    g.add_argument("--peaks", metavar="N", help=hidden if export else "peaks found per frame (1)")
    g.add_argument(
        "--a4", metavar="HZ", help=hidden if export else "tuning reference for note names (440)"
    )
    if export:
        fmin = "lowest frequency of the --scale log, mel or cqt rows (20, 0, 32.70)"
        fmax = "highest frequency of the --scale log, mel or cqt rows (Nyquist; cqt: --octaves)"
    else:
        fmin = "lowest peak frequency searched (0)"
        fmax = "highest peak frequency searched (Nyquist)"
    g.add_argument("--fmin", metavar="HZ", help=fmin)
    g.add_argument("--fmax", metavar="HZ", help=fmax)
    g.add_argument("--backend", metavar="B", help="FFT backend: auto, fftw, numpy (auto)")


def _add_display_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("display (the live app)")
    g.add_argument(
        "--colormap", metavar="NAME", help=f"{', '.join(COLORMAPS)} ({DEFAULT_COLORMAP})"
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
        "(horizontal, over SSH too: the terminal shifts its rows; auto)",
    )
    g.add_argument("--scale", metavar="S", help="frequency scale: linear, log, mel, cqt (log)")
    g.add_argument("--fps", metavar="N", help="screen updates per second at most (30; 20 over SSH)")
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
    g.add_argument(
        "--record-dir",
        metavar="DIR",
        help="folder for the r key's recordings, S's screenshots and L's labels "
        "(~/.local/share/livespec/recordings)",
    )


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


def _calibrate_option(g: argparse._ActionsContainer, help: str) -> None:
    g.add_argument(
        "--calibrate", nargs=2, metavar=("DB", "UNIT"), action=_Calibrate, default=None, help=help
    )


def _app_average(text: str) -> AverageSpec:
    """``--average`` of the app: an AverageSpec (numpy is imported only when given)."""
    from livespec.meter.live import parse_app_average

    try:
        return parse_app_average(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _app_band(text: str) -> tuple[float, float]:
    """``--band LO-HI`` of the app's measurement view, in Hz."""
    from livespec.cli.measure import parse_band

    try:
        return parse_band(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--band {text}: ")) from None


def _app_harmonics(text: str) -> int:
    """``--harmonics N`` of the app's measurement view: 2..100, as ``livespec measure``."""
    from livespec.cli.measure import HARMONICS_MAX, HARMONICS_MIN

    try:
        n = int(text)
    except ValueError:
        n = 0
    if not HARMONICS_MIN <= n <= HARMONICS_MAX:
        raise argparse.ArgumentTypeError(
            f"must be an integer from {HARMONICS_MIN} to {HARMONICS_MAX}"
        )
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
        choices=WEIGHTING_CHOICES,  # from config: the app's parser imports no cli.measure
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
    epilog = (
        "subcommands: " + ", ".join(SUBCOMMANDS) + " ('livespec SUBCOMMAND --help'); "
        "'livespec FILE' browses a recording (livespec play FILE)"
    )
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
        type=preroll_seconds,
        help=f"seconds before the r key that a recording includes, 0..{MAX_PREROLL_S:g} (3)",
    )
    rec.add_argument(
        "--subtype",
        metavar="T",
        choices=("PCM_16", "PCM_24", "PCM_32", "FLOAT"),
        help="WAV sample format: PCM_16, PCM_24, PCM_32, FLOAT (PCM_24)",
    )
    rec.add_argument("--force", action="store_true", help="let --record replace OUT.wav")
    rec.add_argument(
        "--labels-out",
        metavar="FILE.txt",
        help="where the L key saves the markers as Audacity labels (default: a new "
        "livespec-DATE-TIME.labels.txt in the recording folder; never replaces a file)",
    )

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
    p.add_argument(
        "--output", action="store_true", help="list output devices (for 'livespec play')"
    )


def _channel_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--channel", metavar="N", help="analyse only channel N (1-based; default: the mono mix)"
    )


def _record_options(p: argparse.ArgumentParser) -> None:
    from livespec.cli.record import add_record_arguments

    add_record_arguments(p)


def _export_analysis_options(p: argparse.ArgumentParser) -> None:
    _add_analysis_options(p, export=True)


def _export_options(p: argparse.ArgumentParser) -> None:
    from livespec.cli.export import add_export_arguments  # cheap: no numpy or PIL

    add_export_arguments(p)


def _measure_options(p: argparse.ArgumentParser) -> None:
    from livespec.cli.measure import add_measure_arguments

    add_measure_arguments(p)


def _stream_options(p: argparse.ArgumentParser) -> None:
    from livespec.cli.stream import add_stream_arguments

    add_stream_arguments(p)


def _play_options(p: argparse.ArgumentParser) -> None:
    from livespec.cli.play import add_play_arguments

    add_play_arguments(p)


def _view_options(p: argparse.ArgumentParser) -> None:
    from livespec.cli.view import add_view_arguments

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
        "Audio files and folders -> spectrogram PNG, NPY, CSV, HTML or SVG (docs/export.md).",
        (_add_common, _channel_option, _export_analysis_options, _export_options),
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
    "play": (
        "Browse and hear an audio file: its whole spectrogram in the terminal (docs/app.md).",
        (_add_common, _play_options, _add_analysis_options, _add_display_options),
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
