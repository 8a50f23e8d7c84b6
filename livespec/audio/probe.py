"""PortAudio's input-device probe in a child process, for ``livespec``'s start-up (Linux).

Plain ``livespec`` opens the default input device, or shows the demo signal when PortAudio
lists none. Asking PortAudio (``import sounddevice``: the library, ``Pa_Initialize``, which
opens every ALSA, PulseAudio, JACK and OSS device it can find) takes 30-60 ms, and the
Python part of it competes for the GIL with the app's import of Textual on a thread. So
:func:`start_probe` forks a child at launch, before any thread exists, that asks PortAudio
the same question in the same environment (user, variables, configuration files, sound
servers) and writes one byte back. When PortAudio lists no input device there, the app
falls back to the demo without loading PortAudio itself; in every other case (devices
found, an error, no answer) the device is opened as before, by the app's own process,
after the child has ended. Nothing is guessed: PortAudio is always asked.

Caller's (main) thread.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys

NONE = b"0"  # PortAudio lists no input device
SOME = b"1"  # it lists at least one
ANSWER_TIMEOUT_S = 5.0  # a probe that hangs longer is ignored (the app asks again itself)


class InputProbe:
    """A child process asking PortAudio whether any input device exists.

    Attributes:
        pid: the child's process id.
    """

    def __init__(self, pid: int, answer_fd: int) -> None:
        self.pid = pid
        self._fd: int | None = answer_fd
        self._answer: bytes | None = None

    def found_none(self) -> bool:
        """True if PortAudio, asked in the child, listed no input device; False if it
        listed some, failed, or did not answer within :data:`ANSWER_TIMEOUT_S`. Waits for
        the answer and for the child's end (so a device is never opened by two processes
        at once). Main thread."""
        if self._answer is None:
            answer = b""
            fd = self._fd
            if fd is not None:
                with contextlib.suppress(OSError):
                    if select.select([fd], [], [], ANSWER_TIMEOUT_S)[0]:
                        answer = os.read(fd, 1)
            self._answer = answer
            self.close()
        return self._answer == NONE

    def close(self) -> None:
        """End the child (if it still runs) and reap it. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        os.close(fd)
        with contextlib.suppress(OSError):
            if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)


def _child(answer_fd: int) -> None:
    """The child's work: ask PortAudio, write one byte (:data:`NONE`, :data:`SOME`, or
    nothing on an error). Its standard streams go to /dev/null (PortAudio's ALSA and JACK
    backends print there)."""
    from livespec.audio.devices import list_input_devices

    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    with contextlib.suppress(BaseException):
        os.write(answer_fd, SOME if list_input_devices() else NONE)


def start_probe() -> InputProbe | None:
    """Fork the probe's child and return it (main thread, while the process has no other
    thread: call it first). None where it does not apply: not on Linux (a fork without
    ``exec`` is unsafe with macOS's audio frameworks; Windows has none), or when the fork
    fails."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns
        try:
            os.close(read_fd)
            _child(write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    return InputProbe(pid, read_fd)
