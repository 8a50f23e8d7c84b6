"""The engine's live CQT, switched on, off and to new settings without holding up frames.

Building a :class:`~livespec.dsp.cqt_live.LiveCqt` takes about 0.16 s at 48 kHz (216
kernels, transforms up to 65536 points). Built on the engine's worker, it held every frame
back meanwhile: the waterfall paused for 0.18 s (median) at the switch to the cqt scale,
then caught up. :class:`CqtSwitch` builds it on a short-lived thread of its own
(``livespec-cqt``) instead. The worker keeps delivering frames, without a CQT row (or, when
only the hop or the FFT backend changed and not the bins, with the previous transform's
rows), and swaps the new transform in at the start of one of its passes, between two runs
of frames. FFTW plans the transforms under :data:`livespec.dsp.fftw.PLANNING`
(:class:`~livespec.dsp.fftw.RealFFT`), as everywhere else.

The newest request wins: a build under way for other settings is told to stop (it stops
between two groups of octaves) and its result, if any, is dropped; the next build starts
once it has ended, so there is at most one build thread. :meth:`CqtSwitch.close` (the
engine's ``stop``) cancels the build and joins its thread.

Threads: :meth:`CqtSwitch.want` from any thread (one assignment, no lock);
:meth:`CqtSwitch.update`, :attr:`CqtSwitch.current` and :meth:`CqtSwitch.close` from the
engine's thread (its worker; a headless caller of ``process_available`` builds
synchronously, ``background=False``, so its frames are reproducible); the build thread only
builds and leaves its result for the engine's thread to take.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from livespec.dsp.cqt import CqtLayout
from livespec.dsp.cqt_live import CqtCancelled, LiveCqt

# What a LiveCqt is built for: (layout, sample rate Hz, hop samples, FFT backend, max FFT).
CqtKey = tuple[CqtLayout, float, int, str, int]
Builder = Callable[[CqtKey, Callable[[], bool]], LiveCqt]


def build_live_cqt(key: CqtKey, cancelled: Callable[[], bool]) -> LiveCqt:
    """The :class:`LiveCqt` for ``key``; raises :class:`CqtCancelled` once ``cancelled()``
    is True (checked between groups of octaves). Any thread."""
    layout, samplerate, hop, backend, max_fft = key
    return LiveCqt(layout, samplerate, hop, backend=backend, max_fft=max_fft, cancelled=cancelled)


class _Build:
    """One build on its own thread: the result or the error, taken once the thread ended."""

    def __init__(self, key: CqtKey, build: Builder) -> None:
        self.key = key
        self.cancel = threading.Event()
        self.result: LiveCqt | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(build,), name="livespec-cqt")

    def _run(self, build: Builder) -> None:
        """Build thread: build, keep the result or the error (never lost: the engine's
        thread raises it when it takes the build)."""
        try:
            self.result = build(self.key, self.cancel.is_set)
        except CqtCancelled:
            pass
        except BaseException as exc:  # raised on the engine's thread by CqtSwitch.update
            self.error = exc


def _never() -> bool:
    return False


class CqtSwitch:
    """Which live CQT the engine computes, and its build off the engine's thread.

    Args:
        build: makes a transform for a key (default :func:`build_live_cqt`; tests slow it).

    Attributes:
        current: the transform in use (None: no CQT rows now).
        builds: builds started so far (synchronous ones too).
    """

    def __init__(self, build: Builder | None = None) -> None:
        self.build = build_live_cqt if build is None else build
        self._wanted: tuple[CqtLayout | None] = (None,)
        self.current: LiveCqt | None = None
        self._key: CqtKey | None = None  # what ``current`` was built for
        self._build: _Build | None = None
        self.builds = 0

    def want(self, layout: CqtLayout | None) -> None:
        """Compute CQT rows for ``layout`` from the next pass on, or none (any thread)."""
        self._wanted = (layout,)

    @property
    def building(self) -> bool:
        """True while a build thread is under way or its result not yet taken."""
        return self._build is not None

    def update(
        self, samplerate: float, hop: int, backend: str, max_fft: int, *, background: bool
    ) -> None:
        """Bring :attr:`current` towards the wanted layout for these settings (engine
        thread, between runs of frames): drop rows of other bins at once, take a finished
        build, start one (on its own thread with ``background``, else here). A build's
        error (e.g. a kernel longer than ``max_fft``) is raised here."""
        layout = self._wanted[0]
        key: CqtKey | None = (
            None if layout is None else (layout, float(samplerate), int(hop), backend, max_fft)
        )
        if key != self._key and (key is None or self._key is None or self._key[0] != layout):
            self.current, self._key = None, None  # rows of other bins (or none) from now on
        build = self._build
        if build is not None:
            if build.thread.is_alive():
                if build.key != key:
                    build.cancel.set()  # stale: it stops soon; the next build waits for it
                return
            self._build = None
            build.thread.join()
            if build.key == key:
                if build.error is not None:
                    raise build.error
                if build.result is not None:
                    self.current, self._key = build.result, key
        if key is None or key == self._key:
            return
        self.builds += 1
        if not background:
            self.current, self._key = self.build(key, _never), key
            return
        self._build = _Build(key, self.build)
        self._build.thread.start()

    def close(self) -> None:
        """Cancel a build under way and join its thread (engine thread, or after the
        worker ended). Idempotent; :attr:`current` stays."""
        build, self._build = self._build, None
        if build is not None:
            build.cancel.set()
            build.thread.join(timeout=5.0)
