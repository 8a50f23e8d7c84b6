"""The set-up of an export worker process: signals, and dying with the export.

A worker ignores Ctrl-C and SIGHUP (the export process handles them and stops its
workers) and turns SIGTERM into ``SystemExit``, so a stopped worker removes its temporary
files on the way out, then ends rather than start an input waiting in the pool's queue.
It must also end when the export process itself is killed (``kill -9``): a worker
started by the "forkserver" method is the fork server's child, not the export's, so the
parent-death signal of Linux (``prctl(PR_SET_PDEATHSIG)``) alone is not enough. A
watchdog thread waits on the export process (a pidfd, or polling its pid where there is
none) and sends the worker SIGTERM when it is gone: an idle worker ends at once, a busy
one as soon as its job has removed its temporary files (:func:`run_in_worker`), and one
that has not ended within :data:`GRACE_S` seconds ends then.

Runs in the worker process, from the pool's initializer.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from types import FrameType

from livespec.export.job import ExportOptions, Job, JobResult, run_job

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_S = 0.25  # how often the watchdog looks at the export process without a pidfd
GRACE_S = 5.0  # seconds a worker has to clean up once the export is gone
EXIT_TERMINATED = 143  # 128 + SIGTERM


_stopped = threading.Event()  # SIGTERM reached this worker (the export stops it)


def _term(signum: int, frame: FrameType | None) -> None:
    _stopped.set()
    raise SystemExit(EXIT_TERMINATED)


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent ends; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _wait_for_exit(pid: int) -> None:
    """Return once process ``pid`` has ended (watchdog thread)."""
    fd = -1
    with contextlib.suppress(OSError, AttributeError):
        fd = os.pidfd_open(pid)
    if fd >= 0:
        try:
            select.select([fd], [], [])
        finally:
            os.close(fd)
        return
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except OSError:
            pass
        if os.getppid() == 1:  # re-parented to init: the parent chain is gone
            return
        time.sleep(POLL_S)


_orphaned = threading.Event()  # set by the watchdog once the export process is gone


def run_in_worker(job: Job, opts: ExportOptions) -> JobResult:
    """:func:`~livespec.export.job.run_job` in a worker: if the export process went away
    or stopped this worker (SIGTERM) meanwhile, the worker ends as soon as the job has
    cleaned up (its temporary files are removed on the way out), instead of waiting for
    work that will never come or taking the next input from the pool's queue (the pool
    catches the job's ``SystemExit`` and would run the next one)."""
    try:
        return run_job(job, opts)
    finally:
        if _orphaned.is_set() or _stopped.is_set():
            os._exit(EXIT_TERMINATED)


def _watch(pid: int) -> None:
    _wait_for_exit(pid)
    _orphaned.set()
    with contextlib.suppress(OSError):
        os.kill(os.getpid(), signal.SIGTERM)  # the main thread cleans up and exits
    time.sleep(GRACE_S)
    os._exit(EXIT_TERMINATED)


def worker_init(export_pid: int) -> None:
    """The pool's initializer: signals, parent-death signal and the watchdog on
    ``export_pid`` (the export process, alive when this runs)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _term)
    set_parent_death_signal(signal.SIGTERM)
    try:
        os.kill(export_pid, 0)
    except ProcessLookupError:  # gone before this worker started
        raise SystemExit(EXIT_TERMINATED) from None
    except OSError:
        pass
    watchdog = threading.Thread(target=_watch, args=(export_pid,), name="livespec-watchdog")
    watchdog.daemon = True
    watchdog.start()
