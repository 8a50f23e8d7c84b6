"""A fresh venv (no system site-packages) with ``pip install <the repo>``: every example in
docs/api.md and every script in examples/, unchanged, run from a folder outside the repo
with the installed package (issue #13's "done when"). Needs pip to reach its index.

Slow (a venv and an install: about 20 to 60 s here), so it runs with ``pytest -m slow``.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from support.examples import ROOT, clean_env, run, run_doctests, run_examples

# What `pip install .` needs of the tree: a copy, so that the build's build/ and
# *.egg-info are not written into the repo.
PACKAGE = ["pyproject.toml", "README.md", "LICENSE", "livespec"]


@pytest.mark.slow
def test_a_fresh_venv_runs_the_docs_and_examples(tmp_path: Path) -> None:
    t0 = time.monotonic()
    src = tmp_path / "src"
    src.mkdir()
    for name in PACKAGE:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(p, src / name)
    env = clean_env()
    venv = tmp_path / "venv"
    run(sys.executable, ["-m", "venv", str(venv)], tmp_path, env)
    py = str(venv / "bin" / "python")
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    in_venv = run(py, ["-c", "import sys; print(sys.prefix != sys.base_prefix)"], tmp_path, env)
    assert in_venv.strip() == "True"
    run(py, ["-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)], tmp_path, env)
    installed = time.monotonic()

    work = tmp_path / "work"  # outside the repo: the installed package, not the tree
    (work / "docs").mkdir(parents=True)
    result = run_doctests(py, work / "docs", env)
    assert str(result["livespec"]).startswith(str(venv)), result
    scripts = work / "examples"
    shutil.copytree(ROOT / "examples", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    run_examples(py, scripts, work, env)
    # No package a plain `pip install livespec` does not bring (librosa, scipy) was used.
    leaked = (
        "import importlib.util as u; print([m for m in ('scipy', 'librosa') if u.find_spec(m)])"
    )
    assert run(py, ["-c", leaked], work, env).strip() == "[]"
    print(
        f"\nfresh venv: install {installed - t0:.1f} s, docs and examples "
        f"{time.monotonic() - installed:.1f} s"
    )
