"""Where the jobs of a folder export run: the one interface shared by the process pool
(:mod:`.pool`, the default) and Dask distributed (:mod:`.cluster`, ``--scheduler``).

A backend is a context manager (entered before the progress bar starts, so that a
scheduler that cannot be reached ends the command with one line, and left on every exit
path) whose :meth:`Backend.run` yields one :class:`~livespec.export.job.JobResult` per
job, in the order they complete. The caller (:func:`livespec.export.run.run_jobs`) has
already skipped the jobs whose outputs all exist, and reports each result in its own
thread: the progress bar and the summary are the same whatever the backend.

:func:`pick_backend` reads ``--scheduler`` and ``--jobs``; Dask is imported only when
``--scheduler`` is given. Main thread.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Protocol

from livespec.errors import UsageError
from livespec.export.job import ExportOptions, Job, JobResult, default_workers


class Backend(Protocol):
    """Runs export jobs somewhere and yields their results as they complete."""

    def __enter__(self) -> Backend: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def run(self, jobs: Sequence[Job], opts: ExportOptions) -> Iterator[JobResult]:
        """Run ``jobs``; one result per job, as each completes (caller's thread)."""
        ...


def pick_backend(ns: argparse.Namespace) -> Backend:
    """The process pool (``--jobs N``, default all CPUs), or Dask with ``--scheduler``.

    Raises:
        UsageError: a malformed ``--scheduler``, ``--jobs`` with a remote scheduler, or
            Dask not installed.
    """
    scheduler = getattr(ns, "scheduler", None)
    jobs = getattr(ns, "jobs", None)
    if scheduler is None:
        from livespec.export.pool import ProcessPoolBackend

        return ProcessPoolBackend(jobs or default_workers())
    from livespec.export.cluster import DaskBackend, parse_scheduler

    target = parse_scheduler(scheduler)
    if jobs is not None:
        raise UsageError(
            "--jobs does not apply with --scheduler (the cluster's workers run the jobs; "
            "local:N sets their number)"
        )
    return DaskBackend(target)
