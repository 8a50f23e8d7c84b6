"""Reading the config file with limits: what a hostile or mistaken path cannot do.

A config path may name anything: ``/dev/zero`` (endless), a FIFO with no writer (blocks
forever), a folder, a symbolic link loop, a huge or binary file, a TOML document nested
thousands of levels deep. :func:`read_toml` refuses each in one line
(:class:`~livespec.errors.UsageError`, exit status 2) before it costs memory or time:

- only a regular file is read (a link to one is fine), or ``/dev/null`` (no settings);
  anything else (a folder, a FIFO, a device, a socket, a link loop) is named and refused;
- at most :data:`MAX_CONFIG_BYTES` are read; a larger file is refused;
- the text must be UTF-8 (a leading byte-order mark is allowed and ignored);
- tables, arrays and inline tables may nest at most :data:`MAX_CONFIG_DEPTH` levels.
- each setting's value must be of its TOML type (:func:`check_types`: ``fft = 4096``,
  not ``"4096"``).

Caller's thread; no state.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livespec.errors import UsageError

MAX_CONFIG_BYTES = 1 << 20  # 1 MiB: a config file is a few hundred bytes
MAX_CONFIG_DEPTH = 32  # arrays / inline tables inside each other
MAX_SHOWN = 60  # characters of a value or key quoted in an error message

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a ``st_mode`` that is not a regular file's names (``a FIFO (named pipe)``)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters (with ``...``), for an error message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    return (exc.strerror or str(exc)).lower() if exc.errno is not None else str(exc)


def _is_devnull(st: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return (st.st_dev, st.st_ino, st.st_rdev) == (null.st_dev, null.st_ino, null.st_rdev)


def read_bytes(path: Path, explicit: bool) -> bytes | None:
    """The file's bytes; None for a missing file that was not named explicitly."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if explicit or path.is_symlink():  # a dangling link is a mistake worth a word
            what = "is a dangling symbolic link" if path.is_symlink() else "does not exist"
            raise UsageError(f"config file '{path}' {what}") from None
        return None
    except OSError as exc:
        raise UsageError(f"cannot read config file '{path}': {_reason(exc)}") from None
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if stat.S_ISCHR(mode) and _is_devnull(st):
            return b""  # --config /dev/null: the usual way to say "no config file"
        if not stat.S_ISREG(mode):
            raise UsageError(f"config file '{path}' is {file_kind(mode)}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_CONFIG_BYTES:
            raise UsageError(
                f"config file '{path}' is larger than {MAX_CONFIG_BYTES >> 20} MiB "
                "(a config file is a few hundred bytes)"
            )
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read config file '{path}': {_reason(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _depth(value: object, limit: int) -> int:
    """Nesting depth of arrays and tables in ``value`` (stops counting past ``limit``)."""
    if limit < 0 or not isinstance(value, (list, dict)):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(v, limit - 1) for v in items), default=0)


def read_toml(path: Path, explicit: bool = False) -> dict[str, Any] | None:
    """The parsed config file at ``path``; None for a missing default file.

    Raises:
        UsageError: the file cannot be read, is not a regular file, is too large, is not
            UTF-8, is not TOML, or nests too deeply (one line, exit status 2).
    """
    raw = read_bytes(path, explicit)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    too_deep = f"{path}: tables or arrays nested more than {MAX_CONFIG_DEPTH} levels deep"
    # Imported here: most runs have no config file (2 ms of start-up with datetime).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {shorten(str(exc), 120)}") from None
    except RecursionError:
        raise UsageError(too_deep) from None
    if _depth(data, MAX_CONFIG_DEPTH + 1) > MAX_CONFIG_DEPTH:
        raise UsageError(too_deep)
    return data


# Settings typed text whose validators also take a number: a device's index, seconds.
TEXT_OR_NUMBER = frozenset({"device", "latency"})
_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "true/false"),
    (int, "an integer"),
    (float, "a number with a fraction"),
    (str, "text"),
    (list, "an array"),
    (dict, "a table"),
)


def toml_shown(value: object) -> str:
    """``value`` as TOML spells it (``true``, ``"text"``), cut short, for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return shorten(toml_string(value))
    return shorten(repr(value))


def _expected(hint: object, key: str) -> tuple[tuple[type, ...], str]:
    """The TOML types a setting typed ``hint`` takes, and how a message names them."""
    text = str(hint)
    if "bool" in text:
        return (bool,), "true or false"
    if "int" in text:
        return (int,), "an integer"
    if "float" in text:
        return (int, float), "a number"
    if key in TEXT_OR_NUMBER:
        return (str, int, float), "text or a number"
    return (str,), "text"


def check_types(
    cls: type, values: dict[str, Any], where: Callable[[str, object], str]
) -> dict[str, Any]:
    """``values`` from the file's table for the settings class ``cls``, each checked to be
    of its setting's TOML type (an integer, a number, true/false or text; TOML is typed, so
    ``fft = "4096"`` is a mistake, not a spelling). Unknown keys pass (the validators name
    them). Raises :class:`UsageError` naming ``where(key, value)`` and both types."""
    import typing

    hints = typing.get_type_hints(cls)
    for key, value in values.items():
        if key not in hints:
            continue
        allowed, what = _expected(hints[key], key)
        if isinstance(value, allowed) and (bool in allowed or not isinstance(value, bool)):
            continue
        got = next((name for t, name in _TYPE_NAMES if isinstance(value, t)), "another type")
        raise UsageError(f"{where(key, value)}: must be {what}, not {got}")
    return values


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters
    escaped, so that printing it never lets a terminal act on what a file contained."""
    out = []
    for c in text:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif o < 0x20 or 0x7F <= o <= 0x9F:
            out.append(f"\\u{o:04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'
