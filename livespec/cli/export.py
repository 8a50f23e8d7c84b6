"""``livespec export``: audio files and folders -> spectrogram PNG, NPY and CSV files.

Wiring for the command line: :func:`add_export_arguments` adds the export-only options to a
parser that already has the shared ones (``--config``, source and analysis options), and
:func:`run_export` runs the command with the merged :class:`~livespec.config.Config`.

Folders are mirrored into the output folder and exported in parallel by a process pool,
or on Dask distributed with ``--scheduler`` (one input per task); each failed input is
reported in one line, a summary follows, and the exit status is 1 if any input failed
(docs/export.md). Never imports Textual; Rich only for
the progress bar on a terminal.
"""

from __future__ import annotations

import argparse
from typing import Any

from livespec.config import COLORMAPS, DEFAULT_COLORMAP, SCALE_CHOICES, Config
from livespec.export.convention import ORIGINS, QUANTIZE, RESIZE_FILTERS, RESIZE_ON

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
        help="audio files and/or folders (searched recursively), or - for a WAV, FLAC, OGG or "
        "AIFF stream on stdin (with -o FILE)",
    )
    g = parser.add_argument_group("export outputs")
    _add(
        g,
        "-o",
        "--output",
        metavar="OUT",
        help="output file (.png, .npy, .csv, .html or .svg picks the format) or folder (no "
        "extension, or ending in /); any other extension is an error",
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
    _add(g, "--csv-layout", choices=("wide", "long"), help="CSV layout (wide)")
    _add(g, "--force", action="store_true", help="overwrite outputs that exist (default: skip)")
    _add(
        g,
        "--jobs",
        metavar="N",
        type=int,
        help="worker processes for many files (all CPUs); one input: up to 2 threads",
    )
    _add(
        g,
        "--scheduler",
        metavar="ADDR",
        help="run the files on Dask: tcp://HOST:PORT (a scheduler; paths must be the same on "
        "every worker) or local:N (N local workers); needs pip install 'livespec[cluster]'",
    )

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
    _add(
        s,
        "--detrend",
        choices=("none", "constant", "linear"),
        help="remove each frame's mean or line first (scipy's detrend; --like scipy: constant)",
    )
    _add(
        s,
        "--scaling",
        choices=("density", "spectrum"),
        help="scipy's scaling: power spectral density (V**2/Hz) or power spectrum (V**2)",
    )
    _add(s, "--log", choices=("db", "ln"), help="levels in dB (10*log10), or ln(power + 1e-10)")
    _add(
        s,
        "--raw-int",
        action="store_true",
        help="analyse the integer sample values (as scipy.io.wavfile.read gives), not +-1",
    )
    _add(
        s,
        "--scale",
        choices=SCALES,
        help="rows: linear FFT bins, log (log-spaced bands integrating the bins), mel "
        "bands, or cqt (a constant-Q transform; docs/export.md)",
    )
    _add(s, "--n-mels", metavar="N", type=int, help="mel bands with --scale mel (128)")
    _add(
        s,
        "--bins-per-octave",
        metavar="B",
        type=int,
        help="bands per octave with --scale log (1..96, 12) or cqt (12..96, 12)",
    )
    _add(
        s,
        "--octaves",
        metavar="N",
        type=float,
        help="octaves of CQT bins from --fmin with --scale cqt (7; or give --fmax)",
    )

    i = parser.add_argument_group("export images")
    _add(
        i,
        "--size",
        metavar="WxH",
        help=(
            "resample the image to W x H pixels, e.g. 512x512, or native: one pixel per "
            "frame and frequency row (default 800 x up to 400; with --like: native)"
        ),
    )
    _add(
        i,
        "--png-compress",
        metavar="N",
        type=int,
        help="PNG zlib level, 0 (fastest) to 9 (smallest file) (1)",
    )
    _add(i, "--gray", "--grey", action="store_true", help="8-bit greyscale image")
    _add(i, "--colormap", metavar="NAME", help=f"{', '.join(COLORMAP_NAMES)} ({DEFAULT_COLORMAP})")
    _add(i, "--axes", action="store_true", help="a report figure: title, axes and dB colour bar")
    _add(i, "--db-min", metavar="DB", type=float, help="level at the bottom of the colour scale")
    _add(i, "--db-max", metavar="DB", type=float, help="level at the top of the colour scale")
    _add(i, "--origin", choices=ORIGINS, help="the row of 0 Hz: lower (bottom) or upper (row 0)")
    _add(i, "--resize-filter", choices=RESIZE_FILTERS, help="Pillow's filter for --size")
    _add(
        i,
        "--resize-on",
        choices=RESIZE_ON,
        help="resize the dB levels, or the 8-bit image (as notebooks do) for --size",
    )
    _add(
        i,
        "--quantize",
        choices=QUANTIZE,
        help="levels to 8 bits: round, floor (astype) or bins (matplotlib)",
    )


def run_export(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec export``: returns 0 if every input was exported (or skipped because its
    outputs existed), 1 if any input failed. Raises UsageError (exit 2) for bad options.

    Folders are exported by a process pool; the workers do not re-run the ``__main__``
    module (see :func:`livespec.export.run.run_jobs`)."""
    from livespec.export.run import run

    return run(ns, cfg)
