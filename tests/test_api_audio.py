"""``Spectrogram.to_audio``: the exact inverse STFT (``keep_phase=True``) and Griffin-Lim,
checked against the input itself and against librosa's stft, istft and griffinlim."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

import livespec
from livespec.export.dsp import power_scale

FS = 48000


def two_tones(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * FS)) / FS
    return 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.25 * np.sin(2 * np.pi * 3000 * t)


def error_db(got: np.ndarray, ref: np.ndarray) -> float:
    """Relative error energy in dB: 10*log10(sum((got-ref)**2) / sum(ref**2))."""
    e = float(np.sum((got - ref) ** 2))
    return -np.inf if e == 0.0 else 10.0 * np.log10(e / float(np.sum(ref**2)))


@pytest.mark.parametrize(
    "kw",
    [
        dict(center=True),  # livespec's dBFS analysis, centred: zero padding
        dict(like="librosa"),  # 2048 / 512, centred, zeros
        dict(like="torchaudio"),  # 400 / 200, centred, reflect padding
        dict(like="torchaudio", scale="mel"),  # the STFT kept is the FFT bins'
        dict(center=True, pad_mode="reflect", zero_pad=2, window="kaiser", hop=512),
    ],
)
def test_exact_inverse_of_centred_analyses_everywhere(kw):
    y = two_tones()
    ref = y.astype(np.float32).astype(np.float64)  # the API analyses float32 samples
    S = livespec.spectrogram(y, FS, keep_phase=True, **kw)
    a = S.to_audio()
    assert a.method == "istft" and a.samplerate == FS and len(a) == len(y)
    assert error_db(a.samples, ref) < -100.0
    edge = S.fft  # the first and last frame lengths, where fewer frames overlap
    assert error_db(a.samples[:edge], ref[:edge]) < -100.0
    assert error_db(a.samples[-edge:], ref[-edge:]) < -100.0
    assert a.spectral_convergence_db < -100.0


def test_exact_inverse_uncentred_interior_and_the_uncovered_tail():
    """livespec's default framing is not centred: frame k is [k*hop, k*hop + fft); the
    window starts at 0 and samples after the last frame are in no frame."""
    y = two_tones()
    ref = y.astype(np.float32).astype(np.float64)
    S = livespec.spectrogram(y, FS, keep_phase=True)
    a = S.to_audio()
    covered = (S.shape[0] - 1) * S.hop + S.fft
    assert covered < len(y)
    assert error_db(a.samples[1:covered], ref[1:covered]) < -100.0
    assert a.samples[0] == 0.0  # hann[0] == 0: no frame sees sample 0
    assert not np.any(a.samples[covered:])


def test_kept_stft_is_librosa_stft_and_matches_the_levels():
    y = two_tones()
    y32 = y.astype(np.float32).astype(np.float64)
    S = livespec.spectrogram(y, FS, like="librosa", keep_phase=True)
    X = librosa.stft(y32)
    assert S.stft is not None and S.stft.dtype == np.complex128
    np.testing.assert_allclose(S.stft.T, X, rtol=0, atol=1e-9 * np.abs(X).max())
    back = librosa.istft(X, length=len(y))
    assert error_db(S.to_audio().samples, back) < -200.0
    L = livespec.spectrogram(y, FS, keep_phase=True)  # livespec's dBFS: 4|X|^2/S1^2
    assert L.stft is not None
    scale = power_scale(L.recipe, FS)
    assert scale is not None
    level = 10 * np.log10(np.maximum(np.abs(L.stft) ** 2 * scale, 1e-20))
    loud = level > -100.0
    assert np.max(np.abs(level[loud] - L.db[loud])) < 1e-3


def test_griffin_lim_magnitudes_undo_the_dbfs_calibration():
    """Without phase, the magnitudes inverted are |X| exactly (dBFS scale and db_ref undone)."""
    from livespec.api.audio import magnitudes

    y = two_tones()
    P = livespec.spectrogram(y, FS, keep_phase=True)
    assert P.stft is not None
    true = np.abs(P.stft)
    for S in (livespec.spectrogram(y, FS), livespec.spectrogram(y, FS, db_ref="max")):
        m = magnitudes(S)
        loud = true > 1e-4 * true.max()
        np.testing.assert_allclose(m[loud], true[loud], rtol=1e-5)


def test_griffin_lim_zero_phase_start_is_librosa_griffinlim():
    y = two_tones()
    S = livespec.spectrogram(y, FS, like="librosa", top_db=None)
    M = (10.0 ** (S.db.astype(np.float64) / 20.0)).T
    ref = librosa.griffinlim(M, n_iter=32, hop_length=512, init=None, length=len(y))
    a = S.to_audio(32, init=None)
    assert a.method == "griffinlim" and a.n_iter == 32
    assert np.max(np.abs(a.samples - ref)) < 1e-3
    theirs = np.linalg.norm(M - np.abs(librosa.stft(ref))) / np.linalg.norm(M)
    assert a.spectral_convergence_db == pytest.approx(20 * np.log10(theirs), abs=0.01)


def test_griffin_lim_32_iterations_converges():
    """The figure quoted in docs/api.md: 32 iterations from random phases (seed 0)."""
    y = two_tones()
    S = livespec.spectrogram(y, FS)
    a = S.to_audio()
    assert a.method == "griffinlim" and a.n_iter == 32
    X = librosa.stft(a.samples, n_fft=4096, hop_length=1024, center=False)  # the same framing
    scale = power_scale(S.recipe, FS)
    assert scale is not None
    M = np.sqrt(10.0 ** (S.db.astype(np.float64) / 10.0) / scale)
    mine = 20 * np.log10(np.linalg.norm(M - np.abs(X.T)) / np.linalg.norm(M))
    assert a.spectral_convergence_db == pytest.approx(mine, abs=0.01)
    assert -60.0 < a.spectral_convergence_db < -20.0
    assert S.to_audio(0).spectral_convergence_db > -10.0  # no iteration: far off
    assert S.to_audio(8).spectral_convergence_db > a.spectral_convergence_db
    # The tones come back at their levels (-6.02 and -12.04 dBFS), in the covered part.
    top = livespec.spectrogram(a.samples, FS).peaks(n=2)[len(S.times) // 2]
    assert [p.freq_hz for p in top.peaks] == pytest.approx([1000, 3000], abs=2.0)
    assert [p.level_dbfs for p in top.peaks] == pytest.approx([-6.02, -12.04], abs=0.5)


def test_audio_result_saves_and_converts(tmp_path):
    y = two_tones(0.5)
    a = livespec.spectrogram(y, FS, center=True, keep_phase=True).to_audio()
    assert np.asarray(a) is a.samples and np.asarray(a, dtype=np.float32).dtype == np.float32
    assert repr(a).startswith("Audio(24000 samples, 48000 Hz, istft")
    p = a.save(tmp_path / "out" / "back.wav")
    back, fs = sf.read(p)
    assert fs == FS and error_db(back, a.samples) < -100.0
    assert sf.info(p).subtype == "FLOAT"
    # Formats without float samples take their own (FLOAT raised "Invalid combination").
    flac, ogg = a.save(tmp_path / "back.flac"), a.save(tmp_path / "back.ogg")
    assert (sf.info(flac).subtype, sf.info(ogg).subtype) == ("PCM_24", "VORBIS")
    assert error_db(sf.read(flac)[0], a.samples) < -120.0  # 24 bits: about -138 dB
    assert sf.info(a.save(tmp_path / "b16.flac", subtype="PCM_16")).subtype == "PCM_16"


@pytest.mark.parametrize(
    ("make", "call", "match"),
    [
        (lambda y: next(livespec.frames(y, FS, top_db=None)), {}, "frames()"),
        (lambda y: livespec.spectrogram(y, FS, scale="mel"), {}, "mel bands"),
        (lambda y: livespec.spectrogram(y, FS), {"method": "istft"}, "keep_phase=True"),
        (lambda y: livespec.spectrogram(y, FS), {"n_iter": -1}, "n_iter=-1"),
        (lambda y: livespec.spectrogram(y, FS), {"momentum": 2}, "momentum=2"),
        (lambda y: livespec.spectrogram(y, FS), {"init": "zeros"}, "init='zeros'"),
        (lambda y: livespec.spectrogram(y, FS), {"method": "x"}, "method='x'"),
    ],
)
def test_to_audio_errors_are_one_line(make, call, match):
    S = make(two_tones(0.25))
    with pytest.raises(livespec.UsageError, match=match.replace("(", r"\(").replace(")", r"\)")):
        S.to_audio(**call)
    try:
        S.to_audio(**call)
    except livespec.LivespecError as exc:
        assert "\n" not in str(exc)


def test_keep_phase_refuses_detrend():
    with pytest.raises(livespec.UsageError, match="detrend"):
        livespec.spectrogram(two_tones(0.25), FS, like="scipy", keep_phase=True)
    with pytest.raises(livespec.UsageError, match="keep_phase"):
        livespec.spectrogram(two_tones(0.25), FS, keep_phase=1)  # type: ignore[arg-type]
