"""Drive :class:`livespec.audio.output.DevicePlayback` from a script and log its clock.

Run in a subprocess with the virtual device's environment (PortAudio reads it when it
opens the device)::

    python tests/support/playback_probe.py FILE --seek-after 3 --seek-to 10 --run 6

Prints JSON lines on stdout: ``{"t": T, "pos": P}`` every few ms while playing (``T`` is
``time.monotonic()`` around the call, the same clock in every process on Linux, ``P`` is
``position()``; a call that took over 2 ms, preempted, is left out),
``{"seek": T}`` just before ``seek()`` is called, and a last line with the counters.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    """Play, seek once, log the position; see the module doc."""
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--seek-after", type=float, required=True, help="s after play()")
    p.add_argument("--seek-to", type=float, required=True)
    p.add_argument("--run", type=float, required=True, help="s of playing in all")
    p.add_argument("--every", type=float, default=0.005, help="s between positions")
    p.add_argument("--latency", type=float, default=0.2, help="output latency, s")
    ns = p.parse_args()
    from livespec.audio.output import DevicePlayback

    player = DevicePlayback(ns.file, latency=ns.latency)
    out = []
    try:
        time.sleep(0.3)  # the ring fills and the stream runs, silent
        player.play()
        t0 = time.monotonic()
        sought = False
        while (now := time.monotonic()) - t0 < ns.run:
            if not sought and now - t0 >= ns.seek_after:
                out.append(json.dumps({"seek": time.monotonic()}))
                player.seek(ns.seek_to)
                sought = True
            before = time.monotonic()
            pos = player.position()
            after = time.monotonic()
            if after - before < 0.002:  # not preempted between the clock and position()
                out.append(json.dumps({"t": (before + after) / 2, "pos": pos}))
            time.sleep(ns.every)
        player.pause()
        time.sleep(player.latency + 0.1)
        counts = {
            "underflows": player.underflows,
            "device_underflows": player.device_underflows,
            "latency": player.latency,
        }
    finally:
        player.close()
    sys.stdout.write("\n".join([*out, json.dumps(counts)]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
