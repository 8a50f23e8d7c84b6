"""``livespec export --scheduler``: a folder exported on Dask distributed gives the bytes of
the default (process pool) run, survives a worker killed mid-run without a half-written or
temporary file left, resumes like a local run, and refuses what it cannot do in one line.

The cluster is real: a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1
(random ports), ended by the fixture."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from livespec.export import temps

ROOT = Path(__file__).resolve().parents[1]
FS = 16000
N_FILES = 40
SECONDS = 10  # each file takes about 0.05-0.2 s to export with ARGS: time to kill mid-run
ARGS = ["--npy", "--png", "--size", "256x128", "--fft", "1024", "--hop", "64"]
ARGS += ["--scale", "mel", "--n-mels", "64"]
FRAMES = (SECONDS * FS - 1024) // 64 + 1  # scipy's framing (no centring), as documented
EXPORT = [sys.executable, "-m", "livespec", "export"]


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``, hidden ones (temporary files) included."""
    return sorted(os.listdir(folder))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 WAVs of 10 s of noise at 16 kHz (16-bit), each a different seed."""
    d = tmp_path_factory.mktemp("in")
    for i in range(N_FILES):
        x = 0.1 * np.random.default_rng(i).standard_normal(SECONDS * FS)
        sf.write(d / f"clip{i:02d}.wav", x.astype(np.float32), FS, subtype="PCM_16")
    return d


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default run (the local process pool)."""
    out = tmp_path_factory.mktemp("ref") / "out"
    r = subprocess.run(
        [*EXPORT, str(inputs), "-o", str(out), *ARGS, "--jobs", "2"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert listing(out) == sorted(
        f"clip{i:02d}.{ext}" for i in range(N_FILES) for ext in ("npy", "png")
    )
    return out


def assert_same_as(reference: Path, out: Path) -> None:
    """Every output once, no temporary file, the reference's bytes, and valid files."""
    assert listing(out) == listing(reference)
    for name in listing(reference):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    a = np.load(out / "clip00.npy")
    assert a.dtype == np.float32 and a.shape == (FRAMES, 64)
    assert np.isfinite(a).all()
    with Image.open(out / "clip00.png") as im:
        im.load()
        assert im.size == (256, 128)


@dataclass
class DaskCluster:
    address: str
    workers: list[subprocess.Popen[bytes]]


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    """A scheduler and two single-thread workers without nannies (a killed worker stays
    dead), as separate processes on 127.0.0.1; all killed at the end."""
    from distributed import Client

    procs: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "dask-logs"
    logs.mkdir()

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(logs / f"{name}.log", "wb") as log:
            p = subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_env(),
                cwd=tmp_path,  # not the export's: the jobs' paths must be absolute
            )
        procs.append(p)
        return p

    info = tmp_path / "scheduler.json"
    try:
        start(
            "scheduler",
            "scheduler",
            *("--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
            *("--scheduler-file", str(info), "--idle-timeout", "300"),
        )
        wait_for(lambda: info.exists() and info.stat().st_size > 0, "the scheduler")
        address = json.loads(info.read_text())["address"]
        workers = [
            start(
                f"worker{k}",
                "worker",
                *("--scheduler-file", str(info), "--nthreads", "1", "--no-nanny"),
                *("--no-dashboard", "--host", "127.0.0.1", "--name", f"w{k}"),
                *("--death-timeout", "60"),
            )
            for k in range(2)
        ]
        with Client(address, timeout=30, set_as_default=False) as c:
            c.wait_for_workers(2, timeout=90)
        yield DaskCluster(address, workers)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)


def writing_in(pid: int, folder: Path) -> list[str]:
    """The livespec temporary files in ``folder`` that process ``pid`` has open."""
    names = []
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        fds = list(fd_dir.iterdir())
    except OSError:
        return []
    for fd in fds:
        try:
            target = Path(os.readlink(fd))
        except OSError:
            continue
        if target.parent == folder and temps.owner(target.name) is not None:
            names.append(target.name)
    return names


def test_worker_killed_mid_run(
    inputs: Path, reference: Path, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    victim = dask_cluster.workers[0]
    err = tmp_path / "export.err"
    with open(err, "w") as stderr:
        export = subprocess.Popen(
            [*EXPORT, str(inputs), "-o", str(out), *ARGS, "--scheduler", dask_cluster.address],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=_env(),
        )
    try:
        held: list[str] = []

        def mid_write() -> bool:
            assert export.poll() is None, "the export ended before a worker could be killed"
            done = [n for n in listing(out) if not n.startswith(".")] if out.exists() else []
            if len(done) < 6:
                return False
            held[:] = writing_in(victim.pid, out)
            return bool(held)

        wait_for(mid_write, "a worker writing an output, some outputs done", timeout=120)
        victim.send_signal(signal.SIGKILL)  # half-way through writing `held`
        victim.wait(timeout=30)
        done_at_kill = len([n for n in listing(out) if not n.startswith(".")])
        rc = export.wait(timeout=180)
    finally:
        if export.poll() is None:
            export.kill()
            export.wait()
    text = err.read_text()
    assert rc == 0, text
    assert done_at_kill < 2 * N_FILES  # the kill was mid-run: work was left for the other
    assert dask_cluster.workers[1].poll() is None
    assert held and not set(held) & set(listing(out))  # its temporary file was removed
    assert_same_as(reference, out)


def test_local_cluster_matches_the_default_run_and_resumes(
    inputs: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cmd = [*EXPORT, str(inputs), "-o", str(out), *ARGS, "--scheduler", "local:2"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert_same_as(reference, out)

    # Resumable: a second run writes only what is missing and leaves the rest alone.
    gone = ["clip03.npy", "clip17.png", "clip39.npy"]
    for name in gone:
        (out / name).unlink()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    time.sleep(0.05)
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert_same_as(reference, out)
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert {n for n in after if after[n] != before.get(n)} == set(gone)


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("scheduler", "extra", "expected"),
    [
        (None, [], "cannot reach the scheduler within 5 s (connection refused)"),
        ("local:0", [], "--scheduler local:0: N must be 1 to 256"),
        ("http://x:1", [], "expected tcp://HOST:PORT (a Dask scheduler) or local:N"),
        ("local:2", ["--jobs", "2"], "--jobs does not apply with --scheduler"),
    ],
)
def test_scheduler_usage_errors(
    inputs: Path, tmp_path: Path, scheduler: str | None, extra: list[str], expected: str
) -> None:
    target = scheduler or f"tcp://127.0.0.1:{_free_port()}"
    r = subprocess.run(
        [*EXPORT, str(inputs), "-o", str(tmp_path / "o"), "--scheduler", target, *extra],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert r.returncode == 2
    assert expected in _one_line(r)
    assert not (tmp_path / "o").exists()


def test_scheduler_without_dask_installed(inputs: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['dask'] = sys.modules['distributed'] = None  # as if not installed\n"
        "from livespec.cli import main\n"
        f"sys.exit(main(['export', {str(inputs)!r}, '-o', {str(tmp_path / 'o')!r}, "
        "'--scheduler', 'local:2']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert r.returncode == 2
    assert _one_line(r) == "livespec: --scheduler needs dask: pip install 'livespec[cluster]'"


def test_temporary_files_owned_by_the_export(tmp_path: Path) -> None:
    """A Dask task names its temporary files after the export's pid, and the export
    removes exactly those (a dead worker's included) and nothing else."""
    with temps.owned_by(12345):
        mine = temps.temp_name(tmp_path / "a.npy")
        spill = temps.temp_name(tmp_path / "a.csv", ".spill")
    own = temps.temp_name(tmp_path / "b.npy")
    assert temps.owner(mine.name) == 12345 and temps.owner(spill.name) == 12345
    assert temps.owner(own.name) == os.getpid()
    for p in (mine, spill, own, tmp_path / "a.npy", tmp_path / ".hidden"):
        p.write_bytes(b"x")
    assert temps.remove_owned(tmp_path, 12345) == 2
    assert listing(tmp_path) == sorted([".hidden", "a.npy", own.name])
