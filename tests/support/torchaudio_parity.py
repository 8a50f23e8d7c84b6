"""``livespec export --like torchaudio`` against torchaudio itself (not its formulas).

CI checks ``--like torchaudio`` against torchaudio's documented formulas
(tests/test_export_dsp.py, tests/test_api.py): installing PyTorch costs about 1 GB, and
from PyPI a CUDA build of several GB, too much to ask of everyone who runs the tests. This
script is the check against the real thing, run by hand in a virtual environment that has
torch, torchaudio, numpy and soundfile (livespec need not be installed there)::

    python3 -m venv /tmp/ta && /tmp/ta/bin/pip install torch torchaudio numpy soundfile
    /tmp/ta/bin/python tests/support/torchaudio_parity.py --livespec .venv/bin/livespec

It writes test signals (three sample rates, float and 16-bit PCM, two channels), exports
each with ``--npy --like torchaudio`` and with ``--scale mel``, and compares them with
``AmplitudeToDB()(Spectrogram()(w))[0].T`` and the same with ``MelSpectrogram(sr)``:
once as torchaudio computes by default (float32, so its own rounding shows: about 0.01 dB
on bins 90 dB below the peak) and once in float64 (``torch.set_default_dtype``), where
the two must agree to the float32 rounding of livespec's output (the limit, ``--limit``,
1e-4 dB). With Pillow there too, it also runs docs/export.md's BirdCLEF notebook (5 s
clips, ``AmplitudeToDB()(Spectrogram()(clip))``, min-max to 0..255, ``astype(np.uint8)``,
``Image.resize((512, 512))``) against ``export --clip 5 --size 512x512 --gray --like
torchaudio`` and prints the grey-level differences (at most 4 levels, a mean under 0.5, as
tests/test_export_conventions.py allows). Exit status 0 when all hold, 1 otherwise. Last
run: docs/testing.md.

A torchaudio wheel built for CUDA fails to load its C extension on a CPU-only torch; the
transforms used here do not need it, so the script stands in for it if it does not load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

RATES = (48000, 22050, 16000)


def _import_torchaudio() -> tuple[types.ModuleType, types.ModuleType]:
    """torch and torchaudio.transforms; torchaudio's C extension stood in for if its
    wheel's does not load (a CUDA build beside a CPU torch)."""
    import torch  # type: ignore[import-not-found]

    try:
        import torchaudio.transforms as transforms  # type: ignore[import-not-found]
    except (OSError, AttributeError, ImportError):
        for name in [m for m in sys.modules if m.startswith("torchaudio")]:
            del sys.modules[name]
        stand_in = types.ModuleType("torchaudio._extension")

        def attribute(name: str) -> object:
            if name.startswith("_IS_"):
                return False
            if name.startswith("fail_"):
                return lambda f: f
            raise AttributeError(name)

        stand_in.__getattr__ = attribute  # type: ignore[method-assign]
        sys.modules["torchaudio._extension"] = stand_in
        import torchaudio.transforms as transforms

    return torch, transforms


def signals(folder: Path) -> list[Path]:
    """Tones (one gliding) in noise, 5.3 s, at each rate: float32 and 16-bit PCM stereo."""
    rng = np.random.default_rng(3)
    paths = []
    for fs in RATES:
        t = np.arange(int(fs * 5.3)) / fs
        y = 0.4 * np.sin(2 * np.pi * 440.3 * t) + 0.2 * np.sin(2 * np.pi * 3111 * t * (1 + t / 20))
        y = y + 0.01 * rng.standard_normal(t.size)
        for subtype in ("FLOAT", "PCM_16"):
            path = folder / f"{fs}_{subtype}.wav"
            stereo = np.stack([y, 0.5 * y[::-1]], axis=1)
            sf.write(path, stereo, fs, subtype=subtype)
            paths.append(path)
    return paths


def notebook(livespec: str, torch: types.ModuleType, T: types.ModuleType, tmp: Path) -> bool:
    """The BirdCLEF notebook's images against livespec's; True if within the limits."""
    try:
        from PIL import Image
    except ImportError:
        print("BirdCLEF notebook: not run (no Pillow here)")
        return True
    rng = np.random.default_rng(5)
    fs = 32000
    t = np.arange(fs * 10) / fs
    song = np.sin(2 * np.pi * (3000 + 1500 * np.sin(2 * np.pi * 3 * t)) * t)
    y = 0.3 * song * (np.sin(2 * np.pi * 0.7 * t) > 0) + 0.02 * rng.standard_normal(t.size)
    (tmp / "birds").mkdir()
    sf.write(tmp / "birds" / "song.wav", y.astype(np.float32), fs)
    cmd = [livespec, "export", str(tmp / "birds"), "-o", str(tmp / "ds"), "--clip", "5"]
    subprocess.run([*cmd, "--size", "512x512", "--gray", "--like", "torchaudio"], check=True)
    y32, _ = sf.read(tmp / "birds" / "song.wav", dtype="float32")
    ok = True
    for k, end in enumerate((5, 10)):
        clip = torch.from_numpy(y32[k * 5 * fs : (k + 1) * 5 * fs].copy())
        spec = T.AmplitudeToDB()(T.Spectrogram()(clip))
        x = (spec - spec.min()) / (spec.max() - spec.min()) * 255
        image = Image.fromarray(x.numpy().astype(np.uint8)).resize((512, 512))
        ref = np.asarray(image, dtype=np.float64)
        got = np.asarray(Image.open(tmp / "ds" / f"song_{end}.png").convert("L"), dtype=float)
        d = np.abs(got - ref)
        ok = ok and got.shape == ref.shape and d.max() <= 4 and d.mean() < 0.5
        print(
            f"BirdCLEF notebook, clip song_{end}: mean {d.mean():.4f} grey levels, "
            f"largest {d.max():.0f}, {100 * np.mean(d > 0):.2f} % of pixels differ"
        )
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--livespec", default="livespec", help="the livespec command to run")
    ap.add_argument("--limit", type=float, default=1e-4, help="largest float64 difference, dB")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")  # torchaudio: "a mel filterbank has all zero values"
    torch, T = _import_torchaudio()
    import torchaudio  # type: ignore[import-not-found]

    print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for path in signals(Path(tmp)):
            y, fs = sf.read(path, dtype="float64", always_2d=True)
            got = {}
            for scale in ("linear", "mel"):
                out = path.with_suffix(f".{scale}.npy")
                cmd = [args.livespec, "export", str(path), "--npy", str(out)]
                cmd += ["--like", "torchaudio", "--channel", "1", "--scale", scale]
                subprocess.run(cmd, check=True)
                got[scale] = np.load(out)
            row = [path.name]
            for dtype in (torch.float32, torch.float64):
                torch.set_default_dtype(dtype)
                w = torch.from_numpy(y[:, :1].T.copy()).to(dtype)
                ref = {
                    "linear": T.AmplitudeToDB()(T.Spectrogram()(w))[0].T.numpy(),
                    "mel": T.AmplitudeToDB()(T.MelSpectrogram(sample_rate=fs)(w))[0].T.numpy(),
                }
                for scale, mine in got.items():
                    assert mine.shape == ref[scale].shape, (mine.shape, ref[scale].shape)
                    d = float(np.max(np.abs(mine - ref[scale])))
                    row.append(f"{scale} {str(dtype)[6:]} {d:.1e}")
                    if dtype == torch.float64:
                        worst = max(worst, d)
            torch.set_default_dtype(torch.float32)
            print("  ".join(row))
        images_ok = notebook(args.livespec, torch, T, Path(tmp))
    ok = worst <= args.limit and images_ok
    print(f"largest difference from float64 torchaudio: {worst:.2e} dB ({'ok' if ok else 'FAIL'})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
