"""``livespec play FILE`` (and ``livespec FILE``): browse a recording in the terminal and
hear it. The screen is :mod:`livespec.tui.browser` (imported when it runs); ``--no-ui`` plays
headless instead (:mod:`livespec.cli.play_headless`). See docs/app.md and docs/play.md.
"""

from __future__ import annotations

import argparse

from livespec.cli.play_headless import add_headless_arguments, parse_latency, play_headless
from livespec.config import Config


def add_play_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``livespec play`` (analysis and display options come from cli)."""
    p.add_argument("file", metavar="FILE", help="an audio file (anything libsndfile reads)")
    g = p.add_argument_group("play")
    g.add_argument(
        "--output-device",
        metavar="DEV",
        help="output device by index or name substring (default: the default output)",
    )
    g.add_argument("--no-audio", action="store_true", help="browse silently (the default over SSH)")
    g.add_argument("--start", metavar="S", type=float, help="start at S seconds")
    g.add_argument(
        "--channel", metavar="N", help="show only channel N (1-based; default: the mono mix)"
    )
    add_headless_arguments(g)
    a = p.add_argument_group("annotations (docs/app.md)")
    a.add_argument(
        "--overlay",
        metavar="FILE.csv",
        action="append",
        help="a curve to draw: time_s,value (Hz) or time_s,value,unit (Hz or dB); repeatable",
    )
    a.add_argument(
        "--labels", metavar="FILE.txt", help="an Audacity label track, shown under the time axis"
    )
    a.add_argument(
        "--labels-out",
        metavar="FILE.txt",
        help="where L saves the markers (default: NAME.labels.txt next to the file, never "
        "replacing one)",
    )


def run_play(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec play FILE``: the file browser, or with ``--no-ui`` headless playback (main
    thread). Returns the exit status."""
    if ns.no_ui:
        return play_headless(ns)
    ns.output_latency = parse_latency(ns.output_latency)
    from livespec.tui.browser import run_browser

    return int(run_browser(ns, cfg))
