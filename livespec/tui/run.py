"""``livespec``: the pipeline and the app, from start-up to the last line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import threading
from typing import TYPE_CHECKING

from livespec.audio.sources import SignalSource
from livespec.config import Config, check_record_dir
from livespec.dsp.stft import MAX_N
from livespec.engine import analysis_stopped_text
from livespec.errors import EXIT_FAILURE, SourceError, printable
from livespec.pipeline import Pipeline
from livespec.tui.feed import AppFeed, FrameInbox, source_failure
from livespec.tui.options import AppOptions
from livespec.tui.process import (
    exit_on_stop_signals,
    keys_from_tty,
    keys_from_tty_if_redirected,
    take_stdin_for_audio,
)

# Frames an endless test signal writes at once when the app starts (the default FFT's
# first frame, 85 ms at 48 kHz); files, stdin and the sound card keep real time.
PREROLL_FRAMES = 4096

if TYPE_CHECKING:
    from livespec.tui.app import LivespecApp


def preload_app() -> threading.Thread:
    """Import the app (Textual, the widgets) on a thread and return it (main thread).

    Meanwhile the main thread opens the input and plans the FFT, which wait in C with the
    GIL released (PortAudio's device probe, FFTW's planner), so part of the largest import
    runs beside them. The main thread's own ``import`` of the app waits for this one (the
    import lock); an error is left for that import to raise.
    """

    def load() -> None:
        with contextlib.suppress(Exception):  # the main thread's import raises it again
            importlib.import_module("livespec.tui.app")

    thread = threading.Thread(target=load, name="livespec-preload")
    thread.start()
    return thread


def run_app(cfg: Config, ns: argparse.Namespace | None = None) -> int:
    """``livespec``: open the source, run the engine and the app until the user quits.

    Everything started here is stopped on every exit path (:class:`Pipeline`). Without an
    input device (and without --input or --device) the app shows the demo signal and says
    why. If the engine dies, the app shows ``analysis stopped: ...`` on its status line and
    as an error notification, and the same line is printed after the app ends (exit
    status 1). Main thread. Returns the exit status (0 after ``q``).
    """
    preload_app()  # joined by the import below (or at exit, on an early error)
    stdin_pcm = cfg.source.input == "-"
    pcm_stdin = None
    if stdin_pcm:
        if sys.stdin is None or sys.stdin.isatty():
            raise SourceError(
                "--input - reads audio from stdin: pipe audio in, e.g. "
                "arecord -f S16_LE -r 48000 -c 1 -t raw | livespec --input -"
            )
        pcm_stdin = take_stdin_for_audio()
    options = AppOptions() if ns is None else AppOptions.from_args(ns)
    if cfg.display.record_dir is not None:
        check_record_dir(cfg.display.record_dir)
    if not stdin_pcm:  # `livespec < /dev/null`: the keys come from the terminal
        keys_from_tty_if_redirected("the live app", "use 'livespec peaks' for headless work")
    app: LivespecApp | None = None
    with Pipeline(cfg, realtime=True, demo_fallback=True) as pipe:
        source = pipe.source
        notice = None
        if pipe.fallback is not None:
            notice = f"{pipe.fallback}. Showing the built-in demo signal instead."
        try:
            if stdin_pcm:
                keys_from_tty()
                sys.stdin = sys.__stdin__
                source.realtime = True  # pace a fast pipe (cat file |) at its sample rate
            if isinstance(source, SignalSource) and source.realtime and not source.finite:
                # A test signal has no moment it really starts: its first frame's samples
                # now, not 85 ms from now (start-up); then paced, that far ahead.
                source.catch_up_frames = PREROLL_FRAMES
            ring = pipe.make_ring(frame=MAX_N)  # the largest FFT a key can choose
            inbox = FrameInbox()
            shown: list[LivespecApp] = []

            def on_error(exc: BaseException) -> None:  # engine thread; notify is thread-safe
                for a in shown:
                    a.notify(analysis_stopped_text(exc), title="livespec", severity="error")

            engine = pipe.make_engine(inbox.push, on_error=on_error)
            # Audio and analysis start first: the first frame's samples (n / fs, 85 ms at
            # n = 4096) arrive while Textual, the largest import, loads (start-up).
            pipe.start()
            from livespec.tui.app import make_app

            feed = AppFeed(source, ring=ring, engine=engine, notice=notice)
            app = make_app(pipe.cfg, feed, inbox=inbox, options=options)
            shown.append(app)
            if options.record:
                # From launch: an existing file without --force ends here, before the screen.
                app.recording.start(options.record, preroll_s=0.0, force=options.force)
            with exit_on_stop_signals(app):
                status = app.run()
        finally:
            if app is not None:
                app.recording.finish()
    del pcm_stdin  # the pipe may close now
    pipe.say_notes()  # the terminal is the shell's again
    assert app is not None
    if engine.error_message is not None:
        sys.stderr.write(f"livespec: {printable(engine.error_message)}\n")
        return EXIT_FAILURE
    if (failed := source_failure(source)) is not None:  # a device: still gone at the end
        sys.stderr.write(f"livespec: {printable(failed[0])}\n")
        return int(app.return_code) if app.return_code not in (None, 0) else failed[1]
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(status or 0)
