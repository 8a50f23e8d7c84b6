"""A function run in a forked copy of this process, its result sent back through a pipe.

A split analysis (:mod:`.segment`) runs its second part in a forked child rather than on
a thread where it can: two threads that analyse in batches hand the GIL to each other at
each of the dozen numpy calls a batch, and one that is preempted holding it stops the
other; two processes share no GIL (a 10-minute 2048x512 PNG, in-process, 21 runs on the
shared machine: 0.32 s median against 0.37 with a thread, 0.24 s against 0.26 at best;
docs/performance.md). The child writes into memory
shared with this process (the image's column sums, :meth:`~livespec.export.reduce.
TimeReducer.share`) and sends back only a small result or its error. It never returns
into the caller's code: it ends with ``os._exit``, so no ``finally`` block, buffered
output or ``atexit`` handler of this process runs twice.

Only on Linux, and only while this process has no other Python thread (:func:`can_fork`):
elsewhere the caller uses a thread. Caller's thread.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ChildFailed(RuntimeError):
    """The child process ended without a result (killed), or with an error that could
    not be sent back as itself (its type name and message instead)."""


def can_fork() -> bool:
    """True if a part of an analysis may run in a forked child: Linux, and no other
    Python thread that could hold a lock the child needs."""
    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a :class:`ChildFailed` naming it."""
    try:
        back = pickle.loads(pickle.dumps(exc))
    except Exception:
        back = None
    if isinstance(back, BaseException) and type(back) is type(exc):
        return exc
    return ChildFailed(f"{type(exc).__name__}: {exc}")


class Child(Generic[T]):
    """``fn()`` running in a forked child; :meth:`result` waits for it.

    Args:
        fn: called in the child only; its return value must pickle.
    """

    def __init__(self, fn: Callable[[], T]) -> None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (its work is checked by its result)
            status = 1
            try:
                gc.disable()  # a collection would copy every page of objects it walks
                os.close(r)
                try:
                    msg: tuple[str, object] = ("ok", fn())
                except BaseException as exc:
                    msg = ("error", _portable(exc))
                data = pickle.dumps(msg)
                view = memoryview(data)
                while view:
                    view = view[os.write(w, view) :]
                status = 0
            finally:
                os._exit(status)
        os.close(w)
        self._pid = pid
        self._r = r

    def result(self) -> T:
        """Wait for the child to end; its return value, or its exception raised here. If
        the wait itself is interrupted (Ctrl-C, SIGTERM), the child is ended first."""
        chunks = []
        try:
            while chunk := os.read(self._r, 1 << 16):
                chunks.append(chunk)
        except BaseException:
            self.kill()
            raise
        status = self._reap()
        if not chunks:
            raise ChildFailed(f"the analysis process ended without a result ({status})")
        kind, value = pickle.loads(b"".join(chunks))
        if kind == "error":
            raise value
        return value  # type: ignore[no-any-return]

    def kill(self) -> None:
        """End the child now (if it is still running) and reap it."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> str:
        if not self._pid:
            return "reaped"
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        os.close(self._r)
        if os.WIFSIGNALED(status):
            return f"signal {os.WTERMSIG(status)}"
        return f"status {os.waitstatus_to_exitcode(status)}"
