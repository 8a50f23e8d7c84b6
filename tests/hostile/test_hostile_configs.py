"""Every hostile config file through ``livespec config`` and ``livespec peaks``, the
limits of ``--preroll``, and hostile ``livespec export`` requests.

For each (case, command): the documented exit status (tests/support/hostile_configs.py),
stderr empty on success or exactly one ``livespec:`` line otherwise (no traceback), no
raw control character in any output, peak RSS under 200 MB, done within 10 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import MAX_SECONDS, check, run
from support.hostile_configs import CONFIG_CASES, EXPORT_CASES, ConfigCase, ExportCase, good_input

COMMANDS = ("config", "peaks")


def _args(command: str, path: Path) -> list[str]:
    if command == "config":
        return ["config", "--config", str(path)]
    return ["peaks", "--config", str(path), "--input", "tone:1000", "--duration", "0.1"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.name)
def test_hostile_config(case: ConfigCase, command: str, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    result = run(_args(command, path), timeout=MAX_SECONDS)
    check(result, case.status[COMMANDS.index(command)])
    if command == "config" and case.status[0] == 0:
        assert result.stdout.startswith("# config file: ")


def test_there_are_enough_config_cases() -> None:
    assert len(CONFIG_CASES) >= 20
    assert len({c.name for c in CONFIG_CASES}) == len(CONFIG_CASES)


@pytest.mark.parametrize("value", ["3000", "1e9", "-1", "nan", "inf"])
@pytest.mark.parametrize("command", ["record", "app"])
def test_preroll_is_limited_to_60_seconds(value: str, command: str, tmp_path: Path) -> None:
    """``--preroll 3000`` once held 1.16 GB, ``--preroll 1e9`` ran out of memory."""
    if command == "record":
        args = ["record", str(tmp_path / "x.wav"), "--input", "tone:1000", "--duration", "0.1"]
    else:
        args = ["--input", "tone:1000"]
    result = run([*args, f"--preroll={value}"], timeout=MAX_SECONDS)
    check(result, 2)
    assert result.stderr == f"livespec: --preroll {value}: must be from 0 to 60 seconds\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", EXPORT_CASES, ids=lambda c: c.name)
def test_hostile_export(case: ExportCase, tmp_path: Path) -> None:
    good_input(tmp_path)
    result = run(case.args(tmp_path), timeout=MAX_SECONDS)
    check(result, case.status)


def test_an_export_that_cannot_fit_is_refused_before_any_work(tiny_disk: Path) -> None:
    """The size of an NPY is known before the analysis: 3 s at hop 64 and fft 4096 is
    about 18 MB, on a 1 MiB disk."""
    good_input(tiny_disk.parent)
    out = tiny_disk / "x.npy"
    result = run(["export", str(tiny_disk.parent / "in.wav"), "-o", str(out), "--hop", "64"])
    check(result, 1)
    src = tiny_disk.parent / "in.wav"
    assert result.stderr.startswith(f"livespec: {src}: not enough space: the output needs 17.9 MB")
    assert result.stderr.endswith(f"{tiny_disk} has 1.0 MB free\n")
    assert list(tiny_disk.iterdir()) == []


def test_a_long_layout_csv_that_cannot_fit_is_refused_before_any_work(tiny_disk: Path) -> None:
    """A long-layout CSV holds a line of about 29 bytes per value (time, Hz, level), not
    the wide layout's 8 or so: its estimate took the wide one's, passed, and the disk
    filled ("No space left on device" after the work). 274 frames of 128 mel bands:
    0.56 MB estimated as wide (fits in 1 MiB), 1.2 MB as long (does not)."""
    src = good_input(tiny_disk.parent)
    out = tiny_disk / "x.csv"
    args = ["export", str(src), "-o", str(out), "--scale", "mel", "--hop", "512"]
    result = run([*args, "--csv-layout", "long"])
    check(result, 1)
    assert result.stderr == (
        f"livespec: {src}: not enough space: the output needs 1.2 MB, {tiny_disk} has 1.0 MB free\n"
    )
    assert list(tiny_disk.iterdir()) == []
    check(run(args), 0)  # the wide layout fits
    assert [p.name for p in tiny_disk.iterdir()] == ["x.csv"]


def test_an_output_that_cannot_be_written_is_named_not_its_temporary_file(
    tmp_path: Path,
) -> None:
    """On a read-only file system the line named the hidden temporary file the export
    tried to create (``Read-only file system (out/.x.npy.livespec-PID-XXXXXXXX.part)``),
    a name the user never gave; it names the output."""
    import subprocess

    src = good_input(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,ro", "tmpfs", str(ro)], check=True)
    try:
        for name in ("x.npy", "x.png", "x.csv", "x.html", "x.svg"):
            result = run(["export", str(src), "-o", str(ro / name)])
            check(result, 1)
            assert result.stderr == f"livespec: {src}: Read-only file system ({ro / name})\n"
    finally:
        subprocess.run(["umount", str(ro)], check=True)
