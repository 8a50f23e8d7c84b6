"""``livespec export`` at work: jobs run on a backend (:mod:`.backend`: this process or a
process pool, or Dask with ``--scheduler``), failed inputs reported in one line each, a
progress bar on a terminal, and the summary.

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
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from livespec.config import Config
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    counted,
    handle_signals,
    printable,
    restore_signals,
)
from livespec.export.applies import build_page, check_options, preset_notes
from livespec.export.backend import Backend, pick_backend
from livespec.export.job import STDIN, ExportOptions, Job, JobResult
from livespec.export.plan import build_options, plan_jobs
from livespec.export.temps import remove_stale

if TYPE_CHECKING:
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
    previous = handle_signals(STOP_STATUS, _raise_stopped)
    try:
        yield
    finally:
        restore_signals(previous)


def _all_exist(job: Job, opts: ExportOptions) -> bool:
    return (
        opts.clip is None
        and not opts.force
        and all(p.exists() and not p.is_dir() for _, p in job.outputs)
    )


def run_jobs(
    jobs: Sequence[Job],
    opts: ExportOptions,
    backend: Backend,
    report: Callable[[JobResult], None],
) -> list[JobResult]:
    """Run ``jobs`` on ``backend`` (the process pool or Dask, :mod:`.backend`), skipping
    those whose outputs all exist; ``report`` is called in this thread with each result
    as it completes."""
    results: list[JobResult] = []
    todo: list[Job] = []
    for job in jobs:
        if _all_exist(job, opts):
            res = JobResult(job.label, "skipped", existing=len(job.outputs))
            results.append(res)
            report(res)
        else:
            todo.append(job)
    if not todo:
        return results
    for res in backend.run(todo, opts):
        results.append(res)
        report(res)
    return results


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
        lines = [f"livespec: {s}" for s in res.notes]
        if res.status == "failed":
            lines.append(f"livespec: {res.label}: {res.message}")
        for line in lines:
            if self._progress is not None:
                self._progress.console.print(
                    printable(line), markup=False, highlight=False, soft_wrap=True
                )
            else:
                print(printable(line), file=sys.stderr, flush=True)
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


def summary(results: Sequence[JobResult], ignored: int) -> str:
    """One line: outputs written and skipped (they existed), inputs failed, e.g.
    ``livespec: export: 20 inputs: 12 files written, 30 skipped (exist; --force to redo),
    1 failed`` (``1 input: 1 file written, 0 failed``)."""
    failed = sum(r.status == "failed" for r in results)
    written = sum(r.written for r in results)
    existing = sum(r.existing for r in results)
    parts = [f"{counted(written, 'file')} written"]
    short = sum(r.status == "short" for r in results)
    if existing:
        verb = "exists" if existing == 1 else "exist"
        parts.append(f"{existing} skipped ({verb}; --force to redo)")
    if short:
        parts.append(f"{counted(short, 'file')} shorter than one clip (no output)")
    if ignored:
        parts.append(f"{counted(ignored, 'non-audio file')} ignored")
    parts.append(f"{failed} failed")
    return f"livespec: export: {counted(len(results), 'input')}: " + ", ".join(parts)


def run(ns: argparse.Namespace, cfg: Config) -> int:
    """Run ``livespec export`` (see :func:`livespec.cli.export.run_export`)."""
    opts = build_options(ns, cfg)
    jobs, ignored, notes = plan_jobs(ns)
    check_options(ns, opts, jobs)
    if jobs[0].input == STDIN and (sys.stdin is None or sys.stdin.isatty()):
        raise UsageError(  # as `peaks --input -` says, instead of waiting for a terminal
            "export - reads a WAV, FLAC, OGG or AIFF stream from stdin: pipe one in, e.g. "
            "sox in.mp3 -t flac - | livespec export - -o in.npy"
        )
    for line in [*notes, *preset_notes(ns, opts, jobs)]:
        print(line, file=sys.stderr, flush=True)
    backend = pick_backend(ns)  # the process pool, or Dask with --scheduler
    opts = dataclasses.replace(opts, page=build_page(ns, jobs))
    bar = len(jobs) > 1 and sys.stderr.isatty()
    for folder in sorted({p.parent for job in jobs for _, p in job.outputs}):
        remove_stale(folder)  # left by a run that was killed (docs/export.md)
    done: list[JobResult] = []

    def report(res: JobResult) -> None:
        done.append(res)
        reporter(res)

    try:
        with backend, _stop_signals(), _Reporter(len(jobs), bar) as reporter:
            results = run_jobs(jobs, opts, backend, report)
    except (Stopped, KeyboardInterrupt) as exc:  # the temporary files are gone by now
        name = signal.Signals(exc.signum).name if isinstance(exc, Stopped) else "SIGINT"
        line = summary(done, ignored).replace("livespec: export: ", "", 1)
        print(f"livespec: export: stopped by {name}: {line}", file=sys.stderr, flush=True)
        return STOP_STATUS.get(name, EXIT_INTERRUPTED)
    failed = sum(r.status == "failed" for r in results)
    quiet_single = len(results) == 1 and results[0].status in ("done", "failed")
    quiet_single = quiet_single and not results[0].existing
    if not quiet_single:
        print(summary(results, ignored), file=sys.stderr, flush=True)
    return EXIT_FAILURE if failed else EXIT_OK
