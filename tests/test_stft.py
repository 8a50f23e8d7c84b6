"""Spectrum: dBFS calibration, agreement with scipy, backends, channels, FFTW wisdom."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
from numpy.testing import assert_allclose, assert_array_equal

from livespec.dsp import fftw
from livespec.dsp.stft import Spectrum
from livespec.dsp.windows import WINDOW_NAMES, make_window, scipy_window_spec

DSP_DIR = Path(__file__).resolve().parents[1] / "livespec" / "dsp"
DB_2 = 10.0 * np.log10(2.0)  # 3.0103 dB: livespec's one-sided amplitude vs scipy's power


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep FFTW wisdom written by these tests out of the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


def tone(n: int, cycles: float, amp: float = 1.0, phase: float = 0.0) -> np.ndarray:
    """amp * cos(2 pi cycles m / n + phase), m = 0..n-1 (float64)."""
    return amp * np.cos(2 * np.pi * cycles * np.arange(n) / n + phase)


# -- agreement with scipy.signal.spectrogram -----------------------------------------------


def test_signal(n: int, hop: int, length: int, name: str, rng: np.random.Generator) -> np.ndarray:
    """Tones at -6, -40 and -75 dBFS in the first n + hop samples; throughout, white noise
    whose bins sit near -108 dBFS (so even rect, whose leakage covers everything while the
    tones sound, has frames with bins between -120 and -90 dBFS).

    The FFT runs in double precision: with FFTW's single-precision plans (chosen by timing,
    so they vary from run to run) one n = 1024 plan moved bins at -115..-120 dBFS under a
    -6 dBFS tone by 0.25 dB. The input is float32 (as from the ring buffer)."""
    m = np.arange(length)
    x = (
        0.5 * np.cos(2 * np.pi * 0.1137 * m + 0.3)
        + 0.01 * np.cos(2 * np.pi * 0.2519 * m + 1.1)
        + 10 ** (-75 / 20) * np.cos(2 * np.pi * 0.3711 * m + 2.0)
    )
    x[n + hop :] = 0.0
    w = make_window(name, n)
    enbw = n * np.sum(w**2) / np.sum(w) ** 2
    sigma = np.sqrt(10 ** (-108 / 10) * n / (4 * enbw))  # per-bin level 4*s^2*enbw/n
    return x + sigma * rng.standard_normal(length)


test_signal.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize(
    ("n", "hops"), [(256, (64, 100)), (1024, (256, 512)), (4096, (1024,)), (16384, (4096,))]
)
def test_db_equals_scipy_spectrogram_plus_3dB(name: str, n: int, hops: tuple[int, ...]) -> None:
    rng = np.random.default_rng(n + len(name))
    spec = Spectrum(n, name, wisdom=False)
    for hop in hops:
        frames = 8
        x = test_signal(n, hop, n + (frames - 1) * hop, name, rng)
        _, _, sxx = scipy.signal.spectrogram(
            x,
            fs=48000.0,
            window=scipy_window_spec(name),
            nperseg=n,
            noverlap=n - hop,
            detrend=False,
            scaling="spectrum",
            mode="psd",
        )
        assert sxx.shape == (spec.bins, frames)
        ref = 10 * np.log10(sxx.T) + DB_2
        x32 = x.astype(np.float32)
        got = np.empty((frames, spec.bins), dtype=np.float32)
        for k in range(frames):
            spec.compute(x32[k * hop : k * hop + n])
            spec.db(got[k])
        ref, got64 = ref[:, 1:-1], got[:, 1:-1].astype(np.float64)  # not DC, not Nyquist
        loud = ref > -90.0
        quiet = (ref > -120.0) & ~loud
        # The comparison must cover many bins of both kinds.
        assert loud.sum() >= 3 * 2
        assert quiet.sum() >= 0.2 * ref.size
        assert np.max(np.abs(got64 - ref)[loud]) <= 0.01
        assert np.max(np.abs(got64 - ref)[quiet]) <= 0.2


def test_dc_and_nyquist_are_not_doubled() -> None:
    n = 1024
    spec = Spectrum(n, "hann", wisdom=False)
    x = 0.25 + 0.5 * np.cos(np.pi * np.arange(n))  # DC 0.25 and Nyquist 0.5
    spec.compute(x.astype(np.float32))
    db = spec.db()
    assert_allclose(db[0], 20 * np.log10(0.25), atol=1e-3)
    assert_allclose(db[-1], 20 * np.log10(0.5), atol=1e-3)
    _, _, sxx = scipy.signal.spectrogram(
        x, window="hann", nperseg=n, noverlap=0, detrend=False, scaling="spectrum"
    )
    assert_allclose(db[[0, -1]], 10 * np.log10(sxx[[0, -1], 0]), atol=1e-3)


# -- calibration -------------------------------------------------------------------------


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize("n", [64, 256, 1000, 4096])
@pytest.mark.parametrize("zero_pad", [1, 2, 4])
def test_full_scale_sine_at_a_bin_centre_reads_0_dBFS(name: str, n: int, zero_pad: int) -> None:
    spec = Spectrum(n, name, zero_pad=zero_pad, wisdom=False)
    nfft = n * zero_pad
    # A bin centre of nfft; for zero_pad > 1 it lies half-way between bins of n.
    k = zero_pad * round(0.23 * n) + zero_pad // 2
    x = tone(n, k * n / nfft, 1.0, phase=0.7).astype(np.float32)
    spec.compute(x)
    db = spec.db()
    assert_allclose(db[k], 0.0, atol=1e-3)
    if name == "flattop":
        # scipy's flattop is rippled on top: |W| peaks 0.0023 dB high 0.27 bin off centre,
        # which zero padding can sample.
        assert db.max() <= 0.0023 + 1e-3
    else:
        assert int(np.argmax(db)) == k


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_constant_one_reads_0_dBFS_at_dc(name: str) -> None:
    for zero_pad in (1, 3):
        spec = Spectrum(512, name, zero_pad=zero_pad, wisdom=False)
        spec.compute(np.ones(512, dtype=np.float32))
        assert_allclose(spec.db()[0], 0.0, atol=1e-4)


def test_silence_reads_the_floor_and_levels_scale() -> None:
    spec = Spectrum(2048, "blackman-harris", wisdom=False)
    spec.compute(np.zeros(2048, dtype=np.float32))
    assert_allclose(spec.db(), -200.0, atol=1e-4)
    for level in (-20.0, -60.0):
        spec.compute(tone(2048, 300, 10 ** (level / 20)).astype(np.float32))
        assert_allclose(spec.db()[300], level, atol=1e-3)


def test_db_writes_into_out_and_returns_it() -> None:
    spec = Spectrum(256, "hann", wisdom=False)
    spec.compute(tone(256, 10, 0.5).astype(np.float32))
    out = np.full(spec.bins, np.nan, dtype=np.float32)
    res = spec.db(out)
    assert res is out
    assert out.dtype == np.float32
    assert_allclose(out[10], 20 * np.log10(0.5), atol=1e-3)
    assert_array_equal(spec.db(), out)


def test_freqs_are_bin_centres_in_hz() -> None:
    spec = Spectrum(1000, "hann", zero_pad=2, wisdom=False)
    f = spec.freqs(48000.0)
    assert f.shape == (1001,)
    assert_allclose(f[[0, 1, 500, 1000]], [0.0, 24.0, 12000.0, 24000.0])


# -- the object ----------------------------------------------------------------------------


def test_attributes() -> None:
    spec = Spectrum(1500, "kaiser", beta=6.0, zero_pad=2, backend="numpy")
    assert (spec.n, spec.nfft, spec.bins, spec.zero_pad) == (1500, 3000, 1501, 2)
    assert (spec.window_name, spec.beta, spec.backend_name) == ("kaiser", 6.0, "numpy")
    assert spec.window.dtype == np.float32
    assert_allclose(spec.window, make_window("kaiser", 1500, 6.0), rtol=1e-6)
    assert_allclose(spec.info.sum, make_window("kaiser", 1500, 6.0).sum())
    assert spec.plan_seconds >= 0.0
    assert spec.wisdom_loaded is False and spec.wisdom_saved is False  # numpy: no FFTW


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 63},
        {"n": 65537},
        {"n": 1024.5},
        {"n": 1024, "zero_pad": 0},
        {"n": 1024, "zero_pad": 1.5},
        {"n": 1024, "backend": "mkl"},
        {"n": 1024, "window": "hanning"},
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Spectrum(wisdom=False, **kwargs)  # type: ignore[arg-type]


def test_sizes_at_the_limits_work() -> None:
    for n in (64, 65536):
        spec = Spectrum(n, "hann", backend="numpy")
        spec.compute(tone(n, 5, 1.0).astype(np.float32))
        assert_allclose(spec.db()[5], 0.0, atol=1e-3)


def test_wrong_frame_length_or_channel_raises() -> None:
    spec = Spectrum(256, wisdom=False)
    with pytest.raises(ValueError):
        spec.compute(np.zeros(255, dtype=np.float32))
    with pytest.raises(ValueError):
        spec.compute(np.zeros((256, 2), dtype=np.float32), channel=2)
    with pytest.raises(ValueError):
        spec.compute(np.zeros(256, dtype=np.float32), channel=1)


def test_compute_returns_the_internal_buffer_and_padding_stays_zero() -> None:
    spec = Spectrum(256, "hann", zero_pad=4, wisdom=False)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.standard_normal(256).astype(np.float32)
        X = spec.compute(x)
        assert X.dtype == np.complex128 and X.shape == (spec.bins,)
        assert spec.compute(x) is X
        ref = np.fft.rfft(x.astype(np.float64) * make_window("hann", 256), 1024)
        assert_allclose(X, ref, rtol=0, atol=2e-5 * np.abs(ref).max())


@pytest.mark.parametrize("name", ["hann", "flattop", "kaiser"])
@pytest.mark.parametrize(("n", "zero_pad"), [(256, 1), (1000, 2), (4096, 1)])
def test_numpy_and_fftw_backends_agree(name: str, n: int, zero_pad: int) -> None:
    assert fftw.fftw_available()
    a = Spectrum(n, name, zero_pad=zero_pad, backend="fftw", wisdom=False)
    b = Spectrum(n, name, zero_pad=zero_pad, backend="numpy")
    assert (a.backend_name, b.backend_name) == ("fftw", "numpy")
    rng = np.random.default_rng(n)
    x = (tone(n, 17.3, 0.5) + 1e-4 * rng.standard_normal(n)).astype(np.float32)
    xa = a.compute(x).copy()
    xb = b.compute(x)
    # Two float32 FFTs: they differ by rounding, about 1e-7 of the largest bin.
    assert_allclose(xa, xb, rtol=0, atol=1e-6 * np.abs(xb).max())
    da, db = a.db(), b.db()
    # In dB that is nothing for loud bins and a few hundredths of a dB 95 dB down.
    assert_allclose(da[db > -60], db[db > -60], atol=1e-3)
    assert_allclose(da[db > -100], db[db > -100], atol=0.05)


def test_auto_backend_uses_fftw_when_importable() -> None:
    assert Spectrum(256, wisdom=False).backend_name == "fftw"


# -- channels and strides --------------------------------------------------------------------


def test_stereo_mix_is_the_mean_and_channel_selects() -> None:
    n = 1024
    left = tone(n, 50, 0.8).astype(np.float32)
    right = tone(n, 120, 0.4).astype(np.float32)
    stereo = np.stack([left, right], axis=1)
    spec = Spectrum(n, "hann", wisdom=False)
    ref = Spectrum(n, "hann", wisdom=False)

    X = spec.compute(stereo).copy()
    R = ref.compute((left + right) / np.float32(2))
    assert_allclose(X, R, rtol=0, atol=1e-6 * np.abs(R).max())
    db = spec.db()
    assert_allclose(db[[50, 120]], 20 * np.log10([0.4, 0.2]), atol=1e-3)

    for ch, sig in ((0, left), (1, right)):
        X = spec.compute(stereo, channel=ch).copy()
        assert_allclose(X, ref.compute(sig), rtol=0, atol=1e-7 * np.abs(X).max())


def test_three_channels_and_single_column() -> None:
    n = 512
    rng = np.random.default_rng(3)
    block = rng.standard_normal((n, 3)).astype(np.float32)
    spec = Spectrum(n, "blackman", wisdom=False)
    ref = Spectrum(n, "blackman", wisdom=False)
    X = spec.compute(block).copy()
    assert_allclose(X, ref.compute(block.mean(axis=1)), rtol=0, atol=1e-5 * np.abs(X).max())
    X = spec.compute(block[:, :1]).copy()
    assert_allclose(X, ref.compute(block[:, 0]), rtol=0, atol=1e-7 * np.abs(X).max())
    # Back to two channels: the 1/channels scaling follows.
    X = spec.compute(block[:, :2]).copy()
    assert_allclose(X, ref.compute(block[:, :2].mean(axis=1)), rtol=0, atol=1e-6 * np.abs(X).max())


def test_strided_views_as_from_a_ring_buffer() -> None:
    n = 512
    rng = np.random.default_rng(4)
    ring = rng.standard_normal((4 * n, 4)).astype(np.float32)
    view = ring[100 : 100 + 2 * n : 2, 1:4:2]  # rows and columns both strided
    assert not view.flags.c_contiguous
    spec = Spectrum(n, "hann", wisdom=False)
    ref = Spectrum(n, "hann", wisdom=False)
    X = spec.compute(view).copy()
    contiguous = np.ascontiguousarray(view)
    assert_allclose(X, ref.compute(contiguous.mean(axis=1)), atol=1e-5 * np.abs(X).max())
    X = spec.compute(view, channel=1).copy()
    assert_allclose(X, ref.compute(contiguous[:, 1]), atol=1e-7 * np.abs(X).max())


# -- FFTW wisdom -----------------------------------------------------------------------------


def test_wisdom_is_saved_then_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = fftw.default_wisdom_path()
    assert path == tmp_path / "livespec" / "fftw-wisdom.bin"
    assert not path.exists()

    first = Spectrum(3000, "hann")  # no file yet: plan, then save
    assert first.backend_name == "fftw"
    assert first.wisdom_loaded is False
    assert first.wisdom_saved is True
    assert path.stat().st_size > 0
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary left behind

    second = Spectrum(3000, "hann")  # the file exists and FFTW accepts it
    assert second.wisdom_loaded is True
    assert second.wisdom_saved is False  # nothing new to add
    assert fftw.load_wisdom(path) is True

    # The file holds FFTW's single-precision wisdom for this size.
    data = path.read_bytes()
    assert data.startswith(b"livespec-fftw-wisdom 1\n")
    assert b"fftwf_wisdom" in data


def test_wisdom_off_touches_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = Spectrum(1234, "hann", wisdom=False)
    assert spec.wisdom_loaded is False and spec.wisdom_saved is False
    assert not (tmp_path / "livespec").exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"livespec-fftw-wisdom 1\n\xff\xff\xff\xff\xff\xff\xff\xff", b"\0" * 100],
)
def test_corrupt_wisdom_is_ignored(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(content)
    assert fftw.load_wisdom(path) is False


def test_wisdom_that_fftw_rejects_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    bogus = (b"(not fftw wisdom)", b"(nor this)", b"")
    path.write_bytes(fftw._encode(bogus))
    assert fftw.load_wisdom(path) is False
    assert fftw.load_wisdom(tmp_path / "missing.bin") is False


def test_unwritable_cache_is_ignored_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_bytes(b"x")
    fftw.save_wisdom(blocker / "sub" / "w.bin")  # parent cannot be created: no exception
    assert blocker.read_bytes() == b"x"
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    spec = Spectrum(1536, "hann")  # plans and works without a cache
    spec.compute(tone(1536, 40).astype(np.float32))
    assert_allclose(spec.db()[40], 0.0, atol=1e-3)
    assert spec.wisdom_loaded is False


def test_save_wisdom_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "w.bin"
    fftw.save_wisdom(path)
    first = path.read_bytes()
    fftw.save_wisdom(path)
    assert path.read_bytes() == first  # same wisdom, same bytes
    assert sorted(p.name for p in path.parent.iterdir()) == ["w.bin"]


# -- house rules -----------------------------------------------------------------------------


def test_dsp_never_imports_scipy_textual_or_rich_and_pyfftw_only_lazily() -> None:
    for source in sorted(DSP_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top not in ("scipy", "textual", "rich"), f"{source.name} imports {name}"
        for node in tree.body:  # module level: no pyfftw
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert not (mod or "").startswith("pyfftw"), f"{source.name} imports pyfftw"


def test_every_fftw_plan_and_wisdom_call_holds_the_planning_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FFTW's planner and wisdom are process-wide and not thread-safe: API calls from a thread
    # pool (8 threads x 10 spectrograms of other sizes) aborted the process about one run in
    # eight with "malloc(): invalid size". Every plan and wisdom call now holds PLANNING.
    import livespec
    from livespec.dsp.block import SpectrumBlock

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fftw, "_LOADED", set())
    core = fftw.pyfftw_module()
    assert core is not None
    calls: list[tuple[str, bool]] = []

    def watch(name: str) -> None:
        real = getattr(core, name)

        def call(*args: object, **kwargs: object) -> object:
            calls.append((name, fftw.PLANNING._is_owned()))  # type: ignore[attr-defined]
            return real(*args, **kwargs)

        monkeypatch.setattr(core, name, call)

    for name in ("FFTW", "import_wisdom", "export_wisdom"):
        watch(name)
    spec = Spectrum(3001, "hann")  # a RealFFT; wisdom saved
    fftw._LOADED.clear()  # as in a new process:
    Spectrum(3001, "hann")  # the wisdom file imported
    SpectrumBlock(spec, 750, 3)  # the engine's runs of frames
    livespec.spectrogram(np.zeros(9000), 48000, fft=1537)  # the export's BatchAnalyzer
    livespec.measure(np.zeros(9000), 48000, fft=2050)  # the Measurer
    assert {name for name, _ in calls} == {"FFTW", "import_wisdom", "export_wisdom"}
    assert all(held for _, held in calls), calls
