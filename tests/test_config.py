"""Configuration: defaults < TOML file < flags; bad values name the file, key and range."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomllib

from livespec.config import Config, as_toml, load_file, merge_cli, preroll_seconds
from livespec.config_file import MAX_CONFIG_BYTES, toml_string
from livespec.errors import UsageError


def test_file_then_flags(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[analysis]\nfft = 8192\nwindow = "flattop"\n[source]\nsamplerate = 44100\n')
    cfg = load_file(path)
    assert (cfg.analysis.fft, cfg.analysis.window, cfg.source.samplerate) == (
        8192,
        "flattop",
        44100,
    )
    cfg = merge_cli(cfg, {"fft": "1024", "window": None, "overlap": "0.5"})
    assert (cfg.analysis.fft, cfg.analysis.window) == (1024, "flattop")
    assert cfg.analysis.hop_samples == 512


def test_an_input_or_device_flag_replaces_the_files_source(tmp_path):
    """The file's input and device are one choice: a flag for either replaces it."""
    path = tmp_path / "config.toml"
    path.write_text('[source]\ninput = "tone:1000"\n')
    cfg = merge_cli(load_file(path), {"device": "pulse", "input": None})
    assert (cfg.source.input, cfg.source.device) == (None, "pulse")
    path.write_text('[source]\ndevice = "pulse"\n')
    cfg = merge_cli(load_file(path), {"device": None, "input": "tone:440"})
    assert (cfg.source.input, cfg.source.device) == ("tone:440", None)
    with pytest.raises(UsageError, match="give either --device or --input, not both"):
        merge_cli(Config(), {"device": "pulse", "input": "tone:440"})
    path.write_text('[source]\ndevice = "pulse"\ninput = "tone:440"\n')
    with pytest.raises(UsageError, match=r"config.toml: \[source\] has both input and device"):
        load_file(path)


def test_a_leading_tilde_in_file_paths_is_the_home_folder(tmp_path, monkeypatch):
    """TOML has no shell to expand ``~``: the config does it for the paths it holds."""
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "config.toml"
    path.write_text('[source]\ninput = "~/take.wav"\n[display]\nrecord_dir = "~/rec"\n')
    cfg = load_file(path)
    assert cfg.source.input == str(tmp_path / "take.wav")
    assert cfg.display.record_dir == str(tmp_path / "rec")
    cfg = merge_cli(cfg, {"input": "tone:1000~", "record_dir": "-"})  # only a leading ~
    assert (cfg.source.input, cfg.display.record_dir) == ("tone:1000~", "-")


def test_a_clash_within_the_file_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[display]\ndb_min = 0\ndb_max = -10\n")
    with pytest.raises(UsageError) as info:
        merge_cli(load_file(path), {})
    assert str(info.value) == (
        f"--db-max -10 must be above --db-min 0 "
        f"(not on the command line: db_max, db_min; config file {path})"
    )
    with pytest.raises(UsageError) as info:  # one of them given: the other is the file's
        merge_cli(load_file(path), {"db_max": "-5"})
    assert str(info.value) == (
        "--db-max -5 must be above --db-min 0 "
        f"(not on the command line: db_min; config file {path})"
    )
    cfg = merge_cli(load_file(path), {"db_max": "-5", "db_min": "-50"})
    assert (cfg.display.db_min, cfg.display.db_max) == (-50.0, -5.0)


def test_hop_wins_over_overlap():
    cfg = merge_cli(Config(), {"hop": "100", "overlap": "0.5"})
    assert cfg.analysis.hop_samples == 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[analysis]\nfft = 100000\n", r"\[analysis\] fft = 100000: must be an integer from 64"),
        ('[analysis]\nwindow = "gauss"\n', r'window = "gauss": must be one of rect, hann'),
        ("[analysis]\nfoo = 1\n", r"\[analysis\] foo: unknown setting"),
        ("[display2]\nx = 1\n", r"unknown table \[display2\]"),
        ("[analysis\nfft = 1\n", r"not valid TOML"),
        ("[source]\nlatency = 5\n", r"latency = 5: must be 'low', 'high' or seconds"),
    ],
)
def test_bad_file_values_name_file_key_and_allowed(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as info:
        load_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [  # TOML is typed: a value of the wrong type is refused (docs/cli.md), shown as TOML
        ('[analysis]\nfft = "4096"\n', r'\[analysis\] fft = "4096": must be an integer, not text'),
        (
            "[analysis]\nfft = true\n",
            r"\[analysis\] fft = true: must be an integer, not true/false",
        ),
        ("[analysis]\nfft = 4096.0\n", r"fft = 4096.0: must be an integer, not a number with"),
        ('[display]\nspectrum = "on"\n', r'spectrum = "on": must be true or false, not text'),
        ("[display]\nspectrum = 1\n", r"spectrum = 1: must be true or false, not an integer"),
        ('[analysis]\noverlap = "0.5"\n', r'overlap = "0.5": must be a number, not text'),
        ("[measure]\ncalibration_unit = 5\n", r"calibration_unit = 5: must be text"),
        ('[source]\ninput = ["a.wav"]\n', r"input = \[.*\]: must be text, not an array"),
        ("[display]\nfps = false\n", r"fps = false: must be a number, not true/false"),
    ],
)
def test_file_values_of_the_wrong_type_are_refused(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as info:
        load_file(path)
    assert str(info.value).startswith(f"{path}: ")


def test_file_values_of_the_right_type_and_documented_alternatives_are_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[source]\ndevice = 3\nlatency = 0.05\n[analysis]\nfft = 2048\noverlap = 0\n"
        "[display]\nspectrum = false\nfps = 24\n[measure]\ncalibration_db = 94\n"
    )
    cfg = load_file(path)
    assert (cfg.source.device, cfg.source.latency) == ("3", "0.05")
    assert (cfg.analysis.fft, cfg.analysis.overlap) == (2048, 0.0)
    assert (cfg.display.spectrum, cfg.display.fps, cfg.measure.calibration_db) == (
        False,
        24.0,
        94.0,
    )
    path.write_text('[source]\nlatency = "low"\n')
    assert load_file(path).source.latency == "low"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"fft": "63"}, r"--fft 63: must be an integer from 64 to 65536"),
        ({"overlap": "0.99"}, r"--overlap 0.99: must be a number from 0 to 0.97"),
        ({"fft": "1024", "hop": "2048"}, r"--hop 2048 is longer than --fft 1024"),
        ({"input": "tone:1", "device": "x"}, r"either --device or --input"),
        ({"fmin": "100", "fmax": "50"}, r"--fmax 50 must be above --fmin 100"),
    ],
)
def test_bad_flags(given, message):
    with pytest.raises(UsageError, match=message):
        merge_cli(Config(), given)


def test_missing_default_file_gives_defaults_but_explicit_one_is_an_error(tmp_path):
    assert load_file(tmp_path / "none.toml") == Config()
    with pytest.raises(UsageError, match="does not exist"):
        load_file(tmp_path / "none.toml", explicit=True)


def test_as_toml_round_trips(tmp_path):
    cfg = merge_cli(Config(), {"fft": "2048", "window": "kaiser", "beta": "12", "input": "demo"})
    path = tmp_path / "c.toml"
    path.write_text(as_toml(cfg))
    again = load_file(path)
    assert again.analysis == cfg.analysis
    assert again.source == cfg.source


# -- limits on the file (livespec/config_file.py, docs/cli.md) ----------------------------------


def test_a_symlink_loop_is_an_error_even_at_the_default_path(tmp_path):
    path = tmp_path / "config.toml"
    path.symlink_to(path)
    for explicit in (False, True):
        with pytest.raises(UsageError, match=r"'.*config.toml': a symbolic link loop$"):
            load_file(path, explicit=explicit)


def test_a_dangling_link_at_the_default_path_is_an_error(tmp_path):
    path = tmp_path / "config.toml"
    path.symlink_to(tmp_path / "gone.toml")
    with pytest.raises(UsageError, match="is a dangling symbolic link"):
        load_file(path)


def test_an_unreadable_default_path_is_one_line_not_a_traceback(tmp_path):
    path = tmp_path / "file" / "config.toml"  # a file where a folder should be
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match=r"cannot read config file .*: not a directory"):
        load_file(path)


@pytest.mark.parametrize(
    ("special", "kind"),
    [("/dev/zero", "a character device"), ("/dev/urandom", "a character device")],
)
def test_devices_are_refused_but_dev_null_is_empty(special, kind):
    with pytest.raises(UsageError, match=f"'{special}' is {kind}, not a regular file"):
        load_file(Path(special), explicit=True)
    assert load_file(Path("/dev/null"), explicit=True).analysis == Config().analysis


def test_folders_and_fifos_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=r"is a FIFO \(named pipe\), not a regular file"):
        load_file(fifo, explicit=True)
    with pytest.raises(UsageError, match="is a folder, not a regular file"):
        load_file(tmp_path, explicit=True)


def test_at_most_one_mib_is_read(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b"#" * (MAX_CONFIG_BYTES - 1) + b"\n")
    assert load_file(path).analysis == Config().analysis
    path.write_bytes(b"#" * MAX_CONFIG_BYTES + b"\n")
    with pytest.raises(UsageError, match="is larger than 1 MiB"):
        load_file(path)


def test_nesting_is_limited(tmp_path):
    path = tmp_path / "c.toml"
    for depth in (31, 5000):  # 31 arrays in [analysis] in the document: 33 levels
        path.write_text("[analysis]\nfft = " + "[" * depth + "1" + "]" * depth + "\n")
        with pytest.raises(UsageError, match="nested more than 32 levels deep"):
            load_file(path)
    path.write_text("[analysis]\nfft = " + "[" * 30 + "1" + "]" * 30 + "\n")
    with pytest.raises(UsageError, match=r"fft = .*: must be an integer"):
        load_file(path)


def test_bom_is_ignored_and_bad_utf8_named(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf[analysis]\nfft = 2048\n")
    assert load_file(path).analysis.fft == 2048
    path.write_bytes(b"[display]\nrecord_dir = '\xc3'\n")
    with pytest.raises(UsageError, match=r"not UTF-8 text \(byte 0xc3 at offset 24\)"):
        load_file(path)


def test_long_values_are_cut_short_in_messages(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[analysis]\nfft = "' + "9" * 100_000 + '"\n')
    with pytest.raises(UsageError) as info:
        load_file(path)
    assert len(str(info.value)) < len(str(path)) + 150


def test_strings_are_shown_escaped_and_read_back():
    text = 'a "b" \\ \x1b]2;x\x07 \x9b2J \n\t é'
    shown = toml_string(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert tomllib.loads(f"v = {shown}")["v"] == text


@pytest.mark.parametrize("ok", ["0", "0.5", "60", "6e1"])
def test_preroll_accepts_0_to_60_seconds(ok):
    assert preroll_seconds(ok) == float(ok)


@pytest.mark.parametrize("bad", ["-0.1", "60.01", "3000", "1e9", "nan", "inf", "soon"])
def test_preroll_refuses_the_rest(bad):
    with pytest.raises(UsageError, match=f"--preroll {bad}: must be from 0 to 60 seconds"):
        preroll_seconds(bad)
