"""``livespec export``'s options and inputs: the command line and config -> a
:class:`~livespec.export.job.ExportOptions`, the inputs and output options -> a list of
:class:`~livespec.export.job.Job` (output names, folder mirroring, collisions).

Every mistake is a :class:`~livespec.errors.UsageError` (one line, exit status 2), found
before any work starts.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from livespec.config import Config
from livespec.errors import UsageError
from livespec.export.dsp import AMIN_POWER, DBFS_FLOOR, LIKE, Recipe
from livespec.export.html import PageSpec
from livespec.export.image import COLORMAP_NAMES, parse_size
from livespec.export.io import ImageSpec
from livespec.export.job import FORMATS, ExportOptions, Job
from livespec.export.media import AUDIO_MODES

MAX_CLIP_S = 1e9  # --clip: finite (a clip of 30 years is one clip of any real file)

AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc"}
    | {".au", ".snd", ".caf", ".w64", ".rf64"}
)


# -- options -------------------------------------------------------------------------------


def _given(ns: argparse.Namespace, name: str) -> bool:
    return getattr(ns, name, None) is not None


_OFF = -1.0  # --top-db none


def _top_db(text: str | float | None) -> float | None:
    """--top-db: None when not given, ``_OFF`` for 'none', else a positive number (dB)."""
    if text is None:
        return None
    if str(text).lower() in ("none", "off"):
        return _OFF
    try:
        v = float(text)
    except ValueError:
        v = 0.0
    if not 0 < v < float("inf"):
        raise UsageError(f"--top-db {text}: must be a positive number or 'none'")
    return v


def build_recipe(ns: argparse.Namespace, cfg: Config) -> Recipe:
    """The analysis from the shared options, ``--like`` and the export options."""
    a = cfg.analysis
    like = getattr(ns, "like", None)
    top = _top_db(getattr(ns, "top_db", None))
    scale = getattr(ns, "scale", None) or "linear"
    n_mels = getattr(ns, "n_mels", None) or 128
    if not 1 <= n_mels <= 1024:
        raise UsageError(f"--n-mels {n_mels}: must be from 1 to 1024")
    center = getattr(ns, "center", None)
    pad_mode = getattr(ns, "pad_mode", None)
    ref_max = getattr(ns, "db_ref", None) == "max"
    hop_given = _given(ns, "hop") or _given(ns, "overlap")
    if like is None:
        n, hop, window = a.fft, a.hop_samples, a.window
        kw: dict[str, Any] = dict(
            center=bool(center),
            pad_mode=pad_mode or "constant",
            level="dbfs",
            floor=DBFS_FLOOR,
            top_db=top,
        )
    else:
        d = LIKE[like]
        n = a.fft if _given(ns, "fft") else d.fft
        hop = a.hop_samples if hop_given else d.hop(n)
        window = a.window if _given(ns, "window") else d.window
        kw = dict(
            center=d.center if center is None else bool(center),
            pad_mode=pad_mode or d.pad_mode,
            detrend=d.detrend,
            level=d.level,
            floor=d.floor if d.level != "power" else AMIN_POWER,
            top_db=d.top_db if top is None else top,
            mel_htk=d.mel_htk,
            mel_norm=d.mel_norm,
            mel_torch_freqs=d.mel_torch_freqs,
        )
    if kw["top_db"] == _OFF:
        kw["top_db"] = None
    if hop < 1 or hop > n:
        raise UsageError(f"--hop {hop}: must be from 1 to the frame length ({n})")
    channel = cfg.source.channel
    return Recipe(
        n=n,
        nfft=n * a.zero_pad,
        hop=hop,
        window=window,
        beta=a.beta,
        ref_max=ref_max,
        mel=scale == "mel",
        n_mels=n_mels,
        channel=None if channel is None else channel - 1,
        **kw,
    )


def _number(ns: argparse.Namespace, name: str) -> float | None:
    """A float option (also when a shared parser defined it as text)."""
    v = getattr(ns, name, None)
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise UsageError(f"--{name.replace('_', '-')} {v}: must be a number") from None


def build_options(ns: argparse.Namespace, cfg: Config) -> ExportOptions:
    """Validated :class:`ExportOptions` from the parsed arguments and the config."""
    recipe = build_recipe(ns, cfg)
    size = None
    if getattr(ns, "size", None):
        try:
            size = parse_size(ns.size)
        except ValueError as exc:
            raise UsageError(f"--size {ns.size}: must be {exc}") from None
    colormap = (getattr(ns, "colormap", None) or cfg.display.colormap).lower()
    if colormap == "gray":
        colormap = "grey"
    if colormap not in COLORMAP_NAMES:
        raise UsageError(f"--colormap {colormap}: must be one of {', '.join(COLORMAP_NAMES)}")
    like = getattr(ns, "like", None)
    db_min = _number(ns, "db_min")
    db_max = _number(ns, "db_max")
    if db_min is None and db_max is None and like is None and recipe.top_db is None:
        db_min, db_max = cfg.display.db_min, cfg.display.db_max
        if recipe.ref_max:
            db_min, db_max = db_min - db_max, 0.0
    if db_min is not None and db_max is not None and not db_max > db_min:
        raise UsageError(f"--db-max {db_max:g} must be above --db-min {db_min:g}")
    unit = "dBFS" if like is None and not recipe.ref_max else "dB"
    image = ImageSpec(
        size=size,
        gray=bool(getattr(ns, "gray", False)),
        colormap=colormap,
        axes=bool(getattr(ns, "axes", False)),
        scale=getattr(ns, "scale", None) or "linear",
        db_min=db_min,
        db_max=db_max,
        top_db=recipe.top_db,
        unit=unit,
    )
    clip = getattr(ns, "clip", None)
    if clip is not None and not 0 < clip < MAX_CLIP_S:
        raise UsageError(
            f"--clip {clip:g}: must be a positive number of seconds, below {MAX_CLIP_S:g}"
        )
    jobs = getattr(ns, "jobs", None)
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be at least 1")
    if recipe.nfft > 1 << 20:
        raise UsageError("--fft times --zero-pad must not exceed 1048576")
    return ExportOptions(
        recipe=recipe,
        image=image,
        clip=clip,
        keep_partial=bool(getattr(ns, "keep_partial", False)),
        csv_layout=getattr(ns, "csv_layout", None) or "wide",
        force=bool(getattr(ns, "force", False)),
        backend=cfg.analysis.backend,
    )


def build_page(ns: argparse.Namespace, jobs: list[Job]) -> PageSpec:
    """``--audio``, ``--overlay`` and ``--labels``: checked against the outputs (they apply
    to .html pages, overlays and labels also to .svg figures, and to one input) and read.
    Raises UsageError, or :class:`~livespec.annotate.AnnotationError` naming the file and
    line (both exit status 2)."""
    from livespec.annotate.curves import read_curve
    from livespec.annotate.labels import read_labels

    audio = getattr(ns, "audio", None)
    overlays = list(getattr(ns, "overlay", None) or [])
    labels = getattr(ns, "labels", None)
    fmts = {fmt for job in jobs for fmt, _ in job.outputs}
    if audio is not None:
        if audio not in AUDIO_MODES:
            raise UsageError(f"--audio {audio}: must be one of {', '.join(AUDIO_MODES)}")
        if "html" not in fmts:
            raise UsageError("--audio applies to an HTML page: give -o FILE.html")
    if overlays or labels is not None:
        what = "--overlay" if overlays else "--labels"
        if not fmts & {"html", "svg"}:
            raise UsageError(f"{what} applies to .html and .svg outputs: give -o FILE.html")
        if len(jobs) != 1:
            raise UsageError(f"{what} belongs to one recording: give one input file")
    if getattr(ns, "size", None) and fmts == {"html"}:
        raise UsageError("--size applies to .png and .svg outputs (the page's plot is 900x360)")
    curves = tuple(read_curve(p) for p in overlays)
    marks = tuple(read_labels(labels)) if labels is not None else ()
    return PageSpec(audio=audio or "embed", curves=curves, labels=marks)


# -- inputs and outputs ----------------------------------------------------------------------


def _wanted_formats(ns: argparse.Namespace) -> tuple[dict[str, Path | None], Path | None]:
    """Formats -> explicit file (or None: derive the name), and the output folder if any."""
    wanted: dict[str, Path | None] = {}
    out = Path(ns.output) if getattr(ns, "output", None) else None
    outdir: Path | None = None
    if out is not None:
        fmt = out.suffix.lower().lstrip(".")
        if fmt in FORMATS and not out.is_dir():
            wanted[fmt] = out
        else:
            outdir = out
    for fmt in FORMATS:
        v = getattr(ns, fmt, None)
        if v is None:
            continue
        if v == "":
            wanted.setdefault(fmt, None)
            continue
        p = Path(v)
        if p.suffix.lower() != f".{fmt}":
            raise UsageError(
                f"--{fmt} {v}: the file must end in .{fmt} (write --{fmt}=FILE, or put the "
                "inputs first)"
            )
        if wanted.get(fmt) not in (None, p):
            raise UsageError(f"two .{fmt} outputs given: {wanted[fmt]} and {p}")
        wanted[fmt] = p
    if outdir is not None and outdir.exists() and not outdir.is_dir():
        raise UsageError(
            f"-o {outdir}: exists and is not a folder (an output file's name ends in "
            ".png, .npy, .csv, .html or .svg)"
        )
    if not wanted:
        if outdir is None:
            raise UsageError(
                "say where to write: -o FILE.png|.npy|.csv|.html|.svg, -o FOLDER, or --npy FILE"
            )
        wanted["png"] = None
    return wanted, outdir


def _audio_files(root: Path) -> tuple[list[Path], int]:
    """Audio files under ``root`` (sorted, hidden names skipped) and the count of others."""
    found: list[Path] = []
    others = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in AUDIO_SUFFIXES:
                found.append(Path(dirpath) / name)
            else:
                others += 1
    return found, others


def plan_jobs(ns: argparse.Namespace) -> tuple[list[Job], int]:
    """The jobs for the inputs and output options, and the number of non-audio files
    ignored in folders. Raises UsageError for missing inputs, ambiguous or colliding
    outputs."""
    inputs = [Path(p) for p in ns.inputs]
    for p in inputs:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    wanted, outdir = _wanted_formats(ns)
    single = len(inputs) == 1 and not inputs[0].is_dir()
    jobs: list[Job] = []
    ignored = 0
    if single:
        src = inputs[0]
        named = next((p for p in wanted.values() if p is not None), None)
        outs: list[tuple[str, Path]] = []
        for fmt, given in wanted.items():
            if given is not None:
                dest = given
            elif outdir is not None:
                dest = outdir / f"{src.stem}.{fmt}"
            elif named is not None:
                dest = named.with_suffix(f".{fmt}")
            else:  # pragma: no cover - _wanted_formats guarantees one of them
                raise UsageError("say where to write with -o")
            outs.append((fmt, dest))
        jobs.append(Job(src, tuple(outs), str(src)))
    else:
        files_named = [p for p in wanted.values() if p is not None]
        if files_named or outdir is None:
            first = files_named[0] if files_named else "an output file"
            raise UsageError(
                f"{first} names one file, but the inputs are several files or a folder; "
                "give -o FOLDER (and --npy/--csv/--png without FILE)"
            )
        for src in inputs:
            if src.is_dir():
                files, others = _audio_files(src)
                ignored += others
                for f in files:
                    rel = f.relative_to(src)
                    outs = [(fmt, outdir / rel.with_suffix(f".{fmt}")) for fmt in wanted]
                    jobs.append(Job(f, tuple(outs), str(f)))
            else:
                outs = [(fmt, outdir / f"{src.stem}.{fmt}") for fmt in wanted]
                jobs.append(Job(src, tuple(outs), str(src)))
        if not jobs:
            where = ", ".join(str(p) for p in inputs)
            raise UsageError(f"no audio files in {where} (looked for {_suffix_list()})")
    seen: dict[Path, str] = {}
    for job in jobs:
        for _, p in job.outputs:
            key = Path(os.path.abspath(p))
            if key in seen:
                raise UsageError(f"{seen[key]} and {job.label} would both write {p}")
            seen[key] = job.label
            if key == Path(os.path.abspath(job.input)):
                raise UsageError(f"{p}: the output would overwrite the input")
    return jobs, ignored


def _suffix_list() -> str:
    return " ".join(sorted(AUDIO_SUFFIXES))
