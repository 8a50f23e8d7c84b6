"""``livespec export`` stopped from outside: kill -9 ends its workers within seconds,
SIGTERM and SIGHUP remove its temporary files and exit with 143 and 129, and the next run
removes the temporary files a killed run left (only livespec's, only a dead process's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livespec.export import temps

FS = 48000
EXPORT = [sys.executable, "-m", "livespec", "export"]


@pytest.fixture(scope="module")
def long_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two 10-minute 48 kHz files: minutes of CSV work each."""
    d = tmp_path_factory.mktemp("long")
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(60 * FS) / FS)).astype(np.float32)
    paths = (d / "a.wav", d / "b.wav")
    for p in paths:
        with sf.SoundFile(p, "w", FS, 1, "PCM_16") as f:
            for _ in range(10):
                f.write(x)
    return paths


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def leftovers(folder: Path) -> list[str]:
    """The temporary files (``.part``, ``.spill``) in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.suffix in temps.TEMP_SUFFIXES)


def owners(folder: Path) -> set[int]:
    """The processes that own temporary files in ``folder`` (the workers)."""
    return {pid for n in leftovers(folder) if (pid := temps.owner(n)) is not None}


def gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*EXPORT, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_kill_9_ends_the_workers_within_seconds(
    long_inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = start(*map(str, long_inputs), "-o", str(out), "--csv", "--jobs", "2")
    try:
        wait_for(lambda: out.is_dir() and len(owners(out)) == 2, "two busy workers")
        workers = owners(out)
        assert proc.pid not in workers
        proc.kill()
        proc.wait(timeout=10)
        t0 = time.monotonic()
        wait_for(lambda: all(gone(w) for w in workers), "the workers to end", timeout=5.0)
        assert time.monotonic() - t0 < 5.0
        # A busy worker removes its temporary files on the way out.
        assert leftovers(out) == []
    finally:
        for w in owners(out) if out.is_dir() else ():
            if not gone(w):
                os.kill(w, signal.SIGKILL)
        proc.kill()
        proc.communicate()


def test_the_next_run_removes_what_a_killed_run_left(
    long_inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = start(str(long_inputs[0]), "-o", str(out), "--csv", "--npy", "--jobs", "1")
    wait_for(lambda: out.is_dir() and len(leftovers(out)) >= 2, "temporary files")
    proc.kill()  # in-process: nothing can clean up after kill -9
    proc.communicate(timeout=10)
    left = leftovers(out)
    assert left and all(n.startswith(".a.") for n in left)
    # Temporary files of a live process, and files livespec did not name, stay.
    live = out / f".x.npy.livespec-{os.getpid()}-0123abcd.part"
    foreign = out / ".x.npy.12345.0123abcd.part"
    live.write_bytes(b"x")
    foreign.write_bytes(b"x")
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(FS, np.float32), FS)
    done = subprocess.run([*EXPORT, str(short), "-o", str(out), "--npy"], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert leftovers(out) == sorted([foreign.name, live.name])
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["short.npy"]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_remove_temporary_files_with_a_documented_status(
    long_inputs: tuple[Path, Path], tmp_path: Path, sig: signal.Signals, status: int, jobs: str
) -> None:
    out = tmp_path / "out"
    proc = start(*map(str, long_inputs), "-o", str(out), "--csv", "--jobs", jobs)
    want = 2 if jobs == "2" else 1
    wait_for(lambda: out.is_dir() and len(owners(out)) == want, "busy workers")
    workers = owners(out) - {proc.pid}
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == status, err
    lines = err.decode().splitlines()
    assert lines == [f"livespec: export: stopped by {sig.name}: 0 inputs: 0 files written, "
                     "0 failed"]  # fmt: skip
    assert leftovers(out) == [] and list(out.iterdir()) == []
    wait_for(lambda: all(gone(w) for w in workers), "the workers to end", timeout=5.0)


def test_temporary_names_are_livespecs_and_carry_the_pid(tmp_path: Path) -> None:
    name = temps.temp_name(tmp_path / "x.npy").name
    assert name.startswith(".x.npy.livespec-") and name.endswith(".part")
    assert temps.owner(name) == os.getpid()
    assert temps.owner(temps.temp_name(tmp_path / "x.csv", ".spill").name) == os.getpid()
    for other in ("x.npy", ".x.npy.123.abcd1234.part", ".x.livespec-0-0123abcd.part", ".part"):
        assert temps.owner(other) is None


def test_a_stopped_export_starts_no_queued_input(
    long_inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGTERM while two workers are busy and a third input waits in the pool's queue: the
    workers end with their jobs, and none of them goes on to export the waiting input
    (it once did, writing c.csv after 'stopped by SIGTERM: ... 0 files written')."""
    short = tmp_path / "c.wav"
    sf.write(short, np.zeros(FS, np.float32), FS)
    out = tmp_path / "out"
    proc = start(*map(str, long_inputs), str(short), "-o", str(out), "--csv", "--jobs", "2")
    wait_for(lambda: out.is_dir() and len(owners(out)) == 2, "two busy workers")
    assert not (out / "c.csv").exists()
    workers = owners(out) - {proc.pid}
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, err
    wait_for(lambda: all(gone(w) for w in workers), "the workers to end", timeout=5.0)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_says_what_was_done_as_sigterm_does(
    long_inputs: tuple[Path, Path], tmp_path: Path, jobs: str
) -> None:
    """SIGINT (Ctrl-C) ends the export with status 130, its temporary files removed and,
    as after SIGTERM or SIGHUP, the one line that says what was done (docs/export.md:
    "After a signal ... one line says what was done"); it said nothing."""
    out = tmp_path / "out"
    proc = start(*map(str, long_inputs), "-o", str(out), "--csv", "--jobs", jobs)
    want = 2 if jobs == "2" else 1
    wait_for(lambda: out.is_dir() and len(owners(out)) == want, "busy workers")
    workers = owners(out) - {proc.pid}
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.decode().splitlines() == [
        "livespec: export: stopped by SIGINT: 0 inputs: 0 files written, 0 failed"
    ]
    assert leftovers(out) == [] and list(out.iterdir()) == []
    wait_for(lambda: all(gone(w) for w in workers), "the workers to end", timeout=5.0)
