"""``livespec export``: audio files and folders -> spectrogram PNG, NPY and CSV files.

Wiring for the command line: :func:`add_export_arguments` adds the export-only options to a
parser that already has the shared ones (``--config``, source and analysis options), and
:func:`run_export` runs the command with the merged :class:`~livespec.config.Config`.

Folders are mirrored into the output folder and exported in parallel by a process pool
(one input per task); each failed input is reported in one line, a summary follows, and the
exit status is 1 if any input failed (docs/export.md). Never imports Textual; Rich only for
the progress bar on a terminal.
"""

from __future__ import annotations

import argparse
from typing import Any

from livespec.config import COLORMAPS, DEFAULT_COLORMAP, SCALE_CHOICES, Config

# Kept here, without importing the numeric modules, so building the parser stays cheap;
# tests check them against livespec.export.dsp.LIKE and livespec.export.image.
LIKE_NAMES = ("scipy", "librosa", "torchaudio")
COLORMAP_NAMES = COLORMAPS
SCALES = SCALE_CHOICES


def _add(g: argparse._ActionsContainer, *flags: str, **kw: Any) -> None:
    """Add an option unless the parser already has one of its flags (the lead's shared
    options win)."""
    container = getattr(g, "_option_string_actions", {})
    if any(f in container for f in flags):
        return
    g.add_argument(*flags, **kw)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``livespec export``'s own arguments to ``parser`` (which has the shared ones)."""
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="audio files and/or folders (searched recursively)",
    )
    g = parser.add_argument_group("export outputs")
    _add(
        g,
        "-o",
        "--output",
        metavar="OUT",
        help="output file (.png, .npy, .csv, .html or .svg picks the format) or folder "
        "(anything else)",
    )
    for fmt, what in (
        ("npy", "float32 levels, shape (frames, bins)"),
        ("csv", "levels as text (--csv-layout)"),
        ("png", "a spectrogram image"),
    ):
        _add(
            g,
            f"--{fmt}",
            nargs="?",
            const="",
            metavar="FILE",
            help=f"also write {what}: to FILE (.{fmt}), or without FILE next to -o's outputs",
        )
    _add(g, "--clip", metavar="S", type=float, help="split into S-second clips, NAME_<end>.EXT")
    _add(g, "--keep-partial", action="store_true", help="keep a last clip shorter than S")
    _add(g, "--csv-layout", choices=("wide", "long"), default="wide", help="CSV layout (wide)")
    _add(g, "--force", action="store_true", help="overwrite outputs that exist (default: skip)")
    _add(g, "--jobs", metavar="N", type=int, help="worker processes for many files (all CPUs)")

    p = parser.add_argument_group("export pages (.html) and figures (.svg)")
    _add(
        p,
        "--audio",
        choices=("embed", "link", "none"),
        help="the HTML page's audio: embed (FLAC, or OGG Vorbis over 60 s; the default), "
        "link (to the input file, relative) or none",
    )
    _add(
        p,
        "--overlay",
        action="append",
        metavar="FILE.csv",
        help="draw a curve: CSV time_s,value (Hz) or time_s,value,unit (Hz|dB); repeatable",
    )
    _add(p, "--labels", metavar="FILE.txt", help="draw an Audacity label track under the time axis")

    s = parser.add_argument_group("export analysis")
    _add(
        s,
        "--like",
        choices=LIKE_NAMES,
        help="the defaults of scipy.signal.spectrogram, librosa.stft + amplitude_to_db, or "
        "torchaudio Spectrogram + AmplitudeToDB (docs/export.md)",
    )
    _add(
        s,
        "--center",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="centre frame k on sample k*hop, padding fft/2 at each end (librosa/torchaudio)",
    )
    _add(s, "--pad-mode", choices=("constant", "reflect"), help="padding for --center")
    _add(s, "--top-db", metavar="D", help="floor levels D dB below the loudest value ('none': off)")
    _add(
        s,
        "--db-ref",
        choices=("1", "max"),
        help="dB reference: 1 (dBFS; the library's ref=1.0) or max (ref=np.max: peak = 0 dB)",
    )
    _add(s, "--scale", choices=SCALES, help="frequency scale: linear, log (images only), mel")
    _add(s, "--n-mels", metavar="N", type=int, help="mel bands with --scale mel (128)")

    i = parser.add_argument_group("export images")
    _add(i, "--size", metavar="WxH", help="resample the image to W x H pixels, e.g. 512x512")
    _add(i, "--gray", "--grey", action="store_true", help="8-bit greyscale image")
    _add(i, "--colormap", metavar="NAME", help=f"{', '.join(COLORMAP_NAMES)} ({DEFAULT_COLORMAP})")
    _add(i, "--axes", action="store_true", help="a report figure: title, axes and dB colour bar")
    _add(i, "--db-min", metavar="DB", type=float, help="level at the bottom of the colour scale")
    _add(i, "--db-max", metavar="DB", type=float, help="level at the top of the colour scale")


def run_export(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec export``: returns 0 if every input was exported (or skipped because its
    outputs existed), 1 if any input failed. Raises UsageError (exit 2) for bad options.

    Folders are exported by a process pool; the workers do not re-run the ``__main__``
    module (see :func:`livespec.export.run.run_jobs`)."""
    from livespec.export.run import run

    return run(ns, cfg)
