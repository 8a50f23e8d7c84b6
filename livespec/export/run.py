"""``livespec export`` at work: jobs run in this process or in a process pool, failed
inputs reported in one line each, a progress bar on a terminal, and the summary.

Imported only when the command runs (:func:`livespec.cli.export.run_export`). Rich is imported
only for the progress bar; Textual never.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from livespec.config import Config
from livespec.errors import EXIT_FAILURE, EXIT_OK, printable
from livespec.export.job import ExportOptions, Job, JobResult, default_workers, run_job
from livespec.export.plan import build_options, build_page, plan_jobs
from livespec.export.temps import remove_stale
from livespec.export.worker import run_in_worker, worker_init

if TYPE_CHECKING:
    from concurrent.futures import Executor
    from multiprocessing.context import BaseContext
    from types import FrameType

    from rich.progress import Progress, TaskID


class Stopped(BaseException):
    """SIGTERM or SIGHUP reached the export process (raised in the main thread)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_STATUS = {"SIGTERM": 143, "SIGHUP": 129}  # 128 + the signal's number


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Stopped` in the main thread while an export runs,
    so that temporary files are removed on the way out (a signal that was ignored at the
    start stays ignored, as under ``nohup``)."""
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for name in STOP_STATUS:
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _all_exist(job: Job, opts: ExportOptions) -> bool:
    return opts.clip is None and not opts.force and all(p.exists() for _, p in job.outputs)


def _pool_context() -> BaseContext:
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["livespec.export.worker"])
        return ctx
    return mp.get_context("spawn")


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
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


def run_jobs(
    jobs: Sequence[Job],
    opts: ExportOptions,
    workers: int,
    report: Callable[[JobResult], None],
) -> list[JobResult]:
    """Run ``jobs`` in this process (``workers == 1`` or one job) or in a process pool;
    ``report`` is called in this thread with each result as it completes."""
    results: list[JobResult] = []
    todo: list[Job] = []
    for job in jobs:
        if _all_exist(job, opts):
            res = JobResult(job.label, "skipped", existing=len(job.outputs))
            results.append(res)
            report(res)
        else:
            todo.append(job)
    if workers <= 1 or len(todo) <= 1:
        for job in todo:
            res = run_job(job, opts)
            results.append(res)
            report(res)
        return results
    for res in _run_pool(todo, opts, min(workers, len(todo))):
        results.append(res)
        report(res)
    return results


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
            with _main_not_reimported():
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


class _Reporter:
    """Prints failed inputs as they come (one line each) and drives the progress bar."""

    def __init__(self, total: int, bar: bool) -> None:
        self.total = total
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._stream: TextIO | None = None
        if bar:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            # A duplicate of stderr: jobs run in this process silence descriptor 2.
            self._stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
            self._progress = Progress(
                TextColumn("export"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self._stream),
                transient=True,
            )
            self._task = self._progress.add_task("export", total=total)

    def __enter__(self) -> _Reporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self._stream is not None:
            self._stream.close()

    def __call__(self, res: JobResult) -> None:
        if res.status == "failed":
            line = f"livespec: {res.label}: {res.message}"
            if self._progress is not None:
                self._progress.console.print(
                    printable(line), markup=False, highlight=False, soft_wrap=True
                )
            else:
                print(printable(line), file=sys.stderr, flush=True)
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


def summary(results: Sequence[JobResult], ignored: int) -> str:
    """One line: inputs done, skipped and failed, outputs written."""
    done = sum(r.status == "done" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    failed = sum(r.status == "failed" for r in results)
    written = sum(r.written for r in results)
    existing = sum(r.existing for r in results)
    parts = [f"{done} file(s) exported ({written} output(s))"]
    short = sum(r.status == "short" for r in results)
    if skipped or existing:
        parts.append(f"{existing} existing output(s) skipped (--force overwrites)")
    if short:
        parts.append(f"{short} file(s) shorter than one clip (no output)")
    if ignored:
        parts.append(f"{ignored} non-audio file(s) ignored")
    parts.append(f"{failed} failed")
    return "livespec: export: " + ", ".join(parts)


def run(ns: argparse.Namespace, cfg: Config) -> int:
    """Run ``livespec export`` (see :func:`livespec.cli.export.run_export`)."""
    opts = build_options(ns, cfg)
    jobs, ignored = plan_jobs(ns)
    opts = dataclasses.replace(opts, page=build_page(ns, jobs))
    workers = getattr(ns, "jobs", None) or default_workers()
    bar = len(jobs) > 1 and sys.stderr.isatty()
    for folder in sorted({p.parent for job in jobs for _, p in job.outputs}):
        remove_stale(folder)  # left by a run that was killed (docs/export.md)
    done: list[JobResult] = []

    def report(res: JobResult) -> None:
        done.append(res)
        reporter(res)

    try:
        with _stop_signals(), _Reporter(len(jobs), bar) as reporter:
            results = run_jobs(jobs, opts, workers, report)
    except Stopped as exc:
        name = signal.Signals(exc.signum).name
        line = summary(done, ignored).replace("livespec: export: ", "", 1)
        print(f"livespec: export: stopped by {name}: {line}", file=sys.stderr, flush=True)
        return STOP_STATUS[name]
    failed = sum(r.status == "failed" for r in results)
    quiet_single = len(results) == 1 and results[0].status in ("done", "failed")
    if not quiet_single:
        print(summary(results, ignored), file=sys.stderr, flush=True)
    return EXIT_FAILURE if failed else EXIT_OK
