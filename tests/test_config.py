"""Configuration: defaults < TOML file < flags; bad values name the file, key and range."""

from __future__ import annotations

import pytest

from livespec.config import Config, as_toml, load_file, merge_cli
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


def test_hop_wins_over_overlap():
    cfg = merge_cli(Config(), {"hop": "100", "overlap": "0.5"})
    assert cfg.analysis.hop_samples == 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[analysis]\nfft = 100000\n", r"\[analysis\] fft = 100000: must be an integer from 64"),
        ('[analysis]\nwindow = "gauss"\n', r"window = 'gauss': must be one of rect, hann"),
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
