"""Running docs/api.md's doctests and the scripts in examples/ with a given interpreter:
the test venv's (tests/test_api.py) or a fresh venv's (tests/test_fresh_install.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
FS = 48000
DOCTEST = """
import doctest, json, sys
import livespec
flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
r = doctest.testfile(sys.argv[1], module_relative=False, optionflags=flags)
print(json.dumps({"attempted": r.attempted, "failed": r.failed, "livespec": livespec.__file__}))
"""


def clean_env() -> dict[str, str]:
    """This process's environment without PYTHONPATH/PYTHONHOME (so a fresh venv imports
    its own installed livespec, not this source tree)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def run(python: str, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def run_doctests(python: str, cwd: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    """docs/api.md's examples run with ``python`` in ``cwd``; returns doctest's counts and
    the ``livespec/__init__.py`` that was imported."""
    import json

    out = run(python, ["-c", DOCTEST, str(ROOT / "docs" / "api.md")], cwd, env)
    result: dict[str, object] = json.loads(out.splitlines()[-1])
    assert result["failed"] == 0, out
    assert isinstance(result["attempted"], int) and result["attempted"] > 30
    return result


def run_examples(
    python: str, scripts: Path, tmp: Path, env: dict[str, str] | None = None
) -> dict[str, str]:
    """Every script in ``scripts`` (examples/ or a copy) run with ``python`` in ``tmp`` on a
    12 s gliding tone; checks what each writes; returns their stdout by script name."""
    names = sorted(p.name for p in scripts.glob("*.py"))
    assert names == ["clip_to_png.py", "db_plot.py", "live_peaks.py", "peak_logger.py"], (
        "a new example: give it arguments and checks here"
    )
    t = np.arange(12 * FS) / FS
    y = (0.25 * np.sin(2 * np.pi * (440 + 20 * t) * t)).astype(np.float32)
    src = tmp / "bird.wav"
    sf.write(src, y, FS, subtype="FLOAT")
    argv = {
        "clip_to_png.py": [str(src), str(tmp / "clips")],
        "db_plot.py": [str(src), str(tmp / "plot.png")],
        "peak_logger.py": [str(src)],
        "live_peaks.py": ["--input", "tone:1000", "--duration", "1"],
    }
    out = {n: run(python, [str(scripts / n), *argv[n]], tmp, env) for n in names}
    assert sorted(p.name for p in (tmp / "clips").iterdir()) == ["bird_10.png", "bird_5.png"]
    from PIL import Image

    assert Image.open(tmp / "plot.png").size == (800, 300)
    lines = out["peak_logger.py"].splitlines()
    assert lines[0] == "time_s,freq_hz,level_dbfs,note,cents" and len(lines) == 1 + 12
    t1, f1, level = (float(v) for v in lines[2].split(",")[:3])
    assert f1 == pytest.approx(440 + 40 * t1, abs=1.0) and level == pytest.approx(-12.04, abs=0.1)
    lines = out["live_peaks.py"].splitlines()
    assert len(lines) == 2 and all(" 1000.00 Hz " in line for line in lines), lines
    return out
