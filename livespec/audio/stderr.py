"""Silencing what C libraries print on file descriptor 2: for a moment (fd 2), or while a
PortAudio stream is open (C stdio's ``stderr``)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send what C libraries write to file descriptor 2 to /dev/null meanwhile.

    PortAudio's ALSA host API prints ``Expression '...' failed`` lines when it rejects
    settings, and libmpg123 warns about a corrupt MP3 there; the same failures reach
    livespec as exceptions, which it reports in one clear line. Everything written to fd 2
    meanwhile is lost, so use it only briefly and before a terminal UI owns stderr.
    Caller's thread; not for use while another thread needs stderr.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        os.close(saved)
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# What the sound stack prints on C stdio's stderr while livespec reports the same failure
# in its own line: PortAudio's ALSA host API when a call fails (PA_ENSURE; three lines from
# its callback thread when the device or the sound server dies under a running stream,
# more at each failed reopen), and alsa-lib's error handler (``ALSA lib pulse.c:242:
# (pulse_connect) PulseAudio: Unable to connect: Connection refused``).
_PA_NOISE = re.compile(rb"^(Expression '.*' failed in '.*', line: \d+|ALSA lib .*)$")


class NativeStdio:
    """While held, C code's stdio ``stderr`` goes to a temporary file instead of fd 2.

    PortAudio prints what it cannot do with ``fprintf(stderr, ...)`` on its own threads,
    at moments livespec does not choose (three ``Expression '...' failed`` lines when a
    device dies under a running stream, before the stream's end is known), so fd 2 cannot
    be redirected around a call. glibc's ``stderr`` is a variable that may be assigned
    (the glibc manual, "Standard Streams"): pointing it at a temporary file leaves fd 2
    and Python's ``sys.stderr`` alone, so livespec's own lines and Python tracebacks are
    never hidden; only C stdio output is held back. When the last holder releases it
    (the stream closed, its threads joined), the variable is restored and what was
    written is copied to fd 2, but for PortAudio's ``Expression`` and alsa-lib's ``ALSA
    lib`` lines (:data:`_PA_NOISE`).

    One per process (the variable is the process's); a no-op where the C library has no
    assignable ``stderr`` (not Linux). Counted: holders on any thread, never the real-time
    callback. A C library's fatal error while held (Python's own ``Fatal Python error``
    uses the C ``stderr``) would stay in the file: the cost, as long as a stream is open.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._var: ctypes.c_void_p | None = None
        self._saved: int | None = None
        self._file: int | None = None  # our FILE*, never closed (a thread may hold it)
        self._libc: ctypes.CDLL | None = None

    def _setup(self) -> bool:
        if self._file is not None:
            return True
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(None)
            var = ctypes.c_void_p.in_dll(libc, "stderr")
            libc.tmpfile.restype = ctypes.c_void_p
            libc.fflush.argtypes = [ctypes.c_void_p]
            libc.fileno.argtypes = [ctypes.c_void_p]
            libc.rewind.argtypes = [ctypes.c_void_p]
            file = libc.tmpfile()
        except (OSError, AttributeError, ValueError):
            return False
        if not file:
            return False
        self._libc, self._var, self._file = libc, var, file
        return True

    def hold(self) -> None:
        """Send C stdio's ``stderr`` to the temporary file (counted). Caller's thread."""
        with self._lock:
            if self._count == 0:
                if not self._setup():
                    return
                assert self._var is not None and self._libc is not None
                self._libc.fflush(self._var.value)
                self._saved, self._var.value = self._var.value, self._file
            self._count += 1

    def release(self) -> None:
        """Undo one :meth:`hold`; the last one restores ``stderr`` and copies what came to
        fd 2, the sound stack's lines left out. Caller's thread."""
        with self._lock:
            if self._count == 0:
                return
            self._count -= 1
            if self._count:
                return
            libc, var, file = self._libc, self._var, self._file
            assert libc is not None and var is not None and file is not None
            var.value = self._saved
            libc.fflush(file)
            fd = libc.fileno(file)
            size = os.fstat(fd).st_size
            data = os.pread(fd, size, 0) if size else b""
            libc.rewind(file)
            os.ftruncate(fd, 0)
        kept = [
            line for line in data.splitlines(keepends=True) if not _PA_NOISE.match(line.rstrip())
        ]
        if kept:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
                os.write(2, b"".join(kept))


NATIVE_STDIO = NativeStdio()
