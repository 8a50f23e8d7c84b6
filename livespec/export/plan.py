"""``livespec export``'s options and inputs: the command line and config -> a
:class:`~livespec.export.job.ExportOptions`, the inputs and output options -> a list of
:class:`~livespec.export.job.Job` (output names, folder mirroring, collisions).

Every mistake is a :class:`~livespec.errors.UsageError` (one line, exit status 2), found
before any work starts.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Any

from livespec.config import Config
from livespec.dsp.cqt import C1_HZ, MAX_BPO, MIN_BPO
from livespec.dsp.scales import LOG_FLOOR_HZ
from livespec.errors import UsageError
from livespec.export.convention import convention_for
from livespec.export.dsp import AMIN_POWER, DBFS_FLOOR, LIKE, Recipe
from livespec.export.image import COLORMAP_NAMES, PNG_COMPRESS, parse_size
from livespec.export.inputs import audio_files, distinct_found, distinct_named, suffix_list
from livespec.export.io import ImageSpec
from livespec.export.job import FORMATS, STDIN, ExportOptions, Job
from livespec.export.naming import folder_outputs, output_kind
from livespec.export.single import scipy_available

LN_EPS = 1e-10  # --log ln: ln(power + 1e-10), the log_specgram recipe's eps

MAX_CLIP_S = 1e9  # --clip: finite (a clip of 30 years is one clip of any real file)


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


CQT_DEFAULT_HOP = 512  # librosa.cqt's
CQT_DEFAULT_OCTAVES = 7.0  # librosa.cqt's 84 bins at 12 per octave

# Options that do not apply to a scale: (option's dest, scales it applies to, why).
_APPLIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("n_mels", ("mel",), ""),
    ("bins_per_octave", ("log", "cqt"), ""),
    ("octaves", ("cqt",), ""),
    ("fmin", ("log", "mel", "cqt"), " (the export searches no peaks)"),
    ("fmax", ("log", "mel", "cqt"), " (the export searches no peaks)"),
    ("like", ("linear", "log", "mel"), " (it reproduces a library's STFT or mel spectrogram)"),
    ("fft", ("linear", "log", "mel"), " (the CQT's frame is its longest kernel)"),
    ("zero_pad", ("linear", "log", "mel"), " (the CQT's frame is its longest kernel)"),
    ("overlap", ("linear", "log", "mel"), " (give the CQT's --hop)"),
    ("center", ("linear", "log", "mel"), " (CQT frames are always centred)"),
    ("pad_mode", ("linear", "log", "mel"), " (CQT frames are always centred, zero-padded)"),
)


def check_applies(ns: argparse.Namespace, scale: str) -> None:
    """Refuse, in one line, an option given that does nothing with ``scale``."""
    for dest, scales, why in _APPLIES:
        if _given(ns, dest) and scale not in scales:
            flag = "--" + dest.replace("_", "-")
            where = " and ".join(f"--scale {s}" for s in scales)
            raise UsageError(f"{flag} does not apply to --scale {scale}: only to {where}{why}")


def _band_options(ns: argparse.Namespace, cfg: Config, scale: str, hop: int) -> dict[str, Any]:
    """Recipe fields of the log, mel and cqt scales: range, bands per octave, CQT bins."""
    a = cfg.analysis
    fmin = a.fmin if _given(ns, "fmin") else None
    fmax = a.fmax if _given(ns, "fmax") else None
    if scale == "mel":
        return {"fmin": fmin or 0.0, "fmax": fmax}
    bpo = getattr(ns, "bins_per_octave", None) or 12
    lo_bpo = MIN_BPO if scale == "cqt" else 1
    if not lo_bpo <= bpo <= MAX_BPO:
        raise UsageError(f"--bins-per-octave {bpo}: must be from {lo_bpo} to {MAX_BPO}")
    if fmin is not None and fmin <= 0:
        raise UsageError(f"--fmin {fmin:g}: must be above 0 Hz with --scale {scale}")
    if scale == "log":
        lo = LOG_FLOOR_HZ if fmin is None else fmin
        if fmax is not None and fmax < lo * 2.0 ** (1.0 / bpo):
            raise UsageError(f"--fmax {fmax:g}: must be at least one band above --fmin {lo:g}")
        return {"fmin": lo, "fmax": fmax, "bins_per_octave": bpo}
    lo = C1_HZ if fmin is None else fmin
    octaves = getattr(ns, "octaves", None)
    if octaves is not None and fmax is not None:
        raise UsageError("give --octaves or --fmax with --scale cqt, not both")
    if octaves is not None:
        if not 0 < octaves <= 12:
            raise UsageError(f"--octaves {octaves:g}: must be above 0 and at most 12")
        n_bins = max(1, round(octaves * bpo))
    elif fmax is not None:
        if fmax < lo:
            raise UsageError(f"--fmax {fmax:g}: must be above --fmin {lo:g}")
        n_bins = math.floor(bpo * math.log2(fmax / lo) + 1e-9) + 1
    else:
        n_bins = round(CQT_DEFAULT_OCTAVES * bpo)
    return {"fmin": lo, "bins_per_octave": bpo, "n_bins": n_bins, "hop": hop}


def build_recipe(ns: argparse.Namespace, cfg: Config) -> Recipe:
    """The analysis from the shared options, ``--like`` and the export options."""
    a = cfg.analysis
    like = getattr(ns, "like", None)
    top = _top_db(getattr(ns, "top_db", None))
    scale = getattr(ns, "scale", None) or "linear"
    check_applies(ns, scale)
    n_mels = getattr(ns, "n_mels", None) or 128
    if not 1 <= n_mels <= 1024:
        raise UsageError(f"--n-mels {n_mels}: must be from 1 to 1024")
    if scale == "cqt":
        hop = a.hop if a.hop is not None and _given(ns, "hop") else CQT_DEFAULT_HOP
        if not 1 <= hop <= 1 << 16:
            raise UsageError(f"--hop {hop}: must be from 1 to 65536 with --scale cqt")
        band = _band_options(ns, cfg, scale, hop)
        return Recipe(
            n=hop,  # the frame length follows the sample rate: resolved by for_rate()
            nfft=hop,
            window=a.window,
            beta=a.beta,
            center=True,
            top_db=None if top in (None, _OFF) else top,
            ref_max=getattr(ns, "db_ref", None) == "max",
            cqt=True,
            channel=None if cfg.source.channel is None else cfg.source.channel - 1,
            **band,
        )
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
    detrend = getattr(ns, "detrend", None)
    if detrend is not None:
        kw["detrend"] = detrend
    scaling = getattr(ns, "scaling", None)
    if scaling is not None:
        kw["level"] = scaling
        kw["floor"] = DBFS_FLOOR
    if getattr(ns, "log", None) == "ln":
        kw["log_base"] = "ln"
        kw["floor"] = LN_EPS
    if scipy_integer(ns):  # scipy's rounding of integer input (docs/export.md)
        single = kw.get("detrend", "none") == "none" and scipy_available()
        kw["precision"] = "single" if single else "mixed"
    if hop < 1 or hop > n:
        raise UsageError(f"--hop {hop}: must be from 1 to the frame length ({n})")
    channel = cfg.source.channel
    if scale in ("log", "mel"):
        kw.update(_band_options(ns, cfg, scale, hop))
    return Recipe(
        n=n,
        nfft=n * a.zero_pad,
        hop=hop,
        window=window,
        beta=a.beta,
        ref_max=ref_max,
        mel=scale == "mel",
        log=scale == "log",
        n_mels=n_mels,
        channel=None if channel is None else channel - 1,
        **kw,
    )


def scipy_integer(ns: argparse.Namespace) -> bool:
    """True for ``--like scipy --raw-int``: scipy's arithmetic for integer samples (single
    precision without detrending, a single-precision window with it)."""
    return getattr(ns, "like", None) == "scipy" and bool(getattr(ns, "raw_int", False))


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
    size_text = getattr(ns, "size", None)
    if size_text and size_text.strip().lower() != "native":
        try:
            size = parse_size(size_text)
        except ValueError as exc:
            raise UsageError(f"--size {ns.size}: must be {exc} (or native)") from None
    compress = getattr(ns, "png_compress", None)
    compress = PNG_COMPRESS if compress is None else compress
    if not 0 <= compress <= 9:
        raise UsageError(f"--png-compress {compress}: must be 0 (fastest) to 9 (smallest)")
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
    unit = "dBFS" if like is None and not recipe.ref_max and recipe.level == "dbfs" else "dB"
    if recipe.log_base == "ln":
        unit = "ln"
    convention = convention_for(
        like,
        origin=getattr(ns, "origin", None) or ("lower" if getattr(ns, "axes", False) else None),
        resize_filter=getattr(ns, "resize_filter", None),
        resize_on=getattr(ns, "resize_on", None),
        quantize=getattr(ns, "quantize", None),
    )
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
        convention=convention,
        compress=compress,
        # No --size: a readable default (docs/export.md, "PNG"); --like keeps the notebook's
        # one pixel per value, --axes its figure rules, --size native one pixel per value.
        fit=not size_text and like is None and not getattr(ns, "axes", False),
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
        raw_int=bool(getattr(ns, "raw_int", False)),
        backend=cfg.analysis.backend,
    )


# -- inputs and outputs ----------------------------------------------------------------------


def _wanted_formats(ns: argparse.Namespace) -> tuple[dict[str, Path | None], Path | None]:
    """Formats -> explicit file (or None: derive the name), and the output folder if any."""
    wanted: dict[str, Path | None] = {}
    out = Path(ns.output) if getattr(ns, "output", None) else None
    outdir: Path | None = None
    if out is not None:
        kind = output_kind(str(ns.output))
        if kind is None:
            outdir = out
        else:
            wanted[kind] = out
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


def plan_jobs(ns: argparse.Namespace) -> tuple[list[Job], int, list[str]]:
    """The jobs for the inputs and output options, the number of non-audio files ignored
    in folders, and notes for stderr (a file named twice is one job). Raises UsageError
    for missing inputs, ambiguous or colliding outputs."""
    inputs = [Path(p) for p in ns.inputs]
    wanted, outdir = _wanted_formats(ns)
    if STDIN in inputs:
        return [_stdin_job(inputs, wanted, outdir)], 0, []
    for p in inputs:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    inputs, notes = distinct_named(inputs)
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
        found: list[tuple[Path, Path]] = []  # (input, its path relative to the output folder)
        for src in inputs:
            if src.is_dir():
                files, others = audio_files(src)
                ignored += others
                found.extend((f, f.relative_to(src)) for f in files)
            else:
                found.append((src, Path(src.name)))
        found, again = distinct_found(found)
        notes += again
        named_outs = folder_outputs(found, outdir, list(wanted))
        for (f, _), f_outs in zip(found, named_outs, strict=True):
            jobs.append(Job(f, f_outs, str(f)))
        if not jobs:
            where = ", ".join(str(p) for p in inputs)
            raise UsageError(f"no audio files in {where} (looked for {suffix_list()})")
    seen: dict[Path, str] = {}
    for job in jobs:
        for _, p in job.outputs:
            key = Path(os.path.abspath(p))
            if key in seen:
                raise UsageError(f"{seen[key]} and {job.label} would both write {p}")
            seen[key] = job.label
            if key == Path(os.path.abspath(job.input)):
                raise UsageError(f"{p}: the output would overwrite the input")
    return jobs, ignored, notes


def _stdin_job(inputs: list[Path], wanted: dict[str, Path | None], outdir: Path | None) -> Job:
    """The one job of ``livespec export -``: stdin has no name, so the outputs are files."""
    if len(inputs) > 1:
        raise UsageError("export -: stdin is the only input it can take")
    named = next((p for p in wanted.values() if p is not None), None)
    if named is None:
        raise UsageError("export -: stdin has no name; give the output file: -o NAME.png|.npy|.csv")
    outs = tuple(
        (fmt, p if p is not None else named.with_suffix(f".{fmt}")) for fmt, p in wanted.items()
    )
    return Job(STDIN, outs, "stdin")
