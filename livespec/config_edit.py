"""Saving settings into the user's TOML config file without disturbing the rest of it.

Only what ``livespec config --calibrate DB UNIT`` needs: set or remove keys of one flat
table (``[measure] calibration_db``/``calibration_unit``). The file is edited as text, so
comments, order and the other tables stay as they were: an existing ``key = ...`` line of
the table is replaced, a missing key is added at the end of the table, a missing table is
appended. The result is parsed again with ``tomllib`` and must equal the old content with
exactly the intended change, or nothing is written (a table written as dotted keys or an
inline table, say, is not edited; the message says what to add by hand). The file is
replaced atomically (temporary file, ``os.replace``), keeping its permissions; a symlink
is followed. Main thread (command line).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from livespec.config_file import file_kind
from livespec.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")

Value = str | float | None  # None: remove the key


def toml_value(v: str | float) -> str:
    """A TOML literal for a float or a string (a basic string with escapes).

    Raises:
        ValueError: a float that is not finite.
    """
    if isinstance(v, str):
        # JSON's escapes are valid in TOML basic strings; TOML also wants DEL escaped.
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007F")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{v!r} is not a finite number")
    return repr(f)


def _key_line(key: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")


def edit_table(text: str, table: str, values: Mapping[str, Value]) -> str:
    """``text`` with ``[table]``'s keys set to ``values`` (None removes a key).

    Lines of other tables, comments and blank lines are kept byte for byte. A new key goes
    after the table's last non-blank line; a missing table is appended at the end.
    """
    lines = text.splitlines(keepends=True)
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if (m := _TABLE_HEADER.match(line)) is not None and m.group(1) == table
        ),
        None,
    )
    adds = {k: v for k, v in values.items() if v is not None}
    if start is None:
        if not adds:
            return text
        out = text
        if out and not out.endswith("\n"):
            out += "\n"
        if out.strip():
            out += "\n"
        out += f"[{table}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in adds.items())
        return out
    end = next((j for j in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
    remaining = dict(values)
    region: list[str] = []
    for line in lines[start + 1 : end]:
        key = next((k for k in remaining if _key_line(k).match(line)), None)
        if key is None:
            region.append(line)
            continue
        v = remaining.pop(key)
        if v is not None:
            region.append(f"{key} = {toml_value(v)}\n")
    at = len(region)
    while at > 0 and not region[at - 1].strip():
        at -= 1
    if at > 0 and not region[at - 1].endswith("\n"):
        region[at - 1] += "\n"
    region[at:at] = [f"{k} = {toml_value(v)}\n" for k, v in remaining.items() if v is not None]
    header = lines[start] if lines[start].endswith("\n") else lines[start] + "\n"
    return "".join([*lines[:start], header, *region, *lines[end:]])


def _expected(old: dict[str, Any], table: str, values: Mapping[str, Value]) -> dict[str, Any]:
    new = copy.deepcopy(old)
    if all(v is None for v in values.values()) and table not in new:
        return new
    section = new.setdefault(table, {})
    for k, v in values.items():
        if v is None:
            section.pop(k, None)
        else:
            section[k] = v
    return new


def save_table_values(path: Path, table: str, values: Mapping[str, Value]) -> None:
    """Set (or remove, for None) keys of ``[table]`` in the TOML file at ``path``; create
    the file (and its folder) if missing.

    Raises:
        UsageError: the file cannot be read, is not valid TOML, cannot be edited safely as
            text, or cannot be written.
    """
    real = Path(os.path.realpath(path))
    with contextlib.suppress(OSError):  # missing: created below; unreadable: said below
        mode = real.stat().st_mode
        if not stat.S_ISREG(mode):  # a FIFO would block; /dev/null would be replaced
            raise UsageError(
                f"config file '{path}' is {file_kind(mode)}, not a regular file; "
                "nothing was changed"
            )
    try:
        old_text = real.read_text(encoding="utf-8") if real.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file '{path}': {exc}") from None
    bom = "\ufeff" if old_text.startswith("\ufeff") else ""  # read as absent, kept
    old_text = old_text[len(bom) :]
    try:
        old = tomllib.loads(old_text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}); nothing was changed") from None
    new_text = edit_table(old_text, table, values)
    try:
        ok = tomllib.loads(new_text) == _expected(old, table, values)
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        wanted = " and ".join(
            f"'{k} = {toml_value(v)}'" for k, v in values.items() if v is not None
        )
        raise UsageError(
            f"{path}: cannot update [{table}] safely (it is not written as a plain "
            f"'[{table}]' table); nothing was changed. "
            + (
                f"Put these lines under [{table}] by hand: {wanted}"
                if wanted
                else f"Remove {' and '.join(values)} from [{table}] by hand"
            )
        )
    _write_atomically(real, bom + new_text, path)


def _write_atomically(real: Path, text: str, shown: Path) -> None:
    tmp: str | None = None
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(real.stat().st_mode) if real.exists() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=".livespec-config-", suffix=".tmp", dir=real.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
        tmp = None
    except OSError as exc:
        raise UsageError(f"cannot write config file '{shown}': {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def save_calibration(path: Path, calibration_db: float | None, unit: str = "") -> None:
    """Store ``[measure] calibration_db``/``calibration_unit`` in the config file at
    ``path`` (None removes both). See :func:`save_table_values`."""
    if calibration_db is None:
        values: dict[str, Value] = {"calibration_db": None, "calibration_unit": None}
    else:
        values = {"calibration_db": float(calibration_db), "calibration_unit": unit}
    save_table_values(path, "measure", values)
