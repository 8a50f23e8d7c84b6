"""``livespec play FILE``: browse a recording in the terminal and hear it.

The screen is :mod:`livespec.tui.browser` (imported when it runs); ``--no-ui`` plays
headless instead (:mod:`livespec.cli.play_headless`). See docs/play.md.
"""

from __future__ import annotations

import argparse
import importlib

from livespec.cli.play_headless import add_headless_arguments, play_headless
from livespec.config import Config
from livespec.errors import UsageError


def add_play_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``livespec play``."""
    p.add_argument("file", metavar="FILE", help="an audio file (anything libsndfile reads)")
    g = p.add_argument_group("play")
    g.add_argument(
        "--output-device",
        metavar="DEV",
        help="output device by index or name substring (see 'livespec devices --output')",
    )
    g.add_argument(
        "--no-audio", action="store_true", help="no sound: the playhead follows the clock"
    )
    g.add_argument("--start", metavar="S", type=float, help="start at S seconds")
    add_headless_arguments(g)


def run_play(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec play FILE``: the file browser, or with ``--no-ui`` headless playback."""
    if ns.no_ui:
        return play_headless(ns)
    try:
        browser = importlib.import_module("livespec.tui.browser")
    except ModuleNotFoundError as exc:
        if exc.name not in ("livespec.tui.browser", "livespec.tui"):
            raise
        raise UsageError(
            "the file browser is not available yet (use --no-ui to play headless)"
        ) from None
    return int(browser.run_browser(ns, cfg))
