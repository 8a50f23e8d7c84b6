"""The Dask backend of a folder export: ``--scheduler tcp://HOST:PORT`` (a running Dask
scheduler) or ``--scheduler local:N`` (a local Dask cluster of N worker processes).

Each job is one Dask task running :func:`~livespec.export.job.run_job` on a worker, so the
outputs are the bytes a local run writes. The paths are made absolute here and must mean
the same files on every worker (a shared file system). Outputs are written as on the
pool: to a hidden temporary file in the target folder, renamed into place when complete
(:mod:`.temps`); the temporary files of this run carry the export process's pid, and are
removed once every job has ended, those of workers killed meanwhile included.

A worker that dies while running a job (killed, out of memory) has its jobs rescheduled
on the others by the scheduler, up to Dask's ``distributed.scheduler.allowed-failures``
times (3) for one job; a job that killed that many workers is reported as failed.

Dask (``pip install 'livespec[cluster]'``) is imported only when a backend is entered, and
this module only when ``--scheduler`` is given. The backend runs in the main thread; the
task function :func:`run_on_cluster` runs in a worker's thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from livespec.errors import UsageError
from livespec.export.job import ExportOptions, Job, JobResult, run_job
from livespec.export.temps import owned_by, remove_owned

NEEDS_DASK = "--scheduler needs dask: pip install 'livespec[cluster]'"
CONNECT_TIMEOUT_S = 5.0  # seconds to reach a scheduler before giving up
MAX_LOCAL_WORKERS = 256
_PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx")
_HOST_PORT = re.compile(r"[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5}")
_DIED = "the worker process died (out of memory?)"


@dataclass(frozen=True)
class Scheduler:
    """Where to run: a scheduler's ``address``, or a local cluster of ``local`` workers."""

    address: str | None = None
    local: int | None = None

    def describe(self) -> str:
        return f"local:{self.local}" if self.local is not None else str(self.address)


def parse_scheduler(value: str) -> Scheduler:
    """``local:N`` or a scheduler address (``tcp://HOST:PORT``; ``HOST:PORT`` means tcp).

    Raises:
        UsageError: anything else, or Dask not installed.
    """
    v = value.strip()
    m = re.fullmatch(r"local:([0-9]+)", v)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= MAX_LOCAL_WORKERS:
            raise UsageError(f"--scheduler {value}: N must be 1 to {MAX_LOCAL_WORKERS}")
        target = Scheduler(local=n)
    else:
        proto, sep, rest = v.partition("://")
        if not sep:
            proto, rest = "tcp", v
        if proto not in _PROTOCOLS or not _HOST_PORT.fullmatch(rest):
            raise UsageError(
                f"--scheduler {value!r}: expected tcp://HOST:PORT (a Dask scheduler) or "
                "local:N (a local Dask cluster of N workers)"
            )
        target = Scheduler(address=f"{proto}://{rest}")
    try:
        found = importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):  # a parent missing; a module set to None
        found = False
    if not found:
        raise UsageError(NEEDS_DASK)
    return target


_ONE_AT_A_TIME = threading.Lock()  # jobs of one worker process never overlap


def run_on_cluster(job: Job, opts: ExportOptions, owner: int) -> JobResult:
    """The Dask task: :func:`~livespec.export.job.run_job` with its temporary files named
    as owned by the export process ``owner``. Worker thread; a worker with several
    threads runs its jobs one at a time (the FFT plans and the silencing of native
    stderr are per process)."""
    with _ONE_AT_A_TIME, owned_by(owner):
        return run_job(job, opts)


def _absolute(job: Job) -> Job:
    return dataclasses.replace(
        job,
        input=job.input.absolute(),
        outputs=tuple((fmt, p.absolute()) for fmt, p in job.outputs),
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _distributed() -> Any:
    """The ``distributed`` package (untyped to us; ImportError if missing)."""
    import distributed

    return distributed


def _probe(address: str, timeout: float) -> None:
    """Refuse at once (:class:`UsageError`) a scheduler address nothing listens on, or
    that does not answer within ``timeout`` seconds (a plain TCP connection)."""
    import socket

    proto, _, rest = address.partition("://")
    if proto == "ucx":
        return
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else (_os_reason(exc))
        raise UsageError(
            f"--scheduler {address}: cannot reach the scheduler within {timeout:g} s ({why})"
        ) from None


def _os_reason(exc: BaseException) -> str:
    return (getattr(exc, "strerror", None) or _one_line(exc)).lower()


def _discard_client(exc: BaseException) -> None:
    """Close the Client a failed constructor left behind at once, so that its finaliser
    does not wait seconds for a connection that never became a scheduler's."""
    client_type = _distributed().Client
    tb = exc.__traceback__
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if isinstance(obj, client_type):
            with contextlib.suppress(Exception):
                obj.close(timeout=1)
            with contextlib.suppress(Exception):
                obj.status = "closed"
                obj._loop_runner.stop()
            return
        tb = tb.tb_next


class DaskBackend:
    """Runs export jobs as Dask tasks; see :class:`~livespec.export.backend.Backend`."""

    def __init__(self, target: Scheduler, connect_timeout: float = CONNECT_TIMEOUT_S) -> None:
        self.target = target
        self.connect_timeout = connect_timeout
        self._client: Any = None
        self._cluster: Any = None
        self._log_level: int | None = None

    def __enter__(self) -> DaskBackend:
        try:
            dd = _distributed()
        except ImportError:
            raise UsageError(NEEDS_DASK) from None
        log = logging.getLogger("distributed")
        self._log_level = log.level
        log.setLevel(logging.ERROR)  # one line per problem, from livespec
        try:
            if self.target.local is not None:
                from livespec.export.pool import main_not_reimported

                with main_not_reimported():
                    self._cluster = dd.LocalCluster(
                        n_workers=self.target.local,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                self._client = dd.Client(self._cluster, set_as_default=False)
            else:
                address = str(self.target.address)
                _probe(address, self.connect_timeout)
                try:
                    self._client = dd.Client(
                        address, timeout=self.connect_timeout, set_as_default=False
                    )
                except Exception as exc:
                    _discard_client(exc)
                    why = (
                        _one_line(exc)
                        if isinstance(exc, OSError)
                        else "what answered is not a Dask scheduler"
                    )
                    raise UsageError(f"--scheduler {address}: {why}") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for thing in (self._client, self._cluster):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close()
        self._client = self._cluster = None
        if self._log_level is not None:
            logging.getLogger("distributed").setLevel(self._log_level)
            self._log_level = None

    def run(self, jobs: Sequence[Job], opts: ExportOptions) -> Iterator[JobResult]:
        """Submit every job, then yield results as they complete (caller's thread). On
        every way out, jobs not finished are cancelled and this run's temporary files
        removed."""
        dd = _distributed()
        client = self._client
        if client is None:
            raise RuntimeError("DaskBackend.run outside its with block")
        todo = [_absolute(job) for job in jobs]
        with contextlib.suppress(Exception):
            if not client.scheduler_info().get("workers"):
                print(
                    f"livespec: export: {self.target.describe()} has no workers yet; "
                    "the files wait for one",
                    file=sys.stderr,
                    flush=True,
                )
        owner = os.getpid()
        run_id = secrets.token_hex(4)
        folders = sorted({p.parent for job in todo for _, p in job.outputs})
        futures: dict[Any, Job] = {}
        try:
            for i, job in enumerate(todo):
                fut = client.submit(
                    run_on_cluster,
                    job,
                    opts,
                    owner,
                    key=f"livespec-export-{run_id}-{i}",
                    pure=False,
                )
                futures[fut] = job
            for fut in dd.as_completed(list(futures), loop=client.loop):
                label = futures[fut].label
                try:
                    res: JobResult = fut.result()
                except dd.KilledWorker:
                    res = JobResult(label, "failed", _DIED)
                except Exception as exc:  # lost scheduler, livespec missing on a worker
                    res = JobResult(label, "failed", f"on the cluster: {_one_line(exc)}")
                yield res
        finally:
            with contextlib.suppress(Exception):
                client.cancel([f for f in futures if not f.done()])
            for folder in folders:
                remove_owned(folder, owner)
