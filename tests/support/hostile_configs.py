"""Hostile config files for tests/hostile/test_hostile_configs.py: special files, huge and
deep documents, wrong types in every table, non-finite numbers, unknown names, control
characters, bad encodings.

Each :class:`ConfigCase` builds its file in a folder it is given and returns the path to
pass as ``--config``; ``status`` is the documented exit status of ``livespec config`` and
of ``livespec peaks --input tone:1000 --duration 0.1`` with it (docs/cli.md, "Config
file"): 0 for a file livespec reads, 2 for one it refuses in one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Make = Callable[[Path], Path]
READ = (0, 0)
REFUSED = (2, 2)


@dataclass(frozen=True)
class ConfigCase:
    """A hostile config: ``make`` builds it; ``status`` is (config, peaks)."""

    name: str
    make: Make
    status: tuple[int, int]


def _text(text: str) -> Make:
    return _bytes(text.encode("utf-8"))


def _bytes(content: bytes | Callable[[], bytes]) -> Make:
    def make(d: Path) -> Path:
        p = d / "config.toml"
        p.write_bytes(content() if callable(content) else content)
        return p

    return make


def _existing(path: str) -> Make:
    return lambda d: Path(path)


def _loop(d: Path) -> Path:
    p = d / "loop.toml"
    os.symlink(p, p)
    return p


def _dangling(d: Path) -> Path:
    p = d / "dangling.toml"
    os.symlink(d / "nowhere.toml", p)
    return p


def _folder(d: Path) -> Path:
    p = d / "folder.toml"
    p.mkdir()
    return p


def _fifo(d: Path) -> Path:
    p = d / "fifo.toml"
    os.mkfifo(p)  # nobody ever writes to it
    return p


def _garbage() -> bytes:
    return np.random.default_rng(7).bytes(4096)


def _deep(opening: str, closing: str, depth: int = 5000) -> str:
    return "[analysis]\nfft = " + opening * depth + "1" + closing * depth + "\n"


CONFIG_CASES: list[ConfigCase] = [
    # special files and links
    ConfigCase("dev-zero", _existing("/dev/zero"), REFUSED),
    ConfigCase("dev-null", _existing("/dev/null"), READ),  # the usual "no config at all"
    ConfigCase("dev-urandom", _existing("/dev/urandom"), REFUSED),
    ConfigCase("symlink-loop", _loop, REFUSED),
    ConfigCase("dangling-symlink", _dangling, REFUSED),
    ConfigCase("folder", _folder, REFUSED),
    ConfigCase("fifo-no-writer", _fifo, REFUSED),
    # size and depth
    ConfigCase("huge-2mib", _bytes(b"# comment\n" * 200_000), REFUSED),
    ConfigCase("just-under-1mib", _bytes(b"#" * 999_999 + b"\n"), READ),
    ConfigCase("array-5000-deep", _text(_deep("[", "]")), REFUSED),
    ConfigCase("inline-table-5000-deep", _text(_deep("{a=", "}")), REFUSED),
    ConfigCase("array-40-deep", _text(_deep("[", "]", 40)), REFUSED),
    ConfigCase("dotted-table-200-deep", _text("[" + ".".join(["a"] * 200) + "]\n"), REFUSED),
    ConfigCase("huge-string-value", _text('[analysis]\nfft = "' + "9" * 900_000 + '"\n'), REFUSED),
    ConfigCase("huge-array-value", _text("[analysis]\nfmax = [" + "1," * 200_000 + "]\n"), REFUSED),
    # wrong types, one table at a time
    ConfigCase("source-wrong-type", _text('[source]\nsamplerate = "fast"\n'), REFUSED),
    ConfigCase("analysis-wrong-type", _text("[analysis]\nfft = true\n"), REFUSED),
    ConfigCase("display-wrong-type", _text("[display]\nspectrum = 3\n"), REFUSED),
    ConfigCase("measure-wrong-type", _text('[measure]\ncalibration_db = "loud"\n'), REFUSED),
    ConfigCase("table-is-a-number", _text("source = 5\n"), REFUSED),
    ConfigCase("array-of-tables", _text("[[analysis]]\nfft = 1024\n"), REFUSED),
    ConfigCase("date-as-number", _text("[analysis]\nfft = 1979-05-27\n"), REFUSED),
    ConfigCase("integer-overflow", _text("[analysis]\nfft = 99999999999999999999999\n"), REFUSED),
    # non-finite numbers
    ConfigCase("nan-overlap", _text("[analysis]\noverlap = nan\n"), REFUSED),
    ConfigCase("inf-a4", _text("[analysis]\na4 = inf\n"), REFUSED),
    ConfigCase("minus-inf-db-min", _text("[display]\ndb_min = -inf\n"), REFUSED),
    ConfigCase("nan-calibration", _text("[measure]\ncalibration_db = nan\n"), REFUSED),
    # unknown names
    ConfigCase("unknown-key", _text("[analysis]\nfft_size = 1024\n"), REFUSED),
    ConfigCase("unknown-table", _text("[audio]\nrate = 48000\n"), REFUSED),
    ConfigCase("unknown-key-escape", _text('[analysis]\n"\\u001b]2;PWNED\\u0007" = 1\n'), REFUSED),
    ConfigCase("unknown-table-huge-name", _text("[" + "t" * 100_000 + "]\n"), REFUSED),
    # control characters in values: read, and shown escaped by `livespec config`
    ConfigCase(
        "escape-in-record-dir", _text('[display]\nrecord_dir = "\\u001b]2;PWNED\\u0007"\n'), READ
    ),
    ConfigCase("csi-in-unit", _text('[measure]\ncalibration_unit = "\\u009b2J dB"\n'), READ),
    ConfigCase("newline-in-record-dir", _text('[display]\nrecord_dir = "two\\nlines"\n'), READ),
    ConfigCase("escape-in-bad-value", _text('[analysis]\nwindow = "\\u001b[2J"\n'), REFUSED),
    ConfigCase("raw-escape-in-file", _bytes(b"[analysis]\nfft = 1024 \x1b[2J\n"), REFUSED),
    # encodings
    ConfigCase("binary-garbage", _bytes(_garbage), REFUSED),
    ConfigCase("invalid-utf8", _bytes(b'[display]\nrecord_dir = "\xff\xfe"\n'), REFUSED),
    ConfigCase("utf8-bom", _bytes(b"\xef\xbb\xbf[analysis]\nfft = 2048\n"), READ),
    ConfigCase("utf16", _bytes("[analysis]\nfft = 2048\n".encode("utf-16")), REFUSED),
    ConfigCase("empty", _bytes(b""), READ),
    ConfigCase("nul-bytes", _bytes(b"\x00" * 1000), REFUSED),
]


# -- hostile export requests -------------------------------------------------------------------

Args = Callable[[Path], list[str]]


@dataclass(frozen=True)
class ExportCase:
    """A hostile ``livespec export`` request: ``args`` builds its arguments in a folder
    that holds ``in.wav`` (3 s, 48 kHz); ``status`` is the documented exit status."""

    name: str
    args: Args
    status: int


def good_input(d: Path) -> Path:
    """A 3-second 48 kHz sine, ``d/in.wav``."""
    import soundfile as sf

    p = d / "in.wav"
    sf.write(p, (0.3 * np.sin(np.arange(3 * 48000) * 0.1)).astype(np.float32), 48000)
    return p


def _export(*extra: str) -> Args:
    return lambda d: ["export", str(d / "in.wav"), *extra]


def _to_o(*extra: str) -> Args:
    """``export in.wav EXTRA -o d/o``."""
    return lambda d: ["export", str(d / "in.wav"), *extra, "-o", str(d / "o")]


def _out_file(d: Path) -> list[str]:
    (d / "afile").write_text("x")
    return ["export", str(d / "in.wav"), "-o", str(d / "afile")]


def _config(make: Make) -> Args:
    return lambda d: ["export", str(d / "in.wav"), "-o", str(d / "o"), "--config", str(make(d))]


EXPORT_CASES: list[ExportCase] = [
    ExportCase("o-is-a-file", _out_file, 2),
    ExportCase("o-is-dev-null", _export("-o", "/dev/null"), 2),
    ExportCase("input-dev-zero", lambda d: ["export", "/dev/zero", "-o", str(d / "o")], 1),
    ExportCase("input-dev-urandom", lambda d: ["export", "/dev/urandom", "-o", str(d / "o")], 1),
    ExportCase("config-dev-zero", _config(_existing("/dev/zero")), 2),
    ExportCase("config-fifo", _config(_fifo), 2),
    ExportCase("config-5000-deep", _config(_text(_deep("[", "]"))), 2),
    ExportCase("clip-inf", _to_o("--clip", "inf"), 2),
    ExportCase("clip-nan", _to_o("--clip", "nan"), 2),
    ExportCase("clip-1e-9", _to_o("--clip", "1e-9"), 1),
    ExportCase("size-huge", _to_o("--size", "100000x100000"), 2),
    ExportCase("fft-1e9", _to_o("--fft", "1000000000"), 2),
    ExportCase("hop-0", _to_o("--hop", "0"), 2),
    ExportCase("n-mels-100000", _to_o("--scale", "mel", "--n-mels", "100000"), 2),
    ExportCase("jobs-0", _to_o("--jobs", "0"), 2),
    ExportCase("top-db-nan", _to_o("--top-db", "nan"), 2),
    ExportCase("db-min-nan", _to_o("--db-min", "nan"), 2),
    ExportCase("name-with-escape", lambda d: _export("-o", str(d / "\x1b]2;x\x07.npy"))(d), 0),
]
