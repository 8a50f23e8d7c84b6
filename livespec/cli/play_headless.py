"""``livespec play FILE --no-ui``: play a file on the sound card without the browser.

It plays from ``--start`` to the end of the file (or for ``--duration`` seconds) and
prints one line at the end: what was played on which device and the underflows counted
(docs/play.md). Main thread.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from livespec.audio.stderr import quiet_native_stderr
from livespec.errors import EXIT_FAILURE, EXIT_OK, LivespecError, UsageError, printable

if TYPE_CHECKING:
    from livespec.audio.playback import Playback

_POLL_S = 0.01  # how often the headless player looks at the position


def add_headless_arguments(g: argparse._ActionsContainer) -> None:
    """``--no-ui``, ``--duration`` and ``--output-latency`` of ``livespec play``."""
    g.add_argument("--no-ui", action="store_true", help="play without the file browser, then exit")
    g.add_argument("--duration", metavar="S", type=float, help="with --no-ui: stop after S seconds")
    g.add_argument(
        "--output-latency",
        metavar="S",
        default="0.2",
        help="output latency in seconds, or low/high (0.2; the playhead is compensated)",
    )


def _check(ns: argparse.Namespace) -> None:
    if ns.start is None:
        ns.start = 0.0
    if not (math.isfinite(ns.start) and ns.start >= 0):
        raise UsageError(f"--start {ns.start:g}: must be 0 or more seconds")
    if ns.duration is not None and not (math.isfinite(ns.duration) and ns.duration > 0):
        raise UsageError(f"--duration {ns.duration:g}: must be more than 0 seconds")
    ns.output_latency = parse_latency(ns.output_latency)


def parse_latency(text: str | float) -> float | str:
    """``--output-latency``: seconds (0 < s <= 5), or PortAudio's 'low' or 'high'."""
    if text in ("low", "high"):
        return str(text)
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--output-latency {text}: give seconds, 'low' or 'high'") from None
    if not (math.isfinite(value) and 0 < value <= 5):
        raise UsageError(f"--output-latency {text}: must be more than 0 and at most 5 seconds")
    return value


def play_headless(ns: argparse.Namespace) -> int:
    """Play ``ns.file`` from ``ns.start`` to its end (or for ``ns.duration`` s) and print
    one status line on stderr. Main thread."""
    from livespec.audio.output import open_playback

    _check(ns)
    # ALSA prints "underrun occurred" on fd 2; the underflows are counted and reported.
    with quiet_native_stderr():
        player = open_playback(
            Path(ns.file), ns.output_device, audio=not ns.no_audio, latency=ns.output_latency
        )
        status = _play(ns, player)
    sys.stderr.write(f"livespec: {status}\n")
    return EXIT_OK


def _play(ns: argparse.Namespace, player: Playback) -> str:
    """Play as :func:`play_headless` says; returns the status line (main thread)."""
    from livespec.audio.output import DevicePlayback

    try:
        if ns.start >= player.duration:
            raise UsageError(f"--start {ns.start:g}: the file is only {player.duration:.3f} s long")
        end = (
            player.duration if ns.duration is None else min(player.duration, ns.start + ns.duration)
        )
        if isinstance(player, DevicePlayback) and end < player.duration:
            # the feeder ends the sound at --duration (sample-exact): pausing when the
            # position gets there would let one output latency more be heard
            player.frames = round(end * player.samplerate)
        player.seek(ns.start)
        player.play()
        while player.playing() and player.position() < end:
            time.sleep(_POLL_S)
        heard = player.position()
        player.pause()
        if isinstance(player, DevicePlayback):
            if player.error is not None:  # a damaged file: what was heard stays heard
                raise LivespecError(player.error, EXIT_FAILURE)
            time.sleep(min(player.latency, 1.0) + 0.05)  # let the last frames be heard
            where = f"on {player.description}"
            counts = (
                f"{player.underflows} underflows, {player.device_underflows} reported by the device"
            )
        else:
            where, counts = "without sound (--no-audio)", "0 underflows"
    finally:
        player.close()
    return f"played {ns.start:.3f}-{heard:.3f} s of {printable(ns.file)} {where}: {counts}"
