"""The noise tables kept in the user's cache folder: a loaded table is the one the signal
would make, a damaged file is made again, and a cache that cannot be written is no error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livespec.audio import noise_cache, signals

SIZE = 1 << 18


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def _made(color: str, dbfs: float) -> np.ndarray:
    """The table as the signal makes it, without the cache (numpy's generator, FFT)."""
    rng = np.random.default_rng(1234)
    white = rng.standard_normal(SIZE)
    if color == "pink":
        spec = np.fft.rfft(white)
        f = np.arange(spec.size, dtype=np.float64)
        f[0] = 1.0
        spec /= np.sqrt(f)
        spec[0] = 0.0
        white = np.fft.irfft(spec, SIZE)
    white -= white.mean()
    return white * (10 ** (dbfs / 20) / float(np.sqrt(np.mean(white**2))))


@pytest.mark.parametrize(("color", "dbfs"), [("pink", -62.0), ("white", -30.0)])
def test_a_saved_table_loads_as_the_one_made(cache: Path, color: str, dbfs: float):
    first = signals.Noise(color, dbfs).table()
    path = noise_cache.table_path(color, 1234, SIZE)
    assert path.is_file() and path.parent.parent == cache
    second = signals.Noise(color, dbfs).table()  # from the file
    np.testing.assert_array_equal(second, _made(color, dbfs))
    np.testing.assert_array_equal(first, second)


def test_one_file_per_colour_serves_every_level(cache: Path):
    signals.Noise("pink", -62.0).table()
    loud = signals.Noise("pink", -20.0).table()  # from the same file
    np.testing.assert_array_equal(loud, _made("pink", -20.0))
    np.testing.assert_allclose(np.sqrt(np.mean(loud**2)), 10 ** (-20 / 20), rtol=1e-12)
    signals.Noise("white", -30.0).table()
    assert len(list((cache / "livespec").glob("noise-*.npy"))) == 2


@pytest.mark.parametrize(
    "content",
    [b"not a numpy file", None],  # garbage; a valid .npy of the wrong length
)
def test_a_damaged_file_is_made_again(cache: Path, content: bytes | None):
    path = noise_cache.table_path("pink", 1234, SIZE)
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        np.save(path, np.zeros(100))
    else:
        path.write_bytes(content)
    table = signals.Noise("pink", -62.0).table()
    np.testing.assert_array_equal(table, _made("pink", -62.0))
    assert noise_cache.load(path, SIZE) is not None  # replaced
    np.testing.assert_array_equal(signals.Noise("pink", -62.0).table(), table)


def test_a_cache_that_cannot_be_written_is_no_error(cache: Path):
    (cache / "livespec").write_text("a file where the folder would be")
    table = signals.Noise("white", -30.0).table()
    np.testing.assert_array_equal(table, _made("white", -30.0))
