"""Calibration kept in the config file: ``livespec config --calibrate DB UNIT`` writes
``[measure]`` without disturbing the rest of the file; ``livespec measure`` and the app
read it back; the app's ``--calibrate`` and ``--average`` options."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RunLivespec
from support.app import make_rig, sync

from livespec.cli import main, resolve_config
from livespec.cli.parsers import build_parser
from livespec.config import load_file
from livespec.config_edit import edit_table, save_calibration, toml_value
from livespec.dsp.averaging import AverageSpec
from livespec.errors import UsageError
from livespec.tui.widgets.measure_panel import MeasurePanel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXISTING = """\
# my livespec settings
[analysis]
fft = 8192   # bigger
window = "flattop"

[measure]
# the mic on channel 1
calibration_unit = "dBV"

[display]
colormap = "magma"
"""


def test_config_calibrate_saves_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(EXISTING)
    path.chmod(0o600)
    assert main(["config", "--config", str(path), "--calibrate", "114", "dB SPL"]) == 0
    out = capsys.readouterr().out
    assert f"# saved calibration 114 dB SPL in {path}" in out
    assert "calibration_db = 114.0" in out and 'calibration_unit = "dB SPL"' in out
    text = path.read_text()
    # every other line is as it was, the key replaced in place, the new one added
    assert text == EXISTING.replace(
        'calibration_unit = "dBV"\n', 'calibration_unit = "dB SPL"\ncalibration_db = 114.0\n'
    )
    assert path.stat().st_mode & 0o777 == 0o600
    cfg = load_file(path)
    assert (cfg.measure.calibration_db, cfg.measure.calibration_unit) == (114.0, "dB SPL")
    assert (cfg.analysis.fft, cfg.display.colormap) == (8192, "magma")
    # again with other values: replaced, not duplicated
    assert main(["config", "--config", str(path), "--calibrate", "-3.5", 'dB "re" 1 V']) == 0
    data = tomllib.loads(path.read_text())
    assert data["measure"] == {"calibration_db": -3.5, "calibration_unit": 'dB "re" 1 V'}
    assert path.read_text().count("calibration_db") == 1
    assert main(["config", "--config", str(path), "--no-calibration"]) == 0
    assert "removed the calibration" in capsys.readouterr().out
    cfg = load_file(path)
    assert cfg.measure.calibration_db is None and cfg.measure.calibration_unit == ""
    assert "# the mic on channel 1" in path.read_text()


def test_calibration_goes_into_a_new_file_and_the_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    monkeypatch.setenv("LIVESPEC_CONFIG", str(path))
    assert main(["config", "--calibrate", "94", "dB SPL"]) == 0
    assert path.read_text() == '[measure]\ncalibration_db = 94.0\ncalibration_unit = "dB SPL"\n'
    # a file without [measure] and without a final newline gets the table appended
    path.write_text("[source]\nsamplerate = 44100")
    save_calibration(path, 10.0, "dBu")
    assert tomllib.loads(path.read_text()) == {
        "source": {"samplerate": 44100},
        "measure": {"calibration_db": 10.0, "calibration_unit": "dBu"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[measure\n", "not valid TOML"),
        ("measure.calibration_unit = 'dBV'\n", "cannot update \\[measure\\] safely"),
        ("measure = { calibration_unit = 'dBV' }\n", "cannot update \\[measure\\] safely"),
        ("[nonsense]\nx = 1\n", "unknown table \\[nonsense\\]"),
    ],
)
def test_a_config_that_cannot_be_edited_safely_is_left_alone(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        main_raising(["config", "--config", str(path), "--calibrate", "114", "dB SPL"])
    assert path.read_text() == text


def main_raising(argv: list[str]) -> None:
    """``livespec config`` as the CLI runs it, but letting the UsageError through."""
    from livespec.cli import cmd_config

    cmd_config(build_parser("config").parse_args(argv[1:]))


def test_edit_table_and_values() -> None:
    assert toml_value('a"b\\c\x7f') == '"a\\"b\\\\c\\u007F"'
    assert tomllib.loads("x = " + toml_value('a"b\\c\x7f\n'))["x"] == 'a"b\\c\x7f\n'
    assert toml_value(114) == "114.0"
    with pytest.raises(ValueError):
        toml_value(float("nan"))
    # a key written with quotes, a table header with a comment, a following table
    text = '[measure] # cal\n"calibration_db" = 1\n\n[display]\nfps = 10\n'
    out = edit_table(text, "measure", {"calibration_db": 2.0, "calibration_unit": "dB"})
    assert out == (
        '[measure] # cal\ncalibration_db = 2.0\ncalibration_unit = "dB"\n\n[display]\nfps = 10\n'
    )
    assert edit_table("", "measure", {"calibration_db": None}) == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--calibrate", "x", "dB SPL"], "DB must be a number"),
        (["--calibrate", "2000", "dB SPL"], "DB must be a number"),
        (["--calibrate", "114", " "], "UNIT must not be empty"),
        (["--average", "block"], "averaging must be none, exp"),
        (["--average", "exp:-1"], "averaging must be none, exp"),
    ],
)
def test_app_options_are_checked(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_parser("").parse_args(argv)


def test_app_options_reach_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_calibration(path, 114.0, "dB SPL")
    ns = build_parser("").parse_args(["--config", str(path), "--average", "lin:8"])
    assert ns.average == AverageSpec("lin", n_frames=8)
    cfg = resolve_config(ns)
    assert (cfg.measure.calibration_db, cfg.measure.calibration_unit) == (114.0, "dB SPL")
    ns = build_parser("").parse_args(["--config", str(path), "--calibrate", "100", "dBA"])
    cfg = resolve_config(ns)  # the flag wins over the file
    assert (cfg.measure.calibration_db, cfg.measure.calibration_unit) == (100.0, "dBA")


@sync
async def test_the_app_shows_the_saved_calibration(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert main(["config", "--config", str(path), "--calibrate", "114", "dB SPL"]) == 0
    cfg = resolve_config(build_parser("").parse_args(["--config", str(path)]))
    rig = make_rig("tone:1000@-6+noise@-100", cfg=cfg)
    async with rig.app.run_test(size=(120, 40)) as pilot:
        rig.feed(40)
        await pilot.press("M")
        rig.feed(40)
        await pilot.pause()
        assert "-6.00 dBFS  = 108.00 dB SPL" in rig.app.query_one(MeasurePanel).text.plain


def test_headless_measure_reads_the_saved_calibration(
    tmp_path: Path, run_livespec: RunLivespec
) -> None:
    path = tmp_path / "config.toml"
    save_calibration(path, 114.0, "dB SPL")
    done = run_livespec(
        "measure",
        "--input",
        "tone:1000@-20+noise@-110",
        "--duration",
        "1.5",
        "--interval",
        "0",
        "--json",
        env={"LIVESPEC_CONFIG": str(path)},
    )
    assert done.returncode == 0, done.stderr
    rec = json.loads(done.stdout.splitlines()[-1])
    assert rec["unit"] == "dB SPL"
    assert rec["level"] == pytest.approx(94.0, abs=0.01)


def test_a_unit_with_control_characters_is_printed_escaped(
    tmp_path: Path, run_livespec: RunLivespec
) -> None:
    """A unit that would retitle the terminal is shown escaped by ``measure``'s text line
    and by ``config --calibrate``'s confirmation, as ``livespec config`` shows values."""
    path = tmp_path / "config.toml"
    unit = "dB\x1b]2;owned\x07"
    done = run_livespec("config", "--config", str(path), "--calibrate", "10", unit)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "# saved calibration 10 dB\\x1b]2;owned\\x07 in" in done.stdout
    done = run_livespec(
        "measure", "--config", str(path), "--input", "tone:1000@-20", "--duration", "1",
        "--interval", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "-20.00 dBFS   -10.00 dB\\x1b]2;owned\\x07  THD" in done.stdout, done.stdout


def test_a_file_with_a_byte_order_mark_is_edited_and_keeps_it(tmp_path: Path) -> None:
    """The reader ignores a leading UTF-8 BOM (docs/cli.md), so the editor must too."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXISTING.encode())
    save_calibration(path, 94.0, "dB SPL")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# my livespec settings\n")
    assert data.count(b"\xef\xbb\xbf") == 1
    cfg = load_file(path)
    assert (cfg.measure.calibration_db, cfg.measure.calibration_unit) == (94.0, "dB SPL")
    assert cfg.analysis.fft == 8192


def test_the_lines_to_add_by_hand_are_one_readable_line(
    tmp_path: Path, run_livespec: RunLivespec
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("measure.calibration_unit = 'dBV'\n")
    done = run_livespec("config", "--config", str(path), "--calibrate", "114", "dB SPL")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "\\n" not in done.stderr, done.stderr
    assert done.stderr.rstrip().endswith(
        "by hand: 'calibration_db = 114.0' and 'calibration_unit = \"dB SPL\"'"
    ), done.stderr


def test_only_a_regular_file_is_edited(tmp_path: Path) -> None:
    """A FIFO (or a device such as /dev/null, which ``--config`` accepts as "no file") is
    refused before it is read or replaced: the edit would block on the FIFO, and as root
    it would replace /dev/null with a regular file. Run in a child: the old code hung."""
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    code = (
        "import sys; from pathlib import Path\n"
        "from livespec.config_edit import save_calibration\n"
        "from livespec.errors import UsageError\n"
        "try:\n"
        f"    save_calibration(Path({str(fifo)!r}), 114.0, 'dB SPL')\n"
        "except UsageError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.stdout.strip() == (
        f"config file '{fifo}' is a FIFO (named pipe), not a regular file; nothing was changed"
    ), done
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
