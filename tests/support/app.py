"""Helpers for the app tests: a deterministic app fed with frames from a real engine.

The source is a test signal read synchronously (no threads, no real time); frames go
through the real :class:`~livespec.engine.Engine` into the app's inbox and the test calls
``app.tick()`` itself (the app is built with ``live=False``), so screens are reproducible.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from typing import Any

from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import SignalSource
from livespec.config import Config
from livespec.engine import Engine
from livespec.tui.app import LivespecApp, make_app
from livespec.tui.feed import AppFeed, FrameInbox
from livespec.tui.options import AppOptions

TONE = "tone:1000@-6+noise@-90"


class StepClock:
    """A clock that advances 1/30 s each time it is read (deterministic fps readout)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0 / 30.0
        return self.t


@dataclasses.dataclass
class Rig:
    """An app and the synchronous audio chain feeding it."""

    app: LivespecApp
    source: SignalSource
    engine: Engine

    def feed(self, blocks: int = 10, tick: bool = True) -> None:
        """Produce ``blocks`` blocks of audio, analyse them, and (optionally) tick once."""
        for _ in range(blocks):
            self.source.pump(self.source.block_frames)
            self.engine.process_available()
        if tick:
            self.app.tick()
            self.app.measuring.poll()  # the measurement view's timer (synchronous here)


# One folder for the r key's recordings in this test process, removed when it exits.
_RECORDINGS = tempfile.TemporaryDirectory(prefix="livespec-test-rec-")


def make_rig(
    signal: str = TONE,
    colors: str = "truecolor",
    cfg: Config | None = None,
    *,
    options: AppOptions | None = None,
    with_ring: bool = True,
    live: bool = False,
    **display: Any,
) -> Rig:
    """A rig for ``signal`` at 48 kHz with display overrides (e.g. ``orientation=...``),
    on ``cfg`` (default: the built-in defaults), with the app's command-line ``options``;
    ``with_ring=False`` gives the app no ring (as in 'livespec view', where the audio stays
    at the sender); ``live=True`` runs the screen tick (and the measurement worker) for
    real."""
    cfg = Config() if cfg is None else cfg
    record_dir = display.pop("record_dir", _RECORDINGS.name)
    cfg = dataclasses.replace(
        cfg,
        # numpy's FFT is bit-for-bit repeatable; FFTW's measured plans may differ in the
        # last bits from run to run, which can move a colour level in a snapshot.
        analysis=dataclasses.replace(cfg.analysis, backend="numpy"),
        display=dataclasses.replace(
            cfg.display,
            colors=colors,
            record_dir=record_dir,
            **display,
        ),
    )
    source = SignalSource(signal, samplerate=48000, realtime=False)
    source.open()
    ring = RingBuffer(1 << 18, 1)
    inbox = FrameInbox()
    engine = Engine(source, ring, cfg.analysis, inbox.push, first_frame_start=0)
    feed = AppFeed(source, ring=ring if with_ring else None, engine=engine)
    app = make_app(cfg, feed, inbox=inbox, options=options, live=live, clock=StepClock())
    source.attach(ring)
    return Rig(app, source, engine)


Check = Callable[[LivespecApp], Any]


def sync(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run an ``async def`` test with ``asyncio.run`` (no pytest-asyncio needed)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


async def overview_done(app: Any, tries: int = 400) -> None:
    """Tick a file browser until its overview is computed (every 20 ms, at most ``tries``
    times), as its timer would (test's event loop)."""
    import asyncio

    for _ in range(tries):
        app.tick()
        if app.data.overview.finished:
            return
        await asyncio.sleep(0.02)
