"""The default backend of a folder export: a local process pool (``--jobs N``), or this
process for one worker or one job.

Workers are started by "forkserver" (or "spawn") without re-running ``__main__``, set up
by :func:`~livespec.export.worker.worker_init` (signals, dying with the export), and a
pool broken by a dying worker is replaced: the unfinished jobs run again one at a time.
Main thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import types
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from livespec.export.job import ExportOptions, Job, JobResult, default_workers, run_job
from livespec.export.segment import parts_fork
from livespec.export.worker import run_in_worker, worker_init

if TYPE_CHECKING:
    from concurrent.futures import Executor
    from multiprocessing.context import BaseContext


class ProcessPoolBackend:
    """Runs jobs in ``workers`` processes (in this process when ``workers`` is 1 or there
    is one job); see :class:`~livespec.export.backend.Backend`."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def __enter__(self) -> ProcessPoolBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def run(self, jobs: Sequence[Job], opts: ExportOptions) -> Iterator[JobResult]:
        """Results as they complete (caller's thread)."""
        if self.workers <= 1 or len(jobs) <= 1:
            # One job at a time here: a long input may be analysed in two parts
            # (.segment), the second in a forked process whatever the load (the two wait
            # on no GIL), or on a thread only when a CPU is idle.
            second = default_workers() if parts_fork() else idle_cpus()
            one = dataclasses.replace(opts, threads=min(2, self.workers, second))
            for job in jobs:
                yield run_job(job, one)
            return
        yield from _run_pool(jobs, opts, min(self.workers, len(jobs)))


def idle_cpus() -> int:
    """Threads worth running for one job: 1, plus one for each of this process's CPUs
    that the 1-minute load average leaves at least half idle (2 CPUs: 2 below a load of
    1.5). A second analysis thread on a busy machine gains nothing and loses time waiting
    for the GIL whenever the other thread is preempted holding it (a forked second part
    does not: :func:`~livespec.export.segment.parts_fork`)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return default_workers()
    cpus = default_workers()
    return max(1, min(cpus, 1 + math.floor(cpus - load + 0.5)))


def _pool_context() -> BaseContext:
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["livespec.export.worker"])
        return ctx
    return mp.get_context("spawn")


@contextlib.contextmanager
def main_not_reimported() -> Iterator[None]:
    """Start workers without re-running the ``__main__`` module in them.

    A "forkserver" or "spawn" worker normally imports the parent's main module first; when
    that module runs livespec unguarded (``python -m livespec``, whose ``__main__`` calls
    ``main()`` at import), every worker would start an export of its own. The workers only
    need :func:`~livespec.export.job.run_job`, so they are started while ``__main__`` is a
    bare module. Caller's thread; ProcessPoolExecutor starts workers inside ``submit``.
    """
    real = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


def _terminate(executor: Executor) -> None:
    stop = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if stop is not None:
        stop()
        return
    for p in list(getattr(executor, "_processes", {}).values()):  # earlier: no public API
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.terminate()


def _run_pool(jobs: Sequence[Job], opts: ExportOptions, workers: int) -> Iterator[JobResult]:
    """Results from a process pool, as they complete. A worker that dies (killed, out of
    memory) breaks the pool: the unfinished jobs are run again one at a time, and the one
    running when a single worker dies is reported as failed."""
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pending = list(jobs)
    width = workers
    ctx = _pool_context()
    while pending:
        ex = ProcessPoolExecutor(
            max_workers=width,
            mp_context=ctx,
            initializer=worker_init,
            initargs=(os.getpid(),),
        )
        futures: dict[Future[JobResult], int] = {}
        broken: list[int] = []
        try:
            with main_not_reimported():
                for i, job in enumerate(pending):
                    futures[ex.submit(run_in_worker, job, opts)] = i
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken.append(futures[fut])
        except BaseException:
            _terminate(ex)
            ex.shutdown(wait=True, cancel_futures=True)
            raise
        ex.shutdown(wait=True)
        if not broken:
            return
        broken.sort()
        if width == 1:
            first = pending[broken[0]]
            yield JobResult(first.label, "failed", "the worker process died (out of memory?)")
            broken = broken[1:]
        pending = [pending[i] for i in broken]
        width = 1
